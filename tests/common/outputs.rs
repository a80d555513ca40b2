//! Checks of a mixer's outputs after Destroy, as a user sees them: the final
//! GetCloudMixer/Destroy info and the OutputInfoChanged events of each output.

use std::path::Path;

use cloudmixer::proto::{mixer_event::Event, MixerEvent, MixerInfo, OutputInfo, OutputStatus};

/// Every OutputInfoChanged of `output_id` in `evs`, in order.
pub fn events_of<'a>(evs: &'a [MixerEvent], output_id: &str) -> Vec<&'a OutputInfo> {
    evs.iter()
        .filter_map(|e| match &e.event {
            Some(Event::OutputInfoChanged(o)) => o.output_info.as_ref(),
            _ => None,
        })
        .filter(|o| o.output_id == output_id)
        .collect()
}

/// After Destroy: `info.outputs` are exactly `want_ids` (sorted), each FINALIZED, its
/// file under `root` exists with the reported size and its duration is > 0; each has at
/// least `min_events` OutputInfoChanged events whose duration and size never shrink, the
/// last FINALIZED and equal to the final info; no event names an output `info` lacks.
/// Panics naming the output otherwise.
pub fn check_all_finalized(
    info: &MixerInfo,
    evs: &[MixerEvent],
    root: &Path,
    want_ids: &[&str],
    min_events: usize,
) {
    let mut ids: Vec<&str> = info.outputs.iter().map(|o| o.output_id.as_str()).collect();
    ids.sort_unstable();
    let mut want = want_ids.to_vec();
    want.sort_unstable();
    assert_eq!(ids, want, "outputs of {}", info.mixer_id);
    for o in &info.outputs {
        let id = &o.output_id;
        assert_eq!(o.status, OutputStatus::Finalized as i32, "{id}: {o:?}");
        assert!(o.duration_ms > 0, "{id}: {o:?}");
        let len = std::fs::metadata(root.join(&o.path)).map(|m| m.len());
        assert_eq!(len.ok(), Some(o.size_bytes), "{id}: file vs reported size");
        let seen = events_of(evs, id);
        assert!(seen.len() >= min_events, "{id}: {} events", seen.len());
        for w in seen.windows(2) {
            assert!(
                w[0].duration_ms <= w[1].duration_ms && w[0].size_bytes <= w[1].size_bytes,
                "{id}: shrank from {:?} to {:?}",
                w[0],
                w[1]
            );
        }
        let last = seen.last().expect("events");
        assert_eq!(
            last.status,
            OutputStatus::Finalized as i32,
            "{id}: {last:?}"
        );
        assert_eq!(
            (last.duration_ms, last.size_bytes),
            (o.duration_ms, o.size_bytes),
            "{id}: the last event is the final info"
        );
    }
    let mut named: Vec<&str> = evs
        .iter()
        .filter_map(|e| match &e.event {
            Some(Event::OutputInfoChanged(o)) => o.output_info.as_ref(),
            _ => None,
        })
        .map(|o| o.output_id.as_str())
        .collect();
    named.sort_unstable();
    named.dedup();
    assert_eq!(named, want, "outputs named by events of {}", info.mixer_id);
}
