//! Orders in the emulated store: lines by SKU or id, payment, stock taken once and given back
//! once, notes, refunds, and what the shop's admin does (complete with tracking, cancel,
//! refund by hand).

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::woo::{Receiver, STORE, Shop};

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

/// A paid order (bank transfer, processing) of one stocked product, by REST: its JSON.
async fn paid_order(shop: &Shop, quantity: i64) -> serde_json::Value {
    let product = shop.stocked_simple_product().await;
    let (status, order) = shop
        .send_json(
            Method::POST,
            "orders",
            json!({
                "set_paid": true,
                "payment_method": "bacs",
                "customer_note": "Leave it at the door",
                "shipping_lines": [{ "method_id": "flat_rate", "method_title": "Marketplace shipping", "total": "4.90" }],
                "meta_data": [{ "key": "_marketbridge_order", "value": "Order_00001-A" }],
                "line_items": [{ "product_id": product["id"], "quantity": quantity }],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    order
}

#[tokio::test]
async fn order_notes_are_listed_newest_first_added_by_the_system_or_the_user_and_deleted() {
    let shop = Shop::start().await;
    let order = paid_order(&shop, 1).await;
    let id = order["id"].as_i64().unwrap();
    let notes = shop.get_json(&format!("orders/{id}/notes")).await;
    assert_eq!(
        notes[0]["note"],
        "Order status changed from Pending payment to Processing."
    );
    assert_eq!(notes[0]["author"], "system");
    assert_eq!(notes[0]["customer_note"], false);

    let response = shop
        .call(Method::POST, &format!("orders/{id}/notes"))
        .json(&json!({ "note": "Shipped by the marketplace.", "customer_note": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let customer: serde_json::Value = response.json().await.unwrap();
    assert!(location.ends_with(&format!("/orders/{id}/notes/{}", customer["id"])));
    assert_eq!(customer["author"], "system");
    let (_, by_user) = shop
        .send_json(
            Method::POST,
            &format!("orders/{id}/notes"),
            json!({ "note": "Checked by hand.", "added_by_user": true }),
        )
        .await;
    assert_eq!(by_user["author"], "shop-admin");

    let all = shop.get_json(&format!("orders/{id}/notes")).await;
    assert_eq!(all.as_array().unwrap().len(), 3);
    assert_eq!(all[0]["note"], "Checked by hand.", "newest first");
    let only = |kind: &str| {
        let shop = &shop;
        let path = format!("orders/{id}/notes?type={kind}");
        async move { shop.get_json(&path).await.as_array().unwrap().len() }
    };
    assert_eq!((only("customer").await, only("internal").await), (1, 2));
    let note_id = customer["id"].as_i64().unwrap();
    assert_eq!(
        shop.get_json(&format!("orders/{id}/notes/{note_id}")).await["note"],
        "Shipped by the marketplace."
    );

    let (status, missing) = shop
        .send_json(
            Method::POST,
            &format!("orders/{id}/notes"),
            json!({ "customer_note": true }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(missing["code"], "rest_missing_callback_param");
    let (status, unknown) = shop
        .send_json(Method::POST, "orders/999999/notes", json!({ "note": "x" }))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(unknown["code"], "woocommerce_rest_order_invalid_id");
    let (status, _) = shop
        .send_json(
            Method::DELETE,
            &format!("orders/{id}/notes/{note_id}"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "notes are not trashed");
    let (status, deleted) = shop
        .send_json(
            Method::DELETE,
            &format!("orders/{id}/notes/{note_id}?force=true"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted["id"], note_id);
    assert_eq!(
        shop.get_json(&format!("orders/{id}/notes"))
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        shop.sandbox.woo_order(STORE, id).unwrap()["date_modified"],
        order["date_modified"],
        "a note does not modify the order"
    );
    assert!(shop.sandbox.call_count("woo.rest.order_notes") >= 9);
}

#[tokio::test]
async fn refunds_go_through_rest_restock_their_lines_and_a_full_refund_sets_the_order_refunded() {
    let shop = Shop::start().await;
    let receiver = Receiver::start(200).await;
    let (status, _) = shop
        .send_json(
            Method::POST,
            "webhooks",
            json!({ "topic": "order.updated", "delivery_url": receiver.url, "secret": "s" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let order = paid_order(&shop, 2).await;
    let id = order["id"].as_i64().unwrap();
    let product_id = order["line_items"][0]["product_id"].as_i64().unwrap();
    let line_id = order["line_items"][0]["id"].as_i64().unwrap();
    let stock = stock_of(&shop, product_id).await;
    shop.sandbox.settle_webhooks().await;
    let updates_before = receiver.requests().len();
    let refunds = format!("orders/{id}/refunds");

    let (status, gateway) = shop
        .send_json(Method::POST, &refunds, json!({ "amount": "5.00" }))
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{gateway}");
    assert_eq!(
        gateway["code"],
        "woocommerce_rest_cannot_create_order_refund"
    );
    assert!(
        gateway["message"]
            .as_str()
            .unwrap()
            .contains("does not support automatic refunds")
    );

    let (status, refund) = shop
        .send_json(
            Method::POST,
            &refunds,
            json!({
                "amount": "5.00",
                "reason": "Marketplace refund",
                "api_refund": false,
                "line_items": [{ "id": line_id, "quantity": 1, "refund_total": 5 }],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{refund}");
    assert_eq!(refund["amount"], "5.00");
    assert_eq!(refund["reason"], "Marketplace refund");
    assert_eq!(refund["refunded_payment"], false);
    assert_eq!(refund["line_items"][0]["quantity"], -1);
    assert_eq!(refund["line_items"][0]["total"], "-5.00");
    assert_eq!(stock_of(&shop, product_id).await, stock + 1, "restocked");
    let partly = shop.sandbox.woo_order(STORE, id).unwrap();
    assert_eq!(partly["status"], "processing");
    assert_eq!(
        partly["refunds"],
        json!([{ "id": refund["id"], "reason": "Marketplace refund", "total": "-5.00" }])
    );
    let notes = shop.get_json(&format!("orders/{id}/notes")).await;
    assert!(
        notes[0]["note"]
            .as_str()
            .unwrap()
            .contains("stock increased"),
        "{notes}"
    );

    let total: f64 = order["total"].as_str().unwrap().parse().unwrap();
    for (amount, expected) in [
        (format!("{:.2}", total), StatusCode::INTERNAL_SERVER_ERROR),
        ("-1".to_owned(), StatusCode::BAD_REQUEST),
    ] {
        let (status, _) = shop
            .send_json(
                Method::POST,
                &refunds,
                json!({ "amount": amount, "api_refund": false }),
            )
            .await;
        assert_eq!(status, expected, "{amount}");
    }
    let (status, rest) = shop
        .send_json(
            Method::POST,
            &refunds,
            json!({ "amount": format!("{:.2}", total - 5.0), "api_refund": false }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rest}");
    let refunded = shop.sandbox.woo_order(STORE, id).unwrap();
    assert_eq!(refunded["status"], "refunded");
    assert_eq!(refunded["refunds"][0]["id"], rest["id"], "newest first");

    let response = shop.call(Method::GET, &refunds).send().await.unwrap();
    assert_eq!(response.headers()["x-wp-total"], "2");
    let listed: serde_json::Value = response.json().await.unwrap();
    assert_eq!(listed[1]["id"], refund["id"]);
    let one = shop.get_json(&format!("{refunds}/{}", refund["id"])).await;
    assert_eq!(one["amount"], "5.00");

    shop.sandbox.settle_webhooks().await;
    let updates = receiver.requests().len() - updates_before;
    assert_eq!(updates, 2, "each refund fires order.updated once");
}

#[tokio::test]
async fn the_admin_completes_with_tracking_cancels_and_refunds_by_hand() {
    let shop = Shop::start().await;
    let order = paid_order(&shop, 1).await;
    let id = order["id"].as_i64().unwrap();
    shop.sandbox
        .woo_complete_order(STORE, id, Some(("Colissimo", "6A123")))
        .unwrap();
    shop.sandbox
        .woo_complete_order(STORE, id, Some(("Coursier Local", "X9")))
        .unwrap();
    let completed = shop.get_json(&format!("orders/{id}")).await;
    assert_eq!(completed["status"], "completed");
    assert!(completed["date_completed"].is_string());
    let items = completed["meta_data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|meta| meta["key"] == "_wc_shipment_tracking_items")
        .map(|meta| meta["value"].clone())
        .expect("the tracking meta");
    assert_eq!(items[0]["tracking_provider"], "colissimo");
    assert_eq!(items[0]["custom_tracking_provider"], "");
    assert_eq!(items[0]["tracking_number"], "6A123");
    assert!(
        items[0]["date_shipped"]
            .as_str()
            .unwrap()
            .bytes()
            .all(|b| b.is_ascii_digit())
    );
    assert_eq!(items[0]["tracking_id"].as_str().unwrap().len(), 32);
    assert_eq!(items[1]["tracking_provider"], "");
    assert_eq!(items[1]["custom_tracking_provider"], "Coursier Local");
    assert_eq!(items[1]["custom_tracking_link"], "");

    let other = paid_order(&shop, 2).await;
    let other_id = other["id"].as_i64().unwrap();
    let product_id = other["line_items"][0]["product_id"].as_i64().unwrap();
    let stock = stock_of(&shop, product_id).await;
    shop.sandbox.woo_cancel_order(STORE, other_id).unwrap();
    assert_eq!(
        shop.get_json(&format!("orders/{other_id}")).await["status"],
        "cancelled"
    );
    assert_eq!(stock_of(&shop, product_id).await, stock + 2);

    let refund_id = shop
        .sandbox
        .woo_refund_order(STORE, id, "1.50", "Late")
        .unwrap();
    let refunded = shop.get_json(&format!("orders/{id}")).await;
    assert_eq!(refunded["refunds"][0]["id"], refund_id);
    assert_eq!(
        refunded["status"], "completed",
        "a partial refund keeps the status"
    );
    assert!(
        shop.sandbox
            .woo_refund_order(STORE, id, "100000", "Too much")
            .is_err()
    );
    assert!(matches!(
        shop.sandbox.woo_cancel_order(STORE, 999_999),
        Err(sandbox::WooControlError::UnknownOrder { .. })
    ));
}

#[tokio::test]
async fn order_lists_filter_on_creation_and_show_meta_shipping_lines_and_the_customer_note() {
    let shop = Shop::start().await;
    let order = paid_order(&shop, 1).await;
    assert_eq!(order["customer_note"], "Leave it at the door");
    assert_eq!(
        order["shipping_lines"][0]["method_title"],
        "Marketplace shipping"
    );
    assert_eq!(order["shipping_total"], "4.90");
    let listed = shop.get_json("orders?after=2020-01-01T00:00:00").await;
    let found = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == order["id"])
        .expect("listed");
    assert_eq!(found["meta_data"][0]["key"], "_marketbridge_order");
    assert_eq!(found["meta_data"][0]["value"], "Order_00001-A");
    assert!(
        shop.get_json("orders?after=2099-01-01T00:00:00")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        shop.get_json("orders?modified_after=2099-01-01T00:00:00")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
}
