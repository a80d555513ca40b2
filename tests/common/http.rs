//! HTTP requests from tests with a real client, `curl` (scripts/install-deps.sh): status
//! and body, each request bounded in time.

use std::process::Command;
use std::time::Duration;

use super::output_bounded;

/// Longest a request may take.
const REQUEST_LIMIT: Duration = Duration::from_secs(15);

/// `GET url`: (status code, body). Panics if curl fails to connect or overruns.
pub fn get(url: &str) -> (u16, String) {
    request(Command::new("curl").args(["-sS", "-m", "10", "-w", "\n%{http_code}", url]))
}

/// `GET url` with extra curl arguments (e.g. `-H "Authorization: Bearer ..."`, or `-i`
/// to have the response headers before the body): (status code, body).
pub fn get_with(url: &str, extra: &[&str]) -> (u16, String) {
    request(
        Command::new("curl")
            .args(["-sS", "-m", "10", "-w", "\n%{http_code}"])
            .args(extra)
            .arg(url),
    )
}

/// `GET url?name=value` with `value` URL-encoded: (status code, body).
pub fn get_query(url: &str, name: &str, value: &str) -> (u16, String) {
    request(Command::new("curl").args([
        "-sS",
        "-m",
        "10",
        "-G",
        "--data-urlencode",
        &format!("{name}={value}"),
        "-w",
        "\n%{http_code}",
        url,
    ]))
}

fn request(cmd: &mut Command) -> (u16, String) {
    let desc = format!("{cmd:?}");
    let out = output_bounded(cmd, REQUEST_LIMIT);
    assert!(
        out.status.success(),
        "{desc} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text
        .rsplit_once('\n')
        .expect("curl printed the status code");
    (
        code.trim().parse().expect("HTTP status code"),
        body.to_owned(),
    )
}

/// `GET url` as JSON: (status code, value). Panics if the body is not JSON.
pub fn get_json(url: &str) -> (u16, serde_json::Value) {
    let (code, body) = get(url);
    let v = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"));
    (code, v)
}
