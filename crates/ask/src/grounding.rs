//! Whether an answer says anything the model was given. Small models rarely say "the
//! document does not say": asked what the passages do not contain, they invent a figure
//! ("the limit is 32 characters") or repeat the question as if it were the answer ("The
//! narrator's name is."). The checks below catch these after the answer is made, and the answer
//! is then withheld in favour of saying that the passages do not say (the model's words stay
//! on the [`crate::Answer`], marked as withheld, for a person who wants to see them):
//!
//! - **invented figures**: a number in the answer (`32`, `5.2`, `10,000`, `640x480`) that
//!   is neither in the question nor in any text the model was given (passages, pages in
//!   the window, their page labels), in digits or in words ("forty", "the tenth"). Only
//!   checked when passages were given: an answer made from the memory alone may hold
//!   figures of pages no longer in the window.
//!   A figure found only in a page label or a section name (the markers of the passages)
//!   counts as given where the answer uses it as one: after "page", "p.", "section",
//!   "chapter" and the like, or inside a section name the answer quotes ("Bash version
//!   5.2" is not given by a passage of section "5.2 Bash Variables").
//! - **no number**: the question asks for one ("how many", "in what year", "which
//!   version", "the price") and the answer gives none beyond the question's own
//!   ([`crate::quantity`]): "The price of the second edition was every LaTeXie's ultimate
//!   lucky charm." Checked with or without passages.
//! - **figures out of context**: every figure of the answer is given, but one is written
//!   in the passages only about something else: no place that writes it has two of the
//!   content words of the answer's sentence within 15 words ([`crate::figure_context`]).
//!   Checked when passages were given.
//! - **not about what was asked**: the question names something in letters and digits
//!   ("DebConf22", "x86_64", "Python3"; four characters or more) that no text given
//!   holds, even with its spaces and hyphens taken out: the passages are about something
//!   else, whatever the answer says. Checked when passages were given.
//! - **invented words**: the answer says something beyond the question, but not one of its
//!   own words (beyond function words and the question's words) is in anything the model
//!   was given, and it names no figure (a figure was checked above): "The narrator's name
//!   is John." when no passage holds "John". Checked when
//!   passages were given; like the figures, an answer recalled from the memory alone (a
//!   name read a hundred pages ago and not in the window or a passage) is withheld too.
//! - **nothing beyond the question**: once citations, function words and the phrases
//!   models wrap answers in ("based on the information provided in the passages") are
//!   set aside, every word of the answer is a word of the question. Not checked for a
//!   question that offers alternatives ("… A or B?"): "B." answers it with its own words.
//! - **unsure**: the model chose its words with a mean log-probability below its limit
//!   (the catalogue's `unsure_below`; [`MIN_MEAN_LOGPROB`] for other models), or the
//!   passages made them hardly more probable than the question alone did (lift below
//!   [`MIN_LIFT`]; [`crate::selfcheck`]). Only checked when passages were given, and not
//!   for an answer to a which-section question that names the section of a passage given
//!   (read off its marker: [`crate::locate::names_given_section`]).

use std::collections::HashSet;

use crate::figure_context;
use crate::figures::{figures, numbers, referenced_figures, without_enumerators, REFERENCE_WORDS};
use crate::numerals::spelled_numbers;
use crate::quantity;
use crate::selfcheck::Confidence;

/// Words that carry no answer: function words, and what models wrap answers in.
#[rustfmt::skip]
const FILLER: &[&str] = &[
    "a", "about", "above", "according", "after", "all", "also", "an", "and", "answer", "any", "are", "as", "at", "based",
    "be", "been", "being", "both", "but", "by", "can", "context", "could", "described", "describes", "did", "do",
    "document", "does", "each", "following", "for", "from", "given", "had", "has", "have", "he", "her", "here", "him",
    "his", "how", "i", "in", "information", "into", "is", "it", "its", "may", "mentioned", "might", "more", "most",
    "must", "of", "on", "or", "p", "page", "pages", "passage", "passages", "pp", "provided", "question", "said", "say",
    "says", "she", "should", "so", "specifically", "stated", "states", "such", "text", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "those", "to", "was", "we", "were", "what", "when", "where",
    "which", "while", "who", "whom", "whose", "why", "will", "with", "would", "you", "your",
];

/// Why an answer was withheld.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ungrounded {
    /// Numbers that are in neither the question nor anything the model was given.
    InventedFigures {
        /// The numbers, as the answer wrote them (normalised: no thousands separators).
        figures: Vec<String>,
    },
    /// Numbers that the passages hold, but nowhere near the words the answer says them with
    /// ([`crate::figure_context`]).
    FiguresOutOfContext {
        /// The numbers, as the answer wrote them (normalised: no thousands separators).
        figures: Vec<String>,
    },
    /// The question asks for a number, a date or a version and the answer gives none
    /// ([`crate::quantity`]).
    NoNumber,
    /// The question names something (in letters and digits) that nothing given holds.
    NotAbout {
        /// Those names, as the question wrote them.
        names: Vec<String>,
    },
    /// None of the answer's own words is in anything the model was given.
    InventedWords {
        /// Those words, lower-cased, as the answer wrote them.
        words: Vec<String>,
    },
    /// The answer only repeats words of the question.
    RestatesQuestion,
    /// The model was unsure of its words, or would have said them without the passages.
    Unsure {
        /// [`Confidence::mean_logprob`].
        mean_logprob: f32,
        /// [`Confidence::lift`].
        lift: Option<f32>,
    },
}

/// The least mean log-probability of an answer's tokens (a geometric mean probability of
/// 67 %) with which an answer made with passages is shown, unless the model's own limit
/// is known (`AskOptions::unsure_below`, from the catalogue): the limit at which neither
/// catalogue model lost a right answer on the QA benchmark (`docs/qa-eval.md` shows the
/// trade at other values).
pub const MIN_MEAN_LOGPROB: f32 = -0.40;
/// The least lift (nats per token) with which an answer made with passages is shown:
/// below it, the passages did not make the answer more likely than the question alone.
pub const MIN_LIFT: f32 = 0.2;

/// Whether an answer this certain is withheld (when passages were given), with
/// `min_mean_logprob` the model's limit ([`MIN_MEAN_LOGPROB`] where unknown).
pub fn unsure(confidence: &Confidence, min_mean_logprob: f32) -> bool {
    unsure_at(confidence, min_mean_logprob, MIN_LIFT)
}

/// [`unsure`] with another lift limit than [`MIN_LIFT`] (the benchmark sweeps both).
pub fn unsure_at(confidence: &Confidence, min_mean_logprob: f32, min_lift: f32) -> bool {
    confidence.mean_logprob < min_mean_logprob || confidence.lift.is_some_and(|l| l < min_lift)
}

impl Ungrounded {
    /// The answer shown instead: that the passages do not say, and why the model's answer
    /// was not shown.
    pub fn replacement(&self) -> String {
        match self {
            Ungrounded::InventedFigures { figures } => format!(
                "The passages found for this question do not say. (The model's answer was withheld: it named {}, \
                 which the passages do not contain.)",
                figures.join(", ")
            ),
            Ungrounded::FiguresOutOfContext { figures } => format!(
                "The passages found for this question do not say. (The model's answer was withheld: the passages \
                 do not state {} about what the answer says.)",
                figures.join(", ")
            ),
            Ungrounded::NoNumber => "The passages found for this question do not say. (The model's answer was \
                                     withheld: asked for a number, it gave none.)"
                .to_owned(),
            Ungrounded::NotAbout { names } => format!(
                "The passages found for this question do not mention {}. (The model's answer was withheld.)",
                names.join(", ")
            ),
            Ungrounded::InventedWords { words } => format!(
                "The passages found for this question do not say. (The model's answer was withheld: none of its \
                 words {} is in the passages.)",
                words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(", ")
            ),
            Ungrounded::RestatesQuestion => "The passages found for this question do not say. (The model's answer \
                                             was withheld: it only repeated the question.)"
                .to_owned(),
            Ungrounded::Unsure { mean_logprob, lift } => {
                let why = if lift.is_none_or(|l| l >= MIN_LIFT) {
                    format!(
                        "the model was unsure of its words (mean token probability {:.0} %)",
                        mean_logprob.exp() * 100.0
                    )
                } else {
                    format!(
                        "the passages made its words hardly more likely than the question alone (lift {:.2})",
                        lift.unwrap_or(0.0)
                    )
                };
                format!("The passages found for this question do not say. (The model's answer was withheld: {why}.)")
            }
        }
    }
}

/// The model's answer when it was withheld, and why.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Withheld {
    /// What the model answered (citations validated as usual).
    pub text: String,
    /// Its citations.
    pub citations: Vec<crate::citations::Citation>,
    /// Why it was not shown.
    pub reason: Ungrounded,
}

/// What the model was given to answer from.
#[derive(Debug, Clone, Copy)]
pub struct Given<'a> {
    /// The question.
    pub question: &'a str,
    /// Texts the model was given (passages, pages in the window) with their page labels.
    pub texts: &'a [(&'a str, &'a str)],
    /// The passages' section names, shown after their page markers.
    pub sections: &'a [&'a str],
    /// Whether passages were among them (the figure and certainty checks need them).
    pub passages: bool,
    /// How sure the model was of its answer ([`crate::selfcheck`]), where measured.
    pub confidence: Option<Confidence>,
    /// The model's limit of [`Confidence::mean_logprob`] ([`MIN_MEAN_LOGPROB`] where
    /// unknown).
    pub min_mean_logprob: f32,
}

/// Checks `answer` (as shown: validated citations only) against what the model was given.
/// `None`: the answer may be shown. An answer that already says the document does not say
/// is always shown.
pub fn check(answer: &str, given: &Given<'_>) -> Option<Ungrounded> {
    let body = without_brackets(answer);
    if says_not_found(&body) {
        return None;
    }
    if quantity::asks_number(given.question) && !quantity::gives_number(&body, given.question) {
        return Some(Ungrounded::NoNumber);
    }
    if given.passages {
        let names = names_not_given(given);
        if !names.is_empty() {
            return Some(Ungrounded::NotAbout { names });
        }
        let mut known: HashSet<String> = numbers(given.question).into_iter().collect();
        let mut marks: HashSet<String> = HashSet::new();
        for (label, text) in given.texts {
            marks.extend(figures(label));
            known.extend(numbers(text));
        }
        let lower = body.to_lowercase();
        // Figures of the section names the answer quotes.
        let mut quoted: HashSet<String> = HashSet::new();
        for section in given.sections {
            marks.extend(figures(section));
            // A section path's elements ("Issue 28, 2018/04 › Hooks"), each quoted alone.
            for element in section.split('›').map(str::trim).filter(|e| !e.is_empty()) {
                if lower.contains(&element.to_lowercase()) {
                    quoted.extend(figures(element));
                }
            }
        }
        known.extend(quoted.iter().cloned());
        let answered = referenced_figures(&without_enumerators(&body));
        let mut invented: Vec<String> = Vec::new();
        for (f, referenced) in &answered {
            let given_as_mark = *referenced && marks.contains(f);
            if !known.contains(f) && !given_as_mark && !invented.contains(f) {
                invented.push(f.clone());
            }
        }
        if !invented.is_empty() {
            return Some(Ungrounded::InventedFigures { figures: invented });
        }
        let texts: Vec<&str> = given.texts.iter().map(|(_, t)| *t).chain(given.sections.iter().copied()).collect();
        let misplaced = figure_context::out_of_context(&body, &texts, given.question, &quoted);
        if !misplaced.is_empty() {
            return Some(Ungrounded::FiguresOutOfContext { figures: misplaced });
        }
        // A figure passed the check above: the answer holds something given.
        if let Some(words) = invented_words(&body, given).filter(|_| answered.is_empty()) {
            return Some(Ungrounded::InventedWords { words });
        }
    }
    // A choice between named alternatives, a name in code quotes ("`jobs`" for "Which
    // command lists jobs?") or a name the question does not write ("fit.log" for "the file
    // the fit log is written to") may answer with the question's own words.
    if !offers_alternatives(given.question) && !quotes_code(&body) && !names_new(&body, given.question) {
        let asked: HashSet<String> = words(given.question).map(|w| stem(&w)).collect();
        let new = words(&body).filter(|w| !FILLER.contains(&w.as_str())).any(|w| !asked.contains(&stem(&w)));
        if !new {
            return Some(Ungrounded::RestatesQuestion);
        }
    }
    // A section named off a passage's marker, asked which section, is what was given
    // however unsure the model was of its other words.
    let section_given = crate::locate::names_given_section(given.question, &body, given.sections);
    match given.confidence {
        Some(c) if given.passages && !section_given && unsure(&c, given.min_mean_logprob) => {
            Some(Ungrounded::Unsure { mean_logprob: c.mean_logprob, lift: c.lift })
        }
        _ => None,
    }
}

/// The question's names in letters and digits ("DebConf22") that no given text or
/// section name holds, even with spaces, hyphens and other punctuation taken out ("DebConf
/// 22", "Python-3").
fn names_not_given(given: &Given<'_>) -> Vec<String> {
    let squash =
        |t: &str| -> String { t.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect() };
    let texts = given.texts.iter().map(|(_, t)| *t).chain(given.sections.iter().copied());
    let given_text: String = texts.map(squash).collect::<Vec<_>>().join(" ");
    let mut names = Vec::new();
    for word in given.question.split(|c: char| c.is_whitespace() || ",;:?!()\"'".contains(c)) {
        let word = word.trim_matches(|c: char| !c.is_alphanumeric());
        let name = squash(word);
        let mixed = name.chars().any(|c| c.is_ascii_digit()) && name.chars().any(char::is_alphabetic);
        if mixed && name.chars().count() >= 4 && !given_text.contains(&name) && !names.contains(&word.to_owned()) {
            names.push(word.to_owned());
        }
    }
    names
}

/// Words that answer without being found in a text: yes, no and the like.
const ANSWER_WORDS: &[&str] =
    &["yes", "no", "not", "none", "nothing", "neither", "nor", "either", "true", "false", "only"];

/// Whether a lower-cased word of an answer says something: not a function word, an answer
/// word ("yes"), a reference word ("page") or a number in digits.
pub(crate) fn says_something(word: &str) -> bool {
    !FILLER.contains(&word)
        && !ANSWER_WORDS.contains(&word)
        && !REFERENCE_WORDS.contains(&word)
        && !word.chars().any(|c| c.is_ascii_digit())
}

/// The answer's own words (beyond function words, the question's words and numbers) when
/// there are some and none of them is in the texts or section names given.
fn invented_words(body: &str, given: &Given<'_>) -> Option<Vec<String>> {
    let asked: HashSet<String> = words(given.question).map(|w| stem(&w)).collect();
    let mut own: Vec<String> = Vec::new();
    for w in words(body) {
        let counts = says_something(&w) && !asked.contains(&stem(&w)) && spelled_numbers(&w).is_empty();
        if counts && !own.contains(&w) {
            own.push(w);
        }
    }
    if own.is_empty() {
        return None;
    }
    let texts = given.texts.iter().map(|(_, t)| *t).chain(given.sections.iter().copied());
    let known: HashSet<String> = texts.flat_map(words).map(|w| stem(&w)).collect();
    (!own.iter().any(|w| known.contains(&stem(w)))).then_some(own)
}

/// `text` without bracketed spans (citations such as `[p. 12]`, `[2, p. 3]`).
fn without_brackets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '[' => depth += 1,
            ']' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Whether the answer itself says the document does not answer the question.
pub fn says_not_found(text: &str) -> bool {
    let lower = format!(" {} ", text.to_lowercase().replace(['’', '\''], " "));
    [
        " not say",
        " not mention",
        " not specif",
        " not state",
        " not provide",
        " not contain",
        " no information",
        " cannot find",
        " could not find",
        " not found",
        " do not know",
        " don t know",
        " doesn t say",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

/// Whether the question asks to choose between alternatives it names.
fn offers_alternatives(question: &str) -> bool {
    words(question).any(|w| w == "or")
}

/// Whether `text` holds a name-like token (letters or digits joined by `.`, `/`, `_`, `-`,
/// `$` or braces: `fit.log`, `/usr/local`, `${10}`) that `question` does not write.
fn names_new(text: &str, question: &str) -> bool {
    let question = question.to_lowercase();
    text.split_whitespace()
        .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric() && !"/$_{}".contains(c)).to_lowercase())
        .filter(|t| t.chars().any(char::is_alphanumeric))
        .filter(|t| t.chars().any(|c| "./_-${}".contains(c)))
        .any(|t| !question.contains(&t))
}

/// Whether `text` holds a non-empty code span (`` `jobs` ``).
fn quotes_code(text: &str) -> bool {
    text.split('`').skip(1).step_by(2).any(|span| !span.trim().is_empty()) && text.matches('`').count() >= 2
}

/// Lower-cased words (letters and digits); single letters (the `s` of a possessive, the
/// `t` of "don't") are left out, single digits kept.
pub(crate) fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() > 1 || w.chars().all(|c| c.is_ascii_digit()))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// A crude stem, so that "neighbours"/"neighbour" and "named"/"name" count as the same
/// word: a possessive and one common ending removed.
pub(crate) fn stem(word: &str) -> String {
    let w = word.strip_suffix("s").filter(|w| w.len() >= 3).unwrap_or(word);
    for end in ["ing", "ed", "e"] {
        if let Some(s) = w.strip_suffix(end).filter(|s| s.len() >= 3) {
            return s.to_owned();
        }
    }
    w.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given<'a>(question: &'a str, texts: &'a [(&'a str, &'a str)]) -> Given<'a> {
        Given { question, texts, sections: &[], passages: true, confidence: None, min_mean_logprob: MIN_MEAN_LOGPROB }
    }

    #[test]
    fn an_invented_figure_withholds_the_answer() {
        let texts = [("12", "The wxt terminal keeps its windows open until closed. See page 13.")];
        let q = "What is the maximum number of plot windows the wxt terminal can keep open?";
        let verdict = check("The wxt terminal can keep up to 10 plot windows open. [p. 12]", &given(q, &texts));
        assert_eq!(verdict, Some(Ungrounded::InventedFigures { figures: vec!["10".into()] }));
        // The citation's page number and a figure on a given page are not invented.
        assert_eq!(check("It keeps them open until closed, see page 13. [p. 12]", &given(q, &texts)), None);
        // A figure from the question is not invented either.
        let q2 = "What did the 1994 edition cost?";
        assert_eq!(
            check("The 1994 edition cost nothing.", &given(q2, &texts)),
            None,
            "figures of the question are known"
        );
        // Numbers the passages or the question write in words are known in digits.
        let words = [("10", "That night nearly forty people lay charred about the pit.")];
        let q3 = "How many people lay dead about the pit?";
        assert_eq!(check("40 people lay dead about the pit. [p. 10]", &given(q3, &words)), None);
        let q4 = "How do you refer to the tenth positional parameter?";
        let braces = [("10", "Write positional parameters past the ninth in braces.")];
        assert_eq!(check("Write it as ${10}. [p. 10]", &given(q4, &braces)), None);
        assert!(check("41 people lay dead. [p. 10]", &given(q3, &words)).is_some());
    }

    #[test]
    fn the_numbers_of_a_list_are_not_figures() {
        let texts = [("4", "Use optional arguments, explicit marks, or truncation.")];
        let q = "Which ways keep long titles from overflowing the header?";
        let a = "Three ways:\n1. optional arguments\n2) explicit marks\n (3) truncation [p. 4]";
        assert_eq!(check(a, &given(q, &texts)), None);
        // A number inside a sentence is still a figure.
        assert!(check("It has 12 members.", &given("How many members?", &texts)).is_some());
    }

    #[test]
    fn figures_are_not_checked_without_passages() {
        let texts = [("3", "Nothing with numbers.")];
        let unsure = Confidence { mean_logprob: -2.0, min_logprob: -5.0, lift: Some(0.0) };
        let g = Given { passages: false, confidence: Some(unsure), ..given("How many?", &texts) };
        assert_eq!(check("There were 42 of them.", &g), None, "nor the certainty");
    }

    #[test]
    fn an_answer_the_model_is_unsure_of_is_withheld() {
        let texts = [("7", "The narrator walks to Horsell Common with John.")];
        let q = "What is the narrator's name?";
        let with = |mean_logprob: f32, lift: Option<f32>| Given {
            confidence: Some(Confidence { mean_logprob, min_logprob: mean_logprob * 4.0, lift }),
            ..given(q, &texts)
        };
        let a = "The narrator is John. [p. 7]";
        let verdict = check(a, &with(-0.5, Some(1.0)));
        assert_eq!(verdict, Some(Ungrounded::Unsure { mean_logprob: -0.5, lift: Some(1.0) }));
        assert!(verdict.unwrap().replacement().contains("unsure of its words (mean token probability 61 %)"));
        // A model's own limit.
        assert_eq!(check(a, &Given { min_mean_logprob: -0.6, ..with(-0.5, Some(1.0)) }), None);
        assert!(check(a, &Given { min_mean_logprob: -0.25, ..with(-0.3, Some(1.0)) }).is_some());
        let verdict = check(a, &with(-0.1, Some(0.05)));
        assert!(verdict.as_ref().is_some_and(|v| v.replacement().contains("lift 0.05")), "{verdict:?}");
        assert_eq!(check(a, &with(MIN_MEAN_LOGPROB, Some(MIN_LIFT))), None, "at the limits");
        assert_eq!(check(a, &with(-0.1, None)), None, "lift not measured");
        assert_eq!(check(a, &given(q, &texts)), None, "nothing measured");
        // Saying the passages do not say needs no certainty.
        assert_eq!(check("The passages do not say. [p. 7]", &with(-3.0, Some(-1.0))), None);
    }

    #[test]
    fn an_answer_that_repeats_the_question_is_withheld() {
        let q = "What is the narrator's name?";
        assert_eq!(check("The narrator's name is. [p. 4]", &given(q, &[])), Some(Ungrounded::RestatesQuestion));
        let q = "What became of George, who stayed behind at Stanmore to warn the neighbours?";
        let a = "George became of George, who stayed behind at Stanmore to warn the neighbour.";
        assert_eq!(check(a, &given(q, &[])), Some(Ungrounded::RestatesQuestion));
        let a = "Based on the information provided in the passages, George stayed behind at Stanmore.";
        assert_eq!(check(a, &given(q, &[])), Some(Ungrounded::RestatesQuestion));
        // One word of its own is an answer.
        assert_eq!(check("George drowned at Stanmore.", &given(q, &[("3", "He drowned.")])), None);
        assert_eq!(check("No.", &given("Does it need special settings?", &[])), None);
    }

    #[test]
    fn an_answer_in_words_no_passage_holds_is_withheld() {
        let texts = [("29", "The artilleryman greeted me; my neighbour called me by name.")];
        let q = "What is the narrator's name?";
        let verdict = check("The narrator's name is John. [p. 29]", &given(q, &texts));
        assert_eq!(verdict, Some(Ungrounded::InventedWords { words: vec!["john".into()] }));
        assert!(verdict.unwrap().replacement().contains("\"john\""));
        // One word found is enough; inflections and possessives are found too.
        assert_eq!(check("The artilleryman's neighbour, John. [p. 29]", &given(q, &texts)), None);
        assert_eq!(check("He was greeting John. [p. 29]", &given(q, &texts)), None);
        // Yes and no need no passage; numbers are the figures' check.
        assert_eq!(check("No.", &given("Is the narrator named?", &texts)), None);
        assert_eq!(check("Forty.", &given("How many?", &[("2", "There were 40.")])), None);
        // Section names count as given.
        let g = Given { sections: &["Chapter 8 - Dead London"], ..given("Which chapter?", &texts) };
        assert_eq!(check("Dead London.", &g), None);
        assert!(check("Dead London.", &given("Which chapter?", &texts)).is_some());
    }

    #[test]
    fn a_question_about_a_name_no_passage_holds_is_not_answered() {
        let texts = [("9", "Debconf6 was held in Oaxtepec, Mexico, in 2006. Python 3 and x86-64 builds.")];
        let verdict = check("DebConf22 was held in Oaxtepec. [p. 9]", &given("Where was DebConf22 held?", &texts));
        assert_eq!(verdict, Some(Ungrounded::NotAbout { names: vec!["DebConf22".into()] }));
        assert!(verdict.unwrap().replacement().contains("do not mention DebConf22"));
        assert_eq!(check("In Oaxtepec. [p. 9]", &given("Where was DebConf6 held?", &texts)), None);
        assert_eq!(check("Yes. [p. 9]", &given("Is there a Python3 build for x86_64?", &texts)), None);
        assert_eq!(check("In Oaxtepec. [p. 9]", &given("Where was the 2006 (6th) one, v2?", &texts)), None, "short");
    }

    #[test]
    fn figures_of_page_labels_and_section_names_are_given_as_references_only() {
        let texts = [("20", "The second edition has over 1000 pages.")];
        let q = "How many pages did the first edition have?";
        let g = Given { sections: &["5.2 Bash Variables"], ..given(q, &texts) };
        assert_eq!(
            check("It had 20 pages.", &g),
            Some(Ungrounded::InventedFigures { figures: vec!["20".into()] }),
            "the label of the page it is on"
        );
        assert_eq!(check("It is on page 20.", &g), None);
        assert!(check("Version 5.2 added them.", &g).is_some());
        assert_eq!(check("It is in section 5.2.", &g), None);
        assert_eq!(check("In 5.2 Bash Variables.", &g), None, "a quoted section name");
        let issues = Given { sections: &["Issue 28, 2018/04 › Hooks"], ..given("Which issue?", &texts) };
        assert_eq!(check("Issue 28, 2018/04. [p. 42]", &issues), None, "an element of a section path");
        assert_eq!(check("It came with issue 28, 2018/04. [p. 42]", &issues), None, "a reference to it");
        assert!(check("It came in 2018. [p. 42]", &issues).is_some());
    }

    #[test]
    fn a_name_the_question_does_not_write_is_an_answer() {
        let q = "What is the default name of the file to which the fit log is written?";
        assert_eq!(check("The default name is \"fit.log\". [p. 149]", &given(q, &[("149", "\"fit.log\"")])), None);
        assert_eq!(check("The default name of the fit log file.", &given(q, &[])), Some(Ungrounded::RestatesQuestion));
        assert!(names_new("It installs into /usr/local.", "Which prefix does make install use?"));
        assert!(!names_new("Readers of LaTeX 2.09 know it.", "Readers who never used LaTeX 2.09?"));
        assert!(!names_new("A well-known name.", "Which well-known name?"));
    }

    #[test]
    fn a_choice_between_named_alternatives_may_use_the_questions_words() {
        assert_eq!(check("Blue. [p. 2]", &given("Is the default red or blue?", &[])), None);
    }

    #[test]
    fn a_name_in_code_quotes_may_be_a_word_of_the_question() {
        let q = "Which builtin command lists the jobs?";
        assert_eq!(check("The `jobs` builtin. [p. 9]", &given(q, &[])), None);
        assert_eq!(check("The builtin lists the jobs. [p. 9]", &given(q, &[])), Some(Ungrounded::RestatesQuestion));
        assert!(!quotes_code("a ` lone backtick"));
    }

    #[test]
    fn an_answer_that_says_it_does_not_know_is_kept() {
        let q = "How many coprocesses can be active?";
        assert_eq!(check("The document does not say how many coprocesses can be active.", &given(q, &[])), None);
        assert_eq!(check("The passages do not specify 2 limits.", &given(q, &[])), None);
    }

    #[test]
    fn the_replacement_says_the_passages_do_not_say() {
        let r = Ungrounded::InventedFigures { figures: vec!["32".into()] }.replacement();
        assert!(r.contains("do not say") && r.contains("32"), "{r}");
        assert!(Ungrounded::RestatesQuestion.replacement().contains("do not say"));
    }
}
