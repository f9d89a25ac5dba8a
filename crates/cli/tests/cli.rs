//! The `chainhound` binary end to end: every query with `--json`, exit
//! codes, and errors that name what is wrong.

use chainhound_testdata::shared;
use std::process::{Command, Output};

mod common;
use common::run;

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn mainnet_index() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let f = shared("blocks/mainnet_h0-4312.dat");
    let o = run(
        t.path(),
        &["ingest", "--blocks", f.to_str().unwrap(), "--json"],
    );
    let r = json(&o);
    assert_eq!(r["blocks_added"], 4313);
    assert_eq!(
        r["tip_hash"],
        "00000000a9da635727dce622d78361b153ce3334e6a60d4377fad529abfc7863"
    );
    t
}

#[test]
fn queries_answer_in_json_and_text() {
    let t = mainnet_index();
    let ix = t.path();
    let b = json(&run(ix, &["block", "170", "--json"]));
    assert_eq!(b["tx_count"], 2);
    let tx = json(&run(
        ix,
        &[
            "tx",
            "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16",
            "--json",
        ],
    ));
    assert_eq!(tx["fee"], 0);
    assert_eq!(
        tx["inputs"][0]["address"],
        "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"
    );
    assert_eq!(tx["outputs"][1]["spent_by"]["height"], 181);
    let a = json(&run(
        ix,
        &["address", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "--json"],
    ));
    assert_eq!(a["balance"], 5_000_000_000u64);
    assert_eq!(a["script_types"][0], "p2pk");
    let s = json(&run(ix, &["stats", "--json"]));
    assert_eq!(s["txs"], 4371);
    assert_eq!(s["inputs"], 4560);
    let text = String::from_utf8(
        run(
            ix,
            &[
                "address",
                "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S",
                "--limit",
                "2",
            ],
        )
        .stdout,
    )
    .unwrap();
    assert!(text.contains("history     1 to 2 of"), "{text}");
    let hash = run(
        ix,
        &[
            "block",
            "00000000c937983704a73af28acdec37b049d214adbda81d7e2a3dd146f6ed09",
        ],
    );
    assert!(String::from_utf8(hash.stdout)
        .unwrap()
        .starts_with("block       1000 "));
}

#[test]
fn not_found_is_exit_1_and_bad_input_is_exit_2_with_a_reason() {
    let t = mainnet_index();
    let ix = t.path();
    let o = run(ix, &["tx", &"ab".repeat(32)]);
    assert_eq!(o.status.code(), Some(1));
    let o = run(
        ix,
        &["address", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"],
    );
    assert_eq!(o.status.code(), Some(1), "a valid address never seen");
    let o = run(
        ix,
        &["address", "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("testnet/signet address"));
    let o = run(ix, &["block", "99999"]);
    assert_eq!(o.status.code(), Some(1));
    let o = run(ix, &["tx", "nothex"]);
    assert_eq!(o.status.code(), Some(2));
    let empty = tempfile::tempdir().unwrap();
    let o = run(empty.path(), &["stats"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("run `chainhound ingest` first"));
    let o = run(empty.path(), &["ingest", "--datadir", "/nonexistent/node"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/node/blocks"));
}

#[test]
fn scan_prints_per_block_figures_and_names_damage() {
    let t = tempfile::tempdir().unwrap();
    let o = run(
        t.path(),
        &[
            "scan",
            shared("blocks/mainnet_sample_blocks.dat").to_str().unwrap(),
            "--json",
        ],
    );
    let v = json(&o);
    let blocks = v.as_array().unwrap();
    assert_eq!(blocks.len(), 25);
    let taproot = blocks.iter().find(|b| b["height"] == 713126).unwrap();
    assert_eq!(taproot["taproot_outputs"], 24);
    assert_eq!(taproot["segwit_txs"], 2464);
    // Damage: the file cut in the middle of its last block.
    let data = std::fs::read(shared("blocks/testnet_signet_sample_blocks.dat")).unwrap();
    let cut = t.path().join("cut.dat");
    std::fs::write(&cut, &data[..data.len() - 1000]).unwrap();
    let o = run(t.path(), &["scan", cut.to_str().unwrap()]);
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text.lines().count(), 1 + 15, "header + every intact block");
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(
        err.contains("cut.dat: offset") && err.contains("only"),
        "{err}"
    );
}

#[test]
fn demo_runs_without_a_node() {
    let t = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_chainhound"))
        .args(["demo", "--keep"])
        .arg(t.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("ingested    2001 blocks, 20001 txs"),
        "{text}"
    );
    assert!(
        text.contains("truth: hot address of Harbor Exchange"),
        "{text}"
    );
    assert!(text.contains("peel chain"), "{text}");
    assert!(
        text.contains("truth: deposit address of Hacker at"),
        "{text}"
    );
    assert!(
        text.contains("against the truth: precision 1.0000"),
        "{text}"
    );
    assert!(text.contains("  peel to   "), "{text}");
    let s = json(&run(&t.path().join("index"), &["stats", "--json"]));
    assert_eq!(s["network"], "regtest");
    assert_eq!(s["blocks"], 2001);
}

#[test]
fn simulate_writes_a_datadir_that_ingests_and_its_truth() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("sim");
    let sim = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_chainhound"))
            .args(["simulate", "--out"])
            .arg(&out)
            .args([
                "--seed", "5", "--blocks", "400", "--txs", "3000", "--users", "100",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let o = sim(&["--json"]);
    let s = json(&o);
    assert_eq!(s["blocks"], 400);
    assert_eq!(s["heist_height"], 250);
    assert_eq!(s["victim"], "Harbor Exchange");
    assert!(s["txs"].as_u64().unwrap() > 2_700, "{s}");
    for f in [
        "entities",
        "addresses",
        "blocks",
        "txs",
        "change",
        "stolen",
        "cashouts",
    ] {
        assert!(out.join(format!("truth/{f}.csv")).is_file(), "{f}");
    }
    // A second run into the same place is refused, naming it.
    let again = sim(&["--quiet"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a blocks/"));

    let index = t.path().join("index");
    let r = json(&run(
        &index,
        &["ingest", "--datadir", out.to_str().unwrap(), "--json"],
    ));
    assert_eq!(r["tip_height"], 400);
    assert_eq!(r["txs_added"].as_u64(), s["txs"].as_u64().map(|n| n + 1));
    // The heist transaction of the truth is in the index, with its inputs.
    let txs = std::fs::read_to_string(out.join("truth/txs.csv")).unwrap();
    let heist = txs.lines().find(|l| l.contains(",heist,")).unwrap();
    let f: Vec<&str> = heist.split(',').collect();
    let tx = json(&run(&index, &["tx", f[0], "--json"]));
    assert_eq!(tx["height"], 250);
    assert_eq!(tx["inputs"].as_array().unwrap().len().to_string(), f[4]);

    // Bad sizes are refused with the reason.
    let bad = Command::new(env!("CARGO_BIN_EXE_chainhound"))
        .args(["simulate", "--out"])
        .arg(t.path().join("x"))
        .args(["--blocks", "50"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("at least 120"));
}

#[test]
fn cluster_entity_and_eval_on_a_simulated_chain() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("sim");
    let index = t.path().join("index");
    let o = Command::new(env!("CARGO_BIN_EXE_chainhound"))
        .args([
            "simulate", "--quiet", "--seed", "4", "--blocks", "400", "--txs", "4000", "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dd = out.to_str().unwrap();
    json(&run(
        &index,
        &["ingest", "--datadir", dd, "--max-height", "200", "--json"],
    ));
    // `entity` before `cluster` says what to do.
    let e = run(&index, &["entity", "0"]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("chainhound cluster"));
    let early = json(&run(&index, &["cluster", "--json"]));
    // The rest of the chain: ingest brings the clusters up to date.
    json(&run(&index, &["ingest", "--datadir", dd, "--json"]));
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(index.join("clusters/state.json")).unwrap())
            .unwrap();
    let stats = json(&run(&index, &["stats", "--json"]));
    assert_eq!(state["txs"], stats["txs"]);
    assert!(state["txs"].as_u64() > early["txs"].as_u64());

    let c = json(&run(&index, &["cluster", "--json"]));
    assert_eq!(c["txs"], state["txs"]);
    assert!(c["clusters"].as_u64().unwrap() > 100, "{c}");
    assert!(c["coinjoins"].as_u64().unwrap() > 10, "{c}");
    assert!(c["merged_txs"].as_u64().unwrap() > 100, "{c}");

    // The entity of one of Harbor Exchange's deposit addresses: all its
    // addresses are Harbor's (entity 0 of the truth).
    let truth = std::fs::read_to_string(out.join("truth/addresses.csv")).unwrap();
    let owner: std::collections::HashMap<&str, &str> = truth
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0], f[1])
        })
        .collect();
    let swept: Vec<&str> = truth
        .lines()
        .filter(|l| l.contains(",0,deposit,"))
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let mut biggest = serde_json::Value::Null;
    for a in swept.iter().take(40) {
        let o = run(&index, &["entity", a, "--json", "--limit", "1000"]);
        if o.status.code() == Some(1) {
            continue; // never paid
        }
        let v = json(&o);
        if v["size"].as_u64() > biggest["size"].as_u64() {
            biggest = v;
        }
    }
    assert!(biggest["size"].as_u64().unwrap() >= 2, "{biggest}");
    // All its addresses are listed (limit 1000); the totals are theirs.
    let (mut received, mut balance) = (0, 0);
    let members = biggest["addresses"].as_array().unwrap();
    assert_eq!(members.len() as u64, biggest["size"].as_u64().unwrap());
    for a in members {
        let addr = a[0].as_str().unwrap();
        assert_eq!(owner[addr], "0", "{a}");
        let av = json(&run(&index, &["address", addr, "--json"]));
        assert_eq!(av["balance"], a[1], "{addr}");
        received += av["received"].as_u64().unwrap();
        balance += av["balance"].as_u64().unwrap();
    }
    assert_eq!(biggest["received"].as_u64(), Some(received));
    assert_eq!(biggest["balance"].as_u64(), Some(balance));
    // Text output and paging.
    let id = biggest["id"].as_u64().unwrap().to_string();
    let text = run(&index, &["entity", &id, "--limit", "1"]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("addresses   0..1 of"), "{text}");

    // The evaluation against the truth meets the targets.
    let truth_dir = out.join("truth");
    let ev = json(&run(
        &index,
        &[
            "eval",
            "clustering",
            "--truth",
            truth_dir.to_str().unwrap(),
            "--json",
        ],
    ));
    let rows = ev.as_array().unwrap();
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[0]["method"], "multi-input");
    assert!(
        rows[0]["eval"]["precision"].as_f64().unwrap() >= 0.995,
        "{}",
        rows[0]
    );
    let bad = run(&index, &["eval", "clustering", "--truth", "/nonexistent"]);
    assert_eq!(bad.status.code(), Some(2));
    // A CoinJoin shows its classification.
    let txs = std::fs::read_to_string(out.join("truth/txs.csv")).unwrap();
    let w = txs
        .lines()
        .find(|l| l.contains(",coinjoin-whirlpool,"))
        .unwrap();
    let tx = json(&run(
        &index,
        &["tx", w.split(',').next().unwrap(), "--json"],
    ));
    assert_eq!(tx["coinjoin"]["kind"], "whirlpool", "{tx}");
}

/// Runs `chainhound --index INDEX ARGS...`, killed after a minute: its exit
/// code (`None` if killed) and standard error.
fn run_bounded(index: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_chainhound"))
        .arg("--index")
        .arg(index)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if t.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (code, err)
}

/// Every command that reads the index, on the real mainnet sample's index
/// (and its clusters) with one file at a time overwritten by all-ones
/// bytes, zeros or noise (at its length): an answer (maybe wrong) or a clear error, never a panic
/// (exit 101) or a hang. (The library's queries are checked the same way,
/// with more kinds of damage, in the index crate's `damaged_index` test.)
#[test]
fn every_command_on_a_damaged_index_ends_without_a_panic() {
    let t = mainnet_index();
    let clean = t.path();
    let pools = shared("pools/mempool/pools-v2.json");
    let satoshi_to_hal = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16";
    let genesis_payee = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa";
    let commands: Vec<Vec<&str>> = vec![
        vec!["block", "170", "--json"],
        vec!["tx", satoshi_to_hal, "--json"],
        vec!["address", "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S", "--json"],
        vec!["stats", "--json"],
        vec!["miners", "--pools", pools.to_str().unwrap(), "--json"],
        vec!["trace", satoshi_to_hal, "--json"],
        vec!["trace", satoshi_to_hal, "--backward", "--json"],
        vec!["screen", genesis_payee, "--json"],
        // Before `cluster`, which writes the clusters again.
        vec!["entity", "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S", "--json"],
        vec!["cluster"],
    ];
    let (code, err) = run_bounded(clean, &["cluster"]);
    assert_eq!(code, Some(0), "cluster: {err}");
    // Each command answers on the clean index.
    for c in &commands {
        let (code, err) = run_bounded(clean, c);
        assert_eq!(code, Some(0), "{c:?} on the clean index: {err}");
    }
    let listing = |d: &std::path::Path| -> Vec<String> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect()
    };
    let mut files: Vec<String> = listing(clean)
        .into_iter()
        .filter(|n| n.ends_with(".col") || n.ends_with(".blob") || n.ends_with(".tbl"))
        .chain(
            listing(&clean.join("clusters"))
                .into_iter()
                .map(|n| format!("clusters/{n}")),
        )
        .collect();
    files.sort();
    assert!(files.len() >= 22, "{files:?}");
    let mut failures = Vec::new();
    for f in &files {
        let len = std::fs::metadata(clean.join(f)).unwrap().len() as usize;
        for (what, bytes) in chainhound_testdata::damaged(len, 0x2545_f491_4f6c_dd1d) {
            let d = tempfile::tempdir().unwrap();
            for sub in ["", "clusters"] {
                std::fs::create_dir_all(d.path().join(sub)).unwrap();
                for e in std::fs::read_dir(clean.join(sub)).unwrap() {
                    let e = e.unwrap();
                    if e.file_type().unwrap().is_file() {
                        std::fs::copy(e.path(), d.path().join(sub).join(e.file_name())).unwrap();
                    }
                }
            }
            std::fs::write(d.path().join(f), &bytes).unwrap();
            for c in &commands {
                let (code, err) = run_bounded(d.path(), c);
                if code.is_none() || code == Some(101) || err.contains("panicked") {
                    let first = err.lines().find(|l| l.contains("panicked")).unwrap_or("");
                    failures.push(format!("{f} ({what}) {c:?}: exit {code:?} {first}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
