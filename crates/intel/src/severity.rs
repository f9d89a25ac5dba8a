//! Severity of a finding, by rules: category, how it was reached (a label
//! on the screened subject itself, direct or indirect exposure), share and
//! amount.
//!
//! Owns [`Rules`] (a plain rules file, first matching line wins) and
//! [`DEFAULT_RULES`]. The file format, one rule per line, `#` comments:
//! ```text
//! # category    reach     min-share  min-btc  severity
//! sanctions     hit       0          0        severe
//! sanctions     indirect  0.10       0        high
//! *             any       0          0        none
//! ```
//! `reach` is `hit` (the subject or its entity is labelled), `direct` (the
//! funds came straight from a labelled address), `indirect` (two or more
//! hops back) or `any`; `*` matches every category; `none` means no
//! severity (the finding is shown but raises nothing).
//!
//! Must not: compute exposure.

use crate::label::{Category, Problem};
use serde::Serialize;
use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look.
    Low,
    /// Review before crediting.
    Medium,
    /// Hold and review.
    High,
    /// Block and report (sanctions).
    Severe,
}

impl Severity {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Severe => "severe",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a finding reached the screened subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reach {
    /// The subject itself (or its entity) carries the label.
    Hit,
    /// The funds came straight from a labelled address (one hop).
    Direct,
    /// Two or more hops back.
    Indirect,
}

impl Reach {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Reach::Hit => "hit",
            Reach::Direct => "direct",
            Reach::Indirect => "indirect",
        }
    }
}

/// One rule line.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// `None` for `*`.
    pub category: Option<Category>,
    /// `None` for `any`.
    pub reach: Option<Reach>,
    /// Least share of the screened value, 0 to 1.
    pub min_share: f64,
    /// Least amount, satoshis.
    pub min_sat: u64,
    /// `None` for `none`.
    pub severity: Option<Severity>,
    /// Line in its file.
    pub line: u64,
}

/// The rules, in order.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Rules; the first that matches decides.
    pub rules: Vec<Rule>,
    /// Where they come from (`built-in` or a path).
    pub origin: String,
}

/// The built-in rules: sanctions, terrorism and child abuse are severe at
/// any exposure within reach; stolen funds severe when the subject is
/// labelled or paid directly, high from 10% indirect; mixers medium when
/// direct or above a quarter; services raise nothing.
pub const DEFAULT_RULES: &str = "\
# chainhound severity rules: first matching line wins.
# category      reach     min-share  min-btc  severity
sanctions       hit       0          0        severe
sanctions       direct    0          0        severe
sanctions       indirect  0.01       0        severe
sanctions       indirect  0          0        high
terrorism       hit       0          0        severe
terrorism       direct    0          0        severe
terrorism       indirect  0          0        high
child-abuse     hit       0          0        severe
child-abuse     direct    0          0        severe
child-abuse     indirect  0          0        high
stolen-funds    hit       0          0        severe
stolen-funds    direct    0          0        severe
stolen-funds    indirect  0.10       0        high
stolen-funds    indirect  0.01       0        medium
stolen-funds    indirect  0          0        low
ransomware      hit       0          0        high
ransomware      direct    0          0        high
ransomware      indirect  0.10       0        medium
ransomware      indirect  0          0        low
darknet         hit       0          0        high
darknet         direct    0          0        high
darknet         indirect  0.10       0        medium
darknet         indirect  0          0        low
scam            hit       0          0        high
scam            direct    0          0        medium
scam            indirect  0.10       0        medium
scam            indirect  0          0        low
mixer           hit       0          0        medium
mixer           direct    0          0        medium
mixer           indirect  0.25       0        medium
mixer           indirect  0          0        low
gambling        any       0.25       0        low
*               any       0          0        none
";

impl Default for Rules {
    fn default() -> Rules {
        Rules::parse(DEFAULT_RULES, "built-in").expect("built-in rules parse")
    }
}

impl Rules {
    /// Parses a rules file; errors name `origin` and the line.
    pub fn parse(text: &str, origin: &str) -> Result<Rules, Problem> {
        let mut rules = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = n as u64 + 1;
            let bad = |message: String| Problem {
                file: origin.to_string(),
                line,
                message,
            };
            let l = raw.split('#').next().unwrap_or("").trim();
            if l.is_empty() {
                continue;
            }
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() != 5 {
                return Err(bad(format!(
                    "expected 5 fields (category reach min-share min-btc severity), found {}",
                    f.len()
                )));
            }
            let category = match f[0] {
                "*" => None,
                c => Some(c.parse::<Category>().map_err(bad)?),
            };
            let (reach_word, severity_word) =
                (f[1].to_ascii_lowercase(), f[4].to_ascii_lowercase());
            let reach = match reach_word.as_str() {
                "any" => None,
                "hit" => Some(Reach::Hit),
                "direct" => Some(Reach::Direct),
                "indirect" => Some(Reach::Indirect),
                r => {
                    return Err(bad(format!(
                        "reach {r:?} is not one of hit, direct, indirect, any"
                    )))
                }
            };
            let min_share: f64 = f[2]
                .strip_suffix('%')
                .map(|p| p.parse::<f64>().map(|x| x / 100.0))
                .unwrap_or_else(|| f[2].parse())
                .ok()
                .filter(|s| (0.0..=1.0).contains(s))
                .ok_or_else(|| bad(format!("min-share {:?} is not between 0 and 1", f[2])))?;
            let btc: f64 = f[3]
                .parse()
                .ok()
                .filter(|b: &f64| *b >= 0.0 && *b <= 21e6)
                .ok_or_else(|| bad(format!("min-btc {:?} is not an amount of BTC", f[3])))?;
            let severity = match severity_word.as_str() {
                "none" => None,
                "low" => Some(Severity::Low),
                "medium" => Some(Severity::Medium),
                "high" => Some(Severity::High),
                "severe" => Some(Severity::Severe),
                s => {
                    return Err(bad(format!(
                        "severity {s:?} is not one of severe, high, medium, low, none"
                    )))
                }
            };
            rules.push(Rule {
                category,
                reach,
                min_share,
                min_sat: (btc * 1e8).round() as u64,
                severity,
                line,
            });
        }
        if rules.is_empty() {
            return Err(Problem {
                file: origin.to_string(),
                line: 0,
                message: "no rules (every finding would have no severity)".into(),
            });
        }
        Ok(Rules {
            rules,
            origin: origin.to_string(),
        })
    }

    /// The severity of a finding and the rule that decided it (`None` when
    /// no rule matches).
    pub fn judge(
        &self,
        category: Category,
        reach: Reach,
        share: f64,
        amount_sat: u64,
    ) -> Option<(Option<Severity>, &Rule)> {
        self.rules
            .iter()
            .find(|r| {
                r.category.is_none_or(|c| c == category)
                    && r.reach.is_none_or(|x| x == reach)
                    && share + 1e-12 >= r.min_share
                    && amount_sat >= r.min_sat
            })
            .map(|r| (r.severity, r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_judge_sensibly() {
        let r = Rules::default();
        let s = |c, x, share| r.judge(c, x, share, 1).and_then(|(s, _)| s);
        assert_eq!(
            s(Category::Sanctions, Reach::Indirect, 0.001),
            Some(Severity::High)
        );
        assert_eq!(
            s(Category::Sanctions, Reach::Indirect, 0.5),
            Some(Severity::Severe)
        );
        assert_eq!(
            s(Category::StolenFunds, Reach::Indirect, 0.05),
            Some(Severity::Medium)
        );
        assert_eq!(
            s(Category::Mixer, Reach::Indirect, 0.1),
            Some(Severity::Low)
        );
        assert_eq!(s(Category::Exchange, Reach::Direct, 1.0), None);
    }

    #[test]
    fn bad_rules_name_their_line() {
        let e = Rules::parse(
            "# ok\nsanctions hit 0 0 severe\nmixer sideways 0 0 low\n",
            "r.txt",
        )
        .unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("sideways"), "{e}");
        let e = Rules::parse("bogus hit 0 0 low\n", "r.txt").unwrap_err();
        assert!(e.message.contains("unknown category"), "{e}");
        let r = Rules::parse("* any 5% 0.5 low\n", "r.txt").unwrap();
        assert_eq!(r.rules[0].min_share, 0.05);
        assert_eq!(r.rules[0].min_sat, 50_000_000);
    }
}
