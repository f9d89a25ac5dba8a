//! Hash newtypes (`Txid`, `BlockHash`) and the two hash functions the wire
//! format needs (double SHA-256 and HASH160). Bitcoin displays these hashes
//! byte-reversed; the newtypes keep internal (wire) order and reverse only
//! when printing or parsing hex.

use bitcoin::hashes::{hash160, sha256, sha256d, Hash, HashEngine};
use std::fmt;
use std::str::FromStr;

macro_rules! hash_newtype {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// The all-zero hash (the "previous block" of a genesis block, the
            /// previous txid of a coinbase input).
            pub const ZERO: $name = $name([0; 32]);

            /// Bytes in internal (wire) order.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Is this the all-zero hash?
            pub fn is_zero(&self) -> bool {
                self.0 == [0; 32]
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for b in self.0.iter().rev() {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl FromStr for $name {
            type Err = HexError;
            /// Parses the usual byte-reversed hex form of 64 characters.
            fn from_str(s: &str) -> Result<Self, HexError> {
                let mut out = decode_hex32(s)?;
                out.reverse();
                Ok($name(out))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}

hash_newtype!(
    Txid,
    "A transaction id: double SHA-256 of the transaction without witness data."
);
hash_newtype!(
    BlockHash,
    "A block hash: double SHA-256 of the 80-byte header."
);

/// A string that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected 64 hex digits, got {0:?}")]
pub struct HexError(pub String);

fn decode_hex32(s: &str) -> Result<[u8; 32], HexError> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return Err(HexError(s.chars().take(80).collect()));
    }
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks_exact(2).enumerate() {
        let hi = hex_val(pair[0]).ok_or_else(|| HexError(s.into()))?;
        let lo = hex_val(pair[1]).ok_or_else(|| HexError(s.into()))?;
        out[i] = hi << 4 | lo;
    }
    Ok(out)
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Lower-case hex of bytes in the order given.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Decodes hex of any even length.
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks_exact(2)
        .map(|p| Some(hex_val(p[0])? << 4 | hex_val(p[1])?))
        .collect()
}

/// Double SHA-256 of several byte slices fed in order.
pub fn sha256d_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut e = sha256d::Hash::engine();
    for p in parts {
        e.input(p);
    }
    sha256d::Hash::from_engine(e).to_byte_array()
}

/// Double SHA-256 of two messages, each given as up to three parts fed in
/// order (a transaction without its witness is three: version, body,
/// lock time). The same as two calls of [`sha256d_parts`], but where the CPU
/// has the x86 SHA extensions both are hashed at once, round by round, in
/// about two thirds of the time (the txids of a block, taken in pairs, and
/// its merkle tree; `hash/ni.rs`).
pub fn sha256d_two(a: [&[u8]; 3], b: [&[u8]; 3]) -> [[u8; 32]; 2] {
    #[cfg(target_arch = "x86_64")]
    if ni::available() {
        // SAFETY: the CPU has the instructions the function is built for.
        return unsafe { ni::sha256d_two(a, b) };
    }
    [sha256d_parts(&a), sha256d_parts(&b)]
}

#[cfg(target_arch = "x86_64")]
mod ni;

/// Double SHA-256.
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    sha256d::Hash::hash(data).to_byte_array()
}

/// Single SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    sha256::Hash::hash(data).to_byte_array()
}

/// RIPEMD-160 of SHA-256, as used for P2PKH and P2WPKH.
pub fn hash160(data: &[u8]) -> [u8; 20] {
    hash160::Hash::hash(data).to_byte_array()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Messages of every length up to 300 bytes (every padding case: the
    /// 0x80 byte and the length in the last block, or spilling into one
    /// more), cut into three parts at varying places, hashed in pairs of
    /// different lengths: the same as hashing each on its own through
    /// `bitcoin_hashes`.
    #[test]
    fn two_at_once_equals_one_at_a_time() {
        // The test means most where the CPU has the SHA extensions (this
        // project's machines do); elsewhere the portable path runs.
        #[cfg(target_arch = "x86_64")]
        if !ni::available() {
            eprintln!("no SHA extensions: the two-at-once path is not exercised");
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let data: Vec<u8> = (0..1024).map(|_| next() as u8).collect();
        let mut cases = 0;
        for len_a in 0..=300usize {
            let len_b = (len_a * 7 + 13) % 301;
            let cut = |len: usize, r: u64| {
                let i = (r as usize) % (len + 1);
                let j = i + (r as usize >> 20) % (len - i + 1);
                (i, j)
            };
            let (sa, sb) = (len_a % 97, 500 + len_b % 113);
            let a = &data[sa..sa + len_a];
            let b = &data[sb..sb + len_b];
            let (i, j) = cut(len_a, next());
            let (k, l) = cut(len_b, next());
            let pa = [&a[..i], &a[i..j], &a[j..]];
            let pb = [&b[..k], &b[k..l], &b[l..]];
            let want = [sha256d(a), sha256d(b)];
            assert_eq!(sha256d_two(pa, pb), want, "lengths {len_a} and {len_b}");
            // The extensions' path itself, not only what dispatches to it.
            #[cfg(target_arch = "x86_64")]
            if ni::available() {
                // SAFETY: the CPU has the instructions.
                assert_eq!(unsafe { ni::sha256d_two(pa, pb) }, want);
            }
            assert_eq!(sha256d_two(pb, pa), [want[1], want[0]]);
            assert_eq!(sha256d_parts(&pa), want[0]);
            cases += 1;
        }
        assert_eq!(cases, 301);
    }
}
