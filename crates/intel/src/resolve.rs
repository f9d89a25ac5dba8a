//! Labels placed on the index: which address ids and transactions carry a
//! label, which entities (clusters) inherit one, and which entities hold two
//! services' labels (a likely false merge).
//!
//! Owns [`Resolved`]: built from a [`LabelBook`], the [`Store`] and, when
//! they exist, the [`Clusters`]. Only Bitcoin labels (`BTC`) resolve, and
//! only those whose address is valid on the index's network.
//!
//! Lifting rule: a label of any address of a cluster describes the whole
//! cluster, except in a cluster flagged as conflicting, whose labels stay on
//! their own addresses (a wrong accusation is worse than none).
//!
//! Must not: write the index or the clusters, or decide severity.

use crate::book::LabelBook;
use crate::label::{Category, Subject};
use chainhound_chain::address;
use chainhound_entities::cluster::Clusters;
use chainhound_index::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Labels by address id, transaction and entity.
#[derive(Default)]
pub struct Resolved {
    by_addr: HashMap<u32, Vec<u32>>,
    by_tx: HashMap<u32, Vec<u32>>,
    by_root: HashMap<u32, Vec<u32>>,
    conflicted: HashSet<u32>,
    clusters: Option<Clusters>,
    /// Labels of the book that name a Bitcoin address or txid absent from
    /// the index (or invalid on its network).
    pub unresolved: usize,
    /// The entities with two services' labels.
    pub conflicts: Vec<Conflict>,
}

/// A cluster labelled as two different services: most likely two entities
/// merged by mistake.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Conflict {
    /// The entity (its root address id).
    pub entity: u32,
    /// Its number of addresses.
    pub size: u32,
    /// The distinct service names, each with its category, one labelled
    /// address and the label's origin.
    pub services: Vec<ConflictingLabel>,
}

/// One side of a [`Conflict`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConflictingLabel {
    /// Service name.
    pub entity: String,
    /// Its category.
    pub category: Category,
    /// A labelled address of the cluster.
    pub address: String,
    /// `file:line` of the label.
    pub origin: String,
}

/// Categories whose names must agree within one entity: two exchanges (or
/// an exchange and a mixer) in one cluster are a false merge. Sanctions and
/// abuse labels name people and incidents, and may sit on a service.
fn is_service(c: Category) -> bool {
    matches!(
        c,
        Category::Exchange | Category::Mixer | Category::Gambling | Category::Miner
    )
}

/// A service name reduced for comparison: "Binance.com" and "binance" are
/// one service.
fn service_key(name: &str) -> String {
    let n: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    for suffix in ["com", "io", "net", "org", "exchange", "wallet", "hotwallet"] {
        if let Some(s) = n.strip_suffix(suffix) {
            if !s.is_empty() {
                return s.to_string();
            }
        }
    }
    n
}

const CACHE: &str = "resolved.bin";
const CACHE_MAGIC: &[u8] = b"chainhound-resolved 1\n";

/// What a cached resolution depends on: the book file, the index's
/// transactions and addresses, and the clusters.
fn cache_key(book_dir: &Path, store: &Store, clusters: Option<&Clusters>) -> Option<String> {
    let meta = fs::metadata(book_dir.join(crate::book::FILE)).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    let c = store.counts();
    let last = if c.txs > 0 {
        store
            .txid(chainhound_index::store::TxNum(c.txs - 1))
            .to_string()
    } else {
        String::new()
    };
    let cl = clusters
        .map(|c| format!("{}:{}:{}", c.state.addrs, c.state.txs, c.state.last_txid))
        .unwrap_or_default();
    Some(format!(
        "{}:{mtime}|{}:{}:{last}|{cl}",
        meta.len(),
        c.txs,
        c.addrs
    ))
}

fn put_map(out: &mut Vec<u8>, m: &HashMap<u32, Vec<u32>>) {
    let n: usize = m.values().map(Vec::len).sum();
    out.extend_from_slice(&(n as u64).to_le_bytes());
    let mut keys: Vec<&u32> = m.keys().collect();
    keys.sort_unstable();
    for k in keys {
        for v in &m[k] {
            out.extend_from_slice(&k.to_le_bytes());
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
}

/// A reader over the cache's bytes; `None` at any short read.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn map(&mut self, entries: usize) -> Option<HashMap<u32, Vec<u32>>> {
        let n = self.u64()? as usize;
        if n > self.0.len() / 8 {
            return None;
        }
        let mut m: HashMap<u32, Vec<u32>> = HashMap::new();
        for _ in 0..n {
            let (k, v) = (self.u32()?, self.u32()?);
            if v as usize >= entries {
                return None;
            }
            m.entry(k).or_default().push(v);
        }
        Some(m)
    }
}

impl Resolved {
    /// [`Resolved::build`], kept in `book_dir/resolved.bin` and reused
    /// while the book, the index and the clusters are unchanged (placing a
    /// million labels takes seconds; reading them back, a fraction). A
    /// cache that cannot be read or written is rebuilt or skipped, never an
    /// error.
    pub fn cached(
        book: &LabelBook,
        book_dir: &Path,
        store: &Store,
        clusters: Option<Clusters>,
    ) -> Resolved {
        let key = cache_key(book_dir, store, clusters.as_ref());
        let path = book_dir.join(CACHE);
        if let Some(k) = &key {
            if let Some(mut r) = fs::read(&path)
                .ok()
                .and_then(|b| Resolved::decode(&b, k, book.len()))
            {
                r.clusters = clusters;
                return r;
            }
        }
        let r = Resolved::build(book, store, clusters);
        if let Some(k) = key {
            let _ = r.save(&path, &k);
        }
        r
    }

    fn save(&self, path: &Path, key: &str) -> io::Result<()> {
        let mut out = Vec::new();
        out.extend_from_slice(CACHE_MAGIC);
        out.extend_from_slice(&(key.len() as u64).to_le_bytes());
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(&(self.unresolved as u64).to_le_bytes());
        put_map(&mut out, &self.by_addr);
        put_map(&mut out, &self.by_tx);
        put_map(&mut out, &self.by_root);
        let conflicts = serde_json::to_vec(&self.conflicts)?;
        out.extend_from_slice(&(conflicts.len() as u64).to_le_bytes());
        out.extend_from_slice(&conflicts);
        let tmp = path.with_extension("tmp");
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&out)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    }

    fn decode(bytes: &[u8], key: &str, entries: usize) -> Option<Resolved> {
        let mut b = Bytes(bytes.strip_prefix(CACHE_MAGIC)?);
        let n = b.u64()? as usize;
        if b.take(n)? != key.as_bytes() {
            return None;
        }
        let unresolved = b.u64()? as usize;
        let by_addr = b.map(entries)?;
        let by_tx = b.map(entries)?;
        let by_root = b.map(entries)?;
        let n = b.u64()? as usize;
        let conflicts: Vec<Conflict> = serde_json::from_slice(b.take(n)?).ok()?;
        let conflicted = conflicts.iter().map(|c| c.entity).collect();
        Some(Resolved {
            by_addr,
            by_tx,
            by_root,
            conflicted,
            clusters: None,
            unresolved,
            conflicts,
        })
    }

    /// Places the book's Bitcoin labels on the index; `clusters` (if any)
    /// lifts them to entities.
    pub fn build(book: &LabelBook, store: &Store, clusters: Option<Clusters>) -> Resolved {
        let mut r = Resolved::default();
        let net = store.network();
        for (i, e) in book.entries().iter().enumerate() {
            if book.records()[e.record as usize].chain != "BTC" {
                continue;
            }
            let i = i as u32;
            match &e.subject {
                Subject::Address(s) => match address::decode(s, net)
                    .ok()
                    .and_then(|k| store.find_addr(&k))
                {
                    Some(a) => r.by_addr.entry(a.0).or_default().push(i),
                    None => r.unresolved += 1,
                },
                Subject::Tx(s) => match s.parse().ok().and_then(|t| store.find_tx(&t)) {
                    Some(t) => r.by_tx.entry(t.0).or_default().push(i),
                    None => r.unresolved += 1,
                },
            }
        }
        if let Some(c) = &clusters {
            for (&a, ls) in &r.by_addr {
                if (a as u64) < c.state.addrs && c.size_of(a) > 1 {
                    r.by_root
                        .entry(c.root_of(a))
                        .or_default()
                        .extend(ls.iter().copied());
                }
            }
            // One label per record and entity: a cluster of 50,000
            // labelled deposit addresses of one exchange is one label.
            for ls in r.by_root.values_mut() {
                let mut seen = HashSet::new();
                ls.retain(|&l| seen.insert(book.entries()[l as usize].record));
                ls.shrink_to_fit();
            }
            let mut roots: Vec<u32> = r.by_root.keys().copied().collect();
            roots.sort_unstable();
            for root in roots {
                let mut seen: Vec<(String, u32)> = Vec::new();
                for &l in &r.by_root[&root] {
                    let rec = book.record_of(l);
                    if !is_service(rec.category) {
                        continue;
                    }
                    let k = service_key(&rec.entity);
                    if !seen
                        .iter()
                        .any(|(s, _)| s.contains(k.as_str()) || k.contains(s.as_str()))
                    {
                        seen.push((k, l));
                    }
                }
                if seen.len() > 1 {
                    r.conflicted.insert(root);
                    r.conflicts.push(Conflict {
                        entity: root,
                        size: c.size_of(root),
                        services: seen
                            .iter()
                            .map(|&(_, l)| {
                                let lab = book.label(l);
                                ConflictingLabel {
                                    entity: lab.entity,
                                    category: lab.category,
                                    address: lab.subject.id().to_string(),
                                    origin: lab.origin,
                                }
                            })
                            .collect(),
                    });
                }
            }
        }
        r.clusters = clusters;
        r
    }

    /// Labels on the address itself.
    pub fn of_addr(&self, a: u32) -> &[u32] {
        self.by_addr.get(&a).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Labels on a transaction.
    pub fn of_tx(&self, t: u32) -> &[u32] {
        self.by_tx.get(&t).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The entity (cluster root) of an address: itself without clusters or
    /// when the clusters are older than the address.
    pub fn entity_of(&self, a: u32) -> u32 {
        match &self.clusters {
            Some(c) if (a as u64) < c.state.addrs => c.root_of(a),
            _ => a,
        }
    }

    /// Number of addresses of the entity of `a`.
    pub fn entity_size(&self, a: u32) -> u32 {
        match &self.clusters {
            Some(c) if (a as u64) < c.state.addrs => c.size_of(a),
            _ => 1,
        }
    }

    /// Labels an address inherits from its entity, one per label record
    /// (none when the entity is conflicted, or has only this address).
    pub fn lifted(&self, a: u32) -> &[u32] {
        let root = self.entity_of(a);
        if self.conflicted.contains(&root) {
            return &[];
        }
        self.by_root.get(&root).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The label a walk takes for a set of labels: those at or above
    /// `min_confidence` whose category `keep` accepts, the riskiest
    /// category first, then the most trusted.
    pub fn best(
        book: &LabelBook,
        labels: &[u32],
        min_confidence: u8,
        keep: impl Fn(Category) -> bool,
    ) -> Option<u32> {
        labels
            .iter()
            .copied()
            .filter(|&l| {
                let r = book.record_of(l);
                r.confidence.0 >= min_confidence && keep(r.category)
            })
            .min_by_key(|&l| {
                let r = book.record_of(l);
                (r.category, std::cmp::Reverse(r.confidence))
            })
    }

    /// The label address `a` carries for a walk ([`Resolved::best`]): its
    /// own, else (with `lift`) its entity's; with how it was found
    /// (`"address"` or `"entity"`).
    pub fn address_label(
        &self,
        book: &LabelBook,
        a: u32,
        min_confidence: u8,
        lift: bool,
        keep: impl Fn(Category) -> bool + Copy,
    ) -> Option<(u32, &'static str)> {
        if let Some(l) = Resolved::best(book, self.of_addr(a), min_confidence, keep) {
            return Some((l, "address"));
        }
        if !lift {
            return None;
        }
        Resolved::best(book, self.lifted(a), min_confidence, keep).map(|l| (l, "entity"))
    }

    /// Whether the entity of `a` holds two services' labels.
    pub fn is_conflicted(&self, a: u32) -> bool {
        self.conflicted.contains(&self.entity_of(a))
    }

    /// Whether clusters are loaded.
    pub fn has_clusters(&self) -> bool {
        self.clusters.is_some()
    }

    /// Labelled addresses, labelled transactions, labelled entities.
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.by_addr.len(), self.by_tx.len(), self.by_root.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_compare_loosely() {
        assert_eq!(service_key("Binance.com"), "binance");
        assert_eq!(service_key("binance"), "binance");
        assert_ne!(service_key("Kraken"), service_key("Binance"));
    }
}
