//! Signing in: e-mail and password, then, after a password reset, the code sent by e-mail.

use std::time::{Duration, SystemTime};

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use subtle::ConstantTimeEq;

use crate::Sandbox;
use crate::entropy::verification_code;
use crate::form::FormFields;
use crate::mail::Mail;
use crate::mas::authorize::{Step, go_to_next_step, show_step};
use crate::mas::session::{self, FormRefused, PendingVerification};
use crate::page::{self, Link};
use crate::world::World;

const CODE_LIFETIME: Duration = Duration::from_secs(10 * 60);
const CODE_ATTEMPTS: u8 = 5;

#[derive(Template)]
#[template(path = "mas/login.html")]
struct LoginPage {
    title: &'static str,
    client_name: Option<String>,
    email: String,
    error: Option<String>,
    csrf_token: String,
}

#[derive(Template)]
#[template(path = "mas/verify.html")]
struct VerifyPage {
    title: &'static str,
    email: String,
    error: Option<String>,
    csrf_token: String,
}

#[derive(Template)]
#[template(path = "mas/signed_in.html")]
struct SignedInPage {
    title: &'static str,
    email: String,
    csrf_token: String,
}

pub async fn show(State(sandbox): State<Sandbox>, headers: HeaderMap) -> Response {
    show_step(&sandbox, &headers, |world, session_id, step| match step {
        Step::SignIn => Some(login_page(world, session_id, String::new(), None)),
        Step::Idle => Some(signed_in_page(world, session_id)),
        _ => None,
    })
}

pub async fn submit(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    form: FormFields,
) -> Result<Response, FormRefused> {
    let mut world = sandbox.world();
    let session_id = session::check_form(&mut world, &headers, &form)?;
    let email = form.get("email").unwrap_or_default().trim().to_owned();
    let password = form.get("password").unwrap_or_default();
    let user = world
        .user_by_email(&email)
        .filter(|user| bool::from(user.password.as_bytes().ct_eq(password.as_bytes())))
        .cloned();
    let Some(user) = user else {
        let error = "The email or password is incorrect. Check both and try again, \
                     or use “Forgot password?” to choose a new password.";
        return Ok(login_page(
            &world,
            &session_id,
            email,
            Some(error.to_owned()),
        ));
    };

    if user.verification_required {
        let code = verification_code();
        world
            .mailbox
            .push(Mail::verification_code(&user.email, &code, CODE_LIFETIME));
        if let Some(browser) = world.sessions.get_mut(&session_id) {
            browser.user_id = None;
            browser.verification = Some(PendingVerification {
                user_id: user.id,
                code,
                expires_at: SystemTime::now() + CODE_LIFETIME,
                attempts_left: CODE_ATTEMPTS,
            });
        }
        return Ok(page::see_other(Step::Verify.path()));
    }
    Ok(sign_in(&mut world, &session_id, &user.id))
}

pub async fn show_verify(State(sandbox): State<Sandbox>, headers: HeaderMap) -> Response {
    show_step(&sandbox, &headers, |world, session_id, step| {
        (step == Step::Verify).then(|| verify_page(world, session_id, None))
    })
}

pub async fn submit_verify(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    form: FormFields,
) -> Result<Response, FormRefused> {
    let mut world = sandbox.world();
    let session_id = session::check_form(&mut world, &headers, &form)?;
    let Some(pending) = world
        .sessions
        .get_mut(&session_id)
        .and_then(|browser| browser.verification.as_mut())
    else {
        return Ok(go_to_next_step(&mut world, &session_id));
    };
    let sign_in_again = Link::new("/mas/login", "Sign in again");
    if SystemTime::now() > pending.expires_at {
        clear_verification(&mut world, &session_id);
        return Ok(page::error_with_link(
            StatusCode::BAD_REQUEST,
            "The verification code has expired",
            "Codes work for 10 minutes. Sign in again and we will send a new one.",
            sign_in_again,
        ));
    }
    let sent = form.get("code").unwrap_or_default().trim();
    if !bool::from(sent.as_bytes().ct_eq(pending.code.as_bytes())) {
        pending.attempts_left = pending.attempts_left.saturating_sub(1);
        if pending.attempts_left == 0 {
            clear_verification(&mut world, &session_id);
            return Ok(page::error_with_link(
                StatusCode::BAD_REQUEST,
                "Too many wrong codes",
                "For your safety this code no longer works. Sign in again and we will send a new one.",
                sign_in_again,
            ));
        }
        let error = format!(
            "That verification code is not right. Check the latest e-mail and try again \
             ({} attempts left).",
            pending.attempts_left
        );
        return Ok(verify_page(&world, &session_id, Some(error)));
    }

    let user_id = pending.user_id.clone();
    if let Some(user) = world.user_mut(&user_id) {
        user.verification_required = false;
    }
    Ok(sign_in(&mut world, &session_id, &user_id))
}

/// Signs the user in under a fresh session and sends the browser on to its next step.
fn sign_in(world: &mut World, session_id: &str, user_id: &str) -> Response {
    let session = session::sign_in(world, session_id, user_id);
    let response = go_to_next_step(world, &session.id);
    session.attach(world, response)
}

/// Forgets who is signed in, keeping the authorization in progress for another account.
pub async fn sign_out(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    form: FormFields,
) -> Result<Response, FormRefused> {
    let mut world = sandbox.world();
    let session_id = session::check_form(&mut world, &headers, &form)?;
    if let Some(browser) = world.sessions.get_mut(&session_id) {
        browser.user_id = None;
        browser.verification = None;
    }
    Ok(page::see_other(Step::SignIn.path()))
}

fn clear_verification(world: &mut World, session_id: &str) {
    if let Some(browser) = world.sessions.get_mut(session_id) {
        browser.verification = None;
    }
}

fn login_page(world: &World, session_id: &str, email: String, error: Option<String>) -> Response {
    let client_name = world
        .sessions
        .get(session_id)
        .and_then(|browser| browser.pending.as_ref())
        .and_then(|pending| world.clients.get(&pending.client_id))
        .map(|client| client.name.clone());
    page::render(
        StatusCode::OK,
        &LoginPage {
            title: "Sign in",
            client_name,
            email,
            error,
            csrf_token: session::csrf_token(world, session_id),
        },
    )
}

fn verify_page(world: &World, session_id: &str, error: Option<String>) -> Response {
    let email = world
        .sessions
        .get(session_id)
        .and_then(|browser| browser.verification.as_ref())
        .and_then(|pending| world.user(&pending.user_id))
        .map(|user| user.email.clone())
        .unwrap_or_default();
    page::render(
        StatusCode::OK,
        &VerifyPage {
            title: "Check your e-mail",
            email,
            error,
            csrf_token: session::csrf_token(world, session_id),
        },
    )
}

fn signed_in_page(world: &World, session_id: &str) -> Response {
    page::render(
        StatusCode::OK,
        &SignedInPage {
            title: "You are signed in",
            email: session::signed_in_email(world, session_id),
            csrf_token: session::csrf_token(world, session_id),
        },
    )
}
