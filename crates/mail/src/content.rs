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

/// Brand names phishing borrows, as words (lower case): whether the name
/// is also an ordinary word (then only a look-alike spelling of it counts,
/// `Iedger`), and who owns it. An owner with a dot is a registrable domain
/// (`docusign.net`); one without is a label that brands use under many
/// country suffixes (`dhl`: `dhl.de`, `dhl.co.uk`), matched against the
/// first label of the sender's registrable domain. A name with no owner
/// (`elon musk`) is never the sender.
const BRANDS: &[(&str, bool, &[&str])] = &[
    // Crypto exchanges, wallets and the names of their bankruptcies.
    ("binance", false, &["binance.com", "binance.us"]),
    ("coinbase", false, &["coinbase.com"]),
    ("kraken", true, &["kraken.com"]),
    (
        "metamask",
        false,
        &["metamask.io", "consensys.io", "consensys.net"],
    ),
    ("ledger", true, &["ledger.com"]),
    ("trezor", false, &["trezor.io", "satoshilabs.com"]),
    ("trust wallet", false, &["trustwallet.com"]),
    ("trustwallet", false, &["trustwallet.com"]),
    ("exodus", true, &["exodus.com"]),
    ("blockchain.com", false, &["blockchain.com"]),
    ("ripple", true, &["ripple.com", "xrpl.org"]),
    ("opensea", false, &["opensea.io"]),
    ("uniswap", false, &["uniswap.org"]),
    ("walletconnect", false, &["walletconnect.com"]),
    ("phantom wallet", false, &["phantom.app"]),
    ("bitfinex", false, &["bitfinex.com"]),
    ("bittrex", false, &["bittrex.com"]),
    ("ftx", false, &["ftx.com"]),
    ("celsius", true, &["celsius.network"]),
    ("crypto.com", false, &["crypto.com"]),
    ("kucoin", false, &["kucoin.com"]),
    ("bybit", false, &["bybit.com"]),
    ("upbit", false, &["upbit.com"]),
    ("bithumb", false, &["bithumb.com"]),
    ("korbit", false, &["korbit.co.kr"]),
    ("coinone", false, &["coinone.co.kr"]),
    ("electrum", true, &["electrum.org"]),
    // Accounts everyone has.
    (
        "microsoft",
        false,
        &[
            "microsoft.com",
            "office.com",
            "outlook.com",
            "live.com",
            "office365.com",
            "microsoftonline.com",
            "microsoft365.com",
            "sharepoint.com",
        ],
    ),
    (
        "office 365",
        false,
        &["microsoft.com", "office.com", "office365.com"],
    ),
    (
        "office365",
        false,
        &["microsoft.com", "office.com", "office365.com"],
    ),
    (
        "outlook",
        true,
        &["microsoft.com", "outlook.com", "live.com"],
    ),
    (
        "onedrive",
        false,
        &["microsoft.com", "onedrive.com", "live.com"],
    ),
    ("sharepoint", false, &["microsoft.com", "sharepoint.com"]),
    ("icloud", false, &["apple.com", "icloud.com"]),
    ("apple id", false, &["apple.com"]),
    ("netflix", false, &["netflix.com"]),
    (
        "paypal",
        false,
        &[
            "paypal.com",
            "paypal.me",
            "paypal.co.uk",
            "paypal.de",
            "paypal.fr",
            "paypal.it",
            "paypal.es",
            "paypal.com.br",
            "paypal.com.au",
        ],
    ),
    ("docusign", false, &["docusign.com", "docusign.net"]),
    ("dropbox", false, &["dropbox.com", "dropboxmail.com"]),
    ("wetransfer", false, &["wetransfer.com"]),
    ("linkedin", false, &["linkedin.com"]),
    (
        "facebook",
        false,
        &["facebook.com", "facebookmail.com", "meta.com", "fb.com"],
    ),
    (
        "instagram",
        false,
        &["instagram.com", "facebookmail.com", "meta.com"],
    ),
    (
        "whatsapp",
        false,
        &["whatsapp.com", "facebookmail.com", "meta.com"],
    ),
    ("norton", true, &["norton.com", "nortonlifelock.com"]),
    ("mcafee", false, &["mcafee.com"]),
    ("geek squad", false, &["bestbuy.com", "geeksquad.com"]),
    ("google", false, &["google", "youtube.com"]),
    ("apple", true, &["apple.com", "icloud.com"]),
    (
        "amazon",
        false,
        &["amazon", "amazonses.com", "amazonaws.com"],
    ),
    ("ebay", false, &["ebay"]),
    (
        "adobe",
        false,
        &["adobe.com", "adobesign.com", "echosign.com"],
    ),
    ("zoom", true, &["zoom.us"]),
    ("steam", true, &["steampowered.com", "steamcommunity.com"]),
    // Parcels.
    ("dhl", false, &["dhl"]),
    ("fedex", false, &["fedex"]),
    ("usps", false, &["usps.com"]),
    ("correios", false, &["correios.com.br"]),
    // Banks and cards.
    ("bradesco", false, &["bradesco"]),
    ("itaú", false, &["itau"]),
    ("itaucard", false, &["itau", "itaucard"]),
    ("santander", false, &["santander"]),
    ("caixa", true, &["caixa.gov.br"]),
    ("banco do brasil", false, &["bb.com.br"]),
    ("ourocard", false, &["bb.com.br"]),
    ("nubank", false, &["nubank.com.br"]),
    ("wells fargo", false, &["wellsfargo.com"]),
    ("bank of america", false, &["bankofamerica.com", "bofa.com"]),
    (
        "american express",
        false,
        &["americanexpress.com", "aexp.com"],
    ),
    ("sparkasse", false, &["sparkasse", "sparkasse-"]),
    // Authorities.
    ("fbi", false, &["fbi.gov"]),
    ("irs", false, &["irs.gov"]),
    ("medicare", false, &["medicare.gov", "cms.gov"]),
    ("hmrc", false, &["hmrc.gov.uk"]),
    ("interpol", false, &["interpol.int"]),
    ("receita federal", false, &["fazenda.gov.br"]),
    // Names crypto giveaways borrow.
    ("elon musk", false, &[]),
    ("spacex", false, &["spacex.com"]),
];

/// Whether the sender's registrable domain `reg` is one of `owners`: an
/// owner with a dot is the registrable domain, one without its first
/// label under any suffix, one ending with `-` a prefix of that label
/// (`sparkasse-`: every savings bank has its own `sparkasse-<town>.de`). A
/// free mail provider owns no brand's name, even its own company's:
/// anyone can write as "Microsoft Support" from an outlook.com mailbox.
fn owned_by(reg: &str, owners: &[&str]) -> bool {
    if crate::analyze::is_freemail(reg) {
        return false;
    }
    let first = reg.split('.').next().unwrap_or("");
    owners.iter().any(|o| {
        if o.contains('.') {
            reg == *o
        } else if o.ends_with('-') {
            first.starts_with(o)
        } else {
            first == *o
        }
    })
}

/// The brand named as a word in `hay` (lower case) that the sender's
/// domain does not own (nor any protected brand's domain).
fn foreign_brand(hay: &str, reg: &str, protected: &lookalike::Protected) -> Option<&'static str> {
    if !reg.is_empty() && protected.owns(reg) {
        return None;
    }
    BRANDS.iter().find_map(|(name, common, owners)| {
        (!common && !owned_by(reg, owners) && crate::analyze::contains_word(hay, name))
            .then_some(*name)
    })
}

/// The brand the last copyright line in `hay` (lower case: a message's
/// footer comes last) names as its holder: right after `©`, `copyright`
/// or `(c)`, past years and dashes (`© 2013 - 2023 ripple`, `copyright ©
/// 2023 coinbase, inc.`), and ending there: then the text ends, or a
/// comma, a full stop, a company form or "all rights" follows (`© 2024
/// ledger insights`, a newsletter, is not ledger's).
fn copyright_holder(hay: &str) -> Option<(&'static str, bool, &'static [&'static str])> {
    const MARKS: [&str; 3] = ["©", "copyright", "(c)"];
    const ENDS: &[&str] = &[
        "inc",
        "ltd",
        "llc",
        "sas",
        "sa",
        "ag",
        "gmbh",
        "corp",
        "group",
        "holdings",
        "limited",
        "all rights",
    ];
    let (at, len) = MARKS
        .iter()
        .filter_map(|m| hay.rfind(m).map(|p| (p, m.len())))
        .max()?;
    // Past the marks, years and dashes that may stand between.
    let mut rest = &hay[at + len..];
    loop {
        let t = rest.trim_start_matches(|c: char| {
            c.is_whitespace() || c.is_ascii_digit() || matches!(c, '-' | '–' | '—')
        });
        match MARKS.iter().find(|m| t.starts_with(*m)) {
            Some(m) => rest = &t[m.len()..],
            None => {
                rest = t;
                break;
            }
        }
    }
    BRANDS.iter().copied().find(|(name, _, _)| {
        let Some(after) = rest.strip_prefix(name) else {
            return false;
        };
        let next = after.trim_start();
        // A full stop ends it, not a domain's (`coinbase.org` is another's).
        let stop = after
            .strip_prefix('.')
            .is_some_and(|r| !r.starts_with(char::is_alphanumeric));
        next.is_empty()
            || after.starts_with(',')
            || stop
            || (after.len() > next.len()
                && ENDS.iter().any(|e| {
                    next.strip_prefix(e)
                        .is_some_and(|r| !r.starts_with(char::is_alphanumeric))
                }))
    })
}

/// Words a brand's own mail puts around its name in a display name
/// ("Coinbase Support", "LEDGER Security Team", "The Kraken Team").
const ROLE_WORDS: &[&str] = &[
    "the",
    "support",
    "security",
    "team",
    "service",
    "services",
    "customer",
    "care",
    "help",
    "helpdesk",
    "desk",
    "official",
    "notification",
    "notifications",
    "alert",
    "alerts",
    "account",
    "accounts",
    "billing",
    "wallet",
    "info",
    "center",
    "centre",
    "no-reply",
    "noreply",
    "online",
    "inc",
    "ltd",
    "llc",
];

/// The brand a display name is, whole: lower case, letters spaced apart
/// joined (`C o i n b a s e`), role words around it dropped (`Coinbase
/// Support`). Unlike [`foreign_brand`], brands that are also words count
/// here (`LEDGER`, `Kraken Team`): a display name that is only the word
/// names the brand. Its owners are checked by the caller.
fn brand_as_name(name: &str) -> Option<(&'static str, bool, &'static [&'static str])> {
    let lower = name.to_lowercase();
    let mut words: Vec<String> = Vec::new();
    let mut spaced = String::new();
    for w in lower
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ':' | '|' | '-' | '(' | ')' | '"'))
        .filter(|w| !w.is_empty())
        .take(12)
    {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric());
        if w.chars().count() == 1 && w.chars().all(char::is_alphabetic) {
            spaced.push_str(w);
            continue;
        }
        if spaced.len() >= 3 {
            words.push(std::mem::take(&mut spaced));
        }
        spaced.clear();
        if !w.is_empty() {
            words.push(w.to_string());
        }
    }
    if spaced.len() >= 3 {
        words.push(spaced);
    }
    let is_role = |w: &String| ROLE_WORDS.contains(&w.as_str());
    let start = words.iter().position(|w| !is_role(w))?;
    let end = words.iter().rposition(|w| !is_role(w))? + 1;
    // The name, or the name with the role word after it that the brand
    // names itself with ("trust wallet").
    (end..=(end + 1).min(words.len())).find_map(|b| {
        let claim = &words[start..b];
        BRANDS
            .iter()
            .find(|(n, _, owners)| {
                !owners.is_empty() && n.split(' ').eq(claim.iter().map(String::as_str))
            })
            .map(|(n, common, owners)| (*n, *common, *owners))
    })
}

/// Pay by the week, day or hour (`$800/week`, `€300 per day`): what
/// job scams ("mules", "personal assistants") promise.
fn pay_rate(hay: &str) -> Option<&str> {
    const UNITS: &[&str] = &[
        "/week", "/wk", "/day", "/hour", "/hr", "per week", "per day", "per hour", "a week",
        "a day", "an hour", "weekly", "daily", "hourly",
    ];
    hay.match_indices(['$', '€', '£'])
        .take(200)
        .find_map(|(i, sign)| {
            let after = &hay[i + sign.len()..];
            let number = after
                .bytes()
                .take_while(|c| c.is_ascii_digit() || matches!(c, b',' | b'.'))
                .count();
            // The number ends with a digit: `$5, a week later` is no rate.
            let digits = after[..number].trim_end_matches([',', '.']).len();
            if digits == 0 {
                return None;
            }
            let rest = after[digits..].trim_start_matches(' ');
            let rest = ["usd", "eur", "gbp"]
                .iter()
                .find_map(|c| rest.strip_prefix(c))
                .unwrap_or(rest)
                .trim_start_matches(' ');
            let unit = UNITS.iter().find(|u| rest.starts_with(**u))?;
            Some(&hay[i..hay.len() - rest.len() + unit.len()])
        })
}

/// Work that needs no place or hours: with [`pay_rate`], a job scam.
const REMOTE_WORK: &[&str] = &[
    "part-time",
    "part time",
    "home-based",
    "home based",
    "work from home",
    "flexible hours",
    "flexible schedule",
    "재택",
];

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
    // Between Latin letters: Persian and Arabic spell with ZWNJ.
    v.windows(3)
        .any(|w| is_invisible(w[1]) && w[0].is_ascii_alphabetic() && w[2].is_ascii_alphabetic())
}

/// The first word of `s` that mixes Latin letters with another script's
/// (`Coܿnfiܿrm`, a Cyrillic `а` in `pаypal`): a disguise, as no language
/// writes so; and how many words of `s` do (of its first 200).
fn mixed_words(s: &str) -> (Option<&str>, usize) {
    let mut words = s
        .split(|c: char| c.is_whitespace() || c.is_ascii_punctuation())
        .take(200)
        .filter(|w| {
            // A letter of another script between two Latin letters: `0.2μm`
            // and `TNFα` are units and names, `pаypal` is a disguise.
            let v: Vec<char> = w.chars().take(64).collect();
            v.windows(3).any(|x| {
                x[0].is_ascii_alphabetic()
                    && x[2].is_ascii_alphabetic()
                    && !x[1].is_ascii()
                    && lookalike::mixed_script(&x.iter().collect::<String>())
            })
        });
    let first = words.next();
    (first, first.map_or(0, |_| 1 + words.count()))
}

#[cfg(test)]
fn mixed_word(s: &str) -> Option<&str> {
    mixed_words(s).0
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
                .find(|(name, _, _)| !name.contains(' ') && skel == *name && lower != *name)
                .map(|(name, _, _)| (w, *name))
        })
}

/// Coin tickers and names an amount is given in.
const COINS: &[&str] = &[
    "btc", "bitcoin", "eth", "ether", "ethereum", "usdt", "usdc", "xrp", "bnb", "ltc", "doge",
    "trx",
];

/// A coin amount in `s` (lower case): a number with a fraction right
/// before a coin's name, or right after a ticker (`0.7495 btc`,
/// `0.7495_btc`, `btc of 0.556`). Whole numbers are years, versions and
/// prices (`bitcoin 2026`, `10gb eth`, `trx: 20% off`): no amount.
fn coin_amount(s: &str) -> Option<&'static str> {
    let sep = |c: char| matches!(c, ' ' | '_' | '.' | ':' | '-');
    // A number with a fraction: digits, a point or comma, digits.
    let fraction = |t: &str| {
        let t = t.trim_end_matches(|c: char| !c.is_ascii_digit());
        let n = t
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | ','))
            .collect::<String>();
        let n: String = n.chars().rev().collect();
        let n = n.trim_start_matches(['.', ',']);
        n.contains(['.', ',']) && n.starts_with(|c: char| c.is_ascii_digit())
    };
    COINS.iter().copied().find(|coin| {
        s.match_indices(coin).any(|(i, _)| {
            let (before, after) = (&s[..i], &s[i + coin.len()..]);
            let word = before
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
                && after.chars().next().is_none_or(|c| !c.is_alphanumeric());
            let head = before.trim_end_matches(sep);
            let number_before = head.ends_with(|c: char| c.is_ascii_digit()) && fraction(head);
            let ticker = coin.len() <= 4;
            let rest = after.trim_start_matches(sep);
            let rest = rest.strip_prefix("of ").unwrap_or(rest);
            let number = rest
                .split(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | ',')))
                .next()
                .unwrap_or("");
            let number_after = ticker && fraction(number);
            word && (number_before || number_after)
        })
    })
}

/// Phrases of sextortion: the sender claims to have filmed or hacked the
/// reader (the first [`EXTORTION_CORE`], one of which must be there) and
/// wants coins. Matched at the start of words.
const EXTORTION: &[&str] = &[
    "recorded you",
    "i recorded",
    "recorded a video",
    "made a video of you",
    "hacked you",
    "hacked your",
    "i hacked",
    "infected your",
    "full access to your",
    "access to your device",
    "through your webcam",
    "through the webcam",
    "your webcam",
    "installed a rat",
    "installed a trojan",
    "installed malware",
    "adult website",
    "adult site",
    "masturbat",
    "intimate",
    "porn",
    "your contact list",
    "your contacts",
    "your device",
    "spyware",
    "trojan",
    "malware",
    "to your relatives",
    "your friends and family",
    "bitcoin wallet",
    "btc wallet",
    "in bitcoin",
    "48 hours",
    "pay me",
];

/// How many of [`EXTORTION`]'s first phrases are the core claims.
const EXTORTION_CORE: usize = 19;

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
        // `y` is a vowel in many names (`Krzysztof`).
        if c.is_ascii_alphabetic() && !"aeiouyAEIOUY".contains(c) {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best >= 6
}

/// A CSS offset of `OFFSCREEN_PX` pixels or more in an HTML body: text
/// pushed off the screen, there for filters and not for the reader. (The
/// screen-reader idiom `left: -10000px` stays under it.)
const OFFSCREEN_PX: u64 = 20_000;

/// The first off-screen offset in `html` (`margin-top: 470500px`, `LEFT:
/// -99999PX`, `margin: 0 0 0 -99999px`); widths and words in the text are
/// not offsets.
pub fn offscreen(html: &str) -> Option<u64> {
    // No lower-cased copy of the body: `px` in any case, found in place.
    let b = html.as_bytes();
    (5..b.len().saturating_sub(1)).find_map(|i| {
        if !(b[i].eq_ignore_ascii_case(&b'p') && b[i + 1].eq_ignore_ascii_case(&b'x')) {
            return None;
        }
        let digits = b[..i]
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if !(5..=12).contains(&digits) {
            return None;
        }
        let n: u64 = html[i - digits..i].parse().ok()?;
        if n < OFFSCREEN_PX {
            return None;
        }
        // Back over the sign and up to three other values of a shorthand
        // (`margin: 0 0 0 -…`) to the colon.
        let mut j = i - digits;
        for _ in 0..4 {
            while j > 0 && matches!(b[j - 1], b'-' | b' ' | b'\t' | b'\n' | b'\r') {
                j -= 1;
            }
            if j > 0 && b[j - 1] == b':' {
                break;
            }
            while j > 0 && (b[j - 1].is_ascii_alphanumeric() || matches!(b[j - 1], b'.' | b'%')) {
                j -= 1;
            }
        }
        let prop = html[..j].strip_suffix(':')?.trim_end();
        let start = prop
            .bytes()
            .rposition(|c| !(c.is_ascii_alphabetic() || c == b'-'))
            .map_or(0, |k| k + 1);
        let prop = prop[start..].to_ascii_lowercase();
        let moves = prop.contains("margin")
            || prop.contains("padding")
            || prop == "text-indent"
            || matches!(prop.as_str(), "top" | "left" | "right" | "bottom");
        moves.then_some(n)
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
    /// The domains of the DKIM signatures that may be genuine
    /// (`auth::Checked::signers`); `None` where signatures were not read.
    pub signers: Option<&'a [String]>,
}

/// Runs the content rules.
pub fn rules(s: &Seen, ev: &mut Vec<Evidence>) {
    let name = s.from_name.unwrap_or("");
    let lname = name.to_lowercase();
    let lsub = s.subject.to_lowercase();

    // Brands borrowed by a sender that does not own them (protected
    // brands are judged by the caller already).
    let judged = ev.iter().any(|e| e.rule == "sender.brand_name_elsewhere");
    let reg = s
        .sender_domain
        .and_then(lookalike::registrable)
        .unwrap_or_default();
    let as_name = brand_as_name(name)
        .filter(|(_, _, owners)| !owned_by(&reg, owners) && !s.protected.owns(&reg));
    // The stronger claim replaces a protected brand's name judged already.
    if let Some((b, common, _)) = as_name {
        ev.retain(|e| e.rule != "sender.brand_name_elsewhere");
        // A brand that is also a word (`The Ledger`, `STEAM Center`) may
        // be a newspaper or a school: half the weight.
        ev.push(Evidence::new(
            "sender.brand_as_name",
            if common { 4 } else { 8 },
            format!(
                "the display name \"{name}\" is the brand {b}'s, but the mail is from {}",
                s.sender_domain.unwrap_or("an unknown domain")
            ),
        ));
    } else if judged {
    } else if let Some(b) = foreign_brand(&lname, &reg, s.protected) {
        ev.push(Evidence::new(
            "sender.brand_impersonation",
            4,
            format!(
                "the display name \"{name}\" names {b}, but the mail is from {}",
                s.sender_domain.unwrap_or("an unknown domain")
            ),
        ));
    } else if let Some(b) = foreign_brand(&lsub, &reg, s.protected) {
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
        if let (Some(w), n) = mixed_words(text) {
            // One word may be a slip of a keyboard; a sentence of them is
            // written to pass filters.
            let (weight, more) = match n {
                1 | 2 => (4, String::new()),
                _ => (6, format!(", and {} words more", n - 1)),
            };
            ev.push(Evidence::new(
                "text.mixed_script",
                weight,
                format!("the {what} mixes scripts inside the word \"{w}\"{more} (letters that only look Latin)"),
            ));
            break;
        }
    }

    // Coins dangled in the subject.
    let owns_crypto = !reg.is_empty() && s.protected.owns(&reg);
    if !owns_crypto {
        if let Some(c) = coin_amount(&lsub) {
            ev.push(Evidence::new(
                "subject.coin_amount",
                3,
                format!("the subject names an amount of {c}, from a sender that is no exchange"),
            ));
        }
    }

    // Extortion: a core claim and one more phrase (a phrase inside
    // another, `your device` in `access to your device`, counts once).
    let hits: Vec<&str> = EXTORTION
        .iter()
        .copied()
        .filter(|p| crate::analyze::starts_word(s.hay, p))
        .collect();
    let distinct: Vec<&str> = hits
        .iter()
        .copied()
        .filter(|h| !hits.iter().any(|o| o != h && o.contains(h)))
        .take(3)
        .collect();
    if distinct.len() >= 2 && EXTORTION[..EXTORTION_CORE].contains(&distinct[0]) {
        ev.push(Evidence::new(
            "lure.extortion",
            5,
            format!(
                "the text threatens like sextortion: \"{}\"",
                distinct.join("\", \"")
            ),
        ));
    }

    // A brand's own domain in From, without its signature: brands sign
    // all their mail (DKIM), a forger cannot. Free mail aside (its users
    // write through mailing lists that drop signatures), and the user's
    // own `--protect` domains too: mail between colleagues inside one
    // organisation is often not signed.
    if let (Some(signers), false) = (s.signers, reg.is_empty()) {
        let brand = BRANDS
            .iter()
            .find(|(_, _, owners)| owned_by(&reg, owners))
            .map(|(b, _, _)| *b);
        let signed = || {
            signers
                .iter()
                .any(|d| lookalike::registrable(d).as_deref() == Some(reg.as_str()))
        };
        if let Some(b) = brand.filter(|_| !s.protected.is_users(&reg) && !signed()) {
            ev.push(Evidence::new(
                "sender.brand_domain_unsigned",
                6,
                format!(
                    "the mail claims to be from {reg} ({b}), whose mail is signed (DKIM), but carries no signature of {reg}"
                ),
            ));
        }
    }

    // A brand's copyright line (`© 2023 Coinbase, Inc.`), the footer of
    // its template, in mail from a domain the brand does not own: copied.
    // The user's own domains aside (a colleague forwarding a brand's
    // mail). Not a forward quoting the brand's own address: anyone can
    // write such a quote above a copied template.
    let holder = copyright_holder(s.hay)
        .filter(|(_, _, owners)| !reg.is_empty() && !owned_by(&reg, owners))
        .filter(|_| !s.protected.owns(&reg) && !s.protected.is_users(&reg));
    if let Some((b, common, _)) = holder {
        ev.push(Evidence::new(
            "text.brand_copyright",
            if common { 3 } else { 4 },
            format!(
                "the text carries {b}'s copyright line, but the mail is from {}: a brand's template, copied",
                s.sender_domain.unwrap_or("an unknown domain")
            ),
        ));
    }

    // Job scams: pay by the week, day or hour for work from home.
    let remote = REMOTE_WORK
        .iter()
        .find(|w| crate::analyze::contains_word(s.hay, w));
    if let Some(w) = remote {
        if let Some(rate) = pay_rate(s.hay) {
            ev.push(Evidence::new(
                "lure.job_pay",
                3,
                format!("the text offers pay by the time (\"{rate}\") for work \"{w}\", as job scams do"),
            ));
        }
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

    /// What [`rules`] adds to `before` for a display name, a sender domain
    /// and a text (lower case), with the built-in brands.
    fn judged(
        name: Option<&str>,
        domain: Option<&str>,
        hay: &str,
        before: Vec<Evidence>,
    ) -> Vec<Evidence> {
        let mut ev = before;
        rules(
            &Seen {
                subject: "",
                from_name: name,
                from_addr: None,
                sender_domain: domain,
                hay,
                protected: &lookalike::Protected::builtin(),
                signers: None,
            },
            &mut ev,
        );
        ev
    }

    #[test]
    fn a_brand_s_copyright_line_from_elsewhere() {
        let copied = |domain: &str, hay: &str| {
            judged(None, Some(domain), hay, Vec::new())
                .into_iter()
                .find(|e| e.rule == "text.brand_copyright")
                .map(|e| (e.weight, e.words))
        };
        // As the corpus's phishing writes them (real footers).
        for (hay, b) in [
            (
                "verify now. © 2023 coinbase, all rights reserved.",
                "coinbase",
            ),
            (
                "copyright © 2013 - 2023 ripple, all rights reserved.",
                "ripple",
            ),
            (
                "(c) 2023 blockchain.com group holdings, inc.",
                "blockchain.com",
            ),
            ("© ledger sas. all rights reserved. 1 rue du mail", "ledger"),
        ] {
            let (w, words) = copied("firesonic.ca", hay).unwrap_or_else(|| panic!("{hay}"));
            assert!(words.contains(&format!("{b}'s copyright")), "{words}");
            assert_eq!(w, if b == "ledger" || b == "ripple" { 3 } else { 4 });
        }
        // From the brand itself, or its holder elsewhere in the text only.
        assert_eq!(copied("coinbase.com", "© 2023 coinbase, inc."), None);
        assert_eq!(copied("info.coinbase.com", "© 2023 coinbase, inc."), None);
        // Only the last line counts: a photo credit above a newsletter's
        // own footer does not.
        assert_eq!(
            copied(
                "firesonic.ca",
                "image © coinbase. more news. © 2023 example news ltd."
            ),
            None
        );
        for hay in [
            "© 2023 example news ltd. we wrote about coinbase today.",
            "(a) first (b) second (c) third; coinbase rose",
            "copyright 2023 coinbases of the world",
            "© 2024 ledger insights. all rights reserved.",
            "© 2024 ripple foods pbc",
            "© 2024 kraken.io, a design studio",
            "questions over copyright. binance said",
            "©",
            "copyright ©",
        ] {
            assert_eq!(copied("news.example", hay), None, "{hay}");
        }
    }

    fn extortion(text: &str) -> bool {
        judged(None, None, &text.to_lowercase(), Vec::new())
            .iter()
            .any(|e| e.rule == "lure.extortion")
    }

    #[test]
    fn extortion_needs_a_claim() {
        for t in [
            "I infected your computer with malware and made a video of you. Send 1500 USD in Bitcoin.",
            "I have full access to your computer and watched you through the webcam. 0.1 BTC in 48 hours.",
            "I've installed a RAT on your system and recorded a video of you. Pay me in bitcoin.",
            "I RECORDED YOU! I hacked your device. Pay me.",
        ] {
            assert!(extortion(t), "{t}");
        }
        for t in [
            "Before the meeting, test your camera. Make sure your device is charged.",
            "Our wifi hacked together a demo of the malware scanner; 48 hours left to sign up.",
        ] {
            assert!(!extortion(t), "{t}");
        }
    }

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
            "bitcoin 2026 tickets",
            "ethereum 2.0 explained",
            "trx: 20% off",
        ] {
            assert_eq!(coin_amount(s), None, "{s}");
        }
    }

    #[test]
    fn brands_and_disguises() {
        let p = lookalike::Protected::builtin();
        let fb = |hay, sender| foreign_brand(hay, &lookalike::registrable(sender).unwrap(), &p);
        assert_eq!(
            fb("microsoft account team", "access-accsecurity.com"),
            Some("microsoft")
        );
        assert_eq!(fb("microsoft account team", "email.microsoft.com"), None);
        assert_eq!(
            fb("microsoft 365 message center", "email.microsoftonline.com"),
            None
        );
        assert_eq!(fb("alice via docusign", "docusign.net"), None);
        assert_eq!(fb("netflix", "netflix.top"), Some("netflix"));
        assert_eq!(fb("onedrive", "files-share.live"), Some("onedrive"));
        assert_eq!(fb("dhl express", "dhl.co.uk"), None);
        assert_eq!(fb("receita federal", "receita.fazenda.gov.br"), None);
        assert_eq!(fb("economic outlook team", "econ.example"), None);
        assert_eq!(fb("norton rose fulbright", "nortonrosefulbright.com"), None);
        assert_eq!(fb("elon musk", "x.com"), Some("elon musk"));
        assert_eq!(
            brand_homoglyph("Scan your Iedger now"),
            Some(("Iedger", "ledger"))
        );
        assert_eq!(brand_homoglyph("Your Ledger is fine"), None);
        assert!(mixed_word("Co\u{73f}nfi\u{73f}rm").is_some());
        assert!(mixed_word("p\u{430}ypal login").is_some());
        assert!(mixed_word("plain words, 한국어 text").is_none());
        assert_eq!(mixed_words("p\u{430}ypal login").1, 1);
        assert_eq!(
            mixed_words("Co\u{73f}nfi\u{73f}rm ne\u{73f}ed: Pl\u{73f}ease pr\u{73f}oof").1,
            4
        );
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
        assert_eq!(offscreen("é:90000px; ü;top:-70000px"), Some(70000));
        assert_eq!(
            offscreen("<p style=\"position:absolute; left: -9999px\">"),
            None
        );
        assert_eq!(offscreen(".sr-only{position:absolute;left:-10000px}"), None);
        assert_eq!(offscreen("<p style=\"LEFT:-99999PX\">"), Some(99999));
        assert_eq!(
            offscreen("<p style=\"margin:0 0 0 -99999px\">"),
            Some(99999)
        );
        assert_eq!(offscreen("<div style=\"width:99999px\">"), None);
        assert!(!machine_local("john.smith"));
        assert!(!machine_local("krzysztof"));
        assert!(mixed_word("New 0.2\u{3bc}m syringe filters, TNF\u{3b1} signalling").is_none());
        assert!(!hidden_inside_word(
            "\u{645}\u{6cc}\u{200c}\u{62e}\u{648}\u{627}\u{647}\u{645}"
        ));
        assert!(hidden_inside_word("Pay\u{200b}Pal"));
    }

    #[test]
    fn a_display_name_that_is_a_brand() {
        let b = |n| brand_as_name(n).map(|(b, _, _)| b);
        assert_eq!(b("LEDGER"), Some("ledger"));
        assert_eq!(b("C o i n b a s e"), Some("coinbase"));
        assert_eq!(b("Kraken Support Team"), Some("kraken"));
        assert_eq!(b("The Binance Team"), Some("binance"));
        assert_eq!(b("Trust Wallet"), Some("trust wallet"));
        assert_eq!(b("Amazon"), Some("amazon"));
        assert_eq!(b("Apple Support"), Some("apple"));
        assert_eq!(b("Ledger Nano fan club"), None);
        assert_eq!(b("Tom Ledger"), None);
        assert_eq!(b("John Apple"), None);
        assert_eq!(b("Elon Musk"), None, "no owner: never the sender");
        assert_eq!(b("Support"), None);
        assert_eq!(b(""), None);
        assert!(owned_by("amazon.co.uk", brand_as_name("Amazon").unwrap().2));
        assert!(owned_by("paypal.co.uk", brand_as_name("PayPal").unwrap().2));
        let microsoft = brand_as_name("Microsoft Support").unwrap().2;
        assert!(owned_by("microsoft.com", microsoft));
        assert!(
            !owned_by("outlook.com", microsoft),
            "free mail owns no brand"
        );
    }

    /// The rule as `rules` weighs it: owners, free mail and word brands.
    #[test]
    fn brand_as_name_weighs_owners_and_words() {
        let weight = |name: &str, domain: &str| {
            judged(Some(name), Some(domain), "", Vec::new())
                .iter()
                .find(|e| e.rule == "sender.brand_as_name")
                .map(|e| e.weight)
        };
        assert_eq!(weight("PayPal", "paypal-secure.com"), Some(8));
        assert_eq!(weight("PayPal", "paypal.co.uk"), None);
        assert_eq!(weight("Microsoft Support", "outlook.com"), Some(8));
        assert_eq!(weight("Microsoft", "email.microsoft.com"), None);
        assert_eq!(weight("The Ledger", "theledger.com"), Some(4));
        assert_eq!(weight("Amazon", "amazon.de"), None);
        assert_eq!(
            weight("PayPal", "paypal.help"),
            Some(8),
            "a squatted suffix"
        );
        assert_eq!(weight("Sparkasse", "sparkasse-koelnbonn.de"), None);
        assert_eq!(weight("Sparkasse", "sparkasse.example"), None);
        assert_eq!(weight("Sparkasse", "sparkassen-bonus.example"), Some(8));
        // It replaces the protected brand's name judged already.
        let ev = judged(
            Some("Binance"),
            Some("binance-verify.example"),
            "",
            vec![Evidence::new("sender.brand_name_elsewhere", 5, "x")],
        );
        let rules: Vec<_> = ev.iter().map(|e| e.rule).collect();
        assert_eq!(rules, ["sender.brand_as_name"]);
    }

    #[test]
    fn job_pay_needs_work_from_home() {
        let fires = |hay: &str| {
            judged(None, None, hay, Vec::new())
                .iter()
                .any(|e| e.rule == "lure.job_pay")
        };
        assert!(fires(
            "a part-time, home-based role with a salary of $800/week."
        ));
        assert!(!fires("a salary of $800/week for the warehouse shift."));
        assert!(!fires("a fully remote senior role at $90/hour."));
        assert!(!fires("part-time work from home, salary to be agreed."));
    }

    #[test]
    fn pay_by_the_time() {
        assert_eq!(pay_rate("a salary of $800/week. if"), Some("$800/week"));
        assert_eq!(pay_rate("earn €300 per day"), Some("€300 per day"));
        assert_eq!(pay_rate("$45 usd per hour"), Some("$45 usd per hour"));
        assert_eq!(pay_rate("costs $5, a week later"), None);
        assert_eq!(pay_rate("$ and then"), None);
        assert_eq!(pay_rate("price: $1,200 a year"), None);
        assert_eq!(pay_rate("end $"), None);
        assert_eq!(pay_rate("€"), None);
    }
}
