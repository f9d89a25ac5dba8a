//! Tracing benchmark: N seed coins traced H hops forward on an existing
//! index, under each taint policy (FIFO, haircut, poison) and CoinJoin
//! mode (follow, stop), all seeds in one trace and each seed alone, with a
//! bare breadth-first walk over the same spends as a same-machine
//! baseline, and once more with the index's label book when it has one.
//!
//! ```text
//! trace_bench --index DIR [--seeds 1000] [--hops 10] [--seed 1] [--runs 3] [--singles K]
//!             [--policies fifo,haircut,poison] [--json]
//! ```
//!
//! The target (issue): 1,000 seed outputs traced 10 hops on a simulated
//! index of at least 10 million transactions in at most 1 second.

use chainhound_entities::cluster::{clusters_dir, Clusters};
use chainhound_index::store::{OutId, Store, TxNum};
use chainhound_intel::book::{labels_dir, LabelBook};
use chainhound_intel::resolve::Resolved;
use chainhound_sim::rng::Rng;
use chainhound_trace::{CoinJoinMode, Options, Policy, Trace, Tracer};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The issue's target for one trace of all the seeds, in seconds.
const TARGET_S: f64 = 1.0;

fn usage() -> ! {
    eprintln!(
        "usage: trace_bench --index DIR [--seeds N] [--hops H] [--seed S] [--runs R] [--singles K] [--policies fifo,haircut,poison] [--json]"
    );
    std::process::exit(2)
}

/// The seed coins: `n` distinct spent outputs of random non-coinbase
/// transactions of the middle third of the chain.
///
/// Deterministic from `seed`: `Rng::new(seed)` draws a transaction number
/// uniformly in `[txs/3, 2*txs/3)`; a coinbase (first input without a
/// previous output) or a transaction none of whose outputs is spent is
/// skipped (the draw is spent); otherwise one of its spent outputs is
/// chosen uniformly by a second draw, and kept unless already chosen.
/// Repeated until `n` coins are kept (at most `1000 * n` draws).
fn pick_seeds(st: &Store, n: usize, seed: u64) -> Vec<OutId> {
    let txs = st.counts().txs as u64;
    let (lo, hi) = (txs / 3, 2 * txs / 3);
    let mut rng = Rng::new(seed);
    let mut chosen = HashSet::new();
    let mut seeds = Vec::with_capacity(n);
    let mut draws = 0usize;
    while seeds.len() < n && draws < 1000 * n.max(1) {
        draws += 1;
        let t = TxNum((lo + rng.below(hi - lo)) as u32);
        let ins = st.tx_inputs(t);
        if ins.is_empty() || st.in_prevout(ins.start) == Ok(None) {
            continue;
        }
        let spent: Vec<OutId> = st
            .tx_outputs(t)
            .map(OutId)
            .filter(|&o| st.out_spender(o).is_some())
            .collect();
        if spent.is_empty() {
            continue;
        }
        let o = spent[rng.below(spent.len() as u64) as usize];
        if chosen.insert(o.0) {
            seeds.push(o);
        }
    }
    seeds
}

/// The baseline: breadth-first over spends, no taint. Level 1 is the
/// spenders of the seeds; each level's transactions lead, through the
/// spender of every output, to the next, up to level `hops` (the trace
/// expands transactions whose tainted inputs are 0 to `hops - 1` hops
/// from the seed: the same depth). Stops adding at `budget` transactions
/// (the trace's `max_txs`). Returns the transactions reached and whether
/// the budget ran out.
fn bfs(st: &Store, seeds: &[OutId], hops: u32, budget: usize) -> (usize, bool) {
    let mut seen: HashSet<u32> = HashSet::new();
    let mut frontier: Vec<TxNum> = Vec::new();
    let mut full = false;
    for &s in seeds {
        if let Some((t, _)) = st.out_spender(s) {
            if seen.insert(t.0) {
                frontier.push(t);
            }
        }
    }
    'levels: for _ in 1..hops {
        let mut next = Vec::new();
        for &t in &frontier {
            for o in st.tx_outputs(t) {
                if let Some((t2, _)) = st.out_spender(OutId(o)) {
                    if seen.len() >= budget {
                        full = true;
                        break 'levels;
                    }
                    if seen.insert(t2.0) {
                        next.push(t2);
                    }
                }
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    (seen.len(), full)
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    s[s.len() / 2]
}

fn pct(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

/// Tainted coins the trace ended on: unspent, at the hop limit, pruned,
/// past the time bound, newly mined, or arrived at a labelled entity.
fn coins_at_rest(t: &Trace) -> usize {
    t.holdings.len() + t.holdings_unlisted + t.entities.iter().map(|e| e.outputs).sum::<usize>()
}

/// Each seed traced alone.
struct Singles {
    p50: f64,
    p99: f64,
    max: f64,
    total: f64,
    expanded: usize,
    truncated: usize,
}

/// One configuration's figures.
struct Row {
    policy: Policy,
    coinjoin: CoinJoinMode,
    labels: bool,
    runs: Vec<f64>,
    expanded: usize,
    coins: usize,
    coinjoins: usize,
    entities: usize,
    truncated: bool,
    singles: Option<Singles>,
}

impl Row {
    fn best(&self) -> f64 {
        self.runs.iter().copied().fold(f64::INFINITY, f64::min)
    }
    fn median(&self) -> f64 {
        median(&self.runs)
    }
    fn met(&self) -> bool {
        self.best() <= TARGET_S
    }
}

type Book<'a> = Option<(&'a LabelBook, &'a Resolved)>;

fn measure(
    st: &Store,
    labels: Book<'_>,
    seeds: &[OutId],
    opts: Options,
    runs: usize,
    singles: usize,
) -> Row {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t0 = Instant::now();
        let t = Tracer::new(st, labels, opts.clone()).trace(seeds);
        times.push(t0.elapsed().as_secs_f64());
        last = Some(t);
    }
    let t = last.expect("at least one run");
    let singles = (singles > 0).then(|| {
        let mut v = Vec::with_capacity(singles);
        let (mut expanded, mut truncated) = (0usize, 0usize);
        let t_all = Instant::now();
        for s in &seeds[..singles] {
            let t0 = Instant::now();
            let one = Tracer::new(st, labels, opts.clone()).trace(std::slice::from_ref(s));
            v.push(t0.elapsed().as_secs_f64());
            expanded += one.txs_expanded;
            truncated += usize::from(one.truncated);
        }
        let total = t_all.elapsed().as_secs_f64();
        v.sort_by(|a, b| a.total_cmp(b));
        Singles {
            p50: pct(&v, 0.50),
            p99: pct(&v, 0.99),
            max: v[v.len() - 1],
            total,
            expanded,
            truncated,
        }
    });
    Row {
        policy: opts.policy,
        coinjoin: opts.coinjoin,
        labels: labels.is_some(),
        runs: times,
        expanded: t.txs_expanded,
        coins: coins_at_rest(&t),
        coinjoins: t.coinjoins.len(),
        entities: t.entities.len(),
        truncated: t.truncated,
        singles,
    }
}

fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let (mut index, mut n, mut hops, mut seed, mut runs, mut singles, mut json) =
        (None, 1000usize, 10u32, 1u64, 3usize, None, false);
    let mut policies = vec![Policy::Fifo, Policy::Haircut, Policy::Poison];
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--index" => index = Some(PathBuf::from(val())),
            "--seeds" => n = val().replace('_', "").parse().unwrap_or_else(|_| usage()),
            "--hops" => hops = val().parse().unwrap_or_else(|_| usage()),
            "--seed" => seed = val().parse().unwrap_or_else(|_| usage()),
            "--runs" => runs = val().parse().unwrap_or_else(|_| usage()),
            "--singles" => singles = Some(val().parse::<usize>().unwrap_or_else(|_| usage())),
            "--policies" => {
                policies = val()
                    .split(',')
                    .map(|p| Policy::parse(p).unwrap_or_else(|| usage()))
                    .collect()
            }
            "--json" => json = true,
            _ => usage(),
        }
    }
    let index = index.unwrap_or_else(|| usage());
    if n == 0 || runs == 0 || policies.is_empty() {
        usage();
    }
    let nproc = std::thread::available_parallelism().map_or(1, |p| p.get());
    let st = Store::open(&index)?;
    let counts = st.counts();
    let t0 = Instant::now();
    let seeds = pick_seeds(&st, n, seed);
    let t_pick = t0.elapsed().as_secs_f64();
    if seeds.len() < n {
        eprintln!("only {} seed coins found of {n}", seeds.len());
    }
    let singles = singles.unwrap_or(seeds.len()).min(seeds.len());
    let seeded: u64 = seeds.iter().map(|&o| st.out_value(o)).sum();
    let budget = Options::default().max_txs;
    eprintln!(
        "index {}: {} txs, {} blocks; {} seeds picked in {:.3} s; nproc {nproc}",
        index.display(),
        counts.txs,
        counts.blocks,
        seeds.len(),
        t_pick
    );

    // Warm-up (page cache, allocator): one bare walk and one trace of the
    // first policy sharing at CoinJoins (the default), untimed.
    let t0 = Instant::now();
    let _ = bfs(&st, &seeds, hops, budget);
    let _ = Tracer::new(
        &st,
        None,
        Options {
            policy: policies[0],
            hops,
            coinjoin: CoinJoinMode::Share,
            ..Default::default()
        },
    )
    .trace(&seeds);
    eprintln!("warm-up {:.2} s", t0.elapsed().as_secs_f64());

    // The baseline, R times.
    let mut bfs_times = Vec::with_capacity(runs);
    let (mut bfs_txs, mut bfs_full) = (0, false);
    for _ in 0..runs {
        let t0 = Instant::now();
        (bfs_txs, bfs_full) = bfs(&st, &seeds, hops, budget);
        bfs_times.push(t0.elapsed().as_secs_f64());
    }
    let bfs_best = bfs_times.iter().copied().fold(f64::INFINITY, f64::min);
    eprintln!(
        "bare walk: {bfs_txs} txs in {:.3} s (best of {runs})",
        bfs_best
    );

    let mut rows = Vec::new();
    for &policy in &policies {
        for coinjoin in [
            CoinJoinMode::Share,
            CoinJoinMode::Stop,
            CoinJoinMode::Follow,
        ] {
            let opts = Options {
                policy,
                hops,
                coinjoin,
                ..Default::default()
            };
            let r = measure(&st, None, &seeds, opts, runs, singles);
            eprintln!(
                "{} / {}: best {:.3} s, {} txs expanded",
                policy.name(),
                coinjoin.name(),
                r.best(),
                r.expanded
            );
            rows.push(r);
        }
    }

    // With the index's label book, when it has one: every policy, CoinJoin
    // stop (the default), stopping at labelled services (the default).
    let dir = labels_dir(&index);
    let t0 = Instant::now();
    let book = LabelBook::open(&dir)?;
    let t_book = t0.elapsed().as_secs_f64();
    let mut label_note = String::new();
    if book.is_empty() {
        label_note = format!("no label book at {}: not traced with labels", dir.display());
    } else {
        let t0 = Instant::now();
        let clusters = Clusters::open(&clusters_dir(&index)).ok();
        let lifted = clusters.is_some();
        let resolved = Resolved::cached(&book, &dir, &st, clusters);
        let t_res = t0.elapsed().as_secs_f64();
        let (la, lt, le) = resolved.counts();
        write!(
            label_note,
            "label book: {} labels ({la} addresses, {lt} txs, {le} entities placed{}); open {:.2} s, place (cached) {:.2} s, not in the times",
            book.len(),
            if lifted { ", lifted to clusters" } else { "" },
            t_book,
            t_res
        )?;
        for &policy in &policies {
            let opts = Options {
                policy,
                hops,
                coinjoin: CoinJoinMode::Share,
                ..Default::default()
            };
            let r = measure(&st, Some((&book, &resolved)), &seeds, opts, runs, singles);
            eprintln!(
                "{} / share / labels: best {:.3} s, {} txs expanded",
                policy.name(),
                r.best(),
                r.expanded
            );
            rows.push(r);
        }
    }

    if json {
        print_json(
            &index,
            counts.txs,
            nproc,
            &seeds,
            seeded,
            seed,
            hops,
            runs,
            singles,
            bfs_txs,
            bfs_full,
            &bfs_times,
            &rows,
            &label_note,
        );
        return Ok(());
    }

    println!(
        "index {}: {} txs, {} blocks; machine: nproc {nproc}",
        index.display(),
        counts.txs,
        counts.blocks
    );
    println!(
        "seeds: {} spent outputs of random non-coinbase txs {}..{} (rng seed {seed}), {:.8} BTC; {hops} hops; all seeds together: best and median of {runs} runs; each seed alone: {singles} traces, once",
        seeds.len(),
        counts.txs / 3,
        2 * counts.txs / 3,
        seeded as f64 / 1e8
    );
    println!(
        "bare walk (BFS over spends, HashSet of tx numbers, no taint): {bfs_txs} txs reached{} in best {:.3} s, median {:.3} s ({:.0} ns/tx)",
        if bfs_full { " (budget ran out)" } else { "" },
        bfs_best,
        median(&bfs_times),
        bfs_best * 1e9 / bfs_txs.max(1) as f64
    );
    println!("{label_note}");
    println!();
    println!(
        "{:<8} {:<6} {:<6} | {:>7} {:>8} {:>9} {:>8} {:>6} {:>5} {:>5} {:>5} {:>8} {:>8} | {:>8} {:>8} {:>8} {:>8} {:>9} {:>5}",
        "policy",
        "cj",
        "labels",
        "best s",
        "median s",
        "txs exp.",
        "coins",
        "cj met",
        "ents",
        "trunc",
        "≤1 s",
        "÷walk",
        "÷walk/tx",
        "p50 ms",
        "p99 ms",
        "max ms",
        "total s",
        "txs exp.",
        "trunc"
    );
    for r in &rows {
        let mut line = format!(
            "{:<8} {:<6} {:<6} | {:>7.3} {:>8.3} {:>9} {:>8} {:>6} {:>5} {:>5} {:>5} {:>8.2} {:>8.2} |",
            r.policy.name(),
            r.coinjoin.name(),
            if r.labels { "yes" } else { "no" },
            r.best(),
            r.median(),
            r.expanded,
            r.coins,
            r.coinjoins,
            r.entities,
            if r.truncated { "yes" } else { "no" },
            if r.met() { "yes" } else { "NO" },
            r.best() / bfs_best,
            (r.best() / r.expanded.max(1) as f64) / (bfs_best / bfs_txs.max(1) as f64)
        );
        if let Some(s) = &r.singles {
            write!(
                line,
                " {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>9} {:>5}",
                s.p50 * 1e3,
                s.p99 * 1e3,
                s.max * 1e3,
                s.total,
                s.expanded,
                s.truncated
            )?;
        }
        println!("{line}");
    }
    println!();
    println!(
        "left: one trace of all {} seeds. coins: tainted coins it ended on (unspent, hop limit, pruned, arrived at an entity); cj met: CoinJoins met; ents: labelled entities reached; ≤1 s: best run within the 1 s target; ÷walk: best time over the bare walk's; ÷walk/tx: the same per transaction (trace per tx expanded, walk per tx reached).",
        seeds.len()
    );
    println!(
        "right: each seed traced alone ({singles} traces): per-trace p50, p99, max; their total; txs expanded summed; how many ran out of budget ({budget} txs)."
    );
    Ok(())
}

fn jstr(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

#[allow(clippy::too_many_arguments)]
fn print_json(
    index: &std::path::Path,
    txs: u32,
    nproc: usize,
    seeds: &[OutId],
    seeded: u64,
    seed: u64,
    hops: u32,
    runs: usize,
    singles: usize,
    bfs_txs: usize,
    bfs_full: bool,
    bfs_times: &[f64],
    rows: &[Row],
    label_note: &str,
) {
    let list = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.6}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let bfs_best = bfs_times.iter().copied().fold(f64::INFINITY, f64::min);
    let mut o = String::new();
    let _ = write!(
        o,
        "{{\"index\":{},\"txs\":{txs},\"nproc\":{nproc},\"seeds\":{},\"seeded_sat\":{seeded},\"rng_seed\":{seed},\"hops\":{hops},\"runs\":{runs},\"singles\":{singles},\"target_s\":{TARGET_S},",
        jstr(&index.display().to_string()),
        seeds.len()
    );
    let _ = write!(
        o,
        "\"bare_walk\":{{\"txs\":{bfs_txs},\"budget_ran_out\":{bfs_full},\"best_s\":{bfs_best:.6},\"median_s\":{:.6},\"runs_s\":[{}]}},\"labels\":{},\"traces\":[",
        median(bfs_times),
        list(bfs_times),
        jstr(label_note)
    );
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        let _ = write!(
            o,
            "{{\"policy\":\"{}\",\"coinjoin\":\"{}\",\"labels\":{},\"best_s\":{:.6},\"median_s\":{:.6},\"runs_s\":[{}],\"txs_expanded\":{},\"coins_at_rest\":{},\"coinjoins\":{},\"entities\":{},\"truncated\":{},\"met_target\":{},\"ratio_to_walk\":{:.4},\"ratio_to_walk_per_tx\":{:.4}",
            r.policy.name(),
            r.coinjoin.name(),
            r.labels,
            r.best(),
            r.median(),
            list(&r.runs),
            r.expanded,
            r.coins,
            r.coinjoins,
            r.entities,
            r.truncated,
            r.met(),
            r.best() / bfs_best,
            (r.best() / r.expanded.max(1) as f64) / (bfs_best / bfs_txs.max(1) as f64)
        );
        if let Some(s) = &r.singles {
            let _ = write!(
                o,
                ",\"single\":{{\"p50_s\":{:.6},\"p99_s\":{:.6},\"max_s\":{:.6},\"total_s\":{:.6},\"txs_expanded\":{},\"truncated\":{}}}",
                s.p50, s.p99, s.max, s.total, s.expanded, s.truncated
            );
        }
        o.push('}');
    }
    o.push_str("]}");
    println!("{o}");
}
