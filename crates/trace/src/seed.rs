//! Seeds: the coins a trace starts from, found by txid, outpoint or
//! address, typed by hand or read from an incidents file.
//!
//! Owns the parsing of seed strings. A txid stands for all its outputs
//! (a heist transaction's outputs are the loot), `txid:vout` for one
//! output, an address for every coin it received.
//!
//! Must not: decide anything about the walk.

use chainhound_chain::address;
use chainhound_index::store::{OutId, Store, TxNum};
use chainhound_intel::label::{Label, Subject};

/// The coins of one seed string, or why there are none.
pub fn coins(st: &Store, s: &str) -> Result<Vec<OutId>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty seed".into());
    }
    let (id, vout) = match t.rsplit_once(':') {
        Some((id, v)) if Subject::tx(id).is_some() => {
            let v: u32 = v
                .parse()
                .map_err(|_| format!("{t}: the output index after ':' is not a number"))?;
            (id, Some(v))
        }
        _ => (t, None),
    };
    if let Some(Subject::Tx(txid)) = Subject::tx(id) {
        let parsed: chainhound_chain::Txid =
            txid.parse().map_err(|_| format!("{t}: not a txid"))?;
        let tx = st
            .find_tx(&parsed)
            .ok_or_else(|| format!("{t}: transaction not in the index"))?;
        return outputs(st, tx, vout, t);
    }
    let norm = Subject::address(t);
    let key = address::decode(norm.id(), st.network())
        .map_err(|e| format!("{t}: neither a txid, txid:vout nor an address ({e})"))?;
    let a = st
        .find_addr(&key)
        .ok_or_else(|| format!("{t}: address never paid in the index"))?;
    let mut v = Vec::new();
    let mut cur = st.addr_head(a);
    while let Some(o) = cur {
        v.push(o);
        cur = st.out_prev(o);
    }
    v.reverse();
    Ok(v)
}

fn outputs(st: &Store, tx: TxNum, vout: Option<u32>, t: &str) -> Result<Vec<OutId>, String> {
    let outs = st.tx_outputs(tx);
    match vout {
        None => Ok(outs.map(OutId).collect()),
        Some(v) if (v as u64) < outs.end - outs.start => Ok(vec![OutId(outs.start + v as u64)]),
        Some(v) => Err(format!(
            "{t}: the transaction has {} outputs, no output {v}",
            outs.end - outs.start
        )),
    }
}

/// Seeds from labels (an incidents file): the Bitcoin ones, of incidents
/// whose name contains `incident` (any case) when given.
#[derive(Debug, Default)]
pub struct FromLabels {
    /// Coins found.
    pub coins: Vec<OutId>,
    /// Subjects used, with the line they came from.
    pub used: Vec<(String, String)>,
    /// Subjects not in the index, with why.
    pub missing: Vec<(String, String)>,
    /// Incidents matched.
    pub incidents: Vec<String>,
}

/// Finds the seeds of incident labels in the index.
pub fn from_labels(st: &Store, labels: &[Label], incident: Option<&str>) -> FromLabels {
    let want = incident.map(|s| s.to_lowercase());
    let mut r = FromLabels::default();
    for l in labels {
        if l.chain != "BTC" {
            continue;
        }
        if let Some(w) = &want {
            if !l.entity.to_lowercase().contains(w.as_str()) {
                continue;
            }
        }
        if !r.incidents.contains(&l.entity) {
            r.incidents.push(l.entity.clone());
        }
        match coins(st, l.subject.id()) {
            Ok(c) => {
                r.coins.extend(c);
                r.used.push((l.subject.id().to_string(), l.origin.clone()));
            }
            Err(e) => r.missing.push((l.origin.clone(), e)),
        }
    }
    r
}
