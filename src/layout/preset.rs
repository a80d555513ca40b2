//! Preset layouts loaded from `layouts/*.json`.
