//! The seller's steps, as a plain-HTTP visitor takes them, so integration tests can say
//! "sign up, add Demo Marketplace, connect it" in three lines and then poke at one hop.

use reqwest::StatusCode;
use url::Url;

use crate::TestApp;
use crate::visitor::{Page, Visitor, redirect_target};

pub const MAS_EMAIL: &str = "seller@example.com";
pub const MAS_PASSWORD: &str = "sandbox-seller-pass";
pub const SELLER_PASSWORD: &str = "correct horse battery";

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

    /// Enters a store ID on the Settings page.
    pub async fn enter_store_id(&self, v: &Visitor, settings: &Page, store_id: &str) -> Page {
        v.submit(&settings.form("Verify store", &[("Mirakl store ID", store_id)]))
            .await
    }
}
