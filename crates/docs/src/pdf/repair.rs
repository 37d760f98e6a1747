//! Rebuilds a PDF whose cross-reference table is missing or wrong (a truncated download, a
//! careless editor), so that the pages that are still in the file can be read.
//!
//! The file is scanned for `N G obj` headers, a fresh cross-reference table and trailer are
//! appended, and lopdf loads the result. If the page tree itself is gone, the page objects
//! found are put into a new one, in object-number order (a guess, said in the warning).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use lopdf::{dictionary, Document, Object, ObjectId};

/// Object numbers above this are ignored: a hostile number would make a giant table.
const OBJECT_NUMBER_MAX: u32 = 8_000_000;

/// A repaired document and what was done, in words.
pub(crate) struct Repaired {
    pub doc: Document,
    pub detail: String,
}

/// Tries to rebuild `bytes`; `None` if no object could be found at all.
pub(crate) fn repair(bytes: &[u8]) -> Option<Repaired> {
    let objects = scan_objects(bytes);
    if objects.is_empty() {
        return None;
    }
    let root = find_root(bytes, &objects);
    let rebuilt = append_xref(bytes, &objects, root);
    let mut doc = Document::load_mem(&rebuilt).ok()?;
    let mut detail = format!(
        "the cross-reference table was damaged or missing (a truncated file?); rebuilt it from {} objects found",
        objects.len()
    );
    if doc.get_pages().is_empty() {
        if attach_page_tree(&mut doc) {
            detail.push_str("; the catalog was lost and has been recreated");
        } else if rebuild_page_tree(&mut doc) {
            detail.push_str("; the page tree was lost, so pages follow their object numbers");
        }
    }
    Some(Repaired { doc, detail })
}

/// Finds `N G obj` headers: object number → (generation, byte offset). A later definition of
/// the same number wins, as in an incremental update.
fn scan_objects(bytes: &[u8]) -> BTreeMap<u32, (u16, usize)> {
    let mut found = BTreeMap::new();
    let mut i = 0;
    while let Some(pos) = find(&bytes[i..], b"obj").map(|p| p + i) {
        i = pos + 3;
        if bytes.get(pos + 3).is_some_and(|b| b.is_ascii_alphanumeric()) {
            continue; // "objects", "objStm"
        }
        // Walk back over: whitespace, generation digits, whitespace, number digits.
        let mut j = pos;
        let spaces = |j: &mut usize| {
            let start = *j;
            while *j > 0 && bytes[*j - 1].is_ascii_whitespace() {
                *j -= 1;
            }
            *j < start
        };
        let digits = |j: &mut usize| {
            let end = *j;
            while *j > 0 && bytes[*j - 1].is_ascii_digit() && end - *j < 10 {
                *j -= 1;
            }
            (*j < end).then(|| std::str::from_utf8(&bytes[*j..end]).ok()?.parse::<u64>().ok()).flatten()
        };
        if !spaces(&mut j) {
            continue;
        }
        let Some(generation) = digits(&mut j) else {
            continue;
        };
        if !spaces(&mut j) {
            continue;
        }
        let Some(number) = digits(&mut j) else {
            continue;
        };
        let starts_cleanly = j == 0 || bytes[j - 1].is_ascii_whitespace() || b">]}".contains(&bytes[j - 1]);
        if !starts_cleanly || number == 0 || number > u64::from(OBJECT_NUMBER_MAX) || generation > 65_535 {
            continue;
        }
        found.insert(number as u32, (generation as u16, j));
    }
    found
}

/// The catalog: from the last `/Root N G R` in the file (trailer or xref stream), else the
/// last object that declares `/Type /Catalog`.
fn find_root(bytes: &[u8], objects: &BTreeMap<u32, (u16, usize)>) -> Option<ObjectId> {
    let mut search_end = bytes.len();
    while let Some(pos) = rfind(&bytes[..search_end], b"/Root") {
        if let Some(id) = parse_reference(&bytes[pos + 5..]) {
            if objects.contains_key(&id.0) {
                return Some(id);
            }
        }
        search_end = pos;
    }
    objects
        .iter()
        .filter(|(_, &(_, offset))| {
            let window = &bytes[offset..bytes.len().min(offset + 4096)];
            let end = find(window, b"endobj").unwrap_or(window.len());
            let compact: Vec<u8> = window[..end].iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
            find(&compact, b"/Type/Catalog").is_some()
        })
        .map(|(&number, &(generation, _))| (number, generation))
        .next_back()
}

/// Parses " 12 0 R" at the start of `bytes`.
fn parse_reference(bytes: &[u8]) -> Option<ObjectId> {
    let text = std::str::from_utf8(&bytes[..bytes.len().min(40)]).ok().or_else(|| {
        let cut = (0..bytes.len().min(40)).rev().find(|&n| std::str::from_utf8(&bytes[..n]).is_ok())?;
        std::str::from_utf8(&bytes[..cut]).ok()
    })?;
    let mut words = text.split_ascii_whitespace();
    let number = words.next()?.parse().ok()?;
    let generation = words.next()?.parse().ok()?;
    let r = words.next()?;
    r.starts_with('R').then_some((number, generation))
}

/// The original bytes plus a new cross-reference table and trailer.
fn append_xref(bytes: &[u8], objects: &BTreeMap<u32, (u16, usize)>, root: Option<ObjectId>) -> Vec<u8> {
    let size = objects.keys().next_back().map_or(1, |&max| max + 1);
    let mut out = Vec::with_capacity(bytes.len() + size as usize * 20 + 200);
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\n");
    let xref_offset = out.len();
    let mut table = String::with_capacity(size as usize * 20 + 100);
    let _ = write!(table, "xref\n0 {size}\n");
    for number in 0..size {
        match objects.get(&number) {
            Some(&(generation, offset)) => {
                let _ = write!(table, "{offset:010} {generation:05} n\r\n");
            }
            None => table.push_str("0000000000 65535 f\r\n"),
        }
    }
    let _ = write!(table, "trailer\n<< /Size {size}");
    if let Some((number, generation)) = root {
        let _ = write!(table, " /Root {number} {generation} R");
    }
    let _ = write!(table, " >>\nstartxref\n{xref_offset}\n%%EOF\n");
    out.extend_from_slice(table.as_bytes());
    out
}

/// Points a new catalog at the surviving root of the page tree (a `/Pages` node without a
/// parent; the largest, if several). False if there is none or it leads to no page.
fn attach_page_tree(doc: &mut Document) -> bool {
    let root = doc
        .objects
        .iter()
        .filter_map(|(&id, o)| o.as_dict().ok().map(|d| (id, d)))
        .filter(|(_, d)| d.has_type(b"Pages") && d.get(b"Parent").is_err())
        .max_by_key(|(_, d)| d.get(b"Count").and_then(Object::as_i64).unwrap_or(0))
        .map(|(id, _)| id);
    let Some(root) = root else { return false };
    let catalog_id = doc.new_object_id();
    doc.objects.insert(catalog_id, Object::Dictionary(dictionary! { "Type" => "Catalog", "Pages" => root }));
    doc.trailer.set("Root", catalog_id);
    !doc.get_pages().is_empty()
}

/// Puts every `/Type /Page` object into a new page tree under a new catalog, copying what
/// the pages inherited from their old parents (resources, media box). False if there are
/// no pages.
fn rebuild_page_tree(doc: &mut Document) -> bool {
    const INHERITED: [&[u8]; 4] = [b"Resources", b"MediaBox", b"CropBox", b"Rotate"];
    let pages: Vec<ObjectId> =
        doc.objects.iter().filter(|(_, o)| o.as_dict().is_ok_and(|d| d.has_type(b"Page"))).map(|(&id, _)| id).collect();
    if pages.is_empty() {
        return false;
    }
    let tree_id = doc.new_object_id();
    for &page in &pages {
        let mut inherited: Vec<(&[u8], Object)> = Vec::new();
        let mut parent = doc.get_dictionary(page).ok().and_then(|d| d.get(b"Parent").ok()?.as_reference().ok());
        let mut depth = 0;
        while let (Some(id), true) = (parent, depth < 32) {
            let Ok(node) = doc.get_dictionary(id) else {
                break;
            };
            for key in INHERITED {
                if let Ok(value) = node.get(key) {
                    if !inherited.iter().any(|(k, _)| *k == key) {
                        inherited.push((key, value.clone()));
                    }
                }
            }
            parent = node.get(b"Parent").ok().and_then(|p| p.as_reference().ok());
            depth += 1;
        }
        if let Ok(dict) = doc.get_object_mut(page).and_then(Object::as_dict_mut) {
            for (key, value) in inherited {
                if dict.get(key).is_err() {
                    dict.set(key, value);
                }
            }
            dict.set("Parent", tree_id);
        }
    }
    let kids: Vec<Object> = pages.iter().map(|&id| Object::Reference(id)).collect();
    // The lost tree may have carried the inherited MediaBox; US Letter is the usual default.
    let tree = dictionary! {
        "Type" => "Pages",
        "Kids" => kids,
        "Count" => pages.len() as i64,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
    };
    doc.objects.insert(tree_id, Object::Dictionary(tree));
    let catalog_id = doc.new_object_id();
    doc.objects.insert(catalog_id, Object::Dictionary(dictionary! { "Type" => "Catalog", "Pages" => tree_id }));
    doc.trailer.set("Root", catalog_id);
    true
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_object_headers() {
        let pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n2 0 obj<</objects 1>>endobj 12 3 obj\n";
        let found = scan_objects(pdf);
        assert_eq!(found.keys().copied().collect::<Vec<_>>(), vec![1, 2, 12]);
        assert_eq!(found[&12].0, 3);
        assert_eq!(find_root(pdf, &found), Some((1, 0)));
    }
}
