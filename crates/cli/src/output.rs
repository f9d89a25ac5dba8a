//! Text and JSON rendering of query results. Text goes to stdout, one
//! record per line where that makes sense, so it pipes into `grep` and `awk`.

use anyhow::Result;
use chainhound_entities::coinjoin::CoinJoin;
use chainhound_entities::miners::{Attribution, BlockMiner, Payout, Shares};
use chainhound_index::ingest::IngestReport;
use chainhound_index::query::{AddressView, BlockView, PrevoutRow, Stats, TxView};
use chainhound_index::scan::BlockFigures;
use serde::Serialize;
use std::io::{self, Write};
use std::path::Path;

pub fn json<T: Serialize + ?Sized>(v: &T) -> Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}

/// Satoshis as BTC with 8 decimals.
pub fn btc(sat: u64) -> String {
    format!("{}.{:08}", sat / 100_000_000, sat % 100_000_000)
}

pub fn time(t: u32) -> String {
    // UTC date-time from a Unix timestamp (civil-from-days).
    let days = t as i64 / 86_400;
    let secs = t as i64 % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

pub fn ingest_report(r: &IngestReport, index: &Path, as_json: bool) -> Result<()> {
    for w in &r.warnings {
        eprintln!("chainhound: warning: {w}");
    }
    let shown = 20;
    for w in r.chain_warnings.iter().take(shown) {
        eprintln!("chainhound: warning: {w}");
    }
    if r.chain_warnings.len() > shown {
        eprintln!(
            "chainhound: warning: ... and {} more chain warnings (see --json)",
            r.chain_warnings.len() - shown
        );
    }
    if as_json {
        return json(r);
    }
    let mut o = io::stdout().lock();
    writeln!(o, "index       {}", index.display())?;
    if let Some(n) = r.network {
        writeln!(o, "network     {n}")?;
    }
    if let (Some(h), Some(hash)) = (r.tip_height, r.tip_hash) {
        writeln!(o, "tip         {h} {hash}")?;
    }
    if r.blocks_rolled_back > 0 {
        writeln!(
            o,
            "reorg       rolled back {} blocks from height {}",
            r.blocks_rolled_back,
            r.rolled_back_from.unwrap_or(0)
        )?;
    }
    let mbs = r.bytes_parsed as f64 / 1e6 / r.seconds.max(1e-9);
    writeln!(
        o,
        "added       {} blocks, {} txs, {:.1} MB in {:.2} s ({:.0} tx/s, {:.1} MB/s)",
        r.blocks_added,
        r.txs_added,
        r.bytes_parsed as f64 / 1e6,
        r.seconds,
        r.txs_added as f64 / r.seconds.max(1e-9),
        mbs
    )?;
    if r.headers_cached > 0 {
        writeln!(
            o,
            "headers     {} from the cache of earlier runs ({:.1} MB of block files not read again)",
            r.headers_cached,
            r.bytes_not_rescanned as f64 / 1e6
        )?;
    }
    let spends = r.spends_from_cache + r.spends_from_index;
    if spends > 0 {
        writeln!(
            o,
            "spends      {} resolved from memory ({:.1}%), {} from the index",
            r.spends_from_cache,
            100.0 * r.spends_from_cache as f64 / spends as f64,
            r.spends_from_index
        )?;
    }
    writeln!(
        o,
        "skipped     {} stale-fork blocks, {} orphan blocks, {} other-network records, {} warnings",
        r.stale_blocks,
        r.orphan_blocks,
        r.foreign_records,
        r.warnings.len() + r.chain_warnings.len()
    )?;
    Ok(())
}

/// A block with its miner (`block --pools`).
#[derive(Serialize)]
struct BlockWithMiner<'a> {
    #[serde(flatten)]
    block: &'a BlockView,
    miner: &'a Attribution<'a>,
    /// The coinbase outputs: mining payouts.
    payouts: &'a [Payout],
}

pub fn block(b: &BlockView, miner: Option<&BlockMiner<'_>>, as_json: bool) -> Result<()> {
    if as_json {
        return match miner {
            Some(m) => json(&BlockWithMiner {
                block: b,
                miner: &m.miner,
                payouts: &m.payouts,
            }),
            None => json(b),
        };
    }
    let mut o = io::stdout().lock();
    writeln!(o, "block       {} {}", b.height, b.hash)?;
    if let Some(p) = b.prev_hash {
        writeln!(o, "previous    {p}")?;
    }
    writeln!(o, "time        {} ({})", time(b.time), b.time)?;
    writeln!(
        o,
        "version     {:#x}  bits {}  nonce {}  size {} bytes",
        b.version, b.bits, b.nonce, b.size
    )?;
    writeln!(o, "coinbase    {}", b.coinbase_text)?;
    writeln!(o, "coinbase    {} (hex)", b.coinbase_hex)?;
    writeln!(o, "reward      {} BTC", btc(b.coinbase_value))?;
    if let Some(m) = miner {
        writeln!(o, "miner       {}", m.miner)?;
        for p in &m.payouts {
            writeln!(
                o,
                "payout      #{} {} BTC  {}  (mining payout)",
                p.vout,
                btc(p.value),
                p.address
            )?;
        }
    }
    writeln!(o, "txs         {}", b.tx_count)?;
    for t in &b.txids {
        writeln!(o, "  {t}")?;
    }
    Ok(())
}

/// A transaction with its CoinJoin classification (`null`: none).
#[derive(Serialize)]
struct TxJson<'a> {
    #[serde(flatten)]
    tx: &'a TxView,
    coinjoin: Option<&'a CoinJoin>,
}

pub fn tx(t: &TxView, cj: Option<&CoinJoin>, as_json: bool) -> Result<()> {
    if as_json {
        return json(&TxJson {
            tx: t,
            coinjoin: cj,
        });
    }
    let mut o = io::stdout().lock();
    writeln!(o, "tx          {}", t.txid)?;
    writeln!(
        o,
        "block       {} {} (tx {} of the block)",
        t.height, t.block_hash, t.index_in_block
    )?;
    writeln!(o, "time        {}", time(t.time))?;
    writeln!(o, "wallet      {}", t.fingerprint)?;
    if let Some(c) = cj {
        let denom = c
            .denomination
            .map(|d| format!(" of {} BTC", btc(d)))
            .unwrap_or_default();
        writeln!(
            o,
            "coinjoin    {} ({} parties{denom}): its inputs are not merged into one entity",
            c.kind.name(),
            c.participants
        )?;
    }
    match t.fee {
        Some(f) => writeln!(
            o,
            "value       in {} BTC, out {} BTC, fee {} BTC",
            btc(t.value_in),
            btc(t.value_out),
            btc(f)
        )?,
        None if t.coinbase => writeln!(o, "value       coinbase, out {} BTC", btc(t.value_out))?,
        None => writeln!(
            o,
            "value       out {} BTC (some inputs unresolved: no fee)",
            btc(t.value_out)
        )?,
    }
    writeln!(o, "inputs      {}", t.inputs.len())?;
    for i in &t.inputs {
        if i.coinbase {
            writeln!(o, "  #{:<3} coinbase", i.index)?;
        } else if i.unresolved {
            writeln!(o, "  #{:<3} (previous output not in the index)", i.index)?;
        } else {
            let (ptx, pv) = i.prevout.expect("resolved inputs have a prevout");
            writeln!(
                o,
                "  #{:<3} {} BTC  {}  [{}]  from {ptx}:{pv} (height {}{})",
                i.index,
                btc(i.value.unwrap_or(0)),
                i.address.as_deref().unwrap_or("-"),
                i.script_type.map_or("?", |s| s.name()),
                i.prev_height.unwrap_or(0),
                if i.prev_coinbase == Some(true) {
                    ", coinbase"
                } else {
                    ""
                }
            )?;
        }
    }
    writeln!(o, "outputs     {}", t.outputs.len())?;
    for x in &t.outputs {
        let spent = match &x.spent_by {
            Some(s) => format!("spent by {}:{} (height {})", s.txid, s.input, s.height),
            None => "unspent".into(),
        };
        writeln!(
            o,
            "  #{:<3} {} BTC  {}  [{}]  {spent}",
            x.index,
            btc(x.value),
            x.address.as_deref().unwrap_or("-"),
            x.script_type.name()
        )?;
    }
    Ok(())
}

pub fn address(a: &AddressView, as_json: bool) -> Result<()> {
    if as_json {
        return json(a);
    }
    let mut o = io::stdout().lock();
    let types: Vec<&str> = a.script_types.iter().map(|t| t.name()).collect();
    writeln!(o, "address     {}  [{}]", a.address, types.join(", "))?;
    writeln!(o, "balance     {} BTC", btc(a.balance))?;
    writeln!(
        o,
        "received    {} BTC in {} outputs ({} unspent)",
        btc(a.received),
        a.output_count,
        a.unspent_count
    )?;
    writeln!(o, "sent        {} BTC", btc(a.sent))?;
    writeln!(o, "txs         {}", a.tx_count)?;
    if let (Some(f), Some(l)) = (&a.first_seen, &a.last_seen) {
        writeln!(
            o,
            "first seen  {} (height {}) {}",
            time(f.time),
            f.height,
            f.txid
        )?;
        writeln!(
            o,
            "last seen   {} (height {}) {}",
            time(l.time),
            l.height,
            l.txid
        )?;
    }
    writeln!(
        o,
        "history     {} to {} of {}, newest first",
        a.offset + 1.min(a.history.len()),
        a.offset + a.history.len(),
        a.tx_count
    )?;
    for h in &a.history {
        let delta = h.received as i128 - h.sent as i128;
        let sign = if delta < 0 { "-" } else { "+" };
        writeln!(
            o,
            "  {:>7}  {}  {}  {sign}{} BTC",
            h.height,
            time(h.time),
            h.txid,
            btc(delta.unsigned_abs() as u64)
        )?;
    }
    Ok(())
}

pub fn stats(s: &Stats, index: &Path, as_json: bool) -> Result<()> {
    if as_json {
        return json(s);
    }
    let mut o = io::stdout().lock();
    writeln!(o, "index       {}", index.display())?;
    writeln!(o, "network     {}", s.network)?;
    if let (Some(h), Some(hash)) = (s.tip_height, s.tip_hash) {
        writeln!(o, "tip         {h} {hash}")?;
    }
    writeln!(o, "blocks      {}", s.blocks)?;
    writeln!(o, "txs         {}", s.txs)?;
    writeln!(o, "inputs      {}", s.inputs)?;
    writeln!(
        o,
        "outputs     {} ({} unspent)",
        s.outputs, s.unspent_outputs
    )?;
    writeln!(o, "addresses   {}", s.addresses)?;
    for (t, n) in &s.script_types {
        writeln!(o, "  {t:<16} {n}")?;
    }
    writeln!(
        o,
        "disk        {} bytes, {:.1} bytes per tx",
        s.total_bytes, s.bytes_per_tx
    )?;
    for (f, b) in &s.files {
        writeln!(o, "  {f:<16} {b}")?;
    }
    Ok(())
}

/// Figures of a scanned block with its miner (`scan --pools`).
#[derive(Serialize)]
struct FiguresWithMiner<'a> {
    #[serde(flatten)]
    figures: &'a BlockFigures,
    miner: &'a Attribution<'a>,
}

/// `miners`, when given, holds the miner of each block.
pub fn scan(
    blocks: &[BlockFigures],
    miners: Option<&[Attribution<'_>]>,
    as_json: bool,
) -> Result<()> {
    if as_json {
        return match miners {
            Some(m) => json(
                &blocks
                    .iter()
                    .zip(m)
                    .map(|(figures, miner)| FiguresWithMiner { figures, miner })
                    .collect::<Vec<_>>(),
            ),
            None => json(blocks),
        };
    }
    let mut o = io::stdout().lock();
    write!(o, "#file\toffset\tnetwork\thash\theight\ttxs\tinputs\toutputs\tsegwit_txs\ttaproot_outputs\tcoinbase")?;
    writeln!(o, "{}", if miners.is_some() { "\tminer" } else { "" })?;
    for (i, b) in blocks.iter().enumerate() {
        write!(
            o,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            b.file.display(),
            b.offset,
            b.network,
            b.hash,
            b.height.map_or("?".to_string(), |h| h.to_string()),
            b.txs,
            b.inputs,
            b.outputs,
            b.segwit_txs,
            b.taproot_outputs,
            b.coinbase_text.chars().take(60).collect::<String>()
        )?;
        match miners.and_then(|m| m.get(i)) {
            Some(m) => writeln!(o, "\t{m}")?,
            None => writeln!(o)?,
        }
    }
    Ok(())
}

/// `chainhound miners`: the share table, most blocks first.
pub fn miners(s: &Shares, as_json: bool) -> Result<()> {
    if as_json {
        return json(s);
    }
    let mut o = io::stdout().lock();
    writeln!(
        o,
        "heights     {} to {}: {} blocks, {} by listed pools ({:.2}%)",
        s.from,
        s.to,
        s.blocks,
        s.known_blocks,
        100.0 * s.known_blocks as f64 / s.blocks.max(1) as f64
    )?;
    writeln!(
        o,
        "{:>9} {:>8} {:>9} {:>9} {:>8}  miner",
        "blocks", "share", "first", "last", "payouts"
    )?;
    for m in &s.miners {
        writeln!(
            o,
            "{:>9} {:>7.2}% {:>9} {:>9} {:>8}  {}",
            m.blocks,
            m.share,
            m.first_height,
            m.last_height,
            m.payouts.len(),
            m.name
        )?;
    }
    writeln!(
        o,
        "(payouts: distinct addresses paid by the miner's coinbases; --json lists them, `chainhound address` follows them)"
    )?;
    Ok(())
}

pub fn prevouts(rows: &[PrevoutRow]) -> Result<()> {
    let mut o = io::BufWriter::new(io::stdout().lock());
    writeln!(o, "#height\ttx_index_in_block\tinput_index\tvalue_sat\tscript_type\taddress\tprevout_height\tprevout_is_coinbase")?;
    for r in rows {
        writeln!(
            o,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.height,
            r.tx_index,
            r.input,
            r.value.map_or("?".into(), |v| v.to_string()),
            r.script_type.map_or("?", |t| t.name()),
            r.address.as_deref().unwrap_or("-"),
            r.prev_height.map_or("?".into(), |v| v.to_string()),
            r.prev_coinbase.map_or("?", |c| if c { "1" } else { "0" })
        )?;
    }
    o.flush()?;
    Ok(())
}

/// Runs `f` on stdout, or on `path` written whole or not at all: into a
/// temporary file beside it, renamed over it once complete, so a failure
/// never leaves a truncated report where an old one was (devices and pipes
/// are written in place). Errors name the file.
pub fn write_to(
    path: Option<&std::path::Path>,
    f: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let Some(path) = path else {
        let mut out = io::BufWriter::new(io::stdout().lock());
        f(&mut out)?;
        out.flush()?;
        return Ok(());
    };
    // Devices and pipes (`-o /dev/stdout`) are written in place.
    let special = std::fs::metadata(path).is_ok_and(|m| !m.is_file());
    if special {
        let result = (|| -> anyhow::Result<()> {
            let mut w = io::BufWriter::new(std::fs::OpenOptions::new().write(true).open(path)?);
            f(&mut w)?;
            w.flush()?;
            Ok(())
        })();
        return result.with_context(|| format!("writing {}", path.display()));
    }
    let name = path
        .file_name()
        .with_context(|| format!("{}: not a file name", path.display()))?;
    let tmp = path.with_file_name(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> anyhow::Result<()> {
        let file = std::fs::File::create(&tmp)?;
        let mut w = io::BufWriter::new(file);
        f(&mut w)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing {}", path.display()))
}

/// The output options of a command that writes reports: `--format`,
/// `--json`, `-o FILE`.
#[derive(clap::Args, Debug, Clone)]
pub struct OutputArgs {
    /// Output format: text, json or csv; `trace` also dot (GraphViz) and html (a
    /// self-contained case report) [default: text; csv for a `screen` batch].
    #[arg(long)]
    pub format: Option<String>,
    /// JSON output (same as --format json).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Write to this file instead of stdout (whole or not at all).
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
}

impl OutputArgs {
    /// The format asked for (lower-case), else `default`; an error naming
    /// the choices when it is not one of `allowed`.
    pub fn format(&self, default: &str, allowed: &[&str]) -> anyhow::Result<String> {
        let f = match (&self.format, self.json) {
            (Some(f), _) => f.to_ascii_lowercase(),
            (None, true) => "json".into(),
            (None, false) => default.into(),
        };
        if !allowed.contains(&f.as_str()) {
            anyhow::bail!("unknown format '{f}': {}", allowed.join(", "));
        }
        Ok(f)
    }
}
