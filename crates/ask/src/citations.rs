//! Page citations in answers: `[p. 12]`, `[p. 12, 14]`, `[pp. 3-4]`, `[page xii]`, and for
//! corpus answers `[2, p. 12]` (document 2 of the list given to the model).
//!
//! A citation is kept only if every page it names is one the model was actually given (a
//! passage placed in the window, or a page still inside the restored window); pages it
//! invents are removed, and a citation left with no valid page is dropped from the text.
//! Given the text of each page, a page is also kept only if it supports the sentence the
//! citation closes: enough of the sentence's content words are in what the model was given
//! of that page ("unsupported" citations are removed and counted too).
//! [`CitationFilter`] does this while the answer streams, so a person never sees a citation
//! that is then taken back.

use std::collections::{BTreeMap, HashSet};

use crate::excerpt::content_words;

/// A cited page supports a sentence when at least this share of the sentence's content
/// words (and at least one) occur in the text given for the page.
const MIN_SUPPORT_SHARE: f64 = 0.4;

/// A page the model was given, which answers may cite.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CitablePage {
    /// 1-based number of the document in a corpus answer; 0 for a one-document answer.
    pub source: u32,
    /// The document.
    pub doc: i64,
    /// 0-based page index.
    pub page_index: u32,
    /// The label shown to the model and the person.
    pub label: String,
    /// The page's locator (JSON, as stored).
    pub locator: String,
}

/// A validated citation as it appears in the answer.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Citation {
    /// The text shown (normalised, e.g. `[p. 12, 14]`).
    pub text: String,
    /// The pages it names, each one the model was given.
    pub pages: Vec<CitablePage>,
    /// Added by Seahorse to a sentence the model left uncited (see `attribute`), rather
    /// than written by the model.
    #[serde(default)]
    pub attributed: bool,
}

/// The pages an answer may cite, looked up by (source, label).
#[derive(Debug, Clone, Default)]
pub struct CitablePages {
    by_label: BTreeMap<(u32, String), CitablePage>,
}

impl CitablePages {
    /// Adds a page (a page already present is kept once).
    pub fn insert(&mut self, page: CitablePage) {
        let key = (page.source, normalise_label(&page.label));
        self.by_label.entry(key).or_insert(page);
    }

    /// Whether any page can be cited.
    pub fn is_empty(&self) -> bool {
        self.by_label.is_empty()
    }

    /// Every citable page, ordered by source and label.
    pub fn pages(&self) -> impl Iterator<Item = &CitablePage> {
        self.by_label.values()
    }

    fn get(&self, source: u32, label: &str) -> Option<&CitablePage> {
        self.by_label.get(&(source, normalise_label(label)))
    }
}

fn normalise_label(label: &str) -> String {
    label.trim().to_lowercase()
}

/// What became of one bracketed span of the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Not a citation (e.g. `[sic]`): kept as written.
    NotCitation,
    /// A citation whose valid pages are kept; `text` replaces the span.
    Valid(Citation),
    /// A citation naming no page the model was given: removed.
    Invalid,
}

/// Checks one bracketed span (including the brackets) against `pages`.
pub fn check(span: &str, pages: &CitablePages) -> Checked {
    let Some(inner) = span.strip_prefix('[').and_then(|s| s.strip_suffix(']')) else {
        return Checked::NotCitation;
    };
    let inner = inner.trim();
    // Corpus form: "2, p. 12" names document 2.
    let (source, rest) = match inner.split_once(',') {
        Some((n, rest)) if n.trim().parse::<u32>().is_ok() && page_prefix(rest.trim()).is_some() => {
            (n.trim().parse::<u32>().unwrap_or(0), rest.trim())
        }
        _ => (0, inner),
    };
    let Some(list) = page_prefix(rest) else {
        return Checked::NotCitation;
    };
    let mut kept = Vec::new();
    let mut shown = Vec::new();
    for item in list.split([',', ';']).flat_map(|s| s.split(" and ")).map(str::trim).filter(|s| !s.is_empty()) {
        // A range counts when both ends were given.
        let ends: Vec<&str> = item.split(['-', '–', '—']).map(str::trim).filter(|s| !s.is_empty()).collect();
        let found: Option<Vec<&CitablePage>> = ends.iter().map(|e| pages.get(source, e)).collect();
        if let Some(found) = found.filter(|f| !f.is_empty()) {
            shown.push(found.iter().map(|p| p.label.as_str()).collect::<Vec<_>>().join("–"));
            for p in found {
                if !kept.contains(p) {
                    kept.push(p.clone());
                }
            }
        }
    }
    if kept.is_empty() {
        return Checked::Invalid;
    }
    Checked::Valid(Citation { text: citation_text(source, &shown.join(", ")), pages: kept, attributed: false })
}

/// A citation as shown: `[p. 12, 14]` in a one-document answer (`source` 0), `[2, p. 12]`
/// for document 2 of a corpus answer.
pub(crate) fn citation_text(source: u32, pages: &str) -> String {
    if source == 0 {
        format!("[p. {pages}]")
    } else {
        format!("[{source}, p. {pages}]")
    }
}

/// The page list after a citation's prefix (`p.`, `pp.`, `p`, `page`, `pages`), if the span
/// is a page citation.
fn page_prefix(s: &str) -> Option<&str> {
    let lower = s.to_lowercase();
    for prefix in ["pages", "page", "pp.", "pp", "p.", "p"] {
        if lower.starts_with(prefix) {
            let rest = &s[prefix.len()..];
            // "p12" is fine, "pilot" is not a citation.
            if prefix.ends_with('.') || rest.starts_with(' ') || rest.starts_with(|c: char| c.is_ascii_digit()) {
                let rest = rest.trim();
                return (!rest.is_empty()).then_some(rest);
            }
        }
    }
    None
}

/// Filters citations out of streamed text: text outside brackets passes at once; a
/// bracketed span is held until it closes (or grows too long to be a citation) and then
/// passed, normalised or dropped.
#[derive(Debug)]
pub struct CitationFilter<'p> {
    pages: &'p CitablePages,
    /// The content words of the text given for each page, when support is checked.
    support: Option<Vec<(CitablePage, HashSet<String>)>>,
    held: String,
    /// Text shown since the last citation (the sentence a citation closes is its end).
    recent: String,
    /// Citations kept so far, in order.
    pub citations: Vec<Citation>,
    /// Citation spans removed because they name no page the model was given, as the model
    /// wrote them.
    pub dropped: Vec<String>,
    /// Citation spans removed because no page they name supports their sentence.
    pub unsupported: Vec<String>,
}

/// Longest bracketed span still considered a possible citation.
const MAX_SPAN: usize = 80;

impl<'p> CitationFilter<'p> {
    /// A filter validating against `pages`.
    pub fn new(pages: &'p CitablePages) -> Self {
        Self {
            pages,
            support: None,
            held: String::new(),
            recent: String::new(),
            citations: Vec::new(),
            dropped: Vec::new(),
            unsupported: Vec::new(),
        }
    }

    /// Also checks that a cited page supports its sentence, against the text given for each
    /// page (`sources`; a page without text there never supports).
    pub fn with_support(mut self, sources: &[(CitablePage, String)]) -> Self {
        let mut support: Vec<(CitablePage, HashSet<String>)> = Vec::new();
        for (page, text) in sources {
            match support.iter_mut().find(|(p, _)| p == page) {
                Some((_, words)) => words.extend(content_words(text)),
                None => support.push((page.clone(), content_words(text).into_iter().collect())),
            }
        }
        self.support = Some(support);
        self
    }

    /// Feeds a piece of the answer; returns the text that may be shown now.
    pub fn push(&mut self, piece: &str) -> String {
        let mut out = String::new();
        for c in piece.chars() {
            if self.held.is_empty() {
                if c == '[' {
                    self.held.push(c);
                } else {
                    self.show(&mut out, c.encode_utf8(&mut [0; 4]));
                }
                continue;
            }
            if c == '[' {
                // A new bracket opens: what was held was not a citation.
                let text = std::mem::take(&mut self.held);
                self.show(&mut out, &text);
                self.held.push(c);
                continue;
            }
            self.held.push(c);
            if c == ']' {
                let span = std::mem::take(&mut self.held);
                match self.resolve(span) {
                    Resolved::Text(text) => self.show(&mut out, &text),
                    Resolved::Citation(text) => out.push_str(&text),
                }
            } else if c == '\n' || self.held.len() > MAX_SPAN {
                let text = std::mem::take(&mut self.held);
                self.show(&mut out, &text);
            }
        }
        out
    }

    /// Shows answer text (not a citation): it is also the sentence the next citation closes.
    fn show(&mut self, out: &mut String, text: &str) {
        out.push_str(text);
        self.recent.push_str(text);
        // Only the last sentence or two matter.
        if self.recent.len() > 2_000 {
            let mut cut = self.recent.len() - 1_000;
            while !self.recent.is_char_boundary(cut) {
                cut += 1;
            }
            self.recent.drain(..cut);
        }
    }

    /// Ends the stream; returns what was still held (an unclosed bracket is plain text).
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }

    fn resolve(&mut self, span: String) -> Resolved {
        match check(&span, self.pages) {
            Checked::NotCitation => Resolved::Text(span),
            Checked::Valid(c) => {
                let Some(c) = self.supported(c) else {
                    self.unsupported.push(span);
                    return Resolved::Citation(String::new());
                };
                self.recent.clear();
                let text = c.text.clone();
                self.citations.push(c);
                Resolved::Citation(text)
            }
            Checked::Invalid => {
                self.dropped.push(span);
                Resolved::Citation(String::new())
            }
        }
    }
}

/// What a closed bracket turned out to be.
enum Resolved {
    /// Plain text, shown as it is.
    Text(String),
    /// A citation: its normalised text, or nothing when removed.
    Citation(String),
}

impl CitationFilter<'_> {
    /// `citation` with only the pages that support the sentence it closes (all of them when
    /// support is not checked or the sentence has no content words); `None` if none does.
    fn supported(&self, mut citation: Citation) -> Option<Citation> {
        let Some(support) = &self.support else { return Some(citation) };
        let words = content_words(last_sentence(&self.recent));
        if words.is_empty() {
            return Some(citation);
        }
        if let Some(best) = clearly_better_page(support, &words, &citation) {
            citation.text = citation_text(best.source, &best.label);
            citation.pages = vec![best];
            citation.attributed = true;
            return Some(citation);
        }
        let needed = ((words.len() as f64 * MIN_SUPPORT_SHARE).ceil() as usize).max(1);
        let before = citation.pages.len();
        citation.pages.retain(|page| {
            support
                .iter()
                .find(|(p, _)| p == page)
                .is_some_and(|(_, given)| words.iter().filter(|w| given.contains(*w)).count() >= needed)
        });
        if citation.pages.is_empty() {
            return None;
        }
        if citation.pages.len() < before {
            let labels: Vec<&str> = citation.pages.iter().map(|p| p.label.as_str()).collect();
            citation.text = citation_text(citation.pages[0].source, &labels.join(", "));
        }
        Some(citation)
    }
}

/// A given page that holds clearly more of a sentence's content `words` than the one page
/// `citation` names: at least [`MOVE_MIN_SHARE`] of them, and [`MOVE_MARGIN`] of them (at
/// least two) more. The model mixed up its page markers ("Stefano Zacchiroli led Debian from
/// April 2010 until April 2013. [p. 18]", where page 18 lists deaths of 2010 and 2013 and
/// page 2 holds the sentence word for word); the citation is moved to that page.
fn clearly_better_page(
    support: &[(CitablePage, HashSet<String>)],
    words: &[String],
    citation: &Citation,
) -> Option<CitablePage> {
    let [cited] = citation.pages.as_slice() else { return None };
    let held = |given: &HashSet<String>| words.iter().filter(|w| given.contains(*w)).count();
    let cited_held = support.iter().find(|(p, _)| p == cited).map_or(0, |(_, given)| held(given));
    let (best, best_held) = support.iter().map(|(p, given)| (p, held(given))).max_by_key(|(_, n)| *n)?;
    let share = (words.len() as f64 * MOVE_MIN_SHARE).ceil() as usize;
    let margin = ((words.len() as f64 * MOVE_MARGIN).ceil() as usize).max(2);
    (best != cited && best_held >= share && best_held >= cited_held + margin).then(|| best.clone())
}

/// A citation is moved to another given page only if that page holds at least this share of
/// its sentence's content words…
const MOVE_MIN_SHARE: f64 = 0.8;
/// … and this share of them more than the cited page.
const MOVE_MARGIN: f64 = 0.25;

/// The sentence a citation at the end of `text` closes: the last one that has words (a
/// citation after `… arch. ` closes "… arch.").
fn last_sentence(text: &str) -> &str {
    let trimmed = text.trim_end();
    let body = trimmed.trim_end_matches(['.', '!', '?', ':', ';', ',']);
    let start = body
        .char_indices()
        .filter(|&(i, c)| {
            matches!(c, '.' | '!' | '?' | '\n') && body[i + c.len_utf8()..].starts_with(char::is_whitespace)
        })
        .map(|(i, c)| i + c.len_utf8())
        .next_back()
        .unwrap_or(0);
    body[start..].trim()
}

/// Removes the spaces a dropped citation leaves behind (`"word  ."` → `"word."`).
pub fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' {
            match chars.peek() {
                Some(' ') => continue,
                Some('.' | ',' | ';' | ':' | '!' | '?') => continue,
                _ => {}
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages(list: &[(u32, &str)]) -> CitablePages {
        let mut p = CitablePages::default();
        for (i, &(source, label)) in list.iter().enumerate() {
            p.insert(CitablePage {
                source,
                doc: 1,
                page_index: i as u32,
                label: label.to_owned(),
                locator: "{}".into(),
            });
        }
        p
    }

    #[test]
    fn keeps_given_pages_and_drops_invented_ones() {
        let p = pages(&[(0, "12"), (0, "14"), (0, "xii")]);
        let Checked::Valid(c) = check("[p. 12]", &p) else { panic!() };
        assert_eq!(c.text, "[p. 12]");
        let Checked::Valid(c) = check("[pp. 12, 14, 99]", &p) else { panic!() };
        assert_eq!(c.text, "[p. 12, 14]");
        assert_eq!(c.pages.len(), 2);
        let Checked::Valid(c) = check("[page XII]", &p) else { panic!() };
        assert_eq!(c.pages[0].label, "xii");
        let Checked::Valid(c) = check("[p. 12-14]", &p) else { panic!() };
        assert_eq!(c.text, "[p. 12–14]");
        assert_eq!(check("[p. 13]", &p), Checked::Invalid);
        assert_eq!(check("[p. 12-13]", &p), Checked::Invalid);
        assert_eq!(check("[sic]", &p), Checked::NotCitation);
        assert_eq!(check("[pilot]", &p), Checked::NotCitation);
        assert_eq!(check("[1]", &p), Checked::NotCitation);
    }

    #[test]
    fn corpus_citations_name_their_document() {
        let p = pages(&[(1, "5"), (2, "5"), (2, "9")]);
        let Checked::Valid(c) = check("[2, p. 9]", &p) else { panic!() };
        assert_eq!(c.text, "[2, p. 9]");
        assert_eq!(c.pages[0].source, 2);
        assert_eq!(check("[1, p. 9]", &p), Checked::Invalid);
        assert_eq!(check("[3, p. 5]", &p), Checked::Invalid);
    }

    #[test]
    fn the_stream_never_shows_an_invalid_citation() {
        let p = pages(&[(0, "3")]);
        let mut f = CitationFilter::new(&p);
        let mut shown = String::new();
        for piece in ["Emma marries Mr Knight", "ley [p", ". 3] and [p.", " 77]. See [note] ", "[un", "closed"] {
            let out = f.push(piece);
            assert!(!out.contains("77"), "{out:?}");
            shown.push_str(&out);
        }
        shown.push_str(&f.finish());
        assert_eq!(shown, "Emma marries Mr Knightley [p. 3] and . See [note] [unclosed");
        assert_eq!(tidy(&shown), "Emma marries Mr Knightley [p. 3] and. See [note] [unclosed");
        assert_eq!(f.citations.len(), 1);
        assert_eq!(f.dropped, vec!["[p. 77]".to_owned()]);
    }

    #[test]
    fn citations_of_pages_that_do_not_support_their_sentence_are_removed() {
        let p = pages(&[(0, "3"), (0, "4")]);
        let page = |i: usize| p.pages().nth(i).unwrap().clone();
        let sources = vec![
            (page(0), "The Martians landed on Horsell Common near Woking.".to_owned()),
            (page(1), "Ogilvy the astronomer watched the planet from Ottershaw.".to_owned()),
        ];
        let mut f = CitationFilter::new(&p).with_support(&sources);
        let mut shown = String::new();
        for piece in [
            "They landed on Horsell Common [p. 3, 4]. ",
            "Ogilvy befriended them. [p. 3] ",
            "He watched from Ottershaw [p. 4].",
        ] {
            shown.push_str(&f.push(piece));
        }
        shown.push_str(&f.finish());
        assert_eq!(
            shown,
            "They landed on Horsell Common [p. 3]. Ogilvy befriended them.  He watched from Ottershaw [p. 4]."
        );
        assert_eq!(f.unsupported, vec!["[p. 3]".to_owned()]);
        assert_eq!(f.citations.len(), 2);
        assert_eq!(last_sentence("One. Two words here. "), "Two words here");
        assert_eq!(last_sentence("Only one"), "Only one");
    }

    #[test]
    fn a_citation_moves_to_the_page_that_holds_its_sentence() {
        let p = pages(&[(0, "2"), (0, "18")]);
        let page = |label: &str| p.pages().find(|pg| pg.label == label).unwrap().clone();
        let sources = vec![
            (page("2"), "Stefano Zacchiroli led Debian from April 2010 until April 2013.".to_owned()),
            (page("18"), "August 2010: Frans Pop died. May 2013: Ray Dassen died. Debian will miss them.".to_owned()),
        ];
        let mut f = CitationFilter::new(&p).with_support(&sources);
        let mut shown = f.push("Stefano Zacchiroli led Debian from April 2010 until April 2013. [p. 18] ");
        // Page 18 holds the words as well as page 2 does: the model's citation stays.
        shown.push_str(&f.push("Frans Pop died in August 2010. [p. 18]"));
        shown.push_str(&f.finish());
        assert_eq!(
            shown,
            "Stefano Zacchiroli led Debian from April 2010 until April 2013. [p. 2] Frans Pop died in August 2010. [p. 18]"
        );
        assert!(f.citations[0].attributed, "Seahorse chose the page");
        assert!(!f.citations[1].attributed);
    }

    #[test]
    fn long_brackets_and_newlines_pass_through() {
        let p = pages(&[(0, "1")]);
        let mut f = CitationFilter::new(&p);
        let long = format!("[{}]", "x".repeat(100));
        let mut shown = f.push(&long);
        shown.push_str(&f.push("[a\nb]"));
        shown.push_str(&f.finish());
        assert_eq!(shown, format!("{long}[a\nb]"));
    }
}
