//! Channels: where a workspace's catalog goes on Mirakl, and the life of their authorization.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

/// What a channel is on the Mirakl side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// The seller's Mirakl Connect account (authorized with its company).
    MiraklConnect,
    /// One store on a Mirakl marketplace instance (authorized with a store id).
    Marketplace,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MiraklConnect => "mirakl_connect",
            Self::Marketplace => "marketplace",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "mirakl_connect" => Some(Self::MiraklConnect),
            "marketplace" => Some(Self::Marketplace),
            _ => None,
        }
    }
}

/// Where a channel stands between its creation and live traffic.
///
/// ```text
/// AwaitingAuthorization --authorized--> AwaitingStoreId (marketplace) | ReadyToLaunch (Connect)
/// AwaitingStoreId --store verified--> ReadyToLaunch --launch--> Live
/// any authorized state --refresh refused--> ReauthorizationNeeded --authorized--> back where it was
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelStatus {
    AwaitingAuthorization,
    AwaitingStoreId,
    ReadyToLaunch,
    Live,
    ReauthorizationNeeded,
}

/// Something that happens to a channel; [`ChannelStatus::apply`] says where it leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelEvent {
    /// Tokens were obtained. `has_store` is true when a verified store id is already known
    /// (a reconnect), `launched` when the channel had been launched before.
    Authorized {
        has_store: bool,
        launched: bool,
    },
    StoreVerified,
    Launched,
    RefreshRefused,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a channel that is {from} cannot take the step {event:?}")]
pub struct TransitionError {
    pub from: ChannelStatus,
    pub event: ChannelEvent,
}

impl ChannelStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingAuthorization => "awaiting_authorization",
            Self::AwaitingStoreId => "awaiting_store_id",
            Self::ReadyToLaunch => "ready_to_launch",
            Self::Live => "live",
            Self::ReauthorizationNeeded => "reauthorization_needed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::AwaitingAuthorization,
            Self::AwaitingStoreId,
            Self::ReadyToLaunch,
            Self::Live,
            Self::ReauthorizationNeeded,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    /// The words a seller sees.
    pub fn label(self) -> &'static str {
        match self {
            Self::AwaitingAuthorization => "Not connected",
            Self::AwaitingStoreId => "Mirakl store ID needed",
            Self::ReadyToLaunch => "Ready to launch",
            Self::Live => "Live",
            Self::ReauthorizationNeeded => "Reauthorization needed",
        }
    }

    /// Whether the channel holds tokens that the connector keeps fresh.
    pub fn is_authorized(self) -> bool {
        matches!(
            self,
            Self::AwaitingStoreId | Self::ReadyToLaunch | Self::Live
        )
    }

    /// The one place where the allowed transitions are written.
    pub fn apply(self, kind: ChannelKind, event: ChannelEvent) -> Result<Self, TransitionError> {
        use ChannelEvent as E;
        use ChannelStatus as S;
        let next = match (self, event) {
            (S::AwaitingAuthorization | S::ReauthorizationNeeded, E::Authorized { has_store, launched })
            // Authorizing again while connected (a seller who clicks Connect twice) is allowed too.
            | (S::AwaitingStoreId | S::ReadyToLaunch | S::Live, E::Authorized { has_store, launched }) => {
                match (kind, has_store, launched) {
                    (ChannelKind::Marketplace, false, _) => S::AwaitingStoreId,
                    (_, _, true) => S::Live,
                    _ => S::ReadyToLaunch,
                }
            }
            (S::AwaitingStoreId | S::ReadyToLaunch, E::StoreVerified) if kind == ChannelKind::Marketplace => {
                S::ReadyToLaunch
            }
            (S::Live, E::StoreVerified) if kind == ChannelKind::Marketplace => S::Live,
            (S::ReadyToLaunch, E::Launched) => S::Live,
            (S::AwaitingStoreId | S::ReadyToLaunch | S::Live, E::RefreshRefused) => S::ReauthorizationNeeded,
            (from, event) => return Err(TransitionError { from, event }),
        };
        Ok(next)
    }
}

impl fmt::Display for ChannelStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The health of a channel's access token, as the dashboard shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenState {
    /// No tokens yet.
    None,
    /// An access token valid until this Unix time in milliseconds.
    Valid { expires_at_ms: i64 },
    /// The access token has lapsed; the next refresh will renew it.
    Expired,
    /// The refresh was refused; only the seller can fix it, by reconnecting.
    ReauthorizationNeeded,
}

impl TokenState {
    pub fn of(status: ChannelStatus, expires_at_ms: Option<i64>, now_ms: i64) -> Self {
        match (status, expires_at_ms) {
            (ChannelStatus::ReauthorizationNeeded, _) => Self::ReauthorizationNeeded,
            (_, None) => Self::None,
            (_, Some(at)) if at > now_ms => Self::Valid { expires_at_ms: at },
            (_, Some(_)) => Self::Expired,
        }
    }
}

/// A Mirakl store id (the `shop_id` of the marketplace seller API): a positive integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StoreId(i64);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreIdError {
    #[error("Enter your Mirakl store ID.")]
    Empty,
    #[error(
        "A Mirakl store ID is a number, like 2001. You find it on the home page of your Mirakl back office, next to the store name."
    )]
    NotANumber,
}

impl StoreId {
    pub fn parse(raw: &str) -> Result<Self, StoreIdError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(StoreIdError::Empty);
        }
        match s.parse::<i64>() {
            Ok(n) if n > 0 => Ok(Self(n)),
            _ => Err(StoreIdError::NotANumber),
        }
    }

    pub fn new(n: i64) -> Option<Self> {
        (n > 0).then_some(Self(n))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for StoreId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The base URL of a marketplace instance; the seller API lives under `{base}/api/…`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InstanceUrl(Url);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "a marketplace instance URL must be an absolute http(s) URL without query or fragment: {0}"
)]
pub struct InstanceUrlError(String);

impl InstanceUrl {
    pub fn parse(raw: &str) -> Result<Self, InstanceUrlError> {
        let mut url = Url::parse(raw.trim()).map_err(|_| InstanceUrlError(raw.to_owned()))?;
        if !matches!(url.scheme(), "http" | "https")
            || url.host().is_none()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(InstanceUrlError(raw.to_owned()));
        }
        // One canonical form, so `…/api/account` joins the same way for every input.
        let path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&path);
        Ok(Self(url))
    }

    /// `{base}/api/{path}` for a seller API path such as `account`.
    pub fn api(&self, path: &str) -> Url {
        let mut url = self.0.clone();
        let joined = format!(
            "{}/api/{}",
            url.path().trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        url.set_path(&joined);
        url
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }
}

impl TryFrom<String> for InstanceUrl {
    type Error = InstanceUrlError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<InstanceUrl> for String {
    fn from(u: InstanceUrl) -> String {
        u.as_str().to_owned()
    }
}

impl fmt::Display for InstanceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A marketplace an operator offers to sellers: its name and instance. The list comes from
/// configuration; the demo lists the sandbox's two.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketplaceDefinition {
    /// Stable key, e.g. `demo-marketplace`.
    pub code: String,
    /// The name sellers know, e.g. "Demo Marketplace".
    pub name: String,
    pub instance_url: InstanceUrl,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChannelEvent as E;
    use ChannelKind::{Marketplace, MiraklConnect};
    use ChannelStatus as S;

    #[test]
    fn a_marketplace_channel_needs_a_store_before_launch() {
        let s = S::AwaitingAuthorization
            .apply(
                Marketplace,
                E::Authorized {
                    has_store: false,
                    launched: false,
                },
            )
            .unwrap();
        assert_eq!(s, S::AwaitingStoreId);
        assert!(s.apply(Marketplace, E::Launched).is_err());
        let s = s.apply(Marketplace, E::StoreVerified).unwrap();
        assert_eq!(s.apply(Marketplace, E::Launched).unwrap(), S::Live);
    }

    #[test]
    fn a_connect_channel_is_ready_once_authorized() {
        let s = S::AwaitingAuthorization
            .apply(
                MiraklConnect,
                E::Authorized {
                    has_store: false,
                    launched: false,
                },
            )
            .unwrap();
        assert_eq!(s, S::ReadyToLaunch);
        assert!(s.apply(MiraklConnect, E::StoreVerified).is_err());
    }

    #[test]
    fn a_reconnect_returns_a_live_channel_to_live() {
        let s = S::Live.apply(Marketplace, E::RefreshRefused).unwrap();
        assert_eq!(s, S::ReauthorizationNeeded);
        assert!(!s.is_authorized());
        let s = s
            .apply(
                Marketplace,
                E::Authorized {
                    has_store: true,
                    launched: true,
                },
            )
            .unwrap();
        assert_eq!(s, S::Live);
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for s in [
            S::AwaitingAuthorization,
            S::AwaitingStoreId,
            S::ReadyToLaunch,
            S::Live,
            S::ReauthorizationNeeded,
        ] {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
        assert_eq!(ChannelKind::parse("marketplace"), Some(Marketplace));
    }

    #[test]
    fn store_ids_are_positive_numbers() {
        assert_eq!(StoreId::parse(" 2001 ").unwrap().get(), 2001);
        assert_eq!(StoreId::parse(""), Err(StoreIdError::Empty));
        assert_eq!(StoreId::parse("abc"), Err(StoreIdError::NotANumber));
        assert_eq!(StoreId::parse("-3"), Err(StoreIdError::NotANumber));
    }

    #[test]
    fn instance_urls_join_api_paths() {
        let u = InstanceUrl::parse("http://127.0.0.1:8090/mmp/demo-marketplace/").unwrap();
        assert_eq!(
            u.api("account").as_str(),
            "http://127.0.0.1:8090/mmp/demo-marketplace/api/account"
        );
        let u = InstanceUrl::parse("https://demo.mirakl.net").unwrap();
        assert_eq!(
            u.api("account").as_str(),
            "https://demo.mirakl.net/api/account"
        );
        assert!(InstanceUrl::parse("ftp://x").is_err());
        assert!(InstanceUrl::parse("https://x?y=1").is_err());
    }

    #[test]
    fn token_state_follows_expiry_and_status() {
        assert_eq!(TokenState::of(S::Live, None, 10), TokenState::None);
        assert_eq!(
            TokenState::of(S::Live, Some(20), 10),
            TokenState::Valid { expires_at_ms: 20 }
        );
        assert_eq!(TokenState::of(S::Live, Some(5), 10), TokenState::Expired);
        assert_eq!(
            TokenState::of(S::ReauthorizationNeeded, Some(20), 10),
            TokenState::ReauthorizationNeeded
        );
    }
}
