#!/usr/bin/env bash
# Runs every cargo-fuzz target of tests/fuzz/ for SECONDS each (default 60), one job at
# a time at low priority. CI-optional tooling: scripts/test.sh does not call it; the
# corpus and fixed crash reproducers are replayed in `cargo test` by
# tests/fuzz_regressions.rs. See docs/FUZZING.md.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   FUZZ_SANITIZER=address scripts/fuzz.sh 300 rtp_packet   # with ASan (about 2x slower)
#   FUZZ_NO_BUILD=1 scripts/fuzz.sh 60                       # reuse the last build
#
# New inputs go to tests/fuzz/target/corpus/<target>/ (ignored by git), seeded from the
# committed tests/fuzz/corpus/<target>/; crashes to tests/fuzz/artifacts/<target>/.
# Per-target logs: tests/fuzz/target/logs/<target>.log. Exits 1 if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
fuzz_dir=tests/fuzz
sanitizer=${FUZZ_SANITIZER:-none}
flags=(--fuzz-dir "$fuzz_dir" --sanitizer "$sanitizer" --codegen-units 16)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

# Only the stable toolchain exists on our machines; cargo-fuzz passes unstable rustc
# flags (-Zsanitizer, and with some versions other -Z options), which this allows.
export RUSTC_BOOTSTRAP=1

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list --fuzz-dir "$fuzz_dir")
fi

if [ -z "${FUZZ_NO_BUILD:-}" ]; then
  echo "== building ${#targets[@]} fuzz targets (sanitizer: $sanitizer)"
  nice cargo fuzz build "${flags[@]}"
fi
# The built binaries are run directly rather than by `cargo fuzz run`, which rebuilds
# whenever a source file changed: in a tree others are editing, every target would
# otherwise be rebuilt (or fail to build) between runs.
bin_dir="$fuzz_dir/target/$(rustc -vV | awk '/^host:/ {print $2}')/release"

mkdir -p "$fuzz_dir/target/logs"
summary=()
failed=0
for t in "${targets[@]}"; do
  work="$fuzz_dir/target/corpus/$t"
  log="$fuzz_dir/target/logs/$t.log"
  mkdir -p "$work" "$fuzz_dir/corpus/$t" "$fuzz_dir/artifacts/$t"
  echo "== $t: ${secs}s (log: $log)"
  set +e
  nice "$bin_dir/$t" -artifact_prefix="$fuzz_dir/artifacts/$t/" \
    -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
    "$work" "$fuzz_dir/corpus/$t" >"$log" 2>&1
  status=$?
  set -e
  execs=$(awk '/stat::number_of_executed_units/ {print $NF}' "$log")
  rate=$(awk '/stat::average_exec_per_sec/ {print $NF}' "$log")
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
  if [ "$status" -ne 0 ]; then
    failed=1
    grep -E 'panicked at|SUMMARY|Test unit written to' "$log" || tail -20 "$log"
    summary+=("$t: FAILED (exit $status) after ${execs:-?} execs; see $log")
  else
    summary+=("$t: ${secs}s, ${execs:-?} execs, ${rate:-?} exec/s, ${cov:-?}")
  fi
done

echo "== summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
