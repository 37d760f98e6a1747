//! `seahorse ask`, `chat` and `chats` against a real library with the default model.

use std::io::Write;
use std::process::Stdio;

use crate::common::{json, run, seahorse, READING};

/// The tests' reading flags with a window that holds a question with its passages.
fn reading() -> Vec<&'static str> {
    let mut flags = READING.to_vec();
    let at = flags.iter().position(|f| *f == "--window").unwrap();
    flags[at + 1] = "256";
    flags
}

const FACT: &str = "The seahorse hid the brass lantern key under the third coral arch.";

/// A book whose facts sit far behind a 64-token window.
fn write_book(dir: &std::path::Path) -> std::path::PathBuf {
    let mut text = String::new();
    for part in 0..14 {
        text.push_str(&format!("# Part {}\n\n", part + 1));
        for line in 0..4 {
            text.push_str(&format!("In part {} the tide turned over the reef for the {} time.\n", part + 1, line + 1));
        }
        if part == 2 {
            text.push_str(&format!("\n{FACT}\n"));
        }
        text.push('\n');
    }
    let path = dir.join("reef.md");
    std::fs::write(&path, text).unwrap();
    path
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn ask_chat_chats() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("lib");
    let book = write_book(dir.path());
    let mut add = vec!["add", "--json", book.to_str().unwrap()];
    add.extend(reading());
    let out = run(&home, &add);
    assert!(out.status.success(), "{}", stderr(&out));

    // One question: streamed answer, stored as a chat with its sources.
    let question = "Where did the seahorse hide the brass lantern key?";
    let out = run(&home, &["ask", "--json", "reef", question]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    let chat = v["chat"].as_i64().unwrap();
    let answer = &v["answer"];
    assert_eq!(answer["scope"], "document");
    let text = answer["text"].as_str().unwrap().to_lowercase();
    assert!(text.contains("coral arch") || text.contains("third"), "{v}");
    let passages = answer["sources"]["passages"].as_array().unwrap();
    assert!(passages.iter().any(|p| p["page_index"] == 2), "{v}");
    assert!(answer["sources"]["state_id"].is_i64());

    // Text mode streams the answer on stdout, the rest on stderr.
    let out = run(&home, &["ask", "reef", question]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!out.stdout.is_empty());
    let err = stderr(&out);
    assert!(err.contains("memory:") && err.contains("first token after"), "{err}");

    // A follow-up in the same chat, then the chat from stdin, resumed.
    let out = run(&home, &["ask", "--json", "--chat", &chat.to_string(), "Under which arch exactly?"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut child = seahorse(&home)
        .args(["chat", "--json", "--resume", &chat.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"What was hidden there?\n\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let chats = json(&run(&home, &["chats", "--json"]));
    let chats = chats.as_array().unwrap();
    assert_eq!(chats.len(), 2, "{chats:?}"); // the JSON ask and the text ask
    let first = chats.iter().find(|c| c["id"] == chat).unwrap();
    assert_eq!(first["message_count"], 6);
    assert_eq!(first["scope"], "document");

    let out = run(&home, &["chats", "export", &chat.to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains(&format!("**Question:** {question}")), "{md}");
    assert!(md.contains("**Question:** What was hidden there?"), "{md}");
    assert_eq!(md.matches("**Answer:**").count(), 3, "{md}");

    // As of page 2: nothing from page 3 on.
    let out = run(&home, &["ask", "--json", "--as-of-page", "2", "reef", question]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    let sources = &v["answer"]["sources"];
    assert!(sources["passages"].as_array().unwrap().iter().all(|p| p["page_index"].as_u64().unwrap() <= 1));
    assert!(sources["window_pages"].as_array().unwrap().iter().all(|p| p.as_u64().unwrap() <= 1));
    assert!(!v["answer"]["text"].as_str().unwrap().to_lowercase().contains("coral arch"), "{v}");

    // The whole library.
    let out = run(&home, &["ask", "--json", "--all", question]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["answer"]["scope"], "corpus");
    assert_eq!(v["answer"]["documents"].as_array().unwrap().len(), 1);

    // A collection: `add --collection`, then asking only its documents.
    let other = dir.path().join("gulls.md");
    std::fs::write(&other, "# Gulls\n\nGulls nest on the cliffs of Dunmore.\n").unwrap();
    let mut add = vec!["add", "--json", "--collection", "birds", other.to_str().unwrap()];
    add.extend(reading());
    let out = run(&home, &add);
    assert!(out.status.success(), "{}", stderr(&out));
    let collections = json(&run(&home, &["collection", "--json"]));
    assert_eq!(collections[0]["name"], "birds");
    assert_eq!(collections[0]["documents"], 1);
    let out = run(&home, &["ask", "--json", "--collection", "birds", question]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    let consulted = v["answer"]["documents"].as_array().unwrap();
    assert!(consulted.iter().all(|d| d["document"]["title"] == "Gulls"), "{v}");
    let out = run(&home, &["collection", "add", "--json", "birds", "reef"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["documents"], 2);
    let out = run(&home, &["ask", "--json", "--collection", "birds", question]);
    let v = json(&out);
    assert_eq!(v["answer"]["documents"][0]["document"]["title"], "Part 1", "{v}");
    let out = run(&home, &["collection", "delete", "birds"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&home, &["ask", "--collection", "birds", question]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no collection named \"birds\""), "{}", stderr(&out));

    // Clear errors.
    let out = run(&home, &["ask", "nosuchbook", question]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no document matches"), "{}", stderr(&out));
    let out = run(&home, &["ask", "--as-of-page", "99", "reef", question]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no page \"99\""), "{}", stderr(&out));

    let out = run(&home, &["chats", "remove", &chat.to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&home, &["chats", "export", &chat.to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(&format!("no chat {chat}")), "{}", stderr(&out));
}
