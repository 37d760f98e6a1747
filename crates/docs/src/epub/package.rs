//! The EPUB package: `META-INF/container.xml` → the OPF (metadata, manifest, spine).

use std::collections::HashMap;

use crate::xml::{self, XmlEvent};

/// A manifest item.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    /// Path inside the archive, resolved against the OPF's folder.
    pub path: String,
    /// `href` as written in the manifest (for locators).
    pub href: String,
    pub media_type: String,
    pub properties: String,
}

impl Item {
    pub fn is_xhtml(&self) -> bool {
        matches!(self.media_type.as_str(), "application/xhtml+xml" | "text/html" | "application/xml")
            || [".xhtml", ".html", ".htm", ".xht"].iter().any(|e| self.path.to_lowercase().ends_with(e))
    }
}

/// What the package document says.
#[derive(Debug, Default)]
pub(crate) struct Package {
    pub title: Option<String>,
    /// Manifest items by id.
    pub items: HashMap<String, Item>,
    /// Manifest ids in document order.
    pub item_order: Vec<String>,
    /// Spine item ids in reading order.
    pub spine: Vec<String>,
    /// The NCX id named by `<spine toc="…">`.
    pub spine_toc: Option<String>,
}

/// The package document's path from `META-INF/container.xml`.
pub(crate) fn rootfile(container: &str) -> Option<String> {
    let mut found = None;
    // A broken container.xml may still have yielded the rootfile before the damage.
    let _ = xml::walk(container, |event| {
        if let XmlEvent::Open { name: "rootfile", attrs, .. } = event {
            if found.is_none() {
                found = xml::attr(attrs, "full-path").map(str::to_string);
            }
        }
    });
    found.filter(|p| !p.is_empty())
}

/// Parses the OPF at `opf_path` (for resolving hrefs).
///
/// # Errors
///
/// The XML parser's message when the OPF is broken before its spine; what was read up to
/// there is returned with it, so the caller can still use a partial manifest.
pub(crate) fn parse(opf: &str, opf_path: &str) -> (Package, Option<String>) {
    let base = folder(opf_path);
    let mut package = Package::default();
    let mut in_title = false;
    let mut title = String::new();
    let result = xml::walk(opf, |event| match event {
        XmlEvent::Open { name: "title", empty: false, .. } if package.title.is_none() => {
            in_title = true;
        }
        XmlEvent::Text(text) if in_title => title.push_str(text),
        XmlEvent::Close { name: "title" } if in_title => {
            in_title = false;
            let t = title.split_whitespace().collect::<Vec<_>>().join(" ");
            if !t.is_empty() {
                package.title = Some(t);
            }
        }
        XmlEvent::Open { name: "item", attrs, .. } => {
            let (Some(id), Some(href)) = (xml::attr(attrs, "id"), xml::attr(attrs, "href")) else {
                return;
            };
            let item = Item {
                path: resolve(&base, href),
                href: href.to_string(),
                media_type: xml::attr(attrs, "media-type").unwrap_or_default().to_ascii_lowercase(),
                properties: xml::attr(attrs, "properties").unwrap_or_default().to_string(),
            };
            if package.items.insert(id.to_string(), item).is_none() {
                package.item_order.push(id.to_string());
            }
        }
        XmlEvent::Open { name: "spine", attrs, .. } => {
            package.spine_toc = xml::attr(attrs, "toc").map(str::to_string);
        }
        XmlEvent::Open { name: "itemref", attrs, .. } => {
            if let Some(idref) = xml::attr(attrs, "idref") {
                package.spine.push(idref.to_string());
            }
        }
        _ => {}
    });
    (package, result.err())
}

/// The folder part of an archive path, with a trailing slash ("" for the root).
pub(crate) fn folder(path: &str) -> String {
    path.rfind('/').map_or(String::new(), |i| path[..=i].to_string())
}

/// Resolves `href` (relative, percent-encoded, maybe with `#fragment`) against `base`, a
/// folder inside the archive. `..` never climbs above the archive root.
pub(crate) fn resolve(base: &str, href: &str) -> String {
    let href = href.split('#').next().unwrap_or_default();
    let href = percent_decode(href);
    let joined = if href.starts_with('/') { href.clone() } else { format!("{base}{href}") };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// The fragment of an href (`ch1.xhtml#p12` → `p12`), percent-decoded.
pub(crate) fn fragment(href: &str) -> Option<String> {
    href.split_once('#').map(|(_, f)| percent_decode(f)).filter(|f| !f.is_empty())
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_resolve_inside_the_archive() {
        assert_eq!(resolve("OEBPS/", "text/ch%201.xhtml#p3"), "OEBPS/text/ch 1.xhtml");
        assert_eq!(resolve("OEBPS/text/", "../images/a.png"), "OEBPS/images/a.png");
        assert_eq!(resolve("", "../../../x.xhtml"), "x.xhtml");
        assert_eq!(fragment("ch1.xhtml#p%2012"), Some("p 12".to_string()));
        assert_eq!(fragment("ch1.xhtml"), None);
    }

    #[test]
    fn reads_the_package() {
        let opf = r#"<package><metadata><dc:title>The  Sea</dc:title></metadata>
            <manifest><item id="c1" href="ch1.xhtml" media-type="application/xhtml+xml"/>
            <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/></manifest>
            <spine toc="ncx"><itemref idref="c1"/></spine></package>"#;
        let (p, err) = parse(opf, "OEBPS/content.opf");
        assert!(err.is_none());
        assert_eq!(p.title.as_deref(), Some("The Sea"));
        assert_eq!(p.spine, vec!["c1"]);
        assert_eq!(p.items["c1"].path, "OEBPS/ch1.xhtml");
        assert_eq!(p.spine_toc.as_deref(), Some("ncx"));
    }
}
