//! A small S3 command line on the blocking client: `ls`, `cp` (local ↔ S3 both ways,
//! recursive, S3 → S3), `rm`, `mb`, `rb` and `presign`, with a progress bar on transfers.
//!
//! ```sh
//! cargo run -p s3-blocking --example s3 -- ls                       # buckets
//! cargo run -p s3-blocking --example s3 -- mb s3://my-bucket
//! cargo run -p s3-blocking --example s3 -- cp ./photos s3://my-bucket/photos -r
//! cargo run -p s3-blocking --example s3 -- ls s3://my-bucket/photos/
//! cargo run -p s3-blocking --example s3 -- cp s3://my-bucket/photos ./back -r
//! cargo run -p s3-blocking --example s3 -- presign s3://my-bucket/photos/cat.jpg --expires 600
//! cargo run -p s3-blocking --example s3 -- rm s3://my-bucket/photos -r
//! cargo run -p s3-blocking --example s3 -- rb s3://my-bucket
//! ```
//!
//! Configured from the standard environment (`AWS_ENDPOINT_URL`, keys, region, profiles).
//! Exit status: 0 on success, 1 when S3 or the filesystem refused, 2 for a usage error.
//! `--quiet` hides the progress bars.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use s3_blocking::proto::flow::copy::CopyOptions;
use s3_blocking::proto::time::to_iso8601;
use s3_blocking::{Bucket, Client, Error, ListEntry};

/// A failure to report: the message, and whether it was a usage error.
struct Failure(String, u8);

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure(e.to_string(), 1)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure(e.to_string(), 1)
    }
}

fn usage(message: &str) -> Failure {
    Failure(
        format!(
            "{message}\nusage: s3 ls [s3://BUCKET[/PREFIX]] [-r] | cp SRC DST [-r] | rm s3://BUCKET/KEY [-r] \
             | mb s3://BUCKET | rb s3://BUCKET | presign s3://BUCKET/KEY [--expires SECONDS] [--put]"
        ),
        2,
    )
}

/// The command line: the command, its positional arguments and flags.
struct Args {
    command: String,
    paths: Vec<String>,
    recursive: bool,
    quiet: bool,
    put: bool,
    expires: u64,
}

fn parse() -> Result<Args, Failure> {
    let mut args = std::env::args().skip(1);
    let command = args.next().ok_or_else(|| usage("no command"))?;
    let mut parsed = Args {
        command,
        paths: Vec::new(),
        recursive: false,
        quiet: false,
        put: false,
        expires: 3600,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-r" | "--recursive" => parsed.recursive = true,
            "-q" | "--quiet" => parsed.quiet = true,
            "--put" => parsed.put = true,
            "--expires" => {
                let value = args.next().and_then(|v| v.parse().ok());
                parsed.expires = value.ok_or_else(|| usage("--expires needs seconds"))?;
            }
            flag if flag.starts_with('-') => return Err(usage(&format!("unknown option {flag}"))),
            path => parsed.paths.push(path.to_owned()),
        }
    }
    Ok(parsed)
}

/// `s3://bucket/key` as (bucket, key); `None` for a local path.
fn s3_path(path: &str) -> Option<(String, String)> {
    let rest = path.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    Some((bucket.to_owned(), key.to_owned()))
}

fn main() -> ExitCode {
    match parse().and_then(|args| run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message, code)) => {
            eprintln!("s3: {message}");
            ExitCode::from(code)
        }
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let client = Client::from_env()?;
    let paths: Vec<&str> = args.paths.iter().map(String::as_str).collect();
    match (args.command.as_str(), paths.as_slice()) {
        ("ls", []) => {
            for bucket in client.list_buckets()? {
                println!("{}", bucket.name);
            }
            Ok(())
        }
        ("ls", [target]) => {
            let (bucket, prefix) = s3_path(target).ok_or_else(|| usage("ls takes s3://BUCKET"))?;
            list(&client.bucket(&bucket)?, &prefix, args.recursive)
        }
        ("cp", [from, to]) => copy(&client, from, to, args),
        ("rm", [target]) => {
            let (bucket, key) = s3_path(target).ok_or_else(|| usage("rm takes s3://BUCKET/KEY"))?;
            remove(&client.bucket(&bucket)?, &key, args.recursive)
        }
        ("mb", [target]) => {
            let (bucket, _) = s3_path(target).ok_or_else(|| usage("mb takes s3://BUCKET"))?;
            client.create_bucket(&bucket)?;
            println!("make_bucket: {bucket}");
            Ok(())
        }
        ("rb", [target]) => {
            let (bucket, _) = s3_path(target).ok_or_else(|| usage("rb takes s3://BUCKET"))?;
            client.delete_bucket(&bucket)?;
            println!("remove_bucket: {bucket}");
            Ok(())
        }
        ("presign", [target]) => {
            let (bucket, key) =
                s3_path(target).ok_or_else(|| usage("presign takes s3://BUCKET/KEY"))?;
            let (bucket, expires) = (client.bucket(&bucket)?, Duration::from_secs(args.expires));
            let url = match args.put {
                true => bucket.presign_put(&key, expires)?,
                false => bucket.presign_get(&key, expires)?,
            };
            println!("{url}");
            Ok(())
        }
        (command, _) => Err(usage(&format!("wrong arguments for `{command}`"))),
    }
}

fn list(bucket: &Bucket, prefix: &str, recursive: bool) -> Result<(), Failure> {
    let delimiter = (!recursive).then_some("/");
    // Like `aws s3 ls`: names relative to the listed "directory", whole keys when recursive.
    let dir = match recursive {
        true => "",
        false => prefix.rfind('/').map_or("", |i| &prefix[..=i]),
    };
    let shown = |key: &str| key.strip_prefix(dir).unwrap_or(key).to_owned();
    for entry in bucket.list(prefix, delimiter) {
        match entry? {
            ListEntry::Prefix(p) => println!("{:>37} PRE {}", "", shown(&p)),
            ListEntry::Object(o) => {
                let when = o.last_modified.map(to_iso8601).unwrap_or_default();
                println!("{when:>24} {:>12} {}", o.size, shown(&o.key));
            }
        }
    }
    Ok(())
}

fn remove(bucket: &Bucket, key: &str, recursive: bool) -> Result<(), Failure> {
    if !recursive {
        bucket.delete_key(key)?;
        println!("delete: s3://{}/{key}", bucket.name());
        return Ok(());
    }
    let keys: Vec<String> = bucket
        .list(key, None)
        .filter_map(|entry| match entry {
            Ok(ListEntry::Object(o)) => Some(Ok(o.key)),
            Ok(ListEntry::Prefix(_)) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<_, _>>()?;
    let out = bucket.delete_keys(keys.iter().map(String::as_str))?;
    for key in &keys {
        println!("delete: s3://{}/{key}", bucket.name());
    }
    match out.errors.first() {
        Some(e) => Err(Failure(
            format!("{} keys not deleted, first {e:?}", out.errors.len()),
            1,
        )),
        None => Ok(()),
    }
}

fn copy(client: &Client, from: &str, to: &str, args: &Args) -> Result<(), Failure> {
    match (s3_path(from), s3_path(to)) {
        (None, Some((bucket, key))) => {
            let bucket = client.bucket(&bucket)?;
            let from = Path::new(from);
            if args.recursive {
                for file in walk(from)? {
                    let relative = file.strip_prefix(from).unwrap_or(&file);
                    let key = join_key(&key, &relative.to_string_lossy().replace('\\', "/"));
                    upload(&bucket, &file, &key, args.quiet)?;
                }
                Ok(())
            } else {
                let key = match key.is_empty() || key.ends_with('/') {
                    true => format!("{key}{}", file_name(from)?),
                    false => key,
                };
                upload(&bucket, from, &key, args.quiet)
            }
        }
        (Some((bucket, key)), None) => {
            let bucket = client.bucket(&bucket)?;
            let to = PathBuf::from(to);
            if args.recursive {
                let prefix = match key.is_empty() || key.ends_with('/') {
                    true => key,
                    false => format!("{key}/"),
                };
                for entry in bucket.list(&prefix, None) {
                    let ListEntry::Object(object) = entry? else {
                        continue;
                    };
                    let target = to.join(object.key.strip_prefix(&prefix).unwrap_or(&object.key));
                    if let Some(dir) = target.parent() {
                        std::fs::create_dir_all(dir)?;
                    }
                    download(&bucket, &object.key, &target, args.quiet)?;
                }
                Ok(())
            } else {
                let target = match to.is_dir() {
                    true => to.join(key.rsplit('/').next().unwrap_or(&key)),
                    false => to,
                };
                download(&bucket, &key, &target, args.quiet)
            }
        }
        (Some((from_bucket, from_key)), Some((bucket, key))) => {
            let bucket = client.bucket(&bucket)?;
            bucket.copy_object(&key, &from_bucket, &from_key, CopyOptions::default())?;
            println!(
                "copy: s3://{from_bucket}/{from_key} to s3://{}/{key}",
                bucket.name()
            );
            Ok(())
        }
        (None, None) => Err(usage("cp needs an s3:// path on at least one side")),
    }
}

fn upload(bucket: &Bucket, file: &Path, key: &str, quiet: bool) -> Result<(), Failure> {
    let bar = progress(quiet, std::fs::metadata(file)?.len());
    let reporting = bar.clone();
    let bucket = bucket.with_progress(move |p| reporting.set_position(p.bytes));
    bucket.upload_file(key, file)?;
    bar.finish_and_clear();
    println!("upload: {} to s3://{}/{key}", file.display(), bucket.name());
    Ok(())
}

fn download(bucket: &Bucket, key: &str, file: &Path, quiet: bool) -> Result<(), Failure> {
    let bar = progress(quiet, 0);
    let reporting = bar.clone();
    let with_bar = bucket.with_progress(move |p| {
        if let Some(total) = p.total {
            reporting.set_length(total);
        }
        reporting.set_position(p.bytes);
    });
    with_bar.download_file(key, file)?;
    bar.finish_and_clear();
    println!(
        "download: s3://{}/{key} to {}",
        bucket.name(),
        file.display()
    );
    Ok(())
}

/// A byte progress bar on stderr (hidden when quiet or when stderr is no terminal).
fn progress(quiet: bool, len: u64) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// Every file under `dir`, depth first, in name order.
fn walk(dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    let mut files = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            files.extend(walk(&path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

fn file_name(path: &Path) -> Result<String, Failure> {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| usage(&format!("{} has no file name", path.display())))
}

/// `prefix` and `rest` joined by exactly one `/` (no leading slash for an empty prefix).
fn join_key(prefix: &str, rest: &str) -> String {
    match prefix.trim_end_matches('/') {
        "" => rest.to_owned(),
        prefix => format!("{prefix}/{rest}"),
    }
}
