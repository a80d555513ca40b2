//! The gRPC service: request validation, proto <-> engine types, the mixer registry.
//!
//! Requests flow `service` -> [`validate`] (proto -> [`crate::model::MixerSpec`] /
//! [`crate::model::ContentUpdate`], every error names the request field) -> the engine
//! ([`crate::mixer::LiveMixer`]); answers and events flow back through [`convert`].
//! Engine errors become gRPC statuses in [`status`].

// `tonic::Status` (176 bytes) is the error type of the generated service trait; the
// validators return it directly so that every error already carries its gRPC code.
#![allow(clippy::result_large_err)]

pub mod auth;
pub mod config;
pub mod convert;
pub mod registry;
pub mod service;
pub mod status;
pub mod validate;
pub mod watch;

pub use config::ServiceConfig;
pub use service::CloudMixerService;
