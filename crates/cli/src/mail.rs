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

/// `mail scan --dns`: the records file; its bad lines are reported (the
/// good ones kept), an unreadable or oversized file is an error.
pub fn load_dns(path: &Path) -> Result<std::sync::Arc<chainhound_mail::auth::Dns>> {
    let (dns, problems) = chainhound_mail::auth::Dns::load(path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    for p in &problems {
        eprintln!("chainhound: {p}");
    }
    Ok(std::sync::Arc::new(dns))
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
                shown(&short(&r.source, 60))
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

/// Text from a message made safe for a terminal: control characters
/// (which could move the cursor, erase the verdict's line or hide what
/// follows) and bidirectional overrides are shown as `\u{..}` escapes.
fn shown(s: &str) -> String {
    let bad = |c: char| {
        c.is_control()
            || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(bad) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if bad(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
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
    println!(
        "{}: {} (score {})",
        shown(&r.source),
        r.verdict.name(),
        r.score
    );
    if let Some(s) = &r.subject {
        println!("subject: {}", shown(s));
    }
    for e in &r.evidence {
        println!("  {:>+3}  {:<34} {}", e.weight, e.rule, shown(&e.words));
    }
    let i = &r.indicators;
    if let Some(f) = &i.from {
        println!("from: {}", shown(f));
    }
    if !i.link_domains.is_empty() {
        println!("link hosts: {}", shown(&i.link_domains.join(", ")));
    }
    for a in &i.attachments {
        println!(
            "attachment: {} ({}, {} bytes) sha256 {}",
            shown(&a.name),
            a.detected,
            a.size,
            a.sha256
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
/// the test halves, after neutralising the corpus's label leaks. With
/// `export`, the neutralised messages and their scores are also written
/// there ([`export`]).
pub fn eval(
    phish: &Path,
    ham: &Path,
    opts: &Options,
    as_json: bool,
    export_to: Option<&Path>,
) -> Result<()> {
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
    if let Some(dir) = export_to {
        export(dir, &[("phish", &p, &ps), ("ham", &h, &hs)])?;
    }
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
    // The figure that counts: the test half at the threshold the
    // development half chose (the test half chooses nothing).
    let t_dev = rows[0].threshold_1pct;
    let held_out = serde_json::json!({
        "threshold": t_dev,
        "recall": chainhound_mail::eval::rate(&scores(&ps, Some(Split::Test)), t_dev),
        "fp": chainhound_mail::eval::rate(&scores(&hs, Some(Split::Test)), t_dev),
    });
    let t1 = rows[1].threshold_1pct;
    let mut sources = per_source("phish", &named(&ps), t1);
    sources.extend(per_source("ham", &named(&hs), t1));
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"rows": rows, "test_at_dev_threshold": held_out, "test_per_source": sources, "messages_per_second": rate})
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
            if r.threshold_1pct == i32::MAX {
                "n/a".to_string()
            } else {
                r.threshold_1pct.to_string()
            },
            r.recall_at_1pct,
            r.fp_at_1pct
        );
    }
    if t_dev == i32::MAX || rows[1].phish == 0 || rows[1].ham == 0 {
        println!("\ntest half at the development half's threshold: n/a (a half has no phishing or no ham)");
    } else {
        println!(
            "\ntest half at the development half's 1%-FP threshold {t_dev}: recall {:.3} at FP {:.3}",
            held_out["recall"].as_f64().unwrap_or(0.0),
            held_out["fp"].as_f64().unwrap_or(0.0)
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

/// A message as `eval mail` judged it: its half, file name and score.
type Judged = (Split, String, i32);

/// `eval mail --export DIR`: each message as judged (leaks neutralised)
/// in `DIR/{phish,ham}/{dev,test}/NAME` (the n-th message of an mbox as
/// `NAME.n`), and `DIR/chainhound.tsv`: label, split, name, score and
/// verdict of each, so that another engine can be run on the same bytes
/// and the same halves (`tools/spamassassin_compare.sh`). Files already
/// there are replaced.
fn export(dir: &Path, sets: &[(&str, &[Item], &[Judged])]) -> Result<()> {
    use anyhow::Context;
    use chainhound_mail::Verdict;
    use std::fmt::Write as _;
    let mut tsv = String::from("label\tsplit\tname\tscore\tverdict\n");
    let mut used = std::collections::HashSet::new();
    for (label, items, judged) in sets {
        for (item, (split, name, score)) in items.iter().zip(judged.iter()) {
            let half = match split {
                Split::Dev => "dev",
                Split::Test => "test",
            };
            let base = match item.source.rsplit_once('#') {
                Some((_, n)) if n.chars().all(|c| c.is_ascii_digit()) => format!("{name}.{n}"),
                _ => name.clone(),
            };
            // Two files of one name in different folders keep apart.
            let mut name = base.clone();
            let mut k = 1;
            while !used.insert((label.to_string(), half, name.clone())) {
                k += 1;
                name = format!("{base}.{k}");
            }
            let folder = dir.join(label).join(half);
            std::fs::create_dir_all(&folder)
                .with_context(|| format!("cannot create {}", folder.display()))?;
            let path = folder.join(&name);
            std::fs::write(&path, neutralise(&item.bytes))
                .with_context(|| format!("cannot write {}", path.display()))?;
            let _ = writeln!(
                tsv,
                "{label}\t{half}\t{name}\t{score}\t{}",
                Verdict::of(*score).name()
            );
        }
    }
    let path = dir.join("chainhound.tsv");
    std::fs::write(&path, tsv).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!(
        "chainhound: {} messages and their scores written to {}",
        sets.iter().map(|s| s.1.len()).sum::<usize>(),
        dir.display()
    );
    Ok(())
}
