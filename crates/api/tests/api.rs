//! The API end to end with the real engine, the default model, real SQLite and tantivy:
//! one handle shared between threads (reading while answering, cancelling), a model and an
//! AHN checkpoint a person brings, and per-question choices that change nothing stored.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use safetensors::tensor::{Dtype, TensorView};
use seahorse_api::crates::engine::{write_gguf, KvValue};
use seahorse_api::{
    AnswerEvent, BlockChoice, Choice, Error, JobState, MemoryState, Paths, Question, ReadingEvent, ReadingSettings,
    Reply, Scope, Seahorse,
};

const FACT: &str = "The seahorse hid the brass lantern key under the third coral arch.";
const QUESTION: &str = "Where did the seahorse hide the brass lantern key?";

/// A library and a model cache in `dir`, reading fast: W = 256, S = 4, no AHN block, small
/// chunks. The default model comes from the environment's model cache (fetched there once),
/// hard-linked with its verification stamp (copied and verified where links fail), so the
/// tests write nothing into the person's cache.
fn open(dir: &Path) -> Seahorse {
    let shared = Paths::from_env(|k| std::env::var_os(k)).unwrap();
    let spec = seahorse_api::crates::models::DEFAULT_MODEL;
    let model = match seahorse_api::crates::models::locate(spec, &shared.models) {
        Some(path) => path,
        None => seahorse_api::crates::models::fetch_with_pip(spec, &shared.models, &shared.pip, |_| {}).unwrap(),
    };
    let paths = Paths { library: dir.join("library"), models: dir.join("models"), pip: shared.pip };
    std::fs::create_dir_all(&paths.models).unwrap();
    let stamp = |p: &Path| p.with_file_name(format!("{}.verified", spec.file_name));
    let linked = std::fs::hard_link(&model, paths.models.join(spec.file_name))
        .and_then(|()| std::fs::hard_link(stamp(&model), stamp(&paths.models.join(spec.file_name))));
    if linked.is_err() {
        std::fs::copy(&model, paths.models.join(spec.file_name)).unwrap();
        seahorse_api::crates::models::verify(spec, &paths.models.join(spec.file_name)).unwrap();
    }
    let seahorse = Seahorse::open(paths).unwrap();
    seahorse
        .update_settings(|s| {
            // The model these tests are sized for, whatever this machine would choose.
            s.model = spec.id.to_owned();
            s.block = BlockChoice::None;
            s.reading = ReadingSettings {
                window: 256,
                sinks: 4,
                chunk_tokens: 64,
                checkpoint_tokens: 128,
                threads: Some(2),
                ..ReadingSettings::default()
            };
        })
        .unwrap();
    assert!(seahorse.models().iter().any(|m| m.active && m.path.is_some()));
    seahorse
}

/// A Markdown book with the fact in part 3 of 14 (far behind a 64-token window).
fn reef(dir: &Path) -> PathBuf {
    let mut text = String::new();
    for part in 0..14 {
        text.push_str(&format!("# Part {}\n\n", part + 1));
        for line in 0..4 {
            text.push_str(&format!("In part {} the tide turned over the reef for the {} time.\n", part + 1, line + 1));
        }
        if part == 2 {
            text.push_str(&format!("\n{FACT}\n"));
        }
        text.push('\n');
    }
    let path = dir.join("reef.md");
    std::fs::write(&path, text).unwrap();
    path
}

/// A long Markdown book (`parts` sections of ~120 tokens).
fn long_book(dir: &Path, parts: usize) -> PathBuf {
    let words = ["kelp", "current", "ledger", "storm", "visitor", "tide", "coral", "lantern", "harbour", "shell"];
    let mut text = String::new();
    for s in 0..parts {
        text.push_str(&format!("# Chapter {}\n\n", s + 1));
        for k in 0..5 {
            let w: Vec<&str> = (0..12).map(|i| words[(s * 3 + k * 7 + i * 5) % words.len()]).collect();
            text.push_str(&format!("In chapter {} the gull saw {} again.\n", s + 1, w.join(" ")));
        }
        text.push('\n');
    }
    let path = dir.join("gulls.md");
    std::fs::write(&path, text).unwrap();
    path
}

/// Reads the queue to its end and returns the run's summary.
fn read_all(seahorse: &Seahorse) -> seahorse_api::RunSummary {
    seahorse.start_reading(|_| {}).unwrap();
    seahorse.wait_reading().unwrap().unwrap()
}

fn ask(seahorse: &Seahorse, q: &Question) -> (seahorse_api::Answered, Vec<AnswerEvent>) {
    let mut events = Vec::new();
    let answered = seahorse.ask(q, |e| events.push(e)).unwrap();
    (answered, events)
}

#[test]
fn one_handle_reads_answers_and_cancels_from_several_threads() {
    let dir = tempfile::tempdir().unwrap();
    let seahorse = open(dir.path());
    seahorse.add(&[reef(dir.path())], None).unwrap();
    assert_eq!(read_all(&seahorse).done, 1);
    let reef_doc = seahorse.find_document("reef").unwrap().id;

    // A long book is read on the API's worker while another thread asks about the first.
    let jobs = seahorse.add(&[long_book(dir.path(), 150)], Some("birds")).unwrap();
    let (tx, rx) = mpsc::channel();
    seahorse.start_reading(move |e| tx.send(e).unwrap()).unwrap();
    let reading_started = loop {
        match rx.recv_timeout(Duration::from_secs(300)).unwrap() {
            ReadingEvent::Ingest(seahorse_api::IngestEvent::Reading(p)) if p.tokens_done > 0 => break p,
            ReadingEvent::Finished { .. } => panic!("the long book was read before the question"),
            _ => {}
        }
    };
    let asker = seahorse.clone();
    let answered = std::thread::spawn(move || {
        let answered = asker.ask(&Question::new(QUESTION, Scope::Document(reef_doc)), |_| {}).unwrap();
        (answered, asker.is_reading())
    })
    .join()
    .unwrap();
    let (answered, still_reading) = answered;
    assert!(still_reading, "the answer should come while the book is being read");
    let text = answered.answer.text().to_lowercase();
    assert!(text.contains("coral") || text.contains("arch") || text.contains("third"), "{text}");

    // Cancel from a third thread: the run stops after its chunk, resumable.
    let canceller = seahorse.clone();
    assert!(std::thread::spawn(move || canceller.cancel_reading()).join().unwrap());
    let mut progressed = reading_started.tokens_done;
    for e in rx.iter() {
        match e {
            ReadingEvent::Ingest(seahorse_api::IngestEvent::Reading(p)) => progressed = p.tokens_done,
            ReadingEvent::Finished { summary, error } => {
                assert!(summary.cancelled && error.is_none(), "{summary:?} {error:?}");
                break;
            }
            _ => {}
        }
    }
    let summary = seahorse.wait_reading().unwrap().unwrap();
    assert!(summary.cancelled);
    let job = seahorse.jobs().unwrap().into_iter().find(|j| j.id == jobs[0]).unwrap();
    assert_eq!(job.state, JobState::Cancelled);
    assert!(job.tokens_done < job.tokens_total);
    let gulls = job.doc.expect("the document was stored before reading");
    let details = seahorse.document(gulls).unwrap();
    assert_eq!(details.memory.state, MemoryState::PartlyRead);
    // The cancel kept the last chunk boundary: nothing read is lost.
    assert_eq!(details.states.iter().map(|s| s.position).max(), Some(progressed));

    // Nothing else was lost either: the first book's chat, its memory, the collection.
    let chats = seahorse.chats().unwrap();
    assert_eq!(chats.len(), 1);
    assert_eq!(chats[0].message_count, 2);
    assert_eq!(seahorse.document(reef_doc).unwrap().memory.state, MemoryState::Read);
    assert_eq!(seahorse.collections().unwrap()[0].documents, 1);

    // Resuming finishes it.
    assert_eq!(seahorse.requeue_unfinished().unwrap(), 1);
    assert_eq!(read_all(&seahorse).done, 1);
    assert_eq!(seahorse.document(gulls).unwrap().memory.state, MemoryState::Read);
}

#[test]
fn another_model_or_settings_is_a_choice_for_one_question() {
    let dir = tempfile::tempdir().unwrap();
    let seahorse = open(dir.path());
    seahorse.add(&[reef(dir.path())], None).unwrap();
    read_all(&seahorse);
    let doc = seahorse.find_document("reef").unwrap().id;
    let settings = seahorse.settings();

    // Other settings for one question: nothing saved, the next plain question is as before.
    let mut q = Question::new(QUESTION, Scope::Document(doc));
    q.memory = false;
    q.with = Some(Choice {
        reading: ReadingSettings { window: 512, ..settings.reading.clone() },
        ..seahorse.active_choice()
    });
    let (answered, _) = ask(&seahorse, &q);
    assert_eq!(answered.choice.reading.window, 512);
    assert_eq!(seahorse.settings(), settings);
    let (answered, events) = ask(&seahorse, &Question::new(QUESTION, Scope::Document(doc)));
    assert!(events.iter().any(|e| matches!(e, AnswerEvent::Restored { is_final: true, .. })));
    assert!(!events.iter().any(|e| matches!(e, AnswerEvent::UsingMemoryOf { .. })));
    assert_eq!(answered.choice, seahorse.active_choice());

    // The library now reads with W = 128: the document's memory is someone else's, says so,
    // and a question uses the model and settings that built it.
    seahorse.update_settings(|s| s.reading.window = 128).unwrap();
    // Reading another book with the new settings leaves this memory usable.
    seahorse.add(&[long_book(dir.path(), 3)], None).unwrap();
    assert_eq!(read_all(&seahorse).done, 1);
    let listed = seahorse.documents().unwrap();
    let reef_listed = listed.iter().find(|d| d.document.id == doc).unwrap();
    assert_eq!(reef_listed.memory.state, MemoryState::OtherModel);
    assert!(reef_listed.memory.built_with.as_deref().unwrap().contains("W=256"), "{:?}", reef_listed.memory);
    let gulls_listed = listed.iter().find(|d| d.document.id != doc).unwrap();
    assert_eq!(gulls_listed.memory.state, MemoryState::Read);
    let (answered, events) = ask(&seahorse, &Question::new(QUESTION, Scope::Document(doc)));
    assert!(events.iter().any(|e| matches!(e, AnswerEvent::UsingMemoryOf { choice } if choice.reading.window == 256)));
    assert_eq!(answered.choice.reading.window, 256);
    assert!(matches!(answered.answer, Reply::Library(_)));

    // Clear errors, no internal sentinel values.
    let err = seahorse.add_model(&dir.path().join("ghost.gguf")).unwrap_err();
    assert!(err.to_string().contains("ghost.gguf"), "{err}");
    let err = seahorse.ask(&Question::new("   ", Scope::Document(doc)), |_| {}).unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
    let mut q = Question::new(QUESTION, Scope::Document(doc));
    q.as_of_page = Some("99".into());
    let err = seahorse.ask(&q, |_| {}).unwrap_err();
    assert!(err.to_string().contains("no page \"99\"") && !err.to_string().contains("4294967295"), "{err}");
}

/// An official AHN-GDN checkpoint of the default model's shape (24 layers, hidden 896, 14
/// heads of 64) with small random weights, in the official layout.
fn gdn_checkpoint(dir: &Path, (layers, hidden, heads, head_dim): (usize, usize, usize, usize)) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let config = serde_json::json!({
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
        "_ahn_implementation": "GatedDeltaNet", "num_hidden_layers": layers, "hidden_size": hidden,
        "num_attention_heads": heads, "num_key_value_heads": 2, "use_ahn_router": false,
    });
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    let mut state = 0x5eed_u64;
    let mut values = |n: usize, scale: f32| -> Vec<u8> {
        (0..n)
            .flat_map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let u = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                (u * scale).to_le_bytes()
            })
            .collect()
    };
    let shapes = |name: &str| -> Vec<usize> {
        match name {
            "b_proj.weight" | "a_proj.weight" | "g_proj.weight" => vec![heads, hidden],
            "A_log" | "dt_bias" | "D" => vec![heads],
            "o_norm.weight" => vec![head_dim],
            _ => vec![heads, head_dim, head_dim],
        }
    };
    let names =
        ["b_proj.weight", "a_proj.weight", "A_log", "dt_bias", "g_proj.weight", "o_norm.weight", "o_proj.weight", "D"];
    let mut tensors = Vec::new();
    for i in 0..layers {
        for name in names {
            let shape = shapes(name);
            let bytes = values(shape.iter().product(), 0.02);
            tensors.push((format!("model.layers.{i}.ahn.fn.{name}"), shape, bytes));
        }
    }
    let views: Vec<(String, TensorView<'_>)> =
        tensors.iter().map(|(n, s, b)| (n.clone(), TensorView::new(Dtype::F32, s.clone(), b).unwrap())).collect();
    safetensors::serialize_to_file(views, None, &dir.join("model.safetensors")).unwrap();
    dir.to_owned()
}

#[test]
fn a_person_brings_a_qwen2_gguf_and_an_official_ahn_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let seahorse = open(dir.path());
    let default_path = seahorse.fetch_model(&seahorse.settings().model, |_| {}).unwrap();
    let mine = dir.path().join("models/some-qwen2.5.gguf");
    std::fs::create_dir_all(mine.parent().unwrap()).unwrap();
    if std::fs::hard_link(&default_path, &mine).is_err() {
        std::fs::copy(&default_path, &mine).unwrap();
    }

    // A model of another architecture: one clear error, nothing registered.
    let llama = dir.path().join("models/tiny-llama.gguf");
    write_gguf(&llama, None, &[("general.architecture".into(), KvValue::Str("llama".into()))], &[], |_, _| vec![])
        .unwrap();
    let before = seahorse.settings();
    let err = seahorse.add_model(&llama).unwrap_err();
    assert!(matches!(err, Error::UnsupportedModel { .. }) && err.to_string().contains("\"llama\""), "{err}");
    assert_eq!(seahorse.settings(), before);

    let entry = seahorse.add_model(&mine).unwrap();
    assert_eq!(entry.id, "some-qwen2.5");
    assert!(entry.added && entry.path.is_some());
    seahorse.update_settings(|s| s.model = entry.id.clone()).unwrap();

    // Checkpoints that cannot be used: each a clear error, nothing kept, settings unchanged.
    let small = gdn_checkpoint(&dir.path().join("ckpt/AHN-GDN-tiny"), (2, 24, 3, 8));
    let err = seahorse.add_block(&small, None, true).unwrap_err();
    assert!(err.to_string().contains("AHN"), "{err}");
    let good = gdn_checkpoint(&dir.path().join("ckpt/AHN-GDN-for-some-qwen2.5"), (24, 896, 14, 64));
    let truncated = dir.path().join("ckpt/truncated");
    std::fs::create_dir_all(&truncated).unwrap();
    std::fs::copy(good.join("config.json"), truncated.join("config.json")).unwrap();
    let bytes = std::fs::read(good.join("model.safetensors")).unwrap();
    std::fs::write(truncated.join("model.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    let err = seahorse.add_block(&truncated, None, true).unwrap_err();
    assert!(err.to_string().contains("model.safetensors"), "{err}");
    let blocks = seahorse.paths().added_blocks_dir();
    let kept: Vec<_> =
        std::fs::read_dir(&blocks).map(|d| d.map(|e| e.unwrap().file_name()).collect()).unwrap_or_default();
    assert!(kept.is_empty(), "nothing kept: {kept:?}");
    assert_eq!(seahorse.settings().block, BlockChoice::None);

    // The official checkpoint converts, becomes the active block, and reads and answers.
    let block = seahorse.add_block(&good, None, true).unwrap();
    assert!(block.starts_with(&blocks) && block.is_file());
    assert_eq!(seahorse.settings().block, BlockChoice::File(block.clone()));
    seahorse.add(&[reef(dir.path())], None).unwrap();
    let (tx, rx) = mpsc::channel();
    seahorse.start_reading(move |e| tx.send(e).unwrap()).unwrap();
    let fingerprint = rx.iter().find_map(|e| if let ReadingEvent::Started(f) = e { Some(f) } else { None }).unwrap();
    assert_eq!(seahorse.wait_reading().unwrap().unwrap().done, 1);
    assert_eq!(fingerprint.model_file, "some-qwen2.5.gguf");
    assert_ne!(fingerprint.block_sha256, "none");
    let doc = seahorse.find_document("reef").unwrap().id;
    assert_eq!(seahorse.document(doc).unwrap().memory.state, MemoryState::Read);
    let (answered, events) = ask(&seahorse, &Question::new(QUESTION, Scope::Document(doc)));
    assert_eq!(answered.choice.model, "some-qwen2.5");
    assert!(events.iter().any(|e| matches!(e, AnswerEvent::Restored { is_final: true, .. })));
    assert!(!answered.answer.text().trim().is_empty());
}
