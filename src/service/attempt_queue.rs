//! This instance's queue per throttle key. The store's counters decide how many attempts
//! under a key may be checked at once across every instance; this queue makes the attempts
//! of one instance wait for their turn in memory, first come first served, instead of asking
//! the database again and again. Without it, 64 concurrent correct passwords for one account
//! from one address were 59 requests polling the throttle row with writes, which took the
//! database's write lock from the 5 that could proceed.
//!
//! A queue allows as many holders as the budget has free attempts; the store still has the
//! last word (failures already counted, or attempts on other instances, make it say "busy",
//! and the attempt then waits with backoff as before).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The queues, one per key that has an attempt waiting or running.
#[derive(Debug, Default)]
pub(crate) struct AttemptQueues {
    queues: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// A place in the queue of one key, held until the attempt is settled. Dropping the last one
/// of a key forgets the key's queue.
#[derive(Debug)]
pub(crate) struct Turn {
    key: String,
    permit: Option<OwnedSemaphorePermit>,
    queues: Arc<AttemptQueues>,
}

impl AttemptQueues {
    /// Waits until fewer than `width` attempts under `key` hold a turn on this instance.
    pub(crate) async fn wait(self: &Arc<Self>, key: &str, width: usize) -> Turn {
        let queue = {
            let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
            queues.entry(key.to_owned()).or_insert_with(|| Arc::new(Semaphore::new(width.max(1)))).clone()
        };
        // The semaphore is never closed, so acquiring only ever waits.
        let permit = queue.acquire_owned().await.ok();
        Turn { key: key.to_owned(), permit, queues: Arc::clone(self) }
    }

    /// How many keys have a queue (for tests: none once every attempt has ended).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.queues.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        drop(self.permit.take());
        let mut queues = self.queues.queues.lock().unwrap_or_else(|e| e.into_inner());
        // Only the map holds it: nobody waits or holds a turn (both clone under this lock).
        if queues.get(&self.key).is_some_and(|q| Arc::strong_count(q) == 1) {
            queues.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn turns_are_bounded_per_key_and_forgotten_after() {
        let queues = Arc::new(AttemptQueues::default());
        let first = queues.wait("k", 2).await;
        let second = queues.wait("k", 2).await;
        let other = queues.wait("other", 2).await;
        // A third turn on "k" waits until one of the two ends.
        let waiting = {
            let queues = Arc::clone(&queues);
            tokio::spawn(async move { queues.wait("k", 2).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "a third turn must wait");
        drop(first);
        let third = tokio::time::timeout(Duration::from_secs(1), waiting).await.expect("turn").expect("task");
        assert_eq!(queues.len(), 2);
        drop((second, third, other));
        assert_eq!(queues.len(), 0, "no queue outlives its turns");
    }
}
