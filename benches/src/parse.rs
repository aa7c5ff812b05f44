//! XML parsing workloads. Every parser gets the same bytes; results are compared before timing.

use std::fmt::Write as _;
use std::hint::black_box;
use std::rc::Rc;

use http::{HeaderMap, HeaderValue, StatusCode};
use quick_xml::events::Event;
use s3_proto::ops::{GetBucketAcl, GetBucketCors, ListObjectsV2};
use s3_proto::{BucketName, ErrorCode, Response, ServiceError};

use crate::harness::Workload;

/// Keys in the ListObjectsV2 page.
pub const KEYS: usize = 1000;

/// A splitmix64 step: deterministic, dependency-free variety for the generated page.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A ListObjectsV2 page of `KEYS` objects with `fetch-owner=true`, as AWS sends it (no
/// whitespace between elements, quotes in ETags escaped).
pub fn list_page() -> String {
    let mut page = String::with_capacity(400 * KEYS);
    page.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult \
         xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>photo-archive</Name>\
         <Prefix>photos/</Prefix><KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys>\
         <IsTruncated>true</IsTruncated><NextContinuationToken>\
         1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>",
    );
    for i in 0..KEYS as u64 {
        let r = mix(i);
        let _ = write!(
            page,
            "<Contents><Key>photos/2024/{:02}/IMG_{:06}.jpg</Key>\
             <LastModified>2024-{:02}-{:02}T{:02}:{:02}:{:02}.000Z</LastModified>\
             <ETag>&quot;{:016x}{:016x}&quot;</ETag><Size>{}</Size>\
             <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>\
             <DisplayName>photo-team</DisplayName></Owner>\
             <StorageClass>{}</StorageClass></Contents>",
            1 + i % 12,
            100_000 + i,
            1 + i % 12,
            1 + r % 28,
            r % 24,
            (r >> 8) % 60,
            (r >> 16) % 60,
            r,
            mix(r),
            (r >> 24) % 8_000_000,
            if i % 7 == 0 {
                "STANDARD_IA"
            } else {
                "STANDARD"
            },
        );
    }
    page.push_str("</ListBucketResult>");
    page
}

/// The fields every parser extracts from a `<Contents>`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub last_modified: String,
    pub etag: String,
    pub size: u64,
    pub storage_class: String,
    pub owner_id: String,
    pub owner_name: String,
}

/// Floor: a raw quick-xml event loop that copies the same fields into owned values, with no
/// depth or size checks and no error type of its own.
pub fn floor_parse(xml: &[u8]) -> (Vec<Entry>, Option<String>) {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut out = Vec::with_capacity(KEYS);
    let mut cur: Option<Entry> = None;
    let mut token = None;
    let mut text = String::new();
    loop {
        match reader.read_event().expect("well-formed") {
            Event::Start(e) => {
                if e.local_name().as_ref() == b"Contents" {
                    cur = Some(Entry::default());
                }
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.decode().expect("utf-8")),
            Event::GeneralRef(r) => match r.resolve_char_ref().expect("valid") {
                Some(c) => text.push(c),
                None => text.push(match r.as_ref() {
                    b"quot" => '"',
                    b"amp" => '&',
                    b"lt" => '<',
                    b"gt" => '>',
                    b"apos" => '\'',
                    _ => panic!("unknown entity"),
                }),
            },
            Event::End(e) => {
                let name = e.local_name();
                if name.as_ref() == b"Contents" {
                    out.extend(cur.take());
                } else if name.as_ref() == b"NextContinuationToken" {
                    token = Some(std::mem::take(&mut text));
                } else if let Some(c) = &mut cur {
                    let field = match name.as_ref() {
                        b"Key" => &mut c.key,
                        b"LastModified" => &mut c.last_modified,
                        b"ETag" => &mut c.etag,
                        b"StorageClass" => &mut c.storage_class,
                        b"ID" => &mut c.owner_id,
                        b"DisplayName" => &mut c.owner_name,
                        b"Size" => {
                            c.size = text.parse().expect("number");
                            continue;
                        }
                        _ => continue,
                    };
                    *field = std::mem::take(&mut text);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (out, token)
}

/// aws-smithy-xml, walked the way aws-sdk-s3's generated deserializer walks it.
pub fn smithy_parse(xml: &str) -> (Vec<Entry>, Option<String>) {
    use aws_smithy_xml::decode::{Document, try_data};
    let mut doc = Document::new(xml);
    let mut root = doc.root_element().expect("root");
    let mut out = Vec::with_capacity(KEYS);
    let mut token = None;
    while let Some(mut tag) = root.next_tag() {
        match tag.start_el() {
            s if s.matches("Contents") => {
                let mut c = Entry::default();
                while let Some(mut f) = tag.next_tag() {
                    match f.start_el() {
                        s if s.matches("Key") => c.key = try_data(&mut f).expect("text").into(),
                        s if s.matches("LastModified") => {
                            c.last_modified = try_data(&mut f).expect("text").into();
                        }
                        s if s.matches("ETag") => c.etag = try_data(&mut f).expect("text").into(),
                        s if s.matches("Size") => {
                            c.size = try_data(&mut f).expect("text").parse().expect("number");
                        }
                        s if s.matches("StorageClass") => {
                            c.storage_class = try_data(&mut f).expect("text").into();
                        }
                        s if s.matches("Owner") => {
                            while let Some(mut o) = f.next_tag() {
                                match o.start_el() {
                                    s if s.matches("ID") => {
                                        c.owner_id = try_data(&mut o).expect("text").into();
                                    }
                                    s if s.matches("DisplayName") => {
                                        c.owner_name = try_data(&mut o).expect("text").into();
                                    }
                                    _ => {}
                                }
                            }
                        }
                        _ => {}
                    }
                }
                out.push(c);
            }
            s if s.matches("NextContinuationToken") => {
                token = Some(try_data(&mut tag).expect("text").into_owned());
            }
            _ => {}
        }
    }
    (out, token)
}

fn list_op() -> ListObjectsV2 {
    ListObjectsV2::new(BucketName::new("photo-archive").expect("valid"))
}

fn bucket() -> BucketName {
    BucketName::new("photo-archive").expect("valid")
}

pub fn acl_doc() -> String {
    let grantee = "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"";
    let owner = "<ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>\
                 <DisplayName>photo-team</DisplayName>";
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AccessControlPolicy \
         xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner>{owner}</Owner>\
         <AccessControlList>\
         <Grant><Grantee {grantee} xsi:type=\"CanonicalUser\">{owner}</Grantee>\
         <Permission>FULL_CONTROL</Permission></Grant>\
         <Grant><Grantee {grantee} xsi:type=\"Group\">\
         <URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee>\
         <Permission>READ</Permission></Grant>\
         <Grant><Grantee {grantee} xsi:type=\"Group\">\
         <URI>http://acs.amazonaws.com/groups/s3/LogDelivery</URI></Grantee>\
         <Permission>WRITE</Permission></Grant>\
         <Grant><Grantee {grantee} xsi:type=\"AmazonCustomerByEmail\">\
         <EmailAddress>auditor@example.com</EmailAddress></Grantee>\
         <Permission>READ_ACP</Permission></Grant>\
         </AccessControlList></AccessControlPolicy>"
    )
}

pub fn cors_doc() -> String {
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CORSConfiguration \
     xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
     <CORSRule><ID>web</ID><AllowedOrigin>https://www.example.com</AllowedOrigin>\
     <AllowedOrigin>https://app.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>\
     <AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader>\
     <ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-request-id</ExposeHeader>\
     <MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>\
     <CORSRule><ID>upload</ID><AllowedOrigin>https://app.example.com</AllowedOrigin>\
     <AllowedMethod>PUT</AllowedMethod><AllowedMethod>POST</AllowedMethod>\
     <AllowedMethod>DELETE</AllowedMethod><AllowedHeader>content-type</AllowedHeader>\
     <AllowedHeader>x-amz-*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>\
     <MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>\
     <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>\
     </CORSRule></CORSConfiguration>"
        .to_owned()
}

pub fn error_doc() -> String {
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
     <Message>The specified key does not exist.</Message>\
     <Key>photos/2024/03/IMG_100123.jpg</Key><RequestId>4442587FB7D0A2F9</RequestId>\
     <HostId>eftixk72aD6Ap51TnqcoF8eFidJG9Z/2mkiDFu8yU9AS1ed4OpIszj7UDNEHGran</HostId>\
     </Error>"
        .to_owned()
}

fn error_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "x-amz-request-id",
        HeaderValue::from_static("4442587FB7D0A2F9"),
    );
    h.insert(
        "x-amz-id-2",
        HeaderValue::from_static(
            "eftixk72aD6Ap51TnqcoF8eFidJG9Z/2mkiDFu8yU9AS1ed4OpIszj7UDNEHGran",
        ),
    );
    h.insert("content-type", HeaderValue::from_static("application/xml"));
    h
}

/// Checks all four list parsers read the same page the same way, and the other documents
/// parse as expected.
pub fn verify() {
    let page = list_page();
    let headers = HeaderMap::new();
    let ours = s3_proto::config::finish(
        &list_op(),
        Response::new(StatusCode::OK, &headers, page.as_bytes()),
    )
    .expect("ours parses");
    let (floor, floor_token) = floor_parse(page.as_bytes());
    let (smithy, smithy_token) = smithy_parse(&page);
    let rusty = rusty_s3::actions::ListObjectsV2::parse_response(&page).expect("rusty-s3 parses");
    assert_eq!(floor.len(), KEYS);
    assert_eq!(smithy, floor, "aws-smithy-xml = floor");
    assert_eq!(smithy_token, floor_token);
    assert_eq!(ours.contents.len(), KEYS);
    assert_eq!(rusty.contents.len(), KEYS);
    assert_eq!(ours.next_continuation_token, floor_token);
    assert_eq!(rusty.next_continuation_token, floor_token);
    for ((o, f), r) in ours.contents.iter().zip(&floor).zip(&rusty.contents) {
        assert_eq!(o.key, f.key);
        assert_eq!(o.etag.as_deref(), Some(f.etag.as_str()));
        assert_eq!(o.size, f.size);
        assert_eq!(o.storage_class.as_deref(), Some(f.storage_class.as_str()));
        assert!(o.last_modified.is_some());
        assert_eq!(r.key, f.key);
        assert_eq!(r.etag.as_deref(), Some(f.etag.as_str()));
        assert_eq!(r.size, Some(f.size));
        assert_eq!(r.last_modified.as_deref(), Some(f.last_modified.as_str()));
    }

    let acl = s3_proto::config::finish(
        &GetBucketAcl::new(bucket()),
        Response::new(StatusCode::OK, &headers, acl_doc().as_bytes()),
    )
    .expect("ACL parses");
    assert_eq!(acl.grants.len(), 4);
    let cors = s3_proto::config::finish(
        &GetBucketCors::new(bucket()),
        Response::new(StatusCode::OK, &headers, cors_doc().as_bytes()),
    )
    .expect("CORS parses");
    assert_eq!(cors.rules.len(), 3);
    let err = ServiceError::from_response(
        StatusCode::NOT_FOUND,
        &error_headers(),
        error_doc().as_bytes(),
    );
    assert_eq!(err.code, ErrorCode::NoSuchKey);
}

/// All parsing workloads; `bytes` is the document size.
pub fn workloads() -> Vec<Workload> {
    let mut w = Vec::new();
    let page = Rc::new(list_page());
    let n = page.len();
    {
        let (page, op, headers) = (page.clone(), list_op(), HeaderMap::new());
        w.push(Workload::new("parse", n, move || {
            let resp = Response::new(StatusCode::OK, &headers, black_box(page.as_bytes()));
            black_box(s3_proto::config::finish(&op, resp).expect("parses"));
        }));
    }
    {
        let page = page.clone();
        w.push(Workload::new("parse-rusty", n, move || {
            black_box(
                rusty_s3::actions::ListObjectsV2::parse_response(black_box(&page)).expect("parses"),
            );
        }));
    }
    {
        let page = page.clone();
        w.push(Workload::new("parse-smithy", n, move || {
            black_box(smithy_parse(black_box(&page)));
        }));
    }
    w.push(Workload::new("parse-floor", n, move || {
        black_box(floor_parse(black_box(page.as_bytes())));
    }));
    {
        let (doc, op, headers) = (acl_doc(), GetBucketAcl::new(bucket()), HeaderMap::new());
        w.push(Workload::new("parse-acl", doc.len(), move || {
            let resp = Response::new(StatusCode::OK, &headers, black_box(doc.as_bytes()));
            black_box(s3_proto::config::finish(&op, resp).expect("parses"));
        }));
    }
    {
        let (doc, op, headers) = (cors_doc(), GetBucketCors::new(bucket()), HeaderMap::new());
        w.push(Workload::new("parse-cors", doc.len(), move || {
            let resp = Response::new(StatusCode::OK, &headers, black_box(doc.as_bytes()));
            black_box(s3_proto::config::finish(&op, resp).expect("parses"));
        }));
    }
    {
        let (doc, headers) = (error_doc(), error_headers());
        w.push(Workload::new("parse-error", doc.len(), move || {
            black_box(ServiceError::from_response(
                StatusCode::NOT_FOUND,
                &headers,
                black_box(doc.as_bytes()),
            ));
        }));
    }
    w
}
