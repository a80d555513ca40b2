//! Getting participants' media in: UDP ports, RTP/RTCP receive, jitter buffer,
//! depacketization into access units; WebRTC (WHIP server, WHEP client) feeding the
//! same path.

pub mod allow;
pub mod depacketize;
pub mod jitter;
pub mod policy;
pub mod ports;
pub mod rtcp;
pub mod rtp_packet;
pub mod rtpdump;
pub mod udp;
pub mod webrtc;

use crate::ingest::policy::IngestPolicy;
use crate::ingest::ports::PortPool;
use crate::ingest::webrtc::{RtcSettings, WhipServer};

/// Where sources' media comes from: the daemon's UDP port range and, optionally, its
/// WHIP server; WebRTC settings.
#[derive(Clone)]
pub struct Ingest {
    pub ports: PortPool,
    /// None: WHIP sources are refused.
    pub whip: Option<WhipServer>,
    pub rtc: RtcSettings,
    /// Latching of plain RTP, WHEP allow-list.
    pub policy: IngestPolicy,
}

impl Ingest {
    /// Plain RTP only (no WHIP server).
    pub fn rtp_only(ports: &PortPool) -> Self {
        Self {
            ports: ports.clone(),
            whip: None,
            rtc: RtcSettings::default(),
            policy: IngestPolicy::default(),
        }
    }
}
