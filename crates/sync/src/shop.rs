//! The workspace's shop: the one place a client is built from a stored shop (its keys unsealed,
//! within the operator's address policy), and F2, connecting a store: the keys are proved with
//! one read, the shop is stored with its secrets sealed, and the connector's webhooks are
//! registered with a secret of this shop's own. Nothing here knows a platform's wire format:
//! that is `shops::ShopClient`'s.

use domain::{ShopConnection, ShopId, ShopPlatform, WorkspaceId};
use shops::bigcommerce::app::{
    InstallRequest, InstalledApp, SignedPayload, exchange_install_code, verify_signed_payload,
};
use shops::bigcommerce::{AccessToken, BcClient, StoreApi, StoreHash};
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
    bigcommerce: BigCommerceConfig,
}

/// How the connector reaches BigCommerce, and the connector's BigCommerce app when the
/// operator registered one.
#[derive(Clone, Debug)]
pub struct BigCommerceConfig {
    /// The API host: `https://api.bigcommerce.com/`, or a sandbox's `…/bc/`.
    pub api_url: Url,
    pub app: Option<BigCommerceApp>,
}

impl Default for BigCommerceConfig {
    fn default() -> Self {
        Self {
            api_url: Url::parse(shops::bigcommerce::API_ROOT).expect("a valid URL"),
            app: None,
        }
    }
}

/// The connector's app in BigCommerce's Developer Portal.
#[derive(Clone)]
pub struct BigCommerceApp {
    pub client_id: String,
    pub client_secret: Secret,
    /// BigCommerce's login service, where install codes are exchanged:
    /// `https://login.bigcommerce.com/` (or a sandbox's `…/bc/login/`).
    pub login_url: Url,
}

impl std::fmt::Debug for BigCommerceApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BigCommerceApp")
            .field("client_id", &self.client_id)
            .field("login_url", &self.login_url.as_str())
            .finish_non_exhaustive()
    }
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
    /// A BigCommerce store and an API token of it: an app install's (with the scopes it
    /// granted), or an API account's the seller pasted.
    BigCommerce {
        api: StoreApi,
        access_token: String,
        scope: Option<String>,
    },
}

/// Why a store could not be connected, in the seller's words; nothing was left half made.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConnectError(pub String);

impl Shops {
    pub fn new(
        storage: Storage,
        http: ShopHttp,
        public_url: Url,
        bigcommerce: BigCommerceConfig,
    ) -> Self {
        Self {
            storage,
            http,
            public_url,
            bigcommerce,
        }
    }

    /// The connector's BigCommerce app, when the operator configured one.
    pub fn bigcommerce_app(&self) -> Option<&BigCommerceApp> {
        self.bigcommerce.app.as_ref()
    }

    /// The API of the BigCommerce store `hash`, under the configured API host.
    pub fn bigcommerce_store(&self, hash: StoreHash) -> StoreApi {
        StoreApi::new(&self.bigcommerce.api_url, hash)
    }

    /// Exchanges the install code BigCommerce sent to the app's auth callback for the store's
    /// token. `redirect_uri` is the auth callback as registered, exactly.
    pub async fn exchange_bigcommerce_code(
        &self,
        request: &InstallRequest,
        redirect_uri: &str,
    ) -> Result<InstalledApp, ConnectError> {
        let app = self.bigcommerce.app.as_ref().ok_or_else(|| {
            ConnectError("This Marketbridge has no BigCommerce app configured.".to_owned())
        })?;
        let token_url = app
            .login_url
            .join("oauth2/token")
            .map_err(|e| ConnectError(format!("The BigCommerce login URL is not valid: {e}")))?;
        exchange_install_code(
            &self.http,
            &token_url,
            &app.client_id,
            app.client_secret.expose(),
            redirect_uri,
            request,
        )
        .await
        .map_err(|e| ConnectError(e.seller_message()))
    }

    /// Checks a `signed_payload_jwt` of the app's load, uninstall or remove-user callback.
    pub fn verify_bigcommerce_payload(&self, jwt: &str) -> Result<SignedPayload, ConnectError> {
        let app = self.bigcommerce.app.as_ref().ok_or_else(|| {
            ConnectError("This Marketbridge has no BigCommerce app configured.".to_owned())
        })?;
        verify_signed_payload(
            jwt,
            &app.client_id,
            app.client_secret.expose(),
            time::OffsetDateTime::now_utc(),
        )
        .map_err(|e| ConnectError(e.to_string()))
    }

    /// The shops connected to the BigCommerce store `hash`, in whichever workspace.
    pub async fn bigcommerce_shops(&self, hash: &StoreHash) -> anyhow::Result<Vec<Shop>> {
        let api = self.bigcommerce_store(hash.clone());
        Ok(self
            .storage
            .find_shops_at(ShopPlatform::BigCommerce, api.as_str())
            .await?)
    }

    /// Reads what a seller pasted as a BigCommerce store: an API path or a store hash.
    pub fn parse_bigcommerce_store(&self, input: &str) -> Result<StoreApi, ConnectError> {
        let api =
            StoreApi::parse(input, &self.bigcommerce.api_url).map_err(|e| ConnectError(e.0))?;
        self.http
            .policy()
            .check(&api.join(""))
            .map_err(|e| ConnectError(format!("The store's API address is not allowed: {e}")))?;
        Ok(api)
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
            ShopPlatform::BigCommerce => {
                let api = StoreApi::parse(&record.store_url, &self.bigcommerce.api_url)
                    .map_err(|e| anyhow::anyhow!("stored store API: {e}"))?;
                Ok(ShopClient::BigCommerce(BcClient::new(
                    api,
                    AccessToken::new(secrets.consumer_secret.expose()),
                    self.http.clone(),
                )))
            }
        }
    }

    /// Registers the connector's webhooks on the shop again, with the shop's stored secret,
    /// in place of ours there (a shop disables or deletes one that kept failing), and records
    /// them.
    pub async fn renew_webhooks(
        &self,
        ws: WorkspaceId,
        shop: ShopId,
        platform: ShopPlatform,
        client: &ShopClient,
    ) -> anyhow::Result<Vec<RegisteredWebhook>> {
        let secret = self.storage.shop_secrets(ws, shop).await?.webhook_secret;
        let delivery_url = self.delivery_url(platform, shop);
        let registered: Vec<RegisteredWebhook> = client
            .register_webhooks(delivery_url.as_str(), secret.expose())
            .await?
            .into_iter()
            .map(|w| RegisteredWebhook {
                topic: w.topic,
                remote_id: w.id,
                status: w.status,
            })
            .collect();
        self.storage
            .set_shop_webhooks(ws, shop, &registered, now_ms())
            .await?;
        Ok(registered)
    }

    /// Where a shop of `platform` delivers its webhooks to this connector.
    pub fn delivery_url(&self, platform: ShopPlatform, shop: ShopId) -> Url {
        let path = match platform {
            ShopPlatform::WooCommerce => format!("/webhooks/woocommerce/{shop}"),
            ShopPlatform::BigCommerce => format!("/webhooks/bigcommerce/{shop}"),
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
        let (client, store_url, consumer_key, consumer_secret, permissions) = match access {
            StoreAccess::WooCommerce {
                store,
                consumer_key,
                consumer_secret,
                permissions,
            } => {
                let client = ShopClient::WooCommerce(WooClient::new(
                    store.clone(),
                    Credentials {
                        consumer_key: consumer_key.clone(),
                        consumer_secret: ConsumerSecret::new(consumer_secret.clone()),
                    },
                    self.http.clone(),
                ));
                let url = store.as_str().to_owned();
                (client, url, consumer_key, consumer_secret, permissions)
            }
            // The store hash takes the key's place; the token is the one secret.
            StoreAccess::BigCommerce {
                api,
                access_token,
                scope,
            } => {
                let client = ShopClient::BigCommerce(BcClient::new(
                    api.clone(),
                    AccessToken::new(access_token.clone()),
                    self.http.clone(),
                ));
                let hash = api.hash().as_str().to_owned();
                (client, api.as_str().to_owned(), hash, access_token, scope)
            }
        };
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
                    store_url,
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
        tracing::info!(workspace = %ws, shop = %shop.id, platform = %shop.platform, products = summary.product_count, "store connected");
        Ok(shop.id)
    }
}

fn internal(e: anyhow::Error) -> ConnectError {
    tracing::error!(error = %format!("{e:#}"), "storing the shop failed");
    ConnectError(
        "Something went wrong on our side and nothing was saved. Try again in a moment.".to_owned(),
    )
}
