//! What benchmarks and tests make or read of a BigCommerce store in one call, without the
//! REST round trips a merchant's admin would need: a store of a given size, an order's lines,
//! an item's stock.

use serde_json::Value;

use crate::Sandbox;
use crate::bc::model::Tracking;

impl Sandbox {
    /// Adds a store reached with the API token `token`, with the demo catalog's generator's
    /// `simple` simple and `variable` variable products (each variable one with 2 to 6
    /// variants), as the WooCommerce benchmark store has them.
    pub fn bc_create_store_with(
        &self,
        hash: &str,
        name: &str,
        token: &str,
        simple: usize,
        variable: usize,
    ) {
        let mut world = self.world();
        let mut catalog = crate::woo::seed::empty(hash, name, "", "");
        let public_url = world.public_url.clone();
        crate::woo::seed::catalog(&mut catalog, &public_url, simple, variable);
        let store_id = 1_000_001 + world.bc.stores.len() as i64;
        let mut store = crate::bc::seed::empty(hash, store_id, name, token);
        crate::bc::seed::copy_catalog(&mut store, &catalog);
        world.bc.stores.insert(hash.to_owned(), store);
    }

    /// An order's lines as `GET /v2/orders/{id}/products` shows them.
    pub fn bc_order_lines(&self, hash: &str, id: i64) -> Vec<Value> {
        let world = self.world();
        world
            .bc
            .stores
            .get(hash)
            .and_then(|store| store.orders.get(&id))
            .map(|order| {
                order
                    .products
                    .iter()
                    .map(|l| order.product_json(l))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The stock the store counts for a product's variant (`None`: the base variant), or
    /// `None` when it does not track that item's stock.
    pub fn bc_item_stock(
        &self,
        hash: &str,
        product_id: i64,
        variant_id: Option<i64>,
    ) -> Option<i64> {
        let world = self.world();
        let product = world.bc.stores.get(hash)?.products.get(&product_id)?;
        match product.inventory_tracking {
            Tracking::None => None,
            Tracking::Product => Some(product.inventory_level),
            Tracking::Variant => {
                let variant = variant_id.or(product.base_variant_id())?;
                product.variant(variant).map(|v| v.inventory_level)
            }
        }
    }
}
