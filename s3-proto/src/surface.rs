//! The boto-style surface every runtime exposes (`Client::bucket`, `Bucket::put_string`,
//! `Bucket::upload_file` …), written once.
//!
//! Each of these methods is one s3-proto operation or flow sent through the runtime's
//! client, so the only difference between runtimes is `async` and `.await`. A runtime
//! expands [`bucket_surface!`](crate::bucket_surface) once, naming its client, its body
//! reader, its clock and the bounds of the caller's readers and writers, and gets the same
//! methods with the same docs; it writes by hand only the IO itself.
//!
//! The expansion needs, in the runtime: `Client::send(&op)`, `Client::send_reader(&op,
//! reader)`, `Client::drive(flow)`, `Client::drive_io(flow, files, reader)` and
//! `Client::open(&op)` (each plain or `async`), a body reader with `read_all(&mut Vec<u8>)`,
//! `bytes_read()` and `verification()`, `Client: Deref<Target = Session>`, and the file IO
//! listed in `surface/transfer.rs`.

mod transfer;

/// Expands the boto-style surface in a runtime crate:
/// `bucket_surface!(sync, s3_blocking, Client, ObjectReader, now, read: [std::io::Read],
/// write: [std::io::Write], body: [std::io::Read])`, where `now` is the runtime's wall-clock
/// function, the crate name is what the methods' doc examples import, and `read`, `write`
/// and `body` bound the caller's reader (uploads), writer (downloads) and one-request body.
#[doc(hidden)]
#[macro_export]
// `crate::transfer` is the runtime's module: the caller's crate is meant.
#[allow(clippy::crate_in_macro_def)]
macro_rules! bucket_surface {
    (sync, $krate:ident, $client:ident, $reader:ident, $now:path, $($io:tt)+) => {
        $crate::bucket_surface!(@expand [] [], $krate, $client, $reader, $now, $($io)+);
    };
    (async, $krate:ident, $client:ident, $reader:ident, $now:path, $($io:tt)+) => {
        $crate::bucket_surface!(@expand [async] [.await], $krate, $client, $reader, $now, $($io)+);
    };
    (@expand [$($async:tt)*] [$($await:tt)*], $krate:ident, $client:ident, $reader:ident, $now:path, $($io:tt)+) => {
        pub use self::surface::{Bucket, List};

        /// The methods every runtime shares, expanded from `s3_proto::bucket_surface!`.
        mod surface {
        use super::{$client, $reader};
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
            AbortMultipartUpload, GetObjectAcl, HeadBucket, HeadObject, ListBuckets,
            ListMultipartUploads, ListObjects, ListObjectsV2, ListParts, LocationConstraint,
            ObjectHead,
            OrNone, PutBucketAcl, PutBucketCors, PutObject, PutObjectAcl, PutObjectOutput,
            WholeRead,
        };
        use $crate::object::MetadataDirective;
        use $crate::post::{PostForm, PostPolicy};
        use $crate::{BucketName, ByteRange, CannedAcl, Error, Metadata, ObjectKey};
        use http::Uri;
        use std::time::Duration;

        impl $client {
            /// Executes `op` under the retry policy; a reply naming another region for the
            /// bucket is followed there (and remembered). A streamed response (GetObject) is
            /// read whole here: [`Client::open`] streams it; a streamed request body needs
            /// [`Client::send_reader`].
            ///
            /// # Errors
            /// [`Error::Service`] when S3 says no, [`Error::Transport`] when the network
            /// fails, [`Error::Response`] for a malformed reply, [`Error::Input`] for an
            /// invalid operation.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::ops::ListBuckets;\nlet out = client.send(&ListBuckets::new())", "?;\nprintln!(\"{} buckets\", out.buckets.len());")]
            pub $($async)* fn send<O: $crate::Operation>(&self, op: &O) -> Result<O::Output, Error> {
                self.send_sent(op)$($await)*.result
            }

            /// Runs any flow of [`s3_proto::flow`] that needs no file or reader (a copy, a
            /// batch delete, a grant) to its end, its parallel jobs run as the runtime runs
            /// them (threads, tasks).
            ///
            /// # Errors
            /// The flow's error.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::flow::delete::DeleteFlow;\nlet keys = vec![\"a.txt\".parse()?, \"b.txt\".parse()?];\nlet out = client.drive(DeleteFlow::new(bucket.name().clone(), keys))", "?;\nprintln!(\"{} refused\", out.errors.len());")]
            pub $($async)* fn drive<F: $crate::flow::Flow>(&self, flow: F) -> Result<F::Output, Error> {
                self.drive_io(flow, crate::transfer::Files::default(), None)$($await)*
            }

            /// A presigned URL for `op`, valid for `expires` (at most 7 days with SigV4).
            /// Treat it as a secret: it authorises the request.
            ///
            /// # Errors
            /// [`Error::Input`] for anonymous credentials or an expiry out of range; the
            /// credential chain's error when no valid credentials can be had.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use std::time::Duration;\nuse s3_proto::ops::GetObject;\nlet op = GetObject::new(bucket.name().clone(), \"report.pdf\".parse()?);\nlet url = client.presign(&op, Duration::from_secs(3600))", "?;")]
            pub $($async)* fn presign<O: $crate::Operation>(
                &self,
                op: &O,
                expires: Duration,
            ) -> Result<Uri, Error> {
                let credentials = self.current_credentials()$($await)*?;
                self.config().presign(op, &credentials, self.now($now()), expires)
            }

            /// The credentials the next request signs with: the cached ones, or resolved
            /// now (never shown: their `Debug` hides the secret).
            ///
            /// # Errors
            /// The credential chain's, when nothing valid is cached and resolving fails.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let credentials = client.current_credentials()", "?;\nprintln!(\"{:?}\", credentials.access_key());")]
            pub $($async)* fn current_credentials(
                &self,
            ) -> Result<std::sync::Arc<$crate::Credentials>, Error> {
                let mut attempts = self.attempts_with($crate::retry::Replay::Safe, None);
                self.fetch_credentials(&mut attempts)$($await)*
            }

            /// A handle on `name` without checking that it exists (boto's
            /// `get_bucket(validate=False)`). Legacy names that only work path-style are
            /// accepted: the server judges.
            ///
            /// # Errors
            /// [`Error::Input`] for an invalid name.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let bucket = client.bucket(\"my-bucket\")?;")]
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
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let bucket = client.create_bucket(\"my-new-bucket\")", "?;")]
            pub $($async)* fn create_bucket(&self, name: &str) -> Result<Bucket, Error> {
                let op = CreateBucket::new(name.parse()?);
                Ok(self.create_bucket_with(op)$($await)*?.0)
            }

            /// Creates a bucket in `location` (e.g. [`LocationConstraint::EU`]).
            ///
            /// # Errors
            /// As [`Client::create_bucket`].
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::ops::LocationConstraint;\nlet bucket = client.create_bucket_in(\"my-eu-bucket\", LocationConstraint::EU)", "?;")]
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
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::{CannedAcl, ops::CreateBucket};\nlet op = CreateBucket::new(\"my-new-bucket\".parse()?).acl(CannedAcl::Private);\nlet (bucket, _out) = client.create_bucket_with(op)", "?;")]
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
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "if client.lookup(\"maybe-there\")", "?.is_none() {\n    println!(\"no such bucket\");\n}")]
            pub $($async)* fn lookup(&self, name: &str) -> Result<Option<Bucket>, Error> {
                let bucket = self.bucket(name)?;
                let op = OrNone(HeadBucket::new(bucket.name.clone()));
                Ok(self.send(&op)$($await)*?.map(|_| bucket))
            }

            /// Signs a browser upload form for `policy` (boto's `generate_presigned_post`): the
            /// URL to POST to and the fields the form must carry before its `file` field. The
            /// policy's expiry is checked against the clock the server taught this client.
            ///
            /// # Errors
            /// [`Error::Input`] for an expired policy or anonymous credentials.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use std::time::{Duration, SystemTime};\nuse s3_proto::post::PostPolicy;\nlet expires = SystemTime::now() + Duration::from_secs(600);\nlet policy = PostPolicy::new(\"my-bucket\".parse()?, \"upload.txt\".parse()?, expires)\n    .content_length_range(1, 1 << 20);\nlet form = client.presigned_post(&policy)", "?;\nprintln!(\"POST {} with {:?}\", form.url(), form.fields().len());")]
            pub $($async)* fn presigned_post(&self, policy: &PostPolicy) -> Result<PostForm, Error> {
                let credentials = self.current_credentials()$($await)*?;
                policy.sign(self.config(), &credentials, self.now($now()))
            }

            /// A presigned request for `op`, valid for `expires` (at most 7 days with SigV4):
            /// the URL and the signed headers whoever uses it must send alike (an SSE-C key
            /// and its MD5, an SSE-KMS key id, a content type). Treat it as a secret.
            ///
            /// # Errors
            /// [`Error::Input`] for anonymous credentials, an expiry out of range, or SSE-C
            /// over plain http.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use std::time::Duration;\nuse s3_proto::{ops::GetObject, sse::CustomerKey};\nlet op = GetObject::new(\"my-bucket\".parse()?, \"secret.bin\".parse()?)\n    .sse_customer_key(CustomerKey::new(&[7; 32])?);\nlet req = client.presign_request(&op, Duration::from_secs(600))", "?;\nprintln!(\"GET {} with {} headers\", req.uri(), req.headers().len());")]
            pub $($async)* fn presign_request<O: $crate::op::Operation>(
                &self,
                op: &O,
                expires: Duration,
            ) -> Result<$crate::presign::PresignedRequest, Error> {
                let credentials = self.current_credentials()$($await)*?;
                self.config().presign_request(op, &credentials, self.now($now()), expires)
            }

            /// All buckets the caller owns.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "for b in client.list_buckets()", "? {\n    println!(\"{}\", b.name);\n}")]
            pub $($async)* fn list_buckets(&self) -> Result<Vec<BucketInfo>, Error> {
                Ok(self.send(&ListBuckets::new())$($await)*?.buckets)
            }

            /// Deletes an empty bucket.
            ///
            /// # Errors
            /// `BucketNotEmpty` when it still holds keys.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "client.delete_bucket(\"my-old-bucket\")", "?;")]
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
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let bucket = bucket.with_progress(|p| println!(\"{} bytes done\", p.bytes));\nbucket.upload_file(\"big.bin\", \"/tmp/big.bin\")", "?;")]
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
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "assert_eq!(bucket.name().as_str(), \"my-bucket\");")]
            pub fn name(&self) -> &BucketName {
                &self.name
            }

            /// The client this handle sends through.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let same_client = bucket.client();\nlet _ = same_client;")]
            pub fn client(&self) -> &$client {
                &self.client
            }

            pub(crate) fn key(&self, k: &str) -> Result<(BucketName, ObjectKey), Error> {
                Ok((self.name.clone(), k.parse()?))
            }

            /// Stores a string (`text/plain; charset=utf-8`).
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "bucket.put_string(\"greeting.txt\", \"hello\")", "?;")]
            pub $($async)* fn put_string(
                &self,
                k: &str,
                value: &str,
            ) -> Result<PutObjectOutput, Error> {
                let (bucket, key) = self.key(k)?;
                self.client.send(&PutObject::text(bucket, key, value))$($await)*
            }

            /// Stores bytes (content type guessed from the key).
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "bucket.put_bytes(\"photo.jpg\", vec![0xFF, 0xD8, 0xFF])", "?;")]
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
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::ops::PutObject;\nlet op = PutObject::new(bucket.name().clone(), \"page.html\".parse()?, \"<h1>hi</h1>\")\n    .content_type(\"text/html\")\n    .cache_control(\"max-age=60\");\nbucket.put(op)", "?;")]
            pub $($async)* fn put(&self, op: PutObject) -> Result<PutObjectOutput, Error> {
                self.client.send(&op)$($await)*
            }

            /// The object's bytes, or `None` when the key does not exist (see
            /// [`Bucket::get`]).
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "if let Some(bytes) = bucket.get_bytes(\"photo.jpg\")", "? {\n    println!(\"{} bytes\", bytes.len());\n}")]
            pub $($async)* fn get_bytes(&self, k: &str) -> Result<Option<Vec<u8>>, Error> {
                Ok(self.get(k)$($await)*?.map(|(_, bytes)| bytes))
            }

            /// The object's head and bytes, or `None` when the key does not exist. The bytes
            /// are verified against the ETag ([`ObjectHead::verified`] says how), read again
            /// after a mismatch within the retry policy.
            ///
            /// # Errors
            /// As [`Client::send`]; `ChecksumMismatch` when every read was corrupted.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "if let Some((head, bytes)) = bucket.get(\"photo.jpg\")", "? {\n    println!(\"{} bytes, verified: {:?}\", bytes.len(), head.verified);\n}")]
            pub $($async)* fn get(&self, k: &str) -> Result<Option<(ObjectHead, Vec<u8>)>, Error> {
                let (bucket, key) = self.key(k)?;
                let read = WholeRead::new(bucket, key, self.client.options());
                self.read_whole(read)$($await)*
            }

            /// As [`Bucket::get`], for a fully specified GetObject: a version, an SSE-C key
            /// (an encrypted object's ETag is no MD5: its bytes are verified only by a stored
            /// checksum, else declared unverified), or a range (declared unverified).
            ///
            /// # Errors
            /// As [`Bucket::get`].
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::{ops::GetObject, sse::CustomerKey};\nlet key = CustomerKey::new(&[7; 32])?;\nlet op = GetObject::new(bucket.name().clone(), \"secret.bin\".parse()?).sse_customer_key(key);\nif let Some((head, bytes)) = bucket.get_with(op)", "? {\n    println!(\"{} bytes, verified: {:?}\", bytes.len(), head.verified);\n}")]
            pub $($async)* fn get_with(&self, op: GetObject) -> Result<Option<(ObjectHead, Vec<u8>)>, Error> {
                let read = WholeRead::of(op, self.client.options());
                self.read_whole(read)$($await)*
            }

            $($async)* fn read_whole(&self, mut read: WholeRead) -> Result<Option<(ObjectHead, Vec<u8>)>, Error> {
                loop {
                    let (Some(head), mut reader) = self.client.open(read.op())$($await)*? else {
                        return Ok(None);
                    };
                    let mut out = $crate::body::buffer_for(&head);
                    let mut head = head;
                    let mut outcome = reader.read_all(&mut out)$($await)*;
                    // Missed along inferred part sizes: ask the real ones, check the bytes again.
                    let parts = read.part_heads(&head, &outcome);
                    if !parts.is_empty() {
                        let replies = self.part_replies(&parts)$($await)*;
                        outcome = read.with_part_sizes(&mut head, &replies, &out, outcome);
                    }
                    if let Some(done) = read.judge(head, out, outcome) {
                        return done.map(Some);
                    }
                }
            }

            /// The replies to the part HEADs a read asks for, in order; `None` for a failed one.
            $($async)* fn part_replies(&self, parts: &[$crate::ops::HeadObject]) -> Vec<Option<ObjectHead>> {
                let mut replies = Vec::with_capacity(parts.len());
                for part in parts {
                    replies.push(self.client.send(part)$($await)*.ok());
                }
                replies
            }

            /// The object as UTF-8 text, or `None` when the key does not exist.
            ///
            /// # Errors
            /// As [`Client::send`]; [`Error::Response`] when the bytes are not UTF-8.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let text = bucket.get_string(\"greeting.txt\")", "?;\nassert_eq!(text.as_deref(), Some(\"hello\"));")]
            pub $($async)* fn get_string(&self, k: &str) -> Result<Option<String>, Error> {
                self.get_bytes(k)$($await)*?.map($crate::body::utf8).transpose()
            }

            /// Opens the object for streaming, or `None` when it does not exist. The reader
            /// verifies the bytes at their end: see its `read_checked`. A multipart object
            /// without a stored checksum is hashed along its likely part sizes; a mismatch
            /// flagged `inferred` may also be an object of unequal parts, which
            /// [`Bucket::download_to`] tells apart and [`Bucket::get`] checks.
            ///
            /// # Errors
            /// As [`Client::open`].
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::ops::GetObject;\nlet op = GetObject::new(bucket.name().clone(), \"big.bin\".parse()?);\nif let Some((head, _reader)) = bucket.open(op)", "? {\n    println!(\"{:?} bytes to read\", head.content_length);\n}")]
            pub $($async)* fn open(
                &self,
                op: GetObject,
            ) -> Result<Option<(ObjectHead, $reader)>, Error> {
                let (head, reader) = self.client.open(&OrNone(op))$($await)*?;
                Ok(head.map(|head| (head, reader)))
            }

            /// Bytes `range` of the object, or `None` when the key does not exist. A range
            /// has no published digest: the bytes are checked for length only.
            ///
            /// # Errors
            /// As [`Client::send`]; `InvalidRange` when the range starts past the end.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::ByteRange;\nlet first_kib = bucket.get_range(\"big.bin\", ByteRange::Inclusive { first: 0, last: 1023 })", "?;")]
            pub $($async)* fn get_range(
                &self,
                k: &str,
                range: ByteRange,
            ) -> Result<Option<Vec<u8>>, Error> {
                let (bucket, key) = self.key(k)?;
                let op = OrNone(GetObject::new(bucket, key).range(range));
                let (Some(head), mut reader) = self.client.open(&op)$($await)*? else {
                    return Ok(None);
                };
                let mut out = $crate::body::buffer_for(&head);
                reader.read_all(&mut out)$($await)*?;
                Ok(Some(out))
            }

            /// True when the key exists.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "if !bucket.exists(\"greeting.txt\")", "? {\n    bucket.put_string(\"greeting.txt\", \"hello\")", "?;\n}")]
            pub $($async)* fn exists(&self, k: &str) -> Result<bool, Error> {
                Ok(self.head(k)$($await)*?.is_some())
            }

            /// A URL anyone can GET `key` with until `expires` (at most 7 days with SigV4).
            /// Treat it as a secret: it authorises the request.
            ///
            /// # Errors
            /// [`Error::Input`] for an invalid key, anonymous credentials or an expiry out
            /// of range.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use std::time::Duration;\nlet url = bucket.presign_get(\"report.pdf\", Duration::from_secs(3600))", "?;\nprintln!(\"{url}\");")]
            pub $($async)* fn presign_get(&self, k: &str, expires: Duration) -> Result<Uri, Error> {
                let (bucket, key) = self.key(k)?;
                self.client.presign(&GetObject::new(bucket, key), expires)$($await)*
            }

            /// A URL for a fully specified GetObject: a version, a range, or `response-*`
            /// overrides such as the file name a browser saves
            /// ([`GetObject::response`](s3_proto::ops::GetObject::response)).
            ///
            /// # Errors
            /// As [`Bucket::presign_get`].
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use std::time::Duration;\nuse s3_proto::{ResponseOverrides, ops::GetObject};\nlet op = GetObject::new(bucket.name().clone(), \"report.pdf\".parse()?)\n    .response(ResponseOverrides::new().content_disposition(\"attachment; filename=\\\"q3.pdf\\\"\"));\nlet url = bucket.presign_get_with(&op, Duration::from_secs(3600))", "?;")]
            pub $($async)* fn presign_get_with(&self, op: &GetObject, expires: Duration) -> Result<Uri, Error> {
                self.client.presign(op, expires)$($await)*
            }

            /// A URL anyone can PUT `key` with until `expires`; headers the uploader sends
            /// beyond `Host` are not signed, so any content type goes.
            ///
            /// # Errors
            /// As [`Bucket::presign_get`].
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use std::time::Duration;\nlet url = bucket.presign_put(\"incoming/upload.bin\", Duration::from_secs(600))", "?;")]
            pub $($async)* fn presign_put(&self, k: &str, expires: Duration) -> Result<Uri, Error> {
                let (bucket, key) = self.key(k)?;
                self.client.presign(&PutObject::new(bucket, key, Vec::new()), expires)$($await)*
            }

            /// A URL for a fully specified PutObject: the headers it sets (content type,
            /// ACL, metadata) are signed, and the uploader must send them alike.
            ///
            /// # Errors
            /// As [`Bucket::presign_get`].
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use std::time::Duration;\nuse s3_proto::ops::PutObject;\nlet op = PutObject::new(bucket.name().clone(), \"avatar.png\".parse()?, Vec::new())\n    .content_type(\"image/png\");\nlet url = bucket.presign_put_with(&op, Duration::from_secs(600))", "?;")]
            pub $($async)* fn presign_put_with(&self, op: &PutObject, expires: Duration) -> Result<Uri, Error> {
                self.client.presign(op, expires)$($await)*
            }

            /// Signs a browser upload form into this bucket (see
            /// [`Client::presigned_post`]).
            ///
            /// # Errors
            /// As [`Client::presigned_post`].
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use std::time::{Duration, SystemTime};\nuse s3_proto::post::PostPolicy;\nlet expires = SystemTime::now() + Duration::from_secs(600);\nlet policy = PostPolicy::new(bucket.name().clone(), \"upload.txt\".parse()?, expires);\nlet form = bucket.presigned_post(&policy)", "?;")]
            pub $($async)* fn presigned_post(&self, policy: &PostPolicy) -> Result<PostForm, Error> {
                self.client.presigned_post(policy)$($await)*
            }

            /// The object's headers and metadata, or `None` when it does not exist (boto's
            /// `get_key`).
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "if let Some(head) = bucket.head(\"photo.jpg\")", "? {\n    println!(\"{:?} {:?}\", head.content_type, head.etag);\n}")]
            pub $($async)* fn head(&self, k: &str) -> Result<Option<ObjectHead>, Error> {
                let (bucket, key) = self.key(k)?;
                self.client.send(&OrNone(HeadObject::new(bucket, key)))$($await)*
            }

            /// The user metadata of a key, or `None` when it does not exist.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let colour = bucket.metadata(\"photo.jpg\")", "?.and_then(|m| m.get(\"colour\").map(str::to_owned));")]
            pub $($async)* fn metadata(&self, k: &str) -> Result<Option<Metadata>, Error> {
                Ok(self.head(k)$($await)*?.map(|h| h.metadata))
            }

            /// Deletes a key (success when it did not exist).
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "bucket.delete_key(\"old.txt\")", "?;")]
            pub $($async)* fn delete_key(&self, k: &str) -> Result<(), Error> {
                let (bucket, key) = self.key(k)?;
                self.client.send(&DeleteObject::new(bucket, key))$($await)*
            }

            /// Deletes many keys, 1000 per request; per-key failures are returned as data.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let out = bucket.delete_keys([\"a.txt\", \"b.txt\", \"c.txt\"])", "?;\nprintln!(\"{:?}\", out);")]
            pub $($async)* fn delete_keys<'k>(
                &self,
                keys: impl IntoIterator<Item = &'k str>,
            ) -> Result<DeleteObjectsOutput, Error> {
                let keys: Result<_, _> = keys.into_iter().map(str::parse).collect();
                self.client.drive(DeleteFlow::new(self.name.clone(), keys?))$($await)*
            }

            /// Deletes every key under `prefix` (everything when empty), listing and deleting
            /// as it goes in batches of 1,000, four at most at once: constant memory for any
            /// number of keys; keys the server refused come back as data.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let out = bucket.delete_prefix(\"logs/2019/\")", "?;\nprintln!(\"{} deleted, {} refused\", out.deleted, out.errors.len());")]
            pub $($async)* fn delete_prefix(
                &self,
                prefix: &str,
            ) -> Result<$crate::flow::delete::DeletePrefixOutput, Error> {
                let flow = $crate::flow::delete::DeletePrefixFlow::new(self.name.clone(), prefix, 4);
                self.client.drive(flow)$($await)*
            }

            /// Copies `src_bucket/src_key` to `dst_key` in this bucket, keeping metadata.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "bucket.copy_key(\"copy.jpg\", \"my-bucket\", \"photo.jpg\")", "?;")]
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

            /// Sends a fully specified CopyObject (metadata directive, ACL, conditions, SSE).
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::{object::MetadataDirective, ops::CopyObject};\nlet op = CopyObject::new(bucket.name().clone(), \"a.txt\".parse()?, bucket.name().clone(), \"b.txt\".parse()?)\n    .metadata_directive(MetadataDirective::Replace)\n    .content_type(\"text/markdown\");\nbucket.copy_key_with(&op)", "?;")]
            pub $($async)* fn copy_key_with(&self, op: &CopyObject) -> Result<CopyObjectOutput, Error> {
                self.client.send(op)$($await)*
            }

            /// Replaces a key's user metadata by copying it onto itself with `REPLACE`,
            /// keeping its content headers (boto's "update metadata" recipe).
            ///
            /// # Errors
            /// As [`Client::send`]; `NoSuchKey` when the key does not exist.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let mut metadata = s3_proto::Metadata::new();\nmetadata.insert(\"colour\", \"blue\");\nbucket.update_metadata(\"photo.jpg\", metadata)", "?;")]
            pub $($async)* fn update_metadata(
                &self,
                k: &str,
                metadata: Metadata,
            ) -> Result<CopyObjectOutput, Error> {
                let (bucket, key) = self.key(k)?;
                let head = self.client.send(&HeadObject::new(bucket.clone(), key.clone()))$($await)*?;
                let mut op = CopyObject::new(bucket.clone(), key.clone(), bucket, key)
                    .metadata_directive(MetadataDirective::Replace)
                    .metadata(metadata);
                if let Some(v) = head.content_type { op = op.content_type(v); }
                if let Some(v) = head.content_encoding { op = op.content_encoding(v); }
                if let Some(v) = head.content_disposition { op = op.content_disposition(v); }
                if let Some(v) = head.content_language { op = op.content_language(v); }
                if let Some(v) = head.cache_control { op = op.cache_control(v); }
                if let Some(v) = head.etag { op = op.copy_source_if_match(v); }
                self.client.send(&op)$($await)*
            }

            /// Copies an object of any size to `dst_key` in this bucket: one CopyObject below
            /// `options.threshold`, else UploadPartCopy parts in parallel, all from one
            /// version of the source, with its content headers and metadata, aborted after
            /// any failure.
            ///
            /// # Errors
            /// As [`Client::send`]; `PreconditionFailed` when the source changed meanwhile.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::flow::copy::CopyOptions;\nbucket.copy_object(\"backup/huge.bin\", \"my-bucket\", \"huge.bin\", CopyOptions::default())", "?;")]
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
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let mut keys = bucket.list(\"photos/\", Some(\"/\"));\nwhile let Some(entry) = keys.next()", " {\n    println!(\"{:?}\", entry?);\n}")]
            pub fn list(&self, prefix: &str, delimiter: Option<&str>) -> List {
                self.list_with(ListObjectsV2::under(self.name.clone(), prefix, delimiter))
            }

            /// Pages through a fully specified ListObjectsV2.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::ops::ListObjectsV2;\nlet mut keys = bucket.list_with(ListObjectsV2::new(bucket.name().clone()).start_after(\"m\"));\nwhile let Some(entry) = keys.next()", " {\n    println!(\"{:?}\", entry?);\n}")]
            pub fn list_with(&self, op: ListObjectsV2) -> List {
                let (client, listing) = (self.client.clone(), Listing::new(op));
                List { client, listing }
            }

            /// Every key (and common prefix) through the original ListObjects (v1), for
            /// servers without v2, paging by marker.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let mut keys = bucket.list_v1(\"\", None);\nwhile let Some(entry) = keys.next()", " {\n    println!(\"{:?}\", entry?);\n}")]
            pub fn list_v1(&self, prefix: &str, delimiter: Option<&str>) -> List<ListObjects> {
                let op = ListObjects::new(self.name.clone()).prefix(prefix);
                let op = match delimiter {
                    Some(d) => op.delimiter(d),
                    None => op,
                };
                let (client, listing) = (self.client.clone(), Listing::new(op));
                List { client, listing }
            }

            /// The multipart uploads in progress under `prefix`, paging by itself.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let mut uploads = bucket.multipart_uploads(\"\");\nwhile let Some(upload) = uploads.next()", " {\n    let upload = upload?;\n    println!(\"{} {}\", upload.key, upload.upload_id);\n}")]
            pub fn multipart_uploads(&self, prefix: &str) -> List<ListMultipartUploads> {
                let op = ListMultipartUploads::new(self.name.clone()).prefix(prefix);
                let (client, listing) = (self.client.clone(), Listing::new(op));
                List { client, listing }
            }

            /// The parts uploaded so far to `upload_id` of `key`, paging by itself.
            ///
            /// # Errors
            /// [`Error::Input`] for an invalid key.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let mut parts = bucket.parts(\"big.bin\", \"UPLOAD-ID\")?;\nwhile let Some(part) = parts.next()", " {\n    println!(\"{:?}\", part?);\n}")]
            pub fn parts(&self, key: &str, upload_id: &str) -> Result<List<ListParts>, Error> {
                let (bucket, key) = self.key(key)?;
                let op = ListParts::new(bucket, key, upload_id);
                let (client, listing) = (self.client.clone(), Listing::new(op));
                Ok(List { client, listing })
            }

            /// Abandons the multipart upload `upload_id` of `key`, freeing its parts.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "bucket.abort(\"big.bin\", \"UPLOAD-ID\")", "?;")]
            pub $($async)* fn abort(&self, key: &str, upload_id: &str) -> Result<(), Error> {
                let (bucket, key) = self.key(key)?;
                self.client.send(&AbortMultipartUpload::new(bucket, key, upload_id))$($await)*
            }

            /// Abandons every multipart upload started more than `age` ago (by the server's
            /// clock as this client knows it); says how many.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use std::time::Duration;\nlet n = bucket.abort_all_older_than(Duration::from_secs(24 * 3600))", "?;\nprintln!(\"abandoned {n} uploads\");")]
            pub $($async)* fn abort_all_older_than(&self, age: Duration) -> Result<usize, Error> {
                let cutoff = self.client.now($now()).checked_sub(age);
                let (mut uploads, mut aborted) = (self.multipart_uploads(""), 0);
                while let Some(upload) = uploads.next()$($await)* {
                    let upload = upload?;
                    let old = match (upload.initiated, cutoff) {
                        (Some(started), Some(cutoff)) => started < cutoff,
                        _ => false,
                    };
                    if old {
                        self.abort(&upload.key, &upload.upload_id)$($await)*?;
                        aborted += 1;
                    }
                }
                Ok(aborted)
            }

            /// Downloads `key` to `path` (see [`Bucket::download_file_with`]).
            ///
            /// # Errors
            /// As [`Bucket::download_file_with`].
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let head = bucket.download_file(\"big.bin\", \"/tmp/big.bin\")", "?;\nprintln!(\"verified: {:?}\", head.verified);")]
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
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let out = bucket.upload_file(\"big.bin\", \"/tmp/big.bin\")", "?;\nprintln!(\"{} parts\", out.parts);")]
            pub $($async)* fn upload_file(
                &self,
                key: &str,
                path: impl AsRef<std::path::Path>,
            ) -> Result<UploadOutput, Error> {
                let options = $crate::flow::upload::UploadOptions::default();
                self.upload_file_with(key, path, options)$($await)*
            }

            /// The bucket's ACL.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let policy = bucket.acl()", "?;\nprintln!(\"{:?}\", policy.grants);")]
            pub $($async)* fn acl(&self) -> Result<AccessControlPolicy, Error> {
                self.client.send(&GetBucketAcl::new(self.name.clone()))$($await)*
            }

            /// Replaces the bucket's ACL: a [`CannedAcl`], an [`AccessControlPolicy`] or
            /// grants.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::CannedAcl;\nbucket.set_acl(CannedAcl::PublicRead)", "?;")]
            pub $($async)* fn set_acl(&self, acl: impl Into<AclSpec>) -> Result<(), Error> {
                self.client.send(&PutBucketAcl::new(self.name.clone(), acl))$($await)*
            }

            /// Grants `permission` on the bucket to the account with `email`
            /// (read-modify-write).
            ///
            /// # Errors
            /// As [`Client::send`]; servers answer an error for an unknown email.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::acl::Permission;\nbucket.add_email_grant(Permission::Read, \"friend@example.com\")", "?;")]
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
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::acl::Permission;\nbucket.add_user_grant(Permission::Read, \"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be\")", "?;")]
            pub $($async)* fn add_user_grant(
                &self,
                permission: Permission,
                id: &str,
            ) -> Result<(), Error> {
                let flow = AddGrant::bucket(self.name.clone(), Grantee::user(id), permission);
                self.client.drive(flow)$($await)*
            }

            /// A key's ACL.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let policy = bucket.key_acl(\"photo.jpg\")", "?;")]
            pub $($async)* fn key_acl(&self, k: &str) -> Result<AccessControlPolicy, Error> {
                let (bucket, key) = self.key(k)?;
                self.client.send(&GetObjectAcl::new(bucket, key))$($await)*
            }

            /// Replaces a key's ACL: a [`CannedAcl`], an [`AccessControlPolicy`] or grants.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::CannedAcl;\nbucket.set_key_acl(\"photo.jpg\", CannedAcl::PublicRead)", "?;")]
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
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::acl::Permission;\nbucket.add_key_email_grant(\"photo.jpg\", Permission::Read, \"friend@example.com\")", "?;")]
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
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::acl::Permission;\nbucket.add_key_user_grant(\"photo.jpg\", Permission::Read, \"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be\")", "?;")]
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
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "if let Some(cors) = bucket.cors()", "? {\n    println!(\"{} rules\", cors.rules.len());\n}")]
            pub $($async)* fn cors(&self) -> Result<Option<CorsConfiguration>, Error> {
                self.client.send(&OrNone(GetBucketCors::new(self.name.clone())))$($await)*
            }

            /// Sets the bucket's CORS configuration.
            ///
            /// # Errors
            /// [`Error::Input`] for an invalid configuration; otherwise as [`Client::send`].
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::cors::{CorsConfiguration, CorsMethod, CorsRule};\nlet rule = CorsRule::new([CorsMethod::Get], [\"https://example.com\"]);\nbucket.set_cors(&CorsConfiguration::new().rule(rule))", "?;")]
            pub $($async)* fn set_cors(&self, config: &CorsConfiguration) -> Result<(), Error> {
                let op = PutBucketCors::new(self.name.clone(), config.clone());
                self.client.send(&op)$($await)*
            }

            /// Removes the bucket's CORS configuration.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "bucket.delete_cors()", "?;")]
            pub $($async)* fn delete_cors(&self) -> Result<(), Error> {
                self.client.send(&DeleteBucketCors::new(self.name.clone()))$($await)*
            }

            /// The bucket's location.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "println!(\"{:?}\", bucket.location()", "?);")]
            pub $($async)* fn location(&self) -> Result<BucketLocation, Error> {
                self.client.send(&GetBucketLocation::new(self.name.clone()))$($await)*
            }

            /// Creates the bucket with a canned ACL, or sets one on an existing bucket.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::CannedAcl;\nbucket.create(Some(CannedAcl::Private))", "?;")]
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
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "bucket.delete()", "?;")]
            pub $($async)* fn delete(&self) -> Result<(), Error> {
                self.client.send(&DeleteBucket::new(self.name.clone()))$($await)*
            }
        }

        $crate::__surface_transfers!([$($async)*] [$($await)*], $krate, $client, $now, $($io)+);
        }
    };
}

/// The doc example of one surface method, for the runtime `$krate`: the code pieces are
/// joined by `.await` in the async runtime, by nothing in the blocking one, inside a
/// function that has a `client` and a `bucket` (`no_run`: they need a server).
#[doc(hidden)]
#[macro_export]
macro_rules! __surface_example {
    ($krate:ident, [$($async:tt)*], [$($await:tt)*], $($piece:literal),+) => {
        concat!(
            "```no_run\n# ",
            stringify!($($async)* fn),
            " example(client: &",
            stringify!($krate),
            "::Client) -> Result<(), Box<dyn std::error::Error>> {\n",
            "# let bucket = client.bucket(\"my-bucket\")?;\n",
            $crate::__surface_join!([$($await)*] $($piece),+),
            "\n# Ok(())\n# }\n```"
        )
    };
}

/// Joins code pieces with the await tokens (see `__surface_example!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __surface_join {
    ([$($await:tt)*] $a:literal) => { $a };
    ([$($await:tt)*] $a:literal, $($rest:literal),+) => {
        concat!($a, stringify!($($await)*), $crate::__surface_join!([$($await)*] $($rest),+))
    };
}
