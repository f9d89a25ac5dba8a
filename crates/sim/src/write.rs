//! Serializing transactions and blocks, and writing them as Bitcoin Core
//! block files.

use chainhound_chain::hash::sha256d;
use chainhound_chain::parse::merkle_root;
use chainhound_chain::Network;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Appends a Bitcoin varint.
pub fn varint(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=0xfc => out.push(n as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

/// An input to serialize.
#[derive(Debug, Clone)]
pub struct In {
    /// Previous txid (internal order).
    pub txid: [u8; 32],
    /// Previous output index.
    pub vout: u32,
    /// scriptSig.
    pub script_sig: Vec<u8>,
    /// Witness stack (empty: none).
    pub witness: Vec<Vec<u8>>,
}

/// A transaction to serialize: (inputs, outputs as (value, script)).
#[derive(Debug, Clone)]
pub struct TxSpec {
    /// Inputs.
    pub ins: Vec<In>,
    /// Outputs.
    pub outs: Vec<(u64, Vec<u8>)>,
}

impl TxSpec {
    /// Serializes; returns (bytes with witness, txid).
    pub fn serialize(&self) -> (Vec<u8>, [u8; 32]) {
        let has_wit = self.ins.iter().any(|i| !i.witness.is_empty());
        let mut body = Vec::new();
        varint(&mut body, self.ins.len() as u64);
        for i in &self.ins {
            body.extend_from_slice(&i.txid);
            body.extend_from_slice(&i.vout.to_le_bytes());
            varint(&mut body, i.script_sig.len() as u64);
            body.extend_from_slice(&i.script_sig);
            body.extend_from_slice(&0xffff_fffdu32.to_le_bytes());
        }
        varint(&mut body, self.outs.len() as u64);
        for (v, s) in &self.outs {
            body.extend_from_slice(&v.to_le_bytes());
            varint(&mut body, s.len() as u64);
            body.extend_from_slice(s);
        }
        let version = 2u32.to_le_bytes();
        let lock = 0u32.to_le_bytes();
        let mut nowit = Vec::with_capacity(body.len() + 8);
        nowit.extend_from_slice(&version);
        nowit.extend_from_slice(&body);
        nowit.extend_from_slice(&lock);
        let txid = sha256d(&nowit);
        if !has_wit {
            return (nowit, txid);
        }
        let mut full = Vec::with_capacity(nowit.len() + 64);
        full.extend_from_slice(&version);
        full.extend_from_slice(&[0, 1]);
        full.extend_from_slice(&body);
        for i in &self.ins {
            varint(&mut full, i.witness.len() as u64);
            for item in &i.witness {
                varint(&mut full, item.len() as u64);
                full.extend_from_slice(item);
            }
        }
        full.extend_from_slice(&lock);
        (full, txid)
    }
}

/// Builds a block on `prev` from serialized transactions (coinbase first)
/// and grinds the nonce to meet the regtest target. Returns (bytes, hash).
pub fn block<T: AsRef<[u8]>>(
    prev: [u8; 32],
    time: u32,
    txs: &[(T, [u8; 32])],
) -> (Vec<u8>, [u8; 32]) {
    let root = merkle_root(txs.iter().map(|t| t.1).collect());
    let bits = Network::Regtest.pow_limit_bits();
    let mut hdr = Vec::with_capacity(80);
    hdr.extend_from_slice(&0x2000_0000u32.to_le_bytes());
    hdr.extend_from_slice(&prev);
    hdr.extend_from_slice(&root);
    hdr.extend_from_slice(&time.to_le_bytes());
    hdr.extend_from_slice(&bits.to_le_bytes());
    hdr.extend_from_slice(&0u32.to_le_bytes());
    let mut nonce = 0u32;
    let hash = loop {
        hdr[76..80].copy_from_slice(&nonce.to_le_bytes());
        let h = sha256d(&hdr);
        // Regtest target 0x7fffff << 232: the top bit of the hash must be clear.
        if h[31] < 0x80 {
            break h;
        }
        nonce += 1;
    };
    let mut out = hdr;
    varint(&mut out, txs.len() as u64);
    for (raw, _) in txs {
        out.extend_from_slice(raw.as_ref());
    }
    (out, hash)
}

/// Bitcoin Core's largest block file, 128 MiB.
pub const BLK_FILE_SIZE: u64 = 128 << 20;

/// Writes blocks as Bitcoin Core does, as they come: `blocks/blk%05d.dat`
/// files of records (magic, size, block) up to a size limit, XORed by file
/// offset with the key it also writes to `blocks/xor.dat` (all zero: no
/// obfuscation).
pub struct BlkWriter {
    dir: PathBuf,
    xor: [u8; 8],
    magic: [u8; 4],
    file_size: u64,
    n: u32,
    len: u64,
    file: Option<BufWriter<File>>,
    scratch: Vec<u8>,
}

impl BlkWriter {
    /// A writer into `datadir/blocks`, starting files after `file_size`
    /// bytes ([`BLK_FILE_SIZE`] as Core does).
    pub fn new(
        datadir: &Path,
        network: Network,
        xor: [u8; 8],
        file_size: u64,
    ) -> io::Result<BlkWriter> {
        let dir = datadir.join("blocks");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("xor.dat"), xor)?;
        Ok(BlkWriter {
            dir,
            xor,
            magic: network.magic(),
            file_size,
            n: 0,
            len: 0,
            file: None,
            scratch: Vec::new(),
        })
    }

    fn finish_file(&mut self) -> io::Result<()> {
        if let Some(f) = self.file.take() {
            let f = f.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
        }
        Ok(())
    }

    /// Appends one block.
    pub fn push(&mut self, block: &[u8]) -> io::Result<()> {
        let rec = 8 + block.len() as u64;
        if self.file.is_some() && self.len + rec > self.file_size {
            self.finish_file()?;
            self.n += 1;
            self.len = 0;
        }
        if self.file.is_none() {
            let p = self.dir.join(format!("blk{:05}.dat", self.n));
            self.file = Some(BufWriter::with_capacity(1 << 20, File::create(p)?));
        }
        self.scratch.clear();
        self.scratch.extend_from_slice(&self.magic);
        self.scratch
            .extend_from_slice(&(block.len() as u32).to_le_bytes());
        self.scratch.extend_from_slice(block);
        if self.xor != [0; 8] {
            for (i, b) in self.scratch.iter_mut().enumerate() {
                *b ^= self.xor[(self.len as usize + i) % 8];
            }
        }
        self.file.as_mut().expect("open").write_all(&self.scratch)?;
        self.len += rec;
        Ok(())
    }

    /// Flushes and syncs the last file.
    pub fn finish(mut self) -> io::Result<()> {
        self.finish_file()
    }
}

/// Writes blocks as `dir/blocks/blk00000.dat` (split every `file_size`
/// bytes), with `xor.dat` holding `xor` (all zero: no obfuscation).
pub fn write_blocks(
    dir: &Path,
    network: Network,
    blocks: &[Vec<u8>],
    xor: [u8; 8],
    file_size: u64,
) -> io::Result<()> {
    let mut w = BlkWriter::new(dir, network, xor, file_size)?;
    for b in blocks {
        w.push(b)?;
    }
    w.finish()
}
