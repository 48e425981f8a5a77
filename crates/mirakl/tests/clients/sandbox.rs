//! End to end against the sandbox's emulated MAS, marketplace and Mirakl Connect: a seller signs
//! in, picks a store and accepts; the connector exchanges the code, calls A01, refreshes and
//! revokes; offers go in as a file and as JSON and come back from OF21; products go to Connect.

use std::time::Duration;

use domain::{InstanceUrl, StoreId};
use mirakl::connect::{ConnectClient, ConnectError, ConnectPage};
use mirakl::marketplace::{
    Credential, ImportMode, ImportStatus, LiveOffer, MarketplaceClient, MarketplaceError,
};
use mirakl::mas::{AuthorizationTarget, ClientSecret, MasClient, MasConfig, MasError};
use mirakl::offers_file::{OfferLine, UpdateDelete, offer_json, write_offers_csv};
use reqwest::header::LOCATION;
use sandbox::{Sandbox, SandboxConfig};
use serde_json::json;
use url::Url;

const CLIENT_ID: &str = "marketbridge-demo";
const CLIENT_SECRET: &str = "sandbox-client-secret";
const CALLBACK: &str = "http://127.0.0.1:9/oauth/mirakl/callback";

pub(crate) struct RunningSandbox {
    base: Url,
    pub(crate) sandbox: Sandbox,
}

pub(crate) async fn start_sandbox() -> RunningSandbox {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let mut config = SandboxConfig::new(base.clone());
    config.redirect_uris = vec![CALLBACK.to_owned()];
    let sandbox = Sandbox::new(config);
    let router = sandbox.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    RunningSandbox { base, sandbox }
}

impl RunningSandbox {
    fn mas(&self, client_secret: &str) -> MasClient {
        MasClient::new(
            MasConfig {
                base_url: self.base.join("/mas").unwrap(),
                client_id: CLIENT_ID.to_owned(),
                client_secret: ClientSecret::new(client_secret),
                redirect_uri: Url::parse(CALLBACK).unwrap(),
            },
            mirakl::http_client(),
        )
    }

    pub(crate) fn instance(&self, name: &str) -> InstanceUrl {
        InstanceUrl::parse(self.base.join(&format!("/mmp/{name}")).unwrap().as_str()).unwrap()
    }
}

/// A seller's browser: keeps cookies and stops at the connector's callback.
struct Browser {
    http: reqwest::Client,
}

impl Browser {
    fn new() -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { http }
    }

    /// Follows redirects until a page (its URL and HTML) or the callback URL.
    async fn follow(&self, mut response: reqwest::Response) -> Landing {
        loop {
            let Some(location) = response.headers().get(LOCATION) else {
                let status = response.status();
                let html = response.text().await.unwrap();
                assert!(status.is_success(), "the sandbox answered {status}: {html}");
                return Landing::Page(html);
            };
            let next = response.url().join(location.to_str().unwrap()).unwrap();
            if next.as_str().starts_with(CALLBACK) {
                return Landing::Callback(next);
            }
            response = self.http.get(next).send().await.unwrap();
        }
    }

    async fn open(&self, url: Url) -> Landing {
        self.follow(self.http.get(url).send().await.unwrap()).await
    }

    /// Submits the page's form, adding its CSRF token.
    async fn submit(
        &self,
        base: &Url,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> Landing {
        let csrf = csrf_token(page);
        let mut form = fields.to_vec();
        form.push(("csrf_token", &csrf));
        let response = self
            .http
            .post(base.join(action).unwrap())
            .form(&form)
            .send()
            .await
            .unwrap();
        self.follow(response).await
    }
}

enum Landing {
    Page(String),
    Callback(Url),
}

impl Landing {
    fn page(self) -> String {
        match self {
            Self::Page(html) => html,
            Self::Callback(url) => panic!("expected a page, reached the callback {url}"),
        }
    }

    fn callback(self) -> Url {
        match self {
            Self::Callback(url) => url,
            Self::Page(html) => panic!("expected the callback, got a page: {html}"),
        }
    }
}

fn csrf_token(html: &str) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let start = html
        .find(marker)
        .expect("the page has a form with a CSRF token")
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Signs the demo seller in and grants store 2001 of the demo marketplace.
async fn authorize_store(sandbox: &RunningSandbox, mas: &MasClient) -> (String, String) {
    let request = mas.authorization_request(AuthorizationTarget::Marketplace);
    let browser = Browser::new();
    let login = browser.open(request.url.clone()).await.page();
    let select = browser
        .submit(
            &sandbox.base,
            &login,
            "/mas/login",
            &[
                ("email", "seller@example.com"),
                ("password", "sandbox-seller-pass"),
            ],
        )
        .await
        .page();
    let consent = browser
        .submit(
            &sandbox.base,
            &select,
            "/mas/select",
            &[("marketplace", "demo-marketplace"), ("store", "2001")],
        )
        .await
        .page();
    let callback = browser
        .submit(
            &sandbox.base,
            &consent,
            "/mas/consent",
            &[("decision", "accept")],
        )
        .await
        .callback();

    let params: std::collections::HashMap<_, _> = callback.query_pairs().into_owned().collect();
    assert_eq!(
        params.get("state"),
        Some(&request.state),
        "the callback echoes our state"
    );
    (params["code"].clone(), request.pkce_verifier)
}

#[tokio::test]
async fn a_seller_authorizes_and_the_connector_reads_the_store_with_the_token() {
    let sandbox = start_sandbox().await;
    let mas = sandbox.mas(CLIENT_SECRET);
    let (code, verifier) = authorize_store(&sandbox, &mas).await;

    let tokens = mas.exchange_code(&code, &verifier).await.unwrap();
    assert!(tokens.expires_in.is_some());
    let refresh_token = tokens
        .refresh_token
        .clone()
        .expect("a code grant returns a refresh token");

    let marketplace = MarketplaceClient::new(mirakl::http_client());
    let instance = sandbox.instance("demo-marketplace");
    let account = marketplace
        .account(
            &instance,
            Credential::Bearer(&tokens.access_token),
            StoreId::new(2001),
        )
        .await
        .unwrap();
    assert_eq!(account.shop_id, 2001);
    assert_eq!(account.shop_name, "Demo Store");

    let not_granted = marketplace
        .account(
            &instance,
            Credential::Bearer(&tokens.access_token),
            StoreId::new(3001),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            not_granted,
            MarketplaceError::Forbidden(_) | MarketplaceError::NotFound(_)
        ),
        "{not_granted:?}"
    );

    let refreshed = mas.refresh(&refresh_token).await.unwrap();
    assert_ne!(refreshed.access_token, tokens.access_token);

    let newest_refresh = refreshed.refresh_token.unwrap_or(refresh_token);
    mas.revoke(&newest_refresh).await.unwrap();
    let after_revoke = mas.refresh(&newest_refresh).await.unwrap_err();
    assert!(
        matches!(after_revoke, MasError::InvalidGrant(_)),
        "{after_revoke:?}"
    );

    let replay = mas.exchange_code(&code, &verifier).await.unwrap_err();
    assert!(
        matches!(replay, MasError::InvalidGrant(_)),
        "a code works once: {replay:?}"
    );
}

#[tokio::test]
async fn the_sandbox_refuses_a_wrong_client_secret_and_an_unknown_code() {
    let sandbox = start_sandbox().await;

    let wrong_secret = sandbox
        .mas("not-the-secret")
        .exchange_code("any", "any")
        .await
        .unwrap_err();
    assert!(
        matches!(wrong_secret, MasError::InvalidClient),
        "{wrong_secret:?}"
    );

    let unknown_code = sandbox
        .mas(CLIENT_SECRET)
        .exchange_code("no-such-code", "v")
        .await
        .unwrap_err();
    assert!(
        matches!(unknown_code, MasError::InvalidGrant(_)),
        "{unknown_code:?}"
    );
}

#[tokio::test]
async fn a01_works_with_the_sandbox_shop_api_key() {
    let sandbox = start_sandbox().await;
    let marketplace = MarketplaceClient::new(mirakl::http_client());
    let instance = sandbox.instance("demo-marketplace");

    let account = marketplace
        .account(
            &instance,
            Credential::ShopApiKey("sandbox-shop-api-key"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(account.shop_id, 2001);
    assert_eq!(account.currency_iso_code.as_deref(), Some("EUR"));

    let refused = marketplace
        .account(&instance, Credential::ShopApiKey("wrong-key"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, MarketplaceError::Unauthorized),
        "{refused:?}"
    );
}

// ----- offers ---------------------------------------------------------------------------------

pub(crate) const DEMO_MARKETPLACE: &str = "demo-marketplace";
pub(crate) const DEMO_SHOP: i64 = 2001;
pub(crate) const SHOP_KEY: Credential<'static> = Credential::ShopApiKey("sandbox-shop-api-key");

/// A product the demo marketplace's catalog knows, as `(product-id, product-id-type)`.
fn catalog_product(sandbox: &RunningSandbox) -> (String, String) {
    sandbox
        .sandbox
        .marketplace_products(DEMO_MARKETPLACE)
        .iter()
        .find_map(|product| product["gtin"].as_str().map(str::to_owned))
        .map(|gtin| {
            let kind = if gtin.len() == 12 { "UPC" } else { "EAN" };
            (gtin, kind.to_owned())
        })
        .expect("the demo catalog has a product with a GTIN")
}

pub(crate) fn offer(sku: &str, (product_id, product_id_type): &(String, String)) -> OfferLine {
    OfferLine {
        sku: sku.to_owned(),
        product_id: product_id.clone(),
        product_id_type: product_id_type.clone(),
        description: r#"Mug; blue "large""#.to_owned(),
        price: "19.90".to_owned(),
        quantity: 7,
        state: "11".to_owned(),
        discount_price: None,
        discount_start: None,
        discount_end: None,
        update_delete: UpdateDelete::Update,
    }
}

/// Every offer of the demo shop, as OF21 pages them two at a time.
pub(crate) async fn live_offers(
    marketplace: &MarketplaceClient,
    instance: &InstanceUrl,
) -> Vec<LiveOffer> {
    let mut offers = Vec::new();
    loop {
        let page = marketplace
            .offers_page(instance, SHOP_KEY, None, offers.len() as u32, 2)
            .await
            .unwrap();
        let done = page.offers.is_empty();
        offers.extend(page.offers);
        if done || offers.len() as i64 >= page.total_count {
            return offers;
        }
    }
}

#[tokio::test]
async fn an_offer_file_goes_live_and_its_refused_lines_come_back() {
    let sandbox = start_sandbox().await;
    let marketplace = MarketplaceClient::new(mirakl::http_client());
    let instance = sandbox.instance(DEMO_MARKETPLACE);
    let product = catalog_product(&sandbox);
    let unknown = ("0000000000000".to_owned(), "EAN".to_owned());
    let mut csv = Vec::new();
    write_offers_csv(
        [
            offer("MUG-1", &product),
            offer("MUG-2", &product),
            offer("GHOST", &unknown),
        ],
        &mut csv,
    )
    .unwrap();

    let id = marketplace
        .import_offers(
            &instance,
            SHOP_KEY,
            StoreId::new(DEMO_SHOP),
            csv,
            ImportMode::Normal,
        )
        .await
        .unwrap();
    let waiting = marketplace
        .offer_import(&instance, SHOP_KEY, None, &id)
        .await
        .unwrap();
    assert!(!waiting.is_finished(), "{waiting:?}");
    sandbox.sandbox.settle_imports();
    let import = marketplace
        .offer_import(&instance, SHOP_KEY, None, &id)
        .await
        .unwrap();

    assert_eq!(import.status, ImportStatus::Complete);
    assert!(import.is_finished());
    assert_eq!(
        (
            import.lines_read,
            import.offer_inserted,
            import.lines_in_error
        ),
        (3, 2, 1)
    );
    assert!(import.has_error_report);
    let errors = marketplace
        .offer_import_errors(&instance, SHOP_KEY, None, &id)
        .await
        .unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].sku.as_deref(), Some("GHOST"));
    assert!(!errors[0].message.is_empty());

    let live = live_offers(&marketplace, &instance).await;
    let mut skus: Vec<&str> = live.iter().map(|o| o.shop_sku.as_str()).collect();
    skus.sort_unstable();
    assert_eq!(skus, ["MUG-1", "MUG-2"]);
    let mug = live.iter().find(|o| o.shop_sku == "MUG-1").unwrap();
    assert_eq!(mug.quantity, 7);
    assert_eq!(mug.state_code, "11");
    assert_eq!(
        mug.origin_price.as_deref().map(str::parse::<f64>),
        Some(Ok(19.9))
    );
    assert_eq!(mug.raw["description"], r#"Mug; blue "large""#);
    assert_eq!(
        sandbox.sandbox.offer_import_modes(DEMO_MARKETPLACE),
        ["NORMAL"],
        "the connector never sends REPLACE"
    );
}

#[tokio::test]
async fn of24_replaces_offers_and_removes_them() {
    let sandbox = start_sandbox().await;
    let marketplace = MarketplaceClient::new(mirakl::http_client());
    let instance = sandbox.instance(DEMO_MARKETPLACE);
    let product = catalog_product(&sandbox);
    let on_sale = OfferLine {
        discount_price: Some("15.00".to_owned()),
        discount_start: Some("2020-01-01T00:00:00Z".to_owned()),
        discount_end: Some("2099-12-31T23:59:59Z".to_owned()),
        ..offer("MUG-1", &product)
    };

    let created = marketplace
        .upsert_offers(&instance, SHOP_KEY, None, &[offer_json(&on_sale)])
        .await
        .unwrap();
    sandbox.sandbox.settle_imports();
    let import = marketplace
        .offer_import(&instance, SHOP_KEY, None, &created)
        .await
        .unwrap();
    assert_eq!(
        (import.status, import.offer_inserted),
        (ImportStatus::Complete, 1)
    );
    let live = live_offers(&marketplace, &instance).await;
    let [mug] = &live[..] else { panic!("{live:?}") };
    assert_eq!(mug.price.as_deref().map(str::parse::<f64>), Some(Ok(15.0)));
    assert_eq!(
        mug.origin_price.as_deref().map(str::parse::<f64>),
        Some(Ok(19.9))
    );
    assert_eq!(
        mug.discount_price.as_deref().map(str::parse::<f64>),
        Some(Ok(15.0))
    );

    let removal = OfferLine {
        update_delete: UpdateDelete::Delete,
        ..on_sale
    };
    let removed = marketplace
        .upsert_offers(&instance, SHOP_KEY, None, &[offer_json(&removal)])
        .await
        .unwrap();
    assert_ne!(removed, created);
    sandbox.sandbox.settle_imports();
    let import = marketplace
        .offer_import(&instance, SHOP_KEY, None, &removed)
        .await
        .unwrap();
    assert_eq!(import.offer_deleted, 1);
    assert!(live_offers(&marketplace, &instance).await.is_empty());
    assert_eq!(
        marketplace
            .offer_import_errors(&instance, SHOP_KEY, None, &removed)
            .await
            .unwrap(),
        [],
        "an import without errors has no report"
    );
}

#[tokio::test]
async fn of04_follows_every_open_import_in_one_call() {
    let sandbox = start_sandbox().await;
    let marketplace = MarketplaceClient::new(mirakl::http_client());
    let instance = sandbox.instance(DEMO_MARKETPLACE);
    let product = catalog_product(&sandbox);
    let since = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let mut sent = Vec::new();
    for sku in ["MUG-1", "MUG-2"] {
        let line = offer(sku, &product);
        sent.push(
            marketplace
                .upsert_offers(&instance, SHOP_KEY, None, &[offer_json(&line)])
                .await
                .unwrap(),
        );
    }

    // Newest first; each listing moves the imports in progress one step, as OF02 does.
    let mut listed = Vec::new();
    for _ in 0..5 {
        let page = marketplace
            .offer_imports(&instance, SHOP_KEY, None, since, None)
            .await
            .unwrap();
        listed = page.imports;
        if listed.iter().all(|i| i.is_finished()) {
            break;
        }
    }
    let ids: Vec<_> = listed.iter().map(|i| i.import_id.clone()).collect();
    assert_eq!(ids, [sent[1].clone(), sent[0].clone()]);
    assert!(
        listed.iter().all(|i| i.status == ImportStatus::Complete),
        "{listed:?}"
    );
    assert_eq!(live_offers(&marketplace, &instance).await.len(), 2);
    // Nothing created after `since` + a day.
    let later = marketplace
        .offer_imports(
            &instance,
            SHOP_KEY,
            None,
            since + time::Duration::days(1),
            None,
        )
        .await
        .unwrap();
    assert!(later.imports.is_empty());
    assert_eq!(later.next_page_token, None);
}

#[tokio::test]
async fn of61_lists_the_marketplaces_offer_conditions() {
    let sandbox = start_sandbox().await;
    let states = MarketplaceClient::new(mirakl::http_client())
        .offer_states(&sandbox.instance(DEMO_MARKETPLACE), SHOP_KEY, None)
        .await
        .unwrap();
    assert!(
        states.contains(&("11".to_owned(), "New".to_owned())),
        "{states:?}"
    );
}

#[tokio::test]
async fn a_spent_call_budget_is_a_429_with_retry_after() {
    let sandbox = start_sandbox().await;
    sandbox.sandbox.set_budget_scale(1.0);
    let marketplace = MarketplaceClient::new(mirakl::http_client());
    let instance = sandbox.instance(DEMO_MARKETPLACE);
    let offers = [offer_json(&offer("MUG-1", &catalog_product(&sandbox)))];

    marketplace
        .upsert_offers(&instance, SHOP_KEY, None, &offers)
        .await
        .unwrap();
    let error = marketplace
        .upsert_offers(&instance, SHOP_KEY, None, &offers)
        .await
        .unwrap_err();

    assert_spent_budget(&error);
}

/// The sandbox turned a call away past its budget: a retryable 429 with a wait.
pub(crate) fn assert_spent_budget(error: &MarketplaceError) {
    assert!(
        matches!(error, MarketplaceError::RateLimited { retry_after: Some(wait) } if *wait > Duration::ZERO),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

// ----- Mirakl Connect --------------------------------------------------------------------------

impl RunningSandbox {
    fn connect(&self) -> ConnectClient {
        ConnectClient::new(
            self.base.join("/connect/api").unwrap(),
            mirakl::http_client(),
        )
    }

    /// A Connect token for the demo company (client credentials with the company as audience).
    async fn connect_token(&self) -> String {
        let response = reqwest::Client::new()
            .post(self.base.join("/mas/oauth/token").unwrap())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("audience", "demo-company"),
            ])
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{response:?}");
        let body: serde_json::Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }
}

fn connect_product(id: &str, quantity: i64) -> serde_json::Value {
    json!({
        "id": id,
        "titles": [{"locale": "en_US", "value": format!("Product {id}")}],
        "gtins": [{"value": "4006381333931"}],
        "quantities": [{"available_quantity": quantity}],
        "standard_prices": [{"price": {"amount": 19.9, "currency": "EUR"}}]
    })
}

#[tokio::test]
async fn connect_products_are_upserted_paged_and_deleted() {
    let sandbox = start_sandbox().await;
    let connect = sandbox.connect();
    let token = sandbox.connect_token().await;

    connect
        .upsert_products(
            &token,
            &[
                connect_product("p-1", 1),
                connect_product("p-2", 2),
                connect_product("p-3", 3),
            ],
        )
        .await
        .unwrap();

    let first = connect.list_products(&token, 2, None).await.unwrap();
    let ids = |page: &ConnectPage| -> Vec<String> {
        page.data
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&first), ["p-1", "p-2"]);
    let next = first.next_page_token.clone().expect("a second page");
    let second = connect.list_products(&token, 2, Some(&next)).await.unwrap();
    assert_eq!(ids(&second), ["p-3"]);
    assert_eq!(second.next_page_token, None);
    assert_eq!(second.data[0]["quantities"][0]["available_quantity"], 3);

    connect
        .delete_products(&token, &["p-1".to_owned(), "p-3".to_owned()])
        .await
        .unwrap();
    let left = connect.list_products(&token, 1000, None).await.unwrap();
    assert_eq!(ids(&left), ["p-2"]);
}

#[tokio::test]
async fn connect_names_the_fields_it_refuses_and_refuses_a_bad_token() {
    let sandbox = start_sandbox().await;
    let connect = sandbox.connect();
    let token = sandbox.connect_token().await;
    let mut bad = connect_product("p-1", 1);
    bad["gtins"] = json!([{"value": "12"}]);

    let invalid = connect.upsert_products(&token, &[bad]).await.unwrap_err();
    let ConnectError::Invalid { ref errors, .. } = invalid else {
        panic!("{invalid:?}");
    };
    assert!(
        errors
            .iter()
            .any(|e| e.field == "products[0].gtins[0].value"),
        "{errors:?}"
    );
    assert!(!invalid.is_retryable());
    assert!(sandbox.sandbox.connect_products("demo-company").is_empty());

    let refused = connect
        .list_products("not-a-token", 10, None)
        .await
        .unwrap_err();
    assert!(matches!(refused, ConnectError::Unauthorized), "{refused:?}");
}
