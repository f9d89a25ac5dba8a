//! The vocabulary of a judgement: a piece of evidence (the rule that fired,
//! its weight, plain words) and the verdict a score gives.
//!
//! Owns [`Evidence`], [`Verdict`] and the thresholds. Must not: look at a
//! message.

use serde::Serialize;

/// One rule that fired on a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Stable rule id, `area.name` (`sender.reply_to_differs`).
    pub rule: &'static str,
    /// Points it adds to the score (negative: evidence of legitimacy).
    pub weight: i32,
    /// What was seen, in plain words, naming the header, link or file.
    pub words: String,
}

impl Evidence {
    /// Evidence of `rule` with `weight`, described by `words`.
    pub fn new(rule: &'static str, weight: i32, words: impl Into<String>) -> Evidence {
        Evidence {
            rule,
            weight,
            words: words.into(),
        }
    }
}

/// The judgement of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing of note.
    Clean,
    /// Some signals; a human should look.
    Suspicious,
    /// Phishing: do not open, report.
    Phishing,
}

/// Scores at or above this are phishing.
pub const PHISHING_AT: i32 = 10;
/// Scores at or above this (and below [`PHISHING_AT`]) are suspicious.
pub const SUSPICIOUS_AT: i32 = 5;

impl Verdict {
    /// The verdict of a score.
    pub fn of(score: i32) -> Verdict {
        if score >= PHISHING_AT {
            Verdict::Phishing
        } else if score >= SUSPICIOUS_AT {
            Verdict::Suspicious
        } else {
            Verdict::Clean
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Clean => "clean",
            Verdict::Suspicious => "suspicious",
            Verdict::Phishing => "phishing",
        }
    }
}
