//! # chainhound-sim: simulated Bitcoin chains
//!
//! Owns writing chains that chainhound can ingest as if a Bitcoin Core node
//! had stored them: regtest blocks with valid proof of work, merkle roots and
//! BIP34 heights, laid out as `blocks/blk*.dat` with an optional `xor.dat`.
//!
//! So far it holds the [`toy`] chain behind `chainhound demo`: coinbases to
//! a small population of addresses of every common script type, spends that
//! consolidate and peel, and address reuse. Its transactions carry no
//! signatures (chainhound's ingest does not validate scripts); the full
//! economy with real signatures and ground truth is the simulator issue.
//!
//! Must not: read or write the index.
#![deny(missing_docs)]

pub mod rng;
pub mod toy;
pub mod write;
