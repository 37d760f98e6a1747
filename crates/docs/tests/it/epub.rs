//! EPUB extraction: chapters, titles, print pages from the page-list, EPUB 2 and 3.

use seahorse_docs::{Format, Locator, Warning};

use crate::fixtures::zip::{self, Chapter, EpubSpec};
use crate::fixtures::{extract, page_with};

fn three_chapters() -> EpubSpec {
    EpubSpec::new(
        "Three Chapters",
        vec![
            Chapter::new("ch1.xhtml", "The Harbour", "<h1>The Harbour</h1><p>Ships rested in the harbour.</p>"),
            Chapter::new(
                "ch2.xhtml",
                "The Storm",
                "<h1>The Storm</h1><p>Rain came <em>sideways</em> over the deck.</p>",
            ),
            Chapter::new("text/ch3.xhtml", "The Calm", "<h1>The Calm</h1><p>Then the sea lay flat.</p>"),
        ],
    )
}

#[test]
fn chapters_follow_the_spine_with_toc_titles() {
    let doc = extract("three.epub", &zip::epub(&three_chapters())).unwrap();
    assert_eq!(doc.format, Format::Epub);
    assert_eq!(doc.title.as_deref(), Some("Three Chapters"));
    assert_eq!(doc.pages.len(), 3);
    assert_eq!(
        doc.pages[2].locator,
        Locator::Epub {
            spine_index: 2,
            href: "text/ch3.xhtml".into(),
            anchor: None,
            chapter_title: Some("The Calm".into())
        }
    );
    assert_eq!(doc.pages[1].label, None);
    let storm = page_with(&doc, "Rain came sideways over the deck.");
    assert_eq!(storm.index, 1);
    assert!(storm.text.starts_with("The Storm"), "{:?}", storm.text);
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
}

#[test]
fn print_pages_from_the_page_list_are_page_true() {
    let doc = extract("paged.epub", &zip::epub(&zip::paged_book())).unwrap();
    let labels: Vec<&str> = doc.pages.iter().map(|p| p.label.as_deref().unwrap_or("-")).collect();
    // Each chapter opens with its heading (before the first page break, so still on the
    // previous print page), then two print pages.
    assert_eq!(labels, ["-", "1", "2", "2", "3", "4", "4", "5", "6"]);
    let begins = page_with(&doc, "Chapter 3 begins");
    assert_eq!(begins.label.as_deref(), Some("5"));
    let Locator::Epub { spine_index, href, anchor, chapter_title } = &begins.locator else { panic!() };
    assert_eq!((*spine_index, href.as_str(), anchor.as_deref()), (2, "ch3.xhtml", Some("p5")));
    assert_eq!(chapter_title.as_deref(), Some("Chapter 3"));
    // The break inside a paragraph splits it: the second half is on the next print page.
    assert_eq!(page_with(&doc, "Print page 4 starts mid-paragraph here.").label.as_deref(), Some("4"));
    assert_eq!(page_with(&doc, "More of chapter 2.").label.as_deref(), Some("3"));
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
}

#[test]
fn epub2_ncx_page_list_works_without_a_nav_document() {
    let mut spec = zip::paged_book();
    spec.nav_document = false;
    let doc = extract("paged2.epub", &zip::epub(&spec)).unwrap();
    assert_eq!(page_with(&doc, "Chapter 2 begins").label.as_deref(), Some("3"));
    assert_eq!(page_with(&doc, "More of chapter 1.").label.as_deref(), Some("1"));
}

#[test]
fn page_list_targets_that_do_not_exist_are_reported() {
    let mut spec = zip::paged_book();
    spec.page_list.push(("7".into(), "ch3.xhtml#nowhere".into()));
    let doc = extract("paged.epub", &zip::epub(&spec)).unwrap();
    assert!(doc
        .warnings
        .contains(&Warning::PageTargetMissing { label: "7".into(), target: "ch3.xhtml#nowhere".into() }));
    assert_eq!(page_with(&doc, "Chapter 3 begins").label.as_deref(), Some("5"));
}

#[test]
fn soft_hyphens_and_entities_are_cleaned() {
    let spec = EpubSpec::new(
        "Soft",
        vec![Chapter::new("a.xhtml", "A", "<p>inter&#173;national &amp; caf\u{0065}\u{0301} &#8212; done</p>")],
    );
    let doc = extract("soft.epub", &zip::epub(&spec)).unwrap();
    assert_eq!(doc.pages[0].text, "international & café — done");
}

#[test]
fn a_cover_without_text_adds_no_empty_page() {
    let mut spec = three_chapters();
    spec.chapters.insert(0, Chapter::new("cover.xhtml", "Cover", "<div><img src=\"cover.jpg\" alt=\"\"/></div>"));
    let doc = extract("cover.epub", &zip::epub(&spec)).unwrap();
    assert_eq!(doc.pages.len(), 3);
    let Locator::Epub { spine_index, .. } = &doc.pages[0].locator else { panic!() };
    assert_eq!(*spine_index, 1, "spine positions stay true when a page is dropped");
}

#[test]
fn progress_counts_chapters_including_skipped_ones() {
    let mut spec = three_chapters();
    spec.missing_files.push("ghost.xhtml".into());
    let mut events = Vec::new();
    let doc = seahorse_docs::extract_bytes(
        std::path::Path::new("p.epub"),
        &zip::epub(&spec),
        &seahorse_docs::ExtractConfig::default(),
        &seahorse_cancel::CancelToken::new(),
        |p| events.push((p.done, p.total)),
    )
    .unwrap();
    assert_eq!(doc.pages.len(), 3);
    assert_eq!(events, [(1, 4), (2, 4), (3, 4), (4, 4)]);
}
