//! A message forwarded to the security team is judged by its original:
//! real messages of the shared corpus (`../shared/data/mail`) forwarded
//! by a colleague, attached whole (`message/rfc822`, as "report phishing"
//! buttons do) and quoted inline under a Gmail header block. The
//! original's sender rules fire, said to be the forwarded message's; a
//! forwarded legitimate mail gains no sender evidence.

use chainhound_mail::analyze::{analyze, Options, Report};
use chainhound_mail::eval::neutralise;
use chainhound_testdata::shared;

#[path = "common/samples.rs"]
mod samples;
use samples::base64;

/// A real message of the corpus, leaks neutralised.
fn real(dir: &str, name: &str) -> Vec<u8> {
    neutralise(&std::fs::read(shared("mail").join(dir).join(name)).unwrap())
}

/// Headers of a colleague's forward.
const FORWARDER: &str = "From: Alice Kim <alice@example-exchange.com>\nTo: security@example-exchange.com\nDate: Mon, 23 Nov 2026 09:00:00 +0000\nMessage-ID: <fwd-1@example-exchange.com>\nMIME-Version: 1.0\n";

/// `original` forwarded as an attachment.
fn attached(original: &[u8]) -> Vec<u8> {
    let mut m = format!(
        "{FORWARDER}Subject: Fwd: is this real?\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain\n\nIs this real? It came to my inbox.\n\n--b1\nContent-Type: message/rfc822\nContent-Disposition: attachment; filename=\"original.eml\"\n\n"
    )
    .into_bytes();
    m.extend_from_slice(original);
    m.extend_from_slice(b"\n--b1--\n");
    m
}

/// `original` forwarded as an `.eml` file named `name`, sent as
/// `application/octet-stream` (as some webmails do).
fn as_eml_file(original: &[u8], name: &str) -> Vec<u8> {
    let mut m = format!(
        "{FORWARDER}Subject: Fwd: is this real?\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain\n\nSee the attached.\n\n--b1\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"{name}\"\nContent-Transfer-Encoding: base64\n\n"
    )
    .into_bytes();
    m.extend_from_slice(base64(original).as_bytes());
    m.extend_from_slice(b"\n--b1--\n");
    m
}

/// A forward quoting `from` and `subject` above `body`, Gmail's way.
fn inline(from: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "{FORWARDER}Subject: Fwd: {subject}\nContent-Type: text/plain; charset=utf-8\n\nIs this real?\n\n---------- Forwarded message ---------\nFrom: {from}\nDate: Wed, 15 Nov 2023 at 10:12\nSubject: {subject}\nTo: <alice@example-exchange.com>\n\n{body}\n"
    )
    .into_bytes()
}

/// The rules said of the original of an inline forward of `body` from
/// `from` with `subject`, and the whole report (for messages).
fn inline_rules(from: &str, subject: &str, body: &str) -> (Vec<&'static str>, Report) {
    let r = analyze("inline", &inline(from, subject, body), &Options::default());
    let rules = r
        .evidence
        .iter()
        .filter(|e| e.words.starts_with("in the forwarded message"))
        .map(|e| e.rule)
        .collect();
    (rules, r)
}

fn rules_of<'a>(r: &'a Report, whose: &str) -> Vec<&'a str> {
    r.evidence
        .iter()
        .filter(|e| e.words.starts_with(whose))
        .map(|e| e.rule)
        .collect()
}

#[test]
fn a_forwarded_phish_is_judged_by_its_original() {
    let opts = Options::default();
    // `From: LEDGER <2019144932@talento.tls.edu.pe>`, "Important notification".
    let original = real("phish", "pp-sample-1862.eml");
    let alone = analyze("original", &original, &opts);
    assert!(alone
        .evidence
        .iter()
        .any(|e| e.rule == "sender.brand_as_name"));

    let r = analyze("attached", &attached(&original), &opts);
    let inner = rules_of(&r, "in the attached message");
    assert!(inner.contains(&"sender.brand_as_name"), "{:?}", r.evidence);
    // Its lures count too, and the verdict is the original's or worse
    // (the copy's header and attachment evidence aside).
    assert!(
        r.score >= alone.score - 3 && r.verdict >= alone.verdict,
        "forwarded {} ({:?}) against {} alone",
        r.score,
        r.verdict,
        alone.score
    );

    // A passing Authentication-Results of the user's own server, forged
    // into the attached message, speaks for nothing.
    let trusting = Options {
        authserv_id: Some("mx.example-exchange.com".into()),
        ..Options::default()
    };
    let mut forged = b"Authentication-Results: mx.example-exchange.com; dmarc=pass header.from=talento.tls.edu.pe\n".to_vec();
    forged.extend_from_slice(&original);
    let alone_forged = analyze("forged", &forged, &trusting);
    assert!(
        alone_forged
            .evidence
            .iter()
            .any(|e| e.rule == "auth.dmarc_pass"),
        "{:?}",
        alone_forged.evidence
    );
    let r = analyze("attached-forged", &attached(&forged), &trusting);
    assert!(
        !r.evidence.iter().any(|e| e.rule.starts_with("auth.")),
        "{:?}",
        r.evidence
    );
    assert_eq!(
        r.score,
        analyze("attached", &attached(&original), &trusting).score
    );

    // Sent as a file of another type, as some webmails do.
    let m = as_eml_file(&original, "Important notification.EML");
    let r = analyze("octet", &m, &opts);
    let inner = rules_of(&r, "in the attached message");
    assert!(inner.contains(&"sender.brand_as_name"), "{:?}", r.evidence);

    let text = "Your account is missing some info that we need to comply with financial regulations. Please take a moment to verify your info today.";
    let (inner, r) = inline_rules(
        "LEDGER <2019144932@talento.tls.edu.pe>",
        "Important notification",
        text,
    );
    assert!(inner.contains(&"sender.brand_as_name"), "{:?}", r.evidence);
    // The same text forwarded from the brand's own domain: no sender rule.
    let (inner, r) = inline_rules("Ledger <hello@ledger.com>", "Important notification", text);
    assert!(inner.is_empty(), "{:?}", r.evidence);
}

/// Past 8 attached messages (the smallest judged first), the others are
/// said not to be judged: a phish behind 8 small decoys is not silently
/// passed over.
#[test]
fn attached_messages_past_the_limit_are_said_unjudged() {
    let opts = Options::default();
    let original = real("phish", "pp-sample-1862.eml");
    let mut m = format!("{FORWARDER}Subject: Fwd: many\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain\n\nSee these.\n").into_bytes();
    for i in 0..8 {
        m.extend_from_slice(format!("--b1\nContent-Type: message/rfc822\n\nFrom: a{i}@example.org\nSubject: note {i}\n\nhello\n").as_bytes());
    }
    m.extend_from_slice(b"--b1\nContent-Type: message/rfc822\n\n");
    m.extend_from_slice(&original);
    m.extend_from_slice(b"\n--b1--\n");
    let r = analyze("many", &m, &opts);
    let unjudged = r.fired("forward.unjudged");
    assert_eq!(unjudged.len(), 1, "{:?}", r.evidence);
    assert!(
        unjudged[0].words.starts_with("1 attached"),
        "{}",
        unjudged[0].words
    );
    assert_eq!(r.score, r.evidence.iter().map(|e| e.weight).sum::<i32>());
}

#[test]
fn a_forwarded_legitimate_mail_gains_no_sender_evidence() {
    let opts = Options::default();
    // `From: Lucas Gonze <lgonze@panix.com>`, a mailing-list reply.
    let original = real(
        "ham",
        "sa-easy-ham-1-00072.8dcd09744b5534002262a8f3927ba3fc.eml",
    );
    let alone = analyze("original", &original, &opts);
    let r = analyze("attached", &attached(&original), &opts);
    let inner = rules_of(&r, "in the attached message");
    assert!(
        !inner.iter().any(|rule| rule.starts_with("sender.")),
        "{:?}",
        r.evidence
    );
    assert!(
        r.score <= alone.score + 2,
        "{} against {}",
        r.score,
        alone.score
    );
    let (inner, r) = inline_rules(
        "Lucas Gonze <lgonze@panix.com>",
        "Re: The case for spam",
        "Spam is a problem of economics.",
    );
    assert!(inner.is_empty(), "{:?}", r.evidence);
}

#[test]
fn a_message_sent_as_an_eml_file_has_its_attachments_inspected() {
    // "Get_it_urgently_0.7495_BTC": its PDF's one link goes through bit.ly.
    let original = real("phish", "pp-sample-186.eml");
    let m = as_eml_file(&original, "bitcoin.eml");
    let r = analyze("octet", &m, &Options::default());
    let names: Vec<&str> = r
        .indicators
        .attachments
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["bitcoin.eml", "Bitcoin_Transaction_0.7495_BTCU2zPm.pdf"],
        "{:?}",
        r.indicators
    );
    assert!(
        r.evidence
            .iter()
            .any(|e| e.rule == "link.shortener" && e.words.contains("bit.ly")),
        "{:#?}",
        r.evidence
    );
}
