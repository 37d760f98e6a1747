//! Splits page text into passages for the full-text index: whole paragraphs packed up to a
//! size limit, long paragraphs cut at a space. A passage never spans two pages, so every
//! hit names exactly one page.

/// Passages of at most about this many bytes.
pub(crate) const PASSAGE_MAX_BYTES: usize = 1_200;

/// The passages of one page's text, in order; empty for a blank page.
pub(crate) fn split(text: &str, max_bytes: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None; // start of the passage being packed
    let mut end = 0; // end of its last paragraph
    for (offset, para) in paragraphs(text) {
        let para_end = offset + para.len();
        if let Some(s) = start {
            if para_end - s <= max_bytes {
                end = para_end;
                continue;
            }
            out.push(&text[s..end]);
            start = None;
        }
        if para.len() <= max_bytes {
            start = Some(offset);
            end = para_end;
        } else {
            out.extend(cut(para, max_bytes));
        }
    }
    if let Some(s) = start {
        out.push(&text[s..end]);
    }
    out
}

/// Non-blank paragraphs (separated by blank lines) with their byte offsets.
fn paragraphs(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let base = text.as_ptr() as usize;
    text.split("\n\n").filter_map(move |p| {
        let t = p.trim();
        (!t.is_empty()).then(|| (t.as_ptr() as usize - base, t))
    })
}

/// Cuts one long paragraph into pieces of at most `max_bytes`, at the last space before the
/// limit where there is one (else at a character boundary).
fn cut(mut para: &str, max_bytes: usize) -> Vec<&str> {
    let mut out = Vec::new();
    while para.len() > max_bytes {
        let mut limit = max_bytes;
        while !para.is_char_boundary(limit) {
            limit -= 1;
        }
        let at = para[..limit].rfind(char::is_whitespace).filter(|&i| i > max_bytes / 2).unwrap_or(limit);
        out.push(para[..at].trim_end());
        para = para[at..].trim_start();
    }
    if !para.is_empty() {
        out.push(para);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_paragraphs_and_cuts_long_ones() {
        assert!(split("  \n\n ", 100).is_empty());
        assert_eq!(split("a b\n\nc d\n\ne f", 8), vec!["a b\n\nc d", "e f"]);
        let long = "word ".repeat(50);
        let parts = split(&long, 40);
        assert!(parts.iter().all(|p| p.len() <= 40 && !p.is_empty()), "{parts:?}");
        assert_eq!(parts.join(" ").split_whitespace().count(), 50);
        let cjk = "漢".repeat(30); // no spaces, multi-byte characters
        let parts = split(&cjk, 10);
        assert!(parts.iter().all(|p| p.len() <= 10));
        assert_eq!(parts.concat(), cjk);
    }
}
