//! Drops running headers and footers: lines repeated at the top or bottom of most pages.
//!
//! Two kinds are recognised, each only within the first or last [`ZONE`] lines of a page and
//! only when it appears on at least [`SHARE`] of the pages with text (and on three or more):
//!
//! - the same line every time ("THE RUNNING HEADER BOOK", "© 2024 Publisher");
//! - the same line except for a number that moves with the page ("Page 12 of 300", "xiv",
//!   "12   Chapter Title"). The number must track the page index (number − index constant over
//!   at least three pages), which keeps body lines such as "Chapter 3 begins" that merely
//!   share a shape.

use std::collections::{HashMap, HashSet};

/// How many non-blank lines at each end of a page can be a header or footer.
const ZONE: usize = 2;
/// The share of text pages a line must appear on, in percent.
const SHARE: usize = 40;
/// Fewer pages than this with text: no detection (nothing repeats reliably).
const PAGES_MIN: usize = 4;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Zone {
    Top,
    Bottom,
}

struct Occurrence {
    page: usize,
    line: usize,
    numbers: Vec<i64>,
}

/// Blanks running headers and footers in `pages` (one vector of lines per page). `labels`
/// are the printed page labels where known (PDF `/PageLabels`), indexed like `pages`.
pub(crate) fn drop_running_lines(pages: &mut [Vec<String>], labels: &[Option<String>]) {
    // Every decision looks at the pages as they came; lines are blanked only at the end, so
    // that removing a footer does not move the next line into the footer zone.
    let mut drop = label_lines(pages, labels);
    drop.extend(repeated_lines(pages));
    for (page, line) in drop {
        pages[page][line].clear();
    }
}

/// Lines repeated in the header or footer zone of many pages.
fn repeated_lines(pages: &[Vec<String>]) -> HashSet<(usize, usize)> {
    let mut drop: HashSet<(usize, usize)> = HashSet::new();
    let text_pages = pages.iter().filter(|p| p.iter().any(|l| !l.trim().is_empty())).count();
    if text_pages < PAGES_MIN {
        return drop;
    }
    let threshold = (text_pages * SHARE).div_ceil(100).max(3);

    let mut exact: HashMap<(Zone, String), Vec<(usize, usize)>> = HashMap::new();
    let mut shaped: HashMap<(Zone, String), Vec<Occurrence>> = HashMap::new();
    for (page, lines) in pages.iter().enumerate() {
        for (zone, line) in zone_lines(lines) {
            // Case counts: a running head is typeset the same on every page, and the title
            // page's "The Sea Book" is not the header "THE SEA BOOK".
            let text = lines[line].trim().to_string();
            let (key, numbers) = shape(&text);
            exact.entry((zone, text)).or_default().push((page, line));
            if !numbers.is_empty() {
                shaped.entry((zone, key)).or_default().push(Occurrence { page, line, numbers });
            }
        }
    }

    for occurrences in exact.values() {
        let distinct: HashSet<usize> = occurrences.iter().map(|&(page, _)| page).collect();
        if distinct.len() >= threshold {
            drop.extend(occurrences.iter().copied());
        }
    }
    for occurrences in shaped.values() {
        let tracked = tracking(occurrences, 3);
        let distinct: HashSet<usize> = tracked.iter().map(|o| o.page).collect();
        if distinct.len() >= threshold {
            // The shape is a running line: also take short runs, such as the two roman-numbered
            // pages before the arabic numbering starts.
            drop.extend(tracking(occurrences, 2).iter().map(|o| (o.page, o.line)));
        }
    }
    drop
}

/// Lines at the top or bottom of a page that are exactly its printed label ("xiv",
/// "Page 12"), when at least two pages have one: the page number, whatever the style.
fn label_lines(pages: &[Vec<String>], labels: &[Option<String>]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    for (page, lines) in pages.iter().enumerate() {
        let Some(label) = labels.get(page).cloned().flatten() else {
            continue;
        };
        let label = label.trim().to_lowercase();
        if label.is_empty() {
            continue;
        }
        for (_, line) in zone_lines(lines) {
            let text = lines[line].trim().to_lowercase();
            let text = text
                .strip_prefix("page ")
                .unwrap_or(&text)
                .trim_matches(|c: char| c == '-' || c == '–' || c.is_whitespace());
            if text == label {
                found.push((page, line));
            }
        }
    }
    let distinct: HashSet<usize> = found.iter().map(|&(page, _)| page).collect();
    if distinct.len() < 2 {
        found.clear();
    }
    found
}

/// The indices of the first and last [`ZONE`] non-blank lines of a page.
fn zone_lines(lines: &[String]) -> Vec<(Zone, usize)> {
    let filled: Vec<usize> = (0..lines.len()).filter(|&i| !lines[i].trim().is_empty()).collect();
    let mut out: Vec<(Zone, usize)> = filled.iter().take(ZONE).map(|&i| (Zone::Top, i)).collect();
    out.extend(filled.iter().rev().take(ZONE).map(|&i| (Zone::Bottom, i)));
    out
}

/// The occurrences whose number moves with the page: number − page index is the same on at
/// least `run` pages.
fn tracking(occurrences: &[Occurrence], run: usize) -> Vec<&Occurrence> {
    let mut offsets: HashMap<i64, HashSet<usize>> = HashMap::new();
    for o in occurrences {
        for &n in &o.numbers {
            offsets.entry(n - o.page as i64).or_default().insert(o.page);
        }
    }
    occurrences
        .iter()
        .filter(|o| {
            o.numbers.iter().any(|&n| offsets.get(&(n - o.page as i64)).is_some_and(|pages| pages.len() >= run))
        })
        .collect()
}

/// A line's shape (numbers replaced by `#`) and its numbers, arabic or roman.
fn shape(text: &str) -> (String, Vec<i64>) {
    let mut key = String::with_capacity(text.len());
    let mut numbers = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let word_len: usize = rest.chars().take_while(|c| c.is_alphanumeric()).map(char::len_utf8).sum();
        if word_len == 0 {
            let c = rest.chars().next().expect("rest is not empty");
            key.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let word = &rest[..word_len];
        rest = &rest[word_len..];
        let digits: usize = word.chars().take_while(char::is_ascii_digit).count();
        if digits == word.len() && digits <= 6 {
            numbers.push(word.parse().expect("at most six ASCII digits"));
            key.push('#');
        } else if let Some(n) = single_case(word).then(|| roman(&word.to_lowercase())).flatten() {
            numbers.push(n);
            key.push('#');
        } else {
            key.push_str(word);
        }
    }
    (key, numbers)
}

/// True for "xiv" and "XIV", false for "Mix".
fn single_case(word: &str) -> bool {
    word.chars().all(char::is_lowercase) || word.chars().all(char::is_uppercase)
}

/// The value of a lowercase roman numeral ("xiv" → 14), for front-matter page numbers.
fn roman(word: &str) -> Option<i64> {
    if word.is_empty() || word.len() > 9 {
        return None;
    }
    let value = |c: char| match c {
        'i' => Some(1),
        'v' => Some(5),
        'x' => Some(10),
        'l' => Some(50),
        'c' => Some(100),
        'd' => Some(500),
        'm' => Some(1000),
        _ => None,
    };
    let digits: Vec<i64> = word.chars().map(value).collect::<Option<_>>()?;
    let mut total = 0;
    for (i, &d) in digits.iter().enumerate() {
        if digits.get(i + 1).is_some_and(|&next| next > d) {
            total -= d;
        } else {
            total += d;
        }
    }
    // Only canonical spellings count, so that words like "mix" or "dim" stay words.
    (total > 0 && to_roman(total) == word).then_some(total)
}

/// Lowercase canonical roman numeral of `n` (1..5000).
pub(crate) fn to_roman(mut n: i64) -> String {
    const TABLE: &[(i64, &str)] = &[
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ];
    let mut out = String::new();
    for &(value, letters) in TABLE {
        while n >= value {
            out.push_str(letters);
            n -= value;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages(texts: &[String]) -> Vec<Vec<String>> {
        texts.iter().map(|t| t.lines().map(str::to_string).collect()).collect()
    }

    #[test]
    fn headers_and_moving_page_numbers_go() {
        const WHO: [&str; 8] = ["Ann", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal"];
        let texts: Vec<String> =
            (0..8).map(|i| format!("THE BOOK\n{} sailed\nto {}\nPage {} of 8", WHO[i], WHO[7 - i], i + 1)).collect();
        let mut p = pages(&texts);
        drop_running_lines(&mut p, &[]);
        for (i, page) in p.iter().enumerate() {
            let kept: Vec<String> = page.iter().filter(|l| !l.is_empty()).cloned().collect();
            assert_eq!(kept, vec![format!("{} sailed", WHO[i]), format!("to {}", WHO[7 - i])]);
        }
    }

    #[test]
    fn roman_front_matter_numbers_go() {
        let texts: Vec<String> =
            ["i", "ii", "iii", "iv", "v"].iter().map(|r| format!("text\nsome more\n{r}")).collect();
        let mut p = pages(&texts);
        drop_running_lines(&mut p, &[]);
        assert!(p.iter().all(|page| page[2].is_empty()));
    }

    #[test]
    fn chapter_openings_that_do_not_track_the_page_stay() {
        // "Chapter N" on pages 0, 3, 6, 9: the shape repeats, the number does not move with
        // the page, so these are body text.
        let texts: Vec<String> = (0..10)
            .map(|i| if i % 3 == 0 { format!("Chapter {}\nbody", i / 3 + 1) } else { "body\nx".into() })
            .collect();
        let mut p = pages(&texts);
        drop_running_lines(&mut p, &[]);
        assert_eq!(p[3][0], "Chapter 2");
    }

    #[test]
    fn lines_equal_to_the_printed_label_go() {
        let mut p = pages(&["xii\nbody".into(), "text\nxiii".into(), "xiv is a number\nx".into()]);
        let labels: Vec<Option<String>> = ["xii", "xiii", "xiv"].iter().map(|l| Some(l.to_string())).collect();
        drop_running_lines(&mut p, &labels);
        assert_eq!(p[0], vec!["", "body"]);
        assert_eq!(p[1], vec!["text", ""]);
        assert_eq!(p[2][0], "xiv is a number");
    }

    #[test]
    fn roman_numerals_parse_only_canonically() {
        assert_eq!(roman("xiv"), Some(14));
        assert_eq!(roman("mix"), Some(1009));
        assert_eq!(roman("iiii"), None);
        assert_eq!(roman("dim"), None);
    }
}
