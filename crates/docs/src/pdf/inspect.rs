//! Checks on a page before and after text extraction: does it hold images (a scan), would it
//! make the text extractor recurse forever or unpack a decompression bomb.
//!
//! pdf-extract draws form XObjects by recursion without a depth limit, so a form that draws
//! itself overflows the stack, which no `catch_unwind` can contain; and it decompresses
//! content streams whole. Both are checked here first, within limits, and such pages skipped.

use std::collections::HashSet;
use std::io::Read;

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

/// Form XObjects nested deeper than this are treated as hostile.
const FORM_DEPTH_MAX: usize = 24;

/// Empties the data of every image XObject, keeping its dictionary (so pages still show that
/// they hold images).
///
/// Text extraction never needs pixels, and pdf-extract parses an image drawn with `Do` as if
/// it were a content stream, which panics on real image data and so loses the page's text.
/// Returns the ids of the images.
pub(crate) fn blank_images(doc: &mut Document) -> HashSet<ObjectId> {
    let mut images = HashSet::new();
    for (&id, object) in doc.objects.iter_mut() {
        if let Object::Stream(stream) = object {
            if is_image(stream) {
                stream.dict.remove(b"Filter");
                stream.dict.remove(b"DecodeParms");
                stream.set_content(Vec::new());
                images.insert(id);
            }
        }
    }
    images
}

/// Gives pages without a media box (their own or inherited) the US Letter default.
///
/// The box is required by the spec, but many generators omit it, and pdf-extract refuses
/// (panics on) a page without one, although text extraction barely depends on it.
pub(crate) fn patch_media_boxes(doc: &mut Document, pages: &[ObjectId]) {
    let missing: Vec<ObjectId> = pages.iter().copied().filter(|&page| !has_media_box(doc, page)).collect();
    for page in missing {
        if let Ok(dict) = doc.get_object_mut(page).and_then(Object::as_dict_mut) {
            dict.set("MediaBox", vec![0.into(), 0.into(), 612.into(), 792.into()]);
        }
    }
}

fn has_media_box(doc: &Document, page: ObjectId) -> bool {
    let mut node = doc.get_dictionary(page).ok();
    for _ in 0..32 {
        let Some(dict) = node else { return false };
        if dict
            .get(b"MediaBox")
            .ok()
            .and_then(|b| deref(doc, b))
            .and_then(|b| b.as_array().ok())
            .is_some_and(|a| a.len() == 4)
        {
            return true;
        }
        node = dict.get(b"Parent").ok().and_then(|p| p.as_reference().ok()).and_then(|id| doc.get_dictionary(id).ok());
    }
    false
}

fn is_image(stream: &Stream) -> bool {
    stream.dict.get(b"Subtype").and_then(Object::as_name).is_ok_and(|n| n == b"Image")
}

/// The page's resource dictionaries, innermost first (its own, then inherited ones).
fn resources(doc: &Document, page: ObjectId) -> Vec<&Dictionary> {
    let Ok((own, inherited)) = doc.get_page_resources(page) else {
        return Vec::new();
    };
    own.into_iter().chain(inherited.into_iter().filter_map(|id| doc.get_dictionary(id).ok())).collect()
}

fn deref<'a>(doc: &'a Document, object: &'a Object) -> Option<&'a Object> {
    match object {
        Object::Reference(id) => doc.get_object(*id).ok(),
        other => Some(other),
    }
}

/// The XObject dictionary of a resource dictionary.
fn xobjects<'a>(doc: &'a Document, resources: &'a Dictionary) -> Option<&'a Dictionary> {
    deref(doc, resources.get(b"XObject").ok()?)?.as_dict().ok()
}

/// Whether the page draws an image: `Do` on an image XObject (directly or inside a form), or
/// an inline image. Resources alone prove nothing: they are often shared by every page.
pub(crate) fn has_images(doc: &Document, page: ObjectId, images: &HashSet<ObjectId>) -> bool {
    let Ok(content) = doc.get_page_content(page) else {
        return false;
    };
    has_inline_image(&content) || draws_image(doc, &content, resources(doc, page).first().copied(), images, 0)
}

fn draws_image(
    doc: &Document,
    content: &[u8],
    resources: Option<&Dictionary>,
    images: &HashSet<ObjectId>,
    depth: usize,
) -> bool {
    if depth > FORM_DEPTH_MAX {
        return false;
    }
    let Some(xobjects) = resources.and_then(|r| xobjects(doc, r)) else {
        return false;
    };
    let Ok(content) = Content::decode(content) else {
        return false;
    };
    content.operations.iter().filter(|op| op.operator == "Do").any(|op| {
        let Some(name) = op.operands.first().and_then(|o| o.as_name().ok()) else {
            return false;
        };
        match xobjects.get(name) {
            Ok(Object::Reference(id)) if images.contains(id) => true,
            Ok(Object::Reference(id)) => doc.get_object(*id).and_then(Object::as_stream).is_ok_and(|form| {
                let inner = form
                    .dict
                    .get(b"Resources")
                    .ok()
                    .and_then(|r| deref(doc, r))
                    .and_then(|r| r.as_dict().ok())
                    .or(resources);
                let data = form.decompressed_content().unwrap_or_else(|_| form.content.clone());
                draws_image(doc, &data, inner, images, depth + 1)
            }),
            Ok(Object::Stream(stream)) => is_image(stream),
            _ => false,
        }
    })
}

/// An inline image: the `BI` operator as a token.
fn has_inline_image(content: &[u8]) -> bool {
    content.windows(4).any(|w| w[0].is_ascii_whitespace() && &w[1..3] == b"BI" && w[3].is_ascii_whitespace())
        || content.starts_with(b"BI ")
        || content.starts_with(b"BI\n")
}

/// Why this page must not go to the text extractor, if it must not: its content streams
/// inflate past `limit` bytes, or its form XObjects nest in a cycle or too deep.
pub(crate) fn hazard(doc: &Document, page: ObjectId, limit: u64) -> Option<String> {
    let mut total = 0u64;
    for id in doc.get_page_contents(page) {
        let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else {
            continue;
        };
        total = total.saturating_add(inflated_size(stream, limit));
        if total > limit {
            return Some(format!("its content unpacks to more than {limit} bytes (a decompression bomb?)"));
        }
    }
    let res = resources(doc, page);
    let has_forms = res.iter().filter_map(|r| xobjects(doc, r)).any(|x| {
        x.iter().any(|(_, v)| {
            deref(doc, v)
                .and_then(|o| o.as_stream().ok())
                .is_some_and(|s| s.dict.get(b"Subtype").and_then(Object::as_name).is_ok_and(|n| n == b"Form"))
        })
    });
    if !has_forms {
        return None;
    }
    let content = doc.get_page_content(page).ok()?;
    let mut path = Vec::new();
    check_forms(doc, &content, res.first().copied(), &mut path)
}

/// Follows every `Do` of `content` into form XObjects, depth-first, looking for a cycle.
fn check_forms(
    doc: &Document,
    content: &[u8],
    resources: Option<&Dictionary>,
    path: &mut Vec<ObjectId>,
) -> Option<String> {
    if path.len() > FORM_DEPTH_MAX {
        return Some(format!("its form XObjects nest more than {FORM_DEPTH_MAX} deep"));
    }
    let xobjects = resources.and_then(|r| xobjects(doc, r))?;
    let operations = Content::decode(content).ok()?.operations;
    let mut visited: HashSet<ObjectId> = HashSet::new();
    for op in operations.iter().filter(|op| op.operator == "Do") {
        let Some(name) = op.operands.first().and_then(|o| o.as_name().ok()) else {
            continue;
        };
        let Ok(Object::Reference(id)) = xobjects.get(name) else {
            continue;
        };
        if path.contains(id) {
            return Some(format!("form XObject {} {} R draws itself (a cycle)", id.0, id.1));
        }
        if !visited.insert(*id) {
            continue;
        }
        let Ok(form) = doc.get_object(*id).and_then(Object::as_stream) else {
            continue;
        };
        if !form.dict.get(b"Subtype").and_then(Object::as_name).is_ok_and(|n| n == b"Form") {
            continue;
        }
        // A form without resources uses its caller's, as pdf-extract does.
        let inner =
            form.dict.get(b"Resources").ok().and_then(|r| deref(doc, r)).and_then(|r| r.as_dict().ok()).or(resources);
        let data = form.decompressed_content().unwrap_or_else(|_| form.content.clone());
        path.push(*id);
        let found = check_forms(doc, &data, inner, path);
        path.pop();
        if found.is_some() {
            return found;
        }
    }
    None
}

/// The unpacked size of a stream, counted without holding it, up to `limit + 1`.
fn inflated_size(stream: &Stream, limit: u64) -> u64 {
    let flate = stream
        .dict
        .get(b"Filter")
        .ok()
        .map(|f| match f {
            Object::Name(n) => n == b"FlateDecode",
            Object::Array(a) => a.first().and_then(|o| o.as_name().ok()) == Some(b"FlateDecode".as_slice()),
            _ => false,
        })
        .unwrap_or(false);
    if !flate {
        return stream.content.len() as u64;
    }
    let decoder = flate2::read::ZlibDecoder::new(stream.content.as_slice());
    std::io::copy(&mut decoder.take(limit + 1), &mut std::io::sink()).unwrap_or(0)
}
