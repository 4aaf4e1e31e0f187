//! The pooling allocator every instance comes from.

/// Bytes of a linear memory kept mapped, and reset in place, when its
/// instance is freed. Instances come and go with every request; unmapping
/// their pages would make the next instance fault them back in, and those
/// faults (with the TLB shootdowns of unmapping) were most of the cost of a
/// fresh instance. Covers what a small guest touches: its stack, data and
/// the heap of one request.
const KEEP_RESIDENT: usize = 2 << 20;

/// The pooling allocator: instance memory is reserved once, at start-up,
/// and each request's instances take slots from it; copy-on-write images
/// make a slot's initial memory a mapping, not a copy.
pub(crate) fn pool(
    concurrent_instances: u32,
    max_table_elements: usize,
) -> wasmtime::InstanceAllocationStrategy {
    let n = concurrent_instances;
    let mut pool = wasmtime::PoolingAllocationConfig::new();
    pool.total_component_instances(n)
        // A component is a few core modules (its code, shims, adapters),
        // usually one memory and a table or two each.
        .total_core_instances(n.saturating_mul(8))
        .total_memories(n.saturating_mul(2))
        .total_tables(n.saturating_mul(4))
        .total_stacks(n)
        .max_tables_per_module(4)
        .table_elements(max_table_elements)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(64 << 10)
        // Resets only the pages an instance dirtied (Linux 6.7+), so a
        // freed instance costs what it touched, not KEEP_RESIDENT.
        .pagemap_scan(wasmtime::Enabled::Auto);
    wasmtime::InstanceAllocationStrategy::Pooling(pool)
}
