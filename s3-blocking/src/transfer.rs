//! The flow loop of `s3_proto::flow` on threads, and the file and reader IO its jobs do.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use s3_proto::flow::download::RangeJob;
use s3_proto::flow::{BodyDigests, Call, Flow, Job, Reply, Sent, Step, Work};
use s3_proto::ops::ObjectHead;
use s3_proto::{Error, TransportError};

use crate::body::ObjectReader;
use crate::client::{Client, io_error};

/// Copy buffer: large enough that a GET to a file costs few syscalls per MiB.
const BUFFER: usize = 1 << 20;
/// Bytes a streamed download gathers before each write: a socket read brings what has
/// arrived (tens of KiB), and a write per read costs a system call each; batches that stay in
/// the CPU's cache cost less than whole [`BUFFER`]s (GET of 1 GiB from s3s-fs: a write per
/// read 1.8–1.9 CPU s, batches of 256 KiB 1.5–1.6 s, of 1 MiB 3.4–4.8 s).
const WRITE_BATCH: usize = 256 << 10;

/// The files a flow's jobs read parts from and write ranges to.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Files<'a> {
    /// Where [`Work::FileBody`] bodies are read.
    pub(crate) source: Option<&'a Path>,
    /// Where [`Work::Range`] bodies are written.
    pub(crate) dest: Option<&'a Path>,
}

impl<'a> Files<'a> {
    pub(crate) fn reading(path: &'a Path) -> Self {
        let source = Some(path);
        Files { source, dest: None }
    }

    pub(crate) fn writing(temp: &'a TempFile) -> Self {
        let dest = Some(temp.path.as_path());
        Files { source: None, dest }
    }

    pub(crate) fn resuming(partial: &'a Path) -> Self {
        let dest = Some(partial);
        Files { source: None, dest }
    }
}

impl Client {
    /// The loop documented in [`s3_proto::flow`]: sends inline, spawned jobs on scoped
    /// threads (the flow bounds how many), reads from `reader` when asked.
    pub(crate) fn drive_io<F: Flow>(
        &self,
        mut flow: F,
        files: Files<'_>,
        mut reader: Option<&mut dyn Read>,
    ) -> Result<F::Output, Error> {
        std::thread::scope(|scope| {
            let (done, finished) = mpsc::channel();
            loop {
                match flow.poll() {
                    Step::Send(job) => {
                        let id = job.id;
                        flow.handle(id, self.run(job, files));
                    }
                    Step::Spawn(job) => {
                        let done = done.clone();
                        scope.spawn(move || {
                            // The loop only stops listening once the flow is over.
                            let _ = done.send((job.id, self.run(job, files)));
                        });
                    }
                    Step::Read(len) => {
                        flow.read_result(reader.as_deref_mut().map(|r| read_up_to(r, len)));
                    }
                    Step::Wait => match finished.recv() {
                        Ok((id, sent)) => flow.handle(id, sent),
                        Err(_) => flow.fail(missing("a running job")),
                    },
                    Step::Done(result) => return result,
                }
            }
        })
    }

    /// Does one job's IO.
    fn run(&self, job: Job, files: Files<'_>) -> Sent<Reply> {
        match job.work {
            Work::Call(call) => self.send_sent(&call),
            Work::FileBody {
                call,
                offset,
                len,
                digests,
            } => match files.source.map(File::open) {
                Some(Ok(file)) => self.send_file(call, file, (offset, len), digests),
                Some(Err(e)) => Sent::failed(io_error(e, self.options())),
                None => Sent::failed(missing("a source file")),
            },
            Work::Range(range) => {
                let open = |p: &Path| fs::OpenOptions::new().write(true).open(p);
                match files.dest.map(|p| (p, open(p))) {
                    Some((path, Ok(file))) => self.fetch_range(range, file, path),
                    Some((_, Err(e))) => Sent::failed(io_error(e, self.options())),
                    None => Sent::failed(missing("a destination file")),
                }
            }
        }
    }

    /// Sends `call` with bytes `offset..offset + len` of `file` as its body, re-read from
    /// the offset on every attempt.
    fn send_file(
        &self,
        call: Call,
        file: File,
        (offset, len): (u64, u64),
        digests: BodyDigests,
    ) -> Sent<Reply> {
        let call = match (!digests.is_empty()).then(|| digests_of(&file, (offset, len), digests)) {
            Some(Ok(digests)) => call.with_digests(digests),
            Some(Err(e)) => return Sent::failed(e),
            None => call,
        };
        self.retrying(self.attempts(&call, true), |config| {
            let mut at = &file;
            at.seek(SeekFrom::Start(offset))
                .map_err(|e| io_error(e, self.options()))?;
            self.send_once(config, &call, &mut at.take(len))
        })
    }

    /// Fetches a range into its place in `file` (at `path`), resuming after what earlier
    /// attempts wrote.
    fn fetch_range(&self, mut range: RangeJob, mut file: File, path: &Path) -> Sent<Reply> {
        let Some(first) = range.get() else {
            return Sent::failed(missing("a range to fetch"));
        };
        let (mut buf, mut back) = (vec![0u8; BUFFER], None);
        let sent = self.retrying(self.attempts(&first, true), |config| {
            if let Some(get) = range.get() {
                let (head, mut body) = self.open_once(config, &get)?;
                range.begin(&head)?;
                let io = |e| io_error(e, self.options());
                file.seek(SeekFrom::Start(range.position())).map_err(io)?;
                loop {
                    // Bytes of a batch whose read failed are fetched again by the next attempt.
                    let (filled, read) = gather(&mut body, &mut buf);
                    range.admit(filled)?;
                    let ended = read?;
                    if filled > 0 {
                        file.write_all(&buf[..filled]).map_err(io)?;
                        let mut read_back = |at, out: &mut [u8]| read_at(&mut back, path, at, out);
                        range.wrote(&buf[..filled], |at, out| read_back(at, out).map_err(io))?;
                    }
                    if ended {
                        break;
                    }
                }
            }
            range.end()
        });
        sent.map(|()| Reply::GetObject(ObjectHead::default()))
    }
}

/// A temporary file beside the target, removed unless it is renamed into place.
pub(crate) struct TempFile {
    path: PathBuf,
}

impl TempFile {
    pub(crate) fn beside(target: &Path) -> Result<Self, Error> {
        let path = s3_proto::flow::download::temp_path(target, std::process::id());
        let path = path.map_err(TransportError::from_io)?;
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path);
        file.map_err(TransportError::from_io)?;
        Ok(TempFile { path })
    }

    /// Flushes to disk and renames over `target`.
    pub(crate) fn persist(mut self, target: &Path) -> Result<(), Error> {
        let synced = File::open(&self.path).and_then(|f| f.sync_all());
        synced
            .and_then(|()| fs::rename(&self.path, target))
            .map_err(TransportError::from_io)?;
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Runs blocking file `work` (the async runtime moves it off its threads).
pub(crate) fn offload<T>(work: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    work()
}

/// The length of the file at `path`.
pub(crate) fn file_len(path: &Path) -> Result<u64, Error> {
    Ok(fs::metadata(path).map_err(TransportError::from_io)?.len())
}

/// Writes the rest of `body` to `writer` in batches (see [`gather`]), and flushes it.
pub(crate) fn copy_body(body: &mut ObjectReader, writer: &mut impl Write) -> Result<(), Error> {
    let mut buf = vec![0u8; BUFFER];
    let read = loop {
        let (filled, read) = gather(body, &mut buf);
        // Written even after a failed read: what arrived stays written (see `download_to`).
        writer
            .write_all(&buf[..filled])
            .map_err(TransportError::from_io)?;
        match read {
            Ok(false) => {}
            done => break done.map(|_| ()),
        }
    };
    writer.flush().map_err(TransportError::from_io)?;
    read
}

/// Reads `body` into `buf` until [`WRITE_BATCH`] bytes are in or it ends: the bytes
/// gathered, and whether the body ended (or why reading stopped). `buf` has room for a whole
/// read past the batch (a read into a nearly full buffer would be short).
fn gather(body: &mut ObjectReader, buf: &mut [u8]) -> (usize, Result<bool, Error>) {
    let mut filled = 0;
    while filled < WRITE_BATCH {
        match body.read_checked(&mut buf[filled..]) {
            Ok(0) => return (filled, Ok(true)),
            Ok(n) => filled += n,
            Err(e) => return (filled, Err(e)),
        }
    }
    (filled, Ok(false))
}

/// Reads `out.len()` bytes at `at` of the file at `path`, through a handle of its own (the
/// writer's position must not move), opened on first use.
fn read_at(file: &mut Option<File>, path: &Path, at: u64, out: &mut [u8]) -> std::io::Result<()> {
    let file = match file {
        Some(file) => file,
        None => file.insert(File::open(path)?),
    };
    file.seek(SeekFrom::Start(at))?;
    file.read_exact(out)
}

/// A job the loop cannot run: the flow asked for IO its caller did not provide.
fn missing(what: &str) -> Error {
    s3_proto::InputError::argument("flow", format!("this flow needs {what}")).into()
}

/// Reads until `limit` bytes or the end of `reader`.
pub(crate) fn read_up_to(reader: &mut dyn Read, limit: u64) -> Result<Vec<u8>, Error> {
    let cap = usize::try_from(limit).unwrap_or(usize::MAX).min(BUFFER);
    let mut buf = Vec::with_capacity(cap);
    match reader.take(limit).read_to_end(&mut buf) {
        Ok(_) => Ok(buf),
        Err(e) => Err(TransportError::from_io(e)),
    }
}

/// The `digests` (`Content-MD5`, a checksum) of `len` bytes of `file` from `offset`, in one
/// extra read, asked for.
fn digests_of(file: &File, (at, len): (u64, u64), d: BodyDigests) -> Result<BodyDigests, Error> {
    let mut reader = file;
    reader
        .seek(SeekFrom::Start(at))
        .map_err(TransportError::from_io)?;
    d.read_from(len, |buf| reader.read(buf))
}
