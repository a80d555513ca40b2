use tonic::metadata::MetadataMap;
use tonic::Code;

use super::*;

const A: &str = "0123456789abcdef0123";
const B: &str = "fedcba9876543210fedc";

fn meta(v: &str) -> MetadataMap {
    let mut m = MetadataMap::new();
    m.insert("authorization", v.parse().unwrap());
    m
}

#[test]
fn parses_lines_and_lists_skipping_comments_and_blanks() {
    let s = TokenSet::parse(&format!("# ops\n{A}\n\n  {B}  \n"), false, "f").unwrap();
    assert_eq!(s.len(), 2);
    let s = TokenSet::parse(&format!("{A}, {B},"), true, "env").unwrap();
    assert_eq!(s.len(), 2);
    assert!(TokenSet::parse("", false, "f").unwrap().is_empty());
}

#[test]
fn refuses_short_long_and_non_visible_tokens_without_echoing_them() {
    let e = TokenSet::parse("short", false, "tokens.txt").unwrap_err();
    assert!(
        matches!(
            e,
            TokenError::Length {
                index: 1,
                len: 5,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!e.to_string().contains("short"), "{e}");
    let long = "x".repeat(MAX_TOKEN_LEN + 1);
    assert!(TokenSet::parse(&long, false, "f").is_err());
    let e = TokenSet::parse("0123456789abcdef\u{e9}", false, "f").unwrap_err();
    assert!(matches!(e, TokenError::Charset { index: 1, .. }), "{e:?}");
    assert!(TokenSet::parse("0123456789 abcdef", true, "f").is_err());
}

#[test]
fn checks_the_bearer_header() {
    let s = TokenSet::parse(&format!("{A}\n{B}"), false, "f").unwrap();
    assert!(s.check(&meta(&format!("Bearer {A}"))).is_ok());
    assert!(s.check(&meta(&format!("Bearer {B}"))).is_ok());
    for bad in [
        format!("Bearer {A}x"),
        format!("Bearer {}", &A[..A.len() - 1]),
        format!("Basic {A}"),
        A.to_owned(),
        "Bearer ".to_owned(),
    ] {
        let e = s.check(&meta(&bad)).unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "{bad}");
        assert!(!e.message().contains(A), "token echoed: {}", e.message());
    }
    let e = s.check(&MetadataMap::new()).unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    assert!(e.message().contains("missing"), "{}", e.message());
}

#[test]
fn debug_never_shows_a_token() {
    let s = TokenSet::parse(A, false, "f").unwrap();
    assert_eq!(format!("{s:?}"), "TokenSet(1 tokens)");
    let c = ClientAuth::new(Some(A)).unwrap();
    assert!(!format!("{c:?}").contains(A));
}

#[test]
fn the_interceptors_pass_a_token_from_client_to_server() {
    use tonic::service::Interceptor;
    let mut client = ClientAuth::new(Some(A)).unwrap();
    let req = client.call(Request::new(())).unwrap();
    let mut server = ServerAuth {
        tokens: TokenSet::parse(A, false, "f").unwrap(),
        jwt: None,
    };
    assert!(server.call(req).is_ok());
    let mut none = ClientAuth::new(None).unwrap();
    let req = none.call(Request::new(())).unwrap();
    assert_eq!(server.call(req).unwrap_err().code(), Code::Unauthenticated);
    // No tokens configured: everything passes.
    assert!(ServerAuth::default().call(Request::new(())).is_ok());
}

#[test]
fn a_non_loopback_listen_needs_tokens_a_jwt_secret_or_mtls() {
    let none = ServerAuth::default();
    let some = ServerAuth {
        tokens: TokenSet::parse(A, false, "f").unwrap(),
        jwt: None,
    };
    let jwt = ServerAuth {
        tokens: TokenSet::default(),
        jwt: Some(JwtKey::from_secret(JWT_SECRET).unwrap()),
    };
    let any: std::net::SocketAddr = "0.0.0.0:50051".parse().unwrap();
    assert!(require_for_listen("127.0.0.1:50051".parse().unwrap(), &none, false).is_ok());
    assert!(require_for_listen("[::1]:50051".parse().unwrap(), &none, false).is_ok());
    let e = require_for_listen(any, &none, false).unwrap_err();
    assert!(
        e.contains("--auth-tokens-file")
            && e.contains("CLOUDMIXER_AUTH_TOKENS")
            && e.contains("--auth-jwt-secret-file")
            && e.contains("--tls-client-ca"),
        "{e}"
    );
    assert!(require_for_listen(any, &some, false).is_ok());
    assert!(require_for_listen(any, &jwt, false).is_ok());
    assert!(require_for_listen(any, &none, true).is_ok());
}

const JWT_SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

#[test]
fn server_auth_takes_a_static_token_or_a_valid_jwt() {
    let key = JwtKey::from_secret(JWT_SECRET).unwrap();
    let auth = ServerAuth {
        tokens: TokenSet::parse(A, false, "f").unwrap(),
        jwt: Some(key.clone()),
    };
    let now = jsonwebtoken::get_current_timestamp();
    assert!(auth.check(&meta(&format!("Bearer {A}"))).is_ok());
    let t = key.mint(Some("ctl"), now, 60).unwrap();
    assert!(auth.check(&meta(&format!("bearer {t}"))).is_ok());
    let old = key.mint(Some("ctl"), now - 7200, 60).unwrap();
    let e = auth.check(&meta(&format!("Bearer {old}"))).unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    assert!(e.message().contains("expired"), "{}", e.message());
    assert!(!e.message().contains(&old));
    let e = auth.check(&meta(&format!("Bearer {B}"))).unwrap_err();
    assert_eq!(e.message(), "bearer token not accepted");
}
