//! Clustering benchmark: chainhound's multi-input clustering against
//! GraphSense's (`graphsense-clustering` from PyPI: a Rust lock-free
//! union-find fed Arrow lists of input-address ids), on the identical input
//! from a simulated economy.
//!
//! ```text
//! cluster_bench [--txs N] [--seed S] [--reps R] [--workdir DIR]
//! ```
//!
//! Steps: simulate an economy of N transactions (default 1,000,000) and
//! ingest it; export every non-coinbase transaction's input address ids
//! (deduplicated, ids + 1 because GraphSense keeps id 0 as a placeholder)
//! as raw offsets and values; then, R times each, interleaved:
//! - `graphsense`: `tools/gs_cluster_bench.py` loads the lists into a
//!   pyarrow ListArray (not timed) and times `process_transactions_arrow`
//!   plus `get_mapping` (the address -> cluster table);
//! - `chainhound-lists`: chainhound's union-find on the same lists plus
//!   its mapping (engine against engine);
//! - `chainhound-index`: the whole `cluster::build` from the index's
//!   columns (reading every input's previous output and address) plus the
//!   mapping: what `chainhound cluster` does, CoinJoin test aside.
//!
//! Both sides must find the same number of clusters. The Python side needs
//! a virtualenv with graphsense-clustering: `$CHAINHOUND_GSENV` or
//! `~/.cache/chainhound/gsenv`, made on first use with `python3 -m venv`
//! and pip.

use chainhound_entities::cluster::{build, ClusterOptions, UnionFind};
use chainhound_index::ingest::{ingest, IngestOptions, NoProgress};
use chainhound_index::source::Source;
use chainhound_index::store::{Store, TxNum};
use chainhound_sim::datadir::{write_economy, Quiet};
use chainhound_sim::economy::Params;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn usage() -> ! {
    eprintln!("usage: cluster_bench [--txs N] [--seed S] [--reps R] [--workdir DIR]");
    std::process::exit(2)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The virtualenv's python, made on first use.
fn gs_python() -> Res<PathBuf> {
    let env = std::env::var_os("CHAINHOUND_GSENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/chainhound/gsenv")
        });
    let py = env.join("bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import gs_clustering, pyarrow"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!(
            "setting up {} with graphsense-clustering (PyPI)",
            env.display()
        );
        let s = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&env)
            .status()?;
        if !s.success() {
            return Err("python3 -m venv failed".into());
        }
        let s = Command::new(env.join("bin/pip"))
            .args(["install", "-q", "graphsense-clustering==0.2.0"])
            .status()?;
        if !s.success() {
            return Err("pip install graphsense-clustering failed".into());
        }
    }
    Ok(py)
}

/// Every non-coinbase transaction's distinct input address ids (+1), as
/// offsets (u64, one more than the lists) and values (u32).
fn export_lists(store: &Store) -> (Vec<u64>, Vec<u32>) {
    let mut offsets = vec![0u64];
    let mut values = Vec::new();
    let mut buf = Vec::new();
    for t in 0..store.counts().txs {
        buf.clear();
        for i in store.tx_inputs(TxNum(t)) {
            if let Ok(Some(o)) = store.in_prevout(i) {
                if let Some(a) = store.out_addr(o) {
                    buf.push(a.0 + 1);
                }
            }
        }
        if buf.is_empty() {
            continue;
        }
        buf.sort_unstable();
        buf.dedup();
        values.extend_from_slice(&buf);
        offsets.push(values.len() as u64);
    }
    (offsets, values)
}

fn write_raw<T: Copy>(path: &Path, v: &[T], to_le: impl Fn(T) -> Vec<u8>) -> Res<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    for &x in v {
        w.write_all(&to_le(x))?;
    }
    w.flush()?;
    Ok(())
}

/// chainhound's union-find over the lists, then the mapping; (seconds,
/// clusters among ids 1..=max).
fn ours_on_lists(offsets: &[u64], values: &[u32], max_id: u32, sizes: bool) -> (f64, u64) {
    let t = Instant::now();
    // Sizes are what the collapse guard needs; graphsense keeps none.
    let mut uf = UnionFind::with_sizes(max_id as usize + 1, sizes);
    for w in offsets.windows(2) {
        let list = &values[w[0] as usize..w[1] as usize];
        if list.len() < 2 {
            continue; // one address: nothing to merge
        }
        let mut r = uf.find(list[0]);
        for &a in &list[1..] {
            let x = uf.find(a);
            r = uf.union_roots(r, x);
        }
    }
    let mapping = uf.flatten();
    let secs = t.elapsed().as_secs_f64();
    let clusters = (1..=max_id).filter(|&a| mapping[a as usize] == a).count() as u64;
    (secs, clusters)
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut txs, mut seed, mut reps, mut workdir) = (1_000_000u64, 1u64, 3usize, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().unwrap_or_else(|| usage());
        match a.as_str() {
            "--txs" => txs = val().replace('_', "").parse().unwrap_or_else(|_| usage()),
            "--seed" => seed = val().parse().unwrap_or_else(|_| usage()),
            "--reps" => reps = val().parse().unwrap_or_else(|_| usage()),
            "--workdir" => workdir = Some(PathBuf::from(val())),
            _ => usage(),
        }
    }
    let tmp;
    let work = match workdir {
        Some(w) => {
            std::fs::create_dir_all(&w)?;
            w
        }
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let py = gs_python()?;
    let node = work.join("node");
    let index = work.join("index");
    if !node.join("blocks").exists() {
        eprintln!("simulating an economy of {txs} txs into {}", node.display());
        let t = Instant::now();
        let s = write_economy(
            Params::sized(seed, None, None, Some(txs))?,
            &node,
            [0; 8],
            &mut Quiet,
        )?;
        eprintln!("  {} txs in {:.1} s", s.txs, t.elapsed().as_secs_f64());
    }
    if !index.join("manifest.json").exists() {
        let _ = std::fs::remove_dir_all(&index);
        let t = Instant::now();
        ingest(
            &Source::datadir(&node)?,
            &index,
            &IngestOptions::default(),
            &mut NoProgress,
        )?;
        eprintln!("  ingested in {:.1} s", t.elapsed().as_secs_f64());
    }
    let store = Store::open(&index)?;
    let (offsets, values) = export_lists(&store);
    let max_id = store.counts().addrs;
    let n_lists = offsets.len() - 1;
    let multi = offsets.windows(2).filter(|w| w[1] - w[0] > 1).count();
    write_raw(&work.join("offsets.u64"), &offsets, |x: u64| {
        x.to_le_bytes().to_vec()
    })?;
    write_raw(&work.join("values.u32"), &values, |x: u32| {
        x.to_le_bytes().to_vec()
    })?;
    eprintln!(
        "input: {} txs with inputs ({} multi-input), {} input address ids, {} addresses",
        n_lists,
        multi,
        values.len(),
        max_id
    );

    let mut gs = Vec::new();
    let mut lists = Vec::new();
    let mut sized = Vec::new();
    let mut full = Vec::new();
    let mut clusters = (0u64, 0u64, 0u64);
    for r in 0..reps {
        let out = Command::new(&py)
            .arg(root().join("tools/gs_cluster_bench.py"))
            .arg(&work)
            .arg(max_id.to_string())
            .output()?;
        if !out.status.success() {
            return Err(format!(
                "gs_cluster_bench.py failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let field = |k: &str| -> Res<f64> {
            text.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{k}=")))
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("no {k}= in {text:?}").into())
        };
        gs.push(field("seconds")?);
        clusters.0 = field("clusters")? as u64;

        let (s, c) = ours_on_lists(&offsets, &values, max_id, false);
        lists.push(s);
        clusters.1 = c;
        let (s, c2) = ours_on_lists(&offsets, &values, max_id, true);
        sized.push(s);
        assert_eq!(c, c2);

        let t = Instant::now();
        let (mut uf, _) = build(&store, &ClusterOptions::default(), &mut |_, _| false);
        let mapping = uf.flatten();
        full.push(t.elapsed().as_secs_f64());
        clusters.2 = (0..max_id).filter(|&a| mapping[a as usize] == a).count() as u64;
        eprintln!(
            "  run {}: graphsense {:.3} s, chainhound on lists {:.3} s, chainhound from the index {:.3} s",
            r + 1,
            gs[r],
            lists[r],
            full[r]
        );
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
        v[v.len() / 2]
    };
    let (g, l, z, f) = (
        med(&mut gs),
        med(&mut lists),
        med(&mut sized),
        med(&mut full),
    );
    println!("######## clustering benchmark (median of {reps}) ########");
    println!(
        "input: economy seed {seed}, {} txs, {} addresses, {} txs with inputs ({} multi-input), {} input ids",
        store.counts().txs,
        max_id,
        n_lists,
        multi,
        values.len()
    );
    println!(
        "clusters found: graphsense {}, chainhound (lists) {}, chainhound (index) {}",
        clusters.0, clusters.1, clusters.2
    );
    if clusters.0 != clusters.1 || clusters.1 != clusters.2 {
        return Err("the two clusterings disagree".into());
    }
    let tps = |s: f64| n_lists as f64 / s;
    println!("{:<34} {:>9} {:>12} {:>8}", "", "seconds", "txs/s", "vs gs");
    println!(
        "{:<34} {:>9.3} {:>12.0} {:>8}",
        "graphsense-clustering 0.2.0",
        g,
        tps(g),
        "1.00"
    );
    println!(
        "{:<34} {:>9.3} {:>12.0} {:>8.2}",
        "chainhound union-find, same lists",
        l,
        tps(l),
        g / l
    );
    println!(
        "{:<34} {:>9.3} {:>12.0} {:>8.2}",
        "  the same, keeping guard sizes",
        z,
        tps(z),
        g / z
    );
    println!(
        "{:<34} {:>9.3} {:>12.0} {:>8.2}",
        "chainhound cluster from the index",
        f,
        tps(f),
        g / f
    );
    println!(
        "(vs gs: graphsense's time / chainhound's: above 1, chainhound is faster; target 1.5)"
    );
    Ok(())
}
