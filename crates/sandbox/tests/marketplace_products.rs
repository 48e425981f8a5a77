//! Products a shop brings to a marketplace: H11, PM11 and VL11 describe the file, P41 imports
//! it, P42 tracks it, P44 reports the lines that failed.

mod support;

use axum::http::StatusCode;
use serde_json::Value;
use support::{SHOP_API_KEY, TestSandbox};

const PRODUCT_HEADER: &str = "category;shop_sku;title;brand;description;ean;color;size";

async fn p41(sandbox: &TestSandbox, file: &str) -> u64 {
    let response = sandbox
        .upload(
            "/mmp/demo-marketplace/api/products/imports",
            SHOP_API_KEY,
            &[],
            Some(file),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    response.json()["import_id"].as_u64().unwrap()
}

async fn p42(sandbox: &TestSandbox, id: u64) -> Value {
    let response = sandbox.mmp_get(&format!("/products/imports/{id}")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.json()
}

#[tokio::test]
async fn h11_pm11_and_vl11_describe_the_product_file() {
    let sandbox = TestSandbox::start();
    let hierarchies = sandbox.mmp_get("/hierarchies").await.json();
    let clothing = hierarchies["hierarchies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["code"] == "clothing")
        .unwrap();
    assert_eq!(clothing["level"], 2);
    assert_eq!(clothing["parent_code"], "fashion");
    let roots = sandbox.mmp_get("/hierarchies?max_level=1").await.json();
    assert!(
        roots["hierarchies"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["level"] == 1)
    );
    let fashion = sandbox
        .mmp_get("/hierarchies?hierarchy=fashion")
        .await
        .json();
    assert_eq!(fashion["hierarchies"].as_array().unwrap().len(), 3);

    let attributes = sandbox.mmp_get("/products/attributes").await.json();
    let attribute = |code: &str| {
        attributes["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == code)
            .unwrap_or_else(|| panic!("no attribute {code}"))
            .clone()
    };
    assert_eq!(attribute("brand")["requirement_level"], "REQUIRED");
    let color = attribute("color");
    assert_eq!(color["type"], "LIST");
    assert_eq!(color["type_parameters"][0]["value"], "colors");

    let lists = sandbox.mmp_get("/values_lists?code=colors").await.json();
    let lists = lists["values_lists"].as_array().unwrap();
    assert_eq!(lists.len(), 1);
    assert!(
        lists[0]["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["code"] == "Red")
    );
    for counter in ["mmp.h11", "mmp.pm11", "mmp.vl11"] {
        assert!(sandbox.sandbox.call_count(counter) >= 1, "{counter}");
    }
}

#[tokio::test]
async fn a_p41_import_adds_products_that_offers_then_name_by_shop_sku() {
    let sandbox = TestSandbox::start();
    let file = format!(
        "{PRODUCT_HEADER}\nclothing;TEE-RED-M;Red tee;Acme;Soft.;;Red;M\ntoys;TOY-1;Toy;;;;;\nnowhere;X-1;X;Acme;;;Purple;\n"
    );
    let id = p41(&sandbox, &file).await;
    let statuses: Vec<Value> = [
        p42(&sandbox, id).await,
        p42(&sandbox, id).await,
        p42(&sandbox, id).await,
    ]
    .to_vec();
    let names: Vec<&str> = statuses
        .iter()
        .map(|s| s["import_status"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["RUNNING", "SENT", "COMPLETE"]);
    let done = &statuses[2];
    assert_eq!(done["shop_id"], 2001);
    assert_eq!(done["transform_lines_read"], 3);
    assert_eq!(done["transform_lines_in_success"], 1);
    assert_eq!(done["transform_lines_in_error"], 2);
    assert_eq!(done["has_error_report"], true);
    assert_eq!(done["has_new_product_report"], true);

    let report = sandbox
        .mmp_get(&format!("/products/imports/{id}/error_report"))
        .await;
    assert_eq!(report.status, StatusCode::OK);
    let lines: Vec<&str> = report.body.lines().collect();
    assert!(
        lines[0].ends_with("\"error-line\";\"error-message\""),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].ends_with("\"3\";\"The attribute 'brand' is required\""),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("The category 'nowhere' does not exist"),
        "{}",
        lines[2]
    );
    assert!(
        lines[2].contains("not in the values list 'colors'"),
        "{}",
        lines[2]
    );

    let product = sandbox
        .sandbox
        .marketplace_products("demo-marketplace")
        .into_iter()
        .find(|product| product["shop_skus"]["2001"] == "TEE-RED-M")
        .expect("the imported product joined the catalog");
    assert_eq!(product["brand"], "Acme");
    assert_eq!(product["category"], "clothing");

    // An offer names it by the shop's SKU.
    let offers = "sku;product-id;product-id-type;price;quantity;state\nOFFER-TEE;TEE-RED-M;SHOP_SKU;9.99;3;11\n";
    let offer_import = sandbox.of01("NORMAL", offers).await.json()["import_id"]
        .as_u64()
        .unwrap();
    let imported = sandbox.poll_until_done(offer_import).await;
    assert_eq!(imported["offer_inserted"], 1, "{imported}");
    let listed = sandbox.mmp_get("/offers?sku=OFFER-TEE").await.json();
    assert_eq!(listed["offers"][0]["product_sku"], product["product_sku"]);
    assert_eq!(listed["offers"][0]["product_title"], "Red tee");
    assert_eq!(sandbox.sandbox.call_count("mmp.p41"), 1);
    assert_eq!(sandbox.sandbox.call_count("mmp.p42"), 3);
    assert_eq!(sandbox.sandbox.call_count("mmp.p44"), 1);
}

#[tokio::test]
async fn a_shop_sku_is_unknown_to_other_shops_until_settled_imports_bring_it() {
    let sandbox = TestSandbox::start();
    sandbox
        .sandbox
        .add_marketplace_shop("demo-marketplace", 2002, "Other", "other-key")
        .unwrap();
    let id = p41(
        &sandbox,
        &format!("{PRODUCT_HEADER}\ntoys;MINE;Toy;Acme;;;;\n"),
    )
    .await;
    let other = sandbox
        .json(
            axum::http::Method::GET,
            &format!("/mmp/demo-marketplace/api/products/imports/{id}"),
            Some("other-key"),
            None,
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "another shop's import");

    // Settling completes the product import before the offer import that needs it.
    let offer = sandbox
        .of01(
            "NORMAL",
            "sku;product-id;product-id-type;price;quantity;state\nO-1;MINE;SHOP_SKU;5;1;11\n",
        )
        .await;
    assert_eq!(offer.status, StatusCode::CREATED);
    sandbox.sandbox.settle_imports();
    assert_eq!(
        sandbox
            .sandbox
            .marketplace_offers("demo-marketplace", 2001)
            .len(),
        1
    );
    assert_eq!(p42(&sandbox, id).await["import_status"], "COMPLETE");
}
