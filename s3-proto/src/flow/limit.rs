//! How many requests a client has in flight: at most so many in all, and so many per host.
//!
//! One [`InFlight`] lives in a [`Session`](super::request::Session), shared by every clone of
//! a client, every transfer and every request. Before each attempt the per-request machine
//! asks it for a [`Permit`] ([`Attempts::pace`](super::request::Attempts::pace)); without a
//! free slot the attempt queues (first come, first served) and the runtime sleeps a moment
//! and asks again. The permit is released when the attempt ends (or its request is dropped:
//! permits and places in the queue give themselves back), before any retry delay. A
//! streamed body read after the request returned (`Client::open`) is not counted; ranged
//! downloads and uploads read and send their bodies inside the attempt, so they are.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::sorted::SortedMap;

/// First pause of an attempt waiting for a slot; it doubles up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(1);
/// Longest pause between two looks for a slot.
const MAX_POLL: Duration = Duration::from_millis(8);

/// The client's requests in flight, against its limits.
#[derive(Debug)]
pub struct InFlight {
    max: Option<usize>,
    per_host: Option<usize>,
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    total: usize,
    hosts: HashMap<String, usize>,
    /// Attempts waiting, in arrival order: ticket → host.
    queue: SortedMap<u64, String>,
    next_ticket: u64,
    peak: usize,
}

impl State {
    fn host_count(&self, host: &str) -> usize {
        self.hosts.get(host).copied().unwrap_or(0)
    }
}

/// An attempt's slot: released when dropped.
#[derive(Debug)]
pub struct Permit {
    state: Arc<Mutex<State>>,
    host: String,
}

/// An attempt's place in the queue: given up when dropped.
#[derive(Debug)]
pub struct Ticket {
    state: Arc<Mutex<State>>,
    number: u64,
    /// How long to pause before looking again.
    poll: Duration,
}

/// An attempt's turn: nothing yet, waiting, or holding a slot.
#[derive(Debug, Default)]
pub enum Turn {
    /// No slot asked for (before an attempt, or after it ended).
    #[default]
    Idle,
    /// Queued for a slot.
    Waiting(Ticket),
    /// Holding a slot until the attempt ends.
    Holding(Permit),
}

impl Clone for Turn {
    /// A copy of a request's state never holds its slot or its place.
    fn clone(&self) -> Self {
        Turn::Idle
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl InFlight {
    /// At most `max` requests in flight in all and `per_host` to one host (`None`: no limit).
    pub fn new(max: Option<usize>, per_host: Option<usize>) -> Self {
        InFlight {
            max: max.map(|n| n.max(1)),
            per_host: per_host.map(|n| n.max(1)),
            state: Arc::default(),
        }
    }

    /// True when a limit is set (otherwise attempts need no slot and are not counted).
    pub fn is_limited(&self) -> bool {
        self.max.is_some() || self.per_host.is_some()
    }

    /// Requests in flight now, and the most there were at once.
    pub fn count(&self) -> (usize, usize) {
        let state = lock(&self.state);
        (state.total, state.peak)
    }

    /// Moves `turn` on for an attempt to `host` (its endpoint URL): `None` when it holds a
    /// slot and may be sent, or how long to pause before asking again. Attempts are served
    /// in the order they first asked, but one waiting for a full host does not hold back
    /// attempts to other hosts.
    pub fn acquire(&self, turn: &mut Turn, host: &str) -> Option<Duration> {
        let mut state = lock(&self.state);
        let (number, poll) = match turn {
            Turn::Holding(_) => return None,
            Turn::Waiting(ticket) => (Some(ticket.number), ticket.poll),
            Turn::Idle => (None, FIRST_POLL),
        };
        let host_room = |s: &State, h: &str| self.per_host.is_none_or(|n| s.host_count(h) < n);
        // Waiting attempts ahead of this one that could take a slot now.
        let ahead = state
            .queue
            .below(&number.unwrap_or(u64::MAX))
            .filter(|(_, h)| host_room(&state, h))
            .count();
        let ahead_here = state
            .queue
            .below(&number.unwrap_or(u64::MAX))
            .filter(|(_, h)| h.as_str() == host)
            .count();
        let free = self.max.is_none_or(|n| state.total + ahead < n)
            && self
                .per_host
                .is_none_or(|n| state.host_count(host) + ahead_here < n);
        if free {
            if let Some(number) = number {
                state.queue.remove(&number);
            }
            state.total += 1;
            state.peak = state.peak.max(state.total);
            *state.hosts.entry(host.to_owned()).or_default() += 1;
            drop(state);
            let permit = Permit {
                state: self.state.clone(),
                host: host.to_owned(),
            };
            // A ticket replaced here finds its place gone already.
            *turn = Turn::Holding(permit);
            return None;
        }
        match turn {
            Turn::Waiting(ticket) => {
                ticket.poll = (poll * 2).min(MAX_POLL);
            }
            _ => {
                let number = state.next_ticket;
                state.next_ticket += 1;
                state.queue.insert(number, host.to_owned());
                drop(state);
                *turn = Turn::Waiting(Ticket {
                    state: self.state.clone(),
                    number,
                    poll: (poll * 2).min(MAX_POLL),
                });
            }
        }
        Some(poll)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut state = lock(&self.state);
        state.total = state.total.saturating_sub(1);
        if let Some(n) = state.hosts.get_mut(&self.host) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                state.hosts.remove(&self.host);
            }
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        lock(&self.state).queue.remove(&self.number);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "http://a";
    const B: &str = "http://b";

    #[test]
    fn at_most_max_in_flight_served_in_order() {
        let limits = InFlight::new(Some(2), None);
        let mut turns: Vec<Turn> = (0..5).map(|_| Turn::Idle).collect();
        for turn in &mut turns {
            let _ = limits.acquire(turn, A);
        }
        let holding = |turns: &[Turn]| {
            turns
                .iter()
                .map(|t| matches!(t, Turn::Holding(_)))
                .collect::<Vec<_>>()
        };
        assert_eq!(holding(&turns), [true, true, false, false, false]);
        assert_eq!(limits.count(), (2, 2));
        // The first waiter's pause grows while it waits.
        assert_eq!(limits.acquire(&mut turns[2], A), Some(FIRST_POLL * 2));
        // A slot frees: the next in line gets it, not a later one that asks first.
        turns[0] = Turn::Idle;
        assert!(limits.acquire(&mut turns[4], A).is_some());
        assert!(limits.acquire(&mut turns[3], A).is_some());
        assert_eq!(limits.acquire(&mut turns[2], A), None);
        assert_eq!(holding(&turns), [false, true, true, false, false]);
        // A newcomer queues behind the waiters.
        let mut late = Turn::Idle;
        turns[1] = Turn::Idle;
        assert!(limits.acquire(&mut late, A).is_some());
        assert_eq!(limits.acquire(&mut turns[3], A), None);
        // A waiter that gives up leaves the queue.
        turns[4] = Turn::Idle;
        turns[2] = Turn::Idle;
        assert_eq!(limits.acquire(&mut late, A), None);
        assert_eq!(limits.count(), (2, 2));
        drop(turns);
        drop(late);
        assert_eq!(limits.count(), (0, 2));
        // A copy of a turn holds nothing.
        let mut turn = Turn::Idle;
        assert_eq!(limits.acquire(&mut turn, A), None);
        assert!(matches!(turn.clone(), Turn::Idle));
        assert_eq!(limits.count().0, 1);
    }

    #[test]
    fn a_full_host_holds_back_only_its_own_attempts() {
        let limits = InFlight::new(Some(3), Some(1));
        let (mut a1, mut a2, mut b1, mut b2) = (Turn::Idle, Turn::Idle, Turn::Idle, Turn::Idle);
        assert_eq!(limits.acquire(&mut a1, A), None);
        assert!(limits.acquire(&mut a2, A).is_some());
        assert_eq!(
            limits.acquire(&mut b1, B),
            None,
            "B has room though A waits"
        );
        assert!(limits.acquire(&mut b2, B).is_some());
        assert_eq!(limits.count(), (2, 2));
        drop(a1);
        assert_eq!(limits.acquire(&mut a2, A), None);
        assert!(limits.acquire(&mut b2, B).is_some());
        let unlimited = InFlight::new(None, None);
        let mut turns: Vec<Turn> = (0..100).map(|_| Turn::Idle).collect();
        for turn in &mut turns {
            assert_eq!(unlimited.acquire(turn, A), None);
        }
        assert_eq!(unlimited.count(), (100, 100));
    }
}
