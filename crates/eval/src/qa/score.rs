//! Scoring one answer against its reference: correctness (every required part of the
//! reference found in the answer, as whole words, citations removed first), abstention
//! (the answer says the document does not say), and whether each kept citation points at a
//! page that supports the answer.

use super::dataset::{normalise, Kind, Located};

/// Phrases (normalised, so apostrophes and punctuation are spaces) with which an answer
/// says the document does not answer the question.
const ABSTAIN: &[&str] = &[
    " does not say ",
    " doesn t say ",
    " do not say ",
    " don t say ",
    " does not mention ",
    " doesn t mention ",
    " do not mention ",
    " don t mention ",
    " not mentioned ",
    " no mention ",
    " does not specify ",
    " doesn t specify ",
    " do not specify ",
    " not specified ",
    " does not state ",
    " doesn t state ",
    " do not state ",
    " not stated ",
    " does not provide ",
    " doesn t provide ",
    " do not provide ",
    " not provided ",
    " does not contain ",
    " doesn t contain ",
    " do not contain ",
    " does not include ",
    " doesn t include ",
    " do not include ",
    " not included ",
    " no information ",
    " not given ",
    " cannot find ",
    " can t find ",
    " could not find ",
    " cannot answer ",
    " can t answer ",
    " cannot be determined ",
    " not possible to determine ",
    " unable to ",
    " i don t know ",
    " i do not know ",
    " not known ",
    " unknown ",
];

/// An answer's text without its page citations (`[p. 12]`, `[pp. 3-4]`, `[2, p. 3]`):
/// page numbers must not count as answers. Other brackets stay (a model may write
/// `[expand_aliases]`).
pub fn without_citations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close) if is_page_citation(&after[..close]) => rest = &after[close + 1..],
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether the inside of a bracket is a page citation (`p. 12`, `pp. 3-4`, `page xii`,
/// `2, p. 3`).
fn is_page_citation(inner: &str) -> bool {
    let inner = inner.trim().to_lowercase();
    let inner = match inner.split_once(',') {
        Some((n, rest)) if n.trim().chars().all(|c| c.is_ascii_digit()) => rest.trim().to_owned(),
        _ => inner,
    };
    ["p.", "pp.", "page", "p "].iter().any(|p| inner.starts_with(p))
}

/// Whether `answer` says that the document does not answer the question.
pub fn abstains(answer: &str) -> bool {
    let text = normalise(&without_citations(answer));
    ABSTAIN.iter().any(|p| text.contains(p))
}

/// Whether `answer` contains every required part of the reference (any one alternative
/// of each).
pub fn has_parts(parts: &[Vec<String>], answer: &str) -> bool {
    let text = normalise(&without_citations(answer));
    !parts.is_empty()
        && parts
            .iter()
            .all(|alternatives| alternatives.iter().map(|a| normalise(a)).any(|a| !a.is_empty() && text.contains(&a)))
}

/// Whether the answer is right: the reference parts for an answerable question, an
/// abstention for an unanswerable one.
pub fn correct(question: &Located, answer: &str) -> bool {
    match question.question.kind {
        Kind::Unanswerable => abstains(answer),
        _ => has_parts(&question.question.answer, answer),
    }
}

/// Whether a cited page supports the answer: it holds evidence for the question, or it
/// states every part of the reference answer itself.
pub fn page_supports(question: &Located, page_index: u32, page_text: &str) -> bool {
    question.support.iter().any(|pages| pages.contains(&page_index))
        || (question.question.kind != Kind::Unanswerable && has_parts(&question.question.answer, page_text))
}

#[cfg(test)]
mod tests {
    use super::super::dataset::QaQuestion;
    use super::*;

    fn located(kind: Kind, answer: &[&[&str]], support: Vec<Vec<u32>>) -> Located {
        Located {
            question: QaQuestion {
                id: "t-1".into(),
                kind,
                question: "?".into(),
                answer: answer.iter().map(|p| p.iter().map(|s| s.to_string()).collect()).collect(),
                reference: String::new(),
                evidence: Vec::new(),
            },
            support,
        }
    }

    #[test]
    fn every_part_must_be_found_as_whole_words() {
        let q = located(Kind::List, &[&["Woking"], &["Horsell Common", "Horsell"]], vec![vec![3]]);
        assert!(correct(&q, "It fell on Horsell Common near Woking [p. 4]."));
        assert!(!correct(&q, "It fell near Woking [p. 4]."));
        assert!(!correct(&q, "It fell on Horsellx near Woking."));
        let n = located(Kind::Fact, &[&["3", "three"]], vec![vec![0]]);
        assert!(correct(&n, "There are three."));
        assert!(!correct(&n, "See the list [p. 3]."), "a page number is not an answer");
        assert!(!correct(&n, "There are 32."));
        assert!(!correct(&n, "See [pp. 2-3] and [2, p. 3]."));
        let b = located(Kind::Fact, &[&["expand_aliases"]], vec![vec![0]]);
        assert!(correct(&b, "Turn on [expand_aliases] [p. 106]."));
    }

    #[test]
    fn abstentions_are_recognised() {
        let q = located(Kind::Unanswerable, &[], vec![]);
        assert!(correct(&q, "The document does not say who built it."));
        assert!(correct(&q, "The passages don't mention the year."));
        assert!(!correct(&q, "It was built in 1902 [p. 5]."));
    }

    #[test]
    fn supporting_pages() {
        let q = located(Kind::Fact, &[&["Ogilvy"]], vec![vec![2, 7]]);
        assert!(page_supports(&q, 7, "unrelated"));
        assert!(page_supports(&q, 9, "Ogilvy the astronomer"));
        assert!(!page_supports(&q, 9, "unrelated"));
    }
}
