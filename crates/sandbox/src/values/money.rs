//! Amounts of money, in cents: WooCommerce's prices and Mirakl's offer prices.

/// An amount in cents. WooCommerce keeps prices as decimal strings; the sandbox answers them
/// with two decimals (`"19.90"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(pub i64);

impl Money {
    /// `"19.9"`, `"19.90"`, `"19"`; more than two decimals round half up. `None` when it is not
    /// a decimal number.
    pub fn parse(raw: &str) -> Option<Money> {
        let raw = raw.trim();
        let (negative, digits) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty()
            || !all_digits(whole)
            || !all_digits(fraction)
            || whole.len() > 12
        {
            return None;
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        let mut cents = whole * 100;
        let mut fraction_digits = fraction.bytes().map(|b| i64::from(b - b'0'));
        cents += fraction_digits.next().unwrap_or(0) * 10;
        cents += fraction_digits.next().unwrap_or(0);
        if fraction_digits.next().unwrap_or(0) >= 5 {
            cents += 1;
        }
        Some(Money(if negative { -cents } else { cents }))
    }

    pub fn times(self, quantity: i64) -> Money {
        Money(self.0 * quantity)
    }

    /// As a JSON number with its decimals (`19.9`), the way Mirakl writes amounts.
    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!(self.0 as f64 / 100.0)
    }

    /// A JSON amount, a number or a decimal string (Connect's examples have both), of 0 or
    /// more.
    pub fn from_json(value: &serde_json::Value) -> Option<Money> {
        let money = match value {
            serde_json::Value::Number(number) => Money::parse(&number.to_string()),
            serde_json::Value::String(text) => Money::parse(text),
            _ => None,
        };
        money.filter(|money| money.0 >= 0)
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let cents = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", cents / 100, cents % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_decimal_strings_and_prints_two_decimals() {
        assert_eq!(Money::parse("19.9"), Some(Money(1990)));
        assert_eq!(Money::parse("19"), Some(Money(1900)));
        assert_eq!(Money::parse("0.05"), Some(Money(5)));
        assert_eq!(Money::parse("1.005"), Some(Money(101)));
        assert_eq!(Money::parse("abc"), None);
        assert_eq!(Money::parse(""), None);
        assert_eq!(Money(1990).to_string(), "19.90");
        assert_eq!(Money(5).to_string(), "0.05");
    }
}
