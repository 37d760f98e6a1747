//! Ingestion end to end with the real model: pages, token map, index, memory states, "as of
//! page N", and stale fingerprints.

use seahorse_engine::{CancelToken, Logits};
use seahorse_library::{AsOfFrom, Error, IngestEvent, JobState, StateKind};

use crate::common::{load, markdown, memory, open, reader, write};

#[test]
fn a_document_is_extracted_indexed_and_read_into_memory() {
    let dir = tempfile::tempdir().unwrap();
    let mem = memory(dir.path());
    let model = load(&mem);
    let reader = reader(&model, &mem);
    let lib = open(&dir.path().join("lib"));
    let file = write(dir.path(), "book.md", markdown(4, 1));
    let jobs = lib.enqueue_paths(std::slice::from_ref(&file), 1_000).unwrap();
    let mut events = Vec::new();
    let summary = lib.run_jobs(&reader, &CancelToken::new(), |e| events.push(e.clone())).unwrap();
    assert_eq!((summary.done, summary.failed, summary.cancelled), (1, 0, false));

    let job = lib.store().job(jobs[0]).unwrap();
    assert_eq!(job.state, JobState::Done, "{job:?}");
    let doc = lib.store().document(job.doc.unwrap()).unwrap();
    assert_eq!((doc.page_count, doc.format.as_str(), doc.added_ms), (4, "markdown", 1_000));
    let total = doc.token_count.unwrap();
    // The token stream, whole or in stretches (only the pages a stretch overlaps are
    // tokenized): every stretch equals the same slice of the whole.
    let full = lib.document_tokens(&model, doc.id, 0..u64::MAX).unwrap();
    assert_eq!(full.len() as u64, total);
    for (a, b) in [(0, 10), (total / 3, 2 * total / 3), (total - 5, u64::MAX), (total, total + 9)] {
        let part = lib.document_tokens(&model, doc.id, a..b).unwrap();
        assert_eq!(part, full[a as usize..(b.min(total)) as usize], "{a}..{b}");
    }
    assert_eq!((job.tokens_done, job.tokens_total, job.pages_done), (total, total, 4));

    // Events: stages in order, reading progress with rates, checkpoints, the end.
    let stages: Vec<_> = events
        .iter()
        .filter_map(|e| if let IngestEvent::Stage { state, .. } = e { Some(*state) } else { None })
        .collect();
    assert_eq!(stages, [JobState::Extracting, JobState::Indexing, JobState::Reading]);
    let last_read =
        events.iter().rev().find_map(|e| if let IngestEvent::Reading(p) = e { Some(p.clone()) } else { None });
    let last_read = last_read.unwrap();
    assert_eq!((last_read.tokens_done, last_read.pages_done), (total, 4));
    assert!(last_read.tokens_per_second > 0.0);
    let checkpoints = events.iter().filter(|e| matches!(e, IngestEvent::Checkpoint { .. })).count();
    assert!(checkpoints >= 3, "{checkpoints} checkpoints for {total} tokens");

    // The token map covers every token; each page's range starts where the last ended.
    let pages = lib.store().pages(doc.id).unwrap();
    assert_eq!(pages[0].token_start, Some(0));
    assert_eq!(pages[3].token_end, Some(total));
    for w in pages.windows(2) {
        assert_eq!(w[0].token_end, w[1].token_start);
    }
    let mid = pages[2].token_start.unwrap() + 1;
    assert_eq!(lib.store().page_at_token(doc.id, mid).unwrap(), Some(2));

    // Found by what a person types: id, file name, part of the title.
    assert_eq!(lib.find_document(&doc.id.to_string()).unwrap().id, doc.id);
    assert_eq!(lib.find_document("BOOK.md").unwrap().id, doc.id);
    assert!(matches!(lib.find_document("no such book"), Err(Error::NoMatch(_))));

    // Searchable by page.
    let hits = lib.search("chapter", 10).unwrap();
    assert!(!hits.is_empty() && hits.iter().all(|h| h.hit.doc == doc.id));

    // The final state restores into a fresh session, positioned after the last token.
    let fp = reader.fingerprint();
    let state = lib.load_state(doc.id, fp, None).unwrap();
    assert!(state.is_final);
    assert_eq!(state.position, total);
    let mut session = reader.restore(&state).unwrap();
    assert_eq!(session.position(0) as u64, total);
    let question = model.tokenize("\nWhat is this about?");
    let logits = session.evaluate(0, &question, Logits::Last, &CancelToken::new(), |_| {}).unwrap();
    assert!(logits.iter().all(|x| x.is_finite()));

    // Sinks + window only: nothing is kept beside the final state (the resume points go
    // once the pass ends; "as of page N" re-reads the window).
    let states = lib.store().states(doc.id).unwrap();
    assert_eq!(states.len(), 1, "{states:#?}");
    assert!(states[0].is_final && states[0].kind == StateKind::Full);
    assert!(matches!(lib.load_state(doc.id, fp, Some(0)), Err(Error::NoState { stale: 0, .. })));
    // "As of page N": a memory that has read to the end of page N.
    for n in 0..4u32 {
        let end = pages[n as usize].token_end.unwrap();
        let as_of =
            lib.restore_as_of_page(&reader, doc.id, n, AsOfFrom::Nearest, &CancelToken::new(), |_, _| {}).unwrap();
        assert_eq!((as_of.position, as_of.session.position(0) as u64), (end, end));
    }

    // Storage is measured; the state blobs are compressed.
    let storage = lib.document_storage(doc.id).unwrap();
    assert_eq!(storage.states as usize, states.len());
    assert!(storage.state_stored_bytes < storage.state_raw_bytes, "{storage:?}");

    // Adding the same content again is recognised: no new document, no new reading.
    let copy = write(dir.path(), "copy.md", markdown(4, 1));
    lib.enqueue_paths(&[copy], 2_000).unwrap();
    let summary = lib.run_jobs(&reader, &CancelToken::new(), |_| {}).unwrap();
    assert_eq!(summary.done, 1);
    assert_eq!(lib.store().documents().unwrap().len(), 1);
    assert_eq!(lib.store().states(doc.id).unwrap(), states);
}

#[test]
fn a_changed_fingerprint_makes_states_stale_and_never_restores_them() {
    let dir = tempfile::tempdir().unwrap();
    let mem = memory(dir.path());
    let model = load(&mem);
    let reader = reader(&model, &mem);
    let lib = open(&dir.path().join("lib"));
    lib.enqueue_paths(&[write(dir.path(), "a.md", markdown(1, 2))], 0).unwrap();
    lib.run_jobs(&reader, &CancelToken::new(), |_| {}).unwrap();
    let doc = lib.store().documents().unwrap()[0].id;
    let old = lib.load_state(doc, reader.fingerprint(), None).unwrap();

    // Another window: another fingerprint.
    let mut other_mem = memory(dir.path());
    other_mem.window = 48;
    let other_model = load(&other_mem);
    let other = crate::common::reader(&other_model, &other_mem);
    assert_ne!(other.fingerprint(), reader.fingerprint());
    assert!(matches!(other.restore(&old), Err(Error::StaleState { .. })));
    assert!(lib.store().mark_stale(other.fingerprint_key()).unwrap() > 0);
    assert!(lib.store().states(doc).unwrap().iter().all(|s| s.stale));
    match lib.load_state(doc, other.fingerprint(), None) {
        Err(Error::NoState { stale, .. }) => assert!(stale > 0),
        other => panic!("{other:?}"),
    }
    // Even the old fingerprint no longer gets them once marked stale.
    assert!(matches!(lib.load_state(doc, reader.fingerprint(), None), Err(Error::NoState { .. })));

    // Reading again with the new settings builds fresh states and drops the stale ones.
    lib.store().requeue_unfinished().unwrap();
    lib.enqueue_paths(&[write(dir.path(), "a.md", markdown(1, 2))], 0).unwrap();
    lib.run_jobs(&other, &CancelToken::new(), |_| {}).unwrap();
    let states = lib.store().states(doc).unwrap();
    assert!(!states.is_empty() && states.iter().all(|s| !s.stale && s.fingerprint == other.fingerprint_key()));
    assert!(lib.load_state(doc, other.fingerprint(), None).unwrap().is_final);
}
