//! Miner attribution: who mined each block, by mempool's `pools-v2.json`.
//!
//! Owns: reading a pool list ([`PoolList::load`]), matching a block's
//! coinbase against it as mempool.space does ([`PoolList::attribute`]),
//! naming the miners no list knows by their coinbase tag ([`coinbase_tag`])
//! so that a newcomer shows up as one miner, and the pool share table of a
//! range of indexed blocks ([`PoolList::shares`]), with every pool's payout
//! addresses so their later spending can be followed.
//!
//! Must not: store anything in the index (attribution is computed on the fly
//! from the coinbase the index already keeps), parse block files, or print.
//!
//! # Matching rules (mempool's `PoolsParser.matchBlockMiner`)
//!
//! Pools are tried in the order of the file. For each pool, its payout
//! addresses are compared with the address of every coinbase output; then
//! its tags, case-insensitive regular expressions, are
//! matched anywhere in the coinbase scriptSig read as text. The first pool
//! with a hit wins, so an earlier pool's tag beats a later pool's address,
//! and within one pool an address beats a tag. Deliberate differences from
//! mempool, all documented in `docs/miners.md`: the scriptSig is decoded as
//! UTF-8 (invalid bytes become U+FFFD) rather than one character per byte,
//! so tags written in Chinese or emoji can match; a P2PK output counts as
//! the P2PKH address of its key (chainhound's address of it); outputs of
//! zero value count too (late regtest coinbases pay nothing); and a tag that
//! does not compile, is too big, or matches every coinbase (such as an empty
//! tag) is left out with a [`TagWarning`] instead of failing the list.
//!
//! All tags are compiled once into one [`RegexSet`], so attributing a block
//! costs one pass over its scriptSig whatever the number of pools.

use chainhound_chain::address;
use chainhound_index::store::{OutId, Store, TxNum};
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

/// A pool list larger than this is refused (`pools-v2.json` is 35 kB).
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// Tags longer than this many characters are left out.
pub const MAX_TAG_CHARS: usize = 1_000;
/// Compiled size limit of one tag's regular expression, in bytes.
pub const TAG_SIZE_LIMIT: usize = 1 << 20;
/// Compiled size limit of the set of all tags, in bytes; above it each tag
/// is matched on its own (slower, same answers).
const SET_SIZE_LIMIT: usize = 32 << 20;
/// Unknown miners' tags are cut to this many characters.
const MAX_UNKNOWN_TAG_CHARS: usize = 80;

/// One pool of the list, as `pools-v2.json` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    /// mempool's unique id of the pool.
    pub id: u64,
    /// Display name.
    pub name: String,
    /// Payout addresses.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Coinbase tags: case-insensitive regular expressions.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Web site.
    #[serde(default)]
    pub link: String,
}

/// A pool list that could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum MinersError {
    /// The file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        bytes: u64,
    },
    /// The file is not a `pools-v2.json` list.
    Json {
        /// The file.
        path: PathBuf,
        /// Line of the fault (1-based).
        line: usize,
        /// Column of the fault (1-based).
        column: usize,
        /// What serde_json says.
        source: serde_json::Error,
    },
}

impl fmt::Display for MinersError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MinersError::Read { path, source } => {
                write!(f, "reading pool list {}: {source}", path.display())
            }
            MinersError::TooLarge { path, bytes } => write!(
                f,
                "pool list {} is {bytes} bytes, more than the {MAX_FILE_BYTES} a pool list may be",
                path.display()
            ),
            MinersError::Json { path, source, .. } => write!(
                f,
                "pool list {} is not mempool's pools-v2.json (a JSON array of \
                 {{id, name, addresses, tags, link}}): {source}",
                path.display()
            ),
        }
    }
}

/// The message of each variant is complete (it ends with the cause), so
/// [`std::error::Error::source`] gives none: a printed chain would repeat it.
impl std::error::Error for MinersError {}

/// A tag left out of matching, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagWarning {
    /// The pool's id.
    pub pool_id: u64,
    /// The pool's name.
    pub pool: String,
    /// The tag (its first 200 characters).
    pub tag: String,
    /// Why it was left out.
    pub reason: String,
}

impl fmt::Display for TagWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pool {} ({}): tag {:?} ignored: {}",
            self.pool_id, self.pool, self.tag, self.reason
        )
    }
}

/// What tied a block to a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence<'p> {
    /// This tag of the pool matched the coinbase text.
    Tag(&'p str),
    /// A coinbase output paid this address of the pool.
    Address(&'p str),
}

/// A miner the list does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMiner {
    /// The coinbase tag ([`coinbase_tag`]); empty if there is none.
    pub tag: String,
    /// The first address the coinbase pays, if any.
    pub payout: Option<String>,
}

/// Gives the entity (cluster id) of an address string, if known.
pub type EntityOf<'a> = &'a dyn Fn(&str) -> Option<u32>;

/// How unknown miners are grouped: by coinbase tag when there is one (a
/// miner that pays a fresh address every block is still one miner), else by
/// the entity (address cluster) of its payout address when clusters exist
/// ([`PoolList::shares_with`]), else by the payout address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownGroup {
    /// Blocks with this coinbase tag.
    Tag(String),
    /// Untagged blocks paying this address first.
    Payout(String),
    /// Untagged blocks whose first payout address belongs to this entity
    /// (its cluster's id).
    Entity(u32),
    /// Untagged blocks paying no address.
    Anonymous,
}

impl UnknownMiner {
    /// The group this miner's blocks count in.
    pub fn group(&self) -> UnknownGroup {
        match (&self.tag, &self.payout) {
            (t, _) if !t.is_empty() => UnknownGroup::Tag(t.clone()),
            (_, Some(a)) => UnknownGroup::Payout(a.clone()),
            (_, None) => UnknownGroup::Anonymous,
        }
    }
}

/// The miner of one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribution<'p> {
    /// A pool of the list.
    Pool {
        /// The pool.
        pool: &'p Pool,
        /// Its position in the list.
        index: usize,
        /// What matched.
        by: Evidence<'p>,
    },
    /// No pool of the list.
    Unknown(UnknownMiner),
}

impl Attribution<'_> {
    /// The pool's name, or `unknown: <tag> / <payout address>`.
    pub fn name(&self) -> String {
        match self {
            Attribution::Pool { pool, .. } => pool.name.clone(),
            Attribution::Unknown(u) => unknown_name(&u.tag, u.payout.as_deref(), 0),
        }
    }

    /// The pool, if the list knows the miner.
    pub fn pool(&self) -> Option<&Pool> {
        match self {
            Attribution::Pool { pool, .. } => Some(pool),
            Attribution::Unknown(_) => None,
        }
    }
}

fn unknown_name(tag: &str, payout: Option<&str>, more: usize) -> String {
    let tag = if tag.is_empty() { "(no tag)" } else { tag };
    let payout = payout.unwrap_or("(no address)");
    if more > 0 {
        format!("unknown: {tag} / {payout} (+{more} more addresses)")
    } else {
        format!("unknown: {tag} / {payout}")
    }
}

impl fmt::Display for Attribution<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attribution::Pool {
                pool,
                by: Evidence::Tag(t),
                ..
            } => write!(f, "{} (tag {t:?})", pool.name),
            Attribution::Pool {
                pool,
                by: Evidence::Address(a),
                ..
            } => write!(f, "{} (address {a})", pool.name),
            Attribution::Unknown(u) => f.write_str(&unknown_name(&u.tag, u.payout.as_deref(), 0)),
        }
    }
}

/// The JSON form of an [`Attribution`].
#[derive(Serialize)]
struct AttributionJson<'a> {
    name: String,
    known: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pool_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    matched_tag: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    matched_address: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unknown_tag: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payout: Option<&'a str>,
}

impl Serialize for Attribution<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let j = match self {
            Attribution::Pool { pool, by, .. } => AttributionJson {
                name: pool.name.clone(),
                known: true,
                pool_id: Some(pool.id),
                matched_tag: match by {
                    Evidence::Tag(t) => Some(t),
                    Evidence::Address(_) => None,
                },
                matched_address: match by {
                    Evidence::Address(a) => Some(a),
                    Evidence::Tag(_) => None,
                },
                unknown_tag: None,
                payout: None,
            },
            Attribution::Unknown(u) => AttributionJson {
                name: self.name(),
                known: false,
                pool_id: None,
                matched_tag: None,
                matched_address: None,
                unknown_tag: Some(&u.tag),
                payout: u.payout.as_deref(),
            },
        };
        j.serialize(s)
    }
}

/// The tags' matcher: one set, or each tag on its own if the set is too big.
#[derive(Debug)]
enum TagMatcher {
    Set(RegexSet),
    Each(Vec<Regex>),
}

impl TagMatcher {
    /// The first pattern (in list order) matching `text`.
    fn first_match(&self, text: &str) -> Option<usize> {
        match self {
            TagMatcher::Set(set) => set.matches(text).iter().next(),
            TagMatcher::Each(v) => v.iter().position(|r| r.is_match(text)),
        }
    }
}

/// A loaded pool list, its tags compiled, ready to attribute blocks.
#[derive(Debug)]
pub struct PoolList {
    pools: Vec<Pool>,
    /// For each compiled pattern: (pool index, tag index in the pool), in
    /// list order, so the lowest matching pattern is the earliest pool.
    patterns: Vec<(usize, usize)>,
    matcher: TagMatcher,
    /// Normalised address -> (pool index, address index), earliest pool.
    addresses: HashMap<String, (usize, usize)>,
    warnings: Vec<TagWarning>,
}

/// Bech32 addresses compare in lower case; base58 ones as they are.
fn normalise_address(a: &str) -> Cow<'_, str> {
    let a = a.trim();
    let bech32 = ["bc1", "tb1", "bcrt1"].iter().any(|p| {
        a.as_bytes()
            .get(..p.len())
            .is_some_and(|b| b.eq_ignore_ascii_case(p.as_bytes()))
    });
    if bech32 && a.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(a.to_ascii_lowercase())
    } else {
        Cow::Borrowed(a)
    }
}

/// Why a tag did not compile, on one line: the `error:` line of a syntax
/// error (the rest repeats the pattern), else the whole message.
fn regex_reason(e: regex::Error) -> String {
    let text = e.to_string();
    let line = match &e {
        regex::Error::Syntax(s) => s
            .lines()
            .find_map(|l| l.trim().strip_prefix("error:"))
            .map(str::trim),
        _ => None,
    };
    cut(&line.unwrap_or(&text).replace('\n', " "), 300)
}

fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

impl PoolList {
    /// Reads mempool's `pools-v2.json` from `path`. Tags that cannot be used
    /// are left out and reported by [`PoolList::warnings`].
    ///
    /// # Errors
    ///
    /// The file cannot be read, is over [`MAX_FILE_BYTES`], or is not a JSON
    /// array of pools (the error gives line and column).
    pub fn load(path: &Path) -> Result<PoolList, MinersError> {
        let read = |source| MinersError::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read)?;
        let mut text = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut text)
            .map_err(read)?;
        if text.len() as u64 > MAX_FILE_BYTES {
            let bytes = std::fs::metadata(path).map_or(text.len() as u64, |m| m.len());
            return Err(MinersError::TooLarge {
                path: path.to_path_buf(),
                bytes,
            });
        }
        PoolList::parse(&text).map_err(|source| MinersError::Json {
            path: path.to_path_buf(),
            line: source.line(),
            column: source.column(),
            source,
        })
    }

    /// Parses the text of a `pools-v2.json` list.
    ///
    /// # Errors
    ///
    /// The text is not a JSON array of pools.
    pub fn parse(json: &[u8]) -> Result<PoolList, serde_json::Error> {
        let pools: Vec<Pool> = serde_json::from_slice(json)?;
        Ok(PoolList::new(pools))
    }

    /// Compiles a list of pools.
    pub fn new(pools: Vec<Pool>) -> PoolList {
        PoolList::build(pools, SET_SIZE_LIMIT)
    }

    fn build(pools: Vec<Pool>, set_limit: usize) -> PoolList {
        let mut warnings = Vec::new();
        let mut patterns = Vec::new();
        let mut sources = Vec::new();
        let mut regexes = Vec::new();
        for (p, pool) in pools.iter().enumerate() {
            for (t, tag) in pool.tags.iter().enumerate() {
                let compiled = if tag.chars().count() > MAX_TAG_CHARS {
                    Err(format!("longer than {MAX_TAG_CHARS} characters"))
                } else {
                    RegexBuilder::new(tag)
                        .case_insensitive(true)
                        .size_limit(TAG_SIZE_LIMIT)
                        .build()
                        .map_err(regex_reason)
                        .and_then(|r| {
                            if r.is_match("") {
                                Err("it matches every coinbase".to_string())
                            } else {
                                Ok(r)
                            }
                        })
                };
                match compiled {
                    Ok(r) => {
                        patterns.push((p, t));
                        sources.push(tag.as_str());
                        regexes.push(r);
                    }
                    Err(reason) => warnings.push(TagWarning {
                        pool_id: pool.id,
                        pool: cut(&pool.name, 80),
                        tag: cut(tag, 200),
                        reason,
                    }),
                }
            }
        }
        let matcher = match RegexSetBuilder::new(&sources)
            .case_insensitive(true)
            .size_limit(set_limit)
            .build()
        {
            Ok(set) => TagMatcher::Set(set),
            Err(_) => TagMatcher::Each(regexes),
        };
        let mut addresses = HashMap::new();
        for (p, pool) in pools.iter().enumerate() {
            for (i, a) in pool.addresses.iter().enumerate() {
                addresses
                    .entry(normalise_address(a).into_owned())
                    .or_insert((p, i));
            }
        }
        PoolList {
            pools,
            patterns,
            matcher,
            addresses,
            warnings,
        }
    }

    /// The pools, in list order.
    pub fn pools(&self) -> &[Pool] {
        &self.pools
    }

    /// Tags left out of matching.
    pub fn warnings(&self) -> &[TagWarning] {
        &self.warnings
    }

    /// Does every tag match through one regex set (the fast path)?
    pub fn single_pass(&self) -> bool {
        matches!(self.matcher, TagMatcher::Set(_))
    }

    /// The miner of a block from its coinbase scriptSig and the addresses its
    /// coinbase pays (in output order; see [`payouts`]), by the rules in the
    /// module documentation.
    pub fn attribute<S: AsRef<str>>(
        &self,
        coinbase_script: &[u8],
        payout_addresses: &[S],
    ) -> Attribution<'_> {
        let by_address = payout_addresses
            .iter()
            .filter_map(|a| self.addresses.get(normalise_address(a.as_ref()).as_ref()))
            .min();
        let text = String::from_utf8_lossy(coinbase_script);
        let by_tag = self.matcher.first_match(&text).map(|k| self.patterns[k]);
        // The earliest pool wins; within a pool, its address before its tag.
        let hit = match (by_address, by_tag) {
            (Some(&(p, a)), Some((q, _))) if p <= q => Some((p, Err(a))),
            (Some(&(p, a)), None) => Some((p, Err(a))),
            (_, Some((q, t))) => Some((q, Ok(t))),
            (None, None) => None,
        };
        match hit {
            Some((index, what)) => {
                let pool = &self.pools[index];
                let by = match what {
                    Ok(t) => Evidence::Tag(&pool.tags[t]),
                    Err(a) => Evidence::Address(&pool.addresses[a]),
                };
                Attribution::Pool { pool, index, by }
            }
            None => Attribution::Unknown(UnknownMiner {
                tag: coinbase_tag(coinbase_script),
                payout: payout_addresses.first().map(|a| a.as_ref().to_string()),
            }),
        }
    }
}

/// The data a script pushes, if it is push-only and well-formed.
fn pushes(script: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    let mut i = 0usize;
    while i < script.len() {
        let op = script[i];
        i += 1;
        let n = match op {
            0x01..=0x4b => op as usize,
            0x4c => {
                let n = *script.get(i)? as usize;
                i += 1;
                n
            }
            0x4d => {
                let b = script.get(i..i + 2)?;
                i += 2;
                u16::from_le_bytes([b[0], b[1]]) as usize
            }
            0x4e => {
                let b = script.get(i..i + 4)?;
                i += 4;
                u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
            }
            0x00 | 0x4f | 0x51..=0x60 => 0,
            _ => return None,
        };
        let end = i.checked_add(n)?;
        out.push(script.get(i..end)?);
        i = end;
    }
    Some(out)
}

/// The printable tag of a coinbase scriptSig, as unknown miners are named
/// and grouped: the longest run of at least 4 printable ASCII characters,
/// spaces collapsed and trimmed, cut to 80 characters; empty if none.
///
/// The first push (the BIP34 height, or `nBits` in early blocks) is passed
/// over when it holds at most 8 bytes. In a push-only script, runs are
/// looked for inside each push, so a push's length byte is never read as
/// text; in any other script, in the raw bytes.
pub fn coinbase_tag(script: &[u8]) -> String {
    let segments: Vec<&[u8]> = match pushes(script) {
        Some(segs) => {
            let skip = usize::from(segs.first().is_some_and(|s| s.len() <= 8));
            segs.into_iter().skip(skip).collect()
        }
        None => {
            // Pass over a leading direct push of up to 8 bytes.
            let skip = match script.first() {
                Some(&op @ 0x01..=0x08) if script.len() > op as usize => 1 + op as usize,
                _ => 0,
            };
            vec![&script[skip..]]
        }
    };
    let mut best = String::new();
    for seg in segments {
        for run in seg.split(|b| !(0x20..0x7f).contains(b)) {
            if run.len() < 4 {
                continue;
            }
            let text: String = run
                .split(|&b| b == b' ')
                .filter(|w| !w.is_empty())
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect::<Vec<_>>()
                .join(" ");
            if text.len() >= 4 && text.len() > best.len() {
                best = text;
            }
        }
    }
    cut_plain(&best, MAX_UNKNOWN_TAG_CHARS)
}

fn cut_plain(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// One coinbase output with an address: a mining payout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payout {
    /// Output index in the coinbase.
    pub vout: u32,
    /// Its address (chainhound's address string for the index's network).
    pub address: String,
    /// Value, satoshis.
    pub value: u64,
}

impl AsRef<str> for Payout {
    fn as_ref(&self) -> &str {
        &self.address
    }
}

/// The outputs of the coinbase of the indexed block at `height` that have an
/// address (all but `OP_RETURN`), in output order: the miner's payouts, as
/// [`PoolList::attribute`] takes them. Empty beyond the tip.
pub fn payouts(store: &Store, height: u32) -> Vec<Payout> {
    if height >= store.counts().blocks {
        return Vec::new();
    }
    let txs = store.block_txs(height);
    if txs.is_empty() {
        return Vec::new();
    }
    let outs = store.tx_outputs(TxNum(txs.start));
    outs.clone()
        .filter_map(|o| {
            let a = store.out_addr(OutId(o))?;
            Some(Payout {
                vout: (o - outs.start) as u32,
                address: address::encode(&store.addr_key(a), store.network()),
                value: store.out_value(OutId(o)),
            })
        })
        .collect()
}

/// The miner of one indexed block, with the coinbase outputs it was paid by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockMiner<'p> {
    /// Height.
    pub height: u32,
    /// Who mined it.
    pub miner: Attribution<'p>,
    /// The coinbase outputs: mining payouts.
    pub payouts: Vec<Payout>,
}

/// A payout address of a miner over a range of blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayoutTotal {
    /// The address.
    pub address: String,
    /// Coinbase outputs paying it.
    pub outputs: u32,
    /// Their value, satoshis.
    pub value: u64,
}

/// One miner's share of a range of blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MinerShare {
    /// The pool's name, or `unknown: <tag> / <payout address>`.
    pub name: String,
    /// Is it a pool of the list?
    pub known: bool,
    /// The pool's id in the list.
    pub pool_id: Option<u64>,
    /// The pool's web site.
    pub link: Option<String>,
    /// How an unknown miner's blocks were grouped.
    pub unknown: Option<UnknownGroup>,
    /// Blocks mined.
    pub blocks: u32,
    /// Share of the range's blocks, percent.
    pub share: f64,
    /// First height.
    pub first_height: u32,
    /// Last height.
    pub last_height: u32,
    /// Blocks attributed by tag.
    pub by_tag: u32,
    /// Blocks attributed by payout address.
    pub by_address: u32,
    /// Every address its coinbases paid, largest total first: mining
    /// payouts, whose spending `chainhound address` follows.
    pub payouts: Vec<PayoutTotal>,
}

/// Miners' shares of a range of indexed blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shares {
    /// First height.
    pub from: u32,
    /// Last height.
    pub to: u32,
    /// Blocks in the range.
    pub blocks: u32,
    /// Blocks whose pool the list knows.
    pub known_blocks: u32,
    /// Miners, most blocks first.
    pub miners: Vec<MinerShare>,
}

#[derive(Default)]
struct Tally {
    blocks: u32,
    first: u32,
    last: u32,
    by_tag: u32,
    by_address: u32,
    payouts: HashMap<String, (u32, u64)>,
}

impl PoolList {
    /// The miner of the indexed block at `height` (none beyond the tip).
    pub fn block(&self, store: &Store, height: u32) -> Option<BlockMiner<'_>> {
        if height >= store.counts().blocks {
            return None;
        }
        let payouts = payouts(store, height);
        let miner = self.attribute(store.coinbase(height), &payouts);
        Some(BlockMiner {
            height,
            miner,
            payouts,
        })
    }

    /// Every miner's share of the indexed blocks in `range` (cut at the tip).
    pub fn shares(&self, store: &Store, range: RangeInclusive<u32>) -> Shares {
        self.shares_with(store, range, None)
    }

    /// [`PoolList::shares`], grouping untagged unknown miners by the entity
    /// `entity_of` gives their payout address (when it gives one).
    pub fn shares_with(
        &self,
        store: &Store,
        range: RangeInclusive<u32>,
        entity_of: Option<EntityOf<'_>>,
    ) -> Shares {
        let tip = store.counts().blocks.checked_sub(1);
        let from = *range.start();
        let to = tip.map_or(from, |t| (*range.end()).min(t));
        #[derive(PartialEq, Eq, Hash)]
        enum Key {
            Pool(usize),
            Unknown(UnknownGroup),
        }
        let mut tallies: HashMap<Key, Tally> = HashMap::new();
        let mut blocks = 0u32;
        let mut known_blocks = 0u32;
        if tip.is_some_and(|t| from <= t) && from <= to {
            for h in from..=to {
                let Some(b) = self.block(store, h) else { break };
                blocks += 1;
                let key = match &b.miner {
                    Attribution::Pool { index, .. } => {
                        known_blocks += 1;
                        Key::Pool(*index)
                    }
                    Attribution::Unknown(u) => Key::Unknown(match (u.group(), entity_of) {
                        (UnknownGroup::Payout(a), Some(f)) => {
                            f(&a).map_or(UnknownGroup::Payout(a), UnknownGroup::Entity)
                        }
                        (g, _) => g,
                    }),
                };
                let t = tallies.entry(key).or_insert_with(|| Tally {
                    first: h,
                    ..Default::default()
                });
                t.blocks += 1;
                t.last = h;
                match b.miner {
                    Attribution::Pool {
                        by: Evidence::Tag(_),
                        ..
                    } => t.by_tag += 1,
                    Attribution::Pool {
                        by: Evidence::Address(_),
                        ..
                    } => t.by_address += 1,
                    Attribution::Unknown(_) => {}
                }
                for p in b.payouts {
                    let e = t.payouts.entry(p.address).or_default();
                    e.0 += 1;
                    e.1 = e.1.saturating_add(p.value);
                }
            }
        }
        let mut miners: Vec<MinerShare> = tallies
            .into_iter()
            .map(|(key, t)| {
                let mut payouts: Vec<PayoutTotal> = t
                    .payouts
                    .into_iter()
                    .map(|(address, (outputs, value))| PayoutTotal {
                        address,
                        outputs,
                        value,
                    })
                    .collect();
                payouts.sort_by(|a, b| b.value.cmp(&a.value).then(a.address.cmp(&b.address)));
                let (name, pool, unknown) = match key {
                    Key::Pool(i) => (self.pools[i].name.clone(), Some(&self.pools[i]), None),
                    Key::Unknown(g) => {
                        let name = match &g {
                            UnknownGroup::Tag(tag) => unknown_name(
                                tag,
                                payouts.first().map(|p| p.address.as_str()),
                                payouts.len().saturating_sub(1),
                            ),
                            UnknownGroup::Payout(a) => unknown_name("", Some(a), 0),
                            UnknownGroup::Entity(e) => unknown_name(
                                &format!("entity {e}"),
                                payouts.first().map(|p| p.address.as_str()),
                                payouts.len().saturating_sub(1),
                            ),
                            UnknownGroup::Anonymous => unknown_name("", None, 0),
                        };
                        (name, None, Some(g))
                    }
                };
                MinerShare {
                    name,
                    known: pool.is_some(),
                    pool_id: pool.map(|p| p.id),
                    link: pool.map(|p| p.link.clone()),
                    unknown,
                    blocks: t.blocks,
                    share: 100.0 * t.blocks as f64 / blocks.max(1) as f64,
                    first_height: t.first,
                    last_height: t.last,
                    by_tag: t.by_tag,
                    by_address: t.by_address,
                    payouts,
                }
            })
            .collect();
        miners.sort_by(|a, b| {
            b.blocks
                .cmp(&a.blocks)
                .then(a.first_height.cmp(&b.first_height))
        });
        Shares {
            from,
            to,
            blocks,
            known_blocks,
            miners,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(id: u64, name: &str, addresses: &[&str], tags: &[&str]) -> Pool {
        Pool {
            id,
            name: name.into(),
            addresses: addresses.iter().map(|s| s.to_string()).collect(),
            tags: tags.iter().map(|s| s.to_string()).collect(),
            link: String::new(),
        }
    }

    fn list() -> Vec<Pool> {
        vec![
            pool(1, "Early", &["1EarlyAddr"], &["/early/"]),
            pool(2, "Both", &["1BothAddr"], &["/both/"]),
            pool(3, "Fish", &["BC1QFISH"], &["🐟", "F2Pool"]),
        ]
    }

    fn name(l: &PoolList, script: &[u8], addrs: &[&str]) -> String {
        l.attribute(script, addrs).to_string()
    }

    #[test]
    fn earliest_pool_wins_and_its_address_before_its_tag() {
        let l = PoolList::new(list());
        assert!(l.warnings().is_empty() && l.single_pass());
        // A later pool's address loses to an earlier pool's tag.
        assert_eq!(
            name(&l, b"\x03abc/EARLY/", &["1BothAddr"]),
            "Early (tag \"/early/\")"
        );
        // Within a pool, the address is the evidence given.
        assert_eq!(
            name(&l, b"/both/", &["x", "1BothAddr"]),
            "Both (address 1BothAddr)"
        );
        // An earlier pool's address beats a later pool's tag.
        assert_eq!(
            name(&l, b"/both/", &["1EarlyAddr"]),
            "Early (address 1EarlyAddr)"
        );
        // UTF-8 tags match; bech32 addresses compare in lower case.
        assert_eq!(
            name(&l, "x🐟y".as_bytes(), &[] as &[&str]),
            "Fish (tag \"🐟\")"
        );
        assert_eq!(name(&l, b"", &["bc1qfish"]), "Fish (address BC1QFISH)");
        let u = l.attribute(
            b"\x03\x01\x02\x03\x0a/new miner/",
            &["bc1qnew", "bc1qother"],
        );
        assert_eq!(
            u,
            Attribution::Unknown(UnknownMiner {
                tag: "/new miner/".into(),
                payout: Some("bc1qnew".into())
            })
        );
        assert_eq!(u.to_string(), "unknown: /new miner/ / bc1qnew");
    }

    #[test]
    fn one_set_or_each_tag_alone_give_the_same_answers() {
        let set = PoolList::new(list());
        let each = PoolList::build(list(), 1);
        assert!(set.single_pass() && !each.single_pass());
        for (s, a) in [
            (&b"/both/ /early/"[..], ""),
            (b"f2pool", ""),
            (b"nothing", "1BothAddr"),
            (b"nothing", ""),
        ] {
            let addrs: Vec<&str> = Some(a).filter(|a| !a.is_empty()).into_iter().collect();
            assert_eq!(set.attribute(s, &addrs), each.attribute(s, &addrs));
        }
    }

    #[test]
    fn unusable_tags_are_reported_not_fatal() {
        let l = PoolList::new(vec![pool(
            7,
            "Bad",
            &[],
            &[
                "",
                "a*",
                "(unclosed",
                "x{1000}{1000}",
                "(?<=look)behind",
                "ok",
            ],
        )]);
        let reasons: Vec<&str> = l.warnings().iter().map(|w| w.tag.as_str()).collect();
        assert_eq!(
            reasons,
            ["", "a*", "(unclosed", "x{1000}{1000}", "(?<=look)behind"]
        );
        assert!(l.warnings()[0].to_string().contains("pool 7 (Bad)"));
        assert!(
            l.warnings()[3].reason.contains("size limit"),
            "{:?}",
            l.warnings()[3]
        );
        assert_eq!(name(&l, b"OK", &[] as &[&str]), "Bad (tag \"ok\")");
    }

    #[test]
    fn tags_of_coinbases() {
        // Genesis: nBits push, a one-byte push, then the headline.
        let mut genesis = vec![0x04, 0xff, 0xff, 0x00, 0x1d, 0x01, 0x04, 69];
        genesis.extend_from_slice(
            b"The Times 03/Jan/2009 Chancellor on brink of second bailout for banks",
        );
        assert_eq!(
            coinbase_tag(&genesis),
            "The Times 03/Jan/2009 Chancellor on brink of second bailout for banks"
        );
        // Height 2 bytes, 8-byte extranonce that looks like text, the tag:
        // the length byte of a 47-byte push ('/') is not part of the tag.
        let mut s = vec![0x02, 0x90, 0x01, 0x08];
        s.extend_from_slice(b"abcdefgh");
        s.push(47);
        s.extend_from_slice(b"  Kestrel   Hash solo and a much longer text..");
        s.push(b'!');
        assert_eq!(
            coinbase_tag(&s),
            "Kestrel Hash solo and a much longer text..!"
        );
        // Not push-only: raw bytes after the height.
        assert_eq!(
            coinbase_tag(b"\x03\x01\x02\x03\xffhello world\xfe/pool/"),
            "hello world"
        );
        assert_eq!(coinbase_tag(b"\x03abc"), "");
        assert_eq!(coinbase_tag(b""), "");
        assert_eq!(coinbase_tag(b"\x4e\xff\xff\xff\xff"), "");
        let long = [b'x'; 200];
        assert_eq!(coinbase_tag(&[&[0x4c, 200][..], &long].concat()).len(), 80);
    }

    #[test]
    fn unknown_miners_group_by_tag_else_payout() {
        let tagged = UnknownMiner {
            tag: "t".into(),
            payout: Some("a".into()),
        };
        assert_eq!(tagged.group(), UnknownGroup::Tag("t".into()));
        let bare = UnknownMiner {
            tag: String::new(),
            payout: Some("a".into()),
        };
        assert_eq!(bare.group(), UnknownGroup::Payout("a".into()));
        let none = UnknownMiner {
            tag: String::new(),
            payout: None,
        };
        assert_eq!(none.group(), UnknownGroup::Anonymous);
        assert_eq!(
            Attribution::Unknown(none).name(),
            "unknown: (no tag) / (no address)"
        );
    }
}
