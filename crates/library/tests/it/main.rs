//! Integration tests of seahorse-library: real SQLite, real tantivy, the real patched
//! llama.cpp with the default model.

mod checkpoints;
mod common;
mod faults;
mod index;
mod ingest;
mod resume;
mod store;
