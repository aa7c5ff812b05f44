//! The surface methods that move bytes between the caller's files, readers or writers and
//! the network, written once like the rest of [`bucket_surface!`](crate::bucket_surface).
//!
//! Each is a flow or operation of s3-proto plus IO the runtime provides in its `transfer`
//! module, plain or `async`: `Files::reading(&Path)`, `Files::writing(&TempFile)` and
//! `Files::resuming(&Path)` (what the flow loop's jobs read and write: a resumable
//! download's partial file outlives the process), `TempFile::beside(&Path)` and `persist(&Path)` (a
//! download lands beside its target and is renamed over it once whole), `file_len(&Path)`
//! and `copy_body(&mut reader, &mut writer)`; and `Client::drive_io(flow, files, reader)`.

/// Expands [`Bucket`]'s transfer methods and the [`List`] pager inside a runtime's surface
/// module; `read`, `write` and `body` are the bounds of the caller's reader (read whole,
/// part by part), writer, and one-request body.
#[doc(hidden)]
#[macro_export]
// `crate::transfer` is the runtime's module: the caller's crate is meant.
#[allow(clippy::crate_in_macro_def)]
macro_rules! __surface_transfers {
    (
        [$($async:tt)*] [$($await:tt)*], $krate:ident, $client:ident, $now:path,
        read: [$($read:tt)+], write: [$($write:tt)+], body: [$($body:tt)+]
    ) => {
        use $crate::flow::download::{DownloadFlow, DownloadOptions, partial_path};
        use $crate::flow::resume::{DownloadState, UploadState};
        use $crate::flow::split::{SplitListFlow, SplitListing, SplitOptions};
        use $crate::flow::paginate::{Entries, ListEntry, ListStep};
        use $crate::flow::progress::ProgressCounter;
        use $crate::flow::upload::{Source, UploadFlow, UploadOptions};
        use $crate::Body;
        use crate::transfer::{Files, TempFile, copy_body, file_len, offload};
        use std::path::Path;

        impl Bucket {
            /// Stores `length` bytes read from `reader` in one request, the content type
            /// guessed from the key. The body cannot be replayed, so only a failure to
            /// connect is retried: [`Bucket::upload_reader`] retries part by part.
            ///
            /// # Errors
            /// As [`Client::send_reader`]: [`Error::Transport`] also when `reader` fails or
            /// yields another number of bytes than `length`.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let hello: &'static [u8] = b\"hello\";\nbucket.put_reader(\"hello.txt\", hello, 5)", "?;")]
            pub $($async)* fn put_reader(
                &self,
                key: &str,
                reader: impl $($body)+,
                length: u64,
            ) -> Result<PutObjectOutput, Error> {
                let (bucket, key) = self.key(key)?;
                let body = Body::Stream { length: Some(length) };
                self.client.send_reader(&PutObject::bytes(bucket, key, body), reader)$($await)*
            }

            /// Stores `value` with every setting of `options` (content headers, user
            /// metadata, ACL, storage class, tags, SSE, checksum, conditions), as
            /// [`Bucket::upload_reader`] does: one PutObject below the multipart threshold.
            ///
            /// # Errors
            /// As [`Bucket::upload_reader`].
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::flow::upload::UploadOptions;\nlet options = UploadOptions::default().cache_control(\"max-age=60\").meta(\"owner\", \"me\");\nbucket.put_bytes_with(\"logo.png\", vec![0x89, b'P', b'N', b'G'], options)", "?;")]
            pub $($async)* fn put_bytes_with(
                &self,
                key: &str,
                value: impl Into<Vec<u8>>,
                options: UploadOptions,
            ) -> Result<UploadOutput, Error> {
                let value = value.into();
                let len = Some(value.len() as u64);
                self.upload_reader(key, &value[..], len, options)$($await)*
            }

            /// Stores a string (`text/plain; charset=utf-8` unless `options` name a type)
            /// with every setting of `options` (see [`Bucket::put_bytes_with`]).
            ///
            /// # Errors
            /// As [`Bucket::upload_reader`].
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::{CannedAcl, flow::upload::UploadOptions};\nlet options = UploadOptions::default().acl(CannedAcl::PublicRead).meta(\"lang\", \"en\");\nbucket.put_string_with(\"hello.txt\", \"hello\", options)", "?;")]
            pub $($async)* fn put_string_with(
                &self,
                key: &str,
                value: &str,
                options: UploadOptions,
            ) -> Result<UploadOutput, Error> {
                let options = match options.attributes.content_type {
                    Some(_) => options,
                    None => options.content_type("text/plain; charset=utf-8"),
                };
                self.put_bytes_with(key, value, options)$($await)*
            }

            /// Every entry of a listing, collected.
            ///
            /// # Errors
            /// The first failing page's error.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "for entry in bucket.list_all(\"photos/\", Some(\"/\"))", "? {\n    println!(\"{entry:?}\");\n}")]
            pub $($async)* fn list_all(
                &self,
                prefix: &str,
                delimiter: Option<&str>,
            ) -> Result<Vec<ListEntry>, Error> {
                let (mut list, mut entries) = (self.list(prefix, delimiter), Vec::new());
                while let Some(entry) = list.next()$($await)* {
                    entries.push(entry?);
                }
                Ok(entries)
            }

            /// Every object under `prefix`, in key order, listed as [`SplitListFlow`] plans
            /// it: the folders under the prefix (split at the delimiter, to the depth asked)
            /// each listed on its own, side by side, instead of one page after the other.
            ///
            /// # Errors
            /// The first listing page that failed for good.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::flow::split::SplitOptions;\nlet found = bucket.list_parallel(\"logs/\", SplitOptions::default().concurrency(8))", "?;\nprintln!(\"{} objects in {} listings\", found.objects.len(), found.listings);")]
            pub $($async)* fn list_parallel(
                &self,
                prefix: &str,
                options: SplitOptions,
            ) -> Result<SplitListing, Error> {
                let flow = SplitListFlow::new(self.name.clone(), prefix, options);
                self.client.drive_io(flow, Files::default(), None)$($await)*
            }

            /// Downloads `key` to `path` as [`DownloadFlow`] plans it: ranged GETs of one
            /// version, in parallel as far as the memory budget allows, each checked,
            /// verified and resumed where it broke off. The bytes land in a temporary file
            /// beside `path`, renamed over it only once all arrived and matched: a failed
            /// download never leaves a partial file at `path`.
            ///
            /// # Errors
            /// [`Error::Service`] (`NoSuchKey`, `PreconditionFailed` when the object changed
            /// meanwhile, …), [`Error::Transport`] for network or disk failures,
            /// [`Error::Response`] when a body is not what was announced or does not match
            /// its digest.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::flow::download::DownloadOptions;\nlet head = bucket.download_file_with(\"big.bin\", \"/tmp/big.bin\", DownloadOptions::default())", "?;\nprintln!(\"{} bytes, {:?}\", head.content_length.unwrap_or(0), head.verified);")]
            pub $($async)* fn download_file_with(
                &self,
                key: &str,
                path: impl AsRef<Path>,
                options: DownloadOptions,
            ) -> Result<ObjectHead, Error> {
                let (path, (bucket, key)) = (path.as_ref(), self.key(key)?);
                let temp = TempFile::beside(path)$($await)*?;
                let flow = DownloadFlow::new(bucket, key, options)
                    .progress(self.progress.clone())
                    .verify(self.client.options().rereads());
                let head = self.client.drive_io(flow, Files::writing(&temp), None)$($await)*?;
                temp.persist(path)$($await)*?;
                Ok(head)
            }

            /// Streams `key` into `writer` in constant memory, checking its length and
            /// digest ([`ObjectHead::verified`] says how). A multipart object without a stored
            /// checksum is hashed along its likely part sizes; when that misses, its real
            /// part sizes are asked (HeadObject per part): equal ones confirm the mismatch,
            /// unequal ones make the read `Unverified::UnequalParts` (a stream cannot be
            /// hashed again; [`Bucket::download_file`] and [`Bucket::get`] can check them).
            ///
            /// # Errors
            /// As [`Bucket::download_file_with`]; what was written before a failure stays
            /// written, and is unverified when the digest did not match.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "let mut out = Vec::new();\nlet head = bucket.download_to(\"notes.txt\", &mut out)", "?;\nprintln!(\"{} bytes, {:?}\", out.len(), head.verified);")]
            pub $($async)* fn download_to(
                &self,
                key: &str,
                mut writer: impl $($write)+,
            ) -> Result<ObjectHead, Error> {
                let op = GetObject::new(self.name.clone(), key.parse()?).checksum_mode(true);
                let (mut head, mut body) = self.client.open(&op)$($await)*?;
                let mut outcome = copy_body(&mut body, &mut writer)$($await)*.map(|()| body.verdict());
                ProgressCounter::new(None, self.progress.clone()).add(body.bytes_read());
                // Missed along inferred part sizes: the real ones confirm it or excuse it.
                let parts = op.part_heads(&head, &outcome);
                if !parts.is_empty() {
                    let replies = self.part_replies(&parts)$($await)*;
                    let integrity = self.client.options().integrity;
                    outcome = op.judge_streamed(&replies, outcome, integrity);
                }
                head.verified = Some(outcome?);
                Ok(head)
            }

            /// Uploads the file at `path` to `key` as [`UploadFlow`] plans it, streamed from
            /// disk with the content type guessed from the file name: one PutObject below
            /// the threshold, else a multipart upload whose parts run in parallel within the
            /// memory budget, each re-read from the file when retried; aborted after any
            /// failure.
            ///
            /// # Errors
            /// [`Error::Service`] from the server, [`Error::Transport`] when the file cannot
            /// be read, [`Error::Input`] when it changed length while it was being sent.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::flow::upload::UploadOptions;\nlet options = UploadOptions::default().part_size(16 << 20);\nlet out = bucket.upload_file_with(\"big.bin\", \"/tmp/big.bin\", options)", "?;\nprintln!(\"{} parts\", out.parts);")]
            pub $($async)* fn upload_file_with(
                &self,
                key: &str,
                path: impl AsRef<Path>,
                options: UploadOptions,
            ) -> Result<UploadOutput, Error> {
                let path = path.as_ref();
                let len = file_len(path)$($await)*?;
                let content_type = $crate::mime::from_name(&path.to_string_lossy());
                let flow = self.upload(key, Source::File { len }, options)?;
                let flow = flow.content_type(content_type);
                self.client.drive_io(flow, Files::reading(path), None)$($await)*
            }

            /// Uploads what `reader` yields to `key` (`length` bytes, or up to its end when
            /// the length is unknown) as [`UploadFlow`] plans it: one PutObject when the data
            /// fits below the threshold, else parts read into memory one after the other and
            /// sent in parallel within the memory budget, so each can be retried. The content
            /// type is guessed from the key.
            ///
            /// # Errors
            /// As [`Bucket::upload_file_with`]; [`Error::Input`] when `reader` yields another
            /// number of bytes than `length`.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::flow::upload::UploadOptions;\nlet data: &[u8] = b\"streamed bytes\";\nlet out = bucket.upload_reader(\"stream.bin\", data, None, UploadOptions::default())", "?;\nprintln!(\"{:?}\", out.etag);")]
            pub $($async)* fn upload_reader(
                &self,
                key: &str,
                mut reader: impl $($read)+,
                length: Option<u64>,
                options: UploadOptions,
            ) -> Result<UploadOutput, Error> {
                let flow = self.upload(key, Source::Reader { len: length }, options)?;
                let flow = flow.content_type($crate::mime::from_name(key));
                self.client.drive_io(flow, Files::default(), Some(&mut reader))$($await)*
            }

            /// Uploads the file at `path` to `key` as [`Bucket::upload_file_with`] does, but
            /// resumable across process restarts: the upload id and every acknowledged part
            /// are saved to the file at `state` (written beside it, then renamed over it).
            /// Called again with the same `state` after a crash or a failure, it checks the
            /// saved parts with ListParts and sends only the missing ones; the state file is
            /// removed once the object is complete. The file must not change meanwhile; the
            /// upload is left in place after a failure (abort it, or resume it).
            ///
            /// # Errors
            /// As [`Bucket::upload_file_with`]; [`Error::Input`] for a file small enough
            /// for one PutObject, or a state file that is damaged or another upload's.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::flow::upload::UploadOptions;\nlet out = bucket.upload_file_resumable(\"big.bin\", \"/tmp/big.bin\", \"/tmp/big.bin.upload\", UploadOptions::default())", "?;\nprintln!(\"{} parts\", out.parts);")]
            pub $($async)* fn upload_file_resumable(
                &self,
                key: &str,
                path: impl AsRef<Path>,
                state: impl AsRef<Path>,
                options: UploadOptions,
            ) -> Result<UploadOutput, Error> {
                let (path, state) = (path.as_ref(), state.as_ref());
                let saved = offload(read_state(state))$($await)*?;
                let saved = saved.map(|b| UploadState::decode(&b)).transpose()?;
                let len = file_len(path)$($await)*?;
                let flow = self.upload(key, Source::File { len }, options)?;
                let flow = flow.resumable(saved, state_saver(state))?;
                let flow = flow.content_type($crate::mime::from_name(&path.to_string_lossy()));
                let out = self.client.drive_io(flow, Files::reading(path), None)$($await)*?;
                let state = state.to_path_buf();
                offload(move || std::fs::remove_file(state).map_err($crate::TransportError::from_io))$($await)*?;
                Ok(out)
            }

            /// Downloads `key` to `path` as [`Bucket::download_file_with`] does, but resumable
            /// across process restarts: the ranges land in a partial file beside `path`
            /// ([`partial_path`]) that outlives a failure, and the version pinned and the
            /// spans written are saved to the file at `state` after every range. Called again
            /// with the same `state`, it heads the object: the same version fetches only the
            /// missing ranges (the rest is read back from the partial file to verify the
            /// whole), another one starts over. Once whole and verified the partial file is
            /// renamed over `path` and the state file removed.
            ///
            /// # Errors
            /// As [`Bucket::download_file_with`]; [`Error::Input`] for a state file that is
            /// damaged or another object's.
            ///
            /// # Example
            #[doc = $crate::__surface_example!($krate, [$($async)*], [$($await)*], "use s3_proto::flow::download::DownloadOptions;\nlet head = bucket.download_file_resumable(\"big.bin\", \"/tmp/big.bin\", \"/tmp/big.bin.download\", DownloadOptions::default())", "?;\nprintln!(\"{:?}\", head.verified);")]
            pub $($async)* fn download_file_resumable(
                &self,
                key: &str,
                path: impl AsRef<Path>,
                state: impl AsRef<Path>,
                options: DownloadOptions,
            ) -> Result<ObjectHead, Error> {
                let (path, state, (bucket, key)) = (path.as_ref(), state.as_ref(), self.key(key)?);
                let io = $crate::TransportError::from_io;
                let saved = offload(read_state(state))$($await)*?;
                let saved = saved.map(|b| DownloadState::decode(&b)).transpose()?;
                let partial = partial_path(path).map_err(io)?;
                let (target, state) = (path.to_path_buf(), state.to_path_buf());
                let at = partial.clone();
                let kept = offload(move || {
                    let opened = std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(&at);
                    Ok(opened.and_then(|f| f.metadata()).map_err(io)?.len())
                })$($await)*?;
                let flow = DownloadFlow::new(bucket, key, options)
                    .progress(self.progress.clone())
                    .verify(self.client.options().rereads())
                    .resumable(saved, kept, state_saver(&state))?;
                let head = self.client.drive_io(flow, Files::resuming(&partial), None)$($await)*?;
                // Cut what an earlier, longer version left past the end; then into place.
                let len = head.content_length.unwrap_or(0);
                offload(move || {
                    let file = std::fs::OpenOptions::new().write(true).open(&partial).map_err(io)?;
                    file.set_len(len).and_then(|()| file.sync_all()).map_err(io)?;
                    std::fs::rename(&partial, target).map_err(io)?;
                    std::fs::remove_file(state).map_err(io)
                })$($await)*?;
                Ok(head)
            }

            /// An [`UploadFlow`] of `source` to `key`, reporting to this handle's progress.
            fn upload(
                &self,
                key: &str,
                source: Source,
                options: UploadOptions,
            ) -> Result<UploadFlow, Error> {
                let (bucket, key) = self.key(key)?;
                let options = options.or_checksum(self.client.upload_checksum());
                let flow = UploadFlow::new(bucket, key, source, options, $now())?
                    .payload_hashes(self.client.checks_payload_hashes())
                    .checksums_cover(self.client.checksums_cover_payloads());
                Ok(flow.progress(self.progress.clone()))
            }
        }

        /// Reads the state file at `path`: its bytes, `None` when there is none yet.
        fn read_state(path: &Path) -> impl FnOnce() -> Result<Option<Vec<u8>>, Error> + Send + 'static {
            let path = path.to_path_buf();
            move || {
                use std::io::Read as _;
                let mut bytes = Vec::new();
                match std::fs::File::open(path) {
                    Ok(file) => file
                        .take($crate::flow::resume::MAX_STATE_SIZE + 1)
                        .read_to_end(&mut bytes)
                        .map(|_| Some(bytes))
                        .map_err($crate::TransportError::from_io),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err($crate::TransportError::from_io(e)),
                }
            }
        }

        /// Saves a transfer's state to the file at `path`: written beside it, then renamed
        /// over it, so a crash never leaves half a state.
        fn state_saver(path: &Path) -> $crate::flow::resume::SaveFn {
            let (temp, target) = (path.with_extension("s3rs-tmp"), path.to_path_buf());
            Box::new(move |bytes: &[u8]| {
                std::fs::write(&temp, bytes)
                    .and_then(|()| std::fs::rename(&temp, &target))
                    .map_err($crate::TransportError::from_io)
            })
        }

        /// A listing that sends one request per page: keys (the default), keys through
        /// ListObjects v1, multipart uploads or parts. Call `next` until it returns `None`.
        pub struct List<O: Entries = ListObjectsV2> {
            client: $client,
            listing: Listing<O>,
        }

        impl<O: Entries> std::fmt::Debug for List<O> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("List")
                    .field("pages", &self.listing.pages())
                    .finish_non_exhaustive()
            }
        }

        $crate::__surface_list_next!([$($async)*] [$($await)*]);
    };
}

/// `List::next`: an `Iterator` in a blocking runtime, an `async fn` in an async one.
#[doc(hidden)]
#[macro_export]
macro_rules! __surface_list_next {
    ([] []) => {
        impl<O: Entries> Iterator for List<O> {
            type Item = Result<O::Entry, Error>;

            fn next(&mut self) -> Option<Self::Item> {
                $crate::__surface_list_next!(@body self [])
            }
        }
    };
    ([async] [$($await:tt)*]) => {
        impl<O: Entries> List<O> {
            /// The next entry, fetching the next page when needed; `None` at the end.
            pub async fn next(&mut self) -> Option<Result<O::Entry, Error>> {
                $crate::__surface_list_next!(@body self [$($await)*])
            }
        }
    };
    (@body $self:ident [$($await:tt)*]) => {
        loop {
            match $self.listing.poll() {
                ListStep::Entry(entry) => return Some(Ok(entry)),
                ListStep::End => return None,
                ListStep::Send(op) => {
                    let page = $self.client.send(&op)$($await)*;
                    if let Some(e) = $self.listing.handle(page) {
                        return Some(Err(e));
                    }
                }
            }
        }
    };
}
