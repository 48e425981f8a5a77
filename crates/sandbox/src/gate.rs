//! What may turn a call to an emulated API away before it is served: the call budgets Mirakl
//! publishes ("Call Frequency", answered with 429 and `Retry-After` when exceeded) and the faults
//! a resilience test asks for: a share of calls answered 500 or 429, and a share whose
//! connection fails, before the call is applied (a timeout) or after (a lost answer).
//!
//! Both are off by default, so flows and tests that do not ask for them never see a refusal.
//! The budgets' clock is real time, multiplied by a scale: 1.0 is the documented budget, 0.001
//! turns a minute into 60 ms, 0.0 switches budgets off. Faults come from a seeded sequence, so a
//! run with the same settings and the same calls fails the same calls.
//!
//! A connection fault is decided while the call is served (`World::admit` for Mirakl,
//! `woo::auth` for WooCommerce) and written into the call's [`FaultSlot`]; the layer around
//! every emulated API ([`connection_faults`]) then carries it out, since only it stands between
//! the handler's answer and the socket.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::entropy::Sequence;

/// The seed every fault sequence starts from: the same calls fail on every run.
const FAULT_SEED: u64 = 0xFA17_5EED;

/// The operations that budgets or faults apply to. A01 is not one of them: see `budget`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Of01,
    Of02,
    Of03,
    Of04,
    Of21,
    Of24,
    Of61,
    H11,
    Pm11,
    Vl11,
    P41,
    P42,
    P44,
    ConnectUpsertProducts,
    ConnectListProducts,
    ConnectDeleteProducts,
    Or11,
    Or21,
    Or23,
    Or24,
    Or28,
    Or29,
    St01,
    Sh21,
    ConnectListOrders,
    ConnectAcceptOrder,
    ConnectShipOrder,
    ConnectCancelOrder,
    ConnectRefundOrder,
    ConnectGetOrderAction,
}

/// At most `calls` calls in any window of `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub calls: usize,
    pub per: Duration,
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

impl Operation {
    pub const ALL: [Operation; 30] = [
        Operation::Of01,
        Operation::Of02,
        Operation::Of03,
        Operation::Of04,
        Operation::Of21,
        Operation::Of24,
        Operation::Of61,
        Operation::H11,
        Operation::Pm11,
        Operation::Vl11,
        Operation::P41,
        Operation::P42,
        Operation::P44,
        Operation::ConnectUpsertProducts,
        Operation::ConnectListProducts,
        Operation::ConnectDeleteProducts,
        Operation::Or11,
        Operation::Or21,
        Operation::Or23,
        Operation::Or24,
        Operation::Or28,
        Operation::Or29,
        Operation::St01,
        Operation::Sh21,
        Operation::ConnectListOrders,
        Operation::ConnectAcceptOrder,
        Operation::ConnectShipOrder,
        Operation::ConnectCancelOrder,
        Operation::ConnectRefundOrder,
        Operation::ConnectGetOrderAction,
    ];

    /// The name its calls are counted under (`Sandbox::call_count`).
    pub fn counter(self) -> &'static str {
        match self {
            Operation::Of01 => "mmp.of01",
            Operation::Of02 => "mmp.of02",
            Operation::Of03 => "mmp.of03",
            Operation::Of04 => "mmp.of04",
            Operation::Of21 => "mmp.of21",
            Operation::Of24 => "mmp.of24",
            Operation::Of61 => "mmp.of61",
            Operation::H11 => "mmp.h11",
            Operation::Pm11 => "mmp.pm11",
            Operation::Vl11 => "mmp.vl11",
            Operation::P41 => "mmp.p41",
            Operation::P42 => "mmp.p42",
            Operation::P44 => "mmp.p44",
            Operation::ConnectUpsertProducts => "connect.products.post",
            Operation::ConnectListProducts => "connect.products.get",
            Operation::ConnectDeleteProducts => "connect.products.delete",
            Operation::Or11 => "mmp.or11",
            Operation::Or21 => "mmp.or21",
            Operation::Or23 => "mmp.or23",
            Operation::Or24 => "mmp.or24",
            Operation::Or28 => "mmp.or28",
            Operation::Or29 => "mmp.or29",
            Operation::St01 => "mmp.st01",
            Operation::Sh21 => "mmp.sh21",
            Operation::ConnectListOrders => "connect.orders.get",
            Operation::ConnectAcceptOrder => "connect.orders.accept",
            Operation::ConnectShipOrder => "connect.orders.shipments",
            Operation::ConnectCancelOrder => "connect.orders.cancel",
            Operation::ConnectRefundOrder => "connect.orders.refund",
            Operation::ConnectGetOrderAction => "connect.orders.actions.get",
        }
    }

    /// The code Mirakl's documentation names it by, for messages.
    pub fn code(self) -> &'static str {
        match self {
            Operation::Of01 => "OF01",
            Operation::Of02 => "OF02",
            Operation::Of03 => "OF03",
            Operation::Of04 => "OF04",
            Operation::Of21 => "OF21",
            Operation::Of24 => "OF24",
            Operation::Of61 => "OF61",
            Operation::H11 => "H11",
            Operation::Pm11 => "PM11",
            Operation::Vl11 => "VL11",
            Operation::P41 => "P41",
            Operation::P42 => "P42",
            Operation::P44 => "P44",
            Operation::ConnectUpsertProducts => "POST /products",
            Operation::ConnectListProducts => "GET /products",
            Operation::ConnectDeleteProducts => "DELETE /products",
            Operation::Or11 => "OR11",
            Operation::Or21 => "OR21",
            Operation::Or23 => "OR23",
            Operation::Or24 => "OR24",
            Operation::Or28 => "OR28",
            Operation::Or29 => "OR29",
            Operation::St01 => "ST01",
            Operation::Sh21 => "SH21",
            Operation::ConnectListOrders => "GET /v2/orders",
            Operation::ConnectAcceptOrder => "PUT /v2/orders/{order_id}/accept",
            Operation::ConnectShipOrder => "POST /v2/orders/{order_id}/shipments",
            Operation::ConnectCancelOrder => "POST /v2/orders/{order_id}/cancel",
            Operation::ConnectRefundOrder => "POST /v2/orders/{order_id}/refund",
            Operation::ConnectGetOrderAction => "GET /v2/orders/actions/{action_id}",
        }
    }

    /// The documented maximum call frequency, per shop (marketplace) or company (Connect).
    ///
    /// A01 ("once per day") is left unbudgeted: a connector checks the account on every
    /// connection and the sandbox's flows do so freely. ASSUMPTION: OF21 documents no maximum
    /// ("on each shop's offers page view"); the sandbox allows 60 a minute. P44 documents "each
    /// time an error report is needed", so it has no budget.
    pub fn budget(self) -> Option<Budget> {
        let budget = |calls, per| Some(Budget { calls, per });
        match self {
            Operation::Of01
            | Operation::Of02
            | Operation::Of03
            | Operation::Of04
            | Operation::Of24
            | Operation::P42
            | Operation::ConnectUpsertProducts
            | Operation::ConnectListProducts
            | Operation::ConnectDeleteProducts
            | Operation::Or11
            | Operation::ConnectListOrders
            | Operation::ConnectGetOrderAction => budget(1, MINUTE),
            Operation::Of21 => budget(60, MINUTE),
            Operation::Of61 | Operation::Sh21 => budget(1, DAY),
            Operation::H11 | Operation::Pm11 | Operation::Vl11 => budget(1, HOUR),
            Operation::P41 => budget(1, 15 * MINUTE),
            Operation::P44
            | Operation::Or21
            | Operation::Or23
            | Operation::Or24
            | Operation::Or28
            | Operation::Or29
            | Operation::St01
            | Operation::ConnectAcceptOrder
            | Operation::ConnectShipOrder
            | Operation::ConnectCancelOrder
            | Operation::ConnectRefundOrder => None,
        }
    }

    /// Whether injected faults hit it: the catalog and order calls a connector makes in its
    /// sync loop, not the configuration reads.
    pub fn faultable(self) -> bool {
        !matches!(
            self,
            Operation::Of61 | Operation::H11 | Operation::Pm11 | Operation::Vl11 | Operation::Sh21
        )
    }
}

/// Shares of the faultable Mirakl calls answered with an error instead of being served: the
/// faults `set_faults` took before connections could fail, still accepted there (it becomes a
/// [`FaultRates`] with no connection fault).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Faults {
    /// Fraction (0.0–1.0) of calls answered 500.
    #[serde(default)]
    pub error_rate: f64,
    /// Fraction (0.0–1.0) of calls answered 429 with `Retry-After: 1`.
    #[serde(default)]
    pub rate_limit_rate: f64,
}

impl Faults {
    /// Why these settings cannot be used, if they cannot.
    pub fn problem(&self) -> Option<String> {
        FaultRates::from(*self).problem()
    }
}

/// Every injected fault, as shares of the calls it hits. The answered faults (500, 429) hit the
/// faultable Mirakl calls (marketplaces and Connect); the connection faults hit those and every
/// WooCommerce REST call. Each call draws once, so the four shares add up to 1 at most.
///
/// A connection fault closes the socket without a byte of answer, so it shows only over a real
/// connection (`axum::serve`), not through `tower::ServiceExt::oneshot`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultRates {
    /// Fraction (0.0–1.0) of calls answered 500.
    #[serde(default)]
    pub error_rate: f64,
    /// Fraction (0.0–1.0) of calls answered 429 with `Retry-After: 1`.
    #[serde(default)]
    pub rate_limit_rate: f64,
    /// Fraction (0.0–1.0) of calls not applied and never answered: the connection stays open
    /// until the client gives up (at most [`TIMEOUT_HOLD`], then it is closed).
    #[serde(default)]
    pub timeout_rate: f64,
    /// Fraction (0.0–1.0) of calls applied, then closed without an answer: a state-changing
    /// call retried after one is applied twice unless the client guards against it.
    #[serde(default)]
    pub lost_answer_rate: f64,
}

impl From<Faults> for FaultRates {
    fn from(faults: Faults) -> Self {
        Self {
            error_rate: faults.error_rate,
            rate_limit_rate: faults.rate_limit_rate,
            ..Self::default()
        }
    }
}

impl FaultRates {
    /// Why these settings cannot be used, if they cannot.
    pub fn problem(&self) -> Option<String> {
        let valid = |rate: f64| rate.is_finite() && (0.0..=1.0).contains(&rate);
        let rates = [
            self.error_rate,
            self.rate_limit_rate,
            self.timeout_rate,
            self.lost_answer_rate,
        ];
        if !rates.into_iter().all(valid) {
            return Some(format!(
                "error_rate, rate_limit_rate, timeout_rate and lost_answer_rate are fractions \
                 between 0 and 1; got {}, {}, {} and {}.",
                self.error_rate, self.rate_limit_rate, self.timeout_rate, self.lost_answer_rate
            ));
        }
        if rates.into_iter().sum::<f64>() > 1.0 {
            return Some(
                "error_rate, rate_limit_rate, timeout_rate and lost_answer_rate add up to more \
                 than 1."
                    .to_owned(),
            );
        }
        None
    }

    fn any(&self) -> bool {
        self.error_rate > 0.0 || self.rate_limit_rate > 0.0 || self.any_connection()
    }

    fn any_connection(&self) -> bool {
        self.timeout_rate > 0.0 || self.lost_answer_rate > 0.0
    }

    /// The connection fault a draw in `[0, 1)` lands on, past the answered faults' shares.
    fn connection_fault(&self, draw: f64) -> Option<ConnectionFault> {
        let draw = draw - self.error_rate - self.rate_limit_rate;
        if (0.0..self.timeout_rate).contains(&draw) {
            Some(ConnectionFault::Timeout)
        } else if (0.0..self.timeout_rate + self.lost_answer_rate).contains(&draw) {
            Some(ConnectionFault::LostAnswer)
        } else {
            None
        }
    }
}

/// Why a budget scale cannot be used, if it cannot.
pub fn scale_problem(scale: f64) -> Option<String> {
    (!(scale.is_finite() && scale >= 0.0)).then(|| {
        format!("The budget scale is a number of 0 or more (1 = documented, 0 = off); got {scale}.")
    })
}

/// Why a call was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The caller spent its budget; it may call again after this many whole seconds.
    OverBudget {
        retry_after: u64,
        operation: Operation,
    },
    /// An injected 500.
    InjectedError,
    /// An injected 429 (`Retry-After: 1`).
    InjectedRateLimit,
    /// An injected timeout: the call is not applied and its answer is never sent (see
    /// [`connection_faults`]).
    TimedOut,
}

/// What happens to an admitted call's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Sent,
    /// The call is applied, then its connection closed without the answer.
    Lost,
}

pub struct Gate {
    scale: f64,
    /// Times of the calls admitted per (caller, operation) still inside their window.
    admitted: HashMap<(String, Operation), VecDeque<Instant>>,
    faults: FaultRates,
    sequence: Sequence,
    /// How long a timed-out call holds its connection ([`TIMEOUT_HOLD`] unless a test or a
    /// benchmark whose client gives up sooner shortens it).
    pub timeout_hold: Duration,
}

impl Gate {
    pub fn new(scale: f64) -> Self {
        Self {
            scale,
            admitted: HashMap::new(),
            faults: FaultRates::default(),
            sequence: Sequence::new(FAULT_SEED),
            timeout_hold: TIMEOUT_HOLD,
        }
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }

    pub fn faults(&self) -> FaultRates {
        self.faults
    }

    /// Changes the scale; calls already admitted keep counting against the new windows.
    pub fn set_scale(&mut self, scale: f64) {
        self.scale = scale;
    }

    /// New fault settings, and the fault sequence back at its start.
    pub fn set_faults(&mut self, faults: FaultRates) {
        self.faults = faults;
        self.sequence = Sequence::new(FAULT_SEED);
    }

    /// Serves the call, or says why not. `caller` is the shop or company the credential acts
    /// for; an admitted call is charged to its budget even when an injected fault then fails it.
    pub fn admit(&mut self, caller: &str, operation: Operation) -> Result<Answer, Refusal> {
        if let Some(budget) = operation.budget()
            && self.scale > 0.0
        {
            let window = Duration::try_from_secs_f64(budget.per.as_secs_f64() * self.scale)
                .unwrap_or(Duration::MAX);
            let now = Instant::now();
            let calls = self
                .admitted
                .entry((caller.to_owned(), operation))
                .or_default();
            while calls
                .front()
                .is_some_and(|at| now.duration_since(*at) >= window)
            {
                calls.pop_front();
            }
            if calls.len() >= budget.calls {
                let oldest = calls.front().copied().unwrap_or(now);
                let wait = window.saturating_sub(now.duration_since(oldest));
                return Err(Refusal::OverBudget {
                    retry_after: whole_seconds(wait),
                    operation,
                });
            }
            calls.push_back(now);
        }
        if operation.faultable() && self.faults.any() {
            let draw = self.sequence.fraction();
            if draw < self.faults.error_rate {
                return Err(Refusal::InjectedError);
            }
            if draw < self.faults.error_rate + self.faults.rate_limit_rate {
                return Err(Refusal::InjectedRateLimit);
            }
            match self.faults.connection_fault(draw) {
                Some(ConnectionFault::Timeout) => return Err(Refusal::TimedOut),
                Some(ConnectionFault::LostAnswer) => return Ok(Answer::Lost),
                None => {}
            }
        }
        Ok(Answer::Sent)
    }

    /// The connection fault, if any, of a call that only connection faults hit (WooCommerce
    /// REST); no draw is taken while they are off, so the Mirakl calls' sequence stays as it was.
    pub fn connection_fault(&mut self) -> Option<ConnectionFault> {
        if !self.faults.any_connection() {
            return None;
        }
        let draw = self.sequence.fraction();
        let only_connections = FaultRates {
            error_rate: 0.0,
            rate_limit_rate: 0.0,
            ..self.faults
        };
        only_connections.connection_fault(draw)
    }
}

/// `Retry-After` counts whole seconds; a caller told 0 would call again at once.
fn whole_seconds(wait: Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

impl Refusal {
    /// The `Retry-After` value of a 429, `None` for a 500 (or a timeout, never answered).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Refusal::OverBudget { retry_after, .. } => Some(*retry_after),
            Refusal::InjectedRateLimit => Some(1),
            Refusal::InjectedError | Refusal::TimedOut => None,
        }
    }

    /// What the caller is told.
    pub fn message(&self) -> String {
        match self {
            Refusal::OverBudget {
                retry_after,
                operation,
            } => {
                let budget = operation.budget().map_or(String::new(), |budget| {
                    format!(
                        " ({} call(s) per {} s allowed)",
                        budget.calls,
                        budget.per.as_secs()
                    )
                });
                format!(
                    "Too many requests: the call frequency of {}{budget} is exceeded. Retry \
                     after {retry_after} second(s).",
                    operation.code()
                )
            }
            Refusal::InjectedRateLimit => "Too many requests. Retry after 1 second(s).".to_owned(),
            Refusal::InjectedError => "An unexpected error occurred; try again later.".to_owned(),
            Refusal::TimedOut => "The request timed out.".to_owned(),
        }
    }
}

/// How long a timed-out call holds its connection before closing it: longer than a client's
/// usual timeout (30 s), so the client gives up first, yet bounded so nothing hangs forever.
pub const TIMEOUT_HOLD: Duration = Duration::from_secs(35);

/// How a call's connection fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionFault {
    /// Not applied; the connection is held open, then closed without an answer.
    Timeout,
    /// Applied; the connection is closed without an answer.
    LostAnswer,
}

/// Where the serving of one call leaves the connection fault it drew, for
/// [`connection_faults`] to carry out. A handler takes it as an extractor; outside that layer
/// (a unit test) it is a slot nobody reads.
#[derive(Debug, Clone, Default)]
pub struct FaultSlot(Arc<Mutex<Option<ConnectionFault>>>);

impl FaultSlot {
    pub fn set(&self, fault: ConnectionFault) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(fault);
    }

    fn take(&self) -> Option<ConnectionFault> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for FaultSlot {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(parts
            .extensions
            .get::<FaultSlot>()
            .cloned()
            .unwrap_or_default())
    }
}

/// The layer around the emulated APIs: gives every call a [`FaultSlot`], and carries out the
/// connection fault its serving drew. A timed-out call (not applied) holds its connection for
/// [`TIMEOUT_HOLD`]; then, as for a lost answer (applied), the connection is closed without a
/// byte of answer.
pub async fn connection_faults(
    State(sandbox): State<crate::Sandbox>,
    mut request: Request,
    next: Next,
) -> Response {
    let slot = FaultSlot::default();
    request.extensions_mut().insert(slot.clone());
    let response = next.run(request).await;
    match slot.take() {
        None => response,
        Some(fault) => {
            drop(response);
            if fault == ConnectionFault::Timeout {
                let hold = sandbox.world().gate.timeout_hold;
                tokio::time::sleep(hold).await;
            }
            close_without_answer()
        }
    }
}

/// Ends the connection's task, so hyper drops the socket before writing anything. axum's
/// handlers cannot fail, and a response, even one whose body fails, may have its head written
/// first; unwinding is the one way to send nothing. `resume_unwind` skips the panic hook, so
/// nothing is printed, and the task's runtime (axum::serve spawns one per connection) catches
/// the unwind. (A build with `panic = "abort"` would abort instead; none of this workspace's
/// profiles asks for it.)
fn close_without_answer() -> ! {
    std::panic::resume_unwind(Box::new(
        "connection closed without an answer (injected fault)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_admits_its_calls_then_refuses_until_the_window_ends() {
        let mut gate = Gate::new(1.0);
        assert_eq!(gate.admit("shop", Operation::Of01), Ok(Answer::Sent));
        let refused = gate.admit("shop", Operation::Of01).unwrap_err();
        assert_eq!(refused.retry_after(), Some(60));
        // Another caller and another operation have budgets of their own.
        assert_eq!(gate.admit("other", Operation::Of01), Ok(Answer::Sent));
        assert_eq!(gate.admit("shop", Operation::Of24), Ok(Answer::Sent));
        for _ in 0..60 {
            assert_eq!(gate.admit("shop", Operation::Of21), Ok(Answer::Sent));
        }
        assert!(gate.admit("shop", Operation::Of21).is_err());
    }

    #[test]
    fn scale_zero_switches_budgets_off() {
        let mut gate = Gate::new(0.0);
        for _ in 0..10 {
            assert_eq!(gate.admit("shop", Operation::Of01), Ok(Answer::Sent));
        }
    }

    #[test]
    fn retry_after_is_whole_seconds_and_never_zero() {
        assert_eq!(whole_seconds(Duration::from_millis(60)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(60)), 60);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }

    #[test]
    fn fault_settings_are_checked() {
        assert!(Faults::default().problem().is_none());
        let too_much = Faults {
            error_rate: 0.7,
            rate_limit_rate: 0.4,
        };
        assert!(too_much.problem().is_some());
        let connections = FaultRates {
            timeout_rate: 0.6,
            lost_answer_rate: 0.5,
            ..FaultRates::default()
        };
        assert!(connections.problem().is_some());
        let negative = FaultRates {
            lost_answer_rate: -0.1,
            ..FaultRates::default()
        };
        assert!(negative.problem().is_some());
        assert!(scale_problem(-1.0).is_some());
        assert!(scale_problem(f64::NAN).is_some());
        assert!(scale_problem(0.001).is_none());
    }

    #[test]
    fn each_draw_lands_on_one_fault_in_the_order_of_the_settings() {
        let rates = FaultRates {
            error_rate: 0.1,
            rate_limit_rate: 0.1,
            timeout_rate: 0.2,
            lost_answer_rate: 0.3,
        };
        assert_eq!(rates.connection_fault(0.15), None, "a 429's share");
        assert_eq!(rates.connection_fault(0.25), Some(ConnectionFault::Timeout));
        assert_eq!(
            rates.connection_fault(0.45),
            Some(ConnectionFault::LostAnswer)
        );
        assert_eq!(rates.connection_fault(0.75), None, "served");
    }

    #[test]
    fn connection_faults_alone_leave_the_answered_faults_sequence_untouched() {
        let mut gate = Gate::new(0.0);
        gate.set_faults(FaultRates::from(Faults {
            error_rate: 0.5,
            rate_limit_rate: 0.0,
        }));
        assert_eq!(gate.connection_fault(), None);
        let first: Vec<_> = (0..20)
            .map(|_| gate.admit("shop", Operation::Of21))
            .collect();
        let mut fresh = Gate::new(0.0);
        fresh.set_faults(FaultRates::from(Faults {
            error_rate: 0.5,
            rate_limit_rate: 0.0,
        }));
        let second: Vec<_> = (0..20)
            .map(|_| fresh.admit("shop", Operation::Of21))
            .collect();
        assert_eq!(first, second);
    }
}
