//! Scoring a forward trace against a simulated heist's truth: which
//! cash-out deposits it found, how much of the stolen amount at each, and
//! whether it named any exchange wrongly.
//!
//! Owns the score and the rule of which cash-outs a flow trace can reach
//! at all ([`connected`]): those the loot reaches on chain through the
//! launderer's own transactions and CoinJoins. Coins paid out by a mixer
//! come from other coins (the mixer's pool), so no flow policy reaches
//! them; they are scored apart, and the trace is right to end at the
//! mixer.
//!
//! Must not: run the trace, or write anything.

use crate::walk::Trace;
use chainhound_index::store::{OutId, Store, TxNum};
use chainhound_intel::label::Category;
use chainhound_sim::truth::{EntityKind, Truth, TxKind};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// A cash-out the truth knows: a deposit of proceeds at an exchange.
#[derive(Debug, Clone)]
pub struct Expected {
    /// `txid:vout` of the deposit.
    pub coin: String,
    /// The deposit address.
    pub address: String,
    /// The exchange's name.
    pub exchange: String,
    /// Proceeds it carries.
    pub stolen_sat: u64,
    /// Whether the loot reaches it on chain ([`connected`]).
    pub connected: bool,
}

/// What an investigator of the simulated heist knows, as a users' label
/// CSV: every exchange's and the mixer's addresses (not the hacker's).
pub fn services_csv(truth: &Truth) -> String {
    truth.labels_csv(|e, _| match e.kind {
        EntityKind::Exchange => Some("exchange"),
        EntityKind::Mixer => Some("mixer"),
        _ => None,
    })
}

/// The heist's txid and height and the truth's cash-outs, each marked reached on
/// chain or not ([`connected`] through the launderer's own transactions
/// and the CoinJoins). Errors when the truth has no heist or the index is
/// not of this truth's chain.
pub fn expected(st: &Store, truth: &Truth) -> Result<(String, u32, Vec<Expected>), String> {
    let heist = truth
        .txs
        .iter()
        .find(|t| t.kind == TxKind::Heist)
        .ok_or("the truth has no heist (simulated with --no-heist?)")?;
    let h = st
        .find_tx(&heist.txid)
        .ok_or("the heist is not in the index: is it the index of this truth's chain?")?;
    let carriers: HashSet<u32> = truth
        .txs
        .iter()
        .filter(|t| {
            t.kind.is_coinjoin()
                || matches!(
                    t.kind,
                    TxKind::Heist | TxKind::Split | TxKind::Peel | TxKind::Hop | TxKind::Cashout
                )
        })
        .filter_map(|t| st.find_tx(&t.txid).map(|n| n.0))
        .collect();
    let reach = connected(st, h, &carriers);
    let exp = truth
        .cashouts
        .iter()
        .map(|c| {
            let coin = format!("{}:{}", c.txid, c.vout);
            Expected {
                connected: reach.contains(&coin),
                coin,
                address: c.address.clone(),
                exchange: truth
                    .entity(c.exchange)
                    .map_or_else(|| c.exchange.to_string(), |e| e.name.clone()),
                stolen_sat: c.stolen,
            }
        })
        .collect();
    Ok((heist.txid.to_string(), st.tx_height(h), exp))
}

/// Outputs reachable from the heist's outputs through transactions of
/// `carriers` (the launderer's own and the CoinJoins it joined), as
/// `txid:vout`.
pub fn connected(st: &Store, heist: TxNum, carriers: &HashSet<u32>) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut stack = vec![heist];
    let mut done = HashSet::new();
    while let Some(t) = stack.pop() {
        if !done.insert(t.0) {
            continue;
        }
        let outs = st.tx_outputs(t);
        for o in outs.clone() {
            seen.insert(format!("{}:{}", st.txid(t), o - outs.start));
            if let Some((t2, _)) = st.out_spender(OutId(o)) {
                if carriers.contains(&t2.0) {
                    stack.push(t2);
                }
            }
        }
    }
    seen
}

/// How a trace did.
#[derive(Debug, Clone, Serialize)]
pub struct Score {
    /// Policy name.
    pub policy: String,
    /// CoinJoin mode.
    pub coinjoin: String,
    /// Cash-outs in the truth.
    pub cashouts: usize,
    /// Of them, reachable on chain.
    pub connected: usize,
    /// Cash-outs found (arrivals at that coin), of all and of the
    /// connected ones.
    pub found: usize,
    /// Connected cash-outs found.
    pub found_connected: usize,
    /// found / cashouts.
    pub recall_all: f64,
    /// found_connected / connected.
    pub recall_connected: f64,
    /// Stolen amount found at the cash-outs (each capped at its truth),
    /// over the truth's amount: all, connected.
    pub amount_recall_all: f64,
    /// Same over connected cash-outs.
    pub amount_recall_connected: f64,
    /// Deposit addresses of the connected cash-outs, and how many of them
    /// the trace found (an exchange freezes the account behind one).
    pub deposit_addresses: usize,
    /// Of them, found.
    pub addresses_found: usize,
    /// Connected cash-outs not found, `txid:vout`.
    pub missed: Vec<String>,
    /// Exchanges the trace named with the amount it put there.
    pub exchanges_named: Vec<(String, u64)>,
    /// Exchanges named that received no cash-out, and cash-outs found at
    /// another exchange than the truth's.
    pub wrong_exchanges: Vec<String>,
    /// Arrivals at exchanges that are no cash-out: count and amount.
    pub false_deposits: usize,
    /// Their tainted amount.
    pub false_deposit_sat: u64,
    /// Arrivals at exchanges after a CoinJoin left as possible (not
    /// asserted), and how many of them are cash-outs.
    pub possible: usize,
    /// Of them, cash-outs.
    pub possible_cashouts: usize,
    /// Cash-outs (of all, the mixer's included) among the other deposits
    /// of the asserted deposit addresses (the same accounts): leads.
    pub account_leads: usize,
    /// Value the trace ended at mixers.
    pub at_mixers_sat: u64,
    /// Transactions expanded.
    pub txs_expanded: usize,
    /// Seconds the trace took.
    pub seconds: f64,
}

/// Scores `t` against the expected cash-outs.
pub fn score(t: &Trace, expected: &[Expected], seconds: f64) -> Score {
    let by_coin: HashMap<&str, &Expected> = expected.iter().map(|e| (e.coin.as_str(), e)).collect();
    let truth_exchanges: HashSet<String> =
        expected.iter().map(|e| e.exchange.to_lowercase()).collect();
    let mut found: HashMap<&str, u64> = HashMap::new();
    let mut wrong: Vec<String> = Vec::new();
    let (mut false_n, mut false_sat, mut at_mixers) = (0usize, 0u64, 0u64);
    let mut named = Vec::new();
    for e in &t.entities {
        match e.category {
            Category::Mixer => at_mixers = at_mixers.saturating_add(e.amount_sat),
            Category::Exchange => {
                named.push((e.name.clone(), e.amount_sat));
                if !truth_exchanges.contains(&e.name.to_lowercase()) {
                    wrong.push(format!("{} (no cash-out there)", e.name));
                }
                for a in &e.addresses {
                    for c in &a.coins {
                        let coin = format!("{}:{}", c.txid, c.vout);
                        match by_coin.get_key_value(coin.as_str()) {
                            Some((&k, x)) => {
                                if !x.exchange.eq_ignore_ascii_case(&e.name) {
                                    wrong.push(format!(
                                        "{coin} at {} (truth: {})",
                                        e.name, x.exchange
                                    ));
                                }
                                let f = found.entry(k).or_default();
                                *f = f.saturating_add(c.tainted_sat);
                            }
                            None => {
                                false_n += 1;
                                false_sat = false_sat.saturating_add(c.tainted_sat);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let (mut possible, mut possible_cashouts) = (0usize, 0usize);
    for e in t
        .possible
        .iter()
        .filter(|e| e.category == Category::Exchange)
    {
        for c in e.addresses.iter().flat_map(|a| &a.coins) {
            possible += 1;
            if by_coin.contains_key(format!("{}:{}", c.txid, c.vout).as_str()) {
                possible_cashouts += 1;
            }
        }
    }
    let leads: HashSet<String> = t
        .entities
        .iter()
        .filter(|e| e.category == Category::Exchange)
        .flat_map(|e| e.addresses.iter().flat_map(|a| &a.other_deposits))
        .map(|c| format!("{}:{}", c.txid, c.vout))
        .filter(|c| by_coin.contains_key(c.as_str()) && !found.contains_key(c.as_str()))
        .collect();
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let connected = expected.iter().filter(|e| e.connected).count();
    let hit = |e: &&Expected| found.contains_key(e.coin.as_str());
    let got = |e: &Expected| {
        found
            .get(e.coin.as_str())
            .copied()
            .unwrap_or(0)
            .min(e.stolen_sat) as f64
    };
    let sum = |it: &mut dyn Iterator<Item = &Expected>| -> (f64, f64) {
        it.fold((0.0, 0.0), |(g, s), e| {
            (g + got(e), s + e.stolen_sat as f64)
        })
    };
    let (g_all, s_all) = sum(&mut expected.iter());
    let (g_con, s_con) = sum(&mut expected.iter().filter(|e| e.connected));
    let found_all = expected.iter().filter(hit).count();
    let found_connected = expected.iter().filter(|e| e.connected).filter(hit).count();
    let arrived_at: HashSet<(String, String)> = t
        .entities
        .iter()
        .filter(|e| e.category == Category::Exchange)
        .flat_map(|e| {
            e.addresses
                .iter()
                .map(move |a| (e.name.to_lowercase(), a.address.clone()))
        })
        .collect();
    let addrs: HashSet<(String, String)> = expected
        .iter()
        .filter(|e| e.connected)
        .map(|e| (e.exchange.to_lowercase(), e.address.clone()))
        .collect();
    Score {
        policy: t.policy.name().into(),
        coinjoin: t.coinjoin.name().into(),
        cashouts: expected.len(),
        connected,
        found: found_all,
        found_connected,
        recall_all: ratio(found_all as f64, expected.len() as f64),
        recall_connected: ratio(found_connected as f64, connected as f64),
        amount_recall_all: ratio(g_all, s_all),
        amount_recall_connected: ratio(g_con, s_con),
        deposit_addresses: addrs.len(),
        addresses_found: addrs.intersection(&arrived_at).count(),
        missed: expected
            .iter()
            .filter(|e| e.connected && !found.contains_key(e.coin.as_str()))
            .map(|e| e.coin.clone())
            .collect(),
        possible,
        possible_cashouts,
        account_leads: leads.len(),
        exchanges_named: named,
        wrong_exchanges: wrong,
        false_deposits: false_n,
        false_deposit_sat: false_sat,
        at_mixers_sat: at_mixers,
        txs_expanded: t.txs_expanded,
        seconds,
    }
}
