//! Content hashes of what a channel receives, so only what changed since the last
//! acknowledged send goes out again (F4).
//!
//! The hash is SHA-256, cut to 16 bytes, over a byte encoding written here field by field: a
//! tag naming the shape and its version, then every field the channel receives, strings with
//! their length in front, numbers as 8 little-endian bytes, absent values as a 0 byte and
//! present ones as a 1 byte before them. It does not depend on serde or on field order in a
//! struct, so it stays stable across versions. Changing the encoding (or the tag) changes every
//! hash, and the next export re-sends every item once.

use std::fmt;

use sha2::{Digest, Sha256};

use super::connect::{ConnectMoney, ConnectProduct, LocalizedText};
use super::mapping::ProductLine;
use super::money::{Currency, Money};
use super::offer::Offer;
use super::rules::Discount;

/// The first 16 bytes of a SHA-256 digest. Shown and parsed as 32 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash(pub [u8; 16]);

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("a content hash is 32 hexadecimal digits")]
pub struct ContentHashError;

impl ContentHash {
    pub fn to_hex(&self) -> String {
        self.to_string()
    }

    pub fn parse_hex(hex: &str) -> Result<Self, ContentHashError> {
        let hex = hex.as_bytes();
        if hex.len() != 32 {
            return Err(ContentHashError);
        }
        let mut bytes = [0u8; 16];
        for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
            let digit = |c: u8| (c as char).to_digit(16).ok_or(ContentHashError);
            *byte = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
        }
        Ok(Self(bytes))
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({self})")
    }
}

/// Writes values into the digest in the encoding described at the top of this module.
struct Encoder(Sha256);

impl Encoder {
    fn new(tag: &str) -> Self {
        let mut encoder = Self(Sha256::new());
        encoder.str(tag);
        encoder
    }

    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.update(s.as_bytes());
    }

    fn len(&mut self, n: usize) {
        self.0.update((n as u64).to_le_bytes());
    }

    fn i64(&mut self, n: i64) {
        self.0.update(n.to_le_bytes());
    }

    /// The 0 or 1 byte before an optional value; `Some` comes back to be written.
    fn presence<T>(&mut self, value: Option<T>) -> Option<T> {
        self.0.update([u8::from(value.is_some())]);
        value
    }

    fn opt_i64(&mut self, n: Option<i64>) {
        if let Some(n) = self.presence(n) {
            self.i64(n);
        }
    }

    fn opt_str(&mut self, s: Option<&str>) {
        if let Some(s) = self.presence(s) {
            self.str(s);
        }
    }

    fn money(&mut self, money: Money, currency: Currency) {
        self.i64(money.minor());
        self.0.update(currency.as_str().as_bytes());
    }

    fn connect_money(&mut self, money: &ConnectMoney) {
        self.money(money.amount, money.currency);
    }

    fn texts(&mut self, texts: &[LocalizedText]) {
        self.len(texts.len());
        for text in texts {
            self.str(&text.locale);
            self.str(&text.value);
        }
    }

    fn finish(self) -> ContentHash {
        let digest = self.0.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        ContentHash(bytes)
    }
}

/// The hash of everything a marketplace receives for an offer.
pub fn offer_hash(offer: &Offer) -> ContentHash {
    let mut e = Encoder::new("offer/1");
    e.str(offer.sku.as_str());
    e.str(&offer.product_id);
    e.str(offer.product_id_type);
    e.money(offer.price, offer.currency);
    if let Some(Discount {
        price,
        start_ms,
        end_ms,
    }) = e.presence(offer.discount)
    {
        e.i64(price.minor());
        e.opt_i64(start_ms);
        e.opt_i64(end_ms);
    }
    e.i64(offer.quantity);
    e.str(&offer.state_code);
    e.str(&offer.description);
    e.finish()
}

/// The hash of everything Mirakl Connect receives for a product.
pub fn connect_product_hash(product: &ConnectProduct) -> ContentHash {
    let mut e = Encoder::new("connect-product/1");
    e.str(&product.id);
    e.texts(&product.titles);
    e.texts(&product.descriptions);
    e.opt_str(product.brand.as_deref());
    if let Some(category) = e.presence(product.category.as_ref()) {
        e.str(&category.id);
        e.texts(&category.labels);
    }
    e.len(product.gtins.len());
    for gtin in &product.gtins {
        e.str(&gtin.value);
    }
    e.len(product.images.len());
    for image in &product.images {
        e.str(&image.url);
    }
    e.len(product.attributes.len());
    for attribute in &product.attributes {
        e.str(&attribute.id);
        e.str(&attribute.name);
        e.str(attribute.kind);
        e.str(&attribute.value);
    }
    e.len(product.quantities.len());
    for quantity in &product.quantities {
        e.i64(quantity.available_quantity);
        e.opt_str(quantity.warehouse_code.as_deref());
    }
    e.len(product.standard_prices.len());
    for standard in &product.standard_prices {
        e.connect_money(&standard.price);
    }
    e.len(product.discount_prices.len());
    for discount in &product.discount_prices {
        e.connect_money(&discount.price);
        e.opt_str(discount.start_date.as_deref());
        e.opt_str(discount.end_date.as_deref());
    }
    e.finish()
}

/// The hash of a product's P41 line, its column codes included: a line that moves to another
/// column, or a column renamed, is sent again.
pub fn product_line_hash(line: &ProductLine) -> ContentHash {
    let mut e = Encoder::new("product-line/1");
    e.str(line.sku.as_str());
    e.len(line.columns.len());
    for column in &line.columns {
        e.str(column);
    }
    e.len(line.values.len());
    for value in &line.values {
        e.str(value);
    }
    e.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::connect::connect_product_for;
    use crate::catalog::item::Sku;
    use crate::catalog::offer::offer_for;
    use crate::catalog::offer::tests::{NOW, shirt};
    use crate::catalog::settings::ProductSettings;

    fn offer() -> Offer {
        offer_for(&shirt(), &ProductSettings::default(), NOW).unwrap()
    }

    #[test]
    fn the_same_offer_always_hashes_the_same() {
        assert_eq!(offer_hash(&offer()), offer_hash(&offer()));
        // Pinned: if this changes, every offer of every seller is re-sent once. Change it only
        // on purpose, together with the tag.
        assert_eq!(
            offer_hash(&offer()).to_hex(),
            "524387aa9947de4ab76ea5e4d239e495"
        );
    }

    #[test]
    fn every_field_of_an_offer_changes_its_hash() {
        let base = offer();
        type Change = Box<dyn Fn(&mut Offer)>;
        let changes: Vec<(&str, Change)> = vec![
            ("sku", Box::new(|o| o.sku = Sku::parse("TS-RED-L").unwrap())),
            (
                "product_id",
                Box::new(|o| o.product_id = "036000291452".into()),
            ),
            ("product_id_type", Box::new(|o| o.product_id_type = "UPC")),
            ("price", Box::new(|o| o.price = Money::from_minor(1991))),
            ("discount", Box::new(|o| o.discount = None)),
            (
                "discount price",
                Box::new(|o| o.discount.as_mut().unwrap().price = Money::from_minor(1491)),
            ),
            (
                "discount start",
                Box::new(|o| o.discount.as_mut().unwrap().start_ms = None),
            ),
            (
                "discount end",
                Box::new(|o| o.discount.as_mut().unwrap().end_ms = Some(1)),
            ),
            ("quantity", Box::new(|o| o.quantity = 8)),
            ("state", Box::new(|o| o.state_code = "1".into())),
            ("description", Box::new(|o| o.description.push('!'))),
            (
                "currency",
                Box::new(|o| o.currency = Currency::parse("USD").unwrap()),
            ),
        ];
        let base_hash = offer_hash(&base);
        let mut seen = vec![base_hash];
        for (field, change) in changes {
            let mut changed = base.clone();
            change(&mut changed);
            let hash = offer_hash(&changed);
            assert!(
                !seen.contains(&hash),
                "changing {field} must change the hash"
            );
            seen.push(hash);
        }
    }

    #[test]
    fn moving_text_between_fields_changes_the_hash() {
        let mut a = offer();
        a.state_code = "11".into();
        a.description = "x".into();
        let mut b = a.clone();
        b.state_code = "11x".into();
        b.description = String::new();
        assert_ne!(offer_hash(&a), offer_hash(&b));
    }

    #[test]
    fn every_field_of_a_connect_product_changes_its_hash() {
        let base = connect_product_for(&shirt(), &ProductSettings::default(), NOW).unwrap();
        assert_eq!(
            connect_product_hash(&base),
            connect_product_hash(&base.clone())
        );
        type Change = Box<dyn Fn(&mut ConnectProduct)>;
        let changes: Vec<(&str, Change)> = vec![
            ("id", Box::new(|p| p.id.push('2'))),
            ("title", Box::new(|p| p.titles[0].value.push('!'))),
            (
                "title locale",
                Box::new(|p| p.titles[0].locale = "fr_FR".into()),
            ),
            ("descriptions", Box::new(|p| p.descriptions.clear())),
            ("brand", Box::new(|p| p.brand = None)),
            ("category", Box::new(|p| p.category = None)),
            (
                "category id",
                Box::new(|p| p.category.as_mut().unwrap().id = "6".into()),
            ),
            ("gtin", Box::new(|p| p.gtins[0].value = "96385074".into())),
            ("images", Box::new(|p| p.images.clear())),
            (
                "attribute",
                Box::new(|p| p.attributes[0].value = "Blue".into()),
            ),
            (
                "quantity",
                Box::new(|p| p.quantities[0].available_quantity = 0),
            ),
            (
                "warehouse",
                Box::new(|p| p.quantities[0].warehouse_code = Some("W1".into())),
            ),
            (
                "price",
                Box::new(|p| p.standard_prices[0].price.amount = Money::from_minor(1)),
            ),
            (
                "currency",
                Box::new(|p| p.standard_prices[0].price.currency = Currency::parse("USD").unwrap()),
            ),
            ("discount", Box::new(|p| p.discount_prices.clear())),
            (
                "discount end",
                Box::new(|p| p.discount_prices[0].end_date = None),
            ),
        ];
        let mut seen = vec![connect_product_hash(&base)];
        for (field, change) in changes {
            let mut changed = base.clone();
            change(&mut changed);
            let hash = connect_product_hash(&changed);
            assert!(
                !seen.contains(&hash),
                "changing {field} must change the hash"
            );
            seen.push(hash);
        }
    }

    #[test]
    fn hashes_read_back_from_hex() {
        let hash = offer_hash(&offer());
        assert_eq!(ContentHash::parse_hex(&hash.to_hex()), Ok(hash));
        assert_eq!(ContentHash::parse_hex("abc"), Err(ContentHashError));
        assert_eq!(
            ContentHash::parse_hex(&"g".repeat(32)),
            Err(ContentHashError)
        );
    }
}
