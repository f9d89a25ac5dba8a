//! CoinJoin detection on the shape of one transaction.
//!
//! Owns: [`TxShape`], a compact, index-independent description of a
//! transaction (input values, address ids and script types; the same for
//! outputs), read from the index ([`TxShape::fill_from_store`]) or from a
//! parsed block ([`TxShape::fill_from_block`]); the detectors that classify a
//! shape ([`Detector`], [`classify`]): BlockSci's generic equal-output rule,
//! Whirlpool, Wasabi 1.x, Wasabi 2.0 and JoinMarket; and the Stonewall veto
//! ([`is_stonewall_like`]). Every threshold is a field of [`Params`], whose
//! documentation names the source of each rule.
//!
//! Must not: write anything, touch the index's files other than through
//! [`Store`]'s readers, look at other transactions (the detectors see one
//! shape and nothing else: no spending history, no block height), or decide
//! what clustering does with a CoinJoin (the caller's job: CoinJoins never
//! merge clusters).
//!
//! # Order and precedence
//!
//! [`Detector::classify`] tries the detectors from the most specific to the
//! least: Whirlpool, Wasabi 2.0, Wasabi 1.x, JoinMarket, then the generic
//! rule, and reports the first that matches. Each can also be asked alone.
//!
//! # Unknown inputs
//!
//! An input whose previous output is not known ([`InShape::UNRESOLVED`]:
//! not found at ingest, or outside the blocks at hand) is an unknown fact.
//! Conditions on it are not evaluated, so detectors decide on what is known
//! (a value that could be anything does not refute a rule; an unknown
//! address counts as distinct from every other). A shape read from a block
//! keeps what an unresolved input's scriptSig shows of the script type
//! ([`spent_type_from_script_sig`]). On a complete index only coinbase
//! inputs lack a previous output, and coinbases are never CoinJoins;
//! [`TxShape::unresolved_inputs`] tells how complete a shape is.
//!
//! # Vetoes: Stonewall and Whirlpool tx0
//!
//! Samourai's Stonewall (also made by Sparrow) is a spend by one wallet
//! shaped like a two-party CoinJoin: two sets of the payer's coins, each
//! covering the amount, pay the recipient and a decoy of the same value back
//! to the payer, plus one change output per set. STONEWALLx2 is the same
//! shape made by two cooperating wallets, on purpose indistinguishable.
//! BlockSci's generic rule calls both a two-party CoinJoin. With
//! [`GenericParams::stonewall_veto`] on (the default), a shape for which
//! [`is_stonewall_like`] holds is not a CoinJoin for the generic rule, and
//! [`classify`] returns `None` for it, so a caller that merges the inputs
//! of non-CoinJoins treats them as one wallet's: right for Stonewall (made
//! by default for most spends of those wallets), wrong for the rarer
//! STONEWALLx2. With the default parameters no other detector can match a
//! Stonewall's shape (four outputs, one equal pair), so the veto only ever
//! removes two-party generic CoinJoins.
//!
//! A Whirlpool tx0 (one wallet's premix outputs, the coordinator's fee,
//! change) with two or three premix outputs has the shape of BlockSci's
//! rule, and with three that of JoinMarket's; [`GenericParams::tx0_veto`]
//! and [`JoinMarketParams::tx0_veto`] skip shapes for which
//! [`Detector::is_whirlpool_tx0_like`] holds.

use chainhound_chain::{classify as classify_script, Block, ScriptType, Tx, TxIn};
use chainhound_index::store::{OutId, Store, TxNum};
use serde::Serialize;

// ----- shapes ------------------------------------------------------------

/// One input of a [`TxShape`]: what the output it spends was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InShape {
    /// Value spent in satoshis; `None` when unknown.
    pub value: Option<u64>,
    /// Address spent from, as an id equal for equal addresses within the
    /// shape (the index's `AddrId` when read from the store); `None` when
    /// unknown or the output had no address.
    pub addr: Option<u32>,
    /// Script type of the output spent; `None` when unknown.
    pub script: Option<ScriptType>,
}

impl InShape {
    /// An input whose previous output is not known.
    pub const UNRESOLVED: InShape = InShape {
        value: None,
        addr: None,
        script: None,
    };

    /// An input spending a known output.
    pub fn known(value: u64, addr: Option<u32>, script: ScriptType) -> InShape {
        InShape {
            value: Some(value),
            addr,
            script: Some(script),
        }
    }
}

/// One output of a [`TxShape`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OutShape {
    /// Value in satoshis.
    pub value: u64,
    /// Address, as an id equal for equal addresses within the shape; `None`
    /// for outputs without an address (`OP_RETURN`).
    pub addr: Option<u32>,
    /// Script type.
    pub script: ScriptType,
}

impl OutShape {
    /// An output.
    pub fn new(value: u64, addr: Option<u32>, script: ScriptType) -> OutShape {
        OutShape {
            value,
            addr,
            script,
        }
    }
}

/// What the detectors see of a transaction: its inputs and outputs, in
/// order. Reusable: the `fill_*` methods overwrite it without freeing its
/// buffers, so one shape serves a whole scan without allocating.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxShape {
    /// Whether it is a coinbase (never a CoinJoin).
    pub coinbase: bool,
    /// Inputs; a coinbase's single input is [`InShape::UNRESOLVED`].
    pub inputs: Vec<InShape>,
    /// Outputs.
    pub outputs: Vec<OutShape>,
}

impl TxShape {
    /// An empty shape.
    pub fn new() -> TxShape {
        TxShape::default()
    }

    /// Empties the shape, keeping its buffers.
    pub fn clear(&mut self) {
        self.coinbase = false;
        self.inputs.clear();
        self.outputs.clear();
    }

    /// The shape of transaction `t` of the index.
    pub fn from_store(store: &Store, t: TxNum) -> TxShape {
        let mut s = TxShape::new();
        s.fill_from_store(store, t);
        s
    }

    /// Overwrites the shape with transaction `t` of the index, straight from
    /// its columns (no allocation once the buffers are large enough).
    pub fn fill_from_store(&mut self, store: &Store, t: TxNum) {
        self.clear();
        for i in store.tx_inputs(t) {
            match store.in_prevout(i) {
                Ok(Some(o)) => self.inputs.push(InShape::known(
                    store.out_value(o),
                    store.out_addr(o).map(|a| a.0),
                    store.out_type(o),
                )),
                Ok(None) => {
                    self.coinbase = true;
                    self.inputs.push(InShape::UNRESOLVED);
                }
                Err(()) => self.inputs.push(InShape::UNRESOLVED),
            }
        }
        for o in store.tx_outputs(t) {
            let o = OutId(o);
            self.outputs.push(OutShape::new(
                store.out_value(o),
                store.out_addr(o).map(|a| a.0),
                store.out_type(o),
            ));
        }
    }

    /// Overwrites the shape with transaction `tx` of a parsed `block`.
    /// `prevout` tells what each input spends, when the caller knows
    /// (`None`: unresolved). An unresolved input keeps what its scriptSig
    /// shows of the script it spends ([`spent_type_from_script_sig`]).
    /// Output address ids are local to the shape: the position of the first
    /// output with the same script.
    pub fn fill_from_block(
        &mut self,
        block: &Block<'_>,
        tx: &Tx<'_>,
        mut prevout: impl FnMut(&TxIn<'_>) -> Option<InShape>,
    ) {
        self.clear();
        let ins = block.tx_inputs(tx);
        self.coinbase = ins.len() == 1 && ins[0].is_null_prevout();
        for i in ins {
            let shape = if self.coinbase { None } else { prevout(i) };
            self.inputs.push(shape.unwrap_or(InShape {
                script: spent_type_from_script_sig(i.script_sig),
                ..InShape::UNRESOLVED
            }));
        }
        let outs = block.tx_outputs(tx);
        // Equal scripts get the id of the first of them: sort positions by
        // script, then give each run its smallest position.
        let mut order: Vec<usize> = (0..outs.len()).collect();
        order.sort_by(|&a, &b| {
            outs[a]
                .script_pubkey
                .cmp(outs[b].script_pubkey)
                .then(a.cmp(&b))
        });
        let mut ids = vec![0u32; outs.len()];
        let mut run_first = 0usize;
        for (k, &pos) in order.iter().enumerate() {
            if k == 0 || outs[order[k - 1]].script_pubkey != outs[pos].script_pubkey {
                run_first = pos;
            }
            ids[pos] = u32::try_from(run_first).unwrap_or(u32::MAX);
        }
        for (o, id) in outs.iter().zip(ids) {
            let script = classify_script(o.script_pubkey).0;
            let addr = (script != ScriptType::Nulldata).then_some(id);
            self.outputs.push(OutShape::new(o.value, addr, script));
        }
    }

    /// Inputs whose previous output is not known.
    pub fn unresolved_inputs(&self) -> usize {
        self.inputs.iter().filter(|i| i.value.is_none()).count()
    }
}

/// The script type an input spends, as far as its scriptSig alone shows it:
/// a single push of a witness program spends P2SH (wrapped SegWit); a
/// signature and a public key spend P2PKH. `None` for anything else: an
/// empty scriptSig (native SegWit: P2WPKH, P2WSH or P2TR, or an unsigned
/// input) and every other form (P2SH redeem scripts, P2PK, bare multisig)
/// are not told apart here.
pub fn spent_type_from_script_sig(script_sig: &[u8]) -> Option<ScriptType> {
    let mut pushes: [&[u8]; 2] = [&[], &[]];
    let mut n = 0;
    let mut rest = script_sig;
    while let Some((&op, tail)) = rest.split_first() {
        let (len, tail) = match op {
            1..=75 => (op as usize, tail),
            0x4c => {
                let (&l, t) = tail.split_first()?;
                (l as usize, t)
            }
            0x4d => {
                let l = tail.get(..2)?;
                (u16::from_le_bytes([l[0], l[1]]) as usize, &tail[2..])
            }
            _ => return None,
        };
        let data = tail.get(..len)?;
        if n == 2 {
            return None;
        }
        pushes[n] = data;
        n += 1;
        rest = &tail[len..];
    }
    let witness_program = |d: &[u8]| {
        matches!(d, [0x00, 20, ..] if d.len() == 22)
            || matches!(d, [0x00, 32, ..] if d.len() == 34)
            || matches!(d, [0x51, 32, ..] if d.len() == 34)
    };
    let pubkey = |d: &[u8]| {
        matches!(d, [0x02 | 0x03, ..] if d.len() == 33) || matches!(d, [0x04, ..] if d.len() == 65)
    };
    let signature = |d: &[u8]| (9..=73).contains(&d.len()) && d[0] == 0x30;
    match n {
        1 if witness_program(pushes[0]) => Some(ScriptType::P2sh),
        2 if signature(pushes[0]) && pubkey(pushes[1]) => Some(ScriptType::P2pkh),
        _ => None,
    }
}

// ----- results -------------------------------------------------------------

/// Which CoinJoin a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CoinJoinKind {
    /// BlockSci's generic equal-output rule, and nothing more specific.
    Generic,
    /// Samourai Whirlpool mix.
    Whirlpool,
    /// Wasabi 1.x (ZeroLink) round.
    Wasabi1,
    /// Wasabi 2.0 (WabiSabi) round.
    Wasabi2,
    /// JoinMarket (taker and makers).
    JoinMarket,
}

impl CoinJoinKind {
    /// Every kind.
    pub const ALL: [CoinJoinKind; 5] = [
        CoinJoinKind::Generic,
        CoinJoinKind::Whirlpool,
        CoinJoinKind::Wasabi1,
        CoinJoinKind::Wasabi2,
        CoinJoinKind::JoinMarket,
    ];

    /// Lower-case name, as serialized.
    pub fn name(self) -> &'static str {
        match self {
            CoinJoinKind::Generic => "generic",
            CoinJoinKind::Whirlpool => "whirlpool",
            CoinJoinKind::Wasabi1 => "wasabi1",
            CoinJoinKind::Wasabi2 => "wasabi2",
            CoinJoinKind::JoinMarket => "joinmarket",
        }
    }
}

/// A transaction classified as a CoinJoin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct CoinJoin {
    /// Which one.
    pub kind: CoinJoinKind,
    /// Parties the shape shows: the outputs of a Whirlpool mix; the equal
    /// outputs of a generic or JoinMarket CoinJoin and the base-denomination
    /// outputs of a Wasabi 1.x round (one per party); for Wasabi 2.0, where
    /// a party takes several outputs, the largest group of equal
    /// standard-denomination outputs (a lower bound when no party takes the
    /// same denomination twice, as Wasabi's decomposition mostly does).
    pub participants: u32,
    /// The common output value; `None` for Wasabi 2.0 (many denominations).
    pub denomination: Option<u64>,
}

// ----- parameters ------------------------------------------------------------

/// BlockSci's generic equal-output rule (`isCoinjoin` in
/// `src/heuristics/tx_identification.cpp` of citp/BlockSci, kept in the
/// coinjoin-extended fork mmstanone/blocksci-compilable): at least 2 inputs
/// and 3 outputs; each party is assumed to take one equal output and one
/// change output, so the parties are `(outputs + 1) / 2`, which must not
/// exceed the inputs nor the distinct input addresses; the most frequent
/// output value must occur exactly that many times (on ties, the largest
/// such value is taken), and must not be a dust value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenericParams {
    /// Fewest inputs (BlockSci: 2).
    pub min_inputs: usize,
    /// Fewest outputs (BlockSci: 3).
    pub min_outputs: usize,
    /// Values that are never a CoinJoin's common value (BlockSci: 546 and
    /// 2,730 satoshis, the dust limits of old wallets).
    pub dust_values: &'static [u64],
    /// Apply the Stonewall veto (see the module documentation). Not in
    /// BlockSci; on by default.
    pub stonewall_veto: bool,
    /// Reject shapes with an `OP_RETURN` output. Not in BlockSci; on by
    /// default: no CoinJoin implementation adds data outputs, while token
    /// protocols' transfers (`OP_RETURN`, two equal small outputs, change)
    /// are, with two-payee payments, the rule's commonest false positives
    /// in the real sample blocks.
    pub reject_data_outputs: bool,
    /// Apply the Whirlpool tx0 veto ([`Detector::is_whirlpool_tx0_like`]).
    /// Not in BlockSci; on by default: a tx0 with two or three premix
    /// outputs has BlockSci's shape (premix outputs, the coordinator's fee,
    /// change), and tx0s are common.
    pub tx0_veto: bool,
}

/// Samourai Whirlpool mixes: Dumplings' Samourai rule (crocs-muni/Dumplings,
/// `Scanner.cs`, refining the SCDH heuristic of Stockinger et al.,
/// "Pinpointing and Measuring Wasabi and Samourai CoinJoins in the Bitcoin
/// Ecosystem"): as many inputs as outputs, every output exactly one pool
/// denomination, native SegWit (P2WPKH) only, every input either exactly
/// the denomination (a free remix) or a premix coin (tx0 output) at most
/// 0.0011 BTC above it. Dumplings accepts 5 to 10 parties and requires one
/// remix input; the defaults here follow the issue (5 to 8 parties) and
/// require none, see [`WhirlpoolParams::min_remix_inputs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WhirlpoolParams {
    /// Pool denominations (0.001, 0.01, 0.05 and 0.5 BTC).
    pub denominations: &'static [u64],
    /// Fewest parties (inputs = outputs): 5.
    pub min_parties: usize,
    /// Most parties: 8 (Dumplings allows 10).
    pub max_parties: usize,
    /// A premix input is worth the denomination plus at most this (the
    /// mix's miner fee share): 110,000 satoshis (Dumplings).
    pub max_premix_excess: u64,
    /// Fewest inputs of exactly the denomination. Dumplings requires 1, as
    /// mixes normally hold remixes; 0 here, because a new pool's first
    /// mixes hold only premix coins (as the simulator's do) and the other
    /// conditions already pin the shape down.
    pub min_remix_inputs: usize,
    /// Inputs and outputs must be P2WPKH (Whirlpool wallets are).
    pub native_segwit_only: bool,
    /// How far above the denomination a tx0 puts its premix outputs, for
    /// the tx0 veto: 170 to 19,125 satoshis, the `mustMixBalanceMin` and
    /// `mustMixBalanceMax` the Whirlpool coordinator published for its 0.01
    /// and 0.001 BTC pools (1,000,170 to 1,019,125 and 100,170 to 119,125).
    pub tx0_premix_excess: (u64, u64),
}

/// Wasabi 1.x (ZeroLink) rounds: Dumplings' Wasabi rule from block 610,000
/// on, when the coordinator stopped using fixed fee addresses
/// (nopara73/Dumplings and crocs-muni/Dumplings, `Scanner.cs`, constants in
/// `Constants.cs`): native SegWit only; at least 10 equal outputs, whose
/// value is within 0.02 BTC of 0.1 BTC (the base denomination); at least as
/// many inputs as those outputs; at least two outputs of a value no other
/// output has (change and the coordinator's fee). Real rounds had 30 to 100
/// parties; the simulator's have 10 to 20, which Dumplings' threshold
/// already admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wasabi1Params {
    /// Approximate base denomination: 10,000,000 satoshis.
    pub base_denomination: u64,
    /// How far the common value may be from it: 2,000,000 satoshis.
    pub tolerance: u64,
    /// Fewest outputs of the common value: 10.
    pub min_equal_outputs: usize,
    /// Fewest outputs with a unique value: 2.
    pub min_unique_outputs: usize,
    /// Inputs and outputs must be P2WPKH (Wasabi 1.x wallets are).
    pub native_segwit_only: bool,
}

/// Wasabi 2.0 (WabiSabi) rounds: Dumplings' Wasabi 2 rule
/// (crocs-muni/Dumplings `Scanner.cs`; BlockSci's port
/// `isWasabi2CoinJoin`): every input P2WPKH or P2TR; at least 20 inputs (50
/// when Wasabi 2.0 started; Dumplings lowered it to 20); inputs and outputs
/// ordered by value, largest first; more than 80% of the outputs standard
/// denominations. The standard denominations are Wasabi's
/// (`StandardDenominations` in WalletWasabi): the powers of 2, the powers
/// of 3 and twice them, and the 1-2-5 series of powers of 10, between
/// 5,000 satoshis (Wasabi's smallest output) and 134,375,000,000 (Dumplings'
/// upper bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wasabi2Params {
    /// Fewest inputs: 20.
    pub min_inputs: usize,
    /// Fewest outputs: 5. Not in Dumplings, where the sorted inputs already
    /// keep consolidations out; here it also keeps a consolidation whose
    /// input values are unknown (a shape from lone blocks) from matching
    /// with one round-valued output. A round has several parties, each
    /// taking at least one output.
    pub min_outputs: usize,
    /// Smallest standard denomination: 5,000 satoshis.
    pub min_denomination: u64,
    /// Largest standard denomination considered: 134,375,000,000 satoshis.
    pub max_denomination: u64,
    /// More than this percentage of outputs must be standard: 80.
    pub min_standard_percent: u64,
    /// Inputs must be ordered by value, largest first.
    pub inputs_sorted: bool,
    /// Outputs must be ordered by value, largest first.
    pub outputs_sorted: bool,
}

/// JoinMarket: Dumplings' rule for other equal-output CoinJoins
/// (crocs-muni/Dumplings `Scanner.cs`, which in practice finds JoinMarket):
/// exactly one value occurs more than once, `n` times; the other outputs
/// (change) number `n` or `n - 1` (a taker sweeping its coins gets no
/// change); at least `n` distinct input and output addresses; and no input
/// larger than the common value plus the largest other output plus
/// [`JoinMarketParams::input_cap_margin`] (a cheap stand-in for a
/// subset-sum check: no single coin pays for two parties). The issue asks
/// for at least 3 parties (a two-party one is Stonewall's shape) and at
/// least `n` inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinMarketParams {
    /// Fewest parties (equal outputs): 3.
    pub min_participants: usize,
    /// Apply the Whirlpool tx0 veto (see [`GenericParams::tx0_veto`]): a
    /// tx0 with three premix outputs has this rule's shape too. On.
    pub tx0_veto: bool,
    /// Allowance, in satoshis, of the largest input over the common value
    /// plus the largest other output. Dumplings uses -10,000 (0.0001 BTC
    /// below); the default here is +100,000. A party paying with one coin
    /// puts in its equal output plus its change, less its fee for a maker
    /// (usually under 10,000 satoshis), plus the miners' and makers' fees
    /// for the taker; when that party has the largest change, its coin
    /// breaks Dumplings' bound. In the simulator's JoinMarket-like
    /// CoinJoins Dumplings' bound keeps 10 of 64 (seed 7), ours all.
    pub input_cap_margin: i64,
}

/// Samourai's Stonewall: exactly four outputs, all to addresses, no value
/// three times: two of one value and script type (payment and decoy) and
/// two others (one change per input set, equal when both sets leave the
/// same change); at least two inputs, which (when known) can be split into
/// two sets that each cover the common value plus one of the change
/// outputs (Samourai's Stonewall documentation: each set covers the amount,
/// the decoy copies the payment's amount and address type, the fee is
/// shared).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StonewallParams {
    /// Fewest inputs: 2.
    pub min_inputs: usize,
    /// The two-set split is searched exhaustively up to this many inputs
    /// (2^(n-1) splits); above it the outputs alone decide: 16.
    pub max_split_inputs: usize,
}

/// Every detector's thresholds. [`Params::default`] gives the real-world
/// rules; each field's documentation names its source and any deviation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// The generic equal-output rule.
    pub generic: GenericParams,
    /// Whirlpool.
    pub whirlpool: WhirlpoolParams,
    /// Wasabi 1.x.
    pub wasabi1: Wasabi1Params,
    /// Wasabi 2.0.
    pub wasabi2: Wasabi2Params,
    /// JoinMarket.
    pub joinmarket: JoinMarketParams,
    /// The Stonewall veto.
    pub stonewall: StonewallParams,
}

/// Whirlpool's pool denominations in satoshis.
pub const WHIRLPOOL_POOLS: [u64; 4] = [100_000, 1_000_000, 5_000_000, 50_000_000];

impl Params {
    /// The defaults, as a constant.
    pub const DEFAULT: Params = Params {
        generic: GenericParams {
            min_inputs: 2,
            min_outputs: 3,
            dust_values: &[546, 2_730],
            stonewall_veto: true,
            reject_data_outputs: true,
            tx0_veto: true,
        },
        whirlpool: WhirlpoolParams {
            denominations: &WHIRLPOOL_POOLS,
            min_parties: 5,
            max_parties: 8,
            max_premix_excess: 110_000,
            min_remix_inputs: 0,
            native_segwit_only: true,
            tx0_premix_excess: (170, 19_125),
        },
        wasabi1: Wasabi1Params {
            base_denomination: 10_000_000,
            tolerance: 2_000_000,
            min_equal_outputs: 10,
            min_unique_outputs: 2,
            native_segwit_only: true,
        },
        wasabi2: Wasabi2Params {
            min_inputs: 20,
            min_outputs: 5,
            min_denomination: 5_000,
            max_denomination: 134_375_000_000,
            min_standard_percent: 80,
            inputs_sorted: true,
            outputs_sorted: true,
        },
        joinmarket: JoinMarketParams {
            min_participants: 3,
            tx0_veto: true,
            input_cap_margin: 100_000,
        },
        stonewall: StonewallParams {
            min_inputs: 2,
            max_split_inputs: 16,
        },
    };
}

impl Default for Params {
    fn default() -> Params {
        Params::DEFAULT
    }
}

fn is_power_of(mut v: u64, b: u64) -> bool {
    if v == 0 {
        return false;
    }
    while v.is_multiple_of(b) {
        v /= b;
    }
    v == 1
}

impl Wasabi2Params {
    /// Whether `v` is a standard denomination: within the bounds, and a
    /// power of 2, a power of 3 or twice one, or 1, 2 or 5 times a power of
    /// 10. Arithmetic, no table.
    pub fn is_standard(&self, v: u64) -> bool {
        (self.min_denomination..=self.max_denomination).contains(&v)
            && (v.is_power_of_two()
                || is_power_of(v, 3)
                || (v.is_multiple_of(2) && is_power_of(v / 2, 3))
                || is_power_of(v, 10)
                || (v.is_multiple_of(2) && is_power_of(v / 2, 10))
                || (v.is_multiple_of(5) && is_power_of(v / 5, 10)))
    }

    /// Every standard denomination within the bounds, smallest first.
    pub fn denominations(&self) -> Vec<u64> {
        let mut d = Vec::new();
        for (base, factors) in [(2u64, &[1u64][..]), (3, &[1, 2]), (10, &[1, 2, 5])] {
            let mut p = 1u64;
            loop {
                for &f in factors {
                    if let Some(v) = p.checked_mul(f).filter(|&v| self.is_standard(v)) {
                        d.push(v);
                    }
                }
                match p.checked_mul(base) {
                    Some(q) if q <= self.max_denomination => p = q,
                    _ => break,
                }
            }
        }
        d.sort_unstable();
        d.dedup();
        d
    }
}

// ----- detection ----------------------------------------------------------------

/// Equal-value statistics of a shape's outputs.
#[derive(Debug, Clone, Copy, Default)]
struct OutStats {
    /// The most frequent value (the largest on ties) and its count.
    top_value: u64,
    top_count: usize,
    /// Values that occur more than once.
    repeated_values: usize,
    /// Outputs whose value no other output has.
    unique_outputs: usize,
    /// The largest output value other than `top_value`, if any.
    max_other: Option<u64>,
}

/// The detectors with their parameters and scratch buffers: one per thread
/// of a scan, reused for every transaction (no allocation in the steady
/// state).
#[derive(Debug, Clone, Default)]
pub struct Detector {
    params: Params,
    values: Vec<u64>,
    ids: Vec<u32>,
    shape: TxShape,
}

impl Detector {
    /// Detectors with these parameters.
    pub fn new(params: Params) -> Detector {
        Detector {
            params,
            ..Detector::default()
        }
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Whether a transaction with these counts could be a CoinJoin for any
    /// detector (a cheap test before reading its values).
    pub fn counts_could_match(&self, inputs: usize, outputs: usize) -> bool {
        let p = &self.params;
        let generic = inputs >= p.generic.min_inputs.max(1) && outputs >= p.generic.min_outputs;
        let whirlpool = inputs == outputs
            && (p.whirlpool.min_parties.max(1)..=p.whirlpool.max_parties).contains(&outputs);
        let wasabi1 = inputs >= p.wasabi1.min_equal_outputs.max(1)
            && outputs >= p.wasabi1.min_equal_outputs.max(1) + p.wasabi1.min_unique_outputs;
        let wasabi2 =
            inputs >= p.wasabi2.min_inputs.max(1) && outputs >= p.wasabi2.min_outputs.max(1);
        let n = p.joinmarket.min_participants.max(2);
        let joinmarket = inputs >= n && outputs >= 2 * n - 1;
        generic || whirlpool || wasabi1 || wasabi2 || joinmarket
    }

    /// Classifies transaction `t` of the index: reads it only when its
    /// counts could match, into the detector's own reusable shape.
    pub fn classify_tx(&mut self, store: &Store, t: TxNum) -> Option<CoinJoin> {
        let ins = store.tx_inputs(t);
        let outs = store.tx_outputs(t);
        let (ni, no) = (
            (ins.end - ins.start) as usize,
            (outs.end - outs.start) as usize,
        );
        if !self.counts_could_match(ni, no) {
            return None;
        }
        let mut shape = std::mem::take(&mut self.shape);
        shape.fill_from_store(store, t);
        let r = self.classify(&shape);
        self.shape = shape;
        r
    }

    /// The CoinJoin a shape is, trying the detectors from the most specific
    /// (Whirlpool, Wasabi 2.0, Wasabi 1.x, JoinMarket) to the generic rule;
    /// `None` for anything else, Stonewalls included (see the module
    /// documentation).
    pub fn classify(&mut self, shape: &TxShape) -> Option<CoinJoin> {
        if shape.coinbase || !self.counts_could_match(shape.inputs.len(), shape.outputs.len()) {
            return None;
        }
        let st = self.out_stats(shape);
        self.whirlpool_with(shape, &st)
            .or_else(|| self.wasabi2_with(shape))
            .or_else(|| self.wasabi1_with(shape, &st))
            .or_else(|| self.joinmarket_with(shape, &st))
            .or_else(|| self.generic_with(shape, &st))
    }

    /// BlockSci's generic rule alone (with the Stonewall veto if on).
    pub fn generic(&mut self, shape: &TxShape) -> Option<CoinJoin> {
        if shape.coinbase {
            return None;
        }
        let st = self.out_stats(shape);
        self.generic_with(shape, &st)
    }

    /// The Whirlpool rule alone.
    pub fn whirlpool(&mut self, shape: &TxShape) -> Option<CoinJoin> {
        if shape.coinbase {
            return None;
        }
        let st = self.out_stats(shape);
        self.whirlpool_with(shape, &st)
    }

    /// The Wasabi 1.x rule alone.
    pub fn wasabi1(&mut self, shape: &TxShape) -> Option<CoinJoin> {
        if shape.coinbase {
            return None;
        }
        let st = self.out_stats(shape);
        self.wasabi1_with(shape, &st)
    }

    /// The Wasabi 2.0 rule alone.
    pub fn wasabi2(&mut self, shape: &TxShape) -> Option<CoinJoin> {
        if shape.coinbase {
            return None;
        }
        self.wasabi2_with(shape)
    }

    /// The JoinMarket rule alone.
    pub fn joinmarket(&mut self, shape: &TxShape) -> Option<CoinJoin> {
        if shape.coinbase {
            return None;
        }
        let st = self.out_stats(shape);
        self.joinmarket_with(shape, &st)
    }

    /// Whether the shape is a Stonewall's (see [`StonewallParams`]).
    pub fn is_stonewall_like(&mut self, shape: &TxShape) -> bool {
        if shape.coinbase {
            return false;
        }
        let st = self.out_stats(shape);
        self.stonewall_with(shape, &st)
    }

    /// Whether the shape is a Whirlpool tx0's: its most frequent output
    /// value, repeated, is a pool denomination plus a premix allowance
    /// ([`WhirlpoolParams::tx0_premix_excess`]), on P2WPKH outputs. A tx0
    /// is made by one wallet (premix outputs, the coordinator's fee,
    /// change), not a CoinJoin; the generic and JoinMarket rules skip it.
    pub fn is_whirlpool_tx0_like(&mut self, shape: &TxShape) -> bool {
        if shape.coinbase {
            return false;
        }
        let st = self.out_stats(shape);
        self.tx0_with(shape, &st)
    }

    fn tx0_with(&self, shape: &TxShape, st: &OutStats) -> bool {
        let p = &self.params.whirlpool;
        let (lo, hi) = p.tx0_premix_excess;
        let v = st.top_value;
        st.top_count >= 2
            && p.denominations
                .iter()
                .any(|&d| v > d && (lo..=hi).contains(&(v - d)))
            && shape
                .outputs
                .iter()
                .filter(|o| o.value == v)
                .all(|o| o.script == ScriptType::P2wpkh)
    }

    fn out_stats(&mut self, shape: &TxShape) -> OutStats {
        self.values.clear();
        self.values.extend(shape.outputs.iter().map(|o| o.value));
        self.values.sort_unstable();
        let mut st = OutStats::default();
        let v = &self.values;
        let mut i = 0;
        while i < v.len() {
            let mut j = i + 1;
            while j < v.len() && v[j] == v[i] {
                j += 1;
            }
            let n = j - i;
            if n > 1 {
                st.repeated_values += 1;
            } else {
                st.unique_outputs += 1;
            }
            // Ascending order: `>=` keeps the largest value on ties.
            if n >= st.top_count {
                st.top_value = v[i];
                st.top_count = n;
            }
            i = j;
        }
        st.max_other = v.iter().rev().copied().find(|&x| x != st.top_value);
        st
    }

    /// Distinct known ids among `ids`, plus one per unknown.
    fn distinct(&mut self, ids: impl Iterator<Item = Option<u32>>) -> usize {
        self.ids.clear();
        let mut unknown = 0;
        for id in ids {
            match id {
                Some(a) => self.ids.push(a),
                None => unknown += 1,
            }
        }
        self.ids.sort_unstable();
        self.ids.dedup();
        self.ids.len() + unknown
    }

    fn generic_with(&mut self, shape: &TxShape, st: &OutStats) -> Option<CoinJoin> {
        let p = self.params.generic;
        let (ni, no) = (shape.inputs.len(), shape.outputs.len());
        if ni < p.min_inputs.max(1) || no < p.min_outputs.max(1) {
            return None;
        }
        let parties = no.div_ceil(2);
        if parties > ni || st.top_count != parties || p.dust_values.contains(&st.top_value) {
            return None;
        }
        if p.reject_data_outputs
            && shape
                .outputs
                .iter()
                .any(|o| o.script == ScriptType::Nulldata)
        {
            return None;
        }
        if parties > self.distinct(shape.inputs.iter().map(|i| i.addr)) {
            return None;
        }
        if p.stonewall_veto && self.stonewall_with(shape, st) {
            return None;
        }
        if p.tx0_veto && self.tx0_with(shape, st) {
            return None;
        }
        Some(CoinJoin {
            kind: CoinJoinKind::Generic,
            participants: count(parties),
            denomination: Some(st.top_value),
        })
    }

    fn whirlpool_with(&self, shape: &TxShape, st: &OutStats) -> Option<CoinJoin> {
        let p = &self.params.whirlpool;
        let n = shape.outputs.len();
        if shape.inputs.len() != n || n < p.min_parties.max(1) || n > p.max_parties {
            return None;
        }
        let d = st.top_value;
        if st.top_count != n || !p.denominations.contains(&d) {
            return None;
        }
        if p.native_segwit_only && shape.outputs.iter().any(|o| o.script != ScriptType::P2wpkh) {
            return None;
        }
        let (mut remixes, mut unknown) = (0, 0);
        for i in &shape.inputs {
            if p.native_segwit_only && i.script.is_some_and(|s| s != ScriptType::P2wpkh) {
                return None;
            }
            match i.value {
                None => unknown += 1,
                Some(v) if v == d => remixes += 1,
                Some(v) if v > d && v - d <= p.max_premix_excess => {}
                Some(_) => return None,
            }
        }
        if remixes + unknown < p.min_remix_inputs {
            return None;
        }
        Some(CoinJoin {
            kind: CoinJoinKind::Whirlpool,
            participants: count(n),
            denomination: Some(d),
        })
    }

    fn wasabi2_with(&mut self, shape: &TxShape) -> Option<CoinJoin> {
        let p = self.params.wasabi2;
        let (ni, no) = (shape.inputs.len(), shape.outputs.len());
        if ni < p.min_inputs.max(1) || no < p.min_outputs.max(1) {
            return None;
        }
        let segwit = |s: ScriptType| matches!(s, ScriptType::P2wpkh | ScriptType::P2tr);
        if shape
            .inputs
            .iter()
            .any(|i| i.script.is_some_and(|s| !segwit(s)))
        {
            return None;
        }
        if p.inputs_sorted {
            // Known values must not increase (unknown ones are skipped).
            let mut prev = u64::MAX;
            for v in shape.inputs.iter().filter_map(|i| i.value) {
                if v > prev {
                    return None;
                }
                prev = v;
            }
        }
        if p.outputs_sorted && shape.outputs.windows(2).any(|w| w[1].value > w[0].value) {
            return None;
        }
        let standard = shape
            .outputs
            .iter()
            .filter(|o| p.is_standard(o.value))
            .count() as u64;
        if standard.saturating_mul(100) <= (no as u64).saturating_mul(p.min_standard_percent) {
            return None;
        }
        // The largest group of equal standard outputs.
        self.values.clear();
        self.values.extend(
            shape
                .outputs
                .iter()
                .map(|o| o.value)
                .filter(|&v| p.is_standard(v)),
        );
        self.values.sort_unstable();
        let largest = self
            .values
            .chunk_by(|a, b| a == b)
            .map(|g| g.len())
            .max()
            .unwrap_or(0);
        Some(CoinJoin {
            kind: CoinJoinKind::Wasabi2,
            participants: count(largest),
            denomination: None,
        })
    }

    fn wasabi1_with(&self, shape: &TxShape, st: &OutStats) -> Option<CoinJoin> {
        let p = &self.params.wasabi1;
        let n = st.top_count;
        if n < p.min_equal_outputs.max(2)
            || shape.inputs.len() < n
            || st.unique_outputs < p.min_unique_outputs
            || st.top_value.abs_diff(p.base_denomination) > p.tolerance
        {
            return None;
        }
        if p.native_segwit_only
            && (shape.outputs.iter().any(|o| o.script != ScriptType::P2wpkh)
                || shape
                    .inputs
                    .iter()
                    .any(|i| i.script.is_some_and(|s| s != ScriptType::P2wpkh)))
        {
            return None;
        }
        Some(CoinJoin {
            kind: CoinJoinKind::Wasabi1,
            participants: count(n),
            denomination: Some(st.top_value),
        })
    }

    fn joinmarket_with(&mut self, shape: &TxShape, st: &OutStats) -> Option<CoinJoin> {
        let p = self.params.joinmarket;
        let n = st.top_count;
        let others = shape.outputs.len() - n.min(shape.outputs.len());
        if st.repeated_values != 1
            || n < p.min_participants.max(2)
            || !(others == n || others + 1 == n)
            || shape.inputs.len() < n
        {
            return None;
        }
        if self.distinct(shape.inputs.iter().map(|i| i.addr)) < n
            || self.distinct(shape.outputs.iter().map(|o| o.addr)) < n
        {
            return None;
        }
        if p.tx0_veto && self.tx0_with(shape, st) {
            return None;
        }
        if let (Some(max_in), Some(max_other)) = (
            shape.inputs.iter().filter_map(|i| i.value).max(),
            st.max_other,
        ) {
            let cap = st.top_value as i128 + max_other as i128 + p.input_cap_margin as i128;
            if max_in as i128 > cap {
                return None;
            }
        }
        Some(CoinJoin {
            kind: CoinJoinKind::JoinMarket,
            participants: count(n),
            denomination: Some(st.top_value),
        })
    }

    fn stonewall_with(&self, shape: &TxShape, st: &OutStats) -> bool {
        let p = &self.params.stonewall;
        let ni = shape.inputs.len();
        let outs = &shape.outputs;
        if outs.len() != 4 || ni < p.min_inputs.max(2) || st.top_count != 2 {
            return false;
        }
        // Every output pays an address.
        if outs.iter().any(|o| o.addr.is_none()) {
            return false;
        }
        // Readings (amount, change, change): an equal pair of one script
        // type, and the other two outputs. Both sets may leave the same
        // change, so two pairs give two readings. The sorted values' pairs
        // are at (0, 1), (1, 2) or (2, 3); a second reading of the same
        // amount is a wrong one and skipped.
        let mut v = [outs[0].value, outs[1].value, outs[2].value, outs[3].value];
        v.sort_unstable();
        let mut readings = [(0u128, 0u128, 0u128); 2];
        let mut n = 0;
        for (x, c1, c2) in [(0, 2, 3), (1, 0, 3), (2, 0, 1)].map(|(i, j, k)| (v[i], v[j], v[k])) {
            let pair = || outs.iter().filter(move |o| o.value == x);
            if pair().count() != 2 || n == 2 || readings[..n].iter().any(|r| r.0 == x as u128) {
                continue;
            }
            let mut types = pair().map(|o| o.script);
            if types.next() == types.next() {
                readings[n] = (x as u128, c1 as u128, c2 as u128);
                n += 1;
            }
        }
        let readings = &readings[..n];
        if readings.is_empty() {
            return false;
        }
        // At most 2^24 splits, whatever the parameter says; with more inputs,
        // or unknown ones, the outputs alone decide.
        if ni > p.max_split_inputs.min(25) || shape.inputs.iter().any(|i| i.value.is_none()) {
            return true;
        }
        let value = |i: usize| shape.inputs[i].value.unwrap_or(0) as u128;
        let total: u128 = (0..ni).map(value).sum();
        // Input 0 goes to set A, the others where the mask says (B must not
        // be empty); A covers x plus one change, B x plus the other.
        let full = (1u32 << (ni - 1)) - 1;
        for mask in 0..full {
            let a: u128 = value(0)
                + (1..ni)
                    .filter(|&i| mask & (1 << (i - 1)) != 0)
                    .map(value)
                    .sum::<u128>();
            let b = total - a;
            for &(x, c1, c2) in readings {
                if (a >= x + c1 && b >= x + c2) || (a >= x + c2 && b >= x + c1) {
                    return true;
                }
            }
        }
        false
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Classifies a shape with the default parameters (allocates scratch
/// buffers: for scans, keep a [`Detector`]).
pub fn classify(shape: &TxShape) -> Option<CoinJoin> {
    Detector::default().classify(shape)
}

/// Whether a shape is a Stonewall's, with the default parameters (see the
/// module documentation for what the veto does).
pub fn is_stonewall_like(shape: &TxShape) -> bool {
    Detector::default().is_stonewall_like(shape)
}
