//! # chainhound-intel: what is known about addresses, and what a deposit is exposed to
//!
//! Owns the intelligence layer:
//! - [`label`]: the vocabulary (risk categories, subjects, confidence);
//! - [`formats`]: readers for OFAC SDN (CSV with comments, advanced XML,
//!   per-asset lists), GraphSense TagPacks (read and export), incident
//!   files and users' own CSV, recognised by content;
//! - [`book`]: the label store in `INDEX/labels/` (atomic imports, exact
//!   lookups);
//! - [`resolve`]: labels placed on the index's addresses and transactions,
//!   lifted to entities (clusters), conflicting services flagged;
//! - [`screen`]: exposure of an address or deposit to each category within
//!   N hops back, with evidence paths;
//! - [`severity`]: the rules that turn findings into severities.
//!
//! Must not: write the index's or the clusters' files (it reads them
//! through `chainhound_index::store::Store` and
//! `chainhound_entities::cluster::Clusters`), fetch anything named in a
//! label (URLs are kept as text), or print.
#![deny(missing_docs)]

pub mod book;
pub mod formats;
pub mod label;
pub mod resolve;
pub mod screen;
pub mod severity;
