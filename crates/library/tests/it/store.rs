//! The SQLite store: documents, pages, the token map, jobs, removal, WAL and foreign keys.

use seahorse_docs::{Locator, Page};
use seahorse_library::{DocId, JobState, NewDocument, Store, StoreConfig, SCHEMA_VERSION};

fn page(index: u32, text: &str) -> Page {
    Page {
        index,
        label: Some(format!("{}", index + 10)),
        locator: Locator::Pdf { page_index: index },
        text: text.into(),
    }
}

fn new_doc<'a>(sha: &'a str, title: &'a str) -> NewDocument<'a> {
    NewDocument {
        sha256: sha,
        title,
        format: "pdf",
        size_bytes: 1234,
        source_path: "/books/a.pdf",
        added_ms: 42,
        extraction_version: seahorse_docs::EXTRACTION_VERSION,
        warnings: vec!["page 3 was read with a simpler extractor".into()],
        outline: &[],
    }
}

#[test]
fn documents_pages_and_token_map() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db.sqlite3"), &StoreConfig::default()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let g0 = store.generation().unwrap();
    let id = store.store_document(&new_doc("aa11", "A"), &[page(0, "one"), page(1, "two"), page(2, "")]).unwrap();
    assert_eq!(store.generation().unwrap(), g0 + 1);
    let doc = store.document(id).unwrap();
    assert_eq!((doc.title.as_str(), doc.page_count, doc.size_bytes, doc.added_ms), ("A", 3, 1234, 42));
    assert_eq!(doc.warnings.len(), 1);
    assert_eq!(doc.token_count, None);
    let pages = store.pages(id).unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[1].label.as_deref(), Some("11"));
    assert_eq!(pages[1].locator(), Some(Locator::Pdf { page_index: 1 }));
    assert_eq!(pages[2].text, "");

    store.set_token_map(id, &[(0, 10), (10, 25), (25, 30)]).unwrap();
    assert_eq!(store.document(id).unwrap().token_count, Some(30));
    assert_eq!(store.page_at_token(id, 0).unwrap(), Some(0));
    assert_eq!(store.page_at_token(id, 9).unwrap(), Some(0));
    assert_eq!(store.page_at_token(id, 10).unwrap(), Some(1));
    assert_eq!(store.page_at_token(id, 29).unwrap(), Some(2));
    assert_eq!(store.page_at_token(id, 30).unwrap(), None);

    // The same content again replaces the pages (re-extraction), keeping the id.
    let again = store.store_document(&new_doc("aa11", "A2"), &[page(0, "uno")]).unwrap();
    assert_eq!(again, id);
    assert_eq!(store.document(id).unwrap().page_count, 1);
    assert_eq!(store.pages(id).unwrap().len(), 1);
    assert_eq!(store.documents().unwrap().len(), 1);
    assert!(store.document_by_sha256("aa11").unwrap().is_some());
}

#[test]
fn jobs_move_through_their_states_and_removal_cascades() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    let store = Store::open(&path, &StoreConfig::default()).unwrap();
    let jobs = store.enqueue(&["/x/a.pdf", "/x/b.pdf"], 7).unwrap();
    assert_eq!(jobs.len(), 2);
    // Queuing a file with an unfinished job returns that job.
    assert_eq!(store.enqueue(&["/x/a.pdf"], 8).unwrap(), vec![jobs[0]]);
    let all = store.jobs().unwrap();
    assert!(all.iter().all(|j| j.state == JobState::Queued && j.queued_ms == 7));

    let id = store.store_document(&new_doc("bb22", "B"), &[page(0, "text")]).unwrap();
    assert!(store.remove_document(id).unwrap());
    assert!(!store.remove_document(id).unwrap());
    assert!(store.pages(id).unwrap().is_empty());
    assert!(matches!(store.document(id), Err(seahorse_library::Error::NoDocument(_))));
    assert!(store.remove_document(DocId(999)).is_ok_and(|removed| !removed));

    // WAL mode and foreign keys are on for every connection the store opens.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let orphan = store.enqueue(&["/x/c.pdf"], 9).unwrap();
    assert_eq!(store.job(orphan[0]).unwrap().doc, None);
    assert_eq!(store.clear_finished_jobs().unwrap(), 0);
}

#[test]
fn an_outline_is_stored_with_its_document_and_replaced_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db.sqlite3"), &StoreConfig::default()).unwrap();
    let heading = |level, title: &str, page_index| seahorse_docs::Heading { level, title: title.into(), page_index };
    let outline = [heading(0, "1 Introduction", 0), heading(1, "1.1 Why \"this\"", 1), heading(0, "Appendix", 2)];
    let doc = NewDocument { outline: &outline, ..new_doc("bb22", "B") };
    let id = store.store_document(&doc, &[page(0, "one"), page(1, "two"), page(2, "three")]).unwrap();
    assert_eq!(store.outline(id).unwrap(), outline);
    // Stored again (another extraction): the outline is the new one, here none.
    let again = store.store_document(&new_doc("bb22", "B"), &[page(0, "one")]).unwrap();
    assert_eq!(again, id);
    assert!(store.outline(id).unwrap().is_empty());
}
