//! The Wasm engine a pipeline runs on: engine-wide settings, the linkers,
//! and the compile caches (in memory by content, and on disk).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::linker::Linkers;
use crate::load_error::{At, LoadError, cause};

/// Engine-wide settings: what cannot differ between components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOptions {
    /// Count instructions (needed for any `fuel` limit, and for reporting
    /// what each component spent). Costs some speed, so off unless asked.
    pub fuel: bool,
    /// The Wasm stack limit.
    pub max_stack_bytes: usize,
    /// Component instances alive at once, server-wide: the size of the
    /// pooling allocator. `0` allocates each instance on demand instead.
    pub concurrent_instances: u32,
    /// The largest table any component may grow (the pool's table slots).
    pub max_table_elements: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        let global = crate::limits::GlobalLimits::default();
        EngineOptions {
            fuel: false,
            max_stack_bytes: global.max_stack_bytes,
            concurrent_instances: global.concurrent_instances,
            max_table_elements: crate::limits::Limits::default().table_elements,
        }
    }
}

impl EngineOptions {
    /// What `config` needs: fuel when any component has a fuel budget.
    pub fn for_config(config: &crate::Config) -> Self {
        let fuel = config.components().any(|c| c.limits.fuel.is_some());
        let max_table_elements = config
            .components()
            .map(|c| c.limits.table_elements)
            .max()
            .unwrap_or_default();
        EngineOptions {
            fuel,
            max_stack_bytes: config.limits.max_stack_bytes,
            concurrent_instances: config.limits.concurrent_instances,
            max_table_elements,
        }
    }
}

/// The engine and the linkers components are linked with.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) engine: Engine,
    /// One linker per set of grants (see `crate::linker`).
    pub(crate) linkers: Arc<Linkers>,
    /// Compiled components by content, so loading the same file twice (a
    /// reload, a test suite) compiles it once.
    compiled: Arc<Mutex<HashMap<Vec<u8>, Component>>>,
    /// Compiled components on disk, shared with later runs.
    disk: Option<crate::cache::DiskCache>,
    options: EngineOptions,
}

impl Runtime {
    /// An engine for async calls with the `shallot:http` and WASI imports,
    /// epoch interruption (CPU deadlines) and, if asked, fuel.
    pub fn new(options: EngineOptions) -> Result<Runtime, LoadError> {
        let engine_err = |e: wasmtime::Error| LoadError::Engine { source: cause(e) };
        let mut config = wasmtime::Config::new();
        config
            .epoch_interruption(true)
            .consume_fuel(options.fuel)
            .max_wasm_stack(options.max_stack_bytes);
        if options.concurrent_instances > 0 {
            config.allocation_strategy(crate::limits::pool(
                options.concurrent_instances,
                options.max_table_elements,
            ));
        }
        let engine = Engine::new(&config).map_err(engine_err)?;
        crate::limits::start_ticker(&engine);
        Ok(Runtime {
            linkers: Arc::new(Linkers::new(&engine)),
            engine,
            compiled: Arc::default(),
            disk: None,
            options,
        })
    }

    /// Keeps compiled components in `dir` too (see `shallot precompile`).
    pub fn with_disk_cache(mut self, dir: &Path) -> Runtime {
        self.disk = Some(crate::cache::DiskCache::new(dir));
        self
    }

    /// Compiles (or loads from the caches) one component file, without
    /// linking it; `true` when it came from the disk cache.
    pub fn precompile(&self, path: &Path) -> Result<bool, LoadError> {
        self.compile(path)
            .map(|(_, cached)| cached)
            .map_err(|e| LoadError::Compile {
                at: At {
                    location: path.display().to_string(),
                    label: "component".into(),
                    path: path.to_owned(),
                },
                source: cause(e),
            })
    }

    /// The engine-wide settings this runtime was built with.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Compiles one component file, or takes it from the caches.
    pub(crate) fn compile(&self, path: &Path) -> wasmtime::Result<(Component, bool)> {
        let bytes = std::fs::read(path)?;
        if let Some(component) = self.compiled.lock().expect("cache lock").get(&bytes) {
            return Ok((component.clone(), true));
        }
        let (component, cached) = match &self.disk {
            Some(disk) => {
                let (component, source) = disk.load_or_compile(&self.engine, &bytes)?;
                (component, source == crate::cache::Source::Cache)
            }
            None => (Component::new(&self.engine, &bytes)?, false),
        };
        self.compiled
            .lock()
            .expect("cache lock")
            .insert(bytes, component.clone());
        Ok((component, cached))
    }
}
