//! Where the tainted satoshis of a transaction's one side go on its other
//! side, under each policy. Pure arithmetic on [`Seg`] lists: no index, no
//! I/O.
//!
//! A coin's taint is a sorted list of disjoint segments of its value, each
//! with a density: the share of that segment's satoshis that are tainted
//! (1 for FIFO and poison, the mixed share after haircut or a CoinJoin).
//! The same mapping serves both directions: forward the sources are the
//! inputs and the sinks the outputs (the fee is what lies past the
//! outputs); backward the sources are the outputs and the sinks the inputs.

use chainhound_chain::amount::sum_sats;
use serde::{Deserialize, Serialize};

/// How taint moves through a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Every output of a transaction with a tainted input is wholly
    /// tainted: the widest net, useful to list every coin that ever touched
    /// the loot, never to measure amounts.
    Poison,
    /// Each output carries the tainted share of the inputs (tainted value ÷
    /// input value), so taint is diluted, never lost but to fees.
    Haircut,
    /// First in, first out (Anderson et al. 2018): the inputs' satoshis, in
    /// order, fill the outputs in order; a tainted satoshi lands in exactly
    /// one output. Deterministic and far sharper than haircut.
    Fifo,
}

impl Policy {
    /// Every policy.
    pub const ALL: [Policy; 3] = [Policy::Poison, Policy::Haircut, Policy::Fifo];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Poison => "poison",
            Policy::Haircut => "haircut",
            Policy::Fifo => "fifo",
        }
    }

    /// Parses a name as [`Policy::name`] gives it.
    pub fn parse(s: &str) -> Option<Policy> {
        Policy::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
    }
}

/// Segments of one coin kept at most; more are coalesced (the tainted
/// amount is kept, its extent widened).
pub const MAX_SEGS: usize = 32;

/// A tainted run of satoshis inside one coin: `len` satoshis from
/// `start`, of which the share `density` is tainted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Seg {
    /// First satoshi, from the coin's start.
    pub start: u64,
    /// Satoshis in the run.
    pub len: u64,
    /// Tainted share of them, in (0, 1].
    pub density: f64,
}

impl Seg {
    /// A whole coin of `value`, tainted at `density`.
    pub fn whole(value: u64, density: f64) -> Seg {
        Seg {
            start: 0,
            len: value,
            density,
        }
    }

    /// Tainted satoshis in the run.
    pub fn amount(&self) -> f64 {
        self.len as f64 * self.density
    }
}

/// Tainted satoshis of a coin.
pub fn amount(segs: &[Seg]) -> f64 {
    segs.iter().map(Seg::amount).sum()
}

/// Appends a run, merging it into the last when they touch at one density.
fn push(segs: &mut Vec<Seg>, s: Seg) {
    if s.len == 0 || s.density <= 0.0 {
        return;
    }
    if let Some(last) = segs.last_mut() {
        if last.start + last.len == s.start && last.density == s.density {
            last.len += s.len;
            return;
        }
    }
    segs.push(s);
}

/// Coalesces neighbours until at most [`MAX_SEGS`] remain: each merged
/// pair spans both runs at the density that keeps their tainted amount.
fn coalesce(segs: &mut Vec<Seg>) {
    while segs.len() > MAX_SEGS {
        let mut out = Vec::with_capacity(segs.len() / 2 + 1);
        for pair in segs.chunks(2) {
            match pair {
                [a, b] => {
                    let len = b.start + b.len - a.start;
                    out.push(Seg {
                        start: a.start,
                        len,
                        density: (a.amount() + b.amount()) / len as f64,
                    });
                }
                [a] => out.push(*a),
                _ => unreachable!("chunks of two"),
            }
        }
        *segs = out;
    }
}

/// What one side's taint becomes on the other side.
#[derive(Debug, Default)]
pub struct Mapped {
    /// Per sink, its tainted runs (empty: untainted).
    pub sinks: Vec<Vec<Seg>>,
    /// Tainted satoshis that reach no sink (the fee, forward).
    pub lost: f64,
}

/// Maps `sources` (each coin's value and taint, in order) onto sinks of
/// `sink_values` (in order) under `policy`.
pub fn map(policy: Policy, sources: &[(u64, &[Seg])], sink_values: &[u64]) -> Mapped {
    // Saturating: a crafted or damaged index can hold absurd values.
    let src_total: u64 = sum_sats(sources.iter().map(|s| s.0));
    let sink_total: u64 = sum_sats(sink_values.iter().copied());
    let tainted: f64 = sources.iter().map(|s| amount(s.1)).sum();
    let mut m = Mapped {
        sinks: vec![Vec::new(); sink_values.len()],
        lost: 0.0,
    };
    if tainted <= 0.0 {
        return m;
    }
    match policy {
        Policy::Poison => {
            for (segs, &v) in m.sinks.iter_mut().zip(sink_values) {
                push(segs, Seg::whole(v, 1.0));
            }
        }
        Policy::Haircut => {
            let density = tainted / src_total.max(sink_total).max(1) as f64;
            for (segs, &v) in m.sinks.iter_mut().zip(sink_values) {
                push(segs, Seg::whole(v, density.min(1.0)));
            }
            m.lost = (tainted - density * sink_total as f64).max(0.0);
        }
        Policy::Fifo => {
            m.lost = fifo(sources, sink_values, &mut m.sinks);
            for segs in &mut m.sinks {
                coalesce(segs);
            }
        }
    }
    m
}

/// FIFO: source runs at their absolute offsets in the concatenated
/// sources, cut at the sinks' boundaries in the concatenated sinks.
fn fifo(sources: &[(u64, &[Seg])], sinks: &[u64], out: &mut [Vec<Seg>]) -> f64 {
    let n = sinks.len();
    let (mut sink, mut sink_start) = (0usize, 0u64);
    let mut sink_end = sinks.first().copied().unwrap_or(0);
    let mut base = 0u64;
    let mut lost = 0.0;
    for &(value, segs) in sources {
        for s in segs {
            let mut a = base.saturating_add(s.start.min(value));
            let end = base.saturating_add(s.start.saturating_add(s.len).min(value));
            while a < end {
                while sink < n && sink_end <= a {
                    sink += 1;
                    sink_start = sink_end;
                    sink_end = sink_end.saturating_add(sinks.get(sink).copied().unwrap_or(0));
                }
                if sink == n {
                    lost += (end - a) as f64 * s.density;
                    break;
                }
                let b = end.min(sink_end);
                push(
                    &mut out[sink],
                    Seg {
                        start: a - sink_start,
                        len: b - a,
                        density: s.density,
                    },
                );
                a = b;
            }
        }
        base = base.saturating_add(value);
    }
    lost
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(m: &Mapped) -> f64 {
        m.sinks.iter().map(|s| amount(s)).sum::<f64>() + m.lost
    }

    #[test]
    fn fifo_fills_outputs_in_order() {
        // Inputs 100 (clean) and 50 (tainted); outputs 120 and 20; fee 10.
        let clean: [Seg; 0] = [];
        let dirty = [Seg::whole(50, 1.0)];
        let m = map(Policy::Fifo, &[(100, &clean), (50, &dirty)], &[120, 20]);
        // Satoshis 100..150 of the inputs: 100..120 in output 0, 120..140
        // in output 1, 140..150 paid as fee.
        assert_eq!(
            m.sinks[0],
            vec![Seg {
                start: 100,
                len: 20,
                density: 1.0
            }]
        );
        assert_eq!(
            m.sinks[1],
            vec![Seg {
                start: 0,
                len: 20,
                density: 1.0
            }]
        );
        assert_eq!(m.lost, 10.0);
        assert_eq!(total(&m), 50.0);
    }

    #[test]
    fn fifo_skips_empty_outputs_and_backward_covers_inputs() {
        let dirty = [Seg {
            start: 5,
            len: 10,
            density: 0.5,
        }];
        // An OP_RETURN of 0 between two outputs.
        let m = map(Policy::Fifo, &[(20, &dirty)], &[8, 0, 12]);
        assert_eq!(amount(&m.sinks[0]), 1.5);
        assert!(m.sinks[1].is_empty());
        assert_eq!(amount(&m.sinks[2]), 3.5);
        assert_eq!(m.lost, 0.0);
    }

    #[test]
    fn haircut_and_poison() {
        let dirty = [Seg::whole(30, 1.0)];
        let clean: [Seg; 0] = [];
        let m = map(Policy::Haircut, &[(30, &dirty), (70, &clean)], &[50, 40]);
        assert!((amount(&m.sinks[0]) - 15.0).abs() < 1e-9);
        assert!((amount(&m.sinks[1]) - 12.0).abs() < 1e-9);
        assert!((m.lost - 3.0).abs() < 1e-9);
        let m = map(Policy::Poison, &[(30, &dirty), (70, &clean)], &[50, 40]);
        assert_eq!(amount(&m.sinks[0]) + amount(&m.sinks[1]), 90.0);
        let none = map(Policy::Poison, &[(70, &clean)], &[50]);
        assert!(none.sinks[0].is_empty());
    }

    #[test]
    fn coalescing_keeps_the_amount() {
        let many: Vec<Seg> = (0..100)
            .map(|i| Seg {
                start: i * 10,
                len: 5,
                density: 1.0,
            })
            .collect();
        let m = map(Policy::Fifo, &[(1000, &many)], &[1000]);
        assert!(m.sinks[0].len() <= MAX_SEGS);
        assert!((amount(&m.sinks[0]) - 500.0).abs() < 1e-6);
    }

    #[test]
    fn policy_names_round_trip() {
        for p in Policy::ALL {
            assert_eq!(Policy::parse(p.name()), Some(p));
        }
        assert_eq!(Policy::parse("FIFO"), Some(Policy::Fifo));
        assert_eq!(Policy::parse("lifo"), None);
    }
}
