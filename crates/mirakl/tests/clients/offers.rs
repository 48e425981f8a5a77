//! Offer imports and reads (OF01, OF02, OF03, OF21, OF24, OF61) against a fake instance:
//! request shapes, parsing and error mapping.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::Method;
use domain::{InstanceUrl, StoreId};
use mirakl::marketplace::{
    Credential, ImportErrorLine, ImportId, ImportMode, ImportStatus, LiveOffer, MarketplaceClient,
    MarketplaceError, OfferImport,
};
use mirakl::offers_file::{OfferLine, UpdateDelete, offer_json, write_offers_csv};
use serde_json::json;

use crate::support::{Canned, CannedServer, Upload, http_date_in};

const OF01_PATH: &str = "/mmp/demo/api/offers/imports";
const OF02_PATH: &str = "/mmp/demo/api/offers/imports/2035";
const OF03_PATH: &str = "/mmp/demo/api/offers/imports/2035/error_report";
const OFFERS_PATH: &str = "/mmp/demo/api/offers";
const OF61_PATH: &str = "/mmp/demo/api/offers/states";

const KEY: Credential<'static> = Credential::ShopApiKey("shop-key");

async fn instance_answering(
    routes: impl IntoIterator<Item = (&'static str, Canned)>,
) -> (CannedServer, InstanceUrl) {
    let server = CannedServer::routes(routes).await;
    let instance = InstanceUrl::parse(&format!("{}/mmp/demo", server.base)).unwrap();
    (server, instance)
}

fn client() -> MarketplaceClient {
    MarketplaceClient::new(mirakl::http_client())
}

fn import_2035() -> ImportId {
    ImportId::from("2035".to_owned())
}

/// An offer with every field set, a running discount among them.
pub fn mug() -> OfferLine {
    OfferLine {
        sku: "MUG-1".to_owned(),
        product_id: "4006381333931".to_owned(),
        product_id_type: "EAN".to_owned(),
        description: "Blue mug".to_owned(),
        price: "19.90".to_owned(),
        quantity: 12,
        state: "11".to_owned(),
        discount_price: Some("15.00".to_owned()),
        discount_start: Some("2026-03-01T00:00:00Z".to_owned()),
        discount_end: Some("2026-03-31T23:59:59Z".to_owned()),
        update_delete: UpdateDelete::Update,
    }
}

fn retired_mug() -> OfferLine {
    OfferLine {
        sku: "MUG-OLD".to_owned(),
        discount_price: None,
        discount_start: None,
        discount_end: None,
        quantity: 0,
        update_delete: UpdateDelete::Delete,
        ..mug()
    }
}

#[tokio::test]
async fn of01_uploads_the_csv_as_multipart_file_in_normal_mode() {
    let (server, instance) =
        instance_answering([(OF01_PATH, Canned::json(201, json!({"import_id": 2035})))]).await;
    let mut csv = Vec::new();
    write_offers_csv([mug(), retired_mug()], &mut csv).unwrap();

    let id = client()
        .import_offers(
            &instance,
            KEY,
            StoreId::new(2001),
            csv.clone(),
            ImportMode::Normal,
        )
        .await
        .unwrap();

    assert_eq!(id.as_str(), "2035");
    let request = server.single_request_to(OF01_PATH);
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.header("authorization"), Some("shop-key"));
    assert_eq!(request.query("shop_id").as_deref(), Some("2001"));
    let fields = request.csv_upload("offers.csv", &csv).await;
    assert_eq!(
        fields,
        HashMap::from([("import_mode".to_owned(), "NORMAL".to_owned())])
    );
}

#[tokio::test]
async fn of24_sends_every_field_of_every_offer() {
    let (server, instance) =
        instance_answering([(OFFERS_PATH, Canned::json(201, json!({"import_id": 2044})))]).await;
    let offers = [offer_json(&mug()), offer_json(&retired_mug())];

    let id = client()
        .upsert_offers(&instance, KEY, None, &offers)
        .await
        .unwrap();

    assert_eq!(id.as_str(), "2044");
    let request = server.single_request_to(OFFERS_PATH);
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.json(),
        json!({"offers": [
            {
                "shop_sku": "MUG-1",
                "product_id": "4006381333931",
                "product_id_type": "EAN",
                "description": "Blue mug",
                "price": 19.9,
                "quantity": 12,
                "state_code": "11",
                "discount": {
                    "price": 15.0,
                    "start_date": "2026-03-01T00:00:00Z",
                    "end_date": "2026-03-31T23:59:59Z"
                },
                "update_delete": "update"
            },
            {
                "shop_sku": "MUG-OLD",
                "product_id": "4006381333931",
                "product_id_type": "EAN",
                "description": "Blue mug",
                "price": 19.9,
                "quantity": 0,
                "state_code": "11",
                "discount": null,
                "update_delete": "delete"
            }
        ]})
    );
}

#[tokio::test]
async fn of24_400_is_rejected_with_mirakls_message_and_not_retried() {
    let body = json!({"message": "Error with field offers.logistic_class. Please check the field datatype.", "status": 400});
    let (_server, instance) = instance_answering([(OFFERS_PATH, Canned::json(400, body))]).await;

    let error = client()
        .upsert_offers(&instance, KEY, None, &[offer_json(&mug())])
        .await
        .unwrap_err();

    assert!(
        matches!(error, MarketplaceError::Rejected { status: 400, ref message } if message.starts_with("Error with field offers.logistic_class")),
        "{error:?}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn of02_reads_a_finished_import_and_its_counters() {
    let (server, instance) = instance_answering([(
        OF02_PATH,
        Canned::json(
            200,
            json!({
                "date_created": "2019-04-01T15:16:31Z",
                "has_error_report": true,
                "import_id": 2035,
                "lines_in_error": 1,
                "lines_in_pending": 0,
                "lines_in_success": 2,
                "lines_read": 3,
                "mode": "NORMAL",
                "offer_deleted": 1,
                "offer_inserted": 1,
                "offer_updated": 0,
                "status": "COMPLETE",
                "type": "AUTO"
            }),
        ),
    )])
    .await;

    let import = client()
        .offer_import(&instance, KEY, None, &import_2035())
        .await
        .unwrap();

    assert_eq!(
        import,
        OfferImport {
            import_id: import_2035(),
            status: ImportStatus::Complete,
            reason_status: None,
            has_error_report: true,
            lines_read: 3,
            lines_in_success: 2,
            lines_in_error: 1,
            offer_inserted: 1,
            offer_updated: 0,
            offer_deleted: 1,
        }
    );
    assert!(import.is_finished());
    assert_eq!(server.single_request_to(OF02_PATH).method, Method::GET);
}

#[tokio::test]
async fn of02_keeps_an_unknown_status_and_counts_it_unfinished() {
    let (_server, instance) = instance_answering([(
        OF02_PATH,
        Canned::json(
            200,
            json!({"import_id": 2035, "status": "QUEUED", "reason_status": "Waiting for a slot"}),
        ),
    )])
    .await;

    let import = client()
        .offer_import(&instance, KEY, None, &import_2035())
        .await
        .unwrap();

    assert_eq!(import.status, ImportStatus::Other("QUEUED".to_owned()));
    assert_eq!(import.reason_status.as_deref(), Some("Waiting for a slot"));
    assert_eq!((import.lines_read, import.offer_deleted), (0, 0));
    assert!(!import.is_finished());
}

#[tokio::test]
async fn of02_failed_and_running_imports() {
    for (status, expected, finished) in [
        ("FAILED", ImportStatus::Failed, true),
        ("RUNNING", ImportStatus::Running, false),
        ("WAITING", ImportStatus::Waiting, false),
        (
            "WAITING_SYNCHRONIZATION_PRODUCT",
            ImportStatus::WaitingSynchronizationProduct,
            false,
        ),
    ] {
        let (_server, instance) = instance_answering([(
            OF02_PATH,
            Canned::json(200, json!({"import_id": "2035", "status": status})),
        )])
        .await;
        let import = client()
            .offer_import(&instance, KEY, None, &import_2035())
            .await
            .unwrap();
        assert_eq!(import.status, expected);
        assert_eq!(import.is_finished(), finished, "{status}");
    }
}

#[tokio::test]
async fn of03_reads_quoted_values_with_semicolons_and_the_sku_column() {
    let report = concat!(
        "\"sku\";\"product-id\";\"description\";\"price\";\"error-line\";\"error-message\"\n",
        "\"MUG-1\";\"4006381333931\";\"Mug; blue, 30 cl\";\"19.90\";\"2\";\"The product does not exist\"\n",
        "\"MUG-2\";\"4006381333948\";\"The \"\"big\"\" mug\";\"abc\";\"3\";\"Price is invalid; use a dot\"\n",
    );
    let (server, instance) =
        instance_answering([(OF03_PATH, Canned::new(200, report.to_owned()))]).await;

    let lines = client()
        .offer_import_errors(&instance, KEY, StoreId::new(2001), &import_2035())
        .await
        .unwrap();

    assert_eq!(
        lines,
        vec![
            ImportErrorLine {
                line: Some(2),
                sku: Some("MUG-1".to_owned()),
                message: "The product does not exist".to_owned(),
            },
            ImportErrorLine {
                line: Some(3),
                sku: Some("MUG-2".to_owned()),
                message: "Price is invalid; use a dot".to_owned(),
            },
        ]
    );
    assert_eq!(
        server
            .single_request_to(OF03_PATH)
            .query("shop_id")
            .as_deref(),
        Some("2001")
    );
}

#[tokio::test]
async fn of03_reads_a_report_keyed_by_shop_sku() {
    let report = concat!(
        "\"shop_sku\";\"price\";\"error-line\";\"error-message\"\n",
        "\"MUG-1\";\"19.90\";\"\";\"The state code 99 is unknown\"\n",
    );
    let (_server, instance) =
        instance_answering([(OF03_PATH, Canned::new(200, report.to_owned()))]).await;

    let lines = client()
        .offer_import_errors(&instance, KEY, None, &import_2035())
        .await
        .unwrap();

    assert_eq!(
        lines,
        vec![ImportErrorLine {
            line: None,
            sku: Some("MUG-1".to_owned()),
            message: "The state code 99 is unknown".to_owned(),
        }]
    );
}

#[tokio::test]
async fn of03_404_means_the_import_has_no_error_report() {
    let (_server, instance) = instance_answering([(
        OF03_PATH,
        Canned::json(404, json!({"message": "No error report", "status": 404})),
    )])
    .await;

    let lines = client()
        .offer_import_errors(&instance, KEY, None, &import_2035())
        .await
        .unwrap();

    assert_eq!(lines, vec![]);
}

#[tokio::test]
async fn of21_reads_a_page_of_live_offers_with_exact_prices() {
    let (server, instance) = instance_answering([(
        OFFERS_PATH,
        Canned::new(
            200,
            r#"{"offers":[
                {"offer_id":2135,"shop_sku":"S2002","product_sku":"MKP100000000154824","price":49,
                 "total_price":49,"quantity":1000000,"state_code":"11","active":true,
                 "logistic_class":{"code":"M","label":"Medium"}},
                {"offer_id":2136,"shop_sku":"MUG-1","price":15.00,"quantity":3,"state_code":"11",
                 "active":false,"inactivity_reasons":["ZERO_QUANTITY"],
                 "applicable_pricing":{"price":15.00,"unit_origin_price":19.90,"unit_discount_price":15.00}}
            ],"total_count":7}"#
                .to_owned(),
        )
        .header("content-type", "application/json"),
    )])
    .await;

    let page = client()
        .offers_page(&instance, KEY, StoreId::new(2001), 2, 2)
        .await
        .unwrap();

    assert_eq!(page.total_count, 7);
    let [first, second] = &page.offers[..] else {
        panic!("two offers: {page:?}");
    };
    assert_eq!(
        (
            first.offer_id,
            first.shop_sku.as_str(),
            first.product_sku.as_deref()
        ),
        (2135, "S2002", Some("MKP100000000154824"))
    );
    assert_eq!(first.price.as_deref(), Some("49"));
    assert_eq!(first.origin_price.as_deref(), Some("49"));
    assert_eq!((first.quantity, first.active), (1_000_000, true));
    assert_eq!(first.raw["logistic_class"]["code"], "M");
    assert_eq!(
        second,
        &LiveOffer {
            offer_id: 2136,
            shop_sku: "MUG-1".to_owned(),
            product_sku: None,
            price: Some("15.00".to_owned()),
            origin_price: Some("19.90".to_owned()),
            quantity: 3,
            state_code: "11".to_owned(),
            active: false,
            discount_price: Some("15.00".to_owned()),
            raw: second.raw.clone(),
        }
    );
    let request = server.single_request_to(OFFERS_PATH);
    assert_eq!(
        (
            request.query("offset").as_deref(),
            request.query("max").as_deref(),
            request.query("shop_id").as_deref()
        ),
        (Some("2"), Some("2"), Some("2001"))
    );
}

#[tokio::test]
async fn of21_an_offer_without_its_sku_is_a_decode_error() {
    let (_server, instance) = instance_answering([(
        OFFERS_PATH,
        Canned::json(
            200,
            json!({"offers": [{"offer_id": 1, "state_code": "11"}], "total_count": 1}),
        ),
    )])
    .await;

    let error = client()
        .offers_page(&instance, KEY, None, 0, 10)
        .await
        .unwrap_err();

    assert!(
        matches!(error, MarketplaceError::Decode(ref m) if m.contains("offers[0]")),
        "{error:?}"
    );
}

#[tokio::test]
async fn of61_lists_offer_conditions() {
    let (_server, instance) = instance_answering([(
        OF61_PATH,
        Canned::json(
            200,
            json!({"offer_states": [
                {"code": "11", "label": "New"},
                {"code": "4", "label": "Used - Acceptable Condition"}
            ], "total_count": 2}),
        ),
    )])
    .await;

    let states = client().offer_states(&instance, KEY, None).await.unwrap();

    assert_eq!(
        states,
        vec![
            ("11".to_owned(), "New".to_owned()),
            ("4".to_owned(), "Used - Acceptable Condition".to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_429_carries_retry_after_in_seconds() {
    let (_server, instance) = instance_answering([(
        OF01_PATH,
        Canned::json(429, json!({"message": "Too Many Requests", "status": 429}))
            .header("retry-after", "60"),
    )])
    .await;

    let error = client()
        .import_offers(&instance, KEY, None, b"sku\n".to_vec(), ImportMode::Normal)
        .await
        .unwrap_err();

    assert!(
        matches!(error, MarketplaceError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(60)),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_429_carries_retry_after_as_an_http_date() {
    let (_server, instance) = instance_answering([(
        OF02_PATH,
        Canned::new(429, String::new()).header("retry-after", &http_date_in(120)),
    )])
    .await;

    let error = client()
        .offer_import(&instance, KEY, None, &import_2035())
        .await
        .unwrap_err();

    let MarketplaceError::RateLimited {
        retry_after: Some(wait),
    } = error
    else {
        panic!("{error:?}");
    };
    assert!(
        (Duration::from_secs(100)..=Duration::from_secs(120)).contains(&wait),
        "{wait:?}"
    );
}

#[tokio::test]
async fn a_500_is_a_retryable_server_error() {
    let (_server, instance) = instance_answering([(
        OFFERS_PATH,
        Canned::json(
            500,
            json!({"message": "Internal Server Error", "status": 500}),
        ),
    )])
    .await;

    let error = client()
        .offers_page(&instance, KEY, None, 0, 100)
        .await
        .unwrap_err();

    assert!(
        matches!(error, MarketplaceError::Server { status: 500, ref message } if message == "Internal Server Error"),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn an_import_id_stays_one_path_segment() {
    let (server, instance) = instance_answering([]).await;

    let error = client()
        .offer_import(
            &instance,
            KEY,
            None,
            &ImportId::from("../account".to_owned()),
        )
        .await
        .unwrap_err();

    assert!(matches!(error, MarketplaceError::NotFound(_)), "{error:?}");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].path,
        "/mmp/demo/api/offers/imports/..%2Faccount"
    );
}
