//! Guarded access to zip containers (EPUB, DOCX): entry names are checked for path traversal
//! and sizes for zip bombs before anything is unpacked, and every read is capped, since a
//! hostile archive can lie about sizes in its directory.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use zip::ZipArchive;

use crate::error::{ArchiveProblem, Error, Result};
use crate::job::{contain, ExtractConfig, Job};
use crate::model::Format;

/// An opened, checked archive.
pub(crate) struct Archive<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    /// Entry name → index, and lowercase name → index for sloppy references.
    exact: HashMap<String, usize>,
    folded: HashMap<String, usize>,
    format: Format,
    limits: ExtractConfig,
    /// Bytes unpacked so far, against `zip_total_max_bytes`.
    unpacked: u64,
}

/// Why one entry could not be read.
pub(crate) enum ReadFailure {
    /// Reading must stop: the archive is hostile.
    Fatal(Error),
    /// Only this entry is lost (corrupt data, unsupported compression).
    Entry(String),
}

impl<'a> Archive<'a> {
    /// Opens `bytes` as a zip archive and checks every entry's name and declared size.
    ///
    /// # Errors
    ///
    /// [`Error::Malformed`] if it is not a readable zip, [`Error::UnsafeArchive`] if any entry
    /// name escapes the archive or any entry is a likely zip bomb.
    pub fn open(job: &Job<'_>, bytes: &'a [u8], format: Format) -> Result<Self> {
        let zip = match contain(|| ZipArchive::new(Cursor::new(bytes))) {
            Ok(Ok(zip)) => zip,
            Ok(Err(e)) => return Err(job.malformed(format, format!("not a readable zip archive: {e}"))),
            Err(panic) => return Err(job.malformed(format, format!("zip reader crashed: {panic}"))),
        };
        let limits = job.config.clone();
        let unsafe_entry = |entry: &str, problem| Error::UnsafeArchive {
            path: job.path.to_path_buf(),
            format,
            entry: entry.to_string(),
            problem,
        };
        let count = zip.len() as u64;
        if count > limits.zip_entries_max {
            let first = zip.file_names().next().unwrap_or_default().to_string();
            return Err(unsafe_entry(
                &first,
                ArchiveProblem::TooManyEntries { entries: count, limit: limits.zip_entries_max },
            ));
        }
        let mut archive = Archive { zip, exact: HashMap::new(), folded: HashMap::new(), format, limits, unpacked: 0 };
        for index in 0..archive.zip.len() {
            let (name, size, packed) = match archive.zip.by_index_raw(index) {
                Ok(entry) => (entry.name().to_string(), entry.size(), entry.compressed_size()),
                Err(e) => return Err(job.malformed(format, format!("zip entry {index} is unreadable: {e}"))),
            };
            if is_traversal(&name) {
                return Err(unsafe_entry(&name, ArchiveProblem::PathTraversal));
            }
            if let Some(problem) = archive.size_problem(size, packed) {
                return Err(unsafe_entry(&name, problem));
            }
            archive.folded.entry(name.to_lowercase()).or_insert(index);
            archive.exact.insert(name, index);
        }
        Ok(archive)
    }

    fn size_problem(&self, size: u64, packed: u64) -> Option<ArchiveProblem> {
        let limits = &self.limits;
        if size > limits.zip_entry_max_bytes {
            return Some(ArchiveProblem::TooLarge { bytes: size, limit_bytes: limits.zip_entry_max_bytes });
        }
        let ratio = size / packed.max(1);
        if size > limits.zip_ratio_min_bytes && ratio > limits.zip_ratio_max {
            return Some(ArchiveProblem::CompressionRatio { ratio, limit: limits.zip_ratio_max });
        }
        None
    }

    /// The index of an entry by its name, falling back to a case-insensitive match.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.exact.get(name).or_else(|| self.folded.get(&name.to_lowercase())).copied()
    }

    /// All entry names, in archive order.
    pub fn names(&self) -> Vec<String> {
        self.zip.file_names().map(str::to_string).collect()
    }

    /// Reads one entry, enforcing the size, ratio and total limits on the bytes actually
    /// unpacked. `Ok(None)` if there is no such entry.
    pub fn read(&mut self, job: &Job<'_>, name: &str) -> std::result::Result<Option<Vec<u8>>, ReadFailure> {
        let Some(index) = self.find(name) else {
            return Ok(None);
        };
        let cap = self.limits.zip_entry_max_bytes;
        let result = contain(|| -> std::result::Result<(Vec<u8>, u64), String> {
            let entry = self.zip.by_index(index).map_err(|e| e.to_string())?;
            let packed = entry.compressed_size();
            let mut data = Vec::new();
            entry.take(cap + 1).read_to_end(&mut data).map_err(|e| e.to_string())?;
            Ok((data, packed))
        });
        let (data, packed) = match result {
            Ok(Ok(read)) => read,
            Ok(Err(e)) => return Err(ReadFailure::Entry(e)),
            Err(panic) => return Err(ReadFailure::Entry(format!("zip reader crashed: {panic}"))),
        };
        let unsafe_entry = |problem| {
            ReadFailure::Fatal(Error::UnsafeArchive {
                path: job.path.to_path_buf(),
                format: self.format,
                entry: name.to_string(),
                problem,
            })
        };
        if let Some(problem) = self.size_problem(data.len() as u64, packed) {
            return Err(unsafe_entry(problem));
        }
        self.unpacked += data.len() as u64;
        if self.unpacked > self.limits.zip_total_max_bytes {
            return Err(unsafe_entry(ArchiveProblem::TotalTooLarge { limit_bytes: self.limits.zip_total_max_bytes }));
        }
        Ok(Some(data))
    }
}

/// True for names that are absolute or climb out with `..`; such names are how archives
/// overwrite files when unpacked ("zip slip"), and no honest EPUB or DOCX has one.
fn is_traversal(name: &str) -> bool {
    let bytes = name.as_bytes();
    name.starts_with('/')
        || name.starts_with('\\')
        || name.contains('\0')
        || (bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':')
        || name.split(['/', '\\']).any(|part| part == "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_names() {
        for bad in ["../evil.xhtml", "OEBPS/../../x", "/etc/passwd", "C:\\x", "a\\..\\..\\b"] {
            assert!(is_traversal(bad), "{bad}");
        }
        for good in ["OEBPS/ch1.xhtml", "a..b/c", "mimetype"] {
            assert!(!is_traversal(good), "{good}");
        }
    }
}
