//! End to end against the sandbox's emulated WooCommerce store `demo-shop`, reached over plain
//! http, so every call is signed with OAuth 1.0a and checked by the sandbox as a store would.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use sandbox::{
    Sandbox, SandboxConfig, WOO_DEMO_CONSUMER_KEY, WOO_DEMO_CONSUMER_SECRET, WOO_DEMO_STORE,
};
use shops::webhook::{WebhookHeaders, is_ping, new_secret, verify_signature};
use shops::woocommerce::{
    ConsumerSecret, Credentials, NewWebhook, ProductQuery, StoreUrl, WooClient, WooError,
};
use url::Url;

use crate::support::http_client;

async fn start_sandbox() -> (Sandbox, Url) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let sandbox = Sandbox::new(SandboxConfig::new(base.clone()));
    let router = sandbox.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (sandbox, base)
}

fn demo_shop(base: &Url, secret: &str) -> WooClient {
    let store = StoreUrl::parse(&format!("{base}woo/{WOO_DEMO_STORE}")).unwrap();
    assert!(
        !store.is_https(),
        "the sandbox is plain http, so OAuth 1.0a is used"
    );
    WooClient::new(
        store,
        Credentials {
            consumer_key: WOO_DEMO_CONSUMER_KEY.to_owned(),
            consumer_secret: ConsumerSecret::new(secret),
        },
        crate::support::shop_http(),
    )
}

/// One request that reached the webhook receiver.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn content_type(&self) -> Option<&str> {
        self.headers
            .get("content-type")
            .and_then(|value| value.to_str().ok())
    }
}

/// The connector's webhook endpoint, reduced to answering 200 and remembering what came.
async fn start_receiver() -> (String, Arc<Mutex<Vec<Received>>>) {
    async fn receive(
        State(received): State<Arc<Mutex<Vec<Received>>>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> StatusCode {
        received.lock().unwrap().push(Received { headers, body });
        StatusCode::OK
    }
    let received = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route("/webhooks/woocommerce", axum::routing::post(receive))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/webhooks/woocommerce",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

#[tokio::test]
async fn verify_succeeds_against_the_sandbox_store() {
    let (sandbox, base) = start_sandbox().await;

    let summary = demo_shop(&base, WOO_DEMO_CONSUMER_SECRET)
        .verify()
        .await
        .unwrap();

    assert!(summary.product_count > 0, "{summary:?}");
    assert_eq!(sandbox.call_count("woo.rest.products"), 1);
}

#[tokio::test]
async fn a_wrong_secret_is_unauthorized_by_the_sandbox_store() {
    let (_sandbox, base) = start_sandbox().await;

    let error = demo_shop(&base, "cs_not_the_secret")
        .verify()
        .await
        .unwrap_err();

    assert!(matches!(error, WooError::Unauthorized(_)), "{error:?}");
}

#[tokio::test]
async fn the_sandbox_catalog_reads_page_by_page_with_variations() {
    let (_sandbox, base) = start_sandbox().await;
    let client = demo_shop(&base, WOO_DEMO_CONSUMER_SECRET);

    let first = client
        .products_page(&ProductQuery {
            page: 1,
            per_page: 20,
            modified_after: None,
            include: Vec::new(),
        })
        .await
        .unwrap();
    let second = client
        .products_page(&ProductQuery {
            page: 2,
            per_page: 20,
            modified_after: None,
            include: Vec::new(),
        })
        .await
        .unwrap();

    assert_eq!(first.items.len(), 20);
    assert!(first.total_pages >= 2, "{} pages", first.total_pages);
    assert!(first.items.iter().all(|p| !p.name.is_empty()));
    assert!(
        first
            .items
            .iter()
            .chain(&second.items)
            .zip(first.items.iter().chain(&second.items).skip(1))
            .all(|(a, b)| a.id < b.id),
        "pages are in id order without overlap"
    );

    // Products named by id, as a read of the products webhooks named asks for them.
    let wanted = vec![second.items[3].id, first.items[1].id];
    let named = client
        .products_page(&ProductQuery {
            include: wanted.clone(),
            ..ProductQuery::default()
        })
        .await
        .unwrap();
    let mut got: Vec<i64> = named.items.iter().map(|p| p.id).collect();
    got.sort_unstable();
    let mut wanted = wanted;
    wanted.sort_unstable();
    assert_eq!(got, wanted);

    let mut variable = None;
    let mut page = 1;
    while variable.is_none() && page <= first.total_pages {
        let products = client
            .products_page(&ProductQuery {
                page,
                ..ProductQuery::default()
            })
            .await
            .unwrap();
        variable = products
            .items
            .into_iter()
            .find(|p| p.type_ == "variable" && !p.variations.is_empty());
        page += 1;
    }
    let variable = variable.expect("the demo store has a variable product");
    let variations = client.variations_page(variable.id, 1, 100).await.unwrap();
    let mut read: Vec<i64> = variations.items.iter().map(|v| v.id).collect();
    let mut listed = variable.variations.clone();
    read.sort_unstable();
    listed.sort_unstable();
    assert_eq!(read, listed);
    assert!(variations.items.iter().all(|v| !v.attributes.is_empty()));
}

/// Adds terms to the demo store through its REST API, as the shop's admin would.
async fn add_terms(base: &Url, route: &str, names: impl Iterator<Item = String>) {
    let url = format!("{base}woo/{WOO_DEMO_STORE}/wp-json/wc/v3/{route}");
    let http = http_client();
    for name in names {
        let response = http
            .post(&url)
            .basic_auth(WOO_DEMO_CONSUMER_KEY, Some(WOO_DEMO_CONSUMER_SECRET))
            .json(&serde_json::json!({ "name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "{name}");
    }
}

#[tokio::test]
async fn categories_and_tags_are_read_across_pages_sorted_by_name() {
    let (sandbox, base) = start_sandbox().await;
    let client = demo_shop(&base, WOO_DEMO_CONSUMER_SECRET);
    let seeded_categories = client.categories().await.unwrap();
    let seeded_tags = client.tags().await.unwrap();
    assert!(!seeded_tags.is_empty(), "the demo store has tags");
    add_terms(
        &base,
        "products/categories",
        (1..=110).map(|n| format!("Category {n:03}")),
    )
    .await;
    add_terms(
        &base,
        "products/tags",
        (1..=130).map(|n| format!("tag {n:03}")),
    )
    .await;
    let calls = sandbox.call_count("woo.rest.tags");

    let categories = client.categories().await.unwrap();
    let tags = client.tags().await.unwrap();

    assert_eq!(
        sandbox.call_count("woo.rest.tags") - calls,
        2,
        "two pages of tags"
    );
    assert_eq!(categories.len(), seeded_categories.len() + 110);
    assert_eq!(tags.len(), seeded_tags.len() + 130);
    for terms in [&categories, &tags] {
        let keys: Vec<String> = terms.iter().map(|t| t.name.to_lowercase()).collect();
        assert!(keys.is_sorted(), "{keys:?}");
        let mut ids: Vec<i64> = terms.iter().map(|t| t.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), terms.len(), "each term once");
    }
    assert!(categories.iter().any(|c| c.name == "Category 110"));
    assert!(tags.iter().any(|t| t.name == "tag 130"));
    let clothing = categories.iter().find(|c| c.name == "Clothing").unwrap();
    assert_eq!((clothing.slug.as_str(), clothing.parent), ("clothing", 0));
}

#[tokio::test]
async fn a_webhook_is_created_pinged_delivered_listed_and_deleted() {
    let (sandbox, base) = start_sandbox().await;
    let (delivery_url, received) = start_receiver().await;
    let client = demo_shop(&base, WOO_DEMO_CONSUMER_SECRET);
    let secret = new_secret();

    let created = client
        .create_webhook(&NewWebhook {
            name: "Marketbridge product.updated".to_owned(),
            topic: "product.updated".to_owned(),
            delivery_url: delivery_url.clone(),
            secret: secret.clone(),
        })
        .await
        .unwrap();

    assert_eq!(created.topic, "product.updated");
    assert_eq!(created.delivery_url, delivery_url);
    assert_eq!(created.status, "active");
    let ping = received.lock().unwrap().first().cloned().expect("a ping");
    assert!(is_ping(ping.content_type(), &ping.body), "{ping:?}");

    // A stock change in the store is delivered, signed with our secret.
    let product = client
        .products_page(&ProductQuery {
            per_page: 1,
            ..ProductQuery::default()
        })
        .await
        .unwrap()
        .items
        .remove(0);
    sandbox.woo_set_stock(WOO_DEMO_STORE, product.id, 7);
    sandbox.settle_webhooks().await;
    let delivery = received.lock().unwrap().last().cloned().unwrap();
    assert!(!is_ping(delivery.content_type(), &delivery.body));
    let headers = WebhookHeaders::parse(&delivery.headers).unwrap();
    assert_eq!(headers.webhook_id, created.id);
    assert_eq!(headers.topic, "product.updated");
    assert!(verify_signature(
        secret.as_bytes(),
        &delivery.body,
        &headers.signature
    ));
    assert!(!verify_signature(
        b"another secret",
        &delivery.body,
        &headers.signature
    ));

    let listed = client.list_webhooks().await.unwrap();
    assert!(listed.iter().any(|w| w.id == created.id), "{listed:?}");

    client.delete_webhook(created.id).await.unwrap();
    let listed = client.list_webhooks().await.unwrap();
    assert!(listed.iter().all(|w| w.id != created.id), "{listed:?}");
    client
        .delete_webhook(created.id)
        .await
        .expect("a webhook already gone counts as deleted");
}
