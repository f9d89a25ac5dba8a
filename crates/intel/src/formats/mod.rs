//! Label file formats, recognised by content.
//!
//! Owns reading files into [`Parsed`] labels. Each reader keeps every valid
//! record, lists invalid ones with their line, and notes quirks.
//!
//! Must not: decide what an import keeps (the caller applies
//! `--skip-invalid`), or touch the label store.
//!
//! [`read_files`] is the entry point: it reads each file, recognises its
//! [`Format`] by content (the name is only a hint, and tells a per-asset
//! list's asset), and hands it to its reader:
//! - [`ofac`]: OFAC's legacy `SDN.CSV` with `SDN_COMMENTS.CSV` (joined by
//!   entity number) and the advanced XML (`SDN_ADVANCED.XML`);
//! - [`lists`]: per-asset address lists (`sanctioned_addresses_XBT.txt` /
//!   `.json`) and merged OFAC address CSVs (`asset,address,...,sdn_uid`);
//! - [`tagpack`]: GraphSense TagPacks;
//! - [`incidents`]: incident CSVs (`incident,date,...,identifier,role`);
//! - [`user`]: users' own CSV (`address,label,category,...`).
//!
//! Text is UTF-8 when it decodes as such, Latin-1 otherwise (OFAC's CSV
//! files); a UTF-8 byte-order mark and trailing DOS end-of-file bytes
//! (0x1A) are dropped, CRLF is accepted. Line numbers are 1-based physical
//! lines; a CSV record spanning lines is named by the line it starts on.

pub mod incidents;
pub mod lists;
pub mod ofac;
pub mod tagpack;
pub mod user;

use crate::label::{Parsed, Problem};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// A file format label files come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// OFAC's legacy `SDN.CSV`: 12 columns, no header, `-0-` for empty.
    SdnCsv,
    /// OFAC's `SDN_COMMENTS.CSV`: entity number and the remarks that did
    /// not fit in `SDN.CSV`.
    SdnComments,
    /// OFAC's advanced XML (`SDN_ADVANCED.XML`), root `<Sanctions>`.
    SdnXml,
    /// One asset's addresses, one a line (`.txt`) or a JSON array of
    /// strings (`.json`), named `sanctioned_addresses_<ASSET>.<ext>`
    /// (0xB10C's and sambacha's lists).
    AssetList,
    /// A merged OFAC address CSV with a header: `asset,address,...,
    /// sdn_uid,entity,programs,...`.
    OfacAddressCsv,
    /// A GraphSense TagPack (YAML).
    TagPack,
    /// An incident CSV: `incident,date,...,id_type,identifier,role,...`.
    Incidents,
    /// A user's CSV: `address` or `txid`, `label`, `category`, and optional
    /// `chain`, `source`, `date`, `confidence`.
    UserCsv,
}

impl Format {
    /// Every format, in the order detection tries them.
    pub const ALL: [Format; 8] = [
        Format::SdnXml,
        Format::TagPack,
        Format::AssetList,
        Format::OfacAddressCsv,
        Format::Incidents,
        Format::UserCsv,
        Format::SdnCsv,
        Format::SdnComments,
    ];

    /// Short name, as in output (`sdn-csv`, `tagpack`...).
    pub fn name(self) -> &'static str {
        match self {
            Format::SdnCsv => "sdn-csv",
            Format::SdnComments => "sdn-comments",
            Format::SdnXml => "sdn-xml",
            Format::AssetList => "asset-list",
            Format::OfacAddressCsv => "ofac-address-csv",
            Format::TagPack => "tagpack",
            Format::Incidents => "incidents",
            Format::UserCsv => "user-csv",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One file's result.
#[derive(Debug, Clone)]
pub struct FileLabels {
    /// The path as given.
    pub path: PathBuf,
    /// The format it was read as.
    pub format: Format,
    /// Its labels, invalid records and quirks.
    pub parsed: Parsed,
}

/// Reads every file, each recognised by its content (and name only as a
/// hint). SDN.CSV and SDN_COMMENTS.CSV given in the same call are joined by
/// entity number (remarks continued in the comments file; entity name and
/// programs from SDN.CSV). Err only for a file that cannot be read or
/// recognised at all (Problem with line 0 or the line where it goes wrong);
/// bad records inside a recognised file go to `parsed.invalid`, odd ones to
/// `parsed.quirks`.
///
/// The result has one entry per path, in the order given. A label found in
/// a remark joined from both files belongs to the file its address starts
/// in.
pub fn read_files(paths: &[PathBuf]) -> Result<Vec<FileLabels>, Problem> {
    let mut out: Vec<FileLabels> = Vec::with_capacity(paths.len());
    // The legacy CSV set is read at the end, together, so remarks can be
    // joined; other files are read as they come, so only one is in memory.
    let mut sdn: Vec<(usize, String, Format, Vec<u8>)> = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| Problem {
            file: file.clone(),
            line: 0,
            message: format!("cannot read: {e}"),
        })?;
        let format = detect(path, &bytes).map_err(|(line, message)| Problem {
            file: file.clone(),
            line,
            message,
        })?;
        let parsed = match format {
            Format::SdnCsv | Format::SdnComments => {
                sdn.push((out.len(), file, format, bytes));
                Parsed::default()
            }
            Format::SdnXml => ofac::read_sdn_xml(&file, &bytes)?,
            Format::AssetList => {
                let asset = list_asset(path).unwrap_or_default();
                lists::read_asset_list(&file, &asset, &bytes)?
            }
            Format::OfacAddressCsv => lists::read_address_csv(&file, &bytes)?,
            Format::TagPack => tagpack::read(&file, &bytes),
            Format::Incidents => incidents::read_incidents(&file, &bytes)?,
            Format::UserCsv => user::read_user_csv(&file, &bytes)?,
        };
        out.push(FileLabels {
            path: path.clone(),
            format,
            parsed,
        });
    }
    if !sdn.is_empty() {
        let inputs: Vec<ofac::SdnFile<'_>> = sdn
            .iter()
            .map(|(_, file, format, bytes)| ofac::SdnFile {
                file,
                comments: *format == Format::SdnComments,
                bytes,
            })
            .collect();
        for ((i, ..), parsed) in sdn.iter().zip(ofac::read_sdn_set(&inputs)) {
            out[*i].parsed = parsed;
        }
    }
    Ok(out)
}

/// Recognises a file's format from its content, with its name as a hint.
/// Err holds the line where recognition failed (0: the file as a whole) and
/// what was tried.
pub fn detect(path: &Path, bytes: &[u8]) -> Result<Format, (u64, String)> {
    let tried = || {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        format!("tried {}", names.join(", "))
    };
    let text = decode_text(bytes);
    let body = text.trim_start();
    if body.is_empty() {
        return Err((0, format!("empty file, not a label file ({})", tried())));
    }
    if !looks_like_text(bytes) {
        return Err((0, format!("binary data, not a label file ({})", tried())));
    }
    if body.starts_with('<') {
        return match ofac::xml_root(&text) {
            Ok(root) if root == "Sanctions" => Ok(Format::SdnXml),
            Ok(root) => Err((
                0,
                format!("XML with root <{root}>, not OFAC's advanced XML (root <Sanctions>)"),
            )),
            Err((line, e)) => Err((line, format!("not well-formed XML: {e}"))),
        };
    }
    if tagpack::looks_like(bytes) {
        return Ok(Format::TagPack);
    }
    let named_list = list_asset(path).is_some();
    if named_list && (body.starts_with('[') || lists::looks_like_txt_list(&text)) {
        return Ok(Format::AssetList);
    }
    if body.starts_with('[') {
        return Err((
            0,
            "a JSON array, but the file name does not tell its asset \
             (per-asset lists are named sanctioned_addresses_<ASSET>.json)"
                .into(),
        ));
    }
    let first = first_csv_record(&text);
    let header: Vec<String> = first.iter().map(|f| header_key(f)).collect();
    if lists::is_address_csv_header(&header) {
        return Ok(Format::OfacAddressCsv);
    }
    if incidents::is_incidents_header(&header) {
        return Ok(Format::Incidents);
    }
    if user::user_delimiter(&text).is_some() {
        return Ok(Format::UserCsv);
    }
    if let Some(missing) = user::missing_user_columns(&text) {
        return Err((1, missing));
    }
    let numbered = first
        .first()
        .is_some_and(|f| !f.trim().is_empty() && f.trim().bytes().all(|b| b.is_ascii_digit()));
    if numbered && first.len() == 12 {
        return Ok(Format::SdnCsv);
    }
    if numbered && (2..=3).contains(&first.len()) {
        return Ok(Format::SdnComments);
    }
    if lists::looks_like_txt_list(&text) {
        return Err((
            0,
            "one address a line, but the file name does not tell its asset \
             (per-asset lists are named sanctioned_addresses_<ASSET>.txt)"
                .into(),
        ));
    }
    Err((1, format!("not a label file ({})", tried())))
}

/// The asset of a per-asset list, from its name:
/// `sanctioned_addresses_<ASSET>.txt` or `.json`.
pub fn list_asset(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let stem = name
        .strip_suffix(".txt")
        .or_else(|| name.strip_suffix(".json"))?;
    let asset = stem.strip_prefix("sanctioned_addresses_")?;
    (!asset.is_empty() && asset.len() <= 16 && asset.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| asset.to_ascii_uppercase())
}

/// Text of a file: UTF-8 when valid, else Latin-1 (each byte one char
/// U+0000..U+00FF); without a UTF-8 byte-order mark or trailing 0x1A bytes.
fn decode_text(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let end = bytes.iter().rposition(|&b| b != 0x1A).map_or(0, |i| i + 1);
    let bytes = &bytes[..end];
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

/// Whether the start of a file looks like text: no NUL byte, few control
/// characters.
fn looks_like_text(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1A))
        .count();
    !head.contains(&0) && control * 100 <= head.len()
}

/// Makes problems of `file`: `problem(line, message)`.
fn problem_in(file: &str) -> impl Fn(u64, String) -> Problem + '_ {
    move |line, message| Problem {
        file: file.to_string(),
        line,
        message,
    }
}

/// A CSV reader over decoded text: no header handling, records of any
/// length.
fn csv_reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes())
}

/// Line numbers of byte offsets in a text, counted forwards so a whole
/// file costs one pass (an offset before the last one recounts).
struct Lines<'t> {
    text: &'t [u8],
    pos: usize,
    line: u64,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Lines<'t> {
        Lines {
            text: text.as_bytes(),
            pos: 0,
            line: 1,
        }
    }

    /// The 1-based line of byte `pos`.
    fn at(&mut self, pos: usize) -> u64 {
        let pos = pos.min(self.text.len());
        if pos < self.pos {
            self.pos = 0;
            self.line = 1;
        }
        self.line += self.text[self.pos..pos]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.pos = pos;
        self.line
    }

    /// The line a CSV record (or error) at byte `offset` starts on. The csv
    /// crate's own line numbers lag with CRLF and blank lines, and its
    /// offsets may point at the line ends before the record, so those are
    /// skipped.
    fn csv(&mut self, offset: u64) -> u64 {
        let mut start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while self
            .text
            .get(start)
            .is_some_and(|&b| b == b'\r' || b == b'\n')
        {
            start += 1;
        }
        self.at(start)
    }

    /// The line a CSV record starts on.
    fn record(&mut self, record: &csv::StringRecord) -> u64 {
        self.csv(record.position().map_or(0, |p| p.byte()))
    }

    /// The line a CSV error is on.
    fn error(&mut self, error: &csv::Error) -> u64 {
        self.csv(error.position().map_or(0, |p| p.byte()))
    }
}

/// The records of a CSV text, read one at a time into one buffer, each
/// with the line it starts on.
struct CsvRecords<'t> {
    reader: csv::Reader<&'t [u8]>,
    lines: Lines<'t>,
    record: csv::StringRecord,
    stopped: bool,
}

impl<'t> CsvRecords<'t> {
    fn new(text: &'t str, delimiter: u8) -> CsvRecords<'t> {
        CsvRecords {
            reader: csv_reader(text, delimiter),
            lines: Lines::new(text),
            record: csv::StringRecord::new(),
            stopped: false,
        }
    }

    /// The next record as it is, blank or not (a header); `None` at the
    /// end.
    fn header(&mut self) -> csv::Result<Option<&csv::StringRecord>> {
        Ok(self
            .reader
            .read_record(&mut self.record)?
            .then_some(&self.record))
    }

    /// The header of a file that must have one, by column. Err, as a
    /// problem of `file`, when the file is empty (line 0) or the header
    /// cannot be read (line 1).
    fn columns(&mut self, file: &str) -> Result<Columns, Problem> {
        let problem = problem_in(file);
        match self.header() {
            Ok(Some(header)) => Ok(Columns::new(header)),
            Ok(None) => Err(problem(0, "empty file".into())),
            Err(e) => Err(problem(1, format!("unreadable CSV header: {e}"))),
        }
    }

    /// The next record that is not blank (some field has more than white
    /// space), with the line it starts on; `None` at the end. A record the
    /// CSV reader cannot read ends the reading: it goes to `invalid` as a
    /// problem of `file` at its line (`unreadable CSV, reading stopped`).
    fn next_record(
        &mut self,
        file: &str,
        invalid: &mut Vec<Problem>,
    ) -> Option<(u64, &csv::StringRecord)> {
        while !self.stopped {
            match self.reader.read_record(&mut self.record) {
                Ok(true) if self.record.iter().all(|f| f.trim().is_empty()) => {}
                Ok(true) => return Some((self.lines.record(&self.record), &self.record)),
                Ok(false) => self.stopped = true,
                Err(e) => {
                    self.stopped = true;
                    let message = format!("unreadable CSV, reading stopped: {e}");
                    invalid.push(problem_in(file)(self.lines.error(&e), message));
                }
            }
        }
        None
    }
}

/// The first record of a comma-separated text, empty when there is none.
fn first_csv_record(text: &str) -> Vec<String> {
    let mut reader = csv_reader(text, b',');
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => record.iter().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// A header cell as compared: trimmed, lower-case, spaces as `_`.
fn header_key(cell: &str) -> String {
    cell.trim().to_ascii_lowercase().replace([' ', '-'], "_")
}

/// The columns of a CSV header by key.
struct Columns(HashMap<String, usize>);

impl Columns {
    fn new(header: &csv::StringRecord) -> Columns {
        let mut map = HashMap::new();
        for (i, cell) in header.iter().enumerate() {
            map.entry(header_key(cell)).or_insert(i);
        }
        Columns(map)
    }

    fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The trimmed cell of a column in a record; "" when the column or
    /// cell is missing.
    fn get<'r>(&self, record: &'r csv::StringRecord, name: &str) -> &'r str {
        self.0
            .get(name)
            .and_then(|&i| record.get(i))
            .map_or("", str::trim)
    }
}

/// A `YYYY-MM-DD` date in a file name (`sdn_2024-05-01.csv`).
fn date_in_name(file: &str) -> Option<String> {
    let name = Path::new(file).file_name()?.to_str()?;
    let b = name.as_bytes();
    (0..b.len().saturating_sub(9))
        .filter(|&i| i == 0 || !b[i - 1].is_ascii_digit())
        .filter_map(|i| name.get(i..i + 10))
        .find(|s| is_date(s))
        .map(str::to_string)
}

/// Whether a string is a plausible `YYYY-MM-DD` date.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4) && digits(5..7) && digits(8..10)) {
        return false;
    }
    let month: u8 = s[5..7].parse().unwrap_or(0);
    let day: u8 = s[8..10].parse().unwrap_or(0);
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// What an address string looks like, by shape, for checking that it fits
/// the asset it is listed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A Bitcoin mainnet address (base58check P2PKH/P2SH, bech32/bech32m).
    Bitcoin,
    /// `0x` and 40 hex digits (Ethereum and other EVM chains).
    Evm,
    /// `T` and 33 base58 characters (Tron).
    Tron,
    /// Anything else.
    Other,
}

impl Shape {
    fn of(address: &str) -> Shape {
        let a = address.trim();
        let is_b58 = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() && !matches!(b, b'0' | b'O' | b'I' | b'l'))
        };
        if a.len() == 42
            && (a.starts_with("0x") || a.starts_with("0X"))
            && a[2..].bytes().all(|b| b.is_ascii_hexdigit())
        {
            Shape::Evm
        } else if a.len() == 34 && a.starts_with('T') && is_b58(a) {
            Shape::Tron
        } else if is_bitcoin_address(a) {
            Shape::Bitcoin
        } else {
            Shape::Other
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Shape::Bitcoin => "looks like a Bitcoin address",
            Shape::Evm => "looks like an Ethereum-style 0x address",
            Shape::Tron => "looks like a Tron address",
            Shape::Other => "has no known address form",
        }
    }
}

/// Whether a string is a valid Bitcoin mainnet address (checksum checked).
fn is_bitcoin_address(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let plausible = s.starts_with('1') || s.starts_with('3') || lower.starts_with("bc1");
    plausible
        && s.len() <= 90
        && chainhound_chain::address::decode(s, chainhound_chain::network::Network::Mainnet).is_ok()
}

/// A remark when `address` does not have the form of `asset` (upper-case
/// OFAC ticker); `None` when it fits or the asset is not checked.
fn asset_mismatch(asset: &str, address: &str) -> Option<String> {
    let shape = Shape::of(address);
    let fits = match asset {
        "XBT" | "BTC" => shape == Shape::Bitcoin,
        "ETH" | "ETC" | "ARB" | "BSC" | "USDC" => shape == Shape::Evm,
        "TRX" => shape == Shape::Tron,
        // Tether lives on Ethereum, Tron and Bitcoin (Omni).
        "USDT" => matches!(shape, Shape::Evm | Shape::Tron | Shape::Bitcoin),
        _ => return None,
    };
    (!fits).then(|| {
        format!(
            "{address} is listed as {asset} but does not fit that asset: it {}",
            shape.describe()
        )
    })
}

/// Where addresses were seen before, for the duplicate, several-entities
/// and several-assets quirks of sanctions lists. Constant work per listing,
/// however often an address comes back.
#[derive(Default)]
struct Seen {
    /// Each address's first listing.
    first: HashMap<String, SeenAt>,
    /// Each (address, asset)'s first listing.
    by_asset: HashMap<(String, String), SeenAt>,
    /// Every (address, asset, entity) listed.
    exact: HashSet<(String, String, String)>,
}

#[derive(Clone)]
struct SeenAt {
    asset: String,
    entity: String,
    file: String,
    line: u64,
}

/// What [`Seen::note`] found.
struct Noted {
    /// Remarks on the new listing.
    quirks: Vec<String>,
    /// Same address, asset and entity as before: the label adds nothing.
    duplicate: bool,
}

impl Seen {
    /// Notes `address` (as its subject id) listed as `asset` for `entity`
    /// at `file:line`.
    fn note(&mut self, address: &str, asset: &str, entity: &str, file: &str, line: u64) -> Noted {
        let at = |s: &SeenAt| {
            if s.file == file {
                format!("line {}", s.line)
            } else {
                format!("{}:{}", s.file, s.line)
            }
        };
        let here = SeenAt {
            asset: asset.to_string(),
            entity: entity.to_string(),
            file: file.to_string(),
            line,
        };
        let key = (address.to_string(), asset.to_string());
        let mut quirks = Vec::new();
        if !self
            .exact
            .insert((key.0.clone(), key.1.clone(), entity.to_string()))
        {
            let first = self.by_asset.get(&key).map(at).unwrap_or_default();
            quirks.push(format!(
                "{address} listed again as {asset} for {entity} (first at {first}); kept once"
            ));
            return Noted {
                quirks,
                duplicate: true,
            };
        }
        match self.by_asset.get(&key) {
            Some(other) => quirks.push(format!(
                "{address} also listed as {asset} for {} ({})",
                other.entity,
                at(other)
            )),
            None => {
                if let Some(first) = self.first.get(address) {
                    quirks.push(format!(
                        "{address} is listed under several assets: {asset} here, {} at {}",
                        first.asset,
                        at(first)
                    ));
                }
                self.by_asset.insert(key, here.clone());
            }
        }
        self.first.entry(address.to_string()).or_insert(here);
        Noted {
            quirks,
            duplicate: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_latin1_and_strips_eof() {
        assert_eq!(decode_text(b"a\xE9b\r\n\x1A"), "a\u{e9}b\r\n");
        assert_eq!(decode_text("é".as_bytes()), "é");
        assert_eq!(decode_text(b"\xEF\xBB\xBFx"), "x");
        assert_eq!(decode_text(b"\x1A\x1A"), "");
    }

    #[test]
    fn shapes() {
        assert_eq!(
            Shape::of("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
            Shape::Bitcoin
        );
        assert_eq!(Shape::of("TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq"), Shape::Tron);
        assert_eq!(
            Shape::of("0x8576acc5c05d6ce88f4e49bf65bdf0c62f91353c"),
            Shape::Evm
        );
        assert_eq!(Shape::of("1Gq"), Shape::Other);
        assert!(asset_mismatch("XBT", "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq")
            .is_some_and(|m| m.contains("Tron")));
        assert!(asset_mismatch("USDT", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa").is_none());
        assert!(asset_mismatch("XMR", "whatever").is_none());
    }

    #[test]
    fn names() {
        assert_eq!(
            list_asset(Path::new("x/sanctioned_addresses_XBT.json")).as_deref(),
            Some("XBT")
        );
        assert_eq!(list_asset(Path::new("sanctioned_addresses_.txt")), None);
        assert_eq!(
            date_in_name("a/sdn_2024-05-01.csv").as_deref(),
            Some("2024-05-01")
        );
        assert_eq!(date_in_name("sdn_comments_2025-12.csv"), None);
        assert_eq!(
            date_in_name("é_2024-05-01é.csv").as_deref(),
            Some("2024-05-01")
        );
        assert_eq!(date_in_name("ééééééééé"), None);
        assert!(!is_date("2024-13-01"));
    }

    #[test]
    fn csv_lines_are_physical_lines() {
        // CRLF, blank lines, a quoted field over two lines, a blank record.
        let text = "h\r\n\r\na\r\n\"x\r\ny\",1\r\n\r\n , \r\nb\n";
        let mut records = CsvRecords::new(text, b',');
        let mut invalid = Vec::new();
        let mut got = Vec::new();
        while let Some((line, record)) = records.next_record("t.csv", &mut invalid) {
            got.push((line, record[0].to_string()));
        }
        assert!(invalid.is_empty(), "{invalid:?}");
        let want = [(1, "h"), (3, "a"), (4, "x\r\ny"), (8, "b")];
        let want: Vec<(u64, String)> = want.iter().map(|&(l, s)| (l, s.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn detects_garbage_and_empty() {
        let p = Path::new("x.bin");
        assert!(detect(p, &[0, 1, 2, 0xFF, 0x80, 0]).is_err());
        assert!(detect(p, b"").is_err());
        assert!(detect(p, b"  \n").is_err());
        assert!(detect(p, b"<html></html>").is_err());
        assert!(detect(p, b"hello world, this is prose\n").is_err());
    }
}
