//! `products` and `products/{id}/variations` of `wp-json/wc/v3`: list with core's filters,
//! read, create, update, delete (trash unless `force`) and batch. Their categories and tags
//! are in `terms`.
//!
//! A variation is a product of type `variation` in the same id space: `GET /products/{id}`
//! answers it too, and its changes fire `product.*` webhooks with the variation's own id and
//! that product-shaped body, as core does.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::Value;

use crate::values::clock::now;
use crate::woo::GLOBAL_ATTRIBUTES;
use crate::woo::model::{
    Attribute, Dimensions, Event, Image, PostStatus, Product, ProductType, Resource, StockStatus,
    Taxonomy, WooStore, slugify,
};
use crate::woo::resource::{InStore, ListQuery, RestResource, UnderProduct};
use crate::woo::rest::{DateFilter, Fields, QueryParams, RestError};
use crate::woo::terms::named_ids;
use crate::woo::views::{product_json, variation_json};

// ---------------------------------------------------------------------------------------------
// Products

/// `products`: simple and variable products (a variation is read here too, by its id).
pub struct Products;

impl RestResource for Products {
    const ROUTE: &'static str = "products";
    type Scope = InStore;
    type Filter = ProductFilter;

    fn items(store: &WooStore, _: InStore) -> &BTreeMap<i64, Product> {
        &store.products
    }

    fn unknown_id() -> RestError {
        RestError::invalid_id("product")
    }

    fn collection(
        store: &WooStore,
        _: InStore,
    ) -> Result<impl Iterator<Item = &Product>, RestError> {
        Ok(store
            .products
            .values()
            .filter(|product| product.kind != ProductType::Variation))
    }

    fn create(store: &mut WooStore, _: InStore, fields: &Fields<'_>) -> Result<i64, RestError> {
        create_product(store, fields, None)
    }

    fn update(
        store: &mut WooStore,
        _: InStore,
        id: i64,
        fields: &Fields<'_>,
    ) -> Result<(), RestError> {
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

    fn delete(
        store: &mut WooStore,
        _: InStore,
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
                return Err(RestError::already_trashed("product"));
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

    fn render(store: &WooStore, product: &Product, url: &str) -> Value {
        product_json(store, product, url)
    }
}

/// The filters of `GET /products` (and of variations).
pub struct ProductFilter {
    dates: DateFilter,
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

impl ListQuery for ProductFilter {
    type Item = Product;

    fn from_query(query: &QueryParams) -> Result<Self, RestError> {
        let status = query.parsed(
            "status",
            Some("any"),
            PostStatus::parse,
            "status is not one of any, future, trash, draft, pending, private, and publish.",
        )?;
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
        let stock_status = query.parsed(
            "stock_status",
            None,
            StockStatus::parse,
            "stock_status is not one of instock, outofstock, and onbackorder.",
        )?;
        Ok(Self {
            dates: DateFilter::from_query(query)?,
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
            && self.dates.admits(product.created, product.modified)
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

    /// `orderby` (date, id, modified, title, slug; default date) and `order` (default desc).
    fn sort(
        &self,
        items: &mut [&Product],
        _: &WooStore,
        query: &QueryParams,
    ) -> Result<(), RestError> {
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
}

/// Whether a product has one of the `wanted` terms; no term wanted admits every product.
fn has_any(wanted: &[i64], assigned: &[i64]) -> bool {
    wanted.is_empty() || wanted.iter().any(|id| assigned.contains(id))
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
        .ok_or_else(Variations::unknown_id)
}

/// `products/{id}/variations`: the variations of one variable product.
pub struct Variations;

impl RestResource for Variations {
    const ROUTE: &'static str = "products/{id}/variations";
    type Scope = UnderProduct;
    type Filter = ProductFilter;
    const LOCATES_CREATED: bool = false;

    /// Variations live among the products, and are told apart in `find`.
    fn items(store: &WooStore, _: UnderProduct) -> &BTreeMap<i64, Product> {
        &store.products
    }

    fn unknown_id() -> RestError {
        RestError::invalid_id("product_variation")
    }

    fn find(
        store: &WooStore,
        UnderProduct(parent): UnderProduct,
        id: i64,
    ) -> Result<&Product, RestError> {
        variation_of(store, parent, id)
    }

    fn collection(
        store: &WooStore,
        UnderProduct(parent): UnderProduct,
    ) -> Result<impl Iterator<Item = &Product>, RestError> {
        parent_of(store, parent)?;
        Ok(store.variations_of(parent))
    }

    fn create(
        store: &mut WooStore,
        UnderProduct(parent): UnderProduct,
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

    fn update(
        store: &mut WooStore,
        UnderProduct(parent): UnderProduct,
        id: i64,
        fields: &Fields<'_>,
    ) -> Result<(), RestError> {
        let mut variation = variation_of(store, parent, id)?.clone();
        apply(store, &mut variation, fields)?;
        store.insert_product(id, variation);
        store.touch_product(id, now());
        Ok(())
    }

    fn delete(
        store: &mut WooStore,
        UnderProduct(parent): UnderProduct,
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

    fn render(_: &WooStore, variation: &Product, url: &str) -> Value {
        variation_json(variation, url)
    }

    fn check_scope(store: &WooStore, UnderProduct(parent): UnderProduct) -> Result<(), RestError> {
        parent_of(store, parent).map(|_| ())
    }
}
