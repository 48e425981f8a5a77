//! The Product Settings page (F3): **Sync Product**, which products, the price and stock
//! rules, identifiers and the offer state. Every value is checked; a bad one is named with
//! what to type instead, and nothing is saved until all are right.

mod form;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::catalog::ProductSettings;
use serde::Deserialize;

use crate::AppState;
use crate::error::WebError;
use crate::form::Form;
use crate::session::{Session, SignedIn};
use crate::ui::{Nav, render};

use form::ROUNDINGS;
pub use form::{SettingsForm, form_from, parse_form};

/// What the template reads.
pub struct FormView {
    pub sync_products: bool,
    pub selection: String,
    pub categories: String,
    pub tags: String,
    pub category: Vec<String>,
    pub tag: Vec<String>,
    pub skus: String,
    pub use_sale_price: bool,
    pub markup_percent: String,
    pub markup_fixed: String,
    pub rounding: String,
    pub buffer: String,
    pub maximum: String,
    pub out_of_stock_below: String,
    pub unmanaged_quantity: String,
    pub backorder_as_in_stock: bool,
    pub product_id_type: String,
    pub gtin_source: String,
    pub gtin_name: String,
    pub brand_source: String,
    pub brand_name: String,
    pub offer_state: String,
    pub currency: String,
    pub removal: String,
}

impl From<SettingsForm> for FormView {
    fn from(f: SettingsForm) -> Self {
        Self {
            sync_products: f.sync_products.is_some(),
            selection: f.selection,
            categories: f.categories,
            tags: f.tags,
            category: f.category,
            tag: f.tag,
            skus: f.skus,
            use_sale_price: f.use_sale_price.is_some(),
            markup_percent: f.markup_percent,
            markup_fixed: f.markup_fixed,
            rounding: f.rounding,
            buffer: f.buffer,
            maximum: f.maximum,
            out_of_stock_below: f.out_of_stock_below,
            unmanaged_quantity: f.unmanaged_quantity,
            backorder_as_in_stock: f.backorder_as_in_stock.is_some(),
            product_id_type: f.product_id_type,
            gtin_source: f.gtin_source,
            gtin_name: f.gtin_name,
            brand_source: f.brand_source,
            brand_name: f.brand_name,
            offer_state: f.offer_state,
            currency: f.currency,
            removal: f.removal,
        }
    }
}

/// One category or tag the seller can tick.
pub struct Choice {
    pub id: String,
    pub name: String,
    pub checked: bool,
}

/// The shop's terms as boxes to tick, or why they are typed as IDs instead.
struct Terms {
    categories: Option<Vec<Choice>>,
    tags: Option<Vec<Choice>>,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "product_settings.html")]
struct SettingsPage {
    nav: Nav,
    csrf_token: String,
    notice: Option<String>,
    /// (form field, message), in the order of the form.
    errors: Vec<(&'static str, String)>,
    f: FormView,
    terms: Terms,
    roundings: [(&'static str, &'static str); 5],
}

impl SettingsPage {
    /// The message for one field, shown next to it.
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

pub async fn load(state: &AppState, ws: domain::WorkspaceId) -> Result<ProductSettings, WebError> {
    Ok(state
        .storage()
        .product_settings(ws)
        .await?
        .unwrap_or_default())
}

/// The shop's categories and tags as boxes, the form's own ticked; a ticked term the shop
/// no longer has stays listed so it can be unticked.
async fn terms(state: &AppState, ws: domain::WorkspaceId, f: &FormView) -> Terms {
    let choices = |terms: &[shops::woocommerce::Term], ticked: &[String], what: &str| {
        let by_id: std::collections::HashMap<i64, &shops::woocommerce::Term> =
            terms.iter().map(|t| (t.id, t)).collect();
        // A category shows its parents, as WooCommerce's own lists do: "Clothing › Shirts".
        let path = |t: &shops::woocommerce::Term| {
            let mut names = vec![t.name.clone()];
            let mut parent = t.parent;
            while let Some(p) = by_id.get(&parent).filter(|_| names.len() < 10) {
                names.push(p.name.clone());
                parent = p.parent;
            }
            names.reverse();
            names.join(" › ")
        };
        let mut list: Vec<Choice> = terms
            .iter()
            .map(|t| Choice {
                id: t.id.to_string(),
                name: path(t),
                checked: ticked.contains(&t.id.to_string()),
            })
            .collect();
        list.sort_by_key(|c| c.name.to_lowercase());
        for id in ticked {
            if !list.iter().any(|c| &c.id == id) {
                list.push(Choice {
                    id: id.clone(),
                    name: format!("{what} {id} (no longer in your shop)"),
                    checked: true,
                });
            }
        }
        list
    };
    match state.flows().catalog.shop_terms(ws).await {
        Ok(Some(t)) => Terms {
            categories: Some(choices(&t.categories, &f.category, "Category")),
            tags: Some(choices(&t.tags, &f.tag, "Tag")),
            problem: None,
        },
        Ok(None) => Terms {
            categories: None,
            tags: None,
            problem: Some(
                "Connect your WooCommerce store to choose its categories and tags by name."
                    .to_owned(),
            ),
        },
        Err(e) => {
            tracing::warn!(workspace = %ws, error = %e, "could not list the shop's categories and tags");
            Terms {
                categories: None,
                tags: None,
                problem: Some(format!(
                    "Your store's categories and tags could not be read just now ({e}); type their IDs instead."
                )),
            }
        }
    }
}

async fn page(
    state: &AppState,
    me: &SignedIn,
    session: &Session,
    f: SettingsForm,
    errors: Vec<(&'static str, String)>,
    notice: Option<String>,
) -> Response {
    let f: FormView = f.into();
    let terms = terms(state, me.workspace_id, &f).await;
    render(&SettingsPage {
        nav: Nav::for_session(session),
        csrf_token: session.csrf_token.clone(),
        notice,
        errors,
        f,
        terms,
        roundings: ROUNDINGS,
    })
}

#[derive(Deserialize, Default)]
pub struct SettingsQuery {
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Query(q): Query<SettingsQuery>,
) -> Result<Response, WebError> {
    let settings = load(&state, me.workspace_id).await?;
    let sync = state
        .storage()
        .workspace_settings(me.workspace_id)
        .await?
        .sync_products;
    let notice = (q.done.as_deref() == Some("saved"))
        .then(|| "Settings saved. Your channels get the changes at the next sync.".to_owned());
    Ok(page(
        &state,
        &me,
        &session,
        form_from(&settings, sync),
        Vec::new(),
        notice,
    )
    .await)
}

pub async fn save(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = SettingsForm::from_pairs(pairs);
    let settings = match parse_form(&form) {
        Ok(s) => s,
        Err(errors) => return Ok(page(&state, &me, &session, form, errors, None).await),
    };
    state
        .flows()
        .catalog
        .save_settings(me.workspace_id, &settings, form.sync_products.is_some())
        .await?;
    Ok(Redirect::to("/settings/products?done=saved").into_response())
}
