//! `chainhound mail scan` and `chainhound eval mail`: arguments to
//! [`chainhound_mail`], text and JSON output, and each Bitcoin address a
//! message names screened against the index when there is one.

use anyhow::{bail, Result};
use chainhound_mail::analyze::{analyze, Options, Report};
use chainhound_mail::eval::{neutralise, per_source, row, split_of, Split};
use chainhound_mail::source::{read, Item, Problem};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn load(paths: &[PathBuf]) -> (Vec<Item>, Vec<Problem>) {
    let (mut items, mut problems) = (Vec::new(), Vec::new());
    for p in paths {
        read(p, &mut items, &mut problems);
    }
    (items, problems)
}

/// Each Bitcoin address a message names, screened against the index's
/// labels and chain (as `chainhound screen` does); a risky one joins the
/// message's evidence.
fn screen_addresses(index: &Path, reports: &mut [Report]) -> Result<()> {
    use chainhound_intel::screen::{Options as ScreenOptions, Screener};
    use chainhound_intel::severity::{Rules, Severity};
    if !reports.iter().any(|r| !r.indicators.crypto.btc.is_empty()) {
        return Ok(());
    }
    let store = crate::open_index(index)?;
    let (book, resolved) = crate::intel::book_and_placement(index, &store)?;
    let rules = Rules::default();
    let screener = Screener::new(
        Some(&store),
        &book,
        &resolved,
        &rules,
        ScreenOptions::default(),
    );
    for r in reports.iter_mut() {
        for a in r.indicators.crypto.btc.clone() {
            let Ok(s) = screener.screen(&a) else { continue };
            let Some(sev) = s.severity else { continue };
            let weight = match sev {
                Severity::Severe => 8,
                Severity::High => 6,
                Severity::Medium => 3,
                Severity::Low => 1,
            };
            let why = s
                .hits
                .first()
                .map(|h| {
                    format!(
                        "labelled {} ({}, {})",
                        h.label.entity,
                        h.label.category.name(),
                        h.label.origin
                    )
                })
                .or_else(|| {
                    s.findings.first().map(|f| {
                        format!(
                            "{:.0}% exposed to {} ({}) within {} hops",
                            f.share * 100.0,
                            f.label.entity,
                            f.category.name(),
                            f.hops
                        )
                    })
                })
                .unwrap_or_default();
            r.add(chainhound_mail::Evidence::new(
                "crypto.address_risk",
                weight,
                format!(
                    "the mail names the Bitcoin address {a}: {} on the chain, {why}",
                    sev.name()
                ),
            ));
        }
    }
    Ok(())
}

/// `mail scan`: judges every message; a table for several, the evidence
/// for one; `--json`. With an index, the Bitcoin addresses found are
/// screened. Returns whether every path was read.
pub fn scan(index: &Path, paths: &[PathBuf], opts: &Options, as_json: bool) -> Result<bool> {
    let (items, problems) = load(paths);
    for p in &problems {
        eprintln!("chainhound: {}: {}", p.path.display(), p.message);
    }
    if items.is_empty() {
        bail!(
            "no message found in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut reports: Vec<Report> = items
        .iter()
        .map(|i| analyze(&i.source, &i.bytes, opts))
        .collect();
    if index.join("manifest.json").exists() {
        screen_addresses(index, &mut reports)?;
    }
    if as_json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else if reports.len() == 1 {
        detail(&reports[0]);
    } else {
        println!(
            "{:<11} {:>5}  {:<60} top evidence",
            "verdict", "score", "message"
        );
        for r in &reports {
            let top = r
                .evidence
                .iter()
                .max_by_key(|e| e.weight)
                .map_or("-", |e| e.rule);
            println!(
                "{:<11} {:>5}  {:<60} {top}",
                r.verdict.name(),
                r.score,
                short(&r.source, 60)
            );
        }
        let n = |v: &str| reports.iter().filter(|r| r.verdict.name() == v).count();
        println!(
            "{} messages: {} phishing, {} suspicious, {} clean",
            reports.len(),
            n("phishing"),
            n("suspicious"),
            n("clean")
        );
    }
    Ok(problems.is_empty())
}

fn short(s: &str, n: usize) -> String {
    let c: Vec<char> = s.chars().collect();
    if c.len() <= n {
        s.to_string()
    } else {
        format!("…{}", c[c.len() - (n - 1)..].iter().collect::<String>())
    }
}

fn detail(r: &Report) {
    println!("{}: {} (score {})", r.source, r.verdict.name(), r.score);
    if let Some(s) = &r.subject {
        println!("subject: {s}");
    }
    for e in &r.evidence {
        println!("  {:>+3}  {:<34} {}", e.weight, e.rule, e.words);
    }
    let i = &r.indicators;
    if let Some(f) = &i.from {
        println!("from: {f}");
    }
    if !i.link_domains.is_empty() {
        println!("link hosts: {}", i.link_domains.join(", "));
    }
    for a in &i.attachments {
        println!(
            "attachment: {} ({}, {} bytes) sha256 {}",
            a.name, a.detected, a.size, a.sha256
        );
    }
    let c = &i.crypto;
    for (what, v) in [
        ("bitcoin", &c.btc),
        ("ethereum", &c.eth),
        ("tron", &c.trx),
        ("txid", &c.txids),
    ] {
        if !v.is_empty() {
            println!("{what}: {}", v.join(", "));
        }
    }
}

/// `eval mail`: recall at a false-positive rate, on the development and
/// the test halves, after neutralising the corpus's label leaks.
pub fn eval(phish: &Path, ham: &Path, opts: &Options, as_json: bool) -> Result<()> {
    let (p, pp) = load(&[phish.to_path_buf()]);
    let (h, hp) = load(&[ham.to_path_buf()]);
    for x in pp.iter().chain(&hp) {
        eprintln!("chainhound: {}: {}", x.path.display(), x.message);
    }
    if p.is_empty() || h.is_empty() {
        bail!(
            "need phishing and ham messages ({} and {} found)",
            p.len(),
            h.len()
        );
    }
    let t0 = Instant::now();
    let judge = |items: &[Item]| -> Vec<(Split, String, i32)> {
        items
            .iter()
            .map(|i| {
                let name = Path::new(i.source.split('#').next().unwrap_or(&i.source))
                    .file_name()
                    .map_or(i.source.clone(), |n| n.to_string_lossy().into_owned());
                let r = analyze(&i.source, &neutralise(&i.bytes), opts);
                (split_of(&name), name, r.score)
            })
            .collect()
    };
    let (ps, hs) = (judge(&p), judge(&h));
    let secs = t0.elapsed().as_secs_f64();
    let scores = |v: &[(Split, String, i32)], s: Option<Split>| -> Vec<i32> {
        v.iter()
            .filter(|x| s.is_none_or(|s| x.0 == s))
            .map(|x| x.2)
            .collect()
    };
    let rows: Vec<_> = [
        ("dev", Some(Split::Dev)),
        ("test", Some(Split::Test)),
        ("all", None),
    ]
    .iter()
    .map(|(n, s)| row(n, &scores(&ps, *s), &scores(&hs, *s)))
    .collect();
    let rate = (p.len() + h.len()) as f64 / secs;
    // Per source, on the test half at its own thresholds.
    let named = |v: &[(Split, String, i32)]| -> Vec<(String, i32)> {
        v.iter()
            .filter(|x| x.0 == Split::Test)
            .map(|x| (x.1.clone(), x.2))
            .collect()
    };
    let t1 = rows[1].threshold_1pct;
    let mut sources = per_source("phish", &named(&ps), t1);
    sources.extend(per_source("ham", &named(&hs), t1));
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"rows": rows, "test_per_source": sources, "messages_per_second": rate})
            )?
        );
        return Ok(());
    }
    println!(
        "{} phishing and {} ham messages, leaks neutralised, judged in {:.2} s ({:.0} messages/s)",
        p.len(),
        h.len(),
        secs,
        rate
    );
    println!(
        "{:<5} {:>6} {:>5}  {:>17} {:>17}  {:>26}",
        "split",
        "phish",
        "ham",
        "phishing: rec/FP",
        "suspicious: rec/FP",
        "≤1% FP: threshold rec/FP"
    );
    for r in &rows {
        println!(
            "{:<5} {:>6} {:>5}  {:>8.3}/{:<8.3} {:>8.3}/{:<8.3}  {:>10} {:>7.3}/{:<7.3}",
            r.split,
            r.phish,
            r.ham,
            r.recall_phishing,
            r.fp_phishing,
            r.recall_suspicious,
            r.fp_suspicious,
            r.threshold_1pct,
            r.recall_at_1pct,
            r.fp_at_1pct
        );
    }
    println!("\ntest half per source (phish: recall; ham: false positives), at the verdict and at the threshold {t1}:");
    for r in &sources {
        println!(
            "  {:<5} {:<16} {:>4} messages  phishing {:>6.3}  at threshold {:>6.3}",
            r.label, r.source, r.messages, r.at_phishing, r.at_1pct
        );
    }
    println!("the test half is never used to tune rules; its figures are the ones that count");
    Ok(())
}
