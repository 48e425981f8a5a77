//! **Disconnect** (F6), from the Account page: the seller picks what happens to the catalog on
//! Mirakl, types `disconnect`, and a job does the rest while a progress page follows it.

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use domain::{ChannelKind, DisconnectChoice, DisconnectStatus};
use serde::Deserialize;
use storage::{StorageError, now_ms};
use sync::disconnect::STEPS;

use crate::AppState;
use crate::error::WebError;
use crate::form::Form;
use crate::session::{Session, SignedIn};
use crate::ui::{Nav, render};

/// The word the seller types; the server checks it too.
pub const CONFIRMATION: &str = "disconnect";

#[derive(Template)]
#[template(path = "disconnect.html")]
struct DisconnectPage {
    nav: Nav,
    csrf_token: String,
    preview: Preview,
    /// The catalog choice ticked: the seller's own when the page comes back with an error.
    choice: DisconnectChoice,
    error: Option<String>,
}

/// What the dialog says stays on Mirakl.
struct Preview {
    /// "480 products and variants (300 products of your store) on Mirakl Connect, 240
    /// offers on Demo Marketplace".
    catalog: String,
    /// "2 open orders stay on Mirakl", or that there is none.
    open_orders: String,
}

#[derive(Template)]
#[template(path = "disconnect_progress.html")]
struct ProgressPage {
    nav: Nav,
    csrf_token: String,
    refresh: bool,
    done: bool,
    done_message: String,
    steps: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

/// What each channel holds, and the workspace's open orders.
async fn preview(state: &AppState, ws: domain::WorkspaceId) -> Result<Preview, WebError> {
    let mut parts = Vec::new();
    for c in state.storage().list_channels(ws).await? {
        let held = state.storage().channel_holdings(ws, c.id).await?;
        parts.push(match c.kind {
            // Each SKU is a product on Mirakl Connect: a variable product sends one per
            // variation, so the store's product count is given beside it.
            ChannelKind::MiraklConnect if held.skus != held.products => format!(
                "{} products and variants ({} {} of your store) on {}",
                held.skus,
                held.products,
                plural(held.products, "product", "products"),
                c.name
            ),
            ChannelKind::MiraklConnect => format!(
                "{} {} on {}",
                held.skus,
                plural(held.skus, "product", "products"),
                c.name
            ),
            ChannelKind::Marketplace => format!(
                "{} {} on {}",
                held.skus,
                plural(held.skus, "offer", "offers"),
                c.name
            ),
        });
    }
    let open = state.storage().order_counts(ws).await?.open;
    Ok(Preview {
        catalog: if parts.is_empty() {
            "nothing".to_owned()
        } else {
            parts.join(", ")
        },
        open_orders: match open {
            0 => "No open order".to_owned(),
            1 => "1 open order stays on Mirakl".to_owned(),
            n => format!("{n} open orders stay on Mirakl"),
        },
    })
}

fn plural(n: i64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

async fn form_page(
    state: &AppState,
    me: SignedIn,
    session: &Session,
    choice: DisconnectChoice,
    error: Option<String>,
) -> Result<Response, WebError> {
    Ok(render(&DisconnectPage {
        nav: Nav::for_session(session),
        csrf_token: session.csrf_token.clone(),
        preview: preview(state, me.workspace_id).await?,
        choice,
        error,
    }))
}

pub async fn show(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
) -> Result<Response, WebError> {
    if let Some(d) = state.storage().disconnect(me.workspace_id).await?
        && d.status != DisconnectStatus::Done
    {
        return Ok(Redirect::to("/account/disconnect/progress").into_response());
    }
    form_page(&state, me, &session, DisconnectChoice::Keep, None).await
}

#[derive(Deserialize)]
pub struct DisconnectForm {
    #[serde(default)]
    choice: String,
    #[serde(default)]
    confirm: String,
}

pub async fn start(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Form(form): Form<DisconnectForm>,
) -> Result<Response, WebError> {
    if form.confirm.trim() != CONFIRMATION {
        // The seller's choice stays ticked, so typing the word again keeps it.
        let choice = DisconnectChoice::parse(&form.choice).unwrap_or(DisconnectChoice::Keep);
        let page = form_page(
            &state,
            me,
            &session,
            choice,
            Some(format!(
                "Type the word {CONFIRMATION} to confirm. Nothing was changed."
            )),
        )
        .await?;
        return Ok((axum::http::StatusCode::BAD_REQUEST, page).into_response());
    }
    let Some(choice) = DisconnectChoice::parse(&form.choice) else {
        let page = form_page(
            &state,
            me,
            &session,
            DisconnectChoice::Keep,
            Some("Choose what happens to your catalog on Mirakl. Nothing was changed.".to_owned()),
        )
        .await?;
        return Ok((axum::http::StatusCode::BAD_REQUEST, page).into_response());
    };
    match state
        .storage()
        .start_disconnect(me.workspace_id, None, choice, now_ms())
        .await
    {
        Ok(_) | Err(StorageError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    state.flows().disconnect.enqueue(me.workspace_id).await?;
    tracing::info!(workspace = %me.workspace_id, choice = choice.as_str(), "disconnect started");
    Ok(Redirect::to("/account/disconnect/progress").into_response())
}

pub async fn progress(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
) -> Result<Response, WebError> {
    let d = state.storage().disconnect(me.workspace_id).await?;
    if d.as_ref()
        .is_some_and(|d| d.status == DisconnectStatus::Done && d.channel_id.is_some())
    {
        return Ok(Redirect::to("/?done=removed").into_response());
    }
    let Some(d) = d.filter(|d| d.status != DisconnectStatus::Done) else {
        let receipt = state.storage().disconnect_receipt(me.workspace_id).await?;
        let Some((choice, _)) = receipt else {
            return Ok(Redirect::to("/account").into_response());
        };
        let done_message = match choice {
            DisconnectChoice::Keep => {
                "Your catalog stays active on Mirakl. All of Marketbridge's data for your accounts was deleted."
            }
            DisconnectChoice::Deactivate => {
                "Every offer and product was set to stock 0 on Mirakl. All of Marketbridge's data for your accounts was deleted."
            }
            DisconnectChoice::Delete => {
                "Every product and offer was deleted from Mirakl. All of Marketbridge's data for your accounts was deleted."
            }
        };
        return Ok(render(&ProgressPage {
            nav: Nav::for_session(&session),
            csrf_token: session.csrf_token.clone(),
            refresh: false,
            done: true,
            done_message: done_message.to_owned(),
            steps: Vec::new(),
            error: None,
        }));
    };
    let current = STEPS.iter().position(|(s, _)| *s == d.step).unwrap_or(0);
    let failed = d.status == DisconnectStatus::Failed;
    let steps = STEPS
        .iter()
        .enumerate()
        .map(|(i, (_, label))| {
            let state = if i < current {
                "done"
            } else if i == current && failed {
                "stopped"
            } else if i == current {
                "in progress"
            } else {
                "waiting"
            };
            (*label, state)
        })
        .collect();
    Ok(render(&ProgressPage {
        nav: Nav::for_session(&session),
        csrf_token: session.csrf_token.clone(),
        refresh: !failed,
        done: false,
        done_message: String::new(),
        steps,
        error: d.error.filter(|_| failed),
    }))
}

/// Removing one channel, with the same three choices; the other channels are not touched.
pub async fn remove_channel(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(form): Form<DisconnectForm>,
) -> Result<Response, WebError> {
    let channel = crate::ui::channels::load_channel(&state, me, &id).await?;
    let refuse = |message: &str| {
        crate::ui::ErrorPage::new(
            "The channel was not removed",
            format!("{message} Nothing was changed."),
        )
        .with_nav(&session)
        .with_action(format!("/channels/{}", channel.id), "Back to the channel")
        .with_status(axum::http::StatusCode::BAD_REQUEST)
    };
    if form.confirm.trim() != "remove" {
        return Ok(refuse("Type the word remove to confirm."));
    }
    let Some(choice) = DisconnectChoice::parse(&form.choice) else {
        return Ok(refuse(
            "Choose what happens to your catalog on this channel.",
        ));
    };
    match state
        .storage()
        .start_disconnect(me.workspace_id, Some(channel.id), choice, now_ms())
        .await
    {
        Ok(_) => {}
        Err(StorageError::Conflict(_)) => {
            return Ok(refuse(
                "Another disconnect is under way; wait for it to finish.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    state.flows().disconnect.enqueue(me.workspace_id).await?;
    tracing::info!(workspace = %me.workspace_id, channel = %channel.id, choice = choice.as_str(), "channel removal started");
    Ok(Redirect::to("/account/disconnect/progress").into_response())
}

#[derive(Deserialize)]
pub struct RetryForm {
    #[serde(default)]
    force: String,
}

pub async fn retry(
    State(state): State<AppState>,
    me: SignedIn,
    Form(form): Form<RetryForm>,
) -> Result<Response, WebError> {
    let forced = form.force == "yes";
    state
        .storage()
        .retry_disconnect(me.workspace_id, forced, now_ms())
        .await?;
    state.flows().disconnect.enqueue(me.workspace_id).await?;
    tracing::info!(workspace = %me.workspace_id, forced, "disconnect resumed");
    Ok(Redirect::to("/account/disconnect/progress").into_response())
}

/// **Download settings**: the workspace's settings and mappings as a JSON file, which a new
/// onboarding can import.
pub async fn download_settings(
    State(state): State<AppState>,
    me: SignedIn,
) -> Result<Response, WebError> {
    let storage = state.storage();
    let product = crate::ui::product_settings::load(&state, me.workspace_id).await?;
    let ws_settings = storage.workspace_settings(me.workspace_id).await?;
    let orders = state.flows().orders.settings(me.workspace_id).await?;
    let mut overrides = serde_json::Map::new();
    for c in storage.list_channels(me.workspace_id).await? {
        if let Some(channel_overrides) = storage.channel_overrides(me.workspace_id, c.id).await? {
            let key = c
                .marketplace_code
                .clone()
                .unwrap_or_else(|| c.kind.as_str().to_owned());
            overrides.insert(
                key,
                serde_json::to_value(channel_overrides)
                    .map_err(|e| WebError::Internal(e.into()))?,
            );
        }
    }
    let body = serde_json::json!({
        "marketbridge_settings": 1,
        "sync_products": ws_settings.sync_products,
        "import_orders": ws_settings.import_orders,
        "product_settings": product,
        "order_settings": orders,
        "channel_overrides": overrides,
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"marketbridge-settings.json\"",
            ),
        ],
        serde_json::to_string_pretty(&body).map_err(|e| WebError::Internal(e.into()))?,
    )
        .into_response())
}
