//! `mail scan --dns FILE` end to end: the RFC 8463 example message (signed
//! by the RFC's authors, `crates/mail/tests/data`) verified against the
//! RFC's published keys given in a records file, its bad line named with
//! the line number and the good ones kept; an unreadable records file is an
//! error naming it.

mod common;

use common::run;
use serde_json::Value;

/// `crates/mail/tests/data`: the RFC 8463 example message and its keys.
fn data(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mail/tests/data")
        .join(name)
}

fn rules(stdout: &[u8]) -> Vec<String> {
    let v: Value = serde_json::from_slice(stdout).unwrap();
    v[0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["rule"].as_str().unwrap().to_string())
        .filter(|r| r.starts_with("auth."))
        .collect()
}

#[test]
fn scan_verifies_dkim_with_supplied_records() {
    let t = tempfile::tempdir().unwrap();
    let ix = t.path().join("index");
    let mail = data("rfc8463.eml");
    let records = t.path().join("records.txt");
    let zone = std::fs::read_to_string(data("rfc8463.zone")).unwrap();
    std::fs::write(
        &records,
        format!("; a bad line next\nexample.com IN A 192.0.2.1\n{zone}"),
    )
    .unwrap();
    let (m, r) = (mail.to_str().unwrap(), records.to_str().unwrap());
    let o = run(&ix, &["mail", "scan", m, "--dns", r, "--json"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("records.txt:2: example.com: a A record"),
        "{err}"
    );
    assert_eq!(rules(&o.stdout), ["auth.dkim_pass_aligned"]);
    // Without records: the body hash alone, which matches: nothing said.
    let o = run(&ix, &["mail", "scan", m, "--json"]);
    assert_eq!(rules(&o.stdout), Vec::<String>::new());
    // A records file that is not there is an error that names it.
    let o = run(
        &ix,
        &["mail", "scan", m, "--dns", "/nonexistent/records.txt"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/records.txt"));
}
