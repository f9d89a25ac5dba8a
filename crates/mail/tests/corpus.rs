//! The shared corpus of real mail (`../shared/data/mail`): every message is
//! read and judged without panic; attachments and crypto indicators agree
//! with the manifest's independent counts and flags; the split is stable
//! and balanced.

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
    // Against the manifest's own independent counts: attachments per
    // message (its n_att), and crypto: every phish in which we find a valid
    // Bitcoin, Ethereum or Tron address is one its keyword scan flagged.
    let flags = manifest("phish_manifest.tsv", "crypto");
    let n_att = manifest("phish_manifest.tsv", "n_att");
    let (mut items, mut problems) = (Vec::new(), Vec::new());
    read(&shared("mail/phish"), &mut items, &mut problems);
    let (mut with_addr, mut att_differ) = (0, Vec::new());
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
            assert_eq!(
                flags[&name], "1",
                "{name}: {c:?} but the manifest says no crypto"
            );
        }
        if r.indicators.attachments.len().to_string() != n_att[&name] {
            att_differ.push((
                name.clone(),
                n_att[&name].clone(),
                r.indicators.attachments.len(),
            ));
        }
        for a in &r.indicators.attachments {
            assert_eq!(a.sha256.len(), 64, "{}", a.name);
        }
    }
    assert!(with_addr >= 4, "{with_addr}");
    // One message's inline image of a multipart/related body is a part
    // mail-parser lists and the manifest does not count.
    assert!(att_differ.len() <= 1, "{att_differ:?}");
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
