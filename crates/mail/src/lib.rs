//! # chainhound-mail: is this email a phishing attempt?
//!
//! Judges a message before anyone opens it, offline: it never fetches a
//! URL, resolves a name or runs anything found in the mail. Owns reading
//! messages ([`source`]: files, mboxes, maildirs), judging one
//! ([`analyze`]: the rules, the score, the verdict), its indicators
//! ([`indicators`]: links, hosts, crypto addresses), the evidence
//! vocabulary ([`evidence`]), lookalike domains of protected brands
//! ([`lookalike`]), the original a forward quotes ([`forward`]) and
//! attachment inspection ([`attach`]).
//!
//! Must not: touch the index (the caller links the Bitcoin addresses found
//! to the chain).

pub mod analyze;
pub mod attach;
/// Authentication: trusted Authentication-Results, offline DKIM, DMARC alignment.
pub mod auth;
pub mod content;
pub mod eval;
pub mod evidence;
pub mod forward;
pub mod indicators;
pub mod lookalike;
pub mod source;

pub use evidence::{Evidence, Verdict};
