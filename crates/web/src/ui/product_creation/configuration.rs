//! The marketplace's catalog configuration a column mapping is built on: its attributes (PM11,
//! with the values of their lists from VL11) and its categories (H11), read with the channel's
//! own token.
//!
//! Mirakl allows each of these reads once an hour per store, and the page needs them on every
//! view and again on every save (the browser is never trusted with them), so each process keeps
//! what it read for that long. A second node reads them again, which costs a call, not
//! correctness.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::catalog::{MarketplaceAttribute, MarketplaceCategory};
use domain::{ChannelId, ChannelStatus, StoreId, WorkspaceId};
use mirakl::marketplace::{
    Credential, Hierarchy, MarketplaceError, ProductAttribute, RequirementLevel, ValuesList,
};
use storage::Channel;
use sync::TokenError;

use crate::AppState;

/// How long a configuration read is kept: Mirakl's budget for H11, PM11 and VL11.
const KEPT_FOR: Duration = Duration::from_secs(3600);
/// Channels whose configuration one process keeps at most; the oldest read goes first.
const MAX_KEPT: usize = 512;

/// What the mapping page shows and checks a mapping against.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CatalogConfiguration {
    /// In PM11's order, without the disabled ones; one per code.
    pub attributes: Vec<MarketplaceAttribute>,
    pub categories: Vec<MarketplaceCategory>,
    /// Attribute code → the label of the one category whose products need it. Such an
    /// attribute is not [`MarketplaceAttribute::required`]: products of other categories go
    /// without it, and a product of that category missing it is refused in the import's report.
    pub required_in: BTreeMap<String, String>,
}

impl CatalogConfiguration {
    pub fn from_marketplace(
        attributes: Vec<ProductAttribute>,
        lists: Vec<ValuesList>,
        hierarchies: Vec<Hierarchy>,
    ) -> Self {
        let categories: Vec<MarketplaceCategory> = hierarchies
            .into_iter()
            .map(|h| MarketplaceCategory {
                label: if h.label.trim().is_empty() {
                    h.code.clone()
                } else {
                    h.label
                },
                code: h.code,
                level: h.level,
                parent_code: h.parent_code,
            })
            .collect();
        let category_label = |code: &str| {
            categories
                .iter()
                .find(|c| c.code == code)
                .map_or_else(|| code.to_owned(), |c| c.label.clone())
        };
        let mut seen = HashSet::new();
        let mut required_in = BTreeMap::new();
        let attributes = attributes
            .into_iter()
            .filter(|a| a.requirement_level != RequirementLevel::Disabled)
            // A P41 file has one column per code.
            .filter(|a| seen.insert(a.code.clone()))
            .map(|a| {
                let required = a.requirement_level == RequirementLevel::Required;
                if required && let Some(category) = &a.hierarchy_code {
                    required_in.insert(a.code.clone(), category_label(category));
                }
                let is_list = a.type_.to_ascii_uppercase().starts_with("LIST");
                let values = a
                    .values_list
                    .as_deref()
                    .filter(|_| is_list)
                    .and_then(|code| lists.iter().find(|l| l.code == code))
                    .map(|list| list.values.iter().map(|v| v.code.clone()).collect())
                    .unwrap_or_default();
                MarketplaceAttribute {
                    label: if a.label.trim().is_empty() {
                        a.code.clone()
                    } else {
                        a.label
                    },
                    required: required && a.hierarchy_code.is_none(),
                    kind: a.type_,
                    values,
                    roles: a.roles,
                    code: a.code,
                }
            })
            .collect();
        Self {
            attributes,
            categories,
            required_in,
        }
    }
}

/// Why the configuration could not be read, in what the seller does about it.
#[derive(Debug)]
pub enum ReadError {
    /// Not authorized yet, or the authorization was refused since.
    NotConnected(ChannelStatus),
    NoStore,
    Token(TokenError),
    Marketplace(StoreId, MarketplaceError),
}

impl ReadError {
    /// The message the page shows; the settings page is where each fix is made.
    pub fn advice(&self, marketplace: &str) -> String {
        const RECONNECT: &str = "authorize Marketbridge again on the channel's settings page";
        match self {
            Self::NotConnected(ChannelStatus::ReauthorizationNeeded)
            | Self::Token(TokenError::ReauthorizationNeeded) => format!(
                "Mirakl no longer accepts Marketbridge's authorization for {marketplace}: click \
                 Reconnect on the channel's settings page."
            ),
            Self::NotConnected(_) | Self::Token(TokenError::NotAuthorized) => format!(
                "{marketplace} is not connected yet: connect it to Mirakl on the channel's \
                 settings page first."
            ),
            Self::NoStore => "Enter and verify your Mirakl store ID on the channel's settings \
                              page first."
                .to_owned(),
            Self::Token(e) => format!(
                "Marketbridge could not get a Mirakl token for {marketplace} ({e}). Try again in \
                 a moment."
            ),
            Self::Marketplace(_, MarketplaceError::Unauthorized) => {
                format!("{marketplace} refused this channel's Mirakl token: {RECONNECT}.")
            }
            Self::Marketplace(store, MarketplaceError::Forbidden(why)) => format!(
                "{marketplace} does not show its product attributes to store {store} ({why}): \
                 {RECONNECT} and pick that store."
            ),
            Self::Marketplace(_, MarketplaceError::NotFound(why)) => format!(
                "{marketplace} has no product attributes for sellers to read ({why}): it may not \
                 let sellers create products. Ask the marketplace."
            ),
            Self::Marketplace(_, e @ MarketplaceError::RateLimited { .. }) => format!(
                "{marketplace} allows its product attributes and categories to be read once an \
                 hour. {e}"
            ),
            Self::Marketplace(_, e) => format!(
                "{marketplace} did not give its product attributes and categories ({e}). Try \
                 again in a moment; if it keeps happening, tell your operator."
            ),
        }
    }
}

type Key = (WorkspaceId, ChannelId, StoreId);

/// The configurations this process read lately, by channel and store.
#[derive(Default)]
pub struct ConfigurationCache {
    entries: Mutex<HashMap<Key, (Instant, Arc<CatalogConfiguration>)>>,
}

impl ConfigurationCache {
    fn get(&self, key: &Key) -> Option<Arc<CatalogConfiguration>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(read_at, _)| read_at.elapsed() < KEPT_FOR)
            .map(|(_, configuration)| configuration.clone())
    }

    fn put(&self, key: Key, configuration: Arc<CatalogConfiguration>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (read_at, _)| read_at.elapsed() < KEPT_FOR);
        if entries.len() >= MAX_KEPT
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, (read_at, _))| *read_at)
                .map(|(key, _)| *key)
        {
            entries.remove(&oldest);
        }
        entries.insert(key, (Instant::now(), configuration));
    }
}

/// The channel's catalog configuration: as read within the hour, else from the marketplace.
pub async fn read(
    state: &AppState,
    channel: &Channel,
) -> Result<Arc<CatalogConfiguration>, ReadError> {
    if !channel.status.is_authorized() {
        return Err(ReadError::NotConnected(channel.status));
    }
    let (Some(store), Some(instance)) = (channel.store_id, channel.instance_url.as_ref()) else {
        return Err(ReadError::NoStore);
    };
    let key = (channel.workspace_id, channel.id, store);
    let cache = &state.inner.marketplace_configurations;
    if let Some(configuration) = cache.get(&key) {
        return Ok(configuration);
    }
    let token = state
        .flows()
        .tokens
        .access_token(channel.workspace_id, channel.id)
        .await
        .map_err(ReadError::Token)?;
    let client = state.flows().catalog.marketplace();
    let credential = || Credential::Bearer(token.expose());
    let (attributes, lists, hierarchies) = tokio::try_join!(
        client.product_attributes(instance, credential(), Some(store)),
        client.values_lists(instance, credential(), Some(store)),
        client.hierarchies(instance, credential(), Some(store)),
    )
    .map_err(|e| {
        tracing::warn!(channel = %channel.id, error = %e, "catalog configuration not read");
        ReadError::Marketplace(store, e)
    })?;
    let configuration = Arc::new(CatalogConfiguration::from_marketplace(
        attributes,
        lists,
        hierarchies,
    ));
    cache.put(key, configuration.clone());
    Ok(configuration)
}

#[cfg(test)]
mod tests {
    use mirakl::marketplace::ListValue;

    use super::*;

    fn attribute(code: &str, level: RequirementLevel) -> ProductAttribute {
        ProductAttribute {
            code: code.into(),
            label: code.to_uppercase(),
            requirement_level: level,
            type_: "TEXT".into(),
            values_list: None,
            roles: Vec::new(),
            description: None,
            hierarchy_code: None,
        }
    }

    fn hierarchy(code: &str, label: &str, parent: Option<&str>) -> Hierarchy {
        Hierarchy {
            code: code.into(),
            label: label.into(),
            level: if parent.is_some() { 2 } else { 1 },
            parent_code: parent.map(str::to_owned),
        }
    }

    #[test]
    fn the_configuration_keeps_what_a_mapping_needs() {
        let color = ProductAttribute {
            type_: "LIST".into(),
            values_list: Some("colors".into()),
            ..attribute("color", RequirementLevel::Optional)
        };
        let voltage = ProductAttribute {
            hierarchy_code: Some("electronics".into()),
            ..attribute("voltage", RequirementLevel::Required)
        };
        let lists = vec![ValuesList {
            code: "colors".into(),
            label: "Colors".into(),
            values: ["red", "blue"]
                .map(|code| ListValue {
                    code: code.into(),
                    label: code.to_uppercase(),
                })
                .to_vec(),
        }];
        let configuration = CatalogConfiguration::from_marketplace(
            vec![
                attribute("brand", RequirementLevel::Required),
                attribute("legacy", RequirementLevel::Disabled),
                color,
                voltage,
                attribute("brand", RequirementLevel::Optional),
            ],
            lists,
            vec![
                hierarchy("home", "Home", None),
                hierarchy("electronics", "", Some("home")),
            ],
        );
        let summary: Vec<(&str, bool, &[String])> = configuration
            .attributes
            .iter()
            .map(|a| (a.code.as_str(), a.required, a.values.as_slice()))
            .collect();
        assert_eq!(
            summary,
            [
                ("brand", true, &[][..]),
                ("color", false, &["red".to_owned(), "blue".to_owned()][..]),
                ("voltage", false, &[][..]),
            ],
            "disabled and repeated attributes left out; the list's codes"
        );
        assert_eq!(
            configuration.required_in,
            BTreeMap::from([("voltage".to_owned(), "electronics".to_owned())]),
            "a category without a label is named by its code"
        );
        assert_eq!(configuration.categories[1].label, "electronics");
        assert_eq!(
            configuration.categories[1].parent_code.as_deref(),
            Some("home")
        );
    }

    #[test]
    fn a_mirakl_refusal_says_what_to_do() {
        let store = StoreId::parse("2001").unwrap();
        let advice = ReadError::Marketplace(store, MarketplaceError::Unauthorized)
            .advice("Demo Marketplace");
        assert_eq!(
            advice,
            "Demo Marketplace refused this channel's Mirakl token: authorize Marketbridge again \
             on the channel's settings page."
        );
        assert!(
            ReadError::NotConnected(ChannelStatus::ReauthorizationNeeded)
                .advice("Demo Marketplace")
                .contains("click Reconnect")
        );
    }
}
