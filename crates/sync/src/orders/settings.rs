//! F3 for orders: the seller's order settings and the **Import orders** switch.

use domain::WorkspaceId;
use domain::order::OrderSettings;
use storage::now_ms;

use super::Orders;

impl Orders {
    /// The workspace's order settings, or the defaults until the seller saves some.
    pub async fn settings(&self, ws: WorkspaceId) -> anyhow::Result<OrderSettings> {
        Ok(self.storage.order_settings(ws).await?.unwrap_or_default())
    }

    /// Saves the order settings and the **Import orders** switch. Settings that cannot be
    /// saved are refused with every problem named; nothing is written then.
    pub async fn save_settings(
        &self,
        ws: WorkspaceId,
        settings: &OrderSettings,
        import_orders: bool,
    ) -> anyhow::Result<Result<(), Vec<domain::FieldError>>> {
        if let Err(errors) = settings.validate() {
            return Ok(Err(errors));
        }
        self.storage
            .save_order_settings(ws, settings, now_ms())
            .await?;
        let mut workspace = self.storage.workspace_settings(ws).await?;
        let turned_on = import_orders && !workspace.import_orders;
        workspace.import_orders = import_orders;
        self.storage
            .save_workspace_settings(ws, &workspace, now_ms())
            .await?;
        tracing::info!(%ws, import_orders, "order settings saved");
        if turned_on {
            for channel in self.storage.list_channels(ws).await? {
                self.poll_now(ws, channel.id).await?;
            }
        }
        Ok(Ok(()))
    }
}

impl Orders {
    /// How often each channel's orders are polled at most: what the Orders page promises a
    /// seller waiting for a new order.
    pub fn poll_interval(&self) -> std::time::Duration {
        self.config.poll_interval
    }
}
