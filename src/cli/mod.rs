//! Command line: `serve` (the daemon), the gRPC client subcommands and offline `compose`.
//!
//! [`main`] parses the arguments ([`args`]), runs one subcommand on a tokio runtime and
//! turns any error into `error: <GRPC_CODE>: <message>` on stderr with exit status 1
//! (usage errors are clap's: exit status 2).

// `tonic::Status` (176 bytes) is the error type of the generated service trait; the
// validators return it directly so that every error already carries its gRPC code.
#![allow(clippy::result_large_err)]

pub mod args;
pub mod catalog_arg;
pub mod client;
pub mod client_arg;
pub mod cloudroom_cfg;
pub mod compose;
pub mod config_file;
pub mod connect;
pub mod decor_arg;
pub mod json;
pub mod layout_arg;
pub mod output;
pub mod parse;
pub mod placeholder_arg;
pub mod presets;
pub mod record_arg;
pub mod recordings;
pub mod serve;
pub mod storage_arg;
pub mod tls;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use tonic::Status;

use crate::api::status::code_name;
use args::{Cli, Command};

/// Entry point of the `cloudmixer` binary.
pub fn main() -> ExitCode {
    let cli = match parse_with_config_file() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: INTERNAL: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(s) => {
            eprintln!("{}", error_line(&s));
            ExitCode::FAILURE
        }
    }
}

/// The command line, with `serve --config FILE`'s settings applied ([`config_file`]).
/// Usage errors are printed by clap (exit status 2); a config file error is printed as
/// `error: INVALID_ARGUMENT: ...` with exit status 2.
fn parse_with_config_file() -> Result<Cli, ExitCode> {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let matches = match Cli::command().try_get_matches_from(argv.clone()) {
        Ok(m) => m,
        Err(e) => e.exit(),
    };
    let full = match config_file::apply(argv.clone(), &matches) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{}", error_line(&Status::invalid_argument(e)));
            return Err(ExitCode::from(2));
        }
    };
    let from_file: Vec<String> = full[argv.len()..]
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match Cli::try_parse_from(full) {
        Ok(cli) => Ok(cli),
        Err(e) => {
            if !from_file.is_empty() {
                eprintln!(
                    "(settings from --config, given as: {})",
                    from_file.join(" ")
                );
            }
            e.exit()
        }
    }
}

/// `error: <GRPC_CODE>: <message>`.
pub fn error_line(s: &Status) -> String {
    format!("error: {}: {}", code_name(s.code()), s.message())
}

async fn run(command: Command) -> Result<(), Status> {
    match command {
        Command::Serve(a) => serve::run(*a).await,
        Command::Create(a) => client::create(*a).await,
        Command::Update(a) => client::update(a).await,
        Command::Destroy(a) => client::destroy(a).await,
        Command::Get(a) => client::get(a).await,
        Command::List(a) => client::list(a).await,
        Command::Events(a) => client::events(a).await,
        Command::Compose(a) => compose::run(a).await,
        Command::Token(a) => mint_token(a),
        Command::Presets(a) => presets::run(a).await,
        Command::Recordings(a) => recordings::run(a).await,
    }
}

/// `token`: prints an HS256 JWT signed with the secret file's key.
/// Errors: INVALID_ARGUMENT (unreadable or short secret, ttl out of range).
fn mint_token(a: args::TokenArgs) -> Result<(), Status> {
    let key =
        crate::api::jwt::JwtKey::from_file(&a.secret_file).map_err(Status::invalid_argument)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| Status::internal("the system clock is before 1970"))?
        .as_secs();
    let token = key
        .mint(a.sub.as_deref(), now, a.ttl_secs)
        .map_err(|e| Status::invalid_argument(format!("--ttl-secs: {e}")))?;
    println!("{token}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn error_line_names_the_code() {
        let s = Status::invalid_argument("video_file_cfg.v_width: must be even, got 641");
        assert_eq!(
            error_line(&s),
            "error: INVALID_ARGUMENT: video_file_cfg.v_width: must be even, got 641"
        );
    }

    #[test]
    fn parses_a_create_command() {
        let cli = Cli::try_parse_from([
            "cloudmixer",
            "create",
            "--source",
            "Usr1.-1:video=vp8/96,audio=opus/111",
            "--source",
            "Usr2.-1",
            "--size",
            "1280x720",
            "--layout",
            "side-by-side",
        ])
        .unwrap();
        match cli.command {
            Command::Create(a) => {
                assert_eq!(a.source.len(), 2);
                assert_eq!(a.picture.size, (1280, 720));
                assert_eq!(a.layout.layout.as_deref(), Some("side-by-side"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
