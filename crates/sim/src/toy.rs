//! The toy chain behind `chainhound demo`: a few hundred regtest blocks in
//! which a small population receives coinbases and pays each other.

use crate::rng::Rng;
use crate::write::{block, In, TxSpec};
use chainhound_chain::hash::hash160;

/// The regtest genesis block hash (internal order).
pub const REGTEST_GENESIS_PREV: [u8; 32] = [0; 32];

/// A spendable coin of the toy economy.
#[derive(Debug, Clone)]
struct Coin {
    txid: [u8; 32],
    vout: u32,
    value: u64,
    owner: usize,
    height: u32,
    coinbase: bool,
}

/// Output script of owner `i` (types rotate: P2PKH, P2SH, P2WPKH, P2TR).
pub fn script_of(owner: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed ^ (owner as u64).wrapping_mul(0x1000_0000_01b3));
    let key: [u8; 32] = rng.bytes();
    let h = hash160(&key);
    match owner % 4 {
        0 => [&[0x76, 0xa9, 0x14][..], &h, &[0x88, 0xac]].concat(),
        1 => [&[0xa9, 0x14][..], &h, &[0x87]].concat(),
        2 => [&[0x00, 0x14][..], &h].concat(),
        _ => [&[0x51, 0x20][..], &key].concat(),
    }
}

fn bip34(height: u32) -> Vec<u8> {
    let mut v = Vec::new();
    let mut n = height;
    while n > 0 {
        v.push(n as u8);
        n >>= 8;
    }
    if v.last().is_some_and(|b| b & 0x80 != 0) {
        v.push(0);
    }
    let mut s = vec![v.len() as u8];
    s.extend(v);
    s
}

/// Generates `n_blocks` blocks (after a genesis block) among `users`
/// owners. Returns the serialized blocks, genesis first.
pub fn generate(seed: u64, n_blocks: u32, users: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    let mut coins: Vec<Coin> = Vec::new();
    let mut blocks = Vec::new();
    let mut prev = REGTEST_GENESIS_PREV;
    let t0 = 1_700_000_000u32;
    for height in 0..=n_blocks {
        let subsidy = 50_0000_0000u64 >> (height / 150).min(63);
        let mut txs = Vec::new();
        let mut fees = 0u64;
        let mut new_coins = Vec::new();
        // A few payments spending mature coins.
        let payments = if height > 100 { 1 + rng.below(4) } else { 0 };
        for _ in 0..payments {
            let mature: Vec<usize> = (0..coins.len())
                .filter(|&i| !coins[i].coinbase || coins[i].height + 100 <= height)
                .collect();
            if mature.is_empty() {
                break;
            }
            // One owner spends one or more of their coins (a consolidation now and then).
            let first = mature[rng.below(mature.len() as u64) as usize];
            let owner = coins[first].owner;
            let mut picked: Vec<usize> = vec![first];
            if rng.below(4) == 0 {
                picked.extend(
                    mature
                        .iter()
                        .copied()
                        .filter(|&i| i != first && coins[i].owner == owner)
                        .take(3),
                );
            }
            let total: u64 = picked.iter().map(|&i| coins[i].value).sum();
            let fee = 1_000 + rng.below(5_000);
            if total <= fee + 1_000 {
                continue;
            }
            let to = rng.below(users as u64) as usize;
            let pay = (total - fee) / (2 + rng.below(3));
            // Change goes back to the owner (address reuse) or to a fresh owner slot.
            let change_owner = if rng.below(3) == 0 {
                owner
            } else {
                users + rng.below(users as u64 * 4) as usize
            };
            let ins = picked
                .iter()
                .map(|&i| In {
                    txid: coins[i].txid,
                    vout: coins[i].vout,
                    script_sig: Vec::new(),
                    witness: vec![vec![0x01]],
                })
                .collect();
            let outs = vec![
                (pay, script_of(to, seed)),
                (total - fee - pay, script_of(change_owner, seed)),
            ];
            let spec = TxSpec { ins, outs };
            let (raw, txid) = spec.serialize();
            let mut sorted = picked.clone();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            for i in sorted {
                coins.swap_remove(i);
            }
            for (vout, (value, owner)) in [(pay, to), (total - fee - pay, change_owner)]
                .into_iter()
                .enumerate()
            {
                new_coins.push(Coin {
                    txid,
                    vout: vout as u32,
                    value,
                    owner,
                    height,
                    coinbase: false,
                });
            }
            fees += fee;
            txs.push((raw, txid));
        }
        let miner = rng.below(users as u64) as usize;
        let mut cb_script = bip34(height);
        cb_script.extend_from_slice(b"/chainhound toy/");
        let coinbase = TxSpec {
            ins: vec![In {
                txid: [0; 32],
                vout: u32::MAX,
                script_sig: cb_script,
                witness: Vec::new(),
            }],
            outs: vec![(subsidy + fees, script_of(miner, seed))],
        };
        let (cb_raw, cb_txid) = coinbase.serialize();
        coins.push(Coin {
            txid: cb_txid,
            vout: 0,
            value: subsidy + fees,
            owner: miner,
            height,
            coinbase: true,
        });
        coins.extend(new_coins);
        let mut all = vec![(cb_raw, cb_txid)];
        all.extend(txs);
        let (bytes, hash) = block(prev, t0 + height * 600, &all);
        prev = hash;
        blocks.push(bytes);
    }
    blocks
}
