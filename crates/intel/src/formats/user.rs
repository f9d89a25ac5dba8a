//! Users' own label CSVs: a header naming the columns, then one label a
//! row.
//!
//! Columns (any order, any letter case; separated by `,`, `;` or tab, as
//! the header shows): `address` or `txid` (a row gives one of them),
//! `label` (the entity), `category` (a [`Category`] name such as
//! `stolen-funds`, or a GraphSense concept such as `service_hack`);
//! optional `chain` (default `BTC`), `source` (default the file's name),
//! `date` (`YYYY-MM-DD`), `confidence` (0-100 or a level name such as
//! `forensic`; default 50) and `tags`. Other columns are ignored with a
//! quirk.
//!
//! Owns checking each row strictly, since a typo here would silently label
//! nothing: an unknown category, an unreadable confidence or date, a
//! Bitcoin address that is none (on any network), a bad txid make the row
//! invalid, with its line.
//!
//! Must not: guess a category from the label's words.

use super::{
    asset_mismatch, csv_reader, decode_text, header_key, is_date, problem_in, Columns, CsvRecords,
};
use crate::label::{normalize_chain, Category, Confidence, Label, Parsed, Problem, Subject};
use chainhound_chain::address::{decode, AddressError};
use chainhound_chain::network::Network;
use std::path::Path;

/// Confidence when the file gives none: GraphSense's `forensic`.
const DEFAULT_CONFIDENCE: Confidence = Confidence(50);

/// Columns this format reads.
const KNOWN: [&str; 9] = [
    "address",
    "txid",
    "label",
    "category",
    "chain",
    "source",
    "date",
    "confidence",
    "tags",
];

/// The header of a text split by `delimiter`, as keys.
fn header(text: &str, delimiter: u8) -> Vec<String> {
    let mut reader = csv_reader(text, delimiter);
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => record.iter().map(header_key).collect(),
        _ => Vec::new(),
    }
}

fn has_required(h: &[String]) -> [bool; 3] {
    let has = |k: &str| h.iter().any(|c| c == k);
    [has("address") || has("txid"), has("label"), has("category")]
}

/// The delimiter of a user CSV (`,`, `;` or tab) whose header names
/// `address` or `txid`, `label` and `category`; `None` when the text is
/// not one.
pub fn user_delimiter(text: &str) -> Option<u8> {
    [b',', b';', b'\t']
        .into_iter()
        .find(|&d| has_required(&header(text, d)).iter().all(|&b| b))
}

/// What a header that looks meant as a user CSV (two of the three required
/// columns) lacks, in words; `None` otherwise.
pub fn missing_user_columns(text: &str) -> Option<String> {
    let names = ["address or txid", "label", "category"];
    [b',', b';', b'\t'].into_iter().find_map(|d| {
        let req = has_required(&header(text, d));
        (req.iter().filter(|&&b| b).count() == 2).then(|| {
            let missing: Vec<&str> = names
                .iter()
                .zip(req)
                .filter(|(_, b)| !b)
                .map(|(n, _)| *n)
                .collect();
            format!(
                "user label CSV header lacks the {} column (needs address or txid, label, category)",
                missing.join(", ")
            )
        })
    })
}

/// Whether a string is a Bitcoin address on some network (or a chainhound
/// address form such as `multisig-...`).
fn is_bitcoin_any_network(s: &str) -> bool {
    matches!(
        decode(s, Network::Mainnet),
        Ok(_) | Err(AddressError::WrongNetwork { .. })
    )
}

/// Reads a user CSV. Err when the header lacks a required column.
pub fn read_user_csv(file: &str, bytes: &[u8]) -> Result<Parsed, Problem> {
    let problem = problem_in(file);
    let text = decode_text(bytes);
    let Some(delimiter) = user_delimiter(&text) else {
        return Err(problem(
            1,
            missing_user_columns(&text).unwrap_or_else(|| {
                "not a user label CSV: the header needs address or txid, label, category".into()
            }),
        ));
    };
    let mut records = CsvRecords::new(&text, delimiter);
    let (cols, ignored) = match records.header() {
        Ok(Some(header)) => {
            let ignored: Vec<String> = header
                .iter()
                .map(header_key)
                .filter(|k| !k.is_empty() && !KNOWN.contains(&k.as_str()))
                .collect();
            (Columns::new(header), ignored)
        }
        _ => return Err(problem(1, "unreadable CSV header".into())),
    };
    let mut parsed = Parsed::default();
    if !ignored.is_empty() {
        parsed.quirks.push(problem(
            1,
            format!("columns ignored: {}", ignored.join(", ")),
        ));
    }
    let default_source = Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(file)
        .to_string();
    while let Some((line, record)) = records.next_record(file, &mut parsed.invalid) {
        match user_row(&cols, record) {
            Ok((mut label, quirk)) => {
                if label.source.is_empty() {
                    label.source = default_source.clone();
                }
                label.origin = format!("{file}:{line}");
                if let Some(q) = quirk {
                    parsed.quirks.push(problem(line, q));
                }
                parsed.labels.push(label);
            }
            Err(message) => parsed.invalid.push(problem(line, message)),
        }
    }
    Ok(parsed)
}

/// One row as a label (source empty when not given, origin unset) and a
/// remark, or what is wrong with it.
/// Writes labels in this format (the inverse of [`read_user_csv`]): one
/// row per label, every column, quoted by the csv crate where needed.
pub fn write_user_csv(labels: &[Label]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let row = |w: &mut csv::Writer<Vec<u8>>, f: [&str; 9]| w.write_record(f);
    // Writing to a Vec cannot fail.
    let _ = row(
        &mut w,
        [
            "chain",
            "address",
            "txid",
            "label",
            "category",
            "tags",
            "source",
            "date",
            "confidence",
        ],
    );
    for l in labels {
        let (a, t) = match &l.subject {
            Subject::Address(a) => (a.as_str(), ""),
            Subject::Tx(t) => ("", t.as_str()),
        };
        let confidence = l.confidence.0.to_string();
        let _ = row(
            &mut w,
            [
                &l.chain,
                a,
                t,
                &l.entity,
                l.category.name(),
                &l.tags,
                &l.source,
                l.date.as_deref().unwrap_or(""),
                &confidence,
            ],
        );
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

fn user_row(cols: &Columns, record: &csv::StringRecord) -> Result<(Label, Option<String>), String> {
    let get = |c: &str| cols.get(record, c);
    let chain = normalize_chain(get("chain")).unwrap_or_else(|| "BTC".into());
    let mut quirk = None;
    let subject = match (get("address"), get("txid")) {
        ("", "") => return Err("no address or txid".into()),
        (a, t) if !a.is_empty() && !t.is_empty() => {
            return Err("both address and txid: give one a row".into())
        }
        ("", t) => Subject::tx(t).ok_or_else(|| format!("not a txid (64 hex digits): {t:?}"))?,
        (a, _) => {
            if a.contains(char::is_whitespace) {
                return Err(format!("not one address: {a:?}"));
            }
            if chain == "BTC" {
                if !is_bitcoin_any_network(a) {
                    return Err(format!("not a Bitcoin address: {a:?}"));
                }
            } else {
                quirk = asset_mismatch(&chain, a);
            }
            Subject::address(a)
        }
    };
    let entity = get("label");
    if entity.is_empty() {
        return Err("no label".into());
    }
    let category: Category = match get("category") {
        "" => return Err("no category".into()),
        c => c.parse()?,
    };
    let confidence = match get("confidence") {
        "" => DEFAULT_CONFIDENCE,
        c => Confidence::parse(c).ok_or_else(|| {
            format!(
                "confidence {c:?} is neither 0-100 nor a level name (forensic, authority_data...)"
            )
        })?,
    };
    let date = match get("date") {
        "" => None,
        d if is_date(d) => Some(d.to_string()),
        d => return Err(format!("date {d:?} is not YYYY-MM-DD")),
    };
    Ok((
        Label {
            chain,
            subject,
            entity: entity.to_string(),
            category,
            tags: get("tags").to_string(),
            source: get("source").to_string(),
            date,
            confidence,
            origin: String::new(),
        },
        quirk,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_strictly() {
        let csv = "Address;Label;Category;Confidence;Date;Note\r\n\
                   1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa;Genesis;other;ownership;2009-01-03;x\r\n\
                   1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa;Bad;no-such;;;\r\n\
                   1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb;Bad;scam;;;\r\n\
                   tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx;Test;mixing_service;;;\r\n\
                   ;Nothing;scam;;;\r\n\
                   1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa;Bad;scam;101;;\r\n\
                   1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa;Bad;scam;;3 Jan 2009;\r\n\
                   1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa;Bad;;;;\r\n";
        let p = read_user_csv("mine.csv", csv.as_bytes()).unwrap();
        assert_eq!(p.labels.len(), 2);
        assert_eq!(p.labels[0].confidence, Confidence(100));
        assert_eq!(p.labels[0].source, "mine.csv");
        assert_eq!(p.labels[0].origin, "mine.csv:2");
        assert_eq!(p.labels[1].category, Category::Mixer);
        let lines: Vec<u64> = p.invalid.iter().map(|q| q.line).collect();
        assert_eq!(lines, vec![3, 4, 6, 7, 8, 9]);
        assert_eq!(p.invalid[5].message, "no category");
        assert_eq!(p.quirks.len(), 1);
        assert!(p.invalid[0].message.contains("unknown category"));
    }

    #[test]
    fn written_rows_read_back() {
        let l = |subject, entity: &str, tags: &str, date| Label {
            chain: "BTC".into(),
            subject,
            entity: entity.into(),
            category: Category::StolenFunds,
            tags: tags.into(),
            source: "https://example.invalid/a,b".into(),
            date,
            confidence: Confidence(70),
            origin: String::new(),
        };
        let labels = vec![
            l(
                Subject::address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
                "Say \"hi\", Inc.",
                "hacking,DPRK",
                Some("2016-08-02".into()),
            ),
            l(Subject::tx(&"ab".repeat(32)).unwrap(), "Heist", "", None),
        ];
        let text = write_user_csv(&labels);
        let p = read_user_csv("x.csv", text.as_bytes()).unwrap();
        assert!(p.invalid.is_empty(), "{:?}", p.invalid);
        let back: Vec<Label> = p
            .labels
            .into_iter()
            .map(|b| Label {
                origin: String::new(),
                ..b
            })
            .collect();
        assert_eq!(back, labels);
    }

    #[test]
    fn header_checks() {
        assert_eq!(user_delimiter("txid,label,category\n"), Some(b','));
        assert_eq!(user_delimiter("a\tlabel\tcategory\naddress"), None);
        assert!(
            missing_user_columns("address,label,chain\n").is_some_and(|m| m.contains("category"))
        );
        assert!(missing_user_columns("x,y\n").is_none());
    }
}
