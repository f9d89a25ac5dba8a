//! GraphSense TagPacks: reading them into labels, and writing labels back
//! as a TagPack that GraphSense's own validator accepts.
//!
//! Owns the TagPack format: [`looks_like`], [`read()`], [`write()`] and
//! [`PackHeader`]. Must not: touch the label vocabulary (`label.rs`), the
//! other formats, or the label store; fetch anything a pack names (actors,
//! `!include`d headers, URLs are kept as text).
//!
//! # Reading
//!
//! A TagPack is one YAML document: header fields (`title`, `creator`...),
//! and `tags:`, a list of tags. Every tag field written in the header
//! (`currency`, `network`, `label`, `source`, `confidence`, `category`,
//! `abuse`, `concepts`, `lastmod`, `actor`...) is inherited by every tag that
//! does not set it; a tag setting a field to `null` drops the inherited
//! value. A `header:` mapping is read as header fields, as GraphSense does.
//!
//! One [`Label`] per tag:
//! - subject: `address` ([`Subject::address`]) or `tx_hash`
//!   ([`Subject::tx`]); neither, both, or a `tx_hash` that is not 64 hex
//!   digits makes the tag invalid;
//! - chain: [`normalize_chain`] of `network` (the chain the address lives
//!   on), else `currency`; neither makes the tag invalid. Real packs only
//!   use `currency`; GraphSense defaults `network` to it;
//! - entity: `label`, else `actor`; neither makes the tag invalid;
//! - category: the concept words of `category`, `abuse`, then `concepts`,
//!   in that order, each through [`Category::from_concept`]. The first
//!   recognised one wins, except that a risk category ([`Category::is_risk`])
//!   beats a service one wherever it stands: `category: exchange` with
//!   `abuse: service_hack` is stolen funds, `category: user` with
//!   `abuse: sanction` is sanctions (the exchange or user is what the
//!   subject is, the abuse is what screening must report). Nothing
//!   recognised gives [`Category::Other`]. A word that is not a GraphSense
//!   concept at all (not in `concepts.yaml`, `KNOWN_CONCEPTS`) is a quirk;
//!   a known concept with no category of its own (`black_list`, `user`...)
//!   is not;
//! - sanctions from the source: a tag whose `source` is an OFAC publication
//!   that designates addresses (a `treasury.gov` URL naming the SDN list or
//!   a "recent actions" page; not OFAC's enforcement pages) is
//!   [`Category::Sanctions`] whatever its concepts say: the public
//!   `ofac.yaml` pack files its 572 SDN addresses under `category: user`,
//!   and the Tornado Cash, Blender.io, Hydra and Sinbad packs file
//!   designated addresses under their service type. The concept words stay
//!   in `tags`. One quirk per file says how many tags this touched;
//! - tags: the concept words, deduplicated, joined by `,`;
//! - source: `source`; a tag without one gets the pack's title (quirk);
//! - date: `lastmod` as `YYYY-MM-DD`, from a date (`2021-11-12`, also
//!   `2022-10-1`), a date-time (`2021-11-12T10:00:00Z`) or a Unix time in
//!   seconds or milliseconds; anything else is no date (quirk);
//! - confidence: [`Confidence::parse`] of `confidence` (a level name or a
//!   number); missing or unknown gives 50 (quirk). GraphSense itself gives
//!   a pack without confidence its lowest level, `unknown` (5);
//! - origin: `file:line`, the line where the tag's mapping starts (its first
//!   key: the `- address:` line), taken from the YAML parser's spans.
//!
//! Quirks are counted per file: one [`Problem`] per kind of remark, on the
//! first tag it concerns, saying how many tags it concerns (a pack of 774
//! tags under an unknown concept gives one quirk, not 774). Invalid tags are
//! listed one by one.
//!
//! The YAML is read with `saphyr-parser`'s event parser (YAML 1.2, spans
//! on every event), building a small tree of text values: plain `null`,
//! `~` and empty values are null, everything else is text as written
//! (`true`, `0x1A` and dates stay text: the tool's fields are text). Aliases
//! are expanded, but at most `MAX_ALIAS_NODES` (100,000) nodes in all, so an alias
//! bomb ("billion laughs") is refused as invalid YAML instead of eating
//! memory; nesting deeper than `MAX_DEPTH` (64) is refused too. Merge keys
//! (`<<: *defaults`) are applied. A duplicate key keeps its last value
//! (quirk). A file that is not YAML (or not UTF-8) gives one invalid
//! [`Problem`] on the line of the error and no labels; a second YAML
//! document is ignored (invalid). Nothing here panics on input.
//!
//! # Writing
//!
//! [`write()`] gives one pack for labels of any chains: each tag carries its
//! own `currency` and `network` (both the label's chain), `label`, `source`,
//! `confidence` (the level name, [`Confidence::level_name`]), the category
//! as a concept (risk categories as `abuse`, others as `category`; the
//! source's own concept word when it has one for that category, else
//! [`Category::concept`]), the label's other concept words as `concepts`
//! (words that are GraphSense concepts only), and `lastmod` (a date); a
//! field with one value for every tag (chain, label, source, confidence,
//! date) is written once in the header instead, as real packs do. Text
//! is double-quoted, so YAML 1.1 readers (PyYAML, which the validator
//! uses) never read a label as a boolean or a number. Labels the tool
//! would reject as duplicates (same subject, chain, label and source) are
//! written once: the one with the most severe category. Checked by
//! `graphsense-cli tagpack-tool tagpack validate` (see
//! `tools/tagpack_validate.sh`), which accepts the re-export of every real
//! pack.

use super::problem_in;
use crate::label::{normalize_chain, Category, Confidence, Label, Parsed, Problem, Subject};
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

/// Every concept id of GraphSense's concept taxonomy (`concepts.yaml` of
/// the public TagPacks, plus the ids newer GraphSense releases added:
/// `deposit_wallet`, `black_list`, `gov_black_list`, `white_list`,
/// `gov_white_list`, `deployer`, `funder`).
const KNOWN_CONCEPTS: [&str; 93] = [
    "concept",
    "unknown",
    "behaviour",
    "source",
    "mention",
    "website_mention",
    "forum_mention",
    "abuse",
    "gray_usage",
    "mixing",
    "white_usage",
    "sexual_abuse",
    "child_sexual_abuse",
    "violence",
    "human_trafficking",
    "murder",
    "torture",
    "scam",
    "financial_crime",
    "investment_fraud",
    "ponzi_scheme",
    "pyramid_scheme",
    "money_laundering",
    "extortion",
    "sextortion",
    "phishing",
    "hacking",
    "service_hack",
    "account_hack",
    "exploit",
    "data_breach",
    "social_engineering",
    "malware",
    "drugs",
    "weapons",
    "payment_card_fraud",
    "ransomware",
    "sanction",
    "counterfeit",
    "extremism",
    "terrorism",
    "terrorism_financing",
    "dark_web",
    "entity",
    "organization",
    "user",
    "service",
    "victim",
    "perpetrator",
    "donation",
    "exchange",
    "wallet_service",
    "escrow_wallet",
    "ico_wallet",
    "cold_wallet",
    "hot_wallet",
    "warm_wallet",
    "deposit_wallet",
    "filesharing",
    "index",
    "market",
    "messaging_service",
    "mixing_service",
    "coinjoin",
    "miner",
    "mining_service",
    "gambling",
    "search_engine",
    "shop",
    "faucet",
    "payment_processor",
    "atm",
    "hosting",
    "vpn",
    "nameservice",
    "defi",
    "defi_token",
    "defi_lending",
    "defi_dex",
    "defi_dex_pair",
    "defi_derivative",
    "defi_bridge",
    "defi_dao",
    "defi_staking",
    "defi_custody",
    "item",
    "collectible",
    "black_list",
    "gov_black_list",
    "white_list",
    "gov_white_list",
    "deployer",
    "funder",
];

/// Most nodes that YAML aliases may add by expansion in one file; past it
/// the file is refused (an alias bomb).
const MAX_ALIAS_NODES: usize = 100_000;

/// Deepest nesting of YAML lists and mappings read (a TagPack needs 3).
const MAX_DEPTH: usize = 64;

/// The tag fields of GraphSense's TagPack schema: what a header may set
/// for every tag.
const TAG_FIELDS: [&str; 15] = [
    "label",
    "source",
    "currency",
    "network",
    "context",
    "confidence",
    "is_cluster_definer",
    "lastmod",
    "category",
    "abuse",
    "address",
    "tx_hash",
    "actor",
    "concepts",
    "tag_type",
];

/// Confidence given to a tag whose confidence is missing or unknown.
const DEFAULT_CONFIDENCE: u8 = 50;

/// Whether the bytes look like a TagPack (YAML with a `tags:` list and header
/// fields such as `title:`/`creator:`). Cheap: look at the text, don't fully
/// parse.
///
/// True when some line starts (in column 0) with the key `tags:` and some
/// other with `title:`, `creator:` or `header:` (keys may be quoted).
pub fn looks_like(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().take(1024).any(|&b| b == 0) {
        return false;
    }
    let (mut tags, mut header) = (false, false);
    for line in bytes.split(|&b| b == b'\n') {
        match line.first() {
            Some(b't' | b'c' | b'h' | b'"' | b'\'') => {}
            _ => continue,
        }
        if starts_with_key(line, b"tags") {
            tags = true;
        } else if starts_with_key(line, b"title")
            || starts_with_key(line, b"creator")
            || starts_with_key(line, b"header")
        {
            header = true;
        }
        if tags && header {
            return true;
        }
    }
    false
}

/// Whether `line` starts with `key` (bare or quoted) followed by `:`.
fn starts_with_key(line: &[u8], key: &[u8]) -> bool {
    let (rest, quote) = match line.first() {
        Some(&q @ (b'"' | b'\'')) => (&line[1..], Some(q)),
        _ => (line, None),
    };
    let Some(mut rest) = rest.strip_prefix(key) else {
        return false;
    };
    if let Some(q) = quote {
        match rest.strip_prefix(&[q]) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    let rest = rest.trim_ascii_start();
    rest.first() == Some(&b':')
}

/// Reads one TagPack. `file` is the name used in origins and problems
/// ("packs/hacks.yaml").
pub fn read(file: &str, bytes: &[u8]) -> Parsed {
    let mut out = Parsed::default();
    let problem = problem_in(file);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = line_of_offset(bytes, e.valid_up_to());
            out.invalid.push(problem(line, "not UTF-8 text".into()));
            return out;
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let doc = match load(text) {
        Ok(d) => d,
        Err(e) => {
            out.invalid
                .push(problem(e.line, format!("not valid YAML: {}", e.message)));
            return out;
        }
    };
    if let Some(line) = doc.extra_document {
        out.invalid.push(problem(
            line,
            "a second YAML document: a TagPack is one document, the rest is ignored".into(),
        ));
    }
    let mut quirks = Quirks::default();
    for (line, key) in &doc.duplicate_keys {
        quirks.add(
            *line,
            format!("duplicate key `{key}`: the last value is used"),
        );
    }
    let root = match doc.root {
        Some(Item {
            node: Node::Map(entries),
            ..
        }) => entries,
        other => {
            let (line, what) = misfit(other, "the document is not a mapping", "the file is empty");
            out.invalid
                .push(problem(line, format!("not a TagPack: {what}")));
            return out;
        }
    };

    // Header: the top-level fields, under a `header:` mapping's fields
    // (which win, as in GraphSense, being first).
    let mut header: Vec<(Cow<str>, Item)> = Vec::new();
    let mut top: Vec<(Cow<str>, Item)> = Vec::new();
    let mut tags_item: Option<Item> = None;
    for (key, item) in root {
        match key.as_ref() {
            "tags" => tags_item = Some(item),
            "header" => match item.node {
                Node::Map(entries) => header.extend(entries),
                Node::Include(path) => quirks.add(
                    item.line,
                    format!("header `!include {path}` is not read: its fields are missing"),
                ),
                _ => top.push((key, item)),
            },
            _ => top.push((key, item)),
        }
    }
    header.extend(top);
    for (key, item) in &header {
        if let Node::Include(path) = &item.node {
            quirks.add(
                item.line,
                format!("`{key}: !include {path}` is not read: the field is missing"),
            );
        }
    }
    // Only tag fields are inherited (and the title is the fallback source);
    // dropping the rest keeps the header small, so looking a field up in it
    // for every tag stays cheap.
    header.retain(|(k, _)| TAG_FIELDS.contains(&k.as_ref()) || k == "title");
    let header = Fields(&header);
    let tags = match tags_item {
        Some(Item {
            node: Node::Seq(items),
            ..
        }) => items,
        Some(Item {
            node: Node::Null, ..
        }) => Vec::new(),
        other => {
            let (line, what) = misfit(other, "`tags` is not a list", "no `tags:` list");
            out.invalid
                .push(problem(line, format!("not a TagPack: {what}")));
            return out;
        }
    };
    let title = header.text("title").ok().flatten().unwrap_or(file);

    out.labels.reserve(tags.len());
    for item in &tags {
        let Node::Map(entries) = &item.node else {
            out.invalid
                .push(problem(item.line, "tag is not a mapping".into()));
            continue;
        };
        let tag = Tag {
            own: Fields(entries),
            header: &header,
            line: item.line,
        };
        match read_tag(&tag, file, title, &mut quirks) {
            Ok(label) => out.labels.push(label),
            Err(message) => out.invalid.push(problem(item.line, message)),
        }
    }
    out.quirks = quirks.finish(file);
    out
}

/// One tag's own fields, over the pack's header fields.
struct Tag<'a> {
    own: Fields<'a>,
    header: &'a Fields<'a>,
    line: u64,
}

impl<'a> Tag<'a> {
    /// The field: the tag's own (even `null`), else the header's.
    fn get(&self, key: &str) -> Option<&'a Item<'a>> {
        self.own.get(key).or_else(|| self.header.get(key))
    }

    /// A text field: `Ok(None)` when absent, null or blank; `Err` when it
    /// is a list or mapping.
    fn text(&self, key: &str) -> Result<Option<&'a str>, String> {
        self.get(key).map_or(Ok(None), |item| item_text(key, item))
    }
}

/// A mapping's entries, looked up by key (the last of duplicates is
/// already the only one: see [`load`]).
struct Fields<'a>(&'a [(Cow<'a, str>, Item<'a>)]);

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a Item<'a>> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn text(&self, key: &str) -> Result<Option<&'a str>, String> {
        self.get(key).map_or(Ok(None), |item| item_text(key, item))
    }
}

fn item_text<'b>(key: &str, item: &'b Item) -> Result<Option<&'b str>, String> {
    match &item.node {
        Node::Null => Ok(None),
        Node::Text(s) => {
            let t = s.trim();
            Ok((!t.is_empty()).then_some(t))
        }
        Node::Include(_) => Err(format!("`{key}` is an `!include`, which is not read")),
        Node::Seq(_) | Node::Map(_) => Err(format!("`{key}` is not a single value")),
    }
}

/// Which field a concept word came from.
#[derive(Clone, Copy, PartialEq)]
enum WordFrom {
    Category,
    Abuse,
    Concepts,
}

fn read_tag(tag: &Tag, file: &str, title: &str, quirks: &mut Quirks) -> Result<Label, String> {
    let line = tag.line;
    // Subject.
    let address = tag.text("address")?;
    let tx_hash = tag.text("tx_hash")?;
    let subject = match (address, tx_hash) {
        (Some(a), None) => Subject::address(a),
        (None, Some(t)) => Subject::tx(t)
            .ok_or_else(|| format!("tx_hash {t:?} is not a transaction id (64 hex digits)"))?,
        (Some(_), Some(_)) => {
            return Err("both address and tx_hash: a tag is about one or the other".into())
        }
        (None, None) => return Err("no address or tx_hash".into()),
    };
    // Chain.
    let network = tag.text("network")?;
    let currency = tag.text("currency")?;
    let chain = network
        .and_then(normalize_chain)
        .or_else(|| currency.and_then(normalize_chain))
        .ok_or("no currency or network")?;
    // Entity.
    let entity = match tag.text("label")? {
        Some(l) => l,
        None => tag.text("actor")?.ok_or("no label (nor actor)")?,
    };
    // Concept words.
    let mut words: Vec<(WordFrom, &str)> = Vec::new();
    for (key, from) in [("category", WordFrom::Category), ("abuse", WordFrom::Abuse)] {
        match tag.text(key) {
            Ok(Some(w)) => words.push((from, w)),
            Ok(None) => {}
            Err(e) => quirks.add(line, format!("{e}: ignored")),
        }
    }
    match tag.get("concepts").map(|i| &i.node) {
        Some(Node::Seq(items)) => {
            for item in items {
                match item_text("concepts", item) {
                    Ok(Some(w)) => words.push((WordFrom::Concepts, w)),
                    Ok(None) => {}
                    Err(e) => quirks.add(line, format!("{e}: ignored")),
                }
            }
        }
        Some(Node::Text(s)) => words.extend(
            s.split(',')
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(|w| (WordFrom::Concepts, w)),
        ),
        Some(Node::Null) | None => {}
        Some(_) => quirks.add(line, "`concepts` is not a list: ignored".into()),
    }
    let mut category: Option<Category> = None;
    let mut tag_words: Vec<&str> = Vec::new();
    for &(from, word) in &words {
        if !tag_words.contains(&word) {
            tag_words.push(word);
        }
        match Category::from_concept(word) {
            Some(c) => {
                category = match category {
                    None => Some(c),
                    Some(prev) if !prev.is_risk() && c.is_risk() => Some(c),
                    keep => keep,
                }
            }
            None if !is_known_concept(word) => {
                let field = match from {
                    WordFrom::Category => "category",
                    WordFrom::Abuse => "abuse",
                    WordFrom::Concepts => "concepts",
                };
                quirks.add(
                    line,
                    format!("unknown concept {word:?} in `{field}`: not in GraphSense's concepts"),
                );
            }
            None => {}
        }
    }
    let mut category = category.unwrap_or(Category::Other);
    // Source.
    let source = match tag.text("source") {
        Ok(Some(s)) => s,
        other => {
            if let Err(e) = other {
                quirks.add(line, format!("{e}: ignored"));
            }
            quirks.add(
                line,
                "no source: the pack's title is used as the source".into(),
            );
            title
        }
    };
    if category != Category::Sanctions && is_ofac_designation(source) {
        category = Category::Sanctions;
        quirks.add(
            line,
            "source is an OFAC sanctions publication: read as sanctions".into(),
        );
    }
    // Date.
    let date = match tag.get("lastmod").map(|i| &i.node) {
        None | Some(Node::Null) => None,
        Some(Node::Text(s)) => {
            let d = parse_date(s);
            if d.is_none() {
                quirks.add(
                    line,
                    format!("lastmod {:?} is not a date: no date", s.trim()),
                );
            }
            d
        }
        Some(_) => {
            quirks.add(line, "lastmod is not a single value: no date".into());
            None
        }
    };
    // Confidence.
    let confidence = match tag.text("confidence") {
        Ok(Some(c)) => Confidence::parse(c).unwrap_or_else(|| {
            quirks.add(
                line,
                format!("unknown confidence {c:?}: read as {DEFAULT_CONFIDENCE}"),
            );
            Confidence(DEFAULT_CONFIDENCE)
        }),
        Ok(None) => {
            quirks.add(line, format!("no confidence: read as {DEFAULT_CONFIDENCE}"));
            Confidence(DEFAULT_CONFIDENCE)
        }
        Err(e) => {
            quirks.add(line, format!("{e}: read as {DEFAULT_CONFIDENCE}"));
            Confidence(DEFAULT_CONFIDENCE)
        }
    };
    Ok(Label {
        chain,
        subject,
        entity: entity.to_string(),
        category,
        tags: tag_words.join(","),
        source: source.to_string(),
        date,
        confidence,
        origin: format!("{file}:{line}"),
    })
}

fn is_known_concept(word: &str) -> bool {
    let w = word.trim();
    KNOWN_CONCEPTS.iter().any(|c| c.eq_ignore_ascii_case(w))
}

/// Whether a source URL is an OFAC publication that designates addresses:
/// on `treasury.gov`, naming the SDN list or a "recent actions" page, and
/// not an enforcement (civil penalty) page.
fn is_ofac_designation(source: &str) -> bool {
    let s = source.trim().to_ascii_lowercase();
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host_ok = host == "treasury.gov" || host.ends_with(".treasury.gov");
    host_ok
        && !path.contains("enforcement")
        && (path.contains("sdn") || path.contains("recent-actions"))
}

/// `YYYY-MM-DD` from a date (`2021-11-12`, `2022-10-1`), a date-time
/// (`2021-11-12T10:00:00Z`, `2021-11-12 10:00:00`) or a Unix time in seconds
/// or milliseconds; `None` otherwise.
fn parse_date(s: &str) -> Option<String> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs = s.split('.').next()?.parse::<u64>().ok()?;
        // Seconds from 1990 to 2100; milliseconds in the same span.
        let secs = match secs {
            631_152_000..=4_102_444_800 => secs,
            631_152_000_000..=4_102_444_800_000 => secs / 1000,
            _ => return None,
        };
        let (y, m, d) = civil_from_days((secs / 86_400) as i64);
        return Some(format!("{y:04}-{m:02}-{d:02}"));
    }
    let end = s.find(['T', 't', ' ']).unwrap_or(s.len());
    let (date, time) = s.split_at(end);
    if !time.is_empty()
        && !time[1..]
            .trim_start()
            .starts_with(|c: char| c.is_ascii_digit())
    {
        return None;
    }
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || y.len() != 4
        || !(1..=2).contains(&m.len())
        || !(1..=2).contains(&d.len())
    {
        return None;
    }
    let (y, m, d): (u32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    ((1900..=2999).contains(&y) && (1..=days_in_month).contains(&d))
        .then(|| format!("{y:04}-{m:02}-{d:02}"))
}

/// The civil date of a day count since 1970-01-01 (Howard Hinnant's
/// algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The 1-based line of a byte offset.
fn line_of_offset(bytes: &[u8], offset: usize) -> u64 {
    let end = offset.min(bytes.len());
    bytes[..end].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

/// Quirks counted by message: one problem per message, on its first line.
#[derive(Default)]
struct Quirks {
    order: Vec<String>,
    seen: HashMap<String, (u64, usize)>,
}

impl Quirks {
    fn add(&mut self, line: u64, message: String) {
        if let Some((_, n)) = self.seen.get_mut(&message) {
            *n += 1;
        } else {
            self.seen.insert(message.clone(), (line, 1));
            self.order.push(message);
        }
    }

    fn finish(self, file: &str) -> Vec<Problem> {
        let mut seen = self.seen;
        self.order
            .into_iter()
            .filter_map(|message| {
                let (line, n) = seen.remove(&message)?;
                let message = if n > 1 {
                    format!("{message} ({n} tags, the first here)")
                } else {
                    message
                };
                Some(Problem {
                    file: file.to_string(),
                    line,
                    message,
                })
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------
// YAML: a small tree of text values, built from the parser's events.

/// A YAML value, borrowing the file's text where it can.
#[derive(Debug, Clone)]
enum Node<'a> {
    Null,
    Text(Cow<'a, str>),
    /// A `!include`d file name (GraphSense's header includes).
    Include(String),
    Seq(Vec<Item<'a>>),
    /// Entries in file order, keys unique.
    Map(Vec<(Cow<'a, str>, Item<'a>)>),
}

/// A value and the 1-based line it starts on.
#[derive(Debug, Clone)]
struct Item<'a> {
    node: Node<'a>,
    line: u64,
}

/// Where and how a part of a TagPack that must be there is not what it
/// should be: `wrong` at its line, or `missing` (line 1) when absent.
fn misfit<'m>(item: Option<Item<'_>>, wrong: &'m str, missing: &'m str) -> (u64, &'m str) {
    item.map_or((1, missing), |item| (item.line, wrong))
}

struct Doc<'a> {
    root: Option<Item<'a>>,
    /// Line of a second document, which is not read.
    extra_document: Option<u64>,
    /// Keys given twice in one mapping, with the line of the second.
    duplicate_keys: Vec<(u64, String)>,
}

struct YamlError {
    line: u64,
    message: String,
}

/// A list or mapping being built.
enum Frame<'a> {
    Seq {
        items: Vec<Item<'a>>,
        line: u64,
        anchor: usize,
    },
    Map {
        entries: Vec<(Cow<'a, str>, Item<'a>)>,
        /// Key to entry, kept once the mapping is large (see [`load`]).
        index: HashMap<Cow<'a, str>, usize>,
        key: Option<(Cow<'a, str>, u64)>,
        line: u64,
        anchor: usize,
    },
}

fn node_count(node: &Node) -> usize {
    match node {
        Node::Seq(items) => 1 + items.iter().map(|i| node_count(&i.node)).sum::<usize>(),
        Node::Map(entries) => {
            1 + entries
                .iter()
                .map(|(_, i)| 1 + node_count(&i.node))
                .sum::<usize>()
        }
        _ => 1,
    }
}

fn is_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

/// Parses the first YAML document of `text` into a tree.
fn load(text: &str) -> Result<Doc<'_>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (Item, usize)> = HashMap::new();
    let mut alias_budget = MAX_ALIAS_NODES;
    let mut doc = Doc {
        root: None,
        extra_document: None,
        duplicate_keys: Vec::new(),
    };
    let mut documents = 0usize;
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| YamlError {
            line: e.marker().line() as u64,
            message: e.info().to_string(),
        })?;
        let line = span.start.line() as u64;
        let done: Option<(Item, usize)> = match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    doc.extra_document = Some(line);
                    break;
                }
                None
            }
            Event::StreamEnd => break,
            Event::Scalar(value, style, anchor, tag) => {
                let node = if tag
                    .as_ref()
                    .is_some_and(|t| t.handle == "!" && t.suffix == "include")
                {
                    Node::Include(value.trim().to_string())
                } else if style == ScalarStyle::Plain && tag.is_none() && is_null(&value) {
                    Node::Null
                } else {
                    Node::Text(value)
                };
                Some((Item { node, line }, anchor))
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(YamlError {
                        line,
                        message: format!("nested deeper than {MAX_DEPTH} levels"),
                    });
                }
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        line,
                        anchor,
                    }
                } else {
                    Frame::Map {
                        entries: Vec::new(),
                        index: HashMap::new(),
                        key: None,
                        line,
                        anchor,
                    }
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq {
                    items,
                    line,
                    anchor,
                }) => Some((
                    Item {
                        node: Node::Seq(items),
                        line,
                    },
                    anchor,
                )),
                Some(Frame::Map {
                    entries,
                    line,
                    anchor,
                    ..
                }) => Some((
                    Item {
                        node: Node::Map(apply_merge_keys(entries)),
                        line,
                    },
                    anchor,
                )),
                None => None,
            },
            Event::Alias(id) => {
                let (item, count) = anchors.get(&id).ok_or_else(|| YamlError {
                    line,
                    message: "alias to an unknown anchor".into(),
                })?;
                if *count > alias_budget {
                    return Err(YamlError {
                        line,
                        message: format!(
                            "aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?)"
                        ),
                    });
                }
                alias_budget -= count;
                let mut item = item.clone();
                item.line = line;
                Some((item, 0))
            }
            _ => None,
        };
        let Some((item, anchor)) = done else {
            continue;
        };
        if anchor != 0 {
            anchors.insert(anchor, (item.clone(), node_count(&item.node)));
        }
        match stack.last_mut() {
            None => {
                if doc.root.is_none() {
                    doc.root = Some(item);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(item),
            Some(Frame::Map {
                entries,
                index,
                key,
                ..
            }) => match key.take() {
                None => {
                    let k = match item.node {
                        Node::Text(s) => s,
                        Node::Null => Cow::Borrowed(""),
                        _ => Cow::Borrowed("?"),
                    };
                    *key = Some((k, item.line));
                }
                Some((k, key_line)) => {
                    // Small mappings (every tag) are searched; large ones
                    // indexed, so that no file costs quadratic time.
                    let found = if entries.len() < 16 {
                        entries.iter().position(|(e, _)| *e == k)
                    } else {
                        if index.is_empty() {
                            for (i, (e, _)) in entries.iter().enumerate() {
                                index.insert(e.clone(), i);
                            }
                        }
                        index.get(&k).copied()
                    };
                    match found.and_then(|i| entries.get_mut(i)) {
                        Some(slot) => {
                            doc.duplicate_keys.push((key_line, k.into_owned()));
                            slot.1 = item;
                        }
                        None => {
                            if !index.is_empty() {
                                index.insert(k.clone(), entries.len());
                            }
                            entries.push((k, item));
                        }
                    }
                }
            },
        }
    }
    Ok(doc)
}

/// Applies YAML merge keys: `<<: mapping` (or a list of mappings) adds the
/// entries the mapping does not set itself (an earlier merged mapping wins
/// over a later one).
fn apply_merge_keys<'a>(entries: Vec<(Cow<'a, str>, Item<'a>)>) -> Vec<(Cow<'a, str>, Item<'a>)> {
    if !entries.iter().any(|(k, _)| k == "<<") {
        return entries;
    }
    let mut own = Vec::with_capacity(entries.len());
    let mut merges = Vec::new();
    for (k, v) in entries {
        if k == "<<" {
            merges.push(v);
        } else {
            own.push((k, v));
        }
    }
    let mut seen: HashSet<Cow<'a, str>> = own.iter().map(|(k, _)| k.clone()).collect();
    for v in merges {
        let maps = match v.node {
            Node::Map(m) => vec![m],
            Node::Seq(items) => items
                .into_iter()
                .filter_map(|i| match i.node {
                    Node::Map(m) => Some(m),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for (mk, mv) in maps.into_iter().flatten() {
            if seen.insert(mk.clone()) {
                own.push((mk, mv));
            }
        }
    }
    own
}

// ---------------------------------------------------------------------------
// Writing.

/// Header of an exported pack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackHeader {
    /// The pack's title (mandatory in GraphSense; `chainhound export` when
    /// blank).
    pub title: String,
    /// Who made it (mandatory in GraphSense; `chainhound` when blank).
    pub creator: String,
    /// What it holds; left out when blank.
    pub description: String,
    /// Whether the pack may be shared publicly; written only when true
    /// (GraphSense now ignores the field, warns that it is deprecated, and
    /// takes packs as private by default).
    pub is_public: bool,
}

/// Writes labels as one TagPack YAML text that GraphSense's validator
/// accepts (`tools/tagpack_validate.sh`). Labels of several chains go in one
/// pack with per-tag currency/network.
///
/// See the module documentation for the fields. Labels that GraphSense
/// would reject as duplicates (same subject, chain, label and source, up to
/// case and surrounding spaces) become one tag: the one of them with the
/// most severe category (the first of equals). Labels without a chain or
/// subject are left out. A comment at the top says how many tags were
/// written and what was merged or left out. A blank entity is written as
/// the category's name, a blank source as the label's origin; NUL
/// characters are dropped (the validator refuses them).
pub fn write(header: &PackHeader, labels: &[Label]) -> String {
    // Merge what the validator would call duplicates.
    let mut kept: Vec<&Label> = Vec::with_capacity(labels.len());
    let mut index: HashMap<(String, String, String, String), usize> = HashMap::new();
    let (mut merged, mut skipped) = (0usize, 0usize);
    for label in labels {
        if label.chain.trim().is_empty() || label.subject.id().trim().is_empty() {
            skipped += 1;
            continue;
        }
        let key = (
            label.subject.id().trim().to_lowercase(),
            label.chain.trim().to_uppercase(),
            entity_of(label).to_lowercase(),
            source_of(label).to_lowercase(),
        );
        match index.get(&key) {
            Some(&i) => {
                merged += 1;
                if label.category < kept[i].category {
                    kept[i] = label;
                }
            }
            None => {
                index.insert(key, kept.len());
                kept.push(label);
            }
        }
    }

    let mut out = String::with_capacity(64 + kept.len() * 256);
    let _ = write!(out, "# Written by chainhound: {} tags", kept.len());
    if merged > 0 {
        let _ = write!(out, "; {merged} duplicate labels merged");
    }
    if skipped > 0 {
        let _ = write!(out, "; {skipped} labels without chain or subject left out");
    }
    out.push_str(".\n");
    let title = non_blank(&header.title, "chainhound export");
    let creator = non_blank(&header.creator, "chainhound");
    let _ = writeln!(out, "title: {}", quote(title));
    let _ = writeln!(out, "creator: {}", quote(creator));
    if !header.description.trim().is_empty() {
        let _ = writeln!(out, "description: {}", quote(header.description.trim()));
    }
    if header.is_public {
        // Deprecated in GraphSense (it warns); private is its default.
        out.push_str("is_public: true\n");
    }
    if kept.is_empty() {
        out.push_str("tags: []\n");
        return out;
    }
    // Fields every tag shares go in the header, once.
    let shared = |f: &dyn Fn(&Label) -> Option<String>| -> Option<String> {
        let first = f(kept[0])?;
        kept[1..]
            .iter()
            .all(|l| f(l).as_ref() == Some(&first))
            .then_some(first)
    };
    let common = Common {
        chain: shared(&|l| Some(chain_of(l))),
        entity: shared(&|l| Some(entity_of(l).to_string())),
        source: shared(&|l| Some(source_of(l).to_string())),
        confidence: shared(&|l| Some(l.confidence.level_name().to_string())),
        date: shared(&|l| l.date.as_deref().and_then(parse_date)),
    };
    if let Some(chain) = &common.chain {
        let _ = writeln!(out, "currency: {}", quote(chain));
        let _ = writeln!(out, "network: {}", quote(chain));
    }
    if let Some(entity) = &common.entity {
        let _ = writeln!(out, "label: {}", quote(entity));
    }
    if let Some(source) = &common.source {
        let _ = writeln!(out, "source: {}", quote(source));
    }
    if let Some(confidence) = &common.confidence {
        let _ = writeln!(out, "confidence: {}", quote(confidence));
    }
    if let Some(date) = &common.date {
        let _ = writeln!(out, "lastmod: {date}");
    }
    out.push_str("tags:\n");
    for label in kept {
        write_tag(&mut out, label, &common);
    }
    out
}

/// Tag fields written once in the header, because every tag has them.
struct Common {
    chain: Option<String>,
    entity: Option<String>,
    source: Option<String>,
    confidence: Option<String>,
    date: Option<String>,
}

fn chain_of(label: &Label) -> String {
    label.chain.trim().to_uppercase()
}

fn non_blank<'a>(s: &'a str, default: &'a str) -> &'a str {
    let t = s.trim();
    if t.is_empty() {
        default
    } else {
        t
    }
}

fn entity_of(label: &Label) -> &str {
    non_blank(&label.entity, label.category.name())
}

fn source_of(label: &Label) -> &str {
    non_blank(&label.source, non_blank(&label.origin, "chainhound"))
}

fn write_tag(out: &mut String, label: &Label, common: &Common) {
    match &label.subject {
        Subject::Address(a) => {
            let _ = writeln!(out, "- address: {}", quote(a.trim()));
        }
        Subject::Tx(t) => {
            let _ = writeln!(out, "- tx_hash: {}", quote(t.trim()));
        }
    }
    if common.chain.is_none() {
        let chain = chain_of(label);
        let _ = writeln!(out, "  currency: {}", quote(&chain));
        let _ = writeln!(out, "  network: {}", quote(&chain));
    }
    if common.entity.is_none() {
        let _ = writeln!(out, "  label: {}", quote(entity_of(label)));
    }
    if common.source.is_none() {
        let _ = writeln!(out, "  source: {}", quote(source_of(label)));
    }
    if common.confidence.is_none() {
        let _ = writeln!(
            out,
            "  confidence: {}",
            quote(label.confidence.level_name())
        );
    }
    // The concept for the category: the source's own word when it has one.
    let words: Vec<String> = {
        let mut w: Vec<String> = Vec::new();
        for word in label.tags.split(',').map(str::trim) {
            let word = word.to_ascii_lowercase();
            if KNOWN_CONCEPTS.contains(&word.as_str()) && !w.contains(&word) {
                w.push(word);
            }
        }
        w
    };
    let primary = words
        .iter()
        .find(|w| {
            let c = Category::from_concept(w);
            c == Some(label.category) || (label.category == Category::Other && c.is_none())
        })
        .cloned()
        .unwrap_or_else(|| label.category.concept().to_string());
    let field = if label.category.is_risk() {
        "abuse"
    } else {
        "category"
    };
    let _ = writeln!(out, "  {field}: {}", quote(&primary));
    // Other words, but none that would read back as a risk category the
    // label does not have.
    let rest: Vec<String> = words
        .iter()
        .filter(|w| **w != primary)
        .filter(|w| {
            label.category.is_risk() || !Category::from_concept(w).is_some_and(Category::is_risk)
        })
        .map(|w| quote(w))
        .collect();
    if !rest.is_empty() {
        let _ = writeln!(out, "  concepts: [{}]", rest.join(", "));
    }
    if common.date.is_none() {
        if let Some(date) = label.date.as_deref().and_then(parse_date) {
            let _ = writeln!(out, "  lastmod: {date}");
        }
    }
}

/// A YAML double-quoted scalar that YAML 1.1 and 1.2 readers read back as
/// the same text. NUL is dropped.
fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            '\r' => q.push_str("\\r"),
            '\0' => {}
            ' '..='~' => q.push(c),
            '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..
                if !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') =>
            {
                q.push(c)
            }
            c if (c as u32) <= 0xffff => {
                let _ = write!(q, "\\u{:04X}", c as u32);
            }
            c => {
                let _ = write!(q, "\\U{:08X}", c as u32);
            }
        }
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("2021-11-12").as_deref(), Some("2021-11-12"));
        assert_eq!(parse_date("2022-10-1").as_deref(), Some("2022-10-01"));
        assert_eq!(
            parse_date("2021-11-12T10:00:00Z").as_deref(),
            Some("2021-11-12")
        );
        assert_eq!(
            parse_date("2021-11-12 10:00:00").as_deref(),
            Some("2021-11-12")
        );
        assert_eq!(parse_date("1637000000").as_deref(), Some("2021-11-15"));
        assert_eq!(parse_date("1637000000000").as_deref(), Some("2021-11-15"));
        assert_eq!(parse_date("2021-02-29"), None);
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date("12"), None);
        assert_eq!(parse_date("2021-11-12Tnoon"), None);
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("yes"), "\"yes\"");
        assert_eq!(quote("a\"b\\c\nd\0"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(quote("x\u{1}\u{2028}é"), "\"x\\u0001\\u2028é\"");
    }

    #[test]
    fn keys() {
        assert!(looks_like(b"title: x\ntags:\n- address: a\n"));
        assert!(looks_like(b"\"tags\": []\ncreator : me\n"));
        assert!(!looks_like(b"title: x\n  tags:\n"));
        assert!(!looks_like(b"address,label\n1abc,x\n"));
    }

    #[test]
    fn ofac_sources() {
        assert!(is_ofac_designation(
            "https://www.treasury.gov/ofac/downloads/sdnlist.txt"
        ));
        assert!(is_ofac_designation(
            "https://home.treasury.gov/policy-issues/financial-sanctions/recent-actions/20220808"
        ));
        assert!(is_ofac_designation(
            "https://ofac.treasury.gov/recent-actions/20231129"
        ));
        assert!(!is_ofac_designation(
            "https://www.treasury.gov/resource-center/sanctions/OFAC-Enforcement/Pages/20200302.aspx"
        ));
        assert!(!is_ofac_designation(
            "https://evil.example/treasury.gov/sdn"
        ));
    }
}
