//! Control API authentication against the real daemon: a token file plus
//! CLOUDMIXER_AUTH_TOKENS; calls without a token, with another scheme or with a wrong
//! token get UNAUTHENTICATED; both configured tokens work, from a gRPC client and from
//! the CLI (CLOUDMIXER_TOKEN); health stays open; no token reaches the log; and a
//! non-loopback --listen without tokens refuses to start.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use cloudmixer::proto::cloud_mixer_client::CloudMixerClient;
use cloudmixer::proto::{GetCloudMixerRequest, ListCloudMixersRequest};
use common::daemon::Daemon;
use common::wait_for;
use tonic::metadata::MetadataValue;
use tonic::{Code, Request};

const FILE_TOKEN: &str = "file-token-7d1c3a9e55b04f2e";
const ENV_TOKEN: &str = "env-token-0b9f6e2d41c8a736";

fn with_auth<T>(msg: T, value: &str) -> Request<T> {
    let mut r = Request::new(msg);
    let v: MetadataValue<_> = value.parse().expect("header value");
    r.metadata_mut().insert("authorization", v);
    r
}

fn daemon_with_tokens() -> (Daemon, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("tokens.txt");
    std::fs::write(&file, format!("# operators\n{FILE_TOKEN}\n")).expect("write tokens");
    let d = Daemon::start_with_env(
        8,
        &["--auth-tokens-file".into(), file.display().to_string()],
        &[("CLOUDMIXER_AUTH_TOKENS", ENV_TOKEN)],
    );
    (d, dir)
}

#[tokio::test]
async fn calls_need_one_of_the_configured_tokens() {
    let (d, _dir) = daemon_with_tokens();
    let mut c = CloudMixerClient::new(d.channel().await);
    let list = || ListCloudMixersRequest::default();

    let e = c.list_cloud_mixers(Request::new(list())).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");
    assert!(e.message().contains("missing"), "{}", e.message());
    for bad in [
        format!("Bearer {FILE_TOKEN}x"),
        "Bearer not-a-token-at-all-0000".to_owned(),
        format!("Basic {FILE_TOKEN}"),
    ] {
        let e = c
            .list_cloud_mixers(with_auth(list(), &bad))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "{bad}: {e:?}");
    }
    // Every RPC is behind the check, not only List.
    let get = GetCloudMixerRequest {
        mixer_id: "nope".into(),
    };
    let e = c
        .get_cloud_mixer(Request::new(get.clone()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);

    for good in [FILE_TOKEN, ENV_TOKEN] {
        let r = c
            .list_cloud_mixers(with_auth(list(), &format!("Bearer {good}")))
            .await
            .expect("authenticated List");
        assert!(r.into_inner().mixers.is_empty());
        // Past authentication, the service answers as usual.
        let e = c
            .get_cloud_mixer(with_auth(get.clone(), &format!("Bearer {good}")))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::NotFound, "{e:?}");
    }

    // Health stays open for probes.
    use tonic_health::pb::{
        health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
    };
    let mut health = HealthClient::new(d.channel().await);
    let h = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health without a token")
        .into_inner();
    assert_eq!(h.status(), ServingStatus::Serving);

    let log = d.log();
    assert!(log.contains("control API requires credentials"), "{log}");
    for t in [FILE_TOKEN, ENV_TOKEN] {
        assert!(!log.contains(t), "token in the daemon log:\n{log}");
    }
}

#[tokio::test]
async fn the_cli_sends_cloudmixer_token() {
    let (d, _dir) = daemon_with_tokens();
    let cli = |token: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cloudmixer"));
        c.args(["list", "--server", &d.endpoint()])
            .env_remove("CLOUDMIXER_TOKEN")
            .stdin(Stdio::null());
        if let Some(t) = token {
            c.env("CLOUDMIXER_TOKEN", t);
        }
        c.output().expect("run the CLI")
    };
    let out = cli(None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "list without a token succeeded");
    assert!(err.contains("UNAUTHENTICATED"), "{err}");
    let out = cli(Some(ENV_TOKEN));
    assert!(
        out.status.success(),
        "list with CLOUDMIXER_TOKEN failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_non_loopback_listen_without_tokens_refuses_to_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cloudmixer"))
        .args(["serve", "--listen", "0.0.0.0:0", "--recordings-dir"])
        .arg(dir.path())
        .env_remove("CLOUDMIXER_AUTH_TOKENS")
        .env_remove("CLOUDMIXER_AUTH_TOKENS_FILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the daemon");
    let status = wait_for(Duration::from_secs(20), Duration::from_millis(50), || {
        child.try_wait().ok().flatten()
    });
    let Some(status) = status else {
        let _ = child.kill();
        panic!("the daemon kept running on 0.0.0.0 without tokens");
    };
    let out = child.wait_with_output().expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!status.success(), "exit {status}: {text}");
    assert!(
        text.contains("--auth-tokens-file") && !text.contains("listening on"),
        "{text}"
    );
}
