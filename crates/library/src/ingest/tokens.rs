//! A document's pages as one token stream for the memory pass, with each page's token
//! range (the token-offset → page map used for citations).

use std::borrow::Cow;

use seahorse_engine::Model;

use crate::store::StoredPage;

/// Version of the page → text rule below; part of every [`crate::Fingerprint`].
pub(crate) const READING_VERSION: u32 = 1;

/// The memory pass's tokens and, per page, its `[start, end)` token range.
pub(crate) struct DocTokens {
    pub tokens: Vec<i32>,
    pub ranges: Vec<(u64, u64)>,
}

impl DocTokens {
    /// Pages whose last token is before `position` (pages fully read).
    pub fn pages_done(&self, position: u64) -> u32 {
        self.ranges.partition_point(|r| r.1 <= position) as u32
    }

    /// The page holding token `position - 1` (the last token read), 0 before any.
    pub fn page_of_last_read(&self, position: u64) -> u32 {
        if position == 0 {
            return 0;
        }
        let i = self.ranges.partition_point(|r| r.1 < position);
        (i.min(self.ranges.len().saturating_sub(1))) as u32
    }
}

/// Tokenizes each page as `[page LABEL]\n` + text + a blank line, so that the model sees
/// where pages begin (answers can then name pages), and each page's range is exact.
pub(crate) fn tokenize(model: &Model, pages: &[StoredPage]) -> DocTokens {
    let mut tokens = Vec::new();
    let mut ranges = Vec::with_capacity(pages.len());
    for page in pages {
        let start = tokens.len() as u64;
        let text = format!("[page {}]\n{}\n\n", page.display_label, neutralise(&page.text));
        tokens.extend(model.tokenize(&text));
        ranges.push((start, tokens.len() as u64));
    }
    DocTokens { tokens, ranges }
}

/// The engine's tokenizer parses special tokens (`<|im_start|>`, `<|endoftext|>`); a
/// document must not be able to inject them, so `<|` in document text gets a space.
fn neutralise(text: &str) -> Cow<'_, str> {
    if text.contains("<|") {
        Cow::Owned(text.replace("<|", "< |"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_lookups() {
        let t = DocTokens { tokens: vec![0; 30], ranges: vec![(0, 10), (10, 25), (25, 30)] };
        assert_eq!(t.pages_done(0), 0);
        assert_eq!(t.pages_done(10), 1);
        assert_eq!(t.pages_done(29), 2);
        assert_eq!(t.pages_done(30), 3);
        assert_eq!(t.page_of_last_read(0), 0);
        assert_eq!(t.page_of_last_read(10), 0);
        assert_eq!(t.page_of_last_read(11), 1);
        assert_eq!(t.page_of_last_read(30), 2);
    }

    #[test]
    fn special_tokens_are_defused() {
        assert_eq!(neutralise("a <|im_start|> b"), "a < |im_start|> b");
        assert!(matches!(neutralise("plain"), Cow::Borrowed(_)));
    }
}
