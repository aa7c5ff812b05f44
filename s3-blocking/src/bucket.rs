//! The boto-style surface: buckets as handles, keys as strings, `None` for what is absent.
//!
//! Every method builds an s3-proto operation and sends it; nothing here decides anything
//! that s3-proto does not.

use std::io::Read;

use s3_proto::acl::{AccessControlPolicy, Grantee, Permission};
use s3_proto::cors::CorsConfiguration;
use s3_proto::flow::paginate::Pages;
use s3_proto::flow::progress::{Progress, ProgressCounter, ProgressFn};
use s3_proto::ops::{
    AclSpec, BucketInfo, BucketLocation, CopyObject, CopyObjectOutput, CreateBucket,
    CreateBucketOutput, DeleteBucket, DeleteBucketCors, DeleteObject, DeleteObjects,
    DeleteObjectsOutput, GetBucketAcl, GetBucketCors, GetBucketLocation, GetObject, GetObjectAcl,
    HeadBucket, HeadObject, ListBuckets, ListObjectsV2, LocationConstraint, Object, ObjectHead,
    PutBucketAcl, PutBucketCors, PutObject, PutObjectAcl, PutObjectOutput,
};
use s3_proto::{BucketName, CannedAcl, Error, Metadata, ObjectKey};

use crate::body::ObjectReader;
use crate::client::Client;

fn key(k: &str) -> Result<ObjectKey, Error> {
    Ok(ObjectKey::new(k)?)
}

fn bucket_name(name: &str) -> Result<BucketName, Error> {
    // Existing buckets on S3-compatible servers may carry legacy names; those still work
    // path-style, so accept them here and let the server judge.
    Ok(BucketName::relaxed(name)?)
}

/// `Ok(None)` for "not found", the error otherwise.
fn absent<T>(r: Result<T, Error>) -> Result<Option<T>, Error> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

impl Client {
    /// A handle on `name` without checking that it exists (boto's `get_bucket(validate=False)`).
    ///
    /// # Errors
    /// [`Error::Input`] for an invalid name.
    pub fn bucket(&self, name: &str) -> Result<Bucket, Error> {
        Ok(Bucket {
            client: self.clone(),
            name: bucket_name(name)?,
            progress: None,
        })
    }

    /// Creates a bucket in the client's region; one you already own is success, one owned by
    /// someone else fails with `BucketAlreadyExists`.
    ///
    /// # Errors
    /// [`Error::Service`] with [`s3_proto::ErrorCode::BucketAlreadyExists`] for a taken name.
    pub fn create_bucket(&self, name: &str) -> Result<Bucket, Error> {
        self.create_bucket_with(CreateBucket::new(BucketName::new(name)?))
            .map(|(b, _)| b)
    }

    /// Creates a bucket in `location` (e.g. [`LocationConstraint::EU`]).
    ///
    /// # Errors
    /// As [`Client::create_bucket`].
    pub fn create_bucket_in(
        &self,
        name: &str,
        location: LocationConstraint,
    ) -> Result<Bucket, Error> {
        self.create_bucket_with(CreateBucket::new(BucketName::new(name)?).location(location))
            .map(|(b, _)| b)
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
        Ok((
            Bucket {
                client: self.clone(),
                name: op.bucket().clone(),
                progress: None,
            },
            out,
        ))
    }

    /// The bucket if it exists and is accessible, `None` if it does not exist (boto's
    /// `lookup`).
    ///
    /// # Errors
    /// [`Error::Service`] for other answers (`AccessDenied` for someone else's bucket).
    pub fn lookup(&self, name: &str) -> Result<Option<Bucket>, Error> {
        let bucket = self.bucket(name)?;
        Ok(absent(self.send(&HeadBucket::new(bucket.name.clone())))?.map(|_| bucket))
    }

    /// All buckets the caller owns.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn list_buckets(&self) -> Result<Vec<BucketInfo>, Error> {
        Ok(self.send(&ListBuckets::new())?.buckets)
    }

    /// Deletes an empty bucket.
    ///
    /// # Errors
    /// `BucketNotEmpty` when it still holds keys.
    pub fn delete_bucket(&self, name: &str) -> Result<(), Error> {
        self.send(&DeleteBucket::new(bucket_name(name)?))
    }
}

/// One entry of a listing with a delimiter: an object, or a common prefix ("folder").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListEntry {
    /// An object.
    Object(Object),
    /// A common prefix.
    Prefix(String),
}

/// A bucket handle: the boto `Bucket`, for keys given as strings.
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
            .field("client", &self.client)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Bucket {
    /// This handle, reporting the progress of its file transfers to `callback` as parts and
    /// ranges complete (boto's `cb`).
    pub fn with_progress(&self, callback: impl Fn(Progress) + Send + Sync + 'static) -> Bucket {
        Bucket {
            progress: Some(std::sync::Arc::new(callback)),
            ..self.clone()
        }
    }

    /// A progress counter for one transfer of `total` bytes.
    pub(crate) fn progress(&self, total: Option<u64>) -> ProgressCounter {
        ProgressCounter::new(total, self.progress.clone())
    }

    /// The name.
    pub fn name(&self) -> &BucketName {
        &self.name
    }

    /// The client this handle sends through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Stores a string (`text/plain; charset=utf-8`).
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn put_string(&self, k: &str, value: &str) -> Result<PutObjectOutput, Error> {
        self.put(
            PutObject::new(self.name.clone(), key(k)?, value.to_owned())
                .content_type("text/plain; charset=utf-8"),
        )
    }

    /// Stores bytes (content type guessed from the key).
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn put_bytes(&self, k: &str, value: impl Into<Vec<u8>>) -> Result<PutObjectOutput, Error> {
        self.put(
            PutObject::new(self.name.clone(), key(k)?, value.into())
                .content_type(s3_proto::mime::from_name(k)),
        )
    }

    /// Sends a fully specified PutObject (metadata, ACL, content headers).
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn put(&self, op: PutObject) -> Result<PutObjectOutput, Error> {
        self.client.send(&op)
    }

    /// Stores `length` bytes read from `reader`, in one request.
    ///
    /// # Errors
    /// As [`Client::send_reader`].
    pub fn put_reader(
        &self,
        k: &str,
        reader: &mut dyn Read,
        length: u64,
    ) -> Result<PutObjectOutput, Error> {
        let op = PutObject::new(
            self.name.clone(),
            key(k)?,
            s3_proto::Body::Stream {
                length: Some(length),
            },
        )
        .content_type(s3_proto::mime::from_name(k));
        self.client.send_reader(&op, reader)
    }

    /// The object's bytes, or `None` when the key does not exist.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn get_bytes(&self, k: &str) -> Result<Option<Vec<u8>>, Error> {
        let op = GetObject::new(self.name.clone(), key(k)?);
        let Some((_, mut reader)) = absent(self.client.open(&op))? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(
            usize::try_from(reader.expected_len().unwrap_or(0).min(1 << 26)).unwrap_or(0),
        );
        reader.read_to_end(&mut out).map_err(crate::io_error)?;
        Ok(Some(out))
    }

    /// The object as UTF-8 text, or `None` when the key does not exist.
    ///
    /// # Errors
    /// As [`Client::send`]; [`Error::Response`] when the bytes are not UTF-8.
    pub fn get_string(&self, k: &str) -> Result<Option<String>, Error> {
        match self.get_bytes(k)? {
            None => Ok(None),
            Some(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| {
                s3_proto::ResponseError::InvalidField {
                    field: "body",
                    value: "not UTF-8".to_owned(),
                }
                .into()
            }),
        }
    }

    /// Opens the object for streaming, or `None` when it does not exist.
    ///
    /// # Errors
    /// As [`Client::open`].
    pub fn open(&self, op: GetObject) -> Result<Option<(ObjectHead, ObjectReader)>, Error> {
        absent(self.client.open(&op))
    }

    /// The object's headers and metadata, or `None` when it does not exist (boto's
    /// `get_key`).
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn head(&self, k: &str) -> Result<Option<ObjectHead>, Error> {
        absent(
            self.client
                .send(&HeadObject::new(self.name.clone(), key(k)?)),
        )
    }

    /// The user metadata of a key, or `None` when it does not exist.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn metadata(&self, k: &str) -> Result<Option<Metadata>, Error> {
        Ok(self.head(k)?.map(|h| h.metadata))
    }

    /// Deletes a key (success when it did not exist).
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn delete_key(&self, k: &str) -> Result<(), Error> {
        self.client
            .send(&DeleteObject::new(self.name.clone(), key(k)?))
    }

    /// Deletes many keys, 1000 per request; per-key failures are returned as data.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn delete_keys<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k str>,
    ) -> Result<DeleteObjectsOutput, Error> {
        let keys = keys.into_iter().map(key).collect::<Result<Vec<_>, _>>()?;
        let mut out = DeleteObjectsOutput::default();
        for chunk in keys.chunks(s3_proto::ops::MAX_DELETE_OBJECTS) {
            let page = self
                .client
                .send(&DeleteObjects::new(self.name.clone(), chunk.iter().cloned()).quiet(true))?;
            out.deleted.extend(page.deleted);
            out.errors.extend(page.errors);
        }
        Ok(out)
    }

    /// Copies `src_bucket/src_key` to `dst_key` in this bucket, keeping metadata.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn copy_key(
        &self,
        dst_key: &str,
        src_bucket: &str,
        src_key: &str,
    ) -> Result<CopyObjectOutput, Error> {
        self.client.send(&CopyObject::new(
            bucket_name(src_bucket)?,
            key(src_key)?,
            self.name.clone(),
            key(dst_key)?,
        ))
    }

    /// Every key (and, with a delimiter, common prefix), paging by itself.
    pub fn list(&self, prefix: &str, delimiter: Option<&str>) -> List {
        let mut op = ListObjectsV2::new(self.name.clone());
        if !prefix.is_empty() {
            op = op.prefix(prefix);
        }
        if let Some(d) = delimiter {
            op = op.delimiter(d);
        }
        self.list_with(op)
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
        List {
            client: self.client.clone(),
            pages: Pages::new(op),
            buffer: std::collections::VecDeque::new(),
            failed: false,
        }
    }

    /// The bucket's ACL.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn acl(&self) -> Result<AccessControlPolicy, Error> {
        self.client.send(&GetBucketAcl::new(self.name.clone()))
    }

    /// Replaces the bucket's ACL: a [`CannedAcl`], an [`AccessControlPolicy`] or grants.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn set_acl(&self, acl: impl Into<AclSpec>) -> Result<(), Error> {
        self.client.send(&PutBucketAcl::new(self.name.clone(), acl))
    }

    /// Grants `permission` on the bucket to the account with `email` (read-modify-write).
    ///
    /// # Errors
    /// As [`Client::send`]; servers answer an error for an unknown email.
    pub fn add_email_grant(&self, permission: Permission, email: &str) -> Result<(), Error> {
        self.add_grant(Grantee::Email(email.to_owned()), permission)
    }

    /// Grants `permission` on the bucket to a canonical user id (read-modify-write).
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn add_user_grant(&self, permission: Permission, id: &str) -> Result<(), Error> {
        self.add_grant(Grantee::user(id), permission)
    }

    fn add_grant(&self, grantee: Grantee, permission: Permission) -> Result<(), Error> {
        let fetched = self.acl()?;
        let op = PutBucketAcl::add_grant(self.name.clone(), fetched, grantee, permission);
        self.client.send(&op)
    }

    /// A key's ACL.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn key_acl(&self, k: &str) -> Result<AccessControlPolicy, Error> {
        self.client
            .send(&GetObjectAcl::new(self.name.clone(), key(k)?))
    }

    /// Replaces a key's ACL: a [`CannedAcl`], an [`AccessControlPolicy`] or grants.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn set_key_acl(&self, k: &str, acl: impl Into<AclSpec>) -> Result<(), Error> {
        self.client
            .send(&PutObjectAcl::new(self.name.clone(), key(k)?, acl))
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
        self.add_key_grant(k, Grantee::Email(email.to_owned()), permission)
    }

    /// Grants `permission` on a key to a canonical user id (read-modify-write).
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn add_key_user_grant(
        &self,
        k: &str,
        permission: Permission,
        id: &str,
    ) -> Result<(), Error> {
        self.add_key_grant(k, Grantee::user(id), permission)
    }

    fn add_key_grant(
        &self,
        k: &str,
        grantee: Grantee,
        permission: Permission,
    ) -> Result<(), Error> {
        let fetched = self.key_acl(k)?;
        let op = PutObjectAcl::add_grant(self.name.clone(), key(k)?, fetched, grantee, permission);
        self.client.send(&op)
    }

    /// The bucket's CORS configuration, or `None` when it has none.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn cors(&self) -> Result<Option<CorsConfiguration>, Error> {
        match self.client.send(&GetBucketCors::new(self.name.clone())) {
            Ok(c) => Ok(Some(c)),
            Err(e) if e.code() == Some(&s3_proto::ErrorCode::NoSuchCORSConfiguration) => Ok(None),
            Err(e) => Err(e),
        }
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
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn delete_cors(&self) -> Result<(), Error> {
        self.client.send(&DeleteBucketCors::new(self.name.clone()))
    }

    /// The bucket's location.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn location(&self) -> Result<BucketLocation, Error> {
        self.client.send(&GetBucketLocation::new(self.name.clone()))
    }

    /// Creates the bucket with a canned ACL, or sets one on an existing bucket.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn create(&self, acl: Option<CannedAcl>) -> Result<CreateBucketOutput, Error> {
        let mut op = CreateBucket::new(self.name.clone());
        if let Some(acl) = acl {
            op = op.acl(acl);
        }
        self.client.send(&op)
    }

    /// Deletes the bucket, which must be empty.
    ///
    /// # Errors
    /// `BucketNotEmpty` when it still holds keys.
    pub fn delete(&self) -> Result<(), Error> {
        self.client.send(&DeleteBucket::new(self.name.clone()))
    }
}

/// An iterator over a listing that sends one request per page.
pub struct List {
    client: Client,
    pages: Pages<ListObjectsV2>,
    buffer: std::collections::VecDeque<ListEntry>,
    failed: bool,
}

impl std::fmt::Debug for List {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("List")
            .field("pages", &self.pages.pages())
            .finish_non_exhaustive()
    }
}

impl Iterator for List {
    type Item = Result<ListEntry, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(entry) = self.buffer.pop_front() {
                return Some(Ok(entry));
            }
            if self.failed {
                return None;
            }
            let op = self.pages.next_op()?.clone();
            let page = match self.client.send(&op) {
                Ok(page) => page,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            };
            if let Err(e) = self.pages.handle(&page) {
                self.failed = true;
                return Some(Err(e));
            }
            self.buffer
                .extend(page.contents.into_iter().map(ListEntry::Object));
            self.buffer
                .extend(page.common_prefixes.into_iter().map(ListEntry::Prefix));
        }
    }
}
