//! The official WooCommerce Python client (PyPI `woocommerce`) against the sandbox: over plain
//! HTTP it signs every call with one-legged OAuth 1.0a (HMAC-SHA256), so this proves the
//! sandbox accepts what real clients send. `scripts/test` installs the client in a venv and
//! sets `MARKETBRIDGE_TEST_PYTHON`; the test fails, never skips, without it.

use sandbox::{Sandbox, SandboxConfig};

const SCRIPT: &str = r#"
import sys
from woocommerce import API

url, key, secret = sys.argv[1:4]
api = API(url=url, consumer_key=key, consumer_secret=secret, version="wc/v3", timeout=30)
products, page = [], 1
while True:
    response = api.get("products", params={"per_page": 100, "page": page})
    if response.status_code != 200:
        sys.exit("GET products page %d: %d %s" % (page, response.status_code, response.text))
    products.extend(response.json())
    if page >= int(response.headers["X-WP-TotalPages"]):
        break
    page += 1
print("COUNT", len(products))
sku = next(p["sku"] for p in products if p["type"] == "simple" and p["stock_status"] == "instock")
response = api.post("orders", {
    "set_paid": True,
    "billing": {"first_name": "Py", "last_name": "Client", "email": "py@example.com"},
    "line_items": [{"sku": sku, "quantity": 1}],
})
if response.status_code != 201:
    sys.exit("POST orders: %d %s" % (response.status_code, response.text))
print("ORDER", response.json()["id"])
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_client_pages_through_products_and_creates_an_order() {
    let python = std::env::var("MARKETBRIDGE_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "MARKETBRIDGE_TEST_PYTHON is not set: it must name a python with the PyPI \
             `woocommerce` package installed. Run scripts/test, which sets it up \
             (by hand: python3 -m venv /tmp/wcenv && /tmp/wcenv/bin/pip install woocommerce, \
             then MARKETBRIDGE_TEST_PYTHON=/tmp/wcenv/bin/python)."
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = Sandbox::new(SandboxConfig::new(base.parse().unwrap()));
    let router = sandbox.router();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let store_url = format!("{base}/woo/demo-shop");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&python)
            .args([
                "-c",
                SCRIPT,
                &store_url,
                "ck_sandbox_demo",
                "cs_sandbox_demo",
            ])
            .output()
            .unwrap_or_else(|error| panic!("could not run {python}: {error}"))
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the Python client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value_of = |label: &str| -> i64 {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(label))
            .unwrap_or_else(|| panic!("no {label} line in: {stdout}"))
            .trim()
            .parse()
            .unwrap()
    };
    assert_eq!(
        value_of("COUNT "),
        300,
        "every seeded product, paged by 100"
    );
    let order_id = value_of("ORDER ");
    let order = sandbox
        .woo_order("demo-shop", order_id)
        .expect("the order exists");
    assert_eq!(order["status"], "processing");
    assert_eq!(order["billing"]["email"], "py@example.com");
    assert!(sandbox.call_count("woo.rest") >= 4);
    server.abort();
}
