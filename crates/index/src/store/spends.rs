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
//! them a lookup of an outpoint absent from a full cache of the default 4.2
//! million entries. Against crafted txids (the check bits can be ground
//! with 2^24 work) the 64 keyed bits remain: their key is random per index. An entry is removed when spent, so the map holds at most
//! the unspent outputs it was given.
//!
//! Memory is bounded: at [`SpendCache::new`]'s entry limit the older half of
//! the entries (by output id) are dropped, and those spends go to the index.
//!
//! The map is its own open-addressing table (linear probing, at most half
//! full, an entry moved back on removal so that no tombstones build up), so
//! that [`Store::find_spent`](super::Store) can ask the CPU for the slot of
//! a spend some inputs ahead ([`SpendCache::prefetch`]): once the cache
//! outgrows the CPU's caches each lookup is a trip to memory, and with the
//! standard map they came one after another (17% of ingest's samples at
//! 10 million transactions).
//!
//! Must not: read or write index files (it only answers from memory).

use chainhound_chain::Txid;

/// Bits of the value holding the output id.
const ID_BITS: u32 = 40;
const ID_MASK: u64 = (1 << ID_BITS) - 1;

/// A marker, only while warming: this outpoint's newest output is spent.
const SPENT: u64 = u64::MAX;

/// Bytes a table slot costs (key, value).
const SLOT_BYTES: u64 = 16;

/// Slots of a new table (it doubles as entries come, up to its budget).
const FIRST_SLOTS: usize = 1024;

/// Default memory budget of the cache (see [`SpendCache::with_budget`]).
pub const DEFAULT_BUDGET: u64 = 256 << 20;

/// Outpoint → output id of the newest unspent outputs (module doc).
pub struct SpendCache {
    map: Slots,
    /// Slots the table may grow to.
    max_slots: usize,
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
        // At most 2^(bits - 2) slots (no overflow); at least twice the limit.
        let top = 1usize << (usize::BITS - 2);
        let max_slots = limit.saturating_mul(2).clamp(8, top).next_power_of_two();
        let limit = limit.min(max_slots / 2);
        SpendCache {
            map: Slots::new(FIRST_SLOTS.min(max_slots)),
            max_slots,
            limit,
            floor: 0,
            hits: 0,
            misses: 0,
            evicted: 0,
        }
    }

    /// A cache whose table stays within `bytes` of memory, counting the
    /// moment it grows (old and new tables side by side): the largest
    /// power-of-two table whose 1.5 times fit, holding at most half as many
    /// entries as it has slots.
    pub fn with_budget(bytes: u64) -> SpendCache {
        let slots = bytes / 3 * 2 / SLOT_BYTES;
        if slots < 16 {
            return SpendCache::new(0);
        }
        let pow = 1u64 << (63 - slots.leading_zeros());
        SpendCache::new(usize::try_from(pow / 2).unwrap_or(usize::MAX / 4))
    }

    /// The entry limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.map.len
    }

    /// Is the cache empty?
    pub fn is_empty(&self) -> bool {
        self.map.len == 0
    }

    /// Forgets everything (the index changed under it: a rollback).
    pub fn clear(&mut self) {
        self.map = Slots::new(FIRST_SLOTS.min(self.max_slots));
        self.floor = 0;
    }

    /// Asks the CPU to fetch the slot a lookup of `key` starts at (a hint).
    #[inline]
    pub fn prefetch(&self, key: u64) {
        super::column::prefetch_at(&self.map.slots, self.map.home(key));
    }

    /// The output an outpoint names, removed from the cache; `None` if
    /// absent or in doubt (then the index must answer).
    #[inline]
    pub fn take(&mut self, key: u64, check: u64) -> Option<u64> {
        match self.map.find(key) {
            Some(i) if self.map.slots[i][1] >> ID_BITS == check => {
                self.hits += 1;
                Some(self.map.remove_at(i) & ID_MASK)
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
        if self.map.len >= self.limit {
            self.evict_older_half(out);
        }
        self.grow_for_one_more();
        self.map.insert(key, out | check << ID_BITS, true);
    }

    /// Doubles the table if one more entry would fill more than half of it.
    #[inline]
    fn grow_for_one_more(&mut self) {
        if (self.map.len + 1) * 2 > self.map.slots.len() && self.map.slots.len() < self.max_slots {
            let mut bigger = Slots::new(self.map.slots.len() * 2);
            for &[k, v] in self.map.slots.iter().filter(|s| s[0] != EMPTY) {
                bigger.insert(k, v, false);
            }
            self.map = bigger;
        }
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
        if self.map.len >= self.limit {
            return; // full: that spend goes to the index
        }
        let v = if unspent {
            out | check << ID_BITS
        } else {
            SPENT
        };
        self.grow_for_one_more();
        self.map.insert(key, v, false);
        self.floor = self.floor.min(out);
    }

    /// Ends warming: drops the markers of spent outputs.
    pub fn end_warming(&mut self) {
        self.map.retain(|v| v != SPENT);
        if self.map.len == 0 {
            self.floor = 0;
        }
    }

    /// Drops the entries with the lowest output ids, about half of them:
    /// a histogram of ids over [`floor`, `now`) picks the cut.
    fn evict_older_half(&mut self, now: u64) {
        const BUCKETS: usize = 1024;
        let span = (now.saturating_sub(self.floor) / BUCKETS as u64).max(1);
        let mut hist = [0u64; BUCKETS];
        for v in self.map.values() {
            let b = (((v & ID_MASK).saturating_sub(self.floor)) / span) as usize;
            hist[b.min(BUCKETS - 1)] += 1;
        }
        let (mut kept, mut cut) = (0u64, 0usize);
        for b in (0..BUCKETS).rev() {
            kept += hist[b];
            if kept >= self.map.len as u64 / 2 {
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
        let before = self.map.len;
        self.map.retain(|v| v & ID_MASK >= floor);
        // At least one entry goes even if every id fell in one bucket.
        if self.map.len >= self.limit {
            let i = self.map.slots.iter().position(|s| s[0] != EMPTY);
            self.map.remove_at(i.expect("a full table has an entry"));
        }
        self.evicted += (before - self.map.len) as u64;
        self.floor = floor;
    }
}

/// An empty slot's key (a key of 0 is stored as 1: [`Slots::stored`]).
const EMPTY: u64 = 0;

/// The table: (key, value) slots, a power of two of them, linear probing.
struct Slots {
    slots: Vec<[u64; 2]>,
    /// Entries held.
    len: usize,
}

impl Slots {
    fn new(n: usize) -> Slots {
        Slots {
            slots: vec![[EMPTY, 0]; n],
            len: 0,
        }
    }

    /// Keys 0 and 1 are one key to the table; the check bits still tell
    /// their outpoints apart (and keys are keyed hashes: one in 2^63).
    #[inline]
    fn stored(key: u64) -> u64 {
        key.max(1)
    }

    /// The slot a probe for `key` starts at (keys are well mixed already).
    #[inline]
    fn home(&self, key: u64) -> usize {
        Self::stored(key) as usize & (self.slots.len() - 1)
    }

    /// The slot holding `key`.
    #[inline]
    fn find(&self, key: u64) -> Option<usize> {
        let (k, mask) = (Self::stored(key), self.slots.len() - 1);
        let mut i = self.home(key);
        loop {
            match self.slots[i][0] {
                EMPTY => return None,
                x if x == k => return Some(i),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Puts `value` under `key`: replacing the one there if `replace`, else
    /// only if there is none. The table must have an empty slot.
    #[inline]
    fn insert(&mut self, key: u64, value: u64, replace: bool) {
        let (k, mask) = (Self::stored(key), self.slots.len() - 1);
        let mut i = self.home(key);
        loop {
            let s = &mut self.slots[i];
            if s[0] == EMPTY {
                *s = [k, value];
                self.len += 1;
                return;
            }
            if s[0] == k {
                if replace {
                    s[1] = value;
                }
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Removes the entry in slot `i`, returning its value; moves later
    /// entries of the run back so that every entry stays reachable from its
    /// home slot.
    fn remove_at(&mut self, mut i: usize) -> u64 {
        let mask = self.slots.len() - 1;
        let value = self.slots[i][1];
        self.len -= 1;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let k = self.slots[j][0];
            if k == EMPTY {
                break;
            }
            // The entry at j may fill the hole at i if its home is not in
            // the cyclic range (i, j].
            let home = k as usize & mask;
            let stays = if i <= j {
                i < home && home <= j
            } else {
                i < home || home <= j
            };
            if !stays {
                self.slots[i] = self.slots[j];
                i = j;
            }
        }
        self.slots[i] = [EMPTY, 0];
        value
    }

    /// The values held.
    fn values(&self) -> impl Iterator<Item = u64> + '_ {
        self.slots.iter().filter(|s| s[0] != EMPTY).map(|s| s[1])
    }

    /// Keeps the entries whose value passes `keep`, in place (no second
    /// table: the budget counts one and a half at most). A removal moves
    /// later entries of the run back, never an entry not yet looked at to a
    /// slot already passed (only wrapped entries, seen at the start, can
    /// land there), so the slot is looked at again.
    fn retain(&mut self, keep: impl Fn(u64) -> bool) {
        let mut i = 0;
        while i < self.slots.len() {
            let [k, v] = self.slots[i];
            if k != EMPTY && !keep(v) {
                self.remove_at(i);
            } else {
                i += 1;
            }
        }
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

    /// The table against a standard map: keys crowded onto a few home
    /// slots at the end of the table, so that runs wrap around and removals
    /// move entries back across the wrap; key 0 is key 1.
    #[test]
    fn the_table_finds_what_a_map_holds_through_inserts_and_removals() {
        let mut t = Slots::new(64);
        let mut model = std::collections::HashMap::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for step in 0..200_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let id = x % 40;
            let key = if id == 0 {
                0
            } else {
                id << 6 | (60 + x % 6) & 63
            };
            let stored = key.max(1);
            if x >> 60 < 9 && model.len() < 31 {
                let replace = x & (1 << 40) != 0;
                let e = model.entry(stored).or_insert(step);
                if replace {
                    *e = step;
                }
                t.insert(key, step, replace);
            } else if let Some(i) = t.find(key) {
                assert_eq!(Some(t.remove_at(i)), model.remove(&stored));
            } else {
                assert!(!model.contains_key(&stored));
            }
            assert_eq!(t.len, model.len());
            if step % 997 == 0 {
                // In place: the same table, the model's survivors.
                let at = t.slots.as_ptr();
                t.retain(|v| v % 3 != 0);
                model.retain(|_, v| *v % 3 != 0);
                assert_eq!(t.slots.as_ptr(), at);
                assert_eq!(t.len, model.len());
            }
            if step % 1000 == 0 {
                for (&k, &v) in &model {
                    let i = t.find(k).expect("held");
                    assert_eq!(t.slots[i][1], v);
                }
            }
        }
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
        // The low bits (the home slot) and the top bits vary too.
        let lows: std::collections::HashSet<u64> = seen.iter().map(|k| k & 127).collect();
        assert_eq!(lows.len(), 128);
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

    /// Any limit gives a table at least twice as large, without overflow;
    /// warming stops at the limit, however many outputs it is offered.
    #[test]
    fn limits_of_any_size_keep_the_table_half_empty() {
        for limit in [0, 1, 2, 3, 7, 100, usize::MAX / 2, usize::MAX] {
            let c = SpendCache::new(limit);
            assert!(c.limit() <= c.max_slots / 2, "{limit}");
            assert!(c.limit() == limit || limit > 1 << 60, "{limit}");
        }
        for limit in [0, 1, 5] {
            let mut c = SpendCache::new(limit);
            c.begin_warming();
            for o in 0..100u64 {
                c.warm_insert(key(o, 0), 0, o, true);
            }
            c.end_warming();
            assert_eq!(c.len(), limit);
            assert!(c.map.len * 2 <= c.map.slots.len());
        }
    }

    #[test]
    fn a_budget_bounds_the_map() {
        assert_eq!(SpendCache::with_budget(0).limit(), 0);
        // No overflow, and a limit an id fits.
        assert!(SpendCache::with_budget(u64::MAX).limit() > 0);
        let c = SpendCache::with_budget(DEFAULT_BUDGET);
        // 2^23 slots of 16 bytes, 1.5 times while growing, within 256 MiB;
        // at most half of them full.
        assert_eq!(c.limit(), 1 << 22);
        assert!(c.limit() as u64 * 2 * SLOT_BYTES * 3 / 2 <= DEFAULT_BUDGET);
        let mut c = SpendCache::with_budget(0);
        c.insert(key(1, 0), 0, 1);
        assert!(c.is_empty());
    }

    /// The table never grows past the one the budget was sized for, nor
    /// fills past half, however the cache churns: full, evicting, with
    /// misses among the hits.
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
            most = most.max(c.map.slots.len() as u64);
            assert!(c.map.len * 2 <= c.map.slots.len());
        }
        assert!(c.evicted > 0 && c.hits > 0 && c.misses > 0);
        assert!(
            most <= table,
            "the map grew to hold {most} entries; the budget allows a table of {table} slots"
        );
    }
}
