//! `chainhound miners`, `scan --pools` and `block --pools` end to end on
//! mainnet 0..4312: the index path and the scan path name the same miners,
//! a pool list's tags and addresses show up as pools, and a bad pool list is
//! an error (exit 2) that names the file.

use chainhound_testdata::shared;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};

fn pools_v2() -> String {
    shared("pools/mempool/pools-v2.json")
        .to_str()
        .unwrap()
        .to_string()
}

fn blocks() -> String {
    shared("blocks/mainnet_h0-4312.dat")
        .to_str()
        .unwrap()
        .to_string()
}

fn run(index: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chainhound"))
        .env_remove("CHAINHOUND_POOLS")
        .arg("--index")
        .arg(index)
        .args(args)
        .output()
        .unwrap()
}

fn json(o: &Output) -> Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn index() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let r = json(&run(t.path(), &["ingest", "--blocks", &blocks(), "--json"]));
    assert_eq!(r["blocks_added"], 4313);
    t
}

#[test]
fn scan_and_miners_name_the_same_miners() {
    let t = index();
    let ix = t.path();
    let scan = json(&run(
        ix,
        &["scan", &blocks(), "--pools", &pools_v2(), "--json"],
    ));
    let scan = scan.as_array().unwrap();
    assert_eq!(scan.len(), 4313);
    let mut per_name: HashMap<String, u64> = HashMap::new();
    for b in scan {
        let m = &b["miner"];
        assert_eq!(m["known"], false, "{b}");
        assert_eq!(m["payout"], b["payout_addresses"][0], "{b}");
        *per_name
            .entry(m["name"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert!(scan[0]["miner"]["unknown_tag"]
        .as_str()
        .unwrap()
        .starts_with("The Times 03/Jan/2009"));

    let m = json(&run(ix, &["miners", "--pools", &pools_v2(), "--json"]));
    assert_eq!(
        (m["from"].as_u64(), m["to"].as_u64()),
        (Some(0), Some(4312))
    );
    assert_eq!(
        (m["blocks"].as_u64(), m["known_blocks"].as_u64()),
        (Some(4313), Some(0))
    );
    let miners = m["miners"].as_array().unwrap();
    let from_index: HashMap<String, u64> = miners
        .iter()
        .map(|x| {
            (
                x["name"].as_str().unwrap().to_string(),
                x["blocks"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(from_index, per_name);

    let text = String::from_utf8(run(ix, &["miners", "--pools", &pools_v2()]).stdout).unwrap();
    assert!(
        text.starts_with("heights     0 to 4312: 4313 blocks, 0 by listed pools"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 2 + miners.len() + 1, "{text}");

    let part = json(&run(
        ix,
        &[
            "miners",
            "--pools",
            &pools_v2(),
            "--from",
            "100",
            "--to",
            "199",
            "--json",
        ],
    ));
    assert_eq!(part["blocks"], 100);
    let capped = json(&run(
        ix,
        &[
            "miners",
            "--pools",
            &pools_v2(),
            "--from",
            "4300",
            "--to",
            "9999",
            "--json",
        ],
    ));
    assert_eq!(
        (capped["to"].as_u64(), capped["blocks"].as_u64()),
        (Some(4312), Some(13))
    );
}

#[test]
fn a_pool_list_names_pools_by_tag_and_address() {
    let t = index();
    let ix = t.path();
    // Block 9 pays 12cbQ... (P2PK, found by its key's address); the genesis
    // coinbase holds the Times headline. "(" does not compile.
    let list = serde_json::json!([
        {"id": 1, "name": "Headline", "addresses": [], "tags": ["(", "chancellor ON brink"], "link": "https://example.invalid"},
        {"id": 2, "name": "Block Nine", "addresses": ["12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"], "tags": []}
    ]);
    let file = ix.join("pools.json");
    std::fs::write(&file, list.to_string()).unwrap();
    let file = file.to_str().unwrap();

    let o = run(ix, &["miners", "--pools", file, "--json"]);
    let warn = stderr(&o);
    assert!(
        warn.contains("pools.json") && warn.contains("pool 1 (Headline): tag \"(\" ignored"),
        "{warn}"
    );
    let m = json(&o);
    assert_eq!(m["known_blocks"], 2);
    let named = |n: &str| -> Value {
        m["miners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == n)
            .unwrap()
            .clone()
    };
    let h = named("Headline");
    assert_eq!(
        (
            h["blocks"].as_u64(),
            h["first_height"].as_u64(),
            h["by_tag"].as_u64()
        ),
        (Some(1), Some(0), Some(1))
    );
    assert_eq!(h["pool_id"], 1);
    assert_eq!(
        h["payouts"][0]["address"],
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
    );
    let n = named("Block Nine");
    assert_eq!(
        (n["first_height"].as_u64(), n["by_address"].as_u64()),
        (Some(9), Some(1))
    );
    assert_eq!(n["payouts"][0]["value"], 5_000_000_000u64);

    let text = String::from_utf8(run(ix, &["block", "9", "--pools", file]).stdout).unwrap();
    assert!(
        text.contains("miner       Block Nine (address 12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S)"),
        "{text}"
    );
    assert!(
        text.contains(
            "payout      #0 50.00000000 BTC  12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S  (mining payout)"
        ),
        "{text}"
    );
    let b = json(&run(ix, &["block", "0", "--pools", file, "--json"]));
    assert_eq!(b["height"], 0);
    assert_eq!(b["miner"]["name"], "Headline");
    assert_eq!(b["miner"]["matched_tag"], "chancellor ON brink");
    // Without --pools, the block is shown as before.
    let plain = json(&run(ix, &["block", "0", "--json"]));
    assert!(plain.get("miner").is_none());
    // $CHAINHOUND_POOLS stands in for --pools.
    let env = Command::new(env!("CARGO_BIN_EXE_chainhound"))
        .env("CHAINHOUND_POOLS", file)
        .args(["--index", ix.to_str().unwrap(), "block", "0"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&env.stdout)
        .contains("miner       Headline (tag \"chancellor ON brink\")"));

    let scan = String::from_utf8(run(ix, &["scan", &blocks(), "--pools", file]).stdout).unwrap();
    let mut lines = scan.lines();
    assert!(lines.next().unwrap().ends_with("\tcoinbase\tminer"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 4313);
    assert!(
        rows[0].ends_with("\tHeadline (tag \"chancellor ON brink\")"),
        "{}",
        rows[0]
    );
    assert!(
        rows[9].ends_with("\tBlock Nine (address 12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S)"),
        "{}",
        rows[9]
    );
    assert!(rows[1].contains("\tunknown: (no tag) / 1"), "{}", rows[1]);
}

#[test]
fn bad_pool_lists_and_ranges_are_errors() {
    let t = index();
    let ix = t.path();
    let bad = ix.join("bad-pools.json");
    std::fs::write(&bad, "[{\"id\": 1,\n \"name\": 7}]").unwrap();
    let bad = bad.to_str().unwrap();
    for args in [
        vec!["miners", "--pools", bad],
        vec!["block", "0", "--pools", bad],
        vec!["scan", &blocks(), "--pools", bad],
    ] {
        let o = run(ix, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = stderr(&o);
        assert!(
            e.contains("bad-pools.json") && e.contains("line 2 column"),
            "{e}"
        );
        assert!(o.stdout.is_empty());
    }
    let missing = ix.join("no-such-pools.json");
    let o = run(ix, &["miners", "--pools", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no-such-pools.json"), "{}", stderr(&o));
    let o = run(ix, &["miners"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--pools"), "{}", stderr(&o));
    let o = run(
        ix,
        &[
            "miners",
            "--pools",
            &pools_v2(),
            "--from",
            "10",
            "--to",
            "5",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--from 10"), "{}", stderr(&o));
    let o = run(ix, &["miners", "--pools", &pools_v2(), "--from", "4313"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("4313"), "{}", stderr(&o));
}
