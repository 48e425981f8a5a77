//! Product creation (H11, PM11, VL11, P41, P42, P44): end to end against the sandbox's
//! marketplace, and the P41 request against a fake instance.

use std::collections::HashMap;

use axum::http::Method;
use domain::{InstanceUrl, StoreId};
use mirakl::marketplace::{
    Credential, ImportId, ImportMode, ImportStatus, MarketplaceClient, ProductImport,
    ProductImportStatus, RequirementLevel,
};
use mirakl::offers_file::write_offers_csv;
use mirakl::products_file::write_products_csv;
use serde_json::json;

use crate::sandbox::{
    DEMO_MARKETPLACE, DEMO_SHOP, SHOP_KEY, assert_spent_budget, live_offers, offer, start_sandbox,
};
use crate::support::{Canned, CannedServer, Upload};

fn client() -> MarketplaceClient {
    MarketplaceClient::new(mirakl::http_client())
}

fn demo_shop() -> Option<StoreId> {
    StoreId::new(DEMO_SHOP)
}

#[tokio::test]
async fn the_catalog_configuration_names_required_attributes_lists_and_categories() {
    let sandbox = start_sandbox().await;
    let instance = sandbox.instance(DEMO_MARKETPLACE);
    let marketplace = client();

    let hierarchies = marketplace
        .hierarchies(&instance, SHOP_KEY, demo_shop())
        .await
        .unwrap();
    let clothing = hierarchies.iter().find(|h| h.code == "clothing").unwrap();
    assert_eq!(clothing.parent_code.as_deref(), Some("fashion"));
    assert_eq!(clothing.label, "Clothing");
    let fashion = hierarchies.iter().find(|h| h.code == "fashion").unwrap();
    assert_eq!(fashion.parent_code, None, "a top category has no parent");
    assert!(clothing.level > fashion.level);

    let attributes = marketplace
        .product_attributes(&instance, SHOP_KEY, demo_shop())
        .await
        .unwrap();
    let attribute = |code: &str| attributes.iter().find(|a| a.code == code).unwrap();
    assert_eq!(
        attribute("brand").requirement_level,
        RequirementLevel::Required
    );
    assert_eq!(
        attribute("description").requirement_level,
        RequirementLevel::Recommended
    );
    let color = attribute("color");
    assert_eq!(
        (color.type_.as_str(), color.values_list.as_deref()),
        ("LIST", Some("colors"))
    );
    assert_eq!(color.hierarchy_code, None, "shared by every category");
    assert_eq!(attribute("main_image").type_, "MEDIA");
    assert!(attribute("shop_sku").has_role("SHOP_SKU"));
    assert_eq!(attribute("title").roles, ["TITLE"]);
    assert!(attribute("shop_sku").description.is_some());

    let lists = marketplace
        .values_lists(&instance, SHOP_KEY, demo_shop())
        .await
        .unwrap();
    let colors = lists.iter().find(|list| list.code == "colors").unwrap();
    assert_eq!(colors.label, "Colors");
    assert!(
        colors
            .values
            .iter()
            .any(|value| value.code == "Red" && value.label == "Red"),
        "{colors:?}"
    );
}

/// A P41 row: each attribute's value from `values`, empty for the others.
fn product_row(columns: &[String], values: &[(&str, &str)]) -> Vec<String> {
    columns
        .iter()
        .map(|column| {
            values
                .iter()
                .find(|(code, _)| code == column)
                .map_or_else(String::new, |(_, value)| (*value).to_owned())
        })
        .collect()
}

/// Polls P42 until the import is finished; the sandbox moves one step per poll.
async fn finished_import(
    marketplace: &MarketplaceClient,
    instance: &InstanceUrl,
    id: &ImportId,
) -> (ProductImport, u32) {
    for polls in 1..=10 {
        let import = marketplace
            .product_import(instance, SHOP_KEY, demo_shop(), id)
            .await
            .unwrap();
        if import.is_finished() {
            return (import, polls);
        }
    }
    panic!("product import {id} still unfinished after 10 polls");
}

#[tokio::test]
async fn a_product_file_is_integrated_its_refused_product_comes_back_and_offers_name_the_rest() {
    let sandbox = start_sandbox().await;
    let instance = sandbox.instance(DEMO_MARKETPLACE);
    let marketplace = client();
    let attributes = marketplace
        .product_attributes(&instance, SHOP_KEY, demo_shop())
        .await
        .unwrap();
    let columns: Vec<String> = attributes.iter().map(|a| a.code.clone()).collect();
    let sku_column = attributes
        .iter()
        .find(|a| a.has_role("SHOP_SKU"))
        .map(|a| a.code.clone())
        .unwrap();
    let tee = [
        ("category", "clothing"),
        ("shop_sku", "TEE-RED"),
        ("title", "Tee"),
        ("brand", "Acme"),
        ("color", "Red"),
        ("size", "M"),
    ];
    let mug = [
        ("category", "home-kitchen"),
        ("shop_sku", "MUG-BLUE"),
        ("title", r#"Mug; blue "large""#),
        ("brand", "Acme"),
        ("description", "Holds tea.\nAnd coffee."),
    ];
    let no_brand = [
        ("category", "clothing"),
        ("shop_sku", "TEE-NOBRAND"),
        ("title", "Tee"),
    ];
    let mut csv = Vec::new();
    write_products_csv(
        &columns,
        [&tee[..], &mug, &no_brand].map(|values| product_row(&columns, values)),
        &mut csv,
    )
    .unwrap();

    let id = marketplace
        .import_products(&instance, SHOP_KEY, demo_shop(), csv)
        .await
        .unwrap();
    let (import, polls) = finished_import(&marketplace, &instance, &id).await;

    assert!(
        polls > 1,
        "the import was already finished on the first poll"
    );
    assert_eq!(import.status, ProductImportStatus::Complete);
    assert!(!import.failed());
    assert!(import.has_error_report);
    let errors = marketplace
        .product_import_errors(&instance, SHOP_KEY, demo_shop(), &id, &sku_column)
        .await
        .unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].sku.as_deref(), Some("TEE-NOBRAND"));
    // Line 5 of the file: the mug's description spans lines 3 and 4.
    assert_eq!(errors[0].line, Some(5));
    assert!(errors[0].message.contains("'brand'"), "{errors:?}");
    let catalog = sandbox.sandbox.marketplace_products(DEMO_MARKETPLACE);
    let imported = catalog
        .iter()
        .find(|product| product["shop_skus"][DEMO_SHOP.to_string()] == "MUG-BLUE")
        .expect("the mug joined the catalog");
    assert_eq!(imported["title"], r#"Mug; blue "large""#);

    let by_shop_sku = |sku: &str| (sku.to_owned(), "SHOP_SKU".to_owned());
    let mut offers = Vec::new();
    write_offers_csv(
        [
            offer("OFFER-TEE", &by_shop_sku("TEE-RED")),
            offer("OFFER-NOBRAND", &by_shop_sku("TEE-NOBRAND")),
        ],
        &mut offers,
    )
    .unwrap();
    let offer_import = marketplace
        .import_offers(&instance, SHOP_KEY, demo_shop(), offers, ImportMode::Normal)
        .await
        .unwrap();
    sandbox.sandbox.settle_imports();
    let settled = marketplace
        .offer_import(&instance, SHOP_KEY, demo_shop(), &offer_import)
        .await
        .unwrap();
    assert_eq!(
        (settled.status, settled.offer_inserted),
        (ImportStatus::Complete, 1)
    );
    let refused = marketplace
        .offer_import_errors(&instance, SHOP_KEY, demo_shop(), &offer_import)
        .await
        .unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].sku.as_deref(), Some("OFFER-NOBRAND"));
    let live = live_offers(&marketplace, &instance).await;
    let [tee_offer] = &live[..] else {
        panic!("{live:?}")
    };
    assert_eq!(tee_offer.shop_sku, "OFFER-TEE");
    assert!(tee_offer.product_sku.is_some(), "{tee_offer:?}");
}

#[tokio::test]
async fn a_second_product_file_within_the_budget_window_is_a_429_with_retry_after() {
    let sandbox = start_sandbox().await;
    sandbox.sandbox.set_budget_scale(1.0);
    let instance = sandbox.instance(DEMO_MARKETPLACE);
    let marketplace = client();
    let file = || b"shop_sku;title\nTEE-RED;Tee\n".to_vec();

    marketplace
        .import_products(&instance, SHOP_KEY, None, file())
        .await
        .unwrap();
    let error = marketplace
        .import_products(&instance, SHOP_KEY, None, file())
        .await
        .unwrap_err();

    assert_spent_budget(&error);
}

// ----- against a fake instance ----------------------------------------------------------------

const P41_PATH: &str = "/mmp/demo/api/products/imports";
const P44_PATH: &str = "/mmp/demo/api/products/imports/2036/error_report";

#[tokio::test]
async fn p41_uploads_the_file_in_the_operator_format_for_the_store() {
    let server =
        CannedServer::routes([(P41_PATH, Canned::json(201, json!({"import_id": 2036})))]).await;
    let instance = InstanceUrl::parse(&format!("{}/mmp/demo", server.base)).unwrap();
    let csv = b"shop_sku;title\nTEE-RED;Tee\n".to_vec();

    let id = client()
        .import_products(
            &instance,
            Credential::ShopApiKey("shop-key"),
            StoreId::new(2001),
            csv.clone(),
        )
        .await
        .unwrap();

    assert_eq!(id.as_str(), "2036");
    let request = server.single_request_to(P41_PATH);
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.header("authorization"), Some("shop-key"));
    assert_eq!(request.query("shop_id").as_deref(), Some("2001"));
    let fields = request.csv_upload("products.csv", &csv).await;
    assert_eq!(
        fields,
        HashMap::from([("operator_format".to_owned(), "true".to_owned())])
    );
}

#[tokio::test]
async fn p44_404_means_no_product_was_refused() {
    let server = CannedServer::routes([(
        P44_PATH,
        Canned::json(404, json!({"message": "No error report", "status": 404})),
    )])
    .await;
    let instance = InstanceUrl::parse(&format!("{}/mmp/demo", server.base)).unwrap();

    let errors = client()
        .product_import_errors(
            &instance,
            Credential::ShopApiKey("shop-key"),
            None,
            &ImportId::from("2036".to_owned()),
            "shop_sku",
        )
        .await
        .unwrap();

    assert!(errors.is_empty());
    assert_eq!(server.single_request_to(P44_PATH).method, Method::GET);
}
