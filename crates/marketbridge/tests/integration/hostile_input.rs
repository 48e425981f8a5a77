//! Hostile input at every door, on both engines: NUL bytes, other control characters, lone
//! surrogates in JSON and overlong values, in every field of every form a seller or visitor
//! can reach, in query strings and in the JSON bodies the connector reads. Each gets a 4xx
//! (the field named where there is one), none a 5xx, and nothing is changed.

use reqwest::StatusCode;
use test_support::flows::{WOO_KEY, WOO_SECRET};
use test_support::{Engine, FormSubmission, TestApp, Visitor};

/// Values no field may carry: a NUL (which PostgreSQL cannot store), other C0 controls, DEL,
/// a C1 control, and a value longer than any field accepts.
fn hostile_values() -> Vec<(&'static str, String)> {
    vec![
        ("a NUL byte", "nul\0byte@example.com".to_owned()),
        ("a bell", "ring\u{7}".to_owned()),
        ("an escape sequence", "\u{1b}[2Jcleared".to_owned()),
        ("a DEL", "del\u{7f}".to_owned()),
        ("a C1 control", "next\u{85}line".to_owned()),
        (
            "an overlong value",
            "x".repeat(domain::input::MAX_FIELD_CHARS + 1),
        ),
    ]
}

/// Every form a visitor meets: signing up and in, each onboarding step, and every page of a
/// seller with a live marketplace channel and an order to accept or refuse; each with the
/// visitor whose session it belongs to.
async fn every_form(app: &TestApp) -> Vec<(Visitor, String, FormSubmission)> {
    let mut forms = Vec::new();
    let mut add = |v: &Visitor, page: &test_support::Page| {
        for form in page.forms() {
            forms.push((v.clone(), page.url.path().to_owned(), form));
        }
    };
    // First, so that it is the first workspace, as `launch` expects.
    let s = crate::catalog::launch(app).await;
    let anonymous = Visitor::new();
    for path in ["/sign-up", "/sign-in"] {
        add(&anonymous, &anonymous.get(&app.url(path)).await);
    }

    let newcomer = Visitor::new();
    let step1 = app.sign_up(&newcomer, "steps@example.com").await;
    add(&newcomer, &step1);
    let step2 = app.onboard_mirakl_connect(&newcomer, &step1).await;
    add(&newcomer, &step2);
    let step3 = app
        .onboard_store_by_keys(&newcomer, &step2, WOO_KEY, WOO_SECRET)
        .await;
    add(&newcomer, &step3);
    let step4 = newcomer.submit(&step3.form("Save and continue", &[])).await;
    step4.expect_text("Step 4 of 4");
    add(&newcomer, &step4);

    // An order waiting for a decision, for the forms of its page.
    let order = crate::orders_pages::an_order_to_decide(app, &s).await;
    for path in [
        "/".to_owned(),
        "/products".to_owned(),
        "/settings/products".to_owned(),
        "/orders".to_owned(),
        format!("/orders/{order}"),
        "/settings/orders".to_owned(),
        "/channels/new".to_owned(),
        format!("/channels/{}", s.connect),
        format!("/channels/{}", s.marketplace),
        format!("/channels/{}/product-creation", s.marketplace),
        "/account".to_owned(),
        "/account/disconnect".to_owned(),
    ] {
        let page = s.v.get(&app.url(&path)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        add(&s.v, &page);
    }
    forms
}

async fn hostile_values_in_any_field_are_refused_naming_the_field(engine: Engine) {
    let app = TestApp::spawn_on(engine).await;
    let forms = every_form(&app).await;
    assert!(forms.len() >= 20, "only {} forms found", forms.len());
    let workspaces = app.storage().list_workspace_ids().await.unwrap();
    let mut sent = 0;
    for (v, page, form) in &forms {
        // Each field of the form, and one the form does not have.
        let mut names: Vec<String> = form
            .fields
            .iter()
            .map(|(name, _)| name.clone())
            .filter(|name| name != "csrf_token")
            .collect();
        names.dedup();
        names.push("comment".to_owned());
        for name in &names {
            for (what, value) in hostile_values() {
                let response = v.send_raw(&form.clone().with(name, &value)).await;
                let status = response.status();
                let body = response.text().await.unwrap();
                assert_eq!(
                    status,
                    StatusCode::BAD_REQUEST,
                    "{what} in {name} of the form to {} on {page}: {body}",
                    form.url
                );
                assert!(
                    body.contains(&format!("field &#34;{name}&#34;"))
                        || body.contains(&format!("field \"{name}\"")),
                    "the refusal names {name}: {body}"
                );
                sent += 1;
            }
        }
    }
    assert!(sent > 100, "{sent} requests");
    // Nothing was created or removed by any of them, no order decided, no setting changed.
    assert_eq!(
        app.storage().list_workspace_ids().await.unwrap(),
        workspaces
    );
    for action in ["/accept", "/refuse", "/settings/orders"] {
        assert!(
            forms.iter().any(|(_, _, f)| f.url.path().ends_with(action)),
            "the form to {action} was tried"
        );
    }
    let ws = workspaces[0];
    let orders = app
        .storage()
        .orders_page(
            ws,
            &storage::OrdersFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(orders.len(), 1);
    assert!(
        app.storage()
            .order_steps(ws, orders[0].id)
            .await
            .unwrap()
            .is_empty(),
        "no decision was taken"
    );
    assert!(
        !app.storage()
            .order_settings(ws)
            .await
            .unwrap()
            .unwrap()
            .auto_accept
    );
}

#[tokio::test]
async fn hostile_values_in_any_field_are_refused_naming_the_field_on_sqlite() {
    hostile_values_in_any_field_are_refused_naming_the_field(Engine::Sqlite).await;
}

#[tokio::test]
async fn hostile_values_in_any_field_are_refused_naming_the_field_on_postgres() {
    hostile_values_in_any_field_are_refused_naming_the_field(Engine::Postgres).await;
}

async fn hostile_query_strings_and_json_bodies_get_a_4xx(engine: Engine) {
    let app = TestApp::spawn_on(engine).await;
    let s = crate::catalog::launch(&app).await;

    // Query strings, signed in and not.
    for path in [
        "/products?q=nul%00byte",
        "/products?q=%1B%5B2J",
        "/orders?q=nul%00byte",
        "/orders?show=%07&channel=x",
        "/orders?before=1_%1B",
        "/orders/01234567-89ab-7def-8123-456789abcdef?done=%C2%85",
        "/settings/orders?done=%00",
        "/?anything=%07",
        "/oauth/mirakl/callback?code=abc&state=st%00ate",
        "/shop/woocommerce/return?success=1&user_id=%00",
        "/sign-in?next=%C2%85",
        "/bigcommerce/auth?code=c%00de&scope=store_v2_products&context=stores/demo-bc",
        "/bigcommerce/load?signed_payload_jwt=a.b%07.c",
    ] {
        let page = s.v.get(&app.url(path)).await;
        assert_eq!(
            page.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            page.text()
        );
        page.expect_text("contains a control character");
        let anonymous = Visitor::new().get(&app.url(path)).await;
        assert!(anonymous.status.is_client_error(), "{path} anonymous");
    }
    // BigCommerce's server-to-server callbacks.
    for path in [
        "/bigcommerce/uninstall?signed_payload_jwt=a.b%00.c",
        "/bigcommerce/remove-user?signed_payload_jwt=%1B%5B2J",
    ] {
        let response = reqwest::get(app.url(path)).await.unwrap();
        assert!(
            response.status().is_client_error(),
            "{path}: {}",
            response.status()
        );
    }
    let overlong = format!(
        "/products?q={}",
        "x".repeat(domain::input::MAX_FIELD_CHARS + 1)
    );
    let page = s.v.get(&app.url(&overlong)).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    page.expect_text("is too long");

    // The store's server-to-server POST of app keys.
    let keys = |consumer_key: &str| {
        format!(
            r#"{{"key_id":7,"user_id":"token","consumer_key":"{consumer_key}","consumer_secret":"cs_x","key_permissions":"read_write"}}"#
        )
    };
    let overlong_key = "k".repeat(domain::input::MAX_FIELD_CHARS + 1);
    for body in [
        keys("ck_\\u0000"),
        keys("ck_\\u0007"),
        keys("ck_\\ud800"),
        keys("ck_\\udfff\\ud800"),
        keys(&overlong_key),
        "{\"user_id\": \"\u{0}\"}".to_owned(),
        "not json at all".to_owned(),
    ] {
        let response = reqwest::Client::new()
            .post(app.url("/shop/woocommerce/keys"))
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_client_error(),
            "{}: {body:.80}",
            response.status()
        );
    }

    // A settings file pasted into onboarding's import: JSON inside a form.
    let newcomer = Visitor::new();
    let step1 = app.sign_up(&newcomer, "import@example.com").await;
    let step2 = app.onboard_mirakl_connect(&newcomer, &step1).await;
    let step3 = app
        .onboard_store_by_keys(&newcomer, &step2, WOO_KEY, WOO_SECRET)
        .await;
    for file in [
        r#"{"marketbridge_settings":1,"sync_products":true,"import_orders":true,"product_settings":{},"channel_overrides":{},"note":"\ud800"}"#,
        r#"{"marketbridge_settings":1,"sync_products":true,"import_orders":true,"product_settings":{"selection":{"skus":["A\u0000"]}},"channel_overrides":{}}"#,
    ] {
        let page = newcomer
            .submit(&step3.form(
                "Import settings",
                &[("Settings file (marketbridge-settings.json)", file)],
            ))
            .await;
        assert_eq!(
            page.status,
            StatusCode::BAD_REQUEST,
            "{file}: {}",
            page.text()
        );
        page.expect_text("Nothing was imported");
    }

    // Webhooks: a forged one is refused before its body is read; a signed one whose body is
    // not JSON (a lone surrogate) is refused.
    let shop = app.storage().get_shop(s.ws).await.unwrap().unwrap();
    let (url, secret) = app.shop_webhook(s.ws).await;
    let deliver = |body: &str, signed_with: &str| {
        reqwest::Client::new()
            .post(&url)
            .header("Content-Type", "application/json")
            .header("X-WC-Webhook-Source", "http://store.example/")
            .header("X-WC-Webhook-Topic", "product.updated")
            .header("X-WC-Webhook-Resource", "product")
            .header("X-WC-Webhook-Event", "updated")
            .header("X-WC-Webhook-ID", "1")
            .header("X-WC-Webhook-Delivery-ID", "hostile")
            .header(
                "X-WC-Webhook-Signature",
                shops::webhook::sign(signed_with.as_bytes(), body.as_bytes()),
            )
            .body(body.to_owned())
    };
    let forged = deliver(r#"{"id":1,"name":"\u0000"}"#, "not-the-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let surrogate = deliver(r#"{"id":1,"name":"\ud800"}"#, &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(surrogate.status(), StatusCode::BAD_REQUEST);
    // A signed delivery whose text holds an escaped NUL is the store's word about its own
    // product, and only a hint: it is taken (refusing would get WooCommerce to disable the
    // webhook), kept as the escaped text it is, and processed without a failure.
    let escaped = deliver(r#"{"id":1,"name":"a\u0000b"}"#, &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(escaped.status(), StatusCode::OK);
    app.settle().await;
    let counts = app.storage().webhook_counts(s.ws, shop.id).await.unwrap();
    assert_eq!(counts.processed, counts.received);
}

#[tokio::test]
async fn hostile_query_strings_and_json_bodies_get_a_4xx_on_sqlite() {
    hostile_query_strings_and_json_bodies_get_a_4xx(Engine::Sqlite).await;
}

#[tokio::test]
async fn hostile_query_strings_and_json_bodies_get_a_4xx_on_postgres() {
    hostile_query_strings_and_json_bodies_get_a_4xx(Engine::Postgres).await;
}
