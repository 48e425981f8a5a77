//! v2 orders of the emulated BigCommerce store: creation takes stock, polls find orders by
//! modification date and external id, cancelling gives the stock back, shipments carry
//! tracking.

mod bc_support;

use bc_support::{HASH, Store};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn address() -> Value {
    json!({
        "first_name": "Jane", "last_name": "Doe", "street_1": "1 Main St", "city": "Austin",
        "state": "Texas", "zip": "78701", "country": "United States", "country_iso2": "US",
        "email": "jane@example.com",
    })
}

async fn order_of(store: &Store, product_id: i64, quantity: i64, external: &str) -> Value {
    let (status, order) = store
        .send_json(
            Method::POST,
            "v2/orders",
            json!({
                "billing_address": address(),
                "shipping_addresses": [address()],
                "products": [{ "product_id": product_id, "quantity": quantity }],
                "status_id": 11,
                "external_source": "marketbridge",
                "external_order_id": external,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    order
}

#[tokio::test]
async fn an_order_takes_stock_and_is_found_by_modification_date_and_external_id() {
    let store = Store::start().await;
    let product = store.stocked_product().await;
    let (id, stock) = (
        product["id"].as_i64().unwrap(),
        product["inventory_level"].as_i64().unwrap(),
    );
    let nothing_yet = store.call(Method::GET, "v2/orders").send().await.unwrap();
    assert_eq!(
        nothing_yet.status(),
        StatusCode::NO_CONTENT,
        "an empty v2 list"
    );

    let order = order_of(&store, id, 2, "MIRAKL-1001-A").await;
    assert_eq!(order["status_id"], 11);
    assert_eq!(order["status"], "Awaiting Fulfillment");
    assert_eq!(order["external_order_id"], "MIRAKL-1001-A");
    assert_eq!(
        store.sandbox.bc_product(HASH, id).unwrap()["inventory_level"],
        stock - 2
    );

    let since = "Thu, 01 Jan 2026 00:00:00 +0000";
    let url = format!(
        "v2/orders?min_date_modified={}",
        url::form_urlencoded::byte_serialize(since.as_bytes()).collect::<String>()
    );
    let found = store.get_json(&url).await;
    assert_eq!(found[0]["id"], order["id"]);
    let future = store
        .call(
            Method::GET,
            "v2/orders?min_date_modified=2100-01-01T00:00:00Z",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(future.status(), StatusCode::NO_CONTENT);

    order_of(&store, id, 1, "MIRAKL-1002-A").await;
    let by_external = store
        .get_json("v2/orders?external_order_id=MIRAKL-1001-A")
        .await;
    assert_eq!(by_external.as_array().unwrap().len(), 1);
    assert_eq!(by_external[0]["id"], order["id"]);

    let lines = store
        .get_json(&format!("v2/orders/{}/products", order["id"]))
        .await;
    assert_eq!(lines[0]["product_id"], id);
    assert_eq!(lines[0]["quantity"], 2);
    assert_eq!(lines[0]["sku"], product["sku"]);
}

#[tokio::test]
async fn an_order_by_sku_takes_a_variants_stock_and_short_stock_refuses_it() {
    let store = Store::start().await;
    let variable = store
        .get_json("v3/catalog/products?page=2&limit=250&include=variants")
        .await["data"][0]
        .clone();
    let variant = variable["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["inventory_level"].as_i64().unwrap() > 2)
        .unwrap()
        .clone();
    let level = variant["inventory_level"].as_i64().unwrap();
    let (status, order) = store
        .send_json(
            Method::POST,
            "v2/orders",
            json!({ "billing_address": address(), "products": [{ "sku": variant["sku"], "quantity": 2 }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let product = store
        .sandbox
        .bc_product(HASH, variable["id"].as_i64().unwrap())
        .unwrap();
    let after = product["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == variant["id"])
        .unwrap()["inventory_level"]
        .clone();
    assert_eq!(after, level - 2);

    let (status, refused) = store
        .send_json(
            Method::POST,
            "v2/orders",
            json!({ "billing_address": address(), "products": [{ "sku": variant["sku"], "quantity": level + 100 }] }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused[0]["message"].as_str().unwrap().contains("stock"));
}

#[tokio::test]
async fn a_cancelled_order_gives_its_stock_back_once() {
    let store = Store::start().await;
    let product = store.stocked_product().await;
    let (id, stock) = (
        product["id"].as_i64().unwrap(),
        product["inventory_level"].as_i64().unwrap(),
    );
    let order = order_of(&store, id, 3, "MIRAKL-2001-A").await;
    let order_id = order["id"].as_i64().unwrap();
    assert_eq!(
        store.sandbox.bc_product(HASH, id).unwrap()["inventory_level"],
        stock - 3
    );

    let (status, cancelled) = store
        .send_json(
            Method::PUT,
            &format!("v2/orders/{order_id}"),
            json!({ "status_id": 5 }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "Cancelled");
    assert_eq!(
        store.sandbox.bc_product(HASH, id).unwrap()["inventory_level"],
        stock
    );

    // Refunding the cancelled order gives nothing more back.
    store
        .send_json(
            Method::PUT,
            &format!("v2/orders/{order_id}"),
            json!({ "status_id": 4 }),
        )
        .await;
    assert_eq!(
        store.sandbox.bc_product(HASH, id).unwrap()["inventory_level"],
        stock
    );
    let (status, _) = store
        .send_json(
            Method::PUT,
            &format!("v2/orders/{order_id}"),
            json!({ "external_id": "x" }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "external_id is set at creation only"
    );
}

#[tokio::test]
async fn a_shipment_with_tracking_ships_the_order() {
    let store = Store::start().await;
    let product = store.stocked_product().await;
    let order = order_of(&store, product["id"].as_i64().unwrap(), 2, "MIRAKL-3001-A").await;
    let order_id = order["id"].as_i64().unwrap();
    let addresses = store
        .get_json(&format!("v2/orders/{order_id}/shipping_addresses"))
        .await;
    let address_id = addresses[0]["id"].as_i64().unwrap();
    let lines = store
        .get_json(&format!("v2/orders/{order_id}/products"))
        .await;
    let line_id = lines[0]["id"].as_i64().unwrap();
    assert_eq!(lines[0]["order_address_id"], address_id);

    let (status, partial) = store
        .send_json(
            Method::POST,
            &format!("v2/orders/{order_id}/shipments"),
            json!({
                "order_address_id": address_id,
                "tracking_number": "1Z999AA10123456784",
                "tracking_carrier": "ups",
                "items": [{ "order_product_id": line_id, "quantity": 1 }],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{partial}");
    assert_eq!(partial["tracking_number"], "1Z999AA10123456784");
    assert_eq!(partial["tracking_carrier"], "ups");
    assert_eq!(partial["items"][0]["quantity"], 1);
    assert_eq!(
        store.sandbox.bc_order(HASH, order_id).unwrap()["status"],
        "Partially Shipped"
    );

    let (status, _) = store
        .send_json(
            Method::POST,
            &format!("v2/orders/{order_id}/shipments"),
            json!({ "order_address_id": address_id, "items": [{ "order_product_id": line_id, "quantity": 5 }] }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "more than is left to ship");
    let (status, _) = store
        .send_json(
            Method::POST,
            &format!("v2/orders/{order_id}/shipments"),
            json!({ "order_address_id": address_id, "tracking_number": "2", "items": [{ "order_product_id": line_id, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let order = store.sandbox.bc_order(HASH, order_id).unwrap();
    assert_eq!(order["status"], "Shipped");
    assert_eq!(order["items_shipped"], 2);
    let shipments = store
        .get_json(&format!("v2/orders/{order_id}/shipments"))
        .await;
    assert_eq!(shipments.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn refunds_are_listed_and_turn_the_order_partially_then_wholly_refunded() {
    let store = Store::start().await;
    let product = store.stocked_product().await;
    let order = order_of(&store, product["id"].as_i64().unwrap(), 1, "MIRAKL-R-1").await;
    let id = order["id"].as_i64().unwrap();
    let total: f64 = order["total_inc_tax"].as_str().unwrap().parse().unwrap();
    let refund = |amount: String| {
        json!({
            "items": [{ "item_type": "ORDER", "item_id": id, "amount": amount }],
            "payments": [{ "provider_id": "custom", "amount": amount, "offline": true }],
            "reason": "scratched",
        })
    };
    let path = format!("v3/orders/{id}/payment_actions/refunds");

    let (status, made) = store
        .send_json(Method::POST, &path, refund("1.00".to_owned()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["data"]["total_amount"], 1.0);
    let order_now = store.get_json(&format!("v2/orders/{id}")).await;
    assert_eq!(order_now["status"], "Partially Refunded");

    let (status, _) = store
        .send_json(Method::POST, &path, refund(format!("{:.2}", total)))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "more than is left"
    );
    let (status, _) = store
        .send_json(Method::POST, &path, refund(format!("{:.2}", total - 1.0)))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let order_now = store.get_json(&format!("v2/orders/{id}")).await;
    assert_eq!(order_now["status"], "Refunded");

    let listed = store.get_json(&path).await;
    let reasons: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["scratched", "scratched"]);

    let (status, refused) = store
        .send_json(
            Method::POST,
            &path,
            json!({ "items": [{ "item_type": "PRODUCT", "item_id": 1, "amount": "1.00" }] }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
}
