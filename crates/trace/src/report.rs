//! Renderings of a [`Trace`]: one CSV table of every coin in it, the flow
//! graph as GraphViz DOT, and a self-contained HTML case report (summary,
//! where the value went, the flow graph drawn as inline SVG, the evidence
//! tables).
//!
//! Owns the three formats and their escaping. Every string that reaches a
//! rendering is treated as hostile (entity names, label sources and origins
//! come from files anyone can write): the CSV writer quotes fields, DOT
//! strings escape quotes, backslashes and line breaks, HTML escapes
//! `& < > " '`.
//!
//! Must not: read the index or the label book (everything it prints is in
//! the [`Trace`]), fetch anything (the HTML links to nothing outside itself:
//! no style sheets, fonts, images or scripts from elsewhere), or run
//! scripts (the report has no `<script>` at all: inline `<style>` only).

use crate::walk::{Arrival, Direction, EntityFlow, Graph, GraphEdge, Step, Trace, OTHER_DEPOSITS};
use chainhound_intel::label::Label;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufWriter, Write};

/// Satoshis in a bitcoin.
const COIN: u64 = 100_000_000;

/// The CSV header, in column order.
const CSV_HEADER: [&str; 13] = [
    "kind",
    "entity",
    "category",
    "txid",
    "vout",
    "address",
    "value_sat",
    "tainted_sat",
    "height",
    "time",
    "hop",
    "coinjoin",
    "why",
];

/// One CSV row; `None` is an empty field.
#[derive(Serialize)]
struct Row<'a> {
    kind: &'static str,
    entity: Cow<'a, str>,
    category: &'a str,
    txid: &'a str,
    vout: Option<u32>,
    address: Option<&'a str>,
    value_sat: Option<u64>,
    tainted_sat: Option<u64>,
    height: Option<u32>,
    time: Option<u32>,
    hop: Option<u32>,
    coinjoin: Option<&'a str>,
    why: &'a str,
}

/// A label's text as a CSV cell that spreadsheets will not run: one
/// starting with `=`, `+`, `-`, `@`, a tab or a carriage return (a formula
/// to Excel and LibreOffice) gets a leading `'`.
pub fn cell(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

impl<'a> Row<'a> {
    /// A coin's row, without entity, category or reason.
    fn coin(kind: &'static str, s: &'a Step) -> Row<'a> {
        Row {
            kind,
            entity: Cow::Borrowed(""),
            category: "",
            txid: &s.txid,
            vout: Some(s.vout),
            address: s.address.as_deref(),
            value_sat: Some(s.value_sat),
            tainted_sat: Some(s.tainted_sat),
            height: Some(s.height),
            time: Some(s.time),
            hop: Some(s.hop),
            coinjoin: s.coinjoin.as_deref(),
            why: "",
        }
    }
}

/// Writes every coin of the trace as one CSV table, header
/// `kind,entity,category,txid,vout,address,value_sat,tainted_sat,height,time,hop,coinjoin,why`.
///
/// Kinds, in this order:
/// - `seed`: the seed coins;
/// - `arrival`: every coin that arrived at an entity (asserted arrivals,
///   [`Trace::entities`]), with the entity's name and category; `why` says
///   how the label was found (`address` labelled itself, or `entity` lifted
///   from its cluster), followed by `; after a CoinJoin, corroborated` for
///   a coin whose taint came through a CoinJoin (asserted because value
///   arrived at the same address without one; when no coin says so, every
///   coin of an address marked [`crate::walk::Arrival::after_coinjoin`]);
/// - `possible`: every coin that arrived at an entity only after a
///   CoinJoin, uncorroborated ([`Trace::possible`]), with the entity's name
///   and category; `why` = `after a CoinJoin, uncorroborated`;
/// - `lead`: other coins the addresses of asserted arrivals received that
///   the trace did not reach (at an exchange, the same account's other
///   deposits), with the entity's name and category; `tainted_sat` is 0
///   and `hop` empty; `why` = `other deposit to the same address`;
/// - `holding`: coins the trace ended on without a label, `why` being
///   `unspent`, `hop-limit`, `time-bound`, `pruned` or `newly-mined`;
/// - `coinjoin`: CoinJoins met (txid, height, tainted satoshis entering,
///   `coinjoin` = the detector's kind, `why` = `stopped` or `shared`);
/// - `mark`: labelled addresses passed through, with the label's entity and
///   category.
///
/// `time` is Unix seconds; amounts are satoshis.
///
/// # Errors
///
/// The writer's errors.
pub fn csv(t: &Trace, w: &mut dyn Write) -> io::Result<()> {
    let mut out = ::csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(w);
    out.write_record(CSV_HEADER)?;
    for s in &t.seeds {
        out.serialize(Row::coin("seed", s))?;
    }
    for e in &t.entities {
        let after = format!("{}; after a CoinJoin, corroborated", e.via);
        for a in &e.addresses {
            // The coins that came through a CoinJoin when they say so;
            // else (older traces) every coin of a marked address.
            let per_coin = a.coins.iter().any(|c| c.after_coinjoin);
            for c in &a.coins {
                let marked = c.after_coinjoin || (a.after_coinjoin && !per_coin);
                out.serialize(Row {
                    entity: cell(&e.name),
                    category: e.category.name(),
                    why: if marked { &after } else { &e.via },
                    ..Row::coin("arrival", c)
                })?;
            }
        }
    }
    for e in &t.possible {
        for a in &e.addresses {
            for c in &a.coins {
                out.serialize(Row {
                    entity: cell(&e.name),
                    category: e.category.name(),
                    why: "after a CoinJoin, uncorroborated",
                    ..Row::coin("possible", c)
                })?;
            }
        }
    }
    for e in &t.entities {
        for a in &e.addresses {
            for c in &a.other_deposits {
                out.serialize(Row {
                    entity: cell(&e.name),
                    category: e.category.name(),
                    hop: None,
                    why: "other deposit to the same address",
                    ..Row::coin("lead", c)
                })?;
            }
        }
    }
    for h in &t.holdings {
        out.serialize(Row {
            why: &h.why,
            ..Row::coin("holding", &h.coin)
        })?;
    }
    for c in &t.coinjoins {
        out.serialize(Row {
            kind: "coinjoin",
            entity: Cow::Borrowed(""),
            category: "",
            txid: &c.txid,
            vout: None,
            address: None,
            value_sat: None,
            tainted_sat: Some(c.tainted_sat),
            height: Some(c.height),
            time: None,
            hop: None,
            coinjoin: Some(&c.kind),
            why: &c.action,
        })?;
    }
    for m in &t.marks {
        out.serialize(Row {
            entity: cell(&m.label.entity),
            category: m.label.category.name(),
            ..Row::coin("mark", &m.coin)
        })?;
    }
    out.flush()
}

/// How a node kind is drawn: GraphViz shape and style, fill and stroke
/// colours, and the word printed for it.
struct Look {
    shape: &'static str,
    style: &'static str,
    fill: &'static str,
    stroke: &'static str,
    word: &'static str,
    /// The kind as a CSS class suffix (known kinds only).
    class: &'static str,
}

/// The look of a node kind; unknown kinds are drawn plain.
fn look(kind: &str) -> Look {
    let (shape, style, fill, stroke, word, class) = match kind {
        "seed" => (
            "doubleoctagon",
            "filled",
            "#f6b3b3",
            "#b03030",
            "seed",
            "seed",
        ),
        "tx" => ("box", "filled", "#e4ebf5", "#5b6f8f", "transaction", "tx"),
        "coinjoin" => (
            "hexagon", "filled", "#d8c4f0", "#6a3fa0", "CoinJoin", "coinjoin",
        ),
        "entity" => ("folder", "filled", "#ffd08a", "#b36b00", "entity", "entity"),
        "possible" => (
            "folder",
            "filled,dashed",
            "#eeeeee",
            "#888888",
            "possible, not asserted",
            "possible",
        ),
        "unspent" => (
            "ellipse", "filled", "#b5e3b5", "#2f7d32", "unspent", "unspent",
        ),
        "hop-limit" => (
            "ellipse",
            "filled",
            "#f3ee9c",
            "#8a8020",
            "hop limit",
            "hop-limit",
        ),
        "time-bound" => (
            "ellipse",
            "filled",
            "#c4e1f5",
            "#2c6d99",
            "time bound",
            "time-bound",
        ),
        "pruned" => (
            "ellipse",
            "filled,dashed",
            "#e2e2e2",
            "#777777",
            "pruned",
            "pruned",
        ),
        "coinbase" => (
            "invhouse",
            "filled",
            "#f2dfb8",
            "#8a6d2f",
            "newly mined",
            "coinbase",
        ),
        _ => ("box", "filled", "#ffffff", "#888888", "other", "other"),
    };
    Look {
        shape,
        style,
        fill,
        stroke,
        word,
        class,
    }
}

/// Every kind the legend shows, in order.
const KINDS: [&str; 9] = [
    "seed",
    "tx",
    "coinjoin",
    "entity",
    "unspent",
    "hop-limit",
    "time-bound",
    "pruned",
    "coinbase",
];

/// A node of the graph as drawn.
struct NodeRef<'a> {
    id: &'a str,
    kind: &'a str,
    label: &'a str,
    height: Option<u32>,
    hop: u32,
}

/// The graph with edges as node indices: duplicate node ids are dropped,
/// and an edge's endpoint missing from the nodes is added as a plain node,
/// so every edge joins two drawn nodes.
struct Norm<'a> {
    nodes: Vec<NodeRef<'a>>,
    edges: Vec<(usize, usize, &'a GraphEdge)>,
}

fn normalize(g: &Graph) -> Norm<'_> {
    let mut nodes: Vec<NodeRef<'_>> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for n in &g.nodes {
        if !index.contains_key(n.id.as_str()) {
            index.insert(&n.id, nodes.len());
            nodes.push(NodeRef {
                id: &n.id,
                kind: &n.kind,
                label: &n.label,
                height: n.height,
                hop: n.hop,
            });
        }
    }
    let mut edges = Vec::with_capacity(g.edges.len());
    for e in &g.edges {
        let a = intern(&mut nodes, &mut index, &e.from, &e.to);
        let b = intern(&mut nodes, &mut index, &e.to, &e.from);
        edges.push((a, b, e));
    }
    Norm { nodes, edges }
}

/// The node `id`, added as a plain node (at the hop of the edge's `other`
/// end) when the graph lacks it.
fn intern<'a>(
    nodes: &mut Vec<NodeRef<'a>>,
    index: &mut HashMap<&'a str, usize>,
    id: &'a str,
    other: &str,
) -> usize {
    if let Some(&i) = index.get(id) {
        return i;
    }
    let hop = index.get(other).map_or(0, |&o| nodes[o].hop);
    let i = nodes.len();
    nodes.push(NodeRef {
        id,
        kind: "other",
        label: id,
        height: None,
        hop,
    });
    index.insert(id, i);
    i
}

/// Entity names (lower case, as in graph node ids `entity:<name>`) to
/// their index in [`Trace::entities`]; the first of a name wins.
fn entity_index(t: &Trace) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for (i, e) in t.entities.iter().enumerate() {
        m.entry(format!("entity:{}", e.name.to_lowercase()))
            .or_insert(i);
    }
    m
}

/// A GraphViz quoted string: quotes and backslashes escaped, line breaks
/// as `\n`, other control characters as spaces.
fn dot_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => o.push(' '),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Satoshis as BTC with 8 decimals.
fn btc(sat: u64) -> String {
    format!("{}.{:08}", sat / COIN, sat % COIN)
}

/// Satoshis as BTC, trailing zeros (and a bare point) trimmed: `1.5`, `2`,
/// `0.0001`.
fn btc_trim(sat: u64) -> String {
    let s = btc(sat);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The first `n` characters of `s`, with `…` when cut.
fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut o: String = s.chars().take(n.saturating_sub(1)).collect();
        o.push('…');
        o
    }
}

/// A coin `txid:vout` with the txid cut to 12 characters.
fn short_coin(coin: &str) -> String {
    match coin.rsplit_once(':') {
        Some((txid, vout)) => format!("{}:{vout}", short(txid, 13)),
        None => short(coin, 13),
    }
}

/// Edge thickness from the tainted amount: 1 at the default dust floor
/// (10,000 sat) or less, growing with the logarithm, about 8 at 10,000 BTC.
fn thickness(sat: u64) -> f64 {
    let l = (sat.max(1) as f64).log10();
    1.0 + 0.9 * (l - 4.0).clamp(0.0, 8.0)
}

/// Writes the flow graph ([`Trace::graph`]) as GraphViz DOT: one node per
/// graph node, shaped and coloured by kind and labelled with its label (an
/// entity's category) and height; one edge per tainted coin, labelled with
/// its amount in BTC and the coin, thicker for more. Nodes are named `n0`,
/// `n1`... (the graph's ids are in their tooltips); every string is
/// escaped. When the graph is not complete, its label says it shows the
/// evidence paths only.
///
/// # Errors
///
/// The writer's errors.
pub fn dot(t: &Trace, w: &mut dyn Write) -> io::Result<()> {
    let mut w = BufWriter::new(w);
    let g = normalize(&t.graph);
    let ents = entity_index(t);
    writeln!(w, "digraph trace {{")?;
    writeln!(w, "  rankdir=LR;")?;
    if !t.graph.complete {
        let note = "Evidence paths only: the largest arrivals and holdings \
                    (the tables list every coin)";
        writeln!(
            w,
            "  graph [label={}, labelloc=t, fontname=\"Helvetica\"];",
            dot_str(note)
        )?;
    }
    writeln!(w, "  node [fontname=\"Helvetica\", fontsize=10];")?;
    writeln!(
        w,
        "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#5f6b7a\"];"
    )?;
    for (i, n) in g.nodes.iter().enumerate() {
        let lk = look(n.kind);
        let mut label = n.label.to_string();
        if let Some(&e) = ents.get(n.id) {
            label.push('\n');
            label.push_str(t.entities[e].category.name());
        }
        if let Some(h) = n.height {
            label.push_str(&format!("\nheight {h}"));
        }
        writeln!(
            w,
            "  n{i} [label={}, tooltip={}, shape={}, style=\"{}\", fillcolor=\"{}\", color=\"{}\"];",
            dot_str(&label),
            dot_str(n.id),
            lk.shape,
            lk.style,
            lk.fill,
            lk.stroke
        )?;
    }
    for &(a, b, e) in &g.edges {
        let label = format!("{} BTC\n{}", btc_trim(e.tainted_sat), short_coin(&e.coin));
        let tip = match &e.address {
            Some(addr) => format!("{} {addr}", e.coin),
            None => e.coin.clone(),
        };
        writeln!(
            w,
            "  n{a} -> n{b} [label={}, tooltip={}, penwidth={:.1}];",
            dot_str(&label),
            dot_str(&tip),
            thickness(e.tainted_sat)
        )?;
    }
    writeln!(w, "}}")?;
    w.flush()
}

/// HTML-escaped text (`& < > " '`), for element content and attribute
/// values alike.
struct H<'a>(&'a str);

impl fmt::Display for H<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

/// The civil date (year, month 1-12, day 1-31) of a count of days since
/// 1970-01-01 (Howard Hinnant's `civil_from_days`, proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Unix seconds as `YYYY-MM-DD HH:MM UTC`.
fn utc(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        s / 3_600,
        s % 3_600 / 60
    )
}

/// A share of the seeded value in percent, or a dash when nothing was
/// seeded.
fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!("{:.2} %", part as f64 * 100.0 / whole as f64)
    }
}

/// Boxes and spacing of the SVG flow graph, in pixels.
const BOX_W: f64 = 180.0;
const BOX_H: f64 = 36.0;
const COL_W: f64 = 250.0;
const ROW_H: f64 = 50.0;
const MARGIN: f64 = 24.0;
/// Nodes in one drawn column at most; a fuller column is split.
const MAX_ROWS: usize = 40;
/// Characters of a label printed on a node box.
const BOX_CHARS: usize = 26;

/// Where each node's box goes (top-left corner) and the drawing's size.
struct Layout {
    xy: Vec<(f64, f64)>,
    width: f64,
    height: f64,
}

/// Lays out the graph in columns by the longest chain of edges leading to
/// each node, so that every edge runs left to right in the money's order
/// (both directions: a backward trace's edges run from the sources to the
/// seed); columns of more than [`MAX_ROWS`] nodes are split. Within a
/// column nodes are ordered by the mean position of the nodes they are
/// reached from (then in the graph's order), and columns are centred
/// vertically.
fn layout(g: &Norm<'_>, _direction: Direction) -> Layout {
    let count = g.nodes.len();
    // Longest-path layers (Kahn's order; nodes on a cycle, which a trace
    // does not make, stay in the first column).
    let mut indeg = vec![0usize; count];
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); count];
    for &(a, b, _) in &g.edges {
        if a == b {
            continue;
        }
        preds[b].push(a);
        next[a].push(b);
        indeg[b] += 1;
    }
    let mut major = vec![0u32; count];
    let mut ready: Vec<usize> = (0..count).filter(|&i| indeg[i] == 0).collect();
    while let Some(a) = ready.pop() {
        for &b in &next[a] {
            major[b] = major[b].max(major[a] + 1);
            indeg[b] -= 1;
            if indeg[b] == 0 {
                ready.push(b);
            }
        }
    }
    let sub = vec![0u32; count];
    let mut keys: Vec<(u32, u32)> = (0..count).map(|i| (major[i], sub[i])).collect();
    keys.sort_unstable();
    keys.dedup();
    let col_of: Vec<usize> = (0..count)
        .map(|i| {
            keys.binary_search(&(major[i], sub[i]))
                .expect("every key listed")
        })
        .collect();
    let mut cols: Vec<Vec<usize>> = vec![Vec::new(); keys.len()];
    for (i, &c) in col_of.iter().enumerate() {
        cols[c].push(i);
    }
    let max_rows = cols.iter().map(Vec::len).max().unwrap_or(0).min(MAX_ROWS);
    let mut xy = vec![(0.0, 0.0); count];
    let mut placed = vec![false; count];
    let mut phys = 0usize;
    for col in &cols {
        // Order by the mean height of the nodes placed to the left that
        // lead here; unconnected nodes after, in the graph's order.
        let mut keyed: Vec<(Option<f64>, usize, usize)> = col
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let ys: Vec<f64> = preds[i]
                    .iter()
                    .filter(|&&p| placed[p])
                    .map(|&p| xy[p].1)
                    .collect();
                let key = (!ys.is_empty()).then(|| ys.iter().sum::<f64>() / ys.len() as f64);
                (key, k, i)
            })
            .collect();
        keyed.sort_by(|a, b| match (a.0, b.0) {
            (Some(x), Some(y)) => x.total_cmp(&y).then(a.1.cmp(&b.1)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.1.cmp(&b.1),
        });
        for chunk in keyed.chunks(MAX_ROWS) {
            let offset = (max_rows - chunk.len()) as f64 / 2.0;
            for (r, &(_, _, i)) in chunk.iter().enumerate() {
                xy[i] = (
                    MARGIN + phys as f64 * COL_W,
                    MARGIN + (offset + r as f64) * ROW_H,
                );
            }
            phys += 1;
        }
        for &i in col.iter() {
            placed[i] = true;
        }
    }
    let width = if phys == 0 {
        0.0
    } else {
        2.0 * MARGIN + (phys - 1) as f64 * COL_W + BOX_W
    };
    let height = if max_rows == 0 {
        0.0
    } else {
        2.0 * MARGIN + (max_rows - 1) as f64 * ROW_H + BOX_H
    };
    Layout { xy, width, height }
}

/// The flow graph as inline SVG: a `<g class="node …">` box per node,
/// a `<path class="edge">` with an arrowhead per edge.
fn svg(t: &Trace, w: &mut dyn Write) -> io::Result<()> {
    let g = normalize(&t.graph);
    if g.nodes.is_empty() {
        return writeln!(w, "<p class=\"note\">No flow to draw.</p>");
    }
    let ents = entity_index(t);
    let lay = layout(&g, t.direction);
    writeln!(
        w,
        "<div class=\"graph\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0}\" height=\"{:.0}\" viewBox=\"0 0 {:.0} {:.0}\" role=\"img\" aria-label=\"Flow graph of the traced value\" font-family=\"system-ui, sans-serif\">",
        lay.width, lay.height, lay.width, lay.height
    )?;
    writeln!(
        w,
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"9\" markerHeight=\"9\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#5f6b7a\"/></marker></defs>"
    )?;
    writeln!(w, "<g class=\"edges\">")?;
    for &(a, b, e) in &g.edges {
        let (x1, y1) = (lay.xy[a].0 + BOX_W, lay.xy[a].1 + BOX_H / 2.0);
        let (x2, y2) = (lay.xy[b].0, lay.xy[b].1 + BOX_H / 2.0);
        let bend = if x2 > x1 { (x2 - x1) / 2.0 } else { 48.0 };
        let tip = format!(
            "{} BTC, coin {}{}{}",
            btc_trim(e.tainted_sat),
            e.coin,
            if e.address.is_some() { ", " } else { "" },
            e.address.as_deref().unwrap_or("")
        );
        writeln!(
            w,
            "<path class=\"edge\" d=\"M{x1:.1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {x2:.1},{y2:.1}\" fill=\"none\" stroke=\"#5f6b7a\" stroke-opacity=\"0.65\" stroke-width=\"{:.1}\" marker-end=\"url(#arrow)\"><title>{}</title></path>",
            x1 + bend,
            x2 - bend,
            thickness(e.tainted_sat),
            H(&tip)
        )?;
    }
    writeln!(w, "</g>")?;
    for (i, n) in g.nodes.iter().enumerate() {
        let lk = look(n.kind);
        let (x, y) = lay.xy[i];
        let entity = ents.get(n.id).copied();
        let mut second = match entity {
            Some(e) => t.entities[e].category.name().to_string(),
            None => lk.word.to_string(),
        };
        if let Some(h) = n.height {
            second.push_str(&format!(" · h {h}"));
        }
        second.push_str(&format!(" · hop {}", n.hop));
        let mut tip = format!("{}\n{}", n.label, n.id);
        if let Some(h) = n.height {
            tip.push_str(&format!("\nheight {h}"));
        }
        write!(
            w,
            "<g class=\"node n-{}\" transform=\"translate({x:.1},{y:.1})\"><title>{}</title>",
            lk.class,
            H(&tip)
        )?;
        if let Some(e) = entity {
            write!(w, "<a href=\"#entity-{e}\">")?;
        }
        let dash = if lk.style.contains("dashed") {
            " stroke-dasharray=\"4 3\""
        } else {
            ""
        };
        write!(
            w,
            "<rect width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"5\" fill=\"{}\" stroke=\"{}\"{dash}/><text x=\"7\" y=\"15\" font-size=\"11\" fill=\"#1d2330\">{}</text><text x=\"7\" y=\"29\" font-size=\"9.5\" fill=\"#4a5568\">{}</text>",
            lk.fill,
            lk.stroke,
            H(&short(n.label, BOX_CHARS)),
            H(&short(&second, BOX_CHARS + 6))
        )?;
        if entity.is_some() {
            write!(w, "</a>")?;
        }
        writeln!(w, "</g>")?;
    }
    writeln!(w, "</svg></div>")?;
    write!(w, "<p class=\"legend\">")?;
    for k in KINDS {
        let lk = look(k);
        write!(
            w,
            "<span><span class=\"sw\" style=\"background:{};border-color:{}\"></span>{}</span> ",
            lk.fill, lk.stroke, lk.word
        )?;
    }
    writeln!(w, "</p>")
}

/// The inline style sheet.
const STYLE: &str = "\
body{font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;color:#1d2330;margin:2em auto;max-width:1280px;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}
h2{border-bottom:1px solid #c9d0da;padding-bottom:.2em;margin-top:2.2em}
h3{margin-top:1.6em}
h4{margin:1em 0 .3em}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:13px}
th,td{border:1px solid #d5dae2;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.id{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.kv th{width:16em}
.wide{overflow-x:auto}
.warn{background:#fff3cd;border:1px solid #e0c36c;padding:.5em .8em}
.note,.sub{color:#555}
.graph{overflow:auto;border:1px solid #d5dae2;max-height:85vh;background:#fcfcfd}
.legend{font-size:12px}
.sw{display:inline-block;width:12px;height:12px;border:1px solid #888;vertical-align:middle;margin-right:4px}
tr.total td{font-weight:600}
tr.possible td{color:#666;font-style:italic}
section.possible{border:1px dashed #a0a7b3;background:#f6f7f9;padding:0 1em .5em;margin-top:2.2em}
section.possible h2{margin-top:.8em;color:#555}
table.possible{opacity:.85}
table.possible td{background:#fbfbfc;color:#555;font-style:italic}
.corr{display:block;font-family:system-ui,sans-serif;font-size:11px;color:#6a3fa0;word-break:normal}
table.leads td{color:#555}
@media print{.graph{max-height:none;overflow:visible}}
";

/// The header cells of a coin's columns.
const STEP_HEAD: &str = "<th>txid</th><th class=\"n\">vout</th><th>address</th><th class=\"n\">value (BTC)</th><th class=\"n\">tainted (BTC)</th><th class=\"n\">height</th><th>time</th><th class=\"n\">hop</th><th>CoinJoin</th>";

/// A coin's cells, in [`STEP_HEAD`]'s order.
fn step_cells(w: &mut dyn Write, s: &Step) -> io::Result<()> {
    write!(
        w,
        "<td class=\"id\">{}</td><td class=\"n\">{}</td><td class=\"id\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td>",
        H(&s.txid),
        s.vout,
        H(s.address.as_deref().unwrap_or("—")),
        btc(s.value_sat),
        btc(s.tainted_sat),
        s.height,
        utc(i64::from(s.time)),
        s.hop,
        H(match (&s.coinjoin, s.after_coinjoin) {
            (Some(kind), _) => kind,
            (None, true) => "after one",
            (None, false) => "—",
        })
    )
}

/// A table of coins, numbered.
fn steps_table(w: &mut dyn Write, steps: &[Step]) -> io::Result<()> {
    if steps.is_empty() {
        return writeln!(w, "<p class=\"note\">None.</p>");
    }
    writeln!(
        w,
        "<div class=\"wide\"><table><tr><th class=\"n\">#</th>{STEP_HEAD}</tr>"
    )?;
    for (i, s) in steps.iter().enumerate() {
        write!(w, "<tr><td class=\"n\">{}</td>", i + 1)?;
        step_cells(w, s)?;
        writeln!(w, "</tr>")?;
    }
    writeln!(w, "</table></div>")
}

/// A label's confidence as `60 (authority_data)`.
fn confidence(l: &Label) -> String {
    format!("{} ({})", l.confidence.0, l.confidence.level_name())
}

/// The summary: the trace's rules, the seeded value and where it ended.
fn summary(t: &Trace, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "<section id=\"summary\"><h2>Summary</h2>")?;
    let direction = match t.direction {
        Direction::Forward => "forward: where the coins went",
        Direction::Backward => "backward: where the coins came from",
    };
    let bound = match (t.bound, t.direction) {
        (None, _) => "none".to_string(),
        (Some(b), Direction::Forward) => format!("{b} (spends above it not followed)"),
        (Some(b), Direction::Backward) => format!("{b} (coins made below it not followed)"),
    };
    let rows: [(&str, String); 10] = [
        ("Direction", direction.to_string()),
        ("Taint policy", t.policy.name().to_string()),
        ("At CoinJoins", t.coinjoin.name().to_string()),
        ("Hop limit", t.hops.to_string()),
        (
            "Dust floor",
            format!("{} sat ({} BTC)", t.dust_sat, btc(t.dust_sat)),
        ),
        ("Height bound", bound),
        ("Index tip height", t.tip.to_string()),
        (
            "Seeded",
            format!(
                "{} BTC in {} coin{}",
                btc(t.seeded_sat),
                t.seeds.len(),
                if t.seeds.len() == 1 { "" } else { "s" }
            ),
        ),
        ("Transactions expanded", t.txs_expanded.to_string()),
        (
            "Peel-chain steps (not counted as hops)",
            t.peel_steps.to_string(),
        ),
    ];
    writeln!(w, "<table class=\"kv\">")?;
    for (k, v) in &rows {
        writeln!(w, "<tr><th>{}</th><td>{}</td></tr>", H(k), H(v))?;
    }
    writeln!(w, "</table>")?;
    if t.truncated {
        writeln!(
            w,
            "<p class=\"warn\"><strong>Truncated:</strong> the transaction budget ran out after {} transactions; the value still waiting is counted as pruned, not followed.</p>",
            t.txs_expanded
        )?;
    }
    let o = &t.totals;
    let ended: [(&str, u64); 10] = [
        ("At labelled entities (asserted)", o.entities_sat),
        (
            "Possibly at labelled entities (after a CoinJoin, uncorroborated; not asserted)",
            o.possible_sat,
        ),
        ("Unspent (freeze candidates)", o.unspent_sat),
        ("At the hop limit", o.hop_limit_sat),
        ("Past the time bound", o.time_bound_sat),
        ("Dropped as dust", o.dust_sat),
        ("Paid as fees", o.fees_sat),
        ("Stopped at CoinJoins", o.coinjoin_stopped_sat),
        ("Newly mined (coinbases)", o.newly_mined_sat),
        ("Pruned (budget ran out)", o.pruned_sat),
    ];
    writeln!(w, "<h3>Where the value ended</h3>")?;
    writeln!(
        w,
        "<table><tr><th></th><th class=\"n\">BTC</th><th class=\"n\">% of seeded</th></tr>"
    )?;
    let mut total = 0u64;
    for (k, v) in ended {
        total = total.saturating_add(v);
        let class = if k.starts_with("Possibly") {
            " class=\"possible\""
        } else {
            ""
        };
        writeln!(
            w,
            "<tr{class}><td>{k}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            btc(v),
            pct(v, t.seeded_sat)
        )?;
    }
    writeln!(
        w,
        "<tr class=\"total\"><td>Total</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr></table>",
        btc(total),
        pct(total, t.seeded_sat)
    )?;
    if t.policy == crate::taint::Policy::Poison {
        writeln!(
            w,
            "<p class=\"note\">Poison counts whole coins: the amounts exceed the seeded value and list every coin that touched it, they do not measure it.</p>"
        )?;
    }
    writeln!(w, "</section>")
}

/// The table of entities the value reached.
fn entities(t: &Trace, w: &mut dyn Write) -> io::Result<()> {
    let heading = match t.direction {
        Direction::Forward => "Where the value went",
        Direction::Backward => "Where the value came from",
    };
    writeln!(w, "<section id=\"entities\"><h2>{heading}</h2>")?;
    if t.entities.is_empty() {
        writeln!(w, "<p class=\"note\">No labelled entity reached.</p>")?;
        return writeln!(w, "</section>");
    }
    flow_table(t, &t.entities, false, w)?;
    writeln!(w, "</section>")
}

/// The arrivals after a CoinJoin that nothing corroborates: possible, not
/// asserted.
fn possible(t: &Trace, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "<section id=\"possible\" class=\"possible\"><h2>Possible, not asserted (after a CoinJoin)</h2>"
    )?;
    writeln!(
        w,
        "<p class=\"note\">Lower confidence: this value reached these entities only through a CoinJoin, which breaks the link between its inputs and outputs, and no value reached the same addresses without one, so these are possible {}, not asserted ones.</p>",
        match t.direction {
            Direction::Forward => "destinations",
            Direction::Backward => "sources",
        }
    )?;
    if t.possible.is_empty() {
        writeln!(w, "<p class=\"note\">None.</p>")?;
    } else {
        flow_table(t, &t.possible, true, w)?;
    }
    writeln!(w, "</section>")
}

/// A table of entity flows: asserted ones link to their evidence; possible
/// ones are drawn as lower-confidence rows.
fn flow_table(
    t: &Trace,
    flows: &[EntityFlow],
    possible: bool,
    w: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        w,
        "<div class=\"wide\"><table{}><tr><th>Entity</th><th>Category</th><th class=\"n\">Amount (BTC)</th><th class=\"n\">% of seeded</th><th class=\"n\">Outputs</th><th class=\"n\">First height</th><th>First seen</th><th class=\"n\">Min hops</th><th>Via CoinJoin</th><th>Labelled via</th><th>Label origin</th><th>Source</th><th>Confidence</th></tr>",
        if possible { " class=\"possible\"" } else { "" }
    )?;
    for (i, e) in flows.iter().enumerate() {
        let name = if possible {
            H(&e.name).to_string()
        } else {
            format!("<a href=\"#entity-{i}\">{}</a>", H(&e.name))
        };
        let via_cj = match (e.via_coinjoin, possible) {
            (false, _) => "no",
            (true, false) => "yes (corroborated)",
            (true, true) => "yes (uncorroborated)",
        };
        writeln!(
            w,
            "<tr><td>{name}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"id\">{}</td><td>{}</td><td>{}</td></tr>",
            e.category.name(),
            btc(e.amount_sat),
            pct(e.amount_sat, t.seeded_sat),
            e.outputs,
            e.first_height,
            utc(i64::from(e.first_time)),
            e.min_hops,
            via_cj,
            H(&e.via),
            H(&e.label.origin),
            H(&e.label.source),
            H(&confidence(&e.label))
        )?;
    }
    writeln!(w, "</table></div>")
}

/// One entity's evidence: its path and the coins that arrived.
fn entity_evidence(i: usize, e: &EntityFlow, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "<h3 id=\"entity-{i}\">{} <span class=\"sub\">({}, {} BTC)</span></h3>",
        H(&e.name),
        e.category.name(),
        btc(e.amount_sat)
    )?;
    writeln!(
        w,
        "<p class=\"note\">Label: {} — source {}, origin <span class=\"id\">{}</span>, confidence {}.</p>",
        H(&e.label.entity),
        H(&e.label.source),
        H(&e.label.origin),
        H(&confidence(&e.label))
    )?;
    writeln!(
        w,
        "<h4>Evidence path of the largest arrival, in the money's order</h4>"
    )?;
    steps_table(w, &e.path)?;
    writeln!(w, "<h4>Arrival coins</h4>")?;
    let coins: usize = e.addresses.iter().map(|a| a.coins.len()).sum();
    if coins == 0 {
        writeln!(w, "<p class=\"note\">None listed.</p>")?;
    } else {
        writeln!(
            w,
            "<div class=\"wide\"><table><tr><th>arrived at</th>{STEP_HEAD}</tr>"
        )?;
        for a in &e.addresses {
            for (k, c) in a.coins.iter().enumerate() {
                write!(w, "<tr><td class=\"id\">{}", H(&a.address))?;
                if a.after_coinjoin && k == 0 {
                    write!(w, "<span class=\"corr\">{CORROBORATED}</span>")?;
                }
                write!(w, "</td>")?;
                step_cells(w, c)?;
                writeln!(w, "</tr>")?;
            }
        }
        writeln!(w, "</table></div>")?;
    }
    other_deposits(&e.addresses, w)
}

/// How an asserted address that received value through a CoinJoin is
/// marked.
const CORROBORATED: &str = "after a CoinJoin; corroborated by value that arrived without one";

/// Other deposits listed per address in the HTML at most (the CSV lists
/// them all).
const LEADS_SHOWN: usize = 20;

/// The other coins each arrival address received that the trace did not
/// reach: leads, not traced value.
fn other_deposits(addresses: &[Arrival], w: &mut dyn Write) -> io::Result<()> {
    if addresses.iter().any(|a| !a.from_addresses.is_empty()) {
        writeln!(w, "<h4>Paid from (the deposit addresses, when a service sweeps them into a labelled wallet)</h4><ul>")?;
        for a in addresses.iter().filter(|a| !a.from_addresses.is_empty()) {
            writeln!(
                w,
                "<li><code>{}</code> from <code>{}</code></li>",
                H(&a.address),
                H(&a.from_addresses.join(", "))
            )?;
        }
        writeln!(w, "</ul>")?;
    }
    writeln!(
        w,
        "<h4>Other deposits to the same address (leads, not traced)</h4>"
    )?;
    if addresses.iter().all(|a| a.other_deposits.is_empty()) {
        return writeln!(w, "<p class=\"note\">None found.</p>");
    }
    writeln!(
        w,
        "<p class=\"note\">Coins these addresses received that the trace did not reach: at an exchange, the same account's other deposits. They carry none of the traced value.</p>"
    )?;
    for a in addresses.iter().filter(|a| !a.other_deposits.is_empty()) {
        let n = a.other_deposits.len();
        writeln!(
            w,
            "<p><span class=\"id\">{}</span>: {n}{} other deposit{}, newest first</p>",
            H(&a.address),
            if n >= OTHER_DEPOSITS {
                " (or more)"
            } else {
                ""
            },
            if n == 1 { "" } else { "s" }
        )?;
        writeln!(
            w,
            "<div class=\"wide\"><table class=\"leads\"><tr><th>coin (txid:vout)</th><th class=\"n\">value (BTC)</th><th class=\"n\">height</th><th>date</th></tr>"
        )?;
        for c in a.other_deposits.iter().take(LEADS_SHOWN) {
            writeln!(
                w,
                "<tr><td class=\"id\">{}:{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                H(&c.txid),
                c.vout,
                btc(c.value_sat),
                c.height,
                utc(i64::from(c.time))
            )?;
        }
        writeln!(w, "</table></div>")?;
        if n > LEADS_SHOWN {
            writeln!(
                w,
                "<p class=\"note\">{} more not shown (the CSV lists them as <code>lead</code> rows).</p>",
                n - LEADS_SHOWN
            )?;
        }
    }
    Ok(())
}

/// Holdings (unspent first), CoinJoins, marks and seeds.
fn tables(t: &Trace, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "<section id=\"holdings\"><h2>Holdings</h2>")?;
    let unspent: Vec<Step> = t
        .holdings
        .iter()
        .filter(|h| h.why == "unspent")
        .map(|h| h.coin.clone())
        .collect();
    writeln!(w, "<h3>Unspent: freeze candidates</h3>")?;
    steps_table(w, &unspent)?;
    writeln!(w, "<h3>Other holdings</h3>")?;
    let others: Vec<_> = t.holdings.iter().filter(|h| h.why != "unspent").collect();
    if others.is_empty() {
        writeln!(w, "<p class=\"note\">None.</p>")?;
    } else {
        writeln!(
            w,
            "<div class=\"wide\"><table><tr><th>why</th>{STEP_HEAD}</tr>"
        )?;
        for h in others {
            write!(w, "<tr><td>{}</td>", H(&h.why))?;
            step_cells(w, &h.coin)?;
            writeln!(w, "</tr>")?;
        }
        writeln!(w, "</table></div>")?;
    }
    if t.holdings_unlisted > 0 {
        writeln!(
            w,
            "<p class=\"warn\">{} more holdings are not listed (they are counted in the totals).</p>",
            t.holdings_unlisted
        )?;
    }
    writeln!(w, "</section>")?;

    writeln!(w, "<section id=\"coinjoins\"><h2>CoinJoins met</h2>")?;
    if t.coinjoins.is_empty() {
        writeln!(w, "<p class=\"note\">None.</p>")?;
    } else {
        writeln!(
            w,
            "<div class=\"wide\"><table><tr><th>txid</th><th>kind</th><th class=\"n\">height</th><th class=\"n\">tainted entering (BTC)</th><th>action</th></tr>"
        )?;
        for c in &t.coinjoins {
            writeln!(
                w,
                "<tr><td class=\"id\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                H(&c.txid),
                H(&c.kind),
                c.height,
                btc(c.tainted_sat),
                H(&c.action)
            )?;
        }
        writeln!(w, "</table></div>")?;
    }
    writeln!(w, "</section>")?;

    writeln!(
        w,
        "<section id=\"marks\"><h2>Labelled addresses passed</h2>"
    )?;
    if t.marks.is_empty() {
        writeln!(w, "<p class=\"note\">None.</p>")?;
    } else {
        writeln!(
            w,
            "<div class=\"wide\"><table><tr><th>entity</th><th>category</th>{STEP_HEAD}<th>label origin</th><th>source</th><th>confidence</th></tr>"
        )?;
        for m in &t.marks {
            write!(
                w,
                "<tr><td>{}</td><td>{}</td>",
                H(&m.label.entity),
                m.label.category.name()
            )?;
            step_cells(w, &m.coin)?;
            writeln!(
                w,
                "<td class=\"id\">{}</td><td>{}</td><td>{}</td></tr>",
                H(&m.label.origin),
                H(&m.label.source),
                H(&confidence(&m.label))
            )?;
        }
        writeln!(w, "</table></div>")?;
    }
    writeln!(w, "</section>")?;

    writeln!(w, "<section id=\"seeds\"><h2>Seeds</h2>")?;
    steps_table(w, &t.seeds)?;
    writeln!(w, "</section>")
}

/// Writes a self-contained HTML5 case report titled `title`: no external
/// style sheets, fonts, images or scripts, and no `<script>` at all.
///
/// Sections: the summary (direction, policy, CoinJoin mode, hops, dust,
/// bound, tip, the seeded value and where it ended as BTC and % of
/// seeded, transactions expanded, a warning when truncated, peel steps);
/// where the value went, per entity (asserted arrivals); the arrivals after
/// a CoinJoin that nothing corroborates, as possible, not asserted, in a
/// lower-confidence table; the flow graph drawn as inline SVG (columns by
/// hop, edges thicker for more value, entity boxes linking to their
/// evidence); the evidence per asserted entity (its path, arrival coins
/// with addresses reached through a corroborated CoinJoin marked, and the
/// other deposits to each address as leads, at most 20 shown per address);
/// holdings, unspent ones first as freeze candidates; CoinJoins met;
/// labelled addresses passed; the seeds. Amounts are BTC with 8 decimals,
/// times `YYYY-MM-DD HH:MM UTC`; every string is HTML-escaped.
///
/// # Errors
///
/// The writer's errors.
pub fn html(t: &Trace, title: &str, w: &mut dyn Write) -> io::Result<()> {
    let mut buf = BufWriter::new(w);
    let w: &mut dyn Write = &mut buf;
    writeln!(w, "<!DOCTYPE html>")?;
    writeln!(w, "<html lang=\"en\"><head><meta charset=\"utf-8\">")?;
    writeln!(
        w,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(w, "<meta name=\"generator\" content=\"chainhound\">")?;
    writeln!(w, "<title>{}</title>", H(title))?;
    writeln!(w, "<style>\n{STYLE}</style></head><body>")?;
    writeln!(w, "<h1>{}</h1>", H(title))?;
    writeln!(
        w,
        "<p class=\"sub\">chainhound trace: {}, {} policy, index tip at height {}.</p>",
        t.direction.name(),
        t.policy.name(),
        t.tip
    )?;
    summary(t, w)?;
    entities(t, w)?;
    possible(t, w)?;
    writeln!(w, "<section id=\"graph\"><h2>Flow graph</h2>")?;
    if !t.graph.complete {
        writeln!(
            w,
            "<p class=\"note\">The graph shows evidence paths only (every arrival's and the largest holdings'); the tables below list every coin.</p>"
        )?;
    }
    svg(t, w)?;
    writeln!(w, "</section>")?;
    writeln!(w, "<section id=\"evidence\"><h2>Evidence per entity</h2>")?;
    if t.entities.is_empty() {
        writeln!(w, "<p class=\"note\">No labelled entity reached.</p>")?;
    }
    for (i, e) in t.entities.iter().enumerate() {
        entity_evidence(i, e, w)?;
    }
    writeln!(w, "</section>")?;
    tables(t, w)?;
    writeln!(w, "</body></html>")?;
    buf.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taint::Policy;
    use crate::walk::{Arrival, CoinJoinMark, CoinJoinMode, GraphNode, Holding, Mark, Totals};
    use chainhound_intel::label::{Category, Confidence, Subject};

    const HOSTILE: &str = "Evil\" -> x [label=\"pwn";
    const SCRIPT: &str = "<script>alert(1)</script>";
    const COMMA: &str = "Acme, \"the\" Exchange";
    const MAYBE: &str = "Maybe <b>Swap</b>";

    fn txid(n: u8) -> String {
        format!("{n:02x}").repeat(32)
    }

    fn step(n: u8, vout: u32, value: u64, tainted: u64, hop: u32) -> Step {
        Step {
            txid: txid(n),
            vout,
            address: Some(format!("bc1qaddr{n}x{vout}")),
            value_sat: value,
            tainted_sat: tainted,
            height: 800_000 + u32::from(n),
            time: 1_700_000_000 + 600 * u32::from(n),
            hop,
            coinjoin: None,
            after_coinjoin: false,
        }
    }

    fn label(entity: &str, category: Category) -> Label {
        Label {
            chain: "BTC".into(),
            subject: Subject::Address("bc1qlabelled".into()),
            entity: entity.into(),
            category,
            tags: "exchange".into(),
            source: format!("list of {entity}"),
            date: Some("2024-01-01".into()),
            confidence: Confidence(60),
            origin: "labels.csv:7".into(),
        }
    }

    fn flow(name: &str, category: Category, coins: Vec<Step>, path: Vec<Step>) -> EntityFlow {
        let amount: u64 = coins.iter().map(|c| c.tainted_sat).sum();
        EntityFlow {
            name: name.into(),
            category,
            label: label(name, category),
            via: "address".into(),
            amount_sat: amount,
            outputs: coins.len(),
            first_height: coins[0].height,
            first_time: coins[0].time,
            min_hops: coins[0].hop,
            via_coinjoin: false,
            addresses: vec![Arrival {
                address: coins[0].address.clone().unwrap_or_default(),
                amount_sat: amount,
                after_coinjoin: false,
                coins,
                from_addresses: vec!["bc1qdeposit<x>".into()],
                other_deposits: Vec::new(),
            }],
            path,
        }
    }

    fn node(id: &str, kind: &str, label: &str, height: Option<u32>, hop: u32) -> GraphNode {
        GraphNode {
            id: id.into(),
            kind: kind.into(),
            label: label.into(),
            height,
            hop,
        }
    }

    fn edge(from: &str, to: &str, coin: &str, tainted: u64) -> GraphEdge {
        GraphEdge {
            from: from.into(),
            to: to.into(),
            coin: coin.into(),
            address: Some("bc1qedge".into()),
            tainted_sat: tainted,
        }
    }

    /// Seed tx 1 pays tx 2 (a peel step) and tx 3 (a CoinJoin); tx 2 pays
    /// the comma-named exchange and the hostile entity; tx 3 pays the
    /// script-named entity and leaves an unspent coin.
    fn sample() -> Trace {
        let seed = step(1, 0, 500_000_000, 500_000_000, 0);
        let a1 = step(2, 0, 100_000_000, 100_000_000, 1);
        let a2 = step(2, 1, 50_000_000, 50_000_000, 1);
        let a3 = step(2, 2, 20_000_000, 20_000_000, 1);
        let mut b1 = step(3, 0, 80_000_000, 40_000_000, 2);
        b1.coinjoin = Some("whirlpool".into());
        b1.after_coinjoin = true;
        let u = step(3, 1, 90_000_000, 90_000_000, 2);
        let hop = step(3, 2, 10_000_000, 10_000_000, 2);
        let mut p1 = step(3, 3, 60_000_000, 30_000_000, 2);
        p1.coinjoin = Some("whirlpool".into());
        p1.after_coinjoin = true;
        let mut entities = vec![
            flow(
                COMMA,
                Category::Exchange,
                vec![a1.clone(), a2.clone()],
                vec![seed.clone(), a1.clone()],
            ),
            flow(
                HOSTILE,
                Category::Exchange,
                vec![a3.clone()],
                vec![seed.clone(), a3.clone()],
            ),
            flow(
                SCRIPT,
                Category::Mixer,
                vec![b1.clone()],
                vec![seed.clone(), b1.clone()],
            ),
        ];
        // The comma-named exchange's deposit address received 22 other
        // coins; the script-named entity's came through the CoinJoin,
        // corroborated.
        entities[0].addresses[0].other_deposits = (0..22u8)
            .map(|k| step(0x40 + k, u32::from(k), 1_000_000 + u64::from(k), 0, 0))
            .collect();
        entities[2].via_coinjoin = true;
        entities[2].addresses[0].after_coinjoin = true;
        let mut maybe = flow(
            MAYBE,
            Category::Exchange,
            vec![p1.clone()],
            vec![seed.clone(), p1.clone()],
        );
        maybe.via_coinjoin = true;
        maybe.addresses[0].after_coinjoin = true;
        let t1 = format!("tx:{}", txid(1));
        let t2 = format!("tx:{}", txid(2));
        let t3 = format!("tx:{}", txid(3));
        let e1 = format!("entity:{}", COMMA.to_lowercase());
        let e2 = format!("entity:{}", HOSTILE.to_lowercase());
        let e3 = format!("entity:{}", SCRIPT.to_lowercase());
        let e4 = format!("entity:{}", MAYBE.to_lowercase());
        let c1 = format!("coin:{}:1", txid(3));
        let nodes = vec![
            node(
                &t1,
                "seed",
                &format!("{}…", &txid(1)[..12]),
                Some(800_001),
                0,
            ),
            node(&t2, "tx", &format!("{}…", &txid(2)[..12]), Some(800_002), 1),
            node(
                &t3,
                "coinjoin",
                &format!("{}… (whirlpool)", &txid(3)[..12]),
                Some(800_003),
                1,
            ),
            node(&e1, "entity", COMMA, None, 1),
            node(&e2, "entity", HOSTILE, None, 1),
            node(&e3, "entity", SCRIPT, None, 2),
            node(&e4, "entity", MAYBE, None, 2),
            node(
                &c1,
                "unspent",
                &format!("unspent {}:1", txid(3)),
                Some(800_003),
                2,
            ),
        ];
        let coin = |n: u8, v: u32| format!("{}:{v}", txid(n));
        let edges = vec![
            edge(&t1, &t2, &coin(1, 0), 170_000_000),
            edge(&t1, &t3, &coin(1, 1), 330_000_000),
            edge(&t2, &e1, &coin(2, 0), 100_000_000),
            edge(&t2, &e1, &coin(2, 1), 50_000_000),
            edge(&t2, &e2, &coin(2, 2), 20_000_000),
            edge(&t3, &e3, &coin(3, 0), 40_000_000),
            edge(&t3, &c1, &coin(3, 1), 90_000_000),
            edge(&t3, &e4, &coin(3, 3), 30_000_000),
        ];
        Trace {
            direction: Direction::Forward,
            policy: Policy::Fifo,
            coinjoin: CoinJoinMode::Share,
            hops: 2,
            dust_sat: 10_000,
            bound: Some(900_000),
            tip: 850_000,
            seeds: vec![seed.clone()],
            seeded_sat: 500_000_000,
            entities,
            possible: vec![maybe],
            holdings: vec![
                Holding {
                    coin: u.clone(),
                    why: "unspent".into(),
                },
                Holding {
                    coin: hop,
                    why: "hop-limit".into(),
                },
            ],
            holdings_unlisted: 0,
            coinjoins: vec![CoinJoinMark {
                txid: txid(3),
                kind: "whirlpool".into(),
                height: 800_003,
                tainted_sat: 330_000_000,
                action: "shared".into(),
            }],
            marks: vec![Mark {
                coin: step(1, 1, 330_000_000, 330_000_000, 1),
                label: label("Bitfinex hack <2016>", Category::StolenFunds),
            }],
            totals: Totals {
                entities_sat: 210_000_000,
                possible_sat: 30_000_000,
                unspent_sat: 90_000_000,
                hop_limit_sat: 10_000_000,
                fees_sat: 160_000_000,
                ..Totals::default()
            },
            graph: Graph {
                nodes,
                edges,
                complete: false,
            },
            txs_expanded: 3,
            peel_steps: 1,
            truncated: true,
        }
    }

    #[test]
    fn csv_round_trips() {
        let t = sample();
        let mut out = Vec::new();
        csv(&t, &mut out).unwrap();
        let mut r = ::csv::Reader::from_reader(&out[..]);
        assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), CSV_HEADER);
        let rows: Vec<::csv::StringRecord> = r.records().map(Result::unwrap).collect();
        let count = |k: &str| rows.iter().filter(|r| &r[0] == k).count();
        assert_eq!(count("seed"), 1);
        assert_eq!(count("arrival"), 4);
        assert_eq!(count("possible"), 1);
        assert_eq!(count("lead"), 22);
        assert_eq!(count("holding"), 2);
        assert_eq!(count("coinjoin"), 1);
        assert_eq!(count("mark"), 1);
        assert_eq!(rows.len(), 32);
        // Kinds in the documented order.
        let order = [
            "seed", "arrival", "possible", "lead", "holding", "coinjoin", "mark",
        ];
        let ranks: Vec<usize> = rows
            .iter()
            .map(|r| order.iter().position(|k| *k == &r[0]).unwrap())
            .collect();
        assert!(ranks.windows(2).all(|p| p[0] <= p[1]));
        assert!(rows.iter().all(|r| r.len() == CSV_HEADER.len()));
        // The comma and the quotes survive, in their own field.
        let acme: Vec<_> = rows
            .iter()
            .filter(|r| &r[0] == "arrival" && &r[1] == COMMA)
            .collect();
        assert_eq!(acme.len(), 2);
        assert_eq!(&acme[0][2], "exchange");
        assert_eq!(&acme[0][3], txid(2));
        assert_eq!(&acme[0][7], "100000000");
        assert_eq!(&acme[0][12], "address");
        let script = rows
            .iter()
            .find(|r| &r[0] == "arrival" && &r[1] == SCRIPT)
            .unwrap();
        assert_eq!(&script[12], "address; after a CoinJoin, corroborated");
        let maybe = rows.iter().find(|r| &r[0] == "possible").unwrap();
        assert_eq!((&maybe[1], &maybe[2]), (MAYBE, "exchange"));
        assert_eq!((&maybe[3], &maybe[4]), (txid(3).as_str(), "3"));
        assert_eq!((&maybe[7], &maybe[11]), ("30000000", "whirlpool"));
        assert_eq!(&maybe[12], "after a CoinJoin, uncorroborated");
        let leads: Vec<_> = rows.iter().filter(|r| &r[0] == "lead").collect();
        assert!(leads.iter().all(|r| &r[1] == COMMA
            && &r[2] == "exchange"
            && &r[7] == "0"
            && r[10].is_empty()
            && &r[12] == "other deposit to the same address"));
        assert_eq!((&leads[0][3], &leads[0][4]), (txid(0x40).as_str(), "0"));
        assert_eq!(&leads[0][6], "1000000");
        assert!(rows.iter().any(|r| &r[1] == HOSTILE));
        let cj = rows.iter().find(|r| &r[0] == "coinjoin").unwrap();
        assert_eq!((&cj[11], &cj[12], &cj[4]), ("whirlpool", "shared", ""));
        let hold = rows.iter().find(|r| &r[0] == "holding").unwrap();
        assert_eq!(&hold[12], "unspent");
        let mark = rows.iter().find(|r| &r[0] == "mark").unwrap();
        assert_eq!(
            (&mark[1], &mark[2]),
            ("Bitfinex hack <2016>", "stolen-funds")
        );
    }

    /// A DOT line with its quoted strings taken out (escapes honoured), and
    /// the strings unescaped; `None` when a string is left open.
    fn split_dot(line: &str) -> Option<(String, Vec<String>)> {
        let (mut bare, mut strings) = (String::new(), Vec::new());
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c != '"' {
                bare.push(c);
                continue;
            }
            let mut s = String::new();
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => match chars.next()? {
                        'n' => s.push('\n'),
                        c => s.push(c),
                    },
                    c => s.push(c),
                }
            }
            bare.push_str("\"\"");
            strings.push(s);
        }
        Some((bare, strings))
    }

    /// Node names, edges and node labels.
    type Parsed = (Vec<String>, Vec<(String, String)>, Vec<String>);

    /// The node names declared, the edges and the node labels of a DOT
    /// text as [`dot`] writes it (one statement a line).
    fn parse_dot(text: &str) -> Parsed {
        let (mut declared, mut edges, mut labels) = (Vec::new(), Vec::new(), Vec::new());
        for line in text.lines() {
            let (bare, strings) = split_dot(line).expect("strings closed");
            let bare = bare.trim();
            if let Some((a, rest)) = bare.split_once(" -> ") {
                let b = rest.split_whitespace().next().unwrap();
                assert!(!rest.contains("->"), "one edge per line: {bare}");
                edges.push((a.to_string(), b.to_string()));
            } else if let Some(id) = bare
                .split_whitespace()
                .next()
                .filter(|id| id.len() > 1 && id[1..].bytes().all(|b| b.is_ascii_digit()))
            {
                assert!(id.starts_with('n'), "{bare}");
                declared.push(id.to_string());
                labels.push(strings[0].clone());
            }
        }
        (declared, edges, labels)
    }

    #[test]
    fn dot_escapes_and_declares() {
        let t = sample();
        let mut out = Vec::new();
        dot(&t, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("digraph trace {\n  rankdir=LR;"));
        assert!(text.trim_end().ends_with('}'));
        // Every `" -> x` is the escaped quote inside a string.
        for (i, _) in text.match_indices("\" -> x") {
            assert_eq!(&text[i - 1..i], "\\", "unescaped quote at {i}");
        }
        assert!(text.contains("Evil\\\" -> x [label=\\\"pwn"));
        // Incomplete: the graph says so.
        assert!(text.contains("Evidence paths only"));
        let (declared, edges, labels) = parse_dot(&text);
        assert_eq!(declared.len(), t.graph.nodes.len());
        assert_eq!(edges.len(), t.graph.edges.len());
        for (a, b) in &edges {
            assert!(declared.contains(a) && declared.contains(b), "{a} -> {b}");
        }
        // The hostile name comes back whole, as a label.
        assert!(labels.iter().any(|l| l == &format!("{HOSTILE}\nexchange")));
        assert!(labels.iter().any(|l| l.ends_with("\nheight 800003")));
        assert!(text.contains("label=\"1.7 BTC\\n010101010101…:0\""));
    }

    #[test]
    fn dot_declares_missing_endpoints() {
        let mut t = sample();
        t.graph.complete = true;
        t.graph
            .edges
            .push(edge("tx:nowhere", "tx:\\odd\nid", "ab:0", 1));
        let mut out = Vec::new();
        dot(&t, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("Evidence paths only"));
        assert!(text.contains("tooltip=\"tx:\\\\odd\\nid\""));
        let (declared, edges, labels) = parse_dot(&text);
        assert_eq!((declared.len(), edges.len()), (10, 9));
        for (a, b) in &edges {
            assert!(declared.contains(a) && declared.contains(b), "{a} -> {b}");
        }
        assert!(labels.iter().any(|l| l == "tx:\\odd\nid"));
    }

    #[test]
    fn html_is_inert_and_complete() {
        let t = sample();
        let mut out = Vec::new();
        html(&t, "Case <42> & \"co\"", &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("<!DOCTYPE html>"));
        assert!(!text.to_lowercase().contains("<script"));
        assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(text.contains("<title>Case &lt;42&gt; &amp; &quot;co&quot;</title>"));
        assert!(text.contains("Evil&quot; -&gt; x [label=&quot;pwn"));
        assert!(!text.contains(HOSTILE));
        assert!(text.contains("Acme, &quot;the&quot; Exchange"));
        assert!(text.contains("<svg"));
        assert_eq!(
            text.matches("<g class=\"node ").count(),
            t.graph.nodes.len()
        );
        assert_eq!(
            text.matches("<path class=\"edge\"").count(),
            t.graph.edges.len()
        );
        // Nothing fetched from elsewhere.
        for bad in ["<link", "<img", "@import", "url(http", "src="] {
            assert!(!text.contains(bad), "{bad}");
        }
        assert!(text.contains("Unspent: freeze candidates"));
        assert!(text.contains("Truncated:"));
        assert!(text.contains("Where the value went"));
        assert!(text.contains("5.00000000 BTC in 1 coin"));
        assert!(text.contains("42.00 %"), "entities' share of seeded");
        assert!(text.contains("2023-11-14"), "block dates");
        assert!(text.contains("labels.csv:7"));
        assert!(text.contains("60 (authority_data)"));
        assert!(text.contains("Bitfinex hack &lt;2016&gt;"));
        assert!(text.contains("id=\"entity-2\""));
        // Possible arrivals: their own lower-confidence section, the
        // totals row, no evidence anchor.
        assert!(text.contains("Possible, not asserted (after a CoinJoin)"));
        assert!(text.contains("<table class=\"possible\">"));
        assert!(text.contains("Maybe &lt;b&gt;Swap&lt;/b&gt;"));
        assert!(!text.contains(MAYBE));
        assert!(text.contains("yes (uncorroborated)"));
        assert!(text.contains("yes (corroborated)"));
        assert!(!text.contains("id=\"entity-3\""));
        let row = text
            .lines()
            .find(|l| l.contains("Possibly at labelled entities"))
            .unwrap();
        assert!(row.contains("0.30000000") && row.contains("6.00 %"));
        assert!(text.contains("<td>Total</td><td class=\"n\">5.00000000</td>"));
        let possible = text.find("Possible, not asserted").unwrap();
        let graph = text.find("<section id=\"graph\">").unwrap();
        assert!(text.find("Where the value went").unwrap() < possible && possible < graph);
        // The corroborated address is marked; the other deposits are
        // listed, 20 of 22.
        assert_eq!(text.matches(CORROBORATED).count(), 1);
        assert!(text.contains("Other deposits to the same address (leads, not traced)"));
        assert!(text.contains("22 other deposits, newest first"));
        assert!(text.contains(&format!(
            "{}:0</td><td class=\"n\">0.01000000</td>",
            txid(0x40)
        )));
        assert!(text.contains(&format!("{}:19<", txid(0x40 + 19))));
        assert!(!text.contains(&format!("{}:20<", txid(0x40 + 20))));
        assert_eq!(text.matches("<table class=\"leads\">").count(), 1);
        assert!(text.contains("2 more not shown"));
        // Unspent ones come before the others.
        let freeze = text.find("Unspent: freeze candidates").unwrap();
        let other = text.find("Other holdings").unwrap();
        assert!(freeze < other);
        assert!(text.trim_end().ends_with("</html>"));
    }

    #[test]
    fn layout_flows_left_to_right() {
        let t = sample();
        let g = normalize(&t.graph);
        let lay = layout(&g, Direction::Forward);
        for &(a, b, _) in &g.edges {
            assert!(
                lay.xy[a].0 < lay.xy[b].0,
                "{} -> {}",
                g.nodes[a].id,
                g.nodes[b].id
            );
        }
        let back = layout(&g, Direction::Backward);
        assert_eq!(back.xy.len(), g.nodes.len());
        assert!(lay.width > BOX_W && lay.height > BOX_H);
    }

    /// Ten peel chains of twenty transactions, each paying an entity: 401
    /// nodes.
    fn peel_chains() -> Graph {
        let mut g = Graph::default();
        g.nodes.push(node("tx:s", "seed", "seed", Some(1), 0));
        for c in 0..10 {
            let mut prev = "tx:s".to_string();
            for k in 0..20 {
                let id = format!("tx:{c}-{k}");
                g.nodes.push(node(&id, "tx", &id, Some(2 + k), 1));
                g.edges
                    .push(edge(&prev, &id, &format!("{prev}:0"), 100_000_000));
                let e = format!("entity:{c}-{k}");
                g.nodes.push(node(&e, "entity", &e, None, 1));
                g.edges.push(edge(&id, &e, &format!("{id}:1"), 1_000_000));
                prev = id;
            }
        }
        g
    }

    #[test]
    fn peel_chains_stay_readable() {
        let g = peel_chains();
        let n = normalize(&g);
        assert_eq!(n.nodes.len(), 401);
        let lay = layout(&n, Direction::Forward);
        for &(a, b, _) in &n.edges {
            assert!(
                lay.xy[a].0 < lay.xy[b].0,
                "{} -> {}",
                n.nodes[a].id,
                n.nodes[b].id
            );
        }
        // 22 columns (seed, 20 peel steps, the last payouts), 20 rows.
        assert_eq!(lay.width, 2.0 * MARGIN + 21.0 * COL_W + BOX_W);
        assert_eq!(lay.height, 2.0 * MARGIN + 19.0 * ROW_H + BOX_H);
        let mut t = sample();
        t.graph = g;
        let mut out = Vec::new();
        html(&t, "peel", &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("<g class=\"node ").count(), 401);
    }

    #[test]
    fn big_columns_are_split() {
        let mut g = Graph::default();
        g.nodes.push(node("tx:s", "seed", "s", Some(1), 0));
        for i in 0..(MAX_ROWS * 2 + 1) {
            let id = format!("coin:{i}");
            g.nodes.push(node(&id, "unspent", &id, Some(2), 1));
            g.edges.push(edge("tx:s", &id, &format!("s:{i}"), 50_000));
        }
        let n = normalize(&g);
        let lay = layout(&n, Direction::Forward);
        let xs: std::collections::BTreeSet<u64> = lay.xy.iter().map(|p| p.0 as u64).collect();
        assert_eq!(xs.len(), 4);
        assert!(lay.height <= 2.0 * MARGIN + MAX_ROWS as f64 * ROW_H);
    }

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_231_006_505), "2009-01-03 18:15 UTC");
        assert_eq!(utc(951_825_600), "2000-02-29 12:00 UTC");
        assert_eq!(utc(-1), "1969-12-31 23:59 UTC");
        assert_eq!(utc(4_102_444_800), "2100-01-01 00:00 UTC");
    }

    #[test]
    fn amounts() {
        assert_eq!(btc(150_000_000), "1.50000000");
        assert_eq!(btc(1), "0.00000001");
        assert_eq!(btc_trim(150_000_000), "1.5");
        assert_eq!(btc_trim(200_000_000), "2");
        assert_eq!(btc_trim(10_000), "0.0001");
        assert_eq!(btc_trim(0), "0");
        assert_eq!(pct(1, 3), "33.33 %");
        assert_eq!(pct(1, 0), "—");
    }

    #[test]
    fn escapes() {
        assert_eq!(H("a&<>\"'b").to_string(), "a&amp;&lt;&gt;&quot;&#39;b");
        assert_eq!(dot_str("a\"b\\c\nd\re\u{7}"), "\"a\\\"b\\\\c\\nde \"");
        assert_eq!(short("ééééé", 3), "éé…");
        assert_eq!(short_coin(&format!("{}:3", txid(9))), "090909090909…:3");
    }
}
