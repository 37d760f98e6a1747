//! Plain text: decoding whatever encoding the file is in, and splitting it into sections of
//! bounded size with line ranges as locators.

use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};

use crate::error::Result;
use crate::job::Job;
use crate::model::{Document, Format, Locator};
use crate::postprocess::{self, Cleanup, Spacing};
use crate::warning::Warning;

/// Extracts a plain-text file.
pub(crate) fn extract(job: &mut Job<'_>, bytes: &[u8]) -> Result<Document> {
    let text = decode(job, bytes);
    let lines = split_lines(&text);
    let chunks = chunk_lines(&lines, 0, job.config.section_max_chars);
    let pages = postprocess::into_pages(
        chunks,
        |c| &c.text,
        Cleanup { spacing: Spacing::Keep, join_hyphens: true, drop_running_lines: false },
        |chunk| {
            (None, Locator::Lines { line_first: chunk.line_first as u32 + 1, line_last: chunk.line_last as u32 + 1 })
        },
    );
    job.progress(1, 1);
    Ok(Document { format: Format::Text, title: None, pages, warnings: Vec::new(), outline: Vec::new() })
}

/// Decodes text bytes: BOMs first, then UTF-16 without a BOM, then UTF-8, and Windows-1252
/// for the lines that are not UTF-8 (files glued together from both are common).
pub(crate) fn decode(job: &mut Job<'_>, bytes: &[u8]) -> String {
    let (text, encoding) = decode_bytes(bytes);
    if let Some(encoding) = encoding {
        job.warn(Warning::Encoding { encoding });
    }
    text
}

/// The decoded text and, if it was not UTF-8, the encoding used.
pub(crate) fn decode_bytes(bytes: &[u8]) -> (String, Option<&'static str>) {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return decode_utf8_or_1252(rest);
    }
    if bytes.starts_with(b"\xFF\xFE") {
        return (UTF_16LE.decode_with_bom_removal(bytes).0.into_owned(), Some("UTF-16LE"));
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return (UTF_16BE.decode_with_bom_removal(bytes).0.into_owned(), Some("UTF-16BE"));
    }
    if let Some(big_endian) = utf16_without_bom(&bytes[..bytes.len().min(8192)]) {
        return if big_endian {
            (UTF_16BE.decode_without_bom_handling(bytes).0.into_owned(), Some("UTF-16BE"))
        } else {
            (UTF_16LE.decode_without_bom_handling(bytes).0.into_owned(), Some("UTF-16LE"))
        };
    }
    decode_utf8_or_1252(bytes)
}

fn decode_utf8_or_1252(bytes: &[u8]) -> (String, Option<&'static str>) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (text.to_string(), None);
    }
    // Decide line by line, so that a UTF-8 file with one pasted Windows-1252 paragraph keeps
    // its UTF-8 lines intact instead of turning every "é" into "Ã©".
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 8);
    let mut utf8_non_ascii = false;
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match std::str::from_utf8(line) {
            Ok(s) => {
                utf8_non_ascii |= !s.is_ascii();
                out.push_str(s);
            }
            Err(_) => out.push_str(&WINDOWS_1252.decode_without_bom_handling(line).0),
        }
    }
    let encoding = if utf8_non_ascii { "UTF-8 mixed with windows-1252" } else { "windows-1252" };
    (out, Some(encoding))
}

/// Recognises UTF-16 without a BOM by its zero bytes: text in Latin scripts has a zero in
/// every other byte. Returns `Some(true)` for big-endian, `Some(false)` for little-endian.
pub(crate) fn utf16_without_bom(sample: &[u8]) -> Option<bool> {
    let pairs = sample.len() / 2;
    if pairs < 2 {
        return None;
    }
    let zeros_even = sample.iter().step_by(2).take(pairs).filter(|&&b| b == 0).count();
    let zeros_odd = sample.iter().skip(1).step_by(2).take(pairs).filter(|&&b| b == 0).count();
    let big_endian = if zeros_odd * 10 >= pairs * 4 && zeros_even * 20 <= pairs {
        false
    } else if zeros_even * 10 >= pairs * 4 && zeros_odd * 20 <= pairs {
        true
    } else {
        return None;
    };
    // The decoded text must look like text too, or binary data of 16-bit numbers would pass.
    let even = &sample[..pairs * 2];
    let decoded = if big_endian {
        UTF_16BE.decode_without_bom_handling(even).0
    } else {
        UTF_16LE.decode_without_bom_handling(even).0
    };
    let control = decoded.chars().filter(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')).count();
    (control * 20 <= pairs).then_some(big_endian)
}

/// Splits text into lines on `\n`, `\r\n` or a lone `\r`, as editors count them.
pub(crate) fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&text[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// A run of lines (or part of one very long line) of bounded size.
pub(crate) struct Chunk {
    /// 0-based, counting from the start of the file.
    pub line_first: usize,
    /// 0-based and inclusive.
    pub line_last: usize,
    pub text: String,
}

/// Packs `lines` into chunks of at most `max_chars` characters, breaking between paragraphs
/// where possible, then between lines, then (for a single huge line) between words.
/// `offset` is the file line number of `lines[0]`, 0-based.
pub(crate) fn chunk_lines(lines: &[&str], offset: usize, max_chars: usize) -> Vec<Chunk> {
    let max_chars = max_chars.max(100);
    let mut chunker = Chunker { max_chars, chunks: Vec::new(), current: None };
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        let end = (i..lines.len()).find(|&j| lines[j].trim().is_empty()).unwrap_or(lines.len());
        let paragraph = lines[i..end].join("\n");
        let chars = paragraph.chars().count();
        if chars <= max_chars {
            chunker.add(offset + i, offset + end - 1, &paragraph, chars, "\n\n");
        } else {
            for (k, line) in lines[i..end].iter().enumerate() {
                let n = offset + i + k;
                let line_chars = line.chars().count();
                // The first line of the paragraph is separated from what came before by a blank line.
                let separator = if k == 0 { "\n\n" } else { "\n" };
                if line_chars <= max_chars {
                    chunker.add(n, n, line, line_chars, separator);
                } else {
                    chunker.flush();
                    for piece in split_long_line(line, max_chars) {
                        chunker.chunks.push(Chunk { line_first: n, line_last: n, text: piece.to_string() });
                    }
                }
            }
        }
        i = end;
    }
    chunker.flush();
    chunker.chunks
}

struct Chunker {
    max_chars: usize,
    chunks: Vec<Chunk>,
    /// The chunk being filled and its length in characters.
    current: Option<(Chunk, usize)>,
}

impl Chunker {
    /// Adds `text` (`chars` characters long) after `separator`, starting a new chunk if the
    /// current one would grow past the limit.
    fn add(&mut self, first: usize, last: usize, text: &str, chars: usize, separator: &str) {
        if let Some((chunk, len)) = &mut self.current {
            if *len + separator.len() + chars <= self.max_chars {
                chunk.text.push_str(separator);
                chunk.text.push_str(text);
                chunk.line_last = last;
                *len += separator.len() + chars;
                return;
            }
            self.flush();
        }
        self.current = Some((Chunk { line_first: first, line_last: last, text: text.to_string() }, chars));
    }

    fn flush(&mut self) {
        if let Some((chunk, _)) = self.current.take() {
            self.chunks.push(chunk);
        }
    }
}

/// Splits one line longer than `max_chars` at spaces (or anywhere, if it has none).
fn split_long_line(line: &str, max_chars: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = line;
    loop {
        // One pass over at most `max_chars + 1` characters per piece keeps this linear.
        let mut limit = None;
        for (count, (i, _)) in rest.char_indices().enumerate() {
            if count == max_chars {
                limit = Some(i);
                break;
            }
        }
        let Some(limit) = limit else { break };
        let cut = rest[..limit].rfind(' ').filter(|&i| i > limit / 2).unwrap_or(limit);
        pieces.push(&rest[..cut]);
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() {
        pieces.push(rest);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_encoding() {
        assert_eq!(decode_bytes(b"caf\xC3\xA9"), ("café".into(), None));
        assert_eq!(decode_bytes(b"caf\xE9"), ("café".into(), Some("windows-1252")));
        assert_eq!(
            decode_bytes(b"caf\xC3\xA9\nna\xEFve"),
            ("café\nnaïve".into(), Some("UTF-8 mixed with windows-1252"))
        );
        assert_eq!(decode_bytes(b"\xFF\xFEh\0i\0"), ("hi".into(), Some("UTF-16LE")));
        assert_eq!(decode_bytes(b"\0h\0e\0l\0l\0o"), ("hello".into(), Some("UTF-16BE")));
    }

    #[test]
    fn lines_split_like_an_editor() {
        assert_eq!(split_lines("a\r\nb\rc\n\nd"), vec!["a", "b", "c", "", "d"]);
    }

    #[test]
    fn chunks_respect_the_limit_and_cover_every_line() {
        let para = "word ".repeat(30);
        let text = format!("{para}\n\n{para}\n{para}\n\n{}", "x".repeat(250));
        let lines = split_lines(&text);
        let chunks = chunk_lines(&lines, 0, 100);
        assert!(chunks.iter().all(|c| c.text.chars().count() <= 100), "chunks stay within the limit");
        assert_eq!(chunks.first().map(|c| c.line_first), Some(0));
        assert_eq!(chunks.last().map(|c| c.line_last), Some(5));
        let total: usize = chunks.iter().map(|c| c.text.matches('x').count()).sum();
        assert_eq!(total, 250);
    }
}
