//! The Products page's query: a keyset page of the catalog with each item's state on each
//! channel, filtered by text, channel and state, in one statement.

use domain::{ChannelId, ChannelStatus, ItemState, WorkspaceId};
use uuid::Uuid;

use crate::{Storage, StorageError};

/// What the seller filters the Products page by. `Default` is the first page of everything
/// (with a `limit` of 0: set one).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProductsFilter {
    /// Part of the SKU or of the title, case-insensitive (ASCII letters on SQLite, whose
    /// `LOWER` folds only those); `%` and `_` match themselves.
    pub search: Option<String>,
    /// Only this channel's states; with `state`, only items in that state on this channel.
    pub channel: Option<ChannelId>,
    /// Only items in this state (on `channel`, or on any channel).
    pub state: Option<ItemState>,
    /// The last SKU of the previous page.
    pub after_sku: Option<String>,
    pub limit: i64,
}

/// One line of the Products page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductView {
    pub sku: String,
    pub title: String,
    pub shop_product_id: i64,
    /// The item's state and error on each channel, channels oldest first.
    pub states: Vec<(ChannelId, ItemState, Option<String>)>,
}

#[derive(sqlx::FromRow)]
struct ViewRow {
    sku: String,
    title: String,
    shop_product_id: i64,
    channel_id: Option<Uuid>,
    channel_status: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `search` as a `LIKE … ESCAPE '\'` pattern matching it anywhere, lower-cased.
pub(crate) fn contains_pattern(search: &str) -> String {
    let mut pattern = String::with_capacity(search.len() + 2);
    pattern.push('%');
    for c in search.to_lowercase().chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Storage {
    /// A page of the catalog for the Products page, in SKU order, deleted items left out.
    ///
    /// An item without a row for a live channel (never sent yet) shows as `waiting` there, and
    /// matches a `waiting` filter; on a channel that is not live it shows nothing until the
    /// channel has a row for it.
    pub async fn products_view(
        &self,
        ws: WorkspaceId,
        filter: &ProductsFilter,
    ) -> Result<Vec<ProductView>, StorageError> {
        // $1 workspace, $2 after SKU, $3 pattern, $4 channel, $5 state, $6 waiting, $7 the live
        // channel status, $8 limit. SKUs are never empty, so '' comes before the first one.
        const SQL: &str = "WITH page AS ( \
               SELECT c.sku, c.title, c.shop_product_id FROM catalog_items c \
               WHERE c.workspace_id = $1 AND c.deleted_at_ms IS NULL AND c.sku > $2 \
                 AND ($3 IS NULL OR LOWER(c.sku) LIKE $3 ESCAPE '\\' \
                      OR LOWER(c.title) LIKE $3 ESCAPE '\\') \
                 AND ($5 IS NULL OR EXISTS ( \
                   SELECT 1 FROM channels ch \
                   LEFT JOIN channel_items ci \
                     ON ci.workspace_id = $1 AND ci.channel_id = ch.id AND ci.sku = c.sku \
                   WHERE ch.workspace_id = $1 AND ($4 IS NULL OR ch.id = $4) \
                     AND (ci.state = $5 OR (ci.state IS NULL AND $5 = $6 AND ch.status = $7)))) \
               ORDER BY c.sku LIMIT $8) \
             SELECT p.sku, p.title, p.shop_product_id, ch.id AS channel_id, \
               ch.status AS channel_status, ci.state, ci.error \
             FROM page p \
             LEFT JOIN channels ch ON ch.workspace_id = $1 AND ($4 IS NULL OR ch.id = $4) \
             LEFT JOIN channel_items ci \
               ON ci.workspace_id = $1 AND ci.channel_id = ch.id AND ci.sku = p.sku \
             ORDER BY p.sku, ch.created_at_ms, ch.id";
        let pattern = filter
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(contains_pattern);
        let rows = on_reader!(self, |p| sqlx::query_as::<_, ViewRow>(SQL)
            .bind(ws.0)
            .bind(filter.after_sku.as_deref().unwrap_or(""))
            .bind(pattern.as_deref())
            .bind(filter.channel.map(|c| c.0))
            .bind(filter.state.map(ItemState::as_str))
            .bind(ItemState::Waiting.as_str())
            .bind(ChannelStatus::Live.as_str())
            .bind(filter.limit.max(0))
            .fetch_all(p)
            .await)?;

        let mut views: Vec<ProductView> = Vec::new();
        for row in rows {
            if views.last().is_none_or(|view| view.sku != row.sku) {
                views.push(ProductView {
                    sku: row.sku.clone(),
                    title: row.title,
                    shop_product_id: row.shop_product_id,
                    states: Vec::new(),
                });
            }
            let Some(channel_id) = row.channel_id else {
                continue;
            };
            let state = match (&row.state, &row.channel_status) {
                (Some(state), _) => ItemState::parse(state).ok_or_else(|| {
                    StorageError::Corrupt(format!("channel item {}: state {state:?}", row.sku))
                })?,
                (None, Some(status)) if status == ChannelStatus::Live.as_str() => {
                    ItemState::Waiting
                }
                (None, _) => continue,
            };
            if let Some(view) = views.last_mut() {
                view.states.push((ChannelId(channel_id), state, row.error));
            }
        }
        Ok(views)
    }
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn a_search_matches_itself_anywhere() {
        assert_eq!(contains_pattern("Blue Shirt"), "%blue shirt%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
