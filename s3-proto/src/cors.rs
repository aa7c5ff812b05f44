//! CORS configuration (in progress).
