//! Narrow codes for three per-record columns, and the lists that hold what
//! does not fit them (`docs/layout.md`).
//!
//! Owns: the 4-byte codes of `out_value` (the value, all ones for 2^32 - 1
//! satoshis or more), of `in_out` (the spent output's distance below a
//! point just ahead of the input's own id) and of `out_prev` (the distance
//! back to the address's previous output), and the *wide lists* `out_big`,
//! `in_big` and `prev_big`: 16-byte entries (id u64, value u64) in id
//! order, searched by halving. Must not: touch files (the store hands it
//! bytes).
//!
//! Why `in_out` fits 32 bits: an input spends an output created before
//! its transaction, and the outputs before a transaction exceed the inputs
//! before it by the unspent and unspendable outputs at that time (plus one
//! coinbase input per block taken off), a few hundred million on mainnet.
//! So the output lies below `input id + 2^30`, and the code is how far
//! below. Codes run to 2^32 - 4, so outputs up to about 3.2 billion places
//! before the input are coded; older ones (coins of the chain's first 3.2
//! billion outputs spent after it passes 3.2 billion inputs), and any
//! output that breaks the bound above, go to `in_big`.

/// Bytes of a wide-list entry.
pub const ENTRY: usize = 16;

/// `out_value` code of a value of 2^32 - 1 satoshis or more (in `out_big`).
pub const VALUE_WIDE: u32 = u32::MAX;

/// `in_out` code of a coinbase input.
pub const IN_COINBASE: u32 = u32::MAX;
/// `in_out` code of an input whose previous output was not found.
pub const IN_UNRESOLVED: u32 = u32::MAX - 1;
/// `in_out` code of an input whose output is in `in_big`.
pub const IN_WIDE: u32 = u32::MAX - 2;

/// `out_prev` code of an output without a previous one (a damaged index's).
pub const PREV_NONE: u32 = 0;
/// `out_prev` code of an output whose previous output is in `prev_big`
/// (4.29 billion outputs back or more).
pub const PREV_WIDE: u32 = u32::MAX;

// The unit tests' narrow windows stay inside the real codes' range.
const _: () = assert!(SPAN <= IN_WIDE as u64 && PREV_REACH <= PREV_WIDE as u64);

/// Distances `out_prev` codes (narrow in unit tests, as `SPAN`).
const PREV_REACH: u64 = if cfg!(test) { 1 << 4 } else { PREV_WIDE as u64 };

/// How far past an input's id its output may lie.
const AHEAD: u64 = if cfg!(test) { 64 } else { 1 << 30 };
/// Codes of outputs (`0..SPAN`); the store's unit tests use a narrow
/// window, so that the real blocks they index take the wide path often.
const SPAN: u64 = if cfg!(test) { 1 << 9 } else { IN_WIDE as u64 };

/// The `in_out` code of input `i` spending output `o`, if it has one.
pub fn in_code(i: u64, o: u64) -> Option<u32> {
    let top = i.checked_add(AHEAD)?;
    let c = top.checked_sub(o)?;
    (c < SPAN).then_some(c as u32)
}

/// The output of input `i` from its code (not one of the reserved codes);
/// `None` if no output can have that code (a damaged index).
pub fn in_decode(i: u64, code: u32) -> Option<u64> {
    let c = code as u64;
    if c >= SPAN {
        return None;
    }
    (i + AHEAD).checked_sub(c)
}

/// The `out_prev` code of output `o` whose previous output is `prev`:
/// the distance back, [`PREV_NONE`] if `prev` is not before `o`,
/// [`PREV_WIDE`] if too far.
pub fn prev_code(o: u64, prev: u64) -> u32 {
    match o.checked_sub(prev) {
        None | Some(0) => PREV_NONE,
        Some(d) if d >= PREV_REACH => PREV_WIDE,
        Some(d) => d as u32,
    }
}

/// The `out_value` code of a value.
pub fn value_code(v: u64) -> u32 {
    v.min(VALUE_WIDE as u64) as u32
}

/// A wide-list entry's bytes.
pub fn entry_bytes(id: u64, value: u64) -> [u8; ENTRY] {
    let mut e = [0u8; ENTRY];
    e[..8].copy_from_slice(&id.to_le_bytes());
    e[8..].copy_from_slice(&value.to_le_bytes());
    e
}

/// Entry `k` of a wide list: (id, value).
pub fn entry(list: &[u8], k: u64) -> Option<(u64, u64)> {
    let at = usize::try_from(k).ok()?.checked_mul(ENTRY)?;
    let e = list.get(at..at.checked_add(ENTRY)?)?;
    let (id, value) = e.split_at(8);
    Some((
        u64::from_le_bytes(id.try_into().ok()?),
        u64::from_le_bytes(value.try_into().ok()?),
    ))
}

/// Number of entries whose id is below `id`.
pub fn below(list: &[u8], id: u64) -> u64 {
    rank(list, ENTRY, id, |e| {
        u64::from_le_bytes(e[..8].try_into().expect("8 bytes"))
    })
}

/// Number of the `width`-byte records of `list` (in the order of their
/// keys, read by `key`) whose key is below `id`: the one halving search of
/// the store's sorted records (the side lists `out_big`, `in_big`,
/// `prev_big`, `tx_big`; the first ids of `tx_out`/`tx_in` records; the
/// blocks' first transactions).
pub fn rank(list: &[u8], width: usize, id: u64, key: impl Fn(&[u8]) -> u64) -> u64 {
    let (mut lo, mut hi) = (0usize, list.len() / width);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if key(&list[mid * width..(mid + 1) * width]) < id {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo as u64
}

/// The value listed for `id`.
pub fn get(list: &[u8], id: u64) -> Option<u64> {
    match entry(list, below(list, id)) {
        Some((e, v)) if e == id => Some(v),
        _ => None,
    }
}

/// The value listed for `id` in a list whose first `sorted` entries are
/// known to be in order (the committed ones) and whose later bytes may be
/// those of a run that did not commit, then anything: halving over the
/// first, then a walk of the others while their ids rise. A writer appends
/// in id order, so what it wrote is found before any leftover of an
/// earlier run.
pub fn get_past(list: &[u8], sorted: u64, id: u64) -> Option<u64> {
    let cut = usize::try_from(sorted)
        .ok()
        .and_then(|n| n.checked_mul(ENTRY))
        .map_or(list.len(), |n| n.min(list.len()));
    if let Some(v) = get(&list[..cut], id) {
        return Some(v);
    }
    let mut last = None;
    let mut k = (cut / ENTRY) as u64;
    while let Some((e, v)) = entry(list, k) {
        if last.is_some_and(|l| e <= l) {
            return None;
        }
        if e == id {
            return Some(v);
        }
        last = Some(e);
        k += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_cover_the_window_and_nothing_else() {
        for i in [0u64, 1, 63, 64, 5_000, 1 << 33] {
            // Every output in the window round-trips...
            let top = i + AHEAD;
            let lowest = top.saturating_sub(SPAN - 1);
            for o in [lowest, lowest + 1, top / 2, top - 1, top] {
                if o < lowest {
                    continue;
                }
                let c = in_code(i, o).unwrap_or_else(|| panic!("{i} {o}"));
                assert!(c < IN_WIDE);
                assert_eq!(in_decode(i, c), Some(o), "input {i}, output {o}");
            }
            // ...and those outside have none.
            assert_eq!(in_code(i, top + 1), None);
            if lowest > 0 {
                assert_eq!(in_code(i, lowest - 1), None);
            }
        }
        assert_eq!(in_code(u64::MAX, 0), None, "no overflow");
        assert_eq!(in_decode(0, (SPAN - 1) as u32), None, "below output 0");
        assert_eq!(in_decode(0, SPAN as u32), None);
    }

    #[test]
    fn wide_lists_are_searched_by_id() {
        let list: Vec<u8> = [(3u64, 30u64), (7, 70), (8, 80), (20, 200)]
            .iter()
            .flat_map(|&(i, v)| entry_bytes(i, v))
            .collect();
        assert_eq!(get(&list, 7), Some(70));
        assert_eq!(get(&list, 20), Some(200));
        assert_eq!(get(&list, 5), None);
        assert_eq!(get(&list, 21), None);
        assert_eq!(below(&list, 0), 0);
        assert_eq!(below(&list, 8), 2);
        assert_eq!(below(&list, 9), 3);
        assert_eq!(below(&list, u64::MAX), 4);
        assert_eq!(get(&list[..20], 7), None, "a cut entry is not read");
        assert_eq!(value_code(u32::MAX as u64 - 1), u32::MAX - 1);
        assert_eq!(value_code(u32::MAX as u64), VALUE_WIDE);
        assert_eq!(value_code(u64::MAX), VALUE_WIDE);
    }

    #[test]
    fn uncommitted_entries_are_read_while_their_ids_rise() {
        // Two committed entries, two a run wrote after them, then the
        // leftovers of an earlier run (ids no longer rising), then zeros.
        let list: Vec<u8> = [
            (3u64, 30u64),
            (7, 70),
            (9, 90),
            (12, 120),
            (10, 1),
            (12, 2),
            (0, 0),
        ]
        .iter()
        .flat_map(|&(i, v)| entry_bytes(i, v))
        .collect();
        assert_eq!(get_past(&list, 2, 7), Some(70));
        assert_eq!(
            get_past(&list, 2, 12),
            Some(120),
            "the run's own entry first"
        );
        assert_eq!(get_past(&list, 2, 10), None, "not past the first fall");
        assert_eq!(get_past(&list, 0, 9), Some(90));
        assert_eq!(get_past(&list, u64::MAX, 9), Some(90));
        assert_eq!(get_past(&list[..40], 2, 9), None, "a cut entry is not read");
        assert_eq!(prev_code(10, 3), 7);
        assert_eq!(prev_code(10, 10), PREV_NONE);
        assert_eq!(prev_code(10, (1 << 40) - 1), PREV_NONE);
        assert_eq!(prev_code(1 << 33, 0), PREV_WIDE);
        assert_eq!(prev_code(PREV_REACH - 1, 0), PREV_REACH as u32 - 1);
        assert_eq!(prev_code(PREV_REACH, 0), PREV_WIDE);
    }
}
