//! `serve --config FILE`: the daemon's settings from a TOML file (read with figment), with
//! the same keys as the flags: a key is a flag's long name without the dashes
//! (`recordings-dir`, or `recordings_dir`), its value a string, number or boolean as on
//! the command line (`rtp-ports = "40000-40999"`, `webrtc-loopback = true`).
//!
//! Precedence, highest first: command-line flags, `CLOUDMIXER_*` environment variables,
//! the config file, the built-in defaults. The file's values go through the same clap
//! parsers and validators as flags (they are given to clap as `--key=value` for every
//! setting neither a flag nor the environment set), so a value refused on the command
//! line is refused in the file, with the file and key named.
//!
//! Errors: the file cannot be read, is not TOML, has a key that is not a `serve` flag
//! (the message lists the valid keys), a table or array value, or `config` itself.

use std::ffi::OsString;
use std::path::Path;

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, CommandFactory};
use figment::providers::{Format, Toml};
use figment::value::Value;
use figment::Figment;

use crate::cli::args::Cli;

/// Largest config file read, bytes (1 MiB).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// One setting of the file: the flag's long name and its value as command-line text
/// (`None`: a boolean flag set to true, given as the bare flag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// Long flag name, e.g. `recordings-dir`.
    pub flag: String,
    /// The value text; `None` for `key = true` on a boolean flag.
    pub value: Option<String>,
}

/// The `serve` flags a config file may set: (long name, takes a value).
fn serve_flags() -> Vec<(String, bool)> {
    let cmd = Cli::command();
    let Some(serve) = cmd.find_subcommand("serve") else {
        return Vec::new();
    };
    serve
        .get_arguments()
        .filter_map(|a| {
            let long = a.get_long()?;
            let takes_value = !matches!(a.get_action(), ArgAction::SetTrue | ArgAction::Help);
            (long != "config").then(|| (long.to_owned(), takes_value))
        })
        .collect()
}

/// Parses a config file's text into settings, checking every key against the `serve`
/// flags. `name` names the file in errors.
/// Errors: not TOML, unknown key, a value of the wrong kind (table, array, non-boolean
/// for a boolean flag).
pub fn parse(text: &str, name: &str) -> Result<Vec<Setting>, String> {
    let map: figment::value::Dict = Figment::from(Toml::string(text))
        .extract()
        .map_err(|e| format!("{name}: {e}"))?;
    let flags = serve_flags();
    let mut out = Vec::new();
    for (key, value) in map {
        let flag = key.replace('_', "-");
        let Some((_, takes_value)) = flags.iter().find(|(f, _)| *f == flag) else {
            let valid: Vec<&str> = flags.iter().map(|(f, _)| f.as_str()).collect();
            return Err(format!(
                "{name}: unknown key {key:?}; valid keys: {}",
                valid.join(", ")
            ));
        };
        let text = match &value {
            Value::String(_, s) => s.clone(),
            Value::Char(_, c) => c.to_string(),
            Value::Num(_, n) => n
                .to_i128()
                .map(|v| v.to_string())
                .or_else(|| n.to_f64().map(|v| v.to_string()))
                .ok_or_else(|| format!("{name}: {key}: not a number"))?,
            Value::Bool(_, b) => {
                if *takes_value {
                    b.to_string()
                } else {
                    if *b {
                        out.push(Setting { flag, value: None });
                    }
                    continue;
                }
            }
            _ => {
                return Err(format!(
                    "{name}: {key}: must be a string, number or boolean, as on the command line"
                ))
            }
        };
        if !takes_value {
            return Err(format!("{name}: {key}: must be true or false"));
        }
        out.push(Setting {
            flag,
            value: Some(text),
        });
    }
    Ok(out)
}

/// Reads and parses `path`. Errors: as [`parse`], and an unreadable or too large file.
pub fn load(path: &Path) -> Result<Vec<Setting>, String> {
    let name = format!("--config {}", path.display());
    let len = std::fs::metadata(path)
        .map_err(|e| format!("{name}: {e}"))?
        .len();
    if len > MAX_CONFIG_BYTES {
        return Err(format!("{name}: {len} bytes; at most {MAX_CONFIG_BYTES}"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    parse(&text, &name)
}

/// `argv` with the config file's settings added as `--flag=value` for every setting that
/// neither a flag nor an environment variable gave (`serve` only; other commands and a
/// `serve` without `--config` come back unchanged). `matches`: `argv` parsed once.
/// Errors: as [`load`].
pub fn apply(argv: Vec<OsString>, matches: &ArgMatches) -> Result<Vec<OsString>, String> {
    let Some(("serve", serve)) = matches.subcommand() else {
        return Ok(argv);
    };
    let Some(path) = serve.get_one::<std::path::PathBuf>("config") else {
        return Ok(argv);
    };
    let settings = load(path)?;
    let ids: Vec<(String, String)> = Cli::command()
        .find_subcommand("serve")
        .map(|s| {
            s.get_arguments()
                .filter_map(|a| Some((a.get_long()?.to_owned(), a.get_id().to_string())))
                .collect()
        })
        .unwrap_or_default();
    let mut argv = argv;
    for s in settings {
        let explicit = ids
            .iter()
            .find(|(l, _)| *l == s.flag)
            .is_some_and(|(_, id)| {
                matches!(
                    serve.value_source(id),
                    Some(ValueSource::CommandLine | ValueSource::EnvVariable)
                )
            });
        if explicit {
            continue;
        }
        argv.push(match s.value {
            Some(v) => format!("--{}={v}", s.flag).into(),
            None => format!("--{}", s.flag).into(),
        });
    }
    Ok(argv)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::args::Command;

    fn serve_args(argv: &[&str], file: &str) -> crate::cli::args::ServeArgs {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cloudmixer.toml");
        std::fs::write(&path, file).unwrap();
        let mut v: Vec<OsString> = ["cloudmixer", "serve", "--config"]
            .iter()
            .map(OsString::from)
            .collect();
        v.push(path.into_os_string());
        v.extend(argv.iter().map(OsString::from));
        let m = Cli::command().try_get_matches_from(v.clone()).unwrap();
        let v = apply(v, &m).unwrap();
        match Cli::try_parse_from(v).unwrap().command {
            Command::Serve(a) => *a,
            _ => unreachable!(),
        }
    }

    #[test]
    fn file_values_fill_what_flags_do_not_give() {
        let a = serve_args(
            &["--x264-preset", "ultrafast"],
            "recordings_dir = \"/tmp/rec\"\nrtp-ports = \"50000-50099\"\nx264-preset = \"slow\"\n\
             webrtc-loopback = true\nencoder-threads = 2\n",
        );
        assert_eq!(a.recordings_dir, Path::new("/tmp/rec"));
        assert_eq!(a.rtp_ports, (50000, 50099));
        assert_eq!(a.x264_preset, "ultrafast", "the flag wins over the file");
        assert!(a.webrtc_loopback);
        assert_eq!(a.encoder_threads, 2);
        assert_eq!(
            a.single_path_template,
            crate::model::record::DEFAULT_SINGLE_PATH_TEMPLATE
        );
        let a = serve_args(&[], "single-path-template = \"rec/{camid}-{span}\"\n");
        assert_eq!(a.single_path_template, "rec/{camid}-{span}");
    }

    #[test]
    fn unknown_keys_and_wrong_kinds_are_named() {
        let e = parse("recordings-dri = \"x\"", "f.toml").unwrap_err();
        assert!(
            e.contains("recordings-dri") && e.contains("recordings-dir"),
            "{e}"
        );
        let e = parse("webrtc-loopback = \"yes\"", "f.toml").unwrap_err();
        assert!(e.contains("true or false"), "{e}");
        let e = parse("[rtp]\nbind = \"1\"", "f.toml").unwrap_err();
        assert!(
            e.contains("unknown key") || e.contains("string, number"),
            "{e}"
        );
        assert!(parse("listen = ", "f.toml")
            .unwrap_err()
            .starts_with("f.toml"));
        assert!(parse("config = \"other.toml\"", "f.toml").is_err());
    }
}
