//! The one implementation of the `wp-json/wc/v3` collection handlers — list, read, create,
//! update, delete and batch — that products, variations, orders, webhooks and terms share, as
//! core's CRUD controller serves them all. A resource says only what differs: how it filters a
//! list, and how it finds, creates, updates, deletes and renders one item ([`RestResource`]).

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::Sandbox;
use crate::woo::delivery::ping;
use crate::woo::model::WooStore;
use crate::woo::parse_id;
use crate::woo::rest::{
    Batch, Fields, Paging, QueryParams, RestError, RestResult, batch_entry, created_response,
    json_response, parse_body,
};

/// Where a collection sits, read from its route's path: straight under the store, or under one
/// product.
pub trait Scope: Copy + Send + Sync + 'static {
    /// The collection route's path parameters, the store code first.
    type CollectionPath: DeserializeOwned + Send + 'static;
    /// The item route's path parameters.
    type ItemPath: DeserializeOwned + Send + 'static;
    /// The item's parameter in the item route (distinct from the collection's own).
    const ITEM: &'static str;

    /// A route with this scope's parameters filled in, for `Link` and `Location`.
    fn fill(self, route: &str) -> String;

    fn collection(path: Self::CollectionPath) -> Result<(String, Self), RestError>;
    fn item(path: Self::ItemPath) -> Result<(String, Self, i64), RestError>;
}

/// A collection straight under the store: `/products`, `/orders`, `/webhooks`, the terms.
#[derive(Debug, Clone, Copy)]
pub struct InStore;

impl Scope for InStore {
    type CollectionPath = String;
    type ItemPath = (String, String);
    const ITEM: &'static str = "{id}";

    fn fill(self, route: &str) -> String {
        route.to_owned()
    }

    fn collection(code: String) -> Result<(String, Self), RestError> {
        Ok((code, InStore))
    }

    fn item((code, id): (String, String)) -> Result<(String, Self, i64), RestError> {
        Ok((code, InStore, parse_id(&id)?))
    }
}

/// A collection under one product, `/products/{id}/variations`: the parent's id.
#[derive(Debug, Clone, Copy)]
pub struct UnderProduct(pub i64);

impl Scope for UnderProduct {
    type CollectionPath = (String, String);
    type ItemPath = (String, String, String);
    const ITEM: &'static str = "{variation}";

    fn fill(self, route: &str) -> String {
        route.replace("{id}", &self.0.to_string())
    }

    fn collection((code, parent): (String, String)) -> Result<(String, Self), RestError> {
        Ok((code, UnderProduct(parse_id(&parent)?)))
    }

    fn item(
        (code, parent, id): (String, String, String),
    ) -> Result<(String, Self, i64), RestError> {
        Ok((code, UnderProduct(parse_id(&parent)?), parse_id(&id)?))
    }
}

/// What a list asks for: its filters, read from the query before the store is locked, and its
/// order.
pub trait ListQuery: Sized {
    /// What the list holds: the resource's items.
    type Item: 'static;

    fn from_query(query: &QueryParams) -> Result<Self, RestError>;

    fn admits(&self, item: &Self::Item) -> bool;

    /// Puts the admitted items in the list's order (`orderby`, `order`).
    fn sort(
        &self,
        items: &mut [&Self::Item],
        store: &WooStore,
        query: &QueryParams,
    ) -> Result<(), RestError>;
}

/// The items of a resource.
pub type Item<R> = <<R as RestResource>::Filter as ListQuery>::Item;

/// What one REST resource does its own way; [`routes`] serves it.
pub trait RestResource: Send + Sync + 'static {
    /// The collection's route under `wp-json/wc/v3/`, with its scope's parameters as the router
    /// names them, e.g. `products/{id}/variations`.
    const ROUTE: &'static str;
    /// Whether a 201 names the new item in `Location` (a variation's has none).
    const LOCATES_CREATED: bool = true;
    type Scope: Scope;
    /// What a list asks for, and so what the resource's items are ([`Item`]).
    type Filter: ListQuery;

    /// The store's items of this resource, by id.
    fn items(store: &WooStore, scope: Self::Scope) -> &BTreeMap<i64, Item<Self>>;

    /// The answer to an id none of them has.
    fn unknown_id() -> RestError;

    /// One item, as `GET …/{id}` finds it.
    fn find(store: &WooStore, scope: Self::Scope, id: i64) -> Result<&Item<Self>, RestError> {
        Self::items(store, scope)
            .get(&id)
            .ok_or_else(Self::unknown_id)
    }

    /// Every item a list may show, before its filters.
    fn collection(
        store: &WooStore,
        scope: Self::Scope,
    ) -> Result<impl Iterator<Item = &Item<Self>>, RestError> {
        Ok(Self::items(store, scope).values())
    }

    /// Creates one item from a body; its id.
    fn create(
        store: &mut WooStore,
        scope: Self::Scope,
        fields: &Fields<'_>,
    ) -> Result<i64, RestError>;

    fn update(
        store: &mut WooStore,
        scope: Self::Scope,
        id: i64,
        fields: &Fields<'_>,
    ) -> Result<(), RestError>;

    /// Deletes one item, or trashes it unless `force`: the body the answer shows.
    fn delete(
        store: &mut WooStore,
        scope: Self::Scope,
        id: i64,
        force: bool,
        url: &str,
    ) -> Result<Value, RestError>;

    /// One item as the API shows it.
    fn render(store: &WooStore, item: &Item<Self>, url: &str) -> Value;

    /// Checked before a batch touches any entry (variations: the parent must exist).
    fn check_scope(_store: &WooStore, _scope: Self::Scope) -> Result<(), RestError> {
        Ok(())
    }

    /// Where a new item is pinged once it is stored (a webhook's delivery URL).
    fn ping_url(_store: &WooStore, _id: i64) -> Option<String> {
        None
    }
}

/// The routes core registers for a resource: the collection (GET lists, POST creates), the batch
/// (POST, PUT, PATCH) and the item (GET reads; PUT, PATCH and POST update; DELETE deletes). The
/// methods are added in that order because a refused method's answer lists them so (`Allow`).
pub fn routes<R: RestResource>() -> Router<Sandbox> {
    let collection = format!("/{}", R::ROUTE);
    let item = format!("{collection}/{}", <R::Scope as Scope>::ITEM);
    Router::new()
        .route(&collection, get(list::<R>).post(create::<R>))
        .route(
            &format!("{collection}/batch"),
            post(batch::<R>).put(batch::<R>).patch(batch::<R>),
        )
        .route(
            &item,
            get(get_one::<R>)
                .put(update::<R>)
                .patch(update::<R>)
                .post(update::<R>)
                .delete(delete::<R>),
        )
}

/// `force` from the query or the body, `default` when neither has it.
pub fn force(query: &QueryParams, body: &Value, default: bool) -> Result<bool, RestError> {
    if let Some(force) = query.boolean("force")? {
        return Ok(force);
    }
    Ok(Fields::of(body)?.boolean("force")?.unwrap_or(default))
}

/// For what cannot be trashed (an order's notes and refunds): a delete without `force`
/// (`default` when the request has none) is refused with 501 and core's `message`.
pub fn require_force(
    raw_query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
    default: bool,
    message: &str,
) -> Result<(), RestError> {
    let forced = force(
        &QueryParams::parse(raw_query),
        &parse_body(headers, body)?,
        default,
    )?;
    if forced {
        Ok(())
    } else {
        Err(RestError::new(
            StatusCode::NOT_IMPLEMENTED,
            "woocommerce_rest_trash_not_supported",
            message,
        ))
    }
}

/// An item just written, as the answer shows it.
fn stored<R: RestResource>(
    store: &WooStore,
    scope: R::Scope,
    id: i64,
    url: &str,
) -> Result<Value, RestError> {
    Ok(R::render(store, R::find(store, scope, id)?, url))
}

/// Pings each new item's URL, once the store is unlocked.
async fn ping_all(pings: Vec<(String, i64)>) {
    for (url, id) in pings {
        ping(&url, id).await;
    }
}

pub async fn list<R: RestResource>(
    State(sandbox): State<Sandbox>,
    Path(path): Path<<R::Scope as Scope>::CollectionPath>,
    RawQuery(raw): RawQuery,
) -> RestResult {
    let (code, scope) = R::Scope::collection(path)?;
    let query = QueryParams::parse(raw.as_deref());
    let paging = Paging::from_query(&query)?;
    let filter = R::Filter::from_query(&query)?;
    let world = sandbox.world();
    let (store, url) = crate::woo::store(&world, &code)?;
    let mut items: Vec<&Item<R>> = R::collection(store, scope)?
        .filter(|item| filter.admits(item))
        .collect();
    filter.sort(&mut items, store, &query)?;
    Ok(paging.respond(
        items,
        &format!("{url}/wp-json/wc/v3/{}", scope.fill(R::ROUTE)),
        &query,
        |item| R::render(store, item, &url),
    ))
}

pub async fn get_one<R: RestResource>(
    State(sandbox): State<Sandbox>,
    Path(path): Path<<R::Scope as Scope>::ItemPath>,
) -> RestResult {
    let (code, scope, id) = R::Scope::item(path)?;
    let world = sandbox.world();
    let (store, url) = crate::woo::store(&world, &code)?;
    let item = R::find(store, scope, id)?;
    Ok(json_response(StatusCode::OK, R::render(store, item, &url)))
}

pub async fn create<R: RestResource>(
    State(sandbox): State<Sandbox>,
    Path(path): Path<<R::Scope as Scope>::CollectionPath>,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let (code, scope) = R::Scope::collection(path)?;
    let body = parse_body(&headers, &body)?;
    let fields = Fields::of(&body)?;
    let (response, pings) = sandbox.woo_write(&code, |store, url| {
        let id = R::create(store, scope, &fields)?;
        let body = stored::<R>(store, scope, id, url)?;
        let response = if R::LOCATES_CREATED {
            created_response(url, &scope.fill(R::ROUTE), id, body)
        } else {
            json_response(StatusCode::CREATED, body)
        };
        let pings: Vec<(String, i64)> = R::ping_url(store, id)
            .map(|url| (url, id))
            .into_iter()
            .collect();
        Ok((response, pings))
    })?;
    ping_all(pings).await;
    Ok(response)
}

pub async fn update<R: RestResource>(
    State(sandbox): State<Sandbox>,
    Path(path): Path<<R::Scope as Scope>::ItemPath>,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let (code, scope, id) = R::Scope::item(path)?;
    let body = parse_body(&headers, &body)?;
    let fields = Fields::of(&body)?;
    sandbox.woo_write(&code, |store, url| {
        R::update(store, scope, id, &fields)?;
        Ok(json_response(
            StatusCode::OK,
            stored::<R>(store, scope, id, url)?,
        ))
    })
}

pub async fn delete<R: RestResource>(
    State(sandbox): State<Sandbox>,
    Path(path): Path<<R::Scope as Scope>::ItemPath>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let (code, scope, id) = R::Scope::item(path)?;
    let force = force(
        &QueryParams::parse(raw.as_deref()),
        &parse_body(&headers, &body)?,
        false,
    )?;
    sandbox.woo_write(&code, |store, url| {
        R::delete(store, scope, id, force, url).map(|body| json_response(StatusCode::OK, body))
    })
}

async fn batch<R: RestResource>(
    State(sandbox): State<Sandbox>,
    Path(path): Path<<R::Scope as Scope>::CollectionPath>,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let (code, scope) = R::Scope::collection(path)?;
    let body = parse_body(&headers, &body)?;
    let batch = Batch::parse(&body)?;
    let (answer, pings) = sandbox.woo_write(&code, |store, url| {
        R::check_scope(store, scope)?;
        let mut answer = json!({});
        let mut pings = Vec::new();
        if !batch.create.is_empty() {
            answer["create"] = batch
                .create
                .iter()
                .map(|entry| {
                    let result = Fields::of(entry)
                        .and_then(|fields| R::create(store, scope, &fields))
                        .and_then(|id| {
                            pings.extend(R::ping_url(store, id).map(|url| (url, id)));
                            stored::<R>(store, scope, id, url)
                        });
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
                        .and_then(|fields| R::update(store, scope, id, &fields))
                        .and_then(|()| stored::<R>(store, scope, id, url));
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
                    batch_entry(id, R::delete(store, scope, id, true, url))
                })
                .collect();
        }
        Ok((answer, pings))
    })?;
    ping_all(pings).await;
    Ok(json_response(StatusCode::OK, answer))
}
