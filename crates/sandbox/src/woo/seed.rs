//! New WooCommerce stores and the demo catalog: the same products every run (a fixed-seed
//! generator, no clock), simple and variable, some with a GTIN (`_gtin` meta and
//! `global_unique_id`) and a brand attribute, with images, categories, tags (the demo store's)
//! and Color/Size options.

use time::OffsetDateTime;
use time::macros::datetime;

use crate::entropy::Sequence;
use crate::values::gtin::ean13;
use crate::values::money::Money;
use crate::woo::GLOBAL_ATTRIBUTES;
use crate::woo::model::{
    Attribute, Dimensions, Image, Permissions, Product, ProductType, StockStatus, Taxonomy,
    WooStore, slugify,
};

pub const DEMO_STORE: &str = "demo-shop";
pub const DEMO_ADMIN_EMAIL: &str = "shop-admin@example.com";
pub const DEMO_ADMIN_PASSWORD: &str = "sandbox-shop-pass";
pub const DEMO_CONSUMER_KEY: &str = "ck_sandbox_demo";
pub const DEMO_CONSUMER_SECRET: &str = "cs_sandbox_demo";
pub const DEMO_SIMPLE_PRODUCTS: usize = 240;
pub const DEMO_VARIABLE_PRODUCTS: usize = 60;

/// The demo store, its key and catalog.
pub fn demo(public_url: &url::Url) -> WooStore {
    let mut store = WooStore::new(
        DEMO_STORE,
        "Demo Shop",
        DEMO_ADMIN_EMAIL,
        DEMO_ADMIN_PASSWORD,
    );
    store.add_key(
        "Marketbridge demo - API (2024-01-01 00:00:00)",
        Permissions::ReadWrite,
        DEMO_CONSUMER_KEY.to_owned(),
        DEMO_CONSUMER_SECRET.to_owned(),
    );
    add_categories(&mut store);
    for name in DEMO_TAGS {
        store.add_term(Taxonomy::Tag, name);
    }
    catalog(
        &mut store,
        public_url,
        DEMO_SIMPLE_PRODUCTS,
        DEMO_VARIABLE_PRODUCTS,
    );
    store
}

/// An empty store with WordPress's default category.
pub fn empty(code: &str, name: &str, admin_email: &str, admin_password: &str) -> WooStore {
    let mut store = WooStore::new(code, name, admin_email, admin_password);
    add_categories(&mut store);
    store
}

const CATEGORIES: [&str; 7] = [
    "Uncategorized",
    "Clothing",
    "Accessories",
    "Home & Kitchen",
    "Electronics",
    "Outdoor",
    "Toys",
];

fn add_categories(store: &mut WooStore) {
    for name in CATEGORIES {
        store.add_term(Taxonomy::Category, name);
    }
}

/// The demo store's tags; a new store has none, as a new WordPress site.
const DEMO_TAGS: [&str; 4] = ["Bestseller", "Summer", "New arrival", "Gift idea"];

const ADJECTIVES: [&str; 12] = [
    "Classic", "Urban", "Organic", "Vintage", "Compact", "Premium", "Everyday", "Coastal",
    "Nordic", "Bright", "Rugged", "Soft",
];
const NOUNS: [&str; 12] = [
    "T-Shirt",
    "Backpack",
    "Mug",
    "Lamp",
    "Headphones",
    "Tent",
    "Puzzle",
    "Scarf",
    "Bottle",
    "Speaker",
    "Blanket",
    "Wallet",
];
const BRANDS: [&str; 6] = [
    "Acme",
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
];
pub const COLORS: [&str; 6] = ["Red", "Blue", "Green", "Black", "White", "Yellow"];
pub const SIZES: [&str; 4] = ["S", "M", "L", "XL"];

fn price(sequence: &mut Sequence) -> Money {
    let euros = 5 + sequence.below(195) as i64;
    let cents = [0, 50, 90, 95, 99][sequence.below(5) as usize];
    Money(euros * 100 + cents)
}

/// Adds `simple` simple products and `variable` variable ones (2–6 variations each) to a
/// store, the same ones every time for the same counts.
pub fn catalog(store: &mut WooStore, public_url: &url::Url, simple: usize, variable: usize) {
    let mut sequence = Sequence::new(0x5EED_DE40);
    let base: OffsetDateTime = datetime!(2024-01-01 08:00:00 UTC);
    let images_url = format!("{}/images", store.url(public_url));
    let category_ids: Vec<i64> = store.categories.keys().copied().skip(1).collect();
    let tag_ids: Vec<i64> = store.tags.keys().copied().collect();
    let mut image_number = 0;
    let mut image = |product_name: &str| {
        image_number += 1;
        Image {
            id: 100_000 + image_number,
            src: format!("{images_url}/{image_number}.png"),
            name: format!("{}-{image_number}", slugify(product_name)),
            alt: product_name.to_owned(),
        }
    };
    for index in 0..simple + variable {
        let is_variable = index >= simple;
        let created = base + time::Duration::hours(index as i64);
        let modified = created + time::Duration::days(sequence.below(30) as i64);
        let name = format!(
            "{} {} {}",
            sequence.pick(&ADJECTIVES),
            sequence.pick(&NOUNS),
            index + 1
        );
        let id = store.next_post_id();
        let kind = if is_variable {
            ProductType::Variable
        } else {
            ProductType::Simple
        };
        let mut product = Product::new(id, kind, &name, created);
        product.modified = modified;
        product.sku = if is_variable {
            format!("DEMO-V{:03}", index - simple + 1)
        } else {
            format!("DEMO-{:04}", index + 1)
        };
        product.description = format!("<p>{name}: a sandbox product for trying Marketbridge.</p>");
        product.short_description = format!("<p>{name}.</p>");
        if !category_ids.is_empty() {
            product.categories = vec![category_ids[index % category_ids.len()]];
        }
        // One product in three has a tag; one in twelve a second one.
        if !tag_ids.is_empty() && index % 3 == 0 {
            let first = index / 3 % tag_ids.len();
            product.tags = vec![tag_ids[first]];
            if index % 12 == 0 && tag_ids.len() > 1 {
                product.tags.push(tag_ids[(first + 1) % tag_ids.len()]);
            }
        }
        product.images = (0..1 + index % 2).map(|_| image(&name)).collect();
        product.weight = format!("{}.{}", sequence.below(5), sequence.below(10));
        product.dimensions = Dimensions {
            length: (10 + sequence.below(40)).to_string(),
            width: (5 + sequence.below(30)).to_string(),
            height: (1 + sequence.below(20)).to_string(),
        };
        if index % 2 == 0 {
            product.attributes.push(Attribute {
                id: 0,
                name: "Brand".into(),
                position: 0,
                visible: true,
                variation: false,
                options: vec![sequence.pick(&BRANDS).to_owned()],
            });
        }
        let regular = price(&mut sequence);
        if is_variable {
            let count = 2 + index % 5;
            let colors: Vec<&str> = COLORS
                .iter()
                .copied()
                .cycle()
                .skip(index % 6)
                .take(count.div_ceil(2))
                .collect();
            let sizes: Vec<&str> = SIZES.iter().copied().take(2.min(count)).collect();
            let combos: Vec<(&str, &str)> = colors
                .iter()
                .flat_map(|color| sizes.iter().map(move |size| (*color, *size)))
                .take(count)
                .collect();
            let mut used_colors: Vec<String> = Vec::new();
            let mut used_sizes: Vec<String> = Vec::new();
            for (color, size) in &combos {
                if !used_colors.iter().any(|c| c == color) {
                    used_colors.push((*color).to_owned());
                }
                if !used_sizes.iter().any(|s| s == size) {
                    used_sizes.push((*size).to_owned());
                }
            }
            let position = product.attributes.len() as i64;
            for (offset, ((attribute_id, attribute_name), options)) in GLOBAL_ATTRIBUTES
                .iter()
                .zip([used_colors, used_sizes])
                .enumerate()
            {
                product.attributes.push(Attribute {
                    id: *attribute_id,
                    name: (*attribute_name).to_owned(),
                    position: position + offset as i64,
                    visible: true,
                    variation: true,
                    options,
                });
            }
            let parent_sku = product.sku.clone();
            store.insert_product(id, product);
            for (number, (color, size)) in combos.into_iter().enumerate() {
                let variation_id = store.next_post_id();
                let variation_name = format!("{name} - {color}, {size}");
                let mut variation = Product::new(
                    variation_id,
                    ProductType::Variation,
                    &variation_name,
                    created,
                );
                variation.parent_id = id;
                variation.modified = modified;
                variation.slug = slugify(&variation_name);
                variation.sku = format!("{parent_sku}-{}-{size}", color.to_uppercase());
                variation.regular_price = Some(Money(regular.0 + 200 * number as i64 / 2));
                variation.manage_stock = true;
                variation.stock_quantity = Some(if (index + number) % 13 == 0 {
                    0
                } else {
                    sequence.below(201) as i64
                });
                variation.sync_stock_status();
                variation.images = vec![image(&variation_name)];
                variation.attributes = vec![
                    Attribute {
                        id: 1,
                        name: "Color".into(),
                        position: 0,
                        visible: true,
                        variation: true,
                        options: vec![color.to_owned()],
                    },
                    Attribute {
                        id: 2,
                        name: "Size".into(),
                        position: 1,
                        visible: true,
                        variation: true,
                        options: vec![size.to_owned()],
                    },
                ];
                if index % 2 == 0 {
                    let gtin =
                        ean13(4_006_381_000_000 + variation_id as u64 * 7 + sequence.below(7));
                    variation.global_unique_id = gtin.clone();
                    variation.set_meta(
                        &mut store.next_meta_id,
                        None,
                        "_gtin",
                        serde_json::json!(gtin),
                    );
                }
                store.insert_product(variation_id, variation);
            }
            continue;
        }
        product.regular_price = Some(regular);
        if index % 7 == 3 {
            product.sale_price = Some(Money(regular.0 * 8 / 10));
        }
        if index % 10 == 9 {
            product.manage_stock = false;
            product.stock_status = if index % 30 == 29 {
                StockStatus::OutOfStock
            } else {
                StockStatus::InStock
            };
        } else {
            product.manage_stock = true;
            product.stock_quantity = Some(if index % 25 == 0 {
                0
            } else {
                sequence.below(201) as i64
            });
            product.sync_stock_status();
        }
        if index % 3 != 2 {
            let gtin = ean13(5_901_234_000_000 + id as u64 * 11 + sequence.below(11));
            product.global_unique_id = gtin.clone();
            product.set_meta(
                &mut store.next_meta_id,
                None,
                "_gtin",
                serde_json::json!(gtin),
            );
        }
        store.insert_product(id, product);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_catalog_is_the_same_every_time() {
        let url = url::Url::parse("http://127.0.0.1:8090").unwrap();
        let (a, b) = (demo(&url), demo(&url));
        let skus = |store: &WooStore| {
            store
                .products
                .values()
                .map(|p| (p.id, p.sku.clone(), p.regular_price, p.stock_quantity))
                .collect::<Vec<_>>()
        };
        assert_eq!(skus(&a), skus(&b));
        let parents = a
            .products
            .values()
            .filter(|p| p.kind != ProductType::Variation)
            .count();
        assert_eq!(parents, DEMO_SIMPLE_PRODUCTS + DEMO_VARIABLE_PRODUCTS);
        for parent in a
            .products
            .values()
            .filter(|p| p.kind == ProductType::Variable)
        {
            let count = a.variations_of(parent.id).count();
            assert!(
                (2..=6).contains(&count),
                "{} has {count} variations",
                parent.sku
            );
        }
        assert!(
            a.products
                .values()
                .any(|p| p.stock_status == StockStatus::OutOfStock)
        );
        let tagged = a.products.values().filter(|p| !p.tags.is_empty()).count();
        assert_eq!(tagged, (DEMO_SIMPLE_PRODUCTS + DEMO_VARIABLE_PRODUCTS) / 3);
        assert!(
            a.products
                .values()
                .flat_map(|p| &p.tags)
                .all(|id| a.tags.contains_key(id))
        );
    }
}
