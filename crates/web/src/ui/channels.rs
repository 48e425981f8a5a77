//! Channels: adding one, its Settings page, and the steps of F1 that happen on it —
//! **Connect to …** (start the Mirakl authorization), the **Mirakl store ID** check, **Launch**.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::catalog::ChannelOverrides;
use domain::{ChannelEvent, ChannelId, ChannelKind, ChannelStatus};
use serde::Deserialize;
use storage::{Channel, NewChannel, now_ms};

use crate::AppState;
use crate::error::WebError;
use crate::form::Form;
use crate::session::{Session, SignedIn};
use crate::ui::dashboard::{describe_token, status_class, token_state};
use crate::ui::{Nav, render};

#[derive(Template)]
#[template(path = "channel_new.html")]
struct NewChannelPage<'a> {
    nav: Nav,
    csrf_token: String,
    marketplaces: &'a [domain::MarketplaceDefinition],
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "channel_settings.html")]
struct SettingsPage {
    nav: Nav,
    csrf_token: String,
    id: String,
    name: String,
    status: &'static str,
    status_class: &'static str,
    instance_url: Option<String>,
    store: Option<String>,
    company: Option<String>,
    token: String,
    last_error: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    show_connect: bool,
    connect_label: String,
    show_store_form: bool,
    store_id_value: String,
    show_launch: bool,
    show_overrides: bool,
    /// Marketplace channels have a Product creation page.
    is_marketplace: bool,
    override_markup: String,
    override_buffer: String,
    override_state: String,
}

pub async fn new_form(State(state): State<AppState>, _me: SignedIn, session: Session) -> Response {
    render(&NewChannelPage {
        nav: Nav::for_session(&session),
        csrf_token: session.csrf_token.clone(),
        marketplaces: &state.inner.marketplaces,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct NewChannelForm {
    #[serde(default)]
    destination: String,
}

pub async fn create(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Form(form): Form<NewChannelForm>,
) -> Result<Response, WebError> {
    let new = if form.destination == "mirakl_connect" {
        Some(NewChannel {
            kind: ChannelKind::MiraklConnect,
            name: "Mirakl Connect".to_owned(),
            marketplace_code: None,
            instance_url: None,
        })
    } else {
        form.destination
            .strip_prefix("marketplace:")
            .and_then(|code| state.marketplace_definition(code))
            .map(|m| NewChannel {
                kind: ChannelKind::Marketplace,
                name: m.name.clone(),
                marketplace_code: Some(m.code.clone()),
                instance_url: Some(m.instance_url.clone()),
            })
    };
    let Some(new) = new else {
        return Ok(render(&NewChannelPage {
            nav: Nav::for_session(&session),
            csrf_token: session.csrf_token.clone(),
            marketplaces: &state.inner.marketplaces,
            error: Some("Choose Mirakl Connect or one of the marketplaces.".to_owned()),
        }));
    };
    let channel = state
        .storage()
        .create_channel(me.workspace_id, &new, now_ms())
        .await?;
    tracing::info!(user = %me.user_id, workspace = %me.workspace_id, channel = %channel.id, kind = channel.kind.as_str(), "channel added");
    Ok(Redirect::to(&format!("/channels/{}", channel.id)).into_response())
}

/// Finds a channel of the signed-in seller's workspace; anything else is a 404, whether it
/// does not exist or belongs to someone else.
pub async fn load_channel(state: &AppState, me: SignedIn, id: &str) -> Result<Channel, WebError> {
    let id: ChannelId = id.parse().map_err(|_| WebError::NotFound)?;
    state
        .storage()
        .get_channel(me.workspace_id, id)
        .await?
        .ok_or(WebError::NotFound)
}

#[derive(Deserialize, Default)]
pub struct SettingsQuery {
    done: Option<String>,
}

pub async fn settings(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Path(id): Path<String>,
    Query(query): Query<SettingsQuery>,
) -> Result<Response, WebError> {
    let channel = load_channel(&state, me, &id).await?;
    let notice = match query.done.as_deref() {
        Some("authorized")
            if channel.kind == ChannelKind::Marketplace && channel.store_id.is_none() =>
        {
            Some("Mirakl authorized Marketbridge. Now enter your Mirakl store ID.".to_owned())
        }
        Some("authorized") => Some("Mirakl authorized Marketbridge.".to_owned()),
        Some("store") => Some("Store verified. Click Launch when you are ready.".to_owned()),
        Some("launched") => Some(format!("{} is live.", channel.name)),
        Some("overrides") => {
            Some("Channel rules saved. The channel gets the changes at the next sync.".to_owned())
        }
        _ => None,
    };
    settings_page(&state, &session, &channel, notice, None, String::new()).await
}

async fn settings_page(
    state: &AppState,
    session: &Session,
    channel: &Channel,
    notice: Option<String>,
    error: Option<String>,
    store_id_value: String,
) -> Result<Response, WebError> {
    let (token, refresh_error) = token_state(state, channel).await?;
    let overrides = load_overrides(state, channel).await?;
    let status = channel.status;
    let target = match channel.kind {
        ChannelKind::MiraklConnect => "Mirakl Connect".to_owned(),
        ChannelKind::Marketplace => channel.name.clone(),
    };
    let connect_label = match status {
        ChannelStatus::ReauthorizationNeeded => "Reconnect".to_owned(),
        ChannelStatus::AwaitingAuthorization => format!("Connect to {target}"),
        _ => format!("Authorize {target} again"),
    };
    Ok(render(&SettingsPage {
        nav: Nav::for_session(session),
        csrf_token: session.csrf_token.clone(),
        id: channel.id.to_string(),
        name: channel.name.clone(),
        status: status.label(),
        status_class: status_class(status),
        instance_url: channel.instance_url.as_ref().map(ToString::to_string),
        store: channel
            .store_name
            .as_ref()
            .zip(channel.store_id)
            .map(|(n, id)| format!("{n} (store {id})")),
        company: channel.company.clone(),
        token: describe_token(token, refresh_error.as_deref()),
        last_error: channel.last_error.clone(),
        notice,
        error,
        show_connect: true,
        connect_label,
        show_store_form: channel.kind == ChannelKind::Marketplace
            && matches!(
                status,
                ChannelStatus::AwaitingStoreId | ChannelStatus::ReadyToLaunch
            ),
        store_id_value,
        show_launch: status == ChannelStatus::ReadyToLaunch,
        show_overrides: status.is_authorized(),
        is_marketplace: channel.kind == ChannelKind::Marketplace,
        override_markup: overrides
            .price
            .map(|p| {
                let s = format!("{:.2}", p.markup_percent_bp as f64 / 100.0);
                s.trim_end_matches('0').trim_end_matches('.').to_owned()
            })
            .unwrap_or_default(),
        override_buffer: overrides
            .stock
            .map(|s| s.buffer.to_string())
            .unwrap_or_default(),
        override_state: overrides.offer_state.unwrap_or_default(),
    }))
}

async fn load_overrides(state: &AppState, channel: &Channel) -> Result<ChannelOverrides, WebError> {
    Ok(state
        .storage()
        .channel_overrides(channel.workspace_id, channel.id)
        .await?
        .unwrap_or_default())
}

#[derive(Deserialize)]
pub struct OverridesForm {
    #[serde(default)]
    markup_percent: String,
    #[serde(default)]
    buffer: String,
    #[serde(default)]
    offer_state: String,
}

/// A channel's own rules: each field left empty follows the workspace's product settings.
/// An override starts from the workspace's current rule and changes only what was typed.
pub async fn save_overrides(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<OverridesForm>,
) -> Result<Response, WebError> {
    let channel = load_channel(&state, me, &id).await?;
    let base = crate::ui::product_settings::load(&state, me.workspace_id).await?;
    let mut overrides = ChannelOverrides::default();
    let mut errors = Vec::new();
    if !form.markup_percent.trim().is_empty() {
        match form.markup_percent.trim().replace(',', ".").parse::<f64>() {
            Ok(p) if p.is_finite() => {
                let mut price = base.price;
                price.markup_percent_bp = (p * 100.0).round() as i64;
                overrides.price = Some(price);
            }
            _ => errors.push("Markup (%) on this channel: enter a number, like 10 or 7.5."),
        }
    }
    if !form.buffer.trim().is_empty() {
        match form.buffer.trim().parse::<i64>() {
            Ok(n) => {
                let mut stock = base.stock;
                stock.buffer = n;
                overrides.stock = Some(stock);
            }
            Err(_) => errors.push("Stock buffer on this channel: enter a whole number, like 5."),
        }
    }
    if !form.offer_state.trim().is_empty() {
        overrides.offer_state = Some(form.offer_state.trim().to_owned());
    }
    let mut messages: Vec<String> = errors.into_iter().map(str::to_owned).collect();
    if messages.is_empty()
        && let Err(field_errors) = base.with_overrides(&overrides).validate()
    {
        messages.extend(field_errors.into_iter().map(|e| e.message));
    }
    if !messages.is_empty() {
        let message = format!("Nothing was saved: {}", messages.join(" "));
        return settings_page(
            &state,
            &session,
            &channel,
            None,
            Some(message),
            String::new(),
        )
        .await;
    }
    state
        .flows()
        .catalog
        .save_overrides(me.workspace_id, channel.id, &overrides)
        .await?;
    Ok(Redirect::to(&format!("/channels/{}?done=overrides", channel.id)).into_response())
}

/// **Connect to …**: remembers a pending authorization (random state bound to this browser
/// session, PKCE verifier, expiry) and sends the browser to the Mirakl Authentication System.
pub async fn authorize(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let channel = load_channel(&state, me, &id).await?;
    begin_authorization(&state, me, &session, &channel).await
}

/// Starts F1 for `channel` and redirects the browser to MAS.
pub async fn begin_authorization(
    state: &AppState,
    me: SignedIn,
    session: &Session,
    channel: &Channel,
) -> Result<Response, WebError> {
    let url = state
        .flows()
        .authorization
        .start(me.workspace_id, session.id, channel)
        .await?;
    Ok(Redirect::to(url.as_str()).into_response())
}

#[derive(Deserialize)]
pub struct StoreForm {
    #[serde(default)]
    store_id: String,
}

/// The **Mirakl store ID** step (checked by the flow with the channel's own token).
pub async fn verify_store(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<StoreForm>,
) -> Result<Response, WebError> {
    let channel = load_channel(&state, me, &id).await?;
    let typed = form.store_id.trim().to_owned();
    match state
        .flows()
        .authorization
        .verify_store(me.workspace_id, &channel, &typed)
        .await?
    {
        Ok(_) => Ok(Redirect::to(&format!("/channels/{}?done=store", channel.id)).into_response()),
        Err(message) => settings_page(&state, &session, &channel, None, Some(message), typed).await,
    }
}

/// **Launch**: the channel goes live and its flows may start.
pub async fn launch(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let channel = load_channel(&state, me, &id).await?;
    if channel
        .status
        .apply(channel.kind, ChannelEvent::Launched)
        .is_err()
    {
        let message = match channel.status {
            ChannelStatus::AwaitingStoreId => {
                "Enter and verify your Mirakl store ID before launching."
            }
            ChannelStatus::Live => "This channel is already live.",
            _ => "Connect this channel to Mirakl before launching it.",
        };
        return settings_page(
            &state,
            &session,
            &channel,
            None,
            Some(message.to_owned()),
            String::new(),
        )
        .await;
    }
    state
        .storage()
        .launch_channel(me.workspace_id, channel.id, now_ms())
        .await?;
    // Read the shop afresh; the export to this channel (and the others) follows.
    state
        .flows()
        .catalog
        .enqueue_read(me.workspace_id, sync::CatalogRead::Full)
        .await?;
    tracing::info!(channel = %channel.id, "channel launched");
    Ok(Redirect::to(&format!("/channels/{}?done=launched", channel.id)).into_response())
}
