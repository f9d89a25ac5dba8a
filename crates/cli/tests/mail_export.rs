//! `eval mail --export DIR`: every message as judged (leaks neutralised)
//! under DIR/{phish,ham}/{dev,test}/, and DIR/chainhound.tsv with the
//! scores the evaluation gave them, so that another engine
//! (tools/spamassassin_compare.sh) runs on the same bytes and halves.

mod common;

use chainhound_mail::analyze::{analyze, Options};
use chainhound_mail::eval::{neutralise, split_of, Split};
use common::run;
use std::collections::BTreeMap;

#[test]
fn export_writes_the_judged_messages_and_their_scores() {
    let t = tempfile::tempdir().unwrap();
    let (phish, ham) = (t.path().join("phish"), t.path().join("ham"));
    std::fs::create_dir_all(&phish).unwrap();
    std::fs::create_dir_all(&ham).unwrap();
    // CRLF and the honeypot address: both must be gone in the export.
    let lure = "From: \"Binance Support\" <help@binance-verify.example>\r\nTo: phishing@pot\r\nSubject: Verify your wallet\r\n\r\nEnter your seed phrase at https://binance-verify.example/x urgently.\r\n";
    for i in 0..6 {
        std::fs::write(phish.join(format!("p-{i}.eml")), lure).unwrap();
    }
    let lunch = "From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: lunch\nMessage-ID: <1@x>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\nNoon?\n";
    for i in 0..5 {
        std::fs::write(ham.join(format!("h-{i}.eml")), lunch).unwrap();
    }
    // An mbox of two messages: exported as NAME.1 and NAME.2.
    std::fs::write(
        ham.join("list.mbox"),
        format!(
            "From a@b Mon Jan  1 00:00:00 2024\n{lunch}From c@d Tue Jan  2 00:00:00 2024\n{lunch}"
        ),
    )
    .unwrap();
    let out = t.path().join("export");
    let eval = |extra: &[&str]| eval_mail(&t.path().join("index"), &phish, &ham, extra);
    let o = eval(&["--json", "--export", out.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The evaluation's own output is unchanged JSON.
    serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap();

    let tsv = std::fs::read_to_string(out.join("chainhound.tsv")).unwrap();
    let mut lines = tsv.lines();
    assert_eq!(lines.next(), Some("label\tsplit\tname\tscore\tverdict"));
    let rows: BTreeMap<(String, String), (String, i32, String)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "{l}");
            (
                (f[0].to_string(), f[2].to_string()),
                (f[1].to_string(), f[3].parse().unwrap(), f[4].to_string()),
            )
        })
        .collect();
    assert_eq!(rows.len(), 6 + 5 + 2);
    for ((label, name), (half, score, verdict)) in &rows {
        // The half is the file's (an mbox's messages share their file's).
        let file = name.split(".mbox").next().unwrap();
        let file = if name.contains(".mbox") {
            format!("{file}.mbox")
        } else {
            file.to_string()
        };
        let want = match split_of(&file) {
            Split::Dev => "dev",
            Split::Test => "test",
        };
        assert_eq!(half, want, "{name}");
        let path = out.join(label).join(half).join(name);
        let bytes = std::fs::read(&path).unwrap();
        let original = if label == "phish" { lure } else { lunch };
        assert_eq!(bytes, neutralise(original.as_bytes()), "{name}");
        assert!(!bytes.contains(&b'\r'));
        // The score is the one the evaluation gave these bytes.
        let r = analyze(name, &bytes, &Options::default());
        assert_eq!(*score, r.score, "{name}");
        assert_eq!(verdict, r.verdict.name(), "{name}");
    }
    assert!(rows.contains_key(&("ham".to_string(), "list.mbox.1".to_string())));
    assert!(rows.contains_key(&("ham".to_string(), "list.mbox.2".to_string())));
    let phish_scores: Vec<i32> = rows
        .iter()
        .filter(|(k, _)| k.0 == "phish")
        .map(|(_, v)| v.1)
        .collect();
    let ham_scores: Vec<i32> = rows
        .iter()
        .filter(|(k, _)| k.0 == "ham")
        .map(|(_, v)| v.1)
        .collect();
    assert!(phish_scores.iter().min() > ham_scores.iter().max());

    // A place it cannot write to is a clear error.
    let blocker = t.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let o = eval(&["--export", blocker.join("sub").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cannot create"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Two files of one name in different folders are both exported (the
/// second as NAME.2), each with its own score.
#[test]
fn export_keeps_files_of_the_same_name_apart() {
    let t = tempfile::tempdir().unwrap();
    let (phish, ham) = (t.path().join("phish"), t.path().join("ham"));
    for d in ["a", "b"] {
        std::fs::create_dir_all(phish.join(d)).unwrap();
    }
    std::fs::create_dir_all(&ham).unwrap();
    let a = "From: \"Binance Support\" <help@binance-verify.example>\nSubject: Verify your wallet\n\nEnter your seed phrase urgently.\n";
    let b = "From: Bob <bob@example.org>\nSubject: hi\n\nhello\n";
    std::fs::write(phish.join("a/1.eml"), a).unwrap();
    std::fs::write(phish.join("b/1.eml"), b).unwrap();
    std::fs::write(ham.join("h.eml"), b).unwrap();
    let out = t.path().join("export");
    let o = eval_mail(
        &t.path().join("index"),
        &phish,
        &ham,
        &["--export", out.to_str().unwrap()],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let tsv = std::fs::read_to_string(out.join("chainhound.tsv")).unwrap();
    let names: Vec<&str> = tsv
        .lines()
        .filter(|l| l.starts_with("phish\t"))
        .map(|l| l.split('\t').nth(2).unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{tsv}");
    assert!(
        names.contains(&"1.eml") && names.contains(&"1.eml.2"),
        "{names:?}"
    );
    let half = match split_of("1.eml") {
        Split::Dev => "dev",
        Split::Test => "test",
    };
    let read = |n: &str| std::fs::read(out.join("phish").join(half).join(n)).unwrap();
    assert_ne!(read("1.eml"), read("1.eml.2"));
}

/// `chainhound eval mail --phish PHISH --ham HAM EXTRA...`.
fn eval_mail(
    index: &std::path::Path,
    phish: &std::path::Path,
    ham: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "eval",
        "mail",
        "--phish",
        phish.to_str().unwrap(),
        "--ham",
        ham.to_str().unwrap(),
    ];
    args.extend(extra);
    run(index, &args)
}
