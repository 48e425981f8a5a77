//! The life every marketplace import shares, whether it brings offers (OF01, OF24: see
//! `offer_imports`) or products (P41: see `products`): its status, tracked with OF02 or P42, and
//! its error report, OF03 or P44.
//!
//! Processing is asynchronous as on Mirakl, but deterministic and without a clock: an import is
//! WAITING when created and each status poll (or OF04 listing) moves it one step, WAITING →
//! RUNNING → COMPLETE, with a SENT step before COMPLETE for products (FAILED when its file
//! cannot be read). Its lines are applied when it completes, after every earlier import of the
//! same kind and shop, so a shop's imports apply in the order they were sent.
//! `Sandbox::settle_imports` completes them all at once.

use std::collections::BTreeMap;
use std::fmt::Debug;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::Sandbox;
use crate::gate::Operation;
use crate::marketplace::sheet::Sheet;
use crate::marketplace::{ApiCall, ApiError};
use crate::values::clock::now;
use crate::world::{Marketplace, World};

/// OF02's `status` and P42's `import_status`, the part of them the sandbox goes through. Mirakl
/// also knows WAITING_SYNCHRONIZATION_PRODUCT, for offer imports with products, and the
/// TRANSFORMATION_* states of product files in the seller's own format, which the sandbox does
/// not take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStatus {
    Waiting,
    Running,
    /// Product imports only: sent to the operator, not yet integrated.
    Sent,
    Complete,
    Failed,
}

impl ImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "WAITING",
            Self::Running => "RUNNING",
            Self::Sent => "SENT",
            Self::Complete => "COMPLETE",
            Self::Failed => "FAILED",
        }
    }

    pub fn is_done(self) -> bool {
        matches!(self, Self::Complete | Self::Failed)
    }
}

/// What an import brings, offer lines or product lines: the parts of its life that differ by
/// kind. The value itself is what sets one import apart within its kind (an offer import's
/// mode).
pub trait ImportKind: Debug + Clone + Sized + Send + 'static {
    /// What the kind counts of the lines that succeeded (OF02's `offer_inserted`, …).
    type Counts: Debug + Clone + Default;
    /// Whether an import waits one more poll as SENT between RUNNING and COMPLETE (P42).
    const SENT_STEP: bool;
    /// The status call (OF02, P42).
    const STATUS: Operation;
    /// The error report call (OF03, P44).
    const REPORT: Operation;
    /// An error report's file name, before `_{import id}.csv`.
    const REPORT_NAME: &'static str;

    /// The status call's answer.
    fn status_json(import: &Import<Self>) -> Value;

    /// The marketplace's imports of this kind, every shop's, by id.
    fn imports(marketplace: &mut Marketplace) -> &mut BTreeMap<u64, Import<Self>>;

    /// Applies the lines of a completed import to the marketplace.
    fn apply(
        marketplace: &mut Marketplace,
        import: &Import<Self>,
        sheet: &Sheet,
    ) -> Outcome<Self::Counts>;
}

#[derive(Debug, Clone)]
pub struct Import<K: ImportKind> {
    pub id: u64,
    pub shop_id: i64,
    pub created: OffsetDateTime,
    pub status: ImportStatus,
    /// The lines, or why the file cannot be read (the import then fails).
    pub sheet: Result<Sheet, String>,
    pub kind: K,
    pub outcome: Outcome<K::Counts>,
}

/// What applying an import did.
#[derive(Debug, Clone, Default)]
pub struct Outcome<C> {
    pub succeeded: u64,
    pub counts: C,
    /// The failed lines: `(index in the sheet's rows, message)`.
    pub errors: Vec<(usize, String)>,
}

impl<K: ImportKind> Import<K> {
    pub fn has_error_report(&self) -> bool {
        self.status == ImportStatus::Complete && !self.outcome.errors.is_empty()
    }

    /// The lines the file has, 0 when it cannot be read.
    pub fn lines(&self) -> usize {
        self.sheet.as_ref().map_or(0, |sheet| sheet.rows.len())
    }

    /// The status call's answer, with `reason_status` when the import failed as a whole.
    pub fn status_json(&self) -> Value {
        let mut body = K::status_json(self);
        if let (ImportStatus::Failed, Err(reason)) = (self.status, &self.sheet) {
            body["reason_status"] = json!(reason);
        }
        body
    }

    /// The error report's file, when the import has one.
    pub fn error_report(&self) -> Option<Vec<u8>> {
        let sheet = self
            .sheet
            .as_ref()
            .ok()
            .filter(|_| self.has_error_report())?;
        Some(
            sheet.error_report(
                self.outcome
                    .errors
                    .iter()
                    .map(|(index, message)| (&sheet.rows[*index], message.as_str())),
            ),
        )
    }
}

impl Marketplace {
    /// A new import, WAITING; its id.
    pub fn create_import<K: ImportKind>(
        &mut self,
        shop_id: i64,
        kind: K,
        sheet: Result<Sheet, String>,
    ) -> u64 {
        let sheet = self.admit_file(sheet);
        let id = self.take_import_id();
        K::imports(self).insert(
            id,
            Import {
                id,
                shop_id,
                created: now(),
                status: ImportStatus::Waiting,
                sheet,
                kind,
                outcome: Outcome::default(),
            },
        );
        id
    }

    /// One step of an import's processing, as one status poll makes it.
    pub fn advance_import<K: ImportKind>(&mut self, id: u64) {
        let Some(import) = K::imports(self).get_mut(&id) else {
            return;
        };
        match (import.status, import.sheet.is_ok()) {
            (ImportStatus::Waiting, true) => import.status = ImportStatus::Running,
            (ImportStatus::Waiting, false) => import.status = ImportStatus::Failed,
            (ImportStatus::Running, _) if K::SENT_STEP => import.status = ImportStatus::Sent,
            (ImportStatus::Running | ImportStatus::Sent, _) => {
                let shop_id = import.shop_id;
                let earlier: Vec<u64> = K::imports(self)
                    .range(..=id)
                    .filter(|(_, import)| import.shop_id == shop_id && !import.status.is_done())
                    .map(|(id, _)| *id)
                    .collect();
                for id in earlier {
                    self.finish_import::<K>(id);
                }
            }
            (ImportStatus::Complete | ImportStatus::Failed, _) => {}
        }
    }

    /// Completes every import of a kind still in progress, oldest first.
    pub fn settle_imports<K: ImportKind>(&mut self) {
        let pending: Vec<u64> = K::imports(self)
            .iter()
            .filter(|(_, import)| !import.status.is_done())
            .map(|(id, _)| *id)
            .collect();
        for id in pending {
            self.finish_import::<K>(id);
        }
    }

    fn finish_import<K: ImportKind>(&mut self, id: u64) {
        let Some(mut import) = K::imports(self).remove(&id) else {
            return;
        };
        match &import.sheet {
            Ok(sheet) => {
                import.outcome = K::apply(self, &import, sheet);
                import.status = ImportStatus::Complete;
            }
            Err(_) => import.status = ImportStatus::Failed,
        }
        K::imports(self).insert(id, import);
    }
}

/// The answer to a call that created an import (OF01, OF24, P41): 201 `{import_id}`.
pub fn created(import_id: u64) -> Response {
    (StatusCode::CREATED, Json(json!({ "import_id": import_id }))).into_response()
}

/// The front door of a call on one import: counts and admits the call, then finds the shop's
/// import named in the path; another shop's is as unknown as one that never existed. Its id.
fn open_import<K: ImportKind>(
    world: &mut World,
    call: &ApiCall,
    operation: Operation,
) -> Result<u64, ApiError> {
    let shop_id = call.serve(world, operation)?;
    let imports = K::imports(call.marketplace(world)?);
    let raw = call.import();
    raw.parse::<u64>()
        .ok()
        .filter(|id| {
            imports
                .get(id)
                .is_some_and(|import| import.shop_id == shop_id)
        })
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("Import {raw} not found.")))
}

/// OF02 `GET /api/offers/imports/{import}`, P42 `GET /api/products/imports/{import}`: the
/// import's status, one step further.
pub async fn status<K: ImportKind>(
    State(sandbox): State<Sandbox>,
    call: ApiCall,
) -> Result<Json<Value>, ApiError> {
    let mut world = sandbox.world();
    let id = open_import::<K>(&mut world, &call, K::STATUS)?;
    let marketplace = call.marketplace(&mut world)?;
    marketplace.advance_import::<K>(id);
    Ok(Json(K::imports(marketplace)[&id].status_json()))
}

/// OF03 `GET /api/offers/imports/{import}/error_report`, P44
/// `GET /api/products/imports/{import}/error_report`: the failed lines, as CSV (for products,
/// the format Mirakl sends when MCM is enabled).
pub async fn error_report<K: ImportKind>(
    State(sandbox): State<Sandbox>,
    call: ApiCall,
) -> Result<Response, ApiError> {
    let mut world = sandbox.world();
    let id = open_import::<K>(&mut world, &call, K::REPORT)?;
    let file = K::imports(call.marketplace(&mut world)?)[&id]
        .error_report()
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("Import {} has no error report.", call.import()),
            )
        })?;
    let file_name = format!("{}_{id}.csv", K::REPORT_NAME);
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        file,
    )
        .into_response())
}
