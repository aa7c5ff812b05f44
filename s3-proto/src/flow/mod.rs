//! Sans-IO drivers for work that spans several requests.
//!
//! Each driver hands out the next operation to send and takes back its result; the runtime
//! does the IO in between. No driver ever holds a whole object body.

pub mod download;
pub mod paginate;
pub mod progress;
pub mod upload;
