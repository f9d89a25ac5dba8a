//! The on-disk index: fixed-width memory-mapped columns, two hash tables and
//! a manifest (the layout, byte by byte, is in `docs/layout.md`).
//!
//! Owns: creating, opening, appending to, committing, recovering and rolling
//! back the index directory. Every record is addressed by a dense id:
//! heights for blocks, [`TxNum`] for transactions, [`OutId`] for outputs,
//! input ids, and [`AddrId`] for addresses, all in chain order.
//!
//! Crash safety (tested by killing ingest with SIGKILL): appended records
//! only count once the manifest says so; values that change in place
//! (`out_spent`, `addr_head`, the kind bytes of the last address group, the
//! bits of the last `out_link` record, the count bytes of the last `tx_out`
//! and `tx_in` records and the type nibbles of the last `out_type` byte)
//! are either checked against committed counts
//! by every reader, or written only after the records they point to are on
//! disk. A writer that finds the `WRITING` marker of an interrupted run
//! repairs those values before it goes on, so the index it ends with is the
//! one an uninterrupted run makes.
//!
//! Must not: read block files or decide which chain is best (`ingest` does).

mod column;
mod links;
use links::Link;
mod manifest;
mod spans;
use spans::Side;
pub mod spends;
pub mod table;
mod wide;

pub use manifest::{Counts, Manifest, FORMAT};
pub use table::HELD_BYTES;

use chainhound_chain::{AddressKey, BlockHash, Network, ScriptType, Txid};
use column::Column;
use siphasher::sip::SipHasher13;
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::hash::Hasher;
use std::io;
use std::path::{Path, PathBuf};
use table::{Batched, NoRoom, Table};

/// A transaction's number: its position in the chain (0 is the genesis coinbase).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct TxNum(pub u32);

/// An output's id: its position among all outputs, in chain order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct OutId(pub u64);

/// An address's id: its position in order of first appearance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct AddrId(pub u32);

/// Slots of the txid and address tables of an index of `txs` transactions
/// and `addrs` addresses, as an ingest of the whole chain sizes them (for
/// projections; see [`Store::reserve`]).
pub fn table_slots(txs: u64, addrs: u64) -> (u64, u64) {
    let txid = Table::capacity_for(txs);
    let mut addr = Table::capacity_for(txs + txs / 4);
    let (num, den) = table::MAX_LOAD;
    // Grown by 1.5 times the entries whenever it passes the maximum load.
    while addrs * den > addr * num && addr < Table::MAX_CAPACITY {
        addr = Table::capacity_for((addr * num / den) * 3 / 2).min(Table::MAX_CAPACITY);
    }
    (txid, addr)
}

/// `u40` "none" value (no previous output, coinbase input).
pub const NONE40: u64 = (1 << 40) - 1;
/// `in_out` value of an input whose previous output was not found.
pub const UNRESOLVED40: u64 = (1 << 40) - 2;
/// Address id meaning "none" (an `OP_RETURN` output's) inside the store.
pub const NO_ADDR: u32 = u32::MAX;
/// `out_spent` value of an unspent output.
pub const UNSPENT: u32 = u32::MAX;

/// An error of the index store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No index in this directory.
    #[error("no chainhound index in {0} (run `chainhound ingest` first)")]
    Missing(PathBuf),
    /// File system error, with the file.
    #[error("{path}: {cause}")]
    Io {
        /// File or directory.
        path: PathBuf,
        /// Cause (in the message, not a `source()`: printed once).
        cause: io::Error,
    },
    /// The index was written by another format version.
    #[error("{dir}: index format {found}, this chainhound reads format {expected}; re-ingest into a new directory")]
    Format {
        /// Directory.
        dir: PathBuf,
        /// Format found.
        found: u32,
        /// Format supported.
        expected: u32,
    },
    /// The index holds another network.
    #[error("the index in {dir} holds {found}, the input is {wanted}")]
    Network {
        /// Directory.
        dir: PathBuf,
        /// Network of the index.
        found: String,
        /// Network of the input.
        wanted: Network,
    },
    /// Another process is writing this index.
    #[error("{0} is being written by another chainhound process")]
    Locked(PathBuf),
    /// The index exceeds what its id widths can address.
    #[error("index full: {0}")]
    Full(&'static str),
    /// An append or a sweep of the tables failed part-way, so what was
    /// written since the last commit cannot be committed.
    #[error("an earlier write to the index failed part-way; open it again (it repairs itself) before writing more")]
    Failed,
}

impl StoreError {
    /// The file system refused to grow a file for want of space: none left,
    /// or a quota. The index keeps what it committed; freeing space and
    /// running again goes on from there.
    pub fn is_disk_full(&self) -> bool {
        use io::ErrorKind::{QuotaExceeded, StorageFull};
        matches!(self, StoreError::Io { cause, .. }
            if matches!(cause.kind(), StorageFull | QuotaExceeded))
    }

    /// A file would pass the largest size allowed: the file system's (FAT32:
    /// 4 GB) or the process's (`ulimit -f`). Running again hits it again.
    pub fn is_file_too_large(&self) -> bool {
        matches!(self, StoreError::Io { cause, .. } if cause.kind() == io::ErrorKind::FileTooLarge)
    }
}

/// `Result` of the store.
pub type Result<T> = std::result::Result<T, StoreError>;

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |cause| StoreError::Io {
        path: path.to_path_buf(),
        cause,
    }
}

/// The columns, in file order. `docs/layout.md` documents each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Col {
    /// Block hash, 32 bytes, per block.
    BlkHash,
    /// Block header fields and first ids, 40 bytes, per block.
    BlkInfo,
    /// Txid, 32 bytes, per transaction.
    TxTxid,
    /// Per 59 transactions: the first output id, then each one's output
    /// count ([`spans`]); 64 bytes.
    TxOut,
    /// The same for inputs.
    TxIn,
    /// Value in satoshis, u32, per output (all ones: see `OutBig`).
    OutValue,
    /// Address id, u32, per linked output ([`Col::OutLink`]); the others'
    /// addresses are implied.
    OutAddr,
    /// Script type, 4 bits per output (two a byte, the first output in
    /// the low bits).
    OutType,
    /// Spending transaction, u32, per output.
    OutSpent,
    /// Previous output of the same address, per output that has one (the
    /// outputs flagged in [`Col::OutLink`], in output order): how far back,
    /// u32 ([`wide::prev_code`]; the rare one farther is in `PrevBig`).
    OutPrev,
    /// Output spent, a u32 code per input ([`wide::in_code`]; the rare
    /// output out of its reach is in `InBig`).
    InOut,
    /// Address groups: per 32 addresses, the offset in `AddrBody` of the
    /// first one's key body (u64) and their 32 kind bytes; 40 bytes.
    AddrGrp,
    /// Latest output of the address, u40, per address.
    AddrHead,
    /// Coinbase scripts, concatenated.
    Coinbase,
    /// Wallet fingerprint of the transaction ([`TxMeta`]), 1 byte per tx.
    TxMeta,
    /// Values of 2^32 - 1 satoshis or more: (output id u64, value u64), in
    /// output order.
    OutBig,
    /// Address key bodies ([`AddressKey::compact`]), concatenated.
    AddrBody,
    /// Per 64 outputs: which pay a new address and which one seen before
    /// ([`links`]); 32 bytes.
    OutLink,
    /// Output and input counts of 255 or more: (tx u32, outputs u32,
    /// inputs u32), in transaction order ([`spans`]).
    TxBig,
    /// Outputs spent out of the reach of `InOut`'s codes: (input id u64,
    /// output id u64), in input order.
    InBig,
    /// Previous outputs 2^32 - 1 outputs back or more: (output id u64,
    /// previous output id u64), in output order.
    PrevBig,
}

/// Addresses per record of [`Col::AddrGrp`].
pub const KEY_GROUP: u64 = 32;

impl Col {
    /// Does appending read this column at places other than its end (spends
    /// found through `tx_txid` and `tx_out`, address keys confirmed, marks
    /// and heads changed in place)? The others' pages are given back to the
    /// kernel once written (see [`Column::start_writeback`]).
    pub fn read_while_appending(self) -> bool {
        matches!(
            self,
            Col::TxTxid
                | Col::TxOut
                | Col::TxBig
                | Col::OutSpent
                | Col::AddrGrp
                | Col::AddrBody
                | Col::AddrHead
        )
    }

    /// Every column.
    pub const ALL: [Col; 21] = [
        Col::BlkHash,
        Col::BlkInfo,
        Col::TxTxid,
        Col::TxOut,
        Col::TxIn,
        Col::OutValue,
        Col::OutAddr,
        Col::OutType,
        Col::OutSpent,
        Col::OutPrev,
        Col::InOut,
        Col::AddrGrp,
        Col::AddrHead,
        Col::Coinbase,
        Col::TxMeta,
        Col::OutBig,
        Col::AddrBody,
        Col::OutLink,
        Col::TxBig,
        Col::InBig,
        Col::PrevBig,
    ];

    /// File name.
    pub fn file_name(self) -> &'static str {
        match self {
            Col::BlkHash => "blk_hash.col",
            Col::BlkInfo => "blk_info.col",
            Col::TxTxid => "tx_txid.col",
            Col::TxOut => "tx_out.col",
            Col::TxIn => "tx_in.col",
            Col::OutValue => "out_value.col",
            Col::OutAddr => "out_addr.col",
            Col::OutType => "out_type.col",
            Col::OutSpent => "out_spent.col",
            Col::OutPrev => "out_prev.col",
            Col::InOut => "in_out.col",
            Col::AddrGrp => "addr_grp.col",
            Col::AddrHead => "addr_head.col",
            Col::Coinbase => "coinbase.blob",
            Col::TxMeta => "tx_meta.col",
            Col::OutBig => "out_big.col",
            Col::AddrBody => "addr_key.blob",
            Col::OutLink => "out_link.col",
            Col::TxBig => "tx_big.col",
            Col::InBig => "in_big.col",
            Col::PrevBig => "prev_big.col",
        }
    }

    /// Bytes per record.
    pub fn width(self) -> u64 {
        match self {
            Col::BlkHash | Col::TxTxid => 32,
            Col::BlkInfo => BLK_INFO_SIZE as u64,
            Col::AddrHead => 5,
            Col::TxOut | Col::TxIn => spans::WIDTH,
            Col::TxBig => spans::BIG_WIDTH,
            Col::OutAddr | Col::OutSpent | Col::OutValue | Col::InOut | Col::OutPrev => 4,
            Col::OutType | Col::Coinbase | Col::TxMeta | Col::AddrBody => 1,
            Col::OutBig | Col::InBig | Col::PrevBig => wide::ENTRY as u64,
            Col::OutLink => links::WIDTH,
            Col::AddrGrp => 8 + KEY_GROUP,
        }
    }

    /// Committed bytes for these counts.
    pub fn len_for(self, c: &Counts) -> u64 {
        let n = match self {
            Col::BlkHash | Col::BlkInfo => c.blocks as u64,
            Col::TxTxid | Col::TxMeta => c.txs as u64,
            Col::TxOut | Col::TxIn => (c.txs as u64).div_ceil(spans::GROUP),
            Col::TxBig => c.big_txs,
            Col::OutValue | Col::OutSpent => c.outs,
            Col::OutType => c.outs.div_ceil(2),
            Col::OutPrev | Col::OutAddr => c.links,
            Col::OutLink => c.outs.div_ceil(links::GROUP),
            Col::InOut => c.ins,
            Col::AddrHead => c.addrs as u64,
            Col::Coinbase => c.coinbase_bytes,
            Col::OutBig => c.big_values,
            Col::InBig => c.big_ins,
            Col::PrevBig => c.big_prevs,
            Col::AddrBody => c.key_bytes,
            Col::AddrGrp => (c.addrs as u64).div_ceil(KEY_GROUP),
        };
        n * self.width()
    }
}

const BLK_INFO_SIZE: usize = 40;

/// What the index keeps of a block header (the hash is in its own column).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BlockInfo {
    /// Header version.
    pub version: i32,
    /// Header time.
    pub time: u32,
    /// Compact target.
    pub bits: u32,
    /// Nonce.
    pub nonce: u32,
    /// First transaction.
    pub first_tx: u32,
    /// Address count before this block.
    pub first_addr: u32,
    /// Serialized size in bytes.
    pub size: u32,
    /// Offset of the coinbase script in the blob.
    pub cb_off: u64,
}

impl BlockInfo {
    fn to_bytes(self) -> [u8; BLK_INFO_SIZE] {
        let mut b = [0u8; BLK_INFO_SIZE];
        let words = [
            self.version as u32,
            self.time,
            self.bits,
            self.nonce,
            self.first_tx,
            self.first_addr,
            self.size,
            0,
        ];
        for (i, w) in words.iter().enumerate() {
            b[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
        }
        b[32..40].copy_from_slice(&self.cb_off.to_le_bytes());
        b
    }

    fn from_bytes(b: &[u8]) -> BlockInfo {
        let w = |i: usize| u32::from_le_bytes(b[i * 4..i * 4 + 4].try_into().expect("4 bytes"));
        BlockInfo {
            version: w(0) as i32,
            time: w(1),
            bits: w(2),
            nonce: w(3),
            first_tx: w(4),
            first_addr: w(5),
            size: w(6),
            cb_off: u64::from_le_bytes(b[32..40].try_into().expect("8 bytes")),
        }
    }
}

/// A block made ready for the store by the parsing stage: hashes computed,
/// scripts classified.
#[derive(Debug, Clone, Default)]
pub struct PreparedBlock {
    /// Block hash.
    pub hash: BlockHash,
    /// Header fields.
    pub info: BlockInfo,
    /// The coinbase scriptSig.
    pub coinbase: Vec<u8>,
    /// Transactions.
    pub txs: Vec<PreparedTx>,
    /// Inputs of all transactions in order.
    pub ins: Vec<PreparedIn>,
    /// Outputs of all transactions in order.
    pub outs: Vec<PreparedOut>,
}

/// A transaction of a [`PreparedBlock`].
#[derive(Debug, Clone)]
pub struct PreparedTx {
    /// Its id.
    pub txid: Txid,
    /// Table hash of the txid.
    pub hash: u64,
    /// Number of inputs.
    pub n_in: u32,
    /// Number of outputs.
    pub n_out: u32,
    /// Wallet fingerprint.
    pub meta: TxMeta,
}

/// The wallet fingerprint of a transaction, one byte: what its nVersion,
/// nLockTime and nSequence fields say about the wallet that made it (the
/// fields themselves are not kept).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct TxMeta(pub u8);

impl TxMeta {
    /// nVersion is 1.
    pub const VERSION_1: u8 = 1;
    /// nVersion is 2.
    pub const VERSION_2: u8 = 1 << 1;
    /// nLockTime is a block height (1 to 499,999,999).
    pub const LOCKTIME_HEIGHT: u8 = 1 << 2;
    /// nLockTime is a time (500,000,000 or more).
    pub const LOCKTIME_TIME: u8 = 1 << 3;
    /// Some input signals replace-by-fee (nSequence below 0xfffffffe).
    pub const RBF: u8 = 1 << 4;
    /// Every input's nSequence is 0xffffffff.
    pub const FINAL: u8 = 1 << 5;
    /// It carries a witness.
    pub const SEGWIT: u8 = 1 << 6;

    /// The fingerprint of a transaction's fields.
    pub fn of(
        version: i32,
        lock_time: u32,
        sequences: impl Iterator<Item = u32>,
        segwit: bool,
    ) -> TxMeta {
        let mut m = match version {
            1 => Self::VERSION_1,
            2 => Self::VERSION_2,
            _ => 0,
        };
        m |= match lock_time {
            0 => 0,
            1..=499_999_999 => Self::LOCKTIME_HEIGHT,
            _ => Self::LOCKTIME_TIME,
        };
        let (mut rbf, mut fin) = (false, true);
        for s in sequences {
            rbf |= s < 0xffff_fffe;
            fin &= s == 0xffff_ffff;
        }
        if rbf {
            m |= Self::RBF;
        }
        if fin {
            m |= Self::FINAL;
        }
        if segwit {
            m |= Self::SEGWIT;
        }
        TxMeta(m)
    }

    /// Whether a flag is set.
    pub fn has(self, flag: u8) -> bool {
        self.0 & flag != 0
    }

    /// The fields a wallet chooses (version, locktime kind, sequences),
    /// without the segwit bit, which follows the coins spent.
    pub fn wallet(self) -> u8 {
        self.0 & !Self::SEGWIT
    }
}

/// An input of a [`PreparedBlock`].
#[derive(Debug, Clone)]
pub struct PreparedIn {
    /// Previous txid (ignored for coinbase inputs).
    pub prev_txid: Txid,
    /// Table hash of the previous txid.
    pub prev_hash: u64,
    /// The spend cache's key of the outpoint spent ([`spends::key`]),
    /// made by the parsing stage, off the appending thread.
    pub spend_key: u64,
    /// Previous output index.
    pub vout: u32,
    /// Is this the coinbase input?
    pub coinbase: bool,
}

/// An output of a [`PreparedBlock`].
#[derive(Debug, Clone)]
pub struct PreparedOut {
    /// Value in satoshis.
    pub value: u64,
    /// Script type.
    pub script_type: ScriptType,
    /// The spend cache's key of this outpoint ([`spends::key`] of its tx's
    /// table hash and its index).
    pub spend_key: u64,
    /// Address key, in its stored form.
    pub key: Option<PreparedKey>,
}

/// An address key in the form the store keeps it, made by the parsing stage
/// so that the appending stage only copies it.
#[derive(Debug, Clone)]
pub struct PreparedKey {
    /// Table hash of the key.
    pub hash: u64,
    /// Its kind byte ([`AddressKey::kind_byte`]).
    pub kind: u8,
    /// Bytes of `body` in use.
    pub len: u8,
    /// Its compact body ([`AddressKey::compact`]).
    pub body: [u8; 33],
}

impl PreparedKey {
    /// The stored form of `key`.
    pub fn new(key: &AddressKey, hasher: &KeyHasher) -> PreparedKey {
        let (body, len) = key.compact();
        PreparedKey {
            hash: hasher.addr(key),
            kind: key.kind_byte(),
            len: len as u8,
            body,
        }
    }

    /// The compact body.
    pub fn body(&self) -> &[u8] {
        &self.body[..self.len as usize]
    }
}

/// The keyed hash that places txids and address keys in the tables.
#[derive(Debug, Clone, Copy)]
pub struct KeyHasher([u64; 2]);

impl KeyHasher {
    /// Hash of a byte string.
    pub fn hash(&self, bytes: &[u8]) -> u64 {
        let mut h = SipHasher13::new_with_keys(self.0[0], self.0[1]);
        h.write(bytes);
        h.finish()
    }

    /// Hash of a txid.
    pub fn txid(&self, t: &Txid) -> u64 {
        self.hash(&t.0)
    }

    /// Hash of an address key.
    pub fn addr(&self, k: &AddressKey) -> u64 {
        self.hash(&k.to_bytes())
    }
}

/// An open index: the reader, and with `open_writer`, the writer too.
pub struct Store {
    dir: PathBuf,
    manifest: Manifest,
    network: Network,
    cols: Vec<Column>,
    txid_tbl: Batched,
    addr_tbl: Batched,
    /// Records in the columns (committed, plus appended so far by a writer).
    cur: Counts,
    writer: Option<WriterState>,
    /// Bytes appended since the append-only columns' last writeback start.
    appended: u64,
    /// Appended bytes between two writeback starts ([`WRITEBACK_EVERY`]).
    writeback_every: u64,
    /// Give the pages of columns never read while appending back once
    /// written ([`Store::set_drop_behind`]).
    drop_behind: bool,
    /// Bytes of written columns given back to the kernel by this store.
    given_back: u64,
    /// During an append, the block's first transaction and the ends of its
    /// outputs and inputs to come (ranges of its transactions may reach
    /// them before they are written); `(u32::MAX, 0, 0)` otherwise.
    pending: (u32, u64, u64),
    /// Transactions of the chain being indexed ([`Store::reserve`]; 0:
    /// unknown): the address table is sized for it once a sixteenth of it
    /// shows how many addresses a transaction brings.
    planned_txs: u64,
}

/// `start..end` cut to `0..count`, and empty if reversed: the ranges read
/// from a damaged index stay within the records there are.
fn within<T: Copy + Ord>(start: T, end: T, count: T) -> std::ops::Range<T> {
    let s = start.min(count);
    s..end.clamp(s, count)
}

/// The keys of a hash table.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keys {
    /// `tx_txid` → `TxNum` (`txid.<gen>.tbl`).
    Txids,
    /// Address keys → `AddrId` (`addr.<gen>.tbl`).
    Addresses,
}

/// No append under way (`Store::pending`).
const NO_PENDING: (u32, u64, u64) = (u32::MAX, 0, 0);

/// The address table is sized for the planned chain when a
/// `1/PROJECT_AT` of it is indexed ([`Store::reserve`]).
const PROJECT_AT: u64 = 16;

/// Ids a table rebuild sweeps in at a time (4 Mi: 32 MB of hashes and
/// twice as much scratch).
const REBUILD_CHUNK: usize = 1 << 22;

/// Appended bytes between two starts of the columns' writeback (see
/// [`Column::start_writeback`]), by default.
pub const WRITEBACK_EVERY: u64 = 32 << 20;

/// Hasher for the writer's in-memory maps: one multiply for dense integer
/// ids; none for 64-bit keys, which are already keyed hashes (`spends`).
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ *b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = (v as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type IdMap<V> = HashMap<u32, V, std::hash::BuildHasherDefault<IdHasher>>;

struct WriterState {
    _lock: File,
    /// Head updates of addresses that existed at the last commit; applied
    /// only after the outputs they point to are on disk.
    deferred_heads: IdMap<u64>,
    /// Problems met while appending (double spends, unknown prevouts).
    warnings: Vec<String>,
    /// Scratch of [`Store::find_spent`], kept between blocks: (input, id)
    /// candidates, the latest matching id per input, and the result.
    candidates: Vec<(u32, u32)>,
    best: Vec<u32>,
    spent: Vec<u64>,
    /// Outputs appended by this writer and not yet spent, by outpoint.
    spends: spends::SpendCache,
    /// An append or a table sweep failed part-way: no commit may follow.
    failed: bool,
}

/// Candidates of one spend whose rows [`Store::find_spent`] fetches before
/// checking them; further ones (a txid repeated by crafted blocks) are
/// checked as the probe meets them, so scratch memory stays within four
/// entries per input.
const DEFERRED_CANDIDATES: u32 = 4;

/// How many outputs ahead of the one being written [`Store::append`]
/// fetches an address key's table slot: far enough for the fetch to arrive,
/// near enough for the slot to stay cached (4 to 32 measured alike, 8 in the
/// middle).
const ADDR_AHEAD: usize = 8;

/// How many inputs ahead of the one being resolved [`Store::find_spent`]
/// fetches the spend cache's slot (the first ones before its loop): once
/// the cache outgrows the CPU's caches, its lookups no longer wait on one
/// another's trip to memory. 8, 16 and 32 (with 1, 2 and 4 transactions
/// for [`TXS_AHEAD`]) measured alike at 10 million transactions.
const SPEND_AHEAD: usize = 16;

/// How many transactions ahead [`Store::find_spent`] fetches the spend
/// cache's slots its outputs will go to (at most [`OUTS_AHEAD_MAX`] of a
/// transaction's).
const TXS_AHEAD: usize = 2;
const OUTS_AHEAD_MAX: usize = 16;

/// What [`Store::find_spent`] says of a spend of a txid not indexed.
const SPENDS_UNKNOWN_TX: u64 = u64::MAX;
/// ... and of a spend of an output index past the tx's outputs.
const SPENDS_MISSING_OUTPUT: u64 = u64::MAX - 1;

fn no_room(_: NoRoom) -> StoreError {
    StoreError::Full("a hash table's run of full slots reached the end of its spare slots")
}

fn u40(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a[..5].copy_from_slice(&b[..5]);
    u64::from_le_bytes(a)
}

/// Output `o`'s script type from the byte it shares with its neighbour.
fn nibble(byte: u8, o: u64) -> u8 {
    if o.is_multiple_of(2) {
        byte & 15
    } else {
        byte >> 4
    }
}

fn u40_bytes(v: u64) -> [u8; 5] {
    let b = v.to_le_bytes();
    [b[0], b[1], b[2], b[3], b[4]]
}

/// Environment variable that fixes the table seed (tests compare index
/// directories byte for byte; never set it in production, where the seed
/// must be unpredictable).
pub const SEED_ENV: &str = "CHAINHOUND_TABLE_SEED";

fn random_seed() -> [u64; 2] {
    if let Some(s) = std::env::var(SEED_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        return [s, s ^ 0x5bd1_e995_5bd1_e995];
    }
    use std::collections::hash_map::RandomState;
    use std::hash::BuildHasher;
    let a = RandomState::new().hash_one(std::time::SystemTime::now());
    let b = RandomState::new().hash_one(std::process::id());
    [a, b]
}

const DIRTY: &str = "WRITING";

/// Environment variable naming a fail point, `NAME:K`: the process aborts
/// (as if killed) the K-th time it reaches NAME. For crash tests only.
pub const FAILPOINT_ENV: &str = "CHAINHOUND_FAILPOINT";

/// Aborts the process at the K-th visit of `name` if `CHAINHOUND_FAILPOINT`
/// asks for it. Fail points: `commit-after-appends`, `commit-after-heads`,
/// `rollback-undo`, `repair-start`, and in the table sweeps
/// `sweep-after-a-run`, `sweep-between-tables`. The variable is read once
/// per process (a sweep visits a fail point per run of slots, and `getenv`
/// takes a lock).
fn failpoint(name: &str) {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::OnceLock;
    static SPEC: OnceLock<Option<(String, u32)>> = OnceLock::new();
    static VISITS: AtomicU32 = AtomicU32::new(0);
    let spec = SPEC.get_or_init(|| {
        let spec = std::env::var(FAILPOINT_ENV).ok()?;
        let (n, k) = spec.split_once(':')?;
        Some((n.to_string(), k.parse().unwrap_or(0)))
    });
    let Some((n, k)) = spec else {
        return;
    };
    if n == name && VISITS.fetch_add(1, Ordering::SeqCst) + 1 == *k {
        std::process::abort();
    }
}

impl Store {
    /// Opens an index for reading.
    pub fn open(dir: &Path) -> Result<Store> {
        let manifest = Manifest::load(dir)
            .map_err(io_at(dir))?
            .ok_or_else(|| StoreError::Missing(dir.to_path_buf()))?;
        Self::open_with(dir, manifest, false)
    }

    fn open_with(dir: &Path, manifest: Manifest, writable: bool) -> Result<Store> {
        if manifest.format != FORMAT {
            return Err(StoreError::Format {
                dir: dir.to_path_buf(),
                found: manifest.format,
                expected: FORMAT,
            });
        }
        let network = Network::from_name(&manifest.network).ok_or_else(|| StoreError::Io {
            path: dir.join("manifest.json"),
            cause: io::Error::new(io::ErrorKind::InvalidData, "unknown network"),
        })?;
        let c = manifest.counts;
        let mut cols = Vec::with_capacity(Col::ALL.len());
        for col in Col::ALL {
            let p = dir.join(col.file_name());
            cols.push(Column::open(&p, col.len_for(&c), writable).map_err(io_at(&p))?);
        }
        let tp = dir.join(format!("txid.{}.tbl", manifest.txid_table));
        let ap = dir.join(format!("addr.{}.tbl", manifest.addr_table));
        let txid_tbl = Batched::new(Table::open(&tp, writable).map_err(io_at(&tp))?);
        let addr_tbl = Batched::new(Table::open(&ap, writable).map_err(io_at(&ap))?);
        Ok(Store {
            dir: dir.to_path_buf(),
            network,
            cols,
            txid_tbl,
            addr_tbl,
            cur: c,
            manifest,
            writer: None,
            appended: 0,
            writeback_every: WRITEBACK_EVERY,
            drop_behind: true,
            given_back: 0,
            pending: NO_PENDING,
            planned_txs: 0,
        })
    }

    /// Opens (creating if needed) an index for writing `network`. Repairs
    /// what an interrupted writer left, and finishes a pending rollback.
    pub fn open_writer(dir: &Path, network: Network) -> Result<Store> {
        fs::create_dir_all(dir).map_err(io_at(dir))?;
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_at(&lock_path))?;
        if lock.try_lock().is_err() {
            return Err(StoreError::Locked(dir.to_path_buf()));
        }
        let manifest = match Manifest::load(dir).map_err(io_at(dir))? {
            Some(m) => m,
            None => {
                let m = Manifest {
                    format: FORMAT,
                    network: network.name().into(),
                    seed: random_seed(),
                    counts: Counts::default(),
                    txid_table: 0,
                    addr_table: 0,
                    pending_rollback: None,
                };
                for (name, _) in [("txid", 0), ("addr", 0)] {
                    let p = dir.join(format!("{name}.0.tbl"));
                    Table::create(&p, Table::capacity_for(0)).map_err(io_at(&p))?;
                }
                m.save(dir).map_err(io_at(dir))?;
                m
            }
        };
        if manifest.network != network.name() {
            return Err(StoreError::Network {
                dir: dir.to_path_buf(),
                found: manifest.network.clone(),
                wanted: network,
            });
        }
        let dirty = dir.join(DIRTY);
        let interrupted = dirty.exists();
        // Heads of the interrupted run may point past the committed outputs:
        // read their chains from the uncommitted tail before it is dropped.
        let head_fixes = if interrupted {
            Self::head_fixes(dir, &manifest.counts)?
        } else {
            Vec::new()
        };
        let mut store = Self::open_with(dir, manifest, true)?;
        store.writer = Some(WriterState {
            _lock: lock,
            deferred_heads: IdMap::default(),
            warnings: Vec::new(),
            candidates: Vec::new(),
            best: Vec::new(),
            spent: Vec::new(),
            spends: spends::SpendCache::with_budget(spends::DEFAULT_BUDGET),
            failed: false,
        });
        File::create(&dirty)
            .and_then(|f| f.sync_all())
            .map_err(io_at(&dirty))?;
        if interrupted {
            failpoint("repair-start");
            store.repair(head_fixes)?;
        }
        store.remove_stale_tables()?;
        if let Some(target) = store.manifest.pending_rollback {
            store.finish_rollback(target)?;
        }
        Ok(store)
    }

    /// For each committed address whose head points past the committed
    /// outputs, the committed head found by walking back `out_prev`.
    fn head_fixes(dir: &Path, c: &Counts) -> Result<Vec<(u32, u64)>> {
        let heads = read_all(&dir.join(Col::AddrHead.file_name()))?;
        let links = read_all(&dir.join(Col::OutLink.file_name()))?;
        let codes = read_all(&dir.join(Col::OutPrev.file_name()))?;
        let wide = read_all(&dir.join(Col::PrevBig.file_name()))?;
        let prevs = Prevs {
            links: &links,
            codes: &codes,
            wide: &wide,
            sorted: c.big_prevs,
        };
        let mut fixes = Vec::new();
        for a in 0..c.addrs as usize {
            let Some(b) = heads.get(a * 5..a * 5 + 5) else {
                break;
            };
            let mut h = u40(b);
            if h == NONE40 || h < c.outs {
                continue;
            }
            while h != NONE40 && h >= c.outs {
                h = prevs.of(h).unwrap_or(NONE40);
            }
            fixes.push((a as u32, h));
        }
        Ok(fixes)
    }

    fn repair(&mut self, head_fixes: Vec<(u32, u64)>) -> Result<()> {
        let c = self.manifest.counts;
        for (a, h) in head_fixes {
            self.col_mut(Col::AddrHead)
                .write_at(a as u64 * 5, &u40_bytes(h));
        }
        // The fixes were found through the link bits cleared below.
        let heads = self.col(Col::AddrHead);
        heads.flush().map_err(io_at(heads.path()))?;
        for o in 0..c.outs {
            let s = self.read_u32(Col::OutSpent, o);
            if s != UNSPENT && s >= c.txs {
                self.col_mut(Col::OutSpent)
                    .write_at(o * 4, &UNSPENT.to_le_bytes());
            }
        }
        self.txid_tbl.table_mut().forget_from(c.txs);
        self.addr_tbl.table_mut().forget_from(c.addrs);
        self.clear_past(c, &Col::ALL);
        self.flush_all()
    }

    /// Clears what the records shared with items past the counts `c` hold
    /// of those items (left by an interrupted run or a rollback), so that
    /// the files are what an index that never held them has: the kind
    /// bytes of addresses in the last `addr_grp` record, the link bits of
    /// outputs in the last `out_link` record, the type in the high nibble
    /// of the last `out_type` byte, and the count bytes of transactions in
    /// the last `tx_out` and `tx_in` records. Only in the columns `cols`.
    fn clear_past(&mut self, c: Counts, cols: &[Col]) {
        type Clear = fn(&mut [u8], u64);
        let parts: [(Col, u64, u64, Clear); 5] = [
            (Col::AddrGrp, c.addrs as u64, KEY_GROUP, |rec, a| {
                rec[8 + (a % KEY_GROUP) as usize..].fill(0)
            }),
            (Col::OutLink, c.outs, links::GROUP, links::clear_from),
            (Col::OutType, c.outs, 2, |rec, _| rec[0] &= 15),
            (Col::TxOut, c.txs as u64, spans::GROUP, spans::clear_from),
            (Col::TxIn, c.txs as u64, spans::GROUP, spans::clear_from),
        ];
        for (col, n, per, clear) in parts {
            if !cols.contains(&col) {
                continue;
            }
            let (r, w) = (n / per, col.width());
            if !n.is_multiple_of(per) && (r + 1) * w <= self.col(col).len() {
                let mut rec = self.rec(col, r).to_vec();
                clear(&mut rec, n);
                self.col_mut(col).write_at(r * w, &rec);
            }
        }
    }

    /// Linked outputs before output `o` (`o` ≤ the output count).
    fn links_below(&self, o: u64) -> u64 {
        if o >= self.cur.outs {
            return self.cur.links;
        }
        links::linked_below(self.col(Col::OutLink).bytes(), o).unwrap_or(self.cur.links)
    }

    fn remove_stale_tables(&self) -> Result<()> {
        let keep = [
            format!("txid.{}.tbl", self.manifest.txid_table),
            format!("addr.{}.tbl", self.manifest.addr_table),
        ];
        for e in fs::read_dir(&self.dir).map_err(io_at(&self.dir))? {
            let e = e.map_err(io_at(&self.dir))?;
            let name = e.file_name().to_string_lossy().to_string();
            if name.ends_with(".tbl") && !keep.contains(&name) {
                fs::remove_file(e.path()).map_err(io_at(&e.path()))?;
            }
        }
        Ok(())
    }

    // ----- reading -----

    /// The index directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The network of the chain.
    pub fn network(&self) -> Network {
        self.network
    }

    /// Record counts.
    pub fn counts(&self) -> Counts {
        self.cur
    }

    /// The table hasher.
    pub fn hasher(&self) -> KeyHasher {
        KeyHasher(self.manifest.seed)
    }

    fn col(&self, c: Col) -> &Column {
        &self.cols[c as usize]
    }

    fn col_mut(&mut self, c: Col) -> &mut Column {
        &mut self.cols[c as usize]
    }

    fn rec(&self, c: Col, i: u64) -> &[u8] {
        let w = c.width() as usize;
        &self.col(c).bytes()[i as usize * w..i as usize * w + w]
    }

    fn read_u32(&self, c: Col, i: u64) -> u32 {
        u32::from_le_bytes(self.rec(c, i).try_into().expect("4 bytes"))
    }

    fn read_u40(&self, c: Col, i: u64) -> u64 {
        u40(self.rec(c, i))
    }

    /// Bytes in use per column (for `stats`).
    pub fn column_bytes(&self) -> Vec<(&'static str, u64)> {
        let mut v: Vec<_> = Col::ALL
            .iter()
            .map(|c| (c.file_name(), self.col(*c).len()))
            .collect();
        v.push(("txid.tbl", self.txid_tbl.table().file_bytes()));
        v.push(("addr.tbl", self.addr_tbl.table().file_bytes()));
        v
    }

    /// Hash of the block at `height`.
    pub fn block_hash(&self, height: u32) -> BlockHash {
        BlockHash(
            self.rec(Col::BlkHash, height as u64)
                .try_into()
                .expect("32 bytes"),
        )
    }

    /// Header fields of the block at `height`.
    pub fn block_info(&self, height: u32) -> BlockInfo {
        BlockInfo::from_bytes(self.rec(Col::BlkInfo, height as u64))
    }

    /// Transactions of the block at `height`.
    pub fn block_txs(&self, height: u32) -> std::ops::Range<u32> {
        let first = self.block_info(height).first_tx;
        let end = if height + 1 < self.cur.blocks {
            self.block_info(height + 1).first_tx
        } else {
            self.cur.txs
        };
        within(first, end, self.cur.txs)
    }

    /// Coinbase scriptSig of the block at `height`.
    pub fn coinbase(&self, height: u32) -> &[u8] {
        let start = self.block_info(height).cb_off as usize;
        let end = if height + 1 < self.cur.blocks {
            self.block_info(height + 1).cb_off as usize
        } else {
            self.cur.coinbase_bytes as usize
        };
        let bytes = self.col(Col::Coinbase).bytes();
        &bytes[within(start, end, bytes.len())]
    }

    /// Height of a block hash (a scan of the hash column).
    pub fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        self.col(Col::BlkHash)
            .bytes()
            .chunks_exact(32)
            .position(|c| c == hash.0)
            .map(|h| h as u32)
    }

    /// The txid of a transaction.
    pub fn txid(&self, t: TxNum) -> Txid {
        Txid(
            self.rec(Col::TxTxid, t.0 as u64)
                .try_into()
                .expect("32 bytes"),
        )
    }

    /// Outputs of a transaction.
    pub fn tx_outputs(&self, t: TxNum) -> std::ops::Range<u64> {
        let limit = self.range_end(t, self.cur.outs, self.pending.1);
        match self.span(Col::TxOut, t) {
            Some((s, n)) => within(s, s.saturating_add(n), limit),
            None => limit..limit,
        }
    }

    /// First id and count of the outputs (`TxOut`) or inputs (`TxIn`) of
    /// `t`; `None` if the column does not reach it (a damaged index).
    fn span(&self, c: Col, t: TxNum) -> Option<(u64, u64)> {
        let side = if c == Col::TxOut {
            Side::Outs
        } else {
            Side::Ins
        };
        let big = self.col(Col::TxBig).bytes();
        spans::span(self.col(c).bytes(), big, side, t.0 as u64)
    }

    /// How far the outputs or inputs of `t` may reach: the `written` ones,
    /// or for a transaction of the block being appended, its `pending` ones.
    fn range_end(&self, t: TxNum, written: u64, pending: u64) -> u64 {
        if t.0 >= self.pending.0 {
            written.max(pending)
        } else {
            written
        }
    }

    /// Inputs of a transaction.
    pub fn tx_inputs(&self, t: TxNum) -> std::ops::Range<u64> {
        let limit = self.range_end(t, self.cur.ins, self.pending.2);
        match self.span(Col::TxIn, t) {
            Some((s, n)) => within(s, s.saturating_add(n), limit),
            None => limit..limit,
        }
    }

    /// The block height of a transaction.
    pub fn tx_height(&self, t: TxNum) -> u32 {
        // Last block whose first transaction is at or before t.
        let w = Col::BlkInfo.width();
        let bytes = self.col(Col::BlkInfo).bytes();
        let blocks = &bytes[..bytes.len().min((self.cur.blocks as u64 * w) as usize)];
        let first_tx = |r: &[u8]| BlockInfo::from_bytes(r).first_tx as u64;
        wide::rank(blocks, w as usize, t.0 as u64 + 1, first_tx).saturating_sub(1) as u32
    }

    /// The transaction that created an output.
    pub fn out_tx(&self, o: OutId) -> TxNum {
        let (bytes, big) = (self.col(Col::TxOut).bytes(), self.col(Col::TxBig).bytes());
        TxNum(spans::tx_of(bytes, big, Side::Outs, self.cur.txs as u64, o.0).unwrap_or(0) as u32)
    }

    /// The output's index among its transaction's (`t`, from [`Store::out_tx`]):
    /// the `vout` of its outpoint; 0 if a damaged index puts it before them.
    pub fn out_vout(&self, t: TxNum, o: OutId) -> u32 {
        o.0.saturating_sub(self.tx_outputs(t).start) as u32
    }

    /// Value of an output in satoshis.
    pub fn out_value(&self, o: OutId) -> u64 {
        let v = self.read_u32(Col::OutValue, o.0);
        if v != wide::VALUE_WIDE {
            return v as u64;
        }
        // 2^32 - 1 satoshis or more: the exact value is in `out_big`.
        wide::get(self.col(Col::OutBig).bytes(), o.0).unwrap_or(v as u64)
    }

    /// Address of an output (none for `OP_RETURN`).
    pub fn out_addr(&self, o: OutId) -> Option<AddrId> {
        if o.0 >= self.cur.outs {
            return None;
        }
        let a = match links::at(self.col(Col::OutLink).bytes(), o.0)? {
            Link::None => return None,
            Link::New(a) => a,
            Link::Linked(k) => {
                let b = self.col(Col::OutAddr).bytes();
                let at = usize::try_from(k).ok()?.checked_mul(4)?;
                u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?) as u64
            }
        };
        (a < self.cur.addrs as u64).then_some(AddrId(a as u32))
    }

    /// Script type of an output.
    pub fn out_type(&self, o: OutId) -> ScriptType {
        let byte = self.rec(Col::OutType, o.0 / 2)[0];
        ScriptType::from_u8(nibble(byte, o.0)).unwrap_or(ScriptType::Nonstandard)
    }

    /// The transaction spending an output, checked against its inputs.
    pub fn out_spender(&self, o: OutId) -> Option<(TxNum, u64)> {
        let s = self.read_u32(Col::OutSpent, o.0);
        if s == UNSPENT || s >= self.cur.txs {
            return None;
        }
        let t = TxNum(s);
        self.tx_inputs(t)
            .find(|&i| self.in_out(i) == o.0)
            .map(|i| (t, i))
    }

    /// Outputs per script type byte and the number of unspent outputs, by
    /// one sequential pass over two columns (no per-output verification:
    /// a committed index holds no stale spenders, see `repair`).
    pub fn output_census(&self) -> ([u64; 256], u64) {
        let mut types = [0u64; 256];
        let packed = self.col(Col::OutType).bytes();
        for o in 0..self.cur.outs {
            types[nibble(packed[(o / 2) as usize], o) as usize] += 1;
        }
        let txs = self.cur.txs;
        let unspent = self
            .col(Col::OutSpent)
            .bytes()
            .chunks_exact(4)
            .filter(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) >= txs)
            .count() as u64;
        (types, unspent)
    }

    /// The previous output of the same address.
    pub fn out_prev(&self, o: OutId) -> Option<OutId> {
        if o.0 >= self.cur.outs {
            return None;
        }
        self.prevs(false).of(o.0).map(OutId)
    }

    /// The columns of previous outputs: what this store holds, or with
    /// `past`, the whole files (records past the count included).
    fn prevs(&self, past: bool) -> Prevs<'_> {
        let bytes = |c: Col| {
            if past {
                self.col(c).mapped()
            } else {
                self.col(c).bytes()
            }
        };
        Prevs {
            links: bytes(Col::OutLink),
            codes: bytes(Col::OutPrev),
            wide: bytes(Col::PrevBig),
            sorted: self.cur.big_prevs,
        }
    }

    /// The wallet fingerprint of a transaction.
    pub fn tx_meta(&self, t: TxNum) -> TxMeta {
        TxMeta(self.rec(Col::TxMeta, t.0 as u64)[0])
    }

    /// The output an input spends: `Ok(None)` for a coinbase input,
    /// `Err(())` when the previous output was not found at ingest.
    #[allow(clippy::result_unit_err)]
    pub fn in_prevout(&self, i: u64) -> std::result::Result<Option<OutId>, ()> {
        match self.in_out(i) {
            NONE40 => Ok(None),
            o if o >= self.cur.outs => Err(()),
            o => Ok(Some(OutId(o))),
        }
    }

    /// The output input `i` spends, [`NONE40`] for a coinbase input,
    /// [`UNRESOLVED40`] (or anything not below the output count, on a
    /// damaged index) when it was not found.
    fn in_out(&self, i: u64) -> u64 {
        match self.read_u32(Col::InOut, i) {
            wide::IN_COINBASE => NONE40,
            wide::IN_UNRESOLVED => UNRESOLVED40,
            wide::IN_WIDE => wide::get(self.col(Col::InBig).bytes(), i).unwrap_or(UNRESOLVED40),
            c => wide::in_decode(i, c).unwrap_or(UNRESOLVED40),
        }
    }

    /// The key of an address.
    pub fn addr_key(&self, a: AddrId) -> AddressKey {
        self.read_key(a.0)
            .unwrap_or_else(|| AddressKey::nonstandard_from_hash([0; 32]))
    }

    /// Kind byte of address `a` and the offset of its body in
    /// `addr_key.blob`: the group's offset plus the bodies before it in the
    /// group (one 40-byte group record read). `None` on a damaged index.
    fn key_place(&self, a: u32) -> Option<(u8, u64)> {
        if a >= self.cur.addrs {
            return None;
        }
        let g = self.rec(Col::AddrGrp, a as u64 / KEY_GROUP);
        let mut off = u64::from_le_bytes(g[..8].try_into().ok()?);
        let kinds = &g[8..];
        let i = (a as u64 % KEY_GROUP) as usize;
        for &k in &kinds[..i] {
            off = off.checked_add(match AddressKey::implied_body_len(k) {
                Some(n) => n as u64,
                None => {
                    let aux = *self.col(Col::AddrBody).bytes().get(off as usize)?;
                    1 + (aux as u64).min(32)
                }
            })?;
        }
        Some((kinds[i], off))
    }

    /// Offset in `addr_key.blob` of the body of address `a`, the blob's
    /// length for `a` = the address count.
    fn key_offset(&self, a: u32) -> Option<u64> {
        if a == self.cur.addrs {
            return Some(self.cur.key_bytes);
        }
        self.key_place(a).map(|(_, off)| off)
    }

    /// The key of address `a`, `None` on a damaged index.
    fn read_key(&self, a: u32) -> Option<AddressKey> {
        let (kind, off) = self.key_place(a)?;
        let body = self.col(Col::AddrBody).bytes().get(off as usize..)?;
        AddressKey::from_compact(kind, body).map(|(k, _)| k)
    }

    /// The latest committed output of an address.
    pub fn addr_head(&self, a: AddrId) -> Option<OutId> {
        if let Some(w) = &self.writer {
            if let Some(&h) = w.deferred_heads.get(&a.0) {
                return Some(OutId(h));
            }
        }
        let mut h = self.read_u40(Col::AddrHead, a.0 as u64);
        // A head past the outputs this reader knows: walk back to a known one.
        while h != NONE40 && h >= self.cur.outs {
            // Records past the committed length were flushed before any head
            // pointed at them (see `commit`), so the whole files may be read.
            h = self.prevs(true).of(h).unwrap_or(NONE40);
        }
        (h != NONE40).then_some(OutId(h))
    }

    /// Finds a transaction by txid (the latest, if a txid repeats, as the
    /// duplicate coinbases of mainnet blocks 91842 and 91880 do).
    pub fn find_tx(&self, txid: &Txid) -> Option<TxNum> {
        self.find_tx_hashed(txid, self.hasher().txid(txid), self.cur.txs)
    }

    fn find_tx_hashed(&self, txid: &Txid, h: u64, limit: u32) -> Option<TxNum> {
        let mut best = None;
        self.txid_tbl.probe(h, limit, |id| {
            if self.rec(Col::TxTxid, id as u64) == txid.0 && best.is_none_or(|b| id > b) {
                best = Some(id);
            }
            false
        });
        best.map(TxNum)
    }

    /// Finds an address by key.
    pub fn find_addr(&self, key: &AddressKey) -> Option<AddrId> {
        let (body, n) = key.compact();
        self.find_addr_stored(key.kind_byte(), &body[..n], self.hasher().addr(key))
    }

    /// Finds an address by the stored form of its key and its table hash.
    fn find_addr_stored(&self, kind: u8, want: &[u8], h: u64) -> Option<AddrId> {
        let n = want.len();
        let mut found = None;
        self.addr_tbl.probe(h, self.cur.addrs, |id| {
            let hit = self.key_place(id).is_some_and(|(k, o)| {
                k == kind
                    && self
                        .col(Col::AddrBody)
                        .bytes()
                        .get(o as usize..o as usize + n)
                        == Some(want)
            });
            if hit {
                found = Some(AddrId(id));
            }
            hit
        });
        found
    }

    // ----- writing -----

    fn writer(&mut self) -> &mut WriterState {
        self.writer.as_mut().expect("store opened for writing")
    }

    /// Bounds the memory of the spend cache (see [`spends`]) to `bytes`,
    /// dropping what it holds; 0 resolves every spend through the index.
    pub fn set_spend_cache_budget(&mut self, bytes: u64) {
        self.writer().spends = spends::SpendCache::with_budget(bytes);
    }

    /// Fills the spend cache with the unspent outputs of the newest
    /// transactions already indexed, newest first, up to `txs` of them or
    /// half the cache's limit, so that a run resumed or continued spends
    /// from memory as one run from the start would. Returns the entries.
    pub fn warm_spend_cache(&mut self, txs: u64) -> usize {
        let (hasher, cur) = (self.hasher(), self.cur);
        let mut cache = std::mem::replace(&mut self.writer().spends, spends::SpendCache::new(0));
        cache.begin_warming();
        let room = cache.limit() / 2;
        let mut t = cur.txs;
        'txs: while t > 0 && u64::from(cur.txs - t) < txs && cache.len() < room {
            t -= 1;
            let txid = self.txid(TxNum(t));
            let (h, check) = (hasher.txid(&txid), spends::check(&txid));
            let outs = self.tx_outputs(TxNum(t));
            for o in outs.clone().rev() {
                if cache.len() >= cache.limit() {
                    break 'txs; // a tx of very many outputs
                }
                if self.out_type(OutId(o)) == ScriptType::Nulldata {
                    continue; // never spent (as in `find_spent`)
                }
                let unspent = self.read_u32(Col::OutSpent, o) >= cur.txs;
                cache.warm_insert(spends::key(h, (o - outs.start) as u32), check, o, unspent);
            }
        }
        cache.end_warming();
        let n = cache.len();
        self.writer().spends = cache;
        n
    }

    /// Whether the pages of the columns never read while appending are
    /// given back to the kernel once written (default: yes; see
    /// [`Column::start_writeback`]). Memory being short then, the columns
    /// do not write zeros ahead of their appends either (the kernel would
    /// write some of them to disk before the data: [`Column::zero_ahead`]).
    pub fn set_drop_behind(&mut self, on: bool) {
        self.drop_behind = on;
        for c in &mut self.cols {
            c.zero_ahead(!on);
        }
    }

    /// Starts the columns' writeback every `bytes` appended (default
    /// [`WRITEBACK_EVERY`]; at least one page), giving back the pages of the
    /// columns never read while appending if [`Store::set_drop_behind`].
    pub fn set_writeback_every(&mut self, bytes: u64) {
        self.writeback_every = bytes.max(crate::pages::page_size());
    }

    /// Holds up to `entries` new entries of each hash table in memory,
    /// swept into the table's file at once (in slot order) when that many
    /// are held and at every commit; 0 (the default) writes each entry in
    /// place at once. The files' bytes do not depend on it: a sweep leaves
    /// what inserting one by one would.
    pub fn set_max_held(&mut self, entries: usize) {
        self.txid_tbl.set_max_held(entries);
        self.addr_tbl.set_max_held(entries);
    }

    /// Bytes of written columns this store has given back to the kernel
    /// (none but on Linux).
    pub fn given_back(&self) -> u64 {
        self.given_back
    }

    /// The spend cache: its figures (spends answered, sent to the index,
    /// entries dropped) and size.
    pub fn spend_cache(&self) -> Option<&spends::SpendCache> {
        self.writer.as_ref().map(|w| &w.spends)
    }

    /// Takes the warnings collected while appending.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.writer().warnings)
    }

    #[inline(always)]
    fn push(&mut self, c: Col, data: &[u8]) -> Result<()> {
        self.appended += data.len() as u64;
        let col = &mut self.cols[c as usize];
        col.push(data).map_err(|e| StoreError::Io {
            path: col.path().to_path_buf(),
            cause: e,
        })
    }

    /// Enters the output and input counts of the next transaction (whose
    /// first ids are `outs` and `ins`) in `tx_out`, `tx_in` and `tx_big`.
    fn push_span(&mut self, n_out: u64, n_in: u64, outs: u64, ins: u64) -> Result<()> {
        let t = self.cur.txs as u64;
        if t.is_multiple_of(spans::GROUP) {
            self.push(Col::TxOut, &spans::new_record(outs))?;
            self.push(Col::TxIn, &spans::new_record(ins))?;
        }
        let r = t / spans::GROUP * spans::WIDTH;
        let (at, b, big_out) = spans::count_byte(t, n_out);
        self.col_mut(Col::TxOut).write_at(r + at as u64, &[b]);
        let (at, b, big_in) = spans::count_byte(t, n_in);
        self.col_mut(Col::TxIn).write_at(r + at as u64, &[b]);
        if big_out || big_in {
            // Counts are below 2^32: a block holds at most 4 MB.
            let e = spans::big_record(t as u32, n_out as u32, n_in as u32);
            self.push(Col::TxBig, &e)?;
            self.cur.big_txs += 1;
        }
        Ok(())
    }

    fn grow_tables(&mut self, new_txs: u64, new_addrs: u64) -> Result<()> {
        let (num, den) = table::MAX_LOAD;
        let full = Table::MAX_CAPACITY / 100 * 95;
        let txs = self.cur.txs as u64 + new_txs;
        let addrs = self.cur.addrs as u64 + new_addrs;
        if txs > full || addrs > full {
            return Err(StoreError::Full(
                "a hash table holds at most 95% of 2^32 entries",
            ));
        }
        // Room for 1.5 times the entries once past the largest load.
        let grown = |n: u64| Table::capacity_for(n + n / 2).min(Table::MAX_CAPACITY);
        if txs * den > self.txid_tbl.table().capacity() * num
            && self.txid_tbl.table().capacity() < Table::MAX_CAPACITY
        {
            self.replace_table(Keys::Txids, grown(txs))?;
        }
        let cap = self.addr_tbl.table().capacity();
        if addrs * den > cap * num && cap < Table::MAX_CAPACITY {
            let want = grown(addrs).max(self.projected_addr_capacity());
            self.replace_table(Keys::Addresses, want)?;
        } else if self.planned_txs >= PROJECT_AT {
            let at = self.planned_txs / PROJECT_AT;
            // At the block that crosses a sixteenth of the planned chain (a
            // place in the chain, not in the run, so interrupted and resumed
            // runs make the same choice): sized for the whole chain at the
            // rate of addresses per transaction seen so far, if that is more
            // than [`Store::reserve`] guessed. A rebuild now is 1/16 of one
            // at the end.
            if (self.cur.txs as u64) < at && txs >= at {
                let want = self.projected_addr_capacity();
                if want > cap {
                    self.replace_table(Keys::Addresses, want)?;
                }
            }
        }
        Ok(())
    }

    /// Capacity of the address table for the planned chain at the rate of
    /// addresses per transaction indexed so far (0 if either is unknown).
    fn projected_addr_capacity(&self) -> u64 {
        if self.cur.txs == 0 {
            return 0;
        }
        let per = self.cur.addrs as u128 * self.planned_txs as u128 / self.cur.txs as u128;
        Table::capacity_for(per.min(Table::MAX_CAPACITY as u128) as u64)
    }

    /// Puts a new generation of a table in place, of `capacity` home
    /// slots, filled from the columns (held entries included, so none is
    /// held after).
    fn replace_table(&mut self, keys: Keys, capacity: u64) -> Result<()> {
        let gen = match keys {
            Keys::Txids => self.manifest.txid_table,
            Keys::Addresses => self.manifest.addr_table,
        } + 1;
        let t = self.rebuild_table_to(keys, gen, capacity)?;
        match keys {
            Keys::Txids => {
                self.txid_tbl.replace(t);
                self.manifest.txid_table = gen;
            }
            Keys::Addresses => {
                self.addr_tbl.replace(t);
                self.manifest.addr_table = gen;
            }
        }
        Ok(())
    }

    /// Sizes the txid table for a chain of `txs` transactions and the
    /// address table for 1.25 times as many addresses (both only ever grow), so that a
    /// long ingest does not rebuild them again and again; once a sixteenth
    /// of that chain is indexed, the address table grows to what the whole
    /// chain needs at the rate of addresses per transaction seen so far, if
    /// that is more. The sizes depend only on the chain, so every run over
    /// it ends with the same files.
    pub fn reserve(&mut self, txs: u64) -> Result<()> {
        self.planned_txs = txs;
        let want = Table::capacity_for(txs);
        if want > self.txid_tbl.table().capacity() {
            self.replace_table(Keys::Txids, want)?;
        }
        // Mainnet has about 1.25 distinct addresses per transaction.
        let want = Table::capacity_for(txs + txs / 4);
        if want > self.addr_tbl.table().capacity() {
            self.replace_table(Keys::Addresses, want)?;
        }
        Ok(())
    }

    /// A new table file `<name>.<gen>.tbl` of `capacity` home slots,
    /// filled from the txids or address keys (id = row).
    fn rebuild_table_to(&self, keys: Keys, gen: u32, capacity: u64) -> Result<Table> {
        let hasher = self.hasher();
        let name = match keys {
            Keys::Txids => "txid",
            Keys::Addresses => "addr",
        };
        let p = self.dir.join(format!("{name}.{gen}.tbl"));
        let mut t = Table::create(&p, capacity).map_err(io_at(&p))?;
        // In chunks of ids, each swept in (as the writer's held entries are).
        let (mut chunk, mut scratch) = (Vec::new(), table::Scratch::default());
        let mut base = 0u32;
        let mut sweep = |t: &mut Table, chunk: &mut Vec<u64>| -> Result<()> {
            t.insert_batch(chunk, base, &mut scratch).map_err(no_room)?;
            base += chunk.len() as u32;
            chunk.clear();
            Ok(())
        };
        if keys == Keys::Txids {
            for key in self.col(Col::TxTxid).bytes().chunks_exact(32) {
                chunk.push(hasher.hash(key));
                if chunk.len() == REBUILD_CHUNK {
                    sweep(&mut t, &mut chunk)?;
                }
            }
            sweep(&mut t, &mut chunk)?;
            return Ok(t);
        }
        let kinds = self
            .col(Col::AddrGrp)
            .bytes()
            .chunks_exact(Col::AddrGrp.width() as usize)
            .flat_map(|g| &g[8..])
            .take(self.cur.addrs as usize);
        let body = self.col(Col::AddrBody).bytes();
        let mut off = 0usize;
        for (id, &kind) in kinds.enumerate() {
            let key = body
                .get(off..)
                .and_then(|b| AddressKey::from_compact(kind, b));
            let Some((key, n)) = key else {
                return Err(StoreError::Io {
                    path: self.dir.join(Col::AddrBody.file_name()),
                    cause: io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("address {id}: damaged key at byte {off}"),
                    ),
                });
            };
            chunk.push(hasher.addr(&key));
            if chunk.len() == REBUILD_CHUNK {
                sweep(&mut t, &mut chunk)?;
            }
            off += n;
        }
        sweep(&mut t, &mut chunk)?;
        Ok(t)
    }

    /// Starts fetching the table slots appending `b` will probe (the
    /// txid slots of its spends and its txs, the address slots of its first
    /// [`ADDR_AHEAD`] outputs; pass 3 fetches the others), so that the
    /// cache misses overlap (a hint: `append` does not depend on it).
    /// Fetching the rows the slots point at too, in further passes, was
    /// measured slower: the extra probes cost more than the misses saved.
    fn warm(&self, b: &PreparedBlock) {
        let spends = || b.ins.iter().filter(|i| !i.coinbase);
        for inp in spends() {
            self.txid_tbl.prefetch(inp.prev_hash);
        }
        for tx in &b.txs {
            self.txid_tbl.prefetch(tx.hash);
        }
        // The first outputs' address slots only: pass 3 fetches each later
        // one [`ADDR_AHEAD`] outputs before it is needed.
        // By position, as pass 3 counts: outputs without an address (a
        // coinbase's OP_RETURN) leave their places empty.
        let first = &b.outs[..b.outs.len().min(ADDR_AHEAD)];
        for k in first.iter().filter_map(|o| o.key.as_ref()) {
            self.addr_tbl.prefetch(k.hash);
        }
    }

    /// Appends a block at the next height.
    ///
    /// In three passes, so that the cache misses of a block's lookups
    /// overlap instead of following one another: (1) every transaction's
    /// rows and txid-table entry; (2) every spend's probe, fetching the rows
    /// its candidates point at, then the check of those rows and a fetch of
    /// the spent output's mark; (3) inputs and outputs in order. Entering
    /// the block's txids first changes no answer: a spend only sees ids
    /// below its own transaction's, as when each tx was entered in turn.
    /// In pass 3 the address-table slots of the output [`ADDR_AHEAD`]
    /// places on are fetched as each output is written (only the first
    /// ones with the block's other slots before pass 2): fetched all at
    /// once before pass 2, they had left the cache when read (the address
    /// probes took 12% of ingest's CPU; 2%, and the append stage about 10%
    /// less, with this).
    pub fn append(&mut self, b: &PreparedBlock) -> Result<()> {
        let r = self.append_block(b);
        self.pending = NO_PENDING;
        if r.is_err() {
            // The cache may name outputs the failed append never wrote.
            self.writer().spends.clear();
            self.writer().failed = true;
        }
        r
    }

    fn append_block(&mut self, b: &PreparedBlock) -> Result<()> {
        if self.cur.txs as u64 + b.txs.len() as u64 >= u32::MAX as u64 - 1 {
            return Err(StoreError::Full("more than 2^32 - 2 transactions"));
        }
        if self.cur.outs + b.outs.len() as u64 >= UNRESOLVED40
            || self.cur.ins + b.ins.len() as u64 >= UNRESOLVED40
        {
            return Err(StoreError::Full("more than 2^40 - 2 outputs or inputs"));
        }
        if self.cur.addrs as u64 + b.outs.len() as u64 >= u32::MAX as u64 - 1 {
            return Err(StoreError::Full("more than 2^32 - 2 addresses"));
        }
        // Room for every tx and (at most) one new address per output.
        self.grow_tables(b.txs.len() as u64, b.outs.len() as u64)?;
        self.warm(b);
        let height = self.cur.blocks;
        let mut info = b.info;
        info.first_tx = self.cur.txs;
        info.first_addr = self.cur.addrs;
        info.cb_off = self.cur.coinbase_bytes;
        self.push(Col::BlkHash, &b.hash.0)?;
        self.push(Col::BlkInfo, &info.to_bytes())?;
        self.push(Col::Coinbase, &b.coinbase)?;
        self.cur.coinbase_bytes += b.coinbase.len() as u64;

        // 1. Transactions.
        let first = self.cur.txs;
        let (mut outs, mut ins) = (self.cur.outs, self.cur.ins);
        for tx in &b.txs {
            self.push(Col::TxTxid, &tx.txid.0)?;
            self.push_span(tx.n_out as u64, tx.n_in as u64, outs, ins)?;
            self.push(Col::TxMeta, &[tx.meta.0])?;
            self.txid_tbl
                .insert(tx.hash, self.cur.txs)
                .map_err(no_room)?;
            self.cur.txs += 1;
            outs += tx.n_out as u64;
            ins += tx.n_in as u64;
        }
        self.pending = (first, outs, ins);

        // 2. Spends.
        let spent = self.find_spent(b, first);

        // 3. Inputs and outputs.
        let (mut ii, mut oi) = (0usize, 0usize);
        for (k, tx) in b.txs.iter().enumerate() {
            let t = first + k as u32;
            for (j, inp) in b.ins[ii..ii + tx.n_in as usize].iter().enumerate() {
                let i = self.cur.ins;
                let code = if inp.coinbase {
                    wide::IN_COINBASE
                } else {
                    let o = self.spend(inp, spent[ii + j], t, height);
                    if o == UNRESOLVED40 {
                        wide::IN_UNRESOLVED
                    } else if let Some(c) = wide::in_code(i, o) {
                        c
                    } else {
                        self.push(Col::InBig, &wide::entry_bytes(i, o))?;
                        self.cur.big_ins += 1;
                        wide::IN_WIDE
                    }
                };
                self.push(Col::InOut, &code.to_le_bytes())?;
                self.cur.ins += 1;
            }
            ii += tx.n_in as usize;
            for (n, out) in b.outs[oi..oi + tx.n_out as usize].iter().enumerate() {
                if let Some(k) = b.outs.get(oi + n + ADDR_AHEAD).and_then(|o| o.key.as_ref()) {
                    self.addr_tbl.prefetch(k.hash);
                }
                self.append_output(out)?;
            }
            oi += tx.n_out as usize;
        }
        self.writer().spent = spent;
        self.cur.blocks += 1;
        if self.txid_tbl.is_full() || self.addr_tbl.is_full() {
            self.sweep_tables()?;
        }
        if self.appended >= self.writeback_every {
            self.appended = 0;
            for c in Col::ALL {
                // Not the columns written in place (the group records' kind bytes,
                // the link bits and the transactions' count bytes too), nor the tables:
                // measured slower, as each page written back and dirtied again costs a
                // fault, and the close no faster.
                if !matches!(
                    c,
                    Col::OutSpent
                        | Col::AddrHead
                        | Col::AddrGrp
                        | Col::OutLink
                        | Col::TxOut
                        | Col::TxIn
                ) {
                    let drop = self.drop_behind && !c.read_while_appending();
                    self.given_back += self.col_mut(c).start_writeback(drop);
                }
            }
        }
        Ok(())
    }

    /// Pass 2 of [`Store::append`]: for each input of `b` (whose txs start
    /// at id `first` and are in the table), the output it spends, or
    /// [`SPENDS_UNKNOWN_TX`] or [`SPENDS_MISSING_OUTPUT`] (anything for a
    /// coinbase input). Probes each txid once, fetching the candidates' rows
    /// as it goes; checks them once all are on their way.
    fn find_spent(&mut self, b: &PreparedBlock, first: u32) -> Vec<u64> {
        let w = self.writer();
        let mut cands = std::mem::take(&mut w.candidates);
        let mut best = std::mem::take(&mut w.best);
        let mut spent = std::mem::take(&mut w.spent);
        let mut cache = std::mem::replace(&mut w.spends, spends::SpendCache::new(0));
        cands.clear();
        best.clear();
        best.resize(b.ins.len(), u32::MAX);
        spent.clear();
        spent.resize(b.ins.len(), SPENDS_UNKNOWN_TX);
        // The latest tx of that txid (mainnet repeats two coinbase txids).
        let is_latest = |best: u32, id: u32, txid: &Txid| {
            (best == u32::MAX || id > best) && self.rec(Col::TxTxid, id as u64) == txid.0
        };
        let (txids, txouts) = (self.col(Col::TxTxid).bytes(), self.col(Col::TxOut).bytes());
        let marks = self.col(Col::OutSpent).mapped();
        for a in &b.ins[..b.ins.len().min(SPEND_AHEAD)] {
            cache.prefetch(a.spend_key);
        }
        let mut j = 0usize;
        let mut outs = self.cur.outs;
        // Where the outputs of the tx TXS_AHEAD on start in `b.outs`.
        let mut ahead = 0usize;
        let mut fetch_outs = |cache: &spends::SpendCache, t: &PreparedTx| {
            let n = t.n_out as usize;
            for o in &b.outs[ahead..ahead + n.min(OUTS_AHEAD_MAX)] {
                cache.prefetch(o.spend_key);
            }
            ahead += n;
        };
        for t in b.txs.iter().take(TXS_AHEAD) {
            fetch_outs(&cache, t);
        }
        for (k, tx) in b.txs.iter().enumerate() {
            if let Some(t) = b.txs.get(k + TXS_AHEAD) {
                fetch_outs(&cache, t);
            }
            for inp in &b.ins[j..j + tx.n_in as usize] {
                if let Some(a) = b.ins.get(j + SPEND_AHEAD) {
                    cache.prefetch(a.spend_key);
                }
                if inp.coinbase {
                    j += 1;
                    continue;
                }
                if let Some(o) = cache.take(inp.spend_key, spends::check(&inp.prev_txid)) {
                    column::prefetch_at(marks, o as usize * 4);
                    spent[j] = o;
                    j += 1;
                    continue;
                }
                let mut n = 0;
                self.txid_tbl.probe(inp.prev_hash, first + k as u32, |id| {
                    if n < DEFERRED_CANDIDATES {
                        column::prefetch_at(txids, id as usize * 32);
                        column::prefetch_at(txouts, spans::record_offset(id as u64));
                        cands.push((j as u32, id));
                        n += 1;
                    } else if is_latest(best[j], id, &inp.prev_txid) {
                        // A txid repeated many times (crafted blocks can):
                        // checked at once, so the candidates stay few.
                        best[j] = id;
                    }
                    false
                });
                j += 1;
            }
            // Seen by the spends of later txs only, as in the table. Not
            // the `OP_RETURN` outputs, which no valid tx spends (a spend of
            // one is looked up in the index like any other cache miss).
            let check = spends::check(&tx.txid);
            let first_out = (outs - self.cur.outs) as usize;
            let tx_outs = &b.outs[first_out..first_out + tx.n_out as usize];
            for (v, out) in tx_outs.iter().enumerate() {
                if out.script_type != ScriptType::Nulldata {
                    cache.insert(out.spend_key, check, outs + v as u64);
                }
            }
            outs += tx.n_out as u64;
        }
        for &(j, id) in &cands {
            let j = j as usize;
            if is_latest(best[j], id, &b.ins[j].prev_txid) {
                best[j] = id;
            }
        }
        for (j, inp) in b.ins.iter().enumerate() {
            if best[j] == u32::MAX {
                continue;
            }
            let outs = self.tx_outputs(TxNum(best[j]));
            spent[j] = if (inp.vout as u64) < outs.end - outs.start {
                let o = outs.start + inp.vout as u64;
                column::prefetch_at(marks, o as usize * 4);
                o
            } else {
                SPENDS_MISSING_OUTPUT
            };
        }
        let w = self.writer();
        w.candidates = cands;
        w.best = best;
        w.spends = cache;
        spent
    }

    /// Marks the output `found` by [`Store::find_spent`] for input `inp` as
    /// spent by `t`; returns it, or [`UNRESOLVED40`] with a warning.
    fn spend(&mut self, inp: &PreparedIn, found: u64, t: u32, height: u32) -> u64 {
        if found == SPENDS_UNKNOWN_TX || found == SPENDS_MISSING_OUTPUT {
            let what = if found == SPENDS_UNKNOWN_TX {
                "unknown tx"
            } else {
                "missing output"
            };
            let msg = format!(
                "block {height}: tx {} spends {what} {}:{}",
                self.txid(TxNum(t)),
                inp.prev_txid,
                inp.vout
            );
            self.writer().warnings.push(msg);
            return UNRESOLVED40;
        }
        let o = found;
        let s = self.read_u32(Col::OutSpent, o);
        if s != UNSPENT && s < t {
            let msg = format!(
                "block {height}: output {}:{} spent again by {} (first by {})",
                inp.prev_txid,
                inp.vout,
                self.txid(TxNum(t)),
                self.txid(TxNum(s))
            );
            self.writer().warnings.push(msg);
        }
        self.col_mut(Col::OutSpent)
            .write_at(o * 4, &t.to_le_bytes());
        o
    }

    /// Appends an output at the next output id, and its address if new.
    #[inline(always)]
    fn append_output(&mut self, out: &PreparedOut) -> Result<()> {
        let o = self.cur.outs;
        if o.is_multiple_of(links::GROUP) {
            let rec = links::new_record(self.cur.links, self.cur.addrs as u64);
            self.push(Col::OutLink, &rec)?;
        }
        // The address, its previous output, and whether it was seen before.
        let (addr, prev, linked) = match &out.key {
            Some(key) => match self.find_addr_stored(key.kind, key.body(), key.hash) {
                Some(a) => {
                    let prev = self.addr_head(a).map_or(NONE40, |p| p.0);
                    (a.0, prev, true)
                }
                None => {
                    let a = self.cur.addrs;
                    let (g, i) = (a as u64 / KEY_GROUP, a as u64 % KEY_GROUP);
                    if i == 0 {
                        let mut rec = [0u8; 8 + KEY_GROUP as usize];
                        rec[..8].copy_from_slice(&self.cur.key_bytes.to_le_bytes());
                        self.push(Col::AddrGrp, &rec)?;
                    }
                    let w = Col::AddrGrp.width();
                    self.col_mut(Col::AddrGrp)
                        .write_at(g * w + 8 + i, &[key.kind]);
                    self.push(Col::AddrBody, key.body())?;
                    self.cur.key_bytes += key.len as u64;
                    self.push(Col::AddrHead, &u40_bytes(NONE40))?;
                    self.addr_tbl.insert(key.hash, a).map_err(no_room)?;
                    self.cur.addrs += 1;
                    (a, NONE40, false)
                }
            },
            None => (NO_ADDR, NONE40, false),
        };
        let v = wide::value_code(out.value);
        self.push(Col::OutValue, &v.to_le_bytes())?;
        if v == wide::VALUE_WIDE {
            self.push(Col::OutBig, &wide::entry_bytes(o, out.value))?;
            self.cur.big_values += 1;
        }
        let ty = out.script_type as u8 & 15;
        if o.is_multiple_of(2) {
            self.push(Col::OutType, &[ty])?;
        } else {
            let low = self.rec(Col::OutType, o / 2)[0] & 15;
            self.col_mut(Col::OutType).write_at(o / 2, &[low | ty << 4]);
        }
        self.push(Col::OutSpent, &UNSPENT.to_le_bytes())?;
        if addr != NO_ADDR {
            // The first output of an address, or a linked one (prevout and
            // address stored at the rank of its bit).
            let r = o / links::GROUP;
            let flags = links::flag(self.rec(Col::OutLink, r), o, linked);
            for (at, byte) in flags {
                self.col_mut(Col::OutLink)
                    .write_at(r * links::WIDTH + at as u64, &[byte]);
            }
            if linked {
                let code = wide::prev_code(o, prev);
                self.push(Col::OutPrev, &code.to_le_bytes())?;
                if code == wide::PREV_WIDE {
                    self.push(Col::PrevBig, &wide::entry_bytes(o, prev))?;
                    self.cur.big_prevs += 1;
                }
                self.push(Col::OutAddr, &addr.to_le_bytes())?;
                self.cur.links += 1;
            }
        }
        self.cur.outs += 1;
        if addr != NO_ADDR {
            if addr < self.manifest.counts.addrs {
                self.writer().deferred_heads.insert(addr, o);
            } else {
                self.col_mut(Col::AddrHead)
                    .write_at(addr as u64 * 5, &u40_bytes(o));
            }
        }
        Ok(())
    }

    fn flush_all(&mut self) -> Result<()> {
        self.sweep_tables()?;
        for c in &self.cols {
            c.flush().map_err(io_at(c.path()))?;
        }
        self.txid_tbl.sync().map_err(io_at(&self.dir))?;
        self.addr_tbl.sync().map_err(io_at(&self.dir))
    }

    /// Puts the table entries held in memory into the tables' files.
    fn sweep_tables(&mut self) -> Result<()> {
        let r = self.txid_tbl.flush().and_then(|()| {
            failpoint("sweep-between-tables");
            self.addr_tbl.flush()
        });
        if r.is_err() {
            if let Some(w) = self.writer.as_mut() {
                w.failed = true;
            }
        }
        r.map_err(no_room)
    }

    /// Makes everything appended so far durable and visible.
    pub fn commit(&mut self) -> Result<()> {
        if self.writer.as_ref().is_some_and(|w| w.failed) {
            return Err(StoreError::Failed);
        }
        // 1. The appended records and in-place marks reach the disk...
        self.flush_all()?;
        failpoint("commit-after-appends");
        // 2. ...before any committed address's head may point at them.
        let heads = std::mem::take(&mut self.writer().deferred_heads);
        if !heads.is_empty() {
            for (a, o) in heads {
                self.col_mut(Col::AddrHead)
                    .write_at(a as u64 * 5, &u40_bytes(o));
            }
            let c = self.col(Col::AddrHead);
            c.flush().map_err(io_at(c.path()))?;
            failpoint("commit-after-heads");
        }
        // 3. The manifest makes it all count.
        self.manifest.counts = self.cur;
        self.manifest.save(&self.dir).map_err(io_at(&self.dir))?;
        self.remove_stale_tables()
    }

    /// Commits, trims files to their content and marks the index clean.
    pub fn close(mut self) -> Result<()> {
        self.commit()?;
        for c in &mut self.cols {
            c.trim().map_err(io_at(&self.dir))?;
        }
        let dirty = self.dir.join(DIRTY);
        fs::remove_file(&dirty).map_err(io_at(&dirty))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io_at(&self.dir))
    }

    /// Removes every block from `height` on (a reorganisation).
    pub fn rollback_to(&mut self, height: u32) -> Result<()> {
        if height >= self.cur.blocks {
            return Ok(());
        }
        self.commit()?;
        let info = self.block_info(height);
        let txs = info.first_tx;
        let target = Counts {
            blocks: height,
            txs,
            outs: if txs < self.cur.txs {
                self.tx_outputs(TxNum(txs)).start
            } else {
                self.cur.outs
            },
            ins: if txs < self.cur.txs {
                self.tx_inputs(TxNum(txs)).start
            } else {
                self.cur.ins
            },
            addrs: info.first_addr,
            coinbase_bytes: info.cb_off,
            big_values: 0,
            big_ins: 0,
            big_prevs: 0,
            key_bytes: 0,
            links: 0,
            big_txs: 0,
        };
        let target = Counts {
            big_values: wide::below(self.col(Col::OutBig).bytes(), target.outs),
            big_ins: wide::below(self.col(Col::InBig).bytes(), target.ins),
            big_prevs: wide::below(self.col(Col::PrevBig).bytes(), target.outs),
            big_txs: spans::big_below(self.col(Col::TxBig).bytes(), target.txs as u64),
            links: self.links_below(target.outs),
            key_bytes: self
                .key_offset(target.addrs)
                .ok_or_else(|| StoreError::Io {
                    path: self.dir.join(Col::AddrBody.file_name()),
                    cause: io::Error::new(io::ErrorKind::InvalidData, "damaged address keys"),
                })?,
            ..target
        };
        self.manifest.pending_rollback = Some(target);
        self.manifest.save(&self.dir).map_err(io_at(&self.dir))?;
        self.finish_rollback(target)
    }

    /// Undoes everything above `target`; safe to run again after a crash.
    fn finish_rollback(&mut self, target: Counts) -> Result<()> {
        let c = self.cur;
        for i in (target.ins..c.ins).rev() {
            let o = self.in_out(i);
            if o < target.outs {
                let s = self.read_u32(Col::OutSpent, o);
                if s != UNSPENT && s >= target.txs {
                    self.col_mut(Col::OutSpent)
                        .write_at(o * 4, &UNSPENT.to_le_bytes());
                }
            }
        }
        failpoint("rollback-undo");
        for o in (target.outs..c.outs).rev() {
            let a = self.out_addr(OutId(o)).map_or(NO_ADDR, |a| a.0);
            if a != NO_ADDR && a < target.addrs {
                let prev = self.out_prev(OutId(o)).map_or(NONE40, |p| p.0);
                self.col_mut(Col::AddrHead)
                    .write_at(a as u64 * 5, &u40_bytes(prev));
            }
        }
        if let Some(w) = self.writer.as_mut() {
            w.spends.clear();
        }
        self.txid_tbl.table_mut().forget_from(target.txs);
        self.addr_tbl.table_mut().forget_from(target.addrs);
        self.clear_past(target, &[Col::AddrGrp]);
        for col in Col::ALL {
            let len = col.len_for(&target);
            self.col_mut(col).truncate(len);
        }
        self.cur = target;
        self.flush_all()?;
        self.manifest.counts = target;
        self.manifest.pending_rollback = None;
        self.manifest.save(&self.dir).map_err(io_at(&self.dir))?;
        // Only now: the loop above, run again after a crash, reads these
        // bits, and a reader of the manifest before reads these counts.
        // Cut off before this, the repair at the next open clears them.
        let later = [Col::OutLink, Col::OutType, Col::TxOut, Col::TxIn];
        self.clear_past(target, &later);
        for col in later {
            let c = self.col(col);
            c.flush().map_err(io_at(c.path()))?;
        }
        Ok(())
    }
}

/// The bytes that give outputs' previous outputs of the same address.
struct Prevs<'a> {
    /// `out_link.col`.
    links: &'a [u8],
    /// `out_prev.col`.
    codes: &'a [u8],
    /// `prev_big.col`.
    wide: &'a [u8],
    /// Its committed entries ([`wide::get_past`]).
    sorted: u64,
}

impl Prevs<'_> {
    /// The previous output of output `o` of the same address; `None` when
    /// it has none, or when the bytes do not reach it or point forward (a
    /// damaged index).
    fn of(&self, o: u64) -> Option<u64> {
        let Link::Linked(k) = links::at(self.links, o)? else {
            return None;
        };
        let at = usize::try_from(k).ok()?.checked_mul(4)?;
        let code = u32::from_le_bytes(self.codes.get(at..at.checked_add(4)?)?.try_into().ok()?);
        let p = match code {
            wide::PREV_NONE => return None,
            wide::PREV_WIDE => wide::get_past(self.wide, self.sorted, o)?,
            d => o.checked_sub(d as u64)?,
        };
        (p < o).then_some(p)
    }
}

fn read_all(path: &Path) -> Result<Vec<u8>> {
    match fs::read(path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(StoreError::Io {
            path: path.to_path_buf(),
            cause: e,
        }),
    }
}

#[cfg(test)]
mod tests {
    //! The real first 4,313 mainnet blocks indexed with the narrow `in_out`
    //! window of unit tests (`wide.rs`), so that most inputs, which spend
    //! coins thousands of outputs older, take the wide path; and with it
    //! the 50 BTC outputs, all wide values.
    use super::*;
    use crate::ingest::{ingest, IngestOptions, NoProgress};
    use crate::source::Source;

    fn index(dir: &Path) {
        index_file(
            &chainhound_testdata::shared("blocks/mainnet_h0-4312.dat"),
            dir,
        );
    }

    fn index_file(file: &Path, dir: &Path) {
        std::env::set_var(SEED_ENV, "42");
        let src = Source::path(file).unwrap();
        ingest(&src, dir, &IngestOptions::default(), &mut NoProgress).unwrap();
    }

    /// Asserts that two index directories hold the same column files.
    fn assert_same_columns(a: &Path, b: &Path, what: &str) {
        for col in Col::ALL {
            let f = col.file_name();
            let same = std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap();
            assert!(same, "{f} differs {what}");
        }
    }

    /// Every input's output, from the blocks: the txid's transaction in the
    /// index and the vout.
    fn check_prevouts(st: &Store) -> (u64, u64) {
        let data =
            std::fs::read(chainhound_testdata::shared("blocks/mainnet_h0-4312.dat")).unwrap();
        let (mut p, mut height, mut checked, mut coinbase) = (0usize, 0u32, 0u64, 0u64);
        while p + 8 <= data.len() && height < st.counts().blocks {
            let size = u32::from_le_bytes(data[p + 4..p + 8].try_into().unwrap()) as usize;
            let b = chainhound_chain::Block::parse(&data[p + 8..p + 8 + size]).unwrap();
            assert_eq!(st.block_hash(height), b.hash, "the file is in height order");
            let txs = st.block_txs(height);
            for (k, tx) in b.txs.iter().enumerate() {
                let t = TxNum(txs.start + k as u32);
                for (o, out) in st.tx_outputs(t).zip(&b.outputs[tx.outputs.clone()]) {
                    assert_eq!(st.out_value(OutId(o)), out.value, "value of output {o}");
                    let ty = chainhound_chain::classify(out.script_pubkey).0;
                    assert_eq!(st.out_type(OutId(o)), ty, "type of output {o}");
                }
                let ins = st.tx_inputs(t);
                for (i, inp) in ins.zip(&b.inputs[tx.inputs.clone()]) {
                    let want = if inp.prev_txid.0 == [0; 32] {
                        coinbase += 1;
                        None
                    } else {
                        let t = st.find_tx(&inp.prev_txid).expect("spent tx indexed");
                        Some(OutId(st.tx_outputs(t).start + inp.prev_vout as u64))
                    };
                    assert_eq!(st.in_prevout(i), Ok(want), "input {i}");
                    checked += 1;
                }
            }
            p += 8 + size;
            height += 1;
        }
        (checked, coinbase)
    }

    #[test]
    fn outputs_out_of_reach_of_the_input_codes_are_listed_and_roll_back() {
        let t = tempfile::tempdir().unwrap();
        let (ix, fresh) = (t.path().join("ix"), t.path().join("fresh"));
        index(&ix);
        let st = Store::open(&ix).unwrap();
        let c = st.counts();
        assert_eq!((checked_all(&st), c.ins), (c.ins, 4_560));
        // Far more than half the spends are older than the narrow window.
        assert!(c.big_ins > (c.ins - c.blocks as u64) / 2, "{c:?}");
        assert!(c.big_values >= 4_000, "50 BTC coinbases: {c:?}");
        assert!(c.big_prevs > 0 && c.big_prevs < c.links, "{c:?}");
        drop(st);

        // Rolled back to the middle (an odd output count, so that the last
        // type byte is shared), both lists are cut where the blocks end: the
        // index of those blocks alone; and a run on from there makes the
        // index a single run makes.
        let mut st = Store::open_writer(&ix, Network::Mainnet).unwrap();
        // (and a transaction count inside a `tx_out` record, an output count
        // inside an `out_link` record and an address count inside an address
        // group, whose bytes past them are cleared too: every part of
        // `clear_past`).
        let h = (2_500..2_600)
            .find(|&h| {
                let t = st.block_txs(h).start;
                let o = st.tx_outputs(TxNum(t)).start;
                let a = st.block_info(h).first_addr;
                o % 2 == 1
                    && !(t as u64).is_multiple_of(spans::GROUP)
                    && !o.is_multiple_of(links::GROUP)
                    && !(a as u64).is_multiple_of(KEY_GROUP)
            })
            .unwrap();
        st.rollback_to(h).unwrap();
        let r = st.counts();
        assert!(
            r.big_ins < c.big_ins && r.big_values < c.big_values,
            "{r:?}"
        );
        assert!(r.big_prevs < c.big_prevs, "{r:?}");
        assert_eq!(checked_all(&st), r.ins);
        st.close().unwrap();
        let data =
            std::fs::read(chainhound_testdata::shared("blocks/mainnet_h0-4312.dat")).unwrap();
        let mut end = 0;
        for _ in 0..h {
            end += 8 + u32::from_le_bytes(data[end + 4..end + 8].try_into().unwrap()) as usize;
        }
        let (part_file, part) = (t.path().join("part.dat"), t.path().join("part"));
        std::fs::write(&part_file, &data[..end]).unwrap();
        index_file(&part_file, &part);
        assert_same_columns(&ix, &part, "from an index of the blocks below the rollback");
        index(&ix);
        index(&fresh);
        assert_same_columns(&ix, &fresh, "after the rollback and a run on");
    }

    fn checked_all(st: &Store) -> u64 {
        let (checked, coinbase) = check_prevouts(st);
        assert_eq!(coinbase, st.counts().blocks as u64);
        // The census reads the packed types as `out_type` does.
        let mut types = [0u64; 256];
        for o in 0..st.counts().outs {
            types[st.out_type(OutId(o)) as usize] += 1;
        }
        assert_eq!(st.output_census().0, types);
        // Each address's history, newest first, is its outputs.
        let mut paid: Vec<Vec<u64>> = vec![Vec::new(); st.counts().addrs as usize];
        for o in 0..st.counts().outs {
            if let Some(a) = st.out_addr(OutId(o)) {
                paid[a.0 as usize].push(o);
            }
        }
        for (a, outs) in paid.iter().enumerate() {
            let mut walked = Vec::new();
            let mut h = st.addr_head(AddrId(a as u32));
            while let Some(o) = h {
                walked.push(o.0);
                h = st.out_prev(o);
            }
            walked.reverse();
            assert_eq!(&walked, outs, "history of address {a}");
        }
        checked
    }
}
