//! `products/categories` and `products/tags` of `wp-json/wc/v3`: one resource for both
//! taxonomies, picked at the route (`Terms<Tags>`), as core serves both with one terms
//! controller. Terms have no trash, so deleting one needs `force=true`.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::Value;

use crate::Sandbox;
use crate::woo::model::{Taxonomy, Term, WooStore, slugify};
use crate::woo::resource::{self, InStore, ListQuery, RestResource};
use crate::woo::rest::{Fields, QueryParams, RestError};
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

/// A taxonomy's terms as a REST resource.
pub struct Terms<K>(PhantomData<K>);

/// `/{route}` and `/{route}/{id}` of a taxonomy, with the methods core registers, in its order
/// (an item is edited with POST, PUT or PATCH). Terms have no batch route here.
pub fn routes<K: Kind>() -> Router<Sandbox> {
    let collection = format!("/{}", Terms::<K>::ROUTE);
    let item = format!("{collection}/{{id}}");
    Router::new()
        .route(
            &collection,
            get(resource::list::<Terms<K>>).post(resource::create::<Terms<K>>),
        )
        .route(
            &item,
            get(resource::get_one::<Terms<K>>)
                .post(resource::update::<Terms<K>>)
                .put(resource::update::<Terms<K>>)
                .patch(resource::update::<Terms<K>>)
                .delete(resource::delete::<Terms<K>>),
        )
}

impl<K: Kind> RestResource for Terms<K> {
    const ROUTE: &'static str = K::TAXONOMY.route();
    type Scope = InStore;
    type Filter = TermFilter<K>;

    fn items(store: &WooStore, _: InStore) -> &BTreeMap<i64, Term> {
        K::TAXONOMY.terms(store)
    }

    fn unknown_id() -> RestError {
        invalid_term()
    }

    fn create(store: &mut WooStore, _: InStore, fields: &Fields<'_>) -> Result<i64, RestError> {
        let taxonomy = K::TAXONOMY;
        let mut fields = TermFields::of(fields, taxonomy)?;
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
        Ok(id)
    }

    fn update(
        store: &mut WooStore,
        _: InStore,
        id: i64,
        fields: &Fields<'_>,
    ) -> Result<(), RestError> {
        let fields = TermFields::of(fields, K::TAXONOMY)?;
        let term = K::TAXONOMY
            .terms_mut(store)
            .get_mut(&id)
            .ok_or_else(invalid_term)?;
        fields.apply(term);
        Ok(())
    }

    fn delete(
        store: &mut WooStore,
        _: InStore,
        id: i64,
        force: bool,
        _: &str,
    ) -> Result<Value, RestError> {
        let taxonomy = K::TAXONOMY;
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
        Ok(body)
    }

    fn render(store: &WooStore, term: &Term, _: &str) -> Value {
        term_json(store, K::TAXONOMY, term)
    }
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
pub struct TermFilter<K> {
    include: Vec<i64>,
    exclude: Vec<i64>,
    parent: Option<i64>,
    search: Option<String>,
    slug: Option<String>,
    taxonomy: PhantomData<K>,
}

impl<K: Kind> ListQuery for TermFilter<K> {
    type Item = Term;

    fn from_query(query: &QueryParams) -> Result<Self, RestError> {
        Ok(Self {
            include: query.ids("include")?,
            exclude: query.ids("exclude")?,
            parent: parent(K::TAXONOMY, || query.integer("parent"))?,
            search: query.value("search").map(str::to_lowercase),
            slug: query.value("slug").map(str::to_owned),
            taxonomy: PhantomData,
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

    /// `orderby` (default `name`, as core) and `order` (default `asc`). `include`, `include_slugs`
    /// and `term_group` fall back to id order: every term's group is 0 here.
    fn sort(
        &self,
        items: &mut [&Term],
        store: &WooStore,
        query: &QueryParams,
    ) -> Result<(), RestError> {
        let descending = query.descending("asc")?;
        match query.one_of("orderby", &TERM_ORDERBY)?.unwrap_or("name") {
            "name" => items.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id))),
            "slug" => items.sort_by(|a, b| a.slug.cmp(&b.slug).then(a.id.cmp(&b.id))),
            "description" => {
                items.sort_by(|a, b| a.description.cmp(&b.description).then(a.id.cmp(&b.id)));
            }
            "count" => items.sort_by_key(|term| (term_count(store, K::TAXONOMY, term.id), term.id)),
            _ => items.sort_by_key(|term| term.id),
        }
        if descending {
            items.reverse();
        }
        Ok(())
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
