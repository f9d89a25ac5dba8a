//! `chainhound demo`: simulate a small chain, ingest it the way a real
//! datadir is ingested, and show what an investigation starts from.

use crate::output::btc;
use anyhow::{Context, Result};
use chainhound_chain::Network;
use chainhound_index::query::Query;
use chainhound_index::source::Source;
use chainhound_index::store::{AddrId, Store};
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
    let blocks = chainhound_sim::toy::generate(seed, 400, 40);
    let datadir = root.join("node");
    // Obfuscated like a Bitcoin Core 28+ datadir.
    chainhound_sim::write::write_blocks(
        &datadir,
        Network::Regtest,
        &blocks,
        *b"chnhound",
        1 << 20,
    )?;
    println!(
        "simulated   {} regtest blocks into {}",
        blocks.len(),
        datadir.display()
    );
    let index = root.join("index");
    let source = Source::datadir(&datadir)?;
    let report = crate::ingest_quiet(&source, &index)?;
    println!(
        "ingested    {} blocks, {} txs in {:.2} s (tip {})",
        report.blocks_added,
        report.txs_added,
        report.seconds,
        report.tip_hash.map(|h| h.to_string()).unwrap_or_default()
    );
    let store = Store::open(&index)?;
    let q = Query::new(&store);
    let stats = q.stats();
    println!(
        "index       {} addresses, {} outputs ({} unspent), {:.0} bytes per tx",
        stats.addresses, stats.outputs, stats.unspent_outputs, stats.bytes_per_tx
    );
    // The richest address, and where its money came from.
    let richest = (0..store.counts().addrs)
        .map(|a| q.address(AddrId(a), 0, 3))
        .max_by_key(|v| (v.balance, std::cmp::Reverse(v.id)))
        .context("no addresses")?;
    println!(
        "richest     {} holds {} BTC over {} txs",
        richest.address,
        btc(richest.balance),
        richest.tx_count
    );
    if let Some(h) = richest.history.first() {
        let tx = q.tx(&h.txid).context("history tx")?;
        println!(
            "latest tx   {} at height {} ({} inputs, {} outputs)",
            tx.txid,
            tx.height,
            tx.inputs.len(),
            tx.outputs.len()
        );
        for i in tx.inputs.iter().filter(|i| !i.coinbase).take(3) {
            println!(
                "  from      {} BTC  {}",
                btc(i.value.unwrap_or(0)),
                i.address.as_deref().unwrap_or("-")
            );
        }
    }
    println!(
        "try         chainhound --index {} address {}",
        index.display(),
        richest.address
    );
    println!("done in {:.1} s", t.elapsed().as_secs_f64());
    Ok(())
}
