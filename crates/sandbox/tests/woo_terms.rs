//! Product categories and tags in the emulated store: store-level terms that products name by
//! id, listed, read, created, renamed and deleted (with `force`) as core's terms controller does.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::woo::Shop;

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_demo_store_has_tags_that_its_products_name_and_filter_by() {
    let shop = Shop::start().await;
    let tags = shop.get_json("products/tags?per_page=100").await;
    assert_eq!(
        names(&tags),
        ["Bestseller", "Gift idea", "New arrival", "Summer"],
        "ordered by name, as core's default"
    );
    let summer = tags
        .as_array()
        .unwrap()
        .iter()
        .find(|tag| tag["name"] == "Summer")
        .unwrap();
    assert_eq!(summer["slug"], "summer");
    assert!(summer.get("parent").is_none(), "tags are flat: {summer}");
    let count = summer["count"].as_u64().unwrap();
    assert!(count > 0, "{summer}");

    let id = summer["id"].as_i64().unwrap();
    let tagged = shop
        .get_json(&format!("products?tag={id}&per_page=100"))
        .await;
    assert_eq!(tagged.as_array().unwrap().len() as u64, count);
    for product in tagged.as_array().unwrap() {
        assert!(
            product["tags"]
                .as_array()
                .unwrap()
                .contains(&json!({ "id": id, "name": "Summer", "slug": "summer" })),
            "{}",
            product["tags"]
        );
    }

    let categories = shop.get_json("products/categories?per_page=100").await;
    let mut category_ids = ids(&categories);
    let mut tag_ids = ids(&tags);
    category_ids.append(&mut tag_ids);
    let mut unique = category_ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        category_ids.len(),
        "categories and tags share term ids"
    );
}

#[tokio::test]
async fn a_tag_is_created_read_renamed_and_deleted_only_with_force() {
    let shop = Shop::start().await;
    let response = shop
        .call(Method::POST, "products/tags")
        .json(&json!({ "name": "Eco Friendly", "description": "Recycled" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let tag: Value = response.json().await.unwrap();
    let id = tag["id"].as_i64().unwrap();
    assert_eq!(
        location,
        format!("{}/wp-json/wc/v3/products/tags/{id}", shop.store_url)
    );
    assert_eq!(tag["slug"], "eco-friendly");
    assert_eq!(tag["description"], "Recycled");
    assert_eq!(tag["count"], 0);

    let (status, again) = shop
        .send_json(
            Method::POST,
            "products/tags",
            json!({ "name": "Eco friendly" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(again["code"], "term_exists");
    let (status, nameless) = shop
        .send_json(Method::POST, "products/tags", json!({ "slug": "x" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(nameless["code"], "rest_missing_callback_param");

    let product = shop.stocked_simple_product().await;
    let product_id = product["id"].as_i64().unwrap();
    let (status, tagged) = shop
        .send_json(
            Method::PUT,
            &format!("products/{product_id}"),
            json!({ "tags": [{ "id": id }] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        tagged["tags"],
        json!([{ "id": id, "name": "Eco Friendly", "slug": "eco-friendly" }])
    );

    let (status, renamed) = shop
        .send_json(
            Method::PATCH,
            &format!("products/tags/{id}"),
            json!({ "name": "Eco" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(renamed["name"], "Eco");
    assert_eq!(renamed["slug"], "eco-friendly", "a rename keeps the slug");
    assert_eq!(renamed["count"], 1);
    assert_eq!(
        shop.get_json(&format!("products/{product_id}")).await["tags"][0]["name"],
        "Eco",
        "products render their tags from the store's table"
    );
    assert_eq!(
        shop.get_json(&format!("products/tags/{id}")).await["name"],
        "Eco"
    );

    let (status, refused) = shop
        .send_json(Method::DELETE, &format!("products/tags/{id}"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(refused["code"], "woocommerce_rest_trash_not_supported");
    let (status, deleted) = shop
        .send_json(
            Method::DELETE,
            &format!("products/tags/{id}?force=true"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted["id"], id);
    assert_eq!(
        shop.get_json(&format!("products/{product_id}")).await["tags"],
        json!([]),
        "a deleted tag leaves its products"
    );
    let (status, gone) = shop
        .send_json(Method::GET, &format!("products/tags/{id}"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(gone["code"], "woocommerce_rest_term_invalid");
}

#[tokio::test]
async fn product_writes_name_tags_by_id_and_skip_unknown_ones() {
    let shop = Shop::start().await;
    let tags = shop.get_json("products/tags?orderby=id").await;
    let (first, second) = (
        tags[0]["id"].as_i64().unwrap(),
        tags[1]["id"].as_i64().unwrap(),
    );
    let category = shop.get_json("products/categories?slug=clothing").await[0]["id"]
        .as_i64()
        .unwrap();

    let (status, product) = shop
        .send_json(
            Method::POST,
            "products",
            json!({
                "name": "Tagged Tee",
                "regular_price": "9.00",
                // Core reads only `id`: a name alone, an unknown id and a category's id
                // name no tag.
                "tags": [{ "id": second }, { "name": "Brand new" }, { "id": 999_999 },
                         { "id": category }, { "id": first }, { "id": second }],
                "categories": [{ "id": category }, { "id": first }],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{product}");
    assert_eq!(ids(&product["tags"]), [second, first]);
    assert_eq!(ids(&product["categories"]), [category]);
    assert!(
        names(&shop.get_json("products/tags?per_page=100").await)
            .iter()
            .all(|name| *name != "Brand new"),
        "a product write creates no tag"
    );

    let id = product["id"].as_i64().unwrap();
    let both = shop
        .get_json(&format!(
            "products?tag={first},{second}&category={category}&per_page=100"
        ))
        .await;
    assert!(ids(&both).contains(&id));
    let (_, untagged) = shop
        .send_json(
            Method::PUT,
            &format!("products/{id}"),
            json!({ "tags": [] }),
        )
        .await;
    assert_eq!(untagged["tags"], json!([]));
    assert_eq!(
        untagged["categories"][0]["id"], category,
        "leaving the tags out or emptying them leaves the categories"
    );
}

#[tokio::test]
async fn term_lists_page_and_filter_the_same_for_tags_and_categories() {
    let shop = Shop::start().await;
    for number in 1..=12 {
        let (status, _) = shop
            .send_json(
                Method::POST,
                "products/tags",
                json!({ "name": format!("Extra {number:02}") }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let response = shop
        .call(Method::GET, "products/tags?search=extra&per_page=5&page=3")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-wp-total"], "12");
    assert_eq!(response.headers()["x-wp-totalpages"], "3");
    let last: Value = response.json().await.unwrap();
    assert_eq!(names(&last), ["Extra 11", "Extra 12"]);

    let by_slug = shop.get_json("products/tags?slug=extra-07").await;
    assert_eq!(names(&by_slug), ["Extra 07"]);
    let wanted = ids(&by_slug)[0];
    let included = shop
        .get_json(&format!("products/tags?include={wanted}"))
        .await;
    assert_eq!(ids(&included), [wanted]);
    let newest_first = shop
        .get_json("products/tags?search=extra&orderby=id&order=desc&per_page=1")
        .await;
    assert_eq!(names(&newest_first), ["Extra 12"]);
    let (status, error) = shop
        .send_json(Method::GET, "products/tags?orderby=price", json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], "rest_invalid_param");

    // Categories nest; their list filters by parent, which tags do not have.
    let clothing = shop.get_json("products/categories?slug=clothing").await[0]["id"]
        .as_i64()
        .unwrap();
    let (status, shirts) = shop
        .send_json(
            Method::POST,
            "products/categories",
            json!({ "name": "Shirts", "parent": clothing }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(shirts["parent"], clothing);
    let children = shop
        .get_json(&format!("products/categories?parent={clothing}"))
        .await;
    assert_eq!(names(&children), ["Shirts"]);
    let (status, tag) = shop
        .send_json(
            Method::POST,
            "products/tags",
            json!({ "name": "Nested", "parent": clothing }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(tag.get("parent").is_none(), "{tag}");
}
