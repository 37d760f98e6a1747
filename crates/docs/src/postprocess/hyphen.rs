//! Repairs words hyphenated across line ends ("inter-" / "national" → "international").
//!
//! Typesetters break words at line ends; search and the model need the whole word. The hard
//! case is a real compound broken at its own hyphen ("well-" / "known"): with no dictionary,
//! the document itself decides: if it spells the compound with a hyphen elsewhere, the hyphen
//! stays; if it spells the joined word elsewhere, or neither, the hyphen goes.

use std::collections::HashSet;

/// The words of one document, to decide hyphenation.
pub(crate) struct Vocabulary {
    /// Lowercase words without hyphens ("international").
    plain: HashSet<String>,
    /// Lowercase compounds written with a hyphen inside a line ("well-known").
    hyphenated: HashSet<String>,
}

impl Vocabulary {
    pub fn from_pages(pages: &[Vec<String>]) -> Self {
        let mut plain = HashSet::new();
        let mut hyphenated = HashSet::new();
        for line in pages.iter().flatten() {
            // A hyphen at the very end of a line is what we are deciding about; leave it out.
            let body = line.trim_end_matches(['-', '\u{AD}', '\u{2010}']);
            for token in body.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\u{2010}')) {
                let token = token.trim_matches(['-', '\u{2010}']);
                if token.is_empty() {
                    continue;
                }
                let lower = token.to_lowercase().replace('\u{2010}', "-");
                if lower.contains('-') {
                    for part in lower.split('-') {
                        plain.insert(part.to_string());
                    }
                    hyphenated.insert(lower);
                } else {
                    plain.insert(lower);
                }
            }
        }
        Self { plain, hyphenated }
    }

    /// Whether "left-" + "right" should keep its hyphen.
    fn keeps_hyphen(&self, left: &str, right: &str) -> bool {
        let joined = format!("{left}{right}").to_lowercase();
        let compound = format!("{left}-{right}").to_lowercase();
        self.hyphenated.contains(&compound) && !self.plain.contains(&joined)
    }
}

/// Joins hyphenated line ends within one page's lines, in place.
pub(crate) fn join_hyphenated(lines: &mut Vec<String>, vocabulary: &Vocabulary) {
    // Lines emptied by a join are removed afterwards; left in, they would read as paragraph
    // breaks.
    let mut emptied = vec![false; lines.len()];
    for i in 0..lines.len().saturating_sub(1) {
        let Some((stem, hyphen, left)) = split_hyphenated_end(&lines[i]) else {
            continue;
        };
        let next = lines[i + 1].trim_start();
        let right_len: usize = next.chars().take_while(|c| c.is_alphabetic()).map(char::len_utf8).sum();
        let right = &next[..right_len];
        let Some(first) = right.chars().next() else {
            continue;
        };
        // A capital or digit after the hyphen means a real compound ("anti-American") or a
        // range; a lowercase letter means a broken word, unless the document says otherwise.
        let soft = hyphen == '\u{AD}';
        let keep = !soft && (!first.is_lowercase() || vocabulary.keeps_hyphen(left, right));
        let mut joined = String::with_capacity(lines[i].len() + right.len());
        joined.push_str(stem);
        if keep {
            joined.push('-');
        }
        joined.push_str(right);
        // Trailing punctuation belongs to the word ("inter-" / "national," → "international,").
        let rest = &next[right_len..];
        let punct_len: usize =
            rest.chars().take_while(|c| !c.is_whitespace() && !c.is_alphanumeric()).map(char::len_utf8).sum();
        joined.push_str(&rest[..punct_len]);
        let remainder = rest[punct_len..].trim_start().to_string();
        emptied[i + 1] = remainder.is_empty();
        lines[i] = joined;
        lines[i + 1] = remainder;
    }
    let mut emptied = emptied.into_iter();
    lines.retain(|_| !emptied.next().unwrap_or(false));
}

/// For a line ending in "…word-", returns (line without the hyphen, the hyphen, "word").
fn split_hyphenated_end(line: &str) -> Option<(&str, char, &str)> {
    let hyphen = line.chars().next_back()?;
    if !matches!(hyphen, '-' | '\u{AD}' | '\u{2010}') {
        return None;
    }
    let stem = &line[..line.len() - hyphen.len_utf8()];
    let left_len: usize = stem.chars().rev().take_while(|c| c.is_alphabetic()).map(char::len_utf8).sum();
    if left_len == 0 {
        // "--", "2-" or " -": a dash or a range, not a broken word.
        return None;
    }
    Some((stem, hyphen, &stem[stem.len() - left_len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join(pages: &[&[&str]]) -> Vec<Vec<String>> {
        let mut pages: Vec<Vec<String>> = pages.iter().map(|p| p.iter().map(|s| s.to_string()).collect()).collect();
        let vocabulary = Vocabulary::from_pages(&pages);
        for page in &mut pages {
            join_hyphenated(page, &vocabulary);
        }
        pages
    }

    #[test]
    fn broken_words_join() {
        let out = join(&[&["an inter-", "national treaty."]]);
        assert_eq!(out[0], vec!["an international", "treaty."]);
    }

    #[test]
    fn punctuation_follows_the_word() {
        let out = join(&[&["the inter-", "national, treaty"]]);
        assert_eq!(out[0], vec!["the international,", "treaty"]);
    }

    #[test]
    fn compounds_the_document_hyphenates_keep_their_hyphen() {
        let out = join(&[&["a well-known fact and a well-", "known name"]]);
        assert_eq!(out[0][0], "a well-known fact and a well-known");
        assert_eq!(out[0][1], "name");
    }

    #[test]
    fn capitals_dashes_and_ranges_are_left_alone() {
        let out = join(&[&["anti-", "American", "pages 3-", "5 and --", "more"]]);
        assert_eq!(out[0], vec!["anti-American", "pages 3-", "5 and --", "more"]);
    }
}
