//! Command line: `serve`, client subcommands, `compose`.
