//! The Product Settings page (F3): **Sync Product**, which products, the price and stock
//! rules, identifiers and the offer state. Every value is checked; a bad one is named with
//! what to type instead, and nothing is saved until all are right.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::catalog::{
    Currency, FieldSource, Money, PriceRule, ProductIdType, ProductSettings, RemovalPolicy,
    Rounding, Selection, StockRule,
};
use serde::Deserialize;
use storage::now_ms;

use crate::AppState;
use crate::error::WebError;
use crate::form::Form;
use crate::session::{Session, SignedIn};
use crate::ui::{Nav, render};

/// The form as typed, so a page with errors shows the seller's own values again.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct SettingsForm {
    pub sync_products: Option<String>,
    pub selection: String,
    pub categories: String,
    pub tags: String,
    pub skus: String,
    pub use_sale_price: Option<String>,
    pub markup_percent: String,
    pub markup_fixed: String,
    pub rounding: String,
    pub buffer: String,
    pub maximum: String,
    pub out_of_stock_below: String,
    pub unmanaged_quantity: String,
    pub backorder_as_in_stock: Option<String>,
    pub product_id_type: String,
    pub gtin_meta: String,
    pub brand_attribute: String,
    pub offer_state: String,
    pub currency: String,
    pub removal: String,
}

/// What the template reads.
pub struct FormView {
    pub sync_products: bool,
    pub selection: String,
    pub categories: String,
    pub tags: String,
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
    pub gtin_meta: String,
    pub brand_attribute: String,
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
            gtin_meta: f.gtin_meta,
            brand_attribute: f.brand_attribute,
            offer_state: f.offer_state,
            currency: f.currency,
            removal: f.removal,
        }
    }
}

#[derive(Template)]
#[template(path = "product_settings.html")]
struct SettingsPage {
    nav: Nav,
    csrf_token: String,
    notice: Option<String>,
    errors: Vec<String>,
    f: FormView,
    roundings: [(&'static str, &'static str); 5],
}

const ROUNDINGS: [(&str, &str); 5] = [
    ("none", "No rounding"),
    ("99", "End prices in .99"),
    ("95", "End prices in .95"),
    ("90", "End prices in .90"),
    ("0", "Whole amounts (.00)"),
];

fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Basis points as a percentage the seller typed: 1000 → "10", 750 → "7.5".
fn percent(bp: i64) -> String {
    let s = format!("{:.2}", bp as f64 / 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn signed_money(minor: i64) -> String {
    if minor < 0 {
        format!("-{}", Money::from_minor(-minor).to_decimal_string())
    } else {
        Money::from_minor(minor).to_decimal_string()
    }
}

/// The form showing stored settings.
pub fn form_from(settings: &ProductSettings, sync_products: bool) -> SettingsForm {
    let on = |b: bool| b.then(|| "on".to_owned());
    let (selection, categories, tags, skus) = match &settings.selection {
        Selection::All => ("all", String::new(), String::new(), String::new()),
        Selection::Categories(ids) => ("categories", join(ids), String::new(), String::new()),
        Selection::Tags(ids) => ("tags", String::new(), join(ids), String::new()),
        Selection::Skus(skus) => ("skus", String::new(), String::new(), skus.join(", ")),
    };
    let gtin_meta = settings
        .gtin_sources
        .iter()
        .find_map(|s| match s {
            FieldSource::Meta(k) => Some(k.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let brand_attribute = match &settings.brand_source {
        FieldSource::Attribute(a) | FieldSource::Meta(a) => a.clone(),
        FieldSource::GlobalUniqueId => String::new(),
    };
    SettingsForm {
        sync_products: on(sync_products),
        selection: selection.to_owned(),
        categories,
        tags,
        skus,
        use_sale_price: on(settings.price.use_sale_price),
        markup_percent: percent(settings.price.markup_percent_bp),
        markup_fixed: signed_money(settings.price.markup_fixed),
        rounding: match settings.price.rounding {
            Rounding::None => "none".to_owned(),
            Rounding::EndWith(c) => c.to_string(),
        },
        buffer: settings.stock.buffer.to_string(),
        maximum: settings
            .stock
            .maximum
            .map(|m| m.to_string())
            .unwrap_or_default(),
        out_of_stock_below: settings.stock.out_of_stock_below.to_string(),
        unmanaged_quantity: settings.stock.unmanaged_quantity.to_string(),
        backorder_as_in_stock: on(settings.stock.backorder_as_in_stock),
        product_id_type: match settings.product_id_type {
            ProductIdType::Gtin => "gtin",
            ProductIdType::ShopSku => "shop_sku",
        }
        .to_owned(),
        gtin_meta,
        brand_attribute,
        offer_state: settings.offer_state.clone(),
        currency: settings.currency.as_str().to_owned(),
        removal: match settings.removal {
            RemovalPolicy::Delete => "delete",
            RemovalPolicy::ZeroStock => "zero_stock",
        }
        .to_owned(),
    }
}

/// Parses the form into settings, or every problem found, in the seller's words.
pub fn parse_form(f: &SettingsForm) -> Result<ProductSettings, Vec<String>> {
    let mut errors = Vec::new();
    let mut int = |label: &str, raw: &str| -> i64 {
        match raw.trim().parse::<i64>() {
            Ok(n) => n,
            Err(_) => {
                errors.push(format!("{label}: enter a whole number, like 5."));
                0
            }
        }
    };
    let buffer = int("Stock buffer", &f.buffer);
    let out_of_stock_below = int("Out of stock below", &f.out_of_stock_below);
    let unmanaged_quantity = int(
        "Quantity for products without stock tracking",
        &f.unmanaged_quantity,
    );
    let maximum = if f.maximum.trim().is_empty() {
        None
    } else {
        Some(int("Maximum quantity", &f.maximum))
    };
    let ids = |label: &str, raw: &str, errors: &mut Vec<String>| -> Vec<i64> {
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .filter_map(|s| match s.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.push(format!(
                        "{label}: “{s}” is not an ID; use the numbers WooCommerce shows."
                    ));
                    None
                }
            })
            .collect()
    };
    let selection = match f.selection.as_str() {
        "categories" => Selection::Categories(ids("Category IDs", &f.categories, &mut errors)),
        "tags" => Selection::Tags(ids("Tag IDs", &f.tags, &mut errors)),
        "skus" => Selection::Skus(
            f.skus
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        _ => Selection::All,
    };
    let markup_percent_bp = match f.markup_percent.trim().replace(',', ".").parse::<f64>() {
        Ok(p) if p.is_finite() => (p * 100.0).round() as i64,
        _ if f.markup_percent.trim().is_empty() => 0,
        _ => {
            errors.push("Markup (%): enter a number, like 10 or 7.5.".to_owned());
            0
        }
    };
    let markup_fixed = {
        let raw = f.markup_fixed.trim();
        let (negative, digits) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        if digits.is_empty() {
            0
        } else {
            match Money::parse(digits) {
                Ok(m) if negative => -m.minor(),
                Ok(m) => m.minor(),
                Err(_) => {
                    errors.push(
                        "Markup (fixed amount): enter an amount like 1.50 or -0.50.".to_owned(),
                    );
                    0
                }
            }
        }
    };
    let rounding = match f.rounding.as_str() {
        "none" | "" => Rounding::None,
        cents => match cents.parse::<u8>() {
            Ok(c) => Rounding::EndWith(c),
            Err(_) => {
                errors.push("Rounding: choose one of the options.".to_owned());
                Rounding::None
            }
        },
    };
    let currency = match Currency::parse(f.currency.trim()) {
        Ok(c) => c,
        Err(_) => {
            errors.push("Currency: use the three-letter code, like EUR or GBP.".to_owned());
            Currency::default()
        }
    };
    let mut gtin_sources = Vec::new();
    if !f.gtin_meta.trim().is_empty() {
        gtin_sources.push(FieldSource::Meta(f.gtin_meta.trim().to_owned()));
    }
    gtin_sources.push(FieldSource::GlobalUniqueId);
    let settings = ProductSettings {
        selection,
        price: PriceRule {
            use_sale_price: f.use_sale_price.is_some(),
            markup_percent_bp,
            markup_fixed,
            rounding,
        },
        stock: StockRule {
            buffer,
            maximum,
            out_of_stock_below,
            unmanaged_quantity,
            backorder_as_in_stock: f.backorder_as_in_stock.is_some(),
        },
        product_id_type: if f.product_id_type == "shop_sku" {
            ProductIdType::ShopSku
        } else {
            ProductIdType::Gtin
        },
        gtin_sources,
        brand_source: FieldSource::Attribute(f.brand_attribute.trim().to_owned()),
        offer_state: f.offer_state.trim().to_owned(),
        currency,
        removal: if f.removal == "zero_stock" {
            RemovalPolicy::ZeroStock
        } else {
            RemovalPolicy::Delete
        },
    };
    if let Err(field_errors) = settings.validate() {
        errors.extend(field_errors.into_iter().map(|e| e.message));
    }
    if errors.is_empty() {
        Ok(settings)
    } else {
        Err(errors)
    }
}

pub async fn load(state: &AppState, ws: domain::WorkspaceId) -> Result<ProductSettings, WebError> {
    Ok(match state.storage().product_settings(ws).await? {
        Some(json) => serde_json::from_str(&json).map_err(|e| WebError::Internal(e.into()))?,
        None => ProductSettings::default(),
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
    Ok(render(&SettingsPage {
        nav: Nav::for_session(&session),
        csrf_token: session.csrf_token.clone(),
        notice: (q.done.as_deref() == Some("saved"))
            .then(|| "Settings saved. Your channels get the changes at the next sync.".to_owned()),
        errors: Vec::new(),
        f: form_from(&settings, sync).into(),
        roundings: ROUNDINGS,
    }))
}

pub async fn save(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Form(form): Form<SettingsForm>,
) -> Result<Response, WebError> {
    let settings = match parse_form(&form) {
        Ok(s) => s,
        Err(errors) => {
            return Ok(render(&SettingsPage {
                nav: Nav::for_session(&session),
                csrf_token: session.csrf_token.clone(),
                notice: None,
                errors,
                f: form.into(),
                roundings: ROUNDINGS,
            }));
        }
    };
    let storage = state.storage();
    let json = serde_json::to_string(&settings).map_err(|e| WebError::Internal(e.into()))?;
    storage
        .save_product_settings(me.workspace_id, &json, now_ms())
        .await?;
    let mut ws_settings = storage.workspace_settings(me.workspace_id).await?;
    ws_settings.sync_products = form.sync_products.is_some();
    storage
        .save_workspace_settings(me.workspace_id, &ws_settings, now_ms())
        .await?;
    // New rules may change what every channel should have.
    state.inner.catalog.enqueue_exports(me.workspace_id).await?;
    tracing::info!(workspace = %me.workspace_id, "product settings saved");
    Ok(Redirect::to("/settings/products?done=saved").into_response())
}
