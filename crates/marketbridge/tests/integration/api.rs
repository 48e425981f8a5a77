//! The JSON API (`/api/v1`), driven as an integrator's tool would: tokens made on the Account
//! page, bearer auth only, pages walked by cursor, hostile input refused with a problem, and
//! every answer checked against the OpenAPI document the server serves.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use test_support::{Engine, TestApp, Visitor};

use crate::catalog::{Setup, launched};
use crate::orders_pages::{
    a_live_sku, an_order_short_of_stock, an_order_to_decide, mirakl_state, place, poll, work,
};

/// Creates a token on the Account page, as a seller does; the token shown once.
async fn create_token(app: &TestApp, v: &Visitor, name: &str, access: &str) -> String {
    let account = v.get(&app.url("/account")).await;
    let created = v
        .submit(&account.form("Create token", &[("Token name", name), ("Access", access)]))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    created.expect_text("Copy it now: it is shown only this once.");
    let token = created.texts("code.api-token").remove(0);
    assert!(token.starts_with("mb_"), "{token}");
    token
}

/// A client with no cookies, as an integrator's script is.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// One answer of the API: its status, content type and JSON body.
struct Answer {
    status: StatusCode,
    content_type: String,
    body: Value,
}

async fn call(app: &TestApp, method: Method, path: &str, token: Option<&str>) -> Answer {
    let mut req = bare_client().request(method, app.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let response = req.send().await.unwrap();
    answer(response).await
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        content_type,
        body,
    }
}

async fn openapi(app: &TestApp) -> Value {
    let a = call(app, Method::GET, "/api/v1/openapi.json", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["openapi"], "3.1.0");
    a.body
}

// ----- a small JSON Schema validator for the OpenAPI 3.1 document ------------------------

/// Checks `value` against `schema` (the subset utoipa writes: `$ref` to components, `type`
/// (one or a list), `properties`, `required`, `items`, `enum`, `oneOf`, `anyOf`, `allOf`,
/// `nullable`); the first mismatch, with its path.
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r
            .strip_prefix("#/components/schemas/")
            .ok_or_else(|| format!("{at}: unsupported $ref {r}"))?;
        let target = &doc["components"]["schemas"][name];
        if target.is_null() {
            return Err(format!("{at}: $ref to missing schema {name}"));
        }
        return validate(doc, target, value, at);
    }
    if value.is_null() && schema["nullable"] == json!(true) {
        return Ok(());
    }
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            validate(doc, s, value, at)?;
        }
    }
    for (key, exactly_one) in [("oneOf", true), ("anyOf", false)] {
        if let Some(choices) = schema[key].as_array() {
            let fits = choices
                .iter()
                .filter(|s| validate(doc, s, value, at).is_ok())
                .count();
            if fits == 0 || (exactly_one && fits > 1) {
                return Err(format!("{at}: {fits} of the {key} choices fit {value}"));
            }
        }
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {allowed:?}"));
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() {
        let fits = |t: &str| match t {
            "null" => value.is_null(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        };
        if !types.iter().any(|t| fits(t)) {
            return Err(format!("{at}: {value} is not of type {types:?}"));
        }
    }
    if let Some(object) = value.as_object() {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                return Err(format!("{at}: required {name:?} missing"));
            }
        }
        if let Some(properties) = schema["properties"].as_object() {
            for (name, s) in properties {
                if let Some(v) = object.get(name) {
                    validate(doc, s, v, &format!("{at}.{name}"))?;
                }
            }
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, v) in values.iter().enumerate() {
            validate(doc, items, v, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// The schema the document gives for `method path_template` answering `status` with the
/// answer's content type; the answer must fit it.
fn check(doc: &Value, method: &str, template: &str, a: &Answer) {
    let response = &doc["paths"][template][method]["responses"][a.status.as_str()];
    assert!(
        !response.is_null(),
        "{method} {template}: status {} is not in the document ({})",
        a.status,
        a.body
    );
    let media = a.content_type.split(';').next().unwrap_or_default().trim();
    let schema = &response["content"][media]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {template} {}: no schema for {media:?}",
        a.status
    );
    if let Err(e) = validate(doc, schema, &a.body, "body") {
        panic!("{method} {template} {}: {e}\n{}", a.status, a.body);
    }
}

fn is_problem(a: &Answer, status: StatusCode) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.content_type, "application/problem+json", "{}", a.body);
    assert_eq!(a.body["status"], status.as_u16());
    assert!(a.body["title"].is_string() && a.body["detail"].is_string());
    assert!(
        a.body["type"]
            .as_str()
            .unwrap()
            .starts_with("/api/v1/docs#problem-")
    );
}

#[tokio::test]
async fn the_validator_refuses_a_wrong_shape() {
    let app = TestApp::spawn().await;
    let doc = openapi(&app).await;
    let page = &doc["paths"]["/api/v1/products"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    let good = json!({"items": [{"sku": "A", "title": "T", "shop_product_id": 1,
        "channels": [{"channel_id": "c", "state": "live", "message": null}]}],
        "next_cursor": null});
    assert_eq!(validate(&doc, page, &good, "body"), Ok(()));
    for wrong in [
        json!({"items": [{"sku": 1, "title": "T", "shop_product_id": 1, "channels": []}], "next_cursor": null}),
        json!({"items": [{"title": "T", "shop_product_id": 1, "channels": []}], "next_cursor": null}),
        json!({"items": [{"sku": "A", "title": "T", "shop_product_id": 1,
            "channels": [{"channel_id": "c", "state": "gone", "message": null}]}], "next_cursor": null}),
        json!({"items": {}, "next_cursor": null}),
        json!({"items": [], "next_cursor": 3}),
        json!({"next_cursor": null}),
    ] {
        assert!(
            validate(&doc, page, &wrong, "body").is_err(),
            "{wrong} passed"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn only_a_live_bearer_token_opens_the_api_and_no_token_opens_a_page() {
    let app = TestApp::spawn().await;
    let doc = openapi(&app).await;
    let v = Visitor::new();
    app.sign_up(&v, "api@example.com").await;
    let reader = create_token(&app, &v, "Stock report", "Read only").await;

    // The Account page lists it by name and prefix, and never shows it again.
    let account = v.get(&app.url("/account")).await;
    account.expect_text("Stock report");
    account.expect_text(&reader[..9]);
    assert!(!account.html.contains(&reader));

    // No token, a malformed one, an unknown one, a session cookie alone: 401.
    let none = call(&app, Method::GET, "/api/v1/channels", None).await;
    is_problem(&none, StatusCode::UNAUTHORIZED);
    check(&doc, "get", "/api/v1/channels", &none);
    let malformed = call(&app, Method::GET, "/api/v1/products", Some("mb_nope")).await;
    is_problem(&malformed, StatusCode::UNAUTHORIZED);
    let unknown = format!("mb_{}", "A".repeat(43));
    is_problem(
        &call(&app, Method::GET, "/api/v1/products", Some(&unknown)).await,
        StatusCode::UNAUTHORIZED,
    );
    let with_cookie = answer(
        v.client()
            .get(app.url("/api/v1/products"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    is_problem(&with_cookie, StatusCode::UNAUTHORIZED);

    // The token opens the API...
    let channels = call(&app, Method::GET, "/api/v1/channels", Some(&reader)).await;
    assert_eq!(channels.status, StatusCode::OK, "{}", channels.body);
    check(&doc, "get", "/api/v1/channels", &channels);
    assert_eq!(channels.body["items"], json!([]));
    let runs = call(&app, Method::GET, "/api/v1/sync-runs", Some(&reader)).await;
    assert_eq!(runs.status, StatusCode::OK);
    check(&doc, "get", "/api/v1/sync-runs", &runs);

    // ...but no page: a token alone is sent to sign in.
    for page in ["/products", "/account", "/orders"] {
        let response = bare_client()
            .get(app.url(page))
            .bearer_auth(&reader)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection(), "{page}");
        assert_eq!(
            response.headers()["location"].to_str().unwrap(),
            "/sign-in",
            "{page}"
        );
    }

    // A read-only token on a write route: 403, before anything is looked up.
    let any_id = uuid::Uuid::now_v7();
    for path in [
        format!("/api/v1/channels/{any_id}/sync"),
        format!("/api/v1/orders/{any_id}/accept"),
        format!("/api/v1/orders/{any_id}/refuse"),
        format!("/api/v1/orders/{any_id}/retry"),
    ] {
        let a = call(&app, Method::POST, &path, Some(&reader)).await;
        is_problem(&a, StatusCode::FORBIDDEN);
        let template = path.replace(&any_id.to_string(), "{id}");
        check(&doc, "post", &template, &a);
    }

    // Errors outside the handlers are problems too.
    is_problem(
        &call(&app, Method::DELETE, "/api/v1/products", Some(&reader)).await,
        StatusCode::METHOD_NOT_ALLOWED,
    );
    is_problem(
        &call(&app, Method::GET, "/api/v1/nothing-here", Some(&reader)).await,
        StatusCode::NOT_FOUND,
    );

    // Another seller cannot revoke it: their Revoke sent with its id is a 404.
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    let reader_id = app.storage().api_tokens(ws).await.unwrap()[0].id;
    let other = Visitor::new();
    app.sign_up(&other, "other@example.com").await;
    let theirs = other.get(&app.url("/account")).await;
    let mut forged = theirs.form("Create token", &[]);
    forged.url = app
        .url(&format!("/account/api-tokens/{reader_id}/revoke"))
        .parse()
        .unwrap();
    let refused = other.send_raw(&forged).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        call(&app, Method::GET, "/api/v1/channels", Some(&reader))
            .await
            .status,
        StatusCode::OK
    );

    // Revoked on the Account page: 401 from then on.
    let account = v.get(&app.url("/account")).await;
    let revoked = v.submit(&account.form("Revoke", &[])).await;
    revoked.expect_text("The token is revoked");
    let after = call(&app, Method::GET, "/api/v1/channels", Some(&reader)).await;
    is_problem(&after, StatusCode::UNAUTHORIZED);

    // The document and its docs page need no token and load nothing from elsewhere.
    let docs = bare_client()
        .get(app.url("/api/v1/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    let html = docs.text().await.unwrap();
    assert!(html.contains("GET /api/v1/products"), "{html}");
    assert!(html.contains("POST /api/v1/orders/{id}/accept"));
    assert!(
        !html.contains("https://"),
        "the docs page loads nothing from elsewhere"
    );
    app.stop().await;
}

/// Walks a list by cursor with `limit`, checking each page against the document; every item.
async fn walk(app: &TestApp, doc: &Value, token: &str, path: &str, limit: u32) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let mut url = format!("{path}?limit={limit}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page = call(app, Method::GET, &url, Some(token)).await;
        assert_eq!(page.status, StatusCode::OK, "{url}: {}", page.body);
        check(doc, "get", path, &page);
        let got = page.body["items"].as_array().unwrap();
        assert!(got.len() <= limit as usize);
        items.extend(got.iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
    panic!("{path}: more than 1000 pages");
}

fn keys(items: &[Value], key: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i[key].as_str().unwrap().to_owned())
        .collect()
}

fn no_duplicates(keys: &[String]) {
    let unique: HashSet<&String> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "duplicates in {keys:?}");
}

async fn the_api_serves_a_launched_workspace(engine: Engine) {
    let app = TestApp::spawn_on(engine).await;
    let doc = openapi(&app).await;
    let s: Setup = launched(&app).await;
    let token = create_token(&app, &s.v, "ERP", "Read and write").await;

    // Products: every item of the catalog once, page by page, whatever the page size.
    let walked = walk(&app, &doc, &token, "/api/v1/products", 7).await;
    let skus = keys(&walked, "sku");
    no_duplicates(&skus);
    let mut sorted = skus.clone();
    sorted.sort();
    assert_eq!(skus, sorted, "in SKU order");
    let total = app.storage().catalog_count(s.ws).await.unwrap();
    assert_eq!(skus.len() as i64, total, "every item of the catalog");
    let in_big_pages = walk(&app, &doc, &token, "/api/v1/products", 200).await;
    assert_eq!(keys(&in_big_pages, "sku"), skus);
    let live = call(
        &app,
        Method::GET,
        &format!(
            "/api/v1/products?channel={}&state=live&limit=200",
            s.marketplace
        ),
        Some(&token),
    )
    .await;
    check(&doc, "get", "/api/v1/products", &live);
    for item in live.body["items"].as_array().unwrap() {
        assert!(
            item["channels"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["channel_id"] == s.marketplace.to_string() && c["state"] == "live")
        );
    }

    // Channels and sync runs.
    let channels = walk(&app, &doc, &token, "/api/v1/channels", 1).await;
    let ids = keys(&channels, "id");
    assert_eq!(ids, [s.connect.to_string(), s.marketplace.to_string()]);
    let one = call(
        &app,
        Method::GET,
        &format!("/api/v1/channels/{}", s.marketplace),
        Some(&token),
    )
    .await;
    check(&doc, "get", "/api/v1/channels/{id}", &one);
    assert_eq!(one.body["state"], "live");
    let runs = walk(&app, &doc, &token, "/api/v1/sync-runs", 2).await;
    let run_ids = keys(&runs, "id");
    no_duplicates(&run_ids);
    assert!(!run_ids.is_empty());

    // Orders: three to decide, walked two at a time, each with its timeline.
    let first = an_order_to_decide(&app, &s).await;
    let sku = a_live_sku(&app, &s).await;
    place(&app, &sku, 1);
    place(&app, &sku, 1);
    poll(&app, s.ws, s.marketplace).await;
    let orders = walk(&app, &doc, &token, "/api/v1/orders", 2).await;
    let order_ids = keys(&orders, "id");
    no_duplicates(&order_ids);
    assert_eq!(order_ids.len(), 3);
    assert!(order_ids.contains(&first.to_string()));
    let to_accept = call(
        &app,
        Method::GET,
        "/api/v1/orders?show=to_accept",
        Some(&token),
    )
    .await;
    check(&doc, "get", "/api/v1/orders", &to_accept);
    assert_eq!(to_accept.body["items"].as_array().unwrap().len(), 3);
    for id in &order_ids {
        let detail = call(
            &app,
            Method::GET,
            &format!("/api/v1/orders/{id}"),
            Some(&token),
        )
        .await;
        check(&doc, "get", "/api/v1/orders/{id}", &detail);
        assert_eq!(detail.body["order"]["stage"], "awaiting_acceptance");
        assert!(!detail.body["lines"].as_array().unwrap().is_empty());
        assert!(!detail.body["timeline"].as_array().unwrap().is_empty());
    }

    // Another workspace's token finds none of it.
    let other = Visitor::new();
    app.sign_up(&other, "other@example.com").await;
    let theirs = create_token(&app, &other, "Theirs", "Read and write").await;
    for (method, path, template) in [
        (
            Method::GET,
            format!("/api/v1/orders/{first}"),
            "/api/v1/orders/{id}",
        ),
        (
            Method::POST,
            format!("/api/v1/orders/{first}/accept"),
            "/api/v1/orders/{id}/accept",
        ),
        (
            Method::POST,
            format!("/api/v1/orders/{first}/retry"),
            "/api/v1/orders/{id}/retry",
        ),
        (
            Method::GET,
            format!("/api/v1/channels/{}", s.marketplace),
            "/api/v1/channels/{id}",
        ),
        (
            Method::POST,
            format!("/api/v1/channels/{}/sync", s.marketplace),
            "/api/v1/channels/{id}/sync",
        ),
        (
            Method::GET,
            format!("/api/v1/products?channel={}", s.marketplace),
            "/api/v1/products",
        ),
        (
            Method::GET,
            format!("/api/v1/orders?channel={}", s.marketplace),
            "/api/v1/orders",
        ),
    ] {
        let method_name = method.as_str().to_ascii_lowercase();
        let a = call(&app, method, &path, Some(&theirs)).await;
        is_problem(&a, StatusCode::NOT_FOUND);
        check(&doc, &method_name, template, &a);
    }
    let theirs_listed = call(&app, Method::GET, "/api/v1/orders", Some(&theirs)).await;
    assert_eq!(theirs_listed.body["items"], json!([]));

    // Hostile input: a 4xx problem, never a 500, whatever the engine.
    for path in [
        "/api/v1/products?q=%00",
        "/api/v1/products?q=a%01b",
        &format!("/api/v1/products?q={}", "x".repeat(10_001)),
        "/api/v1/products?limit=99999999999999999999999",
        "/api/v1/products?limit=-1",
        "/api/v1/products?limit=0",
        "/api/v1/products?limit=201",
        "/api/v1/products?limit=abc",
        "/api/v1/products?cursor=%00",
        "/api/v1/products?cursor=not-a-cursor!",
        &format!("/api/v1/products?cursor={}", "A".repeat(5000)),
        "/api/v1/products?cursor=cDoAAA",
        "/api/v1/products?state=gone",
        "/api/v1/products?channel=not-a-uuid",
        "/api/v1/orders?show=everything",
        "/api/v1/orders?q=%00",
        "/api/v1/orders?cursor=bzoxMg",
        "/api/v1/sync-runs?cursor=%FF%FE",
        "/api/v1/channels?cursor=Yzpub3BlCg",
        "/api/v1/orders/%00",
        "/api/v1/orders/..%2F..%2Fetc",
    ] {
        let a = call(&app, Method::GET, path, Some(&token)).await;
        assert!(a.status.is_client_error(), "{path}: {}", a.status);
        assert_eq!(a.content_type, "application/problem+json", "{path}");
    }

    // Actions with the read-and-write token: sync now, accept, then a second decision is
    // refused with a conflict.
    let sync = call(
        &app,
        Method::POST,
        &format!("/api/v1/channels/{}/sync", s.marketplace),
        Some(&token),
    )
    .await;
    assert_eq!(sync.status, StatusCode::ACCEPTED, "{}", sync.body);
    check(&doc, "post", "/api/v1/channels/{id}/sync", &sync);
    let accepted = call(
        &app,
        Method::POST,
        &format!("/api/v1/orders/{first}/accept"),
        Some(&token),
    )
    .await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.body);
    check(&doc, "post", "/api/v1/orders/{id}/accept", &accepted);
    let again = call(
        &app,
        Method::POST,
        &format!("/api/v1/orders/{first}/refuse"),
        Some(&token),
    )
    .await;
    is_problem(&again, StatusCode::CONFLICT);
    check(&doc, "post", "/api/v1/orders/{id}/refuse", &again);
    let detail = call(
        &app,
        Method::GET,
        &format!("/api/v1/orders/{first}"),
        Some(&token),
    )
    .await;
    assert!(
        detail.body["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["message"] == "You accepted the order"),
        "{}",
        detail.body
    );
    app.stop().await;
}

/// Retry through the API: an order short of stock waits for the seller; once restocked, a
/// Retry accepts it, and a second finds nothing to retry (409).
#[tokio::test]
async fn an_order_waiting_for_the_seller_is_retried_through_the_api() {
    let app = TestApp::spawn().await;
    let doc = openapi(&app).await;
    let s = launched(&app).await;
    let token = create_token(&app, &s.v, "ERP", "Read and write").await;
    let (id, mirakl_id, _, product) = an_order_short_of_stock(&app, &s).await;
    let waiting = call(
        &app,
        Method::GET,
        &format!("/api/v1/orders/{id}"),
        Some(&token),
    )
    .await;
    check(&doc, "get", "/api/v1/orders/{id}", &waiting);
    assert!(
        waiting.body["order"]["attention"]
            .as_str()
            .is_some_and(|a| a.contains("Not enough stock")),
        "{}",
        waiting.body
    );
    assert_eq!(mirakl_state(&app, &mirakl_id), "WAITING_ACCEPTANCE");

    app.sandbox.woo_set_stock("demo-shop", product, 50);
    work(&app).await;
    let path = format!("/api/v1/orders/{id}/retry");
    let retried = call(&app, Method::POST, &path, Some(&token)).await;
    assert_eq!(retried.status, StatusCode::ACCEPTED, "{}", retried.body);
    check(&doc, "post", "/api/v1/orders/{id}/retry", &retried);
    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(mirakl_state(&app, &mirakl_id), "SHIPPING");

    let again = call(&app, Method::POST, &path, Some(&token)).await;
    is_problem(&again, StatusCode::CONFLICT);
    check(&doc, "post", "/api/v1/orders/{id}/retry", &again);
    app.stop().await;
}

#[tokio::test]
async fn the_api_serves_a_launched_workspace_on_sqlite() {
    the_api_serves_a_launched_workspace(Engine::Sqlite).await;
}

#[tokio::test]
async fn the_api_serves_a_launched_workspace_on_postgres() {
    the_api_serves_a_launched_workspace(Engine::Postgres).await;
}

/// `demo --connected` prints a read-and-write token of the demo seller that opens the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connected_demo_prints_a_token_that_opens_the_api() {
    use marketbridge::demo::{Demo, DemoOptions, DemoSandbox};
    let any_port = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let data_dir =
        std::env::temp_dir().join(format!("marketbridge-api-demo-{}", uuid::Uuid::new_v4()));
    let demo = Demo::start(DemoOptions {
        data_dir: data_dir.clone(),
        connector_listen: any_port,
        sandbox: DemoSandbox::Own(any_port),
        orders_every: std::time::Duration::ZERO,
        connected: true,
    })
    .await
    .unwrap();
    let token = demo.api_token.clone().expect("--connected makes a token");
    let banner = demo.banner();
    assert!(
        banner.contains(&format!("Authorization: Bearer {token}")),
        "{banner}"
    );
    let url = demo.connector_url.join("/api/v1/channels").unwrap();
    let response = bare_client()
        .get(url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["items"].as_array().unwrap().len(), 2, "{body}");
    let sync = bare_client()
        .post(demo.connector_url.join("/api/v1/channels/x/sync").unwrap())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        sync.status(),
        StatusCode::NOT_FOUND,
        "read and write: past the 403"
    );
    demo.stop().await;
    let _ = std::fs::remove_dir_all(&data_dir);
}
