#!/bin/bash
# (Copied from the shared harness for tests/webrtc_janus.rs; runs inside the test's private netns.)
# Start Debian's Janus 1.1.x on loopback only, VideoRoom plugin + HTTP transport
# (+ WebSocket transport on 127.0.0.1:8188 for tools that need it).
# Writes its own config under $JDIR/conf (does not touch /etc/janus).
# Usage: JDIR=/some/dir janus_start.sh -> prints PID, writes $JDIR/janus.pid, log $JDIR/janus.log
#   env: JDIR (required), HTTP_PORT (8088), ADMIN_PORT (7088), WS_PORT (8188),
#        RTP_RANGE (20000-20200), JANUS_MAX_S (900: hard lifetime, janus is killed after it)
# Stop: kill "$(cat $JDIR/janus.pid)"
set -u
: "${JDIR:?JDIR must name a run directory}"

HTTP_PORT=${HTTP_PORT:-8088}; ADMIN_PORT=${ADMIN_PORT:-7088}; WS_PORT=${WS_PORT:-8188}
RTP_RANGE=${RTP_RANGE:-20000-20200}
ICE_ENFORCE=${ICE_ENFORCE:-127.0.0.2}   # Janus skips IFF_LOOPBACK interfaces: see netns_run.sh
JANUS_MAX_S=${JANUS_MAX_S:-900}
LIB=/usr/lib/x86_64-linux-gnu/janus
C=$JDIR/conf; mkdir -p "$C"
cat > "$C/janus.jcfg" <<EOF
general: {
	configs_folder = "$C"
	plugins_folder = "$LIB/plugins"
	transports_folder = "$LIB/transports"
	events_folder = "$LIB/events"
	loggers_folder = "$LIB/loggers"
	debug_level = 4
	debug_timestamps = true
	admin_secret = "janusoverlord"
	session_timeout = 60
	server_name = "harness-janus"
}
certificates: {
}
media: {
	rtp_port_range = "$RTP_RANGE"
	no_media_timer = 2
}
nat: {
	# Janus never gathers on an IFF_LOOPBACK interface (src/ice.c), so inside the netns
	# 127.0.0.2 sits on a veth (netns_run.sh); host candidates only there, no STUN/TURN, no mDNS
	ice_enforce_list = "$ICE_ENFORCE"
	ignore_mdns = true
}
plugins: {
	disable = "libjanus_audiobridge.so,libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so"
}
transports: {
	disable = "libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so"
}
loggers: {
	disable = "libjanus_jsonlog.so"
}
events: {
	broadcast = false
}
EOF
cat > "$C/janus.transport.http.jcfg" <<EOF
general: {
	json = "indented"
	base_path = "/janus"
	http = true
	port = $HTTP_PORT
	ip = "127.0.0.1"
	https = false
}
admin: {
	admin_base_path = "/admin"
	admin_http = true
	admin_port = $ADMIN_PORT
	admin_ip = "127.0.0.1"
	admin_https = false
}
cors: {
	allow_origin = "*"
}
EOF
cat > "$C/janus.transport.websockets.jcfg" <<EOF
general: {
	json = "indented"
	ws = true
	ws_port = $WS_PORT
	ws_ip = "127.0.0.1"
	wss = false
}
admin: {
	admin_ws = false
	admin_wss = false
}
EOF
cat > "$C/janus.plugin.videoroom.jcfg" <<EOF
general: {
	# rooms are created at run time through the API
}
EOF
rm -f "$JDIR/janus.log"
# timeout bounds Janus' lifetime even if the caller forgets to stop it
timeout --kill-after=5 "$JANUS_MAX_S" janus -F "$C" -C "$C/janus.jcfg" -L "$JDIR/janus.log" -N -o >/dev/null 2>&1 &
TPID=$!
echo "$TPID" > "$JDIR/janus.pid"      # PID of the timeout wrapper; killing it (TERM) stops janus
for i in $(seq 1 100); do   # up to 10 s
  if curl -s -m 1 "http://127.0.0.1:$HTTP_PORT/janus/info" 2>/dev/null | grep -q '"janus": "server_info"'; then
    echo "janus up after $((i*100)) ms, pid $TPID, log $JDIR/janus.log"; exit 0
  fi
  kill -0 "$TPID" 2>/dev/null || break
  sleep 0.1
done
echo "janus did not come up; log:" >&2; tail -30 "$JDIR/janus.log" >&2; exit 1
