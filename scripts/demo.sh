#!/usr/bin/env bash
# A two-participant demo of the whole product on this machine, in about 30 s after the
# build: the daemon, a mixer with two RTP publishers made by ffmpeg (VP8 test pattern +
# 440 Hz, H.264 colour bars + 880 Hz), side by side, switched live to picture in picture,
# destroyed after ~10 s; prints the events, the output path and an ffprobe summary.
#
# Usage: scripts/demo.sh        (env: DEMO_LISTEN=127.0.0.1:50051, DEMO_SECONDS=10)
# Everything written goes under ./recordings/demo/ (the daemon's recordings root is
# ./recordings). Every background process is stopped on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

LISTEN=${DEMO_LISTEN:-127.0.0.1:50051}
SECONDS_TOTAL=${DEMO_SECONDS:-10}
SWITCH_AFTER=$((SECONDS_TOTAL / 2))

scripts/install-deps.sh
cargo build --release
BIN=$PWD/target/release/cloudmixer

ts=$(date +%Y%m%d-%H%M%S)
ID=demo-$ts
REL=demo/demo-$ts.mp4
LOGDIR=$PWD/recordings/demo
mkdir -p "$LOGDIR"
DAEMON_LOG=$LOGDIR/demo-$ts.daemon.log
EVENTS_LOG=$LOGDIR/demo-$ts.events.log

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_open() { timeout 1 bash -c ": </dev/tcp/${1%:*}/${1##*:}" 2>/dev/null; }

if port_open "$LISTEN"; then
  echo "demo: $LISTEN is already in use (another daemon?); set DEMO_LISTEN=127.0.0.1:PORT" >&2
  exit 1
fi

echo "== cloudmixer serve --listen $LISTEN --recordings-dir ./recordings (log: $DAEMON_LOG)"
"$BIN" serve --listen "$LISTEN" --recordings-dir ./recordings >"$DAEMON_LOG" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  port_open "$LISTEN" && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "demo: daemon exited:" >&2; cat "$DAEMON_LOG" >&2; exit 1; }
  sleep 0.1
done
port_open "$LISTEN" || { echo "demo: daemon not listening after 10 s" >&2; exit 1; }
SERVER=http://$LISTEN

echo "== cloudmixer events --mixer $ID (log: $EVENTS_LOG)"
"$BIN" events --server "$SERVER" --mixer "$ID" >"$EVENTS_LOG" 2>&1 &
pids+=($!)
sleep 0.5

echo "== cloudmixer create $ID: 1280x720 @ 15 fps, side-by-side, out $REL"
created=$("$BIN" create --server "$SERVER" --id "$ID" \
  --source 'Usr1.-1:video=vp8/96,audio=opus/111' \
  --source 'Usr2.-1:video=h264/102,audio=opus/111' \
  --size 1280x720 --fps 15 --layout side-by-side --out "$REL" --json)
# "camid host video_rtp audio_rtp" per source, from the JSON response.
ports=$(python3 -c '
import json, sys
for p in json.load(sys.stdin)["sourcePorts"]:
    host = p.get("rtpHost") or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    print(p["camid"], host, p["videoRtpPort"], p["audioRtpPort"])
' <<<"$created")
echo "$ports" | while read -r camid host v a; do echo "   $camid: video rtp $host:$v, audio rtp $host:$a"; done

# send CAMID PICTURE TONE_HZ vp8|h264 : an ffmpeg RTP publisher like a WebRTC client's.
send() {
  local camid=$1 picture=$2 tone=$3 codec=$4 line host vport aport venc vpt
  line=$(grep "^$camid " <<<"$ports")
  read -r _ host vport aport <<<"$line"
  case $codec in
    vp8) vpt=96; venc=(-c:v libvpx -deadline realtime -cpu-used 8 -b:v 800k -g 30 -auto-alt-ref 0) ;;
    h264) vpt=102; venc=(-c:v libx264 -preset veryfast -tune zerolatency -profile:v baseline
                           -b:v 800k -g 30 -bsf:v h264_mp4toannexb) ;;
  esac
  local dur=$((SECONDS_TOTAL + 5))
  timeout --signal=INT --kill-after=5 $((dur + 10)) \
    ffmpeg -hide_banner -nostdin -loglevel error -re \
      -t "$dur" -f lavfi -i "$picture=size=640x360:rate=30" \
      -t "$dur" -f lavfi -i "sine=frequency=$tone:sample_rate=48000" \
      -map 0:v "${venc[@]}" -pix_fmt yuv420p -payload_type "$vpt" -ssrc $((1000 + tone)) \
        -f rtp "rtp://$host:$vport?pkt_size=1200" \
      -map 1:a -c:a libopus -ar 48000 -ac 2 -b:a 64k -application lowdelay -frame_duration 20 \
        -payload_type 111 -ssrc $((2000 + tone)) -f rtp "rtp://$host:$aport?pkt_size=1200" \
      >"$LOGDIR/demo-$ts.$camid.sender.log" 2>&1 &
  pids+=($!)
}
echo "== publishers: Usr1.-1 VP8 testsrc2 + 440 Hz, Usr2.-1 H.264 smptebars + 880 Hz"
send Usr1.-1 testsrc2 440 vp8
send Usr2.-1 smptebars 880 h264

sleep "$SWITCH_AFTER"
echo "== cloudmixer update $ID --layout picture-in-picture"
"$BIN" update "$ID" --server "$SERVER" --layout picture-in-picture
sleep $((SECONDS_TOTAL - SWITCH_AFTER))
echo "== cloudmixer get $ID"
"$BIN" get "$ID" --server "$SERVER" || true
echo "== cloudmixer destroy $ID"
"$BIN" destroy "$ID" --server "$SERVER"
sleep 1

echo "== events seen"
cat "$EVENTS_LOG"

OUT=$PWD/recordings/$REL
echo "== output: $OUT"
ls -l "$OUT"
ffprobe -v error -of default=noprint_wrappers=1 \
  -show_entries format=duration,size:stream=index,codec_type,codec_name,width,height,avg_frame_rate,sample_rate,channels \
  "$OUT"
echo "== done (logs in $LOGDIR)"
