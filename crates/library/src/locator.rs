//! Locators as JSON, for the `pages.locator` column.

use seahorse_docs::Locator;
use serde_json::{json, Value};

/// The JSON form of a locator: an object with a `kind` and the locator's fields.
pub(crate) fn to_json(locator: &Locator) -> String {
    let value = match locator {
        Locator::Pdf { page_index } => json!({ "kind": "pdf", "page_index": page_index }),
        Locator::Epub { spine_index, href, anchor, chapter_title } => json!({
            "kind": "epub", "spine_index": spine_index, "href": href, "anchor": anchor,
            "chapter_title": chapter_title,
        }),
        Locator::Lines { line_first, line_last } => {
            json!({ "kind": "lines", "line_first": line_first, "line_last": line_last })
        }
        Locator::Section { line_first, line_last, heading } => json!({
            "kind": "section", "line_first": line_first, "line_last": line_last, "heading": heading,
        }),
        Locator::Html { section_index, heading, anchor } => json!({
            "kind": "html", "section_index": section_index, "heading": heading, "anchor": anchor,
        }),
        Locator::Docx { paragraph_first, paragraph_last } => json!({
            "kind": "docx", "paragraph_first": paragraph_first, "paragraph_last": paragraph_last,
        }),
        // A locator kind newer than this crate: keep what Debug shows rather than nothing.
        other => json!({ "kind": "other", "debug": format!("{other:?}") }),
    };
    value.to_string()
}

/// Parses the JSON written by [`to_json`]; `None` for kinds this build does not know.
pub(crate) fn from_json(text: &str) -> Option<Locator> {
    let v: Value = serde_json::from_str(text).ok()?;
    let u = |k: &str| v.get(k).and_then(Value::as_u64).map(|n| n as u32);
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    Some(match v.get("kind")?.as_str()? {
        "pdf" => Locator::Pdf { page_index: u("page_index")? },
        "epub" => Locator::Epub {
            spine_index: u("spine_index")?,
            href: s("href")?,
            anchor: s("anchor"),
            chapter_title: s("chapter_title"),
        },
        "lines" => Locator::Lines { line_first: u("line_first")?, line_last: u("line_last")? },
        "section" => {
            Locator::Section { line_first: u("line_first")?, line_last: u("line_last")?, heading: s("heading") }
        }
        "html" => Locator::Html { section_index: u("section_index")?, heading: s("heading"), anchor: s("anchor") },
        "docx" => Locator::Docx { paragraph_first: u("paragraph_first")?, paragraph_last: u("paragraph_last")? },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips() {
        let all = [
            Locator::Pdf { page_index: 3 },
            Locator::Epub {
                spine_index: 2,
                href: "text/c.xhtml".into(),
                anchor: Some("p7".into()),
                chapter_title: None,
            },
            Locator::Lines { line_first: 1, line_last: 9 },
            Locator::Section { line_first: 4, line_last: 8, heading: Some("Intro".into()) },
            Locator::Html { section_index: 0, heading: None, anchor: Some("top".into()) },
            Locator::Docx { paragraph_first: 5, paragraph_last: 6 },
        ];
        for loc in all {
            assert_eq!(from_json(&to_json(&loc)), Some(loc));
        }
        assert_eq!(from_json("{\"kind\":\"mystery\"}"), None);
    }
}
