//! **Product creation** for a marketplace channel whose marketplace knows products only by the
//! seller's SKU: the page where the seller says where each marketplace attribute (PM11) is read
//! on a product, and which marketplace category (H11) each shop category is. A saved mapping
//! turns product creation on for the channel (the sync in `sync` then sends P41 product files
//! and names offers by SKU); **Stop creating products** deletes it, which turns it off.
//!
//! The marketplace's attributes and categories are always those read from Mirakl
//! ([`configuration`]), never what the browser sends back.

mod configuration;

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::catalog::{ColumnSource, MappingError, ProductMapping};
use domain::{ChannelKind, WorkspaceId};
use serde::Deserialize;
use storage::{Channel, now_ms};

pub use self::configuration::ConfigurationCache;
use self::configuration::{CatalogConfiguration, ReadError};
use crate::AppState;
use crate::error::WebError;
use crate::form::Form;
use crate::session::{Session, SignedIn};
use crate::ui::channels::load_channel;
use crate::ui::products::state_label;
use crate::ui::{Nav, render};

/// Catalog items read at a time while collecting the shop's categories.
const CATALOG_PAGE: i64 = 1000;

/// The choices of a column's **Read from** select: the form's value and the label shown.
const SOURCES: [(&str, &str); 11] = [
    ("sku", "SKU"),
    ("title", "Title"),
    ("description", "Description"),
    ("brand", "Brand"),
    ("gtin", "GTIN"),
    ("main_image", "Main image"),
    ("category", "Category"),
    ("attribute", "Product attribute…"),
    ("meta", "Custom field…"),
    ("fixed", "Fixed value…"),
    ("nothing", "Nothing"),
];

/// The select's value for a source, and the text its input holds.
fn source_choice(source: &ColumnSource) -> (&'static str, &str) {
    match source {
        ColumnSource::Sku => ("sku", ""),
        ColumnSource::Title => ("title", ""),
        ColumnSource::Description => ("description", ""),
        ColumnSource::Brand => ("brand", ""),
        ColumnSource::Gtin => ("gtin", ""),
        ColumnSource::MainImage => ("main_image", ""),
        ColumnSource::Category => ("category", ""),
        ColumnSource::Attribute(name) => ("attribute", name),
        ColumnSource::Meta(key) => ("meta", key),
        ColumnSource::Fixed(value) => ("fixed", value),
        ColumnSource::Nothing => ("nothing", ""),
    }
}

/// The source a select's value and its input's text mean; `None` for a value the page does
/// not offer.
fn source_from_choice(choice: &str, text: &str) -> Option<ColumnSource> {
    let text = text.trim().to_owned();
    Some(match choice {
        "sku" => ColumnSource::Sku,
        "title" => ColumnSource::Title,
        "description" => ColumnSource::Description,
        "brand" => ColumnSource::Brand,
        "gtin" => ColumnSource::Gtin,
        "main_image" => ColumnSource::MainImage,
        "category" => ColumnSource::Category,
        "attribute" => ColumnSource::Attribute(text),
        "meta" => ColumnSource::Meta(text),
        "fixed" => ColumnSource::Fixed(text),
        "nothing" => ColumnSource::Nothing,
        _ => return None,
    })
}

/// One marketplace attribute's row.
pub struct AttributeRow {
    pub code: String,
    pub label: String,
    pub required: bool,
    /// The category whose products need it, for an attribute required there only.
    pub required_in: Option<String>,
    /// A few of a list's values, for a `LIST` attribute.
    pub values: Option<String>,
    /// The select's value ([`SOURCES`]).
    pub source: &'static str,
    /// The attribute name, custom field key or fixed value.
    pub text: String,
    pub error: Option<String>,
}

/// One shop category's row, and the H11 code it is matched to (empty for none).
pub struct ShopCategoryRow {
    pub id: i64,
    pub name: String,
    pub chosen: String,
}

/// An H11 category as an option: its code and its path, "Parent › Child".
pub struct CategoryChoice {
    pub code: String,
    pub path: String,
}

/// The mapping form.
pub struct MappingView {
    /// "Nothing was saved" and how many problems, when the mapping was refused.
    pub summary: Option<String>,
    /// Problems of no one row.
    pub general_errors: Vec<String>,
    pub rows: Vec<AttributeRow>,
    pub category_errors: Vec<String>,
    pub shop_categories: Vec<ShopCategoryRow>,
    pub categories: Vec<CategoryChoice>,
    pub default_category: String,
    /// Where Brand and GTIN are read, as the product settings say.
    pub brand_source: String,
    pub gtin_source: String,
    /// Labels of saved columns whose attribute the marketplace no longer has.
    pub dropped: Vec<String>,
}

#[derive(Template)]
#[template(path = "product_creation.html")]
struct ProductCreationPage {
    nav: Nav,
    csrf_token: String,
    id: String,
    name: String,
    notice: Option<String>,
    /// Why the mapping cannot be shown, with what to do.
    problem: Option<String>,
    /// A mapping is saved: product creation is on.
    on: bool,
    counts: Vec<(&'static str, i64)>,
    mapping: Option<MappingView>,
    sources: &'static [(&'static str, &'static str)],
}

/// A marketplace channel of the signed-in seller's workspace; anything else is a 404.
async fn load_marketplace_channel(
    state: &AppState,
    me: SignedIn,
    id: &str,
) -> Result<Channel, WebError> {
    let channel = load_channel(state, me, id).await?;
    if channel.kind != ChannelKind::Marketplace {
        return Err(WebError::NotFound);
    }
    Ok(channel)
}

async fn saved_mapping(
    state: &AppState,
    channel: &Channel,
) -> Result<Option<ProductMapping>, WebError> {
    Ok(state
        .storage()
        .channel_mapping(channel.workspace_id, channel.id)
        .await?)
}

/// The shop's categories `(id, name)`, by name, as the stored catalog names them. The catalog
/// is read a page at a time (it may hold 100,000 items); only the distinct categories are kept.
async fn shop_categories(
    state: &AppState,
    ws: WorkspaceId,
) -> Result<Vec<(i64, String)>, WebError> {
    let mut found = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let page = state
            .storage()
            .catalog_page(ws, after.as_deref(), CATALOG_PAGE, false)
            .await?;
        for row in &page {
            let item = row.item()?;
            for category in item.categories {
                found.entry(category.id).or_insert(category.name);
            }
        }
        if page.len() < CATALOG_PAGE as usize {
            break;
        }
        after = page.last().map(|row| row.sku.clone());
    }
    let mut categories: Vec<(i64, String)> = found.into_iter().collect();
    categories.sort_by_cached_key(|(id, name)| (name.to_lowercase(), *id));
    Ok(categories)
}

/// A saved mapping over the marketplace's attributes and categories as just read: a column
/// whose attribute is gone is dropped, and its label returned.
fn with_fresh_lists(
    saved: ProductMapping,
    configuration: &CatalogConfiguration,
) -> (ProductMapping, Vec<String>) {
    let exists = |code: &str| configuration.attributes.iter().any(|a| a.code == code);
    let mut dropped = Vec::new();
    let mut columns = BTreeMap::new();
    for (code, source) in saved.columns {
        if exists(&code) {
            columns.insert(code, source);
        } else if source != ColumnSource::Nothing {
            let label = saved.attributes.iter().find(|a| a.code == code);
            dropped.push(label.map_or(code, |a| a.label.clone()));
        }
    }
    let mapping = ProductMapping {
        attributes: configuration.attributes.clone(),
        categories_available: configuration.categories.clone(),
        columns,
        categories: saved.categories,
        default_category: saved.default_category,
    };
    (mapping, dropped)
}

/// The form as sent, over the attributes and categories just read. `BadRequest` for a form
/// this page did not send: a field twice, a source it does not offer, a category id that is
/// not a number.
fn mapping_from_form(
    fields: &[(String, String)],
    configuration: &CatalogConfiguration,
) -> Result<ProductMapping, WebError> {
    let refuse = |what: String| {
        WebError::BadRequest(format!(
            "The mapping form could not be read: {what}. Reload the page and send it again."
        ))
    };
    let mut by_name = HashMap::with_capacity(fields.len());
    for (name, value) in fields {
        if by_name.insert(name.as_str(), value.as_str()).is_some() {
            return Err(refuse(format!("the field “{name}” came twice")));
        }
    }
    let mut columns = BTreeMap::new();
    for attribute in &configuration.attributes {
        let field = |prefix: &str| by_name.get(format!("{prefix}.{}", attribute.code).as_str());
        // An attribute the marketplace added since the page was shown is not mapped yet.
        let choice = field("source").copied().unwrap_or("nothing");
        let text = field("value").copied().unwrap_or_default();
        let source = source_from_choice(choice, text).ok_or_else(|| {
            refuse(format!(
                "“{}” is not a place “{}” can be read from",
                choice, attribute.label
            ))
        })?;
        columns.insert(attribute.code.clone(), source);
    }
    let mut categories = BTreeMap::new();
    for (name, code) in fields {
        let Some(id) = name.strip_prefix("category.") else {
            continue;
        };
        let id: i64 = id
            .parse()
            .map_err(|_| refuse(format!("“{id}” is not a category id")))?;
        if !code.trim().is_empty() {
            categories.insert(id, code.trim().to_owned());
        }
    }
    let default_category = by_name
        .get("default_category")
        .map(|code| code.trim())
        .filter(|code| !code.is_empty())
        .map(str::to_owned);
    Ok(ProductMapping {
        attributes: configuration.attributes.clone(),
        categories_available: configuration.categories.clone(),
        columns,
        categories,
        default_category,
    })
}

/// A few of a list's values, and how many more there are.
fn some_values(values: &[String]) -> Option<String> {
    const SHOWN: usize = 6;
    if values.is_empty() {
        return None;
    }
    let shown = values[..values.len().min(SHOWN)].join(", ");
    Some(match values.len().saturating_sub(SHOWN) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    })
}

/// Each category's path from its root, "Parent › Child", in the marketplace's order.
fn category_choices(configuration: &CatalogConfiguration) -> Vec<CategoryChoice> {
    let by_code: HashMap<&str, _> = configuration
        .categories
        .iter()
        .map(|c| (c.code.as_str(), c))
        .collect();
    configuration
        .categories
        .iter()
        .map(|category| {
            let mut names = vec![category.label.as_str()];
            let mut parent = category.parent_code.as_deref();
            // Bounded, so a tree that loops cannot hang the page.
            while let Some(code) = parent.filter(|_| names.len() <= by_code.len()) {
                let Some(up) = by_code.get(code) else { break };
                names.push(&up.label);
                parent = up.parent_code.as_deref();
            }
            names.reverse();
            CategoryChoice {
                code: category.code.clone(),
                path: names.join(" › "),
            }
        })
        .collect()
}

/// The form for `mapping`, each error next to what it is about.
async fn mapping_view(
    state: &AppState,
    channel: &Channel,
    configuration: &CatalogConfiguration,
    mapping: &ProductMapping,
    errors: Vec<MappingError>,
    dropped: Vec<String>,
) -> Result<MappingView, WebError> {
    let settings = crate::ui::product_settings::load(state, channel.workspace_id).await?;
    let summary = match errors.len() {
        0 => None,
        1 => Some("Nothing was saved: fix the problem shown below.".to_owned()),
        n => Some(format!(
            "Nothing was saved: fix the {n} problems shown below."
        )),
    };
    let mut by_attribute: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut general_errors = Vec::new();
    let mut category_errors = Vec::new();
    for error in errors {
        if error.attribute == "categories" {
            category_errors.push(error.message);
        } else if mapping.attributes.iter().any(|a| a.code == error.attribute) {
            by_attribute
                .entry(error.attribute)
                .or_default()
                .push(error.message);
        } else {
            general_errors.push(error.message);
        }
    }
    let rows = mapping
        .attributes
        .iter()
        .map(|attribute| {
            let (source, text) = source_choice(
                mapping
                    .columns
                    .get(&attribute.code)
                    .unwrap_or(&ColumnSource::Nothing),
            );
            AttributeRow {
                code: attribute.code.clone(),
                label: attribute.label.clone(),
                required: attribute.required,
                required_in: configuration.required_in.get(&attribute.code).cloned(),
                values: some_values(&attribute.values),
                source,
                text: text.to_owned(),
                error: by_attribute
                    .remove(&attribute.code)
                    .map(|messages| messages.join(" ")),
            }
        })
        .collect();
    let shop_categories = shop_categories(state, channel.workspace_id)
        .await?
        .into_iter()
        .map(|(id, name)| ShopCategoryRow {
            id,
            name,
            chosen: mapping.categories.get(&id).cloned().unwrap_or_default(),
        })
        .collect();
    Ok(MappingView {
        summary,
        general_errors,
        rows,
        category_errors,
        shop_categories,
        categories: category_choices(configuration),
        default_category: mapping.default_category.clone().unwrap_or_default(),
        brand_source: ColumnSource::Brand.label(&settings),
        gtin_source: ColumnSource::Gtin.label(&settings),
        dropped,
    })
}

/// The page: the problem or the form, and whether product creation is on.
async fn respond(
    state: &AppState,
    session: &Session,
    channel: &Channel,
    notice: Option<String>,
    content: Result<MappingView, String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let storage = state.storage();
    let on = storage
        .channel_mapping(channel.workspace_id, channel.id)
        .await?
        .is_some();
    let counts = if on {
        storage
            .product_state_counts(channel.workspace_id, channel.id)
            .await?
            .into_iter()
            .map(|(state, count)| (state_label(state), count))
            .collect()
    } else {
        Vec::new()
    };
    let (mapping, problem) = match content {
        Ok(view) => (Some(view), None),
        Err(problem) => (None, Some(problem)),
    };
    let page = ProductCreationPage {
        nav: Nav::for_session(session),
        csrf_token: session.csrf_token.clone(),
        id: channel.id.to_string(),
        name: channel.name.clone(),
        notice,
        problem,
        on,
        counts,
        mapping,
        sources: &SOURCES,
    };
    Ok((status, render(&page)).into_response())
}

#[derive(Deserialize, Default)]
pub struct ProductCreationQuery {
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Path(id): Path<String>,
    Query(query): Query<ProductCreationQuery>,
) -> Result<Response, WebError> {
    let channel = load_marketplace_channel(&state, me, &id).await?;
    let notice = match query.done.as_deref() {
        Some("saved") => Some(format!(
            "Mapping saved. Product creation is on: Marketbridge creates your products on {} \
             at the next sync, then sends their offers.",
            channel.name
        )),
        Some("stopped") => Some(format!(
            "Product creation is off: Marketbridge no longer creates products on {}.",
            channel.name
        )),
        _ => None,
    };
    let configuration = match configuration::read(&state, &channel).await {
        Ok(c) => c,
        Err(e) => return problem(&state, &session, &channel, notice, &e, "").await,
    };
    let (mapping, dropped) = match saved_mapping(&state, &channel).await? {
        Some(saved) => with_fresh_lists(saved, &configuration),
        None => {
            let categories: Vec<(i64, String, String)> = shop_categories(&state, me.workspace_id)
                .await?
                .into_iter()
                // The stored catalog keeps no slugs; names match the marketplace's labels.
                .map(|(id, name)| (id, name, String::new()))
                .collect();
            let suggested = ProductMapping::suggest(
                configuration.attributes.clone(),
                configuration.categories.clone(),
                &categories,
            );
            (suggested, Vec::new())
        }
    };
    let view = mapping_view(
        &state,
        &channel,
        &configuration,
        &mapping,
        Vec::new(),
        dropped,
    )
    .await?;
    respond(&state, &session, &channel, notice, Ok(view), StatusCode::OK).await
}

/// The page with why the marketplace's attributes could not be read instead of the form.
async fn problem(
    state: &AppState,
    session: &Session,
    channel: &Channel,
    notice: Option<String>,
    error: &ReadError,
    prefix: &str,
) -> Result<Response, WebError> {
    let message = format!("{prefix}{}", error.advice(&channel.name));
    respond(
        state,
        session,
        channel,
        notice,
        Err(message),
        StatusCode::OK,
    )
    .await
}

/// **Save mapping**: checked against the marketplace's attributes and categories as read now;
/// saved (product creation on) only when every column and category is right.
pub async fn save(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let channel = load_marketplace_channel(&state, me, &id).await?;
    let configuration = match configuration::read(&state, &channel).await {
        Ok(c) => c,
        Err(e) => {
            return problem(&state, &session, &channel, None, &e, "Nothing was saved. ").await;
        }
    };
    let mapping = mapping_from_form(&fields, &configuration)?;
    if let Err(errors) = mapping.validate() {
        let view = mapping_view(
            &state,
            &channel,
            &configuration,
            &mapping,
            errors,
            Vec::new(),
        )
        .await?;
        return respond(
            &state,
            &session,
            &channel,
            None,
            Ok(view),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    state
        .storage()
        .save_channel_mapping(me.workspace_id, channel.id, &mapping, now_ms())
        .await?;
    export_again(&state, &channel).await?;
    tracing::info!(workspace = %me.workspace_id, channel = %channel.id, "product mapping saved");
    Ok(Redirect::to(&format!(
        "/channels/{}/product-creation?done=saved",
        channel.id
    ))
    .into_response())
}

/// **Stop creating products**: the mapping is deleted, so product creation is off.
pub async fn stop(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let channel = load_marketplace_channel(&state, me, &id).await?;
    state
        .storage()
        .delete_channel_mapping(me.workspace_id, channel.id)
        .await?;
    export_again(&state, &channel).await?;
    tracing::info!(workspace = %me.workspace_id, channel = %channel.id, "product creation stopped");
    Ok(Redirect::to(&format!(
        "/channels/{}/product-creation?done=stopped",
        channel.id
    ))
    .into_response())
}

/// The channel's offers name products differently with product creation on or off.
async fn export_again(state: &AppState, channel: &Channel) -> Result<(), WebError> {
    state
        .flows()
        .catalog
        .enqueue_export(channel.workspace_id, channel.id)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use domain::catalog::{MarketplaceAttribute, MarketplaceCategory};

    use super::*;

    fn configuration() -> CatalogConfiguration {
        let attribute = |code: &str, label: &str, required: bool| MarketplaceAttribute {
            code: code.into(),
            label: label.into(),
            required,
            kind: "TEXT".into(),
            ..MarketplaceAttribute::default()
        };
        let category = |code: &str, label: &str, parent: Option<&str>| MarketplaceCategory {
            code: code.into(),
            label: label.into(),
            level: if parent.is_some() { 2 } else { 1 },
            parent_code: parent.map(str::to_owned),
        };
        CatalogConfiguration {
            attributes: vec![
                attribute("shop_sku", "Seller SKU", true),
                attribute("brand", "Brand", true),
                attribute("note", "Note", false),
            ],
            categories: vec![
                category("fashion", "Fashion", None),
                category("clothing", "Clothing", Some("fashion")),
            ],
            required_in: BTreeMap::new(),
        }
    }

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn every_source_goes_to_the_form_and_back() {
        let sources = [
            ColumnSource::Sku,
            ColumnSource::Title,
            ColumnSource::Description,
            ColumnSource::Brand,
            ColumnSource::Gtin,
            ColumnSource::MainImage,
            ColumnSource::Category,
            ColumnSource::Attribute("Color".into()),
            ColumnSource::Meta("_material".into()),
            ColumnSource::Fixed("Acme".into()),
            ColumnSource::Nothing,
        ];
        for source in sources {
            let (choice, text) = source_choice(&source);
            assert!(SOURCES.iter().any(|(value, _)| *value == choice));
            assert_eq!(source_from_choice(choice, text), Some(source));
        }
        assert_eq!(SOURCES.len(), 11, "one choice per source");
    }

    #[test]
    fn the_form_becomes_a_mapping_over_the_attributes_read_from_mirakl() {
        let mapping = mapping_from_form(
            &fields(&[
                ("csrf_token", "t"),
                ("source.shop_sku", "sku"),
                ("value.shop_sku", ""),
                ("source.brand", "fixed"),
                ("value.brand", "  Acme "),
                ("source.gone", "title"),
                ("category.5", "clothing"),
                ("category.6", ""),
                ("default_category", "fashion"),
            ]),
            &configuration(),
        )
        .unwrap();
        assert_eq!(
            mapping.columns,
            BTreeMap::from([
                ("shop_sku".to_owned(), ColumnSource::Sku),
                ("brand".to_owned(), ColumnSource::Fixed("Acme".into())),
                ("note".to_owned(), ColumnSource::Nothing),
            ]),
            "an attribute the form does not name is not mapped; one Mirakl does not have is ignored"
        );
        assert_eq!(
            mapping.categories,
            BTreeMap::from([(5, "clothing".to_owned())])
        );
        assert_eq!(mapping.default_category.as_deref(), Some("fashion"));
        assert_eq!(mapping.validate(), Ok(()));
    }

    #[test]
    fn a_form_this_page_did_not_send_is_refused() {
        for bad in [
            fields(&[("source.brand", "the moon")]),
            fields(&[("category.five", "clothing")]),
            fields(&[("source.brand", "title"), ("source.brand", "sku")]),
        ] {
            let refused = mapping_from_form(&bad, &configuration()).unwrap_err();
            assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{bad:?}");
        }
    }

    #[test]
    fn categories_read_as_paths_from_their_root() {
        let paths: Vec<String> = category_choices(&configuration())
            .into_iter()
            .map(|c| c.path)
            .collect();
        assert_eq!(paths, ["Fashion", "Fashion › Clothing"]);
    }

    #[test]
    fn a_list_shows_a_few_of_its_values() {
        let values: Vec<String> = (1..=8).map(|n| n.to_string()).collect();
        assert_eq!(
            some_values(&values).as_deref(),
            Some("1, 2, 3, 4, 5, 6 and 2 more")
        );
        assert_eq!(some_values(&values[..2]).as_deref(), Some("1, 2"));
        assert_eq!(some_values(&[]), None);
    }

    #[test]
    fn a_saved_column_whose_attribute_is_gone_is_dropped() {
        let saved = ProductMapping {
            attributes: vec![MarketplaceAttribute {
                code: "weight".into(),
                label: "Weight".into(),
                ..MarketplaceAttribute::default()
            }],
            columns: BTreeMap::from([
                ("shop_sku".to_owned(), ColumnSource::Sku),
                ("weight".to_owned(), ColumnSource::Meta("_weight".into())),
            ]),
            ..ProductMapping::default()
        };
        let (mapping, dropped) = with_fresh_lists(saved, &configuration());
        assert_eq!(dropped, ["Weight"]);
        assert_eq!(mapping.columns.len(), 1);
        assert_eq!(mapping.attributes.len(), 3);
    }
}
