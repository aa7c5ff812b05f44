//! The boto-style surface: buckets as handles, keys as strings, `None` for what is absent.
//!
//! Every method is one s3-proto operation or flow sent through the [`Client`]; the decisions
//! (what "absent" means, content types, batches, read-modify-write) are made in s3-proto.

use std::io::{Read, Write};
use std::path::Path;

use s3_proto::acl::{AccessControlPolicy, Grantee, Permission};
use s3_proto::cors::CorsConfiguration;
use s3_proto::flow::acl::AddGrant;
use s3_proto::flow::copy::{CopyFlow, CopyOptions};
use s3_proto::flow::delete::DeleteFlow;
use s3_proto::flow::download::{DownloadFlow, DownloadOptions};
use s3_proto::flow::paginate::{ListEntry, ListStep, Listing};
use s3_proto::flow::progress::{Progress, ProgressCounter, ProgressFn};
use s3_proto::flow::upload::{Source, UploadFlow, UploadOptions, UploadOutput};
use s3_proto::ops::{
    AclSpec, BucketInfo, BucketLocation, CopyObject, CopyObjectOutput, CreateBucket,
    CreateBucketOutput, DeleteBucket, DeleteBucketCors, DeleteObject, DeleteObjectsOutput,
    GetBucketAcl, GetBucketCors, GetBucketLocation, GetObject, GetObjectAcl, HeadBucket,
    HeadObject, ListBuckets, ListObjectsV2, LocationConstraint, ObjectHead, OrNone, PutBucketAcl,
    PutBucketCors, PutObject, PutObjectAcl, PutObjectOutput, WholeRead,
};
use s3_proto::{Body, BucketName, CannedAcl, Error, Metadata, ObjectKey};

use crate::body::ObjectReader;
use crate::client::{Client, io_error, now};
use crate::transfer::{Files, TempFile};

impl Client {
    /// A handle on `name` without checking that it exists (boto's `get_bucket(validate=False)`).
    /// Legacy names that only work path-style are accepted: the server judges.
    ///
    /// # Errors
    /// [`Error::Input`] for an invalid name.
    pub fn bucket(&self, name: &str) -> Result<Bucket, Error> {
        Ok(self.handle(BucketName::relaxed(name)?))
    }

    fn handle(&self, name: BucketName) -> Bucket {
        let client = self.clone();
        Bucket {
            client,
            name,
            progress: None,
        }
    }

    /// Creates a bucket in the client's region; one you already own is success, one owned by
    /// someone else fails with `BucketAlreadyExists`.
    ///
    /// # Errors
    /// [`Error::Service`] with [`s3_proto::ErrorCode::BucketAlreadyExists`] for a taken name.
    pub fn create_bucket(&self, name: &str) -> Result<Bucket, Error> {
        Ok(self.create_bucket_with(CreateBucket::new(name.parse()?))?.0)
    }

    /// Creates a bucket in `location` (e.g. [`LocationConstraint::EU`]).
    ///
    /// # Errors
    /// As [`Client::create_bucket`].
    pub fn create_bucket_in(&self, name: &str, at: LocationConstraint) -> Result<Bucket, Error> {
        Ok(self
            .create_bucket_with(CreateBucket::new(name.parse()?).location(at))?
            .0)
    }

    /// Sends a fully specified CreateBucket (location, canned ACL).
    ///
    /// # Errors
    /// As [`Client::create_bucket`].
    pub fn create_bucket_with(
        &self,
        op: CreateBucket,
    ) -> Result<(Bucket, CreateBucketOutput), Error> {
        let out = self.send(&op)?;
        Ok((self.handle(op.bucket().clone()), out))
    }

    /// The bucket if it exists and is accessible, `None` if it does not exist (boto's
    /// `lookup`).
    ///
    /// # Errors
    /// [`Error::Service`] for other answers (`AccessDenied` for someone else's bucket).
    pub fn lookup(&self, name: &str) -> Result<Option<Bucket>, Error> {
        let bucket = self.bucket(name)?;
        let found = self.send(&OrNone(HeadBucket::new(bucket.name.clone())))?;
        Ok(found.map(|_| bucket))
    }

    /// All buckets the caller owns.
    pub fn list_buckets(&self) -> Result<Vec<BucketInfo>, Error> {
        Ok(self.send(&ListBuckets::new())?.buckets)
    }

    /// Deletes an empty bucket.
    ///
    /// # Errors
    /// `BucketNotEmpty` when it still holds keys.
    pub fn delete_bucket(&self, name: &str) -> Result<(), Error> {
        self.send(&DeleteBucket::new(BucketName::relaxed(name)?))
    }
}

/// A bucket handle: the boto `Bucket`, for keys given as strings.
///
/// Every method fails as [`Client::send`] does; its doc says when there is more to it.
#[derive(Clone)]
pub struct Bucket {
    client: Client,
    name: BucketName,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bucket")
            .field("name", &self.name)
            .field("progress", &self.progress.is_some())
            .finish_non_exhaustive()
    }
}

impl Bucket {
    /// This handle, reporting the progress of its transfers to `callback` as parts and
    /// ranges complete (boto's `cb`).
    pub fn with_progress(&self, callback: impl Fn(Progress) + Send + Sync + 'static) -> Bucket {
        let progress = Some(std::sync::Arc::new(callback) as ProgressFn);
        Bucket {
            progress,
            ..self.clone()
        }
    }

    /// The name.
    pub fn name(&self) -> &BucketName {
        &self.name
    }

    /// The client this handle sends through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn key(&self, k: &str) -> Result<(BucketName, ObjectKey), Error> {
        Ok((self.name.clone(), k.parse()?))
    }

    /// Stores a string (`text/plain; charset=utf-8`).
    pub fn put_string(&self, k: &str, value: &str) -> Result<PutObjectOutput, Error> {
        let (bucket, key) = self.key(k)?;
        self.client.send(&PutObject::text(bucket, key, value))
    }

    /// Stores bytes (content type guessed from the key).
    pub fn put_bytes(&self, k: &str, value: impl Into<Vec<u8>>) -> Result<PutObjectOutput, Error> {
        let (bucket, key) = self.key(k)?;
        self.client
            .send(&PutObject::bytes(bucket, key, value.into()))
    }

    /// Sends a fully specified PutObject (metadata, ACL, content headers).
    pub fn put(&self, op: PutObject) -> Result<PutObjectOutput, Error> {
        self.client.send(&op)
    }

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

    /// The object's bytes, or `None` when the key does not exist (see [`Bucket::get`]).
    pub fn get_bytes(&self, k: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.get(k)?.map(|(_, bytes)| bytes))
    }

    /// The object's head and bytes, or `None` when the key does not exist. The bytes are
    /// verified against the ETag ([`ObjectHead::verified`] says how), read again after a
    /// mismatch within the retry policy.
    ///
    /// # Errors
    /// As [`Client::send`]; `ChecksumMismatch` when every read was corrupted.
    pub fn get(&self, k: &str) -> Result<Option<(ObjectHead, Vec<u8>)>, Error> {
        let (bucket, key) = self.key(k)?;
        let mut read = WholeRead::new(bucket, key, self.client.options());
        loop {
            let (Some(head), mut reader) = self.client.open(read.op())? else {
                return Ok(None);
            };
            let mut out = s3_proto::body::buffer_for(&head);
            let outcome = reader.read_all(&mut out);
            if let Some(done) = read.judge(head, out, outcome) {
                return done.map(Some);
            }
        }
    }

    /// The object as UTF-8 text, or `None` when the key does not exist.
    ///
    /// # Errors
    /// As [`Client::send`]; [`Error::Response`] when the bytes are not UTF-8.
    pub fn get_string(&self, k: &str) -> Result<Option<String>, Error> {
        self.get_bytes(k)?.map(s3_proto::body::utf8).transpose()
    }

    /// Opens the object for streaming, or `None` when it does not exist.
    ///
    /// # Errors
    /// As [`Client::open`].
    pub fn open(&self, op: GetObject) -> Result<Option<(ObjectHead, ObjectReader)>, Error> {
        let (head, reader) = self.client.open(&OrNone(op))?;
        Ok(head.map(|head| (head, reader)))
    }

    /// The object's headers and metadata, or `None` when it does not exist (boto's
    /// `get_key`).
    pub fn head(&self, k: &str) -> Result<Option<ObjectHead>, Error> {
        let (bucket, key) = self.key(k)?;
        self.client.send(&OrNone(HeadObject::new(bucket, key)))
    }

    /// The user metadata of a key, or `None` when it does not exist.
    pub fn metadata(&self, k: &str) -> Result<Option<Metadata>, Error> {
        Ok(self.head(k)?.map(|h| h.metadata))
    }

    /// Deletes a key (success when it did not exist).
    pub fn delete_key(&self, k: &str) -> Result<(), Error> {
        let (bucket, key) = self.key(k)?;
        self.client.send(&DeleteObject::new(bucket, key))
    }

    /// Deletes many keys, 1000 per request; per-key failures are returned as data.
    pub fn delete_keys<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k str>,
    ) -> Result<DeleteObjectsOutput, Error> {
        let keys = keys.into_iter().map(str::parse).collect::<Result<_, _>>()?;
        self.client.drive(DeleteFlow::new(self.name.clone(), keys))
    }

    /// Copies `src_bucket/src_key` to `dst_key` in this bucket, keeping metadata.
    pub fn copy_key(
        &self,
        dst_key: &str,
        src_bucket: &str,
        src_key: &str,
    ) -> Result<CopyObjectOutput, Error> {
        let (bucket, key) = self.key(dst_key)?;
        let source = BucketName::relaxed(src_bucket)?;
        self.client
            .send(&CopyObject::new(source, src_key.parse()?, bucket, key))
    }

    /// Copies an object of any size to `dst_key` in this bucket: one CopyObject below
    /// `options.threshold`, else UploadPartCopy parts in parallel, all from one version of
    /// the source, with its content headers and metadata, aborted after any failure.
    ///
    /// # Errors
    /// As [`Client::send`]; `PreconditionFailed` when the source changed meanwhile.
    pub fn copy_object(
        &self,
        dst_key: &str,
        src_bucket: &str,
        src_key: &str,
        options: CopyOptions,
    ) -> Result<UploadOutput, Error> {
        let source = (BucketName::relaxed(src_bucket)?, src_key.parse()?);
        let flow = CopyFlow::new(source, self.key(dst_key)?, options, now());
        self.client.drive(flow)
    }

    /// Every key (and, with a delimiter, common prefix), paging by itself.
    pub fn list(&self, prefix: &str, delimiter: Option<&str>) -> List {
        self.list_with(ListObjectsV2::under(self.name.clone(), prefix, delimiter))
    }

    /// Every entry of a listing, collected.
    ///
    /// # Errors
    /// The first failing page's error.
    pub fn list_all(&self, prefix: &str, delimiter: Option<&str>) -> Result<Vec<ListEntry>, Error> {
        self.list(prefix, delimiter).collect()
    }

    /// Pages through a fully specified ListObjectsV2.
    pub fn list_with(&self, op: ListObjectsV2) -> List {
        let client = self.client.clone();
        List {
            client,
            listing: Listing::new(op),
        }
    }

    /// The bucket's ACL.
    pub fn acl(&self) -> Result<AccessControlPolicy, Error> {
        self.client.send(&GetBucketAcl::new(self.name.clone()))
    }

    /// Replaces the bucket's ACL: a [`CannedAcl`], an [`AccessControlPolicy`] or grants.
    pub fn set_acl(&self, acl: impl Into<AclSpec>) -> Result<(), Error> {
        self.client.send(&PutBucketAcl::new(self.name.clone(), acl))
    }

    /// Grants `permission` on the bucket to the account with `email` (read-modify-write).
    ///
    /// # Errors
    /// As [`Client::send`]; servers answer an error for an unknown email.
    pub fn add_email_grant(&self, permission: Permission, email: &str) -> Result<(), Error> {
        let grantee = Grantee::Email(email.to_owned());
        self.client
            .drive(AddGrant::bucket(self.name.clone(), grantee, permission))
    }

    /// Grants `permission` on the bucket to a canonical user id (read-modify-write).
    pub fn add_user_grant(&self, permission: Permission, id: &str) -> Result<(), Error> {
        let grantee = Grantee::user(id);
        self.client
            .drive(AddGrant::bucket(self.name.clone(), grantee, permission))
    }

    /// A key's ACL.
    pub fn key_acl(&self, k: &str) -> Result<AccessControlPolicy, Error> {
        let (bucket, key) = self.key(k)?;
        self.client.send(&GetObjectAcl::new(bucket, key))
    }

    /// Replaces a key's ACL: a [`CannedAcl`], an [`AccessControlPolicy`] or grants.
    pub fn set_key_acl(&self, k: &str, acl: impl Into<AclSpec>) -> Result<(), Error> {
        let (bucket, key) = self.key(k)?;
        self.client.send(&PutObjectAcl::new(bucket, key, acl))
    }

    /// Grants `permission` on a key to the account with `email` (read-modify-write).
    ///
    /// # Errors
    /// As [`Client::send`]; servers answer an error for an unknown email.
    pub fn add_key_email_grant(
        &self,
        k: &str,
        permission: Permission,
        email: &str,
    ) -> Result<(), Error> {
        let ((bucket, key), grantee) = (self.key(k)?, Grantee::Email(email.to_owned()));
        self.client
            .drive(AddGrant::key(bucket, key, grantee, permission))
    }

    /// Grants `permission` on a key to a canonical user id (read-modify-write).
    pub fn add_key_user_grant(
        &self,
        k: &str,
        permission: Permission,
        id: &str,
    ) -> Result<(), Error> {
        let ((bucket, key), grantee) = (self.key(k)?, Grantee::user(id));
        self.client
            .drive(AddGrant::key(bucket, key, grantee, permission))
    }

    /// The bucket's CORS configuration, or `None` when it has none.
    pub fn cors(&self) -> Result<Option<CorsConfiguration>, Error> {
        self.client
            .send(&OrNone(GetBucketCors::new(self.name.clone())))
    }

    /// Sets the bucket's CORS configuration.
    ///
    /// # Errors
    /// [`Error::Input`] for an invalid configuration; otherwise as [`Client::send`].
    pub fn set_cors(&self, config: &CorsConfiguration) -> Result<(), Error> {
        self.client
            .send(&PutBucketCors::new(self.name.clone(), config.clone()))
    }

    /// Removes the bucket's CORS configuration.
    pub fn delete_cors(&self) -> Result<(), Error> {
        self.client.send(&DeleteBucketCors::new(self.name.clone()))
    }

    /// The bucket's location.
    pub fn location(&self) -> Result<BucketLocation, Error> {
        self.client.send(&GetBucketLocation::new(self.name.clone()))
    }

    /// Creates the bucket with a canned ACL, or sets one on an existing bucket.
    pub fn create(&self, acl: Option<CannedAcl>) -> Result<CreateBucketOutput, Error> {
        self.client
            .send(&CreateBucket::with_acl(self.name.clone(), acl))
    }

    /// Deletes the bucket, which must be empty.
    ///
    /// # Errors
    /// `BucketNotEmpty` when it still holds keys.
    pub fn delete(&self) -> Result<(), Error> {
        self.client.send(&DeleteBucket::new(self.name.clone()))
    }

    /// Downloads `key` to `path` (see [`Bucket::download_file_with`]).
    ///
    /// # Errors
    /// As [`Bucket::download_file_with`].
    pub fn download_file(&self, key: &str, path: impl AsRef<Path>) -> Result<ObjectHead, Error> {
        self.download_file_with(key, path, DownloadOptions::default())
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
        let (mut head, mut reader) = self.client.open(&GetObject::new(bucket, key))?;
        let (mut buf, io) = (vec![0u8; 1 << 20], |e| io_error(e, self.client.options()));
        while let n @ 1.. = reader.read_checked(&mut buf)? {
            writer.write_all(&buf[..n]).map_err(io)?;
        }
        writer.flush().map_err(io)?;
        ProgressCounter::new(None, self.progress.clone()).add(reader.bytes_read());
        head.verified = reader.verification();
        Ok(head)
    }

    /// Uploads the file at `path` to `key` (see [`Bucket::upload_file_with`]).
    ///
    /// # Errors
    /// As [`Bucket::upload_file_with`].
    pub fn upload_file(&self, key: &str, path: impl AsRef<Path>) -> Result<UploadOutput, Error> {
        self.upload_file_with(key, path, UploadOptions::default())
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

/// An iterator over a listing that sends one request per page.
pub struct List {
    client: Client,
    listing: Listing<ListObjectsV2>,
}

impl std::fmt::Debug for List {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("List")
            .field("pages", &self.listing.pages())
            .finish_non_exhaustive()
    }
}

impl Iterator for List {
    type Item = Result<ListEntry, Error>;

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
