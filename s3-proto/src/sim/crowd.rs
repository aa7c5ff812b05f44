//! Many clients, one throttled service: clients, each with its own [`Session`], send small
//! requests back to back to a [`Sim`] that serves only part of what they offer and answers
//! the rest 503 SlowDown, on one virtual clock. Reports retry amplification, failures,
//! completion time and fairness, to compare retry modes (`tests/throttling.rs`, the `scale`
//! bench).

use std::time::{Duration, SystemTime};

use super::Sim;
use crate::error::Error;
use crate::flow::request::{Attempts, Next, Options, Session};
use crate::ops::HeadObject;
use crate::retry::{RetryMode, RetryPolicy};
use crate::{Addressing, BucketName, Config, ObjectKey};

/// The experiment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crowd {
    /// Clients, each with its own session.
    pub clients: u32,
    /// HeadObject requests each client makes, one after the other.
    pub requests: u32,
    /// What one request takes the client when it is answered at once.
    pub round_trip: Duration,
    /// What the clients offer back to back, as a multiple of what the service serves.
    pub overload: f64,
}

impl Default for Crowd {
    /// 64 clients × 100 HEADs of 10 ms round trips against a service serving half of it.
    fn default() -> Self {
        Crowd {
            clients: 64,
            requests: 100,
            round_trip: Duration::from_millis(10),
            overload: 2.0,
        }
    }
}

/// What one run produced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// Requests sent, retries included.
    pub sent: u64,
    /// Requests that succeeded.
    pub succeeded: u64,
    /// Requests that failed for good.
    pub failed: u64,
    /// Clients that saw at least one request fail for good.
    pub failed_clients: u32,
    /// Virtual seconds until the last client finished.
    pub seconds: f64,
    /// The first client to finish took this share of the last one's time (1: all alike).
    pub fairness: f64,
}

impl Outcome {
    /// Requests sent ÷ requests that succeeded.
    pub fn amplification(&self) -> f64 {
        self.sent as f64 / self.succeeded.max(1) as f64
    }
}

impl Crowd {
    /// Requests per second the service serves.
    pub fn capacity(&self) -> u32 {
        let offered = f64::from(self.clients) / self.round_trip.as_secs_f64().max(1e-6);
        (offered / self.overload.max(1e-6)).round().max(1.0) as u32
    }

    /// Runs every client to its end with retry `mode`.
    ///
    /// # Errors
    /// Never for the built-in bucket and key names; kept typed all the same.
    pub fn run(&self, mode: RetryMode) -> Result<Outcome, Error> {
        let mut sim = Sim::new().capacity(self.capacity());
        sim.put_object("bucket", "object", b"hello");
        let config =
            Config::new("http://127.0.0.1:9000", "us-east-1")?.addressing(Addressing::Path);
        let policy = RetryPolicy::default().mode(mode);
        let start = sim.now();
        let n = self.clients.max(1);
        let mut clients: Vec<Client> = (0..n)
            .map(|i| Client {
                session: Session::new(
                    config.clone(),
                    super::credentials(),
                    Options::default().retry(policy),
                ),
                left: self.requests,
                attempts: None,
                // Staggered over the first round trip, as independent processes would be.
                ready_at: start + self.round_trip * i / n,
                done_at: None,
                failed: false,
                rng: 0x9E37_79B9_7F4A_7C15 ^ (u64::from(i) + 1),
            })
            .collect();
        let op = HeadObject::new(BucketName::new("bucket")?, ObjectKey::new("object")?);
        let (mut sent, mut succeeded, mut failed) = (0u64, 0u64, 0u64);
        while let Some(client) = clients
            .iter_mut()
            .filter(|c| c.done_at.is_none())
            .min_by_key(|c| c.ready_at)
        {
            sim.advance_to(client.ready_at);
            let now = sim.now();
            if client.attempts.is_none() {
                if client.left == 0 {
                    client.done_at = Some(now);
                    continue;
                }
                client.left -= 1;
                client.attempts = Some((client.session.attempts(&op, true), now, false));
            }
            let Some((attempts, started, paced)) = client.attempts.as_mut() else {
                continue;
            };
            if !*paced {
                *paced = true;
                if let Some(wait) = attempts.pace(&client.session, now) {
                    client.ready_at = now + wait;
                    continue;
                }
            }
            sent += 1;
            let result = super::send(&mut sim, attempts.config(&client.session), &op, None);
            let elapsed = now.duration_since(*started).unwrap_or_default();
            let bits = xorshift(&mut client.rng);
            match attempts.handle(&client.session, result.map(|(h, _)| h), elapsed, bits, now) {
                Next::Retry(delay) => {
                    *paced = false;
                    client.ready_at = now + self.round_trip + delay;
                }
                Next::Done(done) => {
                    match done.result {
                        Ok(_) => succeeded += 1,
                        Err(_) => {
                            failed += 1;
                            client.failed = true;
                        }
                    }
                    client.attempts = None;
                    client.ready_at = now + self.round_trip;
                }
            }
        }
        let times: Vec<f64> = clients
            .iter()
            .map(|c| {
                c.done_at
                    .and_then(|t| t.duration_since(start).ok())
                    .map_or(0.0, |d| d.as_secs_f64())
            })
            .collect();
        let last = times.iter().copied().fold(0.0, f64::max);
        let first = times.iter().copied().fold(f64::MAX, f64::min);
        Ok(Outcome {
            sent,
            succeeded,
            failed,
            failed_clients: clients.iter().filter(|c| c.failed).count() as u32,
            seconds: last,
            fairness: if last > 0.0 { first / last } else { 1.0 },
        })
    }
}

struct Client {
    session: Session,
    left: u32,
    attempts: Option<(Attempts, SystemTime, bool)>,
    ready_at: SystemTime,
    done_at: Option<SystemTime>,
    failed: bool,
    rng: u64,
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}
