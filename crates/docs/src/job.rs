//! Configuration, and the per-extraction context: cancellation, progress, warnings and
//! panic containment.

use seahorse_cancel::CancelToken;
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use crate::error::{Error, Result};
use crate::model::{Format, Progress};
use crate::warning::Warning;

/// Limits and choices for extraction. `Default` gives values that suit books; set single
/// fields with `ExtractConfig { section_max_chars: 4_000, ..Default::default() }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractConfig {
    /// Files larger than this are refused before reading, in bytes. Default 1 GiB.
    pub file_max_bytes: u64,
    /// Sections of formats without pages (text, Markdown, HTML, DOCX without page breaks) are
    /// split so that none is longer than this, in characters (Unicode scalar values).
    /// Default 8,000, about three printed pages.
    pub section_max_chars: usize,
    /// A zip entry (EPUB, DOCX) may unpack to at most this many bytes. Default 64 MiB.
    pub zip_entry_max_bytes: u64,
    /// All zip entries read from one file may unpack to at most this many bytes together.
    /// Default 512 MiB.
    pub zip_total_max_bytes: u64,
    /// A zip entry larger than [`Self::zip_ratio_min_bytes`] may expand at most this many
    /// times its packed size. Real XHTML compresses 3–20:1, bombs about 1000:1. Default 250.
    pub zip_ratio_max: u64,
    /// Entries smaller than this (unpacked, in bytes) are exempt from the ratio check, since
    /// tiny files of repeated bytes compress very well without being dangerous. Default 1 MiB.
    pub zip_ratio_min_bytes: u64,
    /// A zip archive may have at most this many entries. Default 20,000.
    pub zip_entries_max: u64,
    /// A PDF page whose decompressed content streams exceed this many bytes is skipped with a
    /// warning (a decompression bomb). Default 64 MiB.
    pub pdf_page_content_max_bytes: u64,
    /// Remove running headers and footers from PDF pages. Default true.
    pub drop_running_lines: bool,
}

impl Default for ExtractConfig {
    fn default() -> Self {
        Self {
            file_max_bytes: 1 << 30,
            section_max_chars: 8_000,
            zip_entry_max_bytes: 64 << 20,
            zip_total_max_bytes: 512 << 20,
            zip_ratio_max: 250,
            zip_ratio_min_bytes: 1 << 20,
            zip_entries_max: 20_000,
            pdf_page_content_max_bytes: 64 << 20,
            drop_running_lines: true,
        }
    }
}

/// Everything one extraction carries around.
pub(crate) struct Job<'a> {
    pub path: &'a Path,
    pub config: &'a ExtractConfig,
    cancel: &'a CancelToken,
    progress: &'a mut dyn FnMut(Progress),
    pub warnings: Vec<Warning>,
}

impl<'a> Job<'a> {
    pub fn new(
        path: &'a Path,
        config: &'a ExtractConfig,
        cancel: &'a CancelToken,
        progress: &'a mut dyn FnMut(Progress),
    ) -> Self {
        Self { path, config, cancel, progress, warnings: Vec::new() }
    }

    /// Fails with [`Error::Cancelled`] once the caller has raised the flag.
    pub fn check_cancel(&self) -> Result<()> {
        // Relaxed is enough: the flag carries no data, and a page of delay is acceptable.
        if self.cancel.is_cancelled() {
            Err(Error::Cancelled { path: self.path.to_path_buf() })
        } else {
            Ok(())
        }
    }

    pub fn progress(&mut self, done: u32, total: u32) {
        (self.progress)(Progress { done, total });
    }

    pub fn warn(&mut self, warning: Warning) {
        self.warnings.push(warning);
    }

    pub fn malformed(&self, format: Format, detail: impl Into<String>) -> Error {
        Error::Malformed { path: self.path.to_path_buf(), format, detail: detail.into() }
    }
}

/// Runs `f`, turning a panic into `Err(message)`.
///
/// Third-party parsers (pdf-extract above all) `unwrap` and `panic!` on inputs they do not
/// expect. A desktop app must survive any file, so every call into them goes through here.
/// This works only with `panic = "unwind"` (the default); the panic hook still prints the
/// message to stderr, which a library must not silence, since the hook is process-global.
pub(crate) fn contain<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| panic_message(payload.as_ref()))
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic without a message".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contain_returns_the_panic_message() {
        let r: std::result::Result<(), String> = contain(|| panic!("bad xref at {}", 42));
        assert_eq!(r.unwrap_err(), "bad xref at 42");
        assert_eq!(contain(|| 7).unwrap(), 7);
    }
}
