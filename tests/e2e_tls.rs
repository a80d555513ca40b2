//! Control API over TLS and mutual TLS, and HS256 JWT bearer tokens, against the real
//! daemon with the real CLI: certificates are made per test (rcgen: a CA, the daemon's
//! certificate for "localhost", a client certificate from the CA and one from a stranger
//! CA). The CLI with the CA and a client certificate lists mixers; without a client
//! certificate, with the stranger's, or over plain HTTP/2 it cannot; a non-loopback
//! --listen with mutual TLS only starts. `cloudmixer token` mints a JWT the daemon
//! accepts; an expired one or one signed with another secret gets UNAUTHENTICATED, and
//! no token reaches the daemon's log.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use cloudmixer::api::jwt::JwtKey;
use common::daemon::Daemon;
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};

/// A CA (certificate + key), able to sign leaf certificates.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate().expect("CA key");
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        let cert = p.self_signed(&key).expect("self-sign the CA");
        Ca { cert, key }
    }

    /// Writes `<stem>.pem` and `<stem>.key` signed by this CA into `dir`.
    fn leaf(
        &self,
        dir: &Path,
        stem: &str,
        dns: &str,
        usage: ExtendedKeyUsagePurpose,
    ) -> (PathBuf, PathBuf) {
        let key = KeyPair::generate().expect("leaf key");
        let mut p = CertificateParams::new(vec![dns.to_owned()]).expect("leaf params");
        p.distinguished_name.push(DnType::CommonName, dns);
        p.extended_key_usages = vec![usage];
        let cert = p
            .signed_by(&key, &self.cert, &self.key)
            .expect("sign the leaf");
        let (c, k) = (
            dir.join(format!("{stem}.pem")),
            dir.join(format!("{stem}.key")),
        );
        std::fs::write(&c, cert.pem()).expect("write cert");
        std::fs::write(&k, key.serialize_pem()).expect("write key");
        (c, k)
    }

    fn write(&self, path: &Path) {
        std::fs::write(path, self.cert.pem()).expect("write CA");
    }
}

/// Files of one mutual-TLS setup (in `_dir`, removed on drop).
struct Pki {
    _dir: tempfile::TempDir,
    ca: PathBuf,
    server: (PathBuf, PathBuf),
    client: (PathBuf, PathBuf),
    stranger: (PathBuf, PathBuf),
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = Ca::new("cloudmixer test CA");
    let ca_pem = dir.path().join("ca.pem");
    ca.write(&ca_pem);
    let server = ca.leaf(
        dir.path(),
        "server",
        "localhost",
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let client = ca.leaf(
        dir.path(),
        "client",
        "controller",
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let other = Ca::new("stranger CA");
    let stranger = other.leaf(
        dir.path(),
        "stranger",
        "controller",
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    Pki {
        _dir: dir,
        ca: ca_pem,
        server,
        client,
        stranger,
    }
}

fn tls_daemon(p: &Pki, listen: &str) -> Daemon {
    let s = |p: &Path| p.display().to_string();
    Daemon::start_with_args(
        8,
        &[
            "--listen".into(),
            listen.into(),
            "--tls-cert".into(),
            s(&p.server.0),
            "--tls-key".into(),
            s(&p.server.1),
            "--tls-client-ca".into(),
            s(&p.ca),
        ],
    )
}

/// `cloudmixer list --server SERVER ARGS...` with CLOUDMIXER_TOKEN = `token` and no other
/// ambient CLOUDMIXER_* client settings.
fn cli_list(server: &str, args: &[&dyn AsRef<std::ffi::OsStr>], token: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cloudmixer"));
    c.args(["list", "--server", server]);
    c.args(args.iter().map(|a| a.as_ref()));
    for v in [
        "CLOUDMIXER_TOKEN",
        "CLOUDMIXER_TLS_CA",
        "CLOUDMIXER_CLIENT_CERT",
        "CLOUDMIXER_CLIENT_KEY",
        "CLOUDMIXER_TLS_DOMAIN",
    ] {
        c.env_remove(v);
    }
    if let Some(t) = token {
        c.env("CLOUDMIXER_TOKEN", t);
    }
    common::output_bounded(&mut c, Duration::from_secs(30))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn mutual_tls_admits_only_clients_with_a_certificate_from_the_ca() {
    let p = pki();
    let d = tls_daemon(&p, "127.0.0.1:0");
    let https = format!("https://127.0.0.1:{}", d.port);
    // The daemon's certificate is for "localhost"; the CLI is told to expect that name.
    let (dom, localhost) = ("--tls-domain", "localhost");
    let (ca, cert, key) = ("--tls-ca", "--tls-cert", "--tls-key");

    let good = cli_list(
        &https,
        &[
            &dom,
            &localhost,
            &ca,
            &p.ca,
            &cert,
            &p.client.0,
            &key,
            &p.client.1,
        ],
        None,
    );
    assert!(
        good.status.success(),
        "mutual TLS list failed: {}",
        stderr(&good)
    );
    let out = String::from_utf8_lossy(&good.stdout);
    assert!(out.contains(cloudmixer::cli::output::LIST_HEADER), "{out}");

    // No client certificate: the daemon ends the handshake, the call is never served.
    // (In TLS 1.3 the client learns it on its first read, as UNKNOWN "transport error"
    // or CANCELLED depending on which side of the HTTP/2 connection notices first.)
    let none = cli_list(&https, &[&dom, &localhost, &ca, &p.ca], None);
    assert!(
        !none.status.success(),
        "list without a client certificate succeeded"
    );
    let err = stderr(&none);
    assert!(
        err.contains("transport error") || err.contains("CANCELLED"),
        "{err}"
    );
    assert!(none.stdout.is_empty(), "{:?}", none.stdout);
    // A certificate from another CA.
    let stranger = cli_list(
        &https,
        &[
            &dom,
            &localhost,
            &ca,
            &p.ca,
            &cert,
            &p.stranger.0,
            &key,
            &p.stranger.1,
        ],
        None,
    );
    assert!(
        !stranger.status.success(),
        "a stranger CA's certificate was accepted"
    );
    // Plain HTTP/2 to the TLS port.
    let plain = cli_list(&format!("http://127.0.0.1:{}", d.port), &[], None);
    assert!(
        !plain.status.success(),
        "plain HTTP/2 to the TLS port succeeded"
    );
    // The daemon's certificate is checked too: without the CA the client refuses it.
    let no_ca = cli_list(
        &https,
        &[&dom, &localhost, &cert, &p.client.0, &key, &p.client.1],
        None,
    );
    assert!(
        !no_ca.status.success(),
        "a server certificate from an unknown CA was trusted"
    );
    // And the name in it: the same CA, but another name expected.
    let wrong_name = cli_list(
        &https,
        &[
            &dom,
            &"mixer.example.com",
            &ca,
            &p.ca,
            &cert,
            &p.client.0,
            &key,
            &p.client.1,
        ],
        None,
    );
    assert!(
        !wrong_name.status.success(),
        "a certificate for another name was trusted"
    );
}

#[test]
fn a_non_loopback_listen_with_mutual_tls_only_starts() {
    let p = pki();
    let d = tls_daemon(&p, "0.0.0.0:0");
    assert!(d.port > 0);
    assert!(
        d.log().contains("control API requires credentials"),
        "{}",
        d.log()
    );
}

#[test]
fn jwt_minted_by_the_cli_is_accepted_and_expired_or_foreign_ones_are_not() {
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = dir.path().join("jwt.key");
    std::fs::write(&secret, "4f1d0c8e2b7a69531f0e4d3c2b1a09f8e7d6c5b4\n").expect("write secret");
    let d = Daemon::start_with_args(
        8,
        &[
            "--auth-jwt-secret-file".into(),
            secret.display().to_string(),
        ],
    );
    let server = d.endpoint();

    let minted = Command::new(env!("CARGO_BIN_EXE_cloudmixer"))
        .args([
            "token",
            "--ttl-secs",
            "120",
            "--sub",
            "controller-7",
            "--secret-file",
        ])
        .arg(&secret)
        .output()
        .expect("run cloudmixer token");
    assert!(minted.status.success(), "{}", stderr(&minted));
    let token = String::from_utf8(minted.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    assert_eq!(token.split('.').count(), 3, "not a JWT: {token}");

    let ok = cli_list(&server, &[], Some(&token));
    assert!(
        ok.status.success(),
        "list with a minted JWT failed: {}",
        stderr(&ok)
    );
    let none = cli_list(&server, &[], None);
    assert!(
        stderr(&none).contains("UNAUTHENTICATED"),
        "{}",
        stderr(&none)
    );

    let key = JwtKey::from_file(&secret).expect("read the secret");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expired = key.mint(None, now - 3600, 60).expect("mint");
    let e = cli_list(&server, &[], Some(&expired));
    assert!(
        stderr(&e).contains("UNAUTHENTICATED") && stderr(&e).contains("expired"),
        "{}",
        stderr(&e)
    );
    let foreign = JwtKey::from_secret(b"another-secret-0123456789abcdef0123")
        .unwrap()
        .mint(None, now, 60)
        .unwrap();
    let e = cli_list(&server, &[], Some(&foreign));
    assert!(stderr(&e).contains("UNAUTHENTICATED"), "{}", stderr(&e));

    let log = d.log();
    for t in [&token, &expired, &foreign] {
        assert!(
            !log.contains(t.as_str()),
            "a token reached the daemon log:\n{log}"
        );
    }
    assert!(
        !log.contains("4f1d0c8e2b7a"),
        "the secret reached the log:\n{log}"
    );
}
