//! A fixed-width, append-only column in one memory-mapped file.
//!
//! The file may be longer than the column (capacity grows by doubling); the
//! committed length lives in the manifest, never in the file. A reader maps
//! the file read-only and sees exactly `len` bytes. A writer appends and,
//! for the few columns that change after they are written (`out_spent`,
//! `addr_head`, the last address group's kind bytes, the last `out_link`
//! record's bits), overwrites in place; durability is the store's business
//! (`flush`, then the manifest).

use crate::pages::{self, page_size};
use memmap2::{Mmap, MmapMut};
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

enum Map {
    None,
    Ro(Mmap),
    Rw(MmapMut),
}

/// Asks the CPU to fetch the cache line holding `items[i]` (a hint; no
/// effect on results, nothing if `i` is out of range), so that many
/// lookups' cache misses overlap.
#[inline]
pub fn prefetch_at<T>(items: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(p) = items.get(i) {
        // SAFETY: a prefetch of a valid address has no observable effect.
        unsafe {
            std::arch::x86_64::_mm_prefetch(
                p as *const T as *const i8,
                std::arch::x86_64::_MM_HINT_T0,
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (items, i);
}

/// One column file.
pub struct Column {
    path: PathBuf,
    file: File,
    map: Map,
    /// Bytes in use.
    len: u64,
    /// Bytes mapped (writers only; the file's length).
    cap: u64,
    /// Bytes with disk blocks reserved under them (writers; at most `cap`):
    /// appends within them cannot meet a full disk ([`pages::reserve_disk`]).
    reserved: u64,
    writable: bool,
    /// Bytes already handed to the kernel's writeback ([`Column::start_writeback`]).
    written_back: u64,
    /// Bytes whose pages were given back to the kernel ([`Column::start_writeback`]).
    dropped: u64,
    /// Bytes whose pages the current map holds already (writers; at most
    /// `reserved`): appends up to there take no page fault ([`pages::populate`]).
    populated: u64,
    /// Bytes from here on hold zeros (past the file's end at open, and not
    /// written since): [`Column::make_room`] may write zeros there.
    zeros_from: u64,
    /// Write zeros ahead of the appends ([`Column::write_zeros`])?
    zero_ahead: bool,
    /// Bytes of address space the writer's map spans (at least `cap`):
    /// the file grows within it without a new map ([`map_span`]).
    span: u64,
}

const MIN_CAP: u64 = 1 << 16;

/// Disk reserved ahead of the appends, at most: a column's capacity doubles,
/// but the space under its unused half is claimed only as appends come.
const RESERVE_AHEAD: u64 = 16 << 20;

/// Pages mapped ahead of the appends, at most, in one call each time the
/// appends reach the end of those mapped before.
const POPULATE_AHEAD: u64 = 256 << 10;

impl Column {
    /// Opens a column of `len` committed bytes. A writer creates the file if
    /// needed; anything past `len` is ignored (never cut here: see below).
    pub fn open(path: &Path, len: u64, writable: bool) -> io::Result<Column> {
        let file = if writable {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)?
        } else {
            File::open(path)?
        };
        let flen = file.metadata()?.len();
        if flen < len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{} holds {flen} bytes, the manifest says {len}",
                    path.display()
                ),
            ));
        }
        // The committed bytes are written, but a copied index may hold
        // them as holes; in-place writes go there (cheap where they are not).
        if writable {
            pages::reserve_disk(&file, 0, len)?;
        }
        let mut c = Column {
            path: path.to_path_buf(),
            file,
            map: Map::None,
            len,
            cap: flen,
            reserved: len,
            writable,
            written_back: len & !(page_size() - 1),
            dropped: len & !(page_size() - 1),
            populated: len,
            zeros_from: flen,
            zero_ahead: false,
            span: 0,
        };
        // Bytes past `len` (left by an interrupted run) are kept: a repair may
        // still need to read them, appends overwrite them, and `trim` cuts
        // them at the end of a clean run.
        c.remap()?;
        Ok(c)
    }

    fn remap(&mut self) -> io::Result<()> {
        self.map = Map::None;
        self.span = 0;
        self.populated = self.len;
        if self.cap == 0 {
            return Ok(());
        }
        // SAFETY: the index directory is locked by its single writer; readers
        // only look at the committed prefix, which the writer never shrinks
        // while they run except through a rollback, which readers of a live
        // index must tolerate as stale data (never as undefined memory: the
        // file is not truncated below the mapped length while mapped). A
        // writer's map may run past the file's end ([`map_span`]); only the
        // part within it is ever touched ([`Column::mapped`]).
        self.map = if self.writable {
            let span = map_span(self.cap);
            let wide = usize::try_from(span)
                .ok()
                .filter(|_| span > self.cap)
                .and_then(|len| unsafe {
                    memmap2::MmapOptions::new()
                        .len(len)
                        .map_mut(&self.file)
                        .ok()
                });
            match wide {
                Some(m) => {
                    self.span = span;
                    Map::Rw(m)
                }
                // No room for it (an address-space limit, `ulimit -v`): the
                // file's length, mapped again each time it grows.
                None => {
                    let m = unsafe { MmapMut::map_mut(&self.file)? };
                    self.span = self.cap;
                    Map::Rw(m)
                }
            }
        } else {
            Map::Ro(unsafe { Mmap::map(&self.file)? })
        };
        Ok(())
    }

    /// Bytes in use.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// The bytes in use.
    pub fn bytes(&self) -> &[u8] {
        &self.mapped()[..self.len as usize]
    }

    /// Every mapped byte, past the committed length too (for readers that
    /// follow pointers a writer made durable before committing).
    pub fn mapped(&self) -> &[u8] {
        match &self.map {
            Map::None => &[],
            Map::Ro(m) => m,
            Map::Rw(m) => &m[..self.cap as usize],
        }
    }

    #[inline(always)]
    fn bytes_mut(&mut self) -> &mut [u8] {
        match &mut self.map {
            Map::Rw(m) => &mut m[..self.len as usize],
            _ => &mut [],
        }
    }

    /// Makes room for `extra` more bytes.
    #[inline(always)]
    fn reserve(&mut self, extra: u64) -> io::Result<()> {
        let need = self.len + extra;
        if need <= self.populated {
            return Ok(());
        }
        self.make_room(need)
    }

    /// Grows the file (doubling) if `need` bytes do not fit, then reserves
    /// the disk under them and up to [`RESERVE_AHEAD`] more, then maps the
    /// pages up to [`POPULATE_AHEAD`] past them.
    #[cold]
    fn make_room(&mut self, need: u64) -> io::Result<()> {
        if need > self.reserved {
            self.reserve_disk(need)?;
        }
        // Within the disk reserved, where writes cannot meet a full disk.
        let to = need.next_multiple_of(POPULATE_AHEAD).min(self.reserved);
        let from = self.populated.max(self.len);
        self.write_zeros(from, to)?;
        pages::populate(self.mapped(), from, to);
        self.populated = to.max(need);
        Ok(())
    }

    /// Writes zeros over the whole pages within `from..to` that hold zeros
    /// already (past [`Column::zeros_from`]), through the file, not the
    /// map. Same bytes; but the kernel then has those pages in its cache,
    /// written, and mapping them is a lookup. A first store through the
    /// map into a page it does not have costs a fault that reads ahead
    /// around it, zero-fills each page read (disk reserved but never
    /// written reads as zeros), then marks it for writing: the append
    /// stage took 0.50 to 0.59 s with that, 0.39 to 0.43 s with this
    /// (bench/README.md, "Pages written before they are mapped").
    fn write_zeros(&mut self, from: u64, to: u64) -> io::Result<()> {
        if !self.zero_ahead {
            // Appends will write up to `to`: past there only are zeros sure.
            self.zeros_from = self.zeros_from.max(to);
            return Ok(());
        }
        static ZEROS: [u8; POPULATE_AHEAD as usize] = [0; POPULATE_AHEAD as usize];
        let mut at = self.zeros_from.max(from).next_multiple_of(page_size());
        if at >= to {
            return Ok(());
        }
        while at < to {
            let n = (to - at).min(ZEROS.len() as u64);
            write_at(&self.file, &ZEROS[..n as usize], at)?;
            at += n;
        }
        self.zeros_from = to;
        Ok(())
    }

    /// Whether the pages the next appends will write are first written as
    /// zeros through the file ([`Column::write_zeros`]; default: no). Only
    /// with memory to spare: under pressure the kernel writes dirty pages
    /// back early, some zeros reach the disk before the data and those
    /// pages are written twice (`bench/pressure.sh` with 720 MB left: 2.5
    /// to 3.3 GB written in its last chunk, against 1.5 to 1.7 GB).
    pub fn zero_ahead(&mut self, on: bool) {
        self.zero_ahead = on;
    }

    fn reserve_disk(&mut self, need: u64) -> io::Result<()> {
        if need > self.cap {
            let mut cap = self.cap.max(MIN_CAP);
            while cap < need {
                cap *= 2;
            }
            // Growing a mapped file is safe; if it fails, the column is
            // left as it was.
            self.file.set_len(cap)?;
            self.cap = cap;
            if cap > self.span {
                self.remap()?;
            }
        }
        let to = need.next_multiple_of(RESERVE_AHEAD).min(self.cap);
        self.reserved = if pages::reserve_disk(&self.file, self.reserved, to)? {
            to
        } else {
            self.cap
        };
        Ok(())
    }

    /// Appends bytes.
    #[inline(always)]
    pub fn push(&mut self, data: &[u8]) -> io::Result<()> {
        self.reserve(data.len() as u64)?;
        let start = self.len as usize;
        self.len += data.len() as u64;
        self.bytes_mut()[start..].copy_from_slice(data);
        Ok(())
    }

    /// Overwrites bytes at `offset` (within the column).
    #[inline(always)]
    pub fn write_at(&mut self, offset: u64, data: &[u8]) {
        let o = offset as usize;
        self.bytes_mut()[o..o + data.len()].copy_from_slice(data);
    }

    /// Forgets everything past `len` bytes (the file keeps its capacity).
    pub fn truncate(&mut self, len: u64) {
        self.len = self.len.min(len);
        self.written_back = self.written_back.min(self.len & !(page_size() - 1));
        self.dropped = self.dropped.min(self.written_back);
    }

    /// Starts writing the whole pages appended since the last call to disk,
    /// without waiting (Linux `sync_file_range`), so that the commit's
    /// [`Column::flush`] finds less left to write: the disk works while
    /// ingest goes on. Only for append-only columns: a page rewritten later
    /// would be written twice. A hint; durability still comes from `flush`.
    ///
    /// With `drop_behind` (columns ingest never reads back), the pages
    /// handed to writeback by the call before this one, written by now, are
    /// also given back to the kernel (`MADV_DONTNEED` then
    /// `POSIX_FADV_DONTNEED`), so that on a machine whose RAM the index
    /// outgrows they do not push out the pages ingest does read and write
    /// at random. Their content stays in the file; a dirty page is written,
    /// not lost. Returns the bytes given back.
    pub fn start_writeback(&mut self, drop_behind: bool) -> u64 {
        let end = self.len & !(page_size() - 1);
        if !self.writable || end <= self.written_back {
            return 0;
        }
        #[allow(unused_mut)] // given back on Linux only
        let mut given = 0;
        #[cfg(target_os = "linux")]
        if drop_behind && self.written_back > self.dropped {
            use std::os::fd::AsRawFd;
            let (from, n) = (self.dropped, self.written_back - self.dropped);
            if let Map::Rw(_) = &self.map {
                given =
                    crate::pages::give_back(self.mapped(), self.file.as_raw_fd(), from, from + n);
            }
            self.dropped = self.written_back;
        }
        #[cfg(not(target_os = "linux"))]
        let _ = drop_behind;
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: a plain syscall on an open descriptor; no memory is passed.
            // Its result is ignored: a failed hint only leaves more for `flush`.
            unsafe {
                libc::sync_file_range(
                    self.file.as_raw_fd(),
                    self.written_back as libc::off64_t,
                    (end - self.written_back) as libc::off64_t,
                    libc::SYNC_FILE_RANGE_WRITE,
                );
            }
        }
        self.written_back = end;
        given
    }

    /// Writes dirty pages to disk and waits.
    pub fn flush(&self) -> io::Result<()> {
        if let Map::Rw(m) = &self.map {
            m.flush_range(0, self.cap as usize)?;
        }
        Ok(())
    }

    /// Shrinks the file to the bytes in use (at the end of a clean run).
    pub fn trim(&mut self) -> io::Result<()> {
        if self.writable && self.cap != self.len {
            self.map = Map::None;
            self.file.set_len(self.len)?;
            self.file.sync_all()?;
            self.cap = self.len;
            self.zeros_from = self.len;
            self.reserved = self.reserved.min(self.cap);
            self.remap()?;
        }
        Ok(())
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Bytes of address space a writer maps for a file of `cap` bytes: 64 GiB
/// at least (twice the file past that), so that the file grows under the
/// map. Mapping past a file's end is allowed on Unix; only touching a page
/// there is not (a `SIGBUS`), and [`Column::mapped`] ends at the file's
/// end. A new map each time the file doubled dropped every page of the old
/// one, and each was faulted in again. Elsewhere, or where the address
/// space is limited ([`Column::remap`] falls back), the file's length.
fn map_span(cap: u64) -> u64 {
    if cfg!(unix) && usize::BITS >= 64 {
        cap.saturating_mul(2).max(1 << 36)
    } else {
        cap
    }
}

/// Writes all of `data` at byte `offset` of `file`.
fn write_at(file: &File, data: &[u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, data, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < data.len() {
            let n = std::os::windows::fs::FileExt::seek_write(
                file,
                &data[done..],
                offset + done as u64,
            )?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            done += n;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Column, POPULATE_AHEAD};

    /// Appends write over what an interrupted run left past the committed
    /// length only where they append; the zeros written ahead of them go
    /// past the file's old end only; the file grows under the same map.
    #[test]
    fn appends_keep_leftover_bytes_and_grow_in_place() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("c.col");
        let left = 3 * POPULATE_AHEAD as usize + 123;
        std::fs::write(&p, vec![0xab; left]).unwrap();
        let mut c = Column::open(&p, 10, true).unwrap();
        c.zero_ahead(true);
        c.push(&[0x11; 5000]).unwrap();
        c.flush().unwrap();
        let f = std::fs::read(&p).unwrap();
        assert!(f[..10].iter().all(|&b| b == 0xab));
        assert!(f[10..5010].iter().all(|&b| b == 0x11));
        assert!(f[5010..left].iter().all(|&b| b == 0xab), "leftovers zeroed");
        // Past the old end: many doublings of the file.
        let big = 40 * POPULATE_AHEAD as usize;
        for k in 0..big / 4096 {
            c.push(&[(k % 251) as u8; 4096]).unwrap();
        }
        c.write_at(0, &[0x22; 10]);
        assert_eq!(
            c.mapped().len() as u64,
            std::fs::metadata(&p).unwrap().len()
        );
        let end = 5010 + big;
        assert_eq!(c.len(), end as u64);
        c.flush().unwrap();
        let f = std::fs::read(&p).unwrap();
        assert!(f[..10].iter().all(|&b| b == 0x22));
        for k in 0..big / 4096 {
            let at = 5010 + k * 4096;
            assert!(
                f[at..at + 4096].iter().all(|&b| b == (k % 251) as u8),
                "page {k}"
            );
        }
        assert!(f[end..].iter().all(|&b| b == 0), "past the appends");
        assert_eq!(&c.bytes()[..10], &[0x22; 10]);
        c.trim().unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().len(), end as u64);
    }

    /// Appends without zeros ahead, a rollback, then zeros ahead again: the
    /// zeros go past every byte appended, never over one.
    #[test]
    fn zeros_turned_on_later_go_past_every_append() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("c.col");
        let mut c = Column::open(&p, 0, true).unwrap();
        let n = 3 * POPULATE_AHEAD as usize;
        c.push(&vec![0x33; n]).unwrap();
        c.truncate(10);
        c.remap().unwrap();
        c.zero_ahead(true);
        c.push(&[0x44; 10]).unwrap();
        c.flush().unwrap();
        let f = std::fs::read(&p).unwrap();
        assert!(f[10..20].iter().all(|&b| b == 0x44));
        assert!(
            f[20..n].iter().all(|&b| b == 0x33),
            "rolled-back bytes zeroed"
        );
    }
}
