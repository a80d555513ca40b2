//! The gRPC service: request validation, proto <-> engine types, the mixer registry.
//!
//! Requests flow `service` -> [`crate::request::validate`] (proto ->
//! [`crate::model::MixerSpec`] / [`crate::model::ContentUpdate`], every error a
//! [`crate::model::FieldError`] naming the request field) -> the engine
//! ([`crate::mixer::LiveMixer`]); answers and events flow back through [`convert`].
//! Validation and engine errors become gRPC statuses in [`status`], the one map.
//! Admission ([`admission`]) decides whether a Create fits; the recording [`journal`]
//! lets a restart report recordings an earlier process left unfinished.

// `tonic::Status` (176 bytes) is the error type of the generated service trait.
#![allow(clippy::result_large_err)]

pub mod admission;
pub mod auth;
pub mod concurrency;
pub mod config;
pub mod convert;
pub mod journal;
pub mod jwt;
pub mod observe;
pub mod recovery;
pub mod registry;
pub mod service;
pub mod status;
pub mod watch;

pub use config::ServiceConfig;
pub use service::CloudMixerService;
