//! The store's control panel, reduced to **My Apps** (`/bc/manage/{hash}`): each registered
//! app with **Install** (a fresh code, then the browser goes to the app's auth callback with
//! `code`, `scope`, `context=stores/{hash}` and `account_uuid`), and once installed **Open**
//! (the browser goes to the app's load callback with a fresh `signed_payload_jwt`, as the
//! control panel does each time the merchant opens the app) and **Uninstall** (the app's
//! uninstall callback, server to server, and the `store/app/uninstalled` hooks).
//!
//! An app that has exchanged its code may send the browser to `…/apps/{client_id}/load` to be
//! loaded as BigCommerce loads an app after its install. ASSUMPTION (local use): the page asks
//! for no merchant login, as the sandbox's own pages do not.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::Sandbox;
use crate::bc::app::{self, AppError, account_uuid};
use crate::page;

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/bc/manage/{hash}", get(apps))
        .route("/bc/manage/{hash}/apps/{client_id}/install", post(install))
        .route("/bc/manage/{hash}/apps/{client_id}/load", get(load))
        .route(
            "/bc/manage/{hash}/apps/{client_id}/uninstall",
            post(uninstall),
        )
}

struct AppRow {
    client_id: String,
    name: String,
    installed: bool,
}

#[derive(Template)]
#[template(path = "bc/apps.html")]
struct AppsPage {
    store_name: String,
    store_hash: String,
    apps: Vec<AppRow>,
}

fn refused(error: &AppError) -> Response {
    let status = match error {
        AppError::NotInstalled(_) => StatusCode::CONFLICT,
        _ => StatusCode::NOT_FOUND,
    };
    page::error(status, "The app could not be reached", &error.to_string())
}

fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}

async fn apps(State(sandbox): State<Sandbox>, Path(hash): Path<String>) -> Response {
    let world = sandbox.world();
    let Some(store) = world.bc.stores.get(&hash) else {
        return refused(&AppError::UnknownStore(hash));
    };
    let apps = world
        .bc
        .apps
        .values()
        .map(|app| AppRow {
            client_id: app.client_id.clone(),
            name: app.name.clone(),
            installed: store.installed.contains_key(&app.client_id),
        })
        .collect();
    page::render(
        StatusCode::OK,
        &AppsPage {
            store_name: store.name.clone(),
            store_hash: hash.clone(),
            apps,
        },
    )
}

async fn install(
    State(sandbox): State<Sandbox>,
    Path((hash, client_id)): Path<(String, String)>,
) -> Response {
    let mut world = sandbox.world();
    let issued = match app::issue_code(&mut world, &hash, &client_id) {
        Ok(issued) => issued,
        Err(error) => return refused(&error),
    };
    let callback = world.bc.apps[&client_id].auth_callback.clone();
    let account = account_uuid(&hash);
    match url::Url::parse_with_params(
        &callback,
        [
            ("code", issued.code.as_str()),
            ("scope", issued.scope.as_str()),
            ("context", issued.context.as_str()),
            ("account_uuid", account.as_str()),
        ],
    ) {
        Ok(url) => see_other(url.as_str()),
        Err(_) => page::error(
            StatusCode::BAD_GATEWAY,
            "The app's auth callback is not a URL",
            &format!(
                "The app's auth callback '{callback}' is not a URL; set it with POST /sandbox/api/bc/apps/{client_id}/callbacks."
            ),
        ),
    }
}

async fn load(
    State(sandbox): State<Sandbox>,
    Path((hash, client_id)): Path<(String, String)>,
) -> Response {
    let world = sandbox.world();
    let installed = world
        .bc
        .stores
        .get(&hash)
        .is_some_and(|store| store.installed.contains_key(&client_id));
    if world.bc.stores.contains_key(&hash) && world.bc.apps.contains_key(&client_id) && !installed {
        return refused(&AppError::NotInstalled(client_id));
    }
    let jwt = match app::signed_payload(&world, &hash, &client_id) {
        Ok(jwt) => jwt,
        Err(error) => return refused(&error),
    };
    let callback = world.bc.apps[&client_id].load_callback.clone();
    match url::Url::parse_with_params(&callback, [("signed_payload_jwt", jwt.as_str())]) {
        Ok(url) => see_other(url.as_str()),
        Err(_) => page::error(
            StatusCode::BAD_GATEWAY,
            "The app's load callback is not a URL",
            &format!("The app's load callback '{callback}' is not a URL."),
        ),
    }
}

async fn uninstall(
    State(sandbox): State<Sandbox>,
    Path((hash, client_id)): Path<(String, String)>,
) -> Response {
    match sandbox.bc_uninstall_app(&hash, &client_id).await {
        Ok(()) => see_other(&format!("/bc/manage/{hash}")),
        Err(error) => refused(&error),
    }
}
