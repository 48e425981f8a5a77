//! What tests, benchmarks and the demo do to the BigCommerce stores from outside: as Rust
//! calls on [`Sandbox`] and as the control API under `/sandbox/api/bc/…`.
//!
//! - `POST /sandbox/api/bc/stores/{hash}/install-code {client_id?}` → `{code, scope, context}`
//! - `GET /sandbox/api/bc/stores/{hash}/signed-payload?client_id=` → `{signed_payload_jwt,
//!   load_url}`
//! - `POST /sandbox/api/bc/stores/{hash}/uninstall {client_id?}`: the app's uninstall
//!   callback and the `store/app/uninstalled` hooks
//! - `POST /sandbox/api/bc/apps/{client_id}/callbacks {auth_callback?, load_callback?,
//!   uninstall_callback?}`
//! - `POST /sandbox/api/bc/stores/{hash}/rate-limit {quota}`
//! - `POST /sandbox/api/bc/hook-retries {scale}`
//! - `GET /sandbox/api/bc/stores/{hash}/hook-attempts`
//!
//! `client_id` defaults to the demo app's.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Sandbox;
use crate::bc::app::{self, AppError, IssuedCode};
use crate::bc::delivery::HookAttempt;
use crate::bc::seed::DEMO_CLIENT_ID;

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match self {
            AppError::UnknownStore(_) | AppError::UnknownApp(_) => StatusCode::NOT_FOUND,
            AppError::NotInstalled(_) => StatusCode::CONFLICT,
        };
        (status, Json(json!({ "message": self.to_string() }))).into_response()
    }
}

impl Sandbox {
    /// Adds an empty store (no products) reached with the API token `token`.
    pub fn bc_create_store(&self, hash: &str, name: &str, token: &str) {
        let mut world = self.world();
        let store_id = 1_000_001 + world.bc.stores.len() as i64;
        world.bc.stores.insert(
            hash.to_owned(),
            crate::bc::seed::empty(hash, store_id, name, token),
        );
    }

    /// A product as `GET /v3/catalog/products/{id}?include=variants` shows it.
    pub fn bc_product(&self, hash: &str, id: i64) -> Option<Value> {
        let world = self.world();
        Some(world.bc.stores.get(hash)?.products.get(&id)?.to_json(true))
    }

    /// Every product id of a store, in order.
    pub fn bc_product_ids(&self, hash: &str) -> Vec<i64> {
        self.world()
            .bc
            .stores
            .get(hash)
            .map(|store| store.products.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Sets the stock of a product, or of one variant, as a merchant editing it in the control
    /// panel would (the inventory hooks fire). A product that tracks no stock starts tracking
    /// it, at the product's level or per variant as `variant_id` says, as when the merchant
    /// types a level into the control panel's stock field.
    pub fn bc_set_stock(&self, hash: &str, product_id: i64, variant_id: Option<i64>, level: i64) {
        let _ = self.bc_write(hash, false, |store, _| {
            let Some(product) = store.products.get_mut(&product_id) else {
                return Ok(());
            };
            if product.inventory_tracking == crate::bc::model::Tracking::None {
                product.inventory_tracking = if variant_id.is_some() {
                    crate::bc::model::Tracking::Variant
                } else {
                    crate::bc::model::Tracking::Product
                };
            }
            let current = match variant_id {
                Some(variant_id) => product.variant(variant_id).map(|v| v.inventory_level),
                None => Some(product.inventory_level),
            };
            if let Some(current) = current {
                let variant = variant_id.or(product.base_variant_id()).unwrap_or(0);
                store.move_stock(
                    product_id,
                    variant,
                    level - current,
                    crate::bc::model::StockMove::Set,
                );
            }
            Ok(())
        });
    }

    /// Sets the price of a product, or of one variant, as a merchant editing it in the control
    /// panel would (the product's or the SKU's update hook fires).
    pub fn bc_set_price(&self, hash: &str, product_id: i64, variant_id: Option<i64>, price: &str) {
        let price = crate::values::money::Money::parse(price).expect("a price like 12.50");
        let _ = self.bc_write(hash, false, |store, _| {
            let Some(product) = store.products.get_mut(&product_id) else {
                return Ok(());
            };
            match variant_id {
                Some(variant_id) => {
                    if let Some(variant) = product.variant_mut(variant_id) {
                        variant.price = Some(price);
                    }
                }
                None => {
                    product.price = price;
                    product.sync_base_variant();
                }
            }
            product.date_modified = time::OffsetDateTime::now_utc();
            match variant_id {
                Some(variant_id) => store.fire(
                    "store/sku/updated",
                    json!({ "type": "sku", "id": variant_id,
                            "sku": { "product_id": product_id, "variant_id": variant_id } }),
                ),
                None => store.fire(
                    "store/product/updated",
                    json!({ "type": "product", "id": product_id }),
                ),
            }
            Ok(())
        });
    }

    /// An order as `GET /v2/orders/{id}` shows it.
    pub fn bc_order(&self, hash: &str, id: i64) -> Option<Value> {
        let world = self.world();
        let api = world.url(&format!("/bc/stores/{hash}"));
        Some(world.bc.stores.get(hash)?.orders.get(&id)?.to_json(&api))
    }

    /// Every order id of a store, oldest first.
    pub fn bc_order_ids(&self, hash: &str) -> Vec<i64> {
        self.world()
            .bc
            .stores
            .get(hash)
            .map(|store| store.orders.keys().copied().collect())
            .unwrap_or_default()
    }

    /// A fresh install code for an app on a store, as the control panel's Install makes.
    pub fn bc_install_code(&self, hash: &str, client_id: &str) -> Result<IssuedCode, AppError> {
        app::issue_code(&mut self.world(), hash, client_id)
    }

    /// A fresh `signed_payload_jwt` for an app on a store, as the control panel sends to the
    /// app's load callback.
    pub fn bc_signed_payload(&self, hash: &str, client_id: &str) -> Result<String, AppError> {
        app::signed_payload(&self.world(), hash, client_id)
    }

    /// Where an app's callbacks are (each left as it is when `None`): the connector gives its
    /// own.
    pub fn bc_set_app_callbacks(
        &self,
        client_id: &str,
        auth: Option<&str>,
        load: Option<&str>,
        uninstall: Option<&str>,
    ) -> Result<(), AppError> {
        let mut world = self.world();
        let app = world
            .bc
            .apps
            .get_mut(client_id)
            .ok_or_else(|| AppError::UnknownApp(client_id.to_owned()))?;
        for (value, slot) in [
            (auth, &mut app.auth_callback),
            (load, &mut app.load_callback),
            (uninstall, &mut app.uninstall_callback),
        ] {
            if let Some(value) = value {
                *slot = value.to_owned();
            }
        }
        Ok(())
    }

    /// Whether an app holds a token for a store.
    pub fn bc_app_installed(&self, hash: &str, client_id: &str) -> bool {
        self.world()
            .bc
            .stores
            .get(hash)
            .is_some_and(|store| store.installed.contains_key(client_id))
    }

    /// Uninstalls an app, as the merchant does in the control panel: its token stops working,
    /// its `store/app/uninstalled` hooks fire and then its hooks are gone, and its uninstall
    /// callback is called server to server with a `signed_payload_jwt` (its answer is logged,
    /// not awaited for anything).
    pub async fn bc_uninstall_app(&self, hash: &str, client_id: &str) -> Result<(), AppError> {
        let (url, jwt) = {
            let mut world = self.world();
            let jwt = app::signed_payload(&world, hash, client_id)?;
            let url = world.bc.apps[client_id].uninstall_callback.clone();
            let store = world
                .bc
                .stores
                .get_mut(hash)
                .ok_or_else(|| AppError::UnknownStore(hash.to_owned()))?;
            let token = store
                .installed
                .remove(client_id)
                .ok_or_else(|| AppError::NotInstalled(client_id.to_owned()))?;
            store.tokens.remove(&token);
            store.fire(
                "store/app/uninstalled",
                json!({ "type": "app", "id": client_id }),
            );
            self.bc_hooks.flush(&mut world);
            if let Some(store) = world.bc.stores.get_mut(hash) {
                store
                    .hooks
                    .retain(|_, hook| hook.client_id.as_deref() != Some(client_id));
            }
            world.count_call("bc.app.uninstall_callback");
            (url, jwt)
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a plain HTTP client builds");
        match client
            .get(&url)
            .query(&[("signed_payload_jwt", jwt.as_str())])
            .send()
            .await
        {
            Ok(response) => {
                tracing::info!(status = response.status().as_u16(), %url, "uninstall callback answered")
            }
            Err(error) => tracing::info!(%error, %url, "uninstall callback failed"),
        }
        Ok(())
    }

    /// The factor on BigCommerce's hook retry schedule from now on: 1.0 (the default) is the
    /// documented one (about 48 hours before a hook is deactivated), 0.0 retries at once.
    ///
    /// # Panics
    /// When `scale` is negative or not a number.
    pub fn bc_set_hook_retry_scale(&self, scale: f64) {
        assert!(
            scale.is_finite() && scale >= 0.0,
            "the retry scale is a number of 0 or more"
        );
        self.world().bc.retry_scale = scale;
    }

    /// Deactivates every hook of a store, as BigCommerce does to one whose deliveries failed
    /// through its whole retry window: nothing is delivered until the app activates or
    /// registers them again.
    pub fn bc_deactivate_hooks(&self, hash: &str) {
        if let Some(store) = self.world().bc.stores.get_mut(hash) {
            let now = crate::values::clock::now();
            for hook in store.hooks.values_mut() {
                hook.is_active = false;
                hook.updated_at = now;
            }
        }
    }

    /// The requests a store allows per window (150 by default; the window is 30 s times the
    /// budget scale, see `set_budget_scale`).
    pub fn bc_set_rate_quota(&self, hash: &str, quota: u32) {
        if let Some(store) = self.world().bc.stores.get_mut(hash) {
            store.rate.quota = quota;
        }
    }

    /// Returns once every hook delivery queued so far has succeeded or been given up (after
    /// its retries: see `bc_set_hook_retry_scale`).
    pub async fn settle_bc_hooks(&self) {
        self.bc_hooks.settle().await;
    }

    /// Every attempt to deliver a store's hooks, oldest first.
    pub fn bc_hook_attempts(&self, hash: &str) -> Vec<HookAttempt> {
        self.world()
            .bc
            .stores
            .get(hash)
            .map(|store| store.hook_log.clone())
            .unwrap_or_default()
    }

    /// A store's hooks as `GET /v3/hooks` shows them.
    pub fn bc_hooks(&self, hash: &str) -> Vec<Value> {
        self.world()
            .bc
            .stores
            .get(hash)
            .map(|store| {
                store
                    .hooks
                    .values()
                    .map(|hook| hook.to_json(hash))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The BigCommerce part of `GET /sandbox/api/state`.
pub fn state_view(world: &crate::world::World) -> Vec<Value> {
    world
        .bc
        .stores
        .values()
        .map(|store| {
            json!({
                "hash": store.hash,
                "name": store.name,
                "api_url": world.url(&format!("/bc/stores/{}", store.hash)),
                "control_panel": world.url(&format!("/bc/manage/{}", store.hash)),
                "products": store.products.len(),
                "orders": store.orders.len(),
                "hooks": store.hooks.len(),
                "apps_installed": store.installed.keys().collect::<Vec<_>>(),
            })
        })
        .collect()
}

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route(
            "/sandbox/api/bc/stores/{hash}/install-code",
            post(install_code),
        )
        .route(
            "/sandbox/api/bc/stores/{hash}/signed-payload",
            get(signed_payload),
        )
        .route("/sandbox/api/bc/stores/{hash}/uninstall", post(uninstall))
        .route("/sandbox/api/bc/stores/{hash}/rate-limit", post(rate_limit))
        .route(
            "/sandbox/api/bc/stores/{hash}/hook-attempts",
            get(hook_attempts),
        )
        .route(
            "/sandbox/api/bc/apps/{client_id}/callbacks",
            post(callbacks),
        )
        .route("/sandbox/api/bc/hook-retries", post(hook_retries))
}

#[derive(Deserialize, Default)]
struct ForApp {
    client_id: Option<String>,
}

impl ForApp {
    fn client_id(&self) -> &str {
        self.client_id.as_deref().unwrap_or(DEMO_CLIENT_ID)
    }
}

async fn install_code(
    State(sandbox): State<Sandbox>,
    Path(hash): Path<String>,
    body: Option<Json<ForApp>>,
) -> Result<Response, AppError> {
    let app = body.map(|Json(app)| app).unwrap_or_default();
    Ok(Json(sandbox.bc_install_code(&hash, app.client_id())?).into_response())
}

async fn signed_payload(
    State(sandbox): State<Sandbox>,
    Path(hash): Path<String>,
    Query(app): Query<ForApp>,
) -> Result<Response, AppError> {
    let jwt = sandbox.bc_signed_payload(&hash, app.client_id())?;
    let load = sandbox.world().bc.apps[app.client_id()]
        .load_callback
        .clone();
    let load_url = url::Url::parse_with_params(&load, [("signed_payload_jwt", &jwt)])
        .map_or(String::new(), String::from);
    Ok(Json(json!({ "signed_payload_jwt": jwt, "load_url": load_url })).into_response())
}

async fn uninstall(
    State(sandbox): State<Sandbox>,
    Path(hash): Path<String>,
    body: Option<Json<ForApp>>,
) -> Result<Response, AppError> {
    let app = body.map(|Json(app)| app).unwrap_or_default();
    sandbox.bc_uninstall_app(&hash, app.client_id()).await?;
    Ok(Json(json!({ "uninstalled": true })).into_response())
}

#[derive(Deserialize)]
struct Callbacks {
    auth_callback: Option<String>,
    load_callback: Option<String>,
    uninstall_callback: Option<String>,
}

async fn callbacks(
    State(sandbox): State<Sandbox>,
    Path(client_id): Path<String>,
    Json(request): Json<Callbacks>,
) -> Result<Response, AppError> {
    for url in [
        &request.auth_callback,
        &request.load_callback,
        &request.uninstall_callback,
    ]
    .into_iter()
    .flatten()
    {
        if url::Url::parse(url).is_err() {
            return Ok((
                StatusCode::BAD_REQUEST,
                Json(json!({ "message": format!("'{url}' is not a URL.") })),
            )
                .into_response());
        }
    }
    sandbox.bc_set_app_callbacks(
        &client_id,
        request.auth_callback.as_deref(),
        request.load_callback.as_deref(),
        request.uninstall_callback.as_deref(),
    )?;
    Ok(Json(json!({ "client_id": client_id })).into_response())
}

#[derive(Deserialize)]
struct Quota {
    quota: u32,
}

async fn rate_limit(
    State(sandbox): State<Sandbox>,
    Path(hash): Path<String>,
    Json(request): Json<Quota>,
) -> Result<Response, AppError> {
    if !sandbox.world().bc.stores.contains_key(&hash) {
        return Err(AppError::UnknownStore(hash));
    }
    sandbox.bc_set_rate_quota(&hash, request.quota);
    Ok(Json(json!({ "quota": request.quota })).into_response())
}

#[derive(Deserialize)]
struct Scale {
    scale: f64,
}

async fn hook_retries(State(sandbox): State<Sandbox>, Json(request): Json<Scale>) -> Response {
    if !(request.scale.is_finite() && request.scale >= 0.0) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "message": "The retry scale is a number of 0 or more." })),
        )
            .into_response();
    }
    sandbox.bc_set_hook_retry_scale(request.scale);
    Json(json!({ "scale": request.scale })).into_response()
}

async fn hook_attempts(
    State(sandbox): State<Sandbox>,
    Path(hash): Path<String>,
) -> Result<Response, AppError> {
    if !sandbox.world().bc.stores.contains_key(&hash) {
        return Err(AppError::UnknownStore(hash));
    }
    let attempts: Vec<Value> = sandbox
        .bc_hook_attempts(&hash)
        .into_iter()
        .map(|attempt| {
            json!({
                "hook_id": attempt.hook_id,
                "scope": attempt.scope,
                "destination": attempt.destination,
                "attempt": attempt.attempt,
                "status": attempt.status,
                "error": attempt.error,
            })
        })
        .collect();
    Ok(Json(attempts).into_response())
}
