//! `products` and `products/{id}/variations` of `wp-json/wc/v3`: list with core's filters,
//! read, create, update, delete (trash unless `force`) and batch. Their categories and tags
//! are in `terms`.
//!
//! A variation is a product of type `variation` in the same id space: `GET /products/{id}`
//! answers it too, and its changes fire `product.*` webhooks with the variation's own id and
//! that product-shaped body, as core does.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::Sandbox;
use crate::woo::model::{
    Attribute, Dimensions, Event, Image, PostStatus, Product, ProductType, Resource, StockStatus,
    Taxonomy, WooStore, now, slugify,
};
use crate::woo::rest::{
    Batch, Fields, Paging, QueryParams, RestError, RestResult, batch_entry, created_response,
    json_response, parse_body,
};
use crate::woo::terms::named_ids;
use crate::woo::views::{product_json, variation_json};
use crate::woo::{GLOBAL_ATTRIBUTES, parse_id};

// ---------------------------------------------------------------------------------------------
// Products

pub async fn list(
    State(sandbox): State<Sandbox>,
    Path(code): Path<String>,
    RawQuery(raw): RawQuery,
) -> RestResult {
    let query = QueryParams::parse(raw.as_deref());
    let paging = Paging::from_query(&query)?;
    let filter = ProductFilter::from_query(&query)?;
    let world = sandbox.world();
    let (store, url) = crate::woo::store(&world, &code)?;
    let mut items: Vec<&Product> = store
        .products
        .values()
        .filter(|product| product.kind != ProductType::Variation && filter.admits(product))
        .collect();
    sort_products(&mut items, &query)?;
    Ok(paging.respond(
        items,
        &format!("{url}/wp-json/wc/v3/products"),
        &query,
        |product| product_json(store, product, &url),
    ))
}

pub async fn get_one(
    State(sandbox): State<Sandbox>,
    Path((code, id)): Path<(String, String)>,
) -> RestResult {
    let id = parse_id(&id)?;
    let world = sandbox.world();
    let (store, url) = crate::woo::store(&world, &code)?;
    let product = store
        .products
        .get(&id)
        .ok_or_else(|| RestError::invalid_id("product"))?;
    Ok(json_response(
        StatusCode::OK,
        product_json(store, product, &url),
    ))
}

pub async fn create(
    State(sandbox): State<Sandbox>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let body = parse_body(&headers, &body)?;
    let fields = Fields::of(&body)?;
    sandbox.woo_write(&code, |store, url| {
        let id = create_product(store, &fields, None)?;
        Ok(created_response(
            url,
            "products",
            id,
            product_json(store, &store.products[&id], url),
        ))
    })
}

pub async fn update(
    State(sandbox): State<Sandbox>,
    Path((code, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let id = parse_id(&id)?;
    let body = parse_body(&headers, &body)?;
    let fields = Fields::of(&body)?;
    sandbox.woo_write(&code, |store, url| {
        update_product(store, id, &fields)?;
        Ok(json_response(
            StatusCode::OK,
            product_json(store, &store.products[&id], url),
        ))
    })
}

pub async fn delete(
    State(sandbox): State<Sandbox>,
    Path((code, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let id = parse_id(&id)?;
    let force = force(
        &QueryParams::parse(raw.as_deref()),
        &parse_body(&headers, &body)?,
    )?;
    sandbox.woo_write(&code, |store, url| {
        delete_product(store, id, force, url).map(|value| json_response(StatusCode::OK, value))
    })
}

pub async fn batch(
    State(sandbox): State<Sandbox>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let body = parse_body(&headers, &body)?;
    let batch = Batch::parse(&body)?;
    sandbox.woo_write(&code, |store, url| {
        let mut answer = json!({});
        if !batch.create.is_empty() {
            answer["create"] = batch
                .create
                .iter()
                .map(|entry| {
                    let result = Fields::of(entry)
                        .and_then(|fields| create_product(store, &fields, None))
                        .map(|id| product_json(store, &store.products[&id], url));
                    batch_entry(0, result)
                })
                .collect();
        }
        if !batch.update.is_empty() {
            answer["update"] = batch
                .update
                .iter()
                .map(|entry| {
                    let id = Fields::of(entry)
                        .ok()
                        .and_then(|f| f.integer("id").ok().flatten())
                        .unwrap_or(0);
                    let result = Fields::of(entry)
                        .and_then(|fields| update_product(store, id, &fields))
                        .map(|()| product_json(store, &store.products[&id], url));
                    batch_entry(id, result)
                })
                .collect();
        }
        if !batch.delete.is_empty() {
            answer["delete"] = batch
                .delete
                .iter()
                .map(|entry| {
                    let id = Batch::delete_id(entry).unwrap_or(0);
                    // Batch deletes are permanent, as core forces them.
                    batch_entry(id, delete_product(store, id, true, url))
                })
                .collect();
        }
        Ok(json_response(StatusCode::OK, answer))
    })
}

/// `force` from the query or the body.
pub fn force(query: &QueryParams, body: &Value) -> Result<bool, RestError> {
    if let Some(force) = query.boolean("force")? {
        return Ok(force);
    }
    Ok(Fields::of(body)?.boolean("force")?.unwrap_or(false))
}

/// The filters of `GET /products` (and of variations).
struct ProductFilter {
    modified_after: Option<OffsetDateTime>,
    modified_before: Option<OffsetDateTime>,
    after: Option<OffsetDateTime>,
    before: Option<OffsetDateTime>,
    skus: Vec<String>,
    status: Option<PostStatus>,
    kind: Option<String>,
    categories: Vec<i64>,
    tags: Vec<i64>,
    include: Vec<i64>,
    exclude: Vec<i64>,
    parents: Vec<i64>,
    stock_status: Option<StockStatus>,
    search: Option<String>,
}

impl ProductFilter {
    fn from_query(query: &QueryParams) -> Result<Self, RestError> {
        let status = match query.value("status") {
            None | Some("any") => None,
            Some(raw) => Some(PostStatus::parse(raw).ok_or_else(|| {
                RestError::invalid_param(
                    "status",
                    "status is not one of any, future, trash, draft, pending, private, and publish.",
                )
            })?),
        };
        let kind = match query.value("type") {
            None => None,
            Some(raw @ ("simple" | "grouped" | "external" | "variable")) => Some(raw.to_owned()),
            Some(_) => {
                return Err(RestError::invalid_param(
                    "type",
                    "type is not one of simple, grouped, external, and variable.",
                ));
            }
        };
        let stock_status = query
            .value("stock_status")
            .map(|raw| {
                StockStatus::parse(raw).ok_or_else(|| {
                    RestError::invalid_param(
                        "stock_status",
                        "stock_status is not one of instock, outofstock, and onbackorder.",
                    )
                })
            })
            .transpose()?;
        Ok(Self {
            modified_after: query.date("modified_after")?,
            modified_before: query.date("modified_before")?,
            after: query.date("after")?,
            before: query.date("before")?,
            skus: query.list("sku"),
            status,
            kind,
            categories: query.ids("category")?,
            tags: query.ids("tag")?,
            include: query.ids("include")?,
            exclude: query.ids("exclude")?,
            parents: query.ids("parent")?,
            stock_status,
            search: query.value("search").map(str::to_lowercase),
        })
    }

    fn admits(&self, product: &Product) -> bool {
        let status_ok = match self.status {
            Some(status) => product.status == status,
            None => product.status != PostStatus::Trash,
        };
        status_ok
            && self.modified_after.is_none_or(|at| product.modified > at)
            && self.modified_before.is_none_or(|at| product.modified < at)
            && self.after.is_none_or(|at| product.created > at)
            && self.before.is_none_or(|at| product.created < at)
            && (self.skus.is_empty() || self.skus.contains(&product.sku))
            && self
                .kind
                .as_deref()
                .is_none_or(|kind| kind == product.kind.as_str())
            && has_any(&self.categories, &product.categories)
            && has_any(&self.tags, &product.tags)
            && (self.include.is_empty() || self.include.contains(&product.id))
            && !self.exclude.contains(&product.id)
            && (self.parents.is_empty() || self.parents.contains(&product.parent_id))
            && self
                .stock_status
                .is_none_or(|status| product.stock_status == status)
            && self.search.as_deref().is_none_or(|needle| {
                product.name.to_lowercase().contains(needle)
                    || product.sku.to_lowercase().contains(needle)
            })
    }
}

/// Whether a product has one of the `wanted` terms; no term wanted admits every product.
fn has_any(wanted: &[i64], assigned: &[i64]) -> bool {
    wanted.is_empty() || wanted.iter().any(|id| assigned.contains(id))
}

/// `orderby` (date, id, modified, title, slug; default date) and `order` (default desc).
fn sort_products(items: &mut [&Product], query: &QueryParams) -> Result<(), RestError> {
    let descending = query.descending("desc")?;
    match query.value("orderby").unwrap_or("date") {
        "date" => items.sort_by_key(|p| (p.created, p.id)),
        "id" | "include" => items.sort_by_key(|p| p.id),
        "modified" => items.sort_by_key(|p| (p.modified, p.id)),
        "title" => items.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id))),
        "slug" => items.sort_by(|a, b| a.slug.cmp(&b.slug).then(a.id.cmp(&b.id))),
        "menu_order" => items.sort_by_key(|p| (p.menu_order, p.id)),
        _ => {
            return Err(RestError::invalid_param(
                "orderby",
                "orderby is not one of date, id, include, title, slug, modified, and menu_order.",
            ));
        }
    }
    if descending {
        items.reverse();
    }
    Ok(())
}

pub fn create_product(
    store: &mut WooStore,
    fields: &Fields<'_>,
    parent: Option<i64>,
) -> Result<i64, RestError> {
    if fields.has("id") {
        return Err(RestError::new(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_product_exists",
            "Cannot create existing product.",
        ));
    }
    let at = now();
    let kind = match (parent, fields.string("type")?.as_deref()) {
        (Some(_), _) => ProductType::Variation,
        (None, None | Some("simple")) => ProductType::Simple,
        (None, Some("variable")) => ProductType::Variable,
        (None, Some(_)) => {
            return Err(RestError::invalid_param(
                "type",
                "type is not one of simple and variable (grouped and external products are not emulated).",
            ));
        }
    };
    let mut product = Product::new(0, kind, "Product", at);
    if let Some(parent) = parent {
        product.parent_id = parent;
        product.name = store
            .products
            .get(&parent)
            .map(|p| p.name.clone())
            .unwrap_or_default();
    }
    apply(store, &mut product, fields)?;
    let id = store.next_post_id();
    product.id = id;
    if product.slug.is_empty() {
        product.slug = format!("product-{id}");
    }
    store.insert_product(id, product);
    if let Some(parent) = parent {
        store.mark_modified(parent, at);
    }
    store.record(Resource::Product, Event::Created, id);
    Ok(id)
}

pub fn update_product(store: &mut WooStore, id: i64, fields: &Fields<'_>) -> Result<(), RestError> {
    let mut product = store
        .products
        .get(&id)
        .filter(|product| product.kind != ProductType::Variation)
        .cloned()
        .ok_or_else(|| {
            RestError::new(
                StatusCode::BAD_REQUEST,
                "woocommerce_rest_product_invalid_id",
                "Invalid ID.",
            )
        })?;
    if let Some(kind) = fields.string("type")? {
        product.kind = match kind.as_str() {
            "simple" => ProductType::Simple,
            "variable" => ProductType::Variable,
            _ => {
                return Err(RestError::invalid_param(
                    "type",
                    "type is not one of simple and variable.",
                ));
            }
        };
    }
    let was_trashed = product.status == PostStatus::Trash;
    apply(store, &mut product, fields)?;
    let restored = was_trashed && product.status != PostStatus::Trash;
    store.insert_product(id, product);
    store.touch_product(id, now());
    if restored {
        store.record(Resource::Product, Event::Restored, id);
    }
    Ok(())
}

pub fn delete_product(
    store: &mut WooStore,
    id: i64,
    force: bool,
    url: &str,
) -> Result<Value, RestError> {
    let product = store
        .products
        .get(&id)
        .filter(|product| product.kind != ProductType::Variation)
        .ok_or_else(|| RestError::invalid_id("product"))?;
    let body = product_json(store, product, url);
    if !force {
        if product.status == PostStatus::Trash {
            return Err(RestError::new(
                StatusCode::GONE,
                "woocommerce_rest_already_trashed",
                "The product has already been deleted.",
            ));
        }
        let at = now();
        if let Some(product) = store.products.get_mut(&id) {
            product.status = PostStatus::Trash;
            product.modified = at;
        }
        store.record(Resource::Product, Event::Deleted, id);
        let trashed = &store.products[&id];
        return Ok(product_json(store, trashed, url));
    }
    let children: Vec<i64> = store.variations_of(id).map(|v| v.id).collect();
    for child in children {
        store.remove_product(child);
    }
    store.remove_product(id);
    store.record(Resource::Product, Event::Deleted, id);
    Ok(body)
}

/// Applies the writable fields of a product or variation body to `product` (a working copy:
/// nothing is stored when a field is refused).
fn apply(
    store: &mut WooStore,
    product: &mut Product,
    fields: &Fields<'_>,
) -> Result<(), RestError> {
    let is_variation = product.kind == ProductType::Variation;
    if let Some(name) = fields.string("name")? {
        if product.slug.is_empty() || !fields.has("slug") && product.id == 0 {
            product.slug = slugify(&name);
        }
        product.name = name;
    }
    if let Some(slug) = fields.string("slug")? {
        product.slug = slugify(&slug);
    }
    if let Some(status) = fields.string("status")? {
        product.status = PostStatus::parse(&status)
            .filter(|status| {
                !is_variation
                    || matches!(
                        status,
                        PostStatus::Publish
                            | PostStatus::Private
                            | PostStatus::Pending
                            | PostStatus::Draft
                    )
            })
            .ok_or_else(|| {
                RestError::invalid_param(
                    "status",
                    "status is not one of draft, pending, private, and publish.",
                )
            })?;
    }
    if let Some(sku) = fields.string("sku")? {
        let sku = sku.trim().to_owned();
        if store.sku_taken(&sku, product.id) {
            return Err(RestError::new(
                StatusCode::BAD_REQUEST,
                "product_invalid_sku",
                "Invalid or duplicated SKU.",
            ));
        }
        product.sku = sku;
    }
    if let Some(gtin) = fields.string("global_unique_id")? {
        product.global_unique_id = gtin;
    }
    if let Some(price) = fields.money("regular_price")? {
        product.regular_price = price;
    }
    if let Some(price) = fields.money("sale_price")? {
        product.sale_price = price;
    }
    for name in ["date_on_sale_from", "date_on_sale_from_gmt"] {
        if let Some(at) = fields.date(name)? {
            product.sale_from = at;
        }
    }
    for name in ["date_on_sale_to", "date_on_sale_to_gmt"] {
        if let Some(at) = fields.date(name)? {
            product.sale_to = at;
        }
    }
    if let Some(manage) = fields.boolean("manage_stock")? {
        product.manage_stock = manage;
    }
    if let Some(quantity) = fields.integer("stock_quantity")?
        && product.manage_stock
    {
        product.stock_quantity = Some(quantity);
    }
    if !product.manage_stock {
        product.stock_quantity = None;
        if let Some(status) = fields.string("stock_status")? {
            product.stock_status = StockStatus::parse(&status).ok_or_else(|| {
                RestError::invalid_param(
                    "stock_status",
                    "stock_status is not one of instock, outofstock, and onbackorder.",
                )
            })?;
        }
    }
    product.sync_stock_status();
    if let Some(description) = fields.string("description")? {
        product.description = description;
    }
    if let Some(description) = fields.string("short_description")? {
        product.short_description = description;
    }
    if let Some(weight) = fields.string("weight")? {
        product.weight = weight;
    }
    if let Some(dimensions) = fields.object("dimensions")? {
        let read = |name: &str, current: &str| -> Result<String, RestError> {
            Ok(dimensions
                .string(name)?
                .unwrap_or_else(|| current.to_owned()))
        };
        product.dimensions = Dimensions {
            length: read("length", &product.dimensions.length)?,
            width: read("width", &product.dimensions.width)?,
            height: read("height", &product.dimensions.height)?,
        };
    }
    if let Some(order) = fields.integer("menu_order")? {
        product.menu_order = order;
    }
    for taxonomy in [Taxonomy::Category, Taxonomy::Tag] {
        if let Some(entries) = fields.array(taxonomy.product_field())? {
            *taxonomy.of_mut(product) = named_ids(store, taxonomy, entries);
        }
    }
    let images = if is_variation {
        fields.object("image")?.map(|image| vec![image])
    } else {
        fields.array("images")?.map(|images| {
            images
                .iter()
                .filter_map(|entry| Fields::of(entry).ok())
                .collect()
        })
    };
    if let Some(images) = images {
        let mut list = Vec::new();
        for image in images {
            let src = image.string("src")?.unwrap_or_default();
            let id = match image.integer("id")? {
                Some(id) if id != 0 => id,
                _ => store.next_post_id(),
            };
            let known = product.images.iter().find(|known| known.id == id).cloned();
            let name = image
                .string("name")?
                .or_else(|| known.as_ref().map(|k| k.name.clone()));
            let src = if src.is_empty() {
                known.as_ref().map(|k| k.src.clone()).unwrap_or_default()
            } else {
                src
            };
            list.push(Image {
                id,
                name: name.unwrap_or_else(|| src.rsplit('/').next().unwrap_or_default().to_owned()),
                alt: image.string("alt")?.unwrap_or_default(),
                src,
            });
        }
        product.images = list;
    }
    if let Some(attributes) = fields.array("attributes")? {
        let mut list = Vec::new();
        for (index, entry) in attributes.iter().enumerate() {
            let entry = Fields::of(entry)?;
            let id = entry.integer("id")?.unwrap_or(0);
            let name = entry.string("name")?.unwrap_or_default();
            let (id, name) = match GLOBAL_ATTRIBUTES
                .iter()
                .find(|(gid, gname)| *gid == id || gname.eq_ignore_ascii_case(&name))
            {
                Some((gid, gname)) => (*gid, (*gname).to_owned()),
                None => (0, name),
            };
            let options = if is_variation {
                vec![entry.string("option")?.unwrap_or_default()]
            } else {
                entry
                    .array("options")?
                    .map(|options| {
                        options
                            .iter()
                            .filter_map(|o| o.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            list.push(Attribute {
                id,
                name,
                position: entry.integer("position")?.unwrap_or(index as i64),
                visible: entry.boolean("visible")?.unwrap_or(false),
                variation: entry.boolean("variation")?.unwrap_or(false),
                options,
            });
        }
        product.attributes = list;
        if is_variation && !fields.has("name") {
            let parent = store
                .products
                .get(&product.parent_id)
                .map(|p| p.name.clone())
                .unwrap_or_default();
            let options: Vec<&str> = product
                .attributes
                .iter()
                .map(|a| a.options[0].as_str())
                .collect();
            product.name = format!("{parent} - {}", options.join(", "));
        }
    }
    if let Some(meta) = fields.array("meta_data")? {
        for entry in meta {
            let entry = Fields::of(entry)?;
            let key = entry.string("key")?.unwrap_or_default();
            let value = entry.raw("value").cloned().unwrap_or(Value::Null);
            product.set_meta(&mut store.next_meta_id, entry.integer("id")?, &key, value);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Variations

fn parent_of(store: &WooStore, parent: i64) -> Result<&Product, RestError> {
    store
        .products
        .get(&parent)
        .filter(|product| product.kind != ProductType::Variation)
        .ok_or_else(|| RestError::invalid_id("product"))
}

fn variation_of(store: &WooStore, parent: i64, id: i64) -> Result<&Product, RestError> {
    parent_of(store, parent)?;
    store
        .products
        .get(&id)
        .filter(|product| product.kind == ProductType::Variation && product.parent_id == parent)
        .ok_or_else(|| RestError::invalid_id("product_variation"))
}

pub async fn list_variations(
    State(sandbox): State<Sandbox>,
    Path((code, parent)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> RestResult {
    let parent = parse_id(&parent)?;
    let query = QueryParams::parse(raw.as_deref());
    let paging = Paging::from_query(&query)?;
    let filter = ProductFilter::from_query(&query)?;
    let world = sandbox.world();
    let (store, url) = crate::woo::store(&world, &code)?;
    parent_of(store, parent)?;
    let mut items: Vec<&Product> = store
        .variations_of(parent)
        .filter(|v| filter.admits(v))
        .collect();
    sort_products(&mut items, &query)?;
    Ok(paging.respond(
        items,
        &format!("{url}/wp-json/wc/v3/products/{parent}/variations"),
        &query,
        |variation| variation_json(variation, &url),
    ))
}

pub async fn get_variation(
    State(sandbox): State<Sandbox>,
    Path((code, parent, id)): Path<(String, String, String)>,
) -> RestResult {
    let (parent, id) = (parse_id(&parent)?, parse_id(&id)?);
    let world = sandbox.world();
    let (store, url) = crate::woo::store(&world, &code)?;
    let variation = variation_of(store, parent, id)?;
    Ok(json_response(
        StatusCode::OK,
        variation_json(variation, &url),
    ))
}

pub async fn create_variation(
    State(sandbox): State<Sandbox>,
    Path((code, parent)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let parent = parse_id(&parent)?;
    let body = parse_body(&headers, &body)?;
    let fields = Fields::of(&body)?;
    sandbox.woo_write(&code, |store, url| {
        let id = create_variation_in(store, parent, &fields)?;
        Ok(json_response(
            StatusCode::CREATED,
            variation_json(&store.products[&id], url),
        ))
    })
}

fn create_variation_in(
    store: &mut WooStore,
    parent: i64,
    fields: &Fields<'_>,
) -> Result<i64, RestError> {
    if parent_of(store, parent)?.kind != ProductType::Variable {
        return Err(RestError::new(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_product_variation_invalid_parent",
            "Variations can only be added to a variable product.",
        ));
    }
    create_product(store, fields, Some(parent))
}

pub async fn update_variation(
    State(sandbox): State<Sandbox>,
    Path((code, parent, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let (parent, id) = (parse_id(&parent)?, parse_id(&id)?);
    let body = parse_body(&headers, &body)?;
    let fields = Fields::of(&body)?;
    sandbox.woo_write(&code, |store, url| {
        update_variation_in(store, parent, id, &fields)?;
        Ok(json_response(
            StatusCode::OK,
            variation_json(&store.products[&id], url),
        ))
    })
}

fn update_variation_in(
    store: &mut WooStore,
    parent: i64,
    id: i64,
    fields: &Fields<'_>,
) -> Result<(), RestError> {
    let mut variation = variation_of(store, parent, id)?.clone();
    apply(store, &mut variation, fields)?;
    store.insert_product(id, variation);
    store.touch_product(id, now());
    Ok(())
}

pub async fn delete_variation(
    State(sandbox): State<Sandbox>,
    Path((code, parent, id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let (parent, id) = (parse_id(&parent)?, parse_id(&id)?);
    let force = force(
        &QueryParams::parse(raw.as_deref()),
        &parse_body(&headers, &body)?,
    )?;
    sandbox.woo_write(&code, |store, url| {
        delete_variation_in(store, parent, id, force, url)
            .map(|body| json_response(StatusCode::OK, body))
    })
}

fn delete_variation_in(
    store: &mut WooStore,
    parent: i64,
    id: i64,
    force: bool,
    url: &str,
) -> Result<Value, RestError> {
    let body = variation_json(variation_of(store, parent, id)?, url);
    if !force {
        return Err(RestError::new(
            StatusCode::NOT_IMPLEMENTED,
            "woocommerce_rest_trash_not_supported",
            "The product_variation does not support trashing.",
        ));
    }
    store.remove_product(id);
    store.mark_modified(parent, now());
    store.record(Resource::Product, Event::Deleted, id);
    Ok(body)
}

pub async fn batch_variations(
    State(sandbox): State<Sandbox>,
    Path((code, parent)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let parent = parse_id(&parent)?;
    let body = parse_body(&headers, &body)?;
    let batch = Batch::parse(&body)?;
    sandbox.woo_write(&code, |store, url| {
        parent_of(store, parent)?;
        let mut answer = json!({});
        if !batch.create.is_empty() {
            answer["create"] = batch
                .create
                .iter()
                .map(|entry| {
                    let result = Fields::of(entry)
                        .and_then(|fields| create_variation_in(store, parent, &fields))
                        .map(|id| variation_json(&store.products[&id], url));
                    batch_entry(0, result)
                })
                .collect();
        }
        if !batch.update.is_empty() {
            answer["update"] = batch
                .update
                .iter()
                .map(|entry| {
                    let id = Fields::of(entry)
                        .ok()
                        .and_then(|f| f.integer("id").ok().flatten())
                        .unwrap_or(0);
                    let result = Fields::of(entry)
                        .and_then(|fields| update_variation_in(store, parent, id, &fields))
                        .map(|()| variation_json(&store.products[&id], url));
                    batch_entry(id, result)
                })
                .collect();
        }
        if !batch.delete.is_empty() {
            answer["delete"] = batch
                .delete
                .iter()
                .map(|entry| {
                    let id = Batch::delete_id(entry).unwrap_or(0);
                    batch_entry(id, delete_variation_in(store, parent, id, true, url))
                })
                .collect();
        }
        Ok(json_response(StatusCode::OK, answer))
    })
}
