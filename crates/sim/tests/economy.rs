//! The simulated economy against chainhound's own index of it, and its pool
//! tags against the real pool list in `../shared/data/pools`: every fact of
//! the ground truth must hold on the chain, and the same seed must give the
//! same bytes whatever the thread count.

use chainhound_chain::{Network, ScriptType};
use chainhound_index::ingest::{ingest, IngestOptions, NoProgress};
use chainhound_index::query::Query;
use chainhound_index::source::Source;
use chainhound_index::store::Store;
use chainhound_sim::datadir::{write_economy, Quiet, DEFAULT_XOR};
use chainhound_sim::economy::{simulate, Params, NEWCOMER, POOLS};
use chainhound_sim::truth::{EntityKind, Role, Truth, TxKind, ALL_TX_KINDS};
use chainhound_testdata::shared;
use std::collections::{HashMap, HashSet};

fn params() -> Params {
    Params::sized(21, Some(600), Some(150), Some(6_000)).unwrap()
}

/// The most frequent value and how often it occurs (the largest on ties).
fn most_common(values: &[u64]) -> (u64, u32) {
    let mut best = (0, 0);
    for &v in values {
        let n = values.iter().filter(|&&w| w == v).count() as u32;
        if (n, v) > (best.1, best.0) {
            best = (v, n);
        }
    }
    best
}

#[test]
fn same_seed_same_bytes_whatever_the_threads() {
    let mut one = params();
    one.threads = 1;
    let mut two = params();
    two.threads = 3;
    let (a, ta, sa) = simulate(one);
    let (b, tb, sb) = simulate(two);
    assert!(a == b, "blocks differ between 1 and 3 threads");
    assert_eq!(ta, tb);
    assert_eq!(sa, sb);
    let mut other = params();
    other.seed = 22;
    let (c, _, _) = simulate(other);
    assert_ne!(a[200], c[200]);
}

#[test]
fn truth_holds_on_the_indexed_chain() {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("node");
    let summary = write_economy(params(), &node, DEFAULT_XOR, &mut Quiet).unwrap();
    assert!(summary.txs >= 5_400, "{summary:?}");
    let truth = Truth::load(&node.join("truth")).unwrap();
    // The files hold exactly what the economy made in memory.
    let (_, mem, _) = simulate(params());
    assert_eq!(truth, mem);

    let index = dir.path().join("index");
    let r = ingest(
        &Source::datadir(&node).unwrap(),
        &index,
        &IngestOptions::default(),
        &mut NoProgress,
    )
    .unwrap();
    assert_eq!(r.network, Some(Network::Regtest));
    assert_eq!(r.txs_added, summary.txs + 1, "plus the genesis coinbase");
    assert!(r.warnings.is_empty() && r.chain_warnings.is_empty());
    let store = Store::open(&index).unwrap();
    let q = Query::new(&store);

    let owner: HashMap<&str, (u32, Role, Option<u32>)> = truth
        .addresses
        .iter()
        .map(|a| (a.address.as_str(), (a.entity, a.role, a.customer)))
        .collect();
    assert_eq!(
        owner.len(),
        truth.addresses.len(),
        "an address listed twice"
    );
    let kind_of = |e: u32| truth.entity(e).unwrap().kind;

    // Every transaction, with its shape and fee; every output address owned.
    let mut by_txid = HashMap::new();
    for t in &truth.txs {
        let tx = q
            .tx(&t.txid)
            .unwrap_or_else(|| panic!("{} not indexed", t.txid));
        assert_eq!(tx.height, t.height);
        assert_eq!(tx.inputs.len() as u32, t.inputs, "{}", t.txid);
        assert_eq!(tx.outputs.len() as u32, t.outputs, "{}", t.txid);
        assert_eq!(tx.fee, Some(t.fee), "{}", t.txid);
        for o in &tx.outputs {
            let a = o.address.as_deref().unwrap();
            assert!(owner.contains_key(a), "{a} of {} has no owner", t.txid);
        }
        by_txid.insert(t.txid, (t, tx));
    }
    // Coinbases pay the miner's coinbase address and carry its tag.
    for b in &truth.blocks {
        let blk = q.block(b.height).unwrap();
        assert_eq!(blk.hash, b.hash);
        assert!(
            blk.coinbase_text.contains(&b.tag),
            "{}: {}",
            b.height,
            blk.coinbase_text
        );
        let cb = q.tx(&blk.txids[0]).unwrap();
        let a = cb.outputs[0].address.as_deref().unwrap();
        assert_eq!(owner[a].0, b.miner, "block {} coinbase", b.height);
        assert_eq!(owner[a].1, Role::Coinbase);
    }

    // Change goes back to the spender.
    assert!(truth.change.len() > 1_000);
    for c in &truth.change {
        let (_, tx) = &by_txid[&c.txid];
        let a = tx.outputs[c.vout as usize].address.as_deref().unwrap();
        assert_eq!(owner[a].0, c.entity, "change {}:{}", c.txid, c.vout);
    }

    // CoinJoins: equal outputs, several participants.
    let mut kinds_seen = HashSet::new();
    for (t, tx) in by_txid.values() {
        kinds_seen.insert(t.kind);
        if t.kind == TxKind::Whirlpool {
            assert_eq!(
                (tx.inputs.len(), tx.outputs.len(), t.participants),
                (5, 5, 5)
            );
            assert!(tx.outputs.iter().all(|o| o.value == tx.outputs[0].value));
        }
        if t.kind.is_coinjoin() {
            let mut counts = HashMap::new();
            for o in &tx.outputs {
                *counts.entry(o.value).or_insert(0) += 1;
            }
            assert!(
                counts.values().any(|&n| n >= 2),
                "{}: no equal outputs",
                t.txid
            );
            assert!(t.participants >= 2 || t.kind == TxKind::Wasabi);
        }
    }
    // Each kind's own shape, as its detector expects it.
    let ww2 = chainhound_sim::economy::wasabi2_denominations();
    for (t, tx) in by_txid.values() {
        let ins: Vec<u64> = tx.inputs.iter().map(|i| i.value.unwrap()).collect();
        let outs: Vec<u64> = tx.outputs.iter().map(|o| o.value).collect();
        let count = |v: u64| outs.iter().filter(|&&o| o == v).count() as u32;
        let signer_owns = |a: &Option<String>| owner[a.as_deref().unwrap()].0 == t.entity;
        let p2wpkh = |s: Option<ScriptType>| s == Some(ScriptType::P2wpkh);
        match t.kind {
            TxKind::Whirlpool => {
                // Remixes (exactly the denomination) and premixes (it plus
                // 2,000 for the mix's fee), all P2WPKH.
                let d = outs[0];
                assert!(ins.iter().all(|&v| v == d || v == d + 2_000), "{}", t.txid);
                assert!(tx.inputs.iter().all(|i| p2wpkh(i.script_type)));
                assert!(tx.outputs.iter().all(|o| p2wpkh(Some(o.script_type))));
            }
            TxKind::CoinjoinGeneric => {
                // One equal output per party; change for every maker, and
                // for the taker unless it swept.
                let (v, n) = most_common(&outs);
                assert_eq!(n, t.participants, "{}", t.txid);
                assert!(v >= 100_000);
                let others = t.outputs - n;
                assert!(others == n || others + 1 == n, "{}", t.txid);
            }
            TxKind::Wasabi => {
                // At least 20 inputs, but for a round the hacker had to join.
                let hacker_in = tx
                    .outputs
                    .iter()
                    .any(|o| owner[o.address.as_deref().unwrap()].1 == Role::Stash);
                assert!(t.inputs >= 20 || hacker_in, "{}", t.txid);
                assert!(ins.windows(2).all(|w| w[0] >= w[1]), "{}", t.txid);
                assert!(outs.windows(2).all(|w| w[0] >= w[1]), "{}", t.txid);
                let standard = outs.iter().filter(|v| ww2.binary_search(v).is_ok()).count();
                assert!(standard * 10 > outs.len() * 8, "{}", t.txid);
                assert!(tx
                    .inputs
                    .iter()
                    .all(|i| matches!(i.script_type, Some(ScriptType::P2wpkh | ScriptType::P2tr))));
            }
            TxKind::Wasabi1 => {
                let (v, n) = most_common(&outs);
                assert!((9_800_000..=10_200_001).contains(&v), "{}", t.txid);
                assert_eq!(n, t.participants);
                assert!(n >= 10 && t.inputs >= n);
                assert!(tx.inputs.iter().all(|i| p2wpkh(i.script_type)));
                assert!(tx.outputs.iter().all(|o| p2wpkh(Some(o.script_type))));
                assert!(outs.iter().filter(|&&o| count(o) == 1).count() >= 2);
            }
            TxKind::Stonewall => {
                // One signer; the payment and a decoy of its value, and
                // two change outputs: three of four outputs are the signer's.
                assert_eq!((t.outputs, t.participants), (4, 1));
                assert!(t.inputs >= 2);
                assert_eq!(most_common(&outs).1, 2, "{}", t.txid);
                assert!(tx.inputs.iter().all(|i| signer_owns(&i.address)));
                let own = tx
                    .outputs
                    .iter()
                    .filter(|o| signer_owns(&o.address))
                    .count();
                assert_eq!(own, 3, "{}", t.txid);
            }
            _ => {}
        }
    }

    // Every kind happens, but for refills, hops and consolidations, which
    // this small economy need not make.
    for k in ALL_TX_KINDS {
        let optional = [TxKind::Refill, TxKind::Hop, TxKind::Consolidation];
        assert!(kinds_seen.contains(&k) || optional.contains(&k), "no {k:?}");
    }

    // The heist: the victim's hot outputs, spent by the heist tx.
    let heist = truth.txs.iter().find(|t| t.kind == TxKind::Heist).unwrap();
    assert_eq!(truth.stolen.len() as u32, heist.inputs);
    assert_eq!(
        truth.stolen.iter().map(|s| s.value).sum::<u64>(),
        summary.stolen_sats
    );
    for s in &truth.stolen {
        assert_eq!(s.heist_txid, heist.txid);
        let prev = q.tx(&s.txid).unwrap();
        let o = &prev.outputs[s.vout as usize];
        assert_eq!(o.value, s.value);
        assert_eq!(o.spent_by.as_ref().unwrap().txid, heist.txid);
        let (e, role, _) = owner[o.address.as_deref().unwrap()];
        assert_eq!((kind_of(e), role), (EntityKind::Exchange, Role::Hot));
    }
    // Cash-outs: deposit addresses of the hacker at other exchanges.
    assert!(truth.cashouts.len() >= 10);
    let hacker = truth
        .entities
        .iter()
        .find(|e| e.kind == EntityKind::Hacker)
        .unwrap()
        .id;
    let victim = owner[q.tx(&heist.txid).unwrap().inputs[0]
        .address
        .as_deref()
        .unwrap()]
    .0;
    for c in &truth.cashouts {
        let (_, tx) = &by_txid[&c.txid];
        let o = &tx.outputs[c.vout as usize];
        assert_eq!(
            (o.value, o.address.as_deref()),
            (c.value, Some(c.address.as_str()))
        );
        assert_eq!(
            owner[c.address.as_str()],
            (c.exchange, Role::Deposit, Some(hacker))
        );
        assert_ne!(c.exchange, victim);
        assert!(c.height > heist.height);
    }
    let cashed: u64 = truth.cashouts.iter().map(|c| c.stolen).sum();
    assert!(cashed <= summary.stolen_sats && cashed > summary.stolen_sats * 9 / 10);
}

/// The pools' tags are real pools' tags (mempool's pools-v2.json, the same
/// name), and the newcomer's tag matches no pool at all.
#[test]
fn pool_tags_are_real_and_the_newcomer_is_unlisted() {
    let text = std::fs::read_to_string(shared("pools/mempool/pools-v2.json")).unwrap();
    let pools: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let tags_of = |name: &str| -> Vec<String> {
        pools
            .iter()
            .filter(|p| p["name"] == name)
            .flat_map(|p| p["tags"].as_array().unwrap().iter())
            .map(|t| t.as_str().unwrap().to_string())
            .collect()
    };
    for (i, (name, tag, _)) in POOLS.iter().enumerate() {
        if i == NEWCOMER {
            continue;
        }
        assert!(
            tags_of(name).iter().any(|t| t == tag),
            "{name}: {tag:?} not among its tags"
        );
    }
    let newcomer = POOLS[NEWCOMER].1.to_lowercase();
    for p in &pools {
        for t in p["tags"].as_array().unwrap() {
            let t = t.as_str().unwrap().to_lowercase();
            assert!(
                !newcomer.contains(&t),
                "newcomer tag matches {}'s {t:?}",
                p["name"]
            );
        }
    }
}
