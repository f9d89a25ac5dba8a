//! Screening benchmark: single-address screening latency with N-hop
//! exposure (p50/p90/p99/max), transaction screening latency, and exact
//! label lookups per second, on a simulated economy's index with labels
//! from its ground truth plus, when given, real label files (GraphSense
//! TagPacks, OFAC lists) so the book has realistic size.
//!
//! ```text
//! screen_bench --sim DIR [--hops 3] [--samples 10000] [--labels FILE...]
//! screen_bench [--txs N] [--seed S] [--hops 3] [--samples 10000] [--labels FILE...]
//! ```
//!
//! `--sim DIR` is the output folder of `chainhound simulate` (with
//! `truth/`), ingested into `DIR/index` (clustered or not: clusters, when
//! present, lift labels to entities). Without it, an economy of N
//! transactions (default 200,000) is simulated and ingested in a temporary
//! folder. Targets are drawn uniformly (fixed seed) from the index's
//! address ids and transactions; each is screened once, after one warm-up
//! pass over a separate sample.

use chainhound_chain::address;
use chainhound_entities::cluster::{self, Clusters};
use chainhound_index::ingest::{ingest, IngestOptions, NoProgress};
use chainhound_index::source::Source;
use chainhound_index::store::{AddrId, Store, TxNum};
use chainhound_intel::book::LabelBook;
use chainhound_intel::formats::read_files;
use chainhound_intel::resolve::Resolved;
use chainhound_intel::screen::{Options, Screener};
use chainhound_intel::severity::Rules;
use chainhound_sim::datadir::{write_economy, Quiet};
use chainhound_sim::economy::Params;
use chainhound_sim::rng::Rng;
use chainhound_sim::truth::{EntityKind, Role, Truth, TxKind};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn usage() -> ! {
    eprintln!(
        "usage: screen_bench [--sim DIR | --txs N --seed S] [--hops H] [--samples K] [--labels FILE...]"
    );
    std::process::exit(2)
}

fn percentiles(mut v: Vec<f64>) -> String {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)];
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    format!(
        "mean {:.3} ms  p50 {:.3} ms  p90 {:.3} ms  p99 {:.3} ms  max {:.3} ms",
        mean * 1e3,
        p(0.50) * 1e3,
        p(0.90) * 1e3,
        p(0.99) * 1e3,
        v[v.len() - 1] * 1e3
    )
}

fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let (mut sim, mut txs, mut seed, mut hops, mut samples) =
        (None, 200_000u64, 5u64, 3u32, 10_000usize);
    let mut extra: Vec<PathBuf> = Vec::new();
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--sim" => sim = Some(PathBuf::from(val())),
            "--txs" => txs = val().parse().unwrap_or_else(|_| usage()),
            "--seed" => seed = val().parse().unwrap_or_else(|_| usage()),
            "--hops" => hops = val().parse().unwrap_or_else(|_| usage()),
            "--samples" => samples = val().parse().unwrap_or_else(|_| usage()),
            "--labels" => extra.push(PathBuf::from(val())),
            _ => usage(),
        }
    }
    let _tmp;
    let dir = match sim {
        Some(d) => d,
        None => {
            let t = tempfile::tempdir()?;
            let d = t.path().to_path_buf();
            _tmp = t;
            eprintln!("simulating {txs} transactions (seed {seed})...");
            let t0 = Instant::now();
            let params = Params::sized(seed, None, None, Some(txs))?;
            write_economy(params, &d, [0; 8], &mut Quiet)?;
            ingest(
                &Source::datadir(&d)?,
                &d.join("index"),
                &IngestOptions::default(),
                &mut NoProgress,
            )?;
            eprintln!(
                "simulated and ingested in {:.1} s",
                t0.elapsed().as_secs_f64()
            );
            d
        }
    };
    let index = dir.join("index");
    let store = Store::open(&index)?;
    let counts = store.counts();
    let truth = Truth::load(&dir.join("truth"))?;

    // Labels: the truth's sanctioned entity, mixer, exchanges and heist,
    // as users' CSV files, plus any real files given.
    let work = tempfile::tempdir()?;
    let owners = truth.labels_csv(|e, _| match e.kind {
        EntityKind::Sanctioned => Some("sanctions"),
        EntityKind::Mixer => Some("mixer"),
        EntityKind::Exchange => Some("exchange"),
        EntityKind::Pool | EntityKind::Miner => Some("miner"),
        _ => None,
    });
    let mut heist = String::from("txid,label,category\n");
    for t in truth.txs.iter().filter(|t| t.kind == TxKind::Heist) {
        writeln!(heist, "{},Harbor heist,stolen-funds", t.txid)?;
    }
    let (fo, fh) = (
        work.path().join("owners.csv"),
        work.path().join("heist.csv"),
    );
    std::fs::write(&fo, owners)?;
    std::fs::write(&fh, heist)?;
    let mut files = vec![fo, fh];
    files.extend(extra);
    let t0 = Instant::now();
    let read = read_files(&files).map_err(|p| p.to_string())?;
    let mut book = LabelBook::default();
    book.import(read, true).map_err(|e| e.to_string())?;
    let t_import = t0.elapsed().as_secs_f64();
    book.save(work.path())?;
    let t0 = Instant::now();
    let book = LabelBook::open(work.path())?;
    let t_open = t0.elapsed().as_secs_f64();
    let clusters = Clusters::open(&cluster::clusters_dir(&index)).ok();
    let has_clusters = clusters.is_some();
    let t0 = Instant::now();
    let resolved = Resolved::build(&book, &store, clusters);
    let t_resolve = t0.elapsed().as_secs_f64();
    let (la, lt, le) = resolved.counts();
    println!(
        "index: {} blocks, {} txs, {} addresses{}",
        counts.blocks,
        counts.txs,
        counts.addrs,
        if has_clusters { ", clustered" } else { "" }
    );
    println!(
        "labels: {} in the book ({} files); import {:.2} s, open {:.3} s, resolve {:.3} s: {la} addresses, {lt} txs, {le} entities labelled, {} conflicts",
        book.len(),
        files.len(),
        t_import,
        t_open,
        t_resolve,
        resolved.conflicts.len()
    );

    let rules = Rules::default();
    let opts = Options {
        hops,
        ..Options::default()
    };
    let sc = Screener::new(Some(&store), &book, &resolved, &rules, opts);
    let net = store.network();
    let mut rng = Rng::new(0x5eed);
    let addr = |rng: &mut Rng| {
        address::encode(
            &store.addr_key(AddrId(rng.below(counts.addrs as u64) as u32)),
            net,
        )
    };
    // Warm-up (page cache and allocator), then the timed sample.
    for _ in 0..samples.min(2_000) {
        let _ = sc.screen(&addr(&mut rng));
    }
    let mut times = Vec::with_capacity(samples);
    let (mut exposed, mut severe, mut truncated, mut expanded) = (0usize, 0usize, 0usize, 0usize);
    let targets: Vec<String> = (0..samples).map(|_| addr(&mut rng)).collect();
    let t_all = Instant::now();
    for t in &targets {
        let t0 = Instant::now();
        let s = sc.screen(t).map_err(|e| e.to_string())?;
        times.push(t0.elapsed().as_secs_f64());
        exposed += usize::from(s.exposure.iter().any(|e| e.category.is_risk()));
        severe += usize::from(s.severity.is_some());
        truncated += usize::from(s.truncated);
        expanded += s.expanded;
    }
    let wall = t_all.elapsed().as_secs_f64();
    println!(
        "address screening, {hops} hops, {samples} random addresses: {}  ({:.0}/s; {exposed} exposed to a risk, {severe} with a severity, {truncated} truncated, {:.1} txs followed on average)",
        percentiles(times),
        samples as f64 / wall,
        expanded as f64 / samples as f64
    );
    // The busiest addresses: the truth's reused ones (exchange hot and cold
    // wallets, coinbase payout addresses, published addresses), up to a thousand.
    let busy: Vec<&str> = truth
        .addresses
        .iter()
        .filter(|a| {
            matches!(
                a.role,
                Role::Hot | Role::Cold | Role::Coinbase | Role::Published
            )
        })
        .take(1_000)
        .map(|a| a.address.as_str())
        .collect();
    let mut times = Vec::with_capacity(busy.len());
    let (mut truncated, mut receipts) = (0usize, 0usize);
    for t in &busy {
        let t0 = Instant::now();
        let s = sc.screen(t).map_err(|e| e.to_string())?;
        times.push(t0.elapsed().as_secs_f64());
        truncated += usize::from(s.truncated);
        receipts += s.receipts.map_or(0, |r| r.0);
    }
    if !busy.is_empty() {
        println!(
            "busy address screening, {hops} hops, {} reused addresses (hot, cold, coinbase payout, published; {:.0} receipts screened on average): {}  ({truncated} truncated)",
            busy.len(),
            receipts as f64 / busy.len() as f64,
            percentiles(times)
        );
    }
    let txids: Vec<String> = (0..samples)
        .map(|_| {
            store
                .txid(TxNum(rng.below(counts.txs as u64) as u32))
                .to_string()
        })
        .collect();
    let mut times = Vec::with_capacity(samples);
    let mut exposed = 0usize;
    for t in &txids {
        let t0 = Instant::now();
        let s = sc.screen(t).map_err(|e| e.to_string())?;
        times.push(t0.elapsed().as_secs_f64());
        exposed += usize::from(s.exposure.iter().any(|e| e.category.is_risk()));
    }
    println!(
        "transaction screening, {hops} hops, {samples} random txs: {}  ({exposed} exposed to a risk)",
        percentiles(times)
    );

    // Exact lookups: half labelled subjects, half random index addresses.
    let n = 1_000_000usize;
    let labelled: Vec<String> = book
        .entries()
        .iter()
        .step_by((book.len() / 50_000).max(1))
        .map(|e| e.subject.id().to_string())
        .collect();
    let randoms: Vec<String> = (0..50_000).map(|_| addr(&mut rng)).collect();
    let queries: Vec<&str> = (0..n)
        .map(|i| {
            if i % 2 == 0 {
                labelled[(i / 2) % labelled.len()].as_str()
            } else {
                randoms[(i / 2) % randoms.len()].as_str()
            }
        })
        .collect();
    let t0 = Instant::now();
    let mut found = 0usize;
    for q in &queries {
        found += usize::from(!book.lookup(q).is_empty());
    }
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "exact label lookups: {n} in {:.3} s = {:.0}/s ({found} found)",
        dt,
        n as f64 / dt
    );
    Ok(())
}
