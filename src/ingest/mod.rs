//! Getting participants' media in: UDP ports, RTP/RTCP receive, jitter buffer,
//! depacketization into access units.

pub mod depacketize;
pub mod jitter;
pub mod ports;
pub mod rtp_packet;
pub mod udp;
pub mod rtcp;
