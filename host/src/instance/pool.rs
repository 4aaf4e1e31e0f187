//! The `reuse` policy's pool of warm instances, one share per serving
//! thread.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use crate::config::ReusePolicy;

use super::Slot;

/// Warm instances of one component under the `reuse` policy.
///
/// One share per serving thread (see `crate::server::serve_workers`): a
/// request takes and gives back instances on the thread that serves it, so
/// an instance stays in one core's caches and the lock is never contended.
/// `max_idle` applies to each share.
pub(crate) struct InstancePool {
    policy: ReusePolicy,
    shares: Box<[Share]>,
}

/// One thread's idle instances: oldest first; requests take the newest,
/// whose memory is most likely still in cache.
type Share = Mutex<VecDeque<(Slot, Instant)>>;

thread_local! {
    /// Which serving thread this is; 0 on any other thread.
    static WORKER: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Marks this thread as serving thread `index`.
pub(crate) fn enter_worker(index: usize) {
    WORKER.with(|w| w.set(index));
}

impl InstancePool {
    /// A pool with one share per serving thread (`shares`, at least one).
    pub(crate) fn new(policy: ReusePolicy, shares: usize) -> Arc<InstancePool> {
        let pool = Arc::new(InstancePool {
            policy,
            shares: (0..shares.max(1)).map(|_| Share::default()).collect(),
        });
        sweep_in_background(Arc::downgrade(&pool), policy);
        pool
    }

    /// A warm instance, if one is idle. Only the newest is looked at: if
    /// even it has idled past the timeout, so have all the others.
    pub(crate) fn take(&self) -> Option<Slot> {
        let mut idle = self.lock();
        let (slot, since) = idle.pop_back()?;
        if since.elapsed() < self.policy.idle_timeout {
            return Some(slot);
        }
        let stale: Vec<_> = idle.drain(..).collect();
        drop(idle);
        drop((slot, stale));
        None
    }

    /// Gives back the instance of a request that ran to its end.
    pub(crate) fn give_back(&self, mut slot: Slot) {
        slot.served += 1;
        if slot.served >= self.policy.max_requests {
            return;
        }
        slot.fuel_used = 0;
        slot.store.data_mut().recycle();
        let mut idle = self.lock();
        if idle.len() < self.policy.max_idle {
            idle.push_back((slot, Instant::now()));
        }
        // else: dropped here, after the lock is released with `idle`.
    }

    /// Idle instances right now, on all threads.
    pub(crate) fn idle(&self) -> usize {
        self.shares.iter().map(|share| lock(share).len()).sum()
    }

    /// Takes out the instances idle for longer than the timeout; the caller
    /// drops them outside the lock (freeing a store is not free).
    fn drain_stale(&self) -> Vec<Slot> {
        let mut stale = Vec::new();
        for share in &self.shares {
            let mut idle = lock(share);
            while idle
                .front()
                .is_some_and(|(_, since)| since.elapsed() >= self.policy.idle_timeout)
            {
                stale.extend(idle.pop_front().map(|(slot, _)| slot));
            }
        }
        stale
    }

    /// This thread's share, locked.
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Slot, Instant)>> {
        lock(self.share())
    }

    /// This thread's share. Any thread that is not a serving thread (an
    /// embedder's, a test's) uses the first; serving threads are numbered
    /// below the share count (reloads keep the start-up `workers`), and
    /// the modulo only keeps a mistake there from panicking.
    fn share(&self) -> &Share {
        &self.shares[WORKER.with(|w| w.get()) % self.shares.len()]
    }
}

fn lock(share: &Share) -> std::sync::MutexGuard<'_, VecDeque<(Slot, Instant)>> {
    // A panic while holding the lock cannot leave the queue half-updated.
    share.lock().unwrap_or_else(|e| e.into_inner())
}

/// Drops idle instances once they time out, even when no request comes to
/// take one. Ends when the pool is dropped (its pipeline was replaced).
fn sweep_in_background(pool: Weak<InstancePool>, policy: ReusePolicy) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        // No runtime (a synchronous embedder): stale instances are dropped
        // when the next request looks for one.
        return;
    };
    let period = (policy.idle_timeout / 2).max(std::time::Duration::from_millis(100));
    runtime.spawn(async move {
        let mut every = tokio::time::interval(period);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let Some(pool) = pool.upgrade() else { break };
            drop(pool.drain_stale());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_serving_thread_has_a_share_of_its_own() {
        let pool = InstancePool::new(ReusePolicy::default(), 3);
        assert_eq!(pool.shares.len(), 3);
        let shares: Vec<usize> = (0..3)
            .map(|index| {
                std::thread::scope(|s| {
                    s.spawn(|| {
                        enter_worker(index);
                        let share: *const Share = pool.share();
                        pool.shares.iter().position(|s| std::ptr::eq(s, share))
                    })
                    .join()
                    .expect("the thread runs")
                    .expect("the share is the pool's")
                })
            })
            .collect();
        assert_eq!(shares, [0, 1, 2], "three workers, three shares");
        // Past the share count (never on a server): wraps around.
        let wrapped = std::thread::scope(|s| {
            s.spawn(|| {
                enter_worker(4);
                std::ptr::eq(pool.share(), &pool.shares[1])
            })
            .join()
            .expect("the thread runs")
        });
        assert!(wrapped, "worker 4 of 3 shares takes share 1");
        // An embedder's thread (never entered) takes the first share.
        assert!(std::ptr::eq(pool.share(), &pool.shares[0]));
        // A pool always has a share.
        assert_eq!(InstancePool::new(ReusePolicy::default(), 0).shares.len(), 1);
    }
}
