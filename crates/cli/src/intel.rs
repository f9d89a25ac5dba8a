//! `labels` and `screen`: arguments, loading the book and the index, and
//! rendering. The work is in `chainhound_intel`.

use crate::output::{btc, json};
use anyhow::{bail, Context, Result};
use chainhound_entities::cluster::{self, Clusters};
use chainhound_index::store::Store;
use chainhound_intel::book::{labels_dir, LabelBook};
use chainhound_intel::formats::{self, tagpack};
use chainhound_intel::label::{Category, Label};
use chainhound_intel::resolve::Resolved;
use chainhound_intel::screen::{Options, Screener, Screening};
use chainhound_intel::severity::Rules;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub(crate) fn open_book(index: &Path) -> Result<LabelBook> {
    let dir = labels_dir(index);
    LabelBook::open(&dir).with_context(|| format!("reading the label book in {}", dir.display()))
}

/// `labels import`.
pub fn import(index: &Path, files: &[PathBuf], skip_invalid: bool, as_json: bool) -> Result<()> {
    let read = formats::read_files(files).map_err(|p| anyhow::anyhow!("{p}"))?;
    let mut book = open_book(index)?;
    let report = book
        .import(read, skip_invalid)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    book.save(&labels_dir(index))
        .with_context(|| format!("writing {}", labels_dir(index).display()))?;
    if as_json {
        return json(&report);
    }
    let mut out = io::stdout().lock();
    for f in &report.files {
        writeln!(
            out,
            "{}: {} ({}): {} labels{}",
            f.path.display(),
            f.format,
            if f.skipped.is_empty() {
                "all valid".to_string()
            } else {
                format!("{} invalid skipped", f.skipped.len())
            },
            f.labels,
            if f.replaced > 0 {
                format!(", replacing {} from an earlier import", f.replaced)
            } else {
                String::new()
            }
        )?;
        for p in f.skipped.iter().take(10) {
            writeln!(out, "  skipped {p}")?;
        }
        for q in f.quirks.iter().take(10) {
            writeln!(out, "  note {q}")?;
        }
        let more = f.skipped.len().saturating_sub(10) + f.quirks.len().saturating_sub(10);
        if more > 0 {
            writeln!(out, "  ... and {more} more (see --json)")?;
        }
    }
    writeln!(
        out,
        "{} labels in {}",
        report.total,
        labels_dir(index).display()
    )?;
    Ok(())
}

/// Filters of `labels list` and `labels export`.
#[derive(clap::Args, Default)]
pub struct Filter {
    /// Only this category (sanctions, stolen-funds, mixer, exchange...).
    #[arg(long)]
    pub category: Option<String>,
    /// Only this chain (BTC, ETH...).
    #[arg(long)]
    pub chain: Option<String>,
    /// Only labels imported from this file name.
    #[arg(long)]
    pub file: Option<String>,
    /// Only entities whose name contains this (case-insensitive).
    #[arg(long)]
    pub entity: Option<String>,
}

fn filtered(book: &LabelBook, f: &Filter) -> Result<Vec<u32>> {
    let cat = f
        .category
        .as_deref()
        .map(|c| c.parse::<Category>().map_err(anyhow::Error::msg))
        .transpose()?;
    let chain = f
        .chain
        .as_deref()
        .map(|c| chainhound_intel::label::normalize_chain(c).unwrap_or_default());
    let ent = f.entity.as_deref().map(str::to_lowercase);
    Ok((0..book.len() as u32)
        .filter(|&i| {
            let r = book.record_of(i);
            cat.is_none_or(|c| r.category == c)
                && chain.as_deref().is_none_or(|c| r.chain == c)
                && f.file.as_deref().is_none_or(|x| r.file == x)
                && ent
                    .as_deref()
                    .is_none_or(|e| r.entity.to_lowercase().contains(e))
        })
        .collect())
}

/// `labels list`: a summary by file and category, or with a filter (or
/// `--address`) the labels themselves.
pub fn list(
    index: &Path,
    filter: &Filter,
    address: Option<&str>,
    limit: usize,
    offset: usize,
    as_json: bool,
) -> Result<bool> {
    let book = open_book(index)?;
    let any_filter = filter.category.is_some()
        || filter.chain.is_some()
        || filter.file.is_some()
        || filter.entity.is_some();
    if address.is_none() && !any_filter {
        let summary = book.summary();
        if as_json {
            #[derive(serde::Serialize)]
            struct Row<'a> {
                file: &'a str,
                category: Category,
                labels: usize,
            }
            let rows: Vec<Row> = summary
                .iter()
                .map(|(f, c, n)| Row {
                    file: f,
                    category: *c,
                    labels: *n,
                })
                .collect();
            json(&rows)?;
        } else {
            let mut out = io::stdout().lock();
            writeln!(out, "{:<44} {:<14} {:>9}", "file", "category", "labels")?;
            for (f, c, n) in &summary {
                writeln!(out, "{f:<44} {:<14} {n:>9}", c.name())?;
            }
            writeln!(
                out,
                "{} labels (filter with --category, --chain, --file, --entity; --address A)",
                book.len()
            )?;
        }
        return Ok(!book.is_empty());
    }
    let ids: Vec<u32> = match address {
        Some(a) => {
            let hits = book.lookup(a);
            let keep = filtered(&book, filter)?;
            hits.into_iter()
                .filter(|i| keep.binary_search(i).is_ok())
                .collect()
        }
        None => filtered(&book, filter)?,
    };
    let total = ids.len();
    if total == 0 {
        eprintln!("chainhound: no label matches");
    } else if offset >= total {
        eprintln!("chainhound: {total} labels match; --offset {offset} is past the last");
    }
    let page: Vec<Label> = ids
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|i| book.label(i))
        .collect();
    if as_json {
        #[derive(serde::Serialize)]
        struct Page {
            total: usize,
            offset: usize,
            labels: Vec<Label>,
        }
        json(&Page {
            total,
            offset,
            labels: page,
        })?;
    } else {
        let mut out = io::stdout().lock();
        for l in &page {
            writeln!(out, "{}", label_line(l))?;
        }
        if total > offset + page.len() {
            writeln!(
                out,
                "... {} of {total} shown (--offset {} for more)",
                page.len(),
                offset + page.len()
            )?;
        }
    }
    Ok(total > 0)
}

fn label_line(l: &Label) -> String {
    format!(
        "{} {} {} {:?} [{}] confidence {} ({}) source {} {}{}",
        l.chain,
        l.subject.id(),
        l.category,
        l.entity,
        l.tags,
        l.confidence.0,
        l.confidence.level_name(),
        l.source,
        l.origin,
        l.date
            .as_deref()
            .map(|d| format!(" {d}"))
            .unwrap_or_default()
    )
}

/// `labels export`.
pub fn export(index: &Path, filter: &Filter, format: &str, out: Option<&Path>) -> Result<()> {
    let book = open_book(index)?;
    let labels: Vec<Label> = filtered(&book, filter)?
        .into_iter()
        .map(|i| book.label(i))
        .collect();
    if labels.is_empty() {
        bail!("no label matches; nothing to export");
    }
    let text = match format {
        "tagpack" => tagpack::write(
            &tagpack::PackHeader {
                title: "chainhound export".into(),
                creator: "chainhound".into(),
                description: format!(
                    "{} labels exported from {}",
                    labels.len(),
                    labels_dir(index).display()
                ),
                is_public: false,
            },
            &labels,
        ),
        "csv" => formats::user::write_user_csv(&labels),
        f => bail!("unknown export format {f:?} (tagpack or csv)"),
    };
    match out {
        Some(p) => std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))?,
        None => io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}

/// `labels remove FILE`.
pub fn remove(index: &Path, file: &str) -> Result<bool> {
    let mut book = open_book(index)?;
    let n = book.remove_file(file);
    if n == 0 {
        eprintln!("chainhound: no label was imported from {file:?} (see `labels list`)");
        return Ok(false);
    }
    book.save(&labels_dir(index))?;
    println!("removed {n} labels of {file}; {} left", book.len());
    Ok(true)
}

pub(crate) fn open_clusters(index: &Path) -> Option<Clusters> {
    Clusters::open(&cluster::clusters_dir(index)).ok()
}

/// The index's label book and its placement on the index (cached, lifted
/// through the clusters when they exist): what `screen`, `trace` and
/// `mail scan` judge with.
pub(crate) fn book_and_placement(index: &Path, store: &Store) -> Result<(LabelBook, Resolved)> {
    let book = open_book(index)?;
    let resolved = Resolved::cached(&book, &labels_dir(index), store, open_clusters(index));
    Ok((book, resolved))
}

/// `labels conflicts`.
pub fn conflicts(index: &Path, store: &Store, as_json: bool) -> Result<bool> {
    let book = open_book(index)?;
    let Some(c) = open_clusters(index) else {
        bail!("no clusters (run `chainhound cluster` first)");
    };
    let r = Resolved::cached(&book, &labels_dir(index), store, Some(c));
    if as_json {
        json(&r.conflicts)?;
    } else {
        let mut out = io::stdout().lock();
        for c in &r.conflicts {
            writeln!(
                out,
                "entity {} ({} addresses): likely a false merge of",
                c.entity, c.size
            )?;
            for s in &c.services {
                writeln!(
                    out,
                    "  {} ({}) at {} ({})",
                    s.entity, s.category, s.address, s.origin
                )?;
            }
        }
        let (a, t, e) = r.counts();
        writeln!(
            out,
            "{} conflicting entities; {a} labelled addresses, {t} labelled transactions, {e} labelled entities",
            r.conflicts.len()
        )?;
    }
    Ok(!r.conflicts.is_empty())
}

/// Arguments of `screen`.
pub struct ScreenArgs {
    pub targets: Vec<String>,
    pub opts: Options,
    pub rules: Option<PathBuf>,
    pub output: crate::output::OutputArgs,
}

/// `screen`: one or more addresses or txids, or files of them (batch).
pub fn screen(index: &Path, a: ScreenArgs) -> Result<bool> {
    let rules = match &a.rules {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Rules::parse(&text, &p.display().to_string()).map_err(|e| anyhow::anyhow!("{e}"))?
        }
        None => Rules::default(),
    };
    let book = open_book(index)?;
    let store = if index.join("manifest.json").exists() {
        Some(crate::open_index(index)?)
    } else {
        eprintln!(
            "chainhound: note: no index at {}: matching labels only, no exposure",
            index.display()
        );
        None
    };
    let resolved = match &store {
        Some(s) => Resolved::cached(&book, &labels_dir(index), s, open_clusters(index)),
        None => Resolved::default(),
    };
    if book.is_empty() {
        eprintln!(
            "chainhound: warning: the label book is empty (run `chainhound labels import FILE...`)"
        );
    }
    let screener = Screener::new(store.as_ref(), &book, &resolved, &rules, a.opts);
    let batch_default = a.targets.len() > 1 || a.targets.iter().any(|t| Path::new(t).is_file());
    let format = a.output.format(
        if batch_default { "csv" } else { "text" },
        &["text", "csv", "json"],
    )?;
    // Targets: each argument is a file of targets (one per line, `#`
    // comments, first CSV field, quotes and a BOM dropped, a header
    // `address` or `txid` skipped) if such a file exists, else a target.
    let mut targets: Vec<(String, String)> = Vec::new();
    let mut batch = false;
    let mut bad_lines = 0usize;
    for t in &a.targets {
        let p = Path::new(t);
        if p.is_dir() {
            bail!("{t} is a directory, not a file of targets");
        }
        if !p.is_file() {
            let looks_like_path = t.contains('/')
                || [".txt", ".csv", ".tsv", ".lst"]
                    .iter()
                    .any(|e| t.ends_with(e));
            if looks_like_path {
                bail!("{t}: no such file");
            }
            targets.push((t.clone(), String::new()));
            continue;
        }
        batch = true;
        let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let before = targets.len();
        for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
            let Ok(line) = std::str::from_utf8(line) else {
                eprintln!(
                    "chainhound: {}:{}: not UTF-8 text, skipped",
                    p.display(),
                    n + 1
                );
                bad_lines += 1;
                continue;
            };
            let v = line
                .split(['#', ',', '\t', ';'])
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"')
                .trim();
            if !v.is_empty()
                && !v.eq_ignore_ascii_case("address")
                && !v.eq_ignore_ascii_case("txid")
            {
                targets.push((v.to_string(), format!("{}:{}", p.display(), n + 1)));
            }
        }
        if targets.len() == before {
            eprintln!("chainhound: warning: {} holds no target", p.display());
        }
    }
    if targets.is_empty() {
        bail!("no address or txid to screen");
    }
    let mut errors = 0usize;
    crate::output::write_to(a.output.out.as_deref(), |sink| {
        let mut results = Vec::new();
        let mut shown = 0usize;
        if format == "csv" {
            writeln!(sink, "target,kind,in_index,severity,value_btc,top_category,top_share,top_reach,top_hops,top_source,categories,hits,unattributed,pruned,truncated,evidence")?;
        }
        for (t, origin) in &targets {
            let s = match screener.screen(t) {
                Ok(s) => s,
                Err(e) => {
                    errors += 1;
                    let at = if origin.is_empty() {
                        String::new()
                    } else {
                        format!("{origin}: ")
                    };
                    eprintln!("chainhound: {at}{e}");
                    continue;
                }
            };
            match format.as_str() {
                "csv" => csv_row(sink, &s)?,
                "json" => results.push(s),
                _ => {
                    if shown > 0 {
                        writeln!(sink)?;
                    }
                    text(sink, &s)?
                }
            }
            shown += 1;
        }
        if format == "json" {
            if results.len() == 1 && !batch {
                serde_json::to_writer_pretty(&mut *sink, &results[0])?;
            } else {
                serde_json::to_writer_pretty(&mut *sink, &results)?;
            }
            writeln!(sink)?;
        }
        Ok(())
    })?;
    if errors > 0 && targets.len() == errors {
        bail!("nothing could be screened");
    }
    if errors + bad_lines > 0 {
        eprintln!(
            "chainhound: {} of {} targets could not be screened (see above)",
            errors + bad_lines,
            targets.len() + bad_lines
        );
        return Ok(false);
    }
    Ok(true)
}

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

fn csv_field(s: &str) -> String {
    // Label text never runs as a spreadsheet formula.
    let s = chainhound_trace::report::cell(s);
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_row(w: &mut dyn Write, s: &Screening) -> Result<()> {
    let top = s.findings.first();
    let cats: Vec<String> = s
        .exposure
        .iter()
        .map(|e| format!("{}={:.4}", e.category, e.share))
        .collect();
    let hits: Vec<String> = s
        .hits
        .iter()
        .map(|h| format!("{}:{}", h.label.category, h.label.entity))
        .collect();
    let evidence = top
        .map(|f| {
            f.path
                .iter()
                .map(|p| match p.vout {
                    Some(v) => format!("{}:{v}", p.txid),
                    None => p.txid.clone(),
                })
                .collect::<Vec<_>>()
                .join(">")
        })
        .unwrap_or_default();
    writeln!(
        w,
        "{},{},{},{},{},{},{},{},{},{},{},{},{:.4},{:.4},{},{}",
        csv_field(&s.target),
        s.kind,
        s.in_index,
        s.severity.map(|x| x.name()).unwrap_or("none"),
        btc(s.value_sat),
        top.map(|f| f.category.name()).unwrap_or(""),
        top.map(|f| format!("{:.4}", f.share)).unwrap_or_default(),
        top.map(|f| f.reach.name()).unwrap_or(""),
        top.map(|f| f.hops.to_string()).unwrap_or_default(),
        csv_field(&top.map(|f| f.label.entity.clone()).unwrap_or_default()),
        csv_field(&cats.join(" ")),
        csv_field(&hits.join(" ")),
        s.unattributed,
        s.pruned,
        s.truncated,
        evidence
    )?;
    Ok(())
}

fn text(w: &mut dyn Write, s: &Screening) -> Result<()> {
    writeln!(
        w,
        "{} {}{}",
        s.kind,
        s.target,
        if s.in_index {
            ""
        } else {
            " (not in the index)"
        }
    )?;
    writeln!(
        w,
        "severity: {}",
        s.severity
            .map(|x| x.name().to_uppercase())
            .unwrap_or_else(|| "none".into())
    )?;
    if let Some(e) = &s.entity {
        writeln!(
            w,
            "entity {} of {} addresses{}",
            e.id,
            e.size,
            if e.conflicted {
                " (two services' labels: likely a false merge, labels not lifted; see `labels conflicts`)"
            } else {
                ""
            }
        )?;
    }
    for h in &s.hits {
        writeln!(
            w,
            "hit: {} {} {:?} (label on the {}; {} confidence {}; source {}; {}){}",
            h.severity.map(|x| x.name()).unwrap_or("-"),
            h.label.category,
            h.label.entity,
            h.via,
            h.label.chain,
            h.label.confidence.0,
            h.label.source,
            h.label.origin,
            if h.rule.is_empty() {
                String::new()
            } else {
                format!(" rule {}", h.rule)
            }
        )?;
    }
    if !s.in_index {
        return Ok(());
    }
    let receipts = s
        .receipts
        .map(|(a, b)| format!(", {a} of {b} receipts"))
        .unwrap_or_default();
    writeln!(
        w,
        "exposure within {} hops ({} BTC screened{receipts}; {} transactions followed):",
        s.hops,
        btc(s.value_sat),
        s.expanded
    )?;
    writeln!(
        w,
        "  {:<14} {:>8} {:>18} {:>8} {:>8} {:>5}  severity",
        "category", "share", "BTC", "direct", "indirect", "hops"
    )?;
    for e in &s.exposure {
        writeln!(
            w,
            "  {:<14} {:>8} {:>18} {:>8} {:>8} {:>5}  {}",
            e.category.name(),
            pct(e.share),
            btc(e.amount_sat),
            pct(e.direct_share),
            pct(e.indirect_share),
            e.min_hops,
            e.severity.map(|x| x.name()).unwrap_or("-")
        )?;
    }
    writeln!(
        w,
        "  {:<14} {:>8}  (no label within reach)",
        "unattributed",
        pct(s.unattributed)
    )?;
    writeln!(w, "  {:<14} {:>8}", "newly mined", pct(s.newly_mined))?;
    writeln!(
        w,
        "  {:<14} {:>8}  (shares too small to follow{})",
        "pruned",
        pct(s.pruned),
        if s.truncated {
            ", or past the budget"
        } else {
            ""
        }
    )?;
    for f in &s.findings {
        writeln!(
            w,
            "finding: {} {} {} {} BTC, {} ({} hop{}), from {:?} (label on the {}; source {}; {}; {} path{}){}",
            f.severity.map(|x| x.name()).unwrap_or("-"),
            f.category,
            pct(f.share),
            btc(f.amount_sat),
            f.reach.name(),
            f.hops,
            if f.hops == 1 { "" } else { "s" },
            f.label.entity,
            f.via,
            f.label.source,
            f.label.origin,
            f.paths,
            if f.paths == 1 { "" } else { "s" },
            if f.rule.is_empty() { String::new() } else { format!(" rule {}", f.rule) }
        )?;
        for (i, p) in f.path.iter().enumerate() {
            let what = match (p.vout, &p.address) {
                (Some(v), Some(a)) => format!("{}:{v} pays {a} {} BTC", p.txid, btc(p.value_sat)),
                (Some(v), None) => format!("{}:{v} {} BTC", p.txid, btc(p.value_sat)),
                (None, _) => format!("{} (screened, {} BTC in)", p.txid, btc(p.value_sat)),
            };
            writeln!(
                w,
                "    {} {what} at height {}{}",
                if i == 0 { "from" } else { "  ->" },
                p.height,
                p.coinjoin
                    .map(|k| format!(" ({k} CoinJoin: a proportional share)"))
                    .unwrap_or_default()
            )?;
        }
    }
    Ok(())
}
