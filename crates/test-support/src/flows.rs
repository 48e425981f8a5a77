//! The seller's steps, as a plain-HTTP visitor takes them, so integration tests can say
//! "sign up, add Demo Marketplace, connect it" in three lines and then poke at one hop.

use domain::{ChannelId, ChannelKind, WorkspaceId};
use reqwest::StatusCode;
use url::Url;

use crate::TestApp;
use crate::visitor::{Page, Visitor, redirect_target};

pub const MAS_EMAIL: &str = "seller@example.com";
pub const MAS_PASSWORD: &str = "sandbox-seller-pass";
pub const SELLER_PASSWORD: &str = "correct horse battery";

/// The shops a seller can connect; tests that hold for both take one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShopKind {
    /// The sandbox's `demo-shop`, connected with pasted keys.
    WooCommerce,
    /// The sandbox's `demo-bc`, connected with a pasted API path and token.
    BigCommerce,
}

impl TestApp {
    /// Creates a connector account and returns the dashboard.
    pub async fn sign_up(&self, v: &Visitor, email: &str) -> Page {
        let page = v.get(&self.url("/sign-up")).await;
        let page = v
            .submit(&page.form(
                "Create account",
                &[("Email", email), ("Password", SELLER_PASSWORD)],
            ))
            .await;
        page.expect_text("Dashboard");
        page
    }

    /// Adds a channel (by the choice's label, e.g. "Demo Marketplace") and returns its
    /// Settings page.
    pub async fn add_channel(&self, v: &Visitor, choice: &str) -> Page {
        let page = v.get(&self.url("/channels/new")).await;
        let page = v.submit(&page.form("Add channel", &[(choice, "on")])).await;
        page.expect_text("Settings");
        page
    }

    /// Clicks the Connect button on a channel's Settings page and follows the browser to the
    /// Mirakl Authentication System.
    pub async fn start_authorization(&self, v: &Visitor, settings: &Page, button: &str) -> Page {
        let response = v.send_raw(&settings.form(button, &[])).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "Connect should redirect to MAS"
        );
        let target = redirect_target(&response);
        assert!(
            target.as_str().starts_with(self.sandbox_url.as_str()),
            "redirected to {target}"
        );
        v.follow(response).await
    }

    /// On MAS: signs in (if asked), picks the marketplace and store (if asked), and stops at
    /// the consent page.
    pub async fn mas_until_consent(
        &self,
        v: &Visitor,
        mut page: Page,
        marketplace: &str,
        store: &str,
    ) -> Page {
        if page.contains("Forgot password?") {
            page = v
                .submit(&page.form(
                    "Sign in",
                    &[("Email", MAS_EMAIL), ("Password", MAS_PASSWORD)],
                ))
                .await;
        }
        // The selection may take one page or two (marketplace, then store).
        for _ in 0..2 {
            if page.contains("Accept") {
                break;
            }
            let has_store = page.html.contains(">Store<") || page.html.contains(">Store</label>");
            let fields: Vec<(&str, &str)> = if has_store {
                vec![("Marketplace", marketplace), ("Store", store)]
            } else if page.html.contains(">Marketplace") {
                vec![("Marketplace", marketplace)]
            } else {
                vec![("Company", marketplace)]
            };
            let button = if page.contains("Confirm") {
                "Confirm"
            } else {
                "Continue"
            };
            let fields: Vec<(&str, &str)> = fields
                .into_iter()
                .filter(|(l, _)| page.html.contains(&format!(">{l}")))
                .collect();
            page = v.submit(&page.form(button, &fields)).await;
        }
        page.expect_text("Accept");
        page
    }

    /// Clicks Accept on the consent page and returns the callback URL MAS sends the browser
    /// to, without following it.
    pub async fn mas_accept(&self, v: &Visitor, consent: &Page) -> Url {
        let response = v.send_raw(&consent.form("Accept", &[])).await;
        assert!(
            response.status().is_redirection(),
            "Accept should redirect, got {}",
            response.status()
        );
        let target = redirect_target(&response);
        assert!(
            target.as_str().starts_with(self.connector_url.as_str()),
            "redirected to {target}"
        );
        target
    }

    /// The whole F1 for a marketplace channel up to the store ID form.
    pub async fn connect_marketplace(&self, v: &Visitor, marketplace: &str, store: &str) -> Page {
        let settings = self.add_channel(v, marketplace).await;
        let mas = self
            .start_authorization(v, &settings, &format!("Connect to {marketplace}"))
            .await;
        let consent = self.mas_until_consent(v, mas, marketplace, store).await;
        let callback = self.mas_accept(v, &consent).await;
        let page = v.get(callback.as_str()).await;
        page.expect_text("Mirakl authorized Marketbridge");
        page
    }

    /// The marketplace channel of the only workspace, for a test that drove the pages and now
    /// looks in storage.
    pub async fn the_marketplace_channel(&self) -> (WorkspaceId, ChannelId) {
        let ws = self.storage().list_workspace_ids().await.unwrap()[0];
        let channels = self.storage().list_channels(ws).await.unwrap();
        let channel = channels
            .iter()
            .find(|c| c.kind == ChannelKind::Marketplace)
            .expect("a marketplace channel");
        (ws, channel.id)
    }

    /// A SKU live on `channel` whose stock the shop counts, with at least `quantity` of it:
    /// one a customer can buy and the automatic acceptance will accept.
    pub async fn a_live_sku_in_stock(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        quantity: i64,
    ) -> String {
        let live: Vec<String> = self
            .storage()
            .channel_items_page(ws, channel, None, 100_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|i| i.state == domain::ItemState::Live)
            .map(|i| i.sku)
            .collect();
        self.storage()
            .catalog_page(ws, None, 100_000, false)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| live.contains(&r.sku))
            .find(|r| {
                let stock = r.item().unwrap().stock;
                stock.managed && stock.quantity.unwrap_or(0) >= quantity
            })
            .map(|r| r.sku)
            .unwrap_or_else(|| panic!("a SKU live on the channel with {quantity} in stock"))
    }

    /// Enters a store ID on the Settings page.
    pub async fn enter_store_id(&self, v: &Visitor, settings: &Page, store_id: &str) -> Page {
        v.submit(&settings.form("Verify store", &[("Mirakl store ID", store_id)]))
            .await
    }
}

pub const WOO_ADMIN: &str = "shop-admin@example.com";
pub const WOO_ADMIN_PASSWORD: &str = "sandbox-shop-pass";
pub const WOO_KEY: &str = "ck_sandbox_demo";
pub const WOO_SECRET: &str = "cs_sandbox_demo";

impl TestApp {
    /// Where the workspace's store delivers its webhooks, with the secret it signs them with:
    /// what a test needs to deliver one as the store would (WooCommerce: `shops::webhook::sign`;
    /// BigCommerce: the secret header).
    pub async fn shop_webhook(&self, ws: WorkspaceId) -> (String, String) {
        let shop = self.storage().get_shop(ws).await.unwrap().expect("a shop");
        let secret = self
            .storage()
            .shop_secrets(ws, shop.id)
            .await
            .unwrap()
            .webhook_secret
            .expose()
            .to_owned();
        (
            self.url(&format!("/webhooks/{}/{}", shop.platform, shop.id)),
            secret,
        )
    }

    /// A simple product the marketplace refused for its GTIN (the demo store has a few with a
    /// typo in `_gtin`), with the wrong GTIN.
    pub async fn a_product_refused_for_its_gtin(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> (storage::CatalogRow, String) {
        let rows = self
            .storage()
            .catalog_page(ws, None, 100_000, false)
            .await
            .unwrap();
        let refused = self
            .storage()
            .channel_items_page(ws, channel, None, 100_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|i| i.error.as_deref() == Some("The product does not exist"))
            .find_map(|i| {
                rows.iter()
                    .find(|r| r.sku == i.sku && r.shop_variation_id.is_none())
                    .cloned()
            })
            .expect("a simple product refused for its GTIN");
        let typo = refused
            .item()
            .unwrap()
            .meta
            .iter()
            .find(|(k, _)| k == "_gtin")
            .map(|(_, v)| v.clone())
            .unwrap();
        (refused, typo)
    }

    /// What a seller does in WooCommerce's product editor: set the product's GTIN (the store
    /// sends its webhook).
    pub async fn correct_gtin_in_the_shop(&self, product_id: i64, gtin: &str) {
        let url = format!("{}/wp-json/wc/v3/products/{product_id}", self.store_url());
        let response = reqwest::Client::new()
            .put(url)
            .basic_auth(WOO_KEY, Some(WOO_SECRET))
            .json(&serde_json::json!({
                "global_unique_id": gtin,
                "meta_data": [{ "key": "_gtin", "value": gtin }],
            }))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap()
        );
    }

    /// Signs up and starts connecting Demo Marketplace, up to MAS's consent page.
    pub async fn marketplace_consent(&self, v: &Visitor, email: &str) -> Page {
        self.sign_up(v, email).await;
        let settings = self.add_channel(v, "Demo Marketplace").await;
        let mas = self
            .start_authorization(v, &settings, "Connect to Demo Marketplace")
            .await;
        self.mas_until_consent(v, mas, "Demo Marketplace", "Demo Store (2001)")
            .await
    }

    /// The demo WooCommerce store's URL, as a seller would type it.
    pub fn store_url(&self) -> String {
        format!("{}woo/demo-shop", self.sandbox_url)
    }

    /// Onboarding Step 1: authorizes Mirakl Connect (signing in on MAS, picking the company,
    /// accepting) and returns the page the connector shows next.
    pub async fn onboard_mirakl_connect(&self, v: &Visitor, step1: &Page) -> Page {
        step1.expect_text("Authorize Mirakl Connect");
        let mas = self
            .start_authorization(v, step1, "Authorize Mirakl Connect")
            .await;
        let consent = self.mas_until_consent(v, mas, "Demo Company", "").await;
        let callback = self.mas_accept(v, &consent).await;
        v.get(callback.as_str()).await
    }

    /// Onboarding Step 2 through the store's app authorization: logs in to the store's admin,
    /// approves, and returns the page the connector shows once the store sent the keys.
    pub async fn onboard_store_by_app_authorization(&self, v: &Visitor, step2: &Page) -> Page {
        let store_url = self.store_url();
        let response = v
            .send_raw(&step2.form(
                "Connect with WooCommerce",
                &[("Store URL", store_url.as_str())],
            ))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "Connect with WooCommerce should redirect to the store"
        );
        let mut page = v.follow(response).await;
        if page.contains("Log In") {
            page = v
                .submit(&page.form(
                    "Log In",
                    &[
                        ("Username or Email Address", WOO_ADMIN),
                        ("Password", WOO_ADMIN_PASSWORD),
                    ],
                ))
                .await;
        }
        page.expect_text("Approve");
        v.submit(&page.form("Approve", &[])).await
    }

    /// Onboarding Step 2 with pasted keys.
    pub async fn onboard_store_by_keys(
        &self,
        v: &Visitor,
        step2: &Page,
        key: &str,
        secret: &str,
    ) -> Page {
        let store_url = self.store_url();
        v.submit(&step2.form(
            "Connect with API keys",
            &[
                ("Store URL", store_url.as_str()),
                ("Consumer key", key),
                ("Consumer secret", secret),
            ],
        ))
        .await
    }

    /// Steps 3 and 4 with both toggles on; returns the dashboard.
    pub async fn finish_onboarding(&self, v: &Visitor, step3: &Page) -> Page {
        step3.expect_text("Step 3 of 4");
        let step4 = v.submit(&step3.form("Save and continue", &[])).await;
        step4.expect_text("Step 4 of 4");
        let dashboard = v.submit(&step4.form("Launch", &[])).await;
        dashboard.expect_text("Marketbridge is live");
        dashboard
    }

    /// A workspace through all four onboarding steps (store connected with pasted keys).
    pub async fn onboarded(&self, v: &Visitor, email: &str) -> Page {
        self.onboarded_with(v, email, ShopKind::WooCommerce).await
    }

    /// A workspace through all four onboarding steps, with this kind of shop connected by
    /// pasted credentials.
    pub async fn onboarded_with(&self, v: &Visitor, email: &str, shop: ShopKind) -> Page {
        let step1 = self.sign_up(v, email).await;
        let step2 = self.onboard_mirakl_connect(v, &step1).await;
        let step3 = match shop {
            ShopKind::WooCommerce => {
                self.onboard_store_by_keys(v, &step2, WOO_KEY, WOO_SECRET)
                    .await
            }
            ShopKind::BigCommerce => self.onboard_bigcommerce_by_api_account(v, &step2).await,
        };
        self.finish_onboarding(v, &step3).await
    }

    /// The demo BigCommerce store's API path, as BigCommerce shows it with an API account.
    pub fn bc_api_path(&self) -> String {
        format!(
            "{}bc/stores/{}/v3/",
            self.sandbox_url,
            sandbox::BC_DEMO_STORE_HASH
        )
    }

    /// Onboarding Step 2 with a BigCommerce API account's path and token.
    pub async fn onboard_bigcommerce_by_api_account(&self, v: &Visitor, step2: &Page) -> Page {
        let path = self.bc_api_path();
        v.submit(&step2.form(
            "Connect BigCommerce",
            &[
                ("API path", path.as_str()),
                ("Access token", sandbox::BC_DEMO_API_TOKEN),
            ],
        ))
        .await
    }
}
