//! The catalog item (one sellable SKU read from the shop) and the identifiers it carries.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::money::Money;

/// A seller's SKU: trimmed, 1 to [`Sku::MAX_CHARS`] characters, no control characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SkuError {
    #[error("the SKU is empty")]
    Empty,
    #[error("the SKU has {chars} characters; Mirakl takes at most {max}", max = Sku::MAX_CHARS)]
    TooLong { chars: usize },
    #[error("the SKU contains an invisible control character (a tab or a line break)")]
    ControlCharacter,
}

impl Sku {
    /// ASSUMPTION: Mirakl's usual limit for a shop SKU; operators may set a lower one.
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, SkuError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(SkuError::Empty);
        }
        let chars = s.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(SkuError::TooLong { chars });
        }
        if s.chars().any(char::is_control) {
            return Err(SkuError::ControlCharacter);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sku({})", self.0)
    }
}

impl TryFrom<String> for Sku {
    type Error = SkuError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Sku> for String {
    fn from(s: Sku) -> String {
        s.0
    }
}

/// A GS1 trade item number (EAN-8, UPC-A, EAN-13, GTIN-14) with a valid check digit.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Gtin(String);

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum GtinError {
    #[error("the GTIN is empty")]
    Empty,
    #[error("a GTIN has only digits, and “{0}” has other characters")]
    NotDigits(String),
    #[error("a GTIN has 8, 12, 13 or 14 digits, and this one has {0}")]
    WrongLength(usize),
    #[error(
        "the last digit of a GTIN checks the others, and for {value} it should be {expected}: look for a typing mistake"
    )]
    CheckDigit { value: String, expected: u8 },
}

impl Gtin {
    /// Digits only (surrounding spaces are trimmed), 8, 12, 13 or 14 of them, the last being
    /// the GS1 check digit.
    pub fn parse(raw: &str) -> Result<Self, GtinError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(GtinError::Empty);
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(GtinError::NotDigits(s.to_owned()));
        }
        if !matches!(s.len(), 8 | 12 | 13 | 14) {
            return Err(GtinError::WrongLength(s.len()));
        }
        let (body, check) = s.split_at(s.len() - 1);
        let expected = gs1_check_digit(body);
        if check.as_bytes()[0] - b'0' != expected {
            return Err(GtinError::CheckDigit {
                value: s.to_owned(),
                expected,
            });
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 8-, 12- or 13-digit form a consumer item is known by on Mirakl: a GTIN-14 that
    /// starts with 0 is an EAN-13 written long. `None` for a true GTIN-14 (a case of items).
    pub fn consumer_code(&self) -> Option<&str> {
        match self.0.len() {
            14 => self.0.strip_prefix('0'),
            _ => Some(&self.0),
        }
    }
}

/// GS1's check digit for the digits before it: weights 3, 1, 3, … from the right.
fn gs1_check_digit(body: &str) -> u8 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gtin({})", self.0)
    }
}

impl TryFrom<String> for Gtin {
    type Error = GtinError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Gtin> for String {
    fn from(g: Gtin) -> String {
        g.0
    }
}

/// One sellable SKU read from the shop — a simple product, or one variation of a variable
/// product — in the shop-neutral shape the rules work on. Storage keeps it as JSON, so new
/// fields get a `serde(default)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogItem {
    pub sku: Sku,
    pub shop_product_id: i64,
    /// Set for a variation of a variable product.
    #[serde(default)]
    pub shop_variation_id: Option<i64>,
    /// The variable product's name, for a variation.
    #[serde(default)]
    pub parent_title: Option<String>,
    pub title: String,
    /// Plain text (the shop's HTML is removed when the item is read).
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Tag ids.
    #[serde(default)]
    pub tags: Vec<i64>,
    /// Image URLs, the item's own first.
    #[serde(default)]
    pub images: Vec<String>,
    /// `(name, value)`. For a variation: its own options, then the parent's attributes that do
    /// not define variations. Several values of one attribute are joined with ", ".
    #[serde(default)]
    pub attributes: Vec<(String, String)>,
    /// The shop's custom fields whose values are text, `(key, value)`.
    #[serde(default)]
    pub meta: Vec<(String, String)>,
    /// The store's own GTIN field (WooCommerce's "GTIN, UPC, EAN or ISBN", BigCommerce's
    /// `gtin`), as typed (checked only when used).
    #[serde(default)]
    pub global_unique_id: Option<String>,
    #[serde(default)]
    pub regular_price: Option<Money>,
    #[serde(default)]
    pub sale_price: Option<Money>,
    /// Unix milliseconds; `None` is an open end.
    #[serde(default)]
    pub sale_from_ms: Option<i64>,
    #[serde(default)]
    pub sale_to_ms: Option<i64>,
    #[serde(default)]
    pub stock: Stock,
    /// Published in the shop (drafts, pending, private products and disabled variations are not).
    #[serde(default)]
    pub published: bool,
    /// Unix milliseconds of the last change in the shop.
    #[serde(default)]
    pub modified_at_ms: i64,
}

/// A product category as the shop names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub id: i64,
    pub name: String,
}

/// The shop's stock for one item.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Stock {
    /// Whether the shop counts units; when it does not, only `status` is known.
    pub managed: bool,
    pub quantity: Option<i64>,
    pub status: StockStatus,
}

impl Stock {
    /// The stock less `held` units that orders accepted on Mirakl hold and the shop does not
    /// count yet (their shop orders are still to be made): what a channel may sell. Stock the
    /// shop does not count is left as it is, and counted stock never goes below zero.
    pub fn less_held(&self, held: i64) -> Stock {
        let mut stock = *self;
        if stock.managed && held > 0 {
            stock.quantity = Some((stock.quantity.unwrap_or(0) - held).max(0));
        }
        stock
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockStatus {
    #[default]
    InStock,
    OutOfStock,
    OnBackorder,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_units_are_taken_from_counted_stock_only() {
        let counted = |quantity| Stock {
            managed: true,
            quantity,
            status: StockStatus::InStock,
        };
        assert_eq!(counted(Some(5)).less_held(2).quantity, Some(3));
        assert_eq!(counted(Some(1)).less_held(3).quantity, Some(0));
        assert_eq!(counted(None).less_held(1).quantity, Some(0));
        assert_eq!(counted(Some(5)).less_held(0), counted(Some(5)));
        let uncounted = Stock {
            managed: false,
            quantity: None,
            status: StockStatus::InStock,
        };
        assert_eq!(uncounted.less_held(4), uncounted);
    }

    #[test]
    fn skus_are_trimmed_and_checked() {
        assert_eq!(Sku::parse("  TS-RED-M ").unwrap().as_str(), "TS-RED-M");
        assert_eq!(Sku::parse(" "), Err(SkuError::Empty));
        assert_eq!(
            Sku::parse(&"x".repeat(101)),
            Err(SkuError::TooLong { chars: 101 })
        );
        assert!(Sku::parse(&"é".repeat(100)).is_ok());
        assert_eq!(Sku::parse("A\tB"), Err(SkuError::ControlCharacter));
        assert!(serde_json::from_str::<Sku>("\"\"").is_err());
    }

    #[test]
    fn gtins_with_a_valid_check_digit_parse() {
        for valid in [
            "4006381333931",  // EAN-13
            "96385074",       // EAN-8
            "036000291452",   // UPC-A
            "10012345678902", // GTIN-14
            "00012345678905", // GTIN-14 holding a UPC
            " 5901234123457 ",
        ] {
            assert!(Gtin::parse(valid).is_ok(), "{valid}");
        }
    }

    #[test]
    fn gtins_explain_why_they_are_refused() {
        assert_eq!(Gtin::parse(""), Err(GtinError::Empty));
        assert_eq!(
            Gtin::parse("4006-381333931"),
            Err(GtinError::NotDigits("4006-381333931".into()))
        );
        assert_eq!(Gtin::parse("123456789"), Err(GtinError::WrongLength(9)));
        assert_eq!(
            Gtin::parse("4006381333932"),
            Err(GtinError::CheckDigit {
                value: "4006381333932".into(),
                expected: 1
            })
        );
        assert_eq!(
            Gtin::parse("96385075").unwrap_err().to_string(),
            "the last digit of a GTIN checks the others, and for 96385075 it should be 4: look for a typing mistake"
        );
        assert!(Gtin::parse("036000291453").is_err());
    }

    #[test]
    fn a_gtin_14_starting_with_zero_is_sent_as_its_ean_13() {
        let long = Gtin::parse("04006381333931").unwrap();
        assert_eq!(long.consumer_code(), Some("4006381333931"));
        assert_eq!(Gtin::parse("10012345678902").unwrap().consumer_code(), None);
        assert_eq!(
            Gtin::parse("96385074").unwrap().consumer_code(),
            Some("96385074")
        );
    }

    #[test]
    fn a_catalog_item_survives_a_json_round_trip() {
        let item = crate::catalog::offer::tests::shirt();
        let json = serde_json::to_string(&item).unwrap();
        assert_eq!(serde_json::from_str::<CatalogItem>(&json).unwrap(), item);
    }

    #[test]
    fn a_catalog_item_stored_with_fewer_fields_still_loads() {
        let item: CatalogItem =
            serde_json::from_str(r#"{"sku": "A-1", "shop_product_id": 3, "title": "Mug"}"#)
                .unwrap();
        assert_eq!(item.sku.as_str(), "A-1");
        assert_eq!(item.stock, Stock::default());
        assert!(!item.published);
        assert!(item.regular_price.is_none());
        let bad = r#"{"sku": " ", "shop_product_id": 3, "title": "Mug"}"#;
        assert!(serde_json::from_str::<CatalogItem>(bad).is_err());
    }
}
