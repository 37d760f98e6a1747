//! Sinks + sliding window and AHN memory on the default model (Qwen2.5-Coder-0.5B), through
//! the patched llama.cpp: equivalences that must hold whatever the weights.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use seahorse_engine::{
    write_block, AhnBlockInfo, AhnType, CacheType, CancelToken, Logits, MemoryOptions, Model, ModelOptions,
    SessionOptions,
};

fn base_model() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let spec = seahorse_models::DEFAULT_MODEL;
        let dir = seahorse_models::cache_dir_in(|k| std::env::var_os(k));
        seahorse_models::locate(spec, &dir)
            .unwrap_or_else(|| seahorse_models::fetch(spec, &dir, |_| {}).expect("fetch the default model"))
    })
    .clone()
}

/// A deterministic pseudo-random stream (xorshift), so the blocks are reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }
}

/// A GDN block for the default model with random weights; `out_scale` scales the output
/// projection (0 gives a block whose read-out is exactly zero).
fn gdn_block(dir: &Path, out_scale: f32) -> PathBuf {
    let path = dir.join(format!("gdn-{out_scale}.gguf"));
    let info = AhnBlockInfo::for_base(&base_model(), AhnType::Gdn, &path).unwrap();
    let mut rng = Rng(0x5eed);
    write_block(&path, &info, |name, ne| {
        let n = ne.iter().product::<i64>() as usize;
        let scale = if name.contains("ahn_out") {
            out_scale
        } else if name.contains("ahn_norm") {
            return vec![1.0; n];
        } else if name.contains("ahn_a_log") || name.contains("ahn_dt_bias") {
            0.5
        } else {
            0.05
        };
        (0..n).map(|_| rng.next() * scale).collect()
    })
    .unwrap();
    path
}

fn tokens(model: &Model, n: usize) -> Vec<i32> {
    let text = "In the kelp forest the old seahorse kept a ledger of every current, every storm and every \
                visitor, and each evening it read the pages back to the young ones. ";
    let mut t = model.tokenize(&text.repeat(n / 20 + 2));
    t.truncate(n);
    t
}

fn logits(model: &Model, toks: &[i32], n_ubatch: u32) -> Vec<f32> {
    let opts = SessionOptions { n_ctx: 1024, n_batch: 512, n_ubatch, cache_type: CacheType::F32, ..Default::default() };
    let mut s = model.session(&opts).unwrap();
    s.evaluate(0, toks, Logits::All, &CancelToken::new(), |_| {}).unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn load(memory: Option<MemoryOptions>) -> Model {
    Model::load(base_model(), &ModelOptions { memory, ..Default::default() }).unwrap()
}

fn window(w: u32, s: u32, block: Option<PathBuf>, dir: &Path) -> Option<MemoryOptions> {
    Some(MemoryOptions { window: w, sinks: s, block, merged_dir: dir.to_owned() })
}

// Quantized weights: llama.cpp's CPU kernels quantize activations per call, so two graphs
// that are mathematically equal agree to about 1e-3 of the logit scale, not bit for bit.
const TOL: f32 = 2e-2;

#[test]
fn window_covering_the_sequence_equals_full_attention() {
    let dir = tempfile::tempdir().unwrap();
    let full = load(None);
    let toks = tokens(&full, 96);
    let reference = logits(&full, &toks, 512);
    let windowed = load(window(96, 0, None, dir.path()));
    let d = max_abs_diff(&reference, &logits(&windowed, &toks, 512));
    assert!(d < TOL, "max |Δ| = {d}");
    let with_sinks = load(window(90, 6, None, dir.path()));
    let d = max_abs_diff(&reference, &logits(&with_sinks, &toks, 512));
    assert!(d < TOL, "max |Δ| = {d}");
}

#[test]
fn short_window_changes_the_logits_beyond_the_window() {
    // The window must really cut: past W + S tokens the logits differ from full attention.
    let dir = tempfile::tempdir().unwrap();
    let full = load(None);
    let toks = tokens(&full, 96);
    let reference = logits(&full, &toks, 512);
    let windowed = load(window(16, 4, None, dir.path()));
    let got = logits(&windowed, &toks, 512);
    let n_vocab = reference.len() / toks.len();
    let early = max_abs_diff(&reference[..20 * n_vocab], &got[..20 * n_vocab]);
    let late = max_abs_diff(&reference[60 * n_vocab..], &got[60 * n_vocab..]);
    assert!(early < TOL, "inside the window: {early}");
    assert!(late > 0.5, "beyond the window the model must see less: {late}");
}

#[test]
fn zero_output_ahn_block_equals_sinks_and_window() {
    let dir = tempfile::tempdir().unwrap();
    let block = gdn_block(dir.path(), 0.0);
    let plain = load(window(16, 4, None, dir.path()));
    let toks = tokens(&plain, 80);
    let reference = logits(&plain, &toks, 512);
    let ahn = load(window(16, 4, Some(block), dir.path()));
    let d = max_abs_diff(&reference, &logits(&ahn, &toks, 512));
    assert!(d < TOL, "max |Δ| = {d}");
}

#[test]
fn ahn_memory_is_used_and_tracks_stock_across_ubatch_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let block = gdn_block(dir.path(), 0.02);
    let full = load(None);
    let plain = load(window(16, 4, None, dir.path()));
    let ahn = load(window(16, 4, Some(block), dir.path()));
    let toks = tokens(&ahn, 70);
    let reference = logits(&ahn, &toks, 512);
    // The memory is in use: beyond S + W the logits differ from the plain window.
    let n_vocab = reference.len() / toks.len();
    let plain_logits = logits(&plain, &toks, 512);
    let late = max_abs_diff(&reference[40 * n_vocab..], &plain_logits[40 * n_vocab..]);
    assert!(late > 1e-2, "the AHN read-out must change the logits: {late}");

    // Stock llama.cpp itself gives slightly different logits for different ubatch sizes on
    // this quantized model (other kernels, activations quantized per call: ~0.2-0.5 here).
    // The AHN path must stay within that noise: an eviction bug (wrong token, lost state)
    // shows up as far larger differences. Exactness is tested on F32 models.
    let full_ref = logits(&full, &toks, 512);
    for n_ubatch in [1, 7, 64] {
        let stock_noise = max_abs_diff(&full_ref, &logits(&full, &toks, n_ubatch));
        let d = max_abs_diff(&reference, &logits(&ahn, &toks, n_ubatch));
        assert!(d < 2.0 * stock_noise + 0.05, "n_ubatch {n_ubatch}: AHN max |Δ| = {d}, stock noise {stock_noise}");
    }
}

#[test]
fn ahn_state_save_restore_continues_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let block = gdn_block(dir.path(), 0.02);
    let ahn = load(window(16, 4, Some(block), dir.path()));
    let toks = tokens(&ahn, 70);
    let opts =
        SessionOptions { n_ctx: 1024, n_batch: 512, n_ubatch: 512, cache_type: CacheType::F32, ..Default::default() };
    let cancel = CancelToken::new();

    // Uninterrupted: 33 tokens, then the rest, in one session.
    let mut straight = ahn.session(&opts).unwrap();
    straight.evaluate(0, &toks[..33], Logits::None, &cancel, |_| {}).unwrap();
    let expected = straight.evaluate(0, &toks[33..], Logits::All, &cancel, |_| {}).unwrap();

    // Interrupted: save after 33 tokens, restore into a fresh session, continue.
    let mut first = ahn.session(&opts).unwrap();
    first.evaluate(0, &toks[..33], Logits::None, &cancel, |_| {}).unwrap();
    let state = first.save(0).unwrap();
    drop(first);
    let mut second = ahn.session(&opts).unwrap();
    second.restore(0, &state).unwrap();
    assert_eq!(second.position(0), 33);
    let got = second.evaluate(0, &toks[33..], Logits::All, &cancel, |_| {}).unwrap();
    let d = max_abs_diff(&expected, &got);
    assert!(d <= 1e-4, "after restore: max |Δ| = {d}");
}

#[test]
fn answer_after_restore_equals_answer_without_interruption() {
    use seahorse_engine::GenerateOptions;
    let dir = tempfile::tempdir().unwrap();
    let block = gdn_block(dir.path(), 0.0);
    let model = load(window(32, 4, Some(block), dir.path()));
    let doc = tokens(&model, 90);
    let question = model.tokenize("\nQuestion: what did the seahorse keep? Answer:");
    let gen_opts = GenerateOptions { max_tokens: 8, stop_at_end_of_turn: false, ..Default::default() };
    let opts = SessionOptions { n_ctx: 1024, n_batch: 64, n_ubatch: 64, ..Default::default() };
    let cancel = CancelToken::new();

    let mut straight = model.session(&opts).unwrap();
    straight.evaluate(0, &doc, Logits::None, &cancel, |_| {}).unwrap();
    let expected = straight.generate(0, &question, &gen_opts, |_| {}).unwrap();
    assert_eq!(expected.generated_tokens, 8);

    let mut reader = model.session(&opts).unwrap();
    let mut progress = Vec::new();
    reader.evaluate(0, &doc, Logits::None, &cancel, |p| progress.push(p.done)).unwrap();
    assert_eq!(progress, vec![64, 90], "one progress event per batch");
    let state = reader.save(0).unwrap();
    drop(reader);
    let mut asker = model.session(&opts).unwrap();
    asker.restore(0, &state).unwrap();
    let mut streamed = String::new();
    let got = asker
        .generate(0, &question, &gen_opts, |e| {
            if let seahorse_engine::Event::Text(t) = e {
                streamed.push_str(t)
            }
        })
        .unwrap();
    assert_eq!(got.text, expected.text);
    assert_eq!(streamed, got.text);
}

#[test]
fn cancelled_stream_stops_between_batches_and_keeps_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let model = load(window(32, 4, None, dir.path()));
    let doc = tokens(&model, 90);
    let opts = SessionOptions { n_ctx: 1024, n_batch: 16, n_ubatch: 16, ..Default::default() };
    let cancel = CancelToken::new();
    let mut session = model.session(&opts).unwrap();
    let c = cancel.clone();
    session
        .evaluate(0, &doc, Logits::None, &cancel, |p| {
            if p.done >= 32 {
                c.cancel();
            }
        })
        .unwrap();
    assert_eq!(session.position(0), 32, "stops after the batch in which cancel fired");
    // The rest can be read later, continuing where it stopped.
    session.evaluate(0, &doc[32..], Logits::None, &CancelToken::new(), |_| {}).unwrap();
    assert_eq!(session.position(0), 90);
}

/// "As of page N" from an AHN state alone: the sinks, the AHN state saved at position `c`,
/// then the W tokens before `c` re-read at their true positions (patch 0006: the sequence
/// jumps from S − 1 to c − W). Their evictions fall in the jump, so they are null steps
/// and the AHN state comes out exactly as it was saved.
#[test]
fn window_rebuilt_around_a_saved_ahn_state_leaves_that_state_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let block = gdn_block(dir.path(), 0.02);
    let (w, s) = (16usize, 4usize);
    let ahn = load(window(w as u32, s as u32, Some(block), dir.path()));
    let toks = tokens(&ahn, 90);
    let c = 70;
    for n_ubatch in [512, 7] {
        let opts =
            SessionOptions { n_ctx: 1024, n_batch: 512, n_ubatch, cache_type: CacheType::F32, ..Default::default() };
        let cancel = CancelToken::new();
        let mut stream = ahn.session(&opts).unwrap();
        stream.evaluate(0, &toks[..c], Logits::None, &cancel, |_| {}).unwrap();
        let memory = stream.save_memory(0).unwrap();
        assert!(memory.len() < stream.save(0).unwrap().len(), "the AHN state alone is a part of the whole");
        let expected = stream.evaluate(0, &toks[c..], Logits::All, &cancel, |_| {}).unwrap();

        let mut rebuilt = ahn.session(&opts).unwrap();
        let mut progress = Vec::new();
        rebuilt
            .rebuild_window(0, &toks[..s], Some(&memory), c - w, &toks[c - w..c], &cancel, |p| {
                progress.push((p.done, p.total))
            })
            .unwrap();
        assert_eq!(rebuilt.position(0), c);
        assert_eq!(progress.last(), Some(&(s + w, s + w)), "ubatch {n_ubatch}");
        assert_eq!(rebuilt.save_memory(0).unwrap(), memory, "ubatch {n_ubatch}: the AHN state is unchanged");
        // Continuing: the window was re-read with a shorter lossless span, so the logits
        // are close to the stream's, not equal; the memory is used (without it they move).
        let got = rebuilt.evaluate(0, &toks[c..], Logits::All, &cancel, |_| {}).unwrap();
        assert!(got.iter().all(|x| x.is_finite()));
        let mut without = ahn.session(&opts).unwrap();
        without.rebuild_window(0, &toks[..s], None, c - w, &toks[c - w..c], &cancel, |_| {}).unwrap();
        let no_memory = without.evaluate(0, &toks[c..], Logits::All, &cancel, |_| {}).unwrap();
        assert!(max_abs_diff(&got, &no_memory) > 1e-3, "ubatch {n_ubatch}: the restored AHN state is read");
        assert!(max_abs_diff(&expected, &got) > 0.0);
    }
}

/// Without a jump, a rebuild is plain reading: the sinks, then the rest from position S,
/// exactly as two calls reading the same tokens (two calls, not one: llama.cpp's CPU
/// kernels round differently for different batch shapes, by up to ~0.35 of a logit here).
#[test]
fn window_rebuilt_without_a_jump_equals_reading() {
    let dir = tempfile::tempdir().unwrap();
    let model = load(window(24, 4, Some(gdn_block(dir.path(), 0.02)), dir.path()));
    let toks = tokens(&model, 60);
    let opts =
        SessionOptions { n_ctx: 1024, n_batch: 512, n_ubatch: 512, cache_type: CacheType::F32, ..Default::default() };
    let cancel = CancelToken::new();
    let mut read = model.session(&opts).unwrap();
    read.evaluate(0, &toks[..4], Logits::None, &cancel, |_| {}).unwrap();
    read.evaluate(0, &toks[4..50], Logits::None, &cancel, |_| {}).unwrap();
    let expected = read.evaluate(0, &toks[50..], Logits::All, &cancel, |_| {}).unwrap();
    let mut rebuilt = model.session(&opts).unwrap();
    rebuilt.rebuild_window(0, &toks[..4], None, 4, &toks[4..50], &cancel, |_| {}).unwrap();
    assert_eq!(rebuilt.save(0).unwrap(), read_state(&model, &opts, &toks[..50]));
    let got = rebuilt.evaluate(0, &toks[50..], Logits::All, &cancel, |_| {}).unwrap();
    let d = max_abs_diff(&expected, &got);
    assert!(d <= 1e-6, "max |Δ| = {d}");
}

/// The state after reading `toks` in two calls, the sinks (4) then the rest.
fn read_state(model: &Model, opts: &SessionOptions, toks: &[i32]) -> Vec<u8> {
    let cancel = CancelToken::new();
    let mut s = model.session(opts).unwrap();
    s.evaluate(0, &toks[..4], Logits::None, &cancel, |_| {}).unwrap();
    s.evaluate(0, &toks[4..], Logits::None, &cancel, |_| {}).unwrap();
    s.save(0).unwrap()
}

/// A rebuild needs a windowed model and an empty sequence, and the AHN state of the same
/// block; a model without a block has no AHN state to save.
#[test]
fn window_rebuild_refuses_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SessionOptions { n_ctx: 512, n_batch: 64, n_ubatch: 64, ..Default::default() };
    let cancel = CancelToken::new();
    let full = load(None);
    let toks = tokens(&full, 40);
    let mut session = full.session(&opts).unwrap();
    assert!(session.rebuild_window(0, &toks[..4], None, 20, &toks[20..], &cancel, |_| {}).is_err());

    let plain = load(window(16, 4, None, dir.path()));
    let mut session = plain.session(&opts).unwrap();
    assert!(session.save_memory(0).is_err(), "no AHN block, no AHN state");
    session.evaluate(0, &toks[..8], Logits::None, &cancel, |_| {}).unwrap();
    assert!(session.rebuild_window(0, &toks[..4], None, 20, &toks[20..], &cancel, |_| {}).is_err(), "not empty");
    let mut session = plain.session(&opts).unwrap();
    assert!(session.rebuild_window(0, &toks[..4], None, 2, &toks[2..], &cancel, |_| {}).is_err(), "inside the sinks");
    // Sinks + window only: the window may be re-read after a jump, with no AHN state.
    let mut session = plain.session(&opts).unwrap();
    session.rebuild_window(0, &toks[..4], None, 20, &toks[20..], &cancel, |_| {}).unwrap();
    assert_eq!(session.position(0), 40);

    // Another block's AHN state does not fit.
    let a = load(window(16, 4, Some(gdn_block(dir.path(), 0.02)), dir.path()));
    let mut session = a.session(&opts).unwrap();
    session.evaluate(0, &toks[..30], Logits::None, &cancel, |_| {}).unwrap();
    let memory = session.save_memory(0).unwrap();
    let mut session = a.session(&opts).unwrap();
    assert!(session
        .rebuild_window(0, &toks[..4], Some(&memory[..memory.len() / 2]), 14, &toks[14..30], &cancel, |_| {})
        .is_err());
}
