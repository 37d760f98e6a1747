//! The full-text index: BM25 search with snippets, and consistency with SQLite after a
//! crash between the two stores, a damaged index, and a rebuild.

use seahorse_docs::{Locator, Page};
use seahorse_library::NewDocument;

use crate::common::open;

fn pages(texts: &[&str]) -> Vec<Page> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| Page {
            index: i as u32,
            label: (i == 1).then(|| "xiv".to_owned()),
            locator: Locator::Pdf { page_index: i as u32 },
            text: (*t).to_owned(),
        })
        .collect()
}

fn new_doc(sha: &str) -> NewDocument<'_> {
    NewDocument {
        sha256: sha,
        title: "The Kelp Ledger",
        format: "pdf",
        size_bytes: 10,
        source_path: "/b/kelp.pdf",
        added_ms: 0,
        extraction_version: seahorse_docs::EXTRACTION_VERSION,
        warnings: Vec::new(),
        outline: &[],
    }
}

#[test]
fn search_finds_pages_with_highlighted_snippets() {
    let dir = tempfile::tempdir().unwrap();
    let lib = open(dir.path());
    let doc = lib
        .store()
        .store_document(
            &new_doc("k1"),
            &pages(&[
                "The seahorse kept a ledger of every current.",
                "On this page the storm came, and the lantern went out in the harbour.",
                "",
            ]),
        )
        .unwrap();
    lib.sync_index().unwrap();
    let hits = lib.search("lantern harbour", 5).unwrap();
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert_eq!((hit.hit.doc, hit.hit.page_index, hit.hit.page_label.as_str()), (doc, 1, "xiv"));
    assert_eq!(hit.title, "The Kelp Ledger");
    assert!(hit.hit.score > 0.0);
    let marked = hit.hit.snippet_marked("[", "]");
    assert!(marked.contains("[lantern]") && marked.contains("[harbour]"), "{marked}");
    assert!(lib.search("nonexistentword", 5).unwrap().is_empty());
    // Broken query syntax is forgiven.
    assert!(!lib.search("ledger AND (", 5).unwrap().is_empty());
    assert_eq!(lib.passage_count(doc).unwrap(), 2);
    let storage = lib.document_storage(doc).unwrap();
    assert!(storage.text_bytes > 100 && storage.index_bytes > 0, "{storage:?}");
}

#[test]
fn a_crash_between_sqlite_and_the_index_is_repaired_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let (kept, removed) = {
        let lib = open(dir.path());
        let kept = lib.store().store_document(&new_doc("k1"), &pages(&["alpha reef words"])).unwrap();
        let removed = lib.store().store_document(&new_doc("k2"), &pages(&["beta coral words"])).unwrap();
        lib.sync_index().unwrap();
        assert_eq!(lib.search("coral", 5).unwrap().len(), 1);
        // The process "dies" after the SQLite transactions, before the index commit: one
        // document stored, one removed, neither reflected in the index.
        lib.store().store_document(&new_doc("k3"), &pages(&["gamma anchor words"])).unwrap();
        assert!(lib.store().remove_document(removed).unwrap());
        assert!(lib.search("anchor", 5).unwrap().is_empty());
        (kept, removed)
    };
    let lib = open(dir.path());
    let sync = lib.opened_sync();
    assert_eq!((sync.reindexed, sync.removed, sync.recreated), (1, 1, false), "{sync:?}");
    assert_eq!(sync.to_generation, lib.store().generation().unwrap());
    assert_eq!(lib.search("anchor", 5).unwrap().len(), 1);
    assert!(lib.search("coral", 5).unwrap().is_empty());
    assert_eq!(lib.passage_count(removed).unwrap(), 0);
    assert_eq!(lib.passage_count(kept).unwrap(), 1);
    // In step now: opening again changes nothing.
    drop(lib);
    let lib = open(dir.path());
    assert_eq!(lib.opened_sync().reindexed + lib.opened_sync().removed, 0);
}

#[test]
fn a_damaged_index_is_recreated_and_a_rebuild_restores_everything() {
    let dir = tempfile::tempdir().unwrap();
    {
        let lib = open(dir.path());
        lib.store().store_document(&new_doc("k1"), &pages(&["alpha reef", "pearl keeper"])).unwrap();
        lib.sync_index().unwrap();
        let rebuilt = lib.rebuild_index().unwrap();
        assert_eq!(rebuilt.reindexed, 1);
        assert_eq!(lib.search("pearl", 5).unwrap().len(), 1);
    }
    std::fs::write(dir.path().join("index/meta.json"), b"{ not json").unwrap();
    let lib = open(dir.path());
    assert!(lib.opened_sync().recreated);
    assert_eq!(lib.opened_sync().reindexed, 1);
    assert_eq!(lib.search("pearl", 5).unwrap().len(), 1);
}

#[test]
fn passages_for_a_question_are_filtered_by_document_and_page() {
    let dir = tempfile::tempdir().unwrap();
    let lib = open(dir.path());
    let texts = [
        "The keeper lit the lantern at dusk.",
        "Storms came in from the west.",
        "The keeper's lantern was green, he said, and the lantern never failed.",
    ];
    let a = lib.store().store_document(&new_doc("p1"), &pages(&texts)).unwrap();
    let b = lib.store().store_document(&new_doc("p2"), &pages(&["A lantern shop sold lanterns."])).unwrap();
    lib.sync_index().unwrap();
    // A question in plain words: punctuation and operators are not query syntax.
    let question = "What colour was the keeper's lantern? (AND -)";
    let all = lib.passages(question, &Default::default(), 10, usize::MAX).unwrap();
    assert!(all.iter().any(|p| p.doc == a) && all.iter().any(|p| p.doc == b), "{all:?}");
    let in_a = |max_page_index| seahorse_library::PassageFilter { doc: Some(a), max_page_index };
    let found = lib.passages(question, &in_a(None), 10, usize::MAX).unwrap();
    assert!(found.iter().all(|p| p.doc == a));
    assert_eq!(found[0].page_index, 2, "{found:?}");
    assert_eq!(found[0].page_label, "3");
    assert_eq!(found[0].text, texts[2]);
    // "As of page 2": the page with the answer is out of reach.
    let found = lib.passages(question, &in_a(Some(1)), 10, usize::MAX).unwrap();
    assert!(!found.is_empty() && found.iter().all(|p| p.page_index <= 1), "{found:?}");
    // A limit on characters cuts a long passage to its best fragment.
    let found = lib.passages("green", &in_a(None), 1, 20).unwrap();
    assert!(found[0].text.contains("green") && found[0].text.chars().count() <= 30, "{found:?}");
    assert!(lib.passages("?!", &Default::default(), 10, 100).unwrap().is_empty());
}

#[test]
fn collections_group_documents() {
    let dir = tempfile::tempdir().unwrap();
    let lib = open(dir.path());
    let store = lib.store();
    let a = store.store_document(&new_doc("c1"), &pages(&["one"])).unwrap();
    let b = store.store_document(&new_doc("c2"), &pages(&["two"])).unwrap();
    let id = store.add_to_collection("Austen", &[a, b]).unwrap();
    // Adding again is idempotent, and the collection is found by name.
    assert_eq!(store.add_to_collection("Austen", &[a]).unwrap(), id);
    assert_eq!(store.collection("Austen").unwrap().documents, 2);
    assert_eq!(store.collection("Austen").unwrap().members, vec![a, b]);
    assert_eq!(store.collection_documents(id).unwrap(), vec![a, b]);
    // A missing document changes nothing.
    let missing = seahorse_library::DocId(99);
    assert!(store.add_to_collection("Austen", &[missing]).is_err());
    assert!(store.add_to_collection("Other", &[missing]).is_err());
    assert!(matches!(store.collection("Other"), Err(seahorse_library::Error::NoCollection(_))));
    // A corpus chat limited to the collection; removing a document removes it from the
    // collection; deleting the collection deletes its chats, not its documents.
    let chat = store.create_chat(seahorse_library::ChatScope::Corpus { collection: Some(id) }, "q", 0).unwrap();
    assert_eq!(store.chat(chat).unwrap().scope, seahorse_library::ChatScope::Corpus { collection: Some(id) });
    lib.remove(b).unwrap();
    assert_eq!(store.collection_documents(id).unwrap(), vec![a]);
    assert_eq!(store.collection("Austen").unwrap().members, vec![a]);
    assert_eq!(store.remove_from_collection("Austen", &[a]).unwrap(), 1);
    store.delete_collection("Austen").unwrap();
    assert!(store.collections().unwrap().is_empty());
    assert!(store.chat(chat).is_err());
    assert_eq!(store.documents().unwrap().len(), 1);
}
