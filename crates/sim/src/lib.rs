//! # chainhound-sim: simulated Bitcoin chains
//!
//! Owns writing chains that chainhound can ingest as if a Bitcoin Core node
//! had stored them: regtest blocks with valid proof of work, merkle roots and
//! BIP34 heights, laid out as `blocks/blk*.dat` with an optional `xor.dat`.
//!
//! So far it holds the [`toy`] chain behind `chainhound demo` and the ingest
//! benchmark (`bench/`): from the real regtest genesis block, coinbases to
//! regular and one-off addresses of every common script type, payments with
//! change, batches, sweeps and consolidations, and address reuse, at any
//! number of transactions per block; [`toy::ToyChain`] yields blocks one at
//! a time in O(1) work per payment, so chains of millions of transactions
//! can be written as they are made. Its transactions carry dummy signatures
//! (chainhound's ingest does not validate scripts).
//!
//! [`signed`] writes chains whose transactions carry real ECDSA and Schnorr
//! signatures over all four script types, which Bitcoin Core's own
//! validation accepts block by block (`tests/pbk_accepts.rs`, through
//! `tools/pbk_validate.py` and py-bitcoinkernel). The full economy with
//! exchanges, pools, CoinJoins, a heist and ground truth is the simulator
//! issue, to be built on it.
//!
//! Must not: read or write the index.
#![deny(missing_docs)]

pub mod rng;
pub mod signed;
pub mod toy;
pub mod write;
