//! What a resumable transfer keeps on disk between processes, and how it is written.
//!
//! An [`UploadFlow`](super::upload::UploadFlow) made resumable hands its [`UploadState`] to
//! the caller's [`SaveFn`] once the multipart upload exists and after every part the server
//! acknowledged; the runtime writes those bytes to the state file the caller named. A later
//! process reads the file back ([`UploadState::decode`]) and starts the same upload from it:
//! the flow lists the upload's parts, keeps those whose number, length and ETag match the
//! saved ones, and sends only the others. The format is a few lines of text, one per part,
//! with names and ETags in hex so that no key can break a line.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::error::{Error, InputError};
use crate::name::{BucketName, ObjectKey};

/// Largest state file read back: 10,000 parts of ~100 bytes, with room to spare.
pub const MAX_STATE_SIZE: u64 = 4 << 20;

const MAGIC: &str = "s3-rs upload state v1";

/// Writes a transfer's state where the caller asked (a runtime writes it to a file, beside
/// and then over the old one, so a crash never leaves half a state).
pub type SaveFn = Box<dyn FnMut(&[u8]) -> Result<(), Error> + Send>;

/// One part the server acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedPart {
    /// Its length.
    pub len: u64,
    /// The ETag the server gave it, with its quotes: the part's MD5 (it carried
    /// `Content-MD5`) unless the object is encrypted.
    pub etag: String,
}

/// A multipart upload in progress: enough to resume it in another process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadState {
    /// The bucket.
    pub bucket: BucketName,
    /// The key.
    pub key: ObjectKey,
    /// The object's length.
    pub length: u64,
    /// The size of every part but the last.
    pub part_size: u64,
    /// The multipart upload's id.
    pub upload_id: String,
    /// The parts acknowledged so far, by number.
    pub parts: BTreeMap<u16, SavedPart>,
}

impl UploadState {
    /// The state as the bytes of a state file.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = String::with_capacity(128 + 80 * self.parts.len());
        let _ = writeln!(out, "{MAGIC}");
        let _ = writeln!(out, "bucket {}", self.bucket.as_str());
        let _ = writeln!(out, "key {}", hex(self.key.as_str()));
        let _ = writeln!(out, "length {}", self.length);
        let _ = writeln!(out, "part-size {}", self.part_size);
        let _ = writeln!(out, "upload-id {}", hex(&self.upload_id));
        for (n, part) in &self.parts {
            let _ = writeln!(out, "part {n} {} {}", part.len, hex(&part.etag));
        }
        out.into_bytes()
    }

    /// Reads a state file back.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] (`state`) naming the line that is malformed, for a
    /// file of another format or over [`MAX_STATE_SIZE`].
    pub fn decode(bytes: &[u8]) -> Result<Self, InputError> {
        if bytes.len() as u64 > MAX_STATE_SIZE {
            return Err(bad(0, "larger than any upload's state"));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| bad(0, "not UTF-8"))?;
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        if lines.next().map(|(_, l)| l) != Some(MAGIC) {
            return Err(bad(1, "not an s3-rs upload state"));
        }
        let mut field = |name: &str| -> Result<(usize, String), InputError> {
            let (at, line) = lines.next().ok_or_else(|| bad(0, "cut short"))?;
            let value = line.strip_prefix(name).and_then(|v| v.strip_prefix(' '));
            let value = value.ok_or_else(|| bad(at, "an unexpected line"))?;
            Ok((at, value.to_owned()))
        };
        let (at, bucket) = field("bucket")?;
        let bucket = BucketName::new(&bucket).map_err(|_| bad(at, "not a bucket name"))?;
        let (at, key) = field("key")?;
        let key = ObjectKey::new(&unhex(&key).ok_or_else(|| bad(at, "bad hex"))?)
            .map_err(|_| bad(at, "not an object key"))?;
        let (at, length) = field("length")?;
        let length = length.parse().map_err(|_| bad(at, "not a number"))?;
        let (at, part_size) = field("part-size")?;
        let part_size = part_size.parse().map_err(|_| bad(at, "not a number"))?;
        let (at, id) = field("upload-id")?;
        let upload_id = unhex(&id).ok_or_else(|| bad(at, "bad hex"))?;
        let mut parts = BTreeMap::new();
        for (at, line) in lines {
            let mut words = line.split(' ');
            let (Some("part"), Some(n), Some(len), Some(etag), None) = (
                words.next(),
                words.next(),
                words.next(),
                words.next(),
                words.next(),
            ) else {
                return Err(bad(at, "not a part"));
            };
            let n: u16 = n.parse().map_err(|_| bad(at, "not a part number"))?;
            let len = len.parse().map_err(|_| bad(at, "not a length"))?;
            let etag = unhex(etag).ok_or_else(|| bad(at, "bad hex"))?;
            if n == 0
                || n > crate::ops::MAX_PARTS
                || parts.insert(n, SavedPart { len, etag }).is_some()
            {
                return Err(bad(at, "a part number out of range or repeated"));
            }
        }
        Ok(UploadState {
            bucket,
            key,
            length,
            part_size,
            upload_id,
            parts,
        })
    }
}

fn bad(line: usize, why: &str) -> InputError {
    InputError::argument("state", format!("line {line}: {why}"))
}

fn hex(s: &str) -> String {
    s.bytes()
        .fold(String::with_capacity(2 * s.len()), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

fn unhex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> UploadState {
        let mut parts = BTreeMap::new();
        parts.insert(
            1,
            SavedPart {
                len: 5 << 20,
                etag: "\"abc\"".into(),
            },
        );
        parts.insert(
            3,
            SavedPart {
                len: 7,
                etag: "\"d e\nf\"".into(),
            },
        );
        UploadState {
            bucket: BucketName::new("bucket").unwrap(),
            key: ObjectKey::new("dir/a key\nwith a newline").unwrap(),
            length: (10 << 20) + 7,
            part_size: 5 << 20,
            upload_id: "2~x y".into(),
            parts,
        }
    }

    #[test]
    fn states_round_trip() {
        let s = state();
        assert_eq!(UploadState::decode(&s.encode()).unwrap(), s);
    }

    #[test]
    fn damaged_states_are_typed_errors() {
        let good = String::from_utf8(state().encode()).unwrap();
        let cases = [
            String::new(),
            "something else\n".to_owned(),
            good.replace("length ", "length x"),
            good.replace("part 3", "part 0"),
            good.replace("part 3", "part 1"),
            good.replace("part 3", "part 10001"),
            good.replace("part 3 7", "part 3 7 8"),
            good.lines().take(4).collect::<Vec<_>>().join("\n"),
            format!("{good}garbage\n"),
            good.replace("key 6", "key z"),
        ];
        for case in cases {
            let e = UploadState::decode(case.as_bytes()).unwrap_err();
            assert!(e.to_string().starts_with("state: line"), "{e}");
        }
        let huge = vec![b'a'; MAX_STATE_SIZE as usize + 1];
        assert!(UploadState::decode(&huge).is_err());
        assert!(UploadState::decode(&[0xff, 0xfe]).is_err());
    }
}
