use reqwest::StatusCode;
use test_support::flows::SELLER_PASSWORD;
use test_support::{TestApp, Visitor};

#[tokio::test]
async fn a_seller_signs_up_signs_out_and_signs_in_again() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    let step1 = app.sign_up(&v, "shop@example.com").await;
    v.get(&app.url("/")).await.expect_text("No channel yet");

    let signed_out = v.submit(&step1.form("Sign out", &[])).await;
    signed_out.expect_text("Sign in");
    // Signed out means signed out: the dashboard sends us back to the sign-in page.
    assert!(v.get(&app.url("/")).await.url.path().ends_with("/sign-in"));

    let page = v.get(&app.url("/sign-in")).await;
    let page = v
        .submit(&page.form(
            "Sign in",
            &[("Email", "Shop@Example.com"), ("Password", SELLER_PASSWORD)],
        ))
        .await;
    page.expect_text("Dashboard");
}

#[tokio::test]
async fn a_second_account_with_the_same_email_is_refused_clearly() {
    let app = TestApp::spawn().await;
    app.sign_up(&Visitor::new(), "shop@example.com").await;
    let v = Visitor::new();
    let page = v.get(&app.url("/sign-up")).await;
    let page = v
        .submit(&page.form(
            "Create account",
            &[("Email", "shop@example.com"), ("Password", SELLER_PASSWORD)],
        ))
        .await;
    page.expect_text("An account with this e-mail already exists");
}

#[tokio::test]
async fn sign_up_explains_a_bad_email_or_a_short_password() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    let page = v.get(&app.url("/sign-up")).await;
    let again = v
        .submit(&page.form(
            "Create account",
            &[("Email", "not-an-email"), ("Password", SELLER_PASSWORD)],
        ))
        .await;
    again.expect_text("Enter a valid e-mail address");
    let again = v
        .submit(&again.form(
            "Create account",
            &[("Email", "shop@example.com"), ("Password", "short")],
        ))
        .await;
    again.expect_text("Use at least 12 characters");
    assert!(
        app.storage()
            .find_account_by_email(&domain::Email::parse("shop@example.com").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_per_account() {
    let app = TestApp::spawn().await;
    app.sign_up(&Visitor::new(), "shop@example.com").await;
    let v = Visitor::new();
    let mut page = v.get(&app.url("/sign-in")).await;
    for _ in 0..5 {
        page = v
            .submit(&page.form(
                "Sign in",
                &[
                    ("Email", "shop@example.com"),
                    ("Password", "wrong password!"),
                ],
            ))
            .await;
    }
    page.expect_text("Too many failed sign-ins");
    // Even the right password is refused while the account is locked.
    let page = v
        .submit(&page.form(
            "Sign in",
            &[("Email", "shop@example.com"), ("Password", SELLER_PASSWORD)],
        ))
        .await;
    page.expect_text("Too many failed sign-ins");
    assert_eq!(page.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.sign_up(&Visitor::new(), "shop@example.com").await;
    let v = Visitor::new();
    let page = v.get(&app.url("/sign-in")).await;
    let unknown = v
        .submit(&page.form(
            "Sign in",
            &[
                ("Email", "nobody@example.com"),
                ("Password", SELLER_PASSWORD),
            ],
        ))
        .await;
    let wrong = v
        .submit(&unknown.form(
            "Sign in",
            &[
                ("Email", "shop@example.com"),
                ("Password", "not the password"),
            ],
        ))
        .await;
    unknown.expect_text("That e-mail and password do not match an account");
    wrong.expect_text("That e-mail and password do not match an account");
}

/// Forty wrong passwords at once for one account: each attempt is counted before its password
/// is checked, so only five are checked, the rest are refused, and the right password sent
/// after the burst is refused too.
async fn a_burst_of_wrong_passwords_checks_at_most_five(engine: test_support::Engine) {
    let app = TestApp::spawn_on(engine).await;
    app.sign_up(&Visitor::new(), "shop@example.com").await;
    let v = Visitor::new();
    let page = v.get(&app.url("/sign-in")).await;
    let wrong = page.form(
        "Sign in",
        &[
            ("Email", "shop@example.com"),
            ("Password", "wrong password!"),
        ],
    );
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let (v, wrong) = (v.clone(), wrong.clone());
        burst.spawn(async move { v.submit(&wrong).await });
    }
    let mut refused = 0;
    while let Some(page) = burst.join_next().await {
        let page = page.unwrap();
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        if page.contains("Too many failed sign-ins") {
            refused += 1;
        } else {
            page.expect_text("That e-mail and password do not match an account");
        }
    }
    let account = app
        .storage()
        .find_account_by_email(&domain::Email::parse("shop@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.failed_logins, 5, "five passwords were checked");
    // Four were told the password was wrong; the fifth failure locked the account, and it
    // and the 35 refused without a check say so.
    assert_eq!(refused, 36);
    let right = v
        .submit(&page.form(
            "Sign in",
            &[("Email", "shop@example.com"), ("Password", SELLER_PASSWORD)],
        ))
        .await;
    right.expect_text("Too many failed sign-ins");
}

#[tokio::test]
async fn a_burst_of_wrong_passwords_checks_at_most_five_on_sqlite() {
    a_burst_of_wrong_passwords_checks_at_most_five(test_support::Engine::Sqlite).await;
}

#[tokio::test]
async fn a_burst_of_wrong_passwords_checks_at_most_five_on_postgres() {
    a_burst_of_wrong_passwords_checks_at_most_five(test_support::Engine::Postgres).await;
}
