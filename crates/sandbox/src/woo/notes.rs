//! `orders/{id}/notes` of `wp-json/wc/v3`: an order's notes (WordPress comments), listed newest
//! first (`type` any, customer or internal), read, added and deleted, as core's notes
//! controller serves them. Core writes notes of its own, shown with the author `system`: every
//! status change (`orders::transition`) and every item a refund restocks (`refunds`).
//!
//! A note is no change to the order: it fires no webhook and leaves `date_modified` as it was.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::Sandbox;
use crate::values::clock::now;
use crate::woo::model::{WooStore, format_date};
use crate::woo::parse_id;
use crate::woo::resource::require_force;
use crate::woo::rest::{
    Fields, QueryParams, RestError, RestResult, created_response, json_response, parse_body,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub id: i64,
    /// The user who wrote it; `None` for core's own ("system").
    pub author: Option<String>,
    pub note: String,
    /// Shown to the customer, who is e-mailed about it.
    pub customer_note: bool,
    pub created: OffsetDateTime,
}

impl WooStore {
    /// Adds a note to an order; its id, or `None` when the order does not exist.
    pub fn add_note(
        &mut self,
        order_id: i64,
        note: &str,
        customer_note: bool,
        author: Option<String>,
    ) -> Option<i64> {
        if !self.orders.contains_key(&order_id) {
            return None;
        }
        let id = self.next_comment_id();
        let order = self.orders.get_mut(&order_id)?;
        order.notes.push(Note {
            id,
            author,
            note: note.to_owned(),
            customer_note,
            created: now(),
        });
        Some(id)
    }
}

pub fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/orders/{id}/notes", get(list).post(create))
        .route("/orders/{id}/notes/{note}", get(read).delete(delete))
}

fn note_json(note: &Note, order_id: i64, store_url: &str) -> Value {
    let collection = format!("{store_url}/wp-json/wc/v3/orders/{order_id}/notes");
    json!({
        "id": note.id,
        "author": note.author.as_deref().unwrap_or("system"),
        "date_created": format_date(note.created),
        "date_created_gmt": format_date(note.created),
        "note": note.note,
        "customer_note": note.customer_note,
        "_links": {
            "self": [{ "href": format!("{collection}/{}", note.id) }],
            "collection": [{ "href": collection }],
            "up": [{ "href": format!("{store_url}/wp-json/wc/v3/orders/{order_id}") }],
        },
    })
}

/// Reading notes names an order by `woocommerce_rest_shop_order_invalid_id`, adding one by
/// `woocommerce_rest_order_invalid_id`: core's two methods say it differently.
fn invalid_order(code: &str) -> RestError {
    RestError::new(StatusCode::NOT_FOUND, code, "Invalid order ID.")
}

fn invalid_note() -> RestError {
    RestError::new(
        StatusCode::NOT_FOUND,
        "woocommerce_rest_invalid_id",
        "Invalid resource ID.",
    )
}

/// `GET orders/{id}/notes?type=any|customer|internal`: every note, newest first, unpaged.
async fn list(
    State(sandbox): State<Sandbox>,
    Path((code, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> RestResult {
    let order_id = parse_id(&id)?;
    let query = QueryParams::parse(raw.as_deref());
    let kind = query
        .one_of("type", &["any", "customer", "internal"])?
        .unwrap_or("any");
    let world = sandbox.world();
    let (store, url) = crate::woo::store(&world, &code)?;
    let order = store
        .orders
        .get(&order_id)
        .ok_or_else(|| invalid_order("woocommerce_rest_shop_order_invalid_id"))?;
    let notes: Vec<Value> = order
        .notes
        .iter()
        .rev()
        .filter(|note| match kind {
            "customer" => note.customer_note,
            "internal" => !note.customer_note,
            _ => true,
        })
        .map(|note| note_json(note, order_id, &url))
        .collect();
    Ok(json_response(StatusCode::OK, Value::Array(notes)))
}

async fn read(
    State(sandbox): State<Sandbox>,
    Path((code, id, note)): Path<(String, String, String)>,
) -> RestResult {
    let (order_id, note_id) = (parse_id(&id)?, parse_id(&note)?);
    let world = sandbox.world();
    let (store, url) = crate::woo::store(&world, &code)?;
    let order = store
        .orders
        .get(&order_id)
        .ok_or_else(|| invalid_order("woocommerce_rest_shop_order_invalid_id"))?;
    let note = order
        .notes
        .iter()
        .find(|note| note.id == note_id)
        .ok_or_else(invalid_note)?;
    Ok(json_response(
        StatusCode::OK,
        note_json(note, order_id, &url),
    ))
}

/// `POST orders/{id}/notes {note, customer_note?, added_by_user?}` → 201: the note is the
/// system's unless `added_by_user`, then the admin's (whose key calls).
async fn create(
    State(sandbox): State<Sandbox>,
    Path((code, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let order_id = parse_id(&id)?;
    let body = parse_body(&headers, &body)?;
    let fields = Fields::of(&body)?;
    if fields.has("id") {
        return Err(RestError::new(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_shop_order_exists",
            "Cannot create existing shop_order.",
        ));
    }
    let note = fields.string("note")?.ok_or_else(|| {
        RestError::new(
            StatusCode::BAD_REQUEST,
            "rest_missing_callback_param",
            "Missing parameter(s): note",
        )
    })?;
    let customer_note = fields.boolean("customer_note")?.unwrap_or(false);
    let by_user = fields.boolean("added_by_user")?.unwrap_or(false);
    sandbox.woo_write(&code, |store, url| {
        let author = by_user.then(|| store.admin.login.clone());
        let note_id = store
            .add_note(order_id, &note, customer_note, author)
            .ok_or_else(|| invalid_order("woocommerce_rest_order_invalid_id"))?;
        let note = store.orders[&order_id].notes.last().expect("just added");
        Ok(created_response(
            url,
            &format!("orders/{order_id}/notes"),
            note_id,
            note_json(note, order_id, url),
        ))
    })
}

/// `DELETE orders/{id}/notes/{note}?force=true`: notes cannot be trashed.
async fn delete(
    State(sandbox): State<Sandbox>,
    Path((code, id, note)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let (order_id, note_id) = (parse_id(&id)?, parse_id(&note)?);
    // Core's notes controller says so, copied from its webhooks controller.
    require_force(
        raw.as_deref(),
        &headers,
        &body,
        false,
        "Webhooks do not support trashing.",
    )?;
    sandbox.woo_write(&code, |store, url| {
        let order = store
            .orders
            .get_mut(&order_id)
            .ok_or_else(|| invalid_order("woocommerce_rest_shop_order_invalid_id"))?;
        let index = order
            .notes
            .iter()
            .position(|note| note.id == note_id)
            .ok_or_else(invalid_note)?;
        let note = order.notes.remove(index);
        Ok(json_response(
            StatusCode::OK,
            note_json(&note, order_id, url),
        ))
    })
}
