//! The Account page: which Mirakl Connect account, which marketplace stores and which
//! WooCommerce store are active, each with its health.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use domain::{ChannelKind, ShopConnection, ShopHealth, ShopPlatform};
use serde::Deserialize;
use storage::Shop;

use crate::AppState;
use crate::error::WebError;
use crate::session::{Session, SignedIn};
use crate::ui::dashboard::{describe_token, status_class, token_state};
use crate::ui::{Nav, format_time, render};

pub struct ChannelHealth {
    pub id: String,
    pub name: String,
    pub store: Option<String>,
    pub company: Option<String>,
    pub status: &'static str,
    pub status_class: &'static str,
    pub token: String,
    pub last_success: String,
}

pub struct ShopView {
    pub url: String,
    /// "WooCommerce store", "BigCommerce store".
    pub label: &'static str,
    pub health: &'static str,
    pub health_class: &'static str,
    pub advice: Option<String>,
    pub connection: &'static str,
    pub permissions: Option<String>,
    pub last_success: String,
    pub last_webhook: String,
    pub webhooks: Vec<String>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Nav,
    notice: Option<String>,
    connect: Option<ChannelHealth>,
    marketplaces: Vec<ChannelHealth>,
    shop: Option<ShopView>,
}

fn when(ms: Option<i64>) -> String {
    ms.map(format_time).unwrap_or_else(|| "Never".to_owned())
}

/// The shop's health in words, with what to do when it is not well.
pub fn shop_health(shop: &Shop) -> (&'static str, &'static str, Option<String>) {
    match shop.health {
        ShopHealth::Ok => ("Connected", "live", None),
        ShopHealth::Unreachable => (
            "Not answering",
            "bad",
            Some(format!(
                "Marketbridge cannot reach {}{}. Check that your site is online and that its address has not changed; syncing resumes by itself once it answers.",
                shop.store_url,
                shop.last_error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
            )),
        ),
        ShopHealth::KeysRefused => (
            "Keys refused",
            "bad",
            Some(match shop.platform {
                ShopPlatform::WooCommerce => "Your store refuses Marketbridge's API keys: they were probably revoked in WooCommerce → Settings → Advanced → REST API. Connect the store again to create new ones.",
                ShopPlatform::BigCommerce => "Your store refuses Marketbridge's API token: the app was uninstalled or the API account deleted. Install the app again, or paste a new API account's credentials.",
            }.to_owned()),
        ),
    }
}

#[derive(Deserialize, Default)]
pub struct AccountQuery {
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Query(q): Query<AccountQuery>,
) -> Result<Response, WebError> {
    let storage = state.storage();
    let mut connect = None;
    let mut marketplaces = Vec::new();
    for c in storage.list_channels(me.workspace_id).await? {
        let (token, error) = token_state(&state, &c).await?;
        let view = ChannelHealth {
            id: c.id.to_string(),
            name: c.name.clone(),
            store: c
                .store_name
                .as_ref()
                .zip(c.store_id)
                .map(|(n, id)| format!("{n} (store {id})")),
            company: c.company.clone(),
            status: c.status.label(),
            status_class: status_class(c.status),
            token: describe_token(token, error.as_deref()),
            last_success: when(c.last_success_at_ms),
        };
        match c.kind {
            ChannelKind::MiraklConnect => connect = Some(view),
            ChannelKind::Marketplace => marketplaces.push(view),
        }
    }
    let shop = match storage.get_shop(me.workspace_id).await? {
        Some(shop) => {
            let webhooks = storage
                .shop_webhooks(me.workspace_id, shop.id)
                .await?
                .into_iter()
                .map(|w| format!("{}: {}", w.topic, w.status))
                .collect();
            let (health, health_class, advice) = shop_health(&shop);
            Some(ShopView {
                label: crate::ui::onboarding::store_label(Some(shop.platform)),
                url: shop.store_url.clone(),
                health,
                health_class,
                advice,
                connection: match shop.connection {
                    ShopConnection::AppAuthorization => match shop.platform {
                        ShopPlatform::WooCommerce => "WooCommerce app authorization",
                        ShopPlatform::BigCommerce => {
                            "The Marketbridge app, installed from BigCommerce"
                        }
                    },
                    ShopConnection::PastedKeys => "API keys pasted by you",
                },
                permissions: shop.key_permissions.clone(),
                last_success: when(shop.last_success_at_ms),
                last_webhook: when(shop.last_webhook_at_ms),
                webhooks,
            })
        }
        None => None,
    };
    let notice = (q.done.as_deref() == Some("shop")).then(|| {
        format!(
            "Your {} is connected.",
            shop.as_ref().map_or("store", |s| s.label)
        )
    });
    Ok(render(&AccountPage {
        nav: Nav::for_session(&session),
        notice,
        connect,
        marketplaces,
        shop,
    }))
}
