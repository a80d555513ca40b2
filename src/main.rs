//! The `cloudmixer` binary: see `cloudmixer --help` and [`cloudmixer::cli`].

fn main() -> std::process::ExitCode {
    cloudmixer::cli::main()
}
