//! The Products page: every catalog item with its state on each channel (waiting, sent, live,
//! error with Mirakl's message), search and filters, and **Sync now**.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::{ChannelId, ItemState};
use serde::Deserialize;
use storage::ProductsFilter;

use crate::AppState;
use crate::error::WebError;
use crate::session::{Session, SignedIn};
use crate::ui::{Nav, render};

/// Products shown per page.
const PAGE: i64 = 100;

pub struct Cell {
    pub label: &'static str,
    pub class: &'static str,
    pub error: Option<String>,
}

pub struct Row {
    pub sku: String,
    pub title: String,
    pub cells: Vec<Cell>,
}

#[derive(Template)]
#[template(path = "products.html")]
struct ProductsPage {
    nav: Nav,
    csrf_token: String,
    notice: Option<String>,
    sync_products: bool,
    q: String,
    channel: String,
    state: String,
    channels: Vec<(String, String)>,
    states: Vec<(&'static str, &'static str)>,
    total: i64,
    rows: Vec<Row>,
    next: Option<String>,
}

const STATES: [(ItemState, &str); 5] = [
    (ItemState::Waiting, "Waiting"),
    (ItemState::Sent, "Sent"),
    (ItemState::Live, "Live"),
    (ItemState::Error, "Error"),
    (ItemState::Removed, "Removed"),
];

/// The state as the seller reads it, e.g. "Live".
pub fn state_label(state: ItemState) -> &'static str {
    STATES
        .iter()
        .find(|(s, _)| *s == state)
        .map(|(_, l)| *l)
        .unwrap_or("Waiting")
}

fn cell(state: Option<(ItemState, Option<String>)>) -> Cell {
    let (state, error) = state.unwrap_or((ItemState::Waiting, None));
    let label = state_label(state);
    let class = match state {
        ItemState::Live => "live",
        ItemState::Error => "bad",
        _ => "pending",
    };
    Cell {
        label,
        class,
        error,
    }
}

#[derive(Deserialize, Default)]
pub struct ProductsQuery {
    q: Option<String>,
    channel: Option<String>,
    state: Option<String>,
    after: Option<String>,
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Query(query): Query<ProductsQuery>,
) -> Result<Response, WebError> {
    let storage = state.storage();
    let channels = storage.list_channels(me.workspace_id).await?;
    let channel_filter: Option<ChannelId> = query
        .channel
        .as_deref()
        .filter(|c| !c.is_empty())
        .and_then(|c| c.parse().ok())
        .filter(|id| channels.iter().any(|c| c.id == *id));
    let state_filter = query.state.as_deref().and_then(ItemState::parse);
    let search = query.q.clone().filter(|q| !q.trim().is_empty());
    let views = storage
        .products_view(
            me.workspace_id,
            &ProductsFilter {
                search: search.clone(),
                channel: channel_filter,
                state: state_filter,
                after_sku: query.after.clone(),
                limit: PAGE,
            },
        )
        .await?;
    let rows: Vec<Row> = views
        .iter()
        .map(|v| Row {
            sku: v.sku.clone(),
            title: v.title.clone(),
            cells: channels
                .iter()
                .map(|c| {
                    cell(
                        v.states
                            .iter()
                            .find(|(id, _, _)| *id == c.id)
                            .map(|(_, s, e)| (*s, e.clone())),
                    )
                })
                .collect(),
        })
        .collect();
    let next = (views.len() as i64 == PAGE).then(|| {
        let mut url = url::Url::parse("http://x/products").expect("valid");
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = &search {
                q.append_pair("q", s);
            }
            if let Some(c) = channel_filter {
                q.append_pair("channel", &c.to_string());
            }
            if let Some(s) = state_filter {
                q.append_pair("state", s.as_str());
            }
            if let Some(last) = views.last() {
                q.append_pair("after", &last.sku);
            }
        }
        format!("/products?{}", url.query().unwrap_or_default())
    });
    let notice = (query.done.as_deref() == Some("sync")).then(|| {
        "Sync started: the shop is read again and every change goes to your channels.".to_owned()
    });
    Ok(render(&ProductsPage {
        nav: Nav::for_session(&session),
        csrf_token: session.csrf_token.clone(),
        notice,
        sync_products: storage
            .workspace_settings(me.workspace_id)
            .await?
            .sync_products,
        q: search.unwrap_or_default(),
        channel: channel_filter.map(|c| c.to_string()).unwrap_or_default(),
        state: state_filter
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        channels: channels
            .iter()
            .map(|c| (c.id.to_string(), c.name.clone()))
            .collect(),
        states: STATES.iter().map(|(s, l)| (s.as_str(), *l)).collect(),
        total: storage.catalog_count(me.workspace_id).await?,
        rows,
        next,
    }))
}

/// **Sync now**: a full read of the shop, then an export to every live channel.
pub async fn sync_now(State(state): State<AppState>, me: SignedIn) -> Result<Response, WebError> {
    state
        .flows()
        .catalog
        .enqueue_read(me.workspace_id, sync::CatalogRead::Full)
        .await?;
    tracing::info!(workspace = %me.workspace_id, "sync requested");
    Ok(Redirect::to("/products?done=sync").into_response())
}
