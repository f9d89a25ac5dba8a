//! The toy chain behind `chainhound demo` and the ingest benchmark: regtest
//! blocks in which a population of addresses receives coinbases and pays
//! each other.
//!
//! The chain starts at the real regtest genesis block, so any tool that
//! follows regtest from its genesis (Bitcoin Core's block index aside)
//! accepts it. After it, each block holds a coinbase and, once coinbases
//! have matured (100 blocks), about [`ToyParams::txs_per_block`] payments.
//!
//! The economy, kept cheap so that millions of transactions take seconds:
//!
//! - coins sit in pools and are picked at random with `swap_remove`, so a
//!   payment costs O(1) whatever the number of coins; coinbases wait in a
//!   queue for 100 blocks, other outputs can be spent from the next block;
//! - `users` regular addresses (exchanges, merchants, miners; a few are
//!   much more popular than the rest) are paid again and again, and spend
//!   their coins together (consolidations of up to 20 inputs); every other
//!   output goes to a one-off address, some of which are reused for change;
//! - transactions have 1 to 3 inputs mostly, a payment and a change output
//!   mostly, sometimes a sweep (one output) or a batch (3 to 8 payments);
//! - the four output types rotate by owner (P2PKH, P2SH, P2WPKH, P2TR) and
//!   inputs carry scriptSigs and witnesses of the right shape and size
//!   (dummy signatures: nothing here is signed);
//! - fees are 1 to 20 sat/vB of an estimated size and go to the miner, so
//!   value survives the regtest halvings (every 150 blocks); no output is
//!   below 10,000 sat (smaller change goes to the fee); coins too small to
//!   pay for any spend are given up and stay unspent;
//! - blocks with segwit spends carry an `OP_RETURN` output shaped like a
//!   witness commitment (its hash is a dummy).
//!
//! Everything follows from the seed: the same parameters give the same
//! bytes on every platform. [`ToyChain`] yields blocks one at a time, so a
//! chain of tens of millions of transactions can be written as it is made.

use crate::rng::Rng;
use crate::write::{block, In, TxSpec};
use chainhound_chain::hash::{from_hex, hash160};
use std::collections::VecDeque;

/// The regtest genesis block's previous-block hash (all zero).
pub const REGTEST_GENESIS_PREV: [u8; 32] = [0; 32];

/// The regtest genesis block, serialized (hash
/// `0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206`).
const REGTEST_GENESIS_HEX: &str = concat!(
    "0100000000000000000000000000000000000000000000000000000000000000",
    "000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa",
    "4b1e5e4adae5494dffff7f200200000001010000000100000000000000000000",
    "00000000000000000000000000000000000000000000ffffffff4d04ffff001d",
    "0104455468652054696d65732030332f4a616e2f32303039204368616e63656c",
    "6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f75742066",
    "6f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe554827",
    "1967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4",
    "f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000",
);

/// The serialized regtest genesis block (its coinbase cannot be spent).
pub fn regtest_genesis() -> Vec<u8> {
    from_hex(REGTEST_GENESIS_HEX).expect("valid hex")
}

/// Coinbase maturity in blocks.
const MATURITY: u32 = 100;
/// Smallest output value made (wallets fold smaller change into the fee,
/// so the pools do not fill up with coins too small to spend).
const MIN_OUT: u64 = 10_000;
/// Most inputs of a transaction.
const MAX_INPUTS: usize = 20;
/// Regular users that mine.
const MINERS: usize = 8;

/// What chain to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToyParams {
    /// Seed of everything.
    pub seed: u64,
    /// Blocks after the genesis block, at most.
    pub blocks: u32,
    /// Regular (reused) addresses; every other address is used once or twice.
    pub users: usize,
    /// Payments per block on average once coins have matured (each block
    /// draws between half and one and a half times this many), capped by
    /// the coins there are to spend while the economy starts up.
    pub txs_per_block: u32,
    /// Stop once the chain holds this many transactions, coinbases and the
    /// genesis block's included (the last block is cut short to match).
    pub max_txs: Option<u64>,
}

impl ToyParams {
    /// `blocks` blocks (after genesis) of about `txs_per_block` payments each.
    pub fn new(seed: u64, blocks: u32, users: usize, txs_per_block: u32) -> ToyParams {
        ToyParams {
            seed,
            blocks,
            users,
            txs_per_block,
            max_txs: None,
        }
    }

    /// A chain of exactly `txs` transactions (at least 2), with one regular
    /// user per 100 transactions (at least 64): the shape the benchmark uses.
    pub fn with_txs(seed: u64, txs: u64, txs_per_block: u32) -> ToyParams {
        ToyParams {
            seed,
            blocks: u32::MAX - 1,
            users: (txs / 100).clamp(64, 1 << 24) as usize,
            txs_per_block: txs_per_block.max(1),
            max_txs: Some(txs.max(2)),
        }
    }
}

/// Counts of what a [`ToyChain`] has made so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ToyStats {
    /// Blocks, genesis included.
    pub blocks: u64,
    /// Transactions, coinbases included.
    pub txs: u64,
    /// Inputs, coinbase inputs included.
    pub inputs: u64,
    /// Outputs.
    pub outputs: u64,
    /// Serialized block bytes.
    pub bytes: u64,
    /// Payments dropped because their coins could not pay the fee.
    pub dropped: u64,
    /// Coins of those payments, never to be spent.
    pub abandoned: u64,
    /// Coins left unspent at the end (mature, immature, new and abandoned).
    pub unspent: u64,
}

/// A spendable coin of the toy economy.
#[derive(Debug, Clone)]
struct Coin {
    txid: [u8; 32],
    vout: u32,
    value: u64,
    owner: u64,
}

/// Output script of owner `i` (types rotate: P2PKH, P2SH, P2WPKH, P2TR).
pub fn script_of(owner: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed ^ (owner as u64).wrapping_mul(0x1000_0000_01b3));
    let key: [u8; 32] = rng.bytes();
    let h = hash160(&key);
    match owner % 4 {
        0 => [&[0x76, 0xa9, 0x14][..], &h, &[0x88, 0xac]].concat(),
        1 => [&[0xa9, 0x14][..], &h, &[0x87]].concat(),
        2 => [&[0x00, 0x14][..], &h].concat(),
        _ => [&[0x51, 0x20][..], &key].concat(),
    }
}

fn bip34(height: u32) -> Vec<u8> {
    let mut v = Vec::new();
    let mut n = height;
    while n > 0 {
        v.push(n as u8);
        n >>= 8;
    }
    if v.last().is_some_and(|b| b & 0x80 != 0) {
        v.push(0);
    }
    let mut s = vec![v.len() as u8];
    s.extend(v);
    s
}

/// A dummy DER-shaped signature and compressed public key.
fn sig_and_key(rng: &mut Rng) -> (Vec<u8>, Vec<u8>) {
    let mut sig = rng.bytes::<72>().to_vec();
    sig[0] = 0x30;
    sig[1] = 0x45;
    sig[71] = 0x01; // SIGHASH_ALL
    let mut key = rng.bytes::<33>().to_vec();
    key[0] = 0x02 | (key[0] & 1);
    (sig, key)
}

/// The input spending `coin`, with a scriptSig and witness shaped like the
/// owner's script type needs.
fn input_for(coin: &Coin, rng: &mut Rng) -> In {
    let (script_sig, witness) = match coin.owner % 4 {
        // P2PKH: <sig> <pubkey>
        0 => {
            let (sig, key) = sig_and_key(rng);
            let mut s = Vec::with_capacity(107);
            s.push(sig.len() as u8);
            s.extend_from_slice(&sig);
            s.push(key.len() as u8);
            s.extend_from_slice(&key);
            (s, Vec::new())
        }
        // P2SH-P2WPKH: <0 <20 bytes>> and a P2WPKH witness.
        1 => {
            let (sig, key) = sig_and_key(rng);
            let mut s = vec![22, 0x00, 0x14];
            s.extend_from_slice(&hash160(&key));
            (s, vec![sig, key])
        }
        // P2WPKH
        2 => {
            let (sig, key) = sig_and_key(rng);
            (Vec::new(), vec![sig, key])
        }
        // P2TR key path: one 64-byte Schnorr signature.
        _ => (Vec::new(), vec![rng.bytes::<64>().to_vec()]),
    };
    In {
        txid: coin.txid,
        vout: coin.vout,
        script_sig,
        witness,
    }
}

/// Approximate virtual size of a spend of `coin`'s type.
fn input_vbytes(owner: u64) -> u64 {
    match owner % 4 {
        0 => 148,
        1 => 91,
        2 => 68,
        _ => 58,
    }
}

/// A chain being made, one block per [`Iterator::next`], genesis first.
pub struct ToyChain {
    p: ToyParams,
    rng: Rng,
    height: u32,
    prev: [u8; 32],
    done: bool,
    /// Mature coins of one-off addresses.
    pool: Vec<Coin>,
    /// Mature coins of each regular user.
    user_pools: Vec<Vec<Coin>>,
    /// Users whose pool is not empty, and each user's place in it.
    nonempty: Vec<u32>,
    place: Vec<u32>,
    user_coins: u64,
    /// Coinbases waiting to mature: (height, coin).
    immature: VecDeque<(u32, Coin)>,
    /// Outputs of the current block, spendable from the next one.
    fresh: Vec<Coin>,
    /// Scripts of the regular users.
    scripts: Vec<Vec<u8>>,
    /// Next one-off address.
    next_owner: u64,
    stats: ToyStats,
}

const NOT_LISTED: u32 = u32::MAX;

impl ToyChain {
    /// Starts a chain.
    pub fn new(params: ToyParams) -> ToyChain {
        let mut p = params;
        p.users = p.users.max(1);
        let scripts = (0..p.users).map(|u| script_of(u, p.seed)).collect();
        ToyChain {
            rng: Rng::new(p.seed),
            height: 0,
            prev: REGTEST_GENESIS_PREV,
            done: false,
            pool: Vec::new(),
            user_pools: vec![Vec::new(); p.users],
            nonempty: Vec::new(),
            place: vec![NOT_LISTED; p.users],
            user_coins: 0,
            immature: VecDeque::new(),
            fresh: Vec::new(),
            scripts,
            next_owner: p.users as u64,
            stats: ToyStats::default(),
            p,
        }
    }

    /// What has been made so far.
    pub fn stats(&self) -> ToyStats {
        let mut s = self.stats;
        s.unspent = self.pool.len() as u64
            + s.abandoned
            + self.user_coins
            + self.immature.len() as u64
            + self.fresh.len() as u64;
        s
    }

    fn script(&self, owner: u64) -> Vec<u8> {
        match self.scripts.get(owner as usize) {
            Some(s) => s.clone(),
            None => script_of(owner as usize, self.p.seed),
        }
    }

    fn users(&self) -> u64 {
        self.p.users as u64
    }

    /// Puts a mature coin where it can be picked.
    fn add_coin(&mut self, c: Coin) {
        if c.owner < self.users() {
            let u = c.owner as usize;
            if self.user_pools[u].is_empty() {
                self.place[u] = self.nonempty.len() as u32;
                self.nonempty.push(u as u32);
            }
            self.user_pools[u].push(c);
            self.user_coins += 1;
        } else {
            self.pool.push(c);
        }
    }

    /// Takes a random coin of user `u`.
    fn take_user_coin(&mut self, u: usize) -> Option<Coin> {
        let n = self.user_pools[u].len();
        if n == 0 {
            return None;
        }
        let i = self.rng.below(n as u64) as usize;
        let c = self.user_pools[u].swap_remove(i);
        self.user_coins -= 1;
        if self.user_pools[u].is_empty() {
            let at = self.place[u] as usize;
            self.nonempty.swap_remove(at);
            if let Some(&moved) = self.nonempty.get(at) {
                self.place[moved as usize] = at as u32;
            }
            self.place[u] = NOT_LISTED;
        }
        Some(c)
    }

    fn take_pool_coin(&mut self) -> Option<Coin> {
        if self.pool.is_empty() {
            return None;
        }
        let i = self.rng.below(self.pool.len() as u64) as usize;
        Some(self.pool.swap_remove(i))
    }

    /// A regular user, a few of them much more often than the rest.
    fn popular_user(&mut self) -> u64 {
        let x = self.rng.below(1 << 20);
        (((x * x) >> 20) * self.users()) >> 20
    }

    fn new_owner(&mut self) -> u64 {
        let o = self.next_owner;
        self.next_owner += 1;
        o
    }

    /// Someone who is paid: a regular user half of the time.
    fn payee(&mut self) -> u64 {
        if self.rng.below(2) == 0 {
            self.popular_user()
        } else {
            self.new_owner()
        }
    }

    /// Makes one payment from mature coins; returns (bytes, txid, fee), or
    /// `None` when there is nothing (worth) spending.
    fn payment(&mut self) -> Option<(Vec<u8>, [u8; 32], u64)> {
        let total_coins = self.pool.len() as u64 + self.user_coins;
        if total_coins == 0 {
            return None;
        }
        // Who spends: a regular user (all inputs theirs) or one-off addresses.
        let user = if self.rng.below(total_coins) >= self.pool.len() as u64 {
            let k = self.rng.below(self.nonempty.len() as u64) as usize;
            Some(self.nonempty[k] as usize)
        } else {
            None
        };
        let r = self.rng.below(100);
        let mut want = match r {
            0..=54 => 1,
            55..=79 => 2,
            80..=89 => 3,
            _ => 4 + self.rng.below(17) as usize,
        };
        if let Some(u) = user {
            // Users with many coins consolidate often.
            if self.user_pools[u].len() > MAX_INPUTS && self.rng.below(2) == 0 {
                want = MAX_INPUTS;
            }
        }
        let take = |me: &mut ToyChain| match user {
            Some(u) => me.take_user_coin(u),
            None => me.take_pool_coin(),
        };
        let mut coins: Vec<Coin> = Vec::with_capacity(want);
        while coins.len() < want {
            match take(self) {
                Some(c) => coins.push(c),
                None => break,
            }
        }
        if coins.is_empty() {
            return None;
        }
        // Shape of the outputs: payment and change mostly; consolidations sweep.
        let r = self.rng.below(100);
        let (n_pay, change) = if coins.len() >= 4 && r < 70 {
            (0, true)
        } else {
            match r {
                0..=6 => (1, false),
                7..=14 => (3 + self.rng.below(6) as usize, true),
                _ => (1, true),
            }
        };
        let fee_for = |coins: &[Coin], n_out: usize, feerate: u64| -> u64 {
            let vin: u64 = coins.iter().map(|c| input_vbytes(c.owner)).sum();
            (11 + vin + 34 * n_out as u64) * feerate
        };
        // Outputs that must be made: every payment, or the consolidation's one.
        let must = |n_pay: usize| MIN_OUT * n_pay.max(1) as u64;
        let mut feerate = 1 + self.rng.below(20);
        let mut total: u64 = coins.iter().map(|c| c.value).sum();
        // Too little to pay the fee and every output: add inputs if there are any.
        while total < fee_for(&coins, n_pay + 1, feerate) + must(n_pay) && coins.len() < MAX_INPUTS
        {
            match take(self) {
                Some(c) => {
                    total += c.value;
                    coins.push(c);
                }
                None => break,
            }
        }
        let (n_pay, change) =
            if total < fee_for(&coins, n_pay + change as usize, feerate) + must(n_pay) {
                // Still too little: move it all to one output at the lowest
                // fee, or give the coins up for good (they stay unspent, like
                // the dust of the real UTXO set).
                feerate = 1;
                if total < fee_for(&coins, 1, 1) + MIN_OUT {
                    self.stats.dropped += 1;
                    self.stats.abandoned += coins.len() as u64;
                    return None;
                }
                (0, true)
            } else {
                (n_pay, change)
            };
        let n_out = n_pay + change as usize;
        let fee = fee_for(&coins, n_out, feerate);
        let spender = coins[0].owner;
        let available = total - fee;
        let spare = available - must(n_pay);
        let mut outs: Vec<(u64, u64)> = Vec::with_capacity(n_out); // (value, owner)
        let mut paid = 0;
        for _ in 0..n_pay {
            let v = MIN_OUT + spare / n_pay as u64 * self.rng.below(1001) / 1000;
            paid += v;
            let to = self.payee();
            outs.push((v, to));
        }
        if change {
            let back = if n_pay == 0 {
                // A consolidation: to the user's own address or a new one.
                if user.is_some() && self.rng.below(2) == 0 {
                    spender
                } else {
                    self.new_owner()
                }
            } else if user.is_some() {
                if self.rng.below(5) < 3 {
                    spender
                } else {
                    self.new_owner()
                }
            } else if self.rng.below(5) == 0 {
                spender
            } else {
                self.new_owner()
            };
            let v = available - paid;
            // Change too small to be worth a coin goes to the miner instead.
            if v >= MIN_OUT {
                let at = self.rng.below(outs.len() as u64 + 1) as usize;
                outs.insert(at, (v, back));
            }
        } else if let Some(last) = outs.last_mut() {
            // A sweep: everything to the payee.
            last.0 = available;
        }
        let fee = total - outs.iter().map(|o| o.0).sum::<u64>();
        let spec = TxSpec {
            ins: coins.iter().map(|c| input_for(c, &mut self.rng)).collect(),
            outs: outs.iter().map(|&(v, o)| (v, self.script(o))).collect(),
        };
        let (raw, txid) = spec.serialize();
        self.stats.inputs += coins.len() as u64;
        self.stats.outputs += outs.len() as u64;
        for (vout, (value, owner)) in outs.into_iter().enumerate() {
            self.fresh.push(Coin {
                txid,
                vout: vout as u32,
                value,
                owner,
            });
        }
        Some((raw, txid, fee))
    }

    /// Makes the block at the current height (> 0).
    fn make_block(&mut self) -> Vec<u8> {
        let height = self.height;
        while self
            .immature
            .front()
            .is_some_and(|(h, _)| h + MATURITY <= height)
        {
            let (_, c) = self.immature.pop_front().expect("checked");
            self.add_coin(c);
        }
        let k = self.p.txs_per_block as u64;
        let mut payments = if height > MATURITY && k > 0 {
            k / 2 + self.rng.below(k + 1)
        } else {
            0
        };
        if let Some(m) = self.p.max_txs {
            payments = payments.min(m.saturating_sub(self.stats.txs + 1));
        }
        let mut txs = Vec::with_capacity(payments as usize + 1);
        txs.push((Vec::new(), [0u8; 32])); // the coinbase, made last
        let mut fees = 0u64;
        let mut segwit = false;
        for _ in 0..payments {
            match self.payment() {
                Some((raw, txid, fee)) => {
                    segwit |= raw.get(4) == Some(&0);
                    fees += fee;
                    txs.push((raw, txid));
                }
                None if self.pool.is_empty() && self.user_coins == 0 => break,
                None => {}
            }
        }
        let subsidy = 50_0000_0000u64 >> (height / 150).min(63);
        let miner = self.rng.below(self.users().min(MINERS as u64));
        let mut cb_script = bip34(height);
        cb_script.extend_from_slice(b"/chainhound toy/");
        let mut outs = vec![(subsidy + fees, self.script(miner))];
        if segwit {
            let mut commitment = vec![0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];
            commitment.extend_from_slice(&self.rng.bytes::<32>());
            outs.push((0, commitment));
        }
        let coinbase = TxSpec {
            ins: vec![In {
                txid: [0; 32],
                vout: u32::MAX,
                script_sig: cb_script,
                witness: Vec::new(),
            }],
            outs,
        };
        let (cb_raw, cb_txid) = coinbase.serialize();
        self.stats.inputs += 1;
        self.stats.outputs += coinbase.outs.len() as u64;
        txs[0] = (cb_raw, cb_txid);
        self.immature.push_back((
            height,
            Coin {
                txid: cb_txid,
                vout: 0,
                value: subsidy + fees,
                owner: miner,
            },
        ));
        for c in std::mem::take(&mut self.fresh) {
            self.add_coin(c);
        }
        self.stats.txs += txs.len() as u64;
        let (bytes, hash) = block(
            self.prev,
            1_700_000_000u32.wrapping_add(height.wrapping_mul(600)),
            &txs,
        );
        self.prev = hash;
        bytes
    }
}

impl Iterator for ToyChain {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        if self.done {
            return None;
        }
        let bytes = if self.height == 0 {
            let g = regtest_genesis();
            self.prev = chainhound_chain::Header::hash_of(g[..80].try_into().expect("80 bytes")).0;
            self.stats.txs += 1;
            self.stats.inputs += 1;
            self.stats.outputs += 1;
            g
        } else {
            self.make_block()
        };
        self.stats.blocks += 1;
        self.stats.bytes += bytes.len() as u64;
        self.height += 1;
        if self.height > self.p.blocks || self.p.max_txs.is_some_and(|m| self.stats.txs >= m) {
            self.done = true;
        }
        Some(bytes)
    }
}

/// Generates `n_blocks` blocks (after the genesis block) among `users`
/// regular owners, with one to four payments a block: the small chain of
/// `chainhound demo`. Returns the serialized blocks, genesis first.
pub fn generate(seed: u64, n_blocks: u32, users: usize) -> Vec<Vec<u8>> {
    generate_sized(seed, n_blocks, users, 3)
}

/// Like [`generate`], with about `txs_per_block` payments a block. For
/// chains too large to hold in memory, iterate a [`ToyChain`] instead.
pub fn generate_sized(seed: u64, n_blocks: u32, users: usize, txs_per_block: u32) -> Vec<Vec<u8>> {
    ToyChain::new(ToyParams::new(seed, n_blocks, users, txs_per_block)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chainhound_chain::parse::{is_coinbase_position, Block};
    use std::collections::HashMap;

    #[test]
    fn genesis_is_regtest() {
        let g = regtest_genesis();
        let b = Block::parse(&g).expect("parses");
        assert_eq!(
            b.hash.to_string(),
            "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
        );
    }

    /// Replays the chain: every input spends an existing unspent output,
    /// values are kept (fees to the miner), nothing is zero or dust.
    fn check(blocks: &[Vec<u8>]) -> (u64, u64) {
        let mut utxo: HashMap<([u8; 32], u32), u64> = HashMap::new();
        let mut prev = [0u8; 32];
        let mut txs = 0;
        for (h, bytes) in blocks.iter().enumerate() {
            let b = Block::parse(bytes).expect("block parses");
            assert_eq!(b.header.prev.0, prev, "height {h} links");
            prev = b.hash.0;
            assert_eq!(b.size, bytes.len());
            if h > 0 {
                assert_eq!(b.bip34_height(), Some(h as u32));
            }
            let mut fees = 0;
            let mut cb_value = 0;
            for (ti, tx) in b.txs.iter().enumerate() {
                txs += 1;
                let ins = b.tx_inputs(tx);
                let out_sum: u64 = b.tx_outputs(tx).iter().map(|o| o.value).sum();
                if is_coinbase_position(ti, ins) {
                    cb_value = out_sum;
                } else {
                    let mut in_sum = 0;
                    for i in ins {
                        in_sum += utxo
                            .remove(&(i.prev_txid.0, i.prev_vout))
                            .expect("spends an unspent output");
                    }
                    assert!(in_sum > out_sum, "fee is positive");
                    fees += in_sum - out_sum;
                    for o in b.tx_outputs(tx) {
                        assert!(o.value >= MIN_OUT);
                    }
                }
                if h > 0 {
                    for (v, o) in b.tx_outputs(tx).iter().enumerate() {
                        if o.script_pubkey.first() != Some(&0x6a) {
                            utxo.insert((tx.txid.0, v as u32), o.value);
                        }
                    }
                }
            }
            if h > 0 {
                let subsidy = 50_0000_0000u64 >> (h as u32 / 150).min(63);
                assert_eq!(cb_value, subsidy + fees, "coinbase of {h}");
            }
        }
        (txs, utxo.len() as u64)
    }

    #[test]
    fn demo_chain_is_consistent_and_deterministic() {
        let a = generate(7, 400, 40);
        assert_eq!(a.len(), 401);
        assert_eq!(a, generate(7, 400, 40));
        assert_ne!(a, generate(8, 400, 40));
        let (txs, _) = check(&a);
        assert!(txs > 400 + 300 * 2, "{txs} txs");
    }

    #[test]
    fn sized_chain_has_exact_tx_count() {
        let mut chain = ToyChain::new(ToyParams::with_txs(3, 60_000, 400));
        let blocks: Vec<Vec<u8>> = chain.by_ref().collect();
        let s = chain.stats();
        assert_eq!(s.txs, 60_000);
        assert_eq!(s.blocks, blocks.len() as u64);
        assert_eq!(s.bytes, blocks.iter().map(|b| b.len() as u64).sum::<u64>());
        let (txs, unspent) = check(&blocks);
        assert_eq!(txs, 60_000);
        // OP_RETURN commitments are not coins.
        assert_eq!(unspent, s.unspent);
        // Full blocks once the economy runs.
        let full = blocks
            .iter()
            .filter(|b| Block::parse(b).unwrap().txs.len() > 200)
            .count();
        assert!(full > 100, "{full} full blocks");
        assert!(s.inputs > s.txs && s.outputs > s.inputs, "{s:?}");
    }

    #[test]
    fn values_survive_halvings() {
        // Past 64 halvings the subsidy is zero: fees alone keep coins alive.
        let blocks = generate_sized(5, 10_000, 50, 4);
        let (_, unspent) = check(&blocks);
        assert!(unspent > 100);
        let last = Block::parse(blocks.last().unwrap()).unwrap();
        assert!(last.txs.len() > 1, "still paying at the end");
    }
}
