//! The recordings catalog (issue 13): every output file of every mixer, persisted, and
//! queried the way Easemob's REST API queries recordings (seed 003).
//!
//! - [`row`]: one row per output file and the Easemob field mapping (sans IO);
//! - [`easemob`]: the query parameters, paging rule, time forms and JSON (sans IO);
//! - [`store`]: SQLite through `sqlx`, schema in `migrations/`;
//! - [`feed`]: the task that stores outputs as their writing ends, from the event bus;
//! - [`retention`]: the task that deletes expired files and marks their rows;
//! - [`rest`]: the HTTP API (`serve --rest-listen`), with [`signed`] download URLs
//!   served by [`download`].

pub mod download;
pub mod easemob;
pub mod feed;
pub mod rest;
pub mod retention;
pub mod row;
pub mod signed;
pub mod store;

pub use store::{Catalog, CatalogError};
