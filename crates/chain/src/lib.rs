//! # chainhound-chain: the Bitcoin wire format, nothing else
//!
//! This crate turns bytes into Bitcoin structures and scripts into
//! addresses. It owns:
//!
//! - [`parse`]: zero-copy [`Block`] and [`Tx`] views over a byte slice,
//!   txids, merkle roots, proof-of-work checks, BIP34 heights;
//! - [`script`]: output script types and the fixed-size [`AddressKey`];
//! - [`address`]: address strings for every network, both ways;
//! - [`amount`]: saturating sums of satoshi values;
//! - [`network`]: magics and prefixes of mainnet, testnet3, testnet4, signet
//!   and regtest.
//!
//! It must not touch files, the index, or any policy about what to keep:
//! callers (the `index` crate) decide that. Parsing is sans-I/O so the same
//! code reads memory-mapped `blk*.dat` files, fuzzer input and test vectors.
//!
//! ```
//! use chainhound_chain::{classify, address, Network, ScriptType};
//! // The genesis coinbase output pays a P2PK script; it is found by the
//! // P2PKH address of its key.
//! let spk = chainhound_chain::hash::from_hex(concat!(
//!     "4104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc",
//!     "3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac")).unwrap();
//! let (ty, key) = classify(&spk);
//! assert_eq!(ty, ScriptType::P2pk);
//! assert_eq!(address::encode(&key.unwrap(), Network::Mainnet), "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa");
//! ```
#![deny(missing_docs)]

pub mod address;
pub mod amount;
pub mod hash;
pub mod network;
pub mod parse;
pub mod script;

pub use hash::{BlockHash, Txid};
pub use network::Network;
pub use parse::{Block, Header, ParseError, ParseErrorKind, Tx, TxIn, TxOut};
pub use script::{classify, AddressKey, AddressKind, ScriptType};
