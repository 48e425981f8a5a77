//! The product Mirakl Connect receives for a catalog item (`POST /products`), shaped and
//! serialized exactly as Connect's Product schema, so the client sends it as it is.
//!
//! Connect treats a product upsert like a PATCH: omitted fields stay as they were. Every field
//! is therefore always written (`null` or `[]` when empty), so a brand, a category or a sale
//! that disappears in the shop is cleared on Connect too.
//!
//! The same types read Connect's `GET /products` answers leniently (missing and `null` lists
//! are empty, amounts may be numbers or strings, unknown fields are ignored), so reconciliation
//! compares like with like.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::item::{CatalogItem, Sku};
use super::money::{Currency, Money};
use super::offer::{OfferProblem, consumer_code, field_value, find_gtin};
use super::rules::{channel_price, channel_quantity};
use super::settings::ProductSettings;
use super::text::truncate_chars;

/// ASSUMPTION: the locale of the shop's texts until it is read from the store (WordPress's
/// `en_US` default). Connect takes `en` or `en_US` forms.
pub const DEFAULT_LOCALE: &str = "en_US";

/// Connect's limits (Product schema); longer values are cut, extra images dropped.
const TITLE_MAX_CHARS: usize = 255;
const DESCRIPTION_MAX_CHARS: usize = 6000;
const BRAND_MAX_CHARS: usize = 255;
const CATEGORY_LABEL_MAX_CHARS: usize = 255;
const ATTRIBUTE_NAME_MAX_CHARS: usize = 255;
const ATTRIBUTE_VALUE_MAX_CHARS: usize = 2000;
const MAX_ATTRIBUTES: usize = 1000;
const MAX_IMAGES: usize = 15;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectProduct {
    /// The seller's SKU.
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub titles: Vec<LocalizedText>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub descriptions: Vec<LocalizedText>,
    #[serde(default)]
    pub brand: Option<String>,
    #[serde(default)]
    pub category: Option<ConnectCategory>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub gtins: Vec<ConnectGtin>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub images: Vec<ConnectImage>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub attributes: Vec<ConnectAttribute>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub quantities: Vec<ConnectQuantity>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub standard_prices: Vec<ConnectStandardPrice>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub discount_prices: Vec<ConnectDiscountPrice>,
}

impl ConnectProduct {
    /// The quantity Connect shows (the one warehouse-less quantity this connector sends).
    pub fn available_quantity(&self) -> Option<i64> {
        self.quantities.first().map(|q| q.available_quantity)
    }

    /// Sets the quantity, e.g. to 0 for [`super::RemovalPolicy::ZeroStock`].
    pub fn set_available_quantity(&mut self, quantity: i64) {
        self.quantities = vec![ConnectQuantity {
            available_quantity: quantity,
            warehouse_code: None,
        }];
    }

    /// The standard price as `"19.90"`, to compare with what Connect reports.
    pub fn standard_price_string(&self) -> Option<String> {
        self.standard_prices
            .first()
            .map(|p| p.price.amount.to_decimal_string())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LocalizedText {
    pub locale: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConnectCategory {
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub labels: Vec<LocalizedText>,
}

/// 8, 12 or 13 digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConnectGtin {
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConnectImage {
    pub url: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ConnectAttribute {
    pub id: String,
    pub name: String,
    /// `STRING` for what this connector sends (shop attributes are text); `NUMERIC` or
    /// `BOOLEAN` may be read back from Connect, with the value written out as text.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: String,
}

impl<'de> Deserialize<'de> for ConnectAttribute {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Scalar {
            Text(String),
            Number(f64),
            Flag(bool),
        }
        #[derive(Deserialize)]
        struct Wire {
            #[serde(default)]
            id: String,
            #[serde(default)]
            name: String,
            #[serde(rename = "type", default)]
            kind: String,
            value: Option<Scalar>,
        }
        let wire = Wire::deserialize(deserializer)?;
        Ok(Self {
            id: wire.id,
            name: wire.name,
            kind: match wire.kind.as_str() {
                "NUMERIC" => "NUMERIC",
                "BOOLEAN" => "BOOLEAN",
                _ => "STRING",
            },
            value: match wire.value {
                Some(Scalar::Text(text)) => text,
                Some(Scalar::Number(number)) => number.to_string(),
                Some(Scalar::Flag(flag)) => flag.to_string(),
                None => String::new(),
            },
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConnectQuantity {
    #[serde(default)]
    pub available_quantity: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse_code: Option<String>,
}

/// Connect's Money: `amount` is a JSON number (`19.9` for 19.90).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConnectMoney {
    #[serde(
        serialize_with = "amount_as_number",
        deserialize_with = "amount_from_json"
    )]
    pub amount: Money,
    pub currency: Currency,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConnectStandardPrice {
    pub price: ConnectMoney,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConnectDiscountPrice {
    pub price: ConnectMoney,
    /// ISO 8601 in UTC (`2025-02-19T16:46:00Z`); `null` is an open end.
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
}

/// The body part that sets only a product's stock (Connect keeps the fields left out): how
/// [`super::RemovalPolicy::ZeroStock`] is sent to Mirakl Connect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConnectStockUpdate {
    pub id: String,
    pub quantities: Vec<ConnectQuantity>,
}

/// Cents divided by 100 as a double is the double nearest the decimal amount, and JSON
/// writers print the shortest form that reads back the same, so 1990 is written `19.9`.
fn amount_as_number<S: Serializer>(amount: &Money, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(amount.minor() as f64 / 100.0)
}

/// Connect's amounts read back: a number (`19.9`) or a string (`"1234.56"`), to the cent.
fn amount_from_json<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Amount {
        Number(f64),
        Text(String),
    }
    match Amount::deserialize(deserializer)? {
        Amount::Number(number) if number.is_finite() && number.abs() < 9e15 => {
            Ok(Money::from_minor((number * 100.0).round() as i64))
        }
        Amount::Number(number) => Err(serde::de::Error::custom(format!(
            "{number} is not an amount"
        ))),
        Amount::Text(text) => Money::try_from(text).map_err(serde::de::Error::custom),
    }
}

/// `null` read as the empty value, as Connect writes its nullable lists.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// The product Mirakl Connect receives for the item. Connect knows products by the seller's
/// SKU, so the product id type setting does not apply; a GTIN is sent when one is found, and
/// an invalid one is a problem (Connect would refuse the product).
pub fn connect_product_for(
    item: &CatalogItem,
    settings: &ProductSettings,
    now_ms: i64,
) -> Result<ConnectProduct, OfferProblem> {
    let (price, discount) = channel_price(item, &settings.price, now_ms)?;
    let gtins = match find_gtin(item, settings)? {
        Some(gtin) => vec![ConnectGtin {
            value: consumer_code(&gtin)?.to_owned(),
        }],
        None => Vec::new(),
    };
    let currency = settings.currency;
    let text = |value: &str, max: usize| {
        let value = truncate_chars(value.trim(), max);
        (!value.is_empty())
            .then(|| LocalizedText {
                locale: DEFAULT_LOCALE.to_owned(),
                value: value.to_owned(),
            })
            .into_iter()
            .collect::<Vec<_>>()
    };
    let category = item.categories.first().map(|c| ConnectCategory {
        id: c.id.to_string(),
        labels: text(&c.name, CATEGORY_LABEL_MAX_CHARS),
    });
    let images = item
        .images
        .iter()
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
        .take(MAX_IMAGES)
        .map(|url| ConnectImage { url: url.clone() })
        .collect();
    Ok(ConnectProduct {
        id: item.sku.as_str().to_owned(),
        titles: text(&item.title, TITLE_MAX_CHARS),
        descriptions: text(&item.description, DESCRIPTION_MAX_CHARS),
        brand: field_value(item, &settings.brand_source)
            .map(|brand| truncate_chars(brand.trim(), BRAND_MAX_CHARS).to_owned()),
        category,
        gtins,
        images,
        attributes: connect_attributes(&item.attributes),
        quantities: vec![ConnectQuantity {
            available_quantity: channel_quantity(item, &settings.stock),
            warehouse_code: None,
        }],
        standard_prices: vec![ConnectStandardPrice {
            price: ConnectMoney {
                amount: price,
                currency,
            },
        }],
        discount_prices: discount
            .map(|d| ConnectDiscountPrice {
                price: ConnectMoney {
                    amount: d.price,
                    currency,
                },
                start_date: d.start_ms.map(utc_timestamp),
                end_date: d.end_ms.map(utc_timestamp),
            })
            .into_iter()
            .collect(),
    })
}

/// Text attributes, with an id made from the name (`Size (EU)` → `size_eu`); the first of
/// two attributes with the same id wins.
fn connect_attributes(attributes: &[(String, String)]) -> Vec<ConnectAttribute> {
    let mut out: Vec<ConnectAttribute> = Vec::new();
    for (name, value) in attributes {
        let name = truncate_chars(name.trim(), ATTRIBUTE_NAME_MAX_CHARS);
        let id = attribute_id(name);
        if id.is_empty() || out.iter().any(|a| a.id == id) {
            continue;
        }
        out.push(ConnectAttribute {
            id,
            name: name.to_owned(),
            kind: "STRING",
            value: truncate_chars(value.trim(), ATTRIBUTE_VALUE_MAX_CHARS).to_owned(),
        });
        if out.len() == MAX_ATTRIBUTES {
            break;
        }
    }
    out
}

fn attribute_id(name: &str) -> String {
    let lower = name.to_lowercase();
    let mut id = String::with_capacity(lower.len());
    for word in lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !id.is_empty() {
            id.push('_');
        }
        id.push_str(word);
    }
    truncate_chars(&id, ATTRIBUTE_NAME_MAX_CHARS).to_owned()
}

/// Sets the product's stock to 0 and leaves the rest as it is on Connect.
pub fn connect_zero_stock(sku: &Sku) -> ConnectStockUpdate {
    ConnectStockUpdate {
        id: sku.as_str().to_owned(),
        quantities: vec![ConnectQuantity {
            available_quantity: 0,
            warehouse_code: None,
        }],
    }
}

/// Unix milliseconds as an ISO 8601 UTC timestamp to the second (`2025-02-19T16:46:00Z`),
/// the form Mirakl's dates take.
pub fn utc_timestamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::catalog::offer::tests::{NOW, shirt};
    use crate::catalog::settings::{FieldSource, StockRule};

    #[test]
    fn a_connect_product_serializes_as_connects_product_schema() {
        let product = connect_product_for(&shirt(), &ProductSettings::default(), NOW).unwrap();
        assert_eq!(
            serde_json::to_value(&product).unwrap(),
            json!({
                "id": "TS-RED-M",
                "titles": [{"locale": "en_US", "value": "T-shirt – Color: Red, Size: M"}],
                "descriptions": [{"locale": "en_US", "value": "Soft cotton tee."}],
                "brand": "Acme",
                "category": {"id": "5", "labels": [{"locale": "en_US", "value": "Shirts"}]},
                "gtins": [{"value": "4006381333931"}],
                "images": [{"url": "https://shop.example/red.jpg"}],
                "attributes": [
                    {"id": "color", "name": "Color", "type": "STRING", "value": "Red"},
                    {"id": "size", "name": "Size", "type": "STRING", "value": "M"},
                    {"id": "brand", "name": "Brand", "type": "STRING", "value": "Acme"}
                ],
                "quantities": [{"available_quantity": 7}],
                "standard_prices": [{"price": {"amount": 19.9, "currency": "EUR"}}],
                "discount_prices": [{
                    "price": {"amount": 14.9, "currency": "EUR"},
                    "start_date": "2023-11-14T22:13:20Z",
                    "end_date": "2027-01-15T08:00:00Z"
                }]
            })
        );
    }

    #[test]
    fn what_the_shop_no_longer_has_is_cleared_on_connect() {
        let mut item = shirt();
        item.attributes.clear();
        item.categories.clear();
        item.sale_price = None;
        item.meta.clear();
        item.global_unique_id = None;
        item.description = String::new();
        let product = connect_product_for(&item, &ProductSettings::default(), NOW).unwrap();
        let json = serde_json::to_value(&product).unwrap();
        assert_eq!(json["brand"], json!(null));
        assert_eq!(json["category"], json!(null));
        assert_eq!(json["discount_prices"], json!([]));
        assert_eq!(json["gtins"], json!([]));
        assert_eq!(json["descriptions"], json!([]));
    }

    #[test]
    fn connect_amounts_are_json_numbers_with_their_cents() {
        for (minor, text) in [
            (1990, "19.9"),
            (1329, "13.29"),
            (100, "1.0"),
            (123_456, "1234.56"),
            (1, "0.01"),
        ] {
            let money = ConnectMoney {
                amount: Money::from_minor(minor),
                currency: Currency::EUR,
            };
            assert_eq!(
                serde_json::to_string(&money).unwrap(),
                format!(r#"{{"amount":{text},"currency":"EUR"}}"#)
            );
        }
    }

    #[test]
    fn connect_takes_the_settings_rules_and_limits() {
        let settings = ProductSettings {
            stock: StockRule {
                buffer: 2,
                ..StockRule::default()
            },
            brand_source: FieldSource::Meta("_brand".into()),
            ..ProductSettings::default()
        };
        let mut item = shirt();
        item.title = "x".repeat(300);
        item.images = (0..20)
            .map(|i| format!("https://shop.example/{i}.jpg"))
            .collect();
        item.images.insert(0, "/relative.jpg".into());
        item.meta.push(("_brand".into(), " Globex ".into()));
        item.attributes.push(("Size (EU)".into(), "40".into()));
        item.attributes.push(("color".into(), "Blue".into()));
        let product = connect_product_for(&item, &settings, NOW).unwrap();
        assert_eq!(product.quantities[0].available_quantity, 5);
        assert_eq!(product.titles[0].value.len(), 255);
        assert_eq!(product.images.len(), 15);
        assert_eq!(product.images[0].url, "https://shop.example/0.jpg");
        assert_eq!(product.brand.as_deref(), Some("Globex"));
        let ids: Vec<&str> = product.attributes.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["color", "size", "brand", "size_eu"]);
    }

    #[test]
    fn connect_refuses_invalid_gtins_and_missing_prices_but_not_missing_gtins() {
        let settings = ProductSettings::default();
        let mut item = shirt();
        item.meta = vec![("_gtin".into(), "123".into())];
        assert!(matches!(
            connect_product_for(&item, &settings, NOW),
            Err(OfferProblem::InvalidGtin { .. })
        ));
        item.meta.clear();
        item.global_unique_id = None;
        assert!(connect_product_for(&item, &settings, NOW).is_ok());
        item.regular_price = None;
        assert_eq!(
            connect_product_for(&item, &settings, NOW),
            Err(OfferProblem::NoPrice)
        );
    }

    #[test]
    fn a_connect_product_reads_and_sets_its_quantity_and_price() {
        let mut product = connect_product_for(&shirt(), &ProductSettings::default(), NOW).unwrap();
        assert_eq!(product.available_quantity(), Some(7));
        assert_eq!(product.standard_price_string().as_deref(), Some("19.90"));
        product.set_available_quantity(0);
        assert_eq!(
            serde_json::to_value(&product.quantities).unwrap(),
            json!([{"available_quantity": 0}])
        );
    }

    #[test]
    fn a_connect_product_reads_back_as_it_was_sent() {
        let product = connect_product_for(&shirt(), &ProductSettings::default(), NOW).unwrap();
        let json = serde_json::to_value(&product).unwrap();
        assert_eq!(
            serde_json::from_value::<ConnectProduct>(json).unwrap(),
            product
        );
    }

    #[test]
    fn connects_own_answers_read_leniently() {
        let product: ConnectProduct = serde_json::from_value(json!({
            "id": "TS-RED-M", "titles": null, "images": null, "category": null,
            "attributes": [
                {"id": "weight", "name": "Weight", "type": "NUMERIC", "value": 1.5},
                {"id": "limited", "name": "Limited", "type": "BOOLEAN", "value": true}
            ],
            "quantities": [{"available_quantity": 4, "warehouse_code": "W1"}],
            "partner_quantities": [{"partner_id": "p", "available_quantity": 1}],
            "standard_prices": [{"price": {"amount": "1234.56", "currency": "EUR"}, "scope": null}],
            "discount_prices": [{"price": {"amount": 19.99, "currency": "EUR"}}]
        }))
        .unwrap();
        assert!(product.titles.is_empty() && product.images.is_empty());
        assert_eq!(product.attributes[0].kind, "NUMERIC");
        assert_eq!(product.attributes[0].value, "1.5");
        assert_eq!(product.attributes[1].value, "true");
        assert_eq!(product.available_quantity(), Some(4));
        assert_eq!(product.standard_price_string().as_deref(), Some("1234.56"));
        assert_eq!(
            product.discount_prices[0].price.amount,
            Money::from_minor(1999)
        );
        assert_eq!(product.discount_prices[0].start_date, None);
        let bare: ConnectProduct = serde_json::from_value(json!({"id": "X"})).unwrap();
        assert_eq!(bare.available_quantity(), None);
        assert!(serde_json::from_value::<ConnectProduct>(json!({"titles": []})).is_err());
    }

    #[test]
    fn zero_stock_sets_only_the_quantity() {
        let sku = Sku::parse("TS-RED-M").unwrap();
        assert_eq!(
            serde_json::to_value(connect_zero_stock(&sku)).unwrap(),
            json!({"id": "TS-RED-M", "quantities": [{"available_quantity": 0}]})
        );
    }

    #[test]
    fn timestamps_are_iso_8601_in_utc() {
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_timestamp(1_739_983_560_000), "2025-02-19T16:46:00Z");
        assert_eq!(utc_timestamp(1_739_983_560_999), "2025-02-19T16:46:00Z");
        assert_eq!(utc_timestamp(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(utc_timestamp(-1_000), "1969-12-31T23:59:59Z");
    }
}
