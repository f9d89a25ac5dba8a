//! Benchmark: chainhound's zero-copy parser against rust-bitcoin's
//! `consensus::deserialize`, both computing every txid and classifying every
//! output script, on the real blocks of `../shared/data/blocks`.
//!
//! `cargo run --release -p chainhound-chain --example parse_vs_rust_bitcoin`

use bitcoin::consensus::deserialize;
use chainhound_chain::{classify, Block};
use std::hint::black_box;
use std::time::Instant;

fn records(path: &str) -> Vec<Vec<u8>> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = Vec::new();
    let mut p = 0;
    while p + 8 <= data.len() {
        let size = u32::from_le_bytes(data[p + 4..p + 8].try_into().unwrap()) as usize;
        out.push(data[p + 8..p + 8 + size].to_vec());
        p += 8 + size;
    }
    out
}

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/blocks/");
    for name in [
        "mainnet_sample_blocks.dat",
        "testnet_signet_sample_blocks.dat",
        "mainnet_h0-4312.dat",
    ] {
        let blocks = records(&format!("{dir}{name}"));
        let bytes: usize = blocks.iter().map(|b| b.len()).sum();
        let rounds = (200_000_000 / bytes).clamp(3, 200);
        let mut txs = 0usize;
        let t = Instant::now();
        for _ in 0..rounds {
            for b in &blocks {
                let blk = Block::parse(b).unwrap();
                txs += blk.txs.len();
                for o in &blk.outputs {
                    black_box(classify(o.script_pubkey));
                }
                black_box(&blk);
            }
        }
        let ours = t.elapsed().as_secs_f64();
        let t = Instant::now();
        for _ in 0..rounds {
            for b in &blocks {
                let blk: bitcoin::Block = deserialize(b).unwrap();
                for tx in &blk.txdata {
                    black_box(tx.compute_txid());
                    for o in &tx.output {
                        black_box(
                            bitcoin::Address::from_script(
                                &o.script_pubkey,
                                bitcoin::Network::Bitcoin,
                            )
                            .ok(),
                        );
                    }
                }
                black_box(blk.check_merkle_root());
            }
        }
        let theirs = t.elapsed().as_secs_f64();
        let mb = (bytes * rounds) as f64 / 1e6;
        println!(
            "{name:<34} {:>7.0} MB/s {:>9.0} tx/s   rust-bitcoin {:>7.0} MB/s   ratio {:.2}x",
            mb / ours,
            txs as f64 / ours,
            mb / theirs,
            theirs / ours
        );
    }
}
