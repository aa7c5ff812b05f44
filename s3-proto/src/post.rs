//! Presigned POST (in progress).
