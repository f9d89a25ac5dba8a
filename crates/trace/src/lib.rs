//! Tracing stolen coins through the index: poison, haircut and FIFO,
//! forward to where they went or backward to where they came from, with
//! the evidence of every coin.
//!
//! Owns: the taint arithmetic ([`taint`]), the walk and its result
//! ([`walk`]), seeds from strings and incident files ([`seed`]), the case
//! renderings (CSV, GraphViz DOT, the self-contained HTML report:
//! [`report`]), saved cases and their re-checks after ingest ([`case`]),
//! and scoring against a simulated heist's truth ([`eval`]).
//!
//! Must not: write the index, the clusters or the label book; it reads the
//! index through [`chainhound_index::store::Store`] and labels through a
//! [`chainhound_intel::resolve::Resolved`] book.

pub mod case;
pub mod eval;
pub mod report;
pub mod seed;
pub mod taint;
pub mod walk;

pub use taint::Policy;
pub use walk::{CoinJoinMode, Direction, Options, Trace, Tracer};
