//! Per-block figures of block files whose blocks need not form a chain.
//!
//! Owns: parsing every record of a [`Source`] on its own (no header tree,
//! no index) and counting what forensics cares about per block. Damaged
//! records become warnings; every intact block is reported.

use crate::source::{Source, Warning};
use chainhound_chain::{address, classify, Block, BlockHash, Network, ScriptType};
use serde::Serialize;
use std::path::PathBuf;

/// Figures of one block.
#[derive(Debug, Clone, Serialize)]
pub struct BlockFigures {
    /// The file.
    pub file: PathBuf,
    /// Offset of the record (its magic).
    pub offset: u64,
    /// Network of the record's magic.
    pub network: Network,
    /// Block hash.
    pub hash: BlockHash,
    /// Height claimed by the coinbase (BIP34, version 2 and later).
    pub height: Option<u32>,
    /// Header time.
    pub time: u32,
    /// Size in bytes.
    pub size: usize,
    /// Transactions.
    pub txs: usize,
    /// Inputs, coinbase inputs included.
    pub inputs: usize,
    /// Outputs.
    pub outputs: usize,
    /// Transactions serialized with witness data.
    pub segwit_txs: usize,
    /// Pay-to-taproot outputs.
    pub taproot_outputs: usize,
    /// Printable text of the coinbase scriptSig.
    pub coinbase_text: String,
    /// Coinbase scriptSig, hex.
    pub coinbase_hex: String,
    /// Address of each coinbase output that has one, in output order, for
    /// the record's network: the miner's payout addresses.
    pub payout_addresses: Vec<String>,
}

/// Addresses of the coinbase outputs of `block` (those that have one), in
/// output order.
pub fn payout_addresses(block: &Block<'_>, network: Network) -> Vec<String> {
    let Some(cb) = block.txs.first() else {
        return Vec::new();
    };
    block
        .tx_outputs(cb)
        .iter()
        .filter_map(|o| classify(o.script_pubkey).1)
        .map(|k| address::encode(&k, network))
        .collect()
}

/// Figures of one parsed block.
pub fn figures(block: &Block<'_>) -> (usize, usize, usize, usize, usize) {
    let segwit = block.txs.iter().filter(|t| t.has_witness).count();
    let taproot = block
        .outputs
        .iter()
        .filter(|o| classify(o.script_pubkey).0 == ScriptType::P2tr)
        .count();
    (
        block.txs.len(),
        block.inputs.len(),
        block.outputs.len(),
        segwit,
        taproot,
    )
}

/// Scans every record of `source`, calling `each` per intact block.
pub fn scan(source: &Source, mut each: impl FnMut(BlockFigures)) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let mut buf = Vec::new();
    for file in &source.files {
        let mut recs = Vec::new();
        warnings.extend(file.records(|r| recs.push(r)));
        for r in recs {
            let Some(bytes) = file.bytes(r.offset, r.size as usize, &mut buf) else {
                continue;
            };
            match Block::parse(bytes) {
                Ok(b) => {
                    if r.size_trusted && b.size != r.size as usize {
                        warnings.push(Warning {
                            file: file.path.clone(),
                            offset: r.offset - 8,
                            message: format!(
                                "record size field says {} bytes, block {} is {}",
                                r.size, b.hash, b.size
                            ),
                        });
                    }
                    let (txs, inputs, outputs, segwit_txs, taproot_outputs) = figures(&b);
                    each(BlockFigures {
                        file: file.path.clone(),
                        offset: r.offset - 8,
                        network: r.network,
                        hash: b.hash,
                        height: b.bip34_height(),
                        time: b.header.time,
                        size: b.size,
                        txs,
                        inputs,
                        outputs,
                        segwit_txs,
                        taproot_outputs,
                        coinbase_text: crate::query::printable(b.coinbase_script()),
                        coinbase_hex: chainhound_chain::hash::to_hex(b.coinbase_script()),
                        payout_addresses: payout_addresses(&b, r.network),
                    });
                }
                Err(e) => warnings.push(Warning {
                    file: file.path.clone(),
                    offset: r.offset + e.offset as u64,
                    message: format!(
                        "damaged block in record at offset {}: {e}; skipped",
                        r.offset - 8
                    ),
                }),
            }
        }
    }
    warnings
}
