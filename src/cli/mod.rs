//! Command line: `serve` (the daemon), the gRPC client subcommands and offline `compose`.
//!
//! [`main`] parses the arguments ([`args`]), runs one subcommand on a tokio runtime and
//! turns any error into `error: <GRPC_CODE>: <message>` on stderr with exit status 1
//! (usage errors are clap's: exit status 2).

// `tonic::Status` (176 bytes) is the error type of the generated service trait; the
// validators return it directly so that every error already carries its gRPC code.
#![allow(clippy::result_large_err)]

pub mod args;
pub mod client;
pub mod compose;
pub mod json;
pub mod layout_arg;
pub mod output;
pub mod parse;
pub mod placeholder_arg;
pub mod serve;

use std::process::ExitCode;

use clap::Parser;
use tonic::Status;

use crate::api::status::code_name;
use args::{Cli, Command};

/// Entry point of the `cloudmixer` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
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

/// `error: <GRPC_CODE>: <message>`.
pub fn error_line(s: &Status) -> String {
    format!("error: {}: {}", code_name(s.code()), s.message())
}

async fn run(command: Command) -> Result<(), Status> {
    match command {
        Command::Serve(a) => serve::run(a).await,
        Command::Create(a) => client::create(a).await,
        Command::Update(a) => client::update(a).await,
        Command::Destroy(a) => client::destroy(a).await,
        Command::Get(a) => client::get(a).await,
        Command::List(a) => client::list(a).await,
        Command::Events(a) => client::events(a).await,
        Command::Compose(a) => compose::run(a).await,
    }
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
