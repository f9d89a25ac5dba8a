//! Screening: is this address or deposit exposed to sanctioned, stolen or
//! otherwise risky funds, directly or a few hops back, and by which path?
//!
//! Owns the exposure walk. A deposit (transaction) is traced back from its
//! inputs; an address from the outputs it received (the newest
//! [`Options::max_receipts`]). Value is shared out backwards in proportion
//! to input values (the "haircut" rule: an input worth 30% of a
//! transaction's inputs carries 30% of its value), hop by hop, until a
//! labelled address, entity or transaction is met (the source: the share
//! is attributed to its category and the branch stops, whatever the
//! category, as funds from a service are that service's), a coinbase
//! (newly mined), [`Options::hops`], or a share below
//! [`Options::min_share`]. Every finding keeps the path of its largest
//! share, output by output, from the source to the screened subject, each
//! step marked when its transaction is a CoinJoin.
//!
//! Bounds: at most [`Options::max_txs`] transactions are expanded per
//! screening; what is left is reported as `pruned`, never hidden.
//!
//! Must not: write anything, or read label files.

use crate::book::LabelBook;
use crate::label::{Category, Label, Subject};
use crate::resolve::Resolved;
use crate::severity::{Reach, Rules, Severity};
use chainhound_chain::address;
use chainhound_chain::amount::sum_sats;
use chainhound_entities::coinjoin::Detector;
use chainhound_index::store::{AddrId, OutId, Store, TxNum};
use serde::Serialize;
use std::collections::HashMap;

/// Limits of one screening.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Hops back from the screened deposit (default 4).
    pub hops: u32,
    /// Shares below this (of the screened value) are not followed
    /// (default 0.0001, a hundredth of a percent).
    pub min_share: f64,
    /// Transactions expanded at most (default 50,000).
    pub max_txs: usize,
    /// For an address: the newest receipts screened (default 1,000).
    pub max_receipts: usize,
    /// Whether entity (cluster) labels count for addresses without their
    /// own (default yes).
    pub lift: bool,
    /// Labels below this confidence (0-100) are ignored (default 0: all
    /// count).
    pub min_confidence: u8,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            hops: 4,
            min_share: 1e-4,
            max_txs: 50_000,
            max_receipts: 1_000,
            lift: true,
            min_confidence: 0,
        }
    }
}

/// The result of screening one address or transaction.
#[derive(Debug, Clone, Serialize)]
pub struct Screening {
    /// What was screened, as given.
    pub target: String,
    /// `address` or `tx`.
    pub kind: &'static str,
    /// Whether the index knows it (labels are matched either way).
    pub in_index: bool,
    /// The highest severity of any hit or finding.
    pub severity: Option<Severity>,
    /// Value screened, satoshis: a transaction's inputs, or the receipts of
    /// an address that were screened.
    pub value_sat: u64,
    /// For an address: receipts screened and receipts in all.
    pub receipts: Option<(usize, usize)>,
    /// The entity of an address (with clusters): its id, size and whether
    /// two services' labels sit in it.
    pub entity: Option<EntityNote>,
    /// Labels on the subject itself or its entity.
    pub hits: Vec<Hit>,
    /// Exposure by category, largest share first.
    pub exposure: Vec<CategoryExposure>,
    /// Each labelled source, with its path.
    pub findings: Vec<Finding>,
    /// Share of the value with no label within reach.
    pub unattributed: f64,
    /// Share that comes from coinbases within reach.
    pub newly_mined: f64,
    /// Share not followed: below `min_share`, or past the expansion budget.
    pub pruned: f64,
    /// Whether the expansion budget ran out.
    pub truncated: bool,
    /// Hops searched.
    pub hops: u32,
    /// Transactions expanded.
    pub expanded: usize,
}

/// The entity of a screened address.
#[derive(Debug, Clone, Serialize)]
pub struct EntityNote {
    /// Entity id (root address id).
    pub id: u32,
    /// Addresses in it.
    pub size: u32,
    /// Whether it holds two services' labels (its labels are then not
    /// lifted).
    pub conflicted: bool,
}

/// A label on the screened subject itself.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// `address`, `entity` or `tx`.
    pub via: &'static str,
    /// The label.
    pub label: Label,
    /// Its severity.
    pub severity: Option<Severity>,
    /// The rule that decided (`file:line`).
    pub rule: String,
}

/// Exposure to one category.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryExposure {
    /// The category.
    pub category: Category,
    /// Share of the screened value, 0 to 1.
    pub share: f64,
    /// The same in satoshis.
    pub amount_sat: u64,
    /// Share received straight from a labelled address.
    pub direct_share: f64,
    /// Share from two or more hops back.
    pub indirect_share: f64,
    /// Fewest hops to a source of it.
    pub min_hops: u32,
    /// The highest severity of its findings.
    pub severity: Option<Severity>,
}

/// One labelled source of funds, with the path of its largest share.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The category of the source.
    pub category: Category,
    /// Whether it reached the subject in one hop or more.
    pub reach: Reach,
    /// The source's label (one of its addresses or transactions; all
    /// labels of one record, e.g. every address of one SDN entry, make one
    /// finding).
    pub label: Label,
    /// How the label was matched: `address`, `entity` or `tx`.
    pub via: &'static str,
    /// Share of the screened value from this source.
    pub share: f64,
    /// The same in satoshis.
    pub amount_sat: u64,
    /// Fewest hops from the source.
    pub hops: u32,
    /// Paths found from it.
    pub paths: usize,
    /// Severity.
    pub severity: Option<Severity>,
    /// The rule that decided (`file:line`).
    pub rule: String,
    /// The path of the largest share: from the source's output to the
    /// screened subject.
    pub path: Vec<Step>,
}

/// One output on an evidence path.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Transaction.
    pub txid: String,
    /// Output index (`None` for the screened transaction itself).
    pub vout: Option<u32>,
    /// Address paid (`None` for the screened transaction, or a script
    /// with no address).
    pub address: Option<String>,
    /// Output value (for the screened transaction: its input value),
    /// satoshis.
    pub value_sat: u64,
    /// Block height.
    pub height: u32,
    /// The CoinJoin this transaction is, if it is one (`wasabi2`,
    /// `whirlpool`...): a share through it is proportional, not a proof
    /// that these coins went this way.
    pub coinjoin: Option<&'static str>,
}

const NO_NODE: u32 = u32::MAX;

/// A transaction on the walk, with the share of the screened value it
/// carries and the link of its largest contribution towards the subject.
struct Node {
    tx: u32,
    share: f64,
    best: f64,
    parent: u32,
    /// This transaction's output spent by `parent` (or received by the
    /// screened address); `None` for a screened transaction.
    link: Option<OutId>,
}

struct Acc {
    entry: u32,
    via: &'static str,
    share: f64,
    hops: u32,
    paths: usize,
    best: f64,
    source: OutId,
    node: u32,
}

/// Screens addresses and transactions against a label book.
pub struct Screener<'a> {
    store: Option<&'a Store>,
    book: &'a LabelBook,
    resolved: &'a Resolved,
    rules: &'a Rules,
    /// Limits.
    pub opts: Options,
}

impl<'a> Screener<'a> {
    /// A screener over one index (or none: labels only) and book.
    pub fn new(
        store: Option<&'a Store>,
        book: &'a LabelBook,
        resolved: &'a Resolved,
        rules: &'a Rules,
        opts: Options,
    ) -> Screener<'a> {
        Screener {
            store,
            book,
            resolved,
            rules,
            opts,
        }
    }

    /// Screens a txid or an address string; `Err` when it is neither.
    pub fn screen(&self, target: &str) -> Result<Screening, String> {
        let t = target.trim();
        // Normalised as labels are (bech32 in upper case, as QR codes
        // write it, is the same address).
        let norm = Subject::address(t);
        let addr = norm.id();
        let Some(store) = self.store else {
            if Subject::tx(t).is_some() {
                return Ok(self.screen_tx(t, None));
            }
            let valid = chainhound_chain::Network::ALL
                .iter()
                .any(|&n| address::decode(addr, n).is_ok());
            if !valid && self.book.lookup(addr).is_empty() {
                return Err(format!(
                    "{t:?} is neither a txid nor a Bitcoin address, and no label names it"
                ));
            }
            return Ok(self.screen_address(addr, None));
        };
        // A txid, `0x` or not (as labels take it).
        if let Some(Subject::Tx(id)) = Subject::tx(t) {
            if let Ok(txid) = id.parse::<chainhound_chain::Txid>() {
                return Ok(self.screen_tx(&id, store.find_tx(&txid)));
            }
        }
        match address::decode(addr, store.network()) {
            Ok(k) => Ok(self.screen_address(addr, store.find_addr(&k))),
            // Not an address of this chain: its labels (other chains,
            // other networks) still count.
            Err(e) if self.book.lookup(addr).is_empty() => Err(format!(
                "{t:?} is neither a txid nor an address of this index's network ({e})"
            )),
            Err(_) => Ok(self.screen_address(addr, None)),
        }
    }

    fn empty(&self, target: &str, kind: &'static str, in_index: bool) -> Screening {
        Screening {
            target: target.to_string(),
            kind,
            in_index,
            severity: None,
            value_sat: 0,
            receipts: None,
            entity: None,
            hits: Vec::new(),
            exposure: Vec::new(),
            findings: Vec::new(),
            unattributed: 0.0,
            newly_mined: 0.0,
            pruned: 0.0,
            truncated: false,
            hops: self.opts.hops,
            expanded: 0,
        }
    }

    fn hit(&self, entry: u32, via: &'static str, value: u64) -> Hit {
        let label = self.book.label(entry);
        let (severity, rule) = self.judge(label.category, Reach::Hit, 1.0, value);
        Hit {
            via,
            label,
            severity,
            rule,
        }
    }

    fn judge(&self, c: Category, r: Reach, share: f64, amount: u64) -> (Option<Severity>, String) {
        match self.rules.judge(c, r, share, amount) {
            Some((s, rule)) => (s, format!("{}:{}", self.rules.origin, rule.line)),
            None => (None, String::new()),
        }
    }

    /// Screens a transaction (`t`: its number, if indexed).
    pub fn screen_tx(&self, target: &str, t: Option<TxNum>) -> Screening {
        let mut s = self.empty(target, "tx", t.is_some());
        let indexed = self.store.zip(t);
        // A coinbase has no prevouts: its outputs are the value screened.
        let value: u64 = indexed
            .map(|(st, t)| {
                let ins = sum_sats(
                    st.tx_inputs(t)
                        .filter_map(|i| st.in_prevout(i).ok().flatten())
                        .map(|o| st.out_value(o)),
                );
                if ins > 0 {
                    ins
                } else {
                    sum_sats(st.tx_outputs(t).map(|o| st.out_value(OutId(o))))
                }
            })
            .unwrap_or(0);
        s.value_sat = value;
        for &l in self.trusted(&self.book.lookup(target)) {
            s.hits.push(self.hit(l, "tx", value));
        }
        if let Some((st, t)) = indexed {
            let roots = vec![Node {
                tx: t.0,
                share: 1.0,
                best: 1.0,
                parent: NO_NODE,
                link: None,
            }];
            self.walk(st, &mut s, roots, None);
        }
        self.finish(s)
    }

    /// Screens an address (`a`: its id, if indexed).
    pub fn screen_address(&self, target: &str, a: Option<AddrId>) -> Screening {
        let mut s = self.empty(target, "address", a.is_some());
        // Labels on the address, then on its entity; judged once the
        // screened value is known.
        let mut hits: Vec<(u32, &'static str)> = self
            .trusted(&self.book.lookup(target))
            .map(|&l| (l, "address"))
            .collect();
        let Some((st, a)) = self.store.zip(a) else {
            s.hits = hits
                .into_iter()
                .map(|(l, via)| self.hit(l, via, 0))
                .collect();
            return self.finish(s);
        };
        let r = self.resolved;
        if r.has_clusters() {
            s.entity = Some(EntityNote {
                id: r.entity_of(a.0),
                size: r.entity_size(a.0),
                conflicted: r.is_conflicted(a.0),
            });
            if self.opts.lift {
                let rec = |l: u32| self.book.entries()[l as usize].record;
                let own: Vec<u32> = r.of_addr(a.0).iter().map(|&l| rec(l)).collect();
                for &l in self.trusted(r.lifted(a.0)) {
                    if !own.contains(&rec(l)) {
                        hits.push((l, "entity"));
                    }
                }
            }
        }
        // Receipts, newest first.
        let mut receipts = Vec::new();
        let mut total = 0usize;
        let mut cur = st.addr_head(a);
        while let Some(o) = cur {
            total += 1;
            if receipts.len() < self.opts.max_receipts {
                receipts.push(o);
            }
            cur = st.out_prev(o);
        }
        s.receipts = Some((receipts.len(), total));
        let value = sum_sats(receipts.iter().map(|&o| st.out_value(o)));
        s.value_sat = value;
        s.hits = hits
            .into_iter()
            .map(|(l, via)| self.hit(l, via, value))
            .collect();
        if value > 0 {
            let mut roots: Vec<Node> = Vec::new();
            let mut at: HashMap<u32, usize> = HashMap::new();
            for &o in &receipts {
                let share = st.out_value(o) as f64 / value as f64;
                let tx = st.out_tx(o).0;
                let i = *at.entry(tx).or_insert_with(|| {
                    roots.push(Node {
                        tx,
                        share: 0.0,
                        best: -1.0,
                        parent: NO_NODE,
                        link: Some(o),
                    });
                    roots.len() - 1
                });
                let n = &mut roots[i];
                n.share += share;
                if share > n.best {
                    n.best = share;
                    n.link = Some(o);
                }
            }
            self.walk(st, &mut s, roots, Some(a.0));
        }
        self.finish(s)
    }

    /// The labels of `ls` at or above the confidence floor.
    fn trusted<'s>(&'s self, ls: &'s [u32]) -> impl Iterator<Item = &'s u32> + 's {
        ls.iter()
            .filter(move |&&l| self.book.record_of(l).confidence.0 >= self.opts.min_confidence)
    }

    /// The label a funding output's address (or its transaction, or the
    /// address's entity) carries: the riskiest, then the most trusted.
    fn source_label(&self, a: Option<u32>, tx: u32) -> Option<(u32, &'static str)> {
        let (r, floor) = (self.resolved, self.opts.min_confidence);
        let best = |ls: &[u32]| Resolved::best(self.book, ls, floor, |_| true);
        let own = a.map(|a| r.of_addr(a)).unwrap_or(&[]);
        match (best(own), best(r.of_tx(tx))) {
            (Some(x), Some(y)) => {
                let (cx, cy) = (
                    self.book.record_of(x).category,
                    self.book.record_of(y).category,
                );
                Some(if cy < cx { (y, "tx") } else { (x, "address") })
            }
            (Some(x), None) => Some((x, "address")),
            (None, Some(y)) => Some((y, "tx")),
            (None, None) => {
                a.and_then(|a| r.address_label(self.book, a, floor, self.opts.lift, |_| true))
            }
        }
    }

    fn walk(&self, st: &Store, s: &mut Screening, roots: Vec<Node>, own: Option<u32>) {
        let r = self.resolved;
        let own_entity = own.map(|a| r.entity_of(a));
        let is_own = |a: u32| {
            own == Some(a)
                || (own_entity.is_some()
                    && !r.is_conflicted(a)
                    && r.entity_size(a) > 1
                    && Some(r.entity_of(a)) == own_entity)
        };
        let mut arena = roots;
        let mut accs: HashMap<(u32, bool), Acc> = HashMap::new();
        // An address's receipts: a labelled paying transaction (a heist's
        // own outputs) is the source itself, one hop away.
        let mut frontier: Vec<u32> = Vec::new();
        for (i, n) in arena.iter().enumerate() {
            let tx_label = match (own, n.link) {
                (Some(_), Some(o)) => self
                    .trusted(r.of_tx(n.tx))
                    .copied()
                    .min_by_key(|&l| self.book.record_of(l).category)
                    .map(|l| (l, o)),
                _ => None,
            };
            match tx_label {
                Some((l, o)) => {
                    let rec = self.book.entries()[l as usize].record;
                    let acc = accs.entry((rec, true)).or_insert(Acc {
                        entry: l,
                        via: "tx",
                        share: 0.0,
                        hops: 1,
                        paths: 0,
                        best: -1.0,
                        source: o,
                        node: NO_NODE,
                    });
                    acc.share += n.share;
                    acc.paths += 1;
                    if n.share > acc.best {
                        acc.best = n.share;
                        acc.source = o;
                    }
                }
                None if self.opts.hops == 0 => s.unattributed += n.share,
                None => frontier.push(i as u32),
            }
        }
        let mut budget = self.opts.max_txs;
        let mut prevs: Vec<(OutId, u64)> = Vec::new();
        for hop in 1..=self.opts.hops {
            let mut next: HashMap<u32, u32> = HashMap::new();
            let mut order: Vec<u32> = Vec::new();
            for &ni in &frontier {
                let (t, share) = (arena[ni as usize].tx, arena[ni as usize].share);
                if budget == 0 {
                    s.pruned += share;
                    s.truncated = true;
                    continue;
                }
                budget -= 1;
                s.expanded += 1;
                prevs.clear();
                let mut coinbase = false;
                for i in st.tx_inputs(TxNum(t)) {
                    match st.in_prevout(i) {
                        Ok(Some(o)) => prevs.push((o, st.out_value(o))),
                        Ok(None) => coinbase = true,
                        // A prevout missing at ingest: no value to share.
                        Err(()) => {}
                    }
                }
                let total: u64 = sum_sats(prevs.iter().map(|p| p.1));
                if coinbase || total == 0 {
                    if coinbase {
                        s.newly_mined += share;
                    } else {
                        s.unattributed += share;
                    }
                    continue;
                }
                for &(o, v) in &prevs {
                    let frac = share * v as f64 / total as f64;
                    let a = st.out_addr(o).map(|a| a.0);
                    let p = st.out_tx(o).0;
                    let found = match a {
                        Some(a) if is_own(a) => None,
                        _ => self.source_label(a, p),
                    };
                    if let Some((l, via)) = found {
                        let rec = self.book.entries()[l as usize].record;
                        let acc = accs.entry((rec, hop == 1)).or_insert(Acc {
                            entry: l,
                            via,
                            share: 0.0,
                            hops: hop,
                            paths: 0,
                            best: -1.0,
                            source: o,
                            node: ni,
                        });
                        acc.share += frac;
                        acc.paths += 1;
                        acc.hops = acc.hops.min(hop);
                        if frac > acc.best {
                            acc.best = frac;
                            acc.entry = l;
                            acc.via = via;
                            acc.source = o;
                            acc.node = ni;
                        }
                    } else if frac < self.opts.min_share {
                        s.pruned += frac;
                    } else if hop == self.opts.hops {
                        s.unattributed += frac;
                    } else {
                        let idx = *next.entry(p).or_insert_with(|| {
                            arena.push(Node {
                                tx: p,
                                share: 0.0,
                                best: -1.0,
                                parent: ni,
                                link: Some(o),
                            });
                            order.push(arena.len() as u32 - 1);
                            arena.len() as u32 - 1
                        });
                        let n = &mut arena[idx as usize];
                        n.share += frac;
                        if frac > n.best {
                            n.best = frac;
                            n.parent = ni;
                            n.link = Some(o);
                        }
                    }
                }
            }
            frontier = order;
            if frontier.is_empty() {
                break;
            }
        }
        let value = s.value_sat;
        for acc in accs.into_values() {
            let label = self.book.label(acc.entry);
            let reach = if acc.hops == 1 {
                Reach::Direct
            } else {
                Reach::Indirect
            };
            let amount = (acc.share * value as f64).round() as u64;
            let (severity, rule) = self.judge(label.category, reach, acc.share, amount);
            s.findings.push(Finding {
                category: label.category,
                reach,
                label,
                via: acc.via,
                share: acc.share,
                amount_sat: amount,
                hops: acc.hops,
                paths: acc.paths,
                severity,
                rule,
                path: path(st, &arena, acc.source, acc.node, s.value_sat),
            });
        }
    }

    fn finish(&self, mut s: Screening) -> Screening {
        s.findings.sort_by(|a, b| {
            (b.severity, b.share)
                .partial_cmp(&(a.severity, a.share))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let mut by_cat: HashMap<Category, CategoryExposure> = HashMap::new();
        for f in &s.findings {
            let e = by_cat.entry(f.category).or_insert(CategoryExposure {
                category: f.category,
                share: 0.0,
                amount_sat: 0,
                direct_share: 0.0,
                indirect_share: 0.0,
                min_hops: f.hops,
                severity: None,
            });
            e.share += f.share;
            e.amount_sat = e.amount_sat.saturating_add(f.amount_sat);
            match f.reach {
                Reach::Direct => e.direct_share += f.share,
                _ => e.indirect_share += f.share,
            }
            e.min_hops = e.min_hops.min(f.hops);
            e.severity = e.severity.max(f.severity);
        }
        let mut exposure: Vec<CategoryExposure> = by_cat.into_values().collect();
        exposure.sort_by(|a, b| {
            b.share
                .partial_cmp(&a.share)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.category.cmp(&b.category))
        });
        s.exposure = exposure;
        s.severity = s
            .hits
            .iter()
            .map(|h| h.severity)
            .chain(s.findings.iter().map(|f| f.severity))
            .max()
            .flatten();
        s
    }
}

fn step(st: &Store, o: OutId) -> Step {
    let t = st.out_tx(o);
    let coinjoin = Detector::new(Default::default())
        .classify_tx(st, t)
        .map(|c| c.kind.name());
    Step {
        coinjoin,
        txid: st.txid(t).to_string(),
        vout: Some(st.out_vout(t, o)),
        address: st
            .out_addr(o)
            .map(|a| address::encode(&st.addr_key(a), st.network())),
        value_sat: st.out_value(o),
        height: st.tx_height(t),
    }
}

/// The evidence path from a source output through the walk's best links to
/// the screened subject.
fn path(st: &Store, arena: &[Node], source: OutId, mut node: u32, value: u64) -> Vec<Step> {
    let mut path = vec![step(st, source)];
    while node != NO_NODE {
        let n = &arena[node as usize];
        path.push(match n.link {
            Some(o) => step(st, o),
            None => Step {
                coinjoin: Detector::new(Default::default())
                    .classify_tx(st, TxNum(n.tx))
                    .map(|c| c.kind.name()),
                txid: st.txid(TxNum(n.tx)).to_string(),
                vout: None,
                address: None,
                value_sat: value,
                height: st.tx_height(TxNum(n.tx)),
            },
        });
        node = n.parent;
    }
    path
}
