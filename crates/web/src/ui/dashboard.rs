//! The dashboard: every channel of the workspace with its status and token health, the orders
//! that wait for the seller or for shipping, and the recent syncs.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use domain::{ChannelStatus, TokenState};
use storage::{Channel, now_ms};

use crate::AppState;
use crate::error::WebError;
use crate::session::{Session, SignedIn};
use crate::ui::{Nav, format_time, render};

pub struct ChannelRow {
    pub id: String,
    pub name: String,
    pub store: Option<String>,
    pub status: &'static str,
    pub status_class: &'static str,
    pub token: String,
    pub needs_reconnect: bool,
}

pub struct ShopSummary {
    pub label: &'static str,
    pub url: String,
    pub health: &'static str,
    pub health_class: &'static str,
    pub advice: Option<String>,
}

pub struct RunRow {
    pub when: String,
    pub what: String,
    pub status: &'static str,
    pub class: &'static str,
    pub message: Option<String>,
    pub counts: String,
}

/// A run's counts in words, leaving out the zeros: "read 312, sent 12, unchanged 300".
fn describe_counts(json: &str) -> String {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(json) else {
        return String::new();
    };
    map.iter()
        .filter_map(|(k, v)| v.as_u64().filter(|n| *n > 0).map(|n| format!("{k} {n}")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn run_rows(runs: Vec<storage::SyncRun>, channels: &[Channel]) -> Vec<RunRow> {
    runs.into_iter()
        .map(|r| {
            let channel = r
                .channel_id
                .and_then(|id| channels.iter().find(|c| c.id == id))
                .map(|c| c.name.clone());
            let what = sync::job::describe_run(&r.flow, channel.as_deref());
            let (status, class) = match r.status {
                domain::SyncRunStatus::Running => ("Running", "pending"),
                domain::SyncRunStatus::Done => ("Done", "live"),
                domain::SyncRunStatus::Failed => ("Failed", "bad"),
            };
            RunRow {
                when: format_time(r.started_at_ms),
                what,
                status,
                class,
                message: r.message,
                counts: describe_counts(&r.counts),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    nav: Nav,
    csrf_token: String,
    notice: Option<String>,
    onboarding: Option<(u8, &'static str)>,
    shop: Option<ShopSummary>,
    channels: Vec<ChannelRow>,
    runs: Vec<RunRow>,
    orders: crate::ui::orders::StageCounts,
}

#[derive(serde::Deserialize, Default)]
pub struct DashboardQuery {
    done: Option<String>,
}

pub fn status_class(status: ChannelStatus) -> &'static str {
    match status {
        ChannelStatus::Live => "live",
        ChannelStatus::ReauthorizationNeeded => "bad",
        _ => "pending",
    }
}

/// The token column in the seller's words.
pub fn describe_token(state: TokenState, last_error: Option<&str>) -> String {
    match state {
        TokenState::None => "Not connected yet".to_owned(),
        TokenState::Valid { expires_at_ms } => {
            format!("Valid until {}", format_time(expires_at_ms))
        }
        TokenState::Expired => match last_error {
            Some(e) => format!("Expired; renewal failed: {e}"),
            None => "Expired; it is renewed automatically".to_owned(),
        },
        TokenState::ReauthorizationNeeded => "Reauthorization needed".to_owned(),
    }
}

pub async fn token_state(
    state: &AppState,
    channel: &Channel,
) -> Result<(TokenState, Option<String>), WebError> {
    let stored = state
        .storage()
        .load_tokens(channel.workspace_id, channel.id)
        .await?;
    let expires = stored.as_ref().map(|s| s.tokens.access_expires_at_ms);
    let error = stored.and_then(|s| s.last_refresh_error);
    Ok((TokenState::of(channel.status, expires, now_ms()), error))
}

pub async fn show(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    axum::extract::Query(query): axum::extract::Query<DashboardQuery>,
) -> Result<Response, WebError> {
    let channels = state.storage().list_channels(me.workspace_id).await?;
    let mut rows = Vec::with_capacity(channels.len());
    for c in &channels {
        let (token, error) = token_state(&state, c).await?;
        rows.push(ChannelRow {
            id: c.id.to_string(),
            name: c.name.clone(),
            store: c
                .store_name
                .as_ref()
                .zip(c.store_id)
                .map(|(n, id)| format!("{n} (store {id})")),
            status: c.status.label(),
            status_class: status_class(c.status),
            token: describe_token(token, error.as_deref()),
            needs_reconnect: c.status == ChannelStatus::ReauthorizationNeeded,
        });
    }
    let progress = crate::ui::onboarding::progress(&state, me.workspace_id).await?;
    let onboarding = progress.step.and_then(|n| {
        crate::ui::onboarding::STEPS
            .iter()
            .find(|(s, _)| *s == n)
            .copied()
    });
    let shop = state
        .storage()
        .get_shop(me.workspace_id)
        .await?
        .map(|shop| {
            let (health, health_class, advice) = crate::ui::account::shop_health(&shop);
            ShopSummary {
                label: crate::ui::onboarding::store_label(Some(shop.platform)),
                url: shop.store_url.clone(),
                health,
                health_class,
                advice,
            }
        });
    let notice = match query.done.as_deref() {
        Some("launched") => {
            Some("Marketbridge is live: your catalog and orders now sync on their own.".to_owned())
        }
        Some("removed") => Some("The channel was removed.".to_owned()),
        _ if onboarding.is_some() => {
            crate::ui::bigcommerce::uninstalled_notice(&state, me.workspace_id).await?
        }
        _ => None,
    };
    Ok(render(&DashboardPage {
        nav: Nav::for_session(&session),
        csrf_token: session.csrf_token,
        notice,
        onboarding,
        shop,
        channels: rows,
        runs: run_rows(
            state
                .storage()
                .recent_sync_runs(me.workspace_id, 10)
                .await?,
            &channels,
        ),
        orders: crate::ui::orders::stage_counts(&state, me.workspace_id).await?,
    }))
}
