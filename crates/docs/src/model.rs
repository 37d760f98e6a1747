//! The extraction result: documents, pages and locators.

use std::fmt;

use crate::warning::Warning;

/// A supported document format, detected from the content (not only the extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// PDF.
    Pdf,
    /// EPUB 2 or 3.
    Epub,
    /// Plain text, in any of the encodings [`Warning::Encoding`] names.
    Text,
    /// Markdown (recognised by its extension; its content is text).
    Markdown,
    /// HTML or XHTML.
    Html,
    /// Word 2007+ (`.docx`, Office Open XML).
    Docx,
}

impl Format {
    /// A short lowercase name, stable for storage ("pdf", "epub", "text", "markdown", "html",
    /// "docx").
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Epub => "epub",
            Self::Text => "text",
            Self::Markdown => "markdown",
            Self::Html => "html",
            Self::Docx => "docx",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Pdf => "PDF",
            Self::Epub => "EPUB",
            Self::Text => "text",
            Self::Markdown => "Markdown",
            Self::Html => "HTML",
            Self::Docx => "DOCX",
        };
        f.write_str(name)
    }
}

/// An extracted document: its pages (or sections) in reading order.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The detected format.
    pub format: Format,
    /// The title from the document's metadata, if it has one.
    pub title: Option<String>,
    /// Pages or sections in reading order; never empty. `pages[i].index == i`.
    pub pages: Vec<Page>,
    /// What was lost or guessed along the way. Empty for a clean extraction.
    pub warnings: Vec<Warning>,
    /// The chapters and sections the document lists with their pages (a PDF's outline),
    /// in document order; empty where the format has none or names sections in the
    /// locators instead (EPUB, HTML, Markdown).
    pub outline: Vec<Heading>,
}

/// One entry of a document's outline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// Nesting depth, 0 for the top level.
    pub level: u32,
    /// The title, on one line.
    pub title: String,
    /// The 0-based page where the section starts.
    pub page_index: u32,
}

/// One page (PDF) or section (every other format) of a [`Document`].
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Position in [`Document::pages`], 0-based.
    pub index: u32,
    /// The printed page label, where the document has one: the PDF's `/PageLabels` ("xiv",
    /// "A-3"), the EPUB `page-list` entry, or the page Word last rendered for a DOCX.
    /// `None` where the format has no printed pages; for a PDF without `/PageLabels` a viewer
    /// shows page index + 1 (see [`Page::display_label`]).
    pub label: Option<String>,
    /// Where the text comes from, stable across runs of the same [`crate::EXTRACTION_VERSION`].
    pub locator: Locator,
    /// The text: NFC-normalised, hyphenation repaired, running headers and footers removed.
    /// Paragraphs are separated by one blank line. May be empty for a blank PDF page.
    pub text: String,
}

impl Page {
    /// The label to show a person: the printed label if there is one, otherwise the 1-based
    /// page number for a PDF, otherwise the 1-based section number.
    pub fn display_label(&self) -> String {
        match (&self.label, &self.locator) {
            (Some(label), _) => label.clone(),
            (None, Locator::Pdf { page_index }) => (page_index + 1).to_string(),
            (None, _) => (self.index + 1).to_string(),
        }
    }
}

/// Where a [`Page`]'s text sits in the source file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Locator {
    /// A physical PDF page.
    Pdf {
        /// 0-based index in the PDF's page tree (what a viewer's "go to page" takes, minus one).
        page_index: u32,
    },
    /// A spine item of an EPUB, or the part of it that one print page (from the `page-list`)
    /// covers.
    Epub {
        /// 0-based position of the chapter in the spine.
        spine_index: u32,
        /// The chapter's path inside the archive, relative to the package document, as the
        /// manifest writes it (`text/ch03.xhtml`).
        href: String,
        /// The element id where this part starts (the page-list target), if not the chapter start.
        anchor: Option<String>,
        /// The chapter's title from the table of contents, if it is listed there.
        chapter_title: Option<String>,
    },
    /// A range of lines in a plain-text file.
    Lines {
        /// First line, 1-based, as an editor counts.
        line_first: u32,
        /// Last line, 1-based and inclusive.
        line_last: u32,
    },
    /// A section of a Markdown file, from one heading to the next.
    Section {
        /// First line, 1-based, as an editor counts.
        line_first: u32,
        /// Last line, 1-based and inclusive.
        line_last: u32,
        /// The heading text that opens the section, without the `#` marks.
        heading: Option<String>,
    },
    /// A section of an HTML file, from one `h1`–`h3` heading to the next.
    Html {
        /// 0-based section number.
        section_index: u32,
        /// The heading text that opens the section.
        heading: Option<String>,
        /// The `id` of the heading element, to link to (`file.html#anchor`).
        anchor: Option<String>,
    },
    /// A run of paragraphs of a DOCX body.
    Docx {
        /// First paragraph, 0-based, counting every paragraph of the body (table cells too).
        paragraph_first: u32,
        /// Last paragraph, 0-based and inclusive.
        paragraph_last: u32,
    },
}

/// Progress of one extraction, passed to the caller's callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Units finished so far.
    pub done: u32,
    /// Units in all. Units are the format's natural steps: PDF pages, EPUB chapters, and a
    /// single step for the other formats (they take milliseconds).
    pub total: u32,
}
