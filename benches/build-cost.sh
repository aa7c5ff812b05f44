#!/usr/bin/env bash
# Cold release build time and unique package count of a hello-world using each S3 client:
#
#   ./build-cost.sh              a b c   (s3-blocking, s3-async, rusty-s3 + ureq)
#   ./build-cost.sh a b c d      also aws-sdk-s3 + tokio (slow: several minutes)
#   ./build-cost.sh a u          s3-blocking against ureq alone (the floor of any ureq client)
#
# Each crate builds in its own temp dir with its own target dir and -j2 (JOBS to change),
# after `cargo fetch`, so the time is compilation only. Wall time depends on the machine's load;
# CPU time (user + sys of cargo and the compilers) much less so. Package count: unique lines of
# `cargo tree -e normal` (the hello crate itself included).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
jobs=${JOBS:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

deps_a="s3-blocking = { path = \"$root/s3-blocking\" }"
main_a='let c = s3_blocking::Client::new(s3_proto::Config::aws("us-east-1"), s3_proto::Credentials::new("a", "b"));
    let op = s3_proto::ops::ListBuckets::new();
    println!("{:?}", c.send(&op).is_ok());'
deps_b="s3-async = { path = \"$root/s3-tokio\" }
tokio = { version = \"1\", features = [\"rt\", \"macros\"] }"
main_b='let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let c = s3_async::Client::new(s3_proto::Config::aws("us-east-1"), s3_proto::Credentials::new("a", "b"));
        let op = s3_proto::ops::ListBuckets::new();
        println!("{:?}", c.send(&op).await.is_ok());
    });'
deps_c='rusty-s3 = "0.11"
ureq = "3"'
main_c='use rusty_s3::S3Action;
    let bucket = rusty_s3::Bucket::new("https://s3.amazonaws.com".parse().unwrap(), rusty_s3::UrlStyle::VirtualHost, "b", "us-east-1").unwrap();
    let creds = rusty_s3::Credentials::new("a", "b");
    let url = rusty_s3::actions::ListObjectsV2::new(&bucket, Some(&creds)).sign(std::time::Duration::from_secs(60));
    let body = ureq::get(url.as_str()).call().map(|r| r.into_body().read_to_string().is_ok());
    println!("{:?}", body.is_ok());'
deps_u='ureq = "3"'
main_u='let body = ureq::get("https://s3.amazonaws.com/").call().map(|r| r.into_body().read_to_string().is_ok());
    println!("{:?}", body.is_ok());'
deps_d='aws-config = { version = "1", features = ["behavior-version-latest"] }
aws-sdk-s3 = "1"
tokio = { version = "1", features = ["rt", "macros"] }'
main_d='let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let conf = aws_config::load_from_env().await;
        let c = aws_sdk_s3::Client::new(&conf);
        println!("{:?}", c.list_buckets().send().await.is_ok());
    });'

declare -A name=([a]="s3-blocking" [b]="s3-async" [c]="rusty-s3 + ureq" [d]="aws-sdk-s3 + tokio" [u]="ureq alone")
declare -A extra=([a]="s3-proto = { path = \"$root/s3-proto\" }" [b]="s3-proto = { path = \"$root/s3-proto\" }" [c]="" [d]="" [u]="")

printf '| Client | cold release build, -j%s, wall | CPU (user + sys) | unique packages |\n|---|--:|--:|--:|\n' "$jobs"
for k in "${@:-a b c}"; do
  for key in $k; do
    dir="$tmp/hello-$key"
    mkdir -p "$dir/src"
    deps_var="deps_$key"; main_var="main_$key"
    cat > "$dir/Cargo.toml" <<TOML
[package]
name = "hello-$key"
version = "0.0.0"
edition = "2024"
publish = false

[workspace]

[dependencies]
${!deps_var}
${extra[$key]}
TOML
    printf 'fn main() {\n    %s\n}\n' "${!main_var}" > "$dir/src/main.rs"
    (cd "$dir" && cargo fetch --quiet)
    (cd "$dir" && /usr/bin/time -o "$tmp/time-$key" -f '%e %U %S' \
        cargo build --release --quiet -j "$jobs" >"$tmp/build-$key.log" 2>&1) || {
        cat "$tmp/build-$key.log" >&2
        exit 1
    }
    read -r wall user sys <"$tmp/time-$key"
    cpu=$(echo "$user + $sys" | bc)
    pkgs=$(cd "$dir" && cargo tree --prefix none -e normal | sed 's/ (\*)$//' | sort -u | wc -l)
    printf '| %s | %.1f s | %.1f s | %d |\n' "${name[$key]}" "$wall" "$cpu" "$pkgs"
  done
done
