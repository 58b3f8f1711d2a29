//! The loop every outbox worker runs: claim a batch, work it, and wait for more.

use std::{future::Future, time::Duration};

use tokio::sync::Notify;

use crate::store::StoreResult;

/// How often a worker looks for due work when nobody wakes it.
const POLL: Duration = Duration::from_secs(2);

/// Runs `round` until `stop` completes (checked between rounds, so a round in flight finishes
/// and leaves no lease behind). Each round claims and works at most `batch` items and says how
/// many it claimed; the next starts at once when it was full or when `wake` is notified, else
/// after [`POLL`]. During a database outage every round fails: said once (naming `what`), and
/// once when it ends.
pub(super) async fn run_rounds<F, Fut>(
    what: &str,
    batch: usize,
    wake: &Notify,
    stop: impl Future<Output = ()>,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<usize>>,
{
    tokio::pin!(stop);
    let mut failing = false;
    loop {
        let full = match round().await {
            Ok(claimed) => {
                if std::mem::take(&mut failing) {
                    tracing::info!("{what} resumed");
                }
                claimed >= batch
            }
            Err(e) => {
                if !std::mem::replace(&mut failing, true) {
                    tracing::warn!(error = %e, "{what}: cannot claim; retrying quietly");
                }
                false
            }
        };
        let pause = if full { Duration::ZERO } else { POLL };
        tokio::select! {
            _ = &mut stop => return,
            _ = wake.notified(), if !full => {}
            _ = tokio::time::sleep(pause) => {}
        }
    }
}
