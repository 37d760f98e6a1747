//! The commands with `--json`, their messages and exit codes.

use crate::common::{book, json, run, READING};

#[test]
fn add_list_show_search_jobs_remove() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("lib");
    let books = dir.path().join("books");
    std::fs::create_dir_all(books.join("deeper")).unwrap();
    book(&books.join("deeper"), "tides.md", 2);
    std::fs::write(books.join("broken.pdf"), b"%PDF-1.4\n%%EOF garbage").unwrap();

    // A directory, recursively; one hostile file fails alone, so the exit code is 2.
    let mut add = vec!["add", "--json", books.to_str().unwrap()];
    add.extend_from_slice(READING);
    let out = run(&home, &add);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["summary"]["done"], 1);
    assert_eq!(v["summary"]["failed"], 1);
    assert_eq!(v["fingerprint"]["window"], 64);
    let jobs = v["jobs"].as_array().unwrap();
    let failed = jobs.iter().find(|j| j["state"] == "failed").unwrap();
    assert!(failed["error"].as_str().unwrap().contains("broken.pdf"), "{failed}");

    let list = json(&run(&home, &["list", "--json"]));
    let docs = list.as_array().unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["memory"], "read");
    let id = docs[0]["document"]["id"].as_i64().unwrap().to_string();
    assert_eq!(docs[0]["document"]["page_count"], 2);

    let show = json(&run(&home, &["show", "--json", &id]));
    assert_eq!(show["pages"].as_array().unwrap().len(), 2);
    assert!(show["storage"]["state_raw_bytes"].as_u64().unwrap() > 0);
    assert_eq!(show["pages"][1]["locator"]["kind"], "section");
    // Text output names the document and its memory.
    let text = run(&home, &["show", "tides"]);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("memory:    read") && text.contains("pages:"), "{text}");

    let hits = json(&run(&home, &["search", "--json", "seahorse lantern"]));
    let hits = hits.as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits[0]["highlights"].as_array().is_some_and(|h| !h.is_empty()));
    assert!(hits[0]["page_label"].is_string());

    let jobs = json(&run(&home, &["jobs", "--json"]));
    assert_eq!(jobs.as_array().unwrap().len(), 2);

    // Rebuilding the index from SQLite finds the same passages again.
    let rebuilt = json(&run(&home, &["index", "rebuild", "--json"]));
    assert!(rebuilt["reindexed"].as_u64().unwrap() >= 1, "{rebuilt}");
    let again = json(&run(&home, &["search", "--json", "seahorse lantern"]));
    assert_eq!(again.as_array().unwrap().len(), hits.len());

    let removed = run(&home, &["remove", "--json", &id]);
    assert!(removed.status.success());
    assert!(json(&run(&home, &["list", "--json"])).as_array().unwrap().is_empty());
    assert!(json(&run(&home, &["search", "--json", "seahorse"])).as_array().unwrap().is_empty());

    // Errors: a clear message on stderr and exit code 2.
    let missing = run(&home, &["show", "999"]);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.starts_with("seahorse: error:") && stderr.contains("no document matches"), "{stderr}");
    let nothing = run(&home, &["add", dir.path().join("nope.pdf").to_str().unwrap()]);
    assert_eq!(nothing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("cannot find"));
}

#[test]
fn reads_with_the_shipped_block_unless_told_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("lib");
    let file = book(dir.path(), "reef.md", 2);
    let shipped = seahorse_api::crates::models::shipped_block(seahorse_api::crates::models::DEFAULT_MODEL.id).unwrap();
    let add = |flags: &[&str]| {
        let mut args =
            vec!["add", "--json", file.to_str().unwrap(), "--window", "64", "--sinks", "4", "--threads", "2"];
        args.extend_from_slice(flags);
        let out = run(&home, &args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        json(&out)["fingerprint"]["block_sha256"].as_str().unwrap().to_owned()
    };
    // Default: the block shipped for the default model.
    assert_eq!(add(&[]), shipped.sha256.trim());
    // --no-block is remembered until --default-block.
    assert_eq!(add(&["--no-block"]), "none");
    assert_eq!(add(&[]), "none");
    assert_eq!(add(&["--default-block"]), shipped.sha256.trim());
}
