//! `Retry-After` on a 429: how long Mirakl asks the caller to wait. The caller decides what to
//! do with it (the sync crate keeps the budgets); this module only reads the header.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

/// The wait a response asks for, counted from now.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    wait_from(value, SystemTime::now())
}

/// `Retry-After` is either delay-seconds (Mirakl's documented form) or an HTTP-date
/// (RFC 9110 §10.2.3). A date already past means "now"; anything unreadable means unknown.
fn wait_from(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    // An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") is an RFC 2822 date with the GMT zone.
    let at = OffsetDateTime::parse(value, &Rfc2822).ok()?;
    Some(
        SystemTime::from(at)
            .duration_since(now)
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix_seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(unix_seconds)
    }

    // Wed, 21 Oct 2015 07:28:00 GMT
    const OCT_21_2015: u64 = 1_445_412_480;

    #[test]
    fn seconds_are_read_as_they_are() {
        assert_eq!(wait_from("120", at(0)), Some(Duration::from_secs(120)));
        assert_eq!(wait_from(" 0 ", at(0)), Some(Duration::ZERO));
    }

    #[test]
    fn an_http_date_is_the_time_left_until_it() {
        let date = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(
            wait_from(date, at(OCT_21_2015 - 90)),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            wait_from(date, at(OCT_21_2015 + 5)),
            Some(Duration::ZERO),
            "a date in the past means retry now"
        );
    }

    #[test]
    fn an_unreadable_value_is_unknown() {
        assert_eq!(wait_from("soon", at(0)), None);
        assert_eq!(wait_from("-3", at(0)), None);
        assert_eq!(wait_from("", at(0)), None);
    }
}
