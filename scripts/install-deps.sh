#!/usr/bin/env bash
# Installs what cloudmixer needs to build, test and run its demo on Debian 12.
# Idempotent and non-interactive: apt is not touched at all when every package is
# already installed (checked with dpkg -s). Runs apt as root, through sudo if needed.
set -euo pipefail

PACKAGES=(
  ffmpeg libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
  libavfilter-dev libavdevice-dev libclang-dev clang pkg-config protobuf-compiler
  bc time python3 curl
  # Name labels (src/compose/label.rs): Latin and Chinese glyphs.
  fonts-wqy-microhei
  # tests/e2e_metrics.rs scrapes the daemon's /metrics with a real Prometheus server.
  prometheus
  # The shared-catalog tests (tests/e2e_catalog.rs, tests/e2e_storage.rs) run a real
  # PostgreSQL server of their own (initdb + pg_ctl in a temp dir).
  postgresql
)

missing=()
for p in "${PACKAGES[@]}"; do
  # "install ok installed" only; a package in "deinstall" or half-configured state counts as missing.
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all system packages present"
fi

if ! command -v cargo >/dev/null 2>&1; then
  for d in "${CARGO_HOME:-$HOME/.cargo}/bin" /usr/local/cargo/bin; do
    if [ -x "$d/cargo" ]; then
      echo "install-deps: cargo is in $d but not on PATH; run: export PATH=\"$d:\$PATH\"" >&2
      exit 1
    fi
  done
  echo "install-deps: cargo not found. Install the Rust toolchain (1.80 or newer) with rustup:" >&2
  echo "  https://rustup.rs  (curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh)" >&2
  exit 1
fi
echo "install-deps: $(cargo --version)"
