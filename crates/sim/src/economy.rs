//! A simulated Bitcoin economy: who pays whom, block by block.
//!
//! [`Economy::next_block`] decides a block's transactions as [`Plan`]s,
//! derives the new keys and signs the plans on all cores
//! ([`crate::keys`], [`crate::tx`]), mines the block for a pool, and
//! returns it with its [`BlockTruth`]. The actors:
//! - users whose wallets pay to P2PKH, P2SH-P2WPKH, P2WPKH or P2TR, with
//!   fresh change mostly of the same type, some reused published addresses,
//!   consolidations, and two wallet fingerprints (version 2 with
//!   anti-fee-sniping locktime and RBF, or version 1 with final sequences);
//! - exchanges: one deposit address per customer, sweeps of deposits into a
//!   reused hot address, batched withdrawals with change to it, cold
//!   storage and refills;
//! - mining pools with real pools' coinbase tags, paying their miners from
//!   matured coinbases, and one newcomer solo miner with an unlisted tag;
//! - CoinJoins: generic equal-output made as JoinMarket makes them (taker
//!   and makers), Whirlpool (tx0, then 5x5 mixes of one denomination with
//!   remixes), Wasabi 2.0 (standard denominations, sorted, coordinator fee)
//!   and Wasabi 1.x (a base denomination of about 0.1 BTC, coordinator
//!   fee); Stonewalls, which look like two-party CoinJoins but have one
//!   signer; a custodial mixer that pays clients back with other coins;
//! - a sanctioned entity that is paid and pays out;
//! - a heist: at 40% of the chain the hacker takes every coin at the
//!   victim exchange's hot address, splits them, and launders each part
//!   through a peel chain, hops, a Wasabi 2.0 round or the mixer, cashing out
//!   to deposit addresses at the other exchanges until the chain's end.
//!
//! Regtest halves the subsidy every 150 blocks, so the money supply is
//! mined in the first few hundred blocks; coinbases mature after 100.
//! Coins made in a block are spent from the next one on, so a block's
//! transactions are independent and can be signed in parallel. Everything
//! random comes from one seeded [`Rng`] and ordered collections: the same
//! [`Params`] give byte-identical blocks, whatever the thread count.
//!
//! Must not: write files (see [`crate::write`], [`crate::truth`]) or read
//! the index.

use crate::keys::{KeyId, KeyStore, Kind};
use crate::rng::Rng;
use crate::truth::*;
use crate::tx::{self, Coin, Plan};
use std::collections::{BTreeMap, VecDeque};

/// Blocks after which a coinbase output may be spent.
pub const COINBASE_MATURITY: u32 = 100;
/// Time of the regtest genesis block.
pub const REGTEST_GENESIS_TIME: u32 = 1_296_688_602;
/// Outputs below this are not made (value goes to the fee).
const DUST: u64 = 1_000;

/// Real pools (name, coinbase tag as in mempool's `pools-v2.json`, share of
/// blocks in percent), and the newcomer, whose tag is in no list.
pub const POOLS: [(&str, &str, u32); 9] = [
    ("Foundry USA", "Foundry USA Pool", 28),
    ("AntPool", "/AntPool/", 20),
    ("ViaBTC", "/ViaBTC/", 12),
    ("F2Pool", "F2Pool", 10),
    ("MARA Pool", "MARA Pool", 8),
    ("Binance Pool", "/Binance/", 7),
    ("Luxor", "/LUXOR/", 5),
    ("Braiins Pool", "/slush/", 5),
    ("Kestrel Hash", "/Kestrel Hash solo/", 5),
];
/// Index in [`POOLS`] of the newcomer solo miner.
pub const NEWCOMER: usize = 8;

/// Exchange names; the first is the heist's victim.
pub const EXCHANGES: [&str; 4] = [
    "Harbor Exchange",
    "Summit Exchange",
    "Lantern Exchange",
    "Quarry Exchange",
];
/// The script type of each exchange's deposit addresses.
const EXCHANGE_KINDS: [Kind; 4] = [Kind::P2wpkh, Kind::P2shP2wpkh, Kind::P2pkh, Kind::P2tr];

/// Whirlpool pool denominations (satoshis).
const WHIRLPOOL: [u64; 4] = [100_000, 1_000_000, 5_000_000, 50_000_000];
/// Wasabi 2.0's standard denominations, smallest first: the powers of 2
/// and of 3, twice the powers of 3, and the 1-2-5 series of powers of 10,
/// from Wasabi's 5,000-satoshi minimum output to 134,375,000,000 satoshis
/// (the bounds Dumplings, the CoinJoin scanner, uses). Wasabi's
/// `StandardDenominations` builds the same families.
pub fn wasabi2_denominations() -> Vec<u64> {
    const MIN: u64 = 5_000;
    const MAX: u64 = 134_375_000_000;
    let mut d = Vec::new();
    for (base, factors) in [(2u64, &[1u64][..]), (3, &[1, 2]), (10, &[1, 2, 5])] {
        let mut p = 1u64;
        while p <= MAX {
            for &f in factors {
                if (MIN..=MAX).contains(&(p * f)) {
                    d.push(p * f);
                }
            }
            p *= base;
        }
    }
    d.sort_unstable();
    d.dedup();
    d
}

/// Wasabi 2.0 rounds have at least this many inputs (Dumplings' threshold).
const WASABI2_MIN_INPUTS: usize = 20;
/// Wasabi 1.x base denominations are drawn from this range (about 0.1 BTC,
/// as the coordinator set it round by round).
const WASABI1_BASE: std::ops::RangeInclusive<u64> = 9_800_000..=10_200_000;
/// Wasabi 1.x coordinator fee: 0.003% of the base denomination per
/// participant in the round, paid by each participant.
const WASABI1_FEE_PER_MILLION_PER_PEER: u64 = 30;

/// What to simulate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// Seed of everything random.
    pub seed: u64,
    /// Blocks after genesis.
    pub blocks: u32,
    /// Users.
    pub users: u32,
    /// Transactions to aim for, coinbases included.
    pub txs: u64,
    /// Whether the heist happens.
    pub heist: bool,
    /// Signing threads (0: all cores). Does not change the output.
    pub threads: usize,
}

impl Params {
    /// The small default economy: 2,000 blocks, 500 users, 20,000 txs.
    pub fn small(seed: u64) -> Params {
        Params::sized(seed, None, None, None).expect("defaults are valid")
    }

    /// Sizes from optional knobs: missing ones follow the given ones
    /// (2,000 blocks or one per 1,500 txs; 10 txs per block; one user per
    /// 40 txs, at least 100).
    pub fn sized(
        seed: u64,
        blocks: Option<u32>,
        users: Option<u32>,
        txs: Option<u64>,
    ) -> Result<Params, String> {
        let blocks = blocks.unwrap_or_else(|| match txs {
            Some(t) => (t.div_ceil(1_500)).clamp(2_000, u32::MAX as u64) as u32,
            None => 2_000,
        });
        let txs = txs.unwrap_or(blocks as u64 * 10);
        let users = users.unwrap_or_else(|| (txs / 40).clamp(100, 5_000_000) as u32);
        if blocks < 120 {
            return Err(format!(
                "--blocks {blocks}: at least 120 are needed (coinbases mature after 100)"
            ));
        }
        if txs < blocks as u64 {
            return Err(format!(
                "--txs {txs}: at least one per block ({blocks}) for the coinbases"
            ));
        }
        if txs / (blocks as u64) > 3_000 {
            return Err(format!(
                "--txs {txs} in {blocks} blocks: over 3,000 per block would break the block weight limit; add --blocks"
            ));
        }
        if users < 20 {
            return Err(format!("--users {users}: at least 20 are needed"));
        }
        Ok(Params {
            seed,
            blocks,
            users,
            txs,
            heist: true,
            threads: 0,
        })
    }

    /// Height of the heist: 40% into the chain, after the economy warms up.
    pub fn heist_height(&self) -> Option<u32> {
        (self.heist && self.blocks >= 300).then(|| (self.blocks * 2 / 5).max(250))
    }
}

/// Wallet fingerprint fields of a transaction.
#[derive(Debug, Clone, Copy)]
struct Fp {
    version: i32,
    /// nLockTime = height - 1 (Bitcoin Core's anti-fee-sniping).
    anti_snipe: bool,
    sequence: u32,
}

const FP_CORE: Fp = Fp {
    version: 2,
    anti_snipe: true,
    sequence: 0xffff_fffd,
};
const FP_LEGACY: Fp = Fp {
    version: 1,
    anti_snipe: false,
    sequence: 0xffff_ffff,
};

/// Where a coin belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wallet {
    User(u32),
    Deposits(u8),
    Hot(u8),
    Cold(u8),
    Pool(u8),
    Mixer,
    Coordinator(u8),
    Sanctioned,
    Job(u32),
    /// A Whirlpool premix coin of `user`, queued for denomination `d`.
    Premix(u8, u32),
    /// A Whirlpool postmix coin of `user` that stays in pool `d` to be
    /// remixed.
    Postmix(u8, u32),
}

/// How an output counts in the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Plain,
    Change(Eid),
    Cashout(u8),
}

#[derive(Debug, Clone, Copy)]
struct Out {
    value: u64,
    key: KeyId,
    to: Wallet,
    tag: Tag,
}

struct User {
    eid: Eid,
    kind: Kind,
    change_same: bool,
    published: Option<KeyId>,
    fp: Fp,
    coins: Vec<Coin>,
    /// Exchanges where it has an account.
    exchanges: Vec<u8>,
}

struct Exchange {
    eid: Eid,
    deposits: Vec<Coin>,
    hot_key: KeyId,
    hot: Vec<Coin>,
    cold_key: KeyId,
    cold: Vec<Coin>,
    /// (customer entity, customer wallet) -> deposit key.
    accounts: BTreeMap<Eid, KeyId>,
    /// Customer balances.
    balances: BTreeMap<u32, u64>,
    /// Withdrawal requests: user, amount.
    requests: Vec<(u32, u64)>,
}

struct Pool {
    eid: Eid,
    tag: &'static str,
    weight: u32,
    payout: KeyId,
    coins: Vec<Coin>,
    miners: Vec<u32>,
}

/// A laundering route for one part of the loot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Peel,
    Hops,
    Wasabi,
    Mixer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting for its coins (the mixer's payout).
    Waiting,
    /// Laundering steps left on its route.
    Launder(u32),
    /// Depositing what it holds at exchanges, a coin at a time.
    Cashout,
    Done,
}

struct Job {
    route: Route,
    stage: Stage,
    coins: Vec<Coin>,
    next: u32,
    /// Blocks between steps.
    gap: u32,
}

struct MixerState {
    eid: Eid,
    coins: Vec<Coin>,
    /// Due height, client, client entity, amount.
    queue: Vec<(u32, Wallet, Eid, u64)>,
}

/// A built block.
#[derive(Debug, Clone)]
pub struct BlockOut {
    /// Serialized block.
    pub bytes: Vec<u8>,
    /// Its truth.
    pub truth: BlockTruth,
}

/// What a chain holds so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EconomyStats {
    /// Blocks built (genesis not counted).
    pub blocks: u64,
    /// Transactions, coinbases included.
    pub txs: u64,
    /// Inputs spent, by [`Kind::ALL`].
    pub inputs_by_kind: [u64; 4],
    /// Outputs made (coinbases included, commitments excluded), by kind.
    pub outputs_by_kind: [u64; 4],
    /// Transactions by [`TxKind`] name.
    pub by_kind: BTreeMap<&'static str, u64>,
    /// Bytes of blocks.
    pub bytes: u64,
    /// Satoshis stolen.
    pub stolen: u64,
    /// Satoshis deposited at exchanges by the hacker.
    pub cashed_out: u64,
}

/// Per-plan truth, waiting for the txid.
struct PlanInfo {
    kind: TxKind,
    entity: Eid,
    participants: u32,
    fee: u64,
    stolen: bool,
}

/// The economy.
pub struct Economy {
    params: Params,
    rng: Rng,
    keys: KeyStore,
    entities: Vec<Entity>,
    users: Vec<User>,
    exchanges: Vec<Exchange>,
    pools: Vec<Pool>,
    immature: VecDeque<(u32, u8, Coin)>,
    mixer: MixerState,
    /// Whirlpool and Wasabi coordinators: entity and fee key.
    coordinators: [(Eid, KeyId); 2],
    coord_coins: [Vec<Coin>; 2],
    premix: [Vec<(u32, Coin)>; 4],
    postmix: [Vec<(u32, Coin)>; 4],
    /// Wasabi 2.0 standard denominations, smallest first.
    wasabi: Vec<u64>,
    sanctioned: (Eid, Vec<KeyId>, Vec<Coin>),
    hacker: Eid,
    jobs: Vec<Job>,
    /// Wasabi participants queued by the hacker: job numbers.
    wasabi_queue: Vec<u32>,
    heist_done: bool,
    prev: [u8; 32],
    height: u32,
    time: u32,
    feerate: u64,
    txs_made: u64,
    // This block's work.
    plans: Vec<Plan>,
    infos: Vec<PlanInfo>,
    outs: Vec<Vec<Out>>,
    new_keys: Vec<(KeyId, Eid, Role, Option<Eid>)>,
    vsize: u64,
    threads: usize,
    corrupt: Option<(Kind, u32)>,
    corrupted_at: Option<u32>,
    /// Running totals.
    pub stats: EconomyStats,
}

/// The hash of the real regtest genesis block, which the chain builds on.
fn genesis_prev() -> [u8; 32] {
    chainhound_chain::hash::sha256d(&crate::toy::regtest_genesis()[..80])
}

impl Economy {
    /// A new economy; no block is built yet.
    pub fn new(params: Params) -> Economy {
        let mut rng = Rng::new(params.seed);
        let mut keys = KeyStore::new(params.seed);
        let mut entities = Vec::new();
        let mut new_keys = Vec::new();
        let mut entity = |name: String, kind: EntityKind| {
            let id = entities.len() as Eid;
            entities.push(Entity { id, name, kind });
            id
        };
        let mut key = |keys: &mut KeyStore, kind: Kind, e: Eid, role: Role| {
            let k = keys.alloc(kind);
            new_keys.push((k, e, role, None));
            k
        };
        let exchanges: Vec<Exchange> = EXCHANGES
            .iter()
            .zip(EXCHANGE_KINDS)
            .map(|(name, kind)| {
                let eid = entity(name.to_string(), EntityKind::Exchange);
                Exchange {
                    eid,
                    deposits: Vec::new(),
                    hot_key: key(&mut keys, kind, eid, Role::Hot),
                    hot: Vec::new(),
                    cold_key: key(&mut keys, Kind::P2wpkh, eid, Role::Cold),
                    cold: Vec::new(),
                    accounts: BTreeMap::new(),
                    balances: BTreeMap::new(),
                    requests: Vec::new(),
                }
            })
            .collect();
        let mut pools: Vec<Pool> = POOLS
            .iter()
            .enumerate()
            .map(|(i, &(name, tag, weight))| {
                let kind = if i == NEWCOMER {
                    EntityKind::Miner
                } else {
                    EntityKind::Pool
                };
                let eid = entity(name.to_string(), kind);
                let pk = Kind::ALL[i % 4];
                Pool {
                    eid,
                    tag,
                    weight,
                    payout: key(&mut keys, pk, eid, Role::Coinbase),
                    coins: Vec::new(),
                    miners: Vec::new(),
                }
            })
            .collect();
        let mixer_eid = entity("Blender Mixer".into(), EntityKind::Mixer);
        let wp = entity("Whirlpool coordinator".into(), EntityKind::Coordinator);
        let ws = entity("Wasabi coordinator".into(), EntityKind::Coordinator);
        let coordinators = [
            (wp, key(&mut keys, Kind::P2wpkh, wp, Role::Fee)),
            (ws, key(&mut keys, Kind::P2wpkh, ws, Role::Fee)),
        ];
        let sanc = entity("Sanctioned market".into(), EntityKind::Sanctioned);
        let sanc_keys = (0..4)
            .map(|i| key(&mut keys, Kind::ALL[i], sanc, Role::Published))
            .collect();
        let hacker = entity("Hacker".into(), EntityKind::Hacker);
        let mut users = Vec::with_capacity(params.users as usize);
        for u in 0..params.users {
            let eid = entity(format!("user {u}"), EntityKind::User);
            let kind = match rng.below(100) {
                0..=39 => Kind::P2wpkh,
                40..=54 => Kind::P2pkh,
                55..=74 => Kind::P2shP2wpkh,
                _ => Kind::P2tr,
            };
            let published = (rng.below(4) == 0).then(|| key(&mut keys, kind, eid, Role::Published));
            let mut ex = vec![rng.below(4) as u8];
            if rng.below(3) == 0 {
                let other = rng.below(4) as u8;
                if other != ex[0] {
                    ex.push(other);
                }
            }
            users.push(User {
                eid,
                kind,
                change_same: rng.below(100) < 85,
                published,
                fp: if rng.below(100) < 60 {
                    FP_CORE
                } else {
                    FP_LEGACY
                },
                coins: Vec::new(),
                exchanges: ex,
            });
        }
        // Each pool's miners: about 5% of users each (a user may mine in
        // several); the newcomer mines alone.
        for (i, p) in pools.iter_mut().enumerate() {
            if i == NEWCOMER {
                continue;
            }
            let n = (params.users / 20).max(3);
            p.miners = (0..n)
                .map(|_| rng.below(params.users as u64) as u32)
                .collect();
            p.miners.sort_unstable();
            p.miners.dedup();
        }
        let threads = if params.threads == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        } else {
            params.threads
        };
        Economy {
            rng,
            keys,
            entities,
            users,
            exchanges,
            pools,
            immature: VecDeque::new(),
            mixer: MixerState {
                eid: mixer_eid,
                coins: Vec::new(),
                queue: Vec::new(),
            },
            coordinators,
            coord_coins: [Vec::new(), Vec::new()],
            premix: Default::default(),
            postmix: Default::default(),
            wasabi: wasabi2_denominations(),
            sanctioned: (sanc, sanc_keys, Vec::new()),
            hacker,
            jobs: Vec::new(),
            wasabi_queue: Vec::new(),
            heist_done: false,
            prev: genesis_prev(),
            height: 0,
            time: REGTEST_GENESIS_TIME,
            feerate: 5,
            txs_made: 0,
            plans: Vec::new(),
            infos: Vec::new(),
            outs: Vec::new(),
            new_keys,
            vsize: 0,
            threads,
            corrupt: None,
            corrupted_at: None,
            stats: EconomyStats::default(),
            params,
        }
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Every entity.
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// Test hook: from `height` on, the first input of `kind` is signed over
    /// a wrong digest, so that block must be rejected.
    pub fn corrupt_signature(&mut self, kind: Kind, height: u32) {
        self.corrupt = Some((kind, height));
    }

    /// Height of the block holding the bad signature, once made.
    pub fn corrupted_at(&self) -> Option<u32> {
        self.corrupted_at
    }

    // ----- helpers -------------------------------------------------------

    fn key(&mut self, kind: Kind, e: Eid, role: Role) -> KeyId {
        let k = self.keys.alloc(kind);
        self.new_keys.push((k, e, role, None));
        k
    }

    fn coins(&mut self, w: Wallet) -> &mut Vec<Coin> {
        match w {
            Wallet::User(u) => &mut self.users[u as usize].coins,
            Wallet::Deposits(e) => &mut self.exchanges[e as usize].deposits,
            Wallet::Hot(e) => &mut self.exchanges[e as usize].hot,
            Wallet::Cold(e) => &mut self.exchanges[e as usize].cold,
            Wallet::Pool(p) => &mut self.pools[p as usize].coins,
            Wallet::Mixer => &mut self.mixer.coins,
            Wallet::Coordinator(c) => &mut self.coord_coins[c as usize],
            Wallet::Sanctioned => &mut self.sanctioned.2,
            Wallet::Job(j) => &mut self.jobs[j as usize].coins,
            Wallet::Premix(_, _) | Wallet::Postmix(_, _) => {
                unreachable!("Whirlpool coins live in their pools' queues")
            }
        }
    }

    fn balance(&mut self, w: Wallet) -> u64 {
        self.coins(w).iter().map(|c| c.value).sum()
    }

    /// A key of `user` to be paid at: its published address sometimes,
    /// a fresh one otherwise.
    fn user_receive(&mut self, u: u32) -> KeyId {
        let user = &self.users[u as usize];
        if let Some(p) = user.published {
            if self.rng.below(100) < 60 {
                return p;
            }
        }
        let (kind, eid) = (user.kind, user.eid);
        self.key(kind, eid, Role::Receive)
    }

    fn user_change_kind(&mut self, u: u32) -> Kind {
        let user = &self.users[u as usize];
        if user.change_same || self.rng.below(2) == 0 {
            user.kind
        } else {
            Kind::ALL[self.rng.below(4) as usize]
        }
    }

    /// The deposit key of `customer` at exchange `e`.
    fn deposit_key(&mut self, e: u8, customer: Eid) -> KeyId {
        if let Some(k) = self.exchanges[e as usize].accounts.get(&customer) {
            return *k;
        }
        let kind = EXCHANGE_KINDS[e as usize];
        let eid = self.exchanges[e as usize].eid;
        let k = self.keys.alloc(kind);
        self.new_keys.push((k, eid, Role::Deposit, Some(customer)));
        self.exchanges[e as usize].accounts.insert(customer, k);
        k
    }

    fn fee(&self, ins: &[Coin], outs: &[Kind], rate: u64) -> u64 {
        let v = tx::vsize(
            ins.iter().map(|c| self.keys.kind(c.key)),
            outs.iter().copied(),
        );
        v * rate
    }

    /// Takes coins from `w` worth at least `need(n_inputs)`: random ones,
    /// or the largest first. Puts them back and gives None if it cannot.
    fn select(
        &mut self,
        w: Wallet,
        largest: bool,
        max: usize,
        need: impl Fn(&Self, &[Coin]) -> u64,
    ) -> Option<Vec<Coin>> {
        let mut got: Vec<Coin> = Vec::new();
        loop {
            let sum: u64 = got.iter().map(|c| c.value).sum();
            if !got.is_empty() && sum >= need(self, &got) {
                return Some(got);
            }
            let n = self.coins(w).len();
            if n == 0 || got.len() >= max {
                self.coins(w).extend(got);
                return None;
            }
            let i = if largest {
                // A linear scan: wallets that pay largest-first stay small,
                // and sorting on every payment would cost more.
                let coins = self.coins(w);
                (0..n)
                    .max_by_key(|&i| (coins[i].value, coins[i].txid, coins[i].vout))
                    .expect("not empty")
            } else {
                self.rng.below(n as u64) as usize
            };
            got.push(self.coins(w).swap_remove(i));
        }
    }

    /// Records a plan; `outs` are shuffled when `shuffle`. Returns its
    /// index in the block.
    #[allow(clippy::too_many_arguments)]
    fn plan(
        &mut self,
        ins: Vec<Coin>,
        mut outs: Vec<Out>,
        fp: Fp,
        kind: TxKind,
        entity: Eid,
        participants: u32,
        shuffle: bool,
    ) -> usize {
        if shuffle {
            for i in (1..outs.len()).rev() {
                let j = self.rng.below(i as u64 + 1) as usize;
                outs.swap(i, j);
            }
        }
        let total_in: u64 = ins.iter().map(|c| c.value).sum();
        let total_out: u64 = outs.iter().map(|o| o.value).sum();
        assert!(total_in >= total_out, "{kind:?} spends more than it has");
        self.vsize += tx::vsize(
            ins.iter().map(|c| self.keys.kind(c.key)),
            outs.iter().map(|o| self.keys.kind(o.key)),
        );
        self.plans.push(Plan {
            outs: outs.iter().map(|o| (o.value, o.key)).collect(),
            ins,
            version: fp.version,
            lock_time: if fp.anti_snipe { self.height - 1 } else { 0 },
            sequence: fp.sequence,
        });
        self.infos.push(PlanInfo {
            kind,
            entity,
            participants,
            fee: total_in - total_out,
            stolen: false,
        });
        self.outs.push(outs);
        self.plans.len() - 1
    }

    /// Pays `payees` from `from` with change to `change` (a key, or a
    /// fresh one of a kind), as `entity`. None if the coins do not suffice.
    #[allow(clippy::too_many_arguments)]
    fn pay(
        &mut self,
        from: Wallet,
        entity: Eid,
        payees: Vec<Out>,
        change: (Option<KeyId>, Kind),
        fp: Fp,
        kind: TxKind,
        largest: bool,
    ) -> Option<usize> {
        let rate = self.feerate;
        let total: u64 = payees.iter().map(|o| o.value).sum();
        let mut out_kinds: Vec<Kind> = payees.iter().map(|o| self.keys.kind(o.key)).collect();
        out_kinds.push(change.1);
        let ins = self.select(from, largest, 50, |s, got| {
            total + s.fee(got, &out_kinds, rate)
        })?;
        let sum: u64 = ins.iter().map(|c| c.value).sum();
        let fee = self.fee(&ins, &out_kinds, rate);
        let rest = sum - total - fee;
        let mut outs = payees;
        if rest >= DUST {
            let key = match change.0 {
                Some(k) => k,
                None => self.key(change.1, entity, Role::Change),
            };
            outs.push(Out {
                value: rest,
                key,
                to: from,
                tag: Tag::Change(entity),
            });
        }
        let shuffle = !matches!(kind, TxKind::Withdrawal | TxKind::PoolPayout);
        Some(self.plan(ins, outs, fp, kind, entity, 1, shuffle))
    }

    fn random_amount(&mut self, max: u64) -> u64 {
        // Log-uniform between 10,000 satoshis and `max`, rounded to 2
        // significant digits half the time (people pay round amounts).
        let lo = 10_000f64.ln();
        let hi = (max.max(20_000) as f64).ln();
        let x = lo + (hi - lo) * (self.rng.below(1 << 20) as f64 / (1 << 20) as f64);
        let v = x.exp() as u64;
        if self.rng.below(2) == 0 {
            let mag = 10u64.pow((v.max(1) as f64).log10().floor() as u32 - 1);
            (v / mag) * mag
        } else {
            v
        }
    }

    fn random_user_with_coins(&mut self) -> Option<u32> {
        for _ in 0..8 {
            let u = self.rng.below(self.users.len() as u64) as u32;
            if !self.users[u as usize].coins.is_empty() {
                return Some(u);
            }
        }
        None
    }

    fn other_user(&mut self, u: u32) -> u32 {
        let n = self.users.len() as u64;
        let v = self.rng.below(n - 1) as u32;
        if v >= u {
            v + 1
        } else {
            v
        }
    }

    // ----- user activities ------------------------------------------------

    /// A random user holding at least `min` satoshis, and its balance.
    fn user_with(&mut self, min: u64) -> Option<(u32, u64)> {
        let u = self.random_user_with_coins()?;
        let bal = self.balance(Wallet::User(u));
        (bal >= min).then_some((u, bal))
    }

    /// An output of `amount` to `u`, at the address it gives out.
    fn paying_user(&mut self, u: u32, amount: u64) -> Out {
        Out {
            value: amount,
            key: self.user_receive(u),
            to: Wallet::User(u),
            tag: Tag::Plain,
        }
    }

    /// `u` pays `payees` with fresh change, with its wallet's fingerprint.
    fn user_pays(&mut self, u: u32, payees: Vec<Out>, kind: TxKind) -> Option<usize> {
        let ck = self.user_change_kind(u);
        let (eid, fp) = (self.users[u as usize].eid, self.users[u as usize].fp);
        self.pay(Wallet::User(u), eid, payees, (None, ck), fp, kind, false)
    }

    fn user_payment(&mut self) -> Option<()> {
        let (u, bal) = self.user_with(50_000)?;
        let n_payees = if self.rng.below(10) == 0 { 2 } else { 1 };
        let mut payees = Vec::new();
        for _ in 0..n_payees {
            let v = self.other_user(u);
            let amount = self.random_amount(bal * 6 / 10 / n_payees);
            let out = self.paying_user(v, amount);
            payees.push(out);
        }
        self.user_pays(u, payees, TxKind::Payment).map(|_| ())
    }

    /// Samourai's Stonewall, made by one user: two sets of its coins that
    /// each cover the amount; outputs: the payment, a decoy of the same
    /// value and script type back to the payer, and each set's change (of
    /// the set's script type), the miners' fee split evenly between the
    /// sets.
    fn user_stonewall(&mut self) -> Option<()> {
        let (u, bal) = self.user_with(200_000)?;
        if self.users[u as usize].coins.len() < 2 {
            return None;
        }
        let rate = self.feerate;
        let amount = self.random_amount(bal * 4 / 10);
        let k = self.users[u as usize].kind;
        let need = |s: &Self, got: &[Coin]| amount + s.fee(got, &[k, k], rate) + DUST;
        let a = self.select(Wallet::User(u), false, 4, need)?;
        let Some(b) = self.select(Wallet::User(u), false, 4, need) else {
            self.give_back(vec![(u, a)]);
            return None;
        };
        let v = self.other_user(u);
        let pay_key = self.user_receive(v);
        let pk = self.keys.kind(pay_key);
        let (ka, kb) = (self.keys.kind(a[0].key), self.keys.kind(b[0].key));
        let mut ins = a.clone();
        ins.extend(b.iter().copied());
        let fee = self.fee(&ins, &[pk, pk, ka, kb], rate);
        let (sa, sb): (u64, u64) = (
            a.iter().map(|c| c.value).sum(),
            b.iter().map(|c| c.value).sum(),
        );
        let ca = sa.checked_sub(amount + fee / 2).filter(|&c| c >= DUST);
        let cb = sb
            .checked_sub(amount + fee - fee / 2)
            .filter(|&c| c >= DUST);
        let (Some(ca), Some(cb)) = (ca, cb) else {
            self.give_back(vec![(u, ins)]);
            return None;
        };
        let (eid, fp) = (self.users[u as usize].eid, self.users[u as usize].fp);
        let mut outs = vec![Out {
            value: amount,
            key: pay_key,
            to: Wallet::User(v),
            tag: Tag::Plain,
        }];
        for (value, kind) in [(amount, pk), (ca, ka), (cb, kb)] {
            let key = self.key(kind, eid, Role::Change);
            outs.push(Out {
                value,
                key,
                to: Wallet::User(u),
                tag: Tag::Change(eid),
            });
        }
        for i in (1..ins.len()).rev() {
            let j = self.rng.below(i as u64 + 1) as usize;
            ins.swap(i, j);
        }
        self.plan(ins, outs, fp, TxKind::Stonewall, eid, 1, true);
        Some(())
    }

    fn user_consolidation(&mut self) -> Option<()> {
        let u = self.random_user_with_coins()?;
        let n = self.users[u as usize].coins.len();
        if !(6..=100).contains(&n) {
            return None;
        }
        let ins: Vec<Coin> = std::mem::take(&mut self.users[u as usize].coins);
        let kind = self.users[u as usize].kind;
        let fee = self.fee(&ins, &[kind], self.feerate);
        let sum: u64 = ins.iter().map(|c| c.value).sum();
        if sum < fee + DUST {
            self.users[u as usize].coins = ins;
            return None;
        }
        let (eid, fp) = (self.users[u as usize].eid, self.users[u as usize].fp);
        let key = self.key(kind, eid, Role::Change);
        let out = Out {
            value: sum - fee,
            key,
            to: Wallet::User(u),
            tag: Tag::Plain,
        };
        self.plan(ins, vec![out], fp, TxKind::Consolidation, eid, 1, false);
        Some(())
    }

    fn user_deposit(&mut self) -> Option<()> {
        let (u, bal) = self.user_with(100_000)?;
        let exs = self.users[u as usize].exchanges.clone();
        let e = exs[self.rng.below(exs.len() as u64) as usize];
        let eid = self.users[u as usize].eid;
        let key = self.deposit_key(e, eid);
        let amount = self.random_amount(bal * 8 / 10);
        let out = Out {
            value: amount,
            key,
            to: Wallet::Deposits(e),
            tag: Tag::Plain,
        };
        self.user_pays(u, vec![out], TxKind::Deposit)?;
        *self.exchanges[e as usize].balances.entry(u).or_default() += amount;
        Some(())
    }

    fn user_withdraw_request(&mut self) -> Option<()> {
        let u = self.rng.below(self.users.len() as u64) as u32;
        let exs = self.users[u as usize].exchanges.clone();
        let e = exs[self.rng.below(exs.len() as u64) as usize];
        let bal = *self.exchanges[e as usize].balances.get(&u)?;
        if bal < 50_000 {
            return None;
        }
        let amount = bal / 2 + self.rng.below(bal / 2);
        let ex = &mut self.exchanges[e as usize];
        *ex.balances.get_mut(&u).expect("balance") -= amount;
        ex.requests.push((u, amount));
        Some(())
    }

    fn user_to_sanctioned(&mut self) -> Option<()> {
        let (u, bal) = self.user_with(100_000)?;
        let key = self.sanctioned.1[self.rng.below(4) as usize];
        let amount = self.random_amount(bal / 2);
        let out = Out {
            value: amount,
            key,
            to: Wallet::Sanctioned,
            tag: Tag::Plain,
        };
        self.user_pays(u, vec![out], TxKind::ToSanctioned)
            .map(|_| ())
    }

    /// `client` sends `amount` to a fresh mixer deposit address; the mixer
    /// pays it back, less 2%, after a delay.
    fn mixer_deposit(&mut self, client: Wallet, eid: Eid, amount: Option<u64>) -> Option<()> {
        let bal = self.balance(client);
        if bal < 200_000 {
            return None;
        }
        let mixer = self.mixer.eid;
        let kind = Kind::P2wpkh;
        let k = self.keys.alloc(kind);
        self.new_keys.push((k, mixer, Role::Deposit, Some(eid)));
        let (fp, ck, amount) = match client {
            Wallet::User(u) => {
                let a = self.random_amount(bal * 7 / 10);
                (self.users[u as usize].fp, self.user_change_kind(u), a)
            }
            _ => (FP_CORE, Kind::P2wpkh, amount.unwrap_or(bal)),
        };
        let out = Out {
            value: amount,
            key: k,
            to: Wallet::Mixer,
            tag: Tag::Plain,
        };
        if let Wallet::Job(_) = client {
            // The whole coin goes in; no change.
            let ins = std::mem::take(self.coins(client));
            let sum: u64 = ins.iter().map(|c| c.value).sum();
            let fee = self.fee(&ins, &[kind], self.feerate);
            let out = Out {
                value: sum - fee,
                ..out
            };
            self.plan(ins, vec![out], fp, TxKind::MixerDeposit, eid, 1, false);
        } else {
            self.pay(
                client,
                eid,
                vec![out],
                (None, ck),
                fp,
                TxKind::MixerDeposit,
                false,
            )?;
        }
        let due = self.height + 6 + self.rng.below(40) as u32;
        self.mixer.queue.push((due, client, eid, amount * 98 / 100));
        Some(())
    }

    /// Whirlpool tx0: premix outputs of one denomination, the coordinator's
    /// fee (5% of the denomination) and toxic change.
    fn whirlpool_tx0(&mut self) -> Option<()> {
        let u = self.random_user_with_coins()?;
        let bal = self.balance(Wallet::User(u));
        let d = (0..4).rev().find(|&d| WHIRLPOOL[d] * 3 < bal)?;
        let denom = WHIRLPOOL[d];
        let n = (1 + self.rng.below(4)).min(bal / denom / 2).max(1);
        let eid = self.users[u as usize].eid;
        let mut payees = Vec::new();
        for _ in 0..n {
            let key = self.key(Kind::P2wpkh, eid, Role::Premix);
            payees.push(Out {
                value: denom + 2_000,
                key,
                to: Wallet::Premix(d as u8, u),
                tag: Tag::Plain,
            });
        }
        payees.push(Out {
            value: denom / 20,
            key: self.coordinators[0].1,
            to: Wallet::Coordinator(0),
            tag: Tag::Plain,
        });
        let ck = self.user_change_kind(u);
        self.pay(
            Wallet::User(u),
            eid,
            payees,
            (None, ck),
            FP_LEGACY,
            TxKind::WhirlpoolTx0,
            false,
        )
        .map(|_| ())
    }

    // ----- periodic events ------------------------------------------------

    /// Whirlpool mixes: five coins of five different users, one or two
    /// premix coins (new entrants, oldest first) and remixes of earlier
    /// mixes' outputs (exactly the denomination, free for their owners) for
    /// the rest; premix coins fill in while a pool has too few remixes (a
    /// new pool's first mixes have none). Each output is the denomination;
    /// half of them stay in the pool to be remixed.
    fn whirlpool_mixes(&mut self) {
        for (d, &denom) in WHIRLPOOL.iter().enumerate() {
            loop {
                let want_premix = 1 + self.rng.below(2) as usize;
                let mut users: Vec<u32> = Vec::new();
                let mut pre: Vec<usize> = Vec::new();
                let mut post: Vec<usize> = Vec::new();
                for (i, (u, _)) in self.premix[d].iter().enumerate() {
                    if pre.len() == want_premix {
                        break;
                    }
                    if !users.contains(u) {
                        users.push(*u);
                        pre.push(i);
                    }
                }
                if pre.is_empty() {
                    break;
                }
                for (i, (u, _)) in self.postmix[d].iter().enumerate() {
                    if users.len() == 5 {
                        break;
                    }
                    if !users.contains(u) {
                        users.push(*u);
                        post.push(i);
                    }
                }
                for (i, (u, _)) in self.premix[d].iter().enumerate() {
                    if users.len() == 5 {
                        break;
                    }
                    if !pre.contains(&i) && !users.contains(u) {
                        users.push(*u);
                        pre.push(i);
                    }
                }
                if users.len() < 5 {
                    break;
                }
                pre.sort_unstable();
                post.sort_unstable();
                let mut ins: Vec<Coin> = Vec::new();
                for &i in pre.iter().rev() {
                    ins.push(self.premix[d].remove(i).1);
                }
                for &i in post.iter().rev() {
                    ins.push(self.postmix[d].remove(i).1);
                }
                for i in (1..ins.len()).rev() {
                    let j = self.rng.below(i as u64 + 1) as usize;
                    ins.swap(i, j);
                }
                let mut outs = Vec::new();
                for &u in &users {
                    let eid = self.users[u as usize].eid;
                    let key = self.key(Kind::P2wpkh, eid, Role::Mixed);
                    let to = if self.rng.below(2) == 0 {
                        Wallet::Postmix(d as u8, u)
                    } else {
                        Wallet::User(u)
                    };
                    outs.push(Out {
                        value: denom,
                        key,
                        to,
                        tag: Tag::Plain,
                    });
                }
                let coord = self.coordinators[0].0;
                self.plan(ins, outs, FP_LEGACY, TxKind::Whirlpool, coord, 5, true);
            }
        }
    }

    /// Gives coins taken for a round that did not happen back to users.
    fn give_back(&mut self, parts: Vec<(u32, Vec<Coin>)>) {
        for (u, coins) in parts {
            self.users[u as usize].coins.extend(coins);
        }
    }

    /// Takes up to `n` random coins of `kinds` from user `u`.
    fn take_coins_of(&mut self, u: u32, kinds: &[Kind], n: usize) -> Vec<Coin> {
        let mut got = Vec::new();
        for _ in 0..n {
            let coins = &self.users[u as usize].coins;
            let ok: Vec<usize> = (0..coins.len())
                .filter(|&i| kinds.contains(&self.keys.kind(coins[i].key)))
                .collect();
            if ok.is_empty() {
                break;
            }
            let i = ok[self.rng.below(ok.len() as u64) as usize];
            got.push(self.users[u as usize].coins.swap_remove(i));
        }
        got
    }

    /// A generic equal-output CoinJoin, made as JoinMarket makes them: a
    /// taker and 2 to 7 makers each put in coins and get one output of the
    /// common amount. Each maker's change carries its CoinJoin fee
    /// (0.002-0.03% of the amount plus up to 1,000 satoshis); the taker
    /// pays the makers and the miners from its change, or, one time in
    /// five, sweeps its coins: the amount is what they hold less the fees,
    /// and it gets no change.
    fn generic_coinjoin(&mut self) -> Option<()> {
        let n = 3 + self.rng.below(6) as usize;
        let sweep = self.rng.below(5) == 0;
        let rate = self.feerate;
        let taker = self.random_user_with_coins()?;
        let mut taker_coins = Vec::new();
        // For a sweep, an upper bound until the fees are known.
        let mut amount = if sweep {
            let k = 1 + self.rng.below(3) as usize;
            let all = Kind::ALL;
            taker_coins = self.take_coins_of(taker, &all, k);
            taker_coins.iter().map(|c| c.value).sum::<u64>()
        } else {
            self.random_amount(50_000_000).max(100_000)
        };
        let mut makers: Vec<(u32, Vec<Coin>, u64)> = Vec::new();
        for _ in 0..n * 3 {
            if makers.len() + 1 == n {
                break;
            }
            let Some(u) = self.random_user_with_coins() else {
                continue;
            };
            if u == taker || makers.iter().any(|m| m.0 == u) {
                continue;
            }
            if let Some(coins) = self.select(Wallet::User(u), false, 5, |_, _| amount + DUST) {
                let cjfee = amount * (2 + self.rng.below(29)) / 100_000 + self.rng.below(1_001);
                makers.push((u, coins, cjfee));
            }
        }
        let abort = |s: &mut Self, taker_coins: Vec<Coin>, makers: Vec<(u32, Vec<Coin>, u64)>| {
            let mut parts: Vec<(u32, Vec<Coin>)> = makers.into_iter().map(|m| (m.0, m.1)).collect();
            parts.push((taker, taker_coins));
            s.give_back(parts);
        };
        if makers.len() < 2 || (sweep && amount < 200_000) {
            abort(self, taker_coins, makers);
            return None;
        }
        // Output script types: the equal outputs of each wallet's type,
        // change as the wallet makes it; the taker first.
        let mut users = vec![taker];
        users.extend(makers.iter().map(|m| m.0));
        let mut out_kinds = Vec::new();
        let mut change_kinds = Vec::new();
        for (i, &u) in users.iter().enumerate() {
            out_kinds.push(self.users[u as usize].kind);
            if i > 0 || !sweep {
                let ck = self.user_change_kind(u);
                change_kinds.push(ck);
                out_kinds.push(ck);
            } else {
                change_kinds.push(Kind::P2wpkh); // unused: no change
            }
        }
        let cjfees: u64 = makers.iter().map(|m| m.2).sum();
        let maker_ins: Vec<Coin> = makers.iter().flat_map(|m| m.1.iter().copied()).collect();
        if !sweep {
            let got = self.select(Wallet::User(taker), false, 5, |s, got| {
                let all: Vec<Coin> = maker_ins.iter().chain(got).copied().collect();
                amount + cjfees + s.fee(&all, &out_kinds, rate) + DUST
            });
            match got {
                Some(c) => taker_coins = c,
                None => {
                    abort(self, taker_coins, makers);
                    return None;
                }
            }
        }
        let mut ins = taker_coins.clone();
        ins.extend(maker_ins.iter().copied());
        let txfee = self.fee(&ins, &out_kinds, rate);
        let taker_sum: u64 = taker_coins.iter().map(|c| c.value).sum();
        if sweep {
            match taker_sum.checked_sub(txfee + cjfees) {
                Some(a) if a >= 100_000 => amount = a,
                _ => {
                    abort(self, taker_coins, makers);
                    return None;
                }
            }
        }
        let mut outs = Vec::new();
        for (i, &u) in users.iter().enumerate() {
            let (eid, kind) = (self.users[u as usize].eid, self.users[u as usize].kind);
            let key = self.key(kind, eid, Role::Mixed);
            outs.push(Out {
                value: amount,
                key,
                to: Wallet::User(u),
                tag: Tag::Plain,
            });
            let change = if i == 0 {
                // Sweeps: nothing left; otherwise at least DUST by selection.
                taker_sum - amount - cjfees - txfee
            } else {
                let m = &makers[i - 1];
                m.1.iter().map(|c| c.value).sum::<u64>() - amount + m.2
            };
            if i > 0 || !sweep {
                let ckey = self.key(change_kinds[i], eid, Role::Change);
                outs.push(Out {
                    value: change,
                    key: ckey,
                    to: Wallet::User(u),
                    tag: Tag::Change(eid),
                });
            }
        }
        for i in (1..ins.len()).rev() {
            let j = self.rng.below(i as u64 + 1) as usize;
            ins.swap(i, j);
        }
        let eid = self.users[taker as usize].eid;
        let parts = users.len() as u32;
        self.plan(
            ins,
            outs,
            FP_CORE,
            TxKind::CoinjoinGeneric,
            eid,
            parts,
            true,
        );
        Some(())
    }

    /// A Wasabi 2.0 (WabiSabi) round: 12 to 30 users of P2WPKH or P2TR
    /// wallets (and queued hacker parts) register 1 to 4 coins of those
    /// types each, at least [`WASABI2_MIN_INPUTS`] in all, and get standard
    /// denominations back, largest first, up to eight outputs each (four
    /// for the hacker), plus change when what is left is worth it; the
    /// coordinator takes 0.3%. Inputs and outputs are sorted by value,
    /// largest first.
    fn wasabi_round(&mut self) -> Option<()> {
        const SEGWIT: [Kind; 2] = [Kind::P2wpkh, Kind::P2tr];
        let target = 12 + self.rng.below(19) as usize;
        // (owner wallet, entity, coins)
        let mut parts: Vec<(Wallet, Eid, Kind, Vec<Coin>)> = Vec::new();
        for j in std::mem::take(&mut self.wasabi_queue) {
            let coins = std::mem::take(&mut self.jobs[j as usize].coins);
            if !coins.is_empty() {
                parts.push((Wallet::Job(j), self.hacker, Kind::P2wpkh, coins));
            }
        }
        let mut n_coins: usize = parts.iter().map(|p| p.3.len()).sum();
        for _ in 0..target * 4 {
            if parts.len() >= target && n_coins >= WASABI2_MIN_INPUTS {
                break;
            }
            let Some(u) = self.random_user_with_coins() else {
                continue;
            };
            let kind = self.users[u as usize].kind;
            if !SEGWIT.contains(&kind) || parts.iter().any(|p| p.0 == Wallet::User(u)) {
                continue;
            }
            let n = 1 + self.rng.below(4) as usize;
            let coins = self.take_coins_of(u, &SEGWIT, n);
            if coins.iter().map(|c| c.value).sum::<u64>() < 100_000 {
                self.users[u as usize].coins.extend(coins);
                continue;
            }
            n_coins += coins.len();
            let eid = self.users[u as usize].eid;
            parts.push((Wallet::User(u), eid, kind, coins));
        }
        let hacker_in = parts.iter().any(|p| p.1 == self.hacker);
        if (parts.len() < 5 || n_coins < WASABI2_MIN_INPUTS) && !hacker_in {
            for (w, _, _, coins) in parts {
                self.coins(w).extend(coins);
            }
            return None;
        }
        let (coord, coord_key) = self.coordinators[1];
        let mut ins = Vec::new();
        let mut outs = Vec::new();
        let mut coord_fee = 0;
        for (w, eid, kind, coins) in parts.iter() {
            let sum: u64 = coins.iter().map(|c| c.value).sum();
            let in_fee: u64 = coins
                .iter()
                .map(|c| self.keys.kind(c.key).input_vsize())
                .sum::<u64>()
                * self.feerate;
            let cfee = sum * 3 / 1000;
            let mut left = sum.saturating_sub(in_fee + cfee);
            let max_outs = if *eid == self.hacker { 4 } else { 8 };
            let out_cost = kind.output_vsize() * self.feerate;
            let mut mine = Vec::new();
            for &d in self.wasabi.iter().rev() {
                while left >= d + out_cost && mine.len() < max_outs {
                    mine.push(d);
                    left -= d + out_cost;
                }
            }
            let role = if *eid == self.hacker {
                Role::Stash
            } else {
                Role::Mixed
            };
            for d in mine {
                let key = self.key(*kind, *eid, role);
                outs.push(Out {
                    value: d,
                    key,
                    to: *w,
                    tag: Tag::Plain,
                });
            }
            if left > out_cost + 5_000 {
                let role = if *eid == self.hacker {
                    Role::Stash
                } else {
                    Role::Change
                };
                let key = self.key(*kind, *eid, role);
                outs.push(Out {
                    value: left - out_cost,
                    key,
                    to: *w,
                    tag: Tag::Change(*eid),
                });
            }
            coord_fee += cfee;
            ins.extend(coins.iter().copied());
        }
        if coord_fee >= DUST {
            outs.push(Out {
                value: coord_fee,
                key: coord_key,
                to: Wallet::Coordinator(1),
                tag: Tag::Plain,
            });
        }
        // Wasabi orders inputs and outputs by value, largest first.
        ins.sort_by_key(|c: &Coin| std::cmp::Reverse((c.value, c.txid, c.vout)));
        outs.sort_by_key(|o| std::cmp::Reverse(o.value));
        let n = parts.len() as u32;
        self.plan(ins, outs, FP_LEGACY, TxKind::Wasabi, coord, n, false);
        Some(())
    }

    /// A Wasabi 1.x (ZeroLink) round: 10 to 20 users of P2WPKH wallets
    /// register P2WPKH coins worth the round's base denomination (about
    /// 0.1 BTC, never a Wasabi 2.0 standard denomination) plus fees. Each
    /// gets one output of the base denomination, a third of those who can
    /// afford it one more of twice it (the next mixing level), and its
    /// change; the coordinator takes 0.003% of the base denomination per
    /// participant from each, in one output to a fresh address.
    fn wasabi1_round(&mut self) -> Option<()> {
        let span = WASABI1_BASE.end() - WASABI1_BASE.start() + 1;
        let mut base = WASABI1_BASE.start() + self.rng.below(span);
        while self.wasabi.binary_search(&base).is_ok() {
            base += 1;
        }
        let target = 10 + self.rng.below(11) as usize;
        let rate = self.feerate;
        let in_cost = Kind::P2wpkh.input_vsize() * rate;
        let out_cost = Kind::P2wpkh.output_vsize() * rate;
        let max_fee = base * WASABI1_FEE_PER_MILLION_PER_PEER * target as u64 / 1_000_000;
        let mut parts: Vec<(u32, Vec<Coin>)> = Vec::new();
        for _ in 0..target * 6 {
            if parts.len() == target {
                break;
            }
            let Some(u) = self.random_user_with_coins() else {
                continue;
            };
            if self.users[u as usize].kind != Kind::P2wpkh || parts.iter().any(|p| p.0 == u) {
                continue;
            }
            let mut coins = Vec::new();
            let mut sum = 0;
            while coins.len() < 4 {
                let need = base + max_fee + in_cost * coins.len() as u64 + 2 * out_cost + DUST;
                if sum >= need {
                    break;
                }
                let Some(c) = self.take_coins_of(u, &[Kind::P2wpkh], 1).pop() else {
                    break;
                };
                sum += c.value;
                coins.push(c);
            }
            let need = base + max_fee + in_cost * coins.len() as u64 + 2 * out_cost + DUST;
            if sum < need {
                self.users[u as usize].coins.extend(coins);
                continue;
            }
            parts.push((u, coins));
        }
        if parts.len() < 10 {
            self.give_back(parts);
            return None;
        }
        let fee_each = base * WASABI1_FEE_PER_MILLION_PER_PEER * parts.len() as u64 / 1_000_000;
        let mut ins = Vec::new();
        let mut outs = Vec::new();
        for (u, coins) in &parts {
            let eid = self.users[*u as usize].eid;
            let sum: u64 = coins.iter().map(|c| c.value).sum();
            let mut left = sum - in_cost * coins.len() as u64 - fee_each - base - out_cost;
            let mut mixed = vec![base];
            if left >= 2 * base + out_cost + DUST && self.rng.below(3) == 0 {
                mixed.push(2 * base);
                left -= 2 * base + out_cost;
            }
            for v in mixed {
                let key = self.key(Kind::P2wpkh, eid, Role::Mixed);
                outs.push(Out {
                    value: v,
                    key,
                    to: Wallet::User(*u),
                    tag: Tag::Plain,
                });
            }
            if left >= out_cost + DUST {
                let key = self.key(Kind::P2wpkh, eid, Role::Change);
                outs.push(Out {
                    value: left - out_cost,
                    key,
                    to: Wallet::User(*u),
                    tag: Tag::Change(eid),
                });
            }
            ins.extend(coins.iter().copied());
        }
        let coord = self.coordinators[1].0;
        let key = self.key(Kind::P2wpkh, coord, Role::Fee);
        outs.push(Out {
            value: fee_each * parts.len() as u64,
            key,
            to: Wallet::Coordinator(1),
            tag: Tag::Plain,
        });
        for i in (1..ins.len()).rev() {
            let j = self.rng.below(i as u64 + 1) as usize;
            ins.swap(i, j);
        }
        let n = parts.len() as u32;
        self.plan(ins, outs, FP_LEGACY, TxKind::Wasabi1, coord, n, true);
        Some(())
    }

    fn mixer_payouts(&mut self) {
        let h = self.height;
        let mut i = 0;
        while i < self.mixer.queue.len() {
            let (due, client, eid, amount) = self.mixer.queue[i];
            if due > h {
                i += 1;
                continue;
            }
            // Pay back in 1 to 3 outputs to fresh client addresses.
            let n = 1 + self.rng.below(3);
            let mut payees = Vec::new();
            let mut left = amount;
            for j in 0..n {
                let v = if j + 1 == n {
                    left
                } else {
                    left / (n - j) / 2 + self.rng.below(left / (n - j))
                };
                left -= v;
                let (kind, role) = match client {
                    Wallet::User(u) => (self.users[u as usize].kind, Role::Receive),
                    _ => (Kind::P2wpkh, Role::Stash),
                };
                let key = self.key(kind, eid, role);
                payees.push(Out {
                    value: v,
                    key,
                    to: client,
                    tag: Tag::Plain,
                });
            }
            if payees.iter().any(|p| p.value < DUST) {
                payees.retain(|p| p.value >= DUST);
            }
            let mixer = self.mixer.eid;
            if payees.is_empty()
                || self
                    .pay(
                        Wallet::Mixer,
                        mixer,
                        payees,
                        (None, Kind::P2wpkh),
                        FP_CORE,
                        TxKind::MixerPayout,
                        // Random coins of its pool (largest-first would scan
                        // a pool that grows with the chain on every payout).
                        false,
                    )
                    .is_none()
            {
                // Not enough liquidity yet: try again later.
                self.mixer.queue[i].0 = h + 3;
                i += 1;
                continue;
            }
            self.mixer.queue.swap_remove(i);
            if let Wallet::Job(j) = client {
                let job = &mut self.jobs[j as usize];
                job.stage = Stage::Cashout;
                job.next = h + 1 + job.gap;
            }
        }
    }

    fn pool_payouts(&mut self) {
        let h = self.height;
        for p in 0..self.pools.len() {
            if !(h + p as u32 * 3).is_multiple_of(12) || self.pools[p].coins.is_empty() {
                continue;
            }
            let eid = self.pools[p].eid;
            let total: u64 = self.pools[p].coins.iter().map(|c| c.value).sum();
            if p == NEWCOMER {
                // The solo miner sells most of its coins at an exchange.
                let e = (h % 4) as u8;
                let key = self.deposit_key(e, eid);
                let amount = total * 8 / 10;
                let out = Out {
                    value: amount,
                    key,
                    to: Wallet::Deposits(e),
                    tag: Tag::Plain,
                };
                if self
                    .pay(
                        Wallet::Pool(p as u8),
                        eid,
                        vec![out],
                        (None, Kind::P2wpkh),
                        FP_CORE,
                        TxKind::MinerSale,
                        true,
                    )
                    .is_some()
                {
                    // Credited to nobody who withdraws: the miner's account.
                }
                continue;
            }
            let miners = self.pools[p].miners.clone();
            let n = (5 + self.rng.below(20) as usize).min(miners.len());
            let budget = total * 9 / 10;
            let mut payees = Vec::new();
            for i in 0..n {
                let m = miners[(self.rng.below(miners.len() as u64) as usize + i) % miners.len()];
                if payees.iter().any(|o: &Out| o.to == Wallet::User(m)) {
                    continue;
                }
                let key = match self.users[m as usize].published {
                    Some(k) => k,
                    None => self.user_receive_fresh(m),
                };
                payees.push(Out {
                    value: 0,
                    key,
                    to: Wallet::User(m),
                    tag: Tag::Plain,
                });
            }
            if payees.is_empty() {
                continue;
            }
            let each = budget / payees.len() as u64;
            for (i, o) in payees.iter_mut().enumerate() {
                o.value = each / 2 + (each / 2) * (i as u64 + 1) / (n as u64 + 1);
            }
            let payout = self.pools[p].payout;
            let kind = self.keys.kind(payout);
            self.pay(
                Wallet::Pool(p as u8),
                eid,
                payees,
                (Some(payout), kind),
                FP_LEGACY,
                TxKind::PoolPayout,
                true,
            );
        }
    }

    fn user_receive_fresh(&mut self, u: u32) -> KeyId {
        let (kind, eid) = (self.users[u as usize].kind, self.users[u as usize].eid);
        self.key(kind, eid, Role::Receive)
    }

    fn exchange_work(&mut self) {
        let h = self.height;
        for e in 0..self.exchanges.len() {
            let eid = self.exchanges[e].eid;
            let w = e as u8;
            // Sweeps every 6 blocks: all deposits to the hot address, in
            // transactions of up to 200 inputs.
            if (h + e as u32).is_multiple_of(6) && !self.exchanges[e].deposits.is_empty() {
                let mut all = std::mem::take(&mut self.exchanges[e].deposits);
                let hot = self.exchanges[e].hot_key;
                while !all.is_empty() {
                    let ins = all.split_off(all.len().saturating_sub(200));
                    let fee = self.fee(&ins, &[self.keys.kind(hot)], self.feerate);
                    let sum: u64 = ins.iter().map(|c| c.value).sum();
                    if sum > fee + DUST {
                        let out = Out {
                            value: sum - fee,
                            key: hot,
                            to: Wallet::Hot(w),
                            tag: Tag::Plain,
                        };
                        self.plan(ins, vec![out], FP_LEGACY, TxKind::Sweep, eid, 1, false);
                    } else {
                        // Dust: left for a later sweep.
                        self.exchanges[e].deposits.extend(ins);
                    }
                }
            }
            // Batched withdrawals every 3 blocks.
            if (h + e as u32).is_multiple_of(3) && !self.exchanges[e].requests.is_empty() {
                let n = self.exchanges[e].requests.len().min(60);
                let reqs: Vec<(u32, u64)> = self.exchanges[e].requests.drain(..n).collect();
                let total: u64 = reqs.iter().map(|r| r.1).sum();
                if self.balance(Wallet::Hot(w)) < total + 100_000 {
                    self.refill(e, total * 2);
                    self.exchanges[e].requests.splice(0..0, reqs);
                    continue;
                }
                let mut payees = Vec::new();
                for &(u, amount) in &reqs {
                    let out = self.paying_user(u, amount);
                    payees.push(out);
                }
                let hot = self.exchanges[e].hot_key;
                let kind = self.keys.kind(hot);
                if self
                    .pay(
                        Wallet::Hot(w),
                        eid,
                        payees,
                        (Some(hot), kind),
                        FP_LEGACY,
                        TxKind::Withdrawal,
                        true,
                    )
                    .is_none()
                {
                    self.exchanges[e].requests.splice(0..0, reqs);
                }
            }
            // Cold storage: keep the hot wallet under a third of holdings.
            if (h + e as u32).is_multiple_of(24) {
                let hot = self.balance(Wallet::Hot(w));
                let cold = self.balance(Wallet::Cold(w));
                if hot > 1_000_000 && hot > (hot + cold) / 3 {
                    let amount = (hot - (hot + cold) / 4) / 100_000 * 100_000;
                    let cold_key = self.exchanges[e].cold_key;
                    let hot_key = self.exchanges[e].hot_key;
                    let kind = self.keys.kind(hot_key);
                    if amount >= 100_000 {
                        let out = Out {
                            value: amount,
                            key: cold_key,
                            to: Wallet::Cold(w),
                            tag: Tag::Plain,
                        };
                        self.pay(
                            Wallet::Hot(w),
                            eid,
                            vec![out],
                            (Some(hot_key), kind),
                            FP_LEGACY,
                            TxKind::ColdStorage,
                            true,
                        );
                    }
                }
            }
        }
    }

    /// Moves about `amount` from cold storage to the hot wallet.
    fn refill(&mut self, e: usize, amount: u64) {
        let w = e as u8;
        let cold = self.balance(Wallet::Cold(w));
        let amount = amount.min(cold.saturating_sub(200_000));
        if amount < 100_000 {
            return;
        }
        let eid = self.exchanges[e].eid;
        let (hot, cold_key) = (self.exchanges[e].hot_key, self.exchanges[e].cold_key);
        let out = Out {
            value: amount,
            key: hot,
            to: Wallet::Hot(w),
            tag: Tag::Plain,
        };
        self.pay(
            Wallet::Cold(w),
            eid,
            vec![out],
            (Some(cold_key), Kind::P2wpkh),
            FP_LEGACY,
            TxKind::Refill,
            true,
        );
    }

    fn sanctioned_spend(&mut self) -> Option<()> {
        if self.sanctioned.2.is_empty() {
            return None;
        }
        let eid = self.sanctioned.0;
        let bal = self.balance(Wallet::Sanctioned);
        let n = 1 + self.rng.below(4);
        let mut payees = Vec::new();
        for _ in 0..n {
            let u = self.rng.below(self.users.len() as u64) as u32;
            let amount = self.random_amount(bal / (n + 2));
            let out = self.paying_user(u, amount);
            payees.push(out);
        }
        // And a deposit at an exchange, sometimes.
        if self.rng.below(3) == 0 {
            let e = 1 + self.rng.below(3) as u8;
            let key = self.deposit_key(e, eid);
            let amount = self.random_amount(bal / (n + 2));
            payees.push(Out {
                value: amount,
                key,
                to: Wallet::Deposits(e),
                tag: Tag::Plain,
            });
        }
        let change = self.sanctioned.1[self.rng.below(4) as usize];
        let kind = self.keys.kind(change);
        self.pay(
            Wallet::Sanctioned,
            eid,
            payees,
            (Some(change), kind),
            FP_CORE,
            TxKind::FromSanctioned,
            false,
        )
        .map(|_| ())
    }

    // ----- the heist --------------------------------------------------------

    fn heist(&mut self) {
        let victim = 0usize;
        let coins = std::mem::take(&mut self.exchanges[victim].hot);
        if coins.is_empty() {
            return; // Nothing to take yet; try next block.
        }
        let hacker = self.hacker;
        let stolen_key = self.exchanges[victim].hot_key;
        // Coins at other keys (none, as the hot wallet reuses its key) stay.
        let (take, keep): (Vec<Coin>, Vec<Coin>) =
            coins.into_iter().partition(|c| c.key == stolen_key);
        self.exchanges[victim].hot = keep;
        let total: u64 = take.iter().map(|c| c.value).sum();
        let fee = self.fee(&take, &[Kind::P2wpkh], self.feerate * 3);
        if total < fee + 10_000_000 {
            // Not worth it yet; try again later.
            self.exchanges[victim].hot.extend(take);
            return;
        }
        let j = self.jobs.len() as u32;
        let key = self.key(Kind::P2wpkh, hacker, Role::Stash);
        self.jobs.push(Job {
            route: Route::Hops,
            stage: Stage::Launder(0),
            coins: Vec::new(),
            next: self.height + 1,
            gap: 1,
        });
        let out = Out {
            value: total - fee,
            key,
            to: Wallet::Job(j),
            tag: Tag::Plain,
        };
        let p = self.plan(take, vec![out], FP_CORE, TxKind::Heist, hacker, 1, false);
        self.infos[p].stolen = true;
        self.stats.stolen += total;
        // The exchange rotates its hot key.
        let kind = EXCHANGE_KINDS[victim];
        let eid = self.exchanges[victim].eid;
        self.exchanges[victim].hot_key = self.key(kind, eid, Role::Hot);
        self.heist_done = true;
    }

    fn launder(&mut self) {
        let h = self.height;
        let end = self.params.blocks;
        let hacker = self.hacker;
        for j in 0..self.jobs.len() {
            let (route, stage, gap) = {
                let job = &self.jobs[j];
                if job.next > h || job.coins.is_empty() {
                    continue;
                }
                (job.route, job.stage, job.gap)
            };
            let jw = Wallet::Job(j as u32);
            match stage {
                Stage::Done | Stage::Waiting => {}
                Stage::Launder(0) => self.split(j, end),
                Stage::Launder(steps) => {
                    let next_stage = if steps <= 1 {
                        Stage::Cashout
                    } else {
                        Stage::Launder(steps - 1)
                    };
                    match route {
                        Route::Peel => self.peel(j as u32),
                        Route::Hops => {
                            let coins = std::mem::take(&mut self.jobs[j].coins);
                            let sum: u64 = coins.iter().map(|c| c.value).sum();
                            let kind = Kind::ALL[self.rng.below(4) as usize];
                            let fee = self.fee(&coins, &[kind], self.feerate);
                            let key = self.key(kind, hacker, Role::Stash);
                            let out = Out {
                                value: sum - fee,
                                key,
                                to: jw,
                                tag: Tag::Plain,
                            };
                            self.plan(coins, vec![out], FP_CORE, TxKind::Hop, hacker, 1, false);
                        }
                        Route::Wasabi => self.wasabi_queue.push(j as u32),
                        Route::Mixer => {
                            if self.mixer_deposit(jw, hacker, None).is_some() {
                                self.jobs[j].stage = Stage::Waiting;
                            } else {
                                self.jobs[j].stage = Stage::Cashout;
                            }
                            continue;
                        }
                    }
                    let next = h + gap / 2 + self.rng.below(gap as u64 + 1) as u32;
                    let job = &mut self.jobs[j];
                    job.stage = next_stage;
                    job.next = next;
                }
                Stage::Cashout => {
                    // One coin to a deposit address at one of the other
                    // exchanges (the hacker's accounts there).
                    let coin = self.jobs[j].coins.pop().expect("not empty");
                    let e = 1 + self.rng.below(3) as u8;
                    let key = self.deposit_key(e, hacker);
                    let fee = self.fee(&[coin], &[self.keys.kind(key)], self.feerate);
                    if coin.value > fee + DUST {
                        let out = Out {
                            value: coin.value - fee,
                            key,
                            to: Wallet::Deposits(e),
                            tag: Tag::Cashout(e),
                        };
                        let p = vec![coin];
                        self.plan(p, vec![out], FP_CORE, TxKind::Cashout, hacker, 1, false);
                    }
                    let next = h + gap / 2 + self.rng.below(gap as u64 + 1) as u32;
                    let job = &mut self.jobs[j];
                    job.next = next;
                    if job.coins.is_empty() {
                        job.stage = Stage::Done;
                    }
                }
            }
        }
    }

    /// The heist output split into parts, one laundering route each, whose
    /// steps are spread over what is left of the chain.
    fn split(&mut self, j: usize, end: u32) {
        let (h, hacker) = (self.height, self.hacker);
        let coins = std::mem::take(&mut self.jobs[j].coins);
        let sum: u64 = coins.iter().map(|c| c.value).sum();
        let n = 6 + self.rng.below(3);
        let fee = self.fee(&coins, &vec![Kind::P2wpkh; n as usize], self.feerate);
        let mut outs = Vec::new();
        let mut left = sum - fee;
        let routes = [Route::Peel, Route::Hops, Route::Wasabi, Route::Mixer];
        for i in 0..n {
            let share = left / (n - i);
            let v = if i + 1 == n {
                left
            } else {
                share * 7 / 10 + self.rng.below(share * 6 / 10)
            };
            left -= v;
            let route = routes[i as usize % 4];
            let steps = match route {
                Route::Peel => 8 + self.rng.below(10) as u32,
                Route::Hops => 2 + self.rng.below(4) as u32,
                _ => 1,
            };
            let window = end.saturating_sub(h + 2).max(10);
            // Steps (and about five cash-outs after them) a gap apart on
            // average, so the part is cashed out over the rest of the chain.
            let gap = (window * 7 / 10 / (steps + 5)).max(2);
            let nj = self.jobs.len() as u32;
            self.jobs.push(Job {
                route,
                stage: Stage::Launder(steps),
                coins: Vec::new(),
                next: h + 1 + self.rng.below(gap as u64 + 1) as u32,
                gap,
            });
            let key = self.key(Kind::P2wpkh, hacker, Role::Stash);
            outs.push(Out {
                value: v,
                key,
                to: Wallet::Job(nj),
                tag: Tag::Plain,
            });
        }
        self.plan(coins, outs, FP_CORE, TxKind::Split, hacker, 1, true);
        self.jobs[j].stage = Stage::Done;
    }

    /// One peel: a small part to a deposit address (a cash-out), the rest
    /// to a fresh address of the hacker.
    fn peel(&mut self, j: u32) {
        let hacker = self.hacker;
        let coins = std::mem::take(&mut self.jobs[j as usize].coins);
        let sum: u64 = coins.iter().map(|c| c.value).sum();
        let e = 1 + self.rng.below(3) as u8;
        let dkey = self.deposit_key(e, hacker);
        let kind = Kind::P2wpkh;
        let fee = self.fee(&coins, &[self.keys.kind(dkey), kind], self.feerate);
        let peel = sum * (2 + self.rng.below(7)) / 100;
        let rest = sum - fee - peel;
        let key = self.key(kind, hacker, Role::Stash);
        let outs = vec![
            Out {
                value: peel,
                key: dkey,
                to: Wallet::Deposits(e),
                tag: Tag::Cashout(e),
            },
            Out {
                value: rest,
                key,
                to: Wallet::Job(j),
                tag: Tag::Change(hacker),
            },
        ];
        self.plan(coins, outs, FP_CORE, TxKind::Peel, hacker, 1, true);
    }

    // ----- the block --------------------------------------------------------

    /// Whether the chain is complete.
    pub fn done(&self) -> bool {
        self.height >= self.params.blocks
    }

    /// Builds the next block, or None once all are built.
    pub fn next_block(&mut self) -> Option<BlockOut> {
        if self.done() {
            return None;
        }
        self.height += 1;
        let h = self.height;
        self.time += 600 + self.rng.below(1_201) as u32;
        while let Some(&(mh, p, c)) = self.immature.front() {
            if mh + COINBASE_MATURITY > h {
                break;
            }
            self.immature.pop_front();
            self.pools[p as usize].coins.push(c);
        }
        // Fee rates wander between 1 and 40 sat/vB.
        let step = self.rng.below(5) as i64 - 2;
        self.feerate = (self.feerate as i64 + step).clamp(1, 40) as u64;

        if Some(h) == self.params.heist_height() || (self.heist_pending() && h.is_multiple_of(10)) {
            self.heist();
        }
        self.launder();
        self.pool_payouts();
        self.exchange_work();
        self.mixer_payouts();
        self.whirlpool_mixes();
        if h % 10 == 7 || !self.wasabi_queue.is_empty() && h % 10 == 2 {
            self.wasabi_round();
        }
        if h % 20 == 15 {
            self.wasabi1_round();
        }
        if h % 7 == 3 {
            self.generic_coinjoin();
        }
        if h % 15 == 5 {
            self.sanctioned_spend();
        }
        // Fill up to this block's share of the transactions still to make.
        let left_blocks = (self.params.blocks - h + 1) as u64;
        let left_txs = self.params.txs.saturating_sub(self.txs_made + left_blocks);
        let want = left_txs.div_ceil(left_blocks.max(1));
        let mut attempts = 0;
        while (self.plans.len() as u64) < want && attempts < want * 4 + 20 && self.vsize < 800_000 {
            attempts += 1;
            let r = self.rng.below(1000);
            let _ = match r {
                0..=539 => self.user_payment(),
                540..=549 => self.user_stonewall(),
                550..=699 => self.user_deposit(),
                700..=819 => self.user_withdraw_request().and(None),
                820..=879 => self.user_consolidation(),
                880..=919 => self.user_to_sanctioned(),
                920..=959 => {
                    let u = self.rng.below(self.users.len() as u64) as u32;
                    let eid = self.users[u as usize].eid;
                    self.mixer_deposit(Wallet::User(u), eid, None)
                }
                _ => self.whirlpool_tx0(),
            };
        }
        Some(self.finish_block())
    }

    fn heist_pending(&self) -> bool {
        !self.heist_done
            && self
                .params
                .heist_height()
                .is_some_and(|hh| self.height > hh)
    }

    fn finish_block(&mut self) -> BlockOut {
        let h = self.height;
        self.keys.derive_pending(self.threads);
        let plans = std::mem::take(&mut self.plans);
        let infos = std::mem::take(&mut self.infos);
        let outs = std::mem::take(&mut self.outs);
        let mut corrupt = None;
        if let Some((kind, ch)) = self.corrupt {
            if h >= ch {
                corrupt = plans.iter().enumerate().find_map(|(i, p)| {
                    p.ins
                        .iter()
                        .position(|c| self.keys.kind(c.key) == kind)
                        .map(|x| (i, x))
                });
                if corrupt.is_some() {
                    self.corrupt = None;
                    self.corrupted_at = Some(h);
                }
            }
        }
        let signed = tx::sign_all(&self.keys, &plans, corrupt, self.threads);

        // The miner: pools by share of blocks.
        let total_w: u32 = self.pools.iter().map(|p| p.weight).sum();
        let mut r = self.rng.below(total_w as u64) as u32;
        let mut p = 0;
        while r >= self.pools[p].weight {
            r -= self.pools[p].weight;
            p += 1;
        }
        let pool_eid = self.pools[p].eid;
        let payout = if p == NEWCOMER {
            // The newcomer pays itself at a fresh address every block.
            self.key(Kind::P2wpkh, pool_eid, Role::Coinbase)
        } else {
            self.pools[p].payout
        };
        self.keys.derive_pending(1);
        let fees: u64 = infos.iter().map(|i| i.fee).sum();
        let value = tx::subsidy(h) + fees;
        let tag = self.pools[p].tag;
        let extranonce = self.rng.next_u64();
        let cb = tx::coinbase(
            h,
            extranonce,
            tag.as_bytes(),
            &[(value, self.keys.script(payout))],
            &signed,
        );
        let (bytes, hash) = tx::assemble(self.prev, self.time, &cb, &signed);
        self.prev = hash;
        self.immature.push_back((
            h,
            p as u8,
            Coin {
                txid: cb.txid,
                vout: 0,
                value,
                key: payout,
            },
        ));

        // Truth, and the new coins to their wallets.
        let mut truth = BlockTruth {
            height: h,
            hash: Some(chainhound_chain::BlockHash(hash)),
            miner: pool_eid,
            tag: tag.to_string(),
            ..Default::default()
        };
        for (k, e, role, customer) in std::mem::take(&mut self.new_keys) {
            truth.addresses.push(AddressTruth {
                address: self.keys.address(k),
                entity: e,
                role,
                kind: self.keys.kind(k),
                customer,
            });
        }
        self.stats.outputs_by_kind[self.keys.kind(payout).index()] += 1;
        for ((s, (plan, info)), outs) in signed.iter().zip(plans.iter().zip(&infos)).zip(outs) {
            let txid = chainhound_chain::Txid(s.txid);
            for c in &plan.ins {
                self.stats.inputs_by_kind[self.keys.kind(c.key).index()] += 1;
                if info.stolen {
                    truth.stolen.push(StolenTruth {
                        txid: chainhound_chain::Txid(c.txid),
                        vout: c.vout,
                        value: c.value,
                        heist_txid: txid,
                    });
                }
            }
            truth.txs.push(TxTruth {
                txid,
                height: h,
                kind: info.kind,
                entity: info.entity,
                inputs: plan.ins.len() as u32,
                outputs: outs.len() as u32,
                fee: info.fee,
                participants: info.participants,
            });
            *self.stats.by_kind.entry(info.kind.name()).or_default() += 1;
            for (vout, o) in outs.iter().enumerate() {
                let coin = Coin {
                    txid: s.txid,
                    vout: vout as u32,
                    value: o.value,
                    key: o.key,
                };
                self.stats.outputs_by_kind[self.keys.kind(o.key).index()] += 1;
                match o.tag {
                    Tag::Plain => {}
                    Tag::Change(e) => truth.change.push(ChangeTruth {
                        txid,
                        vout: vout as u32,
                        entity: e,
                    }),
                    Tag::Cashout(e) => {
                        self.stats.cashed_out += o.value;
                        truth.cashouts.push(CashoutTruth {
                            txid,
                            vout: vout as u32,
                            address: self.keys.address(o.key),
                            exchange: self.exchanges[e as usize].eid,
                            value: o.value,
                            stolen: o.value,
                            height: h,
                        })
                    }
                }
                match o.to {
                    Wallet::Premix(d, u) => self.premix[d as usize].push((u, coin)),
                    Wallet::Postmix(d, u) => self.postmix[d as usize].push((u, coin)),
                    w => self.coins(w).push(coin),
                }
            }
        }
        self.txs_made += 1 + signed.len() as u64;
        self.vsize = 0;
        self.stats.blocks += 1;
        self.stats.txs += 1 + signed.len() as u64;
        self.stats.bytes += bytes.len() as u64;
        BlockOut { bytes, truth }
    }
}

/// Simulates `params` in memory: the blocks, the truth and the totals.
pub fn simulate(params: Params) -> (Vec<Vec<u8>>, Truth, EconomyStats) {
    let mut eco = Economy::new(params);
    let mut truth = Truth {
        entities: eco.entities().to_vec(),
        ..Default::default()
    };
    let mut blocks = Vec::new();
    while let Some(b) = eco.next_block() {
        blocks.push(b.bytes);
        truth.add(b.truth);
    }
    (blocks, truth, eco.stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_knobs_and_bad_ones_are_refused() {
        let p = Params::small(1);
        assert_eq!((p.blocks, p.users, p.txs), (2_000, 500, 20_000));
        assert_eq!(p.heist_height(), Some(800));
        let p = Params::sized(1, None, None, Some(1_000_000)).unwrap();
        assert_eq!((p.blocks, p.users), (2_000, 25_000));
        let p = Params::sized(1, None, None, Some(10_000_000)).unwrap();
        assert_eq!(p.blocks, 6_667);
        assert!(Params::sized(1, Some(100), None, None)
            .unwrap_err()
            .contains("120"));
        assert!(Params::sized(1, Some(200), None, Some(100))
            .unwrap_err()
            .contains("one per block"));
        assert!(Params::sized(1, Some(200), None, Some(1_000_000))
            .unwrap_err()
            .contains("--blocks"));
        assert!(Params::sized(1, None, Some(5), None)
            .unwrap_err()
            .contains("20"));
        assert_eq!(
            Params::sized(1, Some(299), None, None)
                .unwrap()
                .heist_height(),
            None
        );
    }

    #[test]
    fn wasabi2_denominations_are_wasabis_standard_ones() {
        let d = wasabi2_denominations();
        assert_eq!(
            &d[..8],
            &[5_000, 6_561, 8_192, 10_000, 13_122, 16_384, 19_683, 20_000]
        );
        assert!(d.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(d.len(), 78);
        assert_eq!(*d.last().unwrap(), 100_000_000_000);
        for v in [
            100_000,
            200_000,
            500_000,
            1 << 20,
            3u64.pow(12),
            2 * 3u64.pow(15),
        ] {
            assert!(d.binary_search(&v).is_ok(), "{v}");
        }
        assert!(d.binary_search(&300_000).is_err());
        assert!(WASABI1_BASE
            .clone()
            .all(|b| d.binary_search(&b).is_err() || b == 10_000_000));
    }
}
