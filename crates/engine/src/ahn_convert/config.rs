//! The `config.json` of an official AHN checkpoint: the cell and the shapes.

use std::path::Path;

use serde_json::{Map, Value};

use super::refuse;
use super::tensors::IMPLEMENTATIONS;
use crate::ahn_block::AhnType;
use crate::error::{EngineError, Result};

/// More layers than any real model has (the releases have 36, 28 and 48).
const MAX_LAYERS: u32 = 10_000;

/// What `config.json` says about the AHN modules.
#[derive(Clone, Copy, Debug)]
pub(super) struct CheckpointConfig {
    pub(super) ahn_type: AhnType,
    pub(super) n_layer: u32,
    pub(super) hidden: u32,
    pub(super) heads: u32,
    pub(super) head_dim: u32,
}

/// Reads and checks `path`, in the order of `ahn_ref.convert.read_config`: the cell
/// (`_ahn_implementation`), `model_type`, the router flag, then the sizes. The window and sink
/// count are deliberately not read: `sliding_window` and friends are training settings.
pub(super) fn read_config(path: &Path) -> Result<CheckpointConfig> {
    let bad = |reason: String| refuse(path, reason);
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(bad("not found (a checkpoint directory has config.json)".into()));
        }
        Err(source) => return Err(EngineError::Io { action: "read", path: path.to_owned(), source }),
    };
    let conf: Value = serde_json::from_slice(&text).map_err(|e| bad(format!("not valid JSON ({e})")))?;
    let conf = conf.as_object().ok_or_else(|| bad("not a JSON object".into()))?;

    let known = || IMPLEMENTATIONS.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ");
    let ahn_type = match conf.get("_ahn_implementation") {
        Some(Value::String(s)) => IMPLEMENTATIONS.iter().find(|(name, _)| name == s).map(|(_, t)| *t),
        _ => None,
    };
    let Some(ahn_type) = ahn_type else {
        let got = conf.get("_ahn_implementation").map_or("(missing)".to_owned(), Value::to_string);
        return Err(bad(format!("unknown _ahn_implementation {got}, expected one of {}", known())));
    };
    if let Some(model_type) = conf.get("model_type") {
        if model_type.as_str() != Some("qwen2") {
            return Err(bad(format!("model_type {model_type}; only qwen2 AHN checkpoints exist")));
        }
    }
    if conf.get("use_ahn_router").is_some_and(truthy) {
        return Err(bad("use_ahn_router is true; the AHN router is not supported".into()));
    }
    let required = ["num_hidden_layers", "hidden_size", "num_attention_heads"];
    let missing: Vec<&str> = required.into_iter().filter(|k| conf.get(*k).is_none_or(Value::is_null)).collect();
    if !missing.is_empty() {
        return Err(bad(format!("missing {}", missing.join(", "))));
    }
    let n_layer = positive(conf, "num_hidden_layers").map_err(bad)?;
    if n_layer > MAX_LAYERS {
        // The tensor checks list every expected name; keep a corrupt value from exhausting memory.
        return Err(bad(format!("num_hidden_layers is {n_layer}, more than any model has ({MAX_LAYERS})")));
    }
    let hidden = positive(conf, "hidden_size").map_err(bad)?;
    let heads = positive(conf, "num_attention_heads").map_err(bad)?;
    // As the official code: head_dim when given (and not 0), else hidden_size / heads.
    let head_dim = match conf.get("head_dim") {
        None | Some(Value::Null) => hidden / heads,
        Some(v) if v.as_f64() == Some(0.0) => hidden / heads,
        Some(_) => positive(conf, "head_dim").map_err(bad)?,
    };
    if head_dim == 0 {
        return Err(bad(format!("hidden_size {hidden} / num_attention_heads {heads} gives a head size of 0")));
    }
    Ok(CheckpointConfig { ahn_type, n_layer, hidden, heads, head_dim })
}

/// Python truthiness of a JSON value (the Python converter tests `if conf.get(...)`).
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// `conf[key]` as a positive integer that fits in u32 (an integral float such as `2048.0` too,
/// as Python's `int()` takes it).
fn positive(conf: &Map<String, Value>, key: &str) -> Result<u32, String> {
    let v = &conf[key];
    let n = v.as_u64().or_else(|| v.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as u64));
    match n.and_then(|n| u32::try_from(n).ok()) {
        Some(n) if n > 0 => Ok(n),
        _ => Err(format!("{key} is {v}, expected a positive integer")),
    }
}
