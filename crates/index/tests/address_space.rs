//! Ingest under an address-space limit (`ulimit -v`): a writer's columns
//! map 64 GiB each where they can, so that files grow under their maps;
//! where the limit forbids it, they map their files' length, and the run
//! gives the same index. Its own test binary: the limit holds for the whole
//! process.

mod common;

use common::*;

#[cfg(target_os = "linux")]
#[test]
fn a_limited_address_space_gives_the_same_index() {
    let t = tempfile::tempdir().unwrap();
    let chain = shared("blocks/mainnet_h0-4312.dat");
    ingest_path(&chain, &t.path().join("free"));
    // 16 GiB: room for the test's threads and the files, not for 21
    // columns of 64 GiB each.
    let limit = libc::rlimit {
        rlim_cur: 16 << 30,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: a plain system call on a value it only reads.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) }, 0);
    let r = ingest_path(&chain, &t.path().join("limited"));
    assert_eq!(r.blocks_added, 4313);
    assert_same_index(&t.path().join("free"), &t.path().join("limited"));
}
