//! Giving pages of a memory-mapped file back to the kernel once they will
//! not be read again, so that streaming data does not push out the pages
//! ingest reads and writes at random.
//!
//! Owns: the one `madvise` + `posix_fadvise` pair. Must not: decide which
//! ranges to give back (the block source and the store's columns do).

/// Gives back the whole pages within bytes `from..to` of `map`, a shared
/// mapping of the file `fd`: unmapped (`MADV_DONTNEED`), then dropped from
/// the page cache if clean (`POSIX_FADV_DONTNEED`). A hint (Linux only):
/// reading them again gives the same bytes, and a dirty page is written,
/// not lost.
#[cfg(target_os = "linux")]
pub fn give_back(map: &[u8], fd: std::os::fd::RawFd, from: u64, to: u64) {
    const PAGE: u64 = 4096;
    let start = from.div_ceil(PAGE) * PAGE;
    let end = to.min(map.len() as u64) / PAGE * PAGE;
    if end <= start {
        return;
    }
    // SAFETY: the range lies within the mapping; on a shared file mapping
    // (memmap2 maps files shared) MADV_DONTNEED only unmaps pages, their
    // content staying in the page cache and the file, and reads through any
    // slice of it fault them in again with the same bytes.
    unsafe {
        libc::madvise(
            map.as_ptr().add(start as usize) as *mut libc::c_void,
            (end - start) as usize,
            libc::MADV_DONTNEED,
        );
        libc::posix_fadvise(
            fd,
            start as libc::off64_t,
            (end - start) as libc::off64_t,
            libc::POSIX_FADV_DONTNEED,
        );
    }
}
