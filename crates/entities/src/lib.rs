//! # chainhound-entities: who owns what, and who mined what
//!
//! Owns the analysis that turns the index's addresses into entities and its
//! blocks into miners:
//! - [`coinjoin`]: CoinJoin detectors (generic equal-output, Whirlpool,
//!   Wasabi 1.x and 2.0, JoinMarket) and the Stonewall veto, on the shape
//!   of one transaction;
//! - [`cluster`]: common-input-ownership clustering over the whole index
//!   (union-find, CoinJoins left out, a collapse guard), stored beside the
//!   index and updated incrementally;
//! - [`change`]: change heuristics, off by default, chosen by name;
//! - [`eval`]: clustering measured against ground truth;
//! - [`miners`]: the miner of a block from mempool's `pools-v2.json`
//!   (coinbase tags, payout addresses), unknown miners grouped by tag.
//!
//! Must not: write the index's own files (it reads them through
//! `chainhound_index::store::Store`), parse block files, or print.
#![deny(missing_docs)]

pub mod change;
pub mod cluster;
pub mod coinjoin;
pub mod eval;
pub mod miners;
