//! Whether a figure an answer states is stated in the passages about what the answer says
//! of it. A small model asked what the document does not say often takes a number that is
//! in the passages, but about something else, and makes it the answer ("the maximum length
//! of the arguments is 32 characters", where 32 was a bit width): every figure is "given",
//! so the invented-figure check of [`crate::grounding`] passes it.
//!
//! A figure is in its context when one of its places in a text given holds, within
//! [`REACH`] words on either side, at least [`MIN_SHARED`] of the content words of the
//! answer's sentence that states it (the question's words count: "the delay … is 5" is in
//! context beside "delay … (default 5)").

use std::collections::HashSet;

use crate::figures::{numbers, referenced_figures, without_enumerators};
use crate::grounding::{says_something, stem, words};

/// Words on either side of a figure that count as its context (about a sentence).
const REACH: usize = 15;
/// Content words of the answer's sentence the context must hold (fewer when the sentence
/// has fewer).
const MIN_SHARED: usize = 2;

/// The figures of `body` (an answer without its citations) that no text of `texts` states
/// near the words the answer says them with. Not checked: figures of `question` (in digits
/// or words), figures named as references ("page 12", "Section 6.7") and the figures in
/// `quoted` (of section names the answer quotes).
pub(crate) fn out_of_context(body: &str, texts: &[&str], question: &str, quoted: &HashSet<String>) -> Vec<String> {
    let mut asked: HashSet<String> = numbers(question).into_iter().collect();
    asked.extend(quoted.iter().cloned());
    // Each sentence's figures to check, with its content words.
    let claims: Vec<(Vec<String>, HashSet<String>)> = sentences(&without_enumerators(body))
        .into_iter()
        .map(|sentence| {
            let stated = referenced_figures(sentence)
                .into_iter()
                .filter(|(f, referenced)| !referenced && !asked.contains(f))
                .map(|(f, _)| f)
                .collect();
            (stated, words(sentence).filter(|w| says_something(w)).map(|w| stem(&w)).collect())
        })
        .filter(|(stated, content): &(Vec<String>, HashSet<String>)| !stated.is_empty() && !content.is_empty())
        .collect();
    if claims.is_empty() {
        return Vec::new();
    }
    let places: Vec<(Vec<String>, HashSet<String>)> = texts.iter().flat_map(|t| figure_places(t)).collect();
    let mut out: Vec<String> = Vec::new();
    for (stated, content) in claims {
        let need = MIN_SHARED.min(content.len());
        for f in stated {
            let placed = places
                .iter()
                .any(|(figs, near)| figs.contains(&f) && content.iter().filter(|w| near.contains(*w)).count() >= need);
            if !placed && !out.contains(&f) {
                out.push(f);
            }
        }
    }
    out
}

/// Each word of `text` holding figures, in digits or in words ("forty"): those figures, and
/// the stems of the words within [`REACH`] of it.
fn figure_places(text: &str) -> Vec<(Vec<String>, HashSet<String>)> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let mut out = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let figs = numbers(token);
        if figs.is_empty() {
            continue;
        }
        let near = tokens[i.saturating_sub(REACH)..(i + REACH + 1).min(tokens.len())]
            .iter()
            .flat_map(|t| words(t))
            .map(|w| stem(&w))
            .collect();
        out.push((figs, near));
    }
    out
}

/// The sentences of an answer: split after `.`, `!` or `?` followed by a space or the end,
/// and at line breaks (a `.` between digits, as in "5.2", does not end one).
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let ends = match b {
            b'\n' => true,
            b'.' | b'!' | b'?' => bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()),
            _ => false,
        };
        if ends {
            out.push(&text[start..=i]);
            start = i + 1;
        }
    }
    out.push(&text[start..]);
    out.into_iter().map(str::trim).filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: &str = "What is the maximum combined length of the arguments Bash can pass to a command?";

    #[test]
    fn a_figure_taken_from_another_subject_is_out_of_context() {
        let texts = ["Bash is a 32 bit clean shell on most systems. Arguments are passed to the command unchanged."];
        let answer = "The maximum combined length of the arguments and environment is 32 characters.";
        assert_eq!(out_of_context(answer, &texts, Q, &HashSet::new()), ["32"]);
    }

    #[test]
    fn a_figure_stated_beside_the_answers_words_is_in_context() {
        let texts =
            ["The delay between display of successive frames may be given in units of 1/100 second (default 5)."];
        let answer = "The default delay between frames is 5 hundredths of a second.";
        assert!(out_of_context(answer, &texts, "What is the default delay between frames?", &HashSet::new()).is_empty());
    }

    #[test]
    fn references_and_the_questions_own_figures_are_not_checked() {
        let texts = ["Unrelated text."];
        let answer = "It is described in Section 6.7 of Bash 5.2.";
        assert!(out_of_context(answer, &texts, "Where does Bash 5.2 describe arrays?", &HashSet::new()).is_empty());
    }

    #[test]
    fn each_sentence_is_checked_with_its_own_words() {
        let texts = ["Squeeze shipped Linux kernel 2.6.32. Far away, many more words here about nothing at all \
                      that are not near the kernel at all in any way whatsoever, not even close to it at all, \
                      filling up this far apart line of text so nothing about it is near, and then: 37 new developers joined in the year of the release."];
        let answer = "Squeeze shipped Linux kernel 2.6.32. It shipped kernel 37.";
        assert_eq!(out_of_context(answer, &texts, "Which kernel did Squeeze ship?", &HashSet::new()), ["37"]);
    }

    #[test]
    fn the_answer_is_withheld_naming_the_figure() {
        use crate::grounding::{check, Given, Ungrounded, MIN_MEAN_LOGPROB};
        let texts = [("49", "Bash is a 32 bit clean shell on most systems. Arguments are passed unchanged.")];
        let given = Given {
            question: Q,
            texts: &texts,
            sections: &[],
            passages: true,
            confidence: None,
            min_mean_logprob: MIN_MEAN_LOGPROB,
        };
        let verdict = check("The maximum combined length of the arguments is 32 characters. [p. 49]", &given);
        assert_eq!(verdict, Some(Ungrounded::FiguresOutOfContext { figures: vec!["32".into()] }));
        assert!(verdict.unwrap().replacement().contains("do not state 32 about what the answer says"));
    }

    #[test]
    fn sentences_end_at_stops_not_inside_versions() {
        assert_eq!(sentences("Bash 5.2 is new. It is fast!\nYes"), ["Bash 5.2 is new.", "It is fast!", "Yes"]);
    }
}
