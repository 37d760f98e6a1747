//! docs/ask-eval.md from the JSON files in docs/eval/: one table per book length, every
//! number computed from the stored answers (never edited by hand).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use crate::run::{LengthReport, Scored};
use crate::whole_book;

/// The modes in the order the tables show them.
const MODES: &[(&str, &str)] = &[
    ("window", "sinks + sliding window only (memory restored, no passages)"),
    ("retrieval", "retrieval only (passages, no memory)"),
    ("window+retrieval", "sliding window + retrieval"),
    ("ahn", "AHN memory only"),
    ("ahn+retrieval", "AHN memory + retrieval (Seahorse)"),
    ("full", "full attention over the whole book (no retrieval)"),
];

pub(crate) fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{:.0} %", x * 100.0))
}

fn secs(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{:.2} s", x / 1e3))
}

/// The scores of `rows`: exact questions beyond the window, and spread questions.
fn exact_and_spread(rows: &[&Scored]) -> (Vec<f64>, Vec<f64>) {
    let exact = rows.iter().filter(|a| a.kind == "exact" && a.beyond_window).map(|a| a.score).collect();
    let spread = rows.iter().filter(|a| a.kind == "spread").map(|a| a.score).collect();
    (exact, spread)
}

/// Mean exact recall beyond the window and mean spread score of one mode, if it ran.
fn scores(r: &LengthReport, mode: &str) -> Option<(f64, f64)> {
    let rows: Vec<&Scored> = r.answers.iter().filter(|a| a.mode == mode).collect();
    let (exact, spread) = exact_and_spread(&rows);
    Some((mean(&exact)?, mean(&spread)?))
}

/// Mean score of one mode on the whole-book questions, if it answered any.
fn whole_book_score(r: &LengthReport, mode: &str) -> Option<f64> {
    let v: Vec<f64> =
        r.answers.iter().filter(|a| a.mode == mode && a.kind == whole_book::KIND).map(|a| a.score).collect();
    mean(&v)
}

/// The whole-book target, per length: AHN + retrieval scores above retrieval alone on the
/// questions whose answers need a long stretch of the book; full attention shown beside them.
fn whole_book_targets(reports: &[LengthReport]) -> String {
    let mut md = String::from(
        "On the whole-book questions (hand-written, `crates/eval/ask/whole-book.json`: answers that need a long \
         stretch of the novel), AHN memory + retrieval should score above retrieval alone.\n\n\
         | tokens | questions | AHN + retrieval | retrieval alone | sliding window + retrieval | full attention | above retrieval alone |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in reports {
        let n = r.answers.iter().filter(|a| a.mode == "retrieval" && a.kind == whole_book::KIND).count();
        if n == 0 {
            continue;
        }
        let ahn = whole_book_score(r, "ahn+retrieval");
        let retrieval = whole_book_score(r, "retrieval");
        let verdict = match (ahn, retrieval) {
            (Some(a), Some(b)) if a > b + 1e-9 => "met",
            (Some(a), Some(b)) if (a - b).abs() <= 1e-9 => "not met (tied)",
            (Some(_), Some(_)) => "not met",
            _ => "not run",
        };
        let _ = writeln!(
            md,
            "| {} | {n} | {} | {} | {} | {} | {verdict} |",
            r.book_tokens,
            pct(ahn),
            pct(retrieval),
            pct(whole_book_score(r, "window+retrieval")),
            pct(whole_book_score(r, "full")),
        );
    }
    md.push('\n');
    md
}

/// One row per whole-book question of `r`: its score in every mode that answered it.
fn whole_book_table(r: &LengthReport) -> String {
    let modes: Vec<&(&str, &str)> =
        MODES.iter().filter(|(m, _)| r.answers.iter().any(|a| a.mode == *m && a.kind == whole_book::KIND)).collect();
    let mut ids: Vec<&str> = Vec::new();
    for a in r.answers.iter().filter(|a| a.kind == whole_book::KIND) {
        if !ids.contains(&a.question.as_str()) {
            ids.push(&a.question);
        }
    }
    if ids.is_empty() {
        return String::new();
    }
    let mut md =
        String::from("Whole-book questions, score by mode (share of the answer's parts named):\n\n| question |");
    for (m, _) in &modes {
        let _ = write!(md, " {m} |");
    }
    md.push_str("\n|---|");
    md.push_str(&"---|".repeat(modes.len()));
    md.push('\n');
    for id in ids {
        let _ = write!(md, "| {id} |");
        for (m, _) in &modes {
            let score = r.answers.iter().find(|a| a.mode == *m && a.question == id).map(|a| a.score);
            let _ = write!(md, " {} |", pct(score));
        }
        md.push('\n');
    }
    md.push('\n');
    md
}

/// The targets, per length: AHN + retrieval recalls >= 90 % of the exact facts beyond
/// the window, and does best of all modes on the spread question.
fn targets(reports: &[LengthReport]) -> String {
    let mut md = String::from(
        "## Targets\n\nAHN memory + retrieval (Seahorse) should recall ≥ 90 % of the exact facts that lie \
         beyond the window, and score best of all modes on the question whose answer is spread over the book.\n\n\
         | tokens | exact recall, AHN + retrieval | ≥ 90 % | spread, AHN + retrieval | best spread of the other modes | best of all modes |\n\
         |---|---|---|---|---|---|\n",
    );
    for r in reports {
        let Some((exact, spread)) = scores(r, "ahn+retrieval") else {
            let _ = writeln!(md, "| {} | not run | | | | |", r.book_tokens);
            continue;
        };
        let others: Vec<(&str, f64)> = MODES
            .iter()
            .filter(|(m, _)| *m != "ahn+retrieval")
            .filter_map(|(m, _)| scores(r, m).map(|(_, s)| (*m, s)))
            .collect();
        let best_other = others.iter().map(|(_, s)| *s).fold(0.0, f64::max);
        let tied: Vec<&str> = others.iter().filter(|(_, s)| (*s - spread).abs() < 1e-9).map(|(m, _)| *m).collect();
        let verdict = if spread > best_other + 1e-9 {
            "yes".to_owned()
        } else if (spread - best_other).abs() < 1e-9 {
            format!("tied with {}", tied.join(", "))
        } else {
            "no".to_owned()
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {verdict} |",
            r.book_tokens,
            pct(Some(exact)),
            if exact >= 0.9 { "met" } else { "not met" },
            pct(Some(spread)),
            pct(Some(best_other)),
        );
    }
    md.push('\n');
    md.push_str(&whole_book_targets(reports));
    md
}

/// Renders the report from every `eval/ask-*.json` under `out`.
pub fn render(out: &Path) -> Result<()> {
    let dir = out.join("eval");
    let mut reports: Vec<LengthReport> = Vec::new();
    if dir.exists() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with("ask-") && name.ends_with(".json") {
                let text = std::fs::read_to_string(&path)?;
                reports.push(serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?);
            }
        }
    }
    reports.sort_by_key(|r| r.settings.tokens);
    let mut md = String::new();
    md.push_str("# Asking: quality evaluation\n\n");
    md.push_str("Generated by `cargo run -p seahorse-eval -- ask` from `docs/eval/ask-*.json`; do not edit.\n\n");
    md.push_str("The book is the start of Jane Austen's *Persuasion* (held out from AHN training), cut to the\n");
    md.push_str("length shown (books longer than the novel, about 110K tokens, go on into the held-out books of\n");
    md.push_str("the King James Bible; each table names its source files), with facts inserted at evenly spread\n");
    md.push_str("depths (\"The combination of the amber\n");
    md.push_str("strongbox at Kellynch Hall is 4817.\"). *Exact recall*: one question per fact, counted over the\n");
    md.push_str("facts that lie beyond the window when the question is asked. *Spread*: one question whose\n");
    md.push_str("answer is spread over the whole book (every colour); the score is the share of colours named.\n");
    md.push_str("*Whole-book questions*: hand-written questions about the novel itself whose answers need a long\n");
    md.push_str("stretch of it (who did what across chapters, how a situation changed, counts and orderings),\n");
    md.push_str("asked of every book that holds their evidence; the score is the share of the answer's parts\n");
    md.push_str("named (an ordering named out of order scores half).\n");
    md.push_str("*Citation precision*: cited pages that contain the answer (for whole-book questions: a quote of\n");
    md.push_str("its evidence), over all cited pages (citations are\n");
    md.push_str("validated against the pages given to the model first; invented ones are removed and counted as\n");
    md.push_str("dropped). Times are medians per question on the machine named; other jobs may have shared its\n");
    md.push_str("cores during a run, so compare times within a table (its modes ran one after another), not\n");
    md.push_str("across tables; the benchmark suite `ask` (`benchmarks.md`) measures speed on an idle machine.\n\n");
    md.push_str(&targets(&reports));
    for r in &reports {
        let s = &r.settings;
        let _ = writeln!(
            md,
            "## {} tokens ({} pages), W = {}, S = {}\n\nModel `{}`, {}; text `{}`; {} facts; seed {}; block: {}.\n",
            r.book_tokens,
            r.pages,
            s.window,
            s.sinks,
            r.model,
            r.cpu,
            s.text_source,
            s.needles,
            s.seed,
            s.block.as_ref().map_or("none".to_owned(), |b| format!("`{}`", crate::memory::file_name(b))),
        );
        md.push_str("| mode | exact recall beyond the window | spread | whole-book questions | citation precision | cited pages | dropped citations | prompt tokens | first token | whole answer |\n");
        md.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
        for (mode, label) in MODES {
            let rows: Vec<&Scored> = r.answers.iter().filter(|a| a.mode == *mode).collect();
            if rows.is_empty() {
                let why = r.skipped.iter().find(|(m, _)| m == mode).map_or("not run", |(_, w)| w.as_str());
                let _ = writeln!(md, "| {label} | not run: {why} | | | | | | | | |");
                continue;
            }
            let (exact, spread) = exact_and_spread(&rows);
            let cited: usize = rows.iter().map(|a| a.cited_pages).sum();
            let good: usize = rows.iter().map(|a| a.cited_pages_with_answer).sum();
            let dropped: usize = rows.iter().map(|a| a.dropped_citations).sum();
            let precision = (cited > 0).then(|| good as f64 / cited as f64);
            let whole: Vec<f64> = rows.iter().filter(|a| a.kind == whole_book::KIND).map(|a| a.score).collect();
            let _ = writeln!(
                md,
                "| {label} | {} ({} questions) | {} | {} | {} | {cited} | {dropped} | {:.0} | {} | {} |",
                pct(mean(&exact)),
                exact.len(),
                pct(mean(&spread)),
                if whole.is_empty() { "–".to_owned() } else { format!("{} ({})", pct(mean(&whole)), whole.len()) },
                pct(precision),
                mean(&rows.iter().map(|a| a.prompt_tokens as f64).collect::<Vec<_>>()).unwrap_or(0.0),
                secs(median(rows.iter().map(|a| a.first_token_ms).collect())),
                secs(median(rows.iter().map(|a| a.total_ms).collect())),
            );
        }
        md.push_str("\nReading the book once: ");
        let parts: Vec<String> = r.reading_seconds.iter().map(|(m, s)| format!("{m} {s:.0} s")).collect();
        md.push_str(&parts.join(", "));
        md.push_str(" (full attention is what re-reading costs for every new question without a saved state).\n\n");
        md.push_str(&whole_book_table(r));
        for note in &r.notes {
            let _ = writeln!(md, "{note}\n");
        }
    }
    if reports.is_empty() {
        md.push_str("No run recorded yet.\n");
    }
    std::fs::write(out.join("ask-eval.md"), md)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::tests::report;

    fn with_spread(mut r: LengthReport, spreads: &[(&str, f64)]) -> LengthReport {
        for (mode, score) in spreads {
            let mut a = r.answers[0].clone();
            a.mode = (*mode).into();
            a.kind = "spread".into();
            a.score = *score;
            r.answers.push(a);
        }
        r
    }

    #[test]
    fn targets_compare_the_spread_score_with_every_other_mode() {
        let modes = ["window", "retrieval", "ahn+retrieval"];
        let best = with_spread(report(100, &modes), &[("window", 0.0), ("retrieval", 0.25), ("ahn+retrieval", 0.5)]);
        let tied = with_spread(report(200, &modes), &[("window", 0.0), ("retrieval", 0.5), ("ahn+retrieval", 0.5)]);
        let mut worse =
            with_spread(report(300, &modes), &[("window", 0.0), ("retrieval", 0.5), ("ahn+retrieval", 0.25)]);
        worse.answers.iter_mut().filter(|a| a.mode == "ahn+retrieval" && a.kind == "exact").for_each(|a| a.score = 0.0);
        let md = targets(&[best, tied, worse]);
        assert!(md.contains("| 100 | 100 % | met | 50 % | 25 % | yes |"), "{md}");
        assert!(md.contains("| 200 | 100 % | met | 50 % | 50 % | tied with retrieval |"), "{md}");
        assert!(md.contains("| 300 | 0 % | not met | 25 % | 50 % | no |"), "{md}");
    }

    fn with_whole_book(mut r: LengthReport, scores: &[(&str, &str, f64)]) -> LengthReport {
        for (mode, question, score) in scores {
            let mut a = r.answers[0].clone();
            a.mode = (*mode).into();
            a.question = (*question).into();
            a.kind = whole_book::KIND.into();
            a.score = *score;
            r.answers.push(a);
        }
        r
    }

    #[test]
    fn the_whole_book_target_compares_ahn_with_retrieval_alone() {
        let modes = ["retrieval", "ahn+retrieval"];
        let above = with_whole_book(
            report(100, &modes),
            &[
                ("retrieval", "wb-a", 0.5),
                ("retrieval", "wb-b", 0.0),
                ("ahn+retrieval", "wb-a", 1.0),
                ("ahn+retrieval", "wb-b", 0.0),
            ],
        );
        let tied = with_whole_book(report(200, &modes), &[("retrieval", "wb-a", 0.5), ("ahn+retrieval", "wb-a", 0.5)]);
        let none = report(300, &modes);
        let md = whole_book_targets(&[above.clone(), tied, none]);
        assert!(md.contains("| 100 | 2 | 50 % | 25 % | – | – | met |"), "{md}");
        assert!(md.contains("| 200 | 1 | 50 % | 50 % | – | – | not met (tied) |"), "{md}");
        assert!(!md.contains("| 300 |"), "{md}");
        let table = whole_book_table(&above);
        assert!(table.contains("| question | retrieval | ahn+retrieval |"), "{table}");
        assert!(table.contains("| wb-a | 50 % | 100 % |") && table.contains("| wb-b | 0 % | 0 % |"), "{table}");
        assert!(whole_book_table(&report(1, &modes)).is_empty());
    }
}
