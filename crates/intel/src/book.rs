//! The label book: every imported label, kept in `INDEX/labels/labels.tsv`.
//!
//! Owns the label store: atomic imports (all files or nothing; a file
//! imported again replaces its earlier labels), removal by source file,
//! exact lookups by address or txid, and the on-disk form.
//!
//! The file is plain text, one record per line, written to a temporary file
//! and renamed into place, so a crash leaves the old book or the new one:
//! ```text
//! #chainhound-labels 1
//! R <record> <json: chain, entity, category, tags, source, date, confidence, file>
//! L <record> <line> <a|t> <address or txid>
//! ```
//! Records (everything a label says but its subject and line) are shared by
//! the labels of one pack, so the 524,170 tags of GraphSense's public packs
//! take a few thousand records.
//!
//! Must not: know the index (see [`crate::resolve`]) or read label formats
//! (see [`crate::formats`]).

use crate::formats::FileLabels;
use crate::label::{Category, Confidence, Label, Problem, Subject};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

const MAGIC: &str = "#chainhound-labels 1";
const NONE: u32 = u32::MAX;
/// The book's file name in its folder.
pub const FILE: &str = "labels.tsv";

/// What a label says, but its subject and line; shared by many labels.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Record {
    /// Upper-case ticker.
    pub chain: String,
    /// Owner or name.
    pub entity: String,
    /// Category.
    pub category: Category,
    /// Raw concept words.
    pub tags: String,
    /// Source (list id or URL).
    pub source: String,
    /// Date, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Confidence.
    pub confidence: Confidence,
    /// The imported file's name (without its folder).
    pub file: String,
}

/// One label in the book: a subject, its record and its line in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Index into [`LabelBook::records`].
    pub record: u32,
    /// Line in the imported file.
    pub line: u64,
    /// Address or txid.
    pub subject: Subject,
}

/// Every label, with an exact index by subject string.
#[derive(Debug, Default)]
pub struct LabelBook {
    records: Vec<Record>,
    entries: Vec<Entry>,
    /// Hash of a subject string → its latest entry; `next` chains the
    /// entries of one hash (no string is copied into the index).
    by_subject: HashMap<u64, u32>,
    next: Vec<u32>,
    hasher: std::collections::hash_map::RandomState,
}

/// What an import did, per file.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    /// Per file: name, format, labels kept, labels it replaced.
    pub files: Vec<ImportedFile>,
    /// Labels in the book after the import.
    pub total: usize,
}

/// One imported file.
#[derive(Debug, Serialize)]
pub struct ImportedFile {
    /// Path as given.
    pub path: PathBuf,
    /// Format recognised.
    pub format: &'static str,
    /// Labels imported.
    pub labels: usize,
    /// Labels of an earlier import of the same file name, replaced.
    pub replaced: usize,
    /// Records skipped as invalid (only with `--skip-invalid`).
    pub skipped: Vec<Problem>,
    /// Remarks on records kept.
    pub quirks: Vec<Problem>,
}

/// Why an import changed nothing.
#[derive(Debug)]
pub enum ImportError {
    /// A file could not be read or recognised.
    File(Problem),
    /// Invalid records (without `--skip-invalid`): the first few, and how
    /// many in all.
    Invalid(Vec<Problem>, usize),
    /// The book could not be written.
    Io(io::Error),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::File(p) => write!(f, "{p}"),
            ImportError::Invalid(first, n) => {
                write!(f, "{n} invalid record(s); nothing imported (use --skip-invalid to import the rest)")?;
                for p in first {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
            ImportError::Io(e) => write!(f, "writing the label book: {e}"),
        }
    }
}

impl std::error::Error for ImportError {}

/// Where the book of an index lives.
pub fn labels_dir(index: &Path) -> PathBuf {
    index.join("labels")
}

/// How the book names an imported file: its folder's name and its own
/// (`0xB10C_lists/sanctioned_addresses_XBT.txt`), so that two lists of one
/// name in two folders stay apart, and importing a file again from
/// anywhere replaces its labels.
pub fn file_name(p: &Path) -> String {
    let p = fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string());
    match p.parent().and_then(|d| d.file_name()) {
        Some(d) => format!("{}/{name}", d.to_string_lossy()),
        None => name,
    }
}

impl LabelBook {
    /// Opens the book in `dir`; an empty book when there is none.
    pub fn open(dir: &Path) -> io::Result<LabelBook> {
        let path = dir.join(FILE);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(LabelBook::default()),
            Err(e) => return Err(e),
        };
        let bad = |line: usize, what: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}:{}: {what}", path.display(), line + 1),
            )
        };
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, MAGIC)) => {}
            _ => return Err(bad(0, "not a chainhound label book")),
        }
        let mut book = LabelBook::default();
        for (n, l) in lines {
            let (kind, rest) = l.split_once(' ').ok_or_else(|| bad(n, "no record kind"))?;
            match kind {
                "R" => {
                    let (_, json) = rest.split_once(' ').ok_or_else(|| bad(n, "short record"))?;
                    let r: Record =
                        serde_json::from_str(json).map_err(|e| bad(n, &e.to_string()))?;
                    book.records.push(r);
                }
                "L" => {
                    let mut f = rest.splitn(4, ' ');
                    let (Some(r), Some(line), Some(k), Some(id)) =
                        (f.next(), f.next(), f.next(), f.next())
                    else {
                        return Err(bad(n, "short label"));
                    };
                    let record: u32 = r.parse().map_err(|_| bad(n, "bad record number"))?;
                    if record as usize >= book.records.len() {
                        return Err(bad(n, "label before its record"));
                    }
                    let line = line.parse().map_err(|_| bad(n, "bad line number"))?;
                    let subject = match k {
                        "a" => Subject::Address(id.to_string()),
                        "t" => Subject::Tx(id.to_string()),
                        _ => return Err(bad(n, "bad subject kind")),
                    };
                    book.push(Entry {
                        record,
                        line,
                        subject,
                    });
                }
                _ => return Err(bad(n, "unknown record kind")),
            }
        }
        Ok(book)
    }

    fn hash(&self, id: &str) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(id)
    }

    fn push(&mut self, e: Entry) {
        let i = self.entries.len() as u32;
        let h = self.hash(e.subject.id());
        let prev = self.by_subject.insert(h, i).unwrap_or(NONE);
        self.next.push(prev);
        self.entries.push(e);
    }

    /// Writes the book to `dir` atomically (temporary file, fsync, rename).
    pub fn save(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)?;
        let tmp = dir.join(format!("{FILE}.tmp"));
        {
            let mut w = BufWriter::with_capacity(1 << 20, fs::File::create(&tmp)?);
            writeln!(w, "{MAGIC}")?;
            for (i, r) in self.records.iter().enumerate() {
                writeln!(w, "R {i} {}", serde_json::to_string(r)?)?;
            }
            for e in &self.entries {
                let k = match e.subject {
                    Subject::Address(_) => 'a',
                    Subject::Tx(_) => 't',
                };
                // Subjects never hold spaces or newlines: formats trim them
                // and reject the rest.
                writeln!(w, "L {} {} {k} {}", e.record, e.line, e.subject.id())?;
            }
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        fs::rename(&tmp, dir.join(FILE))?;
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no label.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The shared records.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Every entry, in import order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The full label of an entry.
    pub fn label(&self, i: u32) -> Label {
        let e = &self.entries[i as usize];
        let r = &self.records[e.record as usize];
        Label {
            chain: r.chain.clone(),
            subject: e.subject.clone(),
            entity: r.entity.clone(),
            category: r.category,
            tags: r.tags.clone(),
            source: r.source.clone(),
            date: r.date.clone(),
            confidence: r.confidence,
            origin: format!("{}:{}", r.file, e.line),
        }
    }

    /// The record of an entry.
    pub fn record_of(&self, i: u32) -> &Record {
        &self.records[self.entries[i as usize].record as usize]
    }

    /// Entries whose subject is exactly `id` (an address as the chain
    /// writes it, or a txid), on any chain. The id is normalised as imports
    /// normalise it (bech32 and hex lower-cased).
    pub fn lookup(&self, id: &str) -> Vec<u32> {
        let key = match Subject::tx(id) {
            Some(t) => t,
            None => Subject::address(id),
        };
        let key = key.id();
        let mut v = Vec::new();
        let mut i = self
            .by_subject
            .get(&self.hash(key))
            .copied()
            .unwrap_or(NONE);
        while i != NONE {
            if self.entries[i as usize].subject.id() == key {
                v.push(i);
            }
            i = self.next[i as usize];
        }
        v.reverse();
        v
    }

    /// Imports files read by [`crate::formats::read_files`], all or nothing:
    /// with invalid records and without `skip_invalid` nothing changes. A
    /// file whose name was imported before replaces its earlier labels.
    /// Call [`LabelBook::save`] afterwards to keep the result.
    pub fn import(
        &mut self,
        files: Vec<FileLabels>,
        skip_invalid: bool,
    ) -> Result<ImportReport, ImportError> {
        if !skip_invalid {
            let invalid: Vec<&Problem> = files.iter().flat_map(|f| &f.parsed.invalid).collect();
            if !invalid.is_empty() {
                let first = invalid.iter().take(10).map(|p| (*p).clone()).collect();
                return Err(ImportError::Invalid(first, invalid.len()));
            }
        }
        let names: Vec<String> = files.iter().map(|f| file_name(&f.path)).collect();
        // Labels per record, then per replaced file (records are few).
        let mut per_record = vec![0usize; self.records.len()];
        for e in &self.entries {
            per_record[e.record as usize] += 1;
        }
        let mut replaced: HashMap<String, usize> = HashMap::new();
        for (r, n) in self.records.iter().zip(per_record) {
            if names.contains(&r.file) {
                *replaced.entry(r.file.clone()).or_default() += n;
            }
        }
        self.retain(|r| !names.contains(&r.file));
        let mut ids: HashMap<Record, u32> = self
            .records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.clone(), i as u32))
            .collect();
        let mut report = Vec::new();
        for (f, name) in files.into_iter().zip(names) {
            let n = f.parsed.labels.len();
            for l in f.parsed.labels {
                let line = l
                    .origin
                    .rsplit_once(':')
                    .and_then(|(_, n)| n.parse().ok())
                    .unwrap_or(0);
                let r = Record {
                    chain: l.chain,
                    entity: l.entity,
                    category: l.category,
                    tags: l.tags,
                    source: l.source,
                    date: l.date,
                    confidence: l.confidence,
                    file: name.clone(),
                };
                let next = self.records.len() as u32;
                let record = *ids.entry(r.clone()).or_insert_with(|| {
                    self.records.push(r);
                    next
                });
                self.push(Entry {
                    record,
                    line,
                    subject: l.subject,
                });
            }
            report.push(ImportedFile {
                path: f.path,
                format: f.format.name(),
                labels: n,
                replaced: replaced.get(&name).copied().unwrap_or(0),
                skipped: f.parsed.invalid,
                quirks: f.parsed.quirks,
            });
        }
        Ok(ImportReport {
            files: report,
            total: self.len(),
        })
    }

    /// Removes every label imported from file `name` (as `labels list`
    /// shows it, a path to the file, or its bare name when no other
    /// imported file has it); returns how many.
    pub fn remove_file(&mut self, name: &str) -> usize {
        let before = self.len();
        // The name as the book shows it, or a path to the file.
        let by_path = file_name(Path::new(name));
        let mut target: Vec<String> = self
            .records
            .iter()
            .filter(|r| r.file == name || r.file == by_path)
            .map(|r| r.file.clone())
            .collect();
        if target.is_empty() && !name.contains('/') {
            // A bare file name, if it names one imported file.
            target = self
                .records
                .iter()
                .filter(|r| r.file.rsplit('/').next() == Some(name))
                .map(|r| r.file.clone())
                .collect();
            target.sort();
            target.dedup();
            if target.len() > 1 {
                return 0;
            }
        }
        self.retain(|r| !target.contains(&r.file));
        before - self.len()
    }

    /// Keeps the labels whose record passes `keep`, renumbering records.
    fn retain(&mut self, keep: impl Fn(&Record) -> bool) {
        let mut map = vec![u32::MAX; self.records.len()];
        let mut records = Vec::new();
        for (i, r) in self.records.drain(..).enumerate() {
            if keep(&r) {
                map[i] = records.len() as u32;
                records.push(r);
            }
        }
        self.records = records;
        let entries = std::mem::take(&mut self.entries);
        self.by_subject.clear();
        self.next.clear();
        for mut e in entries {
            let r = map[e.record as usize];
            if r != u32::MAX {
                e.record = r;
                self.push(e);
            }
        }
    }

    /// Labels per (file, category), for `labels list`.
    pub fn summary(&self) -> Vec<(String, Category, usize)> {
        let mut m: HashMap<(u32, Category), usize> = HashMap::new();
        let mut files: Vec<String> = Vec::new();
        let mut file_id: HashMap<&str, u32> = HashMap::new();
        for r in &self.records {
            if !file_id.contains_key(r.file.as_str()) {
                file_id.insert(&r.file, files.len() as u32);
                files.push(r.file.clone());
            }
        }
        for e in &self.entries {
            let r = &self.records[e.record as usize];
            *m.entry((file_id[r.file.as_str()], r.category)).or_default() += 1;
        }
        let mut v: Vec<(String, Category, usize)> = m
            .into_iter()
            .map(|((f, c), n)| (files[f as usize].clone(), c, n))
            .collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::Format;
    use crate::label::Parsed;

    fn label(addr: &str, entity: &str, cat: Category, line: u64) -> Label {
        Label {
            chain: "BTC".into(),
            subject: Subject::address(addr),
            entity: entity.into(),
            category: cat,
            tags: String::new(),
            source: "test".into(),
            date: None,
            confidence: Confidence(50),
            origin: format!("x.csv:{line}"),
        }
    }

    fn file(name: &str, labels: Vec<Label>, invalid: Vec<Problem>) -> FileLabels {
        FileLabels {
            path: PathBuf::from(name),
            format: Format::UserCsv,
            parsed: Parsed {
                labels,
                invalid,
                quirks: vec![],
            },
        }
    }

    #[test]
    fn import_is_atomic_and_replaces_by_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = LabelBook::default();
        let r = b
            .import(
                vec![file(
                    "a.csv",
                    vec![
                        label("1Aaa", "Mixer X", Category::Mixer, 2),
                        label("BC1QQQ", "Exch", Category::Exchange, 3),
                    ],
                    vec![],
                )],
                false,
            )
            .unwrap();
        assert_eq!(r.total, 2);
        b.save(dir.path()).unwrap();
        let b2 = LabelBook::open(dir.path()).unwrap();
        assert_eq!(b2.len(), 2);
        assert_eq!(b2.lookup("bc1qqq").len(), 1);
        assert_eq!(b2.label(b2.lookup("1Aaa")[0]).origin, "a.csv:2");
        assert!(b2.lookup("1aaa").is_empty(), "base58 is case-sensitive");
        // A bad file changes nothing.
        let mut b3 = LabelBook::open(dir.path()).unwrap();
        let bad = Problem {
            file: "b.csv".into(),
            line: 7,
            message: "unknown category".into(),
        };
        let err = b3
            .import(
                vec![
                    file("c.csv", vec![label("1Ccc", "C", Category::Scam, 2)], vec![]),
                    file("b.csv", vec![], vec![bad]),
                ],
                false,
            )
            .unwrap_err();
        assert!(err.to_string().contains("b.csv:7"), "{err}");
        assert_eq!(b3.len(), 2);
        // Re-importing a file replaces its labels.
        let r = b3
            .import(
                vec![file(
                    "a.csv",
                    vec![label("1Ddd", "D", Category::Scam, 5)],
                    vec![],
                )],
                false,
            )
            .unwrap();
        assert_eq!(r.files[0].replaced, 2);
        assert_eq!(b3.len(), 1);
        assert!(b3.lookup("1Aaa").is_empty());
        assert_eq!(b3.remove_file("a.csv"), 1);
        assert!(b3.is_empty());
    }

    #[test]
    fn damaged_book_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(FILE), format!("{MAGIC}\nL 0 1 a 1Abc\n")).unwrap();
        let e = LabelBook::open(dir.path()).unwrap_err();
        assert!(e.to_string().contains("labels.tsv:2"), "{e}");
    }
}
