//! Marketplace orders: placed on live offers by the control API, taken through Mirakl's workflow
//! by OR21, OR23, OR24, OR28 and OR29 (and by time: the acceptance deadline, the debit), and
//! read with OR11.

mod support;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::TestSandbox;

const INSTANCE: &str = "demo-marketplace";
const SHOP: i64 = 2001;

/// A sandbox with offers A (10 in stock) and B (5), and one order of 2 A and 1 B.
async fn one_order() -> (TestSandbox, String) {
    let sandbox = TestSandbox::start();
    sandbox.stock_offers(&[("A", 10), ("B", 5)]).await;
    let ids = sandbox
        .sandbox
        .mmp_place_orders(INSTANCE, SHOP, 1, &[("A".into(), 2), ("B".into(), 1)])
        .unwrap();
    (sandbox, ids[0].clone())
}

fn quantity_of(sandbox: &TestSandbox, sku: &str) -> i64 {
    sandbox
        .sandbox
        .marketplace_offers(INSTANCE, SHOP)
        .iter()
        .find(|offer| offer["shop_sku"] == sku)
        .and_then(|offer| offer["quantity"].as_i64())
        .unwrap()
}

/// The order as OR11 answers it, asked by id.
async fn or11(sandbox: &TestSandbox, order_id: &str) -> Value {
    let response = sandbox
        .mmp_get(&format!("/orders?order_ids={order_id}"))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let body = response.json();
    assert_eq!(body["total_count"], 1, "{body}");
    body["orders"][0].clone()
}

/// OR21 with one decision per line, in line order.
async fn decide(
    sandbox: &TestSandbox,
    order_id: &str,
    decisions: &[bool],
) -> support::TestResponse {
    let lines: Vec<Value> = decisions
        .iter()
        .zip(1..)
        .map(|(accepted, index)| json!({ "id": format!("{order_id}-{index}"), "accepted": accepted }))
        .collect();
    sandbox
        .mmp(
            Method::PUT,
            &format!("/orders/{order_id}/accept"),
            Some(&json!({ "order_lines": lines })),
        )
        .await
}

async fn put(sandbox: &TestSandbox, path: &str, body: Option<Value>) -> support::TestResponse {
    sandbox.mmp(Method::PUT, path, body.as_ref()).await
}

fn states(order: &Value) -> Vec<&str> {
    order["order_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["order_line_state"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_placed_order_lowers_its_offers_and_waits_for_acceptance_with_the_addresses_hidden() {
    let (sandbox, order_id) = one_order().await;
    assert_eq!(
        (quantity_of(&sandbox, "A"), quantity_of(&sandbox, "B")),
        (8, 4)
    );

    let order = or11(&sandbox, &order_id).await;
    assert_eq!(order["order_state"], "WAITING_ACCEPTANCE");
    assert_eq!(states(&order), ["WAITING_ACCEPTANCE", "WAITING_ACCEPTANCE"]);
    assert_eq!(order["commercial_id"], order_id.trim_end_matches("-A"));
    assert_eq!(order["order_lines"][0]["offer_sku"], "A");
    assert_eq!(order["order_lines"][0]["quantity"], 2);
    assert_eq!(order["order_lines"][0]["price_unit"], 10.0);
    assert_eq!(order["price"], 30.0);
    assert_eq!(order["shipping_price"], 9.8);
    assert_eq!(order["total_price"], 39.8);
    assert!(order["customer"]["lastname"].is_string());
    assert!(order["customer"]["billing_address"].is_null());
    assert!(order["customer"]["shipping_address"].is_null());
    assert!(order.get("acceptance_decision_date").is_none());
    assert!(
        order.get("customer_notification_email").is_none(),
        "the demo marketplace gives no e-mail"
    );
    assert_eq!(order["can_shop_ship"], false);
    assert_eq!(sandbox.sandbox.call_count("mmp.or11"), 1);
    let account = sandbox
        .a01(INSTANCE, Some(support::SHOP_API_KEY), None)
        .await
        .json();
    assert_eq!(account["orders_count"], 38, "37 seeded, one placed");
}

#[tokio::test]
async fn an_accepted_order_waits_for_the_debit_then_ships_with_its_address_and_tracking() {
    let (sandbox, order_id) = one_order().await;
    sandbox.sandbox.set_debit_delay(Duration::from_secs(3600));
    assert_eq!(
        decide(&sandbox, &order_id, &[true, true]).await.status,
        StatusCode::NO_CONTENT
    );
    let accepted = or11(&sandbox, &order_id).await;
    assert_eq!(accepted["order_state"], "WAITING_DEBIT_PAYMENT");
    assert!(accepted["acceptance_decision_date"].is_string());
    assert!(accepted["customer"]["shipping_address"].is_null());
    assert_eq!(accepted["can_cancel"], true);
    let early = put(&sandbox, &format!("/orders/{order_id}/ship"), None).await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST);
    assert!(
        early.json()["message"]
            .as_str()
            .unwrap()
            .contains("WAITING_DEBIT_PAYMENT")
    );

    // The debit comes when its delay has passed, at the next read.
    sandbox.sandbox.set_debit_delay(Duration::ZERO);
    let debited = or11(&sandbox, &order_id).await;
    assert_eq!(debited["order_state"], "SHIPPING");
    assert_eq!(states(&debited), ["SHIPPING", "SHIPPING"]);
    assert!(debited["customer_debited_date"].is_string());
    assert!(debited["shipping_deadline"].is_string());
    assert_eq!(debited["can_shop_ship"], true);
    let address = &debited["customer"]["shipping_address"];
    assert_eq!(address["country_iso_code"], "FRA");
    assert!(address["street_1"].is_string() && address["city"].is_string());
    assert_eq!(debited["customer"]["billing_address"], *address);

    let tracking = put(
        &sandbox,
        &format!("/orders/{order_id}/tracking"),
        Some(json!({ "carrier_code": "COLISSIMO", "tracking_number": "6A123" })),
    )
    .await;
    assert_eq!(tracking.status, StatusCode::NO_CONTENT, "{}", tracking.body);
    let tracked = or11(&sandbox, &order_id).await;
    assert_eq!(tracked["shipping_carrier_code"], "COLISSIMO");
    assert_eq!(tracked["shipping_company"], "Colissimo");
    assert_eq!(tracked["shipping_tracking"], "6A123");
    assert!(
        tracked["shipping_tracking_url"]
            .as_str()
            .unwrap()
            .ends_with("code=6A123")
    );

    let shipped = put(
        &sandbox,
        &format!("/orders/{order_id}/ship"),
        Some(Value::Null),
    )
    .await;
    assert_eq!(shipped.status, StatusCode::NO_CONTENT);
    let order = or11(&sandbox, &order_id).await;
    assert_eq!(order["order_state"], "SHIPPED");
    assert_eq!(states(&order), ["SHIPPED", "SHIPPED"]);
    assert!(order["order_lines"][0]["shipped_date"].is_string());
    assert_eq!(order["can_cancel"], false);
    // A carrier the marketplace does not know is named by the seller, tracking still allowed.
    let own = put(
        &sandbox,
        &format!("/orders/{order_id}/tracking"),
        Some(json!({ "carrier_name": "Coursier Express", "carrier_url": "https://track.example/9", "tracking_number": "9" })),
    )
    .await;
    assert_eq!(own.status, StatusCode::NO_CONTENT);
    let order = or11(&sandbox, &order_id).await;
    assert_eq!(order["shipping_company"], "Coursier Express");
    assert!(order.get("shipping_carrier_code").is_none());
    assert_eq!(
        put(&sandbox, &format!("/orders/{order_id}/ship"), None)
            .await
            .status,
        StatusCode::BAD_REQUEST,
        "shipped once only"
    );
    for counter in ["mmp.or21", "mmp.or23", "mmp.or24"] {
        assert!(sandbox.sandbox.call_count(counter) > 0, "{counter}");
    }
}

#[tokio::test]
async fn accepting_part_of_an_order_refuses_the_rest_and_gives_its_quantity_back() {
    let (sandbox, order_id) = one_order().await;
    assert_eq!(
        decide(&sandbox, &order_id, &[true, false]).await.status,
        StatusCode::NO_CONTENT
    );
    let order = or11(&sandbox, &order_id).await;
    assert_eq!(
        order["order_state"], "SHIPPING",
        "debited at once by default"
    );
    assert_eq!(states(&order), ["SHIPPING", "REFUSED"]);
    assert_eq!(
        (quantity_of(&sandbox, "A"), quantity_of(&sandbox, "B")),
        (8, 5)
    );
}

#[tokio::test]
async fn refusing_every_line_refuses_the_order_once_and_for_all() {
    let (sandbox, order_id) = one_order().await;
    assert_eq!(
        decide(&sandbox, &order_id, &[false, false]).await.status,
        StatusCode::NO_CONTENT
    );
    let order = or11(&sandbox, &order_id).await;
    assert_eq!(order["order_state"], "REFUSED");
    assert_eq!(states(&order), ["REFUSED", "REFUSED"]);
    assert!(order["acceptance_decision_date"].is_string());
    assert_eq!(
        (quantity_of(&sandbox, "A"), quantity_of(&sandbox, "B")),
        (10, 5)
    );
    let again = decide(&sandbox, &order_id, &[true, true]).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(
        again.json()["message"]
            .as_str()
            .unwrap()
            .contains("REFUSED")
    );
}

#[tokio::test]
async fn an_order_not_accepted_by_its_deadline_is_refused_at_the_next_read() {
    let (sandbox, order_id) = one_order().await;
    let before = or11(&sandbox, &order_id).await;
    sandbox.sandbox.set_acceptance_delay(Duration::ZERO);
    let order = or11(&sandbox, &order_id).await;
    assert_eq!(order["order_state"], "REFUSED");
    assert_eq!(states(&order), ["REFUSED", "REFUSED"]);
    assert!(
        order.get("acceptance_decision_date").is_none(),
        "null when refused automatically"
    );
    assert!(order["last_updated_date"].as_str() >= before["last_updated_date"].as_str());
    assert_eq!(
        (quantity_of(&sandbox, "A"), quantity_of(&sandbox, "B")),
        (10, 5)
    );
}

#[tokio::test]
async fn or21_wants_one_decision_for_every_line_of_a_known_order() {
    let (sandbox, order_id) = one_order().await;
    let unknown = decide(&sandbox, "Order_99999-A", &[true]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["status"], 404);
    let missing = decide(&sandbox, &order_id, &[true]).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing.json()["message"]
            .as_str()
            .unwrap()
            .contains("missing")
    );
    let path = format!("/orders/{order_id}/accept");
    for body in [
        json!({ "order_lines": [{ "id": "nope", "accepted": true }] }),
        json!({ "order_lines": [{ "id": format!("{order_id}-1"), "accepted": true }, { "id": format!("{order_id}-1"), "accepted": false }] }),
        json!({ "order_lines": [{ "id": format!("{order_id}-1") }] }),
        json!({}),
    ] {
        let response = put(&sandbox, &path, Some(body.clone())).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{body}");
    }
    assert_eq!(
        or11(&sandbox, &order_id).await["order_state"],
        "WAITING_ACCEPTANCE"
    );
}

#[tokio::test]
async fn the_seller_cancels_an_accepted_order_and_the_customer_any_order_not_shipped() {
    let (sandbox, order_id) = one_order().await;
    let cancel = format!("/orders/{order_id}/cancel");
    assert_eq!(
        put(&sandbox, &cancel, None).await.status,
        StatusCode::BAD_REQUEST,
        "an order waiting for acceptance is refused, not canceled"
    );
    decide(&sandbox, &order_id, &[true, true]).await;
    assert_eq!(
        put(&sandbox, &cancel, None).await.status,
        StatusCode::NO_CONTENT
    );
    let order = or11(&sandbox, &order_id).await;
    assert_eq!(order["order_state"], "CANCELED");
    assert_eq!(states(&order), ["CANCELED", "CANCELED"]);
    assert_eq!(
        (quantity_of(&sandbox, "A"), quantity_of(&sandbox, "B")),
        (10, 5)
    );

    let waiting = sandbox
        .sandbox
        .mmp_place_orders(INSTANCE, SHOP, 1, &[("A".into(), 1)])
        .unwrap();
    sandbox
        .sandbox
        .mmp_cancel_order(INSTANCE, &waiting[0])
        .unwrap();
    let canceled = sandbox.sandbox.mmp_order(INSTANCE, &waiting[0]).unwrap();
    assert_eq!(canceled["order_state"], "CANCELED");
    assert_eq!(quantity_of(&sandbox, "A"), 10);
    assert!(
        sandbox
            .sandbox
            .mmp_cancel_order(INSTANCE, &waiting[0])
            .is_err(),
        "canceled once only"
    );
    assert_eq!(sandbox.sandbox.call_count("mmp.or29"), 2);
}

#[tokio::test]
async fn or28_refunds_lines_within_what_was_paid_and_answers_the_refund_ids() {
    let (sandbox, order_id) = one_order().await;
    let refund = |refunds: Value| {
        let sandbox = &sandbox;
        async move {
            sandbox
                .mmp(
                    Method::PUT,
                    "/orders/refund",
                    Some(&json!({ "refunds": refunds })),
                )
                .await
        }
    };
    let line = format!("{order_id}-1");
    let early = refund(json!([{ "order_line_id": line, "amount": 5, "shipping_amount": 0, "reason_code": "RE01" }])).await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST, "not debited yet");

    decide(&sandbox, &order_id, &[true, true]).await;
    let answer = refund(json!([{ "order_line_id": line, "amount": 5.5, "shipping_amount": 0, "reason_code": "RE01", "quantity": 1 }])).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let answer = answer.json();
    let refunded = &answer["refunds"][0];
    assert!(refunded["refund_id"].is_string());
    assert_eq!(refunded["order_refund_id"], format!("{order_id}-R1"));
    assert_eq!(refunded["order_line_id"], line);
    assert_eq!(refunded["amount"], 5.5);
    assert!(answer["order_tax_mode"].is_string());

    let order = or11(&sandbox, &order_id).await;
    let first = &order["order_lines"][0];
    assert_eq!(first["refunds"][0]["id"], refunded["refund_id"]);
    assert_eq!(first["refunds"][0]["reason_code"], "RE01");
    assert_eq!(first["can_refund"], true);
    assert_eq!(order["fully_refunded"], false);
    assert_eq!(
        order["order_refunds"][0]["order_refund_id"],
        format!("{order_id}-R1")
    );

    let too_much = refund(json!([{ "order_line_id": line, "amount": 15, "shipping_amount": 0, "reason_code": "RE01" }])).await;
    assert_eq!(too_much.status, StatusCode::BAD_REQUEST);
    let unknown = refund(json!([{ "order_line_id": "nope", "amount": 1, "shipping_amount": 0, "reason_code": "RE01" }])).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);

    let rest = refund(json!([
        { "order_line_id": line, "amount": 14.5, "shipping_amount": 4.9, "reason_code": "RE02" },
        { "order_line_id": format!("{order_id}-2"), "amount": 10, "shipping_amount": 0, "reason_code": "RE02" },
    ]))
    .await;
    assert_eq!(rest.status, StatusCode::OK, "{}", rest.body);
    let order = or11(&sandbox, &order_id).await;
    assert_eq!(order["fully_refunded"], true);
    assert_eq!(order["order_lines"][0]["can_refund"], false);
    assert_eq!(order["order_state"], "SHIPPING", "refunds move no state");
    assert_eq!(sandbox.sandbox.call_count("mmp.or28"), 5);
}

#[tokio::test]
async fn or11_pages_by_offset_and_filters_by_ids_states_and_update_dates() {
    let sandbox = TestSandbox::start();
    sandbox
        .stock_offers(&[("A", 50), ("B", 50), ("C", 50)])
        .await;
    let ids = sandbox
        .sandbox
        .mmp_place_orders(INSTANCE, SHOP, 5, &[])
        .unwrap();
    assert_eq!(ids.len(), 5);
    let page = |query: &str| {
        let sandbox = &sandbox;
        let query = query.to_owned();
        async move {
            let response = sandbox.mmp_get(&format!("/orders?{query}")).await;
            assert_eq!(
                response.status,
                StatusCode::OK,
                "{query}: {}",
                response.body
            );
            response.json()
        }
    };
    let ids_of = |body: &Value| -> Vec<String> {
        body["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|order| order["order_id"].as_str().unwrap().to_owned())
            .collect()
    };

    let first = page("max=2").await;
    assert_eq!(first["total_count"], 5);
    assert_eq!(ids_of(&first), ids[..2]);
    assert_eq!(ids_of(&page("max=2&offset=4").await), ids[4..]);
    assert_eq!(ids_of(&page("").await), ids, "10 by default");
    assert_eq!(ids_of(&page("paginate=false&max=1").await).len(), 5);
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(ids_of(&page("order=desc").await), newest_first);
    assert_eq!(ids_of(&page("max=500").await).len(), 5, "served as 100");
    assert_eq!(
        ids_of(&page(&format!("order_ids={},{}", ids[3], ids[1])).await),
        [ids[1].clone(), ids[3].clone()]
    );

    decide(
        &sandbox,
        &ids[2],
        &vec![
            true;
            sandbox.sandbox.mmp_order(INSTANCE, &ids[2]).unwrap()["order_lines"]
                .as_array()
                .unwrap()
                .len()
        ],
    )
    .await;
    assert_eq!(
        ids_of(&page("order_state_codes=SHIPPING,SHIPPED").await),
        [ids[2].clone()]
    );
    assert_eq!(
        page("order_state_codes=WAITING_ACCEPTANCE").await["total_count"],
        4
    );

    // Mirakl reaches back a little before `start_update_date`, so a poller sees the last
    // minute's orders again rather than miss one.
    let now = time::OffsetDateTime::now_utc();
    let at = |offset: i64| {
        (now + time::Duration::seconds(offset))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
            .replace('+', "%2B")
    };
    assert_eq!(
        page(&format!("start_update_date={}", at(-5))).await["total_count"],
        5
    );
    assert_eq!(
        page(&format!("start_update_date={}", at(30))).await["total_count"],
        5
    );
    assert_eq!(
        page(&format!("start_update_date={}", at(120))).await["total_count"],
        0
    );
    assert_eq!(
        page(&format!("end_update_date={}", at(-120))).await["total_count"],
        0
    );

    for bad in [
        "order_state_codes=SOLD",
        "max=abc",
        "start_update_date=yesterday",
        "sort=price",
    ] {
        assert_eq!(
            sandbox.mmp_get(&format!("/orders?{bad}")).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    let many: Vec<String> = (0..101).map(|n| format!("Order_{n}-A")).collect();
    let over = sandbox
        .mmp_get(&format!("/orders?order_ids={}", many.join(",")))
        .await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn random_orders_take_one_to_three_live_offers_within_their_stock() {
    let sandbox = TestSandbox::start();
    sandbox.stock_offers(&[("A", 1), ("B", 3), ("C", 0)]).await;
    let ids = sandbox
        .sandbox
        .mmp_place_orders(INSTANCE, SHOP, 2, &[])
        .unwrap();
    let mut taken = 0;
    for id in &ids {
        let order = sandbox.sandbox.mmp_order(INSTANCE, id).unwrap();
        let lines = order["order_lines"].as_array().unwrap();
        assert!((1..=2).contains(&lines.len()), "only A and B are for sale");
        for line in lines {
            assert_ne!(line["offer_sku"], "C");
            taken += line["quantity"].as_i64().unwrap();
        }
    }
    assert_eq!(
        quantity_of(&sandbox, "A") + quantity_of(&sandbox, "B"),
        4 - taken
    );

    // All or none: more than the stock allows places nothing.
    let before = sandbox.sandbox.mmp_orders(INSTANCE, SHOP).len();
    let error = sandbox
        .sandbox
        .mmp_place_orders(INSTANCE, SHOP, 10, &[("B".into(), 1)])
        .unwrap_err();
    assert!(error.to_string().contains("'B'"), "{error}");
    assert_eq!(sandbox.sandbox.mmp_orders(INSTANCE, SHOP).len(), before);
}

#[tokio::test]
async fn the_second_marketplace_gives_the_customers_e_mail() {
    let sandbox = TestSandbox::start();
    sandbox
        .sandbox
        .add_marketplace_shop("second-marketplace", 3002, "Other", "second-key")
        .unwrap();
    sandbox
        .stock_offers_with("second-key", "second-marketplace", &[("A", 5)])
        .await;
    let ids = sandbox
        .sandbox
        .mmp_place_orders("second-marketplace", 3002, 1, &[("A".into(), 1)])
        .unwrap();
    let order = sandbox
        .sandbox
        .mmp_order("second-marketplace", &ids[0])
        .unwrap();
    let email = order["customer_notification_email"].as_str().unwrap();
    assert!(
        email.contains("@notification.second-marketplace."),
        "{email}"
    );
}

#[tokio::test]
async fn sh21_lists_the_carriers_by_label_with_their_tracking_urls() {
    let sandbox = TestSandbox::start();
    let response = sandbox.mmp_get("/shipping/carriers").await;
    assert_eq!(response.status, StatusCode::OK);
    let carriers = response.json()["carriers"].as_array().unwrap().clone();
    let labels: Vec<&str> = carriers
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    let mut sorted = labels.clone();
    sorted.sort_unstable();
    assert_eq!(labels, sorted);
    assert!(
        carriers.iter().all(|c| c["code"].is_string()
            && c["tracking_url"].as_str().unwrap().contains("{trackingId}"))
    );
    assert_eq!(sandbox.sandbox.call_count("mmp.sh21"), 1);
}

/// ST01 (multi-shipping): each shipment ships units of lines of an order in SHIPPING, and the
/// order is SHIPPED once every line is; a shipment Mirakl cannot make is reported with its
/// order id next to those it made, and a malformed body changes nothing.
#[tokio::test]
async fn st01_ships_lines_in_parcels_and_the_order_once_every_line_is() {
    let (sandbox, order_id) = one_order().await;
    sandbox.sandbox.set_debit_delay(Duration::ZERO);
    decide(&sandbox, &order_id, &[true, true]).await;
    assert_eq!(or11(&sandbox, &order_id).await["order_state"], "SHIPPING");
    let line = |index: u32| format!("{order_id}-{index}");
    let st01 = |body: Value| {
        let sandbox = &sandbox;
        async move { sandbox.mmp(Method::POST, "/shipments", Some(&body)).await }
    };

    let first = st01(json!({ "shipments": [
        { "order_id": order_id, "shipment_lines": [{ "order_line_id": line(1), "quantity": 2 }],
          "tracking": { "carrier_name": "Bike courier", "tracking_number": "P-1",
                        "tracking_url": "https://courier.example/P-1" }, "shipped": true },
        { "order_id": order_id, "shipment_lines": [{ "order_line_id": line(2), "quantity": 2 }] },
        { "order_id": "nobody-A", "shipment_lines": [{ "order_line_id": "x", "quantity": 1 }] },
    ]}))
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let body = first.json();
    let made = body["shipment_success"].as_array().unwrap();
    assert_eq!(made.len(), 1, "{body}");
    for field in [
        "id",
        "created_date",
        "last_updated_date",
        "status",
        "status_customer_debit",
    ] {
        assert!(made[0][field].is_string(), "{field}: {body}");
    }
    assert_eq!(made[0]["order_id"], order_id.as_str());
    assert_eq!(made[0]["tracking"]["tracking_number"], "P-1");
    let refused: Vec<(&str, &str)> = body["shipment_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["order_id"].as_str().unwrap(),
                e["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(refused.len(), 2, "{body}");
    assert_eq!(
        refused[0],
        (order_id.as_str(), "Shipment quantity is invalid.")
    );
    assert_eq!(refused[1].0, "nobody-A");
    let order = or11(&sandbox, &order_id).await;
    assert_eq!(order["order_state"], "SHIPPING");
    assert_eq!(states(&order), ["SHIPPED", "SHIPPING"]);
    assert_eq!(order["shipping_tracking"], "P-1");

    for malformed in [
        json!({}),
        json!({ "shipments": [] }),
        json!({ "shipments": [{ "order_id": order_id }] }),
        json!({ "shipments": [{ "order_id": order_id,
                 "shipment_lines": [{ "order_line_id": line(2), "quantity": "1" }] }] }),
        json!({ "shipments": [{ "order_id": order_id,
                 "shipment_lines": [{ "order_line_id": line(2), "quantity": 1 }],
                 "tracking": { "carrier_code": "NO-SUCH-CARRIER" } }] }),
    ] {
        let answer = st01(malformed.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{malformed}: {}",
            answer.body
        );
    }
    assert_eq!(
        states(&or11(&sandbox, &order_id).await),
        ["SHIPPED", "SHIPPING"]
    );

    let last = st01(json!({ "shipments": [
        { "order_id": order_id, "shipment_lines": [{ "order_line_id": line(2), "quantity": 1 }] },
    ]}))
    .await;
    assert_eq!(last.json()["shipment_success"].as_array().unwrap().len(), 1);
    let order = or11(&sandbox, &order_id).await;
    assert_eq!(order["order_state"], "SHIPPED");
    let again = st01(json!({ "shipments": [
        { "order_id": order_id, "shipment_lines": [{ "order_line_id": line(2), "quantity": 1 }] },
    ]}))
    .await;
    assert_eq!(
        again.json()["shipment_errors"][0]["message"],
        "The order status must be 'SHIPPING' but it is 'SHIPPED'."
    );
}
