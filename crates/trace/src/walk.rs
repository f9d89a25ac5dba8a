//! The trace: taint moved output by output through the index, forward
//! (where did it go) or backward (where did it come from), in chain order.
//!
//! Owns [`Tracer`] and the [`Trace`] it returns. Taint sits on outputs
//! (coins). Forward, transactions are taken in ascending order, so a
//! transaction is expanded once all its tainted inputs are known; backward,
//! in descending order, so all its tainted outputs are. Each expansion maps
//! the taint with [`crate::taint::map`] and judges every tainted coin it
//! makes:
//!
//! - **labelled service** (a category of [`Options::stop_at`], on the
//!   address or, lifted, on its entity): an arrival (forward: a cash-out;
//!   backward: the funds' source); not followed;
//! - **dust**: fewer than [`Options::dust_sat`] tainted satoshis: dropped,
//!   counted;
//! - **hop limit**: [`Options::hops`] transactions from the seed; a peel
//!   chain's continuing output (two outputs, the larger keeping at least
//!   [`Options::peel_share`] of the input) does not count a hop;
//! - **unspent** (forward): what to freeze;
//! - **time bound**: forward, a spend in a block above the bound; backward,
//!   a coin made below it;
//! - **CoinJoin** (the entities crate's detectors): marked, then stopped or
//!   shared out proportionally ([`CoinJoinMode`]).
//!
//! At most [`Options::max_txs`] transactions are expanded; taint left
//! waiting is reported as pruned, never hidden. Labelled addresses of
//! other categories are passed through and listed as marks.
//!
//! Must not: write anything, or read label files (it takes a resolved book).

use crate::taint::{self, Policy, Seg};
use chainhound_chain::address;
use chainhound_chain::amount::sum_sats;
use chainhound_entities::coinjoin::{CoinJoinKind, Detector};
use chainhound_index::store::{AddrId, OutId, Store, TxNum};
use chainhound_intel::book::LabelBook;
use chainhound_intel::label::{Category, Label};
use chainhound_intel::resolve::Resolved;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

const NO_NODE: u32 = u32::MAX;

/// A multiply-rotate hasher for the walk's maps of dense integer ids
/// (coins and transactions numbered by the index, not chosen by anyone):
/// several times faster than SipHash, which the walk spent a third of its
/// time in.
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(x as u64);
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<IdHasher>>;
type FastSet<K> = HashSet<K, std::hash::BuildHasherDefault<IdHasher>>;
/// The label entry of an arrival at a coinbase (backward).
const NEWLY_MINED: u32 = u32::MAX;

/// Which way to trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the seeds to where the coins went.
    Forward,
    /// From the seeds to where the coins came from.
    Backward,
}

impl Direction {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Forward => "forward",
            Direction::Backward => "backward",
        }
    }
}

/// What to do at a CoinJoin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CoinJoinMode {
    /// Stop: the taint entering it is reported, not followed.
    Stop,
    /// Go on with the proportional share: every coin on the other side
    /// carries the tainted share of the CoinJoin (as haircut does).
    Share,
    /// Go on under the trace's own policy, as through any transaction
    /// (FIFO then follows the CoinJoin's order of inputs and outputs).
    Follow,
}

impl CoinJoinMode {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            CoinJoinMode::Stop => "stop",
            CoinJoinMode::Share => "share",
            CoinJoinMode::Follow => "follow",
        }
    }
}

/// The categories a trace stops at by default: services, whose coins are
/// their customers' from there on.
pub const SERVICES: [Category; 6] = [
    Category::Exchange,
    Category::Mixer,
    Category::Gambling,
    Category::Service,
    Category::Darknet,
    Category::Miner,
];

/// Limits and rules of one trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Options {
    /// The taint policy.
    pub policy: Policy,
    /// Forward or backward.
    pub direction: Direction,
    /// Transactions from the seeds at most (default 10).
    pub hops: u32,
    /// Coins with fewer tainted satoshis are dropped (default 1,000).
    pub dust_sat: u64,
    /// Height bound: forward, spends above it are not followed; backward,
    /// coins made below it are not followed.
    pub bound: Option<u32>,
    /// At a CoinJoin (default: share).
    pub coinjoin: CoinJoinMode,
    /// Peel chains' continuing outputs do not count a hop (default on).
    pub peel: bool,
    /// A peel's continuing output keeps at least this share of the input
    /// value (default 0.8).
    pub peel_share: f64,
    /// Transactions expanded at most (default 1,000,000).
    pub max_txs: usize,
    /// Categories whose labelled addresses end a branch (default
    /// [`SERVICES`]).
    pub stop_at: Vec<Category>,
    /// Use labels lifted from an address's entity (default on).
    pub lift: bool,
    /// Ignore labels below this confidence (0-100).
    pub min_confidence: u8,
    /// Coins listed at most in [`Trace::holdings`] (the totals count all).
    pub max_listed: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            policy: Policy::Fifo,
            direction: Direction::Forward,
            hops: 10,
            dust_sat: 1_000,
            bound: None,
            coinjoin: CoinJoinMode::Share,
            peel: true,
            peel_share: 0.8,
            max_txs: 1_000_000,
            stop_at: SERVICES.to_vec(),
            lift: true,
            min_confidence: 0,
            max_listed: 10_000,
        }
    }
}

/// One coin of the trace, as evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Transaction that made the coin.
    pub txid: String,
    /// Its output index.
    pub vout: u32,
    /// Address paid (none for OP_RETURN and non-standard scripts).
    pub address: Option<String>,
    /// Value of the coin.
    pub value_sat: u64,
    /// Tainted satoshis in it.
    pub tainted_sat: u64,
    /// Height of the block that made it.
    pub height: u32,
    /// That block's time (Unix seconds).
    pub time: u32,
    /// Transactions from the seed (peel continuations not counted).
    pub hop: u32,
    /// The CoinJoin kind when the transaction that made it is one.
    pub coinjoin: Option<String>,
    /// Whether its taint passed a CoinJoin on the way from the seed.
    #[serde(default)]
    pub after_coinjoin: bool,
}

/// Where traced value arrived: a labelled entity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntityFlow {
    /// The label's entity name.
    pub name: String,
    /// Its category.
    pub category: Category,
    /// The label that named it (origin `file:line`, source, confidence).
    pub label: Label,
    /// `address` (labelled itself) or `entity` (lifted from its cluster).
    pub via: String,
    /// Tainted satoshis that arrived.
    pub amount_sat: u64,
    /// Coins that arrived.
    pub outputs: usize,
    /// First arrival: height and time.
    pub first_height: u32,
    /// First arrival's block time.
    pub first_time: u32,
    /// Fewest hops from the seed.
    pub min_hops: u32,
    /// Whether some of it passed a CoinJoin (shared out: less certain).
    pub via_coinjoin: bool,
    /// Addresses it arrived at (deposit addresses forward), largest first.
    pub addresses: Vec<Arrival>,
    /// The evidence path of its largest arrival, in the money's order.
    pub path: Vec<Step>,
}

/// Value that arrived at one address of an entity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Arrival {
    /// The address.
    pub address: String,
    /// Tainted satoshis.
    pub amount_sat: u64,
    /// Whether some of it came through a CoinJoin (then asserted because
    /// value arrived at this address without one too).
    pub after_coinjoin: bool,
    /// The coins, each with its taint.
    pub coins: Vec<Step>,
    /// Addresses of the tainted coins the arriving transactions spent
    /// (distinct, at most [`OTHER_DEPOSITS`]): when a service sweeps its
    /// deposit addresses into a labelled wallet, these are the deposit
    /// addresses, which name the account.
    pub from_addresses: Vec<String>,
    /// Other coins this address received that the trace did not reach
    /// (at most [`OTHER_DEPOSITS`], newest first): at an exchange, the same
    /// account's other deposits; leads, not traced value.
    pub other_deposits: Vec<Step>,
}

/// Other deposits listed per arrival address at most.
pub const OTHER_DEPOSITS: usize = 100;

/// A tainted coin the trace ended on without a label.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holding {
    /// The coin.
    #[serde(flatten)]
    pub coin: Step,
    /// `unspent` (forward: freeze it), `hop-limit`, `time-bound` or `pruned`.
    pub why: String,
}

/// A CoinJoin the taint met.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CoinJoinMark {
    /// Its txid.
    pub txid: String,
    /// Detector's kind.
    pub kind: String,
    /// Height.
    pub height: u32,
    /// Tainted satoshis entering it.
    pub tainted_sat: u64,
    /// `stopped` or `shared`.
    pub action: String,
}

/// A labelled address of a category the trace does not stop at, passed
/// through (a sanctioned or stolen-funds address on the way).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mark {
    /// The coin.
    pub coin: Step,
    /// Its label.
    pub label: Label,
}

/// Where all the seeded value ended, in satoshis; these sum to the seeds'
/// value (up to rounding; poison counts whole coins and exceeds it).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Totals {
    /// At labelled entities (asserted arrivals).
    pub entities_sat: u64,
    /// At labelled entities, after a CoinJoin, uncorroborated.
    pub possible_sat: u64,
    /// In unspent coins (forward).
    pub unspent_sat: u64,
    /// In coins at the hop limit.
    pub hop_limit_sat: u64,
    /// In coins past the time bound.
    pub time_bound_sat: u64,
    /// Dropped as dust.
    pub dust_sat: u64,
    /// Paid as fees (forward).
    pub fees_sat: u64,
    /// Entering CoinJoins where the trace stopped.
    pub coinjoin_stopped_sat: u64,
    /// Newly mined (backward: coinbases).
    pub newly_mined_sat: u64,
    /// Left waiting when the transaction budget ran out.
    pub pruned_sat: u64,
}

/// A node of the flow graph: a transaction, an entity or a coin at rest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GraphNode {
    /// Unique id (`tx:<txid>`, `entity:<name>`, `coin:<txid>:<vout>`).
    pub id: String,
    /// `seed`, `tx`, `coinjoin`, `entity`, `possible` (an entity reached
    /// only after a CoinJoin, uncorroborated), `unspent`, `hop-limit`,
    /// `time-bound`, `pruned` or `coinbase`.
    pub kind: String,
    /// What to print on it.
    pub label: String,
    /// Height (transactions and coins).
    pub height: Option<u32>,
    /// Hops from the seed.
    pub hop: u32,
}

/// An edge of the flow graph: one tainted coin from its maker to its
/// spender (or resting place).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GraphEdge {
    /// Node the value leaves.
    pub from: String,
    /// Node it enters.
    pub to: String,
    /// The coin, `txid:vout`.
    pub coin: String,
    /// Its address.
    pub address: Option<String>,
    /// Tainted satoshis.
    pub tainted_sat: u64,
}

/// The flow graph: every tainted coin when there are at most
/// [`GRAPH_WHOLE`]; else the union of the evidence paths of the largest
/// arrivals and holdings (at most [`GRAPH_PATHS`] paths), so that it stays
/// readable; the tables list everything.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Graph {
    /// Nodes.
    pub nodes: Vec<GraphNode>,
    /// Edges.
    pub edges: Vec<GraphEdge>,
    /// Whether every tainted coin of the trace is in it.
    pub complete: bool,
}

/// Paths drawn in the flow graph at most.
pub const GRAPH_PATHS: usize = 60;

/// Traces of at most this many tainted coins are drawn whole.
pub const GRAPH_WHOLE: usize = 300;

/// A trace's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trace {
    /// `forward` or `backward`.
    pub direction: Direction,
    /// The policy.
    pub policy: Policy,
    /// What was done at CoinJoins.
    pub coinjoin: CoinJoinMode,
    /// Hop limit.
    pub hops: u32,
    /// Dust floor.
    pub dust_sat: u64,
    /// Height bound, when given.
    pub bound: Option<u32>,
    /// Height of the index's tip when traced.
    pub tip: u32,
    /// The seed coins.
    pub seeds: Vec<Step>,
    /// Their value, less any of it that one seed passed to another (a seed
    /// that descends from another is counted once).
    pub seeded_sat: u64,
    /// Entities the value reached, largest first: arrivals without a
    /// CoinJoin on the way, and those after one at an address that also
    /// received value without one (the same account).
    pub entities: Vec<EntityFlow>,
    /// Arrivals after a CoinJoin that nothing corroborates: possible, not
    /// asserted (a CoinJoin breaks the link between its inputs and
    /// outputs).
    pub possible: Vec<EntityFlow>,
    /// Coins the trace ended on without a label, largest first (unspent
    /// ones are what to freeze).
    pub holdings: Vec<Holding>,
    /// Holdings not listed (beyond [`Options::max_listed`]).
    pub holdings_unlisted: usize,
    /// CoinJoins met.
    pub coinjoins: Vec<CoinJoinMark>,
    /// Labelled addresses passed through.
    pub marks: Vec<Mark>,
    /// Where the value ended.
    pub totals: Totals,
    /// The flow graph.
    pub graph: Graph,
    /// Transactions expanded.
    pub txs_expanded: usize,
    /// Peel-chain steps that did not count a hop.
    pub peel_steps: usize,
    /// Whether the budget ran out.
    pub truncated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Follow,
    Consumed,
    Arrived(u32, bool),
    Unspent,
    HopLimit,
    TimeBound,
}

#[derive(Debug)]
struct Node {
    out: OutId,
    segs: Vec<Seg>,
    amount: f64,
    hop: u32,
    parent: u32,
    /// The CoinJoin kind of the transaction that made it, plus one.
    cj: u8,
    via_cj: bool,
    state: State,
}

/// Traces over one index and (optionally) a resolved label book.
pub struct Tracer<'a> {
    store: &'a Store,
    labels: Option<(&'a LabelBook, &'a Resolved)>,
    /// Rules and limits.
    pub opts: Options,
}

/// Chain order: ascending forward, descending backward.
enum Queue {
    Up(BinaryHeap<Reverse<u32>>),
    Down(BinaryHeap<u32>),
}

impl Queue {
    fn push(&mut self, t: u32) {
        match self {
            Queue::Up(h) => h.push(Reverse(t)),
            Queue::Down(h) => h.push(t),
        }
    }
    fn pop(&mut self) -> Option<u32> {
        match self {
            Queue::Up(h) => h.pop().map(|r| r.0),
            Queue::Down(h) => h.pop(),
        }
    }
}

struct Walk<'t, 'a> {
    tr: &'t Tracer<'a>,
    nodes: Vec<Node>,
    at: FastMap<u64, u32>,
    queued: FastSet<u32>,
    /// CoinJoin kind (plus one; 0: none) of every transaction classified.
    cj_seen: FastMap<u32, u8>,
    queue: Queue,
    totals: [f64; 10],
    coinjoins: Vec<CoinJoinMark>,
    marks: Vec<Mark>,
    detector: Detector,
    peel_steps: usize,
    /// Taint that reached a coin that is itself a seed.
    overlap: f64,
}

const T_ENT: usize = 0;
const T_UNSPENT: usize = 1;
const T_HOP: usize = 2;
const T_TIME: usize = 3;
const T_DUST: usize = 4;
const T_FEES: usize = 5;
const T_CJ: usize = 6;
const T_MINED: usize = 7;
const T_PRUNED: usize = 8;
const T_POSSIBLE: usize = 9;

impl<'a> Tracer<'a> {
    /// A tracer; without labels it stops only at hops, dust, time and
    /// CoinJoins.
    pub fn new(
        store: &'a Store,
        labels: Option<(&'a LabelBook, &'a Resolved)>,
        opts: Options,
    ) -> Tracer<'a> {
        Tracer {
            store,
            labels,
            opts,
        }
    }

    /// Traces from seed coins (see [`crate::seed`] to find them).
    pub fn trace(&self, seeds: &[OutId]) -> Trace {
        let forward = self.opts.direction == Direction::Forward;
        let mut w = Walk {
            tr: self,
            nodes: Vec::new(),
            at: FastMap::default(),
            queued: FastSet::default(),
            cj_seen: FastMap::default(),
            queue: if forward {
                Queue::Up(BinaryHeap::new())
            } else {
                Queue::Down(BinaryHeap::new())
            },
            totals: [0.0; 10],
            coinjoins: Vec::new(),
            marks: Vec::new(),
            detector: Detector::new(Default::default()),
            peel_steps: 0,
            overlap: 0.0,
        };
        let st = self.store;
        let mut seeded = 0u64;
        for &o in seeds {
            if w.at.contains_key(&o.0) {
                continue;
            }
            let v = st.out_value(o);
            seeded = seeded.saturating_add(v);
            let t = st.out_tx(o);
            let cj = w.cj_of(t);
            w.add(o, vec![Seg::whole(v, 1.0)], 0, NO_NODE, cj, false, true);
        }
        let mut expanded = 0usize;
        let mut truncated = false;
        while let Some(t) = w.queue.pop() {
            if expanded >= self.opts.max_txs {
                truncated = true;
                break;
            }
            expanded += 1;
            if forward {
                w.forward(TxNum(t));
            } else {
                w.backward(TxNum(t));
            }
        }
        w.finish(seeds, seeded, expanded, truncated)
    }

    /// The label that stops a branch at address `a`, else one to mark.
    fn label_at(&self, a: u32) -> Option<(u32, bool, bool)> {
        let (book, r) = self.labels?;
        let (floor, lift) = (self.opts.min_confidence, self.opts.lift);
        if let Some((l, via)) =
            r.address_label(book, a, floor, lift, |c| self.opts.stop_at.contains(&c))
        {
            return Some((l, via == "entity", true));
        }
        r.address_label(book, a, floor, false, |_| true)
            .map(|(l, _)| (l, false, false))
    }
}

impl Walk<'_, '_> {
    fn cj_of(&mut self, t: TxNum) -> u8 {
        if let Some(&k) = self.cj_seen.get(&t.0) {
            return k;
        }
        let k = match self.detector.classify_tx(self.tr.store, t) {
            Some(c) => {
                1 + CoinJoinKind::ALL
                    .iter()
                    .position(|&k| k == c.kind)
                    .unwrap_or(0) as u8
            }
            None => 0,
        };
        self.cj_seen.insert(t.0, k);
        k
    }

    /// Adds a tainted coin and judges it.
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        o: OutId,
        segs: Vec<Seg>,
        hop: u32,
        parent: u32,
        cj: u8,
        via_cj: bool,
        seed: bool,
    ) {
        let st = self.tr.store;
        let opts = &self.tr.opts;
        let amount = taint::amount(&segs);
        if !seed && self.at.contains_key(&o.0) {
            // A seed reached from another seed: already wholly tainted and
            // counted as seeded.
            self.overlap += amount;
            return;
        }
        if !seed && amount < opts.dust_sat as f64 {
            self.totals[T_DUST] += amount;
            return;
        }
        let idx = self.nodes.len() as u32;
        let forward = opts.direction == Direction::Forward;
        let mut state = State::Follow;
        if !seed {
            if let Some((l, lifted, stop)) = st.out_addr(o).and_then(|a| self.tr.label_at(a.0)) {
                if stop {
                    state = State::Arrived(l, lifted);
                } else if self.marks.len() < opts.max_listed {
                    self.marks.push(Mark {
                        coin: Step {
                            tainted_sat: amount.round() as u64,
                            hop,
                            ..step(st, o, cj)
                        },
                        label: self.tr.labels.expect("labelled").0.label(l),
                    });
                }
            }
        }
        if state == State::Follow && hop >= opts.hops {
            state = State::HopLimit;
        }
        let mut next = None;
        if state == State::Follow {
            if forward {
                match st.out_spender(o) {
                    None => state = State::Unspent,
                    Some((t2, _)) => {
                        if opts.bound.is_some_and(|b| st.tx_height(t2) > b) {
                            state = State::TimeBound;
                        } else {
                            next = Some(t2.0);
                        }
                    }
                }
            } else {
                let t = st.out_tx(o);
                if opts.bound.is_some_and(|b| st.tx_height(t) < b) {
                    state = State::TimeBound;
                } else {
                    next = Some(t.0);
                }
            }
        }
        if let Some(t) = next {
            if self.queued.insert(t) {
                self.queue.push(t);
            }
        }
        match state {
            State::Arrived(..) => self.totals[T_ENT] += amount,
            State::Unspent => self.totals[T_UNSPENT] += amount,
            State::HopLimit => self.totals[T_HOP] += amount,
            State::TimeBound => self.totals[T_TIME] += amount,
            State::Follow | State::Consumed => {}
        }
        self.at.insert(o.0, idx);
        self.nodes.push(Node {
            out: o,
            segs,
            amount,
            hop,
            parent,
            cj,
            via_cj,
            state,
        });
    }

    /// Takes the followed taint of coin `o`, if any: (node, hop).
    fn take(&mut self, o: OutId) -> Option<u32> {
        let &i = self.at.get(&o.0)?;
        let n = &mut self.nodes[i as usize];
        if n.state != State::Follow {
            return None;
        }
        n.state = State::Consumed;
        Some(i)
    }

    /// At a CoinJoin: marks it; `true` when the trace stops there.
    fn coinjoin(&mut self, t: TxNum, cj: u8, tainted: f64) -> bool {
        let st = self.tr.store;
        let stop = self.tr.opts.coinjoin == CoinJoinMode::Stop;
        self.coinjoins.push(CoinJoinMark {
            txid: st.txid(t).to_string(),
            kind: CoinJoinKind::ALL[cj as usize - 1].name().to_string(),
            height: st.tx_height(t),
            tainted_sat: tainted.round() as u64,
            action: match self.tr.opts.coinjoin {
                CoinJoinMode::Stop => "stopped",
                CoinJoinMode::Share => "shared",
                CoinJoinMode::Follow => "followed",
            }
            .into(),
        });
        if stop {
            self.totals[T_CJ] += tainted;
        }
        stop
    }

    fn forward(&mut self, t: TxNum) {
        let st = self.tr.store;
        let opts = &self.tr.opts;
        let mut values: Vec<u64> = Vec::new();
        let mut tainted: Vec<Option<u32>> = Vec::new();
        for i in st.tx_inputs(t) {
            match st.in_prevout(i) {
                Ok(Some(o)) => {
                    values.push(st.out_value(o));
                    tainted.push(self.take(o));
                }
                _ => {
                    values.push(0);
                    tainted.push(None);
                }
            }
        }
        let Some((hop, parent, via_cj, amount)) = self.inputs_summary(&tainted) else {
            return;
        };
        let outs = st.tx_outputs(t);
        let sink_values: Vec<u64> = outs.clone().map(|o| st.out_value(OutId(o))).collect();
        let cj = self.cj_of(t);
        let policy = self.policy_at(cj);
        let sources = self.sides(&values, &tainted);
        if cj > 0 && self.coinjoin(t, cj, amount) {
            return;
        }
        let refs: Vec<(u64, &[Seg])> = sources.iter().map(|(v, s)| (*v, &s[..])).collect();
        let mapped = taint::map(policy, &refs, &sink_values);
        self.totals[T_FEES] += mapped.lost;
        let in_total: u64 = sum_sats(values.iter().copied());
        let peel = (opts.peel && cj == 0 && sink_values.len() == 2)
            .then(|| {
                let big = if sink_values[0] >= sink_values[1] {
                    0
                } else {
                    1
                };
                (sink_values[big] as f64 >= opts.peel_share * in_total as f64).then_some(big)
            })
            .flatten();
        for (j, segs) in mapped.sinks.into_iter().enumerate() {
            if segs.is_empty() {
                continue;
            }
            let h = if peel == Some(j) {
                self.peel_steps += 1;
                hop
            } else {
                hop + 1
            };
            self.add(
                OutId(outs.start + j as u64),
                segs,
                h,
                parent,
                cj,
                via_cj || cj > 0,
                false,
            );
        }
    }

    fn backward(&mut self, t: TxNum) {
        let st = self.tr.store;
        let outs = st.tx_outputs(t);
        let mut values = Vec::new();
        let mut tainted = Vec::new();
        for o in outs.clone() {
            values.push(st.out_value(OutId(o)));
            tainted.push(self.take(OutId(o)));
        }
        let Some((hop, parent, via_cj, amount)) = self.inputs_summary(&tainted) else {
            return;
        };
        let sources = self.sides(&values, &tainted);
        let mut prevs = Vec::new();
        let mut coinbase = false;
        for i in st.tx_inputs(t) {
            match st.in_prevout(i) {
                Ok(Some(o)) => prevs.push(Some(o)),
                Ok(None) => coinbase = true,
                Err(()) => prevs.push(None),
            }
        }
        if coinbase {
            self.totals[T_MINED] += amount;
            // The coinbase's own coins stand for the newly mined value.
            for &n in tainted.iter().flatten() {
                self.nodes[n as usize].state = State::Arrived(NEWLY_MINED, false);
            }
            return;
        }
        let cj = self.cj_of(t);
        if cj > 0 && self.coinjoin(t, cj, amount) {
            return;
        }
        let policy = self.policy_at(cj);
        let sink_values: Vec<u64> = prevs
            .iter()
            .map(|o| o.map_or(0, |o| st.out_value(o)))
            .collect();
        let refs: Vec<(u64, &[Seg])> = sources.iter().map(|(v, s)| (*v, &s[..])).collect();
        let mapped = taint::map(policy, &refs, &sink_values);
        self.totals[T_FEES] += mapped.lost;
        for (segs, o) in mapped.sinks.into_iter().zip(prevs) {
            let Some(o) = o else {
                // A prevout the index lacks: its share has nowhere to go.
                self.totals[T_PRUNED] += taint::amount(&segs);
                continue;
            };
            if segs.is_empty() {
                continue;
            }
            let maker = st.out_tx(o);
            let mcj = self.cj_of(maker);
            self.add(o, segs, hop + 1, parent, mcj, via_cj || cj > 0, false);
        }
    }

    /// The policy at a transaction: a CoinJoin's share is haircut's.
    fn policy_at(&self, cj: u8) -> Policy {
        match (cj, self.tr.opts.coinjoin) {
            (0, _) | (_, CoinJoinMode::Follow) => self.tr.opts.policy,
            _ => Policy::Haircut,
        }
    }

    /// One side of a transaction: each coin's value and taint.
    fn sides(&self, values: &[u64], tainted: &[Option<u32>]) -> Vec<(u64, Vec<Seg>)> {
        values
            .iter()
            .zip(tainted)
            .map(|(&v, n)| {
                (
                    v,
                    n.map_or(Vec::new(), |n| self.nodes[n as usize].segs.clone()),
                )
            })
            .collect()
    }

    /// Fewest hops, the largest tainted node, whether any passed a
    /// CoinJoin, and the tainted amount of a side; `None` when untainted.
    fn inputs_summary(&self, tainted: &[Option<u32>]) -> Option<(u32, u32, bool, f64)> {
        let mut best: Option<(u32, u32, bool, f64)> = None;
        let mut top = -1.0;
        for &n in tainted.iter().flatten() {
            let node = &self.nodes[n as usize];
            let b = best.get_or_insert((node.hop, n, false, 0.0));
            b.0 = b.0.min(node.hop);
            b.2 |= node.via_cj;
            b.3 += node.amount;
            if node.amount > top {
                top = node.amount;
                b.1 = n;
            }
        }
        best
    }

    /// One entity's arrivals as a flow: amounts, addresses, first time,
    /// the evidence path of the largest.
    fn flow(&self, mut members: Vec<u32>, forward: bool) -> EntityFlow {
        let st = self.tr.store;
        members.sort_by(|&a, &b| {
            self.nodes[b as usize]
                .amount
                .total_cmp(&self.nodes[a as usize].amount)
        });
        let top = members[0];
        let State::Arrived(l, lifted) = self.nodes[top as usize].state else {
            unreachable!("arrivals only")
        };
        let label = self.tr.labels.expect("labelled").0.label(l);
        let mut by_addr: HashMap<String, Arrival> = HashMap::new();
        let mut ids: HashMap<String, AddrId> = HashMap::new();
        let (mut amount, mut first, mut min_hops, mut via_cj) =
            (0.0, (u32::MAX, 0), u32::MAX, false);
        for &m in &members {
            let s = self.step_of(m);
            let n = &self.nodes[m as usize];
            if let (Some(a), Some(id)) = (&s.address, st.out_addr(n.out)) {
                ids.insert(a.clone(), id);
            }
            amount += n.amount;
            min_hops = min_hops.min(n.hop);
            via_cj |= n.via_cj;
            if s.height < first.0 {
                first = (s.height, s.time);
            }
            let a = by_addr
                .entry(s.address.clone().unwrap_or_default())
                .or_insert_with(|| Arrival {
                    address: s.address.clone().unwrap_or_default(),
                    amount_sat: 0,
                    after_coinjoin: false,
                    coins: Vec::new(),
                    from_addresses: Vec::new(),
                    other_deposits: Vec::new(),
                });
            a.amount_sat = a.amount_sat.saturating_add(s.tainted_sat);
            a.after_coinjoin |= n.via_cj;
            if n.parent != NO_NODE && a.from_addresses.len() < OTHER_DEPOSITS {
                let p = self.nodes[n.parent as usize].out;
                if let Some(pa) = st.out_addr(p) {
                    let pa = address::encode(&st.addr_key(pa), st.network());
                    if pa != s.address.clone().unwrap_or_default()
                        && !a.from_addresses.contains(&pa)
                    {
                        a.from_addresses.push(pa);
                    }
                }
            }
            a.coins.push(s);
        }
        let mut addresses: Vec<Arrival> = by_addr.into_values().collect();
        for a in &mut addresses {
            if let Some(&id) = ids.get(&a.address) {
                a.other_deposits = self.other_deposits(id);
            }
        }
        addresses.sort_by(|a, b| {
            b.amount_sat
                .cmp(&a.amount_sat)
                .then(a.address.cmp(&b.address))
        });
        EntityFlow {
            name: label.entity.clone(),
            category: label.category,
            via: if lifted { "entity" } else { "address" }.into(),
            label,
            amount_sat: amount.round() as u64,
            outputs: members.len(),
            first_height: first.0,
            first_time: first.1,
            min_hops,
            via_coinjoin: via_cj,
            addresses,
            path: self.path(top, forward),
        }
    }

    /// Coins address `a` received that the trace did not taint, newest
    /// first, at most [`OTHER_DEPOSITS`] (of the newest ten times as many).
    fn other_deposits(&self, a: AddrId) -> Vec<Step> {
        let st = self.tr.store;
        let mut v = Vec::new();
        let mut cur = st.addr_head(a);
        for _ in 0..10 * OTHER_DEPOSITS {
            let Some(o) = cur else { break };
            if !self.at.contains_key(&o.0) {
                v.push(step(st, o, 0));
                if v.len() == OTHER_DEPOSITS {
                    break;
                }
            }
            cur = st.out_prev(o);
        }
        v
    }

    fn path(&self, mut n: u32, forward: bool) -> Vec<Step> {
        let mut p = Vec::new();
        while n != NO_NODE {
            p.push(self.step_of(n));
            n = self.nodes[n as usize].parent;
        }
        if forward {
            p.reverse();
        }
        p
    }

    fn step_of(&self, n: u32) -> Step {
        let node = &self.nodes[n as usize];
        Step {
            tainted_sat: node.amount.round() as u64,
            hop: node.hop,
            after_coinjoin: node.via_cj,
            ..step(self.tr.store, node.out, node.cj)
        }
    }

    fn finish(mut self, seeds: &[OutId], seeded: u64, expanded: usize, truncated: bool) -> Trace {
        let st = self.tr.store;
        let opts = &self.tr.opts;
        let forward = opts.direction == Direction::Forward;
        // Taint still waiting for its transaction: pruned.
        for n in &mut self.nodes {
            if n.state == State::Follow {
                self.totals[T_PRUNED] += n.amount;
            }
        }
        // Arrivals per entity name and category.
        // Arrivals per entity name and category. One after a CoinJoin is
        // asserted only where value arrived without one too (the same
        // deposit address: the same account); else it is only possible.
        let certain: HashSet<u64> = self
            .nodes
            .iter()
            .filter(|n| matches!(n.state, State::Arrived(l, _) if l != NEWLY_MINED) && !n.via_cj)
            .filter_map(|n| st.out_addr(n.out).map(|a| a.0 as u64))
            .collect();
        let mut groups: HashMap<(String, Category, bool), Vec<u32>> = HashMap::new();
        let mut possible_nodes: HashSet<u32> = HashSet::new();
        let mut holdings: Vec<u32> = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            match n.state {
                State::Arrived(l, _) if l != NEWLY_MINED => {
                    let (book, _) = self.tr.labels.expect("labelled");
                    let r = book.record_of(l);
                    let possible = n.via_cj
                        && !st
                            .out_addr(n.out)
                            .is_some_and(|a| certain.contains(&(a.0 as u64)));
                    if possible {
                        possible_nodes.insert(i as u32);
                        self.totals[T_ENT] -= n.amount;
                        self.totals[T_POSSIBLE] += n.amount;
                    }
                    groups
                        .entry((r.entity.to_lowercase(), r.category, possible))
                        .or_default()
                        .push(i as u32);
                }
                State::Unspent
                | State::HopLimit
                | State::TimeBound
                | State::Follow
                | State::Arrived(NEWLY_MINED, _) => holdings.push(i as u32),
                _ => {}
            }
        }
        let (mut entities, mut possible) = (Vec::new(), Vec::new());
        for ((_, _, maybe), members) in groups {
            let flow = self.flow(members, forward);
            if maybe {
                possible.push(flow);
            } else {
                entities.push(flow);
            }
        }
        for list in [&mut entities, &mut possible] {
            list.sort_by(|a, b| b.amount_sat.cmp(&a.amount_sat).then(a.name.cmp(&b.name)));
        }
        holdings.sort_by(|&a, &b| {
            self.nodes[b as usize]
                .amount
                .total_cmp(&self.nodes[a as usize].amount)
        });
        let unlisted = holdings.len().saturating_sub(opts.max_listed);
        let graph = self.graph(&holdings, &possible_nodes, forward);
        let listed: Vec<Holding> = holdings
            .iter()
            .take(opts.max_listed)
            .map(|&i| Holding {
                coin: self.step_of(i),
                why: match self.nodes[i as usize].state {
                    State::Unspent => "unspent",
                    State::HopLimit => "hop-limit",
                    State::TimeBound => "time-bound",
                    State::Arrived(..) => "newly-mined",
                    _ => "pruned",
                }
                .into(),
            })
            .collect();
        let r = |x: f64| x.round() as u64;
        let t = &self.totals;
        Trace {
            direction: opts.direction,
            policy: opts.policy,
            coinjoin: opts.coinjoin,
            hops: opts.hops,
            dust_sat: opts.dust_sat,
            bound: opts.bound,
            tip: st.counts().blocks.saturating_sub(1),
            seeds: {
                let mut seen = HashSet::new();
                seeds
                    .iter()
                    .filter(|o| seen.insert(o.0))
                    .filter_map(|o| self.at.get(&o.0))
                    .map(|&i| self.step_of(i))
                    .collect()
            },
            seeded_sat: (seeded as f64 - self.overlap).round().max(0.0) as u64,
            entities,
            possible,
            holdings: listed,
            holdings_unlisted: unlisted,
            coinjoins: std::mem::take(&mut self.coinjoins),
            marks: std::mem::take(&mut self.marks),
            totals: Totals {
                entities_sat: r(t[T_ENT]),
                possible_sat: r(t[T_POSSIBLE]),
                unspent_sat: r(t[T_UNSPENT]),
                hop_limit_sat: r(t[T_HOP]),
                time_bound_sat: r(t[T_TIME]),
                dust_sat: r(t[T_DUST]),
                fees_sat: r(t[T_FEES]),
                coinjoin_stopped_sat: r(t[T_CJ]),
                newly_mined_sat: r(t[T_MINED]),
                pruned_sat: r(t[T_PRUNED]),
            },
            graph,
            txs_expanded: expanded,
            peel_steps: self.peel_steps,
            truncated,
        }
    }

    /// The flow graph: the evidence paths of every arrival and of the
    /// largest holdings, at most [`GRAPH_PATHS`] of them.
    fn graph(&self, holdings: &[u32], possible: &HashSet<u32>, forward: bool) -> Graph {
        let st = self.tr.store;
        let mut ends: Vec<u32> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n.state, State::Arrived(..)))
            .map(|(i, _)| i as u32)
            .collect();
        ends.sort_by(|&a, &b| {
            self.nodes[b as usize]
                .amount
                .total_cmp(&self.nodes[a as usize].amount)
        });
        ends.extend_from_slice(holdings);
        // Small traces are drawn whole; larger ones by evidence paths.
        let drawn = if self.nodes.len() <= GRAPH_WHOLE {
            0
        } else {
            ends.len().min(GRAPH_PATHS)
        };
        let mut keep: Vec<u32> = if drawn == 0 {
            (0..self.nodes.len() as u32).collect()
        } else {
            Vec::new()
        };
        let mut seen: HashSet<u32> = HashSet::new();
        for &e in &ends[..drawn] {
            let mut n = e;
            while n != NO_NODE && seen.insert(n) {
                keep.push(n);
                n = self.nodes[n as usize].parent;
            }
        }
        keep.sort_unstable();
        let mut g = GraphBuilder {
            walk: self,
            graph: Graph {
                complete: keep.len() == self.nodes.len(),
                ..Default::default()
            },
            ids: HashMap::new(),
        };
        for &i in &keep {
            let n = &self.nodes[i as usize];
            let o = n.out;
            let maker = st.out_tx(o);
            let h = st.tx_height(maker);
            let is_seed = n.parent == NO_NODE;
            let coin = format!("{}:{}", st.txid(maker), st.out_vout(maker, o));
            let address = st
                .out_addr(o)
                .map(|a| address::encode(&st.addr_key(a), st.network()));
            let at_rest = |kind: &str| {
                (
                    format!("coin:{coin}"),
                    kind.to_string(),
                    format!("{kind} {coin}"),
                )
            };
            // The side of the coin away from the seed: where it went
            // (forward) or came from (backward).
            let far = match n.state {
                State::Arrived(NEWLY_MINED, _) => g.node(
                    format!("coinbase:{h}"),
                    "coinbase",
                    format!("newly mined, block {h}"),
                    Some(h),
                    n.hop,
                ),
                State::Arrived(l, _) => {
                    let name = &self.tr.labels.expect("labelled").0.record_of(l).entity;
                    if possible.contains(&i) {
                        g.node(
                            format!("possible:{}", name.to_lowercase()),
                            "possible",
                            format!("{name}? (after a CoinJoin, not asserted)"),
                            None,
                            n.hop,
                        )
                    } else {
                        g.node(
                            format!("entity:{}", name.to_lowercase()),
                            "entity",
                            name.clone(),
                            None,
                            n.hop,
                        )
                    }
                }
                State::Consumed if forward => match st.out_spender(o) {
                    Some((t2, _)) => g.tx(t2, n.hop + 1, false),
                    None => continue,
                },
                State::Consumed => g.tx(maker, n.hop + 1, false),
                State::Unspent | State::HopLimit | State::TimeBound | State::Follow => {
                    let kind = match n.state {
                        State::Unspent => "unspent",
                        State::HopLimit => "hop-limit",
                        State::TimeBound => "time-bound",
                        _ => "pruned",
                    };
                    let (id, kind, label) = at_rest(kind);
                    g.node(id, &kind, label, Some(h), n.hop)
                }
            };
            // The side towards the seed.
            let near = if forward {
                g.tx(maker, n.hop, is_seed)
            } else {
                match st.out_spender(o) {
                    Some((t2, _)) => g.tx(t2, n.hop, is_seed),
                    None => g.node(
                        format!("coin:{coin}"),
                        "seed",
                        format!("seed {coin}"),
                        Some(h),
                        0,
                    ),
                }
            };
            let (from, to) = if forward { (near, far) } else { (far, near) };
            g.graph.edges.push(GraphEdge {
                from,
                to,
                coin,
                address,
                tainted_sat: n.amount.round() as u64,
            });
        }
        g.graph
    }

    fn cj_kind_of(&self, t: TxNum) -> Option<&'static str> {
        match self.cj_seen.get(&t.0) {
            Some(0) => None,
            Some(&k) => Some(CoinJoinKind::ALL[k as usize - 1].name()),
            None => Detector::new(Default::default())
                .classify_tx(self.tr.store, t)
                .map(|c| c.kind.name()),
        }
    }
}

/// Builds the flow graph's nodes once each.
struct GraphBuilder<'w, 't, 'a> {
    walk: &'w Walk<'t, 'a>,
    graph: Graph,
    ids: HashMap<String, usize>,
}

impl GraphBuilder<'_, '_, '_> {
    fn node(
        &mut self,
        id: String,
        kind: &str,
        label: String,
        height: Option<u32>,
        hop: u32,
    ) -> String {
        match self.ids.get(&id) {
            // A transaction reached from several coins: its fewest hops.
            Some(&i) => {
                let n = &mut self.graph.nodes[i];
                n.hop = n.hop.min(hop);
            }
            None => {
                self.ids.insert(id.clone(), self.graph.nodes.len());
                self.graph.nodes.push(GraphNode {
                    id: id.clone(),
                    kind: kind.into(),
                    label,
                    height,
                    hop,
                });
            }
        }
        id
    }

    fn tx(&mut self, t: TxNum, hop: u32, seed: bool) -> String {
        let st = self.walk.tr.store;
        let txid = st.txid(t).to_string();
        let cj = self.walk.cj_kind_of(t);
        let kind = match (seed, cj) {
            (true, _) => "seed",
            (false, Some(_)) => "coinjoin",
            (false, None) => "tx",
        };
        let label = match cj {
            Some(k) => format!("{}… ({k})", &txid[..12]),
            None => format!("{}…", &txid[..12]),
        };
        self.node(
            format!("tx:{txid}"),
            kind,
            label,
            Some(st.tx_height(t)),
            hop,
        )
    }
}

/// A coin as a step, without its taint.
fn step(st: &Store, o: OutId, cj: u8) -> Step {
    let t = st.out_tx(o);
    let height = st.tx_height(t);
    Step {
        txid: st.txid(t).to_string(),
        vout: st.out_vout(t, o),
        address: st
            .out_addr(o)
            .map(|a| address::encode(&st.addr_key(a), st.network())),
        value_sat: st.out_value(o),
        tainted_sat: 0,
        height,
        time: st.block_info(height).time,
        hop: 0,
        coinjoin: (cj > 0).then(|| CoinJoinKind::ALL[cj as usize - 1].name().to_string()),
        after_coinjoin: false,
    }
}
