#!/usr/bin/env python3
"""Receives RTP on a UDP port and writes an rtptools rtpdump file plus a readable dump.

rtpdump format (rtptools, RD_hdr_t / RD_packet_t, all big-endian):
  "#!rtpplay1.0 ADDRESS/PORT\n"
  RD_hdr_t:    u32 start_sec, u32 start_usec, u32 source_ip, u16 port, u16 padding
  per packet:  u16 length (8 + packet bytes), u16 plen (packet bytes), u32 offset_ms,
               then the packet.
The readable dump NAME.txt has one line per packet: seq, ts, marker, pt, size (bytes).

Usage: rtp_capture_receiver.py --out tests/data/NAME.rtpdump --port-file FILE
The receiver binds 127.0.0.1 on a free port, writes the port number to --port-file, and
stops --idle seconds after the last packet (or after --max-seconds).
"""
import argparse
import socket
import struct
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--idle", type=float, default=1.5)
    ap.add_argument("--max-seconds", type=float, default=30.0)
    args = ap.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    with open(args.port_file, "w") as f:
        f.write(f"{port}\n")

    packets = []  # (arrival seconds, bytes)
    deadline = time.monotonic() + args.max_seconds
    start_wall = None
    start_mono = None
    while time.monotonic() < deadline:
        sock.settimeout(args.idle if packets else max(0.1, deadline - time.monotonic()))
        try:
            data, _ = sock.recvfrom(65536)
        except socket.timeout:
            if packets:
                break
            continue
        now = time.monotonic()
        if start_mono is None:
            start_mono = now
            start_wall = time.time()
        packets.append((now - start_mono, data))

    if not packets:
        raise SystemExit("no packets received")
    with open(args.out, "wb") as f:
        f.write(f"#!rtpplay1.0 127.0.0.1/{port}\n".encode())
        sec = int(start_wall)
        usec = int((start_wall - sec) * 1e6)
        f.write(struct.pack(">IIIHH", sec, usec, 0x7F000001, port, 0))
        for offset, data in packets:
            f.write(struct.pack(">HHI", 8 + len(data), len(data), int(offset * 1000)))
            f.write(data)
    txt = args.out.rsplit(".", 1)[0] + ".txt"
    with open(txt, "w") as f:
        f.write(f"# {len(packets)} RTP packets from {args.out.rsplit('/', 1)[-1]}\n")
        f.write("# seq ts marker pt size\n")
        for _, data in packets:
            if len(data) < 12:
                f.write(f"short {len(data)}\n")
                continue
            seq, ts = struct.unpack(">HI", data[2:8])
            f.write(f"{seq} {ts} {data[1] >> 7} {data[1] & 0x7F} {len(data)}\n")
    print(f"{args.out}: {len(packets)} packets")


if __name__ == "__main__":
    main()
