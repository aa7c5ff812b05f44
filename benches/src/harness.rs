//! Timing loop, result rows and the printed tables.

use std::time::{Duration, Instant};

/// Batches per measurement; the median is reported.
const BATCHES: usize = 21;
/// Wall time of one batch.
const BATCH: Duration = Duration::from_millis(20);

/// A named operation to time (and to count instructions of, under callgrind).
pub struct Workload {
    /// Stable name, used by `--callgrind <name>`.
    pub name: &'static str,
    /// Bytes processed per call, for MB/s; 0 when not meaningful.
    pub bytes: usize,
    /// One call.
    pub run: Box<dyn FnMut()>,
}

impl Workload {
    pub fn new(name: &'static str, bytes: usize, run: impl FnMut() + 'static) -> Self {
        Workload {
            name,
            bytes,
            run: Box::new(run),
        }
    }
}

/// Calls per batch so a batch of `f` takes about [`BATCH`]; doubles as warm-up.
fn calibrate(f: &mut dyn FnMut()) -> u64 {
    let mut iters = 1u64;
    let elapsed = loop {
        let start = Instant::now();
        for _ in 0..iters {
            f();
        }
        let e = start.elapsed();
        if e >= BATCH / 2 {
            break e;
        }
        iters *= 2;
    };
    ((iters as f64 * BATCH.as_secs_f64() / elapsed.as_secs_f64()) as u64).max(1)
}

/// Median nanoseconds per call of each of `fs`. Batches of the contenders alternate, so a
/// burst of load from elsewhere on the machine hits all of them alike and ratios hold.
pub fn measure_group(fs: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    let iters: Vec<u64> = fs.iter_mut().map(|f| calibrate(*f)).collect();
    let mut samples = vec![Vec::with_capacity(BATCHES); fs.len()];
    for _ in 0..BATCHES {
        for (i, f) in fs.iter_mut().enumerate() {
            let start = Instant::now();
            for _ in 0..iters[i] {
                f();
            }
            samples[i].push(start.elapsed().as_nanos() as f64 / iters[i] as f64);
        }
    }
    samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(f64::total_cmp);
            s[BATCHES / 2]
        })
        .collect()
}

/// What a row's numbers are.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Nanoseconds per operation (lower is better).
    Ns,
    /// Microseconds per request (lower is better).
    Us,
    /// Megabytes (10^6) per second (higher is better).
    MBs,
}

impl Unit {
    fn label(self) -> &'static str {
        match self {
            Unit::Ns => "ns/op",
            Unit::Us => "µs/req",
            Unit::MBs => "MB/s",
        }
    }

    /// Converts a measured ns/op (with `bytes` per op) into this unit.
    pub fn of_ns(self, ns: f64, bytes: usize) -> f64 {
        match self {
            Unit::Ns => ns,
            Unit::Us => ns / 1e3,
            Unit::MBs => bytes as f64 / ns * 1e3,
        }
    }

    /// How many times better `a` is than `b`.
    fn better(self, a: f64, b: f64) -> f64 {
        match self {
            Unit::Ns | Unit::Us => b / a,
            Unit::MBs => a / b,
        }
    }
}

/// One line of the results table.
pub struct Row {
    pub name: String,
    pub unit: Unit,
    pub ours: f64,
    /// The AWS crate for this row (aws-sigv4, aws-smithy-xml or aws-sdk-s3).
    pub aws: Option<f64>,
    pub rusty: Option<f64>,
    pub floor: Option<f64>,
}

impl Row {
    pub fn new(name: impl Into<String>, unit: Unit, ours: f64) -> Self {
        Row {
            name: name.into(),
            unit,
            ours,
            aws: None,
            rusty: None,
            floor: None,
        }
    }

    pub fn aws(mut self, v: f64) -> Self {
        self.aws = Some(v);
        self
    }

    pub fn rusty(mut self, v: f64) -> Self {
        self.rusty = Some(v);
        self
    }

    pub fn floor(mut self, v: f64) -> Self {
        self.floor = Some(v);
        self
    }

    /// How many times better ours is than the best peer.
    pub fn vs_best_peer(&self) -> Option<f64> {
        let peers = [self.aws, self.rusty].into_iter().flatten();
        let best = match self.unit {
            Unit::Ns | Unit::Us => peers.min_by(f64::total_cmp),
            Unit::MBs => peers.max_by(f64::total_cmp),
        }?;
        Some(self.unit.better(self.ours, best))
    }

    /// Our cost over the floor's (1.0 = at the floor, 1.5 = 50% over).
    pub fn vs_floor(&self) -> Option<f64> {
        Some(self.unit.better(self.floor?, self.ours))
    }
}

/// A goal from the issue and whether it was met.
pub struct Target {
    pub what: String,
    pub goal: String,
    pub measured: String,
    pub met: bool,
    /// "by how much", as text.
    pub margin: String,
}

impl Target {
    /// A target that `measured` be at most `limit`.
    pub fn at_most(what: &str, goal: &str, measured: f64, limit: f64, unit: &str) -> Self {
        Target {
            what: what.to_owned(),
            goal: goal.to_owned(),
            measured: format!("{} {unit}", fmt(measured)),
            met: measured <= limit,
            margin: margin(limit / measured),
        }
    }

    /// A target that `measured` be at least `limit`.
    pub fn at_least(what: &str, goal: &str, measured: f64, limit: f64, unit: &str) -> Self {
        Target {
            what: what.to_owned(),
            goal: goal.to_owned(),
            measured: format!("{} {unit}", fmt(measured)),
            met: measured >= limit,
            margin: margin(measured / limit),
        }
    }
}

/// `headroom` > 1 means met with that factor to spare.
fn margin(headroom: f64) -> String {
    if headroom >= 1.0 {
        format!("{headroom:.2}× headroom")
    } else {
        format!("short by {:.2}×", 1.0 / headroom)
    }
}

/// Three significant digits, at least.
pub fn fmt(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), fmt)
}

fn ratio(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |r| format!("{r:.2}×"))
}

/// Prints the results as a Markdown table.
pub fn print_rows(rows: &[Row]) {
    println!(
        "| Benchmark | unit | ours | aws-* | rusty-s3 | floor | ours faster than best peer | ours cost ÷ floor cost |"
    );
    println!("|---|---|--:|--:|--:|--:|--:|--:|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.name,
            r.unit.label(),
            fmt(r.ours),
            cell(r.aws),
            cell(r.rusty),
            cell(r.floor),
            ratio(r.vs_best_peer()),
            ratio(r.vs_floor()),
        );
    }
}

/// Prints the targets as a Markdown table.
pub fn print_targets(targets: &[Target]) {
    println!("| Target | goal | measured | met | margin |");
    println!("|---|---|--:|---|---|");
    for t in targets {
        println!(
            "| {} | {} | {} | {} | {} |",
            t.what,
            t.goal,
            t.measured,
            if t.met { "met" } else { "MISSED" },
            t.margin
        );
    }
}
