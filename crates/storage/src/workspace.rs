//! A workspace itself: when it was created and onboarded, and the settings saved for it (F3).

use domain::WorkspaceId;
use uuid::Uuid;

use crate::error::found;
use crate::{Storage, StorageError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub created_at_ms: i64,
    /// When the seller finished onboarding (clicked Launch the first time).
    pub onboarded_at_ms: Option<i64>,
}

/// The workspace's product and order settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkspaceSettings {
    /// Off: nothing is sent to the channels.
    pub sync_products: bool,
    pub import_orders: bool,
    /// `None` until the seller saves them: these are the defaults.
    pub saved_at_ms: Option<i64>,
}

impl Default for WorkspaceSettings {
    fn default() -> Self {
        Self {
            sync_products: true,
            import_orders: true,
            saved_at_ms: None,
        }
    }
}

#[derive(sqlx::FromRow)]
struct WorkspaceRow {
    id: Uuid,
    created_at_ms: i64,
    onboarded_at_ms: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct SettingsRow {
    sync_products: bool,
    import_orders: bool,
    saved_at_ms: i64,
}

impl Storage {
    pub async fn workspace(&self, ws: WorkspaceId) -> Result<Option<Workspace>, StorageError> {
        const SQL: &str = "SELECT id, created_at_ms, onboarded_at_ms FROM workspaces WHERE id = $1";
        let row = on_reader!(self, |p| sqlx::query_as::<_, WorkspaceRow>(SQL)
            .bind(ws.0)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(|row| Workspace {
            id: WorkspaceId(row.id),
            created_at_ms: row.created_at_ms,
            onboarded_at_ms: row.onboarded_at_ms,
        }))
    }

    /// Records the end of onboarding; the first time is kept if it is marked again. `NotFound`
    /// if the workspace does not exist.
    pub async fn mark_onboarded(&self, ws: WorkspaceId, now_ms: i64) -> Result<(), StorageError> {
        const SQL: &str =
            "UPDATE workspaces SET onboarded_at_ms = COALESCE(onboarded_at_ms, $2) WHERE id = $1";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        found(rows)
    }

    /// The saved settings, or [`WorkspaceSettings::default`] when none were saved.
    pub async fn workspace_settings(
        &self,
        ws: WorkspaceId,
    ) -> Result<WorkspaceSettings, StorageError> {
        const SQL: &str = "SELECT sync_products, import_orders, saved_at_ms \
             FROM workspace_settings WHERE workspace_id = $1";
        let row = on_reader!(self, |p| sqlx::query_as::<_, SettingsRow>(SQL)
            .bind(ws.0)
            .fetch_optional(p)
            .await)?;
        Ok(
            row.map_or_else(WorkspaceSettings::default, |row| WorkspaceSettings {
                sync_products: row.sync_products,
                import_orders: row.import_orders,
                saved_at_ms: Some(row.saved_at_ms),
            }),
        )
    }

    /// Saves the settings (their `saved_at_ms` is ignored: it becomes `now_ms`). `NotFound` if
    /// the workspace does not exist.
    pub async fn save_workspace_settings(
        &self,
        ws: WorkspaceId,
        s: &WorkspaceSettings,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "INSERT INTO workspace_settings \
             (workspace_id, sync_products, import_orders, saved_at_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (workspace_id) DO UPDATE SET \
               sync_products = excluded.sync_products, import_orders = excluded.import_orders, \
               saved_at_ms = excluded.saved_at_ms";
        on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(s.sync_products)
            .bind(s.import_orders)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))
        .map_err(StorageError::on_write("workspace_settings_pkey"))?;
        Ok(())
    }
}
