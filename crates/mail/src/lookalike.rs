//! Lookalike domains of protected brands: is this host dressed up as an
//! exchange, a wallet or one of the user's own domains?
//!
//! Owns the protected-brand list ([`Protected`]: a built-in list of major
//! exchanges, wallets and the mail and identity brands phishers imitate
//! with them, plus the user's domains), the registrable domain of a host
//! ([`registrable`], by the public suffix list), confusable skeletons
//! ([`skeleton`]), mixed-script labels ([`mixed_script`]), the lookalike
//! test itself ([`check_host`]) and its evidence ([`evidence`]).
//!
//! Must not: resolve or fetch anything (all data is compiled in: the
//! public suffix list comes with the `psl` crate, the confusables with
//! `unicode-security`), nor look at a message: the caller hands it hosts.
//!
//! # How a host is judged
//!
//! The host is lower-cased, its trailing dot dropped and its punycode
//! (`xn--`) labels decoded (UTS #46, the `idna` crate). Its registrable
//! domain (eTLD+1, private suffixes such as `github.io` included) splits it
//! into the subdomain, the registrable label and the public suffix. A host
//! whose registrable domain is a protected domain, or one the brand is
//! known to own (`googlemail.com`, `docusign.net`), is legitimate: `None`.
//! Otherwise each brand is tried with these techniques, strongest first;
//! the strongest hit (then the smallest distance) wins:
//!
//! | `how` | what | example |
//! | --- | --- | --- |
//! | `homoglyph-punycode` | a punycode host whose Unicode label matches a brand by skeleton (or by the fuzzy tests below) | `xn--bnance-…` shown as `bіnance.com` |
//! | `skeleton` | same confusable skeleton, other characters | `coin0ne.co.kr`, `rnetamask.io` |
//! | `exact-brand` | the brand's own name under another suffix (dnstwist's TLD swap) | `binance.co`, `upbit.co.kr`, `upbit.com.kr`, `korbit.kr` |
//! | `permutation` | a dnstwist-style typo: omission, repetition, transposition, keyboard neighbour, bitsquatting, hyphenation, vowel swap, addition, dot insertion, suffix glued in | `binace.com`, `bin.ance.com`, `binance-com.net` |
//! | `edit-distance` | Damerau–Levenshtein (optimal string alignment) distance ≤ 1 for brand labels of 5 to 8 characters, ≤ 2 from 9 | `kucoip.com` |
//! | `brand-in-subdomain` | the brand before an unrelated registrable domain | `binance.com.secure-login.ru` |
//! | `brand-plus-word` | the brand with a word added | `binance-support.com`, `login-coinbase.net` |
//! | `mixed-script` | no brand matched, but a label mixes scripts as browsers flag | `exаmple.com` (Cyrillic `а`) |
//!
//! # Keeping ordinary domains quiet
//!
//! Each built-in brand carries two flags. A *common* brand's label is an
//! ordinary word or a name with many legitimate compounds (`crypto`,
//! `ledger`, `apple`, `google`): it gets no edit-distance test, only the
//! typo permutations a person makes (no bitsquatting or addition, and no
//! omission under 7 letters: `ledge`), brand-plus-word only with a phishing
//! lure word (`ledger-live`, `crypto-support`, not `crypto-news`) and
//! brand-in-subdomain only with its full domain or a lure word
//! (`ledger.com.evil.ru`, `ledger-live.evil.ru`, not `ledger.example.com`).
//! *Swap* says whether the name under another suffix is suspect: not for
//! brands that own many country domains (`google.co.kr`) or whose name is
//! a word (`gate.com`). A *short* label (under 5 characters: `okx`, `htx`,
//! `gate`, `mexc`) gets no edit distance or typo permutations: it matches
//! by skeleton, under another suffix if swappable, by its full domain in a
//! subdomain, or as a hyphenated word (`okx-support.com`, not
//! `okxsupport.com`). User domains are neither common nor short unless
//! their label has under 5 characters, and are swappable.
//!
//! A few ordinary words and names sit one typo from a brand (`finance`,
//! `orbit`, `papal`, `lodger`, `trevor`, `bitnet`, `gopay`; found by
//! running the brands over a 73,000-word English dictionary): they are
//! never typo or edit-distance matches. A match that needs the skeleton
//! (`c0inbase-support.com`) is reported as `skeleton`, not by its weaker
//! technique. A tenant of a hosting suffix in the list's private section is
//! its own registrable domain, so `coinbase.github.io` and
//! `binance.web.app` are `exact-brand`.
//!
//! So `google-analytics.com` (Google's own, listed) and `gemini.google.com`
//! (a subdomain of `google.com`) are legitimate, and `googlefonts.com` is
//! quiet because `fonts` is not a lure word.
//!
//! # Bounds
//!
//! Hosts over 253 bytes or 127 labels, IP literals, empty labels and names
//! under a suffix the list does not know are not judged. Permutations are
//! generated once per brand when [`Protected`] is built, at most
//! [`MAX_PERMUTATIONS`] each; a check is one hash look-up plus, per brand,
//! a few string comparisons and one bounded edit distance.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use unicode_script::Script;
use unicode_security::mixed_script::AugmentedScriptSet;

use crate::evidence::Evidence;

/// Longest host judged, in bytes (the DNS limit).
pub const MAX_HOST_BYTES: usize = 253;
/// Most labels a judged host may have (the DNS limit).
pub const MAX_LABELS: usize = 127;
/// Most typo permutations generated for one brand.
pub const MAX_PERMUTATIONS: usize = 4096;

const HOMOGLYPH_PUNYCODE: &str = "homoglyph-punycode";
const SKELETON: &str = "skeleton";
const EXACT_BRAND: &str = "exact-brand";
const PERMUTATION: &str = "permutation";
const EDIT_DISTANCE: &str = "edit-distance";
const BRAND_IN_SUBDOMAIN: &str = "brand-in-subdomain";
const BRAND_PLUS_WORD: &str = "brand-plus-word";
const MIXED_SCRIPT: &str = "mixed-script";

/// A built-in brand: its registrable domain, its flags (see the module
/// doc) and the other registrable domains it is known to own.
struct Builtin {
    domain: &'static str,
    common: bool,
    swap: bool,
    also: &'static [&'static str],
}

const fn brand(domain: &'static str, common: bool, swap: bool) -> Builtin {
    Builtin {
        domain,
        common,
        swap,
        also: &[],
    }
}

/// The built-in brands. Exchanges and wallets with a distinctive name are
/// swappable; names that are words (`crypto`, `gemini`, `ledger`, `exodus`,
/// `kraken`, `blockchain`, `gate`, `apple`) and the identity brands, which
/// own many country domains, are not.
const BUILTIN: &[Builtin] = &[
    Builtin {
        also: &["binance.us"],
        ..brand("binance.com", false, true)
    },
    brand("coinbase.com", false, true),
    brand("kraken.com", true, false),
    brand("bitfinex.com", false, true),
    brand("okx.com", false, true),
    brand("bybit.com", false, true),
    brand("kucoin.com", false, true),
    brand("gemini.com", true, false),
    brand("bitstamp.net", false, true),
    brand("crypto.com", true, false),
    Builtin {
        also: &["htx.com"],
        ..brand("huobi.com", false, true)
    },
    Builtin {
        also: &["huobi.com"],
        ..brand("htx.com", false, false)
    },
    brand("gate.io", true, false),
    brand("mexc.com", false, true),
    brand("bitget.com", false, true),
    Builtin {
        also: &["blockchain.info"],
        ..brand("blockchain.com", true, false)
    },
    brand("metamask.io", false, true),
    brand("trezor.io", false, true),
    brand("ledger.com", true, false),
    brand("exodus.com", true, false),
    brand("trustwallet.com", false, true),
    brand("upbit.com", false, true),
    brand("bithumb.com", false, true),
    brand("korbit.co.kr", false, true),
    brand("coinone.co.kr", false, true),
    brand("gopax.co.kr", false, true),
    Builtin {
        also: &[
            "googlemail.com",
            "google-analytics.com",
            "googleapis.com",
            "googleusercontent.com",
            "googletagmanager.com",
            "googlesyndication.com",
            "googleadservices.com",
            "googlevideo.com",
            "googleblog.com",
            "googlesource.com",
        ],
        ..brand("google.com", true, false)
    },
    Builtin {
        also: &[
            "microsoftonline.com",
            "microsoft365.com",
            "microsoftstore.com",
        ],
        ..brand("microsoft.com", true, false)
    },
    brand("apple.com", true, false),
    Builtin {
        also: &["paypalobjects.com", "paypal-community.com", "paypal.me"],
        ..brand("paypal.com", false, false)
    },
    Builtin {
        also: &["docusign.net"],
        ..brand("docusign.com", false, false)
    },
    brand("linkedin.com", false, false),
];

/// Words phishers add to a brand (`ledger-live`, `crypto-support`): a
/// common or short brand matches brand-plus-word only with these.
const LURE_WORDS: &[&str] = &[
    "2fa",
    "access",
    "account",
    "accounts",
    "airdrop",
    "alert",
    "alerts",
    "app",
    "auth",
    "bonus",
    "care",
    "claim",
    "confirm",
    "connect",
    "customer",
    "deposit",
    "desk",
    "docs",
    "download",
    "drive",
    "extension",
    "help",
    "helpdesk",
    "id",
    "kr",
    "korea",
    "kyc",
    "live",
    "login",
    "logon",
    "mail",
    "notice",
    "official",
    "otp",
    "portal",
    "recover",
    "recovery",
    "refund",
    "restore",
    "reward",
    "rewards",
    "secure",
    "security",
    "service",
    "services",
    "signin",
    "support",
    "sync",
    "unlock",
    "update",
    "upgrade",
    "validate",
    "validation",
    "verify",
    "verification",
    "wallet",
    "wallets",
    "withdraw",
    "withdrawal",
];

/// Ordinary words and names one typo from a brand (found by running the
/// brand list over a 73,000-word English dictionary, plus GoPay): never a
/// permutation or edit-distance lookalike.
const NEAR_MISSES: &[&str] = &[
    "bitnet", "finance", "gopay", "lodger", "orbit", "papal", "trevor",
];

/// Registrable labels that act as a second-level suffix without being in
/// the list (`upbit.com.kr`: `com.kr` is registrable, `upbit` its
/// subdomain).
const PSEUDO_SUFFIX_LABELS: &[&str] = &["com", "co", "net", "org", "or", "ne", "ac", "biz", "info"];

/// The protected brands: the built-in list plus the user's own domains,
/// with what the checks need precomputed. Build it once and reuse it.
#[derive(Debug, Clone)]
pub struct Protected {
    brands: Vec<Brand>,
    /// Registrable domains that are a brand's own: never lookalikes.
    legit: HashSet<String>,
    /// Typo permutation label → the brands it imitates.
    permutations: HashMap<String, Vec<usize>>,
    /// Lure words, as written and as skeletons.
    lure: HashSet<String>,
    /// The registrable domains the user protects (`--protect`), built-in
    /// ones included: the user's own organisation.
    users: HashSet<String>,
}

/// One protected domain, with its precomputed forms.
#[derive(Debug, Clone)]
struct Brand {
    /// Registrable domain, `korbit.co.kr`.
    domain: String,
    /// Its labels, `[korbit, co, kr]`.
    labels: Vec<String>,
    /// The registrable label, `korbit`.
    label: String,
    label_chars: Vec<char>,
    /// `skeleton(label)`.
    skel: String,
    skel_chars: Vec<char>,
    /// The domain without its dots, `korbitcokr`, and its skeleton.
    joined: String,
    joined_skel: String,
    /// The label is an ordinary word or a much-compounded name.
    common: bool,
    /// The label has fewer than 5 characters.
    short: bool,
    /// The name under another suffix is suspect.
    swap: bool,
    /// Edit distance allowed (0: no edit-distance test).
    max_edits: usize,
}

impl Brand {
    fn new(domain: &str, common: bool, swap: bool) -> Option<Brand> {
        let dom = psl::domain(domain.as_bytes())?;
        let suffix = std::str::from_utf8(dom.suffix().as_bytes()).ok()?;
        let label = domain.strip_suffix(suffix)?.strip_suffix('.')?;
        if label.is_empty() || label.contains('.') {
            return None;
        }
        let label_chars: Vec<char> = label.chars().collect();
        let short = label_chars.len() < 5;
        let max_edits = match label_chars.len() {
            _ if common || short => 0,
            n if n >= 9 => 2,
            _ => 1,
        };
        let skel = skeleton(label);
        let joined = domain.replace('.', "");
        Some(Brand {
            domain: domain.to_string(),
            labels: domain.split('.').map(str::to_string).collect(),
            label: label.to_string(),
            label_chars,
            skel_chars: skel.chars().collect(),
            skel,
            joined_skel: skeleton(&joined),
            joined,
            common,
            short,
            swap,
            max_edits,
        })
    }

    /// A distinctive name: matched inside other labels and by edit distance.
    fn distinctive(&self) -> bool {
        !self.common && !self.short
    }

    /// The typo permutations of this brand's label (dnstwist's fuzzers
    /// that a person or a flipped bit produce), bounded.
    fn permutations(&self) -> Vec<String> {
        let c = &self.label_chars;
        let mut out: Vec<String> = Vec::new();
        let mut push = |s: String| {
            if out.len() < MAX_PERMUTATIONS
                && s != self.label
                && !s.is_empty()
                && !s.starts_with('-')
                && !s.ends_with('-')
            {
                out.push(s);
            }
        };
        let with = |i: usize, j: usize, mid: &[char]| -> String {
            c[..i].iter().chain(mid).chain(&c[j..]).collect()
        };
        if !self.short {
            for i in 0..c.len() {
                // Repetition, keyboard neighbour, vowel swap.
                push(with(i, i, &[c[i]]));
                for n in keyboard_neighbours(c[i]).chars() {
                    push(with(i, i + 1, &[n]));
                }
                if is_vowel(c[i]) {
                    for v in "aeiou".chars().filter(|&v| v != c[i]) {
                        push(with(i, i + 1, &[v]));
                    }
                }
                if i + 1 < c.len() && c[i] != c[i + 1] {
                    push(with(i, i + 2, &[c[i + 1], c[i]]));
                }
                if i > 0 {
                    push(with(i, i, &['-']));
                }
            }
            // Omission makes words of short common names (ledger → ledge).
            if self.distinctive() || c.len() >= 7 {
                for i in 0..c.len() {
                    push(with(i, i + 1, &[]));
                }
            }
        }
        if self.distinctive() {
            for (i, &ch) in c.iter().enumerate() {
                for n in keyboard_neighbours(ch).chars() {
                    push(with(i, i, &[n]));
                    push(with(i + 1, i + 1, &[n]));
                }
                if let Ok(byte) = u8::try_from(ch) {
                    for bit in 0..7 {
                        let flipped = char::from(byte ^ (1 << bit));
                        if flipped.is_ascii_lowercase() || flipped.is_ascii_digit() {
                            push(with(i, i + 1, &[flipped]));
                        }
                    }
                }
            }
            for a in ('a'..='z').chain('0'..='9') {
                push(with(c.len(), c.len(), &[a]));
            }
        }
        // The suffix glued in: binance-com, binancecom, korbit-co-kr.
        let suffix = &self.domain[self.label.len() + 1..];
        push(format!("{}-{}", self.label, suffix.replace('.', "-")));
        push(self.joined.clone());
        out.sort_unstable();
        out.dedup();
        out
    }
}

impl Default for Protected {
    fn default() -> Protected {
        Protected::builtin()
    }
}

impl Protected {
    /// The built-in brands only.
    pub fn builtin() -> Protected {
        Protected::with(&[])
    }

    /// The built-in brands plus `user_domains` (any host: its registrable
    /// domain is protected, `mail.example.co.kr` protects
    /// `example.co.kr`). Hosts with no registrable domain are ignored.
    pub fn with(user_domains: &[String]) -> Protected {
        let mut brands = Vec::new();
        let mut legit = HashSet::new();
        for b in BUILTIN {
            if let Some(brand) = Brand::new(b.domain, b.common, b.swap) {
                legit.insert(brand.domain.clone());
                legit.extend(b.also.iter().map(|a| a.to_string()));
                brands.push(brand);
            }
        }
        let mut users = HashSet::new();
        for d in user_domains {
            let Some(reg) = registrable(d) else { continue };
            users.insert(reg.clone());
            if legit.contains(&reg) {
                continue;
            }
            if let Some(brand) = Brand::new(&reg, false, true) {
                legit.insert(reg);
                brands.push(brand);
            }
        }
        let mut permutations: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, b) in brands.iter().enumerate() {
            for p in b.permutations() {
                permutations.entry(p).or_default().push(i);
            }
        }
        let lure = LURE_WORDS
            .iter()
            .flat_map(|w| [w.to_string(), skeleton(w)])
            .collect();
        Protected {
            brands,
            legit,
            permutations,
            lure,
            users,
        }
    }

    /// Whether `registrable` is one the user protects (`--protect`): the
    /// user's own organisation, whose internal mail is often unsigned.
    pub fn is_users(&self, registrable: &str) -> bool {
        self.users.contains(registrable)
    }

    /// The protected registrable domains, built-in first.
    pub fn domains(&self) -> impl Iterator<Item = &str> {
        self.brands.iter().map(|b| b.domain.as_str())
    }

    /// The protected domains whose name is no ordinary word (`binance.com`,
    /// not `gemini.com` or `ledger.com`): a display name using it as a word
    /// means the brand.
    pub fn distinctive(&self) -> impl Iterator<Item = &str> {
        self.brands
            .iter()
            .filter(|b| !b.common)
            .map(|b| b.domain.as_str())
    }

    /// Whether `registrable` belongs to a protected brand (its own domain
    /// or another it is known to own, `docusign.net`).
    pub fn owns(&self, registrable: &str) -> bool {
        self.legit.contains(registrable)
    }
}

/// A host that imitates a protected brand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lookalike {
    /// The protected domain imitated (`binance.com`); empty for
    /// `mixed-script`, which flags the host itself.
    pub brand: String,
    /// The host as given, lower-cased, trailing dot dropped.
    pub host: String,
    /// The technique: `exact-brand`, `skeleton`, `edit-distance`,
    /// `permutation`, `brand-in-subdomain`, `brand-plus-word`,
    /// `mixed-script` or `homoglyph-punycode` (see the module doc).
    pub how: &'static str,
    /// Damerau–Levenshtein distance between the host's registrable label
    /// (Unicode, as written) and the brand's: the number of characters
    /// swapped in, added, dropped or transposed. 0 for `exact-brand`,
    /// `brand-in-subdomain` and `mixed-script`; 1 for a dot inserted.
    pub distance: u32,
}

/// A host cut at its registrable domain.
struct Parts {
    /// As given, lower-cased, trailing dot dropped.
    given: String,
    /// Unicode form.
    uni: String,
    /// Byte offset of the registrable domain in `uni`.
    reg_at: usize,
    /// Byte offset of the public suffix in `uni`.
    suffix_at: usize,
    known_suffix: bool,
}

impl Parts {
    fn of(host: &str) -> Option<Parts> {
        let h = host.trim();
        let h = h.strip_suffix('.').unwrap_or(h);
        if h.is_empty()
            || h.len() > MAX_HOST_BYTES
            || h.bytes().filter(|&b| b == b'.').count() >= MAX_LABELS
            || h.contains([':', '/', '@', '[', ']', ' ', '\\'])
        {
            return None;
        }
        let given = h.to_lowercase();
        let (uni, res) = idna::domain_to_unicode(h);
        let uni = match res {
            Ok(()) => uni.strip_suffix('.').map(str::to_string).unwrap_or(uni),
            Err(_) => given.clone(),
        };
        if uni.is_empty()
            || uni.split('.').any(str::is_empty)
            || uni.split('.').count() > MAX_LABELS
            || uni
                .rsplit('.')
                .next()
                .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let dom = psl::domain(uni.as_bytes())?;
        let reg_len = dom.as_bytes().len();
        let suffix = dom.suffix();
        let known_suffix = suffix.is_known();
        let suffix_len = suffix.as_bytes().len();
        Some(Parts {
            reg_at: uni.len() - reg_len,
            suffix_at: uni.len() - suffix_len,
            known_suffix,
            given,
            uni,
        })
    }

    fn registrable(&self) -> &str {
        &self.uni[self.reg_at..]
    }

    /// The registrable label: `binance` in `www.binance.co.uk`.
    fn label(&self) -> &str {
        &self.uni[self.reg_at..self.suffix_at - 1]
    }

    /// The labels before the registrable domain.
    fn sub_labels(&self) -> Vec<&str> {
        match self.reg_at {
            0 => Vec::new(),
            n => self.uni[..n - 1].split('.').collect(),
        }
    }
}

/// The registrable domain (eTLD+1) of `host` by the public suffix list,
/// private suffixes included (`user.github.io`), lower-case, trailing dot
/// dropped and punycode decoded to Unicode (`xn--…` → `bіnance.com`).
/// A host under a suffix the list does not know gets the list's default
/// rule (its last two labels). `None` for a public suffix itself
/// (`co.kr`), an IP literal, empty labels or an over-long host.
pub fn registrable(host: &str) -> Option<String> {
    Parts::of(host).map(|p| p.registrable().to_string())
}

/// The confusable skeleton of `s`, for comparing domain labels: `s`
/// lower-cased, then the UTS #39 skeleton (the full Unicode confusables
/// table of the `unicode-security` crate: Cyrillic `а` → `a`, `0` → `O`,
/// `1` → `l`, `m` → `rn`), lower-cased again, combining marks dropped
/// (`bínance` → `binance`) and two ASCII pairs UTS #39 leaves alone folded:
/// `vv` → `w`, `cl` → `d`. Two strings that look alike get the same
/// skeleton; the skeleton itself is not meant to be shown.
pub fn skeleton(s: &str) -> String {
    let folded = match s.is_ascii() {
        true => ascii_skeleton(s),
        false => unicode_skeleton(s),
    };
    if folded.contains("vv") || folded.contains("cl") {
        folded.replace("vv", "w").replace("cl", "d")
    } else {
        folded
    }
}

/// [`skeleton`] before the ASCII pairs are folded.
fn unicode_skeleton(s: &str) -> String {
    let lower = s.to_lowercase();
    unicode_security::skeleton(&lower)
        .flat_map(char::to_lowercase)
        .filter(|&c| !is_combining_mark(c))
        .collect()
}

/// [`unicode_skeleton`] of an ASCII string, without the tables: the few
/// ASCII characters UTS #39 maps, after lower-casing.
fn ascii_skeleton(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for b in s.bytes() {
        match b.to_ascii_lowercase() {
            b'0' => out.push('o'),
            b'1' | b'|' => out.push('l'),
            b'm' => out.push_str("rn"),
            b'"' => out.push_str("''"),
            b'`' => out.push('\''),
            b'%' => out.push_str("°/₀"),
            c => out.push(char::from(c)),
        }
    }
    out
}

fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}')
}

/// Whether `label` mixes scripts the way browsers refuse to show in
/// Unicode (UTS #39 "highly restrictive"): Latin with Cyrillic or Greek,
/// Cyrillic with Greek and so on. Digits, the hyphen and other common
/// characters belong to every script; Latin with Han, Kana or Hangul
/// (Japanese, Chinese, Korean names) is allowed.
pub fn mixed_script(label: &str) -> bool {
    let mut all = AugmentedScriptSet::default();
    let mut without_latin = AugmentedScriptSet::default();
    for c in label.chars() {
        let set = AugmentedScriptSet::for_char(c);
        all.intersect_with(set);
        if !set.base.contains_script(Script::Latin) {
            without_latin.intersect_with(set);
        }
    }
    all.is_empty() && !(without_latin.kore || without_latin.hanb || without_latin.jpan)
}

/// Whether `host` imitates a protected brand, and how. `None` when the
/// host is a protected domain or its subdomain (`www.binance.com`), when
/// it is unrelated, or when it is not judged (see the module doc).
pub fn check_host(host: &str, p: &Protected) -> Option<Lookalike> {
    let parts = Parts::of(host)?;
    if !parts.known_suffix || p.legit.contains(parts.registrable()) {
        return None;
    }
    let label = parts.label();
    let label_skel = skeleton(label);
    let label_skel_chars: Vec<char> = label_skel.chars().collect();
    let puny = !label.is_ascii() && parts.given.split('.').any(|l| l.starts_with("xn--"));
    let homoglyph = if puny { HOMOGLYPH_PUNYCODE } else { SKELETON };
    let sub = parts.sub_labels();
    let sub_skels: Vec<String> = sub.iter().map(|s| skeleton(s)).collect();
    let joined: String = parts.uni.split('.').collect();
    let near_miss = NEAR_MISSES.contains(&label);
    let typo_of = match near_miss {
        true => &[][..],
        false => p.permutations.get(label).map_or(&[][..], Vec::as_slice),
    };

    let mut best: Option<(usize, &'static str, u32)> = None;
    for (i, b) in p.brands.iter().enumerate() {
        let mut consider = |how: &'static str, distance: u32| {
            let better = match best {
                None => true,
                Some((_, h, d)) => {
                    (weight(how), std::cmp::Reverse(distance)) > (weight(h), std::cmp::Reverse(d))
                }
            };
            if better {
                best = Some((i, how, distance));
            }
        };
        let raw_distance = || {
            let chars: Vec<char> = label.chars().collect();
            osa(&chars, &b.label_chars, usize::MAX)
                .map_or(u32::MAX, |d| u32::try_from(d).unwrap_or(u32::MAX))
        };
        if label == b.label {
            if b.swap {
                consider(EXACT_BRAND, 0);
            }
        } else if label_skel == b.skel {
            consider(homoglyph, raw_distance());
        } else if typo_of.contains(&i) {
            consider(
                if puny {
                    HOMOGLYPH_PUNYCODE
                } else {
                    PERMUTATION
                },
                raw_distance(),
            );
        } else if b.max_edits > 0
            && !near_miss
            && osa(&label_skel_chars, &b.skel_chars, b.max_edits).is_some()
        {
            consider(
                if puny {
                    HOMOGLYPH_PUNYCODE
                } else {
                    EDIT_DISTANCE
                },
                raw_distance(),
            );
        }
        if label != b.label && plus_word(&label_skel, b, &b.skel, &b.joined_skel, &p.lure) {
            let needs_skeleton = !plus_word(label, b, &b.label, &b.joined, &p.lure);
            consider(
                if needs_skeleton {
                    homoglyph
                } else {
                    BRAND_PLUS_WORD
                },
                raw_distance(),
            );
        }
        if b.swap && sub.last() == Some(&b.label.as_str()) && PSEUDO_SUFFIX_LABELS.contains(&label)
        {
            consider(EXACT_BRAND, 0);
        }
        if joined == b.joined {
            consider(PERMUTATION, 1);
        }
        if in_subdomain(&sub, &sub_skels, b, &p.lure) {
            consider(BRAND_IN_SUBDOMAIN, 0);
        }
    }
    if let Some((i, how, distance)) = best {
        return Some(Lookalike {
            brand: p.brands[i].domain.clone(),
            host: parts.given,
            how,
            distance,
        });
    }
    parts.uni.split('.').any(mixed_script).then(|| Lookalike {
        brand: String::new(),
        host: parts.given.clone(),
        how: MIXED_SCRIPT,
        distance: 0,
    })
}

/// Whether `label` is brand `b` plus a word, comparing `label` with the
/// brand's `name` and `joined` forms (both raw or both skeletons).
fn plus_word(label: &str, b: &Brand, name: &str, joined: &str, lure: &HashSet<String>) -> bool {
    // `joined` starts with `name`: no `name`, no match.
    if !label.contains(name) {
        return false;
    }
    if b.distinctive() {
        return true;
    }
    let tokens: Vec<&str> = label.split('-').filter(|t| !t.is_empty()).collect();
    if tokens.len() >= 2 && tokens.contains(&joined) {
        return true;
    }
    // Common or short: the brand as a hyphen-bounded token (or, for a
    // common name, glued to a lure word), the other tokens lure words
    // unless the brand is short and not a word.
    let needs_lure = b.common;
    let is_word = |t: &str| !needs_lure || lure.contains(t);
    for (k, t) in tokens.iter().enumerate() {
        let glued = if *t == name {
            None
        } else if b.common && !b.short {
            match (t.strip_prefix(name), t.strip_suffix(name)) {
                (Some(rest), _) | (None, Some(rest)) if lure.contains(rest) => Some(rest),
                _ => continue,
            }
        } else {
            continue;
        };
        let others = tokens.iter().enumerate().filter(|&(j, _)| j != k);
        if (glued.is_some() || tokens.len() >= 2) && others.clone().all(|(_, o)| is_word(o)) {
            return true;
        }
    }
    false
}

/// Whether the subdomain labels carry brand `b`: its full domain as
/// consecutive labels (`binance.com.evil.ru`), or for a distinctive brand
/// its name inside one label (`secure-binance.evil.ru`).
fn in_subdomain(sub: &[&str], sub_skels: &[String], b: &Brand, lure: &HashSet<String>) -> bool {
    let n = b.labels.len();
    if sub.len() >= n
        && sub
            .windows(n)
            .any(|w| w.iter().zip(&b.labels).all(|(x, y)| x == y))
    {
        return true;
    }
    if b.distinctive() {
        return sub_skels
            .iter()
            .any(|s| s.contains(&b.skel) || s.contains(&b.joined_skel));
    }
    sub_skels
        .iter()
        .any(|s| *s != b.skel && plus_word(s, b, &b.skel, &b.joined_skel, lure))
}

/// The evidence weight of a technique.
fn weight(how: &str) -> i32 {
    match how {
        HOMOGLYPH_PUNYCODE | SKELETON => 8,
        EXACT_BRAND | PERMUTATION | EDIT_DISTANCE => 6,
        BRAND_IN_SUBDOMAIN => 5,
        BRAND_PLUS_WORD => 4,
        _ => 3,
    }
}

/// The evidence of a lookalike host seen at `wher` ("sender domain",
/// "link host"): rule `domain.lookalike.<how>`, weight 8 for a skeleton or
/// punycode homoglyph, 6 for the brand under another suffix, a typo or an
/// edit, 5 for the brand in a subdomain, 4 for brand plus a word, 3 for a
/// mixed-script host.
pub fn evidence(l: &Lookalike, wher: &str) -> Evidence {
    let rule = match l.how {
        HOMOGLYPH_PUNYCODE => "domain.lookalike.homoglyph-punycode",
        SKELETON => "domain.lookalike.skeleton",
        EXACT_BRAND => "domain.lookalike.exact-brand",
        PERMUTATION => "domain.lookalike.permutation",
        EDIT_DISTANCE => "domain.lookalike.edit-distance",
        BRAND_IN_SUBDOMAIN => "domain.lookalike.brand-in-subdomain",
        BRAND_PLUS_WORD => "domain.lookalike.brand-plus-word",
        _ => "domain.lookalike.mixed-script",
    };
    let parts = Parts::of(&l.host);
    let shown = match &parts {
        Some(p) if p.uni != p.given => format!(" (shown as {})", p.uni),
        _ => String::new(),
    };
    let brand = &l.brand;
    let what = match l.how {
        HOMOGLYPH_PUNYCODE => {
            format!(
                "imitates {brand} (look-alike letters from another alphabet, hidden in punycode)"
            )
        }
        SKELETON => format!("imitates {brand} (characters that look alike)"),
        EXACT_BRAND => format!("imitates {brand} (the same name under another suffix)"),
        PERMUTATION => {
            let kind = parts.as_ref().map_or("a typo", |p| typo_kind(p, brand));
            format!("imitates {brand} (a typo-style variant: {kind})")
        }
        EDIT_DISTANCE => match l.distance {
            1 => format!("imitates {brand} (one character different)"),
            d => format!("imitates {brand} ({d} characters different)"),
        },
        BRAND_IN_SUBDOMAIN => {
            let reg = parts.as_ref().map_or("another domain", |p| p.registrable());
            format!("names {brand} in a subdomain of the unrelated domain {reg}")
        }
        BRAND_PLUS_WORD => format!("imitates {brand} (brand plus a word)"),
        _ => "mixes letters from different alphabets in one label, as browsers flag".to_string(),
    };
    Evidence::new(
        rule,
        weight(l.how),
        format!("{wher} {}{shown} {what}", l.host),
    )
}

/// Plain words for the typo that turns `brand` into the host of `p`.
fn typo_kind(p: &Parts, brand: &str) -> &'static str {
    let Some(b) = Brand::new(brand, false, true) else {
        return "a typo";
    };
    let label: Vec<char> = p.label().chars().collect();
    let joined: String = p.uni.split('.').collect();
    let want = &b.label_chars;
    if joined == b.joined {
        "a dot inserted"
    } else if p.label().starts_with(&b.label) && p.label().len() > b.label.len() + 1 {
        "the suffix written into the name"
    } else if label.len() + 1 == want.len() {
        "a letter left out"
    } else if label.len() == want.len() + 1 {
        if label.contains(&'-') {
            "a hyphen inserted"
        } else {
            "a letter added or doubled"
        }
    } else if label.len() == want.len()
        && (0..label.len().saturating_sub(1))
            .any(|i| label[i] == want[i + 1] && label[i + 1] == want[i] && label[i] != label[i + 1])
    {
        "two letters swapped"
    } else {
        "a letter replaced by a keyboard neighbour, a flipped bit or another vowel"
    }
}

/// Optimal-string-alignment (restricted Damerau–Levenshtein) distance
/// between `a` and `b`, or `None` when it exceeds `max`.
fn osa(a: &[char], b: &[char], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    const ON_STACK: usize = 64;
    let n = b.len();
    let (mut rows, mut heap);
    let (before, prev, cur): (&mut [usize], &mut [usize], &mut [usize]) = if n < ON_STACK {
        rows = [[0usize; ON_STACK]; 3];
        let [x, y, z] = &mut rows;
        (&mut x[..=n], &mut y[..=n], &mut z[..=n])
    } else {
        heap = vec![0usize; 3 * (n + 1)];
        let (x, rest) = heap.split_at_mut(n + 1);
        let (y, z) = rest.split_at_mut(n + 1);
        (x, y, z)
    };
    let (mut before, mut prev, mut cur) = (before, prev, cur);
    for (j, v) in prev.iter_mut().enumerate() {
        *v = j;
    }
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = i;
        for j in 1..=n {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(before[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
        (before, prev, cur) = (prev, cur, before);
    }
    Some(prev[n]).filter(|&d| d <= max)
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

/// QWERTY neighbours of a key (dnstwist's table).
fn keyboard_neighbours(c: char) -> &'static str {
    match c {
        '1' => "2q",
        '2' => "3wq1",
        '3' => "4ew2",
        '4' => "5re3",
        '5' => "6tr4",
        '6' => "7yt5",
        '7' => "8uy6",
        '8' => "9iu7",
        '9' => "0oi8",
        '0' => "po9",
        'q' => "12wa",
        'w' => "3esaq2",
        'e' => "4rdsw3",
        'r' => "5tfde4",
        't' => "6ygfr5",
        'y' => "7uhgt6",
        'u' => "8ijhy7",
        'i' => "9okju8",
        'o' => "0plki9",
        'p' => "lo0",
        'a' => "qwsz",
        's' => "edxzaw",
        'd' => "rfcxse",
        'f' => "tgvcdr",
        'g' => "yhbvft",
        'h' => "ujnbgy",
        'j' => "ikmnhu",
        'k' => "olmji",
        'l' => "kop",
        'z' => "asx",
        'x' => "zsdc",
        'c' => "xdfv",
        'v' => "cfgb",
        'b' => "vghn",
        'n' => "bhjm",
        'm' => "njk",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn how(host: &str) -> Option<(String, &'static str)> {
        let p = Protected::builtin();
        check_host(host, &p).map(|l| (l.brand, l.how))
    }

    fn is(host: &str, brand: &str, technique: &str) {
        assert_eq!(how(host), Some((brand.to_string(), technique)), "{host}");
    }

    /// The punycode form of a Unicode host, computed by the idna crate.
    fn puny(unicode: &str) -> String {
        let ascii = idna::domain_to_ascii(unicode).expect("a valid IDN");
        assert!(ascii.contains("xn--"), "{ascii}");
        ascii
    }

    #[test]
    fn registrable_domain_by_the_public_suffix_list() {
        assert_eq!(
            registrable("WWW.Example.CO.UK.").as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(
            registrable("a.b.korbit.co.kr").as_deref(),
            Some("korbit.co.kr")
        );
        assert_eq!(registrable("upbit.com.kr").as_deref(), Some("com.kr"));
        assert_eq!(
            registrable("user.github.io").as_deref(),
            Some("user.github.io")
        );
        assert_eq!(
            registrable(&puny("mail.bіnance.com")).as_deref(),
            Some("bіnance.com")
        );
        assert_eq!(
            registrable("x.y.unknowntld").as_deref(),
            Some("y.unknowntld")
        );
        for none in [
            "co.kr", "com", "", ".", "1.2.3.4", "[::1]", "a..b.com", "a b.com",
        ] {
            assert_eq!(registrable(none), None, "{none:?}");
        }
    }

    #[test]
    fn skeletons_fold_lookalike_characters() {
        let same = [
            ("coin0ne", "coinone"),
            ("bіthumb", "bithumb"),   // Cyrillic і
            ("coinbаse", "coinbase"), // Cyrillic а
            ("rnetamask", "metamask"),
            ("PAYPA1", "paypal"),
            ("paypa1", "paypal"),
            ("vvallet", "wallet"),
            ("clocusign", "docusign"),
            ("bínance", "binance"),
            ("аррӏе", "apple"), // all Cyrillic
            ("ｂｉｎａｎｃｅ", "binance"),
        ];
        for (a, b) in same {
            assert_eq!(skeleton(a), skeleton(b), "{a} vs {b}");
        }
        assert_ne!(skeleton("binance"), skeleton("finance"));
        assert_ne!(skeleton("b1nance"), skeleton("binance"));
    }

    #[test]
    fn ascii_skeleton_agrees_with_the_tables() {
        for b in 0..128u8 {
            let s = char::from(b).to_string();
            assert_eq!(ascii_skeleton(&s), unicode_skeleton(&s), "{b:#x}");
        }
        for s in ["Binance-Support.COM", "rn0l1|m", "x--y.example"] {
            assert_eq!(ascii_skeleton(s), unicode_skeleton(s), "{s}");
        }
    }

    #[test]
    fn mixed_script_labels() {
        assert!(mixed_script("bіnance")); // Latin + Cyrillic і
        assert!(mixed_script("gοogle")); // Latin + Greek ο
        assert!(mixed_script("аpple-support")); // Cyrillic а
        assert!(!mixed_script("binance"));
        assert!(!mixed_script("бинанс")); // all Cyrillic
        assert!(!mixed_script("ελλάδα"));
        assert!(!mixed_script("네이버"));
        assert!(!mixed_script("kt한국")); // Latin + Hangul is allowed
        assert!(!mixed_script("日本語abc"));
        assert!(!mixed_script("123-abc"));
        assert!(!mixed_script(""));
    }

    #[test]
    fn brands_and_their_subdomains_are_legitimate() {
        let p = Protected::builtin();
        for host in [
            "binance.com",
            "www.binance.com",
            "WWW.BINANCE.COM.",
            "accounts.google.com",
            "mail.google.com",
            "gemini.google.com",
            "google-analytics.com",
            "googlemail.com",
            "login.microsoftonline.com",
            "docusign.net",
            "upbit.com",
            "sg.upbit.com",
            "korbit.co.kr",
            "www.coinone.co.kr",
            "htx.com",
            "huobi.com",
            "gate.io",
            "metamask.io",
        ] {
            assert_eq!(check_host(host, &p), None, "{host}");
        }
    }

    #[test]
    fn exact_brand_under_another_suffix() {
        is("binance.co", "binance.com", "exact-brand");
        is("upbit.co.kr", "upbit.com", "exact-brand");
        is("upbit.com.kr", "upbit.com", "exact-brand");
        is("bithumb.co.kr", "bithumb.com", "exact-brand");
        // Decided: korbit.kr is not Korbit's domain, so it imitates it.
        is("korbit.kr", "korbit.co.kr", "exact-brand");
        is("coinbase.github.io", "coinbase.com", "exact-brand");
        is("binance.web.app", "binance.com", "exact-brand");
        is("okx.net", "okx.com", "exact-brand");
        // Words and brands with many own country domains: not flagged.
        assert_eq!(how("google.co.kr"), None);
        assert_eq!(how("gate.com"), None);
        assert_eq!(how("ledger.fr"), None);
        assert_eq!(how("htx.org"), None);
    }

    #[test]
    fn skeleton_matches() {
        is("coin0ne.co.kr", "coinone.co.kr", "skeleton");
        is("bіthumb.com", "bithumb.com", "skeleton"); // Cyrillic і, as Unicode
        is("coinbаse.com", "coinbase.com", "skeleton"); // Cyrillic а
        is("rnetamask.io", "metamask.io", "skeleton");
        is("paypa1.com", "paypal.com", "skeleton");
        is("0kx.com", "okx.com", "skeleton"); // short brands match by skeleton
        is("c0inbase-support.com", "coinbase.com", "skeleton");
    }

    #[test]
    fn punycode_homoglyphs() {
        for (unicode, brand) in [
            ("bіnance.com", "binance.com"),       // Cyrillic і
            ("bit\u{4bb}umb.com", "bithumb.com"), // Cyrillic һ
            ("coinbаse.com", "coinbase.com"),     // Cyrillic а
            ("аррӏе.com", "apple.com"),           // whole-script Cyrillic
            ("bínance.com", "binance.com"),       // accent
            ("upbіt.co.kr", "upbit.com"),         // Cyrillic і, other suffix
            ("login.bіnance.com", "binance.com"),
        ] {
            let host = puny(unicode);
            is(&host, brand, "homoglyph-punycode");
        }
        let p = Protected::builtin();
        let l = check_host(&puny("bіnance.com"), &p).expect("a lookalike");
        assert_eq!(l.distance, 1);
        let e = evidence(&l, "link host");
        assert_eq!(e.rule, "domain.lookalike.homoglyph-punycode");
        assert_eq!(e.weight, 8);
        assert!(e.words.contains("(shown as bіnance.com)"), "{}", e.words);
    }

    #[test]
    fn edit_distance_and_permutations() {
        for (host, brand) in [
            ("binace.com", "binance.com"),      // omission
            ("bithhumb.com", "bithumb.com"),    // repetition
            ("coinbsae.com", "coinbase.com"),   // transposition
            ("upbir.com", "upbit.com"),         // keyboard neighbour
            ("coinbese.com", "coinbase.com"),   // vowel swap
            ("bit-humb.com", "bithumb.com"),    // hyphenation
            ("kucoinn.com", "kucoin.com"),      // repetition
            ("bybitt.com", "bybit.com"),        // addition
            ("binancd.com", "binance.com"),     // bitsquatting (e ^ 1)
            ("binance-com.net", "binance.com"), // suffix written in
            ("binancecom.net", "binance.com"),
            ("upbit-com.kr", "upbit.com"),
            ("korbit-co-kr.com", "korbit.co.kr"),
            ("bin.ance.com", "binance.com"), // dot inserted
            ("goolge.com", "google.com"),    // common names: typos only
            ("microsfot.com", "microsoft.com"),
            ("ledgre.com", "ledger.com"),
        ] {
            is(host, brand, "permutation");
        }
        is("kucoip.com", "kucoin.com", "edit-distance");
        is("trustwalets.com", "trustwallet.com", "edit-distance"); // 2 edits, 11 letters
        is("b1nance.com", "binance.com", "edit-distance");
        // Two edits on an 8-letter brand is too far.
        assert_eq!(how("coimbese.com"), None);
        // Short and common brands get no edit distance.
        assert_eq!(how("okb.com"), None);
        assert_eq!(how("blockchair.com"), None);
        assert_eq!(how("apply.com"), None);
    }

    #[test]
    fn brand_in_a_subdomain_of_an_unrelated_domain() {
        is(
            "binance.com.secure-login.ru",
            "binance.com",
            "brand-in-subdomain",
        );
        is(
            "coinbase.account-verify.info",
            "coinbase.com",
            "brand-in-subdomain",
        );
        is(
            "secure-binance.help.ru",
            "binance.com",
            "brand-in-subdomain",
        );
        is(
            "ledger.com.recovery-phrase.xyz",
            "ledger.com",
            "brand-in-subdomain",
        );
        is("ledger-live.evil.com", "ledger.com", "brand-in-subdomain");
        is("gate.io.claim-airdrop.top", "gate.io", "brand-in-subdomain");
        is(
            "upbit.co.kr.session-check.com",
            "upbit.com",
            "brand-in-subdomain",
        );
        // A common name alone in a subdomain is ordinary.
        assert_eq!(how("ledger.example.com"), None);
        assert_eq!(how("crypto.news.example.org"), None);
    }

    #[test]
    fn brand_plus_a_word() {
        for (host, brand) in [
            ("binance-support.com", "binance.com"),
            ("upbit-kr.com", "upbit.com"),
            ("upbitkr.com", "upbit.com"),
            ("login-coinbase.net", "coinbase.com"),
            ("metamaskwallet.io", "metamask.io"),
            ("bithumb-event.co.kr", "bithumb.com"),
            ("okx-support.com", "okx.com"),
            ("htx-login.com", "htx.com"),
            ("gate-login.com", "gate.io"),
            ("gateio-airdrop.com", "gate.io"),
            ("ledger-live.com", "ledger.com"),
            ("ledgerlive.com", "ledger.com"),
            ("crypto-support.com", "crypto.com"),
            ("cryptocom-rewards.net", "crypto.com"),
            ("google-docs-login.com", "google.com"),
            ("binance-login.web.app", "binance.com"),
        ] {
            is(host, brand, "brand-plus-word");
        }
        // Short brands glued, or common brands with an ordinary word: quiet.
        for host in [
            "okxsupport.com",
            "gate-house.com",
            "gateway.com",
            "crypto-news.com",
            "cryptocompare.com",
            "cryptocomics.com",
            "applebees.com",
            "pineapple.com",
            "googleapis.com",
            "storage.googleapis.com",
            "googlefonts.com",
            "geminiai.com",
            "ledge.com",
            "kraken.io",
        ] {
            assert_eq!(how(host), None, "{host}");
        }
    }

    #[test]
    fn mixed_script_host_without_a_brand() {
        let p = Protected::builtin();
        let l = check_host("exаmple.com", &p).expect("mixed script"); // Cyrillic а
        assert_eq!(
            (l.brand.as_str(), l.how, l.distance),
            ("", "mixed-script", 0)
        );
        let e = evidence(&l, "sender domain");
        assert_eq!((e.rule, e.weight), ("domain.lookalike.mixed-script", 3));
        assert!(
            e.words.starts_with("sender domain exаmple.com mixes"),
            "{}",
            e.words
        );
        assert_eq!(
            check_host(&puny("exаmple.com"), &p).map(|l| l.how),
            Some("mixed-script")
        );
    }

    #[test]
    fn ordinary_domains_never_match() {
        let p = Protected::builtin();
        for host in [
            "github.com",
            "gmail.com",
            "amazon.com",
            "mail.python.org",
            "lists.debian.org",
            "bbc.co.uk",
            "naver.com",
            "news.naver.com",
            "daum.net",
            "kakao.com",
            "coupang.com",
            "kbstar.com",
            "shinhan.com",
            "fss.or.kr",
            "gov.kr",
            "yahoo.com",
            "finance.yahoo.com",
            "outlook.com",
            "live.com",
            "icloud.com",
            "proton.me",
            "stackoverflow.com",
            "wikipedia.org",
            "rust-lang.org",
            "crates.io",
            "docs.rs",
            "youtube.com",
            "x.com",
            "zoom.us",
            "coindesk.com",
            "cointelegraph.com",
            "etherscan.io",
            "blockchair.com",
            "mempool.space",
            "bitcoin.org",
            "coinmarketcap.com",
            "coingecko.com",
            "finance.com",
            "orbit.com",
            "gopay.co.id",
            "trevor.com",
            "네이버.com",
            "kt한국.com",
        ] {
            assert_eq!(check_host(host, &p), None, "{host}");
        }
    }

    #[test]
    fn user_domains_are_protected_too() {
        let p = Protected::with(&["mail.exchange-kr.co.kr".to_string(), "co.kr".to_string()]);
        assert!(p.domains().any(|d| d == "exchange-kr.co.kr"));
        assert!(!p.domains().any(|d| d == "co.kr"));
        assert_eq!(check_host("www.exchange-kr.co.kr", &p), None);
        let l = check_host("exchange-kr.com", &p).expect("tld swap");
        assert_eq!(
            (l.brand.as_str(), l.how),
            ("exchange-kr.co.kr", "exact-brand")
        );
        let l = check_host("exchnage-kr.co.kr", &p).expect("typo");
        assert_eq!(l.how, "permutation");
        assert_eq!(
            Protected::builtin().domains().count() + 1,
            p.domains().count()
        );
    }

    #[test]
    fn work_is_bounded() {
        let p = Protected::builtin();
        let long = format!("{}.binance.co", "a".repeat(250));
        assert_eq!(check_host(&long, &p), None);
        let many = format!("{}binance.co", "a.".repeat(127));
        assert_eq!(check_host(&many, &p), None);
        let fits = format!("{}binance.co", "a.".repeat(120));
        assert!(check_host(&fits, &p).is_some());
        for b in BUILTIN {
            let brand = Brand::new(b.domain, b.common, b.swap).expect("a registrable brand");
            assert!(brand.permutations().len() <= MAX_PERMUTATIONS);
        }
        let huge = Brand::new(&format!("{}.com", "k".repeat(63)), false, true).expect("brand");
        assert!(huge.permutations().len() <= MAX_PERMUTATIONS);
        for odd in [
            "",
            ".",
            "..",
            "-",
            "xn--",
            "xn--zz.com",
            "a\u{0}b.com",
            "😀.com",
            "1.2.3.4",
            "::1",
        ] {
            let _ = check_host(odd, &p);
        }
    }

    #[test]
    fn evidence_words_and_weights() {
        let p = Protected::builtin();
        let cases = [
            ("binance-support.com", "link host", "domain.lookalike.brand-plus-word", 4,
             "link host binance-support.com imitates binance.com (brand plus a word)"),
            ("binance.com.secure-login.ru", "link host", "domain.lookalike.brand-in-subdomain", 5,
             "link host binance.com.secure-login.ru names binance.com in a subdomain of the unrelated domain secure-login.ru"),
            ("upbit.co.kr", "sender domain", "domain.lookalike.exact-brand", 6,
             "sender domain upbit.co.kr imitates upbit.com (the same name under another suffix)"),
            ("binace.com", "link host", "domain.lookalike.permutation", 6,
             "link host binace.com imitates binance.com (a typo-style variant: a letter left out)"),
            ("kucoip.com", "link host", "domain.lookalike.edit-distance", 6,
             "link host kucoip.com imitates kucoin.com (one character different)"),
            ("coin0ne.co.kr", "sender domain", "domain.lookalike.skeleton", 8,
             "sender domain coin0ne.co.kr imitates coinone.co.kr (characters that look alike)"),
        ];
        for (host, wher, rule, weight, words) in cases {
            let l = check_host(host, &p).expect(host);
            assert_eq!(evidence(&l, wher), Evidence::new(rule, weight, words));
        }
    }

    #[test]
    fn osa_distance() {
        let d = |a: &str, b: &str| {
            let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            osa(&a, &b, usize::MAX)
        };
        assert_eq!(d("binance", "binance"), Some(0));
        assert_eq!(d("binance", "bianance"), Some(1));
        assert_eq!(d("coinbase", "coinbsae"), Some(1));
        assert_eq!(d("kitten", "sitting"), Some(3));
        assert_eq!(d("", "abc"), Some(3));
        let (a, b): (Vec<char>, Vec<char>) =
            ("abcdef".chars().collect(), "badcfe".chars().collect());
        assert_eq!(osa(&a, &b, 2), None);
        assert_eq!(osa(&a, &b, 3), Some(3));
    }

    /// A quick measurement, not an assertion: `cargo test -p
    /// chainhound-mail lookalike::tests::speed -- --nocapture`.
    #[test]
    fn speed() {
        let started = std::time::Instant::now();
        let p = Protected::builtin();
        let built = started.elapsed();
        let hosts = [
            "github.com",
            "mail.python.org",
            "binance-support.com",
            "www.binance.com",
            "xn--bnance-pvf.com",
            "coin0ne.co.kr",
            "binance.com.secure-login.ru",
            "naver.com",
            "bbc.co.uk",
            "click.em.example-mailer.net",
            "upbit.co.kr",
            "kucoip.com",
            "cdn.jsdelivr.net",
            "a.b.c.d.e.f.example.com",
            "lists.debian.org",
            "docs.rs",
        ];
        let rounds = 2_000;
        let started = std::time::Instant::now();
        let mut hits = 0;
        for _ in 0..rounds {
            for h in hosts {
                hits += usize::from(check_host(std::hint::black_box(h), &p).is_some());
            }
        }
        let per_host = started.elapsed() / (rounds * hosts.len()) as u32;
        println!(
            "lookalike: Protected::builtin() {built:?} ({} permutations), check_host {per_host:?} per host ({hits} hits)",
            p.permutations.len()
        );
    }
}
