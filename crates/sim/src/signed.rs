//! A regtest chain whose transactions carry real signatures, so that Bitcoin
//! Core's own validation (libbitcoinkernel) accepts every block.
//!
//! Keys are derived deterministically from a seed. Coinbases pay, in
//! rotation, P2PKH, P2SH-P2WPKH, P2WPKH and P2TR (BIP86 key path) outputs of
//! known keys; once coins are spendable (coinbases after 100 blocks, other
//! outputs at once, even within the same block), transactions spend one to
//! three of them, mixing script types, and pay fresh outputs of all four
//! types plus change. Signatures: ECDSA with `SIGHASH_ALL` (legacy sighash
//! for P2PKH, BIP143 for P2WPKH and P2SH-P2WPKH), Schnorr with
//! `SIGHASH_DEFAULT` (BIP341 key path) for P2TR. Nonces are deterministic
//! (RFC6979 for ECDSA, no auxiliary randomness for Schnorr), so the same
//! seed gives byte-identical blocks.
//!
//! Blocks carry BIP34 heights, a BIP141 witness commitment whenever they
//! hold a witness transaction, increasing times, and coinbases worth the
//! subsidy plus the fees. They start at height 1 on top of the real regtest
//! genesis block, which is not included.

use crate::rng::Rng;
use crate::write;
use bitcoin::absolute::LockTime;
use bitcoin::hashes::{sha256, Hash};
use bitcoin::key::{CompressedPublicKey, Keypair, TapTweak, TweakedKeypair, TweakedPublicKey};
use bitcoin::secp256k1::{All, Message, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, Prevouts, SighashCache, TapSighashType};
use bitcoin::{
    transaction, Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness,
};
use chainhound_chain::hash::sha256d;
use chainhound_chain::parse::merkle_root;

/// Hash of the regtest genesis block, in display order.
pub const REGTEST_GENESIS_HASH: &str =
    "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";
/// Time of the regtest genesis block.
pub const REGTEST_GENESIS_TIME: u32 = 1_296_688_602;
/// Blocks after which a coinbase output may be spent.
pub const COINBASE_MATURITY: u32 = 100;

/// The script types the chain pays to and spends from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Pay to public key hash (legacy sighash).
    P2pkh,
    /// P2WPKH nested in P2SH (BIP143 sighash).
    P2shP2wpkh,
    /// Native P2WPKH (BIP143 sighash).
    P2wpkh,
    /// Taproot key path with the BIP86 tweak (BIP341 sighash).
    P2tr,
}

impl Kind {
    /// All four, in the coinbase rotation order.
    pub const ALL: [Kind; 4] = [Kind::P2pkh, Kind::P2shP2wpkh, Kind::P2wpkh, Kind::P2tr];
}

/// A key the chain controls, with everything needed to pay to and spend
/// from it.
struct Key {
    sk: SecretKey,
    pk: CompressedPublicKey,
    /// The BIP86-tweaked key pair, for keys paid to as P2TR only.
    tweaked: Option<TweakedKeypair>,
}

/// An unspent output the chain can spend.
#[derive(Clone)]
struct Coin {
    outpoint: OutPoint,
    value: u64,
    kind: Kind,
    key: usize,
}

/// What a built chain holds, for assertions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignedStats {
    /// Blocks built (genesis not counted).
    pub blocks: u64,
    /// Transactions including coinbases.
    pub txs: u64,
    /// Non-coinbase transactions.
    pub spends: u64,
    /// Inputs spent, by [`Kind`] in [`Kind::ALL`] order.
    pub inputs_by_kind: [u64; 4],
    /// Outputs created (coinbase outputs included, commitments excluded),
    /// by [`Kind`] in [`Kind::ALL`] order.
    pub outputs_by_kind: [u64; 4],
    /// Non-coinbase transactions with inputs of more than one kind.
    pub mixed_spends: u64,
    /// Blocks holding a witness transaction (so with a commitment).
    pub witness_blocks: u64,
    /// Total fees paid to miners, in satoshis.
    pub fees: u64,
    /// Height of the block holding the deliberately bad signature, if
    /// [`SignedChain::corrupt_signature`] was used.
    pub corrupted_at: Option<u32>,
}

/// Builds signed regtest blocks one at a time.
pub struct SignedChain {
    secp: Secp256k1<All>,
    seed: u64,
    rng: Rng,
    keys: Vec<Key>,
    /// Spendable coins.
    pool: Vec<Coin>,
    /// Coinbase coins waiting for maturity, with their height.
    immature: std::collections::VecDeque<(u32, Coin)>,
    prev: [u8; 32],
    height: u32,
    time: u32,
    txs_per_block: u32,
    /// Test hook: sign a wrong digest for the first input of this kind at or
    /// after this height.
    corrupt: Option<(Kind, u32)>,
    /// Running totals.
    pub stats: SignedStats,
}

/// Regtest block subsidy at `height` (halving every 150 blocks).
pub fn subsidy(height: u32) -> u64 {
    let halvings = height / 150;
    if halvings >= 64 {
        0
    } else {
        (50 * 100_000_000u64) >> halvings
    }
}

/// The BIP34 height push as Bitcoin Core writes it (`CScript() << height`):
/// `OP_1..OP_16` for 1..16, a minimal script number push otherwise.
pub fn bip34_height(height: u32) -> Vec<u8> {
    if (1..=16).contains(&height) {
        return vec![0x50 + height as u8];
    }
    let mut n = height as u64;
    let mut out = Vec::new();
    while n > 0 {
        out.push((n & 0xff) as u8);
        n >>= 8;
    }
    if out.last().is_some_and(|b| b & 0x80 != 0) {
        out.push(0);
    }
    let mut s = vec![out.len() as u8];
    s.extend_from_slice(&out);
    s
}

fn push(script: &mut Vec<u8>, data: &[u8]) {
    assert!(data.len() < 0x4c);
    script.push(data.len() as u8);
    script.extend_from_slice(data);
}

impl SignedChain {
    /// A chain from `seed` with up to `txs_per_block` non-coinbase
    /// transactions per block (fewer while few coins are spendable).
    pub fn new(seed: u64, txs_per_block: u32) -> SignedChain {
        let mut prev = [0u8; 32];
        let h = REGTEST_GENESIS_HASH.as_bytes();
        for i in 0..32 {
            let byte =
                u8::from_str_radix(std::str::from_utf8(&h[2 * i..2 * i + 2]).unwrap(), 16).unwrap();
            prev[31 - i] = byte;
        }
        SignedChain {
            secp: Secp256k1::new(),
            seed,
            rng: Rng::new(seed),
            keys: Vec::new(),
            pool: Vec::new(),
            immature: Default::default(),
            prev,
            height: 0,
            time: REGTEST_GENESIS_TIME,
            txs_per_block,
            corrupt: None,
            stats: SignedStats::default(),
        }
    }

    /// Test hook: from height `height` on, the first input of `kind` is
    /// signed over a wrong digest, so that block must be rejected.
    pub fn corrupt_signature(&mut self, kind: Kind, height: u32) {
        self.corrupt = Some((kind, height));
    }

    /// The secret key number `i` of `seed`: SHA256(seed || i), retried in
    /// the (astronomically unlikely) case it is not a valid key.
    pub fn secret_key(seed: u64, i: u64) -> SecretKey {
        let mut ctr = 0u32;
        loop {
            let mut data = Vec::with_capacity(20);
            data.extend_from_slice(&seed.to_le_bytes());
            data.extend_from_slice(&i.to_le_bytes());
            data.extend_from_slice(&ctr.to_le_bytes());
            let h = sha256::Hash::hash(&data).to_byte_array();
            if let Ok(sk) = SecretKey::from_slice(&h) {
                return sk;
            }
            ctr += 1;
        }
    }

    /// A fresh key to be paid to as `kind` (only P2TR keys get the tweak,
    /// which costs two more point multiplications).
    fn new_key(&mut self, kind: Kind) -> usize {
        let i = self.keys.len();
        let sk = Self::secret_key(self.seed, i as u64);
        let (pk, tweaked) = if kind == Kind::P2tr {
            let kp = Keypair::from_secret_key(&self.secp, &sk);
            let pk = CompressedPublicKey(kp.public_key());
            (pk, Some(kp.tap_tweak(&self.secp, None)))
        } else {
            (CompressedPublicKey(sk.public_key(&self.secp)), None)
        };
        self.keys.push(Key { sk, pk, tweaked });
        i
    }

    fn redeem_script(&self, key: usize) -> ScriptBuf {
        ScriptBuf::new_p2wpkh(&self.keys[key].pk.wpubkey_hash())
    }

    fn script_pubkey(&self, kind: Kind, key: usize) -> ScriptBuf {
        let k = &self.keys[key];
        match kind {
            Kind::P2pkh => ScriptBuf::new_p2pkh(&k.pk.pubkey_hash()),
            Kind::P2shP2wpkh => ScriptBuf::new_p2sh(&self.redeem_script(key).script_hash()),
            Kind::P2wpkh => ScriptBuf::new_p2wpkh(&k.pk.wpubkey_hash()),
            Kind::P2tr => {
                ScriptBuf::new_p2tr_tweaked(TweakedPublicKey::from(k.tweaked.expect("P2TR key")))
            }
        }
    }

    fn kind_index(kind: Kind) -> usize {
        Kind::ALL.iter().position(|k| *k == kind).unwrap()
    }

    /// Builds and signs one spend of `coins`; returns it and its fee.
    fn spend(&mut self, coins: Vec<Coin>) -> (Transaction, u64) {
        let total: u64 = coins.iter().map(|c| c.value).sum();
        let fee = 1_000 + 400 * coins.len() as u64 + self.rng.below(1_000);
        let mut outs: Vec<(Kind, usize, u64)> = Vec::new();
        let spare = total.saturating_sub(fee);
        // Four fresh outputs of every type, then change, if the coins allow.
        if spare >= 10 * 10_000 {
            for kind in Kind::ALL {
                let share = spare / 12 + self.rng.below(spare / 12);
                let key = self.new_key(kind);
                outs.push((kind, key, share));
            }
        }
        let paid: u64 = outs.iter().map(|o| o.2).sum();
        let change_kind = Kind::ALL[self.rng.below(4) as usize];
        let change_key = self.new_key(change_kind);
        outs.push((change_kind, change_key, total - fee - paid));

        let prevouts: Vec<TxOut> = coins
            .iter()
            .map(|c| TxOut {
                value: Amount::from_sat(c.value),
                script_pubkey: self.script_pubkey(c.kind, c.key),
            })
            .collect();
        let mut tx = Transaction {
            version: transaction::Version::TWO,
            lock_time: LockTime::ZERO,
            input: coins
                .iter()
                .map(|c| TxIn {
                    previous_output: c.outpoint,
                    script_sig: ScriptBuf::new(),
                    sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                    witness: Witness::new(),
                })
                .collect(),
            output: outs
                .iter()
                .map(|&(kind, key, value)| TxOut {
                    value: Amount::from_sat(value),
                    script_pubkey: self.script_pubkey(kind, key),
                })
                .collect(),
        };

        // Sighashes of every input over the unsigned transaction: none of
        // them commits to scriptSigs or witnesses of the inputs.
        let mut sigs: Vec<(ScriptBuf, Witness)> = Vec::with_capacity(coins.len());
        let mut bad = None;
        if let Some((kind, h)) = self.corrupt {
            if self.height >= h {
                bad = coins.iter().position(|c| c.kind == kind);
                if bad.is_some() {
                    self.corrupt = None;
                    self.stats.corrupted_at = Some(self.height);
                }
            }
        }
        let digest = |i: usize, d: [u8; 32]| {
            let mut d = d;
            if bad == Some(i) {
                d[0] ^= 1;
            }
            Message::from_digest(d)
        };
        {
            let mut cache = SighashCache::new(&tx);
            for (i, c) in coins.iter().enumerate() {
                let key = &self.keys[c.key];
                let pk = key.pk.to_bytes();
                match c.kind {
                    Kind::P2pkh => {
                        let h = cache
                            .legacy_signature_hash(i, &prevouts[i].script_pubkey, 1)
                            .expect("input index");
                        let sig = self.secp.sign_ecdsa(&digest(i, h.to_byte_array()), &key.sk);
                        let mut der = sig.serialize_der().to_vec();
                        der.push(EcdsaSighashType::All as u8);
                        let mut ss = Vec::with_capacity(108);
                        push(&mut ss, &der);
                        push(&mut ss, &pk);
                        sigs.push((ScriptBuf::from_bytes(ss), Witness::new()));
                    }
                    Kind::P2wpkh | Kind::P2shP2wpkh => {
                        let redeem = self.redeem_script(c.key);
                        let h = cache
                            .p2wpkh_signature_hash(
                                i,
                                &redeem,
                                Amount::from_sat(c.value),
                                EcdsaSighashType::All,
                            )
                            .expect("p2wpkh sighash");
                        let sig = self.secp.sign_ecdsa(&digest(i, h.to_byte_array()), &key.sk);
                        let mut der = sig.serialize_der().to_vec();
                        der.push(EcdsaSighashType::All as u8);
                        let mut w = Witness::new();
                        w.push(der);
                        w.push(pk);
                        let ss = if c.kind == Kind::P2shP2wpkh {
                            let mut ss = Vec::with_capacity(23);
                            push(&mut ss, redeem.as_bytes());
                            ScriptBuf::from_bytes(ss)
                        } else {
                            ScriptBuf::new()
                        };
                        sigs.push((ss, w));
                    }
                    Kind::P2tr => {
                        let h = cache
                            .taproot_key_spend_signature_hash(
                                i,
                                &Prevouts::All(&prevouts),
                                TapSighashType::Default,
                            )
                            .expect("taproot sighash");
                        let kp = key.tweaked.expect("P2TR key").to_keypair();
                        let sig = self
                            .secp
                            .sign_schnorr_no_aux_rand(&digest(i, h.to_byte_array()), &kp);
                        let mut w = Witness::new();
                        w.push(sig.as_ref());
                        sigs.push((ScriptBuf::new(), w));
                    }
                }
            }
        }
        for (inp, (ss, w)) in tx.input.iter_mut().zip(sigs) {
            inp.script_sig = ss;
            inp.witness = w;
        }

        let kinds: std::collections::HashSet<Kind> = coins.iter().map(|c| c.kind).collect();
        if kinds.len() > 1 {
            self.stats.mixed_spends += 1;
        }
        for c in &coins {
            self.stats.inputs_by_kind[Self::kind_index(c.kind)] += 1;
        }
        let txid = tx.compute_txid();
        for (vout, &(kind, key, value)) in outs.iter().enumerate() {
            self.stats.outputs_by_kind[Self::kind_index(kind)] += 1;
            self.pool.push(Coin {
                outpoint: OutPoint {
                    txid,
                    vout: vout as u32,
                },
                value,
                kind,
                key,
            });
        }
        (tx, fee)
    }

    fn take_coin(&mut self) -> Coin {
        let i = self.rng.below(self.pool.len() as u64) as usize;
        self.pool.swap_remove(i)
    }

    /// Builds the next block; returns its bytes.
    pub fn next_block(&mut self) -> Vec<u8> {
        self.height += 1;
        let height = self.height;
        self.time += 600;
        while let Some((h, _)) = self.immature.front() {
            if h + COINBASE_MATURITY > height {
                break;
            }
            let (_, c) = self.immature.pop_front().unwrap();
            self.pool.push(c);
        }

        let mut txs: Vec<Transaction> = Vec::new();
        let mut fees = 0u64;
        for _ in 0..self.txs_per_block {
            if self.pool.is_empty() {
                break;
            }
            let n = (1 + self.rng.below(3) as usize).min(self.pool.len());
            let mut coins: Vec<Coin> = (0..n).map(|_| self.take_coin()).collect();
            // Too little to pay the fee: add more coins while there are any.
            while coins.iter().map(|c| c.value).sum::<u64>() < 20_000 && !self.pool.is_empty() {
                coins.push(self.take_coin());
            }
            if coins.iter().map(|c| c.value).sum::<u64>() < 20_000 {
                // Not worth spending; put them back and stop for this block.
                self.pool.extend(coins);
                break;
            }
            let (tx, fee) = self.spend(coins);
            fees += fee;
            txs.push(tx);
        }

        let has_witness = txs
            .iter()
            .any(|t| t.input.iter().any(|i| !i.witness.is_empty()));
        let kind = Kind::ALL[(height as usize - 1) % 4];
        let key = self.new_key(kind);
        let value = subsidy(height) + fees;
        let mut script_sig = bip34_height(height);
        script_sig.push(0x00); // OP_0: keeps the scriptSig at least 2 bytes long
        let mut output = vec![TxOut {
            value: Amount::from_sat(value),
            script_pubkey: self.script_pubkey(kind, key),
        }];
        let mut cb_witness = Witness::new();
        if has_witness {
            let mut wtxids = vec![[0u8; 32]];
            wtxids.extend(txs.iter().map(|t| t.compute_wtxid().to_byte_array()));
            let root = merkle_root(wtxids);
            let mut data = root.to_vec();
            data.extend_from_slice(&[0u8; 32]);
            let commitment = sha256d(&data);
            let mut spk = vec![0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];
            spk.extend_from_slice(&commitment);
            output.push(TxOut {
                value: Amount::ZERO,
                script_pubkey: ScriptBuf::from_bytes(spk),
            });
            cb_witness.push([0u8; 32]);
            self.stats.witness_blocks += 1;
        }
        let coinbase = Transaction {
            version: transaction::Version::TWO,
            lock_time: LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::null(),
                script_sig: ScriptBuf::from_bytes(script_sig),
                sequence: Sequence::MAX,
                witness: cb_witness,
            }],
            output,
        };
        let cb_txid: Txid = coinbase.compute_txid();
        self.stats.outputs_by_kind[Self::kind_index(kind)] += 1;
        self.immature.push_back((
            height,
            Coin {
                outpoint: OutPoint {
                    txid: cb_txid,
                    vout: 0,
                },
                value,
                kind,
                key,
            },
        ));

        self.stats.blocks += 1;
        self.stats.txs += 1 + txs.len() as u64;
        self.stats.spends += txs.len() as u64;
        self.stats.fees += fees;

        let serialized: Vec<(Vec<u8>, [u8; 32])> = std::iter::once(&coinbase)
            .chain(txs.iter())
            .map(|t| {
                (
                    bitcoin::consensus::serialize(t),
                    t.compute_txid().to_byte_array(),
                )
            })
            .collect();
        let (bytes, hash) = write::block(self.prev, self.time, &serialized);
        self.prev = hash;
        bytes
    }
}

/// A signed regtest chain of `blocks` blocks from height 1 (genesis not
/// included), with up to `txs_per_block` signed spends per block.
pub fn signed_chain(seed: u64, blocks: u32, txs_per_block: u32) -> Vec<Vec<u8>> {
    signed_chain_with_stats(seed, blocks, txs_per_block).0
}

/// [`signed_chain`], with what the chain holds.
pub fn signed_chain_with_stats(
    seed: u64,
    blocks: u32,
    txs_per_block: u32,
) -> (Vec<Vec<u8>>, SignedStats) {
    let mut chain = SignedChain::new(seed, txs_per_block);
    let out = (0..blocks).map(|_| chain.next_block()).collect();
    (out, chain.stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_typed() {
        let (a, st) = signed_chain_with_stats(7, 110, 5);
        let b = signed_chain(7, 110, 5);
        assert_eq!(a, b);
        assert_eq!(a.len(), 110);
        assert!(st.spends > 0);
        assert_eq!(bip34_height(16), vec![0x60]);
        assert_eq!(bip34_height(17), vec![1, 17]);
        assert_eq!(bip34_height(128), vec![2, 128, 0]);
    }
}
