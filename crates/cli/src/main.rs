//! The `chainhound` command: argument parsing and output, nothing else.
//! Each subcommand resolves its arguments, calls the library crates and
//! prints text or `--json`. Exit codes: 0 success, 1 not found, 2 error.

mod demo;
mod entity;
mod intel;
mod mail;
mod output;
mod simulate;
mod trace;

use anyhow::{bail, Context, Result};
use chainhound_chain::hash::from_hex;
use chainhound_chain::{BlockHash, Network, Txid};
use chainhound_entities::miners::PoolList;
use chainhound_index::ingest::{ingest, IngestOptions, IngestReport, Progress};
use chainhound_index::query::Query;
use chainhound_index::scan::scan;
use chainhound_index::source::Source;
use chainhound_index::store::Store;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Crypto-crime forensics on your own Bitcoin node's files.
#[derive(Parser)]
#[command(name = "chainhound", version, about)]
struct Cli {
    /// Index directory [default: $CHAINHOUND_INDEX, else ~/.local/share/chainhound/index]
    #[arg(long, global = true, value_name = "DIR")]
    index: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build or update the index from a Bitcoin Core datadir or blk files.
    Ingest {
        /// Bitcoin Core data directory (reads its blocks/ folder).
        #[arg(
            long,
            value_name = "DIR",
            conflicts_with = "blocks",
            required_unless_present = "blocks"
        )]
        datadir: Option<PathBuf>,
        /// A blk*.dat file or a folder of them.
        #[arg(long, value_name = "FILE|DIR")]
        blocks: Option<PathBuf>,
        /// Only blocks of this network (default: the first block's).
        #[arg(long)]
        network: Option<String>,
        /// Stop after this height.
        #[arg(long)]
        max_height: Option<u32>,
        /// Commit after every N blocks (default: every 20 seconds, or four
        /// times as long as the last commit took if that is longer).
        #[arg(long, hide = true, default_value_t = 0)]
        commit_every: u32,
        /// Memory (MB) for the spend cache, which resolves spends of recent
        /// coins without reading the index; 0 turns it off.
        #[arg(long, value_name = "MB", default_value_t = 256)]
        spend_cache_mb: u64,
        /// New txids (and addresses) held in memory, then swept into their
        /// lookup table in one pass in slot order, besides at every commit;
        /// 0 writes each in place at once. Default: 0 while the index, as
        /// large as it will be at the end of the run, fits in half the
        /// available memory; else as many as 1/32 of that memory holds per
        /// table (56 bytes an entry). At most what a quarter of the available
        /// memory holds (the report's `table_batch` says what was used).
        /// The index's bytes do not depend on it.
        #[arg(long, value_name = "ENTRIES")]
        table_batch: Option<usize>,
        /// Threads reading and parsing blocks, beside the one appending
        /// them to the index. Default: one per CPU, at most 4. The index's
        /// bytes do not depend on it.
        #[arg(long, value_name = "N")]
        parse_threads: Option<usize>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Show a block by height or hash.
    Block {
        /// Height or block hash.
        id: String,
        /// Pool list, mempool's pools-v2.json, to name the miner [default: $CHAINHOUND_POOLS].
        #[arg(long, value_name = "FILE")]
        pools: Option<PathBuf>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Show a transaction: inputs with the outputs they spend, outputs with their spenders, fee.
    Tx {
        /// Transaction id.
        txid: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Show an address: balance, totals, first and last seen, paged history.
    Address {
        /// Address (any script type; P2PK outputs are found by their key's P2PKH address).
        address: String,
        /// History entries (newest first).
        #[command(flatten)]
        page: Page,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Index statistics: counts, script types, bytes per file and per transaction.
    Stats {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Per-block figures of blk files whose blocks need not form a chain.
    Scan {
        /// blk files or folders.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Pool list, mempool's pools-v2.json, to name the miner [default: $CHAINHOUND_POOLS].
        #[arg(long, value_name = "FILE")]
        pools: Option<PathBuf>,
        /// JSON output (one array).
        #[arg(long)]
        json: bool,
    },
    /// Simulate an economy with a heist: a regtest Bitcoin Core datadir plus its ground truth.
    Simulate {
        /// Output directory (gets blocks/ and truth/).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Seed: the same seed and sizes give byte-identical output.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Blocks after genesis [default: 2000, or one per 1,500 txs].
        #[arg(long)]
        blocks: Option<u32>,
        /// Users [default: one per 40 txs, at least 100].
        #[arg(long)]
        users: Option<u32>,
        /// Transactions to aim for, coinbases included [default: 10 per block].
        #[arg(long)]
        txs: Option<u64>,
        /// No heist.
        #[arg(long)]
        no_heist: bool,
        /// Leave the blk files unobfuscated (an all-zero xor.dat).
        #[arg(long)]
        no_xor: bool,
        /// Signing threads [default: all cores]; the output does not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        /// No progress bar or summary.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Simulate a small economy with a heist, ingest it and investigate it (needs no node).
    Demo {
        /// Seed of the simulation.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Keep the simulated chain and index in this folder.
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
    },
    /// Cluster addresses into entities (common inputs, CoinJoins left out); stored beside the index.
    Cluster {
        /// Hold back merges of two clusters that both have at least this many addresses (0: off).
        #[arg(long, default_value_t = 10_000)]
        guard: u32,
        /// Change heuristics to add, by name (comma-separated): address-reuse, one-time-change,
        /// optimal-change, script-type, round-amount. Off by default.
        #[arg(long, value_delimiter = ',')]
        change: Vec<String>,
        /// Merge CoinJoin inputs too (only to measure what leaving them out buys).
        #[arg(long)]
        keep_coinjoins: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Show the entity (cluster) of an address or entity id: size, totals, addresses, counterparties.
    Entity {
        /// Address, or entity id (the number `entity` prints).
        who: String,
        /// Addresses (in id order).
        #[command(flatten)]
        page: Page,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Trace coins forward (where did they go) or backward (where did they come from) under
    /// FIFO, haircut or poison; stops at labelled services, hops, dust, time and CoinJoins.
    Trace {
        /// Seeds: txids (all outputs), txid:vout, or addresses (every coin received).
        seeds: Vec<String>,
        /// Seeds from incident files (hacks.csv format, or any label file with txids/addresses).
        #[arg(long, value_name = "FILE")]
        incidents: Vec<PathBuf>,
        /// Only incidents whose name contains this (any case).
        #[arg(long, value_name = "NAME", requires = "incidents")]
        incident: Option<String>,
        /// Trace backward: where the seeds' coins came from.
        #[arg(long)]
        backward: bool,
        /// Taint policy: fifo, haircut or poison.
        #[arg(long, default_value = "fifo", value_parser = parse_policy)]
        policy: chainhound_trace::Policy,
        /// At a CoinJoin: share (every output carries the proportional share; arrivals
        /// after it are asserted only where corroborated), stop, or follow (the policy
        /// goes on through it in the CoinJoin's order: unreliable, for comparison).
        #[arg(long, default_value = "share", value_parser = parse_coinjoin)]
        coinjoin: chainhound_trace::CoinJoinMode,
        /// Hop limit (peel-chain continuations do not count).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
        hops: u32,
        /// Drop coins with fewer tainted satoshis.
        #[arg(long, default_value_t = 1_000)]
        dust: u64,
        /// Time bound, a height or YYYY-MM-DD: forward, spends after it are not followed;
        /// backward, coins made before it are not followed.
        #[arg(long, value_name = "H|DATE")]
        until: Option<String>,
        /// Do not treat peel chains specially.
        #[arg(long)]
        no_peel: bool,
        /// Categories whose labelled addresses end a branch [default: exchange,mixer,gambling,service,darknet,miner].
        #[arg(long, value_delimiter = ',', value_name = "CATEGORIES")]
        stop_at: Vec<String>,
        /// Do not use labels lifted from an address's entity (cluster).
        #[arg(long)]
        no_lift: bool,
        /// Ignore labels below this confidence (0-100).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
        min_confidence: u8,
        /// Transactions expanded at most.
        #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
        max_txs: u64,
        #[command(flatten)]
        output: output::OutputArgs,
        /// Save as a case under INDEX/cases, re-checked after every ingest.
        #[arg(long, value_name = "NAME")]
        save: Option<String>,
        /// No notes on stderr.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Phishing mail: a verdict, a score and every piece of evidence per message, offline.
    Mail {
        #[command(subcommand)]
        what: MailCmd,
    },
    /// Saved trace cases: list them, or re-check them for new movements.
    Case {
        #[command(subcommand)]
        what: CaseCmd,
    },
    /// Measure analyses against a simulated chain's ground truth.
    Eval {
        #[command(subcommand)]
        what: EvalCmd,
    },
    /// Miners of the indexed blocks by share of blocks, from mempool's pools-v2.json;
    /// unknown miners grouped by coinbase tag, else payout address.
    Miners {
        /// Pool list: mempool's pools-v2.json [default: $CHAINHOUND_POOLS].
        #[arg(long, value_name = "FILE")]
        pools: Option<PathBuf>,
        /// First height [default: 0].
        #[arg(long, value_name = "H")]
        from: Option<u32>,
        /// Last height [default: the tip].
        #[arg(long, value_name = "H")]
        to: Option<u32>,
        /// JSON output (with every miner's payout addresses).
        #[arg(long)]
        json: bool,
    },
    /// Labels: import sanctions lists, TagPacks, incident files and your own CSV; list, export.
    Labels {
        #[command(subcommand)]
        what: LabelsCmd,
    },
    /// Screen addresses or deposits (txids): labels on them, and exposure to each risk category
    /// within N hops back, with the evidence path. A file argument is a batch (one per line).
    Screen {
        /// Addresses, txids, or files of them.
        #[arg(required = true, value_name = "ADDRESS|TXID|FILE")]
        targets: Vec<String>,
        /// Hops back to search (at least 1).
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
        hops: u32,
        /// Shares of the screened value below this are not followed.
        #[arg(long, default_value_t = 0.0001)]
        min_share: f64,
        /// Transactions followed at most per target.
        #[arg(long, default_value_t = 50_000)]
        max_txs: usize,
        /// For an address: newest receipts screened (at least 1).
        #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..))]
        max_receipts: u64,
        /// Ignore labels of an address's entity (cluster); only its own count.
        #[arg(long)]
        no_lift: bool,
        /// Ignore labels below this confidence (0-100; GraphSense levels: web_crawl 20,
        /// forensic 50, authority_data 60, ownership 100).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
        min_confidence: u8,
        /// Severity rules file (format in docs/intel.md) [default: built-in rules].
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
        #[command(flatten)]
        output: output::OutputArgs,
    },
    /// Every resolved input as TSV (for checking against Bitcoin Core's undo data).
    #[command(hide = true)]
    ExportPrevouts,
}

#[derive(Subcommand)]
enum LabelsCmd {
    /// Import label files, each recognised by its content: OFAC SDN.CSV with SDN_COMMENTS.CSV,
    /// OFAC advanced XML, per-asset address lists, GraphSense TagPacks, incident CSVs, your own
    /// CSV (address,label,category[,chain,source,date,confidence]). All or nothing; a file
    /// imported again replaces its earlier labels.
    Import {
        /// Files to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Import the valid records of files with invalid ones (and report what was skipped).
        #[arg(long)]
        skip_invalid: bool,
        /// JSON report.
        #[arg(long)]
        json: bool,
    },
    /// Summary by file and category; with a filter or --address, the labels.
    List {
        #[command(flatten)]
        filter: intel::Filter,
        /// Labels of this address or txid.
        #[arg(long)]
        address: Option<String>,
        #[command(flatten)]
        page: Page,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Export labels as a GraphSense TagPack (YAML) or CSV.
    Export {
        #[command(flatten)]
        filter: intel::Filter,
        /// tagpack or csv.
        #[arg(long, default_value = "tagpack")]
        format: String,
        /// Write to this file instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Remove the labels imported from a file (its name as `labels list` shows it).
    Remove {
        /// File name.
        file: String,
    },
    /// Entities (clusters) labelled as two different services: likely false merges.
    Conflicts {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

/// Paging of a long list.
#[derive(clap::Args)]
struct Page {
    /// Entries to show.
    #[arg(long, default_value_t = 25)]
    limit: usize,
    /// Entries to skip.
    #[arg(long, default_value_t = 0)]
    offset: usize,
}

#[derive(Subcommand)]
enum MailCmd {
    /// Judge messages: .eml files, mboxes, maildirs or folders of them.
    Scan {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Trust the Authentication-Results headers of this server (your own MX).
        #[arg(long, value_name = "ID")]
        authserv_id: Option<String>,
        /// Your own domains, protected from lookalikes besides the built-in brands.
        #[arg(long, value_delimiter = ',', value_name = "DOMAINS")]
        protect: Vec<String>,
        /// DNS TXT records (DKIM keys, DMARC policies) to verify DKIM and DMARC against,
        /// offline: one `NAME [TTL] [IN] TXT "..."` per line, zone-file style (docs/mail.md).
        #[arg(long, value_name = "FILE")]
        dns: Option<PathBuf>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum CaseCmd {
    /// The saved cases.
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Re-trace saved cases on the current index and report new movements of their coins.
    Watch {
        /// Cases [default: all].
        names: Vec<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum EvalCmd {
    /// Pairwise precision, recall, F1, purity and the largest wrong merge, for multi-input
    /// clustering alone and with each change heuristic.
    Clustering {
        /// The truth folder of `chainhound simulate` (DIR/truth) for the indexed chain.
        #[arg(long, value_name = "DIR")]
        truth: PathBuf,
        /// Heuristics to measure (default: each of them).
        #[arg(long, value_delimiter = ',')]
        change: Vec<String>,
        /// Collapse guard threshold.
        #[arg(long, default_value_t = 10_000)]
        guard: u32,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Phishing recall at a false-positive rate on labelled mail, after removing the
    /// corpus's label leaks, on a development and a never-tuned test half.
    Mail {
        /// Folder of phishing messages.
        #[arg(long, value_name = "DIR")]
        phish: PathBuf,
        /// Folder of legitimate messages.
        #[arg(long, value_name = "DIR")]
        ham: PathBuf,
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Also write each message as judged (leaks neutralised) to DIR/{phish,ham}/{dev,test}/
        /// and the scores to DIR/chainhound.tsv, to run another engine on the same set.
        #[arg(long, value_name = "DIR")]
        export: Option<PathBuf>,
    },
    /// Recall of the heist's cash-out deposits and of the stolen amount at each, per
    /// policy and CoinJoin mode, with any exchange named wrongly.
    Trace {
        /// The truth folder of `chainhound simulate` (DIR/truth) for the indexed chain.
        #[arg(long, value_name = "DIR")]
        truth: PathBuf,
        /// Policies to measure [default: all].
        #[arg(long, value_delimiter = ',', value_parser = parse_policy)]
        policy: Vec<chainhound_trace::Policy>,
        /// CoinJoin modes to measure: stop, share, follow [default: all three].
        #[arg(long, value_delimiter = ',', value_parser = parse_coinjoin)]
        coinjoin: Vec<chainhound_trace::CoinJoinMode>,
        /// Hop limit.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
        hops: u32,
        /// Dust floor in satoshis.
        #[arg(long, default_value_t = 1_000)]
        dust: u64,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

fn parse_policy(s: &str) -> std::result::Result<chainhound_trace::Policy, String> {
    chainhound_trace::Policy::parse(s)
        .ok_or_else(|| format!("unknown policy '{s}': poison, haircut or fifo"))
}

fn parse_coinjoin(s: &str) -> std::result::Result<chainhound_trace::CoinJoinMode, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "stop" => Ok(chainhound_trace::CoinJoinMode::Stop),
        "share" => Ok(chainhound_trace::CoinJoinMode::Share),
        "follow" => Ok(chainhound_trace::CoinJoinMode::Follow),
        _ => Err(format!(
            "unknown CoinJoin mode '{s}': share, stop or follow"
        )),
    }
}

fn default_index() -> PathBuf {
    if let Some(p) = std::env::var_os("CHAINHOUND_INDEX") {
        return PathBuf::from(p);
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("chainhound").join("index")
}

/// Outcome of a command that can find nothing.
enum Found {
    Yes,
    No,
}

fn main() -> ExitCode {
    // A closed pipe (`chainhound mail scan DIR | head`) ends the program
    // quietly, as it ends `cat` and `grep`: Rust ignores SIGPIPE, and
    // every `println!` would then panic on the closed pipe.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to the default, before any
    // thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(Found::Yes) => ExitCode::SUCCESS,
        Ok(Found::No) => ExitCode::from(1),
        Err(e) => {
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("chainhound: error: {e:#}");
            let store_error = e.chain().find_map(|c| {
                c.downcast_ref::<chainhound_index::store::StoreError>()
                    .or_else(|| {
                        c.downcast_ref::<chainhound_index::ingest::IngestError>()?
                            .store()
                    })
            });
            if store_error.is_some_and(|s| s.is_disk_full()) {
                eprintln!(
                    "chainhound: the disk is full: free some space and run the same command again; \
                     the index keeps what it committed and goes on from there"
                );
            } else if store_error.is_some_and(|s| s.is_file_too_large()) {
                eprintln!(
                    "chainhound: an index file would pass the largest file size allowed here \
                     (`ulimit -f`, or a file system such as FAT32): put the index on another \
                     file system (--index DIR)"
                );
            }
            ExitCode::from(2)
        }
    }
}

fn open_index(dir: &Path) -> Result<Store> {
    Store::open(dir).with_context(|| format!("opening index {}", dir.display()))
}

/// The pool list of `--pools FILE`, else of `$CHAINHOUND_POOLS`, if any;
/// tags it cannot use are printed as warnings.
fn load_pools(arg: Option<PathBuf>) -> Result<Option<PoolList>> {
    let env = || std::env::var_os("CHAINHOUND_POOLS").filter(|p| !p.is_empty());
    let Some(path) = arg.or_else(|| env().map(PathBuf::from)) else {
        return Ok(None);
    };
    let list = PoolList::load(&path)?;
    for w in list.warnings() {
        eprintln!("chainhound: warning: {}: {w}", path.display());
    }
    Ok(Some(list))
}

fn found(yes: bool) -> Found {
    if yes {
        Found::Yes
    } else {
        Found::No
    }
}

fn run(cli: Cli) -> Result<Found> {
    let index = cli.index.unwrap_or_else(default_index);
    match cli.cmd {
        Cmd::Ingest {
            datadir,
            blocks,
            network,
            max_height,
            commit_every,
            spend_cache_mb,
            table_batch,
            parse_threads,
            json,
            quiet,
        } => {
            let source = match (&datadir, &blocks) {
                (Some(d), _) => Source::datadir(d)?,
                (None, Some(b)) => Source::path(b)?,
                _ => bail!("give --datadir or --blocks"),
            };
            let network = network
                .map(|n| {
                    Network::from_name(&n).with_context(|| {
                        format!(
                            "unknown network {n:?} (mainnet, testnet3, testnet4, signet, regtest)"
                        )
                    })
                })
                .transpose()?;
            let opts = IngestOptions {
                network,
                max_height,
                commit_every_blocks: commit_every,
                spend_cache_bytes: spend_cache_mb.saturating_mul(1 << 20),
                max_held: table_batch,
                parse_threads: parse_threads.unwrap_or(0),
                ..Default::default()
            };
            let mut bar = Bar::new(quiet || json);
            let report = ingest(&source, &index, &opts, &mut bar)?;
            bar.finish();
            output::ingest_report(&report, &index, json)?;
            entity::refresh_after_ingest(&index, quiet || json)?;
            trace::watch_after_ingest(&index);
            Ok(Found::Yes)
        }
        Cmd::Block { id, json, pools } => {
            let pools = load_pools(pools)?;
            let store = open_index(&index)?;
            let q = Query::new(&store);
            let view = if let Ok(h) = id.parse::<u32>() {
                q.block(h)
            } else {
                let hash: BlockHash = id
                    .parse()
                    .with_context(|| format!("{id:?} is neither a height nor a block hash"))?;
                q.block_by_hash(&hash)
            };
            match view {
                Some(b) => {
                    let miner = pools.as_ref().and_then(|l| l.block(&store, b.height));
                    output::block(&b, miner.as_ref(), json)?
                }
                None => {
                    eprintln!(
                        "chainhound: block {id} is not in the index ({} blocks)",
                        store.counts().blocks
                    );
                    return Ok(Found::No);
                }
            }
            Ok(Found::Yes)
        }
        Cmd::Tx { txid, json } => {
            let store = open_index(&index)?;
            let id: Txid = txid
                .parse()
                .with_context(|| format!("{txid:?} is not a txid"))?;
            match Query::new(&store).tx(&id) {
                Some(t) => {
                    let mut d = chainhound_entities::coinjoin::Detector::new(Default::default());
                    let cj = d.classify_tx(&store, chainhound_index::store::TxNum(t.tx_num));
                    output::tx(&t, cj.as_ref(), json)?
                }
                None => {
                    eprintln!("chainhound: transaction {id} is not in the index");
                    return Ok(Found::No);
                }
            }
            Ok(Found::Yes)
        }
        Cmd::Address {
            address,
            page: Page { limit, offset },
            json,
        } => {
            let store = open_index(&index)?;
            let q = Query::new(&store);
            match q.find_address(&address)? {
                Some((a, _)) => output::address(&q.address(a, offset, limit), json)?,
                None => {
                    eprintln!("chainhound: address {address} never appears in the indexed chain");
                    return Ok(Found::No);
                }
            }
            Ok(Found::Yes)
        }
        Cmd::Labels { what } => match what {
            LabelsCmd::Import {
                files,
                skip_invalid,
                json,
            } => {
                intel::import(&index, &files, skip_invalid, json)?;
                Ok(Found::Yes)
            }
            LabelsCmd::List {
                filter,
                address,
                page,
                json,
            } => Ok(found(intel::list(
                &index,
                &filter,
                address.as_deref(),
                page.limit,
                page.offset,
                json,
            )?)),
            LabelsCmd::Export {
                filter,
                format,
                out,
            } => {
                intel::export(&index, &filter, &format, out.as_deref())?;
                Ok(Found::Yes)
            }
            LabelsCmd::Remove { file } => Ok(found(intel::remove(&index, &file)?)),
            LabelsCmd::Conflicts { json } => {
                let store = open_index(&index)?;
                intel::conflicts(&index, &store, json)?;
                Ok(Found::Yes)
            }
        },
        Cmd::Screen {
            targets,
            hops,
            min_share,
            max_txs,
            max_receipts,
            no_lift,
            min_confidence,
            rules,
            output,
        } => {
            if !(0.0..=1.0).contains(&min_share) {
                bail!("--min-share {min_share} is not between 0 and 1");
            }
            let opts = chainhound_intel::screen::Options {
                hops,
                min_share,
                max_txs,
                max_receipts: max_receipts as usize,
                lift: !no_lift,
                min_confidence,
            };
            Ok(found(intel::screen(
                &index,
                intel::ScreenArgs {
                    targets,
                    opts,
                    rules,
                    output,
                },
            )?))
        }
        Cmd::Stats { json } => {
            let store = open_index(&index)?;
            output::stats(&Query::new(&store).stats(), &index, json)?;
            Ok(Found::Yes)
        }
        Cmd::Scan { files, json, pools } => {
            let pools = load_pools(pools)?;
            let mut all = Vec::new();
            let mut warnings = Vec::new();
            for f in &files {
                let source = Source::path(f)?;
                warnings.extend(scan(&source, |b| all.push(b)));
            }
            for w in &warnings {
                eprintln!("chainhound: warning: {w}");
            }
            let miners: Option<Vec<_>> = pools.as_ref().map(|l| {
                all.iter()
                    .map(|b| {
                        let script = from_hex(&b.coinbase_hex).unwrap_or_default();
                        l.attribute(&script, &b.payout_addresses)
                    })
                    .collect()
            });
            output::scan(&all, miners.as_deref(), json)?;
            Ok(if all.is_empty() {
                Found::No
            } else {
                Found::Yes
            })
        }
        Cmd::Simulate {
            out,
            seed,
            blocks,
            users,
            txs,
            no_heist,
            no_xor,
            threads,
            json,
            quiet,
        } => {
            let mut params = chainhound_sim::economy::Params::sized(seed, blocks, users, txs)
                .map_err(anyhow::Error::msg)?;
            params.heist = !no_heist;
            params.threads = threads.unwrap_or(0);
            simulate::run(params, &out, !no_xor, json, quiet)?;
            Ok(Found::Yes)
        }
        Cmd::Demo { seed, keep } => {
            demo::run(seed, keep)?;
            Ok(Found::Yes)
        }
        Cmd::Cluster {
            guard,
            change,
            keep_coinjoins,
            json,
        } => {
            let store = open_index(&index)?;
            let opts = chainhound_entities::cluster::ClusterOptions {
                guard,
                change,
                skip_coinjoins: !keep_coinjoins,
            };
            entity::cluster_cmd(&index, &store, &opts, json)?;
            Ok(Found::Yes)
        }
        Cmd::Entity {
            who,
            page: Page { limit, offset },
            json,
        } => {
            let store = open_index(&index)?;
            Ok(
                if entity::entity_cmd(&index, &store, &who, offset, limit, json)? {
                    Found::Yes
                } else {
                    Found::No
                },
            )
        }
        Cmd::Trace {
            seeds,
            incidents,
            incident,
            backward,
            policy,
            coinjoin,
            hops,
            dust,
            until,
            no_peel,
            stop_at,
            no_lift,
            min_confidence,
            max_txs,
            output,
            save,
            quiet,
        } => {
            let mut opts = chainhound_trace::Options {
                policy,
                coinjoin,
                hops,
                dust_sat: dust,
                peel: !no_peel,
                lift: !no_lift,
                min_confidence,
                max_txs: max_txs as usize,
                direction: if backward {
                    chainhound_trace::Direction::Backward
                } else {
                    chainhound_trace::Direction::Forward
                },
                ..Default::default()
            };
            if !stop_at.is_empty() {
                opts.stop_at = stop_at
                    .iter()
                    .map(|c| {
                        chainhound_intel::label::Category::from_concept(c)
                            .with_context(|| format!("unknown category '{c}' in --stop-at"))
                    })
                    .collect::<Result<_>>()?;
            }
            Ok(found(trace::trace_cmd(
                &index,
                trace::TraceArgs {
                    seeds,
                    incidents,
                    incident,
                    opts,
                    until,
                    output,
                    save,
                    quiet,
                },
            )?))
        }
        Cmd::Mail {
            what:
                MailCmd::Scan {
                    paths,
                    authserv_id,
                    protect,
                    dns,
                    json,
                },
        } => {
            let opts = chainhound_mail::analyze::Options {
                authserv_id,
                protected: chainhound_mail::lookalike::Protected::with(&protect),
                dns: dns.as_deref().map(mail::load_dns).transpose()?,
            };
            Ok(found(mail::scan(&index, &paths, &opts, json)?))
        }
        Cmd::Eval {
            what:
                EvalCmd::Mail {
                    phish,
                    ham,
                    json,
                    export,
                },
        } => {
            mail::eval(&phish, &ham, &Default::default(), json, export.as_deref())?;
            Ok(Found::Yes)
        }
        Cmd::Case {
            what: CaseCmd::List { json },
        } => {
            trace::case_list(&index, json)?;
            Ok(Found::Yes)
        }
        Cmd::Case {
            what: CaseCmd::Watch { names, json },
        } => {
            let store = open_index(&index)?;
            trace::case_watch(&index, &store, &names, json)?;
            Ok(Found::Yes)
        }
        Cmd::Eval {
            what:
                EvalCmd::Clustering {
                    truth,
                    change,
                    guard,
                    json,
                },
        } => {
            let store = open_index(&index)?;
            let base = chainhound_entities::cluster::ClusterOptions {
                guard,
                ..Default::default()
            };
            entity::eval_cmd(&store, &truth, &base, &change, json)?;
            Ok(Found::Yes)
        }
        Cmd::Eval {
            what:
                EvalCmd::Trace {
                    truth,
                    policy,
                    coinjoin,
                    hops,
                    dust,
                    json,
                },
        } => {
            let store = open_index(&index)?;
            let policies = if policy.is_empty() {
                chainhound_trace::Policy::ALL.to_vec()
            } else {
                policy
            };
            let modes = if coinjoin.is_empty() {
                vec![
                    chainhound_trace::CoinJoinMode::Stop,
                    chainhound_trace::CoinJoinMode::Share,
                    chainhound_trace::CoinJoinMode::Follow,
                ]
            } else {
                coinjoin
            };
            let base = chainhound_trace::Options {
                hops,
                dust_sat: dust,
                ..Default::default()
            };
            trace::eval_cmd(&store, &truth, &base, &policies, &modes, json)?;
            Ok(Found::Yes)
        }
        Cmd::Miners {
            pools,
            from,
            to,
            json,
        } => {
            let Some(list) = load_pools(pools)? else {
                bail!("give --pools FILE (mempool's pools-v2.json) or set CHAINHOUND_POOLS");
            };
            let store = open_index(&index)?;
            let (from, to) = (from.unwrap_or(0), to.unwrap_or(u32::MAX));
            if from > to {
                bail!("--from {from} is above --to {to}");
            }
            let blocks = store.counts().blocks;
            if from >= blocks {
                eprintln!(
                    "chainhound: no block at height {from} or above: the index holds {blocks}"
                );
                return Ok(Found::No);
            }
            // With clusters, untagged unknown miners group by payout entity.
            let clusters = chainhound_entities::cluster::Clusters::open(
                &chainhound_entities::cluster::clusters_dir(&index),
            )
            .ok();
            let entity_of = |addr: &str| -> Option<u32> {
                let c = clusters.as_ref()?;
                let key = chainhound_chain::address::decode(addr, store.network()).ok()?;
                let a = store.find_addr(&key)?;
                ((a.0 as u64) < c.state.addrs).then(|| c.root_of(a.0))
            };
            let f: &dyn Fn(&str) -> Option<u32> = &entity_of;
            output::miners(&list.shares_with(&store, from..=to, Some(f)), json)?;
            Ok(Found::Yes)
        }
        Cmd::ExportPrevouts => {
            let store = open_index(&index)?;
            output::prevouts(&Query::new(&store).prevouts())?;
            Ok(Found::Yes)
        }
    }
}

/// The ingest progress bar: blocks/s, MB/s and ETA.
struct Bar {
    bar: Option<ProgressBar>,
    bytes: u64,
    started: std::time::Instant,
}

impl Bar {
    fn new(hidden: bool) -> Bar {
        Bar {
            bar: (!hidden).then(|| {
                let b = ProgressBar::new_spinner();
                b.enable_steady_tick(Duration::from_millis(200));
                b
            }),
            bytes: 0,
            started: std::time::Instant::now(),
        }
    }

    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn start(&mut self, blocks: u64, _bytes: u64) {
        self.started = std::time::Instant::now();
        if let Some(b) = &self.bar {
            b.set_length(blocks);
            b.set_message("");
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} blocks  {msg}  ETA {eta}",
                )
                .expect("valid template"),
            );
        }
    }

    fn block(&mut self, bytes: u64) {
        self.bytes += bytes;
        if let Some(b) = &self.bar {
            b.inc(1);
            if b.position() % 16 == 0 || b.position() == b.length().unwrap_or(0) {
                let secs = self.started.elapsed().as_secs_f64().max(1e-3);
                b.set_message(format!(
                    "{:.0} blocks/s  {:.2} MB/s",
                    b.position() as f64 / secs,
                    self.bytes as f64 / 1e6 / secs
                ));
            }
        }
    }

    fn message(&mut self, msg: &str) {
        if let Some(b) = &self.bar {
            b.set_message(msg.to_string());
        }
    }

    fn warn(&mut self, msg: &str) {
        // Shown now (above the bar, if any), not with the report's warnings.
        let say = || eprintln!("chainhound: warning: {msg}");
        match &self.bar {
            Some(b) => b.suspend(say),
            None => say(),
        }
    }
}

/// Runs an ingest for the demo with no bar.
pub(crate) fn ingest_quiet(source: &Source, index: &Path) -> Result<IngestReport> {
    let mut bar = Bar::new(true);
    Ok(ingest(source, index, &IngestOptions::default(), &mut bar)?)
}
