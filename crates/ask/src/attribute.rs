//! Citations for sentences the model left uncited: when a sentence of the answer ends
//! without a citation, the page given to the model that shares most of its content words is
//! cited after it (only pages the model was given, and only with enough overlap; never a
//! guess). Small models often answer correctly but forget to cite; this keeps every answer
//! traceable to its pages. Such citations are marked `attributed`.

use std::collections::HashSet;

use crate::citations::{CitablePage, Citation};
use crate::excerpt::content_words;

/// A sentence is attributed to a page only if at least this many of its content words…
const MIN_SHARED_WORDS: usize = 2;
/// … making up at least this share of them appear in the page's text.
const MIN_SHARED_SHARE: f64 = 0.5;

/// Adds citations to finished sentences of a stream that lack one.
#[derive(Debug)]
pub struct Attributor {
    sources: Vec<(CitablePage, HashSet<String>)>,
    sentence: String,
    ended: bool,
    /// Citations added, in order.
    pub citations: Vec<Citation>,
}

impl Attributor {
    /// An attributor over the text the model was given for each page.
    pub fn new(sources: Vec<(CitablePage, String)>) -> Self {
        Self {
            sources: sources
                .into_iter()
                .map(|(page, text)| (page, content_words(&text).into_iter().collect()))
                .collect(),
            sentence: String::new(),
            ended: false,
            citations: Vec::new(),
        }
    }

    /// Feeds a piece of (already filtered) answer; returns it with citations inserted after
    /// sentences that ended in it.
    pub fn push(&mut self, piece: &str) -> String {
        let mut out = String::with_capacity(piece.len());
        for c in piece.chars() {
            if self.ended && c.is_whitespace() {
                out.push_str(&self.close());
            }
            if !c.is_whitespace() {
                self.ended = false;
            }
            self.sentence.push(c);
            out.push(c);
            if matches!(c, '.' | '!' | '?') {
                self.ended = true;
            }
        }
        out
    }

    /// Ends the stream; returns a citation for the last sentence, if it gets one.
    pub fn finish(&mut self) -> String {
        if self.sentence.trim().is_empty() {
            return String::new();
        }
        self.close()
    }

    /// The citation (with a leading space) for the sentence just ended, or nothing.
    fn close(&mut self) -> String {
        let sentence = std::mem::take(&mut self.sentence);
        self.ended = false;
        if sentence.contains("[p.") || sentence.contains(", p.") {
            return String::new();
        }
        let words = content_words(&sentence);
        if words.len() < MIN_SHARED_WORDS {
            return String::new();
        }
        let best = self
            .sources
            .iter()
            .map(|(page, set)| (page, words.iter().filter(|w| set.contains(*w)).count()))
            .max_by_key(|&(_, n)| n);
        match best {
            Some((page, n))
                if n >= MIN_SHARED_WORDS && n as f64 >= words.len() as f64 * MIN_SHARED_SHARE =>
            {
                let text = if page.source == 0 {
                    format!("[p. {}]", page.label)
                } else {
                    format!("[{}, p. {}]", page.source, page.label)
                };
                self.citations.push(Citation {
                    text: text.clone(),
                    pages: vec![page.clone()],
                    attributed: true,
                });
                format!(" {text}")
            }
            _ => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(label: &str) -> CitablePage {
        CitablePage {
            source: 0,
            doc: 1,
            page_index: 0,
            label: label.into(),
            locator: "{}".into(),
        }
    }

    #[test]
    fn cites_the_page_an_uncited_sentence_comes_from() {
        let mut a = Attributor::new(vec![
            (page("3"), "The seahorse hid the brass lantern key under the third coral arch.".into()),
            (page("9"), "Gulls nest on the cliffs of Dunmore.".into()),
        ]);
        let mut out = String::new();
        for piece in ["The seahorse hid the ", "brass key under the coral arch.", " Gulls nest", " at Dunmore [p. 9]. I like", " cheese."] {
            out.push_str(&a.push(piece));
        }
        out.push_str(&a.finish());
        assert_eq!(
            out,
            "The seahorse hid the brass key under the coral arch. [p. 3] Gulls nest at Dunmore [p. 9]. I like cheese."
        );
        assert_eq!(a.citations.len(), 1);
        assert!(a.citations[0].attributed);
        // Decimal points do not end sentences.
        let mut a = Attributor::new(vec![(page("2"), "The pearl weighs 3.5 grams on the scale.".into())]);
        let mut out = a.push("The pearl weighs 3.5 grams");
        out.push_str(&a.finish());
        assert_eq!(out, "The pearl weighs 3.5 grams [p. 2]");
    }
}
