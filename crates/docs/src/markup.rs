//! A forgiving scanner for HTML/XHTML tags, for the few jobs that must work on broken
//! markup before (or instead of) a real parser: finding XHTML self-closing tags and the
//! anchors to split at, measuring nesting depth, and a last-resort tag stripper.

/// One tag found in the source.
pub(crate) struct Tag {
    /// Byte offset of the `<`.
    pub start: usize,
    /// Byte offset just after the `>`.
    pub end: usize,
    /// Lowercase name, prefix included (`epub:switch`).
    pub name: String,
    /// `</name>`.
    pub closing: bool,
    /// `<name/>`.
    pub self_closing: bool,
    /// Attributes, keys lowercase, values with entities decoded.
    pub attrs: Vec<(String, String)>,
}

impl Tag {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// HTML elements that never have content, so `<br>` needs no `</br>`.
pub(crate) fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
    )
}

/// All tags of `src` in order; comments, doctypes, processing instructions and the content
/// of `script`/`style` are skipped.
pub(crate) fn tags(src: &str) -> Vec<Tag> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(offset) = memchr(b'<', &bytes[i..]) {
        let start = i + offset;
        let rest = &src[start..];
        if rest.starts_with("<!--") {
            i = find_from(src, start + 4, "-->").map_or(src.len(), |e| e + 3);
            continue;
        }
        if rest.starts_with("<![CDATA[") {
            i = find_from(src, start + 9, "]]>").map_or(src.len(), |e| e + 3);
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            i = find_from(src, start + 2, ">").map_or(src.len(), |e| e + 1);
            continue;
        }
        let closing = rest.starts_with("</");
        let name_start = start + if closing { 2 } else { 1 };
        let name_len = src[name_start..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_' | b'.'))
            .count();
        if name_len == 0 || !bytes[name_start].is_ascii_alphabetic() {
            i = start + 1;
            continue;
        }
        let name = src[name_start..name_start + name_len].to_ascii_lowercase();
        let (attrs, end, self_closing) = attributes(src, name_start + name_len);
        let raw_text = !closing && (name == "script" || name == "style") && !self_closing;
        out.push(Tag { start, end, name: name.clone(), closing, self_closing, attrs });
        i = end;
        if raw_text {
            let lower_close = format!("</{name}");
            i = find_ignore_case(src, end, &lower_close).unwrap_or(src.len());
        }
    }
    out
}

/// Parses attributes from `pos` to the closing `>`; returns them, the offset after `>`, and
/// whether the tag closes itself.
fn attributes(src: &str, mut pos: usize) -> (Vec<(String, String)>, usize, bool) {
    let bytes = src.as_bytes();
    let mut attrs = Vec::new();
    loop {
        while pos < bytes.len() && (bytes[pos].is_ascii_whitespace() || bytes[pos] == b'/') {
            if bytes[pos] == b'/' && bytes.get(pos + 1) == Some(&b'>') {
                return (attrs, pos + 2, true);
            }
            pos += 1;
        }
        if pos >= bytes.len() {
            return (attrs, bytes.len(), false);
        }
        if bytes[pos] == b'>' {
            return (attrs, pos + 1, false);
        }
        let key_start = pos;
        while pos < bytes.len() && !matches!(bytes[pos], b'=' | b'>' | b'/') && !bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let key = src[key_start..pos].to_ascii_lowercase();
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let mut value = String::new();
        if bytes.get(pos) == Some(&b'=') {
            pos += 1;
            while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
                pos += 1;
            }
            match bytes.get(pos) {
                Some(&q @ (b'"' | b'\'')) => {
                    let end = memchr(q, &bytes[pos + 1..]).map_or(bytes.len(), |e| pos + 1 + e);
                    value = decode_entities(&src[pos + 1..end]);
                    pos = (end + 1).min(bytes.len());
                }
                _ => {
                    let start = pos;
                    while pos < bytes.len() && bytes[pos] != b'>' && !bytes[pos].is_ascii_whitespace() {
                        pos += 1;
                    }
                    value = decode_entities(&src[start..pos]);
                }
            }
        }
        if !key.is_empty() {
            attrs.push((key, value));
        }
    }
}

/// The deepest element nesting in `src`, counting only elements that can have content.
pub(crate) fn max_depth(tags: &[Tag]) -> usize {
    let mut depth: usize = 0;
    let mut max = 0;
    for tag in tags {
        if tag.closing {
            depth = depth.saturating_sub(1);
        } else if !tag.self_closing && !is_void(&tag.name) && !matches!(tag.name.as_str(), "p" | "li") {
            depth += 1;
            max = max.max(depth);
        }
    }
    max
}

/// Text of `src` with tags removed, block elements as line breaks and entities decoded: the
/// fallback when the HTML renderer cannot be used.
pub(crate) fn strip_tags(src: &str) -> String {
    let mut out = String::with_capacity(src.len() / 2);
    let mut copied = 0;
    let mut skip_until: Option<String> = None;
    for tag in tags(src) {
        if skip_until.is_none() {
            out.push_str(&decode_entities(&src[copied..tag.start]));
        }
        copied = tag.end;
        match (&skip_until, tag.closing) {
            (Some(name), true) if *name == tag.name => skip_until = None,
            (Some(_), _) => {}
            (None, false) if matches!(tag.name.as_str(), "head" | "script" | "style" | "title") => {
                skip_until = Some(tag.name.clone());
            }
            (None, _) => {
                if matches!(
                    tag.name.as_str(),
                    "p" | "div"
                        | "br"
                        | "li"
                        | "tr"
                        | "h1"
                        | "h2"
                        | "h3"
                        | "h4"
                        | "h5"
                        | "h6"
                        | "section"
                        | "blockquote"
                        | "pre"
                        | "table"
                        | "ul"
                        | "ol"
                        | "hr"
                ) {
                    out.push('\n');
                }
            }
        }
    }
    if skip_until.is_none() {
        out.push_str(&decode_entities(&src[copied..]));
    }
    out
}

/// The text of the first `<title>` element.
pub(crate) fn title(src: &str) -> Option<String> {
    let tags = tags(src);
    let open = tags.iter().position(|t| t.name == "title" && !t.closing)?;
    let close = tags[open..].iter().find(|t| t.name == "title" && t.closing)?;
    let text = decode_entities(&src[tags[open].end..close.start]);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some(text)
}

/// Decodes character references and the common named entities; unknown ones stay as written.
pub(crate) fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '#')).map(|e| e + 1);
        let decoded = end.filter(|&e| rest[e..].starts_with(';')).and_then(|e| entity(&rest[1..e]).map(|c| (c, e)));
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// One entity's character: `#123`, `#x7B` or a common name.
pub(crate) fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).filter(|&c| c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{A0}',
        "shy" => '\u{AD}',
        "ndash" => '–',
        "mdash" => '—',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "hellip" => '…',
        "copy" => '©',
        "eacute" => 'é',
        "egrave" => 'è',
        "agrave" => 'à',
        "uuml" => 'ü',
        "ouml" => 'ö',
        "auml" => 'ä',
        "szlig" => 'ß',
        _ => return None,
    })
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

fn find_from(src: &str, from: usize, pat: &str) -> Option<usize> {
    src.get(from..)?.find(pat).map(|i| from + i)
}

fn find_ignore_case(src: &str, from: usize, lower_pat: &str) -> Option<usize> {
    let hay = src.as_bytes().get(from..)?;
    let pat = lower_pat.as_bytes();
    hay.windows(pat.len()).position(|w| w.eq_ignore_ascii_case(pat)).map(|i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_tags_through_comments_and_scripts() {
        let src = r#"<p id='a' class=x>t<!-- <b> --><script>if (a<b) {}</script><br/><x:y k="&amp;"/></p>"#;
        let names: Vec<String> = tags(src).iter().map(|t| t.name.clone()).collect();
        assert_eq!(names, vec!["p", "script", "script", "br", "x:y", "p"]);
        let t = tags(src);
        assert_eq!(t[0].attr("id"), Some("a"));
        assert_eq!(t[4].attr("k"), Some("&"));
    }

    #[test]
    fn strips_tags_as_a_fallback() {
        assert_eq!(strip_tags("<head><title>T</title></head><p>a &amp; b</p><p>c</p>").trim(), "a & b\n\nc");
    }
}
