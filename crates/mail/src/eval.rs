//! Measuring the judgement on labelled mail: recall of phishing at a false
//! positive rate, per source, on a split never tuned on.
//!
//! Owns the neutralisation of the shared corpus's label leaks (see
//! `../shared/data/README.md`): line endings (phish CRLF, ham LF), the
//! honeypot recipient `phishing@pot`, the ham archive's host, and mbox
//! `From ` first lines; and the deterministic development/test split by
//! file name. Must not: tune anything (it measures).

use serde::Serialize;

/// Removes the corpus's label leaks from one message's bytes, so that no
/// rule can key on them: the first line if it is an mbox `From ` line,
/// CRLF line endings (to LF), the honeypot address and the list archive's
/// host (to neutral `example` names).
pub fn neutralise(bytes: &[u8]) -> Vec<u8> {
    let mut b: &[u8] = bytes;
    if b.starts_with(b"From ") {
        b = b
            .iter()
            .position(|&c| c == b'\n')
            .map_or(&b[b.len()..], |i| &b[i + 1..]);
    }
    // One pass: CRLF to LF, and the leaking names replaced (any case).
    const SWAPS: [(&[u8], &[u8]); 2] = [
        (b"phishing@pot", b"user@example.com"),
        (b"lfdr.de", b"example.org"),
    ];
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    'bytes: while i < b.len() {
        let c = b[i];
        if c == b'\r' && b.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        if matches!(c, b'p' | b'P' | b'l' | b'L') {
            for (from, to) in SWAPS {
                if b[i..].len() >= from.len() && b[i..i + from.len()].eq_ignore_ascii_case(from) {
                    out.extend_from_slice(to);
                    i += from.len();
                    continue 'bytes;
                }
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Which half of a corpus a file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Rules may be developed on it.
    Dev,
    /// Never looked at while tuning: the figures that count.
    Test,
}

/// The split of a file, by an FNV-1a hash of its name: stable, and
/// independent of the message's content.
pub fn split_of(name: &str) -> Split {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    if h.is_multiple_of(2) {
        Split::Dev
    } else {
        Split::Test
    }
}

/// Recall and false positives of one split at its thresholds.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// `dev`, `test` or `all`.
    pub split: String,
    /// Phishing messages, ham messages.
    pub phish: usize,
    /// Ham messages.
    pub ham: usize,
    /// Recall and false-positive rate of the verdict `phishing`.
    pub recall_phishing: f64,
    /// False positives of `phishing`.
    pub fp_phishing: f64,
    /// Recall and false-positive rate of `suspicious` or worse.
    pub recall_suspicious: f64,
    /// False positives of `suspicious` or worse.
    pub fp_suspicious: f64,
    /// The lowest score threshold whose false-positive rate is at most 1%,
    /// and the recall there.
    pub threshold_1pct: i32,
    /// Recall at that threshold.
    pub recall_at_1pct: f64,
    /// Its false-positive rate.
    pub fp_at_1pct: f64,
}

/// The share of `scores` at or above `t` (0 for none).
pub fn rate(scores: &[i32], t: i32) -> f64 {
    if scores.is_empty() {
        0.0
    } else {
        scores.iter().filter(|&&s| s >= t).count() as f64 / scores.len() as f64
    }
}

/// Scores a split: `phish` and `ham` are the scores of its messages.
pub fn row(split: &str, phish: &[i32], ham: &[i32]) -> Row {
    // Every score, and one above each (just clear of a ham's score).
    let mut cands: Vec<i32> = phish
        .iter()
        .chain(ham)
        .flat_map(|&s| [s, s.saturating_add(1)])
        .collect();
    cands.push(i32::MAX);
    cands.sort_unstable();
    cands.dedup();
    let t = cands
        .iter()
        .copied()
        .find(|&t| rate(ham, t) <= 0.01)
        .unwrap_or(i32::MAX);
    Row {
        split: split.to_string(),
        phish: phish.len(),
        ham: ham.len(),
        recall_phishing: rate(phish, crate::evidence::PHISHING_AT),
        fp_phishing: rate(ham, crate::evidence::PHISHING_AT),
        recall_suspicious: rate(phish, crate::evidence::SUSPICIOUS_AT),
        fp_suspicious: rate(ham, crate::evidence::SUSPICIOUS_AT),
        threshold_1pct: t,
        recall_at_1pct: rate(phish, t),
        fp_at_1pct: rate(ham, t),
    }
}

/// The source a corpus file comes from, by its name: the words before its
/// serial number or hash (`sa-easy-ham-1-00072.8dcd….eml` → `sa-easy-ham-1`,
/// `usrp-a11d421e2b37.eml` → `usrp`, `pp-sample-10.eml` → `pp-sample`).
pub fn source_of(name: &str) -> String {
    let stem = name.split('.').next().unwrap_or(name);
    let mut words: Vec<&str> = Vec::new();
    for w in stem.split('-') {
        let serial = w.len() >= 3
            && w.chars().all(|c| c.is_ascii_hexdigit())
            && w.chars().any(|c| c.is_ascii_digit());
        if serial || (w.len() >= 2 && w.chars().all(|c| c.is_ascii_digit())) {
            break;
        }
        words.push(w);
    }
    if words.is_empty() {
        stem.to_string()
    } else {
        words.join("-")
    }
}

/// One source's share of messages reaching a threshold.
#[derive(Debug, Clone, Serialize)]
pub struct SourceRow {
    /// `phish` or `ham`.
    pub label: &'static str,
    /// The source ([`source_of`]).
    pub source: String,
    /// Its messages in the split.
    pub messages: usize,
    /// Share judged `phishing` (recall for phish, false positives for ham).
    pub at_phishing: f64,
    /// Share at or above the split's 1%-FP threshold.
    pub at_1pct: f64,
}

/// Rows per source of one split, at its verdict and 1%-FP thresholds.
pub fn per_source(label: &'static str, scored: &[(String, i32)], threshold: i32) -> Vec<SourceRow> {
    let mut by: std::collections::BTreeMap<String, Vec<i32>> = Default::default();
    for (name, s) in scored {
        by.entry(source_of(name)).or_default().push(*s);
    }
    by.into_iter()
        .map(|(source, v)| {
            let share = |t: i32| v.iter().filter(|&&s| s >= t).count() as f64 / v.len() as f64;
            SourceRow {
                label,
                source,
                messages: v.len(),
                at_phishing: share(crate::evidence::PHISHING_AT),
                at_1pct: share(threshold),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaks_are_removed() {
        let m = b"From x@y Mon Jan  1 00:00:00 2024\r\nTo: PHISHING@pot\r\nReceived: by mail.lfdr.de\r\n\r\nhi\r\n";
        let n = neutralise(m);
        assert_eq!(
            n,
            b"To: user@example.com\nReceived: by mail.example.org\n\nhi\n"
        );
    }

    #[test]
    fn sources() {
        assert_eq!(
            source_of("sa-easy-ham-1-00072.8dcd09744b5534002262a8f3927ba3fc.eml"),
            "sa-easy-ham-1"
        );
        assert_eq!(source_of("usrp-a11d421e2b37.eml"), "usrp");
        assert_eq!(source_of("pp-sample-10.eml"), "pp-sample");
        let rows = per_source(
            "ham",
            &[
                ("usrp-abc123.eml".into(), 12),
                ("usrp-def456.eml".into(), 0),
            ],
            5,
        );
        assert_eq!((rows[0].messages, rows[0].at_phishing), (2, 0.5));
    }

    #[test]
    fn thresholds() {
        let r = row("all", &[1, 5, 10, 20], &[0, 0, 1, 2, 3, 4, 5, 6, 7, 30]);
        assert_eq!(r.threshold_1pct, 31);
        assert_eq!(r.recall_at_1pct, 0.0);
        let r = row("all", &[10, 20], &[0, 1]);
        assert_eq!(
            (r.threshold_1pct, r.recall_at_1pct, r.fp_at_1pct),
            (2, 1.0, 0.0)
        );
        assert!(matches!(split_of("a.eml"), Split::Dev | Split::Test));
    }
}
