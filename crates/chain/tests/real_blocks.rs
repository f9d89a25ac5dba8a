//! The hand-written parser and address derivation against rust-bitcoin, on
//! every real block of `../shared/data/blocks` (mainnet 0..4312, 25 mainnet
//! blocks up to Taproot, 16 testnet3/testnet4/signet blocks).

use bitcoin::consensus::deserialize;
use chainhound_chain::{address, classify, Block, Network, ScriptType};
use chainhound_testdata::shared;

/// (network, block bytes) of every record of a plain (not obfuscated) blk file.
fn records(name: &str) -> Vec<(Network, Vec<u8>)> {
    let data = std::fs::read(shared(&format!("blocks/{name}")))
        .unwrap_or_else(|e| panic!("{name}: {e} (is ../shared beside the repo?)"));
    let mut out = Vec::new();
    let mut p = 0;
    while p + 8 <= data.len() {
        let magic: [u8; 4] = data[p..p + 4].try_into().unwrap();
        let net = Network::from_magic(magic).unwrap_or_else(|| panic!("{name}: no magic at {p}"));
        let size = u32::from_le_bytes(data[p + 4..p + 8].try_into().unwrap()) as usize;
        out.push((net, data[p + 8..p + 8 + size].to_vec()));
        p += 8 + size;
    }
    out
}

fn btc_network(n: Network) -> bitcoin::Network {
    match n {
        Network::Mainnet => bitcoin::Network::Bitcoin,
        Network::Testnet3 | Network::Testnet4 => bitcoin::Network::Testnet,
        Network::Signet => bitcoin::Network::Signet,
        Network::Regtest => bitcoin::Network::Regtest,
    }
}

/// What rust-bitcoin says the address of a script is (P2PK: its key's P2PKH).
fn reference_address(script: &bitcoin::Script, net: Network) -> Option<String> {
    if let Some(pk) = script.p2pk_public_key() {
        return Some(bitcoin::Address::p2pkh(pk.pubkey_hash(), btc_network(net)).to_string());
    }
    bitcoin::Address::from_script(script, btc_network(net))
        .ok()
        .map(|a| a.to_string())
}

fn check_file(name: &str) -> (usize, usize, usize) {
    let mut compared = (0, 0, 0);
    let mut multisig_seen = 0usize;
    for (net, bytes) in records(name) {
        let ours = Block::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let theirs: bitcoin::Block = deserialize(&bytes).expect("rust-bitcoin parses real blocks");
        assert_eq!(ours.size, bytes.len());
        assert_eq!(ours.hash.to_string(), theirs.block_hash().to_string());
        assert_eq!(ours.txs.len(), theirs.txdata.len());
        for (t, rt) in ours.txs.iter().zip(&theirs.txdata) {
            assert_eq!(t.txid.to_string(), rt.compute_txid().to_string());
            assert_eq!(
                t.has_witness,
                rt.input.iter().any(|i| !i.witness.is_empty())
            );
            assert_eq!(
                t.weight(),
                rt.weight().to_wu() as usize,
                "weight of {}",
                t.txid
            );
            let ins = ours.tx_inputs(t);
            assert_eq!(ins.len(), rt.input.len());
            for (i, ri) in ins.iter().zip(&rt.input) {
                assert_eq!(i.prev_txid.to_string(), ri.previous_output.txid.to_string());
                assert_eq!(i.prev_vout, ri.previous_output.vout);
                assert_eq!(i.script_sig, ri.script_sig.as_bytes());
                compared.1 += 1;
            }
            let outs = ours.tx_outputs(t);
            assert_eq!(outs.len(), rt.output.len());
            for (o, ro) in outs.iter().zip(&rt.output) {
                assert_eq!(o.value, ro.value.to_sat());
                assert_eq!(o.script_pubkey, ro.script_pubkey.as_bytes());
                let (ty, key) = classify(o.script_pubkey);
                let ours_addr = key.map(|k| address::encode(&k, net));
                // The index's compact form (kind byte apart) reads back whole.
                if let Some(k) = key {
                    let (body, n) = k.compact();
                    assert!(n < chainhound_chain::AddressKey::SIZE, "{n} bytes");
                    assert_eq!(
                        chainhound_chain::AddressKey::from_compact(k.kind_byte(), &body[..n]),
                        Some((k, n))
                    );
                }
                match reference_address(&ro.script_pubkey, net) {
                    // rust-bitcoin knows an address: ours must be the same string,
                    // and it must parse back to the same key.
                    Some(a) => {
                        assert_eq!(
                            ours_addr.as_deref(),
                            Some(a.as_str()),
                            "script {:?}",
                            ro.script_pubkey
                        );
                        assert_eq!(address::decode(&a, net).ok(), key);
                    }
                    // No standard address: ours is nulldata (none), multisig or nonstandard.
                    None => assert!(
                        matches!(
                            ty,
                            ScriptType::Nulldata | ScriptType::Multisig | ScriptType::Nonstandard
                        ),
                        "{ty:?} without a reference address: {:?}",
                        ro.script_pubkey
                    ),
                }
                if ro.script_pubkey.is_op_return() {
                    assert_eq!(ty, ScriptType::Nulldata);
                }
                if ro.script_pubkey.is_p2tr() {
                    assert_eq!(ty, ScriptType::P2tr);
                }
                if ro.script_pubkey.is_multisig() {
                    // rust-bitcoin accepts any pushes as keys; Bitcoin Core's
                    // Solver (which we follow) requires sizes that fit the key's
                    // prefix byte, so data smuggled as "keys" (Counterparty) is
                    // nonstandard there.
                    let core_keys_ok = ro.script_pubkey.instructions().all(|i| match i {
                        Ok(bitcoin::script::Instruction::PushBytes(p)) => {
                            match p.as_bytes().first() {
                                Some(2) | Some(3) => p.len() == 33,
                                Some(4) | Some(6) | Some(7) => p.len() == 65,
                                _ => false,
                            }
                        }
                        _ => true,
                    });
                    let expected = if core_keys_ok {
                        ScriptType::Multisig
                    } else {
                        ScriptType::Nonstandard
                    };
                    assert_eq!(ty, expected, "{:x}", ro.script_pubkey);
                    multisig_seen += 1;
                }
                compared.2 += 1;
            }
        }
        compared.0 += 1;
    }
    eprintln!("{name}: {multisig_seen} multisig-shaped outputs compared");
    compared
}

#[test]
fn mainnet_first_4313_blocks_match_rust_bitcoin() {
    let (blocks, ins, outs) = check_file("mainnet_h0-4312.dat");
    assert_eq!((blocks, ins, outs), (4313, 4560, 4397));
}

#[test]
fn mainnet_sample_blocks_match_rust_bitcoin() {
    // Totals of the mainnet rows of INDEX.tsv.
    let (blocks, ins, outs) = check_file("mainnet_sample_blocks.dat");
    assert_eq!((blocks, ins, outs), (25, 78_993, 73_264));
}

#[test]
fn testnet_and_signet_blocks_match_rust_bitcoin() {
    let (blocks, _, _) = check_file("testnet_signet_sample_blocks.dat");
    assert_eq!(blocks, 16);
}

#[test]
fn genesis_pays_satoshi_and_blocks_hash_as_documented() {
    let recs = records("mainnet_h0-4312.dat");
    let genesis = Block::parse(&recs[0].1).unwrap();
    let (ty, key) = classify(genesis.outputs[0].script_pubkey);
    assert_eq!(ty, ScriptType::P2pk);
    assert_eq!(
        address::encode(&key.unwrap(), Network::Mainnet),
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
    );
    let h = |i: usize| Block::parse(&recs[i].1).unwrap().hash.to_string();
    assert_eq!(
        h(1000),
        "00000000c937983704a73af28acdec37b049d214adbda81d7e2a3dd146f6ed09"
    );
    assert_eq!(
        h(4312),
        "00000000a9da635727dce622d78361b153ce3334e6a60d4377fad529abfc7863"
    );
}
