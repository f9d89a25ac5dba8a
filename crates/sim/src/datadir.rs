//! Writes a simulated economy as a Bitcoin Core data directory with its
//! ground truth beside it:
//!
//! ```text
//! DIR/blocks/blk00000.dat ...   the regtest genesis block, then the chain,
//!                               128 MiB files, XORed with blocks/xor.dat
//! DIR/truth/*.csv               see crate::truth and docs/simulator.md
//! DIR/truth/summary.json        parameters, counts, the heist in figures
//! ```
//!
//! Blocks and truth are streamed as they are made, so memory does not grow
//! with the chain (beyond the economy's own state).
//!
//! Must not: read or write the index.

use crate::economy::{Economy, EconomyStats, Params, EXCHANGES};
use crate::toy::regtest_genesis;
use crate::truth::TruthWriter;
use crate::write::{BlkWriter, BLK_FILE_SIZE};
use chainhound_chain::Network;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::time::Instant;

/// The key written to `blocks/xor.dat` unless obfuscation is turned off.
pub const DEFAULT_XOR: [u8; 8] = *b"chnhound";

/// What was written, as `truth/summary.json` holds it.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Seed.
    pub seed: u64,
    /// Blocks after genesis.
    pub blocks: u64,
    /// Transactions, coinbases included (genesis not counted).
    pub txs: u64,
    /// Users.
    pub users: u32,
    /// Entities of every kind.
    pub entities: u64,
    /// Bytes of blocks written (records without padding).
    pub bytes: u64,
    /// Transactions by kind.
    pub tx_kinds: BTreeMap<String, u64>,
    /// Inputs spent by script type.
    pub inputs_by_type: BTreeMap<String, u64>,
    /// Outputs made by script type.
    pub outputs_by_type: BTreeMap<String, u64>,
    /// Height of the heist, if it happened.
    pub heist_height: Option<u32>,
    /// The victim exchange.
    pub victim: Option<String>,
    /// Satoshis stolen.
    pub stolen_sats: u64,
    /// Satoshis of proceeds deposited at exchanges.
    pub cashed_out_sats: u64,
    /// Number of cash-out deposits.
    pub cashouts: u64,
    /// The XOR key, hex (all zero: none).
    pub xor: String,
    /// Seconds spent.
    pub seconds: f64,
}

/// Called after each block with (blocks done, blocks in all, stats).
pub trait SimProgress {
    /// A block was written.
    fn block(&mut self, done: u64, total: u64, stats: &EconomyStats);
}

/// No progress reporting.
pub struct Quiet;

impl SimProgress for Quiet {
    fn block(&mut self, _: u64, _: u64, _: &EconomyStats) {}
}

/// Simulates `params` into `dir` (created; must hold no `blocks/` yet).
pub fn write_economy(
    params: Params,
    dir: &Path,
    xor: [u8; 8],
    progress: &mut dyn SimProgress,
) -> io::Result<Summary> {
    let t = Instant::now();
    if dir.join("blocks").exists() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} already holds a blocks/ folder; simulate into an empty directory",
                dir.display()
            ),
        ));
    }
    let mut eco = Economy::new(params.clone());
    let mut blk = BlkWriter::new(dir, Network::Regtest, xor, BLK_FILE_SIZE)?;
    blk.push(&regtest_genesis())?;
    let mut truth = TruthWriter::create(&dir.join("truth"), eco.entities())?;
    let mut heist_height = None;
    let mut cashouts = 0u64;
    let total = params.blocks as u64;
    while let Some(b) = eco.next_block() {
        blk.push(&b.bytes)?;
        truth.block(&b.truth)?;
        if !b.truth.stolen.is_empty() {
            heist_height.get_or_insert(b.truth.height);
        }
        cashouts += b.truth.cashouts.len() as u64;
        progress.block(eco.stats.blocks, total, &eco.stats);
    }
    blk.finish()?;
    truth.finish()?;
    let st = &eco.stats;
    let kinds = |v: &[u64; 4]| {
        crate::keys::Kind::ALL
            .iter()
            .map(|k| (k.name().to_string(), v[k.index()]))
            .collect()
    };
    let summary = Summary {
        seed: params.seed,
        blocks: st.blocks,
        txs: st.txs,
        users: params.users,
        entities: eco.entities().len() as u64,
        bytes: st.bytes,
        tx_kinds: st
            .by_kind
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        inputs_by_type: kinds(&st.inputs_by_kind),
        outputs_by_type: kinds(&st.outputs_by_kind),
        heist_height,
        victim: heist_height.map(|_| EXCHANGES[0].to_string()),
        stolen_sats: st.stolen,
        cashed_out_sats: st.cashed_out,
        cashouts,
        xor: xor.iter().map(|b| format!("{b:02x}")).collect(),
        seconds: t.elapsed().as_secs_f64(),
    };
    let json = serde_json::to_string_pretty(&summary).map_err(io::Error::other)?;
    std::fs::write(dir.join("truth/summary.json"), json + "\n")?;
    Ok(summary)
}
