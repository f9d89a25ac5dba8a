//! Crash safety: `chainhound ingest` killed with SIGKILL at many moments and
//! run again ends with exactly (byte for byte) the index an uninterrupted
//! run makes.

use chainhound_chain::Network;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_chainhound"));
    c.env("CHAINHOUND_TABLE_SEED", "7");
    c
}

fn ingest(datadir: &Path, index: &Path) -> Command {
    let mut c = bin();
    c.arg("--index")
        .arg(index)
        .arg("ingest")
        .arg("--datadir")
        .arg(datadir)
        .arg("-q")
        .arg("--commit-every")
        .arg("3");
    c.stdout(Stdio::null()).stderr(Stdio::null());
    c
}

fn files(d: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name() != "lock")
        .map(|e| {
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn sigkill_at_any_moment_then_rerun_gives_the_uninterrupted_index() {
    let t = tempfile::tempdir().unwrap();
    let node = t.path().join("node");
    let blocks = chainhound_sim::toy::generate(99, 1500, 60);
    chainhound_sim::write::write_blocks(&node, Network::Regtest, &blocks, *b"xorkey!!", 256 << 10)
        .unwrap();

    let reference = t.path().join("reference");
    let start = Instant::now();
    assert!(ingest(&node, &reference).status().unwrap().success());
    let full = start.elapsed();

    let crashed = t.path().join("crashed");
    let mut mid_run_kills = 0;
    let mut interrupted_with_marker = 0u32;
    // Kill after short, varied delays (a few commits each time, sometimes
    // during the header scan or the very first commit) until a run ends by
    // itself; each run resumes from what the killed ones committed.
    let delays_ms = [35u64, 120, 60, 250, 15, 180, 90, 400];
    // New table entries held in memory and swept in every 1, 50 or 997 of
    // them, or written in place (the reference's way in RAM): kills land
    // in sweeps too, and the tables' bytes must not depend on the batches.
    let batches = ["50", "0", "997", "1"];
    for k in 0..200 {
        // (Not in step with the delays, so each batch size meets each.)
        let batch = batches[(k + k / delays_ms.len()) % batches.len()];
        let mut child = ingest(&node, &crashed)
            .args(["--table-batch", batch])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delays_ms[k % delays_ms.len()]));
        if child.try_wait().unwrap().is_some() {
            break;
        }
        // SIGKILL: no destructor, no flush.
        child.kill().unwrap();
        child.wait().unwrap();
        mid_run_kills += 1;
        // The marker of an interrupted writer is left behind: the next run repairs.
        if crashed.join("manifest.json").exists() {
            interrupted_with_marker += crashed.join("WRITING").exists() as u32;
        }
    }
    eprintln!("{mid_run_kills} SIGKILLs mid-run, {interrupted_with_marker} left a partial index to repair");
    assert!(interrupted_with_marker >= 5);
    assert!(
        mid_run_kills >= 10,
        "only {mid_run_kills} kills hit a running ingest (full run took {full:?})"
    );
    let last = ingest(&node, &crashed)
        .args(["--table-batch", "50"])
        .status();
    assert!(last.unwrap().success());
    assert_same(&reference, &crashed, "SIGKILLs");
}

/// Same files, same bytes; names the first file that differs.
fn assert_same(a: &Path, b: &Path, after: &str) {
    let (a, b) = (files(a), files(b));
    assert_eq!(
        a.iter().map(|f| &f.0).collect::<Vec<_>>(),
        b.iter().map(|f| &f.0).collect::<Vec<_>>(),
        "after {after}"
    );
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{name} differs after {after}");
    }
}

/// Deterministic crashes at the riskiest moments: after appended records are
/// flushed, after address heads were moved but before the manifest, and in
/// the middle of undoing a reorganisation.
#[test]
fn fail_points_inside_commit_and_rollback() {
    let t = tempfile::tempdir().unwrap();
    let blocks = chainhound_sim::toy::generate(5, 400, 30);
    let node = t.path().join("node");
    chainhound_sim::write::write_blocks(&node, Network::Regtest, &blocks, [0; 8], 1 << 20).unwrap();
    let reference = t.path().join("reference");
    assert!(ingest(&node, &reference).status().unwrap().success());
    // The held table entries of the crashing runs are swept in at commits
    // (`--table-batch` larger than any run) or every 50 (a run of the
    // sweep written, or the txid table swept and not the address table).
    for (point, batch) in [
        ("commit-after-appends:20", "0"),
        ("commit-after-heads:20", "0"),
        ("commit-after-heads:60", "0"),
        ("commit-after-appends:20", "1000000"),
        ("sweep-between-tables:20", "1000000"),
        ("sweep-after-a-run:700", "50"),
    ] {
        let ix = t
            .path()
            .join(format!("{}-{batch}", point.replace(':', "-")));
        let st = ingest(&node, &ix)
            .env("CHAINHOUND_FAILPOINT", point)
            .args(["--table-batch", batch])
            .status()
            .unwrap();
        assert!(!st.success(), "{point} should abort");
        assert!(ix.join("WRITING").exists());
        reader_sees_committed_histories(&ix);
        // A second crash, while the next run repairs the first one.
        let st = ingest(&node, &ix)
            .env("CHAINHOUND_FAILPOINT", "repair-start:1")
            .status()
            .unwrap();
        assert!(!st.success(), "repair-start should abort");
        reader_sees_committed_histories(&ix);
        assert!(ingest(&node, &ix).status().unwrap().success());
        assert_same(&reference, &ix, point);
    }

    // A reorganisation whose rollback is interrupted half-way.
    let ix = t.path().join("reorg");
    // Index a chain whose tip (blocks 300..=340 of another run) will lose.
    let other = chainhound_sim::toy::generate(6, 350, 30);
    let losing_dir = t.path().join("losing");
    write_losing(&losing_dir, &blocks, &other, None);
    assert!(ingest(&losing_dir, &ix).status().unwrap().success());
    let st = ingest(&node, &ix)
        .env("CHAINHOUND_FAILPOINT", "rollback-undo:1")
        .status()
        .unwrap();
    assert!(!st.success(), "rollback fail point should abort");
    assert!(ingest(&node, &ix).status().unwrap().success());
    assert_same(&reference, &ix, "an interrupted rollback");

    // Blocks of a branch that then loses, appended but never committed: the
    // committed tip (299) is below the fork, so the next run rolls nothing
    // back; it repairs and appends the winning branch at the same ids. The
    // link bits the lost outputs set in the last, partial record must go.
    // Its outputs pay an address seen before, so each sets its bit.
    let old = chainhound_chain::Block::parse(&blocks[1]).unwrap();
    let old_script = old.tx_outputs(&old.txs[0])[0].script_pubkey.to_vec();
    let losing_dir = t.path().join("losing-reusing");
    write_losing(&losing_dir, &blocks, &other, Some(&old_script));
    let ix = t.path().join("uncommitted-fork");
    let to_299 = ingest(&losing_dir, &ix)
        .args(["--max-height", "299"])
        .status();
    assert!(to_299.unwrap().success());
    let st = ingest(&losing_dir, &ix)
        .env("CHAINHOUND_FAILPOINT", "commit-after-appends:1")
        .status()
        .unwrap();
    assert!(!st.success(), "commit-after-appends should abort");
    assert!(ingest(&node, &ix).status().unwrap().success());
    assert_same(&reference, &ix, "a crash on a branch that then lost");
}

/// Writes under `dir` a node holding `blocks` up to height 299, then a
/// branch that loses to them: coinbase-only copies of `other`'s blocks 300
/// to 340 (see [`fork_from`] for `pay`).
fn write_losing(dir: &Path, blocks: &[Vec<u8>], other: &[Vec<u8>], pay: Option<&[u8]>) {
    let mut losing = blocks[..300].to_vec();
    losing.extend(fork_from(&blocks[299], &other[300..=340], pay));
    chainhound_sim::write::write_blocks(dir, Network::Regtest, &losing, [0; 8], 1 << 20).unwrap();
}

/// Re-mines `blocks` (coinbase-only copies of their coinbases) on top of
/// `parent`; with `pay`, every output pays that script instead.
fn fork_from(parent: &[u8], blocks: &[Vec<u8>], pay: Option<&[u8]>) -> Vec<Vec<u8>> {
    use chainhound_chain::{hash::sha256d, Block};
    use chainhound_sim::write::{block, In, TxSpec};
    let mut prev = sha256d(&parent[..80]);
    let mut out = Vec::new();
    for b in blocks {
        let parsed = Block::parse(b).unwrap();
        let cb = TxSpec {
            ins: vec![In {
                txid: [0; 32],
                vout: u32::MAX,
                script_sig: [parsed.coinbase_script(), b"/losing fork/"].concat(),
                witness: vec![],
            }],
            outs: parsed
                .tx_outputs(&parsed.txs[0])
                .iter()
                .map(|o| (o.value, pay.unwrap_or(o.script_pubkey).to_vec()))
                .collect(),
        };
        let (bytes, hash) = block(prev, parsed.header.time + 1, &[cb.serialize()]);
        prev = hash;
        out.push(bytes);
    }
    out
}

/// A reader of an interrupted (not yet repaired) index sees, for every
/// address, exactly the committed outputs paid to it, newest first.
fn reader_sees_committed_histories(ix: &Path) {
    use chainhound_index::query::Query;
    use chainhound_index::store::{AddrId, OutId, Store};
    let store = Store::open(ix).unwrap();
    let c = store.counts();
    let mut expected: Vec<Vec<OutId>> = vec![Vec::new(); c.addrs as usize];
    for o in (0..c.outs).rev() {
        if let Some(a) = store.out_addr(OutId(o)) {
            expected[a.0 as usize].push(OutId(o));
        }
    }
    let q = Query::new(&store);
    for (a, want) in expected.iter().enumerate() {
        assert_eq!(
            &q.address_outputs(AddrId(a as u32)),
            want,
            "history of address {a}"
        );
    }
}
