//! Sessions: a llama.cpp context that streams long token sequences, reports progress, can be
//! cancelled, and saves or restores a sequence's whole state (window K/V, AHN gates and AHN
//! state) as bytes.

use std::num::NonZeroU32;
use std::time::Instant;

use llama_cpp_2::context::params::{KvCacheType, LlamaContextParams};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::token::LlamaToken;

use crate::error::{EngineError, Result};
use crate::gate::{ComputeGate, Priority};
use crate::model::Model;
use seahorse_cancel::CancelToken;

/// Precision of the attention cache (and so of the K/V the AHN absorbs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheType {
    /// 16-bit floats (default: half the memory).
    F16,
    /// 32-bit floats (exactness tests).
    F32,
}

/// Settings of a session.
#[derive(Clone, Debug)]
pub struct SessionOptions {
    /// Context size in tokens. With a windowed model the cache holds only the window, so this
    /// only bounds full-attention models.
    pub n_ctx: u32,
    /// Tokens per `llama_decode` call.
    pub n_batch: u32,
    /// Tokens per micro-batch inside one call.
    pub n_ubatch: u32,
    /// Sequences the session can hold at once.
    pub n_seq_max: u32,
    /// CPU threads; `None` uses every core.
    pub n_threads: Option<i32>,
    /// Attention cache precision.
    pub cache_type: CacheType,
    /// Flash attention: `None` lets llama.cpp decide; `Some(false)` forces the exact
    /// (non-fused) attention path.
    pub flash_attention: Option<bool>,
    /// A gate every `llama_decode` call of this session passes through, shared with the
    /// sessions it must not compute beside (see [`ComputeGate`]); `None`: no gate.
    pub gate: Option<ComputeGate>,
    /// This session's place at the gate.
    pub priority: Priority,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            n_ctx: 8192,
            n_batch: 512,
            n_ubatch: 512,
            n_seq_max: 1,
            n_threads: None,
            cache_type: CacheType::F16,
            flash_attention: None,
            gate: None,
            priority: Priority::Background,
        }
    }
}

/// Which logits [`Session::evaluate`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logits {
    /// None (fastest: streaming a document into memory).
    None,
    /// The last token's.
    Last,
    /// Every token's (tests and evaluation).
    All,
}

/// Progress of [`Session::evaluate`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Tokens evaluated so far.
    pub done: usize,
    /// Tokens to evaluate.
    pub total: usize,
    /// Throughput so far.
    pub tokens_per_second: f64,
}

/// A llama.cpp context over a [`Model`].
pub struct Session<'m> {
    model: &'m Model,
    ctx: LlamaContext<'m>,
    options: SessionOptions,
    positions: Vec<usize>,
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("options", &self.options).field("positions", &self.positions).finish()
    }
}

impl Model {
    /// Opens a session (a llama.cpp context) on this model.
    pub fn session(&self, options: &SessionOptions) -> Result<Session<'_>> {
        let cache = match options.cache_type {
            CacheType::F16 => KvCacheType::F16,
            CacheType::F32 => KvCacheType::F32,
        };
        let mut params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(options.n_ctx))
            .with_n_batch(options.n_batch)
            .with_n_ubatch(options.n_ubatch.min(options.n_batch))
            .with_n_seq_max(options.n_seq_max)
            .with_type_k(cache)
            .with_type_v(cache);
        if let Some(n) = options.n_threads {
            params = params.with_n_threads(n).with_n_threads_batch(n);
        }
        if let Some(fa) = options.flash_attention {
            params = params.with_flash_attention_policy(if fa {
                llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_ENABLED
            } else {
                llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED
            });
        }
        let ctx = self
            .inner
            .new_context(&self.engine.backend, params)
            .map_err(|e| EngineError::Context { n_ctx: options.n_ctx, reason: e.to_string() })?;
        Ok(Session { model: self, ctx, options: options.clone(), positions: vec![0; options.n_seq_max as usize] })
    }
}

impl<'m> Session<'m> {
    /// The model this session runs.
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// The context size in tokens (what a full-attention sequence can hold).
    pub fn context_size(&self) -> usize {
        self.ctx.n_ctx() as usize
    }

    /// Next position of sequence `seq` (= tokens evaluated in it).
    pub fn position(&self, seq: u32) -> usize {
        self.positions[seq as usize]
    }

    /// Evaluates `tokens` as the continuation of sequence `seq`, in batches of `n_batch`,
    /// reporting progress after each batch and stopping between batches when `cancel`
    /// fires (then the tokens evaluated so far stay evaluated, and `Ok` holds what was
    /// computed). Returns the requested logits, `n_vocab` floats per token.
    pub fn evaluate(
        &mut self,
        seq: u32,
        tokens: &[i32],
        logits: Logits,
        cancel: &CancelToken,
        on_progress: impl FnMut(Progress),
    ) -> Result<Vec<f32>> {
        self.evaluate_many(&[(seq, tokens)], logits, cancel, on_progress).map(|mut v| v.remove(0))
    }

    /// Evaluates several sequences in the same batches (each batch takes the next tokens of
    /// every sequence). Logits are returned per sequence.
    pub fn evaluate_many(
        &mut self,
        inputs: &[(u32, &[i32])],
        logits: Logits,
        cancel: &CancelToken,
        mut on_progress: impl FnMut(Progress),
    ) -> Result<Vec<Vec<f32>>> {
        let n_vocab = self.model.inner.n_vocab() as usize;
        let total: usize = inputs.iter().map(|(_, t)| t.len()).sum();
        let longest = inputs.iter().map(|(_, t)| t.len()).max().unwrap_or(0);
        let per_seq = (self.options.n_batch as usize / inputs.len().max(1)).max(1);
        let mut out: Vec<Vec<f32>> = inputs.iter().map(|_| Vec::new()).collect();
        let mut batch = LlamaBatch::new(self.options.n_batch as usize, inputs.len() as i32);
        let started = Instant::now();
        let mut done = 0;
        let mut start = 0;
        while start < longest {
            if cancel.is_cancelled() {
                break;
            }
            batch.clear();
            let mut slots = Vec::new(); // (input index, batch index)
            for (k, (seq, tokens)) in inputs.iter().enumerate() {
                let end = (start + per_seq).min(tokens.len());
                for (j, &tok) in tokens.iter().enumerate().take(end).skip(start) {
                    let want = match logits {
                        Logits::None => false,
                        Logits::Last => j + 1 == tokens.len(),
                        Logits::All => true,
                    };
                    let pos = self.positions[*seq as usize] + (j - start);
                    if want {
                        slots.push((k, batch.n_tokens()));
                    }
                    batch
                        .add(LlamaToken(tok), pos as i32, &[*seq as i32], want)
                        .map_err(|e| EngineError::Decode(e.to_string()))?;
                }
            }
            if batch.n_tokens() == 0 {
                break;
            }
            {
                let _pass = self.options.gate.as_ref().map(|g| g.enter(self.options.priority));
                self.ctx.decode(&mut batch).map_err(|e| EngineError::Decode(e.to_string()))?;
            }
            for &(k, i) in &slots {
                out[k].extend_from_slice(&self.ctx.get_logits_ith(i)[..n_vocab]);
            }
            for (seq, tokens) in inputs {
                let n = (start + per_seq).min(tokens.len()).saturating_sub(start);
                self.positions[*seq as usize] += n;
                done += n;
            }
            start += per_seq;
            on_progress(Progress {
                done,
                total,
                tokens_per_second: done as f64 / started.elapsed().as_secs_f64().max(1e-9),
            });
        }
        Ok(out)
    }

    /// The whole state of sequence `seq` (attention window with sinks, AHN gates and AHN
    /// state, or the full K/V without a window) as bytes.
    pub fn save(&self, seq: u32) -> Result<Vec<u8>> {
        let flags = llama_cpp_2::context::session::LlamaStateSeqFlags::empty();
        let size = self.ctx.state_seq_get_size_ext(seq as i32, flags);
        let mut bytes = vec![0u8; size];
        // SAFETY: the buffer has exactly the size llama.cpp asked for.
        let n = unsafe { self.ctx.state_seq_get_data_ext(bytes.as_mut_ptr(), seq as i32, flags) };
        if n != size {
            return Err(EngineError::State(format!("llama.cpp wrote {n} of {size} state bytes")));
        }
        Ok(bytes)
    }

    /// The AHN state of sequence `seq` alone (the recurrent half of the memory, with the
    /// position it has read to), without the window: what an "as of page N" checkpoint
    /// keeps. Only for a model with an AHN block.
    pub fn save_memory(&self, seq: u32) -> Result<Vec<u8>> {
        if !self.model.has_ahn() {
            return Err(EngineError::State("this model has no AHN block, so no AHN state to save".into()));
        }
        let flags = llama_cpp_2::context::session::LlamaStateSeqFlags::PARTIAL_ONLY;
        let size = self.ctx.state_seq_get_size_ext(seq as i32, flags);
        let mut bytes = vec![0u8; size];
        // SAFETY: the buffer has exactly the size llama.cpp asked for.
        let n = unsafe { self.ctx.state_seq_get_data_ext(bytes.as_mut_ptr(), seq as i32, flags) };
        if n != size {
            return Err(EngineError::State(format!("llama.cpp wrote {n} of {size} AHN state bytes")));
        }
        Ok(bytes)
    }

    /// Rebuilds sequence `seq` (which must be empty) from an AHN state saved at position
    /// `p` by [`Session::save_memory`] (`None`: the empty state of a document's start, or a
    /// model without a block): reads `sinks` (the document's first S tokens, which never
    /// see the memory) at positions 0.., puts the AHN state in place, then reads `window`
    /// at its true positions `window_start..` (patch 0006 lets the sequence jump over what
    /// lies between). With `window_start` ≤ `p` − W nothing is lost but what the AHN state
    /// already compressed; each token of `window` then sees the sinks, the AHN state and
    /// the tokens of `window` before it, so the rebuilt window approximates the one the
    /// stream held (its K/V were computed with a shorter lossless span). Stops between
    /// batches when `cancel` fires (`Ok` then holds what was read).
    #[allow(clippy::too_many_arguments)]
    pub fn rebuild_window(
        &mut self,
        seq: u32,
        sinks: &[i32],
        memory: Option<&[u8]>,
        window_start: usize,
        window: &[i32],
        cancel: &CancelToken,
        mut on_progress: impl FnMut(Progress),
    ) -> Result<()> {
        if !self.model.windowed() {
            return Err(EngineError::State("only a windowed model can rebuild its window".into()));
        }
        if self.positions[seq as usize] != 0 {
            return Err(EngineError::State(format!("sequence {seq} is not empty: cannot rebuild it")));
        }
        if window_start < sinks.len() {
            return Err(EngineError::State(format!(
                "the window starts at {window_start}, inside the {} sink tokens",
                sinks.len()
            )));
        }
        let total = sinks.len() + window.len();
        let mut done = 0;
        self.evaluate(seq, sinks, Logits::None, cancel, |p| {
            done = p.done;
            on_progress(Progress { total, ..p })
        })?;
        if cancel.is_cancelled() {
            return Ok(());
        }
        if let Some(memory) = memory {
            let flags = llama_cpp_2::context::session::LlamaStateSeqFlags::PARTIAL_ONLY;
            // SAFETY: llama.cpp validates the buffer and reads at most memory.len() bytes.
            let ok = unsafe { self.ctx.state_seq_set_data_ext(memory, seq as i32, flags) };
            if !ok {
                return Err(EngineError::State(
                    "the saved AHN state does not fit this model, AHN block or settings".into(),
                ));
            }
        }
        self.positions[seq as usize] = window_start;
        self.evaluate(seq, window, Logits::None, cancel, |p| {
            on_progress(Progress { done: done + p.done, total, ..p })
        })?;
        Ok(())
    }

    /// Replaces sequence `seq` with a state from [`Session::save`] (of the same model, block,
    /// window and sinks); evaluation continues exactly where the saved sequence stopped.
    pub fn restore(&mut self, seq: u32, state: &[u8]) -> Result<()> {
        let flags = llama_cpp_2::context::session::LlamaStateSeqFlags::empty();
        // SAFETY: llama.cpp validates the buffer and reads at most state.len() bytes.
        let ok = unsafe { self.ctx.state_seq_set_data_ext(state, seq as i32, flags) };
        if !ok {
            return Err(EngineError::State(
                "the saved state does not fit this model, AHN block, window or cache type".into(),
            ));
        }
        let pos_max = self.ctx.kv_cache_seq_pos_max(seq as i32);
        self.positions[seq as usize] = (pos_max + 1).max(0) as usize;
        Ok(())
    }
}
