//! Printed page labels from the PDF's `/PageLabels` number tree (PDF 32000-1 §12.4.2):
//! "i, ii, iii, 1, 2, …", "A-1", whatever the book prints, so that a citation says what the
//! reader sees on the page.

use std::collections::HashSet;

use lopdf::{Dictionary, Document, Object, ObjectId};

/// How deep a number tree may nest before we call it hostile.
const DEPTH_MAX: usize = 32;

/// One label range: from page `start` (0-based) on, labels are `prefix` + numbers in `style`
/// counting from `first`.
struct Range {
    start: i64,
    style: Option<u8>,
    prefix: String,
    first: i64,
}

/// The label of each of the `count` pages, or `None` if the PDF has no `/PageLabels`.
/// A page before the first range gets `None`.
pub(crate) fn page_labels(doc: &Document, count: usize) -> Option<Vec<Option<String>>> {
    let catalog = doc.catalog().ok()?;
    let tree = deref(doc, catalog.get(b"PageLabels").ok()?)?.as_dict().ok()?;
    let mut entries = Vec::new();
    collect(doc, tree, 0, &mut HashSet::new(), &mut entries);
    let mut ranges: Vec<Range> = entries
        .into_iter()
        .filter_map(|(start, dict)| {
            let style = dict.get(b"S").ok().and_then(|s| s.as_name().ok()).and_then(|n| n.first().copied());
            let prefix = dict
                .get(b"P")
                .ok()
                .and_then(|p| deref(doc, p))
                .and_then(|p| lopdf::decode_text_string(p).ok())
                .unwrap_or_default();
            let first = dict.get(b"St").ok().and_then(|s| s.as_i64().ok()).filter(|&s| s >= 1).unwrap_or(1);
            (start >= 0).then_some(Range { start, style, prefix, first })
        })
        .collect();
    if ranges.is_empty() {
        return None;
    }
    ranges.sort_by_key(|r| r.start);
    let labels = (0..count as i64)
        .map(|page| {
            let range = ranges.iter().rev().find(|r| r.start <= page)?;
            let n = range.first.saturating_add(page - range.start);
            let number = match range.style {
                Some(b'D') => n.to_string(),
                Some(b'R') => roman(n).to_uppercase(),
                Some(b'r') => roman(n),
                Some(b'A') => letters(n).to_uppercase(),
                Some(b'a') => letters(n),
                _ => String::new(),
            };
            Some(format!("{}{number}", range.prefix))
        })
        .collect();
    Some(labels)
}

/// Gathers `/Nums` pairs from a number tree node and its `/Kids`, guarding against cycles.
fn collect<'a>(
    doc: &'a Document,
    node: &'a Dictionary,
    depth: usize,
    seen: &mut HashSet<ObjectId>,
    out: &mut Vec<(i64, &'a Dictionary)>,
) {
    if depth > DEPTH_MAX {
        return;
    }
    if let Some(nums) = node.get(b"Nums").ok().and_then(|n| deref(doc, n)).and_then(|n| n.as_array().ok()) {
        for pair in nums.chunks(2) {
            let [key, value] = pair else { continue };
            let (Ok(key), Some(value)) = (key.as_i64(), deref(doc, value).and_then(|v| v.as_dict().ok())) else {
                continue;
            };
            out.push((key, value));
        }
    }
    if let Some(kids) = node.get(b"Kids").ok().and_then(|k| deref(doc, k)).and_then(|k| k.as_array().ok()) {
        for kid in kids {
            if let Ok(id) = kid.as_reference() {
                if !seen.insert(id) {
                    continue;
                }
            }
            if let Some(kid) = deref(doc, kid).and_then(|k| k.as_dict().ok()) {
                collect(doc, kid, depth + 1, seen, out);
            }
        }
    }
}

/// Follows a reference (one level is all the spec allows here).
fn deref<'a>(doc: &'a Document, object: &'a Object) -> Option<&'a Object> {
    match object {
        Object::Reference(id) => doc.get_object(*id).ok(),
        other => Some(other),
    }
}

/// Lowercase roman numeral; numbers too large for roman numerals are written in digits.
fn roman(n: i64) -> String {
    if !(1..5000).contains(&n) {
        return n.to_string();
    }
    crate::postprocess::to_roman(n)
}

/// Lowercase letters as the PDF spec counts them: a..z, then aa..zz, aaa..zzz.
fn letters(n: i64) -> String {
    if !(1..=26 * 100).contains(&n) {
        return n.to_string();
    }
    let letter = (b'a' + ((n - 1) % 26) as u8) as char;
    std::iter::repeat_n(letter, ((n - 1) / 26 + 1) as usize).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_styles() {
        assert_eq!(roman(14), "xiv");
        assert_eq!(roman(1999), "mcmxcix");
        assert_eq!(letters(1), "a");
        assert_eq!(letters(27), "aa");
        assert_eq!(letters(28), "bb");
        assert_eq!(letters(54), "bbb");
    }
}
