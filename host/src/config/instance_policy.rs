//! `instance_policy` and `reuse`: whether a component gets a fresh instance
//! per request or a pool of warm ones, and how that pool is kept. `reuse`
//! without `instance_policy = "reuse"` is an error rather than ignored: it
//! would otherwise look like pooling is on when it is not.

use std::time::Duration;

use toml::Spanned;

use super::locate::Source;
use super::numbers::{DAY_SECS, to_usize};
use super::schema::RawReuse;
use super::{ConfigError, InstancePolicy, ReusePolicy};

/// The policy of the entry `field`.
pub(super) fn instance_policy(
    src: &Source<'_>,
    field: &str,
    policy: Option<Spanned<String>>,
    reuse: Option<Spanned<RawReuse>>,
) -> Result<InstancePolicy, ConfigError> {
    let reusing = match &policy {
        None => false,
        Some(p) => match p.get_ref().as_str() {
            "per-request" => false,
            "reuse" => true,
            other => {
                return Err(src.error(
                    p.span(),
                    &format!("{field}.instance_policy"),
                    format!("unknown policy {other:?}: expected \"per-request\" or \"reuse\""),
                ));
            }
        },
    };
    let Some(reuse) = reuse else {
        return Ok(if reusing {
            InstancePolicy::Reuse(ReusePolicy::default())
        } else {
            InstancePolicy::PerRequest
        });
    };
    if !reusing {
        return Err(src.error(
            reuse.span(),
            &format!("{field}.reuse"),
            "only applies with instance_policy = \"reuse\"".to_owned(),
        ));
    }
    let raw = reuse.into_inner();
    let mut out = ReusePolicy::default();
    let field = format!("{field}.reuse");
    if let Some(n) = &raw.max_requests {
        let n = src.bounded(n, &format!("{field}.max_requests"), 1, u32::MAX.into())?;
        out.max_requests = u32::try_from(n).expect("bounded to u32");
    }
    if let Some(secs) = &raw.idle_timeout_secs {
        let secs = src.bounded(secs, &format!("{field}.idle_timeout_secs"), 0, DAY_SECS)?;
        out.idle_timeout = Duration::from_secs(secs);
    }
    if let Some(n) = &raw.max_idle {
        out.max_idle = to_usize(src.bounded(n, &format!("{field}.max_idle"), 0, 100_000)?);
    }
    Ok(InstancePolicy::Reuse(out))
}
