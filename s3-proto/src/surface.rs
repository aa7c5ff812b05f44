//! The boto-style surface every runtime exposes (`Client::bucket`, `Bucket::put_string`,
//! `Bucket::acl` …), written once.
//!
//! Each of these methods is one s3-proto operation or flow sent through the runtime's
//! client, so the only difference between runtimes is `async` and `.await`. A runtime
//! expands [`bucket_surface!`](crate::bucket_surface) once, naming its client, its body
//! reader and its clock, and gets the same methods with the same docs; it writes by hand
//! only what moves bytes (files, readers, listings as iterators or streams).
//!
//! The expansion needs, in the runtime: `Client::send(&op)`, `Client::drive(flow)` and
//! `Client::open(&op)` (each plain or `async`), a reader with `read_all(&mut Vec<u8>)`,
//! `Client: Deref<Target = Session>`, and beside the expansion a `List { client, listing }`
//! and the `Bucket` methods `download_file_with` and `upload_file_with`.

/// Expands the boto-style surface in a runtime crate: `bucket_surface!(sync, Client,
/// ObjectReader, now)` or `bucket_surface!(async, Client, ObjectStream, now)`, where `now`
/// is the runtime's wall-clock function.
#[doc(hidden)]
#[macro_export]
macro_rules! bucket_surface {
    (sync, $client:ident, $reader:ident, $now:path) => {
        $crate::bucket_surface!(@expand [] [], $client, $reader, $now);
    };
    (async, $client:ident, $reader:ident, $now:path) => {
        $crate::bucket_surface!(@expand [async] [.await], $client, $reader, $now);
    };
    (@expand [$($async:tt)*] [$($await:tt)*], $client:ident, $reader:ident, $now:path) => {
        pub use self::surface::Bucket;

        /// The methods every runtime shares, expanded from `s3_proto::bucket_surface!`.
        mod surface {
        use super::{$client, $reader, List};
        use $crate::acl::{AccessControlPolicy, Grantee, Permission};
        use $crate::cors::CorsConfiguration;
        use $crate::flow::acl::AddGrant;
        use $crate::flow::copy::{CopyFlow, CopyOptions};
        use $crate::flow::delete::DeleteFlow;
        use $crate::flow::paginate::Listing;
        use $crate::flow::progress::{Progress, ProgressFn};
        use $crate::flow::upload::UploadOutput;
        use $crate::ops::{
            AclSpec, BucketInfo, BucketLocation, CopyObject, CopyObjectOutput, CreateBucket,
            CreateBucketOutput, DeleteBucket, DeleteBucketCors, DeleteObject,
            DeleteObjectsOutput, GetBucketAcl, GetBucketCors, GetBucketLocation, GetObject,
            GetObjectAcl, HeadBucket, HeadObject, ListBuckets, ListObjectsV2, LocationConstraint,
            ObjectHead,
            OrNone, PutBucketAcl, PutBucketCors, PutObject, PutObjectAcl, PutObjectOutput,
            WholeRead,
        };
        use $crate::{BucketName, CannedAcl, Error, Metadata, ObjectKey};

        impl $client {
            /// A handle on `name` without checking that it exists (boto's
            /// `get_bucket(validate=False)`). Legacy names that only work path-style are
            /// accepted: the server judges.
            ///
            /// # Errors
            /// [`Error::Input`] for an invalid name.
            pub fn bucket(&self, name: &str) -> Result<Bucket, Error> {
                Ok(self.handle(BucketName::relaxed(name)?))
            }

            fn handle(&self, name: BucketName) -> Bucket {
                Bucket {
                    client: self.clone(),
                    name,
                    progress: None,
                }
            }

            /// Creates a bucket in the client's region; one you already own is success, one
            /// owned by someone else fails with `BucketAlreadyExists`.
            ///
            /// # Errors
            /// [`Error::Service`] with [`s3_proto::ErrorCode::BucketAlreadyExists`] for a
            /// taken name.
            pub $($async)* fn create_bucket(&self, name: &str) -> Result<Bucket, Error> {
                let op = CreateBucket::new(name.parse()?);
                Ok(self.create_bucket_with(op)$($await)*?.0)
            }

            /// Creates a bucket in `location` (e.g. [`LocationConstraint::EU`]).
            ///
            /// # Errors
            /// As [`Client::create_bucket`].
            pub $($async)* fn create_bucket_in(
                &self,
                name: &str,
                at: LocationConstraint,
            ) -> Result<Bucket, Error> {
                let op = CreateBucket::new(name.parse()?).location(at);
                Ok(self.create_bucket_with(op)$($await)*?.0)
            }

            /// Sends a fully specified CreateBucket (location, canned ACL).
            ///
            /// # Errors
            /// As [`Client::create_bucket`].
            pub $($async)* fn create_bucket_with(
                &self,
                op: CreateBucket,
            ) -> Result<(Bucket, CreateBucketOutput), Error> {
                let out = self.send(&op)$($await)*?;
                Ok((self.handle(op.bucket().clone()), out))
            }

            /// The bucket if it exists and is accessible, `None` if it does not exist
            /// (boto's `lookup`).
            ///
            /// # Errors
            /// [`Error::Service`] for other answers (`AccessDenied` for someone else's
            /// bucket).
            pub $($async)* fn lookup(&self, name: &str) -> Result<Option<Bucket>, Error> {
                let bucket = self.bucket(name)?;
                let op = OrNone(HeadBucket::new(bucket.name.clone()));
                Ok(self.send(&op)$($await)*?.map(|_| bucket))
            }

            /// All buckets the caller owns.
            pub $($async)* fn list_buckets(&self) -> Result<Vec<BucketInfo>, Error> {
                Ok(self.send(&ListBuckets::new())$($await)*?.buckets)
            }

            /// Deletes an empty bucket.
            ///
            /// # Errors
            /// `BucketNotEmpty` when it still holds keys.
            pub $($async)* fn delete_bucket(&self, name: &str) -> Result<(), Error> {
                self.send(&DeleteBucket::new(BucketName::relaxed(name)?))$($await)*
            }
        }

        /// A bucket handle: the boto `Bucket`, for keys given as strings.
        ///
        /// Every method fails as [`Client::send`] does; its doc says when there is more to
        /// it.
        #[derive(Clone)]
        pub struct Bucket {
            pub(crate) client: $client,
            pub(crate) name: BucketName,
            pub(crate) progress: Option<ProgressFn>,
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
            /// This handle, reporting the progress of its transfers to `callback` as parts
            /// and ranges complete (boto's `cb`).
            pub fn with_progress(
                &self,
                callback: impl Fn(Progress) + Send + Sync + 'static,
            ) -> Bucket {
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
            pub fn client(&self) -> &$client {
                &self.client
            }

            pub(crate) fn key(&self, k: &str) -> Result<(BucketName, ObjectKey), Error> {
                Ok((self.name.clone(), k.parse()?))
            }

            /// Stores a string (`text/plain; charset=utf-8`).
            pub $($async)* fn put_string(
                &self,
                k: &str,
                value: &str,
            ) -> Result<PutObjectOutput, Error> {
                let (bucket, key) = self.key(k)?;
                self.client.send(&PutObject::text(bucket, key, value))$($await)*
            }

            /// Stores bytes (content type guessed from the key).
            pub $($async)* fn put_bytes(
                &self,
                k: &str,
                value: impl Into<Vec<u8>>,
            ) -> Result<PutObjectOutput, Error> {
                let (bucket, key) = self.key(k)?;
                let op = PutObject::bytes(bucket, key, value.into());
                self.client.send(&op)$($await)*
            }

            /// Sends a fully specified PutObject (metadata, ACL, content headers).
            pub $($async)* fn put(&self, op: PutObject) -> Result<PutObjectOutput, Error> {
                self.client.send(&op)$($await)*
            }

            /// The object's bytes, or `None` when the key does not exist (see
            /// [`Bucket::get`]).
            pub $($async)* fn get_bytes(&self, k: &str) -> Result<Option<Vec<u8>>, Error> {
                Ok(self.get(k)$($await)*?.map(|(_, bytes)| bytes))
            }

            /// The object's head and bytes, or `None` when the key does not exist. The bytes
            /// are verified against the ETag ([`ObjectHead::verified`] says how), read again
            /// after a mismatch within the retry policy.
            ///
            /// # Errors
            /// As [`Client::send`]; `ChecksumMismatch` when every read was corrupted.
            pub $($async)* fn get(&self, k: &str) -> Result<Option<(ObjectHead, Vec<u8>)>, Error> {
                let (bucket, key) = self.key(k)?;
                let mut read = WholeRead::new(bucket, key, self.client.options());
                loop {
                    let (Some(head), mut reader) = self.client.open(read.op())$($await)*? else {
                        return Ok(None);
                    };
                    let mut out = $crate::body::buffer_for(&head);
                    let outcome = reader.read_all(&mut out)$($await)*;
                    if let Some(done) = read.judge(head, out, outcome) {
                        return done.map(Some);
                    }
                }
            }

            /// The object as UTF-8 text, or `None` when the key does not exist.
            ///
            /// # Errors
            /// As [`Client::send`]; [`Error::Response`] when the bytes are not UTF-8.
            pub $($async)* fn get_string(&self, k: &str) -> Result<Option<String>, Error> {
                self.get_bytes(k)$($await)*?.map($crate::body::utf8).transpose()
            }

            /// Opens the object for streaming, or `None` when it does not exist. The reader
            /// verifies the bytes at their end: see its `read_checked`.
            ///
            /// # Errors
            /// As [`Client::open`].
            pub $($async)* fn open(
                &self,
                op: GetObject,
            ) -> Result<Option<(ObjectHead, $reader)>, Error> {
                let (head, reader) = self.client.open(&OrNone(op))$($await)*?;
                Ok(head.map(|head| (head, reader)))
            }

            /// The object's headers and metadata, or `None` when it does not exist (boto's
            /// `get_key`).
            pub $($async)* fn head(&self, k: &str) -> Result<Option<ObjectHead>, Error> {
                let (bucket, key) = self.key(k)?;
                self.client.send(&OrNone(HeadObject::new(bucket, key)))$($await)*
            }

            /// The user metadata of a key, or `None` when it does not exist.
            pub $($async)* fn metadata(&self, k: &str) -> Result<Option<Metadata>, Error> {
                Ok(self.head(k)$($await)*?.map(|h| h.metadata))
            }

            /// Deletes a key (success when it did not exist).
            pub $($async)* fn delete_key(&self, k: &str) -> Result<(), Error> {
                let (bucket, key) = self.key(k)?;
                self.client.send(&DeleteObject::new(bucket, key))$($await)*
            }

            /// Deletes many keys, 1000 per request; per-key failures are returned as data.
            pub $($async)* fn delete_keys<'k>(
                &self,
                keys: impl IntoIterator<Item = &'k str>,
            ) -> Result<DeleteObjectsOutput, Error> {
                let keys: Result<_, _> = keys.into_iter().map(str::parse).collect();
                self.client.drive(DeleteFlow::new(self.name.clone(), keys?))$($await)*
            }

            /// Copies `src_bucket/src_key` to `dst_key` in this bucket, keeping metadata.
            pub $($async)* fn copy_key(
                &self,
                dst_key: &str,
                src_bucket: &str,
                src_key: &str,
            ) -> Result<CopyObjectOutput, Error> {
                let source = (BucketName::relaxed(src_bucket)?, src_key.parse()?);
                let (bucket, key) = self.key(dst_key)?;
                let op = CopyObject::new(source.0, source.1, bucket, key);
                self.client.send(&op)$($await)*
            }

            /// Copies an object of any size to `dst_key` in this bucket: one CopyObject below
            /// `options.threshold`, else UploadPartCopy parts in parallel, all from one
            /// version of the source, with its content headers and metadata, aborted after
            /// any failure.
            ///
            /// # Errors
            /// As [`Client::send`]; `PreconditionFailed` when the source changed meanwhile.
            pub $($async)* fn copy_object(
                &self,
                dst_key: &str,
                src_bucket: &str,
                src_key: &str,
                options: CopyOptions,
            ) -> Result<UploadOutput, Error> {
                let source = (BucketName::relaxed(src_bucket)?, src_key.parse()?);
                let flow = CopyFlow::new(source, self.key(dst_key)?, options, $now());
                self.client.drive(flow)$($await)*
            }

            /// Every key (and, with a delimiter, common prefix), paging by itself.
            pub fn list(&self, prefix: &str, delimiter: Option<&str>) -> List {
                self.list_with(ListObjectsV2::under(self.name.clone(), prefix, delimiter))
            }

            /// Pages through a fully specified ListObjectsV2.
            pub fn list_with(&self, op: ListObjectsV2) -> List {
                let (client, listing) = (self.client.clone(), Listing::new(op));
                List { client, listing }
            }

            /// Downloads `key` to `path` (see [`Bucket::download_file_with`]).
            ///
            /// # Errors
            /// As [`Bucket::download_file_with`].
            pub $($async)* fn download_file(
                &self,
                key: &str,
                path: impl AsRef<std::path::Path>,
            ) -> Result<ObjectHead, Error> {
                let options = $crate::flow::download::DownloadOptions::default();
                self.download_file_with(key, path, options)$($await)*
            }

            /// Uploads the file at `path` to `key` (see [`Bucket::upload_file_with`]).
            ///
            /// # Errors
            /// As [`Bucket::upload_file_with`].
            pub $($async)* fn upload_file(
                &self,
                key: &str,
                path: impl AsRef<std::path::Path>,
            ) -> Result<UploadOutput, Error> {
                let options = $crate::flow::upload::UploadOptions::default();
                self.upload_file_with(key, path, options)$($await)*
            }

            /// The bucket's ACL.
            pub $($async)* fn acl(&self) -> Result<AccessControlPolicy, Error> {
                self.client.send(&GetBucketAcl::new(self.name.clone()))$($await)*
            }

            /// Replaces the bucket's ACL: a [`CannedAcl`], an [`AccessControlPolicy`] or
            /// grants.
            pub $($async)* fn set_acl(&self, acl: impl Into<AclSpec>) -> Result<(), Error> {
                self.client.send(&PutBucketAcl::new(self.name.clone(), acl))$($await)*
            }

            /// Grants `permission` on the bucket to the account with `email`
            /// (read-modify-write).
            ///
            /// # Errors
            /// As [`Client::send`]; servers answer an error for an unknown email.
            pub $($async)* fn add_email_grant(
                &self,
                permission: Permission,
                email: &str,
            ) -> Result<(), Error> {
                let grantee = Grantee::Email(email.to_owned());
                let flow = AddGrant::bucket(self.name.clone(), grantee, permission);
                self.client.drive(flow)$($await)*
            }

            /// Grants `permission` on the bucket to a canonical user id (read-modify-write).
            pub $($async)* fn add_user_grant(
                &self,
                permission: Permission,
                id: &str,
            ) -> Result<(), Error> {
                let flow = AddGrant::bucket(self.name.clone(), Grantee::user(id), permission);
                self.client.drive(flow)$($await)*
            }

            /// A key's ACL.
            pub $($async)* fn key_acl(&self, k: &str) -> Result<AccessControlPolicy, Error> {
                let (bucket, key) = self.key(k)?;
                self.client.send(&GetObjectAcl::new(bucket, key))$($await)*
            }

            /// Replaces a key's ACL: a [`CannedAcl`], an [`AccessControlPolicy`] or grants.
            pub $($async)* fn set_key_acl(
                &self,
                k: &str,
                acl: impl Into<AclSpec>,
            ) -> Result<(), Error> {
                let (bucket, key) = self.key(k)?;
                self.client.send(&PutObjectAcl::new(bucket, key, acl))$($await)*
            }

            /// Grants `permission` on a key to the account with `email` (read-modify-write).
            ///
            /// # Errors
            /// As [`Client::send`]; servers answer an error for an unknown email.
            pub $($async)* fn add_key_email_grant(
                &self,
                k: &str,
                permission: Permission,
                email: &str,
            ) -> Result<(), Error> {
                let ((bucket, key), grantee) = (self.key(k)?, Grantee::Email(email.to_owned()));
                self.client.drive(AddGrant::key(bucket, key, grantee, permission))$($await)*
            }

            /// Grants `permission` on a key to a canonical user id (read-modify-write).
            pub $($async)* fn add_key_user_grant(
                &self,
                k: &str,
                permission: Permission,
                id: &str,
            ) -> Result<(), Error> {
                let ((bucket, key), grantee) = (self.key(k)?, Grantee::user(id));
                self.client.drive(AddGrant::key(bucket, key, grantee, permission))$($await)*
            }

            /// The bucket's CORS configuration, or `None` when it has none.
            pub $($async)* fn cors(&self) -> Result<Option<CorsConfiguration>, Error> {
                self.client.send(&OrNone(GetBucketCors::new(self.name.clone())))$($await)*
            }

            /// Sets the bucket's CORS configuration.
            ///
            /// # Errors
            /// [`Error::Input`] for an invalid configuration; otherwise as [`Client::send`].
            pub $($async)* fn set_cors(&self, config: &CorsConfiguration) -> Result<(), Error> {
                let op = PutBucketCors::new(self.name.clone(), config.clone());
                self.client.send(&op)$($await)*
            }

            /// Removes the bucket's CORS configuration.
            pub $($async)* fn delete_cors(&self) -> Result<(), Error> {
                self.client.send(&DeleteBucketCors::new(self.name.clone()))$($await)*
            }

            /// The bucket's location.
            pub $($async)* fn location(&self) -> Result<BucketLocation, Error> {
                self.client.send(&GetBucketLocation::new(self.name.clone()))$($await)*
            }

            /// Creates the bucket with a canned ACL, or sets one on an existing bucket.
            pub $($async)* fn create(
                &self,
                acl: Option<CannedAcl>,
            ) -> Result<CreateBucketOutput, Error> {
                self.client.send(&CreateBucket::with_acl(self.name.clone(), acl))$($await)*
            }

            /// Deletes the bucket, which must be empty.
            ///
            /// # Errors
            /// `BucketNotEmpty` when it still holds keys.
            pub $($async)* fn delete(&self) -> Result<(), Error> {
                self.client.send(&DeleteBucket::new(self.name.clone()))$($await)*
            }
        }
        }
    };
}
