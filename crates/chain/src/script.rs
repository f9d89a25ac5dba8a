//! Output scripts: their type, and the address key that identifies who can
//! spend them.
//!
//! An [`AddressKey`] is a fixed 34-byte value (kind, aux byte, 32-byte
//! payload) so the index can store it in a fixed-width column. Every
//! spendable script has one; `OP_RETURN` outputs have none. A P2PK output is
//! keyed by the P2PKH address of its public key (as explorers show the
//! genesis coinbase), while keeping [`ScriptType::P2pk`] as its type.

use crate::hash::{hash160, sha256};
use serde::Serialize;

/// The type of an output script, as Bitcoin Core's `Solver` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[repr(u8)]
#[serde(rename_all = "snake_case")]
pub enum ScriptType {
    /// Anything not matched below.
    Nonstandard = 0,
    /// Pay to public key.
    P2pk = 1,
    /// Pay to public key hash.
    P2pkh = 2,
    /// Pay to script hash.
    P2sh = 3,
    /// Pay to witness public key hash (v0, 20 bytes).
    P2wpkh = 4,
    /// Pay to witness script hash (v0, 32 bytes).
    P2wsh = 5,
    /// Pay to taproot (v1, 32 bytes).
    P2tr = 6,
    /// Bare `m`-of-`n` multisig.
    Multisig = 7,
    /// `OP_RETURN` data carrier: unspendable, no address.
    Nulldata = 8,
    /// A witness program of a version or length with no meaning yet.
    WitnessUnknown = 9,
}

impl ScriptType {
    /// Decodes the stored byte.
    pub fn from_u8(b: u8) -> Option<ScriptType> {
        use ScriptType::*;
        Some(match b {
            0 => Nonstandard,
            1 => P2pk,
            2 => P2pkh,
            3 => P2sh,
            4 => P2wpkh,
            5 => P2wsh,
            6 => P2tr,
            7 => Multisig,
            8 => Nulldata,
            9 => WitnessUnknown,
            _ => return None,
        })
    }

    /// Short lower-case name.
    pub fn name(self) -> &'static str {
        use ScriptType::*;
        match self {
            Nonstandard => "nonstandard",
            P2pk => "p2pk",
            P2pkh => "p2pkh",
            P2sh => "p2sh",
            P2wpkh => "p2wpkh",
            P2wsh => "p2wsh",
            P2tr => "p2tr",
            Multisig => "multisig",
            Nulldata => "nulldata",
            WitnessUnknown => "witness_unknown",
        }
    }
}

/// The kind byte of an [`AddressKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddressKind {
    /// 20-byte key hash (P2PKH, and P2PK outputs of that key).
    Pkh,
    /// 20-byte script hash.
    Sh,
    /// 20-byte witness v0 key hash.
    Wpkh,
    /// 32-byte witness v0 script hash.
    Wsh,
    /// 32-byte taproot output key.
    Tr,
    /// Witness program of version 1..=16 that is not taproot.
    WitnessUnknown {
        /// Witness version.
        version: u8,
    },
    /// Bare multisig, keyed by SHA-256 of the script.
    Multisig,
    /// Any other spendable script, keyed by SHA-256 of the script.
    Nonstandard,
}

/// Fixed-size identity of an address: what the index stores per address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddressKey {
    kind: u8,
    aux: u8,
    payload: [u8; 32],
}

impl std::fmt::Debug for AddressKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AddressKey({:?}, {})",
            self.kind(),
            crate::hash::to_hex(self.payload())
        )
    }
}

const K_PKH: u8 = 1;
const K_SH: u8 = 2;
const K_WPKH: u8 = 3;
const K_WSH: u8 = 4;
const K_TR: u8 = 5;
const K_MULTISIG: u8 = 6;
const K_NONSTD: u8 = 7;
const K_WIT_BASE: u8 = 0x10; // + version 1..=16

impl AddressKey {
    /// Bytes in the stored record.
    pub const SIZE: usize = 34;

    fn new(kind: u8, aux: u8, data: &[u8]) -> AddressKey {
        let mut payload = [0u8; 32];
        payload[..data.len()].copy_from_slice(data);
        AddressKey { kind, aux, payload }
    }

    /// P2PKH key of a 20-byte hash.
    pub fn pkh(h: [u8; 20]) -> AddressKey {
        Self::new(K_PKH, 20, &h)
    }

    /// P2SH key of a 20-byte hash.
    pub fn sh(h: [u8; 20]) -> AddressKey {
        Self::new(K_SH, 20, &h)
    }

    /// A witness program of the given version (0..=16) and 2..=40 bytes.
    /// Returns `None` for invalid v0 lengths (such outputs are nonstandard).
    pub fn witness(version: u8, program: &[u8]) -> Option<AddressKey> {
        if !(2..=40).contains(&program.len()) || version > 16 {
            return None;
        }
        Some(match (version, program.len()) {
            (0, 20) => Self::new(K_WPKH, 20, program),
            (0, 32) => Self::new(K_WSH, 32, program),
            (0, _) => return None,
            (1, 32) => Self::new(K_TR, 32, program),
            (v, n) if n <= 32 => Self::new(K_WIT_BASE + v, n as u8, program),
            (v, n) => Self::new(K_WIT_BASE + v, n as u8, &sha256(program)),
        })
    }

    /// The kind of address.
    pub fn kind(&self) -> AddressKind {
        match self.kind {
            K_PKH => AddressKind::Pkh,
            K_SH => AddressKind::Sh,
            K_WPKH => AddressKind::Wpkh,
            K_WSH => AddressKind::Wsh,
            K_TR => AddressKind::Tr,
            K_MULTISIG => AddressKind::Multisig,
            K_NONSTD => AddressKind::Nonstandard,
            k => AddressKind::WitnessUnknown {
                version: k.wrapping_sub(K_WIT_BASE),
            },
        }
    }

    /// The meaningful payload bytes (hash or program; a SHA-256 for
    /// multisig, nonstandard and over-long witness programs).
    pub fn payload(&self) -> &[u8] {
        let n = (self.aux as usize).min(32);
        &self.payload[..n]
    }

    /// Length of the witness program (witness kinds), else of the payload.
    pub fn aux(&self) -> u8 {
        self.aux
    }

    /// The 34-byte stored form.
    pub fn to_bytes(&self) -> [u8; 34] {
        let mut b = [0u8; 34];
        b[0] = self.kind;
        b[1] = self.aux;
        b[2..].copy_from_slice(&self.payload);
        b
    }

    /// The kind byte of the stored forms.
    pub fn kind_byte(&self) -> u8 {
        self.kind
    }

    /// Length of the compact body of a key of kind byte `kind`, when the
    /// kind implies it: 20 bytes for P2PKH, P2SH and P2WPKH, 32 for P2WSH,
    /// P2TR, multisig and nonstandard. `None` for witness programs of other
    /// versions, whose body starts with the program length (see
    /// [`AddressKey::compact`]), and for bytes that are no kind.
    pub fn implied_body_len(kind: u8) -> Option<usize> {
        match kind {
            K_PKH | K_SH | K_WPKH => Some(20),
            K_WSH | K_TR | K_MULTISIG | K_NONSTD => Some(32),
            _ => None,
        }
    }

    /// The compact body of the key (the kind byte is kept apart) and its length:
    /// the payload, preceded by the program length for witness programs of
    /// versions other than 0 and taproot. 20 or 32 bytes for every common
    /// kind, against 34 for [`AddressKey::to_bytes`].
    pub fn compact(&self) -> ([u8; 33], usize) {
        let mut b = [0u8; 33];
        let start = usize::from(Self::implied_body_len(self.kind).is_none());
        b[0] = self.aux;
        let p = self.payload();
        b[start..start + p.len()].copy_from_slice(p);
        (b, start + p.len())
    }

    /// Reads a key from its kind byte and a slice starting with its compact
    /// body; returns the key and the body's length, `None` if the bytes are
    /// no valid key.
    pub fn from_compact(kind: u8, body: &[u8]) -> Option<(AddressKey, usize)> {
        let (aux, start) = match Self::implied_body_len(kind) {
            Some(n) => (n as u8, 0),
            None => (*body.first()?, 1),
        };
        let n = (aux as usize).min(32);
        let data = body.get(start..start + n)?;
        let mut b = [0u8; 34];
        b[0] = kind;
        b[1] = aux;
        b[2..2 + n].copy_from_slice(data);
        Some((Self::from_bytes(&b)?, start + n))
    }

    /// Reads the stored form; `None` if it is not a valid key.
    pub fn from_bytes(b: &[u8; 34]) -> Option<AddressKey> {
        let kind = b[0];
        let valid =
            matches!(kind, K_PKH..=K_NONSTD) || (K_WIT_BASE + 1..=K_WIT_BASE + 16).contains(&kind);
        if !valid || b[1] as usize > 40 {
            return None;
        }
        let mut payload = [0u8; 32];
        payload.copy_from_slice(&b[2..]);
        Some(AddressKey {
            kind,
            aux: b[1],
            payload,
        })
    }

    fn hashed(kind: u8, script: &[u8]) -> AddressKey {
        Self::new(kind, 32, &sha256(script))
    }

    /// Key of a multisig script with this SHA-256.
    pub fn multisig_from_hash(h: [u8; 32]) -> AddressKey {
        Self::new(K_MULTISIG, 32, &h)
    }

    /// Key of a witness program of version 1..=16 and 33..=40 bytes, known
    /// by the SHA-256 of the program.
    pub fn long_witness_from_hash(version: u8, len: u8, h: [u8; 32]) -> Option<AddressKey> {
        ((1..=16).contains(&version) && (33..=40).contains(&len))
            .then(|| Self::new(K_WIT_BASE + version, len, &h))
    }

    /// Key of a nonstandard script with this SHA-256.
    pub fn nonstandard_from_hash(h: [u8; 32]) -> AddressKey {
        Self::new(K_NONSTD, 32, &h)
    }
}

/// Classifies an output script: its type and, if spendable, its address key.
pub fn classify(script: &[u8]) -> (ScriptType, Option<AddressKey>) {
    let n = script.len();
    // P2PKH: DUP HASH160 <20> EQUALVERIFY CHECKSIG
    if n == 25
        && script[0] == 0x76
        && script[1] == 0xa9
        && script[2] == 0x14
        && script[23] == 0x88
        && script[24] == 0xac
    {
        return (
            ScriptType::P2pkh,
            Some(AddressKey::pkh(arr20(&script[3..23]))),
        );
    }
    // P2SH: HASH160 <20> EQUAL
    if n == 23 && script[0] == 0xa9 && script[1] == 0x14 && script[22] == 0x87 {
        return (
            ScriptType::P2sh,
            Some(AddressKey::sh(arr20(&script[2..22]))),
        );
    }
    // Witness program: version opcode then one direct push of 2..=40 bytes.
    if (4..=42).contains(&n)
        && (script[0] == 0 || (0x51..=0x60).contains(&script[0]))
        && script[1] as usize + 2 == n
    {
        let version = if script[0] == 0 { 0 } else { script[0] - 0x50 };
        let program = &script[2..];
        return match AddressKey::witness(version, program) {
            Some(k) => {
                let t = match k.kind() {
                    AddressKind::Wpkh => ScriptType::P2wpkh,
                    AddressKind::Wsh => ScriptType::P2wsh,
                    AddressKind::Tr => ScriptType::P2tr,
                    _ => ScriptType::WitnessUnknown,
                };
                (t, Some(k))
            }
            None => (
                ScriptType::Nonstandard,
                Some(AddressKey::hashed(K_NONSTD, script)),
            ),
        };
    }
    // P2PK: <33 or 65 byte key> CHECKSIG
    if let Some(pk) = p2pk_key(script) {
        return (ScriptType::P2pk, Some(AddressKey::pkh(hash160(pk))));
    }
    if script.first() == Some(&0x6a) {
        return (ScriptType::Nulldata, None);
    }
    if is_multisig(script) {
        return (
            ScriptType::Multisig,
            Some(AddressKey::hashed(K_MULTISIG, script)),
        );
    }
    (
        ScriptType::Nonstandard,
        Some(AddressKey::hashed(K_NONSTD, script)),
    )
}

fn arr20(s: &[u8]) -> [u8; 20] {
    let mut a = [0u8; 20];
    a.copy_from_slice(s);
    a
}

/// Does this public key have a size its first byte allows (Core's `ValidSize`)?
fn pubkey_size_ok(pk: &[u8]) -> bool {
    match pk.first() {
        Some(2) | Some(3) => pk.len() == 33,
        Some(4) | Some(6) | Some(7) => pk.len() == 65,
        _ => false,
    }
}

/// The public key of a P2PK script.
pub fn p2pk_key(script: &[u8]) -> Option<&[u8]> {
    let n = script.len();
    if (n == 35 && script[0] == 33 || n == 67 && script[0] == 65) && script[n - 1] == 0xac {
        let pk = &script[1..n - 1];
        if pubkey_size_ok(pk) {
            return Some(pk);
        }
    }
    None
}

/// The public keys of a bare multisig script, with `m`.
pub fn multisig_keys(script: &[u8]) -> Option<(u8, Vec<&[u8]>)> {
    let n = script.len();
    if n < 3 || script[n - 1] != 0xae {
        return None;
    }
    let m = script[0]
        .checked_sub(0x50)
        .filter(|m| (1..=16).contains(m))?;
    let total = script[n - 2]
        .checked_sub(0x50)
        .filter(|k| (1..=16).contains(k))?;
    let mut keys = Vec::new();
    let mut i = 1;
    while i < n - 2 {
        let len = script[i] as usize;
        if len != 33 && len != 65 {
            return None;
        }
        let key = script.get(i + 1..i + 1 + len)?;
        if !pubkey_size_ok(key) {
            return None;
        }
        keys.push(key);
        i += 1 + len;
    }
    if i != n - 2 || keys.len() != total as usize || m > total {
        return None;
    }
    Some((m, keys))
}

fn is_multisig(script: &[u8]) -> bool {
    multisig_keys(script).is_some()
}
