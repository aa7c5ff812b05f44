//! A fault-injecting TCP proxy between a client under test and a real server on 127.0.0.1.
//!
//! Every client connection gets its own upstream connection; bytes are pumped both ways on
//! two threads. Each connection carries one request: the proxy adds `Connection: close` to
//! the request and to the response, so pooled clients open a new connection per request and
//! every request meets the fault plan. While a fault's budget lasts, each request is hit: cut
//! after some bytes of the response or of the request, stalled, delayed, or answered by the
//! proxy itself with a 503 SlowDown / 500 InternalError without reaching the server.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One kind of misbehaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward faithfully.
    None,
    /// Close both sides after this many response bytes (headers included): a reset
    /// mid-response, or a body cut short.
    DropResponseAfter(u64),
    /// Close both sides after this many request bytes: the connection dies mid-upload.
    DropRequestAfter(u64),
    /// After this many response bytes, send nothing for the given time, then go on.
    Stall(u64, Duration),
    /// Hold the response's first byte back for the given time.
    DelayFirstByte(Duration),
    /// Answer the request with `503 SlowDown` without reaching the server.
    SlowDown,
    /// Answer the request with `500 InternalError` without reaching the server.
    InternalError,
    /// Drop the response's `Content-Length` (the body then ends when the connection closes)
    /// and send this many bytes more than the server did: a body longer than asked.
    LongerBody(u64),
    /// Flip one bit of the response body's byte at this offset (counted from the body's
    /// start; the head must arrive in the first read): a body corrupted on the way.
    FlipResponseByte(u64),
    /// Flip one bit of the request body's byte at this offset: an upload corrupted on the
    /// way.
    FlipRequestByte(u64),
}

/// What the proxy did, for the test's report.
#[derive(Debug, Default)]
pub struct Stats {
    /// Client connections accepted.
    pub connections: AtomicU64,
    /// Faults injected.
    pub faults: AtomicU64,
    /// Response bytes forwarded to clients.
    pub bytes_down: AtomicU64,
    /// Request bytes forwarded to the server.
    pub bytes_up: AtomicU64,
    /// Connections open now.
    pub open: AtomicU64,
    /// The most connections open at once.
    pub max_open: AtomicU64,
    /// Requests forwarded whose reply has not started coming back yet.
    pub awaiting: AtomicU64,
    /// The most requests awaiting their reply at once: requests the client had in flight
    /// (a request that started after another's reply began counts apart from it, however
    /// late the proxy notices that connection closing).
    pub max_awaiting: AtomicU64,
    /// The head of every request forwarded and of the response it got (request line and
    /// headers, as text), in the order the exchanges ended.
    pub heads: Mutex<Vec<(String, String)>>,
}

#[derive(Debug)]
struct Plan {
    fault: Fault,
    /// Requests to let through before the first hit.
    skip: u64,
    /// Requests still to hit.
    remaining: u64,
}

/// A running proxy; stops accepting when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    plan: Arc<Mutex<Plan>>,
    stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`http://127.0.0.1:PORT` or `127.0.0.1:PORT`), forwarding
    /// faithfully until [`FaultProxy::inject`] is called.
    ///
    /// # Panics
    /// When the upstream address does not parse or no local port is free (test set-up).
    pub fn start(upstream: &str) -> FaultProxy {
        FaultProxy::start_after(upstream, Duration::ZERO)
    }

    /// Like [`FaultProxy::start`], but its port refuses connections for `delay` before the
    /// proxy starts listening on it: clients connecting early fail to connect.
    ///
    /// # Panics
    /// As [`FaultProxy::start`].
    pub fn start_after(upstream: &str, delay: Duration) -> FaultProxy {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap_or_else(|e| panic!("proxy upstream {upstream}: {e}"));
        // Reserve a port, then (after the delay) listen on it.
        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("proxy address");
        let plan = Arc::new(Mutex::new(Plan {
            fault: Fault::None,
            skip: 0,
            remaining: 0,
        }));
        let stats = Arc::new(Stats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s, st) = (plan.clone(), stats.clone(), stop.clone());
        let bound = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let ready = bound.clone();
        thread::spawn(move || {
            thread::sleep(delay);
            let listener = TcpListener::bind(addr).expect("bind proxy");
            *ready.0.lock().expect("bound") = true;
            ready.1.notify_all();
            for client in listener.incoming() {
                if st.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(client) = client else { continue };
                s.connections.fetch_add(1, Ordering::Relaxed);
                let (p, s) = (p.clone(), s.clone());
                thread::spawn(move || {
                    let open = s.open.fetch_add(1, Ordering::Relaxed) + 1;
                    s.max_open.fetch_max(open, Ordering::Relaxed);
                    let _ = serve(client, upstream, &p, &s);
                    s.open.fetch_sub(1, Ordering::Relaxed);
                });
            }
        });
        if delay.is_zero() {
            let mut up = bound.0.lock().expect("bound");
            while !*up {
                up = bound.1.wait(up).expect("bound");
            }
        }
        FaultProxy {
            addr,
            plan,
            stats,
            stop,
        }
    }

    /// The endpoint clients should use: `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Hits the next `times` requests with `fault`.
    pub fn inject(&self, fault: Fault, times: u64) {
        self.inject_after(0, fault, times);
    }

    /// Lets `skip` requests through, then hits the `times` after them with `fault`.
    pub fn inject_after(&self, skip: u64, fault: Fault, times: u64) {
        let mut plan = self.plan.lock().expect("plan");
        plan.fault = fault;
        plan.skip = skip;
        plan.remaining = times;
    }

    /// Faults still to inject.
    pub fn pending(&self) -> u64 {
        self.plan.lock().expect("plan").remaining
    }

    /// What the proxy did so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Takes the fault for a connection whose first request bytes just arrived.
fn take_fault(plan: &Mutex<Plan>, stats: &Stats) -> Fault {
    let mut plan = plan.lock().expect("plan");
    if plan.remaining == 0 || plan.fault == Fault::None {
        return Fault::None;
    }
    if plan.skip > 0 {
        plan.skip -= 1;
        return Fault::None;
    }
    plan.remaining -= 1;
    stats.faults.fetch_add(1, Ordering::Relaxed);
    plan.fault
}

/// Counts one request as awaiting its reply, until answered or dropped.
struct Awaiting<'a>(Option<&'a Stats>);

impl<'a> Awaiting<'a> {
    fn new(stats: &'a Stats) -> Self {
        let now = stats.awaiting.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_awaiting.fetch_max(now, Ordering::SeqCst);
        Awaiting(Some(stats))
    }

    fn answered(&mut self) {
        if let Some(stats) = self.0.take() {
            stats.awaiting.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for Awaiting<'_> {
    fn drop(&mut self) {
        self.answered();
    }
}

fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    plan: &Mutex<Plan>,
    stats: &Arc<Stats>,
) -> io::Result<()> {
    client.set_nodelay(true)?;
    // Wait for the request to start, so idle pooled connections do not use up the faults.
    let mut first = vec![0u8; 64 * 1024];
    let n = client.read(&mut first)?;
    if n == 0 {
        return Ok(());
    }
    first.truncate(n);
    let request_head = head_text(&first);
    let mut awaiting = Awaiting::new(stats);
    let first = with_connection_close(&first);
    let fault = take_fault(plan, stats);
    if let Fault::SlowDown | Fault::InternalError = fault {
        return answer_error(client, fault);
    }
    let server = TcpStream::connect(upstream)?;
    server.set_nodelay(true)?;
    let (mut c_read, mut s_write) = (client.try_clone()?, server.try_clone()?);
    let up_limit = match fault {
        Fault::DropRequestAfter(n) => Some(n),
        _ => None,
    };
    let mut up_flip = match fault {
        Fault::FlipRequestByte(at) => Some(Flip::new(at)),
        _ => None,
    };
    let mut down_flip = match fault {
        Fault::FlipResponseByte(at) => Some(Flip::new(at)),
        _ => None,
    };
    let up_stats = stats.clone();
    let (c_close, s_close) = (client.try_clone()?, server.try_clone()?);
    let upstream_pump = thread::spawn(move || {
        let mut sent = 0u64;
        let mut chunk = first;
        loop {
            if let Some(limit) = up_limit {
                if sent + chunk.len() as u64 >= limit {
                    let keep = usize::try_from(limit.saturating_sub(sent)).unwrap_or(0);
                    let _ = s_write.write_all(&chunk[..keep]);
                    let _ = c_close.shutdown(Shutdown::Both);
                    let _ = s_close.shutdown(Shutdown::Both);
                    return;
                }
            }
            if let Some(flip) = up_flip.as_mut() {
                flip.apply(&mut chunk);
            }
            if s_write.write_all(&chunk).is_err() {
                break;
            }
            sent += chunk.len() as u64;
            up_stats
                .bytes_up
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            let mut buf = vec![0u8; 64 * 1024];
            match c_read.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    buf.truncate(n);
                    chunk = buf;
                }
            }
        }
        let _ = s_write.shutdown(Shutdown::Write);
    });
    let mut s_read = server;
    let mut received = 0u64;
    let mut stalled = false;
    let mut buf = vec![0u8; 64 * 1024];
    if let Fault::DelayFirstByte(d) = fault {
        thread::sleep(d);
    }
    let mut head_rewritten = false;
    let mut response_head = String::new();
    loop {
        let n = match s_read.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(flip) = down_flip.as_mut() {
            flip.apply(&mut buf[..n]);
        }
        let rewritten;
        let mut data = if head_rewritten {
            &buf[..n]
        } else {
            head_rewritten = true;
            awaiting.answered();
            response_head = head_text(&buf[..n]);
            rewritten = match fault {
                Fault::LongerBody(_) => without_content_length(&with_connection_close(&buf[..n])),
                _ => with_connection_close(&buf[..n]),
            };
            &rewritten[..]
        };
        let n = data.len();
        match fault {
            Fault::DropResponseAfter(limit) if received + n as u64 >= limit => {
                let keep = usize::try_from(limit.saturating_sub(received)).unwrap_or(0);
                let _ = client.write_all(&data[..keep]);
                let _ = client.shutdown(Shutdown::Both);
                let _ = s_read.shutdown(Shutdown::Both);
                break;
            }
            Fault::Stall(after, pause) if !stalled && received + n as u64 >= after => {
                let keep = usize::try_from(after.saturating_sub(received)).unwrap_or(0);
                client.write_all(&data[..keep])?;
                received += keep as u64;
                data = &data[keep..];
                thread::sleep(pause);
                stalled = true;
            }
            _ => {}
        }
        if client.write_all(data).is_err() {
            break;
        }
        received += data.len() as u64;
        stats
            .bytes_down
            .fetch_add(data.len() as u64, Ordering::Relaxed);
    }
    if let Fault::LongerBody(extra) = fault {
        let junk = vec![b'#'; usize::try_from(extra).unwrap_or(0)];
        let _ = client.write_all(&junk);
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = upstream_pump.join();
    if let Ok(mut heads) = stats.heads.lock() {
        heads.push((request_head, response_head));
    }
    Ok(())
}

/// The head of an HTTP message (up to the blank line), as text.
fn head_text(message: &[u8]) -> String {
    let end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(message.len());
    String::from_utf8_lossy(&message[..end]).into_owned()
}

/// Flips one bit at a body offset of a message passing through in chunks.
struct Flip {
    /// The body offset to flip.
    at: u64,
    /// Body bytes seen; `None` until the head has passed.
    seen: Option<u64>,
}

impl Flip {
    fn new(at: u64) -> Self {
        Flip { at, seen: None }
    }

    fn apply(&mut self, chunk: &mut [u8]) {
        let body = match self.seen {
            Some(_) => 0,
            None => match chunk.windows(4).position(|w| w == b"\r\n\r\n") {
                Some(p) => {
                    self.seen = Some(0);
                    p + 4
                }
                None => return,
            },
        };
        let seen = self.seen.unwrap_or(0);
        let len = (chunk.len() - body) as u64;
        if (seen..seen + len).contains(&self.at) {
            let index = body + usize::try_from(self.at - seen).unwrap_or(0);
            chunk[index] ^= 0x20;
        }
        self.seen = Some(seen + len);
    }
}

/// The response head without its `Content-Length` line.
fn without_content_length(message: &[u8]) -> Vec<u8> {
    let head_end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(message.len(), |p| p + 2);
    let (head, rest) = message.split_at(head_end);
    let mut out = Vec::with_capacity(message.len());
    for line in head.split_inclusive(|&b| b == b'\n') {
        if !line.to_ascii_lowercase().starts_with(b"content-length:") {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(rest);
    out
}

/// The message with `Connection: close` added after its first line (request or status line),
/// so neither side keeps the connection for another request.
fn with_connection_close(message: &[u8]) -> Vec<u8> {
    let Some(end) = message.windows(2).position(|w| w == b"\r\n") else {
        return message.to_vec();
    };
    let mut out = Vec::with_capacity(message.len() + 19);
    out.extend_from_slice(&message[..end + 2]);
    out.extend_from_slice(b"connection: close\r\n");
    out.extend_from_slice(&message[end + 2..]);
    out
}

/// Answers with an S3 error document and closes the connection.
fn answer_error(mut client: TcpStream, fault: Fault) -> io::Result<()> {
    let (status, code) = match fault {
        Fault::SlowDown => ("503 Slow Down", "SlowDown"),
        _ => ("500 Internal Server Error", "InternalError"),
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code>\
         <Message>injected by the test proxy</Message><RequestId>proxy</RequestId></Error>"
    );
    let reply = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/xml\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
    client.write_all(reply.as_bytes())?;
    client.flush()?;
    // Let the client finish sending what it started (an upload body) before closing, so it
    // reads the answer instead of a broken pipe.
    client.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut sink = [0u8; 64 * 1024];
    while let Ok(n) = client.read(&mut sink) {
        if n == 0 {
            break;
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    Ok(())
}

/// An endpoint whose connects hang: a listener that never accepts, its backlog filled by
/// connections held in the returned value (drop it to release them).
///
/// # Panics
/// When no local port is free (test set-up).
pub fn unanswered_endpoint() -> (String, (TcpListener, Vec<TcpStream>)) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let mut held = Vec::new();
    // Linux queues up to the backlog (128 from std, capped by somaxconn) finished
    // handshakes, then drops further SYNs: a connect then hangs until its timeout.
    for _ in 0..1024 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(50)) {
            Ok(stream) => held.push(stream),
            Err(_) => break,
        }
    }
    (format!("http://{addr}"), (listener, held))
}
