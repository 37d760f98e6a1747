//! How much of full attention the memory keeps: per-token KL divergence from the full-attention
//! teacher and perplexity, for sinks + sliding window and for AHN, on held-out text.
//!
//! All configurations read the same tokens in lockstep, one chunk at a time: the teacher's
//! log-probabilities of a chunk are computed once and compared with every student's, so no
//! vocabulary-sized logits are ever stored for more than one chunk. The model is causal, so the
//! first 8K rows of a 32K-token sequence are exactly the 8K-context evaluation: one pass per
//! sequence gives every reported length.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use seahorse_engine::{CancelToken, Logits, MemoryOptions, Model, ModelOptions, Session, SessionOptions};
use serde::{Deserialize, Serialize};

/// Settings of one evaluation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// Context lengths reported (the longest is the sequence length).
    pub lengths: Vec<usize>,
    /// Windows W evaluated.
    pub windows: Vec<u32>,
    /// S.
    pub sinks: u32,
    /// The AHN block (None: only sinks + window).
    pub block: Option<PathBuf>,
    /// Tokens per chunk.
    pub chunk: usize,
    /// CPU threads.
    pub threads: Option<i32>,
}

/// One held-out sequence.
#[derive(Debug, Clone)]
pub struct Sequence {
    /// Where it comes from.
    pub source: String,
    /// Its tokens.
    pub tokens: Vec<i32>,
}

/// Sums over the rows of one length.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Sums {
    /// Rows counted.
    pub rows: u64,
    /// Σ KL(teacher ‖ this) in nats.
    pub kl: f64,
    /// Σ −log p(next token).
    pub nll: f64,
}

/// One configuration's result on one sequence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModeResult {
    /// "full", "window" or "ahn".
    pub mode: String,
    /// W (None for full attention).
    pub window: Option<u32>,
    /// Per reported length (same order as `Settings::lengths`).
    pub sums: Vec<Sums>,
    /// Mean KL over consecutive 1,024-row buckets from the first scored row (a curve).
    pub kl_by_position: Vec<f64>,
    /// Seconds spent evaluating this configuration.
    pub seconds: f64,
}

/// Everything measured on one sequence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SequenceReport {
    pub source: String,
    pub tokens: usize,
    /// First scored row: S + the largest W, so every mode is scored on the same tokens.
    pub first_row: usize,
    pub modes: Vec<ModeResult>,
}

/// The whole evaluation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub settings: Settings,
    pub model: String,
    pub block: Option<String>,
    pub cpu: String,
    pub sequences: Vec<SequenceReport>,
}

const BUCKET: usize = 1024;

/// Log-probabilities of one row of logits, in place; returns nothing.
fn log_softmax(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = row.iter().map(|&x| ((x - max) as f64).exp()).sum();
    let lse = max + sum.ln() as f32;
    for x in row.iter_mut() {
        *x -= lse;
    }
}

/// KL(p ‖ q) of two rows of log-probabilities, `p_prob` = exp(`p_log`) precomputed.
fn kl_row(p_log: &[f32], p_prob: &[f32], q_log: &[f32]) -> f64 {
    let mut s = 0.0f64;
    for ((&lp, &pp), &lq) in p_log.iter().zip(p_prob).zip(q_log) {
        if pp > 0.0 {
            s += pp as f64 * (lp - lq) as f64;
        }
    }
    s.max(0.0)
}

struct Student<'m> {
    session: Session<'m>,
    result: ModeResult,
    buckets: Vec<(f64, u64)>,
}

/// Evaluates `sequences` with the teacher `full` and the windowed `students` (name, W, model).
pub fn evaluate(
    full: &Model,
    students: &[(&'static str, u32, &Model)],
    sequences: &[Sequence],
    settings: &Settings,
) -> Result<Vec<SequenceReport>> {
    let longest = *settings.lengths.iter().max().unwrap_or(&0);
    let first_row = settings.sinks as usize + *settings.windows.iter().max().unwrap_or(&0) as usize;
    if first_row + 1 >= longest {
        bail!("the longest length ({longest}) must exceed S + the largest W ({first_row})");
    }
    let cancel = CancelToken::new();
    let mut reports = Vec::new();
    for seq in sequences {
        if seq.tokens.len() < longest {
            bail!("{} has {} tokens, fewer than {longest}", seq.source, seq.tokens.len());
        }
        let tokens = &seq.tokens[..longest];
        let options = |n_ctx: usize| SessionOptions {
            n_ctx: n_ctx as u32,
            n_batch: settings.chunk as u32,
            n_ubatch: settings.chunk as u32,
            n_threads: settings.threads,
            flash_attention: std::env::var("SEAHORSE_FA").ok().map(|v| v == "1"),
            ..SessionOptions::default()
        };
        let mut teacher = full.session(&options(longest + settings.chunk))?;
        let mut teacher_result = ModeResult {
            mode: "full".into(),
            window: None,
            sums: vec![Sums::default(); settings.lengths.len()],
            kl_by_position: Vec::new(),
            seconds: 0.0,
        };
        let mut runs: Vec<Student<'_>> = Vec::new();
        for &(mode, window, model) in students {
            runs.push(Student {
                session: model.session(&options(longest + settings.chunk))?,
                result: ModeResult {
                    mode: mode.into(),
                    window: Some(window),
                    sums: vec![Sums::default(); settings.lengths.len()],
                    kl_by_position: Vec::new(),
                    seconds: 0.0,
                },
                buckets: Vec::new(),
            });
        }
        let started = Instant::now();
        let mut start = 0;
        while start < longest {
            let end = (start + settings.chunk).min(longest);
            let chunk = &tokens[start..end];
            let t0 = Instant::now();
            let mut t_log = teacher.evaluate(0, chunk, Logits::All, &cancel, |_| {})?;
            teacher_result.seconds += t0.elapsed().as_secs_f64();
            let rows = chunk.len();
            let n_vocab = t_log.len() / rows;
            par_rows(&mut t_log, n_vocab, |_, row| log_softmax(row));
            let mut t_prob = vec![0f32; t_log.len()];
            par_rows(&mut t_prob, n_vocab, |r, prob| {
                for (p, &l) in prob.iter_mut().zip(&t_log[r * n_vocab..(r + 1) * n_vocab]) {
                    *p = l.exp();
                }
            });
            // Rows scored in this chunk: absolute position t predicts token t + 1.
            let scored = |t: usize| t >= first_row && t + 1 < longest;
            for r in 0..rows {
                let t = start + r;
                if scored(t) {
                    let nll = -(t_log[r * n_vocab + tokens[t + 1] as usize] as f64);
                    add(&mut teacher_result.sums, &settings.lengths, t, 0.0, nll);
                }
            }
            for run in &mut runs {
                let t0 = Instant::now();
                let mut s_log = run.session.evaluate(0, chunk, Logits::All, &cancel, |_| {})?;
                // Softmax and KL of every row on every core (llama.cpp's threads idle meanwhile).
                par_rows(&mut s_log, n_vocab, |_, row| log_softmax(row));
                let kl_of = |r: usize| {
                    let range = r * n_vocab..(r + 1) * n_vocab;
                    kl_row(&t_log[range.clone()], &t_prob[range.clone()], &s_log[range])
                };
                let row_kl: Vec<f64> = par_map(rows, &kl_of);
                for r in 0..rows {
                    let t = start + r;
                    if !scored(t) {
                        continue;
                    }
                    let row = &s_log[r * n_vocab..(r + 1) * n_vocab];
                    let kl = row_kl[r];
                    let nll = -(row[tokens[t + 1] as usize] as f64);
                    add(&mut run.result.sums, &settings.lengths, t, kl, nll);
                    let b = (t - first_row) / BUCKET;
                    if run.buckets.len() <= b {
                        run.buckets.resize(b + 1, (0.0, 0));
                    }
                    run.buckets[b].0 += kl;
                    run.buckets[b].1 += 1;
                }
                run.result.seconds += t0.elapsed().as_secs_f64();
            }
            start = end;
            eprint!("\r  {}: {end}/{longest} tokens, {:.0} s", seq.source, started.elapsed().as_secs_f64());
        }
        eprintln!();
        let mut modes = vec![teacher_result];
        for run in runs {
            let mut result = run.result;
            result.kl_by_position = run.buckets.iter().map(|&(s, n)| s / n.max(1) as f64).collect();
            modes.push(result);
        }
        reports.push(SequenceReport { source: seq.source.clone(), tokens: longest, first_row, modes });
    }
    Ok(reports)
}

/// Runs `f(index, row)` on every row (of `width` values) of `data`, on all cores.
fn par_rows(data: &mut [f32], width: usize, f: impl Fn(usize, &mut [f32]) + Sync) {
    let rows = data.len() / width;
    if rows == 0 {
        return;
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(rows);
    let per = rows.div_ceil(threads);
    std::thread::scope(|scope| {
        for (k, part) in data.chunks_mut(per * width).enumerate() {
            let f = &f;
            scope.spawn(move || {
                for (j, row) in part.chunks_mut(width).enumerate() {
                    f(k * per + j, row);
                }
            });
        }
    });
}

/// `f(0..n)` computed on all cores.
fn par_map(n: usize, f: &(impl Fn(usize) -> f64 + Sync)) -> Vec<f64> {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).min(n.max(1));
    let per = n.div_ceil(threads).max(1);
    let mut out = vec![0f64; n];
    std::thread::scope(|scope| {
        for (k, slot) in out.chunks_mut(per).enumerate() {
            scope.spawn(move || {
                for (j, v) in slot.iter_mut().enumerate() {
                    *v = f(k * per + j);
                }
            });
        }
    });
    out
}

/// Adds one row at position `t` to the sums of every length it belongs to.
fn add(sums: &mut [Sums], lengths: &[usize], t: usize, kl: f64, nll: f64) {
    for (s, &len) in sums.iter_mut().zip(lengths) {
        if t + 1 < len {
            s.rows += 1;
            s.kl += kl;
            s.nll += nll;
        }
    }
}

/// Loads the teacher and, for every W, the sinks + window student and (with a block) the AHN
/// student, then evaluates.
pub fn run(base: &std::path::Path, sequences: &[Sequence], settings: &Settings) -> Result<Report> {
    let merged_dir = seahorse_models::cache_dir_in(|k| std::env::var_os(k)).join("merged");
    let full = Model::load(base, &ModelOptions::default())?;
    let mut models = Vec::new();
    for &w in &settings.windows {
        let memory = |block: Option<PathBuf>| MemoryOptions {
            window: w,
            sinks: settings.sinks,
            block,
            merged_dir: merged_dir.clone(),
        };
        models.push((
            "window",
            w,
            Model::load(base, &ModelOptions { memory: Some(memory(None)), ..Default::default() })?,
        ));
        if let Some(block) = &settings.block {
            let options = ModelOptions { memory: Some(memory(Some(block.clone()))), ..Default::default() };
            models.push(("ahn", w, Model::load(base, &options)?));
        }
    }
    let students: Vec<(&'static str, u32, &Model)> = models.iter().map(|(m, w, model)| (*m, *w, model)).collect();
    let sequences = evaluate(&full, &students, sequences, settings)?;
    Ok(Report {
        settings: settings.clone(),
        model: file_name(base),
        block: settings.block.as_deref().map(file_name),
        cpu: seahorse_engine::cpu_name(),
        sequences,
    })
}

/// The last component of `path` (what reports name files by).
pub fn file_name(path: &std::path::Path) -> String {
    path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kl_of_a_distribution_with_itself_is_zero_and_positive_otherwise() {
        let mut p = vec![1.0f32, 2.0, 0.5, -1.0];
        log_softmax(&mut p);
        let prob: Vec<f32> = p.iter().map(|x| x.exp()).collect();
        assert!((prob.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(kl_row(&p, &prob, &p).abs() < 1e-9);
        let mut q = vec![0.0f32, 0.0, 0.0, 0.0];
        log_softmax(&mut q);
        // KL(p ‖ uniform) = log 4 − H(p).
        let h: f64 = -prob.iter().zip(&p).map(|(&a, &b)| a as f64 * b as f64).sum::<f64>();
        assert!((kl_row(&p, &prob, &q) - (4f64.ln() - h)).abs() < 1e-6);
    }

    #[test]
    fn parallel_rows_see_their_own_index() {
        let mut data = vec![0f32; 7 * 3];
        par_rows(&mut data, 3, |r, row| row.iter_mut().for_each(|x| *x = r as f32));
        assert_eq!(data.chunks(3).map(|c| c[2] as usize).collect::<Vec<_>>(), (0..7).collect::<Vec<_>>());
        assert_eq!(par_map(5, &|i| i as f64 * 2.0), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
    }

    #[test]
    fn rows_count_toward_every_length_that_contains_them() {
        let lengths = [8, 16];
        let mut sums = vec![Sums::default(); 2];
        for t in 0..16 {
            add(&mut sums, &lengths, t, 1.0, 2.0);
        }
        assert_eq!((sums[0].rows, sums[1].rows), (7, 15));
        assert_eq!(sums[1].nll, 30.0);
    }
}
