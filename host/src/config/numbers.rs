//! Numbers in the config. Every numeric setting has a range, checked where
//! it is written: a value must never wrap when converted (`memory_mib =
//! 17592186044416` is 2^64 bytes) or mean nonsense (a 0 ms CPU budget).

use toml::Spanned;

use super::ConfigError;
use super::locate::Source;

/// A number as written in the file, with where it was written.
pub(super) type Number = Spanned<u64>;

/// A day, the upper bound of every timeout: longer is surely a typo.
pub(super) const DAY_SECS: u64 = 24 * 60 * 60;

impl Source<'_> {
    /// `value` if it lies in `min..=max`, else an error naming the field.
    pub(super) fn bounded(
        &self,
        value: &Number,
        field: &str,
        min: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        let n = *value.get_ref();
        let problem = if n < min {
            format!("must be at least {min}")
        } else if n > max {
            format!("{n} is too large: must be at most {max}")
        } else {
            return Ok(n);
        };
        Err(self.error(value.span(), field, problem))
    }

    /// [`Source::bounded`] for an optional setting.
    pub(super) fn bounded_opt(
        &self,
        value: Option<&Number>,
        field: &str,
        min: u64,
        max: u64,
    ) -> Result<Option<u64>, ConfigError> {
        value.map(|v| self.bounded(v, field, min, max)).transpose()
    }
}

/// Lossless on every platform Shallot builds for (64-bit), and the ranges
/// keep every value far below `u32::MAX` where that matters.
pub(super) fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
