//! Settings in one place: where the library and the models live ([`Paths`]), and what the
//! library reads and answers with ([`Settings`]: model, AHN block, W, S, chunk and
//! checkpoint sizes, threads, GPU layers). One `Default`, one file (`settings.json` in the
//! library directory), used by every front end, the benchmarks and the evaluation alike.
//!
//! This crate reads no environment variable: a front end turns its environment into
//! [`Paths`] with [`Paths::from_env`], handing in its own lookup.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use seahorse_library::ReadOptions;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where things live on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paths {
    /// The library: `library.sqlite3`, `index/`, `settings.json`.
    pub library: PathBuf,
    /// The model cache: fetched GGUFs, AHN blocks, merged base + block files.
    pub models: PathBuf,
    /// The pip command line that downloads catalogue models' parts (`python3 -m pip`).
    pub pip: String,
}

impl Paths {
    /// The usual places, from the environment the front end hands in (`std::env::var_os`
    /// in a program): the library in `$SEAHORSE_HOME`, else `$XDG_DATA_HOME/seahorse`, else
    /// `~/.local/share/seahorse`; the models in `$SEAHORSE_MODELS_DIR`, else
    /// `$XDG_CACHE_HOME/seahorse/models`, else `~/.cache/seahorse/models`; pip as `$SEAHORSE_PIP`, else `python3 -m pip`.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when neither the variables nor `HOME` say where.
    pub fn from_env(var: impl Fn(&str) -> Option<OsString>) -> Result<Paths> {
        let nonempty = |k: &str| var(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let home = nonempty("HOME");
        let library = nonempty("SEAHORSE_HOME")
            .or_else(|| nonempty("XDG_DATA_HOME").map(|d| d.join("seahorse")))
            .or_else(|| home.as_ref().map(|h| h.join(".local/share/seahorse")))
            .ok_or_else(|| Error::Invalid("cannot tell where the library lives: set SEAHORSE_HOME or HOME".into()))?;
        let models = seahorse_models::cache_dir_in(&var);
        let pip = var("SEAHORSE_PIP")
            .filter(|v| !v.is_empty())
            .map_or_else(|| seahorse_models::DEFAULT_PIP.to_owned(), |v| v.to_string_lossy().into_owned());
        Ok(Paths { library, models, pip })
    }

    /// Paths under one directory (`DIR/library`, `DIR/models`), for tests and tools.
    pub fn under(dir: &Path) -> Paths {
        Paths { library: dir.join("library"), models: dir.join("models"), pip: seahorse_models::DEFAULT_PIP.to_owned() }
    }

    /// The settings file.
    pub fn settings_file(&self) -> PathBuf {
        self.library.join("settings.json")
    }

    /// Where merged base + block GGUFs are cached.
    pub fn merged_dir(&self) -> PathBuf {
        self.models.join("merged")
    }

    /// Where AHN blocks converted or added by the person are kept (the shipped ones are
    /// installed beside them, in `blocks/`).
    pub fn added_blocks_dir(&self) -> PathBuf {
        self.models.join("added-blocks")
    }
}

/// Which AHN block compresses what leaves the window.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", content = "path", rename_all = "snake_case")]
pub enum BlockChoice {
    /// The block shipped for a catalogue model (none for a model without one).
    #[default]
    Shipped,
    /// Sinks + window only.
    None,
    /// This block file.
    File(PathBuf),
}

/// How documents are read into memory. W and S (and the chunk size and cache precision)
/// are part of every memory state's fingerprint: a state is restored only with the values
/// that built it.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReadingSettings {
    /// W: tokens of the sliding window.
    pub window: u32,
    /// S: attention-sink tokens (the first tokens, always attended).
    pub sinks: u32,
    /// Tokens per evaluation chunk (states are taken between chunks).
    pub chunk_tokens: u32,
    /// A checkpoint is persisted after at least this many tokens …
    pub checkpoint_tokens: u64,
    /// … or this many seconds.
    pub checkpoint_seconds: u64,
    /// Intermediate checkpoints kept per document (resuming, "as of page N").
    pub checkpoints_kept: usize,
    /// CPU threads (`None`: every core).
    pub threads: Option<i32>,
}

impl Default for ReadingSettings {
    fn default() -> Self {
        let read = ReadOptions::default();
        Self {
            window: 1024,
            sinks: 64,
            chunk_tokens: read.chunk_tokens,
            checkpoint_tokens: read.checkpoint_tokens,
            checkpoint_seconds: read.checkpoint_interval.as_secs(),
            checkpoints_kept: read.checkpoints_kept,
            threads: None,
        }
    }
}

impl ReadingSettings {
    /// The memory-pass options (without a compute gate).
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            chunk_tokens: self.chunk_tokens,
            n_threads: self.threads,
            checkpoint_tokens: self.checkpoint_tokens,
            checkpoint_interval: Duration::from_secs(self.checkpoint_seconds),
            checkpoints_kept: self.checkpoints_kept,
            ..ReadOptions::default()
        }
    }

    /// Checks the values a person can get wrong.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] naming the setting.
    pub fn validate(&self) -> Result<()> {
        if self.window == 0 {
            return Err(Error::Invalid("the window (W) must hold at least one token".into()));
        }
        if self.chunk_tokens == 0 {
            return Err(Error::Invalid("the chunk size must be at least one token".into()));
        }
        if self.threads.is_some_and(|t| t < 1) {
            return Err(Error::Invalid("threads must be at least 1".into()));
        }
        Ok(())
    }
}

/// A GGUF the person added (not from the catalogue).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalModel {
    /// Its id (from the file name), used like a catalogue id.
    pub id: String,
    /// The file, where the person keeps it.
    pub path: PathBuf,
}

/// Everything a library reads and answers with.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The active model: a catalogue id or a [`LocalModel`] id.
    pub model: String,
    /// The active AHN block.
    pub block: BlockChoice,
    /// How documents are read.
    pub reading: ReadingSettings,
    /// Layers offloaded to a GPU (ignored by CPU builds); `u32::MAX`: all.
    pub gpu_layers: u32,
    /// GGUFs added by the person.
    pub local_models: Vec<LocalModel>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            model: seahorse_models::DEFAULT_MODEL.id.to_owned(),
            block: BlockChoice::Shipped,
            reading: ReadingSettings::default(),
            gpu_layers: u32::MAX,
            local_models: Vec::new(),
        }
    }
}

impl Settings {
    /// The settings saved in `paths.library`, or the defaults (with the `reading.json` of
    /// older versions carried over when there is one).
    ///
    /// # Errors
    ///
    /// [`Error::Settings`] for a file that cannot be read or parsed.
    pub fn load(paths: &Paths) -> Result<Settings> {
        let file = paths.settings_file();
        match std::fs::read_to_string(&file) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| Error::Settings { path: file, reason: e.to_string() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(legacy_reading(&paths.library)?.unwrap_or_default())
            }
            Err(e) => Err(Error::Settings { path: file, reason: e.to_string() }),
        }
    }

    /// Writes the settings to `paths.library/settings.json` (atomically: a temporary file
    /// renamed into place).
    ///
    /// # Errors
    ///
    /// [`Error::Settings`].
    pub fn save(&self, paths: &Paths) -> Result<()> {
        let file = paths.settings_file();
        let fail = |e: std::io::Error| Error::Settings { path: file.clone(), reason: e.to_string() };
        std::fs::create_dir_all(&paths.library).map_err(fail)?;
        let tmp = file.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).expect("settings serialise") + "\n";
        std::fs::write(&tmp, text).map_err(fail)?;
        std::fs::rename(&tmp, &file).map_err(fail)
    }

    /// The local model with this id.
    pub fn local_model(&self, id: &str) -> Option<&LocalModel> {
        self.local_models.iter().find(|m| m.id == id)
    }
}

/// Whether the library has no saved settings (neither `settings.json` nor an older
/// `reading.json`): its model was never chosen.
pub(crate) fn never_saved(paths: &Paths) -> bool {
    !paths.settings_file().exists() && !paths.library.join(LEGACY_FILE).exists()
}

const LEGACY_FILE: &str = "reading.json";

/// `reading.json` of Seahorse ≤ 0.1 (the CLI's last reading settings), as [`Settings`].
fn legacy_reading(library: &Path) -> Result<Option<Settings>> {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Legacy {
        model: Option<String>,
        model_path: Option<PathBuf>,
        window: Option<u32>,
        sinks: Option<u32>,
        block: Option<PathBuf>,
        no_block: bool,
        chunk_tokens: Option<u32>,
        checkpoint_tokens: Option<u64>,
        checkpoint_seconds: Option<u64>,
        checkpoints_kept: Option<usize>,
        threads: Option<i32>,
    }
    let file = library.join(LEGACY_FILE);
    let Ok(text) = std::fs::read_to_string(&file) else { return Ok(None) };
    let old: Legacy =
        serde_json::from_str(&text).map_err(|e| Error::Settings { path: file.clone(), reason: e.to_string() })?;
    let mut s = Settings::default();
    let d = ReadingSettings::default();
    s.reading = ReadingSettings {
        window: old.window.unwrap_or(d.window),
        sinks: old.sinks.unwrap_or(d.sinks),
        chunk_tokens: old.chunk_tokens.unwrap_or(d.chunk_tokens),
        checkpoint_tokens: old.checkpoint_tokens.unwrap_or(d.checkpoint_tokens),
        checkpoint_seconds: old.checkpoint_seconds.unwrap_or(d.checkpoint_seconds),
        checkpoints_kept: old.checkpoints_kept.unwrap_or(d.checkpoints_kept),
        threads: old.threads,
    };
    if let Some(m) = old.model {
        s.model = m;
    }
    if let Some(path) = old.model_path {
        let id = crate::models::local_id_for(&path, &s.local_models);
        s.local_models.push(LocalModel { id: id.clone(), path });
        s.model = id;
    }
    s.block = match (old.block, old.no_block) {
        (Some(b), _) => BlockChoice::File(b),
        (None, true) => BlockChoice::None,
        (None, false) => BlockChoice::Shipped,
    };
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_environment_the_front_end_hands_in() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| OsString::from(v))
        };
        let p = Paths::from_env(env(&[("HOME", "/h")])).unwrap();
        assert_eq!(p.library, PathBuf::from("/h/.local/share/seahorse"));
        assert_eq!(p.models, PathBuf::from("/h/.cache/seahorse/models"));
        let p = Paths::from_env(env(&[("HOME", "/h"), ("XDG_DATA_HOME", "/d"), ("XDG_CACHE_HOME", "/c")])).unwrap();
        assert_eq!((p.library, p.models), (PathBuf::from("/d/seahorse"), PathBuf::from("/c/seahorse/models")));
        let p = Paths::from_env(env(&[("SEAHORSE_HOME", "/s"), ("SEAHORSE_MODELS_DIR", "/m"), ("HOME", "")])).unwrap();
        assert_eq!((p.library, p.models), (PathBuf::from("/s"), PathBuf::from("/m")));
        assert!(Paths::from_env(env(&[("HOME", "")])).is_err());
    }

    #[test]
    fn settings_round_trip_and_carry_over_the_old_reading_file() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        assert_eq!(Settings::load(&paths).unwrap(), Settings::default());

        std::fs::create_dir_all(&paths.library).unwrap();
        std::fs::write(
            paths.library.join("reading.json"),
            r#"{"model":"qwen2.5-coder-1.5b","window":512,"sinks":4,"no_block":true,"threads":2}"#,
        )
        .unwrap();
        let s = Settings::load(&paths).unwrap();
        assert_eq!((s.model.as_str(), s.reading.window, s.reading.sinks), ("qwen2.5-coder-1.5b", 512, 4));
        assert_eq!((s.block.clone(), s.reading.threads), (BlockChoice::None, Some(2)));
        assert_eq!(s.reading.chunk_tokens, ReadingSettings::default().chunk_tokens);

        let mut s = s;
        s.block = BlockChoice::File(PathBuf::from("/b/x.ahn.gguf"));
        s.save(&paths).unwrap();
        assert_eq!(Settings::load(&paths).unwrap(), s);
        std::fs::write(paths.settings_file(), "{ not json").unwrap();
        assert!(matches!(Settings::load(&paths), Err(Error::Settings { .. })));
    }

    #[test]
    fn bad_reading_settings_are_refused() {
        assert!(ReadingSettings::default().validate().is_ok());
        assert!(ReadingSettings { window: 0, ..Default::default() }.validate().is_err());
        assert!(ReadingSettings { chunk_tokens: 0, ..Default::default() }.validate().is_err());
        assert!(ReadingSettings { threads: Some(0), ..Default::default() }.validate().is_err());
    }
}
