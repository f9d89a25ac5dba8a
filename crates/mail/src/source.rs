//! Where messages come from: one `.eml` file, an mbox, a maildir, or a
//! folder of any of them (walked, sorted). Each file is read whole, up to
//! eight times [`crate::analyze::MAX_MESSAGE`] (an mbox holds many
//! messages). What cannot be read is a [`Problem`] naming the path, never
//! fatal and never silent: files over the limit, sockets, pipes and devices
//! (reading one could block), broken links, links to folders (not
//! followed: they could loop), folders past [`MAX_DEPTH`] or [`MAX_FILES`].
//!
//! Owns the splitting of mboxes and the walk. Must not: judge.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Files read from one folder tree at most.
pub const MAX_FILES: usize = 1_000_000;
/// Folders walked into at most, one inside the other.
pub const MAX_DEPTH: usize = 32;

/// One message and where it came from.
#[derive(Debug)]
pub struct Item {
    /// `path`, or `path#n` for the n-th message (from 1) of an mbox.
    pub source: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A file or folder that could not be read.
#[derive(Debug)]
pub struct Problem {
    /// The path.
    pub path: PathBuf,
    /// Why.
    pub message: String,
}

/// Whether `bytes` is an mbox: a `From ` line first, and another one later.
pub fn is_mbox(bytes: &[u8]) -> bool {
    bytes.starts_with(b"From ") && memfind(&bytes[5..], b"\nFrom ").is_some()
}

fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The messages of an mbox: split at lines starting `From ` (mboxrd's
/// `>From ` quoting is left as it is), the separator lines dropped.
pub fn split_mbox(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut starts = Vec::new();
    if bytes.starts_with(b"From ") {
        starts.push(0);
    }
    let mut i = 0;
    while let Some(j) = memfind(&bytes[i..], b"\nFrom ") {
        starts.push(i + j + 1);
        i += j + 1;
    }
    for (k, &s) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(bytes.len());
        let body_start = bytes[s..end]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(end, |p| s + p + 1);
        if body_start < end {
            out.push(&bytes[body_start..end]);
        }
    }
    out
}

/// Reads every message under `path`: a file (an `.eml` or an mbox), a
/// maildir (`cur/`, `new/`) or any folder (walked). Problems are listed,
/// never fatal.
pub fn read(path: &Path, items: &mut Vec<Item>, problems: &mut Vec<Problem>) {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            problems.push(Problem {
                path: path.to_path_buf(),
                message: e.to_string(),
            });
            return;
        }
    };
    if meta.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut files, problems, 0);
        files.sort();
        for f in files {
            read_file(&f, items, problems);
        }
    } else {
        read_file(path, items, problems);
    }
}

fn problem(problems: &mut Vec<Problem>, path: &Path, message: impl Into<String>) {
    problems.push(Problem {
        path: path.to_path_buf(),
        message: message.into(),
    });
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, problems: &mut Vec<Problem>, depth: usize) {
    if depth > MAX_DEPTH {
        problem(
            problems,
            dir,
            format!("more than {MAX_DEPTH} folders deep: not read"),
        );
        return;
    }
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problem(problems, dir, e.to_string());
            return;
        }
    };
    for e in entries {
        let e = match e {
            Ok(e) => e,
            Err(err) => {
                problem(problems, dir, format!("while listing: {err}"));
                continue;
            }
        };
        if files.len() >= MAX_FILES {
            problem(
                problems,
                dir,
                format!("over {MAX_FILES} files: the rest of this folder was not read"),
            );
            return;
        }
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        // Maildir's tmp/ holds messages being delivered; dot files are
        // not mail, but dot folders holding a cur/ are Maildir++ folders
        // (`.Junk`); files at a maildir's top are the server's own
        // (`dovecot-uidlist`, `subscriptions`), its mail is in cur/ and new/.
        let maildir = dir.join("cur").is_dir();
        let maildir_folder = name.starts_with('.') && p.join("cur").is_dir();
        if (name.starts_with('.') && !maildir_folder) || (name == "tmp" && maildir) {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&p, files, problems, depth + 1),
            Ok(t) if t.is_file() && maildir => {}
            Ok(t) if t.is_file() => files.push(p),
            // A link to a message is read; a link to a folder is not
            // followed (it could loop), and says so.
            Ok(t) if t.is_symlink() => match fs::metadata(&p) {
                Ok(m) if m.is_file() => files.push(p),
                Ok(m) if m.is_dir() => problem(problems, &p, "a link to a folder: not followed"),
                Ok(_) => problem(problems, &p, "a link to something that is not a file"),
                Err(err) => problem(problems, &p, format!("a broken link: {err}")),
            },
            Ok(_) => problem(
                problems,
                &p,
                "not a regular file (a socket, pipe or device): not read",
            ),
            Err(err) => problem(problems, &p, err.to_string()),
        }
    }
}

fn read_file(path: &Path, items: &mut Vec<Item>, problems: &mut Vec<Problem>) {
    let limit = crate::analyze::MAX_MESSAGE as u64 * 8;
    let bytes = match fs::metadata(path).and_then(|m| {
        if !m.is_file() {
            // A pipe or device could block or never end.
            Err(io::Error::other(
                "not a regular file (a socket, pipe or device): not read",
            ))
        } else if m.len() > limit {
            Err(io::Error::other(format!(
                "{} bytes: over the {} MB read limit",
                m.len(),
                limit >> 20
            )))
        } else {
            read_at_most(path, limit)
        }
    }) {
        Ok(b) => b,
        Err(e) => {
            problem(problems, path, e.to_string());
            return;
        }
    };
    let shown = path.display().to_string();
    if is_mbox(&bytes) {
        for (n, m) in split_mbox(&bytes).into_iter().enumerate() {
            items.push(Item {
                source: format!("{shown}#{}", n + 1),
                bytes: m.to_vec(),
            });
        }
    } else if !looks_like_mail(&bytes) {
        problem(
            problems,
            path,
            "not a message: it does not start with a header line (`Name: value`)",
        );
    } else {
        items.push(Item {
            source: shown,
            bytes,
        });
    }
}

/// Whether `b` starts as a message does: after a byte-order mark and blank
/// lines, a header name (printable ASCII, no space) and a colon, or an
/// mbox `From ` line.
fn looks_like_mail(b: &[u8]) -> bool {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    let start = b
        .iter()
        .position(|c| !matches!(c, b'\r' | b'\n' | b' ' | b'\t'))
        .unwrap_or(b.len());
    if b[start..].starts_with(b"From ") {
        // An mbox envelope line before one message.
        return true;
    }
    let name = b[start..]
        .iter()
        .take(200)
        .take_while(|&&c| (33..=126).contains(&c) && c != b':')
        .count();
    name > 0 && b.get(start + name) == Some(&b':')
}

/// The file's bytes, failing if it has grown past `limit` since its size
/// was looked at.
fn read_at_most(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut v = Vec::new();
    fs::File::open(path)?.take(limit + 1).read_to_end(&mut v)?;
    if v.len() as u64 > limit {
        return Err(io::Error::other(format!(
            "grew past the {} MB read limit while being read",
            limit >> 20
        )));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_split() {
        let m = b"From a@b Mon Jan 1 00:00:00 2024\nSubject: one\n\nhi\nFrom b@c Tue Jan 2 00:00:00 2024\nSubject: two\n\n>From quoted\n";
        assert!(is_mbox(m));
        let parts = split_mbox(m);
        assert_eq!(parts.len(), 2);
        assert!(parts[0].starts_with(b"Subject: one"));
        assert!(parts[1].ends_with(b">From quoted\n"));
        assert!(!is_mbox(b"From: a@b\nSubject: x\n\nbody"));
    }
}
