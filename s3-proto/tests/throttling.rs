//! Many clients, one throttled service: 64 clients, each with its own session, send small
//! requests back to back to a simulated S3 that serves half of what they offer and answers
//! the rest 503 SlowDown. Every retry mode is run on the same virtual clock and compared:
//! retry amplification (requests sent ÷ requests that succeeded), failures, completion time
//! and fairness between clients.
//!
//! `cargo test -p s3-proto --test throttling -- --nocapture` prints the table.

#![allow(clippy::print_stderr)] // the comparison is the point: it is printed

use s3_proto::sim;
use s3_proto::sim::crowd::{Crowd, Outcome};

use std::time::Duration;

use s3_proto::flow::request::{Next, Options, Session};
use s3_proto::ops::HeadObject;
use s3_proto::retry::{RetryMode, RetryPolicy};
use s3_proto::{Addressing, Config};
use sim::Sim;

const CLIENTS: usize = 64;
const REQUESTS: u32 = 100;
const ROUND_TRIP: Duration = Duration::from_millis(10);
/// The service serves half of what the clients offer back to back.
const CAPACITY: u32 = (CLIENTS as u32) * 1000 / 10 / 2;

fn run(mode: RetryMode) -> Outcome {
    let crowd = Crowd {
        clients: CLIENTS as u32,
        requests: REQUESTS,
        round_trip: ROUND_TRIP,
        overload: 2.0,
    };
    crowd.run(mode).unwrap()
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
    // The quota pays for 35 retries (500 tokens at 14 for a failure that is not throttling),
    // then errors surface at once.
    let retries = s3_proto::flow::throttle::QUOTA / s3_proto::flow::throttle::RETRY_COST;
    assert_eq!(retries, 35);
    assert_eq!(standard, 300 + u64::from(retries));
}
