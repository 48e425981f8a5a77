//! The marketplace's offers: OF01 and OF24 imports tracked with OF02 and OF03, OF21, OF61, and
//! the control calls a reconciliation test uses.

mod support;

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};
use support::{SHOP_API_KEY, TestSandbox, UNKNOWN_EAN};

const HEADER: &str = "sku;product-id;product-id-type;description;price;quantity;state;discount-price;discount-start-date;discount-end-date;update-delete;my-own-column";

/// GTINs demo-marketplace knows, in catalog order.
fn known_gtins(sandbox: &TestSandbox, count: usize) -> Vec<String> {
    let gtins: Vec<String> = sandbox
        .sandbox
        .marketplace_products("demo-marketplace")
        .iter()
        .filter_map(|product| product["gtin"].as_str().map(str::to_owned))
        .take(count)
        .collect();
    assert_eq!(gtins.len(), count, "the demo catalog has GTINs");
    gtins
}

fn import_id(response: &support::TestResponse) -> u64 {
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    response.json()["import_id"].as_u64().unwrap()
}

fn offer<'a>(offers: &'a [Value], sku: &str) -> &'a Value {
    offers
        .iter()
        .find(|offer| offer["shop_sku"] == sku)
        .unwrap_or_else(|| panic!("no offer {sku} in {offers:?}"))
}

#[tokio::test]
async fn an_of01_normal_import_waits_runs_then_completes_and_applies_its_lines() {
    let sandbox = TestSandbox::start();
    let gtins = known_gtins(&sandbox, 2);
    let file = format!(
        "{HEADER}\nSKU-1;{};EAN;Blue mug;12.50;7;11;;;;;x\nSKU-2;{};EAN;;19,90;0;1;15;2020-01-01;2099-01-01T00:00:00Z;update;y\n",
        gtins[0], gtins[1]
    );
    let id = import_id(&sandbox.of01("NORMAL", &file).await);
    assert_eq!(sandbox.sandbox.call_count("mmp.of01"), 1);
    assert!(
        sandbox
            .sandbox
            .marketplace_offers("demo-marketplace", 2001)
            .is_empty()
    );

    let first = sandbox
        .mmp_get(&format!("/offers/imports/{id}"))
        .await
        .json();
    assert_eq!(first["status"], "RUNNING");
    assert_eq!(first["import_id"], id);
    assert_eq!(first["mode"], "NORMAL");
    assert_eq!(first["lines_in_pending"], 2);
    assert!(
        sandbox
            .sandbox
            .marketplace_offers("demo-marketplace", 2001)
            .is_empty(),
        "nothing applies before the import completes"
    );

    let second = sandbox
        .mmp_get(&format!("/offers/imports/{id}"))
        .await
        .json();
    assert_eq!(second["status"], "COMPLETE");
    assert_eq!(second["lines_read"], 2);
    assert_eq!(second["lines_in_success"], 2);
    assert_eq!(second["lines_in_error"], 0);
    assert_eq!(second["lines_in_pending"], 0);
    assert_eq!(second["offer_inserted"], 2);
    assert_eq!(second["has_error_report"], false);
    assert_eq!(
        second["reason_status"], "",
        "required, empty unless it failed"
    );
    assert!(second["date_created"].as_str().unwrap().ends_with('Z'));
    assert_eq!(sandbox.sandbox.call_count("mmp.of02"), 2);

    let offers = sandbox.mmp_get("/offers?max=10").await.json();
    assert_eq!(offers["total_count"], 2);
    let offers = offers["offers"].as_array().unwrap();
    let mug = offer(offers, "SKU-1");
    assert_eq!(mug["price"], 12.5);
    assert_eq!(mug["quantity"], 7);
    assert_eq!(mug["state_code"], "11");
    assert_eq!(mug["active"], true);
    assert_eq!(mug["currency_iso_code"], "EUR");
    assert_eq!(mug["description"], "Blue mug");
    assert!(mug["product_sku"].as_str().unwrap().starts_with("MKP"));
    assert_eq!(
        mug["product_references"],
        json!([{ "reference": gtins[0], "reference_type": "EAN" }])
    );
    let discounted = offer(offers, "SKU-2");
    assert_eq!(discounted["price"], 15.0, "the discount applies now");
    assert_eq!(discounted["discount"]["origin_price"], 19.9);
    assert_eq!(discounted["quantity"], 0);
    assert_eq!(discounted["active"], false);
    assert_eq!(sandbox.sandbox.call_count("mmp.of21"), 1);

    // The same file again updates instead of inserting.
    let again = import_id(&sandbox.of01("NORMAL", &file).await);
    let done = sandbox.poll_until_done(again).await;
    assert_eq!(done["offer_updated"], 2);
    assert_eq!(done["offer_inserted"], 0);
}

#[tokio::test]
async fn unknown_ean_and_bad_price_become_of03_error_lines() {
    let sandbox = TestSandbox::start();
    let gtins = known_gtins(&sandbox, 2);
    let file = format!(
        "{HEADER}\nGOOD;{};EAN;;10;1;11;;;;;a\nNO-PRODUCT;{UNKNOWN_EAN};EAN;;10;1;11;;;;;b\nBAD-PRICE;{};EAN;;-3;1;11;;;;;c\n",
        gtins[0], gtins[1]
    );
    let id = import_id(&sandbox.of01("NORMAL", &file).await);
    let report_uri = format!("/offers/imports/{id}/error_report");
    assert_eq!(
        sandbox.mmp_get(&report_uri).await.status,
        StatusCode::NOT_FOUND,
        "no report before the import completes"
    );
    let done = sandbox.poll_until_done(id).await;
    assert_eq!(done["lines_in_success"], 1);
    assert_eq!(done["lines_in_error"], 2);
    assert_eq!(done["has_error_report"], true);

    let report = sandbox.mmp_get(&report_uri).await;
    assert_eq!(report.status, StatusCode::OK);
    assert_eq!(
        report.headers[header::CONTENT_TYPE],
        "application/octet-stream"
    );
    let lines: Vec<&str> = report.body.lines().collect();
    assert_eq!(
        lines[0],
        "\"sku\";\"product-id\";\"product-id-type\";\"description\";\"price\";\"quantity\";\"state\";\"discount-price\";\"discount-start-date\";\"discount-end-date\";\"update-delete\";\"my-own-column\";\"error-line\";\"error-message\""
    );
    assert_eq!(
        lines[1],
        format!(
            "\"NO-PRODUCT\";\"{UNKNOWN_EAN}\";\"EAN\";\"\";\"10\";\"1\";\"11\";\"\";\"\";\"\";\"\";\"b\";\"3\";\"The product does not exist\""
        )
    );
    assert!(
        lines[2].starts_with("\"BAD-PRICE\"")
            && lines[2].ends_with("\"4\";\"The price is not valid\""),
        "{}",
        lines[2]
    );
    assert_eq!(lines.len(), 3);
    assert_eq!(sandbox.sandbox.call_count("mmp.of03"), 2);
    assert_eq!(
        sandbox
            .sandbox
            .marketplace_offers("demo-marketplace", 2001)
            .len(),
        1
    );

    // An import without failed lines has no report.
    let clean = import_id(
        &sandbox
            .of01(
                "NORMAL",
                &format!("{HEADER}\nGOOD;{};EAN;;11;1;11;;;;;a\n", gtins[0]),
            )
            .await,
    );
    sandbox.poll_until_done(clean).await;
    let none = sandbox
        .mmp_get(&format!("/offers/imports/{clean}/error_report"))
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert_eq!(none.json()["status"], 404);
}

#[tokio::test]
async fn replace_removes_every_offer_absent_from_the_file_and_is_recorded() {
    let sandbox = TestSandbox::start();
    let gtins = known_gtins(&sandbox, 3);
    let all = format!(
        "{HEADER}\nA;{};EAN;;10;1;11;;;;;\nB;{};EAN;;10;1;11;;;;;\nC;{};EAN;;10;1;11;;;;;\n",
        gtins[0], gtins[1], gtins[2]
    );
    sandbox
        .poll_until_done(import_id(&sandbox.of01("NORMAL", &all).await))
        .await;
    assert_eq!(
        sandbox
            .sandbox
            .marketplace_offers("demo-marketplace", 2001)
            .len(),
        3
    );

    let only_b = format!("{HEADER}\nB;{};EAN;;12;4;11;;;;;\n", gtins[1]);
    let done = sandbox
        .poll_until_done(import_id(&sandbox.of01("REPLACE", &only_b).await))
        .await;
    assert_eq!(done["mode"], "REPLACE");
    assert_eq!(done["offer_updated"], 1);
    assert_eq!(done["offer_deleted"], 2);
    let offers = sandbox.sandbox.marketplace_offers("demo-marketplace", 2001);
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0]["shop_sku"], "B");
    assert_eq!(offers[0]["quantity"], 4);
    assert_eq!(
        sandbox.sandbox.offer_import_modes("demo-marketplace"),
        ["NORMAL", "REPLACE"]
    );
    assert!(
        sandbox
            .sandbox
            .offer_import_modes("second-marketplace")
            .is_empty()
    );

    let over_control = sandbox
        .get("/sandbox/api/mmp/demo-marketplace/import-modes")
        .await
        .json();
    assert_eq!(over_control, json!(["NORMAL", "REPLACE"]));
}

#[tokio::test]
async fn a_delete_line_removes_its_offer() {
    let sandbox = TestSandbox::start();
    let gtins = known_gtins(&sandbox, 1);
    let create = format!("{HEADER}\nA;{};EAN;;10;1;11;;;;;\n", gtins[0]);
    sandbox
        .poll_until_done(import_id(&sandbox.of01("NORMAL", &create).await))
        .await;
    let delete = format!("{HEADER}\nA;;;;;;;;;;delete;\nNEVER-THERE;;;;;;;;;;delete;\n");
    let done = sandbox
        .poll_until_done(import_id(&sandbox.of01("NORMAL", &delete).await))
        .await;
    assert_eq!(done["offer_deleted"], 1);
    assert_eq!(done["lines_in_error"], 1);
    assert!(
        sandbox
            .sandbox
            .marketplace_offers("demo-marketplace", 2001)
            .is_empty()
    );
}

#[tokio::test]
async fn of24_resets_every_field_an_offer_leaves_out() {
    let sandbox = TestSandbox::start();
    let gtins = known_gtins(&sandbox, 1);
    let full = json!({ "offers": [{
        "shop_sku": "JSON-1",
        "product_id": gtins[0],
        "product_id_type": "EAN",
        "price": 50,
        "quantity": "5",
        "state_code": "11",
        "description": "Fine",
        "leadtime_to_ship": 3,
        "discount": { "price": 40 },
        "update_delete": "update",
    }]});
    let post = |body: Value| {
        let sandbox = &sandbox;
        async move {
            sandbox
                .json(
                    Method::POST,
                    "/mmp/demo-marketplace/api/offers",
                    Some(SHOP_API_KEY),
                    Some(&body),
                )
                .await
        }
    };
    let id = import_id(&post(full).await);
    let done = sandbox.poll_until_done(id).await;
    assert_eq!(done["offer_inserted"], 1);
    let offers = sandbox.sandbox.marketplace_offers("demo-marketplace", 2001);
    assert_eq!(offers[0]["quantity"], 5);
    assert_eq!(offers[0]["price"], 40.0);
    assert_eq!(offers[0]["leadtime_to_ship"], 3);

    // Price and state only: quantity, description, lead time and discount go back to defaults.
    let bare = json!({ "offers": [{
        "shop_sku": "JSON-1",
        "price": 45.5,
        "state_code": "11",
        "update_delete": "update",
    }]});
    sandbox.poll_until_done(import_id(&post(bare).await)).await;
    let offers = sandbox.sandbox.marketplace_offers("demo-marketplace", 2001);
    let offer = &offers[0];
    assert_eq!(offer["quantity"], 0);
    assert_eq!(offer["price"], 45.5);
    assert_eq!(offer["description"], "");
    assert!(offer.get("discount").is_none(), "{offer}");
    assert!(offer.get("leadtime_to_ship").is_none(), "{offer}");
    assert_eq!(sandbox.sandbox.call_count("mmp.of24"), 2);

    // A bad line is reported with OF03, in the same CSV shape.
    let bad = json!({ "offers": [{ "shop_sku": "JSON-2", "product_id": UNKNOWN_EAN, "product_id_type": "EAN", "price": 1, "state_code": "11", "update_delete": "" }]});
    let failed = import_id(&post(bad).await);
    sandbox.poll_until_done(failed).await;
    let report = sandbox
        .mmp_get(&format!("/offers/imports/{failed}/error_report"))
        .await;
    let lines: Vec<&str> = report.body.lines().collect();
    assert!(
        lines[0].starts_with("\"sku\";\"product-id\";\"product-id-type\""),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("\"JSON-2\";\"0000000000017\";\"EAN\""),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].ends_with("\"1\";\"The product does not exist\""),
        "{}",
        lines[1]
    );

    // A field of the wrong type refuses the whole call, as Mirakl does.
    let wrong_type =
        post(json!({ "offers": [{ "shop_sku": "X", "logistic_class": { "code": "M" } }]})).await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        wrong_type.json()["message"],
        "Error with field offers.logistic_class. Please check the field datatype."
    );
}

#[tokio::test]
async fn of21_pages_with_offset_and_max_and_filters_by_sku() {
    let sandbox = TestSandbox::start();
    let gtins = known_gtins(&sandbox, 25);
    let mut file = format!("{HEADER}\n");
    for (index, gtin) in gtins.iter().enumerate() {
        file.push_str(&format!(
            "P-{index:02};{gtin};EAN;;{}.00;1;11;;;;;\n",
            10 + index
        ));
    }
    sandbox
        .poll_until_done(import_id(&sandbox.of01("NORMAL", &file).await))
        .await;

    let first = sandbox.mmp_get("/offers").await.json();
    assert_eq!(first["total_count"], 25);
    assert_eq!(
        first["offers"].as_array().unwrap().len(),
        10,
        "max defaults to 10"
    );
    assert_eq!(
        first["offers"][0]["shop_sku"], "P-00",
        "sorted by total price"
    );

    let mut seen = Vec::new();
    for offset in (0..25).step_by(10) {
        let page = sandbox
            .mmp_get(&format!("/offers?offset={offset}&max=10"))
            .await
            .json();
        assert_eq!(page["total_count"], 25);
        for offer in page["offers"].as_array().unwrap() {
            seen.push(offer["shop_sku"].as_str().unwrap().to_owned());
        }
    }
    let expected: Vec<String> = (0..25).map(|index| format!("P-{index:02}")).collect();
    assert_eq!(seen, expected);

    let descending = sandbox
        .mmp_get("/offers?max=1&sort=price&order=desc")
        .await
        .json();
    assert_eq!(descending["offers"][0]["shop_sku"], "P-24");
    let capped = sandbox.mmp_get("/offers?max=500").await.json();
    assert_eq!(capped["offers"].as_array().unwrap().len(), 25);

    let one = sandbox.mmp_get("/offers?sku=P-07").await.json();
    assert_eq!(one["total_count"], 1);
    assert_eq!(one["offers"][0]["price"], 17.0);
    let bad = sandbox.mmp_get("/offers?max=ten").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["status"], 400);
}

#[tokio::test]
async fn a_shop_cannot_read_another_shops_import() {
    let sandbox = TestSandbox::start();
    sandbox
        .sandbox
        .add_marketplace_shop("demo-marketplace", 2002, "Other Store", "other-shop-key")
        .unwrap();
    let id = import_id(&sandbox.of01("NORMAL", &format!("{HEADER}\n")).await);
    for path in [
        format!("/mmp/demo-marketplace/api/offers/imports/{id}"),
        format!("/mmp/demo-marketplace/api/offers/imports/{id}/error_report"),
    ] {
        let response = sandbox
            .json(Method::GET, &path, Some("other-shop-key"), None)
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(response.json()["status"], 404);
    }
    let owner = sandbox.mmp_get(&format!("/offers/imports/{id}")).await;
    assert_eq!(owner.status, StatusCode::OK);
    let unknown = sandbox.mmp_get("/offers/imports/999999").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn of01_refuses_what_it_cannot_take() {
    let sandbox = TestSandbox::start();
    let file = format!("{HEADER}\n");
    let uri = "/mmp/demo-marketplace/api/offers/imports";
    let no_mode = sandbox.upload(uri, SHOP_API_KEY, &[], Some(&file)).await;
    assert_eq!(no_mode.status, StatusCode::BAD_REQUEST);
    assert!(
        no_mode.json()["message"]
            .as_str()
            .unwrap()
            .contains("import_mode")
    );
    let partial = sandbox.of01("PARTIAL_UPDATE", &file).await;
    assert_eq!(partial.status, StatusCode::BAD_REQUEST);
    let with_products = sandbox
        .upload(
            uri,
            SHOP_API_KEY,
            &[("import_mode", "NORMAL"), ("with_products", "true")],
            Some(&file),
        )
        .await;
    assert_eq!(with_products.status, StatusCode::BAD_REQUEST);
    assert!(
        with_products.json()["message"]
            .as_str()
            .unwrap()
            .contains("not emulated")
    );
    let no_file = sandbox
        .upload(uri, SHOP_API_KEY, &[("import_mode", "NORMAL")], None)
        .await;
    assert_eq!(no_file.status, StatusCode::BAD_REQUEST);
    let no_key = sandbox
        .upload(uri, "not-a-key", &[("import_mode", "NORMAL")], Some(&file))
        .await;
    assert_eq!(no_key.status, StatusCode::UNAUTHORIZED);

    // A comma-separated file has no `sku` column: the import fails with a reason.
    let commas = import_id(&sandbox.of01("NORMAL", "sku,price\nA,1\n").await);
    let failed = sandbox.poll_until_done(commas).await;
    assert_eq!(failed["status"], "FAILED");
    assert!(failed["reason_status"].as_str().unwrap().contains("';'"));
}

#[tokio::test]
async fn of61_lists_the_offer_conditions() {
    let sandbox = TestSandbox::start();
    let states = sandbox.mmp_get("/offers/states").await.json();
    assert_eq!(states["total_count"], 3);
    assert_eq!(
        states["offer_states"],
        json!([
            { "code": "11", "label": "New" },
            { "code": "1", "label": "Used - Like New" },
            { "code": "10", "label": "Refurbished" },
        ])
    );
    assert_eq!(sandbox.sandbox.call_count("mmp.of61"), 1);
}

#[tokio::test]
async fn a_change_behind_the_connectors_back_shows_in_of21() {
    let sandbox = TestSandbox::start();
    let gtins = known_gtins(&sandbox, 1);
    let file = format!("{HEADER}\nA;{};EAN;;10;8;11;;;;;\n", gtins[0]);
    sandbox
        .poll_until_done(import_id(&sandbox.of01("NORMAL", &file).await))
        .await;
    sandbox
        .sandbox
        .set_offer_quantity("demo-marketplace", 2001, "A", 2);
    assert_eq!(
        sandbox.mmp_get("/offers").await.json()["offers"][0]["quantity"],
        2
    );

    let over_control = sandbox
        .json(
            Method::POST,
            "/sandbox/api/mmp/demo-marketplace/shops/2001/offers/A/quantity",
            None,
            Some(&json!({ "quantity": 0 })),
        )
        .await;
    assert_eq!(over_control.status, StatusCode::OK, "{}", over_control.body);
    assert_eq!(over_control.json()["active"], false);
    let listed = sandbox
        .get("/sandbox/api/mmp/demo-marketplace/shops/2001/offers")
        .await
        .json();
    assert_eq!(listed[0]["quantity"], 0);
    let missing = sandbox
        .json(
            Method::POST,
            "/sandbox/api/mmp/demo-marketplace/shops/2001/offers/NOPE/quantity",
            None,
            Some(&json!({ "quantity": 1 })),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn settle_imports_completes_every_import_in_order() {
    let sandbox = TestSandbox::start();
    let gtins = known_gtins(&sandbox, 1);
    let first = format!("{HEADER}\nA;{};EAN;;10;1;11;;;;;\n", gtins[0]);
    let second = format!("{HEADER}\nA;{};EAN;;20;9;11;;;;;\n", gtins[0]);
    import_id(&sandbox.of01("NORMAL", &first).await);
    let later = import_id(&sandbox.of01("NORMAL", &second).await);
    sandbox.sandbox.settle_imports();
    let offers = sandbox.sandbox.marketplace_offers("demo-marketplace", 2001);
    assert_eq!(offers[0]["price"], 20.0, "the later import applies last");
    assert_eq!(offers[0]["quantity"], 9);
    let status = sandbox
        .mmp_get(&format!("/offers/imports/{later}"))
        .await
        .json();
    assert_eq!(status["status"], "COMPLETE");
    assert_eq!(status["offer_updated"], 1);
}

#[tokio::test]
async fn the_demo_catalogs_know_all_but_about_one_woo_gtin_in_twenty() {
    let sandbox = TestSandbox::start();
    let mut woo_gtins = Vec::new();
    for id in 1..3000 {
        if let Some(product) = sandbox.sandbox.woo_product(sandbox::WOO_DEMO_STORE, id)
            && let Some(gtin) = product["global_unique_id"]
                .as_str()
                .filter(|g| !g.is_empty())
        {
            woo_gtins.push(gtin.to_owned());
        }
    }
    assert!(woo_gtins.len() > 100, "{}", woo_gtins.len());
    let known = |instance: &str| -> Vec<String> {
        sandbox
            .sandbox
            .marketplace_products(instance)
            .iter()
            .map(|product| product["gtin"].as_str().unwrap().to_owned())
            .collect()
    };
    let (demo, second) = (known("demo-marketplace"), known("second-marketplace"));
    for catalog in [&demo, &second] {
        let missing = woo_gtins
            .iter()
            .filter(|gtin| !catalog.contains(gtin))
            .count();
        let share = missing as f64 / woo_gtins.len() as f64;
        assert!(
            (0.01..=0.10).contains(&share),
            "{missing} of {} missing",
            woo_gtins.len()
        );
        // The rest of the catalog is the corrected GTINs of the missing ones (the demo's
        // typo story: the seller fixes the GTIN in the shop).
        assert!(catalog.iter().all(|gtin| {
            woo_gtins.contains(gtin)
                || woo_gtins
                    .iter()
                    .any(|w| !catalog.contains(w) && sandbox::corrected_gtin(w) == *gtin)
        }));
    }
    assert_ne!(demo, second, "each marketplace misses its own products");

    // A missing one gives the error a seller would see.
    let missing = woo_gtins.iter().find(|gtin| !demo.contains(gtin)).unwrap();
    let file = format!("{HEADER}\nM;{missing};EAN;;10;1;11;;;;;\n");
    let id = import_id(&sandbox.of01("NORMAL", &file).await);
    sandbox.poll_until_done(id).await;
    let report = sandbox
        .mmp_get(&format!("/offers/imports/{id}/error_report"))
        .await;
    assert!(
        report.body.contains("The product does not exist"),
        "{}",
        report.body
    );
}
