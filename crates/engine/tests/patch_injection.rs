//! The patch-injection mechanism (ggml-patches/inject.cmake) run by real CMake on a small
//! stand-in for the llama.cpp tree: a patch that applies is compiled from the mirror, a
//! patch that does not apply and a stale patch revision both fail the configure step with
//! a clear message. (The real vendored tree is exercised by every build and by probe.rs.)

use std::path::{Path, PathBuf};
use std::process::Command;

fn patches_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ggml-patches")
}

/// A minimal project named like llama.cpp, with one library built from src/.
fn fake_llama_tree(root: &Path) {
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("CMakeLists.txt"),
        "cmake_minimum_required(VERSION 3.21)\nproject(\"llama.cpp\" C CXX)\nadd_subdirectory(src)\n",
    )
    .unwrap();
    std::fs::write(root.join("src/CMakeLists.txt"), "add_library(llama STATIC value.cpp)\n").unwrap();
    std::fs::write(root.join("src/value.cpp"), "int seahorse_value() {\n    return 1;\n}\n").unwrap();
}

const GOOD_PATCH: &str = "\
Header text: what and why.

--- a/src/value.cpp
+++ b/src/value.cpp
@@ -1,3 +1,3 @@
 int seahorse_value() {
-    return 1;
+    return 2;
 }
";

const BAD_PATCH: &str = "\
--- a/src/value.cpp
+++ b/src/value.cpp
@@ -1,3 +1,3 @@
 int seahorse_value() {
-    return 7;
+    return 2;
 }
";

/// Runs a CMake configure of the fake tree with inject.cmake and the given patches.
fn configure(patches: &[(&str, &str)], rev: Option<&str>) -> (bool, String, PathBuf, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("llama.cpp");
    fake_llama_tree(&tree);
    let pdir = tmp.path().join("ggml-patches");
    std::fs::create_dir_all(&pdir).unwrap();
    std::fs::copy(patches_dir().join("inject.cmake"), pdir.join("inject.cmake")).unwrap();
    for (name, text) in patches {
        std::fs::write(pdir.join(name), text).unwrap();
    }
    let build = tmp.path().join("build");
    let mut cmd = Command::new("cmake");
    cmd.arg("-S").arg(&tree).arg("-B").arg(&build);
    cmd.arg(format!("-DCMAKE_PROJECT_INCLUDE={}", pdir.join("inject.cmake").display()));
    if let Some(rev) = rev {
        // As in the workspace: .cargo/config.toml beside ggml-patches/ names the revision.
        std::fs::create_dir_all(tmp.path().join(".cargo")).unwrap();
        std::fs::write(tmp.path().join(".cargo/config.toml"), format!("[env]\nGGML_SEAHORSE_PATCH_REV = \"{rev}\"\n"))
            .unwrap();
    }
    let out = cmd.output().expect("cmake must be installed (see .ci/run)");
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // CMake wraps long messages; compare with single spaces.
    let log = log.split_whitespace().collect::<Vec<_>>().join(" ");
    (out.status.success(), log, build, tmp)
}

#[test]
fn applying_patch_is_compiled_from_the_mirror() {
    let (ok, log, build, _tmp) = configure(&[("0001-good.patch", GOOD_PATCH)], None);
    assert!(ok, "configure failed:\n{log}");
    let mirrored = std::fs::read_to_string(build.join("seahorse-src/src/value.cpp")).unwrap();
    assert!(mirrored.contains("return 2;"), "{mirrored}");
    let rev_inc = std::fs::read_to_string(build.join("seahorse-src/src/seahorse-patch-rev.inc")).unwrap();
    assert!(rev_inc.contains("#define SEAHORSE_PATCH_REV"), "{rev_inc}");
    // The generated build compiles the mirror, not the pristine tree.
    let out = Command::new("cmake").arg("--build").arg(&build).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let commands = std::fs::read_to_string(build.join("src/CMakeFiles/llama.dir/build.make")).unwrap();
    assert!(commands.contains("seahorse-src/src/value.cpp"), "llama not retargeted");
}

#[test]
fn non_applying_patch_fails_the_configure_step() {
    let (ok, log, _, _tmp) = configure(&[("0001-good.patch", GOOD_PATCH), ("0002-bad.patch", BAD_PATCH)], None);
    assert!(!ok, "a patch whose context does not match must fail the build:\n{log}");
    assert!(log.contains("0002-bad.patch does not apply"), "{log}");
}

#[test]
fn stale_patch_revision_fails_the_configure_step() {
    let (ok, log, _, _tmp) = configure(&[("0001-good.patch", GOOD_PATCH)], Some("0123456789abcdef"));
    assert!(!ok, "{log}");
    assert!(log.contains("Run ggml-patches/update-rev"), "{log}");
    // The revision the configure step computed is the one update-rev would write.
    let computed = log.split("ggml-patches/ changed (revision ").nth(1).unwrap()[..16].to_owned();
    let (ok, log, _, _tmp) = configure(&[("0001-good.patch", GOOD_PATCH)], Some(&computed));
    assert!(ok, "{log}");
}

#[test]
fn patch_outside_src_is_refused() {
    let header_patch = GOOD_PATCH.replace("src/value.cpp", "include/llama.h");
    let (ok, log, _, _tmp) = configure(&[("0001-header.patch", &header_patch)], None);
    assert!(!ok, "{log}");
    assert!(log.contains("only files under src/ and ggml/src/"), "{log}");
}
