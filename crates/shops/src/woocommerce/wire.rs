//! Lenient readers for the values WooCommerce (and the plugins that rewrite its answers) send in
//! more than one shape: `null` for strings and lists, numbers as strings, `"parent"` for a bool.
//! A catalog read must not fail on one odd product, so what cannot be read becomes the default.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// `null` (or a missing field, with `#[serde(default)]`) becomes `T::default()`.
pub(super) fn or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A string, or a number or bool written out; `null` is empty. Money stays as the store wrote it.
pub(super) fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(text) => text,
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Null | Value::Array(_) | Value::Object(_) => String::new(),
    })
}

/// An integer, also from a numeric string or a whole float; anything else is `None`.
pub(super) fn integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Ok(integer_of(&Value::deserialize(deserializer)?))
}

fn integer_of(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|float| float.fract() == 0.0)
                .map(|float| float as i64)
        }),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// An id: an integer, also from a numeric string; a missing id is 0.
pub(super) fn id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    Ok(integer(deserializer)?.unwrap_or_default())
}

/// A list of ids, skipping entries that are not ids.
pub(super) fn ids<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<i64>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Array(items) => items.iter().filter_map(integer_of).collect(),
        _ => Vec::new(),
    })
}

/// A flag; `"parent"` (a variation whose parent manages the stock) counts as managed.
pub(super) fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(flag_of(&Value::deserialize(deserializer)?))
}

pub(super) fn flag_of(value: &Value) -> bool {
    match value {
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_i64().is_some_and(|n| n != 0),
        Value::String(text) => matches!(
            text.trim().to_ascii_lowercase().as_str(),
            "parent" | "yes" | "true" | "1"
        ),
        _ => false,
    }
}

/// An object, or `None` for `null`, `false` or `[]` (PHP's ways of saying "no image").
pub(super) fn object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Value::deserialize(deserializer)? {
        object @ Value::Object(_) => serde_json::from_value(object)
            .map(Some)
            .map_err(serde::de::Error::custom),
        _ => Ok(None),
    }
}

/// A `_gmt` date: WooCommerce writes `2024-05-01T10:00:00` with no zone; an explicit offset is
/// honoured. Empty or unreadable is `None`.
pub(super) fn gmt_date<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<OffsetDateTime>, D::Error> {
    let Value::String(text) = Value::deserialize(deserializer)? else {
        return Ok(None);
    };
    let text = text.trim();
    let without_zone = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    Ok(PrimitiveDateTime::parse(text, without_zone)
        .map(PrimitiveDateTime::assume_utc)
        .or_else(|_| OffsetDateTime::parse(text, &Rfc3339))
        .ok())
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    #[derive(Deserialize)]
    struct Sample {
        #[serde(default, deserialize_with = "text")]
        text: String,
        #[serde(default, deserialize_with = "integer")]
        integer: Option<i64>,
        #[serde(default, deserialize_with = "flag")]
        flag: bool,
        #[serde(default, deserialize_with = "gmt_date")]
        date: Option<OffsetDateTime>,
        #[serde(default, deserialize_with = "ids")]
        ids: Vec<i64>,
    }

    fn sample(value: serde_json::Value) -> Sample {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn odd_shapes_are_read_leniently() {
        let s = sample(json!({
            "text": 19.9, "integer": "12", "flag": "parent",
            "date": "2024-05-01T10:00:00", "ids": [1, "2", null]
        }));
        assert_eq!(s.text, "19.9");
        assert_eq!(s.integer, Some(12));
        assert!(s.flag);
        assert_eq!(s.date, Some(datetime!(2024-05-01 10:00:00 UTC)));
        assert_eq!(s.ids, [1, 2]);

        let s = sample(json!({
            "text": null, "integer": null, "flag": null, "date": null, "ids": null
        }));
        assert_eq!(s.text, "");
        assert_eq!(s.integer, None);
        assert!(!s.flag);
        assert_eq!(s.date, None);
        assert!(s.ids.is_empty());

        let s = sample(json!({"integer": 3.0, "date": "2024-05-01T12:00:00+02:00"}));
        assert_eq!(s.integer, Some(3));
        assert_eq!(s.date, Some(datetime!(2024-05-01 10:00:00 UTC)));
        assert_eq!(sample(json!({"date": "yesterday"})).date, None);
    }
}
