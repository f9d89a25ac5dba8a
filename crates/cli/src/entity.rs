//! `chainhound cluster`, `entity` and `eval clustering`: build the clusters
//! beside the index, show an entity, measure clustering against a
//! simulator's ground truth.

use crate::output::{btc, json};
use anyhow::{bail, Context, Result};
use chainhound_entities::cluster::{self, build, ClusterOptions, ClusterState, Clusters};
use chainhound_entities::coinjoin::{Detector, Params};
use chainhound_entities::eval::{evaluate, Eval};
use chainhound_index::query::Query;
use chainhound_index::store::{AddrId, OutId, Store, TxNum};
use chainhound_sim::truth::Truth;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// The CoinJoin test clustering uses: any detector of
/// [`chainhound_entities::coinjoin`] fires.
pub fn coinjoin_detector() -> impl FnMut(&Store, TxNum) -> bool {
    let mut d = Detector::new(Params::default());
    move |s, t| d.classify_tx(s, t).is_some()
}

/// Builds or updates the clusters of the index and prints what they hold.
pub fn cluster_cmd(
    index: &Path,
    store: &Store,
    opts: &ClusterOptions,
    as_json: bool,
) -> Result<()> {
    for h in &opts.change {
        if chainhound_entities::change::Heuristic::from_name(h).is_none() {
            bail!("unknown change heuristic {h:?} ({})", heuristic_names());
        }
    }
    let (st, secs) = cluster::update(store, index, opts, &mut coinjoin_detector())
        .with_context(|| format!("writing {}", cluster::clusters_dir(index).display()))?;
    if as_json {
        return json(&st);
    }
    print_state(&st, secs);
    Ok(())
}

fn heuristic_names() -> String {
    chainhound_entities::change::Heuristic::ALL
        .iter()
        .map(|h| h.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_state(st: &ClusterState, secs: f64) {
    println!(
        "clusters    {} of {} addresses over {} txs in {:.2} s; largest {} addresses",
        st.clusters, st.addrs, st.txs, secs, st.largest
    );
    println!(
        "merged      {} txs by common inputs; {} CoinJoins left out; {} change links ({})",
        st.merged_txs,
        st.coinjoins,
        st.change_links,
        if st.options.change.is_empty() {
            "no change heuristics".to_string()
        } else {
            st.options.change.join(", ")
        }
    );
    if st.held_count > 0 {
        println!(
            "held back   {} merges of two clusters of {}+ addresses (collapse guard), e.g.:",
            st.held_count, st.options.guard
        );
        for h in st.held.iter().take(5) {
            println!(
                "  tx {} would join clusters of {:?} addresses",
                h.txid, h.sizes
            );
        }
    }
}

/// An entity: its cluster, totals, members and counterparties.
#[derive(Debug, Serialize)]
pub struct EntityView {
    /// The entity id: its cluster's root address id.
    pub id: u32,
    /// Addresses.
    pub size: u32,
    /// Received in all.
    pub received: u64,
    /// Sent in all.
    pub sent: u64,
    /// Balance.
    pub balance: u64,
    /// Outputs received.
    pub outputs: u64,
    /// First seen (height).
    pub first_seen: Option<u32>,
    /// Last seen (height).
    pub last_seen: Option<u32>,
    /// Members shown (id order), with balance.
    pub addresses: Vec<(String, u64)>,
    /// Offset of the first one shown.
    pub offset: usize,
    /// Entities that paid it most: (entity id, an address, value).
    pub top_senders: Vec<(u32, String, u64)>,
    /// Entities it paid most.
    pub top_receivers: Vec<(u32, String, u64)>,
    /// Whether counterparties were computed from part of its history only.
    pub partial: bool,
}

/// Outputs looked at for counterparties, at most.
const COUNTERPARTY_BUDGET: usize = 200_000;

/// Shows the entity of an address (or of an entity id).
pub fn entity_cmd(
    index: &Path,
    store: &Store,
    who: &str,
    offset: usize,
    limit: usize,
    as_json: bool,
) -> Result<bool> {
    let dir = cluster::clusters_dir(index);
    let c = Clusters::open(&dir).with_context(|| {
        format!(
            "no clusters at {} (run `chainhound cluster` first)",
            dir.display()
        )
    })?;
    let q = Query::new(store);
    let a = match who.parse::<u32>() {
        Ok(id) if (id as u64) < c.state.addrs => id,
        Ok(id) => bail!(
            "entity {id} does not exist ({} addresses clustered)",
            c.state.addrs
        ),
        Err(_) => match q.find_address(who)? {
            Some((a, _)) if (a.0 as u64) < c.state.addrs => a.0,
            Some(_) => bail!("{who} is newer than the clusters (run `chainhound cluster` again)"),
            None => {
                eprintln!("chainhound: address {who} never appears in the indexed chain");
                return Ok(false);
            }
        },
    };
    let root = c.root_of(a);
    let size = c.size_of(root);
    let all = c.members(root, 0, usize::MAX);
    let mut v = EntityView {
        id: root,
        size,
        received: 0,
        sent: 0,
        balance: 0,
        outputs: 0,
        first_seen: None,
        last_seen: None,
        addresses: Vec::new(),
        offset,
        top_senders: Vec::new(),
        top_receivers: Vec::new(),
        partial: false,
    };
    let mut from: HashMap<u32, (u64, u32)> = HashMap::new();
    let mut to: HashMap<u32, (u64, u32)> = HashMap::new();
    let mut budget = COUNTERPARTY_BUDGET;
    let mut seen_in: BTreeSet<u32> = BTreeSet::new();
    let mut seen_out: BTreeSet<u32> = BTreeSet::new();
    // One walk over each member's outputs gives the totals and, within the
    // budget, the counterparties.
    for (i, &m) in all.iter().enumerate() {
        let mut balance = 0u64;
        for o in q.address_outputs(m) {
            let value = store.out_value(o);
            let t = store.out_tx(o);
            let height = store.tx_height(t);
            v.received = v.received.saturating_add(value);
            v.outputs += 1;
            v.first_seen = min_opt(v.first_seen, Some(height));
            v.last_seen = v.last_seen.max(Some(height));
            let spender = store.out_spender(o);
            match spender {
                Some((st, _)) => {
                    v.sent = v.sent.saturating_add(value);
                    v.last_seen = v.last_seen.max(Some(store.tx_height(st)));
                }
                None => balance = balance.saturating_add(value),
            }
            if budget == 0 {
                v.partial = true;
                continue;
            }
            budget -= 1;
            // Who paid this output: the other entities among the inputs of
            // the transaction that made it.
            if seen_in.insert(t.0) {
                tally_inputs(store, &c, t, root, &mut from);
            }
            // Whom the spending transaction paid.
            if let Some((st, _)) = spender {
                if seen_out.insert(st.0) {
                    for p in store.tx_outputs(st) {
                        let p = OutId(p);
                        if let Some(x) = store.out_addr(p).filter(|x| (x.0 as u64) < c.state.addrs)
                        {
                            let r = c.root_of(x.0);
                            if r != root {
                                let e = to.entry(r).or_insert((0, x.0));
                                e.0 = e.0.saturating_add(store.out_value(p));
                            }
                        }
                    }
                }
            }
        }
        v.balance = v.balance.saturating_add(balance);
        if i >= offset && v.addresses.len() < limit {
            v.addresses.push((address_string(store, m), balance));
        }
    }
    let top = |m: HashMap<u32, (u64, u32)>| {
        let mut v: Vec<(u32, u64, u32)> = m.into_iter().map(|(r, (val, a))| (r, val, a)).collect();
        v.sort_by_key(|x| (std::cmp::Reverse(x.1), x.0));
        v.truncate(10);
        v.into_iter()
            .map(|(r, val, a)| (r, address_string(store, AddrId(a)), val))
            .collect::<Vec<_>>()
    };
    v.top_senders = top(from);
    v.top_receivers = top(to);
    if as_json {
        json(&v)?;
    } else {
        print_entity(&v)?;
    }
    Ok(true)
}

fn tally_inputs(
    store: &Store,
    c: &Clusters,
    t: TxNum,
    root: u32,
    from: &mut HashMap<u32, (u64, u32)>,
) {
    for i in store.tx_inputs(t) {
        if let Ok(Some(p)) = store.in_prevout(i) {
            if let Some(x) = store.out_addr(p).filter(|x| (x.0 as u64) < c.state.addrs) {
                let r = c.root_of(x.0);
                if r != root {
                    let e = from.entry(r).or_insert((0, x.0));
                    e.0 = e.0.saturating_add(store.out_value(p));
                }
            }
        }
    }
}

fn min_opt(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn address_string(store: &Store, a: AddrId) -> String {
    chainhound_chain::address::encode(&store.addr_key(a), store.network())
}

fn print_entity(v: &EntityView) -> Result<()> {
    let mut o = std::io::stdout().lock();
    writeln!(o, "entity      {} ({} addresses)", v.id, v.size)?;
    writeln!(o, "balance     {} BTC", btc(v.balance))?;
    writeln!(
        o,
        "received    {} BTC in {} outputs",
        btc(v.received),
        v.outputs
    )?;
    writeln!(o, "sent        {} BTC", btc(v.sent))?;
    if let (Some(f), Some(l)) = (v.first_seen, v.last_seen) {
        writeln!(o, "seen        heights {f} to {l}")?;
    }
    let (a, b) = (v.offset, v.offset + v.addresses.len());
    writeln!(o, "addresses   {a}..{b} of {}:", v.size)?;
    for (addr, bal) in &v.addresses {
        writeln!(o, "  {addr}  {} BTC", btc(*bal))?;
    }
    let partial = if v.partial {
        " (from part of its history)"
    } else {
        ""
    };
    writeln!(o, "paid by{partial}:")?;
    for (id, addr, val) in &v.top_senders {
        writeln!(o, "  entity {id:<10} {} BTC  e.g. {addr}", btc(*val))?;
    }
    writeln!(o, "paid to{partial}:")?;
    for (id, addr, val) in &v.top_receivers {
        writeln!(o, "  entity {id:<10} {} BTC  e.g. {addr}", btc(*val))?;
    }
    Ok(())
}

/// One line of `eval clustering`.
#[derive(Debug, Serialize)]
pub struct EvalRow {
    /// Which clustering: `multi-input` or `multi-input + <heuristic>`.
    pub method: String,
    /// The figures.
    pub eval: Eval,
    /// Merges held back by the guard.
    pub held: u64,
    /// Seconds to cluster.
    pub seconds: f64,
}

/// Clusters the index (in memory) with multi-input alone and with each
/// named heuristic (all if none named), and measures each against the
/// truth of a simulated chain.
pub fn eval_cmd(
    store: &Store,
    truth_dir: &Path,
    base: &ClusterOptions,
    heuristics: &[String],
    as_json: bool,
) -> Result<()> {
    let truth =
        Truth::load(truth_dir).with_context(|| format!("reading truth {}", truth_dir.display()))?;
    let q = Query::new(store);
    // Each indexed address with its true owner.
    let mut owned: Vec<(u32, u32)> = Vec::new();
    for a in &truth.addresses {
        if let Ok(Some((id, _))) = q.find_address(&a.address) {
            owned.push((id.0, a.entity));
        }
    }
    if owned.is_empty() {
        bail!(
            "no address of {} is in the index: is it the index of that chain?",
            truth_dir.display()
        );
    }
    let names: Vec<String> = if heuristics.is_empty() {
        chainhound_entities::change::Heuristic::ALL
            .iter()
            .map(|h| h.name().to_string())
            .collect()
    } else {
        heuristics.to_vec()
    };
    let mut configs = vec![("multi-input".to_string(), base.clone())];
    for n in &names {
        if chainhound_entities::change::Heuristic::from_name(n).is_none() {
            bail!("unknown change heuristic {n:?} ({})", heuristic_names());
        }
        let mut o = base.clone();
        o.change = vec![n.clone()];
        configs.push((format!("multi-input + {n}"), o));
    }
    let mut rows = Vec::new();
    for (method, opts) in configs {
        let t = Instant::now();
        let (mut uf, st) = build(store, &opts, &mut coinjoin_detector());
        let seconds = t.elapsed().as_secs_f64();
        let eval = evaluate(owned.iter().map(|&(a, e)| (uf.find(a), e)));
        rows.push(EvalRow {
            method,
            eval,
            held: st.held_count,
            seconds,
        });
    }
    if as_json {
        return json(&rows);
    }
    println!(
        "{} addresses of {} true entities; guard {}",
        rows[0].eval.addresses, rows[0].eval.entities, base.guard
    );
    println!(
        "{:<34} {:>9} {:>9} {:>7} {:>7} {:>9} {:>14} {:>6}",
        "method", "precision", "recall", "F1", "purity", "clusters", "largest wrong", "held"
    );
    for r in &rows {
        let w = r
            .eval
            .largest_wrong_merge
            .as_ref()
            .map(|w| w.size())
            .unwrap_or(0);
        println!(
            "{:<34} {:>9.4} {:>9.4} {:>7.4} {:>7.4} {:>9} {:>14} {:>6}",
            r.method,
            r.eval.precision,
            r.eval.recall,
            r.eval.f1,
            r.eval.purity,
            r.eval.clusters,
            w,
            r.held
        );
    }
    Ok(())
}

/// After an ingest: brings existing clusters up to date with their own
/// options (none there: nothing to do).
pub fn refresh_after_ingest(index: &Path, quiet: bool) -> Result<()> {
    let dir = cluster::clusters_dir(index);
    let Ok(old) = Clusters::open(&dir) else {
        return Ok(());
    };
    let opts = old.state.options.clone();
    drop(old);
    let store = Store::open(index)?;
    let (st, secs) = cluster::update(&store, index, &opts, &mut coinjoin_detector())
        .with_context(|| format!("updating {}", dir.display()))?;
    if !quiet {
        eprintln!(
            "chainhound: clusters updated: {} clusters of {} addresses in {:.2} s",
            st.clusters, st.addrs, secs
        );
    }
    Ok(())
}
