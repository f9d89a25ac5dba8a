//! `labels` and `screen` end to end: the real OFAC files import and every
//! XBT address of the December 2025 comments file screens as sanctioned
//! (batch mode); imports are atomic; a simulated heist's cash-out screens as
//! stolen funds with its evidence path; export round-trips.

use chainhound_testdata::shared;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Output;

mod common;
use common::run;

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_str(&ok(o)).unwrap()
}

fn path(rel: &str) -> String {
    shared(rel).to_str().unwrap().to_string()
}

/// The XBT addresses of an SDN comments file, found with a plain scan of
/// its bytes for the whole marker (independent of the importer; remarks cut
/// inside the marker, continued from SDN.CSV, are not counted here).
fn xbt_addresses(file: &str) -> BTreeSet<String> {
    let bytes = std::fs::read(file).unwrap();
    let text: String = bytes.iter().map(|&b| b as char).collect();
    let mut set = BTreeSet::new();
    let mut rest = text.as_str();
    let marker = "Digital Currency Address - XBT ";
    while let Some(i) = rest.find(marker) {
        rest = &rest[i + marker.len()..];
        let a: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if a.len() >= 26 && (a.starts_with('1') || a.starts_with('3') || a.starts_with("bc1")) {
            set.insert(a);
        }
    }
    set
}

#[test]
fn every_sanctioned_xbt_address_screens_severe() {
    let t = tempfile::tempdir().unwrap();
    let ix = t.path().join("index");
    let comments = path("sanctions/moov_watchman/sdn_comments_2025-12.csv");
    let r = json(&run(&ix, &["labels", "import", &comments, "--json"]));
    assert!(r["total"].as_u64().unwrap() > 271);
    let want = xbt_addresses(&comments);
    assert_eq!(want.len(), 271, "the README's count");
    let list = t.path().join("targets.txt");
    let mut body = String::from("# every XBT address of sdn_comments_2025-12.csv\naddress\n");
    for a in &want {
        body.push_str(a);
        body.push('\n');
    }
    std::fs::write(&list, body).unwrap();
    let csv = ok(&run(&ix, &["screen", list.to_str().unwrap()]));
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (target, severity, hits) = (col("target"), col("severity"), col("hits"));
    let mut seen = BTreeSet::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        assert_eq!(f[severity], "severe", "{l}");
        assert!(f[hits].contains("sanctions:"), "{l}");
        seen.insert(f[target].to_string());
    }
    assert_eq!(seen, want);
    // The importer also reads the address whose remark starts inside a cut
    // marker (continued from SDN.CSV): 272 Bitcoin labels in all.
    let l = json(&run(
        &ix,
        &[
            "labels", "list", "--chain", "BTC", "--limit", "1000", "--json",
        ],
    ));
    let all: BTreeSet<String> = l["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["subject"]["id"].as_str().unwrap().to_string())
        .collect();
    assert!(all.is_superset(&want));
    assert!(all.contains("bc1qllmlvy5u038yvwywu803p53g8udcm8w7k4qxu9"));
    assert_eq!(all.len(), 272);
    // A clean address (the genesis coinbase's) is not flagged.
    let o = json(&run(
        &ix,
        &["screen", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "--json"],
    ));
    assert_eq!(o["severity"], Value::Null);
}

#[test]
fn sdn_csv_with_comments_joins_names() {
    let t = tempfile::tempdir().unwrap();
    let ix = t.path().join("index");
    let r = json(&run(
        &ix,
        &[
            "labels",
            "import",
            &path("sanctions/moov_watchman/sdn_tiny_excerpt_2025-05.csv"),
            &path("sanctions/moov_watchman/sdn_comments_tiny_excerpt_2025-05.csv"),
            "--json",
        ],
    ));
    assert!(r["total"].as_u64().unwrap() > 0);
    let l = json(&run(&ix, &["labels", "list", "--entity", "suex", "--json"]));
    let labels = l["labels"].as_array().unwrap();
    assert!(!labels.is_empty(), "SUEX's addresses carry its name");
    assert!(labels.iter().all(|x| x["category"] == "sanctions"));
}

#[test]
fn imports_are_atomic_and_name_the_bad_line() {
    let t = tempfile::tempdir().unwrap();
    let ix = t.path().join("index");
    let good = path("sanctions/0xB10C_lists/sanctioned_addresses_XBT.txt");
    ok(&run(&ix, &["labels", "import", &good]));
    let before = ok(&run(&ix, &["labels", "list"]));
    let bad = t.path().join("mine.csv");
    std::fs::write(
        &bad,
        "address,label,category\n1BoatSLRHtKNngkdXEeobR76b53LETtpyT,Boat,exchange\n1dice8EMZmqKvrGE4Qc9bUFf9PX3xaYDp,Dice,casino-ish\n",
    )
    .unwrap();
    let o = run(&ix, &["labels", "import", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("mine.csv:3"), "{err}");
    assert_eq!(
        ok(&run(&ix, &["labels", "list"])),
        before,
        "nothing changed"
    );
    let r = json(&run(
        &ix,
        &[
            "labels",
            "import",
            bad.to_str().unwrap(),
            "--skip-invalid",
            "--json",
        ],
    ));
    assert_eq!(r["files"][0]["labels"], 1);
    assert_eq!(r["files"][0]["skipped"][0]["line"], 3);
    // Garbage is not a label file.
    let junk = t.path().join("junk.bin");
    std::fs::write(&junk, [0u8, 159, 146, 150, 7, 0, 1]).unwrap();
    let o = run(&ix, &["labels", "import", junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("junk.bin"));
    // Removal by file name.
    ok(&run(&ix, &["labels", "remove", "mine.csv"]));
    assert_eq!(ok(&run(&ix, &["labels", "list"])), before);
}

#[test]
fn simulated_cashout_screens_as_stolen_with_its_path() {
    let t = tempfile::tempdir().unwrap();
    let node = t.path().join("node");
    let ix = t.path().join("index");
    ok(&run(
        &ix,
        &[
            "simulate",
            "--out",
            node.to_str().unwrap(),
            "--seed",
            "5",
            "--blocks",
            "400",
            "--txs",
            "4000",
            "--quiet",
        ],
    ));
    ok(&run(
        &ix,
        &["ingest", "--datadir", node.to_str().unwrap(), "--quiet"],
    ));
    // The incident: the heist transaction, as an investigator files it.
    let txs = std::fs::read_to_string(node.join("truth/txs.csv")).unwrap();
    let hdr: Vec<&str> = txs.lines().next().unwrap().split(',').collect();
    let (ti, ki) = (
        hdr.iter().position(|h| *h == "txid").unwrap(),
        hdr.iter().position(|h| *h == "kind").unwrap(),
    );
    let heist = txs
        .lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| f[ki] == "heist")
        .unwrap()[ti]
        .to_string();
    let incident = t.path().join("incident.csv");
    std::fs::write(
        &incident,
        format!("txid,label,category,source\n{heist},Harbor Exchange heist,stolen-funds,case 1\n"),
    )
    .unwrap();
    ok(&run(&ix, &["labels", "import", incident.to_str().unwrap()]));
    let cash = std::fs::read_to_string(node.join("truth/cashouts.csv")).unwrap();
    let cashout = cash
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let s = json(&run(
        &ix,
        &[
            "screen",
            &cashout,
            "--hops",
            "64",
            "--min-share",
            "0",
            "--json",
        ],
    ));
    let f = s["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["category"] == "stolen-funds")
        .expect("the cash-out is exposed to the heist");
    let path = f["path"].as_array().unwrap();
    assert_eq!(path[0]["txid"], heist.as_str());
    assert_eq!(path.last().unwrap()["txid"], cashout.as_str());
    assert!(s["severity"] != Value::Null);
    // The text form names the rule and the path.
    let text = ok(&run(&ix, &["screen", &cashout, "--hops", "64"]));
    assert!(text.contains("stolen-funds"), "{text}");
    assert!(text.contains(&format!("from {heist}")), "{text}");
    // Batch: a bad line is reported with its line, the rest screened.
    let batch = t.path().join("batch.txt");
    std::fs::write(&batch, format!("{cashout}\nnot-an-address\n{heist}\n")).unwrap();
    let o = run(
        &ix,
        &["screen", batch.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(1), "a partly failed batch");
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("batch.txt:2"));
    // Upper-case bech32 (as QR codes write it) is the same address.
    let deposit = cash.lines().nth(1).unwrap().split(',').nth(2).unwrap();
    if deposit.starts_with("bcrt1") {
        let a = json(&run(&ix, &["screen", deposit, "--json"]));
        let b = json(&run(&ix, &["screen", &deposit.to_uppercase(), "--json"]));
        assert_eq!(a["value_sat"], b["value_sat"]);
        assert_eq!(b["in_index"], true);
    }
    // A `0x` txid, as some explorers print them, is the same transaction.
    let ox = json(&run(&ix, &["screen", &format!("0x{cashout}"), "--json"]));
    assert_eq!(ox["target"], cashout.as_str());
    assert_eq!(ox["in_index"], true);
    // No hops, a folder, a missing file: clear errors.
    for args in [
        vec!["screen", cashout.as_str(), "--hops", "0"],
        vec!["screen", t.path().to_str().unwrap()],
        vec!["screen", "nowhere/targets.txt"],
    ] {
        assert_eq!(run(&ix, &args).status.code(), Some(2), "{args:?}");
    }
    // Export and re-import: the same labels.
    let out = t.path().join("export.csv");
    ok(&run(
        &ix,
        &[
            "labels",
            "export",
            "--format",
            "csv",
            "-o",
            out.to_str().unwrap(),
        ],
    ));
    let ix2 = t.path().join("index2");
    let r = json(&run(
        &ix2,
        &["labels", "import", out.to_str().unwrap(), "--json"],
    ));
    assert_eq!(r["total"], 1);
    let yaml = t.path().join("export.yaml");
    ok(&run(
        &ix,
        &["labels", "export", "-o", yaml.to_str().unwrap()],
    ));
    let r = json(&run(
        &ix2,
        &["labels", "import", yaml.to_str().unwrap(), "--json"],
    ));
    assert_eq!(r["total"], 2);
}

#[test]
fn tagpack_and_incident_labels_hit_with_a_confidence_floor() {
    let t = tempfile::tempdir().unwrap();
    let ix = t.path().join("index");
    ok(&run(
        &ix,
        &[
            "labels",
            "import",
            &path("tagpacks/packs/hacks.yaml"),
            &path("incidents/hacks_full.csv"),
        ],
    ));
    // A Bitfinex 2016 theft address: in GraphSense's hacks pack (web_crawl,
    // 20) and in the curated incidents file (50).
    let a = "1LY2Y3mL64bxPJmzEa1e6hwK42ojfXnQ5E";
    let hits = |extra: &[&str]| {
        let mut args = vec!["screen", a, "--json"];
        args.extend_from_slice(extra);
        json(&run(&ix, &args))
    };
    let all = hits(&[]);
    assert_eq!(all["severity"], "severe");
    let files: BTreeSet<String> = all["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            h["label"]["origin"]
                .as_str()
                .unwrap()
                .split(':')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        files,
        BTreeSet::from([
            "packs/hacks.yaml".to_string(),
            "incidents/hacks_full.csv".to_string()
        ])
    );
    let some = hits(&["--min-confidence", "30"]);
    assert_eq!(some["hits"].as_array().unwrap().len(), 1);
    assert!(some["hits"][0]["label"]["origin"]
        .as_str()
        .unwrap()
        .starts_with("incidents/hacks_full.csv:"));
    let none = hits(&["--min-confidence", "90"]);
    assert_eq!(none["severity"], Value::Null);
}
