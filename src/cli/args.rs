//! The command line, declared with clap derive. Every flag names its unit and default.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::cli::client_arg::ClientArgs;
use crate::cli::parse;
use crate::proto;

const LONG_ABOUT: &str = "\
cloudmixer receives participants' RTP (VP8/H.264 video, Opus audio) on UDP ports it
allocates, composites their video by a layout, mixes their audio and records a
fragmented MP4. It is controlled over gRPC (cloudmixer.v1.CloudMixer, modelled on
Cloudroom's cloud mixer); this binary is both the daemon and a client.

Example session:
  cloudmixer serve --recordings-dir ./recordings
  cloudmixer create --id demo --source Usr1.-1 --source Usr2.-1 --layout side-by-side
  cloudmixer events --mixer demo";

/// `cloudmixer`: the mixer daemon and its command-line client.
#[derive(Debug, Parser)]
#[command(name = "cloudmixer", version, about = "Server-side media mixer: RTP in, composited fragmented MP4 out", long_about = LONG_ABOUT)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: gRPC API, health and reflection services, the mixers.
    /// A flag given twice takes its last value.
    #[command(args_override_self = true)]
    Serve(Box<ServeArgs>),
    /// Create and start a mixer; prints the UDP ports to send each source's RTP to.
    Create(Box<CreateArgs>),
    /// Change a running mixer's layout and/or add and remove sources.
    Update(UpdateArgs),
    /// Stop a mixer and finalize its file; prints the final output info.
    Destroy(DestroyArgs),
    /// Show one mixer: state, settings, output and per-source statistics.
    Get(GetArgs),
    /// List every mixer the daemon knows.
    List(ClientArgs),
    /// Stream mixer events (state changes, output progress) until Ctrl-C.
    Events(EventsArgs),
    /// Mix media files offline (no daemon) into one MP4 (always audio and video; the
    /// recording modes of `create` are live only), as fast as the CPU allows.
    Compose(ComposeArgs),
    /// Print an HS256 JWT for the control API, signed with the daemon's JWT secret:
    /// `export CLOUDMIXER_TOKEN=$(cloudmixer token --secret-file jwt.key --ttl-secs 600)`.
    Token(TokenArgs),
    /// List the layout presets (--layout NAME) with their tiles: `cloudmixer presets`
    /// asks the daemon; `--offline` lists this binary's own.
    Presets(PresetsArgs),
    /// Query the recordings catalog (every output file of every mixer) or delete a
    /// file: `cloudmixer recordings conference CONF`, `... member CONF CAMID`,
    /// `... range BEGIN END --start-id 0 --length 100`, `... delete ID`.
    Recordings(crate::cli::recordings::RecordingsArgs),
}

/// `presets` flags.
#[derive(Debug, Args)]
pub struct PresetsArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// List the presets compiled into this binary instead of asking a daemon.
    #[arg(long)]
    pub offline: bool,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// libx264 presets, fastest first.
pub const X264_PRESETS: [&str; 10] = [
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
];

/// What SIGINT/SIGTERM do to running mixers (`serve --shutdown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShutdownMode {
    /// Stop and finalize every mixer at once, then exit.
    Stop,
    /// Admit no new mixer (Create: UNAVAILABLE, /readyz: 503) and let running mixers
    /// record until they are destroyed or --drain-grace-secs passes; then stop and
    /// finalize what is left, and exit. A second signal ends the drain at once.
    Drain,
}

/// `serve` flags; each also reads a `CLOUDMIXER_*` environment variable.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TCP address of the gRPC server (host:port; port 0 picks a free one). Once bound,
    /// the daemon prints `listening on HOST:PORT` on stdout (after `whip listening on
    /// HOST:PORT` when --whip-listen is set), with the ports actually bound.
    #[arg(long, env = "CLOUDMIXER_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Directory every output path (svr_path_name) is relative to; created if missing.
    #[arg(
        long,
        env = "CLOUDMIXER_RECORDINGS_DIR",
        default_value = "./recordings"
    )]
    pub recordings_dir: PathBuf,
    /// Directory of the recording journal, which lets a restart report recordings an
    /// earlier process left unfinished (state INTERRUPTED). Default: `.cloudmixer`
    /// beneath --recordings-dir (output paths may not start with that name).
    #[arg(long, env = "CLOUDMIXER_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    #[command(flatten, next_help_heading = "Recordings catalog and REST API")]
    pub catalog: crate::cli::catalog_arg::CatalogArgs,
    /// IP address the RTP/RTCP UDP ports are bound on (0.0.0.0 = every interface).
    #[arg(long, env = "CLOUDMIXER_RTP_BIND", default_value = "127.0.0.1")]
    pub rtp_bind: IpAddr,
    /// UDP port range FIRST-LAST for RTP (even) and RTCP (RTP + 1); each source with
    /// video and audio uses 4 ports.
    #[arg(long, env = "CLOUDMIXER_RTP_PORTS", default_value = "40000-40999", value_parser = parse::port_range)]
    pub rtp_ports: (u16, u16),
    /// Log format; the level is set by RUST_LOG (default "info").
    #[arg(long, env = "CLOUDMIXER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// libx264 preset of every mixer (speed vs. compression).
    #[arg(long, env = "CLOUDMIXER_X264_PRESET", default_value = "veryfast", value_parser = X264_PRESETS)]
    pub x264_preset: String,
    /// libx264 threads per mixer; 0 = let x264 choose.
    #[arg(long, env = "CLOUDMIXER_ENCODER_THREADS", default_value_t = 0)]
    pub encoder_threads: u32,
    /// Largest picture a source may send, pixels (width x height; default 3840x2160 =
    /// 8294400). A video access unit claiming more (VP8 keyframe header, H.264 SPS) is
    /// refused before decoding and counted in the source's `pictures_oversized`; the
    /// decoder is capped the same way. Bounds memory: a few bytes of RTP can claim a
    /// 16000x16000 picture.
    #[arg(long, env = "CLOUDMIXER_MAX_PICTURE_PIXELS", default_value_t = crate::model::DEFAULT_MAX_PICTURE_PIXELS,
          value_parser = clap::value_parser!(u64).range(4096..=(16384 * 16384)))]
    pub max_picture_pixels: u64,
    /// Seconds an ended (destroyed or failed and destroyed) mixer stays in `list` and
    /// `get` before the daemon forgets it; its file and events remain.
    #[arg(
        long,
        env = "CLOUDMIXER_ENDED_MIXER_RETENTION_SECS",
        default_value_t = 3600
    )]
    pub ended_mixer_retention_secs: u64,
    /// Most ended mixers kept for `list` and `get` (the most recently ended); older ones
    /// are forgotten first.
    #[arg(long, env = "CLOUDMIXER_MAX_ENDED_MIXERS", default_value_t = 1000)]
    pub max_ended_mixers: usize,
    /// Seconds an `events` (WatchEvents) client whose 256-event buffer is full may go
    /// without reading before the daemon ends its stream with RESOURCE_EXHAUSTED; a client
    /// more than 4096 events behind is ended at once with DATA_LOSS. Reconnect and
    /// resynchronize with `get`.
    #[arg(long, env = "CLOUDMIXER_WATCH_STALL_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub watch_stall_timeout_secs: u64,
    /// CPU budget for mixers, millicores (1000 = one core): a Create is refused with
    /// RESOURCE_EXHAUSTED when its estimated cost (output size, fps and x264 preset;
    /// sources and their tiles; audio: see docs/OPERATIONS.md) does not fit beside the
    /// mixers already running. Default: 80 % of the machine's cores.
    #[arg(
        long,
        env = "CLOUDMIXER_CPU_BUDGET_MILLICORES",
        value_name = "MILLICORES"
    )]
    pub cpu_budget_millicores: Option<u64>,
    /// Most mixers not yet ended (running, starting, or failed and not destroyed).
    #[arg(long, env = "CLOUDMIXER_MAX_MIXERS", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub max_mixers: u32,
    /// Font of the tiles' name labels (SourceConfig.display_name): a .ttf, .otf or .ttc
    /// (first face) covering the names' scripts. Default: WenQuanYi Micro Hei (Debian
    /// fonts-wqy-microhei, Latin and Chinese); if that default is missing the daemon
    /// warns and draws no labels, a font given here that cannot be read stops it.
    #[arg(long, env = "CLOUDMIXER_LABEL_FONT", value_name = "FILE")]
    pub label_font: Option<PathBuf>,
    /// On SIGINT/SIGTERM, seconds to wait for mixers to finalize their files.
    #[arg(long, env = "CLOUDMIXER_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,
    /// Most unary control RPCs (Create, Update, Destroy, Get, List) in progress at once;
    /// one more is refused with RESOURCE_EXHAUSTED naming this flag.
    #[arg(long, env = "CLOUDMIXER_MAX_CONCURRENT_RPCS", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=100000))]
    pub max_concurrent_rpcs: u32,
    /// Most WatchEvents streams open at once; one more is refused with
    /// RESOURCE_EXHAUSTED naming this flag.
    #[arg(long, env = "CLOUDMIXER_MAX_EVENT_WATCHERS", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=100000))]
    pub max_event_watchers: u32,
    /// What SIGINT/SIGTERM do: `stop` finalizes every recording at once; `drain` stops
    /// admitting and lets recordings run until destroyed or --drain-grace-secs passes.
    #[arg(long, env = "CLOUDMIXER_SHUTDOWN", value_enum, default_value_t = ShutdownMode::Stop)]
    pub shutdown: ShutdownMode,
    /// With --shutdown=drain: seconds running mixers may go on after the signal before
    /// they are stopped and finalized (then --shutdown-timeout-secs applies).
    #[arg(long, env = "CLOUDMIXER_DRAIN_GRACE_SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(0..=604_800))]
    pub drain_grace_secs: u64,
    /// TCP address of the HTTP server of Prometheus `/metrics`, `/healthz` and `/readyz`
    /// (host:port; port 0 picks a free one; no authentication: bind it where only the
    /// scraper and probes reach it). Once bound, the daemon prints `http listening on
    /// HOST:PORT` on stdout. Unset: no HTTP server.
    #[arg(long, env = "CLOUDMIXER_HTTP_LISTEN")]
    pub http_listen: Option<SocketAddr>,
    /// Seconds a Running mixer's tick thread may go without making a picture before
    /// `/healthz` reports the daemon unhealthy (503).
    #[arg(long, env = "CLOUDMIXER_TICK_STALL_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub tick_stall_secs: u64,
    /// TCP address of the WHIP (RFC 9725) HTTP server, e.g. 127.0.0.1:8080 (port 0 picks
    /// a free one). Unset: no WHIP server; WHIP sources are refused.
    #[arg(long, env = "CLOUDMIXER_WHIP_LISTEN")]
    pub whip_listen: Option<SocketAddr>,
    /// URL prefix of the WHIP URLs handed out, e.g. https://mixer.example.com when a
    /// TLS proxy fronts the server. Empty: http://<bound --whip-listen address>.
    #[arg(long, env = "CLOUDMIXER_WHIP_PUBLIC_URL", default_value = "")]
    pub whip_public_url: String,
    /// Certificate chain (PEM) of the WHIP server: with --whip-tls-key, WHIP is served
    /// over https (TLS 1.2/1.3, rustls) and the URLs handed out start with https://.
    #[arg(long, env = "CLOUDMIXER_WHIP_TLS_CERT", requires = "whip_tls_key")]
    pub whip_tls_cert: Option<PathBuf>,
    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1) of --whip-tls-cert.
    #[arg(long, env = "CLOUDMIXER_WHIP_TLS_KEY", requires = "whip_tls_cert")]
    pub whip_tls_key: Option<PathBuf>,
    /// Also gather loopback ICE candidates (127.0.0.1, ::1) for WHIP and WHEP: for
    /// WebRTC peers on the same host.
    #[arg(long, env = "CLOUDMIXER_WEBRTC_LOOPBACK")]
    pub webrtc_loopback: bool,
    /// Most open connections of the WHIP HTTP server; one more is answered 503 and
    /// closed.
    #[arg(long, env = "CLOUDMIXER_MAX_WHIP_CONNECTIONS", default_value_t = crate::ingest::webrtc::http_server::DEFAULT_MAX_CONNECTIONS,
          value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u64).range(1..=100_000), |v| v as usize))]
    pub max_whip_connections: usize,
    /// Seconds a WHIP client has to send a request's head (request line and headers);
    /// slower, the connection is closed.
    #[arg(long, env = "CLOUDMIXER_WHIP_HEADER_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub whip_header_timeout_secs: u64,
    /// Seconds a WHIP connection may stay open with no request in progress.
    #[arg(long, env = "CLOUDMIXER_WHIP_IDLE_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub whip_idle_timeout_secs: u64,
    /// Seconds to answer one WHIP request (body upload, ICE gathering, answer); slower
    /// gets 503.
    #[arg(long, env = "CLOUDMIXER_WHIP_REQUEST_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(6..=3600))]
    pub whip_request_timeout_secs: u64,
    /// Hosts and networks WHEP sources may be pulled from, comma-separated: `public`
    /// (globally routable addresses), networks (`10.0.0.0/8`), addresses (`::1`), host
    /// names (`sfu.internal`), or `none`. The URL's host is resolved at Create and at
    /// every request; an address outside the list is refused (Create:
    /// INVALID_ARGUMENT on sources[i].whep.url). Loopback, private, link-local (cloud
    /// metadata 169.254.169.254) are refused unless listed.
    #[arg(long, env = "CLOUDMIXER_WHEP_ALLOW", default_value = "public", value_name = "LIST",
          value_parser = |s: &str| s.parse::<crate::ingest::allow::WhepAllow>())]
    pub whep_allow: crate::ingest::allow::WhepAllow,
    /// PEM CA certificate(s) https WHEP servers must chain to. Default: the system
    /// bundle /etc/ssl/certs/ca-certificates.crt (none if absent).
    #[arg(long, env = "CLOUDMIXER_WHEP_CA_FILE", value_name = "FILE")]
    pub whep_ca_file: Option<PathBuf>,
    /// Plain RTP latching: milliseconds the latched sender address must be silent
    /// before the same SSRC is accepted from a new address (NAT rebinding).
    #[arg(long, env = "CLOUDMIXER_RTP_REBIND_AFTER_MS", default_value_t = 500,
          value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub rtp_rebind_after_ms: u64,
    /// Plain RTP latching: milliseconds the latched sender address must be silent
    /// before another sender (another SSRC, from another address) may take the stream.
    #[arg(long, env = "CLOUDMIXER_RTP_RELATCH_AFTER_MS", default_value_t = 3000,
          value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    pub rtp_relatch_after_ms: u64,
    /// File of control API tokens, one per line (# comments; 16..=512 visible ASCII
    /// characters each, e.g. from `openssl rand -hex 32`). Every CloudMixer and reflection
    /// call must then send `authorization: Bearer <token>` (the CLI: CLOUDMIXER_TOKEN);
    /// gRPC health stays open. More tokens: CLOUDMIXER_AUTH_TOKENS (comma-separated, env
    /// only, so they do not show in the process list). Without any token the daemon
    /// accepts every caller, and refuses to start unless --listen is a loopback address.
    #[arg(long, env = "CLOUDMIXER_AUTH_TOKENS_FILE", value_name = "FILE")]
    pub auth_tokens_file: Option<PathBuf>,
    /// File holding an HS256 secret (at least 32 bytes; surrounding white space
    /// trimmed): calls may then also send a JWT signed with it whose `exp` has not passed
    /// (30 s clock skew allowed), as `authorization: Bearer <jwt>`. Mint one with
    /// `cloudmixer token --secret-file FILE`.
    #[arg(long, env = "CLOUDMIXER_AUTH_JWT_SECRET_FILE", value_name = "FILE")]
    pub auth_jwt_secret_file: Option<PathBuf>,
    /// PEM certificate chain of the gRPC server: with --tls-key, the control API speaks
    /// TLS (clients use https:// and --tls-ca). Unset: plain HTTP/2.
    #[arg(
        long,
        env = "CLOUDMIXER_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        env = "CLOUDMIXER_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificate(s): every client must present a certificate chaining to one of
    /// them (mutual TLS), checked in the handshake. Needs --tls-cert. Counts as caller
    /// authentication for a non-loopback --listen; bearer tokens, if configured, are
    /// still required on top.
    #[arg(
        long,
        env = "CLOUDMIXER_TLS_CLIENT_CA",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_client_ca: Option<PathBuf>,
    /// Default path template of per-participant files (record mode single or both),
    /// relative to --recordings-dir, without extension; a Create's
    /// record_cfg.single_path_template overrides it. Placeholders {mixer_id}, {camid},
    /// {media} (av, audio, screen), {span} (presence span 1, 2, ...), {start_ms} (Unix
    /// ms of the span's first media); it must hold {camid} and {span} or {start_ms}, and
    /// is checked at startup.
    #[arg(long, env = "CLOUDMIXER_SINGLE_PATH_TEMPLATE", value_name = "TEMPLATE",
          default_value = crate::model::record::DEFAULT_SINGLE_PATH_TEMPLATE)]
    pub single_path_template: String,
    /// TOML file of settings with the same keys as these flags (`recordings-dir =
    /// "/var/lib/cloudmixer"`, `rtp-ports = "40000-40999"`, `webrtc-loopback = true`).
    /// Precedence: flags, then CLOUDMIXER_* variables, then the file, then the defaults.
    #[arg(long, env = "CLOUDMIXER_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `token` flags.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The daemon's --auth-jwt-secret-file.
    #[arg(long, env = "CLOUDMIXER_AUTH_JWT_SECRET_FILE", value_name = "FILE")]
    pub secret_file: PathBuf,
    /// Lifetime, seconds (1..=2592000, 30 days).
    #[arg(long, default_value_t = 3600)]
    pub ttl_secs: u64,
    /// Who the token is for (the `sub` claim).
    #[arg(long, value_name = "NAME")]
    pub sub: Option<String>,
}

/// How a layout is given on the command line.
#[derive(Debug, Clone, Args)]
pub struct LayoutArgs {
    /// Preset layout filled with the video sources in order: single, side-by-side,
    /// picture-in-picture, speaker, grid (2x2 or 3x3 or 4x4 by the number of sources),
    /// grid-3x3, grid-4x4.
    #[arg(long, value_name = "PRESET", conflicts_with = "layout_json")]
    pub layout: Option<String>,
    /// Explicit regions as JSON, inline or a file name: an array (or {"layoutConfig": [..]})
    /// of {"type":0,"top":180,"left":0,"width":640,"height":360,"keepAspectRatio":1,
    /// "zOrder":0,"param":{"camid":"Usr1.-1"}}; pixels; snake_case names also accepted.
    #[arg(long, value_name = "JSON|FILE")]
    pub layout_json: Option<String>,
    /// Fit pictures inside their tiles with bars (true) or stretch them (false). For
    /// --layout the default is the preset file's (every embedded preset keeps the
    /// ratio); for --layout-json regions that do not say, false. `--keep-aspect-ratio`
    /// alone means true.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub keep_aspect_ratio: Option<bool>,
    /// Placeholder picture of every region: a PNG or JPEG file of at most 4 MiB (4194304
    /// bytes) and 4096x4096 pixels, read here and sent inline. A region shows it, fitted
    /// like a source picture (bars in the background colour, transparency over it),
    /// while its source has no picture: none yet, or none for longer than the stale
    /// timeout. Without --layout/--layout-json, create and compose use the default preset
    /// (side-by-side for two video sources, else grid); update needs one of them.
    #[arg(long, value_name = "FILE")]
    pub placeholder_image: Option<PathBuf>,
}

/// Output picture and encoder settings shared by `create` and `compose`.
#[derive(Debug, Clone, Args)]
pub struct PictureArgs {
    /// Output size WIDTHxHEIGHT in pixels, both even, at most 3840x2160.
    #[arg(long, default_value = "1280x720", value_parser = parse::size)]
    pub size: (u32, u32),
    /// Output frame rate, frames per second, 1..=60.
    #[arg(long, default_value_t = 15)]
    pub fps: u32,
    /// H.264 bit rate, bit/s; 0 = default (1500000).
    #[arg(long, default_value_t = 0)]
    pub bps: u32,
    /// AAC bit rate, bit/s; 0 = default (64000).
    #[arg(long, default_value_t = 0)]
    pub audio_bps: u32,
    /// Canvas and bar colour, "#RRGGBB"; empty = black.
    #[arg(long, default_value = "")]
    pub background: String,
}

/// `create` flags.
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Mixer id ([A-Za-z0-9._-], at most 64); empty = the daemon generates a UUID.
    #[arg(long, default_value = "")]
    pub id: String,
    /// Who performs the operation (Cloudroom operUserID); reported in events.
    #[arg(long, default_value = "")]
    pub oper_user: String,
    /// A source, repeatable: CAMID[:video=CODEC/PT,audio=CODEC/PT,vssrc=N,assrc=N].
    /// Codecs vp8, h264, opus; PT = RTP payload type 0..=127 (default vp8 96, h264 102,
    /// opus 111). A bare CAMID means video=vp8/96,audio=opus/111. In the mixed audio:
    /// gain=DB (-60..=20) and muted=true, e.g. Usr2.-1:video=vp8/96,audio=opus/111,gain=-6.
    /// name=TEXT: the label drawn on its tiles (Latin or Chinese, no ','), e.g.
    /// Usr1.-1:name=张伟 (no video= or audio= means both, as a bare CAMID).
    #[arg(long, value_name = "SOURCE", value_parser = parse::source)]
    pub source: Vec<proto::SourceConfig>,
    #[command(flatten)]
    pub picture: PictureArgs,
    /// Output path of the composite relative to the daemon's recordings dir, ending in
    /// .mp4; empty = "<mixer id>.mp4". An audio-only composite (--no-record-video, or
    /// no source with video) is written as .m4a in its place; --record-mode single
    /// writes none.
    #[arg(long, default_value = "")]
    pub out: String,
    #[command(flatten)]
    pub layout: LayoutArgs,
    /// Cloudroom's whole `cloudMixerCfg` object (CRVideo_CreateCloudMixer), inline or a
    /// file: {mode: 0, videoFileCfg: {svrPathName, vWidth, vHeight, vFps, vBps, aBps,
    /// backgroundColor, layoutConfig: [...]}}. Read as JSON5, so the vendor guide's
    /// JavaScript literal works as it is (unquoted keys, comments, trailing commas). Its
    /// fields stand for --out, --size, --fps, --bps, --audio-bps, --background and
    /// --layout-json (give either, not both); a leading '/' in svrPathName is the
    /// recordings root. Unknown keys are errors.
    #[arg(long, value_name = "JSON|FILE", conflicts_with_all =
          ["out", "size", "fps", "bps", "audio_bps", "background", "layout", "layout_json"])]
    pub cloud_mixer_cfg: Option<String>,
    /// The conference these recordings belong to (Easemob confrId: the catalog's key);
    /// empty = the mixer id.
    #[arg(long, default_value = "")]
    pub conference_id: String,
    #[command(flatten, next_help_heading = "Tile decorations and background")]
    pub decor: crate::cli::decor_arg::DecorationArgs,
    /// Normalise the mixed audio to this integrated loudness, LUFS (EBU R128), e.g. -16
    /// (web) or -23 (broadcast); -40..=-5, 0 = off. Per-participant files keep their level.
    #[arg(
        long,
        value_name = "LUFS",
        default_value_t = 0,
        allow_hyphen_values = true
    )]
    pub loudness_target_lufs: i32,
    /// A JPEG snapshot of the composite every SECS seconds of output (1..=3600; 0 = none),
    /// written to "<output path without extension>-snapshots/000000.jpg", 000001.jpg, ...
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    pub snapshot_interval_secs: u32,
    /// Also push the composite live to this rtmp://, rtmps:// (FLV) or srt:// (MPEG-TS)
    /// URL, e.g. a CDN ingest with its stream key; repeat for several (at most 4). Same
    /// encode as the file.
    #[arg(long = "live-push-url", value_name = "URL")]
    pub live_push_urls: Vec<String>,
    /// Also write HLS: MPEG-TS segments of at least SECS seconds (1..=60; 0 = none) and
    /// an index.m3u8 playlist in "<output path without extension>-hls/".
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    pub hls_segment_secs: u32,
    #[command(flatten, next_help_heading = "Recording (what is recorded)")]
    pub record: crate::cli::record_arg::RecordArgs,
    /// Jitter absorbed before a frame is shown, ms; 0 = default (200), at most 5000.
    #[arg(long, default_value_t = 0)]
    pub playout_delay_ms: u32,
    /// A source whose last picture is older than this many ms shows its region's
    /// placeholder (--placeholder-image, or the background); 0 = default (2000),
    /// otherwise 100..=60000.
    #[arg(long, default_value_t = 0)]
    pub stale_timeout_ms: u32,
}

/// `update` flags.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The mixer id.
    pub id: String,
    #[command(flatten)]
    pub client: ClientArgs,
    /// Who performs the operation (Cloudroom operUserID).
    #[arg(long, default_value = "")]
    pub oper_user: String,
    #[command(flatten)]
    pub layout: LayoutArgs,
    /// Cloudroom's update `cfg` object (CRVideo_UpdateCloudMixerContent), inline or a
    /// file, JSON5 as for `create --cloud-mixer-cfg`: {videoFileCfg: {layoutConfig:
    /// [...]}}. Only the layout changes on a running mixer; other videoFileCfg fields
    /// are refused.
    #[arg(long, value_name = "JSON|FILE", conflicts_with_all = ["layout", "layout_json"])]
    pub cloud_mixer_cfg: Option<String>,
    /// A source to add, repeatable; same syntax as `create --source`.
    #[arg(long, value_name = "SOURCE", value_parser = parse::source)]
    pub add_source: Vec<proto::SourceConfig>,
    /// A camid to remove, repeatable (removals happen before additions).
    #[arg(long, value_name = "CAMID")]
    pub remove: Vec<String>,
    /// A source's gain / mute in the mixed audio, repeatable: CAMID:gain=DB[,muted=true]
    /// (DB -60..=20; sets both values). Its own per-participant files are unaffected.
    #[arg(long, value_name = "CAMID:gain=DB", value_parser = parse::source_mix)]
    pub mix: Vec<proto::SourceMix>,
}

/// `destroy` flags.
#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// The mixer id.
    pub id: String,
    #[command(flatten)]
    pub client: ClientArgs,
    /// Who performs the operation (Cloudroom operUserID).
    #[arg(long, default_value = "")]
    pub oper_user: String,
}

/// `get` flags.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The mixer id.
    pub id: String,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// `events` flags.
#[derive(Debug, Args)]
pub struct EventsArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Only this mixer's events; default every mixer's.
    #[arg(long, value_name = "ID", default_value = "")]
    pub mixer: String,
}

/// `compose` flags.
#[derive(Debug, Args)]
pub struct ComposeArgs {
    /// An input file and the camid it is known by in the layout: CAMID=FILE, repeatable.
    #[arg(long, value_name = "CAMID=FILE", required = true, value_parser = parse::input)]
    pub input: Vec<(String, PathBuf)>,
    #[command(flatten)]
    pub layout: LayoutArgs,
    /// Output MP4 path (absolute or relative to the current directory). Always an
    /// audio+video .mp4 (inputs without video show the placeholder or background);
    /// audio-only and per-participant recordings are `create --record-mode` /
    /// `--no-record-video` on the daemon.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace --out if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub picture: PictureArgs,
    /// libx264 preset (speed vs. compression).
    #[arg(long, default_value = "veryfast", value_parser = X264_PRESETS)]
    pub x264_preset: String,
    /// libx264 threads; 0 = let x264 choose.
    #[arg(long, default_value_t = 0)]
    pub encoder_threads: u32,
    /// Stop after this much output media, ms; default: when the longest input ends.
    #[arg(long)]
    pub max_duration_ms: Option<u64>,
    /// Print the final output info as JSON.
    #[arg(long)]
    pub json: bool,
}
