//! The seller's shop as the rest of the system speaks of it: which software runs it, how its
//! keys were obtained, and what the last health check found.

crate::named_enum! {
    /// Which software runs the shop.
    pub enum ShopPlatform {
        WooCommerce = "woocommerce",
        BigCommerce = "bigcommerce",
    }
}

crate::named_enum! {
    /// How the shop's API keys were obtained.
    pub enum ShopConnection {
        /// The shop's app authorization page sent them (WooCommerce `/wc-auth/v1/authorize`).
        AppAuthorization = "app_authorization",
        /// The seller pasted them.
        PastedKeys = "pasted_keys",
    }
}

crate::named_enum! {
    /// The verdict of the last health check of a shop.
    pub enum ShopHealth {
        Ok = "ok",
        /// The shop did not answer (network, DNS, 5xx).
        Unreachable = "unreachable",
        /// The shop answered but refused the keys (revoked, or permissions reduced).
        KeysRefused = "keys_refused",
    }
}
