//! GraphSense TagPacks: the 56 real public packs load with the right
//! counts, lines, categories and inherited header fields; labels survive a
//! write and read back; GraphSense's own validator accepts what we write
//! and rejects a broken pack; odd and hostile input gives problems, never
//! a panic.
//!
//! The validator test runs `tools/tagpack_validate.sh`, which needs
//! graphsense-lib in its virtualenv (`tools/tagpack_validate.sh --setup`,
//! about 2 minutes and 440 MB from PyPI). Without it the test prints
//! "skipped" and passes.

use chainhound_intel::formats::tagpack::{self, PackHeader};
use chainhound_intel::label::{Category, Confidence, Label, Parsed, Subject};
use chainhound_testdata::shared;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn pack_path(name: &str) -> PathBuf {
    shared(&format!("tagpacks/packs/{name}"))
}

fn read_pack(name: &str) -> (String, Parsed) {
    let bytes = std::fs::read(pack_path(name)).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    (text, tagpack::read(&format!("packs/{name}"), &bytes))
}

fn label_for<'a>(p: &'a Parsed, id: &str) -> &'a Label {
    p.labels
        .iter()
        .find(|l| l.subject.id() == id)
        .unwrap_or_else(|| panic!("{id} not read"))
}

fn origin_line(l: &Label) -> usize {
    l.origin.rsplit(':').next().unwrap().parse().unwrap()
}

/// Tags counted by a plain line scan, independent of any YAML parser: the
/// list items (`- ` at the indentation of the first item) after the
/// top-level `tags:` line, up to the next top-level key. Sound for the
/// real packs, which are all in block style without multi-line values
/// starting with `- `.
fn scan_count(text: &str) -> usize {
    let mut lines = text.lines().skip_while(|l| !l.starts_with("tags:"));
    lines.next();
    let mut indent: Option<usize> = None;
    let mut n = 0;
    for line in lines {
        let body = line.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let ind = line.len() - body.len();
        if ind == 0 && !body.starts_with('-') {
            break; // next top-level key
        }
        if body == "-" || body.starts_with("- ") {
            let i = *indent.get_or_insert(ind);
            if ind == i {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn all_real_packs_load() {
    let dir = shared("tagpacks/packs");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    let (mut total, mut total_scan) = (0usize, 0usize);
    let started = std::time::Instant::now();
    for name in &names {
        let (text, p) = read_pack(name);
        assert!(
            tagpack::looks_like(text.as_bytes()),
            "{name} not recognised"
        );
        assert!(p.invalid.is_empty(), "{name}: {:?}", &p.invalid[..1]);
        let scan = scan_count(&text);
        assert_eq!(p.labels.len(), scan, "{name}: parser vs line scan");
        total += p.labels.len();
        total_scan += scan;
        // Every origin names the line of the tag's list item, and that
        // item holds the subject.
        let lines: Vec<&str> = text.lines().collect();
        for l in &p.labels {
            let at = origin_line(l);
            let item = lines[at - 1].trim_start();
            assert!(item.starts_with("- "), "{}: {item:?}", l.origin);
            let near = lines[at - 1..(at + 5).min(lines.len())].join("\n");
            assert!(
                near.to_lowercase().contains(&l.subject.id().to_lowercase()),
                "{}: {} not on its lines",
                l.origin,
                l.subject.id()
            );
        }
    }
    println!(
        "{} packs, {total} tags (line scan {total_scan}) in {:?}",
        names.len(),
        started.elapsed()
    );
    // The public TagPacks as placed in shared/data: 56 packs. PyYAML 6.0.3
    // (libyaml) counts the same 225,522 tags.
    assert_eq!(names.len(), 56);
    assert_eq!(total, 225_522);
    for (name, n) in [
        ("hacks.yaml", 608),
        ("ofac.yaml", 572),
        ("miners.yaml", 37_439),
        ("sextortion_talos.yaml", 58_600),
        ("exchange-wallets-bitmex_0.yaml", 50_000),
        ("defi-protocols-csh.yaml", 1_407),
        ("usdt_blacklist.yaml", 774),
    ] {
        assert_eq!(read_pack(name).1.labels.len(), n, "{name}");
    }
}

#[test]
fn hacks_ofac_and_abuse_categories() {
    let (_, hacks) = read_pack("hacks.yaml");
    let stolen = label_for(&hacks, "1LY2Y3mL64bxPJmzEa1e6hwK42ojfXnQ5E");
    assert_eq!(stolen.category, Category::StolenFunds);
    assert_eq!(stolen.entity, "Bitfinex hack");
    assert_eq!(stolen.tags, "service_hack");
    assert_eq!(stolen.origin, "packs/hacks.yaml:2409");
    assert_eq!(stolen.chain, "BTC");
    assert_eq!(stolen.confidence.level_name(), "web_crawl");
    let exchange = label_for(&hacks, "1JoktQJhCzuCQkt3GnQ8Xddcq4mUgNyXEa");
    assert_eq!(exchange.category, Category::Exchange);
    assert_eq!(exchange.entity, "Bitstamp");
    let by_cat = |c| hacks.labels.iter().filter(|l| l.category == c).count();
    assert_eq!(by_cat(Category::StolenFunds), 178);
    assert_eq!(by_cat(Category::Exchange), 415); // exchange, wallet_service

    // ofac.yaml files its SDN addresses under `category: user` with an OFAC
    // source, and no confidence: sanctions, 50, one quirk each.
    let (_, ofac) = read_pack("ofac.yaml");
    assert!(ofac
        .labels
        .iter()
        .all(|l| l.category == Category::Sanctions));
    let l = label_for(&ofac, "3K35dyL85fR9ht7UgzPfd1gLRRXQtNTqE3");
    assert_eq!(l.chain, "BTC");
    assert_eq!(
        l.entity,
        "Asset listed under US Treasury OFAC Sanctions List"
    );
    assert_eq!(l.tags, "user");
    assert_eq!(l.confidence, Confidence(50));
    assert_eq!(l.date.as_deref(), Some("2024-02-26"));
    assert_eq!(l.origin, "packs/ofac.yaml:9");
    let eth = label_for(&ofac, "0x8576acc5c05d6ce88f4e49bf65bdf0c62f91353c");
    assert_eq!(
        (eth.chain.as_str(), eth.category),
        ("ETH", Category::Sanctions)
    );
    let quirk = |p: &Parsed, what: &str| {
        p.quirks
            .iter()
            .find(|q| q.message.contains(what))
            .map(|q| q.message.clone())
    };
    assert!(quirk(&ofac, "no confidence").unwrap().contains("572 tags"));
    assert!(quirk(&ofac, "OFAC").unwrap().contains("572 tags"));

    // A risk abuse beats a service category.
    let (_, lazarus) = read_pack("lazarus.yaml");
    assert!(lazarus
        .labels
        .iter()
        .all(|l| l.category == Category::Sanctions && l.tags == "user,sanction"));
    for (pack, category) in [
        ("forsage.yaml", Category::Scam),
        ("suidlanders.yaml", Category::Terrorism),
        // A known concept without a category of its own: other, and no
        // quirk.
        ("usdt_blacklist.yaml", Category::Other),
        ("miners.yaml", Category::Miner),
        ("samourai.yaml", Category::Mixer),
    ] {
        let (_, p) = read_pack(pack);
        assert!(p.labels.iter().all(|l| l.category == category), "{pack}");
        assert!(quirk(&p, "concept").is_none(), "{pack}: {:?}", p.quirks);
    }
    // Designated by OFAC: sanctions, the service type kept in tags.
    let (_, tornado) = read_pack("tornado_cash.yaml");
    let t = label_for(&tornado, "0x8589427373d6d84e98730d7795d8f6f8731fda16");
    assert_eq!(
        (t.category, t.tags.as_str()),
        (Category::Sanctions, "mixing_service")
    );
}

#[test]
fn header_fields_are_inherited() {
    // binance_hack.yaml: everything but the address comes from the header.
    let (_, p) = read_pack("binance_hack.yaml");
    assert_eq!(p.labels.len(), 44);
    for l in &p.labels {
        assert_eq!(l.chain, "BTC");
        assert_eq!(l.confidence, Confidence(50)); // service_data
        assert_eq!(l.entity, "binance hack");
        assert_eq!(l.category, Category::StolenFunds);
        assert_eq!(l.date.as_deref(), Some("2021-11-12"));
        assert_eq!(
            l.source,
            "https://www.coindesk.com/hackers-steal-40-7-million-in-bitcoin-from-crypto-exchange-binance"
        );
    }
    assert_eq!(p.labels[0].origin, "packs/binance_hack.yaml:11");
    assert_eq!(p.labels[1].origin, "packs/binance_hack.yaml:13");
    assert!(p.quirks.is_empty(), "{:?}", p.quirks);

    // demo.yaml: the header's label and category, each tag's own currency.
    let (_, demo) = read_pack("demo.yaml");
    let chains: Vec<&str> = demo.labels.iter().map(|l| l.chain.as_str()).collect();
    assert_eq!(chains, ["BTC", "BCH", "ETH", "XRP", "ZEC"]);
    assert_eq!(
        demo.labels[2].subject,
        Subject::Address("0xfa8e3920daf271dab92be9b87d9998ddd94fef08".into())
    );
    assert!(demo
        .labels
        .iter()
        .all(|l| l.entity == "Internet Archive" && l.category == Category::Service));

    // defi-fraud-masterthesis.yaml: per-tag lastmod and abuse over the header.
    let (_, defi) = read_pack("defi-fraud-masterthesis.yaml");
    let l = label_for(&defi, "0xe5b913f91f2b90c5cd04d711e1eb3214c56dba98");
    assert_eq!(l.date.as_deref(), Some("2022-02-20"));
    assert_eq!(l.category, Category::Scam); // abuse: phishing
    assert_eq!(l.confidence, Confidence(20)); // web_crawl, from the header
}

/// Labels as a TagPack keeps them: what must survive a round trip.
fn key(
    l: &Label,
) -> (
    Subject,
    String,
    String,
    Category,
    &'static str,
    String,
    Option<String>,
) {
    (
        l.subject.clone(),
        l.chain.clone(),
        l.entity.clone(),
        l.category,
        l.confidence.level_name(),
        l.source.clone(),
        l.date.clone(),
    )
}

/// The labels minus GraphSense duplicates (same subject, chain, label,
/// source), first kept, as `write` merges them.
fn dedup(labels: &[Label]) -> Vec<&Label> {
    let mut seen = HashSet::new();
    labels
        .iter()
        .filter(|l| {
            seen.insert((
                l.subject.id().to_lowercase(),
                l.chain.clone(),
                l.entity.to_lowercase(),
                l.source.to_lowercase(),
            ))
        })
        .collect()
}

fn header() -> PackHeader {
    PackHeader {
        title: "chainhound test export".into(),
        creator: "chainhound tests".into(),
        description: "Labels read from the public GraphSense TagPacks".into(),
        is_public: false,
    }
}

#[test]
fn round_trip_real_packs() {
    for name in [
        "hacks.yaml",
        "ofac.yaml",
        "demo.yaml",
        "exchange-wallets-kucoin.yaml",
        "defi-fraud-masterthesis.yaml",
        "usdt_blacklist.yaml",
        "tornado_cash.yaml",
        "lazarus.yaml",
        "ransomware.yaml",
        "interpol-real_services.yaml",
    ] {
        let (_, first) = read_pack(name);
        let text = tagpack::write(&header(), &first.labels);
        assert!(tagpack::looks_like(text.as_bytes()), "{name}");
        let second = tagpack::read("export.yaml", text.as_bytes());
        assert!(second.invalid.is_empty(), "{name}: {:?}", second.invalid);
        let want: Vec<_> = dedup(&first.labels).into_iter().map(key).collect();
        let got: Vec<_> = second.labels.iter().map(key).collect();
        assert_eq!(want.len(), got.len(), "{name}");
        for (w, g) in want.iter().zip(&got) {
            assert_eq!(w, g, "{name}");
        }
        // Concept words survive too (the category's own word comes first).
        for (a, b) in dedup(&first.labels).into_iter().zip(&second.labels) {
            let words = |t: &str| -> HashSet<String> {
                t.split(',')
                    .filter(|w| !w.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            assert!(
                words(&a.tags).is_subset(&words(&b.tags)),
                "{name}: {} vs {}",
                a.tags,
                b.tags
            );
        }
    }
    // kucoin's five exact duplicates are merged.
    let (_, kucoin) = read_pack("exchange-wallets-kucoin.yaml");
    let text = tagpack::write(&header(), &kucoin.labels);
    assert!(text.starts_with("# Written by chainhound: 54 tags; 5 duplicate labels merged."));
}

#[test]
fn write_escapes_and_merges() {
    let label = |id: &str, entity: &str, category, source: &str| Label {
        chain: "BTC".into(),
        subject: Subject::address(id),
        entity: entity.into(),
        category,
        tags: String::new(),
        source: source.into(),
        date: Some("2024-01-02".into()),
        confidence: Confidence(65),
        origin: "t:1".into(),
    };
    let labels = vec![
        label("1A", "yes", Category::Exchange, "s"),
        label("1B", "say \"hi\"\n\tbye", Category::Other, ""),
        label("1A", "YES", Category::StolenFunds, "s"),
        Label {
            subject: Subject::tx(&"ab".repeat(32)).unwrap(),
            chain: "eth".into(),
            ..label("x", "", Category::Mixer, "u")
        },
    ];
    let text = tagpack::write(&PackHeader::default(), &labels);
    let back = tagpack::read("w.yaml", text.as_bytes());
    assert!(back.invalid.is_empty(), "{:?}\n{text}", back.invalid);
    assert_eq!(back.labels.len(), 3, "{text}");
    let a = &back.labels[0];
    assert_eq!(
        (a.entity.as_str(), a.category),
        ("YES", Category::StolenFunds)
    );
    assert_eq!(a.confidence, Confidence(60)); // 65 is written as authority_data
    assert_eq!(back.labels[1].entity, "say \"hi\"\n\tbye");
    assert_eq!(back.labels[1].source, "t:1"); // blank source: the origin
    let tx = &back.labels[2];
    assert_eq!(tx.subject, Subject::Tx("ab".repeat(32)));
    assert_eq!((tx.chain.as_str(), tx.entity.as_str()), ("ETH", "mixer"));
    assert!(text.contains("title: \"chainhound export\""), "{text}");
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs tools/tagpack_validate.sh on one text; `None` when the validator
/// is not installed, else whether it accepted the pack (with its log).
fn gs_validate(dir: &Path, name: &str, text: &str) -> Option<(bool, String)> {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    let out = Command::new("bash")
        .arg(repo_root().join("tools/tagpack_validate.sh"))
        .arg(&file)
        .env_remove("CHAINHOUND_GS_SETUP")
        .output()
        .expect("run tools/tagpack_validate.sh");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && log.contains("skipped: graphsense-cli not installed") {
        return None;
    }
    Some((out.status.success(), log))
}

#[test]
fn graphsense_validator_accepts_export() {
    // Real labels of mixed categories and chains: sanctions (BTC, ETH, and
    // more in ofac.yaml), hacking and exchanges, miners, a sanctioned ETH
    // mixer, ransomware, an unknown-category ETH blacklist, a LTC pack.
    let mut labels = Vec::new();
    for (name, n) in [
        ("ofac.yaml", 600),
        ("hacks.yaml", 700),
        ("miners.yaml", 40),
        ("tornado_cash.yaml", 10),
        ("lazarus.yaml", 5),
        ("ransomwhere.yaml", 20),
        ("usdt_blacklist.yaml", 5),
        ("bitzillions_ltc.yaml", 1),
        ("defi-protocols-csh.yaml", 10),
    ] {
        labels.extend(read_pack(name).1.labels.into_iter().take(n));
    }
    let cats: HashSet<Category> = labels.iter().map(|l| l.category).collect();
    for c in [
        Category::Sanctions,
        Category::StolenFunds,
        Category::Exchange,
        Category::Miner,
        Category::Ransomware,
    ] {
        assert!(cats.contains(&c), "{c}");
    }
    let chains: HashSet<&str> = labels.iter().map(|l| l.chain.as_str()).collect();
    assert!(chains.contains("BTC") && chains.contains("ETH"));
    let public = PackHeader {
        is_public: true,
        ..header()
    };
    let text = tagpack::write(&public, &labels);
    assert!(text.contains("\nis_public: true\n"));

    let dir = tempfile::tempdir().unwrap();
    let Some((ok, log)) = gs_validate(dir.path(), "export.yaml", &text) else {
        println!("skipped: graphsense-cli not installed (tools/tagpack_validate.sh --setup)");
        return;
    };
    assert!(ok, "GraphSense's validator rejects our export:\n{log}");

    // The same check must fail on a broken pack, or it proves nothing.
    let no_source: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("source:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (ok, log) = gs_validate(dir.path(), "no_source.yaml", &no_source).unwrap();
    assert!(!ok, "the validator accepts a pack without sources:\n{log}");
    assert!(log.contains("source"), "{log}");
    let bad_confidence = text.replacen("confidence: \"", "confidence: \"very_", 1);
    let (ok, log) = gs_validate(dir.path(), "bad_confidence.yaml", &bad_confidence).unwrap();
    assert!(!ok, "the validator accepts an unknown confidence:\n{log}");
    assert!(log.contains("confidence"), "{log}");
}

fn read_str(text: &str) -> Parsed {
    tagpack::read("t.yaml", text.as_bytes())
}

#[test]
fn quirks_and_invalid_records() {
    let p = read_str(
        "title: t\ncreator: c\ncurrency: BTC\nlabel: L\nsource: s\nconfidence: forensic\ntags:\n\
         - address: 1A\n  category: black_lst\n\
         - address: 1B\n  lastmod: yesterday\n\
         - label: no subject\n\
         - address: 1C\n  abuse: ransomware\n  concepts: [exchange, no_such]\n  lastmod: 1637000000\n\
         - address: 1D\n  confidence: sure\n\
         - address: 1E\n  label: null\n\
         - tx_hash: nothex\n",
    );
    assert_eq!(p.labels.len(), 4, "{:?}", p.invalid);
    let at = |line: u64| {
        p.quirks
            .iter()
            .find(|q| q.line == line)
            .map(|q| q.message.as_str())
    };
    assert_eq!(p.labels[0].category, Category::Other);
    assert_eq!(p.labels[0].tags, "black_lst");
    assert!(
        at(8).unwrap().contains("unknown concept \"black_lst\""),
        "{:?}",
        p.quirks
    );
    assert_eq!(p.labels[1].date, None);
    assert!(
        at(10).unwrap().contains("lastmod \"yesterday\""),
        "{:?}",
        p.quirks
    );
    let c = &p.labels[2];
    assert_eq!(c.category, Category::Ransomware);
    assert_eq!(c.tags, "ransomware,exchange,no_such");
    assert_eq!(c.date.as_deref(), Some("2021-11-15"));
    assert!(at(13).unwrap().contains("\"no_such\""));
    assert_eq!(p.labels[3].confidence, Confidence(50));
    assert!(at(17).unwrap().contains("unknown confidence \"sure\""));
    let invalid: Vec<(u64, &str)> = p
        .invalid
        .iter()
        .map(|q| (q.line, q.message.as_str()))
        .collect();
    assert_eq!(invalid.len(), 3, "{invalid:?}");
    assert_eq!(invalid[0].0, 12);
    assert!(invalid[0].1.contains("no address or tx_hash"));
    assert_eq!(invalid[1].0, 19);
    assert!(invalid[1].1.contains("no label"));
    assert_eq!(invalid[2].0, 21);
    assert!(invalid[2].1.contains("tx_hash"));
    assert!(p.invalid.iter().all(|q| q.file == "t.yaml"));
}

#[test]
fn invalid_yaml_gives_its_line() {
    let p = read_str("title: t\ncreator: c\ntags:\n- address: 1A\n  label: [oops\n- address: 1B\n");
    assert!(p.labels.is_empty());
    assert_eq!(p.invalid.len(), 1);
    assert!(
        p.invalid[0].message.starts_with("not valid YAML"),
        "{:?}",
        p.invalid
    );
    assert!((5..=6).contains(&p.invalid[0].line), "{:?}", p.invalid);

    let p = read_str("title: t\ncreator: c\ntags:\n  - address: 1A\n - address: 1B\n");
    assert_eq!(p.invalid.len(), 1, "{:?}", p.invalid);
    assert_eq!(p.invalid[0].line, 5, "{:?}", p.invalid);

    let p = tagpack::read("t.yaml", b"title: t\ncreator: c\ntags:\n- address: \xff\n");
    assert_eq!((p.invalid.len(), p.invalid[0].line), (1, 4));

    for (text, what) in [
        ("", "empty"),
        ("- a\n- b\n", "not a mapping"),
        ("title: t\ncreator: c\n", "no `tags:`"),
        ("title: t\ntags: 3\n", "not a list"),
    ] {
        let p = read_str(text);
        assert!(p.labels.is_empty());
        assert!(
            p.invalid[0].message.contains(what),
            "{text:?}: {:?}",
            p.invalid
        );
    }
    // Every prefix of a real pack: problems, never a panic.
    let bytes = std::fs::read(pack_path("interpol-real_services.yaml")).unwrap();
    for end in 0..bytes.len() {
        let _ = tagpack::read("cut.yaml", &bytes[..end]);
    }
}

#[test]
fn alias_bombs_and_deep_nesting_are_refused() {
    let mut bomb = String::from("title: t\ncreator: c\na0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(",");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    bomb.push_str("tags:\n- address: 1A\n  label: *a9\n");
    let started = std::time::Instant::now();
    let p = read_str(&bomb);
    assert!(started.elapsed().as_secs() < 5);
    assert!(p.labels.is_empty());
    assert_eq!(p.invalid.len(), 1);
    assert!(p.invalid[0].message.contains("alias"), "{:?}", p.invalid);
    assert!((7..=9).contains(&p.invalid[0].line), "{:?}", p.invalid);

    let deep = format!(
        "title: t\ncreator: c\ntags: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let p = read_str(&deep);
    assert!(
        p.labels.is_empty() && p.invalid.len() == 1,
        "{:?}",
        p.invalid
    );

    // Huge mappings (200,000 header keys, a tag with as many) cost linear
    // time, not quadratic; an alias to one is refused.
    let keys: String = (0..200_000).map(|i| format!("  k{i}: v\n")).collect();
    let wide = format!(
        "title: t\ncreator: c\nlabel: L\nsource: s\ncurrency: BTC\nmany: &m\n{keys}\
         tags:\n- address: 1A\n{keys}"
    );
    let started = std::time::Instant::now();
    let p = read_str(&wide);
    assert!(started.elapsed().as_secs() < 10);
    assert_eq!(p.labels.len(), 1, "{:?}", p.invalid);
    let p = read_str(&format!("{wide}- address: 1B\n  <<: *m\n"));
    assert!(p.invalid[0].message.contains("alias"), "{:?}", p.invalid);

    // Aliases and merge keys within bounds work.
    let p = read_str(
        "title: t\ncreator: c\ndefaults: &d {currency: ETH, label: X, source: s, confidence: ownership}\ntags:\n\
         - <<: *d\n  address: '0xAB'\n\
         - <<: *d\n  address: '0xCD'\n  label: Y\n",
    );
    assert!(p.invalid.is_empty(), "{:?}", p.invalid);
    let got: Vec<(&str, &str, &str)> = p
        .labels
        .iter()
        .map(|l| (l.subject.id(), l.chain.as_str(), l.entity.as_str()))
        .collect();
    assert_eq!(got, [("0xab", "ETH", "X"), ("0xcd", "ETH", "Y")]);
    assert_eq!(p.labels[0].confidence, Confidence(100));
}

#[test]
fn other_shapes() {
    // A `header:` mapping, flow-style tags, a network over a token currency,
    // a tx_hash, a date-time lastmod, a duplicate key.
    let tx = "0x".to_string() + &"AB".repeat(32);
    let p = read_str(&format!(
        "confidence: 10\nheader:\n  title: t\n  creator: c\n  source: s\n  confidence: 70\ntags:\n\
         - {{address: TXyz, currency: USDT, network: TRX, label: L, lastmod: '2023-05-06T07:08:09Z'}}\n\
         - tx_hash: {tx}\n  currency: btc\n  label: L\n  label: M\n"
    ));
    assert!(p.invalid.is_empty(), "{:?}", p.invalid);
    assert_eq!(p.labels[0].chain, "TRX");
    assert_eq!(p.labels[0].date.as_deref(), Some("2023-05-06"));
    assert_eq!(p.labels[0].confidence, Confidence(70));
    assert_eq!(p.labels[1].subject, Subject::Tx("ab".repeat(32)));
    assert_eq!(p.labels[1].entity, "M");
    assert_eq!(p.labels[1].origin, "t.yaml:9");
    assert!(p
        .quirks
        .iter()
        .any(|q| q.message.contains("duplicate key `label`")));
    assert!(tagpack::looks_like(b"header:\n  title: t\ntags: []\n"));
    // A second document is not read.
    let p = read_str("title: t\ncreator: c\ntags: []\n---\ntitle: u\n");
    assert_eq!(
        (p.invalid.len(), p.invalid[0].line),
        (1, 4),
        "{:?}",
        p.invalid
    );
    assert!(!tagpack::looks_like(
        &std::fs::read(shared("tagpacks/schema/confidence.csv")).unwrap()
    ));
}
