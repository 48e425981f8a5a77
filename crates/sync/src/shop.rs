//! The workspace's shop: the one place a client is built from a stored shop (its keys unsealed,
//! within the operator's address policy), and F2, connecting a store: the keys are proved with
//! one read, the shop is stored with its secrets sealed, and the connector's webhooks are
//! registered with a secret of this shop's own. Nothing here knows a platform's wire format:
//! that is `shops::ShopClient`'s.

use domain::{ShopConnection, ShopId, ShopPlatform, WorkspaceId};
use shops::woocommerce::{ConsumerSecret, Credentials, StoreUrl, WooClient};
use shops::{AddressError, ShopClient, ShopHttp};
use storage::{NewShop, RegisteredWebhook, Secret, Shop, Storage, now_ms};
use url::Url;

/// Builds clients for the workspaces' shops, and connects new ones. Cheap to clone.
#[derive(Clone)]
pub struct Shops {
    storage: Storage,
    http: ShopHttp,
    /// How shops reach this connector: webhook deliveries go under it.
    public_url: Url,
}

/// What a seller gives to connect a store.
pub enum StoreAccess {
    /// A WooCommerce store and a REST key of it: pasted, or sent by the store's app
    /// authorization (with the permissions it reports).
    WooCommerce {
        store: StoreUrl,
        consumer_key: String,
        consumer_secret: String,
        permissions: Option<String>,
    },
}

/// Why a store could not be connected, in the seller's words; nothing was left half made.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConnectError(pub String);

impl Shops {
    pub fn new(storage: Storage, http: ShopHttp, public_url: Url) -> Self {
        Self {
            storage,
            http,
            public_url,
        }
    }

    /// Refuses a store address the operator's policy does not allow, with what is wrong,
    /// before the seller is sent anywhere. Every call checks it again.
    pub fn check_address(&self, store: &StoreUrl) -> Result<(), AddressError> {
        self.http.policy().check(&store.join(""))
    }

    /// A client for the workspace's shop `shop`, with its keys unsealed.
    pub async fn client(&self, ws: WorkspaceId, shop: ShopId) -> anyhow::Result<ShopClient> {
        let record = self
            .storage
            .get_shop(ws)
            .await?
            .filter(|s| s.id == shop)
            .ok_or_else(|| anyhow::anyhow!("the shop is no longer connected"))?;
        self.client_of(&record).await
    }

    /// The workspace's shop and a client for it, if one is connected.
    pub async fn connected(&self, ws: WorkspaceId) -> anyhow::Result<Option<(Shop, ShopClient)>> {
        let Some(record) = self.storage.get_shop(ws).await? else {
            return Ok(None);
        };
        let client = self.client_of(&record).await?;
        Ok(Some((record, client)))
    }

    async fn client_of(&self, record: &Shop) -> anyhow::Result<ShopClient> {
        let secrets = self
            .storage
            .shop_secrets(record.workspace_id, record.id)
            .await?;
        match record.platform {
            ShopPlatform::WooCommerce => {
                let store = StoreUrl::parse(&record.store_url)
                    .map_err(|e| anyhow::anyhow!("stored store URL: {e}"))?;
                let credentials = Credentials {
                    consumer_key: secrets.consumer_key.expose().to_owned(),
                    consumer_secret: ConsumerSecret::new(
                        secrets.consumer_secret.expose().to_owned(),
                    ),
                };
                Ok(ShopClient::WooCommerce(WooClient::new(
                    store,
                    credentials,
                    self.http.clone(),
                )))
            }
        }
    }

    /// Where a shop of `platform` delivers its webhooks to this connector.
    pub fn delivery_url(&self, platform: ShopPlatform, shop: ShopId) -> Url {
        let path = match platform {
            ShopPlatform::WooCommerce => format!("/webhooks/woocommerce/{shop}"),
        };
        self.public_url.join(&path).expect("a valid path")
    }

    /// F2: proves the keys with one read, stores the shop (its secrets sealed) and registers
    /// the connector's webhooks. On failure nothing is left half made, and the error says
    /// what to do.
    pub async fn connect(
        &self,
        ws: WorkspaceId,
        access: StoreAccess,
        connection: ShopConnection,
    ) -> Result<ShopId, ConnectError> {
        let StoreAccess::WooCommerce {
            store,
            consumer_key,
            consumer_secret,
            permissions,
        } = access;
        let client = ShopClient::WooCommerce(WooClient::new(
            store.clone(),
            Credentials {
                consumer_key: consumer_key.clone(),
                consumer_secret: ConsumerSecret::new(consumer_secret.clone()),
            },
            self.http.clone(),
        ));
        let summary = client
            .verify()
            .await
            .map_err(|e| ConnectError(e.seller_message()))?;
        let webhook_secret = shops::webhook::new_secret();
        let shop = self
            .storage
            .connect_shop(
                ws,
                &NewShop {
                    platform: client.platform(),
                    store_url: store.as_str().to_owned(),
                    consumer_key: Secret::new(consumer_key),
                    consumer_secret: Secret::new(consumer_secret),
                    key_permissions: permissions,
                    connection,
                    webhook_secret: Secret::new(webhook_secret.clone()),
                },
                now_ms(),
            )
            .await
            .map_err(|e| internal(e.into()))?;
        let delivery_url = self.delivery_url(shop.platform, shop.id);
        match client
            .register_webhooks(delivery_url.as_str(), &webhook_secret)
            .await
        {
            Ok(webhooks) => {
                let registered: Vec<RegisteredWebhook> = webhooks
                    .into_iter()
                    .map(|w| RegisteredWebhook {
                        topic: w.topic,
                        remote_id: w.id,
                        status: w.status,
                    })
                    .collect();
                self.storage
                    .set_shop_webhooks(ws, shop.id, &registered, now_ms())
                    .await
                    .map_err(|e| internal(e.into()))?;
            }
            Err(e) => {
                let _ = self.storage.delete_shop(ws, shop.id).await;
                return Err(ConnectError(format!(
                    "Marketbridge could not register its webhooks on your store: {}",
                    e.seller_message()
                )));
            }
        }
        tracing::info!(workspace = %ws, shop = %shop.id, products = summary.product_count, "WooCommerce store connected");
        Ok(shop.id)
    }
}

fn internal(e: anyhow::Error) -> ConnectError {
    tracing::error!(error = %format!("{e:#}"), "storing the shop failed");
    ConnectError(
        "Something went wrong on our side and nothing was saved. Try again in a moment.".to_owned(),
    )
}
