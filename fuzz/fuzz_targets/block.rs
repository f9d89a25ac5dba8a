//! Block and transaction parsing on arbitrary bytes.
//!
//! Properties checked (beyond "never panics"):
//! - an error's offset lies within the input;
//! - a block that parses uses at most the input (`size <= data.len()`), and
//!   its transactions' input and output ranges tile the flat lists in order;
//! - every transaction re-parses on its own (`parse_transaction(tx.raw)`) to
//!   the same txid, sizes and inputs/outputs;
//! - `Block::parse` succeeds exactly when `parse_unchecked` does and the
//!   merkle root matches, and then both give the same block;
//! - after writing the right merkle root into the header, `Block::parse`
//!   accepts what `parse_unchecked` accepted (this reaches the checked path,
//!   which random bytes almost never do).
#![no_main]

use chainhound_chain::hash::{sha256d, sha256d_parts};
use chainhound_chain::parse::{
    bip34_height, check_pow, merkle_root, parse_transaction, target_from_bits, work_from_bits,
};
use chainhound_chain::{classify, Block, Network, ParseError, ParseErrorKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check_transaction(data);

    let unchecked = Block::parse_unchecked(data);
    let checked = Block::parse(data);
    match &unchecked {
        Ok(u) => {
            check_block(data, u);
            let root = merkle_root(u.txs.iter().map(|t| t.txid.0).collect());
            match &checked {
                Ok(c) => {
                    assert_eq!(
                        root, u.header.merkle_root,
                        "parse accepted a bad merkle root"
                    );
                    same_block(c, u);
                }
                Err(e) => {
                    assert_eq!(e.kind, ParseErrorKind::MerkleMismatch, "{e}");
                    assert_ne!(
                        root, u.header.merkle_root,
                        "parse rejected a good merkle root"
                    );
                    // Fix the merkle root; the checked parse must now agree.
                    let mut fixed = data.to_vec();
                    fixed[36..68].copy_from_slice(&root);
                    let u2 = Block::parse_unchecked(&fixed).expect("only the header changed");
                    let c2 = Block::parse(&fixed).expect("merkle root was fixed");
                    check_block(&fixed, &c2);
                    same_block(&c2, &u2);
                    assert_eq!(txids(&c2), txids(u), "txids do not depend on the header");
                }
            }
        }
        Err(e) => {
            check_error(data, e);
            let c = checked
                .as_ref()
                .expect_err("parse accepted what parse_unchecked refused");
            assert_eq!(c, e, "parse and parse_unchecked fail differently");
        }
    }
});

fn txids(b: &Block<'_>) -> Vec<[u8; 32]> {
    b.txs.iter().map(|t| t.txid.0).collect()
}

fn check_error(data: &[u8], e: &ParseError) {
    assert!(
        e.offset <= data.len(),
        "error offset {} past end {}",
        e.offset,
        data.len()
    );
}

fn same_block(a: &Block<'_>, b: &Block<'_>) {
    assert_eq!(a.size, b.size);
    assert_eq!(a.hash, b.hash);
    assert_eq!(a.header, b.header);
    assert_eq!(txids(a), txids(b));
    assert_eq!(a.inputs.len(), b.inputs.len());
    assert_eq!(a.outputs.len(), b.outputs.len());
}

/// `data` is within `outer` (same allocation, by address).
fn within(inner: &[u8], outer: &[u8]) -> bool {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    inner.is_empty() || (i >= o && i + inner.len() <= o + outer.len())
}

fn check_block(data: &[u8], b: &Block<'_>) {
    assert!(
        b.size <= data.len(),
        "size {} > input {}",
        b.size,
        data.len()
    );
    assert!(
        b.size >= 80 + 1 + 10,
        "size {} too small for a block",
        b.size
    );
    assert!(!b.txs.is_empty(), "a parsed block has transactions");
    let hdr: &[u8; 80] = data[..80].try_into().unwrap();
    assert_eq!(b.hash.0, sha256d(hdr), "block hash is the header's sha256d");

    // Transactions tile the block after the header and the count varint.
    let mut next_in = 0usize;
    let mut next_out = 0usize;
    let first_tx_at = b.txs[0].raw.as_ptr() as usize - data.as_ptr() as usize;
    assert!(
        (81..=89).contains(&first_tx_at),
        "first tx at {first_tx_at}"
    );
    let mut at = first_tx_at;
    for (i, tx) in b.txs.iter().enumerate() {
        assert!(
            within(tx.raw, &data[..b.size]),
            "tx {i} raw outside the block"
        );
        assert_eq!(
            tx.raw.as_ptr() as usize - data.as_ptr() as usize,
            at,
            "tx {i} not contiguous"
        );
        at += tx.raw.len();

        assert_eq!(tx.inputs.start, next_in, "tx {i} inputs not contiguous");
        assert!(tx.inputs.start <= tx.inputs.end && tx.inputs.end <= b.inputs.len());
        next_in = tx.inputs.end;
        assert_eq!(tx.outputs.start, next_out, "tx {i} outputs not contiguous");
        assert!(tx.outputs.start <= tx.outputs.end && tx.outputs.end <= b.outputs.len());
        next_out = tx.outputs.end;

        let ins = b.tx_inputs(tx);
        let outs = b.tx_outputs(tx);
        for inp in ins {
            assert!(within(inp.script_sig, tx.raw), "scriptSig outside its tx");
        }
        for out in outs {
            assert!(
                within(out.script_pubkey, tx.raw),
                "scriptPubKey outside its tx"
            );
            let _ = classify(out.script_pubkey);
        }
        assert!(tx.base_size <= tx.raw.len(), "base size > raw size");
        if !tx.has_witness {
            assert_eq!(tx.base_size, tx.raw.len());
            assert_eq!(tx.txid.0, sha256d(tx.raw), "legacy txid is sha256d(raw)");
        }
        let _ = tx.weight();
        let _ = chainhound_chain::parse::is_coinbase_position(i, ins);

        // The transaction re-parses on its own to the same thing.
        let (t2, ins2, outs2) = parse_transaction(tx.raw).expect("a block's tx parses alone");
        assert_eq!(t2.txid, tx.txid);
        assert_eq!(t2.raw.len(), tx.raw.len());
        assert_eq!(t2.base_size, tx.base_size);
        assert_eq!(t2.has_witness, tx.has_witness);
        assert_eq!((t2.version, t2.lock_time), (tx.version, tx.lock_time));
        assert_eq!(ins2.len(), ins.len());
        assert_eq!(outs2.len(), outs.len());
        for (a, c) in ins.iter().zip(&ins2) {
            assert_eq!(
                (a.prev_txid, a.prev_vout, a.sequence),
                (c.prev_txid, c.prev_vout, c.sequence)
            );
            assert_eq!(a.script_sig, c.script_sig);
        }
        for (a, c) in outs.iter().zip(&outs2) {
            assert_eq!((a.value, a.script_pubkey), (c.value, c.script_pubkey));
        }
    }
    assert_eq!(next_in, b.inputs.len(), "inputs left over");
    assert_eq!(next_out, b.outputs.len(), "outputs left over");
    assert_eq!(at, b.size, "transactions do not end where the block does");

    // Header-derived figures never panic.
    let _ = b.coinbase_script();
    let _ = b.bip34_height();
    let _ = bip34_height(b.coinbase_script());
    let _ = target_from_bits(b.header.bits);
    let _ = work_from_bits(b.header.bits);
    for n in Network::ALL {
        let _ = check_pow(&b.hash, b.header.bits, n.pow_limit_bits());
    }
}

fn check_transaction(data: &[u8]) {
    match parse_transaction(data) {
        Ok((tx, ins, outs)) => {
            assert!(tx.raw.len() <= data.len());
            assert_eq!(
                tx.raw.as_ptr(),
                data.as_ptr(),
                "a tx starts at the slice's start"
            );
            assert_eq!(tx.inputs, 0..ins.len());
            assert_eq!(tx.outputs, 0..outs.len());
            assert!(tx.base_size <= tx.raw.len());
            if tx.has_witness {
                // BIP144: the txid hashes version | inputs and outputs |
                // lock time, leaving out marker, flag and witnesses.
                let raw = tx.raw;
                let legacy = [&raw[..4], &raw[6..tx.base_size - 2], &raw[raw.len() - 4..]];
                assert_eq!(tx.txid.0, sha256d_parts(&legacy));
            } else {
                assert_eq!(tx.txid.0, sha256d(tx.raw));
            }
            for o in &outs {
                assert!(within(o.script_pubkey, tx.raw));
            }
            for i in &ins {
                assert!(within(i.script_sig, tx.raw));
            }
        }
        Err(e) => check_error(data, &e),
    }
}
