//! `shallot:http/config`: a component reads its own `config` table and
//! nothing else; another component's values are never visible.

use crate::bindings::config::Host;
use crate::state::RequestState;

impl Host for RequestState {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self
            .current
            .config
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone()))
    }

    fn get_all(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        Ok(self.current.config.clone())
    }
}
