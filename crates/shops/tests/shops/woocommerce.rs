//! The WooCommerce client against a fake store: request shapes, OAuth over plain http, paging,
//! and how every kind of failure reaches the seller.

use serde_json::json;
use shops::woocommerce::{
    ConsumerSecret, Credentials, ManageStock, NewWebhook, ProductQuery, StoreUrl, WooClient,
    WooError,
};
use time::macros::datetime;

use crate::support::{
    Canned, CannedServer, Recorded, WooAnswers, check_oauth, closed_port_addr, oauth_refusal,
    shop_http,
};

const KEY: &str = "ck_0123456789abcdef0123456789abcdef01234567";
const SECRET: &str = "cs_fedcba9876543210fedcba9876543210fedcba98";

/// WordPress in a subfolder: the signed address must include it.
const SUBFOLDER: &str = "/shop";

fn credentials(secret: &str) -> Credentials {
    Credentials {
        consumer_key: KEY.to_owned(),
        consumer_secret: ConsumerSecret::new(secret),
    }
}

fn client_for(server: &CannedServer, secret: &str) -> WooClient {
    let store = StoreUrl::parse(&format!("{}{SUBFOLDER}/", server.base)).unwrap();
    WooClient::new(store, credentials(secret), shop_http())
}

/// A store that checks every request's OAuth signature before `answer` sees it.
async fn signed_store(
    answer: impl Fn(&Recorded) -> Canned + Send + Sync + 'static,
) -> CannedServer {
    // The fake learns its own address only once it listens; the signature covers it.
    let base = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let seen_base = base.clone();
    let server = CannedServer::start(move |request| {
        match check_oauth(request, seen_base.get().unwrap(), KEY, SECRET) {
            Ok(()) => answer(request),
            Err(reason) => oauth_refusal(&reason),
        }
    })
    .await;
    base.set(server.base.clone()).unwrap();
    server
}

fn path(rest: &str) -> String {
    format!("{SUBFOLDER}/wp-json/wc/v3/{rest}")
}

#[tokio::test]
async fn verify_signs_with_oauth_over_http_and_counts_the_products() {
    let server = signed_store(|_| Canned::list(json!([{"id": 1, "name": "Mug"}]), 342, 342)).await;

    let summary = client_for(&server, SECRET).verify().await.unwrap();

    assert_eq!(summary.product_count, 342);
    let request = server.single_request();
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, path("products"));
    assert_eq!(request.query("per_page").as_deref(), Some("1"));
    assert_eq!(
        request.header("authorization"),
        None,
        "no Basic over plain http"
    );
    assert_eq!(request.header("accept"), Some("application/json"));
    assert!(!request.raw_query.contains(SECRET));
}

#[tokio::test]
async fn a_wrong_secret_is_unauthorized_and_asks_to_reconnect() {
    let server = signed_store(|_| Canned::list(json!([]), 0, 0)).await;

    let error = client_for(&server, "cs_wrong").verify().await.unwrap_err();

    assert!(
        matches!(error, WooError::Unauthorized(ref m) if m.contains("signature does not match")),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert!(error.seller_message().contains("connect the store again"));
}

#[tokio::test]
async fn a_wordpress_without_woocommerce_is_not_woocommerce() {
    let server = CannedServer::start(|_| {
        Canned::error(
            404,
            "rest_no_route",
            "No route was found matching the URL and request method.",
        )
    })
    .await;

    let error = client_for(&server, SECRET).verify().await.unwrap_err();

    assert!(matches!(error, WooError::NotWooCommerce(_)), "{error:?}");
    assert!(error.seller_message().contains("WooCommerce is active"));
}

#[tokio::test]
async fn a_web_page_instead_of_json_is_not_woocommerce() {
    let server = CannedServer::start(|_| {
        Canned::html(
            200,
            "<!DOCTYPE html><html><head><title>My Shop</title></head></html>",
        )
    })
    .await;

    let error = client_for(&server, SECRET).verify().await.unwrap_err();

    assert!(
        matches!(error, WooError::NotWooCommerce(ref m) if m.contains("web page")),
        "{error:?}"
    );
    assert!(error.seller_message().contains("permalinks"));
}

#[tokio::test]
async fn a_list_without_its_total_headers_cannot_be_read() {
    let server = CannedServer::start(|_| Canned::json(200, json!([]))).await;

    let error = client_for(&server, SECRET).verify().await.unwrap_err();

    assert!(
        matches!(error, WooError::Decode(ref m) if m.contains("X-WP-Total")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_store_that_is_down_is_unreachable_and_retryable() {
    let addr = closed_port_addr().await;
    let store = StoreUrl::parse(&format!("http://{addr}")).unwrap();
    let client = WooClient::new(store, credentials(SECRET), shop_http());

    let error = client.verify().await.unwrap_err();

    assert!(matches!(error, WooError::Unreachable(_)), "{error:?}");
    assert!(error.is_retryable());
    let shown = format!("{error} {error:?} {}", error.seller_message());
    assert!(!shown.contains("oauth_signature"), "{shown}");
    assert!(!shown.contains(KEY), "{shown}");
}

#[tokio::test]
async fn a_redirect_to_https_tells_the_seller_the_https_address() {
    let server = CannedServer::start(|request| {
        let target = format!("https://shop.example{}?{}", request.path, request.raw_query);
        Canned::new(301, String::new()).header("location", &target)
    })
    .await;

    let error = client_for(&server, SECRET).verify().await.unwrap_err();

    assert!(
        matches!(
            error,
            WooError::Redirected { status: 301, ref location } if location == "https://shop.example/shop"
        ),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    let message = error.seller_message();
    assert!(message.contains("https://shop.example/shop"), "{message}");
    assert!(!format!("{error} {error:?} {message}").contains("oauth_signature"));
    assert_eq!(server.requests().len(), 1, "the redirect is not followed");
}

fn webhook_json(id: i64) -> serde_json::Value {
    json!({
        "id": id, "name": format!("Marketbridge {id}"), "status": "active",
        "topic": "product.updated", "resource": "product", "event": "updated",
        "hooks": ["woocommerce_update_product"],
        "delivery_url": "https://connector.example/webhooks/woocommerce/1",
        "date_created": "2024-05-01T10:00:00", "date_created_gmt": "2024-05-01T08:00:00",
        "_links": {"self": [{"href": "…"}]}
    })
}

#[tokio::test]
async fn list_webhooks_follows_every_page() {
    let server = signed_store(|request| {
        let page: i64 = request.query("page").unwrap().parse().unwrap();
        let per_page: i64 = request.query("per_page").unwrap().parse().unwrap();
        let ids = (page - 1) * per_page + 1..=(page * per_page).min(150);
        Canned::list(ids.map(webhook_json).collect(), 150, 2)
    })
    .await;

    let webhooks = client_for(&server, SECRET).list_webhooks().await.unwrap();

    assert_eq!(webhooks.len(), 150);
    assert_eq!(webhooks[0].id, 1);
    assert_eq!(webhooks[149].id, 150);
    assert_eq!(webhooks[0].topic, "product.updated");
    assert_eq!(webhooks[0].status, "active");
    assert_eq!(
        webhooks[0].delivery_url,
        "https://connector.example/webhooks/woocommerce/1"
    );
    let pages: Vec<_> = server
        .requests()
        .iter()
        .map(|r| {
            (
                r.path.clone(),
                r.query("page").unwrap(),
                r.query("per_page").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        pages,
        [
            (path("webhooks"), "1".to_owned(), "100".to_owned()),
            (path("webhooks"), "2".to_owned(), "100".to_owned())
        ]
    );
}

#[tokio::test]
async fn categories_read_every_page_decoded_and_sorted_by_name() {
    // 150 categories on two pages, `X-WP-TotalPages` overstating: the short page ends it.
    let server = signed_store(|request| {
        let page: i64 = request.query("page").unwrap().parse().unwrap();
        let ids = (page - 1) * 100 + 1..=(page * 100).min(150);
        let terms = ids
            .map(|id| {
                let name = match id {
                    1 => "home &amp; kitchen".to_owned(),
                    2 => "Garden".to_owned(),
                    _ => format!("Z{id:03}"),
                };
                json!({"id": id, "name": name, "slug": format!("c{id}"), "parent": if id == 2 { 1 } else { 0 }, "count": 3})
            })
            .collect();
        Canned::list(terms, 150, 9)
    })
    .await;

    let categories = client_for(&server, SECRET).categories().await.unwrap();

    assert_eq!(categories.len(), 150);
    assert_eq!(
        (
            categories[0].id,
            categories[0].name.as_str(),
            categories[0].parent
        ),
        (2, "Garden", 1)
    );
    assert_eq!(categories[1].name, "home & kitchen", "case aside, by name");
    assert_eq!(categories[149].name, "Z150");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].path, path("products/categories"));
    assert_eq!(requests[1].query("page").as_deref(), Some("2"));
    assert_eq!(requests[1].query("per_page").as_deref(), Some("100"));
}

#[tokio::test]
async fn tags_stop_at_the_page_limit_of_a_shop_that_ignores_pages() {
    // A plugin that answers the same full page whatever `page` says.
    let server = signed_store(|_| {
        let terms = (1..=100)
            .map(|id| json!({"id": id, "name": format!("Tag {id:03}")}))
            .collect();
        Canned::list(terms, 1_000_000, 10_000)
    })
    .await;

    let tags = client_for(&server, SECRET).tags().await.unwrap();

    assert_eq!(server.requests().len(), 50);
    assert_eq!(tags.len(), 100, "a tag answered again counts once");
    assert_eq!(tags[0].name, "Tag 001");
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.path == path("products/tags"))
    );
}

#[tokio::test]
async fn create_webhook_sends_the_secret_in_the_body_and_reads_the_webhook() {
    let server = signed_store(|_| Canned::json(201, webhook_json(31))).await;
    let new = NewWebhook {
        name: "Marketbridge product.updated".to_owned(),
        topic: "product.updated".to_owned(),
        delivery_url: "https://connector.example/webhooks/woocommerce/1".to_owned(),
        secret: "whsec-s3cret".to_owned(),
    };

    let webhook = client_for(&server, SECRET)
        .create_webhook(&new)
        .await
        .unwrap();

    assert_eq!(webhook.id, 31);
    assert_eq!(webhook.name, "Marketbridge 31");
    let request = server.single_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, path("webhooks"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(
        body,
        json!({
            "name": "Marketbridge product.updated", "topic": "product.updated",
            "delivery_url": "https://connector.example/webhooks/woocommerce/1",
            "secret": "whsec-s3cret", "status": "active"
        })
    );
    assert!(!format!("{new:?}").contains("whsec-s3cret"));
}

#[tokio::test]
async fn delete_webhook_forces_and_counts_an_already_gone_webhook_as_deleted() {
    let server = signed_store(|request| match request.path.as_str() {
        p if p.ends_with("/webhooks/31") => Canned::json(200, webhook_json(31)),
        p if p.ends_with("/webhooks/32") => {
            Canned::error(404, "woocommerce_rest_invalid_id", "Invalid ID.")
        }
        _ => Canned::error(
            500,
            "internal_server_error",
            "There has been a critical error on this website.",
        ),
    })
    .await;
    let client = client_for(&server, SECRET);

    client.delete_webhook(31).await.unwrap();
    client.delete_webhook(32).await.unwrap();
    let error = client.delete_webhook(33).await.unwrap_err();

    assert!(
        matches!(error, WooError::Server { status: 500, ref code, .. } if code.as_deref() == Some("internal_server_error")),
        "{error:?}"
    );
    assert!(error.is_retryable());
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert_eq!(request.method, "DELETE");
        assert_eq!(request.query("force").as_deref(), Some("true"));
    }
    assert_eq!(requests[0].path, path("webhooks/31"));
}

fn simple_product() -> serde_json::Value {
    json!({
        "id": 101, "name": "Blue mug", "slug": "blue-mug", "type": "simple", "status": "publish",
        "sku": "MUG-BLUE", "global_unique_id": "4006381333931",
        "price": "15.00", "regular_price": "19.90", "sale_price": "15.00",
        "date_on_sale_from_gmt": "2024-05-01T00:00:00", "date_on_sale_to_gmt": null,
        "price_html": "<del>19,90 €</del> 15,00 €",
        "manage_stock": true, "stock_quantity": 12, "stock_status": "instock",
        "description": "<p>A mug.</p>", "short_description": "",
        "categories": [{"id": 15, "name": "Kitchen", "slug": "kitchen"}],
        "tags": [], "images": [{"id": 7, "src": "https://shop.example/mug.jpg", "name": "mug", "alt": ""}],
        "attributes": [], "variations": [],
        "meta_data": [{"id": 3, "key": "_brand", "value": "Acme"}],
        "date_modified_gmt": "2024-05-02T09:30:00",
        "_links": {}
    })
}

fn variable_product() -> serde_json::Value {
    json!({
        "id": 200, "name": "T-shirt", "type": "variable", "status": "publish", "sku": "TEE",
        "price": "25.00", "regular_price": "", "sale_price": "",
        "manage_stock": false, "stock_quantity": null, "stock_status": "instock",
        "description": "", "short_description": null,
        "categories": [{"id": 16, "name": "Clothing", "slug": "clothing"}],
        "tags": [{"id": 4, "name": "cotton", "slug": "cotton"}], "images": [],
        "attributes": [{"id": 1, "name": "Size", "position": 0, "visible": true, "variation": true,
                        "options": ["S", "M", "L"]}],
        "variations": [201, 202, 203], "meta_data": [], "date_modified_gmt": "2024-05-03T11:00:00"
    })
}

#[tokio::test]
async fn products_page_reads_money_as_strings_and_a_variable_product() {
    let server =
        signed_store(|_| Canned::list(json!([simple_product(), variable_product()]), 202, 3)).await;
    let query = ProductQuery {
        page: 2,
        per_page: 100,
        modified_after: Some(datetime!(2024-05-01 12:00:00 +02:00)),
        include: Vec::new(),
    };

    let page = client_for(&server, SECRET)
        .products_page(&query)
        .await
        .unwrap();

    assert_eq!((page.total, page.total_pages), (202, 3));
    let mug = &page.items[0];
    assert_eq!(
        (mug.id, mug.type_.as_str(), mug.sku.as_str()),
        (101, "simple", "MUG-BLUE")
    );
    assert_eq!(mug.regular_price, "19.90");
    assert_eq!(mug.sale_price, "15.00");
    assert_eq!(mug.price, "15.00");
    assert_eq!(
        mug.date_on_sale_from_gmt,
        Some(datetime!(2024-05-01 00:00:00 UTC))
    );
    assert_eq!(mug.date_on_sale_to_gmt, None);
    assert!(mug.manage_stock);
    assert_eq!(mug.stock_quantity, Some(12));
    assert_eq!(mug.global_unique_id, "4006381333931");
    assert_eq!(mug.categories[0].name, "Kitchen");
    assert_eq!(mug.images[0].src, "https://shop.example/mug.jpg");
    assert_eq!(mug.meta_data[0].value, json!("Acme"));
    assert_eq!(
        mug.date_modified_gmt,
        Some(datetime!(2024-05-02 09:30:00 UTC))
    );

    let tee = &page.items[1];
    assert_eq!(tee.type_, "variable");
    assert_eq!(tee.variations, [201, 202, 203]);
    assert_eq!(tee.regular_price, "");
    assert_eq!(tee.stock_quantity, None);
    assert_eq!(tee.short_description, "");
    assert_eq!(tee.attributes[0].options, ["S", "M", "L"]);
    assert!(tee.attributes[0].variation);

    let request = server.single_request();
    assert_eq!(request.path, path("products"));
    assert_eq!(request.query("page").as_deref(), Some("2"));
    assert_eq!(request.query("per_page").as_deref(), Some("100"));
    assert_eq!(
        request.query("modified_after").as_deref(),
        Some("2024-05-01T10:00:00")
    );
    assert_eq!(request.query("dates_are_gmt").as_deref(), Some("true"));
    assert_eq!(request.query("orderby").as_deref(), Some("id"));
}

#[tokio::test]
async fn variations_page_reads_stock_managed_by_the_parent() {
    let server = signed_store(|_| {
        Canned::list(
            json!([
                {"id": 201, "sku": "TEE-S", "status": "publish", "price": "25.00",
                 "regular_price": "25.00", "sale_price": "", "manage_stock": "parent",
                 "stock_quantity": 40, "stock_status": "instock", "image": false,
                 "attributes": [{"id": 1, "name": "Size", "option": "S"}]},
                {"id": 202, "sku": "TEE-M", "status": "private", "price": "27.50",
                 "regular_price": "27.50", "sale_price": "", "manage_stock": true,
                 "stock_quantity": 0, "stock_status": "outofstock",
                 "image": {"id": 8, "src": "https://shop.example/tee-m.jpg", "name": "", "alt": ""},
                 "attributes": [{"id": 1, "name": "Size", "option": "M"}]}
            ]),
            2,
            1,
        )
    })
    .await;

    let page = client_for(&server, SECRET)
        .variations_page(200, 1, 500)
        .await
        .unwrap();

    assert_eq!(page.items.len(), 2);
    let small = &page.items[0];
    assert_eq!(small.manage_stock, ManageStock::Parent);
    assert_eq!(small.stock_quantity, Some(40));
    assert_eq!(small.image, None);
    assert_eq!(small.attributes[0].option, "S");
    let medium = &page.items[1];
    assert_eq!(medium.manage_stock, ManageStock::Yes);
    assert_eq!(medium.regular_price, "27.50");
    assert_eq!(medium.image.as_ref().unwrap().id, 8);
    let request = server.single_request();
    assert_eq!(request.path, path("products/200/variations"));
    assert_eq!(request.query("per_page").as_deref(), Some("100"));
}

#[tokio::test]
async fn a_missing_product_is_not_found_and_a_forbidden_key_is_forbidden() {
    let server = CannedServer::start(|request| {
        if request.path.contains("/products/9/") {
            Canned::error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        } else {
            Canned::error(
                403,
                "woocommerce_rest_cannot_view",
                "Sorry, you cannot list resources.",
            )
        }
    })
    .await;
    let client = client_for(&server, SECRET);

    let missing = client.variations_page(9, 1, 100).await.unwrap_err();
    let forbidden = client.list_webhooks().await.unwrap_err();

    assert!(
        matches!(missing, WooError::NotFound(ref m) if m == "Invalid ID."),
        "{missing:?}"
    );
    assert!(
        matches!(forbidden, WooError::Forbidden(ref m) if m == "Sorry, you cannot list resources."),
        "{forbidden:?}"
    );
}

#[tokio::test]
async fn debug_of_a_client_never_shows_the_keys() {
    let server = CannedServer::start(|_| Canned::list(json!([]), 0, 0)).await;
    let shown = format!("{:?}", client_for(&server, SECRET));
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(!shown.contains(KEY), "{shown}");
}
