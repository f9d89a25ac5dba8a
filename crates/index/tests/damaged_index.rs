//! A damaged index (a disk error, a file edited by hand or by a hostile
//! party) makes wrong answers, never a panic or a hang: the index of the
//! real first 4,313 mainnet blocks with one file at a time overwritten, at
//! its own length, by all-ones bytes, by zeros and by noise, then every
//! block, transaction and address queried, and every txid and address
//! looked up. A file cut shorter than the manifest says is an error at
//! open.

mod common;

use chainhound_index::query::Query;
use chainhound_index::store::{AddrId, Store, TxNum};
use common::*;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// Every query the CLI's `block`, `tx`, `address` and `stats` make, over
/// the whole index at `dir`; the number of answers.
fn query_everything(dir: &Path) -> usize {
    let Ok(store) = Store::open(dir) else {
        return 0;
    };
    let q = Query::new(&store);
    let c = store.counts();
    let mut answers = 0;
    for h in 0..c.blocks {
        if let Some(b) = q.block(h) {
            answers += 1;
            let _ = q.block_by_hash(&b.hash);
        }
    }
    for t in 0..c.txs {
        let v = q.tx_num(TxNum(t));
        let _ = q.tx(&store.txid(TxNum(t)));
        answers += v.inputs.len() + v.outputs.len();
    }
    for a in 0..c.addrs {
        let v = q.address(AddrId(a), 0, 20);
        let _ = q.find_address(&v.address);
        answers += 1;
    }
    let _ = q.stats();
    answers + q.prevouts().len()
}

/// Runs `query_everything` on another thread: `Err` with the panic's text,
/// or if it has not ended in a minute (a loop the damage made).
fn guarded(dir: &Path) -> Result<usize, String> {
    let (tx, rx) = mpsc::channel();
    let d = dir.to_path_buf();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(|| query_everything(&d)).map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        });
        let _ = tx.send(r);
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(r) => r.map_err(|e| format!("panicked: {e}")),
        Err(_) => Err("still running after 60 s".into()),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn every_index_file_damaged_in_turn_gives_answers_not_panics() {
    let t = tempfile::tempdir().unwrap();
    let clean = t.path().join("clean");
    ingest_path(&shared("blocks/mainnet_h0-4312.dat"), &clean);
    let full = guarded(&clean).expect("the clean index");
    assert!(full > 4_371 + 4_313, "the clean index answers: {full}");

    let mut files: Vec<String> = std::fs::read_dir(&clean)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".col") || n.ends_with(".blob") || n.ends_with(".tbl"))
        .collect();
    files.sort();
    assert!(files.len() >= 18, "the index's files: {files:?}");
    assert!(files.iter().any(|f| f == "out_link.col"));

    let mut failures = Vec::new();
    for f in &files {
        let len = std::fs::metadata(clean.join(f)).unwrap().len() as usize;
        for (what, bytes) in chainhound_testdata::damaged(len, 0x9e37_79b9_7f4a_7c15) {
            let dir = t.path().join(format!("{f}-{}", what.replace(' ', "-")));
            copy_dir(&clean, &dir);
            std::fs::write(dir.join(f), bytes).unwrap();
            if let Err(e) = guarded(&dir) {
                failures.push(format!("{f} ({what}): {e}"));
            }
            std::fs::remove_dir_all(&dir).unwrap();
        }
        // Cut short: refused at open, with the file named.
        if len > 0 {
            let dir = t.path().join(format!("{f}-short"));
            copy_dir(&clean, &dir);
            std::fs::write(dir.join(f), vec![0; len / 2]).unwrap();
            match Store::open(&dir) {
                Ok(_) if f.ends_with(".tbl") => {} // a table is checked when probed
                Ok(_) => failures.push(format!("{f} cut short: opened")),
                Err(e) => assert!(e.to_string().contains(f.as_str()), "{f}: {e}"),
            }
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
