//! Markdown: headings are section boundaries; the text stays Markdown source, which the model
//! reads well.

use crate::error::Result;
use crate::job::Job;
use crate::model::{Document, Format, Locator};
use crate::postprocess::{self, Cleanup, Spacing};
use crate::text;

/// Extracts a Markdown file.
pub(crate) fn extract(job: &mut Job<'_>, bytes: &[u8]) -> Result<Document> {
    let source = text::decode(job, bytes);
    let lines = text::split_lines(&source);
    let outline = outline(&lines);

    let mut sections: Vec<(text::Chunk, Option<String>)> = Vec::new();
    for (k, heading) in outline.headings.iter().enumerate() {
        let end = outline.headings.get(k + 1).map_or(lines.len(), |h| h.line);
        for chunk in text::chunk_lines(&lines[heading.line..end], heading.line, job.config.section_max_chars) {
            sections.push((chunk, heading.text.clone()));
        }
    }
    let pages = postprocess::into_pages(
        sections,
        |(c, _)| &c.text,
        Cleanup { spacing: Spacing::Keep, join_hyphens: false, drop_running_lines: false },
        |(chunk, heading)| {
            (
                None,
                Locator::Section {
                    line_first: chunk.line_first as u32 + 1,
                    line_last: chunk.line_last as u32 + 1,
                    heading,
                },
            )
        },
    );
    job.progress(1, 1);
    Ok(Document { format: Format::Markdown, title: outline.title, pages, warnings: Vec::new(), outline: Vec::new() })
}

struct Heading {
    /// 0-based line where the section starts.
    line: usize,
    /// `None` for the text before the first heading.
    text: Option<String>,
}

struct Outline {
    /// Section starts in order; the first starts at line 0.
    headings: Vec<Heading>,
    title: Option<String>,
}

/// Finds the headings (ATX `# x` and setext `x` / `===`), skipping fenced code and front
/// matter, and the title (front matter `title:`, else the first level-1 heading).
fn outline(lines: &[&str]) -> Outline {
    let mut headings = vec![Heading { line: 0, text: None }];
    let mut title = None;
    let mut first_h1 = None;
    let mut i = 0;
    if lines.first().is_some_and(|l| l.trim_end() == "---") {
        if let Some(end) = (1..lines.len()).find(|&j| matches!(lines[j].trim_end(), "---" | "...")) {
            title = lines[1..end].iter().find_map(|l| {
                let value = l.strip_prefix("title:")?.trim().trim_matches(['"', '\'']);
                (!value.is_empty()).then(|| value.to_string())
            });
            i = end + 1;
        }
    }
    let mut fence: Option<(char, usize)> = None;
    while i < lines.len() {
        let line = lines[i];
        let indent = line.len() - line.trim_start_matches(' ').len();
        let body = line.trim_start_matches(' ');
        if let Some((c, n)) = fence {
            let run = body.chars().take_while(|&x| x == c).count();
            if indent <= 3 && run >= n && body[run..].trim().is_empty() {
                fence = None;
            }
            i += 1;
            continue;
        }
        if indent <= 3 {
            let c = body.chars().next().unwrap_or(' ');
            let run = body.chars().take_while(|&x| x == c).count();
            if (c == '`' || c == '~') && run >= 3 {
                fence = Some((c, run));
                i += 1;
                continue;
            }
            if c == '#' && run <= 6 && body[run..].chars().next().is_none_or(|x| x == ' ' || x == '\t') {
                let text = body[run..].trim().trim_end_matches('#').trim().to_string();
                if run == 1 && first_h1.is_none() {
                    first_h1 = Some(text.clone());
                }
                push_heading(&mut headings, i, text);
                i += 1;
                continue;
            }
        }
        if let Some(next) = lines.get(i + 1) {
            let next_body = next.trim();
            let underline = !next_body.is_empty()
                && (next_body.chars().all(|x| x == '=') || next_body.chars().all(|x| x == '-'))
                && next.len() - next.trim_start_matches(' ').len() <= 3;
            if underline && !body.trim().is_empty() && indent <= 3 {
                let text = body.trim().to_string();
                if next_body.starts_with('=') && first_h1.is_none() {
                    first_h1 = Some(text.clone());
                }
                push_heading(&mut headings, i, text);
                i += 2;
                continue;
            }
        }
        i += 1;
    }
    Outline { headings, title: title.or(first_h1) }
}

fn push_heading(headings: &mut Vec<Heading>, line: usize, text: String) {
    let text = (!text.is_empty()).then_some(text);
    if line == 0 {
        // The document opens with a heading: it names the first section.
        headings[0].text = text;
    } else {
        headings.push(Heading { line, text });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_outside_code_fences() {
        let src = "intro\n# One\ntext\n```\n# not a heading\n```\nTwo\n===\nmore\n## Three ##\n";
        let lines = text::split_lines(src);
        let o = outline(&lines);
        let found: Vec<(usize, Option<&str>)> = o.headings.iter().map(|h| (h.line, h.text.as_deref())).collect();
        assert_eq!(found, vec![(0, None), (1, Some("One")), (6, Some("Two")), (9, Some("Three"))]);
        assert_eq!(o.title.as_deref(), Some("One"));
    }

    #[test]
    fn front_matter_gives_the_title_and_is_no_heading() {
        let lines = text::split_lines("---\ntitle: \"Sea Book\"\n---\ntext\n");
        let o = outline(&lines);
        assert_eq!(o.title.as_deref(), Some("Sea Book"));
        assert_eq!(o.headings.len(), 1);
    }
}
