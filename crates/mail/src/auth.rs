//! Authentication of a message, offline: the `Authentication-Results` of
//! the trusted server, DKIM signatures verified against DNS records the
//! user supplies (or, with none, their body hashes checked), and DMARC
//! alignment of the passes with the From domain.
//!
//! Owns every `auth.*` rule, the records file ([`Dns`]) and the
//! verification itself (`mail-auth` 0.13: canonicalisation, signatures, key
//! and DMARC records). Must not: resolve a name or open a socket. Every TXT
//! lookup `mail-auth` makes is answered from the supplied records (a name
//! not supplied is answered "no such record"), and its resolver is built
//! with no name server at all; a lookup that did not complete at once would
//! be abandoned, not awaited.

use crate::analyze::Options;
use crate::evidence::Evidence;
use crate::lookalike;
use mail_auth::common::crypto::HashAlgorithm;
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::resolver::ToFqdn;
use mail_auth::common::verify::DomainKey;
use mail_auth::dkim::{DkimError, Signature};
use mail_auth::dmarc::{Alignment, Dmarc, Policy};
use mail_auth::hickory_resolver::config::{ResolveHosts, ResolverConfig, ResolverOpts};
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::{
    AuthenticatedMessage, DkimResult, DnsError, Error, MessageAuthenticator, Parameters,
    ResolverCache, Txt,
};
use mail_parser::Message;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::path::Path;
use std::sync::OnceLock;

/// DKIM-Signature headers checked per message at most; the rest are
/// counted, not checked.
pub const MAX_SIGNATURES: usize = 8;
/// Bytes of a records file read at most (a bigger file is refused).
pub const MAX_RECORDS_FILE: u64 = 8 << 20;
/// Records kept at most.
pub const MAX_RECORDS: usize = 100_000;
/// Bytes of one record's value at most (a TXT record's whole RDATA fits
/// in 65,535).
pub const MAX_VALUE: usize = 65_535;
/// Problems of a records file kept at most (then one more says how many
/// were left out).
pub const MAX_PROBLEMS: usize = 100;
/// Lines one parenthesised record may span at most.
const MAX_CONTINUATION: usize = 200;
/// `Authentication-Results` headers of the trusted server read at most.
const MAX_RESULTS_HEADERS: usize = 16;

/// DNS TXT records supplied by the user, by lower-case name without the
/// final dot. Nothing here is ever looked up on the network.
///
/// The records file ([`Dns::load`]) holds one record per line, in any of
/// these forms (blank lines and lines starting `#` or `;` are comments):
///
/// ```text
/// ; zone-file style, as dig prints it (TTL and class optional)
/// sel._domainkey.example.com. 3600 IN TXT "v=DKIM1; k=rsa; " "p=MIIBIjAN..."
/// ; over several lines, in parentheses (as opendkim-genkey writes it)
/// sel2._domainkey.example.com TXT ( "v=DKIM1; k=rsa; "
///         "p=MIIBIjAN..." )  ; a comment
/// ; no type
/// _dmarc.example.com "v=DMARC1; p=reject"
/// ; NAME, spaces or a tab, the raw value to the end of the line
/// ed._domainkey.example.com  v=DKIM1; k=ed25519; p=11qY...
/// ```
///
/// Names are absolute (the final dot optional; no `$ORIGIN`, no `@`). A TTL
/// and the class `IN` may stand before the type; the type, if written, is
/// `TXT` (or `SPF`). Quoted strings are joined without a separator, as DNS
/// joins a TXT record's strings, and may carry `\"`, `\\` and `\DDD`;
/// after them `;` or `#` starts a comment. An unquoted value runs to the
/// end of its line, comment characters included. A name `S._domainkey.D`
/// must hold a DKIM key record and `_dmarc.D` a DMARC record: one that does
/// not parse is reported with its line and left out.
#[derive(Debug, Clone, Default)]
pub struct Dns {
    txt: HashMap<String, Vec<String>>,
    count: usize,
}

/// A line of a records file that was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsProblem {
    /// The file, as given.
    pub file: String,
    /// Line number, from 1 (the first line of a record spanning several).
    pub line: usize,
    /// Why.
    pub message: String,
}

impl fmt::Display for DnsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl Dns {
    /// No records.
    pub fn new() -> Dns {
        Dns::default()
    }

    /// Reads a records file (at most [`MAX_RECORDS_FILE`] bytes): the
    /// records of its good lines, and a problem for each bad one. An error
    /// only if the file cannot be read or is too big.
    pub fn load(path: &Path) -> std::io::Result<(Dns, Vec<DnsProblem>)> {
        let size = std::fs::metadata(path)?.len();
        if size > MAX_RECORDS_FILE {
            return Err(std::io::Error::other(format!(
                "{size} bytes, over the {} MB a records file may have",
                MAX_RECORDS_FILE >> 20
            )));
        }
        let bytes = std::fs::read(path)?;
        Ok(Dns::parse(
            &String::from_utf8_lossy(&bytes),
            &path.display().to_string(),
        ))
    }

    /// Parses the text of a records file named `file` (for the problems).
    pub fn parse(text: &str, file: &str) -> (Dns, Vec<DnsProblem>) {
        let mut dns = Dns::new();
        let mut problems = Vec::new();
        let mut left_out = 0usize;
        let mut note = |problems: &mut Vec<DnsProblem>, line: usize, message: String| {
            if problems.len() < MAX_PROBLEMS {
                problems.push(DnsProblem {
                    file: file.to_string(),
                    line,
                    message,
                });
            } else {
                left_out += 1;
            }
        };
        let mut lines = text.lines().enumerate();
        while let Some((i, line)) = lines.next() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
                continue;
            }
            if let Some(directive) = t.strip_prefix('$') {
                if !directive.to_ascii_uppercase().starts_with("TTL") {
                    note(
                        &mut problems,
                        i + 1,
                        format!("${directive}: directives are not supported, write full names"),
                    );
                }
                continue;
            }
            let outcome = record(line, &mut lines)
                .and_then(|(name, value)| dns.insert(&name, &value).map(|()| name));
            if let Err(message) = outcome {
                note(&mut problems, i + 1, message);
            }
        }
        if left_out > 0 {
            problems.push(DnsProblem {
                file: file.to_string(),
                line: 0,
                message: format!("{left_out} more problems not shown"),
            });
        }
        (dns, problems)
    }

    /// Adds a TXT record. A DKIM key (`S._domainkey.D`) or DMARC
    /// (`_dmarc.D`) name must hold a record of that kind.
    pub fn insert(&mut self, name: &str, value: &str) -> Result<(), String> {
        let name = normal_name(name)?;
        if value.len() > MAX_VALUE {
            return Err(format!(
                "the value has {} bytes, over the {MAX_VALUE} a TXT record can hold",
                value.len()
            ));
        }
        if self.count >= MAX_RECORDS {
            return Err(format!("over {MAX_RECORDS} records: left out"));
        }
        if is_key_name(&name) {
            match DomainKey::parse(value.as_bytes()) {
                Ok(_) | Err(Error::Dkim(DkimError::RevokedPublicKey)) => {}
                Err(e) => return Err(format!("{name}: not a DKIM key record ({e})")),
            }
        } else if name.starts_with("_dmarc.") {
            if let Err(e) = Dmarc::parse(value.as_bytes()) {
                return Err(format!(
                    "{name}: not a DMARC record ({e}; expected \"v=DMARC1; p=...\")"
                ));
            }
        }
        self.txt.entry(name).or_default().push(value.to_string());
        self.count += 1;
        Ok(())
    }

    /// The TXT records of `name` (any case, final dot optional).
    pub fn txt(&self, name: &str) -> &[String] {
        let n = name.trim_end_matches('.').to_ascii_lowercase();
        self.txt.get(&n).map_or(&[], |v| v.as_slice())
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// `S._domainkey.D`: a DKIM key's name (not the `_report` record).
fn is_key_name(name: &str) -> bool {
    name.find("._domainkey.")
        .is_some_and(|i| i > 0 && !name.starts_with("_report._domainkey."))
}

fn normal_name(name: &str) -> Result<String, String> {
    let n = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    if n.is_empty() {
        return Err("no name".into());
    }
    if n.len() > lookalike::MAX_HOST_BYTES {
        return Err(format!(
            "the name has {} bytes, over the {} a DNS name can have",
            n.len(),
            lookalike::MAX_HOST_BYTES
        ));
    }
    if let Some(c) = n
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '*')))
    {
        return Err(format!("{name}: '{c}' cannot be in a DNS name"));
    }
    if !n.contains('.') {
        return Err(format!("{name}: not a full DNS name (no dot)"));
    }
    if n.ends_with("._domainkey") {
        return Err(format!(
            "{name}: a name relative to its zone (as opendkim-genkey writes it): write it in full, {n}.example.com"
        ));
    }
    if n.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return Err(format!("{name}: an empty or over-long label"));
    }
    Ok(n)
}

/// One record starting on `first`, with its continuation lines if it
/// opens a parenthesis: `(name, value)`.
fn record<'a>(
    first: &str,
    more: &mut impl Iterator<Item = (usize, &'a str)>,
) -> Result<(String, String), String> {
    let mut rest = first.trim_start();
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let name = rest[..end].to_string();
    rest = &rest[end..];
    // [TTL] [class] [type], in either order of the first two.
    loop {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        let upper = word.to_ascii_uppercase();
        let skip = (!word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()))
            || matches!(upper.as_str(), "IN" | "CH" | "HS" | "TXT" | "SPF");
        if skip {
            rest = &rest[end..];
            continue;
        }
        if matches!(
            upper.as_str(),
            "A" | "AAAA"
                | "CNAME"
                | "MX"
                | "NS"
                | "SOA"
                | "PTR"
                | "SRV"
                | "CAA"
                | "DS"
                | "DNSKEY"
                | "RRSIG"
                | "NSEC"
                | "NSEC3"
                | "TLSA"
                | "HTTPS"
                | "SVCB"
        ) {
            return Err(format!(
                "{name}: a {upper} record; only TXT records are used"
            ));
        }
        break;
    }
    if rest.is_empty() {
        return Err(format!("{name}: no value"));
    }
    if !rest.starts_with('"') && !rest.starts_with('(') {
        return Ok((name, rest.trim_end().to_string()));
    }
    let mut value = String::new();
    let mut strings = 0;
    let mut open = false;
    let mut continued = 0;
    let mut line = rest.to_string();
    let mut pos = 0;
    loop {
        let b = line.as_bytes();
        while pos < b.len() && b[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if pos >= b.len() || b[pos] == b';' || b[pos] == b'#' {
            if !open {
                break;
            }
            continued += 1;
            match more.next() {
                Some((_, next)) if continued <= MAX_CONTINUATION => {
                    line = next.to_string();
                    pos = 0;
                    continue;
                }
                _ => return Err(format!("{name}: the parenthesis is never closed")),
            }
        }
        match b[pos] {
            b'(' if !open => {
                open = true;
                pos += 1;
            }
            b')' if open => {
                open = false;
                pos += 1;
            }
            b'"' => {
                pos = quoted(&line, pos + 1, &mut value).map_err(|e| format!("{name}: {e}"))?;
                strings += 1;
                if value.len() > MAX_VALUE {
                    return Err(format!(
                        "{name}: the value is over the {MAX_VALUE} bytes a TXT record can hold"
                    ));
                }
            }
            _ => {
                let shown: String = line[pos..].chars().take(20).collect();
                return Err(format!("{name}: unexpected \"{shown}\" after the value"));
            }
        }
    }
    if strings == 0 {
        return Err(format!("{name}: no quoted string"));
    }
    Ok((name, value))
}

/// Appends the quoted string starting after its opening quote at `start`
/// to `out`; returns the position after its closing quote.
fn quoted(line: &str, start: usize, out: &mut String) -> Result<usize, String> {
    let mut chars = line[start..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok(start + i + 1),
            '\\' => match chars.next() {
                Some((_, d)) if d.is_ascii_digit() => {
                    let mut n = d.to_digit(10).unwrap_or(0);
                    for _ in 0..2 {
                        match chars.next() {
                            Some((_, d)) if d.is_ascii_digit() => {
                                n = n * 10 + d.to_digit(10).unwrap_or(0)
                            }
                            _ => return Err("\\DDD needs three digits".into()),
                        }
                    }
                    match char::from_u32(n).filter(|c| c.is_ascii()) {
                        Some(c) => out.push(c),
                        None => return Err(format!("\\{n:03} is not an ASCII character")),
                    }
                }
                Some((_, e)) => out.push(e),
                None => return Err("a backslash ends the line".into()),
            },
            c => out.push(c),
        }
    }
    Err("a quoted string is never closed".into())
}

/// The outcome of one DKIM signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Verified with the supplied key (`expired`: its `x=` has passed,
    /// which does not unmake the signature).
    Pass {
        /// Past its `x=` expiry.
        expired: bool,
    },
    /// Body hash and signature checked against the supplied key: not
    /// made by it (the words say which check failed).
    Fail(String),
    /// The body hash does not match (no key supplied to check more): the
    /// body was changed after signing.
    BodyAltered,
    /// The body hash matches; no records were supplied at all.
    BodyIntact,
    /// The body hash matches; the key is not in the supplied records.
    NoKey,
    /// Not checkable: malformed, `l=`, unsupported algorithm, a bad key
    /// record.
    Unusable(String),
}

/// One DKIM-Signature and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// `d=`, lower case (empty if unreadable).
    pub domain: String,
    /// `s=`.
    pub selector: String,
    /// The outcome.
    pub outcome: Outcome,
}

/// An answer for every TXT name `mail-auth` asks: the supplied record,
/// or "no such record". Never a miss, so nothing is ever resolved.
struct Offline(HashMap<Box<str>, Txt>);

fn not_found() -> Txt {
    Txt::Error(Error::Dns(DnsError::RecordNotFound(ResponseCode::NXDomain)))
}

impl ResolverCache<Box<str>, Txt> for Offline {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        Some(self.0.get(name).cloned().unwrap_or_else(not_found))
    }

    fn remove<Q>(&self, _: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }

    fn insert(&self, _: Box<str>, _: Txt, _: std::time::Instant) {}
}

/// The authenticator `mail-auth` needs to verify: a resolver with no name
/// server, never asked anything (see [`Offline`]).
fn authenticator() -> Option<&'static MessageAuthenticator> {
    static A: OnceLock<Option<MessageAuthenticator>> = OnceLock::new();
    A.get_or_init(|| {
        let mut opts = ResolverOpts::default();
        // Not even /etc/hosts is read.
        opts.use_hosts_file = ResolveHosts::Never;
        MessageAuthenticator::new(ResolverConfig::from_parts(None, vec![], vec![]), opts).ok()
    })
    .as_ref()
}

/// Runs a future that cannot wait on anything (every lookup is answered
/// at once); `None` if it would have waited.
fn at_once<F: Future>(f: F) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => Some(v),
        std::task::Poll::Pending => None,
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn key_name(sig: &Signature) -> String {
    format!("{}._domainkey.{}", sig.s, sig.d)
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// The tag `d=` of a DKIM-Signature value, best effort (for one that does
/// not parse).
fn tag_d(value: &[u8]) -> String {
    String::from_utf8_lossy(value)
        .split(';')
        .find_map(|t| {
            let (k, v) = t.split_once('=')?;
            (k.trim() == "d").then(|| v.split_whitespace().collect::<String>())
        })
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Checks every DKIM-Signature of `raw`, at most [`MAX_SIGNATURES`]: with
/// records, verified against them; without, the body hash alone. The
/// second value counts the signatures left unchecked.
///
/// `msg`'s headers are reused when it was parsed from these very bytes.
/// When it was parsed from a copy (`analyze::pad_dates` pads some
/// `Date` lines, so offsets differ), mail-auth's own reader reads the
/// headers from `raw` as they came, which the signatures cover.
pub fn dkim(raw: &[u8], msg: &Message, dns: Option<&Dns>) -> (Vec<Signed>, usize) {
    let mut out = Vec::new();
    let own = msg.raw_message();
    let mut am = if std::ptr::eq(own.as_ptr(), raw.as_ptr()) && own.len() == raw.len() {
        AuthenticatedMessage::from_parsed(msg, raw, true)
    } else {
        match AuthenticatedMessage::parse(raw) {
            Some(am) => am,
            None => return (out, 0),
        }
    };
    let total = am.dkim_headers.len()
        + am.errors
            .iter()
            .filter(|e| matches!(e.header, Error::Dkim(_)))
            .count();
    for e in &am.errors {
        if out.len() >= MAX_SIGNATURES {
            break;
        }
        if let Error::Dkim(err) = &e.header {
            let why = match err {
                DkimError::SignatureLength => {
                    "it signs only part of the body (l=), so more can be added unseen".to_string()
                }
                other => other.to_string(),
            };
            out.push(Signed {
                domain: tag_d(e.value),
                selector: String::new(),
                outcome: Outcome::Unusable(why),
            });
        }
    }
    am.dkim_headers
        .truncate(MAX_SIGNATURES.saturating_sub(out.len()));
    let skipped = total - out.len() - am.dkim_headers.len();
    let t = now();
    // Per signature: body hash matches; key supplied (parsed or not).
    let mut body_ok = Vec::new();
    let mut expired = Vec::new();
    let mut answers: HashMap<Box<str>, Txt> = HashMap::new();
    for h in am.dkim_headers.iter_mut() {
        let sig = &mut h.header;
        let ha = HashAlgorithm::from(sig.a);
        body_ok.push(
            am.body_hashes
                .iter()
                .any(|(c, a, l, bh)| *c == sig.cb && *a == ha && *l == sig.l && *bh == sig.bh),
        );
        // Judge the signature, not the clock: expiry is noted apart.
        expired.push(sig.x != 0 && sig.x <= t);
        sig.x = 0;
        if let Some(dns) = dns {
            let records = dns.txt(&key_name(sig));
            if !records.is_empty() {
                let mut answer = not_found();
                for r in records {
                    answer = DomainKey::parse(r.as_bytes()).into();
                    if !matches!(answer, Txt::Error(_)) {
                        break;
                    }
                }
                // The name exactly as mail-auth will ask for it.
                let asked = format!("{}._domainkey.{}", sig.s, sig.d);
                answers.insert(asked.to_fqdn().into_owned().into(), answer);
            }
        }
    }
    let verified = match (dns, answers.is_empty(), authenticator()) {
        (Some(_), false, Some(a)) => {
            let cache = Offline(answers);
            let params = Parameters::new(&am).with_txt_cache(&cache);
            at_once(a.verify_dkim(params))
                .unwrap_or_default()
                .into_iter()
                .filter_map(|o| {
                    let s = o.signature()? as *const Signature;
                    Some((s, o.result().clone()))
                })
                .collect::<Vec<_>>()
        }
        _ => Vec::new(),
    };
    for (i, h) in am.dkim_headers.iter().enumerate() {
        let sig = &h.header;
        let supplied = dns.map(|d| !d.txt(&key_name(sig)).is_empty());
        let outcome = match supplied {
            None if body_ok[i] => Outcome::BodyIntact,
            None | Some(false) if !body_ok[i] => Outcome::BodyAltered,
            Some(false) => Outcome::NoKey,
            _ => {
                let result = verified
                    .iter()
                    .find(|(p, _)| std::ptr::eq(*p, sig))
                    .map(|(_, r)| r.clone());
                match result {
                    Some(DkimResult::Pass) => Outcome::Pass {
                        expired: expired[i],
                    },
                    Some(DkimResult::Neutral(Error::Dkim(DkimError::FailedBodyHashMatch))) => {
                        Outcome::Fail(
                            "the body hash does not match: the body was changed after signing"
                                .into(),
                        )
                    }
                    Some(DkimResult::Fail(_)) => {
                        Outcome::Fail("the signature does not verify with the supplied key".into())
                    }
                    Some(
                        DkimResult::PermError(Error::Dkim(DkimError::RevokedPublicKey))
                        | DkimResult::TempError(Error::Dkim(DkimError::RevokedPublicKey)),
                    ) => Outcome::Fail("the supplied key record revokes the key (p= empty)".into()),
                    Some(
                        DkimResult::Neutral(e)
                        | DkimResult::PermError(e)
                        | DkimResult::TempError(e),
                    ) => Outcome::Unusable(e.to_string()),
                    Some(DkimResult::None) | None => {
                        Outcome::Unusable("the verification did not complete".into())
                    }
                }
            }
        };
        out.push(Signed {
            domain: sig.d.trim_end_matches('.').to_ascii_lowercase(),
            selector: sig.s.clone(),
            outcome,
        });
    }
    (out, skipped)
}

/// One method's result in an `Authentication-Results` header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Resinfo {
    method: String,
    result: String,
    /// `ptype.property` → value, lower case.
    props: Vec<(String, String)>,
}

impl Resinfo {
    fn prop(&self, key: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The domain this pass speaks for: DKIM `header.d` (or the domain of
    /// `header.i`), SPF `smtp.mailfrom`'s domain.
    fn domain(&self) -> Option<String> {
        let v = match self.method.as_str() {
            "dkim" => self.prop("header.d").or_else(|| self.prop("header.i"))?,
            "spf" => self.prop("smtp.mailfrom")?,
            _ => return None,
        };
        let d = v.rsplit('@').next().unwrap_or(v).trim_end_matches('.');
        (!d.is_empty()).then(|| d.to_string())
    }

    fn words(&self) -> String {
        let mut s = format!("{}={}", self.method, self.result);
        for k in ["header.d", "header.i", "header.from", "smtp.mailfrom"] {
            if let Some(v) = self.prop(k) {
                s.push_str(&format!(" {k}={v}"));
            }
        }
        s
    }
}

/// Removes RFC 5322 comments (nested parentheses) outside quotes.
fn uncomment(v: &str) -> String {
    let (mut out, mut depth, mut quote) = (String::with_capacity(v.len()), 0u32, false);
    for c in v.chars() {
        match c {
            '"' if depth == 0 => {
                quote = !quote;
                out.push(c);
            }
            '(' if !quote => depth += 1,
            ')' if !quote && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// An `Authentication-Results` value: its authserv-id and results.
fn parse_results(value: &str) -> (String, Vec<Resinfo>) {
    let v = uncomment(value);
    let mut parts = v.split(';');
    let id = parts
        .next()
        .and_then(|p| p.split_whitespace().next())
        .unwrap_or("")
        .to_string();
    let mut out = Vec::new();
    for part in parts.take(32) {
        let mut words = part.split_whitespace();
        let Some((method, result)) = words.next().and_then(|w| w.split_once('=')) else {
            continue;
        };
        let method = method.split('/').next().unwrap_or("").to_ascii_lowercase();
        let props = words
            .filter_map(|w| w.split_once('='))
            .map(|(k, v)| {
                (
                    k.to_ascii_lowercase(),
                    v.trim_matches('"').to_ascii_lowercase(),
                )
            })
            .collect();
        out.push(Resinfo {
            method,
            result: result.to_ascii_lowercase(),
            props,
        });
    }
    (id, out)
}

/// The results written by the server `id` (any others are ignored: anyone
/// can write one).
fn trusted_results(msg: &Message, id: &str) -> Vec<Resinfo> {
    msg.headers_raw()
        .filter(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
        .map(|(_, value)| parse_results(value))
        .filter(|(serv, _)| serv.eq_ignore_ascii_case(id))
        .take(MAX_RESULTS_HEADERS)
        .flat_map(|(_, r)| r)
        .collect()
}

fn org(d: &str) -> String {
    let d = d.trim_end_matches('.').to_ascii_lowercase();
    lookalike::registrable(&d).unwrap_or(d)
}

/// DMARC identifier alignment of `d` with the From domain `from`.
fn aligned(d: &str, from: &str, mode: Alignment) -> bool {
    match mode {
        Alignment::Strict => d
            .trim_end_matches('.')
            .eq_ignore_ascii_case(from.trim_end_matches('.')),
        Alignment::Relaxed => org(d) == org(from),
    }
}

/// The DMARC record that governs `from`: `_dmarc.from`, else that of its
/// organisational (registrable) domain, whose `sp=` then applies. Returns
/// the record, the policy in force and the name it was found at.
fn dmarc_record(dns: &Dns, from: &str) -> Option<(Dmarc, Policy, String)> {
    let from = from.trim_end_matches('.').to_ascii_lowercase();
    let o = org(&from);
    let mut names = vec![(format!("_dmarc.{from}"), false)];
    if o != from {
        names.push((format!("_dmarc.{o}"), true));
    }
    names.into_iter().find_map(|(name, sub)| {
        let rec = dns
            .txt(&name)
            .iter()
            .find_map(|r| Dmarc::parse(r.as_bytes()).ok())?;
        let policy = if sub { rec.sp } else { rec.p };
        Some((rec, policy, name))
    })
}

fn policy_name(p: Policy) -> &'static str {
    match p {
        Policy::Reject => "reject",
        Policy::Quarantine => "quarantine",
        Policy::None | Policy::Unspecified => "none",
    }
}

/// What [`check`] found.
pub struct Checked {
    /// The authentication rules that fired.
    pub evidence: Vec<Evidence>,
    /// The `d=` of the DKIM signatures read (lower case) that may be
    /// genuine: verified with a supplied key, or, with no key for them, of
    /// a body hash that matches. Not those a key proved false, malformed
    /// ones, nor those whose body hash does not match (anyone can write
    /// one). Without keys, a forger who computes the body hash and writes
    /// any `b=` still passes for a signer: only `--dns` can tell.
    pub signers: Vec<String>,
}

/// Every authentication rule on one message: the trusted server's
/// results (`opts.authserv_id`), DKIM (verified with `opts.dns`, or the
/// body hash alone without), DMARC alignment with `from_domain`.
pub fn check(raw: &[u8], msg: &Message, from_domain: Option<&str>, opts: &Options) -> Checked {
    let mut ev = Vec::new();
    let dns = opts.dns.as_deref();
    let id = opts.authserv_id.as_deref().unwrap_or("");
    let results = if id.is_empty() {
        Vec::new()
    } else {
        trusted_results(msg, id)
    };
    let said = |method: &str, result: &str| {
        results
            .iter()
            .filter(|r| r.method == method && r.result == result)
            .collect::<Vec<_>>()
    };
    let (signed, skipped) = dkim(raw, msg, dns);
    let offline_fail: Vec<&Signed> = signed
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Fail(_)))
        .collect();

    // The trusted server's results, as it wrote them.
    let dmarc_pass = !said("dmarc", "pass").is_empty();
    for (method, result, rule, w) in [
        ("dmarc", "fail", "auth.dmarc_fail", 6),
        ("spf", "fail", "auth.spf_fail", 3),
        ("spf", "softfail", "auth.spf_softfail", 1),
        ("dkim", "fail", "auth.dkim_fail", 2),
        ("dmarc", "pass", "auth.dmarc_pass", -3),
    ] {
        let hits = said(method, result);
        // A failure verified here is reported once, below.
        if hits.is_empty() || (rule == "auth.dkim_fail" && !offline_fail.is_empty()) {
            continue;
        }
        let what: Vec<String> = hits.iter().map(|r| r.words()).collect();
        ev.push(Evidence::new(
            rule,
            w,
            format!("{id} says {}", what.join(", ")),
        ));
    }

    // DKIM signatures, checked here.
    let from = from_domain.map(|d| d.trim_end_matches('.').to_ascii_lowercase());
    let is_aligned = |d: &str| {
        from.as_deref()
            .is_some_and(|f| aligned(d, f, Alignment::Relaxed))
    };
    let sig_name = |s: &Signed| {
        if s.selector.is_empty() {
            format!("d={}", s.domain)
        } else {
            format!("d={} s={}", s.domain, s.selector)
        }
    };
    let mut pass_aligned = Vec::new();
    let mut pass_other = Vec::new();
    let (mut fails, mut altered, mut no_key, mut unusable) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for s in &signed {
        let name = sig_name(s);
        match &s.outcome {
            Outcome::Pass { expired } => {
                let e = if *expired {
                    format!("{name} (past its x= expiry)")
                } else {
                    name
                };
                if is_aligned(&s.domain) {
                    pass_aligned.push(e);
                } else {
                    pass_other.push(e);
                }
            }
            Outcome::Fail(why) => fails.push(format!("{name}: {why}")),
            Outcome::BodyAltered => altered.push(name),
            Outcome::NoKey => no_key.push(name),
            Outcome::Unusable(why) => unusable.push(format!("{name}: {why}")),
            Outcome::BodyIntact => {}
        }
    }
    if skipped > 0 {
        unusable.push(format!(
            "{skipped} more DKIM-Signature headers not checked (at most {MAX_SIGNATURES})"
        ));
    }
    let fd = from.as_deref().unwrap_or("?");
    if !pass_aligned.is_empty() {
        let (w, also) = if dmarc_pass {
            (0, format!(" (already counted in {id}'s dmarc=pass)"))
        } else {
            (-3, String::new())
        };
        ev.push(Evidence::new(
            "auth.dkim_pass_aligned",
            w,
            format!(
                "DKIM signature verified with the supplied key, aligned with the From domain {fd}: {}{also}",
                pass_aligned.join(", ")
            ),
        ));
    }
    let fail_also = if said("dkim", "fail").is_empty() {
        String::new()
    } else {
        format!(" ({id} also says dkim=fail)")
    };
    let groups: [(&'static str, i32, &[String], String, String); 5] = [
        (
            "auth.dkim_pass_unaligned",
            0,
            &pass_other,
            format!("DKIM signature verified with the supplied key, but for another domain than the From domain {fd}: "),
            String::new(),
        ),
        ("auth.dkim_fail", 3, &fails, "DKIM signature fails: ".into(), fail_also),
        (
            "auth.dkim_body_altered",
            BODY_ALTERED_WEIGHT,
            &altered,
            "the body no longer matches the DKIM body hash (bh=) of ".into(),
            ": changed after signing (a mailing list footer, a forwarder, or tampering)".into(),
        ),
        (
            "auth.dkim_no_key",
            0,
            &no_key,
            "no key in the supplied records for the DKIM signature ".into(),
            " (body hash matches)".into(),
        ),
        ("auth.dkim_unusable", 0, &unusable, "DKIM signature not checked: ".into(), String::new()),
    ];
    for (rule, w, items, head, tail) in groups {
        if !items.is_empty() {
            ev.push(Evidence::new(
                rule,
                w,
                format!("{head}{}{tail}", items.join("; ")),
            ));
        }
    }

    // Passes of the trusted server for domains other than the From's.
    let passes: Vec<&Resinfo> = results
        .iter()
        .filter(|r| r.result == "pass" && matches!(r.method.as_str(), "dkim" | "spf"))
        .collect();
    if let Some(f) = from.as_deref() {
        let any_aligned = passes.iter().any(|r| {
            r.domain()
                .is_some_and(|d| aligned(&d, f, Alignment::Relaxed))
        });
        let other: Vec<String> = passes
            .iter()
            .filter(|r| r.domain().is_some())
            .map(|r| r.words())
            .collect();
        if !dmarc_pass && !any_aligned && !other.is_empty() {
            ev.push(Evidence::new(
                "auth.not_aligned",
                1,
                format!(
                    "{id} says {}: passes for another domain than the From domain {f}",
                    other.join(", ")
                ),
            ));
        }
    }

    // DMARC, with a supplied record, when the trusted server gave no verdict.
    let server_dmarc = results.iter().any(|r| r.method == "dmarc");
    if let (Some(dns), Some(f), false) = (dns, from.as_deref(), server_dmarc) {
        if let Some((rec, policy, at)) = dmarc_record(dns, f) {
            let dkim_ok = signed.iter().any(|s| {
                matches!(s.outcome, Outcome::Pass { .. }) && aligned(&s.domain, f, rec.adkim)
            }) || passes.iter().any(|r| {
                r.method == "dkim" && r.domain().is_some_and(|d| aligned(&d, f, rec.adkim))
            });
            let spf_ok = passes
                .iter()
                .any(|r| r.method == "spf" && r.domain().is_some_and(|d| aligned(&d, f, rec.aspf)));
            // An aligned signature whose key was not supplied might pass.
            let unknown = signed
                .iter()
                .any(|s| s.outcome == Outcome::NoKey && aligned(&s.domain, f, rec.adkim));
            if !dkim_ok && !spf_ok && !unknown {
                let w = match policy {
                    Policy::Reject => 6,
                    Policy::Quarantine => 5,
                    Policy::None | Policy::Unspecified => 2,
                };
                let spf = if id.is_empty() {
                    "no trusted server named for SPF"
                } else {
                    "no aligned SPF pass from the trusted server"
                };
                ev.push(Evidence::new(
                    "auth.dmarc_fail",
                    w,
                    format!(
                        "DMARC fails for {f} ({at}: p={}): no aligned DKIM pass, {spf}",
                        policy_name(policy)
                    ),
                ));
            }
        }
    }
    Checked {
        evidence: ev,
        signers: signed
            .into_iter()
            .filter(|s| {
                matches!(
                    s.outcome,
                    Outcome::Pass { .. } | Outcome::BodyIntact | Outcome::NoKey
                )
            })
            .map(|s| s.domain)
            .collect(),
    }
}

/// Weight of `auth.dkim_body_altered`: see docs/mail.md for the corpus
/// figures behind it.
const BODY_ALTERED_WEIGHT: i32 = 0;

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

    #[test]
    fn records_file_forms() {
        let text = format!(
            "# a comment\n\
             \n\
             brisbane._domainkey.football.example.com. 3600 IN TXT \"{}\" \"{}\" ; split\n\
             _dmarc.example.com \"v=DMARC1; p=reject\"\n\
             ed._domainkey.Example.COM\t{ED}\n\
             multi._domainkey.example.org IN TXT ( \"v=DKIM1; k=ed25519; \"\n\
             \t\"p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\" )  ; over two lines\n\
             _spf.example.net TXT \"v=spf1 \\\"q\\\" \\059 -all\"\n",
            &ED[..20],
            &ED[20..]
        );
        let (dns, problems) = Dns::parse(&text, "keys.txt");
        assert_eq!(problems, vec![]);
        assert_eq!(dns.len(), 5);
        assert_eq!(dns.txt("brisbane._domainkey.football.example.com"), [ED]);
        assert_eq!(dns.txt("_DMARC.example.com."), ["v=DMARC1; p=reject"]);
        assert_eq!(dns.txt("ed._domainkey.example.com"), [ED]);
        assert_eq!(dns.txt("multi._domainkey.example.org"), [ED]);
        assert_eq!(dns.txt("_spf.example.net"), ["v=spf1 \"q\" ; -all"]);
        assert!(dns.txt("other.example.com").is_empty());
    }

    #[test]
    fn bad_lines_are_named_and_the_good_kept() {
        let text = format!(
            "good._domainkey.example.com TXT \"{ED}\"\n\
             bad!name._domainkey.example.com TXT \"{ED}\"\n\
             example.com IN A 192.0.2.1\n\
             nokey._domainkey.example.com TXT \"v=DKIM1; k=rsa; p=!!!\"\n\
             _dmarc.example.com TXT \"hello\"\n\
             open._domainkey.example.com TXT \"v=DKIM1\n\
             $ORIGIN example.com.\n\
             $TTL 3600\n\
             hello world\n\
             lonely\n\
             mail._domainkey IN TXT \"{ED}\"\n\
             paren._domainkey.example.com TXT ( \"{ED}\"\n\
             ; never closed\n"
        );
        let (dns, problems) = Dns::parse(&text, "keys.txt");
        assert_eq!(dns.len(), 1);
        assert_eq!(dns.txt("good._domainkey.example.com"), [ED]);
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6, 7, 9, 10, 11, 12]);
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert!(shown[0].starts_with("keys.txt:2: "), "{shown:?}");
        assert!(shown[1].contains("a A record"), "{shown:?}");
        assert!(shown[2].contains("not a DKIM key record"), "{shown:?}");
        assert!(shown[3].contains("not a DMARC record"), "{shown:?}");
        assert!(shown[4].contains("never closed"), "{shown:?}");
        assert!(shown[5].contains("$ORIGIN"), "{shown:?}");
        assert!(shown[6].contains("no dot"), "{shown:?}");
        assert!(shown[7].contains("no value"), "{shown:?}");
        assert!(shown[8].contains("relative to its zone"), "{shown:?}");
        assert!(
            shown[9].contains("parenthesis is never closed"),
            "{shown:?}"
        );
    }

    #[test]
    fn revoked_key_is_a_record() {
        let (dns, problems) = Dns::parse("old._domainkey.example.com \"v=DKIM1; p=\"", "f");
        assert_eq!(problems, vec![]);
        assert_eq!(dns.len(), 1);
    }

    #[test]
    fn results_parsed_with_comments_and_properties() {
        let (id, r) = parse_results(
            " mx.example.net (version 1; comment); dkim=pass (2048-bit key) header.d=Mailer.example header.i=@mailer.example; spf=pass smtp.mailfrom=bounce@Esp.example; dmarc=fail header.from=bank.example",
        );
        assert_eq!(id, "mx.example.net");
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].method, "dkim");
        assert_eq!(r[0].domain().as_deref(), Some("mailer.example"));
        assert_eq!(r[1].domain().as_deref(), Some("esp.example"));
        assert_eq!(r[2].result, "fail");
        assert_eq!(r[2].words(), "dmarc=fail header.from=bank.example");
    }

    #[test]
    fn alignment() {
        assert!(aligned(
            "mail.example.co.uk",
            "example.co.uk",
            Alignment::Relaxed
        ));
        assert!(!aligned(
            "mail.example.co.uk",
            "example.co.uk",
            Alignment::Strict
        ));
        assert!(aligned(
            "Example.co.uk.",
            "example.co.uk",
            Alignment::Strict
        ));
        assert!(!aligned("other.co.uk", "example.co.uk", Alignment::Relaxed));
    }
}
