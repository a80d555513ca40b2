#!/usr/bin/python3
"""An RTP publisher that changes its picture size mid-stream with one SSRC (a camera
switching resolution, or a simulcast layer change an SFU forwards as one stream).

GStreamer: videotestsrc (solid colour) -> capsfilter -> vp8enc -> rtpvp8pay (fixed SSRC)
-> udpsink. After SWITCH_S seconds the caps change from 640x360 red to 320x240 blue;
vp8enc re-initializes at the new size and starts with a keyframe, rtpvp8pay keeps the
SSRC and the sequence numbers. Exits after TOTAL_S seconds.

Usage: resize_publisher.py HOST PORT SWITCH_S TOTAL_S
"""
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

host, port, switch_s, total_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
Gst.init(None)
pipe = Gst.parse_launch(
    "videotestsrc is-live=true pattern=solid-color foreground-color=0xffff0000 name=src "
    "! capsfilter name=cf caps=video/x-raw,width=640,height=360,framerate=15/1 "
    "! videoconvert ! vp8enc deadline=1 keyframe-max-dist=15 target-bitrate=500000 "
    "! rtpvp8pay pt=96 ssrc=1234567 mtu=1200 "
    f"! udpsink host={host} port={port} sync=false async=false"
)
loop = GLib.MainLoop()


def switch():
    pipe.get_by_name("src").set_property("foreground-color", 0xFF0000FF)
    pipe.get_by_name("cf").set_property(
        "caps", Gst.Caps.from_string("video/x-raw,width=320,height=240,framerate=15/1")
    )
    return False


def stop():
    pipe.set_state(Gst.State.NULL)
    loop.quit()
    return False


def on_message(_bus, msg):
    if msg.type == Gst.MessageType.ERROR:
        err, dbg = msg.parse_error()
        print(f"gstreamer error: {err} {dbg}", file=sys.stderr)
        stop()


bus = pipe.get_bus()
bus.add_signal_watch()
bus.connect("message", on_message)
GLib.timeout_add(int(switch_s * 1000), switch)
GLib.timeout_add(int(total_s * 1000), stop)
pipe.set_state(Gst.State.PLAYING)
loop.run()
