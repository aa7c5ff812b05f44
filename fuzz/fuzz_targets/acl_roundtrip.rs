//! libFuzzer entry point for [`s3_fuzz::acl_roundtrip`]; the logic and the input format live there.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| s3_fuzz::acl_roundtrip(data));
