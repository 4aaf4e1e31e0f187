//! A component's capabilities: `env`, `dirs`, `allowed_outbound_hosts` and
//! `key_value_stores`. What is granted is checked now, so that a grant that
//! could never work (a relative guest path, a missing directory, a malformed
//! host pattern) stops the config from loading instead of failing a request.

use std::path::Path;

use super::locate::Source;
use super::schema::RawComponent;
use super::{ConfigError, Grants};

/// The grants of the entry `field`, directories resolved against `base`.
pub(super) fn grants(
    src: &Source<'_>,
    base: &Path,
    field: &str,
    raw: &RawComponent,
) -> Result<Grants, ConfigError> {
    let mut grants = Grants::default();
    for var in &raw.env {
        grants.env.push(var.get_ref().clone());
    }
    for (guest, host) in &raw.dirs {
        let dir = base.join(host.get_ref());
        if !guest.starts_with('/') {
            return Err(src.error(
                host.span(),
                &format!("{field}.dirs"),
                format!("guest path {guest:?} must be absolute, like \"/static\""),
            ));
        }
        if !dir.is_dir() {
            return Err(src.error(
                host.span(),
                &format!("{field}.dirs.{guest}"),
                format!("directory not found: {}", dir.display()),
            ));
        }
        grants.dirs.push((guest.clone(), dir));
    }
    for (i, pattern) in raw.allowed_outbound_hosts.iter().enumerate() {
        crate::capability::check_host_pattern(pattern.get_ref()).map_err(|reason| {
            src.error(
                pattern.span(),
                &format!("{field}.allowed_outbound_hosts[{i}]"),
                reason,
            )
        })?;
        grants
            .allowed_outbound_hosts
            .push(pattern.get_ref().clone());
    }
    for store in &raw.key_value_stores {
        grants.key_value_stores.push(store.get_ref().clone());
    }
    Ok(grants)
}
