//! Getting participants' media in: UDP ports, RTP/RTCP receive, jitter buffer,
//! depacketization into access units.

pub mod ports;
