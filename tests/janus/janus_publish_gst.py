#!/usr/bin/python3
"""Janus VideoRoom publisher for tests/webrtc_janus.rs: GStreamer webrtcbin + Janus' plain
HTTP API (stdlib urllib), no browser and no janus.js.

Usage (Debian's /usr/bin/python3: needs python3-gi, gir1.2-gst-plugins-bad-1.0,
gstreamer1.0-nice):
  janus_publish_gst.py [--server http://127.0.0.1:8088/janus] [--room 1234]
                       [--display gstreamer] [--codec vp8|h264] [--duration 90]

Creates a session, attaches janus.plugin.videoroom, joins ROOM as a publisher, creates a
sendonly offer (videotestsrc "ball" on grey, 640x360@30, VP8 pt 96 or H.264 pt 102, and a
440 Hz sine as Opus pt 111), waits for ICE gathering to complete (no trickle), sends it
with "configure", long-polls the session for the event carrying the jsep answer and
applies it; keepalives every 10 s; exits after DURATION s (or on SIGTERM).
libnice skips IFF_LOOPBACK interfaces: run it in the test's network namespace, where
127.0.0.2 sits on a veth, so that it gathers that host candidate (Janus' only one too).
Progress on stdout, one line each: "JANUSGST joined", "JANUSGST answer applied",
"JANUSGST ICE connected", "JANUSGST error ...". Exit code 0 only if ICE connected.
"""
import argparse, json, random, signal, sys, threading, time, urllib.request
import gi
gi.require_version('Gst', '1.0'); gi.require_version('GstWebRTC', '1.0'); gi.require_version('GstSdp', '1.0')
from gi.repository import Gst, GstWebRTC, GstSdp, GLib

ap = argparse.ArgumentParser()
ap.add_argument('--server', default='http://127.0.0.1:8088/janus')
ap.add_argument('--room', type=int, default=1234); ap.add_argument('--display', default='gstreamer')
ap.add_argument('--codec', default='vp8', choices=['vp8', 'h264'])
ap.add_argument('--duration', type=float, default=90)
a = ap.parse_args()
J = a.server


def log(*x):
    print('JANUSGST', *x, flush=True)


def call(path, body, timeout=10):
    body = dict(body); body['transaction'] = '%016x' % random.getrandbits(64)
    req = urllib.request.Request(J + path, json.dumps(body).encode(),
                                 {'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.load(r)


def poll(sid):
    url = '%s/%d?maxev=10&rid=%d' % (J, sid, random.getrandbits(32))
    with urllib.request.urlopen(url, timeout=40) as r:
        d = json.load(r)
    return d if isinstance(d, list) else [d]


Gst.init(None)
V = {'vp8': 'vp8enc deadline=1 keyframe-max-dist=3000 target-bitrate=800000 ! rtpvp8pay pt=96 '
            '! application/x-rtp,media=video,encoding-name=VP8,payload=96',
     'h264': 'x264enc tune=zerolatency speed-preset=veryfast key-int-max=3000 bitrate=800 '
             '! video/x-h264,profile=constrained-baseline '
             '! rtph264pay pt=102 config-interval=-1 aggregate-mode=zero-latency '
             '! application/x-rtp,media=video,encoding-name=H264,payload=102,'
             'packetization-mode=(string)1'}[a.codec]
pipe = Gst.parse_launch(
    'webrtcbin name=pc bundle-policy=max-bundle '
    'videotestsrc is-live=true pattern=ball background-color=0xff808080 motion=wavy '
    '! video/x-raw,width=640,height=360,framerate=30/1 ! videoconvert ! queue '
    f'! {V} ! queue ! pc. '
    'audiotestsrc is-live=true wave=sine freq=440 volume=0.5 ! audioconvert ! audioresample '
    '! queue ! opusenc bitrate=64000 ! rtpopuspay pt=111 '
    '! application/x-rtp,media=audio,encoding-name=OPUS,payload=111 ! queue ! pc. ')
pc = pipe.get_by_name('pc')
# No UPnP-IGD (SSDP multicast) and no ICE-TCP: host UDP candidates only.
ice = pc.get_property('ice-agent'); ice.set_property('ice-tcp', False)
ice.get_property('agent').set_property('upnp', False)
loop = GLib.MainLoop()
state = {'connected': False, 'sent': False, 'tries': 0, 'stop': threading.Event()}

sid = call('', {'janus': 'create'})['data']['id']
hid = call('/%d' % sid, {'janus': 'attach', 'plugin': 'janus.plugin.videoroom'})['data']['id']
r = call('/%d/%d' % (sid, hid), {'janus': 'message', 'body': {
    'request': 'join', 'ptype': 'publisher', 'room': a.room, 'display': a.display}})
log('joined' if r.get('janus') in ('ack', 'success') else 'error join %s' % r)


def keepalive():
    while not state['stop'].wait(10):
        try: call('/%d' % sid, {'janus': 'keepalive'})
        except Exception as e: log('keepalive failed:', e)


def apply_answer(sdp):
    _, msg = GstSdp.SDPMessage.new_from_text(sdp)
    ans = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)
    pc.emit('set-remote-description', ans, Gst.Promise.new())
    log('answer applied')
    return False


def configure(offer_sdp):
    """Sends the full offer; long-polls for the answer (in a thread: blocking HTTP)."""
    try:
        r = call('/%d/%d' % (sid, hid), {'janus': 'message',
                 'body': {'request': 'configure', 'audio': True, 'video': True},
                 'jsep': {'type': 'offer', 'sdp': offer_sdp}})
        if r.get('janus') == 'error':
            log('error configure %s' % r); GLib.idle_add(loop.quit); return
        deadline = time.time() + 30
        while time.time() < deadline and not state['stop'].is_set():
            for ev in poll(sid):
                jsep = ev.get('jsep') or {}
                if jsep.get('type') == 'answer':
                    GLib.idle_add(apply_answer, jsep['sdp']); return
                err = ev.get('plugindata', {}).get('data', {}).get('error')
                if err:
                    log('error %s' % err); GLib.idle_add(loop.quit); return
        log('error no answer')
    except Exception as e:
        log('error %s' % e)
    GLib.idle_add(loop.quit)


def send_offer():
    if state['sent']:
        return False
    state['sent'] = True
    sdp = pc.get_property('local-description').sdp.as_text()
    log('offer gathered (%d candidates)' % sdp.count('a=candidate'))
    threading.Thread(target=configure, args=(sdp,), daemon=True).start()
    return False


def on_gathering(pc, _):
    if pc.get_property('ice-gathering-state') == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
        GLib.idle_add(send_offer)


def on_ice_conn(pc, _):
    s = pc.get_property('ice-connection-state')
    if s in (GstWebRTC.WebRTCICEConnectionState.CONNECTED,
             GstWebRTC.WebRTCICEConnectionState.COMPLETED) and not state['connected']:
        state['connected'] = True; log('ICE connected')
    elif s == GstWebRTC.WebRTCICEConnectionState.FAILED:
        log('error ICE failed')


def on_offer(promise, _):
    reply = promise.get_reply()
    offer = reply.get_value('offer') if reply and reply.has_field('offer') else None
    if offer is None:  # negotiation-needed may fire before both pads have caps: retry
        state['tries'] += 1
        if state['tries'] > 5:
            log('error create-offer'); loop.quit(); return
        GLib.timeout_add(300, lambda: (on_negotiation_needed(pc), False)[1]); return
    pc.emit('set-local-description', offer, Gst.Promise.new())


def on_negotiation_needed(pc):
    for i in range(8):
        t = pc.emit('get-transceiver', i)
        if t: t.set_property('direction', GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
    pc.emit('create-offer', None, Gst.Promise.new_with_change_func(on_offer, None))


pc.connect('on-negotiation-needed', on_negotiation_needed)
pc.connect('notify::ice-gathering-state', on_gathering)
pc.connect('notify::ice-connection-state', on_ice_conn)
bus = pipe.get_bus(); bus.add_signal_watch()
bus.connect('message::error', lambda b, m: (log('error', m.parse_error()), loop.quit()))
GLib.timeout_add(int(a.duration * 1000), loop.quit)
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
threading.Thread(target=keepalive, daemon=True).start()
pipe.set_state(Gst.State.PLAYING)
try:
    loop.run()
finally:
    state['stop'].set()
    pipe.set_state(Gst.State.NULL)
    try: call('/%d' % sid, {'janus': 'destroy'}, timeout=3)
    except Exception: pass
log('done, ICE connected =', state['connected'])
sys.exit(0 if state['connected'] else 1)
