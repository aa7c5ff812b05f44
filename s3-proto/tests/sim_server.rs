//! The simulated S3 server (`tests/sim`) proved against s3-proto's own operations.

mod sim;

#[test]
fn placeholder() {}
