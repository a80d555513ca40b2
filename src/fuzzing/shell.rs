//! Harnesses for the daemon shell's parsers: the `serve --config` TOML file and the
//! control API's `authorization` header (static tokens and HS256 JWTs).

use tonic::metadata::{MetadataMap, MetadataValue};

use crate::api::auth::{ServerAuth, TokenSet};
use crate::api::jwt::JwtKey;
use crate::cli::config_file;

/// The static token [`auth_header`] accepts.
pub const FUZZ_TOKEN: &str = "fuzz-static-token-0123456789";
/// The HS256 secret [`auth_header`] verifies JWTs with.
pub const FUZZ_JWT_SECRET: &[u8] = b"fuzz-jwt-secret-0123456789abcdef";

/// A config file's text through [`config_file::parse`] (invalid UTF-8 is skipped, as
/// the loader refuses it). Every accepted setting must name a `serve` flag that
/// `cloudmixer serve --help` lists, and a bare flag (no value) must be a boolean.
pub fn config_file(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(settings) = config_file::parse(text, "fuzz.toml") else {
        return false;
    };
    let help = {
        use clap::CommandFactory;
        let mut cmd = crate::cli::args::Cli::command();
        cmd.build();
        cmd.find_subcommand_mut("serve")
            .map(|s| s.render_long_help().to_string())
            .unwrap_or_default()
    };
    for s in &settings {
        assert!(
            help.contains(&format!("--{}", s.flag)),
            "accepted an unknown flag {:?}",
            s.flag
        );
        assert!(!s.flag.contains('='), "flag with '=': {:?}", s.flag);
    }
    true
}

/// The input as the value of `authorization` (when it is a valid header value) through
/// [`ServerAuth::check`] with one static token ([`FUZZ_TOKEN`]) and a JWT secret
/// ([`FUZZ_JWT_SECRET`]). An accepted header must carry exactly the static token or a
/// JWT that verifies with the secret; a refusal is UNAUTHENTICATED and its message never
/// contains the presented token.
pub fn auth_header(data: &[u8]) -> bool {
    let Ok(value) = MetadataValue::try_from(data) else {
        return false;
    };
    let auth = ServerAuth {
        tokens: TokenSet::parse(FUZZ_TOKEN, false, "fuzz").expect("a valid token"),
        jwt: Some(JwtKey::from_secret(FUZZ_JWT_SECRET).expect("a valid secret")),
    };
    let mut meta = MetadataMap::new();
    meta.insert("authorization", value);
    let presented = String::from_utf8_lossy(data);
    let token = presented
        .split_once(' ')
        .map(|(_, t)| t.trim())
        .unwrap_or_default();
    match auth.check(&meta) {
        Ok(()) => {
            let key = auth.jwt.as_ref().expect("set above");
            assert!(
                token == FUZZ_TOKEN || key.verify(token).is_ok(),
                "accepted a header that carries neither the token nor a valid JWT"
            );
            true
        }
        Err(status) => {
            assert_eq!(status.code(), tonic::Code::Unauthenticated);
            // Refusal messages are fixed texts: one may contain the token only if the
            // token happens to be a piece of such a text.
            let fixed = [
                "missing credentials: send \"authorization: Bearer <token>\" (cloudmixer CLI: set CLOUDMIXER_TOKEN)",
                "authorization must use the Bearer scheme",
                "bearer token not accepted (algorithm must be HS256) (bad signature) (no exp claim) (not valid yet (nbf)) (malformed)",
                "bearer token expired",
            ];
            assert!(
                token.is_empty()
                    || !status.message().contains(token)
                    || fixed.iter().any(|f| f.contains(token)),
                "the refusal echoes the token"
            );
            false
        }
    }
}
