//! Miner attribution on real blocks and on a simulated chain: every block of
//! `../shared/data/blocks` is attributed as a plain reading of mempool's
//! `pools-v2.json` says, and every simulated block goes to the pool that
//! mined it, the newcomer to one unknown group named by its tag.

mod common;

use chainhound_entities::miners::{
    coinbase_tag, payouts, Attribution, Evidence, MinersError, PoolList, UnknownGroup,
    MAX_FILE_BYTES,
};
use chainhound_index::ingest::{ingest, IngestOptions, NoProgress};
use chainhound_index::query::Query;
use chainhound_index::scan::{scan, BlockFigures};
use chainhound_index::source::Source;
use chainhound_index::store::Store;
use chainhound_sim::economy::{NEWCOMER, POOLS};
use chainhound_sim::truth::Role;
use chainhound_testdata::shared;
use std::collections::{HashMap, HashSet};

fn pools_file() -> std::path::PathBuf {
    shared("pools/mempool/pools-v2.json")
}

fn scanned(rel: &str) -> Vec<BlockFigures> {
    let mut v = Vec::new();
    let w = scan(&Source::path(&shared(rel)).unwrap(), |b| v.push(b));
    assert!(w.is_empty(), "{w:?}");
    v
}

fn script(b: &BlockFigures) -> Vec<u8> {
    chainhound_chain::hash::from_hex(&b.coinbase_hex).unwrap()
}

/// The plain reading of mempool's rule, written without the library: pools
/// in file order; for each, its addresses, then its tags one by one.
struct Reference(Vec<(String, Vec<String>, Vec<regex::Regex>)>);

impl Reference {
    fn new(json: &serde_json::Value) -> Reference {
        let strings = |v: &serde_json::Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect()
        };
        Reference(
            json.as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    let tags = strings(&p["tags"])
                        .iter()
                        .map(|t| {
                            regex::RegexBuilder::new(t)
                                .case_insensitive(true)
                                .build()
                                .unwrap()
                        })
                        .collect();
                    let name = p["name"].as_str().unwrap().to_string();
                    (name, strings(&p["addresses"]), tags)
                })
                .collect(),
        )
    }

    fn miner(&self, script: &[u8], addrs: &[String]) -> Option<String> {
        let text = String::from_utf8_lossy(script);
        for (name, addresses, tags) in &self.0 {
            if addresses.iter().any(|a| addrs.contains(a)) || tags.iter().any(|r| r.is_match(&text))
            {
                return Some(name.clone());
            }
        }
        None
    }

    /// The other reading of the rule: every pool's tags, then every pool's
    /// addresses. `docs/miners.md` says it agrees on these blocks.
    fn miner_tags_first(&self, script: &[u8], addrs: &[String]) -> Option<String> {
        let text = String::from_utf8_lossy(script);
        let by_tag = self
            .0
            .iter()
            .find(|p| p.2.iter().any(|r| r.is_match(&text)));
        by_tag
            .or_else(|| {
                self.0
                    .iter()
                    .find(|p| p.1.iter().any(|a| addrs.contains(a)))
            })
            .map(|p| p.0.clone())
    }
}

#[test]
fn real_blocks_are_attributed_as_the_pool_list_says() {
    let list = PoolList::load(&pools_file()).unwrap();
    assert!(list.warnings().is_empty(), "{:?}", list.warnings());
    assert!(list.single_pass());
    assert_eq!(list.pools().len(), 168);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(pools_file()).unwrap()).unwrap();
    let reference = Reference::new(&json);
    let mut known = 0;
    for file in [
        "blocks/mainnet_sample_blocks.dat",
        "blocks/mainnet_h0-4312.dat",
        "blocks/testnet_signet_sample_blocks.dat",
    ] {
        for b in scanned(file) {
            let s = script(&b);
            let got = list.attribute(&s, &b.payout_addresses);
            let want = reference.miner(&s, &b.payout_addresses);
            assert_eq!(
                got.pool().map(|p| p.name.clone()),
                want,
                "{file} block {}",
                b.hash
            );
            known += usize::from(want.is_some());
            assert_eq!(reference.miner_tags_first(&s, &b.payout_addresses), want);
        }
    }
    assert!(known >= 20, "{known}");
}

/// Blocks whose coinbase names its pool, read by eye from `chainhound scan`.
#[test]
fn known_blocks_by_hand() {
    let list = PoolList::load(&pools_file()).unwrap();
    let blocks = scanned("blocks/mainnet_sample_blocks.dat");
    // (height, pool, the tag that matched or, by address, the address paid)
    let cases = [
        (227836, "Braiins Pool", Ok("/slush/")),
        (277647, "BTC Guild", Ok("BTC Guild")),
        (332208, "KnCMiner", Ok("KnCMiner")),
        (363703, "AntPool", Ok("/AntPool/")),
        (426884, "Bixin", Ok("/HaoBTC/")),
        (482202, "ViaBTC", Ok("/ViaBTC/")),
        (413567, "F2Pool", Err("1KFHE7w8BhaENAswwryaoccDb6qcT6DbYY")),
        (482300, "AntPool", Err("1CyB8GJNEsNVXtPutB36nrDY3fMXBTzXSX")),
        (
            574200,
            "BTC.com",
            Err("bc1qjl8uwezzlech723lpnyuza0h2cdkvxvh54v3dn"),
        ),
        (
            702861,
            "Binance Pool",
            Err("bc1qx9t2l3pyny2spqpqlye8svce70nppwtaxwdrp4"),
        ),
    ];
    for (height, name, evidence) in cases {
        let b = blocks
            .iter()
            .find(|b| b.height == Some(height))
            .unwrap_or_else(|| panic!("no block {height}"));
        let got = list.attribute(&script(b), &b.payout_addresses);
        let Attribution::Pool { pool, by, .. } = got else {
            panic!("block {height}: {got}");
        };
        assert_eq!(pool.name, name, "block {height}");
        match (by, evidence) {
            (Evidence::Tag(t), Ok(want)) => assert_eq!(t, want, "block {height}"),
            (Evidence::Address(a), Err(want)) => {
                assert_eq!(a, want, "block {height}");
                assert!(b.payout_addresses.iter().any(|p| p == want));
            }
            (by, _) => panic!("block {height}: matched by {by:?}"),
        }
    }
    // A version-1 block of 2011, before BIP34: the tag still names the pool.
    let guild = blocks
        .iter()
        .find(|b| b.height.is_none() && b.coinbase_text.ends_with("BTC Guild....."))
        .expect("the version-1 BTC Guild block");
    assert_eq!(
        list.attribute(&script(guild), &guild.payout_addresses)
            .to_string(),
        "BTC Guild (tag \"BTC Guild\")"
    );
}

/// Mainnet 0..4312 (2009-2010), before any listed pool: every block is
/// unknown, grouped by its payout address; the index and `scan` agree.
#[test]
fn the_first_blocks_are_unknown_and_grouped_by_payout() {
    let list = PoolList::load(&pools_file()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    ingest(
        &Source::path(&shared("blocks/mainnet_h0-4312.dat")).unwrap(),
        dir.path(),
        &IngestOptions::default(),
        &mut NoProgress,
    )
    .unwrap();
    let store = Store::open(dir.path()).unwrap();
    let scan = scanned("blocks/mainnet_h0-4312.dat");
    assert_eq!(scan.len(), 4313);
    let mut first_payouts = HashSet::new();
    for (h, b) in scan.iter().enumerate() {
        let h = h as u32;
        assert_eq!(store.block_hash(h), b.hash);
        let m = list.block(&store, h).unwrap();
        let addrs: Vec<&str> = m.payouts.iter().map(|p| p.address.as_str()).collect();
        assert_eq!(addrs, b.payout_addresses, "height {h}");
        assert_eq!(m.miner, list.attribute(&script(b), &b.payout_addresses));
        let Attribution::Unknown(u) = &m.miner else {
            panic!("height {h}: {}", m.miner);
        };
        if h == 0 {
            assert_eq!(
                u.tag,
                "The Times 03/Jan/2009 Chancellor on brink of second bailout for banks"
            );
            assert_eq!(
                u.payout.as_deref(),
                Some("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
            );
        } else {
            assert_eq!(u.tag, "", "height {h}");
            first_payouts.insert(b.payout_addresses[0].clone());
        }
    }
    assert!(list.block(&store, 4313).is_none());
    assert!(payouts(&store, 4313).is_empty());

    let all = list.shares(&store, 0..=u32::MAX);
    assert_eq!(
        (all.from, all.to, all.blocks, all.known_blocks),
        (0, 4312, 4313, 0)
    );
    assert_eq!(all.miners.len(), first_payouts.len() + 1);
    assert_eq!(all.miners.iter().map(|m| m.blocks).sum::<u32>(), 4313);
    let share: f64 = all.miners.iter().map(|m| m.share).sum();
    assert!((share - 100.0).abs() < 1e-6, "{share}");
    for m in &all.miners {
        assert!(!m.known && m.pool_id.is_none());
        match &m.unknown {
            Some(UnknownGroup::Payout(a)) => {
                assert_eq!(m.name, format!("unknown: (no tag) / {a}"));
                assert!(m.payouts.iter().any(|p| &p.address == a));
            }
            Some(UnknownGroup::Tag(t)) => {
                assert!(t.starts_with("The Times"));
                assert_eq!((m.first_height, m.last_height, m.blocks), (0, 0, 1));
            }
            g => panic!("{g:?}"),
        }
        assert!(m.first_height <= m.last_height);
        let value: u64 = m.payouts.iter().map(|p| p.value).sum();
        assert!(value >= m.blocks as u64 * 50 * 100_000_000, "{}", m.name);
    }
    // Every satoshi the coinbases made is in some miner's payouts.
    let q = Query::new(&store);
    let made: u64 = (0..4313).map(|h| q.block(h).unwrap().coinbase_value).sum();
    let paid: u64 = all
        .miners
        .iter()
        .flat_map(|m| &m.payouts)
        .map(|p| p.value)
        .sum();
    assert_eq!(paid, made);
    assert!(made > 4313 * 50 * 100_000_000, "some fees: {made}");
    let some = list.shares(&store, 10..=20);
    assert_eq!((some.from, some.to, some.blocks), (10, 20, 11));
    let past = list.shares(&store, 5000..=6000);
    assert_eq!((past.blocks, past.miners.len()), (0, 0));

    // With clusters, untagged miners group by the entity of their payout
    // address: every group's payouts are in its entity, and no entity is
    // split over two groups.
    let (mut uf, _) =
        chainhound_entities::cluster::build(&store, &Default::default(), &mut |_, _| false);
    let roots = uf.flatten().to_vec();
    let entity_of = |a: &str| -> Option<u32> {
        let key = chainhound_chain::address::decode(a, store.network()).ok()?;
        store.find_addr(&key).map(|id| roots[id.0 as usize])
    };
    let by_entity = list.shares_with(&store, 0..=u32::MAX, Some(&entity_of));
    assert_eq!(by_entity.miners.iter().map(|m| m.blocks).sum::<u32>(), 4313);
    let mut seen = HashSet::new();
    for m in &by_entity.miners {
        if let Some(UnknownGroup::Entity(e)) = &m.unknown {
            assert!(seen.insert(*e), "entity {e} in two groups");
            for p in &m.payouts {
                assert_eq!(entity_of(&p.address), Some(*e), "{}", p.address);
            }
            assert!(m.name.contains(&format!("entity {e}")), "{}", m.name);
        }
    }
    assert!(!seen.is_empty());
    assert!(by_entity.miners.len() <= all.miners.len());
}

#[test]
fn hostile_pool_files_are_reported_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let nested = format!("{}x{}", "(".repeat(5_000), ")".repeat(5_000));
    let pools = serde_json::json!([
        {"id": 1, "name": "Broken", "addresses": [], "tags": ["(unclosed", "ok-tag"], "link": ""},
        {"id": 2, "name": "Huge", "addresses": ["1Huge"], "tags": ["a{1000}{1000}{1000}", nested, "y".repeat(5_000), ""]},
        {"id": 3, "name": "Lookbehind", "tags": ["(?<=x)y"]}
    ]);
    let p = write("hostile.json", &pools.to_string());
    let list = PoolList::load(&p).unwrap();
    assert_eq!(list.pools().len(), 3);
    let w: Vec<(u64, String)> = list
        .warnings()
        .iter()
        .map(|w| (w.pool_id, w.to_string()))
        .collect();
    assert_eq!(w.len(), 6, "{w:?}");
    assert!(
        w[0].1
            .starts_with("pool 1 (Broken): tag \"(unclosed\" ignored:"),
        "{w:?}"
    );
    assert!(
        w[1].1.contains("a{1000}{1000}{1000}") && w[1].1.contains("size limit"),
        "{w:?}"
    );
    assert!(
        w[2].1.contains("pool 2 (Huge)") && w[2].1.len() < 600,
        "{w:?}"
    );
    assert!(w[3].1.contains("longer than 1000 characters"), "{w:?}");
    assert!(w[4].1.contains("matches every coinbase"), "{w:?}");
    assert_eq!(w[5].0, 3);
    // What compiled still works.
    assert_eq!(
        list.attribute(b"\x01\x01OK-TAG", &[] as &[&str])
            .to_string(),
        "Broken (tag \"ok-tag\")"
    );
    assert_eq!(
        list.attribute(b"", &["1Huge"]).to_string(),
        "Huge (address 1Huge)"
    );

    // Files that are no pool list: errors name the file, line and column.
    let bad = write(
        "bad.json",
        "[\n  {\"id\": 1, \"name\": \"x\",\n   \"tags\": [3]}\n]",
    );
    let e = PoolList::load(&bad).unwrap_err();
    let MinersError::Json { line, column, .. } = &e else {
        panic!("{e:?}");
    };
    assert_eq!((*line, *column), (3, 13), "{e}");
    assert!(e.to_string().contains(&bad.display().to_string()), "{e}");
    assert!(e.to_string().contains("line 3 column 13"), "{e}");
    // mempool's older pools.json (an object of tags and addresses).
    let old = PoolList::load(&shared("pools/mempool/pools.json")).unwrap_err();
    assert!(old.to_string().contains("pools-v2.json"), "{old}");
    let missing = dir.path().join("missing.json");
    let e = PoolList::load(&missing).unwrap_err();
    assert!(matches!(e, MinersError::Read { .. }));
    assert!(e.to_string().contains("missing.json"), "{e}");
    let big = dir.path().join("big.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(MAX_FILE_BYTES + 1)
        .unwrap();
    assert!(matches!(
        PoolList::load(&big),
        Err(MinersError::TooLarge { .. })
    ));
    // Odd coinbases and addresses do not panic either.
    let list = PoolList::load(&pools_file()).unwrap();
    for s in [
        &b""[..],
        b"\x4e\xff\xff\xff\xff",
        b"\xff\xfe\xfd",
        &[0x4c; 300],
    ] {
        assert!(matches!(
            list.attribute(s, &["", "\u{0}"]),
            Attribution::Unknown(_)
        ));
        let _ = coinbase_tag(s);
    }
}

/// A simulated chain whose pools use real pools' tags and a newcomer whose
/// tag no list has: every block goes to its true miner, by tag (regtest
/// payout addresses are never in the list), and the newcomer's blocks, paid
/// to a fresh address each, form one unknown group named by its tag.
#[test]
fn simulated_pools_are_attributed_exactly() {
    let sim = common::simulated(3, 400, 100, 3_000, None);
    let truth = &sim.truth;
    let store = sim.store();
    let list = PoolList::load(&pools_file()).unwrap();
    let newcomer = POOLS[NEWCOMER].0;
    let mut per_miner: HashMap<String, u32> = HashMap::new();
    assert_eq!(truth.blocks.len(), 400);
    for b in &truth.blocks {
        assert_eq!(store.block_hash(b.height), b.hash);
        let m = list.block(&store, b.height).unwrap();
        let miner = &truth.entity(b.miner).unwrap().name;
        *per_miner.entry(miner.clone()).or_default() += 1;
        if miner == newcomer {
            let Attribution::Unknown(u) = &m.miner else {
                panic!("height {}: {}", b.height, m.miner);
            };
            assert_eq!(u.tag, b.tag);
            assert!(u.tag.contains("Kestrel Hash"));
        } else {
            let Attribution::Pool { pool, by, .. } = &m.miner else {
                panic!("height {}: {} mined it, got {}", b.height, miner, m.miner);
            };
            assert_eq!(&pool.name, miner, "height {}", b.height);
            assert_eq!(*by, Evidence::Tag(&b.tag), "height {}", b.height);
        }
    }
    assert_eq!(
        per_miner.len(),
        POOLS.len(),
        "every pool mined: {per_miner:?}"
    );

    let shares = list.shares(&store, 1..=400);
    assert_eq!((shares.blocks, shares.miners.len()), (400, POOLS.len()));
    let unknown: Vec<_> = shares.miners.iter().filter(|m| !m.known).collect();
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    let u = unknown[0];
    assert_eq!(
        u.unknown,
        Some(UnknownGroup::Tag(POOLS[NEWCOMER].1.to_string()))
    );
    assert!(
        u.name.starts_with("unknown: /Kestrel Hash solo/ / bcrt1"),
        "{}",
        u.name
    );
    assert_eq!(u.blocks, per_miner[newcomer]);
    assert_eq!(
        u.payouts.len() as u32,
        u.blocks,
        "a fresh address each block"
    );
    // Pools' payouts are the truth's coinbase addresses of the pool.
    let coinbase_addr: HashMap<&str, u32> = truth
        .addresses
        .iter()
        .filter(|a| a.role == Role::Coinbase)
        .map(|a| (a.address.as_str(), a.entity))
        .collect();
    for m in &shares.miners {
        let who = if m.known { m.name.as_str() } else { newcomer };
        assert_eq!(m.blocks, per_miner[who], "{}", m.name);
        assert_eq!(m.by_tag, if m.known { m.blocks } else { 0 });
        assert_eq!(m.by_address, 0);
        for p in &m.payouts {
            let eid = coinbase_addr[p.address.as_str()];
            assert_eq!(truth.entity(eid).unwrap().name, who, "{}", p.address);
        }
    }
}
