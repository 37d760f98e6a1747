//! Numbers as answers write them, for the invented-figure check of [`crate::grounding`]:
//! runs of digits (`5.2`, `10,000`), whether a page, section or chapter word comes before
//! them ("page 20", "Chapter 17", "pages 19, 20 and 24"), and list numbering, which is no
//! figure at all.

/// Words after which a number names a page, a section or the like rather than a fact.
pub(crate) const REFERENCE_WORDS: &[&str] = &[
    "p",
    "pp",
    "page",
    "pages",
    "section",
    "sections",
    "subsection",
    "chapter",
    "chapters",
    "part",
    "appendix",
    "issue",
    "volume",
    "book",
    "§",
];

/// [`figures`] of `text`, each with whether the word before it is a [`REFERENCE_WORDS`]
/// ("page 12", "Chapter 17", "§ 4.2"), or it continues a list of such figures ("pages 19,
/// 20 and 24").
pub(crate) fn referenced_figures(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut before = String::new();
    while !rest.is_empty() {
        let start = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        before.push_str(&rest[..start]);
        rest = &rest[start..];
        if rest.is_empty() {
            break;
        }
        let end = figure_end(rest);
        // Words of the gap, without the punctuation around them: "(p. 166)", "[page 12]".
        let mut gap = before.split(|c: char| !c.is_alphanumeric() && c != '§').filter(|w| !w.is_empty());
        let referenced = match gap.clone().next_back() {
            Some(w) if REFERENCE_WORDS.contains(&w.to_lowercase().as_str()) => true,
            // The rest of a list after a reference word: "pages 19, 20 and 24".
            _ if !out.is_empty() => {
                out.last().is_some_and(|(_, referenced): &(String, bool)| *referenced)
                    && gap.all(|w| ["and", "or", "to", "through"].contains(&w.to_lowercase().as_str()))
            }
            _ => false,
        };
        out.extend(figures(&rest[..end]).into_iter().map(|f| (f, referenced)));
        before.clear();
        rest = &rest[end..];
    }
    out
}

/// Where the figure at the start of `text` ends: digits, with `.` or `,` between digits.
fn figure_end(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut end = 0;
    while end < bytes.len() {
        let b = bytes[end];
        let joins = (b == b'.' || b == b',') && end > 0 && bytes.get(end + 1).is_some_and(u8::is_ascii_digit);
        if b.is_ascii_digit() || joins {
            end += 1;
        } else {
            break;
        }
    }
    end
}

/// `text` without the numbers of list items ("1. ", "2) " at the start of a line, "(3)"):
/// a numbered list is not a figure.
pub(crate) fn without_enumerators(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim_start();
        let digits = trimmed.len() - trimmed.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let rest = &trimmed[digits..];
        let item = digits > 0 && digits <= 2 && (rest.starts_with(". ") || rest.starts_with(") "));
        out.push_str(if item { &rest[2..] } else { line });
        out.push('\n');
    }
    let mut cleaned = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(open) = rest.find('(') {
        let after = &rest[open + 1..];
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 && digits <= 2 && after[digits..].starts_with(')') {
            cleaned.push_str(&rest[..open]);
            rest = &after[digits + 1..];
        } else {
            cleaned.push_str(&rest[..open + 1]);
            rest = after;
        }
    }
    cleaned.push_str(rest);
    cleaned
}

/// Every number of `text`: in digits ([`figures`]) and in words ("forty", "the tenth").
pub(crate) fn numbers(text: &str) -> Vec<String> {
    let mut out = figures(text);
    out.extend(crate::numerals::spelled_numbers(text));
    out
}

/// The numbers in `text`: runs of digits, with a `.` between digits kept (`5.2`, `2.6.32`)
/// and a `,` between digits dropped (`10,000` → `10000`).
pub(crate) fn figures(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let joins = |next: Option<&char>| !current.is_empty() && next.is_some_and(char::is_ascii_digit);
        if c.is_ascii_digit() || (c == '.' && joins(chars.get(i + 1))) {
            current.push(c);
        } else if c == ',' && joins(chars.get(i + 1)) {
            // A thousands separator.
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_read_as_written() {
        assert_eq!(figures("Bash 5.2, 10,000 packages, 640x480 px; ends in 3."), ["5.2", "10000", "640", "480", "3"]);
        assert_eq!(figures("kernel 2.6.32 and 0.99r8"), ["2.6.32", "0.99", "8"]);
        assert!(figures("no numbers here.").is_empty());
    }

    #[test]
    fn figures_after_a_page_or_section_word_are_references() {
        assert_eq!(
            referenced_figures("p. 4, Chapter 17: page 2.5 in 640x480 §9"),
            [
                ("4".into(), true),
                ("17".into(), true),
                ("2.5".into(), true),
                ("640".into(), false),
                ("480".into(), false),
                ("9".into(), true)
            ]
        );
        // In brackets or parentheses too, as answers add them: "(p. 166)".
        assert_eq!(
            referenced_figures("the prefix (p. 166), [page 12], \"Chapter 3\" of 1998"),
            [("166".into(), true), ("12".into(), true), ("3".into(), true), ("1998".into(), false)]
        );
        let listed = referenced_figures("on pages 19, 20, and 24, of 1998 and 30");
        assert_eq!(
            listed,
            [
                ("19".into(), true),
                ("20".into(), true),
                ("24".into(), true),
                ("1998".into(), false),
                ("30".into(), false)
            ]
        );
    }

    #[test]
    fn list_numbers_are_taken_out() {
        assert_eq!(without_enumerators("1. a (2) b 3.5 (x)"), "a  b 3.5 (x)\n");
    }
}
