//! The S3 actions, one struct per action, named as in the AWS API reference.
//!
//! Required inputs go in `new(..)` as validated newtypes; optional ones are consuming setters
//! named after the field. Each action links its API reference page.

mod acl;
mod bucket;
mod cors;
mod handle;
mod list;
mod multipart;
mod object;

pub use self::acl::*;
pub use self::bucket::*;
pub use self::cors::*;
pub use self::handle::{OrNone, WholeRead};
pub use self::list::*;
pub use self::multipart::*;
pub use self::object::*;

// The object nouns live in `crate::object`; these names stay here for code written against
// `ops::ObjectHead` and friends.
#[doc(no_inline)]
pub use crate::object::{ByteRange, ContentRange, MetadataDirective, ObjectAttributes, ObjectHead};
