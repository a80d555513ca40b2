#!/usr/bin/env bash
# What per-participant files cost: the live daemon's CPU with N real RTP senders, in three
# record modes, in one run.
#
# Usage: benches/single.sh [SECONDS] [N] [CODEC]
#   SECONDS  how long each mode is measured (default 30; senders run SECONDS + 8 s)
#   N        participants (default 4)
#   CODEC    vp8 (default): 640x360@30 VP8 + Opus; per-participant files are WebM with
#            both streams passed through (no encoder at all)
#            h264: 640x360@30 H.264 + Opus; per-participant .mp4 with the video passed
#            through and the Opus decoded and encoded to AAC (ffmpeg's fast coder)
#   env: BENCH_WORK (default /tmp/cloudmixer-bench): inputs (cached) and recordings
#        CLOUDMIXER (default target/release/cloudmixer, built if missing)
#        SINGLE_ARGS: extra `cloudmixer create` flags for the `both` and `single` modes,
#        e.g. "--single-media av" or "--single-audio-container ogg"
# Senders are ffmpeg processes replaying pre-encoded inputs in real time with -c copy
# (`-re`), so their CPU is theirs; the daemon's CPU is utime + stime of its process
# (/proc/PID/stat fields 14 and 15) over a window that starts 5 s after the senders
# (start-up, first keyframes and encoder opening excluded) and lasts SECONDS of wall
# time, which is SECONDS of media at -re.
# Modes, one mixer each, one after the other on the same daemon:
#   mixed   the composite only (1280x720@15 grid, libx264 veryfast, AAC)
#   both    the composite and per-participant files (av + audio: NetEase recordType 0)
#   single  per-participant files only, no composite: no video is decoded or encoded
#   live    the composite plus its live outputs from the same encode (issue 14): an RTMP
#           push to a local nginx-rtmp (started here; scripts/install-live-test-deps.sh)
#           and HLS with 2 s segments
#   env MODES picks and orders them (default "mixed both single"), e.g.
#   MODES="mixed live mixed live mixed live" for alternating runs of the live outputs.
# Prints per mode: TAG MODE cpu_s=.. window_s=.. core_pct=..
# then TAG per_participant added_by_single_files_core_pct=.. single_only_core_pct=..
# (percent of one core per participant: (both - mixed) / N and single / N), and with
# live: TAG live_outputs added_pct_of_mixed=.. ((live - mixed) / mixed, last runs).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-30}
N=${2:-4}
CODEC=${3:-vp8}
MODES=${MODES:-mixed both single}
W=$(realpath -m "${BENCH_WORK:-/tmp/cloudmixer-bench}")
CM=${CLOUDMIXER:-$PWD/target/release/cloudmixer}
[ -x "$CM" ] || cargo build --release --bin cloudmixer
mkdir -p "$W/single-rec"
TAG=single-$CODEC-n$N
WARMUP=5
SEND_SECS=$((SECS + WARMUP + 3))

q() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }

# make_input I -> prints the path of participant I's input (cached per codec and length).
make_input() {
  local tone=$((300 + 110 * $1)) f=$W/single-p$1.$SEND_SECS.$CODEC.mkv v
  if [ ! -s "$f" ]; then
    case $CODEC in
      vp8) v=(-c:v libvpx -deadline realtime -cpu-used 8 -b:v 800k -g 60 -auto-alt-ref 0) ;;
      h264) v=(-c:v libx264 -preset veryfast -tune zerolatency -profile:v baseline -b:v 800k
        -g 60 -bsf:v h264_mp4toannexb) ;;
      *) echo "unknown codec $CODEC (vp8 | h264)" >&2; exit 2 ;;
    esac
    q -f lavfi -i "testsrc2=size=640x360:rate=30" -f lavfi -i "sine=frequency=$tone:sample_rate=48000" \
      -t "$SEND_SECS" "${v[@]}" -pix_fmt yuv420p -c:a libopus -b:a 48k -ac 2 -frame_duration 20 \
      "$f.tmp.mkv"
    mv "$f.tmp.mkv" "$f"
  fi
  echo "$f"
}

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

inputs=()
for i in $(seq 1 "$N"); do inputs+=("$(make_input "$i")"); done

# nginx with the RTMP module on a free loopback port, for the live mode.
RTMP_PORT=
if [[ " $MODES " == *" live "* ]]; then
  RTMP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$W/nginx"
  cat >"$W/nginx/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon off; master_process off; worker_processes 1;
pid $W/nginx/nginx.pid; error_log $W/nginx/error.log;
events { worker_connections 64; }
rtmp { server { listen 127.0.0.1:$RTMP_PORT; application live { live on; record off; } } }
CONF
  /usr/sbin/nginx -p "$W/nginx" -c "$W/nginx/nginx.conf" -e "$W/nginx/error.log" &
  pids+=($!)
fi

LOG=$W/single-daemon.log
"$CM" serve --listen 127.0.0.1:0 --recordings-dir "$W/single-rec" >"$LOG" 2>&1 &
DAEMON=$!
pids+=("$DAEMON")
SERVER=
for _ in $(seq 1 200); do
  SERVER=$(sed -n 's/^listening on \(.*\)$/http:\/\/\1/p' "$LOG" | head -1)
  [ -n "$SERVER" ] && break
  kill -0 "$DAEMON" 2>/dev/null || { echo "daemon exited:" >&2; cat "$LOG" >&2; exit 1; }
  sleep 0.05
done
[ -n "$SERVER" ] || { echo "daemon not listening after 10 s" >&2; exit 1; }

# H.264 leaves in Annex B with SPS/PPS before each keyframe: RTP carries no SDP here.
case $CODEC in vp8) vsrc=vp8/96 vbsf=() ;; h264) vsrc=h264/102 vbsf=(-bsf:v h264_mp4toannexb) ;; esac

# cpu_ticks: the daemon's user + system CPU so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$DAEMON/stat"; }
HZ=$(getconf CLK_TCK)

# run_mode MODE: one mixer with N senders; prints its line and sets LAST_PCT.
RUN=0
run_mode() {
  RUN=$((RUN + 1))
  local mode=$1 id=bench-$1-$$-$RUN args=() created ports senders=() t0 t1 c0 c1 i p
  for i in $(seq 1 "$N"); do args+=(--source "Usr$i.-1:video=$vsrc,audio=opus/111"); done
  # shellcheck disable=SC2206 # SINGLE_ARGS is a list of flags, split on spaces.
  case $mode in
    mixed) ;;
    live) args+=(--live-push-url "rtmp://127.0.0.1:$RTMP_PORT/live/bench" --hls-segment-secs 2) ;;
    *) args+=(--record-mode "$mode" ${SINGLE_ARGS:-}) ;;
  esac
  created=$("$CM" create --server "$SERVER" --id "$id" "${args[@]}" --size 1280x720 --fps 15 \
    --layout grid --out "$id.mp4" --json)
  ports=$(python3 -c '
import json, sys
for p in json.load(sys.stdin)["sourcePorts"]:
    print(p["videoRtpPort"], p["audioRtpPort"])
' <<<"$created")
  i=0
  while read -r vport aport; do
    ffmpeg -hide_banner -nostdin -loglevel error -re -i "${inputs[$i]}" \
      -map 0:v -c copy "${vbsf[@]}" -payload_type "${vsrc#*/}" -ssrc $((1000 + i)) \
      -f rtp "rtp://127.0.0.1:$vport?pkt_size=1200" \
      -map 0:a -c copy -payload_type 111 -ssrc $((2000 + i)) \
      -f rtp "rtp://127.0.0.1:$aport?pkt_size=1200" >"$W/single-sender-$i.log" 2>&1 &
    senders+=($!)
    pids+=($!)
    i=$((i + 1))
  done <<<"$ports"
  sleep "$WARMUP"
  c0=$(cpu_ticks) t0=$(date +%s.%N)
  sleep "$SECS"
  c1=$(cpu_ticks) t1=$(date +%s.%N)
  "$CM" destroy "$id" --server "$SERVER" >/dev/null
  for p in "${senders[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  local cpu win
  cpu=$(echo "($c1 - $c0) / $HZ" | bc -l)
  win=$(echo "$t1 - $t0" | bc -l)
  LAST_PCT=$(echo "100 * $cpu / $win" | bc -l)
  printf '%s %s cpu_s=%.2f window_s=%.1f core_pct=%.2f\n' "$TAG" "$mode" "$cpu" "$win" "$LAST_PCT"
}

mixed= both= single= live=
for mode in $MODES; do
  run_mode "$mode"
  case $mode in
    mixed) mixed=$LAST_PCT ;; both) both=$LAST_PCT ;; single) single=$LAST_PCT ;;
    live) live=$LAST_PCT live_run=$RUN ;;
    *) echo "unknown mode $mode (mixed | both | single | live)" >&2; exit 2 ;;
  esac
done
if [ -n "$mixed" ] && [ -n "$both" ] && [ -n "$single" ]; then
  printf '%s per_participant added_by_single_files_core_pct=%.2f single_only_core_pct=%.2f\n' \
    "$TAG" "$(echo "($both - $mixed) / $N" | bc -l)" "$(echo "$single / $N" | bc -l)"
fi
if [ -n "$mixed" ] && [ -n "$live" ]; then
  printf '%s live_outputs added_pct_of_mixed=%.1f\n' "$TAG" "$(echo "100 * ($live - $mixed) / $mixed" | bc -l)"
  # What the live mode wrote, so a reader can check the work was done.
  tail -3 "$W"/single-rec/bench-live-$$-$live_run-hls/index.m3u8 2>/dev/null || true
fi
# The per-participant files of the last mode, so a reader can check the work was done.
for f in "$W"/single-rec/*/Usr1.-1-*; do
  [ -s "$f" ] || continue
  printf '%s: ' "$(basename "$f")"
  ffprobe -v error -of csv=p=0 -show_entries format=duration,size "$f"
done
