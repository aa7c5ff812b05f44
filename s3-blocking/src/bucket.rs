//! The boto-style surface: buckets as handles, keys as strings, `None` for what is absent.
//!
//! The methods that send one operation or flow are written once, in
//! [`s3_proto::bucket_surface!`]; here are the ones that move bytes between the caller's
//! files or readers and the network.

use std::io::{Read, Write};
use std::path::Path;

use s3_proto::flow::download::{DownloadFlow, DownloadOptions};
use s3_proto::flow::paginate::{Entries, ListEntry, ListStep, Listing};
use s3_proto::flow::progress::ProgressCounter;
use s3_proto::flow::upload::{Source, UploadFlow, UploadOptions, UploadOutput};
use s3_proto::ops::{GetObject, ListObjectsV2, ObjectHead, PutObject, PutObjectOutput};
use s3_proto::{Body, Error};

use crate::body::ObjectReader;
use crate::client::{Client, io_error, now};
use crate::transfer::{Files, TempFile};

s3_proto::bucket_surface!(sync, s3_blocking, Client, ObjectReader, crate::client::now);

impl Bucket {
    /// Stores `length` bytes read from `reader` in one request (content type guessed from
    /// the key). Only a failure to connect is retried: see [`Bucket::upload_reader`].
    ///
    /// # Errors
    /// As [`Client::send_reader`].
    pub fn put_reader(
        &self,
        k: &str,
        reader: &mut dyn Read,
        length: u64,
    ) -> Result<PutObjectOutput, Error> {
        let (bucket, key) = self.key(k)?;
        let body = Body::Stream {
            length: Some(length),
        };
        self.client
            .send_reader(&PutObject::bytes(bucket, key, body), reader)
    }

    /// Every entry of a listing, collected.
    ///
    /// # Errors
    /// The first failing page's error.
    pub fn list_all(&self, prefix: &str, delimiter: Option<&str>) -> Result<Vec<ListEntry>, Error> {
        self.list(prefix, delimiter).collect()
    }

    /// Downloads `key` to `path` as [`DownloadFlow`] plans it: ranged GETs of one version on
    /// as many threads as the memory budget allows, each checked and resumed where it broke
    /// off. The data lands in a temporary file beside `path`, renamed over it only once
    /// every byte has arrived: a failed download never leaves a partial file at `path`.
    ///
    /// # Errors
    /// [`Error::Service`] (`NoSuchKey`, `PreconditionFailed` when the object changed
    /// meanwhile, …), [`Error::Transport`] for network or disk failures, [`Error::Response`]
    /// when a body is not what was announced.
    pub fn download_file_with(
        &self,
        key: &str,
        path: impl AsRef<Path>,
        options: DownloadOptions,
    ) -> Result<ObjectHead, Error> {
        let (path, (bucket, key)) = (path.as_ref(), self.key(key)?);
        let temp = TempFile::beside(path).map_err(|e| io_error(e, self.client.options()))?;
        let flow = DownloadFlow::new(bucket, key, options)
            .progress(self.progress.clone())
            .verify(self.client.options().rereads());
        let files = Files {
            dest: Some(temp.path()),
            ..Files::default()
        };
        let head = self.client.drive_io(flow, files, None)?;
        temp.persist(path)
            .map_err(|e| io_error(e, self.client.options()))?;
        Ok(head)
    }

    /// Streams `key` into `writer` in constant memory, checking its length and digest
    /// ([`ObjectHead::verified`] says how).
    ///
    /// # Errors
    /// As [`Bucket::download_file`]; what was written before a failure stays written, and
    /// is unverified when the digest did not match.
    pub fn download_to(&self, key: &str, mut writer: impl Write) -> Result<ObjectHead, Error> {
        let (bucket, key) = self.key(key)?;
        let (mut head, mut reader) = self
            .client
            .open(&GetObject::new(bucket, key).checksum_mode(true))?;
        let (mut buf, io) = (vec![0u8; 1 << 20], |e| io_error(e, self.client.options()));
        while let n @ 1.. = reader.read_checked(&mut buf)? {
            writer.write_all(&buf[..n]).map_err(io)?;
        }
        writer.flush().map_err(io)?;
        ProgressCounter::new(None, self.progress.clone()).add(reader.bytes_read());
        head.verified = reader.verification();
        Ok(head)
    }

    /// Uploads the file at `path` to `key` as [`UploadFlow`] plans it, streamed from disk,
    /// with the content type guessed from the file name: one PutObject below the threshold,
    /// else a multipart upload whose parts run on threads within the memory budget, each
    /// re-read from the file when retried; aborted after any failure.
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
        let len = std::fs::metadata(path)
            .map_err(|e| io_error(e, self.client.options()))?
            .len();
        let content_type = s3_proto::mime::from_name(&path.to_string_lossy());
        let flow = self
            .upload(key, Source::File { len }, options)?
            .content_type(content_type);
        let files = Files {
            source: Some(path),
            ..Files::default()
        };
        self.client.drive_io(flow, files, None)
    }

    /// Uploads what `reader` yields to `key`: `length` bytes, or up to its end when the
    /// length is unknown, as [`UploadFlow`] plans it: one PutObject when the data fits below
    /// the threshold, else parts read into memory one after the other and sent on threads
    /// within the memory budget, so each can be retried. The content type is guessed from
    /// the key.
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
        let content_type = s3_proto::mime::from_name(key);
        let flow = self
            .upload(key, Source::Reader { len: length }, options)?
            .content_type(content_type);
        self.client
            .drive_io(flow, Files::default(), Some(&mut reader))
    }

    fn upload(
        &self,
        key: &str,
        source: Source,
        options: UploadOptions,
    ) -> Result<UploadFlow, Error> {
        let (bucket, key) = self.key(key)?;
        let flow = UploadFlow::new(bucket, key, source, options, now())?;
        Ok(flow.progress(self.progress.clone()))
    }
}

/// An iterator over a listing that sends one request per page: keys (the default), keys
/// through ListObjects v1, multipart uploads or parts.
pub struct List<O: Entries = ListObjectsV2> {
    client: Client,
    listing: Listing<O>,
}

impl<O: Entries> std::fmt::Debug for List<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("List")
            .field("pages", &self.listing.pages())
            .finish_non_exhaustive()
    }
}

impl<O: Entries> Iterator for List<O> {
    type Item = Result<O::Entry, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.listing.poll() {
                ListStep::Entry(entry) => return Some(Ok(entry)),
                ListStep::Send(op) => {
                    let result = self.client.send(&op);
                    if let Some(e) = self.listing.handle(result) {
                        return Some(Err(e));
                    }
                }
                ListStep::End => return None,
            }
        }
    }
}
