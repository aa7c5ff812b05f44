//! Listings that page: ListObjectsV2, ListObjects (v1) and ListMultipartUploads.
//!
//! All three share one walk: entries in key order, filtered by prefix and by the marker,
//! keys grouped into common prefixes by a delimiter, cut at the page size. A page that ends
//! on a common prefix continues after every key rolled into it, as S3 does.

use base64::Engine as _;

use super::reply::{Reply, S3Error, iso8601};
use super::request::{Incoming, encode_url};
use super::serve::{Ctx, Outcome, bucket, page_size, write_owner, write_upload_parties};
use super::store::{StoredObject, Upload};
use super::xml::XmlOut;

/// One page of a listing: items (with their keys) and common prefixes, in key order.
struct Page<'a, T> {
    items: Vec<(&'a str, T)>,
    prefixes: Vec<String>,
    truncated: bool,
    /// The last entry, key or common prefix: where the next page starts.
    last: Option<String>,
}

/// Walks `items` (in key order, already past the marker) into a page of at most `max`
/// entries. Keys whose common prefix is `marker` are skipped: the previous page ended on it.
fn walk<'a, T>(
    items: impl IntoIterator<Item = (&'a str, T)>,
    prefix: &str,
    delimiter: Option<&str>,
    marker: Option<&str>,
    max: usize,
) -> Page<'a, T> {
    let mut page = Page {
        items: Vec::new(),
        prefixes: Vec::new(),
        truncated: false,
        last: None,
    };
    for (key, item) in items {
        if !key.starts_with(prefix) {
            continue;
        }
        let group = delimiter.and_then(|d| {
            let rest = key.get(prefix.len()..)?;
            let at = rest.find(d)?;
            key.get(..prefix.len() + at + d.len())
        });
        if let Some(group) = group {
            if Some(group) == marker || Some(group) == page.last.as_deref() {
                continue;
            }
        }
        if page.items.len() + page.prefixes.len() >= max {
            page.truncated = max > 0;
            break;
        }
        match group {
            Some(group) => {
                page.last = Some(group.to_owned());
                page.prefixes.push(group.to_owned());
            }
            None => {
                page.last = Some(key.to_owned());
                page.items.push((key, item));
            }
        }
    }
    page
}

fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// The filters both object listings share.
struct Filter<'r> {
    prefix: &'r str,
    delimiter: Option<&'r str>,
    max: usize,
    url: bool,
}

impl<'r> Filter<'r> {
    fn from_request(req: &'r Incoming) -> Result<Self, S3Error> {
        let url = match req.param("encoding-type") {
            None => false,
            Some("url") => true,
            Some(other) => {
                return Err(S3Error::invalid_argument(
                    "Invalid Encoding Method specified in Request",
                    "encoding-type",
                    other,
                ));
            }
        };
        Ok(Filter {
            prefix: req.param("prefix").unwrap_or_default(),
            delimiter: req.param("delimiter").filter(|d| !d.is_empty()),
            max: page_size(req, "max-keys")?,
            url,
        })
    }

    /// `text`, URL-encoded when the request asked for `encoding-type=url`.
    fn encode(&self, text: &str) -> String {
        if self.url {
            encode_url(text)
        } else {
            text.to_owned()
        }
    }

    /// The objects past `marker`, walked into one page.
    fn page<'a>(
        &self,
        objects: &'a std::collections::BTreeMap<String, StoredObject>,
        marker: Option<&str>,
    ) -> Page<'a, &'a StoredObject> {
        use std::ops::Bound;
        let start = match marker {
            Some(m) => Bound::Excluded(m),
            None => Bound::Unbounded,
        };
        let items = objects
            .range::<str, _>((start, Bound::Unbounded))
            .map(|(k, o)| (k.as_str(), o));
        walk(items, self.prefix, self.delimiter, marker, self.max)
    }

    fn write_head(&self, w: &mut XmlOut, bucket: &str) {
        w.element("Name", bucket)
            .element("Prefix", &self.encode(self.prefix));
        if let Some(d) = self.delimiter {
            w.element("Delimiter", &self.encode(d));
        }
        w.element("MaxKeys", &self.max.to_string());
        if self.url {
            w.element("EncodingType", "url");
        }
    }

    /// Every `<Contents>`, then every `<CommonPrefixes>`, as S3 orders them.
    fn write_entries(&self, w: &mut XmlOut, page: &Page<'_, &StoredObject>, owner: bool) {
        for (key, object) in &page.items {
            w.open("Contents")
                .element("Key", &self.encode(key))
                .element("LastModified", &iso8601(object.last_modified))
                .element("ETag", &object.etag)
                .element("Size", &object.data.len().to_string());
            if owner {
                write_owner(w, "Owner");
            }
            w.element(
                "StorageClass",
                object
                    .attributes
                    .storage_class
                    .as_deref()
                    .unwrap_or("STANDARD"),
            )
            .close("Contents");
        }
        for prefix in &page.prefixes {
            w.open("CommonPrefixes")
                .element("Prefix", &self.encode(prefix))
                .close("CommonPrefixes");
        }
    }
}

/// Continuation tokens are opaque to clients: base64 of the last entry, with a version tag.
/// Standard base64 holds `+`, `/` and `=`, so the client's query encoding is exercised.
const TOKEN_TAG: &str = "sim1:";

fn encode_token(last: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{TOKEN_TAG}{last}"))
}

fn decode_token(token: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(TOKEN_TAG).map(str::to_owned)
}

/// ListObjectsV2: paged by continuation token (or start-after).
pub(crate) fn list_objects_v2(ctx: Ctx<'_>) -> Outcome {
    let req = ctx.req;
    let filter = Filter::from_request(req)?;
    let bucket = bucket(ctx.store, req.bucket())?;
    let token = req.param("continuation-token");
    let start_after = req.param("start-after").filter(|s| !s.is_empty());
    let marker = match token {
        Some(t) => Some(decode_token(t).ok_or_else(|| {
            S3Error::invalid_argument(
                "The continuation token provided is incorrect",
                "continuation-token",
                t,
            )
        })?),
        None => start_after.map(str::to_owned),
    };
    let page = filter.page(&bucket.objects, marker.as_deref());
    let mut w = XmlOut::document("ListBucketResult");
    filter.write_head(&mut w, req.bucket());
    w.element(
        "KeyCount",
        &(page.items.len() + page.prefixes.len()).to_string(),
    )
    .element("IsTruncated", bool_text(page.truncated))
    .element_opt("ContinuationToken", token);
    if page.truncated {
        if let Some(last) = &page.last {
            w.element("NextContinuationToken", &encode_token(last));
        }
    }
    if let Some(s) = start_after {
        w.element("StartAfter", &filter.encode(s));
    }
    let owner = req.param("fetch-owner") == Some("true");
    filter.write_entries(&mut w, &page, owner);
    Ok(Reply::xml(w.finish("ListBucketResult")))
}

/// ListObjects (v1): paged by marker.
pub(crate) fn list_objects(ctx: Ctx<'_>) -> Outcome {
    let req = ctx.req;
    let filter = Filter::from_request(req)?;
    let bucket = bucket(ctx.store, req.bucket())?;
    let marker = req.param("marker").filter(|m| !m.is_empty());
    let page = filter.page(&bucket.objects, marker);
    let mut w = XmlOut::document("ListBucketResult");
    filter.write_head(&mut w, req.bucket());
    w.element("Marker", &filter.encode(marker.unwrap_or_default()))
        .element("IsTruncated", bool_text(page.truncated));
    // AWS sends NextMarker only with a delimiter; without one the client continues after
    // the last key (API reference, ListObjects).
    if page.truncated && filter.delimiter.is_some() {
        if let Some(last) = &page.last {
            w.element("NextMarker", &filter.encode(last));
        }
    }
    filter.write_entries(&mut w, &page, true);
    Ok(Reply::xml(w.finish("ListBucketResult")))
}

/// ListMultipartUploads: by key then initiation, paged by key and upload id markers.
pub(crate) fn list_multipart_uploads(ctx: Ctx<'_>) -> Outcome {
    let req = ctx.req;
    let max = page_size(req, "max-uploads")?;
    let bucket = bucket(ctx.store, req.bucket())?;
    let prefix = req.param("prefix").unwrap_or_default();
    let delimiter = req.param("delimiter").filter(|d| !d.is_empty());
    let key_marker = req.param("key-marker").filter(|m| !m.is_empty());
    // The upload id marker counts only with a key marker (API reference).
    let id_marker = key_marker.and(req.param("upload-id-marker").filter(|m| !m.is_empty()));
    // Uploads of one key in initiation order; ids sort that way.
    let mut uploads: Vec<(&str, (&str, &Upload))> = bucket
        .uploads
        .iter()
        .map(|(id, u)| (u.key.as_str(), (id.as_str(), u)))
        .collect();
    uploads.sort_by(|a, b| (a.0, a.1.0).cmp(&(b.0, b.1.0)));
    let past_marker = |key: &str, id: &str| match (key_marker, id_marker) {
        (None, _) => true,
        (Some(km), None) => key > km,
        (Some(km), Some(im)) => (key, id) > (km, im),
    };
    let items = uploads
        .into_iter()
        .filter(|(key, (id, _))| past_marker(key, id));
    let page = walk(items, prefix, delimiter, key_marker, max);

    let mut w = XmlOut::document("ListMultipartUploadsResult");
    w.element("Bucket", req.bucket())
        .element("KeyMarker", key_marker.unwrap_or_default())
        .element("UploadIdMarker", id_marker.unwrap_or_default());
    if page.truncated {
        let last_id = match (page.items.last(), &page.last) {
            (Some((key, (id, _))), Some(last)) if key == last => *id,
            _ => "",
        };
        w.element("NextKeyMarker", page.last.as_deref().unwrap_or_default())
            .element("NextUploadIdMarker", last_id);
    }
    w.element("Prefix", prefix)
        .element_opt("Delimiter", delimiter)
        .element("MaxUploads", &max.to_string())
        .element("IsTruncated", bool_text(page.truncated));
    for (key, (id, upload)) in &page.items {
        w.open("Upload").element("Key", key).element("UploadId", id);
        write_upload_parties(&mut w, upload)
            .element("Initiated", &iso8601(upload.initiated))
            .close("Upload");
    }
    for p in &page.prefixes {
        w.open("CommonPrefixes")
            .element("Prefix", p)
            .close("CommonPrefixes");
    }
    Ok(Reply::xml(w.finish("ListMultipartUploadsResult")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn keys<'a>(page: &'a Page<'a, ()>) -> (Vec<&'a str>, Vec<&'a str>) {
        (
            page.items.iter().map(|(k, _)| *k).collect(),
            page.prefixes.iter().map(String::as_str).collect(),
        )
    }

    #[test]
    fn groups_and_continues_after_a_prefix() {
        let all = ["a", "d/1", "d/2", "d/3", "e", "f/x"];
        let items = || all.iter().map(|k| (*k, ()));
        let page = walk(items(), "", Some("/"), None, 2);
        assert_eq!(keys(&page), (vec!["a"], vec!["d/"]));
        assert!(page.truncated);
        let marker = page.last.as_deref();
        let rest = walk(
            items().filter(|(k, _)| Some(*k) > marker),
            "",
            Some("/"),
            marker,
            10,
        );
        assert_eq!(keys(&rest), (vec!["e"], vec!["f/"]));
        assert!(!rest.truncated);
        assert!(decode_token(&encode_token("d/")).as_deref() == Some("d/"));
        assert!(decode_token("bm9wZQ==").is_none());
    }
}
