//! Authentication, offline: messages signed here with keys made at test
//! time (Ed25519 and RSA; no private key is stored), verified against
//! records supplied as a file would supply them; tampering, wrong and
//! missing keys, alignment, DMARC policies, the trusted server's results;
//! the RFC 8463 example, signed by others; and the DKIM body hashes of the
//! real corpus (`../shared/data/mail`).

use chainhound_mail::analyze::{analyze, Options};
use chainhound_mail::auth::{dkim, Dns, Outcome};
use chainhound_mail::eval::neutralise;
use chainhound_mail::source::read;
use chainhound_mail::Evidence;
use chainhound_testdata::shared;
use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256, SigningKey};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use mail_parser::MessageParser;
use std::sync::Arc;

fn b64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// A fresh Ed25519 key and its DKIM key record.
fn ed_key() -> (Ed25519Key, String) {
    let der = Ed25519Key::generate_pkcs8().unwrap();
    let key = Ed25519Key::from_pkcs8_der(&der).unwrap();
    let record = format!("v=DKIM1; k=ed25519; p={}", b64(&key.public_key()));
    (key, record)
}

/// A fresh 2048-bit RSA key and its DKIM key record (SubjectPublicKeyInfo).
fn rsa_key() -> (RsaKey<Sha256>, String) {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let spki = private.to_public_key().to_public_key_der().unwrap();
    let der = private.to_pkcs8_der().unwrap();
    let key = RsaKey::<Sha256>::from_key_der(rustls_pki_types::PrivateKeyDer::Pkcs8(
        der.as_bytes().to_vec().into(),
    ))
    .unwrap();
    (key, format!("v=DKIM1; k=rsa; p={}", b64(spki.as_bytes())))
}

fn message(from: &str, body: &str) -> String {
    format!(
        "From: Support <support@{from}>\r\n\
         To: user@example.net\r\n\
         Subject: Your account\r\n\
         Date: Mon, 24 Nov 2025 10:00:00 +0000\r\n\
         Message-ID: <1@{from}>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         {body}\r\n"
    )
}

/// `msg` with a DKIM-Signature of `key` for `d=domain s=selector` on top.
fn sign<K: SigningKey>(key: K, domain: &str, selector: &str, msg: &str) -> String {
    let sig = DkimSigner::from_key(key)
        .domain(domain)
        .selector(selector)
        .headers(["From", "To", "Subject", "Date", "Message-ID"])
        .sign(msg.as_bytes())
        .unwrap();
    format!("{}{msg}", sig.to_header())
}

/// A message from `from` signed by a fresh Ed25519 key for `d=domain
/// s=selector`, and the key's record.
fn ed_signed(domain: &str, selector: &str, from: &str) -> (String, String) {
    let (key, rec) = ed_key();
    (sign(key, domain, selector, &message(from, BODY)), rec)
}

fn records(lines: &[(&str, &str)]) -> Arc<Dns> {
    let text: String = lines
        .iter()
        .map(|(n, v)| format!("{n} IN TXT \"{v}\"\n"))
        .collect();
    let (dns, problems) = Dns::parse(&text, "records.txt");
    assert!(problems.is_empty(), "{problems:?}");
    Arc::new(dns)
}

fn judge(raw: &str, dns: Option<Arc<Dns>>, authserv_id: Option<&str>) -> Vec<Evidence> {
    let opts = Options {
        dns,
        authserv_id: authserv_id.map(str::to_string),
        ..Options::default()
    };
    analyze("test", raw.as_bytes(), &opts)
        .evidence
        .into_iter()
        .filter(|e| e.rule.starts_with("auth."))
        .collect()
}

fn rule<'a>(ev: &'a [Evidence], id: &str) -> Option<&'a Evidence> {
    ev.iter().find(|e| e.rule == id)
}

fn rules(ev: &[Evidence]) -> Vec<&'static str> {
    ev.iter().map(|e| e.rule).collect()
}

const BODY: &str = "Please confirm your wallet before Friday.";

#[test]
fn signed_with_supplied_key_passes_aligned() {
    let (raw, rec) = ed_signed("bank.example", "s1", "bank.example");
    let ev = judge(
        &raw,
        Some(records(&[("s1._domainkey.bank.example", &rec)])),
        None,
    );
    assert_eq!(rules(&ev), ["auth.dkim_pass_aligned"], "{ev:?}");
    assert_eq!(ev[0].weight, -3);
    assert!(ev[0].words.contains("d=bank.example s=s1"), "{ev:?}");
    // DNS names know no case: d=Bank.EXAMPLE s=S1 finds s1._domainkey.bank.example.
    let (raw, rec) = ed_signed("Bank.EXAMPLE", "S1", "bank.example");
    let ev = judge(
        &raw,
        Some(records(&[("s1._domainkey.bank.example", &rec)])),
        None,
    );
    assert_eq!(rules(&ev), ["auth.dkim_pass_aligned"], "{ev:?}");
    // A subdomain of the signer is aligned too (relaxed).
    let (raw, rec) = ed_signed("bank.example", "s1", "mail.bank.example");
    let ev = judge(
        &raw,
        Some(records(&[("s1._domainkey.bank.example", &rec)])),
        None,
    );
    assert_eq!(rules(&ev), ["auth.dkim_pass_aligned"], "{ev:?}");
}

#[test]
fn rsa_signature_verifies_and_fails_when_tampered() {
    let (key, rec) = rsa_key();
    let raw = sign(key, "bank.example", "rsa", &message("bank.example", BODY));
    let dns = records(&[("rsa._domainkey.bank.example", &rec)]);
    let ev = judge(&raw, Some(dns.clone()), None);
    assert_eq!(rules(&ev), ["auth.dkim_pass_aligned"], "{ev:?}");
    let forged = raw.replace("Subject: Your account", "Subject: Your acc0unt");
    let ev = judge(&forged, Some(dns), None);
    assert_eq!(rules(&ev), ["auth.dkim_fail"], "{ev:?}");
    assert!(ev[0].words.contains("does not verify"), "{ev:?}");
}

#[test]
fn tampered_body_fails_and_says_so() {
    let (raw, rec) = ed_signed("bank.example", "s1", "bank.example");
    let tampered = raw.replace("Friday", "today");
    let dns = records(&[("s1._domainkey.bank.example", &rec)]);
    let ev = judge(&tampered, Some(dns), None);
    assert_eq!(rules(&ev), ["auth.dkim_fail"], "{ev:?}");
    assert_eq!(ev[0].weight, 3);
    assert!(ev[0].words.contains("body hash"), "{ev:?}");
    // Without records the body hash alone tells the same.
    let ev = judge(&tampered, None, None);
    assert_eq!(rules(&ev), ["auth.dkim_body_altered"], "{ev:?}");
    // And the untouched message says nothing without records.
    assert!(judge(&raw, None, None).is_empty());
}

#[test]
fn wrong_key_fails() {
    let (raw, _) = ed_signed("bank.example", "s1", "bank.example");
    let (_, other) = ed_key();
    let ev = judge(
        &raw,
        Some(records(&[("s1._domainkey.bank.example", &other)])),
        None,
    );
    assert_eq!(rules(&ev), ["auth.dkim_fail"], "{ev:?}");
    assert!(
        ev[0]
            .words
            .contains("does not verify with the supplied key"),
        "{ev:?}"
    );
    // A revoked key (p= empty) fails as well.
    let ev = judge(
        &raw,
        Some(records(&[("s1._domainkey.bank.example", "v=DKIM1; p=")])),
        None,
    );
    assert_eq!(rules(&ev), ["auth.dkim_fail"], "{ev:?}");
    assert!(ev[0].words.contains("revokes"), "{ev:?}");
}

#[test]
fn missing_key_is_said_only_when_records_were_supplied() {
    let (raw, rec) = ed_signed("bank.example", "s1", "bank.example");
    let ev = judge(
        &raw,
        Some(records(&[("s2._domainkey.bank.example", &rec)])),
        None,
    );
    assert_eq!(rules(&ev), ["auth.dkim_no_key"], "{ev:?}");
    assert_eq!(ev[0].weight, 0);
    assert!(judge(&raw, None, None).is_empty());
}

#[test]
fn signer_of_another_domain_is_unaligned_and_dmarc_fails() {
    let (raw, rec) = ed_signed("esp.example", "k1", "bank.example");
    let key_rec = ("k1._domainkey.esp.example", rec.as_str());
    let ev = judge(&raw, Some(records(&[key_rec])), None);
    assert_eq!(rules(&ev), ["auth.dkim_pass_unaligned"], "{ev:?}");
    assert_eq!(ev[0].weight, 0);
    // With bank.example's DMARC policy: nothing aligned passes.
    for (policy, weight) in [("reject", 6), ("quarantine", 5), ("none", 2)] {
        let dmarc = format!("v=DMARC1; p={policy}");
        let ev = judge(
            &raw,
            Some(records(&[key_rec, ("_dmarc.bank.example", &dmarc)])),
            None,
        );
        let f = rule(&ev, "auth.dmarc_fail").expect("dmarc_fail");
        assert_eq!(f.weight, weight, "{f:?}");
        assert!(f.words.contains(&format!("p={policy}")), "{f:?}");
    }
}

#[test]
fn dmarc_passes_with_an_aligned_signature() {
    let (raw, rec) = ed_signed("bank.example", "s1", "news.bank.example");
    let key_rec = ("s1._domainkey.bank.example", rec.as_str());
    // Relaxed (default) alignment: the organisational domain's record applies.
    let ev = judge(
        &raw,
        Some(records(&[
            key_rec,
            ("_dmarc.bank.example", "v=DMARC1; p=reject"),
        ])),
        None,
    );
    assert_eq!(rules(&ev), ["auth.dkim_pass_aligned"], "{ev:?}");
    // Strict alignment: news.bank.example is not bank.example, and sp= applies.
    let ev = judge(
        &raw,
        Some(records(&[
            key_rec,
            (
                "_dmarc.bank.example",
                "v=DMARC1; p=reject; sp=quarantine; adkim=s",
            ),
        ])),
        None,
    );
    let f = rule(&ev, "auth.dmarc_fail").expect("dmarc_fail");
    assert_eq!(f.weight, 5);
    assert!(f.words.contains("p=quarantine"), "{f:?}");
}

#[test]
fn dmarc_not_judged_while_an_aligned_key_is_missing() {
    let (raw, _) = ed_signed("bank.example", "s1", "bank.example");
    let ev = judge(
        &raw,
        Some(records(&[("_dmarc.bank.example", "v=DMARC1; p=reject")])),
        None,
    );
    assert_eq!(rules(&ev), ["auth.dkim_no_key"], "{ev:?}");
}

#[test]
fn unsigned_mail_fails_dmarc_unless_the_trusted_server_saw_aligned_spf() {
    let raw = message("bank.example", BODY);
    let dns = records(&[("_dmarc.bank.example", "v=DMARC1; p=reject")]);
    let ev = judge(&raw, Some(dns.clone()), None);
    assert_eq!(rules(&ev), ["auth.dmarc_fail"], "{ev:?}");
    let spf = format!(
        "Authentication-Results: mx.mine.example; spf=pass smtp.mailfrom=bounce@bank.example\r\n{raw}"
    );
    assert!(judge(&spf, Some(dns.clone()), Some("mx.mine.example")).is_empty());
    // The same header from a server not trusted counts for nothing.
    let ev = judge(&spf, Some(dns), Some("mx.other.example"));
    assert_eq!(rules(&ev), ["auth.dmarc_fail"], "{ev:?}");
}

#[test]
fn untrusted_results_are_ignored_and_trusted_ones_read() {
    let raw = format!(
        "Authentication-Results: evil.example; dmarc=pass; dkim=pass header.d=bank.example\r\n\
         Authentication-Results: mx.mine.example (a comment; with semicolon);\r\n \
         dkim=fail header.d=bank.example; spf=softfail smtp.mailfrom=x@bank.example;\r\n \
         dmarc=fail header.from=bank.example\r\n{}",
        message("bank.example", BODY)
    );
    let ev = judge(&raw, None, Some("mx.mine.example"));
    assert_eq!(
        rules(&ev),
        ["auth.dmarc_fail", "auth.spf_softfail", "auth.dkim_fail"],
        "{ev:?}"
    );
    assert!(
        ev[0].words.starts_with("mx.mine.example says dmarc=fail"),
        "{ev:?}"
    );
    // Without a trusted server named, none is read.
    assert!(judge(&raw, None, None).is_empty());
    let ev = judge(&raw, None, Some("evil.example"));
    assert_eq!(rules(&ev), ["auth.dmarc_pass"], "{ev:?}");
    assert_eq!(ev[0].weight, -3);
}

#[test]
fn trusted_passes_for_another_domain_are_not_aligned() {
    let raw = format!(
        "Authentication-Results: mx.mine.example; dkim=pass header.d=esp.example;\r\n \
         spf=pass smtp.mailfrom=bounce@esp.example\r\n{}",
        message("bank.example", BODY)
    );
    let ev = judge(&raw, None, Some("mx.mine.example"));
    assert_eq!(rules(&ev), ["auth.not_aligned"], "{ev:?}");
    assert!(ev[0].words.contains("header.d=esp.example"), "{ev:?}");
    let aligned = raw.replace("header.d=esp.example", "header.d=mail.bank.example");
    assert!(judge(&aligned, None, Some("mx.mine.example")).is_empty());
}

#[test]
fn signatures_beyond_the_bound_are_counted_not_checked() {
    let mut raw = message("bank.example", BODY);
    let mut recs = Vec::new();
    for i in 0..10 {
        let (key, rec) = ed_key();
        raw = sign(key, "bank.example", &format!("s{i}"), &raw);
        recs.push((format!("s{i}._domainkey.bank.example"), rec));
    }
    let recs: Vec<(&str, &str)> = recs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let ev = judge(&raw, Some(records(&recs)), None);
    assert_eq!(
        rules(&ev),
        ["auth.dkim_pass_aligned", "auth.dkim_unusable"],
        "{ev:?}"
    );
    assert!(ev[1].words.contains("2 more DKIM-Signature"), "{ev:?}");
    assert_eq!(ev[0].words.matches("d=bank.example").count(), 8, "{ev:?}");
}

/// RFC 8463 appendix A: a message signed by the RFC's authors with RSA and
/// Ed25519 (`tests/data/rfc8463.eml`), and their published keys as a zone
/// file (`tests/data/rfc8463.zone`).
#[test]
fn rfc8463_example_verifies() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let raw = std::fs::read_to_string(data.join("rfc8463.eml")).unwrap();
    let (dns, problems) = Dns::load(&data.join("rfc8463.zone")).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(dns.len(), 2);
    let msg = MessageParser::default().parse(raw.as_bytes()).unwrap();
    let (signed, skipped) = dkim(raw.as_bytes(), &msg, Some(&dns));
    assert_eq!(skipped, 0);
    let got: Vec<(&str, &Outcome)> = signed
        .iter()
        .map(|s| (s.selector.as_str(), &s.outcome))
        .collect();
    let pass = Outcome::Pass { expired: false };
    assert_eq!(got, [("brisbane", &pass), ("test", &pass)]);
    // One byte of the body changed: both fail on the body hash.
    let altered = raw.replace("hungry", "Hungry");
    let msg = MessageParser::default().parse(altered.as_bytes()).unwrap();
    let (signed, _) = dkim(altered.as_bytes(), &msg, Some(&dns));
    assert_eq!(signed.len(), 2);
    assert!(
        signed
            .iter()
            .all(|s| matches!(&s.outcome, Outcome::Fail(w) if w.contains("body hash"))),
        "{signed:?}"
    );
}

/// The real corpus, without records: how many messages carry DKIM
/// signatures, and how many of those signatures' body hashes still match,
/// as received and after the corpus's leaks are neutralised (the same:
/// CRLF or LF does not change a canonical body). Mailing lists add footers
/// (the ham's list mail), and the phishing corpus was anonymised and
/// exported after delivery, so a mismatch is common on both sides: the
/// rule `auth.dkim_body_altered` weighs nothing.
#[test]
fn real_corpus_body_hashes() {
    // (signed messages, signatures, bodies matching, not matching,
    //  messages with a mismatch, messages with nothing but mismatches)
    let measured = [
        ("phish", (146, 165, 10, 155, 138, 138)),
        ("ham", (101, 140, 39, 101, 100, 62)),
    ];
    for (dir, expect) in measured {
        let (mut items, mut problems) = (Vec::new(), Vec::new());
        read(&shared("mail").join(dir), &mut items, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(items.len(), 251);
        for neutralised in [false, true] {
            let mut got = (0, 0, 0, 0, 0, 0);
            for i in &items {
                let bytes = if neutralised {
                    neutralise(&i.bytes)
                } else {
                    i.bytes.clone()
                };
                let msg = MessageParser::default().parse(&bytes[..]).unwrap();
                let (signed, skipped) = dkim(&bytes, &msg, None);
                assert_eq!(skipped, 0);
                if signed.is_empty() {
                    continue;
                }
                let altered = signed
                    .iter()
                    .filter(|s| s.outcome == Outcome::BodyAltered)
                    .count();
                let intact = signed
                    .iter()
                    .filter(|s| s.outcome == Outcome::BodyIntact)
                    .count();
                assert_eq!(altered + intact, signed.len(), "{}: {signed:?}", i.source);
                got.0 += 1;
                got.1 += signed.len();
                got.2 += intact;
                got.3 += altered;
                got.4 += (altered > 0) as usize;
                got.5 += (intact == 0) as usize;
            }
            assert_eq!(got, expect, "{dir}, neutralised: {neutralised}");
        }
    }
}

/// One real list message: the list server's signature (d=emwd.com,
/// relaxed/simple) made after its footer still matches the body; the
/// author's (d=gmail.com), made before the footer, does not.
#[test]
fn real_list_message_body_hashes() {
    let raw = neutralise(&std::fs::read(shared("mail/ham/usrp-0e9bd6c94064.eml")).unwrap());
    let msg = MessageParser::default().parse(&raw[..]).unwrap();
    let (signed, _) = dkim(&raw, &msg, None);
    let got: Vec<(&str, &Outcome)> = signed
        .iter()
        .map(|s| (s.domain.as_str(), &s.outcome))
        .collect();
    assert_eq!(
        got,
        [
            ("emwd.com", &Outcome::BodyIntact),
            ("gmail.com", &Outcome::BodyAltered)
        ]
    );
    let report = analyze("usrp", &raw, &Options::default());
    let e = report
        .evidence
        .iter()
        .find(|e| e.rule == "auth.dkim_body_altered")
        .unwrap();
    assert_eq!(e.weight, 0);
    assert!(e.words.contains("d=gmail.com"), "{e:?}");
}

/// Every rule of `raw` (not only `auth.*`).
fn all_rules(raw: &str, dns: Option<Arc<Dns>>) -> Vec<&'static str> {
    let opts = Options {
        dns,
        ..Options::default()
    };
    analyze("test", raw.as_bytes(), &opts)
        .evidence
        .into_iter()
        .map(|e| e.rule)
        .collect()
}

/// Mail from a brand's own domain must carry the brand's signature: a
/// forger can write `From: …@paypal.com` but cannot sign for it. A
/// signature for another domain does not count, nor one the brand's
/// supplied key proves false; free mail and unknown domains are not judged.
#[test]
fn a_brand_domain_without_its_signature_is_forged() {
    const RULE: &str = "sender.brand_domain_unsigned";
    assert!(all_rules(&message("paypal.com", BODY), None).contains(&RULE));
    // Signed by the brand: not judged, key or no key.
    let (own, rec) = ed_signed("paypal.com", "s1", "paypal.com");
    assert!(!all_rules(&own, None).contains(&RULE));
    let dns = records(&[("s1._domainkey.paypal.com", &rec)]);
    assert!(!all_rules(&own, Some(dns)).contains(&RULE));
    // A subdomain signing for the brand's registrable domain counts too.
    let (sub, _) = ed_signed("mail.paypal.com", "s1", "paypal.com");
    assert!(!all_rules(&sub, None).contains(&RULE));
    // Signed by someone else, or with a key the brand's record disowns.
    let (other, _) = ed_signed("bulk-sender.example", "s1", "paypal.com");
    assert!(all_rules(&other, None).contains(&RULE));
    let (_, brand_rec) = ed_key();
    let dns = records(&[("s1._domainkey.paypal.com", &brand_rec)]);
    assert!(all_rules(&own, Some(dns)).contains(&RULE));
    // A well-formed signature of the brand whose body hash does not match
    // (anyone can write one) is no signature of it.
    let altered = own.replace(BODY, "Please confirm your wallet before Monday.");
    assert_ne!(altered, own);
    assert!(all_rules(&altered, None).contains(&RULE));
    // Free mail (lists drop signatures; outlook.com is Microsoft's, but
    // free mail owns no brand) and ordinary domains: no rule.
    assert!(!all_rules(&message("outlook.com", BODY), None).contains(&RULE));
    assert!(!all_rules(&message("gmail.com", BODY), None).contains(&RULE));
    assert!(!all_rules(&message("example.org", BODY), None).contains(&RULE));
}

/// Forwarded as an attachment, a brand's genuine signed mail stays
/// genuine and a forgery of its domain stays forged: the attached
/// message's signatures are read (its `auth.*` evidence itself is left
/// out of the forwarder's judgement).
#[test]
fn an_attached_brand_mail_is_judged_by_its_own_signature() {
    const RULE: &str = "sender.brand_domain_unsigned";
    let attach = |original: &str| {
        format!(
            "From: Alice <alice@example-exchange.com>\r\nTo: security@example-exchange.com\r\nSubject: Fwd: real?\r\nMessage-ID: <f@example-exchange.com>\r\nDate: Mon, 24 Nov 2025 11:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"f\"\r\n\r\n--f\r\nContent-Type: text/plain\r\n\r\nIs this real?\r\n--f\r\nContent-Type: message/rfc822\r\n\r\n{original}\r\n--f--\r\n"
        )
    };
    let (own, _) = ed_signed("paypal.com", "s1", "paypal.com");
    assert!(!all_rules(&attach(&own), None).contains(&RULE));
    let forged = all_rules(&attach(&message("paypal.com", BODY)), None);
    assert!(forged.contains(&RULE), "{forged:?}");
    assert!(!forged.iter().any(|r| r.starts_with("auth.")), "{forged:?}");
}

/// A malformed signature naming the brand does not pass for its own, nor
/// does a brand's own domain the user protects (`--protect`: mail inside
/// the organisation is often unsigned) get judged so.
#[test]
fn a_fake_signature_does_not_hide_a_forged_brand_domain_and_own_mail_is_not_judged() {
    const RULE: &str = "sender.brand_domain_unsigned";
    let fake = format!(
        "DKIM-Signature: v=1; a=rsa-sha256; d=paypal.com; s=x; b=AA\r\n{}",
        message("paypal.com", BODY)
    );
    assert!(all_rules(&fake, None).contains(&RULE));
    let opts = Options {
        protected: chainhound_mail::lookalike::Protected::with(&["paypal.com".to_string()]),
        ..Options::default()
    };
    let own = analyze("test", message("paypal.com", BODY).as_bytes(), &opts);
    assert!(
        own.evidence.iter().all(|e| e.rule != RULE),
        "{:?}",
        own.evidence
    );
}

/// A `Date` ending in `UT` is padded before mail-parser reads the message
/// (it would swallow the next header); DKIM must still read the bytes as
/// signed. With simple header canonicalisation two spaces more would break
/// the signature, so this fails if DKIM read the padded copy.
#[test]
fn a_padded_date_line_keeps_its_signature() {
    let (key, rec) = ed_key();
    let msg = message("bank.example", BODY).replace("+0000\r\n", "UT\r\n");
    assert!(msg.contains(":00 UT\r\nMessage-ID"));
    let raw = DkimSigner::from_key(key)
        .domain("bank.example")
        .selector("s1")
        .headers(["From", "To", "Subject", "Date", "Message-ID"])
        .header_canonicalization(mail_auth::dkim::Canonicalization::Simple)
        .sign(msg.as_bytes())
        .unwrap()
        .to_header()
        + &msg;
    let dns = records(&[("s1._domainkey.bank.example", &rec)]);
    let ev = judge(&raw, Some(dns.clone()), None);
    assert_eq!(rules(&ev), ["auth.dkim_pass_aligned"], "{ev:?}");
    // The same bytes with the spaces added by hand: the signature breaks.
    let padded = raw.replace(":00 UT\r\n", ":00 UT  \r\n");
    let ev = judge(&padded, Some(dns), None);
    assert!(rule(&ev, "auth.dkim_pass_aligned").is_none(), "{ev:?}");
}
