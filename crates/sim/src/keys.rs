//! Deterministic keys and the four script types the simulator pays to.
//!
//! Key number `i` of a seed is SHA256(seed ‖ i ‖ ctr), so keys need not be
//! stored: a [`KeyStore`] keeps per key only its script [`Kind`] and its
//! public data (the compressed key; for P2TR also the BIP86-tweaked output
//! key), 68 bytes. Keys are handed out at once ([`KeyStore::alloc`]) and
//! their public parts derived later in bulk, on all cores
//! ([`KeyStore::derive_pending`]): the point multiplications are the
//! simulator's main cost after signing.
//!
//! Must not: decide who owns a key (that is [`crate::economy`]).

use bitcoin::hashes::{hash160, sha256, Hash};
use bitcoin::key::{Keypair, TapTweak, XOnlyPublicKey};
use bitcoin::secp256k1::{All, Secp256k1, SecretKey};
use bitcoin::taproot::TapTweakHash;
use chainhound_chain::address;
use chainhound_chain::script::classify;
use chainhound_chain::Network;

/// The script types the simulator pays to and spends from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    /// All four.
    pub const ALL: [Kind; 4] = [Kind::P2pkh, Kind::P2shP2wpkh, Kind::P2wpkh, Kind::P2tr];

    /// Position in [`Kind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Virtual size an input of this kind adds to a transaction (with a
    /// 72-byte DER signature), in vbytes, rounded up.
    pub fn input_vsize(self) -> u64 {
        match self {
            Kind::P2pkh => 148,
            Kind::P2shP2wpkh => 91,
            Kind::P2wpkh => 68,
            Kind::P2tr => 58,
        }
    }

    /// Size of an output of this kind, in bytes.
    pub fn output_vsize(self) -> u64 {
        match self {
            Kind::P2pkh => 34,
            Kind::P2shP2wpkh => 32,
            Kind::P2wpkh => 31,
            Kind::P2tr => 43,
        }
    }

    /// Whether spending it needs a witness.
    pub fn segwit(self) -> bool {
        self != Kind::P2pkh
    }

    /// Lower-case name, as in the ground truth files.
    pub fn name(self) -> &'static str {
        match self {
            Kind::P2pkh => "p2pkh",
            Kind::P2shP2wpkh => "p2sh-p2wpkh",
            Kind::P2wpkh => "p2wpkh",
            Kind::P2tr => "p2tr",
        }
    }
}

/// A key of a [`KeyStore`], by number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub u32);

#[derive(Clone, Copy)]
struct KeyData {
    kind: Kind,
    /// Compressed public key.
    pk: [u8; 33],
    /// BIP86-tweaked x-only output key (P2TR only).
    out: [u8; 32],
}

/// Every key of one simulated chain.
pub struct KeyStore {
    seed: u64,
    secp: Secp256k1<All>,
    keys: Vec<KeyData>,
    /// Keys below this have their public data derived.
    derived: usize,
}

impl KeyStore {
    /// An empty store for `seed`.
    pub fn new(seed: u64) -> KeyStore {
        KeyStore {
            seed,
            secp: Secp256k1::new(),
            keys: Vec::new(),
            derived: 0,
        }
    }

    /// The signing context.
    pub fn secp(&self) -> &Secp256k1<All> {
        &self.secp
    }

    /// Number of keys handed out.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key was handed out.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Hands out the next key, to be paid to as `kind`. Its public data
    /// exists after the next [`KeyStore::derive_pending`].
    pub fn alloc(&mut self, kind: Kind) -> KeyId {
        let id = KeyId(u32::try_from(self.keys.len()).expect("fewer than 2^32 keys"));
        self.keys.push(KeyData {
            kind,
            pk: [0; 33],
            out: [0; 32],
        });
        id
    }

    /// The script kind of a key.
    pub fn kind(&self, k: KeyId) -> Kind {
        self.keys[k.0 as usize].kind
    }

    /// The secret key number `i` of `seed`: SHA256(seed ‖ i ‖ ctr), with
    /// the first `ctr` from 0 that gives a valid key.
    pub fn secret(seed: u64, i: u64) -> SecretKey {
        let mut ctr = 0u32;
        loop {
            let mut data = [0u8; 20];
            data[..8].copy_from_slice(&seed.to_le_bytes());
            data[8..16].copy_from_slice(&i.to_le_bytes());
            data[16..].copy_from_slice(&ctr.to_le_bytes());
            let h = sha256::Hash::hash(&data).to_byte_array();
            if let Ok(sk) = SecretKey::from_slice(&h) {
                return sk;
            }
            ctr += 1;
        }
    }

    /// The secret key of `k`.
    pub fn secret_of(&self, k: KeyId) -> SecretKey {
        Self::secret(self.seed, k.0 as u64)
    }

    /// The compressed public key of `k` (derived).
    pub fn pubkey(&self, k: KeyId) -> &[u8; 33] {
        debug_assert!((k.0 as usize) < self.derived, "key not derived yet");
        &self.keys[k.0 as usize].pk
    }

    /// The BIP86-tweaked key pair of a P2TR key, for signing: the secret
    /// (negated if the internal key's y is odd) plus the tap tweak of the
    /// stored internal key, so one point multiplication instead of two.
    pub fn tweaked_keypair(&self, k: KeyId) -> Keypair {
        let pk = self.pubkey(k);
        let mut sk = self.secret_of(k);
        if pk[0] == 0x03 {
            sk = sk.negate();
        }
        let x = XOnlyPublicKey::from_slice(&pk[1..]).expect("derived key");
        let t = TapTweakHash::from_key_and_tweak(x, None).to_scalar();
        let sk = sk.add_tweak(&t).expect("tweak gives a valid key");
        Keypair::from_secret_key(&self.secp, &sk)
    }

    /// Derives the public data of every key handed out since the last call,
    /// on up to `threads` threads. The result does not depend on `threads`.
    pub fn derive_pending(&mut self, threads: usize) {
        let start = self.derived;
        let pending = &mut self.keys[start..];
        if pending.is_empty() {
            return;
        }
        let (seed, secp) = (self.seed, &self.secp);
        let derive = |first: usize, chunk: &mut [KeyData]| {
            for (j, kd) in chunk.iter_mut().enumerate() {
                let sk = Self::secret(seed, (first + j) as u64);
                if kd.kind == Kind::P2tr {
                    let kp = Keypair::from_secret_key(secp, &sk);
                    kd.pk = kp.public_key().serialize();
                    let (out, _) = kp.public_key().x_only_public_key().0.tap_tweak(secp, None);
                    kd.out = out.serialize();
                } else {
                    kd.pk = sk.public_key(secp).serialize();
                }
            }
        };
        let threads = threads.clamp(1, 64);
        if threads == 1 || pending.len() < 8 {
            derive(start, pending);
        } else {
            let per = pending.len().div_ceil(threads);
            std::thread::scope(|s| {
                for (c, chunk) in pending.chunks_mut(per).enumerate() {
                    let derive = &derive;
                    s.spawn(move || derive(start + c * per, chunk));
                }
            });
        }
        self.derived = self.keys.len();
    }

    /// The P2WPKH program that P2SH-P2WPKH wraps (`0 <20-byte hash>`).
    pub fn redeem_script(&self, k: KeyId) -> Vec<u8> {
        let h = hash160::Hash::hash(self.pubkey(k)).to_byte_array();
        let mut s = vec![0x00, 0x14];
        s.extend_from_slice(&h);
        s
    }

    /// The scriptPubKey paying `k`.
    pub fn script(&self, k: KeyId) -> Vec<u8> {
        let kd = &self.keys[k.0 as usize];
        debug_assert!((k.0 as usize) < self.derived, "key not derived yet");
        let pkh = || hash160::Hash::hash(&kd.pk).to_byte_array();
        match kd.kind {
            Kind::P2pkh => {
                let mut s = vec![0x76, 0xa9, 0x14];
                s.extend_from_slice(&pkh());
                s.extend_from_slice(&[0x88, 0xac]);
                s
            }
            Kind::P2shP2wpkh => {
                let h = hash160::Hash::hash(&self.redeem_script(k)).to_byte_array();
                let mut s = vec![0xa9, 0x14];
                s.extend_from_slice(&h);
                s.push(0x87);
                s
            }
            Kind::P2wpkh => {
                let mut s = vec![0x00, 0x14];
                s.extend_from_slice(&pkh());
                s
            }
            Kind::P2tr => {
                let mut s = vec![0x51, 0x20];
                s.extend_from_slice(&kd.out);
                s
            }
        }
    }

    /// The regtest address of `k`, as chainhound prints it.
    pub fn address(&self, k: KeyId) -> String {
        let (_, key) = classify(&self.script(k));
        address::encode(&key.expect("standard script"), Network::Regtest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_does_not_depend_on_threads() {
        let mut a = KeyStore::new(3);
        let mut b = KeyStore::new(3);
        for i in 0..300 {
            let kind = Kind::ALL[i % 4];
            a.alloc(kind);
            b.alloc(kind);
            if i == 17 {
                a.derive_pending(1);
            }
        }
        a.derive_pending(1);
        b.derive_pending(3);
        for i in 0..300 {
            assert_eq!(a.script(KeyId(i)), b.script(KeyId(i)));
        }
        // Known answers from rust-bitcoin's own constructors.
        let secp = Secp256k1::new();
        let pk = bitcoin::CompressedPublicKey(KeyStore::secret(3, 3).public_key(&secp));
        assert_eq!(
            a.script(KeyId(3)),
            bitcoin::ScriptBuf::new_p2tr(&secp, pk.0.x_only_public_key().0, None).to_bytes()
        );
        let pk1 = bitcoin::CompressedPublicKey(KeyStore::secret(3, 1).public_key(&secp));
        let redeem = bitcoin::ScriptBuf::new_p2wpkh(&pk1.wpubkey_hash());
        assert_eq!(
            a.script(KeyId(1)),
            bitcoin::ScriptBuf::new_p2sh(&redeem.script_hash()).to_bytes()
        );
        assert!(a.address(KeyId(2)).starts_with("bcrt1q"));
        // The shortcut to the tweaked key pair gives rust-bitcoin's.
        for i in [3u32, 7, 11, 15] {
            let kp = Keypair::from_secret_key(&secp, &KeyStore::secret(3, i as u64));
            let want = kp.tap_tweak(&secp, None).to_keypair();
            assert_eq!(
                a.tweaked_keypair(KeyId(i)).secret_bytes(),
                want.secret_bytes()
            );
        }
        assert!(a.address(KeyId(3)).starts_with("bcrt1p"));
    }
}
