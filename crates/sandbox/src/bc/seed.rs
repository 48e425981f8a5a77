//! The demo BigCommerce store `demo-bc`: the WooCommerce demo store's catalog, carried over
//! (simple products become products that track their own stock, variable products products
//! with Color/Size variants that track theirs), its store-level API token, and the demo app
//! Marketbridge registers.

use std::collections::BTreeMap;

use crate::bc::app::BcApp;
use crate::bc::model::{BcStore, Brand, Category, OptionValue, Product, Tracking, Variant};
use crate::values::money::Money;
use crate::woo::model::{PostStatus, ProductType, WooStore};

pub const DEMO_STORE_HASH: &str = "demo-bc";
/// The store-level API account's token (`X-Auth-Token`).
pub const DEMO_API_TOKEN: &str = "sandbox-bc-token";
pub const DEMO_CLIENT_ID: &str = "sandbox-bc-client";
pub const DEMO_CLIENT_SECRET: &str = "sandbox-bc-secret";
pub const DEMO_OWNER_EMAIL: &str = "bc-owner@example.com";
/// ASSUMPTION: the connector's BigCommerce callbacks on `marketbridge demo`'s default address;
/// `Sandbox::bc_set_app_callbacks` points them elsewhere.
pub const DEMO_AUTH_CALLBACK: &str = "http://localhost:8080/bigcommerce/auth";
pub const DEMO_LOAD_CALLBACK: &str = "http://localhost:8080/bigcommerce/load";
pub const DEMO_UNINSTALL_CALLBACK: &str = "http://localhost:8080/bigcommerce/uninstall";
/// The scopes the demo app asks for.
pub const DEMO_SCOPE: &str =
    "store_v2_products store_v2_orders store_v2_information_read_only store_inventory";

/// The demo app, Marketbridge.
pub fn demo_app() -> BcApp {
    BcApp {
        client_id: DEMO_CLIENT_ID.to_owned(),
        client_secret: DEMO_CLIENT_SECRET.to_owned(),
        name: "Marketbridge".to_owned(),
        scope: DEMO_SCOPE.to_owned(),
        auth_callback: DEMO_AUTH_CALLBACK.to_owned(),
        load_callback: DEMO_LOAD_CALLBACK.to_owned(),
        uninstall_callback: DEMO_UNINSTALL_CALLBACK.to_owned(),
    }
}

/// An empty store with its store-level API token.
pub fn empty(hash: &str, store_id: i64, name: &str, token: &str) -> BcStore {
    let mut store = BcStore::new(hash, store_id, name, DEMO_OWNER_EMAIL);
    store.tokens.insert(
        token.to_owned(),
        crate::bc::model::Token { client_id: None },
    );
    store
}

/// `demo-bc`, with the catalog of `shop` (the WooCommerce demo store).
pub fn demo(shop: &WooStore) -> BcStore {
    let mut store = empty(
        DEMO_STORE_HASH,
        1_000_001,
        "Demo BigCommerce Store",
        DEMO_API_TOKEN,
    );
    copy_catalog(&mut store, shop);
    store
}

/// Carries a WooCommerce catalog over: categories, brands (the `Brand` attribute), products
/// and variations, with their SKUs, prices, stock, GTINs and dates.
pub fn copy_catalog(store: &mut BcStore, shop: &WooStore) {
    let mut categories = BTreeMap::new();
    for term in shop.categories.values() {
        let id = store.next_id();
        categories.insert(term.id, id);
        store.categories.insert(
            id,
            Category {
                id,
                parent_id: 0,
                name: term.name.clone(),
            },
        );
    }
    let mut brands: BTreeMap<String, i64> = BTreeMap::new();
    for product in shop.products.values().filter(|p| p.parent_id == 0) {
        let brand_name = product
            .attributes
            .iter()
            .find(|attribute| attribute.name == "Brand")
            .and_then(|attribute| attribute.options.first());
        let brand_id = match brand_name {
            None => 0,
            Some(name) => match brands.get(name) {
                Some(id) => *id,
                None => {
                    let id = store.next_id();
                    brands.insert(name.clone(), id);
                    store.brands.insert(
                        id,
                        Brand {
                            id,
                            name: name.clone(),
                        },
                    );
                    id
                }
            },
        };
        let id = store.next_id();
        let variable = product.kind == ProductType::Variable;
        let tracking = match (variable, product.manage_stock) {
            (true, _) => Tracking::Variant,
            (false, true) => Tracking::Product,
            (false, false) => Tracking::None,
        };
        let mut variants = Vec::new();
        if variable {
            for variation in shop.variations_of(product.id) {
                let variant_id = store.next_id();
                let option_values = variation
                    .attributes
                    .iter()
                    .enumerate()
                    .filter_map(|(index, attribute)| {
                        attribute.options.first().map(|label| OptionValue {
                            option_id: attribute.id,
                            option_display_name: attribute.name.clone(),
                            id: variant_id * 10 + index as i64,
                            label: label.clone(),
                        })
                    })
                    .collect();
                variants.push(Variant {
                    id: variant_id,
                    product_id: id,
                    sku: variation.sku.clone(),
                    price: variation.regular_price,
                    sale_price: variation.sale_price,
                    inventory_level: variation.stock_quantity.unwrap_or(0),
                    upc: String::new(),
                    gtin: variation.global_unique_id.clone(),
                    mpn: String::new(),
                    option_values,
                });
            }
        } else {
            variants.push(Variant {
                id: store.next_id(),
                product_id: id,
                sku: product.sku.clone(),
                price: None,
                sale_price: None,
                inventory_level: 0,
                upc: String::new(),
                gtin: String::new(),
                mpn: String::new(),
                option_values: Vec::new(),
            });
        }
        let price = product
            .regular_price
            .or_else(|| variants.iter().filter_map(|v| v.price).min())
            .unwrap_or(Money(0));
        let mut copied = Product {
            id,
            name: product.name.clone(),
            sku: product.sku.clone(),
            price,
            sale_price: product.sale_price.unwrap_or(Money(0)),
            inventory_level: if tracking == Tracking::Product {
                product.stock_quantity.unwrap_or(0)
            } else {
                0
            },
            inventory_tracking: tracking,
            is_visible: product.status == PostStatus::Publish,
            availability: "available".to_owned(),
            brand_id,
            categories: product
                .categories
                .iter()
                .filter_map(|term| categories.get(term).copied())
                .collect(),
            upc: String::new(),
            gtin: product.global_unique_id.clone(),
            mpn: String::new(),
            description: product.description.clone(),
            weight: product.weight.parse().unwrap_or(0.0),
            custom_fields: Vec::new(),
            variants,
            date_created: product.created,
            date_modified: product.modified,
        };
        copied.sync_base_variant();
        store.products.insert(id, copied);
    }
}
