//! How a question in plain words becomes a full-text query for the passages that answer
//! it: every word, matched as written and (weighted lower) by its English stem, and every
//! two neighbouring words also as a phrase, so that a passage holding "Horsell Common"
//! outranks one that holds "common" and "Horsell" apart.
//!
//! Measured on the QA benchmark (`docs/qa-eval.md`): dropping question words and function
//! words lowered recall@1 (76.5 % against 81.8 % for every word, BM25's idf already makes
//! them weigh little, and in manuals words like "when", "if" or "before" carry meaning);
//! stems at 0.3 and phrases at 0.5 raised it to 83.3 %, recall@3 from 94.7 to 97.0 % and
//! recall@6 from 98.5 to 100 %.

/// Weight of a stemmed match next to an exact one (a stemmed match is weaker evidence).
pub(crate) const STEM_WEIGHT: f32 = 0.3;
/// Weight of a phrase of two neighbouring words, on top of the words' own.
pub(crate) const PHRASE_WEIGHT: f32 = 0.5;
/// Most positions the two words of a phrase may be off in a passage (a word or two may
/// stand between them).
pub(crate) const PHRASE_SLOP: u32 = 2;

/// The words of `question`, lower-cased, in order (repeats kept: they are phrase ends).
pub(crate) fn words(question: &str) -> Vec<String> {
    question.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_everything_but_letters_and_digits() {
        assert_eq!(
            words("What fell on Horsell Common, near Woking?"),
            ["what", "fell", "on", "horsell", "common", "near", "woking"]
        );
        assert_eq!(words("set -e; 128+N"), ["set", "e", "128", "n"]);
        assert!(words("?!").is_empty());
    }
}
