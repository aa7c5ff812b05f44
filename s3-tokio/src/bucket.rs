//! The boto-style surface: buckets as handles, keys as strings, `None` for what is absent.
//!
//! The methods that send one operation or flow are written once, in
//! [`s3_proto::bucket_surface!`]; here are the ones that move bytes between the caller's
//! files or readers and the network.

use std::path::Path;
use std::sync::Arc;

use s3_proto::flow::download::{DownloadFlow, DownloadOptions};
use s3_proto::flow::paginate::{Entries, ListEntry, ListStep, Listing};
use s3_proto::flow::progress::ProgressCounter;
use s3_proto::flow::upload::{Source, UploadFlow, UploadOptions, UploadOutput};
use s3_proto::ops::{GetObject, ListObjectsV2, ObjectHead, PutObject, PutObjectOutput};
use s3_proto::{Body, Error};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::body::ObjectStream;
use crate::client::{Client, now};
use crate::transfer::{Files, TempFile, io};

s3_proto::bucket_surface!(async, s3_tokio, Client, ObjectStream, crate::client::now);

impl Bucket {
    /// Stores `length` bytes read from `reader` in one request (content type guessed from
    /// the key). Only a failure to connect is retried: see [`Bucket::upload_reader`].
    pub async fn put_reader(
        &self,
        k: &str,
        reader: impl AsyncRead + Send + 'static,
        length: u64,
    ) -> Result<PutObjectOutput, Error> {
        let (bucket, key) = self.key(k)?;
        let length = Some(length);
        let op = PutObject::bytes(bucket, key, Body::Stream { length });
        self.client.send_reader(&op, reader).await
    }

    /// Every entry of a listing, collected; the first failing page's error.
    pub async fn list_all(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
    ) -> Result<Vec<ListEntry>, Error> {
        let (mut list, mut entries) = (self.list(prefix, delimiter), Vec::new());
        while let Some(entry) = list.next().await {
            entries.push(entry?);
        }
        Ok(entries)
    }

    /// Downloads `key` to `path` as [`DownloadFlow`] plans it (ranged GETs of one version,
    /// on as many tasks as the memory budget allows, each checked and resumed where it
    /// broke off), into a temporary file renamed over `path` only once every byte arrived.
    pub async fn download_file_with(
        &self,
        key: &str,
        path: impl AsRef<Path>,
        options: DownloadOptions,
    ) -> Result<ObjectHead, Error> {
        let (bucket, key) = self.key(key)?;
        let flow = DownloadFlow::new(bucket, key, options)
            .progress(self.progress.clone())
            .verify(self.client.options().rereads());
        let temp = TempFile::beside(path.as_ref()).await?;
        let files = Files(None, temp.path());
        let head = self.client.drive_io(flow, files, None).await?;
        temp.persist(path.as_ref()).await.map(|()| head)
    }

    /// Streams `key` into `writer` in constant memory, checking its length and digest
    /// ([`ObjectHead::verified`] says how); what was written before a failure stays written,
    /// and is unverified when the digest did not match.
    pub async fn download_to(
        &self,
        key: &str,
        writer: impl AsyncWrite + Unpin + Send,
    ) -> Result<ObjectHead, Error> {
        let op = GetObject::new(self.name.clone(), key.parse()?).checksum_mode(true);
        let ((mut head, mut stream), mut writer) = (self.client.open(&op).await?, writer);
        while let Some(chunk) = stream.chunk().await? {
            writer.write_all(&chunk).await.map_err(io)?;
        }
        writer.flush().await.map_err(io)?;
        ProgressCounter::new(None, self.progress.clone()).add(stream.bytes_read());
        head.verified = stream.verification();
        Ok(head)
    }

    /// Uploads the file at `path` to `key` as [`UploadFlow`] plans it, streamed from disk
    /// with the content type guessed from the file name (parts on tasks, each re-read when
    /// retried, aborted after any failure); [`Error::Input`] when the file changed length.
    pub async fn upload_file_with(
        &self,
        key: &str,
        path: impl AsRef<Path>,
        options: UploadOptions,
    ) -> Result<UploadOutput, Error> {
        let path: Arc<Path> = path.as_ref().into();
        let metadata = tokio::fs::metadata(&path).await;
        let len = metadata.map_err(io)?.len();
        let source = Source::File { len };
        let flow = UploadFlow::new(self.name.clone(), key.parse()?, source, options, now())?;
        let content_type = s3_proto::mime::from_name(&path.to_string_lossy());
        let flow = flow
            .progress(self.progress.clone())
            .content_type(content_type);
        let files = Files(Some(path), None);
        self.client.drive_io(flow, files, None).await
    }

    /// Uploads what `reader` yields to `key` (`length` bytes, or up to its end) as
    /// [`UploadFlow`] plans it: parts read into memory in turn and sent on tasks, so each
    /// can be retried; content type guessed from the key; [`Error::Input`] when `reader`
    /// yields another number of bytes than `length`.
    pub async fn upload_reader(
        &self,
        key: &str,
        mut reader: impl AsyncRead + Unpin + Send,
        length: Option<u64>,
        options: UploadOptions,
    ) -> Result<UploadOutput, Error> {
        let source = Source::Reader { len: length };
        let flow = UploadFlow::new(self.name.clone(), key.parse()?, source, options, now())?;
        let flow = flow
            .progress(self.progress.clone())
            .content_type(s3_proto::mime::from_name(key));
        self.client
            .drive_io(flow, Files::default(), Some(&mut reader))
            .await
    }
}

/// A listing that sends one request per page: call [`List::next`] until it returns `None`.
/// Keys (the default), keys through ListObjects v1, multipart uploads or parts.
pub struct List<O: Entries = ListObjectsV2> {
    listing: Listing<O>,
    client: Client,
}

impl<O: Entries> List<O> {
    /// The next entry, fetching the next page when needed; `None` at the end.
    pub async fn next(&mut self) -> Option<Result<O::Entry, Error>> {
        loop {
            let op = match self.listing.poll() {
                ListStep::End => return None,
                ListStep::Entry(entry) => return Some(Ok(entry)),
                ListStep::Send(op) => op,
            };
            let page = self.client.send(&op).await;
            if let Some(e) = self.listing.handle(page) {
                return Some(Err(e));
            }
        }
    }
}

impl<O: Entries> std::fmt::Debug for List<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("List").field(&self.listing.pages()).finish()
    }
}
