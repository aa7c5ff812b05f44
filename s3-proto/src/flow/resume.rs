//! What a resumable transfer keeps on disk between processes, and how it is written.
//!
//! An [`UploadFlow`](super::upload::UploadFlow) made resumable hands its [`UploadState`] to
//! the caller's [`SaveFn`] once the multipart upload exists and after every part the server
//! acknowledged; the runtime writes those bytes to the state file the caller named. A later
//! process reads the file back ([`UploadState::decode`]) and starts the same upload from it:
//! the flow lists the upload's parts, keeps those whose number, length and ETag match the
//! saved ones, and sends only the others. The format is a few lines of text, one per part,
//! with names and ETags in hex so that no key can break a line.
//!
//! A resumable [`DownloadFlow`](super::download::DownloadFlow) keeps a [`DownloadState`]
//! likewise: the object version it is pinned to (ETag, version id, length) and the spans of
//! the partial file that hold finished ranges. A later process heads the object: the same
//! version fetches only what is missing, another one starts over.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::error::{Error, InputError};
use crate::name::{BucketName, ObjectKey};

/// Largest state file read back: 10,000 parts of ~100 bytes, with room to spare.
pub const MAX_STATE_SIZE: u64 = 4 << 20;

const MAGIC: &str = "s3-rs upload state v1";
const DOWNLOAD_MAGIC: &str = "s3-rs download state v1";

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
        let (mut lines, bucket, key) = StateLines::open(bytes, MAGIC, "upload")?;
        let (at, length) = lines.field("length")?;
        let length = length.parse().map_err(|_| bad(at, "not a number"))?;
        let (at, part_size) = lines.field("part-size")?;
        let part_size = part_size.parse().map_err(|_| bad(at, "not a number"))?;
        let (at, id) = lines.field("upload-id")?;
        let upload_id = unhex(id).ok_or_else(|| bad(at, "bad hex"))?;
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

/// A download in progress: the version it is pinned to, and which bytes of the partial file
/// are final.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadState {
    /// The bucket.
    pub bucket: BucketName,
    /// The key.
    pub key: ObjectKey,
    /// The ETag every range was pinned to, with its quotes.
    pub etag: String,
    /// The version id, when the bucket has versions.
    pub version_id: Option<String>,
    /// The object's length.
    pub length: u64,
    /// Spans of the object already written whole to the partial file: start → end
    /// (exclusive), disjoint and never touching.
    pub done: BTreeMap<u64, u64>,
}

impl DownloadState {
    /// A state with nothing done yet.
    pub fn new(bucket: BucketName, key: ObjectKey, etag: String, length: u64) -> Self {
        DownloadState {
            bucket,
            key,
            etag,
            version_id: None,
            length,
            done: BTreeMap::new(),
        }
    }

    /// Records `start..end` as written, merging it with the spans it touches.
    pub fn add(&mut self, mut start: u64, mut end: u64) {
        if start >= end {
            return;
        }
        let touching: Vec<(u64, u64)> = self
            .done
            .range(..=end)
            .filter(|&(_, &e)| e >= start)
            .map(|(&s, &e)| (s, e))
            .collect();
        for (s, e) in touching {
            self.done.remove(&s);
            (start, end) = (start.min(s), end.max(e));
        }
        self.done.insert(start, end);
    }

    /// Bytes recorded as written.
    pub fn done_bytes(&self) -> u64 {
        self.done.iter().map(|(s, e)| e - s).sum()
    }

    /// The state as the bytes of a state file.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = String::with_capacity(192 + 40 * self.done.len());
        let _ = writeln!(out, "{DOWNLOAD_MAGIC}");
        let _ = writeln!(out, "bucket {}", self.bucket.as_str());
        let _ = writeln!(out, "key {}", hex(self.key.as_str()));
        let _ = writeln!(out, "etag {}", hex(&self.etag));
        let version = self.version_id.as_deref().map_or("-".to_owned(), hex);
        let _ = writeln!(out, "version {version}");
        let _ = writeln!(out, "length {}", self.length);
        for (start, end) in &self.done {
            let _ = writeln!(out, "done {start} {end}");
        }
        out.into_bytes()
    }

    /// Reads a state file back.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] (`state`) naming the line that is malformed (spans
    /// out of order, overlapping or past the length included), for a file of another format
    /// or over [`MAX_STATE_SIZE`].
    pub fn decode(bytes: &[u8]) -> Result<Self, InputError> {
        let (mut lines, bucket, key) = StateLines::open(bytes, DOWNLOAD_MAGIC, "download")?;
        let (at, etag) = lines.field("etag")?;
        let etag = unhex(etag).ok_or_else(|| bad(at, "bad hex"))?;
        let (at, version) = lines.field("version")?;
        let version_id = match version {
            "-" => None,
            v => Some(unhex(v).ok_or_else(|| bad(at, "bad hex"))?),
        };
        let (at, length) = lines.field("length")?;
        let length: u64 = length.parse().map_err(|_| bad(at, "not a number"))?;
        let mut done = BTreeMap::new();
        let mut last_end = None;
        for (at, line) in lines {
            let mut words = line.split(' ');
            let (Some("done"), Some(start), Some(end), None) =
                (words.next(), words.next(), words.next(), words.next())
            else {
                return Err(bad(at, "not a span"));
            };
            let start: u64 = start.parse().map_err(|_| bad(at, "not an offset"))?;
            let end: u64 = end.parse().map_err(|_| bad(at, "not an offset"))?;
            if start >= end || end > length || last_end.is_some_and(|last| start <= last) {
                return Err(bad(at, "a span empty, past the end, or out of order"));
            }
            last_end = Some(end);
            done.insert(start, end);
        }
        Ok(DownloadState {
            bucket,
            key,
            etag,
            version_id,
            length,
            done,
        })
    }
}

/// A state file's lines after the first, numbered from 1 as an editor shows them: its named
/// fields one by one ([`StateLines::field`]), then, iterated, the repeated lines.
struct StateLines<'a>(std::iter::Enumerate<std::str::Lines<'a>>);

impl<'a> StateLines<'a> {
    /// Checks a state file of `what` ("upload", "download") whose first line is `magic`, and
    /// reads the bucket and key every state starts with.
    fn open(
        bytes: &'a [u8],
        magic: &str,
        what: &str,
    ) -> Result<(Self, BucketName, ObjectKey), InputError> {
        if bytes.len() as u64 > MAX_STATE_SIZE {
            return Err(bad(0, &format!("larger than any {what}'s state")));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| bad(0, "not UTF-8"))?;
        let mut lines = StateLines(text.lines().enumerate());
        if lines.next().map(|(_, l)| l) != Some(magic) {
            return Err(bad(1, &format!("not an s3-rs {what} state")));
        }
        let (at, bucket) = lines.field("bucket")?;
        let bucket = BucketName::new(bucket).map_err(|_| bad(at, "not a bucket name"))?;
        let (at, key) = lines.field("key")?;
        let key = ObjectKey::new(&unhex(key).ok_or_else(|| bad(at, "bad hex"))?)
            .map_err(|_| bad(at, "not an object key"))?;
        Ok((lines, bucket, key))
    }

    /// The next line, which must be `name` and a value: its number and the value.
    fn field(&mut self, name: &str) -> Result<(usize, &'a str), InputError> {
        let (at, line) = self.next().ok_or_else(|| bad(0, "cut short"))?;
        let value = line.strip_prefix(name).and_then(|v| v.strip_prefix(' '));
        Ok((at, value.ok_or_else(|| bad(at, "an unexpected line"))?))
    }
}

impl<'a> Iterator for StateLines<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<(usize, &'a str)> {
        self.0.next().map(|(i, l)| (i + 1, l))
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

    fn download_state() -> DownloadState {
        let mut s = DownloadState::new(
            BucketName::new("bucket").unwrap(),
            ObjectKey::new("a key\nwith a newline").unwrap(),
            "\"abc-3\"".into(),
            100,
        );
        s.add(10, 20);
        s.add(40, 50);
        s
    }

    #[test]
    fn download_spans_merge_and_round_trip() {
        let mut s = download_state();
        assert_eq!(DownloadState::decode(&s.encode()).unwrap(), s);
        s.add(20, 30);
        s.add(35, 40);
        s.add(5, 12);
        s.add(7, 7);
        assert_eq!(
            s.done.iter().map(|(&a, &b)| (a, b)).collect::<Vec<_>>(),
            [(5, 30), (35, 50)]
        );
        assert_eq!(s.done_bytes(), 40);
        s.add(0, 100);
        assert_eq!(s.done.len(), 1);
        s.version_id = Some("v 1".into());
        assert_eq!(DownloadState::decode(&s.encode()).unwrap(), s);
        assert!(
            UploadState::decode(&s.encode()).is_err(),
            "not an upload's state"
        );
    }

    #[test]
    fn damaged_download_states_are_typed_errors() {
        let good = String::from_utf8(download_state().encode()).unwrap();
        let cases = [
            String::new(),
            good.replace("length 100", "length x"),
            good.replace("done 40 50", "done 40 101"),
            good.replace("done 40 50", "done 15 30"),
            good.replace("done 40 50", "done 20 30"),
            good.replace("done 40 50", "done 50 40"),
            good.replace("done 40 50", "done 40"),
            good.replace("version -", "version z"),
            good.lines().take(4).collect::<Vec<_>>().join("\n"),
        ];
        for case in cases {
            let e = DownloadState::decode(case.as_bytes()).unwrap_err();
            assert!(e.to_string().starts_with("state: line"), "{case}: {e}");
        }
    }
}
