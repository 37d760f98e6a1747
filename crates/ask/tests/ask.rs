//! Asking end to end with the real default model, real SQLite and real tantivy: a small
//! book is ingested (W = 256, S = 4, so most of it leaves the window), then asked.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use seahorse_ask::chat::{export_markdown, history, ChatAnswer};
use seahorse_ask::corpus::{CorpusEvent, CorpusOptions};
use seahorse_ask::{Answer, AskEvent, AskOptions, Asker, Error};
use seahorse_engine::{CancelToken, MemoryOptions, Model, ModelOptions};
use seahorse_library::{ChatScope, DocId, Library, LibraryConfig, ReadOptions, Reader};

fn model_path() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        seahorse_models::default_model(&seahorse_models::cache_dir_in(|k| std::env::var_os(k)))
            .expect("the default model")
    })
    .clone()
}

fn memory(dir: &Path, window: u32) -> MemoryOptions {
    MemoryOptions { window, sinks: 4, block: None, merged_dir: dir.to_owned() }
}

fn load(memory: &MemoryOptions) -> Model {
    Model::load(model_path(), &ModelOptions { memory: Some(memory.clone()), ..Default::default() }).unwrap()
}

fn read_options() -> ReadOptions {
    ReadOptions {
        chunk_tokens: 64,
        n_threads: Some(2),
        checkpoint_tokens: 128,
        checkpoint_interval: Duration::from_secs(3600),
        checkpoints_kept: 100,
        ..ReadOptions::default()
    }
}

/// A book of `n` one-page chapters of filler about the sea; `facts` puts a sentence on a
/// chapter (0-based).
fn book(n: usize, facts: &[(usize, &str)], seed: usize) -> String {
    const WORDS: &[&str] = &[
        "kelp", "current", "ledger", "storm", "visitor", "tide", "coral", "harbour", "shell", "reef", "compass",
        "anchor", "drift", "pearl", "evening", "morning", "river", "gull",
    ];
    let mut out = String::new();
    for c in 0..n {
        out.push_str(&format!("# Chapter {}\n\n", c + 1));
        for s in 0..5 {
            let words: Vec<&str> = (0..10).map(|w| WORDS[(seed * 7 + c * 13 + s * 5 + w * 3) % WORDS.len()]).collect();
            out.push_str(&format!("The {} turned that day.\n", words.join(" ")));
        }
        for (at, fact) in facts {
            if *at == c {
                out.push_str(&format!("\n{fact}\n"));
            }
        }
        out.push('\n');
    }
    out
}

const KEEPER: &str = "The lighthouse keeper of Saltmere was named Oswin Tarrow.";

/// Ingests `files` into a new library in `dir` with `reader`.
fn ingest(dir: &Path, reader: &Reader<'_>, files: &[(&str, String)]) -> (Library, Vec<DocId>) {
    let library = Library::open(&dir.join("lib"), &LibraryConfig::default()).unwrap();
    let mut paths = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        paths.push(path);
    }
    let jobs = library.enqueue_paths(&paths, 1).unwrap();
    let summary = library.run_jobs(reader, &CancelToken::new(), |_| {}).unwrap();
    assert_eq!((summary.done, summary.failed), (files.len(), 0));
    let docs = jobs.iter().map(|j| library.store().job(*j).unwrap().doc.unwrap()).collect();
    (library, docs)
}

/// Every citation names only pages given to the model: a passage or a window page.
fn assert_citations_given(answer: &Answer) {
    let given: Vec<u32> = answer
        .sources
        .passages
        .iter()
        .map(|p| p.page_index)
        .chain(answer.sources.window_pages.iter().copied())
        .collect();
    for c in &answer.citations {
        assert!(answer.text.contains(&c.text), "{c:?} not in {:?}", answer.text);
        for p in &c.pages {
            assert!(given.contains(&p.page_index), "{c:?} cites a page not given: {given:?}");
        }
    }
    for d in &answer.dropped {
        assert!(!answer.text.contains(d.as_str()), "dropped {d} still shown");
    }
}

#[test]
fn asking_one_document() {
    let dir = tempfile::tempdir().unwrap();
    let mem = memory(dir.path(), 256);
    let model = load(&mem);
    let reader = Reader::new(&model, &mem, read_options()).unwrap();
    let text = book(16, &[(8, KEEPER)], 1);
    let (library, docs) = ingest(dir.path(), &reader, &[("saltmere.md", text)]);
    let doc = docs[0];
    let asker = Asker::new(&library, &reader);
    let pages = library.store().pages(doc).unwrap();
    let total = library.store().document(doc).unwrap().token_count.unwrap();
    assert!(total > 4 * 256, "the book must leave the window: {total} tokens");

    // 1. Memory + passages: the fact, far behind the window, is found and cited.
    let question = "What was the name of the lighthouse keeper of Saltmere?";
    let mut events = Vec::new();
    let answer = asker
        .ask_document(doc, question, &[], &AskOptions::default(), |e| {
            events.push(match e {
                AskEvent::Restored { position, .. } => format!("restored {position}"),
                AskEvent::Passages(p) => format!("passages {}", p.len()),
                AskEvent::Prefill { .. } => "prefill".to_owned(),
                AskEvent::Text(t) => format!("text {t}"),
                _ => "other".to_owned(),
            })
        })
        .unwrap();
    assert_eq!(events[0], format!("restored {total}"), "{events:?}");
    assert!(events[1].starts_with("passages "), "{events:?}");
    let streamed: String = events.iter().filter_map(|e| e.strip_prefix("text ")).collect();
    assert_eq!(tidy_trim(&streamed), answer.text);
    assert!(answer.text.contains("Oswin"), "{answer:#?}");
    assert!(answer.sources.passages.iter().any(|p| p.page_index == 8), "{:?}", answer.sources.passages);
    assert_eq!(answer.sources.state_position, total);
    assert!(answer.sources.state_id.is_some());
    assert!(!answer.sources.window_pages.contains(&8));
    assert!(answer.sources.window_pages.contains(&15));
    // Passages, instructions, question and the answer's share fit in the window.
    let passage_tokens: usize = answer.sources.passages.iter().map(|p| p.tokens).sum();
    assert!(passage_tokens <= 128, "{passage_tokens}");
    assert!(answer.timings.prompt_tokens + 256 / 4 <= 256, "{:?}", answer.timings);
    assert_citations_given(&answer);
    assert!(answer.timings.first_token_ms <= answer.timings.total_ms);
    assert!(answer.timings.prompt_tokens > 0 && answer.timings.generated_tokens > 0);

    // 2. Retrieval only: no memory restored, same fact.
    let options = AskOptions { memory: false, ..AskOptions::default() };
    let answer = asker.ask_document(doc, question, &[], &options, |_| {}).unwrap();
    assert_eq!(answer.sources.state_id, None);
    assert!(answer.sources.window_pages.is_empty());
    assert!(answer.text.contains("Oswin"), "{answer:#?}");
    assert_citations_given(&answer);
    // How sure the model is was measured: the name comes from the passages, so they made
    // the answer's words more probable than the question alone did.
    let confidence = answer.confidence;
    assert!(confidence.lift.is_some_and(|l| l > seahorse_ask::grounding::MIN_LIFT), "{confidence:?}");
    assert!(confidence.min_logprob <= confidence.mean_logprob && confidence.mean_logprob <= 0.0, "{confidence:?}");
    assert!(answer.timings.check_ms > 0.0 && answer.timings.check_ms < answer.timings.total_ms);

    // 2b. Asked which chapter: the answer names the chapter holding the fact, in the model's
    //     words or, where they name no chapter of the passages, from the outline.
    let which = "In which chapter is the lighthouse keeper of Saltmere named?";
    let answer = asker.ask_document(doc, which, &[], &options, |_| {}).unwrap();
    assert!(answer.text.contains("Chapter 9"), "{answer:#?}");
    assert!(answer.withheld.is_none(), "{answer:#?}");
    if let Some(relocated) = &answer.relocated {
        assert!(!relocated.model_text.is_empty());
        assert_eq!(answer.citations.len(), 1, "{answer:#?}");
        assert_eq!(answer.citations[0].pages[0].page_index, 8, "{answer:#?}");
    }
    assert_citations_given(&answer);

    // 3. As of page 3 (0-based 2): the memory and the passages stop there; no spoiler.
    let options = AskOptions { as_of_page: Some(2), ..AskOptions::default() };
    let answer = asker.ask_document(doc, question, &[], &options, |_| {}).unwrap();
    // The memory reaches exactly the end of page 3: the nearest checkpoint, then the rest.
    assert_eq!(answer.sources.state_position, pages[2].token_end.unwrap());
    let checkpoint = library.load_state(doc, reader.fingerprint(), Some(2)).map_or(0, |s| s.position);
    assert_eq!(answer.sources.caught_up_tokens, answer.sources.state_position - checkpoint);
    assert!(answer.sources.passages.iter().all(|p| p.page_index <= 2));
    assert!(answer.sources.window_pages.iter().all(|&p| p <= 2));
    assert!(!answer.text.contains("Oswin"), "{answer:#?}");
    assert_citations_given(&answer);

    // 4. A cancelled answer stops at once.
    let cancel = CancelToken::new();
    cancel.cancel();
    let options = AskOptions { cancel, ..AskOptions::default() };
    let answer = asker.ask_document(doc, question, &[], &options, |_| {}).unwrap();
    assert_eq!(answer.stop, "cancelled");
    assert!(answer.text.is_empty());
    assert_eq!(answer.confidence, seahorse_ask::selfcheck::Confidence::default(), "nothing to check");

    // 5. A reader with other settings never restores these states.
    let other_mem = memory(dir.path(), 96);
    let other_model = load(&other_mem);
    let other = Reader::new(&other_model, &other_mem, read_options()).unwrap();
    let err =
        Asker::new(&library, &other).ask_document(doc, question, &[], &AskOptions::default(), |_| {}).unwrap_err();
    assert!(matches!(err, Error::Library(seahorse_library::Error::NoState { .. })), "{err:?}");
}

fn tidy_trim(s: &str) -> String {
    seahorse_ask::citations::tidy(s.trim())
}

#[test]
fn chats_are_stored_resumed_and_exported() {
    let dir = tempfile::tempdir().unwrap();
    let mem = memory(dir.path(), 256);
    let model = load(&mem);
    let reader = Reader::new(&model, &mem, read_options()).unwrap();
    let text = book(8, &[(5, KEEPER)], 2);
    let (library, docs) = ingest(dir.path(), &reader, &[("saltmere.md", text)]);
    let asker = Asker::new(&library, &reader);
    let store = library.store();
    let chat = store.create_chat(ChatScope::Document { doc: docs[0], as_of_page: None }, "keeper", 10).unwrap();
    let first = asker
        .ask_in_chat(
            chat,
            "Who was the lighthouse keeper of Saltmere?",
            &AskOptions::default(),
            &CorpusOptions::default(),
            11,
            |_| {},
        )
        .unwrap();
    assert!(first.text().contains("Oswin"), "{first:#?}");
    drop(library);

    // After a "restart": the chat is there, and the next turn sees the first.
    let library = Library::open(&dir.path().join("lib"), &LibraryConfig::default()).unwrap();
    let asker = Asker::new(&library, &reader);
    let turns = history(library.store(), chat).unwrap();
    assert_eq!(turns.len(), 1);
    assert_eq!(turns[0].1, first.text());
    let second = asker
        .ask_in_chat(chat, "Repeat his surname only.", &AskOptions::default(), &CorpusOptions::default(), 12, |_| {})
        .unwrap();
    assert!(second.text().contains("Tarrow"), "{second:#?}");
    let messages = library.store().messages(chat).unwrap();
    assert_eq!(messages.len(), 4);
    let ChatAnswer::Document(answer) = &second else { panic!("a document chat answers from the document") };
    let sources: seahorse_ask::Sources = serde_json::from_str(&messages[3].sources).unwrap();
    assert_eq!(&sources, &answer.sources);
    let citations: Vec<seahorse_ask::citations::Citation> = serde_json::from_str(&messages[3].citations).unwrap();
    assert_eq!(&citations, &answer.citations);

    let markdown = export_markdown(library.store(), chat).unwrap();
    assert!(markdown.starts_with("# keeper\n"), "{markdown}");
    assert!(markdown.contains("**Question:** Who was the lighthouse keeper of Saltmere?"));
    assert!(markdown.contains(&format!("**Answer:** {}", second.text())));
    for c in &answer.citations {
        assert!(markdown.contains(&c.text), "{markdown}");
    }
}

#[test]
fn asking_the_corpus_consults_the_documents_that_know() {
    let dir = tempfile::tempdir().unwrap();
    let mem = memory(dir.path(), 256);
    let model = load(&mem);
    let reader = Reader::new(&model, &mem, read_options()).unwrap();
    let files = [
        ("gulls.md", book(6, &[(2, "Gulls nest on the cliffs of Dunmore.")], 3)),
        ("saltmere.md", book(6, &[(4, KEEPER)], 4)),
        ("reefs.md", book(6, &[(1, "The reef of Corran is made of red coral.")], 5)),
    ];
    let (library, docs) = ingest(dir.path(), &reader, &files);
    let asker = Asker::new(&library, &reader);
    let question = "What was the name of the lighthouse keeper of Saltmere?";
    let ranked = asker.rank_documents(question, 3, None).unwrap();
    assert_eq!(ranked[0].doc, docs[1].0, "{ranked:?}");

    let options = CorpusOptions { max_documents: 2, ..CorpusOptions::default() };
    let mut consulted = Vec::new();
    let answer = asker
        .ask_corpus(question, &[], &options, |e| {
            if let CorpusEvent::Document { document, event: AskEvent::Restored { .. } } = e {
                consulted.push(document.doc);
            }
        })
        .unwrap();
    // Only the document that knows is consulted; its answer is the answer.
    assert_eq!(consulted, vec![docs[1].0]);
    assert_eq!(answer.documents.len(), 1);
    assert!(answer.text.contains("Oswin"), "{answer:#?}");
    assert_corpus_citations_given(&answer);

    // A question two documents answer: both are consulted and combined.
    let question = "Who was the lighthouse keeper of Saltmere, and where do gulls nest?";
    let answer = asker.ask_corpus(question, &[], &options, |_| {}).unwrap();
    let mut consulted: Vec<i64> = answer.documents.iter().map(|d| d.document.doc).collect();
    consulted.sort();
    assert_eq!(consulted, vec![docs[0].0, docs[1].0], "{answer:#?}");
    assert!(answer.text.contains("Oswin") || answer.text.contains("Dunmore"), "{answer:#?}");
    assert_corpus_citations_given(&answer);

    // Nothing matches: a clear error.
    let err = asker.ask_corpus("zeppelin xylophone", &[], &options, |_| {}).unwrap_err();
    assert!(matches!(err, Error::NothingRelevant), "{err:?}");
}

/// Every citation of a corpus answer names a consulted document and a page it was given.
fn assert_corpus_citations_given(answer: &seahorse_ask::corpus::CorpusAnswer) {
    for c in &answer.citations {
        assert!(answer.text.contains(&c.text), "{c:?}");
        for p in &c.pages {
            let d = &answer.documents[p.source as usize - 1];
            assert_eq!(d.document.doc, p.doc);
            let given: Vec<u32> = d
                .answer
                .sources
                .passages
                .iter()
                .map(|g| g.page_index)
                .chain(d.answer.sources.window_pages.iter().copied())
                .collect();
            assert!(given.contains(&p.page_index), "{c:?}");
        }
    }
}

/// The passages given fit the token budget; a passage too long for the room left is cut
/// to it (a shorter excerpt of the same passage) rather than passed over for a worse one.
#[test]
fn passages_fill_the_budget_and_a_long_one_is_cut_to_the_room_left() {
    let dir = tempfile::tempdir().unwrap();
    let mem = memory(dir.path(), 1024);
    let model = load(&mem);
    let reader = Reader::new(&model, &mem, read_options()).unwrap();
    let library = Library::open(&dir.path().join("lib"), &LibraryConfig::default()).unwrap();
    let chapter = |n: usize, what: &str| -> String {
        (0..n)
            .map(|i| format!("On day {i} the keeper polished the copper lantern of the north tower with {what}. "))
            .collect()
    };
    let text = format!(
        "# Chapter 1\n\n{}\n\n# Chapter 2\n\n{}\n\n# Chapter 3\n\n{}\n",
        chapter(11, "a soft cloth"),
        chapter(10, "fine sand and vinegar"),
        chapter(9, "an old brush")
    );
    let path = dir.path().join("lanterns.md");
    std::fs::write(&path, text).unwrap();
    let doc = library.add_unread(&path, 0, &CancelToken::new()).unwrap();
    let asker = Asker::new(&library, &reader);
    let question = "Who polished the copper lantern of the north tower?";
    let given = |budget: usize| {
        let options = AskOptions { memory: false, passage_tokens: Some(budget), ..AskOptions::default() };
        asker.passages_without_memory(doc, question, &[], &options).unwrap()
    };
    let roomy = given(1000);
    assert_eq!(roomy.len(), 3, "{roomy:#?}");
    let mut cut = 0;
    // From 220 tokens on, passages are cut to PASSAGE_CHARS as with room to spare.
    for budget in (220..=480).step_by(10) {
        let tight = given(budget);
        assert!(!tight.is_empty());
        assert!(tight.iter().map(|p| p.tokens).sum::<usize>() <= budget, "budget {budget}: {tight:#?}");
        for p in &tight {
            let whole = roomy.iter().find(|r| r.page_index == p.page_index).expect("a passage found with room");
            if p.text != whole.text {
                assert!(p.tokens < whole.tokens, "{p:#?}");
                for piece in p.text.split(" … ") {
                    assert!(whole.text.contains(piece.trim()), "{piece:?} is not from {:?}", whole.text);
                }
                cut += 1;
            }
        }
    }
    assert!(cut > 0, "no budget cut a passage to the room left");
}
