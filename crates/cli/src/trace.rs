//! `chainhound trace`, `chainhound case` and `chainhound eval trace`:
//! arguments to [`chainhound_trace`] and its renderings.

use anyhow::{Context, Result};
use chainhound_index::store::Store;
use chainhound_intel::book::LabelBook;
use chainhound_intel::formats::read_files;
use chainhound_intel::resolve::Resolved;
use chainhound_sim::truth::Truth;
use chainhound_trace::eval::{self, Score};
use chainhound_trace::{seed, CoinJoinMode, Options, Policy, Tracer};
use std::path::Path;
use std::time::Instant;

/// `eval trace`: the simulated heist traced forward under each policy and
/// CoinJoin mode, scored against the truth's cash-outs.
pub fn eval_cmd(
    store: &Store,
    truth_dir: &Path,
    base: &Options,
    policies: &[Policy],
    modes: &[CoinJoinMode],
    as_json: bool,
) -> Result<()> {
    let truth = Truth::load(truth_dir)
        .with_context(|| format!("reading the truth in {}", truth_dir.display()))?;
    let (heist, height, expected) = eval::expected(store, &truth).map_err(anyhow::Error::msg)?;
    // Attribution from the truth: every exchange and mixer address, so the
    // score measures the tracing alone.
    let tmp = tempfile::tempdir()?;
    let csv = tmp.path().join("services.csv");
    std::fs::write(&csv, eval::services_csv(&truth))?;
    let mut book = LabelBook::default();
    book.import(
        read_files(&[csv]).map_err(|p| anyhow::anyhow!("{p}"))?,
        false,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let resolved = Resolved::build(&book, store, None);
    let seeds = seed::coins(store, &heist).map_err(anyhow::Error::msg)?;
    let mut scores: Vec<Score> = Vec::new();
    for &mode in modes {
        for &policy in policies {
            let opts = Options {
                policy,
                coinjoin: mode,
                ..base.clone()
            };
            let tracer = Tracer::new(store, Some((&book, &resolved)), opts);
            let t0 = Instant::now();
            let t = tracer.trace(&seeds);
            scores.push(eval::score(&t, &expected, t0.elapsed().as_secs_f64()));
        }
    }
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "heist": heist,
                "hops": base.hops,
                "dust_sat": base.dust_sat,
                "scores": scores,
            }))?
        );
        return Ok(());
    }
    let con = expected.iter().filter(|e| e.connected).count();
    println!(
        "heist {} at height {}: {} cash-outs, {} reached on chain, {} paid from the mixer's own coins",
        heist,
        height,
        expected.len(),
        con,
        expected.len() - con
    );
    println!(
        "services labelled from the truth (every exchange and mixer address); {} hops, dust {} sat",
        base.hops, base.dust_sat
    );
    println!(
        "\n{:<8} {:<9} {:>15} {:>15} {:>10} {:>11} {:>11} {:>6} {:>6} {:>7} {:>8}",
        "policy",
        "coinjoin",
        "found (chain)",
        "found (all)",
        "addresses",
        "amount(ch)",
        "amount(all)",
        "wrong",
        "false",
        "txs",
        "seconds"
    );
    for s in &scores {
        println!(
            "{:<8} {:<9} {:>6}/{:<3} {:.3} {:>6}/{:<3} {:.3} {:>8}/{:<1} {:>11.3} {:>11.3} {:>6} {:>6} {:>7} {:>8.3}",
            s.policy,
            s.coinjoin,
            s.found_connected,
            s.connected,
            s.recall_connected,
            s.found,
            s.cashouts,
            s.recall_all,
            s.addresses_found,
            s.deposit_addresses,
            s.amount_recall_connected,
            s.amount_recall_all,
            s.wrong_exchanges.len(),
            s.false_deposits,
            s.txs_expanded,
            s.seconds
        );
    }
    for s in &scores {
        if s.possible > 0 || s.account_leads > 0 {
            println!(
                "  {} {}: {} possible arrival(s) after CoinJoins not asserted ({} of them cash-outs); {} more cash-out(s) among the found accounts' other deposits",
                s.policy, s.coinjoin, s.possible, s.possible_cashouts, s.account_leads
            );
        }
        for w in &s.wrong_exchanges {
            println!("  {} {}: wrong: {w}", s.policy, s.coinjoin);
        }
    }
    Ok(())
}

/// The arguments of `chainhound trace`.
pub struct TraceArgs {
    pub seeds: Vec<String>,
    pub incidents: Vec<std::path::PathBuf>,
    pub incident: Option<String>,
    pub opts: Options,
    pub until: Option<String>,
    pub output: crate::output::OutputArgs,
    pub save: Option<String>,
    pub quiet: bool,
}

/// A height bound from a height or a `YYYY-MM-DD` date: forward, the last
/// block of that day; backward, the first.
fn bound(store: &Store, s: &str, forward: bool) -> Result<u32> {
    let s = s.trim();
    if let Ok(h) = s.parse::<u32>() {
        return Ok(h);
    }
    let day = parse_date(s)
        .with_context(|| format!("'{s}' is neither a height nor a date YYYY-MM-DD"))?;
    let (start, end) = (day * 86_400, day * 86_400 + 86_399);
    let blocks = store.counts().blocks;
    let times = |h: u32| store.block_info(h).time as i64;
    Ok(if forward {
        (0..blocks).rev().find(|&h| times(h) <= end).unwrap_or(0)
    } else {
        (0..blocks).find(|&h| times(h) >= start).unwrap_or(blocks)
    })
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.split('-');
    let (y, m, d): (i64, i64, i64) = (
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
    );
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days_in = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => 0,
    };
    if it.next().is_some() || !(1..=days_in).contains(&d) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// `chainhound trace`.
pub fn trace_cmd(index: &Path, a: TraceArgs) -> Result<bool> {
    let store = crate::open_index(index)?;
    let format = a
        .output
        .format("text", &["text", "json", "csv", "dot", "html"])?;
    if let Some(name) = &a.save {
        chainhound_trace::case::valid_name(name).map_err(anyhow::Error::msg)?;
    }
    let mut opts = a.opts.clone();
    let forward = opts.direction == chainhound_trace::Direction::Forward;
    if let Some(u) = &a.until {
        opts.bound = Some(bound(&store, u, forward)?);
    }
    // Seeds: typed, then from incident files.
    let mut coins = Vec::new();
    let mut given = Vec::new();
    let mut bad = 0usize;
    for s in &a.seeds {
        match seed::coins(&store, s) {
            Ok(c) => {
                coins.extend(c);
                given.push(s.trim().to_string());
            }
            Err(e) => {
                eprintln!("chainhound: {e}");
                bad += 1;
            }
        }
    }
    if !a.incidents.is_empty() {
        let files = read_files(&a.incidents).map_err(|p| anyhow::anyhow!("{p}"))?;
        let mut all = Vec::new();
        for f in files {
            for p in &f.parsed.invalid {
                eprintln!("chainhound: warning: skipped {p}");
            }
            all.extend(f.parsed.labels);
        }
        let found = seed::from_labels(&store, &all, a.incident.as_deref());
        if found.incidents.is_empty() {
            anyhow::bail!(
                "no Bitcoin incident{} in {}",
                a.incident
                    .as_ref()
                    .map(|i| format!(" matching '{i}'"))
                    .unwrap_or_default(),
                a.incidents
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if !a.quiet {
            eprintln!(
                "chainhound: {} incident(s), {} seed(s) in the index, {} not",
                found.incidents.len(),
                found.used.len(),
                found.missing.len()
            );
        }
        if found.coins.is_empty() {
            let (origin, why) = &found.missing[0];
            anyhow::bail!(
                "none of the {} Bitcoin seed(s) of {} is in the index (first: {origin}: {why})",
                found.missing.len(),
                found.incidents.join(", ")
            );
        }
        coins.extend(found.coins);
        given.extend(found.used.into_iter().map(|(s, _)| s));
    }
    if coins.is_empty() {
        if bad > 0 {
            anyhow::bail!("no seed found in the index");
        }
        anyhow::bail!("give seeds: txids, txid:vout, addresses, or --incidents FILE");
    }
    let (book, resolved) = crate::intel::book_and_placement(index, &store)?;
    if book.is_empty() && !a.quiet {
        eprintln!(
            "chainhound: note: the label book is empty: the trace stops only at hops, dust, time and CoinJoins (import labels with `chainhound labels import`)"
        );
    }
    let tracer = Tracer::new(&store, Some((&book, &resolved)), opts.clone());
    let t0 = Instant::now();
    let t = tracer.trace(&coins);
    let secs = t0.elapsed().as_secs_f64();
    crate::output::write_to(a.output.out.as_deref(), |w| {
        match format.as_str() {
            "json" => {
                serde_json::to_writer_pretty(&mut *w, &t)?;
                writeln!(w)?;
            }
            "csv" => chainhound_trace::report::csv(&t, w)?,
            "dot" => chainhound_trace::report::dot(&t, w)?,
            "html" => {
                let title = format!("Trace of {}", given.join(", "));
                chainhound_trace::report::html(&t, &title, w)?
            }
            _ => text(w, &t, secs)?,
        }
        Ok(())
    })?;
    if let Some(name) = &a.save {
        let case = chainhound_trace::case::Case::new(name, given.clone(), opts, &t);
        case.save(index)
            .with_context(|| format!("saving case {name}"))?;
        if !a.quiet {
            eprintln!(
                "chainhound: case '{name}' saved; `chainhound case watch` (and every ingest) reports its new movements"
            );
        }
    }
    Ok(bad == 0)
}

fn text(w: &mut dyn std::io::Write, t: &chainhound_trace::Trace, secs: f64) -> Result<()> {
    use crate::output::{btc, time};
    let pct = |x: u64| {
        if t.seeded_sat == 0 {
            0.0
        } else {
            100.0 * x as f64 / t.seeded_sat as f64
        }
    };
    writeln!(
        w,
        "{} trace, {}, CoinJoins: {}; {} hops, dust {} sat{}",
        t.direction.name(),
        t.policy.name(),
        t.coinjoin.name(),
        t.hops,
        t.dust_sat,
        t.bound
            .map(|b| format!(", bound at height {b}"))
            .unwrap_or_default()
    )?;
    writeln!(
        w,
        "seeds: {} coin(s), {} BTC; {} transactions expanded in {:.3} s{}",
        t.seeds.len(),
        btc(t.seeded_sat),
        t.txs_expanded,
        secs,
        if t.truncated {
            " (budget reached: the rest is pruned)"
        } else {
            ""
        }
    )?;
    let tot = &t.totals;
    writeln!(w, "\nwhere the value ended:")?;
    for (what, v) in [
        ("at labelled entities", tot.entities_sat),
        ("possible (after CoinJoins)", tot.possible_sat),
        ("unspent (freeze)", tot.unspent_sat),
        ("at the hop limit", tot.hop_limit_sat),
        ("past the time bound", tot.time_bound_sat),
        ("stopped at CoinJoins", tot.coinjoin_stopped_sat),
        ("newly mined", tot.newly_mined_sat),
        ("fees", tot.fees_sat),
        ("dust", tot.dust_sat),
        ("pruned", tot.pruned_sat),
    ] {
        if v > 0 {
            writeln!(w, "  {what:<28} {:>18} BTC {:>6.2}%", btc(v), pct(v))?;
        }
    }
    let verb = if t.direction == chainhound_trace::Direction::Forward {
        "went to"
    } else {
        "came from"
    };
    if !t.entities.is_empty() {
        writeln!(w, "\n{verb} entities:")?;
    }
    for e in &t.entities {
        writeln!(
            w,
            "  {} ({}): {} BTC in {} coin(s) at {} address(es), first {} (height {}), {} hop(s){}",
            e.name,
            e.category.name(),
            btc(e.amount_sat),
            e.outputs,
            e.addresses.len(),
            time(e.first_time),
            e.first_height,
            e.min_hops,
            if e.via_coinjoin {
                "; partly after a CoinJoin: less certain"
            } else {
                ""
            }
        )?;
        writeln!(
            w,
            "    label: {} ({}, {})",
            e.label.origin, e.label.source, e.via
        )?;
        for a in e.addresses.iter().take(5) {
            writeln!(
                w,
                "    {} {} BTC in {} coin(s){}{}",
                a.address,
                btc(a.amount_sat),
                a.coins.len(),
                if a.after_coinjoin {
                    "; partly after a CoinJoin, corroborated"
                } else {
                    ""
                },
                if a.other_deposits.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {} other deposit(s) to it (leads: the same account)",
                        a.other_deposits.len()
                    )
                }
            )?;
        }
        if e.addresses.len() > 5 {
            writeln!(w, "    ... {} more addresses", e.addresses.len() - 5)?;
        }
        writeln!(w, "    path:")?;
        for s in &e.path {
            writeln!(
                w,
                "      {}:{} {} {} BTC (tainted {}) height {}{}",
                s.txid,
                s.vout,
                s.address.as_deref().unwrap_or("-"),
                btc(s.value_sat),
                btc(s.tainted_sat),
                s.height,
                s.coinjoin
                    .as_ref()
                    .map(|k| format!(" [CoinJoin {k}]"))
                    .unwrap_or_default()
            )?;
        }
    }
    if !t.possible.is_empty() {
        writeln!(
            w,
            "\npossible, not asserted (after a CoinJoin, at addresses no other traced value reached):"
        )?;
        for e in t.possible.iter().take(10) {
            writeln!(
                w,
                "  {} ({}): {} BTC in {} coin(s) at {} address(es)",
                e.name,
                e.category.name(),
                btc(e.amount_sat),
                e.outputs,
                e.addresses.len()
            )?;
        }
        if t.possible.len() > 10 {
            writeln!(w, "  ... {} more", t.possible.len() - 10)?;
        }
    }
    let unspent: Vec<_> = t.holdings.iter().filter(|h| h.why == "unspent").collect();
    if !unspent.is_empty() {
        writeln!(
            w,
            "\nunspent tainted coins (freeze candidates): {}",
            unspent.len()
        )?;
        for h in unspent.iter().take(20) {
            writeln!(
                w,
                "  {}:{} {} tainted {} of {} BTC, height {}",
                h.coin.txid,
                h.coin.vout,
                h.coin.address.as_deref().unwrap_or("-"),
                btc(h.coin.tainted_sat),
                btc(h.coin.value_sat),
                h.coin.height
            )?;
        }
        if unspent.len() > 20 {
            writeln!(
                w,
                "  ... {} more (--json or --format csv lists all)",
                unspent.len() - 20
            )?;
        }
    }
    let rest: Vec<_> = t.holdings.iter().filter(|h| h.why != "unspent").collect();
    if !rest.is_empty() {
        writeln!(
            w,
            "\nother coins the trace ended on: {}",
            rest.len() + t.holdings_unlisted
        )?;
        for h in rest.iter().take(10) {
            writeln!(
                w,
                "  {:<11} {}:{} {} tainted {} BTC, height {}, hop {}",
                h.why,
                h.coin.txid,
                h.coin.vout,
                h.coin.address.as_deref().unwrap_or("-"),
                btc(h.coin.tainted_sat),
                h.coin.height,
                h.coin.hop
            )?;
        }
        if rest.len() > 10 {
            writeln!(
                w,
                "  ... {} more (--json or --format csv lists all)",
                rest.len() - 10
            )?;
        }
    }
    if !t.coinjoins.is_empty() {
        writeln!(w, "\nCoinJoins met: {}", t.coinjoins.len())?;
        for c in t.coinjoins.iter().take(10) {
            writeln!(
                w,
                "  {} ({}, height {}): {} BTC tainted, {}",
                c.txid,
                c.kind,
                c.height,
                btc(c.tainted_sat),
                c.action
            )?;
        }
    }
    if !t.marks.is_empty() {
        writeln!(w, "\nlabelled addresses passed: {}", t.marks.len())?;
        for m in t.marks.iter().take(10) {
            writeln!(
                w,
                "  {} {} ({}, {})",
                m.coin.address.as_deref().unwrap_or("-"),
                m.label.entity,
                m.label.category.name(),
                m.label.origin
            )?;
        }
    }
    Ok(())
}

/// `case list`.
pub fn case_list(index: &Path, as_json: bool) -> Result<()> {
    use chainhound_trace::case::Case;
    let mut cases = Vec::new();
    for name in Case::list(index)? {
        match Case::load(index, &name) {
            Ok(c) => cases.push(c),
            Err(e) => eprintln!("chainhound: warning: {e}"),
        }
    }
    if as_json {
        println!("{}", serde_json::to_string_pretty(&cases)?);
        return Ok(());
    }
    if cases.is_empty() {
        println!("no saved cases (save one with `chainhound trace ... --save NAME`)");
    }
    for c in &cases {
        println!(
            "{}: {} {} trace of {}; checked at height {}: {} unspent coin(s), {} arrival(s)",
            c.name,
            c.options.direction.name(),
            c.options.policy.name(),
            c.seeds.join(", "),
            c.checked_tip,
            c.unspent.len(),
            c.arrived.len()
        );
    }
    Ok(())
}

/// One re-checked case: name, previous check's tip, tip now, movements.
type Checked = (String, u32, u32, Vec<chainhound_trace::case::Movement>);

/// Re-traces saved cases (all when `names` is empty) and records the check.
fn watch(index: &Path, store: &Store, names: &[String]) -> Result<Vec<Result<Checked>>> {
    use chainhound_trace::case::Case;
    let names = if names.is_empty() {
        Case::list(index)?
    } else {
        names.to_vec()
    };
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let (book, resolved) = crate::intel::book_and_placement(index, store)?;
    let one = |name: &str| -> Result<Checked> {
        let mut case = Case::load(index, name)?;
        let mut coins = Vec::new();
        for s in &case.seeds {
            // A seed missing means another chain or a shorter index: the
            // case is left as it was.
            coins
                .extend(seed::coins(store, s).map_err(|e| {
                    anyhow::anyhow!("case {name}: {e}; the case is left unchanged")
                })?);
        }
        let t = Tracer::new(store, Some((&book, &resolved)), case.options.clone()).trace(&coins);
        let from = case.checked_tip;
        let moves = case.check(store, &t);
        case.save(index)
            .with_context(|| format!("saving case {name}"))?;
        Ok((name.to_string(), from, t.tip, moves))
    };
    Ok(names.iter().map(|n| one(n)).collect())
}

fn print_moves(w: &mut dyn std::io::Write, c: &Checked) -> std::io::Result<()> {
    let (name, from, tip, moves) = c;
    writeln!(
        w,
        "case {name}: {} new movement(s) since height {from} (tip {tip})",
        moves.len()
    )?;
    for m in moves {
        writeln!(
            w,
            "  {:<8} {} {} {} BTC height {} {}",
            m.kind,
            m.coin,
            m.address.as_deref().unwrap_or(""),
            crate::output::btc(m.tainted_sat),
            m.height,
            m.detail
        )?;
    }
    Ok(())
}

/// `case watch`: re-checks saved cases and prints their new movements.
pub fn case_watch(index: &Path, store: &Store, names: &[String], as_json: bool) -> Result<()> {
    let results = watch(index, store, names)?;
    let mut failed = 0usize;
    let mut checked = Vec::new();
    for r in results {
        match r {
            Ok(c) => checked.push(c),
            Err(e) => {
                eprintln!("chainhound: {e:#}");
                failed += 1;
            }
        }
    }
    if as_json {
        let v: Vec<_> = checked
            .iter()
            .map(|(name, from, tip, moves)| {
                serde_json::json!({"case": name, "from": from, "tip": tip, "movements": moves})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        if checked.is_empty() && failed == 0 {
            println!("no saved cases (save one with `chainhound trace ... --save NAME`)");
        }
        let mut out = std::io::stdout().lock();
        for c in &checked {
            print_moves(&mut out, c)?;
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} case(s) could not be checked");
    }
    Ok(())
}

/// After an ingest: re-checks every saved case, on stderr (stdout holds
/// the ingest report). Failures are warnings: the ingest itself succeeded.
pub fn watch_after_ingest(index: &Path) {
    if chainhound_trace::case::Case::list(index).map_or(true, |v| v.is_empty()) {
        return;
    }
    let run = || -> Result<Vec<Result<Checked>>> {
        let store = crate::open_index(index)?;
        watch(index, &store, &[])
    };
    match run() {
        Ok(results) => {
            let mut err = std::io::stderr().lock();
            for r in &results {
                match r {
                    Ok(c) => {
                        let _ = print_moves(&mut err, c);
                    }
                    Err(e) => eprintln!("chainhound: warning: {e:#}"),
                }
            }
        }
        Err(e) => eprintln!("chainhound: warning: re-checking saved cases: {e:#}"),
    }
}
