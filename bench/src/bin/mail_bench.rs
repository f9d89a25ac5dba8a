//! Mail benchmark: how many messages per second does `chainhound mail`
//! judge on one core? On the shared corpus of real mail
//! (`../shared/data/mail/{phish,ham}`), each message neutralised as
//! `chainhound eval mail` does, on ONE thread:
//!
//! - `analyze`: the full judgement (`chainhound_mail::analyze::analyze`);
//! - baselines in the same run: `mail-parser` parse only
//!   (`MessageParser::default().parse`, what `analyze` starts with) and a
//!   raw byte scan (every byte read once: a line count and a byte sum), the
//!   floor of any tool that reads the mail;
//! - `neutralise`: the leak removal `eval mail` adds before judging;
//! - a split of `analyze`'s time by stage (parse, bodies and links,
//!   lookalike checks of the hosts, attachments), each stage redone alone
//!   through the crate's public pieces, to find hot spots.
//!
//! Each phase runs `--passes` times (phases interleaved), and the best pass
//! counts; per-message times are each message's fastest of those passes.
//!
//! ```text
//! mail_bench [--corpus DIR] [--passes N] [--slowest K]
//! ```
//!
//! `--corpus` defaults to `$CHAINHOUND_SHARED/data/mail` when that is set,
//! else `../shared/data/mail` beside the repository.

use chainhound_mail::analyze::{analyze, Options};
use chainhound_mail::attach::{self, Attachment};
use chainhound_mail::eval::neutralise;
use chainhound_mail::indicators;
use chainhound_mail::lookalike;
use chainhound_mail::source::read;
use mail_parser::{MessageParser, MimeHeaders};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The issue's target: messages judged per second on one core.
const TARGET_PER_CORE: f64 = 1000.0;

fn usage() -> ! {
    eprintln!("usage: mail_bench [--corpus DIR] [--passes N] [--slowest K]");
    std::process::exit(2)
}

/// One neutralised message.
struct Msg {
    /// `phish/NAME` or `ham/NAME`.
    name: String,
    bytes: Vec<u8>,
}

/// CPU seconds (user + system) of the calling thread.
fn thread_cpu() -> f64 {
    // SAFETY: getrusage writes into the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
    if rc != 0 {
        return f64::NAN;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// The fastest pass of a phase: its wall and CPU seconds, and each
/// message's fastest time over all passes.
struct Phase {
    name: &'static str,
    best_wall: f64,
    best_cpu: f64,
    worst_wall: f64,
    per_msg: Vec<Duration>,
}

impl Phase {
    fn new(name: &'static str, n: usize) -> Phase {
        Phase {
            name,
            best_wall: f64::INFINITY,
            best_cpu: f64::NAN,
            worst_wall: 0.0,
            per_msg: vec![Duration::MAX; n],
        }
    }

    /// Runs `f` on every message once, timing each, and keeps the best.
    fn pass(&mut self, msgs: &[Msg], mut f: impl FnMut(&Msg)) {
        let cpu0 = thread_cpu();
        let t0 = Instant::now();
        for (i, m) in msgs.iter().enumerate() {
            let t = Instant::now();
            f(m);
            let d = t.elapsed();
            if d < self.per_msg[i] {
                self.per_msg[i] = d;
            }
        }
        let wall = t0.elapsed().as_secs_f64();
        let cpu = thread_cpu() - cpu0;
        if wall < self.best_wall {
            self.best_wall = wall;
            self.best_cpu = cpu;
        }
        self.worst_wall = self.worst_wall.max(wall);
    }

    fn sorted(&self) -> Vec<Duration> {
        let mut v = self.per_msg.clone();
        v.sort_unstable();
        v
    }
}

fn pct(v: &[Duration], q: f64) -> Duration {
    v[((v.len() as f64 * q) as usize).min(v.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn default_corpus() -> PathBuf {
    if let Some(s) = std::env::var_os("CHAINHOUND_SHARED") {
        return PathBuf::from(s).join("data/mail");
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/mail")
}

fn load(corpus: &Path) -> Res<Vec<Msg>> {
    let mut msgs = Vec::new();
    for label in ["phish", "ham"] {
        let dir = corpus.join(label);
        let (mut items, mut problems) = (Vec::new(), Vec::new());
        read(&dir, &mut items, &mut problems);
        for p in &problems {
            eprintln!("mail_bench: {}: {}", p.path.display(), p.message);
        }
        if items.is_empty() {
            return Err(format!("no message found in {}", dir.display()).into());
        }
        for i in items {
            let file = Path::new(i.source.split('#').next().unwrap_or(&i.source))
                .file_name()
                .map_or(i.source.clone(), |n| n.to_string_lossy().into_owned());
            msgs.push(Msg {
                name: format!("{label}/{file}"),
                bytes: neutralise(&i.bytes),
            });
        }
    }
    Ok(msgs)
}

/// A raw scan: every byte read once (lines counted, bytes summed).
fn raw_scan(b: &[u8]) -> u64 {
    let mut lines = 0u64;
    let mut sum = 0u64;
    for &c in b {
        lines += u64::from(c == b'\n');
        sum = sum.wrapping_add(u64::from(c));
    }
    lines ^ sum
}

/// The stages of `analyze`, redone alone through the public pieces (the
/// rules' own bookkeeping is left out, so the stages sum to a little less
/// than `analyze`).
#[derive(Default)]
struct Stages {
    parse: Duration,
    bodies: Duration,
    lookalike: Duration,
    attachments: Duration,
    /// The slowest attachments: (time, message, attachment name, size).
    slow_att: Vec<(Duration, String, String, usize)>,
}

fn stages(msgs: &[Msg], opts: &Options, s: &mut Stages) {
    for m in msgs {
        let t = Instant::now();
        let Some(msg) = MessageParser::default().parse(&m.bytes[..]) else {
            s.parse += t.elapsed();
            continue;
        };
        s.parse += t.elapsed();

        let t = Instant::now();
        let mut links = Vec::new();
        let mut text = String::new();
        for part in msg.html_bodies() {
            if let Some(h) = part.text_contents() {
                indicators::html_links(h, &mut links);
                text.push_str(&indicators::strip_tags(h));
            }
        }
        for part in msg.text_bodies() {
            if !part.is_text_html() {
                if let Some(t) = part.text_contents() {
                    indicators::text_links(t, &mut links);
                    text.push_str(t);
                }
            }
        }
        let mut crypto = indicators::Crypto::default();
        indicators::crypto(&text, &mut crypto);
        let _ = black_box(text.to_lowercase());
        s.bodies += t.elapsed();

        let t = Instant::now();
        let from = msg
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .and_then(|a| a.rsplit_once('@'))
            .map(|(_, d)| d.to_ascii_lowercase());
        let mut hosts: Vec<&str> = from.as_deref().into_iter().collect();
        for l in &links {
            if !l.host.is_empty() && !hosts.contains(&l.host.as_str()) {
                hosts.push(&l.host);
            }
        }
        for h in hosts {
            black_box(lookalike::check_host(h, &opts.protected));
        }
        s.lookalike += t.elapsed();

        for part in msg.attachments() {
            let declared = part.content_type().map(|c| match c.subtype() {
                Some(st) => format!("{}/{}", c.ctype(), st),
                None => c.ctype().to_string(),
            });
            let a = Attachment {
                name: part.attachment_name(),
                declared: declared.as_deref(),
                bytes: part.contents(),
            };
            let t = Instant::now();
            black_box(attach::inspect(&a));
            let d = t.elapsed();
            s.attachments += d;
            s.slow_att.push((
                d,
                m.name.clone(),
                a.name.unwrap_or("(unnamed)").to_owned(),
                a.bytes.len(),
            ));
        }
    }
}

fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let (mut corpus, mut passes, mut slowest) = (default_corpus(), 5usize, 5usize);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--corpus" => corpus = PathBuf::from(val()),
            "--passes" => passes = val().parse().unwrap_or_else(|_| usage()),
            "--slowest" => slowest = val().parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    let passes = passes.max(1);
    let t = Instant::now();
    let msgs = load(&corpus)?;
    let load_s = t.elapsed().as_secs_f64();
    let n = msgs.len();
    let bytes: usize = msgs.iter().map(|m| m.bytes.len()).sum();
    let phish = msgs.iter().filter(|m| m.name.starts_with("phish/")).count();
    println!(
        "corpus {}: {n} messages ({phish} phish, {} ham), {:.1} MB after neutralising; read and neutralised in {load_s:.2} s",
        corpus.display(),
        n - phish,
        bytes as f64 / 1e6
    );
    println!(
        "one thread; {passes} passes of each phase, interleaved; best pass shown; per-message times are each message's fastest pass\n"
    );

    // Raw bytes again, for the neutralise phase.
    let mut raw_items = Vec::new();
    for label in ["phish", "ham"] {
        let (mut items, mut problems) = (Vec::new(), Vec::new());
        read(&corpus.join(label), &mut items, &mut problems);
        raw_items.extend(items.into_iter().map(|i| Msg {
            name: i.source,
            bytes: i.bytes,
        }));
    }

    let opts = Options::default();
    let mut full = Phase::new("analyze (full judgement)", n);
    let mut parse = Phase::new("mail-parser parse only", n);
    let mut scan = Phase::new("raw byte scan", n);
    let mut neut = Phase::new("neutralise (eval's leak removal)", raw_items.len());
    // Warm-up: caches, lazily built tables (psl, confusables).
    for m in &msgs {
        black_box(analyze(&m.name, &m.bytes, &opts));
    }
    let mut scores = 0i64;
    for _ in 0..passes {
        full.pass(&msgs, |m| {
            scores += i64::from(black_box(analyze(&m.name, &m.bytes, &opts)).score);
        });
        parse.pass(&msgs, |m| {
            black_box(MessageParser::default().parse(black_box(&m.bytes[..])));
        });
        scan.pass(&msgs, |m| {
            black_box(raw_scan(black_box(&m.bytes)));
        });
        neut.pass(&raw_items, |m| {
            black_box(neutralise(black_box(&m.bytes)));
        });
    }
    black_box(scores);

    println!(
        "{:<34} {:>8} {:>8} {:>8} {:>11} {:>8} {:>9} {:>9} {:>9} {:>11}",
        "phase",
        "wall s",
        "worst s",
        "cpu s",
        "msgs/s",
        "MB/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "vs analyze"
    );
    for p in [&full, &parse, &scan, &neut] {
        let v = p.sorted();
        println!(
            "{:<34} {:>8.4} {:>8.4} {:>8.4} {:>11.0} {:>8.1} {:>9.3} {:>9.3} {:>9.3} {:>10.2}x",
            p.name,
            p.best_wall,
            p.worst_wall,
            p.best_cpu,
            p.per_msg.len() as f64 / p.best_wall,
            bytes as f64 / 1e6 / p.best_wall,
            ms(pct(&v, 0.5)),
            ms(pct(&v, 0.99)),
            ms(*v.last().unwrap()),
            full.best_wall / p.best_wall
        );
    }
    println!(
        "\nratios (same run): analyze takes {:.2}x mail-parser's parse alone and {:.1}x a raw byte scan; with neutralise (what `eval mail` does) {:.0} msgs/s",
        full.best_wall / parse.best_wall,
        full.best_wall / scan.best_wall,
        n as f64 / (full.best_wall + neut.best_wall)
    );

    println!("\nslowest messages under analyze (fastest of {passes} passes):");
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(full.per_msg[i]));
    for &i in order.iter().take(slowest) {
        println!(
            "  {:>8.3} ms  {:>8.1} kB  parse {:>7.3} ms  {}",
            ms(full.per_msg[i]),
            msgs[i].bytes.len() as f64 / 1e3,
            ms(parse.per_msg[i]),
            msgs[i].name
        );
    }

    // Where analyze's time goes: the stages alone, best of the passes.
    let mut best: Option<Stages> = None;
    for _ in 0..passes {
        let mut s = Stages::default();
        stages(&msgs, &opts, &mut s);
        let total = |s: &Stages| s.parse + s.bodies + s.lookalike + s.attachments;
        if best.as_ref().is_none_or(|b| total(&s) < total(b)) {
            best = Some(s);
        }
    }
    let mut s = best.expect("one pass at least");
    let share = |d: Duration| 100.0 * d.as_secs_f64() / full.best_wall;
    println!("\nstages of analyze, each redone alone (best pass; % of analyze's best wall time):");
    for (what, d) in [
        ("mail-parser parse", s.parse),
        ("bodies: links, tags stripped, crypto", s.bodies),
        ("lookalike checks (sender + link hosts)", s.lookalike),
        ("attachments (attach::inspect)", s.attachments),
    ] {
        println!(
            "  {what:<40} {:>8.4} s  {:>5.1}%",
            d.as_secs_f64(),
            share(d)
        );
    }
    let rest = Duration::from_secs_f64(
        (full.best_wall - (s.parse + s.bodies + s.lookalike + s.attachments).as_secs_f64())
            .max(0.0),
    );
    println!(
        "  {:<40} {:>8.4} s  {:>5.1}%",
        "rest (rules, lures, report)",
        rest.as_secs_f64(),
        share(rest)
    );
    s.slow_att.sort_by_key(|a| std::cmp::Reverse(a.0));
    println!("  slowest attachments:");
    for (d, m, a, size) in s.slow_att.iter().take(slowest) {
        println!(
            "    {:>8.3} ms  {:>8.1} kB  {m}: {a}",
            ms(*d),
            *size as f64 / 1e3
        );
    }

    let rate = n as f64 / full.best_wall;
    let per_core = n as f64 / full.best_cpu;
    println!(
        "\nTARGET (issue 7: >= {TARGET_PER_CORE:.0} messages/s per core): {rate:.0} msgs/s on one thread ({per_core:.0} per CPU second): {}",
        if rate >= TARGET_PER_CORE {
            "MET"
        } else {
            "MISSED"
        }
    );
    Ok(())
}
