//! Address clustering: common-input ownership over the whole index, with
//! CoinJoins left out, a collapse guard, and optional change heuristics.
//!
//! A union-find over address ids (`u32` parent per address, and size when
//! the guard is on; path halving; sets linked under their smallest id) is
//! fed every transaction in order: the
//! addresses of its inputs are one owner's, unless the transaction is a
//! CoinJoin (decided by the caller's detector) — CoinJoins never merge.
//! A merge that would join two clusters of at least
//! [`ClusterOptions::guard`] addresses each is held back and reported
//! ([`Held`]), never silently made: one mistaken link between two large
//! services is how tools end up with super-clusters of millions of
//! addresses. Chosen [`change`](crate::change) heuristics add a link from
//! the inputs to the change output they name.
//!
//! The result is stored beside the index in `INDEX/clusters/` (layout in
//! [`Clusters`]) and updated incrementally: a later [`update`] processes
//! only the transactions added since, or rebuilds when the index rolled
//! back under it or the options changed.
//!
//! Must not: write the index's own files, or decide what is a CoinJoin
//! (that is [`crate::coinjoin`]).

use crate::change::{Heuristic, OutFact, TxFacts};
use chainhound_index::store::{AddrId, OutId, Store, TxNum};
use memmap2::Mmap;
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How to cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterOptions {
    /// Hold back merges of two clusters that both have at least this many
    /// addresses (0: no guard, and no sizes kept while clustering).
    pub guard: u32,
    /// Change heuristics to apply (none by default).
    pub change: Vec<String>,
    /// Whether CoinJoins are left out (the default; off only to measure
    /// what leaving them out buys).
    pub skip_coinjoins: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            guard: 10_000,
            change: Vec::new(),
            skip_coinjoins: true,
        }
    }
}

/// A merge the collapse guard held back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// The transaction whose inputs (or change link) would have merged.
    pub txid: String,
    /// Sizes of the clusters it would have joined, largest first.
    pub sizes: Vec<u32>,
}

/// What a build or update did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterState {
    /// Format version.
    pub version: u32,
    /// Options used.
    pub options: ClusterOptions,
    /// Transactions processed (all of the index's at the time).
    pub txs: u64,
    /// Txid of the last one, to notice a rollback under the clusters.
    pub last_txid: String,
    /// Addresses covered.
    pub addrs: u64,
    /// Clusters.
    pub clusters: u64,
    /// Size of the largest.
    pub largest: u32,
    /// Transactions whose inputs were merged.
    pub merged_txs: u64,
    /// CoinJoins left out.
    pub coinjoins: u64,
    /// Change links made.
    pub change_links: u64,
    /// Merges held back by the guard (the first 1,000 are kept in
    /// `held`).
    pub held_count: u64,
    /// Held merges.
    pub held: Vec<Held>,
}

/// Union-find over address ids.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
    sized: bool,
}

impl Default for UnionFind {
    fn default() -> Self {
        UnionFind::new(0)
    }
}

impl UnionFind {
    /// `n` singletons, keeping set sizes.
    pub fn new(n: usize) -> UnionFind {
        Self::with_sizes(n, true)
    }

    /// `n` singletons; sizes kept only if `sizes` (the collapse guard needs
    /// them; without, unions touch half the memory).
    pub fn with_sizes(n: usize, sizes: bool) -> UnionFind {
        let mut uf = UnionFind {
            parent: Vec::new(),
            size: Vec::new(),
            sized: sizes,
        };
        uf.grow(n);
        uf
    }

    /// Adds singletons up to `n` elements.
    pub fn grow(&mut self, n: usize) {
        let old = self.parent.len();
        if n > old {
            self.parent.extend(old as u32..n as u32);
            if self.sized {
                self.size.resize(n, 1);
            }
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// The root of `a`'s set (halving the path on the way).
    pub fn find(&mut self, mut a: u32) -> u32 {
        while self.parent[a as usize] != a {
            let p = self.parent[a as usize];
            let gp = self.parent[p as usize];
            self.parent[a as usize] = gp;
            a = gp;
        }
        a
    }

    /// Size of the set rooted at `root` (0 when sizes are not kept).
    pub fn size_of_root(&self, root: u32) -> u32 {
        self.size.get(root as usize).copied().unwrap_or(0)
    }

    /// Joins the sets of two roots under the smaller id (as GraphSense
    /// does): every parent then has a smaller id than its child, which
    /// [`UnionFind::flatten`] relies on. Returns the new root.
    pub fn union_roots(&mut self, a: u32, b: u32) -> u32 {
        if a == b {
            return a;
        }
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        self.parent[hi as usize] = lo;
        if self.sized {
            self.size[lo as usize] += self.size[hi as usize];
        }
        lo
    }

    /// Points every element straight at its root (the smallest id of its
    /// set) in one sequential pass, and returns the roots: a parent's id is
    /// smaller than its child's, so the parent is final when the child is
    /// reached.
    pub fn flatten(&mut self) -> &[u32] {
        for a in 0..self.parent.len() {
            let p = self.parent[a] as usize;
            self.parent[a] = self.parent[p];
        }
        &self.parent
    }
}

/// Clusters an index from scratch (see [`update`] to store them).
/// `is_coinjoin` decides which transactions never merge.
pub fn build(
    store: &Store,
    opts: &ClusterOptions,
    is_coinjoin: &mut dyn FnMut(&Store, TxNum) -> bool,
) -> (UnionFind, ClusterState) {
    let mut uf = UnionFind::with_sizes(0, opts.guard > 0);
    let mut st = ClusterState {
        version: VERSION,
        options: opts.clone(),
        ..Default::default()
    };
    extend(store, &mut uf, &mut st, is_coinjoin);
    (uf, st)
}

/// Processes the index's transactions from `st.txs` on.
fn extend(
    store: &Store,
    uf: &mut UnionFind,
    st: &mut ClusterState,
    is_coinjoin: &mut dyn FnMut(&Store, TxNum) -> bool,
) {
    let counts = store.counts();
    uf.grow(counts.addrs as usize);
    let heuristics: Vec<Heuristic> = st
        .options
        .change
        .iter()
        .filter_map(|n| Heuristic::from_name(n))
        .collect();
    // Addresses get ids in order of first appearance, so an output pays
    // a fresh address iff its id is above every id seen before the tx.
    // Processing resumes at a block boundary, where the index had
    // `st.addrs` addresses.
    let mut max_seen: i64 = st.addrs as i64 - 1;
    let mut addrs: Vec<u32> = Vec::new();
    let mut roots: Vec<u32> = Vec::new();
    let mut facts = TxFacts::default();
    for t in st.txs..counts.txs as u64 {
        let t = TxNum(t as u32);
        addrs.clear();
        let mut coinbase = false;
        for i in store.tx_inputs(t) {
            match store.in_prevout(i) {
                Ok(Some(o)) => {
                    if let Some(a) = store.out_addr(o) {
                        addrs.push(a.0);
                    }
                }
                Ok(None) => coinbase = true,
                Err(()) => {}
            }
        }
        // Only the change heuristics need to know which addresses are new.
        let tx_max = if heuristics.is_empty() {
            -1
        } else {
            store
                .tx_outputs(t)
                .filter_map(|o| store.out_addr(OutId(o)))
                .map(|a| a.0 as i64)
                .max()
                .unwrap_or(-1)
        };
        if coinbase || addrs.is_empty() {
            max_seen = max_seen.max(tx_max);
            continue;
        }
        addrs.sort_unstable();
        addrs.dedup();
        let cj = st.options.skip_coinjoins && addrs.len() > 1 && is_coinjoin(store, t);
        if cj {
            st.coinjoins += 1;
        } else {
            if addrs.len() > 1 && merge(uf, st, store, t, &addrs, &mut roots) {
                st.merged_txs += 1;
            }
            if !heuristics.is_empty() {
                fill_facts(store, t, max_seen, &mut facts);
                for h in &heuristics {
                    if let Some(v) = h.change(&facts) {
                        let a = facts.outputs[v]
                            .addr
                            .expect("heuristics name addressed outputs");
                        let pair = [addrs[0], a];
                        if merge(uf, st, store, t, &pair, &mut roots) {
                            st.change_links += 1;
                        }
                    }
                }
            }
        }
        max_seen = max_seen.max(tx_max);
    }
    st.txs = counts.txs as u64;
    st.last_txid = if st.txs > 0 {
        store.txid(TxNum(st.txs as u32 - 1)).to_string()
    } else {
        String::new()
    };
    st.addrs = counts.addrs as u64;
}

fn fill_facts(store: &Store, t: TxNum, max_seen: i64, f: &mut TxFacts) {
    f.inputs.clear();
    f.outputs.clear();
    f.wallet = store.tx_meta(t).wallet();
    for i in store.tx_inputs(t) {
        if let Ok(Some(o)) = store.in_prevout(i) {
            f.inputs.push((
                store.out_value(o),
                store.out_addr(o).map(|a| a.0),
                store.out_type(o),
            ));
        }
    }
    for o in store.tx_outputs(t) {
        let o = OutId(o);
        let a = store.out_addr(o).map(|a| a.0);
        f.outputs.push(OutFact {
            value: store.out_value(o),
            addr: a,
            script: store.out_type(o),
            seen: a.is_some_and(|a| a as i64 <= max_seen),
            spender_wallet: store
                .out_spender(o)
                .map(|(st, _)| store.tx_meta(st).wallet()),
        });
    }
}

/// Merges the clusters of `addrs` unless the guard holds it back.
fn merge(
    uf: &mut UnionFind,
    st: &mut ClusterState,
    store: &Store,
    t: TxNum,
    addrs: &[u32],
    roots: &mut Vec<u32>,
) -> bool {
    roots.clear();
    roots.extend(addrs.iter().map(|&a| uf.find(a)));
    roots.sort_unstable();
    roots.dedup();
    if roots.len() < 2 {
        return false;
    }
    let big = if st.options.guard == 0 {
        0
    } else {
        roots
            .iter()
            .filter(|&&r| uf.size_of_root(r) >= st.options.guard)
            .count()
    };
    if big >= 2 {
        st.held_count += 1;
        if st.held.len() < 1_000 {
            let mut sizes: Vec<u32> = roots.iter().map(|&r| uf.size_of_root(r)).collect();
            sizes.sort_unstable_by(|a, b| b.cmp(a));
            st.held.push(Held {
                txid: store.txid(t).to_string(),
                sizes,
            });
        }
        return false;
    }
    let mut r = roots[0];
    for &x in &roots[1..] {
        r = uf.union_roots(r, x);
    }
    true
}

/// Format of `INDEX/clusters` (2: roots are their clusters' smallest ids).
const VERSION: u32 = 2;

const FILES: [&str; 4] = ["root.u32", "size.u32", "order.u32", "start.u32"];

fn write_u32s(path: &Path, v: impl Iterator<Item = u32>) -> io::Result<()> {
    let mut w = io::BufWriter::with_capacity(1 << 20, File::create(path)?);
    for x in v {
        w.write_all(&x.to_le_bytes())?;
    }
    w.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// Writes finished clusters to `dir` (replacing what is there).
fn save(dir: &Path, mut uf: UnionFind, st: &mut ClusterState) -> io::Result<()> {
    let n = uf.len();
    let tmp = dir.with_extension("tmp");
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp)?;
    // Memory: the roots (4 bytes per address) and the member starts (4
    // more); the sizes are dropped first (they follow from the starts) and
    // the member order is filled straight into its memory-mapped file.
    uf.size = Vec::new();
    let roots = uf.flatten();
    write_u32s(&tmp.join(FILES[0]), roots.iter().copied())?;
    // Members grouped by cluster: a counting sort by root.
    let mut start = vec![0u32; n + 1];
    for &r in roots {
        start[r as usize + 1] += 1;
    }
    st.clusters = start.iter().filter(|&&c| c > 0).count() as u64;
    st.largest = start.iter().copied().max().unwrap_or(0);
    write_u32s(
        &tmp.join(FILES[1]),
        roots.iter().map(|&r| start[r as usize + 1]),
    )?;
    for i in 0..n {
        start[i + 1] += start[i];
    }
    {
        let f = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(tmp.join(FILES[2]))?;
        f.set_len(n as u64 * 4)?;
        // Written at random through a map: a full disk must be an error
        // here, not a SIGBUS there.
        chainhound_index::pages::reserve_disk(&f, 0, n as u64 * 4)?;
        if n > 0 {
            // SAFETY: a file of our own, just created, mapped once.
            let mut order = unsafe { memmap2::MmapMut::map_mut(&f)? };
            // `start[r]` is the cursor of cluster r; afterwards it holds
            // where cluster r + 1 starts.
            for (a, &r) in roots.iter().enumerate() {
                let at = start[r as usize] as usize * 4;
                order[at..at + 4].copy_from_slice(&(a as u32).to_le_bytes());
                start[r as usize] += 1;
            }
            order.flush()?;
        }
        f.sync_all()?;
    }
    // Shift the cursors back: the start of cluster r is the end of r - 1.
    start.copy_within(0..n, 1);
    start[0] = 0;
    write_u32s(&tmp.join(FILES[3]), start[..n].iter().copied())?;
    let json = serde_json::to_string_pretty(st).map_err(io::Error::other)?;
    fs::write(tmp.join("state.json"), json + "\n")?;
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    fs::rename(&tmp, dir)
}

/// Where an index keeps its clusters.
pub fn clusters_dir(index: &Path) -> PathBuf {
    index.join("clusters")
}

/// Brings the clusters of the index at `index` up to date with `store`:
/// only new transactions when the stored clusters still match (same
/// options, the index not rolled back under them), else from scratch.
pub fn update(
    store: &Store,
    index: &Path,
    opts: &ClusterOptions,
    is_coinjoin: &mut dyn FnMut(&Store, TxNum) -> bool,
) -> io::Result<(ClusterState, f64)> {
    let t = Instant::now();
    let dir = clusters_dir(index);
    let resume = Clusters::open(&dir).ok().filter(|c| {
        let st = &c.state;
        st.version == VERSION
            && st.options == *opts
            && st.txs <= store.counts().txs as u64
            && (st.txs == 0 || store.txid(TxNum(st.txs as u32 - 1)).to_string() == st.last_txid)
            && st.addrs == addrs_before(store, st.txs)
            && c.consistent()
    });
    let (mut uf, mut st) = match resume {
        Some(c) => {
            let n = c.len();
            let sized = opts.guard > 0;
            let parent: Vec<u32> = (0..n).map(|a| c.root_of(a as u32)).collect();
            // Sizes counted from the roots, not read back: stored ones
            // could be damaged while the roots are sound.
            let mut size = vec![0u32; if sized { n } else { 0 }];
            if sized {
                for &r in &parent {
                    size[r as usize] += 1;
                }
            }
            let uf = UnionFind {
                parent,
                size,
                sized,
            };
            let mut st = c.state.clone();
            st.held.clear();
            st.held_count = 0;
            (uf, st)
        }
        None => (
            UnionFind::with_sizes(0, opts.guard > 0),
            ClusterState {
                version: VERSION,
                options: opts.clone(),
                ..Default::default()
            },
        ),
    };
    extend(store, &mut uf, &mut st, is_coinjoin);
    save(&dir, uf, &mut st)?;
    Ok((st, t.elapsed().as_secs_f64()))
}

/// The addresses the index had when its first `txs` transactions were
/// indexed: clusters are saved with the whole index, so `txs` ends a block
/// (`u64::MAX`, matching no count, if it does not).
fn addrs_before(store: &Store, txs: u64) -> u64 {
    let c = store.counts();
    if txs == c.txs as u64 {
        return c.addrs as u64;
    }
    let Ok(t) = u32::try_from(txs) else {
        return u64::MAX;
    };
    let h = store.tx_height(TxNum(t));
    let info = store.block_info(h);
    if info.first_tx == t {
        info.first_addr as u64
    } else {
        u64::MAX
    }
}

/// Stored clusters, memory-mapped. Files in `INDEX/clusters/`, one `u32`
/// (little-endian) per address id: `root.u32` (the cluster: its root
/// address id), `size.u32` (the cluster's size), `start.u32` (for a root:
/// where its members start in `order.u32`), and `order.u32` (address ids
/// grouped by cluster); `state.json` ([`ClusterState`]). 16 bytes per
/// address.
pub struct Clusters {
    maps: Vec<Mmap>,
    /// What built them.
    pub state: ClusterState,
}

impl Clusters {
    /// Opens the clusters in `dir`.
    pub fn open(dir: &Path) -> io::Result<Clusters> {
        let text = fs::read_to_string(dir.join("state.json"))?;
        let state: ClusterState = serde_json::from_str(&text).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", dir.join("state.json").display()),
            )
        })?;
        let mut maps = Vec::new();
        for f in FILES {
            let file = File::open(dir.join(f))?;
            // SAFETY: the files are chainhound's own, replaced only by
            // renaming a new folder into place, never written in place.
            let m = unsafe { Mmap::map(&file)? };
            if m.len() as u64 != state.addrs * 4 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{}: {} bytes, expected {}",
                        dir.join(f).display(),
                        m.len(),
                        state.addrs * 4
                    ),
                ));
            }
            maps.push(m);
        }
        Ok(Clusters { maps, state })
    }

    /// Record `i` of a file; 0 past its end (damaged files: never a panic).
    fn read(&self, file: usize, i: usize) -> u32 {
        match self.maps[file].get(i * 4..i * 4 + 4) {
            Some(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            None => 0,
        }
    }

    /// Whether the roots keep the invariants an update builds on: every
    /// address's root is at or below it and is its own root. A damaged or
    /// edited folder fails this and is built again from scratch rather
    /// than extended (sizes are counted again from the roots).
    fn consistent(&self) -> bool {
        (0..self.len()).all(|a| {
            let r = self.read(0, a) as usize;
            r <= a && self.read(0, r) as usize == r
        })
    }

    /// Addresses covered.
    pub fn len(&self) -> usize {
        self.state.addrs as usize
    }

    /// Whether no address is covered.
    pub fn is_empty(&self) -> bool {
        self.state.addrs == 0
    }

    /// The cluster (root address id) of an address (the address itself if
    /// it is past the clusters, or if the files are damaged: a root is
    /// never above its members).
    pub fn root_of(&self, a: u32) -> u32 {
        let r = self.read(0, a as usize);
        if r > a || a as usize >= self.len() {
            a
        } else {
            r
        }
    }

    /// Size of the cluster of an address.
    pub fn size_of(&self, a: u32) -> u32 {
        // No cluster is larger than the addresses (damaged files).
        self.read(1, a as usize).min(self.state.addrs as u32)
    }

    /// The addresses of the cluster of `a`, `offset..offset+limit` of them
    /// in id order.
    pub fn members(&self, a: u32, offset: usize, limit: usize) -> Vec<AddrId> {
        let r = self.root_of(a);
        let start = (self.read(3, r as usize) as usize).min(self.len());
        // Within `order.u32`, and only addresses of this cluster (both
        // always so, unless the files are damaged).
        let n = (self.size_of(r) as usize).min(self.len() - start);
        (start + offset.min(n)..start + n.min(offset.saturating_add(limit)))
            .map(|i| self.read(2, i))
            .filter(|&m| (m as usize) < self.len() && self.root_of(m) == r)
            .map(AddrId)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_find_joins_by_size() {
        let mut uf = UnionFind::new(6);
        let r = uf.union_roots(1, 0);
        assert_eq!((r, uf.size_of_root(r)), (0, 2));
        let r2 = uf.union_roots(2, r);
        assert_eq!(r2, 0, "the smaller id is the root");
        assert_eq!(uf.find(2), r);
        assert_eq!(uf.size_of_root(r), 3);
        assert_ne!(uf.find(3), r);
        uf.grow(8);
        assert_eq!(uf.find(7), 7);
        let r5 = uf.union_roots(5, 4);
        let r = uf.union_roots(r5, 3);
        assert_eq!(uf.flatten(), &[0, 0, 0, 3, 3, 3, 6, 7]);
        assert_eq!(uf.size_of_root(r), 3);
    }
}
