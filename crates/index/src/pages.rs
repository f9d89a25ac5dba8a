//! Giving pages of a memory-mapped file back to the kernel once they will
//! not be read again, so that streaming data does not push out the pages
//! ingest reads and writes at random.
//!
//! Also reserving disk blocks under a mapping before its pages are written
//! (`fallocate`), so that a full disk is an error, not a `SIGBUS` (on file
//! systems that write in place); and the free space of a disk.
//!
//! Also mapping the pages appends are about to write in one call, not a
//! page fault each.
//!
//! Owns: the one `madvise` + `posix_fadvise` pair, the prefault, the one `fallocate`, the
//! page size, the memory the kernel says is available and the disk's free
//! space. Must not: decide which ranges to give back or reserve (the block
//! source, the store's columns and tables do).

/// Gives back the whole pages within bytes `from..to` of `map`, a shared
/// mapping of the file `fd`: unmapped (`MADV_DONTNEED`), then dropped from
/// the page cache if clean (`POSIX_FADV_DONTNEED`); returns their bytes.
/// A hint (Linux only): reading them again gives the same bytes, and a
/// dirty page is written, not lost.
#[cfg(target_os = "linux")]
pub fn give_back(map: &[u8], fd: std::os::fd::RawFd, from: u64, to: u64) -> u64 {
    let page = page_size();
    let start = from.div_ceil(page) * page;
    let end = to.min(map.len() as u64) / page * page;
    if end <= start {
        return 0;
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
    end - start
}

/// Maps the pages within bytes `from..to` of a writable shared `map` in one
/// call (`MADV_POPULATE_WRITE`, Linux 5.14 and later), so that the appends
/// about to be written there do not take a page fault each (one per 4 KB:
/// 7% of the append thread's time on the bench's chain, measured). A hint:
/// elsewhere, on older kernels or on failure (a full disk gives an error
/// here, not a `SIGBUS`), the writes fault the pages in as before.
/// Populating changes no byte (the pages hold zeros, or what an interrupted
/// run left there). They are marked dirty, so a commit's flush writes those
/// not appended to yet once more (256 KB a column at most, and appends
/// there then fault again); past the committed length the clean close's
/// trim cuts them.
pub fn populate(map: &[u8], from: u64, to: u64) {
    #[cfg(target_os = "linux")]
    {
        let page = page_size();
        let start = from / page * page;
        let end = to.min(map.len() as u64);
        if end > start {
            // SAFETY: the range lies within the mapping; populating it
            // changes no byte of it.
            unsafe {
                libc::madvise(
                    map.as_ptr().add(start as usize) as *mut libc::c_void,
                    (end - start) as usize,
                    libc::MADV_POPULATE_WRITE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (map, from, to);
}

/// Allocates disk blocks for bytes `from..to` of `file` (within its
/// length, which does not change), so that writing them through a shared
/// mapping cannot fail for want of space: a store through a mapping into a
/// hole the file system cannot fill is a `SIGBUS` that kills the process,
/// where this call returns `ENOSPC`. `Ok(false)` where it cannot be done
/// (not Linux, or a file system without `fallocate`): writes then take
/// their chance, as before. On file systems that write in place (ext4,
/// XFS, tmpfs) that is a guarantee; copy-on-write ones (btrfs, ZFS, whose
/// `fallocate` only checks the free space) need new blocks for every
/// write, so there a full disk can still end in a `SIGBUS`.
pub fn reserve_disk(file: &std::fs::File, from: u64, to: u64) -> std::io::Result<bool> {
    if to <= from {
        return Ok(true);
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a plain syscall on an open descriptor; no memory is passed.
        let r = unsafe {
            libc::fallocate(
                file.as_raw_fd(),
                0,
                from as libc::off64_t,
                (to - from) as libc::off64_t,
            )
        };
        if r == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EOPNOTSUPP) | Some(libc::ENOSYS) => Ok(false),
            Some(libc::EINTR) => reserve_disk(file, from, to),
            _ => Err(e),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        Ok(false)
    }
}

/// Bytes an unprivileged writer may still use on the file system holding
/// `path` (`statvfs`: available blocks times their size); `None` off Linux
/// or if it cannot be asked.
pub fn disk_available(path: &std::path::Path) -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
        // SAFETY: `c` is a valid C string; `st` is written by the call.
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
            return None;
        }
        Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        None
    }
}

/// The kernel's page size (4 KiB on most machines, 16 or 64 KiB on some
/// ARM kernels), asked once; 4096 where it cannot be asked.
#[cfg(target_os = "linux")]
pub fn page_size() -> u64 {
    static PAGE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: sysconf reads a constant of the running kernel.
        let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if n > 0 && (n as u64).is_power_of_two() {
            n as u64
        } else {
            4096
        }
    })
}

/// The page size assumed where the kernel cannot be asked.
#[cfg(not(target_os = "linux"))]
pub fn page_size() -> u64 {
    4096
}

/// Memory the kernel could give without swapping (`MemAvailable` of
/// `/proc/meminfo`, free memory plus page cache it can drop), in bytes;
/// `None` off Linux or if unreadable.
pub fn mem_available() -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
