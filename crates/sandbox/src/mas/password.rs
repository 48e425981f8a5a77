//! Forgotten passwords: the reset e-mail with its single-use link, and the reset page. A reset
//! makes the next sign-in ask for an e-mailed verification code, as Mirakl's SSO does.

use std::time::{Duration, SystemTime};

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use crate::Sandbox;
use crate::entropy::random_token;
use crate::form::FormFields;
use crate::mail::Mail;
use crate::mas::session::{self, FormRefused};
use crate::page::{self, Link};
use crate::world::World;

const RESET_LIFETIME: Duration = Duration::from_secs(30 * 60);
const MIN_PASSWORD_LENGTH: usize = 8;

/// A reset link not used yet.
#[derive(Debug, Clone)]
pub struct ResetToken {
    pub user_id: String,
    pub expires_at: SystemTime,
}

#[derive(Template)]
#[template(path = "mas/forgot.html")]
struct ForgotPage {
    title: &'static str,
    csrf_token: String,
}

#[derive(Template)]
#[template(path = "mas/reset.html")]
struct ResetPage {
    title: &'static str,
    token: String,
    error: Option<String>,
    csrf_token: String,
}

#[derive(Deserialize)]
pub struct ResetQuery {
    #[serde(default)]
    token: String,
}

pub async fn show_forgot(State(sandbox): State<Sandbox>, headers: HeaderMap) -> Response {
    let mut world = sandbox.world();
    let session = session::open(&mut world, &headers);
    let response = page::render(
        StatusCode::OK,
        &ForgotPage {
            title: "Forgot your password?",
            csrf_token: session::csrf_token(&world, &session.id),
        },
    );
    session.attach(&world, response)
}

pub async fn submit_forgot(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    form: FormFields,
) -> Result<Response, FormRefused> {
    let mut world = sandbox.world();
    session::check_form(&mut world, &headers, &form)?;
    let email = form.get("email").unwrap_or_default().trim().to_owned();
    if let Some(user) = world.user_by_email(&email).cloned() {
        let token = random_token();
        let link = world.url(&format!("/mas/reset-password?token={token}"));
        world.reset_tokens.insert(
            token,
            ResetToken {
                user_id: user.id,
                expires_at: SystemTime::now() + RESET_LIFETIME,
            },
        );
        world
            .mailbox
            .push(Mail::password_reset(&user.email, &link, RESET_LIFETIME));
    }
    // The same answer whether or not the account exists, so the page reveals no account.
    Ok(page::message(
        "Check your e-mail",
        vec![
            "If an account exists for that e-mail address, we sent a link to reset its password."
                .to_owned(),
            "The link works once, for 30 minutes. Nothing arrived? Check the address and ask again."
                .to_owned(),
        ],
        Some(Link::new("/mas/login", "Back to sign in")),
    ))
}

pub async fn show_reset(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Query(query): Query<ResetQuery>,
) -> Response {
    let mut world = sandbox.world();
    if live_reset(&world, &query.token).is_none() {
        return dead_link();
    }
    let session = session::open(&mut world, &headers);
    let response = reset_page(&world, &session.id, query.token, None);
    session.attach(&world, response)
}

pub async fn submit_reset(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    form: FormFields,
) -> Result<Response, FormRefused> {
    let mut world = sandbox.world();
    let session_id = session::check_form(&mut world, &headers, &form)?;
    let token = form.get("token").unwrap_or_default().to_owned();
    let Some(user_id) = live_reset(&world, &token) else {
        return Ok(dead_link());
    };
    let new_password = form.get("new_password").unwrap_or_default();
    let confirmation = form.get("confirm_password").unwrap_or_default();
    let problem = if new_password.chars().count() < MIN_PASSWORD_LENGTH {
        Some(format!(
            "Choose a password of at least {MIN_PASSWORD_LENGTH} characters."
        ))
    } else if new_password != confirmation {
        Some("The two passwords differ. Type the same password in both fields.".to_owned())
    } else {
        None
    };
    if let Some(problem) = problem {
        return Ok(reset_page(&world, &session_id, token, Some(problem)));
    }

    let new_password = new_password.to_owned();
    if let Some(user) = world.user_mut(&user_id) {
        user.password = new_password;
        user.verification_required = true;
    }
    // Every other reset link of the user dies with this one, and so does every signed-in session.
    world
        .reset_tokens
        .retain(|_, reset| reset.user_id != user_id);
    for browser in world.sessions.values_mut() {
        if browser.user_id.as_deref() == Some(&user_id) {
            browser.user_id = None;
        }
    }
    Ok(page::message(
        "Your password was changed",
        vec![
            "Sign in with your new password. For your safety we will e-mail you a verification \
             code to enter after it."
                .to_owned(),
        ],
        Some(Link::new("/mas/login", "Sign in")),
    ))
}

/// The user a reset token belongs to, if it is known and not expired.
fn live_reset(world: &World, token: &str) -> Option<String> {
    world
        .reset_tokens
        .get(token)
        .filter(|reset| SystemTime::now() < reset.expires_at)
        .map(|reset| reset.user_id.clone())
}

fn dead_link() -> Response {
    page::error_with_link(
        StatusCode::BAD_REQUEST,
        "This reset link no longer works",
        "Reset links work once, for 30 minutes. Ask for a new one.",
        Link::new("/mas/forgot-password", "Send a new reset link"),
    )
}

fn reset_page(world: &World, session_id: &str, token: String, error: Option<String>) -> Response {
    page::render(
        StatusCode::OK,
        &ResetPage {
            title: "Choose a new password",
            token,
            error,
            csrf_token: session::csrf_token(world, session_id),
        },
    )
}
