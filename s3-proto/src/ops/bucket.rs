//! Bucket actions (in progress).
