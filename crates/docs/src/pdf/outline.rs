//! The PDF's outline (bookmarks, PDF 32000-1 §12.3.3): the chapters and sections a viewer
//! lists beside the pages, each with the page it starts on, so that a passage can say which
//! section it is in ("Which section describes …?" is a question people ask).
//!
//! Read defensively: items link to each other by references, so cycles, absurd depths and
//! item counts are cut off; an item whose destination cannot be resolved to a page of this
//! file is left out, its children kept.

use std::collections::{HashMap, HashSet};

use lopdf::{Dictionary, Document, Object, ObjectId};

use crate::model::Heading;

/// Deepest nesting read.
const DEPTH_MAX: u32 = 16;
/// Most items read (a real book has hundreds; gnuplot's manual about 650).
const ITEMS_MAX: usize = 20_000;
/// Longest name-tree nesting followed.
const TREE_DEPTH_MAX: usize = 32;
/// Longest title kept, in characters.
const TITLE_CHARS_MAX: usize = 200;

/// The outline in document order, or empty if the PDF has none.
pub(crate) fn outline(doc: &Document, page_ids: &[ObjectId]) -> Vec<Heading> {
    let Ok(catalog) = doc.catalog() else { return Vec::new() };
    let Some(root) = catalog.get(b"Outlines").ok().and_then(|o| deref(doc, o)).and_then(|o| o.as_dict().ok()) else {
        return Vec::new();
    };
    let pages: HashMap<ObjectId, u32> = page_ids.iter().enumerate().map(|(i, &id)| (id, i as u32)).collect();
    let mut reader = Reader { doc, pages, names: None, seen: HashSet::new(), out: Vec::new() };
    reader.children(root, 0);
    reader.out
}

struct Reader<'a> {
    doc: &'a Document,
    pages: HashMap<ObjectId, u32>,
    /// Named destinations, gathered on first need.
    names: Option<HashMap<Vec<u8>, &'a Object>>,
    seen: HashSet<ObjectId>,
    out: Vec<Heading>,
}

impl<'a> Reader<'a> {
    /// Reads the children of `parent` (`/First`, then each `/Next`) at `level`.
    fn children(&mut self, parent: &'a Dictionary, level: u32) {
        if level >= DEPTH_MAX {
            return;
        }
        let mut next = parent.get(b"First").ok();
        while let Some(link) = next {
            if self.out.len() >= ITEMS_MAX {
                return;
            }
            let Ok(id) = link.as_reference() else { return };
            if !self.seen.insert(id) {
                return;
            }
            let Ok(item) = self.doc.get_dictionary(id) else { return };
            let title = item
                .get(b"Title")
                .ok()
                .and_then(|t| deref(self.doc, t))
                .and_then(|t| lopdf::decode_text_string(t).ok())
                .map(|t| tidy_title(&t))
                .filter(|t| !t.is_empty());
            if let (Some(title), Some(page_index)) = (title, self.page_of(item)) {
                self.out.push(Heading { level, title, page_index });
            }
            self.children(item, level + 1);
            next = item.get(b"Next").ok();
        }
    }

    /// The 0-based page an item's destination (`/Dest`, or a `/GoTo` action's `/D`) names.
    fn page_of(&mut self, item: &'a Dictionary) -> Option<u32> {
        let dest = match item.get(b"Dest") {
            Ok(d) => d,
            Err(_) => {
                let action = deref(self.doc, item.get(b"A").ok()?)?.as_dict().ok()?;
                if action.get(b"S").ok()?.as_name().ok()? != b"GoTo" {
                    return None;
                }
                action.get(b"D").ok()?
            }
        };
        self.page_of_dest(dest, 0)
    }

    fn page_of_dest(&mut self, dest: &'a Object, depth: usize) -> Option<u32> {
        if depth > 2 {
            return None;
        }
        match deref(self.doc, dest)? {
            Object::Array(items) => match items.first()? {
                Object::Reference(id) => self.pages.get(id).copied(),
                _ => None,
            },
            // A named destination's value is its array, or a dictionary with `/D`.
            Object::Dictionary(d) => self.page_of_dest(d.get(b"D").ok()?, depth + 1),
            Object::Name(name) | Object::String(name, _) => {
                let target = self.named(name)?;
                self.page_of_dest(target, depth + 1)
            }
            _ => None,
        }
    }

    /// The value of a named destination: the catalog's `/Names /Dests` tree (PDF 1.2+) or
    /// its `/Dests` dictionary (PDF 1.1).
    fn named(&mut self, name: &[u8]) -> Option<&'a Object> {
        if self.names.is_none() {
            let mut names = HashMap::new();
            if let Ok(catalog) = self.doc.catalog() {
                let tree = catalog
                    .get(b"Names")
                    .ok()
                    .and_then(|n| deref(self.doc, n))
                    .and_then(|n| n.as_dict().ok())
                    .and_then(|n| n.get(b"Dests").ok())
                    .and_then(|d| deref(self.doc, d))
                    .and_then(|d| d.as_dict().ok());
                if let Some(tree) = tree {
                    collect_names(self.doc, tree, 0, &mut HashSet::new(), &mut names);
                }
                let old = catalog.get(b"Dests").ok().and_then(|d| deref(self.doc, d)).and_then(|d| d.as_dict().ok());
                for (key, value) in old.into_iter().flat_map(|d| d.iter()) {
                    names.entry(key.clone()).or_insert(value);
                }
            }
            self.names = Some(names);
        }
        self.names.as_ref()?.get(name).copied()
    }
}

/// Gathers the `/Names` pairs of a name tree node and its `/Kids`, guarding against cycles.
fn collect_names<'a>(
    doc: &'a Document,
    node: &'a Dictionary,
    depth: usize,
    seen: &mut HashSet<ObjectId>,
    out: &mut HashMap<Vec<u8>, &'a Object>,
) {
    if depth > TREE_DEPTH_MAX || out.len() > ITEMS_MAX * 8 {
        return;
    }
    if let Some(pairs) = node.get(b"Names").ok().and_then(|n| deref(doc, n)).and_then(|n| n.as_array().ok()) {
        for pair in pairs.chunks(2) {
            if let [Object::String(key, _), value] = pair {
                out.insert(key.clone(), value);
            }
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
                collect_names(doc, kid, depth + 1, seen, out);
            }
        }
    }
}

/// Follows one reference.
fn deref<'a>(doc: &'a Document, object: &'a Object) -> Option<&'a Object> {
    match object {
        Object::Reference(id) => doc.get_object(*id).ok(),
        other => Some(other),
    }
}

/// A title on one line, without control characters, at most [`TITLE_CHARS_MAX`] long.
fn tidy_title(title: &str) -> String {
    let clean: String = title.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    clean.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(TITLE_CHARS_MAX).collect()
}

#[cfg(test)]
mod tests {
    use lopdf::{dictionary, Stream, StringFormat};

    use super::*;

    /// A PDF of `n` empty pages; returns it with the page ids.
    fn pages(n: usize) -> (Document, Vec<ObjectId>) {
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let mut kids = Vec::new();
        for _ in 0..n {
            let content = doc.add_object(Stream::new(dictionary! {}, Vec::new()));
            let page = doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages_id, "Contents" => content,
                "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            });
            kids.push(page);
        }
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages",
                "Kids" => kids.iter().map(|&k| Object::Reference(k)).collect::<Vec<_>>(),
                "Count" => n as i64,
            }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        (doc, kids)
    }

    fn text(s: &str) -> Object {
        Object::String(s.as_bytes().to_vec(), StringFormat::Literal)
    }

    /// Links `items` (dictionaries) as siblings under `parent`; returns their ids.
    fn siblings(doc: &mut Document, parent: ObjectId, items: Vec<Dictionary>) -> Vec<ObjectId> {
        let ids: Vec<ObjectId> = items.iter().map(|_| doc.new_object_id()).collect();
        for (i, mut item) in items.into_iter().enumerate() {
            item.set("Parent", parent);
            if let Some(&next) = ids.get(i + 1) {
                item.set("Next", next);
            }
            doc.objects.insert(ids[i], Object::Dictionary(item));
        }
        let parent_dict = doc.get_dictionary_mut(parent).unwrap();
        parent_dict.set("First", ids[0]);
        parent_dict.set("Last", *ids.last().unwrap());
        ids
    }

    #[test]
    fn reads_titles_levels_and_pages_in_order() {
        let (mut doc, kids) = pages(4);
        let root = doc.add_object(dictionary! { "Type" => "Outlines" });
        let catalog = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
        doc.get_dictionary_mut(catalog).unwrap().set("Outlines", root);
        // A named destination in a name tree, an old-style /Dests name and a GoTo action.
        let dests = doc.add_object(dictionary! {
            "Names" => vec![text("sec.2"), Object::Array(vec![kids[2].into(), "XYZ".into()])],
        });
        let names = doc.add_object(dictionary! { "Dests" => dests });
        let old = doc.add_object(dictionary! { "appx" => dictionary! { "D" => vec![kids[3].into(), "Fit".into()] } });
        let c = doc.get_dictionary_mut(catalog).unwrap();
        c.set("Names", names);
        c.set("Dests", old);
        let top = siblings(
            &mut doc,
            root,
            vec![
                dictionary! { "Title" => text("1 Introduction"), "Dest" => vec![kids[0].into(), "Fit".into()] },
                dictionary! { "Title" => text("2 Use"), "A" => dictionary! { "S" => "GoTo", "D" => text("sec.2") } },
                dictionary! { "Title" => text("Appendix\n A"), "Dest" => "appx" },
                dictionary! { "Title" => text("Nowhere"), "Dest" => text("missing") },
            ],
        );
        siblings(
            &mut doc,
            top[0],
            vec![dictionary! { "Title" => text("1.1 Why"), "Dest" => vec![kids[1].into(), "XYZ".into()] }],
        );
        let found = outline(&doc, &kids);
        let got: Vec<(u32, &str, u32)> = found.iter().map(|h| (h.level, h.title.as_str(), h.page_index)).collect();
        assert_eq!(got, [(0, "1 Introduction", 0), (1, "1.1 Why", 1), (0, "2 Use", 2), (0, "Appendix A", 3)]);
    }

    #[test]
    fn a_cycle_ends_the_outline_instead_of_looping() {
        let (mut doc, kids) = pages(1);
        let root = doc.add_object(dictionary! { "Type" => "Outlines" });
        let catalog = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
        doc.get_dictionary_mut(catalog).unwrap().set("Outlines", root);
        let ids = siblings(
            &mut doc,
            root,
            vec![
                dictionary! { "Title" => text("A"), "Dest" => vec![kids[0].into()] },
                dictionary! { "Title" => text("B"), "Dest" => vec![kids[0].into()] },
            ],
        );
        // B's /Next points back at A, and A is its own child.
        doc.get_dictionary_mut(ids[1]).unwrap().set("Next", ids[0]);
        doc.get_dictionary_mut(ids[0]).unwrap().set("First", ids[0]);
        let titles: Vec<String> = outline(&doc, &kids).into_iter().map(|h| h.title).collect();
        assert_eq!(titles, ["A", "B"]);
    }

    #[test]
    fn no_outline_is_empty() {
        let (doc, kids) = pages(2);
        assert!(outline(&doc, &kids).is_empty());
    }
}
