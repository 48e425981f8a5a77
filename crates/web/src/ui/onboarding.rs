//! Onboarding, as sellers know it from CedCommerce's Mirakl Connect app: Step 1 **Authorize
//! Mirakl Connect**, Step 2 connect the WooCommerce store, Step 3 settings, Step 4 **Launch**.
//!
//! The step is derived from what exists (an authorized Connect channel, a shop, saved
//! settings), never stored on its own, so a seller who leaves half way comes back exactly
//! where they stopped and the page can never disagree with the data.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::{ChannelEvent, ChannelKind, ChannelStatus, ShopPlatform, WorkspaceId};
use serde::Deserialize;
use storage::{Channel, NewChannel, WorkspaceSettings, now_ms};

use crate::AppState;
use crate::error::WebError;
use crate::form::Form;
use crate::session::{Session, SignedIn};
use crate::ui::channels::begin_authorization;
use crate::ui::{Nav, render};

pub const STEPS: [(u8, &str); 4] = [
    (1, "Authorize Mirakl Connect"),
    (2, "Connect WooCommerce"),
    (3, "Settings"),
    (4, "Launch"),
];

/// Where a workspace stands in onboarding.
pub struct Progress {
    /// 1 to 4, or `None` once onboarding is done.
    pub step: Option<u8>,
    pub connect_channel: Option<Channel>,
    pub store_url: Option<String>,
    pub platform: Option<ShopPlatform>,
    pub settings: WorkspaceSettings,
    /// Whether the operator registered a BigCommerce app (sellers can install it).
    pub bigcommerce_app: bool,
}

pub async fn progress(state: &AppState, ws: WorkspaceId) -> Result<Progress, WebError> {
    let storage = state.storage();
    let workspace = storage.workspace(ws).await?.ok_or(WebError::NotFound)?;
    let connect_channel = storage
        .list_channels(ws)
        .await?
        .into_iter()
        .find(|c| c.kind == ChannelKind::MiraklConnect);
    let shop = storage.get_shop(ws).await?;
    let settings = storage.workspace_settings(ws).await?;
    let step = if workspace.onboarded_at_ms.is_some() {
        None
    } else if !connect_channel
        .as_ref()
        .is_some_and(|c| c.status.is_authorized())
    {
        Some(1)
    } else if shop.is_none() {
        Some(2)
    } else if settings.saved_at_ms.is_none() {
        Some(3)
    } else {
        Some(4)
    };
    Ok(Progress {
        step,
        connect_channel,
        platform: shop.as_ref().map(|s| s.platform),
        store_url: shop.map(|s| s.store_url),
        settings,
        bigcommerce_app: state.flows().shops.bigcommerce_app().is_some(),
    })
}

/// How pages name the seller's store: "WooCommerce store", "BigCommerce store".
pub fn store_label(platform: Option<ShopPlatform>) -> &'static str {
    match platform {
        Some(ShopPlatform::BigCommerce) => "BigCommerce store",
        Some(ShopPlatform::WooCommerce) => "WooCommerce store",
        None => "Store",
    }
}

#[derive(Template)]
#[template(path = "onboarding.html")]
pub struct OnboardingPage {
    pub nav: Nav,
    pub csrf_token: String,
    pub steps: [(u8, &'static str); 4],
    pub step: u8,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub reauthorize: bool,
    pub store_url: String,
    /// What the seller typed as a BigCommerce API path, kept after an error.
    pub bc_api_path: String,
    pub store_label: &'static str,
    pub bigcommerce_app: bool,
    pub sync_products: bool,
    pub import_orders: bool,
    /// Step 2 on its own, to connect the store again after onboarding.
    pub standalone: bool,
}

impl OnboardingPage {
    pub fn new(session: &Session, progress: &Progress, step: u8) -> Self {
        Self {
            nav: Nav::for_session(session),
            csrf_token: session.csrf_token.clone(),
            steps: STEPS,
            step,
            notice: None,
            error: None,
            reauthorize: progress
                .connect_channel
                .as_ref()
                .is_some_and(|c| c.status == ChannelStatus::ReauthorizationNeeded),
            store_url: progress.store_url.clone().unwrap_or_default(),
            bc_api_path: String::new(),
            store_label: store_label(progress.platform),
            bigcommerce_app: progress.bigcommerce_app,
            sync_products: progress.settings.sync_products,
            import_orders: progress.settings.import_orders,
            standalone: progress.step.is_none(),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct OnboardingQuery {
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Query(query): Query<OnboardingQuery>,
) -> Result<Response, WebError> {
    let progress = progress(&state, me.workspace_id).await?;
    let Some(step) = progress.step else {
        return Ok(Redirect::to("/").into_response());
    };
    let mut page = OnboardingPage::new(&session, &progress, step);
    // A disconnect the seller did not start from the Account page is told on the next visit.
    let uninstalled = if step <= 2 {
        crate::ui::bigcommerce::uninstalled_notice(&state, me.workspace_id).await?
    } else {
        None
    };
    page.notice = match query.done.as_deref() {
        Some("connect") => Some("Mirakl Connect is authorized.".to_owned()),
        Some("shop") => Some(format!(
            "Your {} is connected.",
            store_label(progress.platform)
        )),
        Some("import") => Some("Your settings were imported.".to_owned()),
        _ => None,
    };
    if page.notice.is_none() {
        page.notice = uninstalled;
    }
    Ok(render(&page))
}

/// Step 2 on its own: connecting the store again (new keys, a new store) after onboarding.
pub async fn shop_form(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
) -> Result<Response, WebError> {
    let progress = progress(&state, me.workspace_id).await?;
    if progress.step.is_some_and(|s| s < 2) {
        return Ok(Redirect::to("/onboarding").into_response());
    }
    Ok(render(&OnboardingPage::new(&session, &progress, 2)))
}

/// Step 1: the F1 flow for the workspace's Mirakl Connect channel (created on first use).
pub async fn authorize_connect(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
) -> Result<Response, WebError> {
    let progress = progress(&state, me.workspace_id).await?;
    let channel = match progress.connect_channel {
        Some(c) => c,
        None => {
            let new = NewChannel {
                kind: ChannelKind::MiraklConnect,
                name: "Mirakl Connect".to_owned(),
                marketplace_code: None,
                instance_url: None,
            };
            state
                .storage()
                .create_channel(me.workspace_id, &new, now_ms())
                .await?
        }
    };
    begin_authorization(&state, me, &session, &channel).await
}

#[derive(Deserialize)]
pub struct SettingsForm {
    sync_products: Option<String>,
    import_orders: Option<String>,
}

/// Step 3 (and the Settings page later): unticked boxes are simply absent from the form.
pub async fn save_settings(
    State(state): State<AppState>,
    me: SignedIn,
    Form(form): Form<SettingsForm>,
) -> Result<Response, WebError> {
    let settings = WorkspaceSettings {
        sync_products: form.sync_products.is_some(),
        import_orders: form.import_orders.is_some(),
        saved_at_ms: None,
    };
    state
        .storage()
        .save_workspace_settings(me.workspace_id, &settings, now_ms())
        .await?;
    Ok(Redirect::to("/onboarding").into_response())
}

/// Step 4: the Mirakl Connect channel goes live and onboarding is over.
pub async fn launch(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
) -> Result<Response, WebError> {
    let progress = progress(&state, me.workspace_id).await?;
    match progress.step {
        None => return Ok(Redirect::to("/").into_response()),
        Some(4) => {}
        Some(step) => {
            let mut page = OnboardingPage::new(&session, &progress, step);
            page.error = Some("Finish this step before launching.".to_owned());
            return Ok(render(&page));
        }
    }
    let channel = progress.connect_channel.ok_or(WebError::NotFound)?;
    if channel
        .status
        .apply(channel.kind, ChannelEvent::Launched)
        .is_ok()
    {
        state
            .storage()
            .launch_channel(me.workspace_id, channel.id, now_ms())
            .await?;
    }
    state
        .storage()
        .mark_onboarded(me.workspace_id, now_ms())
        .await?;
    // The first full read of the shop; the exports to every live channel follow it.
    state
        .flows()
        .catalog
        .enqueue_read(me.workspace_id, sync::CatalogRead::Full)
        .await?;
    tracing::info!(workspace = %me.workspace_id, "onboarding finished: launched");
    Ok(Redirect::to("/?done=launched").into_response())
}

#[derive(Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    settings: String,
}

/// The file **Download settings** gave before a Disconnect.
#[derive(Deserialize)]
struct SettingsFile {
    marketbridge_settings: u32,
    #[serde(default = "yes")]
    sync_products: bool,
    #[serde(default = "yes")]
    import_orders: bool,
    #[serde(default)]
    product_settings: domain::catalog::ProductSettings,
    /// Absent from files saved before orders existed: the order settings stay as they are.
    #[serde(default)]
    order_settings: Option<domain::order::OrderSettings>,
    #[serde(default)]
    channel_overrides: std::collections::BTreeMap<String, domain::catalog::ChannelOverrides>,
}

fn yes() -> bool {
    true
}

/// Step 3 from a settings file: the product and order settings, the toggles, and each
/// channel's rules (kept for the channels added later, by marketplace).
pub async fn import_settings(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Form(form): Form<ImportForm>,
) -> Result<Response, WebError> {
    let again = |error: String| async {
        let progress = progress(&state, me.workspace_id).await?;
        let mut page = OnboardingPage::new(&session, &progress, progress.step.unwrap_or(3));
        page.error = Some(error);
        Ok::<_, WebError>((StatusCode::BAD_REQUEST, render(&page)).into_response())
    };
    // Read as JSON, its every string checked like a form field, then as a settings file.
    let file = serde_json::from_str::<serde_json::Value>(&form.settings)
        .map_err(|e| e.to_string())
        .and_then(|json| {
            crate::input::check_json(&json)
                .map_err(|e| e.to_string())
                .map(|()| json)
        })
        .and_then(|json| serde_json::from_value::<SettingsFile>(json).map_err(|e| e.to_string()));
    let file = match file {
        Ok(f) => f,
        Err(e) => {
            return again(format!(
                "That is not a Marketbridge settings file ({e}). Nothing was imported."
            ))
            .await;
        }
    };
    if file.marketbridge_settings != 1 {
        return again(
            "This settings file comes from a newer Marketbridge. Nothing was imported.".to_owned(),
        )
        .await;
    }
    if let Err(errors) = file.product_settings.validate() {
        let messages: Vec<String> = errors.into_iter().map(|e| e.message).collect();
        return again(format!(
            "The settings file has values Marketbridge cannot use: {} Nothing was imported.",
            messages.join(" ")
        ))
        .await;
    }
    if let Some(Err(errors)) = file.order_settings.as_ref().map(|s| s.validate()) {
        let messages: Vec<String> = errors.into_iter().map(|e| e.message).collect();
        return again(format!(
            "The settings file has order settings Marketbridge cannot use: {} Nothing was imported.",
            messages.join(" ")
        ))
        .await;
    }
    let storage = state.storage();
    storage
        .save_product_settings(me.workspace_id, &file.product_settings, now_ms())
        .await?;
    if let Some(orders) = &file.order_settings {
        storage
            .save_order_settings(me.workspace_id, orders, now_ms())
            .await?;
    }
    for channel in storage.list_channels(me.workspace_id).await? {
        let key = channel
            .marketplace_code
            .clone()
            .unwrap_or_else(|| channel.kind.as_str().to_owned());
        if let Some(overrides) = file.channel_overrides.get(&key) {
            storage
                .save_channel_overrides(me.workspace_id, channel.id, overrides, now_ms())
                .await?;
        }
    }
    let settings = WorkspaceSettings {
        sync_products: file.sync_products,
        import_orders: file.import_orders,
        saved_at_ms: None,
    };
    storage
        .save_workspace_settings(me.workspace_id, &settings, now_ms())
        .await?;
    tracing::info!(workspace = %me.workspace_id, "settings imported");
    Ok(Redirect::to("/onboarding?done=import").into_response())
}
