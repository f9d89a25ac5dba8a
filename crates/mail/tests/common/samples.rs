//! Inert sample builders shared by `attach.rs`'s unit tests and
//! `tests/hostile.rs` (included by `#[path]` in both): CRC-32, a zip
//! writer, OLE/CFB files, a PE header and base64. Nothing here could run.
#![allow(dead_code)]

use std::io::{Cursor, Write};
use std::path::Path;

/// CRC-32 (IEEE), as zip and PNG store it.
pub fn crc32(b: &[u8]) -> u32 {
    let mut c = !0u32;
    for &x in b {
        c ^= u32::from(x);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A zip member as written: `packed` as stored (already deflated when
/// `method` is 8), `size` the uncompressed size the headers declare.
pub struct RawMember {
    pub name: String,
    pub method: u16,
    pub flags: u16,
    pub packed: Vec<u8>,
    pub size: u32,
    pub crc: u32,
}

/// A zip: local headers and data, central directory, end record.
pub fn zip_raw(members: &[RawMember]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut cd = Vec::new();
    for x in members {
        let off = out.len() as u32;
        let common = |v: &mut Vec<u8>| {
            v.extend(x.flags.to_le_bytes());
            v.extend(x.method.to_le_bytes());
            v.extend([0u8; 4]);
            v.extend(x.crc.to_le_bytes());
            v.extend((x.packed.len() as u32).to_le_bytes());
            v.extend(x.size.to_le_bytes());
            v.extend((x.name.len() as u16).to_le_bytes());
            v.extend(0u16.to_le_bytes());
        };
        out.extend(b"PK\x03\x04");
        out.extend(20u16.to_le_bytes());
        common(&mut out);
        out.extend(x.name.as_bytes());
        out.extend(&x.packed);
        cd.extend(b"PK\x01\x02");
        cd.extend(20u16.to_le_bytes());
        cd.extend(20u16.to_le_bytes());
        common(&mut cd);
        cd.extend([0u8; 10]);
        cd.extend(off.to_le_bytes());
        cd.extend(x.name.as_bytes());
    }
    let cd_off = out.len() as u32;
    out.extend(&cd);
    out.extend(b"PK\x05\x06");
    out.extend([0u8; 4]);
    let n = members.len().min(0xFFFF) as u16;
    out.extend(n.to_le_bytes());
    out.extend(n.to_le_bytes());
    out.extend((cd.len() as u32).to_le_bytes());
    out.extend(cd_off.to_le_bytes());
    out.extend([0u8; 2]);
    out
}

/// An OLE/CFB file holding `streams` (paths like `/Macros/VBA/dir`).
pub fn cfb_file(streams: &[(&str, &[u8])]) -> Vec<u8> {
    let mut c = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    for (path, data) in streams {
        let p = Path::new(path);
        if let Some(parent) = p.parent().filter(|p| *p != Path::new("/")) {
            c.create_storage_all(parent).unwrap();
        }
        let mut s = c.create_stream(p).unwrap();
        s.write_all(data).unwrap();
        s.flush().unwrap();
    }
    c.flush().unwrap();
    c.into_inner().into_inner()
}

/// "MZ", `e_lfanew`, "PE\0\0" and a machine word: a header, no code.
pub fn fake_pe() -> Vec<u8> {
    let mut b = vec![0u8; 0x100];
    b[..2].copy_from_slice(b"MZ");
    b[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    b[0x80..0x84].copy_from_slice(b"PE\0\0");
    b[0x84..0x86].copy_from_slice(&0x014cu16.to_le_bytes());
    b
}

/// A PDF whose JavaScript and `/Launch setup.exe` actions sit in a Flate
/// object stream (hidden from a plain scan), then `tail`.
pub fn pdf_objstm(tail: &[u8]) -> Vec<u8> {
    let body = b"4 0 5 40 << /S /JavaScript /JS (void 0;) >> << /S /Launch /F (setup.exe) >>";
    let mut b =
        b"%PDF-1.5\n6 0 obj\n<< /Type /ObjStm /N 2 /First 8 /Filter /FlateDecode >>\nstream\n"
            .to_vec();
    b.extend(miniz_oxide::deflate::compress_to_vec_zlib(body, 6));
    b.extend(b"\nendstream\nendobj\n");
    b.extend(tail);
    b
}

/// Base64 in lines of 76 characters, as mail carries it.
pub fn base64(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(b.len() * 4 / 3 + b.len() / 57 + 4);
    for (i, c) in b.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            s.push('\n');
        }
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                s.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}
