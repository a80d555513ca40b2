//! Engine -> proto forms that the gRPC service and `compose` both report: an output's
//! info and status. The rest of the service's conversions are in `api/convert.rs`.

use crate::events::{self, OutputStatus};
use crate::model::{AudioContainer, OutputKind, OutputMedia, RecordMode, RecordSpec, SingleVideo};
use crate::proto;

/// Proto form of an output file status.
pub fn output_status(s: OutputStatus) -> proto::OutputStatus {
    match s {
        OutputStatus::Recording => proto::OutputStatus::Recording,
        OutputStatus::Finalized => proto::OutputStatus::Finalized,
        OutputStatus::Failed => proto::OutputStatus::Failed,
    }
}

/// Proto form of [`events::OutputInfo`].
pub fn output_info(o: &events::OutputInfo) -> proto::OutputInfo {
    proto::OutputInfo {
        path: o.path.clone(),
        duration_ms: o.duration_ms,
        size_bytes: o.size_bytes,
        status: output_status(o.status) as i32,
        error_code: o.error_code,
        error_message: o.error_message.clone(),
        abs_path: o.abs_path.clone(),
        output_id: o.output_id.clone(),
        kind: match o.kind {
            OutputKind::Mixed => proto::OutputKind::Mixed,
            OutputKind::Single => proto::OutputKind::Single,
        } as i32,
        camid: o.camid.clone(),
        media: match o.media {
            OutputMedia::Av => proto::OutputMedia::Av,
            OutputMedia::Audio => proto::OutputMedia::Audio,
            OutputMedia::Video => proto::OutputMedia::Video,
            OutputMedia::Screen => proto::OutputMedia::Screen,
        } as i32,
        container: o.container.clone(),
        start_unix_ms: o.start_unix_ms,
        end_unix_ms: o.end_unix_ms,
        span: o.span,
        upload: None,
    }
}

/// Proto form of an [`events::UploadInfo`].
pub fn upload_info(u: &events::UploadInfo) -> proto::UploadInfo {
    proto::UploadInfo {
        state: match u.state {
            events::UploadState::Pending => proto::UploadState::Pending,
            events::UploadState::Uploading => proto::UploadState::Uploading,
            events::UploadState::Uploaded => proto::UploadState::Uploaded,
            events::UploadState::Failed => proto::UploadState::Failed,
        } as i32,
        location: u.location.clone(),
        uploaded_bytes: u.uploaded_bytes,
        attempts: u.attempts,
        error_message: u.error_message.clone(),
    }
}

/// Proto form of a [`RecordSpec`] (defaults applied, as in force).
pub fn record_cfg(r: &RecordSpec) -> proto::RecordCfg {
    let mut single_media = Vec::new();
    if r.single_av {
        single_media.push(proto::SingleMedia::Av as i32);
    }
    if r.single_audio {
        single_media.push(proto::SingleMedia::Audio as i32);
    }
    let (single_video, (transcode_width, transcode_height)) = match r.single_video {
        SingleVideo::Passthrough => (proto::SingleVideo::Passthrough, (0, 0)),
        SingleVideo::Transcode { width, height } => {
            (proto::SingleVideo::Transcode, (width, height))
        }
    };
    proto::RecordCfg {
        mode: match r.mode {
            RecordMode::Mixed => proto::RecordMode::Mixed,
            RecordMode::MixedAndSingle => proto::RecordMode::MixedAndSingle,
            RecordMode::Single => proto::RecordMode::Single,
        } as i32,
        record_audio: Some(r.record_audio),
        record_video: Some(r.record_video),
        single_media,
        single_video: single_video as i32,
        transcode_width,
        transcode_height,
        single_audio_container: match r.single_audio_container {
            AudioContainer::Aac => proto::AudioContainer::Aac,
            AudioContainer::M4a => proto::AudioContainer::M4a,
            AudioContainer::Ogg => proto::AudioContainer::Ogg,
        } as i32,
        single_path_template: r.single_path_template.clone(),
        presence_timeout_ms: r.presence_timeout.as_millis() as u32,
        retention_secs: r.retention.map_or(0, |d| d.as_secs()),
        webhook_urls: r.webhook_urls.clone(),
    }
}
