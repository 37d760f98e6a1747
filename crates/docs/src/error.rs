//! Errors returned by `seahorse-docs`.

use std::path::PathBuf;

use crate::model::Format;

/// Why a document could not be extracted at all.
///
/// Problems that lose only part of a document (one bad page, one missing chapter) are not
/// errors: they come back as [`Warning`](crate::Warning)s on a partial
/// [`Document`](crate::Document).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`ExtractConfig::file_max_bytes`](crate::ExtractConfig).
    #[error("{} is too large to extract ({bytes} bytes; the limit is {limit_bytes})", .path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        bytes: u64,
        /// The configured limit in bytes.
        limit_bytes: u64,
    },
    /// The file has no bytes at all.
    #[error("{} is empty (0 bytes)", .path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The content is not one of the supported formats.
    #[error("{} is not a supported format (its content looks like {sniffed})", .path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What the content looks like, in words ("a PNG image", "a zip archive", "binary data").
        sniffed: &'static str,
    },
    /// The PDF is encrypted and cannot be opened without a password.
    #[error(
        "{} is an encrypted PDF that needs a password; remove the password (for example by \
         printing it to a new PDF) and add it again", .path.display()
    )]
    Encrypted {
        /// The file.
        path: PathBuf,
    },
    /// The PDF has no text layer: its pages are images (a scan), and there is no OCR here.
    #[error(
        "{} is a scanned PDF: its {pages} page(s) are images without a text layer, and \
         Seahorse has no OCR; run it through OCR first (for example ocrmypdf)", .path.display()
    )]
    Scanned {
        /// The file.
        path: PathBuf,
        /// Number of pages, all of them image-only or blank.
        pages: u32,
    },
    /// The document parsed, but has no pages or sections at all.
    #[error("{} has no pages ({format})", .path.display())]
    NoPages {
        /// The file.
        path: PathBuf,
        /// The detected format.
        format: Format,
    },
    /// The document parsed, but none of its pages contains any text.
    #[error("{} contains no text{}", .path.display(), blank_pages(*.pages))]
    NoText {
        /// The file.
        path: PathBuf,
        /// Number of PDF pages found, all blank (0 for other formats, whose empty sections
        /// are not kept).
        pages: u32,
    },
    /// The file is damaged beyond what the extractor can repair.
    #[error("{} is a damaged {format} file: {detail}", .path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The detected format.
        format: Format,
        /// What is wrong, as the parser reported it.
        detail: String,
    },
    /// A zip container (EPUB, DOCX) is hostile or unsafe to unpack.
    #[error("{} is an unsafe {format} archive: entry {entry:?} {problem}", .path.display())]
    UnsafeArchive {
        /// The file.
        path: PathBuf,
        /// The detected format.
        format: Format,
        /// The entry name, as stored in the archive.
        entry: String,
        /// What is wrong with it.
        problem: ArchiveProblem,
    },
    /// A third-party parser panicked; the panic was contained.
    #[error("the {format} parser crashed on {} ({message}); the file is probably damaged", .path.display())]
    ParserPanic {
        /// The file.
        path: PathBuf,
        /// The detected format.
        format: Format,
        /// The panic message.
        message: String,
    },
    /// The caller cancelled the extraction.
    #[error("extraction of {} was cancelled", .path.display())]
    Cancelled {
        /// The file.
        path: PathBuf,
    },
}

/// What makes a zip entry unsafe (see [`Error::UnsafeArchive`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArchiveProblem {
    /// The name is absolute or climbs out of the archive with `..` (path traversal).
    PathTraversal,
    /// The entry unpacks to more bytes than allowed.
    TooLarge {
        /// Its (declared or actual) unpacked size.
        bytes: u64,
        /// The limit.
        limit_bytes: u64,
    },
    /// The entry expands far more than real documents do (a zip bomb).
    CompressionRatio {
        /// Unpacked bytes per packed byte.
        ratio: u64,
        /// The limit.
        limit: u64,
    },
    /// All entries together unpack to more bytes than allowed.
    TotalTooLarge {
        /// The limit.
        limit_bytes: u64,
    },
    /// The archive has more entries than allowed.
    TooManyEntries {
        /// How many entries it has.
        entries: u64,
        /// The limit.
        limit: u64,
    },
}

impl std::fmt::Display for ArchiveProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PathTraversal => write!(f, "has an absolute or `..` path (path traversal)"),
            Self::TooLarge { bytes, limit_bytes } => {
                write!(f, "unpacks to {bytes} bytes, over the limit of {limit_bytes} (zip bomb?)")
            }
            Self::CompressionRatio { ratio, limit } => {
                write!(f, "expands {ratio}:1, over the limit of {limit}:1 (zip bomb)")
            }
            Self::TotalTooLarge { limit_bytes } => {
                write!(f, "brings the unpacked total over the limit of {limit_bytes} bytes (zip bomb?)")
            }
            Self::TooManyEntries { entries, limit } => {
                write!(f, "is one of {entries} entries, over the limit of {limit}")
            }
        }
    }
}

fn blank_pages(pages: u32) -> String {
    if pages == 0 {
        String::new()
    } else {
        format!(" ({pages} page(s), all blank)")
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
