//! Product creation: the column mapping a marketplace channel needs before products can be
//! created there by SKU (P41). A saved mapping turns it on; Stop creating products turns it off.

use domain::catalog::{ColumnSource, ProductMapping};
use reqwest::StatusCode;
use test_support::visitor::{FormSubmission, Page};
use test_support::{TestApp, Visitor};

use crate::catalog::{Setup, launched};

fn page_url(app: &TestApp, channel: domain::ChannelId) -> String {
    app.url(&format!("/channels/{channel}/product-creation"))
}

/// The Product creation page, opened from the marketplace channel's settings as a seller would.
async fn open(app: &TestApp, s: &Setup) -> Page {
    let settings =
        s.v.get(&app.url(&format!("/channels/{}", s.marketplace)))
            .await;
    let link = settings
        .link("Product creation")
        .expect("a Product creation link on the channel's settings");
    let page = s.v.get(link.as_str()).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page
}

async fn saved(app: &TestApp, s: &Setup) -> Option<ProductMapping> {
    app.storage()
        .channel_mapping(s.ws, s.marketplace)
        .await
        .unwrap()
}

/// The value the form would send for `name`.
fn field<'a>(form: &'a FormSubmission, name: &str) -> &'a str {
    form.fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no field {name} in {:?}", form.fields))
}

#[tokio::test]
async fn the_page_suggests_a_mapping_and_saving_it_turns_product_creation_on() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let account = s.v.get(&app.url("/account")).await;
    assert_eq!(
        account.links_containing("/product-creation"),
        [url::Url::parse(&page_url(&app, s.marketplace)).unwrap()],
        "the Account page links the marketplace channel's page, not Connect's"
    );

    let page = open(&app, &s).await;
    for text in [
        "Product creation is on for Demo Marketplace while a mapping is saved",
        "Brand",
        "Category",
        "Seller SKU",
        "Required",
        "Values: Red, Blue",
        "Off No mapping is saved",
    ] {
        page.expect_text(text);
    }
    assert!(!page.contains("Stop creating products"));
    let suggested = page.form("Save mapping", &[]);
    assert_eq!(field(&suggested, "source.shop_sku"), "sku");
    assert_eq!(field(&suggested, "source.category"), "category");
    assert_eq!(field(&suggested, "source.brand"), "brand");
    assert_eq!(field(&suggested, "source.color"), "attribute");
    assert_eq!(field(&suggested, "value.color"), "Color");

    let jobs_before = app.storage().queued_jobs().await;
    let page = s.v.submit(&suggested).await;
    page.expect_text("Mapping saved");
    page.expect_text("Stop creating products");
    page.expect_text("Waiting");
    assert!(
        app.storage().queued_jobs().await > jobs_before,
        "an export of the channel is queued"
    );
    let mapping = saved(&app, &s).await.expect("the mapping is saved");
    assert_eq!(mapping.validate(), Ok(()));
    assert_eq!(mapping.sku_column(), Some("shop_sku"));
    assert_eq!(mapping.columns["brand"], ColumnSource::Brand);
    assert!(
        mapping.categories.values().any(|code| code == "clothing"),
        "the shop's Clothing is the marketplace's: {:?}",
        mapping.categories
    );
    assert!(
        mapping
            .attributes
            .iter()
            .any(|a| a.code == "brand" && a.required),
        "the marketplace's attributes are stored with the mapping"
    );

    // Shown again, the page has the saved mapping.
    let again = s.v.get(&page_url(&app, s.marketplace)).await;
    assert_eq!(
        field(&again.form("Save mapping", &[]), "source.brand"),
        "brand"
    );
}

#[tokio::test]
async fn a_required_attribute_read_from_nowhere_is_named_and_nothing_is_saved() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let page = open(&app, &s).await;
    let page =
        s.v.submit(&page.form(
            "Save mapping",
            &[
                ("Brand", "Nothing"),
                ("Default category", "Fashion › Clothing"),
            ],
        ))
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.expect_text("Nothing was saved: fix the problem shown below.");
    page.expect_text("The marketplace requires “Brand”: choose where it is read.");
    assert_eq!(saved(&app, &s).await, None);

    // The form keeps what the seller chose.
    let form = page.form("Save mapping", &[]);
    assert_eq!(field(&form, "source.brand"), "nothing");
    assert_eq!(field(&form, "default_category"), "clothing");
    let page =
        s.v.submit(&page.form("Save mapping", &[("Brand", "Fixed value…")]))
            .await;
    page.expect_text("The marketplace requires “Brand”");
    let page =
        s.v.submit(&page.form(
            "Save mapping",
            &[
                ("Brand", "Fixed value…"),
                ("Name, key or value for Brand", "Acme"),
            ],
        ))
        .await;
    page.expect_text("Mapping saved");
    let mapping = saved(&app, &s).await.unwrap();
    assert_eq!(mapping.columns["brand"], ColumnSource::Fixed("Acme".into()));
    assert_eq!(mapping.default_category.as_deref(), Some("clothing"));
}

#[tokio::test]
async fn stop_creating_products_deletes_the_mapping() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let page = open(&app, &s).await;
    let page = s.v.submit(&page.form("Save mapping", &[])).await;
    assert!(saved(&app, &s).await.is_some());

    let page = s.v.submit(&page.form("Stop creating products", &[])).await;
    page.expect_text("Product creation is off");
    page.expect_text("No mapping is saved");
    assert!(!page.contains("Stop creating products"));
    assert_eq!(saved(&app, &s).await, None);
}

#[tokio::test]
async fn only_the_workspaces_own_marketplace_channels_have_the_page() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let page = open(&app, &s).await;
    s.v.submit(&page.form("Save mapping", &[]))
        .await
        .expect_text("Mapping saved");

    let connect = s.v.get_raw(&page_url(&app, s.connect)).await;
    assert_eq!(connect.status(), StatusCode::NOT_FOUND, "not for Connect");

    let other = Visitor::new();
    let dashboard = app.sign_up(&other, "other@example.com").await;
    let seen = other.get(&page_url(&app, s.marketplace)).await;
    assert_eq!(seen.status, StatusCode::NOT_FOUND);
    seen.expect_text("Page not found");
    // The other seller's own form, sent to this channel's Stop.
    let mut stop = dashboard.form("Sign out", &[]);
    stop.url = url::Url::parse(&format!("{}/stop", page_url(&app, s.marketplace))).unwrap();
    assert_eq!(other.send_raw(&stop).await.status(), StatusCode::NOT_FOUND);
    assert!(saved(&app, &s).await.is_some(), "the mapping is untouched");
}

#[tokio::test]
async fn a_malformed_form_is_refused_with_a_page_that_says_so() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let page = open(&app, &s).await;
    let form = page
        .form("Save mapping", &[])
        .with("source.brand", "the moon");
    let refused = s.v.submit(&form).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    refused.expect_text("The mapping form could not be read");
    assert_eq!(saved(&app, &s).await, None);
}

#[tokio::test]
async fn opening_the_page_and_saving_reads_the_marketplace_once_within_its_hourly_budget() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    app.sandbox.set_budget_scale(1.0);
    let page = open(&app, &s).await;
    s.v.submit(&page.form("Save mapping", &[]))
        .await
        .expect_text("Mapping saved");
    for call in ["mmp.h11", "mmp.pm11", "mmp.vl11"] {
        assert_eq!(app.sandbox.call_count(call), 1, "{call}");
    }
}

#[tokio::test]
async fn a_channel_mirakl_refuses_shows_what_to_do_instead_of_failing() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    app.sign_up(&v, "shop@example.com").await;
    let settings = app.add_channel(&v, "Demo Marketplace").await;
    let page = v
        .get(settings.link("Product creation").unwrap().as_str())
        .await;
    assert_eq!(page.status, StatusCode::OK);
    page.expect_text("Demo Marketplace is not connected yet: connect it to Mirakl");
    assert!(!page.contains("Save mapping"));

    let settings = app
        .connect_marketplace(&v, "Demo Marketplace", "Demo Store (2001)")
        .await;
    app.enter_store_id(&v, &settings, "2001")
        .await
        .expect_text("Store verified");
    app.sandbox.revoke_all_grants("marketbridge-demo");
    let page = v
        .get(settings.link("Product creation").unwrap().as_str())
        .await;
    assert_eq!(page.status, StatusCode::OK);
    page.expect_text(
        "Demo Marketplace refused this channel's Mirakl token: authorize Marketbridge again on \
         the channel's settings page.",
    );
    assert!(page.link("Channel settings").is_some());
}
