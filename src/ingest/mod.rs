//! Getting participants' media in: UDP ports, RTP/RTCP receive, jitter buffer,
//! depacketization into access units; WebRTC (WHIP server, WHEP client) feeding the
//! same path.

pub mod depacketize;
pub mod jitter;
pub mod ports;
pub mod rtcp;
pub mod rtp_packet;
pub mod udp;
pub mod webrtc;
