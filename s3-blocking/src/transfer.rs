//! Files in and out, streamed in constant memory.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use s3_proto::ops::{GetObject, ObjectHead};
use s3_proto::{Error, ObjectKey, ResponseError};

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
    /// Downloads `key` to `path`, streaming in constant memory. The data lands in a
    /// temporary file beside `path`, which replaces `path` only once every byte the server
    /// announced has arrived: a failed download never leaves a partial file at `path`.
    ///
    /// # Errors
    /// [`Error::Service`] (`NoSuchKey`, …), [`Error::Transport`] for network or disk
    /// failures, [`Error::Response`] when the body's length is not the announced one.
    pub fn download_file(&self, key: &str, path: impl AsRef<Path>) -> Result<ObjectHead, Error> {
        let path = path.as_ref();
        let op = GetObject::new(self.name().clone(), ObjectKey::new(key)?);
        let (head, mut reader) = self.client().open(&op)?;
        let mut temp = TempFile::beside(path).map_err(io_error)?;
        let written = {
            let Some(file) = temp.file.as_mut() else {
                return Err(io_error(io::Error::other("temporary file closed")));
            };
            copy(&mut reader, file)?
        };
        if let Some(expected) = head.content_length {
            if written != expected {
                return Err(ResponseError::LengthMismatch {
                    expected,
                    actual: written,
                }
                .into());
            }
        }
        temp.persist(path).map_err(io_error)?;
        Ok(head)
    }

    /// Uploads the file at `path` to `key`, streamed from disk, with the content type guessed
    /// from the file name.
    ///
    /// # Errors
    /// As [`crate::Client::send_reader`]; [`Error::Transport`] when the file cannot be read.
    pub fn upload_file(
        &self,
        key: &str,
        path: impl AsRef<Path>,
    ) -> Result<s3_proto::ops::PutObjectOutput, Error> {
        let path = path.as_ref();
        let mut file = File::open(path).map_err(io_error)?;
        let length = file.metadata().map_err(io_error)?.len();
        let content_type = s3_proto::mime::from_name(&path.to_string_lossy());
        let op = s3_proto::ops::PutObject::new(
            self.name().clone(),
            ObjectKey::new(key)?,
            s3_proto::Body::Stream {
                length: Some(length),
            },
        )
        .content_type(content_type);
        self.client().send_reader(&op, &mut file)
    }
}

/// Copies `reader` to `writer` through one large buffer; returns the bytes copied.
fn copy(reader: &mut dyn Read, writer: &mut dyn Write) -> Result<u64, Error> {
    let mut buf = vec![0u8; BUFFER];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_error(e)),
        };
        writer.write_all(&buf[..n]).map_err(io_error)?;
        total += n as u64;
    }
}
