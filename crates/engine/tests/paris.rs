//! End to end on the default model (Qwen2.5-Coder-0.5B-Instruct Q4_K_M) through the patched
//! llama.cpp: chat template, prefill, greedy streaming generation, cancellation, errors.

use std::path::PathBuf;
use std::sync::OnceLock;

use seahorse_engine::{ChatMessage, EngineError, Event, GenerateOptions, Model, ModelOptions, Role, StopReason};

fn default_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let spec = seahorse_models::DEFAULT_MODEL;
        let dir = seahorse_models::cache_dir_in(|k| std::env::var_os(k));
        let path: PathBuf = match seahorse_models::locate(spec, &dir) {
            Some(p) => p,
            None => seahorse_models::fetch(spec, &dir, |_| {}).expect("fetch the default model"),
        };
        Model::load(path, &ModelOptions::default()).expect("load the default model")
    })
}

fn ask(question: &str, options: &GenerateOptions) -> (seahorse_engine::Generation, Vec<String>, usize) {
    let messages = [ChatMessage::new(Role::User, question)];
    let mut pieces = Vec::new();
    let mut prefill_events = 0;
    let generation = default_model()
        .chat(&messages, options, |e| match e {
            Event::Text(t) => pieces.push(t.to_owned()),
            Event::Prefill { .. } => prefill_events += 1,
        })
        .expect("generation");
    (generation, pieces, prefill_events)
}

#[test]
fn capital_of_france_is_paris() {
    let options = GenerateOptions { max_tokens: 16, ..Default::default() };
    let (generation, pieces, prefill_events) = ask("What is the capital of France? Answer in one word.", &options);
    assert!(generation.text.contains("Paris"), "answer: {:?}", generation.text);
    assert_eq!(generation.stop, StopReason::EndOfTurn, "{generation:?}");
    // Streaming: the pieces are the answer, in order, and prefill progress was reported.
    assert_eq!(pieces.concat(), generation.text);
    assert!(!pieces.is_empty() && prefill_events >= 1);
    assert!(generation.prompt_tokens > 10, "{generation:?}");
    // One log-probability per token; "Paris" is the model's sure answer.
    assert_eq!(generation.token_logprobs.len(), generation.generated_tokens);
    assert_eq!(generation.tokens.len(), generation.generated_tokens);
    // Re-tokenizing the reply gives its tokens back (a short, plain answer).
    assert_eq!(default_model().tokenize(&generation.text), generation.tokens);
    assert!(generation.token_logprobs.iter().all(|&l| l <= 0.0 && l.is_finite()), "{generation:?}");
    assert!(generation.token_logprobs[0] > 0.5f32.ln(), "{generation:?}");
}

#[test]
fn generation_is_deterministic_and_respects_max_tokens() {
    let options = GenerateOptions { max_tokens: 12, n_batch: 7, ..Default::default() };
    let q = "Write a long story about a seahorse.";
    let (a, _, prefill_a) = ask(q, &options);
    assert_eq!(a.stop, StopReason::MaxTokens);
    assert_eq!(a.generated_tokens, 12);
    // Another batch size gives the same greedy text.
    let (b, _, prefill_b) = ask(q, &GenerateOptions { n_batch: 512, ..options.clone() });
    assert_eq!(a.text, b.text);
    assert!(prefill_a > prefill_b, "n_batch 7 must take several prefill batches");
}

#[test]
fn a_reply_that_repeats_itself_is_stopped() {
    // Asked to say the same sentence many times, the model repeats it; with the stop on, it
    // is stopped once its last 8 tokens repeat an earlier run, long before max_tokens.
    let q = "Write the sentence 'The sea is calm today.' twenty times, one per line.";
    let options = GenerateOptions { max_tokens: 200, ..Default::default() };
    let (free, _, _) = ask(q, &options);
    assert!(free.generated_tokens > 40, "without the stop the model repeats on: {free:?}");
    let (stopped, pieces, _) = ask(q, &GenerateOptions { stop_repeating: Some(8), ..options });
    assert_eq!(stopped.stop, StopReason::Repeating, "{stopped:?}");
    assert!(stopped.generated_tokens < free.generated_tokens, "{stopped:?}");
    // The same greedy reply, cut short: a prefix of the unstopped one.
    assert!(free.text.starts_with(&stopped.text), "{stopped:?}");
    assert_eq!(pieces.concat(), stopped.text);
    assert_eq!(stopped.tokens.len(), stopped.generated_tokens);
}

#[test]
fn cancellation_stops_before_generating() {
    let options = GenerateOptions::default();
    options.cancel.cancel();
    let (generation, pieces, _) = ask("Count to one hundred.", &options);
    assert_eq!(generation.stop, StopReason::Cancelled);
    assert!(pieces.is_empty() && generation.text.is_empty());
}

#[test]
fn prompt_longer_than_context_is_a_clear_error() {
    let options = GenerateOptions { n_ctx: 64, ..Default::default() };
    let messages = [ChatMessage::new(Role::User, "word ".repeat(200))];
    let err = default_model().chat(&messages, &options, |_| {}).unwrap_err();
    assert!(matches!(err, EngineError::PromptTooLong { n_ctx: 64, .. }), "{err}");
}

#[test]
fn model_facts_are_read_from_the_gguf() {
    let info = default_model().info();
    assert_eq!(info.architecture, "qwen2");
    assert_eq!((info.n_layer, info.n_head, info.n_head_kv, info.n_embd), (24, 14, 2, 896));
}

#[test]
fn bad_model_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.gguf");
    let err = Model::load(&missing, &ModelOptions::default()).unwrap_err();
    assert!(matches!(err, EngineError::ModelFile { .. }), "{err}");
    assert!(err.to_string().contains("missing.gguf"), "{err}");

    let text = dir.path().join("notes.gguf");
    std::fs::write(&text, "this is not a model").unwrap();
    let err = Model::load(&text, &ModelOptions::default()).unwrap_err();
    assert!(err.to_string().contains("not a valid GGUF"), "{err}");

    // A truncated copy of the real model: valid header, tensors cut off.
    let real = default_model().info().path.clone();
    let truncated = dir.path().join("truncated.gguf");
    let mut head = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(std::fs::File::open(&real).unwrap(), 4 << 20), &mut head)
        .unwrap();
    std::fs::write(&truncated, &head).unwrap();
    let err = Model::load(&truncated, &ModelOptions::default()).unwrap_err();
    assert!(matches!(err, EngineError::ModelLoad { .. }), "{err}");
}

#[test]
fn a_session_is_full_at_its_own_context_size() {
    // The session is smaller than GenerateOptions::n_ctx (4096): generation must stop at the
    // session's 512 tokens, not run into llama.cpp's limit.
    let model = default_model();
    let options = seahorse_engine::SessionOptions { n_ctx: 512, n_batch: 512, n_ubatch: 512, ..Default::default() };
    let mut session = model.session(&options).expect("session");
    assert_eq!(session.context_size(), 512);
    let prompt: Vec<i32> = model.tokenize(&"The tide comes in and the tide goes out. ".repeat(40));
    assert!(prompt.len() > 300 && prompt.len() < 500, "{}", prompt.len());
    let generate = GenerateOptions { max_tokens: 1000, stop_at_end_of_turn: false, ..Default::default() };
    let generation = session.generate(0, &prompt, &generate, |_| {}).expect("generation");
    assert_eq!(generation.stop, StopReason::ContextFull);
    assert_eq!(session.position(0), 512);
    assert_eq!(generation.generated_tokens, 512 - prompt.len());
}
