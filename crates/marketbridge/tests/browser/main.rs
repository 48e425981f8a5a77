//! Browser tests: headless Chromium drives each seller flow by the labels on the page, against
//! the real connector and the real sandbox in this process. Screenshots of every step are
//! saved under `target/screenshots/<test>/`.

use test_support::flows::{MAS_EMAIL, MAS_PASSWORD, SELLER_PASSWORD};
use test_support::{Browser, TestApp};

async fn sign_up(b: &Browser, app: &TestApp) {
    b.goto(&app.url("/")).await;
    b.expect_text("Sign in").await;
    b.click("Create an account").await;
    b.fill("Email", "shop@example.com").await;
    b.fill("Password", SELLER_PASSWORD).await;
    b.screenshot("sign-up").await;
    b.click("Create account").await;
    b.expect_text("Step 1 of 4: Authorize Mirakl Connect").await;
    b.click("Dashboard").await;
    b.expect_text("No channel yet").await;
    b.screenshot("dashboard-empty").await;
}

async fn add_demo_marketplace(b: &Browser) {
    b.click("Add a channel").await;
    b.choose("Demo Marketplace").await;
    b.screenshot("add-channel").await;
    b.click("Add channel").await;
    b.expect_text("Connect to Demo Marketplace").await;
    b.screenshot("channel-settings").await;
}

async fn mas_sign_in(b: &Browser, password: &str) {
    b.expect_text("Forgot password?").await;
    b.fill("Email", MAS_EMAIL).await;
    b.fill("Password", password).await;
    b.screenshot("mas-login").await;
    b.click("Sign in").await;
}

async fn mas_select_demo_store(b: &Browser) {
    b.expect_text("Confirm").await;
    b.select("Marketplace", "Demo Marketplace").await;
    if !b.has_button("Confirm").await || !b.text().await.contains("Store") {
        b.click("Continue").await;
    }
    b.select("Store", "Demo Store (2001)").await;
    b.screenshot("mas-selection").await;
    b.click("Confirm").await;
}

async fn accept_and_enter_store(b: &Browser, store_id: &str) {
    b.expect_text("Accept").await;
    b.screenshot("mas-consent").await;
    b.click("Accept").await;
    b.expect_text("Now enter your Mirakl store ID").await;
    b.screenshot("back-on-connector").await;
    b.fill("Mirakl store ID", store_id).await;
    b.click("Verify store").await;
}

#[tokio::test]
async fn a_new_seller_connects_a_marketplace_store_and_launches_it() {
    let app = TestApp::spawn().await;
    let b = Browser::start("connect_marketplace").await;
    sign_up(&b, &app).await;
    add_demo_marketplace(&b).await;
    b.click("Connect to Demo Marketplace").await;
    mas_sign_in(&b, MAS_PASSWORD).await;
    mas_select_demo_store(&b).await;
    accept_and_enter_store(&b, "2001").await;
    b.expect_text("Demo Store (store 2001)").await;
    b.screenshot("store-verified").await;
    b.click("Launch").await;
    b.expect_text("Demo Marketplace is live").await;
    b.screenshot("launched").await;

    // A second authorization of the same Mirakl user skips the selection.
    b.click("Authorize Demo Marketplace again").await;
    b.expect_text("Accept").await;
    assert!(
        !b.text().await.contains("Confirm"),
        "the selection should be skipped"
    );
    b.screenshot("second-authorization-consent").await;
    b.click("Accept").await;
    b.expect_text("Mirakl authorized Marketbridge").await;
    b.expect_text("Live").await;
    b.click("Dashboard").await;
    b.expect_text("Valid until").await;
    b.screenshot("dashboard-live").await;
    b.close().await;
}

#[tokio::test]
async fn a_seller_who_forgot_the_mirakl_password_resets_it_and_connects() {
    let app = TestApp::spawn().await;
    let b = Browser::start("forgot_password").await;
    sign_up(&b, &app).await;
    add_demo_marketplace(&b).await;
    b.click("Connect to Demo Marketplace").await;
    b.expect_text("Forgot password?").await;
    let login_page = b.current_url().await;
    b.click("Forgot password?").await;
    b.fill("Email", MAS_EMAIL).await;
    b.screenshot("forgot-password").await;
    b.click("Send reset link").await;
    b.expect_text("If an account exists").await;

    b.goto(&format!("{}sandbox/mailbox", app.sandbox_url)).await;
    b.expect_text("Reset your Mirakl password").await;
    b.screenshot("mailbox-reset").await;
    let reset_link = app
        .sandbox
        .mailbox()
        .iter()
        .rev()
        .find(|m| m.subject.contains("Reset"))
        .and_then(|m| {
            m.body
                .split_whitespace()
                .find(|w| w.contains("/mas/reset-password"))
                .map(str::to_owned)
        })
        .expect("a reset link in the mail");
    b.goto(reset_link.trim_end_matches(['.', ','])).await;
    b.fill("New password", "a brand new password").await;
    b.fill("Confirm password", "a brand new password").await;
    b.screenshot("reset-password").await;
    b.click("Reset password").await;
    // Wait for the new password to be taken before leaving the page: a navigation started
    // while the form's answer is on its way races it.
    b.expect_text("Your password was changed").await;

    // The next login asks for a code sent by e-mail.
    b.goto(login_page.as_str()).await;
    mas_sign_in(&b, "a brand new password").await;
    b.expect_text("Verification code").await;
    b.screenshot("verification-code").await;
    let code = app
        .sandbox
        .mailbox()
        .iter()
        .rev()
        .find(|m| m.subject.contains("verification code"))
        .and_then(|m| {
            m.body
                .split(|c: char| !c.is_ascii_digit())
                .find(|w| w.len() == 6)
                .map(str::to_owned)
        })
        .expect("a six-digit code in the mail");
    b.fill("Verification code", &code).await;
    b.click("Verify").await;
    mas_select_demo_store(&b).await;
    accept_and_enter_store(&b, "2001").await;
    b.expect_text("Demo Store (store 2001)").await;
    b.screenshot("connected").await;
    b.close().await;
}

#[tokio::test]
async fn a_seller_who_declines_on_mirakl_is_told_and_can_try_again() {
    let app = TestApp::spawn().await;
    let b = Browser::start("decline").await;
    sign_up(&b, &app).await;
    add_demo_marketplace(&b).await;
    b.click("Connect to Demo Marketplace").await;
    mas_sign_in(&b, MAS_PASSWORD).await;
    mas_select_demo_store(&b).await;
    b.expect_text("Decline").await;
    b.click("Decline").await;
    b.expect_text("You declined access on Mirakl").await;
    b.screenshot("declined").await;
    b.click("Try again").await;
    b.expect_text("Connect to Demo Marketplace").await;
    b.expect_text("Not connected").await;
    b.screenshot("back-to-settings").await;
    b.close().await;
}

#[tokio::test]
async fn a_seller_who_types_a_wrong_store_id_gets_a_clear_error_and_retries() {
    let app = TestApp::spawn().await;
    let b = Browser::start("wrong_store_id").await;
    sign_up(&b, &app).await;
    add_demo_marketplace(&b).await;
    b.click("Connect to Demo Marketplace").await;
    mas_sign_in(&b, MAS_PASSWORD).await;
    mas_select_demo_store(&b).await;
    accept_and_enter_store(&b, "9999").await;
    b.expect_text("Store 9999 is not a store your Mirakl authorization gives access to")
        .await;
    b.screenshot("wrong-store-id").await;
    b.fill("Mirakl store ID", "2001").await;
    b.click("Verify store").await;
    b.expect_text("Demo Store (store 2001)").await;
    b.click("Launch").await;
    b.expect_text("Demo Marketplace is live").await;
    b.screenshot("launched").await;
    b.close().await;
}

/// Adds Demo Marketplace from the header and connects the demo store, up to its verification.
async fn connect_demo_marketplace(b: &Browser) {
    b.click("Add channel").await;
    b.choose("Demo Marketplace").await;
    b.click("Add channel").await;
    b.click("Connect to Demo Marketplace").await;
    mas_select_demo_store(b).await;
    accept_and_enter_store(b, "2001").await;
}

/// Step 1 as a new seller: authorize Mirakl Connect with the demo company.
async fn onboard_step_one(b: &Browser, app: &TestApp) {
    b.goto(&app.url("/sign-up")).await;
    b.fill("Email", "shop@example.com").await;
    b.fill("Password", SELLER_PASSWORD).await;
    b.click("Create account").await;
    b.expect_text("Step 1 of 4: Authorize Mirakl Connect").await;
    b.screenshot("step-1").await;
    b.click("Authorize Mirakl Connect").await;
    mas_sign_in(b, MAS_PASSWORD).await;
    b.expect_text("Company").await;
    b.select("Company", "Demo Company").await;
    b.screenshot("mas-company").await;
    b.click("Confirm").await;
    b.expect_text("Accept").await;
    b.click("Accept").await;
    b.expect_text("Step 2 of 4: Connect your store").await;
    b.screenshot("step-2").await;
}

/// Step 2 with the demo store's REST key, pasted.
async fn fill_store_keys(b: &Browser, app: &TestApp) {
    b.fill("Store URL", &app.store_url()).await;
    b.fill("Consumer key", test_support::flows::WOO_KEY).await;
    b.fill("Consumer secret", test_support::flows::WOO_SECRET)
        .await;
}

async fn onboard_steps_three_and_four(b: &Browser) {
    b.expect_text("Step 3 of 4: Settings").await;
    b.screenshot("step-3").await;
    b.click("Save and continue").await;
    b.expect_text("Step 4 of 4: Launch").await;
    b.screenshot("step-4").await;
    b.click("Launch").await;
    b.expect_text("Marketbridge is live").await;
    b.screenshot("dashboard-live").await;
    b.click("Account").await;
    b.expect_text("product.updated: active").await;
    b.screenshot("account").await;
}

#[tokio::test]
async fn a_new_seller_onboards_in_four_steps_with_the_woocommerce_app_authorization() {
    let app = TestApp::spawn().await;
    let b = Browser::start("onboarding_app_authorization").await;
    onboard_step_one(&b, &app).await;
    b.fill("Store URL", &app.store_url()).await;
    b.click("Connect with WooCommerce").await;
    b.expect_text("Log In").await;
    b.fill("Username or Email Address", test_support::flows::WOO_ADMIN)
        .await;
    b.fill("Password", test_support::flows::WOO_ADMIN_PASSWORD)
        .await;
    b.screenshot("woo-login").await;
    b.click("Log In").await;
    b.expect_text("Approve").await;
    b.screenshot("woo-approve").await;
    b.click("Approve").await;
    b.expect_text("Your WooCommerce store is connected").await;
    onboard_steps_three_and_four(&b).await;
    b.expect_text("WooCommerce app authorization").await;
    b.close().await;
}

#[tokio::test]
async fn a_new_seller_onboards_in_four_steps_with_pasted_keys() {
    let app = TestApp::spawn().await;
    let b = Browser::start("onboarding_pasted_keys").await;
    onboard_step_one(&b, &app).await;
    fill_store_keys(&b, &app).await;
    b.screenshot("keys").await;
    b.click("Connect with API keys").await;
    b.expect_text("Your WooCommerce store is connected").await;
    onboard_steps_three_and_four(&b).await;
    b.expect_text("API keys pasted by you").await;
    b.close().await;
}

#[tokio::test]
async fn a_seller_who_leaves_at_step_two_finds_it_again() {
    let app = TestApp::spawn().await;
    let b = Browser::start("onboarding_leave_and_return").await;
    onboard_step_one(&b, &app).await;
    b.click("Sign out").await;
    b.expect_text("Sign in").await;
    b.fill("Email", "shop@example.com").await;
    b.fill("Password", SELLER_PASSWORD).await;
    b.click("Sign in").await;
    b.expect_text("Step 2 of 4: Connect your store").await;
    b.screenshot("back-at-step-2").await;
    b.click("Dashboard").await;
    b.expect_text("Setup is not finished: Step 2 of 4").await;
    b.click("Continue setup").await;
    b.expect_text("Step 2 of 4: Connect your store").await;
    b.close().await;
}

#[tokio::test]
async fn a_seller_sets_product_rules_launches_and_fixes_an_offer_refused_by_the_marketplace() {
    let app = TestApp::spawn().await;
    let b = Browser::start("catalog_export").await;
    onboard_step_one(&b, &app).await;
    fill_store_keys(&b, &app).await;
    b.click("Connect with API keys").await;
    b.expect_text("Step 3 of 4: Settings").await;
    b.click("Save and continue").await;
    b.expect_text("Step 4 of 4: Launch").await;

    // The price rule: +10 %, prices ending in .99.
    b.click("Product settings").await;
    b.fill("Markup (%)", "10").await;
    b.select("Rounding", "End prices in .99").await;
    b.screenshot("product-settings").await;
    b.click("Save settings").await;
    b.expect_text("Settings saved").await;

    b.click("Dashboard").await;
    b.click("Continue setup").await;
    b.click("Launch").await;
    b.expect_text("Marketbridge is live").await;
    app.settle().await;

    // A marketplace store too.
    connect_demo_marketplace(&b).await;
    b.click("Launch").await;
    b.expect_text("Demo Marketplace is live").await;
    app.settle().await;

    let connect = app.sandbox.connect_products("demo-company");
    assert!(
        !connect.is_empty(),
        "the products arrived on Mirakl Connect"
    );
    let offers = app.sandbox.marketplace_offers("demo-marketplace", 2001);
    assert!(!offers.is_empty(), "the offers arrived on the marketplace");
    assert!(
        offers
            .iter()
            .all(|o| o["price"].to_string().trim_matches('"').ends_with(".99")),
        "the price rule applies"
    );

    b.click("Dashboard").await;
    b.expect_text("Recent syncs").await;
    b.screenshot("dashboard-syncs").await;
    b.click("Products").await;
    b.select("State", "Error").await;
    b.click("Filter").await;
    b.expect_text("The product does not exist").await;
    b.screenshot("products-with-errors").await;

    // The seller corrects the GTIN in WooCommerce; the store's webhook brings the change.
    let (ws, market) = app.the_marketplace_channel().await;
    let (refused, typo) = app.a_product_refused_for_its_gtin(ws, market).await;
    app.correct_gtin_in_the_shop(refused.shop_product_id, &sandbox::corrected_gtin(&typo))
        .await;
    app.sandbox.settle_webhooks().await;
    app.settle().await;

    b.goto(&app.url(&format!("/products?q={}", refused.sku)))
        .await;
    b.expect_text(&refused.sku).await;
    b.expect_text("Live").await;
    assert!(!b.text().await.contains("The product does not exist"));
    b.screenshot("fixed-and-live").await;
    b.close().await;
}

/// Onboards with pasted keys and launches, then runs a Disconnect with `choice` from the
/// Account page, as the seller would; returns the app to check the sandbox.
async fn disconnect_with(choice: &str, shots: &str) -> TestApp {
    let app = TestApp::spawn().await;
    let b = Browser::start(shots).await;
    onboard_step_one(&b, &app).await;
    fill_store_keys(&b, &app).await;
    b.click("Connect with API keys").await;
    b.click("Save and continue").await;
    b.click("Launch").await;
    b.expect_text("Marketbridge is live").await;
    app.settle().await;
    assert!(!app.sandbox.connect_products("demo-company").is_empty());

    b.click("Account").await;
    b.click("Disconnect").await;
    b.expect_text("On Mirakl today").await;
    b.expect_text("products and variants").await;
    b.expect_text("Orders: No open order.").await;
    b.choose(choice).await;
    let disabled = b.button_disabled("Disconnect & Continue").await;
    assert!(disabled, "the button waits for the typed word");
    b.fill("Type disconnect to confirm", "disconnect").await;
    assert!(!b.button_disabled("Disconnect & Continue").await);
    b.screenshot("dialog").await;
    b.click("Disconnect & Continue").await;
    b.expect_text("Disconnecting").await;
    app.settle().await;
    b.expect_text("Marketbridge is disconnected").await;
    b.screenshot("disconnected").await;
    assert!(
        app.sandbox
            .woo_webhooks("demo-shop")
            .iter()
            .all(|h| !h.delivery_url.contains("/webhooks/woocommerce/")),
        "the webhooks are gone from the store"
    );

    b.click("Sign out").await;
    b.fill("Email", "shop@example.com").await;
    b.fill("Password", SELLER_PASSWORD).await;
    b.click("Sign in").await;
    b.expect_text("Step 1 of 4: Authorize Mirakl Connect").await;
    b.screenshot("next-sign-in").await;
    b.close().await;
    app
}

#[tokio::test]
async fn disconnecting_and_keeping_the_catalog_leaves_it_on_mirakl() {
    let app = disconnect_with("Disconnect & keep catalog active", "disconnect_keep").await;
    let products = app.sandbox.connect_products("demo-company");
    assert!(!products.is_empty());
    assert!(products.iter().any(|p| {
        p["quantities"][0]["available_quantity"]
            .as_i64()
            .unwrap_or(0)
            > 0
    }));
}

#[tokio::test]
async fn disconnecting_with_deactivate_sets_every_quantity_to_zero() {
    let app = disconnect_with("Deactivate Products", "disconnect_deactivate").await;
    let products = app.sandbox.connect_products("demo-company");
    assert!(!products.is_empty());
    assert!(products.iter().all(|p| {
        p["quantities"][0]["available_quantity"]
            .as_i64()
            .unwrap_or(0)
            == 0
    }));
}

#[tokio::test]
async fn disconnecting_with_delete_leaves_nothing_on_mirakl() {
    let app = disconnect_with("Delete Products", "disconnect_delete").await;
    assert!(app.sandbox.connect_products("demo-company").is_empty());
}

#[tokio::test]
async fn a_seller_maps_a_marketplaces_attributes_and_categories_to_create_products() {
    let app = TestApp::spawn().await;
    let b = Browser::start("product_creation").await;
    onboard_step_one(&b, &app).await;
    fill_store_keys(&b, &app).await;
    b.click("Connect with API keys").await;
    onboard_steps_three_and_four(&b).await;
    app.settle().await;
    connect_demo_marketplace(&b).await;
    b.expect_text("Demo Store (store 2001)").await;

    b.click("Product creation").await;
    b.expect_text("Product creation is on for Demo Marketplace while a mapping is saved")
        .await;
    b.expect_text("Seller SKU").await;
    b.expect_text("Values: Red, Blue").await;
    b.screenshot("suggested-mapping").await;
    b.select("Outdoor", "Fashion › Accessories").await;
    b.select("Default category", "Uncategorized").await;
    b.screenshot("category-mapped").await;
    b.click("Save mapping").await;
    b.expect_text("Mapping saved").await;
    b.expect_text("Stop creating products").await;
    b.screenshot("mapping-saved").await;

    let (ws, market) = app.the_marketplace_channel().await;
    let mapping = app
        .storage()
        .channel_mapping(ws, market)
        .await
        .unwrap()
        .expect("the mapping is saved");
    assert!(mapping.categories.values().any(|c| c == "accessories"));
    assert_eq!(mapping.default_category.as_deref(), Some("uncategorized"));
    b.close().await;
}

#[tokio::test]
async fn a_seller_accepts_an_order_by_hand_and_sees_it_reach_the_store() {
    let app = TestApp::spawn().await;
    let b = Browser::start("order_accepted_by_hand").await;
    onboard_step_one(&b, &app).await;
    fill_store_keys(&b, &app).await;
    b.click("Connect with API keys").await;
    onboard_steps_three_and_four(&b).await;
    app.settle().await;
    connect_demo_marketplace(&b).await;
    b.click("Launch").await;
    b.expect_text("Demo Marketplace is live").await;
    app.settle().await;

    // The seller decides on each order.
    b.click("Order settings").await;
    b.choose("Accept orders automatically").await;
    b.screenshot("order-settings").await;
    b.click("Save order settings").await;
    b.expect_text("Order settings saved").await;
    b.click("Orders").await;
    b.expect_text("No order yet").await;

    // A customer buys on the marketplace; the next poll brings the order.
    let [order_id]: [String; 1] = app
        .sandbox
        .mmp_place_orders("demo-marketplace", 2001, 1, &[])
        .unwrap()
        .try_into()
        .unwrap();
    let (ws, market) = app.the_marketplace_channel().await;
    app.connector()
        .flows
        .orders
        .poll_now(ws, market)
        .await
        .unwrap();
    app.settle().await;

    b.click("Dashboard").await;
    b.expect_text("To accept: 1").await;
    b.click("Orders").await;
    b.expect_text(&order_id).await;
    b.expect_text("Accept or refuse this order").await;
    b.screenshot("orders").await;
    b.click(&order_id).await;
    b.expect_text("Your decision").await;
    b.expect_text("Mirakl shows the address once the customer has paid.")
        .await;
    b.screenshot("order-to-accept").await;
    b.click("Accept").await;
    b.expect_text("You accepted the order").await;
    b.screenshot("accepted").await;

    // Mirakl takes the payment and shows the address; the order reaches the store.
    app.settle().await;
    app.sandbox.settle_webhooks().await;
    app.settle().await;
    let mirakl = app
        .sandbox
        .mmp_order("demo-marketplace", &order_id)
        .unwrap();
    assert_eq!(mirakl["order_state"], "SHIPPING");
    b.click("All orders").await;
    b.expect_text("To ship").await;
    b.click(&order_id).await;
    b.expect_text("Accepted on Mirakl").await;
    b.expect_text("Shop order #").await;
    b.expect_text("Order created in your store").await;
    b.screenshot("in-the-store").await;
    assert!(!b.text().await.contains("Your decision"));
    b.close().await;
}

/// Asks Demo Marketplace for its orders now, and runs every job that follows, the store's
/// webhooks included: what the worker does at its next poll.
async fn poll_the_marketplace(app: &TestApp) {
    let (ws, market) = app.the_marketplace_channel().await;
    app.connector()
        .flows
        .orders
        .poll_now(ws, market)
        .await
        .unwrap();
    app.settle().await;
    app.sandbox.settle_webhooks().await;
    app.settle().await;
}

/// The page's visible text with its line breaks folded, so a label and its value read as one
/// phrase ("Stage Shipped"), whichever way the stylesheet lays them out.
async fn folded_text(b: &Browser) -> String {
    b.text()
        .await
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The store's order that carries this Mirakl order id: its id and its number.
fn shop_order_of(app: &TestApp, mirakl_id: &str) -> (i64, String) {
    let found: Vec<serde_json::Value> = app
        .sandbox
        .woo_order_ids("demo-shop")
        .into_iter()
        .filter_map(|id| app.sandbox.woo_order("demo-shop", id))
        .filter(|o| {
            o["meta_data"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|m| m["key"] == "mirakl_order_id" && m["value"] == mirakl_id)
        })
        .collect();
    assert_eq!(found.len(), 1, "one shop order for {mirakl_id}: {found:?}");
    let order = &found[0];
    (
        order["id"].as_i64().unwrap(),
        order["number"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn an_order_placed_on_the_marketplace_reaches_the_store_and_ships_with_its_tracking() {
    let app = TestApp::spawn().await;
    let b = Browser::start("order_shipped_with_tracking").await;
    onboard_step_one(&b, &app).await;
    fill_store_keys(&b, &app).await;
    b.click("Connect with API keys").await;
    onboard_steps_three_and_four(&b).await;
    app.settle().await;
    connect_demo_marketplace(&b).await;
    b.click("Launch").await;
    b.expect_text("Demo Marketplace is live").await;
    app.settle().await;

    // A customer buys on Demo Marketplace. The next poll brings the order, accepts it (the
    // default settings) and, once Mirakl shows the address, creates it in the store.
    let (ws, market) = app.the_marketplace_channel().await;
    let sku = app.a_live_sku_in_stock(ws, market, 1).await;
    let [order_id]: [String; 1] = app
        .sandbox
        .mmp_place_orders("demo-marketplace", 2001, 1, &[(sku.clone(), 1)])
        .unwrap()
        .try_into()
        .unwrap();
    poll_the_marketplace(&app).await;
    let (shop_id, shop_number) = shop_order_of(&app, &order_id);

    b.click("Orders").await;
    b.expect_text(&order_id).await;
    b.expect_text(&format!("#{shop_number}")).await;
    let listed = folded_text(&b).await;
    assert!(
        listed.contains(&format!(
            "To ship Mirakl: SHIPPING #{shop_number} processing"
        )),
        "the row shows both states and the shop order: {listed}"
    );
    b.screenshot("orders").await;
    b.click(&order_id).await;
    b.expect_text(&sku).await;
    b.expect_text("Accepted on Mirakl").await;
    b.expect_text(&format!("Shop order #{shop_number} created"))
        .await;
    b.screenshot("in-the-store").await;

    // The seller ships from the store with a tracking number; Mirakl hears of it.
    app.sandbox
        .woo_complete_order("demo-shop", shop_id, Some(("colissimo", "6A123")))
        .unwrap();
    app.sandbox.settle_webhooks().await;
    app.settle().await;
    poll_the_marketplace(&app).await;
    let mirakl = app
        .sandbox
        .mmp_order("demo-marketplace", &order_id)
        .unwrap();
    assert_eq!(mirakl["order_state"], "SHIPPED");
    assert_eq!(mirakl["shipping_tracking"], "6A123");

    let order_page = b.current_url().await;
    b.goto(order_page.as_str()).await;
    b.expect_text("Shipped on Mirakl with tracking 6A123").await;
    let detail = folded_text(&b).await;
    assert!(
        detail.contains("Stage Shipped Mirakl state SHIPPED"),
        "the order shows as shipped: {detail}"
    );
    assert!(
        detail.contains(&format!("Shop order #{shop_number} (completed)")),
        "and completed in the store: {detail}"
    );
    b.screenshot("shipped").await;
    b.close().await;
}

/// A BigCommerce merchant installs Marketbridge from My Apps in the store's control panel,
/// lands signed in at Step 1, finishes onboarding, and the products reach Mirakl Connect.
/// Uninstalling the app from the control panel disconnects the store, and the next visit
/// says so.
#[tokio::test]
async fn a_bigcommerce_merchant_installs_the_app_onboards_and_uninstalls_it() {
    let app = TestApp::spawn().await;
    let b = Browser::start("bigcommerce_app").await;
    let my_apps = format!(
        "{}bc/manage/{}",
        app.sandbox_url,
        sandbox::BC_DEMO_STORE_HASH
    );
    b.goto(&my_apps).await;
    b.expect_text("My Apps").await;
    b.screenshot("bc-my-apps").await;
    b.click("Install").await;
    b.expect_text("Step 1 of 4: Authorize Mirakl Connect").await;
    b.screenshot("bc-installed-step-1").await;
    b.click("Authorize Mirakl Connect").await;
    mas_sign_in(&b, MAS_PASSWORD).await;
    b.expect_text("Company").await;
    b.select("Company", "Demo Company").await;
    b.click("Confirm").await;
    b.expect_text("Accept").await;
    b.click("Accept").await;
    // The store came with the install: Step 2 is already done.
    b.expect_text("Step 3 of 4: Settings").await;
    b.click("Save and continue").await;
    b.expect_text("Step 4 of 4: Launch").await;
    b.expect_text("BigCommerce store").await;
    b.click("Launch").await;
    b.expect_text("Marketbridge is live").await;
    app.settle().await;
    assert!(
        !app.sandbox.connect_products("demo-company").is_empty(),
        "the products arrived on Mirakl Connect"
    );
    b.click("Account").await;
    b.expect_text("The Marketbridge app, installed from BigCommerce")
        .await;
    b.expect_text("store/product/*: active").await;
    b.screenshot("bc-account").await;

    b.goto(&my_apps).await;
    b.click("Uninstall").await;
    b.expect_text("Not installed").await;
    app.settle().await;
    b.goto(&app.url("/")).await;
    b.expect_text("The Marketbridge app was uninstalled from your BigCommerce store")
        .await;
    b.expect_text("Setup is not finished: Step 1 of 4").await;
    b.screenshot("bc-uninstalled").await;
    b.close().await;
}
