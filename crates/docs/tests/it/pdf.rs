//! PDF extraction: page-true text, printed labels, clean-up, partial scans, fonts.

use seahorse_docs::{Format, Locator, Warning};

use crate::fixtures::pdf::{self, Font, PdfPage, PdfSpec};
use crate::fixtures::{extract, page_with};

/// Eight pages: i, ii, then 1–6, with a running header and page-number footers, chapter
/// openings on printed pages 1, 3 and 5, and a word hyphenated across a line end.
fn sea_book() -> PdfSpec {
    let labels = ["i", "ii", "1", "2", "3", "4", "5", "6"];
    let bodies: [&[&str]; 8] = [
        &["The Sea Book", "A novel in three chapters"],
        &["Contents", "Chapter 1 ... 1", "Chapter 2 ... 3"],
        &["Chapter 1 begins", "The harbour was quiet at dawn."],
        &["Gulls argued over the nets and an inter-", "national crew loaded the ship."],
        &["Chapter 3 begins", "Storm clouds gathered to the west."],
        &["Waves broke over the bow all night.", "Nobody slept below deck."],
        &["Chapter 5 begins", "Morning brought a calm sea."],
        &["They sighted land before noon.", "The end."],
    ];
    let pages = bodies
        .iter()
        .zip(labels)
        .map(|(body, label)| {
            let mut lines = vec!["THE SEA BOOK".to_string()];
            lines.extend(body.iter().map(|s| s.to_string()));
            lines.push(label.to_string());
            PdfPage { lines, image: false }
        })
        .collect();
    let mut spec = PdfSpec::new(pages);
    spec.labels = vec![(0, "r", "", 1), (2, "D", "", 1)];
    spec.title = Some("The Sea Book".into());
    spec
}

#[test]
fn text_is_page_true_with_printed_labels() {
    let doc = extract("sea.pdf", &pdf::pdf(&sea_book())).unwrap();
    assert_eq!(doc.format, Format::Pdf);
    assert_eq!(doc.title.as_deref(), Some("The Sea Book"));
    let labels: Vec<&str> = doc.pages.iter().map(|p| p.label.as_deref().unwrap()).collect();
    assert_eq!(labels, ["i", "ii", "1", "2", "3", "4", "5", "6"]);
    for (i, page) in doc.pages.iter().enumerate() {
        assert_eq!(page.index, i as u32);
        assert_eq!(page.locator, Locator::Pdf { page_index: i as u32 });
    }
    let chapter_3 = page_with(&doc, "Chapter 3 begins");
    assert_eq!(chapter_3.label.as_deref(), Some("3"));
    assert_eq!(chapter_3.locator, Locator::Pdf { page_index: 4 });
    assert_eq!(page_with(&doc, "Chapter 5 begins").label.as_deref(), Some("5"));
    assert_eq!(page_with(&doc, "A novel in three chapters").label.as_deref(), Some("i"));
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
}

#[test]
fn running_headers_and_page_numbers_are_dropped() {
    let doc = extract("sea.pdf", &pdf::pdf(&sea_book())).unwrap();
    for page in &doc.pages {
        assert!(!page.text.contains("THE SEA BOOK"), "header left on page {}: {:?}", page.index, page.text);
        let last = page.text.lines().last().unwrap();
        assert_ne!(Some(last), page.label.as_deref(), "page number left on page {}", page.index);
    }
    // The title page's own "The Sea Book" is body text in another case, and stays.
    assert!(doc.pages[0].text.starts_with("The Sea Book"), "{:?}", doc.pages[0].text);
    assert_eq!(doc.pages[4].text, "Chapter 3 begins\nStorm clouds gathered to the west.");
}

#[test]
fn hyphenation_across_lines_is_repaired() {
    let doc = extract("sea.pdf", &pdf::pdf(&sea_book())).unwrap();
    let page = page_with(&doc, "international");
    assert_eq!(page.label.as_deref(), Some("2"));
    assert!(page.text.contains("an international\ncrew loaded the ship."), "{:?}", page.text);
    assert!(!doc.pages.iter().any(|p| p.text.contains("inter-")));
}

#[test]
fn prefixed_and_lettered_labels() {
    let pages = (0..5).map(|i| PdfPage::text(&[&format!("Body of sheet {i}")])).collect();
    let mut spec = PdfSpec::new(pages);
    spec.labels = vec![(0, "D", "A-", 8), (2, "A", "", 1), (4, "", "Back cover", 1)];
    let doc = extract("labels.pdf", &pdf::pdf(&spec)).unwrap();
    let labels: Vec<&str> = doc.pages.iter().map(|p| p.label.as_deref().unwrap()).collect();
    assert_eq!(labels, ["A-8", "A-9", "A", "B", "Back cover"]);
}

#[test]
fn without_page_labels_the_page_number_is_shown() {
    let doc = extract("plain.pdf", &pdf::simple(&["one", "two"])).unwrap();
    assert_eq!(doc.pages[1].label, None);
    assert_eq!(doc.pages[1].display_label(), "2");
    assert_eq!(doc.pages[1].text, "two");
}

#[test]
fn compressed_content_streams() {
    let mut spec = PdfSpec::new(vec![PdfPage::text(&["Deflated words"]), PdfPage::text(&["More words"])]);
    spec.compress = true;
    let doc = extract("z.pdf", &pdf::pdf(&spec)).unwrap();
    assert_eq!(doc.pages[0].text, "Deflated words");
}

#[test]
fn a_page_with_text_and_an_image_keeps_its_text() {
    let page = PdfPage { lines: vec!["Figure 1 shows the hull.".into()], image: true };
    let doc = extract("figure.pdf", &pdf::pdf(&PdfSpec::new(vec![page]))).unwrap();
    assert_eq!(doc.pages[0].text, "Figure 1 shows the hull.");
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
}

#[test]
fn partly_scanned_pdf_warns_about_the_image_pages() {
    let pages = vec![PdfPage::text(&["Typed page"]), PdfPage::image_only(), PdfPage::text(&["Typed again"])];
    let doc = extract("mixed.pdf", &pdf::pdf(&PdfSpec::new(pages))).unwrap();
    assert_eq!(doc.pages.len(), 3, "the scanned page keeps its place");
    assert_eq!(doc.pages[1].text, "");
    assert!(doc.warnings.contains(&Warning::ImageOnlyPages { page_indices: vec![1] }), "{:?}", doc.warnings);
    let message = doc.warnings[0].to_string();
    assert!(message.contains("scanned") && message.contains("pages 2"), "{message}");
}

#[test]
fn standard_font_without_to_unicode_decodes() {
    // Helvetica with no /ToUnicode and no /Encoding: the reader must know the standard
    // encoding, and punctuation must survive.
    let doc = extract("std.pdf", &pdf::simple(&["Quotes (paren) and back\\slash: 100% & more!"])).unwrap();
    assert_eq!(doc.pages[0].text, "Quotes (paren) and back\\slash: 100% & more!");
}

#[test]
fn composite_font_without_to_unicode_does_not_crash() {
    let mut spec = PdfSpec::new(vec![PdfPage::text(&["Glyph ids only, no unicode map here at all"])]);
    spec.font = Font::CompositeWithoutUnicode;
    // pdf-extract panics on this font ("required"); the simpler extractor reads the glyph ids
    // as codes, which is garbage, but the page keeps its place and the warning says why.
    let doc = extract("cid.pdf", &pdf::pdf(&spec)).unwrap();
    assert_eq!(doc.pages.len(), 1);
    let Warning::PageFallback { page_index: 0, detail } = &doc.warnings[0] else {
        panic!("expected a fallback warning, got {:?}", doc.warnings)
    };
    assert!(detail.contains("crashed"), "{detail}");
}

#[test]
fn empty_user_password_encryption_is_opened() {
    let doc = extract("rc4.pdf", &pdf::encrypted("")).unwrap();
    assert_eq!(doc.pages[0].text, "Secret text");
    assert!(doc.warnings.contains(&Warning::EncryptedWithoutPassword), "{:?}", doc.warnings);
}
