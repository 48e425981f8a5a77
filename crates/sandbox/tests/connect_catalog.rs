//! The Mirakl Connect catalog: upsert (PATCH semantics), list (seek pagination), delete, and
//! Connect's Bearer authentication.

mod support;

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};
use support::{CONNECT_COMPANY, SHOP_API_KEY, TestSandbox};

const PRODUCTS: &str = "/connect/api/products";

async fn post(sandbox: &TestSandbox, bearer: &str, body: Value) -> support::TestResponse {
    sandbox
        .json(Method::POST, PRODUCTS, Some(bearer), Some(&body))
        .await
}

fn product(id: &str) -> Value {
    json!({
        "id": id,
        "titles": [{ "locale": "en_US", "value": format!("Product {id}") }],
        "brand": "Acme",
        "gtins": [{ "value": "4006381333931" }],
        "quantities": [{ "available_quantity": 5 }],
        "standard_prices": [{ "price": { "amount": 19.9, "currency": "EUR" } }],
    })
}

#[tokio::test]
async fn an_upsert_creates_then_patches_leaving_omitted_fields_and_clearing_nulls() {
    let sandbox = TestSandbox::start();
    let bearer = sandbox.connect_bearer().await;
    let mut first = product("mug");
    first["discount_prices"] = json!([{ "price": { "amount": 15, "currency": "EUR" } }]);
    let created = post(&sandbox, &bearer, json!({ "products": [first] })).await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);

    let patch = json!({ "products": [{
        "id": "mug",
        "quantities": [{ "available_quantity": 0 }],
        "discount_prices": null,
        "an_unknown_field": true,
    }]});
    assert_eq!(
        post(&sandbox, &bearer, patch).await.status,
        StatusCode::ACCEPTED
    );

    let stored = sandbox.sandbox.connect_products(CONNECT_COMPANY);
    assert_eq!(stored.len(), 1);
    let mug = &stored[0];
    assert_eq!(mug["quantities"], json!([{ "available_quantity": 0 }]));
    assert_eq!(mug["brand"], "Acme", "omitted fields stay");
    assert_eq!(mug["standard_prices"][0]["price"]["amount"], 19.9);
    assert!(mug.get("discount_prices").is_none(), "null clears: {mug}");
    assert!(mug.get("an_unknown_field").is_none());
    assert_eq!(sandbox.sandbox.call_count("connect.products.post"), 2);

    let over_control = sandbox
        .get("/sandbox/api/connect/demo-company/products")
        .await
        .json();
    assert_eq!(over_control, json!(stored));
}

#[tokio::test]
async fn no_products_or_more_than_1000_is_refused() {
    let sandbox = TestSandbox::start();
    let bearer = sandbox.connect_bearer().await;
    let many: Vec<Value> = (0..1001)
        .map(|n| json!({ "id": format!("p{n}") }))
        .collect();
    for body in [
        json!({ "products": many }),
        json!({ "products": [] }),
        json!({}),
    ] {
        let response = post(&sandbox, &bearer, body).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
        let error = response.json();
        assert_eq!(error["code"], "INVALID_INPUT");
        assert!(error["message"].is_string());
        assert_eq!(error["errors"][0]["field"], "products");
    }
    let exactly: Vec<Value> = (0..1000)
        .map(|n| json!({ "id": format!("p{n:04}") }))
        .collect();
    let accepted = post(&sandbox, &bearer, json!({ "products": exactly })).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.body);
    assert_eq!(
        sandbox.sandbox.connect_products(CONNECT_COMPANY).len(),
        1000
    );
}

#[tokio::test]
async fn a_bad_gtin_refuses_the_whole_request_and_stores_nothing() {
    let sandbox = TestSandbox::start();
    let bearer = sandbox.connect_bearer().await;
    let mut bad = product("bad");
    bad["gtins"] = json!([{ "value": "12345" }]);
    bad["standard_prices"] = json!([{ "price": { "amount": 10, "currency": "EURO" } }]);
    let response = post(
        &sandbox,
        &bearer,
        json!({ "products": [product("good"), bad] }),
    )
    .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let error = response.json();
    assert_eq!(error["code"], "INVALID_INPUT");
    let fields: Vec<&str> = error["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"products[1].gtins[0].value"), "{fields:?}");
    assert!(
        fields.contains(&"products[1].standard_prices[0].price.currency"),
        "{fields:?}"
    );
    assert!(sandbox.sandbox.connect_products(CONNECT_COMPANY).is_empty());

    for gtin in ["12345678", "012345678905", "4006381333931"] {
        let mut good = product("ok");
        good["gtins"] = json!([{ "value": gtin }]);
        let response = post(&sandbox, &bearer, json!({ "products": [good] })).await;
        assert_eq!(
            response.status,
            StatusCode::ACCEPTED,
            "{gtin}: {}",
            response.body
        );
    }
}

#[tokio::test]
async fn pages_follow_their_tokens_forward_and_back_in_id_order() {
    let sandbox = TestSandbox::start();
    let bearer = sandbox.connect_bearer().await;
    let ids: Vec<String> = (0..25).rev().map(|n| format!("sku-{n:02}")).collect();
    let products: Vec<Value> = ids.iter().map(|id| product(id)).collect();
    assert_eq!(
        post(&sandbox, &bearer, json!({ "products": products }))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let get = |uri: String| {
        let (sandbox, bearer) = (&sandbox, &bearer);
        async move {
            let response = sandbox.json(Method::GET, &uri, Some(bearer), None).await;
            assert_eq!(response.status, StatusCode::OK, "{}", response.body);
            response.json()
        }
    };
    let page_ids = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|product| product["id"].as_str().unwrap().to_owned())
            .collect()
    };

    let mut forward = Vec::new();
    let mut pages = Vec::new();
    let mut page = get(format!("{PRODUCTS}?limit=10")).await;
    assert!(page.get("previous_page_token").is_none());
    loop {
        forward.extend(page_ids(&page));
        pages.push(page.clone());
        let Some(next) = page["next_page_token"].as_str() else {
            break;
        };
        page = get(format!("{PRODUCTS}?limit=10&page_token={next}")).await;
    }
    let sorted: Vec<String> = (0..25).map(|n| format!("sku-{n:02}")).collect();
    assert_eq!(forward, sorted);
    assert_eq!(pages.len(), 3);

    let previous = pages[2]["previous_page_token"].as_str().unwrap();
    let back = get(format!("{PRODUCTS}?limit=10&page_token={previous}")).await;
    assert_eq!(page_ids(&back), page_ids(&pages[1]));

    let everything = get(PRODUCTS.to_owned()).await;
    assert_eq!(page_ids(&everything).len(), 25, "limit defaults to 1000");
    assert!(everything.get("next_page_token").is_none());

    for bad in ["?limit=0", "?limit=1001", "?page_token=garbage!"] {
        let response = sandbox
            .json(
                Method::GET,
                &format!("{PRODUCTS}{bad}"),
                Some(&bearer),
                None,
            )
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(response.json()["code"], "INVALID_INPUT");
    }
    assert_eq!(sandbox.sandbox.call_count("connect.products.get"), 8);
}

#[tokio::test]
async fn delete_removes_the_named_products_and_ignores_unknown_ones() {
    let sandbox = TestSandbox::start();
    let bearer = sandbox.connect_bearer().await;
    let products: Vec<Value> = ["a", "b", "c"].iter().map(|id| product(id)).collect();
    post(&sandbox, &bearer, json!({ "products": products })).await;
    let body = json!({ "products": [{ "id": "a" }, { "id": "never-was" }] });
    let deleted = sandbox
        .json(Method::DELETE, PRODUCTS, Some(&bearer), Some(&body))
        .await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED, "{}", deleted.body);
    let left: Vec<Value> = sandbox
        .sandbox
        .connect_products(CONNECT_COMPANY)
        .iter()
        .map(|product| product["id"].clone())
        .collect();
    assert_eq!(left, [json!("b"), json!("c")]);
    assert_eq!(sandbox.sandbox.call_count("connect.products.delete"), 1);

    let too_many: Vec<Value> = (0..1001).map(|n| json!({ "id": n.to_string() })).collect();
    let refused = sandbox
        .json(
            Method::DELETE,
            PRODUCTS,
            Some(&bearer),
            Some(&json!({ "products": too_many })),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_missing_or_wrong_credential_gets_401_with_connects_error_body() {
    let sandbox = TestSandbox::start();
    let marketplace_tokens = sandbox.authorized_tokens().await;
    let marketplace_bearer = format!(
        "Bearer {}",
        marketplace_tokens["access_token"].as_str().unwrap()
    );
    let cases = [
        None,
        Some(SHOP_API_KEY),
        Some("Bearer not-a-token"),
        Some(marketplace_bearer.as_str()),
    ];
    for credential in cases {
        let response = sandbox.json(Method::GET, PRODUCTS, credential, None).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{credential:?}");
        assert_eq!(response.headers[header::WWW_AUTHENTICATE], "Bearer");
        let body = response.json();
        assert_eq!(body["code"], "UNAUTHORIZED");
        assert!(body["message"].as_str().unwrap().len() > 10);
    }

    // A revoked grant stops working too.
    let bearer = sandbox.connect_bearer().await;
    sandbox.sandbox.revoke_all_grants("marketbridge-demo");
    let revoked = sandbox
        .json(Method::GET, PRODUCTS, Some(&bearer), None)
        .await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
    assert_eq!(sandbox.sandbox.call_count("connect.products.get"), 5);
}
