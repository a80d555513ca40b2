#!/usr/bin/env bash
# Installs the real WebRTC peers the WebRTC end-to-end tests (tests/webrtc_*.rs) drive, on
# Debian 12: headless Chromium (fake camera/microphone), Janus 1.1 (VideoRoom,
# rtp_forward), GStreamer with webrtcbin/libnice, and iproute2 for the private network
# namespace the ICE tests run in (Janus and libnice ignore loopback interfaces).
# Idempotent: apt is not touched when every package is installed. Needs root (or sudo);
# without it, prints what is missing and exits 0 — the tests then skip with a message, or
# fail when the CI environment variable is set (as .ci/run sets it).
set -euo pipefail

PACKAGES=(
  chromium fonts-liberation janus iproute2 python3 curl ffmpeg
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-nice
  python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-plugins-bad-1.0
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-webrtc-test-deps: all packages present"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "install-webrtc-test-deps: not root; WebRTC tests will skip. Missing: ${missing[*]}" >&2
  exit 0
fi
echo "install-webrtc-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
fi
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
