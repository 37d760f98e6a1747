//! `docs/qa-eval.md` from `docs/eval/qa.json`: every number computed from the stored
//! answers (never edited by hand).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use super::dataset::Kind;
use super::recall::RecallRow;
use super::{Mode, Report, Scored};
use crate::report::median;

pub(super) fn pct(n: usize, of: usize) -> String {
    if of == 0 {
        "–".into()
    } else {
        format!("{:.1} %", 100.0 * n as f64 / of as f64)
    }
}

/// The scores of a set of answers.
#[derive(Default)]
struct Tally {
    answerable: usize,
    correct: usize,
    unanswerable: usize,
    abstained_right: usize,
    abstained_wrong: usize,
    cited: usize,
    supporting: usize,
    dropped: usize,
    unsupported: usize,
    first_token_ms: Vec<f64>,
}

impl Tally {
    fn of<'a>(answers: impl Iterator<Item = &'a Scored>) -> Tally {
        let mut t = Tally::default();
        for a in answers {
            if a.kind == Kind::Unanswerable {
                t.unanswerable += 1;
                t.abstained_right += a.correct as usize;
            } else {
                t.answerable += 1;
                t.correct += a.correct as usize;
                t.abstained_wrong += a.abstained as usize;
            }
            t.cited += a.cited;
            t.supporting += a.cited_supporting;
            t.dropped += a.dropped;
            t.unsupported += a.unsupported;
            t.first_token_ms.push(a.first_token_ms);
        }
        t
    }
}

/// The (model, mode) pairs that answered, in the order they ran.
pub(super) fn runs(report: &Report) -> Vec<(String, Mode)> {
    let mut runs: Vec<(String, Mode)> = Vec::new();
    for a in &report.answers {
        if !runs.contains(&(a.model.clone(), a.mode)) {
            runs.push((a.model.clone(), a.mode));
        }
    }
    runs
}

fn recall_table(md: &mut String, rows: &[RecallRow]) {
    let Some(first) = rows.first() else { return };
    let ks = &first.ks;
    let _ = writeln!(
        md,
        "| retriever | {} | every fact's page @6 | ms / question |",
        ks.iter().map(|k| format!("recall@{k}")).collect::<Vec<_>>().join(" | ")
    );
    let _ = writeln!(md, "|---|{}---|---|", "---|".repeat(ks.len()));
    for r in rows {
        let six = r.ks.iter().position(|&k| k == 6);
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.0} |",
            r.retriever,
            r.hits.iter().map(|&h| pct(h, r.questions)).collect::<Vec<_>>().join(" | "),
            six.map_or("–".into(), |i| pct(r.all_hits[i], r.questions)),
            r.mean_ms
        );
    }
    let _ = writeln!(md);
    let six = first.ks.iter().position(|&k| k == 6).unwrap_or(0);
    let _ = writeln!(md, "recall@6 by document and by kind of question:\n");
    let _ =
        writeln!(md, "| | questions | {} |", rows.iter().map(|r| r.retriever.as_str()).collect::<Vec<_>>().join(" | "));
    let _ = writeln!(md, "|---|---|{}", "---|".repeat(rows.len()));
    for (i, (file, n, _)) in first.by_document.iter().enumerate() {
        let cells: Vec<String> = rows.iter().map(|r| pct(r.by_document[i].2[six], *n)).collect();
        let _ = writeln!(md, "| {file} | {n} | {} |", cells.join(" | "));
    }
    for (i, (kind, n, _)) in first.by_kind.iter().enumerate() {
        let cells: Vec<String> = rows.iter().map(|r| pct(r.by_kind[i].2[six], *n)).collect();
        let _ = writeln!(md, "| *{}* | {n} | {} |", kind.name(), cells.join(" | "));
    }
    let _ = writeln!(md);
}

fn answers_tables(md: &mut String, report: &Report) {
    let runs = runs(report);
    if runs.is_empty() {
        let _ = writeln!(md, "No answers in this run (`--recall-only`).\n");
        return;
    }
    let _ = writeln!(
        md,
        "| model | mode | correct (answerable) | right abstentions (unanswerable) | wrong abstentions | \
         kept citations supporting | citations removed (invented / unsupported) | first token (median) |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
    for (model, mode) in &runs {
        let of = || report.answers.iter().filter(|a| &a.model == model && a.mode == *mode);
        tally_row(md, model, mode.name(), &Tally::of(of()));
        if of().any(|a| a.withheld.is_some()) {
            let raw: Vec<Scored> = of().map(Scored::as_answered).collect();
            tally_row(md, model, &format!("{}, nothing withheld", mode.name()), &Tally::of(raw.iter()));
        }
    }
    withheld_summary(md, report, &runs);
    relocated_summary(md, report, &runs);
    super::certainty::table(md, report, &runs);
    let _ = writeln!(md, "\nCorrect answers by kind of question (unanswerable: right abstentions):\n");
    let _ = writeln!(md, "| model | mode | {} |", Kind::ALL.map(|k| k.name()).join(" | "));
    let _ = writeln!(md, "|---|---|{}", "---|".repeat(Kind::ALL.len()));
    for (model, mode) in &runs {
        let cells: Vec<String> = Kind::ALL
            .iter()
            .map(|k| {
                let of: Vec<&Scored> =
                    report.answers.iter().filter(|a| &a.model == model && a.mode == *mode && a.kind == *k).collect();
                pct(of.iter().filter(|a| a.correct).count(), of.len())
            })
            .collect();
        let _ = writeln!(md, "| {model} | {} | {} |", mode.name(), cells.join(" | "));
    }
    let _ = writeln!(md, "\nCorrect answers by document:\n");
    let _ = writeln!(
        md,
        "| model | mode | {} |",
        report.documents.iter().map(|d| d.file.as_str()).collect::<Vec<_>>().join(" | ")
    );
    let _ = writeln!(md, "|---|---|{}", "---|".repeat(report.documents.len()));
    for (model, mode) in &runs {
        let cells: Vec<String> = report
            .documents
            .iter()
            .map(|d| {
                let of: Vec<&Scored> = report
                    .answers
                    .iter()
                    .filter(|a| &a.model == model && a.mode == *mode && a.file == d.file)
                    .collect();
                pct(of.iter().filter(|a| a.correct).count(), of.len())
            })
            .collect();
        let _ = writeln!(md, "| {model} | {} | {} |", mode.name(), cells.join(" | "));
    }
    let _ = writeln!(md);
}

fn tally_row(md: &mut String, model: &str, mode: &str, t: &Tally) {
    let _ = writeln!(
        md,
        "| {model} | {mode} | {} ({}/{}) | {} ({}/{}) | {} | {} ({}/{}) | {} / {} | {} |",
        pct(t.correct, t.answerable),
        t.correct,
        t.answerable,
        pct(t.abstained_right, t.unanswerable),
        t.abstained_right,
        t.unanswerable,
        t.abstained_wrong,
        pct(t.supporting, t.cited),
        t.supporting,
        t.cited,
        t.dropped,
        t.unsupported,
        median(t.first_token_ms.clone()).map_or("–".into(), |ms| format!("{:.2} s", ms / 1e3)),
    );
}

/// What withholding ungrounded answers did: how many, why, and what it cost and gained.
fn withheld_summary(md: &mut String, report: &Report, runs: &[(String, Mode)]) {
    let mut lines = Vec::new();
    for (model, mode) in runs {
        let withheld: Vec<&Scored> =
            report.answers.iter().filter(|a| &a.model == model && a.mode == *mode && a.withheld.is_some()).collect();
        if withheld.is_empty() {
            continue;
        }
        let reason = |r: &str| withheld.iter().filter(|a| a.withheld.as_ref().is_some_and(|w| w.reason == r)).count();
        let unanswerable = withheld.iter().filter(|a| a.kind == Kind::Unanswerable).count();
        let lost = withheld
            .iter()
            .filter(|a| a.kind != Kind::Unanswerable && a.withheld.as_ref().is_some_and(|w| w.correct))
            .count();
        lines.push(format!(
            "- {model}, {}: {} answers withheld ({} to questions naming what no passage mentions, {} giving no \
             number when asked for one, {} naming figures the passages do not contain, {} naming figures the \
             passages hold only about something else, {} in words none of which the passages hold, {} repeating \
             the question, {} the model was unsure of): {} of them to unanswerable questions, {} to answerable \
             ones, of which {} had been correct.",
            mode.name(),
            withheld.len(),
            reason("not_about"),
            reason("no_number"),
            reason("invented_figures"),
            reason("figures_out_of_context"),
            reason("invented_words"),
            reason("restates_question"),
            reason("unsure"),
            unanswerable,
            withheld.len() - unanswerable,
            lost,
        ));
    }
    if !lines.is_empty() {
        let _ = writeln!(
            md,
            "\nAn answer is withheld (\"the passages found for this question do not say\" is shown instead) when it \
             names a number that neither the question nor anything the model was given contains (a number \
             found only in a page label or a section name counts only as a reference: \"page 20\", \"Chapter 17\"), \
             answers a question asking for a number (\"how many\", \"in what year\", \"which version\") with none \
             beyond the question's, names a number that the passages hold only about something else (no place \
             they write it has two of the content words of the answer's sentence within 15 words), \
             answers a question naming something in letters and digits (\"DebConf22\") that nothing given holds, \
             says something in words none of which anything the model was given holds, says nothing but words of \
             the question, or the model was unsure of (below) (`seahorse_ask::grounding`). The \"nothing withheld\" rows score the model's \
             own answers of the same run.\n\n{}",
            lines.join("\n")
        );
    }
}

/// What naming sections from the outline did to which-section answers.
fn relocated_summary(md: &mut String, report: &Report, runs: &[(String, Mode)]) {
    let mut lines = Vec::new();
    for (model, mode) in runs {
        let relocated: Vec<&Scored> =
            report.answers.iter().filter(|a| &a.model == model && a.mode == *mode && a.relocated.is_some()).collect();
        if relocated.is_empty() {
            continue;
        }
        let count = |f: &dyn Fn(&Scored) -> bool| relocated.iter().filter(|a| f(a)).count();
        lines.push(format!(
            "- {model}, {}: {} answers ({} where the model cited or named the page); {} of them right, against {} \
             in the model's own words.",
            mode.name(),
            relocated.len(),
            count(&|a| a.relocated.as_ref().is_some_and(|r| r.pointed)),
            count(&|a| a.correct),
            count(&|a| a.relocated.as_ref().is_some_and(|r| r.correct)),
        ));
    }
    if !lines.is_empty() {
        let _ = writeln!(
            md,
            "\nA question asking which section or chapter, answered without naming the section of any passage \
             given, is answered with the section of the passage holding the most of the question's words (of \
             equals, the one on a page the answer cited or named, then the better ranked; \
             `seahorse_ask::locate`):\n\n{}",
            lines.join("\n")
        );
    }
}

/// The targets of the issue that built the benchmark, measured in this run.
fn targets(md: &mut String, report: &Report) {
    let met = |ok: bool| if ok { "met" } else { "not met" };
    let _ = writeln!(md, "| target | measured | |\n|---|---|---|");
    if let Some(now) = report.recall.last() {
        if let Some(i) = now.ks.iter().position(|&k| k == 6) {
            let share = now.hits[i] as f64 / now.questions.max(1) as f64;
            let _ = writeln!(
                md,
                "| supporting page among the first 6 passages ≥ 95 % | {} ({}) | {} |",
                pct(now.hits[i], now.questions),
                now.retriever,
                met(share >= 0.95)
            );
        }
    }
    let runs = runs(report);
    for (model, mode) in &runs {
        let t = Tally::of(report.answers.iter().filter(|a| &a.model == model && a.mode == *mode));
        let share = |n: usize, of: usize| n as f64 / of.max(1) as f64;
        let rows = [
            ("correct answers ≥ 80 %", pct(t.correct, t.answerable), share(t.correct, t.answerable) >= 0.8),
            ("kept citations supporting ≥ 95 %", pct(t.supporting, t.cited), share(t.supporting, t.cited) >= 0.95),
            (
                "right abstentions ≥ 70 %",
                pct(t.abstained_right, t.unanswerable),
                share(t.abstained_right, t.unanswerable) >= 0.7,
            ),
        ];
        for (what, value, ok) in rows {
            let _ = writeln!(md, "| {what} ({model}, {}) | {value} | {} |", mode.name(), met(ok));
        }
    }
    let _ = writeln!(md);
}

/// The markdown for `report`, stored as `docs/eval/NAME.json`.
pub fn markdown(report: &Report, name: &str) -> String {
    let mut md = format!(
        "# Answers to real questions about real documents\n\n\
         Generated by `seahorse-eval qa` from `docs/eval/{name}.json`; do not edit by hand.\n\n\
         Hand-written questions with reference answers (`crates/eval/qa/*.json`) about {} real, freely \
         licensed document{} that no AHN block was trained on (`scripts/fetch-sample-books all` fetches them, \
         checksummed). Each answerable question names the exact words on the page that support its answer; \
         the benchmark finds those pages in the text as Seahorse extracted it. An answer is correct when it \
         contains every required part of the reference (any of the alternatives written for it, as whole \
         words, citations removed); an unanswerable question is answered right when the answer says the \
         document does not say. A kept citation supports the answer when its page holds the evidence or \
         states the whole reference answer.\n\n",
        count_in_words(report.documents.len()),
        if report.documents.len() == 1 { "" } else { "s" }
    );
    let s = &report.settings;
    let _ = writeln!(
        md,
        "Machine: {} ({} threads). Reading settings: W = {}, S = {}, AHN block: {}. Longest answer: {} tokens.\n",
        report.cpu,
        report.threads,
        s.window,
        s.sinks,
        s.block.as_deref().map_or("none (sinks + window)".to_owned(), |b| {
            Path::new(b).file_name().map_or(b.to_owned(), |n| n.to_string_lossy().into_owned())
        }),
        s.max_tokens
    );
    if let Some(n) = s.per_document {
        let _ = writeln!(md, "**Partial run**: {n} questions of each document, evenly spread over its file.\n");
    }
    let _ =
        writeln!(md, "## Documents\n\n| file | title | kind | format | pages | questions |\n|---|---|---|---|---|---|");
    for d in &report.documents {
        let _ =
            writeln!(md, "| {} | {} | {} | {} | {} | {} |", d.file, d.title, d.kind, d.format, d.pages, d.questions);
    }
    let total: usize = report.documents.iter().map(|d| d.questions).sum();
    let _ = writeln!(md, "\n{total} questions in all.\n");

    let _ = writeln!(
        md,
        "## Retrieval\n\nShare of the answerable questions with a supporting page among the first k passages \
         found for the question (the passages asking places in the window are the first of these that fit \
         its token budget).\n"
    );
    recall_table(&mut md, &report.recall);
    super::given::table(&mut md, report);

    let _ = writeln!(md, "## Targets\n");
    targets(&mut md, report);
    let _ = writeln!(md, "## Answers\n");
    answers_tables(&mut md, report);
    if !report.skipped.is_empty() {
        let _ = writeln!(md, "Not asked:\n");
        for k in &report.skipped {
            let _ = writeln!(md, "- {}, {}, {}: {}.", k.model, k.mode.name(), k.file, k.why);
        }
        let _ = writeln!(md);
    }
    if !report.readings.is_empty() {
        let _ = writeln!(
            md,
            "Reading the documents (into memory with sinks + window, or whole into one full-attention context):\n\n\
             | model | file | read | tokens | seconds | tokens/s |\n|---|---|---|---|---|---|"
        );
        for r in &report.readings {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {:.0} | {:.0} |",
                r.model,
                r.file,
                if r.full_attention { "full attention" } else { "into memory" },
                r.tokens,
                r.seconds,
                r.tokens as f64 / r.seconds.max(1e-9)
            );
        }
        let _ = writeln!(md);
    }
    md
}

/// `n` as a word where it is small ("six documents"), else in digits.
fn count_in_words(n: usize) -> String {
    const WORDS: [&str; 11] = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
    WORDS.get(n).map_or_else(|| n.to_string(), |w| (*w).to_owned())
}

/// Writes `out/NAME-eval.md` from every `out/eval/NAME.json` whose name starts with `qa`
/// (`qa.json`: the full run; others, e.g. `qa-quick.json`, from `--report`).
pub fn render(out: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(out.join("eval")) else { return Ok(()) };
    for entry in entries {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        let Some(stem) = name.strip_suffix(".json").filter(|s| s.starts_with("qa")) else { continue };
        let text = std::fs::read_to_string(&path)?;
        let report: Report = serde_json::from_str(&text).with_context(|| format!("parse {}", path.display()))?;
        std::fs::write(out.join(format!("{stem}-eval.md")), markdown(&report, stem))?;
    }
    Ok(())
}
