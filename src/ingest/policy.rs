//! What the daemon lets in from the network, as settings shared by every mixer: the
//! symmetric RTP latching rule of plain-RTP streams (applied by `receive::latch`) and
//! the hosts WHEP sources may be pulled from and the CAs their https servers must chain
//! to ([`WhepClient`], [`super::allow::WhepAllow`]).

use std::time::Duration;

use super::webrtc::http::WhepClient;

/// Default of [`LatchConfig::rebind_after`]: the latched address's silence after which
/// the same SSRC may continue from a new address (NAT rebinding).
pub const DEFAULT_REBIND_AFTER: Duration = Duration::from_millis(500);
/// Default of [`LatchConfig::relatch_after`]: the latched address's silence after which
/// another sender (another SSRC) may take the stream. Longer than the default stale
/// timeout (2 s), so the placeholder already shows when it happens.
pub const DEFAULT_RELATCH_AFTER: Duration = Duration::from_millis(3_000);

/// When a latched plain-RTP stream may move to another sender address
/// (docs/OPERATIONS.md, "Plain RTP ingress").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatchConfig {
    /// Silence of the latched address after which a packet with the latched SSRC from
    /// a new address re-latches (NAT rebinding). `--rtp-rebind-after-ms`.
    pub rebind_after: Duration,
    /// Silence of the latched address after which a packet with any acceptable SSRC
    /// from a new address re-latches (a new sender). `--rtp-relatch-after-ms`.
    pub relatch_after: Duration,
}

impl Default for LatchConfig {
    fn default() -> Self {
        Self {
            rebind_after: DEFAULT_REBIND_AFTER,
            relatch_after: DEFAULT_RELATCH_AFTER,
        }
    }
}

/// The daemon's ingress policy; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct IngestPolicy {
    /// Plain RTP latching.
    pub latch: LatchConfig,
    /// Where WHEP sources may be pulled from, and the https roots.
    pub whep: WhepClient,
}
