//! Requests in flight per client: many tasks sharing one session (as clones of a client and
//! the jobs of several transfers do) send GETs to the simulated S3 on one virtual clock, each
//! attempt in flight for a round trip between its permit and its answer. With a limit of two
//! no more than two are ever in flight, every request succeeds, the queue is served in order
//! and the slots are never left idle; without a limit they all go at once.

use std::time::{Duration, SystemTime};

use s3_proto::flow::request::{Attempts, Next, Options, Session};
use s3_proto::ops::GetObject;
use s3_proto::sim::{self, OpKind, Sim};
use s3_proto::{Addressing, BucketName, Config, ObjectKey};

const TASKS: usize = 12;
const REQUESTS: usize = 5;
const ROUND_TRIP: Duration = Duration::from_millis(10);

/// What a task is doing.
enum Doing {
    /// Asking for its turn at this time.
    Pacing(Attempts),
    /// In flight until this time, with the result it will get.
    Sending(Attempts, Result<(), s3_proto::Error>),
    Finished,
}

struct Task {
    doing: Doing,
    at: SystemTime,
    left: usize,
    first_done: Option<SystemTime>,
}

/// Runs every task to its end: the most in flight at once (counted here, not by the
/// limiter), the virtual time it took, the session's own count, and the order in which
/// tasks finished their first request.
fn run(options: Options) -> (usize, Duration, (usize, usize), Vec<usize>) {
    let mut sim = Sim::new();
    sim.create_bucket("bucket");
    sim.put_object("bucket", "object", &[7; 1000]);
    let config = Config::new("http://127.0.0.1:9000", "us-east-1")
        .unwrap()
        .addressing(Addressing::Path);
    let session = Session::new(config, sim::credentials(), options);
    let get = GetObject::new(
        BucketName::new("bucket").unwrap(),
        ObjectKey::new("object").unwrap(),
    );
    let start = sim.now();
    let mut tasks: Vec<Task> = (0..TASKS)
        .map(|i| Task {
            doing: Doing::Pacing(session.attempts(&get, true)),
            // Arriving one after the other.
            at: start + Duration::from_micros(i as u64),
            left: REQUESTS,
            first_done: None,
        })
        .collect();
    let (mut in_flight, mut most) = (0usize, 0usize);
    while let Some(task) = tasks
        .iter_mut()
        .filter(|t| !matches!(t.doing, Doing::Finished))
        .min_by_key(|t| (t.at, matches!(t.doing, Doing::Pacing(_))))
    {
        sim.advance_to(task.at);
        let now = sim.now();
        task.doing = match std::mem::replace(&mut task.doing, Doing::Finished) {
            Doing::Pacing(mut attempts) => match attempts.pace(&session, now) {
                Some(wait) => {
                    task.at = now + wait;
                    Doing::Pacing(attempts)
                }
                None => {
                    in_flight += 1;
                    most = most.max(in_flight);
                    let config = attempts.config(&session).clone();
                    let result = sim::send(&mut sim, &config, &get, None).map(|_| ());
                    task.at = now + ROUND_TRIP;
                    Doing::Sending(attempts, result)
                }
            },
            Doing::Sending(mut attempts, result) => {
                in_flight -= 1;
                match attempts.handle(&session, result, ROUND_TRIP, 0, now) {
                    Next::Retry(delay) => {
                        task.at = now + delay;
                        Doing::Pacing(attempts)
                    }
                    Next::Done(sent) => {
                        sent.result.expect("every request succeeds");
                        task.first_done.get_or_insert(now);
                        task.left -= 1;
                        if task.left == 0 {
                            Doing::Finished
                        } else {
                            Doing::Pacing(session.attempts(&get, true))
                        }
                    }
                }
            }
            Doing::Finished => Doing::Finished,
        };
    }
    assert_eq!(sim.requests(OpKind::GetObject), (TASKS * REQUESTS) as u64);
    let took = sim.now().duration_since(start).unwrap();
    let mut order: Vec<usize> = (0..TASKS).collect();
    order.sort_by_key(|&i| tasks[i].first_done);
    (most, took, session.in_flight(), order)
}

#[test]
fn at_most_the_limit_is_in_flight_and_the_slots_stay_busy() {
    let (most, took, count, order) = run(Options::default().max_in_flight(Some(2)));
    assert_eq!(most, 2, "never more than the limit, and the limit used");
    assert_eq!(count, (0, 2), "every slot given back");
    // 60 round trips two at a time: 30 round trips, plus the waiters' pauses (at most
    // 8 ms each time a slot frees, here and there).
    let ideal = ROUND_TRIP * (TASKS * REQUESTS / 2) as u32;
    assert!(took >= ideal, "{took:?}");
    assert!(took < ideal * 2, "slots left idle: {took:?} for {ideal:?}");
    // First come, first served: the tasks finish their first request in arrival order.
    assert_eq!(order, (0..TASKS).collect::<Vec<_>>());

    let per_host = Options::default().max_in_flight_per_host(Some(3));
    let (most, _, count, _) = run(per_host);
    assert_eq!(
        (most, count),
        (3, (0, 3)),
        "one host: its limit is the client's"
    );

    let (most, took, _, _) = run(Options::default());
    assert_eq!(most, TASKS, "no limit: every task at once");
    assert_eq!(
        took,
        ROUND_TRIP * REQUESTS as u32 + Duration::from_micros(TASKS as u64 - 1)
    );
}
