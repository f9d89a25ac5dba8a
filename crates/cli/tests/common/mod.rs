//! Shared by the binary's end-to-end tests: running `chainhound`.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `chainhound --index INDEX ARGS...` and returns its output.
pub fn run(index: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chainhound"))
        .arg("--index")
        .arg(index)
        .args(args)
        .output()
        .unwrap()
}
