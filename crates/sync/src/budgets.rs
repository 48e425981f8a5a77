//! Mirakl's call budgets: each seller API operation has a documented maximum call frequency.
//! The connector asks storage for the next slot before every call (the slots live in the
//! database, so every process shares them) instead of finding out through 429s.

use std::time::Duration;

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
/// them (benchmarks).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budgets {
    pub scale: f64,
}

impl Default for Budgets {
    fn default() -> Self {
        Self { scale: 1.0 }
    }
}

impl Budgets {
    pub fn off() -> Self {
        Self { scale: 0.0 }
    }

    pub fn interval_ms(&self, op: Operation) -> i64 {
        (op.documented_interval().as_millis() as f64 * self.scale.max(0.0)).round() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_scale_the_documented_frequencies() {
        assert_eq!(Budgets::default().interval_ms(Operation::OfferFile), 60_000);
        assert_eq!(
            Budgets { scale: 0.001 }.interval_ms(Operation::OfferUpsert),
            60
        );
        assert_eq!(Budgets::off().interval_ms(Operation::ConnectUpsert), 0);
        assert_eq!(
            Budgets::default().interval_ms(Operation::ProductImport),
            900_000
        );
    }
}
