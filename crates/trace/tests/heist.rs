//! Tracing the simulated heist, checked against the simulator's truth:
//! FIFO finds every cash-out the loot reaches on chain and names no wrong
//! exchange; the mixer's payouts surface as the found accounts' other
//! deposits; every policy conserves value; FIFO amounts on pure routes are
//! exact; a cash-out traces back to the robbed exchange; hop and time
//! bounds stop where they say; a saved case reports the coins' movements
//! after a later ingest.

use chainhound_index::ingest::{ingest, IngestOptions, NoProgress};
use chainhound_index::source::Source;
use chainhound_index::store::Store;
use chainhound_intel::book::LabelBook;
use chainhound_intel::formats::read_files;
use chainhound_intel::label::Category;
use chainhound_intel::resolve::Resolved;
use chainhound_sim::datadir::{write_economy, Quiet};
use chainhound_sim::economy::Params;
use chainhound_sim::truth::{Truth, TxKind};
use chainhound_trace::case::Case;
use chainhound_trace::eval;
use chainhound_trace::walk::Trace;
use chainhound_trace::{seed, CoinJoinMode, Direction, Options, Policy, Tracer};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::OnceLock;

struct Sim {
    _dir: tempfile::TempDir,
    node: PathBuf,
    index: PathBuf,
    truth: Truth,
    services: PathBuf,
}

/// One simulated economy with a heist, indexed, shared by the tests.
fn sim() -> &'static Sim {
    static SIM: OnceLock<Sim> = OnceLock::new();
    SIM.get_or_init(|| {
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
        // What an investigator knows: the exchanges' and the mixer's
        // addresses (not the hacker's).
        let services = dir.path().join("services.csv");
        std::fs::write(&services, eval::services_csv(&truth)).unwrap();
        Sim {
            _dir: dir,
            node,
            index,
            truth,
            services,
        }
    })
}

fn book(s: &Sim) -> LabelBook {
    let mut b = LabelBook::default();
    b.import(
        read_files(std::slice::from_ref(&s.services)).unwrap(),
        false,
    )
    .unwrap();
    b
}

fn heist(s: &Sim) -> String {
    s.truth
        .txs
        .iter()
        .find(|t| t.kind == TxKind::Heist)
        .expect("a heist")
        .txid
        .to_string()
}

/// The index, the services' labels and their placement.
fn open(s: &Sim) -> (Store, LabelBook, Resolved) {
    let st = Store::open(&s.index).unwrap();
    let b = book(s);
    let r = Resolved::build(&b, &st, None);
    (st, b, r)
}

fn run(st: &Store, book: &LabelBook, r: &Resolved, seeds: &str, opts: Options) -> Trace {
    let coins = seed::coins(st, seeds).unwrap();
    Tracer::new(st, Some((book, r)), opts).trace(&coins)
}

#[test]
fn fifo_finds_every_reachable_cashout_and_names_no_wrong_exchange() {
    let s = sim();
    let (st, b, r) = open(s);
    let (_, _, exp) = eval::expected(&st, &s.truth).unwrap();
    let connected = exp.iter().filter(|e| e.connected).count();
    // The truth's mixer route: its cash-outs are paid from other coins.
    assert!(
        connected < exp.len() && connected >= exp.len() * 3 / 4,
        "{connected}/{}",
        exp.len()
    );
    let score = |policy, coinjoin| {
        let t = run(
            &st,
            &b,
            &r,
            &heist(s),
            Options {
                policy,
                coinjoin,
                ..Default::default()
            },
        );
        eval::score(&t, &exp, 0.0)
    };
    let fifo = score(Policy::Fifo, CoinJoinMode::Share);
    assert!(fifo.recall_connected >= 0.95, "{fifo:?}");
    assert!(
        fifo.wrong_exchanges.is_empty(),
        "{:?}",
        fifo.wrong_exchanges
    );
    assert_eq!(fifo.false_deposits, 0, "{fifo:?}");
    assert_eq!(fifo.addresses_found, fifo.deposit_addresses);
    // Arrivals after the Wasabi rounds at other addresses are possible,
    // not asserted, and none of them is a cash-out.
    assert!(fifo.possible > 0 && fifo.possible_cashouts == 0, "{fifo:?}");
    // The mixer's payouts to the hacker reach the same accounts: every
    // cash-out is found or is a lead.
    assert_eq!(fifo.found + fifo.account_leads, exp.len(), "{fifo:?}");
    // Stopping at CoinJoins loses the Wasabi routes, wrongly naming none.
    let stop = score(Policy::Fifo, CoinJoinMode::Stop);
    assert!(stop.found_connected < fifo.found_connected, "{stop:?}");
    assert!(stop.wrong_exchanges.is_empty());
    // Haircut and poison find as much here, at a far larger cost.
    for p in [Policy::Haircut, Policy::Poison] {
        let o = score(p, CoinJoinMode::Share);
        assert!(o.found_connected >= fifo.found_connected, "{o:?}");
        assert!(o.wrong_exchanges.is_empty(), "{o:?}");
        assert!(o.txs_expanded >= fifo.txs_expanded);
    }
}

#[test]
fn value_is_conserved_and_fifo_is_exact_on_pure_routes() {
    let s = sim();
    let (st, b, r) = open(s);
    let cashouts: std::collections::HashMap<String, u64> = s
        .truth
        .cashouts
        .iter()
        .map(|c| (format!("{}:{}", c.txid, c.vout), c.value))
        .collect();
    for policy in [Policy::Fifo, Policy::Haircut] {
        for hops in [1, 3, 10] {
            let t = run(
                &st,
                &b,
                &r,
                &heist(s),
                Options {
                    policy,
                    hops,
                    ..Default::default()
                },
            );
            let x = &t.totals;
            let sum = x.entities_sat
                + x.possible_sat
                + x.unspent_sat
                + x.hop_limit_sat
                + x.time_bound_sat
                + x.dust_sat
                + x.fees_sat
                + x.coinjoin_stopped_sat
                + x.pruned_sat;
            assert!(
                sum.abs_diff(t.seeded_sat) <= 16,
                "{policy:?} {hops}: {sum} vs {}: {x:?}",
                t.seeded_sat
            );
        }
        let t = run(
            &st,
            &b,
            &r,
            &heist(s),
            Options {
                policy,
                ..Default::default()
            },
        );
        let mut pure = 0;
        for e in &t.entities {
            for a in &e.addresses {
                for c in &a.coins {
                    let coin = format!("{}:{}", c.txid, c.vout);
                    if let (Some(&v), false) = (cashouts.get(&coin), c.after_coinjoin) {
                        pure += 1;
                        if policy == Policy::Fifo {
                            // The hacker holds nothing else: all of it is loot.
                            assert_eq!(c.tainted_sat, v, "{coin}");
                        }
                    }
                }
            }
            // Every step of an evidence path is a coin of the chain,
            // consecutive steps linked by a spend.
            for w in e.path.windows(2) {
                let o = seed::coins(&st, &format!("{}:{}", w[0].txid, w[0].vout)).unwrap()[0];
                let (t2, _) = st.out_spender(o).expect("path coins are spent");
                assert_eq!(st.txid(t2).to_string(), w[1].txid);
            }
        }
        assert!(pure >= 10, "{policy:?}: {pure}");
    }
}

#[test]
fn a_cashout_traces_back_to_the_robbed_exchange() {
    let s = sim();
    let (st, b, r) = open(s);
    let fwd = run(&st, &b, &r, &heist(s), Options::default());
    let victim = &s.truth.entity(0).unwrap().name;
    let mut checked = 0;
    for e in &fwd.entities {
        for c in e
            .addresses
            .iter()
            .flat_map(|a| &a.coins)
            .filter(|c| !c.after_coinjoin)
            .take(3)
        {
            let back = run(
                &st,
                &b,
                &r,
                &format!("{}:{}", c.txid, c.vout),
                Options {
                    direction: Direction::Backward,
                    hops: 40,
                    ..Default::default()
                },
            );
            let from: Vec<&str> = back.entities.iter().map(|e| e.name.as_str()).collect();
            assert_eq!(from, vec![victim.as_str()], "{}:{}", c.txid, c.vout);
            let src = &back.entities[0];
            assert_eq!(src.category, Category::Exchange);
            // FIFO backward: all of the deposit's value came from the hot
            // wallet, but the fees paid on the way.
            assert_eq!(src.amount_sat + back.totals.fees_sat, c.value_sat);
            // The evidence runs from the victim's coin, through the heist,
            // to the deposit.
            assert!(src.path.iter().any(|p| p.txid == heist(s) || {
                let o = seed::coins(&st, &format!("{}:{}", p.txid, p.vout)).unwrap()[0];
                st.out_spender(o)
                    .is_some_and(|(t, _)| st.txid(t).to_string() == heist(s))
            }));
            assert_eq!(
                src.path.last().map(|p| (&p.txid, p.vout)),
                Some((&c.txid, c.vout))
            );
            checked += 1;
        }
    }
    assert!(checked >= 3);
}

#[test]
fn hops_time_and_coinjoin_stops() {
    let s = sim();
    let (st, b, r) = open(s);
    let h = s
        .truth
        .txs
        .iter()
        .find(|t| t.kind == TxKind::Heist)
        .unwrap()
        .height;
    // One hop: the heist's output is spent by the split; its outputs rest.
    let one = run(
        &st,
        &b,
        &r,
        &heist(s),
        Options {
            hops: 1,
            ..Default::default()
        },
    );
    assert_eq!(one.txs_expanded, 1);
    assert!(one
        .holdings
        .iter()
        .all(|x| x.why == "hop-limit" && x.coin.hop == 1));
    assert!(one.entities.is_empty());
    // A time bound a few blocks after the heist.
    let bound = h + 5;
    let t = run(
        &st,
        &b,
        &r,
        &heist(s),
        Options {
            bound: Some(bound),
            ..Default::default()
        },
    );
    assert!(t.totals.time_bound_sat > 0);
    for x in t.holdings.iter().filter(|x| x.why == "time-bound") {
        assert!(x.coin.height <= bound);
    }
    for e in &t.entities {
        assert!(e.first_height <= bound);
    }
    // Stopping at CoinJoins: the Wasabi rounds are marked and hold value.
    let stop = run(
        &st,
        &b,
        &r,
        &heist(s),
        Options {
            coinjoin: CoinJoinMode::Stop,
            ..Default::default()
        },
    );
    assert!(stop.totals.coinjoin_stopped_sat > 0);
    assert!(stop.coinjoins.iter().all(|c| c.action == "stopped"));
    let wasabi: HashSet<String> = s
        .truth
        .txs
        .iter()
        .filter(|t| t.kind == TxKind::Wasabi)
        .map(|t| t.txid.to_string())
        .collect();
    assert!(stop
        .coinjoins
        .iter()
        .any(|c| wasabi.contains(&c.txid) && c.kind == "wasabi2"));
    assert!(stop.possible.is_empty());
    // The mixer is where the mixer route ends.
    let t = run(&st, &b, &r, &heist(s), Options::default());
    assert!(t.entities.iter().any(|e| e.category == Category::Mixer));
    // The graph draws asserted entities as entities and the rest apart.
    let named: HashSet<String> = t.entities.iter().map(|e| e.name.clone()).collect();
    let maybe: HashSet<String> = t.possible.iter().map(|e| e.name.clone()).collect();
    let mut kinds = HashSet::new();
    for n in &t.graph.nodes {
        kinds.insert(n.kind.as_str());
        match n.kind.as_str() {
            "entity" => assert!(named.contains(&n.label), "{}", n.label),
            "possible" => assert!(
                maybe.iter().any(|m| n.label.starts_with(m.as_str())),
                "{}",
                n.label
            ),
            _ => {}
        }
    }
    assert!(
        kinds.contains("entity") && kinds.contains("seed"),
        "{kinds:?}"
    );
    let ids: HashSet<&str> = t.graph.nodes.iter().map(|n| n.id.as_str()).collect();
    assert!(t
        .graph
        .edges
        .iter()
        .all(|e| ids.contains(e.from.as_str()) && ids.contains(e.to.as_str())));
}

#[test]
fn a_saved_case_reports_movements_after_ingest() {
    let s = sim();
    let h = s
        .truth
        .txs
        .iter()
        .find(|t| t.kind == TxKind::Heist)
        .unwrap()
        .height;
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("index");
    let source = Source::datadir(&s.node).unwrap();
    let part = |max| {
        ingest(
            &source,
            &index,
            &IngestOptions {
                max_height: Some(max),
                ..Default::default()
            },
            &mut NoProgress,
        )
        .unwrap();
    };
    part(h + 3);
    let b = book(s);
    let case = {
        let st = Store::open(&index).unwrap();
        let r = Resolved::build(&b, &st, None);
        let t = run(&st, &b, &r, &heist(s), Options::default());
        assert!(!t.holdings.is_empty());
        Case::new("harbor", vec![heist(s)], Options::default(), &t)
    };
    case.save(&index).unwrap();
    assert_eq!(Case::list(&index).unwrap(), vec!["harbor".to_string()]);
    part(u32::MAX);
    let st = Store::open(&index).unwrap();
    let r = Resolved::build(&b, &st, None);
    let mut case = Case::load(&index, "harbor").unwrap();
    let t = run(&st, &b, &r, &heist(s), case.options.clone());
    let moves = case.check(&st, &t);
    let kinds: HashSet<&str> = moves.iter().map(|m| m.kind.as_str()).collect();
    assert!(
        kinds.contains("moved") && kinds.contains("arrived"),
        "{moves:?}"
    );
    // Every cash-out the full trace asserts is reported as arrived once.
    let arrived: HashSet<&str> = moves
        .iter()
        .filter(|m| m.kind == "arrived")
        .map(|m| m.coin.as_str())
        .collect();
    let n: usize = t.entities.iter().map(|e| e.outputs).sum();
    assert_eq!(arrived.len(), n);
    case.save(&index).unwrap();
    // Checked again with nothing new: nothing moved.
    let mut again = Case::load(&index, "harbor").unwrap();
    assert!(again.check(&st, &t).is_empty());
    // Bad names are refused; a damaged file names itself.
    assert!(Case::load(&index, "../x").is_err());
    std::fs::write(index.join("cases/bad.json"), "{").unwrap();
    let e = Case::load(&index, "bad").unwrap_err().to_string();
    assert!(e.contains("bad.json"), "{e}");
}
