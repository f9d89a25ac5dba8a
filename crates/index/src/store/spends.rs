//! The writer's spend cache: an in-memory map from an outpoint (txid,
//! output index) to the [`OutId`](super::OutId) of the output, for outputs
//! appended by this writer and not yet spent.
//!
//! Resolving a spend through the index costs three reads at places no
//! earlier read predicts: the txid table's slot, the candidate's txid in
//! `tx_txid` (to confirm the slot's 8-bit fingerprint) and its first output
//! in `tx_out`. On a chain whose index is larger than the RAM left to the
//! page cache (mainnet's `tx_txid` alone is 38 GB), each is a disk read. Most
//! coins are spent young, so a bounded map of the newest unspent outputs
//! answers most spends from memory; the others (older coins, outputs of
//! earlier runs, evicted ones, anything in doubt) fall back to the index,
//! which gives the same answer. The cache changes no byte of the index.
//!
//! An entry is 16 bytes: a 64-bit key (the txid's keyed table hash, which
//! crafted txids cannot aim at, mixed with the output index) and a value
//! holding the output id (40 bits) and 24 check bits taken from the txid's
//! own bytes. A lookup is a hit only if both match, so two different
//! outpoints are confused only if 88 bits agree by chance: at most one
//! chance in 10^10 over all of mainnet's 3 billion spends, were every one of
//! them a lookup of an outpoint absent from a full cache of the default 3.7
//! million entries. Against crafted txids (the check bits can be ground
//! with 2^24 work) the 64 keyed bits remain: their key is random per index. An entry is removed when spent, so the map holds at most
//! the unspent outputs it was given.
//!
//! Memory is bounded: at [`SpendCache::new`]'s entry limit the older half of
//! the entries (by output id) are dropped, and those spends go to the index.
//!
//! Must not: read or write index files (it only answers from memory).

use chainhound_chain::Txid;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

/// Bits of the value holding the output id.
const ID_BITS: u32 = 40;
const ID_MASK: u64 = (1 << ID_BITS) - 1;

/// A marker, only while warming: this outpoint's newest output is spent.
const SPENT: u64 = u64::MAX;

/// Bytes a map slot costs (key, value, control byte).
const SLOT_BYTES: u64 = 17;

/// Default memory budget of the cache (see [`SpendCache::with_budget`]).
pub const DEFAULT_BUDGET: u64 = 256 << 20;

/// Outpoint → output id of the newest unspent outputs (module doc).
pub struct SpendCache {
    map: HashMap<u64, u64, BuildHasherDefault<super::IdHasher>>,
    limit: usize,
    /// Every entry's output id is at least this (raised by evictions).
    floor: u64,
    /// Spends answered from memory.
    pub hits: u64,
    /// Spends not found (sent to the index).
    pub misses: u64,
    /// Entries dropped to stay within the limit.
    pub evicted: u64,
}

/// The map key of output `vout` of the tx whose table hash is `tx_hash`.
#[inline]
pub fn key(tx_hash: u64, vout: u32) -> u64 {
    // splitmix64's finaliser: a bijection, so distinct (hash ^ vout term)
    // stay distinct, and every output bit depends on every input bit.
    let mut z = tx_hash ^ (vout as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The 24 check bits of a txid (independent of its keyed hash).
#[inline]
pub fn check(txid: &Txid) -> u64 {
    let b = &txid.0;
    (b[0] as u64) | (b[1] as u64) << 8 | (b[2] as u64) << 16
}

impl SpendCache {
    /// A cache holding at most `limit` entries (0: a cache that holds none).
    pub fn new(limit: usize) -> SpendCache {
        SpendCache {
            map: HashMap::default(),
            limit,
            floor: 0,
            hits: 0,
            misses: 0,
            evicted: 0,
        }
    }

    /// A cache whose map stays within `bytes` of memory, counting the
    /// moment it grows (old and new tables side by side): the largest
    /// power-of-two table whose 1.5 times fit. It holds at most half of
    /// what the table could (7/8 of its slots), less one, so that the slots
    /// left marked by removals are reclaimed by rehashing in place, never by
    /// growing the table past the budget (a lookup of a missing key through
    /// `entry` reserves room for one more entry, and the map rehashes in
    /// place only while that one more stays within half its capacity).
    pub fn with_budget(bytes: u64) -> SpendCache {
        let slots = bytes / 3 * 2 / SLOT_BYTES;
        if slots < 16 {
            return SpendCache::new(0);
        }
        let pow = 1u64 << (63 - slots.leading_zeros());
        SpendCache::new((pow / 8 * 7 / 2) as usize - 1)
    }

    /// The entry limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Is the cache empty?
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Forgets everything (the index changed under it: a rollback).
    pub fn clear(&mut self) {
        self.map = HashMap::default();
        self.floor = 0;
    }

    /// The output an outpoint names, removed from the cache; `None` if
    /// absent or in doubt (then the index must answer).
    #[inline]
    pub fn take(&mut self, key: u64, check: u64) -> Option<u64> {
        match self.map.entry(key) {
            Entry::Occupied(e) if *e.get() >> ID_BITS == check => {
                self.hits += 1;
                Some(e.remove() & ID_MASK)
            }
            _ => {
                self.misses += 1;
                None
            }
        }
    }

    /// Remembers that outpoint (`key`, `check`) is output `out`. Outputs
    /// come in increasing id order; a key met again (a repeated txid, as
    /// mainnet's two duplicated coinbases) now names the newer output, as
    /// the index's own lookup does.
    #[inline]
    pub fn insert(&mut self, key: u64, check: u64, out: u64) {
        if self.limit == 0 {
            return;
        }
        if self.map.len() >= self.limit {
            self.evict_older_half(out);
        }
        self.map.insert(key, out | check << ID_BITS);
    }

    /// Starts warming from the index, newest first (see
    /// [`super::Store::warm_spend_cache`]): remembers output `out` if
    /// `unspent`, and in any case keeps older outputs of the same outpoint
    /// (a repeated txid) out, as the index's lookup names the newest one
    /// even once spent. [`SpendCache::end_warming`] must follow.
    pub fn begin_warming(&mut self) {
        self.clear();
        self.floor = u64::MAX;
    }

    /// See [`SpendCache::begin_warming`].
    pub fn warm_insert(&mut self, key: u64, check: u64, out: u64, unspent: bool) {
        let v = if unspent {
            out | check << ID_BITS
        } else {
            SPENT
        };
        self.map.entry(key).or_insert(v);
        self.floor = self.floor.min(out);
    }

    /// Ends warming: drops the markers of spent outputs.
    pub fn end_warming(&mut self) {
        self.map.retain(|_, v| *v != SPENT);
        if self.map.is_empty() {
            self.floor = 0;
        }
    }

    /// Drops the entries with the lowest output ids, about half of them:
    /// a histogram of ids over [`floor`, `now`) picks the cut.
    fn evict_older_half(&mut self, now: u64) {
        const BUCKETS: usize = 1024;
        let span = (now.saturating_sub(self.floor) / BUCKETS as u64).max(1);
        let mut hist = [0u64; BUCKETS];
        for &v in self.map.values() {
            let b = (((v & ID_MASK).saturating_sub(self.floor)) / span) as usize;
            hist[b.min(BUCKETS - 1)] += 1;
        }
        let (mut kept, mut cut) = (0u64, 0usize);
        for b in (0..BUCKETS).rev() {
            kept += hist[b];
            if kept >= self.map.len() as u64 / 2 {
                cut = b;
                break;
            }
        }
        let floor = if cut > 0 {
            self.floor + cut as u64 * span
        } else {
            // Half the entries in the lowest bucket (ids far apart): the
            // median id itself, found with memory for one id per entry.
            let mut ids: Vec<u64> = self.map.values().map(|v| v & ID_MASK).collect();
            let mid = ids.len() / 2;
            *ids.select_nth_unstable(mid).1
        };
        let before = self.map.len();
        self.map.retain(|_, v| *v & ID_MASK >= floor);
        // At least one entry goes even if every id fell in one bucket.
        if self.map.len() >= self.limit {
            let k = *self.map.keys().next().expect("a full map has a key");
            self.map.remove(&k);
        }
        self.evicted += (before - self.map.len()) as u64;
        self.floor = floor;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txid(n: u8) -> Txid {
        let mut b = [0u8; 32];
        b[0] = n;
        b[31] = n ^ 0x5a;
        Txid(b)
    }

    #[test]
    fn answers_once_then_defers_to_the_index() {
        let mut c = SpendCache::new(100);
        let t = txid(7);
        c.insert(key(11, 0), check(&t), 40);
        c.insert(key(11, 1), check(&t), 41);
        assert_eq!(c.take(key(11, 1), check(&t)), Some(41));
        // Spent: a second spend is the index's to judge (a double spend).
        assert_eq!(c.take(key(11, 1), check(&t)), None);
        // Same key, other check bits: in doubt, not answered, not removed.
        assert_eq!(c.take(key(11, 0), check(&txid(8))), None);
        assert_eq!(c.take(key(11, 0), check(&t)), Some(40));
        assert_eq!((c.hits, c.misses), (2, 2));
    }

    #[test]
    fn a_repeated_outpoint_names_the_newer_output() {
        let mut c = SpendCache::new(100);
        let t = txid(1);
        c.insert(key(5, 0), check(&t), 3);
        c.insert(key(5, 0), check(&t), 9);
        assert_eq!(c.take(key(5, 0), check(&t)), Some(9));
        assert_eq!(c.take(key(5, 0), check(&t)), None);
    }

    #[test]
    fn keys_of_one_tx_differ_and_spread() {
        let mut seen = std::collections::HashSet::new();
        for h in 0..64u64 {
            for v in 0..64u32 {
                assert!(seen.insert(key(h, v)));
            }
        }
        // Top bits (the map's control tag) vary too.
        let tops: std::collections::HashSet<u64> = seen.iter().map(|k| k >> 57).collect();
        assert_eq!(tops.len(), 128);
    }

    #[test]
    fn stays_within_its_limit_keeping_the_newest() {
        let mut c = SpendCache::new(1000);
        let t = txid(2);
        for o in 0..10_000u64 {
            c.insert(key(o, 0), check(&t), o);
            assert!(c.len() <= 1000);
        }
        assert!(c.evicted >= 9000);
        // The newest survive, the oldest went.
        assert_eq!(c.take(key(9_999, 0), check(&t)), Some(9_999));
        assert_eq!(c.take(key(9_500, 0), check(&t)), Some(9_500));
        assert_eq!(c.take(key(10, 0), check(&t)), None);
        // Ids far apart, most in the lowest bucket: half still go at once.
        let mut c = SpendCache::new(1000);
        for o in 0..1000u64 {
            c.insert(key(o, 2), check(&t), o);
        }
        c.insert(key(5000, 2), check(&t), 1 << 39);
        assert!(c.len() <= 501, "{}", c.len());
        assert_eq!(c.take(key(5000, 2), check(&t)), Some(1 << 39));
        assert_eq!(c.take(key(999, 2), check(&t)), Some(999));
        // Every id in one histogram bucket: still bounded.
        let mut c = SpendCache::new(16);
        for o in 0..100u64 {
            c.insert(key(o, 1), check(&t), 1 << 39);
            assert!(c.len() <= 16);
        }
    }

    #[test]
    fn warming_newest_first_keeps_the_newest_of_a_repeated_outpoint() {
        let mut c = SpendCache::new(100);
        c.begin_warming();
        let t = txid(3);
        // Newest first: output 30 (spent) hides older output 20 of the same
        // outpoint; output 25 of another outpoint is kept.
        c.warm_insert(key(1, 0), check(&t), 30, false);
        c.warm_insert(key(2, 0), check(&t), 25, true);
        c.warm_insert(key(1, 0), check(&t), 20, true);
        c.end_warming();
        assert_eq!(c.len(), 1);
        assert_eq!(c.take(key(1, 0), check(&t)), None);
        assert_eq!(c.take(key(2, 0), check(&t)), Some(25));
        assert_eq!(c.floor, 20);
    }

    #[test]
    fn a_budget_bounds_the_map() {
        assert_eq!(SpendCache::with_budget(0).limit(), 0);
        // No overflow, and a limit an id fits.
        assert!(SpendCache::with_budget(u64::MAX).limit() > 0);
        let c = SpendCache::with_budget(DEFAULT_BUDGET);
        // 2^23 slots of 17 bytes, 1.5 times while growing, within 256 MiB.
        assert_eq!(c.limit(), (1 << 23) / 8 * 7 / 2 - 1);
        assert!((c.limit() as u64 * 2 * 8 / 7) * SLOT_BYTES * 3 / 2 <= DEFAULT_BUDGET);
        let mut c = SpendCache::with_budget(0);
        c.insert(key(1, 0), 0, 1);
        assert!(c.is_empty());
    }

    /// The table never grows past the one the budget was sized for, however
    /// the cache churns: full, evicting, with misses among the hits (a
    /// missing key may make the map reserve room for one more).
    #[test]
    fn churning_keeps_the_table_within_the_budget() {
        let budget = 1 << 20;
        let mut c = SpendCache::with_budget(budget);
        let slots = budget / 3 * 2 / SLOT_BYTES;
        let table = 1u64 << (63 - slots.leading_zeros());
        let t = txid(3);
        let mut most = 0;
        for out in 0..20 * c.limit() as u64 {
            c.insert(key(out, 0), check(&t), out);
            // A spend of a recent output (a hit), and one of an unknown
            // outpoint (a miss).
            c.take(key(out / 2, 0), check(&t));
            c.take(key(u64::MAX - out, 1), check(&t));
            most = most.max(c.map.capacity() as u64);
        }
        assert!(c.evicted > 0 && c.hits > 0 && c.misses > 0);
        assert!(
            most <= table / 8 * 7,
            "the map grew to hold {most} entries; the budget allows a table of {table} slots"
        );
    }
}
