//! Zero-copy parsing of blocks and transactions from byte slices.
//!
//! The parser owns nothing and does no I/O: it reads a slice and returns
//! views that borrow from it. Every count and length read from the input is
//! checked against the bytes that remain before anything is allocated, so a
//! hostile block (absurd varints, lying lengths) costs at most a few
//! allocations proportional to its real size, and an error names the byte
//! offset (from the start of the slice) where parsing stopped.

use crate::hash::{sha256d, sha256d_parts, sha256d_two, BlockHash, Txid};
use std::ops::Range;

/// Why a block or transaction could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct ParseError {
    /// Byte offset from the start of the parsed slice.
    pub offset: usize,
    /// What went wrong.
    pub kind: ParseErrorKind,
}

/// The kinds of [`ParseError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The data ends before the structure does.
    #[error("truncated: needed {needed} more bytes")]
    Truncated {
        /// Bytes missing.
        needed: usize,
    },
    /// A count or length cannot fit in the bytes that remain.
    #[error("{what} of {value} cannot fit in the {remaining} bytes left")]
    Absurd {
        /// Which field.
        what: &'static str,
        /// The value read.
        value: u64,
        /// Bytes left in the input.
        remaining: usize,
    },
    /// A varint that is not in its shortest form.
    #[error("non-canonical varint")]
    NonCanonicalVarint,
    /// A segwit marker followed by an unknown flag.
    #[error("unknown segwit flag {0:#04x}")]
    BadSegwitFlag(u8),
    /// A block with no transactions.
    #[error("block has no transactions")]
    NoTransactions,
    /// The merkle root in the header does not match the transactions.
    #[error("merkle root mismatch")]
    MerkleMismatch,
}

fn err(offset: usize, kind: ParseErrorKind) -> ParseError {
    ParseError { offset, kind }
}

/// A cursor over a byte slice that reports offsets on error.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ParseError> {
        if self.remaining() < n {
            return Err(err(
                self.pos,
                ParseErrorKind::Truncated {
                    needed: n - self.remaining(),
                },
            ));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ParseError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, ParseError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, ParseError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, ParseError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn varint(&mut self) -> Result<u64, ParseError> {
        let at = self.pos;
        let first = self.u8()?;
        let (v, min) = match first {
            0xfd => (u16::from_le_bytes(self.array()?) as u64, 0xfd),
            0xfe => (u32::from_le_bytes(self.array()?) as u64, 0x1_0000),
            0xff => (self.u64()?, 0x1_0000_0000),
            n => return Ok(n as u64),
        };
        if v < min {
            return Err(err(at, ParseErrorKind::NonCanonicalVarint));
        }
        Ok(v)
    }

    /// A count of items each at least `min_size` bytes long.
    fn count(&mut self, what: &'static str, min_size: usize) -> Result<usize, ParseError> {
        let at = self.pos;
        let v = self.varint()?;
        let remaining = self.remaining();
        if v > (remaining / min_size.max(1)) as u64 {
            return Err(err(
                at,
                ParseErrorKind::Absurd {
                    what,
                    value: v,
                    remaining,
                },
            ));
        }
        Ok(v as usize)
    }

    fn var_bytes(&mut self, what: &'static str) -> Result<&'a [u8], ParseError> {
        let n = self.count(what, 1)?;
        self.take(n)
    }
}

/// The 80-byte block header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Block version (signalling bits included).
    pub version: i32,
    /// Hash of the previous block; zero for a genesis block.
    pub prev: BlockHash,
    /// Merkle root of the transactions.
    pub merkle_root: [u8; 32],
    /// Timestamp, seconds since the Unix epoch.
    pub time: u32,
    /// Compact proof-of-work target.
    pub bits: u32,
    /// Nonce.
    pub nonce: u32,
}

impl Header {
    /// Size of a serialized header.
    pub const SIZE: usize = 80;

    /// Parses a header from the first 80 bytes of `data`.
    pub fn parse(data: &[u8]) -> Result<Header, ParseError> {
        let mut r = Reader { data, pos: 0 };
        Ok(Header {
            version: r.u32()? as i32,
            prev: BlockHash(r.array()?),
            merkle_root: r.array()?,
            time: r.u32()?,
            bits: r.u32()?,
            nonce: r.u32()?,
        })
    }

    /// The block hash of the header at the start of `data` (80 bytes at least).
    pub fn hash_of(data: &[u8; 80]) -> BlockHash {
        BlockHash(sha256d(data))
    }
}

/// A transaction input, borrowing its script from the block.
#[derive(Debug, Clone, Copy)]
pub struct TxIn<'a> {
    /// Txid of the transaction whose output this spends (zero for a coinbase).
    pub prev_txid: Txid,
    /// Output index spent (`0xffffffff` for a coinbase).
    pub prev_vout: u32,
    /// The unlocking script.
    pub script_sig: &'a [u8],
    /// nSequence.
    pub sequence: u32,
}

impl TxIn<'_> {
    /// Does this input have the null prevout of a coinbase?
    pub fn is_null_prevout(&self) -> bool {
        self.prev_vout == u32::MAX && self.prev_txid.is_zero()
    }
}

/// A transaction output, borrowing its script from the block.
#[derive(Debug, Clone, Copy)]
pub struct TxOut<'a> {
    /// Value in satoshis, as on the wire (not checked against the money supply).
    pub value: u64,
    /// The locking script.
    pub script_pubkey: &'a [u8],
}

/// A parsed transaction: its id and where its inputs and outputs sit in the
/// block's flat input and output lists.
#[derive(Debug, Clone)]
pub struct Tx<'a> {
    /// Transaction id.
    pub txid: Txid,
    /// Version.
    pub version: i32,
    /// nLockTime.
    pub lock_time: u32,
    /// Indexes into [`Block::inputs`].
    pub inputs: Range<usize>,
    /// Indexes into [`Block::outputs`].
    pub outputs: Range<usize>,
    /// Serialized with witness data (BIP144)?
    pub has_witness: bool,
    /// The full serialization, witness included.
    pub raw: &'a [u8],
    /// Size without witness data (for weight: `3 * base_size + raw.len()`).
    pub base_size: usize,
}

impl<'a> Tx<'a> {
    /// The bytes the txid hashes, in three parts: the serialization without
    /// its witness (version, inputs and outputs, lock time).
    pub fn txid_parts(&self) -> [&'a [u8]; 3] {
        if self.has_witness {
            let raw = self.raw;
            // version (4), marker and flag (2), body, witness, lock time (4)
            [
                &raw[..4],
                &raw[6..self.base_size - 2],
                &raw[raw.len() - 4..],
            ]
        } else {
            [self.raw, &[], &[]]
        }
    }

    /// BIP141 weight.
    pub fn weight(&self) -> usize {
        3 * self.base_size + self.raw.len()
    }
}

/// A parsed block; transactions, inputs and outputs are flat lists.
#[derive(Debug, Clone)]
pub struct Block<'a> {
    /// The header.
    pub header: Header,
    /// The block hash.
    pub hash: BlockHash,
    /// Bytes consumed by the block.
    pub size: usize,
    /// Transactions in block order.
    pub txs: Vec<Tx<'a>>,
    /// Every input of every transaction, in order.
    pub inputs: Vec<TxIn<'a>>,
    /// Every output of every transaction, in order.
    pub outputs: Vec<TxOut<'a>>,
}

impl<'a> Block<'a> {
    /// Parses a block from the start of `data` and checks its merkle root.
    /// Bytes after the block are ignored; [`Block::size`] says how many were used.
    pub fn parse(data: &'a [u8]) -> Result<Block<'a>, ParseError> {
        let block = Self::parse_unchecked(data)?;
        // Room for the copy of an odd last txid, so no level reallocates.
        let mut txids = Vec::with_capacity(block.txs.len() + 1);
        txids.extend(block.txs.iter().map(|t| t.txid.0));
        if merkle_root(txids) != block.header.merkle_root {
            return Err(err(0, ParseErrorKind::MerkleMismatch));
        }
        Ok(block)
    }

    /// Parses a block without checking its merkle root.
    pub fn parse_unchecked(data: &'a [u8]) -> Result<Block<'a>, ParseError> {
        let mut r = Reader { data, pos: 0 };
        let hdr_bytes: [u8; 80] = r.array()?;
        let header = Header::parse(&hdr_bytes)?;
        let hash = Header::hash_of(&hdr_bytes);
        // The smallest transaction is 10 bytes (version, two empty lists, locktime).
        let ntx = r.count("transaction count", 10)?;
        if ntx == 0 {
            return Err(err(80, ParseErrorKind::NoTransactions));
        }
        let mut block = Block {
            header,
            hash,
            size: 0,
            // Capped: the count is only known to fit the bytes left, and a
            // lying block should not make us reserve for 400,000 txs.
            txs: Vec::with_capacity(ntx.min(4096)),
            inputs: Vec::with_capacity(ntx.min(4096)),
            outputs: Vec::with_capacity((ntx * 2).min(8192)),
        };
        for _ in 0..ntx {
            let tx = parse_tx(&mut r, &mut block.inputs, &mut block.outputs)?;
            block.txs.push(tx);
        }
        set_txids(&mut block.txs);
        block.size = r.pos;
        Ok(block)
    }

    /// The transactions' inputs.
    pub fn tx_inputs(&self, tx: &Tx<'_>) -> &[TxIn<'a>] {
        &self.inputs[tx.inputs.clone()]
    }

    /// The transactions' outputs.
    pub fn tx_outputs(&self, tx: &Tx<'_>) -> &[TxOut<'a>] {
        &self.outputs[tx.outputs.clone()]
    }

    /// The coinbase scriptSig (first input of the first transaction).
    pub fn coinbase_script(&self) -> &'a [u8] {
        self.txs
            .first()
            .and_then(|t| self.inputs.get(t.inputs.start))
            .map(|i| i.script_sig)
            .unwrap_or(&[])
    }

    /// The height a block claims in its coinbase (BIP34), for version 2 and later.
    pub fn bip34_height(&self) -> Option<u32> {
        if self.header.version < 2 {
            return None;
        }
        bip34_height(self.coinbase_script())
    }
}

/// Parses one transaction from the start of `data` (a stand-alone helper for
/// tests and tools). Returns the transaction and its inputs and outputs.
pub fn parse_transaction(
    data: &[u8],
) -> Result<(Tx<'_>, Vec<TxIn<'_>>, Vec<TxOut<'_>>), ParseError> {
    let mut r = Reader { data, pos: 0 };
    let mut ins = Vec::new();
    let mut outs = Vec::new();
    let mut tx = parse_tx(&mut r, &mut ins, &mut outs)?;
    set_txids(std::slice::from_mut(&mut tx));
    Ok((tx, ins, outs))
}

/// Computes the txids of parsed transactions, two at a time
/// ([`sha256d_two`]).
fn set_txids(txs: &mut [Tx<'_>]) {
    let mut pairs = txs.chunks_exact_mut(2);
    for p in &mut pairs {
        let [a, b] = sha256d_two(p[0].txid_parts(), p[1].txid_parts());
        p[0].txid = Txid(a);
        p[1].txid = Txid(b);
    }
    for t in pairs.into_remainder() {
        t.txid = Txid(sha256d_parts(&t.txid_parts()));
    }
}

fn parse_tx<'a>(
    r: &mut Reader<'a>,
    inputs: &mut Vec<TxIn<'a>>,
    outputs: &mut Vec<TxOut<'a>>,
) -> Result<Tx<'a>, ParseError> {
    let start = r.pos;
    let version = r.u32()? as i32;
    let mut has_witness = false;
    // BIP144: a zero byte where the input count belongs is the segwit marker.
    if r.remaining() >= 2 && r.data[r.pos] == 0 {
        let flag = r.data[r.pos + 1];
        if flag != 1 {
            return Err(err(r.pos + 1, ParseErrorKind::BadSegwitFlag(flag)));
        }
        has_witness = true;
        r.pos += 2;
    }
    let body_start = r.pos;
    // An input is at least 41 bytes: outpoint, empty script, sequence.
    let nin = r.count("input count", 41)?;
    let in_start = inputs.len();
    for _ in 0..nin {
        let prev_txid = Txid(r.array()?);
        let prev_vout = r.u32()?;
        let script_sig = r.var_bytes("scriptSig length")?;
        let sequence = r.u32()?;
        inputs.push(TxIn {
            prev_txid,
            prev_vout,
            script_sig,
            sequence,
        });
    }
    // An output is at least 9 bytes: value and an empty script.
    let nout = r.count("output count", 9)?;
    let out_start = outputs.len();
    for _ in 0..nout {
        let value = r.u64()?;
        let script_pubkey = r.var_bytes("scriptPubKey length")?;
        outputs.push(TxOut {
            value,
            script_pubkey,
        });
    }
    let body_end = r.pos;
    if has_witness {
        for _ in 0..nin {
            let items = r.count("witness item count", 1)?;
            for _ in 0..items {
                r.var_bytes("witness item length")?;
            }
        }
    }
    let lock_bytes = r.take(4)?;
    let lock_time =
        u32::from_le_bytes([lock_bytes[0], lock_bytes[1], lock_bytes[2], lock_bytes[3]]);
    let raw = &r.data[start..r.pos];
    Ok(Tx {
        // set for the whole block at once, two at a time (`set_txids`)
        txid: Txid::ZERO,
        version,
        lock_time,
        inputs: in_start..inputs.len(),
        outputs: out_start..outputs.len(),
        has_witness,
        raw,
        base_size: 8 + (body_end - body_start),
    })
}

/// The merkle root of a list of txids (internal byte order), as in headers.
pub fn merkle_root(mut level: Vec<[u8; 32]>) -> [u8; 32] {
    if level.is_empty() {
        return [0; 32];
    }
    while level.len() > 1 {
        if level.len() % 2 == 1 {
            let last = level[level.len() - 1];
            level.push(last);
        }
        // Two parents at a time ([`sha256d_two`]); an odd pair at the end
        // on its own. Parents `p, p + 1` are made of children `2p ..= 2p + 3`,
        // none before `p`: the level is overwritten in place.
        let n = level.len() / 2;
        let mut p = 0;
        while p + 2 <= n {
            let c = &level[2 * p..2 * p + 4];
            let [x, y] = sha256d_two([&c[0], &c[1], &[]], [&c[2], &c[3], &[]]);
            level[p] = x;
            level[p + 1] = y;
            p += 2;
        }
        if p < n {
            level[p] = sha256d_parts(&[&level[2 * p], &level[2 * p + 1]]);
        }
        level.truncate(n);
    }
    level[0]
}

/// The height pushed at the start of a coinbase scriptSig (BIP34), if the
/// script starts with a minimal number push.
pub fn bip34_height(script_sig: &[u8]) -> Option<u32> {
    let op = *script_sig.first()?;
    match op {
        0x00 => Some(0),
        0x51..=0x60 => Some((op - 0x50) as u32),
        1..=4 => {
            let n = op as usize;
            let bytes = script_sig.get(1..1 + n)?;
            // Script numbers are little-endian with a sign bit in the last byte.
            if bytes[n - 1] & 0x80 != 0 {
                return None;
            }
            let mut v: u32 = 0;
            for (i, b) in bytes.iter().enumerate() {
                v |= (*b as u32) << (8 * i);
            }
            Some(v)
        }
        _ => None,
    }
}

/// Decodes a compact target (`nBits`) to its 256-bit value as big-endian
/// bytes, or `None` if it is negative, zero or overflows.
pub fn target_from_bits(bits: u32) -> Option<[u8; 32]> {
    let exp = (bits >> 24) as usize;
    let mant = bits & 0x007f_ffff;
    if bits & 0x0080_0000 != 0 || mant == 0 {
        return None;
    }
    let mut t = [0u8; 32];
    let m = [(mant >> 16) as u8, (mant >> 8) as u8, mant as u8];
    // value = mant * 256^(exp-3): byte i of m lands at big-endian index 32-exp+i.
    for (i, b) in m.iter().enumerate() {
        let pos = 32 + i;
        if pos < exp {
            if *b != 0 {
                return None; // overflow
            }
            continue;
        }
        let idx = pos - exp;
        if idx < 32 {
            t[idx] = *b;
        }
    }
    if t == [0; 32] {
        return None;
    }
    Some(t)
}

/// Does the block hash meet the target its bits claim (and is that target
/// no easier than `limit_bits`)?
pub fn check_pow(hash: &BlockHash, bits: u32, limit_bits: u32) -> bool {
    let (Some(target), Some(limit)) = (target_from_bits(bits), target_from_bits(limit_bits)) else {
        return false;
    };
    if target > limit {
        return false;
    }
    let mut h = hash.0;
    h.reverse(); // to big-endian
    h <= target
}

/// Expected work of a block with this compact target, `2^256 / (target+1)`,
/// saturated to `u128` (real targets never saturate).
pub fn work_from_bits(bits: u32) -> u128 {
    let Some(t) = target_from_bits(bits) else {
        return 0;
    };
    // target ~= top * 256^sb, with top the 8 bytes from the first non-zero one.
    let lead = t.iter().position(|b| *b != 0).unwrap_or(31);
    let mut top_bytes = [0u8; 8];
    for (i, slot) in top_bytes.iter_mut().enumerate() {
        *slot = *t.get(lead + i).unwrap_or(&0);
    }
    let top = u64::from_be_bytes(top_bytes).max(1) as u128;
    let sb = 24 - lead as i32;
    // work = 2^(256 - 8 sb) / top = (2^127 / top) * 2^(129 - 8 sb)
    let base = (1u128 << 127) / top;
    let extra = 129 - 8 * sb;
    if extra < 0 {
        if -extra >= 128 {
            0
        } else {
            base >> (-extra)
        }
    } else if (base.leading_zeros() as i32) > extra {
        base << extra
    } else {
        u128::MAX
    }
}

/// The coinbase detector: the first transaction of a block with one input
/// whose prevout is null.
pub fn is_coinbase_position(tx_index: usize, inputs: &[TxIn<'_>]) -> bool {
    tx_index == 0 && inputs.len() == 1 && inputs[0].is_null_prevout()
}
