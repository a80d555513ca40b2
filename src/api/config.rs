//! Configuration of the gRPC service: where files go, which ports, encoder defaults.

use std::time::Duration;

use crate::api::concurrency::RequestLimits;
use crate::api::journal::Journal;
use crate::api::registry::{Limits, Retention};
use crate::events::EventBus;
use crate::ingest::policy::IngestPolicy;
use crate::ingest::ports::PortPool;
use crate::ingest::webrtc::{RtcSettings, WhipServer};
use crate::ingest::Ingest;
pub use crate::request::OutputDefaults;

/// Everything [`crate::api::CloudMixerService`] needs.
#[derive(Clone)]
pub struct ServiceConfig {
    /// Output defaults; `recordings_root` must be absolute and exist.
    pub output: OutputDefaults,
    /// The daemon's UDP port range, shared by all mixers.
    pub ports: PortPool,
    /// Where mixers emit their events and `WatchEvents` subscribes.
    pub bus: EventBus,
    /// How long [`crate::api::CloudMixerService::shutdown_all`] waits for mixers to
    /// finalize their files.
    pub shutdown_timeout: Duration,
    /// The daemon's WHIP server; None refuses WHIP sources.
    pub whip: Option<WhipServer>,
    /// WebRTC settings of WHIP and WHEP sources.
    pub rtc: RtcSettings,
    /// What the network may send in: RTP latching, WHEP allow-list.
    pub policy: IngestPolicy,
    /// How long ended mixers stay listed.
    pub retention: Retention,
    /// Admission: CPU budget and mixer count.
    pub limits: Limits,
    /// How long a `WatchEvents` client with a full buffer may go without reading before
    /// it is cut off ([`crate::api::watch`]).
    pub watch_stall: Duration,
    /// The recording journal (`serve --state-dir`): None keeps no journal, so a restart
    /// cannot report interrupted recordings ([`crate::api::journal`]).
    pub journal: Option<Journal>,
    /// Bounds on concurrent unary RPCs and event streams.
    pub requests: RequestLimits,
}

impl ServiceConfig {
    /// What mixers receive media with.
    pub fn ingest(&self) -> Ingest {
        Ingest {
            ports: self.ports.clone(),
            whip: self.whip.clone(),
            rtc: self.rtc,
            policy: self.policy.clone(),
        }
    }
}

/// Largest gRPC request the daemon accepts, bytes (16 MiB; tonic's default is 4 MiB). It
/// leaves room for several placeholder pictures of up to
/// [`crate::media::still::MAX_STILL_BYTES`] (4 MiB) each; a larger request fails with
/// OUT_OF_RANGE before it is validated.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// Default of [`ServiceConfig::shutdown_timeout`].
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
