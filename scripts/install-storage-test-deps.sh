#!/usr/bin/env bash
# The S3-compatible server the storage tests run against (tests/e2e_storage.rs):
# s3s-fs from crates.io (the s3s project's file-system store: a real S3 HTTP server
# with SigV4 signature checks, objects kept as plain files). Chosen over Garage and
# RustFS because it builds from crates.io in about 3 minutes here, needs no cluster
# layout or admin API to start, and keeps objects readable for checksum checks.
# Pinned: 0.14.1 is the newest release that builds with this machine's rustc 1.95.
set -euo pipefail
S3S_FS_VERSION=0.14.1
if command -v s3s-fs >/dev/null 2>&1 || [ -x "$HOME/.cargo/bin/s3s-fs" ]; then
  echo "install-storage-test-deps: s3s-fs present"
  exit 0
fi
echo "install-storage-test-deps: cargo install s3s-fs@$S3S_FS_VERSION"
cargo install "s3s-fs@$S3S_FS_VERSION" --locked --features binary
