//! Change heuristics: which output of a transaction pays the spender back.
//!
//! Each heuristic looks at one transaction's [`TxFacts`] and names at most
//! one output; all are off by default and chosen by name
//! ([`Heuristic::from_name`]), so each can be evaluated alone
//! (`chainhound eval clustering`). A heuristic that finds several
//! candidates names none: a wrong merge costs more than a missed one.
//!
//! - `address-reuse`: exactly one output pays an address that also funds
//!   the transaction (self-change to a reused address).
//! - `one-time-change`: exactly one output pays an address never seen
//!   before, and every other output pays an address seen before
//!   (Meiklejohn et al. 2013).
//! - `optimal-change`: exactly one output is smaller than every input; a
//!   wallet would not have needed the smallest input otherwise (Nick 2015).
//! - `script-type`: all inputs have one script type and exactly one output
//!   has it too.
//! - `round-amount`: of two outputs, exactly one is a round amount (a
//!   multiple of 10,000 satoshis): the other is change.
//! - `fingerprint`: exactly one output is spent by a transaction with this
//!   one's wallet fingerprint (nVersion, nLockTime kind, RBF or final
//!   sequences; [`chainhound_index::store::TxMeta`]) while every other
//!   output is spent by a different one: the same wallet spent the change.
//!
//! Must not: read the index (callers fill [`TxFacts`]) or merge clusters.

use chainhound_chain::script::ScriptType;

/// What the heuristics see of one transaction.
#[derive(Debug, Clone, Default)]
pub struct TxFacts {
    /// Inputs: value, address id, script type.
    pub inputs: Vec<(u64, Option<u32>, ScriptType)>,
    /// Outputs.
    pub outputs: Vec<OutFact>,
    /// The transaction's wallet fingerprint (`TxMeta::wallet`).
    pub wallet: u8,
}

/// What the heuristics see of one output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutFact {
    /// Value.
    pub value: u64,
    /// Address id.
    pub addr: Option<u32>,
    /// Script type.
    pub script: ScriptType,
    /// Whether the address was seen before this transaction.
    pub seen: bool,
    /// The wallet fingerprint of the transaction that spends it, if spent.
    pub spender_wallet: Option<u8>,
}

/// A change heuristic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Heuristic {
    /// Self-change to a reused input address.
    AddressReuse,
    /// The only output to a fresh address.
    OneTimeChange,
    /// The only output smaller than every input.
    OptimalChange,
    /// The only output of the inputs' script type.
    ScriptType,
    /// The other output of a round payment.
    RoundAmount,
    /// The only output spent by a transaction of the same wallet fingerprint.
    Fingerprint,
}

impl Heuristic {
    /// All of them.
    pub const ALL: [Heuristic; 6] = [
        Heuristic::AddressReuse,
        Heuristic::OneTimeChange,
        Heuristic::OptimalChange,
        Heuristic::ScriptType,
        Heuristic::RoundAmount,
        Heuristic::Fingerprint,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Heuristic::AddressReuse => "address-reuse",
            Heuristic::OneTimeChange => "one-time-change",
            Heuristic::OptimalChange => "optimal-change",
            Heuristic::ScriptType => "script-type",
            Heuristic::RoundAmount => "round-amount",
            Heuristic::Fingerprint => "fingerprint",
        }
    }

    /// The heuristic with this name.
    pub fn from_name(s: &str) -> Option<Heuristic> {
        Heuristic::ALL.into_iter().find(|h| h.name() == s)
    }

    /// The change output this heuristic names, if exactly one.
    pub fn change(self, tx: &TxFacts) -> Option<usize> {
        if tx.inputs.is_empty() || tx.outputs.len() < 2 {
            return None;
        }
        let only = |pred: &dyn Fn(&OutFact) -> bool| {
            let mut hit = None;
            for (i, o) in tx.outputs.iter().enumerate() {
                if o.addr.is_some() && pred(o) {
                    if hit.is_some() {
                        return None;
                    }
                    hit = Some(i);
                }
            }
            hit
        };
        match self {
            Heuristic::AddressReuse => {
                only(&|o| tx.inputs.iter().any(|i| i.1.is_some() && i.1 == o.addr))
            }
            Heuristic::OneTimeChange => only(&|o| !o.seen),
            Heuristic::OptimalChange => {
                let min_in = tx.inputs.iter().map(|i| i.0).min()?;
                only(&|o| o.value < min_in)
            }
            Heuristic::ScriptType => {
                let t = tx.inputs[0].2;
                if tx.inputs.iter().any(|i| i.2 != t) {
                    return None;
                }
                only(&|o| o.script == t)
            }
            Heuristic::Fingerprint => {
                // Every output spent, so that "the others differ" is known.
                if tx.outputs.iter().any(|o| o.spender_wallet.is_none()) {
                    return None;
                }
                only(&|o| o.spender_wallet == Some(tx.wallet))
            }
            Heuristic::RoundAmount => {
                if tx.outputs.len() != 2 {
                    return None;
                }
                let round = |v: u64| v > 0 && v.is_multiple_of(10_000);
                match (round(tx.outputs[0].value), round(tx.outputs[1].value)) {
                    (true, false) if tx.outputs[1].addr.is_some() => Some(1),
                    (false, true) if tx.outputs[0].addr.is_some() => Some(0),
                    _ => None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ScriptType::*;

    fn tx(ins: &[(u64, u32, ScriptType)], outs: &[(u64, u32, ScriptType, bool)]) -> TxFacts {
        TxFacts {
            inputs: ins.iter().map(|&(v, a, t)| (v, Some(a), t)).collect(),
            outputs: outs
                .iter()
                .map(|&(value, a, script, seen)| OutFact {
                    value,
                    addr: Some(a),
                    script,
                    seen,
                    spender_wallet: None,
                })
                .collect(),
            wallet: 7,
        }
    }

    #[test]
    fn each_names_one_output_or_none() {
        let t = tx(
            &[(50_000, 1, P2wpkh), (70_000, 2, P2wpkh)],
            &[(100_000, 3, P2pkh, true), (19_000, 4, P2wpkh, false)],
        );
        assert_eq!(Heuristic::OneTimeChange.change(&t), Some(1));
        assert_eq!(Heuristic::OptimalChange.change(&t), Some(1));
        assert_eq!(Heuristic::ScriptType.change(&t), Some(1));
        assert_eq!(Heuristic::RoundAmount.change(&t), Some(1));
        assert_eq!(Heuristic::AddressReuse.change(&t), None);
        let reuse = tx(
            &[(50_000, 1, P2wpkh)],
            &[(30_000, 3, P2wpkh, false), (19_000, 1, P2wpkh, true)],
        );
        assert_eq!(Heuristic::AddressReuse.change(&reuse), Some(1));
        // Two candidates: no answer.
        assert_eq!(Heuristic::ScriptType.change(&reuse), None);
        assert_eq!(Heuristic::OneTimeChange.change(&reuse), Some(0));
        // Fingerprint: only when every output is spent, one by the same wallet.
        let mut fp = t.clone();
        assert_eq!(Heuristic::Fingerprint.change(&fp), None);
        fp.outputs[0].spender_wallet = Some(3);
        fp.outputs[1].spender_wallet = Some(7);
        assert_eq!(Heuristic::Fingerprint.change(&fp), Some(1));
        fp.outputs[0].spender_wallet = Some(7);
        assert_eq!(Heuristic::Fingerprint.change(&fp), None);
        let one_out = tx(&[(50_000, 1, P2wpkh)], &[(49_000, 2, P2wpkh, false)]);
        for h in Heuristic::ALL {
            assert_eq!(h.change(&one_out), None);
            assert_eq!(Heuristic::from_name(h.name()), Some(h));
        }
    }
}
