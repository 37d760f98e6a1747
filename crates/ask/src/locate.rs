//! Questions that ask where the document says something ("Which section explains …?",
//! "In which chapter …?", "Which issue announced …?") are answered with the document's own
//! outline. Each passage's marker names its section ([`crate::sections`]), yet a small model
//! asked which section often answers with a page ("It is on page 45. [p. 35]"), with the
//! question's own words, or with the section of a neighbouring passage. When its answer
//! names the section of no given passage, the answer becomes the section of the passage
//! that holds the most of the question's words (at least [`MIN_QUESTION_SHARE`] of them, so
//! that a passage that merely matched is not named); of equals, the one on a page the
//! answer cited or named, then the one full-text search ranked higher. (On the QA
//! benchmark's which-section questions, the page a model pointed at was the right one less
//! often than the passage holding the question's words.)

use std::collections::HashSet;

use crate::citations::{self, Checked, CitablePages};
use crate::excerpt::content_words;
use crate::grounding::says_not_found;
use crate::prompt::GivenPassage;
use crate::turn::Spoken;

/// Nouns that always ask for a place in the outline: "which section …".
const PLACE_NOUNS: &[&str] = &["section", "subsection", "chapter", "appendix", "heading"];
/// Nouns that ask for a place when the document's sections are named by them ("Issue 18",
/// "Part II", "Book Two"), and for "part", also as "which part of the document".
const NAMED_PLACE_NOUNS: &[&str] = &["part", "issue", "book", "volume", "lecture", "article", "unit", "lesson"];
/// What "part of the …" must be followed by to ask for a place in the document.
const WHOLES: &[&str] = &["document", "book", "manual", "text", "guide", "reference", "report"];
/// Words of a where-question that say nothing about what the place holds.
#[rustfmt::skip]
const ASKING: &[&str] = &[
    "section", "sections", "subsection", "chapter", "appendix", "heading", "part", "issue", "book", "volume",
    "lecture", "article", "unit", "lesson", "document", "explains", "explain", "describes", "describe", "documents",
    "shows", "show", "reports", "report", "tells", "tell", "would", "learn", "find", "covers", "discusses",
];
/// The least share of the question's content words (those not asking for the place) that
/// a passage must hold for its section to be named.
pub const MIN_QUESTION_SHARE: f64 = 0.4;

/// A which-section answer taken from the outline in place of the model's words.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Relocated {
    /// What the model answered (citations validated as usual).
    pub model_text: String,
    /// Whether the model pointed at the passage's page (cited or named it).
    pub pointed: bool,
}

/// The section named in place of a model's answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Located {
    /// Index of the passage in the given passages.
    pub passage: usize,
    /// The answer shown, without its citation.
    pub text: String,
    /// See [`Relocated::pointed`].
    pub pointed: bool,
}

/// The noun by which `question` asks for a place in the document ("section" for "Which
/// section explains …?"), if it does.
pub fn asked_place(question: &str) -> Option<&'static str> {
    let words = lower_words(question);
    words.windows(2).find_map(|pair| {
        if pair[0] != "which" && pair[0] != "what" {
            return None;
        }
        let noun = pair[1].strip_suffix('s').filter(|n| n.len() > 3).unwrap_or(&pair[1]);
        PLACE_NOUNS.iter().chain(NAMED_PLACE_NOUNS).find(|n| **n == noun).copied()
    })
}

/// The section to answer `question` with in place of `answer`, if the question asks which
/// section and the answer names none of the given passages' sections. `pointed`: page
/// labels the answer cited or named, in order.
pub(crate) fn relocate(question: &str, answer: &str, pointed: &[String], passages: &[GivenPassage]) -> Option<Located> {
    let noun = asked_place(question)?;
    if says_not_found(answer) {
        return None;
    }
    let named_by_noun =
        |section: &str| section.split(" › ").any(|part| lower_words(part).first().is_some_and(|w| w == noun));
    let always = PLACE_NOUNS.contains(&noun) || (noun == "part" && asks_part_of_whole(question));
    let placed: Vec<usize> = passages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.section.as_deref().is_some_and(|s| always || named_by_noun(s)))
        .map(|(i, _)| i)
        .collect();
    let section = |i: usize| passages[i].section.as_deref().unwrap_or_default();
    // The innermost section, or the one named by the noun asked ("Issue 32, 2020/10" of
    // "Issue 32, 2020/10 › Hooks" for "which issue"), named with some word beyond the
    // question's (an answer that repeats "… jitter …" does not name the section "Jitter").
    let question_words: HashSet<String> = lower_words(question).into_iter().collect();
    let named = |i: usize| {
        section(i).split(" › ").enumerate().any(|(level, part)| {
            let innermost = level + 1 == section(i).split(" › ").count();
            (innermost || lower_words(part).first().is_some_and(|w| w == noun))
                && names(answer, part)
                && lower_words(part).iter().any(|w| !question_words.contains(w))
        })
    };
    if placed.is_empty() || placed.iter().any(|&i| named(i)) {
        return None;
    }
    let asked: Vec<String> = content_words(question)
        .into_iter()
        .filter(|w| w.chars().count() > 1 && !ASKING.contains(&w.as_str()))
        .collect();
    let share = |i: usize| {
        let words: HashSet<String> = content_words(&passages[i].text).into_iter().collect();
        asked.iter().filter(|w| words.contains(*w)).count() as f64 / asked.len().max(1) as f64
    };
    let is_pointed = |i: usize| pointed.iter().any(|l| same_label(&passages[i].page_label, l));
    // Most of the question's words first; of equals, the one the answer pointed at, then
    // the one full-text search ranked higher.
    let key = |i: usize| (share(i), is_pointed(i), passages[i].score);
    let passage = placed.iter().copied().filter(|&i| share(i) >= MIN_QUESTION_SHARE).max_by(|&a, &b| {
        let (ka, kb) = (key(a), key(b));
        ka.0.total_cmp(&kb.0).then(ka.1.cmp(&kb.1)).then(ka.2.total_cmp(&kb.2))
    })?;
    Some(Located { passage, text: format!("In {}", section(passage)), pointed: is_pointed(passage) })
}

/// Whether `answer` to `question`, which asks which section, names one of `sections` (a
/// part of its path, with some word beyond the question's): the answer was read off a
/// passage's marker.
pub fn names_given_section(question: &str, answer: &str, sections: &[&str]) -> bool {
    if asked_place(question).is_none() {
        return false;
    }
    let question_words: HashSet<String> = lower_words(question).into_iter().collect();
    sections.iter().flat_map(|s| s.split(" › ")).any(|part| {
        names(answer, part) && lower_words(part).iter().any(|w| !question_words.contains(w) && w.chars().count() > 2)
    })
}

/// The pages an answer pointed at, in order: those it cited (kept or removed as not
/// supporting their sentence), those it named in words ("on page 45"), then those Seahorse
/// attributed to its uncited sentences.
pub(crate) fn pointed_pages(spoken: &Spoken, citable: &CitablePages) -> Vec<String> {
    let labels = |c: &citations::Citation| c.pages.iter().map(|p| p.label.clone()).collect::<Vec<_>>();
    let mut out: Vec<String> = spoken.citations.iter().filter(|c| !c.attributed).flat_map(labels).collect();
    for span in &spoken.unsupported {
        if let Checked::Valid(c) = citations::check(span, citable) {
            out.extend(labels(&c));
        }
    }
    out.extend(named_pages(&spoken.text));
    out.extend(spoken.citations.iter().filter(|c| c.attributed).flat_map(labels));
    let mut seen = HashSet::new();
    out.retain(|l| seen.insert(l.to_lowercase()));
    out
}

/// Page labels (numbers, roman numerals) an answer names in its words ("on page 45", "p. 12"), in order.
pub(crate) fn named_pages(answer: &str) -> Vec<String> {
    let tokens: Vec<&str> = answer.split_whitespace().collect();
    let mut out = Vec::new();
    for pair in tokens.windows(2) {
        let word = pair[0].trim_start_matches(['(', '[']).to_lowercase();
        if matches!(word.as_str(), "page" | "p." | "pp." | "pages") {
            let label = pair[1].trim_matches(|c: char| !c.is_alphanumeric());
            let numeral = label.chars().any(|c| c.is_ascii_digit())
                || label.chars().all(|c| "ivxlcdm".contains(c.to_ascii_lowercase()));
            if !label.is_empty() && numeral && !out.iter().any(|l: &String| l == label) {
                out.push(label.to_owned());
            }
        }
    }
    out
}

/// "part of the document": `question` asks for a part of the whole.
fn asks_part_of_whole(question: &str) -> bool {
    let words = lower_words(question);
    words.windows(4).any(|w| w[0] == "part" && w[1] == "of" && w[2] == "the" && WHOLES.contains(&w[3].as_str()))
}

/// Whether `answer` names the section `title`: its words in a row, leading numbers ("20"
/// of "20 Those blank pages") optional.
fn names(answer: &str, title: &str) -> bool {
    let answer = lower_words(answer);
    let title = lower_words(title);
    let core: Vec<String> = title.iter().skip_while(|w| w.chars().all(|c| c.is_ascii_digit())).cloned().collect();
    let within = |part: &[String]| answer.windows(part.len()).any(|w| w == part);
    !core.is_empty() && (within(&title) || within(&core))
}

fn same_label(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Lower-cased runs of letters and digits.
fn lower_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(label: &str, section: Option<&str>, score: f32, text: &str) -> GivenPassage {
        GivenPassage {
            doc: 1,
            page_index: label.parse::<u32>().unwrap_or(0).saturating_sub(1),
            page_label: label.into(),
            section: section.map(Into::into),
            score,
            tokens: 0,
            text: text.into(),
        }
    }

    #[test]
    fn a_section_named_off_a_marker_is_not_withheld_as_unsure() {
        use crate::grounding::{check, Given, MIN_MEAN_LOGPROB};
        use crate::selfcheck::Confidence;
        let q = "Which section of the manual says what gnuplot cannot do?";
        let sections = ["V Bugs › Known limitations"];
        assert!(names_given_section(q, "In the section titled \"Known limitations\" (p. 303).", &sections));
        let repeats = "Which section lists known limitations?";
        assert!(!names_given_section(repeats, "Known limitations.", &sections), "no word beyond the question's");
        assert!(!names_given_section("Who wrote it?", "Known limitations.", &sections), "not asked which section");
        let texts = [("303", "Known limitations. Some terminals cannot rotate text.")];
        let unsure = Confidence { mean_logprob: -0.42, min_logprob: -3.0, lift: Some(1.5) };
        let given = Given {
            question: q,
            texts: &texts,
            sections: &sections,
            passages: true,
            confidence: Some(unsure),
            min_mean_logprob: MIN_MEAN_LOGPROB,
        };
        assert_eq!(check("In V Bugs › Known limitations [p. 303].", &given), None);
        assert!(check("In the chapter about terminals that rotate text. [p. 303]", &given).is_some());
    }

    fn passages() -> Vec<GivenPassage> {
        vec![
            passage("46", Some("Redirections › Here Documents"), 4.0, "A here document redirects input lines."),
            passage(
                "47",
                Some("Redirections › Here Strings"),
                3.0,
                "A variant of here documents, the format is: [n]<<< word. The word undergoes tilde expansion.",
            ),
            passage("176", Some("Index"), 5.0, "here documents, 46; here strings, 47"),
        ]
    }

    const QUESTION: &str = "Which section documents the '[n]<<< word' redirection, a variant of here documents?";

    #[test]
    fn questions_that_ask_for_a_place() {
        assert_eq!(asked_place(QUESTION), Some("section"));
        assert_eq!(asked_place("In which chapter does the narrator find the landlord?"), Some("chapter"));
        assert_eq!(asked_place("Which subsections cover hooks?"), Some("subsection"));
        assert_eq!(asked_place("Which issue of LaTeX News consists of one line?"), Some("issue"));
        // Not a place: the noun is not right after "which"/"what", or is no place.
        assert_eq!(asked_place("What must you issue to get the fancy layout?"), None);
        assert_eq!(asked_place("Which package gives chapter-relative page numbers?"), None);
        assert_eq!(asked_place("Who wrote the section on hooks?"), None);
    }

    #[test]
    fn an_answer_naming_a_page_gets_the_section_of_that_page() {
        let located = relocate(QUESTION, "It is on page 47.", &named_pages("It is on page 47."), &passages());
        assert_eq!(located, Some(Located { passage: 1, text: "In Redirections › Here Strings".into(), pointed: true }));
        // A cited page counts the same.
        let cited = relocate(QUESTION, "Duplicating File Descriptors", &["47".to_owned()], &passages());
        assert_eq!(cited.map(|l| l.passage), Some(1));
    }

    #[test]
    fn an_answer_naming_a_given_section_is_kept() {
        for answer in ["Section 3.6.7, Here Strings [p. 47]", "See the Index."] {
            assert_eq!(relocate(QUESTION, answer, &["47".to_owned()], &passages()), None, "{answer}");
        }
        // Repeating the question's words is not naming a section made of them.
        let echo = relocate(QUESTION, "The section on the variant of here documents.", &[], &passages());
        assert_eq!(echo.map(|l| l.passage), Some(1));
        // "The passages do not say" stays.
        assert_eq!(relocate(QUESTION, "The passages do not say.", &[], &passages()), None);
        // Not a where-question.
        assert_eq!(relocate("What does [n]<<< word do?", "It is on page 47.", &["47".into()], &passages()), None);
    }

    #[test]
    fn the_passage_holding_the_most_of_the_question_is_named() {
        // Page 46's passage holds "here" but not "variant", "word", "redirection"; page
        // 176 ranks first by score but holds less of the question.
        let located = relocate(QUESTION, "The section about redirections.", &[], &passages()).unwrap();
        assert_eq!((located.passage, located.pointed), (1, false));
        // A pointed page whose passage holds none of the question is passed over.
        let unrelated = passage("9", Some("Intro"), 1.0, "Bash is a shell.");
        let mut with_intro = passages();
        with_intro.push(unrelated.clone());
        let located = relocate(QUESTION, "It is on page 9.", &["9".to_owned()], &with_intro).unwrap();
        assert_eq!((located.passage, located.pointed), (1, false));
        // A pointed page whose passage holds less of the question loses.
        let located = relocate(QUESTION, "It is on page 176.", &["176".to_owned()], &passages()).unwrap();
        assert_eq!((located.passage, located.pointed), (1, false));
        // Of passages holding as much, the one pointed at wins, then the higher ranked.
        let even = [
            passage("14", Some("Chapter 9 - The Fighting Begins"), 9.0, "the landlord of the Spotted Dog"),
            passage("15", Some("Chapter 10 - In the Storm"), 5.0, "the landlord of the Spotted Dog"),
        ];
        let q = "In which chapter is the landlord of the Spotted Dog found?";
        assert_eq!(relocate(q, "On page 15.", &["15".to_owned()], &even).map(|l| l.passage), Some(1));
        assert_eq!(relocate(q, "Somewhere in the book.", &[], &even).map(|l| l.passage), Some(0));
        // No passage holds enough of the question: nothing is named.
        assert_eq!(relocate(QUESTION, "On page 9.", &["9".to_owned()], &[unrelated]), None);
    }

    #[test]
    fn nouns_that_name_sections_only_in_some_documents() {
        let issues = [
            passage("22", Some("Issue 18, 2007/12"), 2.0, "LaTeX News, Issue 18. This news never existed."),
            passage("23", Some("Issue 19, 2008/06"), 3.0, "New hooks in the kernel."),
        ];
        let q = "Which issue of LaTeX News consists only of the statement 'This news never existed.'?";
        let located = relocate(q, "It is found on page 22.", &named_pages("It is found on page 22."), &issues);
        assert_eq!(located.map(|l| l.text).as_deref(), Some("In Issue 18, 2007/12"));
        // Naming the issue in an answer is enough, whatever section inside it the passage is in.
        let inner = [passage("22", Some("Issue 18, 2007/12 › Nothing"), 2.0, "This news never existed.")];
        assert_eq!(relocate(q, "Issue 18, 2007/12 says so. [p. 22]", &["22".to_owned()], &inner), None);
        assert!(relocate(q, "Nothing, on page 22.", &["22".to_owned()], &inner).is_none());
        assert!(relocate(q, "It is on page 22.", &["22".to_owned()], &inner).is_some());
        // "issue" in a document whose sections are not issues asks for no place.
        let chapters = [passage("22", Some("Chapter 3"), 2.0, "This news never existed.")];
        assert_eq!(relocate(q, "On page 22.", &["22".to_owned()], &chapters), None);
        // "part of the document" asks for a place whatever the sections are called.
        let appendix =
            [passage("25", Some("Appendix A The Debian Manifesto"), 2.0, "Ian Murdock's original manifesto")];
        let q = "In which part of the document is Ian Murdock's original Debian Manifesto reproduced?";
        assert_eq!(relocate(q, "On page 25.", &["25".to_owned()], &appendix).map(|l| l.passage), Some(0));
    }

    #[test]
    fn pages_named_in_words() {
        assert_eq!(named_pages("It is on page 45. See also (p. 12) and page xii."), vec!["45", "12", "xii"]);
        assert!(named_pages("No pages here.").is_empty());
    }

    #[test]
    fn a_title_is_named_with_or_without_its_number() {
        assert!(names("Section 20, \"Those blank pages\"", "20 Those blank pages"));
        assert!(names("See Those blank pages.", "20 Those blank pages"));
        assert!(names("In Chapter 10 - In the Storm, he finds", "Chapter 10 - In the Storm"));
        assert!(!names("Chapter 10", "Chapter 10 - In the Storm"));
        assert!(!names("It is on page 20.", "20"));
    }
}
