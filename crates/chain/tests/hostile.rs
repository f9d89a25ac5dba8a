//! Hostile bytes: clear errors with offsets, no panics, bounded allocation.

use bitcoin::hashes::Hash;
use chainhound_chain::parse::{bip34_height, check_pow, work_from_bits};
use chainhound_chain::{address, classify, AddressKey, Block, Network, ParseErrorKind, ScriptType};

fn genesis() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/blocks/mainnet_h0-4312.dat"
    );
    let data = std::fs::read(path).unwrap();
    let size = u32::from_le_bytes(data[4..8].try_into().unwrap()) as usize;
    data[8..8 + size].to_vec()
}

#[test]
fn every_truncation_of_a_real_block_is_an_error_not_a_panic() {
    let g = genesis();
    for n in 0..g.len() {
        let e = Block::parse(&g[..n]).unwrap_err();
        assert!(e.offset <= n, "offset {} beyond {n}", e.offset);
    }
    assert!(Block::parse(&g).is_ok());
}

#[test]
fn absurd_transaction_count_is_rejected_before_allocating() {
    let mut g = genesis();
    // Replace the tx count (1 byte 0x01 at offset 80) with 0xff + u64::MAX.
    let mut bad = g[..80].to_vec();
    bad.push(0xff);
    bad.extend_from_slice(&u64::MAX.to_le_bytes());
    bad.extend_from_slice(&g[81..]);
    let e = Block::parse(&bad).unwrap_err();
    assert_eq!(e.offset, 80);
    assert!(matches!(
        e.kind,
        ParseErrorKind::Absurd {
            what: "transaction count",
            ..
        }
    ));
    // A flipped bit in a transaction breaks the merkle root.
    let last = g.len() - 10;
    g[last] ^= 1;
    assert_eq!(
        Block::parse(&g).unwrap_err().kind,
        ParseErrorKind::MerkleMismatch
    );
}

#[test]
fn non_canonical_varints_are_rejected() {
    let g = genesis();
    let mut bad = g[..80].to_vec();
    bad.extend_from_slice(&[0xfd, 0x01, 0x00]); // 1 written in three bytes
    bad.extend_from_slice(&g[81..]);
    assert_eq!(
        Block::parse(&bad).unwrap_err().kind,
        ParseErrorKind::NonCanonicalVarint
    );
}

#[test]
fn script_types_and_addresses_of_crafted_scripts() {
    let h20 = [0x11u8; 20];
    let h32 = [0x22u8; 32];
    let wpkh = reference_p2wpkh(&h20);
    let cases: Vec<(Vec<u8>, ScriptType, Option<&str>)> = vec![
        (
            [&[0x00, 0x14][..], &h20].concat(),
            ScriptType::P2wpkh,
            Some(wpkh.as_str()),
        ),
        ([&[0x51, 0x20][..], &h32].concat(), ScriptType::P2tr, None),
        (
            [&[0x52, 0x02][..], &[1, 2]].concat(),
            ScriptType::WitnessUnknown,
            None,
        ),
        (
            [&[0x00, 0x03][..], &[1, 2, 3]].concat(),
            ScriptType::Nonstandard,
            None,
        ), // bad v0 length
        (vec![0x6a, 0x04, 1, 2, 3, 4], ScriptType::Nulldata, None),
        (vec![], ScriptType::Nonstandard, None),
        (vec![0x51], ScriptType::Nonstandard, None),
        // Found by the fuzzer: a v1 program of 33 bytes (kept as a hash).
        (
            [&[0x51, 0x21][..], &[0u8; 33]].concat(),
            ScriptType::WitnessUnknown,
            None,
        ),
        (
            [&[0x60, 0x28][..], &[9u8; 40]].concat(),
            ScriptType::WitnessUnknown,
            None,
        ),
    ];
    for (script, ty, addr) in cases {
        let (t, key) = classify(&script);
        assert_eq!(t, ty, "{script:?}");
        if let Some(a) = addr {
            assert_eq!(address::encode(&key.unwrap(), Network::Mainnet), a);
        }
        // Every key round-trips through its string on every network.
        if let Some(k) = key {
            for net in Network::ALL {
                assert_eq!(
                    address::decode(&address::encode(&k, net), net),
                    Ok(k),
                    "{k:?} on {net}"
                );
            }
        }
    }
    // The real bech32m string of a long program decodes to classify's key.
    let long = [&[0x60, 0x28][..], &[9u8; 40]].concat();
    let real = bitcoin::bech32::segwit::encode(
        bitcoin::bech32::hrp::BC,
        bitcoin::bech32::Fe32::try_from(16u8).unwrap(),
        &[9u8; 40],
    )
    .unwrap();
    assert_eq!(
        address::decode(&real, Network::Mainnet).ok(),
        classify(&long).1
    );
    // 1-of-2 bare multisig of two compressed keys.
    let mut ms = vec![0x51, 33];
    ms.extend_from_slice(&[2u8; 33]);
    ms.push(33);
    ms.extend_from_slice(&[3u8; 33]);
    ms.extend_from_slice(&[0x52, 0xae]);
    let (t, k) = classify(&ms);
    assert_eq!(t, ScriptType::Multisig);
    assert!(address::encode(&k.unwrap(), Network::Mainnet).starts_with("multisig-"));
}

#[test]
fn addresses_of_another_network_are_refused_clearly() {
    let e = address::decode("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", Network::Regtest).unwrap_err();
    assert!(e.to_string().contains("mainnet address"), "{e}");
    assert!(address::decode(
        "bcrt1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3xyz",
        Network::Regtest
    )
    .is_err());
    assert!(address::decode("hello", Network::Mainnet).is_err());
    let k = AddressKey::pkh([0; 20]);
    assert_eq!(
        address::decode(&address::encode(&k, Network::Testnet4), Network::Signet),
        Ok(k)
    );
}

#[test]
fn bip34_heights_work_and_pow() {
    assert_eq!(bip34_height(&[0x03, 0x40, 0x0d, 0x03]), Some(200_000));
    assert_eq!(bip34_height(&[0x51]), Some(1));
    assert_eq!(bip34_height(&[0x01, 0x80]), None); // negative
    assert_eq!(bip34_height(&[]), None);
    // Mainnet minimum difficulty: about 2^32 hashes per block.
    assert_eq!(work_from_bits(0x1d00ffff), 0x1_0001_0001);
    assert_eq!(work_from_bits(0x207fffff), 2);
    assert_eq!(work_from_bits(0), 0);
    let bytes = genesis();
    let g = Block::parse(&bytes).unwrap();
    assert!(check_pow(
        &g.hash,
        g.header.bits,
        Network::Mainnet.pow_limit_bits()
    ));
    assert!(!check_pow(
        &g.hash,
        0x1b00ffff,
        Network::Mainnet.pow_limit_bits()
    ));
}

/// rust-bitcoin's P2WPKH address of a 20-byte hash.
fn reference_p2wpkh(h: &[u8; 20]) -> String {
    let wpkh = bitcoin::WPubkeyHash::from_byte_array(*h);
    let spk = bitcoin::ScriptBuf::new_p2wpkh(&wpkh);
    bitcoin::Address::from_script(&spk, bitcoin::Network::Bitcoin)
        .unwrap()
        .to_string()
}
