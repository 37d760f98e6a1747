//! EPUB 2 and 3: one section per spine chapter, or per print page where the book has a
//! `page-list`, read with our own zip + XML code so that every byte unpacked goes through
//! the archive guards (`crate::archive`).

mod nav;
mod package;

use std::collections::HashMap;

use crate::archive::{Archive, ReadFailure};
use crate::error::{Error, Result};
use crate::html;
use crate::job::Job;
use crate::model::{Document, Format, Locator};
use crate::postprocess::{self, Cleanup, Spacing};
use crate::text;
use crate::warning::Warning;

use nav::Nav;
use package::{Item, Package};

/// A chapter to read: its spine position and manifest item.
struct Chapter {
    spine_index: u32,
    item: Item,
}

/// A section before clean-up: where it is, its print page, its raw text.
type Section = (Locator, Option<String>, String);

/// The navigation, indexed by chapter path.
struct Guide<'n> {
    nav: &'n Nav,
    /// Chapter path → title of the first TOC entry pointing at it.
    titles: HashMap<&'n str, &'n str>,
    /// Chapter path → its print pages: (position in the page list, fragment).
    pages: HashMap<&'n str, Vec<(usize, Option<&'n str>)>>,
}

impl<'n> Guide<'n> {
    fn new(nav: &'n Nav) -> Self {
        let mut titles = HashMap::new();
        for target in &nav.toc {
            titles.entry(target.path.as_str()).or_insert(target.label.as_str());
        }
        let mut pages: HashMap<&str, Vec<(usize, Option<&str>)>> = HashMap::new();
        for (k, target) in nav.page_list.iter().enumerate() {
            pages.entry(target.path.as_str()).or_default().push((k, target.fragment.as_deref()));
        }
        Self { nav, titles, pages }
    }
}

/// Extracts an EPUB.
pub(crate) fn extract(job: &mut Job<'_>, bytes: &[u8]) -> Result<Document> {
    let mut archive = Archive::open(job, bytes, Format::Epub)?;
    let package = read_package(job, &mut archive)?;
    let chapters = reading_order(job, &archive, &package);
    if chapters.is_empty() {
        return Err(Error::NoPages { path: job.path.to_path_buf(), format: Format::Epub });
    }
    let nav = read_nav(job, &mut archive, &package)?;
    let guide = Guide::new(&nav);

    let mut sections: Vec<Section> = Vec::new();
    // The print page that is running: text before a chapter's first page break belongs to
    // the page that started in an earlier chapter.
    let mut running_label: Option<String> = None;
    let total = chapters.len() as u32;
    for (done, chapter) in chapters.iter().enumerate() {
        job.check_cancel()?;
        match archive.read(job, &chapter.item.path) {
            Ok(Some(data)) => {
                sections.extend(read_chapter(job, chapter, &data, &guide, &mut running_label));
            }
            Ok(None) => skip(job, chapter, "it is listed in the manifest but missing from the archive"),
            Err(ReadFailure::Entry(e)) => skip(job, chapter, &format!("it cannot be unpacked: {e}")),
            Err(ReadFailure::Fatal(e)) => return Err(e),
        }
        job.progress(done as u32 + 1, total);
    }

    let pages = postprocess::into_pages(
        sections,
        |(_, _, t)| t,
        Cleanup { spacing: Spacing::Collapse, join_hyphens: true, drop_running_lines: false },
        |(locator, label, _)| (label, locator),
    );
    Ok(Document { format: Format::Epub, title: package.title, pages, warnings: Vec::new(), outline: Vec::new() })
}

/// Renders one chapter, split at its print-page anchors.
fn read_chapter(
    job: &mut Job<'_>,
    chapter: &Chapter,
    data: &[u8],
    guide: &Guide<'_>,
    running_label: &mut Option<String>,
) -> Vec<Section> {
    let (xhtml, _) = text::decode_bytes(data);
    let path = chapter.item.path.as_str();
    let targets = guide.pages.get(path).cloned().unwrap_or_default();
    let page_list = &guide.nav.page_list;

    // A page target without a fragment starts at the top of the chapter.
    if let Some((k, None)) = targets.first() {
        *running_label = Some(page_list[*k].label.clone());
    }
    let by_id: HashMap<&str, usize> = targets.iter().filter_map(|&(k, f)| f.map(|f| (f, k))).collect();
    let mut seen = vec![false; page_list.len()];
    let rendered = html::render_split(&xhtml, |tag| {
        let k = *by_id.get(tag.attr("id")?)?;
        // Only the first element with an id counts; ids should be unique, but are not always.
        (!std::mem::replace(&mut seen[k], true)).then_some(k)
    });
    if let Some(detail) = rendered.degraded {
        job.warn(Warning::Repaired { detail: format!("{}: {detail}; read without layout", chapter.item.href) });
    }
    for &(k, fragment) in &targets {
        if let (Some(fragment), false) = (fragment, seen[k]) {
            let target = format!("{}#{fragment}", chapter.item.href);
            job.warn(Warning::PageTargetMissing { label: page_list[k].label.clone(), target });
        }
    }
    let title = guide.titles.get(path).map(|t| t.to_string());
    rendered
        .segments
        .into_iter()
        .map(|segment| {
            if let Some(k) = segment.mark {
                *running_label = Some(page_list[k].label.clone());
            }
            let locator = Locator::Epub {
                spine_index: chapter.spine_index,
                href: chapter.item.href.clone(),
                anchor: segment.mark.and_then(|k| page_list[k].fragment.clone()),
                chapter_title: title.clone(),
            };
            (locator, running_label.clone(), segment.text)
        })
        .collect()
}

fn skip(job: &mut Job<'_>, chapter: &Chapter, detail: &str) {
    job.warn(Warning::PartSkipped { href: chapter.item.href.clone(), detail: detail.to_string() });
}

/// Finds and parses the package document.
fn read_package(job: &mut Job<'_>, archive: &mut Archive<'_>) -> Result<Package> {
    let container = read_text(job, archive, "META-INF/container.xml")?;
    let from_container = container.as_deref().and_then(package::rootfile).filter(|p| archive.find(p).is_some());
    let opf_path = match from_container {
        Some(path) => path,
        None => {
            // No usable container.xml: take the first package document in the archive.
            let found = archive.names().into_iter().find(|n| n.to_lowercase().ends_with(".opf"));
            let Some(found) = found else {
                return Err(job.malformed(Format::Epub, "it has no package document (.opf)"));
            };
            job.warn(Warning::Repaired { detail: "META-INF/container.xml is missing or broken".into() });
            found
        }
    };
    let Some(opf) = read_text(job, archive, &opf_path)? else {
        return Err(job.malformed(Format::Epub, format!("its package document {opf_path} cannot be read")));
    };
    let (package, error) = package::parse(&opf, &opf_path);
    if let Some(error) = error {
        job.warn(Warning::Repaired { detail: format!("{opf_path} is broken ({error}); used what came before") });
    }
    Ok(package)
}

/// Reads an entry as text; `Ok(None)` if it is missing or corrupt.
fn read_text(job: &mut Job<'_>, archive: &mut Archive<'_>, name: &str) -> Result<Option<String>> {
    match archive.read(job, name) {
        Ok(Some(data)) => Ok(Some(text::decode_bytes(&data).0)),
        Ok(None) => Ok(None),
        Err(ReadFailure::Entry(detail)) => {
            job.warn(Warning::PartSkipped { href: name.to_string(), detail });
            Ok(None)
        }
        Err(ReadFailure::Fatal(e)) => Err(e),
    }
}

/// The chapters in reading order: the spine, or the manifest's XHTML files if the spine is
/// missing, or every XHTML file in the archive if even the manifest is.
fn reading_order(job: &mut Job<'_>, archive: &Archive<'_>, package: &Package) -> Vec<Chapter> {
    let from_spine: Vec<Chapter> = package
        .spine
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            let item = package.items.get(id)?;
            item.is_xhtml().then(|| Chapter { spine_index: i as u32, item: item.clone() })
        })
        .collect();
    if !from_spine.is_empty() {
        return from_spine;
    }
    job.warn(Warning::SpineMissing);
    let mut items: Vec<Item> = package
        .item_order
        .iter()
        .filter_map(|id| package.items.get(id))
        .filter(|item| item.is_xhtml() && !item.properties.split_whitespace().any(|p| p == "nav"))
        .cloned()
        .collect();
    if items.is_empty() {
        items = archive
            .names()
            .into_iter()
            .map(|name| Item { href: name.clone(), path: name, media_type: String::new(), properties: String::new() })
            .filter(Item::is_xhtml)
            .collect();
    }
    items.into_iter().enumerate().map(|(i, item)| Chapter { spine_index: i as u32, item }).collect()
}

/// Reads the navigation: the EPUB 3 nav document and/or the EPUB 2 NCX. Broken navigation
/// only costs titles and print pages, so problems here are never errors.
fn read_nav(job: &mut Job<'_>, archive: &mut Archive<'_>, package: &Package) -> Result<Nav> {
    let nav_item = package.items.values().find(|i| i.properties.split_whitespace().any(|p| p == "nav"));
    let ncx_item = package
        .spine_toc
        .as_ref()
        .and_then(|id| package.items.get(id))
        .or_else(|| package.items.values().find(|i| i.media_type == "application/x-dtbncx+xml"));
    let mut nav = Nav::default();
    if let Some(item) = nav_item {
        if let Some(xhtml) = read_text(job, archive, &item.path)? {
            nav = nav::parse_nav_document(&xhtml, &item.path);
        }
    }
    if nav.toc.is_empty() || nav.page_list.is_empty() {
        if let Some(item) = ncx_item {
            if let Some(ncx) = read_text(job, archive, &item.path)? {
                let from_ncx = nav::parse_ncx(&ncx, &item.path);
                if nav.toc.is_empty() {
                    nav.toc = from_ncx.toc;
                }
                if nav.page_list.is_empty() {
                    nav.page_list = from_ncx.page_list;
                }
            }
        }
    }
    Ok(nav)
}
