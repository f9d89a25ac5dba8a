//! Ingest: bring the index up to the most-work chain found in block files.
//!
//! Owns the run: scan headers (walking only what was appended since the
//! last run, through the header cache), choose the chain, find where the indexed
//! chain and the best chain part (rolling back if the best chain changed
//! under the indexed tip and has more work), then parse the new blocks on
//! parser threads (each its share, in turn) while another appends them to
//! the store in chain order, committing at a steady pace. Running it again
//! adds only new blocks.
//!
//! Must not: know the store's file layout (it calls `Store`), or print
//! anything (it reports through [`Progress`] and the returned report).

use crate::headercache::{self, HeaderCache};
use crate::headers::{BlockLoc, HeaderTree};
use crate::source::{Access, Releaser, Source, Warning};
use crate::store::spends;
use crate::store::{
    BlockInfo, KeyHasher, PreparedBlock, PreparedIn, PreparedKey, PreparedOut, PreparedTx, Store,
    StoreError, TxMeta, HELD_BYTES,
};
use chainhound_chain::parse::work_from_bits;
use chainhound_chain::{classify, Block, BlockHash, Network};
use std::path::Path;
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

/// Options of a run.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Only this network (default: the first record's).
    pub network: Option<Network>,
    /// Commit after this many blocks (0: every `commit_interval`).
    pub commit_every_blocks: u32,
    /// Commit after appending this long, or after [`COMMIT_SHARE`] times
    /// as long as the last commit took if that is longer (see
    /// [`commit_due`]).
    pub commit_interval: Duration,
    /// Stop after this height.
    pub max_height: Option<u32>,
    /// Memory for the spend cache, which answers spends of recent outputs
    /// without reading the index (`store::spends`; 0: none).
    pub spend_cache_bytes: u64,
    /// Appended bytes between two starts of the columns' writeback, after
    /// which the columns never read while appending are given back to the
    /// kernel if [`IngestOptions::drop_behind`] (`Store::set_writeback_every`).
    pub writeback_every: u64,
    /// New entries of each hash table held in memory and swept into its
    /// file at once (`Store::set_max_held`; 0: none, each written in place;
    /// `None`: [`auto_table_batch`]).
    pub max_held: Option<usize>,
    /// Threads reading and parsing blocks beside the one appending them
    /// (0: [`auto_parse_threads`]).
    pub parse_threads: usize,
    /// Give the pages of block files and of the columns never read while
    /// appending back to the kernel once done with (`None`:
    /// [`auto_drop_behind`]).
    pub drop_behind: Option<bool>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            network: None,
            commit_every_blocks: 0,
            commit_interval: Duration::from_secs(20),
            max_height: None,
            spend_cache_bytes: crate::store::spends::DEFAULT_BUDGET,
            writeback_every: crate::store::WRITEBACK_EVERY,
            max_held: None,
            parse_threads: 0,
            drop_behind: None,
        }
    }
}

/// Parser threads by default: as many as the CPUs, at most 4. The store
/// appends on one thread, and on two cores its work and the parsing (the
/// SHA-256 of every tx above all) are about even, so with one parser the
/// faster of the two waits; with two, the kernel shares both cores among
/// the three threads (bench/README.md, "Two parsers").
pub fn auto_parse_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// Bytes per transaction of an index, a little above those measured
/// (docs/layout.md: 150 to 180), to foresee its size at the end of a run.
const INDEX_BYTES_PER_TX: u64 = 200;

/// A warning if the disk holding `index_dir` has less free space than
/// `txs` more transactions' index foreseeably takes ([`INDEX_BYTES_PER_TX`]).
/// A warning, not an error: the figure is a foresight, and a disk that
/// does fill up stops the run cleanly, to be resumed once space is freed.
fn space_warning(index_dir: &Path, txs: u64) -> Option<String> {
    let need = txs.saturating_mul(INDEX_BYTES_PER_TX);
    let free = crate::pages::disk_available(index_dir)?;
    (need > free).then(|| {
        format!(
            "this run adds {txs} transactions, about {} of index, and the disk has {} free: \
             it may fill up (the run then stops with an error and resumes once space is freed)",
            megabytes(need),
            megabytes(free)
        )
    })
}

fn megabytes(bytes: u64) -> String {
    if bytes >= 10_000_000_000 {
        format!("{:.0} GB", bytes as f64 / 1e9)
    } else {
        format!("{:.0} MB", bytes as f64 / 1e6)
    }
}

/// How many new entries of each hash table a run holds in memory before
/// sweeping them into the file in slot order, from the index's size now
/// (`index_bytes`), the transactions the run adds and the memory the kernel
/// says is available (`None`: unknown).
///
/// None (0: each entry written in place) while the index at the end of the
/// run fits in half the available memory: its pages then stay in RAM, where
/// an insert in place costs less than holding the entry (measured 8 to 24%
/// more ingest time when held). Otherwise as many as a thirty-second of the
/// available memory holds for each table ([`HELD_BYTES`] an entry, so both
/// take at most a sixteenth), at least 65,536 (3.5 MB): on mainnet with
/// 24 GB, ~14 million, one per ~120 slots of the txid table (7 per 4 KiB
/// page), so that each page a sweep dirties takes several entries instead
/// of one random page write each.
pub fn auto_table_batch(index_bytes: u64, txs_todo: u64, available: Option<u64>) -> usize {
    let Some(available) = available else {
        return 0;
    };
    let end = index_bytes.saturating_add(txs_todo.saturating_mul(INDEX_BYTES_PER_TX));
    if end <= available / 2 {
        return 0;
    }
    (available / 32 / HELD_BYTES).clamp(65_536, u32::MAX as u64 / 2) as usize
}

/// Whether a run gives pages back to the kernel as it is done with them
/// (block files once parsed, columns never read while appending once
/// written), from the index's size now, the transactions the run adds,
/// the bytes of blocks it reads and the memory the kernel says is
/// available (`None`: unknown, then yes).
///
/// Only when the index at the end of the run and the blocks read do not
/// fit in half the available memory: then streaming pages would push out
/// the pages ingest reads and writes at random (bench/README.md, "Spend
/// cache and drop-behind"). Else each page given back costs a system call's
/// share and a TLB flush on the other cores for nothing: 8% of ingest time
/// on the 1M-transaction bench chain (bench/README.md, "Two parsers").
pub fn auto_drop_behind(
    index_bytes: u64,
    txs_todo: u64,
    block_bytes: u64,
    available: Option<u64>,
) -> bool {
    let Some(available) = available else {
        return true;
    };
    let end = index_bytes
        .saturating_add(txs_todo.saturating_mul(INDEX_BYTES_PER_TX))
        .saturating_add(block_bytes);
    end > available / 2
}

/// A batch asked for (`ingest --table-batch`), capped at what a quarter of
/// the available memory holds for both tables (but never under the
/// automatic rule's floor of 65,536), and at the tables' 2^31 ids: a
/// larger one would hold every new entry until the next commit, memory
/// the user's number alone would bound.
pub fn capped_table_batch(asked: usize, available: Option<u64>) -> usize {
    let cap = available.map_or(u32::MAX as u64 / 2, |a| {
        (a / 8 / HELD_BYTES).clamp(65_536, u32::MAX as u64 / 2)
    });
    (asked as u64).min(cap) as usize
}

/// Appending lasts at least this many times as long as the commit before
/// it: a commit writes every page dirtied since the last one, and on a large
/// index those are spread over the whole of the hash tables and the columns
/// written in place, so a fixed interval would let commits take over the run.
pub const COMMIT_SHARE: u32 = 4;

/// The longest appending between commits that a slow commit can stretch
/// the interval to: what a crash can cost is bounded.
pub const MAX_COMMIT_GAP: Duration = Duration::from_secs(600);

/// Whether a commit is due after `appending` since the last one, which took
/// `last_commit`: at least `interval`, and [`COMMIT_SHARE`] times
/// `last_commit` up to [`MAX_COMMIT_GAP`], so that commits take at most a
/// fifth of the run unless a commit takes longer than two and a half minutes.
pub fn commit_due(appending: Duration, last_commit: Duration, interval: Duration) -> bool {
    let stretched = last_commit.saturating_mul(COMMIT_SHARE).min(MAX_COMMIT_GAP);
    appending >= interval.max(stretched)
}

/// Receives progress of a run.
pub trait Progress {
    /// The chain is chosen: `blocks` to add, totalling `bytes`.
    fn start(&mut self, blocks: u64, bytes: u64);
    /// One more block of `bytes` was added.
    fn block(&mut self, bytes: u64);
    /// A phase message.
    fn message(&mut self, _msg: &str) {}
    /// A warning the user should see now, not at the end of a long run
    /// (the report keeps it too, in its own field).
    fn warn(&mut self, _msg: &str) {}
}

/// A progress sink that ignores everything.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&mut self, _: u64, _: u64) {}
    fn block(&mut self, _: u64) {}
}

/// What a run did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IngestReport {
    /// Network of the chain.
    pub network: Option<Network>,
    /// Height of the tip after the run.
    pub tip_height: Option<u32>,
    /// Hash of the tip after the run.
    pub tip_hash: Option<BlockHash>,
    /// Blocks added.
    pub blocks_added: u64,
    /// Transactions added.
    pub txs_added: u64,
    /// Bytes of block data parsed.
    pub bytes_parsed: u64,
    /// Blocks removed by a reorganisation.
    pub blocks_rolled_back: u64,
    /// Height from which blocks were removed.
    pub rolled_back_from: Option<u32>,
    /// Headers on stale forks.
    pub stale_blocks: usize,
    /// Headers whose ancestry does not reach a genesis block.
    pub orphan_blocks: usize,
    /// Records of another network, skipped.
    pub foreign_records: u64,
    /// Block records whose headers came from the header cache of earlier
    /// runs (`INDEX/headers.cache`) rather than from the block files.
    pub headers_cached: u64,
    /// Bytes of block files not walked for headers thanks to that cache.
    pub bytes_not_rescanned: u64,
    /// Outputs of earlier runs put in the spend cache at the start.
    pub spend_cache_warmed: u64,
    /// Spends answered by the spend cache (from memory).
    pub spends_from_cache: u64,
    /// Spends looked up in the index (older outputs, or in doubt).
    pub spends_from_index: u64,
    /// Bytes of written index columns given back to the kernel (Linux;
    /// only if [`IngestOptions::drop_behind`], by default under memory
    /// pressure): pages ingest does not read again, so that they do not
    /// push out those it does.
    pub column_bytes_given_back: u64,
    /// Bytes of block files given back to the kernel once ingested (Linux;
    /// `source::Releaser`; only if [`IngestOptions::drop_behind`]).
    pub block_bytes_given_back: u64,
    /// New entries of each hash table held in memory before a sweep (0:
    /// none, each written in place; see [`auto_table_batch`]).
    pub table_batch: u64,
    /// Problems with the input, each naming file and offset.
    pub warnings: Vec<Warning>,
    /// The disk holding the index has less free space than the run's
    /// transactions foreseeably take (given to [`Progress::warn`] at the
    /// start of the run).
    pub space_warning: Option<String>,
    /// Problems with the chain's content (unknown prevouts, double spends).
    pub chain_warnings: Vec<String>,
    /// Seconds spent.
    pub seconds: f64,
}

/// An error that stops a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The index could not be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The input has no chain from a genesis block.
    #[error("no chain found: none of the {0} block headers read connects to a genesis block")]
    NoChain(usize),
}

impl IngestError {
    /// The store's error, if it is one.
    pub fn store(&self) -> Option<&StoreError> {
        match self {
            IngestError::Store(e) => Some(e),
            _ => None,
        }
    }
}

/// Parses a block and prepares it for the store (runs on a parser thread).
pub fn prepare(block: &Block<'_>, hasher: &KeyHasher) -> PreparedBlock {
    let h = &block.header;
    let mut p = PreparedBlock {
        hash: block.hash,
        info: BlockInfo {
            version: h.version,
            time: h.time,
            bits: h.bits,
            nonce: h.nonce,
            first_tx: 0,
            first_addr: 0,
            size: block.size as u32,
            cb_off: 0,
        },
        coinbase: block.coinbase_script().to_vec(),
        txs: Vec::with_capacity(block.txs.len()),
        ins: Vec::with_capacity(block.inputs.len()),
        outs: Vec::with_capacity(block.outputs.len()),
    };
    for (ti, tx) in block.txs.iter().enumerate() {
        let ins = block.tx_inputs(tx);
        let is_cb = chainhound_chain::parse::is_coinbase_position(ti, ins);
        let hash = hasher.txid(&tx.txid);
        p.txs.push(PreparedTx {
            txid: tx.txid,
            hash,
            n_in: ins.len() as u32,
            n_out: tx.outputs.len() as u32,
            meta: TxMeta::of(
                tx.version,
                tx.lock_time,
                ins.iter().map(|i| i.sequence),
                tx.has_witness,
            ),
        });
        for i in ins {
            let prev_hash = if is_cb { 0 } else { hasher.txid(&i.prev_txid) };
            p.ins.push(PreparedIn {
                prev_txid: i.prev_txid,
                prev_hash,
                spend_key: spends::key(prev_hash, i.prev_vout),
                vout: i.prev_vout,
                coinbase: is_cb,
            });
        }
        for (v, o) in block.tx_outputs(tx).iter().enumerate() {
            let (script_type, key) = classify(o.script_pubkey);
            p.outs.push(PreparedOut {
                value: o.value,
                script_type,
                spend_key: spends::key(hash, v as u32),
                key: key.map(|k| PreparedKey::new(&k, hasher)),
            });
        }
    }
    p
}

/// Reads, parses and checks a block from the first of its copies that is
/// intact; warns about damaged copies, and sets `moved` if a copy held
/// another block than its header said (the files changed under the
/// header cache).
fn load_block(
    source: &Source,
    hash: &BlockHash,
    locs: &[BlockLoc],
    hasher: &KeyHasher,
    warnings: &mut Vec<Warning>,
    moved: &mut bool,
    released: &mut dyn FnMut(usize, u64, u64),
) -> Option<(PreparedBlock, u64)> {
    let mut buf = Vec::new();
    for loc in locs {
        let file = &source.files[loc.file as usize];
        let Some(bytes) = file.bytes(loc.record.offset, loc.record.size as usize, &mut buf) else {
            continue;
        };
        match Block::parse(bytes) {
            // Another block than the header tree found there (the files
            // changed under the header cache): not this block's copy.
            Ok(b) if b.hash != *hash => {
                *moved = true;
                warnings.push(Warning {
                    file: file.path.clone(),
                    offset: loc.record.offset.saturating_sub(8),
                    message: format!(
                        "expected block {hash} here, found {}; trying another copy",
                        b.hash
                    ),
                })
            }
            Ok(b) => {
                if loc.record.size_trusted && b.size != loc.record.size as usize {
                    warnings.push(Warning {
                        file: file.path.clone(),
                        offset: loc.record.offset - 8,
                        message: format!(
                            "record size field says {} bytes, block {} is {}",
                            loc.record.size, b.hash, b.size
                        ),
                    });
                }
                let prepared = prepare(&b, hasher);
                released(loc.file as usize, loc.record.offset - 8, b.size as u64 + 8);
                return Some((prepared, b.size as u64));
            }
            Err(e) => warnings.push(Warning {
                file: file.path.clone(),
                offset: loc.record.offset + e.offset as u64,
                message: format!(
                    "damaged block record (at offset {}): {e}; trying another copy",
                    loc.record.offset - 8
                ),
            }),
        }
    }
    None
}

/// Gives block files' pages back in chain order, though parsers finish
/// blocks out of it, so that spans are as one parser would make them.
struct ReleaseInOrder<'a> {
    releaser: Releaser<'a>,
    /// The next block (place in the run) to pass on.
    next: usize,
    /// Blocks done before their turn: file, offset, length.
    pending: std::collections::BTreeMap<usize, (usize, u64, u64)>,
}

impl<'a> ReleaseInOrder<'a> {
    fn new(releaser: Releaser<'a>) -> Self {
        ReleaseInOrder {
            releaser,
            next: 0,
            pending: Default::default(),
        }
    }

    /// Block `k` of the run was ingested from bytes `off..off + len` of
    /// file `file`.
    fn done(&mut self, k: usize, file: usize, off: u64, len: u64) {
        self.pending.insert(k, (file, off, len));
        while let Some((file, off, len)) = self.pending.remove(&self.next) {
            self.releaser.ingested(file, off, len);
            self.next += 1;
        }
    }
}

/// Sum of the work of the indexed chain.
fn indexed_work(store: &Store) -> u128 {
    (0..store.counts().blocks)
        .map(|h| work_from_bits(store.block_info(h).bits))
        .fold(0u128, |a, w| a.saturating_add(w))
}

/// Brings the index in `index_dir` up to the best chain of `source`.
pub fn ingest(
    source: &Source,
    index_dir: &Path,
    opts: &IngestOptions,
    progress: &mut dyn Progress,
) -> Result<IngestReport, IngestError> {
    let started = Instant::now();
    progress.message("reading block headers");
    let cache_path = index_dir.join(headercache::FILE_NAME);
    let mut cache = HeaderCache::load(&cache_path);
    if let Some(why) = &cache.problem {
        progress.message(&format!("{}: {why}", cache_path.display()));
    }
    source.expect(Access::Headers);
    let tree = HeaderTree::scan_cached(source, opts.network, &mut cache);
    source.expect(Access::Blocks);
    let best = tree.best_chain();
    let mut report = IngestReport {
        network: tree.network,
        stale_blocks: best.stale,
        orphan_blocks: best.orphans,
        foreign_records: tree.foreign_records,
        headers_cached: cache.reused,
        bytes_not_rescanned: cache.bytes_skipped,
        warnings: cache
            .problem
            .iter()
            .map(|why| Warning {
                file: cache_path.clone(),
                offset: 0,
                message: why.clone(),
            })
            .chain(tree.warnings.iter().cloned())
            .collect(),
        ..Default::default()
    };
    let Some(network) = tree.network else {
        return Err(IngestError::NoChain(0));
    };
    if best.nodes.is_empty() {
        return Err(IngestError::NoChain(tree.nodes.len()));
    }
    let mut chain: Vec<&crate::headers::Node> = best
        .nodes
        .iter()
        .map(|&i| &tree.nodes[i as usize])
        .collect();
    if let Some(m) = opts.max_height {
        chain.truncate(m as usize + 1);
    }
    let mut store = Store::open_writer(index_dir, network)?;
    // Saved under the index's lock; a failure costs the next run time only.
    if let Err(e) = cache.save(&cache_path) {
        report.warnings.push(Warning {
            file: cache_path.clone(),
            offset: 0,
            message: format!(
                "could not save the header cache ({e}); the next run reads every header again"
            ),
        });
    }
    // Its records (~100 MB on mainnet) are not needed for the blocks stage.
    drop(cache);

    // Where do the indexed chain and the best chain part?
    let indexed = store.counts().blocks as usize;
    let mut keep = indexed.min(chain.len());
    while keep > 0 && store.block_hash(keep as u32 - 1) != chain[keep - 1].hash {
        keep -= 1;
    }
    if keep < indexed {
        let chain_work: u128 = chain
            .iter()
            .map(|n| work_from_bits(n.header.bits))
            .fold(0, |a: u128, w| a.saturating_add(w));
        if chain_work > indexed_work(&store) {
            progress.message(&format!(
                "reorganisation: rolling back {} blocks from height {keep}",
                indexed - keep
            ));
            store.rollback_to(keep as u32)?;
            report.blocks_rolled_back = (indexed - keep) as u64;
            report.rolled_back_from = Some(keep as u32);
        } else {
            // The input lacks blocks the index has, or holds a weaker fork: keep ours.
            keep = chain.len(); // nothing to add
            report.chain_warnings.push(format!(
                "the input's best chain ({} blocks) has no more work than the indexed one ({indexed} blocks); index left as it is",
                chain.len()
            ));
        }
    }
    let todo = &chain[keep.min(chain.len())..];
    // Before the tables take their space.
    report.space_warning = space_warning(index_dir, todo.iter().map(|n| n.tx_count).sum());
    if let Some(w) = &report.space_warning {
        progress.warn(w);
    }
    // Size the tables once for the whole chain.
    store.reserve(chain.iter().map(|n| n.tx_count).sum())?;
    let bytes_todo: u64 = todo.iter().map(|n| n.locs[0].record.size as u64).sum();
    let mut drop_behind = true;
    if !todo.is_empty() {
        store.set_spend_cache_budget(opts.spend_cache_bytes);
        store.set_writeback_every(opts.writeback_every);
        // Outputs of the newest indexed txs, as many txs as this run adds:
        // the coins its spends are most likely to take.
        let ahead: u64 = todo.iter().map(|n| n.tx_count).sum();
        let available = crate::pages::mem_available();
        let held = match opts.max_held {
            Some(asked) => capped_table_batch(asked, available),
            None => {
                let index: u64 = store.column_bytes().iter().map(|c| c.1).sum();
                auto_table_batch(index, ahead, available)
            }
        };
        store.set_max_held(held);
        report.table_batch = held as u64;
        drop_behind = opts.drop_behind.unwrap_or_else(|| {
            let index: u64 = store.column_bytes().iter().map(|c| c.1).sum();
            auto_drop_behind(index, ahead, bytes_todo, available)
        });
        store.set_drop_behind(drop_behind);
        report.spend_cache_warmed = store.warm_spend_cache(ahead) as u64;
    }
    progress.start(todo.len() as u64, bytes_todo);
    let hasher = store.hasher();

    let mut moved = false;
    let mut block_bytes_given_back = 0;
    let workers = match opts.parse_threads {
        0 => auto_parse_threads(),
        n => n,
    }
    .clamp(1, todo.len().max(1));
    let releaser = std::sync::Mutex::new(ReleaseInOrder::new(Releaser::new(source)));
    // The block with no intact copy, if any: the appender stops there.
    let mut stopped_at = None;
    // Each parser's warnings, and the blocks one of whose copies held
    // another block, by the block's place in `todo`.
    type Loaded = (Vec<(usize, Warning)>, Vec<usize>);
    let (result, loads): (Result<(), IngestError>, Vec<Loaded>) = std::thread::scope(|s| {
        // Parser `w` takes blocks w, w + workers, ... and the appender
        // takes them back in turn, so blocks are appended in chain order.
        let mut rxs = Vec::with_capacity(workers);
        let mut parsers = Vec::with_capacity(workers);
        for w in 0..workers {
            let (tx, rx) = sync_channel::<Option<(PreparedBlock, u64)>>(32 / workers + 1);
            rxs.push(rx);
            let (hasher, releaser) = (&hasher, &releaser);
            parsers.push(s.spawn(move || {
                let mut loaded: Loaded = Default::default();
                let mut lw = Vec::new();
                for k in (w..todo.len()).step_by(workers) {
                    let mut moved = false;
                    let node = todo[k];
                    let b = load_block(
                        source,
                        &node.hash,
                        &node.locs,
                        hasher,
                        &mut lw,
                        &mut moved,
                        &mut |file, off, len| {
                            if drop_behind {
                                let mut r = releaser.lock().unwrap_or_else(|e| e.into_inner());
                                r.done(k, file, off, len);
                            }
                        },
                    );
                    loaded.0.extend(lw.drain(..).map(|x| (k, x)));
                    if moved {
                        loaded.1.push(k);
                    }
                    let stop = b.is_none();
                    if tx.send(b).is_err() || stop {
                        break;
                    }
                }
                loaded
            }));
        }
        let mut append = || -> Result<(), IngestError> {
            let rx = (0..).map_while(|k| rxs[k % workers].recv().ok());
            let mut last_commit = Instant::now();
            let mut commit_took = Duration::ZERO;
            let mut since_commit = 0u32;
            for (k, item) in rx.enumerate() {
                let Some((block, size)) = item else {
                    stopped_at = Some(k);
                    let node = todo[k];
                    report.chain_warnings.push(format!(
                        "block {} at height {} has no intact copy; stopped before it",
                        node.hash,
                        keep + k
                    ));
                    break;
                };
                store.append(&block)?;
                report.blocks_added += 1;
                report.txs_added += block.txs.len() as u64;
                report.bytes_parsed += size;
                progress.block(size);
                since_commit += 1;
                let due = if opts.commit_every_blocks > 0 {
                    since_commit >= opts.commit_every_blocks
                } else {
                    commit_due(last_commit.elapsed(), commit_took, opts.commit_interval)
                };
                if due {
                    let t = Instant::now();
                    store.commit()?;
                    commit_took = t.elapsed();
                    last_commit = Instant::now();
                    since_commit = 0;
                }
            }
            Ok(())
        };
        let result = append();
        // Parsers blocked on a full channel stop once it is gone.
        drop(rxs);
        let loads = parsers
            .into_iter()
            .map(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect();
        (result, loads)
    });
    // As one parser would have: blocks in order, none past a block with
    // no intact copy (where the parsers stopped; the others read ahead).
    let read = |k: &usize| stopped_at.is_none_or(|s| *k <= s);
    let mut load_warnings = Vec::new();
    for (w, m) in loads {
        load_warnings.extend(w.into_iter().filter(|(k, _)| read(k)));
        moved |= m.iter().any(read);
    }
    load_warnings.sort_by_key(|(k, _)| *k);
    let mut load_warnings: Vec<Warning> = load_warnings.into_iter().map(|(_, w)| w).collect();
    let mut rel = releaser.into_inner().unwrap_or_else(|e| e.into_inner());
    rel.releaser.flush();
    block_bytes_given_back += rel.releaser.given_back;
    // A block not where the headers said: the cache described files that
    // changed since, in ways its checks (first and last records) missed.
    // Without it the next run walks every file again, and finds the blocks.
    if moved && cache_path.exists() {
        let what = match std::fs::remove_file(&cache_path) {
            Ok(()) => "removed: the next run reads every header again".to_string(),
            Err(e) => format!("could not be removed ({e}); delete it to read every header again"),
        };
        load_warnings.push(Warning {
            file: cache_path.clone(),
            offset: 0,
            message: format!("blocks were not where the header cache said; the cache is {what}"),
        });
    }
    result?;
    report.warnings.extend(load_warnings);
    report.chain_warnings.extend(store.take_warnings());
    if let Some(c) = store.spend_cache() {
        report.spends_from_cache = c.hits;
        report.spends_from_index = c.misses;
    }
    report.column_bytes_given_back = store.given_back();
    report.block_bytes_given_back = block_bytes_given_back;
    let c = store.counts();
    if c.blocks > 0 {
        report.tip_height = Some(c.blocks - 1);
        report.tip_hash = Some(store.block_hash(c.blocks - 1));
    }
    store.close()?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::{
        auto_drop_behind, auto_table_batch, capped_table_batch, commit_due, space_warning,
    };
    use std::time::Duration;

    /// Against the real free space of the disk holding a folder (Linux).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_run_warns_when_the_disk_looks_too_small() {
        let dir = std::env::temp_dir();
        let free = crate::pages::disk_available(&dir).unwrap();
        assert!(space_warning(&dir, 0).is_none());
        // Just within, then past what is free at 200 bytes a transaction.
        assert!(space_warning(&dir, free / 200 / 2).is_none());
        let w = space_warning(&dir, free / 200 * 2 + 1_000_000).unwrap();
        assert!(w.contains("it may fill up") && w.contains(" free"), "{w}");
        // A folder that is not there: no figure, no warning.
        assert!(space_warning(&dir.join("no/such/folder"), u64::MAX / 256).is_none());
    }

    #[test]
    fn table_entries_are_held_only_for_an_index_larger_than_half_the_memory() {
        const GB: u64 = 1 << 30;
        // The 1M-tx benchmark chain on this 24 GB machine: in place.
        assert_eq!(auto_table_batch(0, 1_000_000, Some(22 * GB)), 0);
        assert_eq!(auto_table_batch(0, 1_000_000, None), 0);
        // Mainnet on 24 GB: ~14.4 million held per table (768 MB each at most).
        let n = auto_table_batch(100 * GB, 1_200_000_000, Some(24 * GB));
        assert_eq!(n as u64, 24 * GB / 32 / 56);
        // An index that outgrows what is left, as under `bench/pressure.sh`.
        assert!(auto_table_batch(GB, 2_500_000, Some(700 << 20)) >= 65_536);
        assert_eq!(auto_table_batch(0, 10_000, Some(1 << 20)), 65_536);
    }

    #[test]
    fn pages_are_given_back_only_when_index_and_blocks_outgrow_half_the_memory() {
        const GB: u64 = 1 << 30;
        // The 10M-tx bench chain (3.9 GB of blocks) on this 24 GB machine.
        assert!(!auto_drop_behind(0, 10_000_000, 4 * GB, Some(22 * GB)));
        // The blocks alone can tip it; so can the index already there.
        assert!(auto_drop_behind(0, 10_000_000, 10 * GB, Some(22 * GB)));
        assert!(auto_drop_behind(10 * GB, 1, 0, Some(20 * GB - 1)));
        assert!(!auto_drop_behind(10 * GB, 0, 0, Some(20 * GB)));
        // Mainnet on 24 GB; memory unknown: given back.
        assert!(auto_drop_behind(0, 1_200_000_000, 650 * GB, Some(24 * GB)));
        assert!(auto_drop_behind(0, 1, 1, None));
    }

    #[test]
    fn a_table_batch_asked_for_is_capped_at_a_quarter_of_the_memory() {
        const GB: u64 = 1 << 30;
        assert_eq!(capped_table_batch(1000, Some(GB)), 1000);
        assert_eq!(capped_table_batch(0, Some(GB)), 0);
        // 24 GB: a quarter holds 2 x 57 million entries of 56 bytes.
        let n = capped_table_batch(usize::MAX, Some(24 * GB));
        assert_eq!(n as u64, 24 * GB / 8 / 56);
        assert!(2 * n as u64 * 56 <= 24 * GB / 4);
        // Little memory: the floor; unknown memory: the tables' id range.
        assert_eq!(capped_table_batch(1 << 30, Some(1 << 20)), 65_536);
        assert_eq!(
            capped_table_batch(usize::MAX, None),
            (u32::MAX / 2) as usize
        );
    }

    #[test]
    fn commits_wait_for_the_interval_and_for_four_times_the_last_commit_up_to_ten_minutes() {
        let s = Duration::from_secs;
        let every = s(20);
        assert!(!commit_due(s(19), s(0), every));
        assert!(commit_due(s(20), s(0), every));
        assert!(commit_due(s(20), s(5), every));
        // A commit of 30 s (a mainnet-sized index) is followed by 120 s of appending.
        assert!(!commit_due(s(119), s(30), every));
        assert!(commit_due(s(120), s(30), every));
        // At most ten minutes, however slow the last commit was.
        assert!(!commit_due(s(599), s(1000), every));
        assert!(commit_due(s(600), s(1000), every));
        assert!(commit_due(s(600), Duration::MAX, every));
        // A longer interval asked for is kept.
        assert!(!commit_due(s(700), s(1000), s(900)));
    }
}
