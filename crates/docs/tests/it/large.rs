//! A 2,000-page PDF: page truth at scale, progress, cancellation, and the time it takes.

use seahorse_cancel::CancelToken;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use seahorse_docs::{extract_bytes, Error, ExtractConfig, Locator, Progress};

use crate::fixtures::guarded;
use crate::fixtures::pdf::{self, PdfPage, PdfSpec};

const PAGES: usize = 2_000;
/// Body lines per page: with the words below, about 2,000 characters, a printed book's page.
const LINES: usize = 36;
const SAILORS: [&str; 7] = ["Ahab", "Ishmael", "Queequeg", "Starbuck", "Stubb", "Flask", "Pip"];
const WORDS: [&str; 16] = [
    "whale", "harpoon", "ocean", "captain", "mast", "rope", "sail", "wind", "deck", "storm", "oil", "boat", "crew",
    "line", "sea", "watch",
];

/// Body line `k` of page `i`: deterministic, and different from page to page.
fn body_line(i: usize, k: usize) -> String {
    let words: Vec<&str> = (0..9).map(|w| WORDS[(i * 7 + k * 5 + w * 3 + w * w) % 16]).collect();
    format!("{} and the {}.", SAILORS[(i + k) % 7], words.join(" "))
}

/// The text the extractor must give for page `i`: the body, without header and page number.
/// The marker carrying the page index sits in the middle, out of the header/footer zones.
fn expected_text(i: usize) -> String {
    let mut lines: Vec<String> = (0..LINES).map(|k| body_line(i, k)).collect();
    lines.insert(LINES / 2, format!("Marker {i} sits in the middle."));
    lines.join("\n")
}

/// Built once for all tests here: a running header, the body, and the printed page number.
fn long_book() -> &'static [u8] {
    static BOOK: OnceLock<Vec<u8>> = OnceLock::new();
    BOOK.get_or_init(|| {
        let pages = (0..PAGES)
            .map(|i| {
                let mut lines = vec!["THE LONG BOOK".to_string()];
                lines.extend(expected_text(i).lines().map(str::to_string));
                lines.push((i + 1).to_string());
                PdfPage { lines, image: false }
            })
            .collect();
        let mut spec = PdfSpec::new(pages);
        spec.labels = vec![(0, "D", "", 1)];
        spec.compress = true;
        pdf::pdf(&spec)
    })
}

#[test]
fn two_thousand_pages_with_progress() {
    let bytes = long_book();
    let (doc, events, elapsed) = guarded("2,000-page PDF", Duration::from_secs(300), move || {
        let mut events: Vec<Progress> = Vec::new();
        let started = Instant::now();
        let doc = extract_bytes(Path::new("long.pdf"), bytes, &ExtractConfig::default(), &CancelToken::new(), |p| {
            events.push(p)
        });
        (doc, events, started.elapsed())
    });
    let doc = doc.unwrap();
    let text_bytes: usize = doc.pages.iter().map(|p| p.text.len()).sum();
    // Not an assertion (timings belong to benchmarks); printed for the record.
    eprintln!(
        "extracted {PAGES} pages ({} KiB of PDF, {} KiB of text) in {:.2} s: {:.0} pages/s",
        bytes.len() / 1024,
        text_bytes / 1024,
        elapsed.as_secs_f64(),
        PAGES as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(doc.pages.len(), PAGES);
    assert_eq!(events.len(), PAGES);
    assert!(events.iter().enumerate().all(|(i, p)| p.done == i as u32 + 1 && p.total == PAGES as u32));
    for (i, page) in doc.pages.iter().enumerate() {
        assert_eq!(page.locator, Locator::Pdf { page_index: i as u32 });
        assert_eq!(page.label.as_deref(), Some((i + 1).to_string().as_str()));
        assert_eq!(page.text, expected_text(i), "page {i}");
    }
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
}

#[test]
fn cancellation_stops_within_a_page() {
    let bytes = long_book();
    let (result, last) = guarded("cancelled 2,000-page PDF", Duration::from_secs(300), move || {
        let cancel = CancelToken::new();
        let mut last = 0;
        let result = extract_bytes(Path::new("long.pdf"), bytes, &ExtractConfig::default(), &cancel, |p| {
            last = p.done;
            if p.done == 100 {
                cancel.cancel();
            }
        });
        (result.map(|d| d.pages.len()), last)
    });
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");
    assert!(err.to_string().contains("cancelled"), "{err}");
    assert_eq!(last, 100, "no page is extracted after the flag is raised");
}
