//! aws-chunked streaming signatures (in progress).
