//! The header tree of everything found in the block files, and the chain
//! with the most work through it.
//!
//! Owns: linking headers by their previous-block hash, cumulative work from
//! `nBits`, choosing the most-work chain from a genesis block (stale forks
//! and blocks whose parents are missing are left out and counted), and
//! remembering every place a block was found, so a damaged copy can be
//! passed over for a good one.

use crate::headercache::HeaderCache;
use crate::source::{Record, Source, Warning};
use chainhound_chain::parse::{check_pow, work_from_bits};
use chainhound_chain::{BlockHash, Header, Network};
use std::collections::HashMap;

/// Where a block's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockLoc {
    /// Index into [`Source::files`].
    pub file: u32,
    /// The record.
    pub record: Record,
}

/// One block of the header tree.
#[derive(Debug, Clone)]
pub struct Node {
    /// Block hash.
    pub hash: BlockHash,
    /// The header.
    pub header: Header,
    /// Every copy found.
    pub locs: Vec<BlockLoc>,
    /// Transactions, as the block's count varint says (the smallest over
    /// its copies, each capped by what its size can hold): an estimate for
    /// sizing tables, never trusted for content.
    pub tx_count: u64,
}

/// Every valid header found, linked by previous hash.
#[derive(Default)]
pub struct HeaderTree {
    /// Nodes in the order first found.
    pub nodes: Vec<Node>,
    by_hash: HashMap<BlockHash, u32>,
    /// The network of the blocks kept.
    pub network: Option<Network>,
    /// Problems met while reading.
    pub warnings: Vec<Warning>,
    /// Records of other networks than the one kept.
    pub foreign_records: u64,
}

/// The chosen chain.
#[derive(Debug, Clone)]
pub struct BestChain {
    /// Node indexes from genesis (height 0) to the tip.
    pub nodes: Vec<u32>,
    /// Total expected work of the chain.
    pub work: u128,
    /// Headers in the tree that are not on the chain but connect to it (stale forks).
    pub stale: usize,
    /// Headers whose ancestry does not reach a genesis block.
    pub orphans: usize,
}

impl HeaderTree {
    /// Reads the headers of every record of `source`. `network`: keep only
    /// this network (default: the network of the first record).
    pub fn scan(source: &Source, network: Option<Network>) -> HeaderTree {
        Self::scan_cached(source, network, &mut HeaderCache::empty())
    }

    /// As [`HeaderTree::scan`], walking each file only from where `cache`
    /// says the last walk may resume (the same tree, warnings included).
    pub fn scan_cached(
        source: &Source,
        network: Option<Network>,
        cache: &mut HeaderCache,
    ) -> HeaderTree {
        let mut tree = HeaderTree {
            network,
            ..Default::default()
        };
        for (fi, file) in source.files.iter().enumerate() {
            let (recs, w) = cache.walk(file);
            tree.warnings.extend(w);
            for s in recs {
                let r = s.record;
                let net = *tree.network.get_or_insert(r.network);
                if r.network != net {
                    tree.foreign_records += 1;
                    continue;
                }
                let Some(hb) = s.header else {
                    continue;
                };
                let header = Header::parse(&hb).expect("80 bytes");
                let hash = Header::hash_of(&hb);
                let tx_count = s.tx_count.min(r.size as u64 / 10);
                if !check_pow(&hash, header.bits, net.pow_limit_bits()) {
                    tree.warnings.push(Warning {
                        file: file.path.clone(),
                        offset: r.offset - 8,
                        message: format!("block header {hash} fails its proof of work; skipped"),
                    });
                    continue;
                }
                tree.add(
                    hash,
                    header,
                    BlockLoc {
                        file: fi as u32,
                        record: r,
                    },
                    tx_count,
                );
            }
        }
        tree
    }

    fn add(&mut self, hash: BlockHash, header: Header, loc: BlockLoc, tx_count: u64) {
        if let Some(&i) = self.by_hash.get(&hash) {
            let n = &mut self.nodes[i as usize];
            n.locs.push(loc);
            n.tx_count = n.tx_count.min(tx_count);
            return;
        }
        self.by_hash.insert(hash, self.nodes.len() as u32);
        self.nodes.push(Node {
            hash,
            header,
            locs: vec![loc],
            tx_count,
        });
    }

    /// The node of a hash.
    pub fn get(&self, hash: &BlockHash) -> Option<&Node> {
        self.by_hash.get(hash).map(|&i| &self.nodes[i as usize])
    }

    /// The chain with the most cumulative work that starts at a genesis
    /// block (previous hash zero). Ties go to the tip found first.
    pub fn best_chain(&self) -> BestChain {
        let n = self.nodes.len();
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut roots = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            if node.header.prev.is_zero() {
                roots.push(i as u32);
            } else if let Some(&p) = self.by_hash.get(&node.header.prev) {
                children[p as usize].push(i as u32);
            }
        }
        let mut work = vec![0u128; n];
        let mut parent = vec![u32::MAX; n];
        let mut reached = 0usize;
        let mut best: Option<u32> = None;
        let mut stack = roots.clone();
        for &r in &roots {
            work[r as usize] = work_from_bits(self.nodes[r as usize].header.bits);
        }
        while let Some(i) = stack.pop() {
            reached += 1;
            let better = match best {
                None => true,
                Some(b) => {
                    work[i as usize] > work[b as usize]
                        || (work[i as usize] == work[b as usize] && i < b)
                }
            };
            if better {
                best = Some(i);
            }
            for &c in &children[i as usize] {
                work[c as usize] = work[i as usize]
                    .saturating_add(work_from_bits(self.nodes[c as usize].header.bits));
                parent[c as usize] = i;
                stack.push(c);
            }
        }
        let mut chain = Vec::new();
        let mut cur = best;
        while let Some(i) = cur {
            chain.push(i);
            cur = (parent[i as usize] != u32::MAX).then(|| parent[i as usize]);
        }
        chain.reverse();
        BestChain {
            work: best.map_or(0, |b| work[b as usize]),
            stale: reached - chain.len(),
            orphans: n - reached,
            nodes: chain,
        }
    }
}
