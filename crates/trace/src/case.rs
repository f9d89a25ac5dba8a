//! Saved cases: a trace's seeds and options kept under `INDEX/cases/`, and
//! re-checked after each ingest to report new movements of the traced
//! coins (a coin that was unspent moved, value arrived at an entity, a new
//! coin to freeze).
//!
//! Owns the case files (`INDEX/cases/NAME.json`, written to a temporary
//! file and renamed) and the comparison of two traces of one case.
//!
//! Must not: write anything else under the index.

use crate::walk::{Options, Trace};
use chainhound_index::store::{OutId, Store};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A saved case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Case {
    /// Its name (the file's stem).
    pub name: String,
    /// The seeds as given (txids, outpoints, addresses).
    pub seeds: Vec<String>,
    /// The trace's options.
    pub options: Options,
    /// Tip height when saved.
    pub created_tip: u32,
    /// Tip height when last checked.
    pub checked_tip: u32,
    /// Coins (`txid:vout`) that were unspent and tainted at the last check.
    pub unspent: BTreeMap<String, Held>,
    /// Coins that had arrived at entities, with the entity's name.
    pub arrived: BTreeMap<String, String>,
}

/// An unspent tainted coin at the last check.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Held {
    /// Its address.
    pub address: Option<String>,
    /// Tainted satoshis in it.
    pub tainted_sat: u64,
}

/// A change since the last check.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Movement {
    /// `moved` (an unspent tainted coin was spent), `arrived` (tainted
    /// value reached an entity) or `unspent` (a new tainted coin at rest).
    pub kind: String,
    /// The coin, `txid:vout`.
    pub coin: String,
    /// Its address.
    pub address: Option<String>,
    /// Tainted satoshis in it.
    pub tainted_sat: u64,
    /// Height of the block that made it (or, for `moved`, spent it).
    pub height: u32,
    /// `moved`: the spending txid; `arrived`: the entity.
    pub detail: String,
}

/// Where the cases of an index live.
pub fn cases_dir(index: &Path) -> PathBuf {
    index.join("cases")
}

/// Checks a case name: letters, digits, `-`, `_` and `.`, not leading.
pub fn valid_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "case name '{name}': use letters, digits, '-', '_' and '.' (at most 100, not starting with '.')"
        ))
    }
}

impl Case {
    /// A new case from a first trace.
    pub fn new(name: &str, seeds: Vec<String>, options: Options, t: &Trace) -> Case {
        let mut c = Case {
            name: name.to_string(),
            seeds,
            options,
            created_tip: t.tip,
            checked_tip: t.tip,
            unspent: BTreeMap::new(),
            arrived: BTreeMap::new(),
        };
        c.absorb(t);
        c
    }

    fn absorb(&mut self, t: &Trace) {
        self.checked_tip = t.tip;
        self.unspent = t
            .holdings
            .iter()
            .filter(|h| h.why == "unspent")
            .map(|h| {
                (
                    format!("{}:{}", h.coin.txid, h.coin.vout),
                    Held {
                        address: h.coin.address.clone(),
                        tainted_sat: h.coin.tainted_sat,
                    },
                )
            })
            .collect();
        self.arrived = t
            .entities
            .iter()
            .flat_map(|e| {
                e.addresses.iter().flat_map(move |a| {
                    a.coins
                        .iter()
                        .map(move |c| (format!("{}:{}", c.txid, c.vout), e.name.clone()))
                })
            })
            .collect();
    }

    /// Compares a new trace of this case with the last check, records it,
    /// and returns what moved.
    pub fn check(&mut self, store: &Store, t: &Trace) -> Vec<Movement> {
        let mut out = Vec::new();
        let now_unspent: BTreeSet<String> = t
            .holdings
            .iter()
            .filter(|h| h.why == "unspent")
            .map(|h| format!("{}:{}", h.coin.txid, h.coin.vout))
            .collect();
        for (coin, held) in self
            .unspent
            .iter()
            .filter(|(c, _)| !now_unspent.contains(*c))
        {
            let spent = crate::seed::coins(store, coin)
                .ok()
                .and_then(|v| v.first().copied())
                .and_then(|o: OutId| store.out_spender(o));
            if let Some((t2, _)) = spent {
                out.push(Movement {
                    kind: "moved".into(),
                    coin: coin.clone(),
                    address: held.address.clone(),
                    tainted_sat: held.tainted_sat,
                    height: store.tx_height(t2),
                    detail: store.txid(t2).to_string(),
                });
            }
        }
        for e in &t.entities {
            for a in &e.addresses {
                for c in &a.coins {
                    let coin = format!("{}:{}", c.txid, c.vout);
                    if !self.arrived.contains_key(&coin) {
                        out.push(Movement {
                            kind: "arrived".into(),
                            coin,
                            address: c.address.clone(),
                            tainted_sat: c.tainted_sat,
                            height: c.height,
                            detail: e.name.clone(),
                        });
                    }
                }
            }
        }
        for h in t.holdings.iter().filter(|h| h.why == "unspent") {
            let coin = format!("{}:{}", h.coin.txid, h.coin.vout);
            if !self.unspent.contains_key(&coin) {
                out.push(Movement {
                    kind: "unspent".into(),
                    coin,
                    address: h.coin.address.clone(),
                    tainted_sat: h.coin.tainted_sat,
                    height: h.coin.height,
                    detail: String::new(),
                });
            }
        }
        self.absorb(t);
        out
    }

    /// Writes the case atomically.
    pub fn save(&self, index: &Path) -> io::Result<()> {
        valid_name(&self.name).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let dir = cases_dir(index);
        fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{}.json", self.name));
        let tmp = dir.join(format!(".{}.json.tmp", self.name));
        let mut f = fs::File::create(&tmp)?;
        f.write_all(serde_json::to_string_pretty(self)?.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, &path)
    }

    /// Reads a case by name.
    pub fn load(index: &Path, name: &str) -> io::Result<Case> {
        valid_name(name).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let path = cases_dir(index).join(format!("{name}.json"));
        let bytes = fs::read(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let mut case: Case = serde_json::from_slice(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: line {}: {e}", path.display(), e.line()),
            )
        })?;
        // The file's name is the case's: a copied file is its own case.
        case.name = name.to_string();
        Ok(case)
    }

    /// Names of the saved cases, sorted.
    pub fn list(index: &Path) -> io::Result<Vec<String>> {
        let dir = cases_dir(index);
        if !dir.exists() {
            return Ok(Vec::new());
        }
        let mut v = Vec::new();
        for e in fs::read_dir(dir)? {
            let name = e?.file_name().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".json") {
                if valid_name(stem).is_ok() {
                    v.push(stem.to_string());
                }
            }
        }
        v.sort();
        Ok(v)
    }
}
