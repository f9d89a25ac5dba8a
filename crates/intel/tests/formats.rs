//! Label file readers on the real files in `../shared/data` (sanctions and
//! incidents), plus a schema-valid OFAC advanced XML built here.

use chainhound_intel::formats::{detect, read_files, FileLabels, Format};
use chainhound_intel::label::{Category, Confidence, Label, Subject};
use chainhound_testdata::shared;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn labels(files: &[FileLabels]) -> Vec<&Label> {
    files.iter().flat_map(|f| &f.parsed.labels).collect()
}

fn btc(files: &[FileLabels]) -> BTreeSet<String> {
    labels(files)
        .into_iter()
        .filter(|l| l.chain == "BTC")
        .map(|l| l.subject.id().to_string())
        .collect()
}

fn find<'a>(files: &'a [FileLabels], id: &str) -> &'a Label {
    labels(files)
        .into_iter()
        .find(|l| l.subject.id() == id)
        .unwrap_or_else(|| panic!("no label for {id}"))
}

/// Every XBT address in a remark text, read the simplest way: the
/// alphanumeric run after the marker.
fn xbt_in(text: &str) -> BTreeSet<String> {
    const M: &str = "Digital Currency Address - XBT ";
    text.match_indices(M)
        .map(|(i, _)| {
            text[i + M.len()..]
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect()
        })
        .collect()
}

fn latin1(path: &Path) -> String {
    std::fs::read(path)
        .unwrap()
        .into_iter()
        .map(char::from)
        .collect()
}

/// The 1-based line of the first line of `path` starting with `prefix`.
fn line_of(path: &Path, prefix: &str) -> usize {
    latin1(path)
        .split('\n')
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("{prefix} not in {}", path.display()))
        + 1
}

#[test]
fn sdn_comments_2025_12_gives_every_xbt_address() {
    let path = shared("sanctions/moov_watchman/sdn_comments_2025-12.csv");
    let expected = xbt_in(&latin1(&path));
    assert_eq!(expected.len(), 271);
    let files = read_files(std::slice::from_ref(&path)).unwrap();
    assert_eq!(files[0].format, Format::SdnComments);
    let p = &files[0].parsed;
    assert!(p.invalid.is_empty(), "{:?}", p.invalid);
    let got = btc(&files);
    let missed: Vec<&String> = expected.difference(&got).collect();
    assert!(missed.is_empty(), "missed: {missed:?}");
    // One more than the plain count: entity 43421's row starts inside a
    // marker cut by the split ("rency Address - XBT bc1q..."), read with a
    // quirk.
    let extra: Vec<&String> = got.difference(&expected).collect();
    assert_eq!(extra, ["bc1qllmlvy5u038yvwywu803p53g8udcm8w7k4qxu9"]);
    assert!(p.quirks.iter().any(|q| q
        .message
        .starts_with("entity 43421: the remark starts inside")));
    for l in p.labels.iter().filter(|l| l.chain == "BTC") {
        assert_eq!(l.category, Category::Sanctions);
        assert_eq!(l.confidence, Confidence(60));
        assert!(l.entity.starts_with("OFAC SDN entity "), "{}", l.entity);
        assert!(l.source.starts_with("OFAC SDN ent_num "), "{}", l.source);
    }
    // One 0x address is listed as both ETH and USDT.
    assert!(p.quirks.iter().any(|q| q
        .message
        .contains("0x2f389ce8bd8ff92de3402ffce4691d17fc4f6535 is listed under several assets")));
    // Every label's origin names a line holding its address.
    let text = latin1(&path);
    let lines: Vec<&str> = text.split('\n').collect();
    for l in &p.labels {
        let line: usize = l.origin.rsplit(':').next().unwrap().parse().unwrap();
        // (0x addresses are stored lower-case)
        let on_line = lines[line - 1].to_ascii_lowercase();
        assert!(
            on_line.contains(&l.subject.id().to_ascii_lowercase()),
            "{}",
            l.origin
        );
    }
}

#[test]
fn sdn_full_2021_07_joins_its_comments() {
    let sdn = shared("sanctions/moov_watchman/sdn_full_2021-07.csv");
    let comments = shared("sanctions/moov_watchman/sdn_comments_full_2021-07.csv");

    // Independently: append each comments row's text to its entry's line.
    let mut joined: Vec<String> = latin1(&sdn).split('\n').map(str::to_string).collect();
    for row in latin1(&comments).lines() {
        let (ent, rest) = row.split_once(',').unwrap();
        let cont = rest.trim().trim_matches('"');
        let entry = joined
            .iter_mut()
            .find(|l| l.starts_with(&format!("{ent},")))
            .unwrap();
        let end = entry.trim_end().len() - 1; // before the closing quote
        entry.insert_str(end, cont);
    }
    let expected = xbt_in(&joined.join("\n"));
    assert_eq!(expected.len(), 65);

    let files = read_files(&[sdn.clone(), comments.clone()]).unwrap();
    assert_eq!(files[0].format, Format::SdnCsv);
    assert_eq!(files[1].format, Format::SdnComments);
    for f in &files {
        assert!(f.parsed.invalid.is_empty(), "{:?}", f.parsed.invalid);
    }
    let got = btc(&files);
    let diff: Vec<&String> = got.symmetric_difference(&expected).collect();
    assert!(diff.is_empty(), "differ: {diff:?}");

    // Cut in two between the files: read whole, named from SDN.CSV.
    let cut = find(&files, "1GqChmWqGtsaLrGbHfgdrV5Nkvahtjjuxr");
    assert_eq!(cut.entity, "SECONDEYE SOLUTION");
    assert_eq!(cut.tags, "CYBER2, ELECTION-EO13848");
    assert_eq!(cut.source, "OFAC SDN ent_num 30518");
    let line = line_of(&sdn, "30518,");
    assert_eq!(cut.origin, format!("{}:{line}", sdn.display()));
    // Wholly in the comments file: still SDN.CSV's name.
    let later = find(&files, "18Ke1QWE9nQfXuhJijHggZuPJ5ZYxapoBK");
    assert_eq!(later.entity, "SECONDEYE SOLUTION");
    assert_eq!(later.origin, format!("{}:5", comments.display()));
    assert_eq!(
        find(&files, "1NE2NiGhhbkFPSEyNWwj7hKGhGDedBtSrQ").entity,
        "SECONDEYE SOLUTION"
    );
}

#[test]
fn sdn_csv_alone_reports_the_cut_address() {
    let sdn = shared("sanctions/moov_watchman/sdn_full_2021-07.csv");
    let files = read_files(std::slice::from_ref(&sdn)).unwrap();
    let p = &files[0].parsed;
    assert_eq!(p.invalid.len(), 1, "{:?}", p.invalid);
    assert_eq!(p.invalid[0].line, line_of(&sdn, "30518,") as u64);
    assert!(p.invalid[0].message.contains("1Gq"));
    assert!(!btc(&files).iter().any(|a| a.starts_with("1Gq")));
    assert_eq!(btc(&files).len(), 61);
}

#[test]
fn tiny_excerpts_name_lifshits_suex_khoroshev() {
    let sdn = shared("sanctions/moov_watchman/sdn_tiny_excerpt_2025-05.csv");
    let comments = shared("sanctions/moov_watchman/sdn_comments_tiny_excerpt_2025-05.csv");
    let files = read_files(&[comments, sdn]).unwrap();
    assert_eq!(files[0].format, Format::SdnComments);
    assert_eq!(files[1].format, Format::SdnCsv);
    assert!(files.iter().all(|f| f.parsed.invalid.is_empty()));
    assert_eq!(btc(&files).len(), 17);
    let l = find(&files, "12udabs2TkX7NXCSj6KpqXfakjE52ZPLhz");
    assert_eq!(l.entity, "LIFSHITS, Artem Mikhaylovich");
    assert_eq!(l.tags, "CYBER2, ELECTION-EO13848");
    let l = find(&files, "bc1qvhnfknw852ephxyc5hm4q520zmvf9maphetc9z");
    assert_eq!(l.entity, "KHOROSHEV, Dmitry Yuryevich");
    assert_eq!(l.chain, "BTC");
    // Cut between SDN.CSV and the comments file.
    let l = find(&files, "1B64QRxfaa35MVkf7sDjuGUYAP5izQt7Qi");
    assert_eq!(l.entity, "SUEX OTC, S.R.O.");
    assert!(
        l.origin.ends_with("sdn_tiny_excerpt_2025-05.csv:9"),
        "{}",
        l.origin
    );
    let suex = labels(&files)
        .into_iter()
        .filter(|l| l.entity == "SUEX OTC, S.R.O." && l.chain == "BTC")
        .count();
    assert_eq!(suex, 14);
    // Non-Bitcoin assets keep their chain.
    assert!(labels(&files)
        .iter()
        .any(|l| l.entity == "SUEX OTC, S.R.O." && l.chain == "ETH"));
}

#[test]
fn xbt_lists_txt_and_json_agree() {
    let txt = shared("sanctions/0xB10C_lists/sanctioned_addresses_XBT.txt");
    let json = shared("sanctions/0xB10C_lists/sanctioned_addresses_XBT.json");
    let t = read_files(std::slice::from_ref(&txt)).unwrap();
    let j = read_files(std::slice::from_ref(&json)).unwrap();
    assert_eq!(t[0].format, Format::AssetList);
    assert_eq!(j[0].format, Format::AssetList);
    assert_eq!(btc(&t).len(), 435);
    assert_eq!(btc(&t), btc(&j));
    let l = &t[0].parsed.labels[0];
    assert_eq!(
        (l.entity.as_str(), l.category, l.confidence),
        ("OFAC SDN (list)", Category::Sanctions, Confidence(60))
    );
    assert_eq!(l.origin, format!("{}:1", txt.display()));
    // The one odd entry: a Tron address listed as XBT, on line 355 of the
    // text and 356 of the JSON.
    for (files, line) in [(&t, 355), (&j, 356)] {
        let q = &files[0].parsed.quirks;
        assert_eq!(q.len(), 1, "{q:?}");
        assert!(q[0].message.contains("TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq"));
        assert!(q[0].message.contains("Tron"));
        assert_eq!(q[0].line, line);
        assert!(files[0].parsed.invalid.is_empty());
    }
    let s = read_files(&[shared("sanctions/sambacha/sanctioned_addresses_XBT.txt")]).unwrap();
    assert_eq!(btc(&s).len(), 483);
    assert!(btc(&t).is_subset(&btc(&s)));
}

#[test]
fn every_asset_list_reads() {
    for dir in ["sanctions/0xB10C_lists", "sanctions/sambacha"] {
        let paths: Vec<PathBuf> = std::fs::read_dir(shared(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("sanctioned_addresses_"))
            .collect();
        let files = read_files(&paths).unwrap();
        for f in &files {
            assert_eq!(f.format, Format::AssetList, "{}", f.path.display());
            assert!(f.parsed.invalid.is_empty(), "{:?}", f.parsed.invalid);
            assert!(!f.parsed.labels.is_empty());
        }
    }
}

#[test]
fn merged_ofac_csv_has_527_btc_addresses() {
    let path = shared("sanctions/ofac_sdn_digital_currency_addresses.csv");
    let files = read_files(std::slice::from_ref(&path)).unwrap();
    assert_eq!(files[0].format, Format::OfacAddressCsv);
    let p = &files[0].parsed;
    assert!(p.invalid.is_empty(), "{:?}", p.invalid);
    assert_eq!(btc(&files).len(), 527);
    // 977 rows, one an exact duplicate (BLENDER.IO).
    assert_eq!(p.labels.len(), 976);
    let q = |s: &str| p.quirks.iter().filter(|q| q.message.contains(s)).count();
    assert_eq!(q("TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq is listed as XBT"), 1);
    assert!(q("0x4f47bc496083c727c5fbe3ce9cdf2b0f6496270c is listed under several assets") >= 2);
    assert_eq!(q("letter case unknown"), 191);
    assert_eq!(q("listed again"), 1);
    let l = find(&files, "1H939dom7i4WDLCKyGbXUp3fs9CSTNRzgL");
    assert_eq!(l.source, "OFAC SDN uid 38419");
    assert_eq!(l.category, Category::Sanctions);

    let dprk = read_files(&[shared("sanctions/ofac_dprk_program_addresses.csv")]).unwrap();
    assert_eq!(dprk[0].format, Format::OfacAddressCsv);
    assert_eq!(btc(&dprk).len(), 43);
    let l = find(&dprk, "0x0330070fd38ec3bb94f58fa55d40368271e9e54a");
    assert_eq!(l.entity, "AMNOKGANG TECHNOLOGY DEVELOPMENT COMPANY");
    assert_eq!(l.tags, "DPRK4");
}

#[test]
fn hacks_csv_rows_become_labels() {
    let path = shared("incidents/hacks.csv");
    let files = read_files(std::slice::from_ref(&path)).unwrap();
    assert_eq!(files[0].format, Format::Incidents);
    let p = &files[0].parsed;
    assert!(p.invalid.is_empty(), "{:?}", p.invalid);
    assert_eq!(p.labels.len(), 147);
    let l = find(&files, "1LY2Y3mL64bxPJmzEa1e6hwK42ojfXnQ5E");
    assert_eq!(l.entity, "Bitfinex");
    assert_eq!(l.category, Category::StolenFunds);
    assert_eq!(l.date.as_deref(), Some("2016-08-02"));
    assert_eq!(l.chain, "BTC");
    assert_eq!(
        l.source,
        "https://gist.github.com/MrChrisJ/4a959a51a0d2be356cc2e89566fc1d87"
    );
    assert_eq!(l.confidence, Confidence(50));
    assert_eq!(l.origin, format!("{}:51", path.display()));
    let txs = p
        .labels
        .iter()
        .filter(|l| matches!(l.subject, Subject::Tx(_)))
        .count();
    assert_eq!(txs, 4);
    let victim = find(&files, "0x1db92e2eebc8e0c075a02bea49a2935bcd2dfcf4");
    assert_eq!(victim.category, Category::Exchange);
    assert!(victim.tags.contains("DPRK"));

    let full = read_files(&[shared("incidents/hacks_full.csv")]).unwrap();
    assert!(full[0].parsed.invalid.is_empty());
    assert_eq!(full[0].parsed.labels.len(), 1276);
}

#[test]
fn user_csv_names_the_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.csv");
    std::fs::write(
        &path,
        "address,label,category,confidence\n\
         1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa,Genesis,other,ownership\n\
         12udabs2TkX7NXCSj6KpqXfakjE52ZPLhz,Someone,no-such-category,\n\
         bc1qvhnfknw852ephxyc5hm4q520zmvf9maphetc9z,LockBit,ransomware,\n",
    )
    .unwrap();
    let files = read_files(std::slice::from_ref(&path)).unwrap();
    assert_eq!(files[0].format, Format::UserCsv);
    let p = &files[0].parsed;
    assert_eq!(p.labels.len(), 2);
    assert_eq!(p.invalid.len(), 1);
    assert_eq!(p.invalid[0].line, 3);
    assert!(p.invalid[0].message.contains("no-such-category"));
    assert_eq!(p.labels[1].category, Category::Ransomware);
    assert_eq!(p.labels[1].source, "mine.csv");
    assert_eq!(p.labels[0].confidence, Confidence(100));
}

#[test]
fn garbage_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.bin");
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, bytes).unwrap();
    let err = read_files(&[shared("incidents/hacks.csv"), path.clone()]).unwrap_err();
    assert_eq!(err.file, path.display().to_string());
    assert!(err.message.contains("tried"), "{}", err.message);
    let missing = dir.path().join("missing.csv");
    let err = read_files(std::slice::from_ref(&missing)).unwrap_err();
    assert_eq!((err.file, err.line), (missing.display().to_string(), 0));
}

#[test]
fn real_files_are_recognised() {
    let cases = [
        (
            "sanctions/moov_watchman/sdn_full_2021-07.csv",
            Format::SdnCsv,
        ),
        (
            "sanctions/moov_watchman/sdn_comments_2025-02.csv",
            Format::SdnComments,
        ),
        (
            "sanctions/0xB10C_lists/sanctioned_addresses_ETH.json",
            Format::AssetList,
        ),
        (
            "sanctions/sambacha/sanctioned_addresses_XMR.txt",
            Format::AssetList,
        ),
        (
            "sanctions/ofac_dprk_program_addresses.csv",
            Format::OfacAddressCsv,
        ),
        ("incidents/hacks_full.csv", Format::Incidents),
    ];
    for (rel, format) in cases {
        let path = shared(rel);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(detect(&path, &bytes), Ok(format), "{rel}");
    }
    // Other CSVs of the same folders are no label files.
    for rel in [
        "sanctions/moov_watchman/add_tiny_excerpt_2025-05.csv",
        "sanctions/sambacha/sdn_schema.xsd",
        "sanctions/sanctioned_XBT_normalized.txt",
    ] {
        let path = shared(rel);
        assert!(
            detect(&path, &std::fs::read(&path).unwrap()).is_err(),
            "{rel}"
        );
    }
}

/// A small advanced XML valid against OFAC's `sdn_schema.xsd` (checked
/// with `xmllint --schema`), with two parties: an individual with a name
/// in parts, a birth date and an XBT address; an entity with an escaped
/// name, an XBT address, a Tron address listed as XBT and an ETH address.
/// Built from its repeated parts (see [`party`], [`feature`],
/// [`sanctions_entry`]), one element a line.
fn advanced_xml() -> String {
    let mut x = String::from(
        r#"<?xml version="1.0" encoding="utf-8"?>
<Sanctions xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://www.un.org/sanctions/1.0" Version="1">
"#,
    );
    x += &date(2, r#"DateOfIssue CalendarTypeID="1""#, (2024, 5, 8));
    x += "  <ReferenceValueSets>\n";
    for (kind, items) in REFERENCE_VALUES {
        x += &reference_values(kind, items);
    }
    x += "  </ReferenceValueSets>\n  <Locations />\n  <IDRegDocuments />\n  <DistinctParties>\n";
    let birth = format!(
        r#"            <DatePeriod CalendarTypeID="1" YearFixed="false" MonthFixed="false" DayFixed="false">
              <Start Approximate="false" YearFixed="false" MonthFixed="false" DayFixed="false">
{}{}              </Start>
            </DatePeriod>
"#,
        date(16, "From", (1993, 4, 17)),
        date(16, "To", (1993, 4, 17)),
    );
    x += &party(&Party {
        fixed: 48603,
        sub_type: 4,
        identity: 9001,
        aliases: &[
            (
                1403,
                9101,
                &[
                    (9201, 1521, "Dmitry"),
                    (9202, 1522, "Yuryevich"),
                    (9203, 1520, "KHOROSHEV"),
                ],
            ),
            (1400, 9102, &[(9204, 1525, "LOCKBITSUPP")]),
        ],
        features: &[
            feature(9301, 8, 9001, &birth),
            feature(
                9302,
                344,
                9001,
                &format!(
                    "            <Comment />\n{}",
                    version_detail("bc1qvhnfknw852ephxyc5hm4q520zmvf9maphetc9z")
                ),
            ),
        ],
        entry: 9501,
    });
    x += &party(&Party {
        fixed: 33151,
        sub_type: 3,
        identity: 9002,
        aliases: &[(1403, 9103, &[(9205, 1525, "SUEX OTC, S.R.O. &amp; Co")])],
        features: &[
            (9303, 344, "12HQDsicffSBaYdJ6BhnE22sfjTESmmzKx"),
            (9304, 344, "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq"),
            (9305, 345, "0x2f389ce8bd8ff92de3402ffce4691d17fc4f6535"),
        ]
        .map(|(id, kind, address)| feature(id, kind, 9002, &version_detail(address))),
        entry: 9502,
    });
    x += "  </DistinctParties>\n  <ProfileRelationships />\n  <SanctionsEntries>\n";
    x += &sanctions_entry(
        9501,
        48603,
        (2024, 5, 7),
        &[(9701, 1, "CYBER2"), (9702, 2, "")],
    );
    x += &sanctions_entry(
        9502,
        33151,
        (2021, 9, 21),
        &[(9703, 1, "CYBER2"), (9704, 1, "ELECTION-EO13848")],
    );
    x + "  </SanctionsEntries>\n  <SanctionsEntryLinks />\n</Sanctions>\n"
}

/// The reference value sets of [`advanced_xml`]: each `<{kind}Values>` with
/// its values, `(attributes, text)`.
const REFERENCE_VALUES: &[(&str, &[(&str, &str)])] = &[
    (
        "AliasType",
        &[(r#"ID="1400""#, "A.K.A."), (r#"ID="1403""#, "Name")],
    ),
    ("AreaCode", &[]),
    ("AreaCodeType", &[]),
    ("CalendarType", &[(r#"ID="1""#, "Gregorian")]),
    ("Country", &[]),
    ("CountryRelevance", &[]),
    (
        "DecisionMakingBody",
        &[(r#"ID="1" OrganisationID="1""#, "Treasury")],
    ),
    ("DetailReference", &[]),
    ("DetailType", &[(r#"ID="1432""#, "TEXT")]),
    ("DocNameStatus", &[(r#"ID="1""#, "Primary Latin")]),
    ("EntryEventType", &[(r#"ID="1""#, "Created")]),
    ("EntryLinkType", &[]),
    ("ExRefType", &[]),
    (
        "FeatureType",
        &[
            (r#"ID="8" FeatureTypeGroupID="1""#, "Birthdate"),
            (
                r#"ID="344" FeatureTypeGroupID="2""#,
                "Digital Currency Address - XBT",
            ),
            (
                r#"ID="345" FeatureTypeGroupID="2""#,
                "Digital Currency Address - ETH",
            ),
        ],
    ),
    (
        "FeatureTypeGroup",
        &[(r#"ID="1""#, "Dates"), (r#"ID="2""#, "Digital Currency")],
    ),
    ("IDRegDocDateType", &[]),
    ("IDRegDocType", &[]),
    (
        "IdentityFeatureLinkType",
        &[(r#"ID="1""#, "Associated With")],
    ),
    (
        "LegalBasis",
        &[(
            r#"ID="1" LegalBasisTypeID="1" SanctionsProgramID="1""#,
            "EO13694",
        )],
    ),
    ("LegalBasisType", &[(r#"ID="1""#, "Executive Order")]),
    ("List", &[(r#"ID="1550""#, "SDN List")]),
    ("LocPartType", &[]),
    ("LocPartValueStatus", &[]),
    ("LocPartValueType", &[]),
    (
        "NamePartType",
        &[
            (r#"ID="1520""#, "Last Name"),
            (r#"ID="1521""#, "First Name"),
            (r#"ID="1522""#, "Middle Name"),
            (r#"ID="1525""#, "Entity Name"),
        ],
    ),
    ("Organisation", &[(r#"ID="1""#, "U.S. Treasury")]),
    (
        "PartySubType",
        &[
            (r#"ID="3" PartyTypeID="2""#, "Unknown"),
            (r#"ID="4" PartyTypeID="1""#, "Unknown"),
        ],
    ),
    (
        "PartyType",
        &[(r#"ID="1""#, "Individual"), (r#"ID="2""#, "Entity")],
    ),
    ("RelationQuality", &[]),
    ("RelationType", &[]),
    ("Reliability", &[(r#"ID="1""#, "Reliable")]),
    (
        "SanctionsProgram",
        &[
            (r#"ID="1" SubsidiaryBodyID="1""#, "CYBER2"),
            (r#"ID="2" SubsidiaryBodyID="1""#, "ELECTION-EO13848"),
        ],
    ),
    (
        "SanctionsType",
        &[(r#"ID="1""#, "Program"), (r#"ID="2""#, "Block")],
    ),
    ("Script", &[(r#"ID="215""#, "Latin")]),
    ("ScriptStatus", &[(r#"ID="1""#, "Unknown")]),
    (
        "SubsidiaryBody",
        &[(
            r#"ID="1" Notional="false" DecisionMakingBodyID="1""#,
            "Office of Foreign Assets Control",
        )],
    ),
    ("SupInfoType", &[]),
    ("TargetType", &[]),
    ("Validity", &[]),
];

/// One reference value set: `<{kind}Values>` holding a `<{kind}>` per
/// value, `<{kind}Values />` when there is none.
fn reference_values(kind: &str, items: &[(&str, &str)]) -> String {
    if items.is_empty() {
        return format!("    <{kind}Values />\n");
    }
    let mut x = format!("    <{kind}Values>\n");
    for (attributes, text) in items {
        x += &format!("      <{kind} {attributes}>{text}</{kind}>\n");
    }
    x + &format!("    </{kind}Values>\n")
}

/// `<{open}>` (an element and its attributes) holding a date as `Year`,
/// `Month` and `Day`, indented by `indent` spaces.
fn date(indent: usize, open: &str, (year, month, day): (u32, u32, u32)) -> String {
    let pad = " ".repeat(indent);
    let close = open.split(' ').next().unwrap();
    format!(
        "{pad}<{open}>\n{pad}  <Year>{year}</Year>\n{pad}  <Month>{month}</Month>\n\
         {pad}  <Day>{day}</Day>\n{pad}</{close}>\n"
    )
}

/// A party's name: `(alias type, documented name id, name parts)`.
type Alias<'a> = (u32, u32, &'a [NamePart<'a>]);

/// A part of a name: `(name part group, name part type, value)`.
type NamePart<'a> = (u32, u32, &'a str);

/// One `DistinctParty` of [`advanced_xml`].
struct Party<'a> {
    /// Its fixed reference, also the profile's id.
    fixed: u32,
    sub_type: u32,
    identity: u32,
    /// Its names, the first the primary one.
    aliases: &'a [Alias<'a>],
    /// Its features, as [`feature`] gives them.
    features: &'a [String],
    /// Its sanctions entry's id.
    entry: u32,
}

fn party(p: &Party<'_>) -> String {
    let fixed = p.fixed;
    let mut aliases = String::new();
    let mut groups = String::new();
    for (i, &(alias_type, name_id, parts)) in p.aliases.iter().enumerate() {
        aliases += &format!(
            r#"          <Alias FixedRef="{fixed}" AliasTypeID="{alias_type}" Primary="{}" LowQuality="false">
            <DocumentedName ID="{name_id}" FixedRef="{fixed}" DocNameStatusID="1">
"#,
            i == 0
        );
        for &(group, part_type, value) in parts {
            aliases += &format!(
                r#"              <DocumentedNamePart>
                <NamePartValue NamePartGroupID="{group}" ScriptID="215" ScriptStatusID="1" Acronym="false">{value}</NamePartValue>
              </DocumentedNamePart>
"#
            );
            groups += &format!(
                r#"            <MasterNamePartGroup>
              <NamePartGroup ID="{group}" NamePartTypeID="{part_type}" />
            </MasterNamePartGroup>
"#
            );
        }
        aliases += "            </DocumentedName>\n          </Alias>\n";
    }
    format!(
        r#"    <DistinctParty FixedRef="{fixed}">
      <Profile ID="{fixed}" PartySubTypeID="{}">
        <Identity ID="{}" FixedRef="{fixed}" Primary="true" False="false">
{aliases}          <NamePartGroups>
{groups}          </NamePartGroups>
        </Identity>
{}        <SanctionsEntryReference SanctionsEntryID="{}" />
      </Profile>
    </DistinctParty>
"#,
        p.sub_type,
        p.identity,
        p.features.concat(),
        p.entry
    )
}

/// A `Feature` of an identity, of a feature type, its version (id `id +
/// 100`) holding `detail` (whole lines).
fn feature(id: u32, feature_type: u32, identity: u32, detail: &str) -> String {
    format!(
        r#"        <Feature ID="{id}" FeatureTypeID="{feature_type}">
          <FeatureVersion ID="{}" ReliabilityID="1">
{detail}          </FeatureVersion>
          <IdentityReference IdentityID="{identity}" IdentityFeatureLinkTypeID="1" />
        </Feature>
"#,
        id + 100
    )
}

/// A feature version's text: an address.
fn version_detail(text: &str) -> String {
    format!("            <VersionDetail DetailTypeID=\"1432\">{text}</VersionDetail>\n")
}

/// A `SanctionsEntry` of a profile, listed on a date (its event's id `id +
/// 100`), with its measures `(id, sanctions type, comment)`.
fn sanctions_entry(
    id: u32,
    profile: u32,
    listed: (u32, u32, u32),
    measures: &[(u32, u32, &str)],
) -> String {
    let mut x = format!(
        r#"    <SanctionsEntry ID="{id}" ProfileID="{profile}" ListID="1550">
      <EntryEvent ID="{}" EntryEventTypeID="1" LegalBasisID="1">
{}      </EntryEvent>
"#,
        id + 100,
        date(8, r#"Date CalendarTypeID="1""#, listed)
    );
    for &(measure, sanctions_type, comment) in measures {
        let comment = if comment.is_empty() {
            "<Comment />".to_string()
        } else {
            format!("<Comment>{comment}</Comment>")
        };
        x += &format!(
            r#"      <SanctionsMeasure ID="{measure}" SanctionsTypeID="{sanctions_type}">
        {comment}
        <DatePeriod CalendarTypeID="1" YearFixed="false" MonthFixed="false" DayFixed="false" />
      </SanctionsMeasure>
"#
        );
    }
    x + "    </SanctionsEntry>\n"
}

/// A small advanced XML valid against OFAC's `sdn_schema.xsd` (checked
/// with `xmllint --schema`), with two parties: an individual with a name
/// in parts, a birth date and an XBT address; an entity with an escaped
/// name, an XBT address, a Tron address listed as XBT and an ETH address.
/// The 1-based line of the first line of `text` containing `needle`.
fn line_in(text: &str, needle: &str) -> u64 {
    text.lines().position(|l| l.contains(needle)).unwrap() as u64 + 1
}

#[test]
fn advanced_xml_gives_addresses_with_names_programs_dates() {
    let dir = tempfile::tempdir().unwrap();
    // Named like OFAC's file, but recognised by content.
    let path = dir.path().join("export.dat");
    let xml = advanced_xml();
    std::fs::write(&path, &xml).unwrap();
    let files = read_files(std::slice::from_ref(&path)).unwrap();
    assert_eq!(files[0].format, Format::SdnXml);
    let p = &files[0].parsed;
    assert!(p.invalid.is_empty(), "{:?}", p.invalid);
    assert_eq!(p.labels.len(), 4);

    let l = find(&files, "bc1qvhnfknw852ephxyc5hm4q520zmvf9maphetc9z");
    assert_eq!(l.entity, "KHOROSHEV, Dmitry Yuryevich");
    assert_eq!(l.chain, "BTC");
    assert_eq!(l.category, Category::Sanctions);
    assert_eq!(l.tags, "CYBER2");
    assert_eq!(l.source, "OFAC SDN uid 48603");
    assert_eq!(l.date.as_deref(), Some("2024-05-07"));
    assert_eq!(l.confidence, Confidence(60));
    let line = line_in(&xml, "bc1qvhnfknw852ephxyc5hm4q520zmvf9maphetc9z");
    assert_eq!(l.origin, format!("{}:{line}", path.display()));

    let l = find(&files, "12HQDsicffSBaYdJ6BhnE22sfjTESmmzKx");
    assert_eq!(l.entity, "SUEX OTC, S.R.O. & Co");
    assert_eq!(l.tags, "CYBER2, ELECTION-EO13848");
    assert_eq!(l.date.as_deref(), Some("2021-09-21"));
    let eth = find(&files, "0x2f389ce8bd8ff92de3402ffce4691d17fc4f6535");
    assert_eq!(eth.chain, "ETH");

    assert_eq!(p.quirks.len(), 1, "{:?}", p.quirks);
    assert!(p.quirks[0].message.contains("Tron"));
    assert_eq!(
        p.quirks[0].line,
        line_in(&xml, "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq")
    );

    // Cut short, it is an error at the line where it breaks.
    let cut = dir.path().join("cut.xml");
    let end = xml.find("</DistinctParties>").unwrap();
    std::fs::write(&cut, format!("{}</Sanctions>", &xml[..end])).unwrap();
    let err = read_files(std::slice::from_ref(&cut)).unwrap_err();
    assert_eq!(err.file, cut.display().to_string());
    assert!(err.line > 100, "{err}");
}

#[test]
fn tagpacks_are_handed_to_the_tagpack_reader() {
    for rel in [
        "tagpacks/packs/binance_hack.yaml",
        "tagpacks/packs/blender_io.yaml",
    ] {
        let path = shared(rel);
        let files = read_files(std::slice::from_ref(&path)).unwrap();
        assert_eq!(files[0].format, Format::TagPack, "{rel}");
        assert!(!files[0].parsed.labels.is_empty(), "{rel}");
    }
}

/// Truncated, cut, overwritten and padded copies of every format are read
/// without a panic (an error or problems are fine).
#[test]
fn mutated_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut seed: u64 = 0x9E3779B97F4A7C15;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut sources: Vec<(String, Vec<u8>)> = Vec::new();
    for rel in [
        "sanctions/moov_watchman/sdn_tiny_excerpt_2025-05.csv",
        "sanctions/moov_watchman/sdn_comments_2025-12.csv",
        "sanctions/0xB10C_lists/sanctioned_addresses_XBT.json",
        "sanctions/0xB10C_lists/sanctioned_addresses_ETH.txt",
        "sanctions/ofac_dprk_program_addresses.csv",
        "incidents/hacks.csv",
        "tagpacks/packs/blender_io.yaml",
    ] {
        let p = shared(rel);
        sources.push((
            p.file_name().unwrap().to_string_lossy().into_owned(),
            std::fs::read(p).unwrap(),
        ));
    }
    sources.push(("sdn_advanced.xml".into(), advanced_xml().into_bytes()));
    sources.push((
        "u.csv".into(),
        b"address,label,category\n1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa,x,scam\n".to_vec(),
    ));
    let mut n = 0;
    for round in 0..60 {
        for (name, bytes) in &sources {
            let mut b = bytes.clone();
            match round % 4 {
                0 => b.truncate((rnd() as usize) % (b.len() + 1)),
                1 => {
                    for _ in 0..1 + rnd() % 8 {
                        let i = (rnd() as usize) % b.len();
                        b[i] = rnd() as u8;
                    }
                }
                2 => {
                    let i = (rnd() as usize) % b.len();
                    let j = (rnd() as usize) % b.len();
                    let (i, j) = (i.min(j), i.max(j));
                    b.drain(i..j);
                }
                _ => {
                    let i = (rnd() as usize) % b.len();
                    let ins: Vec<u8> = (0..rnd() % 20)
                        .map(|_| {
                            let alphabet = b"\"\r\n,;<>&[]{}-0- \x1a\xe9";
                            alphabet[(rnd() as usize) % alphabet.len()]
                        })
                        .collect();
                    b.splice(i..i, ins);
                }
            }
            let p = dir.path().join(name);
            std::fs::write(&p, &b).unwrap();
            let _ = read_files(&[p]);
            n += 1;
        }
    }
    assert_eq!(n, 60 * 9);
    // The legacy pair, cut anywhere, read together.
    let sdn = std::fs::read(shared(
        "sanctions/moov_watchman/sdn_tiny_excerpt_2025-05.csv",
    ))
    .unwrap();
    let com = std::fs::read(shared(
        "sanctions/moov_watchman/sdn_comments_tiny_excerpt_2025-05.csv",
    ))
    .unwrap();
    for _ in 0..40 {
        let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        std::fs::write(&a, &sdn[..(rnd() as usize) % (sdn.len() + 1)]).unwrap();
        std::fs::write(&b, &com[..(rnd() as usize) % (com.len() + 1)]).unwrap();
        let _ = read_files(&[a, b]);
    }
}
