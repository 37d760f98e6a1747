//! Determinism of the memory pass: a run interrupted (here: cancelled at different points,
//! some between checkpoints) and resumed ends with exactly the state bytes of an
//! uninterrupted run. The crates/cli tests do the same with SIGKILLed processes.

use std::path::Path;

use seahorse_engine::{CancelToken, MemoryOptions};
use seahorse_library::{IngestEvent, JobState, Library};

use crate::common::{gdn_block, load, markdown, memory, open, reader, write};

fn final_state(lib: &Library, reader: &seahorse_library::Reader<'_>) -> Vec<u8> {
    let doc = lib.store().documents().unwrap()[0].id;
    let state = lib.load_state(doc, reader.fingerprint(), None).unwrap();
    assert!(state.is_final);
    state.bytes
}

#[test]
fn cancelled_and_resumed_reading_ends_with_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    check_resume(dir.path(), memory(dir.path()));
}

#[test]
fn with_an_ahn_block_the_resumed_state_is_the_same_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut mem = memory(dir.path());
    mem.block = Some(gdn_block(dir.path()));
    check_resume(dir.path(), mem);
}

fn check_resume(dir: &Path, mem: MemoryOptions) {
    let model = load(&mem);
    let reader = reader(&model, &mem);
    let file = write(dir, "book.md", markdown(3, 5));

    let whole = open(&dir.join("whole"));
    whole.enqueue_paths(std::slice::from_ref(&file), 0).unwrap();
    assert_eq!(whole.run_jobs(&reader, &CancelToken::new(), |_| {}).unwrap().done, 1);
    let expected = final_state(&whole, &reader);
    let total = whole.store().documents().unwrap()[0].token_count.unwrap();

    // Stop after 1, then 3 more, then 2 more chunks, off the checkpoint budget's rhythm: each
    // cancel persists the last chunk boundary, and the next run continues from there.
    let parts = open(&dir.join("parts"));
    parts.enqueue_paths(&[file], 0).unwrap();
    let mut stops = 0;
    for chunks in [1usize, 3, 2] {
        let cancel = CancelToken::new();
        let mut seen = 0;
        let summary = parts
            .run_jobs(&reader, &cancel, |e| {
                if let IngestEvent::Reading(p) = e {
                    if p.tokens_done > 0 && p.tokens_done < total {
                        seen += 1;
                    }
                    if seen >= chunks {
                        cancel.cancel();
                    }
                }
            })
            .unwrap();
        if summary.cancelled {
            stops += 1;
            // Nothing read was lost: the newest state is the last chunk boundary reached.
            let job = &parts.store().jobs().unwrap()[0];
            let states = parts.store().states(job.doc.unwrap()).unwrap();
            assert_eq!(states.iter().map(|s| s.position).max(), Some(job.tokens_done));
            assert_eq!(parts.store().jobs().unwrap()[0].state, JobState::Cancelled);
            parts.store().requeue_unfinished().unwrap();
        }
    }
    assert!(stops >= 2, "the document was too short to stop it twice");
    parts.run_jobs(&reader, &CancelToken::new(), |_| {}).unwrap();
    assert_eq!(parts.store().jobs().unwrap()[0].state, JobState::Done);
    let got = final_state(&parts, &reader);
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "the resumed run's final state differs from the uninterrupted run's");
    if mem.block.is_some() {
        assert_ne!(reader.fingerprint().block_sha256, "none");
        // The AHN's recurrent state (24 layers × 14 heads × 64 × 64 f32, 5.5 MiB) is in it,
        // next to the window's K/V (under 1 MiB at W = 64).
        assert!(got.len() > 5 << 20, "{} bytes: no AHN state?", got.len());
    }
}
