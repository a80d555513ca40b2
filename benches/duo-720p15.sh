#!/usr/bin/env bash
# cloudmixer vs the ffmpeg command line on the same mixing job, same inputs, same encoder
# settings: CPU seconds per media second and peak memory of each, and their ratio.
#
# Usage: benches/duo-720p15.sh [SECONDS] [JOB]
#   SECONDS  media length (default 60)
#   JOB      duo-720p15 (default)  2 x 640x360@30 VP8+Opus (testsrc2, 440/660 Hz) -> side by
#                                  side (two 640x360 tiles at top=180) 1280x720@15, x264 1500k
#            pip-720p30            2 x 1280x720@30 H.264+Opus -> full canvas + 400x225 tile at
#                                  880,495, 1280x720@30, x264 2500k
#            grid4-1080p30         4 x 1280x720@30 H.264+Opus -> 2x2 grid 1920x1080@30, x264 4000k
#   env: BENCH_WORK (default /tmp/cloudmixer-bench): inputs (cached per job and length) and outputs
#        CLOUDMIXER (default target/release/cloudmixer, built if missing)
# Both sides: x264 preset veryfast with one encoder thread, AAC 64 kbit/s, one filter
# thread for ffmpeg; measured with /usr/bin/time (user + sys CPU, max RSS).
# Prints per side: JOB TOOL cpu_s=.. media_s=.. cpu_per_media_s=.. peak_rss_kb=..
# then: JOB ratio cloudmixer/ffmpeg cpu=.. rss=..
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
JOB=${2:-duo-720p15}
W=$(realpath -m "${BENCH_WORK:-/tmp/cloudmixer-bench}")
CM=${CLOUDMIXER:-$PWD/target/release/cloudmixer}
[ -x "$CM" ] || cargo build --release
mkdir -p "$W"

q() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }

# make_input NAME SIZE CODEC TONE_HZ -> prints the path; generated once per length.
make_input() {
  local f=$W/$1.$SECS.$3.$2.mkv v
  if [ ! -s "$f" ]; then
    case $3 in
      vp8) v=(-c:v libvpx -deadline realtime -cpu-used 8 -b:v 800k -g 60 -auto-alt-ref 0) ;;
      h264) v=(-c:v libx264 -preset veryfast -tune zerolatency -profile:v baseline -b:v 1500k -g 60) ;;
    esac
    q -f lavfi -i "testsrc2=size=$2:rate=30" -f lavfi -i "sine=frequency=$4:sample_rate=48000" \
      -t "$SECS" "${v[@]}" -pix_fmt yuv420p -c:a libopus -b:a 48k -ac 2 "$f.tmp.mkv"
    mv "$f.tmp.mkv" "$f"
  fi
  echo "$f"
}

# The ffmpeg baseline graphs: the same as the project's reference baseline command.
case $JOB in
  duo-720p15)
    ins=("$(make_input p1 640x360 vp8 440)" "$(make_input p2 640x360 vp8 660)")
    size=1280x720 fps=15 bps=1500000 layout=side-by-side
    graph="color=black:s=1280x720:r=15[bg];\
[0:v]fps=15,scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:-1:-1[a];\
[1:v]fps=15,scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:-1:-1[b];\
[bg][a]overlay=0:180:shortest=1[t];[t][b]overlay=640:180[v];[0:a][1:a]amix=inputs=2[aout]" ;;
  pip-720p30)
    ins=("$(make_input p1 1280x720 h264 440)" "$(make_input p2 1280x720 h264 660)")
    size=1280x720 fps=30 bps=2500000 layout=picture-in-picture
    graph="color=black:s=1280x720:r=30[bg];\
[0:v]fps=30,scale=1280:720[a];\
[1:v]fps=30,scale=400:225[b];\
[bg][a]overlay=0:0:shortest=1[t];[t][b]overlay=880:495[v];[0:a][1:a]amix=inputs=2[aout]" ;;
  grid4-1080p30)
    ins=()
    for i in 1 2 3 4; do ins+=("$(make_input "p$i" 1280x720 h264 $((220 * (i + 1))))"); done
    size=1920x1080 fps=30 bps=4000000 layout=grid
    graph="color=black:s=1920x1080:r=30[bg];"
    for i in 0 1 2 3; do
      graph+="[$i:v]fps=30,scale=960:540:force_original_aspect_ratio=decrease,pad=960:540:-1:-1[t$i];"
    done
    graph+="[bg][t0]overlay=0:0:shortest=1[o0];[o0][t1]overlay=960:0[o1];[o1][t2]overlay=0:540[o2];[o2][t3]overlay=960:540[v];"
    graph+="[0:a][1:a][2:a][3:a]amix=inputs=4[aout]" ;;
  *) echo "unknown job $JOB (duo-720p15 | pip-720p30 | grid4-1080p30)" >&2; exit 2 ;;
esac

# measure NAME CMD... : runs CMD under /usr/bin/time (its stdout discarded), prints the
# result line, sets LAST_CPU/LAST_RSS.
measure() {
  local name=$1 stats user sys rss
  shift
  stats=$(mktemp)
  /usr/bin/time -f "%U %S %M" -o "$stats" "$@" >/dev/null
  read -r user sys rss <"$stats"
  rm -f "$stats"
  LAST_CPU=$(echo "$user + $sys" | bc -l)
  LAST_RSS=$rss
  printf '%s %s cpu_s=%.2f media_s=%s cpu_per_media_s=%.4f peak_rss_kb=%s\n' \
    "$JOB" "$name" "$LAST_CPU" "$SECS" "$(echo "$LAST_CPU / $SECS" | bc -l)" "$LAST_RSS"
}

cm_args=()
for i in "${!ins[@]}"; do cm_args+=(--input "Usr$((i + 1)).-1=${ins[$i]}"); done
measure cloudmixer "$CM" compose "${cm_args[@]}" --layout "$layout" --size "$size" --fps "$fps" \
  --bps "$bps" --audio-bps 64000 --x264-preset veryfast --encoder-threads 1 \
  --out "$W/cloudmixer-$JOB.mp4" --force
cm_cpu=$LAST_CPU cm_rss=$LAST_RSS

ff_in=()
for f in "${ins[@]}"; do ff_in+=(-i "$f"); done
measure ffmpeg ffmpeg -hide_banner -loglevel error -nostdin -y -threads 1 "${ff_in[@]}" \
  -filter_complex "$graph" -filter_complex_threads 1 -map "[v]" -map "[aout]" \
  -c:v libx264 -preset veryfast -b:v "$bps" -threads 1 -c:a aac -b:a 64k -movflags +faststart \
  "$W/ffmpeg-$JOB.mp4"

printf '%s ratio cloudmixer/ffmpeg cpu=%.3f rss=%.3f\n' "$JOB" \
  "$(echo "$cm_cpu / $LAST_CPU" | bc -l)" "$(echo "$cm_rss / $LAST_RSS" | bc -l)"
# The outputs, so a reader can check both did the same work.
for f in "$W/cloudmixer-$JOB.mp4" "$W/ffmpeg-$JOB.mp4"; do
  printf '%s: ' "$(basename "$f")"
  ffprobe -v error -of csv=p=0 -show_entries format=duration,size "$f"
done
