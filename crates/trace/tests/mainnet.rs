//! Tracing on real mainnet data (blocks 0 to 4,312), checked against an
//! independent reference written here on top of rust-bitcoin.
//!
//! The reference decodes the raw blk file itself (`bitcoin::Block` per
//! record, the blocks checked to form one chain in height order), keeps
//! its own outpoint and spender maps, and moves taint transaction by
//! transaction in chain order under each policy: FIFO on exact integer
//! intervals of satoshis, haircut as the tainted share of the inputs,
//! poison as whole outputs. What this proves:
//!
//! - forward from Satoshi's payment to Hal Finney (block 170), chainhound's
//!   coins at rest, their taint, hops, addresses and the fees lost are the
//!   reference's under FIFO, haircut and poison, and FIFO and haircut
//!   account for all 50 BTC;
//! - hop limits 1, 2 and 3 stop at the same coins, for the same reason;
//! - the same, with hop limits too, from each output of each transaction
//!   that is not a coinbase (84 seeds, one at a time) and from every spent coinbase coin at once and in
//!   subsets: mixed tainted and clean inputs, fees, several outputs, the
//!   places where FIFO and haircut part ways;
//! - backward FIFO from the 61 BTC coin of block 496, and from each of
//!   those 84 outputs, reaches only coinbases, with the amounts the reference
//!   finds, summing to the coin's value;
//! - facts of the chain, read from the raw blocks, about where Satoshi's
//!   payments went, and the exact FIFO result on them;
//! - seeds that are not in the index or malformed are refused with a
//!   message naming them.

use bitcoin::consensus::deserialize;
use bitcoin::hashes::Hash as _;
use bitcoin::{Address, Block, BlockHash, Network, OutPoint, PubkeyHash, Script, Txid};
use chainhound_index::ingest::{ingest, IngestOptions, NoProgress};
use chainhound_index::source::Source;
use chainhound_index::store::{OutId, Store};
use chainhound_testdata::shared;
use chainhound_trace::seed::coins;
use chainhound_trace::{CoinJoinMode, Direction, Options, Policy, Trace, Tracer};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

const FILE: &str = "blocks/mainnet_h0-4312.dat";
const MAGIC: [u8; 4] = [0xf9, 0xbe, 0xb4, 0xd9];
const BTC: u64 = 100_000_000;

/// Satoshi to Hal Finney, block 170.
const HAL_TX: &str = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16";
/// Satoshi's second payment, block 181.
const A16F: &str = "a16f3ce4dd5deb92d98ef5cf8afeaf0775ebca408f708b2146c4fb42b41e14be";
const TX_591E: &str = "591e91f809d716912ca1d4a9295e70c3e78bab077683f79350f101da64588073";
const TX_298C: &str = "298ca2045d174f8a158961806ffc4ef96fad02d71a6b84d9fa0491813a776160";
const TX_12B5: &str = "12b5633bad1f9c167d523ad1aa1947b2732a865bf5414eab2f9e5ae5d5c191ba";
const TX_4385: &str = "4385fcf8b14497d0659adccfe06ae7e38e0b5dc95ff8a13d7c62035994a0cd79";
const TX_828E: &str = "828ef3b079f9c23829c56fe86e85b4a69d9e06e5b54ea597eef5fb3ffef509fe";
/// The 61 BTC consolidation, block 496.
const A3B0: &str = "a3b0e9e7cddbbe78270fa4182a7675ff00b92872d8df7d14265a2b1e379a9d33";
/// Coinbase of block 9 (the coin Satoshi paid Hal from).
const CB9: &str = "0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9";
/// Coinbase of block 360 (the first input of A3B0).
const CB360: &str = "264299886446921c89e598ec2b1ec3eab6a2c9b0235b310ff513a039315ff721";

const SATOSHI: &str = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S";
const HAL: &str = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3";

// ---------------------------------------------------------------------------
// The reference: the raw chain decoded with rust-bitcoin.
// ---------------------------------------------------------------------------

struct RefOut {
    value: u64,
    address: Option<String>,
}

struct RefTx {
    txid: Txid,
    height: u32,
    coinbase: bool,
    inputs: Vec<OutPoint>,
    outputs: Vec<RefOut>,
}

/// Every transaction of the file in chain order, with outpoint and
/// spender maps.
struct Chain {
    txs: Vec<RefTx>,
    pos: HashMap<Txid, usize>,
    spender: HashMap<OutPoint, usize>,
    tip: u32,
}

/// The address of an output script as block explorers show it: P2PK
/// outputs (all of 2009's) as the P2PKH address of their key's hash.
fn address_of(s: &Script) -> Option<String> {
    let b = s.as_bytes();
    let p2pk =
        (b.len() == 67 && b[0] == 65 || b.len() == 35 && b[0] == 33) && b[b.len() - 1] == 0xac;
    if p2pk {
        let key = &b[1..b.len() - 1];
        return Some(Address::p2pkh(PubkeyHash::hash(key), Network::Bitcoin).to_string());
    }
    Address::from_script(s, Network::Bitcoin)
        .ok()
        .map(|a| a.to_string())
}

impl Chain {
    fn load(path: &Path) -> Chain {
        let data = std::fs::read(path).unwrap();
        let mut c = Chain {
            txs: Vec::new(),
            pos: HashMap::new(),
            spender: HashMap::new(),
            tip: 0,
        };
        let (mut p, mut height) = (0usize, 0u32);
        let mut prev = BlockHash::all_zeros();
        while p + 8 <= data.len() {
            assert_eq!(data[p..p + 4], MAGIC, "record at byte {p}");
            let len = u32::from_le_bytes(data[p + 4..p + 8].try_into().unwrap()) as usize;
            let block: Block = deserialize(&data[p + 8..p + 8 + len]).unwrap();
            p += 8 + len;
            // One chain, in height order.
            assert_eq!(block.header.prev_blockhash, prev, "block {height}");
            prev = block.block_hash();
            for tx in &block.txdata {
                let txid = tx.compute_txid();
                let at = c.txs.len();
                let coinbase = tx.is_coinbase();
                if !coinbase {
                    for i in &tx.input {
                        assert!(c.pos.contains_key(&i.previous_output.txid));
                        assert!(c.spender.insert(i.previous_output, at).is_none());
                    }
                }
                c.pos.insert(txid, at);
                c.txs.push(RefTx {
                    txid,
                    height,
                    coinbase,
                    inputs: tx.input.iter().map(|i| i.previous_output).collect(),
                    outputs: tx
                        .output
                        .iter()
                        .map(|o| RefOut {
                            value: o.value.to_sat(),
                            address: address_of(&o.script_pubkey),
                        })
                        .collect(),
                });
            }
            height += 1;
        }
        assert_eq!(p, data.len(), "trailing bytes");
        c.tip = height - 1;
        c
    }

    fn tx(&self, txid: &str) -> &RefTx {
        &self.txs[self.pos[&txid.parse::<Txid>().unwrap()]]
    }

    fn out(&self, op: &OutPoint) -> &RefOut {
        &self.txs[self.pos[&op.txid]].outputs[op.vout as usize]
    }

    fn spender_of(&self, op: &OutPoint) -> Option<&RefTx> {
        self.spender.get(op).map(|&i| &self.txs[i])
    }
}

fn op(txid: &str, vout: u32) -> OutPoint {
    OutPoint {
        txid: txid.parse().unwrap(),
        vout,
    }
}

fn key(op: &OutPoint) -> String {
    format!("{}:{}", op.txid, op.vout)
}

/// Half-open runs `[a, b)` of satoshis.
type Runs = Vec<(u64, u64)>;

/// FIFO: each source's runs, placed at its offset in the concatenated
/// sources, intersected with each sink's span of the concatenated sinks;
/// what lies past the last sink is lost.
fn fifo_map(sources: &[(u64, &Runs)], sinks: &[u64]) -> (Vec<Runs>, u64) {
    let mut spans = Vec::new();
    let mut end = 0u64;
    for &v in sinks {
        spans.push((end, end + v));
        end += v;
    }
    let mut out = vec![Runs::new(); sinks.len()];
    let (mut base, mut lost) = (0u64, 0u64);
    for &(value, runs) in sources {
        for &(a, b) in runs {
            let (a, b) = (base + a, base + b);
            for (j, &(s, e)) in spans.iter().enumerate() {
                let (x, y) = (a.max(s), b.min(e));
                if x < y {
                    out[j].push((x - s, y - s));
                }
            }
            lost += b.max(end) - a.max(end);
        }
        base += value;
    }
    for runs in &mut out {
        runs.sort_unstable();
        let mut merged: Runs = Vec::new();
        for &(a, b) in runs.iter() {
            match merged.last_mut() {
                Some(l) if l.1 == a => l.1 = b,
                _ => merged.push((a, b)),
            }
        }
        *runs = merged;
    }
    (out, lost)
}

fn len(runs: &Runs) -> u64 {
    runs.iter().map(|r| r.1 - r.0).sum()
}

/// A tainted coin being followed.
#[derive(Clone)]
struct Taint {
    runs: Runs,
    amount: f64,
    hop: u32,
}

/// A coin where the reference's taint rests.
#[derive(Debug, Clone, PartialEq)]
struct Rest {
    why: &'static str,
    tainted: f64,
    value: u64,
    address: Option<String>,
    height: u32,
    hop: u32,
}

#[derive(Default)]
struct RefTrace {
    rest: BTreeMap<String, Rest>,
    /// Every tainted coin, at rest or spent, with its taint.
    tainted: BTreeMap<String, f64>,
    fees: f64,
    expanded: usize,
}

/// Forward in chain order: a transaction spending a followed tainted coin
/// moves the taint of all its followed inputs onto its outputs; the new
/// coins are one hop further than the nearest tainted input.
fn ref_forward(c: &Chain, seeds: &[OutPoint], policy: Policy, hops: u32) -> RefTrace {
    let mut r = RefTrace::default();
    let mut live: HashMap<OutPoint, Taint> = HashMap::new();
    let place = |r: &mut RefTrace, live: &mut HashMap<OutPoint, Taint>, o: OutPoint, t: Taint| {
        r.tainted.insert(key(&o), t.amount);
        let why = if t.hop >= hops {
            "hop-limit"
        } else if c.spender_of(&o).is_none() {
            "unspent"
        } else {
            live.insert(o, t);
            return;
        };
        let out = c.out(&o);
        r.rest.insert(
            key(&o),
            Rest {
                why,
                tainted: t.amount,
                value: out.value,
                address: out.address.clone(),
                height: c.txs[c.pos[&o.txid]].height,
                hop: t.hop,
            },
        );
    };
    for s in seeds {
        let v = c.out(s).value;
        let t = Taint {
            runs: vec![(0, v)],
            amount: v as f64,
            hop: 0,
        };
        place(&mut r, &mut live, *s, t);
    }
    let first = seeds.iter().map(|s| c.pos[&s.txid]).min().unwrap();
    for tx in &c.txs[first + 1..] {
        let taken: Vec<Option<Taint>> = tx.inputs.iter().map(|o| live.remove(o)).collect();
        if taken.iter().all(Option::is_none) {
            continue;
        }
        r.expanded += 1;
        let hop = taken.iter().flatten().map(|t| t.hop).min().unwrap() + 1;
        let ins: Vec<u64> = tx.inputs.iter().map(|o| c.out(o).value).collect();
        let outs: Vec<u64> = tx.outputs.iter().map(|o| o.value).collect();
        let (in_total, out_total) = (ins.iter().sum::<u64>(), outs.iter().sum::<u64>());
        assert!(in_total >= out_total);
        let tainted_in: f64 = taken.iter().flatten().map(|t| t.amount).sum();
        let made: Vec<(Runs, f64)> = match policy {
            Policy::Fifo => {
                let empty = Runs::new();
                let sources: Vec<(u64, &Runs)> = ins
                    .iter()
                    .zip(&taken)
                    .map(|(&v, t)| (v, t.as_ref().map_or(&empty, |t| &t.runs)))
                    .collect();
                let (sinks, lost) = fifo_map(&sources, &outs);
                r.fees += lost as f64;
                sinks
                    .into_iter()
                    .map(|runs| {
                        let a = len(&runs) as f64;
                        (runs, a)
                    })
                    .collect()
            }
            Policy::Haircut => {
                r.fees += tainted_in * (in_total - out_total) as f64 / in_total as f64;
                outs.iter()
                    .map(|&v| (Runs::new(), tainted_in * v as f64 / in_total as f64))
                    .collect()
            }
            // Nothing is lost: every output is wholly tainted.
            Policy::Poison => outs.iter().map(|&v| (Runs::new(), v as f64)).collect(),
        };
        for (j, (runs, amount)) in made.into_iter().enumerate() {
            if amount > 0.0 {
                let t = Taint { runs, amount, hop };
                place(&mut r, &mut live, op_of(tx, j), t);
            }
        }
    }
    assert!(live.is_empty(), "every followed coin has a spender");
    r
}

/// A transaction's outputs: value and address.
fn vals(t: &RefTx) -> Vec<(u64, Option<&str>)> {
    t.outputs
        .iter()
        .map(|o| (o.value, o.address.as_deref()))
        .collect()
}

fn op_of(tx: &RefTx, vout: usize) -> OutPoint {
    OutPoint {
        txid: tx.txid,
        vout: vout as u32,
    }
}

/// Backward FIFO in reverse chain order: a transaction's outputs span
/// `[0, out_total)`, mapped onto the same offsets of its concatenated
/// inputs; the taint reaching a coinbase's outputs is newly mined.
/// Returns the coinbase coins with their taint, and transactions expanded.
fn ref_backward_fifo(c: &Chain, seed: OutPoint) -> (BTreeMap<String, u64>, usize) {
    let mut live: HashMap<OutPoint, Runs> = HashMap::new();
    live.insert(seed, vec![(0, c.out(&seed).value)]);
    let mut mined = BTreeMap::new();
    let mut expanded = 0;
    for tx in c.txs[..=c.pos[&seed.txid]].iter().rev() {
        let taken: Vec<Option<Runs>> = (0..tx.outputs.len())
            .map(|j| live.remove(&op_of(tx, j)))
            .collect();
        if taken.iter().all(Option::is_none) {
            continue;
        }
        expanded += 1;
        if tx.coinbase {
            for (j, t) in taken.iter().enumerate() {
                if let Some(runs) = t {
                    mined.insert(key(&op_of(tx, j)), len(runs));
                }
            }
            continue;
        }
        let empty = Runs::new();
        let sources: Vec<(u64, &Runs)> = tx
            .outputs
            .iter()
            .zip(&taken)
            .map(|(o, t)| (o.value, t.as_ref().unwrap_or(&empty)))
            .collect();
        let ins: Vec<u64> = tx.inputs.iter().map(|o| c.out(o).value).collect();
        let (sinks, lost) = fifo_map(&sources, &ins);
        assert_eq!(lost, 0, "inputs cover the outputs");
        for (o, runs) in tx.inputs.iter().zip(sinks) {
            if !runs.is_empty() {
                assert!(live.insert(*o, runs).is_none());
            }
        }
    }
    assert!(live.is_empty());
    (mined, expanded)
}

// ---------------------------------------------------------------------------
// chainhound's side.
// ---------------------------------------------------------------------------

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    chain: Chain,
}

fn fixture() -> Fixture {
    let path = shared(FILE);
    let dir = tempfile::tempdir().unwrap();
    let src = Source::path(&path).unwrap();
    let r = ingest(&src, dir.path(), &IngestOptions::default(), &mut NoProgress).unwrap();
    assert_eq!(r.blocks_added, 4313);
    let store = Store::open(dir.path()).unwrap();
    let chain = Chain::load(&path);
    assert_eq!(chain.tip, 4312);
    Fixture {
        _dir: dir,
        store,
        chain,
    }
}

fn opts(policy: Policy, direction: Direction, hops: u32) -> Options {
    Options {
        policy,
        direction,
        hops,
        dust_sat: 0,
        coinjoin: CoinJoinMode::Follow,
        peel: false,
        ..Default::default()
    }
}

fn trace(f: &Fixture, seeds: &[OutId], o: Options) -> Trace {
    Tracer::new(&f.store, None, o).trace(seeds)
}

fn outpoint(st: &Store, o: OutId) -> OutPoint {
    let t = st.out_tx(o);
    OutPoint {
        txid: st.txid(t).to_string().parse().unwrap(),
        vout: (o.0 - st.tx_outputs(t).start) as u32,
    }
}

/// chainhound's holdings as the reference's rests (taint rounded by it).
fn holdings(t: &Trace) -> BTreeMap<String, Rest> {
    assert_eq!(t.holdings_unlisted, 0);
    let mut m = BTreeMap::new();
    for h in &t.holdings {
        let why = match h.why.as_str() {
            "unspent" => "unspent",
            "hop-limit" => "hop-limit",
            "newly-mined" => "newly-mined",
            other => panic!("unexpected holding {other}: {h:?}"),
        };
        let c = &h.coin;
        let prev = m.insert(
            format!("{}:{}", c.txid, c.vout),
            Rest {
                why,
                tainted: c.tainted_sat as f64,
                value: c.value_sat,
                address: c.address.clone(),
                height: c.height,
                hop: c.hop,
            },
        );
        assert!(prev.is_none(), "coin listed twice: {c:?}");
    }
    m
}

/// Whether a rounded satoshi amount matches the reference's: exactly for
/// FIFO and poison; for haircut within 1e-6 relative or the rounding to
/// whole satoshis.
fn close(policy: Policy, got: f64, want: f64) -> bool {
    match policy {
        Policy::Haircut => (got - want).abs() <= (want * 1e-6).max(1.0),
        _ => got == want,
    }
}

/// Asserts that a forward trace rests where the reference does, with the
/// same taint, and loses the same fees.
fn assert_matches(policy: Policy, got: &Trace, want: &RefTrace) {
    let g = holdings(got);
    let gk: BTreeSet<&String> = g.keys().collect();
    let wk: BTreeSet<&String> = want.rest.keys().collect();
    assert_eq!(gk, wk, "{policy:?}: coins at rest");
    for (k, w) in &want.rest {
        let h = &g[k];
        assert!(
            close(policy, h.tainted, w.tainted.round()) && close(policy, h.tainted, w.tainted),
            "{policy:?} {k}: tainted {} vs reference {}",
            h.tainted,
            w.tainted
        );
        assert_eq!(
            (h.why, h.value, &h.address, h.height, h.hop),
            (w.why, w.value, &w.address, w.height, w.hop),
            "{policy:?} {k}"
        );
    }
    assert!(
        close(policy, got.totals.fees_sat as f64, want.fees.round()),
        "{policy:?}: fees {} vs reference {}",
        got.totals.fees_sat,
        want.fees
    );
    assert_eq!(got.txs_expanded, want.expanded, "{policy:?}");
    let t = &got.totals;
    assert_eq!(
        (
            t.entities_sat,
            t.dust_sat,
            t.pruned_sat,
            t.coinjoin_stopped_sat
        ),
        (0, 0, 0, 0),
        "{policy:?}: {t:?}"
    );
    assert!(got.entities.is_empty() && !got.truncated);
    // The flow graph draws every tainted coin, with its taint.
    let edges: BTreeMap<&str, u64> = got
        .graph
        .edges
        .iter()
        .map(|e| (e.coin.as_str(), e.tainted_sat))
        .collect();
    assert_eq!(
        edges.keys().copied().collect::<BTreeSet<_>>(),
        want.tainted.keys().map(String::as_str).collect(),
        "{policy:?}: graph"
    );
    for (k, &w) in &want.tainted {
        assert!(close(policy, edges[k.as_str()] as f64, w.round()), "{k}");
    }
}

fn seeds_of(f: &Fixture, s: &str) -> (Vec<OutId>, Vec<OutPoint>) {
    let ids = coins(&f.store, s).unwrap();
    let ops = ids.iter().map(|&o| outpoint(&f.store, o)).collect();
    (ids, ops)
}

// ---------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------

#[test]
fn hal_finney_payment_forward_matches_the_reference_under_each_policy() {
    let f = fixture();
    let (ids, ops) = seeds_of(&f, HAL_TX);
    assert_eq!(ops, vec![op(HAL_TX, 0), op(HAL_TX, 1)]);
    for policy in Policy::ALL {
        let got = trace(&f, &ids, opts(policy, Direction::Forward, 50));
        let want = ref_forward(&f.chain, &ops, policy, 50);
        assert_eq!(got.seeded_sat, 50 * BTC);
        assert_matches(policy, &got, &want);
        // Nothing reaches the hop limit: everything rests unspent.
        assert!(want.rest.values().all(|r| r.why == "unspent"));
        let at_rest = got.totals.unspent_sat + got.totals.hop_limit_sat;
        match policy {
            Policy::Fifo => assert_eq!(at_rest + got.totals.fees_sat, 50 * BTC),
            Policy::Haircut => {
                assert!((at_rest + got.totals.fees_sat).abs_diff(50 * BTC) <= 5);
                let r: f64 = want.rest.values().map(|r| r.tainted).sum();
                assert!((r + want.fees - (50 * BTC) as f64).abs() < 1e-3);
            }
            // Poison counts whole coins: more than was seeded.
            Policy::Poison => {
                assert_eq!(got.totals.fees_sat, 0);
                assert!(at_rest > 50 * BTC);
            }
        }
    }
}

#[test]
fn hop_limits_stop_where_the_reference_does() {
    let f = fixture();
    let (ids, ops) = seeds_of(&f, HAL_TX);
    for hops in [1, 2, 3] {
        let got = trace(&f, &ids, opts(Policy::Fifo, Direction::Forward, hops));
        let want = ref_forward(&f.chain, &ops, Policy::Fifo, hops);
        assert_matches(Policy::Fifo, &got, &want);
        let t = &got.totals;
        assert_eq!(t.unspent_sat + t.hop_limit_sat + t.fees_sat, 50 * BTC);
    }
    // Hop 1: Hal's coin (hop 0) rests unspent; Satoshi's 40 BTC change is
    // spent at height 181 into two hop-1 coins, both at the limit.
    let got = holdings(&trace(&f, &ids, opts(Policy::Fifo, Direction::Forward, 1)));
    let summary: Vec<(&str, &str, u64)> = got
        .iter()
        .map(|(k, r)| (k.as_str(), r.why, r.tainted as u64))
        .collect();
    let (hal, a0, a1) = (
        format!("{HAL_TX}:0"),
        format!("{A16F}:0"),
        format!("{A16F}:1"),
    );
    let mut want = vec![
        (hal.as_str(), "unspent", 10 * BTC),
        (a0.as_str(), "hop-limit", 10 * BTC),
        (a1.as_str(), "hop-limit", 30 * BTC),
    ];
    want.sort();
    assert_eq!(summary, want);
}

#[test]
fn spent_coinbases_forward_match_the_reference() {
    // Seeds: every coinbase coin the file ever spends (so the trace covers
    // every transaction that moved coins in its 4,313 blocks, fees
    // included), then every second and every third of them, so that
    // transactions mix tainted and clean inputs and the policies differ.
    let f = fixture();
    let c = &f.chain;
    let mut all: Vec<OutPoint> = c
        .spender
        .keys()
        .filter(|o| c.txs[c.pos[&o.txid]].coinbase)
        .copied()
        .collect();
    all.sort_by_key(|o| (c.pos[&o.txid], o.vout));
    assert!(all.len() > 200, "{}", all.len());
    let pick = |step: usize, from: usize| -> Vec<OutPoint> {
        all.iter().skip(from).step_by(step).copied().collect()
    };
    let mut mixed = false;
    for ops in [all.clone(), pick(2, 0), pick(2, 1), pick(3, 1)] {
        let ids: Vec<OutId> = ops
            .iter()
            .map(|o| {
                let s = coins(&f.store, &key(o)).unwrap();
                assert_eq!(s.len(), 1);
                s[0]
            })
            .collect();
        let seeded: u64 = ops.iter().map(|o| c.out(o).value).sum();
        let mut by_policy = Vec::new();
        for policy in Policy::ALL {
            let got = trace(&f, &ids, opts(policy, Direction::Forward, 1000));
            let want = ref_forward(c, &ops, policy, 1000);
            assert_eq!(got.seeded_sat, seeded);
            assert_matches(policy, &got, &want);
            if policy != Policy::Poison {
                let t = &got.totals;
                let sum = t.unspent_sat + t.hop_limit_sat + t.fees_sat;
                assert!(sum.abs_diff(seeded) <= 2 * want.rest.len() as u64);
            }
            by_policy.push(want);
        }
        let haircut = &by_policy[1];
        mixed |= haircut.rest.values().any(|r| r.tainted < r.value as f64);
        for hops in [1, 2, 3, 5] {
            let got = trace(&f, &ids, opts(Policy::Fifo, Direction::Forward, hops));
            let want = ref_forward(c, &ops, Policy::Fifo, hops);
            assert_matches(Policy::Fifo, &got, &want);
        }
    }
    assert!(mixed, "the subsets exercise partial taint");
}

#[test]
fn every_moved_coin_forward_matches_the_reference() {
    // Each output of each transaction that is not a coinbase, alone as the
    // seed: partly tainted coins then meet transactions with several
    // outputs (the 1 BTC of 35288d26... at height 545, the fee-paying
    // transactions of height 2817), where FIFO and haircut part ways.
    let f = fixture();
    let c = &f.chain;
    let (mut n, mut fifo_differs) = (0, false);
    for tx in c.txs.iter().filter(|t| !t.coinbase) {
        for j in 0..tx.outputs.len() {
            let o = op_of(tx, j);
            let ids = coins(&f.store, &key(&o)).unwrap();
            let mut by_policy = Vec::new();
            for policy in Policy::ALL {
                let got = trace(&f, &ids, opts(policy, Direction::Forward, 1000));
                let want = ref_forward(c, &[o], policy, 1000);
                assert_matches(policy, &got, &want);
                by_policy.push(want);
            }
            let [_, haircut, fifo] = &by_policy[..] else {
                unreachable!("three policies")
            };
            fifo_differs |= haircut.rest.iter().any(|(k, h)| {
                fifo.rest
                    .get(k)
                    .is_none_or(|f| (f.tainted - h.tainted).abs() > 1.0)
            });
            for hops in [1, 2, 3] {
                let got = trace(&f, &ids, opts(Policy::Fifo, Direction::Forward, hops));
                let want = ref_forward(c, &[o], Policy::Fifo, hops);
                assert_matches(Policy::Fifo, &got, &want);
            }
            n += 1;
        }
    }
    assert_eq!(n, 84);
    assert!(fifo_differs, "FIFO and haircut differ somewhere");
}

#[test]
fn backward_fifo_from_every_moved_coin_matches_the_reference() {
    // Every output of every transaction that is not a coinbase, traced
    // back to the coinbases it came from.
    let f = fixture();
    let c = &f.chain;
    let mut n = 0;
    for tx in c.txs.iter().filter(|t| !t.coinbase) {
        for j in 0..tx.outputs.len() {
            let o = op_of(tx, j);
            let ids = coins(&f.store, &key(&o)).unwrap();
            let got = trace(&f, &ids, opts(Policy::Fifo, Direction::Backward, 1000));
            let (want, expanded) = ref_backward_fifo(c, o);
            let g: BTreeMap<String, u64> = holdings(&got)
                .into_iter()
                .map(|(k, r)| {
                    assert_eq!(r.why, "newly-mined", "{k}");
                    (k, r.tainted as u64)
                })
                .collect();
            assert_eq!(g, want, "{}", key(&o));
            assert_eq!(got.txs_expanded, expanded, "{}", key(&o));
            assert_eq!(got.totals.newly_mined_sat, tx.outputs[j].value);
            n += 1;
        }
    }
    // 4,397 outputs, of which 4,313 coinbases (one output each).
    assert_eq!(n, 84);
}

#[test]
fn hand_checked_facts_of_satoshis_payments() {
    let f = fixture();
    let c = &f.chain;
    // Block 170: Satoshi spends the coinbase of block 9 (50 BTC) ...
    let hal = c.tx(HAL_TX);
    assert_eq!(hal.height, 170);
    assert_eq!(hal.inputs, vec![op(CB9, 0)]);
    assert_eq!(c.tx(CB9).height, 9);
    assert!(c.tx(CB9).coinbase);
    assert_eq!(c.out(&op(CB9, 0)).address.as_deref(), Some(SATOSHI));
    // ... paying 10 BTC to Hal Finney, never spent by height 4312 ...
    assert_eq!(hal.outputs[0].value, 10 * BTC);
    assert_eq!(hal.outputs[0].address.as_deref(), Some(HAL));
    assert!(c.spender_of(&op(HAL_TX, 0)).is_none());
    // ... and 40 BTC back to himself, no fee.
    assert_eq!(hal.outputs[1].value, 40 * BTC);
    assert_eq!(hal.outputs[1].address.as_deref(), Some(SATOSHI));
    // Height 181: the 40 BTC pays 10 BTC to 1DUDsfc... (unspent), 30 back.
    let a16f = c.spender_of(&op(HAL_TX, 1)).unwrap();
    assert_eq!((a16f.txid, a16f.height), (A16F.parse().unwrap(), 181));
    assert_eq!(
        vals(a16f),
        vec![
            (10 * BTC, Some("1DUDsfc23Dv9sPMEk5RsrtfzCw5ofi5sVW")),
            (30 * BTC, Some(SATOSHI)),
        ]
    );
    assert!(c.spender_of(&op(A16F, 0)).is_none());
    // Height 182: the 30 BTC pays 1 BTC to 1LzBzVq..., 29 back.
    let t591 = c.spender_of(&op(A16F, 1)).unwrap();
    assert_eq!((t591.txid, t591.height), (TX_591E.parse().unwrap(), 182));
    assert_eq!(
        vals(t591),
        vec![
            (BTC, Some("1LzBzVqEeuQyjD2mRWHes3dgWrT9titxvq")),
            (29 * BTC, Some(SATOSHI)),
        ]
    );
    // Height 221: that 1 BTC moves on whole to 1BDvQZ..., unspent since.
    let t298 = c.spender_of(&op(TX_591E, 0)).unwrap();
    assert_eq!((t298.txid, t298.height), (TX_298C.parse().unwrap(), 221));
    assert_eq!(
        vals(t298),
        vec![(BTC, Some("1BDvQZjaAJH4ecZ8aL3fYgTi7rnn3o2thE"))]
    );
    assert!(c.spender_of(&op(TX_298C, 0)).is_none());
    // Height 183: the 29 BTC pays 1 BTC to 13HtsYz..., 28 back.
    let t12b = c.spender_of(&op(TX_591E, 1)).unwrap();
    assert_eq!((t12b.txid, t12b.height), (TX_12B5.parse().unwrap(), 183));
    assert_eq!(
        vals(t12b),
        vec![
            (BTC, Some("13HtsYzne8xVPdGDnmJX8gHgBZerAfJGEf")),
            (28 * BTC, Some(SATOSHI)),
        ]
    );
    // Height 187: that 1 BTC moves on whole to 15NUwy...
    let t438 = c.spender_of(&op(TX_12B5, 0)).unwrap();
    assert_eq!((t438.txid, t438.height), (TX_4385.parse().unwrap(), 187));
    assert_eq!(
        vals(t438),
        vec![(BTC, Some("15NUwyBYrZcnUgTagsm1A7M2yL2GntpuaZ"))]
    );
    // Height 248: the 28 BTC pays 10 BTC to 1ByLSV2..., 18 back to
    // Satoshi's address, unspent since.
    let t828 = c.spender_of(&op(TX_12B5, 1)).unwrap();
    assert_eq!((t828.txid, t828.height), (TX_828E.parse().unwrap(), 248));
    assert_eq!(
        vals(t828),
        vec![
            (10 * BTC, Some("1ByLSV2gLRcuqUmfdYcpPQH8Npm8cccsFg")),
            (18 * BTC, Some(SATOSHI)),
        ]
    );
    assert!(c.spender_of(&op(TX_828E, 1)).is_none());
    // Height 496: the two onward payments (1 BTC from 15NUwy..., 10 BTC
    // from 1ByLSV2...) are consolidated, after a clean 50 BTC coinbase coin
    // of block 360, into one unspent 61 BTC coin to 1BBz9Z15...
    let a3b0 = c.spender_of(&op(TX_4385, 0)).unwrap();
    assert_eq!((a3b0.txid, a3b0.height), (A3B0.parse().unwrap(), 496));
    assert!(std::ptr::eq(a3b0, c.spender_of(&op(TX_828E, 0)).unwrap()));
    assert_eq!(
        a3b0.inputs,
        vec![op(CB360, 0), op(TX_4385, 0), op(TX_828E, 0)]
    );
    assert!(c.tx(CB360).coinbase && c.tx(CB360).height == 360);
    assert_eq!(c.out(&op(CB360, 0)).value, 50 * BTC);
    assert_eq!(
        vals(a3b0),
        vec![(61 * BTC, Some("1BBz9Z15YpELQ4QP5sEKb1SwxkcmPb5TMs"))]
    );
    assert!(c.spender_of(&op(A3B0, 0)).is_none());

    // So FIFO, forward from block 170, rests on five unspent coins at
    // height 4312, all 50 BTC accounted for, no fee paid on the way.
    // The 61 BTC coin: its inputs in order are the untainted 50 BTC
    // coinbase (satoshis [0, 50) BTC), then the tainted 1 BTC and 10 BTC
    // ([50, 61) BTC); its one output spans [0, 61) BTC, so FIFO puts
    // exactly the last 11 BTC of it, all tainted, there: 11 of 61.
    let (ids, _) = seeds_of(&f, HAL_TX);
    let t = trace(&f, &ids, opts(Policy::Fifo, Direction::Forward, 50));
    let got: Vec<(String, u64, u64, Option<String>, u32)> = t
        .holdings
        .iter()
        .map(|h| {
            assert_eq!(h.why, "unspent");
            let s = &h.coin;
            (
                format!("{}:{}", s.txid, s.vout),
                s.tainted_sat,
                s.value_sat,
                s.address.clone(),
                s.height,
            )
        })
        .collect();
    let row = |txid: &str, tainted: u64, value: u64, addr: &str, height: u32| {
        (
            format!("{txid}:0"),
            tainted * BTC,
            value * BTC,
            Some(addr.to_string()),
            height,
        )
    };
    // Largest first, as chainhound lists them (ties: either order).
    let mut want = vec![
        (
            format!("{TX_828E}:1"),
            18 * BTC,
            18 * BTC,
            Some(SATOSHI.to_string()),
            248,
        ),
        row(A3B0, 11, 61, "1BBz9Z15YpELQ4QP5sEKb1SwxkcmPb5TMs", 496),
        row(HAL_TX, 10, 10, HAL, 170),
        row(A16F, 10, 10, "1DUDsfc23Dv9sPMEk5RsrtfzCw5ofi5sVW", 181),
        row(TX_298C, 1, 1, "1BDvQZjaAJH4ecZ8aL3fYgTi7rnn3o2thE", 221),
    ];
    let mut sorted_got = got.clone();
    sorted_got.sort();
    want.sort();
    assert_eq!(sorted_got, want);
    assert!(got.windows(2).all(|w| w[0].1 >= w[1].1), "largest first");
    assert_eq!(t.totals.unspent_sat, 50 * BTC);
    assert_eq!(t.totals.fees_sat, 0);
    // Seven transactions: 181, 182, 221, 183, 187, 248, 496.
    assert_eq!(t.txs_expanded, 7);
    // Haircut also gives 11 BTC there (11/61 of 61); poison all 61.
    for (policy, tainted) in [(Policy::Haircut, 11 * BTC), (Policy::Poison, 61 * BTC)] {
        let t = trace(&f, &ids, opts(policy, Direction::Forward, 50));
        let h = holdings(&t);
        assert_eq!(
            h[&format!("{A3B0}:0")].tainted as u64,
            tainted,
            "{policy:?}"
        );
    }
}

#[test]
fn backward_fifo_from_the_61_btc_coin_reaches_only_coinbases() {
    let f = fixture();
    let seed = format!("{A3B0}:0");
    let ids = coins(&f.store, &seed).unwrap();
    assert_eq!(ids.len(), 1);
    let got = trace(&f, &ids, opts(Policy::Fifo, Direction::Backward, 50));
    let (want, expanded) = ref_backward_fifo(&f.chain, op(A3B0, 0));
    let g = holdings(&got);
    assert!(g.values().all(|r| r.why == "newly-mined"), "{g:?}");
    let g: BTreeMap<String, u64> = g.into_iter().map(|(k, r)| (k, r.tainted as u64)).collect();
    assert_eq!(g, want);
    assert_eq!(got.txs_expanded, expanded);
    // Hand-checked: FIFO puts satoshis [0, 50) BTC of the 61 on the block
    // 360 coinbase; [50, 51) and [51, 61) go back through Satoshi's
    // chain of change (a16f's 30 BTC change at offsets [1, 2) and
    // [2, 12), f4184's 40 BTC at [11, 12) and [12, 22)) to satoshis
    // [21, 32) BTC of the block 9 coinbase: 11 BTC.
    let hand: BTreeMap<String, u64> = [
        (format!("{CB360}:0"), 50 * BTC),
        (format!("{CB9}:0"), 11 * BTC),
    ]
    .into();
    assert_eq!(g, hand);
    let t = &got.totals;
    assert_eq!(t.newly_mined_sat, 61 * BTC);
    assert_eq!(g.values().sum::<u64>(), 61 * BTC);
    assert_eq!(
        (t.fees_sat, t.pruned_sat, t.hop_limit_sat, t.unspent_sat),
        (0, 0, 0, 0)
    );
}

#[test]
fn seeds_parse_or_name_what_is_wrong() {
    let f = fixture();
    let st = &f.store;
    // Good seeds: a txid is all its outputs, txid:vout one, an address
    // every coin it received (Hal's: only the block-170 payment).
    assert_eq!(coins(st, HAL_TX).unwrap().len(), 2);
    let one = coins(st, &format!("{HAL_TX}:1")).unwrap();
    assert_eq!(
        one.iter().map(|&o| outpoint(st, o)).collect::<Vec<_>>(),
        vec![op(HAL_TX, 1)]
    );
    let hal: Vec<OutPoint> = coins(st, HAL)
        .unwrap()
        .iter()
        .map(|&o| outpoint(st, o))
        .collect();
    let c = &f.chain;
    let received: Vec<OutPoint> = c
        .txs
        .iter()
        .flat_map(|t| (0..t.outputs.len()).map(move |j| (t, j)))
        .filter(|(t, j)| t.outputs[*j].address.as_deref() == Some(HAL))
        .map(|(t, j)| op_of(t, j))
        .collect();
    assert_eq!(hal, received);
    assert_eq!(hal, vec![op(HAL_TX, 0)]);
    // Satoshi's address: the block 9 coinbase and every change coin.
    let sat = coins(st, SATOSHI).unwrap();
    assert!(sat.len() >= 6, "{}", sat.len());

    // Bad seeds: each refused, naming the input.
    let pizza = "a1075db55d416d3ca199f55b6084e2115b9345e16c5cf302fc80e9d5fbf5d48d";
    let bad_vout = format!("{HAL_TX}:7");
    let bad_num = format!("{HAL_TX}:x");
    for (s, why) in [
        (pizza, "not in the index"),
        (bad_vout.as_str(), "no output 7"),
        (bad_num.as_str(), "not a number"),
        ("garbage!", "neither a txid"),
        ("1BitcoinEaterAddressDontSendf59kuE", "never paid"),
    ] {
        let e = coins(st, s).expect_err(s);
        assert!(e.contains(s), "{s}: {e}");
        assert!(e.contains(why), "{s}: {e}");
    }
    assert!(coins(st, "  ").is_err());
}
