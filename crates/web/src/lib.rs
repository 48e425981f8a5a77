//! The connector's web server: the seller's pages, browser sessions with CSRF protection, and
//! the Mirakl OAuth callback. Handlers are thin: they parse the request, call storage, the
//! Mirakl clients or the flows in `sync`, and render a page. No SQL here.

mod api;
mod error;
mod form;
mod input;
mod password;
mod readiness;
mod session;
mod ui;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use domain::MarketplaceDefinition;
use storage::Storage;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use url::Url;

pub use api::token::ApiTokenSecret;
pub use error::WebError;
pub use session::SESSION_COOKIE;

/// The largest request body any route accepts. Seller forms are tiny; anything larger is a
/// mistake or an attack and gets a 413 before a handler sees it.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Everything the handlers need, shared by every request.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    storage: Storage,
    /// Every flow the pages start (F1, F2, catalog, Disconnect) and the job queue.
    flows: sync::Flows,
    marketplaces: Vec<MarketplaceDefinition>,
    config: WebConfig,
    /// The marketplaces' attributes and categories read lately, for the product creation page.
    marketplace_configurations: ui::product_creation::ConfigurationCache,
}

#[derive(Clone, Debug)]
pub struct WebConfig {
    /// How sellers reach this server, e.g. `http://localhost:8080`. Cookies are `Secure` and
    /// `__Host-` prefixed when this is https.
    pub public_url: Url,
    pub session_ttl: Duration,
    /// How long a seller has to finish the Mirakl authorization once started.
    pub authorization_ttl: Duration,
}

impl WebConfig {
    pub fn new(public_url: Url) -> Self {
        Self {
            public_url,
            session_ttl: Duration::from_secs(12 * 3600),
            authorization_ttl: Duration::from_secs(10 * 60),
        }
    }

    fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }
}

/// What the web application is built from.
pub struct AppParts {
    pub storage: Storage,
    pub flows: sync::Flows,
    pub marketplaces: Vec<MarketplaceDefinition>,
    pub config: WebConfig,
}

impl AppState {
    pub fn new(parts: AppParts) -> Self {
        let AppParts {
            storage,
            flows,
            marketplaces,
            config,
        } = parts;
        Self {
            inner: Arc::new(Inner {
                storage,
                flows,
                marketplaces,
                config,
                marketplace_configurations: Default::default(),
            }),
        }
    }

    fn flows(&self) -> &sync::Flows {
        &self.inner.flows
    }

    fn storage(&self) -> &Storage {
        &self.inner.storage
    }

    fn config(&self) -> &WebConfig {
        &self.inner.config
    }

    fn marketplace_definition(&self, code: &str) -> Option<&MarketplaceDefinition> {
        self.inner.marketplaces.iter().find(|m| m.code == code)
    }
}

/// The span of one request: its id (`x-request-id`, made here when the request came without
/// one, and sent back with the answer), method and path, and the workspace once known. The
/// query string is left out on purpose: the OAuth callback carries the authorization code and
/// state there.
fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|id| id.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        request_id,
        method = %req.method(),
        path = %req.uri().path(),
        workspace = tracing::field::Empty
    )
}

/// Puts the signed-in seller's workspace in the request's span, so every line logged while
/// serving the request carries it.
async fn record_workspace(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if let Some((_, workspace)) = req
        .extensions()
        .get::<session::Session>()
        .and_then(|s| s.user)
    {
        tracing::Span::current().record("workspace", tracing::field::display(workspace));
    }
    next.run(req).await
}

/// What every answer tells the browser: no page of ours may be framed (clickjacking), no
/// answer is sniffed into another type, no address leaks to other sites in `Referer`, and
/// only our own scripts, styles and images run or load. `form-action` is left out on purpose:
/// browsers apply it to the redirects after a form, and the authorization and store
/// connection forms redirect to Mirakl and to the seller's store.
fn with_security_headers<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";
    let set =
        |name, value| SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value));
    router
        .layer(set(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(header::REFERRER_POLICY, "same-origin"))
}

/// The whole connector web application.
pub fn router(state: AppState) -> Router {
    let pages = Router::new()
        .route("/", get(ui::dashboard::show))
        .route(
            "/sign-up",
            get(ui::accounts::sign_up_form).post(ui::accounts::sign_up),
        )
        .route(
            "/sign-in",
            get(ui::accounts::sign_in_form).post(ui::accounts::sign_in),
        )
        .route("/sign-out", post(ui::accounts::sign_out))
        .route("/onboarding", get(ui::onboarding::show))
        .route(
            "/onboarding/mirakl-connect",
            post(ui::onboarding::authorize_connect),
        )
        .route("/onboarding/settings", post(ui::onboarding::save_settings))
        .route("/onboarding/import", post(ui::onboarding::import_settings))
        .route("/onboarding/launch", post(ui::onboarding::launch))
        .route("/account", get(ui::account::show))
        .route("/account/api-tokens", post(ui::account::create_token))
        .route(
            "/account/api-tokens/{id}/revoke",
            post(ui::account::revoke_token),
        )
        .route(
            "/account/disconnect",
            get(ui::disconnect::show).post(ui::disconnect::start),
        )
        .route(
            "/account/disconnect/progress",
            get(ui::disconnect::progress),
        )
        .route("/account/disconnect/retry", post(ui::disconnect::retry))
        .route(
            "/account/settings.json",
            get(ui::disconnect::download_settings),
        )
        .route("/products", get(ui::products::show))
        .route("/products/sync", post(ui::products::sync_now))
        .route(
            "/settings/products",
            get(ui::product_settings::show).post(ui::product_settings::save),
        )
        .route("/orders", get(ui::orders::show))
        .route("/orders/{id}", get(ui::orders::detail::show))
        .route("/orders/{id}/accept", post(ui::orders::detail::accept))
        .route("/orders/{id}/refuse", post(ui::orders::detail::refuse))
        .route("/orders/{id}/retry", post(ui::orders::detail::retry))
        .route(
            "/settings/orders",
            get(ui::order_settings::show).post(ui::order_settings::save),
        )
        .route("/shop", get(ui::onboarding::shop_form))
        .route("/shop/connect", post(ui::shop::connect))
        .route(
            "/shop/bigcommerce/connect",
            post(ui::shop::connect_bigcommerce),
        )
        .route("/shop/woocommerce/return", get(ui::shop::return_from_store))
        .route("/channels/new", get(ui::channels::new_form))
        .route("/channels", post(ui::channels::create))
        .route("/channels/{id}", get(ui::channels::settings))
        .route("/channels/{id}/authorize", post(ui::channels::authorize))
        .route("/channels/{id}/store", post(ui::channels::verify_store))
        .route("/channels/{id}/launch", post(ui::channels::launch))
        .route(
            "/channels/{id}/overrides",
            post(ui::channels::save_overrides),
        )
        .route(
            "/channels/{id}/product-creation",
            get(ui::product_creation::show).post(ui::product_creation::save),
        )
        .route(
            "/channels/{id}/product-creation/stop",
            post(ui::product_creation::stop),
        )
        .route(
            "/channels/{id}/remove",
            post(ui::disconnect::remove_channel),
        )
        .route("/oauth/mirakl/callback", get(ui::oauth::callback))
        .route("/bigcommerce/auth", get(ui::bigcommerce::auth))
        .route("/bigcommerce/load", get(ui::bigcommerce::load))
        .layer(axum::middleware::from_fn(input::input_guard))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::csrf_guard,
        ))
        .layer(axum::middleware::from_fn(record_workspace))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::load_session,
        ));

    // Server-to-server endpoints: no browser session, so no cookie and no CSRF token; each
    // proves itself another way (a single-use token, a signature).
    let from_stores = Router::new()
        .route("/shop/woocommerce/keys", post(ui::shop::receive_keys))
        .route("/bigcommerce/uninstall", get(ui::bigcommerce::uninstall))
        .route(
            "/bigcommerce/remove-user",
            get(ui::bigcommerce::remove_user),
        );
    let webhooks = Router::new()
        .route("/webhooks/woocommerce/{shop_id}", post(webhooks::receive))
        .route("/webhooks/bigcommerce/{shop_id}", post(webhooks::receive))
        .layer(DefaultBodyLimit::max(webhooks::MAX_WEBHOOK_BYTES))
        .layer(RequestBodyLimitLayer::new(webhooks::MAX_WEBHOOK_BYTES));

    let app = Router::new()
        .merge(
            pages
                .merge(from_stores)
                .route("/healthz", get(ui::health))
                .route("/readyz", get(readiness::ready))
                .route("/assets/style.css", get(ui::stylesheet))
                .route("/assets/disconnect.js", get(ui::disconnect_script))
                .fallback(ui::not_found)
                .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
                .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES)),
        )
        .merge(webhooks)
        .merge(api::router());
    with_security_headers(app)
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}
