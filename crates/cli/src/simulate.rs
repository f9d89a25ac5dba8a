//! `chainhound simulate`: write a simulated economy as a Bitcoin Core
//! datadir with its ground truth, with a progress bar, and report it.

use crate::output::btc;
use anyhow::{Context, Result};
use chainhound_sim::datadir::{write_economy, SimProgress, Summary, DEFAULT_XOR};
use chainhound_sim::economy::{EconomyStats, Params};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;
use std::time::{Duration, Instant};

/// The simulate progress bar: blocks, tx/s and ETA.
pub struct SimBar {
    bar: Option<ProgressBar>,
    started: Instant,
}

impl SimBar {
    pub fn new(hidden: bool, blocks: u64) -> SimBar {
        SimBar {
            bar: (!hidden).then(|| {
                let b = ProgressBar::new(blocks);
                b.set_style(
                    ProgressStyle::with_template(
                        "[{elapsed_precise}] {wide_bar} {pos}/{len} blocks  {msg}  ETA {eta}",
                    )
                    .expect("valid template"),
                );
                b.enable_steady_tick(Duration::from_millis(200));
                b
            }),
            started: Instant::now(),
        }
    }

    pub fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

impl SimProgress for SimBar {
    fn block(&mut self, done: u64, _total: u64, stats: &EconomyStats) {
        if let Some(b) = &self.bar {
            b.set_position(done);
            if done.is_multiple_of(8) {
                let secs = self.started.elapsed().as_secs_f64().max(1e-3);
                b.set_message(format!(
                    "{} txs  {:.0} tx/s  {:.1} MB",
                    stats.txs,
                    stats.txs as f64 / secs,
                    stats.bytes as f64 / 1e6
                ));
            }
        }
    }
}

/// Simulates into `out` and prints what was made.
pub fn run(params: Params, out: &Path, xor: bool, json: bool, quiet: bool) -> Result<Summary> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut bar = SimBar::new(quiet || json, params.blocks as u64);
    let key = if xor { DEFAULT_XOR } else { [0; 8] };
    let summary = write_economy(params, out, key, &mut bar)
        .with_context(|| format!("simulating into {}", out.display()))?;
    bar.finish();
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else if !quiet {
        print_summary(&summary, out);
    }
    Ok(summary)
}

fn print_summary(s: &Summary, out: &Path) {
    println!(
        "simulated {} blocks, {} txs ({} users, {} entities) in {:.1} s: {:.0} tx/s, {:.1} MB",
        s.blocks,
        s.txs,
        s.users,
        s.entities,
        s.seconds,
        s.txs as f64 / s.seconds.max(1e-9),
        s.bytes as f64 / 1e6
    );
    let kinds: Vec<String> = s.tx_kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!("tx kinds  {}", kinds.join(", "));
    if let (Some(h), Some(v)) = (s.heist_height, &s.victim) {
        println!(
            "heist     at height {h}: {} BTC stolen from {v}; {} BTC cashed out in {} deposits",
            btc(s.stolen_sats),
            btc(s.cashed_out_sats),
            s.cashouts
        );
    }
    println!(
        "chain     {}/blocks (regtest, Bitcoin Core layout)",
        out.display()
    );
    println!(
        "truth     {}/truth (format: docs/simulator.md)",
        out.display()
    );
    println!("next      chainhound ingest --datadir {}", out.display());
}
