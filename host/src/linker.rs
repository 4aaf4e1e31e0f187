//! Linking: which host interfaces a component's imports are satisfied
//! with. Every component gets `types`, `log`, `config`, `urls` and WASI (with only
//! what its grants allow); a capability that needs a grant is linked only
//! into the linker of components granted it. One linker per set of grants,
//! built on first use and shared.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use wasmtime::Engine;
use wasmtime::component::Linker;

use crate::capability::{Grant, config, kv, log, outbound, sql, types, urls};
use crate::config::Grants;
use crate::state::RequestState;

/// Links one capability.
type Link = fn(&mut Linker<RequestState>) -> wasmtime::Result<()>;

/// Every capability that needs a grant, and how it is linked.
pub(crate) const GRANTED: [(Grant, Link); 3] = [
    (kv::GRANT, |l| kv::add_to_linker(l, RequestState::kv)),
    (outbound::GRANT, |l| {
        outbound::add_to_linker(l, RequestState::outbound)
    }),
    (sql::GRANT, |l| sql::add_to_linker(l, RequestState::sql)),
];

/// Which of [`GRANTED`] a component has, one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct GrantSet(u32);

impl GrantSet {
    fn of(grants: &Grants) -> Self {
        let bits = GRANTED
            .iter()
            .enumerate()
            .filter(|(_, (grant, _))| (grant.granted)(grants))
            .fold(0, |bits, (i, _)| bits | 1 << i);
        GrantSet(bits)
    }

    fn has(self, i: usize) -> bool {
        self.0 & (1 << i) != 0
    }
}

/// The linkers of one engine, by grant set.
pub(crate) struct Linkers {
    engine: Engine,
    by_grants: Mutex<HashMap<GrantSet, Arc<Linker<RequestState>>>>,
}

impl Linkers {
    pub(crate) fn new(engine: &Engine) -> Self {
        Linkers {
            engine: engine.clone(),
            by_grants: Mutex::default(),
        }
    }

    /// The linker for a component with `grants`.
    pub(crate) fn for_grants(
        &self,
        grants: &Grants,
    ) -> wasmtime::Result<Arc<Linker<RequestState>>> {
        let set = GrantSet::of(grants);
        let mut by_grants = self.by_grants.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(linker) = by_grants.get(&set) {
            return Ok(linker.clone());
        }
        let linker = Arc::new(build(&self.engine, set)?);
        by_grants.insert(set, linker.clone());
        Ok(linker)
    }
}

fn build(engine: &Engine, grants: GrantSet) -> wasmtime::Result<Linker<RequestState>> {
    let mut linker = Linker::new(engine);
    types::add_to_linker(&mut linker, RequestState::types)?;
    log::add_to_linker(&mut linker, RequestState::log)?;
    config::add_to_linker(&mut linker, RequestState::config)?;
    urls::add_to_linker(&mut linker, RequestState::urls)?;
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    for (i, (_, link)) in GRANTED.iter().enumerate() {
        if grants.has(i) {
            link(&mut linker)?;
        }
    }
    Ok(linker)
}
