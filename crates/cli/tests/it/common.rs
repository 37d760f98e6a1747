//! Running the binary against a library directory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use seahorse_api::crates::library::{Fingerprint, Library, LibraryConfig};

/// Reading flags that keep the tests fast: W = 64, S = 4, small chunks, frequent checkpoints.
pub const READING: &[&str] = &[
    "--window",
    "64",
    "--sinks",
    "4",
    "--no-block",
    "--chunk-tokens",
    "64",
    "--checkpoint-tokens",
    "128",
    "--checkpoints-kept",
    "4",
    "--threads",
    "2",
];

pub fn seahorse(home: &Path) -> Command {
    pin_default_model(home);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_seahorse"));
    cmd.env("SEAHORSE_HOME", home).stdin(Stdio::null());
    cmd
}

/// The tests are sized for the default (0.5B) model: a new library in `home` is set to it
/// before its first command, whatever model this machine would be given.
fn pin_default_model(home: &Path) {
    if home.join("settings.json").exists() {
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_seahorse"))
        .env("SEAHORSE_HOME", home)
        .args(["models", "use", seahorse_api::crates::models::DEFAULT_MODEL.id])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

pub fn run(home: &Path, args: &[&str]) -> Output {
    seahorse(home).args(args).output().unwrap()
}

pub fn spawn(home: &Path, args: &[&str]) -> Child {
    seahorse(home).args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()
}

pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {:?} stderr {:?}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// A Markdown book of `sections` headed sections (one page each, ~150 tokens each).
pub fn book(dir: &Path, name: &str, sections: usize) -> PathBuf {
    let words = ["kelp", "current", "ledger", "storm", "visitor", "tide", "coral", "lantern", "harbour", "shell"];
    let mut text = String::new();
    for s in 0..sections {
        text.push_str(&format!("# Part {}\n\n", s + 1));
        for k in 0..6 {
            let w: Vec<&str> = (0..12).map(|i| words[(s * 3 + k * 7 + i * 5) % words.len()]).collect();
            text.push_str(&format!("In part {} the seahorse saw {} again.\n", s + 1, w.join(" ")));
        }
        text.push('\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The final memory state of the library's only document.
pub fn final_state(home: &Path) -> Vec<u8> {
    let lib = Library::open(home, &LibraryConfig::default()).unwrap();
    let doc = lib.store().documents().unwrap()[0].id;
    let states = lib.store().states(doc).unwrap();
    let last = states.iter().find(|s| s.is_final).expect("a final state");
    let fp = Fingerprint::from_key(&last.fingerprint).unwrap();
    lib.load_state(doc, &fp, None).unwrap().bytes
}
