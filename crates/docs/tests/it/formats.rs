//! Text, Markdown, HTML and DOCX extraction, and format detection by content.

use seahorse_cancel::CancelToken;
use std::path::Path;

use seahorse_docs::{detect_format, extract_file, ExtractConfig, Format, Locator, Warning};

use crate::fixtures::zip::{self, para};
use crate::fixtures::{extract, extract_with, page_with};

#[test]
fn text_sections_carry_line_ranges() {
    let mut text = String::new();
    for n in 1..=40 {
        text.push_str(&format!("Paragraph {n} has a few words in it to fill the line.\nIt ends here.\n\n"));
    }
    let config = ExtractConfig { section_max_chars: 500, ..ExtractConfig::default() };
    let doc = extract_with("notes.txt", text.as_bytes(), &config).unwrap();
    assert_eq!(doc.format, Format::Text);
    assert!(doc.pages.len() > 5);
    assert!(doc.pages.iter().all(|p| p.text.chars().count() <= 500));
    let page = page_with(&doc, "Paragraph 17 has");
    let Locator::Lines { line_first, line_last } = page.locator else { panic!() };
    // Paragraph n starts on line 3n - 2.
    assert!(line_first <= 49 && line_last >= 50, "{line_first}..{line_last}");
    let first_line = text.lines().nth(line_first as usize - 1).unwrap();
    assert!(page.text.starts_with(first_line), "the range starts where the text starts");
    // Consecutive sections leave no gap.
    for pair in doc.pages.windows(2) {
        let (Locator::Lines { line_last: a, .. }, Locator::Lines { line_first: b, .. }) =
            (&pair[0].locator, &pair[1].locator)
        else {
            panic!()
        };
        assert!(b > a && b - a <= 2, "{a} then {b}");
    }
}

#[test]
fn text_in_every_encoding() {
    let expected = "Café déjà vu, naïve façade";
    let utf16le: Vec<u8> = [0xFF, 0xFE].into_iter().chain(expected.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let utf16be: Vec<u8> = [0xFE, 0xFF].into_iter().chain(expected.encode_utf16().flat_map(u16::to_be_bytes)).collect();
    let utf16le_no_bom: Vec<u8> = expected.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let cp1252: Vec<u8> = expected.chars().map(|c| c as u32 as u8).collect();
    let cases: [(&str, Vec<u8>, Option<&str>); 5] = [
        ("utf8.txt", expected.as_bytes().to_vec(), None),
        ("utf16le.txt", utf16le, Some("UTF-16LE")),
        ("utf16be.txt", utf16be, Some("UTF-16BE")),
        ("utf16-nobom.txt", utf16le_no_bom, Some("UTF-16LE")),
        ("latin.txt", cp1252, Some("windows-1252")),
    ];
    for (name, bytes, encoding) in cases {
        let doc = extract(name, &bytes).unwrap();
        assert_eq!(doc.pages[0].text, expected, "{name}");
        let warned = doc.warnings.iter().find_map(|w| match w {
            Warning::Encoding { encoding } => Some(*encoding),
            _ => None,
        });
        assert_eq!(warned, encoding, "{name}");
    }
}

#[test]
fn mixed_encodings_are_decided_line_by_line() {
    let mut bytes = "Première ligne en UTF-8\n".as_bytes().to_vec();
    bytes.extend_from_slice(b"Deuxi\xE8me ligne en Windows-1252 \x93quoted\x94\n");
    let doc = extract("mixed.txt", &bytes).unwrap();
    assert_eq!(doc.pages[0].text, "Première ligne en UTF-8\nDeuxième ligne en Windows-1252 “quoted”");
    assert!(doc.warnings.contains(&Warning::Encoding { encoding: "UTF-8 mixed with windows-1252" }));
}

#[test]
fn markdown_headings_bound_sections() {
    let md = "Intro text.\n\n# Voyage\n\nWe left at dawn.\n\n```\n# not a heading\n```\n\n## Arrival\nLand ho.\n";
    let doc = extract("log.md", md.as_bytes()).unwrap();
    assert_eq!(doc.format, Format::Markdown);
    assert_eq!(doc.title.as_deref(), Some("Voyage"));
    let headings: Vec<Option<&str>> = doc
        .pages
        .iter()
        .map(|p| match &p.locator {
            Locator::Section { heading, .. } => heading.as_deref(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(headings, [None, Some("Voyage"), Some("Arrival")]);
    assert_eq!(
        doc.pages[2].locator,
        Locator::Section { line_first: 11, line_last: 12, heading: Some("Arrival".into()) }
    );
    assert!(doc.pages[1].text.contains("# not a heading"));
}

#[test]
fn html_sections_by_heading_with_anchors() {
    let html = "<!DOCTYPE html><html><head><title>Ship &amp; Sea</title><style>p{color:red}</style>\
        <script>var x = '<h1>no</h1>';</script></head><body><p>Preface words.</p>\
        <h2 id=\"rigging\">Rigging</h2><p>Ropes and <b>knots</b>.</p><ul><li>bowline</li><li>hitch</li></ul>\
        <h2>Sails</h2><p>Canvas.</p></body></html>";
    let doc = extract("ship.html", html.as_bytes()).unwrap();
    assert_eq!(doc.format, Format::Html);
    assert_eq!(doc.title.as_deref(), Some("Ship & Sea"));
    assert_eq!(doc.pages.len(), 3);
    assert_eq!(
        doc.pages[1].locator,
        Locator::Html { section_index: 1, heading: Some("Rigging".into()), anchor: Some("rigging".into()) }
    );
    let rigging = &doc.pages[1].text;
    assert!(rigging.contains("Ropes and knots.") && rigging.contains("bowline"), "{rigging:?}");
    assert!(!doc.pages.iter().any(|p| p.text.contains("color") || p.text.contains("var x")));
    assert_eq!(doc.pages[2].locator, Locator::Html { section_index: 2, heading: Some("Sails".into()), anchor: None });
}

#[test]
fn docx_pages_follow_word_page_breaks() {
    let body = format!(
        "{}{}<w:p><w:r><w:br w:type=\"page\"/></w:r><w:r><w:lastRenderedPageBreak/><w:t>Chapter 3 begins</w:t></w:r></w:p>\
         <w:p><w:r><w:t>Still page two, with a</w:t><w:tab/><w:t>tab.</w:t></w:r></w:p>\
         <w:p><w:r><w:t xml:space=\"preserve\">Half on two, </w:t><w:lastRenderedPageBreak/><w:t>half on three.</w:t></w:r></w:p>",
        para("Title page"),
        para("Foreword &amp; thanks")
    );
    let doc = extract("book.docx", &zip::docx(&body, Some("Word Book"))).unwrap();
    assert_eq!(doc.format, Format::Docx);
    assert_eq!(doc.title.as_deref(), Some("Word Book"));
    let labels: Vec<&str> = doc.pages.iter().map(|p| p.label.as_deref().unwrap()).collect();
    assert_eq!(labels, ["1", "2", "3"]);
    assert_eq!(doc.pages[0].text, "Title page\n\nForeword & thanks");
    let two = page_with(&doc, "Chapter 3 begins");
    assert_eq!(two.label.as_deref(), Some("2"));
    assert_eq!(two.locator, Locator::Docx { paragraph_first: 2, paragraph_last: 4 });
    assert!(two.text.contains("with a tab.") && two.text.ends_with("Half on two,"), "{:?}", two.text);
    assert_eq!(doc.pages[2].text, "half on three.");
}

#[test]
fn docx_without_breaks_has_size_bounded_sections() {
    let body: String =
        (0..60).map(|i| para(&format!("Paragraph number {i} of a long memo, with some words."))).collect();
    let config = ExtractConfig { section_max_chars: 400, ..ExtractConfig::default() };
    let doc = extract_with("memo.docx", &zip::docx(&body, None), &config).unwrap();
    assert!(doc.pages.len() >= 6);
    assert!(doc.pages.iter().all(|p| p.label.is_none() && p.text.chars().count() <= 400));
    let page = page_with(&doc, "Paragraph number 42 of");
    let Locator::Docx { paragraph_first, paragraph_last } = page.locator else { panic!() };
    assert!((paragraph_first..=paragraph_last).contains(&42));
}

#[test]
fn formats_are_detected_by_content() {
    let pdf = crate::fixtures::pdf::simple(&["x"]);
    let epub = zip::epub(&zip::paged_book());
    let docx = zip::docx(&para("x"), None);
    assert_eq!(detect_format(Path::new("a.txt"), &pdf), Ok(Format::Pdf));
    assert_eq!(detect_format(Path::new("a.pdf"), &epub), Ok(Format::Epub));
    assert_eq!(detect_format(Path::new("a.epub"), &docx), Ok(Format::Docx));
    assert_eq!(detect_format(Path::new("README"), b"# Title\n"), Ok(Format::Text));
    assert_eq!(detect_format(Path::new("a.txt"), b"<html><body>hi</body></html>"), Ok(Format::Html));
}

#[test]
fn extract_file_reads_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("voyage.txt");
    std::fs::write(&path, "Logbook entry.\n").unwrap();
    let doc = extract_file(&path, &ExtractConfig::default(), &CancelToken::new(), |_| {}).unwrap();
    assert_eq!(doc.pages[0].text, "Logbook entry.");
}
