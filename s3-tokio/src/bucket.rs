//! The boto-style surface, async: buckets as handles, keys as strings, `None` for what is
//! absent; each method one s3-proto operation or flow, every decision made there.

use std::path::Path;
use std::sync::Arc;

use s3_proto::acl::{AccessControlPolicy, Grantee, Permission};
use s3_proto::cors::CorsConfiguration;
use s3_proto::flow::paginate::{ListEntry, ListStep, Listing};
use s3_proto::flow::progress::{Progress, ProgressCounter, ProgressFn};
use s3_proto::flow::{acl::AddGrant, copy::CopyFlow, delete::DeleteFlow};
use s3_proto::flow::{download::DownloadFlow, download::DownloadOptions};
use s3_proto::flow::{upload::Source, upload::UploadFlow, upload::UploadOptions};
use s3_proto::{Body, BucketName, CannedAcl, Error, Metadata, ObjectKey};
use s3_proto::{flow::upload::UploadOutput, ops::*};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::body::ObjectStream;
use crate::client::{Client, now};
use crate::transfer::{Files, TempFile, io};

impl Client {
    /// A handle on `name` without checking that it exists (boto's `get_bucket(validate=False)`);
    /// legacy names that only work path-style are accepted: the server judges.
    pub fn bucket(&self, name: &str) -> Result<Bucket, Error> {
        Ok(self.handle(BucketName::relaxed(name)?))
    }

    fn handle(&self, name: BucketName) -> Bucket {
        Bucket {
            name,
            client: self.clone(),
            progress: None,
        }
    }

    /// Creates a bucket in the client's region; one you already own is success, one owned by
    /// someone else fails with [`s3_proto::ErrorCode::BucketAlreadyExists`].
    pub async fn create_bucket(&self, name: &str) -> Result<Bucket, Error> {
        let op = CreateBucket::new(name.parse()?);
        Ok(self.create_bucket_with(op).await?.0)
    }

    /// Creates a bucket in `location` (e.g. [`LocationConstraint::EU`]).
    pub async fn create_bucket_in(
        &self,
        name: &str,
        at: LocationConstraint,
    ) -> Result<Bucket, Error> {
        let op = CreateBucket::new(name.parse()?).location(at);
        Ok(self.create_bucket_with(op).await?.0)
    }

    /// Sends a fully specified CreateBucket (location, canned ACL).
    pub async fn create_bucket_with(
        &self,
        op: CreateBucket,
    ) -> Result<(Bucket, CreateBucketOutput), Error> {
        let bucket = self.handle(op.bucket().clone());
        Ok((bucket, self.send(&op).await?))
    }

    /// The bucket if it exists and is accessible, `None` if it does not (boto's `lookup`);
    /// other answers are errors (`AccessDenied` for someone else's bucket).
    pub async fn lookup(&self, name: &str) -> Result<Option<Bucket>, Error> {
        let bucket = self.bucket(name)?;
        let op = OrNone(HeadBucket::new(bucket.name.clone()));
        Ok(self.send(&op).await?.map(|_| bucket))
    }

    /// All buckets the caller owns.
    pub async fn list_buckets(&self) -> Result<Vec<BucketInfo>, Error> {
        Ok(self.send(&ListBuckets::new()).await?.buckets)
    }

    /// Deletes an empty bucket (`BucketNotEmpty` when it still holds keys).
    pub async fn delete_bucket(&self, name: &str) -> Result<(), Error> {
        self.send(&DeleteBucket::new(BucketName::relaxed(name)?))
            .await
    }
}

/// A bucket handle: the boto `Bucket`, for keys given as strings.
///
/// Every method here, and every bucket method of [`Client`], fails as [`Client::send`]
/// does; its doc says when there is more to it.
#[derive(Clone)]
pub struct Bucket {
    name: BucketName,
    client: Client,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Bucket").field(&self.name).finish()
    }
}

impl Bucket {
    /// This handle, reporting the progress of its transfers to `callback` as parts and
    /// ranges complete (boto's `cb`).
    pub fn with_progress(&self, callback: impl Fn(Progress) + Send + Sync + 'static) -> Bucket {
        let mut bucket = self.clone();
        bucket.progress = Some(Arc::new(callback));
        bucket
    }

    /// The client this handle sends through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn key(&self, k: &str) -> Result<(BucketName, ObjectKey), Error> {
        let key = k.parse()?;
        Ok((self.name.clone(), key))
    }

    /// The name.
    pub fn name(&self) -> &BucketName {
        &self.name
    }

    /// Stores a string (`text/plain; charset=utf-8`).
    pub async fn put_string(&self, k: &str, value: &str) -> Result<PutObjectOutput, Error> {
        let (bucket, key) = self.key(k)?;
        self.client.send(&PutObject::text(bucket, key, value)).await
    }

    /// Stores bytes (content type guessed from the key).
    pub async fn put_bytes(
        &self,
        k: &str,
        value: impl Into<Vec<u8>>,
    ) -> Result<PutObjectOutput, Error> {
        let (bucket, key) = self.key(k)?;
        let op = PutObject::bytes(bucket, key, value.into());
        self.client.send(&op).await
    }

    /// Sends a fully specified PutObject (metadata, ACL, content headers).
    pub async fn put(&self, op: PutObject) -> Result<PutObjectOutput, Error> {
        self.client.send(&op).await
    }

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

    /// The object's bytes, or `None` when the key does not exist.
    pub async fn get_bytes(&self, k: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.get(k).await?.map(|(_, bytes)| bytes))
    }

    /// The object's head and bytes, or `None` when the key does not exist. The bytes are
    /// verified against the ETag ([`ObjectHead::verified`] says how), read again after a
    /// mismatch within the retry policy.
    ///
    /// # Errors
    /// As [`Client::send`]; `ChecksumMismatch` when every read was corrupted.
    pub async fn get(&self, k: &str) -> Result<Option<(ObjectHead, Vec<u8>)>, Error> {
        let (bucket, key) = self.key(k)?;
        let mut read = WholeRead::new(bucket, key, self.client.options());
        loop {
            let (Some(head), mut stream) = self.client.open(read.op()).await? else {
                return Ok(None);
            };
            let mut out = s3_proto::body::buffer_for(&head);
            let outcome = stream.read_all(&mut out).await;
            if let Some(done) = read.judge(head, out, outcome) {
                return done.map(Some);
            }
        }
    }

    /// The object as UTF-8 text, or `None` when the key does not exist; [`Error::Response`]
    /// when the bytes are not UTF-8.
    pub async fn get_string(&self, k: &str) -> Result<Option<String>, Error> {
        let bytes = self.get_bytes(k).await?;
        bytes.map(s3_proto::body::utf8).transpose()
    }

    /// Opens the object for streaming, or `None` when it does not exist.
    pub async fn open(&self, op: GetObject) -> Result<Option<(ObjectHead, ObjectStream)>, Error> {
        let (head, stream) = self.client.open(&OrNone(op)).await?;
        Ok(head.map(|head| (head, stream)))
    }

    /// The object's headers and metadata, or `None` when it does not exist (boto's `get_key`).
    pub async fn head(&self, k: &str) -> Result<Option<ObjectHead>, Error> {
        let (bucket, key) = self.key(k)?;
        self.client
            .send(&OrNone(HeadObject::new(bucket, key)))
            .await
    }

    /// The user metadata of a key, or `None` when it does not exist.
    pub async fn metadata(&self, k: &str) -> Result<Option<Metadata>, Error> {
        Ok(self.head(k).await?.map(|h| h.metadata))
    }

    /// Deletes a key (success when it did not exist).
    pub async fn delete_key(&self, k: &str) -> Result<(), Error> {
        let (bucket, key) = self.key(k)?;
        self.client.send(&DeleteObject::new(bucket, key)).await
    }

    /// Deletes many keys, 1000 per request; per-key failures are returned as data.
    pub async fn delete_keys<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k str>,
    ) -> Result<DeleteObjectsOutput, Error> {
        let keys: Result<_, _> = keys.into_iter().map(str::parse).collect();
        self.client
            .drive(DeleteFlow::new(self.name.clone(), keys?))
            .await
    }

    /// Copies `src_bucket/src_key` to `dst_key` in this bucket, keeping metadata.
    pub async fn copy_key(
        &self,
        dst_key: &str,
        src_bucket: &str,
        src_key: &str,
    ) -> Result<CopyObjectOutput, Error> {
        let source = (BucketName::relaxed(src_bucket)?, src_key.parse()?);
        let (bucket, key) = self.key(dst_key)?;
        self.client
            .send(&CopyObject::new(source.0, source.1, bucket, key))
            .await
    }

    /// Copies an object of any size to `dst_key` in this bucket as [`CopyFlow`] plans it
    /// (UploadPartCopy parts in parallel above `options.threshold`, all from one version);
    /// `PreconditionFailed` when the source changed meanwhile.
    pub async fn copy_object(
        &self,
        dst_key: &str,
        src_bucket: &str,
        src_key: &str,
        options: s3_proto::flow::copy::CopyOptions,
    ) -> Result<UploadOutput, Error> {
        let (dst, src) = (self.key(dst_key)?, BucketName::relaxed(src_bucket)?);
        let flow = CopyFlow::new((src, src_key.parse()?), dst, options, now());
        self.client.drive(flow).await
    }

    /// Every key (and, with a delimiter, common prefix), paging by itself.
    pub fn list(&self, prefix: &str, delimiter: Option<&str>) -> List {
        self.list_with(ListObjectsV2::under(self.name.clone(), prefix, delimiter))
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

    /// Pages through a fully specified ListObjectsV2.
    pub fn list_with(&self, op: ListObjectsV2) -> List {
        let (client, listing) = (self.client.clone(), Listing::new(op));
        List { client, listing }
    }

    /// The bucket's ACL.
    pub async fn acl(&self) -> Result<AccessControlPolicy, Error> {
        self.client
            .send(&GetBucketAcl::new(self.name.clone()))
            .await
    }

    /// Replaces the bucket's ACL: a [`CannedAcl`], an [`AccessControlPolicy`] or grants.
    pub async fn set_acl(&self, acl: impl Into<AclSpec>) -> Result<(), Error> {
        let op = PutBucketAcl::new(self.name.clone(), acl);
        self.client.send(&op).await
    }

    /// Grants `permission` on the bucket to the account with `email` (read-modify-write;
    /// servers answer an error for an unknown email).
    pub async fn add_email_grant(&self, permission: Permission, email: &str) -> Result<(), Error> {
        let grantee = Grantee::Email(email.to_owned());
        let flow = AddGrant::bucket(self.name.clone(), grantee, permission);
        self.client.drive(flow).await
    }

    /// Grants `permission` on the bucket to a canonical user id (read-modify-write).
    pub async fn add_user_grant(&self, permission: Permission, id: &str) -> Result<(), Error> {
        let flow = AddGrant::bucket(self.name.clone(), Grantee::user(id), permission);
        self.client.drive(flow).await
    }

    /// A key's ACL.
    pub async fn key_acl(&self, k: &str) -> Result<AccessControlPolicy, Error> {
        let (bucket, key) = self.key(k)?;
        self.client.send(&GetObjectAcl::new(bucket, key)).await
    }

    /// Replaces a key's ACL: a [`CannedAcl`], an [`AccessControlPolicy`] or grants.
    pub async fn set_key_acl(&self, k: &str, acl: impl Into<AclSpec>) -> Result<(), Error> {
        let (bucket, key) = self.key(k)?;
        self.client.send(&PutObjectAcl::new(bucket, key, acl)).await
    }

    /// Grants `permission` on a key to the account with `email` (read-modify-write; servers
    /// answer an error for an unknown email).
    pub async fn add_key_email_grant(
        &self,
        k: &str,
        permission: Permission,
        email: &str,
    ) -> Result<(), Error> {
        let grantee = Grantee::Email(email.to_owned());
        self.add_key_grant(k, grantee, permission).await
    }

    /// Grants `permission` on a key to a canonical user id (read-modify-write).
    pub async fn add_key_user_grant(
        &self,
        k: &str,
        permission: Permission,
        id: &str,
    ) -> Result<(), Error> {
        self.add_key_grant(k, Grantee::user(id), permission).await
    }

    async fn add_key_grant(
        &self,
        k: &str,
        grantee: Grantee,
        permission: Permission,
    ) -> Result<(), Error> {
        let (bucket, key) = self.key(k)?;
        let flow = AddGrant::key(bucket, key, grantee, permission);
        self.client.drive(flow).await
    }

    /// The bucket's CORS configuration, or `None` when it has none.
    pub async fn cors(&self) -> Result<Option<CorsConfiguration>, Error> {
        let op = OrNone(GetBucketCors::new(self.name.clone()));
        self.client.send(&op).await
    }

    /// Sets the bucket's CORS configuration ([`Error::Input`] for an invalid one).
    pub async fn set_cors(&self, config: &CorsConfiguration) -> Result<(), Error> {
        let op = PutBucketCors::new(self.name.clone(), config.clone());
        self.client.send(&op).await
    }

    /// Removes the bucket's CORS configuration.
    pub async fn delete_cors(&self) -> Result<(), Error> {
        self.client
            .send(&DeleteBucketCors::new(self.name.clone()))
            .await
    }

    /// The bucket's location.
    pub async fn location(&self) -> Result<BucketLocation, Error> {
        self.client
            .send(&GetBucketLocation::new(self.name.clone()))
            .await
    }

    /// Creates the bucket with a canned ACL, or sets one on an existing bucket.
    pub async fn create(&self, acl: Option<CannedAcl>) -> Result<CreateBucketOutput, Error> {
        let op = CreateBucket::with_acl(self.name.clone(), acl);
        self.client.send(&op).await
    }

    /// Deletes the bucket, which must be empty (`BucketNotEmpty` otherwise).
    pub async fn delete(&self) -> Result<(), Error> {
        self.client
            .send(&DeleteBucket::new(self.name.clone()))
            .await
    }

    /// Downloads `key` to `path` (see [`Bucket::download_file_with`]).
    pub async fn download_file(
        &self,
        key: &str,
        path: impl AsRef<Path>,
    ) -> Result<ObjectHead, Error> {
        let options = DownloadOptions::default();
        self.download_file_with(key, path, options).await
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
        let op = GetObject::new(self.name.clone(), key.parse()?);
        let ((mut head, mut stream), mut writer) = (self.client.open(&op).await?, writer);
        while let Some(chunk) = stream.chunk().await? {
            writer.write_all(&chunk).await.map_err(io)?;
        }
        writer.flush().await.map_err(io)?;
        ProgressCounter::new(None, self.progress.clone()).add(stream.bytes_read());
        head.verified = stream.verification();
        Ok(head)
    }

    /// Uploads the file at `path` to `key` (see [`Bucket::upload_file_with`]).
    pub async fn upload_file(
        &self,
        key: &str,
        path: impl AsRef<Path>,
    ) -> Result<UploadOutput, Error> {
        let options = UploadOptions::default();
        self.upload_file_with(key, path, options).await
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
pub struct List {
    listing: Listing<ListObjectsV2>,
    client: Client,
}

impl List {
    /// The next entry, fetching the next page when needed; `None` at the end.
    pub async fn next(&mut self) -> Option<Result<ListEntry, Error>> {
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

impl std::fmt::Debug for List {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("List").field(&self.listing.pages()).finish()
    }
}
