//! A store address is called from the server with the store's keys, so a seller must not be
//! able to point it inside the operator's network. With the production policy
//! (`AddressPolicy::PublicOnly`) plain http, literal private addresses in either family,
//! `localhost`, and names that resolve to a private address are refused with the reason, and
//! nothing reaches them. Redirects are never followed, whatever the policy.

use std::sync::Arc;

use axum::http::{StatusCode, header};
use shops::address::Lookup;
use shops::{AddressPolicy, ShopHttp};
use test_support::flows::{WOO_KEY, WOO_SECRET};
use test_support::{TestApp, Visitor};

/// Names whose DNS answer the test chooses: two that resolve inside, one that answers a
/// public and a private address.
fn test_dns() -> Lookup {
    Arc::new(|host: String| {
        Box::pin(async move {
            let answer: &[&str] = match host.as_str() {
                "inside.example" => &["10.0.0.7"],
                "metadata.example" => &["169.254.169.254"],
                "split.example" => &["93.184.216.34", "fd00::7"],
                _ => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no such name",
                    ));
                }
            };
            Ok(answer.iter().map(|ip| ip.parse().unwrap()).collect())
        })
    })
}

#[tokio::test]
async fn store_addresses_inside_the_network_are_refused_with_the_reason() {
    let app =
        TestApp::spawn_with_shop_http(ShopHttp::with_lookup(AddressPolicy::PublicOnly, test_dns()))
            .await;
    let v = Visitor::new();
    let step1 = app.sign_up(&v, "shop@example.com").await;
    let step2 = app.onboard_mirakl_connect(&v, &step1).await;
    let port = app.sandbox_url.port().unwrap();
    let store_calls = app.sandbox.call_count("woo.rest");

    let refused = [
        (app.store_url(), "must start with https://".to_owned()),
        (
            format!("https://127.0.0.1:{port}/woo/demo-shop"),
            "(127.0.0.1)".to_owned(),
        ),
        (
            format!("https://[::1]:{port}/woo/demo-shop"),
            "(::1)".to_owned(),
        ),
        (
            "https://[::ffff:127.0.0.1]/".to_owned(),
            "(::ffff:127.0.0.1)".to_owned(),
        ),
        (
            "https://169.254.169.254/latest/meta-data".to_owned(),
            "(169.254.169.254)".to_owned(),
        ),
        ("https://10.1.2.3".to_owned(), "(10.1.2.3)".to_owned()),
        ("https://[fe80::1]".to_owned(), "(fe80::1)".to_owned()),
        ("https://[fd12::1]".to_owned(), "(fd12::1)".to_owned()),
        (
            format!("https://localhost:{port}/woo/demo-shop"),
            "(127.0.0.1)".to_owned(),
        ),
        // Names are checked where they are resolved, when the connection is made.
        (
            "https://inside.example/shop".to_owned(),
            "inside.example is a private or local network address (10.0.0.7)".to_owned(),
        ),
        (
            "https://metadata.example".to_owned(),
            "(169.254.169.254)".to_owned(),
        ),
        ("https://split.example".to_owned(), "(fd00::7)".to_owned()),
    ];
    for (store_url, reason) in &refused {
        let page = v
            .submit(&step2.form(
                "Connect with API keys",
                &[
                    ("Store URL", store_url),
                    ("Consumer key", WOO_KEY),
                    ("Consumer secret", WOO_SECRET),
                ],
            ))
            .await;
        page.expect_text(reason);
        assert!(
            page.contains("not allowed") || page.contains("https://"),
            "{store_url}: {}",
            page.text()
        );
        page.expect_text("Step 2 of 4");
    }
    // The app authorization is refused before the seller is sent anywhere, for the addresses
    // that can be judged without resolving them.
    for (store_url, reason) in &refused[..9] {
        let response = v
            .send_raw(&step2.form("Connect with WooCommerce", &[("Store URL", store_url)]))
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{store_url}");
        let page = v.follow(response).await;
        page.expect_text(reason);
    }
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    assert!(app.storage().get_shop(ws).await.unwrap().is_none());
    assert_eq!(
        app.sandbox.call_count("woo.rest"),
        store_calls,
        "no request reached the store"
    );
}

/// A store that answers every request with a redirect to an inner address: the connector
/// reports it and never follows it, even where private addresses are allowed.
#[tokio::test]
async fn a_redirect_from_the_store_is_never_followed() {
    let app = TestApp::spawn().await;
    let target = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target_addr = target.local_addr().unwrap();
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        let app = axum::Router::new().fallback(move || {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { "secrets" }
        });
        axum::serve(target, app).await.unwrap();
    });
    let redirecting = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirecting_addr = redirecting.local_addr().unwrap();
    let location = format!("http://{target_addr}/latest/meta-data");
    tokio::spawn(async move {
        let app = axum::Router::new().fallback(move || {
            let location = location.clone();
            async move {
                (
                    StatusCode::MOVED_PERMANENTLY,
                    [(header::LOCATION, location)],
                )
            }
        });
        axum::serve(redirecting, app).await.unwrap();
    });

    let v = Visitor::new();
    let step1 = app.sign_up(&v, "shop@example.com").await;
    let step2 = app.onboard_mirakl_connect(&v, &step1).await;
    let page = v
        .submit(&step2.form(
            "Connect with API keys",
            &[
                ("Store URL", &format!("http://{redirecting_addr}")),
                ("Consumer key", WOO_KEY),
                ("Consumer secret", WOO_SECRET),
            ],
        ))
        .await;
    page.expect_text(&format!(
        "Your store sends requests on to http://{target_addr}/latest/meta-data"
    ));
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the redirect target was never called"
    );
}
