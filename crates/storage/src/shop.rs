//! The seller's shop (F2): its URL, sealed API keys and webhook secret, the webhooks the
//! connector registered in it, the health of the connection and the cursor of catalog reads. One shop per workspace for
//! now. Every statement but [`Storage::find_shop`] and [`Storage::shops_due_for_health_check`]
//! is scoped by the workspace.

use domain::{ShopConnection, ShopHealth, ShopId, ShopPlatform, WorkspaceId};
use uuid::Uuid;

use crate::crypto::{Secret, SecretColumn};
use crate::error::found;
use crate::{Storage, StorageError};

/// A shop to connect; its secrets are sealed before they are stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewShop {
    pub platform: ShopPlatform,
    pub store_url: String,
    pub consumer_key: Secret,
    pub consumer_secret: Secret,
    /// What the keys may do, as the shop reports it (WooCommerce: `read`, `write`, `read_write`).
    pub key_permissions: Option<String>,
    pub connection: ShopConnection,
    /// The secret the shop signs the connector's webhooks with.
    pub webhook_secret: Secret,
}

/// A connected shop, without its secrets (those come from [`Storage::shop_secrets`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shop {
    pub id: ShopId,
    pub workspace_id: WorkspaceId,
    pub platform: ShopPlatform,
    pub store_url: String,
    pub key_permissions: Option<String>,
    pub connection: ShopConnection,
    pub health: ShopHealth,
    pub last_success_at_ms: Option<i64>,
    /// The problem found by the last health check, if it failed.
    pub last_error: Option<String>,
    pub last_webhook_at_ms: Option<i64>,
    /// The `modified_after` cursor of delta reads of the catalog: items modified since were
    /// not read yet. `None` until a first full read (and again after the store URL changes).
    pub catalog_read_at_ms: Option<i64>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopSecrets {
    pub consumer_key: Secret,
    pub consumer_secret: Secret,
    pub webhook_secret: Secret,
}

/// A webhook the connector registered in the shop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredWebhook {
    /// The shop's topic, e.g. `product.updated`.
    pub topic: String,
    /// The shop's id of the webhook (to delete it on disconnect).
    pub remote_id: i64,
    /// The shop's status of the webhook, e.g. `active`.
    pub status: String,
}

/// The columns of [`ShopRow`], for `SELECT` and `RETURNING`.
macro_rules! shop_columns {
    () => {
        "id, workspace_id, platform, store_url, key_permissions, connection, health, \
         last_success_at_ms, last_error, last_webhook_at_ms, catalog_read_at_ms, created_at_ms, \
         updated_at_ms"
    };
}

#[derive(sqlx::FromRow)]
struct ShopRow {
    id: Uuid,
    workspace_id: Uuid,
    platform: String,
    store_url: String,
    key_permissions: Option<String>,
    connection: String,
    health: String,
    last_success_at_ms: Option<i64>,
    last_error: Option<String>,
    last_webhook_at_ms: Option<i64>,
    catalog_read_at_ms: Option<i64>,
    created_at_ms: i64,
    updated_at_ms: i64,
}

impl TryFrom<ShopRow> for Shop {
    type Error = StorageError;

    fn try_from(row: ShopRow) -> Result<Self, StorageError> {
        let corrupt = |what: &str, value: &str| {
            StorageError::Corrupt(format!("shop {}: {what} {value:?}", row.id))
        };
        let platform =
            ShopPlatform::parse(&row.platform).ok_or_else(|| corrupt("platform", &row.platform))?;
        let connection = ShopConnection::parse(&row.connection)
            .ok_or_else(|| corrupt("connection", &row.connection))?;
        let health =
            ShopHealth::parse(&row.health).ok_or_else(|| corrupt("health", &row.health))?;
        Ok(Shop {
            id: ShopId(row.id),
            workspace_id: WorkspaceId(row.workspace_id),
            platform,
            store_url: row.store_url,
            key_permissions: row.key_permissions,
            connection,
            health,
            last_success_at_ms: row.last_success_at_ms,
            last_error: row.last_error,
            last_webhook_at_ms: row.last_webhook_at_ms,
            catalog_read_at_ms: row.catalog_read_at_ms,
            created_at_ms: row.created_at_ms,
            updated_at_ms: row.updated_at_ms,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SecretsRow {
    consumer_key: Vec<u8>,
    consumer_secret: Vec<u8>,
    webhook_secret: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct WebhookRow {
    topic: String,
    remote_id: i64,
    status: String,
}

impl Storage {
    /// Connects the workspace's shop, or replaces the one it has (new URL, keys, connection and
    /// webhook secret; the id, creation time and webhook history stay, and so does the catalog
    /// cursor unless the store URL changed: another store's catalog is read in full). The keys were just
    /// verified, so health is reset to `Ok` with a success at `now_ms`. `NotFound` if the
    /// workspace does not exist.
    pub async fn connect_shop(
        &self,
        ws: WorkspaceId,
        new: &NewShop,
        now_ms: i64,
    ) -> Result<Shop, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO shops (id, workspace_id, platform, store_url, consumer_key, consumer_secret, ",
            "key_permissions, connection, webhook_secret, health, health_checked_at_ms, ",
            "last_success_at_ms, created_at_ms, updated_at_ms) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $11, $11) ",
            "ON CONFLICT (workspace_id) DO UPDATE SET ",
            "platform = excluded.platform, store_url = excluded.store_url, ",
            "consumer_key = excluded.consumer_key, consumer_secret = excluded.consumer_secret, ",
            "key_permissions = excluded.key_permissions, connection = excluded.connection, ",
            "webhook_secret = excluded.webhook_secret, health = excluded.health, ",
            "health_checked_at_ms = excluded.health_checked_at_ms, ",
            "last_success_at_ms = excluded.last_success_at_ms, last_error = NULL, ",
            "catalog_read_at_ms = CASE WHEN shops.store_url = excluded.store_url ",
            "THEN shops.catalog_read_at_ms END, ",
            "updated_at_ms = excluded.updated_at_ms ",
            "RETURNING ",
            shop_columns!()
        );
        let consumer_key =
            self.secrets
                .seal_secret(ws, SecretColumn::ConsumerKey, &new.consumer_key)?;
        let consumer_secret =
            self.secrets
                .seal_secret(ws, SecretColumn::ConsumerSecret, &new.consumer_secret)?;
        let webhook_secret =
            self.secrets
                .seal_secret(ws, SecretColumn::WebhookSecret, &new.webhook_secret)?;
        let row = on_writer!(self, |p| sqlx::query_as::<_, ShopRow>(SQL)
            .bind(ShopId::new().0)
            .bind(ws.0)
            .bind(new.platform.as_str())
            .bind(&new.store_url)
            .bind(consumer_key.as_slice())
            .bind(consumer_secret.as_slice())
            .bind(new.key_permissions.as_deref())
            .bind(new.connection.as_str())
            .bind(webhook_secret.as_slice())
            .bind(ShopHealth::Ok.as_str())
            .bind(now_ms)
            .fetch_one(p)
            .await)
        .map_err(StorageError::on_write("shops_workspace"))?;
        Shop::try_from(row)
    }

    /// The workspace's shop, if it has connected one.
    pub async fn get_shop(&self, ws: WorkspaceId) -> Result<Option<Shop>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            shop_columns!(),
            " FROM shops WHERE workspace_id = $1"
        );
        let row = on_reader!(self, |p| sqlx::query_as::<_, ShopRow>(SQL)
            .bind(ws.0)
            .fetch_optional(p)
            .await)?;
        row.map(Shop::try_from).transpose()
    }

    /// The shops of `platform` at `store_url`, in whichever workspace they are, oldest first.
    ///
    /// Not scoped, like [`Storage::find_shop`]: a BigCommerce app callback knows only the
    /// store, from a payload signed with the app's secret, and must have checked it before
    /// asking. No secret is returned.
    pub async fn find_shops_at(
        &self,
        platform: ShopPlatform,
        store_url: &str,
    ) -> Result<Vec<Shop>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            shop_columns!(),
            " FROM shops WHERE platform = $1 AND store_url = $2 ORDER BY created_at_ms, id"
        );
        let rows = on_reader!(self, |p| sqlx::query_as::<_, ShopRow>(SQL)
            .bind(platform.as_str())
            .bind(store_url)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(Shop::try_from).collect()
    }

    /// The shop with this id, in whichever workspace it is.
    ///
    /// Not scoped, unlike everything else here: the webhook receiver knows only the shop id
    /// from the URL the shop posts to. It learns the workspace from the answer and must verify
    /// the delivery's signature with [`Storage::shop_secrets`] before trusting anything in it.
    /// No secret is returned.
    pub async fn find_shop(&self, shop_id: ShopId) -> Result<Option<Shop>, StorageError> {
        const SQL: &str = concat!("SELECT ", shop_columns!(), " FROM shops WHERE id = $1");
        let row = on_reader!(self, |p| sqlx::query_as::<_, ShopRow>(SQL)
            .bind(shop_id.0)
            .fetch_optional(p)
            .await)?;
        row.map(Shop::try_from).transpose()
    }

    /// The shop's keys and webhook secret, opened. `NotFound` if the shop is not in `ws`.
    pub async fn shop_secrets(
        &self,
        ws: WorkspaceId,
        shop_id: ShopId,
    ) -> Result<ShopSecrets, StorageError> {
        const SQL: &str = "SELECT consumer_key, consumer_secret, webhook_secret FROM shops \
             WHERE workspace_id = $1 AND id = $2";
        let row = on_reader!(self, |p| sqlx::query_as::<_, SecretsRow>(SQL)
            .bind(ws.0)
            .bind(shop_id.0)
            .fetch_optional(p)
            .await)?
        .ok_or(StorageError::NotFound)?;
        Ok(ShopSecrets {
            consumer_key: self.secrets.open_secret(
                ws,
                SecretColumn::ConsumerKey,
                &row.consumer_key,
            )?,
            consumer_secret: self.secrets.open_secret(
                ws,
                SecretColumn::ConsumerSecret,
                &row.consumer_secret,
            )?,
            webhook_secret: self.secrets.open_secret(
                ws,
                SecretColumn::WebhookSecret,
                &row.webhook_secret,
            )?,
        })
    }

    /// Records a health check at `now_ms`. `Ok` also records a success and clears the error
    /// (any `error` passed with it is ignored); a failure keeps the last success. `NotFound`
    /// if the shop is not in `ws`.
    pub async fn record_shop_health(
        &self,
        ws: WorkspaceId,
        shop_id: ShopId,
        health: ShopHealth,
        error: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE shops SET health = $3, last_error = $4, \
               last_success_at_ms = COALESCE($5, last_success_at_ms), \
               health_checked_at_ms = $6, updated_at_ms = $6 \
             WHERE workspace_id = $1 AND id = $2";
        let (error, success) = match health {
            ShopHealth::Ok => (None, Some(now_ms)),
            ShopHealth::Unreachable | ShopHealth::KeysRefused => (error, None),
        };
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(shop_id.0)
            .bind(health.as_str())
            .bind(error)
            .bind(success)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        found(rows)
    }

    /// Moves the catalog cursor (see [`Shop::catalog_read_at_ms`]) to `at_ms`, as given: a full
    /// read may set it back. `NotFound` if the shop is not in `ws`.
    pub async fn set_catalog_cursor(
        &self,
        ws: WorkspaceId,
        shop_id: ShopId,
        at_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str =
            "UPDATE shops SET catalog_read_at_ms = $3 WHERE workspace_id = $1 AND id = $2";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(shop_id.0)
            .bind(at_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        found(rows)
    }

    /// Shops, across workspaces, last checked before `checked_before_ms`: longest unchecked
    /// first. Whatever their last verdict: a refused key may be restored in the shop.
    pub async fn shops_due_for_health_check(
        &self,
        checked_before_ms: i64,
        limit: i64,
    ) -> Result<Vec<(WorkspaceId, ShopId)>, StorageError> {
        const SQL: &str = "SELECT workspace_id, id FROM shops WHERE health_checked_at_ms < $1 \
             ORDER BY health_checked_at_ms, id LIMIT $2";
        let rows: Vec<(Uuid, Uuid)> = on_reader!(self, |p| sqlx::query_as(SQL)
            .bind(checked_before_ms)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(ws, shop)| (WorkspaceId(ws), ShopId(shop)))
            .collect())
    }

    /// Replaces the list of webhooks registered in the shop, in one transaction. `NotFound` if
    /// the shop is not in `ws`; `Conflict("shop_webhooks_pkey")` if a remote id is listed twice.
    pub async fn set_shop_webhooks(
        &self,
        ws: WorkspaceId,
        shop_id: ShopId,
        webhooks: &[RegisteredWebhook],
        now_ms: i64,
    ) -> Result<(), StorageError> {
        // Touching the shop first proves it is in the workspace and, on PostgreSQL, locks its
        // row, so two concurrent replacements take turns instead of mixing their lists.
        const TOUCH_SHOP: &str =
            "UPDATE shops SET updated_at_ms = $3 WHERE workspace_id = $1 AND id = $2";
        const DELETE: &str = "DELETE FROM shop_webhooks WHERE workspace_id = $1 AND shop_id = $2";
        const INSERT: &str = "INSERT INTO shop_webhooks \
             (workspace_id, shop_id, topic, remote_id, status, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)";
        in_transaction!(self, |tx| {
            let touched = sqlx::query(TOUCH_SHOP)
                .bind(ws.0)
                .bind(shop_id.0)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            found(touched.rows_affected())?;
            sqlx::query(DELETE)
                .bind(ws.0)
                .bind(shop_id.0)
                .execute(&mut *tx)
                .await?;
            for webhook in webhooks {
                sqlx::query(INSERT)
                    .bind(ws.0)
                    .bind(shop_id.0)
                    .bind(&webhook.topic)
                    .bind(webhook.remote_id)
                    .bind(&webhook.status)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(StorageError::on_write("shop_webhooks_pkey"))?;
            }
        });
        Ok(())
    }

    /// The webhooks registered in the shop, by topic; empty for a shop not in `ws`.
    pub async fn shop_webhooks(
        &self,
        ws: WorkspaceId,
        shop_id: ShopId,
    ) -> Result<Vec<RegisteredWebhook>, StorageError> {
        const SQL: &str = "SELECT topic, remote_id, status FROM shop_webhooks \
             WHERE workspace_id = $1 AND shop_id = $2 ORDER BY topic, remote_id";
        let rows = on_reader!(self, |p| sqlx::query_as::<_, WebhookRow>(SQL)
            .bind(ws.0)
            .bind(shop_id.0)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|row| RegisteredWebhook {
                topic: row.topic,
                remote_id: row.remote_id,
                status: row.status,
            })
            .collect())
    }

    /// Deletes the shop with its registered webhooks and its inbox, in one transaction. Jobs
    /// already queued for its inbox rows find nothing to do. `NotFound` if the shop is not in
    /// `ws`.
    pub async fn delete_shop(&self, ws: WorkspaceId, shop_id: ShopId) -> Result<(), StorageError> {
        // The foreign keys cascade too; the explicit deletes keep the rule visible here.
        const DELETE_INBOX: &str =
            "DELETE FROM webhook_inbox WHERE workspace_id = $1 AND shop_id = $2";
        const DELETE_WEBHOOKS: &str =
            "DELETE FROM shop_webhooks WHERE workspace_id = $1 AND shop_id = $2";
        const DELETE_SHOP: &str = "DELETE FROM shops WHERE workspace_id = $1 AND id = $2";
        in_transaction!(self, |tx| {
            sqlx::query(DELETE_INBOX)
                .bind(ws.0)
                .bind(shop_id.0)
                .execute(&mut *tx)
                .await?;
            sqlx::query(DELETE_WEBHOOKS)
                .bind(ws.0)
                .bind(shop_id.0)
                .execute(&mut *tx)
                .await?;
            let done = sqlx::query(DELETE_SHOP)
                .bind(ws.0)
                .bind(shop_id.0)
                .execute(&mut *tx)
                .await?;
            found(done.rows_affected())?;
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(
            ShopPlatform::parse("woocommerce"),
            Some(ShopPlatform::WooCommerce)
        );
        for c in [ShopConnection::AppAuthorization, ShopConnection::PastedKeys] {
            assert_eq!(ShopConnection::parse(c.as_str()), Some(c));
        }
        for h in [
            ShopHealth::Ok,
            ShopHealth::Unreachable,
            ShopHealth::KeysRefused,
        ] {
            assert_eq!(ShopHealth::parse(h.as_str()), Some(h));
        }
        assert_eq!(ShopHealth::parse("fine"), None);
        let id = ShopId::new();
        assert_eq!(id.to_string().parse::<ShopId>().unwrap(), id);
    }
}
