//! Hostile PDFs.

use lopdf::content::{Content, Operation};
use lopdf::{dictionary, Document, Object, ObjectId, Stream};
use seahorse_docs::{Error, ExtractConfig, Warning};

use super::{Case, Expect};
use crate::fixtures::pdf::{self, PdfPage, PdfSpec};

const WORDS: [&str; 10] = ["anchor", "bosun", "cabin", "deck", "ensign", "fathom", "galley", "hull", "isle", "jib"];

/// Ten pages with distinct text, saved uncompressed.
fn ten_pages() -> PdfSpec {
    PdfSpec::new((0..10).map(|i| PdfPage::text(&[&format!("The {} is on this page.", WORDS[i])])).collect())
}

/// The catalog's page tree root.
fn pages_root(doc: &Document) -> ObjectId {
    doc.catalog().unwrap().get(b"Pages").unwrap().as_reference().unwrap()
}

/// Replaces the number after the last `startxref`.
fn with_startxref(bytes: &[u8], value: &str) -> Vec<u8> {
    let pos = bytes.windows(9).rposition(|w| w == b"startxref").unwrap();
    let mut out = bytes[..pos].to_vec();
    out.extend_from_slice(format!("startxref\n{value}\n%%EOF\n").as_bytes());
    out
}

/// A one-page document whose page draws `content` with `resources`; for pages that need
/// objects the fixture builder does not make.
fn custom_page(build: impl FnOnce(&mut Document) -> (Vec<u8>, lopdf::Dictionary)) -> Vec<u8> {
    let (mut doc, _) = pdf::build(&ten_pages());
    let (content, resources) = build(&mut doc);
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let root = pages_root(&doc);
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => root, "Contents" => content_id, "Resources" => resources,
    });
    let pages = doc.get_object_mut(root).and_then(Object::as_dict_mut).unwrap();
    pages.get_mut(b"Kids").unwrap().as_array_mut().unwrap().push(page.into());
    pages.set("Count", 11);
    pdf::save(&mut doc)
}

fn text_ops(font: &str, text: &str) -> Vec<Operation> {
    vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec![Object::Name(font.as_bytes().to_vec()), 11.into()]),
        Operation::new("Td", vec![72.into(), 700.into()]),
        Operation::new("Tj", vec![Object::string_literal(text)]),
        Operation::new("ET", vec![]),
    ]
}

fn font_resources(doc: &mut Document) -> lopdf::Dictionary {
    let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Times-Roman" });
    dictionary! { "Font" => dictionary! { "F1" => font } }
}

fn pages_with(doc: &seahorse_docs::Document, needle: &str) -> usize {
    doc.pages.iter().filter(|p| p.text.contains(needle)).count()
}

fn page_failed(doc: &seahorse_docs::Document, index: u32) -> bool {
    doc.warnings.iter().any(|w| matches!(w, Warning::PageFailed { page_index, .. } if *page_index == index))
}

/// One entry per hostile input: long, but a table reads better than thirty small functions.
pub fn cases() -> Vec<Case> {
    let full = pdf::pdf(&ten_pages());
    let mut cases = vec![
        Case::new(
            "pdf truncated at 60%",
            "cut.pdf",
            full[..full.len() * 6 / 10].to_vec(),
            Expect::Partial(|d| pages_with(d, "The anchor is on this page.") == 1 && d.pages.len() >= 4, "repaired"),
        ),
        Case::new(
            "pdf truncated to its header",
            "head.pdf",
            b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec(),
            Expect::Fails(|e| matches!(e, Error::Malformed { .. }), "damaged PDF"),
        ),
        Case::new(
            "pdf truncated to 300 bytes",
            "tiny.pdf",
            full[..300].to_vec(),
            Expect::Fails(|e| matches!(e, Error::Malformed { .. } | Error::NoPages { .. }), "PDF"),
        ),
        Case::new(
            "pdf startxref points nowhere",
            "xref.pdf",
            with_startxref(&full, "999999"),
            Expect::Partial(
                |d| d.pages.len() == 10 && pages_with(d, "The jib is on this page.") == 1,
                "cross-reference",
            ),
        ),
        Case::new(
            "pdf every xref offset wrong",
            "shifted.pdf",
            {
                // 37 bytes slipped in after the header move every object; startxref is fixed
                // up so the table itself is found, and all its entries are wrong.
                let header_end = full.iter().position(|&b| b == b'\n').unwrap() + 1;
                let mut shifted = full[..header_end].to_vec();
                shifted.extend_from_slice(b"% 37 bytes of padding inserted here.\n");
                shifted.extend_from_slice(&full[header_end..]);
                let pos = full.windows(9).rposition(|w| w == b"startxref").unwrap();
                let old: usize =
                    std::str::from_utf8(&full[pos + 9..]).unwrap().split_whitespace().next().unwrap().parse().unwrap();
                with_startxref(&shifted, &(old + 37).to_string())
            },
            Expect::Partial(|d| d.pages.len() == 10 && pages_with(d, "The cabin is on this page.") == 1, "repaired"),
        ),
        Case::new(
            "pdf without any xref or trailer",
            "noxref.pdf",
            {
                let end = full.windows(6).rposition(|w| w == b"endobj").unwrap() + 6;
                full[..end].to_vec()
            },
            Expect::Partial(|d| d.pages.len() >= 9, "rebuilt"),
        ),
        Case::new(
            "pdf with leading junk",
            "junk.pdf",
            {
                let mut junk = b"Content-Type: application/pdf\r\n\r\n".to_vec();
                junk.extend_from_slice(&full);
                junk
            },
            Expect::Partial(|d| d.pages.len() == 10, ""),
        ),
        Case::new(
            "pdf encrypt dictionary, bad values",
            "lock.pdf",
            {
                let (mut doc, _) = pdf::build(&ten_pages());
                doc.trailer.set("Encrypt", dictionary! { "Filter" => "Standard", "V" => 9, "R" => 9, "O" => Object::string_literal("x"), "U" => Object::string_literal("y") });
                pdf::save(&mut doc)
            },
            Expect::Fails(|e| matches!(e, Error::Encrypted { .. }), "encrypted PDF that needs a password"),
        ),
        Case::new(
            "pdf encrypted with a user password",
            "secret.pdf",
            pdf::encrypted("secret"),
            Expect::Fails(|e| matches!(e, Error::Encrypted { .. }), "needs a password"),
        ),
        // The encryption dictionary and the trailer are at the end, so the cut removes every
        // sign of encryption: the file can only be called damaged.
        Case::new(
            "pdf encrypted and truncated",
            "secret-cut.pdf",
            {
                let bytes = pdf::encrypted("secret");
                bytes[..bytes.len() / 2].to_vec()
            },
            Expect::Fails(|e| matches!(e, Error::Encrypted { .. } | Error::Malformed { .. }), "PDF"),
        ),
        Case::new(
            "pdf with zero pages",
            "zero.pdf",
            pdf::pdf(&PdfSpec::new(Vec::new())),
            Expect::Fails(|e| matches!(e, Error::NoPages { .. }), "has no pages"),
        ),
        Case::new(
            "pdf of scanned images only",
            "scan.pdf",
            pdf::pdf(&PdfSpec::new(vec![PdfPage::image_only(); 3])),
            Expect::Fails(|e| matches!(e, Error::Scanned { pages: 3, .. }), "scanned PDF"),
        ),
        Case::new(
            "pdf of blank pages",
            "blank.pdf",
            pdf::pdf(&PdfSpec::new(vec![PdfPage::default(); 2])),
            Expect::Fails(|e| matches!(e, Error::NoText { pages: 2, .. }), "contains no text"),
        ),
        Case::new(
            "pdf page tree that contains itself",
            "cycle.pdf",
            {
                let (mut doc, _) = pdf::build(&ten_pages());
                let root = pages_root(&doc);
                let pages = doc.get_object_mut(root).and_then(Object::as_dict_mut).unwrap();
                pages.get_mut(b"Kids").unwrap().as_array_mut().unwrap().insert(0, root.into());
                pdf::save(&mut doc)
            },
            Expect::Partial(|d| d.pages.len() == 10, ""),
        ),
        Case::new(
            "pdf form xobject that draws itself",
            "selfdraw.pdf",
            custom_page(|doc| {
                let form_id = doc.new_object_id();
                let form = Stream::new(
                    dictionary! {
                        "Type" => "XObject", "Subtype" => "Form", "BBox" => vec![0.into(), 0.into(), 10.into(), 10.into()],
                        "Resources" => dictionary! { "XObject" => dictionary! { "Fm0" => form_id } },
                    },
                    b"/Fm0 Do".to_vec(),
                );
                doc.objects.insert(form_id, Object::Stream(form));
                let mut resources = font_resources(doc);
                resources.set("XObject", dictionary! { "Fm0" => form_id });
                let mut ops = text_ops("F1", "Before the loop");
                ops.push(Operation::new("Do", vec![Object::Name(b"Fm0".to_vec())]));
                (Content { operations: ops }.encode().unwrap(), resources)
            }),
            Expect::Partial(
                |d| d.pages.len() == 11 && page_failed(d, 10) && pages_with(d, "The deck is") == 1,
                "cycle",
            ),
        ),
        Case::new(
            "pdf content stream decompression bomb",
            "bomb.pdf",
            {
                let (mut doc, ids) = pdf::build(&ten_pages());
                let mut bomb = Stream::new(dictionary! {}, vec![b' '; 8 << 20]);
                bomb.compress().unwrap();
                let bomb_id = doc.add_object(bomb);
                doc.get_object_mut(ids[3]).and_then(Object::as_dict_mut).unwrap().set("Contents", bomb_id);
                pdf::save(&mut doc)
            },
            Expect::Partial(
                |d| d.pages.len() == 10 && page_failed(d, 3) && d.pages[3].text.is_empty(),
                "decompression bomb",
            ),
        )
        .with_config(ExtractConfig { pdf_page_content_max_bytes: 1 << 20, ..ExtractConfig::default() }),
        Case::new(
            "pdf content nested 100,000 arrays deep",
            "nested.pdf",
            custom_page(|doc| {
                let mut content = Content { operations: text_ops("F1", "Above the abyss") }.encode().unwrap();
                content.extend(std::iter::repeat_n(b'[', 100_000));
                content.extend_from_slice(b" 0 0 Td");
                (content, font_resources(doc))
            }),
            Expect::Partial(|d| d.pages.len() == 11 && pages_with(d, "The hull is") == 1, ""),
        ),
        Case::new(
            "pdf page without a media box",
            "nobox.pdf",
            {
                let (mut doc, _) = pdf::build(&ten_pages());
                let root = pages_root(&doc);
                doc.get_object_mut(root).and_then(Object::as_dict_mut).unwrap().remove(b"MediaBox");
                pdf::save(&mut doc)
            },
            Expect::Partial(
                |d| d.pages.len() == 10 && pages_with(d, "The fathom is on this page.") == 1 && d.warnings.is_empty(),
                "",
            ),
        ),
        Case::new(
            "pdf text in a font that does not exist",
            "nofont.pdf",
            custom_page(|doc| {
                let ops = text_ops("F9", "Lost font");
                (Content { operations: ops }.encode().unwrap(), font_resources(doc))
            }),
            Expect::Partial(
                |d| d.pages.len() == 11 && d.pages[10].text.is_empty() && page_failed(d, 10),
                "could not be read",
            ),
        ),
        Case::new(
            "pdf page whose content object is missing",
            "nocontent.pdf",
            {
                let (mut doc, ids) = pdf::build(&ten_pages());
                doc.get_object_mut(ids[5]).and_then(Object::as_dict_mut).unwrap().set("Contents", (9999, 0));
                pdf::save(&mut doc)
            },
            Expect::Partial(|d| d.pages.len() == 10 && d.pages[5].text.is_empty() && pages_with(d, "isle") == 1, ""),
        ),
        Case::new(
            "pdf body of random bytes",
            "random.pdf",
            {
                let mut bytes = b"%PDF-1.4\n".to_vec();
                let mut x: u32 = 12345;
                bytes.extend((0..20_000).map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (x >> 16) as u8
                }));
                bytes
            },
            Expect::Fails(|e| matches!(e, Error::Malformed { .. }), "damaged PDF"),
        ),
        Case::new(
            "pdf named .txt",
            "report.txt",
            full.clone(),
            Expect::Partial(|d| d.pages.len() == 10, "extension is .txt but the content is PDF"),
        ),
        Case::new(
            "pdf with a giant object number",
            "bignum.pdf",
            {
                let mut bytes = full[..full.len() * 6 / 10].to_vec();
                bytes
                    .extend_from_slice(b"\n4000000000 0 obj\n<< /Type /Page >>\nendobj\n99999999 0 obj\n(x)\nendobj\n");
                bytes
            },
            Expect::Partial(|d| d.pages.len() >= 4, "repaired"),
        ),
    ];
    cases.push(Case::new(
        "png image named .pdf",
        "photo.pdf",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
        Expect::Fails(|e| matches!(e, Error::Unsupported { .. }), "a PNG image"),
    ));
    cases
}
