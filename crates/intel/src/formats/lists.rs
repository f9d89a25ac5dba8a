//! Sanctioned address lists without OFAC's own layout: per-asset lists
//! (0xB10C's and sambacha's `sanctioned_addresses_<ASSET>.txt`, one address
//! a line, or `.json`, an array of strings) and merged address CSVs with a
//! header (`asset,address,...,sdn_uid,entity,programs,...`, like
//! `ofac_sdn_digital_currency_addresses.csv`).
//!
//! Owns turning each listed address into a [`Category::Sanctions`] label of
//! confidence 60 (`authority_data`), with the quirks of such lists: an
//! address that does not fit its asset, one address under several assets
//! or entities, duplicates, and letter case the source lost
//! (`case_status` `CASE_UNKNOWN`).
//!
//! Must not: read OFAC's SDN files (see [`super::ofac`]) or recognise
//! formats (see [`super::detect`]).

use super::{asset_mismatch, date_in_name, decode_text, is_date, problem_in, CsvRecords, Seen};
use crate::label::{normalize_chain, Category, Confidence, Label, Parsed, Problem, Subject};
use std::path::Path;

/// GraphSense's `authority_data`: these lists copy OFAC's.
const AUTHORITY: Confidence = Confidence(60);

/// The entity of addresses from a per-asset list, which names none.
pub const LIST_ENTITY: &str = "OFAC SDN (list)";

/// Whether a text is one address-like token a line (at most the first 200
/// lines are looked at).
pub fn looks_like_txt_list(text: &str) -> bool {
    let mut any = false;
    for line in text.lines().take(200) {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let token = (20..=128).contains(&t.len())
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'));
        if !token {
            return false;
        }
        any = true;
    }
    any
}

/// Whether a CSV header (keys as [`super::detect`] makes them) is a merged
/// address CSV's: `asset`, `address`, and `sdn_uid` or `entity`.
pub fn is_address_csv_header(header: &[String]) -> bool {
    let has = |k: &str| header.iter().any(|h| h == k);
    has("asset") && has("address") && (has("sdn_uid") || has("entity"))
}

/// Reads a per-asset list of `asset` (`XBT`, from the file name): a JSON
/// array of strings when it starts with `[`, else one address a line.
/// Err when the JSON is broken or the asset is empty.
pub fn read_asset_list(file: &str, asset: &str, bytes: &[u8]) -> Result<Parsed, Problem> {
    let problem = problem_in(file);
    let asset = asset.trim().to_ascii_uppercase();
    let Some(chain) = normalize_chain(&asset) else {
        return Err(problem(
            0,
            "the file name does not tell the asset (sanctioned_addresses_<ASSET>.txt)".into(),
        ));
    };
    let text = decode_text(bytes);
    let mut parsed = Parsed::default();
    let mut entries: Vec<(u64, String)> = Vec::new();
    if text.trim_start().starts_with('[') {
        let values: Vec<serde_json::Value> = serde_json::from_str(&text)
            .map_err(|e| problem(e.line() as u64, format!("not a JSON array of strings: {e}")))?;
        let lines = json_element_lines(&text);
        for (i, v) in values.into_iter().enumerate() {
            let line = lines.get(i).copied().unwrap_or(0);
            match v {
                serde_json::Value::String(s) => entries.push((line, s)),
                other => parsed.invalid.push(problem(
                    line,
                    format!("not an address string: {}", truncate(&other.to_string())),
                )),
            }
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            entries.push((i as u64 + 1, line.to_string()));
        }
    }

    let name = Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(file);
    let date = date_in_name(file);
    let mut seen = Seen::default();
    for (line, raw) in entries {
        let address = raw.trim();
        if address.is_empty() {
            continue;
        }
        if address.contains(|c: char| c.is_whitespace() || c == ',' || c == ';') {
            parsed.invalid.push(problem(
                line,
                format!("not one address: {:?}", truncate(address)),
            ));
            continue;
        }
        if let Some(m) = asset_mismatch(&asset, address) {
            parsed.quirks.push(problem(line, m));
        }
        let subject = Subject::address(address);
        let noted = seen.note(subject.id(), &asset, LIST_ENTITY, file, line);
        for q in noted.quirks {
            parsed.quirks.push(problem(line, q));
        }
        if noted.duplicate {
            continue;
        }
        parsed.labels.push(Label {
            chain: chain.clone(),
            subject,
            entity: LIST_ENTITY.into(),
            category: Category::Sanctions,
            tags: String::new(),
            source: format!("OFAC SDN (list {name})"),
            date: date.clone(),
            confidence: AUTHORITY,
            origin: format!("{file}:{line}"),
        });
    }
    Ok(parsed)
}

/// Reads a merged address CSV: a header naming at least `asset` and
/// `address`; `sdn_uid`, `entity`, `programs` (`;`-separated), `date` and
/// `case_status` are used when present. Err when the header lacks `asset`
/// or `address`.
pub fn read_address_csv(file: &str, bytes: &[u8]) -> Result<Parsed, Problem> {
    let problem = problem_in(file);
    let text = decode_text(bytes);
    let mut records = CsvRecords::new(&text, b',');
    let cols = records.columns(file)?;
    if !(cols.has("asset") && cols.has("address")) {
        return Err(problem(
            1,
            "header lacks the asset and address columns of an OFAC address CSV".into(),
        ));
    }
    let file_date = date_in_name(file);
    let mut parsed = Parsed::default();
    let mut seen = Seen::default();
    while let Some((line, record)) = records.next_record(file, &mut parsed.invalid) {
        let asset = cols.get(record, "asset").to_ascii_uppercase();
        let address = cols.get(record, "address");
        let Some(chain) = normalize_chain(&asset) else {
            parsed.invalid.push(problem(line, "no asset".into()));
            continue;
        };
        if address.is_empty() || address.contains(char::is_whitespace) {
            parsed.invalid.push(problem(
                line,
                format!("not one address: {:?}", truncate(address)),
            ));
            continue;
        }
        let uid = cols.get(record, "sdn_uid");
        let entity = match (cols.get(record, "entity"), uid) {
            ("", "") => LIST_ENTITY.to_string(),
            ("", uid) => format!("OFAC SDN uid {uid}"),
            (name, _) => name.to_string(),
        };
        if cols
            .get(record, "case_status")
            .eq_ignore_ascii_case("case_unknown")
        {
            parsed.quirks.push(problem(
                line,
                format!(
                    "{address}: letter case unknown (the source lower-cased it), \
                     so it may not match the chain"
                ),
            ));
        }
        if let Some(m) = asset_mismatch(&asset, address) {
            parsed.quirks.push(problem(line, m));
        }
        let subject = Subject::address(address);
        let noted = seen.note(subject.id(), &asset, &entity, file, line);
        for q in noted.quirks {
            parsed.quirks.push(problem(line, q));
        }
        if noted.duplicate {
            continue;
        }
        let date = cols.get(record, "date");
        parsed.labels.push(Label {
            chain,
            subject,
            entity,
            category: Category::Sanctions,
            tags: cols
                .get(record, "programs")
                .split([';', ','])
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
            source: if uid.is_empty() {
                "OFAC SDN".into()
            } else {
                format!("OFAC SDN uid {uid}")
            },
            date: if is_date(date) {
                Some(date.to_string())
            } else {
                file_date.clone()
            },
            confidence: AUTHORITY,
            origin: format!("{file}:{line}"),
        });
    }
    Ok(parsed)
}

/// The line each element of a top-level JSON array starts on, in order.
/// Assumes well-formed JSON (checked before).
fn json_element_lines(text: &str) -> Vec<u64> {
    let mut lines = Vec::new();
    let (mut line, mut depth) = (1u64, 0usize);
    let (mut in_string, mut escaped, mut expect) = (false, false, false);
    for b in text.bytes() {
        if b == b'\n' {
            line += 1;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        if b.is_ascii_whitespace() {
            continue;
        }
        if depth == 1 && expect && b != b']' {
            lines.push(line);
        }
        expect = false;
        match b {
            b'[' | b'{' => {
                depth += 1;
                expect = depth == 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => expect = depth == 1,
            b'"' => in_string = true,
            _ => {}
        }
    }
    lines
}

/// At most 80 characters of a string, for messages.
fn truncate(s: &str) -> String {
    let mut t: String = s.chars().take(80).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    const BTC: &str = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa";

    #[test]
    fn json_lines() {
        assert_eq!(json_element_lines("[\n \"a\",\n \"b\"\n]"), vec![2, 3]);
        assert_eq!(
            json_element_lines("[\"a,]\", 1, {\"x\": [2]}]"),
            vec![1, 1, 1]
        );
        assert!(json_element_lines("[]").is_empty());
    }

    #[test]
    fn txt_and_json_lists() {
        let txt =
            format!("{BTC}\r\nTUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq\r\n\r\n{BTC}\r\nnot one\r\n");
        let p = read_asset_list("sanctioned_addresses_XBT.txt", "XBT", txt.as_bytes()).unwrap();
        assert_eq!(p.labels.len(), 2);
        assert_eq!(p.labels[0].chain, "BTC");
        assert_eq!(p.labels[1].origin, "sanctioned_addresses_XBT.txt:2");
        assert_eq!(p.invalid.len(), 1);
        assert_eq!(p.invalid[0].line, 5);
        let lines: Vec<u64> = p.quirks.iter().map(|q| q.line).collect();
        assert_eq!(lines, vec![2, 4]);
        let json = format!("[\n  \"{BTC}\",\n  7\n]");
        let p = read_asset_list("l.json", "XBT", json.as_bytes()).unwrap();
        assert_eq!(p.labels.len(), 1);
        assert_eq!(p.invalid[0].line, 3);
        assert!(read_asset_list("l.json", "XBT", b"[\"a\",").is_err());
    }

    #[test]
    fn merged_csv() {
        let csv = format!(
            "asset,address,sdn_uid,entity,programs,case_status\n\
             XBT,{BTC},1,\"X, Y\",CYBER2;DPRK3,\n\
             USDT,{BTC},1,\"X, Y\",CYBER2,\n\
             TRX,tlower,2,Z,,CASE_UNKNOWN\n\
             ,,,,,\n\
             ,x,,,,\n"
        );
        let p = read_address_csv("m.csv", csv.as_bytes()).unwrap();
        assert_eq!(p.labels.len(), 3);
        assert_eq!(p.labels[0].tags, "CYBER2, DPRK3");
        assert_eq!(p.labels[0].source, "OFAC SDN uid 1");
        assert_eq!(p.labels[0].entity, "X, Y");
        assert_eq!(p.invalid.len(), 1);
        assert_eq!(p.invalid[0].line, 6);
        // several assets (line 3); case unknown and not Tron-shaped (line 4)
        let lines: Vec<u64> = p.quirks.iter().map(|q| q.line).collect();
        assert_eq!(lines, vec![3, 4, 4]);
    }
}
