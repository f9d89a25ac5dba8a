//! A persistent open-addressing hash table from a key to a dense id.
//!
//! Each slot is 5 bytes, a little-endian `u40`: the high 8 bits are a
//! fingerprint of the key's hash (its top byte), the low 32 bits are
//! `id + 1` (0 marks an empty slot). The slot index comes from the hash's
//! low bits, so a probe compares fingerprints first and reads the stored key
//! (through the caller's `visit`) only on a fingerprint match: one probed
//! slot in 256 costs a needless key read. Linear probing without wrapping:
//! home slots are `0..capacity` (the hash's low half scaled to it, so any
//! capacity works) and [`TAIL`] spare slots follow them, where a run that
//! reaches the end of the home range goes on. Tables are sized for a load
//! of 0.7 and the store rebuilds one at 1.5 times its entries before it
//! passes 0.8, so a table's load stays between about 0.47 and 0.8.
//!
//! Entries are placed as if inserted one by one in increasing id order
//! (first come, first served), whether they are inserted one at a time
//! ([`Table::insert`]) or many at once ([`Table::insert_batch`], which
//! visits the slots in order: one sweep instead of a random write per
//! entry). So the bytes of a table depend only on its entries, never on how
//! they were batched, and an interrupted run that is resumed ends with the
//! same file as an uninterrupted one. [`Batched`] holds a writer's recent
//! entries in memory, answers probes for them, and sweeps them in at once.
//!
//! The table never deletes during a run. Entries whose id is not committed
//! (left by an interrupted run, or above a rollback point) are removed by
//! [`Table::forget_from`]; that is safe under linear probing because ids are
//! placed in increasing order, so no committed entry's probe path runs
//! through a later one.

use memmap2::{Mmap, MmapMut};
use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

enum Slots {
    Ro(Mmap),
    Rw(MmapMut),
}

/// A table mapped from its file.
pub struct Table {
    slots: Slots,
    /// Home slots; the file has [`TAIL`] more.
    cap: u64,
    /// All slots, `cap + TAIL`.
    len: u64,
}

/// Largest load before the store rebuilds a table, as `num / den`.
pub const MAX_LOAD: (u64, u64) = (8, 10);

/// Load a table is sized for, as `num / den`.
pub const SIZING_LOAD: (u64, u64) = (7, 10);

/// Bytes per slot.
pub const SLOT: u64 = 5;

/// Spare slots after the home range, where runs that reach its end go on
/// instead of wrapping to slot 0 (wrapping would make a batch's sweep
/// depend on where it starts). How far entries spill past the last home
/// slot falls off about as e^(-0.45 n) at 0.8 load (e^(-0.1 n) at the 0.95
/// ceiling), so 4,096 spare slots are not reached by chance; a run that
/// reaches the end of the tail makes the insert fail (the store reports the
/// table full). Keys are hashed with the index's secret seed, so input
/// cannot aim at the end; only a txid repeated thousands of times could
/// fill it (a crafted chain, refused as full rather than slowly taken).
pub const TAIL: u64 = 4096;

/// How far ahead of the entry it places a sweep fetches slots.
const PREFETCH_AHEAD: usize = 16;

/// An insert found no empty slot between its home and the end of the tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRoom;

const SLOT_MASK: u64 = (1 << 40) - 1;

impl Table {
    /// Creates a new table file of `capacity` home slots (and the tail).
    pub fn create(path: &Path, capacity: u64) -> io::Result<Table> {
        assert!(capacity > 0 && capacity <= Self::MAX_CAPACITY);
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        f.set_len((capacity + TAIL) * SLOT)?;
        // Nearly every page of a table is written in the end (a load of 0.47
        // to 0.8): the space is claimed now, so a full disk is an error here
        // rather than a SIGBUS at some insert.
        crate::pages::reserve_disk(&f, 0, (capacity + TAIL) * SLOT)?;
        Self::map(f, true)
    }

    /// Opens an existing table file.
    pub fn open(path: &Path, writable: bool) -> io::Result<Table> {
        let f = OpenOptions::new().read(true).write(writable).open(path)?;
        if writable {
            // A table left by an older build, or copied as a sparse file, may
            // still be mostly holes (cheap where the blocks are there).
            crate::pages::reserve_disk(&f, 0, f.metadata()?.len())?;
        }
        Self::map(f, writable)
    }

    fn map(f: File, writable: bool) -> io::Result<Table> {
        let bytes = f.metadata()?.len();
        let len = bytes / SLOT;
        let cap = len.saturating_sub(TAIL);
        if cap == 0 || cap > Self::MAX_CAPACITY || bytes % SLOT != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "hash table file has a bad size",
            ));
        }
        // SAFETY: the table file belongs to this index, whose writer holds
        // the lock; readers tolerate any slot content (ids are bounds-checked
        // and keys verified).
        let slots = if writable {
            Slots::Rw(unsafe { MmapMut::map_mut(&f)? })
        } else {
            Slots::Ro(unsafe { Mmap::map(&f)? })
        };
        Ok(Table { slots, cap, len })
    }

    /// The slot a probe for `hash` starts at: the low 32 bits of the hash
    /// scaled to the capacity (multiply-shift), so any capacity works and
    /// the fingerprint (the high 32 bits) stays independent of the position.
    #[inline]
    fn home(&self, hash: u64) -> u64 {
        ((hash & 0xffff_ffff) * self.cap) >> 32
    }

    /// Number of home slots (the load is entries over this).
    pub fn capacity(&self) -> u64 {
        self.cap
    }

    /// Size of the file in bytes.
    pub fn file_bytes(&self) -> u64 {
        self.len * SLOT
    }

    fn raw(&self) -> &[u8] {
        match &self.slots {
            Slots::Ro(m) => m,
            Slots::Rw(m) => m,
        }
    }

    #[inline]
    fn slot(&self, i: u64) -> u64 {
        let o = (i * SLOT) as usize;
        let raw = self.raw();
        match raw.get(o..o + 8) {
            // One unaligned 8-byte load, masked, where the file has room.
            Some(b) => u64::from_le_bytes(b.try_into().expect("8 bytes")) & SLOT_MASK,
            None => {
                let mut b = [0u8; 8];
                b[..SLOT as usize].copy_from_slice(&raw[o..o + SLOT as usize]);
                u64::from_le_bytes(b)
            }
        }
    }

    fn set_slot(&mut self, i: u64, v: u64) {
        let o = (i * SLOT) as usize;
        if let Slots::Rw(m) = &mut self.slots {
            m[o..o + SLOT as usize].copy_from_slice(&v.to_le_bytes()[..SLOT as usize]);
        }
    }

    /// Asks the CPU to fetch the slot a probe for `hash` starts at, so that
    /// many lookups' cache misses overlap (a hint; no effect on results).
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        super::column::prefetch_at(self.raw(), (self.home(hash) * SLOT) as usize);
    }

    /// Calls `visit` with every id whose fingerprint matches `hash`, among
    /// ids below `limit`, in probe order, until it returns `true`; says
    /// whether it did.
    pub fn probe(&self, hash: u64, limit: u32, mut visit: impl FnMut(u32) -> bool) -> bool {
        let fp = hash >> 56;
        // Ends at an empty slot or the end of the file (a damaged table
        // with no empty slot must not hang).
        for i in self.home(hash)..self.len {
            let s = self.slot(i);
            if s == 0 {
                return false;
            }
            if s >> 32 == fp {
                // An id of 0 is a slot half-written by a concurrent writer.
                if let Some(id) = ((s & 0xffff_ffff) as u32).checked_sub(1) {
                    if id < limit && visit(id) {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// The first empty slot at or after `i`.
    fn free_from(&self, mut i: u64) -> Result<u64, NoRoom> {
        while i < self.len {
            if self.slot(i) == 0 {
                return Ok(i);
            }
            i += 1;
        }
        Err(NoRoom)
    }

    /// Inserts `id` for `hash` (no duplicate check: see [`Table::probe`]);
    /// `id` must be above every id in the table.
    pub fn insert(&mut self, hash: u64, id: u32) -> Result<(), NoRoom> {
        let i = self.free_from(self.home(hash))?;
        self.set_slot(i, (hash >> 56) << 32 | (id as u64 + 1));
        Ok(())
    }

    /// Inserts ids `base..base + hashes.len()` for `hashes`, all above every
    /// id in the table, leaving exactly the slots that inserting them one by
    /// one in id order would, but visiting the table's slots in increasing
    /// order (a sweep, not a random write per entry). `scratch` is reused
    /// memory.
    ///
    /// How: entries sorted by home slot are grouped into runs, a run ending
    /// at the first slot that stays empty (the set of slots a batch fills
    /// under linear probing does not depend on the order of insertion, so
    /// placing them by home order finds it). Nothing crosses such a slot, so
    /// each run's entries are then placed one by one in id order within it.
    pub fn insert_batch(
        &mut self,
        hashes: &[u64],
        base: u32,
        scratch: &mut Scratch,
    ) -> Result<(), NoRoom> {
        let Scratch { sorted, spare, run } = scratch;
        let fp = |id: u32| (hashes[(id - base) as usize] >> 56) << 32 | (id as u64 + 1);
        // (home, id) in one word: homes are below 2^32.
        sorted.clear();
        sorted.extend(
            hashes
                .iter()
                .enumerate()
                .map(|(k, &h)| self.home(h) << 32 | (base as u64 + k as u64)),
        );
        // Ids already ascend: a stable sort by home gives (home, id) order.
        radix_sort_high_half(sorted, spare);
        let scratch = &*sorted;
        let mut k = 0;
        while k < scratch.len() {
            // The run starting with entry k: place by home order to find
            // where it ends (nothing is written yet).
            let mut end = k;
            let mut next_free = 0;
            let mut first = 0;
            while end < scratch.len() {
                // The slots of entries further on, fetched while these are
                // placed (a sparse sweep is one cache miss per entry).
                if let Some(&e) = scratch.get(end + PREFETCH_AHEAD) {
                    super::column::prefetch_at(self.raw(), ((e >> 32) * SLOT) as usize);
                }
                let h = scratch[end] >> 32;
                if end > k && h > next_free {
                    break; // `next_free` stays empty: the run ends there.
                }
                let p = self.free_from(h.max(next_free))?;
                if end == k {
                    first = p;
                }
                // (Past the end, the next entry of the run finds no room.)
                next_free = self.free_from(p + 1).unwrap_or(self.len);
                end += 1;
            }
            // Place the run's entries in id order.
            if end == k + 1 {
                self.set_slot(first, fp(scratch[k] as u32));
            } else {
                run.clear();
                run.extend(scratch[k..end].iter().map(|&e| e.rotate_right(32)));
                run.sort_unstable();
                for &e in run.iter() {
                    let i = self.free_from(e & 0xffff_ffff)?;
                    self.set_slot(i, fp((e >> 32) as u32));
                }
            }
            k = end;
            super::failpoint("sweep-after-a-run");
        }
        Ok(())
    }

    /// Removes every entry whose id is `limit` or more, and slots a killed
    /// writer left half-written (a fingerprint without an id).
    pub fn forget_from(&mut self, limit: u32) {
        for i in 0..self.len {
            let s = self.slot(i);
            let id1 = (s & 0xffff_ffff) as u32;
            if s != 0 && (id1 > limit || id1 == 0) {
                self.set_slot(i, 0);
            }
        }
    }

    /// Writes dirty pages to disk.
    pub fn flush(&self) -> io::Result<()> {
        if let Slots::Rw(m) = &self.slots {
            m.flush()?;
        }
        Ok(())
    }

    /// The most slots a table can have (ids and home slots are 32-bit).
    pub const MAX_CAPACITY: u64 = (u32::MAX as u64 / 4096) * 4096;

    /// Capacity for `n` entries: sized for a load of 0.7, rounded up to a
    /// multiple of 4096 slots (whole 4 KiB pages), at most
    /// [`Table::MAX_CAPACITY`].
    pub fn capacity_for(n: u64) -> u64 {
        let need = (n * SIZING_LOAD.1).div_ceil(SIZING_LOAD.0) + 1;
        (need.div_ceil(4096) * 4096).min(Self::MAX_CAPACITY)
    }
}

/// A table with the entries a writer added since its last sweep held in
/// memory: [`Batched::insert`] notes an entry, [`Batched::probe`] answers
/// from the file and the held entries alike, and [`Batched::flush`] sweeps
/// the held ones into the file ([`Table::insert_batch`]). The file's bytes
/// are the same as if every entry had gone in at once.
pub struct Batched {
    table: Table,
    /// Id of `hashes[0]` (held ids are consecutive).
    base: u32,
    /// Hashes of the held entries, by id.
    hashes: Vec<u64>,
    /// Open addressing over `hashes`: the hash's low half, then `k + 1` (0
    /// empty), so a probe reads `hashes` only to sweep; a power of two at
    /// least twice as long, probed from the hash's high half.
    index: Vec<u64>,
    /// Memory reused by the sweeps.
    scratch: Scratch,
    /// Entries held before [`Batched::is_full`] says so; 0: none, every
    /// entry goes straight into the file.
    max_held: usize,
}

/// Memory a sweep reuses ([`Table::insert_batch`]).
#[derive(Default)]
pub struct Scratch {
    sorted: Vec<u64>,
    spare: Vec<u64>,
    run: Vec<u64>,
}

/// Sorts `v` by the high 32 bits of its values, keeping the order of equal
/// ones (least significant byte first, one pass per byte that differs).
fn radix_sort_high_half(v: &mut Vec<u64>, spare: &mut Vec<u64>) {
    spare.clear();
    spare.resize(v.len(), 0);
    for shift in [32u32, 40, 48, 56] {
        let mut count = [0usize; 257];
        for &e in v.iter() {
            count[((e >> shift) & 0xff) as usize + 1] += 1;
        }
        if count.contains(&v.len()) {
            continue; // one value of this byte: already in order
        }
        for b in 0..256 {
            count[b + 1] += count[b];
        }
        for &e in v.iter() {
            let d = &mut count[((e >> shift) & 0xff) as usize];
            spare[*d] = e;
            *d += 1;
        }
        std::mem::swap(v, spare);
    }
}

/// Memory a held entry takes at most: its hash (8 bytes), 16 to 32 bytes
/// of index (a power of two at least twice as many 8-byte slots) and 16 of
/// sweep scratch.
pub const HELD_BYTES: u64 = 56;

impl Batched {
    /// Wraps a table, holding nothing.
    pub fn new(table: Table) -> Batched {
        Batched {
            table,
            base: 0,
            hashes: Vec::new(),
            index: Vec::new(),
            scratch: Scratch::default(),
            max_held: 0,
        }
    }

    /// Puts a rebuilt table in place; it holds every entry, so none is held.
    pub fn replace(&mut self, table: Table) {
        self.table = table;
        self.hashes.clear();
        self.index.fill(0);
    }

    /// Sets how many entries make [`Batched::is_full`] true; 0 (the
    /// default) holds none: each insert goes straight into the file. Holding
    /// costs a cache miss per entry in RAM, and saves random page writes
    /// only if the table's pages do not stay in RAM.
    pub fn set_max_held(&mut self, entries: usize) {
        self.max_held = entries;
    }

    /// Whether the held entries should be swept in now.
    pub fn is_full(&self) -> bool {
        self.max_held > 0 && self.hashes.len() >= self.max_held
    }

    /// The table (without the held entries).
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// The table, for changes that need nothing held.
    pub fn table_mut(&mut self) -> &mut Table {
        assert!(self.hashes.is_empty(), "table changed with entries held");
        &mut self.table
    }

    /// Entries held in memory.
    pub fn held(&self) -> usize {
        self.hashes.len()
    }

    #[inline]
    fn index_slot(&self, hash: u64) -> usize {
        (hash >> 32) as usize & (self.index.len() - 1)
    }

    /// Notes `id` for `hash` (or inserts it at once if nothing is to be
    /// held); ids must follow one another from the first held one, and be
    /// above every id in the table.
    pub fn insert(&mut self, hash: u64, id: u32) -> Result<(), NoRoom> {
        if self.max_held == 0 && self.hashes.is_empty() {
            return self.table.insert(hash, id);
        }
        if self.hashes.is_empty() {
            self.base = id;
        }
        debug_assert_eq!(id as u64, self.base as u64 + self.hashes.len() as u64);
        if (self.hashes.len() + 1) * 2 > self.index.len() {
            self.grow_index();
        }
        self.hashes.push(hash);
        let k = self.hashes.len() as u64;
        let mask = self.index.len() - 1;
        let mut i = self.index_slot(hash);
        while self.index[i] != 0 {
            i = (i + 1) & mask;
        }
        self.index[i] = hash << 32 | k;
        Ok(())
    }

    fn grow_index(&mut self) {
        let len = (self.index.len() * 2).max(4096);
        self.index.clear();
        self.index.resize(len, 0);
        for (k, &h) in self.hashes.iter().enumerate() {
            let mut i = self.index_slot(h);
            while self.index[i] != 0 {
                i = (i + 1) & (len - 1);
            }
            self.index[i] = h << 32 | (k as u64 + 1);
        }
    }

    /// Asks the CPU to fetch the slots a probe for `hash` starts at.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        self.table.prefetch(hash);
        if !self.index.is_empty() {
            let i = self.index_slot(hash);
            super::column::prefetch_at(&self.index, i);
        }
    }

    /// As [`Table::probe`], over the file and then the held entries (whose
    /// hash's low half and slot must match, not only the fingerprint).
    pub fn probe(&self, hash: u64, limit: u32, mut visit: impl FnMut(u32) -> bool) -> bool {
        if self.table.probe(hash, limit, &mut visit) {
            return true;
        }
        if self.hashes.is_empty() {
            return false;
        }
        let mask = self.index.len() - 1;
        let mut i = self.index_slot(hash);
        loop {
            let e = self.index[i];
            if e == 0 {
                return false;
            }
            // The slot and the low half: the caller confirms the key.
            let id = self.base + (e as u32 - 1);
            if e >> 32 == hash & 0xffff_ffff && id < limit && visit(id) {
                return true;
            }
            i = (i + 1) & mask;
        }
    }

    /// Sweeps the held entries into the table.
    pub fn flush(&mut self) -> Result<(), NoRoom> {
        if self.hashes.is_empty() {
            return Ok(());
        }
        let r = self
            .table
            .insert_batch(&self.hashes, self.base, &mut self.scratch);
        self.hashes.clear();
        self.index.fill(0);
        r
    }

    /// Writes the table's dirty pages to disk (held entries are not).
    pub fn sync(&self) -> io::Result<()> {
        self.table.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::{Batched, Table};

    #[test]
    fn capacities_are_pages_of_slots_within_the_32_bit_limit() {
        assert_eq!(Table::capacity_for(0), 4096);
        // 1.2 billion mainnet txs at 0.7 load: 1.71 billion slots, 8.6 GB.
        let c = Table::capacity_for(1_200_000_000);
        assert_eq!(c % 4096, 0);
        assert!((1_714_285_715..1_714_289_812).contains(&c), "{c}");
        assert_eq!(Table::capacity_for(4_000_000_000), Table::MAX_CAPACITY);
        assert!(Table::MAX_CAPACITY <= u32::MAX as u64);
    }

    /// splitmix64: hashes spread like the store's keyed SipHash.
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Hashes of every shape a sweep must get right: spread, crowded into
    /// a few home slots (long runs), near the end of the home range (runs
    /// into the tail), and repeated (a txid seen twice).
    fn hashes(n: usize, seed: u64) -> Vec<u64> {
        let mut v: Vec<u64> = Vec::with_capacity(n);
        for i in 0..n {
            let h = mix(seed ^ i as u64);
            v.push(match i % 7 {
                0 => h & !0xffff_fff0 | 0x8000_0000, // 16 homes mid-table
                1 => h | 0xffff_f000,                // the last homes
                2 if i > 10 => v[i - 9],             // an earlier one again
                _ => h,
            });
        }
        v
    }

    #[test]
    fn a_batch_leaves_the_bytes_inserts_in_id_order_leave() {
        let dir = tempfile::tempdir().unwrap();
        let mut scratch = super::Scratch::default();
        for (cap, n, before, batch) in [
            (512u64, 409usize, 0usize, 409usize),
            (512, 409, 100, 7),
            (4096, 3276, 1000, 1),
            (4096, 3276, 0, 100),
            (5000, 4000, 2500, 333),
            (12_800, 10_240, 5, 4096),
        ] {
            let hs = hashes(n, cap ^ batch as u64);
            let one = dir.path().join(format!("one-{cap}-{batch}.tbl"));
            let many = dir.path().join(format!("many-{cap}-{batch}.tbl"));
            let mut a = Table::create(&one, cap).unwrap();
            let mut b = Table::create(&many, cap).unwrap();
            for (id, &h) in hs.iter().enumerate() {
                a.insert(h, id as u32).unwrap();
            }
            for (id, &h) in hs[..before].iter().enumerate() {
                b.insert(h, id as u32).unwrap();
            }
            for (k, c) in hs[before..].chunks(batch).enumerate() {
                let base = (before + k * batch) as u32;
                b.insert_batch(c, base, &mut scratch).unwrap();
            }
            assert!(a.raw() == b.raw(), "capacity {cap}, batches of {batch}");
            let tail_used = (cap..a.len).filter(|&i| a.slot(i) != 0).count();
            assert!(tail_used > 0, "capacity {cap}: some run reaches the tail");
            for (id, &h) in hs.iter().enumerate() {
                let mut found = false;
                b.probe(h, u32::MAX, |i| {
                    found |= i == id as u32;
                    found
                });
                assert!(found, "entry {id} at capacity {cap}");
            }
        }
    }

    #[test]
    fn forgetting_a_batch_restores_the_table_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let hs = hashes(3200, 9);
        let mut t = Table::create(&dir.path().join("f.tbl"), 4096).unwrap();
        let mut scratch = super::Scratch::default();
        t.insert_batch(&hs[..2000], 0, &mut scratch).unwrap();
        let before = t.raw().to_vec();
        // A sweep killed half-way, its last slot torn (fingerprint, no id).
        t.insert_batch(&hs[2000..2600], 2000, &mut scratch).unwrap();
        let free = t.free_from(0).unwrap();
        t.set_slot(free, 0x7f << 32);
        t.forget_from(2000);
        assert!(t.raw() == &before[..]);
    }

    #[test]
    fn held_entries_are_found_and_swept_in_as_if_inserted() {
        let dir = tempfile::tempdir().unwrap();
        let hs = hashes(3000, 42);
        let mut plain = Table::create(&dir.path().join("plain.tbl"), 4096).unwrap();
        for (id, &h) in hs.iter().enumerate() {
            plain.insert(h, id as u32).unwrap();
        }
        let t = Table::create(&dir.path().join("held.tbl"), 4096).unwrap();
        let mut b = Batched::new(t);
        b.set_max_held(usize::MAX);
        for (id, &h) in hs.iter().enumerate() {
            b.insert(h, id as u32).unwrap();
            if id % 1000 == 999 {
                b.flush().unwrap();
            }
            // Every entry so far is found, held or not, and none above the limit.
            for back in [0, 1, 500] {
                let Some(j) = id.checked_sub(back) else {
                    continue;
                };
                let mut found = false;
                b.probe(hs[j], id as u32 + 1, |i| {
                    assert!(i <= id as u32, "id {i} past the limit");
                    found |= i == j as u32;
                    found
                });
                assert!(found, "entry {j} after inserting {id} ({} held)", b.held());
            }
        }
        assert_eq!(b.held(), 0);
        assert!(plain.raw() == b.table().raw());
    }

    #[test]
    fn a_run_past_the_tail_is_refused_not_wrapped() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = Table::create(&dir.path().join("end.tbl"), 512).unwrap();
        // Every entry homes at the last home slot: 4097 fit (to the file's end).
        let hs = vec![u32::MAX as u64; 4097];
        t.insert_batch(&hs, 0, &mut Default::default()).unwrap();
        assert_eq!(t.slot(0), 0, "nothing wrapped to the start");
        assert_eq!(t.insert(u32::MAX as u64, 4097), Err(super::NoRoom));
        assert_eq!(
            t.insert_batch(&[u32::MAX as u64], 4097, &mut Default::default()),
            Err(super::NoRoom)
        );
        let mut seen = 0;
        t.probe(u32::MAX as u64 | 5 << 56, u32::MAX, |_| {
            seen += 1;
            false
        });
        assert_eq!(seen, 0, "a probe stops at the end of the file");
    }

    #[test]
    fn a_probe_through_the_tail_ends() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = Table::create(&dir.path().join("full.tbl"), 4096).unwrap();
        let hash = |i: u32| (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for i in 0..4096 {
            t.insert(hash(i), i).unwrap();
        }
        let mut seen = 0;
        t.probe(hash(5000), u32::MAX, |_| {
            seen += 1;
            false
        });
        assert!(seen <= 4096, "{seen}");
        let mut found = false;
        t.probe(hash(4095), u32::MAX, |id| {
            found |= id == 4095;
            found
        });
        assert!(found);
    }

    #[test]
    fn probes_find_every_entry_at_any_capacity() {
        let dir = tempfile::tempdir().unwrap();
        for cap in [512u64, 4096 + 512, 12_800, 4096] {
            let mut t = Table::create(&dir.path().join(format!("{cap}.tbl")), cap).unwrap();
            let n = (cap * 8 / 10) as u32;
            let hash = |i: u32| (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x1234_5678;
            for i in 0..n {
                t.insert(hash(i), i).unwrap();
            }
            for i in 0..n {
                let mut found = false;
                t.probe(hash(i), n, |id| {
                    found |= id == i;
                    found
                });
                assert!(found, "entry {i} at capacity {cap}");
            }
            t.forget_from(n / 2);
            let mut seen = 0;
            t.probe(hash(n - 1), n, |_| {
                seen += 1;
                false
            });
            assert_eq!(seen, 0, "forgotten entries are gone");
        }
    }
}
