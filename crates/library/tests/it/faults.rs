//! Faults: a full disk while writing a state, a file deleted mid-ingest, hostile files.

use seahorse_engine::CancelToken;
use seahorse_library::{Error, IngestEvent, JobState, Library, LibraryConfig, StoreConfig};

use crate::common::{load, markdown, memory, open, reader, write};

fn page_count(lib: &Library) -> u64 {
    let conn = rusqlite::Connection::open(lib.store().path()).unwrap();
    conn.query_row("PRAGMA page_count", [], |r| r.get::<_, i64>(0)).unwrap() as u64
}

#[test]
fn a_full_disk_while_writing_a_state_fails_clearly_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mem = memory(dir.path());
    let model = load(&mem);
    let reader = reader(&model, &mem);
    let root = dir.path().join("lib");

    // A first document, fully stored.
    let (first, before) = {
        let lib = open(&root);
        lib.enqueue_paths(&[write(dir.path(), "a.md", markdown(2, 3))], 0).unwrap();
        lib.run_jobs(&reader, &CancelToken::new(), |_| {}).unwrap();
        let first = lib.store().documents().unwrap()[0].id;
        (first, lib.load_state(first, reader.fingerprint(), None).unwrap().bytes)
    };

    // Now the database may grow by a few pages only: enough for the next document's pages,
    // not for a memory state (hundreds of KiB).
    let limited = {
        let lib = open(&root);
        page_count(&lib) + 12
    };
    let config = LibraryConfig { store: StoreConfig { max_page_count: Some(limited) }, ..Default::default() };
    let lib = Library::open(&root, &config).unwrap();
    lib.enqueue_paths(&[write(dir.path(), "b.md", markdown(2, 4))], 0).unwrap();
    let err = lib.run_jobs(&reader, &CancelToken::new(), |_| {}).unwrap_err();
    assert!(matches!(err, Error::DiskFull { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("disk is full") && message.contains("nothing already stored was lost"), "{message}");
    drop(lib);

    // Everything stored before is intact: the first document, its state, its index entries.
    let lib = open(&root);
    assert_eq!(lib.load_state(first, reader.fingerprint(), None).unwrap().bytes, before);
    assert!(lib.search("chapter", 5).unwrap().iter().any(|h| h.hit.doc == first));
    // With space again, the second job resumes and finishes.
    lib.store().requeue_unfinished().unwrap();
    let summary = lib.run_jobs(&reader, &CancelToken::new(), |_| {}).unwrap();
    assert_eq!((summary.done, summary.failed), (1, 0));
    assert_eq!(lib.store().documents().unwrap().len(), 2);
    assert!(lib.store().jobs().unwrap().iter().all(|j| j.state == JobState::Done));
}

#[test]
fn a_file_deleted_mid_ingest_and_hostile_files_fail_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mem = memory(dir.path());
    let model = load(&mem);
    let reader = reader(&model, &mem);
    let lib = open(&dir.path().join("lib"));
    let good = write(dir.path(), "good.md", markdown(1, 6));
    let doomed = write(dir.path(), "doomed.md", markdown(1, 7));
    let files = vec![
        good.clone(),
        write(dir.path(), "empty.pdf", b""),
        write(dir.path(), "truncated.pdf", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R"),
        write(dir.path(), "noise.epub", (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect::<Vec<u8>>()),
        write(dir.path(), "bomb.txt", "\u{0}".repeat(10)),
        doomed.clone(),
    ];
    lib.enqueue_paths(&files, 0).unwrap();
    let mut finished = Vec::new();
    let summary = lib
        .run_jobs(&reader, &CancelToken::new(), |e| {
            match e {
                // The last file disappears while the first is being read.
                IngestEvent::Reading(_) => {
                    let _ = std::fs::remove_file(&doomed);
                }
                IngestEvent::JobFinished { state, error, .. } => finished.push((*state, error.clone())),
                _ => {}
            }
        })
        .unwrap();
    assert!(!summary.cancelled);
    let jobs = lib.store().jobs().unwrap();
    assert_eq!(jobs.len(), files.len());
    assert_eq!(jobs[0].state, JobState::Done, "{:?}", jobs[0]);
    for job in &jobs[1..] {
        if job.source_path.ends_with("bomb.txt") {
            // NUL bytes are binary data for the sniffer, or text with a warning: either way
            // the queue goes on.
            continue;
        }
        assert_eq!(job.state, JobState::Failed, "{job:?}");
        assert!(!job.error.as_deref().unwrap_or("").is_empty());
    }
    let error_of = |name: &str| jobs.iter().find(|j| j.source_path.ends_with(name)).unwrap().error.clone().unwrap();
    assert!(error_of("empty.pdf").contains("empty"), "{}", error_of("empty.pdf"));
    assert!(error_of("doomed.md").contains("cannot read"), "{}", error_of("doomed.md"));
    assert_eq!(finished.len(), files.len());
    assert!(summary.failed >= 4);
    // The good document is intact and searchable.
    let doc = jobs[0].doc.unwrap();
    assert!(lib.load_state(doc, reader.fingerprint(), None).unwrap().is_final);
}

#[test]
fn a_document_removed_while_it_is_read_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mem = memory(dir.path());
    let model = load(&mem);
    let reader = reader(&model, &mem);
    let lib = open(&dir.path().join("lib"));
    let first = write(dir.path(), "first.md", markdown(2, 8));
    let second = write(dir.path(), "second.md", markdown(1, 9));
    lib.enqueue_paths(&[first, second], 0).unwrap();
    let mut removed = false;
    let mut outcomes = Vec::new();
    let summary = lib
        .run_jobs(&reader, &CancelToken::new(), |e| match e {
            IngestEvent::Reading(p) if !removed && p.tokens_done > 0 => {
                lib.remove(p.doc).unwrap();
                removed = true;
            }
            IngestEvent::JobFinished { state, error, .. } => outcomes.push((*state, error.clone())),
            _ => {}
        })
        .unwrap();
    assert!(removed);
    assert_eq!((summary.done, summary.failed), (1, 1), "{outcomes:?}");
    assert!(outcomes[0].1.as_deref().unwrap().contains("removed"));
    let docs = lib.store().documents().unwrap();
    assert_eq!(docs.len(), 1);
    assert!(docs[0].source_path.ends_with("second.md"));
    assert!(lib.search("chapter", 10).unwrap().iter().all(|h| h.hit.doc == docs[0].id));
}
