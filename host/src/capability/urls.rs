//! `shallot:http/urls`: Django's `reverse()` and `resolve()` over the
//! pipeline's route table. Every component gets it: reading the URLconf
//! grants nothing.

use wasmtime::component::{HasData, Linker};

use crate::bindings::types::{Error, ErrorKind, ViewInfo};
use crate::bindings::urls::{self, Host};
use crate::limits::Meter;
use crate::router::Router;

/// Configure phase, once per pipeline: the URLconfs components reverse
/// against (each request against the one its URL was resolved with).
pub(crate) fn configure(config: &crate::config::Config) -> crate::urlconfs::UrlConfs {
    crate::urlconfs::UrlConfs::new(config)
}

/// What `reverse` reaches: the pipeline's router, and the store's meter
/// (the arguments are copied, matched and encoded: host work the guest
/// pays for, like any copy).
pub(crate) struct UrlsView<'a> {
    pub(crate) router: &'a Router,
    pub(crate) meter: &'a mut Meter,
}

struct Urls;

impl HasData for Urls {
    type Data<'a> = UrlsView<'a>;
}

/// Links `shallot:http/urls`.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> UrlsView<'_>,
) -> wasmtime::Result<()> {
    urls::add_to_linker::<T, Urls>(linker, view)
}

impl Host for UrlsView<'_> {
    fn reverse(
        &mut self,
        name: String,
        args: Vec<String>,
        kwargs: Vec<(String, String)>,
    ) -> wasmtime::Result<Result<String, Error>> {
        let given = name.len()
            + args.iter().map(String::len).sum::<usize>()
            + kwargs.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
        self.meter.charge_copy(given)?;
        let reversed = self.router.reverse(&name, &args, &kwargs);
        let out = reversed
            .as_ref()
            .map_or_else(|e| e.to_string().len(), String::len);
        self.meter.charge_copy(out)?;
        Ok(reversed.map_err(|e| Error {
            kind: ErrorKind::Internal,
            message: e.to_string(),
        }))
    }

    fn resolve(&mut self, path: String) -> wasmtime::Result<Option<ViewInfo>> {
        self.meter.charge_copy(path.len())?;
        let info = self
            .router
            .resolve(&path)
            .map(|m| crate::cycle::view_info(&m));
        if let Some(info) = &info {
            let out = info.view_name.len()
                + info.route_name.as_ref().map_or(0, String::len)
                + info.args.iter().map(String::len).sum::<usize>()
                + info
                    .kwargs
                    .iter()
                    .map(|(k, v)| k.len() + v.len())
                    .sum::<usize>();
            self.meter.charge_copy(out)?;
        }
        Ok(info)
    }
}
