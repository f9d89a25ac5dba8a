//! The records of `tx_out.col` and `tx_in.col` (format 6): where each
//! transaction's outputs (inputs) start, in 64 bytes per [`GROUP`]
//! transactions instead of 5 bytes per transaction.
//!
//! One record per 59 transactions, a cache line: the first output (input)
//! id of the group's first transaction (u40), then one byte per
//! transaction, its output (input) count, or [`ESCAPE`] when the count is
//! 255 or more; the count is then in `tx_big.col` ([`BIG_WIDTH`]-byte
//! entries: the transaction, its output count and its input count, u32
//! each, in transaction order, one per transaction with either count
//! escaped). A transaction's first id is its record's plus the counts
//! before it in the record: one 64-byte read and a sum of at most 58 bytes,
//! where the fixed-width column took one 5-byte read. Count bytes of a
//! partial last record past the transaction count are zero.
//!
//! Pure functions over bytes, as in [`super::links`]: readers of committed
//! data, the writer and the repair share them. Owns no file and no
//! durability rule: the store does.

/// Transactions per record.
pub const GROUP: u64 = 59;

/// Bytes per record.
pub const WIDTH: u64 = 64;

/// The count byte of a transaction whose count is in `tx_big.col`.
pub const ESCAPE: u8 = 255;

/// Bytes per `tx_big.col` entry.
pub const BIG_WIDTH: u64 = 12;

/// Offset of the count bytes in a record.
const COUNTS: usize = 5;

/// Which count of a `tx_big.col` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Outputs (`tx_out.col`).
    Outs,
    /// Inputs (`tx_in.col`).
    Ins,
}

/// The record holding transaction `t`, if `bytes` reach it.
fn record(bytes: &[u8], t: u64) -> Option<&[u8]> {
    let r = usize::try_from(t / GROUP)
        .ok()?
        .checked_mul(WIDTH as usize)?;
    bytes.get(r..r.checked_add(WIDTH as usize)?)
}

fn u40(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w[..5].copy_from_slice(&b[..5]);
    u64::from_le_bytes(w)
}

/// The `tx_big.col` entry of transaction `t` (a binary search of `big`).
fn big_entry(big: &[u8], t: u64) -> Option<&[u8]> {
    let w = BIG_WIDTH as usize;
    let at = big_below(big, t) as usize * w;
    big.get(at..at + w).filter(|e| big_tx(e) == t)
}

/// The transaction of a `tx_big` record.
fn big_tx(e: &[u8]) -> u64 {
    u32::from_le_bytes(e[..4].try_into().expect("4 bytes")) as u64
}

/// Transaction `t`'s count as its count byte `b` gives it.
fn resolve(b: u8, t: u64, big: &[u8], side: Side) -> Option<u64> {
    if b != ESCAPE {
        return Some(b as u64);
    }
    let e = big_entry(big, t)?;
    let at = match side {
        Side::Outs => 4,
        Side::Ins => 8,
    };
    Some(u32::from_le_bytes(e[at..at + 4].try_into().expect("4 bytes")) as u64)
}

/// Sum of the counts of the transactions before `t` in its record `rec`.
fn sum_before(rec: &[u8], t: u64, big: &[u8], side: Side) -> Option<u64> {
    let i = (t % GROUP) as usize;
    let counts = &rec[COUNTS..COUNTS + i];
    // The common case, no escape: a plain byte sum (vectorised).
    let plain: u64 = counts.iter().map(|&b| b as u64).sum();
    if !counts.contains(&ESCAPE) {
        return Some(plain);
    }
    let first = t - i as u64;
    let mut sum = 0u64;
    for (j, &b) in counts.iter().enumerate() {
        sum = sum.checked_add(resolve(b, first + j as u64, big, side)?)?;
    }
    Some(sum)
}

/// The outputs (inputs) of transaction `t`: its first id and its count,
/// from the column's `bytes` and `tx_big.col`'s `big`; `None` if they do
/// not reach it.
pub fn span(bytes: &[u8], big: &[u8], side: Side, t: u64) -> Option<(u64, u64)> {
    let rec = record(bytes, t)?;
    let start = u40(rec).checked_add(sum_before(rec, t, big, side)?)?;
    let n = resolve(rec[COUNTS + (t % GROUP) as usize], t, big, side)?;
    Some((start, n))
}

/// The last transaction below `txs` whose first id is at most `id` (the
/// transaction holding output or input `id`); `None` if there is none.
pub fn tx_of(bytes: &[u8], big: &[u8], side: Side, txs: u64, id: u64) -> Option<u64> {
    if txs == 0 {
        return None;
    }
    let groups = (txs - 1) / GROUP + 1;
    // The last record whose first id is at most `id`.
    let records = bytes.get(..usize::try_from(groups * WIDTH).ok()?)?;
    let r = super::wide::rank(records, WIDTH as usize, id.saturating_add(1), u40).checked_sub(1)?;
    let rec = record(bytes, r * GROUP)?;
    let (start, end) = (r * GROUP, txs.min((r + 1) * GROUP));
    let (mut t, mut pos) = (start, u40(rec));
    loop {
        let next = t + 1;
        if next >= end {
            return Some(t);
        }
        pos = pos.checked_add(resolve(rec[COUNTS + (t % GROUP) as usize], t, big, side)?)?;
        if pos > id {
            return Some(t);
        }
        t = next;
    }
}

/// Byte offset of the record holding transaction `t` (for prefetching).
pub fn record_offset(t: u64) -> usize {
    (t / GROUP * WIDTH) as usize
}

/// A new record for the group starting at a transaction whose first id is
/// `first`.
pub fn new_record(first: u64) -> [u8; WIDTH as usize] {
    let mut rec = [0u8; WIDTH as usize];
    rec[..5].copy_from_slice(&first.to_le_bytes()[..5]);
    rec
}

/// Offset (in its record) and value of transaction `t`'s count byte for
/// `count`; whether the count must also go in `tx_big.col`.
pub fn count_byte(t: u64, count: u64) -> (usize, u8, bool) {
    let at = COUNTS + (t % GROUP) as usize;
    if count >= ESCAPE as u64 {
        (at, ESCAPE, true)
    } else {
        (at, count as u8, false)
    }
}

/// A `tx_big.col` entry.
pub fn big_record(t: u32, outs: u32, ins: u32) -> [u8; BIG_WIDTH as usize] {
    let mut e = [0u8; BIG_WIDTH as usize];
    e[..4].copy_from_slice(&t.to_le_bytes());
    e[4..8].copy_from_slice(&outs.to_le_bytes());
    e[8..].copy_from_slice(&ins.to_le_bytes());
    e
}

/// Entries of `big` for transactions below `txs`.
pub fn big_below(big: &[u8], txs: u64) -> u64 {
    super::wide::rank(big, BIG_WIDTH as usize, txs, big_tx)
}

/// Clears the count bytes of transactions at and past `from % GROUP` in
/// the record `rec`.
pub fn clear_from(rec: &mut [u8], from: u64) {
    rec[COUNTS + (from % GROUP) as usize..].fill(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds both columns and `tx_big` for transactions of the given
    /// (outputs, inputs) counts, as the store does.
    fn build(counts: &[(u64, u64)]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let (mut outs, mut ins, mut big) = (Vec::new(), Vec::new(), Vec::new());
        let (mut o, mut i) = (0u64, 0u64);
        for (t, &(no, ni)) in counts.iter().enumerate() {
            let t = t as u64;
            if t.is_multiple_of(GROUP) {
                outs.extend_from_slice(&new_record(o));
                ins.extend_from_slice(&new_record(i));
            }
            let r = (t / GROUP * WIDTH) as usize;
            let (at, b, bo) = count_byte(t, no);
            outs[r + at] = b;
            let (at, b, bi) = count_byte(t, ni);
            ins[r + at] = b;
            if bo || bi {
                big.extend_from_slice(&big_record(t as u32, no as u32, ni as u32));
            }
            o += no;
            i += ni;
        }
        (outs, ins, big)
    }

    #[test]
    fn spans_and_owners_match_a_plain_prefix_sum() {
        // Counts around every edge: zero, 254, 255, 256, large; groups
        // full and partial; escapes on one side only and on both.
        let mut counts = Vec::new();
        let mut x = 7u64;
        for t in 0..400u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let pick = |v: u64| match v % 11 {
                0 => 0,
                1 => 254,
                2 => 255,
                3 => 256,
                4 => 100_000,
                _ => 1 + v % 5,
            };
            counts.push((pick(x >> 20), pick((x >> 40) ^ t)));
        }
        let (outs, ins, big) = build(&counts);
        assert_eq!(outs.len() as u64, 400u64.div_ceil(GROUP) * WIDTH);
        let (mut o, mut i) = (0u64, 0u64);
        for (t, &(no, ni)) in counts.iter().enumerate() {
            let t = t as u64;
            assert_eq!(
                span(&outs, &big, Side::Outs, t),
                Some((o, no)),
                "outs of {t}"
            );
            assert_eq!(span(&ins, &big, Side::Ins, t), Some((i, ni)), "ins of {t}");
            for id in [o, o + no / 2, (o + no).saturating_sub(1)] {
                if no > 0 && id < o + no {
                    assert_eq!(
                        tx_of(&outs, &big, Side::Outs, 400, id),
                        Some(t),
                        "owner of {id}"
                    );
                }
            }
            o += no;
            i += ni;
        }
        // Past the last output: the last transaction (as a binary search
        // of first ids gives).
        assert_eq!(tx_of(&outs, &big, Side::Outs, 400, o + 5), Some(399));
        assert_eq!(tx_of(&outs, &big, Side::Outs, 0, 0), None);
        // Not reached: none, no panic.
        assert_eq!(
            span(&outs, &big, Side::Outs, 400 / GROUP * GROUP + GROUP),
            None
        );
    }

    #[test]
    fn owners_of_transactions_without_outputs_are_the_last_of_equal_starts() {
        // tx 1 and 2 have no output: output 1 belongs to tx 3, and the
        // answer for an id between is the last tx starting at or before it.
        let (outs, _, big) = build(&[(1, 1), (0, 1), (0, 1), (2, 1)]);
        assert_eq!(tx_of(&outs, &big, Side::Outs, 4, 0), Some(0));
        assert_eq!(tx_of(&outs, &big, Side::Outs, 4, 1), Some(3));
        assert_eq!(tx_of(&outs, &big, Side::Outs, 4, 2), Some(3));
    }

    #[test]
    fn a_cleared_record_is_the_record_that_never_held_the_rest() {
        let counts: Vec<(u64, u64)> = (0..50).map(|t| (t % 7 + 1, 1)).collect();
        let (full, _, _) = build(&counts);
        let (short, _, _) = build(&counts[..20]);
        let mut rec = full[..64].to_vec();
        clear_from(&mut rec, 20);
        assert_eq!(rec, &short[..64]);
        assert_eq!(big_below(&big_record(3, 300, 1), 3), 0);
        assert_eq!(big_below(&big_record(3, 300, 1), 4), 1);
    }
}
