//! How memory states are kept on disk: the compact format (the final state whole, "as of
//! page N" checkpoints as the AHN state alone, within a byte budget), the format before it
//! (every checkpoint whole), and "as of page N" memories restored from either.

use std::path::Path;

use seahorse_engine::{CancelToken, Logits, MemoryOptions, Model};
use seahorse_library::{
    AsOfFrom, AsOfMethod, CheckpointFormat, DocId, Library, ReadOptions, Reader, StateInfo, StateKind,
    AS_OF_REREAD_TOKENS,
};

use crate::common::{gdn_block, load, markdown, memory, open, read_options, write};

/// About 2,000 tokens: long enough that late pages lie beyond S + [`AS_OF_REREAD_TOKENS`].
const SECTIONS: usize = 16;

fn with_block(dir: &Path) -> MemoryOptions {
    MemoryOptions { block: Some(gdn_block(dir)), ..memory(dir) }
}

fn read(dir: &Path, name: &str, reader: &Reader<'_>) -> (Library, DocId) {
    let lib = open(&dir.join(name));
    let file = write(dir, "book.md", markdown(SECTIONS, 3));
    lib.enqueue_paths(&[file], 0).unwrap();
    let summary = lib.run_jobs(reader, &CancelToken::new(), |_| {}).unwrap();
    assert_eq!(summary.done, 1, "{summary:?}");
    let doc = lib.store().documents().unwrap()[0].id;
    (lib, doc)
}

fn of_kind(states: &[StateInfo], kind: StateKind) -> Vec<&StateInfo> {
    states.iter().filter(|s| s.kind == kind).collect()
}

#[test]
fn compact_checkpoints_keep_the_ahn_state_alone_spread_and_within_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let mem = with_block(dir.path());
    let model = load(&mem);
    let roomy = ReadOptions { state_budget_bytes: u64::MAX, ..read_options() };
    let reader = Reader::new(&model, &mem, roomy).unwrap();
    let (lib, doc) = read(dir.path(), "lib", &reader);
    let states = lib.store().states(doc).unwrap();
    // Whole: only the final state (the resume points went once they had an AHN twin).
    let full = of_kind(&states, StateKind::Full);
    assert_eq!(full.len(), 1, "{states:#?}");
    assert!(full[0].is_final);
    let memories = of_kind(&states, StateKind::Memory);
    assert_eq!(memories.len(), read_options().checkpoints_kept, "{states:#?}");
    assert!(memories.iter().all(|m| !m.is_final && m.raw_bytes < full[0].raw_bytes));
    // Thinned evenly: no gap between neighbours is more than three times another.
    let mut gaps: Vec<u64> = memories.windows(2).map(|w| w[1].position - w[0].position).collect();
    gaps.sort();
    assert!(gaps[gaps.len() - 1] <= 3 * gaps[0], "gaps {gaps:?}");

    // The same book with a budget that holds the final state and two checkpoints.
    let largest = memories.iter().map(|m| m.stored_bytes).max().unwrap();
    let budget = full[0].stored_bytes + 2 * largest + largest / 2;
    let tight = ReadOptions { state_budget_bytes: budget, ..read_options() };
    let reader2 = Reader::new(&model, &mem, tight).unwrap();
    let (lib2, doc2) = read(dir.path(), "lib-tight", &reader2);
    let states2 = lib2.store().states(doc2).unwrap();
    assert_eq!(of_kind(&states2, StateKind::Memory).len(), 2, "{states2:#?}");
    assert!(states2.iter().map(|s| s.stored_bytes).sum::<u64>() <= budget);
    // The final state is the same bytes whatever the budget.
    let a = lib.load_state(doc, reader.fingerprint(), None).unwrap();
    let b = lib2.load_state(doc2, reader2.fingerprint(), None).unwrap();
    assert_eq!(a.bytes, b.bytes);

    // On disk too: the pages of the states deleted on the way (a whole state at every
    // checkpoint, the AHN states thinned out) went back to the file system, so the closed
    // library's file is the states it keeps and little more (the pages' text, the tables).
    assert!(lib2.store().free_bytes().unwrap() < 64 * 1024, "{} bytes free", lib2.store().free_bytes().unwrap());
    let path = lib2.store().path().to_owned();
    let kept: u64 = states2.iter().map(|s| s.stored_bytes).sum();
    drop(lib2);
    let on_disk = std::fs::metadata(&path).unwrap().len();
    let wal = std::fs::metadata(path.with_extension("sqlite3-wal")).map_or(0, |m| m.len());
    assert_eq!(wal, 0, "the WAL is checkpointed and removed when the library closes");
    assert!(on_disk <= kept + 512 * 1024, "{on_disk} bytes on disk for {kept} bytes of states");
}

#[test]
fn as_of_page_memories_reach_the_end_of_the_page_from_either_format() {
    let dir = tempfile::tempdir().unwrap();
    let mem = with_block(dir.path());
    let model = load(&mem);
    let compact = Reader::new(&model, &mem, read_options()).unwrap();
    let (lib, doc) = read(dir.path(), "compact", &compact);
    let whole_states = ReadOptions { checkpoint_format: CheckpointFormat::FullStates, ..read_options() };
    let old = Reader::new(&model, &mem, whole_states).unwrap();
    let (old_lib, old_doc) = read(dir.path(), "whole", &old);
    let old_states = old_lib.store().states(old_doc).unwrap();
    assert!(old_states.iter().all(|s| s.kind == StateKind::Full), "{old_states:#?}");
    assert_eq!(old_states.len(), read_options().checkpoints_kept + 1);

    let pages = lib.store().pages(doc).unwrap();
    let rebuild_cost = 4 + AS_OF_REREAD_TOKENS;
    let question = model.tokenize("\nWhat is this chapter about?");
    let cancel = CancelToken::new();
    let mut rebuilt_pages = 0;
    for page in &pages {
        let end = page.token_end.unwrap();
        let mut progress = Vec::new();
        let mut as_of = lib
            .restore_as_of_page(&compact, doc, page.index, AsOfFrom::Nearest, &cancel, |d, t| progress.push((d, t)))
            .unwrap();
        assert_eq!(as_of.position, end, "page {}", page.index);
        assert_eq!(as_of.session.position(0) as u64, end);
        if end <= rebuild_cost {
            // Near the start everything is read again, exactly.
            assert_eq!((as_of.method, as_of.tokens_read, as_of.checkpoint), (AsOfMethod::Exact, end, None));
        } else if as_of.method == AsOfMethod::Rebuilt {
            rebuilt_pages += 1;
            let c = as_of.checkpoint.expect("a checkpoint before a late page");
            assert_eq!(c.kind, StateKind::Memory);
            assert!(c.position <= end);
            // The sinks, then the last tokens before the page (fewer when the checkpoint is near).
            assert!(as_of.tokens_read <= rebuild_cost, "{} tokens re-read", as_of.tokens_read);
            assert_eq!(progress.last().map(|p| p.0 as u64), Some(as_of.tokens_read));
        } else {
            // A whole state close enough to read on from: the final one.
            let c = as_of.checkpoint.unwrap();
            assert_eq!(c.kind, StateKind::Full);
            assert!(end - c.position <= rebuild_cost);
        }
        let logits = as_of.session.evaluate(0, &question, Logits::Last, &cancel, |_| {}).unwrap();
        assert!(logits.iter().all(|x| x.is_finite()));

        // The format before: the nearest whole state, read on from exactly.
        let old_as_of =
            old_lib.restore_as_of_page(&old, old_doc, page.index, AsOfFrom::FullStates, &cancel, |_, _| {}).unwrap();
        assert_eq!((old_as_of.position, old_as_of.method), (end, AsOfMethod::Exact));
        let from = old_as_of.checkpoint.map_or(0, |c| c.position);
        assert_eq!(old_as_of.tokens_read, end - from);
    }
    assert!(rebuilt_pages >= 3, "{rebuilt_pages} pages rebuilt of {}", pages.len());

    // A library of whole states answers "as of page N" by the nearest rule too: a far
    // whole state lends its AHN state to a rebuild.
    let last = pages.last().unwrap();
    let far = old_lib.restore_as_of_page(&old, old_doc, last.index - 1, AsOfFrom::Nearest, &cancel, |_, _| {}).unwrap();
    assert_eq!(far.position, pages[last.index as usize - 1].token_end.unwrap());
    assert_eq!(far.checkpoint.map(|c| c.kind), Some(StateKind::Full));
}

/// A closed library's folder copied (the database and the index).
fn copy_library(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_library(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// What a reading kept: each state's kind, position, finality and stored size.
fn kept(lib: &Library, doc: DocId) -> Vec<(StateKind, u64, bool, u64)> {
    let mut states: Vec<_> =
        lib.store().states(doc).unwrap().iter().map(|s| (s.kind, s.position, s.is_final, s.stored_bytes)).collect();
    states.sort_by_key(|s| (s.1, s.0 == StateKind::Memory));
    states
}

#[test]
fn one_reading_of_every_checkpoint_keeps_what_each_format_would_have_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mem = with_block(dir.path());
    let model = load(&mem);
    let every = Reader::new(&model, &mem, ReadOptions { checkpoint_format: CheckpointFormat::Every, ..read_options() })
        .unwrap();
    let (lib, doc) = read(dir.path(), "every", &every);
    let all = kept(&lib, doc);
    let checkpoints = all.iter().filter(|s| s.0 == StateKind::Full && !s.2).count();
    assert!(checkpoints > 2 * read_options().checkpoints_kept, "{all:?}");
    assert_eq!(all.iter().filter(|s| s.0 == StateKind::Memory).count(), checkpoints);
    drop(lib);

    let final_bytes = all.iter().find(|s| s.2).unwrap().3;
    let memory_bytes = all.iter().filter(|s| s.0 == StateKind::Memory).map(|s| s.3).max().unwrap();
    let formats = [
        ("compact", read_options()),
        ("tight", ReadOptions { state_budget_bytes: final_bytes + 2 * memory_bytes, ..read_options() }),
        ("whole", ReadOptions { checkpoint_format: CheckpointFormat::FullStates, ..read_options() }),
    ];
    for (name, options) in formats {
        let format_reader = Reader::new(&model, &mem, options).unwrap();
        let (real, real_doc) = read(dir.path(), name, &format_reader);
        let copy = dir.path().join(format!("{name}-from-every"));
        copy_library(&dir.path().join("every"), &copy);
        let replayed = open(&copy);
        replayed.keep_states_as(doc, &format_reader).unwrap();
        let (want, got) = (kept(&real, real_doc), kept(&replayed, doc));
        assert_eq!(got, want, "{name}");
        assert!(want.len() < all.len(), "{name}: {want:?}");
        let final_of = |l: &Library, d| l.load_state(d, format_reader.fingerprint(), None).unwrap().bytes;
        assert!(final_of(&real, real_doc) == final_of(&replayed, doc), "{name}: final states differ");
    }
}

#[test]
fn as_of_page_needs_a_reading_with_these_settings() {
    let dir = tempfile::tempdir().unwrap();
    let mem = memory(dir.path());
    let model: Model = load(&mem);
    let reader = Reader::new(&model, &mem, read_options()).unwrap();
    let lib = open(&dir.path().join("lib"));
    let file = write(dir.path(), "book.md", markdown(3, 1));
    // Extracted and indexed, never read.
    let doc = lib.add_unread(&file, 0, &CancelToken::new()).unwrap();
    let err = lib.restore_as_of_page(&reader, doc, 1, AsOfFrom::Nearest, &CancelToken::new(), |_, _| {}).err();
    assert!(matches!(err, Some(seahorse_library::Error::NoState { .. })), "{err:?}");
}
