//! The boto-style surface: buckets as handles, keys as strings, `None` for what is absent.
//! Written once for every runtime in [`s3_proto::bucket_surface!`]; expanded here for
//! threads, with the file and reader IO of [`crate::transfer`].

use crate::body::ObjectReader;
use crate::client::Client;

s3_proto::bucket_surface!(
    sync, s3_blocking, Client, ObjectReader, crate::client::now,
    read: [std::io::Read],
    write: [std::io::Write],
    body: [std::io::Read]
);
