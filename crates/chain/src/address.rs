//! Address strings: [`AddressKey`] to the string a user knows, and back.
//!
//! Standard kinds use base58check (P2PKH, P2SH), bech32 (witness v0) and
//! bech32m (v1+), with the network's prefixes. Scripts without a standard
//! address get a chainhound form that round-trips:
//! `multisig-<sha256 of script>`, `nonstandard-<sha256 of script>`, and, for
//! the (unseen in practice) witness programs longer than 32 bytes,
//! `witness<v>x<len>-<sha256 of program>`.

use crate::hash::{from_hex, to_hex};
use crate::network::Network;
use crate::script::{AddressKey, AddressKind};
use bitcoin::base58;
use bitcoin::bech32::{segwit, Fe32, Hrp};

/// An address string that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// Not an address in any form chainhound knows.
    #[error("not a Bitcoin address: {0:?}")]
    Unrecognised(String),
    /// A valid address of another network.
    #[error("{address} is a {found} address, but the index holds {expected}")]
    WrongNetwork {
        /// The address.
        address: String,
        /// Networks the address is valid on.
        found: &'static str,
        /// The network expected.
        expected: Network,
    },
}

/// The address string of a key on a network.
pub fn encode(key: &AddressKey, network: Network) -> String {
    let p = key.payload();
    match key.kind() {
        AddressKind::Pkh => b58(network.p2pkh_prefix(), p),
        AddressKind::Sh => b58(network.p2sh_prefix(), p),
        AddressKind::Wpkh | AddressKind::Wsh => seg(network, 0, p),
        AddressKind::Tr => seg(network, 1, p),
        AddressKind::WitnessUnknown { version } => {
            if key.aux() as usize <= 32 {
                seg(network, version, p)
            } else {
                format!("witness{version}x{}-{}", key.aux(), to_hex(p))
            }
        }
        AddressKind::Multisig => format!("multisig-{}", to_hex(p)),
        AddressKind::Nonstandard => format!("nonstandard-{}", to_hex(p)),
    }
}

fn b58(prefix: u8, payload: &[u8]) -> String {
    let mut v = Vec::with_capacity(21);
    v.push(prefix);
    v.extend_from_slice(payload);
    base58::encode_check(&v)
}

fn seg(network: Network, version: u8, program: &[u8]) -> String {
    let hrp = Hrp::parse(network.hrp()).expect("network hrps are valid");
    let v = Fe32::try_from(version).expect("witness versions are 0..=16");
    segwit::encode(hrp, v, program)
        .unwrap_or_else(|_| format!("witness{version}-{}", to_hex(program)))
}

/// Parses an address string for `network` into its key.
pub fn decode(s: &str, network: Network) -> Result<AddressKey, AddressError> {
    let s = s.trim();
    let unrec = || AddressError::Unrecognised(s.chars().take(120).collect());
    for (prefix, ctor) in [
        (
            "multisig-",
            AddressKey::multisig_from_hash as fn([u8; 32]) -> AddressKey,
        ),
        ("nonstandard-", AddressKey::nonstandard_from_hash),
    ] {
        if let Some(rest) = s.strip_prefix(prefix) {
            let h = from_hex(rest).filter(|h| h.len() == 32).ok_or_else(unrec)?;
            let mut a = [0u8; 32];
            a.copy_from_slice(&h);
            return Ok(ctor(a));
        }
    }
    // `witness<v>x<len>-<sha256 of program>`: programs over 32 bytes.
    if let Some(rest) = s.strip_prefix("witness") {
        let parsed = rest.split_once('-').and_then(|(vl, hex)| {
            let (v, l) = vl.split_once('x')?;
            let (v, l) = (v.parse::<u8>().ok()?, l.parse::<u8>().ok()?);
            let h = from_hex(hex).filter(|h| h.len() == 32)?;
            let mut a = [0u8; 32];
            a.copy_from_slice(&h);
            AddressKey::long_witness_from_hash(v, l, a)
        });
        return parsed.ok_or_else(unrec);
    }
    if let Ok(data) = base58::decode_check(s) {
        if data.len() != 21 {
            return Err(unrec());
        }
        let mut h = [0u8; 20];
        h.copy_from_slice(&data[1..]);
        let (pkh_main, sh_main) = (
            Network::Mainnet.p2pkh_prefix(),
            Network::Mainnet.p2sh_prefix(),
        );
        let (pkh_test, sh_test) = (
            Network::Testnet3.p2pkh_prefix(),
            Network::Testnet3.p2sh_prefix(),
        );
        let found = match data[0] {
            p if p == pkh_main || p == sh_main => "mainnet",
            p if p == pkh_test || p == sh_test => "testnet/signet/regtest",
            _ => return Err(unrec()),
        };
        return if data[0] == network.p2pkh_prefix() {
            Ok(AddressKey::pkh(h))
        } else if data[0] == network.p2sh_prefix() {
            Ok(AddressKey::sh(h))
        } else {
            Err(AddressError::WrongNetwork {
                address: s.into(),
                found,
                expected: network,
            })
        };
    }
    if let Ok((hrp, version, program)) = segwit::decode(s) {
        if hrp.as_str() != network.hrp() {
            let found = match hrp.as_str() {
                "bc" => "mainnet",
                "tb" => "testnet/signet",
                "bcrt" => "regtest",
                _ => return Err(unrec()),
            };
            return Err(AddressError::WrongNetwork {
                address: s.into(),
                found,
                expected: network,
            });
        }
        return AddressKey::witness(version.to_u8(), &program).ok_or_else(unrec);
    }
    Err(unrec())
}
