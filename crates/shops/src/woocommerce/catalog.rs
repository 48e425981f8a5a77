//! The catalog as the wc/v3 API returns it: products, their variations, and pages of them.
//!
//! These types read only what the connector uses, tolerate unknown fields and `null`s, and keep
//! money as the string the store sent (`"19.90"`, or `""` when no price is set): turning it into
//! an amount is the domain's job, with the store's currency at hand.

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::wire;

/// What [`super::WooClient::verify`] learned about the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreSummary {
    /// Products of every status but trash, as `X-WP-Total` counts them.
    pub product_count: u64,
}

/// One page of a list, with the totals of the `X-WP-Total` and `X-WP-TotalPages` headers.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub total_pages: u32,
}

/// Which products to read. Pages are ordered by id, so a product created while paging lands on
/// a later page instead of shifting the ones not read yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductQuery {
    /// From 1.
    pub page: u32,
    /// 1 to 100 (WordPress's limit); other values are clamped.
    pub per_page: u32,
    /// Only products modified after this instant (sent in GMT with `dates_are_gmt=true`).
    pub modified_after: Option<OffsetDateTime>,
    /// Only these products (at most `per_page` of them are answered per page).
    pub include: Vec<i64>,
}

impl Default for ProductQuery {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: MAX_PER_PAGE,
            modified_after: None,
            include: Vec::new(),
        }
    }
}

/// WordPress refuses `per_page` above 100.
pub(super) const MAX_PER_PAGE: u32 = 100;

/// The most pages of 100 that [`super::WooClient::categories`] and
/// [`super::WooClient::tags`] read (5,000 terms), so that a shop that keeps answering full
/// pages (a plugin ignoring `page`) cannot be read forever.
pub(super) const MAX_TERM_PAGES: u32 = 50;

/// A product: simple, variable (its SKUs are its [`Variation`]s), grouped or external.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Product {
    #[serde(deserialize_with = "wire::id")]
    pub id: i64,
    /// Set when this is a variation read through `/products/{id}` (as webhook payloads are).
    #[serde(deserialize_with = "wire::id")]
    pub parent_id: i64,
    #[serde(deserialize_with = "wire::text")]
    pub name: String,
    /// `simple`, `variable`, `grouped`, `external` (or `variation`, see `parent_id`).
    #[serde(rename = "type", deserialize_with = "wire::text")]
    pub type_: String,
    /// `publish`, `draft`, `pending`, `private`.
    #[serde(deserialize_with = "wire::text")]
    pub status: String,
    #[serde(deserialize_with = "wire::text")]
    pub sku: String,
    /// The GTIN, UPC, EAN or ISBN field of WooCommerce 9.2 and later; empty otherwise.
    #[serde(deserialize_with = "wire::text")]
    pub global_unique_id: String,
    #[serde(deserialize_with = "wire::text")]
    pub regular_price: String,
    #[serde(deserialize_with = "wire::text")]
    pub sale_price: String,
    /// The current price (sale price while the sale runs); read-only in WooCommerce.
    #[serde(deserialize_with = "wire::text")]
    pub price: String,
    #[serde(deserialize_with = "wire::gmt_date")]
    pub date_on_sale_from_gmt: Option<OffsetDateTime>,
    #[serde(deserialize_with = "wire::gmt_date")]
    pub date_on_sale_to_gmt: Option<OffsetDateTime>,
    /// Whether stock is counted; `"parent"` (a variation read as a product) counts as `true`.
    #[serde(deserialize_with = "wire::flag")]
    pub manage_stock: bool,
    #[serde(deserialize_with = "wire::integer")]
    pub stock_quantity: Option<i64>,
    /// `instock`, `outofstock`, `onbackorder`.
    #[serde(deserialize_with = "wire::text")]
    pub stock_status: String,
    #[serde(deserialize_with = "wire::text")]
    pub description: String,
    #[serde(deserialize_with = "wire::text")]
    pub short_description: String,
    #[serde(deserialize_with = "wire::or_default")]
    pub categories: Vec<Term>,
    #[serde(deserialize_with = "wire::or_default")]
    pub tags: Vec<Term>,
    #[serde(deserialize_with = "wire::or_default")]
    pub images: Vec<Image>,
    #[serde(deserialize_with = "wire::or_default")]
    pub attributes: Vec<Attribute>,
    /// The ids of a variable product's variations.
    #[serde(deserialize_with = "wire::ids")]
    pub variations: Vec<i64>,
    #[serde(deserialize_with = "wire::or_default")]
    pub meta_data: Vec<MetaData>,
    #[serde(deserialize_with = "wire::gmt_date")]
    pub date_modified_gmt: Option<OffsetDateTime>,
}

/// One variation of a variable product: one sellable SKU.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Variation {
    #[serde(deserialize_with = "wire::id")]
    pub id: i64,
    /// `publish` or `private` (disabled).
    #[serde(deserialize_with = "wire::text")]
    pub status: String,
    #[serde(deserialize_with = "wire::text")]
    pub sku: String,
    #[serde(deserialize_with = "wire::text")]
    pub global_unique_id: String,
    #[serde(deserialize_with = "wire::text")]
    pub regular_price: String,
    #[serde(deserialize_with = "wire::text")]
    pub sale_price: String,
    #[serde(deserialize_with = "wire::text")]
    pub price: String,
    #[serde(deserialize_with = "wire::gmt_date")]
    pub date_on_sale_from_gmt: Option<OffsetDateTime>,
    #[serde(deserialize_with = "wire::gmt_date")]
    pub date_on_sale_to_gmt: Option<OffsetDateTime>,
    pub manage_stock: ManageStock,
    /// With [`ManageStock::Parent`], the parent's shared stock.
    #[serde(deserialize_with = "wire::integer")]
    pub stock_quantity: Option<i64>,
    #[serde(deserialize_with = "wire::text")]
    pub stock_status: String,
    #[serde(deserialize_with = "wire::text")]
    pub description: String,
    #[serde(deserialize_with = "wire::object")]
    pub image: Option<Image>,
    #[serde(deserialize_with = "wire::or_default")]
    pub attributes: Vec<VariationAttribute>,
    #[serde(deserialize_with = "wire::or_default")]
    pub meta_data: Vec<MetaData>,
    #[serde(deserialize_with = "wire::gmt_date")]
    pub date_modified_gmt: Option<OffsetDateTime>,
}

/// Who counts a variation's stock. WooCommerce answers `true`, `false`, or `"parent"` when the
/// variation leaves it to its product, whose quantity all such variations then share.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ManageStock {
    #[default]
    No,
    Yes,
    Parent,
}

impl ManageStock {
    /// Whether a stock quantity applies at all.
    pub fn is_managed(self) -> bool {
        self != Self::No
    }
}

impl<'de> Deserialize<'de> for ManageStock {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(match value {
            Value::String(ref text) if text.trim().eq_ignore_ascii_case("parent") => Self::Parent,
            ref other if wire::flag_of(other) => Self::Yes,
            _ => Self::No,
        })
    }
}

/// A category or a tag.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Term {
    #[serde(deserialize_with = "wire::id")]
    pub id: i64,
    #[serde(deserialize_with = "wire::text")]
    pub name: String,
    #[serde(deserialize_with = "wire::text")]
    pub slug: String,
    /// The parent category's id; 0 for a top-level category, a tag, and a term as a product
    /// names it (products do not send it).
    #[serde(deserialize_with = "wire::id")]
    pub parent: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Image {
    #[serde(deserialize_with = "wire::id")]
    pub id: i64,
    #[serde(deserialize_with = "wire::text")]
    pub src: String,
    #[serde(deserialize_with = "wire::text")]
    pub name: String,
    #[serde(deserialize_with = "wire::text")]
    pub alt: String,
}

/// A product attribute; `id` 0 is a custom (not global) attribute.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Attribute {
    #[serde(deserialize_with = "wire::id")]
    pub id: i64,
    #[serde(deserialize_with = "wire::text")]
    pub name: String,
    #[serde(deserialize_with = "wire::flag")]
    pub visible: bool,
    /// Whether the attribute defines variations.
    #[serde(deserialize_with = "wire::flag")]
    pub variation: bool,
    #[serde(deserialize_with = "wire::or_default")]
    pub options: Vec<String>,
}

/// The option a variation takes for one attribute (`Color` = `Blue`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct VariationAttribute {
    #[serde(deserialize_with = "wire::id")]
    pub id: i64,
    #[serde(deserialize_with = "wire::text")]
    pub name: String,
    #[serde(deserialize_with = "wire::text")]
    pub option: String,
}

/// A custom field; plugins keep GTINs and brands here. The value may be any JSON.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct MetaData {
    #[serde(deserialize_with = "wire::integer")]
    pub id: Option<i64>,
    #[serde(deserialize_with = "wire::text")]
    pub key: String,
    pub value: Value,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn variations_tell_who_manages_their_stock() {
        let read = |manage: Value| {
            serde_json::from_value::<Variation>(json!({"id": 1, "manage_stock": manage}))
                .unwrap()
                .manage_stock
        };
        assert_eq!(read(json!("parent")), ManageStock::Parent);
        assert_eq!(read(json!(true)), ManageStock::Yes);
        assert_eq!(read(json!(false)), ManageStock::No);
        assert_eq!(read(Value::Null), ManageStock::No);
        assert!(ManageStock::Parent.is_managed());
    }

    #[test]
    fn a_product_with_nulls_and_unknown_fields_reads() {
        let product: Product = serde_json::from_value(json!({
            "id": 5, "name": null, "sku": null, "categories": null, "images": null,
            "stock_quantity": null, "manage_stock": "parent", "price_html": "<b>x</b>",
            "meta_data": [{"id": 9, "key": "_gtin", "value": "4006381333931"}]
        }))
        .unwrap();
        assert_eq!(product.id, 5);
        assert_eq!(product.name, "");
        assert!(product.categories.is_empty());
        assert!(product.manage_stock);
        assert_eq!(product.meta_data[0].value, json!("4006381333931"));
    }
}
