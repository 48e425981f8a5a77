//! The official BigCommerce Python client (PyPI `bigcommerce`, pinned in `scripts/test`)
//! against the sandbox's emulated BigCommerce store over its TLS listener. The client is
//! pointed there only by its own settings: `BC_API_ENDPOINT` and `BC_AUTH_SERVICE` (it builds
//! `https://{BC_API_ENDPOINT}/stores/{hash}/v2/…` and `https://{BC_AUTH_SERVICE}/oauth2/token`)
//! and `REQUESTS_CA_BUNDLE`, the sandbox's self-signed certificate. So this proves the
//! sandbox accepts what a real BigCommerce client sends: its headers, query strings, JSON
//! bodies, the form-encoded token exchange and PyJWT's checks on the signed payload.
//! `scripts/test` installs the client in a venv and sets `MARKETBRIDGE_TEST_PYTHON`; the test
//! fails, never skips, without it.

use std::path::PathBuf;

use sandbox::tls::SelfSigned;
use sandbox::{
    BC_DEMO_API_TOKEN, BC_DEMO_CLIENT_ID, BC_DEMO_CLIENT_SECRET, BC_DEMO_STORE_HASH, Sandbox,
    SandboxConfig,
};

/// The seeded store, served over TLS on 127.0.0.1, with its certificate written to a file.
struct TlsStore {
    sandbox: Sandbox,
    port: u16,
    cert_path: PathBuf,
    dir: PathBuf,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for TlsStore {
    fn drop(&mut self) {
        self.server.abort();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl TlsStore {
    async fn start(name: &str) -> Self {
        let tls = SelfSigned::generate().unwrap();
        let dir = std::env::temp_dir().join(format!("bc-python-{name}-{}", std::process::id()));
        let (cert_path, _) = tls.write_to(&dir).unwrap();
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = tcp.local_addr().unwrap().port();
        let sandbox = Sandbox::new(SandboxConfig::new(
            format!("https://127.0.0.1:{port}").parse().unwrap(),
        ));
        let router = sandbox.router();
        let server = tokio::spawn(async move { sandbox::tls::serve_tls(tcp, &tls, router).await });
        Self {
            sandbox,
            port,
            cert_path,
            dir,
            server,
        }
    }

    /// Runs `script` with the client's settings pointing at this store and the demo app's
    /// credentials in `BC_CLIENT_ID`, `BC_CLIENT_SECRET`, `BC_STORE_HASH`, `BC_ACCESS_TOKEN`
    /// (plus `extra`); its standard output, after asserting it succeeded.
    async fn run_python(&self, script: &'static str, extra: &[(&str, String)]) -> String {
        let python = std::env::var("MARKETBRIDGE_TEST_PYTHON").unwrap_or_else(|_| {
            panic!(
                "MARKETBRIDGE_TEST_PYTHON is not set: it must name a python with the PyPI \
                 `bigcommerce` package installed. Run scripts/test, which sets it up \
                 (by hand: python3 -m venv /tmp/bcenv && /tmp/bcenv/bin/pip install \
                 bigcommerce==0.23.4, then MARKETBRIDGE_TEST_PYTHON=/tmp/bcenv/bin/python)."
            )
        });
        let mut env: Vec<(String, String)> = vec![
            (
                "BC_API_ENDPOINT".into(),
                format!("127.0.0.1:{}/bc", self.port),
            ),
            (
                "BC_AUTH_SERVICE".into(),
                format!("127.0.0.1:{}/bc/login", self.port),
            ),
            (
                "REQUESTS_CA_BUNDLE".into(),
                self.cert_path.display().to_string(),
            ),
            ("BC_CLIENT_ID".into(), BC_DEMO_CLIENT_ID.into()),
            ("BC_CLIENT_SECRET".into(), BC_DEMO_CLIENT_SECRET.into()),
            ("BC_STORE_HASH".into(), BC_DEMO_STORE_HASH.into()),
            ("BC_ACCESS_TOKEN".into(), BC_DEMO_API_TOKEN.into()),
        ];
        env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new(&python)
                .args(["-c", script])
                // Nothing from the caller's environment may route the client elsewhere.
                .env_remove("CURL_CA_BUNDLE")
                .env_remove("HTTPS_PROXY")
                .env_remove("https_proxy")
                .env_remove("ALL_PROXY")
                .env_remove("all_proxy")
                .env("NO_PROXY", "127.0.0.1,localhost")
                .envs(env)
                .output()
                .unwrap_or_else(|error| panic!("could not run {python}: {error}"))
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "the Python client failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }
}

/// The text after `label` on the first line starting with it.
fn value_of<'s>(stdout: &'s str, label: &str) -> &'s str {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label} line in: {stdout}"))
        .trim()
}

fn number_of(stdout: &str, label: &str) -> i64 {
    value_of(stdout, label).parse().unwrap()
}

/// The client has no v3 resource classes: a v3 call is its `OAuthConnection` with the v3
/// `api_path`, its `get(resource, **query)` and `post(resource, data)`.
const CATALOG_SCRIPT: &str = r#"
import os, sys
from bigcommerce.connection import OAuthConnection

connection = OAuthConnection(
    os.environ["BC_CLIENT_ID"], os.environ["BC_STORE_HASH"], os.environ["BC_ACCESS_TOKEN"],
    host=os.environ["BC_API_ENDPOINT"], api_path="/stores/{}/v3/{}")
products, page = [], 1
while True:
    body = connection.get("catalog/products", include="variants", page=page, limit=100)
    products.extend(body["data"])
    pagination = body["meta"]["pagination"]
    if page >= pagination["total_pages"]:
        break
    page += 1
print("COUNT", len(products))
print("PAGES", page)
print("WITHOUT_VARIANTS", sum(1 for p in products if not p.get("variants")))
print("RATE_QUOTA", connection.rate_limit["requests_quota"])
created = connection.post("catalog/products", {
    "name": "Python client lamp",
    "type": "physical",
    "weight": 1.5,
    "price": 24.5,
    "sku": "PY-LAMP-1",
    "inventory_tracking": "product",
    "inventory_level": 7,
})["data"]
print("CREATED", created["id"])
print("CREATED_VARIANTS", len(created.get("variants") or []))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_client_pages_the_v3_catalog_and_creates_a_product() {
    let store = TlsStore::start("catalog").await;
    let stdout = store.run_python(CATALOG_SCRIPT, &[]).await;
    assert_eq!(
        number_of(&stdout, "COUNT "),
        300,
        "every seeded product, paged by 100"
    );
    assert_eq!(number_of(&stdout, "PAGES "), 3);
    assert_eq!(
        number_of(&stdout, "WITHOUT_VARIANTS "),
        0,
        "include=variants is honoured"
    );
    assert!(
        number_of(&stdout, "RATE_QUOTA ") > 0,
        "the client reads the rate-limit headers"
    );
    let id = number_of(&stdout, "CREATED ");
    let product = store
        .sandbox
        .bc_product(BC_DEMO_STORE_HASH, id)
        .expect("the product exists");
    assert_eq!(product["name"], "Python client lamp");
    assert_eq!(product["sku"], "PY-LAMP-1");
    assert_eq!(product["inventory_level"], 7);
    assert!(store.sandbox.call_count("bc.rest") >= 4);
}

/// v2 orders through the client's resource classes: `Orders.create(**fields)` and
/// `Orders.all(min_date_modified=…)` (which the client turns into a query string).
const ORDERS_SCRIPT: &str = r#"
import os, sys, time
from email.utils import formatdate
import bigcommerce

api = bigcommerce.api.BigcommerceApi(
    client_id=os.environ["BC_CLIENT_ID"], store_hash=os.environ["BC_STORE_HASH"],
    access_token=os.environ["BC_ACCESS_TOKEN"])
product_id = int(os.environ["PRODUCT_ID"])
before = formatdate(time.time() - 60, usegmt=True)
order = api.Orders.create(
    status_id=11,
    billing_address={
        "first_name": "Py", "last_name": "Client", "email": "py@example.com",
        "street_1": "1 Main St", "city": "Austin", "state": "Texas", "zip": "78701",
        "country": "United States", "country_iso2": "US",
    },
    products=[{"product_id": product_id, "quantity": 1}],
    external_source="python-client",
)
print("ORDER", order.id)
print("ORDER_STATUS", order.status_id)
listed = api.Orders.all(min_date_modified=before, limit=250)
listed = listed if isinstance(listed, list) else []
print("LISTED_HAS_ORDER", int(any(o.id == order.id for o in listed)))
later = formatdate(time.time() + 3600, usegmt=True)
none = api.Orders.all(min_date_modified=later)
print("LISTED_LATER", len(none) if isinstance(none, list) else 0)
print("LATER_STATUS", api.connection._last_response.status_code)
print("PRODUCTS", len(order.products()))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_client_creates_an_order_and_lists_orders_by_date_modified() {
    let store = TlsStore::start("orders").await;
    // A simple product (its base variant is the only one) with stock.
    let product_id = store
        .sandbox
        .bc_product_ids(BC_DEMO_STORE_HASH)
        .into_iter()
        .find(|id| {
            let product = store.sandbox.bc_product(BC_DEMO_STORE_HASH, *id).unwrap();
            product["variants"].as_array().map_or(0, Vec::len) == 1
                && product["inventory_level"].as_i64().unwrap_or(0) > 0
        })
        .expect("a simple product in stock");
    let stdout = store
        .run_python(ORDERS_SCRIPT, &[("PRODUCT_ID", product_id.to_string())])
        .await;
    let order_id = number_of(&stdout, "ORDER ");
    assert_eq!(number_of(&stdout, "ORDER_STATUS "), 11);
    assert_eq!(
        number_of(&stdout, "LISTED_HAS_ORDER "),
        1,
        "min_date_modified finds it"
    );
    assert_eq!(
        number_of(&stdout, "LISTED_LATER "),
        0,
        "none modified after now"
    );
    assert_eq!(number_of(&stdout, "LATER_STATUS "), 204);
    assert_eq!(number_of(&stdout, "PRODUCTS "), 1);
    let order = store
        .sandbox
        .bc_order(BC_DEMO_STORE_HASH, order_id)
        .expect("the order exists");
    assert_eq!(order["billing_address"]["email"], "py@example.com");
    assert_eq!(order["external_source"], "python-client");
}

/// The install: `BigcommerceApi.oauth_fetch_token`, which posts the grant form-encoded to
/// `https://{BC_AUTH_SERVICE}/oauth2/token` through `OAuthConnection.fetch_token`, then calls
/// the API with the token it got.
const TOKEN_SCRIPT: &str = r#"
import os, sys
import bigcommerce

api = bigcommerce.api.BigcommerceApi(
    client_id=os.environ["BC_CLIENT_ID"], store_hash=os.environ["BC_STORE_HASH"])
token = api.oauth_fetch_token(
    os.environ["BC_CLIENT_SECRET"], os.environ["CODE"], os.environ["CONTEXT"],
    os.environ["SCOPE"], os.environ["REDIRECT_URI"])
print("TOKEN", token["access_token"])
print("CONTEXT", token["context"])
print("SENT_TOKEN", int(api.connection._session.headers.get("X-Auth-Token") == token["access_token"]))
orders = api.Orders.all(limit=5)
# A fresh store has no orders: BigCommerce's v2 answers an empty list with 204, which the
# client turns into an empty resource object rather than a list.
print("ORDERS", len(orders) if isinstance(orders, list) else 0)
print("ORDERS_STATUS", api.connection._last_response.status_code)
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_client_exchanges_an_install_code_for_a_token() {
    let store = TlsStore::start("token").await;
    let redirect_uri = format!("https://127.0.0.1:{}/bigcommerce/auth", store.port);
    store
        .sandbox
        .bc_set_app_callbacks(BC_DEMO_CLIENT_ID, Some(&redirect_uri), None, None)
        .unwrap();
    let code = store
        .sandbox
        .bc_install_code(BC_DEMO_STORE_HASH, BC_DEMO_CLIENT_ID)
        .unwrap();
    let stdout = store
        .run_python(
            TOKEN_SCRIPT,
            &[
                ("CODE", code.code.clone()),
                ("CONTEXT", code.context.clone()),
                ("SCOPE", code.scope.clone()),
                ("REDIRECT_URI", redirect_uri),
            ],
        )
        .await;
    assert!(!value_of(&stdout, "TOKEN ").is_empty());
    assert_eq!(
        value_of(&stdout, "CONTEXT "),
        format!("stores/{BC_DEMO_STORE_HASH}")
    );
    assert_eq!(
        number_of(&stdout, "SENT_TOKEN "),
        1,
        "the client calls the API with the token it got"
    );
    assert_eq!(
        (
            number_of(&stdout, "ORDERS "),
            number_of(&stdout, "ORDERS_STATUS ")
        ),
        (0, 204),
        "the token opens the API (no orders yet); a wrong one is a 401 the client raises"
    );
    assert!(
        store
            .sandbox
            .bc_app_installed(BC_DEMO_STORE_HASH, BC_DEMO_CLIENT_ID)
    );
    assert_eq!(store.sandbox.call_count("bc.oauth.token"), 1);
}

/// The load: `OAuthConnection.verify_payload_jwt` (PyJWT: HS256 under the client secret, the
/// client id as audience, `exp`, `nbf` and `iat` checked).
const PAYLOAD_SCRIPT: &str = r#"
import os, sys
import jwt
from bigcommerce.connection import OAuthConnection

payload = os.environ["SIGNED_PAYLOAD_JWT"]
claims = OAuthConnection.verify_payload_jwt(
    payload, os.environ["BC_CLIENT_SECRET"], os.environ["BC_CLIENT_ID"])
print("SUB", claims["sub"])
print("EMAIL", claims["user"]["email"])
try:
    OAuthConnection.verify_payload_jwt(payload, "not-the-secret", os.environ["BC_CLIENT_ID"])
    print("WRONG_SECRET accepted")
except jwt.InvalidSignatureError:
    print("WRONG_SECRET refused")
try:
    OAuthConnection.verify_payload_jwt(payload, os.environ["BC_CLIENT_SECRET"], "another-app")
    print("WRONG_AUDIENCE accepted")
except jwt.InvalidAudienceError:
    print("WRONG_AUDIENCE refused")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_client_verifies_a_signed_load_payload() {
    let store = TlsStore::start("payload").await;
    let jwt = store
        .sandbox
        .bc_signed_payload(BC_DEMO_STORE_HASH, BC_DEMO_CLIENT_ID)
        .unwrap();
    let stdout = store
        .run_python(PAYLOAD_SCRIPT, &[("SIGNED_PAYLOAD_JWT", jwt)])
        .await;
    assert_eq!(
        value_of(&stdout, "SUB "),
        format!("stores/{BC_DEMO_STORE_HASH}")
    );
    assert!(value_of(&stdout, "EMAIL ").contains('@'));
    assert_eq!(value_of(&stdout, "WRONG_SECRET "), "refused");
    assert_eq!(value_of(&stdout, "WRONG_AUDIENCE "), "refused");
}
