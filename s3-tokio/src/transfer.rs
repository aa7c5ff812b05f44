//! Files in and out, streamed in constant memory.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use std::io::SeekFrom;

use s3_proto::flow::download::{Download, DownloadOptions, RangeSlot};
use s3_proto::flow::upload::{PartSlot, Upload, UploadOptions, UploadOutput};
use s3_proto::integrity::Md5;
use s3_proto::ops::{GetObject, HeadObject, ObjectHead};
use s3_proto::retry::Replay;
use s3_proto::{Body, Error, InputError, ObjectKey, ResponseError};
use tokio::fs::{self, File};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::task::JoinSet;

/// Buffer between the network and a range's place in the file: large writes, few syscalls.
const WRITE_BUFFER: usize = 1 << 20;

use crate::bucket::Bucket;
use crate::io_error;

/// A temporary file beside the target, removed unless it is renamed into place.
struct TempFile {
    path: PathBuf,
    file: Option<File>,
}

impl TempFile {
    async fn beside(target: &Path) -> io::Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target.file_name().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "target has no file name")
        })?;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".s3-rs-{}-{n}.part", std::process::id()));
        let path = dir.join(temp_name);
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?;
        Ok(TempFile {
            path,
            file: Some(file),
        })
    }

    async fn persist(mut self, target: &Path) -> io::Result<()> {
        if let Some(mut file) = self.file.take() {
            file.flush().await?;
            file.sync_all().await?;
        }
        fs::rename(&self.path, target).await?;
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Bucket {
    /// Downloads `key` to `path` in constant memory (see [`Bucket::download_file_with`]).
    ///
    /// # Errors
    /// As [`Bucket::download_file_with`].
    pub async fn download_file(
        &self,
        key: &str,
        path: impl AsRef<Path>,
    ) -> Result<ObjectHead, Error> {
        self.download_file_with(key, path, DownloadOptions::default())
            .await
    }

    /// Downloads `key` to `path`: one streamed GET for an object up to one part, else ranged
    /// GETs run concurrently within the memory budget, each pinned to the first ETag and
    /// length-checked. The data lands in a temporary file beside `path`, renamed over it only
    /// once every byte has arrived: a failed download never leaves a partial file at `path`.
    ///
    /// # Errors
    /// [`Error::Service`] (`NoSuchKey`, `PreconditionFailed` when the object changed
    /// meanwhile, …), [`Error::Transport`] for network or disk failures, [`Error::Response`]
    /// when a body's length is not the announced one.
    pub async fn download_file_with(
        &self,
        key: &str,
        path: impl AsRef<Path>,
        options: DownloadOptions,
    ) -> Result<ObjectHead, Error> {
        let path = path.as_ref();
        let key = ObjectKey::new(key)?;
        let head = self
            .client()
            .send(&HeadObject::new(self.name().clone(), key.clone()))
            .await?;
        let mut download = Download::new(self.name().clone(), key, &head, options.part_size)?;
        let progress = self.progress(Some(download.size()));
        let temp = TempFile::beside(path).await.map_err(io_error)?;
        let mut tasks = JoinSet::new();
        loop {
            while tasks.len() < options.concurrency() {
                let Some(slot) = download.next_range() else {
                    break;
                };
                let (bucket, temp_path, dl) = (self.clone(), temp.path.clone(), download.clone());
                tasks.spawn(async move {
                    // A retry resumes after the bytes already written.
                    let state = std::sync::Mutex::new(RangeState {
                        done: 0,
                        md5: dl.checks_md5(&slot).then(Md5::new),
                    });
                    let client = bucket.client();
                    client
                        .with_retries(Replay::Safe, || {
                            fetch_range(&bucket, &dl, slot, &temp_path, &state)
                        })
                        .await
                        .map(|()| slot.len)
                });
            }
            match tasks.join_next().await {
                None => break,
                Some(joined) => progress.add(joined.map_err(join_error)??),
            }
        }
        temp.persist(path).await.map_err(io_error)?;
        Ok(head)
    }

    /// Uploads the file at `path` to `key` with the content type guessed from the file name
    /// (see [`Bucket::upload_file_with`]).
    ///
    /// # Errors
    /// As [`Bucket::upload_file_with`].
    pub async fn upload_file(
        &self,
        key: &str,
        path: impl AsRef<Path>,
    ) -> Result<UploadOutput, Error> {
        self.upload_file_with(key, path, UploadOptions::default())
            .await
    }

    /// Uploads the file at `path` to `key`, streamed from disk: one PutObject below the
    /// threshold, else a multipart upload whose parts run concurrently within the memory
    /// budget. A part that fails on the network or with a 5xx is sent again alone, under the
    /// client's retry policy; after any other failure the upload is aborted so no parts are left behind.
    ///
    /// # Errors
    /// [`Error::Service`] from the server, [`Error::Transport`] when the file cannot be read,
    /// [`Error::Input`] when the file changed length while it was being sent.
    pub async fn upload_file_with(
        &self,
        key: &str,
        path: impl AsRef<Path>,
        options: UploadOptions,
    ) -> Result<UploadOutput, Error> {
        let path = path.as_ref();
        let file = File::open(path).await.map_err(io_error)?;
        let length = file.metadata().await.map_err(io_error)?.len();
        let content_type = s3_proto::mime::from_name(&path.to_string_lossy());
        let mut up = Upload::new(
            self.name().clone(),
            ObjectKey::new(key)?,
            Some(length),
            options,
        )?
        .content_type(content_type);
        if up.is_single() {
            let mut op = up.put_object(Body::Stream {
                length: Some(length),
            });
            drop(file);
            if up.wants_md5() {
                op = op.content_md5_value(md5_of(path, 0, length).await?);
            }
            // The file is re-opened for each attempt, so any failure may be retried.
            let client = self.client();
            return client
                .with_retries(Replay::Safe, || async {
                    let file = File::open(path).await.map_err(io_error)?;
                    client.send_reader(&op, file.take(length)).await
                })
                .await
                .map(|out| {
                    self.progress(Some(length)).add(length);
                    UploadOutput::from(out)
                });
        }
        let concurrency = up.concurrency(options.memory_budget);
        let (started, creates) = self.start_multipart(&mut up).await;
        let result = match started {
            Ok(()) => self.upload_parts(&mut up, path, concurrency).await,
            Err(e) => Err(e),
        };
        self.finish_multipart(&up, &creates, &result).await;
        result
    }

    /// Uploads what `reader` yields to `key`: `length` bytes, or up to its end when the
    /// length is unknown. One PutObject when the data fits below the threshold (read into
    /// memory first when the length is unknown), else a multipart upload whose parts are read
    /// into memory and sent concurrently within the memory budget, so each can be retried.
    /// The content type is guessed from the key.
    ///
    /// # Errors
    /// As [`Bucket::upload_file_with`]; [`Error::Input`] when `reader` yields a different
    /// number of bytes than `length`.
    pub async fn upload_reader(
        &self,
        key: &str,
        reader: impl AsyncRead + Unpin + Send,
        length: Option<u64>,
        options: UploadOptions,
    ) -> Result<UploadOutput, Error> {
        let mut reader = reader;
        let content_type = s3_proto::mime::from_name(key);
        let mut up = Upload::new(self.name().clone(), ObjectKey::new(key)?, length, options)?
            .content_type(content_type);
        let first = up.next_part();
        let buffer = match first {
            Some(slot) if !up.is_single() => read_up_to(&mut reader, slot.len).await?,
            _ => read_up_to(&mut reader, length.unwrap_or(0)).await?,
        };
        let fits_one = match length {
            Some(_) => up.is_single(),
            None => first.is_some_and(|slot| (buffer.len() as u64) < slot.len),
        };
        if fits_one {
            let n = buffer.len() as u64;
            if length.is_some_and(|l| l != n) {
                return Err(InputError::argument("body", "the reader ended early").into());
            }
            let out = self.client().send(&up.put_object(buffer)).await?;
            self.progress(Some(n)).add(n);
            return Ok(out.into());
        }
        let Some(first) = first else {
            return Err(InputError::argument("body", "nothing to upload").into());
        };
        let concurrency = up.concurrency(options.memory_budget);
        let (started, creates) = self.start_multipart(&mut up).await;
        let result = match started {
            Ok(()) => {
                self.upload_buffered_parts(&mut up, (first, buffer), &mut reader, concurrency)
                    .await
            }
            Err(e) => Err(e),
        };
        self.finish_multipart(&up, &creates, &result).await;
        result
    }

    /// Streams `key` into `writer` in constant memory; the body's length is checked.
    ///
    /// # Errors
    /// As [`Bucket::download_file`]; what was written before a failure stays written.
    pub async fn download_to(
        &self,
        key: &str,
        writer: impl AsyncWrite + Unpin + Send,
    ) -> Result<ObjectHead, Error> {
        let op = GetObject::new(self.name().clone(), ObjectKey::new(key)?);
        let (head, mut stream) = self.client().open(&op).await?;
        let mut writer = BufWriter::with_capacity(WRITE_BUFFER, writer);
        let mut written = 0u64;
        // Only a plain ETag can be checked; don't hash what nothing will be compared with.
        let mut md5 = s3_proto::integrity::expected_md5(&head).map(|_| Md5::new());
        while let Some(chunk) = stream.chunk().await.map_err(io_error)? {
            writer.write_all(&chunk).await.map_err(io_error)?;
            if let Some(md5) = md5.as_mut() {
                md5.update(&chunk);
            }
            written += chunk.len() as u64;
        }
        writer.flush().await.map_err(io_error)?;
        if let Some(expected) = head.content_length {
            if written != expected {
                return Err(ResponseError::LengthMismatch {
                    expected,
                    actual: written,
                }
                .into());
            }
        }
        if let Some(md5) = md5 {
            s3_proto::integrity::check_md5(&head, md5)?;
        }
        self.progress(Some(written)).add(written);
        Ok(head)
    }

    /// Starts a multipart upload. A create whose reply was lost may still have started an
    /// upload, so creates are retried and [`Bucket::finish_multipart`] sweeps what the lost
    /// attempts started.
    async fn start_multipart(&self, up: &mut Upload) -> (Result<(), Error>, Creates) {
        let client = self.client();
        let (create, first_create) = (up.create(), client.now());
        let (created, lost) = client.send_noting_lost(&create).await;
        let creates = Creates { first_create, lost };
        (created.and_then(|created| up.started(&created)), creates)
    }

    /// Cleans up after a multipart upload: aborts it after any failure, and sweeps the uploads
    /// lost creates started.
    async fn finish_multipart(
        &self,
        up: &Upload,
        creates: &Creates,
        result: &Result<UploadOutput, Error>,
    ) {
        let client = self.client();
        if let (Err(_), Some(abort)) = (result, up.abort()) {
            // The original error matters more than a failed clean-up.
            let _ = client.send(&abort).await;
        }
        if creates.lost {
            if let Ok(listing) = client.send(&up.find_lost()).await {
                for abort in up.lost_uploads(&listing, creates.first_create) {
                    let _ = client.send(&abort).await;
                }
            }
        }
    }

    /// Sends the parts of a one-shot source: each is read into memory, then sent by its own
    /// task, at most `concurrency` at a time.
    async fn upload_buffered_parts(
        &self,
        up: &mut Upload,
        first: (PartSlot, Vec<u8>),
        reader: &mut (impl AsyncRead + Unpin + Send),
        concurrency: usize,
    ) -> Result<UploadOutput, Error> {
        let progress = self.progress(up.plan().total());
        let mut tasks = JoinSet::new();
        let mut parts = 0;
        let mut next = Some(first);
        let mut source_done = false;
        loop {
            while tasks.len() < concurrency && !source_done {
                let (slot, buffer) = match next.take() {
                    Some(first) => first,
                    None => {
                        let Some(slot) = up.next_part() else {
                            source_done = true;
                            break;
                        };
                        let buffer = read_up_to(reader, slot.len).await?;
                        if buffer.is_empty() && up.plan().total().is_none() {
                            up.end_before(&slot);
                            source_done = true;
                            break;
                        }
                        (slot, buffer)
                    }
                };
                let len = buffer.len() as u64;
                // In memory, so the client may retry it.
                let op = up.upload_part(&slot, buffer.into())?;
                let client = self.client().clone();
                tasks.spawn(async move { (slot, len, client.send(&op).await) });
            }
            let Some(joined) = tasks.join_next().await else {
                break;
            };
            let (slot, len, out) = joined.map_err(join_error)?;
            up.part_done(&slot, &out?)?;
            progress.add(len);
            parts += 1;
        }
        self.complete(up, parts).await
    }

    async fn upload_parts(
        &self,
        up: &mut Upload,
        path: &Path,
        concurrency: usize,
    ) -> Result<UploadOutput, Error> {
        let progress = self.progress(up.plan().total());
        let mut tasks = JoinSet::new();
        let mut parts = 0;
        loop {
            while tasks.len() < concurrency {
                let Some(slot) = up.next_part() else {
                    break;
                };
                let mut op = up.upload_part(
                    &slot,
                    Body::Stream {
                        length: Some(slot.len),
                    },
                )?;
                if up.wants_md5() {
                    op = op.content_md5_value(md5_of(path, slot.offset, slot.len).await?);
                }
                let (client, path) = (self.client().clone(), path.to_owned());
                tasks.spawn(async move {
                    // Each attempt re-opens the file at the part's offset: any failure may be
                    // retried.
                    let out = client
                        .with_retries(Replay::Safe, || async {
                            let mut file = File::open(&path).await.map_err(io_error)?;
                            file.seek(SeekFrom::Start(slot.offset))
                                .await
                                .map_err(io_error)?;
                            client.send_reader(&op, file.take(slot.len)).await
                        })
                        .await;
                    (slot, out)
                });
            }
            // Returning early drops the set, which cancels the parts still in flight.
            let Some(joined) = tasks.join_next().await else {
                break;
            };
            let (slot, out) = joined.map_err(join_error)?;
            up.part_done(&slot, &out?)?;
            progress.add(slot.len);
            parts += 1;
        }
        self.complete(up, parts).await
    }
}

impl Bucket {
    /// Completes the upload. A complete whose reply was lost is retried; if the retry fails
    /// because the first one went through, the object itself is the answer.
    async fn complete(&self, up: &Upload, parts: u16) -> Result<UploadOutput, Error> {
        let client = self.client();
        let complete = up.complete()?;
        let (result, lost) = client.send_noting_lost(&complete).await;
        match result {
            Ok(done) => Ok(UploadOutput::multipart(done, parts)),
            // The retry failed because the first one went through? The object says.
            Err(e @ Error::Service(_)) if lost => {
                let head = HeadObject::new(self.name().clone(), up.key().clone());
                let head = client.send(&head).await?;
                up.completed_output(&head).ok_or(e)
            }
            Err(e) => Err(e),
        }
    }
}

/// How the creates of a multipart upload went, for the clean-up after it.
struct Creates {
    /// When the first create was sent.
    first_create: std::time::SystemTime,
    /// Whether a create may have started an upload whose id never reached us.
    lost: bool,
}

/// Reads until `limit` bytes or the end of `reader`.
async fn read_up_to(reader: &mut (impl AsyncRead + Unpin), limit: u64) -> Result<Vec<u8>, Error> {
    let cap = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .min(WRITE_BUFFER);
    let mut buf = Vec::with_capacity(cap);
    reader
        .take(limit)
        .read_to_end(&mut buf)
        .await
        .map_err(io_error)?;
    Ok(buf)
}

/// How far one range got, across its attempts.
struct RangeState {
    /// Bytes written to their place.
    done: u64,
    /// The whole-object MD5 so far, when the range is the whole object.
    md5: Option<Md5>,
}

/// Fetches what is left of one range into its place in the temporary file; what arrived
/// before a failure is flushed and counted, so the next attempt resumes after it.
async fn fetch_range(
    bucket: &Bucket,
    download: &Download,
    slot: RangeSlot,
    temp: &Path,
    state: &std::sync::Mutex<RangeState>,
) -> Result<(), Error> {
    let (done, mut md5) = {
        let mut s = state
            .lock()
            .map_err(|_| io_error(io::Error::other("range state")))?;
        (s.done, s.md5.take())
    };
    let mut written = 0u64;
    let result = match slot.after(done) {
        None => Ok(()),
        Some(rest) => fetch_rest(bucket, download, rest, temp, &mut written, md5.as_mut()).await,
    };
    let done = {
        let mut s = state
            .lock()
            .map_err(|_| io_error(io::Error::other("range state")))?;
        s.done += written;
        s.md5 = md5;
        s.done
    };
    result?;
    if done != slot.len {
        return Err(ResponseError::LengthMismatch {
            expected: slot.len,
            actual: done,
        }
        .into());
    }
    let md5 = state.lock().ok().and_then(|mut s| s.md5.take());
    if let Some(md5) = md5 {
        if let Err(e) = download.check_md5(&slot, md5) {
            // Corrupted somewhere: a retry fetches the whole range again.
            if let Ok(mut s) = state.lock() {
                *s = RangeState {
                    done: 0,
                    md5: Some(Md5::new()),
                };
            }
            return Err(e);
        }
    }
    Ok(())
}

/// One GET of `rest`, written at its offset; `written` counts the bytes safely in the file.
async fn fetch_rest(
    bucket: &Bucket,
    download: &Download,
    rest: RangeSlot,
    temp: &Path,
    written: &mut u64,
    mut md5: Option<&mut Md5>,
) -> Result<(), Error> {
    let client = bucket.client();
    let (head, mut stream) = client
        .open_in(client.config(), &download.get(&rest))
        .await?;
    download.check(&rest, &head)?;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .open(temp)
        .await
        .map_err(io_error)?;
    file.seek(SeekFrom::Start(rest.offset))
        .await
        .map_err(io_error)?;
    let mut writer = BufWriter::with_capacity(WRITE_BUFFER, file);
    let mut received = 0u64;
    let outcome = loop {
        match stream.chunk().await {
            Ok(None) => break Ok(()),
            Ok(Some(chunk)) => {
                if received + chunk.len() as u64 > rest.len {
                    break Err(ResponseError::LengthMismatch {
                        expected: rest.len,
                        actual: received + chunk.len() as u64,
                    }
                    .into());
                }
                writer.write_all(&chunk).await.map_err(io_error)?;
                if let Some(md5) = md5.as_deref_mut() {
                    md5.update(&chunk);
                }
                received += chunk.len() as u64;
            }
            Err(e) => break Err(io_error(e)),
        }
    };
    // What arrived is good whatever happened next: flush it and count it.
    writer.flush().await.map_err(io_error)?;
    *written = received;
    outcome
}

/// The `Content-MD5` of `len` bytes of the file at `path` from `offset` (an extra read,
/// asked for).
async fn md5_of(path: &Path, offset: u64, len: u64) -> Result<String, Error> {
    let mut file = File::open(path).await.map_err(io_error)?;
    file.seek(SeekFrom::Start(offset)).await.map_err(io_error)?;
    let mut reader = file.take(len);
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; WRITE_BUFFER];
    let mut read = 0u64;
    loop {
        let n = reader.read(&mut buf).await.map_err(io_error)?;
        if n == 0 {
            break;
        }
        md5.update(&buf[..n]);
        read += n as u64;
    }
    if read != len {
        return Err(InputError::argument("body", "the file is shorter than its length").into());
    }
    Ok(md5.content_md5())
}

fn join_error(e: tokio::task::JoinError) -> Error {
    io_error(io::Error::other(format!("transfer task failed: {e}")))
}
