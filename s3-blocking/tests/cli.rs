//! The `s3` command-line example against every server: buckets made and removed, files and
//! directory trees copied up and down byte for byte, listings, presigned URLs, and the exit
//! codes and messages a shell user expects.

use std::path::Path;
use std::process::{Command, Output};

use test_support::{Server, unique_bucket};

fn s3(server: &Server, args: &[&str]) -> Output {
    let exe = test_support::browser::example("s3-blocking", "s3");
    Command::new(exe)
        .args(args)
        .arg("--quiet")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("AWS_ENDPOINT_URL", &server.endpoint)
        .env("AWS_ACCESS_KEY_ID", &server.access_key)
        .env("AWS_SECRET_ACCESS_KEY", &server.secret_key)
        .env("AWS_REGION", &server.region)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run the s3 example")
}

fn ok(server: &Server, args: &[&str]) -> String {
    let out = s3(server, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{}: s3 {args:?} failed: {stderr}",
        server.name
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

fn command_line_round_trips(server: &Server) {
    let bucket = unique_bucket("cli");
    let url = format!("s3://{bucket}");
    assert!(ok(server, &["mb", &url]).contains(&format!("make_bucket: {bucket}")));
    assert!(ok(server, &["ls"]).lines().any(|l| l == bucket));

    let dir = test_support::files::temp_dir("cli");
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("a/b")).unwrap();
    std::fs::write(src.join("top.txt"), b"top level\n").unwrap();
    std::fs::write(src.join("a/one.bin"), vec![7u8; 70_000]).unwrap();
    std::fs::write(src.join("a/b/two.json"), b"{\"two\": 2}").unwrap();
    let big = test_support::files::make_file(&src, "big.bin", (9 << 20) + 5);

    let prefix = format!("{url}/tree");
    ok(server, &["cp", src.to_str().unwrap(), &prefix, "-r"]);
    let listing = ok(server, &["ls", &format!("{prefix}/")]);
    assert!(listing.contains("PRE a/"), "{listing}");
    assert!(
        listing.lines().any(|l| l.ends_with(" top.txt")),
        "{listing}"
    );
    let all = ok(server, &["ls", &format!("{prefix}/"), "-r"]);
    assert!(all.contains("tree/a/b/two.json"), "{all}");

    let back = dir.join("back");
    ok(server, &["cp", &prefix, back.to_str().unwrap(), "-r"]);
    assert_eq!(
        tree(&src),
        tree(&back),
        "the tree round-trips byte for byte"
    );

    // One file each way, and S3 to S3.
    ok(
        server,
        &["cp", big.to_str().unwrap(), &format!("{url}/single/")],
    );
    let single = dir.join("single.bin");
    ok(
        server,
        &[
            "cp",
            &format!("{url}/single/big.bin"),
            single.to_str().unwrap(),
        ],
    );
    assert_eq!(
        std::fs::read(&single).unwrap(),
        std::fs::read(&big).unwrap()
    );
    ok(
        server,
        &[
            "cp",
            &format!("{url}/tree/top.txt"),
            &format!("{url}/copied.txt"),
        ],
    );

    let presigned = ok(
        server,
        &["presign", &format!("{url}/copied.txt"), "--expires", "60"],
    );
    let got = test_support::http::request("GET", presigned.trim(), &[], b"").unwrap();
    assert_eq!((got.status, got.text().as_str()), (200, "top level\n"));

    // Refusals: a clear message on stderr and exit 1; a usage error exits 2.
    if server.caps.bucket_not_empty {
        let out = s3(server, &["rb", &url]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "a bucket with keys is not removed"
        );
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("s3: "));
    }
    let out = s3(server, &["cp", "a", "b"]);
    assert_eq!(out.status.code(), Some(2));

    ok(server, &["rm", &format!("{url}/"), "-r"]);
    assert_eq!(ok(server, &["ls", &format!("{url}/"), "-r"]), "");
    assert!(ok(server, &["rb", &url]).contains("remove_bucket"));
    let out = s3(server, &["ls", &format!("{url}/")]);
    assert_eq!(out.status.code(), Some(1), "the bucket is gone");
    let _ = std::fs::remove_dir_all(&dir);
}
test_support::scenario!(command_line_round_trips);
