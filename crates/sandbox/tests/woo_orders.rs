//! Orders in the emulated store: lines by SKU or id, payment, and stock taken once and given
//! back once.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::woo::Shop;

async fn stock_of(shop: &Shop, id: i64) -> i64 {
    shop.get_json(&format!("products/{id}")).await["stock_quantity"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_paid_order_by_sku_takes_stock_once_and_cancelling_gives_it_back_once() {
    let shop = Shop::start().await;
    let product = shop.stocked_simple_product().await;
    let id = product["id"].as_i64().unwrap();
    let sku = product["sku"].as_str().unwrap();
    let before = stock_of(&shop, id).await;

    let (status, order) = shop
        .send_json(
            Method::POST,
            "orders",
            json!({
                "set_paid": true,
                "billing": { "first_name": "Ada", "email": "ada@example.com", "phone": "+33 1" },
                // The SKU wins over a wrong product id.
                "line_items": [{ "sku": sku, "product_id": 1, "quantity": 3 }],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["status"], "processing");
    assert_eq!(order["created_via"], "rest-api");
    assert_eq!(order["line_items"][0]["product_id"], id);
    assert_eq!(order["line_items"][0]["sku"], sku);
    let price = product["price"].as_str().unwrap().parse::<f64>().unwrap();
    assert_eq!(order["total"], format!("{:.2}", price * 3.0));
    assert_eq!(stock_of(&shop, id).await, before - 3);

    let order_id = order["id"].as_i64().unwrap();
    // Completing an order that already took its stock takes nothing more.
    let (_, completed) = shop
        .send_json(
            Method::PUT,
            &format!("orders/{order_id}"),
            json!({ "status": "completed" }),
        )
        .await;
    assert_eq!(completed["status"], "completed");
    assert_eq!(stock_of(&shop, id).await, before - 3);

    let (_, cancelled) = shop
        .send_json(
            Method::PUT,
            &format!("orders/{order_id}"),
            json!({ "status": "cancelled" }),
        )
        .await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(stock_of(&shop, id).await, before);
    let (_, again) = shop
        .send_json(
            Method::PUT,
            &format!("orders/{order_id}"),
            json!({ "status": "cancelled" }),
        )
        .await;
    assert_eq!(again["status"], "cancelled");
    shop.send_json(
        Method::PUT,
        &format!("orders/{order_id}"),
        json!({ "status": "pending" }),
    )
    .await;
    assert_eq!(
        stock_of(&shop, id).await,
        before,
        "stock comes back once only"
    );
}

#[tokio::test]
async fn the_last_unit_sold_puts_a_product_out_of_stock_and_bumps_its_date() {
    let shop = Shop::start().await;
    let product = shop.stocked_simple_product().await;
    let id = product["id"].as_i64().unwrap();
    shop.sandbox.woo_set_stock("demo-shop", id, 2);
    let order = shop
        .sandbox
        .woo_place_order(
            "demo-shop",
            &json!({ "line_items": [{ "product_id": id, "quantity": 2 }] }),
        )
        .unwrap();
    let after = shop.get_json(&format!("products/{id}")).await;
    assert_eq!(after["stock_quantity"], 0);
    assert_eq!(after["stock_status"], "outofstock");
    assert!(
        after["date_modified_gmt"].as_str().unwrap()
            > product["date_modified_gmt"].as_str().unwrap()
    );
    let placed = shop.sandbox.woo_order("demo-shop", order).unwrap();
    assert_eq!(placed["status"], "processing");
    assert_eq!(placed["created_via"], "checkout");
    let listed = shop.get_json("orders?status=processing").await;
    assert!(listed.as_array().unwrap().iter().any(|o| o["id"] == order));
}

#[tokio::test]
async fn a_variation_line_and_a_line_without_product_reference() {
    let shop = Shop::start().await;
    let variable = shop.get_json("products?type=variable&per_page=1").await;
    let variation_id = variable[0]["variations"][0].as_i64().unwrap();
    let before = stock_of(&shop, variation_id).await;
    let (status, order) = shop
        .send_json(
            Method::POST,
            "orders",
            json!({ "status": "on-hold", "line_items": [{ "product_id": variable[0]["id"], "variation_id": variation_id, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(order["line_items"][0]["variation_id"], variation_id);
    assert_eq!(order["line_items"][0]["product_id"], variable[0]["id"]);
    assert_eq!(
        stock_of(&shop, variation_id).await,
        before - 1,
        "on-hold takes stock too"
    );

    let (status, error) = shop
        .send_json(
            Method::POST,
            "orders",
            json!({ "line_items": [{ "quantity": 1 }] }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], "woocommerce_rest_required_product_reference");

    let (status, modified) = shop
        .send_json(
            Method::GET,
            "orders?modified_after=2020-01-01T00:00:00",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        modified.as_array().unwrap().len(),
        1,
        "the refused order was not stored"
    );
}
