//! A lenient walk over XML (EPUB package files, NCX, DOCX parts) on top of `quick-xml`.
//!
//! Callers want a few elements out of files that real-world tools often get slightly wrong
//! (mismatched end tags, HTML entities in XML, a stray `&`), so the reader is configured to
//! tolerate all of that, and names arrive without namespace prefixes, lowercased.

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::markup;

/// One step of the walk.
pub(crate) enum XmlEvent<'a> {
    /// A start tag, or an empty-element tag (`empty`), which gets no `Close`.
    Open {
        /// Local name, lowercase (`w:lastRenderedPageBreak` → `lastrenderedpagebreak`).
        name: &'a str,
        /// Attributes with local, lowercase names and decoded values.
        attrs: &'a [(String, String)],
        empty: bool,
    },
    /// An end tag, local name lowercase.
    Close { name: &'a str },
    /// Character data, references decoded.
    Text(&'a str),
}

/// Walks `xml`, calling `visit` for each element and text run.
///
/// # Errors
///
/// The parser's message and byte position for XML too broken to continue, or a note that the
/// XML ends with elements still open; `visit` has seen everything before that point, so
/// callers can keep a partial result.
pub(crate) fn walk(xml: &str, mut visit: impl FnMut(XmlEvent<'_>)) -> Result<(), String> {
    let xml = xml.strip_prefix('\u{FEFF}').unwrap_or(xml);
    let mut reader = Reader::from_str(xml);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.allow_dangling_amp = true;
    let mut attrs: Vec<(String, String)> = Vec::new();
    // Open elements; a file that ends with some still open was cut short.
    let mut depth = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| format!("{e} at byte {}", reader.error_position()))?;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let empty = matches!(event, Event::Empty(_));
                if !empty {
                    depth += 1;
                }
                attrs.clear();
                for attr in start.html_attributes().flatten() {
                    let key = local(attr.key.as_ref()).to_ascii_lowercase();
                    attrs.push((key, markup::decode_entities(&attr.value)));
                }
                let name = local(start.name().as_ref()).to_ascii_lowercase();
                visit(XmlEvent::Open { name: &name, attrs: &attrs, empty });
            }
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                let name = local(end.name().as_ref()).to_ascii_lowercase();
                visit(XmlEvent::Close { name: &name });
            }
            Event::Text(text) => visit(XmlEvent::Text(&text.xml10_content())),
            Event::CData(data) => visit(XmlEvent::Text(&data.xml10_content())),
            Event::GeneralRef(reference) => {
                let name: &str = &reference;
                match markup::entity(name) {
                    Some(c) => visit(XmlEvent::Text(c.encode_utf8(&mut [0; 4]))),
                    None => visit(XmlEvent::Text(&format!("&{name};"))),
                }
            }
            Event::Eof if depth > 0 => return Err(format!("it ends with {depth} element(s) still open (cut short?)")),
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// `prefix:name` → `name`.
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// The value of attribute `key` (local, lowercase) in `attrs`.
pub(crate) fn attr<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_sloppy_xml() {
        let mut seen = Vec::new();
        let xml = "<?xml version='1.0'?><a:root x:k='v &amp; w'><b>t &nbsp;&#65; &unknown; & x</c><e/></a:root>";
        walk(xml, |e| match e {
            XmlEvent::Open { name, attrs, empty } => seen.push(format!(
                "open {name} {} {empty}",
                attrs.iter().map(|(k, v)| format!("{k}={v}")).collect::<String>()
            )),
            XmlEvent::Close { name } => seen.push(format!("close {name}")),
            XmlEvent::Text(t) => seen.push(format!("text {t}")),
        })
        .unwrap();
        let joined = seen.join("|");
        assert!(joined.starts_with("open root k=v & w false|open b  false|text t "), "{joined}");
        assert!(
            joined.contains("text \u{A0}") && joined.contains("text A") && joined.contains("&unknown;"),
            "{joined}"
        );
        assert!(joined.contains("open e  true"), "{joined}");
    }
}
