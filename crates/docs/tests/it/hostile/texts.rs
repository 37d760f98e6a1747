//! Hostile text, Markdown and HTML files, and files that are not what they claim.

use seahorse_cancel::CancelToken;

use seahorse_docs::{extract_file, Error, ExtractConfig, Format};

use super::{Case, Expect};

fn pseudo_random(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect()
}

pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "empty file",
            "empty.txt",
            Vec::new(),
            Expect::Fails(|e| matches!(e, Error::Empty { .. }), "is empty"),
        ),
        Case::new(
            "empty file named .pdf",
            "empty.pdf",
            Vec::new(),
            Expect::Fails(|e| matches!(e, Error::Empty { .. }), "0 bytes"),
        ),
        Case::new(
            "whitespace only",
            "blank.txt",
            b" \n\t\r\n   \n".to_vec(),
            Expect::Fails(|e| matches!(e, Error::NoText { .. }), "contains no text"),
        ),
        Case::new(
            "binary junk named .txt",
            "junk.txt",
            pseudo_random(4096, 7),
            Expect::Fails(|e| matches!(e, Error::Unsupported { sniffed: "binary data", .. }), "binary data"),
        ),
        Case::new(
            "executable named .md",
            "notes.md",
            [b"\x7FELF\x02\x01\x01".as_slice(), &[0; 64]].concat(),
            Expect::Fails(|e| matches!(e, Error::Unsupported { .. }), "a program"),
        ),
        Case::new(
            "one 1 MB line without newlines",
            "line.txt",
            "wave ".repeat(200_000).into_bytes(),
            Expect::Partial(
                |d| {
                    d.pages.len() >= 100
                        && d.pages.iter().all(|p| p.text.chars().count() <= 8_000)
                        && d.pages.iter().map(|p| p.text.matches("wave").count()).sum::<usize>() == 200_000
                },
                "",
            ),
        ),
        Case::new(
            "invalid utf-8 and control bytes",
            "mixed.txt",
            {
                let mut bytes = "Grüße aus Köln\n".as_bytes().to_vec();
                bytes.extend_from_slice(b"caf\xE9 \xFF\xFE\x80 cr\xE8me\x1B[31m red\x07\n");
                bytes
            },
            Expect::Partial(
                |d| d.pages[0].text.starts_with("Grüße aus Köln\ncafé ÿþ€ crème[31m red"),
                "decoded as UTF-8 mixed with windows-1252",
            ),
        ),
        Case::new(
            "utf-16 with odd byte count",
            "odd.txt",
            {
                let mut bytes: Vec<u8> =
                    [0xFF, 0xFE].into_iter().chain("Seahorse".encode_utf16().flat_map(u16::to_le_bytes)).collect();
                bytes.push(0x41);
                bytes
            },
            Expect::Partial(|d| d.pages[0].text.starts_with("Seahorse"), "UTF-16LE"),
        ),
        Case::new(
            "html nested 100,000 deep",
            "deep.html",
            format!(
                "<html><body><p>Surface.</p>{}deep text{}</body></html>",
                "<span><div>".repeat(50_000),
                "</div></span>".repeat(50_000)
            )
            .into_bytes(),
            Expect::Partial(|d| d.pages.iter().any(|p| p.text.contains("deep text")), "nested"),
        ),
        Case::new(
            "html with only script and style",
            "script.html",
            b"<html><head><style>b{}</style></head><body><script>document.write('x')</script></body></html>".to_vec(),
            Expect::Fails(|e| matches!(e, Error::NoText { .. }), "contains no text"),
        ),
        Case::new(
            "html with private-use marker characters",
            "marks.html",
            "<html><body><p>a\u{E000}1\u{E001}b</p><h2>Next</h2><p>c</p></body></html>".as_bytes().to_vec(),
            Expect::Partial(|d| d.pages.len() == 2 && d.pages[0].text == "a1b", ""),
        ),
        Case::new(
            "markdown with an unclosed fence",
            "fence.md",
            b"# Title\n\n```\n# inside code forever\nmore code\n".to_vec(),
            Expect::Partial(
                |d| {
                    d.format == Format::Markdown
                        && d.pages.len() == 1
                        && d.pages[0].text.contains("# inside code forever")
                },
                "",
            ),
        ),
        Case::new(
            "file over the size limit",
            "big.txt",
            vec![b'a'; 4096],
            Expect::Fails(|e| matches!(e, Error::TooLarge { bytes: 4096, .. }), "too large"),
        )
        .with_config(ExtractConfig { file_max_bytes: 1024, ..ExtractConfig::default() }),
    ]
}

#[test]
fn a_file_deleted_before_reading_is_a_read_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gone.pdf");
    std::fs::write(&path, b"%PDF-1.4").unwrap();
    std::fs::remove_file(&path).unwrap();
    let err = extract_file(&path, &ExtractConfig::default(), &CancelToken::new(), |_| {}).unwrap_err();
    assert!(matches!(err, Error::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("cannot read") && err.to_string().contains("gone.pdf"), "{err}");
}
