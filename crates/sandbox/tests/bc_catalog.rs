//! The v3 catalog of the emulated BigCommerce store: paging, variants, filters, writes,
//! inventory adjustments, and what the API refuses.

mod bc_support;

use bc_support::{HASH, Store};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn the_demo_catalog_pages_with_variants_and_envelopes() {
    let store = Store::start().await;
    let first = store
        .get_json("v3/catalog/products?limit=250&include=variants")
        .await;
    let pagination = &first["meta"]["pagination"];
    assert_eq!(
        pagination["total"], 300,
        "the WooCommerce demo catalog, carried over"
    );
    assert_eq!(pagination["per_page"], 250);
    assert_eq!(pagination["total_pages"], 2);
    assert_eq!(pagination["links"]["next"], "?page=2&limit=250");
    assert_eq!(first["data"].as_array().unwrap().len(), 250);

    let second = store
        .get_json("v3/catalog/products?page=2&limit=250&include=variants")
        .await;
    assert_eq!(second["data"].as_array().unwrap().len(), 50);
    assert!(second["meta"]["pagination"]["links"].get("next").is_none());
    let variable = second["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["inventory_tracking"] == "variant")
        .expect("variable products come last");
    let variants = variable["variants"].as_array().unwrap();
    assert!(variants.len() >= 2);
    assert_eq!(variable["base_variant_id"], serde_json::Value::Null);
    let variant = &variants[0];
    assert_eq!(variant["product_id"], variable["id"]);
    assert!(variant["sku"].as_str().unwrap().starts_with("DEMO-V"));
    assert_eq!(variant["option_values"][0]["option_display_name"], "Color");
    let summed: i64 = variants
        .iter()
        .map(|v| v["inventory_level"].as_i64().unwrap())
        .sum();
    assert_eq!(variable["inventory_level"], summed);

    // Without include=variants there are none; a limit above 250 is held at 250.
    let bare = store.get_json("v3/catalog/products?limit=1000").await;
    assert_eq!(bare["meta"]["pagination"]["per_page"], 250);
    assert!(bare["data"][0].get("variants").is_none());
}

#[tokio::test]
async fn products_filter_by_ids_sku_and_modification_date() {
    let store = Store::start().await;
    let all = store.get_json("v3/catalog/products?limit=5").await;
    let ids: Vec<i64> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    let picked = store
        .get_json(&format!("v3/catalog/products?id:in={},{}", ids[1], ids[3]))
        .await;
    let got: Vec<i64> = picked["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, vec![ids[1], ids[3]]);

    let sku = all["data"][2]["sku"].as_str().unwrap();
    let by_sku = store
        .get_json(&format!("v3/catalog/products?sku={sku}"))
        .await;
    assert_eq!(by_sku["data"].as_array().unwrap().len(), 1);
    assert_eq!(by_sku["data"][0]["id"], ids[2]);

    // A change shows in a date_modified:min poll from just before it.
    let since = time::OffsetDateTime::now_utc() - time::Duration::seconds(2);
    let since = since
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let url = format!(
        "v3/catalog/products?date_modified:min={}",
        url::form_urlencoded::byte_serialize(since.as_bytes()).collect::<String>()
    );
    let before = store.get_json(&url).await;
    assert_eq!(
        before["meta"]["pagination"]["total"], 0,
        "the seed is older"
    );
    let (status, _) = store
        .send_json(
            Method::PUT,
            &format!("v3/catalog/products/{}", ids[4]),
            json!({ "price": 12.5 }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let after = store.get_json(&url).await;
    assert_eq!(after["data"][0]["id"], ids[4]);
    assert_eq!(after["data"][0]["price"], 12.5);
}

#[tokio::test]
async fn a_product_created_with_variants_reads_back_and_its_variants_change() {
    let store = Store::start().await;
    let (status, created) = store
        .send_json(
            Method::POST,
            "v3/catalog/products",
            json!({
                "name": "Sandbox Hoodie",
                "type": "physical",
                "weight": 1,
                "price": 39.9,
                "sku": "HOODIE",
                "gtin": "4006381333931",
                "inventory_tracking": "variant",
                "custom_fields": [{ "name": "material", "value": "cotton" }],
                "variants": [
                    { "sku": "HOODIE-S", "inventory_level": 4, "option_values": [{ "option_display_name": "Size", "label": "S" }] },
                    { "sku": "HOODIE-M", "inventory_level": 6, "price": 41, "option_values": [{ "option_display_name": "Size", "label": "M" }] },
                ],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["data"]["id"].as_i64().unwrap();

    let read = store
        .get_json(&format!("v3/catalog/products/{id}?include=variants"))
        .await;
    let product = &read["data"];
    assert_eq!(product["name"], "Sandbox Hoodie");
    assert_eq!(product["gtin"], "4006381333931");
    assert_eq!(product["inventory_level"], 10);
    assert_eq!(product["custom_fields"][0]["value"], "cotton");
    assert_eq!(product["variants"].as_array().unwrap().len(), 2);
    let medium = product["variants"][1]["id"].as_i64().unwrap();

    let (status, variant) = store
        .send_json(
            Method::PUT,
            &format!("v3/catalog/products/{id}/variants/{medium}"),
            json!({ "inventory_level": 1, "upc": "012345678905" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{variant}");
    let variants = store
        .get_json(&format!("v3/catalog/products/{id}/variants"))
        .await;
    assert_eq!(variants["data"][1]["inventory_level"], 1);
    assert_eq!(variants["data"][1]["upc"], "012345678905");

    let (status, added) = store
        .send_json(
            Method::POST,
            &format!("v3/catalog/products/{id}/variants"),
            json!({ "sku": "HOODIE-L", "inventory_level": 2, "option_values": [{ "option_display_name": "Size", "label": "L" }] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(
        store.sandbox.bc_product(HASH, id).unwrap()["inventory_level"],
        7
    );

    // A SKU is one product's or variant's only.
    let (status, _) = store
        .send_json(
            Method::POST,
            "v3/catalog/products",
            json!({ "name": "Copy", "price": 1, "sku": "HOODIE-S" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    let deleted = store
        .call(Method::DELETE, &format!("v3/catalog/products/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = store
        .call(Method::GET, &format!("v3/catalog/products/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn absolute_adjustments_set_stock_by_variant_product_or_sku() {
    let store = Store::start().await;
    let product = store.stocked_product().await;
    let id = product["id"].as_i64().unwrap();
    let variable = store
        .get_json("v3/catalog/products?page=2&limit=250&include=variants")
        .await["data"][0]
        .clone();
    let variant = &variable["variants"][0];

    let response = store
        .call(Method::PUT, "v3/inventory/adjustments/absolute")
        .json(&json!({
            "reason": "stock count",
            "items": [
                { "location_id": 1, "product_id": id, "quantity": 3 },
                { "location_id": 1, "variant_id": variant["id"], "quantity": 42 },
            ],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["transaction_id"].is_string());
    assert_eq!(
        store.sandbox.bc_product(HASH, id).unwrap()["inventory_level"],
        3
    );
    let changed = store
        .sandbox
        .bc_product(HASH, variable["id"].as_i64().unwrap())
        .unwrap();
    assert_eq!(changed["variants"][0]["inventory_level"], 42);

    let by_sku = store
        .call(Method::PUT, "v3/inventory/adjustments/absolute")
        .json(&json!({ "items": [{ "location_id": 1, "sku": variant["sku"], "quantity": 7 }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(by_sku.status(), StatusCode::OK);
    let changed = store
        .sandbox
        .bc_product(HASH, variable["id"].as_i64().unwrap())
        .unwrap();
    assert_eq!(changed["variants"][0]["inventory_level"], 7);

    // More than 2,000 items, or one unknown, and nothing is set.
    let too_many: Vec<_> = (0..2001)
        .map(|_| json!({ "location_id": 1, "product_id": id, "quantity": 1 }))
        .collect();
    let refused = store
        .call(Method::PUT, "v3/inventory/adjustments/absolute")
        .json(&json!({ "items": too_many }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = store
        .call(Method::PUT, "v3/inventory/adjustments/absolute")
        .json(&json!({ "items": [
            { "location_id": 1, "product_id": id, "quantity": 9 },
            { "location_id": 1, "variant_id": 1, "quantity": 9 },
        ] }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        store.sandbox.bc_product(HASH, id).unwrap()["inventory_level"],
        3
    );
}

#[tokio::test]
async fn categories_and_brands_are_listed() {
    let store = Store::start().await;
    let categories = store.get_json("v3/catalog/categories").await;
    let names: Vec<&str> = categories["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Clothing"), "{names:?}");
    let brands = store.get_json("v3/catalog/brands").await;
    assert!(!brands["data"].as_array().unwrap().is_empty());
    let product = store.get_json("v3/catalog/products?limit=1").await;
    let category = product["data"][0]["categories"][0].as_i64().unwrap();
    assert!(
        categories["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == category)
    );
}

#[tokio::test]
async fn calls_need_the_stores_token_and_an_existing_store() {
    let store = Store::start().await;
    let anonymous = store
        .http
        .get(store.api("v3/catalog/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let wrong = store
        .http
        .get(store.api("v2/orders"))
        .header("x-auth-token", "not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(body[0]["status"], 401, "v2 errors are a list");
    let unknown = store
        .http
        .get(format!("{}/bc/stores/nope/v3/catalog/products", store.base))
        .header("x-auth-token", bc_support::TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(store.sandbox.call_count("bc.rest"), 3);
}

#[tokio::test]
async fn hostile_input_gets_4xx_never_5xx() {
    let store = Store::start().await;
    let product = store.stocked_product().await;
    let id = product["id"].as_i64().unwrap();
    let cases: Vec<(Method, String, Vec<u8>)> = vec![
        (Method::POST, "v3/catalog/products".into(), b"{not json".to_vec()),
        (Method::POST, "v3/catalog/products".into(), b"".to_vec()),
        (Method::POST, "v3/catalog/products".into(), b"[1,2]".to_vec()),
        (Method::POST, "v3/catalog/products".into(), json!({ "name": "a\u{0}b", "price": 1 }).to_string().into_bytes()),
        (Method::POST, "v3/catalog/products".into(), json!({ "name": "x", "price": "-1" }).to_string().into_bytes()),
        (Method::POST, "v3/catalog/products".into(), json!({ "name": "x", "price": 1, "inventory_level": -5 }).to_string().into_bytes()),
        (Method::POST, "v3/catalog/products".into(), json!({ "name": "x", "price": 1, "categories": ["a"] }).to_string().into_bytes()),
        (Method::PUT, format!("v3/catalog/products/{id}"), json!({ "inventory_tracking": "maybe" }).to_string().into_bytes()),
        (Method::PUT, format!("v3/catalog/products/{id}"), vec![0xff, 0xfe, 0x00]),
        (Method::GET, "v3/catalog/products/abc".into(), Vec::new()),
        (Method::GET, "v3/catalog/products/%00".into(), Vec::new()),
        (Method::GET, "v3/catalog/products/99999999999999999999".into(), Vec::new()),
        (Method::GET, "v3/catalog/products?page=0".into(), Vec::new()),
        (Method::GET, "v3/catalog/products?id:in=1,x".into(), Vec::new()),
        (Method::GET, "v3/catalog/products?date_modified:min=yesterday".into(), Vec::new()),
        (Method::POST, "v2/orders".into(), json!({ "products": [] }).to_string().into_bytes()),
        (Method::POST, "v2/orders".into(), json!({ "billing_address": {}, "products": [{ "product_id": id, "quantity": 0 }] }).to_string().into_bytes()),
        (Method::POST, "v2/orders".into(), json!({ "billing_address": {}, "products": [{ "product_id": id, "quantity": 1 }], "status_id": 99 }).to_string().into_bytes()),
        (Method::GET, "v2/orders?min_date_modified=soon".into(), Vec::new()),
        (Method::PUT, "v2/orders/1".into(), b"null".to_vec()),
        (Method::POST, "v3/hooks".into(), json!({ "scope": "store/everything", "destination": "http://x.test" }).to_string().into_bytes()),
        (Method::POST, "v3/hooks".into(), json!({ "scope": "store/order/created", "destination": "ftp://x.test" }).to_string().into_bytes()),
        (Method::POST, "v3/hooks".into(), json!({ "scope": "store/order/created", "destination": "http://x.test", "headers": { "bad header": "x" } }).to_string().into_bytes()),
        (Method::POST, "v3/hooks".into(), json!({ "scope": "store/order/created", "destination": "http://x.test", "headers": { "x-a": "line\nbreak" } }).to_string().into_bytes()),
        (Method::PUT, "v3/inventory/adjustments/absolute".into(), json!({ "items": [{ "location_id": 2, "product_id": id, "quantity": 1 }] }).to_string().into_bytes()),
        (Method::PATCH, "v3/catalog/products".into(), Vec::new()),
        (Method::GET, "v3/nowhere".into(), Vec::new()),
    ];
    for (method, path, body) in cases {
        let response = store
            .call(method.clone(), &path)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(status.is_client_error(), "{method} {path}: {status}");
    }
    // A body past the limit is refused before it is read.
    let huge = format!(
        "{{\"name\":\"{}\",\"price\":1}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let response = store
        .call(Method::POST, "v3/catalog/products")
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        store.sandbox.bc_product_ids(HASH).len(),
        300,
        "nothing was created"
    );
}

#[tokio::test]
async fn batches_update_up_to_their_limit_all_or_none() {
    let store = Store::start().await;
    let variable = store
        .get_json("v3/catalog/products?page=2&limit=250&include=variants")
        .await["data"][0]
        .clone();
    let product_id = variable["id"].as_i64().unwrap();
    let (first, second) = (
        variable["variants"][0]["id"].as_i64().unwrap(),
        variable["variants"][1]["id"].as_i64().unwrap(),
    );
    let (status, updated) = store
        .send_json(
            Method::PUT,
            "v3/catalog/variants",
            json!([
                { "id": first, "price": 11.5, "inventory_level": 8 },
                { "id": second, "sale_price": 9.99 },
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["data"].as_array().unwrap().len(), 2);
    let product = store.sandbox.bc_product(HASH, product_id).unwrap();
    assert_eq!(product["variants"][0]["price"], 11.5);
    assert_eq!(product["variants"][0]["inventory_level"], 8);
    assert_eq!(product["variants"][1]["sale_price"], 9.99);

    let too_many: Vec<_> = (0..51)
        .map(|_| json!({ "id": first, "price": 1 }))
        .collect();
    let (status, _) = store
        .send_json(Method::PUT, "v3/catalog/variants", json!(too_many))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // One refused item and none is applied.
    let (status, _) = store
        .send_json(
            Method::PUT,
            "v3/catalog/variants",
            json!([{ "id": first, "price": 99 }, { "id": 1, "price": 1 }]),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let product = store.sandbox.bc_product(HASH, product_id).unwrap();
    assert_eq!(product["variants"][0]["price"], 11.5);

    let ids = store.sandbox.bc_product_ids(HASH);
    let (status, products) = store
        .send_json(
            Method::PUT,
            "v3/catalog/products",
            json!([{ "id": ids[0], "is_visible": false }, { "id": ids[1], "price": 3 }]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{products}");
    assert_eq!(
        store.sandbox.bc_product(HASH, ids[0]).unwrap()["is_visible"],
        false
    );
    let eleven: Vec<_> = ids[..11]
        .iter()
        .map(|id| json!({ "id": id, "price": 1 }))
        .collect();
    let (status, _) = store
        .send_json(Method::PUT, "v3/catalog/products", json!(eleven))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = store
        .send_json(Method::PUT, "v3/catalog/products", json!([{ "price": 1 }]))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an item without id"
    );
}
