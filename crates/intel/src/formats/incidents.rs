//! Incident CSVs: hacks and thefts with their on-chain identifiers
//! (`incidents/hacks.csv`: `incident,date,date_basis,chain,id_type,
//! identifier,role,dprk_attribution,source_repo,source_path,...,
//! original_source,syntax_ok`).
//!
//! Owns mapping a row to a label. The `role` column decides the category:
//! - a role naming a `victim` (the hacked service's own wallet, such as
//!   "victim: Bybit Cold Wallet 1 (Safe)") is [`Category::Exchange`]: in
//!   these files the victims are hacked custodial services, and funds
//!   coming from their own wallets are no risk;
//! - a role naming an `Other address in PDF` (addresses a forfeiture
//!   complaint lists without calling them theft, as in the LuBian / Chen
//!   Zhi rows) is [`Category::Scam`] (GraphSense `money_laundering`):
//!   alleged fraud proceeds, not a theft;
//! - every other role (attacker, theft, hacker, exploiter, sweep, malicious
//!   contract or transaction, laundering or cash-out address, sanctioned
//!   launderer, funds held) is [`Category::StolenFunds`].
//!
//! The entity is the incident; tags hold the concept (`hacking`,
//! `money_laundering`, `victim`), `DPRK` when `dprk_attribution` is set,
//! and the role text. The source is `original_source` when it is a URL,
//! else the repository file it was taken from (with `original_source`'s
//! note). Confidence is 50 (`forensic`), 60 (`authority_data`) for rows
//! whose source is OFAC. A date range `A..B` is dated `A`. A row marked
//! `syntax_ok=0` (its identifier failed the chain's syntax check when the
//! file was built) is invalid.
//!
//! Must not: look identifiers up anywhere or follow the URLs.

use super::{asset_mismatch, decode_text, is_date, problem_in, CsvRecords};
use crate::label::{normalize_chain, Category, Confidence, Label, Parsed, Problem, Subject};

/// GraphSense's `forensic`: curated from public investigations.
const FORENSIC: Confidence = Confidence(50);
/// GraphSense's `authority_data`: rows taken from OFAC's list.
const AUTHORITY: Confidence = Confidence(60);

/// Whether a CSV header (keys as [`super::detect`] makes them) is an
/// incident file's: `incident`, `id_type` and `identifier`.
pub fn is_incidents_header(header: &[String]) -> bool {
    let has = |k: &str| header.iter().any(|h| h == k);
    has("incident") && has("id_type") && has("identifier")
}

/// The category and GraphSense concept of an incident role (see the module
/// doc).
pub fn role_category(role: &str) -> (Category, &'static str) {
    let r = role.to_ascii_lowercase();
    if r.contains("victim") {
        (Category::Exchange, "victim")
    } else if r.contains("other address in pdf") {
        (Category::Scam, "money_laundering")
    } else if r.contains("launder") || r.contains("cash-out") || r.contains("cash out") {
        (Category::StolenFunds, "money_laundering")
    } else {
        (Category::StolenFunds, "hacking")
    }
}

/// Reads an incident CSV. Err when the header lacks `incident`, `chain`,
/// `id_type` or `identifier`.
pub fn read_incidents(file: &str, bytes: &[u8]) -> Result<Parsed, Problem> {
    let problem = problem_in(file);
    let text = decode_text(bytes);
    let mut records = CsvRecords::new(&text, b',');
    let cols = records.columns(file)?;
    let missing: Vec<&str> = ["incident", "chain", "id_type", "identifier"]
        .into_iter()
        .filter(|c| !cols.has(c))
        .collect();
    if !missing.is_empty() {
        return Err(problem(
            1,
            format!("incident CSV header lacks {}", missing.join(", ")),
        ));
    }
    let mut parsed = Parsed::default();
    while let Some((line, record)) = records.next_record(file, &mut parsed.invalid) {
        let get = |c: &str| cols.get(record, c);
        let (incident, identifier, id_type) = (get("incident"), get("identifier"), get("id_type"));
        if incident.is_empty() {
            parsed
                .invalid
                .push(problem(line, "no incident name".into()));
            continue;
        }
        let Some(chain) = normalize_chain(get("chain")) else {
            parsed.invalid.push(problem(line, "no chain".into()));
            continue;
        };
        if get("syntax_ok") == "0" {
            parsed.invalid.push(problem(
                line,
                format!("{identifier}: marked syntax_ok=0 (fails the syntax check of {chain})"),
            ));
            continue;
        }
        let subject = match id_type.to_ascii_lowercase().as_str() {
            "address" if !identifier.is_empty() && !identifier.contains(char::is_whitespace) => {
                if let Some(m) = asset_mismatch(&chain, identifier) {
                    parsed.quirks.push(problem(line, m));
                }
                Subject::address(identifier)
            }
            "txid" | "tx" | "transaction" => match Subject::tx(identifier) {
                Some(s) => s,
                None => {
                    parsed
                        .invalid
                        .push(problem(line, format!("not a txid: {identifier:?}")));
                    continue;
                }
            },
            "address" => {
                parsed
                    .invalid
                    .push(problem(line, format!("not an address: {identifier:?}")));
                continue;
            }
            other => {
                parsed.invalid.push(problem(
                    line,
                    format!("unknown id_type {other:?} (address or txid)"),
                ));
                continue;
            }
        };
        let role = get("role");
        let (category, concept) = role_category(role);
        let mut tags = vec![concept.to_string()];
        if !get("dprk_attribution").is_empty() {
            tags.push("DPRK".into());
        }
        if !role.is_empty() {
            tags.push(role.replace(',', ";"));
        }
        let original = get("original_source");
        let repo_file = match (get("source_repo"), get("source_path")) {
            ("", _) => String::new(),
            (repo, "") => repo.to_string(),
            (repo, path) => format!("{repo}:{path}"),
        };
        let is_url = original.starts_with("http://") || original.starts_with("https://");
        let source = if is_url || repo_file.is_empty() {
            original.to_string()
        } else if original.is_empty() {
            repo_file
        } else {
            format!("{original} (via {repo_file})")
        };
        let confidence = if original.starts_with("US Treasury OFAC") {
            AUTHORITY
        } else {
            FORENSIC
        };
        let raw_date = get("date");
        let start = raw_date.split("..").next().unwrap_or("").trim();
        let date = if is_date(start) {
            Some(start.to_string())
        } else {
            if !raw_date.is_empty() {
                parsed.quirks.push(problem(
                    line,
                    format!("date {raw_date:?} is not YYYY-MM-DD; left out"),
                ));
            }
            None
        };
        parsed.labels.push(Label {
            chain,
            subject,
            entity: incident.to_string(),
            category,
            tags: tags.join(", "),
            source,
            date,
            confidence,
            origin: format!("{file}:{line}"),
        });
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles() {
        assert_eq!(
            role_category("victim: Bybit Cold Wallet 1 (Safe)").0,
            Category::Exchange
        );
        assert_eq!(
            role_category("attacker/theft address (label: Bitfinex hack)").0,
            Category::StolenFunds
        );
        assert_eq!(
            role_category("Hong Kong broker cash-out address (MSMT report Annex 6, quoted)"),
            (Category::StolenFunds, "money_laundering")
        );
        assert_eq!(
            role_category("cluster address (Other address in PDF)").0,
            Category::Scam
        );
    }

    #[test]
    fn rows() {
        let csv = "incident,date,chain,id_type,identifier,role,dprk_attribution,source_repo,source_path,original_source,syntax_ok\n\
                   Hack,2018-04-07..2018-07-29,BTC,address,1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa,theft,DPRK (FBI),r,p,https://x,1\n\
                   Hack,,ETH,txid,0x46deef0f52e3a983b67abf4714448a41dd7ffd6d32d32da69d62081c68ad7882,\"malicious, tx\",,r,p,,1\n\
                   Hack,,BTC,address,1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa,theft,,r,p,,0\n\
                   Hack,,BTC,txid,abc,theft,,r,p,,1\n\
                   Hack,,BTC,label,x,theft,,r,p,,1\n";
        let p = read_incidents("h.csv", csv.as_bytes()).unwrap();
        assert_eq!(p.labels.len(), 2);
        let l = &p.labels[0];
        assert_eq!(l.date.as_deref(), Some("2018-04-07"));
        assert_eq!(l.tags, "hacking, DPRK, theft");
        assert_eq!(l.source, "https://x");
        assert_eq!(
            p.labels[1].subject,
            Subject::Tx("46deef0f52e3a983b67abf4714448a41dd7ffd6d32d32da69d62081c68ad7882".into())
        );
        assert_eq!(p.labels[1].source, "r:p");
        assert_eq!(p.labels[1].tags, "hacking, malicious; tx");
        let lines: Vec<u64> = p.invalid.iter().map(|q| q.line).collect();
        assert_eq!(lines, vec![4, 5, 6]);
    }
}
