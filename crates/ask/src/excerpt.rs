//! Cutting a passage to the sentences that matter for a question, within a size limit:
//! the sentence sharing the most words with the question, then its neighbours (following
//! first) while they fit.

/// Words too common to say anything about relevance.
const STOP: &[&str] = &[
    "the", "and", "for", "are", "was", "were", "what", "who", "whom", "which", "where", "when", "why", "how", "did",
    "does", "that", "this", "with", "from", "his", "her", "its", "their", "they", "them", "has", "have", "had", "not",
    "but", "you", "your", "all", "any", "can", "there", "into", "about", "than", "then", "been", "is", "of", "to",
    "in", "on", "at", "a", "an", "it", "be", "by", "as", "or",
];

/// The question's content words, lower-cased.
pub(crate) fn content_words(question: &str) -> Vec<String> {
    let mut words: Vec<String> = question
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| !w.is_empty() && !STOP.contains(&w.as_str()))
        .collect();
    words.sort();
    words.dedup();
    words
}

/// Sentence spans of `text` (byte ranges), split after `.`, `!`, `?` and at line breaks.
fn sentences(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        let boundary =
            c == '\n' || (matches!(c, '.' | '!' | '?') && bytes.get(end).is_none_or(|b| b.is_ascii_whitespace()));
        if boundary {
            if !text[start..end].trim().is_empty() {
                out.push((start, end));
            }
            start = end;
        }
    }
    if !text[start..].trim().is_empty() {
        out.push((start, text.len()));
    }
    out
}

/// The part of `text` of at most `max_chars` characters most relevant to `words`: whole
/// sentences around the best one (a single sentence longer than the limit is cut).
pub(crate) fn excerpt(text: &str, words: &[String], max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.trim().to_owned();
    }
    let spans = sentences(text);
    let Some(best) = best_span(text, &spans, words) else {
        return String::new();
    };
    let chars = |(s, e): (usize, usize)| text[s..e].chars().count();
    let (mut first, mut last) = (best, best);
    let mut used = chars(spans[best]);
    loop {
        let mut grew = false;
        if last + 1 < spans.len() && used + chars(spans[last + 1]) <= max_chars {
            last += 1;
            used += chars(spans[last]);
            grew = true;
        }
        if first > 0 && used + chars(spans[first - 1]) <= max_chars {
            first -= 1;
            used += chars(spans[first]);
            grew = true;
        }
        if !grew {
            break;
        }
    }
    let out = text[spans[first].0..spans[last].1].trim();
    out.chars().take(max_chars).collect()
}

/// The sentence of `text` sharing the most words with `words` (the first of equals);
/// `text` itself when it has no sentence.
pub(crate) fn best_sentence<'t>(text: &'t str, words: &[String]) -> &'t str {
    let spans = sentences(text);
    best_span(text, &spans, words).map_or(text, |i| text[spans[i].0..spans[i].1].trim())
}

/// The index of the span of `text` holding the most of `words` (the first of equals).
fn best_span(text: &str, spans: &[(usize, usize)], words: &[String]) -> Option<usize> {
    let score = |&(s, e): &(usize, usize)| {
        let lower = text[s..e].to_lowercase();
        words.iter().filter(|w| lower.contains(w.as_str())).count()
    };
    (0..spans.len()).max_by_key(|&i| (score(&spans[i]), std::cmp::Reverse(i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_matching_sentence_and_its_neighbours() {
        let text = "Filler one here. Filler two here. The seahorse hid the key under the arch. \
                    After that it slept. Much later filler. Even more filler text follows.";
        let words = content_words("Where did the seahorse hide the key?");
        assert_eq!(words, vec!["hide", "key", "seahorse"]);
        let e = excerpt(text, &words, 80);
        assert!(e.contains("The seahorse hid the key under the arch."), "{e}");
        assert!(e.chars().count() <= 80, "{e}");
        assert!(e.contains("After that it slept."), "{e}");
        assert_eq!(excerpt("short.", &words, 80), "short.");
        let long = "x".repeat(200);
        assert_eq!(excerpt(&long, &words, 50).len(), 50);
        assert_eq!(best_sentence(text, &words), "The seahorse hid the key under the arch.");
        assert_eq!(best_sentence("  ", &words), "  ");
    }
}
