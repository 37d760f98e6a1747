//! EPUB navigation: chapter titles from the table of contents and print pages from the
//! `page-list`, read from the EPUB 3 navigation document or the EPUB 2 NCX.

use crate::epub::package::{folder, fragment, resolve};
use crate::markup;
use crate::xml::{self, XmlEvent};

/// One navigation entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// Its label: the chapter title, or the print page ("xiv", "12").
    pub label: String,
    /// The archive path it points into.
    pub path: String,
    /// The element id, if it points inside the file.
    pub fragment: Option<String>,
}

/// The table of contents and the page list.
#[derive(Debug, Default)]
pub(crate) struct Nav {
    pub toc: Vec<Target>,
    pub page_list: Vec<Target>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum List {
    Toc,
    Pages,
}

/// Reads an EPUB 3 navigation document (XHTML, parsed leniently) at archive path `nav_path`.
pub(crate) fn parse_nav_document(xhtml: &str, nav_path: &str) -> Nav {
    let base = folder(nav_path);
    let mut nav = Nav::default();
    // The kind of each open <nav>, innermost last.
    let mut navs: Vec<Option<List>> = Vec::new();
    // The link being read: its list, href and text so far.
    let mut link: Option<(List, String, String)> = None;
    let mut copied = 0;
    for tag in markup::tags(xhtml) {
        if let Some((_, _, text)) = &mut link {
            text.push_str(&markup::decode_entities(&xhtml[copied..tag.start]));
        }
        copied = tag.end;
        match (tag.name.as_str(), tag.closing) {
            ("nav", false) if !tag.self_closing => {
                let kind = tag
                    .attrs
                    .iter()
                    .filter(|(k, _)| k == "epub:type" || k == "type" || k == "role")
                    .flat_map(|(_, v)| v.split_whitespace())
                    .find_map(|t| match t {
                        "toc" | "doc-toc" => Some(List::Toc),
                        "page-list" | "doc-pagelist" => Some(List::Pages),
                        _ => None,
                    });
                navs.push(kind);
            }
            ("nav", true) => {
                navs.pop();
            }
            ("a", false) => {
                let list = navs.iter().rev().find_map(|k| *k);
                link = match (list, tag.attr("href")) {
                    (Some(list), Some(href)) => Some((list, href.to_string(), String::new())),
                    _ => None,
                };
            }
            ("a", true) => {
                if let Some((list, href, text)) = link.take() {
                    push(&mut nav, list, &base, &href, &text);
                }
            }
            _ => {}
        }
    }
    nav
}

/// Reads an EPUB 2 NCX at archive path `ncx_path`.
pub(crate) fn parse_ncx(ncx: &str, ncx_path: &str) -> Nav {
    let base = folder(ncx_path);
    let mut nav = Nav::default();
    let mut in_page_list = false;
    let mut in_text = false;
    let mut label = String::new();
    // The NCX may be cut short; entries before the damage still count.
    let _ = xml::walk(ncx, |event| match event {
        XmlEvent::Open { name: "pagelist", empty: false, .. } => in_page_list = true,
        XmlEvent::Close { name: "pagelist" } => in_page_list = false,
        XmlEvent::Open { name: "navpoint" | "pagetarget", .. } => label.clear(),
        XmlEvent::Open { name: "text", empty: false, .. } => in_text = true,
        XmlEvent::Close { name: "text" } => in_text = false,
        XmlEvent::Text(t) if in_text => label.push_str(t),
        XmlEvent::Open { name: "content", attrs, .. } => {
            if let Some(src) = xml::attr(attrs, "src") {
                let list = if in_page_list { List::Pages } else { List::Toc };
                push(&mut nav, list, &base, src, &label);
            }
        }
        _ => {}
    });
    nav
}

fn push(nav: &mut Nav, list: List, base: &str, href: &str, label: &str) {
    let label = label.split_whitespace().collect::<Vec<_>>().join(" ");
    if href.starts_with("http:") || href.starts_with("https:") || href.starts_with("mailto:") {
        return;
    }
    let target = Target { label, path: resolve(base, href), fragment: fragment(href) };
    match list {
        List::Toc => nav.toc.push(target),
        List::Pages => nav.page_list.push(target),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nav_document_gives_toc_and_page_list() {
        let xhtml = r#"<html><body>
            <nav epub:type="toc"><ol><li><a href="text/ch1.xhtml">One &amp; <em>Only</em></a>
              <ol><li><a href="text/ch1.xhtml#s2">Part</a></li></ol></li></ol></nav>
            <nav epub:type="page-list" hidden=""><ol><li><a href="text/ch1.xhtml#p1">1</a></li>
              <li><a href="text/ch2.xhtml#p2">2</a></li></ol></nav>
            <nav epub:type="landmarks"><a href="text/ch1.xhtml">Start</a></nav></body></html>"#;
        let nav = parse_nav_document(xhtml, "OEBPS/nav.xhtml");
        assert_eq!(nav.toc.len(), 2);
        assert_eq!(nav.toc[0].label, "One & Only");
        assert_eq!(nav.toc[0].path, "OEBPS/text/ch1.xhtml");
        assert_eq!(
            nav.page_list[1],
            Target { label: "2".into(), path: "OEBPS/text/ch2.xhtml".into(), fragment: Some("p2".into()) }
        );
    }

    #[test]
    fn ncx_gives_toc_and_page_list() {
        let ncx = r#"<ncx><navMap><navPoint id="a"><navLabel><text>Chapter One</text></navLabel>
            <content src="ch1.xhtml"/></navPoint></navMap>
            <pageList><pageTarget type="normal" value="7"><navLabel><text>vii</text></navLabel>
            <content src="ch1.xhtml#pg7"/></pageTarget></pageList></ncx>"#;
        let nav = parse_ncx(ncx, "toc.ncx");
        assert_eq!(nav.toc[0].label, "Chapter One");
        assert_eq!(nav.page_list[0].label, "vii");
        assert_eq!(nav.page_list[0].fragment.as_deref(), Some("pg7"));
    }
}
