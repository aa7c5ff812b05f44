//! The flow loop of [`crate::flow`] over the simulator: what a runtime does, on one thread
//! and the virtual clock.
//!
//! `Send` jobs run at once, `Spawn` jobs are queued and finished in a seeded random order (so
//! parts complete out of order), `Read` hands out the next bytes of the source. Every request
//! goes through the real retry machine (`Session::attempts` + `Attempts::handle`), each retry
//! delay advancing the simulator's clock. Ranged GETs are written into [`Runtime::scratch`],
//! which replaces the destination only when the flow ends well, as the runtimes rename a
//! temporary file.

use std::time::{Duration, SystemTime};

use super::Sim;
use crate::Config;
use crate::error::{Error, ErrorCode, InputError};
use crate::flow::download::RangeJob;
use crate::flow::paginate::{Entries, ListStep, Listing};
use crate::flow::request::{Attempts, Next, Sent, Session};
use crate::flow::{Call, Flow, Job, Reply, Step, Work};
use crate::object::ObjectHead;
use crate::op::Operation;

/// Body chunks a range is written in (several per range, as a socket delivers them).
const CHUNK: usize = 256 * 1024;
/// The most scratch bytes reserved ahead for one object.
const MAX_RESERVE: usize = 4 << 30;
/// A flow that needs more steps than this is looping.
pub const MAX_STEPS: usize = 1_000_000;

/// splitmix64: the completion order of spawned jobs and the jitter bits.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let z = self.0;
        let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 for `n` = 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// How a [`Runtime::drive_until`] run ended.
#[derive(Debug)]
pub enum Driven<T> {
    /// The flow ended.
    Done(Result<T, Error>),
    /// The run was cut off (a killed process): the flow and its running jobs were dropped.
    Killed,
}

/// The flow loop of [`crate::flow`] as a test runtime over a [`Sim`].
#[derive(Debug)]
pub struct Runtime<'a> {
    /// The server.
    pub sim: &'a mut Sim,
    session: &'a Session,
    rng: Rng,
    /// How far the local clock is behind the simulator's.
    pub lag: Duration,
    /// Every retry delay asked for, in order.
    pub delays: Vec<Duration>,
    /// Cleanup requests (AbortMultipartUpload, the ListMultipartUploads of the sweep) that
    /// failed for good, other than for an upload already gone.
    pub cleanup_failures: u32,
    /// Where ranges are written (the temporary file); it replaces the destination only when
    /// the flow ends well.
    pub scratch: Vec<u8>,
    /// Most body bytes held by running jobs at once (parts read, ranges being fetched).
    pub peak_in_flight: u64,
    /// Most jobs running at once.
    pub peak_jobs: usize,
}

impl<'a> Runtime<'a> {
    /// A runtime over `sim` with `session`'s retry policy, finishing spawned jobs in the
    /// order `seed` picks.
    pub fn new(sim: &'a mut Sim, session: &'a Session, seed: u64) -> Self {
        Runtime {
            sim,
            session,
            rng: Rng(seed),
            lag: Duration::ZERO,
            delays: Vec::new(),
            cleanup_failures: 0,
            scratch: Vec::new(),
            peak_in_flight: 0,
            peak_jobs: 0,
        }
    }

    fn local_now(&self) -> SystemTime {
        self.sim.now() - self.lag
    }

    /// Runs `flow` to its end; `source` is the file or reader, `dest` the download target.
    ///
    /// # Errors
    /// The flow's error, or [`InputError`] when the flow breaks the loop's contract (waits
    /// with nothing running, ends with jobs running, loops).
    pub fn drive<F: Flow>(
        &mut self,
        flow: F,
        source: &[u8],
        dest: &mut Vec<u8>,
    ) -> Result<F::Output, Error> {
        self.scratch.clear();
        self.resume(flow, source, dest)
    }

    /// Like [`Runtime::drive`], writing ranges over what [`Runtime::scratch`] holds already
    /// (a temporary file left by an interrupted download).
    ///
    /// # Errors
    /// As [`Runtime::drive`].
    pub fn resume<F: Flow>(
        &mut self,
        mut flow: F,
        source: &[u8],
        dest: &mut Vec<u8>,
    ) -> Result<F::Output, Error> {
        match self.drive_until(&mut flow, source, dest, usize::MAX) {
            Driven::Done(result) => result,
            Driven::Killed => Err(broken("the flow did not end")),
        }
    }

    /// Runs `flow` until it ends or `jobs` jobs have finished, whichever comes first; then
    /// the run stops as a killed process would: jobs still running are never sent.
    pub fn drive_until<F: Flow>(
        &mut self,
        flow: &mut F,
        source: &[u8],
        dest: &mut Vec<u8>,
        jobs: usize,
    ) -> Driven<F::Output> {
        let mut running: Vec<Job> = Vec::new();
        let (mut read, mut finished) = (0, 0);
        for _ in 0..MAX_STEPS {
            if finished >= jobs {
                return Driven::Killed;
            }
            match flow.poll() {
                Step::Send(job) => {
                    let id = job.id;
                    let sent = self.run(job, source);
                    flow.handle(id, sent);
                    finished += 1;
                }
                Step::Spawn(job) => {
                    running.push(job);
                    self.peak_jobs = self.peak_jobs.max(running.len());
                    let held: u64 = running.iter().map(body_len).sum();
                    self.peak_in_flight = self.peak_in_flight.max(held);
                    // Now and then a job ends while others are still being started.
                    if self.rng.below(3) == 0 {
                        self.finish_one(flow, &mut running, source);
                        finished += 1;
                    }
                }
                Step::Read(n) => {
                    let n = usize::try_from(n).unwrap_or(usize::MAX);
                    let end = source.len().min(read + n.min(source.len()));
                    flow.read(source.get(read..end).unwrap_or_default().to_vec());
                    read = end;
                }
                Step::Wait if running.is_empty() => {
                    return Driven::Done(Err(broken("the flow waits with no job running")));
                }
                Step::Wait => {
                    self.finish_one(flow, &mut running, source);
                    finished += 1;
                }
                Step::Done(result) => {
                    if !running.is_empty() {
                        return Driven::Done(Err(broken("the flow ended with jobs running")));
                    }
                    if result.is_ok() {
                        *dest = std::mem::take(&mut self.scratch);
                    }
                    return Driven::Done(result);
                }
            }
        }
        Driven::Done(Err(broken("the flow did not end within MAX_STEPS steps")))
    }

    /// Finishes a running job picked at random and hands its result to the flow.
    fn finish_one<F: Flow>(&mut self, flow: &mut F, running: &mut Vec<Job>, source: &[u8]) {
        let job = running.swap_remove(self.rng.below(running.len()));
        let id = job.id;
        let sent = self.run(job, source);
        flow.handle(id, sent);
    }

    /// One job's IO, every attempt of it.
    pub fn run(&mut self, job: Job, source: &[u8]) -> Sent<Reply> {
        match job.work {
            Work::Call(call) => {
                let cleanup = matches!(
                    call,
                    Call::AbortMultipartUpload(_) | Call::ListMultipartUploads(_)
                );
                let sent = self.send(&call, None, true);
                let failed = sent
                    .result
                    .as_ref()
                    .is_err_and(|e| e.code() != Some(&ErrorCode::NoSuchUpload));
                if cleanup && failed {
                    self.cleanup_failures += 1;
                }
                sent
            }
            Work::FileBody {
                call,
                offset,
                len,
                mut digests,
            } => {
                let range = usize::try_from(offset)
                    .ok()
                    .zip(usize::try_from(offset.saturating_add(len)).ok())
                    .and_then(|(start, end)| source.get(start..end));
                let Some(body) = range else {
                    let e = InputError::argument("source", "shorter than the flow asks for");
                    return Sent::failed(e.into());
                };
                let call = if digests.is_empty() {
                    call
                } else {
                    digests.update(body);
                    call.with_digests(digests)
                };
                self.send(&call, Some(body), true)
            }
            Work::Range(range) => self.fetch(range),
        }
    }

    /// `op` through the retry machine.
    pub fn send<O: Operation + ?Sized>(
        &mut self,
        op: &O,
        body: Option<&[u8]>,
        replayable: bool,
    ) -> Sent<O::Output> {
        let attempts = self.session.attempts(op, replayable);
        self.retrying(attempts, |rt, config, now| {
            super::send_streamed_at(rt.sim, config, op, body, now)
                .into_result()
                .map(|(out, _)| out)
        })
    }

    /// The per-request loop every runtime runs: sign with the session's clock, send, let
    /// `Attempts` decide, sleep on the virtual clock.
    fn retrying<T>(
        &mut self,
        mut attempts: Attempts,
        mut once: impl FnMut(&mut Self, &Config, SystemTime) -> Result<T, Error>,
    ) -> Sent<T> {
        let session = self.session;
        let start = self.sim.now();
        loop {
            while let Some(wait) = attempts.pace(session, self.local_now()) {
                self.sim.advance(wait);
            }
            let config = attempts.config(session).clone();
            let now = session.now(self.local_now());
            let result = once(self, &config, now);
            let elapsed = self.sim.now().duration_since(start).unwrap_or_default();
            let bits = self.rng.next_u64();
            match attempts.handle(session, result, elapsed, bits, self.local_now()) {
                Next::Retry(delay) => {
                    self.delays.push(delay);
                    self.sim.advance(delay);
                }
                Next::Done(sent) => return sent,
            }
        }
    }

    /// A range into the scratch buffer, resumed where an attempt broke off.
    fn fetch(&mut self, mut range: RangeJob) -> Sent<Reply> {
        let Some(first) = range.get() else {
            let e = InputError::argument("range", "nothing to fetch");
            return Sent::failed(e.into());
        };
        let attempts = self.session.attempts(&first, true);
        let sent = self.retrying(attempts, |rt, config, now| {
            if let Some(get) = range.get() {
                let streamed = super::send_streamed_at(rt.sim, config, &get, None, now);
                let head = streamed.head?;
                range.begin(&head)?;
                rt.reserve(head.content_range.and_then(|r| r.total));
                for chunk in streamed.body.chunks(CHUNK) {
                    range.admit(chunk.len())?;
                    rt.write_at(range.position(), chunk);
                    let scratch = &rt.scratch;
                    range.wrote(chunk, |at, out| {
                        let at = usize::try_from(at).unwrap_or(usize::MAX);
                        let back = scratch.get(at..at.saturating_add(out.len()));
                        let back = back.ok_or_else(|| broken("read back past the end"))?;
                        out.copy_from_slice(back);
                        Ok(())
                    })?;
                }
                if let Some(e) = streamed.broken {
                    return Err(e);
                }
            }
            range.end()
        });
        sent.map(|()| Reply::GetObject(ObjectHead::default()))
    }

    /// Room for the whole object in the scratch buffer at once, as a runtime's file takes
    /// any offset: growing it range by range would copy it over and over.
    fn reserve(&mut self, total: Option<u64>) {
        let total = total.and_then(|t| usize::try_from(t).ok()).unwrap_or(0);
        if total <= MAX_RESERVE {
            self.scratch
                .reserve(total.saturating_sub(self.scratch.len()));
        }
    }

    fn write_at(&mut self, position: u64, chunk: &[u8]) {
        let at = usize::try_from(position).unwrap_or(usize::MAX);
        let end = at.saturating_add(chunk.len());
        if at == self.scratch.len() {
            self.scratch.extend_from_slice(chunk);
            return;
        }
        if self.scratch.len() < end {
            self.scratch.resize(end, 0);
        }
        if let Some(place) = self.scratch.get_mut(at..end) {
            place.copy_from_slice(chunk);
        }
    }

    /// Every entry of a listing, each page through the retry machine, with the number of
    /// pages.
    ///
    /// # Errors
    /// The first page that failed for good.
    pub fn list<O: Entries>(&mut self, first: O) -> Result<(Vec<O::Entry>, u64), Error> {
        let mut entries = Vec::new();
        let pages = self.each(first, |e| entries.push(e))?;
        Ok((entries, pages))
    }

    /// Hands every entry of a listing to `entry` as it arrives, in constant memory; returns
    /// the number of pages.
    ///
    /// # Errors
    /// The first page that failed for good.
    pub fn each<O: Entries>(
        &mut self,
        first: O,
        mut entry: impl FnMut(O::Entry),
    ) -> Result<u64, Error> {
        let mut listing = Listing::new(first);
        loop {
            match listing.poll() {
                ListStep::Entry(e) => entry(e),
                ListStep::Send(op) => {
                    let sent = self.send(&op, None, true);
                    if let Some(e) = listing.handle(sent.result) {
                        return Err(e);
                    }
                }
                ListStep::End => return Ok(listing.pages()),
            }
        }
    }
}

/// Bytes a running job holds: a part's body, or a range being fetched.
fn body_len(job: &Job) -> u64 {
    match &job.work {
        Work::Call(Call::UploadPart(part)) => part.body().len().unwrap_or(0),
        Work::Call(Call::PutObject(put)) => put.body().len().unwrap_or(0),
        Work::Call(_) => 0,
        Work::FileBody { len, .. } => *len,
        Work::Range(range) => range.slot().len,
    }
}

/// A break of the flow loop's contract.
fn broken(why: &str) -> Error {
    InputError::argument("flow", why.to_owned()).into()
}
