//! Everything the sandbox knows, in memory: the emulated accounts (users, OAuth clients,
//! marketplaces with their catalogs, stores and offers, Connect companies with their catalogs,
//! WooCommerce stores) and what happened since it started (browser sessions, grants, e-mails,
//! call counts, call budgets spent).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::bc::BcWorld;
use crate::connect::order_actions::ConnectAction;
use crate::connect::orders::ConnectOrder;
use crate::entropy::Sequence;
use crate::gate::{Answer, ConnectionFault, FaultSlot, Gate, Operation, Refusal};
use crate::jwt::TokenSigner;
use crate::mail::Mail;
use crate::marketplace::catalog::Catalog;
use crate::marketplace::imports::Import;
use crate::marketplace::offer_imports::OfferLines;
use crate::marketplace::offers::Offer;
use crate::marketplace::orders::Order;
use crate::marketplace::products::ProductLines;
use crate::mas::grants::GrantStore;
use crate::mas::password::ResetToken;
use crate::mas::session::BrowserSession;
use crate::woo::model::WooStore;

/// Lifetimes of what MAS issues; tests shorten them at run time.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub access: Duration,
    pub refresh: Duration,
    pub code: Duration,
}

/// A Mirakl SSO user: one account for every marketplace store and Connect company it reaches.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    /// Kept in clear: these are published demo credentials, and the sandbox holds no real ones.
    pub password: String,
    /// Marketplace instance → the stores the user reaches there.
    pub stores: BTreeMap<String, Vec<i64>>,
    pub companies: Vec<String>,
    /// Set by a password reset: the next sign-in asks for an e-mailed code.
    pub verification_required: bool,
}

/// Which kind of seller an OAuth client integrates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantKind {
    /// A store on a marketplace (MMP seller API).
    Marketplace,
    /// A Mirakl Connect company.
    Connect,
}

/// What a seller granted a client: one marketplace store, or one Connect company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    MarketplaceStore { instance: String, shop_id: i64 },
    ConnectCompany { company_id: String },
}

impl Grant {
    pub fn kind(&self) -> GrantKind {
        match self {
            Grant::MarketplaceStore { .. } => GrantKind::Marketplace,
            Grant::ConnectCompany { .. } => GrantKind::Connect,
        }
    }
}

#[derive(Debug, Clone)]
pub struct OAuthClient {
    pub id: String,
    pub secret: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub kinds: Vec<GrantKind>,
    /// A registered `http` redirect URI on a loopback host also matches on any other port
    /// (RFC 8252 §7.3), so a demo connector on a port of its own is accepted. Off unless set.
    pub loopback_any_port: bool,
}

impl OAuthClient {
    /// Whether `uri` is one of the client's redirect URIs: compared as strings, query
    /// included, since a lookalike URI is an open redirect; with `loopback_any_port`, a
    /// loopback one may differ in its port alone.
    pub fn accepts_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|known| {
            known == uri || (self.loopback_any_port && same_loopback_but_port(known, uri))
        })
    }
}

/// Both URIs are `http` on the same loopback host and equal once their ports are set aside.
fn same_loopback_but_port(known: &str, uri: &str) -> bool {
    let (Ok(mut known), Ok(mut uri)) = (url::Url::parse(known), url::Url::parse(uri)) else {
        return false;
    };
    let loopback = match known.host() {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if !loopback || known.scheme() != "http" || uri.scheme() != "http" {
        return false;
    }
    (known.set_port(None).is_ok() && uri.set_port(None).is_ok()) && known == uri
}

#[derive(Debug, Clone)]
pub struct Marketplace {
    pub instance: String,
    pub name: String,
    pub stores: BTreeMap<i64, Store>,
    /// The operator's products, which offers attach to.
    pub catalog: Catalog,
    /// OF01 and OF24 imports by id, every shop's.
    pub offer_imports: BTreeMap<u64, Import<OfferLines>>,
    /// P41 imports by id, every shop's.
    pub product_imports: BTreeMap<u64, Import<ProductLines>>,
    /// Offer and product imports share one sequence of ids, as Mirakl's examples show.
    pub next_import_id: u64,
    pub next_offer_id: i64,
    /// The `import_mode` of every OF01 call received, oldest first.
    pub import_modes: Vec<String>,
    /// Reasons the next offer or product imports fail as a whole (`FAILED`, with the reason
    /// as `reason_status`), one each, oldest first: a test's stand-in for an operator-side
    /// outage.
    pub failing_imports: std::collections::VecDeque<String>,
    /// Every shop's orders, by order id.
    pub orders: BTreeMap<String, Order>,
    pub next_order_number: u64,
    pub next_refund_id: u64,
    /// What placed orders draw on (random lines, customers): seeded, the same every run.
    pub order_entropy: Sequence,
    /// Whether orders carry the customer's (anonymized) e-mail: some operators give it.
    pub customer_emails: bool,
}

impl Marketplace {
    pub fn new(instance: &str, name: &str, catalog: Catalog) -> Self {
        Self {
            instance: instance.to_owned(),
            name: name.to_owned(),
            stores: BTreeMap::new(),
            catalog,
            offer_imports: BTreeMap::new(),
            product_imports: BTreeMap::new(),
            next_import_id: 2001,
            next_offer_id: 3001,
            import_modes: Vec::new(),
            failing_imports: std::collections::VecDeque::new(),
            orders: BTreeMap::new(),
            next_order_number: 0,
            next_refund_id: 5000,
            order_entropy: Sequence::new(seed_of(instance)),
            customer_emails: false,
        }
    }

    /// The file of an import being created, or why it fails when a test asked for it.
    pub fn admit_file<T>(&mut self, file: Result<T, String>) -> Result<T, String> {
        match self.failing_imports.pop_front() {
            Some(reason) => Err(reason),
            None => file,
        }
    }

    pub fn take_import_id(&mut self) -> u64 {
        let id = self.next_import_id;
        self.next_import_id += 1;
        id
    }
}

/// A shop: the values of its A01 answer, and its offers.
#[derive(Debug, Clone)]
pub struct Store {
    pub shop_id: i64,
    pub name: String,
    pub state: ShopState,
    pub currency_iso_code: String,
    pub channels: Vec<String>,
    pub date_created: String,
    pub is_professional: bool,
    pub orders_count: u64,
    pub contact: Contact,
    /// Offers by the seller's SKU (`shop_sku`).
    pub offers: BTreeMap<String, Offer>,
}

/// A01's `shop_state`. Mirakl also knows CLOSE, SUSPENDED and TERMINATED; every sandbox store
/// is open until a control call to change that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShopState {
    Open,
}

#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub civility: String,
    pub firstname: String,
    pub lastname: String,
    pub email: String,
    pub phone: String,
    pub street1: String,
    pub zip_code: String,
    pub city: String,
    /// ISO 3166 alpha-3, as A01 sends it.
    pub country: String,
}

#[derive(Debug, Clone)]
pub struct Company {
    pub id: String,
    pub name: String,
    /// The company's Mirakl Connect catalog: products by id, as stored (only the fields set).
    pub products: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    /// The orders its channels brought, by Connect order id.
    pub orders: BTreeMap<String, ConnectOrder>,
    /// The order actions it asked for, by action id.
    pub actions: BTreeMap<String, ConnectAction>,
    pub next_order_number: u64,
    /// What placed orders draw on: seeded, the same every run.
    pub order_entropy: Sequence,
}

impl Company {
    pub fn new(id: &str, name: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            products: BTreeMap::new(),
            orders: BTreeMap::new(),
            actions: BTreeMap::new(),
            next_order_number: 0,
            order_entropy: Sequence::new(seed_of(id)),
        }
    }
}

/// A seed from a name, so each marketplace or company draws its own sequence.
fn seed_of(name: &str) -> u64 {
    name.bytes().fold(0xCBF2_9CE4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// The platforms' own pace on orders, the same for every marketplace and Connect: how long an
/// order waits for the seller's decision before it is refused for them, and how long the
/// customer's debit takes once it is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderDelays {
    pub acceptance: Duration,
    pub debit: Duration,
}

impl Default for OrderDelays {
    /// Three days to decide (operators choose 3 to 5), an instant debit.
    fn default() -> Self {
        Self {
            acceptance: Duration::from_secs(3 * 24 * 3600),
            debit: Duration::ZERO,
        }
    }
}

/// What a raw shop API key opens.
#[derive(Debug, Clone)]
pub struct ShopApiKey {
    pub instance: String,
    pub shop_id: i64,
}

/// The key of a remembered store or company selection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SelectionKey {
    pub user_id: String,
    pub client_id: String,
    pub kind: GrantKind,
}

pub struct World {
    pub public_url: url::Url,
    pub signer: TokenSigner,
    pub lifetimes: Lifetimes,
    pub users: Vec<User>,
    pub clients: BTreeMap<String, OAuthClient>,
    pub marketplaces: BTreeMap<String, Marketplace>,
    pub companies: BTreeMap<String, Company>,
    pub shop_api_keys: HashMap<String, ShopApiKey>,
    pub sessions: HashMap<String, BrowserSession>,
    /// Store or company picked on a user's first authorization of a client, reused afterwards.
    pub selections: HashMap<SelectionKey, Grant>,
    pub grants: GrantStore,
    pub reset_tokens: HashMap<String, ResetToken>,
    pub mailbox: Vec<Mail>,
    pub calls: BTreeMap<String, u64>,
    /// WooCommerce stores by code.
    pub woo: BTreeMap<String, WooStore>,
    /// BigCommerce stores and apps.
    pub bc: BcWorld,
    /// Call budgets and injected faults of the Mirakl APIs.
    pub gate: Gate,
    pub order_delays: OrderDelays,
    /// Calls whose answer is to be lost, by the counter they are counted under (see
    /// `Sandbox::lose_next_answer`), each with how many more.
    pub lost_answers: BTreeMap<String, u32>,
}

impl World {
    pub fn new(public_url: url::Url, lifetimes: Lifetimes, budget_scale: f64) -> Self {
        Self {
            public_url,
            signer: TokenSigner::random(),
            lifetimes,
            users: Vec::new(),
            clients: BTreeMap::new(),
            marketplaces: BTreeMap::new(),
            companies: BTreeMap::new(),
            shop_api_keys: HashMap::new(),
            sessions: HashMap::new(),
            selections: HashMap::new(),
            grants: GrantStore::default(),
            reset_tokens: HashMap::new(),
            mailbox: Vec::new(),
            calls: BTreeMap::new(),
            woo: BTreeMap::new(),
            bc: BcWorld::default(),
            gate: Gate::new(budget_scale),
            order_delays: OrderDelays::default(),
            lost_answers: BTreeMap::new(),
        }
    }

    /// Whether the answer to this call is to be lost on purpose: one planned for any of the
    /// counters it is counted under, which that uses up.
    pub fn planned_lost_answer(&mut self, counters: &[&str]) -> bool {
        for counter in counters {
            if let Some(left) = self.lost_answers.get_mut(*counter) {
                *left -= 1;
                if *left == 0 {
                    self.lost_answers.remove(*counter);
                }
                return true;
            }
        }
        false
    }

    pub fn count_call(&mut self, endpoint: &str) {
        *self.calls.entry(endpoint.to_owned()).or_default() += 1;
    }

    /// Charges a call to `caller`'s budget (see `Gate::admit`). A call turned away for its
    /// budget is counted under `budget.exceeded` and `budget.exceeded.<operation's counter>`,
    /// so a test can tell a connector that waited its turn from one that was told to; an
    /// injected fault is not counted there. A connection fault drawn for the call goes into
    /// its `slot`, for the layer around the APIs to carry out.
    pub fn admit(
        &mut self,
        caller: &str,
        operation: Operation,
        slot: &FaultSlot,
    ) -> Result<(), Refusal> {
        match self.gate.admit(caller, operation) {
            Ok(Answer::Sent) if self.planned_lost_answer(&[operation.counter()]) => {
                slot.set(ConnectionFault::LostAnswer);
                Ok(())
            }
            Ok(Answer::Sent) => Ok(()),
            Ok(Answer::Lost) => {
                slot.set(ConnectionFault::LostAnswer);
                Ok(())
            }
            Err(refusal) => {
                match refusal {
                    Refusal::OverBudget { .. } => {
                        self.count_call("budget.exceeded");
                        self.count_call(&format!("budget.exceeded.{}", operation.counter()));
                    }
                    Refusal::TimedOut => slot.set(ConnectionFault::Timeout),
                    Refusal::InjectedError | Refusal::InjectedRateLimit => {}
                }
                Err(refusal)
            }
        }
    }

    /// Takes the steps time made due on every marketplace's and company's orders (the
    /// acceptance deadline, the debit), before the state is shown whole.
    pub fn catch_up_orders(&mut self) {
        let (delays, at) = (self.order_delays, crate::values::clock::now());
        for marketplace in self.marketplaces.values_mut() {
            marketplace.catch_up_orders(delays, at);
        }
        for company in self.companies.values_mut() {
            company.catch_up_orders(delays, at);
        }
    }

    /// An absolute URL on the sandbox, as the browser reaches it.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.as_str().trim_end_matches('/'))
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|user| user.id == id)
    }

    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|user| user.email.eq_ignore_ascii_case(email.trim()))
    }

    pub fn user_mut(&mut self, id: &str) -> Option<&mut User> {
        self.users.iter_mut().find(|user| user.id == id)
    }

    /// Whether a user still reaches what a grant names (a remembered selection may go stale).
    pub fn user_reaches(&self, user: &User, grant: &Grant) -> bool {
        match grant {
            Grant::MarketplaceStore { instance, shop_id } => user
                .stores
                .get(instance)
                .is_some_and(|shops| shops.contains(shop_id)),
            Grant::ConnectCompany { company_id } => user.companies.contains(company_id),
        }
    }

    /// A human description of a grant, for the consent page.
    pub fn describe(&self, grant: &Grant) -> String {
        match grant {
            Grant::MarketplaceStore { instance, shop_id } => {
                let marketplace = self.marketplaces.get(instance);
                let store = marketplace
                    .and_then(|m| m.stores.get(shop_id))
                    .map_or_else(|| format!("Store {shop_id}"), |s| s.name.clone());
                let marketplace = marketplace.map_or(instance.as_str(), |m| m.name.as_str());
                format!("{store} (store ID {shop_id}) on {marketplace}")
            }
            Grant::ConnectCompany { company_id } => {
                let name = self
                    .companies
                    .get(company_id)
                    .map_or(company_id.as_str(), |c| c.name.as_str());
                format!("{name} on Mirakl Connect")
            }
        }
    }
}

/// Seconds since the Unix epoch, as JWT claims count time.
pub fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(loopback_any_port: bool) -> OAuthClient {
        OAuthClient {
            id: "app".into(),
            secret: "secret".into(),
            name: "App".into(),
            redirect_uris: vec![
                "http://localhost:8080/oauth/mirakl/callback".into(),
                "https://connector.test/oauth/mirakl/callback".into(),
            ],
            kinds: vec![GrantKind::Marketplace],
            loopback_any_port,
        }
    }

    #[test]
    fn a_loopback_redirect_uri_matches_on_any_port_only_when_the_client_allows_it() {
        let other_port = "http://localhost:41234/oauth/mirakl/callback";
        assert!(client(true).accepts_redirect_uri(other_port));
        assert!(!client(false).accepts_redirect_uri(other_port));
        assert!(client(false).accepts_redirect_uri("http://localhost:8080/oauth/mirakl/callback"));
    }

    #[test]
    fn only_the_port_of_a_loopback_redirect_uri_may_differ() {
        let client = client(true);
        for lookalike in [
            "http://localhost:41234/oauth/mirakl/callback?next=1",
            "http://localhost:41234/oauth/mirakl/callback/x",
            "http://localhost:41234/oauth/mirakl/callback#x",
            "http://user@localhost:41234/oauth/mirakl/callback",
            "https://localhost:41234/oauth/mirakl/callback",
            "http://127.0.0.1:8080/oauth/mirakl/callback",
            "http://localhost.evil.test:8080/oauth/mirakl/callback",
            "https://connector.test:8443/oauth/mirakl/callback",
            "not a uri",
        ] {
            assert!(!client.accepts_redirect_uri(lookalike), "{lookalike}");
        }
    }
}
