//! Easemob's recording queries (seed 003) as values: the time forms, the paging rule
//! and the JSON shape of a record (sans IO).
//!
//! - Query times are `yyyyMMddHHmmss` (e.g. `20190101080607`), UTC.
//! - Record times are `yyyy-MM-dd HH:mm:ss`, UTC (e.g. `2019-02-21 17:56:04`).
//! - Paging: records with `id >= startId` in ascending id order, at most `length`;
//!   `length` is 1..=[`MAX_PAGE_LENGTH`] (more is an error, as Easemob's API says).

use serde_json::{json, Value};

use super::row::Recording;

/// Largest `length` of a paged query.
pub const MAX_PAGE_LENGTH: u32 = 100;

/// Easemob's conference type for every cloudmixer recording (an ordinary conference).
pub const CONFR_TYPE: &str = "CONFR";

/// A paged time-range query: records finished between `begin_ms` and `end_ms`
/// (inclusive, Unix ms), from id `start_id` on, at most `length`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimePage {
    pub begin_ms: i64,
    pub end_ms: i64,
    pub start_id: i64,
    pub length: u32,
    /// Only composite (MERGE_ALL) files.
    pub merged_only: bool,
}

/// Why a query was refused (HTTP 400); the message names the path parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {message}")]
pub struct QueryError {
    pub param: &'static str,
    pub message: String,
}

fn bad(param: &'static str, message: impl Into<String>) -> QueryError {
    QueryError {
        param,
        message: message.into(),
    }
}

impl TimePage {
    /// Parses the path parameters of `.../audio[/merge]/{beginTime}/{endTime}/{startId}/{length}`.
    /// Errors: a time not in `yyyyMMddHHmmss` form, `endTime` before `beginTime`, a
    /// negative or non-numeric `startId`, `length` outside 1..=100.
    pub fn parse(
        begin: &str,
        end: &str,
        start_id: &str,
        length: &str,
        merged_only: bool,
    ) -> Result<TimePage, QueryError> {
        let begin_ms = parse_compact(begin).ok_or_else(|| {
            bad(
                "beginTime",
                format!("must be yyyyMMddHHmmss (UTC), got {begin:?}"),
            )
        })?;
        let end_ms = parse_compact(end).ok_or_else(|| {
            bad(
                "endTime",
                format!("must be yyyyMMddHHmmss (UTC), got {end:?}"),
            )
        })?;
        if end_ms < begin_ms {
            return Err(bad("endTime", "is before beginTime"));
        }
        let start_id = start_id
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 0)
            .ok_or_else(|| {
                bad(
                    "startId",
                    format!("must be a record id >= 0, got {start_id:?}"),
                )
            })?;
        let length = length
            .parse::<u32>()
            .ok()
            .filter(|v| (1..=MAX_PAGE_LENGTH).contains(v))
            .ok_or_else(|| {
                bad(
                    "length",
                    format!("must be 1..={MAX_PAGE_LENGTH}, got {length:?}"),
                )
            })?;
        Ok(TimePage {
            begin_ms,
            // The whole last second.
            end_ms: end_ms + 999,
            start_id,
            length,
            merged_only,
        })
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count since 1970-01-01 (`civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Unix ms of `yyyyMMddHHmmss` (UTC); None if malformed or out of range.
pub fn parse_compact(s: &str) -> Option<i64> {
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |a: usize, b: usize| s[a..b].parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (
        n(0, 4)?,
        n(4, 6)?,
        n(6, 8)?,
        n(8, 10)?,
        n(10, 12)?,
        n(12, 14)?,
    );
    if !(1..=12).contains(&mo) || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    let (ny, nm) = if mo == 12 { (y + 1, 1) } else { (y, mo + 1) };
    let (_, _, last) = civil_from_days(days_from_civil(ny, nm, 1) - 1);
    if d < 1 || d > last {
        return None;
    }
    Some(((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60_000 + se * 1000)
}

/// `yyyy-MM-dd HH:mm:ss` (UTC) of Unix ms; empty for 0 (not known yet).
pub fn format_time(unix_ms: i64) -> String {
    if unix_ms == 0 {
        return String::new();
    }
    let secs = unix_ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The Easemob record of `r` with download link `url`, with cloudmixer's own fields
/// after Easemob's.
pub fn record_json(r: &Recording, url: &str) -> Value {
    json!({
        "id": r.id,
        "owner": r.owner,
        "confrBeginTime": format_time(r.conference_begin_ms),
        "confrEndTime": format_time(r.conference_end_ms),
        "confrType": CONFR_TYPE,
        "confrId": r.conference_id,
        "memberName": r.member_name,
        "userName": r.camid,
        "recordType": r.record_type.as_str(),
        "recordTime": format_time(r.record_time_ms),
        "expireTime": format_time(r.expire_time_ms),
        "url": url,
        "mixerId": r.mixer_id,
        "outputId": r.output_id,
        "media": r.media,
        "container": r.container,
        "path": r.path,
        "sizeBytes": r.size_bytes,
        "durationMs": r.duration_ms,
        "sha256": r.sha256,
        "status": r.status,
        "startUnixMs": r.start_ms,
        "endUnixMs": r.end_ms,
        "recordUnixMs": r.record_time_ms,
        "expireUnixMs": r.expire_time_ms,
        "uploadState": r.upload.state,
        "storageLocation": r.upload.location,
        "uploadAttempts": r.upload.attempts,
        "uploadError": r.upload.error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_in_both_forms() {
        // 2019-02-21 17:56:04 UTC, from the seed's example.
        let t = parse_compact("20190221175604").expect("valid");
        assert_eq!(t, 1_550_771_764_000);
        assert_eq!(format_time(t), "2019-02-21 17:56:04");
        assert_eq!(
            format_time(parse_compact("20240229235959").unwrap()),
            "2024-02-29 23:59:59"
        );
        assert_eq!(
            format_time(parse_compact("20231231235959").unwrap()),
            "2023-12-31 23:59:59"
        );
        for bad in [
            "2019022117560",
            "20190230000000",
            "20231301000000",
            "2019022117560x",
            "20190221246000",
        ] {
            assert_eq!(parse_compact(bad), None, "{bad}");
        }
        assert_eq!(format_time(0), "");
    }

    #[test]
    fn pages_are_bounded_as_easemob_says() {
        let p = TimePage::parse("20190101080607", "20190304050607", "0", "100", true).unwrap();
        assert_eq!((p.start_id, p.length, p.merged_only), (0, 100, true));
        assert_eq!(p.end_ms % 1000, 999, "the end second is included");
        let e = TimePage::parse("20190101080607", "20190304050607", "0", "101", false).unwrap_err();
        assert_eq!(e.param, "length");
        assert_eq!(e.to_string(), "length: must be 1..=100, got \"101\"");
        for (b, e, s, l, param) in [
            ("2019", "20190304050607", "0", "1", "beginTime"),
            ("20190304050607", "20190101080607", "0", "1", "endTime"),
            ("20190101080607", "20190304050607", "-1", "1", "startId"),
            ("20190101080607", "20190304050607", "0", "0", "length"),
        ] {
            assert_eq!(TimePage::parse(b, e, s, l, false).unwrap_err().param, param);
        }
    }
}
