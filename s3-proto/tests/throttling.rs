//! Many clients, one throttled service: 64 clients, each with its own session, send small
//! requests back to back to a simulated S3 that serves half of what they offer and answers
//! the rest 503 SlowDown. Every retry mode is run on the same virtual clock and compared:
//! retry amplification (requests sent ÷ requests that succeeded), failures, completion time
//! and fairness between clients.
//!
//! `cargo test -p s3-proto --test throttling -- --nocapture` prints the table.

#![allow(clippy::print_stderr)] // the comparison is the point: it is printed

use s3_proto::sim;

use std::time::{Duration, SystemTime};

use s3_proto::flow::request::{Attempts, Next, Options, Session};
use s3_proto::ops::HeadObject;
use s3_proto::retry::{RetryMode, RetryPolicy};
use s3_proto::{Addressing, Config};
use sim::Sim;

const CLIENTS: usize = 64;
const REQUESTS: u32 = 100;
/// What one request takes the client when it is answered at once.
const ROUND_TRIP: Duration = Duration::from_millis(10);
/// The service serves half of what the clients offer back to back.
const CAPACITY: u32 = (CLIENTS as u32) * 1000 / 10 / 2;

/// What one run produced.
#[derive(Debug)]
struct Outcome {
    sent: u64,
    succeeded: u64,
    failed: u64,
    /// Virtual seconds until the last client finished.
    seconds: f64,
    /// The first client to finish took this share of the last one's time.
    fairness: f64,
}

impl Outcome {
    fn amplification(&self) -> f64 {
        self.sent as f64 / self.succeeded.max(1) as f64
    }
}

struct Client {
    session: Session,
    left: u32,
    attempts: Option<(Attempts, SystemTime, bool)>,
    ready_at: SystemTime,
    done_at: Option<SystemTime>,
    rng: u64,
}

fn random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn run(mode: RetryMode) -> Outcome {
    let mut sim = Sim::new().capacity(CAPACITY);
    sim.put_object("bucket", "object", b"hello");
    let config = Config::new("http://127.0.0.1:9000", "us-east-1")
        .unwrap()
        .addressing(Addressing::Path);
    let policy = RetryPolicy::default().mode(mode);
    let start = sim.now();
    let mut clients: Vec<Client> = (0..CLIENTS)
        .map(|i| Client {
            session: Session::new(
                config.clone(),
                sim::credentials(),
                Options::default().retry(policy),
            ),
            left: REQUESTS,
            attempts: None,
            // Staggered over the first round trip, as independent processes would be.
            ready_at: start + ROUND_TRIP * i as u32 / CLIENTS as u32,
            done_at: None,
            rng: 0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1),
        })
        .collect();
    let op = HeadObject::new("bucket".parse().unwrap(), "object".parse().unwrap());
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
            let wait = attempts.pace(&client.session, now);
            if !wait.is_zero() {
                client.ready_at = now + wait;
                continue;
            }
        }
        sent += 1;
        let result = sim::send(&mut sim, attempts.config(&client.session), &op, None);
        let elapsed = now.duration_since(*started).unwrap_or_default();
        let bits = random(&mut client.rng);
        match attempts.handle(&client.session, result.map(|(h, _)| h), elapsed, bits, now) {
            Next::Retry(delay) => {
                *paced = false;
                client.ready_at = now + ROUND_TRIP + delay;
            }
            Next::Done(done) => {
                match done.result {
                    Ok(_) => succeeded += 1,
                    Err(_) => failed += 1,
                }
                client.attempts = None;
                client.ready_at = now + ROUND_TRIP;
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
    Outcome {
        sent,
        succeeded,
        failed,
        seconds: last,
        fairness: first / last,
    }
}

#[test]
fn adaptive_mode_keeps_a_throttled_service_near_its_capacity() {
    let offered = CLIENTS as u32 * 1000 / ROUND_TRIP.as_millis() as u32;
    eprintln!(
        "{CLIENTS} clients × {REQUESTS} HEADs, offering {offered}/s to a service serving {CAPACITY}/s"
    );
    eprintln!("mode      sent   ok     failed  amplification  seconds  fairness");
    let mut outcomes = Vec::new();
    for mode in [RetryMode::Legacy, RetryMode::Standard, RetryMode::Adaptive] {
        let o = run(mode);
        eprintln!(
            "{:<9} {:<6} {:<6} {:<7} {:<14.2} {:<8.2} {:.2}",
            format!("{mode:?}"),
            o.sent,
            o.succeeded,
            o.failed,
            o.amplification(),
            o.seconds,
            o.fairness
        );
        outcomes.push((mode, o));
    }
    let total = u64::from(REQUESTS) * CLIENTS as u64;
    for (mode, o) in &outcomes {
        assert_eq!(
            o.succeeded + o.failed,
            total,
            "{mode:?}: every request ended"
        );
    }
    let adaptive = &outcomes[2].1;
    assert_eq!(
        adaptive.failed, 0,
        "no client fails while the service only throttles"
    );
    assert!(
        adaptive.amplification() <= 1.2,
        "adaptive amplification {:.2}",
        adaptive.amplification()
    );
    // Serving everything at capacity takes total / CAPACITY seconds. Each client's limiter
    // grows back slowly once others finish (the price of not retrying in waves): a collapse
    // to the minimum rate would take far longer than this.
    let floor = total as f64 / f64::from(CAPACITY);
    assert!(
        adaptive.seconds < floor * 4.0,
        "{:.2} s against a floor of {floor:.2} s",
        adaptive.seconds
    );
}

/// Requests sent by one client for `requests` HEADs to a service failing every one of them
/// with 500 InternalError.
fn against_a_failing_service(mode: RetryMode, requests: u32) -> u64 {
    let plan = sim::FaultPlan::new().every(sim::Match::default(), sim::Fault::InternalError);
    let mut sim = Sim::new().faults(plan);
    let config = Config::new("http://127.0.0.1:9000", "us-east-1")
        .unwrap()
        .addressing(Addressing::Path);
    let options = Options::default().retry(RetryPolicy::default().mode(mode));
    let session = Session::new(config, sim::credentials(), options);
    let op = HeadObject::new("bucket".parse().unwrap(), "object".parse().unwrap());
    let mut sent = 0;
    for _ in 0..requests {
        let mut attempts = session.attempts(&op, true);
        loop {
            sent += 1;
            let result = sim::send(&mut sim, attempts.config(&session), &op, None);
            match attempts.handle(
                &session,
                result.map(|(h, _)| h),
                Duration::ZERO,
                7,
                sim.now(),
            ) {
                Next::Retry(delay) => sim.advance(delay),
                Next::Done(done) => {
                    assert!(done.result.is_err());
                    break;
                }
            }
        }
    }
    sent
}

#[test]
fn the_retry_quota_stops_multiplying_a_failing_services_load() {
    let legacy = against_a_failing_service(RetryMode::Legacy, 300);
    let standard = against_a_failing_service(RetryMode::Standard, 300);
    eprintln!("300 requests to a failing service: legacy sent {legacy}, standard {standard}");
    assert_eq!(legacy, 300 * 4, "four attempts each");
    // The quota pays for 100 retries (500 tokens at 5), then errors surface at once.
    assert_eq!(standard, 300 + 100);
}
