//! DOCX (Word 2007+): the paragraphs of `word/document.xml`, split at page breaks.
//!
//! Word has no fixed pages, but it records where it last broke pages when it saved
//! (`w:lastRenderedPageBreak`), next to explicit breaks (`w:br w:type="page"`,
//! `w:pageBreakBefore`). Where the file has rendered breaks, sections follow them and carry
//! the page number a person saw in Word; otherwise sections are size-bounded runs of
//! paragraphs.

use crate::archive::{Archive, ReadFailure};
use crate::error::Result;
use crate::job::Job;
use crate::model::{Document, Format, Locator};
use crate::postprocess::{self, Cleanup, Spacing};
use crate::text;
use crate::warning::Warning;
use crate::xml::{self, XmlEvent};

/// The body as a stream of text, paragraph ends and page breaks.
#[derive(Debug, PartialEq)]
enum Piece {
    Text(String),
    ParagraphEnd,
    PageBreak { rendered: bool },
}

/// A paragraph, or the part of one on one page.
struct Block {
    paragraph: u32,
    /// 1-based page number, counted from the breaks.
    page: u32,
    text: String,
}

/// Extracts a DOCX.
pub(crate) fn extract(job: &mut Job<'_>, bytes: &[u8]) -> Result<Document> {
    let mut archive = Archive::open(job, bytes, Format::Docx)?;
    let body = match archive.read(job, "word/document.xml") {
        Ok(Some(data)) => text::decode_bytes(&data).0,
        Ok(None) => return Err(job.malformed(Format::Docx, "it has no word/document.xml")),
        Err(ReadFailure::Entry(e)) => {
            return Err(job.malformed(Format::Docx, format!("word/document.xml cannot be unpacked: {e}")))
        }
        Err(ReadFailure::Fatal(e)) => return Err(e),
    };
    let title = match archive.read(job, "docProps/core.xml") {
        Ok(Some(data)) => core_title(&text::decode_bytes(&data).0),
        Err(ReadFailure::Fatal(e)) => return Err(e),
        _ => None,
    };
    let (pieces, error) = pieces(&body);
    if let Some(error) = error {
        job.warn(Warning::Repaired {
            detail: format!("word/document.xml is broken ({error}); kept the text before it"),
        });
    }
    let rendered = pieces.contains(&Piece::PageBreak { rendered: true });
    let blocks = blocks(pieces);

    // Sections: one per page where Word's pagination is known, split further by size.
    let max = job.config.section_max_chars.max(100);
    let mut sections: Vec<(u32, u32, u32, String)> = Vec::new(); // page, first, last, text
    for block in blocks {
        let chars = block.text.chars().count();
        if let Some((page, _, last, text)) = sections.last_mut() {
            let same_page = !rendered || *page == block.page;
            if same_page && text.chars().count() + chars < max {
                text.push_str("\n\n");
                text.push_str(&block.text);
                *last = block.paragraph;
                continue;
            }
        }
        let lines = text::split_lines(&block.text);
        for chunk in text::chunk_lines(&lines, 0, max) {
            sections.push((block.page, block.paragraph, block.paragraph, chunk.text));
        }
    }
    let pages = postprocess::into_pages(
        sections,
        |s| &s.3,
        Cleanup { spacing: Spacing::Collapse, join_hyphens: true, drop_running_lines: false },
        |(page, first, last, _)| {
            (rendered.then(|| page.to_string()), Locator::Docx { paragraph_first: first, paragraph_last: last })
        },
    );
    job.progress(1, 1);
    Ok(Document { format: Format::Docx, title, pages, warnings: Vec::new(), outline: Vec::new() })
}

/// Walks the body XML into pieces; the error, if the XML breaks off, comes with what was read.
fn pieces(body: &str) -> (Vec<Piece>, Option<String>) {
    let mut pieces = Vec::new();
    let mut in_text = false;
    // Inside <mc:Fallback>, Word repeats content of <mc:Choice> for old readers.
    let mut fallback_depth = 0u32;
    let result = xml::walk(body, |event| {
        if fallback_depth > 0 {
            match event {
                XmlEvent::Open { name: "fallback", empty: false, .. } => fallback_depth += 1,
                XmlEvent::Close { name: "fallback" } => fallback_depth -= 1,
                _ => {}
            }
            return;
        }
        match event {
            XmlEvent::Open { name: "fallback", empty: false, .. } => fallback_depth = 1,
            XmlEvent::Open { name: "t", empty, .. } => in_text = !empty,
            XmlEvent::Close { name: "t" } => in_text = false,
            XmlEvent::Text(t) if in_text => pieces.push(Piece::Text(t.to_string())),
            XmlEvent::Open { name: "tab", .. } => pieces.push(Piece::Text("\t".into())),
            XmlEvent::Open { name: "cr", .. } => pieces.push(Piece::Text("\n".into())),
            XmlEvent::Open { name: "nobreakhyphen", .. } => pieces.push(Piece::Text("-".into())),
            XmlEvent::Open { name: "softhyphen", .. } => pieces.push(Piece::Text("\u{AD}".into())),
            XmlEvent::Open { name: "br", attrs, .. } => {
                if xml::attr(attrs, "type") == Some("page") {
                    pieces.push(Piece::PageBreak { rendered: false });
                } else {
                    pieces.push(Piece::Text("\n".into()));
                }
            }
            XmlEvent::Open { name: "lastrenderedpagebreak", .. } => {
                pieces.push(Piece::PageBreak { rendered: true });
            }
            XmlEvent::Open { name: "pagebreakbefore", attrs, .. }
                if !matches!(xml::attr(attrs, "val"), Some("0" | "false" | "off")) =>
            {
                pieces.push(Piece::PageBreak { rendered: false });
            }
            XmlEvent::Close { name: "p" } => pieces.push(Piece::ParagraphEnd),
            _ => {}
        }
    });
    (pieces, result.err())
}

/// Groups pieces into paragraph blocks with page numbers. Breaks with no text between them
/// count once: Word writes both an explicit break and a rendered one for the same page.
fn blocks(pieces: Vec<Piece>) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut page = 1;
    let mut paragraph = 0;
    let mut text = String::new();
    let mut text_since_break = false;
    for piece in pieces {
        match piece {
            Piece::Text(t) => {
                text_since_break |= !t.trim().is_empty();
                text.push_str(&t);
            }
            Piece::ParagraphEnd => {
                if !text.trim().is_empty() {
                    blocks.push(Block { paragraph, page, text: std::mem::take(&mut text) });
                }
                text.clear();
                paragraph += 1;
            }
            Piece::PageBreak { .. } => {
                if !text_since_break {
                    continue;
                }
                if !text.trim().is_empty() {
                    blocks.push(Block { paragraph, page, text: std::mem::take(&mut text) });
                }
                text.clear();
                page += 1;
                text_since_break = false;
            }
        }
    }
    if !text.trim().is_empty() {
        blocks.push(Block { paragraph, page, text });
    }
    blocks
}

/// `dc:title` from `docProps/core.xml`.
fn core_title(core: &str) -> Option<String> {
    let mut in_title = false;
    let mut title = String::new();
    let _ = xml::walk(core, |event| match event {
        XmlEvent::Open { name: "title", empty: false, .. } => in_title = true,
        XmlEvent::Close { name: "title" } => in_title = false,
        XmlEvent::Text(t) if in_title => title.push_str(t),
        _ => {}
    });
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    (!title.is_empty()).then_some(title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_and_rendered_breaks_count_once() {
        let body = r#"<w:document><w:body>
            <w:p><w:r><w:t>one</w:t></w:r></w:p>
            <w:p><w:r><w:br w:type="page"/></w:r><w:r><w:lastRenderedPageBreak/><w:t>two</w:t></w:r></w:p>
            <w:p><w:r><w:t xml:space="preserve">half </w:t><w:lastRenderedPageBreak/><w:t>three</w:t></w:r></w:p>
            </w:body></w:document>"#;
        let (pieces, error) = pieces(body);
        assert!(error.is_none());
        let blocks = blocks(pieces);
        let got: Vec<(u32, u32, &str)> = blocks.iter().map(|b| (b.paragraph, b.page, b.text.as_str())).collect();
        assert_eq!(got, vec![(0, 1, "one"), (1, 2, "two"), (2, 2, "half "), (2, 3, "three")]);
    }

    #[test]
    fn fallback_content_is_not_duplicated() {
        let body = "<w:p><mc:AlternateContent><mc:Choice><w:t>box</w:t></mc:Choice><mc:Fallback><w:t>box</w:t></mc:Fallback></mc:AlternateContent></w:p>";
        let (pieces, _) = pieces(body);
        assert_eq!(pieces, vec![Piece::Text("box".into()), Piece::ParagraphEnd]);
    }
}
