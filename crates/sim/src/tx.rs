//! Signed transactions and blocks from plans.
//!
//! A [`Plan`] says which coins a transaction spends and which keys it pays;
//! [`sign_all`] turns a block's plans into serialized, signed transactions
//! on all cores: ECDSA with `SIGHASH_ALL` (legacy sighash for P2PKH, BIP143
//! for P2WPKH and P2SH-P2WPKH), Schnorr with `SIGHASH_DEFAULT` (BIP341 key
//! path) for P2TR. Nonces are deterministic (RFC6979; no auxiliary
//! randomness for Schnorr), so equal plans give equal bytes.
//! [`coinbase`] and [`assemble`] make the block around them: BIP34 height,
//! BIP141 witness commitment, regtest proof of work.
//!
//! Must not: choose coins or payees (that is [`crate::economy`]).

use crate::keys::{KeyId, KeyStore, Kind};
use crate::write;
use bitcoin::absolute::LockTime;
use bitcoin::hashes::Hash;
use bitcoin::secp256k1::Message;
use bitcoin::sighash::{EcdsaSighashType, Prevouts, SighashCache, TapSighashType};
use bitcoin::{
    transaction, Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness,
};
use chainhound_chain::hash::sha256d;
use chainhound_chain::parse::merkle_root;

/// An unspent output the simulator can spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coin {
    /// Txid, internal byte order.
    pub txid: [u8; 32],
    /// Output index.
    pub vout: u32,
    /// Value in satoshis.
    pub value: u64,
    /// The key it pays.
    pub key: KeyId,
}

/// A transaction to build: coins spent, (value, key) paid, and the wallet
/// fingerprint fields.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Coins spent, in input order.
    pub ins: Vec<Coin>,
    /// Outputs: value and the key paid.
    pub outs: Vec<(u64, KeyId)>,
    /// nVersion (1 or 2).
    pub version: i32,
    /// nLockTime (a height below the block's, or 0).
    pub lock_time: u32,
    /// nSequence of every input.
    pub sequence: u32,
}

/// A serialized transaction.
#[derive(Debug, Clone)]
pub struct Signed {
    /// Bytes with witness.
    pub raw: Vec<u8>,
    /// Txid, internal byte order.
    pub txid: [u8; 32],
    /// Witness txid, internal byte order.
    pub wtxid: [u8; 32],
    /// Whether it carries a witness.
    pub witness: bool,
}

impl Signed {
    fn of(tx: &Transaction) -> Signed {
        let raw = bitcoin::consensus::serialize(tx);
        let txid = tx.compute_txid().to_byte_array();
        let witness = tx.input.iter().any(|i| !i.witness.is_empty());
        let wtxid = if witness { sha256d(&raw) } else { txid };
        Signed {
            raw,
            txid,
            wtxid,
            witness,
        }
    }
}

/// Estimated virtual size of a transaction spending `ins` and paying
/// `outs` kinds (signatures at their usual 72 bytes).
pub fn vsize(ins: impl IntoIterator<Item = Kind>, outs: impl IntoIterator<Item = Kind>) -> u64 {
    let mut v = 11;
    let mut segwit = false;
    for k in ins {
        v += k.input_vsize();
        segwit |= k.segwit();
    }
    for k in outs {
        v += k.output_vsize();
    }
    v + segwit as u64
}

fn push(script: &mut Vec<u8>, data: &[u8]) {
    debug_assert!(data.len() < 0x4c);
    script.push(data.len() as u8);
    script.extend_from_slice(data);
}

/// Builds and signs one plan. `corrupt`: sign this input over a wrong
/// digest (a test hook: the block must be rejected).
pub fn sign(keys: &KeyStore, plan: &Plan, corrupt: Option<usize>) -> Signed {
    let secp = keys.secp();
    let prevouts: Vec<TxOut> = plan
        .ins
        .iter()
        .map(|c| TxOut {
            value: Amount::from_sat(c.value),
            script_pubkey: ScriptBuf::from_bytes(keys.script(c.key)),
        })
        .collect();
    let mut tx = Transaction {
        version: transaction::Version(plan.version),
        lock_time: LockTime::from_consensus(plan.lock_time),
        input: plan
            .ins
            .iter()
            .map(|c| TxIn {
                previous_output: OutPoint {
                    txid: Txid::from_byte_array(c.txid),
                    vout: c.vout,
                },
                script_sig: ScriptBuf::new(),
                sequence: Sequence(plan.sequence),
                witness: Witness::new(),
            })
            .collect(),
        output: plan
            .outs
            .iter()
            .map(|&(value, key)| TxOut {
                value: Amount::from_sat(value),
                script_pubkey: ScriptBuf::from_bytes(keys.script(key)),
            })
            .collect(),
    };
    let digest = |i: usize, d: [u8; 32]| {
        let mut d = d;
        if corrupt == Some(i) {
            d[0] ^= 1;
        }
        Message::from_digest(d)
    };
    // No sighash here commits to another input's scriptSig or witness, so
    // all are computed over the unsigned transaction.
    let mut sigs: Vec<(ScriptBuf, Witness)> = Vec::with_capacity(plan.ins.len());
    {
        let mut cache = SighashCache::new(&tx);
        for (i, c) in plan.ins.iter().enumerate() {
            let pk = keys.pubkey(c.key);
            let ecdsa = |h: [u8; 32]| {
                let sig = secp.sign_ecdsa(&digest(i, h), &keys.secret_of(c.key));
                let mut der = sig.serialize_der().to_vec();
                der.push(EcdsaSighashType::All as u8);
                der
            };
            match keys.kind(c.key) {
                Kind::P2pkh => {
                    let h = cache
                        .legacy_signature_hash(i, &prevouts[i].script_pubkey, 1)
                        .expect("input index");
                    let mut ss = Vec::with_capacity(108);
                    push(&mut ss, &ecdsa(h.to_byte_array()));
                    push(&mut ss, pk);
                    sigs.push((ScriptBuf::from_bytes(ss), Witness::new()));
                }
                kind @ (Kind::P2wpkh | Kind::P2shP2wpkh) => {
                    let redeem = ScriptBuf::from_bytes(keys.redeem_script(c.key));
                    let h = cache
                        .p2wpkh_signature_hash(
                            i,
                            &redeem,
                            Amount::from_sat(c.value),
                            EcdsaSighashType::All,
                        )
                        .expect("p2wpkh sighash");
                    let mut w = Witness::new();
                    w.push(ecdsa(h.to_byte_array()));
                    w.push(pk);
                    let mut ss = Vec::new();
                    if kind == Kind::P2shP2wpkh {
                        push(&mut ss, redeem.as_bytes());
                    }
                    sigs.push((ScriptBuf::from_bytes(ss), w));
                }
                Kind::P2tr => {
                    let h = cache
                        .taproot_key_spend_signature_hash(
                            i,
                            &Prevouts::All(&prevouts),
                            TapSighashType::Default,
                        )
                        .expect("taproot sighash");
                    let kp = keys.tweaked_keypair(c.key);
                    let sig = secp.sign_schnorr_no_aux_rand(&digest(i, h.to_byte_array()), &kp);
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
    Signed::of(&tx)
}

/// Signs a block's plans on up to `threads` threads, in order. `corrupt`:
/// (plan, input) to sign over a wrong digest.
pub fn sign_all(
    keys: &KeyStore,
    plans: &[Plan],
    corrupt: Option<(usize, usize)>,
    threads: usize,
) -> Vec<Signed> {
    let one = |i: usize, p: &Plan| sign(keys, p, corrupt.filter(|c| c.0 == i).map(|c| c.1));
    let threads = threads.clamp(1, 64);
    let inputs: usize = plans.iter().map(|p| p.ins.len()).sum();
    if threads == 1 || inputs < 4 {
        return plans.iter().enumerate().map(|(i, p)| one(i, p)).collect();
    }
    // Contiguous ranges holding about the same number of inputs.
    let mut bounds = vec![0];
    let per = inputs.div_ceil(threads);
    let mut acc = 0;
    for (i, p) in plans.iter().enumerate() {
        acc += p.ins.len();
        if acc >= per * bounds.len() && bounds.len() < threads {
            bounds.push(i + 1);
        }
    }
    bounds.push(plans.len());
    bounds.dedup();
    std::thread::scope(|s| {
        let handles: Vec<_> = bounds
            .windows(2)
            .map(|w| {
                let (a, b) = (w[0], w[1]);
                let one = &one;
                s.spawn(move || (a..b).map(|i| one(i, &plans[i])).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("signing thread"))
            .collect()
    })
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

/// A coinbase at `height` whose scriptSig is the BIP34 height, an 8-byte
/// extranonce and `tag` (at most 80 bytes), paying `outs` (value, script),
/// with the BIP141 commitment to `txs` if any of them has a witness.
pub fn coinbase(
    height: u32,
    extranonce: u64,
    tag: &[u8],
    outs: &[(u64, Vec<u8>)],
    txs: &[Signed],
) -> Signed {
    let mut script_sig = bip34_height(height);
    push(&mut script_sig, &extranonce.to_le_bytes());
    let tag = &tag[..tag.len().min(80)];
    if !tag.is_empty() {
        if tag.len() < 0x4c {
            push(&mut script_sig, tag);
        } else {
            script_sig.push(0x4c);
            script_sig.push(tag.len() as u8);
            script_sig.extend_from_slice(tag);
        }
    }
    let mut output: Vec<TxOut> = outs
        .iter()
        .map(|(v, s)| TxOut {
            value: Amount::from_sat(*v),
            script_pubkey: ScriptBuf::from_bytes(s.clone()),
        })
        .collect();
    let mut witness = Witness::new();
    if txs.iter().any(|t| t.witness) {
        let mut wtxids = vec![[0u8; 32]];
        wtxids.extend(txs.iter().map(|t| t.wtxid));
        let mut data = merkle_root(wtxids).to_vec();
        data.extend_from_slice(&[0u8; 32]);
        let mut spk = vec![0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];
        spk.extend_from_slice(&sha256d(&data));
        output.push(TxOut {
            value: Amount::ZERO,
            script_pubkey: ScriptBuf::from_bytes(spk),
        });
        witness.push([0u8; 32]);
    }
    let tx = Transaction {
        version: transaction::Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig: ScriptBuf::from_bytes(script_sig),
            sequence: Sequence::MAX,
            witness,
        }],
        output,
    };
    Signed::of(&tx)
}

/// The block on `prev` at `time` holding `coinbase` then `txs`, with its
/// nonce ground to the regtest target. Returns (bytes, hash).
pub fn assemble(
    prev: [u8; 32],
    time: u32,
    coinbase: &Signed,
    txs: &[Signed],
) -> (Vec<u8>, [u8; 32]) {
    let all: Vec<(&[u8], [u8; 32])> = std::iter::once(coinbase)
        .chain(txs)
        .map(|t| (t.raw.as_slice(), t.txid))
        .collect();
    write::block(prev, time, &all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heights() {
        assert_eq!(bip34_height(16), vec![0x60]);
        assert_eq!(bip34_height(17), vec![1, 17]);
        assert_eq!(bip34_height(128), vec![2, 128, 0]);
        assert_eq!(subsidy(149), 5_000_000_000);
        assert_eq!(subsidy(150), 2_500_000_000);
    }
}
