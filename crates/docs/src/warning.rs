//! Warnings: what a partial or degraded extraction lost or guessed.

use std::fmt;

use crate::model::Format;

/// Something that went wrong without failing the whole document.
///
/// Partial success is not an error: one bad page must not fail a 600-page import. The caller
/// shows these to the person (their `Display` is a lowercase sentence fragment) and may
/// store them next to the document.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// The extension says one format, the content another; the content won.
    ExtensionMismatch {
        /// The extension, lowercase, without the dot.
        extension: String,
        /// The format the content was read as.
        detected: Format,
    },
    /// Text was not UTF-8 and was decoded as this encoding instead.
    Encoding {
        /// `"UTF-16LE"`, `"UTF-16BE"`, `"windows-1252"`, or
        /// `"UTF-8 mixed with windows-1252"` (decided line by line).
        encoding: &'static str,
    },
    /// Some PDF pages are images without a text layer (a partly scanned document).
    ImageOnlyPages {
        /// Their 0-based page indices.
        page_indices: Vec<u32>,
    },
    /// One page or chapter could not be read; it is kept, empty, so locators stay true.
    PageFailed {
        /// The 0-based page index (PDF) or spine index (EPUB).
        page_index: u32,
        /// Why, as the parser said (a contained panic's message included).
        detail: String,
    },
    /// The main PDF text extractor failed on a page; a simpler one read it instead, so its
    /// spacing and line breaks may be off.
    PageFallback {
        /// The 0-based page index.
        page_index: u32,
        /// Why the main extractor failed.
        detail: String,
    },
    /// A page's text looks undecodable (mostly control or private-use characters): usually a
    /// font without a Unicode map. The text is kept as extracted.
    UndecodableText {
        /// The 0-based page index.
        page_index: u32,
    },
    /// The file was damaged and has been repaired; some content may be missing.
    Repaired {
        /// What was repaired.
        detail: String,
    },
    /// The PDF is encrypted, but with an empty user password (copy/print restrictions only),
    /// so it was opened.
    EncryptedWithoutPassword,
    /// The EPUB has no usable spine; its XHTML files were read in manifest order.
    SpineMissing,
    /// An EPUB chapter or other part could not be read and was left out.
    PartSkipped {
        /// Its path inside the archive.
        href: String,
        /// Why.
        detail: String,
    },
    /// An EPUB `page-list` entry points at an anchor that is not in the chapter.
    PageTargetMissing {
        /// The print page label.
        label: String,
        /// The target, `chapter.xhtml#id`.
        target: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ExtensionMismatch { extension, detected } => {
                write!(f, "the extension is .{extension} but the content is {detected}; read as {detected}")
            }
            Self::Encoding { encoding } => {
                write!(f, "the text is not UTF-8; decoded as {encoding}")
            }
            Self::ImageOnlyPages { page_indices } => {
                let shown: Vec<String> = page_indices.iter().take(10).map(|i| (i + 1).to_string()).collect();
                let more = if page_indices.len() > 10 { ", …" } else { "" };
                write!(
                    f,
                    "{} page(s) are scanned images without text (pages {}{more}); they stay empty",
                    page_indices.len(),
                    shown.join(", ")
                )
            }
            Self::PageFailed { page_index, detail } => {
                write!(f, "page {} could not be read ({detail}); it stays empty", page_index + 1)
            }
            Self::PageFallback { page_index, detail } => write!(
                f,
                "page {} was read with a simpler extractor ({detail}); its spacing may be off",
                page_index + 1
            ),
            Self::UndecodableText { page_index } => {
                write!(f, "the text of page {} looks undecodable (a font without a Unicode map?)", page_index + 1)
            }
            Self::Repaired { detail } => {
                write!(f, "the file is damaged and was repaired: {detail}")
            }
            Self::EncryptedWithoutPassword => {
                write!(f, "the PDF is encrypted without a user password; opened anyway")
            }
            Self::SpineMissing => {
                write!(f, "the EPUB has no reading order (spine); chapters follow the manifest")
            }
            Self::PartSkipped { href, detail } => write!(f, "{href} was left out: {detail}"),
            Self::PageTargetMissing { label, target } => {
                write!(f, "print page {label} points at {target}, which does not exist")
            }
        }
    }
}
