//! The catalog of a BigCommerce store: v3 products with their variants, read a page of up to
//! 250 at a time or by ids, the categories and brands that name them, and their mapping to
//! catalog items.
//!
//! A product without options has one "base" variant and sells as one item, the product
//! itself; a product with options sells each variant that has option values as an item of its
//! own (its `shop_variation_id` is the variant's id, which orders name). What the product
//! settings can read on an item:
//! - the GTIN field is BigCommerce's `gtin` (the variant's, else the product's);
//! - the custom fields `upc`, `mpn`, `gtin`, `brand` hold those values (the brand's name, from
//!   `brand_id`), and the product's own custom fields keep their names;
//! - the attributes are the variant's options, then `Brand`.

use std::collections::HashMap;

use domain::catalog::{CatalogItem, Category, Money, MoneyError, Stock, StockStatus, plain_text};
use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::client::BcClient;
use super::error::BcError;
use crate::woocommerce::normalize::{attribute, non_blank, sku};
use crate::woocommerce::{NormalizeProblem, NormalizeProblemKind, Term};

/// BigCommerce's largest v3 page.
pub const MAX_PER_PAGE: u32 = 250;

/// What the catalog read asks for with each product.
const INCLUDE: &str = "variants,images,custom_fields";

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct BcProduct {
    pub id: i64,
    pub name: String,
    pub sku: String,
    pub description: String,
    pub price: Option<Value>,
    pub sale_price: Option<Value>,
    pub inventory_level: i64,
    /// `none`, `product` or `variant`.
    pub inventory_tracking: String,
    pub is_visible: bool,
    /// `available`, `disabled` or `preorder`.
    pub availability: String,
    pub brand_id: i64,
    pub categories: Vec<i64>,
    pub upc: Option<String>,
    pub gtin: Option<String>,
    pub mpn: Option<String>,
    pub custom_fields: Vec<CustomField>,
    pub images: Vec<Image>,
    pub variants: Vec<BcVariant>,
    pub base_variant_id: Option<i64>,
    pub date_modified: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct BcVariant {
    pub id: i64,
    pub product_id: i64,
    pub sku: String,
    pub price: Option<Value>,
    pub sale_price: Option<Value>,
    pub inventory_level: i64,
    pub purchasing_disabled: bool,
    pub upc: Option<String>,
    pub gtin: Option<String>,
    pub mpn: Option<String>,
    pub image_url: Option<String>,
    pub option_values: Vec<OptionValue>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct OptionValue {
    pub label: String,
    pub option_display_name: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct CustomField {
    pub name: String,
    pub value: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Image {
    pub url_zoom: Option<String>,
    pub url_standard: Option<String>,
    pub is_thumbnail: bool,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
struct Named {
    id: i64,
    name: String,
    parent_id: i64,
}

/// The names the items need: categories and brands by id.
#[derive(Clone, Debug, Default)]
pub struct Names {
    pub categories: HashMap<i64, String>,
    pub brands: HashMap<i64, String>,
}

impl BcClient {
    /// One page (from 1) of products with their variants, images and custom fields, and the
    /// number of pages; only those modified at or after `modified_after` when given.
    pub async fn products_page(
        &self,
        page: u32,
        per_page: u32,
        modified_after: Option<OffsetDateTime>,
    ) -> Result<(Vec<BcProduct>, u32, u64), BcError> {
        let mut query = vec![
            ("include", INCLUDE.to_owned()),
            ("page", page.max(1).to_string()),
            ("limit", per_page.clamp(1, MAX_PER_PAGE).to_string()),
        ];
        if let Some(after) = modified_after {
            query.push((
                "date_modified:min",
                after.format(&Rfc3339).expect("a date formats"),
            ));
        }
        self.call(Method::GET, "v3/catalog/products", &query, None)
            .await?
            .page("products")
    }

    /// The products named that exist, with their variants.
    pub async fn products_by_id(&self, ids: &[i64]) -> Result<Vec<BcProduct>, BcError> {
        let mut found = Vec::new();
        for chunk in ids.chunks(MAX_PER_PAGE as usize) {
            let list = chunk
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let query = [
                ("include", INCLUDE.to_owned()),
                ("id:in", list),
                ("limit", MAX_PER_PAGE.to_string()),
            ];
            let (products, _, _) = self
                .call(Method::GET, "v3/catalog/products", &query, None)
                .await?
                .page("products")?;
            found.extend(products);
        }
        Ok(found)
    }

    /// Whether the product exists (404: it does not).
    pub async fn product_exists(&self, id: i64) -> Result<bool, BcError> {
        Ok(self
            .get_optional(&format!("v3/catalog/products/{id}"), &[])
            .await?
            .is_some())
    }

    /// Every category, sorted by name.
    pub async fn categories(&self) -> Result<Vec<Term>, BcError> {
        let mut terms: Vec<Term> = self
            .named("v3/catalog/categories")
            .await?
            .into_iter()
            .map(|n| Term {
                id: n.id,
                slug: n.name.to_lowercase().replace(' ', "-"),
                name: n.name,
                parent: n.parent_id,
            })
            .collect();
        terms.sort_by_key(|t| t.name.to_lowercase());
        Ok(terms)
    }

    /// The category and brand names, for [`catalog_items`].
    pub async fn names(&self) -> Result<Names, BcError> {
        let by_id = |list: Vec<Named>| list.into_iter().map(|n| (n.id, n.name)).collect();
        Ok(Names {
            categories: by_id(self.named("v3/catalog/categories").await?),
            brands: by_id(self.named("v3/catalog/brands").await?),
        })
    }

    /// Every entry of a v3 list of named things.
    async fn named(&self, path: &str) -> Result<Vec<Named>, BcError> {
        /// At most this many pages: 25,000 categories or brands.
        const MAX_PAGES: u32 = 100;
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let query = [
                ("page", page.to_string()),
                ("limit", MAX_PER_PAGE.to_string()),
            ];
            let (items, total_pages, _) = self
                .call(Method::GET, path, &query, None)
                .await?
                .page::<Named>(path)?;
            all.extend(items);
            if page >= total_pages {
                break;
            }
        }
        Ok(all)
    }
}

/// How long the category and brand names read from a store serve before they are read again.
/// ASSUMPTION: a renamed brand or category reaching the channels within five minutes is soon
/// enough; reading them with every webhook-driven product read would triple its calls.
const NAMES_TTL: std::time::Duration = std::time::Duration::from_secs(300);

type NamesCache = HashMap<String, (std::time::Instant, std::sync::Arc<Names>)>;

static NAMES: std::sync::LazyLock<std::sync::Mutex<NamesCache>> =
    std::sync::LazyLock::new(Default::default);

/// The store's category and brand names, read at most every [`NAMES_TTL`] per process.
pub async fn names_of(client: &BcClient) -> Result<std::sync::Arc<Names>, BcError> {
    let key = client.api().as_str().to_owned();
    let cached = {
        let cache = NAMES.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(&key)
            .filter(|(read, _)| read.elapsed() < NAMES_TTL)
            .map(|(_, names)| names.clone())
    };
    if let Some(names) = cached {
        return Ok(names);
    }
    let names = std::sync::Arc::new(client.names().await?);
    NAMES
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, (std::time::Instant::now(), names.clone()));
    Ok(names)
}

/// The catalog items of one product: the product itself, or each variant with options.
pub fn catalog_items(
    product: &BcProduct,
    names: &Names,
    modified_fallback_ms: i64,
) -> Vec<Result<CatalogItem, NormalizeProblem>> {
    let with_options: Vec<&BcVariant> = product
        .variants
        .iter()
        .filter(|v| !v.option_values.is_empty())
        .collect();
    if with_options.is_empty() {
        let base = product
            .variants
            .iter()
            .find(|v| Some(v.id) == product.base_variant_id)
            .or_else(|| product.variants.first());
        return vec![item(product, base, false, names, modified_fallback_ms)];
    }
    let item_of = |variant: &BcVariant| {
        let shared = with_options
            .iter()
            .filter(|v| v.sku.trim() == variant.sku.trim())
            .nth(1)
            .is_some();
        if shared && !variant.sku.trim().is_empty() {
            return Err(problem(
                product,
                Some(variant.id),
                NormalizeProblemKind::DuplicateSku(variant.sku.trim().to_owned()),
            ));
        }
        item(product, Some(variant), true, names, modified_fallback_ms)
    };
    with_options.iter().map(|v| item_of(v)).collect()
}

fn item(
    product: &BcProduct,
    variant: Option<&BcVariant>,
    is_variation: bool,
    names: &Names,
    modified_fallback_ms: i64,
) -> Result<CatalogItem, NormalizeProblem> {
    let variation_id = variant.filter(|_| is_variation).map(|v| v.id);
    let problem = |kind| problem(product, variation_id, kind);
    let own_sku = variant
        .map(|v| v.sku.as_str())
        .filter(|s| !s.trim().is_empty());
    let sku = sku(own_sku.unwrap_or(&product.sku)).map_err(problem)?;

    let price_of = |own: Option<&Option<Value>>, parent: &Option<Value>, field| {
        let chosen = match own {
            Some(Some(value)) if !value.is_null() => Some(value),
            _ => parent.as_ref(),
        };
        money(chosen, field)
    };
    let regular_price =
        price_of(variant.map(|v| &v.price), &product.price, "price").map_err(problem)?;
    let sale_price = price_of(
        variant.map(|v| &v.sale_price),
        &product.sale_price,
        "sale price",
    )
    .map_err(problem)?
    // BigCommerce answers 0 for "no sale price".
    .filter(|m| m.minor() > 0);

    let brand = names
        .brands
        .get(&product.brand_id)
        .map(|b| b.trim().to_owned())
        .filter(|b| !b.is_empty());
    let field = |own: Option<&Option<String>>, parent: &Option<String>| {
        own.and_then(|v| v.as_deref())
            .and_then(non_blank)
            .or_else(|| parent.as_deref().and_then(non_blank))
    };
    let gtin = field(variant.map(|v| &v.gtin), &product.gtin);
    let upc = field(variant.map(|v| &v.upc), &product.upc);
    let mpn = field(variant.map(|v| &v.mpn), &product.mpn);
    let mut meta: Vec<(String, String)> = product
        .custom_fields
        .iter()
        .filter(|f| !f.name.trim().is_empty())
        .map(|f| (f.name.trim().to_owned(), f.value.clone()))
        .collect();
    for (key, value) in [
        ("gtin", &gtin),
        ("upc", &upc),
        ("mpn", &mpn),
        ("brand", &brand),
    ] {
        if let Some(value) = value {
            meta.push((key.to_owned(), value.clone()));
        }
    }

    let options: Vec<(String, String)> = variant
        .filter(|_| is_variation)
        .map(|v| {
            v.option_values
                .iter()
                .filter_map(|o| attribute(&o.option_display_name, &o.label))
                .collect()
        })
        .unwrap_or_default();
    let parent_title = product.name.trim().to_owned();
    let title = if options.is_empty() {
        parent_title.clone()
    } else {
        let named: Vec<String> = options.iter().map(|(n, v)| format!("{n}: {v}")).collect();
        format!("{parent_title} – {}", named.join(", "))
    };
    let mut attributes = options;
    if let Some(brand) = &brand {
        attributes.push(("Brand".to_owned(), brand.clone()));
    }

    let (managed, quantity) = match product.inventory_tracking.as_str() {
        "product" => (true, Some(product.inventory_level)),
        "variant" => (
            true,
            Some(variant.map_or(product.inventory_level, |v| v.inventory_level)),
        ),
        _ => (false, None),
    };
    let purchasable =
        product.availability != "disabled" && !variant.is_some_and(|v| v.purchasing_disabled);
    let status = if !purchasable || quantity.is_some_and(|q| q <= 0) {
        StockStatus::OutOfStock
    } else {
        StockStatus::InStock
    };

    Ok(CatalogItem {
        sku,
        shop_product_id: product.id,
        shop_variation_id: variation_id,
        parent_title: is_variation.then_some(parent_title),
        title,
        description: plain_text(&product.description),
        categories: product
            .categories
            .iter()
            .map(|id| Category {
                id: *id,
                name: names.categories.get(id).cloned().unwrap_or_default(),
            })
            .collect(),
        tags: Vec::new(),
        images: images(product, variant.filter(|_| is_variation)),
        attributes,
        meta,
        global_unique_id: gtin,
        regular_price,
        sale_price,
        sale_from_ms: None,
        sale_to_ms: None,
        stock: Stock {
            managed,
            quantity,
            status,
        },
        published: product.is_visible,
        modified_at_ms: product
            .date_modified
            .as_deref()
            .and_then(|d| OffsetDateTime::parse(d, &Rfc3339).ok())
            .map_or(modified_fallback_ms, |at| {
                (at.unix_timestamp_nanos() / 1_000_000) as i64
            }),
    })
}

/// The variant's image first, then the product's thumbnail, then the others, each once.
fn images(product: &BcProduct, variant: Option<&BcVariant>) -> Vec<String> {
    let mut ordered: Vec<&Image> = product.images.iter().collect();
    ordered.sort_by_key(|i| !i.is_thumbnail);
    let mut urls: Vec<String> = Vec::new();
    let candidates = variant
        .and_then(|v| v.image_url.as_deref())
        .into_iter()
        .chain(
            ordered
                .into_iter()
                .filter_map(|i| i.url_zoom.as_deref().or(i.url_standard.as_deref())),
        );
    for url in candidates {
        let url = url.trim();
        if !url.is_empty() && !urls.iter().any(|u| u == url) {
            urls.push(url.to_owned());
        }
    }
    urls
}

fn problem(
    product: &BcProduct,
    variation_id: Option<i64>,
    kind: NormalizeProblemKind,
) -> NormalizeProblem {
    NormalizeProblem {
        product_id: product.id,
        variation_id,
        product_name: product.name.trim().to_owned(),
        kind,
    }
}

/// A price as BigCommerce sends it: a number (or numeric text); `null` is none.
fn money(
    value: Option<&Value>,
    field: &'static str,
) -> Result<Option<Money>, NormalizeProblemKind> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(NormalizeProblemKind::InvalidPrice {
                field,
                error: MoneyError::NotAnAmount(other.to_string()),
            });
        }
    };
    match Money::parse(&text) {
        Ok(money) => Ok(Some(money)),
        Err(MoneyError::Empty) => Ok(None),
        Err(error) => Err(NormalizeProblemKind::InvalidPrice { field, error }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn names() -> Names {
        Names {
            categories: HashMap::from([(7, "Shoes".to_owned())]),
            brands: HashMap::from([(3, "Acme".to_owned())]),
        }
    }

    #[test]
    fn a_product_without_options_is_one_item_with_its_codes_and_brand() {
        let product: BcProduct = serde_json::from_value(json!({
            "id": 11, "name": " Runner ", "sku": "RUN-1", "description": "<p>Fast</p>",
            "price": 49.9, "sale_price": 0, "inventory_level": 4, "inventory_tracking": "product",
            "is_visible": true, "availability": "available", "brand_id": 3, "categories": [7],
            "upc": "012345678905", "gtin": "", "mpn": "MP-1",
            "custom_fields": [{"id": 1, "name": "ean", "value": "4006381333931"}],
            "base_variant_id": 12,
            "variants": [{"id": 12, "product_id": 11, "sku": "RUN-1", "price": null,
                          "inventory_level": 4, "option_values": []}],
            "date_modified": "2026-12-01T10:00:00+00:00"
        }))
        .unwrap();
        let items = catalog_items(&product, &names(), 0);
        let item = items[0].as_ref().unwrap();
        assert_eq!((item.sku.as_str(), item.shop_variation_id), ("RUN-1", None));
        assert_eq!(item.title, "Runner");
        assert_eq!(item.description, "Fast");
        assert_eq!(item.regular_price.unwrap().to_decimal_string(), "49.90");
        assert_eq!(item.sale_price, None);
        assert_eq!((item.stock.managed, item.stock.quantity), (true, Some(4)));
        assert_eq!(item.global_unique_id, None);
        assert!(item.meta.contains(&("upc".into(), "012345678905".into())));
        assert!(item.meta.contains(&("ean".into(), "4006381333931".into())));
        assert!(item.meta.contains(&("brand".into(), "Acme".into())));
        assert!(item.attributes.contains(&("Brand".into(), "Acme".into())));
        assert_eq!(item.categories[0].name, "Shoes");
        assert_eq!(item.modified_at_ms, 1_796_119_200_000);
    }

    #[test]
    fn each_variant_with_options_is_an_item_and_a_shared_sku_is_a_problem() {
        let product: BcProduct = serde_json::from_value(json!({
            "id": 20, "name": "Tee", "sku": "TEE", "price": "10.00", "inventory_tracking": "variant",
            "is_visible": true, "availability": "available",
            "variants": [
                {"id": 21, "sku": "TEE-S", "price": 12, "sale_price": 9, "inventory_level": 0,
                 "gtin": "4006381333931",
                 "option_values": [{"label": "S", "option_display_name": "Size"}]},
                {"id": 22, "sku": "TEE-M", "inventory_level": 5,
                 "option_values": [{"label": "M", "option_display_name": "Size"}]},
                {"id": 23, "sku": "TEE-M", "inventory_level": 5,
                 "option_values": [{"label": "L", "option_display_name": "Size"}]}
            ]
        }))
        .unwrap();
        let items = catalog_items(&product, &names(), 5);
        assert_eq!(items.len(), 3);
        let small = items[0].as_ref().unwrap();
        assert_eq!(small.shop_variation_id, Some(21));
        assert_eq!(small.title, "Tee – Size: S");
        assert_eq!(small.regular_price.unwrap().to_decimal_string(), "12.00");
        assert_eq!(small.sale_price.unwrap().to_decimal_string(), "9.00");
        assert_eq!(small.stock.status, StockStatus::OutOfStock);
        assert_eq!(small.global_unique_id.as_deref(), Some("4006381333931"));
        assert_eq!(small.modified_at_ms, 5);
        let medium = items[1].as_ref();
        assert!(matches!(
            medium.unwrap_err().kind,
            NormalizeProblemKind::DuplicateSku(_)
        ));
    }
}
