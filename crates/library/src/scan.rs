//! Which files `add` takes: files named explicitly, and files with a supported extension
//! found by walking directories.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Extensions (lowercase) picked up when walking a directory. Files named explicitly are
/// always taken: the extractor sniffs the content.
pub const SUPPORTED_EXTENSIONS: &[&str] =
    &["pdf", "epub", "txt", "text", "md", "markdown", "html", "htm", "xhtml", "docx"];

/// Expands `paths` into absolute file paths: files as given, directories walked
/// recursively (hidden entries and symlinked directories skipped), in a stable order,
/// without duplicates.
///
/// # Errors
///
/// [`Error::Io`] for a path that does not exist or a directory that cannot be read.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        let abs =
            std::path::absolute(path).map_err(|source| Error::Io { action: "find", path: path.clone(), source })?;
        let meta =
            std::fs::metadata(&abs).map_err(|source| Error::Io { action: "find", path: path.clone(), source })?;
        if meta.is_dir() {
            walk(&abs, &mut out)?;
        } else {
            out.push(abs);
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        action: "read the directory",
        path: dir.to_owned(),
        source,
    })?;
    let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        // symlink_metadata: a symlinked directory is not followed (no loops).
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            walk(&path, out)?;
        } else if supported(&path) && std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            out.push(path);
        }
    }
    Ok(())
}

fn supported(path: &Path) -> bool {
    path.extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .is_some_and(|e| SUPPORTED_EXTENSIONS.contains(&e.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_directories_for_supported_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(root.join(".hidden")).unwrap();
        for f in ["a/one.PDF", "a/b/two.md", "a/skip.png", ".hidden/three.txt", "four.epub"] {
            std::fs::write(root.join(f), b"x").unwrap();
        }
        std::fs::write(root.join("named.bin"), b"x").unwrap();
        let got = collect_files(&[root.to_owned(), root.join("named.bin"), root.join("four.epub")]).unwrap();
        let rel: Vec<_> = got.iter().map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(rel, ["a/b/two.md", "a/one.PDF", "four.epub", "named.bin"]);
        assert!(collect_files(&[root.join("missing")]).is_err());
    }
}
