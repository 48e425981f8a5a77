//! A seller onboarded through the connector's own pages, over HTTP, as a seller does it in a
//! browser: sign up, add a marketplace store (authorized on MAS, store verified, launched),
//! then Mirakl Connect, the WooCommerce store with its REST keys, the default settings, Launch.
//! `demo --connected` starts with its demo seller onboarded so, and the benchmarks stand on a
//! workspace onboarded so. It talks to the connector and MAS over HTTP only; the connector's
//! storage is only read, to tell whether the seller has an account and what it holds.

mod browser;

use anyhow::{Context as _, bail};
use domain::{ChannelId, ChannelKind, ChannelStatus, Email, WorkspaceId};
use storage::{Channel, Shop, Storage};
use sync::Worker;
use url::Url;

use browser::{Browser, Page};

/// An e-mail address and a password, as typed into a sign-in form.
#[derive(Clone, Copy, Debug)]
pub struct Login<'a> {
    pub email: &'a str,
    pub password: &'a str,
}

/// What the seller pastes in Step 2: a WooCommerce store's address and REST keys, or a
/// BigCommerce API account's path and token.
#[derive(Clone, Copy, Debug)]
pub enum ShopKeys<'a> {
    WooCommerce {
        url: &'a str,
        consumer_key: &'a str,
        consumer_secret: &'a str,
    },
    BigCommerce {
        api_path: &'a str,
        access_token: &'a str,
    },
}

/// Who onboards, where, and with what.
#[derive(Clone, Copy, Debug)]
pub struct Onboarding<'a> {
    /// The connector, as the seller's browser reaches it.
    pub connector_url: &'a Url,
    /// The account the seller signs up with on the connector.
    pub seller: Login<'a>,
    /// The seller's login on the Mirakl Authentication System.
    pub mas: Login<'a>,
    /// The marketplace (its code in the connector's list) and the seller's store on it.
    pub marketplace: &'a str,
    pub store_id: i64,
    /// The Mirakl Connect company.
    pub company: &'a str,
    pub shop: ShopKeys<'a>,
}

impl<'a> Onboarding<'a> {
    /// `seller` and `shop` onboarded with the sandbox's demo data: its demo user on MAS, Demo
    /// Marketplace store 2001 and Demo Company (what `demo --connected` and the benchmarks do).
    pub fn on_the_sandbox(connector_url: &'a Url, seller: Login<'a>, shop: ShopKeys<'a>) -> Self {
        Self {
            connector_url,
            seller,
            mas: Login {
                email: sandbox::DEMO_SELLER_EMAIL,
                password: sandbox::DEMO_SELLER_PASSWORD,
            },
            marketplace: "demo-marketplace",
            store_id: 2001,
            company: "demo-company",
            shop,
        }
    }
}

/// What [`Onboarding::run_once`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The seller was signed up and onboarded now.
    Onboarded(WorkspaceId),
    /// The seller had an account already; it was left as it is.
    AlreadyThere(WorkspaceId),
}

impl Outcome {
    pub fn workspace(self) -> WorkspaceId {
        match self {
            Self::Onboarded(id) | Self::AlreadyThere(id) => id,
        }
    }
}

impl Onboarding<'_> {
    /// Onboards the seller unless they have an account already, whatever it holds: an account
    /// left half-way is the seller's to finish in the browser.
    pub async fn run_once(&self, storage: &Storage) -> anyhow::Result<Outcome> {
        if let Some(id) = workspace_of(storage, self.seller.email).await? {
            return Ok(Outcome::AlreadyThere(id));
        }
        self.run(None).await?;
        let id = workspace_of(storage, self.seller.email)
            .await?
            .context("the sign-up made no account")?;
        Ok(Outcome::Onboarded(id))
    }

    /// Signs up, adds the marketplace store (authorized on MAS, store verified, launched),
    /// runs one pass of `worker` if given, then onboards: Mirakl Connect, the shop with its
    /// REST keys, the default settings, Launch. The marketplace comes before the shop: its
    /// Launch queues a full read, which finds no shop yet and ends at once (in that pass when
    /// a worker is given), so the catalog is read once, after the last Launch.
    pub async fn run(&self, worker: Option<&Worker>) -> anyhow::Result<()> {
        let browser = Browser::new()?;
        let page = browser.get(&self.url("/sign-up")?).await?;
        browser
            .submit(
                &page,
                "/sign-up",
                &[
                    ("email", self.seller.email),
                    ("password", self.seller.password),
                ],
            )
            .await?;

        let page = browser.get(&self.url("/channels/new")?).await?;
        let destination = format!("marketplace:{}", self.marketplace);
        let page = browser
            .submit(&page, "/channels", &[("destination", destination.as_str())])
            .await?;
        let channel = page.url.path().to_owned();
        let page = browser
            .submit(&page, &format!("{channel}/authorize"), &[])
            .await?;
        let store_id = self.store_id.to_string();
        let page = self
            .through_mas(
                &browser,
                page,
                &[("marketplace", self.marketplace), ("store", &store_id)],
            )
            .await?;
        let page = browser
            .submit(
                &page,
                &format!("{channel}/store"),
                &[("store_id", &store_id)],
            )
            .await?;
        browser
            .submit(&page, &format!("{channel}/launch"), &[])
            .await?;
        if let Some(worker) = worker {
            worker.tick().await?;
        }

        let page = browser.get(&self.url("/onboarding")?).await?;
        let page = browser
            .submit(&page, "/onboarding/mirakl-connect", &[])
            .await?;
        let page = self
            .through_mas(&browser, page, &[("company", self.company)])
            .await?;
        let page = match self.shop {
            ShopKeys::WooCommerce {
                url,
                consumer_key,
                consumer_secret,
            } => {
                browser
                    .submit(
                        &page,
                        "/shop/connect",
                        &[
                            ("store_url", url),
                            ("method", "keys"),
                            ("consumer_key", consumer_key),
                            ("consumer_secret", consumer_secret),
                        ],
                    )
                    .await?
            }
            ShopKeys::BigCommerce {
                api_path,
                access_token,
            } => {
                browser
                    .submit(
                        &page,
                        "/shop/bigcommerce/connect",
                        &[("api_path", api_path), ("access_token", access_token)],
                    )
                    .await?
            }
        };
        let page = browser.submit(&page, "/onboarding/settings", &[]).await?;
        browser.submit(&page, "/onboarding/launch", &[]).await?;
        Ok(())
    }

    /// On the Mirakl Authentication System: signs in if asked, makes the `choice`, accepts,
    /// and returns the page the connector shows once back.
    async fn through_mas(
        &self,
        browser: &Browser,
        mut page: Page,
        choice: &[(&str, &str)],
    ) -> anyhow::Result<Page> {
        for _ in 0..6 {
            if page.url.origin() == self.connector_url.origin() {
                return Ok(page);
            }
            page = if page.has_form("/mas/login") {
                browser
                    .submit(
                        &page,
                        "/mas/login",
                        &[("email", self.mas.email), ("password", self.mas.password)],
                    )
                    .await?
            } else if page.has_form("/mas/select") {
                browser.submit(&page, "/mas/select", choice).await?
            } else {
                browser
                    .submit(&page, "/mas/consent", &[("decision", "accept")])
                    .await?
            };
        }
        bail!("the authorization did not come back from MAS: {}", page.url)
    }

    fn url(&self, path: &str) -> anyhow::Result<Url> {
        Ok(self.connector_url.join(path)?)
    }
}

/// The workspace of the account signed up with `email`, if there is one.
pub async fn workspace_of(storage: &Storage, email: &str) -> anyhow::Result<Option<WorkspaceId>> {
    let email = Email::parse(email).with_context(|| format!("the e-mail address {email}"))?;
    Ok(storage
        .find_account_by_email(&email)
        .await?
        .map(|account| account.workspace_id))
}

/// What a seller's workspace holds now: its channels and its shop.
#[derive(Clone, Debug)]
pub struct SellerWorkspace {
    pub id: WorkspaceId,
    pub channels: Vec<Channel>,
    pub shop: Option<Shop>,
}

impl SellerWorkspace {
    pub async fn read(storage: &Storage, id: WorkspaceId) -> anyhow::Result<Self> {
        Ok(Self {
            id,
            channels: storage.list_channels(id).await?,
            shop: storage.get_shop(id).await?,
        })
    }

    /// The first live channel of `kind`.
    pub fn live(&self, kind: ChannelKind) -> Option<ChannelId> {
        self.channels
            .iter()
            .find(|c| c.kind == kind && c.status == ChannelStatus::Live)
            .map(|c| c.id)
    }
}
