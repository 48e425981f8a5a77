//! `GET /mas/authorize` (real: `https://auth.mirakl.net/authorize`) and the step machine that
//! walks the browser through sign-in, selection and consent.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::Sandbox;
use crate::form::FormFields;
use crate::mas::session::{self, FormRefused};
use crate::page;
use crate::world::{Grant, GrantKind, SelectionKey, World};

/// An authorization request accepted by `/authorize` and waiting for the seller.
#[derive(Debug, Clone)]
pub struct PendingAuthorization {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub scope: String,
    pub access: RequestedAccess,
    pub code_challenge: Option<String>,
    /// The store or company granted, once picked (or recalled from an earlier authorization).
    pub chosen: Option<Grant>,
}

/// What kind of access the client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestedAccess {
    /// A marketplace store; `instance` when the request named one marketplace.
    Marketplace { instance: Option<String> },
    /// A Mirakl Connect company; `company_id` when the request named one.
    Connect { company_id: Option<String> },
}

impl RequestedAccess {
    pub fn kind(&self) -> GrantKind {
        match self {
            RequestedAccess::Marketplace { .. } => GrantKind::Marketplace,
            RequestedAccess::Connect { .. } => GrantKind::Connect,
        }
    }

    /// Whether a grant answers this request.
    pub fn admits(&self, grant: &Grant) -> bool {
        match (self, grant) {
            (RequestedAccess::Marketplace { instance: None }, Grant::MarketplaceStore { .. }) => {
                true
            }
            (
                RequestedAccess::Marketplace {
                    instance: Some(wanted),
                },
                Grant::MarketplaceStore { instance, .. },
            ) => wanted == instance,
            (RequestedAccess::Connect { company_id: None }, Grant::ConnectCompany { .. }) => true,
            (
                RequestedAccess::Connect {
                    company_id: Some(wanted),
                },
                Grant::ConnectCompany { company_id },
            ) => wanted == company_id,
            _ => false,
        }
    }
}

/// ASSUMPTION: how MAS tells a Mirakl Connect authorization from a marketplace one is not
/// published (the authorize parameters beyond the URL are unknown). The sandbox reads the
/// optional `audience` parameter, following the `audience` that practitioners send to the token
/// endpoint for Connect:
/// - absent, empty or `marketplace`: a marketplace store, on any marketplace the user reaches;
/// - a marketplace instance (e.g. `demo-marketplace`): a store on that marketplace only;
/// - `connect`, or the id of a Connect company (e.g. `demo-company`): a Connect company.
///
/// Any other value is refused with `invalid_request`.
fn requested_access(world: &World, audience: Option<&str>) -> Result<RequestedAccess, String> {
    match audience {
        None | Some("marketplace") => Ok(RequestedAccess::Marketplace { instance: None }),
        Some("connect") => Ok(RequestedAccess::Connect { company_id: None }),
        Some(instance) if world.marketplaces.contains_key(instance) => {
            Ok(RequestedAccess::Marketplace {
                instance: Some(instance.to_owned()),
            })
        }
        Some(company) if world.companies.contains_key(company) => Ok(RequestedAccess::Connect {
            company_id: Some(company.to_owned()),
        }),
        Some(other) => Err(format!(
            "audience `{other}` is neither `marketplace`, `connect`, a marketplace instance nor a \
             Connect company."
        )),
    }
}

pub async fn authorize(
    State(sandbox): State<Sandbox>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let mut world = sandbox.world();
    world.count_call("mas.authorize");
    let bad_link = |message: &str| {
        page::error(
            StatusCode::BAD_REQUEST,
            "This authorization link is not valid",
            &format!(
                "{message} Nothing was shared. Tell the application's support team; \
                 you cannot fix this link yourself."
            ),
        )
    };

    let params = match FormFields::parse(query.unwrap_or_default().as_bytes()) {
        Ok(params) => params,
        Err(error) => return bad_link(&error.to_string()),
    };
    let Some(client_id) = params.get("client_id") else {
        return bad_link("The link does not name the application (client_id is missing).");
    };
    let Some(client) = world.clients.get(client_id) else {
        return bad_link(&format!("No application is registered as `{client_id}`."));
    };
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return bad_link("The link does not say where to return (redirect_uri is missing).");
    };
    if !client.accepts_redirect_uri(redirect_uri) {
        return bad_link(&format!(
            "The return address `{redirect_uri}` is not registered for {}.",
            client.name
        ));
    }
    let client_name = client.name.clone();
    let client_kinds = client.kinds.clone();
    let state = params.get("state");
    let refuse = |error: &str, description: &str| {
        let mut params = vec![("error", error), ("error_description", description)];
        params.extend(state.map(|state| ("state", state)));
        redirect_to_client(redirect_uri, &params)
    };

    match params.get("response_type") {
        Some("code") => {}
        Some(_) => {
            return refuse(
                "unsupported_response_type",
                "Only response_type=code is supported.",
            );
        }
        None => return refuse("invalid_request", "response_type is required."),
    }
    let code_challenge = match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (None, None) => None,
        (None, Some(_)) => {
            return refuse(
                "invalid_request",
                "code_challenge_method was sent without code_challenge.",
            );
        }
        (Some(_), method) if method != Some("S256") => {
            return refuse(
                "invalid_request",
                "Only code_challenge_method=S256 is supported.",
            );
        }
        (Some(challenge), _) if !is_s256_challenge(challenge) => {
            return refuse(
                "invalid_request",
                "code_challenge must be the 43-character base64url SHA-256 of the verifier.",
            );
        }
        (Some(challenge), _) => Some(challenge.to_owned()),
    };
    let access = match requested_access(&world, params.get("audience")) {
        Ok(access) => access,
        Err(description) => return refuse("invalid_request", &description),
    };
    if !client_kinds.contains(&access.kind()) {
        return refuse(
            "unauthorized_client",
            &format!(
                "{client_name} is not registered for {} sellers.",
                match access.kind() {
                    GrantKind::Marketplace => "marketplace",
                    GrantKind::Connect => "Mirakl Connect",
                }
            ),
        );
    }

    let pending = PendingAuthorization {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        state: state.map(str::to_owned),
        scope: params.get("scope").unwrap_or_default().to_owned(),
        access,
        code_challenge,
        chosen: None,
    };
    let session = session::open(&mut world, &headers);
    if let Some(browser) = world.sessions.get_mut(&session.id) {
        browser.pending = Some(pending);
    }
    let response = go_to_next_step(&mut world, &session.id);
    session.attach(&world, response)
}

/// A `302 Found` back to the client, with `params` added to the redirect URI's own query.
pub fn redirect_to_client(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let Ok(mut target) = url::Url::parse(redirect_uri) else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "This authorization link is not valid",
            "The application's registered return address is not a valid URL.",
        );
    };
    target.query_pairs_mut().extend_pairs(params);
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(location) = HeaderValue::from_str(target.as_str()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// Where the browser stands in the authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    SignIn,
    Verify,
    Select,
    Consent,
    /// Signed in with no authorization in progress.
    Idle,
}

impl Step {
    pub fn path(self) -> &'static str {
        match self {
            Step::SignIn | Step::Idle => "/mas/login",
            Step::Verify => "/mas/verify",
            Step::Select => "/mas/select",
            Step::Consent => "/mas/consent",
        }
    }
}

/// The next step of a session; recalls the selection of an earlier authorization of the same
/// client by the same user, so that only the first connection shows the selection page.
pub fn advance(world: &mut World, session_id: &str) -> Step {
    let Some(session) = world.sessions.get(session_id) else {
        return Step::SignIn;
    };
    if session.verification.is_some() {
        return Step::Verify;
    }
    let Some(user_id) = session.user_id.clone() else {
        return Step::SignIn;
    };
    let Some(pending) = &session.pending else {
        return Step::Idle;
    };
    if pending.chosen.is_some() {
        return Step::Consent;
    }
    let key = SelectionKey {
        user_id,
        client_id: pending.client_id.clone(),
        kind: pending.access.kind(),
    };
    let remembered = world.selections.get(&key).filter(|grant| {
        pending.access.admits(grant)
            && world
                .user(&key.user_id)
                .is_some_and(|user| world.user_reaches(user, grant))
    });
    let Some(grant) = remembered.cloned() else {
        return Step::Select;
    };
    if let Some(pending) = world
        .sessions
        .get_mut(session_id)
        .and_then(|session| session.pending.as_mut())
    {
        pending.chosen = Some(grant);
    }
    Step::Consent
}

pub fn go_to_next_step(world: &mut World, session_id: &str) -> Response {
    page::see_other(advance(world, session_id).path())
}

/// A step's page (GET): the request's session (a new one gets its cookie), then `show` for the
/// step the browser stands at, or a redirect to that step's own page when `show` has none for
/// it.
pub fn show_step(
    sandbox: &Sandbox,
    headers: &HeaderMap,
    show: impl FnOnce(&mut World, &str, Step) -> Option<Response>,
) -> Response {
    let mut world = sandbox.world();
    let session = session::open(&mut world, headers);
    let step = advance(&mut world, &session.id);
    let response =
        show(&mut world, &session.id, step).unwrap_or_else(|| page::see_other(step.path()));
    session.attach(&world, response)
}

/// Why a form sent from a step's page is not taken there.
pub enum FormDetour {
    Refused(FormRefused),
    /// The browser no longer stands at that step: on to the step it stands at.
    Elsewhere(Step),
}

impl From<FormDetour> for Response {
    fn from(detour: FormDetour) -> Response {
        match detour {
            FormDetour::Refused(refusal) => refusal.into_response(),
            FormDetour::Elsewhere(step) => page::see_other(step.path()),
        }
    }
}

/// The session of a form sent from `step`'s page, if it carries the session's CSRF token and
/// the browser still stands at that step.
pub fn form_at_step(
    world: &mut World,
    headers: &HeaderMap,
    form: &FormFields,
    step: Step,
) -> Result<String, FormDetour> {
    let session_id = session::check_form(world, headers, form).map_err(FormDetour::Refused)?;
    match advance(world, &session_id) {
        now if now == step => Ok(session_id),
        now => Err(FormDetour::Elsewhere(now)),
    }
}

fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
