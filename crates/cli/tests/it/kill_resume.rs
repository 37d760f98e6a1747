//! Kill-and-resume with real processes: `seahorse add` is SIGKILLed at random points of
//! its memory pass several times, `seahorse jobs resume` finishes it, and the final state
//! must equal, byte for byte, the state of an uninterrupted run. Ctrl-C (SIGINT) cancels
//! cleanly with exit code 130 and the job resumes.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use seahorse_api::crates::library::{JobState, Store, StoreConfig};

use crate::common::{book, final_state, run, spawn, READING};

/// xorshift: pseudo-random kill delays, with the seed printed for reproduction.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The tokens the only job has read, as stored (0 before it reads).
fn tokens_done(home: &Path) -> Option<(JobState, u64, u64)> {
    let db = home.join("library.sqlite3");
    if !db.exists() {
        return None;
    }
    let store = Store::open(&db, &StoreConfig::default()).ok()?;
    let job = store.jobs().ok()?.into_iter().next()?;
    Some((job.state, job.tokens_done, job.tokens_total))
}

/// The newest checkpoint of the only document (tokens read into it).
fn newest_checkpoint(home: &Path) -> Option<u64> {
    let store = Store::open(&home.join("library.sqlite3"), &StoreConfig::default()).ok()?;
    let doc = store.documents().ok()?.first()?.id;
    store.states(doc).ok()?.iter().map(|s| s.position).max()
}

/// Waits until the job has read past `after` tokens (or finished); false on timeout.
fn wait_for_progress(home: &Path, after: u64, timeout: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < timeout {
        match tokens_done(home) {
            Some((JobState::Done, ..)) => return true,
            Some((_, done, _)) if done > after => return true,
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    false
}

fn args<'a>(first: &[&'a str]) -> Vec<&'a str> {
    first.iter().copied().chain(READING.iter().copied()).collect()
}

#[test]
fn sigkilled_ingestion_resumes_to_the_same_state_bytes() {
    let dir = tempfile::tempdir().unwrap();
    // Long enough (~1,900 tokens) that several kills land before the pass ends: with a
    // 4-page book a resume could finish inside one random delay (seen in CI).
    let file = book(dir.path(), "book.md", 12);
    let file = file.to_str().unwrap();

    let whole = dir.path().join("whole");
    let out = run(&whole, &args(&["add", "--json", file]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let expected = final_state(&whole);

    let seed = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    eprintln!("kill schedule seed {seed}");
    let mut rng = Rng(seed);
    let killed = dir.path().join("killed");
    let mut kills = 0;
    let mut seen = 0;
    for round in 0..4 {
        let mut child =
            if round == 0 { spawn(&killed, &args(&["add", file])) } else { spawn(&killed, &args(&["jobs", "resume"])) };
        // Kill at a random moment after the pass has visibly moved on since the last kill:
        // sometimes right after a checkpoint, sometimes between two.
        let moved = wait_for_progress(&killed, seen, Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(rng.below(600)));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().unwrap();
        child.wait().unwrap();
        let (state, done, total) = tokens_done(&killed).unwrap();
        let checkpoint = newest_checkpoint(&killed);
        eprintln!(
            "round {round}: moved {moved}, finished {finished}, {state} at {done}/{total} tokens, \
             newest checkpoint {checkpoint:?}"
        );
        if state == JobState::Done {
            break;
        }
        kills += 1;
        seen = done;
    }
    let out = run(&killed, &args(&["jobs", "resume", "--json"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(tokens_done(&killed).unwrap().0, JobState::Done);
    assert!(kills >= 2, "only {kills} kill(s) landed before the document was read (seed {seed})");
    let got = final_state(&killed);
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "the killed-and-resumed state differs from the uninterrupted one (seed {seed})");
}

#[test]
fn ctrl_c_cancels_cleanly_and_the_job_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let file = book(dir.path(), "book.md", 4);
    let home = dir.path().join("lib");
    let mut child = spawn(&home, &args(&["add", file.to_str().unwrap()]));
    assert!(wait_for_progress(&home, 0, Duration::from_secs(120)));
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let code = child.wait().unwrap().code();
    let (state, done, total) = tokens_done(&home).unwrap();
    if state != JobState::Done {
        // Cancelled between chunks: a clean stop, resumable.
        assert_eq!(code, Some(130));
        assert_eq!(state, JobState::Cancelled);
        assert!(done < total);
        // The cancel persisted the last chunk boundary: nothing read is lost.
        assert_eq!(newest_checkpoint(&home), Some(done));
    }
    let out = run(&home, &args(&["jobs", "resume"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(tokens_done(&home).unwrap().0, JobState::Done);
}
