//! Format detection from content: magic bytes, zip contents, then text heuristics.
//!
//! The extension only breaks ties the content cannot (Markdown is text; an HTML fragment
//! without `<html>` is text) and is otherwise ignored, so a PDF named `.txt` is read as a
//! PDF (with a warning) instead of as garbage text.

use std::io::Cursor;
use std::path::Path;

use crate::model::Format;

/// The result of sniffing: a supported format, or what the bytes look like instead.
pub(crate) type Sniffed = std::result::Result<Format, &'static str>;

/// Detects the format of `bytes`; `path` supplies the extension for tie-breaks.
///
/// Returns `Err(description)` ("a PNG image", "binary data") for content no extractor reads.
pub fn detect_format(path: &Path, bytes: &[u8]) -> Sniffed {
    let ext = extension(path);
    if is_pdf(bytes) {
        return Ok(Format::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return sniff_zip(bytes, ext.as_deref());
    }
    if let Some(what) = known_binary(bytes) {
        return Err(what);
    }
    if !looks_like_text(bytes) {
        return Err("binary data");
    }
    if looks_like_html(bytes) {
        return Ok(Format::Html);
    }
    Ok(match ext.as_deref() {
        Some("md" | "markdown" | "mdown" | "mkd" | "mkdn") => Format::Markdown,
        Some("html" | "htm" | "xhtml" | "xht") => Format::Html,
        _ => Format::Text,
    })
}

/// A PDF header at the start, or within the first KiB (after mail or HTTP headers) in a file
/// that also has PDF objects; so a text file that merely mentions "%PDF-1.7" stays text.
fn is_pdf(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    let Some(pos) = find(head, b"%PDF-") else {
        return false;
    };
    let version = &head[pos + 5..];
    let versioned = version.len() >= 3 && version[0].is_ascii_digit() && version[1] == b'.';
    let leading = head[..pos].iter().all(u8::is_ascii_whitespace);
    versioned && (leading || find(&bytes[..bytes.len().min(1 << 20)], b"endobj").is_some())
}

/// The lowercase extension of `path`, without the dot.
pub(crate) fn extension(path: &Path) -> Option<String> {
    path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase)
}

/// The format an extension claims, for the mismatch warning.
pub(crate) fn claimed_format(ext: &str) -> Option<Format> {
    Some(match ext {
        "pdf" => Format::Pdf,
        "epub" => Format::Epub,
        "txt" | "text" => Format::Text,
        "md" | "markdown" | "mdown" | "mkd" | "mkdn" => Format::Markdown,
        "html" | "htm" | "xhtml" | "xht" => Format::Html,
        "docx" => Format::Docx,
        _ => return None,
    })
}

fn sniff_zip(bytes: &[u8], ext: Option<&str>) -> Sniffed {
    let Ok(archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        // A damaged archive: trust the extension so the person gets "damaged EPUB" rather
        // than "unsupported"; the extractor reports what is wrong with it.
        return match ext {
            Some("epub") => Ok(Format::Epub),
            Some("docx") => Ok(Format::Docx),
            _ => Err("a damaged zip archive"),
        };
    };
    let mut epub = false;
    let mut docx = false;
    for name in archive.file_names() {
        match name {
            "META-INF/container.xml" | "mimetype" => epub = true,
            _ if name.starts_with("word/") => docx = true,
            _ if name.ends_with(".opf") => epub = true,
            _ => {}
        }
    }
    if epub {
        Ok(Format::Epub)
    } else if docx {
        Ok(Format::Docx)
    } else if archive.file_names().any(|n| n.starts_with("ppt/")) {
        Err("a PowerPoint presentation")
    } else if archive.file_names().any(|n| n.starts_with("xl/")) {
        Err("an Excel workbook")
    } else if archive.file_names().any(|n| n == "content.xml") {
        Err("an OpenDocument file")
    } else {
        Err("a zip archive")
    }
}

fn known_binary(bytes: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x89PNG", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"II*\0", "a TIFF image"),
        (b"MM\0*", "a TIFF image"),
        (b"AT&TFORM", "a DjVu document"),
        (b"%!PS", "a PostScript file"),
        (b"{\\rtf", "an RTF document"),
        (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "an old Word/Office (OLE2) document"),
        (b"\x1F\x8B", "a gzip archive"),
        (b"7z\xBC\xAF\x27\x1C", "a 7-Zip archive"),
        (b"Rar!", "a RAR archive"),
        (b"\x7FELF", "a program (ELF)"),
        (b"SQLite format 3\0", "an SQLite database"),
    ];
    if bytes.len() >= 68 && &bytes[60..68] == b"BOOKMOBI" {
        return Some("a Mobipocket/Kindle book");
    }
    MAGIC.iter().find(|(magic, _)| bytes.starts_with(magic)).map(|(_, what)| *what)
}

/// True for text in UTF-8, UTF-16 or a single-byte encoding; false for binary data.
pub(crate) fn looks_like_text(bytes: &[u8]) -> bool {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    let sample = &bytes[..bytes.len().min(8192)];
    if crate::text::utf16_without_bom(sample).is_some() {
        return true;
    }
    if sample.contains(&0) {
        return false;
    }
    // Control characters other than tab, newlines, form feed and escape are rare in text.
    let control = sample.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B)).count();
    control * 20 <= sample.len()
}

fn looks_like_html(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(2048)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    let lower: Vec<u8> = head[start..].iter().map(u8::to_ascii_lowercase).collect();
    lower.starts_with(b"<!doctype html")
        || lower.starts_with(b"<html")
        || ((lower.starts_with(b"<?xml") || lower.starts_with(b"<!--")) && find(&lower, b"<html").is_some())
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_beats_extension() {
        assert_eq!(detect_format(Path::new("a.txt"), b"%PDF-1.7\n..."), Ok(Format::Pdf));
        assert_eq!(detect_format(Path::new("a.pdf"), b"\x89PNG\r\n"), Err("a PNG image"));
        assert_eq!(detect_format(Path::new("a.md"), b"# Title\n"), Ok(Format::Markdown));
        assert_eq!(detect_format(Path::new("a"), b"<!DOCTYPE html><p>x"), Ok(Format::Html));
        assert_eq!(detect_format(Path::new("a.bin"), b"\x00\x01\x02\x03\x04"), Err("binary data"));
    }
}
