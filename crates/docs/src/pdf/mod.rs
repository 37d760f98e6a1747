//! PDF: `lopdf` for the structure (pages, labels, encryption, repair), `pdf-extract` for each
//! page's text, one page at a time so that a page the extractor cannot handle costs that page
//! only, and so that progress and cancellation work per page.

mod focus;
mod inspect;
mod labels;
mod outline;
mod repair;

use std::collections::HashSet;

use lopdf::{Document as PdfDoc, Object, ObjectId};

use crate::error::{Error, Result};
use crate::job::{contain, Job};
use crate::model::{Document, Format, Locator, Page};
use crate::postprocess::{self, Cleanup, Spacing};
use crate::sniff::find;
use crate::warning::Warning;

/// Extracts a PDF.
pub(crate) fn extract(job: &mut Job<'_>, bytes: &[u8]) -> Result<Document> {
    let mut doc = load(job, bytes)?;
    job.check_cancel()?;
    let page_ids: Vec<ObjectId> = match contain(|| doc.get_pages().into_values().collect()) {
        Ok(ids) => ids,
        Err(panic) => return Err(job.malformed(Format::Pdf, format!("its page tree is broken: {panic}"))),
    };
    if page_ids.is_empty() {
        return Err(Error::NoPages { path: job.path.to_path_buf(), format: Format::Pdf });
    }
    let count = page_ids.len();
    let labels = contain(|| labels::page_labels(&doc, count)).ok().flatten();
    let title = info_title(&doc);
    let outline = contain(|| outline::outline(&doc, &page_ids)).unwrap_or_default();
    let images = inspect::blank_images(&mut doc);
    inspect::patch_media_boxes(&mut doc, &page_ids);

    let (mut texts, image_only) = read_pages(job, &mut doc, &page_ids, &images)?;
    if texts.iter().all(|t| t.trim().is_empty()) {
        return Err(nothing_readable(job, count, &image_only));
    }
    if !image_only.is_empty() {
        job.warn(Warning::ImageOnlyPages { page_indices: image_only });
    }
    let labels = labels.unwrap_or_default();
    postprocess::finish_with_labels(
        &mut texts,
        Cleanup { spacing: Spacing::Collapse, join_hyphens: true, drop_running_lines: job.config.drop_running_lines },
        &labels,
    );
    let pages = texts
        .into_iter()
        .enumerate()
        .map(|(i, text)| Page {
            index: i as u32,
            label: labels.get(i).cloned().flatten(),
            locator: Locator::Pdf { page_index: i as u32 },
            text,
        })
        .collect();
    Ok(Document { format: Format::Pdf, title, pages, warnings: Vec::new(), outline })
}

/// Each page's text, and the indices of the pages that are images without text.
fn read_pages(
    job: &mut Job<'_>,
    doc: &mut PdfDoc,
    page_ids: &[ObjectId],
    images: &HashSet<ObjectId>,
) -> Result<(Vec<String>, Vec<u32>)> {
    let count = page_ids.len();
    let limit = job.config.pdf_page_content_max_bytes;
    let mut texts: Vec<String> = Vec::with_capacity(count);
    let mut image_only: Vec<u32> = Vec::new();
    let focus = focus::Focus::new(doc);
    for (i, &id) in page_ids.iter().enumerate() {
        job.check_cancel()?;
        let number = match &focus {
            Some(focus) => {
                focus.show(doc, id);
                1
            }
            None => i as u32 + 1,
        };
        // lopdf is called directly here too; its panics cost this page, not the document.
        let hazard =
            contain(|| inspect::hazard(doc, id, limit)).unwrap_or_else(|panic| Some(format!("{CRASHED}: {panic}")));
        let text = match hazard {
            Some(detail) => {
                job.warn(Warning::PageFailed { page_index: i as u32, detail });
                String::new()
            }
            None => page_text(job, doc, i, number),
        };
        if text.trim().is_empty() && contain(|| inspect::has_images(doc, id, images)).unwrap_or(false) {
            image_only.push(i as u32);
        }
        if looks_undecodable(&text) {
            job.warn(Warning::UndecodableText { page_index: i as u32 });
        }
        texts.push(text);
        job.progress(i as u32 + 1, count as u32);
    }
    Ok((texts, image_only))
}

/// The error for a PDF without a single page of text: a scan, pages the extractor could not
/// read, or blank pages.
fn nothing_readable(job: &Job<'_>, count: usize, image_only: &[u32]) -> Error {
    let path = job.path.to_path_buf();
    if image_only.len() * 2 >= count {
        return Error::Scanned { path, pages: count as u32 };
    }
    let failure = job.warnings.iter().find_map(|w| match w {
        Warning::PageFailed { detail, .. } => Some(detail.clone()),
        _ => None,
    });
    match failure {
        Some(detail) if detail.starts_with(CRASHED) => {
            Error::ParserPanic { path, format: Format::Pdf, message: detail }
        }
        Some(detail) => job.malformed(Format::Pdf, format!("no page could be read (first failure: {detail})")),
        None => Error::NoText { path, pages: count as u32 },
    }
}

/// How a contained pdf-extract panic is described.
const CRASHED: &str = "the text extractor crashed";

/// Loads the document, refusing encrypted ones and repairing broken cross-reference tables.
fn load(job: &mut Job<'_>, bytes: &[u8]) -> Result<PdfDoc> {
    let loaded = contain(|| PdfDoc::load_mem(bytes));
    let problem = match loaded {
        Ok(Ok(doc)) => {
            if doc.trailer.get(b"Encrypt").is_ok() {
                // lopdf decrypts with the empty password when it can and then drops /Encrypt;
                // it is still there, so a real password is needed.
                return Err(Error::Encrypted { path: job.path.to_path_buf() });
            }
            if doc.encryption_state.is_some() {
                job.warn(Warning::EncryptedWithoutPassword);
            }
            match damage(&doc) {
                None => return Ok(doc),
                Some(damage) => (Some(doc), damage),
            }
        }
        Ok(Err(e)) => (None, e.to_string()),
        Err(panic) => (None, format!("the PDF parser crashed: {panic}")),
    };
    let (original, detail) = problem;
    if find(bytes, b"/Encrypt").is_some() {
        // Repair reads objects raw, and these are encrypted: it would only produce garbage.
        return match original {
            Some(doc) => Ok(doc),
            None => Err(Error::Encrypted { path: job.path.to_path_buf() }),
        };
    }
    match contain(|| repair::repair(bytes)).ok().flatten() {
        Some(repaired) if better(&repaired.doc, original.as_ref()) => {
            job.warn(Warning::Repaired { detail: repaired.detail });
            Ok(repaired.doc)
        }
        _ => match original {
            Some(doc) => Ok(doc),
            None => Err(job.malformed(Format::Pdf, detail)),
        },
    }
}

/// Signs that lopdf loaded the file only partly: no pages, or objects listed in the
/// cross-reference table that did not load (wrong offsets).
fn damage(doc: &PdfDoc) -> Option<String> {
    let pages = contain(|| doc.get_pages().len()).unwrap_or(0);
    if pages == 0 {
        return Some("no pages could be found".into());
    }
    let listed =
        doc.reference_table.entries.values().filter(|e| matches!(e, lopdf::xref::XrefEntry::Normal { .. })).count();
    let loaded = doc.objects.len();
    (loaded < listed).then(|| format!("{} of {listed} objects did not load", listed - loaded))
}

/// Whether the repaired document has more to offer than the original.
fn better(repaired: &PdfDoc, original: Option<&PdfDoc>) -> bool {
    let pages = |d: &PdfDoc| contain(|| d.get_pages().len()).unwrap_or(0);
    match original {
        None => pages(repaired) > 0,
        Some(original) => (pages(repaired), repaired.objects.len()) > (pages(original), original.objects.len()),
    }
}

/// One page's text through pdf-extract; if it fails (a contained panic or an error), through
/// lopdf's simpler extractor, and if that finds nothing either, a warning and whatever
/// pdf-extract produced before it failed. `index` is the page's real index, `number` the
/// 1-based number the page tree knows it by now (see `focus`).
fn page_text(job: &mut Job<'_>, doc: &PdfDoc, index: usize, number: u32) -> String {
    let mut text = String::new();
    let result = contain(|| {
        let mut output = pdf_extract::PlainTextOutput::new(&mut text);
        pdf_extract::output_doc_page(doc, &mut output, number)
    });
    let detail = match result {
        Ok(Ok(())) => return text,
        Ok(Err(e)) => format!("the text extractor failed: {e}"),
        Err(panic) => format!("{CRASHED}: {panic}"),
    };
    let fallback = contain(|| {
        let chunks = doc.extract_text_chunks(&[number]);
        chunks.into_iter().filter_map(|c| c.ok()).collect::<Vec<_>>().join("\n")
    })
    .unwrap_or_default();
    let page_index = index as u32;
    if fallback.trim().is_empty() {
        job.warn(Warning::PageFailed { page_index, detail });
        text
    } else {
        job.warn(Warning::PageFallback { page_index, detail });
        fallback
    }
}

/// True when most of the text is control, private-use or replacement characters: the mark of
/// a font without a usable Unicode map.
fn looks_undecodable(text: &str) -> bool {
    let mut total = 0usize;
    let mut bad = 0usize;
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        total += 1;
        if c.is_control() || ('\u{E000}'..='\u{F8FF}').contains(&c) || c == '\u{FFFD}' {
            bad += 1;
        }
    }
    total >= 20 && bad * 2 > total
}

/// `/Title` from the document information dictionary.
fn info_title(doc: &PdfDoc) -> Option<String> {
    let info = match doc.trailer.get(b"Info").ok()? {
        Object::Reference(id) => doc.get_dictionary(*id).ok()?,
        Object::Dictionary(d) => d,
        _ => return None,
    };
    let title = lopdf::decode_text_string(info.get(b"Title").ok()?).ok()?;
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    (!title.is_empty()).then_some(title)
}
