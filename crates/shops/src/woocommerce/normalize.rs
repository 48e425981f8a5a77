//! WooCommerce products as catalog items: one item per sellable SKU, a simple product or each
//! variation of a variable product. Prices are read here, once; what cannot be read becomes a
//! [`NormalizeProblem`] the seller can fix in WooCommerce, for that product alone.

use std::fmt;

use domain::catalog::{
    CatalogItem, Category, Money, MoneyError, Sku, SkuError, Stock, StockStatus, plain_text,
};
use serde_json::Value;
use time::OffsetDateTime;

use super::catalog::{ManageStock, MetaData, Product, Variation};

/// Why a product (or one of its variations) cannot become a catalog item.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct NormalizeProblem {
    pub product_id: i64,
    pub variation_id: Option<i64>,
    pub product_name: String,
    pub kind: NormalizeProblemKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NormalizeProblemKind {
    NoSku,
    InvalidSku(SkuError),
    /// WooCommerce gives a variation without its own SKU the product's SKU.
    DuplicateSku(String),
    InvalidPrice {
        /// `regular price` or `sale price`.
        field: &'static str,
        error: MoneyError,
    },
}

impl fmt::Display for NormalizeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.product_name.is_empty() {
            "(no name)"
        } else {
            &self.product_name
        };
        match self.variation_id {
            Some(variation) => write!(
                f,
                "The variation #{variation} of “{name}” (product #{})",
                self.product_id
            )?,
            None => write!(f, "The product “{name}” (#{})", self.product_id)?,
        }
        match &self.kind {
            NormalizeProblemKind::NoSku => f.write_str(" has no SKU; give it one in your store."),
            NormalizeProblemKind::InvalidSku(error) => {
                write!(
                    f,
                    " has an SKU Mirakl cannot take: {error}. Change it in your store."
                )
            }
            NormalizeProblemKind::DuplicateSku(sku) => write!(
                f,
                " shares the SKU “{sku}” with another variation; give each variation its own SKU \
                 in your store."
            ),
            NormalizeProblemKind::InvalidPrice { field, error } => write!(
                f,
                " has a {field} that is not a price: {error}. Correct it in your store."
            ),
        }
    }
}

/// The catalog items of one product and its variations (read from
/// `/products/{id}/variations`). Grouped and external products sell no SKU of their own and
/// give nothing; a variation read as a product gives nothing either (its item comes with its
/// parent). Types added by plugins are read as simple products. `modified_fallback_ms` stands in
/// for a missing modification date.
pub fn catalog_items(
    product: &Product,
    variations: &[Variation],
    modified_fallback_ms: i64,
) -> Vec<Result<CatalogItem, NormalizeProblem>> {
    match product.type_.as_str() {
        "grouped" | "external" | "variation" => Vec::new(),
        "variable" | "variable-subscription" => variations
            .iter()
            .map(|variation| variation_item(product, variation, variations, modified_fallback_ms))
            .collect(),
        _ => vec![simple_item(product, modified_fallback_ms)],
    }
}

fn simple_item(
    product: &Product,
    modified_fallback_ms: i64,
) -> Result<CatalogItem, NormalizeProblem> {
    let problem = |kind| problem(product, None, kind);
    let sku = sku(&product.sku).map_err(problem)?;
    let (regular_price, sale_price) =
        prices(&product.regular_price, &product.sale_price).map_err(problem)?;
    Ok(CatalogItem {
        sku,
        shop_product_id: product.id,
        shop_variation_id: None,
        parent_title: None,
        title: product.name.trim().to_owned(),
        description: product_description(product),
        categories: categories(product),
        tags: product.tags.iter().map(|t| t.id).collect(),
        images: image_urls(None, product),
        attributes: product
            .attributes
            .iter()
            .filter_map(|a| attribute(&a.name, &a.options.join(", ")))
            .collect(),
        meta: text_meta(&product.meta_data),
        global_unique_id: non_blank(&product.global_unique_id),
        regular_price,
        sale_price,
        sale_from_ms: product.date_on_sale_from_gmt.map(unix_ms),
        sale_to_ms: product.date_on_sale_to_gmt.map(unix_ms),
        stock: Stock {
            managed: product.manage_stock,
            quantity: product.stock_quantity.filter(|_| product.manage_stock),
            status: stock_status(&product.stock_status),
        },
        published: product.status == "publish",
        modified_at_ms: product
            .date_modified_gmt
            .map_or(modified_fallback_ms, unix_ms),
    })
}

fn variation_item(
    product: &Product,
    variation: &Variation,
    siblings: &[Variation],
    modified_fallback_ms: i64,
) -> Result<CatalogItem, NormalizeProblem> {
    let problem = |kind| problem(product, Some(variation.id), kind);
    let sku = sku(&variation.sku).map_err(problem)?;
    let shared = siblings
        .iter()
        .filter(|v| v.sku.trim() == sku.as_str())
        .nth(1)
        .is_some();
    if shared {
        return Err(problem(NormalizeProblemKind::DuplicateSku(sku.to_string())));
    }
    let (regular_price, sale_price) =
        prices(&variation.regular_price, &variation.sale_price).map_err(problem)?;

    let parent_title = product.name.trim().to_owned();
    let options: Vec<(String, String)> = variation
        .attributes
        .iter()
        // An empty option is "any value" of that attribute: nothing to name.
        .filter_map(|a| attribute(&a.name, &a.option))
        .collect();
    let title = if options.is_empty() {
        parent_title.clone()
    } else {
        let named: Vec<String> = options.iter().map(|(n, v)| format!("{n}: {v}")).collect();
        format!("{parent_title} – {}", named.join(", "))
    };
    let shared_attributes = product
        .attributes
        .iter()
        .filter(|a| !a.variation)
        .filter_map(|a| attribute(&a.name, &a.options.join(", ")));

    let description = match plain_text(&variation.description) {
        own if !own.is_empty() => own,
        _ => product_description(product),
    };
    let (managed, quantity) = match variation.manage_stock {
        ManageStock::No => (false, None),
        ManageStock::Yes => (true, variation.stock_quantity),
        ManageStock::Parent => (true, product.stock_quantity.or(variation.stock_quantity)),
    };
    let modified = [product.date_modified_gmt, variation.date_modified_gmt]
        .into_iter()
        .flatten()
        .map(unix_ms)
        .max()
        .unwrap_or(modified_fallback_ms);

    Ok(CatalogItem {
        sku,
        shop_product_id: product.id,
        shop_variation_id: Some(variation.id),
        parent_title: Some(parent_title),
        title,
        description,
        categories: categories(product),
        tags: product.tags.iter().map(|t| t.id).collect(),
        images: image_urls(variation.image.as_ref().map(|i| i.src.as_str()), product),
        attributes: options.into_iter().chain(shared_attributes).collect(),
        meta: text_meta(&variation.meta_data),
        global_unique_id: non_blank(&variation.global_unique_id),
        regular_price,
        sale_price,
        sale_from_ms: variation.date_on_sale_from_gmt.map(unix_ms),
        sale_to_ms: variation.date_on_sale_to_gmt.map(unix_ms),
        stock: Stock {
            managed,
            quantity,
            status: stock_status(&variation.stock_status),
        },
        published: product.status == "publish" && variation.status == "publish",
        modified_at_ms: modified,
    })
}

fn problem(
    product: &Product,
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

pub(crate) fn sku(raw: &str) -> Result<Sku, NormalizeProblemKind> {
    Sku::parse(raw).map_err(|error| match error {
        SkuError::Empty => NormalizeProblemKind::NoSku,
        other => NormalizeProblemKind::InvalidSku(other),
    })
}

/// The regular and sale prices; `""` is no price.
fn prices(
    regular: &str,
    sale: &str,
) -> Result<(Option<Money>, Option<Money>), NormalizeProblemKind> {
    let read = |field: &'static str, raw: &str| match Money::parse(raw) {
        Ok(money) => Ok(Some(money)),
        Err(MoneyError::Empty) => Ok(None),
        Err(error) => Err(NormalizeProblemKind::InvalidPrice { field, error }),
    };
    Ok((read("regular price", regular)?, read("sale price", sale)?))
}

fn product_description(product: &Product) -> String {
    match plain_text(&product.description) {
        long if !long.is_empty() => long,
        _ => plain_text(&product.short_description),
    }
}

fn categories(product: &Product) -> Vec<Category> {
    product
        .categories
        .iter()
        .map(|c| Category {
            id: c.id,
            name: c.name.trim().to_owned(),
        })
        .collect()
}

/// The variation's own image first, then the product's, each once.
fn image_urls(own: Option<&str>, product: &Product) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    for src in own
        .into_iter()
        .chain(product.images.iter().map(|i| i.src.as_str()))
    {
        let src = src.trim();
        if !src.is_empty() && !urls.iter().any(|u| u == src) {
            urls.push(src.to_owned());
        }
    }
    urls
}

pub(crate) fn attribute(name: &str, value: &str) -> Option<(String, String)> {
    let (name, value) = (name.trim(), value.trim());
    (!name.is_empty() && !value.is_empty()).then(|| (name.to_owned(), value.to_owned()))
}

/// Custom fields whose value is text. Whole numbers count as text too: some GTIN plugins store
/// the code as a number.
fn text_meta(meta: &[MetaData]) -> Vec<(String, String)> {
    meta.iter()
        .filter_map(|m| {
            let value = match &m.value {
                Value::String(text) => text.clone(),
                Value::Number(number) if number.is_u64() || number.is_i64() => number.to_string(),
                _ => return None,
            };
            Some((m.key.clone(), value))
        })
        .collect()
}

pub(crate) fn non_blank(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// WooCommerce's `instock`, `outofstock`, `onbackorder`; anything else is in stock, as
/// WooCommerce assumes for a product saved without a status.
fn stock_status(raw: &str) -> StockStatus {
    match raw.trim() {
        "outofstock" => StockStatus::OutOfStock,
        "onbackorder" => StockStatus::OnBackorder,
        _ => StockStatus::InStock,
    }
}

fn unix_ms(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn product(value: Value) -> Product {
        serde_json::from_value(value).unwrap()
    }

    fn variation(value: Value) -> Variation {
        serde_json::from_value(value).unwrap()
    }

    fn tee() -> Product {
        product(json!({
            "id": 12, "name": "T-shirt", "type": "variable", "status": "publish", "sku": "TS",
            "description": "<p>Soft <b>cotton</b>.</p>", "stock_quantity": 40,
            "categories": [{"id": 5, "name": "Shirts"}], "tags": [{"id": 8, "name": "Summer"}],
            "images": [{"src": "https://shop.example/tee.jpg"}, {"src": "https://shop.example/back.jpg"}],
            "attributes": [
                {"name": "Color", "variation": true, "options": ["Red", "Blue"]},
                {"name": "Size", "variation": true, "options": ["M", "L"]},
                {"name": "Brand", "variation": false, "options": ["Acme"]}
            ],
            "date_modified_gmt": "2025-01-01T00:00:00"
        }))
    }

    fn red_m() -> Variation {
        variation(json!({
            "id": 34, "status": "publish", "sku": "TS-RED-M", "regular_price": "19.90",
            "sale_price": "14.9", "date_on_sale_from_gmt": "2025-02-19T16:46:00",
            "manage_stock": true, "stock_quantity": 3, "stock_status": "instock",
            "image": {"src": "https://shop.example/red.jpg"},
            "attributes": [{"name": "Color", "option": "Red"}, {"name": "Size", "option": "M"}],
            "meta_data": [{"key": "_gtin", "value": "4006381333931"}, {"key": "_json", "value": {"a": 1}}],
            "date_modified_gmt": "2025-03-01T00:00:00"
        }))
    }

    #[test]
    fn a_simple_product_is_one_item() {
        let mug = product(json!({
            "id": 7, "name": " Mug ", "type": "simple", "status": "publish", "sku": " MUG-1 ",
            "regular_price": "9.5", "sale_price": "", "short_description": "Holds coffee &amp; tea",
            "manage_stock": false, "stock_quantity": 99, "stock_status": "onbackorder",
            "global_unique_id": "96385074", "categories": [{"id": 3, "name": "Kitchen"}],
            "images": [{"src": "https://shop.example/mug.jpg"}, {"src": ""}],
            "attributes": [{"name": "Material", "options": ["Stone", "Glaze"]}],
            "meta_data": [{"key": "_ean", "value": 4006381333931_u64}]
        }));
        let items = catalog_items(&mug, &[], 123);
        assert_eq!(items.len(), 1);
        let item = items[0].clone().unwrap();
        assert_eq!(item.sku.as_str(), "MUG-1");
        assert_eq!(item.title, "Mug");
        assert_eq!(item.parent_title, None);
        assert_eq!(item.shop_variation_id, None);
        assert_eq!(item.description, "Holds coffee & tea");
        assert_eq!(item.regular_price, Some(Money::from_minor(950)));
        assert_eq!(item.sale_price, None);
        assert_eq!(
            item.stock,
            Stock {
                managed: false,
                quantity: None,
                status: StockStatus::OnBackorder
            }
        );
        assert_eq!(item.global_unique_id.as_deref(), Some("96385074"));
        assert_eq!(item.images, ["https://shop.example/mug.jpg"]);
        assert_eq!(
            item.attributes,
            [("Material".to_owned(), "Stone, Glaze".to_owned())]
        );
        assert_eq!(item.meta, [("_ean".to_owned(), "4006381333931".to_owned())]);
        assert!(item.published);
        assert_eq!(item.modified_at_ms, 123);
    }

    #[test]
    fn a_variable_product_is_one_item_per_variation() {
        let blue_l = variation(json!({
            "id": 35, "status": "publish", "sku": "TS-BLUE-L", "regular_price": "21",
            "manage_stock": false, "stock_status": "outofstock",
            "attributes": [{"name": "Color", "option": "Blue"}, {"name": "Size", "option": "L"}]
        }));
        let items = catalog_items(&tee(), &[red_m(), blue_l], 0);
        assert_eq!(items.len(), 2);
        let red = items[0].clone().unwrap();
        assert_eq!(red.sku.as_str(), "TS-RED-M");
        assert_eq!(red.title, "T-shirt – Color: Red, Size: M");
        assert_eq!(red.parent_title.as_deref(), Some("T-shirt"));
        assert_eq!((red.shop_product_id, red.shop_variation_id), (12, Some(34)));
        assert_eq!(red.description, "Soft cotton.");
        assert_eq!(
            red.images,
            [
                "https://shop.example/red.jpg",
                "https://shop.example/tee.jpg",
                "https://shop.example/back.jpg"
            ]
        );
        assert_eq!(
            red.categories,
            [Category {
                id: 5,
                name: "Shirts".into()
            }]
        );
        assert_eq!(red.tags, [8]);
        let attributes: Vec<(&str, &str)> = red
            .attributes
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            attributes,
            [("Color", "Red"), ("Size", "M"), ("Brand", "Acme")]
        );
        assert_eq!(red.meta, [("_gtin".to_owned(), "4006381333931".to_owned())]);
        assert_eq!(red.regular_price, Some(Money::from_minor(1990)));
        assert_eq!(red.sale_price, Some(Money::from_minor(1490)));
        assert_eq!(red.sale_from_ms, Some(1_739_983_560_000));
        assert_eq!(red.sale_to_ms, None);
        assert_eq!(red.stock.quantity, Some(3));
        // The variation's date is the later one.
        assert_eq!(red.modified_at_ms, 1_740_787_200_000);
        let blue = items[1].clone().unwrap();
        assert_eq!(blue.title, "T-shirt – Color: Blue, Size: L");
        assert_eq!(
            blue.images,
            [
                "https://shop.example/tee.jpg",
                "https://shop.example/back.jpg"
            ]
        );
        assert_eq!(blue.stock.status, StockStatus::OutOfStock);
        assert_eq!(blue.modified_at_ms, 1_735_689_600_000);
    }

    #[test]
    fn a_variation_whose_stock_the_product_manages_takes_the_products_quantity() {
        let shared = variation(json!({
            "id": 36, "status": "publish", "sku": "TS-ANY", "regular_price": "20",
            "manage_stock": "parent", "stock_quantity": 12, "stock_status": "instock",
            "attributes": [{"name": "Color", "option": ""}]
        }));
        let item = catalog_items(&tee(), &[shared], 0).remove(0).unwrap();
        assert_eq!(
            item.stock,
            Stock {
                managed: true,
                quantity: Some(40),
                status: StockStatus::InStock
            }
        );
        // "Any color" names no option.
        assert_eq!(item.title, "T-shirt");
    }

    #[test]
    fn products_without_a_sku_are_problems_the_seller_can_fix() {
        let simple =
            product(json!({"id": 7, "name": "Mug", "type": "simple", "status": "publish"}));
        let problem = catalog_items(&simple, &[], 0).remove(0).unwrap_err();
        assert_eq!(problem.kind, NormalizeProblemKind::NoSku);
        assert_eq!(
            problem.to_string(),
            "The product “Mug” (#7) has no SKU; give it one in your store."
        );
        let mut no_sku = red_m();
        no_sku.sku = String::new();
        let problem = catalog_items(&tee(), &[no_sku], 0).remove(0).unwrap_err();
        assert_eq!(
            problem.to_string(),
            "The variation #34 of “T-shirt” (product #12) has no SKU; give it one in your store."
        );
    }

    #[test]
    fn variations_sharing_the_products_sku_are_problems() {
        let mut first = red_m();
        first.sku = "TS".into();
        let mut second = red_m();
        second.id = 35;
        second.sku = "TS".into();
        let items = catalog_items(&tee(), &[first, second, red_m()], 0);
        assert_eq!(items.len(), 3);
        for item in &items[..2] {
            assert_eq!(
                item.clone().unwrap_err().kind,
                NormalizeProblemKind::DuplicateSku("TS".into())
            );
        }
        assert!(items[2].is_ok());
    }

    #[test]
    fn a_price_that_is_not_an_amount_is_a_problem() {
        let mut bad = red_m();
        bad.sale_price = "14,90".into();
        let problem = catalog_items(&tee(), &[bad], 0).remove(0).unwrap_err();
        assert_eq!(
            problem.to_string(),
            "The variation #34 of “T-shirt” (product #12) has a sale price that is not a price: \
             “14,90” is not an amount like 19.90. Correct it in your store."
        );
    }

    #[test]
    fn drafts_and_disabled_variations_are_not_published() {
        let mut draft = tee();
        draft.status = "draft".into();
        assert!(
            !catalog_items(&draft, &[red_m()], 0)
                .remove(0)
                .unwrap()
                .published
        );
        let mut disabled = red_m();
        disabled.status = "private".into();
        assert!(
            !catalog_items(&tee(), &[disabled], 0)
                .remove(0)
                .unwrap()
                .published
        );
        let simple_draft = product(json!({
            "id": 7, "name": "Mug", "type": "simple", "status": "draft", "sku": "MUG"
        }));
        assert!(
            !catalog_items(&simple_draft, &[], 0)
                .remove(0)
                .unwrap()
                .published
        );
    }

    #[test]
    fn grouped_and_external_products_give_no_items() {
        for kind in ["grouped", "external", "variation"] {
            let p = product(json!({"id": 1, "name": "Set", "type": kind, "sku": "SET"}));
            assert!(catalog_items(&p, &[red_m()], 0).is_empty(), "{kind}");
        }
        let mut empty_variable = tee();
        empty_variable.variations.clear();
        assert!(catalog_items(&empty_variable, &[], 0).is_empty());
    }
}
