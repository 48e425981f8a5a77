//! The Orders page (F5): every Mirakl order of the workspace, newest first, with its stage in
//! the seller's words, its shop order and what it waits for; filters by stage and channel, and
//! search by either order number. The order's own page is `detail`; the words for stages are
//! here, shared with the dashboard.

pub mod detail;

use std::time::Duration;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use domain::order::{Order, OrderStage};
use domain::{ChannelId, ChannelStatus, OrderId, WorkspaceId};
use serde::Deserialize;
use storage::{OrdersFilter, StoredOrder};

use crate::AppState;
use crate::error::WebError;
use crate::session::{Session, SignedIn};
use crate::ui::{Nav, format_time, render};

/// Orders shown per page.
const PAGE: i64 = 50;

/// What the Orders page shows: one choice of its **Show** filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    All,
    Attention,
    ToAccept,
    AwaitingPayment,
    ToShip,
    Shipped,
    Void,
}

impl Show {
    pub const CHOICES: [Show; 7] = [
        Show::All,
        Show::Attention,
        Show::ToAccept,
        Show::AwaitingPayment,
        Show::ToShip,
        Show::Shipped,
        Show::Void,
    ];

    /// Its value in the query string (`/orders?show=to_accept`).
    pub fn key(self) -> &'static str {
        match self {
            Show::All => "",
            Show::Attention => "attention",
            Show::ToAccept => "to_accept",
            Show::AwaitingPayment => "awaiting_payment",
            Show::ToShip => "to_ship",
            Show::Shipped => "shipped",
            Show::Void => "cancelled",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Show::All => "All orders",
            Show::Attention => "Needs attention",
            Show::ToAccept => "To accept",
            Show::AwaitingPayment => "Awaiting payment",
            Show::ToShip => "To ship",
            Show::Shipped => "Shipped",
            Show::Void => "Cancelled or refused",
        }
    }

    /// An unknown value shows every order.
    fn parse(key: &str) -> Show {
        Self::CHOICES
            .into_iter()
            .find(|s| s.key() == key)
            .unwrap_or(Show::All)
    }

    /// The stages it shows; `None` for every order (All, or Needs attention, which is not a
    /// stage).
    fn stages(self) -> Option<&'static [OrderStage]> {
        match self {
            Show::All | Show::Attention => None,
            Show::ToAccept => Some(&[OrderStage::AwaitingAcceptance]),
            Show::AwaitingPayment => Some(&[OrderStage::AwaitingPayment]),
            Show::ToShip => Some(&[OrderStage::ToShip]),
            Show::Shipped => Some(&[OrderStage::Shipped, OrderStage::Closed]),
            Show::Void => Some(&[OrderStage::Refused, OrderStage::Canceled]),
        }
    }
}

/// An order's stage in the seller's words; a state this version does not know is named as
/// Mirakl names it.
pub fn stage_label(order: &Order) -> String {
    match order.stage() {
        OrderStage::AwaitingAcceptance => "To accept".to_owned(),
        OrderStage::AwaitingPayment => "Accepted, awaiting payment".to_owned(),
        OrderStage::ToShip => "To ship".to_owned(),
        OrderStage::Shipped => "Shipped".to_owned(),
        OrderStage::Closed => "Closed".to_owned(),
        OrderStage::Refused => "Refused".to_owned(),
        OrderStage::Canceled => "Cancelled".to_owned(),
        OrderStage::Unknown => format!("Mirakl state {}", order.state),
    }
}

/// The class of the stage's badge.
pub fn stage_class(stage: OrderStage) -> &'static str {
    match stage {
        OrderStage::Shipped | OrderStage::Closed => "live",
        OrderStage::Refused | OrderStage::Canceled => "bad",
        _ => "pending",
    }
}

/// An amount with its currency, e.g. `24.90 EUR`.
pub fn amount(money: domain::catalog::Money, currency: &str) -> String {
    format!("{} {currency}", money.to_decimal_string())
}

/// The customer's name, or a dash when Mirakl did not give it.
pub fn customer_name(order: &Order) -> String {
    let name = format!(
        "{} {}",
        order.customer.first_name.trim(),
        order.customer.last_name.trim()
    );
    let name = name.trim();
    if name.is_empty() {
        "—".to_owned()
    } else {
        name.to_owned()
    }
}

/// What the dashboard and the **Show** filter count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StageCounts {
    pub total: i64,
    pub attention: i64,
    pub to_accept: i64,
    pub to_ship: i64,
}

/// The workspace's orders counted by state, and those states grouped as the filters group
/// them.
struct Counted {
    by_state: Vec<(String, i64)>,
    attention: i64,
}

impl Counted {
    async fn load(state: &AppState, ws: WorkspaceId) -> Result<Self, WebError> {
        let storage = state.storage();
        Ok(Self {
            by_state: storage.order_state_counts(ws).await?,
            attention: storage.order_counts(ws).await?.attention,
        })
    }

    /// Mirakl's states (those the workspace's orders are in) that `show` lists.
    fn states(&self, show: Show) -> Vec<String> {
        let Some(stages) = show.stages() else {
            return Vec::new();
        };
        self.by_state
            .iter()
            .filter(|(state, _)| stages.contains(&OrderStage::of(state)))
            .map(|(state, _)| state.clone())
            .collect()
    }

    fn count(&self, show: Show) -> i64 {
        match show.stages() {
            None if show == Show::Attention => self.attention,
            None => self.by_state.iter().map(|(_, n)| n).sum(),
            Some(stages) => self
                .by_state
                .iter()
                .filter(|(state, _)| stages.contains(&OrderStage::of(state)))
                .map(|(_, n)| n)
                .sum(),
        }
    }
}

/// The dashboard's order counts.
pub async fn stage_counts(state: &AppState, ws: WorkspaceId) -> Result<StageCounts, WebError> {
    let counted = Counted::load(state, ws).await?;
    Ok(StageCounts {
        total: counted.count(Show::All),
        attention: counted.count(Show::Attention),
        to_accept: counted.count(Show::ToAccept),
        to_ship: counted.count(Show::ToShip),
    })
}

/// A duration as a seller reads it: "a minute", "5 minutes", "30 seconds".
pub fn in_words(d: Duration) -> String {
    let secs = d.as_secs().max(1);
    match (secs % 60, secs / 60) {
        (0, 1) => "a minute".to_owned(),
        (0, m) => format!("{m} minutes"),
        (s, 0) => format!("{s} seconds"),
        _ => format!("{secs} seconds"),
    }
}

pub struct Row {
    pub id: String,
    pub mirakl_id: String,
    pub channel: String,
    pub placed_at: String,
    pub customer: String,
    pub total: String,
    pub stage: String,
    pub stage_class: &'static str,
    pub state: String,
    /// "Accept by …" for an order awaiting acceptance.
    pub deadline: Option<String>,
    pub shop_order: Option<String>,
    pub shop_status: Option<String>,
    pub attention: Option<String>,
}

fn row(o: &StoredOrder, channels: &[storage::Channel]) -> Row {
    let order = &o.order;
    Row {
        id: o.id.to_string(),
        mirakl_id: order.mirakl_id.clone(),
        channel: channels
            .iter()
            .find(|c| c.id == o.channel_id)
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        placed_at: format_time(order.created_at_ms),
        customer: customer_name(order),
        total: amount(order.total_price, &order.currency),
        stage: stage_label(order),
        stage_class: stage_class(order.stage()),
        state: order.state.clone(),
        deadline: order
            .acceptance_deadline_ms
            .filter(|_| order.stage() == OrderStage::AwaitingAcceptance)
            .map(|ms| format!("Accept by {}", format_time(ms))),
        shop_order: o.shop_order_number.as_ref().map(|n| format!("#{n}")),
        shop_status: o.shop_status.clone(),
        attention: o.attention.clone(),
    }
}

/// Why the list is empty, in words that say what happens next.
enum Empty {
    /// No order matches the filters.
    NoMatch,
    /// Import orders is off.
    ImportOff,
    /// No channel is live, so none is polled.
    NoLiveChannel,
    /// Polled, nothing yet: within this long.
    Waiting(String),
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    nav: Nav,
    import_orders: bool,
    q: String,
    channel: String,
    show: &'static str,
    channels: Vec<(String, String)>,
    /// (value, label with its count).
    shows: Vec<(&'static str, String)>,
    rows: Vec<Row>,
    empty: Option<Empty>,
    next: Option<String>,
    first: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct OrdersQuery {
    q: Option<String>,
    channel: Option<String>,
    show: Option<String>,
    /// Keyset: `<placed at ms>_<order id>` of the last order of the page before.
    before: Option<String>,
}

fn parse_before(raw: &str) -> Option<(i64, OrderId)> {
    let (ms, id) = raw.split_once('_')?;
    Some((ms.parse().ok()?, id.parse().ok()?))
}

/// The Orders page's address with these filters.
fn orders_url(
    search: Option<&str>,
    channel: Option<ChannelId>,
    show: Show,
    before: Option<(i64, OrderId)>,
) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(s) = search {
        query.append_pair("q", s);
    }
    if let Some(c) = channel {
        query.append_pair("channel", &c.to_string());
    }
    if show != Show::All {
        query.append_pair("show", show.key());
    }
    if let Some((ms, id)) = before {
        query.append_pair("before", &format!("{ms}_{id}"));
    }
    let query = query.finish();
    if query.is_empty() {
        "/orders".to_owned()
    } else {
        format!("/orders?{query}")
    }
}

pub async fn show(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Query(query): Query<OrdersQuery>,
) -> Result<Response, WebError> {
    let ws = me.workspace_id;
    let storage = state.storage();
    let channels = storage.list_channels(ws).await?;
    let channel: Option<ChannelId> = query
        .channel
        .as_deref()
        .and_then(|c| c.parse().ok())
        .filter(|id| channels.iter().any(|c| c.id == *id));
    let show = Show::parse(query.show.as_deref().unwrap_or_default());
    let search = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_owned);
    let before = query.before.as_deref().and_then(parse_before);
    let counted = Counted::load(&state, ws).await?;
    let states = counted.states(show);
    // A stage none of the orders is in lists nothing (an empty list of states means any).
    let orders = if show.stages().is_some() && states.is_empty() {
        Vec::new()
    } else {
        storage
            .orders_page(
                ws,
                &OrdersFilter {
                    channel,
                    states,
                    attention_only: show == Show::Attention,
                    search: search.clone(),
                    before,
                    limit: PAGE,
                    ..OrdersFilter::default()
                },
            )
            .await?
    };
    let import_orders = storage.workspace_settings(ws).await?.import_orders;
    let filtered = search.is_some() || channel.is_some() || show != Show::All;
    let empty = orders.is_empty().then(|| {
        if filtered || before.is_some() || counted.count(Show::All) > 0 {
            Empty::NoMatch
        } else if !import_orders {
            Empty::ImportOff
        } else if !channels.iter().any(|c| c.status == ChannelStatus::Live) {
            Empty::NoLiveChannel
        } else {
            Empty::Waiting(in_words(state.flows().orders.poll_interval()))
        }
    });
    let next = (orders.len() as i64 == PAGE)
        .then(|| orders.last())
        .flatten()
        .map(|last| {
            orders_url(
                search.as_deref(),
                channel,
                show,
                Some((last.order.created_at_ms, last.id)),
            )
        });
    let first = before.map(|_| orders_url(search.as_deref(), channel, show, None));
    Ok(render(&OrdersPage {
        nav: Nav::for_session(&session),
        import_orders,
        q: search.clone().unwrap_or_default(),
        channel: channel.map(|c| c.to_string()).unwrap_or_default(),
        show: show.key(),
        channels: channels
            .iter()
            .map(|c| (c.id.to_string(), c.name.clone()))
            .collect(),
        shows: Show::CHOICES
            .into_iter()
            .map(|s| (s.key(), format!("{} ({})", s.label(), counted.count(s))))
            .collect(),
        rows: orders.iter().map(|o| row(o, &channels)).collect(),
        empty,
        next,
        first,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_is_in_exactly_one_filter_but_unknown_ones_in_all_only() {
        let stages = [
            OrderStage::AwaitingAcceptance,
            OrderStage::AwaitingPayment,
            OrderStage::ToShip,
            OrderStage::Shipped,
            OrderStage::Closed,
            OrderStage::Refused,
            OrderStage::Canceled,
        ];
        for stage in stages {
            let shows: Vec<Show> = Show::CHOICES
                .into_iter()
                .filter(|s| s.stages().is_some_and(|st| st.contains(&stage)))
                .collect();
            assert_eq!(shows.len(), 1, "{stage:?} in {shows:?}");
        }
        assert!(Show::CHOICES.into_iter().all(|s| {
            !s.stages()
                .is_some_and(|st| st.contains(&OrderStage::Unknown))
        }));
        assert_eq!(Show::parse("to_accept"), Show::ToAccept);
        assert_eq!(Show::parse("nonsense"), Show::All);
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(in_words(Duration::from_secs(60)), "a minute");
        assert_eq!(in_words(Duration::from_secs(300)), "5 minutes");
        assert_eq!(in_words(Duration::from_secs(30)), "30 seconds");
        assert_eq!(in_words(Duration::from_secs(90)), "90 seconds");
    }

    #[test]
    fn the_next_page_keeps_the_filters() {
        let id = OrderId::new();
        let url = orders_url(Some("2001 A"), None, Show::ToShip, Some((42, id)));
        assert_eq!(url, format!("/orders?q=2001+A&show=to_ship&before=42_{id}"));
        assert_eq!(parse_before(&format!("42_{id}")), Some((42, id)));
        assert_eq!(parse_before("42"), None);
        assert_eq!(orders_url(None, None, Show::All, None), "/orders");
    }
}
