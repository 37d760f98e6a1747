//! The app's contract with its web front end and with Tauri's permission system: the
//! generated TypeScript bindings are current, and every command is declared, registered and
//! granted by exactly one permission of the main window's capability.

use std::collections::BTreeSet;
use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

#[test]
fn committed_typescript_bindings_are_current() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("bindings.ts");
    seahorse_app::export_bindings(&fresh).unwrap();
    let fresh = std::fs::read_to_string(&fresh).unwrap();
    let committed = read("../ui/src/bindings.ts");
    assert!(
        fresh == committed,
        "ui/src/bindings.ts is stale: run `cargo run -p seahorse-app --bin export-bindings` and commit it"
    );
    // Spot checks that the types are the API's, not hand-written ones.
    for needle in ["readingUpdate", "\"reading-update\"", "libraryOverview", "export type AnswerEvent"] {
        assert!(fresh.contains(needle), "{needle} missing from the bindings");
    }
}

/// Quoted snake_case names between `start` and the next `end` in `text`.
fn quoted_between(text: &str, start: &str, end: &str) -> BTreeSet<String> {
    let from = text.find(start).unwrap() + start.len();
    let to = from + text[from..].find(end).unwrap();
    text[from..to].split('"').skip(1).step_by(2).map(str::to_owned).collect()
}

#[test]
fn every_command_is_declared_registered_and_granted_once() {
    let declared = quoted_between(&read("build.rs"), "const COMMANDS: &[&str] = &[", "];");
    let lib = read("src/lib.rs");
    let from = lib.find("collect_commands![").unwrap();
    let to = from + lib[from..].find("])").unwrap();
    let registered: BTreeSet<String> = lib[from..to]
        .split("commands::")
        .skip(1)
        .map(|s| s.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap().to_owned())
        .collect();
    assert_eq!(declared, registered, "build.rs COMMANDS and collect_commands! differ");

    let capability: serde_json::Value = serde_json::from_str(&read("capabilities/main.json")).unwrap();
    let granted: BTreeSet<String> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .filter_map(|p| p.strip_prefix("allow-"))
        .map(|p| p.replace('-', "_"))
        .collect();
    assert_eq!(declared, granted, "the capability grants other commands than the app has");
    // Least privilege: nothing but events and the two dialogs besides the app's commands.
    let others: Vec<&str> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| !p.starts_with("allow-"))
        .collect();
    assert_eq!(
        others,
        ["core:event:allow-listen", "core:event:allow-unlisten", "dialog:allow-open", "dialog:allow-save"]
    );
}

#[test]
fn the_window_has_a_strict_content_security_policy() {
    let conf: serde_json::Value = serde_json::from_str(&read("../tauri.conf.json")).unwrap();
    let csp = &conf["app"]["security"]["csp"];
    assert_eq!(csp["default-src"], "'self'");
    // The app's own scripts only (pdf.js compiles its wasm image decoders): no inline, no
    // remote, no eval.
    assert_eq!(csp["script-src"], "'self' 'wasm-unsafe-eval'");
    assert_eq!(csp["object-src"], "'none'");
    let connect = csp["connect-src"].as_str().unwrap();
    assert!(
        !connect.contains("http://") || connect.split(' ').all(|s| s.ends_with(".localhost") || !s.starts_with("http"))
    );
    assert!(!connect.contains("https:") && !connect.contains('*'), "no remote connections: {connect}");
    assert_eq!(conf["app"]["withGlobalTauri"], false);
}
