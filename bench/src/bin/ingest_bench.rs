//! `ingest_bench`: chainhound's ingest side by side with a raw read, its own
//! parse-only scan and the peer `blocks_iterator`, on the real mainnet
//! sample and on a simulated chain (plain and XOR-obfuscated), each phase in
//! a child process so its peak RSS is its own. See `bench/README.md`.

use blocks_iterator::bitcoin::Network as BiNetwork;
use chainhound_chain::Block;
use chainhound_chain::Network;
use chainhound_index::headers::HeaderTree;
use chainhound_index::ingest::{ingest, prepare, IngestOptions, Progress};
use chainhound_index::scan::scan;
use chainhound_index::source::Source;
use chainhound_index::store::Store;
use chainhound_sim::economy::{Economy, Params};
use chainhound_sim::toy::{regtest_genesis, ToyChain, ToyParams};
use chainhound_sim::write::{BlkWriter, BLK_FILE_SIZE};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The key of the obfuscated copy.
const XOR_KEY: [u8; 8] = *b"\x5a\xc3\x17\x9e\x02\xb4\x6d\xf1";

// Mainnet figures for the projection (early 2026, rounded).
const MAIN_TXS: f64 = 1.2e9;
const MAIN_OUTS: f64 = 3.0e9;
const MAIN_ADDRS: f64 = 1.5e9;
/// Inputs: every output but the ~0.18 billion unspent ones, roughly.
const MAIN_INS: f64 = 2.8e9;
const MAIN_BLOCKS: f64 = 0.94e6;

// ---------------------------------------------------------------- options

struct Opts {
    txs: u64,
    tpb: u32,
    seed: u64,
    real_only: bool,
    real_reps: usize,
    sim_reps: usize,
    scaling: bool,
    workdir: Option<PathBuf>,
    generate_only: bool,
    /// Simulate with the economy (signed, realistic) or the toy chain.
    economy: bool,
    /// Every phase starts with the input out of the page cache (else in it).
    cold: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: ingest_bench [--txs N] [--real-only] [--chain economy|toy] [--tpb TXS_PER_BLOCK] [--seed S]\n\
         \x20                   [--reps R] [--sim-reps R] [--no-scaling] [--workdir DIR] [--generate-only]\n\
         \x20                   [--cold]\n\
         env: CHAINHOUND_SHARED = the shared folder holding data/blocks/mainnet_h0-4312.dat\n\
         \x20    (default: ../shared relative to the chainhound workspace)"
    );
    std::process::exit(2)
}

fn parse_opts(args: &[String]) -> Opts {
    let mut o = Opts {
        txs: 1_000_000,
        tpb: 2500,
        seed: 1,
        real_only: false,
        real_reps: 5,
        sim_reps: 5,
        scaling: true,
        workdir: None,
        generate_only: false,
        economy: true,
        cold: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().unwrap_or_else(|| usage());
        match a.as_str() {
            "--txs" => o.txs = val().replace('_', "").parse().unwrap_or_else(|_| usage()),
            "--tpb" => o.tpb = val().parse().unwrap_or_else(|_| usage()),
            "--seed" => o.seed = val().parse().unwrap_or_else(|_| usage()),
            "--reps" => o.real_reps = val().parse().unwrap_or_else(|_| usage()),
            "--sim-reps" => o.sim_reps = val().parse().unwrap_or_else(|_| usage()),
            "--real-only" => o.real_only = true,
            "--no-scaling" => o.scaling = false,
            "--workdir" => o.workdir = Some(PathBuf::from(val())),
            "--generate-only" => o.generate_only = true,
            "--cold" => o.cold = true,
            "--chain" => match val().as_str() {
                "economy" => o.economy = true,
                "toy" => o.economy = false,
                _ => usage(),
            },
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    o.real_reps = o.real_reps.max(1);
    o.sim_reps = o.sim_reps.max(1);
    o
}

// ---------------------------------------------------------------- child side

/// What a child reports (one `RESULT k=v ...` line).
#[derive(Debug, Clone, Default)]
struct Measure {
    wall: f64,
    blocks: u64,
    txs: u64,
    ins: u64,
    outs: u64,
    bytes: u64,
    warnings: u64,
    /// VmHWM of the child, kB: its peak RSS (reset at exec, unlike
    /// ru_maxrss, which may include the forked parent's pages).
    hwm_kb: u64,
    /// Highest RssAnon / RssFile seen (sampled every 10 ms), kB.
    rss_anon_kb: u64,
    rss_file_kb: u64,
    /// From wait4: CPU seconds and ru_maxrss (kB).
    user: f64,
    sys: f64,
    maxrss_kb: u64,
    /// Ingest phase breakdown (seconds): header scan, parse + prepare
    /// (breakdown phase only), blocks (appending), close.
    t_headers: f64,
    t_parse: f64,
    t_blocks: f64,
    t_close: f64,
    /// Threads of the child (the sampler left out).
    threads: Vec<ThreadStat>,
}

fn proc_status() -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    if let Ok(s) = fs::read_to_string("/proc/self/status") {
        for line in s.lines() {
            if let Some((k, v)) = line.split_once(':') {
                if let Some(n) = v.split_whitespace().next().and_then(|n| n.parse().ok()) {
                    m.insert(k.to_string(), n);
                }
            }
        }
    }
    m
}

fn blk_files(blocks_dir: &Path) -> Res<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = fs::read_dir(blocks_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("blk") && n.ends_with(".dat"))
        })
        .collect();
    v.sort();
    Ok(v)
}

/// Reads every blk file of `datadir/blocks` to the end, like `cat > /dev/null`.
fn read_all(datadir: &Path) -> Res<u64> {
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    for p in blk_files(&datadir.join("blocks"))? {
        let mut f = File::open(&p)?;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            total += n as u64;
        }
    }
    Ok(total)
}

/// Times the phases of an ingest through its progress callbacks.
struct Clock {
    t0: Instant,
    started: Option<f64>,
    last_block: f64,
}

impl Progress for Clock {
    fn start(&mut self, _blocks: u64, _bytes: u64) {
        self.started = Some(self.t0.elapsed().as_secs_f64());
    }
    fn block(&mut self, _bytes: u64) {
        self.last_block = self.t0.elapsed().as_secs_f64();
    }
}

/// What the sampler saw of one thread: name, seconds on a CPU, seconds
/// runnable but waiting for a CPU (both from `/proc/self/task/*/schedstat`),
/// and seconds it was seen alive (to 10 ms).
#[derive(Debug, Clone, Default)]
struct ThreadStat {
    name: String,
    oncpu: f64,
    waiting: f64,
    alive: f64,
}

/// What the sampler saw: highest RssAnon and RssFile (kB), and threads.
struct Sampled {
    anon: u64,
    file: u64,
    threads: Vec<ThreadStat>,
}

/// Samples memory and threads every 10 ms until `stop`.
fn sample(stop: &std::sync::atomic::AtomicBool) -> Sampled {
    let (mut anon, mut file) = (0, 0);
    let t0 = Instant::now();
    let me = std::process::id();
    // tid -> (stat, first seen)
    let mut seen: BTreeMap<u32, (ThreadStat, f64)> = BTreeMap::new();
    loop {
        let st = proc_status();
        anon = anon.max(st.get("RssAnon").copied().unwrap_or(0));
        file = file.max(st.get("RssFile").copied().unwrap_or(0));
        let now = t0.elapsed().as_secs_f64();
        if let Ok(dir) = fs::read_dir("/proc/self/task") {
            for e in dir.flatten() {
                let Some(tid) = e.file_name().to_str().and_then(|t| t.parse::<u32>().ok()) else {
                    continue;
                };
                let Ok(ss) = fs::read_to_string(e.path().join("schedstat")) else {
                    continue;
                };
                let v: Vec<f64> = ss
                    .split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect();
                if v.len() < 2 {
                    continue;
                }
                let name = fs::read_to_string(e.path().join("comm"))
                    .map(|c| c.trim().replace(' ', "_"))
                    .unwrap_or_default();
                let name = if tid == me { "main".to_string() } else { name };
                let entry = seen.entry(tid).or_insert((ThreadStat::default(), now));
                entry.0 = ThreadStat {
                    name,
                    oncpu: v[0] / 1e9,
                    waiting: v[1] / 1e9,
                    alive: now - entry.1,
                };
            }
        }
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            return Sampled {
                anon,
                file,
                threads: seen.into_values().map(|(t, _)| t).collect(),
            };
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn run_phase(phase: &str, input: &Path, index: Option<&Path>, network: &str) -> Res<Measure> {
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let sampler = std::thread::Builder::new()
            .name("sampler".into())
            .spawn_scoped(s, || sample(&stop))
            .expect("sampler thread");
        let r = run_phase_inner(phase, input, index, network);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let sampled = sampler.join().expect("sampler");
        r.map(|mut m| {
            m.rss_anon_kb = m.rss_anon_kb.max(sampled.anon);
            m.rss_file_kb = m.rss_file_kb.max(sampled.file);
            m.threads = sampled
                .threads
                .into_iter()
                .filter(|t| t.name != "sampler")
                .collect();
            m
        })
    })
}

fn run_phase_inner(phase: &str, input: &Path, index: Option<&Path>, network: &str) -> Res<Measure> {
    let mut m = Measure::default();
    let t0 = Instant::now();
    match phase {
        "read" => {
            m.bytes = read_all(input)?;
        }
        "scan" => {
            let source = Source::datadir(input)?;
            let w = scan(&source, |f| {
                m.blocks += 1;
                m.txs += f.txs as u64;
                m.ins += f.inputs as u64;
                m.outs += f.outputs as u64;
                m.bytes += f.size as u64;
            });
            m.warnings = w.len() as u64;
        }
        "ingest" => {
            let index = index.ok_or("--index needed")?;
            let source = Source::datadir(input)?;
            let mut clock = Clock {
                t0,
                started: None,
                last_block: 0.0,
            };
            let r = ingest(&source, index, &IngestOptions::default(), &mut clock)?;
            let end = t0.elapsed().as_secs_f64();
            let started = clock.started.unwrap_or(0.0);
            m.t_headers = started;
            m.t_blocks = clock.last_block.max(started) - started;
            m.t_close = end - clock.last_block.max(started);
            m.blocks = r.blocks_added;
            m.txs = r.txs_added;
            m.bytes = r.bytes_parsed;
            m.warnings = (r.warnings.len() + r.chain_warnings.len()) as u64;
            for w in r.chain_warnings.iter().take(3) {
                eprintln!("  ingest warning: {w}");
            }
        }
        "breakdown" => {
            // The ingest's stages one after another on one thread, through
            // the library's public pieces: where does the time go?
            let index = index.ok_or("--index needed")?;
            let source = Source::datadir(input)?;
            let tree = HeaderTree::scan(&source, None);
            let best = tree.best_chain();
            let network = tree.network.ok_or("no network")?;
            m.t_headers = t0.elapsed().as_secs_f64();
            let t = Instant::now();
            let mut store = Store::open_writer(index, network)?;
            // Tables sized for the chain, pages given back or zeros written
            // ahead, as `ingest` does.
            let txs: u64 = best
                .nodes
                .iter()
                .map(|&i| tree.nodes[i as usize].tx_count)
                .sum();
            store.reserve(txs)?;
            let block_bytes = best
                .nodes
                .iter()
                .map(|&i| tree.nodes[i as usize].locs[0].record.size as u64)
                .sum();
            store.set_drop_behind(chainhound_index::ingest::auto_drop_behind(
                0,
                txs,
                block_bytes,
                chainhound_index::pages::mem_available(),
            ));
            let hasher = store.hasher();
            let mut prepared = Vec::with_capacity(best.nodes.len());
            let mut buf = Vec::new();
            for &i in &best.nodes {
                let loc = tree.nodes[i as usize].locs[0];
                let file = &source.files[loc.file as usize];
                let bytes = file
                    .bytes(loc.record.offset, loc.record.size as usize, &mut buf)
                    .ok_or("record out of file")?;
                let b = Block::parse(bytes)?;
                m.txs += b.txs.len() as u64;
                m.bytes += b.size as u64;
                prepared.push(prepare(&b, &hasher));
            }
            m.blocks = prepared.len() as u64;
            m.t_parse = t.elapsed().as_secs_f64();
            let t = Instant::now();
            for p in &prepared {
                store.append(p)?;
            }
            m.t_blocks = t.elapsed().as_secs_f64();
            drop(prepared);
            let t = Instant::now();
            store.close()?;
            m.t_close = t.elapsed().as_secs_f64();
        }
        "blocks_iterator" => {
            let net = match network {
                "mainnet" => BiNetwork::Bitcoin,
                "regtest" => BiNetwork::Regtest,
                n => return Err(format!("network {n}?").into()),
            };
            let mut conf = blocks_iterator::Config::new(input.join("blocks"), net);
            // Resolve every input's previous output (the default, said explicitly).
            conf.skip_prevout = false;
            // Smallest delay allowed (0 panics): all blocks but the tip are emitted.
            conf.max_reorg = 1;
            for b in blocks_iterator::iter(conf) {
                m.blocks += 1;
                m.txs += b.txids().len() as u64;
                m.ins += b.block_total_inputs() as u64;
                m.outs += b.block_total_outputs() as u64;
                m.bytes += b.size() as u64;
            }
        }
        p => return Err(format!("unknown phase {p}").into()),
    }
    m.wall = t0.elapsed().as_secs_f64();
    let st = proc_status();
    m.hwm_kb = st.get("VmHWM").copied().unwrap_or(0);
    m.rss_anon_kb = st.get("RssAnon").copied().unwrap_or(0);
    m.rss_file_kb = st.get("RssFile").copied().unwrap_or(0);
    Ok(m)
}

fn child_main(args: &[String]) -> Res<()> {
    let get = |k: &str| {
        args.iter()
            .position(|a| a == k)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let phase = get("--phase").ok_or("--phase")?;
    let input = PathBuf::from(get("--input").ok_or("--input")?);
    let index = get("--index").map(PathBuf::from);
    let network = get("--network").unwrap_or_else(|| "regtest".into());
    let m = run_phase(&phase, &input, index.as_deref(), &network)?;
    let threads: Vec<String> = m
        .threads
        .iter()
        .map(|t| format!("{}:{:.3}:{:.3}:{:.3}", t.name, t.oncpu, t.waiting, t.alive))
        .collect();
    println!(
        "RESULT threads={} wall={} blocks={} txs={} ins={} outs={} bytes={} warnings={} hwm_kb={} \
         rss_anon_kb={} rss_file_kb={} t_headers={} t_parse={} t_blocks={} t_close={}",
        threads.join(","),
        m.wall,
        m.blocks,
        m.txs,
        m.ins,
        m.outs,
        m.bytes,
        m.warnings,
        m.hwm_kb,
        m.rss_anon_kb,
        m.rss_file_kb,
        m.t_headers,
        m.t_parse,
        m.t_blocks,
        m.t_close
    );
    Ok(())
}

// ---------------------------------------------------------------- parent side

/// Runs one phase in a child process; returns its measure with wait4's rusage.
fn spawn_phase(phase: &str, input: &Path, index: Option<&Path>, network: &str) -> Res<Measure> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.args(["--phase", phase, "--network", network, "--input"])
        .arg(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(ix) = index {
        cmd.arg("--index").arg(ix);
    }
    let mut child = cmd.spawn()?;
    let mut out = String::new();
    child
        .stdout
        .take()
        .ok_or("no stdout")?
        .read_to_string(&mut out)?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: plain FFI call with valid pointers; the child is ours and not
    // yet reaped (std's `Child` only reaps in `wait`, which we do not call).
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    if r != pid {
        return Err(format!("wait4 failed: {}", std::io::Error::last_os_error()).into());
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!("phase {phase} on {} failed ({status:#x})", input.display()).into());
    }
    let line = out
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .ok_or_else(|| format!("phase {phase}: no RESULT line in {out:?}"))?;
    let kv: BTreeMap<&str, &str> = line[7..]
        .split_whitespace()
        .filter_map(|p| p.split_once('='))
        .collect();
    let f = |k: &str| kv.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let u = |k: &str| kv.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    Ok(Measure {
        wall: f("wall"),
        blocks: u("blocks"),
        txs: u("txs"),
        ins: u("ins"),
        outs: u("outs"),
        bytes: u("bytes"),
        warnings: u("warnings"),
        hwm_kb: u("hwm_kb"),
        rss_anon_kb: u("rss_anon_kb"),
        rss_file_kb: u("rss_file_kb"),
        user: tv(ru.ru_utime),
        sys: tv(ru.ru_stime),
        maxrss_kb: ru.ru_maxrss as u64,
        t_headers: f("t_headers"),
        t_parse: f("t_parse"),
        t_blocks: f("t_blocks"),
        t_close: f("t_close"),
        threads: kv
            .get("threads")
            .map(|v| {
                v.split(',')
                    .filter_map(|t| {
                        let p: Vec<&str> = t.split(':').collect();
                        (p.len() == 4).then(|| ThreadStat {
                            name: p[0].to_string(),
                            oncpu: p[1].parse().unwrap_or(0.0),
                            waiting: p[2].parse().unwrap_or(0.0),
                            alive: p[3].parse().unwrap_or(0.0),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// Asks the kernel to drop `paths` from the page cache (clean pages no
/// process maps: all of a block file once the last phase exited), so the
/// next phase reads them from the disk.
fn evict(paths: &[PathBuf]) -> Res<()> {
    use std::os::fd::AsRawFd;
    for p in paths {
        let f = File::open(p)?;
        // SAFETY: a plain call on a descriptor we own; a hint only.
        unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    }
    Ok(())
}

/// Share of a file's pages in the page cache (mincore), as a fraction.
fn cached_fraction(paths: &[PathBuf]) -> f64 {
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    let (mut incore, mut total) = (0usize, 0usize);
    for p in paths {
        let Ok(f) = File::open(p) else { continue };
        let len = f.metadata().map(|m| m.len() as usize).unwrap_or(0);
        if len == 0 {
            continue;
        }
        use std::os::fd::AsRawFd;
        // SAFETY: a read-only shared mapping of a file we opened, unmapped
        // below; mincore only writes `vec`, sized one byte per page.
        unsafe {
            let addr = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                f.as_raw_fd(),
                0,
            );
            if addr == libc::MAP_FAILED {
                continue;
            }
            let pages = len.div_ceil(page);
            let mut vec = vec![0u8; pages];
            if libc::mincore(addr, len, vec.as_mut_ptr()) == 0 {
                incore += vec.iter().filter(|&&b| b & 1 == 1).count();
                total += pages;
            }
            libc::munmap(addr, len);
        }
    }
    if total == 0 {
        0.0
    } else {
        incore as f64 / total as f64
    }
}

/// A simulated chain: generated once into one or more datadirs.
#[derive(Debug, Clone, Copy, Default)]
struct SimInfo {
    blocks: u64,
    txs: u64,
    ins: u64,
    outs: u64,
    bytes: u64,
    unspent: u64,
    abandoned: u64,
    gen_secs: f64,
    write_secs: f64,
}

fn generate(opts: &Opts, txs: u64, dirs: &[(&Path, [u8; 8])]) -> Res<SimInfo> {
    let writers = dirs
        .iter()
        .map(|(d, k)| BlkWriter::new(d, Network::Regtest, *k, BLK_FILE_SIZE))
        .collect::<Result<Vec<_>, _>>()?;
    if opts.economy {
        // The economy's blocks, after the regtest genesis block.
        let params = Params::sized(opts.seed, None, None, Some(txs))?;
        let mut eco = Economy::new(params);
        let mut genesis = Some(regtest_genesis());
        let (gen, write) = write_chain(writers, || {
            genesis.take().or_else(|| eco.next_block().map(|b| b.bytes))
        })?;
        let s = &eco.stats;
        return Ok(SimInfo {
            blocks: s.blocks + 1,
            txs: s.txs + 1,
            ins: s.inputs_by_kind.iter().sum(),
            outs: s.outputs_by_kind.iter().sum::<u64>() + 1,
            bytes: s.bytes + regtest_genesis().len() as u64,
            unspent: 0,
            abandoned: 0,
            gen_secs: gen,
            write_secs: write,
        });
    }
    let mut chain = ToyChain::new(ToyParams::with_txs(opts.seed, txs, opts.tpb));
    let (gen, write) = write_chain(writers, || chain.next())?;
    let s = chain.stats();
    Ok(SimInfo {
        blocks: s.blocks,
        txs: s.txs,
        ins: s.inputs,
        outs: s.outputs,
        bytes: s.bytes,
        unspent: s.unspent,
        abandoned: s.abandoned,
        gen_secs: gen,
        write_secs: write,
    })
}

/// Writes the blocks `next` makes to every writer; returns the seconds
/// spent making them and writing them.
fn write_chain(
    mut writers: Vec<BlkWriter>,
    mut next: impl FnMut() -> Option<Vec<u8>>,
) -> Res<(f64, f64)> {
    let (mut gen, mut write) = (0.0, 0.0);
    loop {
        let t = Instant::now();
        let Some(b) = next() else { break };
        gen += t.elapsed().as_secs_f64();
        let t = Instant::now();
        for w in &mut writers {
            w.push(&b)?;
        }
        write += t.elapsed().as_secs_f64();
    }
    let t = Instant::now();
    for w in writers {
        w.finish()?;
    }
    write += t.elapsed().as_secs_f64();
    Ok((gen, write))
}

/// One input of the benchmark.
struct Input {
    name: String,
    datadir: PathBuf,
    network: &'static str,
    xor: bool,
    files: Vec<PathBuf>,
    file_bytes: u64,
    cached_before: f64,
    cached_after: f64,
}

impl Input {
    fn new(name: &str, datadir: PathBuf, network: &'static str, xor: bool) -> Res<Input> {
        let files = blk_files(&datadir.join("blocks"))?;
        let file_bytes = files
            .iter()
            .map(|p| fs::metadata(p).map(|m| m.len()).unwrap_or(0))
            .sum();
        Ok(Input {
            name: name.into(),
            datadir,
            network,
            xor,
            files,
            file_bytes,
            cached_before: 0.0,
            cached_after: 0.0,
        })
    }

    /// Warm-up: reads everything once so every measured run is warm.
    fn warm_up(&mut self) -> Res<()> {
        self.cached_before = cached_fraction(&self.files);
        read_all(&self.datadir)?;
        self.cached_after = cached_fraction(&self.files);
        Ok(())
    }
}

/// Index figures after an ingest.
#[derive(Debug, Clone, Default)]
struct IndexInfo {
    apparent: u64,
    allocated: u64,
    blocks: u64,
    txs: u64,
    outs: u64,
    ins: u64,
    addrs: u64,
    /// Outputs paid to an address seen before (`out_prev.col` records).
    links: u64,
    columns: Vec<(String, u64)>,
}

fn index_info(dir: &Path) -> Res<IndexInfo> {
    use std::os::unix::fs::MetadataExt;
    let (mut apparent, mut allocated) = (0, 0);
    for e in fs::read_dir(dir)? {
        let m = e?.metadata()?;
        if m.is_file() {
            apparent += m.len();
            allocated += m.blocks() * 512;
        }
    }
    let store = Store::open(dir)?;
    let c = store.counts();
    Ok(IndexInfo {
        apparent,
        allocated,
        blocks: c.blocks as u64,
        txs: c.txs as u64,
        outs: c.outs,
        ins: c.ins,
        addrs: c.addrs as u64,
        links: c.links,
        columns: store
            .column_bytes()
            .into_iter()
            .map(|(n, b)| (n.to_string(), b))
            .collect(),
    })
}

/// Results of every phase on one input.
struct Row {
    input: String,
    phase: &'static str,
    m: Measure,
    runs: usize,
    /// Fastest and slowest run.
    min: f64,
    max: f64,
}

const PHASES: [&str; 4] = ["read", "scan", "ingest", "blocks_iterator"];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The median run of several (by wall time), with the highest memory
/// figures of all of them and the wall-time spread.
fn summarize(runs: &[Measure]) -> (Measure, f64, f64) {
    let wall = median(runs.iter().map(|m| m.wall).collect());
    let mut m = runs
        .iter()
        .min_by(|a, b| (a.wall - wall).abs().total_cmp(&(b.wall - wall).abs()))
        .cloned()
        .expect("one run");
    m.maxrss_kb = runs.iter().map(|r| r.maxrss_kb).max().unwrap_or(0);
    m.hwm_kb = runs.iter().map(|r| r.hwm_kb).max().unwrap_or(0);
    m.rss_anon_kb = runs.iter().map(|r| r.rss_anon_kb).max().unwrap_or(0);
    m.rss_file_kb = runs.iter().map(|r| r.rss_file_kb).max().unwrap_or(0);
    m.wall = wall;
    let min = runs.iter().map(|r| r.wall).fold(f64::INFINITY, f64::min);
    let max = runs.iter().map(|r| r.wall).fold(0.0, f64::max);
    (m, min, max)
}

/// Runs every phase `reps` times on `input`, round robin (read, scan,
/// ingest, blocks_iterator, then again), so that a slow spell of the machine
/// does not fall on one phase only. With `breakdown`, also the serial
/// ingest breakdown. Returns rows, the breakdown and the index of the last
/// ingest.
fn bench_input(
    input: &Input,
    reps: usize,
    work: &Path,
    breakdown: bool,
    cold: bool,
) -> Res<(Vec<Row>, Option<Measure>, IndexInfo)> {
    let mut phases: Vec<&'static str> = PHASES.to_vec();
    if breakdown {
        phases.push("breakdown");
    }
    let mut runs: Vec<Vec<Measure>> = vec![Vec::new(); phases.len()];
    let mut info = IndexInfo::default();
    for _ in 0..reps {
        for (k, &phase) in phases.iter().enumerate() {
            // Every phase starts from the same page cache: chainhound's
            // ingest gives its input's pages back as it goes, so without
            // this the phase after it would start cold and the others warm.
            if cold {
                evict(&input.files)?;
            } else {
                read_all(&input.datadir)?;
            }
            let ix = work.join(format!("index-{}", input.name));
            let _ = fs::remove_dir_all(&ix);
            let index = matches!(phase, "ingest" | "breakdown").then_some(ix.as_path());
            let m = spawn_phase(phase, &input.datadir, index, input.network)?;
            eprintln!(
                "  {:<10} {:<16} {:>8.3} s  {:>7.0} MB peak",
                input.name,
                phase,
                m.wall,
                m.hwm_kb as f64 / 1024.0
            );
            if phase == "ingest" {
                info = index_info(&ix)?;
            }
            let _ = fs::remove_dir_all(&ix);
            runs[k].push(m);
        }
    }
    let mut rows = Vec::new();
    let mut bd = None;
    for (k, &phase) in phases.iter().enumerate() {
        let (m, min, max) = summarize(&runs[k]);
        if phase == "breakdown" {
            bd = Some(m);
            continue;
        }
        rows.push(Row {
            input: input.name.clone(),
            phase,
            m,
            runs: reps,
            min,
            max,
        });
    }
    Ok((rows, bd, info))
}

// ---------------------------------------------------------------- printing

fn mb(b: f64) -> f64 {
    b / 1e6
}

fn human(n: f64) -> String {
    if n >= 1e12 {
        format!("{:.2} T", n / 1e12)
    } else if n >= 1e9 {
        format!("{:.2} G", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.2} M", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} k", n / 1e3)
    } else {
        format!("{n:.0}")
    }
}

fn secs_human(s: f64) -> String {
    if s >= 86400.0 {
        format!("{:.1} days", s / 86400.0)
    } else if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 60.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{s:.1} s")
    }
}

fn print_inputs(inputs: &[Input], counts: &BTreeMap<String, (u64, u64, u64, u64)>) {
    println!("\n== inputs ==");
    println!(
        "{:<10} {:>5} {:>10} {:>7} {:>9} {:>9} {:>9} {:>6}  {:>14}  xor",
        "input", "files", "MB", "blocks", "txs", "inputs", "outputs", "B/tx", "cached pre/post",
    );
    for i in inputs {
        let (blocks, txs, ins, outs) = counts.get(&i.name).copied().unwrap_or_default();
        println!(
            "{:<10} {:>5} {:>10.1} {:>7} {:>9} {:>9} {:>9} {:>6.0}  {:>6.0}% /{:>5.0}%  {}",
            i.name,
            i.files.len(),
            mb(i.file_bytes as f64),
            blocks,
            txs,
            ins,
            outs,
            i.file_bytes as f64 / txs.max(1) as f64,
            i.cached_before * 100.0,
            i.cached_after * 100.0,
            if i.xor { "yes" } else { "no" }
        );
    }
}

fn print_rows(
    rows: &[Row],
    txs_of: &BTreeMap<String, u64>,
    bytes_of: &BTreeMap<String, u64>,
    cold: bool,
) {
    let cache = if cold {
        "input out of the page cache before every run (--cold)"
    } else {
        "input in the page cache before every run"
    };
    println!("\n== throughput ({cache}; wall = median of runs, phases interleaved; tx/s and MB/s over the input's txs and file bytes) ==");
    println!(
        "{:<10} {:<16} {:>4} {:>9} {:>15} {:>11} {:>8} {:>9} {:>8} {:>8} {:>7} {:>7} {:>9} {:>8}",
        "input",
        "phase",
        "runs",
        "wall s",
        "min - max s",
        "tx/s",
        "MB/s",
        "peak MB",
        "anon MB",
        "file MB",
        "user s",
        "sys s",
        "txs seen",
        "warnings"
    );
    for r in rows {
        let txs = *txs_of.get(&r.input).unwrap_or(&0) as f64;
        let bytes = *bytes_of.get(&r.input).unwrap_or(&0) as f64;
        let seen = if r.phase == "read" {
            "-".to_string()
        } else {
            r.m.txs.to_string()
        };
        println!(
            "{:<10} {:<16} {:>4} {:>9.3} {:>15} {:>11.0} {:>8.1} {:>9.1} {:>8.1} {:>8.1} {:>7.2} {:>7.2} {:>9} {:>8}",
            r.input,
            r.phase,
            r.runs,
            r.m.wall,
            format!("{:.3} - {:.3}", r.min, r.max),
            txs / r.m.wall,
            mb(bytes) / r.m.wall,
            r.m.hwm_kb as f64 / 1024.0,
            r.m.rss_anon_kb as f64 / 1024.0,
            r.m.rss_file_kb as f64 / 1024.0,
            r.m.user,
            r.m.sys,
            seen,
            r.m.warnings
        );
    }
}

fn print_ratios(rows: &[Row], inputs: &[Input]) {
    println!("\n== ratios (wall time of chainhound ingest / wall time of the other; > 1: ingest is slower) ==");
    println!(
        "{:<10} {:>16} {:>16} {:>12} {:>12}   ingest time split: headers / blocks / close",
        "input", "vs blocks_iter", "vs b_i (per tx)", "vs scan", "vs raw read",
    );
    for i in inputs {
        let get = |p: &str| rows.iter().find(|r| r.input == i.name && r.phase == p);
        let (Some(ing), Some(bi), Some(sc), Some(rd)) = (
            get("ingest"),
            get("blocks_iterator"),
            get("scan"),
            get("read"),
        ) else {
            continue;
        };
        // blocks_iterator leaves out the tip block: compare per transaction too.
        let per_tx = (ing.m.wall / ing.m.txs.max(1) as f64) / (bi.m.wall / bi.m.txs.max(1) as f64);
        println!(
            "{:<10} {:>16.2} {:>16.2} {:>12.2} {:>12.1}   {:.3} s / {:.3} s / {:.3} s",
            i.name,
            ing.m.wall / bi.m.wall,
            per_tx,
            ing.m.wall / sc.m.wall,
            ing.m.wall / rd.m.wall,
            ing.m.t_headers,
            ing.m.t_blocks,
            ing.m.t_close
        );
    }
}

fn print_breakdown(breakdowns: &[(String, Measure)], rows: &[Row]) {
    if breakdowns.is_empty() {
        return;
    }
    println!("\n== where chainhound ingest's time goes: its stages one after another on one thread ('breakdown' phase) ==");
    println!(
        "{:<10} {:>10} {:>15} {:>10} {:>9} {:>9}   {:>14} {:>11}",
        "input",
        "headers s",
        "parse+prep. s",
        "append s",
        "close s",
        "sum s",
        "ingest wall s",
        "scan wall s"
    );
    for (name, m) in breakdowns {
        let wall = |p: &str| {
            rows.iter()
                .find(|r| &r.input == name && r.phase == p)
                .map_or(0.0, |r| r.m.wall)
        };
        println!(
            "{:<10} {:>10.3} {:>15.3} {:>10.3} {:>9.3} {:>9.3}   {:>14.3} {:>11.3}",
            name,
            m.t_headers,
            m.t_parse,
            m.t_blocks,
            m.t_close,
            m.t_headers + m.t_parse + m.t_blocks + m.t_close,
            wall("ingest"),
            wall("scan")
        );
    }
    println!("   (ingest runs parse+prepare on a thread per CPU and append on one more, so its wall is about headers + max(parse / CPUs, append) + close)");
}

fn print_threads(rows: &[Row]) {
    if rows.iter().all(|r| r.input == "real") {
        return;
    }
    println!(
        "\n== threads of the median run (from /proc/self/task/*/schedstat, sampled every 10 ms) =="
    );
    println!("   on-cpu: running; runq: runnable but waiting for one of the cores; other: alive but neither");
    println!("   (waiting on a channel, a lock, I/O or a page fault served from disk)");
    for r in rows {
        if r.input == "real" || !matches!(r.phase, "ingest" | "blocks_iterator") {
            continue;
        }
        let parts: Vec<String> =
            r.m.threads
                .iter()
                .filter(|t| t.oncpu >= 0.01)
                .map(|t| {
                    format!(
                        "{} {:.2}/{:.2}/{:.2}",
                        t.name,
                        t.oncpu,
                        t.waiting,
                        (t.alive - t.oncpu - t.waiting).max(0.0)
                    )
                })
                .collect();
        println!(
            "{:<10} {:<16} wall {:.2} s; threads on-cpu/runq/other s: {}",
            r.input,
            r.phase,
            r.m.wall,
            parts.join(" | ")
        );
    }
}

/// Which count a column grows with.
fn column_unit(name: &str) -> &'static str {
    match name {
        "blk_hash.col" | "blk_info.col" | "coinbase.blob" => "block",
        "tx_txid.col" | "tx_out.col" | "tx_in.col" | "tx_meta.col" | "tx_big.col" => "tx",
        "out_value.col" | "out_type.col" | "out_spent.col" | "out_link.col" | "out_big.col" => {
            "output"
        }
        "out_prev.col" | "out_addr.col" | "prev_big.col" => "linked output",
        "in_out.col" | "in_big.col" => "input",
        "addr_grp.col" | "addr_key.blob" | "addr_head.col" => "address",
        "txid.tbl" => "tx (table)",
        "addr.tbl" => "address (table)",
        _ => "?",
    }
}

fn unit_count(ix: &IndexInfo, unit: &str) -> u64 {
    match unit {
        "block" => ix.blocks,
        "tx" | "tx (table)" => ix.txs,
        "output" => ix.outs,
        "linked output" => ix.links,
        "input" => ix.ins,
        "address" | "address (table)" => ix.addrs,
        _ => 0,
    }
}

fn print_index(name: &str, ix: &IndexInfo) {
    println!(
        "\n== index of {name}: {} blocks, {} txs, {} outputs, {} inputs, {} addresses ==",
        ix.blocks, ix.txs, ix.outs, ix.ins, ix.addrs
    );
    println!(
        "on disk: {:.1} MB apparent ({:.1} B/tx), {:.1} MB allocated ({:.1} B/tx; hash tables are sparse files)",
        mb(ix.apparent as f64),
        ix.apparent as f64 / ix.txs.max(1) as f64,
        mb(ix.allocated as f64),
        ix.allocated as f64 / ix.txs.max(1) as f64
    );
    println!(
        "{:<16} {:>12} {:>9} {:<16} {:>11}",
        "column", "bytes", "B/tx", "grows per", "B/unit"
    );
    let mut total = 0;
    for (n, b) in &ix.columns {
        let unit = column_unit(n);
        let k = unit_count(ix, unit).max(1);
        total += b;
        println!(
            "{:<16} {:>12} {:>9.2} {:<16} {:>11.2}",
            n,
            b,
            *b as f64 / ix.txs.max(1) as f64,
            unit,
            *b as f64 / k as f64
        );
    }
    println!(
        "{:<16} {:>12} {:>9.2}",
        "total",
        total,
        total as f64 / ix.txs.max(1) as f64
    );
    // The same bytes in three parts, so that the chain itself compares with
    // layouts that have no address index (BlockSci: ~127 B/tx).
    let mut split = [0u64; 3];
    for (n, b) in &ix.columns {
        split[index_part(n)] += b;
    }
    let per = |b: u64| b as f64 / ix.txs.max(1) as f64;
    println!(
        "split: chain (blocks, txs, outputs with spenders, inputs) {:.1} B/tx + per-address index (keys, heads, out_prev) {:.1} B/tx + lookup tables {:.1} B/tx",
        per(split[0]),
        per(split[1]),
        per(split[2])
    );
}

/// 0: the chain itself; 1: the per-address index; 2: the hash tables.
fn index_part(name: &str) -> usize {
    match name {
        "txid.tbl" | "addr.tbl" => 2,
        "out_prev.col" | "prev_big.col" | "addr_grp.col" | "addr_key.blob" | "addr_head.col" => 1,
        _ => 0,
    }
}

/// Slots of the store's (txid, address) hash tables for `txs` transactions
/// and `addrs` addresses, by the store's own sizing rule.
const SLOT: f64 = chainhound_index::store::table::SLOT as f64;

fn table_slots(txs: f64, addrs: f64) -> (f64, f64) {
    let (t, a) = chainhound_index::store::table_slots(txs as u64, addrs as u64);
    (t as f64, a as f64)
}

struct ScalePoint {
    txs: u64,
    m: Measure,
    ix: IndexInfo,
}

fn print_scaling(points: &[ScalePoint]) {
    println!("\n== scaling of chainhound ingest (simulated chain, plain files) ==");
    println!(
        "{:>10} {:>9} {:>11} {:>10} {:>10} {:>10} {:>9} {:>9} {:>10}",
        "txs", "wall s", "tx/s", "peak MB", "anon MB", "file MB", "B/tx", "outs/tx", "addrs/tx"
    );
    for p in points {
        println!(
            "{:>10} {:>9.3} {:>11.0} {:>10.1} {:>10.1} {:>10.1} {:>9.1} {:>9.3} {:>10.3}",
            p.txs,
            p.m.wall,
            p.txs as f64 / p.m.wall,
            p.m.hwm_kb as f64 / 1024.0,
            p.m.rss_anon_kb as f64 / 1024.0,
            p.m.rss_file_kb as f64 / 1024.0,
            p.ix.apparent as f64 / p.txs as f64,
            p.ix.outs as f64 / p.txs as f64,
            p.ix.addrs as f64 / p.txs as f64
        );
    }
}

/// Least-squares slope and intercept of y over x.
fn fit(xs: &[f64], ys: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    if sxx == 0.0 {
        return (my / mx, 0.0);
    }
    let b = sxy / sxx;
    (b, my - b * mx)
}

fn print_projection(points: &[ScalePoint]) {
    let Some(last) = points.last() else { return };
    let ix = &last.ix;
    println!(
        "\n== EXTRAPOLATION to mainnet: {} txs, {} outputs, {} inputs (assumed), {} addresses, {} blocks ==",
        human(MAIN_TXS),
        human(MAIN_OUTS),
        human(MAIN_INS),
        human(MAIN_ADDRS),
        human(MAIN_BLOCKS)
    );
    println!("   linear in the measured per-tx / per-output / per-input / per-address figures of the {} tx simulated chain;", last.txs);
    println!("   NOT a measurement: mainnet txs differ in size and shape, and the index outgrows RAM long before the end.");
    // Time.
    let per_tx = last.m.wall / last.txs as f64;
    println!(
        "time   {:.2} us/tx (whole run at {} txs) -> {}",
        per_tx * 1e6,
        last.txs,
        secs_human(per_tx * MAIN_TXS)
    );
    if points.len() >= 2 {
        let a = &points[points.len() - 2];
        let marginal = (last.m.wall - a.m.wall) / (last.txs - a.txs) as f64;
        println!(
            "       {:.2} us/tx (marginal, {} -> {} txs) -> {}   (if this exceeds the line above, cost per tx grows with size)",
            marginal * 1e6,
            a.txs,
            last.txs,
            secs_human(marginal * MAIN_TXS)
        );
    }
    // Disk.
    let main_units = |unit: &str| match unit {
        "block" => MAIN_BLOCKS,
        "tx" => MAIN_TXS,
        "output" => MAIN_OUTS,
        // Outputs to an address seen before: every output but each address's
        // first (OP_RETURN outputs, which are neither, counted too: an upper bound).
        "linked output" => MAIN_OUTS - MAIN_ADDRS,
        "input" => MAIN_INS,
        "address" => MAIN_ADDRS,
        _ => 0.0,
    };
    let mut disk = 0.0;
    let mut parts = Vec::new();
    let mut random_access = 0.0;
    for (n, b) in &ix.columns {
        let unit = column_unit(n);
        let bytes = match unit {
            "tx (table)" => table_slots(MAIN_TXS, MAIN_ADDRS).0 * SLOT,
            "address (table)" => table_slots(MAIN_TXS, MAIN_ADDRS).1 * SLOT,
            u => *b as f64 / unit_count(ix, u).max(1) as f64 * main_units(u),
        };
        disk += bytes;
        parts.push((n.clone(), bytes));
        // Read or written at random places by every block of the ingest.
        if matches!(
            n.as_str(),
            "txid.tbl"
                | "addr.tbl"
                | "tx_txid.col"
                | "tx_out.col"
                | "out_spent.col"
                | "addr_grp.col"
                | "addr_key.blob"
                | "addr_head.col"
        ) {
            random_access += bytes;
        }
    }
    parts.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!(
        "disk   {:.0} GB of index ({:.0} B/tx); largest: {}",
        disk / 1e9,
        disk / MAIN_TXS,
        parts
            .iter()
            .take(6)
            .map(|(n, b)| format!("{n} {:.0} GB", b / 1e9))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "       (tables by the store's sizing rule: 5 B x txs / 0.7 and x 1.25 txs / 0.7, grown 1.5x past 0.8 load; a table rebuild needs old + new at once)"
    );
    // RAM.
    let xs: Vec<f64> = points.iter().map(|p| p.txs as f64).collect();
    let kb = |f: fn(&Measure) -> u64| -> Vec<f64> {
        points.iter().map(|p| f(&p.m) as f64 * 1024.0).collect()
    };
    let (sp, ip) = fit(&xs, &kb(|m| m.hwm_kb));
    let (sa, ia) = fit(&xs, &kb(|m| m.rss_anon_kb));
    let (sf, iff) = fit(&xs, &kb(|m| m.rss_file_kb));
    let at = |slope: f64, icpt: f64| (slope * MAIN_TXS + icpt) / 1e9;
    println!(
        "ram    peak RSS    {:>7.1} B/tx + {:>5.0} MB -> {:>6.0} GB  (least squares over the scaling points)",
        sp,
        ip / 1e6,
        at(sp, ip)
    );
    let anon_mb: Vec<String> = points
        .iter()
        .map(|p| format!("{:.0}", p.m.rss_anon_kb as f64 / 1024.0))
        .collect();
    println!(
        "         of it heap  {:>7.1} B/tx + {:>5.0} MB -> {:>6.1} GB  (peak RssAnon, {} MB at the points: the spend cache, 256 MB at most,",
        sa,
        ia / 1e6,
        at(sa, ia),
        anon_mb.join(" / ")
    );
    println!(
        "                                                       and the parsers' queues of ~34 prepared blocks: bounded, not growing with the chain; so an upper bound)"
    );
    println!(
        "         mapped files {:>6.1} B/tx + {:>5.0} MB -> {:>6.0} GB  (peak RssFile: the index and the blk files, memory-mapped: evictable cache)",
        sf,
        iff / 1e6,
        at(sf, iff)
    );
    println!(
        "       mapped pages can be evicted, but every block reads and writes {:.0} GB of the index at random places\n\
         \x20       (both hash tables, tx_txid, tx_out, out_spent, addr_grp, addr_key.blob, addr_head): with less free RAM than that,\n\
         \x20       expect page-fault-bound random I/O, far below the tx/s measured here",
        random_access / 1e9
    );
}

// ---------------------------------------------------------------- main

/// The workspace's commit and whether its crates have uncommitted changes
/// (the bench is built from the working tree, whatever it holds).
fn workspace_version() -> String {
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(&ws)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["log", "-1", "--format=%h %s"]) {
        Some(head) => {
            let dirty =
                git(&["status", "--porcelain", "--", "crates"]).map_or(0, |s| s.lines().count());
            format!("commit {head} (+ {dirty} uncommitted file(s) under crates/; built from the working tree)")
        }
        None => "unknown commit (no git)".into(),
    }
}

fn shared_file() -> PathBuf {
    let rel = Path::new("data/blocks/mainnet_h0-4312.dat");
    if let Ok(s) = std::env::var("CHAINHOUND_SHARED") {
        return Path::new(&s).join(rel);
    }
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let candidates = [
        ws.join("../shared").join(rel),
        PathBuf::from("../shared").join(rel),
    ];
    candidates
        .iter()
        .find(|p| p.exists())
        .cloned()
        .unwrap_or_else(|| candidates[0].clone())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--phase") {
        if let Err(e) = child_main(&args) {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
        return;
    }
    let opts = parse_opts(&args);
    if let Err(e) = parent_main(&opts) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn parent_main(opts: &Opts) -> Res<()> {
    let started = Instant::now();
    if opts.generate_only && (opts.workdir.is_none() || opts.real_only) {
        return Err("--generate-only needs --workdir DIR (and no --real-only)".into());
    }
    let tmp;
    let work = match &opts.workdir {
        Some(d) => {
            fs::create_dir_all(d)?;
            d.clone()
        }
        None => {
            tmp = tempfile::Builder::new()
                .prefix("chainhound-bench")
                .tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    eprintln!("work dir {}", work.display());
    let mut inputs = Vec::new();

    // The real file, seen as a datadir: blocks/blk00000.dat links to it.
    let real = shared_file();
    let real = real
        .canonicalize()
        .map_err(|e| format!("{}: {e} (set CHAINHOUND_SHARED)", real.display()))?;
    let real_dir = work.join("real");
    fs::create_dir_all(real_dir.join("blocks"))?;
    let link = real_dir.join("blocks/blk00000.dat");
    let _ = fs::remove_file(&link);
    std::os::unix::fs::symlink(&real, &link)?;
    inputs.push(Input::new("real", real_dir, "mainnet", false)?);

    let mut sim = None;
    if !opts.real_only {
        eprintln!(
            "generating a {} tx {} chain twice: plain and XOR-obfuscated",
            opts.txs,
            if opts.economy { "economy" } else { "toy" }
        );
        let plain = work.join("sim-plain");
        let xored = work.join("sim-xor");
        let _ = fs::remove_dir_all(&plain);
        let _ = fs::remove_dir_all(&xored);
        let info = generate(opts, opts.txs, &[(&plain, [0; 8]), (&xored, XOR_KEY)])?;
        eprintln!(
            "  {} blocks, {} txs, {:.1} MB: generated in {:.1} s ({:.0} tx/s), written (x2, fsync) in {:.1} s",
            info.blocks,
            info.txs,
            mb(info.bytes as f64),
            info.gen_secs,
            info.txs as f64 / info.gen_secs,
            info.write_secs
        );
        sim = Some(info);
        inputs.push(Input::new("sim-plain", plain, "regtest", false)?);
        inputs.push(Input::new("sim-xor", xored, "regtest", true)?);
        if opts.generate_only {
            eprintln!(
                "generated into {} (--generate-only: stopping here)",
                work.display()
            );
            return Ok(());
        }
    }

    for i in &mut inputs {
        i.warm_up()?;
    }

    let mut rows = Vec::new();
    let mut counts = BTreeMap::new();
    let mut indexes = Vec::new();
    let mut breakdowns = Vec::new();
    for i in &inputs {
        let reps = if i.name == "real" {
            opts.real_reps
        } else {
            opts.sim_reps
        };
        eprintln!("benchmarking {} ({} runs per phase)", i.name, reps);
        let (r, bd, ix) = bench_input(i, reps, &work, !i.xor, opts.cold)?;
        // Counts of the input: from the scan (every block parsed).
        let scan = r.iter().find(|r| r.phase == "scan").expect("scan row");
        counts.insert(
            i.name.clone(),
            (scan.m.blocks, scan.m.txs, scan.m.ins, scan.m.outs),
        );
        indexes.push((i.name.clone(), ix));
        rows.extend(r);
        if let Some(bd) = bd {
            breakdowns.push((i.name.clone(), bd));
        }
    }
    let txs_of: BTreeMap<String, u64> = counts.iter().map(|(k, v)| (k.clone(), v.1)).collect();
    let bytes_of: BTreeMap<String, u64> = inputs
        .iter()
        .map(|i| (i.name.clone(), i.file_bytes))
        .collect();

    // Scaling: ingest at N/4 and N/2 (generated afresh, plain) and N (above).
    let mut points = Vec::new();
    if let (Some(_), true) = (sim, opts.scaling) {
        for div in [4u64, 2] {
            let n = opts.txs / div;
            let dir = work.join(format!("sim-{n}"));
            let _ = fs::remove_dir_all(&dir);
            eprintln!("scaling: generating and ingesting {n} txs");
            generate(opts, n, &[(&dir, [0; 8])])?;
            let mut input = Input::new(&format!("sim-{n}"), dir.clone(), "regtest", false)?;
            input.warm_up()?;
            let ix = work.join(format!("index-sim-{n}"));
            let mut runs = Vec::new();
            for _ in 0..opts.sim_reps {
                let _ = fs::remove_dir_all(&ix);
                let m = spawn_phase("ingest", &input.datadir, Some(&ix), "regtest")?;
                eprintln!("  {:<10} {:<16} {:>8.3} s", input.name, "ingest", m.wall);
                runs.push(m);
            }
            let (m, _, _) = summarize(&runs);
            let info = index_info(&ix)?;
            let _ = fs::remove_dir_all(&ix);
            let _ = fs::remove_dir_all(&dir);
            points.push(ScalePoint {
                txs: info.txs,
                m,
                ix: info,
            });
        }
    }
    if let Some((_, ix)) = indexes.iter().find(|(n, _)| n == "sim-plain") {
        let r = rows
            .iter()
            .find(|r| r.input == "sim-plain" && r.phase == "ingest")
            .expect("ingest row");
        points.push(ScalePoint {
            txs: ix.txs,
            m: r.m.clone(),
            ix: ix.clone(),
        });
    }

    // ---- report
    println!("\n######## chainhound ingest benchmark ########");
    println!(
        "machine: {} cores, {}; {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|s| s.lines().next().map(|l| l
                .split_whitespace()
                .skip(1)
                .collect::<Vec<_>>()
                .join(" ")))
            .map(|m| format!("MemTotal {m}"))
            .unwrap_or_default(),
        fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(
                |s| s.lines().find(|l| l.starts_with("model name")).map(|l| l
                    .split(':')
                    .nth(1)
                    .unwrap_or("")
                    .trim()
                    .to_string())
            )
            .unwrap_or_default()
    );
    println!("chainhound: {}", workspace_version());
    println!("real input: {}", real.display());
    if let Some(s) = sim {
        let what = if opts.economy {
            format!("economy (seed {}), signed", opts.seed)
        } else {
            format!(
                "toy chain ({} payments/block, seed {}; {} outputs left unspent, {} given up as too small), dummy signatures",
                opts.tpb, opts.seed, s.unspent, s.abandoned
            )
        };
        println!(
            "simulated: {} txs ({} inputs, {} outputs) in {} blocks, {:.1} MB: {what};\n           generated in {:.1} s ({:.0} tx/s) + written twice (with fsync) in {:.1} s",
            s.txs,
            s.ins,
            s.outs,
            s.blocks,
            mb(s.bytes as f64),
            s.gen_secs,
            s.txs as f64 / s.gen_secs,
            s.write_secs
        );
    }
    print_inputs(&inputs, &counts);
    print_rows(&rows, &txs_of, &bytes_of, opts.cold);
    print_ratios(&rows, &inputs);
    print_threads(&rows);
    print_breakdown(&breakdowns, &rows);
    for (name, ix) in &indexes {
        if name != "sim-xor" {
            print_index(name, ix);
        }
    }
    if !points.is_empty() {
        print_scaling(&points);
        print_projection(&points);
    }
    println!("\nnotes:");
    println!(" - read: every blk file read to the end in 1 MiB chunks (cat > /dev/null); files are warm (see 'cached'), or cold with --cold.");
    println!(" - scan: chainhound_index::scan::scan, parse only (txids, merkle check, script types), no chain order, no index.");
    println!(" - ingest: chainhound_index::ingest::ingest into a fresh index dir: header tree + best chain, parse, every");
    println!("   input resolved to its output id via the txid table, address table + per-address chains, msync at commits/close.");
    println!(" - blocks_iterator 3.0.0: iter() with skip_prevout=false (in-memory UTXO map, every input's previous TxOut),");
    println!("   max_reorg=1 (the smallest allowed): it never emits the tip block, so it sees one block fewer ('txs seen').");
    println!("   It keeps nothing on disk; its mainnet UTXO map is preallocated for ~99M entries.");
    println!(" - peak MB = VmHWM of the child (its own peak RSS; each phase runs in its own process). anon MB / file MB =");
    println!("   highest RssAnon (heap) / RssFile (mapped files: chainhound maps the blk files and its index) sampled every 10 ms.");
    println!(" - user s / sys s: CPU time of the child, all threads: > wall means more than one core was busy.");
    println!(
        "\ntotal bench wall time {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
