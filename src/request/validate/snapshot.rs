//! `video_file_cfg.snapshot_interval_secs`: JPEG snapshots of the composite (issue 14).

use crate::model::{FieldError, OutputMedia, RecordSpec, SnapshotSpec};

use super::field::invalid;

/// Accepted snapshot intervals, seconds (0 in a request means no snapshots).
pub const SNAPSHOT_INTERVAL_S_RANGE: (u32, u32) = (1, 3600);
/// What the snapshot directory's name adds to the output path without its extension.
pub const SNAPSHOT_DIR_SUFFIX: &str = "-snapshots";

/// The snapshots of a composite at `rel_path` holding `media`, every `interval_s`
/// seconds (0 = none). Errors: INVALID_ARGUMENT naming
/// `video_file_cfg.snapshot_interval_secs` when out of range, or when there is no
/// composite picture to take (record mode single only, an audio-only composite).
pub fn snapshots(
    interval_s: u32,
    rel_path: &str,
    media: OutputMedia,
    record: &RecordSpec,
) -> Result<Option<SnapshotSpec>, FieldError> {
    const FIELD: &str = "video_file_cfg.snapshot_interval_secs";
    if interval_s == 0 {
        return Ok(None);
    }
    let (lo, hi) = SNAPSHOT_INTERVAL_S_RANGE;
    if !(lo..=hi).contains(&interval_s) {
        return Err(invalid(
            FIELD,
            format!("must be 0 (none) or {lo}..={hi} seconds, got {interval_s}"),
        ));
    }
    if !record.mode.mixed() {
        return Err(invalid(
            FIELD,
            "snapshots are of the composite, and record_cfg.mode makes none",
        ));
    }
    if media == OutputMedia::Audio {
        return Err(invalid(
            FIELD,
            "snapshots need video, and this composite is audio only",
        ));
    }
    Ok(Some(SnapshotSpec {
        interval_s,
        rel_dir: format!("{}{SNAPSHOT_DIR_SUFFIX}", stem(rel_path)),
    }))
}

/// `rel_path` without its extension (`a/b.mp4` -> `a/b`).
pub fn stem(rel_path: &str) -> &str {
    match rel_path.rsplit_once('.') {
        Some((stem, ext)) if !ext.contains('/') => stem,
        _ => rel_path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RecordMode;

    #[test]
    fn snapshots_sit_beside_the_file_and_need_a_picture() {
        let both = RecordSpec::default();
        let s = snapshots(5, "a/b.mp4", OutputMedia::Av, &both)
            .unwrap()
            .unwrap();
        assert_eq!((s.interval_s, s.rel_dir.as_str()), (5, "a/b-snapshots"));
        assert_eq!(snapshots(0, "b.mp4", OutputMedia::Av, &both).unwrap(), None);
        let e = |i, media, r: &RecordSpec| snapshots(i, "b.mp4", media, r).unwrap_err().to_string();
        assert!(e(3601, OutputMedia::Av, &both).contains("snapshot_interval_secs"));
        assert!(e(1, OutputMedia::Audio, &both).contains("audio only"));
        let single = RecordSpec {
            mode: RecordMode::Single,
            ..RecordSpec::default()
        };
        assert!(e(1, OutputMedia::Av, &single).contains("record_cfg.mode"));
    }
}
