//! Files in and out, streamed in constant memory.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use s3_proto::ops::{GetObject, ObjectHead, PutObject, PutObjectOutput};
use s3_proto::{Error, ObjectKey, ResponseError};
use tokio::fs::{self, File};
use tokio::io::AsyncWriteExt;

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
    /// Downloads `key` to `path` in constant memory; the data lands in a temporary file beside
    /// `path`, renamed over it only once every announced byte has arrived.
    ///
    /// # Errors
    /// [`Error::Service`] (`NoSuchKey`, …), [`Error::Transport`] for network or disk failures,
    /// [`Error::Response`] when the body's length is not the announced one.
    pub async fn download_file(
        &self,
        key: &str,
        path: impl AsRef<Path>,
    ) -> Result<ObjectHead, Error> {
        let path = path.as_ref();
        let op = GetObject::new(self.name().clone(), ObjectKey::new(key)?);
        let (head, mut stream) = self.client().open(&op).await?;
        let mut temp = TempFile::beside(path).await.map_err(io_error)?;
        let mut written = 0u64;
        {
            let Some(file) = temp.file.as_mut() else {
                return Err(io_error(io::Error::other("temporary file closed")));
            };
            while let Some(chunk) = stream.chunk().await.map_err(io_error)? {
                file.write_all(&chunk).await.map_err(io_error)?;
                written += chunk.len() as u64;
            }
        }
        if let Some(expected) = head.content_length {
            if written != expected {
                return Err(ResponseError::LengthMismatch {
                    expected,
                    actual: written,
                }
                .into());
            }
        }
        temp.persist(path).await.map_err(io_error)?;
        Ok(head)
    }

    /// Uploads the file at `path` to `key`, streamed from disk, with the content type guessed
    /// from the file name.
    ///
    /// # Errors
    /// As [`crate::Client::send_reader`]; [`Error::Transport`] when the file cannot be read.
    pub async fn upload_file(
        &self,
        key: &str,
        path: impl AsRef<Path>,
    ) -> Result<PutObjectOutput, Error> {
        let path = path.as_ref();
        let file = File::open(path).await.map_err(io_error)?;
        let length = file.metadata().await.map_err(io_error)?.len();
        let op = PutObject::new(
            self.name().clone(),
            ObjectKey::new(key)?,
            s3_proto::Body::Stream {
                length: Some(length),
            },
        )
        .content_type(s3_proto::mime::from_name(&path.to_string_lossy()));
        self.client().send_reader(&op, file).await
    }
}
