//! One message judged: parsed with `mail-parser` (bounded), its indicators
//! read, every rule run, the score summed into a verdict.
//!
//! Owns the rules on headers, links and text, and the report of a message.
//! Rules never key on how a corpus was collected (line endings, honeypot
//! recipients, archive hosts, mbox separators): they read what a reader
//! sees and what the sender controls.
//!
//! Must not: fetch, resolve or run anything found in the message.

use crate::attach;
use crate::evidence::{Evidence, Verdict};
use crate::indicators::{self, Crypto, Link};
use crate::lookalike::{self, Protected};
use mail_parser::{MessageParser, MimeHeaders};
use serde::Serialize;
use std::borrow::Cow;

/// Bytes of one message read at most; the rest is cut (and said).
pub const MAX_MESSAGE: usize = 32 << 20;
/// Body characters scanned for lures and addresses at most.
const MAX_TEXT: usize = 1 << 20;

/// What a judgement needs besides the message.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The authserv-id whose `Authentication-Results` are trusted (your
    /// own receiving server's); others are ignored, as anyone can write
    /// one.
    pub authserv_id: Option<String>,
    /// Brands whose lookalikes are flagged.
    pub protected: Protected,
    /// DNS TXT records supplied by the user (DKIM keys, DMARC policies):
    /// DKIM is verified against them, offline (`auth.rs`).
    pub dns: Option<std::sync::Arc<crate::auth::Dns>>,
}

/// An attachment, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentNote {
    /// File name (or `(unnamed)`).
    pub name: String,
    /// Declared MIME type.
    pub declared: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Type found by content.
    pub detected: &'static str,
}

/// What the message points at.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Indicators {
    /// From address.
    pub from: Option<String>,
    /// Its domain.
    pub sender_domain: Option<String>,
    /// Reply-To address.
    pub reply_to: Option<String>,
    /// Return-Path address.
    pub return_path: Option<String>,
    /// Distinct link hosts.
    pub link_domains: Vec<String>,
    /// Links (at most [`indicators::MAX_LINKS`] per body).
    pub urls: Vec<String>,
    /// Attachments.
    pub attachments: Vec<AttachmentNote>,
    /// Crypto addresses and txids.
    pub crypto: Crypto,
}

/// Link hosts an [`Indicators`] lists at most.
const MAX_LINK_DOMAINS: usize = 200;
/// Links an [`Indicators`] lists at most.
const MAX_URLS: usize = 500;

impl Indicators {
    /// Lists a link host, once, within [`MAX_LINK_DOMAINS`].
    fn add_link_domain(&mut self, host: &str) {
        if !host.is_empty()
            && self.link_domains.len() < MAX_LINK_DOMAINS
            && !self.link_domains.iter().any(|h| h == host)
        {
            self.link_domains.push(host.to_string());
        }
    }

    /// Adds what a forwarded message points at: its links and crypto
    /// addresses (its sender and attachments stay its own).
    fn absorb(&mut self, other: Indicators) {
        self.crypto.extend(&other.crypto);
        for h in &other.link_domains {
            self.add_link_domain(h);
        }
        let room = MAX_URLS.saturating_sub(self.urls.len());
        self.urls.extend(other.urls.into_iter().take(room));
    }
}

/// The judgement of one message.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Where it came from (file, `file#n` in an mbox).
    pub source: String,
    /// Subject.
    pub subject: Option<String>,
    /// Verdict.
    pub verdict: Verdict,
    /// Sum of the evidence's weights.
    pub score: i32,
    /// Every rule that fired.
    pub evidence: Vec<Evidence>,
    /// What it points at.
    pub indicators: Indicators,
}

/// Mail providers anyone can sign up to: a company does not write from
/// them.
const FREEMAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "yahoo.co.jp",
    "aol.com",
    "icloud.com",
    "me.com",
    "mail.com",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "yandex.ru",
    "yandex.com",
    "mail.ru",
    "proton.me",
    "protonmail.com",
    "tutanota.com",
    "zoho.com",
    "naver.com",
    "daum.net",
    "hanmail.net",
    "nate.com",
    "kakao.com",
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
];

/// URL shorteners: the destination is hidden.
const SHORTENERS: &[&str] = &[
    "bit.ly",
    "tinyurl.com",
    "t.co",
    "goo.gl",
    "is.gd",
    "cutt.ly",
    "cutt.us",
    "rebrand.ly",
    "ow.ly",
    "buff.ly",
    "rb.gy",
    "shorturl.at",
    "tiny.cc",
    "t.ly",
    "s.id",
    "v.gd",
    "bitly.com",
    "shorte.st",
    "adf.ly",
    "lnkd.in",
];

/// Hosting anyone can publish a page on in minutes: phishing kits live
/// there (a brand's own mail rarely links to them).
const FREE_HOSTING: &[&str] = &[
    "firebaseapp.com",
    "web.app",
    "weebly.com",
    "wixsite.com",
    "000webhostapp.com",
    "blogspot.com",
    "netlify.app",
    "pages.dev",
    "r2.dev",
    "workers.dev",
    "vercel.app",
    "glitch.me",
    "herokuapp.com",
    "repl.co",
    "github.io",
    "gitbook.io",
    "webflow.io",
    "godaddysites.com",
    "square.site",
    "ipfs.io",
    "dweb.link",
    "storage.googleapis.com",
    "appspot.com",
    "azurewebsites.net",
    "web.core.windows.net",
    "sharepoint.com",
    "forms.gle",
    "typeform.com",
    "jotform.com",
    "formstack.com",
    "sites.google.com",
    "script.google.com",
    "ngrok.io",
    "ngrok-free.app",
    "trycloudflare.com",
    "duckdns.org",
    "linktr.ee",
];

/// Words of a company or a role, in a display name.
const COMPANY_WORDS: &[&str] = &[
    "support",
    "security",
    "team",
    "service",
    "admin",
    "billing",
    "account",
    "helpdesk",
    "it department",
    "hr",
    "recruit",
    "compliance",
    "exchange",
    "wallet",
    "official",
    "고객센터",
    "보안",
    "관리자",
    "인사팀",
    "채용",
];

/// Lures: (rule, weight, words in English and Korean).
const LURES: &[(&str, i32, &[&str])] = &[
    (
        "lure.urgency",
        2,
        &[
            "urgent",
            "immediately",
            "within 24 hours",
            "within 48 hours",
            "suspended",
            "will be closed",
            "final notice",
            "action required",
            "expire",
            "last chance",
            "dringend",
            "sofort",
            "läuft ab",
            "urgente",
            "imediato",
            "expiram",
            "expirem",
            "bloqueado",
            "bloqueio",
            "suspenso",
            "último aviso",
            "긴급",
            "즉시",
            "정지",
            "24시간",
        ],
    ),
    (
        "lure.credentials",
        3,
        &[
            "verify your account",
            "confirm your password",
            "update your password",
            "login to your account",
            "sign in to",
            "password expire",
            "비밀번호",
            "계정 확인",
            "계정을 확인",
        ],
    ),
    (
        "lure.wallet",
        4,
        &[
            "seed phrase",
            "recovery phrase",
            "secret phrase",
            "private key",
            "mnemonic",
            "12 words",
            "24 words",
            "wallet verification",
            "validate your wallet",
            "your wallet",
            "wallet access",
            "시드 구문",
            "복구 구문",
            "개인키",
            "니모닉",
            "지갑 인증",
        ],
    ),
    (
        "lure.kyc",
        2,
        &[
            "kyc",
            "identity verification",
            "verify your identity",
            "본인인증",
            "신원 확인",
            "본인 확인",
        ],
    ),
    (
        "lure.invoice",
        3,
        &[
            "invoice",
            "payment due",
            "wire transfer",
            "remittance",
            "overdue",
            "fatura",
            "boleto",
            "rechnung",
            "factura",
            "factuur",
            "청구서",
            "송금",
            "결제 요청",
            "입금",
        ],
    ),
    (
        "lure.job",
        1,
        &[
            "job offer",
            "job opportunity",
            "position at",
            "your resume",
            "your cv",
            "recruiter",
            "interview",
            "salary",
            "채용",
            "이력서",
            "입사",
            "면접",
            "연봉",
        ],
    ),
    (
        "lure.security_alert",
        3,
        &[
            "unusual sign-in",
            "has been blocked",
            "been suspended",
            "temporarily blocked",
            "has been locked",
            "been limited",
            "blocked due to",
            "gesperrt",
            "bloqueada",
            "계정이 잠",
            "unusual sign in",
            "unusual signin",
            "sign-in activity",
            "signin activity",
            "unusual activity",
            "security alert",
            "suspicious activity",
            "new login",
            "unauthorized",
            "tried to log in",
            "tried to iog in",
            "compromised",
            "sicherheitswarnung",
            "ungewöhnliche",
            "segurança",
            "seguranca",
            "acesso suspeito",
            "보안 경고",
            "새로운 로그인",
            "비정상",
            "해외 로그인",
        ],
    ),
    (
        "lure.crypto_offer",
        3,
        &[
            "giving away",
            "double your",
            "staking",
            "claim your share",
            "bitcoin transaction",
            "btc transaction",
            "crypto investment",
            "guaranteed profit",
            "passive income",
            "withdrawal is ready",
            "ready for withdrawal",
            "bankruptcy claim",
            "코인 지급",
            "수익 보장",
        ],
    ),
    (
        "lure.prize",
        3,
        &[
            "you have won",
            "congratulations",
            "claim your",
            "reward",
            "airdrop",
            "giveaway",
            "free gift",
            "winner",
            "gewinn",
            "glückwunsch",
            "gluckwunsch",
            "gratulieren",
            "gewonnen",
            "resgate",
            "pontos",
            "valores a receber",
            "prêmio",
            "premio",
            "parabéns",
            "gefeliciteerd",
            "당첨",
            "에어드랍",
            "보상",
            "경품",
        ],
    ),
    (
        "lure.dating",
        3,
        &[
            "singles",
            "dating",
            "hot girls",
            "naked girls",
            "nude",
            "hookup",
            "meet women",
            "fun dates",
            "meisjes",
            "bräute",
            "flirt",
            "데이트",
            "만남",
        ],
    ),
    (
        "lure.generic_greeting",
        2,
        &[
            "dear customer",
            "dear user",
            "dear client",
            "dear valued",
            "dear member",
            "dear account holder",
            "dear beneficiary",
            "dear winner",
            "prezado cliente",
            "caro cliente",
            "estimado cliente",
            "sehr geehrter kunde",
            "sehr geehrte kundin",
            "beste klant",
            "cher client",
        ],
    ),
    (
        "lure.delivery",
        2,
        &[
            "your parcel",
            "your shipment",
            "delivery attempt",
            "failed delivery",
            "redelivery",
            "reschedule delivery",
            "customs fee",
            "shipping fee",
            "on hold at",
            "encomenda",
        ],
    ),
    (
        "lure.shared_document",
        2,
        &[
            "shared a document",
            "shared a file",
            "shared document",
            "sent you a document",
            "sent you a file",
            "view document",
            "view the document",
            "review the document",
            "secure document",
            "access the document",
            "documento compartilhado",
            "문서 공유",
            "공유 문서",
        ],
    ),
    (
        "lure.refund",
        2,
        &[
            "tax refund",
            "eligible for a refund",
            "restituição",
            "erstattung",
        ],
    ),
    (
        "lure.qr_code",
        2,
        &[
            "scan the qr",
            "qr code",
            "qr-code",
            "qrcode",
            "qr 코드",
            "qr코드",
        ],
    ),
    (
        "lure.gambling",
        3,
        &[
            "casino",
            "free spins",
            "jackpot",
            "online slots",
            "slot machine",
            "카지노",
            "바카라",
        ],
    ),
    (
        "lure.advance_fee",
        3,
        &[
            "compensation fund",
            "atm card",
            "beneficiary",
            "next of kin",
            "inheritance",
            "unclaimed",
            "million dollars",
            "million usd",
            "barrister",
            "diplomat",
            "consignment",
            "investment inquiry",
            "business proposal",
        ],
    ),
];

/// Does the message look as a mailing list makes it when it rewrites the
/// From, as Mailman and Google Groups do for authors whose domain publishes
/// a strict DMARC policy? The From is then `"Author via List" <list
/// address>`, the `Sender` is at the list's domain, and Reply-To names the
/// author (at the author's own address, often freemail). Every one of these
/// headers is the sender's to write (a list rarely re-signs, so no
/// signature vouches for them): a forger can claim it as easily. So the
/// claim lowers a Reply-To diversion's weight, it does not clear it.
fn list_rewrote_from(
    from_name: Option<&str>,
    reply_name: Option<&str>,
    from_domain: &str,
    sender_domain: Option<&str>,
) -> bool {
    let (Some(name), Some(reply), Some(sender)) = (from_name, reply_name, sender_domain) else {
        return false;
    };
    let Some(at) = name.rfind(" via ") else {
        return false;
    };
    let quotes: &[char] = &['\'', '"', ' '];
    let author = name[..at].trim_matches(quotes);
    let list = name[at + 5..].trim_matches(quotes);
    !author.is_empty()
        && !list.is_empty()
        && author.eq_ignore_ascii_case(reply.trim_matches(quotes))
        && base(sender) == base(from_domain)
}

fn domain_of(addr: &str) -> Option<String> {
    addr.rsplit_once('@')
        .map(|(_, d)| {
            d.trim()
                .trim_end_matches('>')
                .trim_end_matches('.')
                .to_ascii_lowercase()
        })
        .filter(|d| !d.is_empty())
}

/// Whether `reg` (a registrable domain) gives mailboxes to anyone.
pub(crate) fn is_freemail(reg: &str) -> bool {
    FREEMAIL.contains(&reg)
}

fn base(d: &str) -> String {
    lookalike::registrable(d).unwrap_or_else(|| d.to_string())
}

/// The rules on a sender's domain and display name: a lookalike domain, a
/// name that shows another domain's address, names a protected brand, or
/// claims an organisation from free mail. (Run on the From of a message,
/// and on the From its forwarder quotes.)
fn sender_rules(name: Option<&str>, d: &str, opts: &Options, ev: &mut Vec<Evidence>) {
    if let Some(l) = lookalike::check_host(d, &opts.protected) {
        ev.push(lookalike::evidence(&l, "sender domain"));
    }
    let Some(name) = name else {
        return;
    };
    let lname = name.to_lowercase();
    // A display name that is itself an address of another domain.
    if let Some(shown) = name
        .split_whitespace()
        .find(|w| w.contains('@'))
        .and_then(domain_of)
    {
        let shown = shown
            .trim_matches(|c: char| !c.is_ascii_alphanumeric())
            .to_string();
        // A name without a dot (`x@geropharm`) shows an organisation, not
        // a domain: the sender's own when it is the first label of the
        // sender's registrable domain (`geropharm.com`). So it stays silent
        // for `geropharm.top` too, which the name does not tell apart; a
        // protected brand's name is still caught there by
        // `sender.brand_name_elsewhere` and the lookalike checks.
        let own = if shown.contains('.') {
            base(&shown) == base(d)
        } else {
            base(d).split('.').next() == Some(shown.as_str())
        };
        if !shown.is_empty() && !own {
            ev.push(Evidence::new(
                "sender.name_is_other_address",
                4,
                format!("display name shows an address at {shown} but the mail is from {d}"),
            ));
        }
    }
    // A display name naming a protected brand, from elsewhere.
    if let Some(brand) = brand_named_in(&lname, &opts.protected) {
        if base(d) != base(&brand) && !opts.protected.owns(&base(d)) {
            ev.push(Evidence::new(
                "sender.brand_name_elsewhere",
                5,
                format!("display name \"{name}\" names {brand} but the mail is from {d}"),
            ));
        }
    }
    if is_freemail(&base(d)) && COMPANY_WORDS.iter().any(|w| contains_word(&lname, w)) {
        ev.push(Evidence::new(
            "sender.freemail_company",
            3,
            format!(
                "display name \"{name}\" claims an organisation, from the free mail provider {d}"
            ),
        ));
    }
}

/// Judges one message's bytes.
pub fn analyze(source: &str, raw: &[u8], opts: &Options) -> Report {
    let mut budget = Budget {
        bytes: MAX_ATTACHED_BYTES,
        skipped: 0,
    };
    let mut r = judge(source, raw, opts, 0, &mut budget);
    if budget.skipped > 0 {
        r.evidence.push(Evidence::new(
            "forward.unjudged",
            1,
            format!(
                "{} attached messages not judged: past the {} MB or the {MAX_ATTACHED_JUDGED} a message of attached mail judged",
                budget.skipped,
                MAX_ATTACHED_BYTES >> 20
            ),
        ));
        r.score += 1;
        r.verdict = Verdict::of(r.score);
    }
    r
}

/// Messages attached to one message (`message/rfc822`) judged at most,
/// the smallest first.
const MAX_ATTACHED_JUDGED: usize = 8;
/// Bytes of the messages attached to a message judged at most (those
/// they hold are within, and re-read at most [`MAX_FORWARD_DEPTH`] times).
const MAX_ATTACHED_BYTES: usize = 8 << 20;

/// What is left of [`MAX_ATTACHED_BYTES`] while a message is judged.
struct Budget {
    bytes: usize,
    /// Attached messages left unjudged for want of it.
    skipped: usize,
}

/// Adds the evidence found on a forwarded original to the forwarder's,
/// its words saying `whose`; a rule that fired on both counts once, at the
/// higher weight. Left out: evidence on the copy's integrity (headers a
/// forward rewrites, its parse), its attachments (inspected with the outer
/// message's), its subject's `Fwd:`, and whatever speaks for it
/// (authentication results and any weight of 0 or less: anyone can put
/// a passing `Authentication-Results` in a message they attach).
fn merge_forwarded(ev: &mut Vec<Evidence>, inner: Vec<Evidence>, whose: &str) {
    for e in inner {
        let skip = ["header.", "parse.", "attach.", "auth."]
            .iter()
            .any(|p| e.rule.starts_with(p))
            || e.rule == "subject.fake_reply"
            || e.weight <= 0;
        if skip {
            continue;
        }
        let e = Evidence::new(e.rule, e.weight, format!("{whose}: {}", e.words));
        match ev.iter_mut().find(|o| o.rule == e.rule) {
            Some(o) if o.weight < e.weight => *o = e,
            Some(_) => {}
            None => ev.push(e),
        }
    }
}

/// A message's bytes as received (`raw`), the copy mail-parser reads
/// (`bytes`, see [`pad_dates`]) and where that copy has two spaces more
/// (`inserted`, offsets in `bytes`, ascending): what the parser hands out
/// as a slice of the copy maps back to the bytes received, so that an
/// attachment's hash and a forwarded message's signatures are those of
/// what was sent.
pub(crate) struct Safe<'r> {
    raw: &'r [u8],
    bytes: Cow<'r, [u8]>,
    inserted: Vec<usize>,
}

impl<'r> Safe<'r> {
    fn new(raw: &'r [u8]) -> Safe<'r> {
        Safe::padding(raw, &[])
    }

    /// With the lines that end at `extra` (offsets of their `\n` in
    /// `raw`) padded too.
    fn padding(raw: &'r [u8], extra: &[usize]) -> Safe<'r> {
        let (bytes, inserted) = pad_dates(raw, extra);
        Safe {
            raw,
            bytes,
            inserted,
        }
    }

    /// The offset in `raw` of byte `at` of the copy (not one of the
    /// added spaces).
    fn raw_offset(&self, at: usize) -> usize {
        at - 2 * self.inserted.partition_point(|&i| i < at)
    }

    /// Whether `s` lies in the copy that was padded.
    fn holds(&self, s: &[u8]) -> bool {
        let (base, p) = (self.bytes.as_ptr() as usize, s.as_ptr() as usize);
        !self.inserted.is_empty() && p >= base && p + s.len() <= base + self.bytes.len()
    }

    /// `s` as received: itself unless it lies in the padded copy; then
    /// the bytes of `raw` it stands for (a copy without the added spaces
    /// if it holds some).
    fn original<'s>(&'s self, s: &'s [u8]) -> Cow<'s, [u8]> {
        if !self.holds(s) {
            return Cow::Borrowed(s);
        }
        let a = s.as_ptr() as usize - self.bytes.as_ptr() as usize;
        let b = a + s.len();
        let before = self.inserted.partition_point(|&i| i + 2 <= a);
        let upto = self.inserted.partition_point(|&i| i < b);
        let within = &self.inserted[before..upto];
        if within.is_empty() {
            let o = a - 2 * before;
            return Cow::Borrowed(&self.raw[o..o + s.len()]);
        }
        let mut v = Vec::with_capacity(s.len());
        let mut at = a;
        for &i in within {
            if i > at {
                v.extend_from_slice(&self.bytes[at..i]);
            }
            at = at.max((i + 2).min(b));
        }
        v.extend_from_slice(&self.bytes[at..b]);
        Cow::Owned(v)
    }
}

/// `raw` as mail-parser can read it: every line of a `Date` or
/// `Resent-Date` header with a letter among its last two bytes ends with
/// two spaces more. mail-parser 0.11 reads the two bytes after a letter of
/// a time zone whatever they are, so `Date: ... UT` (RFC 5322's obsolete
/// zone, in real mail) or `... Z` swallows the line break and the next
/// header with it: a `From` or `Content-Type` placed there went unseen,
/// with the attachments it declares. Trailing spaces change nothing for
/// any reader (the zone ends at them). Lines of bodies that look alike
/// get the spaces too, which no rule reads. Borrowed when nothing
/// needs them, as for nearly all mail; with the offsets where the copy
/// has the spaces. The lines ending at the offsets `extra` (sorted) get
/// them too.
fn pad_dates<'r>(raw: &'r [u8], extra: &[usize]) -> (Cow<'r, [u8]>, Vec<usize>) {
    // Whether mail-parser reads `line` as a `Date` or `Resent-Date` field:
    // as its `parse_header_name` does, white space (SP, HT, CR, FF) is
    // skipped wherever it is, a `:` before the name is ignored, the name
    // ends at the next `:` on the line (`\rDa te :x` is a Date).
    fn date_field(line: &[u8]) -> bool {
        let mut name = [0u8; 11];
        let mut n = 0;
        for &b in line {
            match b {
                b':' if n > 0 => {
                    let name = &name[..n];
                    return name == b"date" || name == b"resent-date";
                }
                b':' => {}
                _ if b.is_ascii_whitespace() => {}
                // Most lines: the first letter already says no.
                _ if n == 0 && !matches!(b, b'd' | b'D' | b'r' | b'R') => return false,
                _ if n == name.len() => return false,
                _ => {
                    name[n] = b.to_ascii_lowercase();
                    n += 1;
                }
            }
        }
        false
    }
    let mut out: Option<Vec<u8>> = None;
    let mut inserted = Vec::new();
    let mut in_date = false;
    let look = prepass();
    let mut start = 0;
    while start < raw.len() {
        let end = memchr::memchr(b'\n', &raw[start..]).map_or(raw.len(), |i| start + i);
        let line = &raw[start..end];
        // A line that starts with white space continues a Date field, or
        // is one (mail-parser skips the space when no field came before).
        // Or one starts right after a MIME boundary on the same line
        // (`--b\rDate:`, `--bDate:`): mail-parser reads a part's headers
        // from just past the boundary, white space skipped.
        let after_boundary = |line: &[u8]| {
            line.starts_with(b"--")
                && (2..line.len())
                    .any(|i| matches!(line[i], b'd' | b'D' | b'r' | b'R') && date_field(&line[i..]))
        };
        in_date = look
            && ((in_date && matches!(line.first(), Some(b' ' | b'\t')))
                || date_field(line)
                || after_boundary(line));
        let content = line.strip_suffix(b"\r").unwrap_or(line);
        let tail = &content[content.len().saturating_sub(2)..];
        let pad = in_date && tail.iter().any(u8::is_ascii_alphabetic);
        if end < raw.len() && (pad || extra.binary_search(&end).is_ok()) {
            let o = out.get_or_insert_with(|| {
                let mut v = Vec::with_capacity(raw.len() + 64);
                v.extend_from_slice(&raw[..start]);
                v
            });
            o.extend_from_slice(content);
            inserted.push(o.len());
            o.extend_from_slice(b"  ");
            o.extend_from_slice(&raw[start + content.len()..=end]);
        } else if let Some(o) = out.as_mut() {
            o.extend_from_slice(&raw[start..(end + 1).min(raw.len())]);
        }
        start = end + 1;
    }
    match out {
        Some(v) => (Cow::Owned(v), inserted),
        None => (Cow::Borrowed(raw), inserted),
    }
}

#[cfg(not(test))]
fn prepass() -> bool {
    true
}

#[cfg(test)]
thread_local! {
    /// Unit tests turn the pre-pass off to see [`swallowed`] at work.
    static NO_PREPASS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
fn prepass() -> bool {
    !NO_PREPASS.with(std::cell::Cell::get)
}

/// The line ends (offsets of their `\n` in `bytes`) of the `Date` and
/// `Resent-Date` fields of `msg` (parsed from `bytes`; its parts, and
/// forwarded messages the parser read from the same bytes, which list
/// their attachments from there) whose value runs on past a line that the
/// next one does not continue: the parser took the next field for part of
/// the date (see [`pad_dates`]). The pre-pass pads every spelling the
/// parser was found to read so; this finds any other after the fact.
fn swallowed(bytes: &[u8], msg: &mail_parser::Message) -> Vec<usize> {
    use mail_parser::HeaderName;
    let mut found = Vec::new();
    let mut todo = vec![msg];
    while let Some(m) = todo.pop() {
        // A forwarded message read from these bytes has its headers'
        // offsets in them too; one decoded from an encoded part has them
        // in the decoded bytes, which these are not.
        let inner = m.raw_message();
        let within = (inner.as_ptr() as usize)
            .checked_sub(bytes.as_ptr() as usize)
            .is_some_and(|at| at + inner.len() <= bytes.len());
        if !within {
            continue;
        }
        for p in &m.parts {
            todo.extend(p.message());
            for h in &p.headers {
                if !matches!(h.name, HeaderName::Date | HeaderName::ResentDate) {
                    continue;
                }
                let (a, b) = (h.offset_start as usize, h.offset_end as usize);
                let Some(value) = bytes.get(a..b.min(bytes.len())) else {
                    continue;
                };
                let nl = memchr::memchr_iter(b'\n', value)
                    .find(|&i| value.get(i + 1).is_some_and(|c| !matches!(c, b' ' | b'\t')));
                found.extend(nl.map(|nl| a + nl));
            }
        }
        if found.len() > 64 {
            break;
        }
    }
    found
}

/// When the header block of `raw` ends (at `body`, as mail-parser found)
/// with a line that is not empty but white space only (SP, HT, FF, CR:
/// mail-parser ends the headers there, others may read on) and one of the
/// next lines is a field a reader shows or a MIME reader obeys, that
/// field's name.
fn fields_after_blank_like_line(raw: &[u8], body: u32) -> Option<&'static str> {
    const SHOWN: [&str; 7] = [
        "From",
        "Reply-To",
        "Subject",
        "To",
        "Content-Type",
        "Content-Disposition",
        "Content-Transfer-Encoding",
    ];
    let head = raw.get(..body as usize)?.strip_suffix(b"\n")?;
    let sep = &head[head.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)..];
    if sep.is_empty() || sep == b"\r" {
        return None;
    }
    raw[body as usize..]
        .split(|&b| b == b'\n')
        .take(20)
        .find_map(|line| {
            let colon = line.iter().take(40).position(|&b| b == b':')?;
            let name = line[..colon].trim_ascii();
            SHOWN
                .into_iter()
                .find(|f| f.as_bytes().eq_ignore_ascii_case(name))
        })
}

/// The subject rules that read the subject alone.
fn subject_rules(sub: &str, ev: &mut Vec<Evidence>) {
    if let Some(tok) = random_token(sub) {
        ev.push(Evidence::new(
            "subject.random_token",
            4,
            format!("the subject carries the random tag \"{tok}\" (a campaign's tracking code)"),
        ));
    }
    if let Some(n) = count_bait(sub) {
        ev.push(Evidence::new(
            "subject.count_bait",
            2,
            format!("the subject dangles a count, \"({n})\", as notifications of unread items do"),
        ));
    }
    if sub.chars().any(is_emoji) {
        ev.push(Evidence::new(
            "subject.emoji",
            2,
            "the subject carries emoji",
        ));
    }
}

/// Judges a message at `depth` forwards inside the one given: attachments
/// are inspected at depth 0 only (with those of every forwarded message).
fn judge(source: &str, raw: &[u8], opts: &Options, depth: usize, budget: &mut Budget) -> Report {
    judge_padded(source, raw, opts, depth, budget, &mut Vec::new(), 0)
}

/// Parses of a message after the first, at most, to pad `Date` fields
/// found swallowing a line after parsing (each parse reads up to
/// [`MAX_MESSAGE`]: a crafted message whose every padding shows one more
/// swallow must not cost 64 of them).
const MAX_REPARSES: u32 = 3;

/// [`judge`], with the lines ending at `extra` (sorted) padded too; `Date`
/// fields that still swallow a line add their lines and start again, up to
/// 64 lines and [`MAX_REPARSES`] more parses; any left is evidence.
fn judge_padded(
    source: &str,
    raw: &[u8],
    opts: &Options,
    depth: usize,
    budget: &mut Budget,
    extra: &mut Vec<usize>,
    reparses: u32,
) -> Report {
    let mut ev: Vec<Evidence> = Vec::new();
    let (whole, cut) = (raw, raw.len() > MAX_MESSAGE);
    let raw = &raw[..raw.len().min(MAX_MESSAGE)];
    let mut ind = Indicators::default();
    let padded = Safe::padding(raw, extra);
    let safe = &padded.bytes;
    let Some(msg) = MessageParser::default().parse(&safe[..]) else {
        ev.push(Evidence::new(
            "parse.unreadable",
            3,
            "not a readable RFC 5322 message",
        ));
        return finish(source, None, ev, ind);
    };
    let left = swallowed(safe, &msg);
    if !left.is_empty() {
        let new: Vec<usize> = left
            .iter()
            .map(|&at| padded.raw_offset(at))
            .filter(|at| extra.binary_search(at).is_err())
            .collect();
        if !new.is_empty() && extra.len() + new.len() <= 64 && reparses < MAX_REPARSES {
            extra.extend(new);
            extra.sort_unstable();
            // Not held through the next round (a copy of up to 32 MB each).
            drop(msg);
            drop(padded);
            return judge_padded(source, whole, opts, depth, budget, extra, reparses + 1);
        }
        ev.push(Evidence::new(
            "parse.date_swallowed",
            4,
            "a Date field runs on into the next header line: a way to hide a header (a sender, a MIME type declaring attachments) from filters",
        ));
    }
    let msg = &msg;
    if cut {
        ev.push(Evidence::new(
            "parse.huge",
            1,
            format!("message over {} MB, read in part", MAX_MESSAGE >> 20),
        ));
    }
    if let Some(field) = fields_after_blank_like_line(safe, msg.root_part().raw_body_offset()) {
        ev.push(Evidence::new(
            "parse.header_split",
            4,
            format!(
                "the headers end at a line of only white space and a {field} field follows it: mail programs differ on where such headers end, a way to show a reader fields a filter does not see"
            ),
        ));
    }
    let subject = msg
        .subject()
        .map(|s| s.chars().take(300).collect::<String>());

    // Subject and headers.
    if let Some(sub) = &subject {
        subject_rules(sub, &mut ev);
        let to = msg
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(|s| s.to_lowercase());
        if let Some(to) = to.filter(|t| t.contains('@')) {
            if sub.to_lowercase().contains(&to) {
                ev.push(Evidence::new(
                    "subject.names_recipient",
                    3,
                    "the subject names the recipient's own address",
                ));
            }
        }
    }
    if let Some(sub) = &subject {
        let l = sub.trim_start().to_lowercase();
        let prefix = [
            "re:", "re ", "fw:", "fwd:", "enc:", "res:", "aw:", "wg:", "tr:", "sv:", "antw:",
        ]
        .iter()
        .find(|p| l.starts_with(*p));
        // Outlook threads forwards by Thread-Index alone.
        let threaded = !matches!(msg.in_reply_to(), mail_parser::HeaderValue::Empty)
            || !matches!(msg.references(), mail_parser::HeaderValue::Empty)
            || msg
                .headers_raw()
                .any(|(n, _)| n.eq_ignore_ascii_case("Thread-Index"));
        if let Some(p) = prefix.filter(|_| !threaded) {
            ev.push(Evidence::new(
                "subject.fake_reply",
                1,
                format!(
                    "the subject starts \"{}\" as a reply or forward, but the mail answers no earlier one (no In-Reply-To or References)",
                    p.trim()
                ),
            ));
        }
    }
    if msg.message_id().is_none() {
        ev.push(Evidence::new(
            "header.no_message_id",
            2,
            "no Message-ID (every real mail system writes one)",
        ));
    }
    if msg.date().is_none() {
        ev.push(Evidence::new("header.no_date", 1, "no readable Date"));
    }
    if msg.html_body_count() > 0 && msg.text_bodies().all(|p| p.is_text_html()) {
        ev.push(Evidence::new(
            "body.html_only",
            2,
            "HTML only, no plain-text version",
        ));
    }

    // Sender.
    // The first entry with an address: an unquoted comma in a display
    // name (`Microsoft account team ,_<x@y>`) splits it in two, so that
    // readers show the name and hide the address.
    let from_list: Vec<_> = msg.from().map(|a| a.iter().collect()).unwrap_or_default();
    let from = from_list
        .iter()
        .copied()
        .find(|a| a.address().is_some())
        .or(from_list.first().copied());
    if from_list.len() > 1 && from_list.iter().any(|a| a.address().is_none()) {
        ev.push(Evidence::new(
            "sender.malformed_from",
            1,
            "the From header splits into several entries, one without an address (an unquoted comma in the display name)",
        ));
    }
    let from_addr = from.and_then(|a| a.address()).map(|s| s.to_string());
    // `support@brand.example@brand.example`: no mail program writes an
    // address with two `@` outside quotes; a forger's script does.
    if let Some(a) = from_addr.as_deref().filter(|a| ats_outside_quotes(a) > 1) {
        ev.push(Evidence::new(
            "sender.invalid_address",
            3,
            format!(
                "the From address \"{}\" is no valid address (more than one '@')",
                a.chars().take(120).collect::<String>()
            ),
        ));
    }
    // The name a reader sees: every entry's, when a comma split it.
    let from_name = Some(
        from_list
            .iter()
            .filter_map(|a| a.name())
            .collect::<Vec<_>>()
            .join(", "),
    )
    .filter(|n| !n.is_empty())
    // Bounded, as the subject: it is quoted in evidence.
    .map(|n| n.chars().take(300).collect::<String>());
    let sender_domain = from_addr.as_deref().and_then(domain_of);
    ind.from = from_addr.clone();
    ind.sender_domain = sender_domain.clone();
    ind.reply_to = msg
        .reply_to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(str::to_string);
    ind.return_path = msg.return_address().map(str::to_string);
    if let Some(d) = &sender_domain {
        let free = is_freemail(&base(d));
        sender_rules(from_name.as_deref(), d, opts, &mut ev);
        if let Some(r) = ind.reply_to.as_deref().and_then(domain_of) {
            if base(&r) != base(d) {
                let reply_name = msg
                    .reply_to()
                    .and_then(|a| a.first())
                    .and_then(|a| a.name());
                let list_sender = msg
                    .sender()
                    .and_then(|a| a.first())
                    .and_then(|a| a.address())
                    .and_then(domain_of);
                let usual = if is_freemail(&base(&r)) && !free {
                    3
                } else {
                    0
                };
                let (w, words) = if list_rewrote_from(
                    from_name.as_deref(),
                    reply_name,
                    d,
                    list_sender.as_deref(),
                ) {
                    // Lowered, never raised: a list's look is no evidence.
                    (
                        usual.min(1),
                        format!("replies go to {r}, the author's address if, as its headers claim (\"... via list\", the list's Sender), a mailing list at {d} rewrote the From"),
                    )
                } else {
                    (usual, format!("replies go to {r}, not to the sender's {d}"))
                };
                ev.push(Evidence::new("sender.reply_to_differs", w, words));
            }
        }
    } else {
        ev.push(Evidence::new(
            "sender.missing",
            5,
            "no readable From address",
        ));
    }

    // Authentication: the trusted server's results, DKIM, DMARC (auth.rs).
    // For a forwarded message too: its `auth.*` evidence is left out
    // (`merge_forwarded`), but its signers tell a brand's genuine mail
    // from a forgery of its domain (`sender.brand_domain_unsigned`).
    let checked = crate::auth::check(raw, msg, sender_domain.as_deref(), opts);
    ev.extend(checked.evidence);

    // Bodies: links and text.
    let mut links: Vec<Link> = Vec::new();
    let mut text = String::new();
    let mut offscreen = None;
    // The HTML bodies, for their visible text (measured only if needed).
    let mut html_bodies: Vec<&str> = Vec::new();
    for part in msg.html_bodies() {
        if let Some(h) = part.text_contents() {
            html_bodies.push(h);
            offscreen = offscreen.or_else(|| crate::content::offscreen(h));
            indicators::html_links(h, &mut links);
            if text.len() < MAX_TEXT {
                text.push_str(&indicators::strip_tags(h));
                text.push('\n');
            }
        }
    }
    // Where the plain text starts in `text` (a quoted forward header is
    // read there first: tag stripping takes `<a@b>` for a tag).
    let plain_from = text.len();
    let mut escaped = None;
    for part in msg.text_bodies() {
        if part.is_text_html() {
            continue;
        }
        if let Some(t) = part.text_contents() {
            escaped = escaped.or_else(|| letter_entities(t));
            indicators::text_links(t, &mut links);
            if text.len() < MAX_TEXT {
                text.push_str(t);
                text.push('\n');
            }
        }
    }
    let mut cut_at = text.len().min(MAX_TEXT);
    while !text.is_char_boundary(cut_at) {
        cut_at -= 1;
    }
    text.truncate(cut_at);
    link_rules(&links, sender_domain.as_deref(), opts, &mut ev);
    if let Some(shown) = escaped {
        ev.push(Evidence::new(
            "body.plain_text_escaped",
            1,
            format!("the plain-text version shows HTML escapes of letters ({shown}): a template pasted in, not text a mail program wrote"),
        ));
    }
    if let Some(px) = offscreen {
        ev.push(Evidence::new(
            "body.offscreen_text",
            4,
            format!("the HTML pushes content {px} pixels off the screen (text for filters, not for the reader)"),
        ));
    }
    let words = text
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .take(12)
        .count();
    if words < 12
        && links
            .iter()
            .any(|l| l.from == "a" || l.from == "img" || l.from == "text")
    {
        ev.push(Evidence::new(
            "body.little_text",
            2,
            format!(
                "the mail says almost nothing itself ({words} words) but shows a link or an image"
            ),
        ));
    }
    for l in &links {
        ind.add_link_domain(&l.host);
    }
    ind.urls = links
        .iter()
        .filter(|l| !l.url.is_empty())
        .map(|l| l.url.clone())
        .take(MAX_URLS)
        .collect();

    // Lures, in the subject and the text.
    let hay = format!("{}\n{}", subject.as_deref().unwrap_or(""), text).to_lowercase();
    let found = lure_words_in(&hay);
    // A long text (a newsletter, a digest) says "winner" or "immediately"
    // by chance: its lure words weigh half, but for those of the subject.
    // Counted in one version of the body (the HTML one, else the plain
    // one), not both; not when text is hidden off the screen, and without
    // elements a style hides (padding written to dilute the lures).
    let long_text = || {
        let one_version = match text.get(..plain_from.min(text.len())) {
            Some(h) if !h.trim().is_empty() => h,
            _ => return is_long(text.get(plain_from..).unwrap_or("")),
        };
        // Hiding only shortens: the visible text is read only if needed.
        is_long(one_version) && {
            let visible: String = html_bodies
                .iter()
                .map(|h| indicators::visible_text(h))
                .collect();
            is_long(&visible)
        }
    };
    // Measured only if a lure word is found.
    let mut long = None;
    let lsub = subject.as_deref().unwrap_or("").to_lowercase();
    for (l, (rule, w, words)) in LURES.iter().enumerate() {
        // The first word of the list found, as the list orders them.
        if let Some(hit) = words
            .iter()
            .enumerate()
            .find(|&(k, _)| found.contains(&(l, k)))
        {
            let long = *long.get_or_insert_with(|| offscreen.is_none() && long_text());
            let (w, said) = if long && !starts_word(&lsub, hit.1) {
                ((w / 2).max(1), format!("the text says \"{}\" (among more than {LONG_TEXT_WORDS} words: half the weight)", hit.1))
            } else {
                (*w, format!("the text says \"{}\"", hit.1))
            };
            ev.push(Evidence::new(rule, w, said));
        }
    }
    // The original of an inline forward: its sender and subject judged
    // as a message's own are (its text is in `hay` already). Only with an
    // address: a quoted name alone says nothing of who sent it.
    let quoted = text
        .get(plain_from..)
        .and_then(crate::forward::quoted_original)
        .filter(|q| q.addr.is_some())
        .or_else(|| {
            text.get(..plain_from.min(text.len()))
                .and_then(crate::forward::quoted_original)
        });
    crate::content::rules(
        &crate::content::Seen {
            subject: subject.as_deref().unwrap_or(""),
            from_name: from_name.as_deref(),
            from_addr: from_addr.as_deref(),
            sender_domain: sender_domain.as_deref(),
            hay: &hay,
            protected: &opts.protected,
            // Signatures past the ones read are not counted: a forger could
            // hide a brand's behind junk ones otherwise.
            signers: Some(&checked.signers),
        },
        &mut ev,
    );
    // This message's own lures and addresses (not those of the messages
    // it forwards, merged below, which are judged on their own): any lure
    // (a listed word, a sextortion threat, a job's pay) with an address to
    // pay is what extortion and advance-fee mail ask.
    let lured = ev
        .iter()
        .any(|e| e.rule.starts_with("lure.") && e.weight > 0);
    indicators::crypto(&text, &mut ind.crypto);
    indicators::crypto(subject.as_deref().unwrap_or(""), &mut ind.crypto);
    if lured && !ind.crypto.is_empty() {
        ev.push(Evidence::new(
            "lure.pay_to_address",
            2,
            "asks for action and names a crypto address",
        ));
    }
    if let Some(q) = quoted {
        if let Some(d) = q.addr.as_deref().and_then(domain_of) {
            let mut inner = Vec::new();
            sender_rules(q.name.as_deref(), &d, opts, &mut inner);
            let sub = q.subject.as_deref().unwrap_or("");
            subject_rules(sub, &mut inner);
            crate::content::rules(
                &crate::content::Seen {
                    subject: sub,
                    from_name: q.name.as_deref(),
                    from_addr: q.addr.as_deref(),
                    sender_domain: Some(&d),
                    // The text's rules fired on the forwarder's text,
                    // which holds the original's.
                    hay: "",
                    protected: &opts.protected,
                    // A quoted header carries no signature.
                    signers: None,
                },
                &mut inner,
            );
            merge_forwarded(&mut ev, inner, "in the forwarded message");
        }
    }
    // Messages attached whole (forwarded as attachments, as "report
    // phishing" buttons do): each judged as a message, depth bounded. An
    // `.eml` file sent as another type (`application/octet-stream`, as some
    // webmails do) too; its attachments are inspected with this message's
    // (below).
    if depth < MAX_FORWARD_DEPTH {
        // As received, not as padded for the parser: their own signatures
        // are checked.
        let mut attached: Vec<Cow<[u8]>> = msg
            .attachments()
            .filter_map(|p| match p.message() {
                Some(m) => Some(m.raw_message()),
                None => is_eml_file(p).then(|| p.contents()),
            })
            .map(|b| padded.original(b))
            .collect();
        // The smallest first: a large decoy does not hide a small one.
        attached.sort_by_key(|raw| raw.len());
        budget.skipped += attached.len().saturating_sub(MAX_ATTACHED_JUDGED);
        attached.truncate(MAX_ATTACHED_JUDGED);
        for raw in attached {
            // Charged once, at the top: what nested ones hold is inside.
            if depth == 0 {
                let Some(left) = budget.bytes.checked_sub(raw.len()) else {
                    budget.skipped += 1;
                    continue;
                };
                budget.bytes = left;
            }
            // Parsed again from its own bytes: the message the parser
            // opened inside this one keeps offsets into this one's bytes,
            // which DKIM's reading of its headers cannot take (a panic in
            // mail-auth, found by `attached_messages_past_the_limit_…`).
            let r = judge(source, &raw, opts, depth + 1, budget);
            merge_forwarded(&mut ev, r.evidence, "in the attached message");
            ind.absorb(r.indicators);
        }
    }
    if depth > 0 {
        return finish(source, subject, ev, ind);
    }
    // Attachments, with those of forwarded messages, on one budget.
    let mut parts = Vec::new();
    let mut unlisted = collect_attachments(msg, 0, &mut parts);
    // Messages sent as `.eml` files of another type: their attachments
    // too, of the files chosen as for judging (the smallest first, 8 and
    // 8 MB at most; `.eml` files inside them are not opened again, their
    // forwarded `message/rfc822` parts are, 3 deep).
    let mut eml_bytes: Vec<&[u8]> = msg
        .attachments()
        .filter(|p| p.message().is_none() && is_eml_file(p))
        .map(|p| p.contents())
        .collect();
    eml_bytes.sort_by_key(|b| b.len());
    let mut room = MAX_ATTACHED_BYTES;
    let eml_files: Vec<Cow<[u8]>> = eml_bytes
        .into_iter()
        .map(|b| padded.original(b))
        .take(MAX_ATTACHED_JUDGED)
        .filter(|b| match room.checked_sub(b.len()) {
            Some(r) => {
                room = r;
                true
            }
            None => false,
        })
        .collect::<Vec<_>>();
    let eml_safe: Vec<Safe> = eml_files.iter().map(|b| Safe::new(b)).collect();
    let eml_files: Vec<mail_parser::Message> = eml_safe
        .iter()
        .filter_map(|b| MessageParser::default().parse(&b.bytes[..]))
        .collect();

    for m in &eml_files {
        unlisted += collect_attachments(m, 1, &mut parts);
    }
    let mut inspector = attach::Inspector::new(attach::Limits::default());
    let mut att_ev: Vec<Evidence> = Vec::new();
    let mut doc_links: Vec<(String, Vec<Link>)> = Vec::new();
    for part in parts {
        let name = part.attachment_name();
        let declared = part.content_type().map(|c| match c.subtype() {
            Some(s) => format!("{}/{}", c.ctype(), s),
            None => c.ctype().to_string(),
        });
        // Its bytes as received, whichever copy the parser read.
        let bytes = std::iter::once(&padded)
            .chain(&eml_safe)
            .find(|p| p.holds(part.contents()))
            .map_or(Cow::Borrowed(part.contents()), |p| {
                p.original(part.contents())
            });
        let r = inspector.inspect(&attach::Attachment {
            name,
            declared: declared.as_deref(),
            bytes: &bytes,
        });
        ind.attachments.push(AttachmentNote {
            name: r.name.clone(),
            declared: declared.clone(),
            size: r.size,
            sha256: r.sha256.clone(),
            detected: r.detected,
        });
        // The attachment's own evidence already sums up its risky members.
        att_ev.extend(r.evidence.iter().cloned());
        links_of(&r, None, &mut doc_links);
    }
    ev.extend(once_per_rule(att_ev));
    // The links attachments hold (a PDF's one button, a document's
    // hyperlinks, an HTML file's anchors) are listed; those of a file with
    // a few (its buttons are its point: a lure) are judged as the body's
    // are, the file named. A file of many links (a report, a catalogue) is
    // judged by the rules ordinary documents do not fire only. A rule that
    // fired already counts once, at the higher weight. At most MAX_ATTACHMENT_LINKS in all (each host is
    // checked for lookalikes).
    let mut left = MAX_ATTACHMENT_LINKS;
    for (file, mut links) in doc_links {
        let many = links.len() > JUDGED_DOC_LINKS;
        links.truncate(left);
        left -= links.len();
        if links.is_empty() {
            break;
        }
        let mut found = Vec::new();
        link_rules(&links, sender_domain.as_deref(), opts, &mut found);
        if many {
            found.retain(|e| STRONG_LINK_RULES.iter().any(|r| e.rule.starts_with(r)));
        }
        for mut e in found {
            let stronger = ev.iter().any(|k| k.rule == e.rule && k.weight >= e.weight);
            if !stronger {
                ev.retain(|k| k.rule != e.rule);
                e.words = format!("{} (in {file})", e.words);
                ev.push(e);
            }
        }
        for l in links {
            ind.add_link_domain(&l.host);
            if ind.urls.len() < MAX_URLS {
                ind.urls.push(l.url);
            }
        }
    }
    if unlisted > 0 {
        ev.push(Evidence::new(
            "attach.unchecked",
            1,
            format!(
                "{unlisted} more attachments (or forwarded messages past depth {MAX_FORWARD_DEPTH}) not inspected: only the first {MAX_ATTACHMENTS} are"
            ),
        ));
    }
    finish(source, subject, ev, ind)
}

/// Attachments inspected per message, forwarded messages' included.
pub const MAX_ATTACHMENTS: usize = 100;

/// HTML's named escapes of accented letters (`&eacute;`, `&ccedil;`,
/// `&atilde;`...) in a plain text, when there are at least two: a mail
/// program writes the letters; a phishing kit fills its plain-text
/// version from the HTML template. The first two, as written; the text's
/// first 64 kB are read.
fn letter_entities(t: &str) -> Option<String> {
    const MARKS: &[&str] = &[
        "acute", "grave", "cedil", "tilde", "circ", "uml", "ring", "slash",
    ];
    const WHOLE: &[&str] = &["szlig", "ordm", "ordf", "aelig", "oelig", "eth", "thorn"];
    let b = t.as_bytes();
    let b = &b[..b.len().min(64 << 10)];
    let mut seen: Vec<&str> = Vec::new();
    let mut count = 0;
    for (i, _) in b.iter().enumerate().filter(|&(_, &c)| c == b'&') {
        let name_len = b[i + 1..]
            .iter()
            .take(9)
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        if name_len < 2 || b.get(i + 1 + name_len) != Some(&b';') {
            continue;
        }
        // ASCII letters only, so the slice is on char boundaries.
        let name = &t[i + 1..i + 1 + name_len];
        let lower = name.to_ascii_lowercase();
        let letter = WHOLE.contains(&lower.as_str())
            || MARKS
                .iter()
                .any(|m| lower.len() == m.len() + 1 && lower.ends_with(m));
        if letter {
            count += 1;
            if seen.len() < 2 && !seen.contains(&name) {
                seen.push(name);
            }
        }
    }
    (count >= 2).then(|| {
        seen.iter()
            .map(|n| format!("\"&{n};\""))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// The `@` signs of an address outside its quoted parts (`"a@b"@c` has
/// one), an obsolete source route (`@relay:a@b`) left out.
fn ats_outside_quotes(addr: &str) -> usize {
    let addr = match addr.strip_prefix('@').and_then(|r| r.split_once(':')) {
        Some((_, rest)) => rest,
        None => addr,
    };
    let (mut quoted, mut escaped, mut n) = (false, false, 0);
    for c in addr.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '@' if !quoted => n += 1,
            _ => {}
        }
    }
    n
}

/// A text of more words than this is long: its lure words weigh half.
const LONG_TEXT_WORDS: usize = 1500;

/// Whether `text` is long: more than [`LONG_TEXT_WORDS`] words of three
/// letters or more, of which 300 different at least (`x x x ...` or one
/// word repeated is padding, not a newsletter).
fn is_long(text: &str) -> bool {
    let mut distinct = std::collections::HashSet::new();
    let mut words = 0;
    for w in text.split_whitespace() {
        let w = w.trim_matches(|c: char| !c.is_alphabetic());
        if w.chars().count() >= 3 && w.chars().all(char::is_alphabetic) {
            words += 1;
            if distinct.len() < 300 {
                distinct.insert(w);
            }
            if words > LONG_TEXT_WORDS && distinct.len() >= 300 {
                return true;
            }
        }
    }
    false
}

/// Links of a message's attachments judged, at most.
const MAX_ATTACHMENT_LINKS: usize = 200;

/// A document with at most this many links is judged by all the link
/// rules; one with more, by [`STRONG_LINK_RULES`] only (shorteners and
/// free hosting are common in reports and CVs: `lnkd.in`, SharePoint).
const JUDGED_DOC_LINKS: usize = 3;

/// Link rules (prefixes) that hold for a document of any number of links.
const STRONG_LINK_RULES: &[&str] = &[
    "link.userinfo",
    "link.ip_literal",
    "link.data_uri",
    "domain.lookalike",
];

/// The links held by an attachment and its members, by file (those with
/// links only), each named as shown in evidence, a member after its
/// container (`docs.zip › invoice.pdf`); the reports' own bounds keep
/// this bounded.
fn links_of(r: &attach::Report, within: Option<&str>, out: &mut Vec<(String, Vec<Link>)>) {
    let name = match within {
        Some(c) => format!("{c} › {}", attach::shown(&r.name)),
        None => attach::shown(&r.name),
    };
    if !r.links.is_empty() {
        out.push((name.clone(), r.links.clone()));
    }
    for m in &r.inner {
        links_of(m, Some(&name), out);
    }
}

/// Whether an attachment is a message saved as a file (`.eml`) that the
/// parser did not open as one (sent as `application/octet-stream`).
fn is_eml_file(p: &mail_parser::MessagePart) -> bool {
    p.attachment_name()
        .is_some_and(|n| n.to_ascii_lowercase().ends_with(".eml"))
}

/// Forwarded messages (`message/rfc822`) are opened this deep.
const MAX_FORWARD_DEPTH: usize = 3;

/// The attachments of `msg` and of the messages it forwards, depth first,
/// at most [`MAX_ATTACHMENTS`]; returns how many were left out.
fn collect_attachments<'x>(
    msg: &'x mail_parser::Message<'x>,
    depth: usize,
    out: &mut Vec<&'x mail_parser::MessagePart<'x>>,
) -> usize {
    let mut left_out = 0;
    for part in msg.attachments() {
        match part.message() {
            Some(inner) if depth < MAX_FORWARD_DEPTH => {
                left_out += collect_attachments(inner, depth + 1, out);
            }
            Some(_) => left_out += 1,
            None if out.len() < MAX_ATTACHMENTS => out.push(part),
            None => left_out += 1,
        }
    }
    left_out
}

/// Evidence of attachments, one per rule: a thousand executables weigh as
/// one, and the words say how many.
fn once_per_rule(all: Vec<Evidence>) -> Vec<Evidence> {
    let mut out: Vec<(Evidence, usize)> = Vec::new();
    for e in all {
        match out.iter_mut().find(|(o, _)| o.rule == e.rule) {
            Some((o, n)) => {
                *n += 1;
                if e.weight > o.weight {
                    o.weight = e.weight;
                    o.words = e.words;
                }
            }
            None => out.push((e, 1)),
        }
    }
    out.into_iter()
        .map(|(mut e, n)| {
            if n > 1 {
                e.words = format!("{} (and {} more like it)", e.words, n - 1);
            }
            e
        })
        .collect()
}

/// A token of a subject that looks machine-made: ten or more letters and
/// digits mixing upper case, lower case and digits (`v5V0ZVRe1HjazliqQoYz`).
fn random_token(s: &str) -> Option<&str> {
    s.split(|c: char| !c.is_ascii_alphanumeric()).find(|t| {
        let (u, l, d) = t.chars().fold((0, 0, 0), |(u, l, d), c| {
            (
                u + c.is_ascii_uppercase() as u32,
                l + c.is_ascii_lowercase() as u32,
                d + c.is_ascii_digit() as u32,
            )
        });
        t.len() >= 10 && u >= 2 && l >= 2 && (d >= 1 || t.len() >= 14) && {
            // Not a camel-case word: count case switches.
            let switches = t
                .as_bytes()
                .windows(2)
                .filter(|w| w[0].is_ascii_uppercase() != w[1].is_ascii_uppercase())
                .count();
            switches >= 5
        }
    })
}

/// A small count in parentheses in a subject (`(3) unread messages`,
/// `RE (2):`), the bait of fake notifications.
fn count_bait(s: &str) -> Option<&str> {
    s.match_indices('(').find_map(|(i, _)| {
        let rest = &s[i + 1..];
        let n = rest.find(')')?;
        let inner = &rest[..n];
        (!inner.is_empty() && inner.len() <= 2 && inner.bytes().all(|b| b.is_ascii_digit()))
            .then_some(inner)
    })
}

fn is_emoji(c: char) -> bool {
    matches!(c as u32, 0x1F300..=0x1FAFF | 0x2600..=0x27BF | 0x1F000..=0x1F2FF)
}

/// Whether `w` occurs in `hay` at the start of a word (`expire` in
/// `expires`, not `kyc` in `quickycle`; non-ASCII `w`: anywhere, as Korean
/// joins particles to words).
pub(crate) fn starts_word(hay: &str, w: &str) -> bool {
    word_at(hay, w, false)
}

/// Whether `w` occurs in `hay` as a whole word (non-ASCII `w`: anywhere).
pub(crate) fn contains_word(hay: &str, w: &str) -> bool {
    word_at(hay, w, true)
}

/// Every lure word (list `l`, word `k` of [`LURES`]) found at the start of
/// a word of `hay` (lower case), as [`starts_word`] finds them, in one pass
/// over the text for all of them.
fn lure_words_in(hay: &str) -> std::collections::HashSet<(usize, usize)> {
    static MATCHER: std::sync::LazyLock<(aho_corasick::AhoCorasick, Vec<(usize, usize)>)> =
        std::sync::LazyLock::new(|| {
            let ids: Vec<(usize, usize)> = LURES
                .iter()
                .enumerate()
                .flat_map(|(l, (_, _, words))| (0..words.len()).map(move |k| (l, k)))
                .collect();
            let words = ids.iter().map(|&(l, k)| LURES[l].2[k]);
            let ac = aho_corasick::AhoCorasick::new(words).expect("the lure words build");
            (ac, ids)
        });
    let (ac, ids) = &*MATCHER;
    let edge = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    let mut found = std::collections::HashSet::new();
    for m in ac.find_overlapping_iter(hay) {
        let id = ids[m.pattern().as_usize()];
        let w = LURES[id.0].2[id.1];
        // A word with other letters than ASCII is found anywhere (as
        // `word_at` does).
        if !w.is_ascii() || edge(hay[..m.start()].chars().next_back()) {
            found.insert(id);
        }
    }
    found
}

/// `w` in `hay` after a non-alphanumeric character (or at the start), and,
/// if `whole`, before one (or at the end).
fn word_at(hay: &str, w: &str, whole: bool) -> bool {
    // `contains` is the vectorised search, and most words are absent:
    // one pass for them, the boundaries only for the rare hit.
    if !hay.contains(w) {
        return false;
    }
    if !w.is_ascii() {
        return true;
    }
    let edge = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    hay.match_indices(w).any(|(i, _)| {
        edge(hay[..i].chars().next_back()) && (!whole || edge(hay[i + w.len()..].chars().next()))
    })
}

/// The link rules; `sender` is the From domain, if any.
fn link_rules(links: &[Link], sender: Option<&str>, opts: &Options, ev: &mut Vec<Evidence>) {
    let own = sender.map(base);
    // Each rule once, with its weightiest link: the first link to show
    // another host may be a click counter of the sender's (weight 1), a
    // later one a brand's name over a stranger's link (3).
    let mut fired: std::collections::HashMap<&'static str, usize> = Default::default();
    let mut once = |ev: &mut Vec<Evidence>, e: Evidence| match fired.get(e.rule) {
        Some(&i) if ev[i].weight < e.weight => ev[i] = e,
        Some(_) => {}
        None => {
            fired.insert(e.rule, ev.len());
            ev.push(e);
        }
    };
    let mut lookalike_seen = false;
    // Each host is judged once, however many links go there.
    let mut checked = std::collections::HashSet::new();
    // Shown hosts already compared with the brands (a newsletter shows one
    // host in hundreds of links).
    let mut shown_checked: std::collections::HashMap<String, bool> = Default::default();
    for l in links {
        let lurl = l.url.to_ascii_lowercase();
        if l.from == "form" {
            once(
                ev,
                Evidence::new(
                    "link.form",
                    0,
                    format!(
                        "the mail holds a form{}",
                        if l.host.is_empty() {
                            String::new()
                        } else {
                            format!(" posting to {}", l.host)
                        }
                    ),
                ),
            );
            continue;
        }
        if lurl.starts_with("data:") {
            once(
                ev,
                Evidence::new(
                    "link.data_uri",
                    3,
                    "a link is a data: URI (content carried in the link)",
                ),
            );
            continue;
        }
        if l.host.is_empty() || l.from == "img" {
            continue;
        }
        let (_, userinfo) = indicators::host_of(&l.url);
        if userinfo {
            once(
                ev,
                Evidence::new(
                    "link.userinfo",
                    4,
                    format!("link {} hides its host after an '@'", l.host),
                ),
            );
        }
        if indicators::is_ip(&l.host) {
            once(
                ev,
                Evidence::new(
                    "link.ip_literal",
                    2,
                    format!("link goes to the bare address {}", l.host),
                ),
            );
        }
        if FREE_HOSTING
            .iter()
            .any(|f| l.host == *f || l.host.ends_with(&format!(".{f}")))
        {
            once(
                ev,
                Evidence::new(
                    "link.free_hosting",
                    3,
                    format!("link to a page on free hosting: {}", l.host),
                ),
            );
        }
        let to = base(&l.host);
        if SHORTENERS.contains(&to.as_str()) {
            once(
                ev,
                Evidence::new(
                    "link.shortener",
                    2,
                    format!("link through the shortener {}", l.host),
                ),
            );
        }
        if let Some(shown) = l.text.as_deref().and_then(indicators::host_in_text) {
            let shown_base = base(&shown);
            if shown_base != to {
                // A newsletter's own click counter (`dilbert.com` shown,
                // `ummail4.unitedmedia.com` from unitedmedia.com): the
                // link goes where the sender says it is from. Not when it
                // names a brand the sender does not own.
                let senders = own.as_deref() == Some(to.as_str())
                    && !opts.protected.owns(&shown_base)
                    && match shown_checked.get(&shown) {
                        Some(&clean) => clean,
                        None => {
                            let clean = lookalike::check_host(&shown, &opts.protected).is_none();
                            shown_checked.insert(shown.clone(), clean);
                            clean
                        }
                    };
                let (w, whose) = if senders {
                    (1, " (the sender's own domain)")
                } else {
                    (3, "")
                };
                once(
                    ev,
                    Evidence::new(
                        "link.text_names_other_host",
                        w,
                        format!("link text shows {shown} but goes to {}{whose}", l.host),
                    ),
                );
            }
        }
        if !lookalike_seen && checked.insert(l.host.as_str()) {
            if let Some(lk) = lookalike::check_host(&l.host, &opts.protected) {
                lookalike_seen = true;
                ev.push(lookalike::evidence(&lk, "link host"));
            }
        }
    }
}

impl Report {
    /// Adds evidence found outside the message (the chain's view of an
    /// address it names) and judges again.
    pub fn add(&mut self, e: Evidence) {
        self.score += e.weight;
        self.evidence.push(e);
        self.verdict = Verdict::of(self.score);
    }

    /// The evidence of rule `rule`, in the order found.
    pub fn fired(&self, rule: &str) -> Vec<&Evidence> {
        self.evidence.iter().filter(|e| e.rule == rule).collect()
    }
}

fn finish(
    source: &str,
    subject: Option<String>,
    evidence: Vec<Evidence>,
    indicators: Indicators,
) -> Report {
    let score = evidence.iter().map(|e| e.weight).sum();
    Report {
        source: source.to_string(),
        subject,
        verdict: Verdict::of(score),
        score,
        evidence,
        indicators,
    }
}

/// The protected brand whose name a display name uses as a word
/// ("Binance Support"), as its domain; brand names shorter than four
/// letters are too common to count.
fn brand_named_in(lname: &str, p: &Protected) -> Option<String> {
    p.distinctive().find_map(|d| {
        let label = d.split('.').next()?;
        (label.len() >= 4 && contains_word(lname, label)).then(|| d.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mailing list's rewritten From (Mailman's DMARC mitigation) sends
    /// replies to the author's freemail address: little weight (a forger
    /// can write the same headers). The same Reply-To without the list's
    /// Sender, or naming someone else, keeps its weight.
    #[test]
    fn a_list_rewritten_from_is_no_reply_to_diversion() {
        let mail = |from: &str, reply: &str, sender: &str| {
            let raw = format!(
                "From: {from}\nReply-To: {reply}\n{sender}Subject: Re: [radio] timing\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\nThe PPS input needs 3.3 V.\n"
            );
            let r = analyze("t", raw.as_bytes(), &Options::default());
            let e = r.fired("sender.reply_to_differs");
            assert_eq!(e.len(), 1, "{from} / {reply}: {:?}", r.evidence);
            e[0].weight
        };
        let list_sender = "Sender: \"radio\" <radio-bounces@lists.radio.example>\n";
        let from = "\"Ann Lee via radio\" <radio@lists.radio.example>";
        assert_eq!(
            mail(from, "\"Ann Lee\" <ann.lee@gmail.com>", list_sender),
            1
        );
        assert_eq!(mail(from, "'Ann Lee' <ann.lee@gmail.com>", list_sender), 1);
        // A reply to the author's company weighs nothing with or without
        // the list's look: lowered, never raised.
        assert_eq!(
            mail(
                from,
                "\"Ann Lee\" <ann.lee@radio-labs.example>",
                list_sender
            ),
            0
        );
        assert_eq!(
            mail(from, "\"Ann Lee\" <ann.lee@radio-labs.example>", ""),
            0
        );
        // No Sender at the list's domain, or another name, or no list name.
        assert_eq!(mail(from, "\"Ann Lee\" <ann.lee@gmail.com>", ""), 3);
        let elsewhere = "Sender: <x@bulk.example>\n";
        assert_eq!(mail(from, "\"Ann Lee\" <ann.lee@gmail.com>", elsewhere), 3);
        assert_eq!(
            mail(from, "\"Payroll\" <pay.dept@gmail.com>", list_sender),
            3
        );
        // (a name ending in " via " is trimmed by the parser: quotes here)
        let bare = "\"Ann Lee via ''\" <radio@lists.radio.example>";
        assert_eq!(
            mail(bare, "\"Ann Lee\" <ann.lee@gmail.com>", list_sender),
            3
        );
    }

    /// A display name `user@org` without a dot names an organisation: the
    /// sender's own when it is the first label of its registrable domain.
    #[test]
    fn a_dotless_name_address_is_compared_with_the_senders_organisation() {
        let fires = |name: &str, addr: &str| {
            let raw = format!("From: \"{name}\" <{addr}>\nSubject: hi\n\nhello\n");
            let r = analyze("t", raw.as_bytes(), &Options::default());
            !r.fired("sender.name_is_other_address").is_empty()
        };
        assert!(!fires("marina@geropharm", "marina@geropharm.com"));
        assert!(!fires("marina@geropharm.com", "marina@mail.geropharm.com"));
        assert!(fires("support@paypal", "billing@evil.example"));
        assert!(fires("support@paypal.com", "billing@evil.example"));
    }

    #[test]
    fn date_lines_ending_in_letters_get_two_spaces() {
        let same =
            b"From: a@b.example\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: UT\n\nDate: x";
        assert!(matches!(pad_dates(same, &[]).0, Cow::Borrowed(_)));
        let raw = b"Date: Mon, 1 Jan 2024\r\n 00:00:00 UT\r\nFrom: a@b.example\nRESENT-DATE : 1 Jan 2024 Z\nX: y\n\nDate: GMT";
        assert_eq!(
            &pad_dates(raw, &[]).0[..],
            b"Date: Mon, 1 Jan 2024\r\n 00:00:00 UT  \r\nFrom: a@b.example\nRESENT-DATE : 1 Jan 2024 Z  \nX: y\n\nDate: GMT"
        );
        // The spellings the parser reads as a Date field, each padded by
        // the pre-pass itself (not left to the check after parsing).
        for line in [
            "\rDate: 1 Jan 2024 UT",
            ":Date: 1 Jan 2024 UT",
            "Da te: 1 Jan 2024 UT",
            "D a t e:1 Jan 2024 UT",
            "Date                         : 1 Jan 2024 UT",
            "--b\rDate: 1 Jan 2024 UT",
            "--bDate: 1 Jan 2024 UT",
            " Date: 1 Jan 2024 UT",
        ] {
            let raw = format!("X: y\n{line}\nFrom: a@b.example\n\nhi\n");
            let (padded, at) = pad_dates(raw.as_bytes(), &[]);
            assert_eq!(at.len(), 1, "{line:?}");
            assert_eq!(&padded[at[0]..at[0] + 3], b"  \n", "{line:?}");
        }
    }

    /// A `Date` field that swallows the next line is found after parsing,
    /// whatever its spelling, and padding the line it names fixes it: on
    /// messages parsed without the pre-pass, every way it is known to
    /// happen.
    #[test]
    fn a_date_field_that_swallowed_a_line_is_found_after_parsing() {
        let from = "From: Alice <alice@a.example>";
        for (date, nl) in [
            ("Date: Mon, 1 Jan 2024 10:00:00 UT", "\n"),
            ("Date: Mon, 1 Jan 2024 10:00:00 Z", "\r\n"),
            ("Date: Mon, 1 Jan 2024 10:00:00 -a", "\n"),
            ("Resent-Date: Mon, 1 Jan 2024 10:00:00 UT", "\n"),
            ("Da te: Mon, 1 Jan 2024 10:00:00 UT", "\n"),
            (":Date: Mon, 1 Jan 2024 10:00:00 Z", "\r\n"),
        ] {
            let raw = format!("{date}{nl}{from}{nl}Subject: s{nl}{nl}body{nl}");
            let raw = raw.as_bytes();
            let msg = MessageParser::default().parse(raw).unwrap();
            assert!(
                msg.from().is_none(),
                "{date:?}: the parser's defect is gone?"
            );
            let at = swallowed(raw, &msg);
            assert_eq!(at.len(), 1, "{date:?} {nl:?}");
            let at = at[0];
            assert_eq!(&raw[at + 1..at + 5], b"From", "{date:?} {nl:?}");
            let fixed = pad_dates(raw, &[at]).0;
            let msg = MessageParser::default().parse(&fixed[..]).unwrap();
            assert!(swallowed(&fixed, &msg).is_empty());
            let sender = msg.from().and_then(|a| a.first()).and_then(|a| a.address());
            assert_eq!(sender, Some("alice@a.example"), "{date:?} {nl:?}");
        }
        // With the pre-pass off, the judgement finds and pads the lines
        // itself: the attachment and the sender are seen.
        let att = "--b\nContent-Type: text/plain\n\nsee attached\n--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"invoice.pdf.exe\"\n\nMZ\n--b--\n";
        // Judged with the pre-pass, then without: the same score, the
        // attachment seen, no swallow left.
        let both_ways = |m: &str| {
            let normal = analyze("m", m.as_bytes(), &Options::default());
            let fired = |r: &Report, rule| !r.fired(rule).is_empty();
            assert!(
                fired(&normal, "attach.double_extension"),
                "{:?}",
                normal.evidence
            );
            NO_PREPASS.with(|c| c.set(true));
            let after = analyze("m", m.as_bytes(), &Options::default());
            NO_PREPASS.with(|c| c.set(false));
            assert_eq!(after.score, normal.score, "{:?}", after.evidence);
            assert!(!fired(&after, "parse.date_swallowed"));
            (normal, after)
        };
        let m = format!("Subject: invoice\nMessage-ID: <1@a.example>\nDate: Mon, 1 Jan 2024 10:00:00 UT\nContent-Type: multipart/mixed; boundary=\"b\"\nResent-Date: Mon, 1 Jan 2024 10:00:00 UT\n{from}\n\n{att}");
        let (normal, after) = both_ways(&m);
        assert_eq!(normal.indicators.from.as_deref(), Some("alice@a.example"));
        assert_eq!(after.indicators.from, normal.indicators.from);
        // So in a forwarded message the parser reads from the same bytes,
        // whose attachments are listed from there; and eight decoys first
        // do not exhaust it.
        let decoys = "Resent-Date: Mon, 1 Jan 2024 10:00:00 UT\nX-A: a\n".repeat(8);
        let fwd = format!("Subject: fwd\nMessage-ID: <2@a.example>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n{from}\nContent-Type: multipart/mixed; boundary=\"o\"\n\n--o\nContent-Type: text/plain\n\nsee below\n--o\nContent-Type: message/rfc822\n\n{decoys}Subject: invoice\nDate: Mon, 1 Jan 2024 10:00:00 UT\nContent-Type: multipart/mixed; boundary=\"b\"\n{from}\n\n{att}\n--o--\n");
        both_ways(&fwd);
        // Folded dates and dates that end in digits are left alone.
        for ok in [
            "Date: Mon, 1 Jan 2024\n 10:00:00 +0000\nFrom: a@b.example\n\nx",
            "Date: Mon, 1 Jan 2024 10:00:00 GMT  \nFrom: a@b.example\n\nx",
        ] {
            let msg = MessageParser::default().parse(ok.as_bytes()).unwrap();
            assert!(swallowed(ok.as_bytes(), &msg).is_empty(), "{ok:?}");
        }
    }

    /// A link showing another host weighs 1 when it goes to the sender's
    /// own domain, 3 otherwise; one such link of each kind: the heavier
    /// is the evidence, whichever comes first.
    #[test]
    fn a_click_counter_of_the_sender_does_not_hide_a_stranger_s_link() {
        let judged = |links: &[(&str, &str)]| {
            let body: String = links
                .iter()
                .map(|(href, text)| format!("<a href=\"{href}\">{text}</a>\n"))
                .collect();
            let m = format!("From: News <news@mail.paper.example>\nTo: b@example.org\nSubject: today\nMessage-ID: <1@paper.example>\nDate: Mon, 23 Nov 2026 09:00:00 +0000\nContent-Type: text/html\n\n<p>{body}</p>\n");
            let r = analyze("m", m.as_bytes(), &Options::default());
            let e = r.fired("link.text_names_other_host");
            assert_eq!(e.len(), 1, "{:?}", r.evidence);
            e[0].weight
        };
        let own = ("http://click.paper.example/r?1", "www.weather.example");
        let stranger = ("http://tracker.example/r?2", "www.weather.example");
        let brand = ("http://click.paper.example/r?3", "www.binance.com");
        assert_eq!(judged(&[own]), 1);
        assert_eq!(judged(&[own, stranger]), 3);
        assert_eq!(judged(&[stranger, own]), 3);
        assert_eq!(judged(&[own, brand]), 3);
    }

    #[test]
    fn an_address_with_two_at_signs_is_invalid() {
        let judged = |from: &str| {
            let m = format!("From: {from}\nTo: b@example.org\nSubject: hi\nMessage-ID: <1@example.org>\nDate: Mon, 23 Nov 2026 09:00:00 +0000\n\nhello\n");
            analyze("m", m.as_bytes(), &Options::default())
                .evidence
                .iter()
                .any(|e| e.rule == "sender.invalid_address")
        };
        assert!(judged("Support <support@brand.example@brand.example>"));
        assert!(!judged("Support <support@brand.example>"));
        assert!(!judged("\"a@b\"@example.org"));
        assert!(!judged("Quoted <\"a@b\"@example.org>"));
        assert_eq!(ats_outside_quotes("x.\"a@b\"@y.example"), 1);
        assert_eq!(ats_outside_quotes("\"a\\\"@\"@b@c"), 2);
        assert_eq!(ats_outside_quotes("@relay.example:a@b.example"), 1);
        assert_eq!(ats_outside_quotes("a@b@c"), 2);
    }

    #[test]
    fn escaped_letters_in_plain_text() {
        assert_eq!(
            letter_entities("Cr&eacute;dito liberado, informa&ccedil;&otilde;es em anexo"),
            Some("\"&eacute;\", \"&ccedil;\"".to_string())
        );
        // One is a slip; markup's own escapes and look-alikes are not
        // letters; a lone `&` is nothing.
        assert_eq!(letter_entities("caf&eacute; au lait"), None);
        assert_eq!(letter_entities("a &amp; b &nbsp; &lt;tag&gt; &quot;"), None);
        assert_eq!(letter_entities("&acute; &cedil; &uml; AT&T; R&D;"), None);
        assert_eq!(
            letter_entities("Stra&szlig;e, S&Uuml;D &"),
            Some("\"&szlig;\", \"&Uuml;\"".to_string())
        );
    }

    /// The one-pass lure search finds exactly the words the word-by-word
    /// search does: at the start of a word for ASCII words (`kyc` not in
    /// `skyclad`), anywhere for the others, overlapping ones all.
    #[test]
    fn one_pass_lure_search_agrees_with_word_by_word() {
        let texts = [
            "dear customer, claim your share of the airdrop now: urgent!",
            "skyclad mountains; backyard dating-free zone; préclaim",
            "we are giving away 12 words... your wallet seed phrase 시드 구문 확인",
            "(kyc) [invoice] \"overdue\" fatura-boleto 당첨되셨습니다 보상금",
            "",
            "é",
        ];
        for t in texts {
            let hay = t.to_lowercase();
            let found = lure_words_in(&hay);
            for (l, (_, _, words)) in LURES.iter().enumerate() {
                for (k, w) in words.iter().enumerate() {
                    assert_eq!(
                        found.contains(&(l, k)),
                        starts_word(&hay, w),
                        "{w:?} in {t:?}"
                    );
                }
            }
        }
    }
}
