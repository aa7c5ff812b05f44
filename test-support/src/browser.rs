//! Runs the `browser_upload` examples against a real server and loads their page in headless
//! Chromium (Debian's `chromium`, installed by scripts/install-chromium.sh), so the tests see
//! what a browser does with CORS, presigned PUT URLs and presigned POST forms.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::Server;

/// What one run produced: the example's exit code and output lines, and the page's DOM as
/// Chromium left it.
#[derive(Debug)]
pub struct Run {
    /// The example's exit code.
    pub code: Option<i32>,
    /// The example's standard output.
    pub output: Vec<String>,
    /// The text of the page's `#put` element.
    pub put: String,
    /// The text of the page's `#post` element.
    pub post: String,
}

/// The example binary `name` built beside the running test (`target/<profile>/examples/`),
/// built first when it is missing.
pub fn example(package: &str, name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let path = profile_dir.join("examples").join(name);
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", package, "--example", name])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "could not build example {name}");
    }
    path
}

/// Chromium's executable: `chromium` on the path. A missing browser is an error, never a skip.
pub fn chromium() -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        for name in ["chromium", "chromium-browser"] {
            let candidate = PathBuf::from(dir).join(name);
            if candidate.exists() {
                return candidate;
            }
        }
    }
    panic!("chromium is not installed: run scripts/install-chromium.sh (scripts/test.sh does)");
}

/// Runs example `exe` on `server` with `args` (the bucket first), loads its page in headless
/// Chromium and waits for the example to end.
pub fn run(exe: &std::path::Path, server: &Server, args: &[&str]) -> Run {
    run_via(exe, server, &server.endpoint, args)
}

/// [`run`], the example and the page reaching the server through `endpoint` (a
/// [`crate::proxy::FaultProxy`] that records what the browser sent).
pub fn run_via(exe: &std::path::Path, server: &Server, endpoint: &str, args: &[&str]) -> Run {
    let mut child = Command::new(exe)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", &server.access_key)
        .env("AWS_SECRET_ACCESS_KEY", &server.secret_key)
        .env("AWS_REGION", &server.region)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the example");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut output = Vec::new();
    let url = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("the example ended before serving its page: {output:?}"))
            .expect("read the example's output");
        output.push(line.clone());
        if let Some(url) = line.strip_prefix("page: ") {
            break url.to_owned();
        }
    };
    let profile = crate::files::temp_dir("chromium-profile");
    let dom = Command::new(chromium())
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--virtual-time-budget=20000",
            "--timeout=30000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&url)
        .stderr(Stdio::null())
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    output.extend(lines.map_while(Result::ok));
    let code = wait(&mut child, Duration::from_secs(90));
    let _ = std::fs::remove_dir_all(&profile);
    Run {
        code,
        output,
        put: element(&dom, "put"),
        post: element(&dom, "post"),
    }
}

fn wait(child: &mut std::process::Child, limit: Duration) -> Option<i32> {
    let start = std::time::Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The text of the element with `id` in a dumped DOM (`<span id="put">…</span>`).
fn element(dom: &str, id: &str) -> String {
    let open = format!("id=\"{id}\">");
    dom.split_once(&open)
        .and_then(|(_, rest)| rest.split_once("</span>"))
        .map(|(text, _)| text.replace("&quot;", "\"").replace("&amp;", "&"))
        .unwrap_or_default()
}
