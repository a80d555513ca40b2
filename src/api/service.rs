//! [`CloudMixerService`]: the `cloudmixer.v1.CloudMixer` gRPC service over the engine.
//!
//! Each RPC validates ([`crate::request::validate`]; a looked-up `mixer_id` and every
//! `oper_user_id` too, before anything is logged or stored), then calls the engine.
//! Request strings are logged escaped (`escape_debug`) even after validation.
//! `LiveMixer::start`, `update` and `stop` block, so they run on tokio's blocking pool with the runtime
//! entered (the engine's sockets run on it); so does the validation of Create and
//! Update, which decodes placeholder pictures. Create/Update/Destroy of one mixer are
//! serialized by the entry's lock; different mixers proceed in parallel.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::watch;
use tonic::{Request, Response, Status};

use crate::api::admission;
use crate::api::config::ServiceConfig;
use crate::api::journal::{Journal, Record};
use crate::api::registry::{Entry, Load, Registry};
use crate::api::{convert, recovery, watch as events_watch};
use crate::events::unix_ms_now;
use crate::mixer::{LiveMixer, SourcePorts};
use crate::model::{MixerError, SourceSpec};
use crate::proto::{self, cloud_mixer_server::CloudMixer};
use crate::request::validate::{self, Canvas, Current};

/// The gRPC service. Cheap to clone; clones share the registry.
#[derive(Clone)]
pub struct CloudMixerService {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: ServiceConfig,
    registry: Registry,
    shutting_down: AtomicBool,
    /// Draining (`serve --shutdown=drain` after SIGTERM): Create is refused, the rest
    /// goes on.
    draining: AtomicBool,
    closed: watch::Sender<bool>,
}

impl CloudMixerService {
    /// A service with no mixers. `cfg.output.recordings_root` must be absolute.
    pub fn new(cfg: ServiceConfig) -> Self {
        let (closed, _) = watch::channel(false);
        let registry = Registry::new(cfg.retention, cfg.limits);
        Self {
            inner: Arc::new(Inner {
                cfg,
                registry,
                shutting_down: AtomicBool::new(false),
                draining: AtomicBool::new(false),
                closed,
            }),
        }
    }

    /// Refuses new mixers (UNAVAILABLE), then stops every running mixer in parallel,
    /// each finalizing its file, waiting at most `cfg.shutdown_timeout`.
    /// Returns the number of running mixers that finished stopping in time.
    pub async fn shutdown_all(&self) -> usize {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        let handles: Vec<_> = self
            .inner
            .registry
            .all()
            .into_iter()
            .filter_map(|e| e.engine().map(|m| (e, m)))
            .map(|(e, m)| {
                let journal = self.inner.cfg.journal.clone();
                tokio::task::spawn_blocking(move || {
                    let was_running = !m.state().is_final();
                    let out = m.stop();
                    e.release(m.snapshot());
                    end_journal(journal.as_ref(), &e);
                    if was_running {
                        tracing::info!(mixer_id = %e.mixer_id, path = %out.path, duration_ms = out.duration_ms, "mixer stopped");
                    }
                    was_running
                })
            })
            .collect();
        let total = handles.len();
        let mut done = 0;
        let wait_all = async {
            for h in handles {
                if let Ok(true) = h.await {
                    done += 1;
                }
            }
        };
        if tokio::time::timeout(self.inner.cfg.shutdown_timeout, wait_all)
            .await
            .is_err()
        {
            tracing::warn!(total, "timed out waiting for mixers to stop");
        }
        done
    }

    /// Ends every `WatchEvents` stream (after forwarding events already emitted), so a
    /// graceful server shutdown is not held open by watchers.
    pub fn close_streams(&self) {
        self.inner.closed.send_replace(true);
    }

    /// `entry.info()` on the blocking pool: an engine snapshot may wait for a lock that
    /// an in-progress update holds.
    async fn info(&self, entry: Arc<Entry>) -> Result<proto::MixerInfo, Status> {
        let host = self.rtp_host();
        blocking("mixer snapshot", move || entry.info(host)).await
    }

    /// Lists and announces the recordings an earlier daemon process left unfinished
    /// (the recording journal; [`crate::api::recovery`]); call once at startup, before
    /// serving. Returns how many were listed (0 without a journal).
    pub fn recover_interrupted(&self) -> usize {
        let Some(journal) = &self.inner.cfg.journal else {
            return 0;
        };
        let retention = self.inner.cfg.retention.max_age.as_millis();
        recovery::recover(
            journal,
            &self.inner.registry,
            &self.inner.cfg.bus,
            &self.inner.cfg.output.recordings_root,
            unix_ms_now(),
            i64::try_from(retention).unwrap_or(i64::MAX),
        )
    }

    /// What admission has taken now: mixers not yet ended, their summed estimated cost
    /// and the budget (for metrics and health; [`crate::api::admission`]).
    pub fn load(&self) -> Load {
        self.inner.registry.load()
    }

    fn rtp_host(&self) -> IpAddr {
        self.inner.cfg.ports.bind_ip()
    }

    fn refuse_if_shutting_down(&self) -> Result<(), Status> {
        if self.inner.shutting_down.load(Ordering::SeqCst) {
            return Err(Status::unavailable("the daemon is shutting down"));
        }
        if self.is_draining() {
            return Err(Status::unavailable(
                "the daemon is draining (shutting down): it admits no new mixers; create on another instance",
            ));
        }
        Ok(())
    }

    /// Starts draining: Create is refused with UNAVAILABLE from now on; running mixers,
    /// Update, Destroy, Get, List and WatchEvents go on.
    pub fn begin_drain(&self) {
        self.inner.draining.store(true, Ordering::SeqCst);
    }

    /// true once [`CloudMixerService::begin_drain`] or shutdown began.
    pub fn is_draining(&self) -> bool {
        self.inner.draining.load(Ordering::SeqCst)
            || self.inner.shutting_down.load(Ordering::SeqCst)
    }

    /// Every mixer the registry knows (after evicting what retention drops), sorted by
    /// id: for the metrics collector and health checks.
    pub fn entries(&self) -> Vec<Arc<Entry>> {
        self.inner.registry.all()
    }

    /// The mixer `mixer_id`, if the registry lists it.
    pub fn entry(&self, mixer_id: &str) -> Option<Arc<Entry>> {
        self.inner.registry.get(mixer_id).ok()
    }

    /// The daemon's event bus.
    pub fn bus(&self) -> &crate::events::EventBus {
        &self.inner.cfg.bus
    }

    /// Mixers whose state is not final (starting, running or stopping): what a drain
    /// waits for.
    pub fn active_mixers(&self) -> usize {
        self.entries()
            .iter()
            .filter(|e| !e.state().is_final())
            .count()
    }

    /// The engine of a mixer that started and was not destroyed (its lifecycle decides
    /// what it still accepts). Errors: FAILED_PRECONDITION if it was destroyed,
    /// NOT_FOUND if its start failed.
    fn started(&self, entry: &Entry) -> Result<Arc<LiveMixer>, Status> {
        if entry.is_released() {
            return Err(MixerError::NotRunning.into());
        }
        entry.engine().ok_or_else(|| {
            Status::not_found(format!(
                "mixer_id: mixer {:?} did not start",
                entry.mixer_id
            ))
        })
    }

    /// Stops `mixer` on the blocking pool, then records its final snapshot in `entry`
    /// and drops the engine handle (releasing its UDP ports).
    /// Errors: INTERNAL if the stop panicked.
    /// `oper_user_id`: who asked (named in the Stopping/Stopped events); empty = the creator.
    async fn stop_and_finish(
        &self,
        entry: &Arc<Entry>,
        mixer: Arc<LiveMixer>,
        oper_user_id: String,
    ) -> Result<(), Status> {
        let last = blocking("mixer stop", move || {
            let _final_output = mixer.stop_by(&oper_user_id);
            mixer.snapshot()
        })
        .await?;
        entry.release(last);
        end_journal(self.inner.cfg.journal.as_ref(), entry);
        Ok(())
    }

    /// Writes the journal record of a reserved mixer (before its file is created), so
    /// that a crash from now on leaves a trace. A journal that cannot be written fails
    /// the Create (UNAVAILABLE): a recording that a crash would silently lose is not
    /// started.
    /// A mixer without a composite (record mode single only) has no record here.
    fn begin_journal(&self, entry: &Entry) -> Result<(), Status> {
        let Some(journal) = &self.inner.cfg.journal else {
            return Ok(());
        };
        if !entry.record.mode.mixed() {
            return Ok(());
        }
        let enc = &entry.output.encoding;
        let record = Record {
            mixer_id: entry.mixer_id.clone(),
            conference_id: entry.conference_id.clone(),
            oper_user_id: entry.oper_user_id.clone(),
            rel_path: entry.output.rel_path.clone(),
            created_unix_ms: entry.created_unix_ms,
            width: enc.width,
            height: enc.height,
            fps: enc.fps,
            interrupted: None,
            retention_secs: entry.record.retention.map(|d| d.as_secs()),
            webhook_urls: entry.record.webhook_urls.clone(),
        };
        let marker = journal.begin(&record).map_err(|e| {
            tracing::error!(error = %e, dir = %journal.dir().display(), "cannot write the recording journal");
            if let Some(r) = MixerError::system_resource("writing the recording journal", &e) {
                return Status::from(r);
            }
            Status::unavailable(format!(
                "the recording journal cannot be written ({}): see the daemon's --state-dir",
                e.kind()
            ))
        })?;
        entry.set_journal(marker);
        Ok(())
    }
}

/// Ends the journal record of `entry` (its file is final or failed).
fn end_journal(journal: Option<&Journal>, entry: &Entry) {
    if let (Some(j), Some(m)) = (journal, entry.take_journal()) {
        j.end(&m);
    }
}

/// Runs blocking engine work on the blocking pool with the runtime entered.
/// A panic in the engine becomes INTERNAL.
async fn blocking<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Status> {
    let handle = Handle::current();
    tokio::task::spawn_blocking(move || {
        let _rt = handle.enter();
        f()
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "{what} panicked");
        Status::internal(format!("{what} failed unexpectedly"))
    })
}

fn ports_of(
    sources: &[SourceSpec],
    ports: &[SourcePorts],
    host: IpAddr,
) -> Vec<proto::SourcePorts> {
    sources
        .iter()
        .zip(ports)
        .map(|(s, p)| convert::source_ports(&s.camid, p, host))
        .collect()
}

#[tonic::async_trait]
impl CloudMixer for CloudMixerService {
    async fn create_cloud_mixer(
        &self,
        request: Request<proto::CreateCloudMixerRequest>,
    ) -> Result<Response<proto::CreateCloudMixerResponse>, Status> {
        let _slot = self.inner.cfg.requests.unary()?;
        self.refuse_if_shutting_down()?;
        let cfg = &self.inner.cfg;
        // On the blocking pool: placeholder pictures are decoded here.
        let (req, defaults) = (request.into_inner(), cfg.output.clone());
        let spec = blocking("request validation", move || {
            validate::create_request(&req, &defaults)
        })
        .await??;
        let cost = admission::estimate(&spec);
        let (entry, _guard) = self.inner.registry.reserve(&spec, unix_ms_now(), cost)?;
        let id = spec.mixer_id.clone();
        if let Err(e) = self.begin_journal(&entry) {
            self.inner.registry.remove(&id);
            return Err(e);
        }
        let sources = spec.sources.clone();
        tracing::info!(mixer_id = %id, path = %spec.output.rel_path.escape_debug(), sources = sources.len(), cost_millicores = cost, "creating mixer");
        let (ingest, bus) = (cfg.ingest(), cfg.bus.clone());
        let started = blocking("mixer start", move || {
            LiveMixer::start_with(spec, &ingest, bus)
        })
        .await;
        let (mixer, ports) = match started.and_then(|r| r.map_err(Status::from)) {
            Ok(v) => v,
            Err(e) => {
                end_journal(self.inner.cfg.journal.as_ref(), &entry);
                self.inner.registry.remove(&id);
                tracing::warn!(mixer_id = %id, error = %e.message().escape_debug(), "mixer failed to start");
                return Err(e);
            }
        };
        entry.set_engine(mixer);
        if self.is_draining() {
            let m = self.started(&entry)?;
            self.stop_and_finish(&entry, m, String::new()).await?;
            return Err(Status::unavailable("the daemon is shutting down"));
        }
        Ok(Response::new(proto::CreateCloudMixerResponse {
            mixer_id: id,
            source_ports: ports_of(&sources, &ports, self.rtp_host()),
            info: Some(self.info(entry.clone()).await?),
        }))
    }

    async fn update_cloud_mixer_content(
        &self,
        request: Request<proto::UpdateCloudMixerContentRequest>,
    ) -> Result<Response<proto::UpdateCloudMixerContentResponse>, Status> {
        let _slot = self.inner.cfg.requests.unary()?;
        let req = request.into_inner();
        validate::output::existing_mixer_id(&req.mixer_id)?;
        let entry = self.inner.registry.get(&req.mixer_id)?;
        let _guard = entry.lock().await;
        let mixer = self.started(&entry)?;
        let sources = entry.sources();
        let current_fill = entry.layout_fill();
        let canvas = Canvas {
            width: entry.output.encoding.width,
            height: entry.output.encoding.height,
            background: entry.output.encoding.background,
        };
        // On the blocking pool: placeholder pictures are decoded here.
        let (update, req) = {
            let sources = sources.clone();
            blocking("request validation", move || {
                let current = Current {
                    canvas,
                    sources: &sources,
                    layout_fill: &current_fill,
                };
                (validate::update_request(&req, current), req)
            })
            .await?
        };
        let update = update?;
        let after = validate::apply_sources(&sources, &update);
        let (added, layout) = (update.add_sources.clone(), update.layout.clone());
        let new_fill = update.layout_fill.clone();
        let ingest = self.inner.cfg.ingest();
        let ports = blocking("mixer update", move || mixer.update_with(update, &ingest))
            .await?
            .map_err(Status::from)?;
        entry.set_current(after, layout, new_fill);
        tracing::info!(mixer_id = %req.mixer_id, oper_user_id = %req.oper_user_id.escape_debug(), "mixer content updated");
        Ok(Response::new(proto::UpdateCloudMixerContentResponse {
            info: Some(self.info(entry.clone()).await?),
            added_source_ports: ports_of(&added, &ports, self.rtp_host()),
        }))
    }

    async fn destroy_cloud_mixer(
        &self,
        request: Request<proto::DestroyCloudMixerRequest>,
    ) -> Result<Response<proto::DestroyCloudMixerResponse>, Status> {
        let _slot = self.inner.cfg.requests.unary()?;
        let req = request.into_inner();
        validate::output::existing_mixer_id(&req.mixer_id)?;
        validate::strings::oper_user_id(&req.oper_user_id)?;
        let entry = self.inner.registry.get(&req.mixer_id)?;
        let _guard = entry.lock().await;
        if !entry.is_released() {
            let mixer = self.started(&entry)?;
            tracing::info!(mixer_id = %req.mixer_id, oper_user_id = %req.oper_user_id.escape_debug(), "destroying mixer");
            self.stop_and_finish(&entry, mixer, req.oper_user_id.clone())
                .await?;
        }
        Ok(Response::new(proto::DestroyCloudMixerResponse {
            info: Some(self.info(entry.clone()).await?),
        }))
    }

    async fn get_cloud_mixer(
        &self,
        request: Request<proto::GetCloudMixerRequest>,
    ) -> Result<Response<proto::MixerInfo>, Status> {
        let _slot = self.inner.cfg.requests.unary()?;
        validate::output::existing_mixer_id(&request.get_ref().mixer_id)?;
        let entry = self.inner.registry.get(&request.get_ref().mixer_id)?;
        Ok(Response::new(self.info(entry).await?))
    }

    async fn list_cloud_mixers(
        &self,
        _request: Request<proto::ListCloudMixersRequest>,
    ) -> Result<Response<proto::ListCloudMixersResponse>, Status> {
        let _slot = self.inner.cfg.requests.unary()?;
        let entries = self.inner.registry.all();
        let host = self.rtp_host();
        let mixers = blocking("mixer snapshot", move || {
            entries.iter().map(|e| e.info(host)).collect()
        })
        .await?;
        Ok(Response::new(proto::ListCloudMixersResponse { mixers }))
    }

    async fn list_presets(
        &self,
        _request: Request<proto::ListPresetsRequest>,
    ) -> Result<Response<proto::ListPresetsResponse>, Status> {
        let _slot = self.inner.cfg.requests.unary()?;
        let presets = convert::preset_infos(crate::layout::preset::PresetSet::embedded());
        Ok(Response::new(proto::ListPresetsResponse { presets }))
    }

    type WatchEventsStream = events_watch::EventStream;

    async fn watch_events(
        &self,
        request: Request<proto::WatchEventsRequest>,
    ) -> Result<Response<Self::WatchEventsStream>, Status> {
        let mixer_id = request.into_inner().mixer_id;
        if !mixer_id.is_empty() {
            validate::output::existing_mixer_id(&mixer_id)?;
        }
        let slot = self.inner.cfg.requests.watcher()?;
        let closed = self.inner.closed.subscribe();
        Ok(Response::new(events_watch::watch_events(
            &self.inner.cfg.bus,
            mixer_id,
            closed,
            self.inner.cfg.watch_stall,
            Some(slot),
        )))
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
