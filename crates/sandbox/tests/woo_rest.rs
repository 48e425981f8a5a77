//! The WooCommerce REST API of the sandbox as a shop client sees it: pagination, filters,
//! limits, permissions and a store that is down.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::woo::{DEMO_PRODUCTS, Shop};

fn link_targets(response: &reqwest::Response) -> Vec<(String, String)> {
    let Some(link) = response.headers().get("link") else {
        return Vec::new();
    };
    link.to_str()
        .unwrap()
        .split(", ")
        .map(|part| {
            let (url, rel) = part.split_once("; ").unwrap();
            (
                rel.trim_start_matches("rel=").trim_matches('"').to_owned(),
                url.trim_matches(|c| c == '<' || c == '>').to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn product_lists_carry_totals_and_absolute_prev_next_links() {
    let shop = Shop::start().await;
    let first = shop
        .call(Method::GET, "products?per_page=25")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(
        first.headers()["x-wp-total"],
        DEMO_PRODUCTS.to_string().as_str()
    );
    assert_eq!(first.headers()["x-wp-totalpages"], "12");
    let links = link_targets(&first);
    assert_eq!(links.len(), 1, "page 1 has only a next link: {links:?}");
    assert_eq!(links[0].0, "next");
    let next = &links[0].1;
    assert!(
        next.starts_with(&format!("{}/wp-json/wc/v3/products?", shop.store_url)),
        "{next}"
    );
    assert!(
        next.contains("per_page=25") && next.contains("page=2"),
        "{next}"
    );

    let second = shop
        .http
        .get(next)
        .basic_auth("ck_sandbox_demo", Some("cs_sandbox_demo"))
        .send()
        .await
        .unwrap();
    let rels: Vec<String> = link_targets(&second)
        .into_iter()
        .map(|(rel, _)| rel)
        .collect();
    assert_eq!(rels, ["prev", "next"]);
    let page: Vec<serde_json::Value> = second.json().await.unwrap();
    assert_eq!(page.len(), 25);

    let last = shop
        .call(Method::GET, "products?per_page=25&page=12")
        .send()
        .await
        .unwrap();
    let rels: Vec<String> = link_targets(&last)
        .into_iter()
        .map(|(rel, _)| rel)
        .collect();
    assert_eq!(rels, ["prev"]);
    let page: Vec<serde_json::Value> = last.json().await.unwrap();
    assert_eq!(page.len(), 25, "300 products fill 12 pages of 25 exactly");
    let beyond = shop
        .call(Method::GET, "products?per_page=25&page=13")
        .send()
        .await
        .unwrap();
    assert!(
        link_targets(&beyond)[0].1.contains("page=12"),
        "prev of a page past the end is the last page"
    );
    assert_eq!(
        beyond.json::<Vec<serde_json::Value>>().await.unwrap().len(),
        0
    );

    let default = shop.call(Method::GET, "products").send().await.unwrap();
    let page: Vec<serde_json::Value> = default.json().await.unwrap();
    assert_eq!(page.len(), 10, "per_page defaults to 10");
}

#[tokio::test]
async fn per_page_above_100_is_an_invalid_parameter() {
    let shop = Shop::start().await;
    for query in [
        "products?per_page=101",
        "orders?per_page=0",
        "products?page=0",
    ] {
        let response = shop.call(Method::GET, query).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "rest_invalid_param", "{query}");
        assert_eq!(body["data"]["status"], 400);
    }
}

#[tokio::test]
async fn modified_after_returns_only_what_changed_since() {
    let shop = Shop::start().await;
    let product = shop.stocked_simple_product().await;
    let id = product["id"].as_i64().unwrap();
    let since = "2030-01-01T00:00:00";
    assert_eq!(
        shop.get_json(&format!("products?modified_after={since}"))
            .await,
        json!([])
    );

    let cutoff = product["date_modified_gmt"].as_str().unwrap().to_owned();
    let (status, updated) = shop
        .send_json(
            Method::PUT,
            &format!("products/{id}"),
            json!({ "regular_price": "12.30" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["regular_price"], "12.30");
    assert!(updated["date_modified_gmt"].as_str().unwrap() > cutoff.as_str());

    let changed = shop
        .get_json(&format!(
            "products?modified_after={}&per_page=100",
            updated["date_modified_gmt"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        changed,
        json!([]),
        "strictly after: the change itself is not after its own time"
    );
    let changed = shop
        .get_json("products?modified_after=2025-06-01T00:00:00Z&per_page=100")
        .await;
    let ids: Vec<i64> = changed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        [id],
        "only the product changed now is newer than the seeded catalog"
    );
}

#[tokio::test]
async fn a_batch_of_more_than_100_objects_is_refused() {
    let shop = Shop::start().await;
    let updates: Vec<_> = (0..101).map(|_| json!({ "id": 10, "name": "x" })).collect();
    let (status, body) = shop
        .send_json(Method::POST, "products/batch", json!({ "update": updates }))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], "woocommerce_rest_request_entity_too_large");

    let (status, body) = shop
        .send_json(
            Method::POST,
            "products/batch",
            json!({ "create": [{ "name": "Batch One", "regular_price": "3.00", "sku": "BATCH-1" }], "delete": [999_999] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["create"][0]["sku"], "BATCH-1");
    assert_eq!(
        body["delete"][0]["error"]["code"],
        "woocommerce_rest_product_invalid_id"
    );
}

#[tokio::test]
async fn a_read_only_key_reads_but_cannot_write() {
    let shop = Shop::start().await;
    let read_key = shop
        .sandbox
        .woo_add_key("demo-shop", "Reporting - API", "read")
        .unwrap();
    let read = shop
        .http
        .get(shop.api("products"))
        .basic_auth(&read_key.0, Some(&read_key.1))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    for (method, path) in [
        (Method::POST, "products"),
        (Method::PUT, "products/10"),
        (Method::DELETE, "products/10"),
    ] {
        let response = shop
            .http
            .request(method.clone(), shop.api(path))
            .basic_auth(&read_key.0, Some(&read_key.1))
            .json(&json!({ "name": "nope" }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "woocommerce_rest_authentication_error");
        assert_eq!(
            body["message"],
            "The API key provided does not have write permissions."
        );
    }
    assert!(shop.sandbox.woo_product("demo-shop", 10).unwrap()["name"] != "nope");
}

#[tokio::test]
async fn a_store_that_is_down_answers_503_and_comes_back() {
    let shop = Shop::start().await;
    let down = shop
        .http
        .post(format!(
            "{}/sandbox/api/woo/stores/demo-shop/down",
            shop.base
        ))
        .json(&json!({ "down": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(down.status(), StatusCode::OK);
    for url in [
        shop.api("products"),
        format!("{}/wc-auth/v1/authorize", shop.store_url),
        shop.api("no/such/route"),
    ] {
        let response = shop.call(Method::GET, "products").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{url}");
        let response = shop.http.get(&url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{url}");
    }
    shop.sandbox.woo_set_down("demo-shop", false);
    assert_eq!(
        shop.call(Method::GET, "products")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_routes_and_ids_get_wordpress_errors() {
    let shop = Shop::start().await;
    let response = shop.call(Method::GET, "nothing-here").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["code"],
        "rest_no_route"
    );
    let response = shop
        .call(Method::PATCH, "products/batch/x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = shop.call(Method::DELETE, "products").send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "a method a route lacks is no route either"
    );
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["code"],
        "rest_no_route"
    );
    let response = shop
        .call(Method::GET, "products/999999")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["code"],
        "woocommerce_rest_product_invalid_id"
    );
}

#[tokio::test]
async fn variable_products_list_their_variations_and_a_variation_reads_as_a_product() {
    let shop = Shop::start().await;
    let variable = shop.get_json("products?type=variable&per_page=1").await;
    let parent = &variable[0];
    let ids: Vec<i64> = parent["variations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert!((2..=6).contains(&ids.len()));
    let variations = shop
        .get_json(&format!(
            "products/{}/variations?per_page=100",
            parent["id"]
        ))
        .await;
    assert_eq!(variations.as_array().unwrap().len(), ids.len());
    let first = &variations[0];
    assert_eq!(first["parent_id"], parent["id"]);
    assert!(first["attributes"][0]["option"].is_string());
    assert!(first["regular_price"].as_str().unwrap().contains('.'));
    let as_product = shop.get_json(&format!("products/{}", first["id"])).await;
    assert_eq!(as_product["type"], "variation");
    assert_eq!(as_product["parent_id"], parent["id"]);

    let with_gtin = shop.get_json("products?type=simple&per_page=100").await;
    let gtins: Vec<String> = with_gtin
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["meta_data"].as_array().unwrap().clone())
        .filter(|m| m["key"] == "_gtin")
        .map(|m| m["value"].as_str().unwrap().to_owned())
        .collect();
    assert!(!gtins.is_empty());
    for gtin in gtins {
        let digits: Vec<u32> = gtin.chars().map(|c| c.to_digit(10).unwrap()).collect();
        assert_eq!(digits.len(), 13);
        let sum: u32 = digits
            .iter()
            .enumerate()
            .map(|(i, d)| d * if i % 2 == 0 { 1 } else { 3 })
            .sum();
        assert_eq!(sum % 10, 0, "{gtin} has a wrong check digit");
    }
    let image = with_gtin[0]["images"][0]["src"]
        .as_str()
        .unwrap()
        .to_owned();
    let png = shop.http.get(&image).send().await.unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));
}
