//! The Connect catalog: `POST /products` (upsert, PATCH semantics), `GET /products` (seek
//! pagination, sorted by id: `pages`) and `DELETE /products`.
//!
//! An upsert is checked whole against the published schema before anything is stored: one bad
//! product refuses the request with every problem listed. Connect answers 202 ("accepted")
//! and processes later; the sandbox applies the request at once, which a client cannot tell
//! from a fast Connect.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::Sandbox;
use crate::connect::checks::Problems;
use crate::connect::pages::Page;
use crate::connect::{ConnectCall, ConnectError};
use crate::gate::Operation;
use crate::world::World;

/// Products per upsert or delete, and per page.
const MAX_PRODUCTS: usize = 1000;

/// The top-level fields of a product; anything else in a request is ignored.
const FIELDS: [&str; 12] = [
    "id",
    "titles",
    "descriptions",
    "brand",
    "category",
    "gtins",
    "images",
    "attributes",
    "quantities",
    "partner_quantities",
    "standard_prices",
    "discount_prices",
];

/// Checks one product; its fields to store when it is valid.
fn check_product(
    path: &str,
    product: &Value,
    problems: &mut Problems,
) -> Option<Map<String, Value>> {
    let before = problems.0.len();
    let fields = problems.object(path, product)?;
    let at = |name: &str| format!("{path}.{name}");
    match fields.get("id") {
        None => problems.add(&at("id"), "is required"),
        id => problems.string(&at("id"), id, 1, 256),
    }
    for (name, value) in fields {
        let field = at(name);
        match name.as_str() {
            "titles" => {
                let items = problems.array(&field, value, true, 0, 10);
                problems.localized(&field, items, 255);
            }
            "descriptions" => {
                let items = problems.array(&field, value, true, 0, 10);
                problems.localized(&field, items, 6000);
            }
            "brand" => problems.optional_string(&field, Some(value), 255),
            "category" => {
                if !value.is_null()
                    && let Some(category) = problems.object(&field, value)
                {
                    if !matches!(category.get("id"), None | Some(Value::Null)) {
                        problems.string(&format!("{field}.id"), category.get("id"), 1, 255);
                    }
                    let labels = format!("{field}.labels");
                    match category.get("labels") {
                        Some(labels_value) => {
                            let items = problems.array(&labels, labels_value, false, 0, usize::MAX);
                            problems.localized(&labels, items, 255);
                        }
                        None => problems.add(&labels, "is required"),
                    }
                }
            }
            "gtins" => {
                problems.objects(&field, value, false, 0, 10, |problems, path, gtin| {
                    let valid = gtin
                        .get("value")
                        .and_then(Value::as_str)
                        .is_some_and(|value| {
                            matches!(value.len(), 8 | 12 | 13)
                                && value.bytes().all(|b| b.is_ascii_digit())
                        });
                    if !valid {
                        problems.add(
                            &format!("{path}.value"),
                            "must be a GTIN of 8, 12 or 13 digits",
                        );
                    }
                });
            }
            "images" => {
                problems.objects(&field, value, true, 0, 15, |problems, path, image| {
                    let valid = image.get("url").and_then(Value::as_str).is_some_and(|url| {
                        url.starts_with("http://") || url.starts_with("https://")
                    });
                    if !valid {
                        problems.add(&format!("{path}.url"), "must be an http or https URL");
                    }
                });
            }
            "attributes" => {
                problems.objects(&field, value, true, 0, 1000, |problems, path, attribute| {
                    problems.string(&format!("{path}.id"), attribute.get("id"), 1, 255);
                    problems.string(&format!("{path}.name"), attribute.get("name"), 1, 255);
                    let value = attribute.get("value");
                    let valid = match attribute.get("type").and_then(Value::as_str) {
                        Some("STRING") => value
                            .and_then(Value::as_str)
                            .is_some_and(|text| text.chars().count() <= 2000),
                        Some("NUMERIC") => value
                            .and_then(Value::as_f64)
                            .is_some_and(|n| (-1e9..=1e9).contains(&n)),
                        Some("BOOLEAN") => value.is_some_and(Value::is_boolean),
                        _ => {
                            problems.add(
                                &format!("{path}.type"),
                                "must be STRING, NUMERIC or BOOLEAN",
                            );
                            true
                        }
                    };
                    if !valid {
                        problems.add(
                            &format!("{path}.value"),
                            "does not match the attribute's type",
                        );
                    }
                });
            }
            "quantities" => {
                problems.objects(&field, value, false, 1, 20, |problems, path, quantity| {
                    problems.quantity(
                        &format!("{path}.available_quantity"),
                        quantity.get("available_quantity"),
                    );
                    if quantity.contains_key("warehouse_code") {
                        problems.string(
                            &format!("{path}.warehouse_code"),
                            quantity.get("warehouse_code"),
                            1,
                            255,
                        );
                    }
                });
            }
            "partner_quantities" => {
                problems.objects(&field, value, false, 1, 20, |problems, path, quantity| {
                    problems.quantity(
                        &format!("{path}.available_quantity"),
                        quantity.get("available_quantity"),
                    );
                    problems.string(
                        &format!("{path}.partner_id"),
                        quantity.get("partner_id"),
                        1,
                        255,
                    );
                });
            }
            "standard_prices" | "discount_prices" => {
                let discount = name == "discount_prices";
                let min = usize::from(!discount);
                problems.objects(&field, value, discount, min, 10, |problems, path, price| {
                    problems.money(&format!("{path}.price"), price.get("price"));
                    problems.optional_string(&format!("{path}.scope"), price.get("scope"), 255);
                    if discount {
                        problems.date(&format!("{path}.start_date"), price.get("start_date"));
                        problems.date(&format!("{path}.end_date"), price.get("end_date"));
                    }
                });
            }
            _ => {}
        }
    }
    (problems.0.len() == before).then(|| {
        fields
            .iter()
            .filter(|(name, _)| FIELDS.contains(&name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    })
}

/// The `products` array of an upsert or delete body, 1 to 1000 items.
fn products_of(body: &[u8]) -> Result<Vec<Value>, ConnectError> {
    let body: Value = serde_json::from_slice(body).map_err(|error| {
        ConnectError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
            format!("The body is not valid JSON: {error}."),
        )
    })?;
    match body.get("products") {
        Some(Value::Array(products)) if (1..=MAX_PRODUCTS).contains(&products.len()) => {
            Ok(products.clone())
        }
        Some(Value::Array(products)) => Err(ConnectError::invalid_field(
            "products",
            &format!(
                "must have 1 to {MAX_PRODUCTS} items; got {}",
                products.len()
            ),
        )),
        _ => Err(ConnectError::invalid_field(
            "products",
            "is required: an array of products",
        )),
    }
}

/// The catalog of the company `serve` found, under the same lock, to change.
fn catalog_mut<'w>(
    world: &'w mut World,
    company: &str,
) -> &'w mut BTreeMap<String, Map<String, Value>> {
    &mut world
        .companies
        .get_mut(company)
        .expect("authorize checked the company exists")
        .products
}

/// `POST /products` (upsertProducts) → 202.
pub async fn upsert(
    State(sandbox): State<Sandbox>,
    call: ConnectCall,
    body: Bytes,
) -> Result<StatusCode, ConnectError> {
    let mut world = sandbox.world();
    let company = call.serve(&mut world, Operation::ConnectUpsertProducts)?;
    let products = products_of(&body)?;
    let mut problems = Problems::default();
    let checked: Vec<Map<String, Value>> = products
        .iter()
        .enumerate()
        .filter_map(|(index, product)| {
            check_product(&format!("products[{index}]"), product, &mut problems)
        })
        .collect();
    problems.refuse()?;
    let catalog = catalog_mut(&mut world, &company);
    for fields in checked {
        let id = fields["id"].as_str().unwrap_or_default().to_owned();
        let stored = catalog.entry(id).or_default();
        for (name, value) in fields {
            // PATCH: an explicit null clears the field; an omitted one stays as it was.
            if value.is_null() {
                stored.remove(&name);
            } else {
                stored.insert(name, value);
            }
        }
    }
    Ok(StatusCode::ACCEPTED)
}

/// `DELETE /products` (deleteProducts) → 202; unknown ids are no error.
pub async fn delete(
    State(sandbox): State<Sandbox>,
    call: ConnectCall,
    body: Bytes,
) -> Result<StatusCode, ConnectError> {
    let mut world = sandbox.world();
    let company = call.serve(&mut world, Operation::ConnectDeleteProducts)?;
    let products = products_of(&body)?;
    let mut problems = Problems::default();
    let mut ids = Vec::with_capacity(products.len());
    for (index, product) in products.iter().enumerate() {
        let path = format!("products[{index}]");
        if let Some(product) = problems.object(&path, product) {
            problems.string(&format!("{path}.id"), product.get("id"), 1, 256);
            if let Some(id) = product.get("id").and_then(Value::as_str) {
                ids.push(id.to_owned());
            }
        }
    }
    problems.refuse()?;
    let catalog = catalog_mut(&mut world, &company);
    for id in ids {
        catalog.remove(&id);
    }
    Ok(StatusCode::ACCEPTED)
}

/// `GET /products` (listProducts): `limit` 1–1000 (default 1000), `page_token`.
pub async fn list(
    State(sandbox): State<Sandbox>,
    call: ConnectCall,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ConnectError> {
    let mut world = sandbox.world();
    let company = call.serve(&mut world, Operation::ConnectListProducts)?;
    let limit = Page::limit(
        query.get("limit").map(String::as_str),
        MAX_PRODUCTS,
        MAX_PRODUCTS,
    )?;
    let catalog = &world.companies[&company].products;
    let ids: Vec<String> = catalog.keys().cloned().collect();
    let page = Page::of(&ids, query.get("page_token").map(String::as_str), limit)?;
    let data: Vec<Value> = ids[page.items.clone()]
        .iter()
        .map(|id| Value::Object(catalog[id].clone()))
        .collect();
    Ok(Json(page.body(data)))
}

impl Sandbox {
    /// One product of a company's Connect catalog, with the fields set.
    pub fn connect_product(&self, company: &str, id: &str) -> Option<Value> {
        let world = self.world();
        let product = world.companies.get(company)?.products.get(id)?;
        Some(Value::Object(product.clone()))
    }

    /// A company's Connect catalog, sorted by product id, each product with the fields set.
    pub fn connect_products(&self, company: &str) -> Vec<Value> {
        self.world()
            .companies
            .get(company)
            .map(|company| {
                company
                    .products
                    .values()
                    .map(|product| Value::Object(product.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// `GET /sandbox/api/connect/{company}/products`.
pub async fn control_list(State(sandbox): State<Sandbox>, Path(company): Path<String>) -> Response {
    if !sandbox.world().companies.contains_key(&company) {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "message": format!("There is no Connect company '{company}' on this sandbox.") })),
        )
            .into_response();
    }
    Json(sandbox.connect_products(&company)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(product: Value) -> Vec<String> {
        let mut problems = Problems::default();
        check_product("products[0]", &product, &mut problems);
        let mut problems: Vec<String> = problems
            .0
            .into_iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect();
        problems.sort();
        problems
    }

    #[test]
    fn a_complete_product_passes() {
        let product = json!({
            "id": "iphone14pro",
            "titles": [{"locale": "en_US", "value": "iPhone 14 pro"}],
            "brand": "APPLE",
            "category": {"id": "Smartphone", "labels": [{"locale": "en_US", "value": "Smartphone"}]},
            "gtins": [{"value": "0194252034279"}],
            "images": [{"url": "https://picsum.photos/200"}],
            "attributes": [{"id": "storage", "name": "storage", "type": "NUMERIC", "value": 256}],
            "quantities": [{"available_quantity": 65}],
            "standard_prices": [{"price": {"amount": 1329, "currency": "EUR"}}],
            "discount_prices": [{"price": {"amount": "1299.99", "currency": "EUR"}, "start_date": "2025-01-01T10:00:00Z"}],
        });
        assert_eq!(problems_of(product), Vec::<String>::new());
    }

    #[test]
    fn each_problem_is_reported_at_its_field() {
        let problems = problems_of(json!({
            "gtins": [{"value": "12345"}],
            "standard_prices": [{"price": {"amount": -1, "currency": "EURO"}}],
            "quantities": [],
        }));
        assert_eq!(
            problems,
            [
                "products[0].gtins[0].value: must be a GTIN of 8, 12 or 13 digits",
                "products[0].id: is required",
                "products[0].quantities: must have 1 to 20 items",
                "products[0].standard_prices[0].price.amount: must be a number of 0 or more",
                "products[0].standard_prices[0].price.currency: must be an ISO 4217 currency code, e.g. EUR",
            ]
        );
    }
}
