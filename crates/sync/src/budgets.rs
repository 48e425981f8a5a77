//! Mirakl's call budgets: each seller API operation has a documented maximum call frequency.
//! The connector asks storage for the next slot before every call (the slots live in the
//! database, so every process shares them) instead of finding out through 429s.

use std::time::Duration;

use domain::{ChannelId, WorkspaceId};
use storage::{BudgetDecision, Storage, now_ms};

/// Histogram: how long calls waited for Mirakl, by `operation` and `cause` (`budget`: the next
/// call slot; `rate_limited`: a 429's Retry-After). Its count is the number of waits.
pub const BUDGET_WAIT: &str = "marketbridge_budget_wait_seconds";

/// A budgeted operation and its documented maximum frequency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// OF01 offer file import: at most once a minute (offers only).
    OfferFile,
    /// OF24 offer upsert: at most once a minute.
    OfferUpsert,
    /// OF02 import status: at most once a minute.
    ImportStatus,
    /// OF03 import error report: at most once a minute.
    ImportErrors,
    /// OF04 list of imports: at most once a minute.
    ImportList,
    /// P41 product import: at most once every 15 minutes.
    ProductImport,
    /// P42 product import status: at most once a minute.
    ProductImportStatus,
    /// OF21 offer list. No frequency is documented; ASSUMPTION: one page per second.
    OfferList,
    /// Connect POST /products: at most once a minute.
    ConnectUpsert,
    /// Connect GET /products: at most once a minute.
    ConnectList,
    /// Connect DELETE /products. Not documented; ASSUMPTION: like the upsert, once a minute.
    ConnectDelete,
    /// OR11 list of orders: at most once a minute (every 5 minutes recommended).
    OrderList,
    /// Connect GET /v2/orders: at most once a minute.
    ConnectOrderList,
}

impl Operation {
    /// The key under which storage keeps this operation's next slot.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OfferFile => "OF01",
            Self::OfferUpsert => "OF24",
            Self::ImportStatus => "OF02",
            Self::ImportErrors => "OF03",
            Self::ImportList => "OF04",
            Self::ProductImport => "P41",
            Self::ProductImportStatus => "P42",
            Self::OfferList => "OF21",
            Self::ConnectUpsert => "connect.products.post",
            Self::ConnectList => "connect.products.get",
            Self::ConnectDelete => "connect.products.delete",
            Self::OrderList => "OR11",
            Self::ConnectOrderList => "connect.orders.get",
        }
    }

    /// The documented minimum time between two calls.
    pub fn documented_interval(self) -> Duration {
        match self {
            Self::OfferList => Duration::from_secs(1),
            Self::ProductImport => Duration::from_secs(15 * 60),
            _ => Duration::from_secs(60),
        }
    }
}

/// How strictly the budgets are applied: 1.0 is Mirakl's documented frequencies (production),
/// 0.0 turns them off (tests against a sandbox whose budgets are off), anything between scales
/// them (benchmarks, tests).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budgets {
    pub scale: f64,
    /// Added to every scaled interval when budgets are on, as a share of it, but never less
    /// than `margin_floor`. ASSUMPTION: Mirakl does not say how it measures the window (when
    /// the request arrives, when it is served, on which clock), so slots are spaced a little
    /// wider than documented: the time between taking a slot and the request reaching Mirakl
    /// varies from call to call, and that jitter must not make two calls arrive closer than
    /// the documented window.
    pub margin_ratio: f64,
    /// The smallest margin.
    pub margin_floor: Duration,
}

impl Default for Budgets {
    /// Mirakl's documented frequencies, with the margin.
    fn default() -> Self {
        Self::scaled(1.0)
    }
}

impl Budgets {
    /// 2% of the interval, at least 200 ms: well above the jitter seen between taking a slot
    /// and the request being served, and a cost of 1.2 s on a one-minute budget.
    pub const MARGIN_RATIO: f64 = 0.02;
    pub const MARGIN_FLOOR: Duration = Duration::from_millis(200);

    /// The documented frequencies multiplied by `scale` (0.0 switches budgets off), with the
    /// usual margin.
    pub fn scaled(scale: f64) -> Self {
        Self {
            scale,
            margin_ratio: Self::MARGIN_RATIO,
            margin_floor: Self::MARGIN_FLOOR,
        }
    }

    pub fn off() -> Self {
        Self::scaled(0.0)
    }

    /// The time between two calls of `op`: the documented interval scaled, plus the margin;
    /// 0 when budgets are off.
    pub fn interval_ms(&self, op: Operation) -> i64 {
        if self.scale.is_nan() || self.scale <= 0.0 {
            return 0;
        }
        let scaled = op.documented_interval().as_millis() as f64 * self.scale;
        let margin =
            (scaled * self.margin_ratio.max(0.0)).max(self.margin_floor.as_millis() as f64);
        (scaled + margin).round() as i64
    }
}

/// The call slots of every flow, kept in storage so every process shares them. Cheap to clone.
#[derive(Clone)]
pub struct Slots {
    storage: Storage,
    budgets: Budgets,
}

impl Slots {
    pub fn new(storage: Storage, budgets: Budgets) -> Self {
        Self { storage, budgets }
    }

    pub fn budgets(&self) -> Budgets {
        self.budgets
    }

    /// Takes the next call slot for `op` on the channel, or says when it comes.
    pub async fn take(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        op: Operation,
    ) -> anyhow::Result<Option<i64>> {
        let interval = self.budgets.interval_ms(op);
        if interval == 0 {
            return Ok(None);
        }
        match self
            .storage
            .take_call_budget(ws, channel, op.as_str(), interval, now_ms())
            .await?
        {
            BudgetDecision::Granted => Ok(None),
            BudgetDecision::WaitUntil(at) => {
                record_wait(op, "budget", at - now_ms());
                Ok(Some(at))
            }
        }
    }

    /// Mirakl answered 429: no call of this kind before Retry-After (one budget interval, or
    /// one second, when it names none). Returns when to come back.
    pub async fn defer(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        op: Operation,
        retry_after: Option<Duration>,
    ) -> anyhow::Result<i64> {
        let wait = retry_after
            .map(|d| d.as_millis() as i64)
            .unwrap_or_else(|| self.budgets.interval_ms(op).max(1000));
        let until = now_ms() + wait;
        record_wait(op, "rate_limited", wait);
        self.storage
            .defer_call_budget(ws, channel, op.as_str(), until)
            .await?;
        tracing::info!(%ws, %channel, op = op.as_str(), wait_ms = wait, "rate limited by Mirakl; waiting");
        Ok(until)
    }
}

fn record_wait(op: Operation, cause: &'static str, wait_ms: i64) {
    metrics::histogram!(BUDGET_WAIT, "operation" => op.as_str(), "cause" => cause)
        .record(wait_ms.max(0) as f64 / 1000.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_scale_the_documented_frequencies() {
        // A minute plus 2%.
        assert_eq!(Budgets::default().interval_ms(Operation::OfferFile), 61_200);
        assert_eq!(
            Budgets::default().interval_ms(Operation::ProductImport),
            918_000
        );
        // 2% of a second is under the floor of 200 ms.
        assert_eq!(Budgets::default().interval_ms(Operation::OfferList), 1_200);
        assert_eq!(
            Budgets::scaled(0.001).interval_ms(Operation::OfferUpsert),
            60 + 200
        );
        assert_eq!(
            Budgets::scaled(0.01).interval_ms(Operation::ConnectUpsert),
            600 + 200
        );
        assert_eq!(Budgets::off().interval_ms(Operation::ConnectUpsert), 0);
        let exact = Budgets {
            margin_ratio: 0.0,
            margin_floor: Duration::ZERO,
            ..Budgets::default()
        };
        assert_eq!(exact.interval_ms(Operation::OfferFile), 60_000);
    }
}
