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

/// `ingest` with files limited to `bytes` (`RLIMIT_FSIZE`, `SIGXFSZ`
/// ignored): growing a file past it fails as on a full disk.
#[cfg(unix)]
fn ingest_with_file_limit(node: &Path, index: &Path, bytes: u64) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let mut c = ingest(node, index);
    c.stderr(Stdio::piped());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        c.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: bytes as libc::rlim_t,
                rlim_max: libc::RLIM_INFINITY,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    c.output().unwrap()
}

/// A disk that fills up mid-ingest, again and again, a little later each
/// time: each run stops with an error naming the index file it could not
/// grow, keeps what it committed (and leaves no partial header cache), and
/// the run after the space is freed repairs and ends with the uninterrupted
/// run's index, byte for byte.
#[cfg(unix)]
#[test]
fn a_full_disk_mid_ingest_then_rerun_gives_the_uninterrupted_index() {
    let t = tempfile::tempdir().unwrap();
    let (node, reference) = node_and_reference(t.path(), 31);
    let full_tip = committed_blocks(&reference);

    let ix = t.path().join("full");
    let mut tips = Vec::new();
    for limit in [96u64 << 10, 768 << 10, 1 << 20] {
        let out = ingest_with_file_limit(&node, &ix, limit);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "limit {limit}: {err}");
        // The file named, the cause given once.
        assert!(err.contains(&*ix.to_string_lossy()), "{err}");
        assert_eq!(err.matches("File too large").count(), 1, "{err}");
        // A limit, not a full disk: the hint says so.
        assert!(err.contains("largest file size"), "{err}");
        assert!(ix.join("WRITING").exists());
        assert!(!ix.join("headers.cache.tmp").exists());
        reader_sees_committed_histories(&ix);
        tips.push(committed_blocks(&ix));
    }
    eprintln!("blocks committed before each full disk: {tips:?} of {full_tip}");
    // Each run kept what the one before it committed and went further.
    assert!(tips.windows(2).all(|w| w[0] < w[1]), "{tips:?}");
    assert!(*tips.last().unwrap() < full_tip);
    assert!(ingest(&node, &ix).status().unwrap().success());
    assert_same(&reference, &ix, "a full disk");
}

/// A real full disk: a small tmpfs (root only: skipped, and says so,
/// elsewhere). Pages of a mapped file are allocated when first written, and
/// a file system that cannot would kill the writer with SIGBUS; the store
/// claims the space first (`fallocate`), so the run ends with an error that
/// names the file (and a warning at the start foresaw it), then the same
/// space made larger (a remount keeps the files) lets the next run finish
/// with the uninterrupted run's index.
#[cfg(target_os = "linux")]
#[test]
fn a_really_full_file_system_is_an_error_not_a_crash() {
    let t = tempfile::tempdir().unwrap();
    let (node, reference) = node_and_reference(t.path(), 32);

    let small = t.path().join("small");
    std::fs::create_dir(&small).unwrap();
    let mount = |opts: &str| {
        Command::new("mount")
            .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
            .arg(&small)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || !mount("size=1m") {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    }
    // Unmounted however the test ends (before the temporary folder goes).
    struct Mounted<'a>(&'a Path);
    impl Drop for Mounted<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _mounted = Mounted(&small);
    let ix = small.join("ix");
    let out = ingest(&node, &ix).stderr(Stdio::piped()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{:?}: {err}", out.status);
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains(&*ix.to_string_lossy()), "{err}");
    assert!(err.contains("the disk is full"), "{err}");
    // Foreseen, and said before the run began.
    assert!(err.contains("it may fill up"), "{err}");
    assert!(mount("remount,size=64m"));
    assert!(ingest(&node, &ix).status().unwrap().success());
    assert_same(&reference, &ix, "a full tmpfs");
}

/// A node of ~60,000 toy transactions under `dir`, and its index made in
/// one uninterrupted run.
fn node_and_reference(dir: &Path, seed: u64) -> (std::path::PathBuf, std::path::PathBuf) {
    let node = dir.join("node");
    let blocks = chainhound_sim::toy::generate_sized(seed, 400, 200, 200);
    chainhound_sim::write::write_blocks(&node, Network::Regtest, &blocks, [0; 8], 1 << 20).unwrap();
    let reference = dir.join("reference");
    assert!(ingest(&node, &reference).status().unwrap().success());
    (node, reference)
}

/// Blocks of the index's committed manifest.
fn committed_blocks(ix: &Path) -> u64 {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ix.join("manifest.json")).unwrap()).unwrap();
    m["counts"]["blocks"].as_u64().unwrap()
}
