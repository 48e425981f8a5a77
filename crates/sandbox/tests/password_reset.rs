//! Forgotten password: reset e-mail, reset page, and the verification code on the next sign-in.

mod support;

use axum::http::StatusCode;
use support::{EMAIL, PASSWORD, PUBLIC_URL, Pkce, TestSandbox};

const NEW_PASSWORD: &str = "a-brand-new-pass";

/// The reset link of the latest reset e-mail, as a path on the sandbox.
fn reset_path(sandbox: &TestSandbox) -> String {
    let mail = sandbox.sandbox.mailbox().pop().expect("a reset e-mail");
    assert_eq!(mail.to, EMAIL);
    assert_eq!(mail.subject, "Reset your Mirakl password");
    let link = mail
        .body
        .split_whitespace()
        .find(|word| word.starts_with(PUBLIC_URL))
        .expect("a link to the sandbox")
        .to_owned();
    assert!(link.starts_with(&format!("{PUBLIC_URL}/mas/reset-password?token=")));
    link[PUBLIC_URL.len()..].to_owned()
}

#[tokio::test]
async fn a_reset_password_asks_for_the_mailed_code_on_the_next_sign_in() {
    let sandbox = TestSandbox::start();
    let mut browser = sandbox.browser();
    let pkce = Pkce::new();
    let login = browser.authorize(&pkce.params("after-reset")).await;

    let forgot = browser.get("/mas/forgot-password").await;
    assert!(forgot.body.contains(r#"<label for="email">Email</label>"#));
    assert!(forgot.body.contains(">Send reset link</button>"));
    let sent = browser
        .submit(&forgot, "/mas/forgot-password", &[("email", EMAIL)])
        .await;
    assert!(sent.body.contains("If an account exists"));

    let reset = browser.get(&reset_path(&sandbox)).await;
    assert_eq!(reset.status, StatusCode::OK);
    assert!(
        reset
            .body
            .contains(r#"<label for="new_password">New password</label>"#)
    );
    assert!(
        reset
            .body
            .contains(r#"<label for="confirm_password">Confirm password</label>"#)
    );
    let token = support::hidden_field(&reset.body, "token").unwrap();
    let mismatch = browser
        .submit(
            &reset,
            "/mas/reset-password",
            &[
                ("token", &token),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", "other-pass"),
            ],
        )
        .await;
    assert!(mismatch.body.contains("The two passwords differ"));
    let done = browser
        .submit(
            &mismatch,
            "/mas/reset-password",
            &[
                ("token", &token),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert!(done.body.contains("Your password was changed"));

    let old = browser.sign_in(&login, EMAIL, PASSWORD).await;
    assert!(old.body.contains("The email or password is incorrect"));
    let verify = browser.sign_in(&old, EMAIL, NEW_PASSWORD).await;
    assert!(
        verify
            .body
            .contains(r#"<label for="code">Verification code</label>"#)
    );
    assert!(verify.body.contains(">Verify</button>"));
    let mail = sandbox.sandbox.mailbox().pop().unwrap();
    assert_eq!(mail.subject, "Your Mirakl verification code");
    let code: String = mail
        .body
        .chars()
        .filter(char::is_ascii_digit)
        .take(6)
        .collect();

    let wrong_code = if code == "000000" { "111111" } else { "000000" };
    let retry = browser
        .submit(&verify, "/mas/verify", &[("code", wrong_code)])
        .await;
    assert!(retry.body.contains("That verification code is not right"));
    let selection = browser
        .submit(&retry, "/mas/verify", &[("code", &code)])
        .await;
    assert!(
        selection.body.contains("Choose your store"),
        "{}",
        selection.body
    );

    // The code is asked once only: the next sign-in goes straight on.
    let mut other_browser = sandbox.browser();
    let login = other_browser.authorize(&pkce.params("later")).await;
    let next = other_browser.sign_in(&login, EMAIL, NEW_PASSWORD).await;
    assert!(next.body.contains("Choose your store"));
}

#[tokio::test]
async fn forgot_password_answers_the_same_for_an_unknown_account() {
    let sandbox = TestSandbox::start();
    let mut browser = sandbox.browser();
    let forgot = browser.get("/mas/forgot-password").await;
    let sent = browser
        .submit(
            &forgot,
            "/mas/forgot-password",
            &[("email", "nobody@example.com")],
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK);
    assert!(sent.body.contains("If an account exists"));
    assert!(sandbox.sandbox.mailbox().is_empty());
}

#[tokio::test]
async fn a_reset_link_works_once() {
    let sandbox = TestSandbox::start();
    let mut browser = sandbox.browser();
    let forgot = browser.get("/mas/forgot-password").await;
    browser
        .submit(&forgot, "/mas/forgot-password", &[("email", EMAIL)])
        .await;
    let path = reset_path(&sandbox);
    let reset = browser.get(&path).await;
    let token = support::hidden_field(&reset.body, "token").unwrap();
    browser
        .submit(
            &reset,
            "/mas/reset-password",
            &[
                ("token", &token),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;

    let reused = browser.get(&path).await;
    assert_eq!(reused.status, StatusCode::BAD_REQUEST);
    assert!(reused.body.contains("This reset link no longer works"));
}
