//! Links inside attachments are judged as the body's are: a PDF whose one
//! button goes to a shortener or to a page on free hosting is how much of
//! the shared corpus's phishing reaches its reader (the body says "see the
//! attached file"). Real messages of `../shared/data/mail`, and messages
//! built here with inert PDFs.

use chainhound_mail::analyze::{analyze, Options, Report};
use chainhound_mail::eval::neutralise;
use chainhound_testdata::shared;

#[path = "common/samples.rs"]
mod samples;
use samples::base64;

fn real(dir: &str, name: &str) -> Vec<u8> {
    neutralise(&std::fs::read(shared("mail").join(dir).join(name)).unwrap())
}

fn words<'a>(r: &'a Report, rule: &str) -> Vec<&'a str> {
    r.fired(rule)
        .into_iter()
        .map(|e| e.words.as_str())
        .collect()
}

/// A one-page PDF whose only content is a link annotation to `url`.
fn pdf_to(url: &str) -> Vec<u8> {
    format!(
        "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R /Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 600 800] /A << /S /URI /URI ({url}) >> >>] >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )
    .into_bytes()
}

/// A message from `from` with a plain `body` and `pdf` attached as `name`.
fn with_pdf(from: &str, body: &str, name: &str, pdf: &[u8]) -> Vec<u8> {
    format!(
        "From: {from}\nTo: alice@example-exchange.com\nSubject: Your statement\nDate: Mon, 23 Nov 2026 09:00:00 +0000\nMessage-ID: <s-1@example.org>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain\n\n{body}\n\n--b1\nContent-Type: application/pdf; name=\"{name}\"\nContent-Disposition: attachment; filename=\"{name}\"\nContent-Transfer-Encoding: base64\n\n{}\n--b1--\n",
        base64(pdf)
    )
    .into_bytes()
}

#[test]
fn a_real_pdf_lure_is_judged_by_where_its_button_goes() {
    let opts = Options::default();
    // "Get_it_urgently_0.7495_BTC": a Gmail sender, one line of text and a
    // PDF whose one link goes through bit.ly.
    let r = analyze("186", &real("phish", "pp-sample-186.eml"), &opts);
    let w = words(&r, "link.shortener");
    assert_eq!(w.len(), 1, "{:#?}", r.evidence);
    assert!(
        w[0].contains("bit.ly") && w[0].contains("(in Bitcoin_Transaction_0.7495_BTCU2zPm.pdf)"),
        "{w:?}"
    );
    assert!(r.indicators.link_domains.iter().any(|h| h == "bit.ly"));
    assert!(r
        .indicators
        .urls
        .iter()
        .any(|u| u.starts_with("https://bit.ly/")));
    // "Crédito IR Liberado": the PDF's button opens an Azure static site.
    let r = analyze("1019", &real("phish", "pp-sample-1019.eml"), &opts);
    let w = words(&r, "link.free_hosting");
    assert!(
        w.len() == 1
            && w[0].contains("web.core.windows.net")
            && w[0].contains("(in U1vn48GmdQr.pdf)"),
        "{:#?}",
        r.evidence
    );
}

#[test]
fn attachment_links_add_to_the_body_s_without_repeating_a_rule() {
    // A bill from example.org with `body`, its PDF `name` linking to `url`.
    let judged = |body: &str, name: &str, url: &str| {
        let m = with_pdf("Billing <billing@example.org>", body, name, &pdf_to(url));
        analyze("m", &m, &Options::default())
    };
    // The body already goes through a shortener: the PDF's shortener is
    // not counted again, its free-hosting page is.
    let pay = "Pay here: https://bit.ly/abc";
    let r = judged(pay, "invoice.pdf", "https://tinyurl.com/x");
    assert_eq!(
        words(&r, "link.shortener"),
        ["link through the shortener bit.ly"]
    );
    let r = judged(pay, "invoice.pdf", "https://pay-now.web.app/login");
    assert_eq!(
        words(&r, "link.free_hosting"),
        ["link to a page on free hosting: pay-now.web.app (in invoice.pdf)"]
    );
    // A statement linking to its sender's own site: listed, not evidence.
    let r = judged(
        "Your statement is attached.",
        "statement.pdf",
        "https://www.example.org/account",
    );
    assert!(
        !r.evidence.iter().any(|e| e.rule.starts_with("link.")),
        "{:#?}",
        r.evidence
    );
    assert_eq!(r.indicators.link_domains, ["www.example.org"]);
}

#[test]
fn a_document_of_many_links_is_listed_not_judged_and_members_are_named() {
    // A catalogue with four links, one through a shortener: listed only.
    let mut pdf = b"%PDF-1.4\n".to_vec();
    for u in [
        "https://shop.example/a",
        "https://shop.example/b",
        "https://shop.example/c",
        "https://bit.ly/d",
    ] {
        pdf.extend_from_slice(format!("<< /URI ({u}) >>\n").as_bytes());
    }
    let r = analyze(
        "m",
        &with_pdf("shop@shop.example", "Our catalogue.", "catalogue.pdf", &pdf),
        &Options::default(),
    );
    assert!(
        !r.evidence.iter().any(|e| e.rule.starts_with("link.")),
        "{:#?}",
        r.evidence
    );
    assert_eq!(r.indicators.urls.len(), 4);
    // ... but a link to a bare IP address counts in a file of any size.
    pdf.extend_from_slice(b"<< /URI (http://203.0.113.7/login) >>\n");
    let r = analyze(
        "m",
        &with_pdf("shop@shop.example", "Our catalogue.", "catalogue.pdf", &pdf),
        &Options::default(),
    );
    assert_eq!(
        words(&r, "link.ip_literal"),
        ["link goes to the bare address 203.0.113.7 (in catalogue.pdf)"]
    );
    assert!(words(&r, "link.shortener").is_empty());
    // A lure PDF inside a zip is named after its archive.
    let lure = pdf_to("https://pay-now.web.app/login");
    let zip = samples::zip_raw(&[samples::RawMember {
        name: "invoice.pdf".into(),
        method: 0,
        flags: 0,
        crc: samples::crc32(&lure),
        size: lure.len() as u32,
        packed: lure,
    }]);
    let m = with_pdf("billing@example.org", "See the file.", "docs.zip", &zip);
    let r = analyze("m", &m, &Options::default());
    assert_eq!(
        words(&r, "link.free_hosting"),
        ["link to a page on free hosting: pay-now.web.app (in docs.zip › invoice.pdf)"]
    );
}

#[test]
fn many_attachments_full_of_links_stay_bounded() {
    // 150 PDFs of 60 links each: 50 kept per file, 200 judged and listed.
    let mut m = String::from("From: x@example.org\nTo: alice@example-exchange.com\nSubject: docs\nMessage-ID: <m@example.org>\nDate: Mon, 23 Nov 2026 09:00:00 +0000\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain\n\nsee attached\n");
    for f in 0..150 {
        let mut pdf = b"%PDF-1.4\n".to_vec();
        for k in 0..60 {
            pdf.extend_from_slice(format!("<< /URI (https://h{f}-{k}.example/) >>\n").as_bytes());
        }
        m.push_str(&format!("--b1\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"d{f}.pdf\"\nContent-Transfer-Encoding: base64\n\n{}\n", base64(&pdf)));
    }
    m.push_str("--b1--\n");
    let r = analyze("m", m.as_bytes(), &Options::default());
    assert_eq!(r.indicators.urls.len(), 200);
    assert_eq!(r.indicators.link_domains.len(), 200);
    assert!(r.indicators.urls[0].starts_with("https://h0-0.example"));
}
