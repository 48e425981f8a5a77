//! How values cross Mirakl's JSON, for every client here: amounts as the exact digits of a JSON
//! number (never through a float), ISO 8601 dates, and the optional fields Mirakl sends empty or
//! `null`.
//!
//! The functions are named for `#[serde(deserialize_with = "…")]` and `serialize_with`.

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::ser::{self, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// A JSON number as written (`19.90`), or a number Mirakl sent as a string (`"19.90"`).
pub(crate) fn number_text(raw: &RawValue) -> Option<String> {
    match serde_json::from_str::<serde_json::Value>(raw.get()).ok()? {
        serde_json::Value::Number(_) => Some(raw.get().to_owned()),
        serde_json::Value::String(text) if !text.trim().is_empty() => Some(text),
        _ => None,
    }
}

/// An amount Mirakl must send: its digits as sent. `null` or anything but a number is refused.
pub(crate) fn decimal<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    optional_decimal(deserializer)?.ok_or_else(|| de::Error::custom("expected an amount"))
}

/// An amount Mirakl may leave out or send as `null`.
pub(crate) fn optional_decimal<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let raw = Option::<Box<RawValue>>::deserialize(deserializer)?;
    Ok(raw.as_deref().and_then(number_text))
}

/// Whether `text` is an amount as Mirakl reads one: digits, then optionally a dot and digits
/// (`"19"`, `"19.90"`). No sign, exponent, comma or space.
pub(crate) fn is_plain_decimal(text: &str) -> bool {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    [whole, fraction]
        .iter()
        .all(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// An amount (`"19.90"`) as the JSON number with exactly those digits (`19.90`). Text that is
/// no plain decimal is refused, so a request with it is never sent.
pub(crate) fn serialize_decimal<S: Serializer>(
    text: &str,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    if !is_plain_decimal(text) {
        return Err(ser::Error::custom(format!(
            "“{text}” is not an amount like 19.90"
        )));
    }
    RawValue::from_string(text.to_owned())
        .map_err(ser::Error::custom)?
        .serialize(serializer)
}

/// A date-time Mirakl must send (ISO 8601 with an offset, e.g. `2019-04-02T14:18:43Z`).
pub(crate) fn date_time<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<OffsetDateTime, D::Error> {
    optional_date_time(deserializer)?.ok_or_else(|| de::Error::custom("expected a date-time"))
}

/// A date-time Mirakl may leave out or send as `null` or empty.
pub(crate) fn optional_date_time<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<OffsetDateTime>, D::Error> {
    match non_empty(deserializer)? {
        Some(text) => OffsetDateTime::parse(text.trim(), &Rfc3339)
            .map(Some)
            .map_err(|e| de::Error::custom(format!("“{text}” is not an ISO 8601 date-time: {e}"))),
        None => Ok(None),
    }
}

/// `at` for a query filter: UTC, to the second below (`2026-03-01T10:00:00Z`). Rounding down
/// only widens a "since" filter, so nothing is missed. `None` past the year 9999.
pub(crate) fn query_date_time(at: OffsetDateTime) -> Option<String> {
    at.to_offset(UtcOffset::UTC)
        .replace_nanosecond(0)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

/// An optional text that Mirakl may send empty or `null`: both read as `None`.
pub(crate) fn non_empty<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let text = Option::<String>::deserialize(deserializer)?;
    Ok(text.filter(|text| !text.trim().is_empty()))
}

/// A field Mirakl may send as `null`: read as its default (`false`, empty).
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// `value` as a JSON request body; what cannot be sent (an amount that is no number) is the
/// message of the error.
pub(crate) fn json_body(value: &impl Serialize) -> Result<Vec<u8>, String> {
    serde_json::to_vec(value).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, Serialize)]
    struct Amounts {
        #[serde(deserialize_with = "decimal", serialize_with = "serialize_decimal")]
        price: String,
        #[serde(default, deserialize_with = "optional_decimal", skip_serializing)]
        discount: Option<String>,
    }

    #[test]
    fn amounts_keep_their_digits_both_ways() {
        let read: Amounts =
            serde_json::from_str(r#"{"price": 19.90, "discount": "15.00"}"#).unwrap();
        assert_eq!(read.price, "19.90");
        assert_eq!(read.discount.as_deref(), Some("15.00"));
        assert_eq!(json_body(&read).unwrap(), br#"{"price":19.90}"#);

        let big: Amounts = serde_json::from_str(r#"{"price": 12345678901234567.89}"#).unwrap();
        assert_eq!(big.price, "12345678901234567.89", "no float in between");
        assert_eq!(big.discount, None);
    }

    #[test]
    fn a_missing_or_null_amount_is_refused_where_one_is_due() {
        assert!(serde_json::from_str::<Amounts>(r#"{"price": null}"#).is_err());
        assert!(serde_json::from_str::<Amounts>(r#"{"price": true}"#).is_err());
        assert!(serde_json::from_str::<Amounts>(r#"{}"#).is_err());
    }

    #[test]
    fn only_plain_decimals_are_sent() {
        for good in ["0", "19", "19.9", "19.90", "1234.56"] {
            assert!(is_plain_decimal(good), "{good}");
        }
        for bad in [
            "", "-1", "+1", "1e3", "19,90", ".5", "5.", " 5", "1.2.3", "NaN",
        ] {
            assert!(!is_plain_decimal(bad), "{bad}");
        }
        let bad = Amounts {
            price: "19,90".to_owned(),
            discount: None,
        };
        assert_eq!(
            json_body(&bad).unwrap_err(),
            "“19,90” is not an amount like 19.90"
        );
    }

    #[derive(Debug, Deserialize)]
    struct Dates {
        #[serde(deserialize_with = "date_time")]
        created: OffsetDateTime,
        #[serde(default, deserialize_with = "optional_date_time")]
        deadline: Option<OffsetDateTime>,
    }

    #[test]
    fn dates_are_iso_8601_with_an_offset() {
        let dates: Dates = serde_json::from_value(
            json!({"created": "2019-04-02T14:58:22.460Z", "deadline": "2015-06-09T00:00:00+00:00"}),
        )
        .unwrap();
        assert_eq!(dates.created.unix_timestamp(), 1_554_217_102);
        assert_eq!(dates.created.millisecond(), 460);
        assert_eq!(dates.deadline.unwrap().unix_timestamp(), 1_433_808_000);

        let no_deadline: Dates =
            serde_json::from_value(json!({"created": "2019-04-02T14:18:43Z", "deadline": null}))
                .unwrap();
        assert_eq!(no_deadline.deadline, None);
        assert!(serde_json::from_value::<Dates>(json!({"created": "2019-04-02"})).is_err());
    }

    #[test]
    fn query_dates_are_utc_to_the_second() {
        let at = OffsetDateTime::parse("2026-03-01T11:30:15.987+01:00", &Rfc3339).unwrap();
        assert_eq!(query_date_time(at).as_deref(), Some("2026-03-01T10:30:15Z"));
    }
}
