//! The manifest: the one file that says what the index holds.
//!
//! Every other file is only meaningful up to the lengths the manifest
//! gives. A commit writes the manifest to a temporary file in the same
//! folder, syncs it, renames it over `manifest.json` and syncs the folder,
//! so a reader or a restarted writer sees either the old or the new one,
//! never half of either.

use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Current on-disk format. Bump on any layout change.
pub const FORMAT: u32 = 7;

/// How many of each record the index holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Blocks (heights `0..blocks`).
    pub blocks: u32,
    /// Transactions.
    pub txs: u32,
    /// Outputs.
    pub outs: u64,
    /// Inputs.
    pub ins: u64,
    /// Distinct addresses.
    pub addrs: u32,
    /// Bytes of coinbase scripts.
    pub coinbase_bytes: u64,
    /// Outputs whose value does not fit 32 bits (`out_big.col`).
    #[serde(default)] // absent from format 2 manifests, which then get the format error
    pub big_values: u64,
    /// Bytes of address key bodies (`addr_key.blob`).
    #[serde(default)] // absent from format 2 manifests, which then get the format error
    pub key_bytes: u64,
    /// Outputs that have a previous output of their address (`out_prev.col`).
    #[serde(default)] // absent before format 5, whose manifests then get the format error
    pub links: u64,
    /// Transactions of 255 outputs or inputs or more (`tx_big.col`).
    #[serde(default)] // absent before format 6, whose manifests then get the format error
    pub big_txs: u64,
    /// Inputs whose output is out of reach of their `in_out` code (`in_big.col`).
    #[serde(default)] // absent before format 7, whose manifests then get the format error
    pub big_ins: u64,
    /// Linked outputs whose previous output is out of reach of their
    /// `out_prev` code (`prev_big.col`).
    #[serde(default)] // absent before format 7, whose manifests then get the format error
    pub big_prevs: u64,
}

/// The manifest's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// On-disk format version.
    pub format: u32,
    /// Network name.
    pub network: String,
    /// Keys of the keyed hash that places table entries (random per index,
    /// so crafted txids or addresses cannot be aimed at one slot).
    pub seed: [u64; 2],
    /// Committed records.
    pub counts: Counts,
    /// Generation of the txid table file (`txid.<gen>.tbl`).
    pub txid_table: u32,
    /// Generation of the address table file (`addr.<gen>.tbl`).
    pub addr_table: u32,
    /// Set while a rollback to these counts is being carried out.
    pub pending_rollback: Option<Counts>,
}

impl Manifest {
    /// Reads `dir/manifest.json`; `None` if absent.
    pub fn load(dir: &Path) -> io::Result<Option<Manifest>> {
        let p = dir.join("manifest.json");
        let text = match fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let m: Manifest = serde_json::from_str(&text).map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", p.display()))
        })?;
        Ok(Some(m))
    }

    /// Atomically replaces `dir/manifest.json`.
    pub fn save(&self, dir: &Path) -> io::Result<()> {
        let tmp = dir.join("manifest.json.tmp");
        let mut f = File::create(&tmp)?;
        f.write_all(
            serde_json::to_string_pretty(self)
                .expect("manifest serializes")
                .as_bytes(),
        )?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, dir.join("manifest.json"))?;
        File::open(dir)?.sync_all()
    }
}
