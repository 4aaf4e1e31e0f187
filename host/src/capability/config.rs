//! `shallot:http/config`: a component reads its own `config` table and
//! nothing else; another component's values are never visible.

use wasmtime::component::{HasData, Linker};

use crate::bindings::config::{self, Host};

/// What `config` reaches: the component's own values, nothing else.
pub(crate) struct ConfigView<'a>(pub(crate) &'a [(String, String)]);

struct Config;

impl HasData for Config {
    type Data<'a> = ConfigView<'a>;
}

/// Links `shallot:http/config`.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> ConfigView<'_>,
) -> wasmtime::Result<()> {
    config::add_to_linker::<T, Config>(linker, view)
}

impl Host for ConfigView<'_> {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self
            .0
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone()))
    }

    fn get_all(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        Ok(self.0.to_vec())
    }
}
