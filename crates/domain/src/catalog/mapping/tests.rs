//! The column mapping: suggestions, value lists, categories, and the lines it makes.

use super::*;
use crate::catalog::hash::product_line_hash;
use crate::catalog::item::Category;
use crate::catalog::offer::tests::shirt;

fn attribute(
    code: &str,
    label: &str,
    required: bool,
    kind: &str,
    roles: &[&str],
) -> MarketplaceAttribute {
    MarketplaceAttribute {
        code: code.into(),
        label: label.into(),
        required,
        kind: kind.into(),
        values: Vec::new(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    }
}

fn list(code: &str, label: &str, values: &[&str]) -> MarketplaceAttribute {
    MarketplaceAttribute {
        values: values.iter().map(|v| (*v).to_owned()).collect(),
        ..attribute(code, label, false, "LIST", &[])
    }
}

/// The sandbox marketplace's PM11 attributes (crates/sandbox, `ATTRIBUTES`).
fn sandbox_attributes() -> Vec<MarketplaceAttribute> {
    vec![
        attribute("category", "Category", true, "TEXT", &["CATEGORY"]),
        attribute("shop_sku", "Seller SKU", true, "TEXT", &["SHOP_SKU"]),
        attribute("title", "Title", true, "TEXT", &["TITLE"]),
        attribute("brand", "Brand", true, "TEXT", &[]),
        attribute("description", "Description", false, "LONG_TEXT", &[]),
        attribute("ean", "EAN", false, "TEXT", &["UNIQUE_IDENTIFIER"]),
        list(
            "color",
            "Color",
            &["Red", "Blue", "Green", "Black", "White", "Yellow"],
        ),
        list("size", "Size", &["S", "M", "L", "XL"]),
        attribute("main_image", "Main image", false, "MEDIA", &["MAIN_IMAGE"]),
    ]
}

fn category(code: &str, label: &str, parent: Option<&str>) -> MarketplaceCategory {
    MarketplaceCategory {
        code: code.into(),
        label: label.into(),
        level: if parent.is_some() { 2 } else { 1 },
        parent_code: parent.map(str::to_owned),
    }
}

/// The sandbox's H11 tree, and a "Home" both as a root and as a leaf.
fn sandbox_categories() -> Vec<MarketplaceCategory> {
    vec![
        category("fashion", "Fashion", None),
        category("clothing", "Clothing", Some("fashion")),
        category("accessories", "Accessories", Some("fashion")),
        category("leisure", "Leisure", None),
        category("toys", "Toys", Some("leisure")),
        category("home", "Home", None),
        category("home-decor", "Home", Some("home")),
        category("uncategorized", "Uncategorized", None),
    ]
}

fn shop_categories() -> Vec<(i64, String, String)> {
    [
        (5, "Shirts", "clothing"),
        (6, "TOYS", "toys-and-games"),
        (7, "Home", "home"),
        (8, "Garden", "garden"),
    ]
    .map(|(id, name, slug)| (id, name.to_owned(), slug.to_owned()))
    .to_vec()
}

fn sandbox_mapping() -> ProductMapping {
    ProductMapping::suggest(
        sandbox_attributes(),
        sandbox_categories(),
        &shop_categories(),
    )
}

fn messages(mapping: &ProductMapping) -> Vec<(String, String)> {
    mapping
        .validate()
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.attribute, e.message))
        .collect()
}

fn mug() -> CatalogItem {
    CatalogItem {
        sku: Sku::parse("MUG-1").unwrap(),
        shop_product_id: 40,
        shop_variation_id: None,
        parent_title: None,
        title: "  Enamel mug ".into(),
        description: "Holds 300 ml.".into(),
        categories: vec![
            Category {
                id: 99,
                name: "Sale".into(),
            },
            Category {
                id: 7,
                name: "Home".into(),
            },
        ],
        images: vec![
            "https://shop.example/mug.jpg".into(),
            "https://shop.example/mug-2.jpg".into(),
        ],
        attributes: vec![
            ("brand".into(), " Camp Co ".into()),
            ("COLOR".into(), "white".into()),
        ],
        meta: Vec::new(),
        global_unique_id: Some("036000291452".into()),
        ..shirt()
    }
}

#[test]
fn the_suggestion_for_the_sandbox_marketplace_is_a_valid_mapping() {
    let mapping = sandbox_mapping();
    let expected: BTreeMap<String, ColumnSource> = [
        ("category", ColumnSource::Category),
        ("shop_sku", ColumnSource::Sku),
        ("title", ColumnSource::Title),
        ("brand", ColumnSource::Brand),
        ("description", ColumnSource::Description),
        ("ean", ColumnSource::Gtin),
        ("color", ColumnSource::Attribute("Color".into())),
        ("size", ColumnSource::Attribute("Size".into())),
        ("main_image", ColumnSource::MainImage),
    ]
    .into_iter()
    .map(|(code, source)| (code.to_owned(), source))
    .collect();
    assert_eq!(mapping.columns, expected);
    assert_eq!(
        mapping.categories,
        BTreeMap::from([
            (5, "clothing".to_owned()),
            (6, "toys".to_owned()),
            (7, "home-decor".to_owned()),
        ]),
        "by slug or by name, a leaf rather than its parent; Garden matches nothing"
    );
    assert_eq!(mapping.default_category, None);
    assert_eq!(mapping.sku_column(), Some("shop_sku"));
    assert_eq!(mapping.validate(), Ok(()));
    assert_eq!(
        columns(&mapping),
        [
            "category",
            "shop_sku",
            "title",
            "brand",
            "description",
            "ean",
            "color",
            "size",
            "main_image"
        ]
    );
}

#[test]
fn without_roles_codes_and_labels_decide() {
    let attributes = vec![
        attribute("sku", "SKU", true, "TEXT", &[]),
        attribute("seller-sku", "Seller SKU", false, "TEXT", &[]),
        attribute("name", "Product name", true, "TEXT", &[]),
        attribute("att_12", "Colour", false, "TEXT", &[]),
        attribute("gtin", "Barcode", false, "TEXT", &[]),
        attribute("weight_kg", "Weight (kg)", false, "TEXT", &[]),
    ];
    let mapping = ProductMapping::suggest(attributes, Vec::new(), &[]);
    let source = |code: &str| mapping.columns[code].clone();
    assert_eq!(source("sku"), ColumnSource::Sku);
    assert_eq!(
        source("seller-sku"),
        ColumnSource::Nothing,
        "one SKU column"
    );
    assert_eq!(source("name"), ColumnSource::Title);
    assert_eq!(source("att_12"), ColumnSource::Attribute("Colour".into()));
    assert_eq!(source("gtin"), ColumnSource::Gtin);
    assert_eq!(source("weight_kg"), ColumnSource::Nothing);
    assert_eq!(mapping.validate(), Ok(()));
}

#[test]
fn validation_names_every_problem_in_the_sellers_words() {
    let mut mapping = sandbox_mapping();
    mapping
        .columns
        .insert("brand".into(), ColumnSource::Nothing);
    mapping.columns.insert("title".into(), ColumnSource::Sku);
    mapping
        .columns
        .insert("color".into(), ColumnSource::Fixed("Purple".into()));
    mapping
        .columns
        .insert("size".into(), ColumnSource::Meta(" ".into()));
    mapping
        .columns
        .insert("weight".into(), ColumnSource::Fixed("1".into()));
    mapping.categories.insert(8, "garden".into());
    mapping.default_category = Some("gone".into());
    assert_eq!(
        messages(&mapping),
        [
            (
                "title",
                "Only one column can hold your SKU, and “Seller SKU” does already."
            ),
            (
                "brand",
                "The marketplace requires “Brand”: choose where it is read."
            ),
            (
                "color",
                "“Purple” is not one of the marketplace's values for “Color”: choose one of \
                 Red, Blue, Green, Black, White, ….",
            ),
            (
                "size",
                "Give the name of the attribute or custom field to read."
            ),
            (
                "weight",
                "The marketplace has no attribute “weight” (any more): remove it from the \
                 mapping.",
            ),
            (
                "categories",
                "Your category 8 is matched to “garden”, which is not one of the \
                 marketplace's categories: match it again.",
            ),
            (
                "categories",
                "The default category “gone” is not one of the marketplace's categories: \
                 choose another.",
            ),
        ]
        .map(|(a, m)| (a.to_owned(), m.to_owned()))
    );
}

#[test]
fn a_mapping_needs_a_sku_column() {
    let mut mapping = sandbox_mapping();
    mapping
        .columns
        .insert("shop_sku".into(), ColumnSource::Title);
    assert_eq!(mapping.sku_column(), None);
    assert_eq!(
        messages(&mapping),
        [(
            "shop_sku".to_owned(),
            "Choose the column that holds your SKU: the marketplace knows your products by it."
                .to_owned()
        )]
    );
    let without_roles = ProductMapping {
        attributes: vec![attribute("title", "Title", false, "TEXT", &[])],
        ..ProductMapping::default()
    };
    assert_eq!(messages(&without_roles)[0].0, "columns");
}

#[test]
fn a_fixed_list_value_matches_without_regard_to_case() {
    let mut mapping = sandbox_mapping();
    mapping
        .columns
        .insert("color".into(), ColumnSource::Fixed("black".into()));
    assert_eq!(mapping.validate(), Ok(()));
    let line = product_line_for(&mug(), &ProductSettings::default(), &mapping).unwrap();
    assert_eq!(line.values[6], "Black");
}

#[test]
fn a_simple_item_becomes_its_line() {
    let line = product_line_for(&mug(), &ProductSettings::default(), &sandbox_mapping()).unwrap();
    assert_eq!(line.sku.as_str(), "MUG-1");
    assert_eq!(line.columns, columns(&sandbox_mapping()));
    assert_eq!(
        line.values,
        [
            "home-decor",
            "MUG-1",
            "Enamel mug",
            "Camp Co",
            "Holds 300 ml.",
            "036000291452",
            "White",
            "",
            "https://shop.example/mug.jpg",
        ],
        "the first matched category, trimmed values, the list's own spelling"
    );
}

#[test]
fn a_variation_becomes_its_line() {
    let line = product_line_for(&shirt(), &ProductSettings::default(), &sandbox_mapping()).unwrap();
    assert_eq!(
        line.values,
        [
            "clothing",
            "TS-RED-M",
            "T-shirt – Color: Red, Size: M",
            "Acme",
            "Soft cotton tee.",
            "4006381333931",
            "Red",
            "M",
            "https://shop.example/red.jpg",
        ]
    );
}

#[test]
fn an_item_the_marketplace_would_refuse_is_a_problem_the_seller_can_fix() {
    let settings = ProductSettings::default();
    let mapping = sandbox_mapping();

    let mut no_brand = shirt();
    no_brand.attributes.retain(|(name, _)| name != "Brand");
    let problem = product_line_for(&no_brand, &settings, &mapping).unwrap_err();
    assert_eq!(
        problem.to_string(),
        "The marketplace requires “Brand”, and this product has none in the attribute \
         “Brand”: fill it in WooCommerce, or read “Brand” from elsewhere in the channel's \
         column mapping."
    );

    let mut purple = shirt();
    purple.attributes[0].1 = "Purple".into();
    let problem = product_line_for(&purple, &settings, &mapping).unwrap_err();
    assert_eq!(
        problem.to_string(),
        "Its “Color” is “Purple”, which is not one of the marketplace's values (Red, Blue, \
         Green, Black, White, …): change it in WooCommerce, or read “Color” from elsewhere \
         in the channel's column mapping."
    );

    let mut garden = shirt();
    garden.categories = vec![Category {
        id: 8,
        name: "Garden".into(),
    }];
    let problem = product_line_for(&garden, &settings, &mapping).unwrap_err();
    assert_eq!(
        problem.to_string(),
        "None of its categories (“Garden”) is matched to a marketplace category, and there \
         is no default category: match one of them to a marketplace category in the \
         channel's column mapping, or choose a default category there."
    );
    let with_default = ProductMapping {
        default_category: Some("uncategorized".into()),
        ..mapping.clone()
    };
    let line = product_line_for(&garden, &settings, &with_default).unwrap();
    assert_eq!(line.values[0], "uncategorized");
    garden.categories.clear();
    assert!(
        product_line_for(&garden, &settings, &mapping)
            .unwrap_err()
            .to_string()
            .starts_with("It is in no category")
    );

    let mut bad_gtin = shirt();
    bad_gtin.meta = vec![("_gtin".into(), "4006381333932".into())];
    let problem = product_line_for(&bad_gtin, &settings, &mapping).unwrap_err();
    assert_eq!(
        problem,
        ProductProblem::InvalidGtin(OfferProblem::InvalidGtin {
            value: "4006381333932".into(),
            reason: "the last digit of a GTIN checks the others, and for 4006381333932 it \
                     should be 1: look for a typing mistake"
                .into()
        })
    );
    assert!(problem.to_string().starts_with("Its GTIN “4006381333932”"));

    let mut unmapped = mapping.clone();
    unmapped.columns.remove("title");
    assert_eq!(
        product_line_for(&shirt(), &settings, &unmapped),
        Err(ProductProblem::NotMapped {
            attribute: "Title".into()
        })
    );
}

#[test]
fn an_optional_column_without_a_value_stays_empty() {
    let mut item = shirt();
    item.meta.clear();
    item.global_unique_id = None;
    item.images.clear();
    let line = product_line_for(&item, &ProductSettings::default(), &sandbox_mapping()).unwrap();
    assert_eq!((line.values[5].as_str(), line.values[8].as_str()), ("", ""));
}

#[test]
fn the_line_hash_follows_the_values_and_the_columns() {
    let settings = ProductSettings::default();
    let mapping = sandbox_mapping();
    let line = product_line_for(&shirt(), &settings, &mapping).unwrap();
    let again = product_line_for(&shirt(), &settings, &mapping).unwrap();
    assert_eq!(product_line_hash(&line), product_line_hash(&again));
    // Pinned: if this changes, every product of every seller is re-sent once.
    assert_eq!(
        product_line_hash(&line).to_hex(),
        "79bccf98201991f79086a7c81ec34781"
    );

    let mut item = shirt();
    item.title.push('!');
    let retitled = product_line_for(&item, &settings, &mapping).unwrap();
    assert_ne!(product_line_hash(&retitled), product_line_hash(&line));

    let mut renamed = mapping.clone();
    renamed.attributes[6].code = "colour".into();
    renamed.columns.remove("color");
    renamed
        .columns
        .insert("colour".into(), ColumnSource::Attribute("Color".into()));
    let recoded = product_line_for(&shirt(), &settings, &renamed).unwrap();
    assert_eq!(recoded.values, line.values);
    assert_ne!(product_line_hash(&recoded), product_line_hash(&line));

    let mut moved = line.clone();
    moved.values[3] = "Acm".into();
    moved.values[4] = "eSoft cotton tee.".into();
    assert_ne!(product_line_hash(&moved), product_line_hash(&line));
}

#[test]
fn a_mapping_survives_json_and_older_json_still_loads() {
    let mut mapping = sandbox_mapping();
    mapping.default_category = Some("uncategorized".into());
    mapping
        .columns
        .insert("size".into(), ColumnSource::Fixed("M".into()));
    let json = serde_json::to_string(&mapping).unwrap();
    assert_eq!(
        serde_json::from_str::<ProductMapping>(&json).unwrap(),
        mapping
    );
    assert_eq!(
        serde_json::to_value(ColumnSource::Attribute("Color".into())).unwrap(),
        serde_json::json!({"attribute": "Color"})
    );
    assert_eq!(
        serde_json::to_value(ColumnSource::MainImage).unwrap(),
        serde_json::json!("main_image")
    );
    assert_eq!(
        serde_json::from_str::<ProductMapping>("{}").unwrap(),
        ProductMapping::default()
    );
    let older: ProductMapping = serde_json::from_str(
        r#"{"attributes": [{"code": "title", "label": "Title"}], "columns": {"title": "title"}, "categories": {"5": "clothing"}}"#,
    )
    .unwrap();
    assert_eq!(older.attributes[0].kind, "");
    assert_eq!(older.columns["title"], ColumnSource::Title);
    assert_eq!(older.categories[&5], "clothing");
}
