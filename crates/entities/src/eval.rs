//! Clustering measured against ground truth: pairwise precision, recall
//! and F1, cluster purity, and the largest wrong merge.
//!
//! Over the addresses present in both the clustering and the truth:
//! a pair of addresses is predicted together when it shares a cluster and
//! truly together when it shares an owner. With `n[c][e]` addresses of
//! cluster `c` owned by entity `e`: true positives are Σ C(n[c][e], 2),
//! predicted pairs Σ_c C(|c|, 2), true pairs Σ_e C(|e|, 2). Purity is the
//! share of addresses whose cluster's majority owner is their owner. A
//! wrong merge is a cluster holding addresses of two entities; its size is
//! the smaller of the two largest owners' address counts in it.
//!
//! Must not: read the index or the truth files (callers pass pairs).

use serde::Serialize;
use std::collections::HashMap;

/// The figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Eval {
    /// Addresses measured.
    pub addresses: u64,
    /// Clusters among them.
    pub clusters: u64,
    /// True entities among them.
    pub entities: u64,
    /// Pairwise precision.
    pub precision: f64,
    /// Pairwise recall.
    pub recall: f64,
    /// Pairwise F1.
    pub f1: f64,
    /// Cluster purity.
    pub purity: f64,
    /// The largest wrong merge: (cluster, first entity and its addresses
    /// there, second entity and its addresses there).
    pub largest_wrong_merge: Option<WrongMerge>,
    /// Clusters holding more than one entity.
    pub wrong_clusters: u64,
}

/// A cluster that joins two true entities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WrongMerge {
    /// The cluster (its root address id).
    pub cluster: u32,
    /// The entity with most addresses in it, and how many.
    pub first: (u32, u64),
    /// The second, and how many.
    pub second: (u32, u64),
}

impl WrongMerge {
    /// The size of the merge: the second entity's addresses.
    pub fn size(&self) -> u64 {
        self.second.1
    }
}

fn pairs(n: u64) -> f64 {
    (n as f64) * (n.saturating_sub(1) as f64) / 2.0
}

/// Measures clusters against owners from `(cluster, entity)` per address.
pub fn evaluate(items: impl IntoIterator<Item = (u32, u32)>) -> Eval {
    let mut cell: HashMap<(u32, u32), u64> = HashMap::new();
    let mut per_cluster: HashMap<u32, u64> = HashMap::new();
    let mut per_entity: HashMap<u32, u64> = HashMap::new();
    let mut n = 0u64;
    for (c, e) in items {
        *cell.entry((c, e)).or_default() += 1;
        *per_cluster.entry(c).or_default() += 1;
        *per_entity.entry(e).or_default() += 1;
        n += 1;
    }
    let tp: f64 = cell.values().map(|&k| pairs(k)).sum();
    let pred: f64 = per_cluster.values().map(|&k| pairs(k)).sum();
    let truth: f64 = per_entity.values().map(|&k| pairs(k)).sum();
    let precision = if pred > 0.0 { tp / pred } else { 1.0 };
    let recall = if truth > 0.0 { tp / truth } else { 1.0 };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    // Per cluster: its two largest owners.
    let mut top: HashMap<u32, [(u32, u64); 2]> = HashMap::new();
    for (&(c, e), &k) in &cell {
        let t = top.entry(c).or_insert([(u32::MAX, 0); 2]);
        if (k, std::cmp::Reverse(e)) > (t[0].1, std::cmp::Reverse(t[0].0)) {
            t[1] = t[0];
            t[0] = (e, k);
        } else if (k, std::cmp::Reverse(e)) > (t[1].1, std::cmp::Reverse(t[1].0)) {
            t[1] = (e, k);
        }
    }
    let majority: u64 = top.values().map(|t| t[0].1).sum();
    let mut wrong = top.iter().filter(|(_, t)| t[1].1 > 0).collect::<Vec<_>>();
    wrong.sort_by_key(|(c, t)| (std::cmp::Reverse(t[1].1), **c));
    Eval {
        addresses: n,
        clusters: per_cluster.len() as u64,
        entities: per_entity.len() as u64,
        precision,
        recall,
        f1,
        purity: if n > 0 {
            majority as f64 / n as f64
        } else {
            1.0
        },
        wrong_clusters: wrong.len() as u64,
        largest_wrong_merge: wrong.first().map(|(c, t)| WrongMerge {
            cluster: **c,
            first: t[0],
            second: t[1],
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_split_and_merged() {
        // Truth: entity 1 owns 3 addresses, entity 2 owns 2.
        let perfect = evaluate([(10, 1), (10, 1), (10, 1), (20, 2), (20, 2)]);
        assert_eq!(
            (perfect.precision, perfect.recall, perfect.purity),
            (1.0, 1.0, 1.0)
        );
        assert!(perfect.largest_wrong_merge.is_none());
        // All singletons: precise, no recall.
        let single = evaluate([(1, 1), (2, 1), (3, 1), (4, 2), (5, 2)]);
        assert_eq!((single.precision, single.recall), (1.0, 0.0));
        // One cluster: 4 of 10 pairs right; purity 3/5.
        let merged = evaluate([(9, 1), (9, 1), (9, 1), (9, 2), (9, 2)]);
        assert!((merged.precision - 0.4).abs() < 1e-12);
        assert_eq!(merged.recall, 1.0);
        assert!((merged.purity - 0.6).abs() < 1e-12);
        let w = merged.largest_wrong_merge.unwrap();
        assert_eq!((w.first, w.second, w.size()), ((1, 3), (2, 2), 2));
    }
}
