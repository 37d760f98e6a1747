//! Text clean-up shared by all formats: Unicode normalisation, whitespace, hyphenation
//! across line ends, and (for PDF) running headers and footers.
//!
//! Every extractor hands its raw page texts to [`finish`], so that the same text gives the
//! same result whatever the format, and so that a change here is one
//! [`EXTRACTION_VERSION`](crate::EXTRACTION_VERSION) bump.

mod hyphen;
mod running;

pub(crate) use running::to_roman;

use unicode_normalization::UnicodeNormalization;

/// How much whitespace to squeeze; formats differ in what their spacing means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spacing {
    /// Collapse runs of spaces and trim every line: spacing is layout (PDF, DOCX, HTML).
    Collapse,
    /// Keep indentation and inner spacing (code, poetry), trim only line ends (TXT, MD).
    Keep,
}

/// What [`finish`] does to a set of pages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cleanup {
    pub spacing: Spacing,
    /// Repair words hyphenated across line ends.
    pub join_hyphens: bool,
    /// Drop lines repeated at the top or bottom of most pages.
    pub drop_running_lines: bool,
}

/// Cleans the raw texts of one document's pages, in place.
/// Cleans the sections' texts together ([`finish`]), drops the sections left empty, and
/// numbers the rest as pages; `place` gives each kept section its label and locator.
pub(crate) fn into_pages<S>(
    sections: Vec<S>,
    text: impl Fn(&S) -> &str,
    cleanup: Cleanup,
    mut place: impl FnMut(S) -> (Option<String>, crate::model::Locator),
) -> Vec<crate::model::Page> {
    let mut texts: Vec<String> = sections.iter().map(|s| text(s).to_owned()).collect();
    finish(&mut texts, cleanup);
    sections
        .into_iter()
        .zip(texts)
        .filter(|(_, text)| !text.is_empty())
        .enumerate()
        .map(|(index, (section, text))| {
            let (label, locator) = place(section);
            crate::model::Page { index: index as u32, label, locator, text }
        })
        .collect()
}

pub(crate) fn finish(pages: &mut [String], cleanup: Cleanup) {
    finish_with_labels(pages, cleanup, &[]);
}

/// [`finish`] for pages with printed labels (indexed like `pages`), which make page-number
/// lines easy to recognise.
pub(crate) fn finish_with_labels(pages: &mut [String], cleanup: Cleanup, labels: &[Option<String>]) {
    let mut lines: Vec<Vec<String>> = pages.iter().map(|p| clean_lines(p, cleanup.spacing)).collect();
    if cleanup.drop_running_lines {
        running::drop_running_lines(&mut lines, labels);
    }
    if cleanup.join_hyphens {
        let vocabulary = hyphen::Vocabulary::from_pages(&lines);
        for page in &mut lines {
            hyphen::join_hyphenated(page, &vocabulary);
        }
    }
    for (page, lines) in pages.iter_mut().zip(lines) {
        *page = join_lines(&lines);
    }
}

/// Normalises one text into trimmed lines: NFC (plus the Latin ligatures, which PDFs use and
/// search must not see), newlines unified, control and zero-width characters removed, every
/// kind of space made a plain space.
pub(crate) fn clean_lines(raw: &str, spacing: Spacing) -> Vec<String> {
    let mut text = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    text.push('\n');
                }
            }
            '\n' | '\u{2028}' | '\u{2029}' | '\u{0C}' => text.push('\n'),
            '\t' | '\u{A0}' | '\u{1680}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => {
                text.push(' ')
            }
            '\u{FB00}' => text.push_str("ff"),
            '\u{FB01}' => text.push_str("fi"),
            '\u{FB02}' => text.push_str("fl"),
            '\u{FB03}' => text.push_str("ffi"),
            '\u{FB04}' => text.push_str("ffl"),
            '\u{FB05}' | '\u{FB06}' => text.push_str("st"),
            '\u{200B}' | '\u{FEFF}' | '\u{FFFE}' => {}
            c if c.is_control() => {}
            c => text.push(c),
        }
    }
    let text: String = text.nfc().collect();
    text.split('\n')
        .map(|line| match spacing {
            Spacing::Keep => line.trim_end().to_string(),
            Spacing::Collapse => collapse_spaces(line),
        })
        .collect()
}

fn collapse_spaces(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for word in line.split(' ').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Joins lines into a page text: at most one blank line in a row, none at either end, and no
/// soft hyphens left (the ones at line ends were used by hyphenation repair).
fn join_lines(lines: &[String]) -> String {
    let mut out = String::new();
    let mut blank_pending = false;
    for line in lines {
        if line.trim().is_empty() {
            blank_pending = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
            if blank_pending {
                out.push('\n');
            }
        }
        blank_pending = false;
        out.extend(line.chars().filter(|&c| c != '\u{AD}'));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pages: &[&str], cleanup: Cleanup) -> Vec<String> {
        let mut pages: Vec<String> = pages.iter().map(|s| s.to_string()).collect();
        finish(&mut pages, cleanup);
        pages
    }

    const PDF: Cleanup = Cleanup { spacing: Spacing::Collapse, join_hyphens: true, drop_running_lines: true };

    #[test]
    fn normalises_unicode_and_space() {
        // "e" + combining acute becomes one code point; the "fi" ligature is expanded.
        let out = run(&["cafe\u{301}\u{A0}\u{FB01}ne\t  end\r\n\r\n\r\n\u{200B}next\u{0}"], PDF);
        assert_eq!(out, vec!["caf\u{E9} fine end\n\nnext"]);
    }

    #[test]
    fn keeps_indentation_for_text() {
        let cleanup = Cleanup { spacing: Spacing::Keep, join_hyphens: false, drop_running_lines: false };
        assert_eq!(run(&["    code  here   \n"], cleanup), vec!["    code  here"]);
    }

    #[test]
    fn soft_hyphens_disappear() {
        assert_eq!(run(&["some\u{AD}where"], PDF), vec!["somewhere"]);
    }
}
