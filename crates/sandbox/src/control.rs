//! The sandbox's own pages (`/sandbox`, `/sandbox/mailbox`) and its JSON control API
//! (`/sandbox/api/…`), through which tests and benchmarks observe and steer the emulators: call
//! counts, token lifetimes, call budgets and faults here; the WooCommerce, marketplace and
//! Connect parts in `woo::control`, `marketplace::control` and `connect`.
//! Secrets (passwords, client secrets, tokens) never appear here.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::gate::{FaultRates, scale_problem};
use crate::page;
use crate::world::{Company, GrantKind, ShopState, User, World};
use crate::{Sandbox, marketplace};

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/sandbox", get(overview))
        .route("/sandbox/mailbox", get(mailbox))
        .route("/sandbox/api/state", get(state))
        .route("/sandbox/api/calls", get(calls))
        .route("/sandbox/api/mas/revoke-grants", post(revoke_grants))
        .route("/sandbox/api/mas/token-lifetimes", post(token_lifetimes))
        .route("/sandbox/api/budgets", post(budgets))
        .route("/sandbox/api/faults", post(faults))
        .route("/sandbox/api/orders/delays", post(order_delays))
}

struct WooStoreLine {
    name: String,
    code: String,
    url: String,
    admin: String,
    products: usize,
    orders: usize,
    webhooks: usize,
    down: bool,
}

struct MarketplaceLine {
    name: String,
    instance: String,
    base_url: String,
    stores: String,
    catalog_products: usize,
    orders: String,
}

#[derive(Template)]
#[template(path = "sandbox/overview.html")]
struct OverviewPage {
    title: &'static str,
    mas_url: String,
    authorize_url: String,
    token_url: String,
    marketplaces: Vec<MarketplaceLine>,
    woo_stores: Vec<WooStoreLine>,
    connect_url: String,
    companies: Vec<String>,
    budgets: String,
    faults: String,
    order_delays: String,
    users: Vec<String>,
    clients: Vec<String>,
    mail_count: usize,
}

/// A mail body cut into text and links, so the reset link can be clicked.
enum Fragment {
    Text(String),
    Link(String),
}

struct MailView {
    to: String,
    subject: String,
    sent_at: String,
    body: Vec<Fragment>,
}

#[derive(Template)]
#[template(path = "sandbox/mailbox.html")]
struct MailboxPage {
    title: &'static str,
    mails: Vec<MailView>,
}

/// How many orders are in each state, e.g. "3 orders: 1 SHIPPING, 2 WAITING_ACCEPTANCE".
fn orders_in_words<'s>(states: impl Iterator<Item = &'s str>) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for state in states {
        *counts.entry(state).or_insert(0) += 1;
    }
    if counts.is_empty() {
        return "no orders".to_owned();
    }
    let by_state: Vec<String> = counts
        .iter()
        .map(|(state, count)| format!("{count} {state}"))
        .collect();
    let total: usize = counts.values().sum();
    let noun = if total == 1 { "order" } else { "orders" };
    format!("{total} {noun}: {}", by_state.join(", "))
}

async fn overview(State(sandbox): State<Sandbox>) -> Response {
    let mut world = sandbox.world();
    world.catch_up_orders();
    let marketplaces = world
        .marketplaces
        .values()
        .map(|marketplace| MarketplaceLine {
            name: marketplace.name.clone(),
            instance: marketplace.instance.clone(),
            base_url: world.url(&format!("/mmp/{}/api", marketplace.instance)),
            stores: marketplace
                .stores
                .values()
                .map(|store| {
                    format!(
                        "{} ({}): {} offers",
                        store.name,
                        store.shop_id,
                        store.offers.len()
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            catalog_products: marketplace.catalog.len(),
            orders: orders_in_words(
                marketplace
                    .orders
                    .values()
                    .map(|order| order.state.as_str()),
            ),
        })
        .collect();
    let scale = world.gate.scale();
    let budgets = if scale == 0.0 {
        "off".to_owned()
    } else {
        format!("on, scale {scale} (1 = Mirakl's documented call frequencies)")
    };
    let faults = faults_in_words(world.gate.faults());
    page::render(
        StatusCode::OK,
        &OverviewPage {
            title: "Sandbox",
            mas_url: world.url("/mas"),
            authorize_url: world.url("/mas/authorize"),
            token_url: world.url("/mas/oauth/token"),
            marketplaces,
            woo_stores: world
                .woo
                .values()
                .map(|store| WooStoreLine {
                    name: store.name.clone(),
                    code: store.code.clone(),
                    url: store.url(&world.public_url),
                    admin: store.admin.email.clone(),
                    products: store.products.values().filter(|p| p.parent_id == 0).count(),
                    orders: store.orders.len(),
                    webhooks: store.webhooks.len(),
                    down: store.down,
                })
                .collect(),
            connect_url: world.url("/connect/api"),
            companies: world
                .companies
                .values()
                .map(|company| {
                    format!(
                        "{} ({}): {} catalog products, {}",
                        company.name,
                        company.id,
                        company.products.len(),
                        orders_in_words(
                            company
                                .orders
                                .values()
                                .map(|order| order.status().0.as_str())
                        )
                    )
                })
                .collect(),
            budgets,
            faults,
            order_delays: format!(
                "{} s to accept an order before it is refused, {} s for the customer's debit",
                world.order_delays.acceptance.as_secs(),
                world.order_delays.debit.as_secs()
            ),
            users: world.users.iter().map(|user| user.email.clone()).collect(),
            clients: world
                .clients
                .values()
                .map(|client| format!("{} ({})", client.name, client.id))
                .collect(),
            mail_count: world.mailbox.len(),
        },
    )
}

async fn mailbox(State(sandbox): State<Sandbox>) -> Response {
    let world = sandbox.world();
    let mails = world
        .mailbox
        .iter()
        .rev()
        .map(|mail| MailView {
            to: mail.to.clone(),
            subject: mail.subject.clone(),
            sent_at: format_time(mail.sent_at),
            body: fragments(&mail.body),
        })
        .collect();
    page::render(
        StatusCode::OK,
        &MailboxPage {
            title: "Mailbox",
            mails,
        },
    )
}

#[derive(Serialize)]
struct UserView {
    id: String,
    email: String,
    marketplaces: Vec<StoreRef>,
    companies: Vec<String>,
}

#[derive(Serialize)]
struct StoreRef {
    instance: String,
    shop_ids: Vec<i64>,
}

#[derive(Serialize)]
struct ClientView {
    client_id: String,
    name: String,
    redirect_uris: Vec<String>,
    kinds: Vec<GrantKind>,
}

#[derive(Serialize)]
struct StoreView {
    instance: String,
    shop_id: i64,
    shop_name: String,
    shop_state: ShopState,
    currency_iso_code: String,
}

async fn state(State(sandbox): State<Sandbox>) -> Response {
    let mut world = sandbox.world();
    world.catch_up_orders();
    Json(state_view(&world)).into_response()
}

fn state_view(world: &World) -> serde_json::Value {
    let users: Vec<UserView> = world
        .users
        .iter()
        .map(|user| UserView {
            id: user.id.clone(),
            email: user.email.clone(),
            marketplaces: user
                .stores
                .iter()
                .map(|(instance, shop_ids)| StoreRef {
                    instance: instance.clone(),
                    shop_ids: shop_ids.clone(),
                })
                .collect(),
            companies: user.companies.clone(),
        })
        .collect();
    let clients: Vec<ClientView> = world
        .clients
        .values()
        .map(|client| ClientView {
            client_id: client.id.clone(),
            name: client.name.clone(),
            redirect_uris: client.redirect_uris.clone(),
            kinds: client.kinds.clone(),
        })
        .collect();
    let stores: Vec<StoreView> = world
        .marketplaces
        .values()
        .flat_map(|marketplace| {
            marketplace.stores.values().map(|store| StoreView {
                instance: marketplace.instance.clone(),
                shop_id: store.shop_id,
                shop_name: store.name.clone(),
                shop_state: store.state,
                currency_iso_code: store.currency_iso_code.clone(),
            })
        })
        .collect();
    let marketplaces: Vec<_> = world
        .marketplaces
        .values()
        .map(|marketplace| {
            json!({
                "instance": marketplace.instance,
                "name": marketplace.name,
                "shop_ids": marketplace.stores.keys().collect::<Vec<_>>(),
            })
        })
        .collect();
    let companies: Vec<_> = world
        .companies
        .values()
        .map(|company| {
            json!({
                "id": company.id,
                "name": company.name,
                "connect_products": company.products.len(),
                "connect_orders": company.orders.len(),
            })
        })
        .collect();
    json!({
        "users": users,
        "clients": clients,
        "marketplaces": marketplaces,
        "stores": stores,
        "companies": companies,
        "woo_stores": world
            .woo
            .values()
            .map(|store| crate::woo::control::state_view(store, &world.public_url))
            .collect::<Vec<_>>(),
        "bc_stores": crate::bc::control::state_view(world),
        "offers": marketplace::control::state_view(world),
        "grants": world.grants.live_grant_count(),
        "mails": world.mailbox.len(),
        "budget_scale": world.gate.scale(),
        "faults": world.gate.faults(),
        "order_delays": {
            "acceptance_seconds": world.order_delays.acceptance.as_secs(),
            "debit_seconds": world.order_delays.debit.as_secs(),
        },
    })
}

async fn calls(State(sandbox): State<Sandbox>) -> Response {
    Json(sandbox.world().calls.clone()).into_response()
}

#[derive(Deserialize)]
struct RevokeGrants {
    client_id: String,
}

async fn revoke_grants(
    State(sandbox): State<Sandbox>,
    Json(request): Json<RevokeGrants>,
) -> Response {
    let mut world = sandbox.world();
    if !world.clients.contains_key(&request.client_id) {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "message": format!("No client '{}'.", request.client_id) })),
        )
            .into_response();
    }
    world.grants.revoke_client(&request.client_id);
    Json(json!({ "revoked": true, "grants": world.grants.live_grant_count() })).into_response()
}

#[derive(Deserialize)]
struct TokenLifetimes {
    access_seconds: u64,
    refresh_seconds: u64,
}

async fn token_lifetimes(
    State(sandbox): State<Sandbox>,
    Json(request): Json<TokenLifetimes>,
) -> Response {
    sandbox.set_token_lifetimes(
        Duration::from_secs(request.access_seconds),
        Duration::from_secs(request.refresh_seconds),
    );
    Json(json!({
        "access_seconds": request.access_seconds,
        "refresh_seconds": request.refresh_seconds,
    }))
    .into_response()
}

fn refused(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "message": message }))).into_response()
}

#[derive(Deserialize)]
struct Budgets {
    scale: f64,
}

/// `POST /sandbox/api/budgets {scale}`: see `Sandbox::set_budget_scale`.
async fn budgets(State(sandbox): State<Sandbox>, Json(request): Json<Budgets>) -> Response {
    if let Some(problem) = scale_problem(request.scale) {
        return refused(problem);
    }
    sandbox.set_budget_scale(request.scale);
    Json(json!({ "scale": request.scale })).into_response()
}

/// The overview's line on injected faults.
fn faults_in_words(faults: FaultRates) -> String {
    if faults == FaultRates::default() {
        return "none".to_owned();
    }
    let mut words = format!(
        "{}% of catalog and order calls answered 500, {}% answered 429",
        faults.error_rate * 100.0,
        faults.rate_limit_rate * 100.0
    );
    if faults.timeout_rate > 0.0 || faults.lost_answer_rate > 0.0 {
        words.push_str(&format!(
            "; {}% of those and of WooCommerce REST calls time out, {}% lose their answer",
            faults.timeout_rate * 100.0,
            faults.lost_answer_rate * 100.0
        ));
    }
    words
}

/// `POST /sandbox/api/faults {error_rate, rate_limit_rate, timeout_rate, lost_answer_rate}`
/// (each optional, 0 when left out): see `Sandbox::set_faults`.
async fn faults(State(sandbox): State<Sandbox>, Json(request): Json<FaultRates>) -> Response {
    if let Some(problem) = request.problem() {
        return refused(problem);
    }
    sandbox.set_faults(request);
    Json(request).into_response()
}

#[derive(Deserialize)]
struct OrderDelays {
    acceptance_seconds: Option<u64>,
    debit_seconds: Option<u64>,
}

/// `POST /sandbox/api/orders/delays {acceptance_seconds?, debit_seconds?}`: see
/// `Sandbox::set_acceptance_delay` and `Sandbox::set_debit_delay`; what is left out stays.
async fn order_delays(
    State(sandbox): State<Sandbox>,
    Json(request): Json<OrderDelays>,
) -> Response {
    if let Some(seconds) = request.acceptance_seconds {
        sandbox.set_acceptance_delay(Duration::from_secs(seconds));
    }
    if let Some(seconds) = request.debit_seconds {
        sandbox.set_debit_delay(Duration::from_secs(seconds));
    }
    let delays = sandbox.world().order_delays;
    Json(json!({
        "acceptance_seconds": delays.acceptance.as_secs(),
        "debit_seconds": delays.debit.as_secs(),
    }))
    .into_response()
}

fn fragments(body: &str) -> Vec<Fragment> {
    let mut fragments = Vec::new();
    let mut text = String::new();
    for piece in body.split_inclusive(char::is_whitespace) {
        let word = piece.trim_end();
        if word.starts_with("http://") || word.starts_with("https://") {
            fragments.push(Fragment::Text(std::mem::take(&mut text)));
            fragments.push(Fragment::Link(word.to_owned()));
            text.push_str(&piece[word.len()..]);
        } else {
            text.push_str(piece);
        }
    }
    fragments.push(Fragment::Text(text));
    fragments
}

fn format_time(at: SystemTime) -> String {
    time::OffsetDateTime::from(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Sandbox {
    /// Every marketplace shop as `(instance, shop id)`, in order: where a driver of the
    /// sandbox (the demo's customers) looks for live offers with `marketplace_offers`.
    pub fn marketplace_shops(&self) -> Vec<(String, i64)> {
        self.world()
            .marketplaces
            .iter()
            .flat_map(|(instance, marketplace)| {
                marketplace
                    .stores
                    .keys()
                    .map(move |shop_id| (instance.clone(), *shop_id))
            })
            .collect()
    }

    /// Every Mirakl Connect company's id, in order (their catalogs: `connect_products`).
    pub fn connect_companies(&self) -> Vec<String> {
        self.world().companies.keys().cloned().collect()
    }

    /// Another seller on MAS, as Mirakl would have onboarded them: a login, a store of their
    /// own on the marketplace `instance` and a Connect company of their own, so that many
    /// sellers (the fleet benchmark's) each export to their own places. False when the e-mail
    /// address, the store or the company exists already, or the marketplace does not.
    pub fn add_seller(
        &self,
        email: &str,
        password: &str,
        instance: &str,
        shop_id: i64,
        company: &str,
    ) -> bool {
        let mut world = self.world();
        let taken = world.user_by_email(email).is_some()
            || world.companies.contains_key(company)
            || world
                .marketplaces
                .get(instance)
                .is_none_or(|m| m.stores.contains_key(&shop_id));
        if taken {
            return false;
        }
        let marketplace = world.marketplaces.get_mut(instance).expect("checked above");
        marketplace.stores.insert(
            shop_id,
            crate::seed::store(shop_id, &format!("Store {shop_id}"), 0),
        );
        world
            .companies
            .insert(company.to_owned(), Company::new(company, company));
        world.users.push(User {
            id: format!("seller-{shop_id}"),
            email: email.to_owned(),
            password: password.to_owned(),
            stores: BTreeMap::from([(instance.to_owned(), vec![shop_id])]),
            companies: vec![company.to_owned()],
            verification_required: false,
        });
        true
    }
}
