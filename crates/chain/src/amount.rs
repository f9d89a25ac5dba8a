//! Sums of satoshi values.
//!
//! Values come from blocks, which may be hostile: an output's 8-byte value
//! can claim up to 2^64 - 1 satoshis. Bitcoin's consensus caps each value
//! and each transaction's total at 21 million bitcoin, but chainhound indexes
//! what the files hold without validating that, so every sum of values
//! saturates instead of wrapping (or panicking in debug builds).
//!
//! Must not: round, cap or otherwise change a sum that fits in a `u64`.

/// The sum of satoshi `values`, `u64::MAX` if it would overflow.
///
/// ```
/// use chainhound_chain::amount::sum_sats;
/// assert_eq!(sum_sats([1, 2, 3]), 6);
/// assert_eq!(sum_sats([u64::MAX, 1]), u64::MAX);
/// ```
pub fn sum_sats(values: impl IntoIterator<Item = u64>) -> u64 {
    values.into_iter().fold(0, u64::saturating_add)
}
