//! F5, orders: each Mirakl order of a channel (the normalized `domain::order::Order`, Mirakl's
//! own state, the shop order made for it), its steps and its timeline, and the seller's order
//! settings.
//!
//! A step (accepting, creating the shop order, shipping, cancelling, refunding) is reserved in
//! one conditional write before it is attempted, and finished once done: two workers, or a
//! worker started again after a crash, never both attempt it, and a reserved step that is not
//! done is known to be in doubt (its answer may have been lost after the other side acted), so
//! the flow asks the other side before acting again.

use std::collections::BTreeMap;

use domain::order::{Order, OrderSettings};
use domain::{ChannelId, OrderId, WorkspaceId};
use uuid::Uuid;

use crate::channel_document::{from_json, to_json};
use crate::error::found;
use crate::{Storage, StorageError};

/// An order as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredOrder {
    pub id: OrderId,
    pub workspace_id: WorkspaceId,
    pub channel_id: ChannelId,
    pub order: Order,
    pub shop_order_id: Option<i64>,
    pub shop_order_number: Option<String>,
    pub shop_status: Option<String>,
    /// Why it waits for the seller: a failed step, or an acceptance to decide.
    pub attention: Option<String>,
    /// Set once nothing is left to do for it (a new state from Mirakl opens it again).
    pub finished_at_ms: Option<i64>,
    /// When the connector first stored it.
    pub imported_at_ms: i64,
    pub updated_at_ms: i64,
}

/// What [`Storage::upsert_order`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderUpsert {
    New(OrderId),
    /// Stored before; Mirakl changed it since (its state when `state_changed`).
    Changed {
        id: OrderId,
        state_changed: bool,
    },
    /// Stored before, as it is.
    Unchanged(OrderId),
}

impl OrderUpsert {
    pub fn id(self) -> OrderId {
        match self {
            Self::New(id) | Self::Changed { id, .. } | Self::Unchanged(id) => id,
        }
    }
}

/// One step of an order, as reserved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderStep {
    pub step: String,
    pub reserved_at_ms: i64,
    pub done_at_ms: Option<i64>,
    pub detail: Option<String>,
    pub error: Option<String>,
}

/// What [`Storage::reserve_order_step`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepReservation {
    /// Reserved now: attempt it.
    Fresh,
    /// Reserved before and not done: it may have happened (a crash, a lost answer). Ask the
    /// other side before attempting it again.
    InDoubt(OrderStep),
    /// Done already.
    Done(OrderStep),
}

/// Which orders a page lists, newest first.
#[derive(Clone, Debug, Default)]
pub struct OrdersFilter {
    pub channel: Option<ChannelId>,
    /// Mirakl's state, as it names it.
    pub state: Option<String>,
    /// Any of these states (empty: any state), e.g. every state of one stage. Mirakl's states
    /// are words without commas.
    pub states: Vec<String>,
    pub attention_only: bool,
    /// Part of Mirakl's order id (any case), or the shop order's number (whole).
    pub search: Option<String>,
    /// Keyset: orders placed before this one.
    pub before: Option<(i64, OrderId)>,
    pub limit: i64,
}

/// The dashboard's counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrderCounts {
    pub total: i64,
    /// Something is left to do for them.
    pub open: i64,
    pub attention: i64,
    /// Open, with no shop order yet.
    pub not_in_shop: i64,
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: Uuid,
    workspace_id: Uuid,
    channel_id: Uuid,
    data: String,
    shop_order_id: Option<i64>,
    shop_order_number: Option<String>,
    shop_status: Option<String>,
    attention: Option<String>,
    finished_at_ms: Option<i64>,
    created_at_ms: i64,
    updated_at_ms: i64,
}

impl TryFrom<OrderRow> for StoredOrder {
    type Error = StorageError;

    fn try_from(row: OrderRow) -> Result<Self, StorageError> {
        Ok(StoredOrder {
            id: OrderId(row.id),
            workspace_id: WorkspaceId(row.workspace_id),
            channel_id: ChannelId(row.channel_id),
            order: from_json("orders.data", &row.data)?,
            shop_order_id: row.shop_order_id,
            shop_order_number: row.shop_order_number,
            shop_status: row.shop_status,
            attention: row.attention,
            finished_at_ms: row.finished_at_ms,
            imported_at_ms: row.created_at_ms,
            updated_at_ms: row.updated_at_ms,
        })
    }
}

#[derive(sqlx::FromRow)]
struct StepRow {
    step: String,
    reserved_at_ms: i64,
    done_at_ms: Option<i64>,
    detail: Option<String>,
    error: Option<String>,
}

impl From<StepRow> for OrderStep {
    fn from(r: StepRow) -> Self {
        OrderStep {
            step: r.step,
            reserved_at_ms: r.reserved_at_ms,
            done_at_ms: r.done_at_ms,
            detail: r.detail,
            error: r.error,
        }
    }
}

#[derive(sqlx::FromRow)]
struct StoredState {
    id: Uuid,
    state: String,
    data: String,
    mirakl_updated_at_ms: i64,
}

/// `SELECT <every column of OrderRow> FROM orders WHERE <condition>`.
macro_rules! select_orders_where {
    ($condition:literal) => {
        concat!(
            "SELECT id, workspace_id, channel_id, data, shop_order_id, shop_order_number, ",
            "shop_status, attention, finished_at_ms, created_at_ms, updated_at_ms FROM orders ",
            "WHERE ",
            $condition
        )
    };
}

impl Storage {
    /// Stores an order Mirakl gave, or what changed in it: a newer `updated_at_ms` replaces
    /// the order, an older one (an overlapping poll) changes nothing. A new state opens the
    /// order again, so the flow looks at it. `NotFound` if the channel is not in `ws`.
    pub async fn upsert_order(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        order: &Order,
        now_ms: i64,
    ) -> Result<OrderUpsert, StorageError> {
        const FIND: &str = "SELECT id, state, data, mirakl_updated_at_ms FROM orders \
             WHERE workspace_id = $1 AND channel_id = $2 AND mirakl_order_id = $3";
        const INSERT: &str = "INSERT INTO orders (id, workspace_id, channel_id, mirakl_order_id, \
             state, data, mirakl_created_at_ms, mirakl_updated_at_ms, acceptance_deadline_ms, \
             created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)";
        const CHANNEL: &str = "SELECT COUNT(*) FROM channels WHERE workspace_id = $1 AND id = $2";
        const UPDATE: &str = "UPDATE orders SET state = $3, data = $4, mirakl_updated_at_ms = $5, \
             acceptance_deadline_ms = $6, updated_at_ms = $7, \
             finished_at_ms = CASE WHEN $8 THEN NULL ELSE finished_at_ms END \
             WHERE workspace_id = $1 AND id = $2";
        let data = to_json("orders.data", order)?;
        // Each poll reads again the orders of the last minutes: those unchanged are told apart
        // on a reader, without taking the write lock.
        const PEEK: &str = "SELECT id, mirakl_updated_at_ms, data FROM orders \
             WHERE workspace_id = $1 AND channel_id = $2 AND mirakl_order_id = $3";
        let peeked: Option<(Uuid, i64, String)> = on_reader!(self, |p| sqlx::query_as(PEEK)
            .bind(ws.0)
            .bind(channel.0)
            .bind(&order.mirakl_id)
            .fetch_optional(p)
            .await)?;
        if let Some((id, updated_at_ms, stored)) = peeked
            && (updated_at_ms > order.updated_at_ms || stored == data)
        {
            return Ok(OrderUpsert::Unchanged(OrderId(id)));
        }
        let upsert = in_transaction!(self, |tx| {
            let stored = sqlx::query_as::<_, StoredState>(FIND)
                .bind(ws.0)
                .bind(channel.0)
                .bind(&order.mirakl_id)
                .fetch_optional(&mut *tx)
                .await?;
            match stored {
                None => {
                    // The unique key is per channel: a channel of another workspace must be
                    // told apart before the insert meets its orders.
                    let channels: i64 = sqlx::query_scalar(CHANNEL)
                        .bind(ws.0)
                        .bind(channel.0)
                        .fetch_one(&mut *tx)
                        .await?;
                    found(channels as u64)?;
                    let id = OrderId::new();
                    sqlx::query(INSERT)
                        .bind(id.0)
                        .bind(ws.0)
                        .bind(channel.0)
                        .bind(&order.mirakl_id)
                        .bind(&order.state)
                        .bind(&data)
                        .bind(order.created_at_ms)
                        .bind(order.updated_at_ms)
                        .bind(order.acceptance_deadline_ms)
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await
                        .map_err(StorageError::on_write(
                            "orders_channel_id_mirakl_order_id_key",
                        ))?;
                    OrderUpsert::New(id)
                }
                Some(stored)
                    if stored.mirakl_updated_at_ms > order.updated_at_ms || stored.data == data =>
                {
                    OrderUpsert::Unchanged(OrderId(stored.id))
                }
                Some(stored) => {
                    let state_changed = stored.state != order.state;
                    sqlx::query(UPDATE)
                        .bind(ws.0)
                        .bind(stored.id)
                        .bind(&order.state)
                        .bind(&data)
                        .bind(order.updated_at_ms)
                        .bind(order.acceptance_deadline_ms)
                        .bind(now_ms)
                        .bind(state_changed)
                        .execute(&mut *tx)
                        .await?;
                    OrderUpsert::Changed {
                        id: OrderId(stored.id),
                        state_changed,
                    }
                }
            }
        });
        Ok(upsert)
    }

    pub async fn get_order(
        &self,
        ws: WorkspaceId,
        id: OrderId,
    ) -> Result<Option<StoredOrder>, StorageError> {
        const SQL: &str = select_orders_where!("workspace_id = $1 AND id = $2");
        let row = on_reader!(self, |p| sqlx::query_as::<_, OrderRow>(SQL)
            .bind(ws.0)
            .bind(id.0)
            .fetch_optional(p)
            .await)?;
        row.map(StoredOrder::try_from).transpose()
    }

    /// The order of the workspace whose shop order is `shop_order_id`.
    pub async fn order_by_shop_order(
        &self,
        ws: WorkspaceId,
        shop_order_id: i64,
    ) -> Result<Option<StoredOrder>, StorageError> {
        const SQL: &str = select_orders_where!("workspace_id = $1 AND shop_order_id = $2");
        let row = on_reader!(self, |p| sqlx::query_as::<_, OrderRow>(SQL)
            .bind(ws.0)
            .bind(shop_order_id)
            .fetch_optional(p)
            .await)?;
        row.map(StoredOrder::try_from).transpose()
    }

    /// The channel's orders that something is left to do for, in id order after `after`.
    pub async fn open_orders(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        after: Option<OrderId>,
        limit: i64,
    ) -> Result<Vec<StoredOrder>, StorageError> {
        const SQL: &str = concat!(
            select_orders_where!(
                "workspace_id = $1 AND channel_id = $2 AND finished_at_ms IS NULL AND id > $3"
            ),
            " ORDER BY id LIMIT $4"
        );
        let after = after.map_or(Uuid::nil(), |id| id.0);
        let rows = on_reader!(self, |p| sqlx::query_as::<_, OrderRow>(SQL)
            .bind(ws.0)
            .bind(channel.0)
            .bind(after)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(StoredOrder::try_from).collect()
    }

    /// The channel's open orders that the flow still owes something without the seller: no
    /// shop order yet, or a step reserved and not done. Each poll takes them a step again, so
    /// an order whose job ran out of attempts (a store down for hours) is never left behind.
    pub async fn orders_to_resume(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> Result<Vec<OrderId>, StorageError> {
        const SQL: &str = "SELECT o.id FROM orders o \
             WHERE o.workspace_id = $1 AND o.channel_id = $2 AND o.finished_at_ms IS NULL \
               AND o.attention IS NULL \
               AND (o.shop_order_id IS NULL OR EXISTS (SELECT 1 FROM order_steps s \
                    WHERE s.order_id = o.id AND s.done_at_ms IS NULL)) \
             ORDER BY o.id";
        let ids: Vec<Uuid> = on_reader!(self, |p| sqlx::query_scalar(SQL)
            .bind(ws.0)
            .bind(channel.0)
            .fetch_all(p)
            .await)?;
        Ok(ids.into_iter().map(OrderId).collect())
    }

    /// The stock held per SKU by the workspace's orders accepted but not yet in the shop, the
    /// order `except` aside: what an acceptance is decided on.
    pub async fn held_stock(
        &self,
        ws: WorkspaceId,
        except: Option<OrderId>,
    ) -> Result<BTreeMap<String, i64>, StorageError> {
        let except = except.map_or(Uuid::nil(), |id| id.0);
        const SQL: &str = "SELECT sku, CAST(SUM(quantity) AS BIGINT) FROM order_holds \
             WHERE workspace_id = $1 AND order_id <> $2 AND pending = FALSE GROUP BY sku";
        let rows: Vec<(String, i64)> = on_reader!(self, |p| sqlx::query_as(SQL)
            .bind(ws.0)
            .bind(except)
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().collect())
    }

    /// The stock held per SKU by every order not yet in the shop, accepted or waiting for its
    /// acceptance ([`Storage::hold_pending`]): what no channel may sell.
    pub async fn stock_off_sale(
        &self,
        ws: WorkspaceId,
    ) -> Result<BTreeMap<String, i64>, StorageError> {
        const SQL: &str = "SELECT sku, CAST(SUM(quantity) AS BIGINT) FROM order_holds \
             WHERE workspace_id = $1 GROUP BY sku";
        let rows: Vec<(String, i64)> =
            on_reader!(self, |p| sqlx::query_as(SQL).bind(ws.0).fetch_all(p).await)?;
        Ok(rows.into_iter().collect())
    }

    /// Records what an order waiting for its acceptance would take, as pending holds, unless it
    /// holds something already: the channels stop offering those units until the order is
    /// decided, while other orders' acceptances ignore them. Returns whether a hold was added
    /// (its SKUs then count as changed for the catalog's delta exports).
    pub async fn hold_pending(
        &self,
        ws: WorkspaceId,
        order: OrderId,
        holds: &[(String, i64)],
    ) -> Result<bool, StorageError> {
        const ANY: &str =
            "SELECT COUNT(*) FROM order_holds WHERE workspace_id = $1 AND order_id = $2";
        const INSERT: &str = "INSERT INTO order_holds (workspace_id, order_id, sku, quantity, pending) \
             VALUES ($1, $2, $3, $4, TRUE) ON CONFLICT (order_id, sku) DO NOTHING";
        if holds.is_empty() {
            return Ok(false);
        }
        Ok(in_transaction!(self, |tx| {
            let held: i64 = sqlx::query_scalar(ANY)
                .bind(ws.0)
                .bind(order.0)
                .fetch_one(&mut *tx)
                .await?;
            let mut added = Vec::new();
            if held == 0 {
                for (sku, quantity) in holds {
                    sqlx::query(INSERT)
                        .bind(ws.0)
                        .bind(order.0)
                        .bind(sku.as_str())
                        .bind(*quantity)
                        .execute(&mut *tx)
                        .await?;
                    added.push(sku.clone());
                }
            }
            touch_catalog_items!(tx, ws, &added);
            !added.is_empty()
        }))
    }

    /// Per SKU, the earliest reservation of `step` among the orders that hold stock and whose
    /// `step` is reserved and not done: for the shop order, orders the shop may already count
    /// (its answer was lost) while their hold still counts them too.
    pub async fn holds_in_doubt(
        &self,
        ws: WorkspaceId,
        step: &str,
    ) -> Result<BTreeMap<String, i64>, StorageError> {
        const SQL: &str = "SELECT h.sku, MIN(s.reserved_at_ms) FROM order_holds h \
             JOIN order_steps s ON s.order_id = h.order_id AND s.workspace_id = h.workspace_id \
             WHERE h.workspace_id = $1 AND s.step = $2 AND s.done_at_ms IS NULL GROUP BY h.sku";
        let rows: Vec<(String, i64)> = on_reader!(self, |p| sqlx::query_as(SQL)
            .bind(ws.0)
            .bind(step)
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().collect())
    }

    /// Records what an order accepted elsewhere (Mirakl's back office) holds, unless its hold
    /// is recorded already (its pending holds, if any, give way to these); a no-op for an order
    /// that holds nothing. Returns whether the holds changed: its SKUs then count as changed for the catalog's delta exports, which send
    /// the shop's stock less what orders hold.
    pub async fn hold_stock(
        &self,
        ws: WorkspaceId,
        order: OrderId,
        holds: &[(String, i64)],
    ) -> Result<bool, StorageError> {
        if holds.is_empty() {
            return Ok(false);
        }
        Ok(in_transaction!(self, |tx| {
            let mut changed = release_pending_holds!(tx, ws, order);
            changed.extend(insert_holds!(tx, ws, order, holds));
            touch_catalog_items!(tx, ws, &changed);
            !changed.is_empty()
        }))
    }

    /// The order holds no stock any more (its acceptance was not made after all). Returns
    /// whether it held any: its SKUs then count as changed for the catalog's delta exports.
    pub async fn release_stock(
        &self,
        ws: WorkspaceId,
        order: OrderId,
    ) -> Result<bool, StorageError> {
        Ok(in_transaction!(self, |tx| {
            let released = release_holds!(tx, ws, order);
            touch_catalog_items!(tx, ws, &released);
            !released.is_empty()
        }))
    }

    /// The workspace's acceptance sequence: bumped by each [`Storage::reserve_acceptance`].
    pub async fn acceptance_seq(&self, ws: WorkspaceId) -> Result<i64, StorageError> {
        const SQL: &str = "SELECT seq FROM order_decisions WHERE workspace_id = $1";
        let seq: Option<i64> = on_reader!(self, |p| sqlx::query_scalar(SQL)
            .bind(ws.0)
            .fetch_optional(p)
            .await)?;
        Ok(seq.unwrap_or(0))
    }

    /// Reserves the order's acceptance `step` with its decision (`detail`), in one transaction
    /// with a bump of the workspace's acceptance sequence. With `seen_seq`, only if the sequence
    /// is still what the decision was made on: `None` when another acceptance was reserved
    /// since (decide again, on the stock that one holds). A step reserved before is reported as
    /// by [`Storage::reserve_order_step`] (the bump is harmless: it only makes a racing
    /// decision look again). `holds` (SKU, quantity accepted) are recorded with it, until the
    /// shop order exists or the order ends.
    #[allow(clippy::too_many_arguments)]
    pub async fn reserve_acceptance(
        &self,
        ws: WorkspaceId,
        order: OrderId,
        step: &str,
        detail: &str,
        holds: &[(String, i64)],
        seen_seq: Option<i64>,
        now_ms: i64,
    ) -> Result<Option<StepReservation>, StorageError> {
        const BUMP: &str = "INSERT INTO order_decisions (workspace_id, seq) VALUES ($1, 1) \
             ON CONFLICT (workspace_id) DO UPDATE SET seq = order_decisions.seq + 1 \
             WHERE $2 IS NULL OR order_decisions.seq = $2";
        const INSERT: &str = "INSERT INTO order_steps \
             (workspace_id, order_id, step, reserved_at_ms, detail) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (order_id, step) DO NOTHING";
        let reserved = in_transaction!(self, |tx| {
            let bumped = sqlx::query(BUMP)
                .bind(ws.0)
                .bind(seen_seq)
                .execute(&mut *tx)
                .await
                .map_err(StorageError::on_write("order_decisions_pkey"))?
                .rows_affected();
            // (A workspace's first bump inserts 1: there was nothing to have seen but 0.)
            if bumped == 0 {
                return Ok(None);
            }
            let inserted = sqlx::query(INSERT)
                .bind(ws.0)
                .bind(order.0)
                .bind(step)
                .bind(now_ms)
                .bind(detail)
                .execute(&mut *tx)
                .await
                .map_err(StorageError::on_write("order_steps_pkey"))?
                .rows_affected();
            if inserted > 0 {
                let mut changed = release_pending_holds!(tx, ws, order);
                changed.extend(insert_holds!(tx, ws, order, holds));
                touch_catalog_items!(tx, ws, &changed);
            }
            inserted > 0
        });
        if reserved {
            return Ok(Some(StepReservation::Fresh));
        }
        self.reserve_order_step(ws, order, step, None, now_ms)
            .await
            .map(Some)
    }

    /// Records the shop order made for the order. `NotFound` if it is not in `ws`.
    pub async fn set_shop_order(
        &self,
        ws: WorkspaceId,
        id: OrderId,
        shop_order_id: i64,
        number: &str,
        status: &str,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE orders SET shop_order_id = $3, shop_order_number = $4, \
             shop_status = $5, updated_at_ms = $6 WHERE workspace_id = $1 AND id = $2";
        // The shop's stock counts the order from now on: it holds nothing more.
        const RELEASE: &str = "DELETE FROM order_holds WHERE workspace_id = $1 AND order_id = $2";
        let rows = in_transaction!(self, |tx| {
            let rows = sqlx::query(SQL)
                .bind(ws.0)
                .bind(id.0)
                .bind(shop_order_id)
                .bind(number)
                .bind(status)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(RELEASE)
                .bind(ws.0)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            rows
        });
        found(rows)
    }

    /// Records the shop order's status as the shop last answered it.
    pub async fn set_shop_status(
        &self,
        ws: WorkspaceId,
        id: OrderId,
        status: &str,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE orders SET shop_status = $3, updated_at_ms = $4 \
             WHERE workspace_id = $1 AND id = $2";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(id.0)
            .bind(status)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|d| d.rows_affected()))?;
        found(rows)
    }

    /// Says why the order waits for the seller, or (`None`) that it does not.
    pub async fn set_order_attention(
        &self,
        ws: WorkspaceId,
        id: OrderId,
        attention: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE orders SET attention = $3, updated_at_ms = $4 \
             WHERE workspace_id = $1 AND id = $2";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(id.0)
            .bind(attention)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|d| d.rows_affected()))?;
        found(rows)
    }

    /// Nothing is left to do for the order (until Mirakl changes its state). Returns whether
    /// it still held stock, now released: its SKUs then count as changed for the catalog's
    /// delta exports. `NotFound` if the order is not in `ws`.
    pub async fn finish_order(
        &self,
        ws: WorkspaceId,
        id: OrderId,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        const SQL: &str = "UPDATE orders SET finished_at_ms = $3, updated_at_ms = $3 \
             WHERE workspace_id = $1 AND id = $2";
        let (rows, released) = in_transaction!(self, |tx| {
            let rows = sqlx::query(SQL)
                .bind(ws.0)
                .bind(id.0)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let released = release_holds!(tx, ws, id);
            touch_catalog_items!(tx, ws, &released);
            (rows, !released.is_empty())
        });
        found(rows)?;
        Ok(released)
    }

    // ----- steps ---------------------------------------------------------------------------

    /// Reserves the order's `step` (with what it is about to send, `detail`), unless it was
    /// reserved before: then says whether it is done or in doubt. `NotFound` if the order is
    /// not in `ws`.
    pub async fn reserve_order_step(
        &self,
        ws: WorkspaceId,
        order: OrderId,
        step: &str,
        detail: Option<&str>,
        now_ms: i64,
    ) -> Result<StepReservation, StorageError> {
        const INSERT: &str = "INSERT INTO order_steps \
             (workspace_id, order_id, step, reserved_at_ms, detail) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (order_id, step) DO NOTHING";
        let inserted = on_writer!(self, |p| sqlx::query(INSERT)
            .bind(ws.0)
            .bind(order.0)
            .bind(step)
            .bind(now_ms)
            .bind(detail)
            .execute(p)
            .await
            .map(|d| d.rows_affected()))
        .map_err(StorageError::on_write("order_steps_pkey"))?;
        if inserted > 0 {
            return Ok(StepReservation::Fresh);
        }
        let stored = self
            .order_step(ws, order, step)
            .await?
            .ok_or(StorageError::NotFound)?;
        Ok(if stored.done_at_ms.is_some() {
            StepReservation::Done(stored)
        } else {
            StepReservation::InDoubt(stored)
        })
    }

    pub async fn order_step(
        &self,
        ws: WorkspaceId,
        order: OrderId,
        step: &str,
    ) -> Result<Option<OrderStep>, StorageError> {
        const SQL: &str = "SELECT step, reserved_at_ms, done_at_ms, detail, error FROM order_steps \
             WHERE workspace_id = $1 AND order_id = $2 AND step = $3";
        let row = on_reader!(self, |p| sqlx::query_as::<_, StepRow>(SQL)
            .bind(ws.0)
            .bind(order.0)
            .bind(step)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(OrderStep::from))
    }

    /// Every step of the order, in the order they were reserved.
    pub async fn order_steps(
        &self,
        ws: WorkspaceId,
        order: OrderId,
    ) -> Result<Vec<OrderStep>, StorageError> {
        const SQL: &str = "SELECT step, reserved_at_ms, done_at_ms, detail, error FROM order_steps \
             WHERE workspace_id = $1 AND order_id = $2 ORDER BY reserved_at_ms, step";
        let rows = on_reader!(self, |p| sqlx::query_as::<_, StepRow>(SQL)
            .bind(ws.0)
            .bind(order.0)
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(OrderStep::from).collect())
    }

    /// The step is done; `detail`, when given, replaces what was recorded with it.
    pub async fn finish_order_step(
        &self,
        ws: WorkspaceId,
        order: OrderId,
        step: &str,
        detail: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE order_steps SET done_at_ms = $4, error = NULL, \
             detail = COALESCE($5, detail) \
             WHERE workspace_id = $1 AND order_id = $2 AND step = $3";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(order.0)
            .bind(step)
            .bind(now_ms)
            .bind(detail)
            .execute(p)
            .await
            .map(|d| d.rows_affected()))?;
        found(rows)
    }

    /// Records what went wrong with a reserved step (it stays reserved: in doubt) and what
    /// it holds now (`detail`, e.g. an action id), when given.
    pub async fn note_order_step(
        &self,
        ws: WorkspaceId,
        order: OrderId,
        step: &str,
        error: Option<&str>,
        detail: Option<&str>,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE order_steps SET error = $4, detail = COALESCE($5, detail) \
             WHERE workspace_id = $1 AND order_id = $2 AND step = $3";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(order.0)
            .bind(step)
            .bind(error)
            .bind(detail)
            .execute(p)
            .await
            .map(|d| d.rows_affected()))?;
        found(rows)
    }

    /// Forgets a reservation known not to have taken effect (the other side said so), so the
    /// step can be attempted afresh.
    pub async fn release_order_step(
        &self,
        ws: WorkspaceId,
        order: OrderId,
        step: &str,
    ) -> Result<(), StorageError> {
        const SQL: &str = "DELETE FROM order_steps \
             WHERE workspace_id = $1 AND order_id = $2 AND step = $3 AND done_at_ms IS NULL";
        on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(order.0)
            .bind(step)
            .execute(p)
            .await
            .map(|d| d.rows_affected()))?;
        Ok(())
    }

    // ----- timeline ------------------------------------------------------------------------

    /// Adds a line to the order's timeline.
    pub async fn add_order_event(
        &self,
        ws: WorkspaceId,
        order: OrderId,
        message: &str,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "INSERT INTO order_events (id, workspace_id, order_id, at_ms, message) \
             VALUES ($1, $2, $3, $4, $5)";
        on_writer!(self, |p| sqlx::query(SQL)
            .bind(Uuid::now_v7())
            .bind(ws.0)
            .bind(order.0)
            .bind(now_ms)
            .bind(message)
            .execute(p)
            .await
            .map(|d| d.rows_affected()))
        .map_err(StorageError::on_write("order_events_pkey"))?;
        Ok(())
    }

    /// The order's timeline, oldest first: `(at_ms, message)`.
    pub async fn order_events(
        &self,
        ws: WorkspaceId,
        order: OrderId,
    ) -> Result<Vec<(i64, String)>, StorageError> {
        const SQL: &str = "SELECT at_ms, message FROM order_events \
             WHERE workspace_id = $1 AND order_id = $2 ORDER BY at_ms, id";
        Ok(on_reader!(self, |p| sqlx::query_as::<_, (i64, String)>(
            SQL
        )
        .bind(ws.0)
        .bind(order.0)
        .fetch_all(p)
        .await)?)
    }

    // ----- pages ---------------------------------------------------------------------------

    /// The orders a page lists, newest first.
    pub async fn orders_page(
        &self,
        ws: WorkspaceId,
        filter: &OrdersFilter,
    ) -> Result<Vec<StoredOrder>, StorageError> {
        // Each filter is on when its parameter is set; one statement for every combination.
        const SQL: &str = concat!(
            select_orders_where!(
                "workspace_id = $1 \
                 AND ($2 IS NULL OR channel_id = $2) \
                 AND ($3 IS NULL OR state = $3) \
                 AND ($4 = FALSE OR attention IS NOT NULL) \
                 AND ($5 IS NULL OR LOWER(mirakl_order_id) LIKE $5 ESCAPE '\\' \
                      OR shop_order_number = $6) \
                 AND ($7 IS NULL OR mirakl_created_at_ms < $7 \
                      OR (mirakl_created_at_ms = $7 AND id < $8)) \
                 AND ($10 IS NULL \
                      OR LENGTH(REPLACE($10, ',' || state || ',', '')) < LENGTH($10))"
            ),
            " ORDER BY mirakl_created_at_ms DESC, id DESC LIMIT $9"
        );
        let search = filter.search.as_deref().map(str::trim);
        // Part of Mirakl's id, whatever its case (`Order_00001-A` has an underscore, which
        // LIKE would read as a wildcard unless escaped).
        let like = search.map(crate::products_view::contains_pattern);
        // `,A,B,`: a state is one of them when taking `,state,` out changes the list. Exact
        // and case-sensitive on both engines, for any number of states, in one statement.
        let states = (!filter.states.is_empty()).then(|| format!(",{},", filter.states.join(",")));
        let (before_ms, before_id) = match filter.before {
            Some((ms, id)) => (Some(ms), id.0),
            None => (None, Uuid::nil()),
        };
        let rows = on_reader!(self, |p| sqlx::query_as::<_, OrderRow>(SQL)
            .bind(ws.0)
            .bind(filter.channel.map(|c| c.0))
            .bind(filter.state.as_deref())
            .bind(filter.attention_only)
            .bind(like.as_deref())
            .bind(search)
            .bind(before_ms)
            .bind(before_id)
            .bind(filter.limit)
            .bind(states.as_deref())
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(StoredOrder::try_from).collect()
    }

    pub async fn order_counts(&self, ws: WorkspaceId) -> Result<OrderCounts, StorageError> {
        const SQL: &str = "SELECT COUNT(*), \
             COUNT(CASE WHEN finished_at_ms IS NULL THEN 1 END), \
             COUNT(attention), \
             COUNT(CASE WHEN finished_at_ms IS NULL AND shop_order_id IS NULL THEN 1 END) \
             FROM orders WHERE workspace_id = $1";
        let (total, open, attention, not_in_shop) =
            on_reader!(self, |p| sqlx::query_as::<_, (i64, i64, i64, i64)>(SQL)
                .bind(ws.0)
                .fetch_one(p)
                .await)?;
        Ok(OrderCounts {
            total,
            open,
            attention,
            not_in_shop,
        })
    }

    // ----- settings ------------------------------------------------------------------------

    /// The workspace's order settings, or `None` until the seller saves them.
    pub async fn order_settings(
        &self,
        ws: WorkspaceId,
    ) -> Result<Option<OrderSettings>, StorageError> {
        const SQL: &str = "SELECT data FROM order_settings WHERE workspace_id = $1";
        let json: Option<String> = on_reader!(self, |p| sqlx::query_scalar(SQL)
            .bind(ws.0)
            .fetch_optional(p)
            .await)?;
        json.map(|json| from_json("order_settings", &json))
            .transpose()
    }

    /// Saves the workspace's order settings, replacing earlier ones.
    pub async fn save_order_settings(
        &self,
        ws: WorkspaceId,
        settings: &OrderSettings,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "INSERT INTO order_settings (workspace_id, data, updated_at_ms) \
             VALUES ($1, $2, $3) ON CONFLICT (workspace_id) DO UPDATE SET \
               data = excluded.data, updated_at_ms = excluded.updated_at_ms";
        let json = to_json("order_settings", settings)?;
        on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(&json)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|d| d.rows_affected()))
        .map_err(StorageError::on_write("order_settings_pkey"))?;
        Ok(())
    }
}

impl Storage {
    /// How many of the workspace's orders are in each Mirakl state, sorted by state (byte
    /// order): what the Orders page's stages and the dashboard's counts are made of (a stage
    /// is several states).
    pub async fn order_state_counts(
        &self,
        ws: WorkspaceId,
    ) -> Result<Vec<(String, i64)>, StorageError> {
        const SQL: &str = "SELECT state, COUNT(*) FROM orders WHERE workspace_id = $1 \
             GROUP BY state";
        let mut counts = on_reader!(self, |p| sqlx::query_as::<_, (String, i64)>(SQL)
            .bind(ws.0)
            .fetch_all(p)
            .await)?;
        // Sorted here: the engines' collations order text differently.
        counts.sort();
        Ok(counts)
    }
}

/// Records an order's holds (`&[(String, i64)]`) in the transaction `tx`, leaving any it has
/// already, and yields the SKUs of those added. A macro, as the transaction's type differs by
/// engine.
macro_rules! insert_holds {
    ($tx:expr, $ws:expr, $order:expr, $holds:expr) => {{
        let mut added: Vec<String> = Vec::new();
        for (sku, quantity) in $holds {
            let inserted = sqlx::query(
                "INSERT INTO order_holds (workspace_id, order_id, sku, quantity) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (order_id, sku) DO NOTHING",
            )
            .bind($ws.0)
            .bind($order.0)
            .bind(sku.as_str())
            .bind(*quantity)
            .execute(&mut *$tx)
            .await?
            .rows_affected();
            if inserted > 0 {
                added.push(sku.clone());
            }
        }
        added
    }};
}
use insert_holds;

/// Deletes an order's holds in the transaction `tx` and yields the SKUs they were on.
macro_rules! release_holds {
    ($tx:expr, $ws:expr, $order:expr) => {{
        let released: Vec<String> = sqlx::query_scalar(
            "DELETE FROM order_holds WHERE workspace_id = $1 AND order_id = $2 RETURNING sku",
        )
        .bind($ws.0)
        .bind($order.0)
        .fetch_all(&mut *$tx)
        .await?;
        released
    }};
}
use release_holds;

/// Deletes an order's pending holds (it is decided now) in the transaction `tx` and yields the
/// SKUs they were on.
macro_rules! release_pending_holds {
    ($tx:expr, $ws:expr, $order:expr) => {{
        let released: Vec<String> = sqlx::query_scalar(
            "DELETE FROM order_holds WHERE workspace_id = $1 AND order_id = $2 AND pending = TRUE \
             RETURNING sku",
        )
        .bind($ws.0)
        .bind($order.0)
        .fetch_all(&mut *$tx)
        .await?;
        released
    }};
}
use release_pending_holds;

/// Stamps the catalog items of these SKUs (`&[String]`) with the workspace's next catalog
/// version in the transaction `tx`, so that the next delta export to each channel looks at
/// them again: what the orders hold of them changed, and with it what a channel may sell.
macro_rules! touch_catalog_items {
    ($tx:expr, $ws:expr, $skus:expr) => {{
        let skus: &[String] = $skus;
        if !skus.is_empty() {
            let version: i64 = sqlx::query_scalar(crate::catalog::NEXT_VERSION)
                .bind($ws.0)
                .fetch_one(&mut *$tx)
                .await
                .map_err(StorageError::on_write("catalog_versions_pkey"))?;
            for sku in skus {
                sqlx::query(
                    "UPDATE catalog_items SET changed_version = $3 \
                     WHERE workspace_id = $1 AND sku = $2",
                )
                .bind($ws.0)
                .bind(sku.as_str())
                .bind(version)
                .execute(&mut *$tx)
                .await?;
            }
        }
    }};
}
use touch_catalog_items;
