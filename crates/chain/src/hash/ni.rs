//! Two double SHA-256 hashes at once with the x86 SHA extensions.
//!
//! One SHA-256 compression is a chain of 32 `sha256rnds2` instructions, each
//! waiting for the last: a single message leaves the core's SHA unit idle
//! half the time. Two independent messages (two transactions' txids, two
//! nodes of a merkle level) interleaved round by round keep it busy (the
//! parse-only scan of the bench's 1M-transaction chain went from 0.55 to
//! 0.41 s with it; `bench/README.md`). Used only when the CPU has the SHA extensions
//! (checked at run time by [`available`]); the portable path is
//! `bitcoin_hashes`. Owns no policy: it hashes bytes it is given.

use std::arch::x86_64::*;

/// Initial hash value (FIPS 180-4, 5.3.3).
const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Round constants (FIPS 180-4, 4.2.2).
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// Does this CPU have the instructions [`sha256d_two`] needs? (std caches
/// the answer: one load and a bit test.)
pub(super) fn available() -> bool {
    is_x86_feature_detected!("sha")
        && is_x86_feature_detected!("sse2")
        && is_x86_feature_detected!("ssse3")
        && is_x86_feature_detected!("sse4.1")
}

/// The state as the SHA instructions hold it: (ABEF, CDGH).
#[inline(always)]
unsafe fn to_lanes(s: &[u32; 8]) -> (__m128i, __m128i) {
    let dcba = _mm_loadu_si128(s.as_ptr().cast());
    let hgfe = _mm_loadu_si128(s.as_ptr().add(4).cast());
    let cdab = _mm_shuffle_epi32(dcba, 0xB1);
    let efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    (
        _mm_alignr_epi8(cdab, efgh, 8),
        _mm_blend_epi16(efgh, cdab, 0xF0),
    )
}

/// Back from (ABEF, CDGH) to eight words in order.
#[inline(always)]
unsafe fn from_lanes(abef: __m128i, cdgh: __m128i, s: &mut [u32; 8]) {
    let feba = _mm_shuffle_epi32(abef, 0x1B);
    let dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128(s.as_mut_ptr().cast(), _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128(s.as_mut_ptr().add(4).cast(), _mm_alignr_epi8(dchg, feba, 8));
}

/// The block's sixteen big-endian words, four to a register.
#[inline(always)]
unsafe fn load_words(b: &[u8; 64]) -> [__m128i; 4] {
    let swap = _mm_set_epi64x(0x0c0d0e0f08090a0b, 0x0405060700010203);
    let p: *const __m128i = b.as_ptr().cast();
    [
        _mm_shuffle_epi8(_mm_loadu_si128(p), swap),
        _mm_shuffle_epi8(_mm_loadu_si128(p.add(1)), swap),
        _mm_shuffle_epi8(_mm_loadu_si128(p.add(2)), swap),
        _mm_shuffle_epi8(_mm_loadu_si128(p.add(3)), swap),
    ]
}

/// The next four schedule words from the last sixteen (`w[0]` oldest).
#[inline(always)]
unsafe fn schedule(w: &[__m128i; 4]) -> __m128i {
    let t = _mm_add_epi32(
        _mm_sha256msg1_epu32(w[0], w[1]),
        _mm_alignr_epi8(w[3], w[2], 4),
    );
    _mm_sha256msg2_epu32(t, w[3])
}

/// Four rounds: words `m` (constants not yet added), round group `g`.
#[inline(always)]
unsafe fn rounds(abef: &mut __m128i, cdgh: &mut __m128i, m: __m128i, g: usize) {
    let mk = _mm_add_epi32(m, _mm_loadu_si128(K.as_ptr().add(4 * g).cast()));
    *cdgh = _mm_sha256rnds2_epu32(*cdgh, *abef, mk);
    *abef = _mm_sha256rnds2_epu32(*abef, *cdgh, _mm_shuffle_epi32(mk, 0x0E));
}

/// One compression of one block.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn compress1(state: &mut [u32; 8], block: &[u8; 64]) {
    let (mut abef, mut cdgh) = to_lanes(state);
    let (abef0, cdgh0) = (abef, cdgh);
    let mut w = load_words(block);
    for g in 0..16 {
        let m = if g < 4 {
            w[g]
        } else {
            let n = schedule(&w);
            w = [w[1], w[2], w[3], n];
            n
        };
        rounds(&mut abef, &mut cdgh, m, g);
    }
    from_lanes(
        _mm_add_epi32(abef, abef0),
        _mm_add_epi32(cdgh, cdgh0),
        state,
    );
}

/// Two compressions of two independent blocks, round by round.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn compress2(sa: &mut [u32; 8], ba: &[u8; 64], sb: &mut [u32; 8], bb: &[u8; 64]) {
    let (mut xa, mut xc) = to_lanes(sa);
    let (mut ya, mut yc) = to_lanes(sb);
    let (xa0, xc0, ya0, yc0) = (xa, xc, ya, yc);
    let mut wx = load_words(ba);
    let mut wy = load_words(bb);
    for g in 0..16 {
        let (mx, my) = if g < 4 {
            (wx[g], wy[g])
        } else {
            let (nx, ny) = (schedule(&wx), schedule(&wy));
            wx = [wx[1], wx[2], wx[3], nx];
            wy = [wy[1], wy[2], wy[3], ny];
            (nx, ny)
        };
        rounds(&mut xa, &mut xc, mx, g);
        rounds(&mut ya, &mut yc, my, g);
    }
    from_lanes(_mm_add_epi32(xa, xa0), _mm_add_epi32(xc, xc0), sa);
    from_lanes(_mm_add_epi32(ya, ya0), _mm_add_epi32(yc, yc0), sb);
}

/// The one block of SHA-256's second pass over a 32-byte digest.
fn digest_block(s: &[u32; 8]) -> [u8; 64] {
    let mut b = [0u8; 64];
    b[..32].copy_from_slice(&digest_bytes(s));
    b[32] = 0x80;
    b[62] = 0x01; // length: 256 bits
    b
}

fn digest_bytes(s: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(s) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// Double SHA-256 of two messages (each up to three parts fed in order).
///
/// # Safety
/// [`available`] must have returned true.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
pub(super) unsafe fn sha256d_two(a: [&[u8]; 3], b: [&[u8]; 3]) -> [[u8; 32]; 2] {
    let (mut pa, mut pb) = (Padded::new(a), Padded::new(b));
    let (mut sa, mut sb) = (IV, IV);
    let (mut ba, mut bb) = ([0u8; 64], [0u8; 64]);
    loop {
        match (pa.next_block(&mut ba), pb.next_block(&mut bb)) {
            (true, true) => compress2(&mut sa, &ba, &mut sb, &bb),
            (true, false) => compress1(&mut sa, &ba),
            (false, true) => compress1(&mut sb, &bb),
            (false, false) => break,
        }
    }
    let (da, db) = (digest_block(&sa), digest_block(&sb));
    let (mut ta, mut tb) = (IV, IV);
    compress2(&mut ta, &da, &mut tb, &db);
    [digest_bytes(&ta), digest_bytes(&tb)]
}

/// A message of up to three parts, padded as SHA-256 pads it (a 0x80 byte,
/// zeros, the length in bits as a big-endian u64 at the end of a block) and
/// handed out a 64-byte block at a time.
struct Padded<'a> {
    parts: [&'a [u8]; 3],
    /// Part being read, and the offset in it.
    part: usize,
    off: usize,
    bits: u64,
    /// The 0x80 byte is out; the length too (no block left).
    marked: bool,
    done: bool,
}

impl<'a> Padded<'a> {
    fn new(parts: [&'a [u8]; 3]) -> Self {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        Padded {
            parts,
            part: 0,
            off: 0,
            bits: (len as u64).wrapping_mul(8),
            marked: false,
            done: false,
        }
    }

    /// Fills `buf` with the next block; false once every block is out.
    fn next_block(&mut self, buf: &mut [u8; 64]) -> bool {
        if self.done {
            return false;
        }
        let mut n = 0;
        while n < 64 && self.part < 3 {
            let p = &self.parts[self.part][self.off..];
            let take = p.len().min(64 - n);
            buf[n..n + take].copy_from_slice(&p[..take]);
            n += take;
            self.off += take;
            if take == p.len() {
                self.part += 1;
                self.off = 0;
            }
        }
        if n == 64 {
            return true;
        }
        if !self.marked {
            buf[n] = 0x80;
            n += 1;
            self.marked = true;
        }
        buf[n..].fill(0);
        if n <= 56 {
            buf[56..].copy_from_slice(&self.bits.to_be_bytes());
            self.done = true;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The padding itself, block by block, against FIPS 180-4's rule.
    #[test]
    fn padding_follows_the_standard() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 37 + 5) as u8).collect();
        for len in 0..200 {
            let msg = &data[..len];
            let mut want = msg.to_vec();
            want.push(0x80);
            while want.len() % 64 != 56 {
                want.push(0);
            }
            want.extend_from_slice(&((len as u64) * 8).to_be_bytes());
            let (h, rest) = msg.split_at(len / 3);
            let (m, t) = rest.split_at(rest.len() / 2);
            let mut p = Padded::new([h, m, t]);
            let mut got = Vec::new();
            let mut buf = [0xAAu8; 64];
            while p.next_block(&mut buf) {
                got.extend_from_slice(&buf);
            }
            assert_eq!(got, want, "length {len}");
        }
    }
}
