//! Rules on what a reader sees: brands a message impersonates, text
//! disguised from filters, coin amounts dangled in the subject, extortion,
//! and senders whose names a machine made.
//!
//! Owns the brand-name list (the names phishing borrows, with the domains
//! that own them) and these rules. Each rule reads the subject, the
//! display name, the sender's domain or the text, never how a corpus was
//! collected.
//!
//! Must not: parse the message (the caller hands over its parts) or fetch
//! anything.

use crate::evidence::Evidence;
use crate::lookalike;

/// Brand names phishing borrows, as words (lower case), with the labels of
/// the domains that own them: a sender whose registrable domain has one of
/// these labels may use the name. A name with no owner (`elon musk`) is
/// never the sender.
const BRANDS: &[(&str, &[&str])] = &[
    // Crypto exchanges, wallets and the names of their bankruptcies.
    ("binance", &["binance"]),
    ("coinbase", &["coinbase"]),
    ("kraken", &["kraken"]),
    ("metamask", &["metamask", "consensys"]),
    ("ledger", &["ledger"]),
    ("trezor", &["trezor", "satoshilabs"]),
    ("trust wallet", &["trustwallet"]),
    ("trustwallet", &["trustwallet"]),
    ("exodus", &["exodus"]),
    ("blockchain.com", &["blockchain"]),
    ("ripple", &["ripple", "xrpl"]),
    ("opensea", &["opensea"]),
    ("uniswap", &["uniswap"]),
    ("walletconnect", &["walletconnect"]),
    ("phantom wallet", &["phantom"]),
    ("bitfinex", &["bitfinex"]),
    ("bittrex", &["bittrex"]),
    ("ftx", &["ftx"]),
    ("celsius", &["celsius"]),
    ("crypto.com", &["crypto"]),
    ("kucoin", &["kucoin"]),
    ("bybit", &["bybit"]),
    ("upbit", &["upbit"]),
    ("bithumb", &["bithumb"]),
    ("korbit", &["korbit"]),
    ("coinone", &["coinone"]),
    ("electrum", &["electrum"]),
    // Accounts everyone has.
    (
        "microsoft",
        &["microsoft", "office", "outlook", "live", "office365"],
    ),
    (
        "office 365",
        &["microsoft", "office", "outlook", "office365"],
    ),
    (
        "office365",
        &["microsoft", "office", "outlook", "office365"],
    ),
    ("outlook", &["microsoft", "outlook", "office", "live"]),
    ("onedrive", &["microsoft", "onedrive", "live"]),
    ("sharepoint", &["microsoft", "sharepoint"]),
    ("icloud", &["apple", "icloud"]),
    ("apple id", &["apple"]),
    ("netflix", &["netflix"]),
    ("paypal", &["paypal"]),
    ("docusign", &["docusign"]),
    ("dropbox", &["dropbox"]),
    ("wetransfer", &["wetransfer"]),
    ("linkedin", &["linkedin"]),
    ("facebook", &["facebook", "facebookmail", "meta", "fb"]),
    ("instagram", &["instagram", "facebookmail", "meta"]),
    ("whatsapp", &["whatsapp", "facebookmail", "meta"]),
    ("norton", &["norton", "nortonlifelock", "gen"]),
    ("mcafee", &["mcafee"]),
    ("geek squad", &["bestbuy", "geeksquad"]),
    // Parcels.
    ("dhl", &["dhl"]),
    ("fedex", &["fedex"]),
    ("usps", &["usps"]),
    ("correios", &["correios"]),
    // Banks and cards.
    ("bradesco", &["bradesco"]),
    ("itaú", &["itau"]),
    ("itaucard", &["itau"]),
    ("santander", &["santander"]),
    ("caixa", &["caixa"]),
    ("banco do brasil", &["bb"]),
    ("ourocard", &["bb"]),
    ("nubank", &["nubank"]),
    ("wells fargo", &["wellsfargo", "wf"]),
    ("bank of america", &["bankofamerica", "bofa"]),
    ("american express", &["americanexpress", "aexp"]),
    ("sparkasse", &["sparkasse"]),
    // Authorities.
    ("fbi", &["fbi"]),
    ("medicare", &["medicare", "cms"]),
    ("hmrc", &["hmrc"]),
    ("interpol", &["interpol"]),
    ("receita federal", &["receita"]),
    // Names crypto giveaways borrow.
    ("elon musk", &[]),
    ("spacex", &["spacex"]),
];

/// The brand named as a word in `hay` (lower case) that the sender's
/// domain does not own.
fn foreign_brand(hay: &str, sender: Option<&str>) -> Option<&'static str> {
    let labels: Vec<String> = sender
        .and_then(lookalike::registrable)
        .map(|r| r.split('.').map(str::to_string).collect())
        .unwrap_or_default();
    BRANDS.iter().find_map(|(name, owners)| {
        let owned = owners.iter().any(|o| labels.iter().any(|l| l == o));
        (!owned && crate::analyze::contains_word(hay, name)).then_some(*name)
    })
}

/// Characters that print as nothing: inside a subject or a name they only
/// split words so that filters miss them.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2060}'..='\u{2064}'
            | '\u{FEFF}'
    )
}

/// An invisible character between two letters (one at the end of a
/// subject, as some clients leave, splits nothing).
fn hidden_inside_word(s: &str) -> bool {
    let v: Vec<char> = s.chars().take(1000).collect();
    v.windows(3)
        .any(|w| is_invisible(w[1]) && w[0].is_alphabetic() && w[2].is_alphabetic())
}

/// A word of `s` that mixes Latin letters with another script's
/// (`Coܿnfiܿrm`, a Cyrillic `а` in `pаypal`): a disguise, as no language
/// writes so.
fn mixed_word(s: &str) -> Option<&str> {
    s.split(|c: char| c.is_whitespace() || c.is_ascii_punctuation())
        .find(|w| w.chars().any(|c| c.is_ascii_alphabetic()) && lookalike::mixed_script(w))
}

/// A word of `s` that looks like a brand name but is spelled with other
/// characters (`Iedger` with a capital I for the l).
fn brand_homoglyph(s: &str) -> Option<(&str, &'static str)> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 4)
        .find_map(|w| {
            let lower = w.to_lowercase();
            let skel: String = unicode_security::skeleton(w)
                .collect::<String>()
                .to_lowercase();
            BRANDS
                .iter()
                .find(|(name, _)| !name.contains(' ') && skel == *name && lower != *name)
                .map(|(name, _)| (w, *name))
        })
}

/// Coin tickers and names an amount is given in.
const COINS: &[&str] = &[
    "btc", "bitcoin", "eth", "ether", "ethereum", "usdt", "usdc", "xrp", "bnb", "ltc", "doge",
    "trx",
];

/// A coin amount in `s` (lower case): a number right before a coin's name
/// or right after it (`0.7495 btc`, `0.7495_btc`, `btc of 0.556`); `10gb
/// eth` (Ethernet) is no amount.
fn coin_amount(s: &str) -> Option<&'static str> {
    let sep = |c: char| matches!(c, ' ' | '_' | '.' | ':' | '-');
    COINS.iter().copied().find(|coin| {
        s.match_indices(coin).any(|(i, _)| {
            let (before, after) = (&s[..i], &s[i + coin.len()..]);
            let word = before
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
                && after.chars().next().is_none_or(|c| !c.is_alphanumeric());
            let number_before = before
                .trim_end_matches(sep)
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_digit());
            let rest = after.trim_start_matches(sep);
            let rest = rest.strip_prefix("of ").unwrap_or(rest);
            let number_after = rest.chars().next().is_some_and(|c| c.is_ascii_digit());
            word && (number_before || number_after)
        })
    })
}

/// Phrases of sextortion: the sender claims to have filmed or hacked the
/// reader (the first [`EXTORTION_CORE`], one of which must be there) and
/// wants coins.
const EXTORTION: &[&str] = &[
    "recorded you",
    "i recorded",
    "hacked you",
    "hacked your",
    "i hacked",
    "your webcam",
    "your camera",
    "access to your device",
    "adult website",
    "adult site",
    "masturbat",
    "intimate",
    "porn",
    "your contacts",
    "your device",
    "spyware",
    "trojan",
    "malware",
    "to your relatives",
    "your friends and family",
    "bitcoin wallet",
    "btc wallet",
    "48 hours",
    "pay me",
];

/// How many of [`EXTORTION`]'s first phrases are the core claims.
const EXTORTION_CORE: usize = 11;

/// Senders' local parts that no person chose: a long run of consonants
/// (`tncdttrqvdrk`), the mark of generated throwaway accounts.
fn machine_local(local: &str) -> bool {
    if !local.chars().all(|c| c.is_ascii_alphanumeric()) {
        // Dots and dashes: bounce addresses (VERP) that software makes
        // for every list mail.
        return false;
    }
    let mut run = 0;
    let mut best = 0;
    for c in local.chars() {
        if c.is_ascii_alphabetic() && !"aeiouAEIOU".contains(c) {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best >= 6
}

/// A CSS length of `OFFSCREEN_PX` pixels or more in an HTML body: text
/// pushed off the screen, there for filters and not for the reader.
const OFFSCREEN_PX: u64 = 5000;

/// The first off-screen length in `html` (`margin-top: 470500px`).
pub fn offscreen(html: &str) -> Option<u64> {
    let b = html.as_bytes();
    html.match_indices("px").find_map(|(i, _)| {
        let digits = b[..i]
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 || digits > 12 {
            return None;
        }
        let n: u64 = html[i - digits..i].parse().ok()?;
        // A property that moves content (`margin-top:`, `left: -`), not a
        // word in the text or a width.
        let before =
            html[..i - digits].trim_end_matches(|c: char| c == '-' || c.is_ascii_whitespace());
        let prop = before.strip_suffix(':')?.trim_end();
        let start = prop
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_ascii_alphabetic() || c == '-'))
            .map_or(0, |(j, c)| j + c.len_utf8());
        let prop = prop[start..].to_ascii_lowercase();
        let moves = prop.contains("margin")
            || prop.contains("padding")
            || prop == "text-indent"
            || matches!(prop.as_str(), "top" | "left" | "right" | "bottom");
        (n >= OFFSCREEN_PX && moves).then_some(n)
    })
}

/// What the content rules read.
pub struct Seen<'a> {
    /// The subject, as written.
    pub subject: &'a str,
    /// The From display name, as written.
    pub from_name: Option<&'a str>,
    /// The From address.
    pub from_addr: Option<&'a str>,
    /// Its domain, lower case.
    pub sender_domain: Option<&'a str>,
    /// Subject and text, lower case.
    pub hay: &'a str,
    /// The protected brands (an exchange may name coin amounts).
    pub protected: &'a lookalike::Protected,
}

/// Runs the content rules.
pub fn rules(s: &Seen, ev: &mut Vec<Evidence>) {
    let name = s.from_name.unwrap_or("");
    let lname = name.to_lowercase();
    let lsub = s.subject.to_lowercase();

    // Brands borrowed by a sender that does not own them (protected
    // brands are judged by the caller already).
    let judged = ev.iter().any(|e| e.rule == "sender.brand_name_elsewhere");
    if judged {
    } else if let Some(b) = foreign_brand(&lname, s.sender_domain) {
        ev.push(Evidence::new(
            "sender.brand_impersonation",
            4,
            format!(
                "the display name \"{name}\" names {b}, but the mail is from {}",
                s.sender_domain.unwrap_or("an unknown domain")
            ),
        ));
    } else if let Some(b) = foreign_brand(&lsub, s.sender_domain) {
        ev.push(Evidence::new(
            "subject.brand_elsewhere",
            2,
            format!(
                "the subject names {b}, but the mail is from {}",
                s.sender_domain.unwrap_or("an unknown domain")
            ),
        ));
    }
    for (what, text) in [("subject", s.subject), ("display name", name)] {
        if let Some((w, b)) = brand_homoglyph(text) {
            ev.push(Evidence::new(
                "text.brand_homoglyph",
                5,
                format!("the {what} writes \"{w}\", which looks like {b} but is spelled with other characters"),
            ));
            break;
        }
    }

    // Disguised text.
    for (what, text) in [("subject", s.subject), ("display name", name)] {
        if hidden_inside_word(text) {
            ev.push(Evidence::new(
                "text.invisible_chars",
                4,
                format!("the {what} hides invisible characters between its letters"),
            ));
            break;
        }
        if let Some(w) = mixed_word(text) {
            ev.push(Evidence::new(
                "text.mixed_script",
                4,
                format!("the {what} mixes scripts inside the word \"{w}\" (letters that only look Latin)"),
            ));
            break;
        }
    }

    // Coins dangled in the subject.
    let owns_crypto = s
        .sender_domain
        .and_then(lookalike::registrable)
        .is_some_and(|r| s.protected.domains().any(|d| d == r));
    if !owns_crypto {
        if let Some(c) = coin_amount(&lsub) {
            ev.push(Evidence::new(
                "subject.coin_amount",
                3,
                format!("the subject names an amount of {c}, from a sender that is no exchange"),
            ));
        }
    }

    // Extortion.
    let hits: Vec<&str> = EXTORTION
        .iter()
        .copied()
        .filter(|p| s.hay.contains(p))
        .take(3)
        .collect();
    if hits.len() >= 2 && EXTORTION[..EXTORTION_CORE].contains(&hits[0]) {
        ev.push(Evidence::new(
            "lure.extortion",
            5,
            format!(
                "the text threatens like sextortion: \"{}\"",
                hits.join("\", \"")
            ),
        ));
    }

    // Throwaway senders.
    if let Some(local) = s.from_addr.and_then(|a| a.rsplit_once('@')).map(|(l, _)| l) {
        if machine_local(local) {
            ev.push(Evidence::new(
                "sender.machine_made",
                2,
                format!("the sender's mailbox \"{local}\" looks machine-made (no person picks it)"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coin_amounts() {
        for s in [
            "get_it_urgently_0.7495_btc",
            "bitcoin.transaction.0.7495.btc",
            "you sent 0.79 eth via ethereum network",
            "docsign send you pending btc of 0.55615081",
        ] {
            assert!(coin_amount(s).is_some(), "{s}");
        }
        for s in [
            "bitcoin news for 2002",
            "the ethernet card",
            "btc is up",
            "[usrp-users] 10gb eth to x310 via pcie",
        ] {
            assert_eq!(coin_amount(s), None, "{s}");
        }
    }

    #[test]
    fn brands_and_disguises() {
        assert_eq!(
            foreign_brand("microsoft account team", Some("access-accsecurity.com")),
            Some("microsoft")
        );
        assert_eq!(
            foreign_brand("microsoft account team", Some("email.microsoft.com")),
            None
        );
        assert_eq!(foreign_brand("elon musk", Some("x.com")), Some("elon musk"));
        assert_eq!(
            brand_homoglyph("Scan your Iedger now"),
            Some(("Iedger", "ledger"))
        );
        assert_eq!(brand_homoglyph("Your Ledger is fine"), None);
        assert!(mixed_word("Co\u{73f}nfi\u{73f}rm").is_some());
        assert!(mixed_word("p\u{430}ypal login").is_some());
        assert!(mixed_word("plain words, 한국어 text").is_none());
        assert!(machine_local("folkenkingsleytncdttrqvdrk"));
        assert_eq!(
            offscreen("<style>.v { margin-top: 470500px; }</style>"),
            Some(470500)
        );
        assert_eq!(
            offscreen("<td style=\"width: 600px\">costs 9000px</td>"),
            None
        );
        assert_eq!(offscreen("<div style=\"width:9000px\">"), None);
        assert_eq!(offscreen("é:9000px; ü;top:-7000px"), Some(7000));
        assert_eq!(
            offscreen("<p style=\"position:absolute; left: -9999px\">"),
            Some(9999)
        );
        assert!(!machine_local("john.smith"));
    }
}
