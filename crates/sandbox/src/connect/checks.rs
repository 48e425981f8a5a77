//! The checks Connect's published schema makes of a request body, each problem reported at
//! its field (`products[0].gtins[1].value`), so one bad item refuses the whole request with
//! every problem listed (`INVALID_INPUT`). Products and order actions share them.

use serde_json::{Map, Value};

use crate::connect::{ConnectError, FieldError};
use crate::values::clock::parse_mirakl;

/// ISO 4217 currency codes in use.
const CURRENCIES: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD \
    BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP \
    ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK \
    JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK \
    MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG \
    QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT \
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW \
    ZWG";

/// The problems found in a request, each at its field.
#[derive(Default)]
pub struct Problems(pub Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, field: &str, message: &str) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message: message.to_owned(),
        });
    }

    /// The request refused with every problem found, if there is one.
    pub fn refuse(self) -> Result<(), ConnectError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ConnectError::invalid(self.0))
        }
    }

    /// A string of `min..=max` characters.
    pub fn string(&mut self, field: &str, value: Option<&Value>, min: usize, max: usize) {
        match value {
            Some(Value::String(text)) if (min..=max).contains(&text.chars().count()) => {}
            Some(Value::String(_)) => {
                self.add(field, &format!("must be {min} to {max} characters long"))
            }
            None if min == 0 => {}
            _ => self.add(field, "must be a string"),
        }
    }

    /// A string, null or absent.
    pub fn optional_string(&mut self, field: &str, value: Option<&Value>, max: usize) {
        if !matches!(value, None | Some(Value::Null)) {
            self.string(field, value, 0, max);
        }
    }

    /// An array of `min..=max` items (`null` allowed when `nullable`): its items, to check.
    pub fn array<'v>(
        &mut self,
        field: &str,
        value: &'v Value,
        nullable: bool,
        min: usize,
        max: usize,
    ) -> &'v [Value] {
        match value {
            Value::Null if nullable => &[],
            Value::Array(items) if (min..=max).contains(&items.len()) => items,
            Value::Array(_) => {
                self.add(field, &format!("must have {min} to {max} items"));
                &[]
            }
            _ => {
                let kind = if nullable {
                    "an array or null"
                } else {
                    "an array"
                };
                self.add(field, &format!("must be {kind}"));
                &[]
            }
        }
    }

    /// An object: its fields, to check.
    pub fn object<'v>(&mut self, field: &str, value: &'v Value) -> Option<&'v Map<String, Value>> {
        let object = value.as_object();
        if object.is_none() {
            self.add(field, "must be an object");
        }
        object
    }

    /// An array of objects (see `array`): `check` looks at each object, at `field[index]`, right
    /// after it is found to be one, so the problems read in the order of the request.
    pub fn objects(
        &mut self,
        field: &str,
        value: &Value,
        nullable: bool,
        min: usize,
        max: usize,
        mut check: impl FnMut(&mut Self, &str, &Map<String, Value>),
    ) {
        for (index, item) in self
            .array(field, value, nullable, min, max)
            .iter()
            .enumerate()
        {
            let path = format!("{field}[{index}]");
            if let Some(item) = self.object(&path, item) {
                check(self, &path, item);
            }
        }
    }

    pub fn date(&mut self, field: &str, value: Option<&Value>) {
        match value {
            None | Some(Value::Null) => {}
            Some(Value::String(text)) if parse_mirakl(text).is_some() => {}
            Some(_) => self.add(
                field,
                "must be an ISO 8601 date-time, e.g. 2025-02-19T16:46:00Z",
            ),
        }
    }

    pub fn quantity(&mut self, field: &str, value: Option<&Value>) {
        let valid = value
            .and_then(Value::as_i64)
            .is_some_and(|n| (0..=1_000_000_000).contains(&n));
        if !valid {
            self.add(field, "must be a whole number from 0 to 1000000000");
        }
    }

    pub fn money(&mut self, field: &str, value: Option<&Value>) {
        let Some(money) = value.and_then(|value| self.object(field, value)) else {
            if value.is_none() {
                self.add(field, "is required");
            }
            return;
        };
        let amount = match money.get("amount") {
            Some(Value::Number(number)) => number.as_f64(),
            Some(Value::String(text)) => text.trim().parse::<f64>().ok(),
            _ => None,
        };
        if !amount.is_some_and(|amount| amount.is_finite() && amount >= 0.0) {
            self.add(&format!("{field}.amount"), "must be a number of 0 or more");
        }
        match money.get("currency") {
            Some(Value::String(code))
                if code.len() == 3 && CURRENCIES.split_whitespace().any(|known| known == code) => {}
            _ => self.add(
                &format!("{field}.currency"),
                "must be an ISO 4217 currency code, e.g. EUR",
            ),
        }
    }

    /// `[{locale, value}]` (titles, descriptions, category labels).
    pub fn localized(&mut self, field: &str, items: &[Value], max: usize) {
        for (index, item) in items.iter().enumerate() {
            let path = format!("{field}[{index}]");
            if let Some(item) = self.object(&path, item) {
                self.string(&format!("{path}.locale"), item.get("locale"), 1, 20);
                self.string(&format!("{path}.value"), item.get("value"), 0, max);
                if item.get("value").is_none() {
                    self.add(&format!("{path}.value"), "is required");
                }
            }
        }
    }
    /// A JSON body's fields, or the request refused as not JSON.
    pub fn body(body: &[u8]) -> Result<Map<String, Value>, ConnectError> {
        match serde_json::from_slice(body) {
            Ok(Value::Object(fields)) => Ok(fields),
            Ok(_) => Err(ConnectError::invalid_field("$", "must be a JSON object")),
            Err(error) => Err(ConnectError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "INVALID_INPUT",
                format!("The body is not valid JSON: {error}."),
            )),
        }
    }

    pub fn boolean(&mut self, field: &str, value: Option<&Value>) {
        if !value.is_some_and(Value::is_boolean) {
            self.add(field, "must be true or false");
        }
    }

    /// A whole number of `min` or more.
    pub fn whole(&mut self, field: &str, value: Option<&Value>, min: i64) {
        if value.and_then(Value::as_i64).is_none_or(|n| n < min) {
            self.add(field, &format!("must be a whole number of {min} or more"));
        }
    }

    /// One of an enum's values.
    pub fn one_of(&mut self, field: &str, value: Option<&Value>, allowed: &[&str]) {
        if !value
            .and_then(Value::as_str)
            .is_some_and(|value| allowed.contains(&value))
        {
            self.add(field, &format!("must be one of {}", allowed.join(", ")));
        }
    }
}
