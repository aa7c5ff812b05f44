//! Files in and out, streamed in constant memory.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use s3_proto::flow::download::{Download, DownloadOptions, RangeSlot};
use s3_proto::flow::upload::{PartSlot, Upload, UploadOptions, UploadOutput};
use s3_proto::integrity::Md5;
use s3_proto::ops::{GetObject, HeadObject, ObjectHead};
use s3_proto::retry::Replay;
use s3_proto::{Body, Error, InputError, ObjectKey, ResponseError};

use crate::bucket::Bucket;
use crate::io_error;

/// Copy buffer: large enough that a GET to a file costs few syscalls per MiB.
const BUFFER: usize = 1 << 20;

/// A temporary file beside the target, removed unless it is renamed into place.
struct TempFile {
    path: PathBuf,
    file: Option<File>,
}

impl TempFile {
    fn beside(target: &Path) -> io::Result<Self> {
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
            .open(&path)?;
        Ok(TempFile {
            path,
            file: Some(file),
        })
    }

    /// Another handle on the temporary file, for a worker writing its own ranges.
    fn reopen(&self) -> io::Result<File> {
        fs::OpenOptions::new().write(true).open(&self.path)
    }

    /// Flushes to disk and renames over `target`.
    fn persist(mut self, target: &Path) -> io::Result<()> {
        if let Some(file) = self.file.take() {
            file.sync_all()?;
        }
        fs::rename(&self.path, target)?;
        // Renamed: nothing left to clean up.
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

impl Bucket {
    /// Downloads `key` to `path` in constant memory (see [`Bucket::download_file_with`]).
    ///
    /// # Errors
    /// As [`Bucket::download_file_with`].
    pub fn download_file(&self, key: &str, path: impl AsRef<Path>) -> Result<ObjectHead, Error> {
        self.download_file_with(key, path, DownloadOptions::default())
    }

    /// Downloads `key` to `path`: one streamed GET for an object up to one part, else ranged
    /// GETs on as many threads as the memory budget allows, each pinned to the first ETag and
    /// length-checked. The data lands in a temporary file beside `path`, renamed over it only
    /// once every byte has arrived: a failed download never leaves a partial file at `path`.
    ///
    /// # Errors
    /// [`Error::Service`] (`NoSuchKey`, `PreconditionFailed` when the object changed
    /// meanwhile, …), [`Error::Transport`] for network or disk failures, [`Error::Response`]
    /// when a body's length is not the announced one.
    pub fn download_file_with(
        &self,
        key: &str,
        path: impl AsRef<Path>,
        options: DownloadOptions,
    ) -> Result<ObjectHead, Error> {
        let path = path.as_ref();
        let key = ObjectKey::new(key)?;
        let head = self
            .client()
            .send(&HeadObject::new(self.name().clone(), key.clone()))?;
        let download = Download::new(self.name().clone(), key, &head, options.part_size)?;
        let progress = self.progress(Some(download.size()));
        let temp = TempFile::beside(path).map_err(io_error)?;
        let slots = Mutex::new(download.clone());
        let failed = AtomicBool::new(false);
        let workers = options.concurrency();
        let results: Vec<Result<(), Error>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| -> Result<(), Error> {
                        let mut file = temp.reopen().map_err(io_error)?;
                        loop {
                            if failed.load(Ordering::Relaxed) {
                                return Ok(());
                            }
                            let next = slots.lock().map_or(None, |mut d| d.next_range());
                            let Some(slot) = next else {
                                return Ok(());
                            };
                            // A retry resumes after the bytes already written.
                            let mut state = RangeState {
                                done: 0,
                                md5: download.checks_md5(&slot).then(Md5::new),
                            };
                            let result = self.client().with_retries(Replay::Safe, || {
                                self.fetch_range(&download, slot, &mut file, &mut state)
                            });
                            if result.is_err() {
                                failed.store(true, Ordering::Relaxed);
                                return result;
                            }
                            progress.add(slot.len);
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(io_error(io::Error::other("a download thread panicked")))
                    })
                })
                .collect()
        });
        for result in results {
            result?;
        }
        temp.persist(path).map_err(io_error)?;
        Ok(head)
    }

    /// Fetches what is left of one range into its place in the temporary file.
    fn fetch_range(
        &self,
        download: &Download,
        slot: RangeSlot,
        file: &mut File,
        state: &mut RangeState,
    ) -> Result<(), Error> {
        if let Some(rest) = slot.after(state.done) {
            let client = self.client();
            let (head, mut reader) = client.open_in(client.config(), &download.get(&rest))?;
            download.check(&rest, &head)?;
            file.seek(SeekFrom::Start(rest.offset)).map_err(io_error)?;
            copy(
                &mut (&mut reader).take(rest.len),
                file,
                state.md5.as_mut(),
                &mut state.done,
            )?;
        }
        if state.done != slot.len {
            return Err(ResponseError::LengthMismatch {
                expected: slot.len,
                actual: state.done,
            }
            .into());
        }
        if let Some(md5) = state.md5.take() {
            if let Err(e) = download.check_md5(&slot, md5) {
                // Corrupted somewhere: a retry fetches the whole range again.
                *state = RangeState {
                    done: 0,
                    md5: Some(Md5::new()),
                };
                return Err(e);
            }
        }
        Ok(())
    }

    /// Uploads the file at `path` to `key`, streamed from disk, with the content type guessed
    /// from the file name: one PutObject below 8 MiB, else a multipart upload (see
    /// [`Bucket::upload_file_with`]).
    ///
    /// # Errors
    /// As [`Bucket::upload_file_with`].
    pub fn upload_file(&self, key: &str, path: impl AsRef<Path>) -> Result<UploadOutput, Error> {
        self.upload_file_with(key, path, UploadOptions::default())
    }

    /// Uploads the file at `path` to `key` with explicit part sizes, streamed from disk in
    /// constant memory: one PutObject below the threshold, else a multipart upload planned by
    /// [`Upload`] whose parts run on as many threads as the memory budget allows. A part that
    /// fails on the network or with a 5xx is sent again under the client's retry policy;
    /// after any other failure the upload is aborted so no parts are left behind.
    ///
    /// # Errors
    /// [`Error::Service`] from the server, [`Error::Transport`] when the file cannot be read,
    /// [`Error::Input`] when the file changed length while it was being sent.
    pub fn upload_file_with(
        &self,
        key: &str,
        path: impl AsRef<Path>,
        options: UploadOptions,
    ) -> Result<UploadOutput, Error> {
        let path = path.as_ref();
        let file = File::open(path).map_err(io_error)?;
        let length = file.metadata().map_err(io_error)?.len();
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
            if up.wants_md5() {
                op = op.content_md5_value(md5_of(&file, 0, length)?);
            }
            // The file is re-read from the start, so any failure may be retried.
            let client = self.client();
            return client
                .with_retries(Replay::Safe, || {
                    let mut reader = &file;
                    reader.seek(SeekFrom::Start(0)).map_err(io_error)?;
                    client.send_reader_in(client.config(), &op, &mut reader.take(length))
                })
                .map(|out| {
                    self.progress(Some(length)).add(length);
                    UploadOutput::from(out)
                });
        }
        drop(file);
        let concurrency = up.concurrency(options.memory_budget);
        self.multipart(&mut up, |up| self.upload_parts(up, path, concurrency))
    }

    /// Uploads what `reader` yields to `key`: `length` bytes, or up to its end when the
    /// length is unknown. One PutObject when the data fits below the threshold (read into
    /// memory first when the length is unknown), else a multipart upload whose parts are read
    /// into memory one at a time (at most one part buffered), so each can be retried. The
    /// content type is guessed from the key.
    ///
    /// # Errors
    /// As [`Bucket::upload_file_with`]; [`Error::Input`] when `reader` yields a different
    /// number of bytes than `length`.
    pub fn upload_reader(
        &self,
        key: &str,
        mut reader: impl Read,
        length: Option<u64>,
        options: UploadOptions,
    ) -> Result<UploadOutput, Error> {
        let reader: &mut dyn Read = &mut reader;
        let content_type = s3_proto::mime::from_name(key);
        let mut up = Upload::new(self.name().clone(), ObjectKey::new(key)?, length, options)?
            .content_type(content_type);
        let first = up.next_part();
        let buffer = match first {
            Some(slot) if !up.is_single() => read_up_to(reader, slot.len)?,
            _ => read_up_to(reader, length.unwrap_or(0))?,
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
            let out = self.client().send(&up.put_object(buffer))?;
            self.progress(Some(n)).add(n);
            return Ok(out.into());
        }
        let Some(first) = first else {
            return Err(InputError::argument("body", "nothing to upload").into());
        };
        self.multipart(&mut up, |up| {
            self.upload_buffered_parts(up, (first, buffer), reader)
        })
    }

    /// Starts a multipart upload, runs `parts` (which uploads the parts and completes), and
    /// cleans up: aborts after any failure, and sweeps uploads started by creates whose reply
    /// was lost.
    fn multipart(
        &self,
        up: &mut Upload,
        parts: impl FnOnce(&mut Upload) -> Result<UploadOutput, Error>,
    ) -> Result<UploadOutput, Error> {
        let client = self.client();
        let (create, first_create) = (up.create(), client.now());
        // A create whose reply was lost may still have started an upload: retry it, and
        // sweep what the lost attempts started once this upload is over.
        let (created, lost) = client.send_noting_lost(&create);
        let result = match created {
            Ok(created) => up.started(&created).and_then(|()| parts(up)),
            Err(e) => Err(e),
        };
        if let (Err(_), Some(abort)) = (&result, up.abort()) {
            // The original error matters more than a failed clean-up.
            let _ = client.send(&abort);
        }
        if lost {
            if let Ok(listing) = client.send(&up.find_lost()) {
                for abort in up.lost_uploads(&listing, first_create) {
                    let _ = client.send(&abort);
                }
            }
        }
        result
    }

    /// Sends the parts of a one-shot source, each read into memory first.
    fn upload_buffered_parts(
        &self,
        up: &mut Upload,
        first: (PartSlot, Vec<u8>),
        reader: &mut dyn Read,
    ) -> Result<UploadOutput, Error> {
        let progress = self.progress(up.plan().total());
        let mut parts = 0;
        let mut next = Some(first);
        loop {
            let (slot, buffer) = match next.take() {
                Some(first) => first,
                None => {
                    let Some(slot) = up.next_part() else { break };
                    let buffer = read_up_to(reader, slot.len)?;
                    if buffer.is_empty() && up.plan().total().is_none() {
                        up.end_before(&slot);
                        break;
                    }
                    (slot, buffer)
                }
            };
            let len = buffer.len() as u64;
            // In memory, so the client may retry it.
            let out = self.client().send(&up.upload_part(&slot, buffer.into())?)?;
            up.part_done(&slot, &out)?;
            progress.add(len);
            parts += 1;
        }
        self.complete(up, parts)
    }

    /// Streams `key` into `writer` in constant memory; the body's length is checked.
    ///
    /// # Errors
    /// As [`Bucket::download_file`]; what was written before a failure stays written.
    pub fn download_to(&self, key: &str, mut writer: impl Write) -> Result<ObjectHead, Error> {
        let op = GetObject::new(self.name().clone(), ObjectKey::new(key)?);
        let (head, mut reader) = self.client().open(&op)?;
        // Only a plain ETag can be checked; don't hash what nothing will be compared with.
        let mut md5 = s3_proto::integrity::expected_md5(&head).map(|_| Md5::new());
        let mut written = 0;
        copy(&mut reader, &mut writer, md5.as_mut(), &mut written)?;
        writer.flush().map_err(io_error)?;
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

    /// Sends the parts of the file at `path` on `concurrency` threads, each with its own
    /// handle on the file (a shared one would share its read position).
    fn upload_parts(
        &self,
        up: &mut Upload,
        path: &Path,
        concurrency: usize,
    ) -> Result<UploadOutput, Error> {
        let progress = self.progress(up.plan().total());
        let shared = Mutex::new(&mut *up);
        let failed = AtomicBool::new(false);
        let parts = AtomicU64::new(0);
        let lock = || {
            shared
                .lock()
                .map_err(|_| io_error(io::Error::other("an upload thread panicked")))
        };
        let worker = || -> Result<(), Error> {
            let mut file = File::open(path).map_err(io_error)?;
            while !failed.load(Ordering::Relaxed) {
                let (slot, mut op, md5) = {
                    let mut up = lock()?;
                    let Some(slot) = up.next_part() else {
                        return Ok(());
                    };
                    let length = Some(slot.len);
                    let op = up.upload_part(&slot, Body::Stream { length })?;
                    (slot, op, up.wants_md5())
                };
                if md5 {
                    op = op.content_md5_value(md5_of(&file, slot.offset, slot.len)?);
                }
                // The file is re-read from the part's offset, so any failure may be retried.
                let client = self.client();
                let out = client.with_retries(Replay::Safe, || {
                    file.seek(SeekFrom::Start(slot.offset)).map_err(io_error)?;
                    client.send_reader_in(client.config(), &op, &mut (&file).take(slot.len))
                })?;
                lock()?.part_done(&slot, &out)?;
                progress.add(slot.len);
                parts.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        };
        let results: Vec<Result<(), Error>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..concurrency)
                .map(|_| {
                    scope.spawn(|| {
                        let result = worker();
                        if result.is_err() {
                            failed.store(true, Ordering::Relaxed);
                        }
                        result
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(io_error(io::Error::other("an upload thread panicked")))
                    })
                })
                .collect()
        });
        for result in results {
            result?;
        }
        let parts = u16::try_from(parts.load(Ordering::Relaxed)).unwrap_or(u16::MAX);
        self.complete(up, parts)
    }
}

impl Bucket {
    /// Completes the upload. A complete whose reply was lost is retried; if the retry fails
    /// because the first one went through, the object itself is the answer.
    fn complete(&self, up: &Upload, parts: u16) -> Result<UploadOutput, Error> {
        let client = self.client();
        let complete = up.complete()?;
        let (result, lost) = client.send_noting_lost(&complete);
        match result {
            Ok(done) => Ok(UploadOutput::multipart(done, parts)),
            // The retry failed because the first one went through? The object says.
            Err(e @ Error::Service(_)) if lost => {
                let head = client.send(&HeadObject::new(self.name().clone(), up.key().clone()))?;
                up.completed_output(&head).ok_or(e)
            }
            Err(e) => Err(e),
        }
    }
}

/// Reads until `limit` bytes or the end of `reader`.
fn read_up_to(reader: &mut dyn Read, limit: u64) -> Result<Vec<u8>, Error> {
    let cap = usize::try_from(limit).unwrap_or(usize::MAX).min(BUFFER);
    let mut buf = Vec::with_capacity(cap);
    reader.take(limit).read_to_end(&mut buf).map_err(io_error)?;
    Ok(buf)
}

/// The `Content-MD5` of `len` bytes of `file` from `offset` (an extra read, asked for).
fn md5_of(file: &File, offset: u64, len: u64) -> Result<String, Error> {
    let mut reader = file;
    reader.seek(SeekFrom::Start(offset)).map_err(io_error)?;
    let mut md5 = Md5::new();
    let mut read = 0;
    copy(
        &mut reader.take(len),
        &mut io::sink(),
        Some(&mut md5),
        &mut read,
    )?;
    if read != len {
        return Err(InputError::argument("body", "the file is shorter than its length").into());
    }
    Ok(md5.content_md5())
}

/// How far one range got, across its attempts.
struct RangeState {
    /// Bytes written to their place.
    done: u64,
    /// The whole-object MD5 so far, when the range is the whole object.
    md5: Option<Md5>,
}

/// Copies `reader` to `writer` through one large buffer, feeding `md5` and counting the bytes
/// written in `count` as it goes (so a failure leaves the count of what did arrive).
fn copy(
    reader: &mut dyn Read,
    writer: &mut dyn Write,
    mut md5: Option<&mut Md5>,
    count: &mut u64,
) -> Result<(), Error> {
    let mut buf = vec![0u8; BUFFER];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_error(e)),
        };
        writer.write_all(&buf[..n]).map_err(io_error)?;
        if let Some(md5) = md5.as_deref_mut() {
            md5.update(&buf[..n]);
        }
        *count += n as u64;
    }
}
