//! One order, one step at a time: accept it (stock checked line by line), create its shop
//! order once Mirakl shows the address, send back what the shop did (shipped with tracking,
//! cancelled, refunded), and cancel the shop order when Mirakl cancels or refuses the order.
//!
//! Each effect is a reserved step (see `super`): a step in doubt is looked up at its
//! destination before it is attempted again, so nothing happens twice.

use std::collections::BTreeMap;

use domain::catalog::Money;
use domain::order::{Acceptance, AutoDecision, Order, OrderSettings, OrderStage, auto_decision};
use domain::{ChannelStatus, OrderId, WorkspaceId};
use shops::{NewShopOrder, NewShopOrderLine, ShopOrder};
use storage::{OrderStep, StepReservation, StoredOrder, now_ms};
use time::OffsetDateTime;

use super::Orders;
use super::packages::{Package, packages, rest, shipment_of, shipped_on};
use super::remote::{ActionState, Failure, Remote, Sent, Shipment};
use crate::job::Step;
use crate::tokens::{TokenError, TokenRefused};

/// The steps an order can take, as stored.
const ACCEPT: &str = "accept";
const SHOP_ORDER: &str = "shop_order";
const SHIP: &str = "ship";
/// After parcels (each `ship:{tracking number}`, see `packages`): the lines none held.
const SHIP_REST: &str = "ship:rest";
const CANCEL_ON_MIRAKL: &str = "cancel_on_mirakl";
const CANCEL_IN_SHOP: &str = "cancel_in_shop";

/// How long a change of the holds waits for the next ones before the export that sends it:
/// a burst of acceptances then makes one export per channel, not one each.
const HOLDS_EXPORT_DELAY: std::time::Duration = std::time::Duration::from_millis(500);

/// How soon a Connect action is looked at again.
const ACTION_POLL_MS: i64 = 1_000;

/// What a step's stored detail holds.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Detail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    acceptance: Option<Acceptance>,
    /// A Connect action's id, once Connect gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shop_order_id: Option<i64>,
    /// The acceptance is the seller's own, from the Orders page.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    by_seller: bool,
}

impl Detail {
    fn of(step: &OrderStep) -> Self {
        step.detail
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_default()
    }

    fn json(&self) -> String {
        serde_json::to_string(self).expect("a detail serializes")
    }
}

/// What an acceptance holds: the accepted lines' quantities, per SKU.
fn holds(order: &Order, acceptance: &Acceptance) -> Vec<(String, i64)> {
    merged(
        order
            .lines
            .iter()
            .filter(|l| {
                acceptance
                    .lines
                    .iter()
                    .any(|(id, yes)| *yes && *id == l.line_id)
            })
            .map(|l| (l.sku.clone(), l.quantity))
            .collect(),
    )
}

/// Quantities summed per SKU (two lines of one SKU hold both).
fn merged(lines: Vec<(String, i64)>) -> Vec<(String, i64)> {
    let mut per_sku = BTreeMap::new();
    for (sku, quantity) in lines {
        *per_sku.entry(sku).or_insert(0) += quantity;
    }
    per_sku.into_iter().collect()
}

fn at(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// What an order sends back to Mirakl for the shop.
enum Effect<'e> {
    Ship(Option<&'e Shipment>),
    /// Some units of some lines, `(line id, quantity)`: one parcel.
    ShipLines(Option<&'e Shipment>, &'e [(String, i64)]),
    Cancel,
    Refund(Money),
}

/// What decides an order's acceptance.
enum Decision {
    Auto(Acceptance),
    /// The seller decides on the Orders page; the order says why.
    Seller,
    /// The shop could not tell its stock: decided later.
    Wait(Step),
}

/// Everything one step of one order works with.
struct Ctx<'a> {
    ws: WorkspaceId,
    stored: &'a StoredOrder,
    settings: &'a OrderSettings,
    remote: &'a Remote<'a>,
}

impl Ctx<'_> {
    fn id(&self) -> OrderId {
        self.stored.id
    }

    fn order(&self) -> &Order {
        &self.stored.order
    }
}

impl Orders {
    /// Takes the order its next step; with `shop_changed`, first looks at its shop order.
    pub async fn step(
        &self,
        ws: WorkspaceId,
        order_id: OrderId,
        shop_changed: bool,
    ) -> anyhow::Result<Step> {
        let Some(stored) = self.storage.get_order(ws, order_id).await? else {
            return Ok(Step::Done);
        };
        if stored.finished_at_ms.is_some() && !shop_changed {
            return Ok(Step::Done);
        }
        let Some(channel) = self.storage.get_channel(ws, stored.channel_id).await? else {
            return Ok(Step::Done);
        };
        if channel.status != ChannelStatus::Live {
            return Ok(Step::Done);
        }
        let token = match self.tokens.access_token(ws, channel.id).await {
            Ok(t) => t,
            Err(TokenError::ReauthorizationNeeded | TokenError::NotAuthorized) => {
                return Ok(Step::Done);
            }
            Err(e) => return Err(e.into()),
        };
        let Some(remote) = Remote::new(self, &channel, token.expose().to_owned()) else {
            return Ok(Step::Done);
        };
        let settings = self.storage.order_settings(ws).await?.unwrap_or_default();
        let ctx = Ctx {
            ws,
            stored: &stored,
            settings: &settings,
            remote: &remote,
        };
        if shop_changed && stored.shop_order_id.is_some() {
            return self.follow_shop_order(&ctx).await;
        }
        let stage = stored.order.stage();
        if matches!(stage, OrderStage::AwaitingPayment | OrderStage::ToShip)
            && stored.shop_order_id.is_none()
        {
            // Accepted (here, or in Mirakl's back office) and not yet in the shop: it holds its
            // lines until the shop counts them.
            let lines = stored
                .order
                .lines
                .iter()
                .filter(|l| !OrderStage::of(&l.state).is_void())
                .map(|l| (l.sku.clone(), l.quantity))
                .collect::<Vec<_>>();
            if self
                .storage
                .hold_stock(ws, order_id, &merged(lines))
                .await?
            {
                self.holds_changed(ws).await?;
            }
        }
        match stage {
            OrderStage::AwaitingAcceptance => self.accept(&ctx).await,
            OrderStage::ToShip if stored.shop_order_id.is_none() => {
                self.create_shop_order(&ctx).await
            }
            OrderStage::ToShip => self.follow_shop_order(&ctx).await,
            OrderStage::Shipped | OrderStage::Closed => {
                self.finish(ws, order_id).await?;
                Ok(Step::Done)
            }
            OrderStage::Refused | OrderStage::Canceled => self.void(&ctx).await,
            // Waiting for Mirakl (payment), or a state this version does not know: shown.
            OrderStage::AwaitingPayment | OrderStage::Unknown => Ok(Step::Done),
        }
    }

    // ----- acceptance ----------------------------------------------------------------------

    async fn accept(&self, ctx: &Ctx<'_>) -> anyhow::Result<Step> {
        let (ws, id) = (ctx.ws, ctx.id());
        let acceptance = match self.storage.order_step(ws, id, ACCEPT).await? {
            Some(step) if step.done_at_ms.is_some() => return Ok(Step::Done),
            Some(step) => {
                // In doubt: sent, perhaps, before a crash or a lost answer.
                let detail = Detail::of(&step);
                if let Some(action) = &detail.action {
                    return self
                        .follow_action(ctx, ACCEPT, action, "Accepted on Mirakl")
                        .await;
                }
                match ctx.remote.fetch_for(ctx, step.reserved_at_ms).await? {
                    Err(wait) => return Ok(wait),
                    Ok(Some(now)) if now.stage() != OrderStage::AwaitingAcceptance => {
                        // It went through: Mirakl moved the order on.
                        return self
                            .accepted(ctx, detail.acceptance.as_ref(), Some(&now))
                            .await;
                    }
                    Ok(_) => match detail.acceptance {
                        Some(acceptance) => acceptance,
                        None => {
                            self.release(ws, id, ACCEPT).await?;
                            return Ok(Step::RunAgainAt(now_ms()));
                        }
                    },
                }
            }
            None => {
                // Until it is decided, its units are offered nowhere (a pending hold, which
                // other orders' decisions leave aside).
                let wanted: Vec<(String, i64)> = ctx
                    .order()
                    .lines
                    .iter()
                    .filter(|l| !OrderStage::of(&l.state).is_void())
                    .map(|l| (l.sku.clone(), l.quantity))
                    .collect();
                if self.storage.hold_pending(ws, id, &merged(wanted)).await? {
                    self.holds_changed(ws).await?;
                }
                // Read before the stock it is checked against: an acceptance reserved meanwhile
                // makes the reservation below fail, and the decision is made again.
                let seen = self.storage.acceptance_seq(ws).await?;
                let acceptance = match self.decide(ctx).await? {
                    Decision::Auto(acceptance) => acceptance,
                    Decision::Seller => return Ok(Step::Done),
                    Decision::Wait(step) => return Ok(step),
                };
                let detail = Detail {
                    acceptance: Some(acceptance.clone()),
                    ..Detail::default()
                };
                let holds = holds(ctx.order(), &acceptance);
                match self
                    .storage
                    .reserve_acceptance(
                        ws,
                        id,
                        ACCEPT,
                        &detail.json(),
                        &holds,
                        Some(seen),
                        now_ms(),
                    )
                    .await?
                {
                    Some(StepReservation::Fresh) => {
                        // Its pending hold became what it accepted, or nothing.
                        self.holds_changed(ws).await?;
                        acceptance
                    }
                    // Another order took stock since, or another worker decided this one.
                    _ => return Ok(Step::RunAgainAt(now_ms())),
                }
            }
        };
        self.send_acceptance(ctx, &acceptance).await
    }

    /// The automatic decision on the stock the shop has now, less what accepted orders not
    /// yet in the shop hold; or the seller's (automatic acceptance off, or short lines with
    /// partial acceptance off: the order says so and waits).
    async fn decide(&self, ctx: &Ctx<'_>) -> anyhow::Result<Decision> {
        let deadline = ctx
            .order()
            .acceptance_deadline_ms
            .map(|d| format!(" before {}", super::format_time(d)))
            .unwrap_or_default();
        if !ctx.settings.auto_accept {
            self.attention(ctx, &format!("Accept or refuse this order{deadline}."))
                .await?;
            return Ok(Decision::Seller);
        }
        let unknown = self.unknown_skus(ctx).await?;
        if !unknown.is_empty() {
            let message = format!(
                "Your store has no product with the SKU {}. Give the product that SKU in \
                 your store, then Retry; or accept or refuse this order yourself{deadline}.",
                unknown.join(", ")
            );
            self.attention(ctx, &message).await?;
            return Ok(Decision::Seller);
        }
        // Held first, the shop second: an order reaching the shop in between is then counted
        // twice, never not at all; a line short for that reason, or because a shop order's
        // answer was lost, waits rather than being refused (`short_in_doubt`).
        let held = self.held_stock(ctx).await?;
        let stock = match self.shop_stock(ctx).await? {
            Ok(stock) => stock,
            Err(why) => {
                // Shown on the order until it is decided; nothing is guessed meanwhile.
                self.attention(ctx, &why).await?;
                return Ok(Decision::Wait(Step::RunAgainAt(now_ms() + self.retry_ms())));
            }
        };
        let available = |sku: &str| {
            stock
                .get(sku)
                .copied()
                .unwrap_or(Some(0))
                .map(|q| q - held.get(sku).copied().unwrap_or(0))
        };
        let decision = auto_decision(ctx.order(), ctx.settings, available);
        if let Some(wait) = self.short_in_doubt(ctx, &decision, &held).await? {
            return Ok(Decision::Wait(wait));
        }
        match decision {
            AutoDecision::Accept(acceptance) => Ok(Decision::Auto(acceptance)),
            AutoDecision::LeaveToSeller { short } => {
                let message = format!(
                    "Not enough stock for {}: accept or refuse this order yourself{deadline}.",
                    short.join(", ")
                );
                self.attention(ctx, &message).await?;
                Ok(Decision::Seller)
            }
        }
    }

    /// The order's SKUs the catalog does not know (or saw deleted): what the seller must
    /// mend, not a reason to refuse the customer.
    async fn unknown_skus(&self, ctx: &Ctx<'_>) -> anyhow::Result<Vec<String>> {
        let mut unknown = Vec::new();
        for line in &ctx.order().lines {
            let known = self
                .storage
                .catalog_item(ctx.ws, &line.sku)
                .await?
                .is_some_and(|row| row.deleted_at_ms.is_none());
            if !known && !unknown.contains(&line.sku) {
                unknown.push(line.sku.clone());
            }
        }
        Ok(unknown)
    }

    /// The stock the shop has now for each SKU of the order (`None`: not counted, in stock),
    /// asked of the shop: the catalog's copy may be a read behind. A SKU the catalog does not
    /// know, or the shop no longer has, has none. `Err` says why the shop could not tell.
    async fn shop_stock(
        &self,
        ctx: &Ctx<'_>,
    ) -> anyhow::Result<Result<BTreeMap<String, Option<i64>>, String>> {
        let mut stock = BTreeMap::new();
        let mut products = Vec::new();
        for line in &ctx.order().lines {
            match self.storage.catalog_item(ctx.ws, &line.sku).await? {
                Some(row) if row.deleted_at_ms.is_none() => products.push(row.shop_product_id),
                _ => {
                    stock.insert(line.sku.clone(), Some(0));
                }
            }
        }
        if products.is_empty() {
            return Ok(Ok(stock));
        }
        products.sort_unstable();
        products.dedup();
        let Some((_, client)) = self.shops.connected(ctx.ws).await? else {
            return Ok(Err(
                "No store is connected: the stock cannot be checked.".to_owned()
            ));
        };
        let answer = match client.products_by_id(&products, now_ms()).await {
            Ok(answer) => answer,
            Err(e) => {
                return Ok(Err(format!(
                    "Your store did not answer the stock check ({}); it is tried again shortly.",
                    e.seller_message()
                )));
            }
        };
        let wanted: Vec<&str> = ctx.order().lines.iter().map(|l| l.sku.as_str()).collect();
        for item in answer.iter().flat_map(|p| p.items.iter()).flatten() {
            let sku = item.sku.as_str();
            if !wanted.contains(&sku) {
                continue;
            }
            let quantity = if item.stock.managed {
                Some(item.stock.quantity.unwrap_or(0).max(0))
            } else if item.stock.status == domain::catalog::StockStatus::OutOfStock {
                Some(0)
            } else {
                None
            };
            stock.insert(sku.to_owned(), quantity);
        }
        Ok(Ok(stock))
    }

    /// Quantities of each SKU held by orders accepted (or being accepted) but not yet in the
    /// shop, whose stock does not count them yet; this order aside.
    /// A line found short may be short only because an order is counted twice: by its hold
    /// and by the shop's stock, when its shop order was made after the holds were read, or
    /// was made but its answer lost. Refusing on that would refuse a customer the seller can
    /// serve, so the decision is made again at once in the first case, and in the second waits
    /// until those orders are known to be in the shop or not (the deadline is hours away).
    async fn short_in_doubt(
        &self,
        ctx: &Ctx<'_>,
        decision: &AutoDecision,
        held: &BTreeMap<String, i64>,
    ) -> anyhow::Result<Option<Step>> {
        let short: Vec<&str> = match decision {
            AutoDecision::Accept(acceptance) => acceptance
                .lines
                .iter()
                .filter(|(_, accepted)| !accepted)
                .filter_map(|(line, _)| {
                    let line = ctx.order().lines.iter().find(|l| &l.line_id == line)?;
                    Some(line.sku.as_str())
                })
                .collect(),
            AutoDecision::LeaveToSeller { short } => short.iter().map(String::as_str).collect(),
        };
        if short.is_empty() {
            return Ok(None);
        }
        let held_now = self.held_stock(ctx).await?;
        let released = |sku: &&str| {
            held_now.get(*sku).copied().unwrap_or(0) < held.get(*sku).copied().unwrap_or(0)
        };
        if short.iter().any(released) {
            return Ok(Some(Step::RunAgainAt(now_ms())));
        }
        let in_doubt = self.storage.holds_in_doubt(ctx.ws, SHOP_ORDER).await?;
        let Some(earliest) = short.iter().filter_map(|sku| in_doubt.get(*sku)).min() else {
            return Ok(None);
        };
        // Once those orders are looked for in the shop, and not before the next try.
        let known_at = earliest + self.config.in_doubt_after.as_millis() as i64;
        tracing::debug!(ws = %ctx.ws, order = %ctx.id(), "short stock held by orders in doubt: deciding later");
        Ok(Some(Step::RunAgainAt(known_at.max(now_ms() + 1_000))))
    }

    async fn held_stock(&self, ctx: &Ctx<'_>) -> anyhow::Result<BTreeMap<String, i64>> {
        Ok(self.storage.held_stock(ctx.ws, Some(ctx.id())).await?)
    }

    async fn send_acceptance(
        &self,
        ctx: &Ctx<'_>,
        acceptance: &Acceptance,
    ) -> anyhow::Result<Step> {
        match ctx.remote.accept(ctx.order(), acceptance).await {
            Ok(Sent::Done) => self.accepted(ctx, Some(acceptance), None).await,
            Ok(Sent::Action(action)) => {
                // Kept with what the reservation recorded (whose decision it was).
                let mut detail = self
                    .storage
                    .order_step(ctx.ws, ctx.id(), ACCEPT)
                    .await?
                    .map(|step| Detail::of(&step))
                    .unwrap_or_default();
                detail.acceptance = Some(acceptance.clone());
                detail.action = Some(action);
                self.storage
                    .note_order_step(ctx.ws, ctx.id(), ACCEPT, None, Some(&detail.json()))
                    .await?;
                Ok(Step::RunAgainAt(now_ms() + ACTION_POLL_MS))
            }
            Err(failure) => self.failed(ctx, ACCEPT, "accept the order", failure).await,
        }
    }

    /// The acceptance went through: the step is done, the timeline says what was decided,
    /// and the order is polled again so its next state comes soon.
    async fn accepted(
        &self,
        ctx: &Ctx<'_>,
        acceptance: Option<&Acceptance>,
        fresh: Option<&Order>,
    ) -> anyhow::Result<Step> {
        let (ws, id) = (ctx.ws, ctx.id());
        self.storage
            .finish_order_step(ws, id, ACCEPT, None, now_ms())
            .await?;
        let by_seller = self
            .storage
            .order_step(ws, id, ACCEPT)
            .await?
            .is_some_and(|step| Detail::of(&step).by_seller);
        let message = match acceptance {
            Some(a) if by_seller && !a.accepts_any() => "Refused on Mirakl".to_owned(),
            Some(_) if by_seller => "Accepted on Mirakl".to_owned(),
            Some(a) if !a.accepts_any() => "Refused on Mirakl: no line is in stock".to_owned(),
            Some(a) => {
                let refused = a.lines.iter().filter(|(_, ok)| !ok).count();
                if refused == 0 {
                    "Accepted on Mirakl".to_owned()
                } else {
                    format!("Accepted on Mirakl; {refused} line(s) refused for lack of stock")
                }
            }
            None => "Accepted on Mirakl".to_owned(),
        };
        self.storage
            .add_order_event(ws, id, &message, now_ms())
            .await?;
        self.storage
            .set_order_attention(ws, id, None, now_ms())
            .await?;
        if let Some(fresh) = fresh {
            // Stored now, so the next poll finds it unchanged: its next step is queued here.
            self.storage
                .upsert_order(ws, ctx.stored.channel_id, fresh, now_ms())
                .await?;
            self.advance(ws, id).await?;
        }
        self.poll_now(ws, ctx.stored.channel_id).await?;
        Ok(Step::Done)
    }

    /// The seller's own decision from the Orders page: recorded, then sent by the order's
    /// job (which checks with Mirakl first, as for any reserved step).
    pub async fn decide_by_seller(
        &self,
        ws: WorkspaceId,
        order_id: OrderId,
        accept: bool,
    ) -> anyhow::Result<Result<(), String>> {
        let Some(stored) = self.storage.get_order(ws, order_id).await? else {
            return Ok(Err("This order does not exist.".to_owned()));
        };
        if stored.order.stage() != OrderStage::AwaitingAcceptance {
            return Ok(Err(format!(
                "Mirakl no longer waits for a decision on this order (it is {}).",
                stored.order.state
            )));
        }
        let acceptance = if accept {
            Acceptance::all(&stored.order)
        } else {
            Acceptance::none(&stored.order)
        };
        let holds = holds(&stored.order, &acceptance);
        let detail = Detail {
            acceptance: Some(acceptance),
            by_seller: true,
            ..Detail::default()
        };
        match self
            .storage
            .reserve_acceptance(ws, order_id, ACCEPT, &detail.json(), &holds, None, now_ms())
            .await?
        {
            Some(StepReservation::Fresh) => {
                self.holds_changed(ws).await?;
                let message = if accept {
                    "You accepted the order"
                } else {
                    "You refused the order"
                };
                self.storage
                    .add_order_event(ws, order_id, message, now_ms())
                    .await?;
                self.advance(ws, order_id).await?;
                Ok(Ok(()))
            }
            _ => Ok(Err("A decision on this order was already sent.".to_owned())),
        }
    }

    // ----- the shop order ------------------------------------------------------------------

    async fn create_shop_order(&self, ctx: &Ctx<'_>) -> anyhow::Result<Step> {
        let (ws, id) = (ctx.ws, ctx.id());
        let Some((_, client)) = self.shops.connected(ws).await? else {
            self.attention(
                ctx,
                "No store is connected: connect your store, then Retry.",
            )
            .await?;
            return Ok(Step::Done);
        };
        let new = match self.new_shop_order(ctx).await? {
            Ok(new) => new,
            Err(problem) => {
                self.attention(ctx, &problem).await?;
                return Ok(Step::Done);
            }
        };
        match self
            .storage
            .reserve_order_step(ws, id, SHOP_ORDER, None, now_ms())
            .await?
        {
            StepReservation::Fresh => {}
            StepReservation::Done(step) => {
                // Recorded on the step, but not on the order (a crash between the two).
                if let Some(shop_id) = Detail::of(&step).shop_order_id
                    && let Some(found) = client.order(shop_id, None).await?
                {
                    return self.record_shop_order(ctx, &found, "created").await;
                }
                return Ok(Step::Done);
            }
            StepReservation::InDoubt(step) => {
                // The earlier attempt got no answer: the shop may have created it. Wait until
                // a request still under way must have landed, then look before creating.
                let look_at = step.reserved_at_ms + self.config.in_doubt_after.as_millis() as i64;
                if now_ms() < look_at {
                    return Ok(Step::RunAgainAt(look_at));
                }
                let found = client
                    .find_order(
                        &ctx.order().mirakl_id,
                        &ctx.remote.channel().name,
                        at(step.reserved_at_ms),
                    )
                    .await;
                match found {
                    Ok(Some(found)) => {
                        return self
                            .record_shop_order(ctx, &found, "found (its answer had been lost)")
                            .await;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        let why = e.seller_message();
                        self.storage
                            .note_order_step(ws, id, SHOP_ORDER, Some(&why), None)
                            .await?;
                        return Ok(Step::RunAgainAt(now_ms() + self.retry_ms()));
                    }
                }
            }
        }
        match client.create_order(&new).await {
            Ok(created) => self.record_shop_order(ctx, &created, "created").await,
            Err(e) if e.is_retryable() => {
                // No answer, or the store failed: it may or may not have made the order. The
                // reservation stays; the next attempt looks for it first.
                let why = e.seller_message();
                self.storage
                    .note_order_step(ws, id, SHOP_ORDER, Some(&why), None)
                    .await?;
                tracing::info!(%ws, order = %id, error = %why, "shop order in doubt");
                Ok(Step::RunAgainAt(now_ms() + self.retry_ms()))
            }
            Err(e) => {
                // The store refused it: nothing was made. The seller can mend and Retry.
                self.storage.release_order_step(ws, id, SHOP_ORDER).await?;
                let message = format!(
                    "Your store refused the order: {} Mend it, then Retry.",
                    e.seller_message()
                );
                self.attention(ctx, &message).await?;
                Ok(Step::Done)
            }
        }
    }

    /// The shop order to make: each line resolved by SKU to the product or variation the
    /// catalog read, at Mirakl's price; or why it cannot be made yet.
    async fn new_shop_order(&self, ctx: &Ctx<'_>) -> anyhow::Result<Result<NewShopOrder, String>> {
        let order = ctx.order();
        let mut lines = Vec::new();
        for line in order
            .lines
            .iter()
            .filter(|l| !OrderStage::of(&l.state).is_void())
        {
            let row = self.storage.catalog_item(ctx.ws, &line.sku).await?;
            let Some(row) = row.filter(|r| r.deleted_at_ms.is_none()) else {
                return Ok(Err(format!(
                    "Your store has no product with the SKU {}. Give the product that SKU in \
                     your store (or add it), then Retry.",
                    line.sku
                )));
            };
            lines.push(NewShopOrderLine {
                product_id: row.shop_product_id,
                variation_id: row.shop_variation_id,
                quantity: line.quantity,
                total: line.total_price,
                mirakl_line_id: line.line_id.clone(),
            });
        }
        if lines.is_empty() {
            return Ok(Err(
                "Every line of this order was refused or cancelled.".to_owned()
            ));
        }
        let customer = &order.customer;
        let (Some(shipping), billing) = (
            customer
                .shipping
                .clone()
                .or_else(|| customer.billing.clone()),
            customer.billing.clone(),
        ) else {
            return Ok(Err(
                "Mirakl has not shown this order's address yet; Marketbridge looks again at the next poll."
                    .to_owned(),
            ));
        };
        let shipping_total: i64 = order.lines.iter().map(|l| l.shipping_price.minor()).sum();
        let shipping_total = Money::from_minor(shipping_total.max(order.shipping_price.minor()));
        Ok(Ok(NewShopOrder {
            mirakl_order_id: order.mirakl_id.clone(),
            channel_name: ctx.remote.channel().name.clone(),
            status: ctx.settings.shop_status.clone(),
            paid: ctx.settings.mark_paid,
            currency: order.currency.clone(),
            email: customer.email.clone(),
            billing: billing.unwrap_or_else(|| shipping.clone()),
            shipping,
            lines,
            shipping_line: Some((
                order
                    .shipping_method
                    .clone()
                    .unwrap_or_else(|| ctx.remote.channel().name.clone()),
                shipping_total,
            )),
        }))
    }

    async fn record_shop_order(
        &self,
        ctx: &Ctx<'_>,
        shop_order: &ShopOrder,
        how: &str,
    ) -> anyhow::Result<Step> {
        let (ws, id) = (ctx.ws, ctx.id());
        let detail = Detail {
            shop_order_id: Some(shop_order.id),
            ..Detail::default()
        };
        self.storage
            .finish_order_step(ws, id, SHOP_ORDER, Some(&detail.json()), now_ms())
            .await?;
        self.storage
            .set_shop_order(
                ws,
                id,
                shop_order.id,
                &shop_order.number,
                &shop_order.status,
                now_ms(),
            )
            .await?;
        let message = format!("Shop order #{} {how}", shop_order.number);
        self.storage
            .add_order_event(ws, id, &message, now_ms())
            .await?;
        self.storage
            .set_order_attention(ws, id, None, now_ms())
            .await?;
        tracing::info!(%ws, order = %id, shop_order = shop_order.id, "shop order {how}");
        Ok(Step::Done)
    }

    // ----- back to Mirakl ------------------------------------------------------------------

    /// Looks at the shop order and sends Mirakl what the shop did: shipped (completed, with
    /// its tracking), cancelled before shipping, refunded.
    async fn follow_shop_order(&self, ctx: &Ctx<'_>) -> anyhow::Result<Step> {
        let (ws, id) = (ctx.ws, ctx.id());
        let Some(shop_id) = ctx.stored.shop_order_id else {
            return Ok(Step::Done);
        };
        let Some((_, client)) = self.shops.connected(ws).await? else {
            return Ok(Step::Done);
        };
        let Some(shop_order) = client
            .order(shop_id, ctx.settings.tracking_meta_key.as_deref())
            .await?
        else {
            self.attention(
                ctx,
                &format!("The shop order #{shop_id} no longer exists in your store."),
            )
            .await?;
            return Ok(Step::Done);
        };
        if ctx.stored.shop_status.as_deref() != Some(shop_order.status.as_str()) {
            self.storage
                .set_shop_status(ws, id, &shop_order.status, now_ms())
                .await?;
            let message = format!("Shop order #{}: {}", shop_order.number, shop_order.status);
            self.storage
                .add_order_event(ws, id, &message, now_ms())
                .await?;
        }
        let stage = ctx.order().stage();
        if stage == OrderStage::ToShip
            && !matches!(
                shop_order.status.as_str(),
                "cancelled" | "refunded" | "failed"
            )
        {
            let parcels = self.parcels(ctx, &shop_order).await?;
            if !parcels.is_empty() {
                return self.ship_parcels(ctx, &shop_order, &parcels).await;
            }
        }
        match shop_order.status.as_str() {
            "completed" if stage == OrderStage::ToShip => {
                let tracking = shop_order
                    .tracking
                    .first()
                    .map(|t| shipment_of(t, &ctx.settings.carriers));
                self.ship(ctx, tracking).await
            }
            "cancelled" if !stage.is_void() && stage != OrderStage::Shipped => {
                if !ctx.settings.send_cancellations {
                    return Ok(Step::Done);
                }
                self.once(
                    ctx,
                    CANCEL_ON_MIRAKL,
                    "Cancelled on Mirakl (cancelled in your store)",
                    Effect::Cancel,
                )
                .await
            }
            _ => self.refunds(ctx, &shop_order).await,
        }
    }

    /// The parcels the shop order's tracking names the items of (see `packages`), matched to
    /// the order's lines through the catalog's shop ids of their SKUs.
    async fn parcels(&self, ctx: &Ctx<'_>, shop_order: &ShopOrder) -> anyhow::Result<Vec<Package>> {
        if shop_order.tracking.iter().all(|t| t.items.is_empty()) {
            return Ok(Vec::new());
        }
        let mut shop_ids = std::collections::HashMap::new();
        for line in &ctx.order().lines {
            if let Some(row) = self.storage.catalog_item(ctx.ws, &line.sku).await? {
                shop_ids.insert(
                    line.line_id.clone(),
                    (row.shop_product_id, row.shop_variation_id),
                );
            }
        }
        Ok(packages(
            ctx.order(),
            &shop_order.tracking,
            &ctx.settings.carriers,
            &shop_ids,
        ))
    }

    /// Ships each parcel once, as soon as the shop records it; once the shop order is
    /// completed, the lines no parcel held leave too, with the tracking the shop gave the
    /// whole order if it gave one. Refunds follow as for any order.
    async fn ship_parcels(
        &self,
        ctx: &Ctx<'_>,
        shop_order: &ShopOrder,
        parcels: &[Package],
    ) -> anyhow::Result<Step> {
        for parcel in parcels {
            let units: i64 = parcel.lines.iter().map(|(_, q)| q).sum();
            let message = format!(
                "Shipped {units} item{} on Mirakl with tracking {}{}",
                if units == 1 { "" } else { "s" },
                parcel.tracking.number,
                parcel
                    .tracking
                    .carrier_name
                    .as_deref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default()
            );
            let effect = Effect::ShipLines(Some(&parcel.tracking), &parcel.lines);
            let done = self.once(ctx, &parcel.step(), &message, effect).await?;
            if done != Step::Done {
                return Ok(done);
            }
        }
        let rest = rest(ctx.order(), parcels);
        if shop_order.status == "completed" && !rest.is_empty() {
            let whole = shop_order
                .tracking
                .iter()
                .find(|t| t.items.is_empty())
                .map(|t| shipment_of(t, &ctx.settings.carriers));
            let message = match &whole {
                Some(t) => format!(
                    "Shipped the items no parcel named on Mirakl with tracking {}",
                    t.number
                ),
                None => "Shipped the items no parcel named on Mirakl (no tracking number for them)"
                    .to_owned(),
            };
            let effect = Effect::ShipLines(whole.as_ref(), &rest);
            let done = self.once(ctx, SHIP_REST, &message, effect).await?;
            if done != Step::Done {
                return Ok(done);
            }
        }
        self.refunds(ctx, shop_order).await
    }

    async fn ship(&self, ctx: &Ctx<'_>, tracking: Option<Shipment>) -> anyhow::Result<Step> {
        let message = match &tracking {
            Some(t) => format!(
                "Shipped on Mirakl with tracking {}{}",
                t.number,
                t.carrier_name
                    .as_deref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default()
            ),
            None => "Shipped on Mirakl (no tracking number in the shop order)".to_owned(),
        };
        self.once(ctx, SHIP, &message, Effect::Ship(tracking.as_ref()))
            .await
    }

    /// Each refund the shop made, sent once (when the settings say so).
    async fn refunds(&self, ctx: &Ctx<'_>, shop_order: &ShopOrder) -> anyhow::Result<Step> {
        if !ctx.settings.send_refunds {
            return Ok(Step::Done);
        }
        for (refund_id, amount, _) in &shop_order.refunds {
            let Ok(amount) = Money::parse(amount) else {
                continue;
            };
            let step = format!("refund:{refund_id}");
            let message = format!(
                "Refunded {} {} on Mirakl",
                amount.to_decimal_string(),
                ctx.order().currency
            );
            let done = self
                .once(ctx, &step, &message, Effect::Refund(amount))
                .await?;
            if done != Step::Done {
                return Ok(done);
            }
        }
        Ok(Step::Done)
    }

    /// Sends one effect to Mirakl once: reserved first; in doubt, Mirakl's order is asked
    /// first (a state past the effect means it went through).
    async fn once(
        &self,
        ctx: &Ctx<'_>,
        step: &str,
        done_message: &str,
        effect: Effect<'_>,
    ) -> anyhow::Result<Step> {
        let (ws, id) = (ctx.ws, ctx.id());
        match self
            .storage
            .reserve_order_step(ws, id, step, None, now_ms())
            .await?
        {
            StepReservation::Done(_) => return Ok(Step::Done),
            StepReservation::InDoubt(reserved) => {
                let detail = Detail::of(&reserved);
                if let Some(action) = &detail.action {
                    return self.follow_action(ctx, step, action, done_message).await;
                }
                let looked_up = step == SHIP
                    || step == CANCEL_ON_MIRAKL
                    || matches!(effect, Effect::ShipLines(..));
                if looked_up {
                    match ctx.remote.fetch_for(ctx, reserved.reserved_at_ms).await? {
                        Err(wait) => return Ok(wait),
                        Ok(Some(now)) => {
                            let went_through = match &effect {
                                Effect::ShipLines(_, lines) => shipped_on(&now, lines),
                                _ if step == SHIP => {
                                    matches!(now.stage(), OrderStage::Shipped | OrderStage::Closed)
                                }
                                _ => now.stage().is_void(),
                            };
                            if went_through {
                                return self.step_done(ctx, step, done_message).await;
                            }
                        }
                        Ok(None) => {}
                    }
                }
            }
            StepReservation::Fresh => {}
        }
        let sent = match effect {
            Effect::Ship(tracking) => ctx.remote.ship(ctx.order(), tracking).await,
            Effect::ShipLines(tracking, lines) => {
                ctx.remote.ship_lines(ctx.order(), tracking, lines).await
            }
            Effect::Cancel => ctx.remote.cancel(ctx.order()).await,
            Effect::Refund(amount) => ctx.remote.refund(ctx.order(), amount).await,
        };
        match sent {
            Ok(Sent::Done) => self.step_done(ctx, step, done_message).await,
            Ok(Sent::Action(action)) => {
                let detail = Detail {
                    action: Some(action),
                    ..Detail::default()
                };
                self.storage
                    .note_order_step(ws, id, step, None, Some(&detail.json()))
                    .await?;
                Ok(Step::RunAgainAt(now_ms() + ACTION_POLL_MS))
            }
            Err(failure) => self.failed(ctx, step, done_message, failure).await,
        }
    }

    async fn step_done(&self, ctx: &Ctx<'_>, step: &str, message: &str) -> anyhow::Result<Step> {
        self.storage
            .finish_order_step(ctx.ws, ctx.id(), step, None, now_ms())
            .await?;
        self.storage
            .add_order_event(ctx.ws, ctx.id(), message, now_ms())
            .await?;
        self.storage
            .set_order_attention(ctx.ws, ctx.id(), None, now_ms())
            .await?;
        self.poll_now(ctx.ws, ctx.stored.channel_id).await?;
        Ok(Step::Done)
    }

    /// A Connect action under way: done, failed, or looked at again shortly.
    async fn follow_action(
        &self,
        ctx: &Ctx<'_>,
        step: &str,
        action: &str,
        done_message: &str,
    ) -> anyhow::Result<Step> {
        match ctx.remote.action(action).await {
            Ok(ActionState::Running) => Ok(Step::RunAgainAt(now_ms() + ACTION_POLL_MS)),
            Ok(ActionState::Succeeded) if step == ACCEPT => {
                let acceptance = self
                    .storage
                    .order_step(ctx.ws, ctx.id(), ACCEPT)
                    .await?
                    .and_then(|s| Detail::of(&s).acceptance);
                self.accepted(ctx, acceptance.as_ref(), None).await
            }
            Ok(ActionState::Succeeded) => self.step_done(ctx, step, done_message).await,
            Ok(ActionState::Failed(why)) => {
                self.release(ctx.ws, ctx.id(), step).await?;
                self.attention(
                    ctx,
                    &format!("Mirakl Connect did not apply it: {why}. Retry when it is mended."),
                )
                .await?;
                Ok(Step::Done)
            }
            Err(failure) => self.failed(ctx, step, done_message, failure).await,
        }
    }

    /// A call to Mirakl failed: a rate limit or a failure that may pass waits (the step stays
    /// reserved, in doubt); a refusal is the seller's to see, with a Retry.
    async fn failed(
        &self,
        ctx: &Ctx<'_>,
        step: &str,
        what: &str,
        failure: Failure,
    ) -> anyhow::Result<Step> {
        let (ws, id) = (ctx.ws, ctx.id());
        match failure {
            Failure::RateLimited(retry_after) => Ok(Step::RunAgainAt(
                now_ms() + retry_after.map_or(1_000, |d| d.as_millis() as i64),
            )),
            Failure::Retryable(why) => {
                self.storage
                    .note_order_step(ws, id, step, Some(&why), None)
                    .await?;
                Ok(Step::RunAgainAt(now_ms() + self.retry_ms()))
            }
            Failure::Refused(why) => {
                self.release(ws, id, step).await?;
                let message = format!("Mirakl refused to {}: {why}", what.to_lowercase());
                self.attention(ctx, &message).await?;
                Ok(Step::Done)
            }
            // The token, not the step: the step stays reserved, and is looked up on Mirakl
            // before it is sent again with the renewed token.
            Failure::TokenRefused => Err(TokenRefused.into()),
        }
    }

    // ----- Mirakl cancelled or refused -----------------------------------------------------

    /// Mirakl will not ship the order: its shop order, if one was made, is cancelled (its stock
    /// comes back) with a note saying why.
    async fn void(&self, ctx: &Ctx<'_>) -> anyhow::Result<Step> {
        let (ws, id) = (ctx.ws, ctx.id());
        let shop_order = match ctx.stored.shop_order_id {
            Some(shop_id) => Some(shop_id),
            None => match self.storage.order_step(ws, id, SHOP_ORDER).await? {
                // A creation in doubt: settle it first, or a shop order could outlive its
                // cancellation.
                Some(step) if step.done_at_ms.is_none() => {
                    let Some((_, client)) = self.shops.connected(ws).await? else {
                        return Ok(Step::Done);
                    };
                    let look_at =
                        step.reserved_at_ms + self.config.in_doubt_after.as_millis() as i64;
                    if now_ms() < look_at {
                        return Ok(Step::RunAgainAt(look_at));
                    }
                    match client
                        .find_order(
                            &ctx.order().mirakl_id,
                            &ctx.remote.channel().name,
                            at(step.reserved_at_ms),
                        )
                        .await?
                    {
                        Some(found) => {
                            self.record_shop_order(ctx, &found, "found (its answer had been lost)")
                                .await?;
                            Some(found.id)
                        }
                        None => {
                            self.storage.release_order_step(ws, id, SHOP_ORDER).await?;
                            None
                        }
                    }
                }
                _ => None,
            },
        };
        if let Some(shop_id) = shop_order
            && !matches!(
                ctx.stored.shop_status.as_deref(),
                Some("cancelled" | "refunded")
            )
        {
            match self
                .storage
                .reserve_order_step(ws, id, CANCEL_IN_SHOP, None, now_ms())
                .await?
            {
                StepReservation::Done(_) => {}
                // Cancelling twice is harmless: the shop keeps it cancelled.
                StepReservation::Fresh | StepReservation::InDoubt(_) => {
                    let Some((_, client)) = self.shops.connected(ws).await? else {
                        return Ok(Step::Done);
                    };
                    let note = format!(
                        "Mirakl order {} was {} on {}: cancelled by Marketbridge.",
                        ctx.order().mirakl_id,
                        ctx.order().state,
                        ctx.remote.channel().name
                    );
                    let cancelled = client.cancel_order(shop_id, &note).await?;
                    self.storage
                        .finish_order_step(ws, id, CANCEL_IN_SHOP, None, now_ms())
                        .await?;
                    self.storage
                        .set_shop_status(ws, id, &cancelled.status, now_ms())
                        .await?;
                    let message = format!(
                        "Shop order #{} cancelled ({} on Mirakl); its stock is back",
                        cancelled.number,
                        ctx.order().state
                    );
                    self.storage
                        .add_order_event(ws, id, &message, now_ms())
                        .await?;
                }
            }
        }
        self.storage
            .set_order_attention(ws, id, None, now_ms())
            .await?;
        self.finish(ws, id).await?;
        Ok(Step::Done)
    }

    /// Nothing is left to do for the order; the stock it still held is free again.
    async fn finish(&self, ws: WorkspaceId, id: OrderId) -> anyhow::Result<()> {
        if self.storage.finish_order(ws, id, now_ms()).await? {
            self.holds_changed(ws).await?;
        }
        Ok(())
    }

    /// What orders hold changed, and with it what each channel may sell (the shop's
    /// stock less the holds): the items concerned, stamped by storage, go out with the next
    /// delta export. Once the shop order exists the shop's own stock counts it, and the read
    /// of the shop that follows stamps the items instead.
    async fn holds_changed(&self, ws: WorkspaceId) -> anyhow::Result<()> {
        self.queue
            .enqueue_exports_after(ws, true, HOLDS_EXPORT_DELAY)
            .await
    }

    /// Releases a reserved step known not to have happened; an acceptance not made holds no
    /// stock.
    async fn release(&self, ws: WorkspaceId, id: OrderId, step: &str) -> anyhow::Result<()> {
        self.storage.release_order_step(ws, id, step).await?;
        if step == ACCEPT && self.storage.release_stock(ws, id).await? {
            self.holds_changed(ws).await?;
        }
        Ok(())
    }

    // ----- the seller's Retry --------------------------------------------------------------

    /// **Retry** on the Orders page: the seller mended what stopped the order; its next step
    /// runs again.
    pub async fn retry(&self, ws: WorkspaceId, order_id: OrderId) -> anyhow::Result<()> {
        self.storage
            .set_order_attention(ws, order_id, None, now_ms())
            .await?;
        self.storage
            .add_order_event(ws, order_id, "Retried", now_ms())
            .await?;
        self.queue
            .enqueue(ws, &crate::job::Job::order_step(order_id, true))
            .await?;
        self.advance(ws, order_id).await
    }

    async fn attention(&self, ctx: &Ctx<'_>, message: &str) -> anyhow::Result<()> {
        if ctx.stored.attention.as_deref() != Some(message) {
            self.storage
                .set_order_attention(ctx.ws, ctx.id(), Some(message), now_ms())
                .await?;
            self.storage
                .add_order_event(ctx.ws, ctx.id(), message, now_ms())
                .await?;
        }
        Ok(())
    }

    /// How soon a step that failed in a way that may pass is tried again: never sooner than
    /// five seconds, so a store that is down is not hammered.
    fn retry_ms(&self) -> i64 {
        (self.config.in_doubt_after.as_millis() as i64).max(5_000)
    }
}

impl Remote<'_> {
    /// The order as Mirakl has it now, within the listing's budget: `Err(step)` when the budget
    /// says to wait.
    async fn fetch_for(
        &self,
        ctx: &Ctx<'_>,
        reserved_at_ms: i64,
    ) -> anyhow::Result<Result<Option<Order>, Step>> {
        let orders = self.flow();
        let op = self.list_operation();
        if let Some(at) = orders.slots.take(ctx.ws, ctx.stored.channel_id, op).await? {
            return Ok(Err(Step::RunAgainAt(at)));
        }
        // A minute before the reservation: Mirakl's update dates and ours may differ a little.
        match self
            .fetch(&ctx.order().mirakl_id, at(reserved_at_ms - 60_000))
            .await
        {
            Ok(order) => Ok(Ok(order)),
            Err(Failure::RateLimited(retry_after)) => {
                let at = orders
                    .slots
                    .defer(ctx.ws, ctx.stored.channel_id, op, retry_after)
                    .await?;
                Ok(Err(Step::RunAgainAt(at)))
            }
            Err(Failure::Retryable(why) | Failure::Refused(why)) => {
                anyhow::bail!("asking Mirakl for order {}: {why}", ctx.order().mirakl_id)
            }
            Err(Failure::TokenRefused) => Err(TokenRefused.into()),
        }
    }
}
