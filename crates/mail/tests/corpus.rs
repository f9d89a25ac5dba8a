//! The shared corpus of real mail (`../shared/data/mail`): every message is
//! read and judged without panic; attachments and crypto indicators agree
//! with the manifest's independent counts and flags; the split is stable
//! and balanced.

use chainhound_mail::analyze::{analyze, Options, Report};
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

/// A corpus message's file name and its judgement, leaks neutralised.
fn judged(i: &chainhound_mail::source::Item, opts: &Options) -> (String, Report) {
    let name = std::path::Path::new(&i.source)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    (name, analyze(&i.source, &neutralise(&i.bytes), opts))
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
        let (name, r) = judged(i, &opts);
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

/// The rules of content fire on the real messages that show them (each
/// checked by eye in the development half), and on no ham of either half.
#[test]
fn content_rules_fire_on_the_real_messages_that_show_them() {
    let opts = Options::default();
    let judge = |dir: &str, name: &str| {
        let raw = std::fs::read(shared("mail").join(dir).join(name)).unwrap();
        analyze(name, &neutralise(&raw), &opts)
    };
    for (name, rule) in [
        // "Coܿnfiܿrmܿation neܿedܿed": Syriac marks inside Latin words.
        ("pp-sample-874.eml", "text.mixed_script"),
        // "Scan your Iedger now", a capital I for the l.
        ("pp-sample-2249.eml", "text.brand_homoglyph"),
        // `.belowView { margin-top: 470500px }`.
        ("pp-sample-1381.eml", "body.offscreen_text"),
        // `From: Microsoft account team ,_<no-reply@access-accsecurity.com>`.
        ("pp-sample-10.eml", "sender.malformed_from"),
        // (its display name is the brand's, whole, role words aside)
        ("pp-sample-10.eml", "sender.brand_as_name"),
        // "Advanced Energy by Elon Musk" <…@unathipromotions.co.za>.
        ("pp-sample-1381.eml", "sender.brand_impersonation"),
        ("pp-sample-461.eml", "lure.extortion"),
        // ... with the address to pay: a threat is a lure too.
        ("pp-sample-461.eml", "lure.pay_to_address"),
        ("pp-sample-188.eml", "subject.coin_amount"),
        // `From: LEDGER <2019144932@talento.tls.edu.pe>`.
        ("pp-sample-1862.eml", "sender.brand_as_name"),
        // `From: C o i n b a s e <noreply@firesonic.ca>`.
        ("pp-sample-9.eml", "sender.brand_as_name"),
        // `From: Bradesco <contato@bradesco.com.br>`, signed by another domain.
        ("pp-sample-702.eml", "sender.brand_domain_unsigned"),
        // "a salary of $800/week" for a "part-time and home-based role".
        ("pp-sample-634.eml", "lure.job_pay"),
        // "© Ledger SAS. All rights reserved." from talento.tls.edu.pe.
        ("pp-sample-1862.eml", "text.brand_copyright"),
        // "© 2023 Coinbase, All rights reserved." from firesonic.ca.
        ("pp-sample-9.eml", "text.brand_copyright"),
        // "Voc&ecirc; tem R$4.593,21 &agrave; restituir" in text/plain.
        ("pp-sample-968.eml", "body.plain_text_escaped"),
        // `support@thesapphiregroupinc.com@thesapphiregroupinc.com`.
        ("pp-sample-87.eml", "sender.invalid_address"),
    ] {
        let r = judge("phish", name);
        assert!(
            r.evidence.iter().any(|e| e.rule == rule),
            "{name}: no {rule} in {:?}",
            r.evidence
        );
    }
    let (mut items, mut problems) = (Vec::new(), Vec::new());
    read(&shared("mail/ham"), &mut items, &mut problems);
    for i in &items {
        let r = analyze(&i.source, &neutralise(&i.bytes), &opts);
        for e in &r.evidence {
            assert!(
                !matches!(
                    e.rule,
                    "text.mixed_script"
                        | "text.brand_homoglyph"
                        | "body.offscreen_text"
                        | "sender.malformed_from"
                        | "lure.extortion"
                        | "subject.coin_amount"
                        | "sender.brand_as_name"
                        | "sender.brand_domain_unsigned"
                        | "lure.job_pay"
                        | "text.brand_copyright"
                        | "body.plain_text_escaped"
                        | "sender.invalid_address"
                        | "parse.header_split"
                        | "parse.date_swallowed"
                ),
                "{}: {e:?}",
                i.source
            );
        }
    }
}

/// A link whose text names another site weighs less when it goes to the
/// sender's own domain (a newsletter's click counter), on the real
/// messages that show it, and keeps its weight when the text names a brand.
#[test]
fn own_click_counters_weigh_little() {
    let opts = Options::default();
    let weight = |dir: &str, name: &str, rule: &str| {
        let raw = std::fs::read(shared("mail").join(dir).join(name)).unwrap();
        let r = analyze(name, &neutralise(&raw), &opts);
        let e = r.fired(rule);
        assert_eq!(e.len(), 1, "{name}: {:?}", r.evidence);
        (e[0].weight, e[0].words.clone())
    };
    // Daily Dilbert shows dilbert.com and counts the click at
    // ummail4.unitedmedia.com, the domain it is sent from.
    let (w, words) = weight(
        "ham",
        "sa-hard-ham-1-00092.dea3df11dafb2cdd838b42fc3b9ead09.eml",
        "link.text_names_other_host",
    );
    assert_eq!(w, 1, "{words}");
    assert!(words.contains("sender's own domain"), "{words}");
    // "MetaMask" <marketing@colegiosantissima.com.br> shows
    // verification.metamask.io and links to its own domain: a brand shown
    // keeps the weight.
    let (w, words) = weight("phish", "pp-sample-1576.eml", "link.text_names_other_host");
    assert_eq!(w, 3, "{words}");
}

/// Every real message whose `From` header holds an address has it read,
/// as sent and with the leaks neutralised. A `Date: ... UT` line (an
/// obsolete zone a 2002 newsletter in the ham uses) used to swallow the
/// `From` after it, and the message was judged as having none.
#[test]
fn every_from_address_is_read() {
    let opts = Options::default();
    let mut checked = 0;
    for dir in ["phish", "ham"] {
        let (mut items, mut problems) = (Vec::new(), Vec::new());
        read(&shared("mail").join(dir), &mut items, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        for i in &items {
            let text = String::from_utf8_lossy(&i.bytes);
            let mut head = text.lines().take_while(|l| !l.trim_end().is_empty());
            let has_address = head.any(|l| {
                l.get(..5).is_some_and(|f| f.eq_ignore_ascii_case("from:")) && l.contains('@')
            });
            if !has_address {
                continue;
            }
            checked += 1;
            for bytes in [i.bytes.clone(), neutralise(&i.bytes)] {
                let r = analyze(&i.source, &bytes, &opts);
                assert!(
                    r.indicators.from.is_some(),
                    "{}: {:?}",
                    i.source,
                    r.evidence
                );
            }
        }
    }
    assert!(checked > 480, "{checked}");
}

/// The held-out half at the threshold the development half chose (≤1%
/// false positives there): a floor under what was measured, so that a
/// change that loses recall or gains false positives on mail it was not
/// tuned on fails here.
#[test]
fn the_test_half_holds_at_the_development_threshold() {
    let opts = Options::default();
    let mut scores: HashMap<(bool, Split), Vec<i32>> = HashMap::new();
    for (dir, phish) in [("phish", true), ("ham", false)] {
        let (mut items, mut problems) = (Vec::new(), Vec::new());
        read(&shared("mail").join(dir), &mut items, &mut problems);
        for i in &items {
            let (name, r) = judged(i, &opts);
            scores
                .entry((phish, split_of(&name)))
                .or_default()
                .push(r.score);
        }
    }
    let dev = row(
        "dev",
        &scores[&(true, Split::Dev)],
        &scores[&(false, Split::Dev)],
    );
    let t = dev.threshold_1pct;
    let recall = chainhound_mail::eval::rate(&scores[&(true, Split::Test)], t);
    let fp = chainhound_mail::eval::rate(&scores[&(false, Split::Test)], t);
    assert!(recall >= 0.60, "test recall {recall:.3} at {t}");
    assert!(fp <= 0.025, "test FP {fp:.3} at {t}");
}

/// A long newsletter says "winner" and "immediately" by chance: its lure
/// words weigh half (a real Lockergnome issue of the hard ham, 2,000 words).
#[test]
fn lure_words_weigh_half_in_a_long_text() {
    let opts = Options::default();
    let dir = shared("mail/ham");
    let name = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.starts_with("sa-hard-ham-1-00069."))
        .unwrap();
    let r = analyze(
        &name,
        &neutralise(&std::fs::read(dir.join(&name)).unwrap()),
        &opts,
    );
    let prize = r.evidence.iter().find(|e| e.rule == "lure.prize").unwrap();
    assert_eq!(prize.weight, 1, "{prize:?}");
    assert!(prize.words.contains("half the weight"), "{prize:?}");
    // The same lure in a short mail, and padded past 1,500 words.
    let short = "From: a@example.org\nTo: b@example.org\nSubject: hi\nMessage-ID: <1@example.org>\nDate: Mon, 23 Nov 2026 09:00:00 +0000\n\nYou are our winner.\n";
    let weight = |m: &str| {
        analyze("m", m.as_bytes(), &opts)
            .evidence
            .into_iter()
            .find(|e| e.rule == "lure.prize")
            .map(|e| e.weight)
    };
    assert_eq!(weight(short), Some(3));
    // 1,600 words, 400 of them different: a newsletter's length.
    let prose: String = (0..1600u32)
        .map(|k| {
            let k = k % 400;
            format!(
                "wd{}{} ",
                (b'a' + (k / 26) as u8) as char,
                (b'a' + (k % 26) as u8) as char
            )
        })
        .collect();
    assert_eq!(weight(&format!("{short}{prose}")), Some(1));
    // Padding of one word repeated is no newsletter; a lure in the
    // subject keeps its weight.
    assert_eq!(weight(&format!("{short}{}", "news ".repeat(2000))), Some(3));
    let in_subject = short.replace("Subject: hi", "Subject: winner");
    assert_eq!(weight(&format!("{in_subject}{prose}")), Some(3));
    // In HTML: the prose shown makes a newsletter; hidden by a style, it is
    // padding, and the lure keeps its weight.
    let html = |style: &str| {
        format!(
            "{}Content-Type: text/html\n\n<p>You are our winner.</p><div{style}>{prose}</div>\n",
            short.split("\n\n").next().unwrap().to_string() + "\nMIME-Version: 1.0\n"
        )
    };
    assert_eq!(weight(&html("")), Some(1));
    assert_eq!(weight(&html(" style=\"display:none\"")), Some(3));
    assert_eq!(
        weight(&html(" style=\"max-height:0;overflow:hidden\"")),
        Some(3)
    );
}

/// A brand's copyright line at the end of a real-looking mail, from a
/// domain the brand does not own.
#[test]
fn a_copied_footer_is_found_at_the_end_of_a_message() {
    let m = |footer: &str| {
        format!("From: Support <help@mailer.example>\nTo: b@example.org\nSubject: Verify\nMessage-ID: <1@mailer.example>\nDate: Mon, 23 Nov 2026 09:00:00 +0000\n\nPlease verify.\n\n{footer}\n")
    };
    let fired = |footer: &str| {
        analyze("m", m(footer).as_bytes(), &Options::default())
            .evidence
            .iter()
            .any(|e| e.rule == "text.brand_copyright")
    };
    assert!(fired("Copyright © 2013 - 2023 Ripple"));
    assert!(fired("© 2023 Coinbase"));
    assert!(!fired("© 2023 Coinbase.org"));
    assert!(!fired("© 2023 Mailer Example Ltd"));
}

/// Real mailing-list mail whose From the list rewrote (`"Author via
/// USRP-users" <list address>`, the list's Sender, Reply-To the author) is
/// read as such: replies going to the author weigh little. No real
/// phishing message is read so.
#[test]
fn list_rewritten_from_is_recognised_on_real_mail_only() {
    let opts = Options::default();
    let list_words = "a mailing list at";
    let mut rewritten = 0;
    let mut weights = [0usize; 2];
    for dir in ["phish", "ham"] {
        let (mut items, mut problems) = (Vec::new(), Vec::new());
        read(&shared("mail").join(dir), &mut items, &mut problems);
        for i in &items {
            let (name, r) = judged(i, &opts);
            for e in r.fired("sender.reply_to_differs") {
                if e.words.contains(list_words) {
                    assert_eq!(dir, "ham", "{name}: {}", e.words);
                    // 1 where the reply goes to freemail (3 otherwise), 0
                    // where the usual weight is 0: lowered, never raised.
                    assert!(e.weight <= 1, "{name}: {}", e.weight);
                    weights[e.weight as usize] += 1;
                    rewritten += 1;
                }
            }
        }
    }
    assert!(rewritten >= 30, "{rewritten}");
    assert!(weights[0] >= 10 && weights[1] >= 10, "{weights:?}");
}
