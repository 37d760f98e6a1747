//! Numbers written in words ("forty", "thirty-five", "a hundred and twenty", "the tenth"),
//! as digits: a passage that says "nearly forty people" gives the figure an answer writes
//! "40", and a question about "the tenth argument" gives "10".

const UNITS: &[&str] = &[
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: &[&str] = &["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
const UNIT_ORDINALS: &[&str] = &[
    "",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
];
const TEN_ORDINALS: &[&str] =
    &["", "", "twentieth", "thirtieth", "fortieth", "fiftieth", "sixtieth", "seventieth", "eightieth", "ninetieth"];

/// What one word adds to a number being read.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    /// Adds to the current group ("forty", "five", "tenth").
    Add(u64),
    /// Multiplies the current group ("hundred", "dozen").
    Times(u64),
    /// Closes the current group into the total ("thousand", "million").
    Scale(u64),
}

fn part(word: &str) -> Option<Part> {
    let index = |list: &[&str]| list.iter().position(|w| *w == word).filter(|&i| !list[i].is_empty());
    if let Some(i) = index(UNITS).or_else(|| index(UNIT_ORDINALS)) {
        return Some(Part::Add(i as u64));
    }
    if let Some(i) = index(TENS).or_else(|| index(TEN_ORDINALS)) {
        return Some(Part::Add(i as u64 * 10));
    }
    match word {
        "hundred" | "hundredth" => Some(Part::Times(100)),
        "dozen" => Some(Part::Times(12)),
        "thousand" | "thousandth" => Some(Part::Scale(1_000)),
        "million" | "millionth" => Some(Part::Scale(1_000_000)),
        _ => None,
    }
}

/// The numbers written in words in `text`, as digits, in order.
pub(crate) fn spelled_numbers(text: &str) -> Vec<String> {
    let words: Vec<String> =
        text.split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    let mut out = Vec::new();
    let (mut total, mut group, mut reading) = (0u64, 0u64, false);
    let mut flush = |total: &mut u64, group: &mut u64, reading: &mut bool| {
        if std::mem::take(reading) {
            out.push((*total + *group).to_string());
        }
        (*total, *group) = (0, 0);
    };
    for (i, word) in words.iter().enumerate() {
        let next = words.get(i + 1).and_then(|w| part(w));
        match part(word) {
            Some(Part::Add(n)) => {
                // "twenty five", "hundred and six": one number; "five six": two.
                let tens_then_unit = group % 10 == 0 && group % 100 >= 20 && n < 10;
                let hundreds_then_more = group % 100 == 0 && (group > 0 || total > 0);
                if reading && (tens_then_unit || hundreds_then_more) {
                    group += n;
                } else {
                    flush(&mut total, &mut group, &mut reading);
                    group = n;
                }
                reading = true;
            }
            Some(Part::Times(n)) => {
                group = group.max(1) * n;
                reading = true;
            }
            Some(Part::Scale(n)) => {
                total += group.max(1) * n;
                group = 0;
                reading = true;
            }
            // "a hundred", "a dozen"; "one hundred and twenty".
            None if word == "a" && matches!(next, Some(Part::Times(_) | Part::Scale(_))) && !reading => {
                group = 1;
                reading = true;
            }
            None if word == "and" && reading && matches!(next, Some(Part::Add(_))) => {}
            None => flush(&mut total, &mut group, &mut reading),
        }
    }
    flush(&mut total, &mut group, &mut reading);
    out
}

#[cfg(test)]
mod tests {
    use super::spelled_numbers;

    #[test]
    fn numbers_in_words_become_digits() {
        assert_eq!(spelled_numbers("nearly forty people lay charred"), vec!["40"]);
        assert_eq!(spelled_numbers("about thirty-five yards, then two or three"), vec!["35", "2", "3"]);
        assert_eq!(spelled_numbers("such as the tenth argument"), vec!["10"]);
        assert_eq!(spelled_numbers("a hundred and twenty men"), vec!["120"]);
        assert_eq!(spelled_numbers("two thousand five hundred and six"), vec!["2506"]);
        assert_eq!(spelled_numbers("a dozen eggs; a thousand times"), vec!["12", "1000"]);
        assert_eq!(spelled_numbers("the twenty-first of June, in nineteen"), vec!["21", "19"]);
        assert!(spelled_numbers("A man, a plan, and a canal").is_empty());
    }
}
