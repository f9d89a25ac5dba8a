//! One label: who or what an address (or transaction) belongs to, how risky
//! that is, and where the claim comes from.
//!
//! Owns the vocabulary every format maps into: [`Category`] (the risk
//! categories screening reports), [`Subject`] (an address or a txid on some
//! chain), [`Confidence`] (0-100, GraphSense's levels), and [`Problem`]
//! (one bad or odd record, with file and line).
//!
//! Must not: read files (see [`crate::formats`]) or know the index.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a labelled subject is, as screening weighs it. Risk categories come
/// first; [`Category::is_risk`] tells them from services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// On a sanctions list (OFAC SDN...).
    Sanctions,
    /// Proceeds of a hack or theft.
    StolenFunds,
    /// Terrorism or its financing, extremism.
    Terrorism,
    /// Child sexual abuse material, human trafficking.
    ChildAbuse,
    /// Ransomware and other malware payments.
    Ransomware,
    /// Darknet markets, drugs, weapons.
    Darknet,
    /// Scams: fraud, Ponzi schemes, phishing, sextortion, extortion.
    Scam,
    /// Mixing services and CoinJoin coordinators.
    Mixer,
    /// Gambling services.
    Gambling,
    /// Exchanges, wallets, payment processors: custodial services.
    Exchange,
    /// Miners and mining pools.
    Miner,
    /// Any other known service or organisation.
    Service,
    /// Known, but of no category above.
    Other,
}

impl Category {
    /// Every category, risk categories first.
    pub const ALL: [Category; 13] = [
        Category::Sanctions,
        Category::StolenFunds,
        Category::Terrorism,
        Category::ChildAbuse,
        Category::Ransomware,
        Category::Darknet,
        Category::Scam,
        Category::Mixer,
        Category::Gambling,
        Category::Exchange,
        Category::Miner,
        Category::Service,
        Category::Other,
    ];

    /// Kebab-case name, as in files and output.
    pub fn name(self) -> &'static str {
        match self {
            Category::Sanctions => "sanctions",
            Category::StolenFunds => "stolen-funds",
            Category::Terrorism => "terrorism",
            Category::ChildAbuse => "child-abuse",
            Category::Ransomware => "ransomware",
            Category::Darknet => "darknet",
            Category::Scam => "scam",
            Category::Mixer => "mixer",
            Category::Gambling => "gambling",
            Category::Exchange => "exchange",
            Category::Miner => "miner",
            Category::Service => "service",
            Category::Other => "other",
        }
    }

    /// Whether exposure to it is a risk screening reports.
    pub fn is_risk(self) -> bool {
        !matches!(
            self,
            Category::Exchange | Category::Miner | Category::Service | Category::Other
        )
    }

    /// The category of a GraphSense concept id (`concepts.yaml`), or of a
    /// common synonym; `None` for an unknown word.
    pub fn from_concept(concept: &str) -> Option<Category> {
        let c = concept.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Some(match c.as_str() {
            "sanction" | "sanctions" | "sanctioned" => Category::Sanctions,
            "hacking" | "service_hack" | "account_hack" | "exploit" | "data_breach" | "hack"
            | "theft" | "stolen" | "stolen_funds" => Category::StolenFunds,
            "terrorism" | "terrorism_financing" | "extremism" => Category::Terrorism,
            "child_sexual_abuse" | "sexual_abuse" | "human_trafficking" | "child_abuse" => {
                Category::ChildAbuse
            }
            "ransomware" | "malware" => Category::Ransomware,
            "dark_web" | "market" | "darknet" | "darknet_market" | "drugs" | "weapons" => {
                Category::Darknet
            }
            "scam" | "financial_crime" | "investment_fraud" | "ponzi_scheme" | "pyramid_scheme"
            | "phishing" | "social_engineering" | "extortion" | "sextortion"
            | "payment_card_fraud" | "counterfeit" | "fraud" | "money_laundering" | "violence"
            | "murder" | "torture" => Category::Scam,
            "mixing" | "mixing_service" | "coinjoin" | "mixer" | "tumbler" => Category::Mixer,
            "gambling" => Category::Gambling,
            "exchange" | "wallet_service" | "escrow_wallet" | "hot_wallet" | "cold_wallet"
            | "warm_wallet" | "payment_processor" | "atm" | "defi_custody" => Category::Exchange,
            "miner" | "mining_service" | "mining" | "pool" | "mining_pool" => Category::Miner,
            "organization" | "service" | "donation" | "shop" | "faucet" | "hosting" | "vpn"
            | "nameservice" | "filesharing" | "index" | "messaging_service" | "search_engine"
            | "ico_wallet" | "defi" | "defi_token" | "defi_lending" | "defi_dex"
            | "defi_dex_pair" | "defi_derivatives" | "defi_derivative" | "defi_bridge"
            | "defi_dao" | "defi_staking" => Category::Service,
            "unknown" | "user" | "entity" | "victim" | "perpetrator" | "other" | "gray_usage"
            | "white_usage" | "abuse" | "behaviour" | "concept" | "collectible" | "item" => {
                Category::Other
            }
            _ => return None,
        })
    }

    /// The GraphSense concept id that stands for it on export.
    pub fn concept(self) -> &'static str {
        match self {
            Category::Sanctions => "sanction",
            Category::StolenFunds => "hacking",
            Category::Terrorism => "terrorism",
            Category::ChildAbuse => "child_sexual_abuse",
            Category::Ransomware => "ransomware",
            Category::Darknet => "dark_web",
            Category::Scam => "scam",
            Category::Mixer => "mixing_service",
            Category::Gambling => "gambling",
            Category::Exchange => "exchange",
            Category::Miner => "miner",
            Category::Service => "service",
            Category::Other => "unknown",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Category {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Category::ALL
            .iter()
            .copied()
            .find(|c| c.name() == s.trim().to_ascii_lowercase())
            .or_else(|| Category::from_concept(s))
            .ok_or_else(|| {
                let names: Vec<&str> = Category::ALL.iter().map(|c| c.name()).collect();
                format!("unknown category {s:?} (one of {})", names.join(", "))
            })
    }
}

/// How far a label can be trusted, 0 to 100 (GraphSense's `confidence.csv`
/// levels: `ownership` 100, `authority_data` 60, `web_crawl` 20...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Confidence(pub u8);

impl Confidence {
    /// GraphSense's named levels, with their numbers.
    pub const LEVELS: [(&'static str, u8); 14] = [
        ("override", 100),
        ("ownership", 100),
        ("ledger_immanent", 100),
        ("manual_transaction", 90),
        ("service_api", 70),
        ("forensic_investigation", 70),
        ("authority_data", 60),
        ("trusted_provider", 50),
        ("service_data", 50),
        ("forensic", 50),
        ("untrusted_transaction", 40),
        ("web_crawl", 20),
        ("heuristic", 10),
        ("unknown", 5),
    ];

    /// A named level (`authority_data`) or a number 0-100.
    pub fn parse(s: &str) -> Option<Confidence> {
        let s = s.trim();
        if let Ok(n) = s.parse::<u8>() {
            return (n <= 100).then_some(Confidence(n));
        }
        Confidence::LEVELS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
            .map(|&(_, n)| Confidence(n))
    }

    /// The GraphSense level name for this number (the highest level not
    /// above it; `unknown` below 10).
    pub fn level_name(self) -> &'static str {
        Confidence::LEVELS
            .iter()
            .filter(|(name, n)| *n <= self.0 && *name != "override" && *name != "ledger_immanent")
            .map(|&(name, _)| name)
            .next()
            .unwrap_or("unknown")
    }
}

/// The chain of a subject, as an upper-case ticker; `XBT` (OFAC's name) is
/// `BTC`. `None` for an empty string.
pub fn normalize_chain(s: &str) -> Option<String> {
    let t = s.trim().to_ascii_uppercase();
    match t.as_str() {
        "" => None,
        "XBT" | "BITCOIN" => Some("BTC".into()),
        "ETHEREUM" => Some("ETH".into()),
        _ => Some(t),
    }
}

/// What a label is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Subject {
    /// An address string as the chain writes it. Bech32 and hex (`0x`)
    /// addresses are stored lower-case; base58 ones as they are.
    Address(String),
    /// A transaction, 64 hex digits in display order, lower-case.
    Tx(String),
}

impl Subject {
    /// An address, normalised (bech32 and `0x` hex lower-cased, spaces
    /// trimmed).
    pub fn address(s: &str) -> Subject {
        let s = s.trim();
        let lower = s.to_ascii_lowercase();
        let bech32 = ["bc1", "tb1", "bcrt1", "ltc1", "bitcoincash:"]
            .iter()
            .any(|p| lower.starts_with(p));
        if bech32 || lower.starts_with("0x") {
            Subject::Address(lower)
        } else {
            Subject::Address(s.to_string())
        }
    }

    /// A txid: 64 hex digits (a `0x` prefix is dropped), lower-cased; `None`
    /// when it is not one.
    pub fn tx(s: &str) -> Option<Subject> {
        let s = s.trim();
        let s = s.strip_prefix("0x").unwrap_or(s);
        (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Subject::Tx(s.to_ascii_lowercase()))
    }

    /// The address or txid string.
    pub fn id(&self) -> &str {
        match self {
            Subject::Address(s) | Subject::Tx(s) => s,
        }
    }
}

/// One attribution: `subject` on `chain` belongs to `entity`, which is of
/// `category`; said by `source` on `date`, with `confidence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// Upper-case ticker (`BTC`, `ETH`, `TRX`...), see [`normalize_chain`].
    pub chain: String,
    /// The address or transaction.
    pub subject: Subject,
    /// Who it belongs to or what it is ("Lazarus Group", "Binance",
    /// "Bitfinex hack 2016").
    pub entity: String,
    /// Its category.
    pub category: Category,
    /// Raw concept words of the source, comma-separated (`sanction,hacking`;
    /// OFAC programs `DPRK3, CYBER2`), for the record.
    pub tags: String,
    /// Where the claim comes from: a list's name and id (`OFAC SDN uid
    /// 12345`) or a URL.
    pub source: String,
    /// When the source said it, `YYYY-MM-DD` when known.
    pub date: Option<String>,
    /// How far to trust it.
    pub confidence: Confidence,
    /// The file and line it was imported from (`sdn_comments.csv:17`).
    pub origin: String,
}

/// One record a format could not take (invalid) or took with a remark
/// (quirk): the line it is on and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// File name as given.
    pub file: String,
    /// 1-based line (or record number where lines do not apply).
    pub line: u64,
    /// Plain words.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

/// What reading one file gave: the labels, the records it could not take,
/// and remarks on records it took anyway (a Tron address listed as XBT, one
/// address under several assets...).
#[derive(Debug, Default, Clone)]
pub struct Parsed {
    /// Every valid label, in file order.
    pub labels: Vec<Label>,
    /// Records skipped as invalid; an import fails on the first unless
    /// `--skip-invalid`.
    pub invalid: Vec<Problem>,
    /// Remarks, never fatal.
    pub quirks: Vec<Problem>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concepts_map_to_categories() {
        assert_eq!(
            Category::from_concept("sanction"),
            Some(Category::Sanctions)
        );
        assert_eq!(
            Category::from_concept("service_hack"),
            Some(Category::StolenFunds)
        );
        assert_eq!(
            Category::from_concept("mixing_service"),
            Some(Category::Mixer)
        );
        assert_eq!(Category::from_concept("no_such_concept"), None);
        for c in Category::ALL {
            assert_eq!(c.name().parse::<Category>().unwrap(), c);
            assert_eq!(Category::from_concept(c.concept()), Some(c), "{c}");
        }
    }

    #[test]
    fn confidence_levels() {
        assert_eq!(Confidence::parse("authority_data"), Some(Confidence(60)));
        assert_eq!(Confidence::parse("75"), Some(Confidence(75)));
        assert_eq!(Confidence::parse("101"), None);
        assert_eq!(Confidence(60).level_name(), "authority_data");
        assert_eq!(Confidence(65).level_name(), "authority_data");
        assert_eq!(Confidence(3).level_name(), "unknown");
    }

    #[test]
    fn subjects_normalise() {
        assert_eq!(
            Subject::address(" BC1QXY "),
            Subject::Address("bc1qxy".into())
        );
        assert_eq!(Subject::address("1AbC"), Subject::Address("1AbC".into()));
        assert!(Subject::tx("abc").is_none());
        assert_eq!(normalize_chain("xbt").as_deref(), Some("BTC"));
    }
}
