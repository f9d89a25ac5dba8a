//! Answers to chain questions, as plain values ready to print or serialize.
//!
//! Owns: turning ids from the store into views with txids, heights, times
//! and address strings (blocks, transactions with their prevouts and
//! spenders, address summaries and paged histories, statistics).
//!
//! Must not: change the store or format text for a terminal (the CLI does).

use crate::store::{AddrId, OutId, Store, TxMeta, TxNum};
use chainhound_chain::amount::sum_sats;
use chainhound_chain::{address, AddressKey, BlockHash, ScriptType, Txid};
use serde::Serialize;
use std::collections::BTreeMap;

/// A block.
#[derive(Debug, Clone, Serialize)]
pub struct BlockView {
    /// Height.
    pub height: u32,
    /// Hash.
    pub hash: BlockHash,
    /// Previous block hash.
    pub prev_hash: Option<BlockHash>,
    /// Header time.
    pub time: u32,
    /// Header version.
    pub version: i32,
    /// Compact target.
    pub bits: String,
    /// Nonce.
    pub nonce: u32,
    /// Size in bytes.
    pub size: u32,
    /// Number of transactions.
    pub tx_count: u32,
    /// Coinbase scriptSig, hex.
    pub coinbase_hex: String,
    /// Printable text of the coinbase scriptSig.
    pub coinbase_text: String,
    /// Total value of the coinbase outputs.
    pub coinbase_value: u64,
    /// Txids in block order.
    pub txids: Vec<Txid>,
}

/// A wallet fingerprint in words: `v1`/`v2`/`v?`, `locktime=height|time`
/// when set, `rbf` or `final` sequences, `segwit`.
pub fn fingerprint(m: TxMeta) -> String {
    let mut parts = vec![if m.has(TxMeta::VERSION_1) {
        "v1"
    } else if m.has(TxMeta::VERSION_2) {
        "v2"
    } else {
        "v?"
    }];
    if m.has(TxMeta::LOCKTIME_HEIGHT) {
        parts.push("locktime=height");
    }
    if m.has(TxMeta::LOCKTIME_TIME) {
        parts.push("locktime=time");
    }
    if m.has(TxMeta::RBF) {
        parts.push("rbf");
    }
    if m.has(TxMeta::FINAL) {
        parts.push("final");
    }
    if m.has(TxMeta::SEGWIT) {
        parts.push("segwit");
    }
    parts.join(" ")
}

/// Printable ASCII runs of a script, as explorers show coinbase text.
pub fn printable(script: &[u8]) -> String {
    script
        .iter()
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            }
        })
        .collect()
}

/// An input of a transaction.
#[derive(Debug, Clone, Serialize)]
pub struct InputView {
    /// Position in the transaction.
    pub index: u32,
    /// Is this the coinbase input?
    pub coinbase: bool,
    /// Txid and output index spent.
    pub prevout: Option<(Txid, u32)>,
    /// Value spent, satoshis.
    pub value: Option<u64>,
    /// Address spent from.
    pub address: Option<String>,
    /// Script type of the output spent.
    pub script_type: Option<ScriptType>,
    /// Height of the output spent.
    pub prev_height: Option<u32>,
    /// Was the output spent created by a coinbase?
    pub prev_coinbase: Option<bool>,
    /// The previous output was not found at ingest.
    pub unresolved: bool,
}

impl InputView {
    /// An input with no previous output to show: a coinbase input, or one
    /// whose previous output was not found at ingest.
    fn without_prevout(index: u32, coinbase: bool, unresolved: bool) -> InputView {
        InputView {
            index,
            coinbase,
            prevout: None,
            value: None,
            address: None,
            script_type: None,
            prev_height: None,
            prev_coinbase: None,
            unresolved,
        }
    }
}

/// An output of a transaction.
#[derive(Debug, Clone, Serialize)]
pub struct OutputView {
    /// Output index (vout).
    pub index: u32,
    /// Value, satoshis.
    pub value: u64,
    /// Address, if any.
    pub address: Option<String>,
    /// Script type.
    pub script_type: ScriptType,
    /// The input that spends it.
    pub spent_by: Option<SpendView>,
}

/// Where an output is spent.
#[derive(Debug, Clone, Serialize)]
pub struct SpendView {
    /// Spending transaction.
    pub txid: Txid,
    /// Input index in it.
    pub input: u32,
    /// Its height.
    pub height: u32,
}

/// A transaction with its inputs' prevouts and its outputs' spenders.
#[derive(Debug, Clone, Serialize)]
pub struct TxView {
    /// Txid.
    pub txid: Txid,
    /// Transaction number in the index.
    pub tx_num: u32,
    /// Block height.
    pub height: u32,
    /// Block hash.
    pub block_hash: BlockHash,
    /// Block time.
    pub time: u32,
    /// Position in the block.
    pub index_in_block: u32,
    /// Is it a coinbase?
    pub coinbase: bool,
    /// Inputs.
    pub inputs: Vec<InputView>,
    /// Outputs.
    pub outputs: Vec<OutputView>,
    /// Sum of input values (resolved ones).
    pub value_in: u64,
    /// Sum of output values.
    pub value_out: u64,
    /// Fee, when every input was resolved (none for a coinbase).
    pub fee: Option<u64>,
    /// Wallet fingerprint: nVersion, nLockTime kind, sequences, witness
    /// (e.g. `v2 locktime=height rbf segwit`).
    pub fingerprint: String,
}

/// One transaction in an address's history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// Txid.
    pub txid: Txid,
    /// Height.
    pub height: u32,
    /// Block time.
    pub time: u32,
    /// Value the address received in it.
    pub received: u64,
    /// Value the address spent in it.
    pub sent: u64,
}

/// The first or last time an address was seen.
#[derive(Debug, Clone, Serialize)]
pub struct Seen {
    /// Height.
    pub height: u32,
    /// Block time.
    pub time: u32,
    /// Transaction.
    pub txid: Txid,
}

/// An address with its totals and a page of its history (newest first).
#[derive(Debug, Clone, Serialize)]
pub struct AddressView {
    /// The address string.
    pub address: String,
    /// Its id in the index.
    pub id: u32,
    /// Script types of the outputs paying it (P2PK and P2PKH share an address).
    pub script_types: Vec<ScriptType>,
    /// Total received, satoshis.
    pub received: u64,
    /// Total sent, satoshis.
    pub sent: u64,
    /// Balance, satoshis.
    pub balance: u64,
    /// Number of distinct transactions.
    pub tx_count: usize,
    /// Outputs received.
    pub output_count: usize,
    /// Outputs not yet spent.
    pub unspent_count: usize,
    /// First seen.
    pub first_seen: Option<Seen>,
    /// Last seen.
    pub last_seen: Option<Seen>,
    /// Offset of this page in the history.
    pub offset: usize,
    /// Transactions in this page, newest first.
    pub history: Vec<HistoryEntry>,
}

/// Index statistics.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Network.
    pub network: String,
    /// Blocks.
    pub blocks: u32,
    /// Tip height.
    pub tip_height: Option<u32>,
    /// Tip hash.
    pub tip_hash: Option<BlockHash>,
    /// Transactions.
    pub txs: u32,
    /// Inputs (coinbase inputs included).
    pub inputs: u64,
    /// Outputs.
    pub outputs: u64,
    /// Unspent outputs.
    pub unspent_outputs: u64,
    /// Distinct addresses.
    pub addresses: u32,
    /// Outputs per script type.
    pub script_types: BTreeMap<String, u64>,
    /// Bytes per file.
    pub files: Vec<(String, u64)>,
    /// All bytes.
    pub total_bytes: u64,
    /// Bytes per transaction.
    pub bytes_per_tx: f64,
}

/// Query helpers over an open [`Store`].
pub struct Query<'s> {
    store: &'s Store,
}

impl<'s> Query<'s> {
    /// Queries over `store`.
    pub fn new(store: &'s Store) -> Self {
        Query { store }
    }

    fn addr_string(&self, a: Option<AddrId>) -> Option<String> {
        a.map(|a| address::encode(&self.store.addr_key(a), self.store.network()))
    }

    /// A block by height.
    pub fn block(&self, height: u32) -> Option<BlockView> {
        let s = self.store;
        if height >= s.counts().blocks {
            return None;
        }
        let info = s.block_info(height);
        let txs = s.block_txs(height);
        let cb = s.coinbase(height);
        Some(BlockView {
            height,
            hash: s.block_hash(height),
            prev_hash: height.checked_sub(1).map(|h| s.block_hash(h)),
            time: info.time,
            version: info.version,
            bits: format!("{:08x}", info.bits),
            nonce: info.nonce,
            size: info.size,
            tx_count: txs.end - txs.start,
            coinbase_hex: chainhound_chain::hash::to_hex(cb),
            coinbase_text: printable(cb),
            coinbase_value: if txs.is_empty() {
                0
            } else {
                sum_sats(
                    s.tx_outputs(TxNum(txs.start))
                        .map(|o| s.out_value(OutId(o))),
                )
            },
            txids: txs.map(|t| s.txid(TxNum(t))).collect(),
        })
    }

    /// A block by hash.
    pub fn block_by_hash(&self, hash: &BlockHash) -> Option<BlockView> {
        self.block(self.store.height_of(hash)?)
    }

    /// A transaction by txid.
    pub fn tx(&self, txid: &Txid) -> Option<TxView> {
        Some(self.tx_num(self.store.find_tx(txid)?))
    }

    /// Input `i` (the `index`-th of its transaction) with the output it spends.
    pub fn input(&self, index: u32, i: u64) -> InputView {
        let s = self.store;
        match s.in_prevout(i) {
            Ok(None) => InputView::without_prevout(index, true, false),
            Err(()) => InputView::without_prevout(index, false, true),
            Ok(Some(o)) => {
                let pt = s.out_tx(o);
                let ph = s.tx_height(pt);
                InputView {
                    index,
                    coinbase: false,
                    prevout: Some((s.txid(pt), s.out_vout(pt, o))),
                    value: Some(s.out_value(o)),
                    address: self.addr_string(s.out_addr(o)),
                    script_type: Some(s.out_type(o)),
                    prev_height: Some(ph),
                    prev_coinbase: Some(s.block_info(ph).first_tx == pt.0),
                    unresolved: false,
                }
            }
        }
    }

    /// A transaction by number.
    pub fn tx_num(&self, t: TxNum) -> TxView {
        let s = self.store;
        let height = s.tx_height(t);
        let first = s.block_info(height).first_tx;
        let coinbase = t.0 == first;
        let mut value_in = 0u64;
        let mut all_resolved = true;
        let inputs: Vec<InputView> = s
            .tx_inputs(t)
            .enumerate()
            .map(|(k, i)| self.input(k as u32, i))
            .collect();
        for i in &inputs {
            value_in = value_in.saturating_add(i.value.unwrap_or(0));
            all_resolved &= !i.unresolved;
        }
        let outs = s.tx_outputs(t);
        let outputs: Vec<OutputView> = outs
            .clone()
            .map(|o| {
                let o = OutId(o);
                OutputView {
                    index: (o.0 - outs.start) as u32,
                    value: s.out_value(o),
                    address: self.addr_string(s.out_addr(o)),
                    script_type: s.out_type(o),
                    spent_by: s.out_spender(o).map(|(st, i)| SpendView {
                        txid: s.txid(st),
                        input: i.saturating_sub(s.tx_inputs(st).start) as u32,
                        height: s.tx_height(st),
                    }),
                }
            })
            .collect();
        let value_out = sum_sats(outputs.iter().map(|o| o.value));
        TxView {
            txid: s.txid(t),
            tx_num: t.0,
            height,
            block_hash: s.block_hash(height),
            time: s.block_info(height).time,
            index_in_block: t.0.saturating_sub(first),
            coinbase,
            fee: (!coinbase && all_resolved).then(|| value_in.saturating_sub(value_out)),
            fingerprint: fingerprint(s.tx_meta(t)),
            inputs,
            outputs,
            value_in,
            value_out,
        }
    }

    /// Outputs ever paid to an address, newest first.
    pub fn address_outputs(&self, a: AddrId) -> Vec<OutId> {
        let mut v = Vec::new();
        let mut cur = self.store.addr_head(a);
        while let Some(o) = cur {
            v.push(o);
            cur = self.store.out_prev(o);
        }
        v
    }

    /// Looks an address string up.
    pub fn find_address(
        &self,
        s: &str,
    ) -> Result<Option<(AddrId, AddressKey)>, address::AddressError> {
        let key = address::decode(s, self.store.network())?;
        Ok(self.store.find_addr(&key).map(|a| (a, key)))
    }

    /// An address summary with `limit` history entries from `offset`.
    pub fn address(&self, a: AddrId, offset: usize, limit: usize) -> AddressView {
        let s = self.store;
        let outs = self.address_outputs(a);
        let mut per_tx: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
        let mut types = Vec::new();
        let (mut received, mut sent, mut unspent) = (0u64, 0u64, 0usize);
        for &o in &outs {
            let v = s.out_value(o);
            let ty = s.out_type(o);
            if !types.contains(&ty) {
                types.push(ty);
            }
            received = received.saturating_add(v);
            let e = per_tx.entry(s.out_tx(o).0).or_default();
            e.0 = e.0.saturating_add(v);
            match s.out_spender(o) {
                Some((t, _)) => {
                    sent = sent.saturating_add(v);
                    let e = per_tx.entry(t.0).or_default();
                    e.1 = e.1.saturating_add(v);
                }
                None => unspent += 1,
            }
        }
        let seen = |t: u32| {
            let h = s.tx_height(TxNum(t));
            Seen {
                height: h,
                time: s.block_info(h).time,
                txid: s.txid(TxNum(t)),
            }
        };
        let history = per_tx
            .iter()
            .rev()
            .skip(offset)
            .take(limit)
            .map(|(&t, &(r, sn))| {
                let h = s.tx_height(TxNum(t));
                HistoryEntry {
                    txid: s.txid(TxNum(t)),
                    height: h,
                    time: s.block_info(h).time,
                    received: r,
                    sent: sn,
                }
            })
            .collect();
        AddressView {
            address: address::encode(&s.addr_key(a), s.network()),
            id: a.0,
            script_types: types,
            received,
            sent,
            balance: received.saturating_sub(sent),
            tx_count: per_tx.len(),
            output_count: outs.len(),
            unspent_count: unspent,
            first_seen: per_tx.keys().next().map(|&t| seen(t)),
            last_seen: per_tx.keys().next_back().map(|&t| seen(t)),
            offset,
            history,
        }
    }

    /// Statistics of the whole index.
    pub fn stats(&self) -> Stats {
        let s = self.store;
        let c = s.counts();
        let (by_byte, unspent) = s.output_census();
        let types: BTreeMap<String, u64> = by_byte
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(b, n)| {
                (
                    ScriptType::from_u8(b as u8)
                        .unwrap_or(ScriptType::Nonstandard)
                        .name()
                        .to_string(),
                    *n,
                )
            })
            .collect();
        let files: Vec<(String, u64)> = s
            .column_bytes()
            .into_iter()
            .map(|(n, b)| (n.to_string(), b))
            .collect();
        let total: u64 = files.iter().map(|f| f.1).sum();
        Stats {
            network: s.network().name().into(),
            blocks: c.blocks,
            tip_height: c.blocks.checked_sub(1),
            tip_hash: c.blocks.checked_sub(1).map(|h| s.block_hash(h)),
            txs: c.txs,
            inputs: c.ins,
            outputs: c.outs,
            unspent_outputs: unspent,
            addresses: c.addrs,
            script_types: types,
            files,
            total_bytes: total,
            bytes_per_tx: if c.txs > 0 {
                total as f64 / c.txs as f64
            } else {
                0.0
            },
        }
    }

    /// Every non-coinbase input with its resolved prevout, in chain order:
    /// (height, tx index in block, input index, value, script type,
    /// address, prevout height, prevout is coinbase). Used to check the index
    /// against Bitcoin Core's undo data.
    pub fn prevouts(&self) -> Vec<PrevoutRow> {
        let s = self.store;
        let mut rows = Vec::new();
        for h in 0..s.counts().blocks {
            let txs = s.block_txs(h);
            for t in txs.clone() {
                for (k, i) in s.tx_inputs(TxNum(t)).enumerate() {
                    let v = self.input(k as u32, i);
                    if v.coinbase {
                        continue;
                    }
                    rows.push(PrevoutRow {
                        height: h,
                        tx_index: t - txs.start,
                        input: k as u32,
                        value: v.value,
                        script_type: v.script_type,
                        address: v.address,
                        prev_height: v.prev_height,
                        prev_coinbase: v.prev_coinbase,
                    });
                }
            }
        }
        rows
    }
}

/// One row of [`Query::prevouts`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrevoutRow {
    /// Height of the spending block.
    pub height: u32,
    /// Position of the spending tx in its block.
    pub tx_index: u32,
    /// Input index.
    pub input: u32,
    /// Value spent (none if unresolved).
    pub value: Option<u64>,
    /// Script type of the output spent.
    pub script_type: Option<ScriptType>,
    /// Its address.
    pub address: Option<String>,
    /// Its height.
    pub prev_height: Option<u32>,
    /// Was it a coinbase output?
    pub prev_coinbase: Option<bool>,
}
