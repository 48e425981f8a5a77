//! End to end against the sandbox's emulated MAS and marketplace: a seller signs in, picks a
//! store and accepts; the connector exchanges the code, calls A01, refreshes and revokes.

use domain::{InstanceUrl, StoreId};
use mirakl::marketplace::{Credential, MarketplaceClient, MarketplaceError};
use mirakl::mas::{AuthorizationTarget, ClientSecret, MasClient, MasConfig, MasError};
use reqwest::header::LOCATION;
use sandbox::{Sandbox, SandboxConfig};
use url::Url;

const CLIENT_ID: &str = "marketbridge-demo";
const CLIENT_SECRET: &str = "sandbox-client-secret";
const CALLBACK: &str = "http://127.0.0.1:9/oauth/mirakl/callback";

struct RunningSandbox {
    base: Url,
}

async fn start_sandbox() -> RunningSandbox {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let mut config = SandboxConfig::new(base.clone());
    config.redirect_uris = vec![CALLBACK.to_owned()];
    let router = Sandbox::new(config).router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    RunningSandbox { base }
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

    fn instance(&self, name: &str) -> InstanceUrl {
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
