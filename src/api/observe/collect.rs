//! The Prometheus metrics (the `metrics` facade, rendered by
//! `metrics-exporter-prometheus` in the text exposition format 0.0.4).
//!
//! Two kinds of series, with disjoint names:
//! - **Event counters**, recorded where the event happens into the daemon's global
//!   recorder ([`install`]): gRPC calls ([`super::grpc_layer`]) and recordings that
//!   ended ([`super::events::file_ended`]). They live as long as the process.
//! - **State read at scrape time** ([`render`]): the collector walks the mixer registry
//!   and reads mixers by state, admission, each mixer's tick progress and output, and
//!   each source's lock-free `SourceCounters` (through the mixers' snapshots), into a
//!   recorder built for that one scrape. Nothing is added to the hot paths, and a
//!   mixer's series exist exactly as long as the registry keeps the mixer: they vanish
//!   when the retention rule evicts it (`--ended-mixer-retention-secs`,
//!   `--max-ended-mixers`).
//!
//! Cardinality: per-mixer series are bounded by `--max-mixers + --max-ended-mixers`
//! mixers; per-source series by that times the sources of each mixer, times at most 7
//! drop causes or 2 media. Labels are the mixer id and camid (both validated: at most
//! 64 characters of `[A-Za-z0-9._-]`-like charsets), a fixed `state`, `medium`, `cause`.

use std::time::Instant;

use metrics::{
    counter, describe_counter, describe_gauge, gauge, with_local_recorder, SharedString, Unit,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::api::observe::events::{FILES_ENDED, FILE_BYTES_ENDED};
use crate::api::observe::health::TickView;
use crate::api::CloudMixerService;
use crate::mixer::{MixerSnapshot, SourceStats};
use crate::model::MixerState;

/// Installs the global recorder for the event counters and returns the handle that
/// renders them. If a global recorder is already installed (a second daemon in one
/// process, as in unit tests), the returned handle renders an empty recorder.
pub fn install() -> PrometheusHandle {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    if metrics::set_global_recorder(recorder).is_err() {
        tracing::debug!("a metrics recorder is already installed");
    }
    describe_counter!(
        super::grpc_layer::REQUESTS,
        "gRPC calls received, by method"
    );
    describe_counter!(
        super::grpc_layer::RESPONSES,
        "gRPC calls answered, by method and status code"
    );
    describe_counter!(FILES_ENDED, "Recordings that ended, by output status");
    describe_counter!(
        FILE_BYTES_ENDED,
        Unit::Bytes,
        "Bytes of the recordings that ended (final file sizes)"
    );
    handle
}

/// One mixer as the collector read it.
struct MixerRead {
    id: String,
    state: MixerState,
    snapshot: Option<MixerSnapshot>,
    /// Whether it writes a composite (record mode mixed or both): the output series.
    composite: bool,
    /// Running engines: seconds since the last picture, lag of the last picture (s),
    /// pictures made.
    tick: Option<(f64, f64, u64)>,
}

/// Reads the registry (blocking: snapshots may wait for an update's lock): each mixer's
/// state, snapshot and tick progress at `now`.
fn read(service: &CloudMixerService, now: Instant) -> Vec<MixerRead> {
    service
        .entries()
        .into_iter()
        .map(|e| {
            let state = e.state();
            let tick = e.engine().filter(|_| !state.is_final()).map(|m| {
                let p = m.progress();
                (
                    now.saturating_duration_since(p.last_tick).as_secs_f64(),
                    p.lag.as_secs_f64(),
                    p.pictures,
                )
            });
            MixerRead {
                id: e.mixer_id.clone(),
                state,
                snapshot: e.snapshot(),
                composite: e.record.mode.mixed(),
                tick,
            }
        })
        .collect()
}

/// The tick views of the mixers now, for `/healthz` (blocking, as [`render`]).
pub fn tick_views(service: &CloudMixerService, now: Instant) -> Vec<TickView> {
    service
        .entries()
        .into_iter()
        .filter_map(|e| {
            let state = e.state();
            let m = e.engine()?;
            Some(TickView {
                mixer_id: e.mixer_id.clone(),
                state,
                since_last_tick: now.saturating_duration_since(m.progress().last_tick),
            })
        })
        .collect()
}

/// The lowercase name of a state, as the `state` label.
fn state_label(s: MixerState) -> &'static str {
    match s {
        MixerState::Idle => "idle",
        MixerState::Starting => "starting",
        MixerState::Running => "running",
        MixerState::Stopping => "stopping",
        MixerState::Stopped => "stopped",
        MixerState::Error => "error",
        MixerState::Interrupted => "interrupted",
    }
}

/// The whole `/metrics` text at `now`: the event counters of `events`, then the state
/// of `service` read now. Blocking (call from a blocking thread).
pub fn render(service: &CloudMixerService, events: &PrometheusHandle, now: Instant) -> String {
    let mixers = read(service, now);
    let load = service.load();
    let draining = service.is_draining();
    let recorder = PrometheusBuilder::new().build_recorder();
    let scrape = recorder.handle();
    with_local_recorder(&recorder, || {
        describe_scrape();
        for s in MixerState::ALL {
            let n = mixers.iter().filter(|m| m.state == s).count();
            gauge!("cloudmixer_mixers", "state" => state_label(s)).set(n as f64);
        }
        gauge!("cloudmixer_admitted_mixers").set(load.mixers as f64);
        gauge!("cloudmixer_max_mixers").set(load.max_mixers as f64);
        gauge!("cloudmixer_cpu_budget_millicores").set(load.budget_mc as f64);
        gauge!("cloudmixer_admitted_millicores").set(load.admitted_mc as f64);
        gauge!("cloudmixer_available_millicores").set(load.available_mc() as f64);
        gauge!("cloudmixer_draining").set(if draining { 1.0 } else { 0.0 });
        for m in &mixers {
            mixer_series(m);
        }
    });
    let mut text = events.render();
    text.push_str(&scrape.render());
    text
}

fn mixer_series(m: &MixerRead) {
    let id = SharedString::from(m.id.clone());
    if let Some((age, lag, pictures)) = m.tick {
        gauge!("cloudmixer_mixer_tick_age_seconds", "mixer_id" => id.clone()).set(age);
        gauge!("cloudmixer_mixer_tick_lag_seconds", "mixer_id" => id.clone()).set(lag);
        counter!("cloudmixer_mixer_pictures_total", "mixer_id" => id.clone()).absolute(pictures);
    }
    let Some(snap) = &m.snapshot else {
        return;
    };
    if m.composite {
        gauge!("cloudmixer_mixer_output_bytes", "mixer_id" => id.clone())
            .set(snap.output.size_bytes as f64);
        gauge!("cloudmixer_mixer_output_duration_seconds", "mixer_id" => id.clone())
            .set(snap.output.duration_ms as f64 / 1000.0);
    }
    for s in &snap.sources {
        source_series(&id, s);
    }
}

fn source_series(id: &SharedString, s: &SourceStats) {
    let cam = SharedString::from(s.camid.clone());
    let c = |name: &'static str, v: u64| {
        counter!(name, "mixer_id" => id.clone(), "camid" => cam.clone()).absolute(v);
    };
    let by = |name: &'static str, key: &'static str, val: &'static str, v: u64| {
        counter!(name, "mixer_id" => id.clone(), "camid" => cam.clone(), key => val).absolute(v);
    };
    by(
        "cloudmixer_source_packets_total",
        "medium",
        "video",
        s.video_packets,
    );
    by(
        "cloudmixer_source_packets_total",
        "medium",
        "audio",
        s.audio_packets,
    );
    by(
        "cloudmixer_source_bytes_total",
        "medium",
        "video",
        s.video_bytes,
    );
    by(
        "cloudmixer_source_bytes_total",
        "medium",
        "audio",
        s.audio_bytes,
    );
    by(
        "cloudmixer_source_frames_decoded_total",
        "medium",
        "video",
        s.video_frames_decoded,
    );
    by(
        "cloudmixer_source_frames_decoded_total",
        "medium",
        "audio",
        s.audio_frames_decoded,
    );
    c("cloudmixer_source_packets_lost_total", s.packets_lost);
    c(
        "cloudmixer_source_audio_samples_late_total",
        s.audio_samples_late,
    );
    c(
        "cloudmixer_source_audio_frames_concealed_total",
        s.audio_frames_concealed,
    );
    c(
        "cloudmixer_source_keyframe_requests_total",
        s.keyframe_requests,
    );
    c("cloudmixer_source_rtcp_packets_total", s.rtcp_packets);
    let causes = [
        ("parse_error", s.drops_parse_error),
        ("pt_ssrc_mismatch", s.drops_pt_ssrc_mismatch),
        ("foreign_address", s.drops_foreign_address),
        ("queue_full", s.drops_queue_full),
        ("decode_error", s.drops_decode_error),
        ("duplicate_or_late", s.drops_duplicate_or_late),
        ("oversized_picture", s.pictures_oversized),
    ];
    for (cause, v) in causes {
        by("cloudmixer_source_drops_total", "cause", cause, v);
    }
}

fn describe_scrape() {
    describe_gauge!("cloudmixer_mixers", "Mixers the daemon knows, by state");
    describe_gauge!(
        "cloudmixer_admitted_mixers",
        "Mixers not yet ended (what --max-mixers bounds)"
    );
    describe_gauge!("cloudmixer_max_mixers", "--max-mixers");
    describe_gauge!(
        "cloudmixer_cpu_budget_millicores",
        "CPU budget for mixers, millicores (--cpu-budget-millicores)"
    );
    describe_gauge!(
        "cloudmixer_admitted_millicores",
        "Summed estimated cost of the mixers not yet ended, millicores"
    );
    describe_gauge!(
        "cloudmixer_available_millicores",
        "CPU budget not yet admitted, millicores: a job of this cost or less fits"
    );
    describe_gauge!(
        "cloudmixer_draining",
        "1 while the daemon drains (admits no new mixer), else 0"
    );
    describe_gauge!(
        "cloudmixer_mixer_tick_age_seconds",
        Unit::Seconds,
        "Time since the mixer's tick thread last made a picture"
    );
    describe_gauge!(
        "cloudmixer_mixer_tick_lag_seconds",
        Unit::Seconds,
        "How late after its due time the last picture was composited and encoded"
    );
    describe_counter!(
        "cloudmixer_mixer_pictures_total",
        "Output pictures made by the mixer"
    );
    describe_gauge!(
        "cloudmixer_mixer_output_bytes",
        Unit::Bytes,
        "Size of the mixer's output file"
    );
    describe_gauge!(
        "cloudmixer_mixer_output_duration_seconds",
        Unit::Seconds,
        "Media written to the mixer's output file"
    );
    describe_counter!(
        "cloudmixer_source_packets_total",
        "RTP packets received from the source, by medium"
    );
    describe_counter!(
        "cloudmixer_source_bytes_total",
        Unit::Bytes,
        "RTP bytes received from the source, by medium"
    );
    describe_counter!(
        "cloudmixer_source_frames_decoded_total",
        "Frames decoded from the source, by medium"
    );
    describe_counter!(
        "cloudmixer_source_packets_lost_total",
        "RTP sequence numbers never received (RFC 3550 cumulative loss)"
    );
    describe_counter!(
        "cloudmixer_source_audio_samples_late_total",
        "Decoded audio samples that arrived after their time was mixed"
    );
    describe_counter!(
        "cloudmixer_source_audio_frames_concealed_total",
        "Lost audio packets replaced by Opus packet loss concealment"
    );
    describe_counter!(
        "cloudmixer_source_keyframe_requests_total",
        "PLI/FIR keyframe requests sent to the source"
    );
    describe_counter!(
        "cloudmixer_source_rtcp_packets_total",
        "RTCP packets received from the source"
    );
    describe_counter!(
        "cloudmixer_source_drops_total",
        "Packets and access units dropped, by cause"
    );
}
