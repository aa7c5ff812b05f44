//! The S3 actions, one struct per action, named as in the AWS API reference.
//!
//! Required inputs go in `new(..)` as validated newtypes; optional ones are consuming setters
//! named after the field. Each action links its API reference page.

mod acl;
mod bucket;
mod cors;
mod handle;
mod lifecycle;
mod list;
mod lock;
mod logging;
mod multipart;
mod object;
mod policy;
mod sse;
pub(crate) mod subresource;
mod tagging;
mod url_encoding;
mod versioning;
mod write_conditions;

pub use self::acl::*;
pub use self::bucket::*;
pub use self::cors::*;
pub use self::handle::{OrNone, WholeRead};
pub use self::lifecycle::*;
pub use self::list::*;
pub use self::lock::*;
pub use self::logging::*;
pub use self::multipart::*;
pub use self::object::*;
pub use self::policy::*;
pub use self::sse::*;
pub use self::tagging::*;
pub use self::versioning::*;

pub(crate) use self::object::parse_bool as parse_bool_str;

// The object nouns live in `crate::object`; these names stay here for code written against
// `ops::ObjectHead` and friends.
#[doc(no_inline)]
pub use crate::object::{ByteRange, ContentRange, MetadataDirective, ObjectAttributes, ObjectHead};
