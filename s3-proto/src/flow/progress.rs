//! Progress of a long transfer, reported as parts and ranges complete (boto's `cb`).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes of a transfer the server has acknowledged (upload) or that are safely written
/// (download), and the total when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes done.
    pub bytes: u64,
    /// Bytes in all, when known.
    pub total: Option<u64>,
}

impl Progress {
    /// The fraction done, in `[0, 1]`, when the total is known (1 for an empty transfer).
    pub fn fraction(&self) -> Option<f64> {
        let total = self.total?;
        if total == 0 {
            return Some(1.0);
        }
        Some((self.bytes as f64 / total as f64).min(1.0))
    }
}

/// A progress callback, shared by the threads or tasks of one transfer.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Adds up the completed pieces of one transfer and calls the callback with the running sum.
/// Pieces are counted once, when they complete, so a retried part is never counted twice.
pub struct ProgressCounter {
    done: AtomicU64,
    total: Option<u64>,
    callback: Option<ProgressFn>,
}

impl fmt::Debug for ProgressCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProgressCounter")
            .field("done", &self.done)
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

impl ProgressCounter {
    /// A counter for a transfer of `total` bytes reporting to `callback` (none: count only).
    pub fn new(total: Option<u64>, callback: Option<ProgressFn>) -> Self {
        ProgressCounter {
            done: AtomicU64::new(0),
            total,
            callback,
        }
    }

    /// Records `bytes` more done and reports.
    pub fn add(&self, bytes: u64) {
        let done = self.done.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if let Some(callback) = &self.callback {
            callback(Progress {
                bytes: done,
                total: self.total,
            });
        }
    }

    /// The callback, for a counter of another total.
    pub fn callback(&self) -> Option<ProgressFn> {
        self.callback.clone()
    }

    /// Bytes done so far.
    pub fn bytes(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn reports_running_sums() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let counter = ProgressCounter::new(
            Some(10),
            Some(Arc::new(move |p: Progress| {
                sink.lock().unwrap().push(p.bytes);
            })),
        );
        counter.add(4);
        counter.add(6);
        assert_eq!(*seen.lock().unwrap(), [4, 10]);
        assert_eq!(counter.bytes(), 10);
        let p = Progress {
            bytes: 5,
            total: Some(10),
        };
        assert_eq!(p.fraction(), Some(0.5));
        assert_eq!(
            Progress {
                bytes: 0,
                total: Some(0)
            }
            .fraction(),
            Some(1.0)
        );
        assert_eq!(
            Progress {
                bytes: 3,
                total: None
            }
            .fraction(),
            None
        );
    }
}
