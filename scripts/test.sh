#!/usr/bin/env bash
# Every check CI runs, in order: system packages, formatting, clippy (warnings are
# errors), then all unit, integration and end-to-end tests (`cargo test`), one test at a
# time. That includes the WebRTC tests (tests/webrtc_*.rs: Chromium, Janus, GStreamer,
# installed below; webrtc_janus needs root for its network namespace) and the media
# timing tests (tests/e2e_sync.rs, several minutes, the 5 % loss run included).
#
# With the environment variable CI set (.ci/run sets CI=true), a WebRTC test whose tools
# are missing fails; without it, it prints "SKIP: ..." to stderr and passes. Tests marked
# #[ignore] (helpers, and the Janus runs the network-namespace wrappers start) are the
# "skipped" count below.
#
# The tests run in the dev profile: Cargo.toml builds our code at opt-level 1 and every
# dependency at opt-level 2, which is fast enough for the end-to-end tests that encode
# 720p in real time, and shares its build with clippy's dependency graph better than a
# separate release build would.
#
# Exits non-zero on the first failing step; cargo's own summaries are printed, and the
# last line totals every test binary: "tests: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."

# Whole `cargo test` run limit, seconds, compiling the test targets included (each test
# bounds its own children too). On a fresh 2-core machine the compile takes about 10
# minutes and the tests about 14 (809 s of test time measured on 2026-12-06).
TEST_TIMEOUT_S=${TEST_TIMEOUT_S:-2100}

scripts/install-deps.sh
# Chromium, Janus, GStreamer, iproute2 for the WebRTC end-to-end tests (tests/webrtc_*.rs).
scripts/install-webrtc-test-deps.sh
# The S3-compatible server of the storage tests (tests/e2e_storage.rs).
scripts/install-storage-test-deps.sh
# nginx with the RTMP module for the live-output tests (tests/e2e_live.rs).
scripts/install-live-test-deps.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy --all-targets --features fuzzing -D warnings"
cargo clippy --all-targets --features fuzzing -- -D warnings

echo "== cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
timeout --signal=INT --kill-after=30 "$TEST_TIMEOUT_S" cargo test --features fuzzing --no-fail-fast -- --test-threads=1 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# Totals over every "test result:" line (one per test binary and the doc tests).
awk '/^test result:/ {
       for (i = 1; i <= NF; i++) {
         if ($(i) ~ /^passed;?$/) p += $(i-1)
         if ($(i) ~ /^failed;?$/) f += $(i-1)
         if ($(i) ~ /^ignored;?$/) s += $(i-1)
       }
     }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
if [ "$status" -eq 124 ]; then
  echo "cargo test timed out after ${TEST_TIMEOUT_S}s" >&2
fi
exit "$status"
