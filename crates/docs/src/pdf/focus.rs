//! A one-page view of the page tree, so that each page costs the same however long the book.
//!
//! pdf-extract finds a page by number through lopdf's `get_pages()`, which walks the whole
//! page tree; once per page that is quadratic (measured: 8,000 pages took 27 s, nearly all of
//! it in the walks). Pointing the catalog at a small tree that holds only the page wanted makes
//! every lookup constant. Pages keep their real `/Parent`, so inherited resources and boxes
//! still resolve.

use lopdf::{dictionary, Document, Object, ObjectId};

pub(crate) struct Focus {
    node: ObjectId,
}

impl Focus {
    /// Points the catalog at a new one-page tree. `None` if the catalog is not an indirect
    /// object (then callers ask for pages by their real number).
    pub fn new(doc: &mut Document) -> Option<Self> {
        let catalog = doc.trailer.get(b"Root").ok()?.as_reference().ok()?;
        doc.get_dictionary(catalog).ok()?;
        let node = doc.add_object(dictionary! { "Type" => "Pages", "Kids" => Vec::<Object>::new(), "Count" => 1 });
        doc.get_object_mut(catalog).and_then(Object::as_dict_mut).ok()?.set("Pages", node);
        Some(Self { node })
    }

    /// Makes `page` the only page of the view; it is then page number 1.
    pub fn show(&self, doc: &mut Document, page: ObjectId) {
        if let Ok(node) = doc.get_object_mut(self.node).and_then(Object::as_dict_mut) {
            node.set("Kids", vec![Object::Reference(page)]);
        }
    }
}
