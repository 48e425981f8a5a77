//! What may turn a call to an emulated API away before it is served: the call budgets Mirakl
//! publishes ("Call Frequency", answered with 429 and `Retry-After` when exceeded) and the faults
//! a resilience test asks for (a share of calls answered 500 or 429).
//!
//! Both are off by default, so flows and tests that do not ask for them never see a refusal.
//! The budgets' clock is real time, multiplied by a scale: 1.0 is the documented budget, 0.001
//! turns a minute into 60 ms, 0.0 switches budgets off. Faults come from a seeded sequence, so a
//! run with the same settings and the same calls fails the same calls.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

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
    pub const ALL: [Operation; 16] = [
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
            | Operation::ConnectDeleteProducts => budget(1, MINUTE),
            Operation::Of21 => budget(60, MINUTE),
            Operation::Of61 => budget(1, DAY),
            Operation::H11 | Operation::Pm11 | Operation::Vl11 => budget(1, HOUR),
            Operation::P41 => budget(1, 15 * MINUTE),
            Operation::P44 => None,
        }
    }

    /// Whether injected faults hit it: the catalog calls a connector makes in its sync loop,
    /// not the configuration reads.
    pub fn faultable(self) -> bool {
        !matches!(
            self,
            Operation::Of61 | Operation::H11 | Operation::Pm11 | Operation::Vl11
        )
    }
}

/// Shares of the faultable calls answered with an error instead of being served.
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
        let valid = |rate: f64| rate.is_finite() && (0.0..=1.0).contains(&rate);
        if !valid(self.error_rate) || !valid(self.rate_limit_rate) {
            return Some(format!(
                "error_rate and rate_limit_rate are fractions between 0 and 1; got {} and {}.",
                self.error_rate, self.rate_limit_rate
            ));
        }
        if self.error_rate + self.rate_limit_rate > 1.0 {
            return Some("error_rate and rate_limit_rate add up to more than 1.".to_owned());
        }
        None
    }

    fn any(&self) -> bool {
        self.error_rate > 0.0 || self.rate_limit_rate > 0.0
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
}

pub struct Gate {
    scale: f64,
    /// Times of the calls admitted per (caller, operation) still inside their window.
    admitted: HashMap<(String, Operation), VecDeque<Instant>>,
    faults: Faults,
    sequence: Sequence,
}

impl Gate {
    pub fn new(scale: f64) -> Self {
        Self {
            scale,
            admitted: HashMap::new(),
            faults: Faults::default(),
            sequence: Sequence::new(FAULT_SEED),
        }
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }

    pub fn faults(&self) -> Faults {
        self.faults
    }

    /// Changes the scale; calls already admitted keep counting against the new windows.
    pub fn set_scale(&mut self, scale: f64) {
        self.scale = scale;
    }

    /// New fault settings, and the fault sequence back at its start.
    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = faults;
        self.sequence = Sequence::new(FAULT_SEED);
    }

    /// Serves the call, or says why not. `caller` is the shop or company the credential acts
    /// for; an admitted call is charged to its budget even when an injected fault then fails it.
    pub fn admit(&mut self, caller: &str, operation: Operation) -> Result<(), Refusal> {
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
        }
        Ok(())
    }
}

/// `Retry-After` counts whole seconds; a caller told 0 would call again at once.
fn whole_seconds(wait: Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

impl Refusal {
    /// The `Retry-After` value of a 429, `None` for a 500.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Refusal::OverBudget { retry_after, .. } => Some(*retry_after),
            Refusal::InjectedRateLimit => Some(1),
            Refusal::InjectedError => None,
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_admits_its_calls_then_refuses_until_the_window_ends() {
        let mut gate = Gate::new(1.0);
        assert_eq!(gate.admit("shop", Operation::Of01), Ok(()));
        let refused = gate.admit("shop", Operation::Of01).unwrap_err();
        assert_eq!(refused.retry_after(), Some(60));
        // Another caller and another operation have budgets of their own.
        assert_eq!(gate.admit("other", Operation::Of01), Ok(()));
        assert_eq!(gate.admit("shop", Operation::Of24), Ok(()));
        for _ in 0..60 {
            assert_eq!(gate.admit("shop", Operation::Of21), Ok(()));
        }
        assert!(gate.admit("shop", Operation::Of21).is_err());
    }

    #[test]
    fn scale_zero_switches_budgets_off() {
        let mut gate = Gate::new(0.0);
        for _ in 0..10 {
            assert_eq!(gate.admit("shop", Operation::Of01), Ok(()));
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
        assert!(scale_problem(-1.0).is_some());
        assert!(scale_problem(f64::NAN).is_some());
        assert!(scale_problem(0.001).is_none());
    }
}
