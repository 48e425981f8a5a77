//! F7: access tokens are refreshed ahead of expiry by one worker at a time per channel.
//!
//! MAS rotates refresh tokens, so two concurrent refreshes of one channel would kill its grant:
//! the second would present a refresh token the first had just used up. Every refresh therefore
//! takes the lease on the channel's token row first (`Storage::lock_token_refresh`), which
//! holds across processes because it lives in the database.

use std::time::Duration;

use domain::{ChannelId, WorkspaceId};
use mirakl::mas::{MasClient, MasError, TokenResponse};
use storage::{RefreshOutcome, Secret, Storage, StorageError, TokenSet, now_ms};
use uuid::Uuid;

use crate::job::{Job, Queue, Step};

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("this channel has no tokens yet: connect it to Mirakl first")]
    NotAuthorized,
    #[error("Mirakl refused to renew this channel's authorization: reconnect it")]
    ReauthorizationNeeded,
    #[error("another worker is renewing this channel's token right now; try again in a moment")]
    RefreshInProgress,
    #[error("the Mirakl Authentication System did not answer as expected: {0}")]
    Mas(#[from] MasError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Mirakl answered 401 to a call made with the channel's access token. A flow returns it as
/// its job's error: the worker then renews the token ([`TokenKeeper::rejected`]) and the job
/// is tried again with the new one.
#[derive(Debug, thiserror::Error)]
#[error("Mirakl refused this channel's access token (401); it is renewed and the call tried again")]
pub struct TokenRefused;

/// What one refresh attempt did.
#[derive(Debug, PartialEq, Eq)]
pub enum Refreshed {
    /// New tokens were stored.
    Renewed,
    /// Another worker holds the lease; it will do the work.
    Busy,
    /// The token was no longer due (someone renewed it just before us).
    NotDue,
}

#[derive(Clone)]
pub struct TokenKeeper {
    storage: Storage,
    mas: MasClient,
    /// Renew when the access token has less than this left.
    margin: Duration,
    /// How long a refresh may hold the lease before another worker may take over.
    lease: Duration,
}

impl TokenKeeper {
    pub fn new(storage: Storage, mas: MasClient, margin: Duration) -> Self {
        Self {
            storage,
            mas,
            margin,
            lease: Duration::from_secs(60),
        }
    }

    pub fn margin(&self) -> Duration {
        self.margin
    }

    /// Turns a token response into what storage keeps. A response without `expires_in`
    /// gets the documented one-hour lifetime (an assumption: MAS documents 3599 s).
    pub fn token_set(resp: TokenResponse, now_ms: i64) -> TokenSet {
        let lifetime = resp.expires_in.unwrap_or(Duration::from_secs(3599));
        TokenSet {
            access_token: Secret::new(resp.access_token),
            refresh_token: resp.refresh_token.map(Secret::new),
            access_expires_at_ms: now_ms + lifetime.as_millis() as i64,
            scope: resp.scope,
        }
    }

    /// A usable access token for the channel, renewed first when it is about to lapse.
    pub async fn access_token(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> Result<Secret, TokenError> {
        let stored = self
            .storage
            .load_tokens(ws, channel)
            .await?
            .ok_or(TokenError::NotAuthorized)?;
        let now = now_ms();
        if stored.tokens.access_expires_at_ms - self.margin_ms() > now {
            return Ok(stored.tokens.access_token);
        }
        match self.refresh(ws, channel).await? {
            Refreshed::Renewed | Refreshed::NotDue => {
                let stored = self
                    .storage
                    .load_tokens(ws, channel)
                    .await?
                    .ok_or(TokenError::NotAuthorized)?;
                Ok(stored.tokens.access_token)
            }
            // Someone else is renewing: the current token is still good if it has not lapsed.
            Refreshed::Busy if stored.tokens.access_expires_at_ms > now => {
                Ok(stored.tokens.access_token)
            }
            Refreshed::Busy => Err(TokenError::RefreshInProgress),
        }
    }

    /// Renews the channel's tokens if they are due, holding the channel's refresh lease.
    pub async fn refresh(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> Result<Refreshed, TokenError> {
        let owner = Uuid::new_v4();
        let now = now_ms();
        let Some(stored) = self
            .storage
            .lock_token_refresh(ws, channel, owner, now, self.lease.as_millis() as i64)
            .await?
        else {
            return Ok(Refreshed::Busy);
        };
        // Renewed by someone else since we started, or no longer due: nothing to do.
        let renewed_meanwhile = stored.refreshed_at_ms.is_some_and(|at| at >= now);
        if renewed_meanwhile || stored.tokens.access_expires_at_ms - self.margin_ms() > now {
            self.storage
                .finish_token_refresh(
                    ws,
                    channel,
                    owner,
                    RefreshOutcome::Refreshed(stored.tokens),
                    now_ms(),
                )
                .await?;
            return Ok(Refreshed::NotDue);
        }
        let Some(refresh_token) = stored.tokens.refresh_token else {
            let outcome = RefreshOutcome::Failed {
                error: "Mirakl gave no refresh token for this channel; reconnect it.".into(),
                reauthorization_needed: true,
            };
            self.storage
                .finish_token_refresh(ws, channel, owner, outcome, now_ms())
                .await?;
            return Err(TokenError::ReauthorizationNeeded);
        };
        match self.mas.refresh(refresh_token.expose()).await {
            Ok(resp) => {
                let tokens = Self::token_set(resp, now_ms());
                self.storage
                    .finish_token_refresh(
                        ws,
                        channel,
                        owner,
                        RefreshOutcome::Refreshed(tokens),
                        now_ms(),
                    )
                    .await?;
                tracing::info!(%ws, %channel, "access token renewed");
                Ok(Refreshed::Renewed)
            }
            Err(MasError::InvalidGrant(reason)) => {
                tracing::warn!(%ws, %channel, %reason, "refresh refused: reauthorization needed");
                let outcome = RefreshOutcome::Failed {
                    error: "Mirakl no longer accepts this channel's authorization. Click Reconnect to authorize again; your settings are kept.".into(),
                    reauthorization_needed: true,
                };
                self.storage
                    .finish_token_refresh(ws, channel, owner, outcome, now_ms())
                    .await?;
                Err(TokenError::ReauthorizationNeeded)
            }
            Err(e) => {
                let outcome = RefreshOutcome::Failed {
                    error: e.to_string(),
                    reauthorization_needed: false,
                };
                self.storage
                    .finish_token_refresh(ws, channel, owner, outcome, now_ms())
                    .await?;
                Err(TokenError::Mas(e))
            }
        }
    }

    /// Mirakl refused the channel's access token (401) in work begun at `since_ms`, before
    /// its expiry: revoked, or cut short on Mirakl's side. Unless it was renewed since, it is
    /// renewed now, and the work's retry uses the new one; a renewal MAS refuses marks the
    /// channel "Reauthorization needed", as the scheduled one would, instead of the channel
    /// staying Live while every call fails.
    pub async fn rejected(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        since_ms: i64,
    ) -> Result<(), TokenError> {
        if !self
            .storage
            .expire_access_token(ws, channel, since_ms)
            .await?
        {
            return Ok(());
        }
        tracing::warn!(%ws, %channel, "Mirakl refused the access token: renewing it now");
        match self.refresh(ws, channel).await {
            Ok(_) | Err(TokenError::ReauthorizationNeeded) | Err(TokenError::NotAuthorized) => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// The refresh job: a refused grant is recorded on the channel (it shows
    /// "Reauthorization needed"), and retrying cannot help, so it ends the job.
    pub async fn run_refresh(&self, ws: WorkspaceId, channel: ChannelId) -> anyhow::Result<Step> {
        match self.refresh(ws, channel).await {
            Ok(_) | Err(TokenError::ReauthorizationNeeded) | Err(TokenError::NotAuthorized) => {
                Ok(Step::Done)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Queues a refresh for every channel whose token lapses within the margin. The dedupe
    /// key keeps one live job per channel however often this runs. Returns how many.
    pub async fn schedule_due(&self, queue: &Queue) -> anyhow::Result<usize> {
        let before = now_ms() + self.margin_ms();
        let due = self.storage.channels_due_for_refresh(before, 500).await?;
        let mut queued = 0;
        for (ws, channel) in due {
            if queue.enqueue(ws, &Job::token_refresh(channel)).await? {
                queued += 1;
            }
        }
        Ok(queued)
    }

    fn margin_ms(&self) -> i64 {
        self.margin.as_millis() as i64
    }
}
