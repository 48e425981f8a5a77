//! The sandbox's own pages and control API, and the limits every route shares.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use support::{CLIENT_ID, EMAIL, TestSandbox, form_request};

fn json_post(uri: &str, body: serde_json::Value) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let sandbox = TestSandbox::start();
    let big = format!(
        "grant_type=client_credentials&padding={}",
        "a".repeat(70 * 1024)
    );

    let declared = Request::post("/mas/oauth/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big.clone()))
        .unwrap();
    assert_eq!(
        sandbox.send(declared).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );

    // Without a Content-Length header the limit bites while the body is read.
    for uri in ["/mas/login", "/mas/oauth/token"] {
        let undeclared = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(big.clone()))
            .unwrap();
        let response = sandbox.send(undeclared).await;
        assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE, "{uri}");
        assert!(
            response.body.contains("larger than 64 KiB"),
            "{}",
            response.body
        );
    }
}

#[tokio::test]
async fn a_malformed_form_is_refused_with_a_clear_message() {
    let sandbox = TestSandbox::start();
    let repeated = sandbox
        .send(form_request(
            "/mas/forgot-password",
            &[("email", EMAIL), ("email", "other@example.com")],
            None,
        ))
        .await;
    assert_eq!(repeated.status, StatusCode::BAD_REQUEST);
    assert!(repeated.body.contains("was sent more than once"));

    let not_utf8 = Request::post("/mas/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(vec![b'e', b'=', 0xff, 0xfe]))
        .unwrap();
    let response = sandbox.send(not_utf8).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.body.contains("The form could not be read"));

    let not_a_form = sandbox
        .send(json_post(
            "/mas/login",
            serde_json::json!({ "email": EMAIL }),
        ))
        .await;
    assert_eq!(not_a_form.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn state_lists_the_accounts_and_never_a_secret() {
    let sandbox = TestSandbox::start();
    let response = sandbox.get("/sandbox/api/state").await;
    assert_eq!(response.status, StatusCode::OK);
    let state = response.json();
    assert_eq!(state["users"][0]["email"], EMAIL);
    assert_eq!(state["clients"][0]["client_id"], CLIENT_ID);
    assert_eq!(state["marketplaces"].as_array().unwrap().len(), 2);
    assert!(
        state["stores"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["shop_id"] == 2001)
    );
    assert_eq!(state["grants"], 0);
    for secret in [
        "sandbox-seller-pass",
        "sandbox-client-secret",
        "sandbox-shop-api-key",
    ] {
        assert!(!response.body.contains(secret), "{secret} leaked");
    }

    sandbox.authorized_tokens().await;
    assert_eq!(sandbox.get("/sandbox/api/state").await.json()["grants"], 1);
}

#[tokio::test]
async fn the_control_api_revokes_grants_and_sets_token_lifetimes() {
    let sandbox = TestSandbox::start();
    let lifetimes = sandbox
        .send(json_post(
            "/sandbox/api/mas/token-lifetimes",
            serde_json::json!({ "access_seconds": 60, "refresh_seconds": 120 }),
        ))
        .await;
    assert_eq!(lifetimes.status, StatusCode::OK);
    let tokens = sandbox.authorized_tokens().await;
    assert_eq!(tokens["expires_in"], 60);

    let revoked = sandbox
        .send(json_post(
            "/sandbox/api/mas/revoke-grants",
            serde_json::json!({ "client_id": CLIENT_ID }),
        ))
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    let refresh = sandbox
        .refresh(tokens["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(refresh.json()["error"], "invalid_grant");

    let unknown = sandbox
        .send(json_post(
            "/sandbox/api/mas/revoke-grants",
            serde_json::json!({ "client_id": "nobody" }),
        ))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn calls_are_counted_per_endpoint() {
    let sandbox = TestSandbox::start();
    sandbox.authorized_tokens().await;
    sandbox
        .a01("demo-marketplace", Some(support::SHOP_API_KEY), None)
        .await;
    let calls = sandbox.get("/sandbox/api/calls").await.json();
    assert_eq!(calls["mas.authorize"], 1);
    assert_eq!(calls["mas.token"], 1);
    assert_eq!(calls["mmp.a01"], 1);
    assert_eq!(sandbox.sandbox.call_count("mas.token"), 1);
    assert_eq!(sandbox.sandbox.call_count("never.called"), 0);
}

#[tokio::test]
async fn the_overview_links_every_emulated_system() {
    let sandbox = TestSandbox::start();
    let page = sandbox.get("/sandbox").await;
    assert_eq!(page.status, StatusCode::OK);
    for expected in [
        "http://sandbox.test:8090/mas/authorize",
        "http://sandbox.test:8090/mmp/demo-marketplace/api",
        "Second Marketplace",
        "Demo Company",
        r#"href="/sandbox/mailbox""#,
    ] {
        assert!(page.body.contains(expected), "missing {expected}");
    }
}

#[tokio::test]
async fn the_overview_and_state_show_offers_connect_products_budgets_and_faults() {
    let sandbox = TestSandbox::start();
    let gtin = sandbox.sandbox.marketplace_products("demo-marketplace")[0]["gtin"]
        .as_str()
        .unwrap()
        .to_owned();
    let file =
        format!("sku;product-id;product-id-type;price;quantity;state\nA;{gtin};EAN;10;1;11\n");
    assert_eq!(
        sandbox.of01("NORMAL", &file).await.status,
        StatusCode::CREATED
    );
    sandbox.sandbox.settle_imports();
    let bearer = sandbox.connect_bearer().await;
    let upsert = sandbox
        .json(
            axum::http::Method::POST,
            "/connect/api/products",
            Some(&bearer),
            Some(&serde_json::json!({ "products": [{ "id": "one" }, { "id": "two" }] })),
        )
        .await;
    assert_eq!(upsert.status, StatusCode::ACCEPTED);
    sandbox.sandbox.set_budget_scale(0.5);
    sandbox.sandbox.set_faults(sandbox::Faults {
        error_rate: 0.25,
        rate_limit_rate: 0.0,
    });

    let page = sandbox.get("/sandbox").await.body;
    for expected in [
        "Demo Store (2001): 1 offers",
        "Demo Company (demo-company): 2 catalog products",
        "http://sandbox.test:8090/connect/api",
        "on, scale 0.5",
        "25% of catalog and order calls answered 500",
    ] {
        assert!(page.contains(expected), "missing {expected}");
    }

    let state = sandbox.get("/sandbox/api/state").await.json();
    assert_eq!(state["budget_scale"], 0.5);
    assert_eq!(state["faults"]["error_rate"], 0.25);
    assert_eq!(state["companies"][0]["connect_products"], 2);
    let demo = state["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|marketplace| marketplace["instance"] == "demo-marketplace")
        .unwrap();
    assert_eq!(demo["shops"][0]["offers"], 1);
    assert_eq!(demo["shops"][0]["offer_imports_done"], 1);
    assert_eq!(demo["import_modes"], serde_json::json!(["NORMAL"]));
    assert!(demo["catalog_products"].as_u64().unwrap() > 100);
}

#[tokio::test]
async fn the_mailbox_shows_the_newest_mail_first_with_a_clickable_link() {
    let sandbox = TestSandbox::start();
    let mut browser = sandbox.browser();
    for _ in 0..2 {
        let forgot = browser.get("/mas/forgot-password").await;
        browser
            .submit(&forgot, "/mas/forgot-password", &[("email", EMAIL)])
            .await;
    }
    let mails = sandbox.sandbox.mailbox();
    let newest_link = mails[1]
        .body
        .split_whitespace()
        .find(|word| word.starts_with("http"))
        .unwrap()
        .to_owned();
    let oldest_link = mails[0]
        .body
        .split_whitespace()
        .find(|word| word.starts_with("http"))
        .unwrap()
        .to_owned();

    let page = sandbox.get("/sandbox/mailbox").await;
    assert!(page.body.contains("Reset your Mirakl password"));
    assert!(page.body.contains(&format!("To {EMAIL}")));
    let newest = page
        .body
        .find(&format!(r#"<a href="{newest_link}">"#))
        .expect("a link");
    let oldest = page
        .body
        .find(&format!(r#"<a href="{oldest_link}">"#))
        .expect("a link");
    assert!(newest < oldest, "newest first");
}

#[tokio::test]
async fn marketplace_orders_are_placed_read_and_canceled_over_the_control_api() {
    let sandbox = TestSandbox::start();
    sandbox.stock_offers(&[("A", 3)]).await;
    let placed = sandbox
        .send(json_post(
            "/sandbox/api/mmp/demo-marketplace/orders",
            serde_json::json!({ "shop_id": 2001, "count": 2, "lines": [{ "offer_sku": "A", "quantity": 1 }] }),
        ))
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let ids = placed.json()["order_ids"].as_array().unwrap().clone();
    assert_eq!(ids.len(), 2);
    let id = ids[0].as_str().unwrap();

    let order = sandbox
        .get(&format!("/sandbox/api/mmp/demo-marketplace/orders/{id}"))
        .await;
    assert_eq!(order.status, StatusCode::OK);
    assert_eq!(order.json()["order_state"], "WAITING_ACCEPTANCE");
    let listed = sandbox
        .get("/sandbox/api/mmp/demo-marketplace/shops/2001/orders")
        .await
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let page = sandbox.get("/sandbox").await.body;
    assert!(page.contains("2 orders: 2 WAITING_ACCEPTANCE"), "{page}");

    let canceled = sandbox
        .send(json_post(
            &format!("/sandbox/api/mmp/demo-marketplace/orders/{id}/cancel"),
            serde_json::json!({}),
        ))
        .await;
    assert_eq!(canceled.status, StatusCode::OK);
    assert_eq!(canceled.json()["order_state"], "CANCELED");
    let again = sandbox
        .send(json_post(
            &format!("/sandbox/api/mmp/demo-marketplace/orders/{id}/cancel"),
            serde_json::json!({}),
        ))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    for (uri, body, status) in [
        (
            "/sandbox/api/mmp/demo-marketplace/orders",
            serde_json::json!({ "shop_id": 2001, "lines": [{ "offer_sku": "Z", "quantity": 1 }] }),
            StatusCode::NOT_FOUND,
        ),
        (
            "/sandbox/api/mmp/demo-marketplace/orders",
            serde_json::json!({ "shop_id": 2001, "lines": [{ "offer_sku": "A", "quantity": 9 }] }),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/sandbox/api/mmp/second-marketplace/orders",
            serde_json::json!({ "shop_id": 3001 }),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/sandbox/api/mmp/nowhere/orders",
            serde_json::json!({ "shop_id": 1 }),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let response = sandbox.send(json_post(uri, body.clone())).await;
        assert_eq!(response.status, status, "{uri} {body}: {}", response.body);
        assert!(response.json()["message"].is_string());
    }

    // The acceptance deadline, shortened over the control API, refuses the other order.
    let delays = sandbox
        .send(json_post(
            "/sandbox/api/orders/delays",
            serde_json::json!({ "acceptance_seconds": 0 }),
        ))
        .await;
    assert_eq!(delays.json()["debit_seconds"], 0);
    let other = ids[1].as_str().unwrap();
    assert_eq!(
        sandbox
            .sandbox
            .mmp_order("demo-marketplace", other)
            .unwrap()["order_state"],
        "REFUSED"
    );
    let state = sandbox.get("/sandbox/api/state").await.json();
    assert_eq!(state["order_delays"]["acceptance_seconds"], 0);
}

#[tokio::test]
async fn connect_orders_are_placed_and_read_over_the_control_api() {
    let sandbox = TestSandbox::start();
    let bearer = sandbox.connect_bearer().await;
    sandbox
        .json(
            axum::http::Method::POST,
            "/connect/api/products",
            Some(&bearer),
            Some(&serde_json::json!({ "products": [{ "id": "mug", "quantities": [{ "available_quantity": 4 }], "standard_prices": [{ "price": { "amount": 8, "currency": "EUR" } }] }] })),
        )
        .await;
    let placed = sandbox
        .send(json_post(
            "/sandbox/api/connect/orders",
            serde_json::json!({ "company": "demo-company", "count": 3 }),
        ))
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let ids = placed.json()["order_ids"].as_array().unwrap().clone();
    assert_eq!(ids.len(), 3);
    let one = sandbox
        .get(&format!(
            "/sandbox/api/connect/orders/{}",
            ids[0].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(one["status"], "AWAITING_ACCEPTANCE");
    assert_eq!(one["order_lines"][0]["product"]["id"], "mug");
    let listed = sandbox
        .get("/sandbox/api/connect/demo-company/orders")
        .await
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 3);
    let page = sandbox.get("/sandbox").await.body;
    assert!(page.contains("3 orders: 3 AWAITING_ACCEPTANCE"), "{page}");

    for (body, status) in [
        (
            serde_json::json!({ "company": "nobody" }),
            StatusCode::NOT_FOUND,
        ),
        (
            serde_json::json!({ "company": "demo-company", "lines": [{ "product_id": "mug", "quantity": 5 }] }),
            StatusCode::BAD_REQUEST,
        ),
        (
            serde_json::json!({ "company": "demo-company", "count": 0 }),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let response = sandbox
            .send(json_post("/sandbox/api/connect/orders", body.clone()))
            .await;
        assert_eq!(response.status, status, "{body}");
    }
    assert_eq!(
        sandbox
            .get("/sandbox/api/connect/orders/0001_nope")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn woo_orders_are_completed_and_refunded_over_the_control_api() {
    let sandbox = TestSandbox::start();
    let order = sandbox
        .send(json_post(
            "/sandbox/api/woo/stores/demo-shop/orders",
            serde_json::json!({ "line_items": [{ "product_id": 10, "quantity": 1 }] }),
        ))
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    let id = order.json()["id"].as_i64().unwrap();
    let completed = sandbox
        .send(json_post(
            &format!("/sandbox/api/woo/stores/demo-shop/orders/{id}/complete"),
            serde_json::json!({ "tracking_provider": "UPS", "tracking_number": "1Z" }),
        ))
        .await;
    assert_eq!(completed.status, StatusCode::OK, "{}", completed.body);
    let completed = completed.json();
    assert_eq!(completed["status"], "completed");
    assert!(
        completed["meta_data"]
            .to_string()
            .contains("\"tracking_provider\":\"ups\"")
    );
    let refunded = sandbox
        .send(json_post(
            &format!("/sandbox/api/woo/stores/demo-shop/orders/{id}/refunds"),
            serde_json::json!({ "amount": "1.00", "reason": "Scratch" }),
        ))
        .await;
    assert_eq!(refunded.status, StatusCode::CREATED, "{}", refunded.body);
    assert_eq!(refunded.json()["order"]["refunds"][0]["reason"], "Scratch");
    let unknown = sandbox
        .send(json_post(
            "/sandbox/api/woo/stores/demo-shop/orders/999999/cancel",
            serde_json::json!({}),
        ))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}
