//! The v3 catalog: products (`catalog/products`, with `include=variants`, the `id:in`, `sku`
//! and `date_modified:min` filters and paging), a product's variants, the batch updates
//! (`PUT catalog/products`, 10 at most, and `PUT catalog/variants`, 50 at most; over that 413,
//! and all or none), categories, brands, and the absolute inventory adjustments
//! (`inventory/adjustments/absolute`, up to 2,000 items).
//!
//! ASSUMPTION: adding a variant with option values to a product that had only its base
//! variant replaces the base variant (the product now has options).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::Sandbox;
use crate::bc::model::{
    BcStore, CustomField, OptionValue, Product, StockMove, Tracking, Variant, parse_date,
};
use crate::bc::{BcError, json_body, paging, parse_id, query_pairs, query_value};
use crate::values::clock::now;
use crate::values::money::Money;

/// The most items one absolute adjustment takes.
pub const MAX_ADJUSTMENT_ITEMS: usize = 2000;
/// The only inventory location of a sandbox store (BigCommerce's default location).
pub const DEFAULT_LOCATION: i64 = 1;

/// `{data, meta: {pagination}}` for one page of `items`.
pub fn page_of(items: Vec<Value>, page: usize, limit: usize) -> Value {
    page_of_rendered(items, page, limit, |item| item)
}

/// [`page_of`], rendering only the items of the page (a product with its variants is worth
/// rendering once, not once per page read).
pub fn page_of_rendered<T>(
    items: Vec<T>,
    page: usize,
    limit: usize,
    render: impl Fn(T) -> Value,
) -> Value {
    let total = items.len();
    let total_pages = total.div_ceil(limit).max(1);
    let data: Vec<Value> = items
        .into_iter()
        .skip((page - 1).saturating_mul(limit))
        .take(limit)
        .map(render)
        .collect();
    let link = |page: usize| format!("?page={page}&limit={limit}");
    let mut links = json!({ "current": link(page) });
    if page > 1 {
        links["previous"] = json!(link(page - 1));
    }
    if page < total_pages {
        links["next"] = json!(link(page + 1));
    }
    json!({
        "data": data,
        "meta": { "pagination": {
            "total": total,
            "count": data.len(),
            "per_page": limit,
            "current_page": page,
            "total_pages": total_pages,
            "links": links,
        }},
    })
}

fn one(data: Value) -> Response {
    Json(json!({ "data": data, "meta": {} })).into_response()
}

fn includes_variants(pairs: &[(String, String)]) -> bool {
    query_value(pairs, "include")
        .is_some_and(|include| include.split(',').any(|i| i.trim() == "variants"))
}

pub async fn list_products(
    State(sandbox): State<Sandbox>,
    Path(hash): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, BcError> {
    let pairs = query_pairs(query.as_deref());
    let (page, limit) = paging(&pairs, false)?;
    let with_variants = includes_variants(&pairs);
    let ids: Option<Vec<i64>> = match query_value(&pairs, "id:in") {
        None => None,
        Some(raw) => Some(
            raw.split(',')
                .map(|id| id.trim().parse::<i64>())
                .collect::<Result<_, _>>()
                .map_err(|_| BcError::field(false, "id:in", "must be a list of ids"))?,
        ),
    };
    let sku = query_value(&pairs, "sku");
    let modified_min = match query_value(&pairs, "date_modified:min") {
        None => None,
        Some(raw) => Some(
            parse_date(raw)
                .ok_or_else(|| BcError::field(false, "date_modified:min", "must be a date"))?,
        ),
    };
    sandbox.bc_read(&hash, false, |store, _| {
        let items = store
            .products
            .values()
            .filter(|p| ids.as_ref().is_none_or(|ids| ids.contains(&p.id)))
            .filter(|p| sku.is_none_or(|sku| p.sku == sku))
            .filter(|p| modified_min.is_none_or(|min| p.date_modified >= min))
            .collect::<Vec<_>>();
        let page = page_of_rendered(items, page, limit, |p| p.to_json(with_variants));
        Ok(Json(page).into_response())
    })
}

pub async fn get_product(
    State(sandbox): State<Sandbox>,
    Path((hash, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, BcError> {
    let id = parse_id(&id, false, "product")?;
    let with_variants = includes_variants(&query_pairs(query.as_deref()));
    sandbox.bc_read(&hash, false, |store, _| {
        let product = store
            .products
            .get(&id)
            .ok_or_else(|| BcError::not_found(false, "product"))?;
        Ok(one(product.to_json(with_variants)))
    })
}

pub async fn create_product(
    State(sandbox): State<Sandbox>,
    Path(hash): Path<String>,
    body: Bytes,
) -> Result<Response, BcError> {
    let body = json_body(&body, false)?;
    let fields = object(&body)?;
    sandbox.bc_write(&hash, false, |store, _| {
        let name = text(fields, "name")?.filter(|name| !name.trim().is_empty());
        let Some(name) = name else {
            return Err(BcError::field(false, "name", "is required"));
        };
        if !fields.contains_key("price") {
            return Err(BcError::field(false, "price", "is required"));
        }
        let at = now();
        let id = store.next_id();
        let base_variant = store.next_id();
        let mut product = Product {
            id,
            name,
            sku: String::new(),
            price: Money(0),
            sale_price: Money(0),
            inventory_level: 0,
            inventory_tracking: Tracking::None,
            is_visible: true,
            availability: "available".to_owned(),
            brand_id: 0,
            categories: Vec::new(),
            upc: String::new(),
            gtin: String::new(),
            mpn: String::new(),
            description: String::new(),
            weight: 0.0,
            custom_fields: Vec::new(),
            variants: vec![Variant {
                id: base_variant,
                product_id: id,
                sku: String::new(),
                price: None,
                sale_price: None,
                inventory_level: 0,
                upc: String::new(),
                gtin: String::new(),
                mpn: String::new(),
                option_values: Vec::new(),
            }],
            date_created: at,
            date_modified: at,
        };
        apply_product_fields(store, &mut product, fields)?;
        if let Some(variants) = fields.get("variants") {
            let variants = variants
                .as_array()
                .ok_or_else(|| BcError::field(false, "variants", "must be a list"))?;
            let mut made = Vec::new();
            for variant in variants {
                let fields = variant
                    .as_object()
                    .ok_or_else(|| BcError::field(false, "variants", "must hold objects"))?;
                let variant_id = store.next_id();
                made.push(new_variant(store, &product, variant_id, fields)?);
            }
            if !made.is_empty() {
                let skus: Vec<&str> = made.iter().map(|v| v.sku.as_str()).collect();
                if (1..skus.len()).any(|i| !skus[i].is_empty() && skus[..i].contains(&skus[i])) {
                    return Err(BcError::v3(
                        StatusCode::CONFLICT,
                        "Two variants share a SKU.",
                    ));
                }
                product.variants = made;
            }
        }
        product.sync_base_variant();
        let json = product.to_json(true);
        store.fire(
            "store/product/created",
            json!({ "type": "product", "id": id }),
        );
        store.products.insert(id, product);
        Ok(one(json))
    })
}

pub async fn update_product(
    State(sandbox): State<Sandbox>,
    Path((hash, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, BcError> {
    let id = parse_id(&id, false, "product")?;
    let body = json_body(&body, false)?;
    let fields = object(&body)?;
    sandbox.bc_write(&hash, false, |store, _| {
        Ok(one(change_product(store, id, fields)?))
    })
}

/// Applies `fields` to product `id`; what it now shows (without variants).
fn change_product(
    store: &mut BcStore,
    id: i64,
    fields: &Map<String, Value>,
) -> Result<Value, BcError> {
    let mut product = store
        .products
        .get(&id)
        .cloned()
        .ok_or_else(|| BcError::not_found(false, "product"))?;
    let stock_before = product.shown_inventory();
    apply_product_fields(store, &mut product, fields)?;
    product.sync_base_variant();
    product.date_modified = now();
    let json = product.to_json(false);
    let stock_moved = product.shown_inventory() != stock_before;
    let tracking = product.inventory_tracking;
    store.products.insert(id, product);
    store.fire(
        "store/product/updated",
        json!({ "type": "product", "id": id }),
    );
    if stock_moved && tracking == Tracking::Product {
        store.fire(
            "store/product/inventory/updated",
            json!({ "type": "product", "id": id }),
        );
    }
    Ok(json)
}

/// The most products one `PUT catalog/products` takes.
pub const PRODUCT_BATCH: usize = 10;
/// The most variants one `PUT catalog/variants` takes.
pub const VARIANT_BATCH: usize = 50;

/// Runs `change` on each object of a batch (each naming its `id`), all or none: a refused item
/// leaves the catalog and the hooks as they were.
fn batch(
    store: &mut BcStore,
    body: &Value,
    most: usize,
    what: &str,
    mut change: impl FnMut(&mut BcStore, i64, &Map<String, Value>) -> Result<Value, BcError>,
) -> Result<Response, BcError> {
    let items = body
        .as_array()
        .ok_or_else(|| BcError::field(false, "body", format!("must be a list of {what}")))?;
    if items.is_empty() {
        return Err(BcError::field(
            false,
            "body",
            format!("must list at least one of the {what}"),
        ));
    }
    if items.len() > most {
        return Err(BcError::v3(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "A batch holds {most} {what} at most; {} were sent.",
                items.len()
            ),
        ));
    }
    let (products, events) = (store.products.clone(), store.events.len());
    let mut changed = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let outcome = item
            .as_object()
            .and_then(|fields| {
                fields
                    .get("id")
                    .and_then(Value::as_i64)
                    .map(|id| (id, fields))
            })
            .ok_or_else(|| BcError::field(false, &format!("{index}.id"), "is required"))
            .and_then(|(id, fields)| change(store, id, fields));
        match outcome {
            Ok(json) => changed.push(json),
            Err(mut error) => {
                store.products = products;
                store.events.truncate(events);
                error.title = format!("Item {index}: {}", error.title);
                return Err(error);
            }
        }
    }
    Ok(Json(json!({ "data": changed, "meta": {} })).into_response())
}

/// `PUT /v3/catalog/products`: up to 10 products, each by `id`.
pub async fn update_products(
    State(sandbox): State<Sandbox>,
    Path(hash): Path<String>,
    body: Bytes,
) -> Result<Response, BcError> {
    let body = json_body(&body, false)?;
    sandbox.bc_write(&hash, false, |store, _| {
        batch(store, &body, PRODUCT_BATCH, "products", change_product)
    })
}

/// `PUT /v3/catalog/variants`: up to 50 variants, each by `id`, of any products.
pub async fn update_variants(
    State(sandbox): State<Sandbox>,
    Path(hash): Path<String>,
    body: Bytes,
) -> Result<Response, BcError> {
    let body = json_body(&body, false)?;
    sandbox.bc_write(&hash, false, |store, _| {
        batch(
            store,
            &body,
            VARIANT_BATCH,
            "variants",
            |store, variant_id, fields| {
                let product_id = store
                    .products
                    .values()
                    .find(|p| p.variant(variant_id).is_some())
                    .map(|p| p.id)
                    .ok_or_else(|| BcError::not_found(false, "variant"))?;
                change_variant(store, product_id, variant_id, fields)
            },
        )
    })
}

pub async fn delete_product(
    State(sandbox): State<Sandbox>,
    Path((hash, id)): Path<(String, String)>,
) -> Result<Response, BcError> {
    let id = parse_id(&id, false, "product")?;
    sandbox.bc_write(&hash, false, |store, _| {
        store
            .products
            .remove(&id)
            .ok_or_else(|| BcError::not_found(false, "product"))?;
        store.fire(
            "store/product/deleted",
            json!({ "type": "product", "id": id }),
        );
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

pub async fn list_variants(
    State(sandbox): State<Sandbox>,
    Path((hash, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, BcError> {
    let id = parse_id(&id, false, "product")?;
    let (page, limit) = paging(&query_pairs(query.as_deref()), false)?;
    sandbox.bc_read(&hash, false, |store, _| {
        let product = store
            .products
            .get(&id)
            .ok_or_else(|| BcError::not_found(false, "product"))?;
        let items = product.variants.iter().map(Variant::to_json).collect();
        Ok(Json(page_of(items, page, limit)).into_response())
    })
}

pub async fn get_variant(
    State(sandbox): State<Sandbox>,
    Path((hash, id, variant_id)): Path<(String, String, String)>,
) -> Result<Response, BcError> {
    let id = parse_id(&id, false, "product")?;
    let variant_id = parse_id(&variant_id, false, "variant")?;
    sandbox.bc_read(&hash, false, |store, _| {
        let variant = store
            .products
            .get(&id)
            .and_then(|product| product.variant(variant_id))
            .ok_or_else(|| BcError::not_found(false, "variant"))?;
        Ok(one(variant.to_json()))
    })
}

pub async fn create_variant(
    State(sandbox): State<Sandbox>,
    Path((hash, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, BcError> {
    let id = parse_id(&id, false, "product")?;
    let body = json_body(&body, false)?;
    let fields = object(&body)?;
    sandbox.bc_write(&hash, false, |store, _| {
        let mut product = store
            .products
            .get(&id)
            .cloned()
            .ok_or_else(|| BcError::not_found(false, "product"))?;
        let variant_id = store.next_id();
        let variant = new_variant(store, &product, variant_id, fields)?;
        if variant.option_values.is_empty() {
            return Err(BcError::field(false, "option_values", "are required"));
        }
        if product.base_variant_id().is_some() {
            product.variants.clear();
        }
        let json = variant.to_json();
        product.variants.push(variant);
        product.date_modified = now();
        store.products.insert(id, product);
        store.fire("store/sku/created", json!({ "type": "sku", "id": variant_id, "sku": { "product_id": id, "variant_id": variant_id } }));
        Ok(one(json))
    })
}

pub async fn update_variant(
    State(sandbox): State<Sandbox>,
    Path((hash, id, variant_id)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, BcError> {
    let id = parse_id(&id, false, "product")?;
    let variant_id = parse_id(&variant_id, false, "variant")?;
    let body = json_body(&body, false)?;
    let fields = object(&body)?;
    sandbox.bc_write(&hash, false, |store, _| {
        Ok(one(change_variant(store, id, variant_id, fields)?))
    })
}

/// Applies `fields` to a variant of product `id`; what the variant now shows.
fn change_variant(
    store: &mut BcStore,
    id: i64,
    variant_id: i64,
    fields: &Map<String, Value>,
) -> Result<Value, BcError> {
    let mut product = store
        .products
        .get(&id)
        .cloned()
        .ok_or_else(|| BcError::not_found(false, "product"))?;
    let mut variant = product
        .variant(variant_id)
        .cloned()
        .ok_or_else(|| BcError::not_found(false, "variant"))?;
    let level_before = variant.inventory_level;
    if let Some(sku) = text(fields, "sku")? {
        if sku != variant.sku && store.sku_taken(&sku, -1) {
            return Err(BcError::v3(
                StatusCode::CONFLICT,
                "The SKU is already in use.",
            ));
        }
        variant.sku = sku;
    }
    if fields.contains_key("price") {
        variant.price = optional_money(fields, "price")?;
    }
    if fields.contains_key("sale_price") {
        variant.sale_price = optional_money(fields, "sale_price")?;
    }
    if let Some(level) = whole(fields, "inventory_level")? {
        variant.inventory_level = level;
    }
    for (name, slot) in [
        ("upc", &mut variant.upc),
        ("gtin", &mut variant.gtin),
        ("mpn", &mut variant.mpn),
    ] {
        if let Some(value) = text(fields, name)? {
            *slot = value;
        }
    }
    let json = variant.to_json();
    let moved = variant.inventory_level != level_before;
    let base = product.base_variant_id() == Some(variant_id);
    if base {
        // The base variant is the product: its codes and stock are the product's.
        product.sku = variant.sku.clone();
        product.upc = variant.upc.clone();
        product.gtin = variant.gtin.clone();
        product.mpn = variant.mpn.clone();
        product.inventory_level = variant.inventory_level;
    }
    if let Some(slot) = product.variant_mut(variant_id) {
        *slot = variant;
    }
    product.date_modified = now();
    let tracking = product.inventory_tracking;
    store.products.insert(id, product);
    let sku_data = json!({ "type": "sku", "id": variant_id, "sku": { "product_id": id, "variant_id": variant_id } });
    store.fire("store/sku/updated", sku_data.clone());
    if moved {
        match tracking {
            Tracking::Variant => store.fire("store/sku/inventory/updated", sku_data),
            Tracking::Product => store.fire(
                "store/product/inventory/updated",
                json!({ "type": "product", "id": id }),
            ),
            Tracking::None => {}
        }
    }
    Ok(json)
}

pub async fn list_categories(
    State(sandbox): State<Sandbox>,
    Path(hash): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, BcError> {
    let (page, limit) = paging(&query_pairs(query.as_deref()), false)?;
    sandbox.bc_read(&hash, false, |store, _| {
        let items = store
            .categories
            .values()
            .map(|category| {
                json!({
                    "id": category.id,
                    "category_id": category.id,
                    "parent_id": category.parent_id,
                    "tree_id": 1,
                    "name": category.name,
                    "is_visible": true,
                })
            })
            .collect();
        Ok(Json(page_of(items, page, limit)).into_response())
    })
}

pub async fn list_brands(
    State(sandbox): State<Sandbox>,
    Path(hash): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, BcError> {
    let (page, limit) = paging(&query_pairs(query.as_deref()), false)?;
    sandbox.bc_read(&hash, false, |store, _| {
        let items = store
            .brands
            .values()
            .map(|brand| json!({ "id": brand.id, "name": brand.name }))
            .collect();
        Ok(Json(page_of(items, page, limit)).into_response())
    })
}

/// `PUT /v3/inventory/adjustments/absolute {reason?, items: [{location_id, quantity,
/// variant_id | product_id | sku}]}`: sets each item's stock; checked whole before any is set.
pub async fn absolute_adjustments(
    State(sandbox): State<Sandbox>,
    Path(hash): Path<String>,
    body: Bytes,
) -> Result<Response, BcError> {
    let body = json_body(&body, false)?;
    let fields = object(&body)?;
    let items = fields
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| BcError::field(false, "items", "is required"))?;
    if items.is_empty() || items.len() > MAX_ADJUSTMENT_ITEMS {
        return Err(BcError::field(
            false,
            "items",
            format!("must hold 1 to {MAX_ADJUSTMENT_ITEMS} items"),
        ));
    }
    sandbox.bc_write(&hash, false, |store, _| {
        let mut settings = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let field = |name: &str| format!("items.{index}.{name}");
            let item = item
                .as_object()
                .ok_or_else(|| BcError::field(false, &field("item"), "must be an object"))?;
            let location = item
                .get("location_id")
                .and_then(Value::as_i64)
                .unwrap_or(DEFAULT_LOCATION);
            if location != DEFAULT_LOCATION {
                return Err(BcError::field(
                    false,
                    &field("location_id"),
                    "is not a location of this store",
                ));
            }
            let quantity = item
                .get("quantity")
                .and_then(Value::as_i64)
                .filter(|q| *q >= 0)
                .ok_or_else(|| {
                    BcError::field(
                        false,
                        &field("quantity"),
                        "must be a whole number of 0 or more",
                    )
                })?;
            let target = if let Some(variant_id) = item.get("variant_id").and_then(Value::as_i64) {
                store
                    .products
                    .values()
                    .find(|p| p.variant(variant_id).is_some())
                    .map(|p| (p.id, variant_id))
            } else if let Some(product_id) = item.get("product_id").and_then(Value::as_i64) {
                store
                    .products
                    .get(&product_id)
                    .map(|p| (p.id, p.base_variant_id().unwrap_or(0)))
            } else if let Some(sku) = item.get("sku").and_then(Value::as_str) {
                store.find_sku(sku)
            } else {
                return Err(BcError::field(
                    false,
                    &field("variant_id"),
                    "variant_id, product_id or sku is required",
                ));
            };
            let (product_id, variant_id) = target.ok_or_else(|| {
                BcError::field(
                    false,
                    &field("item"),
                    "names no product or variant of this store",
                )
            })?;
            let product = &store.products[&product_id];
            let current = match product.inventory_tracking {
                Tracking::Variant => product.variant(variant_id).map(|v| v.inventory_level),
                Tracking::Product
                    if variant_id == 0 || product.base_variant_id() == Some(variant_id) =>
                {
                    Some(product.inventory_level)
                }
                _ => None,
            };
            let current = current.ok_or_else(|| {
                BcError::field(
                    false,
                    &field("item"),
                    "does not track inventory at this level",
                )
            })?;
            settings.push((product_id, variant_id, quantity - current));
        }
        for (product_id, variant_id, delta) in settings {
            if delta != 0 {
                store.move_stock(product_id, variant_id, delta, StockMove::Set);
            }
        }
        let transaction_id = crate::entropy::random_token();
        Ok(Json(json!({ "transaction_id": transaction_id })).into_response())
    })
}

pub fn object(body: &Value) -> Result<&Map<String, Value>, BcError> {
    body.as_object()
        .ok_or_else(|| BcError::field(false, "body", "must be a JSON object"))
}

/// A text field: `None` when absent or null; a refusal when not text.
pub fn text(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, BcError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.len() <= 65_535 => Ok(Some(text.clone())),
        Some(_) => Err(BcError::field(false, name, "must be text")),
    }
}

fn whole(fields: &Map<String, Value>, name: &str) -> Result<Option<i64>, BcError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_i64()
            .filter(|n| (0..=2_147_483_647).contains(n))
            .map(Some)
            .ok_or_else(|| BcError::field(false, name, "must be a whole number of 0 or more")),
    }
}

fn optional_money(fields: &Map<String, Value>, name: &str) -> Result<Option<Money>, BcError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => Money::from_json(value)
            .filter(|m| m.0 < 100_000_000_000)
            .map(Some)
            .ok_or_else(|| BcError::field(false, name, "must be an amount of 0 or more")),
    }
}

fn apply_product_fields(
    store: &BcStore,
    product: &mut Product,
    fields: &Map<String, Value>,
) -> Result<(), BcError> {
    if let Some(name) = text(fields, "name")? {
        if name.trim().is_empty() {
            return Err(BcError::field(false, "name", "may not be empty"));
        }
        product.name = name;
    }
    if let Some(sku) = text(fields, "sku")? {
        if sku != product.sku && store.sku_taken(&sku, product.id) {
            return Err(BcError::v3(
                StatusCode::CONFLICT,
                "The SKU is already in use.",
            ));
        }
        product.sku = sku;
    }
    if let Some(price) = optional_money(fields, "price")? {
        product.price = price;
    }
    if fields.contains_key("sale_price") {
        product.sale_price = optional_money(fields, "sale_price")?.unwrap_or(Money(0));
    }
    if let Some(level) = whole(fields, "inventory_level")? {
        product.inventory_level = level;
    }
    if let Some(tracking) = text(fields, "inventory_tracking")? {
        product.inventory_tracking = Tracking::parse(&tracking).ok_or_else(|| {
            BcError::field(
                false,
                "inventory_tracking",
                "must be none, product or variant",
            )
        })?;
    }
    match fields.get("is_visible") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(visible)) => product.is_visible = *visible,
        Some(_) => return Err(BcError::field(false, "is_visible", "must be true or false")),
    }
    if let Some(availability) = text(fields, "availability")? {
        if !matches!(availability.as_str(), "available" | "disabled" | "preorder") {
            return Err(BcError::field(
                false,
                "availability",
                "must be available, disabled or preorder",
            ));
        }
        product.availability = availability;
    }
    if let Some(brand_id) = whole(fields, "brand_id")? {
        if brand_id != 0 && !store.brands.contains_key(&brand_id) {
            return Err(BcError::field(
                false,
                "brand_id",
                "names no brand of this store",
            ));
        }
        product.brand_id = brand_id;
    }
    if let Some(categories) = fields.get("categories").filter(|v| !v.is_null()) {
        let ids: Option<Vec<i64>> = categories
            .as_array()
            .and_then(|ids| ids.iter().map(Value::as_i64).collect());
        let ids = ids
            .filter(|ids| ids.iter().all(|id| store.categories.contains_key(id)))
            .ok_or_else(|| {
                BcError::field(false, "categories", "must list categories of this store")
            })?;
        product.categories = ids;
    }
    for (name, slot) in [
        ("upc", &mut product.upc),
        ("gtin", &mut product.gtin),
        ("mpn", &mut product.mpn),
        ("description", &mut product.description),
    ] {
        if let Some(value) = text(fields, name)? {
            *slot = value;
        }
    }
    if let Some(weight) = fields.get("weight").filter(|v| !v.is_null()) {
        product.weight = weight
            .as_f64()
            .filter(|w| w.is_finite() && *w >= 0.0)
            .ok_or_else(|| BcError::field(false, "weight", "must be a number of 0 or more"))?;
    }
    if let Some(custom) = fields.get("custom_fields").filter(|v| !v.is_null()) {
        let custom = custom
            .as_array()
            .ok_or_else(|| BcError::field(false, "custom_fields", "must be a list"))?;
        let mut parsed = Vec::new();
        for (index, field) in custom.iter().enumerate() {
            let name = field.get("name").and_then(Value::as_str);
            let value = field.get("value").and_then(Value::as_str);
            let (Some(name), Some(value)) = (name, value) else {
                return Err(BcError::field(
                    false,
                    "custom_fields",
                    "each needs a name and a value",
                ));
            };
            parsed.push(CustomField {
                id: field
                    .get("id")
                    .and_then(Value::as_i64)
                    .unwrap_or(index as i64 + 1),
                name: name.to_owned(),
                value: value.to_owned(),
            });
        }
        product.custom_fields = parsed;
    }
    Ok(())
}

fn new_variant(
    store: &BcStore,
    product: &Product,
    id: i64,
    fields: &Map<String, Value>,
) -> Result<Variant, BcError> {
    let sku = text(fields, "sku")?.unwrap_or_default();
    if store.sku_taken(&sku, -1)
        || (!sku.is_empty() && sku == product.sku && product.base_variant_id().is_none())
    {
        return Err(BcError::v3(
            StatusCode::CONFLICT,
            "The SKU is already in use.",
        ));
    }
    let mut option_values = Vec::new();
    if let Some(values) = fields.get("option_values").filter(|v| !v.is_null()) {
        let values = values
            .as_array()
            .ok_or_else(|| BcError::field(false, "option_values", "must be a list"))?;
        for (index, value) in values.iter().enumerate() {
            let label = value.get("label").and_then(Value::as_str);
            let option = value.get("option_display_name").and_then(Value::as_str);
            let (Some(label), Some(option)) = (label, option) else {
                return Err(BcError::field(
                    false,
                    "option_values",
                    "each needs a label and an option_display_name",
                ));
            };
            option_values.push(OptionValue {
                option_id: value
                    .get("option_id")
                    .and_then(Value::as_i64)
                    .unwrap_or(index as i64 + 1),
                option_display_name: option.to_owned(),
                id: value
                    .get("id")
                    .and_then(Value::as_i64)
                    .unwrap_or(id * 10 + index as i64),
                label: label.to_owned(),
            });
        }
    }
    Ok(Variant {
        id,
        product_id: product.id,
        sku,
        price: optional_money(fields, "price")?,
        sale_price: optional_money(fields, "sale_price")?,
        inventory_level: whole(fields, "inventory_level")?.unwrap_or(0),
        upc: text(fields, "upc")?.unwrap_or_default(),
        gtin: text(fields, "gtin")?.unwrap_or_default(),
        mpn: text(fields, "mpn")?.unwrap_or_default(),
        option_values,
    })
}
