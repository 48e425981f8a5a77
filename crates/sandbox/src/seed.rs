//! The demo data: the same every time, printed by `marketbridge demo`.

use std::collections::BTreeMap;

use crate::marketplace::catalog::{self, Catalog};
use crate::woo::model::WooStore;
use crate::world::{
    Company, Contact, GrantKind, Marketplace, OAuthClient, ShopApiKey, ShopState, Store, User,
    World,
};

pub const DEMO_CLIENT_ID: &str = "marketbridge-demo";
/// The demo seller's login on MAS.
pub const DEMO_SELLER_EMAIL: &str = "seller@example.com";
pub const DEMO_SELLER_PASSWORD: &str = "sandbox-seller-pass";
/// The callback of `marketbridge demo`'s connector on its default address, registered unless
/// the sandbox is told otherwise; the demo client takes it on any other port too.
pub const DEMO_REDIRECT_URI: &str = "http://localhost:8080/oauth/mirakl/callback";

/// The demo accounts; the marketplaces' catalogs know the products of `shop`, the demo
/// WooCommerce store, by GTIN (each marketplace misses a different one in twenty).
pub fn demo(world: &mut World, redirect_uris: &[String], shop: &WooStore) {
    world.users.push(User {
        id: "demo-seller".into(),
        email: DEMO_SELLER_EMAIL.into(),
        password: DEMO_SELLER_PASSWORD.into(),
        stores: BTreeMap::from([
            ("demo-marketplace".into(), vec![2001]),
            ("second-marketplace".into(), vec![3001]),
        ]),
        companies: vec!["demo-company".into()],
        verification_required: false,
    });

    world.clients.insert(
        DEMO_CLIENT_ID.into(),
        OAuthClient {
            id: DEMO_CLIENT_ID.into(),
            secret: "sandbox-client-secret".into(),
            name: "Marketbridge Demo".into(),
            redirect_uris: redirect_uris.to_vec(),
            kinds: vec![GrantKind::Marketplace, GrantKind::Connect],
            // A demo connector started on another port than the default one still works
            // with a sandbox started without flags.
            loopback_any_port: true,
        },
    );

    world.marketplaces.insert(
        "demo-marketplace".into(),
        marketplace(
            "demo-marketplace",
            "Demo Marketplace",
            catalog::from_woo(shop, 0xD3_0001),
            store(2001, "Demo Store", 37),
        ),
    );
    let mut second = marketplace(
        "second-marketplace",
        "Second Marketplace",
        catalog::from_woo(shop, 0xD3_0002),
        store(3001, "Second Store", 0),
    );
    // The second operator gives the customer's (anonymized) e-mail with its orders.
    second.customer_emails = true;
    world
        .marketplaces
        .insert("second-marketplace".into(), second);
    world.companies.insert(
        "demo-company".into(),
        Company::new("demo-company", "Demo Company"),
    );
    world.shop_api_keys.insert(
        "sandbox-shop-api-key".into(),
        ShopApiKey {
            instance: "demo-marketplace".into(),
            shop_id: 2001,
        },
    );
}

fn marketplace(instance: &str, name: &str, catalog: Catalog, store: Store) -> Marketplace {
    let mut marketplace = Marketplace::new(instance, name, catalog);
    marketplace.stores.insert(store.shop_id, store);
    marketplace
}

/// A shop with the demo account's values.
pub fn store(shop_id: i64, name: &str, orders_count: u64) -> Store {
    Store {
        shop_id,
        name: name.into(),
        state: ShopState::Open,
        currency_iso_code: "EUR".into(),
        channels: vec!["INIT".into()],
        date_created: "2024-03-01T09:30:00Z".into(),
        is_professional: true,
        orders_count,
        contact: Contact {
            civility: "Mr".into(),
            firstname: "Sam".into(),
            lastname: "Seller".into(),
            email: "seller@example.com".into(),
            phone: "+33 1 23 45 67 89".into(),
            street1: "10 rue de la Paix".into(),
            zip_code: "75002".into(),
            city: "Paris".into(),
            country: "FRA".into(),
        },
        offers: BTreeMap::new(),
    }
}
