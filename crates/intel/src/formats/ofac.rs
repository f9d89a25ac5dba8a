//! OFAC's SDN list: the legacy CSV set (`SDN.CSV` with `SDN_COMMENTS.CSV`)
//! and the advanced XML (`SDN_ADVANCED.XML`).
//!
//! Owns finding digital currency addresses in SDN entries. In the legacy
//! CSV they sit in the remarks (`Digital Currency Address - XBT 1ABC...;`),
//! which are cut at 1,000 characters and continued in `SDN_COMMENTS.CSV`
//! under the same entity number: the two are joined before reading, so an
//! address cut in two is read whole. In the XML they are features whose
//! type (resolved through `ReferenceValueSets/FeatureTypeValues`) is
//! `Digital Currency Address - <ASSET>`, read in one streaming pass.
//!
//! Every address becomes a [`Category::Sanctions`] label of confidence 60
//! (`authority_data`). Quirks: an address that does not fit its asset (a
//! Tron address listed as XBT), one address under several assets or
//! entities, duplicates. Invalid: an address cut off at the end of a remark
//! whose continuation was not given, a marker without an address.
//!
//! Must not: guess what the other formats are, or read files itself (the
//! caller hands bytes).

use super::{asset_mismatch, date_in_name, decode_text, CsvRecords, Lines, Seen};
use crate::label::{normalize_chain, Category, Confidence, Label, Parsed, Problem, Subject};
use quick_xml::events::Event;
use quick_xml::Reader;
use std::collections::HashMap;
use std::ops::RangeInclusive;

/// GraphSense's `authority_data`: what OFAC's lists are.
const AUTHORITY: Confidence = Confidence(60);

/// How a remark introduces an address, lower-cased.
const MARKER: &str = "digital currency address - ";

/// OFAC cuts `SDN.CSV` remarks at this many characters.
const REMARK_CUT: usize = 1000;

/// One file of the legacy CSV set, as [`read_sdn_set`] takes it.
#[derive(Debug, Clone, Copy)]
pub struct SdnFile<'a> {
    /// File name as given (for problems and origins).
    pub file: &'a str,
    /// `true` for `SDN_COMMENTS.CSV`, `false` for `SDN.CSV`.
    pub comments: bool,
    /// The file's bytes.
    pub bytes: &'a [u8],
}

/// One `SDN.CSV` entry.
struct SdnRow {
    file: usize,
    line: u64,
    ent: String,
    name: String,
    programs: String,
    remarks: String,
}

/// One `SDN_COMMENTS.CSV` row: the rest of an entry's remarks.
struct CommentRow {
    file: usize,
    line: u64,
    ent: String,
    text: String,
}

/// A part of a joined remark: where it comes from and where it starts in
/// the joined text.
struct Segment {
    file: usize,
    line: u64,
    start: usize,
}

/// Who the addresses of one remark belong to.
struct Entry<'a> {
    ent: &'a str,
    name: String,
    programs: &'a str,
}

/// Reads `SDN.CSV` and `SDN_COMMENTS.CSV` files together: each comments row
/// is appended to the remarks of the `SDN.CSV` entry with its number, and
/// the joined remarks are searched for addresses. Gives one [`Parsed`] per
/// input, in order; a label goes to the file its address starts in. A
/// comments row without its entry (or without any `SDN.CSV` given) is read
/// alone, its entity named `OFAC SDN entity N`.
pub fn read_sdn_set(files: &[SdnFile<'_>]) -> Vec<Parsed> {
    let mut out: Vec<Parsed> = files.iter().map(|_| Parsed::default()).collect();
    let mut rows = Vec::new();
    let mut comments = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let text = decode_text(f.bytes);
        if f.comments {
            parse_comments(i, f.file, &text, &mut comments, &mut out[i]);
        } else {
            parse_sdn(i, f.file, &text, &mut rows, &mut out[i]);
        }
    }
    let dates: Vec<Option<String>> = files.iter().map(|f| date_in_name(f.file)).collect();
    let mut by_ent: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in comments.iter().enumerate() {
        by_ent.entry(c.ent.as_str()).or_default().push(i);
    }
    let mut used = vec![false; comments.len()];
    let mut first_row: HashMap<&str, (usize, u64)> = HashMap::new();
    let mut seen = Seen::default();
    let mut ctx = Ctx {
        files,
        dates: &dates,
        out: &mut out,
        seen: &mut seen,
    };

    for row in &rows {
        let mut text = row.remarks.clone();
        let mut segments = vec![Segment {
            file: row.file,
            line: row.line,
            start: 0,
        }];
        if let Some(&(file, line)) = first_row.get(row.ent.as_str()) {
            ctx.quirk(
                row.file,
                row.line,
                format!(
                    "entity {} is listed again (first at {}:{line}); its comments, if any, \
                     were joined to the first",
                    row.ent, files[file].file
                ),
            );
        } else {
            first_row.insert(&row.ent, (row.file, row.line));
        }
        // Each comments row continues one entry: the first with its number.
        let continued = by_ent.remove(row.ent.as_str()).unwrap_or_default();
        if continued.len() > 1 {
            let mut at: Vec<String> = continued
                .iter()
                .take(5)
                .map(|&c| format!("{}:{}", files[comments[c].file].file, comments[c].line))
                .collect();
            if continued.len() > 5 {
                at.push("...".into());
            }
            ctx.quirk(
                row.file,
                row.line,
                format!(
                    "entity {} is continued by {} comments rows ({}); joined in that order",
                    row.ent,
                    continued.len(),
                    at.join(", ")
                ),
            );
        }
        for &c in &continued {
            used[c] = true;
            segments.push(Segment {
                file: comments[c].file,
                line: comments[c].line,
                start: text.len(),
            });
            text.push_str(&comments[c].text);
        }
        let cut = continued.is_empty() && remark_cut(&row.remarks);
        let name = if row.name.is_empty() {
            format!("OFAC SDN entity {}", row.ent)
        } else {
            row.name.clone()
        };
        let entry = Entry {
            ent: &row.ent,
            name,
            programs: &row.programs,
        };
        ctx.extract(&text, &segments, &entry, cut, false);
    }

    let any_sdn = files.iter().any(|f| !f.comments);
    for (c, row) in comments.iter().enumerate() {
        if used[c] {
            continue;
        }
        if any_sdn {
            ctx.quirk(
                row.file,
                row.line,
                format!(
                    "entity {} continues an SDN.CSV entry, but no SDN.CSV given has it: \
                     its name, programs and the start of its remarks are unknown",
                    row.ent
                ),
            );
        }
        let segments = [Segment {
            file: row.file,
            line: row.line,
            start: 0,
        }];
        let entry = Entry {
            ent: &row.ent,
            name: format!("OFAC SDN entity {}", row.ent),
            programs: "",
        };
        ctx.extract(&row.text, &segments, &entry, false, true);
    }
    if !any_sdn {
        for (i, f) in files.iter().enumerate() {
            if f.comments {
                ctx.out[i].quirks.insert(
                    0,
                    Problem {
                        file: f.file.to_string(),
                        line: 0,
                        message: "SDN_COMMENTS.CSV without SDN.CSV: entities are named by \
                                  number, programs are unknown, and addresses whose start \
                                  is in SDN.CSV are missed"
                            .into(),
                    },
                );
            }
        }
    }
    out
}

/// Whether an `SDN.CSV` remark looks cut, to be continued in
/// `SDN_COMMENTS.CSV`: 1,000 characters, or not ending with a full stop.
fn remark_cut(remarks: &str) -> bool {
    !remarks.is_empty()
        && (remarks.chars().count() >= REMARK_CUT || !remarks.trim_end().ends_with('.'))
}

/// A legacy CSV field: trimmed, `-0-` as empty.
fn field(record: &csv::StringRecord, i: usize) -> &str {
    let f = record.get(i).unwrap_or("");
    if f.trim() == "-0-" {
        ""
    } else {
        f
    }
}

/// Whether an entity number is one: digits only.
fn is_ent_num(s: &str) -> bool {
    !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn invalid(out: &mut Parsed, file: &str, line: u64, message: String) {
    out.invalid.push(Problem {
        file: file.to_string(),
        line,
        message,
    });
}

/// Reads the records of a legacy CSV file: each with an entity number and
/// a number of columns in `columns` is handed to `row` with its line and
/// entity number; any other is invalid, as not `what` (`an SDN.CSV entry`).
fn entity_records(
    file: &str,
    text: &str,
    what: &str,
    columns: RangeInclusive<usize>,
    out: &mut Parsed,
    mut row: impl FnMut(u64, &str, &csv::StringRecord),
) {
    let mut records = CsvRecords::new(text, b',');
    while let Some((line, record)) = records.next_record(file, &mut out.invalid) {
        let ent = field(record, 0).trim();
        if columns.contains(&record.len()) && is_ent_num(ent) {
            row(line, ent, record);
        } else {
            invalid(
                out,
                file,
                line,
                format!(
                    "not {what}: {} columns ({} expected), entity number {ent:?}",
                    record.len(),
                    columns.start()
                ),
            );
        }
    }
}

fn parse_sdn(i: usize, file: &str, text: &str, rows: &mut Vec<SdnRow>, out: &mut Parsed) {
    entity_records(
        file,
        text,
        "an SDN.CSV entry",
        12..=12,
        out,
        |line, ent, record| {
            rows.push(SdnRow {
                file: i,
                line,
                ent: ent.to_string(),
                name: field(record, 1).trim().to_string(),
                programs: programs(field(record, 3)),
                remarks: field(record, 11).to_string(),
            });
        },
    );
}

fn parse_comments(i: usize, file: &str, text: &str, rows: &mut Vec<CommentRow>, out: &mut Parsed) {
    let what = "an SDN_COMMENTS.CSV row";
    entity_records(file, text, what, 2..=3, out, |line, ent, record| {
        rows.push(CommentRow {
            file: i,
            line,
            ent: ent.to_string(),
            text: field(record, 1).to_string(),
        });
    });
}

/// `SDGT] [IFSR` (the legacy CSV's way to list programs) as `SDGT, IFSR`.
fn programs(field: &str) -> String {
    field
        .split("] [")
        .map(|p| p.trim().trim_matches(['[', ']']).trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// An address found in remark text.
#[derive(Debug, PartialEq, Eq)]
struct Found<'t> {
    /// Byte offset of the address (of the marker when it has none).
    start: usize,
    asset: &'t str,
    address: &'t str,
    /// The address runs to the end of the text, with nothing after it.
    at_end: bool,
    /// Read after a marker cut at the start of the text.
    fragment: bool,
}

/// Every `Digital Currency Address - <ASSET> <address>` in a remark (the
/// marker in any letter case). With `fragment_start`, a text starting with
/// the end of a marker (`s - ETH 0x...`, a remark cut inside the marker)
/// gives an address too. Linear in the text.
fn find_addresses(text: &str, fragment_start: bool) -> Vec<Found<'_>> {
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    if fragment_start {
        // The longest proper end of the marker, at least 4 characters.
        if let Some(k) = (1..=MARKER.len() - 4).find(|&k| lower.starts_with(&MARKER[k..])) {
            let mut f = after_marker(text, MARKER.len() - k, 0);
            if !f.address.is_empty() {
                f.fragment = true;
                found.push(f);
            }
        }
    }
    let mut from = 0;
    while let Some(k) = lower[from..].find(MARKER) {
        let marker = from + k;
        let f = after_marker(text, marker + MARKER.len(), marker);
        from = (f.start + f.address.len()).max(marker + MARKER.len());
        found.push(f);
    }
    found
}

/// Reads `<ASSET> <address>` at byte `pos` (just after a marker that
/// starts at `marker`).
fn after_marker(text: &str, pos: usize, marker: usize) -> Found<'_> {
    let rest = &text[pos..];
    let skip = rest.len() - rest.trim_start_matches(' ').len();
    let asset_start = pos + skip;
    let asset_len = text[asset_start..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len() - asset_start);
    let asset = &text[asset_start..asset_start + asset_len];
    let after_asset = &text[asset_start + asset_len..];
    let gap = after_asset.len() - after_asset.trim_start_matches([' ', '\t']).len();
    let addr_start = asset_start + asset_len + gap;
    if asset.is_empty() || gap == 0 {
        return Found {
            start: marker,
            asset,
            address: "",
            at_end: addr_start >= text.len(),
            fragment: false,
        };
    }
    let run = text[addr_start..]
        .find(|c: char| c.is_whitespace() || matches!(c, ';' | ',' | '"' | '\'' | '(' | ')'))
        .unwrap_or(text.len() - addr_start);
    let raw = &text[addr_start..addr_start + run];
    let address = raw.trim_end_matches('.');
    Found {
        start: addr_start,
        asset,
        address,
        at_end: addr_start + run == text.len() && address.len() == raw.len(),
        fragment: false,
    }
}

/// What labels are written into while a set is read.
struct Ctx<'a, 'f> {
    files: &'a [SdnFile<'f>],
    dates: &'a [Option<String>],
    out: &'a mut [Parsed],
    seen: &'a mut Seen,
}

impl Ctx<'_, '_> {
    fn quirk(&mut self, file: usize, line: u64, message: String) {
        self.out[file].quirks.push(Problem {
            file: self.files[file].file.to_string(),
            line,
            message,
        });
    }

    fn invalid(&mut self, file: usize, line: u64, message: String) {
        self.out[file].invalid.push(Problem {
            file: self.files[file].file.to_string(),
            line,
            message,
        });
    }

    /// Labels every address of a (joined) remark.
    fn extract(
        &mut self,
        text: &str,
        segments: &[Segment],
        entry: &Entry<'_>,
        cut: bool,
        fragment_start: bool,
    ) {
        for f in find_addresses(text, fragment_start) {
            // Segments are in text order: the last starting at or before.
            let i = segments.partition_point(|s| s.start <= f.start);
            let Some(seg) = segments.get(i.saturating_sub(1)) else {
                continue;
            };
            let (file, line) = (seg.file, seg.line);
            let asset = f.asset.to_ascii_uppercase();
            if f.address.is_empty() {
                self.invalid(
                    file,
                    line,
                    format!(
                        "entity {}: 'Digital Currency Address - {}' without an address",
                        entry.ent, f.asset
                    ),
                );
                continue;
            }
            if f.at_end && cut {
                self.invalid(
                    file,
                    line,
                    format!(
                        "entity {}: {asset} address {} is cut off at the end of the remarks; \
                         the rest is in SDN_COMMENTS.CSV: give it too",
                        entry.ent, f.address
                    ),
                );
                continue;
            }
            let Some(chain) = normalize_chain(&asset) else {
                continue;
            };
            if f.fragment {
                self.quirk(
                    file,
                    line,
                    format!(
                        "entity {}: the remark starts inside a cut 'Digital Currency Address' \
                         marker; read as {asset} {}",
                        entry.ent, f.address
                    ),
                );
            }
            if let Some(m) = asset_mismatch(&asset, f.address) {
                self.quirk(file, line, format!("entity {}: {m}", entry.ent));
            }
            let subject = Subject::address(f.address);
            let file_name = self.files[file].file;
            let noted = self
                .seen
                .note(subject.id(), &asset, &entry.name, file_name, line);
            for q in noted.quirks {
                self.quirk(file, line, format!("entity {}: {q}", entry.ent));
            }
            if noted.duplicate {
                continue;
            }
            self.out[file].labels.push(Label {
                chain,
                subject,
                entity: entry.name.clone(),
                category: Category::Sanctions,
                tags: entry.programs.to_string(),
                source: format!("OFAC SDN ent_num {}", entry.ent),
                date: self.dates[file].clone(),
                confidence: AUTHORITY,
                origin: format!("{file_name}:{line}"),
            });
        }
    }
}

/// The local name of an XML document's root element; Err holds the line
/// and what is wrong when the XML breaks before it.
pub fn xml_root(text: &str) -> Result<String, (u64, String)> {
    let mut reader = Reader::from_str(text);
    let mut lines = Lines::new(text);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                return Ok(e.local_name().as_ref().to_string());
            }
            Ok(Event::Eof) => return Err((lines.at(text.len()), "no root element".into())),
            Ok(_) => {}
            Err(e) => {
                let pos = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
                return Err((lines.at(pos), e.to_string()));
            }
        }
    }
}

/// An address feature of the profile being read.
struct XmlAddress {
    asset: String,
    address: String,
    line: u64,
}

/// One identity's name as read: name parts with their group, and the
/// groups' name part types.
#[derive(Default)]
struct XmlIdentity {
    primary: bool,
    parts: Vec<(String, String)>,
    groups: HashMap<String, String>,
    /// A primary alias's first documented name has been read.
    name_taken: bool,
}

/// The profile being read.
#[derive(Default)]
struct XmlProfile {
    fixed_ref: String,
    id: String,
    names: Vec<(bool, String)>,
    addresses: Vec<XmlAddress>,
}

/// An address with its party, waiting for the sanctions entries (which
/// come after the parties).
struct XmlFound {
    profile: String,
    fixed_ref: String,
    entity: String,
    address: XmlAddress,
}

/// A sanctions entry's programs and designation date.
#[derive(Default)]
struct XmlEntry {
    programs: Vec<String>,
    date: Option<String>,
}

/// A date being read (`Year`, `Month`, `Day` children).
#[derive(Default)]
struct XmlDate {
    year: String,
    month: String,
    day: String,
}

impl XmlDate {
    fn format(&self) -> Option<String> {
        let (y, m, d) = (
            self.year.parse::<u16>().ok()?,
            self.month.parse::<u8>().ok()?,
            self.day.parse::<u8>().ok()?,
        );
        let s = format!("{y:04}-{m:02}-{d:02}");
        super::is_date(&s).then_some(s)
    }
}

/// An attribute's value, "" when missing or unreadable.
fn attr(e: &quick_xml::events::BytesStart<'_>, name: &str) -> String {
    match e.try_get_attribute(name) {
        Ok(Some(a)) => a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map(|v| v.trim().to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// A name from its parts: `LAST, First Middle` when a part is a last name
/// (as `SDN.CSV` writes it), else the parts in order.
fn xml_name(identity: &XmlIdentity, part_types: &HashMap<String, String>) -> String {
    let kind = |group: &str| {
        identity
            .groups
            .get(group)
            .and_then(|t| part_types.get(t))
            .map(|t| t.to_ascii_lowercase())
            .unwrap_or_default()
    };
    let last: Vec<&str> = identity
        .parts
        .iter()
        .filter(|(g, _)| kind(g) == "last name")
        .map(|(_, v)| v.as_str())
        .collect();
    let rest: Vec<&str> = identity
        .parts
        .iter()
        .filter(|(g, _)| kind(g) != "last name")
        .map(|(_, v)| v.as_str())
        .collect();
    match (last.is_empty(), rest.is_empty()) {
        (false, false) => format!("{}, {}", last.join(" "), rest.join(" ")),
        (false, true) => last.join(" "),
        _ => rest.join(" "),
    }
}

/// Reads OFAC's advanced XML in one streaming pass: reference values
/// (feature types, name part types, sanctions types), then each party's
/// primary name and digital currency address features, then the sanctions
/// entries' programs and designation dates. Memory grows with the
/// addresses kept, not with the file. Err when the XML is not well formed
/// (with the line).
pub fn read_sdn_xml(file: &str, bytes: &[u8]) -> Result<Parsed, Problem> {
    let text = decode_text(bytes);
    let mut reader = Reader::from_str(&text);
    let mut lines = Lines::new(&text);
    let mut parsed = Parsed::default();

    let mut stack: Vec<String> = Vec::new();
    let mut buf = String::new();
    let mut ref_id = String::new();
    let mut feature_types: HashMap<String, String> = HashMap::new();
    let mut part_types: HashMap<String, String> = HashMap::new();
    let mut sanction_types: HashMap<String, String> = HashMap::new();

    let mut profile = XmlProfile::default();
    let mut identity = XmlIdentity::default();
    let mut in_primary_alias = false;
    let mut taking_name = false;
    let mut part_group = String::new();
    let mut feature_asset: Option<String> = None;
    let mut detail_line = 0;
    let mut found: Vec<XmlFound> = Vec::new();

    let mut entries: HashMap<String, XmlEntry> = HashMap::new();
    let mut entry_profile = String::new();
    let mut entry = XmlEntry::default();
    let mut measure_type = String::new();
    let mut measure_comment = String::new();
    let mut date = XmlDate::default();
    let mut issued: Option<String> = None;
    let mut root_checked = false;

    loop {
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let pos = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
                return Err(Problem {
                    file: file.to_string(),
                    line: lines.at(pos),
                    message: format!("not well-formed XML: {e}"),
                });
            }
        };
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.local_name().as_ref().to_string();
                let parent = stack.last().map_or("", String::as_str);
                buf.clear();
                if !root_checked {
                    root_checked = true;
                    let ns = attr(&e, "xmlns");
                    if name != "Sanctions" {
                        return Err(Problem {
                            file: file.to_string(),
                            line: lines.at(usize::try_from(reader.buffer_position()).unwrap_or(0)),
                            message: format!("root <{name}>, not OFAC's <Sanctions>"),
                        });
                    }
                    if !ns.to_ascii_lowercase().contains("sanction") {
                        parsed.quirks.push(Problem {
                            file: file.to_string(),
                            line: lines.at(usize::try_from(reader.buffer_position()).unwrap_or(0)),
                            message: format!(
                                "namespace {ns:?} is not one of OFAC's; read as advanced XML anyway"
                            ),
                        });
                    }
                }
                match (parent, name.as_str()) {
                    ("FeatureTypeValues", "FeatureType")
                    | ("NamePartTypeValues", "NamePartType")
                    | ("SanctionsTypeValues", "SanctionsType") => ref_id = attr(&e, "ID"),
                    ("DistinctParty", "Profile") => {
                        profile = XmlProfile {
                            id: attr(&e, "ID"),
                            fixed_ref: profile.fixed_ref.clone(),
                            ..XmlProfile::default()
                        };
                    }
                    (_, "DistinctParty") => {
                        profile = XmlProfile {
                            fixed_ref: attr(&e, "FixedRef"),
                            ..XmlProfile::default()
                        };
                    }
                    ("Profile", "Identity") => {
                        identity = XmlIdentity {
                            primary: attr(&e, "Primary") == "true",
                            ..XmlIdentity::default()
                        };
                    }
                    ("Identity", "Alias") => {
                        in_primary_alias = attr(&e, "Primary") == "true";
                    }
                    ("Alias", "DocumentedName") => {
                        taking_name = in_primary_alias && !identity.name_taken;
                    }
                    ("DocumentedNamePart", "NamePartValue") => {
                        part_group = attr(&e, "NamePartGroupID");
                    }
                    ("MasterNamePartGroup", "NamePartGroup") => {
                        identity
                            .groups
                            .insert(attr(&e, "ID"), attr(&e, "NamePartTypeID"));
                    }
                    ("Profile", "Feature") => {
                        let kind = feature_types
                            .get(&attr(&e, "FeatureTypeID"))
                            .map(String::as_str)
                            .unwrap_or("");
                        feature_asset = kind
                            .to_ascii_lowercase()
                            .strip_prefix(MARKER)
                            .map(|_| kind[MARKER.len()..].trim().to_ascii_uppercase());
                        if feature_asset.is_some() && attr(&e, "DeltaAction") == "delete" {
                            feature_asset = None;
                        }
                    }
                    ("FeatureVersion", "VersionDetail") => {
                        detail_line =
                            lines.at(usize::try_from(reader.buffer_position()).unwrap_or(0));
                    }
                    ("SanctionsEntries", "SanctionsEntry") => {
                        entry_profile = attr(&e, "ProfileID");
                        entry = XmlEntry::default();
                    }
                    ("SanctionsEntry", "SanctionsMeasure") => {
                        measure_type = attr(&e, "SanctionsTypeID");
                        measure_comment.clear();
                    }
                    ("EntryEvent", "Date") | ("Sanctions", "DateOfIssue") => {
                        date = XmlDate::default();
                    }
                    _ => {}
                }
                if !empty {
                    stack.push(name);
                }
            }
            Event::Text(t) => buf.push_str(&t.xml10_content()),
            Event::CData(t) => buf.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    buf.push(c);
                } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(&r) {
                    buf.push_str(s);
                }
            }
            Event::End(_) => {
                let Some(name) = stack.pop() else { continue };
                let parent = stack.last().map_or("", String::as_str);
                let value = buf.trim().to_string();
                buf.clear();
                match (parent, name.as_str()) {
                    ("FeatureTypeValues", "FeatureType") => {
                        feature_types.insert(std::mem::take(&mut ref_id), value);
                    }
                    ("NamePartTypeValues", "NamePartType") => {
                        part_types.insert(std::mem::take(&mut ref_id), value);
                    }
                    ("SanctionsTypeValues", "SanctionsType") => {
                        sanction_types.insert(std::mem::take(&mut ref_id), value);
                    }
                    ("DocumentedNamePart", "NamePartValue") if taking_name && !value.is_empty() => {
                        identity
                            .parts
                            .push((std::mem::take(&mut part_group), value));
                    }
                    ("Alias", "DocumentedName") => {
                        if taking_name {
                            identity.name_taken = true;
                        }
                        taking_name = false;
                    }
                    ("Identity", "Alias") => in_primary_alias = false,
                    ("Profile", "Identity") => {
                        let name = xml_name(&identity, &part_types);
                        profile.names.push((identity.primary, name));
                    }
                    ("FeatureVersion", "VersionDetail") => {
                        if let Some(asset) = &feature_asset {
                            if value.is_empty() {
                                parsed.invalid.push(Problem {
                                    file: file.to_string(),
                                    line: detail_line,
                                    message: format!(
                                        "uid {}: {asset} feature without an address",
                                        profile.fixed_ref
                                    ),
                                });
                            } else {
                                profile.addresses.push(XmlAddress {
                                    asset: asset.clone(),
                                    address: value,
                                    line: detail_line,
                                });
                            }
                        }
                    }
                    ("Profile", "Feature") => feature_asset = None,
                    ("DistinctParty", "Profile") => {
                        let entity = profile
                            .names
                            .iter()
                            .find(|(primary, n)| *primary && !n.is_empty())
                            .or_else(|| profile.names.iter().find(|(_, n)| !n.is_empty()))
                            .map(|(_, n)| n.clone())
                            .unwrap_or_else(|| format!("OFAC SDN uid {}", profile.fixed_ref));
                        for address in std::mem::take(&mut profile.addresses) {
                            found.push(XmlFound {
                                profile: profile.id.clone(),
                                fixed_ref: profile.fixed_ref.clone(),
                                entity: entity.clone(),
                                address,
                            });
                        }
                    }
                    ("SanctionsMeasure", "Comment") => measure_comment = value,
                    ("SanctionsEntry", "SanctionsMeasure") => {
                        let is_program = sanction_types
                            .get(&measure_type)
                            .is_some_and(|t| t.eq_ignore_ascii_case("program"));
                        let program = std::mem::take(&mut measure_comment);
                        if is_program && !program.is_empty() && !entry.programs.contains(&program) {
                            entry.programs.push(program);
                        }
                    }
                    ("Date" | "DateOfIssue", "Year") => date.year = value,
                    ("Date" | "DateOfIssue", "Month") => date.month = value,
                    ("Date" | "DateOfIssue", "Day") => date.day = value,
                    ("EntryEvent", "Date") => {
                        if let Some(d) = date.format() {
                            if entry.date.as_ref().is_none_or(|e| d < *e) {
                                entry.date = Some(d);
                            }
                        }
                    }
                    ("Sanctions", "DateOfIssue") => issued = date.format(),
                    ("SanctionsEntries", "SanctionsEntry") => {
                        let e = std::mem::take(&mut entry);
                        entries.insert(std::mem::take(&mut entry_profile), e);
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }

    let mut seen = Seen::default();
    for f in found {
        let XmlFound {
            profile,
            fixed_ref,
            entity,
            address,
        } = f;
        let line = address.line;
        let quirk = |parsed: &mut Parsed, message: String| {
            parsed.quirks.push(Problem {
                file: file.to_string(),
                line,
                message: format!("uid {fixed_ref}: {message}"),
            });
        };
        if let Some(m) = asset_mismatch(&address.asset, &address.address) {
            quirk(&mut parsed, m);
        }
        let Some(chain) = normalize_chain(&address.asset) else {
            continue;
        };
        let subject = Subject::address(&address.address);
        let noted = seen.note(subject.id(), &address.asset, &entity, file, line);
        for q in noted.quirks {
            quirk(&mut parsed, q);
        }
        if noted.duplicate {
            continue;
        }
        let e = entries.get(&profile);
        parsed.labels.push(Label {
            chain,
            subject,
            entity,
            category: Category::Sanctions,
            tags: e.map(|e| e.programs.join(", ")).unwrap_or_default(),
            source: format!("OFAC SDN uid {fixed_ref}"),
            date: e.and_then(|e| e.date.clone()).or_else(|| issued.clone()),
            confidence: AUTHORITY,
            origin: format!("{file}:{line}"),
        });
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_addresses_in_remarks() {
        let t = "Website x.io; Digital Currency Address - XBT 1abc; alt. Digital Currency \
                 Address - XRP rnXy.";
        let f = find_addresses(t, false);
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].asset, f[0].address, f[0].at_end),
            ("XBT", "1abc", false)
        );
        assert_eq!(
            (f[1].asset, f[1].address, f[1].at_end),
            ("XRP", "rnXy", false)
        );
        let cut = find_addresses("x; Digital Currency Address - XBT 1Gq", false);
        assert!(cut[0].at_end);
        let none = find_addresses("Digital Currency Address - XBT", false);
        assert_eq!(none[0].address, "");
        let frag = find_addresses("s - ETH 0xabc; Phone 1", true);
        assert_eq!(
            (frag[0].asset, frag[0].address, frag[0].fragment),
            ("ETH", "0xabc", true)
        );
        assert!(find_addresses("hn'; Linked To: X.", true).is_empty());
        // Multi-byte text around markers never panics.
        assert!(find_addresses("é Digital Currency Address - é", true)[0]
            .address
            .is_empty());
        assert_eq!(find_addresses("ééé s - ", true).len(), 0);
    }

    #[test]
    fn reads_latin1_names() {
        let sdn = b"7,\"MU\xd1OZ, Jos\xe9\",\"individual\",\"SDNTK\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"Digital Currency Address - XBT 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa.\"\r\n\x1a";
        let out = read_sdn_set(&[SdnFile {
            file: "sdn_2024-05-01.csv",
            comments: false,
            bytes: sdn,
        }]);
        assert!(out[0].invalid.is_empty() && out[0].quirks.is_empty());
        let l = &out[0].labels[0];
        assert_eq!(l.entity, "MU\u{d1}OZ, Jos\u{e9}");
        assert_eq!(l.date.as_deref(), Some("2024-05-01"));
        assert_eq!(l.source, "OFAC SDN ent_num 7");
    }

    #[test]
    fn programs_split() {
        assert_eq!(programs("SDGT] [IFSR"), "SDGT, IFSR");
        assert_eq!(programs("CYBER2"), "CYBER2");
        assert_eq!(programs(""), "");
    }

    #[test]
    fn joins_a_cut_address() {
        let sdn =
            "1,\"A, B\",\"individual\",\"CYBER2] [DPRK3\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\
                   \"Digital Currency Address - XBT 1A1zP1eP5QGefi2DMPTf\"\r\n";
        let com = "1,\"TL5SLmv7DivfNa; Digital Currency Address - ETH 0x8576acc5c05d6ce88f4e49bf65bdf0c62f91353c.\"\r\n\x1a";
        let files = [
            SdnFile {
                file: "sdn.csv",
                comments: false,
                bytes: sdn.as_bytes(),
            },
            SdnFile {
                file: "c.csv",
                comments: true,
                bytes: com.as_bytes(),
            },
        ];
        let out = read_sdn_set(&files);
        assert!(out[0].invalid.is_empty() && out[1].invalid.is_empty());
        assert_eq!(out[0].labels.len(), 1);
        let l = &out[0].labels[0];
        assert_eq!(l.subject.id(), "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa");
        assert_eq!((l.chain.as_str(), l.entity.as_str()), ("BTC", "A, B"));
        assert_eq!(l.tags, "CYBER2, DPRK3");
        assert_eq!(l.origin, "sdn.csv:1");
        assert_eq!(out[1].labels[0].entity, "A, B");
        assert_eq!(out[1].labels[0].chain, "ETH");
        // Alone, the SDN row's address is cut: invalid, not a label.
        let alone = read_sdn_set(&files[..1]);
        assert!(alone[0].labels.is_empty());
        assert_eq!(alone[0].invalid.len(), 1);
    }
}
