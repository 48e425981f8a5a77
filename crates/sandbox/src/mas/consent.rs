//! The consent page: what the client will be allowed to do, Accept or Decline. Accept sends the
//! browser back with an authorization code; Decline with `access_denied`.

use std::time::SystemTime;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::Sandbox;
use crate::entropy::random_token;
use crate::form::FormFields;
use crate::mas::authorize::{Step, form_at_step, go_to_next_step, redirect_to_client, show_step};
use crate::mas::grants::AuthorizationCode;
use crate::mas::session;
use crate::page;
use crate::world::{Grant, GrantKind, SelectionKey, World};

#[derive(Template)]
#[template(path = "mas/consent.html")]
struct ConsentPage {
    title: &'static str,
    client_name: String,
    access: String,
    permissions: &'static [&'static str],
    email: String,
    csrf_token: String,
}

/// What a marketplace-seller client may do with the store (the operations the connector uses).
const MARKETPLACE_PERMISSIONS: &[&str] = &[
    "Read your store account: name, state, currency",
    "Create products and manage your offers: prices and stock",
    "Read your orders, accept or refuse them, and cancel them",
    "Send shipments and tracking numbers",
];

const CONNECT_PERMISSIONS: &[&str] = &[
    "Read your company account",
    "Create and update your products, prices and stock",
    "Read your orders, accept them, and manage shipments, cancellations and refunds",
];

pub async fn show(State(sandbox): State<Sandbox>, headers: HeaderMap) -> Response {
    show_step(&sandbox, &headers, |world, session_id, step| {
        (step == Step::Consent).then(|| consent_page(world, session_id))
    })
}

pub async fn submit(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    form: FormFields,
) -> Result<Response, Response> {
    let mut world = sandbox.world();
    let session_id = form_at_step(&mut world, &headers, &form, Step::Consent)?;
    let accepted = match form.get("decision") {
        Some("accept") => true,
        Some("decline") => false,
        _ => {
            return Err(page::error(
                StatusCode::BAD_REQUEST,
                "Choose Accept or Decline",
                "The consent form came back without a decision. Go back and press Accept or Decline.",
            ));
        }
    };
    let Some(browser) = world.sessions.get_mut(&session_id) else {
        return Err(go_to_next_step(&mut world, &session_id));
    };
    let (Some(pending), Some(user_id)) = (browser.pending.take(), browser.user_id.clone()) else {
        return Err(go_to_next_step(&mut world, &session_id));
    };
    let Some(grant) = pending.chosen.clone() else {
        return Err(go_to_next_step(&mut world, &session_id));
    };
    let state = pending.state.as_deref();

    if !accepted {
        let mut params = vec![
            ("error", "access_denied"),
            (
                "error_description",
                "The seller declined the authorization.",
            ),
        ];
        params.extend(state.map(|state| ("state", state)));
        return Ok(redirect_to_client(&pending.redirect_uri, &params));
    }

    world.selections.insert(
        SelectionKey {
            user_id: user_id.clone(),
            client_id: pending.client_id.clone(),
            kind: grant.kind(),
        },
        grant.clone(),
    );
    let code = random_token();
    let expires_at = SystemTime::now() + world.lifetimes.code;
    world.grants.add_code(
        code.clone(),
        AuthorizationCode {
            client_id: pending.client_id.clone(),
            redirect_uri: pending.redirect_uri.clone(),
            user_id,
            grant,
            scope: pending.scope.clone(),
            code_challenge: pending.code_challenge.clone(),
            expires_at,
        },
    );
    let mut params = vec![("code", code.as_str())];
    params.extend(state.map(|state| ("state", state)));
    Ok(redirect_to_client(&pending.redirect_uri, &params))
}

fn consent_page(world: &World, session_id: &str) -> Response {
    let Some(pending) = world
        .sessions
        .get(session_id)
        .and_then(|browser| browser.pending.as_ref())
    else {
        return page::see_other(Step::SignIn.path());
    };
    let Some(grant) = &pending.chosen else {
        return page::see_other(Step::Select.path());
    };
    let client_name = world
        .clients
        .get(&pending.client_id)
        .map(|client| client.name.clone())
        .unwrap_or_else(|| pending.client_id.clone());
    page::render(
        StatusCode::OK,
        &ConsentPage {
            title: "Allow access to your Mirakl account?",
            client_name,
            access: world.describe(grant),
            permissions: permissions(grant),
            email: session::signed_in_email(world, session_id),
            csrf_token: session::csrf_token(world, session_id),
        },
    )
}

fn permissions(grant: &Grant) -> &'static [&'static str] {
    match grant.kind() {
        GrantKind::Marketplace => MARKETPLACE_PERMISSIONS,
        GrantKind::Connect => CONNECT_PERMISSIONS,
    }
}
