//! The boto-style surface: buckets as handles, keys as strings, `None` for what is absent.
//! Written once for every runtime in [`s3_proto::bucket_surface!`]; expanded here for tokio,
//! with the file and reader IO of [`crate::transfer`].

use crate::body::ObjectStream;
use crate::client::Client;

s3_proto::bucket_surface!(
    async, s3_async, Client, ObjectStream, crate::client::now,
    read: [tokio::io::AsyncRead + Unpin + Send],
    write: [tokio::io::AsyncWrite + Unpin + Send],
    body: [tokio::io::AsyncRead + Send + 'static]
);
