//! What a message points at: links (with the text shown for them), hosts,
//! and the crypto addresses and txids in its text. Plain text scanning,
//! bounded; no URL is ever fetched and no name resolved.
//!
//! Owns the link and address extractors. Must not: judge (rules do).

use chainhound_chain::{address, Network};
use serde::Serialize;

/// Links read from one body at most.
pub const MAX_LINKS: usize = 500;

/// Forms read in all, past [`MAX_LINKS`] too (see [`html_links`]).
pub const MAX_FORMS: usize = 16;

/// One link: where it goes and what the reader sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The URL as written (`href`, `action` or in text).
    pub url: String,
    /// Its host, lower-case (empty for `data:` and `mailto:`).
    pub host: String,
    /// The text shown for it (HTML anchors), tags stripped.
    pub text: Option<String>,
    /// `a`, `form`, `text`, `img`.
    pub from: &'static str,
}

/// The crypto identifiers of a text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Crypto {
    /// Bitcoin mainnet addresses (checksums valid).
    pub btc: Vec<String>,
    /// Ethereum-style `0x` addresses (40 hex digits).
    pub eth: Vec<String>,
    /// Tron addresses (`T` + 33 base58 characters).
    pub trx: Vec<String>,
    /// 64-hex-digit strings: txids (or other hashes).
    pub txids: Vec<String>,
}

impl Crypto {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.btc.is_empty() && self.eth.is_empty() && self.trx.is_empty() && self.txids.is_empty()
    }

    /// Adds what `other` found (a forwarded message's), each once.
    pub fn extend(&mut self, other: &Crypto) {
        for (to, from) in [
            (&mut self.btc, &other.btc),
            (&mut self.eth, &other.eth),
            (&mut self.trx, &other.trx),
            (&mut self.txids, &other.txids),
        ] {
            for s in from {
                push_unique(to, s);
            }
        }
    }
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if v.len() < 200 && !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

/// Bitcoin, Ethereum and Tron addresses and txids in `text`.
pub fn crypto(text: &str, out: &mut Crypto) {
    let is_b58 = |c: char| c.is_ascii_alphanumeric() && !matches!(c, '0' | 'O' | 'I' | 'l');
    for tok in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        let n = tok.len();
        if !(26..=90).contains(&n) {
            continue;
        }
        let lower = tok.to_ascii_lowercase();
        if n == 64 && tok.chars().all(|c| c.is_ascii_hexdigit()) {
            push_unique(&mut out.txids, &lower);
        } else if n == 42
            && lower.starts_with("0x")
            && lower[2..].chars().all(|c| c.is_ascii_hexdigit())
        {
            push_unique(&mut out.eth, tok);
        } else if lower.starts_with("bc1") {
            if address::decode(&lower, Network::Mainnet).is_ok() {
                push_unique(&mut out.btc, &lower);
            }
        } else if (tok.starts_with('1') || tok.starts_with('3'))
            && n <= 35
            && tok.chars().all(is_b58)
        {
            if address::decode(tok, Network::Mainnet).is_ok() {
                push_unique(&mut out.btc, tok);
            }
        } else if tok.starts_with('T') && n == 34 && tok.chars().all(is_b58) {
            push_unique(&mut out.trx, tok);
        }
    }
}

/// The host of a URL (lower-case, without user info, port or trailing
/// dot) and whether user info (`user@host`) hid the real host.
pub fn host_of(url: &str) -> (String, bool) {
    // The scheme's `://` only: one in a path or query
    // (`www.x.example/?u=https://bit.ly/a`) is not where the host is.
    let www = url.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("www."));
    let rest = match url.find("://") {
        _ if www => url,
        Some(i) if !url[..i].contains(['/', '?', '#', '\\', '@']) => &url[i + 3..],
        _ => return (String::new(), false),
    };
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or("");
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (true, &authority[i + 1..]),
        None => (false, authority),
    };
    let host = if hostport.starts_with('[') {
        hostport
            .split(']')
            .next()
            .map(|h| format!("{h}]"))
            .unwrap_or_default()
    } else {
        hostport.split(':').next().unwrap_or("").to_string()
    };
    (host.trim_end_matches('.').to_ascii_lowercase(), userinfo)
}

/// Whether a host is an IP literal (dotted, IPv6, or a bare number as
/// some browsers read `http://3232235777/`).
pub fn is_ip(host: &str) -> bool {
    if host.starts_with('[') {
        return true;
    }
    let parts: Vec<&str> = host.split('.').collect();
    !host.is_empty()
        && parts.len() <= 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && (p.chars().all(|c| c.is_ascii_digit())
                    || (p.starts_with("0x")
                        && p.len() > 2
                        && p[2..].chars().all(|c| c.is_ascii_hexdigit())))
        })
}

/// Links in plain text: `http(s)://` and `www.` runs.
pub fn text_links(text: &str, out: &mut Vec<Link>) {
    let lower = text.to_ascii_lowercase();
    let mut i = 0;
    // The next place of each prefix at or after `i`, searched again only
    // once `i` has passed it (searching all three from `i` for every link
    // made a text with many links of one kind quadratic).
    let search = |p: &str, from: usize| lower[from..].find(p).map(|j| from + j);
    let prefixes = ["http://", "https://", "www."];
    let mut at = prefixes.map(|p| search(p, 0));
    while out.len() < MAX_LINKS {
        for (a, p) in at.iter_mut().zip(prefixes) {
            if a.is_some_and(|a| a < i) {
                *a = search(p, i);
            }
        }
        let Some(start) = at.iter().flatten().copied().min() else {
            break;
        };
        let end = text[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | ')' | ']'))
            .map_or(text.len(), |j| start + j);
        let url = text[start..end].trim_end_matches(['.', ',', ';']);
        let (host, _) = host_of(url);
        if !host.is_empty() {
            out.push(Link {
                url: url.chars().take(2_000).collect(),
                host,
                text: None,
                from: "text",
            });
        }
        i = end.max(start + 4);
        if i >= text.len() {
            break;
        }
    }
}

/// Text with tags removed and entities decoded: what a reader sees. Tags
/// end at the first `>` outside quoted attribute values; comments and the
/// contents of `<style>` and `<script>` elements are dropped.
pub fn strip_tags(html: &str) -> String {
    text_of(html, false)
}

/// [`strip_tags`] without the contents of elements a style hides
/// (`display: none`, `visibility: hidden`, `font-size: 0`, `opacity: 0`,
/// `max-height: 0`): text for filters, not for the reader, such as prose
/// padded in to make a lure look like a newsletter's chance word.
pub fn visible_text(html: &str) -> String {
    text_of(html, true)
}

fn text_of(html: &str, visible_only: bool) -> String {
    let b = html.as_bytes();
    let mut out = String::with_capacity(html.len() / 2);
    let mut i = 0;
    while let Some(j) = html[i..].find('<') {
        let lt = i + j;
        out.push_str(&html[i..lt]);
        out.push(' ');
        if let Some(past) = comment_end(b, lt) {
            i = past;
            continue;
        }
        let end = tag_end(b, lt);
        let name = tag_name(&b[..end], lt + 1);
        i = end;
        if visible_only && !name.is_empty() && hides(&html[lt..end]) {
            i = element_end(b, end, &name);
            continue;
        }
        // Up to the element's end tag (which the loop then skips).
        if let Some(close) = raw_text_end(b, end, &name) {
            i = close;
        }
    }
    out.push_str(&html[i..]);
    decode_entities(&out)
}

/// Whether an opening tag's own `style` attribute hides its element and all
/// inside it, whatever they say: `display: none`, `opacity: 0`, or
/// `max-height: 0` with `overflow: hidden`. (Not `font-size: 0` nor
/// `visibility: hidden`, which children undo: newsletter templates set
/// `font-size: 0` on cells whose text sets its own size.)
fn hides(tag: &str) -> bool {
    if find_ascii_ci(tag.as_bytes(), b"style").is_none() {
        return false;
    }
    let tag = decode_entities(tag).to_ascii_lowercase();
    // The attribute named `style`, not `data-style`, nor text in a value.
    let Some(style) = attribute(&tag, "style") else {
        return false;
    };
    let style: String = style.chars().filter(|c| !c.is_whitespace()).collect();
    // A zero not followed by more digits or a fraction (`0px`, `0;`).
    let zero = |prop: &str| {
        style.match_indices(prop).any(|(at, _)| {
            let rest = &style.as_bytes()[at + prop.len()..];
            rest.first() == Some(&b'0')
                && !matches!(rest.get(1), Some(c) if c.is_ascii_digit() || *c == b'.')
        })
    };
    style.contains("display:none")
        || zero("opacity:")
        || (zero("max-height:") && style.contains("overflow:hidden"))
}

/// The value of attribute `name` (lower case) in a lower-cased opening tag,
/// attributes read as a browser does: names up to `=`, values quoted or up
/// to white space.
fn attribute<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let t = tag.strip_prefix('<')?;
    // Past the element's name.
    let mut rest = t.trim_start_matches(|c: char| !c.is_whitespace() && c != '>' && c != '/');
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() || rest.starts_with('>') {
            return None;
        }
        let n = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '=' | '>' | '/'))
            .unwrap_or(rest.len());
        let (attr, after) = rest.split_at(n.max(1));
        let after = after.trim_start();
        let (value, next) = match after.strip_prefix('=') {
            Some(v) => {
                let v = v.trim_start();
                match v.as_bytes().first() {
                    Some(&q @ (b'"' | b'\'')) => {
                        let body = &v[1..];
                        let k = body.find(q as char).unwrap_or(body.len());
                        (&body[..k], &body[(k + 1).min(body.len())..])
                    }
                    _ => {
                        let k = v
                            .find(|c: char| c.is_whitespace() || c == '>')
                            .unwrap_or(v.len());
                        (&v[..k], &v[k..])
                    }
                }
            }
            None => ("", after),
        };
        if attr == name {
            return Some(value);
        }
        rest = next;
    }
}

/// Void elements: no content, no end tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// The lower-case name of the tag whose name starts at `at`.
fn tag_name(b: &[u8], at: usize) -> Vec<u8> {
    b[at.min(b.len())..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase)
        .collect()
}

/// The index just past the end tag of the `name` element whose opening tag
/// ends at `from` (nested elements of the same name counted, as browsers
/// do: a `/>` closes only void elements; comments and `<style>`/`<script>`
/// contents skipped), or the end of `b` if it is never closed; `from`
/// itself for a void element.
fn element_end(b: &[u8], from: usize, name: &[u8]) -> usize {
    if VOID.iter().any(|v| v.as_bytes() == name) {
        return from;
    }
    let mut depth = 1usize;
    let mut i = from;
    while let Some(k) = b[i..].iter().position(|&c| c == b'<') {
        let lt = i + k;
        if let Some(past) = comment_end(b, lt) {
            i = past;
            continue;
        }
        let close = b.get(lt + 1) == Some(&b'/');
        let this = tag_name(b, lt + 1 + close as usize);
        let end = tag_end(b, lt);
        i = end;
        if this == name {
            if close {
                depth -= 1;
                if depth == 0 {
                    return end;
                }
            } else {
                depth += 1;
            }
        } else if let Some(raw) = (!close).then(|| raw_text_end(b, end, &this)).flatten() {
            i = raw;
        }
    }
    b.len()
}

/// The index just past the comment opening at `lt` (`<!--` to `-->`, or
/// the end of `b`), if one opens there.
fn comment_end(b: &[u8], lt: usize) -> Option<usize> {
    b[lt..].starts_with(b"<!--").then(|| {
        b[lt + 4..]
            .windows(3)
            .position(|w| w == b"-->")
            .map_or(b.len(), |k| lt + 4 + k + 3)
    })
}

/// Where the end tag of a `<style>` or `<script>` element (raw text, no
/// tags inside) whose opening tag ends at `end` starts (or the end of
/// `b`); `None` for other elements.
fn raw_text_end(b: &[u8], end: usize, name: &[u8]) -> Option<usize> {
    let close: &[u8] = match name {
        b"style" => b"</style",
        b"script" => b"</script",
        _ => return None,
    };
    Some(find_ascii_ci(&b[end..], close).map_or(b.len(), |k| end + k))
}

/// The index just past the `>` that ends the tag opening at `lt`, quoted
/// attribute values skipped (or the end of `b`).
///
/// The states of a browser's tokenizer, cut to what ends a tag: a quote
/// opens a value only where a value starts (after an attribute name and
/// `=`), so a stray quote (`x=a'`, `x=a='`, `<p =' >`) hides nothing.
fn tag_end(b: &[u8], lt: usize) -> usize {
    #[derive(Clone, Copy, PartialEq)]
    enum S {
        TagName,
        BeforeName,
        Name,
        AfterName,
        BeforeValue,
        Quoted(u8),
        Unquoted,
    }
    let mut s = S::TagName;
    for (k, &c) in b.iter().enumerate().skip(lt + 1) {
        let ws = c.is_ascii_whitespace();
        s = match (s, c) {
            (S::Quoted(q), c) if c == q => S::BeforeName,
            (S::Quoted(q), _) => S::Quoted(q),
            (_, b'>') => return k + 1,
            (S::TagName | S::Unquoted, _) if ws => S::BeforeName,
            (S::TagName, b'/') => S::BeforeName,
            (S::TagName | S::Unquoted, _) => s,
            // `=` where a name should start begins a name (a parse error).
            (S::BeforeName, _) if ws || c == b'/' => S::BeforeName,
            (S::BeforeName, _) => S::Name,
            (S::Name | S::AfterName, b'=') => S::BeforeValue,
            (S::Name | S::AfterName, _) if ws => S::AfterName,
            (S::Name | S::AfterName, b'/') => S::BeforeName,
            (S::Name | S::AfterName, _) => S::Name,
            (S::BeforeValue, _) if ws => S::BeforeValue,
            (S::BeforeValue, b'"' | b'\'') => S::Quoted(c),
            (S::BeforeValue, _) => S::Unquoted,
        };
    }
    b.len()
}

/// The first place `pat` (ASCII) occurs in `hay`, any case.
fn find_ascii_ci(hay: &[u8], pat: &[u8]) -> Option<usize> {
    hay.windows(pat.len())
        .position(|w| w.eq_ignore_ascii_case(pat))
}

/// Character references decoded as a browser decodes them: the common
/// named ones, the HTML5 names of URL punctuation (`&colon;`, `&sol;`,
/// `&period;`...), and every numeric one (`&#101;`, `&#x65;`, and without
/// the `;` as browsers accept: `&#101vil`), which hide words and hosts from
/// filters.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(j) = rest.find('&') {
        out.push_str(&rest[..j]);
        rest = &rest[j..];
        match reference(rest) {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character a reference at the start of `s` (at its `&`) stands for,
/// and the reference's length; `None` when it is none.
fn reference(s: &str) -> Option<(char, usize)> {
    let b = s.as_bytes();
    if b.get(1) == Some(&b'#') {
        let hex = matches!(b.get(2), Some(b'x' | b'X'));
        let start = if hex { 3 } else { 2 };
        let digits = b[start.min(b.len())..]
            .iter()
            .take_while(|c| {
                if hex {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                }
            })
            .count();
        if digits == 0 {
            return None;
        }
        let end = start + digits;
        // Past U+10FFFF, a surrogate or zero: the replacement character.
        let value = s[start..end].bytes().fold(0u32, |v, c| {
            let d = (c as char).to_digit(16).unwrap_or(0);
            v.saturating_mul(if hex { 16 } else { 10 })
                .saturating_add(d)
        });
        let c = char::from_u32(value)
            .filter(|&c| c != '\0')
            .unwrap_or('\u{fffd}');
        return Some((c, end + usize::from(b.get(end) == Some(&b';'))));
    }
    let semi = b.iter().take(12).position(|&c| c == b';')?;
    let c = match &s[1..semi] {
        "nbsp" => ' ',
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "colon" => ':',
        "sol" => '/',
        "bsol" => '\\',
        "period" => '.',
        "commat" => '@',
        "quest" => '?',
        "equals" => '=',
        "num" => '#',
        "percnt" => '%',
        "lowbar" => '_',
        "excl" => '!',
        "plus" => '+',
        "comma" => ',',
        "semi" => ';',
        "ast" => '*',
        "dollar" => '$',
        "lpar" => '(',
        "rpar" => ')',
        "lsqb" | "lbrack" => '[',
        "rsqb" | "rbrack" => ']',
        "lcub" | "lbrace" => '{',
        "rcub" | "rbrace" => '}',
        "verbar" | "vert" => '|',
        "Tab" => '\t',
        "NewLine" => '\n',
        _ => return None,
    };
    Some((c, semi + 1))
}

/// Links of an HTML body: anchors with their text, form actions, images.
///
/// At most [`MAX_LINKS`] in `out` in all, but forms are read on past that
/// until [`MAX_FORMS`] forms have been read (counting those before the
/// cap): 500 images must not hide a form. As a
/// browser reads the page: comments and the contents of `<script>` and
/// `<style>` hold no links.
pub fn html_links(html: &str, out: &mut Vec<Link>) {
    let lower = html.to_ascii_lowercase();
    let b = lower.as_bytes();
    let (mut i, mut forms) = (0, 0);
    while out.len() < MAX_LINKS || forms < MAX_FORMS {
        let Some(j) = lower[i..].find('<') else { break };
        let start = i + j;
        if let Some(past) = comment_end(b, start) {
            i = past;
            continue;
        }
        // The tag ends at the first `>` outside a quoted value.
        let end = tag_end(b, start);
        if b[end - 1] != b'>' {
            break; // never closed
        }
        let (tag, ltag) = (&html[start..end], &lower[start..end]);
        // `<a` then white space (`<a\r\nhref=` in CRLF mail) or `/`
        // (`<a/href=`, which browsers read as an anchor), not `<abbr`.
        let anchor = ltag.starts_with("<a")
            && ltag
                .as_bytes()
                .get(2)
                .is_some_and(|&c| c.is_ascii_whitespace() || c == b'/');
        let (kind, name) = if anchor {
            ("a", "href")
        } else if ltag.starts_with("<form") {
            ("form", "action")
        } else if ltag.starts_with("<img") {
            ("img", "src")
        } else {
            let name = tag_name(&b[..end], start + 1);
            i = raw_text_end(b, end, &name).unwrap_or(end);
            continue;
        };
        if kind == "form" {
            forms += 1;
        } else if out.len() >= MAX_LINKS {
            i = end;
            continue;
        }
        // The attribute itself, as a browser reads the tag: not `href=`
        // inside another attribute's quoted value.
        // (`attribute` reads the lower-cased tag: the same offsets in `tag`.)
        let value = attribute(ltag, name).map(|v| {
            let off = (v.as_ptr() as usize).wrapping_sub(ltag.as_ptr() as usize);
            tag.get(off..off.saturating_add(v.len())).unwrap_or("")
        });
        if let Some(url) = value {
            // Browsers decode character references in attribute values
            // (`http://&#101;vil.example/?a=1&amp;b=2` goes to
            // evil.example), and a URL parser drops tabs and line breaks.
            let url: String = decode_entities(url)
                .chars()
                .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
                .collect();
            let url = url.trim();
            // The text runs to the `</a` or to the next anchor (which
            // closes this one in a browser); the tags inside are read on,
            // so a form or a link within an anchor is not passed over.
            let text = (kind == "a").then(|| {
                let after = &lower[end..];
                let next_a = after.match_indices("<a").find(|(k, _)| {
                    after[k + 2..]
                        .starts_with(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
                });
                let limit = next_a.map_or(after.len(), |(k, _)| k);
                let close = end + after[..limit].find("</a").unwrap_or(limit);
                strip_tags(&html[end..close])
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            });
            let (host, _) = host_of(url);
            out.push(Link {
                url: url.chars().take(2_000).collect(),
                host,
                text,
                from: kind,
            });
        } else if kind == "form" {
            out.push(Link {
                url: String::new(),
                host: String::new(),
                text: None,
                from: kind,
            });
        }
        i = end;
    }
}

/// A host named in link text (`www.binance.com`, `https://x.y/...`), if
/// the text looks like one.
pub fn host_in_text(text: &str) -> Option<String> {
    let t = text.trim().trim_end_matches(['/', '.']);
    if t.contains(char::is_whitespace) || !t.contains('.') || t.len() > 253 {
        return None;
    }
    // A scheme only if it comes first (`paypal.com/?r=https://x` shows
    // paypal.com).
    let (h, _) = match host_of(t) {
        (h, _) if !h.is_empty() => (h, false),
        _ => host_of(&format!("http://{t}")),
    };
    let labels: Vec<&str> = h.split('.').collect();
    let tld = labels.last()?;
    (labels.len() >= 2 && tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
        .then_some(h)
}

#[cfg(test)]
mod tests {
    /// Words joined by one space.
    fn words(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn strip_tags_shows_what_a_reader_sees() {
        let t = |h: &str| words(&strip_tags(h));
        assert_eq!(t("<style>.mnemonic{}</style><p>Hi</p>"), "Hi");
        assert_eq!(t("<!-- <style> --><p>Dear customer</p>"), "Dear customer");
        assert_eq!(t("<img alt=\"<script\" src=x><b>Verify</b>"), "Verify");
        assert_eq!(t("<p title='a<styles'>seed phrase</p>"), "seed phrase");
        assert_eq!(t("<SCRIPT>x=1</SCRIPT >after"), "after");
        assert_eq!(
            t("D&#101;ar &#x63;ustomer &amp; &bogus; &#xZZ; caf\u{e9}&"),
            "Dear customer & &bogus; &#xZZ; caf\u{e9}&"
        );
        assert_eq!(t("<style>never closed"), "");
        assert_eq!(
            t("\u{e9}&\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9};"),
            "\u{e9}&\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9};"
        );
    }

    #[test]
    fn visible_text_leaves_out_what_styles_hide() {
        for (html, seen) in [
            (
                "<p>Verify</p><div style=\"display: none\">pad <div>more</div> pad</div><p>now</p>",
                "Verify now",
            ),
            ("<SPAN STYLE='DISPLAY:NONE'>x</SPAN>y", "y"),
            ("<td style=\"opacity:0\">a</td><td>b</td>", "b"),
            ("<td style=\"opacity:0.5\">a</td>", "a"),
            (
                "<td style=\"max-height:0;overflow:hidden\">a</td><td>b</td>",
                "b",
            ),
            ("<td style=\"max-height:0\">a</td>", "a"),
            // Children undo these: a newsletter's cells (MJML) say font-size:0.
            (
                "<td style=\"font-size:0px\"><div style=\"font-size:13px\">news</div></td>",
                "news",
            ),
            ("<p style=\"visibility:hidden\">a</p>", "a"),
            // Void elements hide nothing after them; `/>` closes no other.
            ("<img style=\"display:none\" src=x>seen", "seen"),
            ("<div style=\"display:none\"/>pad</div>seen", "seen"),
            // Nested elements of the same name are counted, comments and
            // style sheets are not read for tags.
            (
                "<div style=\"display:none\"><div>a</div><div>b</div></div>seen",
                "seen",
            ),
            ("<div style=display:none><!--</div>-->pad</div>seen", "seen"),
            (
                "<div style=display:none><style>x{}</div></style>pad</div>seen",
                "seen",
            ),
            // Written with entities, still the style.
            ("<div style=\"display:&#110;one\">pad</div>seen", "seen"),
            // The style must be the tag's: another attribute, or text, is not.
            ("<p data-style=\"display:none\">a</p>", "a"),
            ("<p title=\"x style=display:none\">a</p>", "a"),
            ("<p>display:none</p>", "display:none"),
        ] {
            assert_eq!(words(&visible_text(html)), seen, "{html}");
        }
        assert_eq!(strip_tags("<b style=\"display:none\">a</b>").trim(), "a");
    }

    use super::*;

    /// The links [`html_links`] finds in `html`.
    fn links(html: &str) -> Vec<Link> {
        let mut v = Vec::new();
        html_links(html, &mut v);
        v
    }

    #[test]
    fn hosts_and_ips() {
        assert_eq!(
            host_of("https://user@evil.com:8080/x"),
            ("evil.com".into(), true)
        );
        assert_eq!(
            host_of("http://Binance.COM./login"),
            ("binance.com".into(), false)
        );
        assert_eq!(host_of("www.upbit.com/a").0, "www.upbit.com");
        assert_eq!(
            host_of("www.x.example/?u=https://bit.ly/a").0,
            "www.x.example"
        );
        assert_eq!(host_of("/redirect?to=https://bit.ly/a").0, "");
        assert_eq!(
            host_in_text("paypal.com/?r=https://x.example").as_deref(),
            Some("paypal.com")
        );
        assert_eq!(
            host_in_text("https://www.paypal.com/x").as_deref(),
            Some("www.paypal.com")
        );
        assert_eq!(host_of("HTTPS://www.upbit.com/a").0, "www.upbit.com");
        assert!(is_ip("192.168.0.1") && is_ip("3232235777") && is_ip("[::1]") && is_ip("0x7f.1"));
        assert!(!is_ip("binance.com") && !is_ip(""));
    }

    #[test]
    fn html_anchors_forms_and_text() {
        let html = r#"<p>Hi <a href="http://evil.example/x">https://www.binance.com/login</a>
            <A HREF='https://ok.example'>here</A><form action="https://grab.example/p"></form><img src=http://t.example/p.gif></p>"#;
        let v = links(html);
        assert_eq!(v.len(), 4, "{v:?}");
        assert_eq!(v[0].host, "evil.example");
        assert_eq!(v[0].text.as_deref(), Some("https://www.binance.com/login"));
        assert_eq!(
            host_in_text(v[0].text.as_deref().unwrap()).as_deref(),
            Some("www.binance.com")
        );
        assert_eq!(v[1].text.as_deref(), Some("here"));
        assert_eq!(host_in_text("here"), None);
        assert_eq!((v[2].from, v[2].host.as_str()), ("form", "grab.example"));
        assert_eq!(v[3].host, "t.example");
        let mut t = Vec::new();
        text_links("see https://a.example/x, or www.b.example.", &mut t);
        assert_eq!(
            t.iter().map(|l| l.host.as_str()).collect::<Vec<_>>(),
            ["a.example", "www.b.example"]
        );
    }

    #[test]
    fn anchors_split_over_lines_and_encoded_hrefs() {
        let html = "<a\r\nhref=\"http://&#101;vil.example/?a=1&amp;b=2\">x</a>\
                    <a\thref='https://&#x6f;k.example'>y</a><abbr href=\"http://no.example\">z</abbr>";
        let v = links(html);
        let got: Vec<_> = v
            .iter()
            .map(|l| (l.host.as_str(), l.url.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("evil.example", "http://evil.example/?a=1&b=2"),
                ("ok.example", "https://ok.example")
            ]
        );
    }

    /// Spellings a browser reads as a link to evil.example, each once;
    /// and an `href=` inside another attribute's value is no link.
    #[test]
    fn hrefs_are_read_as_a_browser_reads_them() {
        let html = "<a/href=\"http://evil.example/1\">a</a>\
                    <a href=\"http://&#101vil.example/2\">b</a>\
                    <a href=\"http&colon;&sol;&sol;evil&period;example/3\">c</a>\
                    <a href=\"ht&Tab;tp://ev&NewLine;il.example/4\">d</a>\
                    <a title=\"x > y\" href=\"http://evil.example/5\">e</a>\
                    <a title=\" href=http://decoy.example/\" href=\"http://evil.example/6\">f</a>\
                    <a href=\"http://&#x65vil.example/7\">g</a>\
                    <span x=a'></span><a href=\"http://evil.example/8\">h</a> it's";
        let v = links(html);
        let got: Vec<_> = v.iter().map(|l| l.url.as_str()).collect();
        let want: Vec<_> = (1..=8)
            .map(|i| format!("http://evil.example/{i}"))
            .collect();
        assert_eq!(got, want);
        assert!(v.iter().all(|l| l.host == "evil.example"), "{v:?}");
        assert_eq!(v[4].text.as_deref(), Some("e"));
        // References a browser leaves alone stay as written.
        assert_eq!(
            decode_entities("a&b &#; &#x; &unknown; &amp"),
            "a&b &#; &#x; &unknown; &amp"
        );
        assert_eq!(
            decode_entities("&#0;&#99999999999;&#x41;&#66"),
            "\u{fffd}\u{fffd}AB"
        );
    }

    /// What is inside an anchor is read too: a link nested in it (a
    /// browser closes the first anchor there) and a form; the first
    /// anchor's text ends where the second starts.
    #[test]
    fn links_and_forms_inside_an_anchor_are_read() {
        let html = "<a href=\"http://a.example/\">one <a href=\"http://b.example/\">two</a>\
                    <a href=\"#\"><form action=\"https://grab.example/p\"></form></a>";
        let v = links(html);
        let got: Vec<_> = v
            .iter()
            .map(|l| (l.url.as_str(), l.text.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("http://a.example/", Some("one")),
                ("http://b.example/", Some("two")),
                ("#", Some("")),
                ("https://grab.example/p", None),
            ]
        );
    }

    /// A quote in a comment, in a script, in an unquoted value or where an
    /// attribute name should start hides no later link (a browser shows
    /// each of these links); a link inside a comment or a script is none.
    #[test]
    fn stray_quotes_comments_and_scripts_hide_no_link() {
        let html = "<!-- a=\" --><a href=\"http://evil.example/1\">a</a>\
                    <script>var s = '<a href=\"http://no.example/\">';</script>\
                    <a href=\"http://evil.example/2\">b</a>\
                    <span x=a='></span><a href=\"http://evil.example/3\">c</a>\
                    <p =' ></p><a href=\"http://evil.example/4\">d</a>\
                    <style>p{content:\"'\"}</style><a href=\"http://evil.example/5\">e</a>\
                    <!-- <a href=\"http://no.example/\">x</a> -->\
                    <a href = 'http://evil.example/6'>f</a>";
        let v = links(html);
        let got: Vec<_> = v.iter().map(|l| l.url.as_str()).collect();
        let want: Vec<_> = (1..=6)
            .map(|i| format!("http://evil.example/{i}"))
            .collect();
        assert_eq!(got, want);
        let texts: Vec<_> = v.iter().map(|l| l.text.as_deref().unwrap()).collect();
        assert_eq!(texts, ["a", "b", "c", "d", "e", "f"]);
    }

    /// Images up to the link cap do not hide a form after them.
    #[test]
    fn a_form_after_the_link_cap_is_read() {
        let mut html = "<img src=\"http://t.example/p.gif\">".repeat(MAX_LINKS + 20);
        html.push_str("<form action=\"https://grab.example/p\"></form>");
        let v = links(&html);
        assert_eq!(v.iter().filter(|l| l.from == "img").count(), MAX_LINKS);
        let forms: Vec<_> = v.iter().filter(|l| l.from == "form").collect();
        assert_eq!(forms.len(), 1, "{forms:?}");
        assert_eq!(forms[0].host, "grab.example");
    }

    #[test]
    fn crypto_identifiers() {
        let mut c = Crypto::default();
        crypto(
            "send to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa or bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq; \
             bad 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb; eth 0x52908400098527886E0F7030069857D2E4169EE7 \
             trx TJYeasTPa6gpEEfYqN8B2ERJeVh4aKtGkd tx f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16",
            &mut c,
        );
        assert_eq!(
            c.btc,
            [
                "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
                "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
            ]
        );
        assert_eq!(c.eth.len(), 1);
        assert_eq!(c.trx.len(), 1);
        assert_eq!(c.txids.len(), 1);
    }
}
