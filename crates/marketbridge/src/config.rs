//! Configuration, layered: built-in defaults, then an optional TOML file (`--config`), then
//! environment variables `MARKETBRIDGE_…`, then flags. Secrets may come from a file
//! (`…_FILE`). A missing secret outside `demo` and `sandbox` stops the start, with a message
//! that says which setting to give: there are no default secrets.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Args;
use domain::{InstanceUrl, MarketplaceDefinition};
use serde::Deserialize;
use storage::SecretKey;
use url::Url;

/// Settings shared by `serve`, `worker` and `migrate`.
#[derive(Args, Debug, Clone, Default)]
pub struct ServerArgs {
    /// A TOML file with any of the settings below (snake_case keys).
    #[arg(long, env = "MARKETBRIDGE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "MARKETBRIDGE_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Serve Prometheus metrics on `GET /metrics` at this address (off when absent). Keep it
    /// off the public network: it is not the sellers' address and asks for no sign-in.
    #[arg(long, value_name = "ADDR", env = "MARKETBRIDGE_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// How sellers' browsers reach this server, e.g. https://connector.example.com.
    #[arg(long, env = "MARKETBRIDGE_PUBLIC_URL")]
    pub public_url: Option<Url>,
    /// sqlite://path/to/file.db (default: marketbridge.db in the data dir) or postgres://…
    #[arg(long, env = "MARKETBRIDGE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Where the SQLite database and other local files live.
    #[arg(long, env = "MARKETBRIDGE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The key that encrypts secrets at rest: 32 random bytes, base64. Prefer the _FILE form.
    #[arg(long, env = "MARKETBRIDGE_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// A file holding the secret key.
    #[arg(long, env = "MARKETBRIDGE_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// Base URL of the Mirakl Authentication System.
    #[arg(long, env = "MARKETBRIDGE_MAS_URL")]
    pub mas_url: Option<Url>,
    /// The OAuth client id Mirakl gave you.
    #[arg(long, env = "MARKETBRIDGE_MAS_CLIENT_ID")]
    pub mas_client_id: Option<String>,
    /// The OAuth client secret Mirakl gave you. Prefer the _FILE form.
    #[arg(long, env = "MARKETBRIDGE_MAS_CLIENT_SECRET", hide_env_values = true)]
    pub mas_client_secret: Option<String>,
    /// A file holding the OAuth client secret.
    #[arg(long, env = "MARKETBRIDGE_MAS_CLIENT_SECRET_FILE")]
    pub mas_client_secret_file: Option<PathBuf>,
    /// The redirect URI registered with Mirakl (default: PUBLIC_URL/oauth/mirakl/callback).
    #[arg(long, env = "MARKETBRIDGE_MAS_REDIRECT_URI")]
    pub mas_redirect_uri: Option<Url>,
    /// Base URL of the Mirakl Connect seller API.
    #[arg(long, env = "MARKETBRIDGE_CONNECT_URL")]
    pub connect_url: Option<Url>,
    /// How strictly Mirakl's call budgets are applied: 1 = the documented frequencies
    /// (production), 0 = off (only against a sandbox with budgets off).
    #[arg(long, env = "MARKETBRIDGE_BUDGET_SCALE")]
    pub budget_scale: Option<f64>,
    /// A marketplace sellers may connect, as CODE=NAME=INSTANCE_URL (repeatable), e.g.
    /// `acme=Acme Marketplace=https://acme.mirakl.net`.
    #[arg(
        long = "marketplace",
        env = "MARKETBRIDGE_MARKETPLACES",
        value_delimiter = ','
    )]
    pub marketplaces: Vec<String>,
    /// Let sellers give shop addresses on private networks (127.0.0.1, 10.x, …) and plain
    /// http ones. Off by default: a seller's store address is called from this server, and
    /// must not reach inside the operator's network.
    #[arg(long, env = "MARKETBRIDGE_ALLOW_PRIVATE_SHOP_URLS")]
    pub allow_private_shop_urls: bool,
    /// Poll each channel's orders at most this often, in seconds (default 60: Mirakl allows
    /// OR11 once a minute; the call budgets may make it rarer).
    #[arg(long, env = "MARKETBRIDGE_ORDER_POLL_SECONDS")]
    pub order_poll_seconds: Option<u64>,
    /// How long, in seconds, a shop order whose creation got no answer is left before it is
    /// looked for in the shop (default 60: any request still under way has landed by then).
    #[arg(long, env = "MARKETBRIDGE_ORDER_IN_DOUBT_SECONDS")]
    pub order_in_doubt_seconds: Option<u64>,
    /// The acceptance delay shown as each waiting order's deadline, in hours (default 24).
    /// Mirakl's order answers do not carry it; set it to your marketplaces' delay.
    #[arg(long, env = "MARKETBRIDGE_ORDER_ACCEPTANCE_HOURS")]
    pub order_acceptance_hours: Option<u64>,
    /// BigCommerce's API host (default https://api.bigcommerce.com/); a store's API is
    /// `{this}stores/{hash}/`.
    #[arg(long, env = "MARKETBRIDGE_BIGCOMMERCE_API_URL")]
    pub bigcommerce_api_url: Option<Url>,
    /// BigCommerce's login service, where app install codes are exchanged (default
    /// https://login.bigcommerce.com/).
    #[arg(long, env = "MARKETBRIDGE_BIGCOMMERCE_LOGIN_URL")]
    pub bigcommerce_login_url: Option<Url>,
    /// The client id of your app in BigCommerce's Developer Portal. Without it, BigCommerce
    /// stores connect with pasted API credentials only.
    #[arg(long, env = "MARKETBRIDGE_BIGCOMMERCE_CLIENT_ID")]
    pub bigcommerce_client_id: Option<String>,
    /// The app's client secret. Prefer the _FILE form.
    #[arg(
        long,
        env = "MARKETBRIDGE_BIGCOMMERCE_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub bigcommerce_client_secret: Option<String>,
    /// A file holding the app's client secret.
    #[arg(long, env = "MARKETBRIDGE_BIGCOMMERCE_CLIENT_SECRET_FILE")]
    pub bigcommerce_client_secret_file: Option<PathBuf>,
    /// Jobs this process runs at once (default 4). Two jobs of one seller's flow never run
    /// together, whatever this is.
    #[arg(long, env = "MARKETBRIDGE_WORKER_CONCURRENCY")]
    pub worker_concurrency: Option<usize>,
    /// How long, in seconds, a job claimed by a node is its own before another node may take
    /// it (default 120). A running job renews it every third of it, so this is how long the
    /// jobs of a node that died (SIGKILL, power loss) wait before running elsewhere.
    #[arg(long, env = "MARKETBRIDGE_JOB_LEASE_SECONDS")]
    pub job_lease_seconds: Option<u64>,
    /// How long, in seconds, the jobs under way get to end on SIGTERM before they are handed
    /// back to the queue (default 8; at most 9, so that a stop stays within 10 s).
    #[arg(long, env = "MARKETBRIDGE_SHUTDOWN_GRACE_SECONDS")]
    pub shutdown_grace_seconds: Option<u64>,
}

/// The same settings as read from a TOML file.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    metrics_listen: Option<SocketAddr>,
    public_url: Option<Url>,
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    secret_key_file: Option<PathBuf>,
    mas_url: Option<Url>,
    mas_client_id: Option<String>,
    mas_client_secret_file: Option<PathBuf>,
    mas_redirect_uri: Option<Url>,
    connect_url: Option<Url>,
    budget_scale: Option<f64>,
    #[serde(default)]
    allow_private_shop_urls: bool,
    #[serde(default)]
    marketplace: Vec<MarketplaceDefinition>,
    order_poll_seconds: Option<u64>,
    order_in_doubt_seconds: Option<u64>,
    order_acceptance_hours: Option<u64>,
    bigcommerce_api_url: Option<Url>,
    bigcommerce_login_url: Option<Url>,
    bigcommerce_client_id: Option<String>,
    bigcommerce_client_secret_file: Option<PathBuf>,
    worker_concurrency: Option<usize>,
    job_lease_seconds: Option<u64>,
    shutdown_grace_seconds: Option<u64>,
}

/// Everything a server process needs, resolved and checked.
#[derive(Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub metrics_listen: Option<SocketAddr>,
    pub public_url: Url,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub secret_key: SecretKey,
    pub mas: Option<MasSettings>,
    pub marketplaces: Vec<MarketplaceDefinition>,
    pub connect_url: Url,
    pub budget_scale: f64,
    pub shop_addresses: shops::AddressPolicy,
    pub orders: sync::OrderConfig,
    pub bigcommerce: sync::BigCommerceConfig,
    pub worker: sync::WorkerConfig,
}

#[derive(Debug)]
pub struct MasSettings {
    pub base_url: Url,
    pub client_id: String,
    pub client_secret: mirakl::mas::ClientSecret,
    pub redirect_uri: Url,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "marketbridge-data";
pub const DEFAULT_MAS_URL: &str = "https://auth.mirakl.net";
pub const DEFAULT_CONNECT_URL: &str = "https://miraklconnect.com/api";
pub const DEFAULT_BIGCOMMERCE_LOGIN_URL: &str = "https://login.bigcommerce.com/";

impl ServerArgs {
    /// Resolves the layers. `need_mas` is false for `migrate`, which talks to no one.
    pub fn resolve(self, need_mas: bool) -> anyhow::Result<Settings> {
        let file = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("reading the configuration file {}", path.display())
                })?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("reading the configuration file {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let listen = self
            .listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default"));
        let public_url = match self.public_url.or(file.public_url) {
            Some(u) => u,
            None => Url::parse(&format!("http://{listen}"))
                .context("deriving the public URL from --listen")?,
        };
        let data_dir = self
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = self
            .database_url
            .or(file.database_url)
            .unwrap_or_else(|| sqlite_url(&data_dir));
        let secret_key = match (
            self.secret_key,
            self.secret_key_file.or(file.secret_key_file),
        ) {
            (Some(k), _) => SecretKey::from_base64(k.trim())
                .context("MARKETBRIDGE_SECRET_KEY is not 32 bytes of base64")?,
            (None, Some(path)) => read_key_file(&path)?,
            (None, None) => bail!(
                "no secret key: set MARKETBRIDGE_SECRET_KEY_FILE (or MARKETBRIDGE_SECRET_KEY) to 32 random bytes in base64, e.g. `head -c 32 /dev/urandom | base64 > secret.key`. It encrypts tokens at rest; keep it safe and keep it stable."
            ),
        };
        let mut marketplaces = file.marketplace;
        for raw in &self.marketplaces {
            marketplaces.push(parse_marketplace(raw)?);
        }
        let mas = if need_mas {
            let client_id = self.mas_client_id.or(file.mas_client_id).context(
                "no Mirakl OAuth client: set MARKETBRIDGE_MAS_CLIENT_ID and MARKETBRIDGE_MAS_CLIENT_SECRET_FILE (Mirakl gives both when you register the connector)",
            )?;
            let client_secret = match (
                self.mas_client_secret,
                self.mas_client_secret_file.or(file.mas_client_secret_file),
            ) {
                (Some(s), _) => s,
                (None, Some(path)) => read_secret_file(&path)?,
                (None, None) => {
                    bail!("no Mirakl OAuth client secret: set MARKETBRIDGE_MAS_CLIENT_SECRET_FILE")
                }
            };
            let redirect_uri = match self.mas_redirect_uri.or(file.mas_redirect_uri) {
                Some(u) => u,
                None => public_url.join("/oauth/mirakl/callback")?,
            };
            Some(MasSettings {
                base_url: self
                    .mas_url
                    .or(file.mas_url)
                    .unwrap_or_else(|| Url::parse(DEFAULT_MAS_URL).expect("valid default")),
                client_id,
                client_secret: mirakl::mas::ClientSecret::new(client_secret),
                redirect_uri,
            })
        } else {
            None
        };
        let bigcommerce_app = match (
            self.bigcommerce_client_id.or(file.bigcommerce_client_id),
            self.bigcommerce_client_secret,
            self.bigcommerce_client_secret_file
                .or(file.bigcommerce_client_secret_file),
        ) {
            (None, None, None) => None,
            (None, _, _) => bail!(
                "a BigCommerce client secret without its client id: set MARKETBRIDGE_BIGCOMMERCE_CLIENT_ID too"
            ),
            (Some(client_id), secret, secret_file) => {
                let client_secret = match (secret, secret_file) {
                    (Some(s), _) => s,
                    (None, Some(path)) => read_secret_file(&path)?,
                    (None, None) => bail!(
                        "no BigCommerce client secret: set MARKETBRIDGE_BIGCOMMERCE_CLIENT_SECRET_FILE (the Developer Portal shows it with the client id)"
                    ),
                };
                Some(sync::BigCommerceApp {
                    client_id,
                    client_secret: storage::Secret::new(client_secret),
                    login_url: self
                        .bigcommerce_login_url
                        .or(file.bigcommerce_login_url)
                        .unwrap_or_else(|| {
                            Url::parse(DEFAULT_BIGCOMMERCE_LOGIN_URL).expect("valid default")
                        }),
                })
            }
        };
        let mut bigcommerce = sync::BigCommerceConfig {
            app: bigcommerce_app,
            ..sync::BigCommerceConfig::default()
        };
        if let Some(url) = self.bigcommerce_api_url.or(file.bigcommerce_api_url) {
            bigcommerce.api_url = url;
        }
        let worker = worker_config(
            self.worker_concurrency.or(file.worker_concurrency),
            self.job_lease_seconds.or(file.job_lease_seconds),
            self.shutdown_grace_seconds.or(file.shutdown_grace_seconds),
        )?;
        Ok(Settings {
            worker,
            bigcommerce,
            listen,
            metrics_listen: self.metrics_listen.or(file.metrics_listen),
            public_url,
            database_url,
            data_dir,
            secret_key,
            mas,
            marketplaces,
            connect_url: self
                .connect_url
                .or(file.connect_url)
                .unwrap_or_else(|| Url::parse(DEFAULT_CONNECT_URL).expect("valid default")),
            budget_scale: self.budget_scale.or(file.budget_scale).unwrap_or(1.0),
            shop_addresses: if self.allow_private_shop_urls || file.allow_private_shop_urls {
                shops::AddressPolicy::AllowPrivate
            } else {
                shops::AddressPolicy::PublicOnly
            },
            orders: order_config(
                self.order_poll_seconds.or(file.order_poll_seconds),
                self.order_in_doubt_seconds.or(file.order_in_doubt_seconds),
                self.order_acceptance_hours.or(file.order_acceptance_hours),
            )?,
        })
    }
}

/// The order flow's timings, each the default unless set.
fn order_config(
    poll_seconds: Option<u64>,
    in_doubt_seconds: Option<u64>,
    acceptance_hours: Option<u64>,
) -> anyhow::Result<sync::OrderConfig> {
    let mut config = sync::OrderConfig::default();
    if let Some(s) = poll_seconds {
        if s == 0 {
            bail!("MARKETBRIDGE_ORDER_POLL_SECONDS must be at least 1");
        }
        config.poll_interval = Duration::from_secs(s);
    }
    if let Some(s) = in_doubt_seconds {
        config.in_doubt_after = Duration::from_secs(s);
    }
    if let Some(h) = acceptance_hours {
        config.acceptance_window = Duration::from_secs(h.saturating_mul(3600));
    }
    Ok(config)
}

/// The worker's settings, each the default unless set.
fn worker_config(
    concurrency: Option<usize>,
    lease_seconds: Option<u64>,
    grace_seconds: Option<u64>,
) -> anyhow::Result<sync::WorkerConfig> {
    let mut config = sync::WorkerConfig::default();
    if let Some(n) = concurrency {
        if !(1..=256).contains(&n) {
            bail!("MARKETBRIDGE_WORKER_CONCURRENCY must be between 1 and 256, not {n}");
        }
        config.concurrency = n;
    }
    if let Some(s) = lease_seconds {
        // Renewed every third of it: under 3 s a busy node could lose a lease it still holds.
        if !(3..=3600).contains(&s) {
            bail!("MARKETBRIDGE_JOB_LEASE_SECONDS must be between 3 and 3600, not {s}");
        }
        config.lease = Duration::from_secs(s);
    }
    if let Some(s) = grace_seconds {
        if s >= crate::wiring::STOP_LIMIT.as_secs() {
            bail!(
                "MARKETBRIDGE_SHUTDOWN_GRACE_SECONDS must be under {} (the longest a stop takes), not {s}",
                crate::wiring::STOP_LIMIT.as_secs()
            );
        }
        config.shutdown_grace = Duration::from_secs(s);
    }
    Ok(config)
}

pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("marketbridge.db").display())
}

/// `CODE=NAME=INSTANCE_URL`
pub fn parse_marketplace(raw: &str) -> anyhow::Result<MarketplaceDefinition> {
    let mut parts = raw.splitn(3, '=');
    let (Some(code), Some(name), Some(url)) = (parts.next(), parts.next(), parts.next()) else {
        bail!("--marketplace {raw:?}: expected CODE=NAME=INSTANCE_URL");
    };
    if code.trim().is_empty() || name.trim().is_empty() {
        bail!("--marketplace {raw:?}: the code and the name must not be empty");
    }
    let instance_url = InstanceUrl::parse(url).with_context(|| format!("--marketplace {raw:?}"))?;
    Ok(MarketplaceDefinition {
        code: code.trim().to_owned(),
        name: name.trim().to_owned(),
        instance_url,
    })
}

fn read_secret_file(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the secret file {}", path.display()))?;
    Ok(text.trim().to_owned())
}

pub fn read_key_file(path: &Path) -> anyhow::Result<SecretKey> {
    let text = read_secret_file(path)?;
    SecretKey::from_base64(&text)
        .with_context(|| format!("{} does not hold 32 bytes of base64", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_without_a_secret_key_refuses_to_start() {
        let err = ServerArgs::default()
            .resolve(false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("MARKETBRIDGE_SECRET_KEY_FILE"), "{err}");
    }

    #[test]
    fn serve_without_a_mirakl_client_refuses_to_start() {
        let args = ServerArgs {
            secret_key: Some(SecretKey::generate().to_base64()),
            ..Default::default()
        };
        let err = args.resolve(true).unwrap_err().to_string();
        assert!(err.contains("MARKETBRIDGE_MAS_CLIENT_ID"), "{err}");
    }

    #[test]
    fn flags_fill_in_the_mirakl_client_and_marketplaces() {
        let args = ServerArgs {
            secret_key: Some(SecretKey::generate().to_base64()),
            public_url: Some(Url::parse("https://connector.example.com").unwrap()),
            mas_client_id: Some("client".into()),
            mas_client_secret: Some("secret".into()),
            marketplaces: vec!["acme=Acme Marketplace=https://acme.mirakl.net".into()],
            ..Default::default()
        };
        let s = args.resolve(true).unwrap();
        let mas = s.mas.unwrap();
        assert_eq!(
            mas.redirect_uri.as_str(),
            "https://connector.example.com/oauth/mirakl/callback"
        );
        assert_eq!(mas.base_url.as_str(), "https://auth.mirakl.net/");
        assert_eq!(s.marketplaces[0].name, "Acme Marketplace");
        assert!(s.database_url.starts_with("sqlite://"));
        assert_eq!(s.shop_addresses, shops::AddressPolicy::PublicOnly);
    }

    #[test]
    fn the_worker_settings_are_taken_within_their_bounds() {
        let args = |concurrency, lease, grace| ServerArgs {
            secret_key: Some(SecretKey::generate().to_base64()),
            worker_concurrency: concurrency,
            job_lease_seconds: lease,
            shutdown_grace_seconds: grace,
            ..Default::default()
        };
        let s = args(Some(16), Some(30), Some(5)).resolve(false).unwrap();
        assert_eq!(s.worker.concurrency, 16);
        assert_eq!(s.worker.lease, Duration::from_secs(30));
        assert_eq!(s.worker.shutdown_grace, Duration::from_secs(5));
        let defaults = args(None, None, None).resolve(false).unwrap().worker;
        assert_eq!(defaults.lease, sync::WorkerConfig::default().lease);
        for (bad, setting) in [
            (args(Some(0), None, None), "MARKETBRIDGE_WORKER_CONCURRENCY"),
            (args(None, Some(1), None), "MARKETBRIDGE_JOB_LEASE_SECONDS"),
            (
                args(None, None, Some(10)),
                "MARKETBRIDGE_SHUTDOWN_GRACE_SECONDS",
            ),
        ] {
            let err = bad.resolve(false).unwrap_err().to_string();
            assert!(err.contains(setting), "{err}");
        }
    }

    #[test]
    fn private_shop_urls_are_allowed_only_when_asked() {
        let args = ServerArgs {
            secret_key: Some(SecretKey::generate().to_base64()),
            allow_private_shop_urls: true,
            ..Default::default()
        };
        assert_eq!(
            args.resolve(false).unwrap().shop_addresses,
            shops::AddressPolicy::AllowPrivate
        );
        let dir = std::env::temp_dir().join(format!("mb-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("marketbridge.toml");
        std::fs::write(&file, "allow_private_shop_urls = true\n").unwrap();
        let args = ServerArgs {
            secret_key: Some(SecretKey::generate().to_base64()),
            config: Some(file),
            ..Default::default()
        };
        assert_eq!(
            args.resolve(false).unwrap().shop_addresses,
            shops::AddressPolicy::AllowPrivate
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_malformed_marketplace_is_a_clear_error() {
        assert!(
            parse_marketplace("just-a-code")
                .unwrap_err()
                .to_string()
                .contains("CODE=NAME=INSTANCE_URL")
        );
        assert!(parse_marketplace("a=A=not a url").is_err());
    }
}
