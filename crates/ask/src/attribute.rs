//! Citations for sentences the model left uncited: when a sentence of the answer ends
//! without a citation, the page given to the model that shares most of its content words is
//! cited after it (only pages the model was given, and only with enough overlap; never a
//! guess). Small models often answer correctly but forget to cite; this keeps every answer
//! traceable to its pages. Such citations are marked `attributed`.

use std::collections::HashSet;

use crate::citations::{citation_text, CitablePage, Citation};
use crate::excerpt::content_words;

/// A sentence is attributed to a page only if at least this many of its content words…
const MIN_SHARED_WORDS: usize = 2;
/// … making up at least this share of them appear in the page's text.
const MIN_SHARED_SHARE: f64 = 0.5;

/// Adds citations to finished sentences of a stream that lack one.
///
/// A sentence ends at `.`, `!` or `?` followed by white space. The citation it would get is
/// held (with that white space) until the next visible character: if that opens a bracket,
/// the model is citing the sentence itself (`… arch. [p. 3]`) and nothing is added.
#[derive(Debug)]
pub struct Attributor {
    sources: Vec<(CitablePage, HashSet<String>)>,
    sentence: String,
    /// The last character ended a sentence if white space follows.
    at_terminator: bool,
    /// A sentence ended; white space held until the next visible character.
    after_end: Option<String>,
    /// The citation the ended sentence gets unless the model cites it.
    pending: Option<Citation>,
    /// Inside a bracket that follows an ended sentence (the model's own citation of it).
    in_trailing: bool,
    /// Citations added, in order.
    pub citations: Vec<Citation>,
}

impl Attributor {
    /// An attributor over the text the model was given for each page.
    pub fn new(sources: &[(CitablePage, String)]) -> Self {
        Self {
            sources: sources
                .iter()
                .map(|(page, text)| (page.clone(), content_words(text).into_iter().collect()))
                .collect(),
            sentence: String::new(),
            at_terminator: false,
            after_end: None,
            pending: None,
            in_trailing: false,
            citations: Vec::new(),
        }
    }

    /// Feeds a piece of (already filtered) answer; returns what may be shown now, with
    /// citations inserted after sentences that ended.
    pub fn push(&mut self, piece: &str) -> String {
        let mut out = String::with_capacity(piece.len() + 8);
        for c in piece.chars() {
            if self.in_trailing {
                out.push(c);
                self.in_trailing = c != ']';
                continue;
            }
            if let Some(held) = &mut self.after_end {
                if c.is_whitespace() {
                    held.push(c);
                    continue;
                }
                let held = self.after_end.take().unwrap_or_default();
                if c == '[' {
                    // The model cites the sentence that just ended.
                    self.pending = None;
                    out.push_str(&held);
                    out.push(c);
                    self.in_trailing = true;
                    continue;
                }
                out.push_str(&self.emit_pending());
                out.push_str(&held);
            }
            if self.at_terminator && c.is_whitespace() {
                self.at_terminator = false;
                let sentence = std::mem::take(&mut self.sentence);
                self.pending = self.attribute(&sentence);
                self.after_end = Some(c.to_string());
                continue;
            }
            self.at_terminator = matches!(c, '!' | '?') || (c == '.' && !after_abbreviation(&self.sentence));
            self.sentence.push(c);
            out.push(c);
        }
        out
    }

    /// Ends the stream; returns what was held, with the last sentence's citation.
    pub fn finish(&mut self) -> String {
        let mut out = String::new();
        if let Some(held) = self.after_end.take() {
            out.push_str(&self.emit_pending());
            out.push_str(&held);
        } else if !self.sentence.trim().is_empty() {
            let sentence = std::mem::take(&mut self.sentence);
            self.pending = self.attribute(&sentence);
            out.push_str(&self.emit_pending());
        }
        out
    }

    fn emit_pending(&mut self) -> String {
        match self.pending.take() {
            Some(c) => {
                let text = format!(" {}", c.text);
                self.citations.push(c);
                text
            }
            None => String::new(),
        }
    }

    /// The citation an ended sentence gets: none if it cites already or no given page
    /// shares enough of its words.
    fn attribute(&self, sentence: &str) -> Option<Citation> {
        if sentence.contains("[p.") || sentence.contains(", p.") {
            return None;
        }
        let words = content_words(sentence);
        if words.len() < MIN_SHARED_WORDS {
            return None;
        }
        let (page, n) = self
            .sources
            .iter()
            .map(|(page, set)| (page, words.iter().filter(|w| set.contains(*w)).count()))
            .max_by_key(|&(_, n)| n)?;
        if n < MIN_SHARED_WORDS || (n as f64) < words.len() as f64 * MIN_SHARED_SHARE {
            return None;
        }
        Some(Citation { text: citation_text(page.source, &page.label), pages: vec![page.clone()], attributed: true })
    }
}

/// Whether a `.` after `text` closes an initial or a common abbreviation ("P. L'Ecuyer",
/// "e.g. this", "Mr. Wells"), not a sentence.
fn after_abbreviation(text: &str) -> bool {
    let word = text.rsplit(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("");
    let single_capital = word.chars().count() == 1 && word.chars().all(char::is_uppercase);
    single_capital
        || ["e.g", "i.e", "etc", "vs", "cf", "Mr", "Mrs", "Ms", "Dr", "St", "Fig", "Vol", "Ch", "Sec"].contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(label: &str) -> CitablePage {
        CitablePage { source: 0, doc: 1, page_index: 0, label: label.into(), locator: "{}".into() }
    }

    #[test]
    fn cites_the_page_an_uncited_sentence_comes_from() {
        let mut a = Attributor::new(&[
            (page("3"), "The seahorse hid the brass lantern key under the third coral arch.".into()),
            (page("9"), "Gulls nest on the cliffs of Dunmore.".into()),
        ]);
        let mut out = String::new();
        for piece in [
            "The seahorse hid the ",
            "brass key under the coral arch.",
            " Gulls nest",
            " at Dunmore [p. 9]. I like",
            " cheese. Gulls nest at Dunmore.",
            " [p. 9]",
            "\nThe seahorse hid the key under the arch.",
        ] {
            out.push_str(&a.push(piece));
        }
        out.push_str(&a.finish());
        assert_eq!(
            out,
            "The seahorse hid the brass key under the coral arch. [p. 3] Gulls nest at Dunmore [p. 9]. \
             I like cheese. Gulls nest at Dunmore. [p. 9]\nThe seahorse hid the key under the arch. [p. 3]"
        );
        assert_eq!(a.citations.len(), 2);
        assert!(a.citations[0].attributed);
        // Decimal points do not end sentences.
        let mut a = Attributor::new(&[(page("2"), "The pearl weighs 3.5 grams on the scale.".into())]);
        let mut out = a.push("The pearl weighs 3.5 grams");
        out.push_str(&a.finish());
        assert_eq!(out, "The pearl weighs 3.5 grams [p. 2]");
        // Nor do initials and abbreviations: the citation goes after the whole sentence.
        let mut a = Attributor::new(&[(page("40"), "rand() uses the algorithm of P. L'Ecuyer and S. Cote.".into())]);
        let mut out = a.push("It uses the algorithm of P. L'Ecuyer and S. Cote, e.g. for rand(). Done");
        out.push_str(&a.finish());
        assert_eq!(out, "It uses the algorithm of P. L'Ecuyer and S. Cote, e.g. for rand(). [p. 40] Done");
    }
}
