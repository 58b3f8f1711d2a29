//! A count of the panics in this process, and a log line for each.
//!
//! A panic in a request's task ends its connection without an answer, which a client cannot
//! tell from a network failure, and the default hook only writes to stderr. The hook here
//! counts each panic (the fuzzing tests assert the count stays put) and logs it through
//! `tracing` with the other server logs, then runs the hook that was installed before it.

use std::{
    panic::PanicHookInfo,
    sync::{
        atomic::{AtomicU64, Ordering},
        Once,
    },
};

static PANICS: AtomicU64 = AtomicU64::new(0);
static INSTALL: Once = Once::new();

/// Installs the counting hook; once per process, however often it is called.
pub fn install() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::Relaxed);
            let location = info.location().map(ToString::to_string).unwrap_or_default();
            tracing::error!(%location, message = message(info), "panicked");
            previous(info);
        }));
    });
}

/// How many panics the process has had since [`install`].
pub fn count() -> u64 {
    PANICS.load(Ordering::Relaxed)
}

/// The panic's message, when it is text (as `panic!` and `expect` make it).
fn message<'a>(info: &'a PanicHookInfo<'_>) -> &'a str {
    let payload = info.payload();
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_counted_and_the_process_goes_on() {
        install();
        install();
        let before = count();
        let caught = std::thread::spawn(|| panic!("on purpose")).join();
        assert!(caught.is_err());
        assert!(count() > before, "the panic was counted");
    }
}
