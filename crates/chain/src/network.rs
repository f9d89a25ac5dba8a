//! Bitcoin networks, told apart by the four magic bytes that open every
//! record of a `blk*.dat` file, and the address prefixes each one uses.

use serde::Serialize;

/// A Bitcoin network. Testnet3, testnet4 and signet share address formats
/// (`m`/`n`/`2` base58, `tb1` bech32) but have distinct magics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// Bitcoin mainnet, magic `f9beb4d9`.
    Mainnet,
    /// Testnet3, magic `0b110907`.
    Testnet3,
    /// Testnet4 (BIP94), magic `1c163f28`.
    Testnet4,
    /// Default signet, magic `0a03cf40`.
    Signet,
    /// Regtest, magic `fabfb5da`.
    Regtest,
}

impl Network {
    /// Every network, in a fixed order.
    pub const ALL: [Network; 5] = [
        Network::Mainnet,
        Network::Testnet3,
        Network::Testnet4,
        Network::Signet,
        Network::Regtest,
    ];

    /// The four bytes that start every block record of this network on disk.
    pub const fn magic(self) -> [u8; 4] {
        match self {
            Network::Mainnet => [0xf9, 0xbe, 0xb4, 0xd9],
            Network::Testnet3 => [0x0b, 0x11, 0x09, 0x07],
            Network::Testnet4 => [0x1c, 0x16, 0x3f, 0x28],
            Network::Signet => [0x0a, 0x03, 0xcf, 0x40],
            Network::Regtest => [0xfa, 0xbf, 0xb5, 0xda],
        }
    }

    /// The network whose magic this is, if any.
    pub fn from_magic(magic: [u8; 4]) -> Option<Network> {
        Network::ALL.into_iter().find(|n| n.magic() == magic)
    }

    /// Lower-case name as used on the command line and in JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Network::Mainnet => "mainnet",
            Network::Testnet3 => "testnet3",
            Network::Testnet4 => "testnet4",
            Network::Signet => "signet",
            Network::Regtest => "regtest",
        }
    }

    /// Parses a name given by a user (`main`, `testnet`, `test4`... are accepted).
    pub fn from_name(s: &str) -> Option<Network> {
        Some(match s.to_ascii_lowercase().as_str() {
            "mainnet" | "main" | "bitcoin" => Network::Mainnet,
            "testnet3" | "testnet" | "test" => Network::Testnet3,
            "testnet4" | "test4" => Network::Testnet4,
            "signet" => Network::Signet,
            "regtest" => Network::Regtest,
            _ => return None,
        })
    }

    /// Base58 version byte of P2PKH addresses.
    pub const fn p2pkh_prefix(self) -> u8 {
        match self {
            Network::Mainnet => 0x00,
            _ => 0x6f,
        }
    }

    /// Base58 version byte of P2SH addresses.
    pub const fn p2sh_prefix(self) -> u8 {
        match self {
            Network::Mainnet => 0x05,
            _ => 0xc4,
        }
    }

    /// Human-readable part of bech32 / bech32m addresses.
    pub const fn hrp(self) -> &'static str {
        match self {
            Network::Mainnet => "bc",
            Network::Regtest => "bcrt",
            _ => "tb",
        }
    }

    /// The largest proof-of-work target this network allows, as compact bits.
    pub const fn pow_limit_bits(self) -> u32 {
        match self {
            Network::Mainnet | Network::Testnet3 | Network::Testnet4 => 0x1d00_ffff,
            Network::Signet => 0x1e03_77ae,
            Network::Regtest => 0x207f_ffff,
        }
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
