//! The header cache: what the last run learnt from walking each block file
//! (its records and their headers), so that running ingest again reads only
//! what Bitcoin Core appended since.
//!
//! Without it every run reads the header of every block in the datadir: on
//! mainnet ~930,000 headers spread over ~650 GB of `blk*.dat`, which with the
//! kernel's read-ahead means reading most of the files, for a run that may
//! add six blocks.
//!
//! Owns `INDEX/headers.cache`. It is only a cache: it is never needed for a
//! correct index, and whenever it is in doubt the file is walked again. An
//! entry is used for a file only if the path, device, inode and XOR key are
//! the same, the file is no shorter than where the last walk stopped, and
//! the first and last records remembered still hold the same framing and
//! header. Bitcoin Core only appends to block files; a file rewritten in
//! the middle behind the same inode would go unnoticed, as it would by
//! Core's own block index. The record that ended the last walk is always
//! read again (Core may have been writing it).
//!
//! Must not: decide what a record or a header means (`source.rs` frames,
//! `headers.rs` judges), or touch the index's own files.

use crate::source::{BlkFile, Record, Warning};
use chainhound_chain::hash::sha256d;
use chainhound_chain::Network;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

/// The cache's file name in the index folder.
pub const FILE_NAME: &str = "headers.cache";

const MAGIC: &[u8; 16] = b"chainhound-hdrs\0";
const VERSION: u32 = 2;

/// The largest cache file read (mainnet's is about 100 MB).
const MAX_FILE: u64 = 2 << 30;

/// A framed record with what the header tree reads from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanned {
    /// The record.
    pub record: Record,
    /// Its first 80 bytes, the header (`None` if the record is shorter).
    pub header: Option<[u8; 80]>,
    /// The varint after the header, the block's transaction count (0 if
    /// unreadable); unchecked.
    pub tx_count: u64,
}

impl Scanned {
    /// Reads what the tree needs of `record` from `file`.
    pub fn read(file: &BlkFile, record: Record, buf: &mut Vec<u8>) -> Scanned {
        let header = file.bytes(record.offset, 80, buf).map(|b| {
            let mut h = [0u8; 80];
            h.copy_from_slice(b);
            h
        });
        let tx_count = file
            .bytes(
                record.offset + 80,
                9.min(record.size.saturating_sub(80)) as usize,
                buf,
            )
            .and_then(read_varint)
            .unwrap_or(0);
        Scanned {
            record,
            header,
            tx_count,
        }
    }

    /// Do the file's bytes still frame and hold this record as remembered?
    fn still_in(&self, file: &BlkFile, buf: &mut Vec<u8>) -> bool {
        let r = self.record;
        if r.size_trusted {
            let Some(frame) = r.offset.checked_sub(8).and_then(|o| file.bytes(o, 8, buf)) else {
                return false;
            };
            if frame[..4] != r.network.magic() || frame[4..] != r.size.to_le_bytes() {
                return false;
            }
        }
        r.offset + r.size as u64 <= file.len() && Scanned::read(file, r, buf) == *self
    }
}

/// A Bitcoin varint at the start of `b`.
pub(crate) fn read_varint(b: &[u8]) -> Option<u64> {
    let le = |n: usize| -> Option<u64> {
        let s = b.get(1..1 + n)?;
        Some(s.iter().rev().fold(0u64, |a, x| a << 8 | *x as u64))
    };
    match *b.first()? {
        0xfd => le(2),
        0xfe => le(4),
        0xff => le(8),
        n => Some(n as u64),
    }
}

/// What one walk of one file left to resume from.
#[derive(Debug, Clone)]
struct Entry {
    path: PathBuf,
    id: (u64, u64),
    xor: [u8; 8],
    /// Where the next walk starts.
    resume: u64,
    /// Records before `resume`.
    records: Vec<Scanned>,
    /// Warnings before `resume`: offset and words.
    warnings: Vec<(u64, String)>,
}

impl Entry {
    fn usable_for(&self, file: &BlkFile, buf: &mut Vec<u8>) -> bool {
        self.id == file.id()
            && self.xor == file.xor()
            && self.resume <= file.len()
            && self.records.iter().all(|s| {
                let r = s.record;
                r.offset >= 8 && r.offset.saturating_add(r.size as u64) <= self.resume
            })
            && self.records.first().is_none_or(|r| r.still_in(file, buf))
            && self.records.last().is_none_or(|r| r.still_in(file, buf))
    }
}

/// The cache read at the start of a run and the one it leaves.
#[derive(Default)]
pub struct HeaderCache {
    old: HashMap<PathBuf, Entry>,
    new: Vec<Entry>,
    /// Records taken from the cache instead of the files.
    pub reused: u64,
    /// Bytes of block files not walked thanks to the cache.
    pub bytes_skipped: u64,
    /// Why the cache file was not used, if it was there but unusable (the
    /// words name no file: the caller knows which it loaded).
    pub problem: Option<String>,
    /// Entries read from the cache file.
    loaded: usize,
    /// Some walk did not end exactly where its entry said (new records,
    /// a file not in the cache or not usable).
    changed: bool,
}

impl HeaderCache {
    /// A cache that remembers nothing (every file is walked).
    pub fn empty() -> HeaderCache {
        HeaderCache::default()
    }

    /// Reads `path`. Missing: an empty cache. Unreadable or damaged: an
    /// empty cache whose [`HeaderCache::problem`] says why.
    pub fn load(path: &Path) -> HeaderCache {
        let mut c = HeaderCache::empty();
        let bytes = match std::fs::metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return c,
            Ok(m) if m.len() > MAX_FILE => Err(format!("{} bytes, too large", m.len())),
            _ => std::fs::read(path).map_err(|e| e.to_string()),
        };
        match bytes.and_then(|b| decode(&b)) {
            Ok(entries) => {
                c.loaded = entries.len();
                c.old = entries.into_iter().map(|e| (e.path.clone(), e)).collect();
            }
            Err(why) => {
                c.problem = Some(format!(
                    "header cache not used ({why}); every block file is read again"
                ))
            }
        }
        c
    }

    /// Walks `file` from where the cache says the last walk may resume (or
    /// from the start), returning every record and warning of the whole
    /// file, as a walk from the start would.
    pub fn walk(&mut self, file: &BlkFile) -> (Vec<Scanned>, Vec<Warning>) {
        let mut buf = Vec::new();
        let (mut records, old_warnings, start, reused) = match self.old.remove(&file.path) {
            Some(e) if e.usable_for(file, &mut buf) => (e.records, e.warnings, e.resume, true),
            _ => (Vec::new(), Vec::new(), 0, false),
        };
        self.reused += records.len() as u64;
        self.bytes_skipped += start;
        let mut warnings: Vec<Warning> = old_warnings
            .into_iter()
            .map(|(offset, message)| Warning {
                file: file.path.clone(),
                offset,
                message,
            })
            .collect();
        let (base_r, base_w) = (records.len(), warnings.len());
        let mut fresh = Vec::new();
        let (w, resume) = file.records_from(start, |r| fresh.push(r));
        records.extend(fresh.into_iter().map(|r| Scanned::read(file, r, &mut buf)));
        warnings.extend(w);
        // The same entry again: resumed, and resuming where it did.
        let same = reused && resume.offset == start && resume.records == 0 && resume.warnings == 0;
        self.changed |= !same;
        self.new.push(Entry {
            path: file.path.clone(),
            id: file.id(),
            xor: file.xor(),
            resume: resume.offset,
            records: records[..base_r + resume.records].to_vec(),
            warnings: warnings[..base_w + resume.warnings]
                .iter()
                .map(|w| (w.offset, w.message.clone()))
                .collect(),
        });
        (records, warnings)
    }

    /// Whether this run's walks left exactly what the cache file held:
    /// every file walked resumed where its entry said and found nothing
    /// new, and no file of the cache is gone.
    pub fn is_unchanged(&self) -> bool {
        self.problem.is_none()
            && !self.changed
            && self.old.is_empty()
            && self.new.len() == self.loaded
    }

    /// Writes what this run's walks left to `path` (through a temporary
    /// file renamed over it), unless that is what `path` holds already
    /// ([`HeaderCache::is_unchanged`]: on mainnet the file is ~100 MB, and
    /// a run that finds no new block need not encode, hash and write it).
    pub fn save(&self, path: &Path) -> io::Result<()> {
        if self.is_unchanged() && path.exists() {
            return Ok(());
        }
        let tmp = path.with_extension("cache.tmp");
        // A part written (a full disk) is removed, not left taking space.
        let r = std::fs::write(&tmp, encode(&self.new)).and_then(|()| std::fs::rename(&tmp, path));
        if r.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        r
    }
}

fn path_bytes(p: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        p.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        p.to_string_lossy().as_bytes().to_vec()
    }
}

fn path_from(b: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(std::ffi::OsStr::from_bytes(b))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(b).into_owned())
    }
}

/// Bytes per record in the file.
const RECORD: usize = 8 + 4 + 4 + 1 + 1 + 80 + 8;

fn encode(entries: &[Entry]) -> Vec<u8> {
    let mut o = Vec::new();
    o.extend_from_slice(MAGIC);
    o.extend_from_slice(&VERSION.to_le_bytes());
    o.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    for e in entries {
        let p = path_bytes(&e.path);
        o.extend_from_slice(&(p.len() as u32).to_le_bytes());
        o.extend_from_slice(&p);
        o.extend_from_slice(&e.id.0.to_le_bytes());
        o.extend_from_slice(&e.id.1.to_le_bytes());
        o.extend_from_slice(&e.xor);
        o.extend_from_slice(&e.resume.to_le_bytes());
        o.extend_from_slice(&(e.records.len() as u32).to_le_bytes());
        o.extend_from_slice(&(e.warnings.len() as u32).to_le_bytes());
        for s in &e.records {
            o.extend_from_slice(&s.record.offset.to_le_bytes());
            o.extend_from_slice(&s.record.size.to_le_bytes());
            o.extend_from_slice(&s.record.network.magic());
            o.push(s.record.size_trusted as u8);
            o.push(s.header.is_some() as u8);
            o.extend_from_slice(&s.header.unwrap_or([0; 80]));
            o.extend_from_slice(&s.tx_count.to_le_bytes());
        }
        for (offset, words) in &e.warnings {
            o.extend_from_slice(&offset.to_le_bytes());
            o.extend_from_slice(&(words.len() as u32).to_le_bytes());
            o.extend_from_slice(words.as_bytes());
        }
    }
    let sum = sha256d(&o);
    o.extend_from_slice(&sum);
    o
}

/// A cursor over the file's bytes; every read is bounds-checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.0.len() {
            return Err("truncated".into());
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }

    fn u32(&mut self) -> Result<u32, String> {
        self.array().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, String> {
        self.array().map(u64::from_le_bytes)
    }

    /// A count of items of at least `min_size` bytes each, checked against
    /// what is left (so a damaged count cannot make a huge allocation).
    fn count(&mut self, min_size: usize) -> Result<usize, String> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_size) > self.0.len() {
            return Err("a count runs past the end".into());
        }
        Ok(n)
    }
}

fn decode(b: &[u8]) -> Result<Vec<Entry>, String> {
    // A checksum of everything before it ends the file: a changed byte in
    // a record would otherwise point a block at the wrong place.
    let Some(body_len) = b.len().checked_sub(32) else {
        return Err("truncated".into());
    };
    let (b, sum) = b.split_at(body_len);
    if sha256d(b) != sum {
        return Err("checksum mismatch (damaged)".into());
    }
    let mut r = Reader(b);
    if r.take(MAGIC.len()).ok() != Some(&MAGIC[..]) {
        return Err("not a chainhound header cache".into());
    }
    let version = r.u32()?;
    if version != VERSION {
        return Err(format!("version {version}, expected {VERSION}"));
    }
    let n = r.count(4 + 16 + 8 + 8 + 8)?;
    let mut entries = Vec::with_capacity(n);
    for _ in 0..n {
        let len = r.count(1)?;
        let path = path_from(r.take(len)?);
        let id = (r.u64()?, r.u64()?);
        let xor = r.array()?;
        let resume = r.u64()?;
        let n_rec = r.count(RECORD)?;
        let n_warn = r.u32()? as usize;
        let mut records = Vec::with_capacity(n_rec);
        for _ in 0..n_rec {
            let offset = r.u64()?;
            let size = r.u32()?;
            let network = Network::from_magic(r.array()?).ok_or("unknown network magic")?;
            let size_trusted = r.array::<1>()?[0] == 1;
            let has_header = r.array::<1>()?[0] == 1;
            let header: [u8; 80] = r.array()?;
            let tx_count = r.u64()?;
            records.push(Scanned {
                record: Record {
                    offset,
                    size,
                    network,
                    size_trusted,
                },
                header: has_header.then_some(header),
                tx_count,
            });
        }
        if n_warn.saturating_mul(12) > r.0.len() {
            return Err("a count runs past the end".into());
        }
        let mut warnings = Vec::with_capacity(n_warn);
        for _ in 0..n_warn {
            let offset = r.u64()?;
            let len = r.count(1)?;
            let words = std::str::from_utf8(r.take(len)?).map_err(|_| "words not UTF-8")?;
            warnings.push((offset, words.to_string()));
        }
        entries.push(Entry {
            path,
            id,
            xor,
            resume,
            records,
            warnings,
        });
    }
    if !r.0.is_empty() {
        return Err("bytes after the last entry".into());
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            path: PathBuf::from("/node/blocks/blk00000.dat"),
            id: (7, 42),
            xor: *b"xorkey!!",
            resume: 1234,
            records: vec![
                Scanned {
                    record: Record {
                        offset: 8,
                        size: 285,
                        network: Network::Regtest,
                        size_trusted: true,
                    },
                    header: Some([3; 80]),
                    tx_count: 1,
                },
                Scanned {
                    record: Record {
                        offset: 301,
                        size: 70,
                        network: Network::Mainnet,
                        size_trusted: false,
                    },
                    header: None,
                    tx_count: 0,
                },
            ],
            warnings: vec![(293, "garbage, naïvely".into())],
        }
    }

    /// A walk resumed from a cache equals a fresh walk of the grown file,
    /// even when a damaged record's reading depended on where the file
    /// ended (its size field pointing past the end, then no longer).
    #[test]
    fn a_resumed_walk_of_a_grown_file_equals_a_fresh_walk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blk00000.dat");
        let magic = Network::Regtest.magic();
        let rec = |out: &mut Vec<u8>, size: u32, fill: u8, len: usize| {
            out.extend_from_slice(&magic);
            out.extend_from_slice(&size.to_le_bytes());
            out.extend(std::iter::repeat_n(fill, len));
        };
        let mut bytes = Vec::new();
        rec(&mut bytes, 100, 1, 100);
        rec(&mut bytes, 100, 2, 100);
        // Claims 20,000 bytes: past the end of the file for now.
        rec(&mut bytes, 20_000, 3, 100);
        rec(&mut bytes, 100, 4, 100);
        rec(&mut bytes, 100, 5, 100);
        std::fs::write(&path, &bytes).unwrap();
        let mut cache = HeaderCache::empty();
        let file = BlkFile::open(&path, [0; 8]).unwrap();
        let (_, w) = cache.walk(&file);
        assert!(w[0].message.contains("only"), "{w:?}");
        let entry = cache.new.pop().unwrap();
        // The resume point is before the damaged record.
        assert_eq!((entry.resume, entry.records.len()), (108, 1));
        // The file grows past the claim.
        for k in 0..200u8 {
            rec(&mut bytes, 100, k, 100);
        }
        std::fs::write(&path, &bytes).unwrap();
        let file = BlkFile::open(&path, [0; 8]).unwrap();
        let mut resumed = HeaderCache::empty();
        resumed.old.insert(path.clone(), entry);
        let again = resumed.walk(&file);
        assert_eq!(resumed.reused, 1);
        let fresh = HeaderCache::empty().walk(&file);
        assert_eq!(again, fresh);
        assert!(fresh.1[0].message.contains("overshoots"), "{:?}", fresh.1);
    }

    #[test]
    fn entries_survive_a_round_trip_and_damage_is_refused() {
        let bytes = encode(&[entry(), entry()]);
        let back = decode(&bytes).unwrap();
        assert_eq!(back.len(), 2);
        let (a, b) = (&back[1], entry());
        assert_eq!(
            (&a.path, a.id, a.xor, a.resume, &a.records, &a.warnings),
            (&b.path, b.id, b.xor, b.resume, &b.records, &b.warnings)
        );
        // Every truncation is refused, none panics.
        for n in 0..bytes.len() {
            assert!(decode(&bytes[..n]).is_err(), "truncated at {n}");
        }
        // A count of 2^32 - 1 records is refused before allocating.
        let mut huge = encode(&[entry()]);
        let at = 16 + 4 + 4 + 4 + entry().path.as_os_str().len() + 8 + 8 + 8 + 8;
        huge[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode(&huge).unwrap_err(), "checksum mismatch (damaged)");
        let n = huge.len() - 32;
        let sum = sha256d(&huge[..n]);
        huge[n..].copy_from_slice(&sum);
        assert_eq!(decode(&huge).unwrap_err(), "a count runs past the end");
        let mut bad = bytes.clone();
        bad[0] ^= 1;
        assert!(decode(&bad).is_err());
    }
}
