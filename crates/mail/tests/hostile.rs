//! Hostile input: decompression bombs, deep nesting, huge headers, broken
//! encodings, corrupt containers, large mboxes and maildirs with entries
//! that cannot be read. Every input is built here, at test time, and is
//! inert (headers with the shape of a threat, no code that could run);
//! nothing big is stored.
//!
//! What is checked: no panic; a report (or a named problem) for every
//! input; the lists a report carries stay bounded; the work spent stays
//! within [`Limits`] (bytes unpacked, members opened); and the evidence
//! that should fire still does (a bomb, an encrypted archive, an
//! executable nested within the depth limit). Time is not asserted here
//! (`bench/src/bin/mail_bench.rs` measures it); the inputs are sized so
//! that the whole file runs in a few seconds.

use chainhound_mail::analyze::{analyze, Options, Report};
use chainhound_mail::attach::{self, Attachment, Limits, Report as AttReport};
use chainhound_mail::source::{read, split_mbox, Item, Problem};
use miniz_oxide::deflate::{compress_to_vec, compress_to_vec_zlib};
use std::path::{Path, PathBuf};

#[path = "common/samples.rs"]
mod samples;
use samples::{base64, cfb_file, crc32, fake_pe, pdf_objstm, zip_raw as zip, RawMember};

// ---------------------------------------------------------------------------
// Builders.

/// A zip member as written (`packed` as stored, `size` as declared).
type Member = RawMember;

/// A deflated member declaring its true size.
fn deflated(name: &str, data: &[u8]) -> Member {
    Member {
        name: name.to_owned(),
        method: 8,
        flags: 0,
        packed: compress_to_vec(data, 1),
        size: data.len() as u32,
        crc: crc32(data),
    }
}

/// A stored member.
fn stored(name: &str, data: &[u8]) -> Member {
    Member {
        name: name.to_owned(),
        method: 0,
        flags: 0,
        packed: data.to_vec(),
        size: data.len() as u32,
        crc: crc32(data),
    }
}

const HEAD: &str = "From: Billing <billing@example.com>\nTo: user@example.org\nSubject: your invoice\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <1@example.com>\nMIME-Version: 1.0\n";

/// A message with a text part and attachments (name, MIME type, bytes),
/// base64-encoded.
fn with_attachments(atts: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut m = format!(
        "{HEAD}Content-Type: multipart/mixed; boundary=\"outer\"\n\n--outer\nContent-Type: text/plain\n\nPlease see the attachment.\n"
    );
    for (name, ctype, bytes) in atts {
        m.push_str(&format!(
            "--outer\nContent-Type: {ctype}; name=\"{name}\"\nContent-Disposition: attachment; filename=\"{name}\"\nContent-Transfer-Encoding: base64\n\n{}\n",
            base64(bytes)
        ));
    }
    m.push_str("--outer--\n");
    m.into_bytes()
}

fn judge(raw: &[u8]) -> Report {
    analyze("hostile", raw, &Options::default())
}

fn fired(r: &Report, rule: &str) -> bool {
    r.evidence.iter().any(|e| e.rule == rule)
}

fn inspect(name: &str, bytes: &[u8]) -> AttReport {
    attach::inspect(&Attachment {
        name: Some(name),
        declared: None,
        bytes,
    })
}

/// The evidence of `rule` on `r`, which must have fired.
fn expect<'a>(r: &'a AttReport, rule: &str) -> &'a chainhound_mail::Evidence {
    r.get(rule)
        .unwrap_or_else(|| panic!("{rule} did not fire on {}: {:?}", r.name, r.evidence))
}

/// Every report in the tree (the root included).
fn walk<'a>(r: &'a AttReport, out: &mut Vec<&'a AttReport>) {
    out.push(r);
    for m in &r.inner {
        walk(m, out);
    }
}

/// Checks that bound any attachment report: members opened and bytes
/// unpacked within `lim` (plus what lists names only), evidence words
/// short, each rule once.
fn assert_bounded(r: &AttReport, lim: &Limits) {
    let mut all = Vec::new();
    walk(r, &mut all);
    let members = &all[1..];
    // Members whose content was read have a hash; the others are listed by
    // name only (and kept only when the name is evidence).
    let read = members.iter().filter(|m| !m.sha256.is_empty()).count();
    assert!(
        read <= lim.max_members,
        "{read} members read, over {}",
        lim.max_members
    );
    assert!(
        members.len() <= 2 * lim.max_members + 1,
        "{} member reports kept",
        members.len()
    );
    let unpacked: u64 = members
        .iter()
        .filter(|m| !m.sha256.is_empty())
        .map(|m| m.size)
        .sum();
    // A stored member is its container's bytes (counted once per level).
    assert!(
        unpacked <= lim.max_inflated_total * lim.max_depth as u64,
        "{unpacked} bytes unpacked"
    );
    for x in &all {
        for e in &x.evidence {
            assert!(e.words.len() <= 1000, "{}: {} bytes", e.rule, e.words.len());
        }
        let mut rules: Vec<_> = x.evidence.iter().map(|e| e.rule).collect();
        rules.sort_unstable();
        let n = rules.len();
        rules.dedup();
        assert_eq!(rules.len(), n, "a rule fired twice on {}", x.name);
    }
}

/// Checks that bound any message report.
fn assert_report_bounded(r: &Report) {
    assert_eq!(r.score, r.evidence.iter().map(|e| e.weight).sum::<i32>());
    assert!(r.subject.as_ref().is_none_or(|s| s.chars().count() <= 300));
    assert!(
        r.indicators.urls.len() <= 500,
        "{}",
        r.indicators.urls.len()
    );
    assert!(r.indicators.link_domains.len() <= 200);
    let c = &r.indicators.crypto;
    for v in [&c.btc, &c.eth, &c.trx, &c.txids] {
        assert!(v.len() <= 200);
    }
    for e in &r.evidence {
        assert!(e.words.len() <= 4000, "{}: {} bytes", e.rule, e.words.len());
    }
}

/// A small deterministic generator for mutations.
fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

// ---------------------------------------------------------------------------
// Decompression bombs.

const MIB: usize = 1 << 20;

#[test]
fn zip_bombs_are_flagged_not_inflated() {
    let lim = Limits::default();
    let zeros = vec![0u8; 24 * MIB];
    let honest = deflated("disk.img.bin", &zeros);
    assert!(honest.packed.len() < 256 << 10, "{}", honest.packed.len());
    // The same stream with lying headers: 1 kB, and 0.
    let liar = Member {
        name: "small.txt".into(),
        size: 1000,
        ..deflated("x", &[])
    };
    let liar = Member {
        packed: honest.packed.clone(),
        ..liar
    };
    let zero = Member {
        name: "empty.txt".into(),
        packed: honest.packed.clone(),
        size: 0,
        method: 8,
        flags: 0,
        crc: 0,
    };
    for (what, member) in [("honest", honest), ("lying", liar), ("zero", zero)] {
        let z = zip(&[member, stored("readme.txt", b"hello")]);
        let r = inspect("archive.zip", &z);
        assert_eq!(r.detected, "zip");
        let bomb = r
            .get("attach.archive_bomb")
            .unwrap_or_else(|| panic!("{what}: {:?}", r.evidence));
        assert!(bomb.weight >= 6, "{what}");
        // The bomb was not unpacked (no hash); the harmless member was.
        assert!(r.inner.iter().any(|m| m.sha256.is_empty()), "{what}");
        assert!(
            r.inner
                .iter()
                .any(|m| m.name == "readme.txt" && !m.sha256.is_empty()),
            "{what}"
        );
        assert_bounded(&r, &lim);
        // And through a whole message.
        let msg = judge(&with_attachments(&[("archive.zip", "application/zip", &z)]));
        assert!(
            fired(&msg, "attach.archive_bomb"),
            "{what}: {:?}",
            msg.evidence
        );
        assert_report_bounded(&msg);
    }
}

/// A zip within `levels` zips around `inner` (named `name`).
fn nest(levels: usize, name: &str, inner: &[u8]) -> Vec<u8> {
    let mut b = zip(&[deflated(name, inner)]);
    for k in 1..levels {
        b = zip(&[deflated(&format!("level{k}.zip"), &b)]);
    }
    b
}

#[test]
fn nested_zips_find_the_program_within_the_depth_limit() {
    let lim = Limits::default();
    assert_eq!(lim.max_depth, 3);
    // Three zips deep: the program sits at depth 3, not a container, so it
    // is inspected.
    let r = inspect("docs.zip", &nest(3, "invoice.exe", &fake_pe()));
    let c = r.get("attach.archive_contains").expect("program found");
    assert!(c.words.contains("invoice.exe"), "{}", c.words);
    assert!(c.weight >= 8);
    assert!(r.get("attach.too_deep").is_none());
    // Deeper: the container at the limit is reported and not opened.
    for levels in [4, 5, 12] {
        let r = inspect("docs.zip", &nest(levels, "invoice.exe", &fake_pe()));
        let c = r.get("attach.archive_contains").expect("too deep is risky");
        assert!(c.words.contains("nested 3 containers deep"), "{}", c.words);
        assert_bounded(&r, &lim);
    }
    // Through a message, three deep.
    let z = nest(3, "invoice.exe", &fake_pe());
    let msg = judge(&with_attachments(&[("docs.zip", "application/zip", &z)]));
    assert!(fired(&msg, "attach.archive_contains"), "{:?}", msg.evidence);
}

#[test]
fn fan_out_zip_bomb_stays_within_the_budgets() {
    // 42.zip's shape: each level holds 8 stored copies of the level below;
    // the leaf holds 4 MiB of zeros. 8^4 leaves, 16 GiB in all.
    let lim = Limits::default();
    let leaf = zip(&[deflated("zeros.bin", &vec![0u8; 4 * MIB])]);
    let mut level = leaf;
    for k in 0..4 {
        let copies: Vec<Member> = (0..8)
            .map(|i| stored(&format!("l{k}-{i}.zip"), &level))
            .collect();
        level = zip(&copies);
    }
    let r = inspect("42.zip", &level);
    assert_bounded(&r, &lim);
    assert!(
        r.get("attach.archive_contains").is_some() || r.get("attach.unchecked").is_some(),
        "{:?}",
        r.evidence
    );
    // Many members, most past the budget: judged by name, still bounded.
    let many: Vec<Member> = (0..5000)
        .map(|i| stored(&format!("f{i}.exe"), b"x"))
        .collect();
    let r = inspect("many.zip", &zip(&many));
    assert_bounded(&r, &lim);
    assert!(r.get("attach.unchecked").is_some());
    assert!(r.get("attach.archive_contains").is_some());
    // No central directory, 20,000 members whose sizes follow their data
    // (so each runs to the next header), then 4 MiB of zeros: walked by
    // the local headers, each searched for once.
    let mut b = Vec::new();
    for i in 0..20_000 {
        let name = format!("m{i}.js");
        b.extend(b"PK\x03\x04");
        b.extend(20u16.to_le_bytes());
        b.extend(8u16.to_le_bytes());
        b.extend([0u8; 14]);
        b.extend([0u8; 4]);
        b.extend((name.len() as u16).to_le_bytes());
        b.extend(0u16.to_le_bytes());
        b.extend(name.as_bytes());
        b.extend(b"var x = 1;");
    }
    b.extend(vec![0u8; 4 * MIB]);
    let r = inspect("nodir.zip", &b);
    assert_eq!(r.detected, "zip");
    assert_bounded(&r, &lim);
    expect(&r, "attach.archive_contains");
    assert!(r
        .inner
        .iter()
        .any(|m| m.name == "m0.js" && m.detected == "script-js"));
}

/// Many small archives, each within the limits alone (1 MiB of zeros: at
/// the bomb floor), inspected as one message's attachments: one budget for
/// all of them.
#[test]
fn many_small_archives_share_one_budget() {
    let lim = Limits::default();
    let z = zip(&[deflated("zeros.bin", &vec![0u8; MIB])]);
    let mut insp = attach::Inspector::new(lim);
    let reports: Vec<AttReport> = (0..300)
        .map(|i| {
            insp.inspect(&Attachment {
                name: Some(&format!("part{i}.zip")),
                declared: None,
                bytes: &z,
            })
        })
        .collect();
    let members: Vec<&AttReport> = reports.iter().flat_map(|r| &r.inner).collect();
    let read: Vec<&&AttReport> = members.iter().filter(|m| !m.sha256.is_empty()).collect();
    assert!(!read.is_empty());
    assert!(read.len() <= lim.max_members, "{}", read.len());
    let unpacked: u64 = read.iter().map(|m| m.size).sum();
    assert!(unpacked <= lim.max_inflated_total, "{unpacked}");
    assert!(insp.unpack_left() < MIB as u64);
    // Every archive is still reported; the last ones by name only.
    assert_eq!(reports.len(), 300);
    let last = reports.last().unwrap();
    assert_eq!(last.sha256.len(), 64);
    expect(last, "attach.unchecked");
    // Alone, the same archive is unpacked.
    let alone = inspect("part0.zip", &z);
    assert!(!alone.inner[0].sha256.is_empty());
}

#[test]
fn ooxml_bomb_is_flagged() {
    let lim = Limits::default();
    let content_types = || {
        deflated(
            "[Content_Types].xml",
            b"<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>",
        )
    };
    let spaces = vec![b' '; 24 * MIB];
    let body = deflated("word/document.xml", &spaces);
    // The same part declaring 2 kB.
    let lying_body = Member {
        size: 2048,
        ..deflated("word/document.xml", &spaces)
    };
    let lying_rels = Member {
        size: 100,
        ..deflated("word/_rels/document.xml.rels", &spaces)
    };
    let embedded = deflated("word/embeddings/oleObject1.bin", &spaces);
    for (what, part) in [
        ("honest body", body),
        ("lying body", lying_body),
        ("lying rels", lying_rels),
        ("embedded", embedded),
    ] {
        let all = [
            content_types(),
            deflated("word/styles.xml", b"<w:styles/>"),
            part,
        ];
        let d = zip(&all);
        let r = inspect(&format!("{what}.docx"), &d);
        assert_eq!(r.detected, "ooxml-docx", "{what}");
        expect(&r, "attach.archive_bomb");
        assert_bounded(&r, &lim);
    }
}

#[test]
fn gzip_and_tar_bombs_and_truncations() {
    let lim = Limits::default();
    let zeros = vec![0u8; 16 * MIB];
    let mut gz = vec![0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3];
    gz.extend(b"payload.exe\0");
    gz.extend(compress_to_vec(&zeros, 1));
    let r = inspect("logs.gz", &gz);
    expect(&r, "attach.archive_bomb");
    assert_bounded(&r, &lim);
    // gzip in gzip in gzip ...: the depth limit holds.
    let mut g = fake_pe();
    for _ in 0..10 {
        let mut h = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
        h.extend(compress_to_vec(&g, 1));
        g = h;
    }
    let r = inspect("x.gz", &g);
    assert_bounded(&r, &lim);
    expect(&r, "attach.archive_contains");
    // Every truncation of a small gzip and a tar header claiming 8 GB.
    for cut in 0..gz.len().min(300) {
        assert_bounded(&inspect("t.gz", &gz[..cut]), &lim);
    }
    let mut tar = vec![0u8; 1024];
    tar[..11].copy_from_slice(b"setup.exe\0\0");
    tar[124..136].copy_from_slice(b"77777777777\0");
    tar[156] = b'0';
    tar[257..262].copy_from_slice(b"ustar");
    let r = inspect("a.tar", &tar);
    assert_bounded(&r, &lim);
    expect(&r, "attach.archive_contains");
}

// ---------------------------------------------------------------------------
// MIME nesting.

#[test]
fn thousands_of_nested_multiparts() {
    let depth = 3000;
    let mut m = String::from(HEAD);
    for i in 0..depth {
        m.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\n\n--b{i}\n"
        ));
    }
    m.push_str(&format!(
        "Content-Type: application/octet-stream; name=\"invoice.exe\"\nContent-Disposition: attachment; filename=\"invoice.exe\"\nContent-Transfer-Encoding: base64\n\n{}\n",
        base64(&fake_pe())
    ));
    let open = m.clone();
    for i in (0..depth).rev() {
        m.push_str(&format!("--b{i}--\n"));
    }
    let r = judge(m.as_bytes());
    assert_report_bounded(&r);
    assert!(fired(&r, "attach.executable"), "{:?}", r.evidence);
    // Never closed: every boundary runs to the end.
    let r = judge(open.as_bytes());
    assert_report_bounded(&r);
}

#[test]
fn nested_forwarded_messages() {
    let depth = 2000;
    let mut m = String::new();
    for _ in 0..depth {
        m.push_str(HEAD);
        m.push_str("Content-Type: message/rfc822\n\n");
    }
    m.push_str(HEAD);
    m.push_str("\nThe end.\n");
    let r = judge(m.as_bytes());
    assert_report_bounded(&r);
    // Base64-encoded forwarded messages, each inside the next.
    let mut inner = format!("{HEAD}\nThe end.\n");
    for _ in 0..50 {
        inner = format!(
            "{HEAD}Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n{}\n",
            base64(inner.as_bytes())
        );
        if inner.len() > 4 * MIB {
            break;
        }
    }
    let r = judge(inner.as_bytes());
    assert_report_bounded(&r);
}

/// Forwarded messages are judged as messages (their sender rules), 3 deep
/// and 8 at each level at most (584 of them): a fan-out of 16 attached
/// messages at each of 3 levels (4,369 messages) is judged within those
/// bounds, and the brand-borrowing sender of every leaf counts once.
#[test]
fn a_fan_out_of_forwarded_messages_is_judged_within_bounds() {
    let leaf = "From: Coinbase <alerts@coinbase-secure-mail.example>\nSubject: Action required\nMessage-ID: <l@x>\n\nVerify your account.\n";
    let mut m = leaf.to_string();
    for level in 0..3 {
        let b = format!("fan{level}");
        let mut next = format!("{HEAD}Content-Type: multipart/mixed; boundary=\"{b}\"\n\n");
        for _ in 0..16 {
            next.push_str(&format!("--{b}\nContent-Type: message/rfc822\n\n{m}\n"));
        }
        next.push_str(&format!("--{b}--\n"));
        m = next;
    }
    assert!(m.len() > MIB / 2, "{} bytes", m.len());
    let r = judge(m.as_bytes());
    assert_report_bounded(&r);
    let borrowed = r.fired("sender.brand_as_name");
    assert_eq!(borrowed.len(), 1, "{:?}", r.evidence);
    assert!(borrowed[0].words.starts_with("in the attached message"));
}

/// A message forwarded as an attachment, holding a program: the program
/// should be found, as a program in an archive is.
#[test]
fn program_in_a_forwarded_message_is_found() {
    let inner = with_attachments(&[("invoice.exe", "application/octet-stream", &fake_pe())]);
    let mut m = format!(
        "{HEAD}Content-Type: multipart/mixed; boundary=\"fw\"\n\n--fw\nContent-Type: text/plain\n\nForwarded.\n--fw\nContent-Type: message/rfc822\n\n"
    )
    .into_bytes();
    m.extend(&inner);
    m.extend(b"\n--fw--\n");
    let r = judge(&m);
    assert!(fired(&r, "attach.executable"), "{:?}", r.evidence);
}

// ---------------------------------------------------------------------------
// Huge headers and many parts.

#[test]
fn huge_headers() {
    // One 6 MB subject line.
    let mut m = String::from("From: a@example.com\nSubject: ");
    m.push_str(&"urgent ".repeat(6 * MIB / 7));
    m.push_str("\n\nbody\n");
    let r = judge(m.as_bytes());
    assert_report_bounded(&r);
    assert!(r.subject.is_some());
    // 100,000 header lines.
    let mut m = String::from("From: a@example.com\nSubject: hi\n");
    for i in 0..100_000 {
        m.push_str(&format!("X-Junk-{i}: {i}\n"));
    }
    m.push_str("\nbody\n");
    let r = judge(m.as_bytes());
    assert_report_bounded(&r);
    assert_eq!(r.subject.as_deref(), Some("hi"));
    // One header folded over 200,000 lines, and 50,000 recipients.
    let mut m = String::from("From: a@example.com\nSubject: hi\nX-Fold: a");
    m.push_str(&"\n b".repeat(200_000));
    m.push_str("\nTo: ");
    for i in 0..50_000 {
        m.push_str(&format!("u{i}@example.com, "));
    }
    m.push_str("\n\nbody\n");
    assert_report_bounded(&judge(m.as_bytes()));
}

#[test]
fn many_links_and_addresses_stay_bounded() {
    let mut body = String::new();
    for i in 0..20_000 {
        body.push_str(&format!(
            "<a href=\"http://h{i}.example.net/x\">www.binance.com</a> http://t{i}.example.org/ "
        ));
    }
    // 5,000 Ethereum-style addresses and txids.
    for i in 0..5_000u64 {
        body.push_str(&format!(" 0x{:040x} {:064x} ", i + 1, i + 7));
    }
    let m = format!("{HEAD}Content-Type: text/html\n\n<html><body>{body}</body></html>\n");
    let r = judge(m.as_bytes());
    assert_report_bounded(&r);
    assert!(fired(&r, "link.text_names_other_host"), "{:?}", r.evidence);
    assert_eq!(r.indicators.crypto.eth.len(), 200);
}

/// Thousands of attachments: the report must stay bounded, the evidence
/// summed up rather than repeated per attachment. (Today each attachment
/// gets its own `Limits`: 2,000 zips of 1 MiB of zeros, a 13.6 MB message,
/// take 2.2 s to judge, 2 GB inflated.)
#[test]
fn thousands_of_attachments_stay_bounded() {
    let pe = fake_pe();
    let names: Vec<String> = (0..3000).map(|i| format!("invoice{i}.exe")).collect();
    let atts: Vec<(&str, &str, &[u8])> = names
        .iter()
        .map(|n| (n.as_str(), "application/octet-stream", &pe[..]))
        .collect();
    let r = judge(&with_attachments(&atts));
    assert_report_bounded(&r);
    assert!(fired(&r, "attach.executable"));
    assert!(
        r.indicators.attachments.len() <= 100,
        "{}",
        r.indicators.attachments.len()
    );
    assert!(r.evidence.len() <= 100, "{}", r.evidence.len());
}

// ---------------------------------------------------------------------------
// Broken transfer encodings.

#[test]
fn broken_base64_and_quoted_printable() {
    let good = base64(&fake_pe());
    let variants = [
        good.replace('A', "*"),               // characters outside the alphabet
        good[..good.len() / 2].to_owned(),    // truncated
        good.replace('=', ""),                // padding missing
        format!("{}====AAAA==", &good[..40]), // padding in the middle
        "=".repeat(10_000),                   // padding only
        "\u{0}\u{1}\u{2}".repeat(1000),       // control bytes
        format!("{good}\n{}", "%%%%".repeat(50_000)),
    ];
    for (i, v) in variants.iter().enumerate() {
        let m = format!(
            "{HEAD}Content-Type: multipart/mixed; boundary=\"z\"\n\n--z\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n{v}\n--z\nContent-Type: application/octet-stream; name=\"scan.pdf.exe\"\nContent-Disposition: attachment; filename=\"scan.pdf.exe\"\nContent-Transfer-Encoding: base64\n\n{v}\n--z--\n"
        );
        let r = judge(m.as_bytes());
        assert_report_bounded(&r);
        // The name alone is evidence, whatever the content decoded to.
        assert!(
            fired(&r, "attach.double_extension"),
            "variant {i}: {:?}",
            r.evidence
        );
    }
    let qp = [
        "=XZ=G1=\n=".to_owned(),
        "=".repeat(100_000),
        format!("{}=\n", "a".repeat(2 * MIB)),
        "=E2=80=AE=\r\n=0".repeat(10_000),
    ];
    for v in &qp {
        let m = format!(
            "{HEAD}Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n<a href=3D\"http://x.example/\">{v}</a>\n"
        );
        assert_report_bounded(&judge(m.as_bytes()));
    }
    // Unknown charsets and transfer encodings.
    let m = format!(
        "{HEAD}Content-Type: text/plain; charset=\"x-\u{fffd}-nonsense\"\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 a.exe\nM35H``\nend\n"
    );
    assert_report_bounded(&judge(m.as_bytes()));
}

// ---------------------------------------------------------------------------
// Corrupt documents.

fn ole_with_macros() -> Vec<u8> {
    cfb_file(&[
        ("/WordDocument", &[0u8; 4096]),
        ("/Macros/VBA/dir", &[1u8; 3000]),
        ("/Macros/VBA/ThisDocument", &[2u8; 5000]),
        (
            "/Macros/PROJECT",
            b"ID=\"{00000000-0000-0000-0000-000000000000}\"",
        ),
    ])
}

fn hwp_with_postscript() -> Vec<u8> {
    let mut header = vec![0u8; 256];
    header[..17].copy_from_slice(b"HWP Document File");
    header[32..36].copy_from_slice(&0x0500_0300u32.to_le_bytes());
    header[36..40].copy_from_slice(&1u32.to_le_bytes());
    let ps = format!(
        "%!PS-Adobe-3.0\n/pad <{}> def\nshowpage\n",
        "41".repeat(3000)
    );
    let js: Vec<u8> = "var o = new ActiveXObject(\"WScript.Shell\");"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    cfb_file(&[
        ("/FileHeader", &header),
        ("/DocInfo", &[0u8; 16]),
        ("/BinData/BIN0001.eps", &compress_to_vec(ps.as_bytes(), 6)),
        ("/Scripts/DefaultJScript", &compress_to_vec(&js, 6)),
    ])
}

/// Truncations at many points and byte flips at random places: never a
/// panic, always a bounded report.
fn mutate_all(name: &str, good: &[u8], seed: u64) {
    let lim = Limits::default();
    let step = (good.len() / 97).max(1);
    for cut in (0..good.len()).step_by(step) {
        assert_bounded(&inspect(name, &good[..cut]), &lim);
    }
    let mut s = seed;
    for _ in 0..150 {
        let mut b = good.to_vec();
        for _ in 0..1 + xorshift(&mut s) % 8 {
            let at = (xorshift(&mut s) as usize) % b.len();
            b[at] = xorshift(&mut s) as u8;
        }
        assert_bounded(&inspect(name, &b), &lim);
    }
}

#[test]
fn corrupt_ole_and_hwp() {
    let ole = ole_with_macros();
    let r = inspect("order.doc", &ole);
    expect(&r, "attach.ole_macros");
    mutate_all("order.doc", &ole, 0x9E37_79B9_7F4A_7C15);
    let hwp = hwp_with_postscript();
    let r = inspect("notice.hwp", &hwp);
    assert_eq!(r.detected, "hwp");
    expect(&r, "attach.hwp_eps");
    assert!(r.get("attach.hwp_script").is_some_and(|e| e.weight >= 8));
    mutate_all("notice.hwp", &hwp, 0xD1B5_4A32_D192_ED03);
    // A FAT whose chains loop back on themselves: every FAT entry of the
    // file points to sector 0.
    let mut looped = ole.clone();
    let fat_sector = u32::from_le_bytes(looped[0x4C..0x50].try_into().unwrap()) as usize;
    let at = 512 * (fat_sector + 1);
    for k in (at..at + 512).step_by(4) {
        if looped[k..k + 4] != [0xFF, 0xFF, 0xFF, 0xFD] {
            looped[k..k + 4].copy_from_slice(&0u32.to_le_bytes());
        }
    }
    assert_bounded(&inspect("loop.doc", &looped), &Limits::default());
    // The corrupt files through a message.
    let r = judge(&with_attachments(&[
        ("order.doc", "application/msword", &ole[..ole.len() / 2]),
        ("notice.hwp", "application/x-hwp", &hwp[..hwp.len() - 700]),
        ("loop.doc", "application/msword", &looped),
    ]));
    assert_report_bounded(&r);
}

#[test]
fn corrupt_pdfs() {
    let lim = Limits::default();
    let pdf = pdf_objstm(b"1 0 obj << /OpenAction 4 0 R /F (invoice.pdf .exe) >> endobj\n%%EOF\n");
    let r = inspect("statement.pdf", &pdf);
    expect(&r, "attach.pdf_javascript");
    expect(&r, "attach.pdf_launch");
    mutate_all("statement.pdf", &pdf, 0x2545_F491_4F6C_DD1D);
    // Pathological shapes: 200,000 stream keywords, an object stream whose
    // zlib data is garbage, unterminated strings and escapes, deep
    // parentheses, a name made of escapes.
    let mut p = b"%PDF-1.7\n".to_vec();
    p.extend(b"stream\n".repeat(200_000));
    assert_bounded(&inspect("a.pdf", &p), &lim);
    let mut p = b"%PDF-1.7\n1 0 obj << /Type /ObjStm /Filter /FlateDecode >> stream\n".to_vec();
    p.extend([0x78, 0x9c]);
    p.extend((0..100_000u32).map(|i| (i * 7919 % 251) as u8));
    assert_bounded(&inspect("b.pdf", &p), &lim);
    let mut p = b"%PDF-1.7\n/F (".to_vec();
    p.extend(b"(".repeat(100_000));
    p.extend(b"\\");
    assert_bounded(&inspect("c.pdf", &p), &lim);
    let mut p = b"%PDF-1.7\n/".to_vec();
    p.extend(b"#4".repeat(50_000));
    p.extend(b" /J#61vaScript /#");
    assert_bounded(&inspect("d.pdf", &p), &lim);
    // A stream declaring a length far past the end, and a ten-level
    // object stream in object stream.
    let mut inner = b"<< /S /JavaScript /JS (app.alert(1)) >>".to_vec();
    for _ in 0..10 {
        let mut o =
            b"1 0 obj << /Type /ObjStm /Filter /FlateDecode /Length 99999999 >> stream\n".to_vec();
        o.extend(compress_to_vec_zlib(&inner, 6));
        o.extend(b"\nendstream endobj\n");
        inner = o;
    }
    let mut p = b"%PDF-1.7\n".to_vec();
    p.extend(inner);
    assert_bounded(&inspect("e.pdf", &p), &lim);
}

#[test]
fn encrypted_archives_still_flagged_when_corrupt() {
    let lim = Limits::default();
    let mut enc = stored("invoice.pdf.exe", &fake_pe());
    enc.flags = 1;
    let z = zip(&[enc, stored("note.txt", b"password: 1234")]);
    let r = inspect("protected.zip", &z);
    expect(&r, "attach.encrypted_archive");
    expect(&r, "attach.archive_contains");
    // Without its central directory (cut before it): the local headers
    // still say so.
    let cd = z.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    let r = inspect("protected.zip", &z[..cd]);
    expect(&r, "attach.encrypted_archive");
    mutate_all("protected.zip", &z, 0x8CB9_2BA7_2F3D_8DD7);
    assert_bounded(&r, &lim);
}

/// A zip64 archive whose offsets point near the end of the address space:
/// the locator's record offset, the record's directory offset, or the
/// member's offset in its zip64 extra field (`bad` picks which).
fn zip64_with_far_offset(bad: usize) -> Vec<u8> {
    let far = u64::MAX - 2;
    let name = b"invoice.exe";
    let data = fake_pe();
    let mut b = Vec::new();
    b.extend(b"PK\x03\x04");
    b.extend(45u16.to_le_bytes());
    b.extend([0u8; 4]); // flags, method: stored
    b.extend([0u8; 4]);
    b.extend(crc32(&data).to_le_bytes());
    b.extend((data.len() as u32).to_le_bytes());
    b.extend((data.len() as u32).to_le_bytes());
    b.extend((name.len() as u16).to_le_bytes());
    b.extend(0u16.to_le_bytes());
    b.extend(name);
    b.extend(&data);
    let cd_off = b.len() as u64;
    let mut cd = Vec::new();
    cd.extend(b"PK\x01\x02");
    cd.extend(45u16.to_le_bytes());
    cd.extend(45u16.to_le_bytes());
    cd.extend([0u8; 4]);
    cd.extend([0u8; 4]);
    cd.extend(crc32(&data).to_le_bytes());
    cd.extend(u32::MAX.to_le_bytes());
    cd.extend(u32::MAX.to_le_bytes());
    cd.extend((name.len() as u16).to_le_bytes());
    cd.extend(28u16.to_le_bytes());
    cd.extend([0u8; 10]);
    cd.extend(u32::MAX.to_le_bytes());
    cd.extend(name);
    cd.extend(1u16.to_le_bytes());
    cd.extend(24u16.to_le_bytes());
    cd.extend((data.len() as u64).to_le_bytes());
    cd.extend((data.len() as u64).to_le_bytes());
    cd.extend((if bad == 2 { far } else { 0 }).to_le_bytes());
    b.extend(&cd);
    let rec_off = b.len() as u64;
    b.extend(b"PK\x06\x06");
    b.extend(44u64.to_le_bytes());
    b.extend([45, 0, 45, 0]);
    b.extend([0u8; 8]);
    b.extend(1u64.to_le_bytes());
    b.extend(1u64.to_le_bytes());
    b.extend((cd.len() as u64).to_le_bytes());
    b.extend((if bad == 1 { far } else { cd_off }).to_le_bytes());
    b.extend(b"PK\x06\x07");
    b.extend([0u8; 4]);
    b.extend((if bad == 0 { far } else { rec_off }).to_le_bytes());
    b.extend(1u32.to_le_bytes());
    b.extend(b"PK\x05\x06");
    b.extend([0u8; 4]);
    b.extend([0xFF; 4]);
    b.extend(u32::MAX.to_le_bytes());
    b.extend(u32::MAX.to_le_bytes());
    b.extend([0u8; 2]);
    b
}

#[test]
fn zip64_offsets_past_the_end_of_memory() {
    for bad in 0..3 {
        let r = inspect(&format!("far{bad}.zip"), &zip64_with_far_offset(bad));
        assert_eq!(r.detected, "zip");
        assert_bounded(&r, &Limits::default());
        // The member is still named, by the directory or the local header.
        assert!(
            r.inner.iter().any(|m| m.name == "invoice.exe"),
            "{bad}: {:?}",
            r.inner
        );
        expect(&r, "attach.archive_contains");
    }
}

// ---------------------------------------------------------------------------
// Mailboxes and folders.

/// A folder under the system temp folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "chainhound-hostile-{tag}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read_all(p: &Path) -> (Vec<Item>, Vec<Problem>) {
    let (mut items, mut problems) = (Vec::new(), Vec::new());
    read(p, &mut items, &mut problems);
    (items, problems)
}

#[test]
fn mbox_with_many_messages_and_a_garbage_tail() {
    let n = 5000;
    let mut mbox = Vec::new();
    for i in 0..n {
        mbox.extend(format!(
            "From sender{i}@example.com Mon Jan  1 00:00:00 2024\nFrom: s{i}@example.com\nSubject: message {i}\nMessage-ID: <{i}@example.com>\n\nbody {i}\n>From quoted\n\n"
        ).bytes());
    }
    let mut s = 7u64;
    mbox.extend((0..300_000).map(|_| xorshift(&mut s) as u8));
    let dir = TempDir::new("mbox");
    let path = dir.0.join("archive.mbox");
    std::fs::write(&path, &mbox).unwrap();
    let (items, problems) = read_all(&path);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(items.len(), n);
    assert_eq!(split_mbox(&mbox).len(), n);
    assert!(items[n - 1].source.ends_with(&format!("#{n}")));
    // The tail is kept with the last message (nothing is lost).
    assert!(items[n - 1].bytes.len() >= 300_000);
    for (i, it) in items.iter().enumerate().step_by(97) {
        let r = analyze(&it.source, &it.bytes, &Options::default());
        assert_eq!(r.subject.as_deref(), Some(format!("message {i}").as_str()));
    }
    let last = analyze(
        &items[n - 1].source,
        &items[n - 1].bytes,
        &Options::default(),
    );
    assert_report_bounded(&last);
}

#[test]
fn maildir_with_unreadable_entries() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let dir = TempDir::new("maildir");
    let md = dir.0.join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(md.join(sub)).unwrap();
    }
    let good = b"From: a@example.com\nSubject: fine\nMessage-ID: <a@b>\n\nhello\n";
    std::fs::write(md.join("cur/1.host:2,S"), good).unwrap();
    std::fs::write(md.join("new/2.host"), good).unwrap();
    std::fs::write(md.join("tmp/3.host"), b"being delivered").unwrap();
    // A link to a message elsewhere, a dangling link and a link to a folder.
    std::fs::write(dir.0.join("elsewhere.eml"), good).unwrap();
    symlink(dir.0.join("elsewhere.eml"), md.join("cur/4.link")).unwrap();
    symlink(dir.0.join("nowhere.eml"), md.join("cur/5.dangling")).unwrap();
    symlink(&md, md.join("cur/6.loop")).unwrap();
    // A socket (not a regular file: reading it would fail or block).
    let _sock = std::os::unix::net::UnixListener::bind(md.join("new/7.sock")).unwrap();
    // A sparse file over the read limit.
    let big = std::fs::File::create(md.join("new/8.huge")).unwrap();
    big.set_len(chainhound_mail::analyze::MAX_MESSAGE as u64 * 8 + 1)
        .unwrap();
    // A file without read permission (root reads it anyway).
    let locked = md.join("new/9.locked");
    std::fs::write(&locked, good).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let locked_readable = std::fs::read(&locked).is_ok();
    // An empty file and one of binary garbage.
    std::fs::write(md.join("cur/10.empty"), b"").unwrap();
    let mut s = 3u64;
    let junk: Vec<u8> = (0..50_000).map(|_| xorshift(&mut s) as u8).collect();
    std::fs::write(md.join("cur/11.junk"), &junk).unwrap();
    // A Maildir++ folder, and the server's own files at the top.
    std::fs::create_dir_all(md.join(".Junk/cur")).unwrap();
    std::fs::write(md.join(".Junk/cur/12.junkmail"), good).unwrap();
    std::fs::write(md.join("dovecot-uidlist"), b"3 V1 N13\n").unwrap();
    std::fs::write(md.join("subscriptions"), b"Junk\n").unwrap();

    let (items, problems) = read_all(&md);
    let names: Vec<String> = items
        .iter()
        .map(|i| {
            Path::new(&i.source)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let named = |what: &str| {
        problems
            .iter()
            .any(|p| p.path.to_string_lossy().contains(what))
    };
    for want in ["1.host:2,S", "2.host", "4.link", "12.junkmail"] {
        assert!(names.iter().any(|n| n == want), "{want} missing: {names:?}");
    }
    // No message: named, not judged.
    for want in ["10.empty", "11.junk"] {
        assert!(named(want), "{want} not named: {problems:?}");
        assert!(!names.iter().any(|n| n == want));
    }
    for server in ["dovecot-uidlist", "subscriptions"] {
        assert!(!names.iter().any(|n| n == server) && !named(server));
    }
    assert!(!names.iter().any(|n| n == "3.host"), "tmp/ is skipped");
    for want in ["5.dangling", "6.loop", "7.sock", "8.huge"] {
        assert!(named(want), "{want} not named: {problems:?}");
        assert!(!names.iter().any(|n| n == want));
    }
    if locked_readable {
        assert!(names.iter().any(|n| n == "9.locked"));
    } else {
        assert!(named("9.locked"), "{problems:?}");
    }
    for p in &problems {
        assert!(!p.message.is_empty());
    }
    for i in &items {
        assert_report_bounded(&analyze(&i.source, &i.bytes, &Options::default()));
    }
    // The socket named directly: a problem, no hang.
    let (items, problems) = read_all(&md.join("new/7.sock"));
    assert!(items.is_empty() && problems.len() == 1, "{problems:?}");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn garbage_of_every_kind_is_judged() {
    let mut s = 11u64;
    let samples: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"\n\n\n".to_vec(),
        b"From: \n".to_vec(),
        vec![0u8; 100_000],
        (0..200_000).map(|_| xorshift(&mut s) as u8).collect(),
        b":".repeat(100_000),
        b"Content-Type: multipart/mixed; boundary=\"\"\n\n--\n--\n".repeat(1000),
        b"Content-Type: multipart/mixed\n\n--x\n".to_vec(),
        "From: \u{202E}exe.pdf <a@\u{0431}inance.com>\nSubject: =?utf-8?B?////?= =?x?Q?=ZZ?=\n\n"
            .as_bytes()
            .to_vec(),
    ];
    for m in &samples {
        let r = judge(m);
        assert_report_bounded(&r);
    }
}

/// A `Date` header ending in a one- or two-letter zone (`UT`, RFC 5322's
/// obsolete form, found in real mail; or `Z`) made the parser read the line
/// break and the next header as part of the date: a `Content-Type` placed
/// there hid the attachments, a `From` the sender. Both are seen, with LF
/// and CRLF line ends, after `Date` and `Resent-Date`.
#[test]
fn a_date_header_cannot_hide_the_next_header() {
    for zone in ["UT", "Z", "GMT", "+0000"] {
        for field in ["Date", "Resent-Date", "date "] {
            for crlf in [false, true] {
                let body = format!(
                    "--b\nContent-Type: text/plain\n\nPlease see the attachment.\n--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"invoice.pdf.exe\"\nContent-Transfer-Encoding: base64\n\n{}\n--b--\n",
                    base64(&fake_pe())
                );
                let m = format!(
                    "Subject: your invoice\nMessage-ID: <1@example.com>\nMIME-Version: 1.0\n{field}: Mon, 1 Jan 2024 00:00:00 {zone}\nContent-Type: multipart/mixed; boundary=\"b\"\n{field}: Mon, 1 Jan 2024 00:00:00 {zone}\nFrom: Billing <billing@example.com>\n\n{body}"
                );
                let m = if crlf { m.replace('\n', "\r\n") } else { m };
                let r = judge(m.as_bytes());
                let what = format!("{field:?} {zone} crlf {crlf}: {:?}", r.evidence);
                assert!(fired(&r, "attach.executable"), "{what}");
                assert_eq!(
                    r.indicators.from.as_deref(),
                    Some("billing@example.com"),
                    "{what}"
                );
                assert!(!fired(&r, "sender.missing"), "{what}");
            }
        }
    }
}

/// mail-parser reads a field name skipping white space anywhere in it and
/// a `:` before it, so these lines are `Date` fields too, and their zone
/// read past the line break hid the next header (found by probing the
/// parser with crafted names; the probe is not kept).
#[test]
fn date_fields_the_parser_sees_under_other_spellings_cannot_hide_headers() {
    let att = format!(
        "--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: application/octet-stream\n{{PART}}Content-Disposition: attachment; filename=\"a.exe\"\nContent-Transfer-Encoding: base64\n\n{}\n--b--\n",
        base64(&fake_pe())
    );
    let date = "Mon, 1 Jan 2024 00:00:00 -a";
    let spellings = [
        format!("Da te: {date}\n"),
        format!("D a t e:{date}\n"),
        format!(":Date: {date}\n"),
        format!("Date{}: {date}\n", " ".repeat(25)),
        format!("Resent -Date: {date}\n"),
        format!("\rDate: {date}\n"),
        format!("\x0cDate: {date}\n"),
    ];
    for crlf in [false, true] {
        for d in &spellings {
            let cases = [
                // Before From, before Content-Type, first line, after a
                // line that is no field, and in a part's headers.
                format!("Subject: s\n{d}From: x@y.example\nContent-Type: multipart/mixed; boundary=\"b\"\n\n{}", att.replace("{PART}", "")),
                format!("From: x@y.example\nSubject: s\n{d}Content-Type: multipart/mixed; boundary=\"b\"\n\n{}", att.replace("{PART}", "")),
                format!(" {d}From: x@y.example\nContent-Type: multipart/mixed; boundary=\"b\"\n\n{}", att.replace("{PART}", "")),
                format!("Subject: s\njunk\n {d}From: x@y.example\nContent-Type: multipart/mixed; boundary=\"b\"\n\n{}", att.replace("{PART}", "")),
                format!("From: x@y.example\nContent-Type: multipart/mixed; boundary=\"b\"\n\n{}", att.replace("{PART}", d)),
                // Right after a boundary, on its line.
                format!("From: x@y.example\nContent-Type: multipart/mixed; boundary=\"b\"\n\n{}", att.replace("\n--b\nContent-Type: application", &format!("\n--b\r{d}Content-Type: application"))),
                format!("From: x@y.example\nContent-Type: multipart/mixed; boundary=\"b\"\n\n{}", att.replace("\n--b\nContent-Type: application", &format!("\n--b{d}Content-Type: application"))),
            ];
            for (k, m) in cases.iter().enumerate() {
                let m = if crlf {
                    m.replace('\n', "\r\n")
                } else {
                    m.clone()
                };
                let r = judge(m.as_bytes());
                let what = format!("case {k} {d:?} crlf {crlf}: {:?}", r.evidence);
                assert_eq!(r.indicators.from.as_deref(), Some("x@y.example"), "{what}");
                assert!(fired(&r, "attach.executable"), "{what}");
            }
        }
    }
}

/// mail-parser ends the headers at a line of only white space (a form
/// feed, `\r\r`, a space after a line that is no field); fields after it
/// fall into the body, where a filter does not read them but another
/// reader may. Said, not silently lost; an ordinary body that quotes a
/// `From:` line is nothing.
#[test]
fn headers_ended_by_a_line_of_white_space_are_said() {
    for m in [
        "Subject: s\n\x0c\nFrom: x@y.example\n\nhi\n",
        "Subject: s\r\n\r\r\nFrom: x@y.example\r\n\r\nhi\r\n",
        "Subject: s\njunk\n \nFrom: x@y.example\n\nhi\n",
        "Subject: s\njunk\n\t\nContent-Type: multipart/mixed; boundary=b\n\n--b\n",
    ] {
        let r = judge(m.as_bytes());
        assert!(fired(&r, "parse.header_split"), "{m:?}: {:?}", r.evidence);
    }
    for m in [
        "Subject: s\nFrom: x@y.example\n\nFrom: me, as quoted\n",
        "Subject: s\r\nFrom: x@y.example\r\n\r\nContent-Type: text/plain\r\n",
        "Subject: s\n\n\nFrom: quoted\n",
    ] {
        let r = judge(m.as_bytes());
        assert!(!fired(&r, "parse.header_split"), "{m:?}: {:?}", r.evidence);
    }
}

/// The parser reads a copy whose Date-like lines have two spaces more;
/// what is reported of an attachment is still of the bytes as sent: a
/// plain-text attachment whose first line looks like a Date field keeps
/// its SHA-256.
#[test]
fn an_attachment_s_hash_is_of_the_bytes_as_sent() {
    let content = "Date: Mon, 1 Jan 2024 00:00:00 GMT\nthe notes, as written";
    let m = format!(
        "From: x@y.example\nDate: Mon, 1 Jan 2024 00:00:00 UT\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: text/plain; name=\"notes.txt\"\nContent-Disposition: attachment; filename=\"notes.txt\"\n\n{content}\n--b--\n"
    );
    let r = judge(m.as_bytes());
    let got: Vec<_> = r
        .indicators
        .attachments
        .iter()
        .map(|a| a.sha256.as_str())
        .collect();
    assert_eq!(
        got,
        [inspect("notes.txt", content.as_bytes()).sha256.as_str()]
    );
}
