//! HTML to text (through `html2text`), split at chosen elements; and HTML files, sectioned at
//! their `h1`–`h3` headings.
//!
//! Splitting works by planting a marker (private-use characters around a number) in the
//! source just before each chosen element, rendering, and cutting the text at the markers.
//! The renderer keeps text in document order, so each piece is exactly the text between two
//! anchors: this is how EPUB print pages and HTML sections stay true to the source.

use crate::error::Result;
use crate::job::{contain, Job};
use crate::markup::{self, Tag};
use crate::model::{Document, Format, Locator, Page};
use crate::postprocess::{self, Cleanup, Spacing};
use crate::text;
use crate::warning::Warning;

const MARK_OPEN: char = '\u{E000}';
const MARK_CLOSE: char = '\u{E001}';
/// Wide enough that the renderer never wraps a paragraph (the page text keeps one line per
/// paragraph), small enough that it allocates nothing silly.
const RENDER_WIDTH: usize = 100_000;
/// Deeper nesting than this is hostile (real books stay under 50). The renderer copes with
/// depth itself, but indents some elements per level, so output (and time) grows with
/// depth × lines; such input goes to the tag stripper instead.
const DEPTH_MAX: usize = 400;

/// A piece of rendered text and the mark that opens it (`None` for the text before the first).
#[derive(Debug)]
pub(crate) struct Segment {
    pub mark: Option<usize>,
    pub text: String,
}

/// Rendered text in pieces, and why the plain tag stripper had to stand in, if it did.
pub(crate) struct Rendered {
    pub segments: Vec<Segment>,
    pub degraded: Option<String>,
}

/// Renders `html` to text, split before every element for which `mark` returns `Some(k)`.
pub(crate) fn render_split(html: &str, mut mark: impl FnMut(&Tag) -> Option<usize>) -> Rendered {
    let html: String = html.chars().filter(|&c| c != MARK_OPEN && c != MARK_CLOSE).collect();
    let tags = markup::tags(&html);
    let depth = markup::max_depth(&tags);

    let mut marked = String::with_capacity(html.len() + 256);
    let mut copied = 0;
    for tag in &tags {
        if tag.closing {
            continue;
        }
        if let Some(k) = mark(tag) {
            marked.push_str(&html[copied..tag.start]);
            marked.push(MARK_OPEN);
            marked.push_str(&k.to_string());
            marked.push(MARK_CLOSE);
            copied = tag.start;
        }
        if tag.self_closing && !markup::is_void(&tag.name) {
            // XHTML allows `<title/>` or `<a id="p1"/>`, but an HTML parser reads them as start
            // tags, and an unclosed `<title>` swallows the rest of the chapter: write `<x></x>`.
            marked.push_str(&html[copied..tag.start]);
            marked.push_str(html[tag.start..tag.end - 2].trim_end());
            marked.push_str("></");
            marked.push_str(&tag.name);
            marked.push('>');
            copied = tag.end;
        }
    }
    marked.push_str(&html[copied..]);

    let (text, degraded) = if depth > DEPTH_MAX {
        (markup::strip_tags(&marked), Some(format!("elements nested {depth} deep")))
    } else {
        let config = html2text::config::plain_no_decorate().allow_width_overflow();
        match contain(|| config.string_from_read(marked.as_bytes(), RENDER_WIDTH)) {
            Ok(Ok(text)) => (text, None),
            Ok(Err(e)) => (markup::strip_tags(&marked), Some(format!("the HTML renderer failed: {e}"))),
            Err(panic) => (markup::strip_tags(&marked), Some(format!("the HTML renderer crashed: {panic}"))),
        }
    };
    Rendered { segments: split_at_marks(&strip_heading_marks(&text)), degraded }
}

/// Removes the `# ` the renderer puts before headings: the page text should be the book's
/// words (lists keep their `*` and numbers, which carry meaning).
fn strip_heading_marks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let hashes = line.bytes().take_while(|&b| b == b'#').count();
        if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
            out.push_str(&line[hashes + 1..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

fn split_at_marks(text: &str) -> Vec<Segment> {
    let mut segments = vec![Segment { mark: None, text: String::new() }];
    let mut rest = text;
    while let Some(open) = rest.find(MARK_OPEN) {
        let Some(segment) = segments.last_mut() else {
            break;
        };
        segment.text.push_str(&rest[..open]);
        let after = &rest[open + MARK_OPEN.len_utf8()..];
        let Some(close) = after.find(MARK_CLOSE) else {
            rest = after;
            continue;
        };
        let mark = after[..close].trim().parse().ok();
        segments.push(Segment { mark, text: String::new() });
        rest = &after[close + MARK_CLOSE.len_utf8()..];
    }
    if let Some(segment) = segments.last_mut() {
        segment.text.push_str(rest);
    }
    segments
}

/// Headings that open a section of an HTML file.
fn is_section_heading(tag: &Tag) -> bool {
    matches!(tag.name.as_str(), "h1" | "h2" | "h3")
}

/// Extracts an HTML file.
pub(crate) fn extract(job: &mut Job<'_>, bytes: &[u8]) -> Result<Document> {
    let source = text::decode(job, bytes);
    let title = markup::title(&source);
    let mut anchors: Vec<Option<String>> = Vec::new();
    let rendered = render_split(&source, |tag| {
        is_section_heading(tag).then(|| {
            anchors.push(tag.attr("id").map(str::to_string));
            anchors.len() - 1
        })
    });
    if let Some(detail) = rendered.degraded {
        job.warn(Warning::Repaired { detail: format!("{detail}; read its text without layout") });
    }

    // Long sections are split further at paragraph boundaries, keeping heading and anchor.
    let mut parts: Vec<(Option<usize>, String)> = Vec::new();
    for segment in rendered.segments {
        let lines = text::split_lines(&segment.text);
        for chunk in text::chunk_lines(&lines, 0, job.config.section_max_chars) {
            parts.push((segment.mark, chunk.text));
        }
    }
    let mut texts: Vec<String> = parts.iter().map(|(_, t)| t.clone()).collect();
    postprocess::finish(
        &mut texts,
        Cleanup { spacing: Spacing::Collapse, join_hyphens: true, drop_running_lines: false },
    );
    let mut pages = Vec::new();
    let mut section_index = 0;
    let mut previous_mark = None;
    for ((mark, _), text) in parts.into_iter().zip(texts) {
        if text.is_empty() {
            continue;
        }
        if !pages.is_empty() && mark != previous_mark {
            section_index += 1;
        }
        previous_mark = mark;
        let heading = mark.and_then(|_| {
            let first = text.lines().next()?.trim();
            (!first.is_empty()).then(|| first.to_string())
        });
        let anchor = mark.and_then(|k| anchors.get(k).cloned().flatten());
        pages.push(Page {
            index: pages.len() as u32,
            label: None,
            locator: Locator::Html { section_index, heading, anchor },
            text,
        });
    }
    job.progress(1, 1);
    Ok(Document { format: Format::Html, title, pages, warnings: Vec::new(), outline: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_marked_elements_in_document_order() {
        let html = "<html><body><p>one <span id=\"p2\"/>two</p><h2 id=\"x\">Head</h2><p>three</p></body></html>";
        let r = render_split(html, |t| match t.attr("id") {
            Some("p2") => Some(0),
            Some("x") => Some(1),
            _ => None,
        });
        let texts: Vec<(Option<usize>, String)> =
            r.segments.iter().map(|s| (s.mark, s.text.split_whitespace().collect::<Vec<_>>().join(" "))).collect();
        assert_eq!(texts[0], (None, "one".to_string()));
        assert_eq!(texts[1], (Some(0), "two".to_string()));
        assert_eq!(texts[2].0, Some(1));
        assert!(texts[2].1.contains("Head") && texts[2].1.contains("three"));
        assert!(r.degraded.is_none());
    }

    /// Just under the limit, the renderer must still fit a thread's default 2 MiB stack
    /// (tests run on such threads; so do most worker threads in an app).
    #[test]
    fn nesting_just_under_the_limit_renders_on_a_small_stack() {
        let depth = DEPTH_MAX - 5;
        let divs = format!("{}text{}", "<div><blockquote>".repeat(depth / 2), "</blockquote></div>".repeat(depth / 2));
        // Tables nest deeper than they look: the parser adds a tbody to each.
        let tables = format!("{}cell{}", "<table><tr><td>".repeat(depth / 4), "</td></tr></table>".repeat(depth / 4));
        for html in [divs, tables] {
            let r = std::thread::Builder::new()
                .stack_size(2 << 20)
                .spawn(move || render_split(&html, |_| None))
                .unwrap()
                .join()
                .unwrap();
            assert!(r.degraded.is_none());
            assert!(r.segments[0].text.contains("text") || r.segments[0].text.contains("cell"));
        }
    }

    #[test]
    fn self_closing_title_does_not_swallow_the_body() {
        let r = render_split("<html><head><title/></head><body><p>kept</p></body></html>", |_| None);
        assert!(r.segments[0].text.contains("kept"));
    }
}
