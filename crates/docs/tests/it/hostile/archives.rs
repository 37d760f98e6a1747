//! Hostile EPUB and DOCX files: zip bombs, path traversal, broken structure.

use seahorse_docs::{ArchiveProblem, Error, ExtractConfig, Format, Warning};

use super::{Case, Expect};
use crate::fixtures::zip::{self, para, Chapter, EpubSpec};

fn book() -> EpubSpec {
    EpubSpec::new(
        "Hostile Book",
        vec![
            Chapter::new("ch1.xhtml", "One", "<p>First chapter text.</p>"),
            Chapter::new("ch2.xhtml", "Two", "<p>Second chapter text.</p>"),
            Chapter::new("ch3.xhtml", "Three", "<p>Third chapter text.</p>"),
        ],
    )
}

fn with_extra(name: &str, data: Vec<u8>) -> Vec<u8> {
    let mut spec = book();
    spec.extra.push((name.to_string(), data));
    zip::epub(&spec)
}

fn unsafe_archive(e: &Error, want: fn(&ArchiveProblem) -> bool) -> bool {
    matches!(e, Error::UnsafeArchive { problem, .. } if want(problem))
}

fn has(doc: &seahorse_docs::Document, needle: &str) -> bool {
    doc.pages.iter().any(|p| p.text.contains(needle))
}

/// Flips bytes inside the packed data of `entry`, after its local header.
fn corrupt_entry(mut bytes: Vec<u8>, entry: &str) -> Vec<u8> {
    let name = entry.as_bytes();
    let at = bytes.windows(name.len()).position(|w| w == name).expect("entry is in the archive");
    for b in &mut bytes[at + name.len() + 4..at + name.len() + 12] {
        *b ^= 0x5A;
    }
    bytes
}

/// One entry per hostile input: long, but a table reads better than many small functions.
pub fn cases() -> Vec<Case> {
    let good = zip::epub(&book());
    vec![
        Case::new(
            "epub without a spine",
            "nospine.epub",
            {
                let mut spec = book();
                spec.spine = false;
                zip::epub(&spec)
            },
            Expect::Partial(|d| d.pages.len() == 3 && has(d, "Third chapter text."), "no reading order"),
        ),
        Case::new(
            "epub with broken xhtml",
            "broken.epub",
            zip::epub(&EpubSpec::new(
                "Broken",
                vec![
                    Chapter::new(
                        "a.xhtml",
                        "A",
                        "<p>Unclosed <b>bold <i>and &bogus; entity & stray < sign<div></span></p></p>\u{1}\u{7}</body>",
                    ),
                    Chapter::new(
                        "b.xhtml",
                        "B",
                        "<title/><p>After a self-closing title.</p><![CDATA[ cdata text ]]><!-- never closed",
                    ),
                ],
            )),
            Expect::Partial(
                |d| has(d, "Unclosed bold and &bogus; entity & stray < sign") && has(d, "After a self-closing title."),
                "",
            ),
        ),
        Case::new(
            "epub zip bomb entry",
            "bomb.epub",
            with_extra("OEBPS/bomb.xhtml", vec![0; 40 << 20]),
            Expect::Fails(|e| unsafe_archive(e, |p| matches!(p, ArchiveProblem::CompressionRatio { .. })), "zip bomb"),
        ),
        Case::new(
            "epub entry over the size limit",
            "huge.epub",
            with_extra(
                "OEBPS/big.xhtml",
                (0..(2u32 << 20))
                    .map(|i| b"abcdefghijklmnopqrstuvwxyz <>"[(i.wrapping_mul(2_654_435_761) >> 27) as usize % 29])
                    .collect(),
            ),
            Expect::Fails(|e| unsafe_archive(e, |p| matches!(p, ArchiveProblem::TooLarge { .. })), "over the limit"),
        )
        .with_config(ExtractConfig { zip_entry_max_bytes: 1 << 20, ..ExtractConfig::default() }),
        Case::new(
            "epub path traversal entry",
            "slip.epub",
            with_extra("../../evil.xhtml", b"<p>evil</p>".to_vec()),
            Expect::Fails(|e| unsafe_archive(e, |p| *p == ArchiveProblem::PathTraversal), "path traversal"),
        ),
        Case::new(
            "epub absolute path entry",
            "abs.epub",
            with_extra("/etc/cron.d/evil", b"* * * * * root true".to_vec()),
            Expect::Fails(|e| unsafe_archive(e, |p| *p == ArchiveProblem::PathTraversal), "\"/etc/cron.d/evil\""),
        ),
        Case::new(
            "epub with too many entries",
            "many.epub",
            {
                let mut spec = book();
                spec.extra = (0..40).map(|i| (format!("OEBPS/img/{i}.png"), vec![i as u8])).collect();
                zip::epub(&spec)
            },
            Expect::Fails(|e| unsafe_archive(e, |p| matches!(p, ArchiveProblem::TooManyEntries { .. })), "entries"),
        )
        .with_config(ExtractConfig { zip_entries_max: 30, ..ExtractConfig::default() }),
        Case::new(
            "epub chapter missing from the archive",
            "missing.epub",
            {
                let mut spec = book();
                spec.missing_files.push("ghost.xhtml".into());
                zip::epub(&spec)
            },
            Expect::Partial(|d| d.pages.len() == 3, "ghost.xhtml was left out"),
        ),
        Case::new(
            "epub without container.xml",
            "nocontainer.epub",
            {
                let mut spec = book();
                spec.container = false;
                zip::epub(&spec)
            },
            Expect::Partial(|d| d.pages.len() == 3 && d.title.as_deref() == Some("Hostile Book"), "container.xml"),
        ),
        Case::new(
            "epub without a package document",
            "noopf.epub",
            zip::zip(&[
                ("mimetype", b"application/epub+zip".to_vec()),
                (
                    "META-INF/container.xml",
                    b"<container><rootfiles><rootfile full-path=\"OEBPS/content.opf\"/></rootfiles></container>"
                        .to_vec(),
                ),
            ]),
            Expect::Fails(|e| matches!(e, Error::Malformed { format: Format::Epub, .. }), "no package document"),
        ),
        Case::new(
            "epub truncated zip",
            "cut.epub",
            good[..good.len() / 2].to_vec(),
            Expect::Fails(|e| matches!(e, Error::Malformed { format: Format::Epub, .. }), "not a readable zip archive"),
        ),
        Case::new(
            "epub chapter with corrupt data",
            "crc.epub",
            corrupt_entry(good.clone(), "OEBPS/ch2.xhtml"),
            Expect::Partial(
                |d| has(d, "First chapter text.") && has(d, "Third chapter text.") && !has(d, "Second chapter"),
                "cannot be unpacked",
            ),
        ),
        // 20,000 levels: deeper than the renderer is allowed, small enough (220 KB) to be exempt
        // from the ratio check that such repetitive markup would otherwise trip.
        Case::new(
            "epub chapter nested 20,000 divs deep",
            "deep.epub",
            zip::epub(&EpubSpec::new(
                "Deep",
                vec![Chapter::new(
                    "a.xhtml",
                    "A",
                    &format!(
                        "<p>Top text.</p>{}<p>Bottom text.</p>{}",
                        "<div>".repeat(20_000),
                        "</div>".repeat(20_000)
                    ),
                )],
            )),
            Expect::Partial(|d| has(d, "Top text.") && has(d, "Bottom text."), "nested 20001 deep"),
        ),
        Case::new(
            "epub named .pdf",
            "book.pdf",
            good.clone(),
            Expect::Partial(
                |d| d.format == Format::Epub && d.pages.len() == 3,
                "extension is .pdf but the content is EPUB",
            ),
        ),
        Case::new(
            "epub of images only",
            "pictures.epub",
            zip::epub(&EpubSpec::new("Pictures", vec![Chapter::new("a.xhtml", "A", "<img src=\"a.jpg\" alt=\"\"/>")])),
            Expect::Fails(|e| matches!(e, Error::NoText { .. }), "contains no text"),
        ),
        Case::new(
            "plain zip named .epub",
            "archive.epub",
            zip::zip(&[("notes/readme.md", b"hello".to_vec())]),
            Expect::Fails(|e| matches!(e, Error::Unsupported { sniffed: "a zip archive", .. }), "a zip archive"),
        ),
        Case::new(
            "docx without word/document.xml",
            "empty.docx",
            zip::zip(&[("[Content_Types].xml", b"<Types/>".to_vec()), ("word/styles.xml", b"<w:styles/>".to_vec())]),
            Expect::Fails(|e| matches!(e, Error::Malformed { format: Format::Docx, .. }), "has no word/document.xml"),
        ),
        Case::new(
            "docx with xml broken midway",
            "broken.docx",
            zip::zip(&[(
                "word/document.xml",
                format!(
                    "<w:document><w:body>{}{}<w:p><w:r><w:t>never closed",
                    para("Kept paragraph."),
                    para("Also kept.")
                )
                .into_bytes(),
            )]),
            Expect::Partial(
                |d| d.format == Format::Docx && d.pages[0].text.starts_with("Kept paragraph.\n\nAlso kept."),
                "still open",
            ),
        ),
        Case::new(
            "docx zip bomb",
            "bomb.docx",
            zip::zip(&[(
                "word/document.xml",
                [b"<w:document><w:body>".as_slice(), &vec![b' '; 30 << 20], b"</w:body></w:document>"].concat(),
            )]),
            Expect::Fails(|e| unsafe_archive(e, |p| matches!(p, ArchiveProblem::CompressionRatio { .. })), "zip bomb"),
        ),
    ]
}

#[test]
fn warnings_name_the_skipped_chapter() {
    let mut spec = book();
    spec.missing_files.push("ghost.xhtml".into());
    let doc = crate::fixtures::extract("missing.epub", &zip::epub(&spec)).unwrap();
    assert!(doc.warnings.iter().any(|w| matches!(w, Warning::PartSkipped { href, .. } if href == "ghost.xhtml")));
}
