//! The selection page of a user's first authorization of a client: a marketplace and one of its
//! stores, or a Connect company. The choice is remembered per user, client and kind.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::Sandbox;
use crate::form::FormFields;
use crate::mas::authorize::{
    RequestedAccess, Step, form_at_step, go_to_next_step, redirect_to_client, show_step,
};
use crate::mas::session;
use crate::page;
use crate::world::{Grant, World};

struct MarketplaceChoice {
    instance: String,
    name: String,
    stores: Vec<StoreChoice>,
}

struct StoreChoice {
    shop_id: i64,
    name: String,
}

struct CompanyChoice {
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "mas/select.html")]
struct SelectPage {
    title: &'static str,
    client_name: String,
    marketplaces: Vec<MarketplaceChoice>,
    companies: Vec<CompanyChoice>,
    is_connect: bool,
    error: Option<String>,
    email: String,
    csrf_token: String,
}

pub async fn show(State(sandbox): State<Sandbox>, headers: HeaderMap) -> Response {
    show_step(&sandbox, &headers, |world, session_id, step| {
        (step == Step::Select).then(|| selection_page(world, session_id, None))
    })
}

pub async fn submit(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    form: FormFields,
) -> Result<Response, Response> {
    let mut world = sandbox.world();
    let session_id = form_at_step(&mut world, &headers, &form, Step::Select)?;
    let Some((user_id, access)) = user_and_access(&world, &session_id) else {
        return Err(go_to_next_step(&mut world, &session_id));
    };
    let grant = match access {
        RequestedAccess::Connect { .. } => {
            form.get("company").map(|company_id| Grant::ConnectCompany {
                company_id: company_id.to_owned(),
            })
        }
        RequestedAccess::Marketplace { .. } => match (form.get("marketplace"), form.get("store")) {
            (Some(instance), Some(store)) => {
                store.parse().ok().map(|shop_id| Grant::MarketplaceStore {
                    instance: instance.to_owned(),
                    shop_id,
                })
            }
            _ => None,
        },
    };
    let reachable = grant.filter(|grant| {
        access.admits(grant)
            && world
                .user(&user_id)
                .is_some_and(|user| world.user_reaches(user, grant))
    });
    let Some(grant) = reachable else {
        let error = match access {
            RequestedAccess::Connect { .. } => "Choose one of the companies in the list.",
            RequestedAccess::Marketplace { .. } => {
                "Choose a marketplace, then one of its stores: the store you chose is not on that \
                 marketplace."
            }
        };
        return Ok(selection_page(
            &mut world,
            &session_id,
            Some(error.to_owned()),
        ));
    };
    if let Some(pending) = world
        .sessions
        .get_mut(&session_id)
        .and_then(|browser| browser.pending.as_mut())
    {
        pending.chosen = Some(grant);
    }
    Ok(go_to_next_step(&mut world, &session_id))
}

fn user_and_access(world: &World, session_id: &str) -> Option<(String, RequestedAccess)> {
    let browser = world.sessions.get(session_id)?;
    Some((
        browser.user_id.clone()?,
        browser.pending.as_ref()?.access.clone(),
    ))
}

/// The page listing what the user may pick; when there is nothing to pick, the authorization
/// ends with `access_denied` back at the client.
fn selection_page(world: &mut World, session_id: &str, error: Option<String>) -> Response {
    let Some((user_id, access)) = user_and_access(world, session_id) else {
        return go_to_next_step(world, session_id);
    };
    let user = world.user(&user_id).cloned();
    let (mut marketplaces, mut companies) = (Vec::new(), Vec::new());
    if let Some(user) = &user {
        match &access {
            RequestedAccess::Marketplace { instance } => {
                for (code, shop_ids) in &user.stores {
                    if instance.as_ref().is_some_and(|wanted| wanted != code) {
                        continue;
                    }
                    let Some(marketplace) = world.marketplaces.get(code) else {
                        continue;
                    };
                    let stores: Vec<StoreChoice> = shop_ids
                        .iter()
                        .filter_map(|id| marketplace.stores.get(id))
                        .map(|store| StoreChoice {
                            shop_id: store.shop_id,
                            name: store.name.clone(),
                        })
                        .collect();
                    if !stores.is_empty() {
                        marketplaces.push(MarketplaceChoice {
                            instance: marketplace.instance.clone(),
                            name: marketplace.name.clone(),
                            stores,
                        });
                    }
                }
            }
            RequestedAccess::Connect { company_id } => {
                companies.extend(
                    user.companies
                        .iter()
                        .filter(|id| company_id.as_ref().is_none_or(|wanted| wanted == *id))
                        .filter_map(|id| world.companies.get(id))
                        .map(|company| CompanyChoice {
                            id: company.id.clone(),
                            name: company.name.clone(),
                        }),
                );
            }
        }
    }

    let pending = world
        .sessions
        .get(session_id)
        .and_then(|browser| browser.pending.clone());
    let Some(pending) = pending else {
        return go_to_next_step(world, session_id);
    };
    if marketplaces.is_empty() && companies.is_empty() {
        if let Some(browser) = world.sessions.get_mut(session_id) {
            browser.pending = None;
        }
        let description = match access {
            RequestedAccess::Marketplace { .. } => {
                "The Mirakl account reaches no marketplace store this application may use."
            }
            RequestedAccess::Connect { .. } => {
                "The Mirakl account belongs to no Mirakl Connect company this application may use."
            }
        };
        let mut params = vec![
            ("error", "access_denied"),
            ("error_description", description),
        ];
        params.extend(pending.state.as_deref().map(|state| ("state", state)));
        return redirect_to_client(&pending.redirect_uri, &params);
    }

    let client_name = world
        .clients
        .get(&pending.client_id)
        .map(|client| client.name.clone())
        .unwrap_or_default();
    let is_connect = matches!(access, RequestedAccess::Connect { .. });
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    page::render(
        status,
        &SelectPage {
            title: if is_connect {
                "Choose your company"
            } else {
                "Choose your store"
            },
            client_name,
            marketplaces,
            companies,
            is_connect,
            error,
            email: session::signed_in_email(world, session_id),
            csrf_token: session::csrf_token(world, session_id),
        },
    )
}
