//! Tests of the `seahorse` binary: real processes, a real library directory, the default
//! model with a short window.

mod asking;
mod commands;
mod common;
mod kill_resume;
