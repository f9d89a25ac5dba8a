//! Script classification and address strings on arbitrary bytes.
//!
//! Properties checked (beyond "never panics"):
//! - `classify` gives a key exactly when the script is spendable (not
//!   `OP_RETURN` data);
//! - every key survives its stored form (`from_bytes(to_bytes(k)) == k`);
//! - every key survives its address string on every network:
//!   `decode(&encode(&k, net), net) == Ok(k)`;
//! - `decode` of arbitrary text never panics, and whatever it accepts
//!   encodes back to a string that decodes to the same key.
#![no_main]

use chainhound_chain::address::{decode, encode};
use chainhound_chain::{classify, AddressKey, Network, ScriptType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (ty, key) = classify(data);
    assert_eq!(
        ty == ScriptType::Nulldata,
        key.is_none(),
        "only OP_RETURN outputs lack a key: {ty:?} {key:?}"
    );
    if let Some(key) = key {
        round_trip(&key, &format!("script {}", hex(data)));
    }

    // The same bytes as an address string a user typed.
    if let Ok(s) = std::str::from_utf8(data) {
        for net in Network::ALL {
            if let Ok(key) = decode(s, net) {
                round_trip(&key, &format!("decoded from {s:?} on {net}"));
            }
        }
    }
});

fn round_trip(key: &AddressKey, what: &str) {
    assert_eq!(
        AddressKey::from_bytes(&key.to_bytes()).as_ref(),
        Some(key),
        "stored form of {key:?} ({what})"
    );
    for net in Network::ALL {
        let s = encode(key, net);
        assert_eq!(
            decode(&s, net).as_ref(),
            Ok(key),
            "{key:?} ({what}) encodes on {net} to {s:?}, which does not decode back"
        );
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
