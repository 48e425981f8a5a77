//! `products/categories` and `products/tags` of `wp-json/wc/v3`: one set of handlers for both
//! taxonomies, picked at the route (`list::<Tags>`), as core serves both with one terms
//! controller. Terms have no trash, so deleting one needs `force=true`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde_json::Value;

use crate::Sandbox;
use crate::woo::model::{Taxonomy, Term, WooStore, slugify};
use crate::woo::parse_id;
use crate::woo::products::force;
use crate::woo::rest::{
    Fields, Paging, QueryParams, RestError, RestResult, created_response, json_response, parse_body,
};
use crate::woo::views::{term_count, term_json};

/// Which taxonomy a route serves: [`Categories`] or [`Tags`].
pub trait Kind: Send + Sync + 'static {
    const TAXONOMY: Taxonomy;
}

pub struct Categories;

impl Kind for Categories {
    const TAXONOMY: Taxonomy = Taxonomy::Category;
}

pub struct Tags;

impl Kind for Tags {
    const TAXONOMY: Taxonomy = Taxonomy::Tag;
}

/// `/{route}` and `/{route}/{id}` of a taxonomy, with the methods core registers (an item is
/// edited with POST, PUT or PATCH).
pub fn routes<K: Kind>() -> Router<Sandbox> {
    let collection = format!("/{}", K::TAXONOMY.route());
    let item = format!("{collection}/{{id}}");
    Router::new()
        .route(&collection, get(list::<K>).post(create::<K>))
        .route(
            &item,
            get(get_one::<K>)
                .post(update::<K>)
                .put(update::<K>)
                .patch(update::<K>)
                .delete(delete::<K>),
        )
}

/// The ids a product write names in `categories` or `tags` (`[{"id": N}, …]`): core's products
/// controller reads only each entry's `id` and skips the ids the taxonomy does not know.
pub fn named_ids(store: &WooStore, taxonomy: Taxonomy, entries: &[Value]) -> Vec<i64> {
    let mut ids = Vec::new();
    for id in entries
        .iter()
        .filter_map(|entry| Fields::of(entry).ok()?.integer("id").ok()?)
    {
        if taxonomy.terms(store).contains_key(&id) && !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

fn invalid_term() -> RestError {
    RestError::new(
        StatusCode::NOT_FOUND,
        "woocommerce_rest_term_invalid",
        "Resource does not exist.",
    )
}

/// `parent`, read for categories only: tags have no such parameter, so core ignores it.
fn parent(
    taxonomy: Taxonomy,
    read: impl FnOnce() -> Result<Option<i64>, RestError>,
) -> Result<Option<i64>, RestError> {
    if taxonomy.is_hierarchical() {
        read()
    } else {
        Ok(None)
    }
}

/// The filters of a term list: `include`, `exclude`, `search` (in the name), `slug`, and
/// `parent` for categories (tags have no such parameter).
struct TermFilter {
    include: Vec<i64>,
    exclude: Vec<i64>,
    parent: Option<i64>,
    search: Option<String>,
    slug: Option<String>,
}

impl TermFilter {
    fn from_query(query: &QueryParams, taxonomy: Taxonomy) -> Result<Self, RestError> {
        Ok(Self {
            include: query.ids("include")?,
            exclude: query.ids("exclude")?,
            parent: parent(taxonomy, || query.integer("parent"))?,
            search: query.value("search").map(str::to_lowercase),
            slug: query.value("slug").map(str::to_owned),
        })
    }

    fn admits(&self, term: &Term) -> bool {
        (self.include.is_empty() || self.include.contains(&term.id))
            && !self.exclude.contains(&term.id)
            && self.parent.is_none_or(|parent| term.parent == parent)
            && self
                .search
                .as_deref()
                .is_none_or(|needle| term.name.to_lowercase().contains(needle))
            && self.slug.as_deref().is_none_or(|slug| term.slug == slug)
    }
}

/// The `orderby` values core accepts for terms.
const TERM_ORDERBY: [&str; 8] = [
    "id",
    "include",
    "name",
    "slug",
    "include_slugs",
    "term_group",
    "description",
    "count",
];

/// `orderby` (default `name`, as core) and `order` (default `asc`). `include`, `include_slugs`
/// and `term_group` fall back to id order: every term's group is 0 here.
fn sort_terms(
    items: &mut [&Term],
    store: &WooStore,
    taxonomy: Taxonomy,
    query: &QueryParams,
) -> Result<(), RestError> {
    let descending = query.descending("asc")?;
    match query.one_of("orderby", &TERM_ORDERBY)?.unwrap_or("name") {
        "name" => items.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id))),
        "slug" => items.sort_by(|a, b| a.slug.cmp(&b.slug).then(a.id.cmp(&b.id))),
        "description" => {
            items.sort_by(|a, b| a.description.cmp(&b.description).then(a.id.cmp(&b.id)));
        }
        "count" => items.sort_by_key(|term| (term_count(store, taxonomy, term.id), term.id)),
        _ => items.sort_by_key(|term| term.id),
    }
    if descending {
        items.reverse();
    }
    Ok(())
}

pub async fn list<K: Kind>(
    State(sandbox): State<Sandbox>,
    Path(code): Path<String>,
    RawQuery(raw): RawQuery,
) -> RestResult {
    let taxonomy = K::TAXONOMY;
    let query = QueryParams::parse(raw.as_deref());
    let paging = Paging::from_query(&query)?;
    let filter = TermFilter::from_query(&query, taxonomy)?;
    let world = sandbox.world();
    let (store, url) = crate::woo::store(&world, &code)?;
    let mut items: Vec<&Term> = taxonomy
        .terms(store)
        .values()
        .filter(|term| filter.admits(term))
        .collect();
    sort_terms(&mut items, store, taxonomy, &query)?;
    Ok(paging.respond(
        items,
        &format!("{url}/wp-json/wc/v3/{}", taxonomy.route()),
        &query,
        |term| term_json(store, taxonomy, term),
    ))
}

pub async fn get_one<K: Kind>(
    State(sandbox): State<Sandbox>,
    Path((code, id)): Path<(String, String)>,
) -> RestResult {
    let taxonomy = K::TAXONOMY;
    let id = parse_id(&id)?;
    let world = sandbox.world();
    let (store, _) = crate::woo::store(&world, &code)?;
    let term = taxonomy.terms(store).get(&id).ok_or_else(invalid_term)?;
    Ok(json_response(
        StatusCode::OK,
        term_json(store, taxonomy, term),
    ))
}

/// The writable fields of a term body; `None` leaves a field as it is.
struct TermFields {
    name: Option<String>,
    slug: Option<String>,
    description: Option<String>,
    parent: Option<i64>,
}

impl TermFields {
    fn of(fields: &Fields<'_>, taxonomy: Taxonomy) -> Result<Self, RestError> {
        Ok(Self {
            name: fields.string("name")?,
            slug: fields.string("slug")?.map(|slug| slugify(&slug)),
            description: fields.string("description")?,
            parent: parent(taxonomy, || fields.integer("parent"))?,
        })
    }

    fn apply(self, term: &mut Term) {
        if let Some(name) = self.name {
            term.name = name;
        }
        if let Some(slug) = self.slug {
            term.slug = slug;
        }
        if let Some(description) = self.description {
            term.description = description;
        }
        if let Some(parent) = self.parent {
            term.parent = parent;
        }
    }
}

pub async fn create<K: Kind>(
    State(sandbox): State<Sandbox>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let taxonomy = K::TAXONOMY;
    let body = parse_body(&headers, &body)?;
    let mut fields = TermFields::of(&Fields::of(&body)?, taxonomy)?;
    let name = fields
        .name
        .clone()
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| {
            RestError::new(
                StatusCode::BAD_REQUEST,
                "rest_missing_callback_param",
                "Missing parameter(s): name",
            )
        })?;
    let slug = fields.slug.take().unwrap_or_else(|| slugify(&name));
    sandbox.woo_write(&code, |store, url| {
        if taxonomy.terms(store).values().any(|term| term.slug == slug) {
            return Err(RestError::new(
                StatusCode::BAD_REQUEST,
                "term_exists",
                "A term with the name provided already exists with this parent.",
            ));
        }
        let id = store.add_term(taxonomy, &name);
        if let Some(term) = taxonomy.terms_mut(store).get_mut(&id) {
            term.slug = slug;
            fields.apply(term);
        }
        let body = term_json(store, taxonomy, &taxonomy.terms(store)[&id]);
        Ok(created_response(url, taxonomy.route(), id, body))
    })
}

pub async fn update<K: Kind>(
    State(sandbox): State<Sandbox>,
    Path((code, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let taxonomy = K::TAXONOMY;
    let id = parse_id(&id)?;
    let body = parse_body(&headers, &body)?;
    let fields = TermFields::of(&Fields::of(&body)?, taxonomy)?;
    sandbox.woo_write(&code, |store, _| {
        let term = taxonomy
            .terms_mut(store)
            .get_mut(&id)
            .ok_or_else(invalid_term)?;
        fields.apply(term);
        Ok(json_response(
            StatusCode::OK,
            term_json(store, taxonomy, &taxonomy.terms(store)[&id]),
        ))
    })
}

pub async fn delete<K: Kind>(
    State(sandbox): State<Sandbox>,
    Path((code, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let taxonomy = K::TAXONOMY;
    let id = parse_id(&id)?;
    let force = force(
        &QueryParams::parse(raw.as_deref()),
        &parse_body(&headers, &body)?,
    )?;
    sandbox.woo_write(&code, |store, _| {
        let term = taxonomy.terms(store).get(&id).ok_or_else(invalid_term)?;
        if !force {
            return Err(RestError::new(
                StatusCode::NOT_IMPLEMENTED,
                "woocommerce_rest_trash_not_supported",
                "Resource does not support trashing.",
            ));
        }
        let body = term_json(store, taxonomy, term);
        taxonomy.terms_mut(store).remove(&id);
        for product in store.products.values_mut() {
            taxonomy.of_mut(product).retain(|assigned| *assigned != id);
        }
        Ok(json_response(StatusCode::OK, body))
    })
}
