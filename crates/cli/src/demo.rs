//! `chainhound demo`: simulate a small economy with a heist, ingest it the
//! way a real datadir is ingested, and show what an investigation starts
//! from: the heist as the index shows it, the money followed hop by hop,
//! the entities, screening of exchange deposits against the incident, and
//! the stolen coins traced forward to the exchanges, and the simulator's
//! ground truth to check it all against.

use crate::output::btc;
use crate::simulate::SimBar;
use anyhow::{Context, Result};
use chainhound_chain::amount::sum_sats;
use chainhound_chain::Txid;
use chainhound_entities::cluster::{self, ClusterOptions, Clusters};
use chainhound_entities::eval::evaluate;
use chainhound_index::query::{Query, TxView};
use chainhound_index::source::Source;
use chainhound_index::store::Store;
use chainhound_intel::book::{labels_dir, LabelBook};
use chainhound_intel::formats::read_files;
use chainhound_intel::label::Category;
use chainhound_intel::resolve::Resolved;
use chainhound_intel::screen::{Finding, Options as ScreenOptions, Screener};
use chainhound_intel::severity::Rules;
use chainhound_sim::datadir::{write_economy, DEFAULT_XOR};
use chainhound_sim::economy::Params;
use chainhound_sim::truth::{EntityKind, Role, Truth, TxKind};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;

pub fn run(seed: u64, keep: Option<PathBuf>) -> Result<()> {
    let tmp;
    let root = match keep {
        Some(p) => {
            std::fs::create_dir_all(&p).with_context(|| format!("creating {}", p.display()))?;
            p
        }
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let t = Instant::now();
    println!("== chainhound demo (seed {seed}) ==");
    let node = root.join("node");
    let params = Params::small(seed);
    let mut bar = SimBar::new(false, params.blocks as u64);
    let sim = write_economy(params, &node, DEFAULT_XOR, &mut bar)?;
    bar.finish();
    println!(
        "simulated   {} regtest blocks, {} txs, {} users in {:.1} s into {} (truth in {}/truth)",
        sim.blocks,
        sim.txs,
        sim.users,
        sim.seconds,
        node.display(),
        node.display()
    );
    let index = root.join("index");
    let report = crate::ingest_quiet(&Source::datadir(&node)?, &index)?;
    println!(
        "ingested    {} blocks, {} txs in {:.2} s",
        report.blocks_added, report.txs_added, report.seconds,
    );
    let store = Store::open(&index)?;
    let q = Query::new(&store);
    let stats = q.stats();
    println!(
        "index       {} addresses, {} outputs ({} unspent), {:.0} bytes per tx",
        stats.addresses, stats.outputs, stats.unspent_outputs, stats.bytes_per_tx
    );

    let truth = Truth::load(&node.join("truth"))?;
    let owner: HashMap<&str, (u32, Role, Option<u32>)> = truth
        .addresses
        .iter()
        .map(|a| (a.address.as_str(), (a.entity, a.role, a.customer)))
        .collect();
    let name = |e: u32| truth.entity(e).map(|e| e.name.as_str()).unwrap_or("?");
    let describe = |addr: &str| match owner.get(addr) {
        Some((e, Role::Deposit, Some(c))) => {
            format!("deposit address of {} at {}", name(*c), name(*e))
        }
        Some((e, role, _)) => format!("{} address of {}", role.name(), name(*e)),
        None => "unknown".to_string(),
    };

    // The heist, as the index shows it.
    let Some(heist) = truth.txs.iter().find(|t| t.kind == TxKind::Heist) else {
        println!("no heist in this economy");
        return Ok(());
    };
    let heist_id = heist.txid;
    let htx = q
        .tx(&heist_id)
        .context("the heist tx is not in the index")?;
    let from = htx.inputs[0].address.clone().unwrap_or_default();
    println!(
        "heist       block {} ({}): tx {} took {} BTC in {} inputs from {}",
        htx.height,
        crate::output::time(htx.time),
        htx.txid,
        btc(htx.value_in),
        htx.inputs.len(),
        from
    );
    println!("            truth: {}", describe(&from));

    // Follow the money: from each output of the transaction that spends
    // the heist, keep to the largest output while transactions have one
    // input (a peel chain), and note where the small outputs go.
    let split = htx.outputs[0]
        .spent_by
        .as_ref()
        .and_then(|s| q.tx(&s.txid))
        .context("the heist output is unspent")?;
    println!(
        "split       tx {} at block {}: {} outputs",
        split.txid,
        split.height,
        split.outputs.len()
    );
    let mut best: Option<(Vec<TxView>, BTreeMap<String, u64>)> = None;
    let mut peel_dest: Option<String> = None;
    for o in &split.outputs {
        let chain = follow_largest(&q, o.spent_by.as_ref().map(|s| s.txid), 60);
        if chain.0.len() > best.as_ref().map_or(0, |b| b.0.len()) {
            best = Some(chain);
        }
    }
    if let Some((chain, peeled)) = best {
        let (first, last) = (&chain[0], &chain[chain.len() - 1]);
        println!(
            "peel chain  {} hops from block {} to {} ({:.1} days), found by keeping to the largest output",
            chain.len(),
            first.height,
            last.height,
            (last.time - first.time) as f64 / 86_400.0
        );
        for (addr, v) in &peeled {
            println!(
                "  peeled    {} BTC to {addr}: truth: {}",
                btc(*v),
                describe(addr)
            );
        }
        peel_dest = peeled.keys().next().cloned();
    }

    // Entities: common-input clustering with CoinJoins left out.
    let (st, secs) = cluster::update(
        &store,
        &index,
        &ClusterOptions::default(),
        &mut crate::entity::coinjoin_detector(),
    )?;
    let clusters = Clusters::open(&cluster::clusters_dir(&index))?;
    let owned: Vec<(u32, u32)> = truth
        .addresses
        .iter()
        .filter_map(|a| {
            q.find_address(&a.address)
                .ok()
                .flatten()
                .map(|(id, _)| (clusters.root_of(id.0), a.entity))
        })
        .collect();
    let ev = evaluate(owned);
    println!(
        "entities    {} clusters of {} addresses in {:.2} s ({} CoinJoins left out); against the truth: precision {:.4}, recall {:.4}",
        st.clusters, st.addrs, secs, st.coinjoins, ev.precision, ev.recall
    );
    if let Some(dest) = peel_dest {
        if let Ok(Some((a, _))) = q.find_address(&dest) {
            let members = clusters.members(a.0, 0, usize::MAX);
            let mut owners: BTreeMap<&str, usize> = BTreeMap::new();
            for m in &members {
                let s = chainhound_chain::address::encode(&store.addr_key(*m), store.network());
                let o = owner.get(s.as_str()).map(|o| name(o.0)).unwrap_or("?");
                *owners.entry(o).or_default() += 1;
            }
            let owners: Vec<String> = owners.iter().map(|(n, k)| format!("{k} {n}")).collect();
            println!(
                "  peel to   {dest} is in entity {} of {} addresses; truth: {}",
                clusters.root_of(a.0),
                members.len(),
                owners.join(", ")
            );
        }
    }

    // Screening: the heist filed as an incident (a label on its txid) and
    // the sanctioned entity's published address as a sanctions list names
    // it; then every exchange deposit since the heist screened.
    let incident = root.join("incident.csv");
    std::fs::write(
        &incident,
        format!("txid,label,category,source\n{heist_id},Harbor Exchange heist,stolen-funds,incident report\n"),
    )?;
    let lists = root.join("lists.csv");
    std::fs::write(
        &lists,
        truth.labels_csv(|e, a| match (e.kind, a.role) {
            (EntityKind::Sanctioned, Role::Published) => Some("sanctions"),
            (EntityKind::Exchange, Role::Hot | Role::Cold) => Some("exchange"),
            _ => None,
        }),
    )?;
    let mut book = LabelBook::default();
    book.import(
        read_files(&[incident, lists]).map_err(|p| anyhow::anyhow!("{p}"))?,
        false,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    book.save(&labels_dir(&index))?;
    let resolved = Resolved::build(
        &book,
        &store,
        Clusters::open(&cluster::clusters_dir(&index)).ok(),
    );
    let rules = Rules::default();
    let screener = Screener::new(
        Some(&store),
        &book,
        &resolved,
        &rules,
        ScreenOptions::default(),
    );
    let deep = Screener::new(
        Some(&store),
        &book,
        &resolved,
        &rules,
        ScreenOptions {
            hops: 32,
            ..ScreenOptions::default()
        },
    );
    let cashouts: std::collections::HashSet<Txid> = truth.cashouts.iter().map(|c| c.txid).collect();
    let deposits: Vec<&chainhound_sim::truth::TxTruth> = truth
        .txs
        .iter()
        .filter(|t| {
            t.height >= heist.height
                && (matches!(t.kind, TxKind::Deposit | TxKind::Cashout)
                    || cashouts.contains(&t.txid))
        })
        .collect();
    let ts = Instant::now();
    let (mut caught, mut caught_deep) = (0usize, 0usize);
    let (mut others, mut sanctioned) = (Vec::new(), 0usize);
    let mut severities: BTreeMap<&str, usize> = BTreeMap::new();
    let mut example = None;
    for d in &deposits {
        let r = screener
            .screen(&d.txid.to_string())
            .map_err(anyhow::Error::msg)?;
        let share = |c: Category| {
            r.exposure
                .iter()
                .find(|e| e.category == c)
                .map_or(0.0, |e| e.share)
        };
        let stolen = share(Category::StolenFunds);
        if cashouts.contains(&d.txid) {
            caught += usize::from(stolen > 0.0);
            let r = deep
                .screen(&d.txid.to_string())
                .map_err(anyhow::Error::msg)?;
            let f = r
                .findings
                .iter()
                .find(|f| f.category == Category::StolenFunds);
            caught_deep += usize::from(f.is_some());
            if example.as_ref().is_none_or(|e: &Finding| {
                f.is_some_and(|f| f.share > 0.999 && f.hops > e.hops && f.hops <= 6)
            }) {
                example = f.cloned();
            }
        } else if stolen > 0.0 {
            others.push(stolen);
        }
        sanctioned += usize::from(share(Category::Sanctions) > 0.0);
        *severities
            .entry(r.severity.map_or("none", |s| s.name()))
            .or_default() += 1;
    }
    others.sort_by(|a, b| a.total_cmp(b));
    println!(
        "screening   {} exchange deposits since the heist, 4 hops back (cash-outs also 32), in {:.2} s; labelled: the heist txid (an incident), the sanctioned entity's address (a list), the exchanges' hot and cold wallets (as exchange TagPacks do)",
        deposits.len(),
        ts.elapsed().as_secs_f64()
    );
    println!(
        "  cash-outs stolen-funds exposure in {caught} of the truth's {} cash-outs within 4 hops, {caught_deep} within 32 (peel chains are long)",
        truth.cashouts.len()
    );
    println!(
        "  others    {} other deposits carry a share of the loot (median {:.2}%: coins the hacker paid to users, spread by the haircut rule); {sanctioned} carry sanctioned funds",
        others.len(),
        others.get(others.len() / 2).map_or(0.0, |x| x * 100.0)
    );
    let sev: Vec<String> = ["severe", "high", "medium", "low", "none"]
        .iter()
        .map(|k| format!("{k} {}", severities.get(k).copied().unwrap_or(0)))
        .collect();
    println!("  severity  {}", sev.join(", "));
    if let Some(f) = example {
        println!(
            "  evidence  {} of a cash-out, {:.0}% stolen funds, {} hops from the heist ({} rule {}):",
            btc(f.amount_sat),
            f.share * 100.0,
            f.hops,
            f.severity.map_or("-", |s| s.name()),
            f.rule
        );
        for (i, p) in f.path.iter().enumerate() {
            println!(
                "    {} {}{} {} BTC{}",
                if i == 0 { "from" } else { "  ->" },
                p.txid,
                p.vout
                    .map_or(" (the screened deposit)".to_string(), |v| format!(":{v}")),
                btc(p.value_sat),
                p.address
                    .as_deref()
                    .map(|a| format!(" to {a}: truth: {}", describe(a)))
                    .unwrap_or_default()
            );
        }
    }

    // Tracing: the heist followed forward under FIFO with the same labels;
    // where it went, checked against the truth's cash-outs.
    let tt = Instant::now();
    let seeds =
        chainhound_trace::seed::coins(&store, &heist_id.to_string()).map_err(anyhow::Error::msg)?;
    let traced = chainhound_trace::Tracer::new(
        &store,
        Some((&book, &resolved)),
        chainhound_trace::Options::default(),
    )
    .trace(&seeds);
    let hacker_deposits: std::collections::HashSet<&str> =
        truth.cashouts.iter().map(|c| c.address.as_str()).collect();
    let tot = &traced.totals;
    println!(
        "tracing     FIFO forward from the heist, 10 hops (peel chains not counted), CoinJoins shared, in {:.2} s ({} txs): {} BTC at exchanges, {} BTC unspent (to freeze), {} BTC possible after CoinJoins",
        tt.elapsed().as_secs_f64(),
        traced.txs_expanded,
        btc(tot.entities_sat),
        btc(tot.unspent_sat),
        btc(tot.possible_sat)
    );
    for e in &traced.entities {
        let deposits: std::collections::BTreeSet<&str> = e
            .addresses
            .iter()
            .flat_map(|a| {
                a.from_addresses
                    .iter()
                    .map(String::as_str)
                    .chain([a.address.as_str()])
            })
            .filter(|a| hacker_deposits.contains(a))
            .collect();
        println!(
            "  went to   {} ({}): {} BTC in {} coins, first at block {}; the hacker's deposit addresses among them: {} (truth)",
            e.name,
            e.category.name(),
            btc(e.amount_sat),
            e.outputs,
            e.first_height,
            if deposits.is_empty() {
                "none".to_string()
            } else {
                deposits.into_iter().collect::<Vec<_>>().join(", ")
            }
        );
    }
    println!(
        "  report    chainhound --index {} trace {heist_id} --format html -o case.html",
        index.display()
    );

    // The ground truth of the laundering, to check tracing against.
    let kinds = |k: TxKind| truth.txs.iter().filter(|t| t.kind == k).count();
    let mut by_exchange: BTreeMap<u32, (u64, usize)> = BTreeMap::new();
    for c in &truth.cashouts {
        let e = by_exchange.entry(c.exchange).or_default();
        e.0 = e.0.saturating_add(c.stolen);
        e.1 += 1;
    }
    println!(
        "truth       the loot went through {} peels, {} hops, a Wasabi round and the mixer: {} BTC cashed out in {} deposits",
        kinds(TxKind::Peel),
        kinds(TxKind::Hop),
        btc(sum_sats(truth.cashouts.iter().map(|c| c.stolen))),
        truth.cashouts.len()
    );
    for (e, (v, n)) in &by_exchange {
        println!("  at        {}: {} BTC in {n} deposits", name(*e), btc(*v));
    }
    let mut miners: BTreeMap<u32, usize> = BTreeMap::new();
    for b in &truth.blocks {
        *miners.entry(b.miner).or_default() += 1;
    }
    let newcomer = truth
        .entities
        .iter()
        .find(|e| e.kind == EntityKind::Miner)
        .map(|e| (e.name.clone(), miners.get(&e.id).copied().unwrap_or(0)));
    if let Some((n, blocks)) = newcomer {
        println!(
            "miners      {} pools with real pools' coinbase tags, and a newcomer, {n}, who mined {blocks} blocks under a tag in no pool list",
            miners.len() - 1
        );
    }
    println!(
        "try         chainhound --index {} tx {}",
        index.display(),
        htx.txid
    );
    println!("done in {:.1} s", t.elapsed().as_secs_f64());
    Ok(())
}

/// From `start`, the chain of transactions reached by following the
/// largest output while each has one input, up to `max` hops; and the
/// value each other output address received along it.
fn follow_largest(
    q: &Query,
    start: Option<Txid>,
    max: usize,
) -> (Vec<TxView>, BTreeMap<String, u64>) {
    let mut chain = Vec::new();
    let mut peeled = BTreeMap::new();
    let mut next = start;
    while let Some(id) = next.take() {
        let Some(tx) = q.tx(&id) else { break };
        if tx.inputs.len() != 1 || chain.len() >= max {
            break;
        }
        let largest = tx
            .outputs
            .iter()
            .max_by_key(|o| (o.value, std::cmp::Reverse(o.index)))
            .map(|o| o.index);
        for o in &tx.outputs {
            if Some(o.index) != largest {
                let v: &mut u64 = peeled
                    .entry(o.address.clone().unwrap_or_default())
                    .or_default();
                *v = v.saturating_add(o.value);
            }
        }
        next = largest.and_then(|i| tx.outputs[i as usize].spent_by.as_ref().map(|s| s.txid));
        chain.push(tx);
    }
    (chain, peeled)
}
