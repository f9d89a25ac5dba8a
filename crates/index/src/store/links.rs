//! The records of `out_link.col`: which outputs pay a new address, which an
//! address seen before, and where each one's address and previous output
//! are found.
//!
//! One 32-byte record per [`GROUP`] outputs: the `out_prev` / `out_addr`
//! records before the group (u64), the address count before the group
//! (u64), a bit per output set when it pays an address seen before (a
//! *linked* output: its previous output and address are stored, at the
//! rank of the bit among all such bits), and a bit per output set when it
//! pays a new address (whose id is then the rank of the bit among all such
//! bits: ids are given in order of first appearance). An output with
//! neither bit pays no address (`OP_RETURN`). Bits of a partial last record
//! past the output count are zero.
//!
//! Pure functions over bytes, so that readers of committed data, a writer,
//! and the repair (reading files past their committed lengths) share them.
//! Owns no file and no durability rule: the store does.

/// Outputs per record.
pub const GROUP: u64 = 64;

/// Bytes per record.
pub const WIDTH: u64 = 32;

/// Offsets in a record.
const LINKS: usize = 0;
const ADDRS: usize = 8;
const LINKED: usize = 16;
const NEW: usize = 24;

/// Where an output's address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// No address.
    None,
    /// The first output paid to address id `.0`.
    New(u64),
    /// An output to an address seen before: its previous output and its
    /// address are record `.0` of `out_prev` and `out_addr`.
    Linked(u64),
}

fn word(rec: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(rec[at..at + 8].try_into().expect("8 bytes"))
}

fn below(bits: u64, i: u64) -> u64 {
    (bits & ((1u64 << i) - 1)).count_ones() as u64
}

/// The record of output `o` in `bytes`, if they reach it.
fn record(bytes: &[u8], o: u64) -> Option<&[u8]> {
    let r = usize::try_from(o / GROUP)
        .ok()?
        .checked_mul(WIDTH as usize)?;
    bytes.get(r..r.checked_add(WIDTH as usize)?)
}

/// Output `o`'s link; `None` if the bytes do not reach it (or a damaged
/// record flags it both ways).
pub fn at(bytes: &[u8], o: u64) -> Option<Link> {
    let rec = record(bytes, o)?;
    let i = o % GROUP;
    let (linked, new) = (word(rec, LINKED), word(rec, NEW));
    match (linked >> i & 1, new >> i & 1) {
        (0, 0) => Some(Link::None),
        (1, 0) => word(rec, LINKS)
            .checked_add(below(linked, i))
            .map(Link::Linked),
        (0, 1) => word(rec, ADDRS).checked_add(below(new, i)).map(Link::New),
        _ => None,
    }
}

/// Linked outputs before output `o`, whose record must be in `bytes`.
pub fn linked_below(bytes: &[u8], o: u64) -> Option<u64> {
    let rec = record(bytes, o)?;
    word(rec, LINKS).checked_add(below(word(rec, LINKED), o % GROUP))
}

/// A new record for the group starting at an output, after `links` linked
/// outputs and `addrs` addresses.
pub fn new_record(links: u64, addrs: u64) -> [u8; WIDTH as usize] {
    let mut rec = [0u8; WIDTH as usize];
    rec[LINKS..LINKS + 8].copy_from_slice(&links.to_le_bytes());
    rec[ADDRS..ADDRS + 8].copy_from_slice(&addrs.to_le_bytes());
    rec
}

/// Offset (in the record) and value of the byte that flags output `o`
/// of `rec` as linked or new, the other bit of `o` cleared.
pub fn flag(rec: &[u8], o: u64, linked: bool) -> [(usize, u8); 2] {
    let i = (o % GROUP) as usize;
    let bit = 1u8 << (i % 8);
    let (set, clear) = if linked { (LINKED, NEW) } else { (NEW, LINKED) };
    [
        (set + i / 8, rec[set + i / 8] | bit),
        (clear + i / 8, rec[clear + i / 8] & !bit),
    ]
}

/// Clears the bits of outputs at and past `from % GROUP` in the record `rec`.
pub fn clear_from(rec: &mut [u8], from: u64) {
    let keep = (1u64 << (from % GROUP)) - 1;
    for at in [LINKED, NEW] {
        let w = word(rec, at) & keep;
        rec[at..at + 8].copy_from_slice(&w.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds records for outputs of the given kinds (0 none, 1 new, 2 linked)
    /// as the store does.
    fn build(kinds: &[u8]) -> Vec<u8> {
        let (mut bytes, mut links, mut addrs) = (Vec::new(), 0u64, 0u64);
        for (o, &k) in kinds.iter().enumerate() {
            let o = o as u64;
            if o.is_multiple_of(GROUP) {
                bytes.extend_from_slice(&new_record(links, addrs));
            }
            if k == 0 {
                continue;
            }
            let r = (o / GROUP * WIDTH) as usize;
            for (at, b) in flag(&bytes[r..r + WIDTH as usize], o, k == 2) {
                bytes[r + at] = b;
            }
            if k == 2 {
                links += 1;
            } else {
                addrs += 1;
            }
        }
        bytes
    }

    #[test]
    fn ranks_across_records() {
        let kinds: Vec<u8> = (0..300u32).map(|o| ((o * 7 + o / 5) % 3) as u8).collect();
        let bytes = build(&kinds);
        let (mut links, mut addrs) = (0, 0);
        for (o, &k) in kinds.iter().enumerate() {
            let want = match k {
                0 => Link::None,
                1 => Link::New(addrs),
                _ => Link::Linked(links),
            };
            assert_eq!(at(&bytes, o as u64), Some(want), "output {o}");
            assert_eq!(linked_below(&bytes, o as u64), Some(links));
            match k {
                1 => addrs += 1,
                2 => links += 1,
                _ => {}
            }
        }
        assert_eq!(at(&bytes, 320), None, "past the records");
    }

    #[test]
    fn clearing_a_partial_record_gives_the_bytes_of_a_shorter_run() {
        let kinds: Vec<u8> = (0..150u32).map(|o| ((o * 5 + 1) % 3) as u8).collect();
        let full = build(&kinds);
        for cut in [129u64, 130, 140, 149] {
            let short = build(&kinds[..cut as usize]);
            let r = (cut / GROUP * WIDTH) as usize;
            let mut cleared = full[..short.len()].to_vec();
            clear_from(&mut cleared[r..r + WIDTH as usize], cut);
            assert_eq!(cleared, short, "cut at {cut}");
        }
    }

    #[test]
    fn a_flag_overwrites_a_stale_bit_of_the_other_kind() {
        let mut rec = new_record(3, 9);
        for (at, b) in flag(&rec, 5, true) {
            rec[at] = b;
        }
        for (at, b) in flag(&rec.clone(), 5, false) {
            rec[at] = b;
        }
        assert_eq!(at(&rec, 5), Some(Link::New(9)));
        assert_eq!(linked_below(&rec, 6), Some(3));
    }
}
