//! The Account page: which Mirakl Connect account, which marketplace stores and which
//! WooCommerce store are active, each with its health; and the workspace's API tokens, each
//! created here, shown once, and revocable.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::{ChannelKind, ShopConnection, ShopHealth, ShopPlatform};
use serde::Deserialize;
use storage::{ApiScope, ApiToken, NewApiToken, Shop, now_ms};

use crate::AppState;
use crate::api::token::ApiTokenSecret;
use crate::error::WebError;
use crate::form::Form;
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

/// One line of the API tokens table.
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub access: &'static str,
    pub created: String,
    pub last_used: String,
    pub revoked: Option<String>,
}

/// The longest token name the form accepts.
const MAX_TOKEN_NAME: usize = 100;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Nav,
    csrf_token: String,
    notice: Option<String>,
    connect: Option<ChannelHealth>,
    marketplaces: Vec<ChannelHealth>,
    shop: Option<ShopView>,
    tokens: Vec<TokenView>,
    /// A token just created: (name, the token), shown this once.
    new_token: Option<(String, String)>,
    token_error: Option<String>,
    max_token_name: usize,
}

/// The access a scope gives, in the form's words.
fn access_label(scope: ApiScope) -> &'static str {
    match scope {
        ApiScope::Read => "Read only",
        ApiScope::ReadWrite => "Read and write",
    }
}

fn token_view(t: ApiToken) -> TokenView {
    TokenView {
        id: t.id.to_string(),
        name: t.name,
        prefix: t.display_prefix,
        access: access_label(t.scope),
        created: format_time(t.created_at_ms),
        last_used: when(t.last_used_at_ms),
        revoked: t.revoked_at_ms.map(format_time),
    }
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
    let page = page(&state, me, &session, q.done.as_deref(), None, None).await?;
    Ok(render(&page))
}

#[derive(Deserialize)]
pub struct NewTokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    access: String,
}

/// **Create token**: the page again, with the new token shown this once. It is rendered, not
/// redirected to, so the token never travels in an address (history, logs); and the answer
/// is not cached.
pub async fn create_token(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Form(form): Form<NewTokenForm>,
) -> Result<Response, WebError> {
    let name = form.name.trim();
    let refusal = if name.is_empty() {
        Some("Give the token a name, such as the tool that will use it.".to_owned())
    } else if name.chars().count() > MAX_TOKEN_NAME {
        Some(format!(
            "A token name has at most {MAX_TOKEN_NAME} characters."
        ))
    } else {
        None
    };
    let scope = ApiScope::parse(&form.access);
    let (Some(scope), None) = (scope, refusal.clone()) else {
        let error = refusal.unwrap_or_else(|| "Choose the token's access.".to_owned());
        let page = page(&state, me, &session, None, None, Some(error)).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
    };
    let secret = ApiTokenSecret::mint();
    state
        .storage()
        .create_api_token(
            me.workspace_id,
            NewApiToken {
                token_hash: &secret.hash(),
                display_prefix: secret.display_prefix(),
                name,
                scope,
            },
            now_ms(),
        )
        .await?;
    tracing::info!(workspace = %me.workspace_id, scope = scope.as_str(), "API token created");
    let created = Some((name.to_owned(), secret.expose().to_owned()));
    let page = page(&state, me, &session, None, created, None).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], render(&page)).into_response())
}

/// **Revoke**: the token opens nothing from now on. A token of another workspace is a 404.
pub async fn revoke_token(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: uuid::Uuid = id.parse().map_err(|_| WebError::NotFound)?;
    state
        .storage()
        .revoke_api_token(me.workspace_id, id, now_ms())
        .await?;
    tracing::info!(workspace = %me.workspace_id, token = %id, "API token revoked");
    Ok(Redirect::to("/account?done=token_revoked#api-tokens").into_response())
}

async fn page(
    state: &AppState,
    me: SignedIn,
    session: &Session,
    done: Option<&str>,
    new_token: Option<(String, String)>,
    token_error: Option<String>,
) -> Result<AccountPage, WebError> {
    let storage = state.storage();
    let mut connect = None;
    let mut marketplaces = Vec::new();
    for c in storage.list_channels(me.workspace_id).await? {
        let (token, error) = token_state(state, &c).await?;
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
    let notice = match done {
        Some("shop") => Some(format!(
            "Your {} is connected.",
            shop.as_ref().map_or("store", |s| s.label)
        )),
        Some("token_revoked") => {
            Some("The token is revoked: requests that send it are refused.".to_owned())
        }
        _ => None,
    };
    let tokens = storage
        .api_tokens(me.workspace_id)
        .await?
        .into_iter()
        .map(token_view)
        .collect();
    Ok(AccountPage {
        nav: Nav::for_session(session),
        csrf_token: session.csrf_token.clone(),
        notice,
        connect,
        marketplaces,
        shop,
        tokens,
        new_token,
        token_error,
        max_token_name: MAX_TOKEN_NAME,
    })
}
