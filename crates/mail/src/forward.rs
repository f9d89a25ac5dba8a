//! The original of a message forwarded inline, as its forwarder's mail
//! client quotes it: the header block under "---------- Forwarded message
//! ---------" (Gmail), "-----Original Message-----" or a line of
//! underscores (Outlook), "Início da mensagem encaminhada:" (Apple Mail),
//! and their translations, with the original's sender and subject.
//!
//! Staff forward suspicious mail to their security team, so the mail that
//! reaches chainhound is often from a colleague, and what it must judge is
//! the original inside: `analyze` runs its sender and subject rules on
//! what this module finds.
//!
//! Owns: finding that block in a body's text and reading its From and
//! Subject. Must not: judge anything (`analyze` does), or read more than
//! [`SCAN`] bytes of text.

/// Bytes of text searched for a quoted From.
const SCAN: usize = 256 << 10;
/// Bytes between a forward marker and the quoted From at most.
const FROM_WITHIN: usize = 600;
/// Bytes after the quoted From searched for its Subject.
const SUBJECT_WITHIN: usize = 800;
/// Characters of a quoted value kept.
const VALUE_MAX: usize = 300;

/// What a forwarder's client writes above the forwarded message (ASCII
/// letters compared in any case).
const MARKERS: &[&str] = &[
    "forwarded message",
    "original message",
    "begin forwarded message",
    "mensagem encaminhada",
    "mensagem original",
    "mensaje reenviado",
    "mensaje original",
    "weitergeleitete nachricht",
    "ursprüngliche nachricht",
    "doorgestuurd bericht",
    "oorspronkelijk bericht",
    "message transféré",
    "message d'origine",
    "messaggio inoltrato",
    "messaggio originale",
    "전달된 메시지",
    "원본 메시지",
    "__________",
];

/// Header names a client writes for the From of the quoted message.
const FROM_KEYS: &[&str] = &[
    "from",
    "de",
    "von",
    "van",
    "da",
    "보낸 사람",
    "보낸사람",
    "발신자",
];

/// Header names for its Subject.
const SUBJECT_KEYS: &[&str] = &[
    "subject",
    "assunto",
    "asunto",
    "betreff",
    "onderwerp",
    "objet",
    "oggetto",
    "제목",
];

/// The other header names of a quoted block: a value ends where one
/// begins (flattened HTML has no line breaks between them).
const OTHER_KEYS: &[&str] = &[
    "sent",
    "date",
    "data",
    "enviado",
    "enviada",
    "fecha",
    "gesendet",
    "datum",
    "verzonden",
    "envoyé",
    "inviato",
    "to",
    "para",
    "an",
    "aan",
    "à",
    "a",
    "cc",
    "bcc",
    "cco",
    "reply-to",
    "받는 사람",
    "받는사람",
    "보낸 날짜",
    "날짜",
    "참조",
];

/// The original's sender and subject, as quoted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Quoted {
    /// Display name.
    pub name: Option<String>,
    /// Address.
    pub addr: Option<String>,
    /// Subject.
    pub subject: Option<String>,
}

/// Whether `hay[at..]` starts with `needle`, ASCII letters in any case.
fn starts_ci(hay: &[u8], at: usize, needle: &str) -> bool {
    let n = needle.as_bytes();
    hay.len() >= at + n.len() && hay[at..at + n.len()].eq_ignore_ascii_case(n)
}

/// If a header name of `keys` starts at `i` (at the start of the text or
/// after white space or `*`, followed by optional spaces and a colon),
/// the index just past the colon.
fn key_at(hay: &[u8], i: usize, keys: &[&str]) -> Option<usize> {
    if i > 0 && !matches!(hay[i - 1], b' ' | b'\t' | b'\n' | b'\r' | b'*' | b'>') {
        return None;
    }
    keys.iter().find_map(|k| {
        if !starts_ci(hay, i, k) {
            return None;
        }
        let mut j = i + k.len();
        while j < hay.len() && matches!(hay[j], b' ' | b'*') {
            j += 1;
        }
        (hay.get(j) == Some(&b':')).then_some(j + 1)
    })
}

/// The first header of `keys` in `hay[from..to]`: where its value starts.
fn find_key(hay: &[u8], keys: &[&str], from: usize, to: usize) -> Option<usize> {
    (from..to.min(hay.len())).find_map(|i| key_at(hay, i, keys))
}

/// The value starting at `v`: up to a line break, the next header name
/// or [`VALUE_MAX`] characters; in text flattened from HTML (no line break
/// near), also up to two spaces in a row (where a tag was). Never inside
/// double quotes or angle brackets (`"Sent: you" <a@b>`).
fn value_at(text: &str, v: usize) -> String {
    let hay = text.as_bytes();
    let flattened = !hay[v..hay.len().min(v + 2 * VALUE_MAX)].contains(&b'\n');
    let (mut quoted, mut angled) = (false, false);
    let mut end = v;
    let mut chars = 0;
    while end < hay.len() && chars < VALUE_MAX {
        let c = hay[end];
        if c == b'\n' || c == b'\r' {
            break;
        }
        // A quote or bracket counts only if it closes on this line (a
        // stray one must not make the value swallow the next headers).
        let closes = |close: u8| {
            let rest = &hay[end + 1..hay.len().min(end + 1 + 4 * VALUE_MAX)];
            let line = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            rest[..line].contains(&close)
        };
        match c {
            b'"' if quoted => quoted = false,
            b'"' => quoted = closes(b'"'),
            b'<' if !angled => angled = closes(b'>'),
            b'>' => angled = false,
            _ => {}
        }
        if !quoted && !angled && end > v {
            if flattened && c == b' ' && hay.get(end + 1) == Some(&b' ') {
                break;
            }
            if key_at(hay, end, OTHER_KEYS).is_some() || key_at(hay, end, SUBJECT_KEYS).is_some() {
                break;
            }
        }
        end += 1;
        if text.is_char_boundary(end) {
            chars += 1;
        }
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    text[v..end]
        .trim_matches(|c: char| c.is_whitespace() || c == '*')
        .to_string()
}

/// Whether `a` reads as a mail address: a local part, `@`, and a domain of
/// letters, digits, dots and hyphens with a dot in it.
fn is_address(a: &str) -> bool {
    let Some((local, domain)) = a.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains(|c: char| c.is_whitespace() || "<>[]()\",;:".contains(c))
        && domain.contains('.')
        && !domain.starts_with('.')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
}

/// The address in a quoted From value, and the display name around it.
/// The address is the one a client writes last: in the last `<…>` or
/// `[mailto:…]`, else the last word with an `@` (so `"support@coinbase.com"
/// <x@evil.example>` is from evil.example, the name showing another).
fn split_from(value: &str) -> (Option<String>, Option<String>) {
    let bracketed = |open: char, close: char| {
        let s = value.rfind(open)?;
        let e = s + value[s..].find(close)?;
        Some((s, e + 1))
    };
    let clean = |(s, e): (usize, usize)| {
        let a = value[s..e].trim_matches(|c: char| "<>[]()\"',;: ".contains(c));
        let a = match a.get(..7) {
            Some(p) if p.eq_ignore_ascii_case("mailto:") => &a[7..],
            _ => a,
        };
        let a = a.trim_end_matches('.');
        is_address(a).then(|| (s, e, a.to_string()))
    };
    let word = || {
        value.split_whitespace().rev().find_map(|w| {
            // `w` is a slice of `value`: its offset.
            let s = w.as_ptr() as usize - value.as_ptr() as usize;
            clean((s, s + w.len()))
        })
    };
    // Of `<…>` and `[…]`, the one written last.
    let angled = bracketed('<', '>').and_then(clean);
    let squared = bracketed('[', ']').and_then(clean);
    let last = match (angled, squared) {
        (Some(a), Some(b)) => Some(if a.0 > b.0 { a } else { b }),
        (a, b) => a.or(b),
    };
    let addr = last.or_else(word);
    let name = match &addr {
        Some((s, e, _)) => format!("{} {}", &value[..*s], &value[*e..]),
        None => value.to_string(),
    };
    let name = name
        .trim_matches(|c: char| c.is_whitespace() || "*,;:".contains(c))
        .trim_matches(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .to_string();
    let name = (!name.is_empty()).then_some(name);
    (name, addr.map(|(_, _, a)| a))
}

/// Where the forward markers in `text` end, in order (ASCII lower case
/// keeps every byte where it was), at most 10,000 of them.
fn marker_ends(text: &str) -> Vec<usize> {
    let lower = text.to_ascii_lowercase();
    let mut ends: Vec<usize> = MARKERS
        .iter()
        .flat_map(|m| {
            lower
                .match_indices(m)
                .map(|(i, _)| i + m.len())
                .take(10_000)
        })
        .collect();
    ends.sort_unstable();
    ends.truncate(10_000);
    ends
}

/// The original quoted in `text`: the first From header (a name or an
/// address) with a forward marker ending at most [`FROM_WITHIN`] bytes
/// before it. Found from the colons (few, and found fast); the markers are
/// looked for once, when a From header is met.
pub fn quoted_original(text: &str) -> Option<Quoted> {
    let mut scan = SCAN.min(text.len());
    while !text.is_char_boundary(scan) {
        scan -= 1;
    }
    let hay = &text.as_bytes()[..scan];
    let mut markers: Option<Vec<usize>> = None;
    for (colon, _) in text[..scan].match_indices(':') {
        // The header name before the colon (spaces or `*` between).
        let mut k = colon;
        while k > 0 && matches!(hay[k - 1], b' ' | b'*') {
            k -= 1;
        }
        let Some(start) = FROM_KEYS
            .iter()
            .filter(|key| k >= key.len())
            .map(|key| k - key.len())
            .find(|&s| key_at(hay, s, FROM_KEYS) == Some(colon + 1))
        else {
            continue;
        };
        let ends = markers.get_or_insert_with(|| marker_ends(&text[..scan]));
        let first = ends.partition_point(|&e| e < start.saturating_sub(FROM_WITHIN));
        if ends.get(first).is_none_or(|&e| e > start) {
            continue;
        }
        let (name, addr) = split_from(&value_at(text, colon + 1));
        if name.is_none() && addr.is_none() {
            continue;
        }
        let subject = find_key(hay, SUBJECT_KEYS, colon, colon + SUBJECT_WITHIN)
            .map(|s| value_at(text, s))
            .filter(|s| !s.is_empty());
        return Some(Quoted {
            name,
            addr,
            subject,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(name: Option<&str>, addr: Option<&str>, subject: Option<&str>) -> Option<Quoted> {
        Some(Quoted {
            name: name.map(str::to_string),
            addr: addr.map(str::to_string),
            subject: subject.map(str::to_string),
        })
    }

    #[test]
    fn gmail_outlook_and_apple_mail_blocks() {
        let gmail = "FYI, is this real?\n\n---------- Forwarded message ---------\nFrom: Binance Support <support@binance-verify.com>\nDate: Mon, 3 Nov 2026 at 10:00\nSubject: Your withdrawal is on hold\nTo: <ops@example.com>\n\nDear customer,";
        assert_eq!(
            quoted_original(gmail),
            q(
                Some("Binance Support"),
                Some("support@binance-verify.com"),
                Some("Your withdrawal is on hold")
            )
        );
        let outlook = "See below\n________________________________\nFrom: Kraken Security [mailto:alerts@krakn-login.io]\nSent: Tuesday, 4 November 2026 09:12\nTo: Ops\nSubject: RE: unusual sign-in\n\nbody";
        assert_eq!(
            quoted_original(outlook),
            q(
                Some("Kraken Security"),
                Some("alerts@krakn-login.io"),
                Some("RE: unusual sign-in")
            )
        );
        // Portuguese Apple Mail, flattened from HTML (no line breaks).
        let apple = "Enviado do meu iPhone  Início da mensagem encaminhada:  De: \"[Suporte/BB] Protocolo-866490795176101478\" <bb@x-promo.com.br>  Data: 12 de dezembro de 2023  Para: rodrigo@example.com  Assunto: Desconto na Fatura-5412179310060391160  Prezado";
        assert_eq!(
            quoted_original(apple),
            q(
                Some("[Suporte/BB] Protocolo-866490795176101478"),
                Some("bb@x-promo.com.br"),
                Some("Desconto na Fatura-5412179310060391160")
            )
        );
        // Outlook with a name only, and one line per key with bold stars.
        let named = "________________________________\n*De:* Miss Yara\n*Enviado:* terça-feira\n*Assunto:* Let's chat";
        assert_eq!(
            quoted_original(named),
            q(Some("Miss Yara"), None, Some("Let's chat"))
        );
    }

    #[test]
    fn the_address_is_the_last_one_written() {
        // The name shows one address, the mail is from another.
        let spoof = "---------- Forwarded message ---------\nFrom: \"support@coinbase.com\" <x@evil.example>\nSubject: hi\n";
        assert_eq!(
            quoted_original(spoof),
            q(
                Some("support@coinbase.com"),
                Some("x@evil.example"),
                Some("hi")
            )
        );
        // Two spaces inside a quoted name, and a header name inside it.
        let spaced = "-----Original Message-----\nFrom: \"Binance  Support Sent: now\" <a@binance-help.example>\nSubject: x\n";
        assert_eq!(
            quoted_original(spaced).unwrap().addr.as_deref(),
            Some("a@binance-help.example")
        );
        // A bare address, and an address-looking word that is not one.
        assert_eq!(
            quoted_original("-----Original Message-----\nFrom: bob@example.org\n").unwrap(),
            Quoted {
                name: None,
                addr: Some("bob@example.org".into()),
                subject: None
            }
        );
        assert_eq!(
            quoted_original("-----Original Message-----\nFrom: Team @home\n").unwrap(),
            Quoted {
                name: Some("Team @home".into()),
                addr: None,
                subject: None
            }
        );
    }

    #[test]
    fn stray_quotes_and_both_brackets() {
        // An unclosed quote on a flattened line does not swallow the next
        // headers (whose address would be taken for the sender's).
        let stray = "-----Original Message----- From: Bin\"ance <x@evil.example> Sent: Mon To: Ops <ops@victim.example> Subject: hi";
        assert_eq!(
            quoted_original(stray).unwrap().addr.as_deref(),
            Some("x@evil.example")
        );
        // A name that shows an address in brackets, then Outlook's
        // `[mailto:]`: the address is the one written last.
        let both = "________________________________\nFrom: Binance <support@binance.com> [MAILTO:x@evil.example]\nSubject: hi\n";
        let q = quoted_original(both).unwrap();
        assert_eq!(q.addr.as_deref(), Some("x@evil.example"));
        assert_eq!(q.name.as_deref(), Some("Binance <support@binance.com>"));
        // The last word that is an address, not merely the last with `@`.
        let words = "-----Original Message-----\nFrom: bob@x.example (Team @home)\n";
        assert_eq!(
            quoted_original(words).unwrap().addr.as_deref(),
            Some("bob@x.example")
        );
    }

    #[test]
    fn no_marker_or_no_from_is_no_original() {
        assert_eq!(quoted_original("From: a@b.com\nSubject: hi"), None);
        assert_eq!(
            quoted_original("---------- Forwarded message ---------\nno header here"),
            None
        );
        // A key inside a word is not a key.
        assert_eq!(
            quoted_original("-----Original Message-----\nWherefrom: nobody@example.com"),
            None
        );
        assert_eq!(quoted_original(""), None);
        // Cut inside a multi-byte character: no panic.
        let long = format!("{}전달된 메시지", "é".repeat(SCAN));
        assert_eq!(quoted_original(&long), None);
    }
}
