//! Shared test helpers: the default model with a short window, small documents.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use seahorse_engine::{write_block, AhnBlockInfo, AhnType, MemoryOptions, Model, ModelOptions};
use seahorse_library::{Library, LibraryConfig, ReadOptions, Reader};

/// The default model, fetched into the cache if needed.
pub fn model_path() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        seahorse_models::default_model(&seahorse_models::cache_dir_in(|k| std::env::var_os(k)))
            .expect("the default model")
    })
    .clone()
}

/// Sinks + window only: W = 64, S = 4.
pub fn memory(dir: &Path) -> MemoryOptions {
    MemoryOptions { window: 64, sinks: 4, block: None, merged_dir: dir.to_owned() }
}

/// The default model loaded with `memory`.
pub fn load(memory: &MemoryOptions) -> Model {
    Model::load(model_path(), &ModelOptions { memory: Some(memory.clone()), ..Default::default() }).unwrap()
}

/// Small chunks and frequent checkpoints, so a few-page document has several.
pub fn read_options() -> ReadOptions {
    ReadOptions {
        chunk_tokens: 64,
        n_threads: Some(2),
        checkpoint_tokens: 128,
        checkpoint_interval: Duration::from_secs(3600),
        checkpoints_kept: 4,
        ..ReadOptions::default()
    }
}

pub fn reader<'m>(model: &'m Model, memory: &MemoryOptions) -> Reader<'m> {
    Reader::new(model, memory, read_options()).unwrap()
}

pub fn open(dir: &Path) -> Library {
    Library::open(dir, &LibraryConfig::default()).unwrap()
}

/// A Markdown document of `sections` headed sections (one page each), about 120 tokens per
/// section; `seed` varies the words so different documents differ.
pub fn markdown(sections: usize, seed: usize) -> String {
    const WORDS: &[&str] = &[
        "kelp", "current", "ledger", "storm", "visitor", "tide", "coral", "lantern", "harbour", "shell", "reef",
        "compass", "anchor", "drift", "pearl", "keeper", "evening", "morning", "chapter", "river",
    ];
    let mut out = String::new();
    for s in 0..sections {
        out.push_str(&format!("# Chapter {}\n\n", s + 1));
        for sentence in 0..6 {
            let words: Vec<&str> =
                (0..12).map(|w| WORDS[(seed * 7 + s * 13 + sentence * 5 + w * 3) % WORDS.len()]).collect();
            out.push_str(&format!("The {} of chapter {} is {}.\n", words.join(" "), s + 1, sentence));
        }
        out.push('\n');
    }
    out
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A GDN block for the default model with small random weights (a deterministic stream).
pub fn gdn_block(dir: &Path) -> PathBuf {
    let path = dir.join("gdn.gguf");
    let info = AhnBlockInfo::for_base(&model_path(), AhnType::Gdn, &path).unwrap();
    let mut x = 0x5eed_u64;
    write_block(&path, &info, |name, ne| {
        let n = ne.iter().product::<i64>() as usize;
        if name.contains("ahn_norm") {
            return vec![1.0; n];
        }
        let scale = if name.contains("ahn_a_log") || name.contains("ahn_dt_bias") { 0.5 } else { 0.05 };
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ((x >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
            })
            .collect()
    })
    .unwrap();
    path
}
