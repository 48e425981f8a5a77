//! F3: the Product Settings page — every bad value named next to its field and nothing saved
//! until all are right, the shop's categories and tags offered by name, and the GTIN and brand
//! read from wherever the seller keeps them.

use domain::WorkspaceId;
use domain::catalog::{FieldSource, ProductSettings, Selection};
use scraper::{Html, Selector};
use test_support::{Page, TestApp, Visitor};

async fn saved(app: &TestApp, ws: WorkspaceId) -> ProductSettings {
    app.storage()
        .product_settings(ws)
        .await
        .unwrap()
        .expect("settings saved")
}

/// The error shown next to the control with this id, if the control points to it.
fn error_next_to(page: &Page, control_id: &str) -> Option<String> {
    let doc = Html::parse_document(&page.html);
    let control = Selector::parse(&format!("[id=\"{control_id}\"]")).unwrap();
    let control = doc.select(&control).next()?;
    let described_by = control.value().attr("aria-describedby")?;
    assert_eq!(control.value().attr("aria-invalid"), Some("true"));
    let error = Selector::parse(&format!("[id=\"{described_by}\"]")).unwrap();
    let text = doc.select(&error).next()?.text().collect::<String>();
    Some(text)
}

/// The value a ticked-by-label box sends, e.g. a category's id.
fn box_value(page: &Page, label: &str, name: &str) -> String {
    let form = page.form("Save settings", &[(label, "on")]);
    form.fields
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no {name} box labelled {label:?}"))
}

/// Submits the settings with these fields and expects them saved.
async fn save(v: &Visitor, page: &Page, fields: &[(&str, &str)]) -> Page {
    let page = v.submit(&page.form("Save settings", fields)).await;
    page.expect_text("Settings saved");
    page
}

async fn onboarded(app: &TestApp) -> (Visitor, WorkspaceId) {
    let v = Visitor::new();
    app.onboarded(&v, "shop@example.com").await;
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    (v, ws)
}

#[tokio::test]
async fn product_settings_explain_every_bad_value_and_save_nothing_until_all_are_right() {
    let app = TestApp::spawn().await;
    let (v, ws) = onboarded(&app).await;
    let page = v.get(&app.url("/settings/products")).await;
    let page = v
        .submit(&page.form(
            "Save settings",
            &[
                ("Markup (%)", "ten"),
                ("Stock buffer", "-3"),
                ("Currency", "EURO"),
                ("Offer condition code", ""),
            ],
        ))
        .await;
    page.expect_text("Nothing was saved");
    page.expect_text("Markup (%): enter a number");
    page.expect_text("The stock buffer can't be negative");
    page.expect_text("Currency: use the three-letter code");
    page.expect_text("Choose the condition of your offers");
    // Each message also stands next to its own field.
    let next_to = |id: &str| error_next_to(&page, id).unwrap_or_default();
    assert!(next_to("markup_percent").contains("enter a number"));
    assert!(next_to("buffer").contains("can't be negative"));
    assert!(next_to("currency").contains("three-letter code"));
    assert!(next_to("offer_state").contains("condition of your offers"));
    assert_eq!(
        error_next_to(&page, "maximum"),
        None,
        "a right field has no error"
    );
    // What the seller typed is still there.
    let kept = page.form("Save settings", &[]);
    assert!(
        kept.fields
            .contains(&("markup_percent".into(), "ten".into()))
    );
    assert!(
        app.storage().product_settings(ws).await.unwrap().is_none(),
        "nothing saved"
    );

    save(
        &v,
        &page,
        &[
            ("Markup (%)", "12.5"),
            ("Stock buffer", "2"),
            ("Currency", "EUR"),
            ("Offer condition code", "11"),
        ],
    )
    .await;
    let saved = saved(&app, ws).await;
    assert_eq!(saved.price.markup_percent_bp, 1250);
    assert_eq!(saved.stock.buffer, 2);
}

#[tokio::test]
async fn the_shops_categories_and_tags_are_chosen_by_name() {
    let app = TestApp::spawn().await;
    let (v, ws) = onboarded(&app).await;
    let page = v.get(&app.url("/settings/products")).await;
    page.expect_text("Home & Kitchen");
    page.expect_text("Bestseller");
    let kitchen = box_value(&page, "Home & Kitchen", "category");
    let outdoor = box_value(&page, "Outdoor", "category");

    let fields = [
        ("Products in these categories", "on"),
        ("Home & Kitchen", "on"),
        ("Outdoor", "on"),
    ];
    let page = save(&v, &page, &fields).await;
    let ids: Vec<i64> = [&kitchen, &outdoor].map(|id| id.parse().unwrap()).into();
    assert_eq!(saved(&app, ws).await.selection, Selection::Categories(ids));
    // The page shows the same boxes ticked again.
    let ticked = page.form("Save settings", &[]);
    assert!(
        ticked
            .fields
            .contains(&("category".into(), kitchen.clone()))
    );
    assert!(ticked.fields.contains(&("category".into(), outdoor)));

    let summer = box_value(&page, "Summer", "tag");
    let fields = [("Products with these tags", "on"), ("Summer", "on")];
    save(&v, &page, &fields).await;
    let by_tag = Selection::Tags(vec![summer.parse().unwrap()]);
    assert_eq!(saved(&app, ws).await.selection, by_tag);

    // Choosing "by tag" with no tag ticked is refused, and nothing changes.
    let page = v.get(&app.url("/settings/products")).await;
    let form = page
        .form("Save settings", &[("Products with these tags", "on")])
        .without("tag");
    let page = v.submit(&form).await;
    page.expect_text("Nothing was saved");
    page.expect_text("Choose at least one tag");
    assert_eq!(saved(&app, ws).await.selection, by_tag, "nothing changed");
}

#[tokio::test]
async fn when_the_shop_cannot_be_read_categories_are_typed_as_ids() {
    let app = TestApp::spawn().await;
    let (v, ws) = onboarded(&app).await;
    let page = v.get(&app.url("/settings/products")).await;
    let kitchen = box_value(&page, "Home & Kitchen", "category");

    app.sandbox.woo_set_down("demo-shop", true);
    let page = v.get(&app.url("/settings/products")).await;
    page.expect_text("could not be read just now");
    assert!(!page.contains("Home & Kitchen"));
    let page = v
        .submit(&page.form(
            "Save settings",
            &[
                ("Products in these categories", "on"),
                ("Category IDs", &format!("{kitchen}, x")),
            ],
        ))
        .await;
    page.expect_text("“x” is not an ID");
    assert!(error_next_to(&page, "categories").is_some());
    save(&v, &page, &[("Category IDs", &kitchen)]).await;
    assert_eq!(
        saved(&app, ws).await.selection,
        Selection::Categories(vec![kitchen.parse().unwrap()])
    );

    // Once the shop answers again, the saved category is a ticked box with its name.
    app.sandbox.woo_set_down("demo-shop", false);
    let page = v.get(&app.url("/settings/products")).await;
    assert_eq!(box_value(&page, "Home & Kitchen", "category"), kitchen);
    let ticked = page.form("Save settings", &[]);
    assert!(ticked.fields.contains(&("category".into(), kitchen)));
}

#[tokio::test]
async fn the_gtin_and_the_brand_are_read_from_an_attribute_or_a_custom_field() {
    let app = TestApp::spawn().await;
    let (v, ws) = onboarded(&app).await;
    let page = v.get(&app.url("/settings/products")).await;
    let fields = [
        ("GTIN comes from", "A product attribute"),
        ("GTIN custom field or attribute name", "EAN"),
        ("Brand comes from", "A custom field"),
        ("Brand attribute or custom field name", "_brand"),
    ];
    let page = save(&v, &page, &fields).await;
    let settings = saved(&app, ws).await;
    let ean = FieldSource::Attribute("EAN".into());
    assert_eq!(settings.gtin_sources, [ean, FieldSource::GlobalUniqueId]);
    assert_eq!(settings.brand_source, FieldSource::Meta("_brand".into()));

    // The store's own field alone needs no name; a custom field without its name is refused.
    let fields = [
        (
            "GTIN comes from",
            "The store's GTIN field (WooCommerce: “GTIN, UPC, EAN or ISBN”; BigCommerce: “GTIN”)",
        ),
        ("Brand attribute or custom field name", " "),
    ];
    let page = v.submit(&page.form("Save settings", &fields)).await;
    page.expect_text("Nothing was saved");
    let brand_error = error_next_to(&page, "brand").unwrap_or_default();
    assert!(brand_error.contains("Give the name"), "{brand_error}");
    assert_eq!(error_next_to(&page, "gtin"), None);
    let name = [("Brand attribute or custom field name", "Brand")];
    save(&v, &page, &name).await;
    let settings = saved(&app, ws).await;
    assert_eq!(settings.gtin_sources, [FieldSource::GlobalUniqueId]);
    assert_eq!(settings.brand_source, FieldSource::Meta("Brand".into()));
}
