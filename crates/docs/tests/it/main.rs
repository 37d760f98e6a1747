//! Integration tests for `seahorse-docs`, on fixtures generated here (nothing is downloaded).

mod epub;
mod fixtures;
mod formats;
mod hostile;
mod large;
mod pdf;
