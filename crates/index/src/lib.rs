//! # chainhound-index: block files in, a forensic index out
//!
//! This crate reads the chain as a user's own Bitcoin Core node stores it
//! and builds the on-disk index every analysis works from.
//!
//! - [`source`]: finds and memory-maps `blk*.dat` files, removes the XOR
//!   obfuscation, frames records and survives damage, with warnings that
//!   name file and offset;
//! - [`headers`]: the header tree and the most-work chain;
//! - [`headercache`]: what the last run learnt walking each block file, so
//!   a run walks only what was appended since;
//! - [`store`]: the index itself, fixed-width memory-mapped columns with a
//!   manifest (layout in `docs/layout.md`), crash-safe and incremental;
//! - [`ingest`]: the run that brings a store up to a source's best chain;
//! - [`query`]: blocks, transactions, addresses and statistics as values
//!   ready to print or serialize.
//!
//! It must not print, parse command lines or know about labels, entities or
//! tracing: those live in the crates above it.
//!
//! ```no_run
//! use chainhound_index::{ingest::{ingest, IngestOptions, NoProgress}, source::Source, store::Store};
//! let source = Source::datadir(std::path::Path::new("/home/me/.bitcoin"))?;
//! let report = ingest(&source, std::path::Path::new("/tmp/idx"), &IngestOptions::default(), &mut NoProgress)?;
//! let store = Store::open(std::path::Path::new("/tmp/idx"))?;
//! println!("{} blocks, tip {:?}", store.counts().blocks, report.tip_hash);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod headercache;
pub mod headers;
pub mod ingest;
pub mod pages;
pub mod query;
pub mod scan;
pub mod source;
pub mod store;
