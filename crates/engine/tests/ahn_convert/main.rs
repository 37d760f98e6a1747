//! The official-checkpoint converter (`convert_ahn_checkpoint`) on synthetic checkpoints.
//!
//! A synthetic checkpoint is a directory with a `config.json` and a `model.safetensors` holding
//! random weights under the official names and shapes of ahn.md §4 (written out here from the
//! spec, independently of the converter), in BF16, F16, F32, F64 or a mix, written with the
//! `safetensors` crate. The converted blocks are read back with a small GGUF reader of this file:
//! metadata keys in order, tensor names, shapes and types, and every value exactly. The Python
//! converter (`tools/ahn_convert.py`) must write byte-identical files.

#[path = "../common/mod.rs"]
mod common;

mod block_reader;
mod conversions;
mod python;
mod refusals;
mod synthetic;

use block_reader::*;
use synthetic::*;

use std::path::{Path, PathBuf};
use std::process::Command;

use safetensors::tensor::TensorView;
use safetensors::Dtype;
use seahorse_engine::{
    ahn_param_count, convert_ahn_checkpoint, write_gguf, AhnBlockInfo, AhnType, ConvertOptions, ConvertReport,
    EngineError, KvValue,
};
use serde_json::{json, Value};
