//! # chainhound-sim: simulated Bitcoin chains with ground truth
//!
//! Owns writing chains that chainhound can ingest as if a Bitcoin Core node
//! had stored them: regtest blocks with valid proof of work, merkle roots and
//! BIP34 heights, laid out as `blocks/blk*.dat` with an optional `xor.dat`.
//!
//! - [`economy`]: the simulated economy (users, exchanges, pools, CoinJoins,
//!   a mixer, a sanctioned entity, a heist and its laundering), block by
//!   block, with real ECDSA and Schnorr signatures that Bitcoin Core's own
//!   validation accepts (`tests/pbk_accepts.rs`);
//! - [`truth`]: what really happened (owners, change, CoinJoins, miners,
//!   stolen outputs, cash-outs), as CSV files and in memory;
//! - [`datadir`]: both written to a directory (`chainhound simulate`);
//! - [`keys`] and [`tx`]: deterministic keys, signing, coinbases, blocks;
//! - [`toy`]: a much faster chain with dummy signatures and no economy, for
//!   index tests and the ingest benchmark's largest runs;
//! - [`write`]: block files as Core writes them.
//!
//! Everything is deterministic: the same parameters give byte-identical
//! output on every platform and thread count. Format of the truth files:
//! `docs/simulator.md`.
//!
//! Must not: read or write the index.
#![deny(missing_docs)]

pub mod datadir;
pub mod economy;
pub mod keys;
pub mod rng;
pub mod toy;
pub mod truth;
pub mod tx;
pub mod write;
