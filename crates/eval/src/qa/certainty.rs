//! What withholding answers the model is unsure of (`seahorse_ask::grounding::unsure`)
//! does at other limits, from the certainty measured in the run: the trade between right
//! answers lost and unanswerable questions no longer answered with inventions.

use std::fmt::Write as _;

use seahorse_ask::grounding::{self, MIN_LIFT};

use super::dataset::Kind;
use super::report::pct;
use super::{Mode, Report, Scored};

/// Limits of the mean token log-probability shown (the lift at its chosen limit).
const MEAN_LOGPROB_LIMITS: [f32; 7] = [f32::NEG_INFINITY, -0.5, -0.4, -0.3, -0.25, -0.2, -0.15];
/// Limits of the lift shown (the mean log-probability at its chosen limit).
const LIFT_LIMITS: [f32; 6] = [f32::NEG_INFINITY, 0.1, 0.2, 0.3, 0.5, 0.8];

/// Scores at one pair of limits.
#[derive(Debug, Default, PartialEq)]
pub struct Sweep {
    pub correct: usize,
    pub answerable: usize,
    pub abstained_right: usize,
    pub unanswerable: usize,
    pub cited: usize,
    pub supporting: usize,
}

/// Whether `a`, as the model made it (`raw`), is shown at these limits: not withheld for
/// another reason, and sure enough or saying itself that the passages do not say.
fn shown(a: &Scored, raw: &Scored, min_mean_logprob: f32, min_lift: f32) -> bool {
    let other = a.withheld.as_ref().is_some_and(|w| w.reason != "unsure");
    let unsure = a.confidence.is_some_and(|c| grounding::unsure_at(&c, min_mean_logprob, min_lift));
    let exempt = a.mode == Mode::Memory || a.relocated.is_some() || a.section_named;
    !other && (!unsure || exempt || grounding::says_not_found(&raw.answer))
}

/// The scores of `answers` had answers been withheld below these limits.
pub fn sweep(answers: &[&Scored], min_mean_logprob: f32, min_lift: f32) -> Sweep {
    let mut s = Sweep::default();
    for a in answers {
        let raw = a.as_answered();
        let show = shown(a, &raw, min_mean_logprob, min_lift);
        if a.kind == Kind::Unanswerable {
            s.unanswerable += 1;
            s.abstained_right += (!show || raw.correct) as usize;
        } else {
            s.answerable += 1;
            if show {
                s.correct += raw.correct as usize;
                s.cited += raw.cited;
                s.supporting += raw.cited_supporting;
            }
        }
    }
    s
}

fn limit(value: f32) -> String {
    if value == f32::NEG_INFINITY {
        "none".into()
    } else {
        format!("{value:.2}")
    }
}

/// The sweep tables of every run with measured certainty.
pub fn table(md: &mut String, report: &Report, runs: &[(String, Mode)]) {
    let measured = |model: &str, mode: Mode| {
        report.answers.iter().any(|a| a.model == model && a.mode == mode && a.confidence.is_some())
    };
    let runs: Vec<&(String, Mode)> =
        runs.iter().filter(|(m, mode)| *mode != Mode::Memory && measured(m, *mode)).collect();
    if runs.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "\nHow sure the model was of each answer is measured after it (`seahorse_ask::selfcheck`): the mean \
         log-probability of its tokens, and their lift (how much more probable the passages made them than the \
         question alone). An answer with passages is withheld when the mean is below the model's limit (its \
         `unsure_below` in the catalogue) or the lift below {MIN_LIFT:.2}. The same run's answers scored as if the \
         limits were otherwise (one limit varied, the other as chosen):\n"
    );
    let _ = writeln!(
        md,
        "| model | mode | mean log-probability below | lift below | correct | right abstentions | kept citations \
         supporting |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
    for (model, mode) in runs {
        let answers: Vec<&Scored> = report.answers.iter().filter(|a| &a.model == model && a.mode == *mode).collect();
        let chosen_mean = super::unsure_below(model);
        let mut rows: Vec<(f32, f32)> = MEAN_LOGPROB_LIMITS.iter().map(|&m| (m, MIN_LIFT)).collect();
        if !MEAN_LOGPROB_LIMITS.contains(&chosen_mean) {
            rows.push((chosen_mean, MIN_LIFT));
        }
        rows.extend(LIFT_LIMITS.iter().filter(|&&l| l != MIN_LIFT).map(|&l| (chosen_mean, l)));
        rows.push((f32::NEG_INFINITY, f32::NEG_INFINITY));
        for (m, l) in rows {
            let s = sweep(&answers, m, l);
            let chosen = m == chosen_mean && l == MIN_LIFT;
            let _ = writeln!(
                md,
                "| {model} | {} | {}{} | {} | {} | {} | {} |",
                mode.name(),
                limit(m),
                if chosen { " (chosen)" } else { "" },
                limit(l),
                pct(s.correct, s.answerable),
                pct(s.abstained_right, s.unanswerable),
                pct(s.supporting, s.cited),
            );
        }
    }
}
