//! Chat-style generation: chat template, prompt prefill, greedy decoding with streaming.

use std::time::{Duration, Instant};

use llama_cpp_2::model::LlamaChatMessage;
use llama_cpp_2::token::LlamaToken;

use crate::error::{EngineError, Result};
use crate::model::Model;
use crate::session::{CacheType, Logits, Session, SessionOptions};
use seahorse_cancel::CancelToken;

/// Who said a chat message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The person asking.
    User,
    /// The model's earlier replies.
    Assistant,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatMessage {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: String,
}

impl ChatMessage {
    /// A message from `role`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self { role, content: content.into() }
    }
}

/// Settings of one generation.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// Stop after this many generated tokens.
    pub max_tokens: usize,
    /// Context size in tokens (prompt + reply).
    pub n_ctx: u32,
    /// Tokens per `llama_decode` call during prefill.
    pub n_batch: u32,
    /// CPU threads; `None` uses every core.
    pub n_threads: Option<i32>,
    /// Stop when the model ends its turn (always, except in benchmarks that need a fixed
    /// number of decoded tokens).
    pub stop_at_end_of_turn: bool,
    /// Stop once the reply's last this-many tokens repeat, token for token, an earlier run
    /// of the reply ([`StopReason::Repeating`]): a small model that starts saying a sentence
    /// again usually goes on repeating it until `max_tokens`. `None`: never.
    pub stop_repeating: Option<usize>,
    /// Checked before every batch and every token.
    pub cancel: CancelToken,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            max_tokens: 256,
            n_ctx: 4096,
            n_batch: 512,
            n_threads: None,
            stop_at_end_of_turn: true,
            stop_repeating: None,
            cancel: CancelToken::new(),
        }
    }
}

/// Progress reported while generating.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<'a> {
    /// Prompt tokens evaluated so far, out of `total`.
    Prefill {
        /// Tokens evaluated.
        done: usize,
        /// Prompt length.
        total: usize,
    },
    /// The next piece of the reply. Pieces are whole UTF-8 characters.
    Text(&'a str),
}

/// Why generation stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The model ended its turn.
    EndOfTurn,
    /// `max_tokens` was reached.
    MaxTokens,
    /// The context is full.
    ContextFull,
    /// The [`CancelToken`] fired.
    Cancelled,
    /// The reply began to repeat itself ([`GenerateOptions::stop_repeating`]); the repeated
    /// tokens are part of the reply.
    Repeating,
}

/// The result of a generation.
#[derive(Clone, Debug)]
pub struct Generation {
    /// The reply.
    pub text: String,
    /// Why it ended.
    pub stop: StopReason,
    /// Prompt tokens evaluated.
    pub prompt_tokens: usize,
    /// Reply tokens generated.
    pub generated_tokens: usize,
    /// Time spent evaluating the prompt.
    pub prefill_time: Duration,
    /// Time spent generating the reply.
    pub decode_time: Duration,
    /// The natural log of the probability the model gave each reply token when it chose
    /// it (greedy: the largest), one per generated token. How sure the model was of its
    /// words: an invented name or figure is often chosen with low probability.
    pub token_logprobs: Vec<f32>,
    /// The reply's token ids, one per generated token (the end-of-turn token not included).
    pub tokens: Vec<i32>,
}

impl Model {
    /// Renders `messages` with the model's own chat template, ending with the opening of
    /// the assistant's turn.
    pub fn render_chat(&self, messages: &[ChatMessage]) -> Result<String> {
        let template = self.inner.chat_template(None).map_err(|e| EngineError::ChatTemplate(e.to_string()))?;
        let messages = messages
            .iter()
            .map(|m| LlamaChatMessage::new(m.role.as_str().to_owned(), m.content.clone()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| EngineError::ChatTemplate(e.to_string()))?;
        self.inner.apply_chat_template(&template, &messages, true).map_err(|e| EngineError::ChatTemplate(e.to_string()))
    }

    /// Answers a conversation: renders the chat template, evaluates the prompt and decodes
    /// greedily, calling `on_event` with prefill progress and each piece of text.
    pub fn chat(
        &self,
        messages: &[ChatMessage],
        options: &GenerateOptions,
        on_event: impl FnMut(Event<'_>),
    ) -> Result<Generation> {
        let prompt = self.render_chat(messages)?;
        self.complete(&prompt, options, on_event)
    }

    /// Continues `prompt` (special tokens are parsed) greedily until the end of the turn.
    pub fn complete(
        &self,
        prompt: &str,
        options: &GenerateOptions,
        on_event: impl FnMut(Event<'_>),
    ) -> Result<Generation> {
        let tokens = self.tokenize(prompt);
        self.complete_tokens(&tokens, options, on_event)
    }

    /// Continues a prompt given as token ids (see [`Model::tokenize`]) in a fresh session.
    pub fn complete_tokens(
        &self,
        tokens: &[i32],
        options: &GenerateOptions,
        on_event: impl FnMut(Event<'_>),
    ) -> Result<Generation> {
        if !self.windowed() && tokens.len() >= options.n_ctx as usize {
            return Err(EngineError::PromptTooLong { prompt: tokens.len(), n_ctx: options.n_ctx });
        }
        let n_batch = options.n_batch.clamp(1, options.n_ctx);
        let mut session = self.session(&SessionOptions {
            n_ctx: options.n_ctx,
            n_batch,
            n_ubatch: n_batch,
            n_seq_max: 1,
            n_threads: options.n_threads,
            cache_type: CacheType::F16,
            flash_attention: None,
            ..SessionOptions::default()
        })?;
        session.generate(0, tokens, options, on_event)
    }
}

impl Session<'_> {
    /// Evaluates `prompt` as the continuation of sequence `seq` (after a restored state, say),
    /// then decodes greedily, streaming [`Event`]s, until the end of the turn, `max_tokens`,
    /// a full context (full-attention models only) or cancellation.
    pub fn generate(
        &mut self,
        seq: u32,
        prompt: &[i32],
        options: &GenerateOptions,
        mut on_event: impl FnMut(Event<'_>),
    ) -> Result<Generation> {
        if prompt.is_empty() {
            return Err(EngineError::EmptyPrompt);
        }
        let mut generation = Generation {
            text: String::new(),
            stop: StopReason::EndOfTurn,
            prompt_tokens: prompt.len(),
            generated_tokens: 0,
            prefill_time: Duration::ZERO,
            decode_time: Duration::ZERO,
            token_logprobs: Vec::new(),
            tokens: Vec::new(),
        };
        let started = Instant::now();
        let mut logits = self.evaluate(seq, prompt, Logits::Last, &options.cancel, |p| {
            on_event(Event::Prefill { done: p.done, total: p.total })
        })?;
        generation.prefill_time = started.elapsed();
        if logits.is_empty() {
            generation.stop = StopReason::Cancelled;
            return Ok(generation);
        }

        let started = Instant::now();
        let model = self.model();
        let vocab = model.inner.vocab();
        // A full-attention session is full at its own context size (the session may be larger
        // or smaller than `options.n_ctx`, which sizes only the sessions `complete` opens).
        let limit = if model.windowed() { usize::MAX } else { self.context_size() };
        let mut pending = Vec::new(); // bytes of an incomplete UTF-8 character
        loop {
            if options.cancel.is_cancelled() {
                generation.stop = StopReason::Cancelled;
                break;
            }
            if generation.generated_tokens >= options.max_tokens {
                generation.stop = StopReason::MaxTokens;
                break;
            }
            if self.position(seq) >= limit {
                generation.stop = StopReason::ContextFull;
                break;
            }
            let token = LlamaToken(argmax(&logits) as i32);
            if options.stop_at_end_of_turn && vocab.is_eog(token) {
                generation.stop = StopReason::EndOfTurn;
                break;
            }
            generation.generated_tokens += 1;
            generation.token_logprobs.push(log_softmax_at(&logits, token.0 as usize));
            generation.tokens.push(token.0);
            pending.extend_from_slice(&vocab.token_to_piece(token, false, None));
            let valid = match std::str::from_utf8(&pending) {
                Ok(s) => s.len(),
                Err(e) if e.error_len().is_none() => e.valid_up_to(), // wait for more bytes
                Err(_) => pending.len(),                              // invalid: emit lossily
            };
            if valid > 0 {
                let piece = String::from_utf8_lossy(&pending[..valid]).into_owned();
                pending.drain(..valid);
                generation.text.push_str(&piece);
                on_event(Event::Text(&piece));
            }
            if options.stop_repeating.is_some_and(|n| repeats_earlier_run(&generation.tokens, n)) {
                generation.stop = StopReason::Repeating;
                break;
            }
            logits = self.evaluate(seq, &[token.0], Logits::Last, &CancelToken::new(), |_| {})?;
        }
        if !pending.is_empty() {
            let piece = String::from_utf8_lossy(&pending).into_owned();
            generation.text.push_str(&piece);
            on_event(Event::Text(&piece));
        }
        generation.decode_time = started.elapsed();
        Ok(generation)
    }
}

/// `ln softmax(logits)[index]`, computed stably.
pub fn log_softmax_at(logits: &[f32], index: usize) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = logits.iter().map(|&l| f64::from(l - max).exp()).sum();
    (f64::from(logits[index] - max) - sum.ln()) as f32
}

/// Whether the last `n` of `tokens` (n ≥ 1) occur earlier in `tokens` as a contiguous run
/// (overlapping the last `n` is allowed: `a b a b a b` repeats `a b a b` from its start).
fn repeats_earlier_run(tokens: &[i32], n: usize) -> bool {
    let n = n.max(1);
    if tokens.len() <= n {
        return false;
    }
    let tail = &tokens[tokens.len() - n..];
    tokens[..tokens.len() - 1].windows(n).any(|w| w == tail)
}

/// Index of the largest value (greedy decoding).
fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_of_tokens_seen_before_is_a_repetition() {
        assert!(!repeats_earlier_run(&[1, 2, 3], 3));
        assert!(!repeats_earlier_run(&[1, 2, 3, 4, 5], 2));
        assert!(repeats_earlier_run(&[1, 2, 3, 9, 2, 3], 2));
        assert!(!repeats_earlier_run(&[1, 2, 3, 9, 2, 3], 3));
        assert!(repeats_earlier_run(&[7, 7], 1));
        assert!(repeats_earlier_run(&[1, 2, 1, 2, 1, 2], 4), "overlapping runs count");
        assert!(!repeats_earlier_run(&[1, 2, 1, 2, 1, 3], 4));
    }

    #[test]
    fn log_softmax_matches_the_definition() {
        let logits = [1.0f32, 3.0, -2.0, 0.5];
        let z: f64 = logits.iter().map(|&l| f64::from(l).exp()).sum();
        for (i, &l) in logits.iter().enumerate() {
            let expected = (f64::from(l).exp() / z).ln() as f32;
            assert!((log_softmax_at(&logits, i) - expected).abs() < 1e-6, "{i}");
        }
        // Large logits do not overflow.
        assert!((log_softmax_at(&[1000.0, 1000.0], 0) - 0.5f32.ln()).abs() < 1e-6);
    }
}
