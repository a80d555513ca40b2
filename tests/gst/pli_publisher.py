#!/usr/bin/python3
"""An RTP publisher that answers keyframe requests: a camera behind an encoder that
makes a keyframe only when asked (RTCP PLI or FIR), as WebRTC senders do.

GStreamer: videotestsrc (moving ball, 160x120@25) -> vp8enc (keyframe-max-dist 100000:
no periodic keyframes after the first) -> rtpvp8pay -> rtpbin session 0 -> udpsink.
rtpbin sends RTCP sender reports and receives RTCP on ONE UDP socket (shared by the
RTCP udpsink and udpsrc), so a receiver that answers to the address the reports come
from reaches it; a PLI/FIR for our SSRC makes rtpbin send a force-key-unit event up to
vp8enc (RFC 4585 §6.3.1, RFC 5104 §4.3.1). Exits after TOTAL_S seconds.

Usage: pli_publisher.py HOST RTP_PORT SSRC TOTAL_S   (RTCP goes to RTP_PORT + 1)
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib, Gst  # noqa: E402

host, port, ssrc, total_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
Gst.init(None)
pipe = Gst.parse_launch(
    "rtpbin name=rb "
    "videotestsrc is-live=true pattern=ball "
    "! video/x-raw,width=160,height=120,framerate=25/1 ! videoconvert "
    "! vp8enc deadline=1 keyframe-max-dist=100000 target-bitrate=300000 "
    f"! rtpvp8pay pt=96 ssrc={ssrc} mtu=1200 ! rb.send_rtp_sink_0 "
    f"rb.send_rtp_src_0 ! udpsink host={host} port={port} sync=false async=false "
    f"rb.send_rtcp_src_0 ! udpsink name=rtcp_out host={host} port={port + 1} "
    "sync=false async=false "
    "udpsrc name=rtcp_in ! rb.recv_rtcp_sink_0"
)
# One socket for RTCP out and in.
sock = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.UDP)
sock.bind(Gio.InetSocketAddress.new_from_string("127.0.0.1", 0), False)
for name in ("rtcp_out", "rtcp_in"):
    el = pipe.get_by_name(name)
    el.set_property("socket", sock)
    el.set_property("close-socket", False)
loop = GLib.MainLoop()


def stop():
    pipe.send_event(Gst.Event.new_eos())
    GLib.timeout_add(500, lambda: loop.quit() or False)
    return False


def on_message(_bus, msg):
    if msg.type == Gst.MessageType.ERROR:
        err, dbg = msg.parse_error()
        print(f"gstreamer error: {err} {dbg}", file=sys.stderr)
        loop.quit()


bus = pipe.get_bus()
bus.add_signal_watch()
bus.connect("message", on_message)
GLib.timeout_add(int(total_s * 1000), stop)
pipe.set_state(Gst.State.PLAYING)
loop.run()
pipe.set_state(Gst.State.NULL)
