//! Screening on a simulated economy, against its ground truth: labels are
//! made from the truth's owners (the sanctioned entity, the mixer, the
//! exchanges) and the heist transaction, imported as users' CSV files, and
//! every exposure is checked against an independent recursive computation
//! of the haircut rule; the heist's cash-outs against the truth's routes.

use chainhound_entities::cluster::{self, ClusterOptions, Clusters};
use chainhound_index::ingest::{ingest, IngestOptions, NoProgress};
use chainhound_index::source::Source;
use chainhound_index::store::{AddrId, Store, TxNum};
use chainhound_intel::book::LabelBook;
use chainhound_intel::formats::read_files;
use chainhound_intel::label::Category;
use chainhound_intel::resolve::Resolved;
use chainhound_intel::screen::{Options, Screener};
use chainhound_intel::severity::{Reach, Rules, Severity};
use chainhound_sim::datadir::{write_economy, Quiet};
use chainhound_sim::economy::Params;
use chainhound_sim::truth::{EntityKind, Role, Truth, TxKind};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

struct Sim {
    _dir: tempfile::TempDir,
    index: std::path::PathBuf,
    truth: Truth,
    book: LabelBook,
}

/// A simulated chain, ingested, with labels from its truth imported
/// through the users' CSV format.
fn sim() -> Sim {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("node");
    let params = Params::sized(4, Some(800), Some(200), Some(8_000)).unwrap();
    write_economy(params, &node, [0; 8], &mut Quiet).unwrap();
    let truth = Truth::load(&node.join("truth")).unwrap();
    let index = dir.path().join("index");
    ingest(
        &Source::datadir(&node).unwrap(),
        &index,
        &IngestOptions::default(),
        &mut NoProgress,
    )
    .unwrap();
    let addrs = truth.labels_csv(|e, _| match e.kind {
        EntityKind::Sanctioned => Some("sanctions"),
        EntityKind::Mixer => Some("mixer"),
        EntityKind::Exchange => Some("exchange"),
        _ => None,
    });
    let mut txs = String::from("txid,label,category\n");
    for t in truth.txs.iter().filter(|t| t.kind == TxKind::Heist) {
        writeln!(txs, "{},Harbor heist,stolen-funds", t.txid).unwrap();
    }
    let (fa, ft) = (dir.path().join("owners.csv"), dir.path().join("heist.csv"));
    std::fs::write(&fa, addrs).unwrap();
    std::fs::write(&ft, txs).unwrap();
    let mut book = LabelBook::default();
    let read = read_files(&[fa, ft]).unwrap();
    book.import(read, false).unwrap();
    Sim {
        _dir: dir,
        index,
        truth,
        book,
    }
}

/// The haircut rule written the other way round: a recursion over
/// transactions, memoised, with no pruning. `label` gives the category of a
/// funding output (its address's owner, or its transaction).
fn reference(
    st: &Store,
    t: TxNum,
    hops: u32,
    label: &dyn Fn(Option<AddrId>, TxNum) -> Option<Category>,
    memo: &mut HashMap<(u32, u32), HashMap<Category, f64>>,
) -> HashMap<Category, f64> {
    if let Some(m) = memo.get(&(t.0, hops)) {
        return m.clone();
    }
    let mut acc: HashMap<Category, f64> = HashMap::new();
    let ins: Vec<_> = st
        .tx_inputs(t)
        .filter_map(|i| st.in_prevout(i).ok().flatten())
        .map(|o| (o, st.out_value(o)))
        .collect();
    let total: u64 = ins.iter().map(|x| x.1).sum();
    if total > 0 {
        for (o, v) in ins {
            let w = v as f64 / total as f64;
            match label(st.out_addr(o), st.out_tx(o)) {
                Some(c) => *acc.entry(c).or_default() += w,
                None if hops > 1 => {
                    for (c, x) in reference(st, st.out_tx(o), hops - 1, label, memo) {
                        *acc.entry(c).or_default() += w * x;
                    }
                }
                None => {}
            }
        }
    }
    memo.insert((t.0, hops), acc.clone());
    acc
}

#[test]
fn exposure_shares_match_the_truth() {
    let s = sim();
    let st = Store::open(&s.index).unwrap();
    let net = st.network();
    // Truth owners by address id.
    let mut owner: HashMap<u32, Category> = HashMap::new();
    for a in &s.truth.addresses {
        let cat = match s.truth.entities[a.entity as usize].kind {
            EntityKind::Sanctioned => Category::Sanctions,
            EntityKind::Mixer => Category::Mixer,
            EntityKind::Exchange => Category::Exchange,
            _ => continue,
        };
        let k = chainhound_chain::address::decode(&a.address, net).unwrap();
        if let Some(id) = st.find_addr(&k) {
            owner.insert(id.0, cat);
        }
    }
    let heist: HashSet<u32> = s
        .truth
        .txs
        .iter()
        .filter(|t| t.kind == TxKind::Heist)
        .map(|t| st.find_tx(&t.txid).unwrap().0)
        .collect();
    assert_eq!(heist.len(), 1);
    let label = |a: Option<AddrId>, t: TxNum| {
        let by_addr = a.and_then(|a| owner.get(&a.0).copied());
        let by_tx = heist.contains(&t.0).then_some(Category::StolenFunds);
        match (by_addr, by_tx) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        }
    };
    let resolved = Resolved::build(&s.book, &st, None);
    assert_eq!(resolved.unresolved, 0, "every truth label is on the chain");
    let rules = Rules::default();
    let opts = Options {
        hops: 4,
        min_share: 0.0,
        max_txs: usize::MAX,
        ..Options::default()
    };
    let sc = Screener::new(Some(&st), &s.book, &resolved, &rules, opts);
    let mut memo = HashMap::new();
    let (mut compared, mut exposed) = (0usize, HashMap::<Category, usize>::new());
    for t in &s.truth.txs {
        let tn = st.find_tx(&t.txid).unwrap();
        let want = reference(&st, tn, 4, &label, &mut memo);
        let got = sc.screen(&t.txid.to_string()).unwrap();
        assert!(!got.truncated);
        let got_map: HashMap<Category, f64> =
            got.exposure.iter().map(|e| (e.category, e.share)).collect();
        for c in Category::ALL {
            let (w, g) = (
                want.get(&c).copied().unwrap_or(0.0),
                got_map.get(&c).copied().unwrap_or(0.0),
            );
            assert!(
                (w - g).abs() < 1e-9,
                "{} ({}): {c} share {g} but the truth gives {w}",
                t.txid,
                t.kind.name()
            );
            if w > 0.0 {
                *exposed.entry(c).or_default() += 1;
            }
        }
        // Shares add up to the whole value.
        let sum: f64 = got.exposure.iter().map(|e| e.share).sum::<f64>()
            + got.unattributed
            + got.newly_mined
            + got.pruned;
        if got.value_sat > 0 {
            assert!((sum - 1.0).abs() < 1e-9, "{}: shares sum to {sum}", t.txid);
        }
        compared += 1;
    }
    assert_eq!(compared, s.truth.txs.len());
    for c in [
        Category::Sanctions,
        Category::Mixer,
        Category::Exchange,
        Category::StolenFunds,
    ] {
        assert!(
            exposed.get(&c).copied().unwrap_or(0) > 5,
            "too few transactions exposed to {c} to test anything: {exposed:?}"
        );
    }
    // Every payout of the sanctioned entity is direct sanctions exposure
    // of all its value, severe; its recipients' next transactions are
    // exposed indirectly, two hops back, with a three-step path.
    let from: Vec<_> = s
        .truth
        .txs
        .iter()
        .filter(|t| t.kind == TxKind::FromSanctioned)
        .collect();
    assert!(!from.is_empty());
    let mut checked = 0;
    for t in from {
        let tn = st.find_tx(&t.txid).unwrap();
        let r = sc.screen(&t.txid.to_string()).unwrap();
        let f = r
            .findings
            .iter()
            .find(|f| f.category == Category::Sanctions)
            .unwrap_or_else(|| panic!("{}: no sanctions finding", t.txid));
        assert_eq!(f.reach, Reach::Direct);
        assert!(
            (f.share - 1.0).abs() < 1e-9,
            "{}: share {}",
            t.txid,
            f.share
        );
        assert_eq!(f.severity, Some(Severity::Severe));
        assert_eq!(r.severity, Some(Severity::Severe));
        assert_eq!(f.path.len(), 2);
        assert_eq!(f.path[1].txid, t.txid.to_string());
        assert!(f.rule.starts_with("built-in:"));
        for o in st.tx_outputs(tn) {
            let o = chainhound_index::store::OutId(o);
            let Some((child, _)) = st.out_spender(o) else {
                continue;
            };
            if st.out_addr(o).is_some_and(|a| owner.contains_key(&a.0)) {
                continue;
            }
            let r = sc.screen(&st.txid(child).to_string()).unwrap();
            let f = r
                .findings
                .iter()
                .find(|f| f.category == Category::Sanctions && f.reach == Reach::Indirect)
                .unwrap_or_else(|| panic!("{}: no sanctions finding", st.txid(child)));
            assert!(f.hops >= 2 && f.path.len() >= 3, "{f:?}");
            assert_eq!(f.path.last().unwrap().txid, st.txid(child).to_string());
            let src = f.path[0].address.as_deref().unwrap();
            let src = st
                .find_addr(&chainhound_chain::address::decode(src, net).unwrap())
                .unwrap();
            assert_eq!(owner.get(&src.0), Some(&Category::Sanctions));
            assert!(f.severity >= Some(Severity::High));
            checked += 1;
        }
    }
    assert!(checked > 0);
}

/// The route a cash-out's coins took from the heist, by the truth's kinds of
/// its ancestors: only the hacker's own transactions, or through the mixer,
/// or through a CoinJoin.
#[derive(Debug, PartialEq)]
enum Route {
    Pure,
    Mixer,
    CoinJoin,
}

fn route(st: &Store, kinds: &HashMap<u32, TxKind>, t: TxNum) -> Route {
    let mut todo = vec![t];
    let mut seen = HashSet::new();
    let mut r = Route::Pure;
    while let Some(t) = todo.pop() {
        if !seen.insert(t.0) {
            continue;
        }
        match kinds.get(&t.0) {
            Some(TxKind::Heist) => continue,
            Some(TxKind::MixerPayout) => return Route::Mixer,
            Some(k) if k.is_coinjoin() => {
                r = Route::CoinJoin;
                continue;
            }
            Some(TxKind::Split | TxKind::Peel | TxKind::Hop | TxKind::Cashout) => {}
            other => panic!("cash-out ancestor of kind {other:?}"),
        }
        for i in st.tx_inputs(t) {
            if let Ok(Some(o)) = st.in_prevout(i) {
                todo.push(st.out_tx(o));
            }
        }
    }
    r
}

#[test]
fn heist_cashouts_trace_to_the_heist_by_their_route() {
    let s = sim();
    let st = Store::open(&s.index).unwrap();
    let resolved = Resolved::build(&s.book, &st, None);
    let rules = Rules::default();
    let opts = Options {
        hops: 64,
        min_share: 0.0,
        max_txs: usize::MAX,
        ..Options::default()
    };
    let sc = Screener::new(Some(&st), &s.book, &resolved, &rules, opts);
    let kinds: HashMap<u32, TxKind> = s
        .truth
        .txs
        .iter()
        .map(|t| (st.find_tx(&t.txid).unwrap().0, t.kind))
        .collect();
    let heist = s
        .truth
        .txs
        .iter()
        .find(|t| t.kind == TxKind::Heist)
        .unwrap()
        .txid
        .to_string();
    let mut by_route: HashMap<&'static str, usize> = HashMap::new();
    let (mut pure_stolen, mut pure_truth) = (0u64, 0u64);
    for c in &s.truth.cashouts {
        let t = st.find_tx(&c.txid).unwrap();
        let r = sc.screen(&c.txid.to_string()).unwrap();
        let share = |cat| {
            r.exposure
                .iter()
                .find(|e| e.category == cat)
                .map(|e| e.share)
                .unwrap_or(0.0)
        };
        let stolen = r
            .findings
            .iter()
            .find(|f| f.category == Category::StolenFunds);
        match route(&st, &kinds, t) {
            Route::Pure => {
                *by_route.entry("pure").or_default() += 1;
                assert!(
                    (share(Category::StolenFunds) - 1.0).abs() < 1e-9,
                    "{}: stolen share {}",
                    c.txid,
                    share(Category::StolenFunds)
                );
                let f = stolen.unwrap();
                assert_eq!(f.path[0].txid, heist, "the path starts at the heist");
                assert!(f.path.iter().all(|p| p.coinjoin.is_none()));
                assert_eq!(f.path.last().unwrap().txid, c.txid.to_string());
                assert_eq!(
                    f.severity,
                    Some(Severity::Severe)
                        .filter(|_| f.hops == 1)
                        .or(Some(Severity::High))
                );
                pure_stolen += r.value_sat;
                pure_truth += c.stolen;
            }
            Route::Mixer => {
                *by_route.entry("mixer").or_default() += 1;
                assert_eq!(share(Category::StolenFunds), 0.0, "{}", c.txid);
                assert!((share(Category::Mixer) - 1.0).abs() < 1e-9, "{}", c.txid);
            }
            Route::CoinJoin => {
                *by_route.entry("coinjoin").or_default() += 1;
                let x = share(Category::StolenFunds);
                assert!(x > 0.0 && x < 1.0, "{}: stolen share {x}", c.txid);
                let f = stolen.unwrap();
                assert!(
                    f.path.iter().any(|p| st
                        .find_tx(&p.txid.parse().unwrap())
                        .and_then(|t| kinds.get(&t.0))
                        .is_some_and(|k| k.is_coinjoin())),
                    "{}: the path shows the CoinJoin",
                    c.txid
                );
                assert!(
                    f.path.iter().any(|p| p.coinjoin.is_some()),
                    "{}: the path marks the CoinJoin",
                    c.txid
                );
            }
        }
    }
    assert!(
        by_route.get("pure").copied().unwrap_or(0) > 0,
        "{by_route:?}"
    );
    // The address the heist paid: its receipt comes straight from the
    // labelled transaction.
    let ht = st.find_tx(&heist.parse().unwrap()).unwrap();
    let o = chainhound_index::store::OutId(st.tx_outputs(ht).start);
    let a = st.out_addr(o).unwrap();
    let addr = chainhound_chain::address::encode(&st.addr_key(a), st.network());
    let r = sc.screen(&addr).unwrap();
    let f = r
        .findings
        .iter()
        .find(|f| f.category == Category::StolenFunds)
        .unwrap_or_else(|| panic!("{addr}: {r:?}"));
    assert_eq!((f.reach, f.via), (Reach::Direct, "tx"));
    assert_eq!(f.path[0].txid, heist);
    assert_eq!(r.severity, Some(Severity::Severe));
    // The deposits' values are the proceeds plus the deposit fees.
    assert!(pure_stolen >= pure_truth, "{pure_stolen} < {pure_truth}");
    eprintln!("cash-outs by route: {by_route:?}");
}

#[test]
fn entity_labels_lift_and_conflicts_are_flagged() {
    let s = sim();
    let st = Store::open(&s.index).unwrap();
    let mut det = chainhound_entities::coinjoin::Detector::new(Default::default());
    cluster::update(&st, &s.index, &ClusterOptions::default(), &mut |st, t| {
        det.classify_tx(st, t).is_some()
    })
    .unwrap();
    let clusters = || Clusters::open(&cluster::clusters_dir(&s.index)).unwrap();
    // The truth's own labels never conflict.
    let r = Resolved::build(&s.book, &st, Some(clusters()));
    assert!(
        r.conflicts.is_empty(),
        "truth labels conflict: {:?}",
        r.conflicts
    );
    // One deposit address of an exchange labelled: the other deposit
    // addresses its sweeps merged with it inherit the label through their
    // entity.
    let net = st.network();
    let id = |a: &str| st.find_addr(&chainhound_chain::address::decode(a, net).unwrap());
    let c = clusters();
    let deposits: Vec<_> = s
        .truth
        .addresses
        .iter()
        .filter(|a| a.role == Role::Deposit)
        .filter_map(|a| Some((a, id(&a.address)?)))
        .collect();
    let (labelled, deposit) = deposits
        .iter()
        .find_map(|(a, ai)| {
            deposits
                .iter()
                .find(|(b, bi)| {
                    b.entity == a.entity && bi != ai && c.root_of(bi.0) == c.root_of(ai.0)
                })
                .map(|(b, _)| (*a, *b))
        })
        .expect("two deposit addresses of one exchange in one entity");
    let hot_addr = labelled;
    let mut csv = String::from("address,label,category\n");
    let name = &s.truth.entities[labelled.entity as usize].name;
    writeln!(csv, "{},{name},exchange", labelled.address).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("deposit.csv");
    std::fs::write(&f, &csv).unwrap();
    let mut book = LabelBook::default();
    book.import(read_files(std::slice::from_ref(&f)).unwrap(), false)
        .unwrap();
    let rules = Rules::default();
    let r = Resolved::build(&book, &st, Some(clusters()));
    let sc = Screener::new(Some(&st), &book, &r, &rules, Options::default());
    let exchange = &s.truth.entities[deposit.entity as usize].name;
    let got = sc.screen(&deposit.address).unwrap();
    assert!(
        got.hits
            .iter()
            .any(|h| h.via == "entity" && &h.label.entity == exchange),
        "{:?}",
        got.hits
    );
    assert!(!got.entity.as_ref().unwrap().conflicted);
    // A second exchange's name on the same entity: flagged, and no longer
    // lifted.
    let other = s
        .truth
        .entities
        .iter()
        .find(|e| e.kind == EntityKind::Exchange && &e.name != exchange)
        .unwrap();
    csv.push_str(&format!("{},{},exchange\n", deposit.address, other.name));
    std::fs::write(&f, &csv).unwrap();
    book.import(read_files(&[f]).unwrap(), false).unwrap();
    let r = Resolved::build(&book, &st, Some(clusters()));
    let root = c.root_of(id(&hot_addr.address).unwrap().0);
    let conflict = r
        .conflicts
        .iter()
        .find(|x| x.entity == root)
        .expect("flagged");
    let names: HashSet<&str> = conflict
        .services
        .iter()
        .map(|x| x.entity.as_str())
        .collect();
    assert!(names.contains(exchange.as_str()) && names.contains(other.name.as_str()));
    let sc = Screener::new(Some(&st), &book, &r, &rules, Options::default());
    let got = sc.screen(&deposit.address).unwrap();
    assert!(got.entity.as_ref().unwrap().conflicted);
    assert!(got.hits.iter().all(|h| h.via != "entity"), "{:?}", got.hits);
}

#[test]
fn labels_alone_screen_without_an_index() {
    let s = sim();
    let rules = Rules::default();
    let r = Resolved::default();
    let sc = Screener::new(None, &s.book, &r, &rules, Options::default());
    let sanctioned = s
        .truth
        .addresses
        .iter()
        .find(|a| s.truth.entities[a.entity as usize].kind == EntityKind::Sanctioned)
        .unwrap();
    let got = sc.screen(&sanctioned.address).unwrap();
    assert!(!got.in_index);
    assert_eq!(got.severity, Some(Severity::Severe));
    assert_eq!(got.hits[0].label.category, Category::Sanctions);
    assert!(got.hits[0].label.origin.contains("/owners.csv:"));
    let clean = sc
        .screen("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080")
        .unwrap();
    assert_eq!(clean.severity, None);
    assert!(clean.hits.is_empty());
}

#[test]
fn resolution_cache_matches_a_fresh_build() {
    let s = sim();
    let st = Store::open(&s.index).unwrap();
    let dir = tempfile::tempdir().unwrap();
    s.book.save(dir.path()).unwrap();
    let fresh = Resolved::build(&s.book, &st, None);
    let first = Resolved::cached(&s.book, dir.path(), &st, None);
    assert!(dir.path().join("resolved.bin").exists());
    let second = Resolved::cached(&s.book, dir.path(), &st, None);
    for r in [&first, &second] {
        assert_eq!(r.counts(), fresh.counts());
        assert_eq!(r.unresolved, fresh.unresolved);
    }
    // Same screening from the cache as from a fresh build.
    let rules = Rules::default();
    let cashout = s.truth.cashouts[0].txid.to_string();
    let a = Screener::new(Some(&st), &s.book, &fresh, &rules, Options::default())
        .screen(&cashout)
        .unwrap();
    let b = Screener::new(Some(&st), &s.book, &second, &rules, Options::default())
        .screen(&cashout)
        .unwrap();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    // A damaged cache is rebuilt, not trusted.
    std::fs::write(
        dir.path().join("resolved.bin"),
        b"chainhound-resolved 1\ngarbage",
    )
    .unwrap();
    let third = Resolved::cached(&s.book, dir.path(), &st, None);
    assert_eq!(third.counts(), fresh.counts());
}
