//! The JSON of each resource, in the shape `GET /wp-json/wc/v3/…` answers it. Webhook payloads
//! are built here too, so a delivery carries exactly what a GET would return.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::values::money::Money;
use crate::woo::model::{
    Address, Image, Meta, Order, Product, ProductType, StockStatus, Taxonomy, Term, Webhook,
    WooStore, format_date,
};

fn money(amount: Option<Money>) -> String {
    amount.map(|m| m.to_string()).unwrap_or_default()
}

fn date(at: Option<OffsetDateTime>) -> Value {
    at.map_or(Value::Null, |at| Value::String(format_date(at)))
}

fn meta_json(meta: &[Meta]) -> Vec<Value> {
    meta.iter()
        .map(|meta| json!({ "id": meta.id, "key": meta.key, "value": meta.value }))
        .collect()
}

fn image_json(image: &Image, at: OffsetDateTime) -> Value {
    json!({
        "id": image.id,
        "date_created": format_date(at),
        "date_created_gmt": format_date(at),
        "date_modified": format_date(at),
        "date_modified_gmt": format_date(at),
        "src": image.src,
        "name": image.name,
        "alt": image.alt,
    })
}

/// How many products have a term (core's `count` also counts only products, never variations).
pub fn term_count(store: &WooStore, taxonomy: Taxonomy, id: i64) -> usize {
    store
        .products
        .values()
        .filter(|product| taxonomy.of(product).contains(&id))
        .count()
}

/// A category or tag as `products/categories` or `products/tags` answers it.
pub fn term_json(store: &WooStore, taxonomy: Taxonomy, term: &Term) -> Value {
    let mut value = json!({
        "id": term.id,
        "name": term.name,
        "slug": term.slug,
        "description": term.description,
        "count": term_count(store, taxonomy, term.id),
    });
    if taxonomy.is_hierarchical() {
        extend(
            &mut value,
            json!({
                "parent": term.parent,
                "display": "default",
                "image": Value::Null,
                "menu_order": 0,
            }),
        );
    }
    value
}

/// A product's categories or tags as its JSON names them: `{id, name, slug}` each.
fn product_terms(store: &WooStore, taxonomy: Taxonomy, product: &Product) -> Vec<Value> {
    taxonomy
        .of(product)
        .iter()
        .filter_map(|id| taxonomy.terms(store).get(id))
        .map(|term| json!({ "id": term.id, "name": term.name, "slug": term.slug }))
        .collect()
}

/// A product, or a variation as `GET /products/{id}` shows it (type `variation`).
pub fn product_json(store: &WooStore, product: &Product, store_url: &str) -> Value {
    let at = crate::values::clock::now();
    let variations: Vec<&Product> = store.variations_of(product.id).collect();
    let (price, regular_price, sale_price, on_sale, stock_status) = match product.kind {
        ProductType::Variable => {
            let prices: Vec<Money> = variations
                .iter()
                .filter_map(|variation| variation.active_price(at))
                .collect();
            let in_stock = variations
                .iter()
                .any(|variation| variation.stock_status != StockStatus::OutOfStock);
            (
                money(prices.iter().min().copied()),
                String::new(),
                String::new(),
                variations.iter().any(|variation| variation.on_sale(at)),
                if in_stock || variations.is_empty() {
                    product.stock_status
                } else {
                    StockStatus::OutOfStock
                },
            )
        }
        ProductType::Simple | ProductType::Variation => (
            money(product.active_price(at)),
            money(product.regular_price),
            money(product.sale_price),
            product.on_sale(at),
            product.stock_status,
        ),
    };
    let attributes: Vec<Value> = if product.kind == ProductType::Variation {
        variation_attributes(product)
    } else {
        product
            .attributes
            .iter()
            .map(|attribute| {
                json!({
                    "id": attribute.id,
                    "name": attribute.name,
                    "position": attribute.position,
                    "visible": attribute.visible,
                    "variation": attribute.variation,
                    "options": attribute.options,
                })
            })
            .collect()
    };
    let mut value = json!({
        "id": product.id,
        "name": product.name,
        "slug": product.slug,
        "permalink": format!("{store_url}/product/{}/", product.slug),
        "date_created": format_date(product.created),
        "date_created_gmt": format_date(product.created),
        "date_modified": format_date(product.modified),
        "date_modified_gmt": format_date(product.modified),
        "type": product.kind.as_str(),
        "status": product.status.as_str(),
        "featured": false,
        "catalog_visibility": "visible",
        "description": product.description,
        "short_description": product.short_description,
        "sku": product.sku,
        "global_unique_id": product.global_unique_id,
        "price": price,
        "regular_price": regular_price,
        "sale_price": sale_price,
        "date_on_sale_from": date(product.sale_from),
        "date_on_sale_from_gmt": date(product.sale_from),
        "date_on_sale_to": date(product.sale_to),
        "date_on_sale_to_gmt": date(product.sale_to),
        "on_sale": on_sale,
        "purchasable": !price.is_empty(),
    });
    extend(
        &mut value,
        json!({
            "total_sales": product.total_sales,
            "virtual": false,
            "downloadable": false,
            "downloads": [],
            "download_limit": -1,
            "download_expiry": -1,
            "external_url": "",
            "button_text": "",
            "tax_status": "taxable",
            "tax_class": "",
            "manage_stock": product.manage_stock,
            "stock_quantity": if product.manage_stock { json!(product.stock_quantity) } else { Value::Null },
            "stock_status": stock_status.as_str(),
            "backorders": "no",
            "backorders_allowed": false,
            "backordered": false,
            "low_stock_amount": Value::Null,
            "sold_individually": false,
            "weight": product.weight,
            "dimensions": {
                "length": product.dimensions.length,
                "width": product.dimensions.width,
                "height": product.dimensions.height,
            },
            "shipping_required": true,
            "shipping_taxable": true,
            "shipping_class": "",
            "shipping_class_id": 0,
        }),
    );
    extend(
        &mut value,
        json!({
            "reviews_allowed": true,
            "average_rating": "0.00",
            "rating_count": 0,
            "upsell_ids": [],
            "cross_sell_ids": [],
            "parent_id": product.parent_id,
            "purchase_note": "",
            "categories": product_terms(store, Taxonomy::Category, product),
            "tags": product_terms(store, Taxonomy::Tag, product),
            "images": product.images.iter().map(|image| image_json(image, product.created)).collect::<Vec<_>>(),
            "attributes": attributes,
            "default_attributes": [],
            "variations": variations.iter().map(|variation| variation.id).collect::<Vec<_>>(),
            "grouped_products": [],
            "menu_order": product.menu_order,
            "related_ids": [],
            "meta_data": meta_json(&product.meta_data),
            "_links": {
                "self": [{ "href": format!("{store_url}/wp-json/wc/v3/products/{}", product.id) }],
                "collection": [{ "href": format!("{store_url}/wp-json/wc/v3/products") }],
            },
        }),
    );
    value
}

/// Adds the fields of `more` to `value` (both objects); `json!` cannot take core's ~70
/// product fields in one go.
fn extend(value: &mut Value, more: Value) {
    if let (Value::Object(fields), Value::Object(more)) = (value, more) {
        fields.extend(more);
    }
}

fn variation_attributes(variation: &Product) -> Vec<Value> {
    variation
        .attributes
        .iter()
        .map(|attribute| {
            json!({
                "id": attribute.id,
                "name": attribute.name,
                "option": attribute.options.first().cloned().unwrap_or_default(),
            })
        })
        .collect()
}

/// A variation as `GET /products/{parent}/variations/{id}` answers it.
pub fn variation_json(variation: &Product, store_url: &str) -> Value {
    let at = crate::values::clock::now();
    let price = money(variation.active_price(at));
    let mut value = json!({
        "id": variation.id,
        "name": variation.name,
        "type": "variation",
        "parent_id": variation.parent_id,
        "date_created": format_date(variation.created),
        "date_created_gmt": format_date(variation.created),
        "date_modified": format_date(variation.modified),
        "date_modified_gmt": format_date(variation.modified),
        "description": variation.description,
        "permalink": format!("{store_url}/?p={}", variation.id),
        "sku": variation.sku,
        "global_unique_id": variation.global_unique_id,
        "price": price,
        "regular_price": money(variation.regular_price),
        "sale_price": money(variation.sale_price),
        "date_on_sale_from": date(variation.sale_from),
        "date_on_sale_from_gmt": date(variation.sale_from),
        "date_on_sale_to": date(variation.sale_to),
        "date_on_sale_to_gmt": date(variation.sale_to),
        "on_sale": variation.on_sale(at),
    });
    extend(
        &mut value,
        json!({
            "status": variation.status.as_str(),
            "purchasable": !price.is_empty(),
            "virtual": false,
            "downloadable": false,
            "downloads": [],
            "download_limit": -1,
            "download_expiry": -1,
            "tax_status": "taxable",
            "tax_class": "",
            "manage_stock": variation.manage_stock,
            "stock_quantity": if variation.manage_stock { json!(variation.stock_quantity) } else { Value::Null },
            "stock_status": variation.stock_status.as_str(),
            "backorders": "no",
            "backorders_allowed": false,
            "backordered": false,
            "low_stock_amount": Value::Null,
            "weight": variation.weight,
            "dimensions": {
                "length": variation.dimensions.length,
                "width": variation.dimensions.width,
                "height": variation.dimensions.height,
            },
            "shipping_class": "",
            "shipping_class_id": 0,
            "image": variation.images.first().map_or(Value::Null, |image| image_json(image, variation.created)),
            "attributes": variation_attributes(variation),
            "menu_order": variation.menu_order,
            "meta_data": meta_json(&variation.meta_data),
            "_links": {
                "self": [{ "href": format!("{store_url}/wp-json/wc/v3/products/{}/variations/{}", variation.parent_id, variation.id) }],
                "collection": [{ "href": format!("{store_url}/wp-json/wc/v3/products/{}/variations", variation.parent_id) }],
                "up": [{ "href": format!("{store_url}/wp-json/wc/v3/products/{}", variation.parent_id) }],
            },
        }),
    );
    value
}

fn address_json(address: &Address, with_contact: bool) -> Value {
    let mut value = json!({
        "first_name": address.first_name,
        "last_name": address.last_name,
        "company": address.company,
        "address_1": address.address_1,
        "address_2": address.address_2,
        "city": address.city,
        "state": address.state,
        "postcode": address.postcode,
        "country": address.country,
        "phone": address.phone,
    });
    if with_contact {
        value["email"] = json!(address.email);
    }
    value
}

pub fn order_json(store: &WooStore, order: &Order, store_url: &str) -> Value {
    let line_items: Vec<Value> = order
        .line_items
        .iter()
        .map(|line| {
            let price = if line.quantity == 0 {
                0.0
            } else {
                line.total.0 as f64 / 100.0 / line.quantity as f64
            };
            let image_of = if line.variation_id != 0 {
                line.variation_id
            } else {
                line.product_id
            };
            let image = store
                .products
                .get(&image_of)
                .and_then(|product| product.images.first())
                .map_or(
                    json!({ "id": "", "src": "" }),
                    |image| json!({ "id": image.id, "src": image.src }),
                );
            let parent_name = store
                .products
                .get(&line.product_id)
                .filter(|_| line.variation_id != 0)
                .map_or(Value::Null, |parent| json!(parent.name));
            json!({
                "id": line.id,
                "name": line.name,
                "product_id": line.product_id,
                "variation_id": line.variation_id,
                "quantity": line.quantity,
                "tax_class": "",
                "subtotal": line.subtotal.to_string(),
                "subtotal_tax": "0.00",
                "total": line.total.to_string(),
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": meta_json(&line.meta_data),
                "sku": line.sku,
                "price": price,
                "image": image,
                "parent_name": parent_name,
            })
        })
        .collect();
    let shipping_lines: Vec<Value> = order
        .shipping_lines
        .iter()
        .map(|line| {
            json!({
                "id": line.id,
                "method_title": line.method_title,
                "method_id": line.method_id,
                "instance_id": "",
                "total": line.total.to_string(),
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [],
            })
        })
        .collect();
    let mut value = json!({
        "id": order.id,
        "parent_id": 0,
        "status": order.status.as_str(),
        "currency": order.currency,
        "version": crate::woo::WC_VERSION,
        "prices_include_tax": false,
        "date_created": format_date(order.created),
        "date_created_gmt": format_date(order.created),
        "date_modified": format_date(order.modified),
        "date_modified_gmt": format_date(order.modified),
        "discount_total": "0.00",
        "discount_tax": "0.00",
        "shipping_total": order.shipping_total().to_string(),
        "shipping_tax": "0.00",
        "cart_tax": "0.00",
        "total": order.total().to_string(),
        "total_tax": "0.00",
        "customer_id": order.customer_id,
        "order_key": order.order_key,
        "billing": address_json(&order.billing, true),
        "shipping": address_json(&order.shipping, false),
    });
    extend(
        &mut value,
        json!({
            "payment_method": order.payment_method,
            "payment_method_title": order.payment_method_title,
            "transaction_id": order.transaction_id,
            "customer_ip_address": "",
            "customer_user_agent": "",
            "created_via": order.created_via,
            "customer_note": order.customer_note,
            "date_completed": date(order.completed),
            "date_completed_gmt": date(order.completed),
            "date_paid": date(order.paid),
            "date_paid_gmt": date(order.paid),
            "cart_hash": "",
            "number": order.id.to_string(),
            "meta_data": meta_json(&order.meta_data),
            "line_items": line_items,
            "tax_lines": [],
            "shipping_lines": shipping_lines,
            "fee_lines": [],
            "coupon_lines": [],
            "refunds": crate::woo::refunds::refunds_summary(order),
            "payment_url": format!("{store_url}/checkout/order-pay/{}/?pay_for_order=true&key={}", order.id, order.order_key),
            "is_editable": order.status == crate::woo::model::OrderStatus::Pending,
            "needs_payment": order.status == crate::woo::model::OrderStatus::Pending,
            "needs_processing": true,
            "currency_symbol": if order.currency == "EUR" { "€" } else { "$" },
            "_links": {
                "self": [{ "href": format!("{store_url}/wp-json/wc/v3/orders/{}", order.id) }],
                "collection": [{ "href": format!("{store_url}/wp-json/wc/v3/orders") }],
            },
        }),
    );
    value
}

/// A webhook as REST answers it: never its secret, and no failure count (as core).
pub fn webhook_json(webhook: &Webhook, store_url: &str) -> Value {
    json!({
        "id": webhook.id,
        "name": webhook.name,
        "status": webhook.status.as_str(),
        "topic": webhook.topic,
        "resource": webhook.resource(),
        "event": webhook.event(),
        "hooks": hooks(&webhook.topic),
        "delivery_url": webhook.delivery_url,
        "date_created": format_date(webhook.created),
        "date_created_gmt": format_date(webhook.created),
        "date_modified": format_date(webhook.modified),
        "date_modified_gmt": format_date(webhook.modified),
        "_links": {
            "self": [{ "href": format!("{store_url}/wp-json/wc/v3/webhooks/{}", webhook.id) }],
            "collection": [{ "href": format!("{store_url}/wp-json/wc/v3/webhooks") }],
        },
    })
}

/// The WordPress actions behind a topic, as core lists them.
fn hooks(topic: &str) -> Vec<&'static str> {
    match topic {
        "product.created" => vec![
            "woocommerce_process_product_meta",
            "woocommerce_new_product",
            "woocommerce_new_product_variation",
        ],
        "product.updated" => vec![
            "woocommerce_process_product_meta",
            "woocommerce_update_product",
            "woocommerce_update_product_variation",
        ],
        "product.deleted" => vec!["wp_trash_post"],
        "product.restored" => vec!["untrashed_post"],
        "order.created" => vec!["woocommerce_new_order"],
        "order.updated" => vec!["woocommerce_update_order", "woocommerce_order_refunded"],
        "order.deleted" => vec!["wp_trash_post"],
        "order.restored" => vec!["untrashed_post"],
        _ => Vec::new(),
    }
}
