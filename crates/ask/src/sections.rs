//! Which section of a document's outline a passage sits in, so that its marker can say
//! "[page 47] (Shell Syntax › Redirections › Here Strings)": people ask which section or
//! chapter says something, and a page number alone does not tell the model.

use seahorse_docs::Heading;

/// At most this many levels of the path are shown (the innermost ones).
const PATH_LEVELS: usize = 3;
/// The passage is found on its page by this many of its first characters.
const PROBE_CHARS: usize = 60;

/// The outline path (outermost first, joined by " › ") in force where `passage` starts on
/// page `page_index`, whose text is `page_text`. A heading that starts on the page counts
/// when its title is found on the page before the passage, or not found at all (then it is
/// taken to start at the top of the page). `None` when no heading starts before the page.
pub(crate) fn section_path(outline: &[Heading], page_index: u32, page_text: &str, passage: &str) -> Option<String> {
    let page = normalise(page_text);
    let probe: String = normalise(passage).chars().take(PROBE_CHARS).collect();
    let at = page.find(&probe).unwrap_or(0);
    let current = outline.iter().rposition(|h| {
        h.page_index < page_index
            || (h.page_index == page_index && page.find(&normalise(&h.title)).is_none_or(|t| t <= at))
    })?;
    // Its ancestors: going back, each heading of a lower level than the last one taken.
    let mut path = vec![&outline[current]];
    for h in outline[..current].iter().rev() {
        if path.len() == PATH_LEVELS || path.last().is_some_and(|p| p.level == 0) {
            break;
        }
        if path.last().is_some_and(|p| h.level < p.level) {
            path.push(h);
        }
    }
    path.reverse();
    Some(path.iter().map(|h| h.title.as_str()).collect::<Vec<_>>().join(" › "))
}

/// Lower case, white space collapsed to single spaces.
fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(level: u32, title: &str, page_index: u32) -> Heading {
        Heading { level, title: title.into(), page_index }
    }

    fn outline() -> Vec<Heading> {
        vec![
            h(0, "Basic Shell Features", 10),
            h(1, "Redirections", 40),
            h(2, "Here Documents", 46),
            h(2, "Here Strings", 47),
            h(2, "Duplicating File Descriptors", 47),
            h(0, "Shell Builtin Commands", 50),
        ]
    }

    #[test]
    fn the_heading_before_the_passage_on_its_page_is_the_section() {
        let page = "the end of here documents.\n3.6.7 Here Strings A variant of here documents, the format is: \
                    [n]<<< word\n3.6.8 Duplicating File Descriptors The redirection operator [n]<&word";
        let path = |passage: &str| section_path(&outline(), 47, page, passage);
        assert_eq!(
            path("the end of here documents.").as_deref(),
            Some("Basic Shell Features › Redirections › Here Documents")
        );
        assert_eq!(
            path("A variant of here documents").as_deref(),
            Some("Basic Shell Features › Redirections › Here Strings")
        );
        assert_eq!(
            path("The redirection operator [n]<&word").as_deref(),
            Some("Basic Shell Features › Redirections › Duplicating File Descriptors")
        );
    }

    #[test]
    fn pages_between_headings_and_headings_not_found_on_the_page() {
        // Page 44 lies inside Redirections; the passage is not found: the top of the page.
        assert_eq!(
            section_path(&outline(), 44, "text", "other").as_deref(),
            Some("Basic Shell Features › Redirections")
        );
        // A heading that starts on the page but whose title is not on it counts from the top.
        assert_eq!(section_path(&outline(), 50, "builtins", "builtins").as_deref(), Some("Shell Builtin Commands"));
        // Before the first heading: none.
        assert_eq!(section_path(&outline(), 3, "preface", "preface"), None);
        assert_eq!(section_path(&[], 3, "preface", "preface"), None);
    }

    #[test]
    fn only_the_innermost_levels_are_named() {
        let deep = vec![h(0, "A", 0), h(1, "B", 0), h(2, "C", 0), h(3, "D", 0), h(1, "E", 1)];
        assert_eq!(section_path(&deep, 0, "a b c d text", "text").as_deref(), Some("B › C › D"));
        assert_eq!(section_path(&deep, 1, "e text", "text").as_deref(), Some("A › E"));
    }
}
