//! A persistent open-addressing hash table from a key to a dense id.
//!
//! Each slot is 5 bytes, a little-endian `u40`: the high 8 bits are a
//! fingerprint of the key's hash (its top byte), the low 32 bits are
//! `id + 1` (0 marks an empty slot). The slot index comes from the hash's
//! low bits, so a probe compares fingerprints first and reads the stored key
//! (through the caller's `visit`) only on a fingerprint match: one probed
//! slot in 256 costs a needless key read. Linear probing; any capacity (the
//! home slot is the hash's low half scaled to it). Tables are sized for a
//! load of 0.7 and the store rebuilds one at 1.5 times its entries before it
//! passes 0.8, so a table's load stays between about 0.47 and 0.8.
//!
//! The table never deletes during a run. Entries whose id is not committed
//! (left by an interrupted run, or above a rollback point) are removed by
//! [`Table::forget_from`]; that is safe under linear probing because ids are
//! inserted in increasing order, so no committed entry's probe path runs
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
    cap: u64,
}

/// Largest load before the store rebuilds a table, as `num / den`.
pub const MAX_LOAD: (u64, u64) = (8, 10);

/// Load a table is sized for, as `num / den`.
pub const SIZING_LOAD: (u64, u64) = (7, 10);

/// Bytes per slot.
pub const SLOT: u64 = 5;

const SLOT_MASK: u64 = (1 << 40) - 1;

impl Table {
    /// Creates a new table file of `capacity` slots (a power of two).
    pub fn create(path: &Path, capacity: u64) -> io::Result<Table> {
        assert!(capacity > 0 && capacity <= Self::MAX_CAPACITY);
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        f.set_len(capacity * SLOT)?;
        Self::map(f, true)
    }

    /// Opens an existing table file.
    pub fn open(path: &Path, writable: bool) -> io::Result<Table> {
        let f = OpenOptions::new().read(true).write(writable).open(path)?;
        Self::map(f, writable)
    }

    fn map(f: File, writable: bool) -> io::Result<Table> {
        let len = f.metadata()?.len();
        let cap = len / SLOT;
        if cap == 0 || cap > u32::MAX as u64 || len % SLOT != 0 {
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
        Ok(Table { slots, cap })
    }

    /// The slot a probe for `hash` starts at: the low 32 bits of the hash
    /// scaled to the capacity (multiply-shift), so any capacity works and
    /// the fingerprint (the high 32 bits) stays independent of the position.
    #[inline]
    fn home(&self, hash: u64) -> u64 {
        ((hash & 0xffff_ffff) * self.cap) >> 32
    }

    #[inline]
    fn next(&self, i: u64) -> u64 {
        if i + 1 == self.cap {
            0
        } else {
            i + 1
        }
    }

    /// Number of slots.
    pub fn capacity(&self) -> u64 {
        self.cap
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
    /// ids below `limit`, in probe order, until it returns `true`.
    pub fn probe(&self, hash: u64, limit: u32, mut visit: impl FnMut(u32) -> bool) {
        let fp = hash >> 56;
        let mut i = self.home(hash);
        // At most one lap: a damaged table with no empty slot must not hang.
        for _ in 0..self.cap {
            let s = self.slot(i);
            if s == 0 {
                return;
            }
            if s >> 32 == fp {
                // An id of 0 is a slot half-written by a concurrent writer.
                if let Some(id) = ((s & 0xffff_ffff) as u32).checked_sub(1) {
                    if id < limit && visit(id) {
                        return;
                    }
                }
            }
            i = self.next(i);
        }
    }

    /// Inserts `id` for `hash` (no duplicate check: see [`Table::probe`]).
    pub fn insert(&mut self, hash: u64, id: u32) {
        let v = (hash >> 56) << 32 | (id as u64 + 1);
        let mut i = self.home(hash);
        while self.slot(i) != 0 {
            i = self.next(i);
        }
        self.set_slot(i, v);
    }

    /// Removes every entry whose id is `limit` or more.
    pub fn forget_from(&mut self, limit: u32) {
        for i in 0..self.capacity() {
            let s = self.slot(i);
            if s != 0 && (s & 0xffff_ffff) as u32 > limit {
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

#[cfg(test)]
mod tests {
    use super::Table;

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

    #[test]
    fn a_probe_of_a_full_table_ends() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = Table::create(&dir.path().join("full.tbl"), 4096).unwrap();
        let hash = |i: u32| (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for i in 0..4096 {
            t.insert(hash(i), i);
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
                t.insert(hash(i), i);
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
