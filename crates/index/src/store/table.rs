//! A persistent open-addressing hash table from a key to a dense id.
//!
//! Each slot is a `u64`: the high 32 bits are a fingerprint of the key's
//! hash, the low 32 bits are `id + 1` (0 marks an empty slot). The slot
//! index comes from the hash's low bits, so a probe compares fingerprints
//! first and reads the stored key (through the caller's `check`) only on a
//! fingerprint match. Linear probing; any capacity (the home slot is the
//! hash's low half scaled to it), and the
//! store rebuilds the table at twice the size before it is 70% full.
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
pub const MAX_LOAD: (u64, u64) = (7, 10);

/// Load a table is sized for, as `num / den`.
pub const SIZING_LOAD: (u64, u64) = (6, 10);

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
        f.set_len(capacity * 8)?;
        Self::map(f, true)
    }

    /// Opens an existing table file.
    pub fn open(path: &Path, writable: bool) -> io::Result<Table> {
        let f = OpenOptions::new().read(true).write(writable).open(path)?;
        Self::map(f, writable)
    }

    fn map(f: File, writable: bool) -> io::Result<Table> {
        let len = f.metadata()?.len();
        let cap = len / 8;
        if cap == 0 || cap > u32::MAX as u64 || len % 8 != 0 {
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

    fn slot(&self, i: u64) -> u64 {
        let o = (i * 8) as usize;
        u64::from_le_bytes(self.raw()[o..o + 8].try_into().expect("8 bytes"))
    }

    fn set_slot(&mut self, i: u64, v: u64) {
        let o = (i * 8) as usize;
        if let Slots::Rw(m) = &mut self.slots {
            m[o..o + 8].copy_from_slice(&v.to_le_bytes());
        }
    }

    /// Asks the CPU to fetch the slot a probe for `hash` starts at, so that
    /// many lookups' cache misses overlap (a hint; no effect on results).
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        let i = (self.home(hash) * 8) as usize;
        #[cfg(target_arch = "x86_64")]
        if let Some(p) = self.raw().get(i) {
            // SAFETY: a prefetch of a valid address has no observable effect.
            unsafe {
                std::arch::x86_64::_mm_prefetch(
                    p as *const u8 as *const i8,
                    std::arch::x86_64::_MM_HINT_T0,
                )
            };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = i;
    }

    /// Calls `visit` with every id whose fingerprint matches `hash`, among
    /// ids below `limit`, in probe order, until it returns `true`.
    pub fn probe(&self, hash: u64, limit: u32, mut visit: impl FnMut(u32) -> bool) {
        let fp = hash >> 32;
        let mut i = self.home(hash);
        loop {
            let s = self.slot(i);
            if s == 0 {
                return;
            }
            if s >> 32 == fp {
                let id = (s & 0xffff_ffff) as u32 - 1;
                if id < limit && visit(id) {
                    return;
                }
            }
            i = self.next(i);
        }
    }

    /// Inserts `id` for `hash` (no duplicate check: see [`Table::probe`]).
    pub fn insert(&mut self, hash: u64, id: u32) {
        let v = (hash >> 32) << 32 | (id as u64 + 1);
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
    pub const MAX_CAPACITY: u64 = (u32::MAX as u64 / 512) * 512;

    /// Capacity for `n` entries: sized for a load of 0.6, rounded up to whole
    /// 4 KiB pages of slots, at most [`Table::MAX_CAPACITY`].
    pub fn capacity_for(n: u64) -> u64 {
        let need = (n * SIZING_LOAD.1).div_ceil(SIZING_LOAD.0) + 1;
        (need.div_ceil(512).max(8) * 512).min(Self::MAX_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::Table;

    #[test]
    fn capacities_are_pages_of_slots_within_the_32_bit_limit() {
        assert_eq!(Table::capacity_for(0), 4096);
        // 1.2 billion mainnet txs at 0.6 load: 2.0 billion slots, 16 GB.
        let c = Table::capacity_for(1_200_000_000);
        assert_eq!(c % 512, 0);
        assert!((2_000_000_000..2_000_001_024).contains(&c), "{c}");
        assert_eq!(Table::capacity_for(4_000_000_000), Table::MAX_CAPACITY);
        assert!(Table::MAX_CAPACITY <= u32::MAX as u64);
    }

    #[test]
    fn probes_find_every_entry_at_any_capacity() {
        let dir = tempfile::tempdir().unwrap();
        for cap in [512u64, 4096 + 512, 12_800] {
            let mut t = Table::create(&dir.path().join(format!("{cap}.tbl")), cap).unwrap();
            let n = (cap * 7 / 10) as u32;
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
