//! Reading block files as Bitcoin Core writes them.
//!
//! Owns: finding `blk*.dat` files (a datadir's `blocks/`, one file, or a
//! folder), the XOR obfuscation key (`blocks/xor.dat`, Bitcoin Core 28+),
//! memory-mapping files, and framing records (`magic | size | block`) while
//! skipping pre-allocated zero tails and resynchronising after garbage.
//! Every problem becomes a [`Warning`] naming the file and byte offset.
//!
//! Must not: parse block contents beyond the 80-byte header or decide what
//! the index keeps; that is the ingest's job.

use chainhound_chain::Network;
use memmap2::Mmap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// Largest block record accepted (consensus limit 4,000,000 bytes, with slack).
pub const MAX_BLOCK_SIZE: u32 = 4_000_000 + 1024;

/// Something wrong with the input that was skipped.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// The block file.
    pub file: PathBuf,
    /// Byte offset in that file.
    pub offset: u64,
    /// What was wrong and what was done.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: offset {}: {}",
            self.file.display(),
            self.offset,
            self.message
        )
    }
}

/// An error opening the input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// A file or folder could not be read.
    #[error("{path}: {cause}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause (in the message, not a `source()`: printed once).
        cause: io::Error,
    },
    /// No block files were found.
    #[error("no block files found in {0} (expected blk*.dat or *.dat files)")]
    NoFiles(PathBuf),
    /// The obfuscation key file is malformed.
    #[error("{0}: xor.dat must hold 8 bytes")]
    BadXorKey(PathBuf),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SourceError + '_ {
    move |cause| SourceError::Io {
        path: path.to_path_buf(),
        cause,
    }
}

/// One memory-mapped block file with its XOR key.
pub struct BlkFile {
    /// Where it is.
    pub path: PathBuf,
    map: Option<Mmap>,
    xor: [u8; 8],
    /// Device and inode (Unix; zero elsewhere): which file this is, whatever
    /// its name, for the header cache.
    id: (u64, u64),
    /// The open file (for [`BlkFile::release`]).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    file: File,
}

impl BlkFile {
    /// Maps `path`, to be read through `xor` (all zero: no obfuscation).
    pub fn open(path: &Path, xor: [u8; 8]) -> Result<BlkFile, SourceError> {
        let f = File::open(path).map_err(io_err(path))?;
        let meta = f.metadata().map_err(io_err(path))?;
        let len = meta.len();
        #[cfg(unix)]
        let id = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let id = (0, 0);
        // SAFETY: block files are only appended to by Bitcoin Core; we never
        // write through this map and tolerate any content we read.
        let map = if len == 0 {
            None
        } else {
            Some(unsafe { Mmap::map(&f) }.map_err(io_err(path))?)
        };
        Ok(BlkFile {
            path: path.to_path_buf(),
            map,
            xor,
            id,
            file: f,
        })
    }

    /// Tells the kernel how the file's map is about to be read (a hint:
    /// reads give the same bytes whatever it says).
    pub fn expect(&self, access: Access) {
        #[cfg(unix)]
        if let Some(m) = &self.map {
            let advice = match access {
                Access::Headers => memmap2::Advice::Random,
                Access::Blocks => memmap2::Advice::Normal,
            };
            // A hint only: a kernel that refuses it reads as before.
            let _ = m.advise(advice);
        }
        #[cfg(not(unix))]
        let _ = access;
    }

    /// The XOR key it is read through.
    pub fn xor(&self) -> [u8; 8] {
        self.xor
    }

    /// Device and inode numbers (Unix; zero elsewhere).
    pub fn id(&self) -> (u64, u64) {
        self.id
    }

    /// File length in bytes.
    pub fn len(&self) -> u64 {
        self.map.as_ref().map_or(0, |m| m.len() as u64)
    }

    /// Is the file empty?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn raw(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    fn obfuscated(&self) -> bool {
        self.xor != [0; 8]
    }

    /// The byte at `off`, de-obfuscated.
    fn byte(&self, off: u64) -> u8 {
        self.raw()[off as usize] ^ self.xor[(off % 8) as usize]
    }

    /// Is the byte at `off` zero, on disk or once de-obfuscated?
    fn is_padding(&self, off: u64) -> bool {
        self.raw()[off as usize] == 0 || self.byte(off) == 0
    }

    /// `len` bytes at `off`, de-obfuscated: borrowed straight from the map
    /// when there is no key, else copied into `buf`. `None` past the end.
    pub fn bytes<'a>(&'a self, off: u64, len: usize, buf: &'a mut Vec<u8>) -> Option<&'a [u8]> {
        let end = (off as usize).checked_add(len)?;
        let src = self.raw().get(off as usize..end)?;
        if !self.obfuscated() {
            return Some(src);
        }
        buf.clear();
        buf.extend_from_slice(src);
        // The key, rotated to this offset, applied a word at a time.
        let mut key = [0u8; 8];
        for (j, k) in key.iter_mut().enumerate() {
            *k = self.xor[((off as usize) + j) % 8];
        }
        let word = u64::from_ne_bytes(key);
        let mut chunks = buf.chunks_exact_mut(8);
        for c in &mut chunks {
            let v = u64::from_ne_bytes(c.try_into().expect("8 bytes")) ^ word;
            c.copy_from_slice(&v.to_ne_bytes());
        }
        for (b, k) in chunks.into_remainder().iter_mut().zip(key) {
            *b ^= k;
        }
        Some(&buf[..])
    }

    /// Tells the kernel that the whole pages within `len` bytes from `off`
    /// will not be read again (blocks ingested): it may drop them from the
    /// page cache at once rather than push out pages of the index; returns
    /// the bytes given back. A hint (Linux only): reading them again still
    /// gives the same bytes. See [`Releaser`] for whole runs of blocks.
    pub fn release(&self, off: u64, len: u64) -> u64 {
        #[cfg(target_os = "linux")]
        if let Some(m) = &self.map {
            use std::os::fd::AsRawFd;
            return crate::pages::give_back(m, self.file.as_raw_fd(), off, off.saturating_add(len));
        }
        let _ = (off, len);
        0
    }

    fn array<const N: usize>(&self, off: u64) -> Option<[u8; N]> {
        let mut buf = Vec::new();
        let s = self.bytes(off, N, &mut buf)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Some(a)
    }

    /// Walks the records of the file, calling `found` for each well-framed
    /// one, and returns warnings for everything skipped.
    pub fn records(&self, found: impl FnMut(Record)) -> Vec<Warning> {
        self.records_from(0, found).0
    }

    /// Walks the records from offset `start` (0, or a [`Resume::offset`] of
    /// an earlier walk of the same bytes), as [`BlkFile::records`] does.
    /// Also returns where a later walk may start again: the start of the
    /// last record whose size was confirmed by what follows it, with the
    /// number of records and warnings this walk gave before it. Everything
    /// from there on depends only on bytes at or after it, so a walk
    /// resumed there, once the file has grown, gives exactly what this walk
    /// gave from there, then what was appended. The last record is always
    /// walked again: it may be the one Bitcoin Core is writing; so is
    /// everything from the last confirmed record before the first record
    /// whose framing was in doubt (a size out of range or past the end, or
    /// overshooting the next record), whose reading may depend on where the
    /// file ended or on a record still being written.
    pub fn records_from(
        &self,
        start: u64,
        mut found: impl FnMut(Record),
    ) -> (Vec<Warning>, Resume) {
        let mut warnings = Vec::new();
        let mut records = 0usize;
        let mut resume = Resume {
            offset: start,
            records: 0,
            warnings: 0,
        };
        let len = self.len();
        let path = &self.path;
        let warn = |warnings: &mut Vec<Warning>, offset: u64, message: String| {
            warnings.push(Warning {
                file: path.clone(),
                offset,
                message,
            })
        };
        // Set at the first record whose framing was in doubt (a size field
        // out of range or past the end, or one overshooting the next
        // record): its reading may depend on where the file ended or on a
        // record Core was still writing, so walks must resume before it.
        let mut frozen = false;
        let mut p: u64 = start;
        while p < len {
            if len - p < 8 {
                if let Some(bad) = (p..len).find(|&i| !self.is_padding(i)) {
                    warn(
                        &mut warnings,
                        bad,
                        format!(
                            "{} trailing bytes too short for a record; skipped",
                            len - bad
                        ),
                    );
                }
                break;
            }
            let magic = self.array::<4>(p).expect("8 bytes remain");
            let Some(network) = Network::from_magic(magic) else {
                // Zero padding (Core pre-allocates files with zeros, written
                // raw, so through a key they read as the key) or garbage.
                let next = self.find_magic(p + 1);
                let end = next.unwrap_or(len);
                if let Some(bad) = (p..end).find(|&i| !self.is_padding(i)) {
                    warn(
                        &mut warnings,
                        bad,
                        format!("{} bytes of garbage (no network magic); skipped", end - bad),
                    );
                }
                match next {
                    Some(q) => {
                        p = q;
                        continue;
                    }
                    None => break,
                }
            };
            let size = u32::from_le_bytes(self.array::<4>(p + 4).expect("8 bytes remain"));
            let body = p + 8;
            if !(81..=MAX_BLOCK_SIZE).contains(&size) || body + size as u64 > len {
                frozen = true;
                let why = if body + size as u64 > len {
                    format!("record claims {size} bytes but only {} remain", len - body)
                } else {
                    format!("record claims an impossible block size of {size} bytes")
                };
                found(Record {
                    offset: body,
                    size: (len - body).min(MAX_BLOCK_SIZE as u64) as u32,
                    network,
                    size_trusted: false,
                });
                records += 1;
                warn(&mut warnings, p, format!("{why}; resynchronising"));
                match self.find_magic(body) {
                    Some(q) => {
                        p = q;
                        continue;
                    }
                    None => break,
                }
            }
            let before = Resume {
                offset: p,
                records,
                warnings: warnings.len(),
            };
            found(Record {
                offset: body,
                size,
                network,
                size_trusted: true,
            });
            records += 1;
            let next = body + size as u64;
            if !self.record_starts_at(next) {
                // The size may have lied: look for the next record from
                // just after this one's header, so nothing is jumped over.
                if let Some(q) = self.find_magic(body).filter(|&q| q < next) {
                    frozen = true;
                    warn(
                        &mut warnings,
                        p,
                        format!("record size {size} overshoots the next record at offset {q}"),
                    );
                    p = q;
                    continue;
                }
            }
            if !frozen {
                resume = before;
            }
            p = next;
        }
        (warnings, resume)
    }

    /// Does a record, or padding up to a record or the end, start at `off`?
    fn record_starts_at(&self, off: u64) -> bool {
        let len = self.len();
        if off >= len {
            return true;
        }
        if off + 4 <= len && Network::from_magic(self.array::<4>(off).expect("in bounds")).is_some()
        {
            return true;
        }
        let end = self.find_magic(off).unwrap_or(len);
        (off..end).all(|i| self.is_padding(i))
    }

    /// Offset of the next network magic at or after `from`.
    fn find_magic(&self, from: u64) -> Option<u64> {
        let len = self.len();
        let mut i = from;
        while i + 4 <= len {
            let b = self.byte(i);
            if matches!(b, 0xf9 | 0x0b | 0x1c | 0x0a | 0xfa) {
                let m = self.array::<4>(i)?;
                if Network::from_magic(m).is_some() {
                    return Some(i);
                }
            }
            i += 1;
        }
        None
    }
}

/// Where a walk of a file's records may start again (see
/// [`BlkFile::records_from`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resume {
    /// Offset to walk from.
    pub offset: u64,
    /// Records the walk had found before reaching it.
    pub records: usize,
    /// Warnings the walk had given before reaching it.
    pub warnings: usize,
}

/// A framed block record: where the block bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// Offset of the block (after magic and size).
    pub offset: u64,
    /// Bytes the record's size field gives (or what remains, if it lied).
    pub size: u32,
    /// The network its magic names.
    pub network: Network,
    /// Did the size field look right?
    pub size_trusted: bool,
}

/// Bytes of consecutive block records gathered before they are given back.
pub const RELEASE_SPAN: u64 = 1 << 20;

/// Gives block files' pages back as blocks are ingested, in spans of
/// records that follow one another in a file: one call per
/// [`RELEASE_SPAN`] bytes rather than per block, and the pages of blocks
/// smaller than a page (early mainnet's are 215 bytes) too, which a call
/// per block, rounding inward to whole pages, never gave back. A span ends
/// when a block is not right after the last; the last span goes at
/// [`Releaser::flush`].
pub struct Releaser<'a> {
    source: &'a Source,
    /// The span: file index (`usize::MAX`: none), first and end offset.
    file: usize,
    start: u64,
    end: u64,
    /// Bytes given back so far.
    pub given_back: u64,
}

impl<'a> Releaser<'a> {
    /// A releaser holding no span.
    pub fn new(source: &'a Source) -> Releaser<'a> {
        Releaser {
            source,
            file: usize::MAX,
            start: 0,
            end: 0,
            given_back: 0,
        }
    }

    /// Notes that bytes `off..off + len` of file `file` (a record, magic
    /// and size included) were ingested.
    pub fn ingested(&mut self, file: usize, off: u64, len: u64) {
        if file == self.file && off == self.end {
            self.end = off.saturating_add(len);
            if self.end - self.start >= RELEASE_SPAN {
                self.given_back +=
                    self.source.files[file].release(self.start, self.end - self.start);
                // The page the span ends in goes with the next span.
                self.start = self.end / crate::pages::page_size() * crate::pages::page_size();
            }
            return;
        }
        self.flush();
        (self.file, self.start, self.end) = (file, off, off.saturating_add(len));
    }

    /// Gives back the span held.
    pub fn flush(&mut self) {
        if let Some(f) = self.source.files.get(self.file) {
            self.given_back += f.release(self.start, self.end - self.start);
        }
        self.file = usize::MAX;
    }
}

/// How block files are about to be read ([`Source::expect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A few bytes at each record's start (the header scan): each page
    /// fault should read that page only. The kernel's default reads
    /// around every fault (128 KiB and more), so a header scan of files
    /// not in the page cache read most of their bytes to use a page per
    /// block: 0.28 s for the 400 MB of the 1M-tx bench chain.
    Headers,
    /// Whole blocks, mostly in file order: read ahead as usual.
    Blocks,
}

/// The block files of one input: a Bitcoin Core datadir, a folder or a file.
pub struct Source {
    /// Files in the order given by their names.
    pub files: Vec<BlkFile>,
    /// The XOR key in use (all zero: none).
    pub xor: [u8; 8],
}

impl Source {
    /// Tells the kernel how every file is about to be read.
    pub fn expect(&self, access: Access) {
        for f in &self.files {
            f.expect(access);
        }
    }

    /// Opens `datadir/blocks` of a Bitcoin Core data directory.
    pub fn datadir(datadir: &Path) -> Result<Source, SourceError> {
        let blocks = datadir.join("blocks");
        if !blocks.is_dir() {
            return Err(SourceError::Io {
                path: blocks,
                cause: io::Error::new(
                    io::ErrorKind::NotFound,
                    "not a Bitcoin Core data directory (no blocks/ folder)",
                ),
            });
        }
        Self::path(&blocks)
    }

    /// Opens one block file, or every block file of a folder.
    pub fn path(path: &Path) -> Result<Source, SourceError> {
        let meta = std::fs::metadata(path).map_err(io_err(path))?;
        let (paths, dir) = if meta.is_dir() {
            let mut blk = Vec::new();
            let mut dat = Vec::new();
            for e in std::fs::read_dir(path).map_err(io_err(path))? {
                let p = e.map_err(io_err(path))?.path();
                let name = p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("")
                    .to_string();
                if !name.ends_with(".dat") || !p.is_file() {
                    continue;
                }
                if name.starts_with("blk") {
                    blk.push(p);
                } else if !name.starts_with("rev") && name != "xor.dat" {
                    dat.push(p);
                }
            }
            let mut files = if blk.is_empty() { dat } else { blk };
            files.sort();
            (files, path.to_path_buf())
        } else {
            (
                vec![path.to_path_buf()],
                path.parent().unwrap_or(Path::new(".")).to_path_buf(),
            )
        };
        if paths.is_empty() {
            return Err(SourceError::NoFiles(path.to_path_buf()));
        }
        let xor = read_xor_key(&dir)?;
        let files = paths
            .iter()
            .map(|p| BlkFile::open(p, xor))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Source { files, xor })
    }

    /// Total bytes of all files.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.len()).sum()
    }
}

/// Reads `dir/xor.dat` (Bitcoin Core 28+). Absent or all zero: no key.
pub fn read_xor_key(dir: &Path) -> Result<[u8; 8], SourceError> {
    let p = dir.join("xor.dat");
    match std::fs::read(&p) {
        Ok(b) if b.len() == 8 => {
            let mut k = [0u8; 8];
            k.copy_from_slice(&b);
            Ok(k)
        }
        Ok(_) => Err(SourceError::BadXorKey(p)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok([0; 8]),
        Err(e) => Err(SourceError::Io { path: p, cause: e }),
    }
}
