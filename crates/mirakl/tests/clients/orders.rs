//! Marketplace orders (OR11, OR21, OR23, OR24, OR28, OR29) and carriers (SH21) against a fake
//! instance: request shapes, tolerant reading, exact amounts and error mapping.

use std::time::Duration;

use axum::http::Method;
use domain::{InstanceUrl, StoreId};
use mirakl::marketplace::{
    Carrier, Credential, LineDecision, LineRefund, MarketplaceAddress, MarketplaceClient,
    MarketplaceError, OrderQuery, TaxAmount, Tracking,
};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::support::{Canned, CannedServer};

const OR11_PATH: &str = "/mmp/demo/api/orders";
const OR21_PATH: &str = "/mmp/demo/api/orders/2001-A/accept";
const OR23_PATH: &str = "/mmp/demo/api/orders/2001-A/tracking";
const OR24_PATH: &str = "/mmp/demo/api/orders/2001-A/ship";
const OR28_PATH: &str = "/mmp/demo/api/orders/refund";
const OR29_PATH: &str = "/mmp/demo/api/orders/2001-A/cancel";
const SH21_PATH: &str = "/mmp/demo/api/shipping/carriers";

const KEY: Credential<'static> = Credential::ShopApiKey("shop-key");

async fn instance_answering(path: &'static str, canned: Canned) -> (CannedServer, InstanceUrl) {
    let server = CannedServer::routes([(path, canned)]).await;
    let instance = InstanceUrl::parse(&format!("{}/mmp/demo", server.base)).unwrap();
    (server, instance)
}

fn client() -> MarketplaceClient {
    MarketplaceClient::new(mirakl::http_client())
}

/// JSON with its numbers as written, which `json!` would turn into floats.
fn raw_json(status: u16, body: &str) -> Canned {
    Canned::new(status, body.to_owned()).header("content-type", "application/json")
}

/// A page of two orders shaped as OR11 documents them: one to ship with its addresses and
/// fields this crate does not read, one awaiting acceptance in a state Mirakl added later, its
/// addresses still hidden.
const TWO_ORDERS: &str = r#"{"orders": [
  {"order_id": "2001-A", "commercial_id": "2001", "order_state": "SHIPPING",
   "order_state_reason_code": null, "created_date": "2026-03-01T09:15:00Z",
   "last_updated_date": "2026-03-01T10:02:31.250Z", "acceptance_decision_date": "2026-03-01T09:40:00Z",
   "shipping_deadline": "2026-03-04T23:59:59Z", "customer_debited_date": "2026-03-01T09:41:00Z",
   "currency_iso_code": "EUR", "price": 39.80, "shipping_price": 4.9, "total_price": 44.70,
   "total_commission": 5.97, "order_tax_mode": "TAX_INCLUDED", "payment_workflow": "PAY_ON_ACCEPTANCE",
   "channel": {"code": "FR", "label": "France"}, "can_cancel": false, "can_shop_ship": true,
   "has_incident": false, "leadtime_to_ship": 2,
   "shipping_type_code": "STD", "shipping_type_label": "Standard delivery",
   "shipping_zone_code": "FR-MAIN", "shipping_zone_label": "Mainland France",
   "shipping_carrier_code": null, "shipping_company": null, "shipping_tracking": null,
   "customer_notification_email": "n+7f3a@notification.example.net",
   "customer": {"customer_id": "C-77", "firstname": "Ada", "lastname": "Martin", "civility": "Mrs",
     "locale": "fr_FR",
     "billing_address": {"firstname": "Ada", "lastname": "Martin", "company": "Atelier Martin",
       "company_2": null, "street_1": "12 rue des Lilas", "street_2": "Bât. B", "zip_code": "69003",
       "city": "Lyon", "state": null, "country": "France", "country_iso_code": "FRA",
       "phone": "+33 4 00 00 00 00"},
     "shipping_address": {"firstname": "Ada", "lastname": "Martin", "street_1": "12 rue des Lilas",
       "zip_code": "69003", "city": "Lyon", "country": "France", "country_iso_code": "FRA",
       "additional_info": "Ring twice"}},
   "order_lines": [
     {"order_line_id": "2001-A-1", "order_line_index": 1, "order_line_state": "SHIPPING",
      "offer_id": 3310, "offer_sku": "MUG-1", "offer_state_code": "11", "product_sku": "MKP-9001",
      "product_shop_sku": "MUG-1", "product_title": "Blue mug", "category_code": "kitchen",
      "quantity": 2, "price_unit": 19.90, "price": 39.80, "shipping_price": 4.9, "total_price": 44.70,
      "commission_fee": 5.97, "total_commission": 5.97, "can_refund": true,
      "taxes": [{"code": "VAT", "amount": 6.63, "rate": 20}], "shipping_taxes": [],
      "cancelations": [], "refunds": [], "order_line_additional_fields": [], "product_medias": []}
   ],
   "order_additional_fields": [], "fulfillment": {"center": {"code": "DEFAULT"}}},
  {"order_id": "2002-A", "commercial_id": "2002", "order_state": "WAITING_SCORING",
   "created_date": "2026-03-01T10:00:00Z", "last_updated_date": "2026-03-01T10:00:05Z",
   "acceptance_decision_date": null, "shipping_deadline": null,
   "currency_iso_code": "EUR", "price": 0.10, "shipping_price": 0, "total_price": 0.10,
   "can_cancel": true,
   "customer": {"customer_id": "C-78", "firstname": "Jo", "lastname": "Li",
     "billing_address": null, "shipping_address": null},
   "order_lines": [
     {"order_line_id": "2002-A-1", "order_line_state": "INCIDENT_OPEN", "offer_sku": "PEN-3",
      "product_sku": "MKP-12", "product_title": "Pen", "quantity": 1, "price_unit": 0.10,
      "price": 0.10, "shipping_price": 0, "total_price": 0.10, "can_refund": null}
   ]}
], "total_count": 12}"#;

#[tokio::test]
async fn or11_pages_orders_updated_since_a_date_and_reads_them_tolerantly() {
    let (server, instance) = instance_answering(OR11_PATH, raw_json(200, TWO_ORDERS)).await;
    let query = OrderQuery {
        updated_since: Some(datetime!(2026-03-01 11:00:00.5 +01:00)),
        order_ids: vec![],
        offset: 100,
        max: 250,
    };

    let page = client()
        .orders(&instance, KEY, StoreId::new(2001), &query)
        .await
        .unwrap();

    let request = server.single_request_to(OR11_PATH);
    assert_eq!(request.method, Method::GET);
    assert_eq!(request.header("authorization"), Some("shop-key"));
    assert_eq!(
        request.query_pairs(),
        [
            ("paginate", "true"),
            ("offset", "100"),
            ("max", "100"),
            ("start_update_date", "2026-03-01T10:00:00Z"),
            ("shop_id", "2001"),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
    );

    assert_eq!(page.total_count, 12);
    let [shipping, waiting] = &page.orders[..] else {
        panic!("two orders: {page:?}");
    };
    assert_eq!(shipping.order_id, "2001-A");
    assert_eq!(shipping.commercial_id.as_deref(), Some("2001"));
    assert_eq!(shipping.order_state, "SHIPPING");
    assert_eq!(shipping.order_state_reason_code, None);
    assert_eq!(shipping.created_date, datetime!(2026-03-01 09:15:00 UTC));
    assert_eq!(
        shipping.last_updated_date,
        datetime!(2026-03-01 10:02:31.25 UTC)
    );
    assert_eq!(
        shipping.acceptance_decision_date,
        Some(datetime!(2026-03-01 09:40:00 UTC))
    );
    assert_eq!(
        shipping.shipping_deadline,
        Some(datetime!(2026-03-04 23:59:59 UTC))
    );
    assert_eq!(
        (
            shipping.currency_iso_code.as_str(),
            shipping.price.as_str(),
            shipping.shipping_price.as_str(),
            shipping.total_price.as_str()
        ),
        ("EUR", "39.80", "4.9", "44.70"),
        "amounts keep Mirakl's digits"
    );
    assert_eq!(
        shipping.customer_notification_email.as_deref(),
        Some("n+7f3a@notification.example.net")
    );
    assert_eq!(
        (
            shipping.shipping_type_code.as_deref(),
            shipping.shipping_type_label.as_deref(),
            shipping.shipping_carrier_code.as_deref(),
            shipping.shipping_tracking.as_deref()
        ),
        (Some("STD"), Some("Standard delivery"), None, None)
    );
    assert!(!shipping.can_cancel);
    let customer = &shipping.customer;
    assert_eq!(
        (
            customer.firstname.as_deref(),
            customer.lastname.as_deref(),
            customer.civility.as_deref()
        ),
        (Some("Ada"), Some("Martin"), Some("Mrs"))
    );
    assert_eq!(
        customer.billing_address,
        Some(MarketplaceAddress {
            civility: None,
            firstname: Some("Ada".to_owned()),
            lastname: Some("Martin".to_owned()),
            company: Some("Atelier Martin".to_owned()),
            street_1: Some("12 rue des Lilas".to_owned()),
            street_2: Some("Bât. B".to_owned()),
            zip_code: Some("69003".to_owned()),
            city: Some("Lyon".to_owned()),
            state: None,
            country: Some("France".to_owned()),
            country_iso_code: Some("FRA".to_owned()),
            phone: Some("+33 4 00 00 00 00".to_owned()),
            additional_info: None,
        })
    );
    let shipping_address = customer.shipping_address.as_ref().unwrap();
    assert_eq!(
        shipping_address.additional_info.as_deref(),
        Some("Ring twice")
    );
    assert_eq!(shipping_address.phone, None);

    let [line] = &shipping.order_lines[..] else {
        panic!("one line: {shipping:?}");
    };
    assert_eq!(
        (
            line.order_line_id.as_str(),
            line.order_line_state.as_str(),
            line.offer_sku.as_str(),
            line.product_sku.as_deref(),
            line.product_title.as_deref(),
            line.quantity
        ),
        (
            "2001-A-1",
            "SHIPPING",
            "MUG-1",
            Some("MKP-9001"),
            Some("Blue mug"),
            2
        )
    );
    assert_eq!(
        (
            line.price_unit.as_str(),
            line.price.as_str(),
            line.shipping_price.as_str(),
            line.total_price.as_str()
        ),
        ("19.90", "39.80", "4.9", "44.70")
    );
    assert!(line.can_refund);

    assert_eq!(
        waiting.order_state, "WAITING_SCORING",
        "an unknown state is kept"
    );
    assert_eq!(waiting.customer.billing_address, None);
    assert_eq!(waiting.customer.shipping_address, None);
    assert_eq!(
        (waiting.acceptance_decision_date, waiting.shipping_deadline),
        (None, None)
    );
    assert_eq!(waiting.customer_notification_email, None);
    assert_eq!(waiting.total_price, "0.10");
    assert_eq!(waiting.order_lines[0].order_line_state, "INCIDENT_OPEN");
    assert!(!waiting.order_lines[0].can_refund, "null reads as false");
}

#[tokio::test]
async fn or11_filters_on_order_ids_joined_by_commas() {
    let (server, instance) = instance_answering(
        OR11_PATH,
        Canned::json(200, json!({"orders": [], "total_count": 0})),
    )
    .await;
    let query = OrderQuery {
        order_ids: vec!["2001-A".to_owned(), "2002-A".to_owned()],
        ..OrderQuery::default()
    };

    let page = client().orders(&instance, KEY, None, &query).await.unwrap();

    assert_eq!((page.orders.len(), page.total_count), (0, 0));
    let request = server.single_request_to(OR11_PATH);
    assert_eq!(
        request.raw_query,
        "paginate=true&offset=0&max=100&order_ids=2001-A%2C2002-A"
    );
}

#[tokio::test]
async fn or11_more_than_100_order_ids_are_not_sent() {
    let (server, instance) = instance_answering(OR11_PATH, Canned::new(500, String::new())).await;
    let query = OrderQuery {
        order_ids: (0..101).map(|i| format!("{i}-A")).collect(),
        ..OrderQuery::default()
    };

    let error = client()
        .orders(&instance, KEY, None, &query)
        .await
        .unwrap_err();

    assert!(matches!(error, MarketplaceError::NotSent(_)), "{error:?}");
    assert!(!error.is_retryable());
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn or11_an_order_without_its_total_is_a_decode_error_naming_it() {
    let body = TWO_ORDERS.replace(r#""total_price": 0.10,"#, "");
    let (_server, instance) = instance_answering(OR11_PATH, raw_json(200, &body)).await;

    let error = client()
        .orders(&instance, KEY, None, &OrderQuery::default())
        .await
        .unwrap_err();

    assert!(
        matches!(error, MarketplaceError::Decode(ref m) if m.contains("orders[1]") && m.contains("total_price")),
        "{error:?}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn or11_a_web_page_instead_of_json_is_a_decode_error() {
    let (_server, instance) = instance_answering(
        OR11_PATH,
        Canned::html(200, "<html><body>Maintenance</body></html>"),
    )
    .await;

    let error = client()
        .orders(&instance, KEY, None, &OrderQuery::default())
        .await
        .unwrap_err();

    assert!(
        matches!(error, MarketplaceError::Decode(ref m) if m.starts_with("GET /api/orders")),
        "{error:?}"
    );
}

#[tokio::test]
async fn or21_puts_a_decision_for_every_line() {
    let (server, instance) = instance_answering(OR21_PATH, Canned::new(204, String::new())).await;
    let lines = [
        LineDecision {
            order_line_id: "2001-A-1".to_owned(),
            accepted: true,
        },
        LineDecision {
            order_line_id: "2001-A-2".to_owned(),
            accepted: false,
        },
    ];

    client()
        .accept_order(&instance, KEY, StoreId::new(2001), "2001-A", &lines)
        .await
        .unwrap();

    let request = server.single_request_to(OR21_PATH);
    assert_eq!(request.method, Method::PUT);
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.query("shop_id").as_deref(), Some("2001"));
    assert_eq!(
        request.json(),
        json!({"order_lines": [
            {"id": "2001-A-1", "accepted": true},
            {"id": "2001-A-2", "accepted": false}
        ]})
    );
}

#[tokio::test]
async fn or21_400_is_rejected_with_mirakls_message() {
    let (_server, instance) = instance_answering(
        OR21_PATH,
        Canned::json(
            400,
            json!({"message": "ORDER_INVALID_STATE: the order is not waiting for acceptance", "status": 400}),
        ),
    )
    .await;
    let lines = [LineDecision {
        order_line_id: "2001-A-1".to_owned(),
        accepted: true,
    }];

    let error = client()
        .accept_order(&instance, KEY, None, "2001-A", &lines)
        .await
        .unwrap_err();

    assert!(
        matches!(error, MarketplaceError::Rejected { status: 400, ref message } if message.starts_with("ORDER_INVALID_STATE")),
        "{error:?}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn or21_without_lines_sends_nothing() {
    let (server, instance) = instance_answering(OR21_PATH, Canned::new(204, String::new())).await;

    let error = client()
        .accept_order(&instance, KEY, None, "2001-A", &[])
        .await
        .unwrap_err();

    assert!(matches!(error, MarketplaceError::NotSent(_)), "{error:?}");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn or21_503_is_retryable() {
    let (_server, instance) =
        instance_answering(OR21_PATH, Canned::html(503, "<h1>Service Unavailable</h1>")).await;
    let lines = [LineDecision {
        order_line_id: "2001-A-1".to_owned(),
        accepted: true,
    }];

    let error = client()
        .accept_order(&instance, KEY, None, "2001-A", &lines)
        .await
        .unwrap_err();

    assert!(
        matches!(error, MarketplaceError::Server { status: 503, ref message } if message == "<h1>Service Unavailable</h1>"),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn or23_sends_only_the_tracking_fields_given() {
    let (server, instance) = instance_answering(OR23_PATH, Canned::new(204, String::new())).await;
    let registered = Tracking {
        carrier_code: Some("COLISSIMO".to_owned()),
        tracking_number: Some("6A123456789".to_owned()),
        ..Tracking::default()
    };
    let unregistered = Tracking {
        carrier_name: Some("Coursier Lyon".to_owned()),
        carrier_url: Some("https://track.example.com/?n=77".to_owned()),
        tracking_number: Some("77".to_owned()),
        ..Tracking::default()
    };

    for tracking in [&registered, &unregistered] {
        client()
            .set_tracking(&instance, KEY, None, "2001-A", tracking)
            .await
            .unwrap();
    }

    let requests = server.requests_to(OR23_PATH);
    assert!(requests.iter().all(|request| request.method == Method::PUT));
    assert_eq!(
        requests[0].json(),
        json!({"carrier_code": "COLISSIMO", "tracking_number": "6A123456789"})
    );
    assert_eq!(
        requests[1].json(),
        json!({
            "carrier_name": "Coursier Lyon",
            "carrier_url": "https://track.example.com/?n=77",
            "tracking_number": "77"
        })
    );
}

#[tokio::test]
async fn or24_and_or29_put_without_a_body() {
    let server = CannedServer::routes([
        (OR24_PATH, Canned::new(204, String::new())),
        (OR29_PATH, Canned::new(204, String::new())),
    ])
    .await;
    let instance = InstanceUrl::parse(&format!("{}/mmp/demo", server.base)).unwrap();

    client()
        .ship_order(&instance, KEY, None, "2001-A")
        .await
        .unwrap();
    client()
        .cancel_order(&instance, KEY, StoreId::new(2001), "2001-A")
        .await
        .unwrap();

    for (path, shop_id) in [(OR24_PATH, None), (OR29_PATH, Some("2001"))] {
        let request = server.single_request_to(path);
        assert_eq!(request.method, Method::PUT, "{path}");
        assert_eq!(request.body, "", "{path}");
        assert_eq!(request.header("content-length"), Some("0"), "{path}");
        assert_eq!(request.query("shop_id").as_deref(), shop_id, "{path}");
    }
}

#[tokio::test]
async fn or24_on_an_order_not_in_shipping_is_rejected() {
    let (_server, instance) = instance_answering(
        OR24_PATH,
        Canned::json(
            400,
            json!({"status": 400, "message": "The order 2001-A is not in SHIPPING state"}),
        ),
    )
    .await;

    let error = client()
        .ship_order(&instance, KEY, None, "2001-A")
        .await
        .unwrap_err();

    assert!(
        matches!(error, MarketplaceError::Rejected { status: 400, ref message } if message.contains("not in SHIPPING")),
        "{error:?}"
    );
}

#[tokio::test]
async fn or29_on_an_unknown_order_is_not_found() {
    let (_server, instance) = instance_answering(
        OR29_PATH,
        Canned::json(
            404,
            json!({"status": 404, "message": "Order with id 2001-A not found"}),
        ),
    )
    .await;

    let error = client()
        .cancel_order(&instance, KEY, None, "2001-A")
        .await
        .unwrap_err();

    assert!(
        matches!(error, MarketplaceError::NotFound(ref m) if m == "Order with id 2001-A not found"),
        "{error:?}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn an_order_id_stays_one_path_segment() {
    let (server, instance) = instance_answering(OR24_PATH, Canned::new(204, String::new())).await;

    let error = client()
        .ship_order(&instance, KEY, None, "../account?x=1")
        .await
        .unwrap_err();

    assert!(matches!(error, MarketplaceError::NotFound(_)), "{error:?}");
    assert_eq!(
        server.single_request().path,
        "/mmp/demo/api/orders/..%2Faccount%3Fx=1/ship"
    );
}

fn mug_refund() -> LineRefund {
    LineRefund {
        order_line_id: "2001-A-1".to_owned(),
        amount: "19.90".to_owned(),
        shipping_amount: "4.90".to_owned(),
        reason_code: "15".to_owned(),
        quantity: 1,
        currency_iso_code: Some("EUR".to_owned()),
        taxes: vec![TaxAmount {
            code: "VAT".to_owned(),
            amount: "3.32".to_owned(),
        }],
        shipping_taxes: vec![],
    }
}

#[tokio::test]
async fn or28_puts_refunds_with_exact_amounts_and_returns_their_ids() {
    let answer = r#"{"order_tax_mode": "TAX_INCLUDED", "refunds": [
        {"refund_id": "1130", "order_refund_id": "5b0c2f1e-aaaa-4bbb-8ccc-000000000001",
         "order_line_id": "2001-A-1", "amount": 19.90, "shipping_amount": 4.90, "quantity": 1,
         "reason_code": "15", "currency_iso_code": "EUR", "taxes": [{"code": "VAT", "amount": 3.32}],
         "shipping_taxes": [], "fees": []},
        {"refund_id": 1131, "order_refund_id": "5b0c2f1e-aaaa-4bbb-8ccc-000000000001",
         "order_line_id": "2001-A-2", "amount": 5, "shipping_amount": 0, "quantity": 0,
         "reason_code": "15"}
    ]}"#;
    let (server, instance) = instance_answering(OR28_PATH, raw_json(200, answer)).await;
    let other_line = LineRefund {
        order_line_id: "2001-A-2".to_owned(),
        amount: "5".to_owned(),
        shipping_amount: "0".to_owned(),
        quantity: 0,
        currency_iso_code: None,
        taxes: vec![],
        ..mug_refund()
    };

    let ids = client()
        .refund_lines(&instance, KEY, None, &[mug_refund(), other_line])
        .await
        .unwrap();

    assert_eq!(ids, ["1130", "1131"]);
    let request = server.single_request_to(OR28_PATH);
    assert_eq!(request.method, Method::PUT);
    assert_eq!(
        request.body,
        concat!(
            r#"{"refunds":[{"order_line_id":"2001-A-1","amount":19.90,"shipping_amount":4.90,"#,
            r#""reason_code":"15","quantity":1,"currency_iso_code":"EUR","#,
            r#""taxes":[{"code":"VAT","amount":3.32}]},"#,
            r#"{"order_line_id":"2001-A-2","amount":5,"shipping_amount":0,"reason_code":"15","#,
            r#""quantity":0}]}"#
        ),
        "amounts go out as numbers with the caller's digits"
    );
}

#[tokio::test]
async fn or28_an_amount_that_is_no_number_is_not_sent() {
    let (server, instance) = instance_answering(OR28_PATH, Canned::new(500, String::new())).await;
    let refund = LineRefund {
        amount: "19,90".to_owned(),
        ..mug_refund()
    };

    let error = client()
        .refund_lines(&instance, KEY, None, &[refund])
        .await
        .unwrap_err();

    assert!(
        matches!(error, MarketplaceError::NotSent(ref m) if m.contains("19,90")),
        "{error:?}"
    );
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn or28_429_carries_retry_after() {
    let (_server, instance) = instance_answering(
        OR28_PATH,
        Canned::json(429, json!({"status": 429, "message": "Too Many Requests"}))
            .header("retry-after", "45"),
    )
    .await;

    let error = client()
        .refund_lines(&instance, KEY, None, &[mug_refund()])
        .await
        .unwrap_err();

    assert!(
        matches!(error, MarketplaceError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(45)),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn sh21_lists_the_operators_carriers() {
    let (server, instance) = instance_answering(
        SH21_PATH,
        Canned::json(
            200,
            json!({"carriers": [
                {"code": "COLISSIMO", "label": "Colissimo", "standard_code": "COLISSIMO",
                 "tracking_url": "https://track.example.com/colissimo?id={trackingId}"},
                {"code": "OWN", "label": null, "tracking_url": ""}
            ]}),
        ),
    )
    .await;

    let carriers = client()
        .carriers(&instance, KEY, StoreId::new(2001))
        .await
        .unwrap();

    assert_eq!(
        carriers,
        [
            Carrier {
                code: "COLISSIMO".to_owned(),
                label: "Colissimo".to_owned(),
                tracking_url: Some(
                    "https://track.example.com/colissimo?id={trackingId}".to_owned()
                ),
            },
            Carrier {
                code: "OWN".to_owned(),
                label: String::new(),
                tracking_url: None,
            },
        ]
    );
    let request = server.single_request_to(SH21_PATH);
    assert_eq!(request.method, Method::GET);
    assert_eq!(request.raw_query, "shop_id=2001");
}

#[tokio::test]
async fn refused_credentials_and_stores_on_orders() {
    for (status, expected) in [(401, "Unauthorized"), (403, "Forbidden")] {
        let (_server, instance) = instance_answering(
            OR11_PATH,
            Canned::json(
                status,
                json!({"status": status, "message": "Shop 9 is not granted"}),
            ),
        )
        .await;
        let error = client()
            .orders(&instance, KEY, StoreId::new(9), &OrderQuery::default())
            .await
            .unwrap_err();
        let matched = match &error {
            MarketplaceError::Unauthorized => "Unauthorized",
            MarketplaceError::Forbidden(message) if message == "Shop 9 is not granted" => {
                "Forbidden"
            }
            _ => "other",
        };
        assert_eq!(matched, expected, "{error:?}");
        assert!(!error.is_retryable());
        assert!(!format!("{error} {error:?}").contains("shop-key"));
    }
}

#[test]
fn a_default_query_asks_for_the_largest_page_of_every_order() {
    let query = OrderQuery::default();
    assert_eq!(query.max, mirakl::marketplace::MAX_ORDERS_PER_PAGE);
    assert_eq!(query.updated_since, None::<OffsetDateTime>);
    assert!(query.order_ids.is_empty());
}
