//! Mirakl Connect orders: placed on a company's catalog by the control API, listed with
//! `GET /v2/orders`, and moved by the seller's actions (accept, shipments, cancel, refund),
//! each followed with `GET /v2/orders/actions/{action_id}`.

mod support;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::{CONNECT_COMPANY, TestSandbox};

const ORDERS: &str = "/connect/api/v2/orders";

/// A company selling a mug (12.00, 5 in stock) and a lamp (30.00, 2), and its Bearer.
async fn catalog() -> (TestSandbox, String) {
    let sandbox = TestSandbox::start();
    let bearer = sandbox.connect_bearer().await;
    let product = |id: &str, price: f64, stock: i64| {
        json!({
            "id": id,
            "titles": [{ "locale": "en_US", "value": format!("A {id}") }],
            "quantities": [{ "available_quantity": stock }],
            "standard_prices": [{ "price": { "amount": price, "currency": "EUR" } }],
        })
    };
    let created = sandbox
        .json(
            Method::POST,
            "/connect/api/products",
            Some(&bearer),
            Some(&json!({ "products": [product("mug", 12.0, 5), product("lamp", 30.0, 2), product("gone", 9.0, 0)] })),
        )
        .await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);
    (sandbox, bearer)
}

/// One order of 2 mugs and a lamp.
async fn one_order() -> (TestSandbox, String, String) {
    let (sandbox, bearer) = catalog().await;
    let ids = sandbox
        .sandbox
        .connect_place_orders(CONNECT_COMPANY, 1, &[("mug".into(), 2), ("lamp".into(), 1)])
        .unwrap();
    (sandbox, bearer, ids[0].clone())
}

async fn list(sandbox: &TestSandbox, bearer: &str, query: &str) -> Value {
    let response = sandbox
        .json(
            Method::GET,
            &format!("{ORDERS}?{query}"),
            Some(bearer),
            None,
        )
        .await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "{query}: {}",
        response.body
    );
    response.json()
}

async fn order(sandbox: &TestSandbox, bearer: &str, id: &str) -> Value {
    let body = list(sandbox, bearer, &format!("order_ids={id}")).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1, "{body}");
    body["data"][0].clone()
}

/// Asks for an action; its answer.
async fn act(
    sandbox: &TestSandbox,
    bearer: &str,
    method: Method,
    path: &str,
    body: Value,
) -> support::TestResponse {
    sandbox
        .json(
            method,
            &format!("{ORDERS}/{path}"),
            Some(bearer),
            Some(&body),
        )
        .await
}

/// Asks for an action that must be taken (202); how it went.
async fn action(
    sandbox: &TestSandbox,
    bearer: &str,
    method: Method,
    path: &str,
    body: Value,
) -> Value {
    let answer = act(sandbox, bearer, method, path, body).await;
    assert_eq!(
        answer.status,
        StatusCode::ACCEPTED,
        "{path}: {}",
        answer.body
    );
    let answer = answer.json();
    assert_eq!(answer["tracking_id"], answer["action_id"]);
    let id = answer["action_id"].as_str().unwrap();
    let status = sandbox
        .json(
            Method::GET,
            &format!("{ORDERS}/actions/{id}"),
            Some(bearer),
            None,
        )
        .await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    let status = status.json();
    assert_eq!(status["id"], id);
    assert!(status["created_at"].is_string() && status["updated_at"].is_string());
    status
}

fn lines(order: &Value) -> Vec<(String, Option<String>)> {
    order["order_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| {
            (
                line["status"].as_str().unwrap().to_owned(),
                line["status_reason"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn accept_all(id: &str) -> Value {
    json!({ "order_lines": [
        { "id": format!("{id}-1"), "accepted": true },
        { "id": format!("{id}-2"), "accepted": true },
    ]})
}

#[tokio::test]
async fn an_order_is_accepted_paid_then_shipped_in_packages_its_address_shown_once_paid() {
    let (sandbox, bearer, id) = one_order().await;
    let placed = order(&sandbox, &bearer, &id).await;
    assert_eq!(placed["status"], "AWAITING_ACCEPTANCE");
    assert!(placed["shipping_info"].get("address").is_none());
    assert!(placed.get("billing_info").is_none());
    assert_eq!(placed["origin"]["channel_id"], "0001");
    assert_eq!(placed["fulfillment"]["type"], "FULFILLED_BY_SELLER");
    let mug = &placed["order_lines"][0];
    assert_eq!(mug["product"], json!({ "id": "mug", "title": "A mug" }));
    assert_eq!(mug["quantity"], 2);
    assert_eq!(mug["price"], json!({ "amount": 24.0, "currency": "EUR" }));

    sandbox.sandbox.set_debit_delay(Duration::from_secs(3600));
    let accepted = action(
        &sandbox,
        &bearer,
        Method::PUT,
        &format!("{id}/accept"),
        accept_all(&id),
    )
    .await;
    assert_eq!(accepted["status"], "SUCCESS");
    assert!(accepted.get("errors").is_none());
    let waiting = order(&sandbox, &bearer, &id).await;
    assert_eq!(waiting["status"], "AWAITING_PAYMENT");
    assert!(waiting["shipping_info"].get("address").is_none());

    sandbox.sandbox.set_debit_delay(Duration::ZERO);
    let paid = order(&sandbox, &bearer, &id).await;
    assert_eq!(paid["status"], "AWAITING_SHIPMENT");
    let address = &paid["shipping_info"]["address"];
    assert_eq!(address["country_iso_code"], "FRA");
    assert!(address["last_name"].is_string() && address["street"].is_string());
    assert_eq!(paid["billing_info"]["address"], *address);
    assert!(
        paid["shipping_info"]["email"]
            .as_str()
            .unwrap()
            .contains('@')
    );
    assert!(paid["shipping_info"]["shipping_deadline"].is_string());

    let first = action(
        &sandbox,
        &bearer,
        Method::POST,
        &format!("{id}/shipments"),
        json!({ "items": [{ "order_line_id": format!("{id}-1"), "quantity": 1 }], "carrier": "DPD", "tracking_number": "T1" }),
    )
    .await;
    assert_eq!(first["status"], "SUCCESS");
    let partly = order(&sandbox, &bearer, &id).await;
    assert_eq!(partly["status"], "AWAITING_SHIPMENT");
    assert_eq!(partly["shipping_info"]["carrier"], "DPD");

    let rest = action(
        &sandbox,
        &bearer,
        Method::POST,
        &format!("{id}/shipments"),
        json!({ "items": [{ "order_line_id": format!("{id}-1"), "quantity": 1 }, { "id": "lamp", "quantity": 1 }] }),
    )
    .await;
    assert_eq!(rest["status"], "SUCCESS");
    let shipped = order(&sandbox, &bearer, &id).await;
    assert_eq!(shipped["status"], "SHIPPED");
    assert_eq!(
        lines(&shipped),
        [("SHIPPED".to_owned(), None), ("SHIPPED".to_owned(), None)]
    );
    for counter in [
        "connect.orders.get",
        "connect.orders.accept",
        "connect.orders.shipments",
        "connect.orders.actions.get",
    ] {
        assert!(sandbox.sandbox.call_count(counter) > 0, "{counter}");
    }
}

#[tokio::test]
async fn refused_lines_and_orders_left_past_their_deadline_are_closed_with_the_reason() {
    let (sandbox, bearer, id) = one_order().await;
    let partly = action(
        &sandbox,
        &bearer,
        Method::PUT,
        &format!("{id}/accept"),
        json!({ "order_lines": [
            { "id": format!("{id}-1"), "accepted": true },
            { "id": format!("{id}-2"), "accepted": false },
        ]}),
    )
    .await;
    assert_eq!(partly["status"], "SUCCESS");
    let order_now = order(&sandbox, &bearer, &id).await;
    assert_eq!(order_now["status"], "AWAITING_SHIPMENT");
    assert_eq!(
        lines(&order_now)[1],
        ("CLOSED".to_owned(), Some("REFUSED".to_owned()))
    );

    let all = sandbox
        .sandbox
        .connect_place_orders(CONNECT_COMPANY, 2, &[("mug".into(), 1)])
        .unwrap();
    action(
        &sandbox,
        &bearer,
        Method::PUT,
        &format!("{}/accept", all[0]),
        json!({ "order_lines": [{ "id": format!("{}-1", all[0]), "accepted": false }] }),
    )
    .await;
    let refused = order(&sandbox, &bearer, &all[0]).await;
    assert_eq!(
        (
            refused["status"].as_str(),
            refused["status_reason"].as_str()
        ),
        (Some("CLOSED"), Some("REFUSED"))
    );

    sandbox.sandbox.set_acceptance_delay(Duration::ZERO);
    let expired = sandbox.sandbox.connect_order(&all[1]).unwrap();
    assert_eq!(expired["status"], "CLOSED");
    assert_eq!(expired["status_reason"], "ACCEPTANCE_TIMEOUT");
    assert_eq!(
        sandbox.sandbox.connect_order(&id).unwrap()["status"],
        "AWAITING_SHIPMENT",
        "accepted orders are past the deadline's reach"
    );
}

#[tokio::test]
async fn an_action_the_state_forbids_fails_while_a_bad_request_is_refused_at_once() {
    let (sandbox, bearer, id) = one_order().await;
    let early = action(
        &sandbox,
        &bearer,
        Method::POST,
        &format!("{id}/shipments"),
        json!({ "items": [{ "order_line_id": format!("{id}-1"), "quantity": 1 }] }),
    )
    .await;
    assert_eq!(early["status"], "FAILED");
    assert_eq!(early["errors"][0]["code"], "ORDER_IN_WRONG_STATE");
    assert!(early["errors"][0]["message"].is_string());

    let unknown = act(
        &sandbox,
        &bearer,
        Method::PUT,
        "0001_nope/accept",
        accept_all("0001_nope"),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["code"], "DATA_NOT_FOUND");
    let not_a_line = act(
        &sandbox,
        &bearer,
        Method::PUT,
        &format!("{id}/accept"),
        json!({ "order_lines": [{ "id": "nope", "accepted": true }] }),
    )
    .await;
    assert_eq!(not_a_line.status, StatusCode::BAD_REQUEST);
    assert_eq!(not_a_line.json()["errors"][0]["field"], "order_lines[0].id");
    let undecided = act(
        &sandbox,
        &bearer,
        Method::PUT,
        &format!("{id}/accept"),
        json!({ "order_lines": [{ "id": format!("{id}-1"), "accepted": true }] }),
    )
    .await;
    assert_eq!(undecided.status, StatusCode::BAD_REQUEST);
    let no_items = act(
        &sandbox,
        &bearer,
        Method::POST,
        &format!("{id}/shipments"),
        json!({}),
    )
    .await;
    assert_eq!(no_items.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_items.json()["code"], "INVALID_INPUT");
    let no_action = sandbox
        .json(
            Method::GET,
            &format!("{ORDERS}/actions/nope"),
            Some(&bearer),
            None,
        )
        .await;
    assert_eq!(no_action.status, StatusCode::NOT_FOUND);
    assert_eq!(
        order(&sandbox, &bearer, &id).await["status"],
        "AWAITING_ACCEPTANCE",
        "nothing refused changed the order"
    );
}

#[tokio::test]
async fn cancelations_and_refunds_adjust_lines_and_close_them_when_whole() {
    let (sandbox, bearer, id) = one_order().await;
    action(
        &sandbox,
        &bearer,
        Method::PUT,
        &format!("{id}/accept"),
        accept_all(&id),
    )
    .await;
    let eur = |amount: f64| json!({ "amount": amount, "currency": "EUR" });
    let cancel = |quantity: i64, price: f64| json!({ "cancelations": [{ "order_line_id": format!("{id}-1"), "quantity": quantity, "price": eur(price), "shipping_price": eur(0.0), "reason": "OUT_OF_STOCK" }] });

    let one = action(
        &sandbox,
        &bearer,
        Method::POST,
        &format!("{id}/cancel"),
        cancel(1, 12.0),
    )
    .await;
    assert_eq!(one["status"], "SUCCESS");
    let order_now = order(&sandbox, &bearer, &id).await;
    let mug = &order_now["order_lines"][0];
    assert_eq!(mug["quantity"], 1);
    assert_eq!(mug["price"]["amount"], 12.0);
    assert_eq!(mug["adjustments"][0]["type"], "CANCELATION");
    assert_eq!(mug["adjustments"][0]["reason"], "OUT_OF_STOCK");

    let too_many = action(
        &sandbox,
        &bearer,
        Method::POST,
        &format!("{id}/cancel"),
        cancel(2, 24.0),
    )
    .await;
    assert_eq!(too_many["status"], "FAILED");
    assert_eq!(too_many["errors"][0]["code"], "INVALID_INPUT");
    action(
        &sandbox,
        &bearer,
        Method::POST,
        &format!("{id}/cancel"),
        cancel(1, 12.0),
    )
    .await;

    let refund = |price: f64| json!({ "refunds": [{ "product_id": "lamp", "price": eur(price), "shipping_price": eur(0.0), "reason": "DEFECT" }] });
    let over = action(
        &sandbox,
        &bearer,
        Method::POST,
        &format!("{id}/refund"),
        refund(31.0),
    )
    .await;
    assert_eq!(over["status"], "FAILED");
    let refunded = action(
        &sandbox,
        &bearer,
        Method::POST,
        &format!("{id}/refund"),
        refund(30.0),
    )
    .await;
    assert_eq!(refunded["status"], "SUCCESS");

    let closed = order(&sandbox, &bearer, &id).await;
    assert_eq!(
        lines(&closed),
        [
            ("CLOSED".to_owned(), Some("CANCELED".to_owned())),
            ("CLOSED".to_owned(), Some("REFUNDED".to_owned())),
        ]
    );
    assert_eq!(closed["status"], "CLOSED");
    assert!(
        closed.get("status_reason").is_none(),
        "its lines closed for different reasons"
    );
    let lamp = &closed["order_lines"][1];
    assert_eq!(
        lamp["price"]["amount"], 30.0,
        "refunds do not change the price"
    );
    assert_eq!(lamp["can_refund"], false);

    let dollars = act(
        &sandbox,
        &bearer,
        Method::POST,
        &format!("{id}/refund"),
        json!({ "refunds": [{ "product_id": "lamp", "price": { "amount": 1, "currency": "USD" }, "shipping_price": eur(0.0), "reason": "DEFECT" }] }),
    )
    .await;
    assert_eq!(dollars.status, StatusCode::BAD_REQUEST);
    assert_eq!(sandbox.sandbox.call_count("connect.orders.cancel"), 3);
    assert_eq!(sandbox.sandbox.call_count("connect.orders.refund"), 3);
}

#[tokio::test]
async fn the_order_list_pages_by_seek_tokens_and_filters_by_status_ids_and_date() {
    let (sandbox, bearer) = catalog().await;
    let ids = sandbox
        .sandbox
        .connect_place_orders(CONNECT_COMPANY, 5, &[])
        .unwrap();
    for id in &ids {
        let order = sandbox.sandbox.connect_order(id).unwrap();
        assert!(
            order["order_lines"]
                .as_array()
                .unwrap()
                .iter()
                .all(|line| line["product"]["id"] != "gone")
        );
    }
    let ids_of = |body: &Value| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|order| order["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let oldest_first = list(&sandbox, &bearer, "sort=created_at,ASC&limit=100").await;
    assert_eq!(ids_of(&oldest_first), ids);

    let mut seen = Vec::new();
    let mut page = list(&sandbox, &bearer, "limit=2").await;
    assert!(page.get("previous_page_token").is_none());
    loop {
        seen.extend(ids_of(&page));
        let Some(token) = page["next_page_token"].as_str() else {
            break;
        };
        page = list(&sandbox, &bearer, &format!("limit=2&page_token={token}")).await;
        assert!(page["previous_page_token"].is_string());
    }
    seen.sort();
    assert_eq!(seen, ids, "every order once");

    let two = list(
        &sandbox,
        &bearer,
        &format!("order_ids={}&order_ids={}", ids[0], ids[3]),
    )
    .await;
    assert_eq!(ids_of(&two).len(), 2);
    action(&sandbox, &bearer, Method::PUT, &format!("{}/accept", ids[2]), {
        let lines = sandbox.sandbox.connect_order(&ids[2]).unwrap()["order_lines"].as_array().unwrap().len();
        json!({ "order_lines": (1..=lines).map(|n| json!({ "id": format!("{}-{n}", ids[2]), "accepted": true })).collect::<Vec<_>>() })
    })
    .await;
    assert_eq!(
        ids_of(&list(&sandbox, &bearer, "statuses=AWAITING_SHIPMENT").await),
        [ids[2].clone()]
    );
    assert_eq!(
        ids_of(
            &list(
                &sandbox,
                &bearer,
                "statuses=AWAITING_ACCEPTANCE&statuses=SHIPPED"
            )
            .await
        )
        .len(),
        4
    );
    assert!(
        ids_of(&list(&sandbox, &bearer, "fulfillment_type=FULFILLED_BY_PARTNER").await).is_empty()
    );
    assert!(ids_of(&list(&sandbox, &bearer, "updated_from=2099-01-01T00:00:00Z").await).is_empty());
    for bad in [
        "limit=0",
        "limit=101",
        "statuses=SOLD",
        "page_token=nonsense",
        "updated_from=soon",
    ] {
        let response = sandbox
            .json(Method::GET, &format!("{ORDERS}?{bad}"), Some(&bearer), None)
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(response.json()["code"], "INVALID_INPUT");
    }
    assert_eq!(sandbox.sandbox.connect_orders(CONNECT_COMPANY).len(), 5);
}
