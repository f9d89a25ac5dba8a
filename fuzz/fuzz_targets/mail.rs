//! Mail judgement and attachment inspection on arbitrary bytes.
//!
//! Input layout: byte 0 is a mode.
//! - low bit clear: bytes 1.. are a message, judged by `analyze` (mail-parser,
//!   every rule, attachments with the default limits); the same bytes are
//!   also split as an mbox;
//! - low bit set: byte 1 picks a file name from [`NAMES`] and bytes 2.. are
//!   an attachment, inspected by `attach::inspect_with` under small limits
//!   (so that bombs cost little and the limits themselves are exercised).
//!
//! Properties checked (beyond "never panics"):
//! - a message's score is the sum of its evidence's weights and its verdict
//!   is the one that score gives; its lists stay within their caps (links
//!   500, hosts 200, each kind of crypto identifier 200, subject 300
//!   characters); every attachment note has a 64-digit SHA-256;
//! - an mbox split yields pieces of the input, at most one per `From ` line;
//! - an attachment report stays within its limits: members whose content
//!   was read at most `max_members`, member reports at most twice that,
//!   bytes unpacked at most `max_inflated_total` per level of nesting, no
//!   container opened below `max_depth`; each rule fires once per file;
//!   a hash is 64 hex digits or empty (content not read); the size of the
//!   top-level report is the input's length.
#![no_main]

use chainhound_mail::analyze::{analyze, Options};
use chainhound_mail::attach::{inspect_with, Attachment, Limits, Report};
use chainhound_mail::source::{is_mbox, split_mbox};
use chainhound_mail::Verdict;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// Names an attachment may carry: each container and document type, a
/// double extension, a bidi trick, none.
const NAMES: &[&str] = &[
    "a.zip",
    "a.docx",
    "a.docm",
    "a.xlsx",
    "a.doc",
    "a.xls",
    "a.hwp",
    "a.hwpx",
    "a.pdf",
    "a.html",
    "a.rtf",
    "a.eps",
    "a.iso",
    "a.gz",
    "a.tar",
    "a.rar",
    "a.7z",
    "a.one",
    "a.js",
    "invoice.pdf.exe",
    "scan\u{202E}fdp.exe",
    "",
];

const LIMITS: Limits = Limits {
    max_depth: 3,
    max_members: 16,
    max_inflated_total: 2 << 20,
    max_ratio: 100,
    bomb_floor: 64 << 10,
    max_scan: 1 << 20,
};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        message(rest);
    } else if let Some((&pick, bytes)) = rest.split_first() {
        let name = NAMES[pick as usize % NAMES.len()];
        let r = inspect_with(
            &Attachment {
                name: (!name.is_empty()).then_some(name),
                declared: None,
                bytes,
            },
            &LIMITS,
        );
        assert_eq!(r.size, bytes.len() as u64);
        assert_eq!(r.sha256.len(), 64);
        let mut all = Vec::new();
        walk(&r, 0, &mut all);
        check(&all);
    }
});

/// The default options, made once (the built-in brands' typo permutations
/// take milliseconds to build).
fn options() -> &'static Options {
    static OPTS: OnceLock<Options> = OnceLock::new();
    OPTS.get_or_init(Options::default)
}

fn message(raw: &[u8]) {
    let r = analyze("fuzz", raw, options());
    assert_eq!(r.score, r.evidence.iter().map(|e| e.weight).sum::<i32>());
    assert_eq!(r.verdict, Verdict::of(r.score));
    let i = &r.indicators;
    assert!(i.urls.len() <= 500, "{} urls", i.urls.len());
    assert!(i.link_domains.len() <= 200);
    for v in [&i.crypto.btc, &i.crypto.eth, &i.crypto.trx, &i.crypto.txids] {
        assert!(v.len() <= 200);
    }
    assert!(r.subject.as_ref().is_none_or(|s| s.chars().count() <= 300));
    for a in &i.attachments {
        assert_eq!(a.sha256.len(), 64, "{}", a.name);
    }

    let parts = split_mbox(raw);
    let froms =
        raw.starts_with(b"From ") as usize + raw.windows(6).filter(|w| w == b"\nFrom ").count();
    assert!(parts.len() <= froms);
    let range = raw.as_ptr_range();
    for p in &parts {
        let pr = p.as_ptr_range();
        assert!(range.start <= pr.start && pr.end <= range.end);
    }
    if is_mbox(raw) {
        assert!(froms >= 2);
    }
}

fn walk<'a>(r: &'a Report, depth: usize, out: &mut Vec<(usize, &'a Report)>) {
    out.push((depth, r));
    for m in &r.inner {
        walk(m, depth + 1, out);
    }
}

fn check(all: &[(usize, &Report)]) {
    let members = &all[1..];
    let read = members.iter().filter(|(_, m)| !m.sha256.is_empty()).count();
    assert!(read <= LIMITS.max_members, "{read} members read");
    assert!(
        members.len() <= 2 * LIMITS.max_members,
        "{} member reports",
        members.len()
    );
    let unpacked: u64 = members
        .iter()
        .filter(|(_, m)| !m.sha256.is_empty())
        .map(|(_, m)| m.size)
        .sum();
    assert!(unpacked <= LIMITS.max_inflated_total * LIMITS.max_depth as u64);
    for (depth, r) in all {
        assert!(*depth <= LIMITS.max_depth, "{} at depth {depth}", r.name);
        assert!(
            r.sha256.is_empty()
                || (r.sha256.len() == 64 && r.sha256.bytes().all(|c| c.is_ascii_hexdigit())),
        );
        let mut rules: Vec<&str> = r.evidence.iter().map(|e| e.rule).collect();
        rules.sort_unstable();
        let n = rules.len();
        rules.dedup();
        assert_eq!(rules.len(), n, "a rule fired twice on {}", r.name);
        for e in &r.evidence {
            assert!(
                e.words.len() <= 1000,
                "{}: {} bytes of words",
                e.rule,
                e.words.len()
            );
        }
    }
}
