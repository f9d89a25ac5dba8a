//! The ground truth of a simulated economy: who owns what, which output is
//! change, which transactions are CoinJoins, who mined each block, what the
//! heist stole and where it was cashed out.
//!
//! [`BlockTruth`] is what one block adds; [`TruthWriter`] appends it to the
//! CSV files of `DIR/truth/` (format in `docs/simulator.md`), and
//! [`Truth`] keeps it in memory for tests. Txids are in display order (as
//! `chainhound tx` takes them), amounts in satoshis.
//!
//! Must not: decide anything; it only records what [`crate::economy`] did.

use crate::keys::Kind;
use chainhound_chain::{BlockHash, Txid};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// An entity's number, dense from 0.
pub type Eid = u32;

/// What an entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// A person with a wallet.
    User,
    /// A custodial exchange.
    Exchange,
    /// A mining pool with a real pool's coinbase tag.
    Pool,
    /// A solo miner whose tag is in no pool list.
    Miner,
    /// A custodial mixing service.
    Mixer,
    /// A CoinJoin coordinator (receives coordinator fees).
    Coordinator,
    /// An entity under sanctions.
    Sanctioned,
    /// The thief of the heist.
    Hacker,
}

impl EntityKind {
    /// Lower-case name, as in `entities.csv`.
    pub fn name(self) -> &'static str {
        match self {
            EntityKind::User => "user",
            EntityKind::Exchange => "exchange",
            EntityKind::Pool => "pool",
            EntityKind::Miner => "miner",
            EntityKind::Mixer => "mixer",
            EntityKind::Coordinator => "coordinator",
            EntityKind::Sanctioned => "sanctioned",
            EntityKind::Hacker => "hacker",
        }
    }
}

/// An entity of the economy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    /// Its number.
    pub id: Eid,
    /// Display name.
    pub name: String,
    /// What it is.
    pub kind: EntityKind,
}

/// Why an entity holds an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Given out to be paid.
    Receive,
    /// Published and reused (a donation, payout or sanctioned address).
    Published,
    /// Change back to the spender.
    Change,
    /// An exchange's or mixer's deposit address for one customer.
    Deposit,
    /// An exchange's hot wallet.
    Hot,
    /// An exchange's cold storage.
    Cold,
    /// A miner's or pool's coinbase payout.
    Coinbase,
    /// A CoinJoin coordinator's fee address.
    Fee,
    /// A Whirlpool premix output (made by tx0).
    Premix,
    /// A CoinJoin's equal-value output.
    Mixed,
    /// The hacker's own addresses between laundering steps.
    Stash,
}

impl Role {
    /// Lower-case name, as in `addresses.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Receive => "receive",
            Role::Published => "published",
            Role::Change => "change",
            Role::Deposit => "deposit",
            Role::Hot => "hot",
            Role::Cold => "cold",
            Role::Coinbase => "coinbase",
            Role::Fee => "fee",
            Role::Premix => "premix",
            Role::Mixed => "mixed",
            Role::Stash => "stash",
        }
    }
}

/// What a transaction does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxKind {
    /// A user pays another user.
    Payment,
    /// A user merges its coins into one.
    Consolidation,
    /// A customer pays its deposit address at an exchange.
    Deposit,
    /// An exchange merges deposits into its hot wallet.
    Sweep,
    /// An exchange pays many customers at once.
    Withdrawal,
    /// Hot wallet to cold storage.
    ColdStorage,
    /// Cold storage back to the hot wallet.
    Refill,
    /// A pool pays its miners.
    PoolPayout,
    /// A solo miner sells its coins.
    MinerSale,
    /// Generic equal-output CoinJoin, made as JoinMarket makes them: a
    /// taker and makers, one equal output each, the makers' change
    /// carrying their fee, the taker's change (none when it sweeps).
    CoinjoinGeneric,
    /// Whirlpool tx0: premix outputs, coordinator fee, change.
    WhirlpoolTx0,
    /// Whirlpool 5x5 mix.
    Whirlpool,
    /// Wasabi 2.0 (WabiSabi) CoinJoin: standard denominations, inputs and
    /// outputs sorted by value, largest first.
    Wasabi,
    /// Wasabi 1.x (ZeroLink) CoinJoin: one output of a base denomination of
    /// about 0.1 BTC per participant (some also at twice it), change, and
    /// the coordinator's fee.
    Wasabi1,
    /// Samourai's Stonewall, made by one user: the payment, a decoy of the
    /// same value back to the payer, and two change outputs. Shaped like a
    /// two-party CoinJoin, but not one.
    Stonewall,
    /// A payment into the mixing service.
    MixerDeposit,
    /// The mixing service pays a client back.
    MixerPayout,
    /// A payment to the sanctioned entity.
    ToSanctioned,
    /// The sanctioned entity pays out.
    FromSanctioned,
    /// The hacker sweeps the stolen hot wallet.
    Heist,
    /// The hacker splits the loot.
    Split,
    /// One step of a peel chain.
    Peel,
    /// A one-in, one-out hop between the hacker's addresses.
    Hop,
    /// The hacker deposits at an exchange.
    Cashout,
}

impl TxKind {
    /// Lower-case name, as in `txs.csv`.
    pub fn name(self) -> &'static str {
        match self {
            TxKind::Payment => "payment",
            TxKind::Consolidation => "consolidation",
            TxKind::Deposit => "deposit",
            TxKind::Sweep => "sweep",
            TxKind::Withdrawal => "withdrawal",
            TxKind::ColdStorage => "cold-storage",
            TxKind::Refill => "refill",
            TxKind::PoolPayout => "pool-payout",
            TxKind::MinerSale => "miner-sale",
            TxKind::CoinjoinGeneric => "coinjoin-generic",
            TxKind::WhirlpoolTx0 => "whirlpool-tx0",
            TxKind::Whirlpool => "coinjoin-whirlpool",
            TxKind::Wasabi => "coinjoin-wasabi",
            TxKind::Wasabi1 => "coinjoin-wasabi1",
            TxKind::Stonewall => "stonewall",
            TxKind::MixerDeposit => "mixer-deposit",
            TxKind::MixerPayout => "mixer-payout",
            TxKind::ToSanctioned => "to-sanctioned",
            TxKind::FromSanctioned => "from-sanctioned",
            TxKind::Heist => "heist",
            TxKind::Split => "split",
            TxKind::Peel => "peel",
            TxKind::Hop => "hop",
            TxKind::Cashout => "cashout",
        }
    }

    /// Whether it is a CoinJoin (Whirlpool tx0 and Stonewall are not: one
    /// entity signs all their inputs).
    pub fn is_coinjoin(self) -> bool {
        matches!(
            self,
            TxKind::CoinjoinGeneric | TxKind::Whirlpool | TxKind::Wasabi | TxKind::Wasabi1
        )
    }
}

/// An address and who holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressTruth {
    /// Regtest address string.
    pub address: String,
    /// Holder.
    pub entity: Eid,
    /// Why.
    pub role: Role,
    /// Script type.
    pub kind: Kind,
    /// For deposit addresses: the customer they credit.
    pub customer: Option<Eid>,
}

/// A transaction and who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxTruth {
    /// Txid.
    pub txid: Txid,
    /// Height of its block.
    pub height: u32,
    /// What it does.
    pub kind: TxKind,
    /// The entity that signed it (for CoinJoins: the coordinator, or the
    /// taker of a generic one).
    pub entity: Eid,
    /// Inputs and outputs.
    pub inputs: u32,
    /// Outputs.
    pub outputs: u32,
    /// Fee in satoshis.
    pub fee: u64,
    /// For CoinJoins and Whirlpool mixes: number of distinct participants.
    pub participants: u32,
}

/// An output paying the spender back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeTruth {
    /// Txid.
    pub txid: Txid,
    /// Output index.
    pub vout: u32,
    /// The spender it returns to.
    pub entity: Eid,
}

/// A heist input: an output of the victim taken by the hacker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StolenTruth {
    /// The stolen output's txid.
    pub txid: Txid,
    /// Its index.
    pub vout: u32,
    /// Its value.
    pub value: u64,
    /// The heist transaction that spent it.
    pub heist_txid: Txid,
}

/// A deposit of heist proceeds at an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashoutTruth {
    /// Txid of the deposit.
    pub txid: Txid,
    /// Output paying the deposit address.
    pub vout: u32,
    /// The deposit address.
    pub address: String,
    /// The exchange.
    pub exchange: Eid,
    /// Value of the output.
    pub value: u64,
    /// Heist proceeds it carries: all of it, as the hacker holds nothing
    /// else (mixer payouts carry the proceeds without the stolen coins).
    pub stolen: u64,
    /// Height of the block holding it.
    pub height: u32,
}

/// Everything one block adds to the truth.
#[derive(Debug, Clone, Default)]
pub struct BlockTruth {
    /// Height.
    pub height: u32,
    /// Block hash.
    pub hash: Option<BlockHash>,
    /// The miner or pool.
    pub miner: Eid,
    /// Its coinbase tag.
    pub tag: String,
    /// New addresses.
    pub addresses: Vec<AddressTruth>,
    /// Transactions after the coinbase.
    pub txs: Vec<TxTruth>,
    /// Change outputs.
    pub change: Vec<ChangeTruth>,
    /// Stolen outputs.
    pub stolen: Vec<StolenTruth>,
    /// Cash-out deposits.
    pub cashouts: Vec<CashoutTruth>,
}

/// Who mined a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinedTruth {
    /// Height.
    pub height: u32,
    /// Block hash.
    pub hash: BlockHash,
    /// The pool or miner.
    pub miner: Eid,
    /// Its coinbase tag.
    pub tag: String,
}

/// The whole truth in memory, as built ([`Truth::add`]) or read back from
/// `DIR/truth` ([`Truth::load`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Truth {
    /// Every entity, by id.
    pub entities: Vec<Entity>,
    /// Every block's miner.
    pub blocks: Vec<MinedTruth>,
    /// Every address.
    pub addresses: Vec<AddressTruth>,
    /// Every transaction but coinbases.
    pub txs: Vec<TxTruth>,
    /// Change outputs.
    pub change: Vec<ChangeTruth>,
    /// Stolen outputs.
    pub stolen: Vec<StolenTruth>,
    /// Cash-out deposits.
    pub cashouts: Vec<CashoutTruth>,
}

fn bad(file: &str, line: usize, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{file} line {line}: {what}"),
    )
}

/// Splits a CSV line written by [`TruthWriter`] (quotes around fields with
/// commas or quotes).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn kind_named(s: &str) -> Option<Kind> {
    Kind::ALL.into_iter().find(|k| k.name() == s)
}

impl Truth {
    /// The truth's addresses as a users' label CSV (`address,label,category,
    /// source`): those for which `category_of` names a category, labelled
    /// with their entity's name, as an investigator's own file would hold
    /// them (the sanctioned entity's addresses, the exchanges'...).
    pub fn labels_csv(
        &self,
        category_of: impl Fn(&Entity, &AddressTruth) -> Option<&'static str>,
    ) -> String {
        let mut csv = String::from("address,label,category,source\n");
        for a in &self.addresses {
            let Some(e) = self.entities.get(a.entity as usize) else {
                continue;
            };
            if let Some(c) = category_of(e, a) {
                csv.push_str(&format!("{},{},{c},simulated truth\n", a.address, e.name));
            }
        }
        csv
    }

    /// Adds one block's truth.
    pub fn add(&mut self, b: BlockTruth) {
        if let Some(hash) = b.hash {
            self.blocks.push(MinedTruth {
                height: b.height,
                hash,
                miner: b.miner,
                tag: b.tag,
            });
        }
        self.addresses.extend(b.addresses);
        self.txs.extend(b.txs);
        self.change.extend(b.change);
        self.stolen.extend(b.stolen);
        self.cashouts.extend(b.cashouts);
    }

    /// The entity with this id.
    pub fn entity(&self, id: Eid) -> Option<&Entity> {
        self.entities.get(id as usize).filter(|e| e.id == id)
    }

    /// Reads the CSV files of a truth folder; errors name file and line.
    pub fn load(dir: &Path) -> io::Result<Truth> {
        let mut t = Truth::default();
        for (name, header) in FILES {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            let mut lines = text.lines().enumerate();
            match lines.next() {
                Some((_, h)) if h == header => {}
                _ => return Err(bad(name, 1, &format!("expected the header {header:?}"))),
            }
            let n_fields = header.split(',').count();
            for (i, line) in lines {
                let ln = i + 1;
                let f = split_csv(line);
                if f.len() != n_fields {
                    return Err(bad(
                        name,
                        ln,
                        &format!("{} fields, expected {n_fields}", f.len()),
                    ));
                }
                let num = |j: usize| -> io::Result<u64> {
                    f[j].parse::<u64>()
                        .map_err(|_| bad(name, ln, &format!("{:?} is not a number", f[j])))
                };
                let txid = |j: usize| {
                    f[j].parse::<Txid>()
                        .map_err(|_| bad(name, ln, &format!("{:?} is not a txid", f[j])))
                };
                match name {
                    "entities.csv" => {
                        let kind = ALL_ENTITY_KINDS
                            .into_iter()
                            .find(|k| k.name() == f[2])
                            .ok_or_else(|| bad(name, ln, "unknown entity kind"))?;
                        t.entities.push(Entity {
                            id: num(0)? as Eid,
                            name: f[1].clone(),
                            kind,
                        });
                    }
                    "addresses.csv" => t.addresses.push(AddressTruth {
                        address: f[0].clone(),
                        entity: num(1)? as Eid,
                        role: ALL_ROLES
                            .into_iter()
                            .find(|r| r.name() == f[2])
                            .ok_or_else(|| bad(name, ln, "unknown role"))?,
                        kind: kind_named(&f[3])
                            .ok_or_else(|| bad(name, ln, "unknown script type"))?,
                        customer: if f[4].is_empty() {
                            None
                        } else {
                            Some(num(4)? as Eid)
                        },
                    }),
                    "blocks.csv" => t.blocks.push(MinedTruth {
                        height: num(0)? as u32,
                        hash: f[1].parse::<BlockHash>().map_err(|_| {
                            bad(name, ln, &format!("{:?} is not a block hash", f[1]))
                        })?,
                        miner: num(2)? as Eid,
                        tag: f[3].clone(),
                    }),
                    "txs.csv" => t.txs.push(TxTruth {
                        txid: txid(0)?,
                        height: num(1)? as u32,
                        kind: ALL_TX_KINDS
                            .into_iter()
                            .find(|k| k.name() == f[2])
                            .ok_or_else(|| bad(name, ln, "unknown tx kind"))?,
                        entity: num(3)? as Eid,
                        inputs: num(4)? as u32,
                        outputs: num(5)? as u32,
                        fee: num(6)?,
                        participants: num(7)? as u32,
                    }),
                    "change.csv" => t.change.push(ChangeTruth {
                        txid: txid(0)?,
                        vout: num(1)? as u32,
                        entity: num(2)? as Eid,
                    }),
                    "stolen.csv" => t.stolen.push(StolenTruth {
                        txid: txid(0)?,
                        vout: num(1)? as u32,
                        value: num(2)?,
                        heist_txid: txid(3)?,
                    }),
                    _ => t.cashouts.push(CashoutTruth {
                        txid: txid(0)?,
                        vout: num(1)? as u32,
                        address: f[2].clone(),
                        exchange: num(3)? as Eid,
                        value: num(4)?,
                        stolen: num(5)?,
                        height: num(6)? as u32,
                    }),
                }
            }
        }
        Ok(t)
    }
}

const ALL_ENTITY_KINDS: [EntityKind; 8] = [
    EntityKind::User,
    EntityKind::Exchange,
    EntityKind::Pool,
    EntityKind::Miner,
    EntityKind::Mixer,
    EntityKind::Coordinator,
    EntityKind::Sanctioned,
    EntityKind::Hacker,
];

const ALL_ROLES: [Role; 11] = [
    Role::Receive,
    Role::Published,
    Role::Change,
    Role::Deposit,
    Role::Hot,
    Role::Cold,
    Role::Coinbase,
    Role::Fee,
    Role::Premix,
    Role::Mixed,
    Role::Stash,
];

/// Every transaction kind.
pub const ALL_TX_KINDS: [TxKind; 24] = [
    TxKind::Payment,
    TxKind::Consolidation,
    TxKind::Deposit,
    TxKind::Sweep,
    TxKind::Withdrawal,
    TxKind::ColdStorage,
    TxKind::Refill,
    TxKind::PoolPayout,
    TxKind::MinerSale,
    TxKind::CoinjoinGeneric,
    TxKind::WhirlpoolTx0,
    TxKind::Whirlpool,
    TxKind::Wasabi,
    TxKind::Wasabi1,
    TxKind::Stonewall,
    TxKind::MixerDeposit,
    TxKind::MixerPayout,
    TxKind::ToSanctioned,
    TxKind::FromSanctioned,
    TxKind::Heist,
    TxKind::Split,
    TxKind::Peel,
    TxKind::Hop,
    TxKind::Cashout,
];

/// The truth files, with their headers.
pub const FILES: [(&str, &str); 7] = [
    ("entities.csv", "entity,name,kind"),
    ("addresses.csv", "address,entity,role,script_type,customer"),
    ("blocks.csv", "height,hash,miner,tag"),
    (
        "txs.csv",
        "txid,height,kind,entity,inputs,outputs,fee,participants",
    ),
    ("change.csv", "txid,vout,entity"),
    ("stolen.csv", "txid,vout,value,heist_txid"),
    (
        "cashouts.csv",
        "txid,vout,address,exchange,value,stolen,height",
    ),
];

/// Appends truth to `DIR/truth/*.csv`.
pub struct TruthWriter {
    files: Vec<BufWriter<File>>,
}

/// A CSV field: quoted when it holds a comma, quote or newline.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl TruthWriter {
    /// Creates the files (with headers) in `dir`, which is created.
    pub fn create(dir: &Path, entities: &[Entity]) -> io::Result<TruthWriter> {
        std::fs::create_dir_all(dir)?;
        let mut files = Vec::new();
        for (name, header) in FILES {
            let mut f = BufWriter::with_capacity(1 << 18, File::create(dir.join(name))?);
            writeln!(f, "{header}")?;
            files.push(f);
        }
        for e in entities {
            writeln!(files[0], "{},{},{}", e.id, field(&e.name), e.kind.name())?;
        }
        Ok(TruthWriter { files })
    }

    /// Appends one block's truth.
    pub fn block(&mut self, b: &BlockTruth) -> io::Result<()> {
        let f = &mut self.files;
        for a in &b.addresses {
            let customer = a.customer.map(|c| c.to_string()).unwrap_or_default();
            writeln!(
                f[1],
                "{},{},{},{},{}",
                a.address,
                a.entity,
                a.role.name(),
                a.kind.name(),
                customer
            )?;
        }
        let hash = b.hash.map(|h| h.to_string()).unwrap_or_default();
        writeln!(f[2], "{},{},{},{}", b.height, hash, b.miner, field(&b.tag))?;
        for t in &b.txs {
            writeln!(
                f[3],
                "{},{},{},{},{},{},{},{}",
                t.txid,
                t.height,
                t.kind.name(),
                t.entity,
                t.inputs,
                t.outputs,
                t.fee,
                t.participants
            )?;
        }
        for c in &b.change {
            writeln!(f[4], "{},{},{}", c.txid, c.vout, c.entity)?;
        }
        for s in &b.stolen {
            writeln!(f[5], "{},{},{},{}", s.txid, s.vout, s.value, s.heist_txid)?;
        }
        for c in &b.cashouts {
            writeln!(
                f[6],
                "{},{},{},{},{},{},{}",
                c.txid, c.vout, c.address, c.exchange, c.value, c.stolen, c.height
            )?;
        }
        Ok(())
    }

    /// Flushes every file.
    pub fn finish(self) -> io::Result<()> {
        for f in self.files {
            f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_names_file_and_line_of_bad_rows() {
        let dir = tempfile::tempdir().unwrap();
        let entities = [Entity {
            id: 0,
            name: "a, \"quoted\" name".into(),
            kind: EntityKind::Exchange,
        }];
        TruthWriter::create(dir.path(), &entities)
            .unwrap()
            .finish()
            .unwrap();
        let t = Truth::load(dir.path()).unwrap();
        assert_eq!(t.entities, entities.to_vec(), "quoted fields round-trip");
        let p = dir.path().join("txs.csv");
        let good = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, format!("{good}00ff,1,payment,0,1,1,0,1\n")).unwrap();
        let e = Truth::load(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("txs.csv line 2") && e.contains("not a txid"),
            "{e}"
        );
        std::fs::write(&p, "txid,height\n").unwrap();
        let e = Truth::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("txs.csv line 1") && e.contains("header"), "{e}");
    }
}
