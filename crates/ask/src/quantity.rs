//! Questions that ask for a number ("How many …?", "In what year …?", "Which version …?")
//! and answers that give none. A small model asked for a figure the passages do not hold
//! often answers with a sentence about something near it ("The price of the second edition
//! was every LaTeXie's ultimate lucky charm."): whatever else it says, it has not answered.

use crate::figures::numbers;

/// Phrases by which a question asks for a number, a date or a version.
const ASKING_NUMBER: &[&[&str]] = &[
    &["how", "many"],
    &["how", "much"],
    &["how", "old"],
    &["how", "often"],
    &["what", "year"],
    &["which", "year"],
    &["what", "date"],
    &["which", "date"],
    &["what", "version"],
    &["which", "version"],
    &["what", "percentage"],
    &["the", "price"],
];

/// Words that give a quantity without digits or a spelled number.
const QUANTITY_WORDS: &[&str] = &["dozen", "dozens", "half", "once", "twice", "thrice"];

/// Whether `question` asks for a number (a count, an amount, an age, a year, a date or a
/// version).
pub(crate) fn asks_number(question: &str) -> bool {
    let words: Vec<String> =
        question.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    ASKING_NUMBER.iter().any(|phrase| words.windows(phrase.len()).any(|w| w == *phrase))
}

/// Whether `answer` gives a number that `question` does not: digits, a number in words
/// ("sixteen", "the tenth") or a quantity word ("a dozen", "twice").
pub(crate) fn gives_number(answer: &str, question: &str) -> bool {
    let asked = numbers(question);
    numbers(answer).iter().any(|n| !asked.contains(n))
        || answer.split(|c: char| !c.is_alphabetic()).any(|w| QUANTITY_WORDS.contains(&w.to_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_asking_for_numbers_are_told_apart() {
        assert!(asks_number("How many coprocesses can be active at the same time?"));
        assert!(asks_number("In what year was LaTeX3 expected?"));
        assert!(asks_number("What was the price of the second edition?"));
        assert!(asks_number("Which version of Readline is bundled?"));
        assert!(!asks_number("How do you display plots inline?"));
        assert!(!asks_number("What is the narrator's name?"));
        assert!(!asks_number("Which versions' notes mention much of it?"), "words apart are no phrase");
    }

    #[test]
    fn a_question_asking_a_number_answered_without_one_is_withheld() {
        use crate::grounding::{check, Given, Ungrounded, MIN_MEAN_LOGPROB};
        let texts = [("20", "TLC2: the second edition, every LaTeXie's ultimate lucky charm, 1100+ pages.")];
        let given = |question| Given {
            question,
            texts: &texts,
            sections: &[],
            passages: true,
            confidence: None,
            min_mean_logprob: MIN_MEAN_LOGPROB,
        };
        let q = "What was the price of the second edition?";
        let verdict = check("The price of the second edition was a lucky charm. [p. 20]", &given(q));
        assert_eq!(verdict, Some(Ungrounded::NoNumber));
        assert!(verdict.unwrap().replacement().contains("asked for a number, it gave none"));
        assert_eq!(check("The passages do not say.", &given(q)), None, "saying so is no invention");
        assert_eq!(check("It had 1100+ pages. [p. 20]", &given("How many pages did it have?")), None);
    }

    #[test]
    fn numbers_are_found_however_written() {
        let q = "How many?";
        assert!(gives_number("There were sixteen tentacles.", q));
        assert!(gives_number("It had 1100+ pages.", q));
        assert!(gives_number("About a dozen.", q));
        assert!(gives_number("The tenth one.", q));
        assert!(!gives_number("GNU Parallel is a tool to do just that.", q));
        // The question's own numbers are no answer.
        let q = "What was the price of the second edition in 2004?";
        assert!(!gives_number("The price of the second edition in 2004 was a lucky charm.", q));
        assert!(gives_number("The second edition cost 60 dollars in 2004.", q));
    }
}
