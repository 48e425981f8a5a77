//! Mirakl Connect orders against a fake Connect: the list, the four actions and their status,
//! request shapes, tolerant reading, exact amounts and error mapping.

use std::time::Duration;

use axum::http::Method;
use mirakl::connect::{
    ActionError, ActionId, ConnectClient, ConnectError, ConnectLineAdjustment, ConnectLineDecision,
    ConnectOrderQuery, ConnectPrice, ConnectShipment, ConnectShipmentItem, ConnectTax,
};
use serde_json::json;
use time::macros::datetime;
use url::Url;

use crate::support::{Canned, CannedServer, http_date_in};

const ORDERS_PATH: &str = "/connect/api/v2/orders";
const ACCEPT_PATH: &str = "/connect/api/v2/orders/0002_3100-A/accept";
const SHIPMENTS_PATH: &str = "/connect/api/v2/orders/0002_3100-A/shipments";
const CANCEL_PATH: &str = "/connect/api/v2/orders/0002_3100-A/cancel";
const REFUND_PATH: &str = "/connect/api/v2/orders/0002_3100-A/refund";
const ACTION_PATH: &str = "/connect/api/v2/orders/actions/6f1d0c4e-0000-4000-8000-00000000a001";

const TOKEN: &str = "connect-token";
const ACTION: &str = "6f1d0c4e-0000-4000-8000-00000000a001";

async fn connect_answering(path: &'static str, canned: Canned) -> (CannedServer, ConnectClient) {
    let server = CannedServer::routes([(path, canned)]).await;
    let base = Url::parse(&format!("{}/connect/api", server.base)).unwrap();
    (server, ConnectClient::new(base, mirakl::http_client()))
}

/// Connect's 202 to an action.
fn accepted() -> Canned {
    Canned::json(202, json!({"action_id": ACTION, "tracking_id": ACTION}))
}

fn eur(amount: &str) -> ConnectPrice {
    ConnectPrice {
        amount: amount.to_owned(),
        currency: "EUR".to_owned(),
    }
}

fn out_of_stock() -> ConnectLineAdjustment {
    ConnectLineAdjustment {
        order_line_id: "0002_3100-A-1".to_owned(),
        quantity: 1,
        price: eur("19.90"),
        shipping_price: eur("4.90"),
        reason: "OUT_OF_STOCK".to_owned(),
        taxes: vec![ConnectTax {
            code: "VAT".to_owned(),
            amount: eur("3.32"),
        }],
        shipping_taxes: vec![],
    }
}

/// The body an adjustment of [`out_of_stock`] goes out as, under `list`.
fn out_of_stock_body(list: &str) -> String {
    format!(
        concat!(
            r#"{{"{}":[{{"order_line_id":"0002_3100-A-1","quantity":1,"#,
            r#""price":{{"amount":19.90,"currency":"EUR"}},"#,
            r#""shipping_price":{{"amount":4.90,"currency":"EUR"}},"reason":"OUT_OF_STOCK","#,
            r#""taxes":[{{"code":"VAT","amount":{{"amount":3.32,"currency":"EUR"}}}}]}}]}}"#
        ),
        list
    )
}

/// A page shaped as `GET /v2/orders` documents it: an order to ship with what this crate does
/// not read, and one in a status Connect added later with its addresses still hidden.
const PAGE: &str = r#"{"data": [
  {"id": "0002_3100-A", "channel_order_id": "3100-A", "status": "AWAITING_SHIPMENT",
   "created_at": "2026-03-01T09:15:00Z", "updated_at": "2026-03-01T10:02:31Z",
   "channel_updated_at": "2026-03-01T10:02:00Z", "anonymized_at": null,
   "origin": {"channel_id": "0002", "channel_name": "Marketplace FR", "channel_store_id": "2001",
     "channel_store_name": "Demo Store", "sub_channel_code": "FR", "sub_channel_name": "France"},
   "fulfillment": {"type": "FULFILLED_BY_SELLER"},
   "custom_attributes": [{"id": "gift", "type": "BOOLEAN", "value": true}],
   "billing_info": {"address": {"first_name": "Ada", "last_name": "Martin", "company": "Atelier Martin",
     "street": "12 rue des Lilas", "street_additional_info": "Bât. B", "zip_code": "69003",
     "city": "Lyon", "country": "France", "country_iso_code": "FRA", "phone": "+33 4 00 00 00 00"}},
   "shipping_info": {"address": {"first_name": "Ada", "last_name": "Martin", "street": "12 rue des Lilas",
     "zip_code": "69003", "city": "Lyon", "country_iso_code": "FRA", "additional_info": "Ring twice"},
     "carrier": "Colissimo", "method": "Standard", "email": "ada@example.com", "pudo_id": null,
     "shipping_deadline": "2026-03-04T23:59:59Z",
     "delivery_date": {"earliest": "2026-03-05T00:00:00Z", "latest": "2026-03-07T00:00:00Z"}},
   "order_lines": [
     {"id": "0002_3100-A-1", "channel_order_line_id": "3100-A-1", "status": "AWAITING_SHIPMENT",
      "product": {"id": "MUG-1", "title": "Blue mug"}, "quantity": 2,
      "price": {"amount": 39.80, "currency": "EUR"},
      "total_shipping_price": {"amount": 4.9, "currency": "EUR"},
      "taxes": [{"code": "VAT", "amount": {"amount": 6.63, "currency": "EUR"}, "rate": 20}],
      "shipping_taxes": [], "adjustments": [], "custom_attributes": [],
      "can_cancel": true, "can_refund": false}
   ]},
  {"id": "0002_3101-A", "channel_order_id": "3101-A", "status": "AWAITING_SCORING",
   "status_reason": "CHANNEL_SPECIFIC",
   "created_at": "2026-03-01T10:00:00Z", "updated_at": "2026-03-01T10:00:05.5Z",
   "origin": {"channel_id": "0002"}, "fulfillment": {"type": "FULFILLED_BY_PARTNER", "code": "FBX"},
   "shipping_info": {"method": "Express"},
   "order_lines": [
     {"id": "0002_3101-A-1", "status": "AWAITING_ACCEPTANCE", "product": {"id": "PEN-3", "title": "Pen"},
      "quantity": 1, "price": {"amount": "0.10", "currency": "EUR"},
      "total_shipping_price": {"amount": 0, "currency": "EUR"}, "can_cancel": false, "can_refund": false}
   ]}
], "next_page_token": "b3JkZXJzLTI=", "previous_page_token": "b3JkZXJzLTA="}"#;

#[tokio::test]
async fn orders_pages_by_update_date_and_reads_them_tolerantly() {
    let (server, connect) = connect_answering(
        ORDERS_PATH,
        Canned::new(200, PAGE.to_owned()).header("content-type", "application/json"),
    )
    .await;
    let query = ConnectOrderQuery {
        updated_from: Some(datetime!(2026-03-01 11:00:00.75 +01:00)),
        page_token: Some("b3JkZXJzLTE=".to_owned()),
        limit: 500,
    };

    let page = connect.orders(TOKEN, &query).await.unwrap();

    let request = server.single_request_to(ORDERS_PATH);
    assert_eq!(request.method, Method::GET);
    assert_eq!(
        request.header("authorization"),
        Some("Bearer connect-token")
    );
    assert_eq!(
        request.query_pairs(),
        [
            ("limit", "100"),
            ("updated_from", "2026-03-01T10:00:00Z"),
            ("page_token", "b3JkZXJzLTE="),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
    );

    assert_eq!(page.next_page_token.as_deref(), Some("b3JkZXJzLTI="));
    let [to_ship, scoring] = &page.orders[..] else {
        panic!("two orders: {page:?}");
    };
    assert_eq!(
        (
            to_ship.id.as_str(),
            to_ship.channel_order_id.as_deref(),
            to_ship.status.as_str(),
            to_ship.status_reason.as_deref()
        ),
        ("0002_3100-A", Some("3100-A"), "AWAITING_SHIPMENT", None)
    );
    assert_eq!(to_ship.created_at, datetime!(2026-03-01 09:15:00 UTC));
    assert_eq!(to_ship.updated_at, datetime!(2026-03-01 10:02:31 UTC));
    assert_eq!(
        (
            to_ship.origin.channel_id.as_deref(),
            to_ship.origin.channel_name.as_deref(),
            to_ship.origin.channel_store_id.as_deref(),
            to_ship.origin.channel_store_name.as_deref()
        ),
        (
            Some("0002"),
            Some("Marketplace FR"),
            Some("2001"),
            Some("Demo Store")
        )
    );
    assert_eq!(
        to_ship.fulfillment.type_.as_deref(),
        Some("FULFILLED_BY_SELLER")
    );
    let billing = to_ship.billing_info.address.as_ref().unwrap();
    assert_eq!(
        (
            billing.company.as_deref(),
            billing.street.as_deref(),
            billing.street_additional_info.as_deref(),
            billing.country_iso_code.as_deref(),
            billing.phone.as_deref()
        ),
        (
            Some("Atelier Martin"),
            Some("12 rue des Lilas"),
            Some("Bât. B"),
            Some("FRA"),
            Some("+33 4 00 00 00 00")
        )
    );
    let shipping = &to_ship.shipping_info;
    assert_eq!(
        shipping
            .address
            .as_ref()
            .unwrap()
            .additional_info
            .as_deref(),
        Some("Ring twice")
    );
    assert_eq!(
        (
            shipping.email.as_deref(),
            shipping.carrier.as_deref(),
            shipping.method.as_deref(),
            shipping.shipping_deadline
        ),
        (
            Some("ada@example.com"),
            Some("Colissimo"),
            Some("Standard"),
            Some(datetime!(2026-03-04 23:59:59 UTC))
        )
    );
    let line = &to_ship.order_lines[0];
    assert_eq!(
        (
            line.id.as_str(),
            line.status.as_str(),
            line.product.id.as_str(),
            line.product.title.as_deref(),
            line.quantity
        ),
        (
            "0002_3100-A-1",
            "AWAITING_SHIPMENT",
            "MUG-1",
            Some("Blue mug"),
            2
        )
    );
    assert_eq!(line.price, eur("39.80"), "amounts keep Connect's digits");
    assert_eq!(line.total_shipping_price, eur("4.9"));
    assert_eq!(
        line.taxes,
        [ConnectTax {
            code: "VAT".to_owned(),
            amount: eur("6.63"),
        }]
    );
    assert!(line.can_cancel && !line.can_refund);

    assert_eq!(
        scoring.status, "AWAITING_SCORING",
        "an unknown status is kept"
    );
    assert_eq!(scoring.status_reason.as_deref(), Some("CHANNEL_SPECIFIC"));
    assert_eq!(scoring.billing_info.address, None);
    assert_eq!(scoring.shipping_info.address, None);
    assert_eq!(scoring.shipping_info.shipping_deadline, None);
    assert_eq!(scoring.shipping_info.method.as_deref(), Some("Express"));
    assert_eq!(scoring.fulfillment.code.as_deref(), Some("FBX"));
    assert_eq!(scoring.order_lines[0].price, eur("0.10"));
    assert_eq!(scoring.order_lines[0].channel_order_line_id, None);
    assert!(scoring.order_lines[0].taxes.is_empty());
}

#[tokio::test]
async fn the_last_page_of_orders_has_no_next_token() {
    let (server, connect) = connect_answering(
        ORDERS_PATH,
        Canned::json(
            200,
            json!({"data": [], "previous_page_token": "b3JkZXJzLTA="}),
        ),
    )
    .await;

    let page = connect
        .orders(TOKEN, &ConnectOrderQuery::default())
        .await
        .unwrap();

    assert!(page.orders.is_empty());
    assert_eq!(page.next_page_token, None);
    assert_eq!(server.single_request_to(ORDERS_PATH).raw_query, "limit=100");
}

#[tokio::test]
async fn an_order_without_its_update_date_is_a_decode_error() {
    let body = PAGE.replace(r#""updated_at": "2026-03-01T10:00:05.5Z","#, "");
    let (_server, connect) = connect_answering(
        ORDERS_PATH,
        Canned::new(200, body).header("content-type", "application/json"),
    )
    .await;

    let error = connect
        .orders(TOKEN, &ConnectOrderQuery::default())
        .await
        .unwrap_err();

    assert!(
        matches!(error, ConnectError::Decode(ref m) if m.starts_with("GET /v2/orders") && m.contains("updated_at")),
        "{error:?}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn accept_puts_the_decisions_and_returns_the_action_id() {
    let (server, connect) = connect_answering(ACCEPT_PATH, accepted()).await;
    let lines = [
        ConnectLineDecision {
            order_line_id: "0002_3100-A-1".to_owned(),
            accepted: true,
        },
        ConnectLineDecision {
            order_line_id: "0002_3100-A-2".to_owned(),
            accepted: false,
        },
    ];

    let action = connect
        .accept_order(TOKEN, "0002_3100-A", &lines)
        .await
        .unwrap();

    assert_eq!(action.as_str(), ACTION);
    let request = server.single_request_to(ACCEPT_PATH);
    assert_eq!(request.method, Method::PUT);
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.json(),
        json!({"order_lines": [
            {"id": "0002_3100-A-1", "accepted": true},
            {"id": "0002_3100-A-2", "accepted": false}
        ]})
    );
}

#[tokio::test]
async fn a_shipment_posts_its_items_and_only_the_tracking_given() {
    let (server, connect) = connect_answering(SHIPMENTS_PATH, accepted()).await;
    let shipment = ConnectShipment {
        items: vec![ConnectShipmentItem {
            order_line_id: "0002_3100-A-1".to_owned(),
            quantity: 2,
        }],
        carrier: Some("Colissimo".to_owned()),
        tracking_number: Some("6A123456789".to_owned()),
        tracking_url: Some("https://track.example.com/6A123456789".to_owned()),
        ..ConnectShipment::default()
    };

    let action = connect
        .create_shipment(TOKEN, "0002_3100-A", &shipment)
        .await
        .unwrap();

    assert_eq!(action, ActionId::from(ACTION.to_owned()));
    let request = server.single_request_to(SHIPMENTS_PATH);
    assert_eq!(request.method, Method::POST);
    assert_eq!(
        request.json(),
        json!({
            "items": [{"order_line_id": "0002_3100-A-1", "quantity": 2}],
            "carrier": "Colissimo",
            "tracking_number": "6A123456789",
            "tracking_url": "https://track.example.com/6A123456789"
        })
    );
}

#[tokio::test]
async fn cancel_and_refund_post_exact_amounts() {
    let server = CannedServer::routes([(CANCEL_PATH, accepted()), (REFUND_PATH, accepted())]).await;
    let base = Url::parse(&format!("{}/connect/api", server.base)).unwrap();
    let connect = ConnectClient::new(base, mirakl::http_client());

    let cancel = connect
        .cancel_lines(TOKEN, "0002_3100-A", &[out_of_stock()])
        .await
        .unwrap();
    let refund = connect
        .refund_lines(TOKEN, "0002_3100-A", &[out_of_stock()])
        .await
        .unwrap();

    assert_eq!((cancel.as_str(), refund.as_str()), (ACTION, ACTION));
    for (path, list) in [(CANCEL_PATH, "cancelations"), (REFUND_PATH, "refunds")] {
        let request = server.single_request_to(path);
        assert_eq!(request.method, Method::POST, "{path}");
        assert_eq!(request.body, out_of_stock_body(list), "{path}");
    }
}

#[tokio::test]
async fn nothing_is_sent_without_lines_or_with_an_amount_that_is_no_number() {
    let (server, connect) = connect_answering(CANCEL_PATH, accepted()).await;
    let comma = ConnectLineAdjustment {
        price: eur("19,90"),
        ..out_of_stock()
    };

    let errors = [
        connect
            .accept_order(TOKEN, "0002_3100-A", &[])
            .await
            .unwrap_err(),
        connect
            .create_shipment(TOKEN, "0002_3100-A", &ConnectShipment::default())
            .await
            .unwrap_err(),
        connect
            .cancel_lines(TOKEN, "0002_3100-A", &[])
            .await
            .unwrap_err(),
        connect
            .refund_lines(TOKEN, "0002_3100-A", &[])
            .await
            .unwrap_err(),
        connect
            .cancel_lines(TOKEN, "0002_3100-A", &[comma])
            .await
            .unwrap_err(),
    ];

    for error in &errors {
        assert!(matches!(error, ConnectError::NotSent(_)), "{error:?}");
        assert!(!error.is_retryable());
    }
    assert!(errors[4].to_string().contains("19,90"), "{}", errors[4]);
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn an_accepted_action_with_only_the_deprecated_tracking_id_still_has_its_id() {
    let (_server, connect) = connect_answering(
        ACCEPT_PATH,
        Canned::json(202, json!({"tracking_id": "legacy-1"})),
    )
    .await;
    let lines = [ConnectLineDecision {
        order_line_id: "0002_3100-A-1".to_owned(),
        accepted: true,
    }];

    let action = connect
        .accept_order(TOKEN, "0002_3100-A", &lines)
        .await
        .unwrap();

    assert_eq!(action.as_str(), "legacy-1");
}

#[tokio::test]
async fn an_accepted_action_without_json_is_a_decode_error() {
    for canned in [
        Canned::new(202, String::new()),
        Canned::html(202, "<p>Accepted</p>"),
        Canned::json(202, json!({"status": "accepted"})),
    ] {
        let (_server, connect) = connect_answering(REFUND_PATH, canned).await;
        let error = connect
            .refund_lines(TOKEN, "0002_3100-A", &[out_of_stock()])
            .await
            .unwrap_err();
        assert!(
            matches!(error, ConnectError::Decode(ref m) if m.starts_with("POST /v2/orders/0002_3100-A/refund")),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn an_action_reads_its_status_and_errors() {
    let (server, connect) = connect_answering(
        ACTION_PATH,
        Canned::json(
            200,
            json!({
                "id": ACTION, "status": "FAILED",
                "created_at": "2026-03-01T10:05:00Z", "updated_at": "2026-03-01T10:06:12Z",
                "errors": [{"code": "ORDER_IN_WRONG_STATE", "message": "The order is already shipped."}]
            }),
        ),
    )
    .await;

    let status = connect
        .action(TOKEN, &ActionId::from(ACTION.to_owned()))
        .await
        .unwrap();

    assert!(status.is_done());
    assert!(!status.succeeded());
    assert_eq!(status.id.as_str(), ACTION);
    assert_eq!(status.updated_at, Some(datetime!(2026-03-01 10:06:12 UTC)));
    assert_eq!(
        status.errors,
        [ActionError {
            code: "ORDER_IN_WRONG_STATE".to_owned(),
            message: "The order is already shipped.".to_owned(),
        }]
    );
    assert_eq!(
        status.errors[0].to_string(),
        "ORDER_IN_WRONG_STATE: The order is already shipped."
    );
    assert_eq!(server.single_request_to(ACTION_PATH).method, Method::GET);
}

#[tokio::test]
async fn a_pending_action_is_not_done() {
    let (_server, connect) = connect_answering(
        ACTION_PATH,
        Canned::json(
            200,
            json!({"id": ACTION, "status": "PENDING",
            "created_at": "2026-03-01T10:05:00Z", "updated_at": "2026-03-01T10:05:00Z"}),
        ),
    )
    .await;
    let pending = connect
        .action(TOKEN, &ActionId::from(ACTION.to_owned()))
        .await
        .unwrap();
    assert!(!pending.is_done() && !pending.succeeded());
    assert!(pending.errors.is_empty());
    assert_eq!(pending.created_at, pending.updated_at);
}

#[tokio::test]
async fn an_unknown_action_is_not_found_and_its_id_stays_one_path_segment() {
    let (server, connect) = connect_answering(ACTION_PATH, accepted()).await;

    let unknown = connect
        .action(TOKEN, &ActionId::from("../../products".to_owned()))
        .await
        .unwrap_err();

    assert!(
        matches!(unknown, ConnectError::Server { status: 404, .. }),
        "{unknown:?}"
    );
    assert!(!unknown.is_retryable());
    assert_eq!(
        server.single_request().path,
        "/connect/api/v2/orders/actions/..%2F..%2Fproducts"
    );
}

#[tokio::test]
async fn a_400_carries_connects_code_and_message() {
    let (_server, connect) = connect_answering(
        SHIPMENTS_PATH,
        Canned::json(
            400,
            json!({
                "code": "INVALID_INPUT", "message": "The shipment is invalid",
                "errors": [{"field": "items[0].quantity", "message": "must be at least 1"}]
            }),
        ),
    )
    .await;
    let shipment = ConnectShipment {
        items: vec![ConnectShipmentItem {
            order_line_id: "0002_3100-A-1".to_owned(),
            quantity: 0,
        }],
        ..ConnectShipment::default()
    };

    let error = connect
        .create_shipment(TOKEN, "0002_3100-A", &shipment)
        .await
        .unwrap_err();

    assert!(
        matches!(error, ConnectError::Invalid { ref code, ref message, ref errors }
            if code == "INVALID_INPUT" && message == "The shipment is invalid" && errors[0].field == "items[0].quantity"),
        "{error:?}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_404_on_an_unknown_order_is_not_retryable() {
    let (_server, connect) = connect_answering(
        CANCEL_PATH,
        Canned::json(
            404,
            json!({"code": "DATA_NOT_FOUND", "message": "Order 0002_3100-A does not exist"}),
        ),
    )
    .await;

    let error = connect
        .cancel_lines(TOKEN, "0002_3100-A", &[out_of_stock()])
        .await
        .unwrap_err();

    assert!(
        matches!(error, ConnectError::Server { status: 404, ref message } if message == "Order 0002_3100-A does not exist"),
        "{error:?}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_429_on_orders_carries_retry_after() {
    let date = http_date_in(90);
    for (retry_after, low, high) in [("20", 20, 20), (date.as_str(), 70, 90)] {
        let (_server, connect) = connect_answering(
            ORDERS_PATH,
            Canned::json(
                429,
                json!({"code": "TOO_MANY_REQUESTS", "message": "Slow down"}),
            )
            .header("retry-after", retry_after),
        )
        .await;
        let error = connect
            .orders(TOKEN, &ConnectOrderQuery::default())
            .await
            .unwrap_err();
        let ConnectError::RateLimited {
            retry_after: Some(wait),
        } = error
        else {
            panic!("{error:?}");
        };
        assert!(
            (Duration::from_secs(low)..=Duration::from_secs(high)).contains(&wait),
            "{wait:?}"
        );
        assert!(error.is_retryable());
    }
}

#[tokio::test]
async fn a_5xx_on_an_action_is_retryable_and_a_401_never_shows_the_token() {
    let (_server, connect) = connect_answering(
        ACCEPT_PATH,
        Canned::json(
            502,
            json!({"code": "UNAVAILABLE", "message": "The channel did not answer"}),
        ),
    )
    .await;
    let lines = [ConnectLineDecision {
        order_line_id: "0002_3100-A-1".to_owned(),
        accepted: true,
    }];
    let error = connect
        .accept_order(TOKEN, "0002_3100-A", &lines)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ConnectError::Server { status: 502, ref message } if message == "The channel did not answer"),
        "{error:?}"
    );
    assert!(error.is_retryable());

    let (_server, connect) = connect_answering(
        ORDERS_PATH,
        Canned::json(
            401,
            json!({"code": "UNAUTHORIZED", "message": "Invalid token"}),
        ),
    )
    .await;
    let error = connect
        .orders(TOKEN, &ConnectOrderQuery::default())
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectError::Unauthorized), "{error:?}");
    assert!(!format!("{error} {error:?}").contains(TOKEN));
}
