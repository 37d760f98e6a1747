//! Seahorse's document extraction: page-true text from PDF, EPUB, plain text, Markdown, HTML
//! and DOCX files.
//!
//! A [`Document`] is an ordered list of [`Page`]s, each with its text and a [`Locator`] that
//! says where in the file the text came from (PDF page index plus printed label, EPUB chapter
//! and anchor, line range, …), so that every later citation can name the page a person sees.
//!
//! - The format is detected from the content ([`detect_format`]), not the extension.
//! - Text is cleaned the same way for every format: Unicode NFC, whitespace, words hyphenated
//!   across line ends joined again, and (PDF) running headers and footers dropped.
//! - Hostile and damaged files give a clear [`Error`] or a partial result with
//!   [`Warning`]s, never a crash: panics inside third-party parsers are contained, zip
//!   containers are checked for bombs and path traversal, broken PDFs are repaired where
//!   their pages are still in the file.
//! - Long extractions report [`Progress`] and stop when the caller raises a cancel flag.
//!
//! What this crate does not do: OCR (scanned PDFs are detected and refused with
//! [`Error::Scanned`]), PDFs that need a password (those encrypted only against copying,
//! with an empty user password, are opened with a warning), legacy `.doc`/MOBI formats,
//! chunking for the model, or storage. It is synchronous and reads nothing but the file it
//! is given. Panic containment needs `panic = "unwind"`, Rust's default.
//!
//! ```
//! use seahorse_cancel::CancelToken;
//! use seahorse_docs::{extract_bytes, ExtractConfig, Locator};
//!
//! let text = "First line.\n\nSecond paragraph.\n";
//! let cancel = CancelToken::new();
//! let doc = extract_bytes("notes.txt".as_ref(), text.as_bytes(), &ExtractConfig::default(), &cancel, |_| {})?;
//! assert_eq!(doc.pages[0].locator, Locator::Lines { line_first: 1, line_last: 3 });
//! assert_eq!(doc.pages[0].text, "First line.\n\nSecond paragraph.");
//! # Ok::<(), seahorse_docs::Error>(())
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod archive;
mod docx;
mod epub;
mod error;
mod html;
mod job;
mod markdown;
mod markup;
mod model;
mod pdf;
mod postprocess;
mod sniff;
mod text;
mod warning;
mod xml;

use seahorse_cancel::CancelToken;
use std::path::Path;

pub use error::{ArchiveProblem, Error, Result};
pub use job::ExtractConfig;
pub use model::{Document, Format, Heading, Locator, Page, Progress};
pub use warning::Warning;

use job::{contain, Job};

/// The version of the extraction behaviour. Stores keep it next to extracted text and
/// re-extract when it changes; bump it with every change that can change any output.
pub const EXTRACTION_VERSION: u32 = 1;

/// Detects the format of `bytes` from its content; `path` only breaks ties (Markdown is text
/// with an `.md` extension).
///
/// # Errors
///
/// `Err(description)` for content no extractor reads, such as `"a PNG image"` or
/// `"binary data"`.
pub fn detect_format(path: &Path, bytes: &[u8]) -> std::result::Result<Format, &'static str> {
    sniff::detect_format(path, bytes)
}

/// Reads the file at `path` and extracts it; see [`extract_bytes`].
///
/// # Errors
///
/// [`Error::Read`] if the file cannot be read, [`Error::TooLarge`] if it is over
/// [`ExtractConfig::file_max_bytes`] (checked before reading), and every error of
/// [`extract_bytes`].
pub fn extract_file(
    path: &Path,
    config: &ExtractConfig,
    cancel: &CancelToken,
    progress: impl FnMut(Progress),
) -> Result<Document> {
    let read_error = |source| Error::Read { path: path.to_path_buf(), source };
    let bytes = std::fs::metadata(path).map_err(read_error)?.len();
    if bytes > config.file_max_bytes {
        return Err(Error::TooLarge { path: path.to_path_buf(), bytes, limit_bytes: config.file_max_bytes });
    }
    let data = std::fs::read(path).map_err(read_error)?;
    extract_bytes(path, &data, config, cancel, progress)
}

/// Extracts the document in `bytes`. `path` names it in errors and gives the extension for
/// tie-breaks; it is not read.
///
/// `progress` is called after each unit of work (see [`Progress`]); `cancel` is checked
/// between units, so raising it stops a 2,000-page PDF within a page.
///
/// # Errors
///
/// [`Error::Empty`], [`Error::TooLarge`], [`Error::Unsupported`] for content that is no
/// supported format, [`Error::Encrypted`] and [`Error::Scanned`] for PDFs that cannot be
/// read as text, [`Error::NoPages`] and [`Error::NoText`] for documents with nothing in them,
/// [`Error::Malformed`] for damage beyond repair, [`Error::UnsafeArchive`] for zip bombs and
/// path traversal, [`Error::ParserPanic`] when a parser crashed on the whole file, and
/// [`Error::Cancelled`].
pub fn extract_bytes(
    path: &Path,
    bytes: &[u8],
    config: &ExtractConfig,
    cancel: &CancelToken,
    mut progress: impl FnMut(Progress),
) -> Result<Document> {
    if bytes.len() as u64 > config.file_max_bytes {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            bytes: bytes.len() as u64,
            limit_bytes: config.file_max_bytes,
        });
    }
    if bytes.is_empty() {
        return Err(Error::Empty { path: path.to_path_buf() });
    }
    let format = sniff::detect_format(path, bytes)
        .map_err(|sniffed| Error::Unsupported { path: path.to_path_buf(), sniffed })?;
    let mut job = Job::new(path, config, cancel, &mut progress);
    if let Some(ext) = sniff::extension(path) {
        let claimed = sniff::claimed_format(&ext);
        // Markdown and HTML are text too; only a claim of another family is a mismatch.
        let same_family = |f: Format| matches!(f, Format::Text | Format::Markdown | Format::Html);
        if claimed.is_some_and(|c| c != format && !(same_family(c) && same_family(format))) {
            job.warn(Warning::ExtensionMismatch { extension: ext, detected: format });
        }
    }
    job.check_cancel()?;

    let outcome = contain(|| match format {
        Format::Pdf => pdf::extract(&mut job, bytes),
        Format::Epub => epub::extract(&mut job, bytes),
        Format::Text => text::extract(&mut job, bytes),
        Format::Markdown => markdown::extract(&mut job, bytes),
        Format::Html => html::extract(&mut job, bytes),
        Format::Docx => docx::extract(&mut job, bytes),
    });
    let mut doc = match outcome {
        Ok(result) => result?,
        Err(message) => return Err(Error::ParserPanic { path: path.to_path_buf(), format, message }),
    };
    if doc.pages.is_empty() {
        return Err(Error::NoText { path: path.to_path_buf(), pages: 0 });
    }
    let mut warnings = std::mem::take(&mut job.warnings);
    warnings.append(&mut doc.warnings);
    doc.warnings = warnings;
    for (i, page) in doc.pages.iter_mut().enumerate() {
        page.index = i as u32;
    }
    Ok(doc)
}
