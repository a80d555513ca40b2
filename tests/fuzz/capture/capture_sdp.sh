#!/usr/bin/env bash
# Captures real WHIP/WHEP SDP exchanges with the daemon for the fuzz seeds of
# `whip_offer` and `sdp_negotiate` (docs/FUZZING.md). Runs on loopback, no netns:
#   1. `cloudmixer serve --whip-listen` (loopback ICE candidates on), mixer `cap` with
#      WHIP sources Web1 (VP8+Opus), Web2 (H.264+Opus), Gst1 (VP8+Opus), Gst2 (H.264+Opus)
#      and Loop (VP8+Opus);
#   2. whip_log_proxy.py in front of the WHIP listener logs every request and response;
#   3. headless Chromium (tests/web/whip_publish.html, fake camera/microphone) publishes
#      to Web1 and Web2, GStreamer webrtcbin (the harness' whip_publish_gst.py) to Gst1
#      and Gst2, each for a few seconds, through the proxy;
#   4. a second mixer `pull` has a WHEP source whose URL is Loop's WHIP endpoint through
#      the proxy: the daemon's own WHEP offer, answered by its WHIP endpoint.
# Output: OUT/log/N-{request,response}.{txt,body} (N in exchange order) and OUT/*.log.
#
# Usage: tests/fuzz/capture/capture_sdp.sh [OUT]   (default /tmp/cloudmixer-sdp-capture)
#   CLOUDMIXER_BIN: the daemon (default target/debug/cloudmixer, or $CARGO_TARGET_DIR's);
#   GST_WHIP: the GStreamer publisher (default /work/shared/harness/whip_publish_gst.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out=${1:-/tmp/cloudmixer-sdp-capture}
bin=${CLOUDMIXER_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/cloudmixer}
gst_whip=${GST_WHIP:-/work/shared/harness/whip_publish_gst.py}
grpc=127.0.0.1:18451 whip=127.0.0.1:18480 proxy=18481
rm -rf "$out"; mkdir -p "$out/log" "$out/rec"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

"$bin" serve --listen "$grpc" --whip-listen "$whip" --webrtc-loopback \
  --recordings-dir "$out/rec" --rtp-ports 47000-47099 >"$out/daemon.log" 2>&1 &
pids+=($!)
python3 "$here/whip_log_proxy.py" "$proxy" "http://$whip" "$out/log" >"$out/proxy.log" 2>&1 &
pids+=($!)
sleep 2
cli() { "$bin" "$@" --server "http://$grpc"; }
cli create --json --id cap --out cap.mp4 \
  --source 'Web1:video=vp8/96,audio=opus/111,transport=whip' \
  --source 'Web2:video=h264/102,audio=opus/111,transport=whip' \
  --source 'Gst1:video=vp8/96,audio=opus/111,transport=whip' \
  --source 'Gst2:video=h264/102,audio=opus/111,transport=whip' \
  --source 'Loop:video=vp8/96,audio=opus/111,transport=whip' >"$out/create.json"
# "whipUrl": "http://127.0.0.1:18480/whip/<id>", "whipToken": "<token>", in source order.
mapfile -t urls < <(grep -o '"whipUrl": *"[^"]*"' "$out/create.json" | cut -d'"' -f4 |
  sed "s#http://$whip#http://127.0.0.1:$proxy#")
mapfile -t tokens < <(grep -o '"whipToken": *"[^"]*"' "$out/create.json" | cut -d'"' -f4)

chromium_publish() { # URL TOKEN VCODEC LOG
  local profile; profile=$(mktemp -d)
  timeout 25 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-default-apps --disable-extensions --disable-features=MediaRouter,OptimizationHints \
    --use-fake-device-for-media-stream --use-fake-ui-for-media-stream \
    --allow-loopback-in-peer-connection --allow-file-access-from-files \
    --autoplay-policy=no-user-gesture-required --enable-logging=stderr --v=0 \
    --user-data-dir="$profile" \
    "file://$repo/tests/web/whip_publish.html?url=$1&token=$2&seconds=4&vcodec=$3" \
    >"$4" 2>&1 || true
  rm -rf "$profile"
}
chromium_publish "${urls[0]}" "${tokens[0]}" VP8 "$out/chromium-vp8.log"
chromium_publish "${urls[1]}" "${tokens[1]}" H264 "$out/chromium-h264.log"
timeout 30 /usr/bin/python3 "$gst_whip" "${urls[2]}" --token "${tokens[2]}" --codec vp8 \
  --duration 4 >"$out/gst-vp8.log" 2>&1 || true
timeout 30 /usr/bin/python3 "$gst_whip" "${urls[3]}" --token "${tokens[3]}" --codec h264 \
  --duration 4 >"$out/gst-h264.log" 2>&1 || true

cli create --json --id pull --out pull.mp4 \
  --source "Pull:video=vp8/96,audio=opus/111,whep=${urls[4]},token=${tokens[4]}" \
  >"$out/create-pull.json"
sleep 4
cli destroy pull >/dev/null || true
cli destroy cap >/dev/null || true
grep -h 'WHIPTEST' "$out"/chromium-*.log | sed 's/.*WHIPTEST /chromium: /; s/", source.*//' || true
grep -h '\[whip-gst\]' "$out"/gst-*.log || true
cat "$out/proxy.log"
