//! The recordings catalog (issue 13): every output file of every mixer, persisted, and
//! queried the way Easemob's REST API queries recordings (seed 003).
//!
//! - [`row`]: one row per output file and the Easemob field mapping (sans IO);
//! - [`easemob`]: the query parameters, paging rule, time forms and JSON (sans IO);
//! - [`store`]: SQLite (embedded) or PostgreSQL (shared) through `sqlx`, schemas in
//!   `migrations/`;
//! - [`feed`]: the task that stores outputs as their writing ends, from the event bus;
//! - [`retention`]: the task that deletes expired files and marks their rows;
//! - [`storage`], [`upload`], [`upload_rows`]: the copy of each finished file in
//!   object storage (S3-compatible or a directory), retried with [`retry`]'s backoff,
//!   a backup store, verified, reported as events;
//! - [`notice`], [`outbox`], [`webhook`]: signed webhooks (Standard Webhooks) from a
//!   durable queue in the catalog;
//! - [`rest`]: the HTTP API (`serve --rest-listen`), with [`signed`] download URLs
//!   served by [`download`].

pub mod download;
pub mod easemob;
pub mod feed;
pub mod grpc;
pub mod links;
pub mod manifest;
pub mod notice;
pub mod outbox;
pub mod rest;
pub mod retention;
pub mod retry;
pub mod row;
pub mod signed;
pub mod storage;
pub mod store;
pub mod upload;
pub mod upload_rows;
pub mod webhook;

pub use store::{Catalog, CatalogError};
