//! F1, authorizing Mirakl: the start (a pending authorization with a random `state` bound to
//! the browser session, a PKCE verifier and an expiry; the browser goes to the Mirakl
//! Authentication System), the callback (the `state` is single use and must belong to this
//! browser session and be fresh; the code is exchanged with the verifier; the tokens are stored
//! sealed and the channel moves on), and the **Mirakl store ID** check (A01 with `shop_id`,
//! with the channel's own token, so only a store the authorization grants can be saved).
//!
//! Every refusal says what happened and leaves nothing half made; the pending authorization is
//! consumed before any other check, so a refused callback can never be replayed either.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::{ChannelEvent, ChannelId, ChannelKind, ChannelStatus, StoreId, WorkspaceId};
use mirakl::marketplace::{Credential, MarketplaceClient, MarketplaceError};
use mirakl::mas::{AuthorizationTarget, MasClient, MasError};
use sha2::{Digest, Sha256};
use storage::{Channel, NewPendingAuthorization, PendingLookup, Storage, now_ms};
use url::Url;
use uuid::Uuid;

use crate::tokens::TokenKeeper;

/// The access-token claim that names the Mirakl Connect company the seller granted.
///
/// ASSUMPTION: Mirakl publishes neither the claims of MAS access tokens nor the endpoint that
/// serves the "company information" its documentation mentions, and the token response's
/// `resource_owner` names the user. The sandbox puts the company's id in this claim. The
/// connector reads it without checking the signature, to show it on the Account page and
/// nothing else. Set another name with [`Authorization::with_company_claim`] once the real
/// one is known. A token without the claim shows no company.
pub const CONNECT_COMPANY_CLAIM: &str = "mirakl_company_id";

/// Longest company name or id kept from a token; anything longer is not shown.
const MAX_COMPANY_CHARS: usize = 200;

#[derive(Clone)]
pub struct Authorization {
    storage: Storage,
    mas: MasClient,
    marketplace: MarketplaceClient,
    tokens: TokenKeeper,
    /// How long a seller has to finish the authorization once started.
    ttl: Duration,
    /// Where the Connect company is read from the access token; `None` reads nothing.
    company_claim: Option<String>,
}

/// The browser a callback arrives in.
#[derive(Clone, Copy, Debug)]
pub struct Browser {
    pub session_id: Uuid,
    /// The signed-in seller's workspace, if any.
    pub workspace: Option<WorkspaceId>,
}

/// What MAS sent the browser back with.
#[derive(Clone, Debug, Default)]
pub struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// A callback that finished the authorization.
#[derive(Clone, Debug)]
pub struct Authorized {
    pub workspace: WorkspaceId,
    pub channel: ChannelId,
    pub kind: ChannelKind,
    pub status: ChannelStatus,
}

/// Why a callback was refused. Nothing was changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    NoState,
    Unknown,
    Replayed,
    OtherSession,
    Expired(ChannelId),
    Declined(ChannelId),
    NotGranted {
        channel: ChannelId,
        error: String,
        description: Option<String>,
    },
    NoCode(ChannelId),
    ChannelGone,
    CodeRefused(ChannelId),
    MasFailed {
        channel: ChannelId,
        detail: String,
    },
}

impl Refusal {
    /// The page's title.
    pub fn title(&self) -> &'static str {
        match self {
            Self::NoState => "That link from Mirakl is incomplete",
            Self::Unknown => "This authorization is not one Marketbridge started",
            Self::Replayed => "This authorization was already used",
            Self::OtherSession => "This authorization was started in another browser session",
            Self::Expired(_) => "This authorization took too long",
            Self::Declined(_) | Self::NotGranted { .. } => "Mirakl was not connected",
            Self::NoCode(_) => "Mirakl sent no authorization code",
            Self::ChannelGone => "This channel no longer exists",
            Self::CodeRefused(_) => "Mirakl refused the authorization code",
            Self::MasFailed { .. } => "Marketbridge could not finish the connection",
        }
    }

    /// What happened and what to do next.
    pub fn message(&self) -> String {
        match self {
            Self::NoState => "It carries no state, so Marketbridge cannot tell which connection it finishes. Start again from the channel's Settings.".into(),
            Self::Unknown => "It may come from an old link or another site. Nothing was changed. Start the connection again from the channel's Settings.".into(),
            Self::Replayed => "Each Mirakl authorization link works once. Nothing was changed. If the channel is not connected, start again from its Settings.".into(),
            Self::OtherSession => "For your security Marketbridge only finishes a Mirakl authorization in the browser that started it, while signed in. Sign in and start again from the channel's Settings.".into(),
            Self::Expired(_) => "The link from Mirakl has expired. Nothing was changed. Start again; it takes a minute.".into(),
            Self::Declined(_) => "You declined access on Mirakl, so Marketbridge was not connected. Nothing was changed; you can connect whenever you are ready.".into(),
            Self::NotGranted { error, description, .. } => {
                let detail = description
                    .as_deref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default();
                format!("Mirakl did not authorize Marketbridge ({error}{detail}). Nothing was changed.")
            }
            Self::NoCode(_) => "The connection cannot be finished without it. Nothing was changed. Try again.".into(),
            Self::ChannelGone => "It was removed while you were on Mirakl.".into(),
            Self::CodeRefused(_) => "It may have expired or been used already. Nothing was changed. Try again.".into(),
            Self::MasFailed { detail, .. } => format!(
                "The Mirakl Authentication System did not answer as expected ({detail}). Nothing was changed. Try again in a moment."
            ),
        }
    }

    /// The channel whose Settings page has the button to try again, when trying again helps.
    pub fn retry(&self) -> Option<ChannelId> {
        match self {
            Self::Expired(c)
            | Self::Declined(c)
            | Self::NotGranted { channel: c, .. }
            | Self::NoCode(c)
            | Self::CodeRefused(c)
            | Self::MasFailed { channel: c, .. } => Some(*c),
            Self::NoState
            | Self::Unknown
            | Self::Replayed
            | Self::OtherSession
            | Self::ChannelGone => None,
        }
    }
}

/// A string claim of a JWT, read without checking its signature: for showing only, never to
/// decide anything. `None` when the token is no JWT, or the claim is missing, not a string,
/// empty, too long, or holds a control character.
fn unverified_claim(token: &str, claim: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&bytes).ok()?;
    let value = claims.get(claim)?.as_str()?.trim();
    let shown = !value.is_empty()
        && value.chars().count() <= MAX_COMPANY_CHARS
        && !value.chars().any(char::is_control);
    shown.then(|| value.to_owned())
}

fn state_hash(state: &str) -> Vec<u8> {
    Sha256::digest(state.as_bytes()).to_vec()
}

impl Authorization {
    pub fn new(
        storage: Storage,
        mas: MasClient,
        marketplace: MarketplaceClient,
        tokens: TokenKeeper,
        ttl: Duration,
    ) -> Self {
        Self {
            storage,
            mas,
            marketplace,
            tokens,
            ttl,
            company_claim: Some(CONNECT_COMPANY_CLAIM.to_owned()),
        }
    }

    /// Reads the Connect company from the access token's claim `claim` instead of
    /// [`CONNECT_COMPANY_CLAIM`], or from nowhere with `None`.
    pub fn with_company_claim(mut self, claim: Option<String>) -> Self {
        self.company_claim = claim;
        self
    }

    /// Starts F1 for `channel` in the browser session `session_id`: remembers the pending
    /// authorization and returns where to send the browser.
    pub async fn start(
        &self,
        ws: WorkspaceId,
        session_id: Uuid,
        channel: &Channel,
    ) -> anyhow::Result<Url> {
        let target = match channel.kind {
            ChannelKind::MiraklConnect => AuthorizationTarget::MiraklConnect,
            ChannelKind::Marketplace => AuthorizationTarget::Marketplace,
        };
        let request = self.mas.authorization_request(target);
        let now = now_ms();
        self.storage
            .create_pending_authorization(&NewPendingAuthorization {
                state_hash: state_hash(&request.state),
                session_id,
                workspace_id: ws,
                channel_id: channel.id,
                pkce_verifier: request.pkce_verifier,
                created_at_ms: now,
                expires_at_ms: now + self.ttl.as_millis() as i64,
            })
            .await?;
        tracing::info!(workspace = %ws, channel = %channel.id, "authorization started");
        Ok(request.url)
    }

    /// Finishes F1 with what MAS sent back: the tokens are stored, sealed, and the channel
    /// moves on; or a refusal says why not.
    pub async fn complete(
        &self,
        browser: Browser,
        callback: Callback,
    ) -> anyhow::Result<Result<Authorized, Refusal>> {
        let Some(state) = callback.state.filter(|s| !s.is_empty()) else {
            return Ok(Err(Refusal::NoState));
        };
        let pending = match self
            .storage
            .take_pending_authorization(&state_hash(&state), now_ms())
            .await?
        {
            PendingLookup::Unknown => {
                tracing::warn!("callback with an unknown state refused");
                return Ok(Err(Refusal::Unknown));
            }
            PendingLookup::Replayed => {
                tracing::warn!("callback with an already used state refused");
                return Ok(Err(Refusal::Replayed));
            }
            PendingLookup::Taken(p) => p,
        };
        let channel_id = pending.channel_id;
        let same_browser = pending.session_id == browser.session_id
            && browser.workspace == Some(pending.workspace_id);
        if !same_browser {
            tracing::warn!(channel = %channel_id, "callback from another browser session refused");
            return Ok(Err(Refusal::OtherSession));
        }
        if pending.expires_at_ms < now_ms() {
            return Ok(Err(Refusal::Expired(channel_id)));
        }
        if let Some(error) = callback.error {
            tracing::info!(channel = %channel_id, %error, "authorization not granted");
            return Ok(Err(if error == "access_denied" {
                Refusal::Declined(channel_id)
            } else {
                Refusal::NotGranted {
                    channel: channel_id,
                    error,
                    description: callback.error_description,
                }
            }));
        }
        let Some(code) = callback.code.filter(|c| !c.is_empty()) else {
            return Ok(Err(Refusal::NoCode(channel_id)));
        };
        let ws = pending.workspace_id;
        let Some(channel) = self.storage.get_channel(ws, channel_id).await? else {
            return Ok(Err(Refusal::ChannelGone));
        };
        let response = match self
            .mas
            .exchange_code(&code, pending.pkce_verifier.expose())
            .await
        {
            Ok(r) => r,
            Err(MasError::InvalidGrant(_)) => return Ok(Err(Refusal::CodeRefused(channel_id))),
            Err(e) => {
                tracing::warn!(channel = %channel.id, error = %e, "code exchange failed");
                return Ok(Err(Refusal::MasFailed {
                    channel: channel_id,
                    detail: e.to_string(),
                }));
            }
        };
        let event = ChannelEvent::Authorized {
            has_store: channel.store_id.is_some(),
            launched: channel.launched_at_ms.is_some(),
        };
        let next = channel.status.apply(channel.kind, event)?;
        // Only shown on the Account page (see `CONNECT_COMPANY_CLAIM`). When the token does
        // not name it, a company stored by an earlier authorization stays.
        let company = match (channel.kind, &self.company_claim) {
            (ChannelKind::MiraklConnect, Some(claim)) => {
                unverified_claim(&response.access_token, claim)
            }
            _ => None,
        };
        let tokens = TokenKeeper::token_set(response, now_ms());
        self.storage
            .authorize_channel(ws, channel.id, &tokens, next, company.as_deref(), now_ms())
            .await?;
        self.storage
            .record_channel_success(ws, channel.id, now_ms())
            .await?;
        tracing::info!(workspace = %ws, channel = %channel.id, status = next.as_str(), company = company.as_deref(), "channel authorized");
        Ok(Ok(Authorized {
            workspace: ws,
            channel: channel.id,
            kind: channel.kind,
            status: next,
        }))
    }

    /// The **Mirakl store ID** step: checks the id the seller typed with A01 and `shop_id`,
    /// using the channel's own token, and saves it with the store's name. `Err` says why not,
    /// in the seller's words.
    pub async fn verify_store(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        typed: &str,
    ) -> anyhow::Result<Result<StoreId, String>> {
        if channel.kind != ChannelKind::Marketplace || !channel.status.is_authorized() {
            return Ok(Err(
                "Connect this channel to Mirakl before entering a store ID.".to_owned(),
            ));
        }
        let store_id = match StoreId::parse(typed) {
            Ok(s) => s,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let Some(instance) = channel.instance_url.clone() else {
            return Ok(Err(
                "This channel has no marketplace address; remove it and add it again.".to_owned(),
            ));
        };
        let token = match self.tokens.access_token(ws, channel.id).await {
            Ok(t) => t,
            Err(e) => {
                return Ok(Err(format!(
                    "Marketbridge could not get a Mirakl token for this channel: {e}."
                )));
            }
        };
        let account = match self
            .marketplace
            .account(
                &instance,
                Credential::Bearer(token.expose()),
                Some(store_id),
            )
            .await
        {
            Ok(a) => a,
            Err(MarketplaceError::Forbidden(_)) | Err(MarketplaceError::NotFound(_)) => {
                return Ok(Err(format!(
                    "Store {store_id} is not a store your Mirakl authorization gives access to on {}. Check the ID on the home page of your Mirakl back office, or authorize again and pick that store.",
                    channel.name
                )));
            }
            Err(MarketplaceError::Unauthorized) => {
                return Ok(Err(
                    "Mirakl refused this channel's token. Authorize again with the button above."
                        .to_owned(),
                ));
            }
            Err(e) => {
                tracing::warn!(channel = %channel.id, error = %e, "store check failed");
                return Ok(Err(format!(
                    "{} did not answer the store check ({e}). Try again in a moment.",
                    channel.name
                )));
            }
        };
        let next = match channel
            .status
            .apply(channel.kind, ChannelEvent::StoreVerified)
        {
            Ok(s) => s,
            Err(e) => return Ok(Err(e.to_string())),
        };
        self.storage
            .set_channel_store(ws, channel.id, store_id, &account.shop_name, next, now_ms())
            .await?;
        self.storage
            .record_channel_success(ws, channel.id, now_ms())
            .await?;
        tracing::info!(channel = %channel.id, store = %store_id, "store verified");
        Ok(Ok(store_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!(
            "{}.{}.signature",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn the_company_is_read_from_the_named_claim() {
        let token = jwt(r#"{"sub":"user-1","mirakl_company_id":"demo-company"}"#);
        assert_eq!(
            unverified_claim(&token, CONNECT_COMPANY_CLAIM).as_deref(),
            Some("demo-company")
        );
        assert_eq!(unverified_claim(&token, "company"), None);
    }

    #[test]
    fn a_token_that_names_no_usable_company_shows_none() {
        for token in [
            "not-a-jwt".to_owned(),
            "a.%%%.c".to_owned(),
            jwt("not json"),
            jwt(r#"{"mirakl_company_id":42}"#),
            jwt(r#"{"mirakl_company_id":"  "}"#),
            jwt(r#"{"mirakl_company_id":"nul\u0000byte"}"#),
            jwt(&format!(r#"{{"mirakl_company_id":"{}"}}"#, "x".repeat(201))),
        ] {
            assert_eq!(
                unverified_claim(&token, CONNECT_COMPANY_CLAIM),
                None,
                "{token}"
            );
        }
    }
}
