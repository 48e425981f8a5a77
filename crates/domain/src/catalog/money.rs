//! Amounts of money as whole minor units, and the currencies they are counted in.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount in hundredths of the currency unit, so prices add and compare exactly.
///
/// ASSUMPTION: two decimals, WooCommerce's default. A store set to no decimals (JPY) still
/// reads right: `"1000"` is 1000.00, and Mirakl receives the same value.
///
/// Stored and serialized as its decimal string (`"19.90"`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Money(i64);

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum MoneyError {
    #[error("no amount was given")]
    Empty,
    #[error("“{0}” is not an amount like 19.90")]
    NotAnAmount(String),
    #[error("“{0}” has more than 2 decimals")]
    TooManyDecimals(String),
    #[error("“{0}” is too large an amount")]
    TooLarge(String),
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_minor(minor: i64) -> Self {
        Self(minor)
    }

    /// The amount in hundredths (cents).
    pub const fn minor(self) -> i64 {
        self.0
    }

    /// A price as WooCommerce's REST API writes it: digits, then optionally a dot and up to two
    /// decimals (`"19"`, `"19.9"`, `"19.90"`). Zeros beyond the second decimal are accepted
    /// (`"19.900"`); anything else — signs, commas, letters, a third significant decimal — is
    /// refused rather than guessed at.
    pub fn parse(raw: &str) -> Result<Self, MoneyError> {
        parse_decimal(raw, false)
    }

    /// `"19.90"`, `"-0.05"`. Written digit by digit: an export writes one or two per item,
    /// and `format!` cost as much as the rest of the item's offer line.
    pub fn to_decimal_string(self) -> String {
        let abs = self.0.unsigned_abs();
        let (mut whole, cents) = (abs / 100, abs % 100);
        // At most 19 whole digits, a sign, a dot and two decimals.
        let mut buf = [0u8; 23];
        let mut at = buf.len();
        for digit in [cents % 10, cents / 10] {
            at -= 1;
            buf[at] = b'0' + digit as u8;
        }
        at -= 1;
        buf[at] = b'.';
        loop {
            at -= 1;
            buf[at] = b'0' + (whole % 10) as u8;
            whole /= 10;
            if whole == 0 {
                break;
            }
        }
        if self.0 < 0 {
            at -= 1;
            buf[at] = b'-';
        }
        buf[at..].iter().map(|&b| char::from(b)).collect()
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

fn parse_decimal(raw: &str, allow_negative: bool) -> Result<Money, MoneyError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(MoneyError::Empty);
    }
    let not_an_amount = || MoneyError::NotAnAmount(s.to_owned());
    let (negative, unsigned) = match s.strip_prefix('-') {
        Some(rest) if allow_negative => (true, rest),
        _ => (false, s),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) if !fraction.is_empty() => (whole, fraction),
        Some(_) => return Err(not_an_amount()),
        None => (unsigned, ""),
    };
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return Err(not_an_amount());
    }
    let (cents, beyond) = fraction.split_at(fraction.len().min(2));
    if beyond.bytes().any(|b| b != b'0') {
        return Err(MoneyError::TooManyDecimals(s.to_owned()));
    }
    let too_large = || MoneyError::TooLarge(s.to_owned());
    let units: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| too_large())?
    };
    let cents: i64 = match cents.len() {
        0 => 0,
        1 => i64::from(cents.as_bytes()[0] - b'0') * 10,
        _ => cents.parse().map_err(|_| not_an_amount())?,
    };
    let minor = units
        .checked_mul(100)
        .and_then(|m| m.checked_add(cents))
        .ok_or_else(too_large)?;
    Ok(Money(if negative { -minor } else { minor }))
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string())
    }
}

impl TryFrom<String> for Money {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        // Stored amounts may be negative (a price rule's result); shop input never is.
        parse_decimal(&s, true)
    }
}

impl From<Money> for String {
    fn from(m: Money) -> String {
        m.to_string()
    }
}

/// An ISO 4217 currency code: three letters, upper case.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("“{0}” is not a currency code; use three letters, like EUR or USD")]
pub struct CurrencyError(String);

impl Currency {
    pub const EUR: Currency = Currency(*b"EUR");

    /// Three ASCII letters, in any case (`"eur"` is EUR).
    pub fn parse(raw: &str) -> Result<Self, CurrencyError> {
        let s = raw.trim();
        match s.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_alphabetic) => Ok(Self([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ])),
            _ => Err(CurrencyError(s.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters get in, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl Default for Currency {
    /// ASSUMPTION: EUR until the store's own currency is read from WooCommerce's settings.
    fn default() -> Self {
        Self::EUR
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

impl TryFrom<String> for Currency {
    type Error = CurrencyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn woocommerce_prices_parse_to_cents() {
        for (raw, cents) in [
            ("19", 1900),
            ("19.9", 1990),
            ("19.90", 1990),
            (" 19.95 ", 1995),
            ("0.05", 5),
            (".5", 50),
            ("0", 0),
            ("19.900", 1990),
            ("1234567.89", 123_456_789),
        ] {
            assert_eq!(Money::parse(raw), Ok(Money::from_minor(cents)), "{raw}");
        }
    }

    #[test]
    fn garbage_is_not_a_price() {
        assert_eq!(Money::parse(""), Err(MoneyError::Empty));
        assert_eq!(Money::parse("  "), Err(MoneyError::Empty));
        for raw in [
            "abc", "19,90", "1,234.50", "-5", "+5", "19.", ".", "1.2.3", "€19", "19 90", "1e3",
        ] {
            assert!(
                matches!(Money::parse(raw), Err(MoneyError::NotAnAmount(_))),
                "{raw}"
            );
        }
        assert_eq!(
            Money::parse("19.999"),
            Err(MoneyError::TooManyDecimals("19.999".into()))
        );
        assert!(matches!(
            Money::parse("99999999999999999999"),
            Err(MoneyError::TooLarge(_))
        ));
        assert!(matches!(
            Money::parse("92233720368547758.08"),
            Err(MoneyError::TooLarge(_))
        ));
    }

    #[test]
    fn money_displays_with_two_decimals() {
        assert_eq!(Money::from_minor(1990).to_string(), "19.90");
        assert_eq!(Money::from_minor(5).to_decimal_string(), "0.05");
        assert_eq!(Money::from_minor(0).to_string(), "0.00");
        assert_eq!(Money::from_minor(-105).to_string(), "-1.05");
        assert_eq!(Money::from_minor(100_000).to_string(), "1000.00");
        assert_eq!(
            Money::from_minor(i64::MIN).to_string(),
            "-92233720368547758.08"
        );
        assert_eq!(
            Money::from_minor(i64::MAX).to_string(),
            "92233720368547758.07"
        );
        // Every amount reads back as itself.
        for minor in [-100_001, -99, -1, 1, 9, 10, 99, 100, 101, 123_456_789] {
            let money = Money::from_minor(minor);
            assert_eq!(parse_decimal(&money.to_string(), true), Ok(money));
        }
    }

    #[test]
    fn money_serializes_as_its_decimal_string() {
        let json = serde_json::to_string(&Money::from_minor(1990)).unwrap();
        assert_eq!(json, "\"19.90\"");
        assert_eq!(
            serde_json::from_str::<Money>("\"-1.05\"").unwrap(),
            Money::from_minor(-105)
        );
        assert!(serde_json::from_str::<Money>("\"x\"").is_err());
    }

    #[test]
    fn currencies_are_three_letters() {
        assert_eq!(Currency::parse("eur").unwrap(), Currency::EUR);
        assert_eq!(Currency::parse(" USD ").unwrap().as_str(), "USD");
        for raw in ["", "EU", "EURO", "E1R", "€€€"] {
            assert!(Currency::parse(raw).is_err(), "{raw}");
        }
        assert_eq!(Currency::default().to_string(), "EUR");
        assert_eq!(serde_json::to_string(&Currency::EUR).unwrap(), "\"EUR\"");
    }
}
