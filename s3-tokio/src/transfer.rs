//! The flow loop of `s3_proto::flow` on tasks, and the file and reader IO its jobs do.

use std::io::SeekFrom;
use std::path::Path;
use std::sync::Arc;

use s3_proto::flow::download::RangeJob;
use s3_proto::flow::{BodyDigests, Flow, Job, Reply, Sent, Step, Work};
use s3_proto::ops::ObjectHead;
use s3_proto::{Error, InputError, TransportError, TransportErrorKind};
use tokio::fs::{self, File, OpenOptions};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use crate::body::{ObjectStream, Source};
use crate::client::Client;

/// Room reserved up front for a part read from the caller's reader (it grows past this as
/// the part needs).
const BUFFER: usize = 1 << 20;
/// Bytes a streamed download, or one range of a parallel one, gathers before each write (a
/// range counts them as done only then): hyper hands over what one socket read brought (tens
/// of KiB), and a `tokio::fs::File` sends every write to the blocking pool (GET of 1 GiB from
/// s3s-fs: 84k futex calls and 3.9–4.3 CPU s written chunk by chunk, 1.9–2.4 s in 256 KiB
/// batches, no better in 1 MiB ones).
const WRITE_BATCH: usize = 256 << 10;

/// The file a flow's jobs read parts from (the source), and the one they write ranges to
/// (the destination); shared with the spawned jobs.
#[derive(Debug, Default, Clone)]
pub(crate) struct Files(Option<Arc<Path>>, Option<Arc<Path>>);

impl Files {
    pub(crate) fn reading(path: &Path) -> Self {
        Files(Some(path.into()), None)
    }

    pub(crate) fn writing(temp: &TempFile) -> Self {
        Files(None, temp.0.clone())
    }

    pub(crate) fn resuming(partial: &Path) -> Self {
        Files(None, Some(partial.into()))
    }
}

/// The caller's one-shot source of bytes, read inline by the flow loop.
pub(crate) type Reader<'a> = &'a mut (dyn AsyncRead + Unpin + Send);

impl Client {
    /// The loop documented in [`s3_proto::flow`]: sends inline, spawned jobs on a
    /// [`JoinSet`] (the flow bounds how many), reads from `reader` when asked.
    pub(crate) async fn drive_io<F: Flow>(
        &self,
        mut flow: F,
        files: Files,
        mut reader: Option<Reader<'_>>,
    ) -> Result<F::Output, Error> {
        let mut tasks = JoinSet::new();
        loop {
            match flow.poll() {
                Step::Done(result) => return result,
                Step::Send(job) => flow.handle(job.id, self.run(job, &files).await),
                Step::Spawn(job) => {
                    let (client, files) = (self.clone(), files.clone());
                    tasks.spawn(async move { (job.id, client.run(job, &files).await) });
                }
                Step::Read(len) => match reader.as_deref_mut() {
                    Some(reader) => flow.read_result(Some(read_up_to(reader, len).await)),
                    None => flow.read_result(None),
                },
                Step::Wait => match tasks.join_next().await {
                    Some(Ok((id, sent))) => flow.handle(id, sent),
                    Some(Err(e)) => {
                        // A job that panicked, or a runtime shutting down: nothing to wait for.
                        let message = format!("a transfer task failed: {e}");
                        return Err(TransportError::new(TransportErrorKind::Other, message).into());
                    }
                    None => return Err(missing("a running job")),
                },
            }
        }
    }

    /// Does one job's IO.
    async fn run(&self, job: Job, Files(source, dest): &Files) -> Sent<Reply> {
        match (job.work, source, dest) {
            (Work::Call(call), _, _) => self.send_sent(&call).await,
            (Work::Range(range), _, Some(path)) => self.fetch_range(range, path).await,
            (Work::Range(_), _, None) => Sent::failed(missing("a destination file")),
            (work, Some(path), _) => self.send_file(work, path).await,
            (_, None, _) => Sent::failed(missing("a source file")),
        }
    }

    /// Sends a [`Work::FileBody`] call with its range of the file at `path` as its body, the
    /// file opened and read from the range's offset on every attempt.
    async fn send_file(&self, work: Work, path: &Path) -> Sent<Reply> {
        let Work::FileBody {
            call,
            offset,
            len,
            digests,
        } = work
        else {
            return Sent::failed(missing("a file body"));
        };
        let call = match digests.is_empty() {
            true => call,
            false => match digests_of(path, offset, len, digests).await {
                Ok(digests) => call.with_digests(digests),
                Err(e) => return Sent::failed(e),
            },
        };
        let (attempts, call) = (self.attempts(&call, true), &call);
        self.retrying(attempts, |config| async move {
            let file = open_at(path, offset).await?;
            self.send_once(&config, call, Some(&Source::new(file)))
                .await
        })
        .await
    }

    /// Fetches a range into its place in the file at `path`, resuming after what earlier
    /// attempts wrote.
    async fn fetch_range(&self, range: RangeJob, path: &Path) -> Sent<Reply> {
        let Some(first) = range.get() else {
            return Sent::failed(missing("a range to fetch"));
        };
        let file = match OpenOptions::new().write(true).open(path).await {
            Ok(file) => file,
            Err(e) => return Sent::failed(io(e)),
        };
        // What the attempts share: the range's progress, and the file it lands in.
        let state = &Mutex::new((range, file, Vec::with_capacity(2 * WRITE_BATCH)));
        let attempts = self.attempts(&first, true);
        let sent = self.retrying(attempts, |config| async move {
            let (range, file, buffer) = &mut *state.lock().await;
            if let Some(get) = range.get() {
                let (head, mut body) = self.open_once(&config, &get).await?;
                range.begin(&head)?;
                let at = SeekFrom::Start(range.position());
                file.seek(at).await.map_err(io)?;
                buffer.clear();
                while let Some(chunk) = body.chunk().await? {
                    range.admit(buffer.len() + chunk.len())?;
                    buffer.extend_from_slice(&chunk);
                    if buffer.len() >= WRITE_BATCH {
                        write_out(file, range, buffer, path).await?;
                    }
                }
                write_out(file, range, buffer, path).await?;
            }
            range.end()
        });
        sent.await.map(|()| Reply::GetObject(ObjectHead::default()))
    }
}

/// Writes the bytes gathered at the range's position and only then counts them as done, so
/// a failed attempt resumes after what is really in the file (at `path`, where the digest
/// reads back what other ranges wrote, from the page cache, when it becomes next in order).
async fn write_out(
    file: &mut File,
    range: &mut RangeJob,
    buffer: &mut Vec<u8>,
    path: &Path,
) -> Result<(), Error> {
    file.write_all(buffer).await.map_err(io)?;
    file.flush().await.map_err(io)?;
    range.wrote(buffer, |at, out| {
        let mut back = std::fs::File::open(path).map_err(io)?;
        std::io::Seek::seek(&mut back, SeekFrom::Start(at)).map_err(io)?;
        std::io::Read::read_exact(&mut back, out).map_err(io)
    })?;
    buffer.clear();
    Ok(())
}

/// The file at `path`, positioned at `offset`.
async fn open_at(path: &Path, offset: u64) -> Result<File, Error> {
    let mut file = File::open(path).await.map_err(io)?;
    file.seek(SeekFrom::Start(offset)).await.map_err(io)?;
    Ok(file)
}

/// A temporary file beside the target, removed unless it is renamed into place.
pub(crate) struct TempFile(Option<Arc<Path>>);

impl TempFile {
    pub(crate) async fn beside(target: &Path) -> Result<Self, Error> {
        let path = s3_proto::flow::download::temp_path(target, std::process::id());
        let path: Arc<Path> = path.map_err(io)?.into();
        File::create_new(&path).await.map_err(io)?;
        Ok(TempFile(Some(path)))
    }

    /// Flushes to disk and renames over `target`.
    pub(crate) async fn persist(mut self, target: &Path) -> Result<(), Error> {
        if let Some(path) = &self.0 {
            let file = File::open(path).await.map_err(io)?;
            file.sync_all().await.map_err(io)?;
            fs::rename(path, target).await.map_err(io)?;
        }
        self.0 = None;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Runs blocking file `work` (a sync, a rename) on the blocking pool, off the runtime's threads.
pub(crate) async fn offload<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let failed = |e| TransportError::new(TransportErrorKind::Other, format!("file work: {e}"));
    tokio::task::spawn_blocking(work).await.map_err(failed)?
}

/// The length of the file at `path`.
pub(crate) async fn file_len(path: &Path) -> Result<u64, Error> {
    Ok(fs::metadata(path).await.map_err(io)?.len())
}

/// Writes the rest of `body` to `writer` in batches of [`WRITE_BATCH`], and flushes it.
pub(crate) async fn copy_body(
    body: &mut ObjectStream,
    writer: &mut (impl AsyncWrite + Unpin),
) -> Result<(), Error> {
    let mut writer = BufWriter::with_capacity(WRITE_BATCH, writer);
    let read = loop {
        match body.chunk().await {
            Ok(Some(chunk)) => writer.write_all(&chunk).await.map_err(io)?,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    // Flushed even after a failed read: what was written stays written (see `download_to`).
    writer.flush().await.map_err(io)?;
    read
}

/// A failure of the caller's file or reader.
pub(crate) fn io(e: std::io::Error) -> Error {
    TransportError::from_io(e)
}

/// A job the loop cannot run: the flow asked for IO its caller did not provide.
fn missing(what: &str) -> Error {
    InputError::argument("flow", format!("this flow needs {what}")).into()
}

/// Reads until `limit` bytes or the end of `reader`.
pub(crate) async fn read_up_to(reader: Reader<'_>, limit: u64) -> Result<Vec<u8>, Error> {
    let mut buf = Vec::with_capacity(usize::try_from(limit).unwrap_or(BUFFER).min(BUFFER));
    let read = reader.take(limit).read_to_end(&mut buf).await;
    read.map(|_| buf).map_err(io)
}

/// `d` (`Content-MD5`, a checksum) of `len` bytes of the file at `p` from `at`: an extra
/// read, on the blocking pool (hashing is CPU work).
async fn digests_of(p: &Path, at: u64, len: u64, d: BodyDigests) -> Result<BodyDigests, Error> {
    let mut file = open_at(p, at).await?.into_std().await;
    let hashed = tokio::task::spawn_blocking(move || {
        d.read_from(len, |buf| std::io::Read::read(&mut file, buf))
    });
    let failed = |e| TransportError::new(TransportErrorKind::Other, format!("hashing: {e}"));
    hashed.await.map_err(failed)?
}
