//! Instants as the emulated APIs take and give them: the current time in whole seconds, ISO
//! 8601 dates as WooCommerce reads them, and dates as Mirakl (marketplaces and Connect) reads
//! and writes them.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// Now, in whole seconds: every emulated API writes dates to the second.
///
/// ASSUMPTION: every emulated WooCommerce site runs on UTC, so `date_*` and `date_*_gmt` hold
/// the same value and `modified_after` means the same with or without `dates_are_gmt`.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

/// An ISO 8601 date as the WooCommerce REST API accepts it: with a zone (`Z`, `+02:00`) or
/// without one (the site's time, UTC here), with or without fractions of a second.
pub fn parse_iso8601(raw: &str) -> Option<OffsetDateTime> {
    let raw = raw.trim();
    if let Ok(at) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Some(at.to_offset(time::UtcOffset::UTC));
    }
    let naive = time::PrimitiveDateTime::parse(
        raw,
        format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
        ),
    )
    .ok()?;
    Some(naive.assume_utc())
}

/// A date as Mirakl answers it: UTC, whole seconds, `Z`.
pub fn format_mirakl(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let at = at.replace_nanosecond(0).unwrap_or(at);
    at.format(&Rfc3339).unwrap_or_default()
}

/// A date as Mirakl takes it in an import or a request: RFC 3339, an offset of hours alone as
/// in Mirakl's example file (`2017-02-20T10:45:53+01`), no offset (UTC), or a day alone (its
/// midnight, UTC).
pub fn parse_mirakl(raw: &str) -> Option<OffsetDateTime> {
    let raw = raw.trim();
    let hours_only = raw.len() > 3
        && matches!(raw.as_bytes()[raw.len() - 3], b'+' | b'-')
        && raw[raw.len() - 2..].bytes().all(|b| b.is_ascii_digit())
        && raw.contains('T');
    let raw = if hours_only {
        format!("{raw}:00")
    } else {
        raw.to_owned()
    };
    if let Some(at) = parse_iso8601(&raw) {
        return Some(at);
    }
    let day = time::Date::parse(&raw, format_description!("[year]-[month]-[day]")).ok()?;
    Some(day.midnight().assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_dates_parse_with_and_without_zone() {
        let naive = parse_iso8601("2024-05-01T10:00:00").unwrap();
        let zoned = parse_iso8601("2024-05-01T12:00:00+02:00").unwrap();
        assert_eq!(naive, zoned);
        assert!(parse_iso8601("yesterday").is_none());
    }
}
