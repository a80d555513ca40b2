#!/usr/bin/env bash
# Re-creates the RTP captures in tests/data/ used by tests/depacketize_captures.rs.
#
# Each capture: 2 s of a 320x240 test pattern at 15 fps with a key frame every 10
# frames (3 GOPs, 30 frames), or 1 s of 48 kHz Opus, sent over RTP to a local
# receiver (scripts/rtp_capture_receiver.py) that writes NAME.rtpdump (rtptools
# format) and NAME.txt (seq ts marker pt size per packet).
#
#   ffmpeg_vp8        ffmpeg libvpx + ffmpeg RTP muxer (descriptor with 15-bit picture ID)
#   ffmpeg_h264       ffmpeg libx264 baseline + ffmpeg RTP muxer (STAP-A SPS/PPS/SEI,
#                     single NAL, FU-A; several slices per frame)
#   ffmpeg_opus       ffmpeg libopus, 20 ms frames
#   gst_h264_stapa    GStreamer x264enc + rtph264pay aggregate-mode=zero-latency
#                     config-interval=-1 (STAP-A with SPS/PPS, FU-A)
#   gst_vp8           GStreamer vp8enc + rtpvp8pay (15-bit picture ID, partitions)
#
# Usage: scripts/record-rtp-capture.sh [NAME...]   (default: all)
# Needs ffmpeg (libvpx, libx264, libopus) and, for gst_*, GStreamer 1.x with
# plugins good/bad/ugly.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=tests/data
mkdir -p "$OUT"
W=320 H=240 FPS=15 GOP=10 FRAMES=30

capture() { # NAME then the sender command, with PORT substituted
  local name=$1; shift
  local port_file
  port_file=$(mktemp)
  rm -f "$port_file"
  python3 scripts/rtp_capture_receiver.py --out "$OUT/$name.rtpdump" --port-file "$port_file" &
  local rx=$!
  for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
  local port
  port=$(cat "$port_file")
  rm -f "$port_file"
  "${@//PORT/$port}" </dev/null >/dev/null 2>"$OUT/.$name.log" || { cat "$OUT/.$name.log"; kill "$rx"; exit 1; }
  wait "$rx"
  rm -f "$OUT/.$name.log"
}

FFMPEG=(ffmpeg -hide_banner -nostats -y -re)
VIDEO_SRC=(-f lavfi -i "testsrc2=size=${W}x${H}:rate=$FPS" -frames:v $FRAMES)

ffmpeg_vp8() {
  capture ffmpeg_vp8 "${FFMPEG[@]}" "${VIDEO_SRC[@]}" -c:v libvpx -b:v 300k \
    -g $GOP -keyint_min $GOP -deadline realtime -cpu-used 8 -auto-alt-ref 0 -lag-in-frames 0 \
    -f rtp -payload_type 96 -ssrc 1111 "rtp://127.0.0.1:PORT?pkt_size=1200"
}
ffmpeg_h264() {
  capture ffmpeg_h264 "${FFMPEG[@]}" "${VIDEO_SRC[@]}" -c:v libx264 -profile:v baseline \
    -preset ultrafast -tune zerolatency -g $GOP -keyint_min $GOP -sc_threshold 0 -bf 0 \
    -pix_fmt yuv420p -b:v 300k \
    -f rtp -payload_type 96 -ssrc 2222 "rtp://127.0.0.1:PORT?pkt_size=1200"
}
ffmpeg_opus() {
  capture ffmpeg_opus "${FFMPEG[@]}" -f lavfi -i "sine=frequency=440:sample_rate=48000" -t 1 \
    -c:a libopus -b:a 32k -frame_duration 20 -ac 1 \
    -f rtp -payload_type 111 -ssrc 3333 "rtp://127.0.0.1:PORT"
}
gst_h264_stapa() {
  capture gst_h264_stapa gst-launch-1.0 -q videotestsrc pattern=smpte num-buffers=$FRAMES is-live=true \
    ! "video/x-raw,width=$W,height=$H,framerate=$FPS/1,format=I420" \
    ! x264enc key-int-max=$GOP bframes=0 tune=zerolatency speed-preset=ultrafast bitrate=300 \
    ! "video/x-h264,profile=constrained-baseline" \
    ! rtph264pay aggregate-mode=zero-latency config-interval=-1 pt=96 mtu=1200 ssrc=4444 \
    ! udpsink host=127.0.0.1 port=PORT
}
gst_vp8() {
  capture gst_vp8 gst-launch-1.0 -q videotestsrc pattern=smpte100 num-buffers=$FRAMES is-live=true \
    ! "video/x-raw,width=$W,height=$H,framerate=$FPS/1" \
    ! vp8enc keyframe-max-dist=$GOP keyframe-mode=auto deadline=1 target-bitrate=300000 \
      token-partitions=2 error-resilient=partitions \
    ! rtpvp8pay pt=96 mtu=1200 ssrc=5555 picture-id-mode=15-bit \
    ! udpsink host=127.0.0.1 port=PORT
}

NAMES=("$@")
[ ${#NAMES[@]} -gt 0 ] || NAMES=(ffmpeg_vp8 ffmpeg_h264 ffmpeg_opus gst_h264_stapa gst_vp8)
for n in "${NAMES[@]}"; do "$n"; done
ls -l "$OUT"
