//! Offer imports: OF01 (a CSV file) and OF24 (JSON) create one, OF02 tracks it (OF04 tracks
//! them all), OF03 hands out its error report.
//!
//! Processing is asynchronous as on Mirakl, but deterministic and without a clock: an import is
//! WAITING when created and each OF02 poll (or OF04 listing) moves it one step, WAITING → RUNNING → COMPLETE
//! (or FAILED when its file cannot be read). Its lines are applied when it completes, after
//! every earlier import of the same shop, so a shop's imports apply in the order they were
//! sent. `Sandbox::settle_imports` completes them all at once.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::Sandbox;
use crate::gate::Operation;
use crate::marketplace::offers::{LineAction, Offer, read_line};
use crate::marketplace::sheet::Sheet;
use crate::marketplace::{
    ApiError, admit, format_date, marketplace_mut, open_call, parse_date, serve,
};
use crate::world::{Marketplace, World};

/// OF01's `import_mode`. PARTIAL_UPDATE is deprecated and not emulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Each line inserts, updates or deletes its offer.
    Normal,
    /// As NORMAL, then every offer of the shop the file does not name is deleted.
    Replace,
}

impl ImportMode {
    fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "NORMAL" => Some(Self::Normal),
            "REPLACE" => Some(Self::Replace),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "NORMAL",
            Self::Replace => "REPLACE",
        }
    }
}

/// OF02's `status`. Mirakl also knows WAITING_SYNCHRONIZATION_PRODUCT, for imports with
/// products, which the sandbox does not take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStatus {
    Waiting,
    Running,
    Complete,
    Failed,
}

impl ImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "WAITING",
            Self::Running => "RUNNING",
            Self::Complete => "COMPLETE",
            Self::Failed => "FAILED",
        }
    }

    pub fn is_done(self) -> bool {
        matches!(self, Self::Complete | Self::Failed)
    }
}

#[derive(Debug, Clone)]
pub struct OfferImport {
    pub id: u64,
    pub shop_id: i64,
    pub created: OffsetDateTime,
    pub mode: ImportMode,
    pub status: ImportStatus,
    /// The lines, or why the file cannot be read (the import then fails).
    pub sheet: Result<Sheet, String>,
    pub outcome: Outcome,
}

/// What applying an import did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub succeeded: u64,
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    /// The failed lines: `(index in the sheet's rows, message)`.
    pub errors: Vec<(usize, String)>,
}

impl OfferImport {
    pub fn has_error_report(&self) -> bool {
        self.status == ImportStatus::Complete && !self.outcome.errors.is_empty()
    }

    /// OF02's answer.
    fn status_json(&self) -> Value {
        let lines = self.sheet.as_ref().map_or(0, |sheet| sheet.rows.len());
        let (read, pending) = match self.status {
            ImportStatus::Waiting | ImportStatus::Failed => (0, 0),
            ImportStatus::Running => (lines, lines),
            ImportStatus::Complete => (lines, 0),
        };
        let mut body = json!({
            "import_id": self.id,
            "date_created": format_date(self.created),
            "mode": self.mode.as_str(),
            "status": self.status.as_str(),
            "has_error_report": self.has_error_report(),
            "lines_read": read,
            "lines_in_success": self.outcome.succeeded,
            "lines_in_error": self.outcome.errors.len(),
            "lines_in_pending": pending,
            "offer_inserted": self.outcome.inserted,
            "offer_updated": self.outcome.updated,
            "offer_deleted": self.outcome.deleted,
        });
        if let (ImportStatus::Failed, Err(reason)) = (self.status, &self.sheet) {
            body["reason_status"] = json!(reason);
        }
        body
    }

    /// OF03's file, when the import has one.
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
    pub fn create_offer_import(
        &mut self,
        shop_id: i64,
        mode: ImportMode,
        sheet: Result<Sheet, String>,
    ) -> u64 {
        let sheet = self.admit_file(sheet);
        let id = self.take_import_id();
        self.offer_imports.insert(
            id,
            OfferImport {
                id,
                shop_id,
                created: crate::woo::model::now(),
                mode,
                status: ImportStatus::Waiting,
                sheet,
                outcome: Outcome::default(),
            },
        );
        id
    }

    /// One step of an import's processing, as one OF02 poll makes it.
    pub fn advance_offer_import(&mut self, id: u64) {
        let Some(import) = self.offer_imports.get_mut(&id) else {
            return;
        };
        match (import.status, import.sheet.is_ok()) {
            (ImportStatus::Waiting, true) => import.status = ImportStatus::Running,
            (ImportStatus::Waiting, false) => import.status = ImportStatus::Failed,
            (ImportStatus::Running, _) => {
                let shop_id = import.shop_id;
                let earlier: Vec<u64> = self
                    .offer_imports
                    .range(..=id)
                    .filter(|(_, import)| import.shop_id == shop_id && !import.status.is_done())
                    .map(|(id, _)| *id)
                    .collect();
                for id in earlier {
                    self.finish_offer_import(id);
                }
            }
            (ImportStatus::Complete | ImportStatus::Failed, _) => {}
        }
    }

    /// Completes every offer import still in progress, oldest first.
    pub fn settle_offer_imports(&mut self) {
        let pending: Vec<u64> = self
            .offer_imports
            .iter()
            .filter(|(_, import)| !import.status.is_done())
            .map(|(id, _)| *id)
            .collect();
        for id in pending {
            self.finish_offer_import(id);
        }
    }

    fn finish_offer_import(&mut self, id: u64) {
        let Some(mut import) = self.offer_imports.remove(&id) else {
            return;
        };
        match &import.sheet {
            Ok(sheet) => {
                import.outcome = self.apply_offer_lines(import.shop_id, import.mode, sheet);
                import.status = ImportStatus::Complete;
            }
            Err(_) => import.status = ImportStatus::Failed,
        }
        self.offer_imports.insert(id, import);
    }

    fn apply_offer_lines(&mut self, shop_id: i64, mode: ImportMode, sheet: &Sheet) -> Outcome {
        let mut outcome = Outcome::default();
        let Some(store) = self.stores.get_mut(&shop_id) else {
            return outcome;
        };
        let mut named: HashSet<&str> = HashSet::new();
        for (index, row) in sheet.rows.iter().enumerate() {
            let sku = sheet.value(row, "sku");
            let action = if sku.is_empty() {
                Err("The sku is missing".to_owned())
            } else if !named.insert(sku) {
                // ASSUMPTION: Mirakl's handling of a repeated SKU is not published; the sandbox
                // refuses the later line so a connector bug shows.
                Err(format!(
                    "The sku '{sku}' appears more than once in the file"
                ))
            } else {
                read_line(sheet, row, &self.catalog, shop_id, store.offers.get(sku))
            };
            match action {
                Ok(LineAction::Delete) => {
                    store.offers.remove(sku);
                    outcome.deleted += 1;
                    outcome.succeeded += 1;
                }
                Ok(LineAction::Upsert { product_sku, terms }) => {
                    match store.offers.get_mut(sku) {
                        Some(offer) => {
                            offer.product_sku = product_sku;
                            offer.terms = *terms;
                            outcome.updated += 1;
                        }
                        None => {
                            let offer_id = self.next_offer_id;
                            self.next_offer_id += 1;
                            store.offers.insert(
                                sku.to_owned(),
                                Offer {
                                    offer_id,
                                    shop_sku: sku.to_owned(),
                                    product_sku,
                                    terms: *terms,
                                },
                            );
                            outcome.inserted += 1;
                        }
                    }
                    outcome.succeeded += 1;
                }
                Err(message) => outcome.errors.push((index, message)),
            }
        }
        if mode == ImportMode::Replace {
            let before = store.offers.len();
            store.offers.retain(|sku, _| named.contains(sku.as_str()));
            outcome.deleted += (before - store.offers.len()) as u64;
        }
        outcome
    }
}

/// The parts of an OF01 request.
#[derive(Debug, Default)]
struct Upload {
    file: Option<Vec<u8>>,
    import_mode: Option<String>,
    with_products: bool,
}

async fn read_upload(multipart: Result<Multipart, MultipartRejection>) -> Result<Upload, String> {
    let mut multipart = multipart.map_err(|_| {
        "The request must be multipart/form-data with the fields file and import_mode.".to_owned()
    })?;
    let unreadable = |error: axum::extract::multipart::MultipartError| {
        format!("The multipart body could not be read: {error}.")
    };
    let mut upload = Upload::default();
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name().unwrap_or_default() {
            "file" => upload.file = Some(field.bytes().await.map_err(unreadable)?.to_vec()),
            "import_mode" => upload.import_mode = Some(field.text().await.map_err(unreadable)?),
            "with_products" => {
                upload.with_products = field
                    .text()
                    .await
                    .map_err(unreadable)?
                    .trim()
                    .eq_ignore_ascii_case("true");
            }
            // operator_format and anything else: read past.
            _ => {
                field.bytes().await.map_err(unreadable)?;
            }
        }
    }
    Ok(upload)
}

/// OF01 `POST /api/offers/imports`: multipart `file` (CSV) and `import_mode` → 201
/// `{import_id}`.
pub async fn create(
    State(sandbox): State<Sandbox>,
    Path(instance): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let upload = read_upload(multipart).await;
    let mut world = sandbox.world();
    match create_import(&mut world, &instance, &query, &headers, upload) {
        Ok(import_id) => {
            (StatusCode::CREATED, Json(json!({ "import_id": import_id }))).into_response()
        }
        Err(error) => error.into_response(),
    }
}

fn create_import(
    world: &mut World,
    instance: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    upload: Result<Upload, String>,
) -> Result<u64, ApiError> {
    let shop_id = open_call(world, instance, query, headers, Operation::Of01)?;
    // Every mode a shop sends is recorded, refused or not: a test can then tell that a
    // connector never sent REPLACE.
    if let Ok(Upload {
        import_mode: Some(mode),
        ..
    }) = &upload
    {
        marketplace_mut(world, instance)?
            .import_modes
            .push(mode.trim().to_owned());
    }
    admit(world, instance, shop_id, Operation::Of01)?;
    let bad = |message: &str| ApiError::new(StatusCode::BAD_REQUEST, message);
    let upload = upload.map_err(|message| bad(&message))?;
    let mode = match upload.import_mode.as_deref() {
        None => return Err(bad("import_mode is required: NORMAL or REPLACE.")),
        Some(raw) => ImportMode::parse(raw).ok_or_else(|| {
            bad(&format!(
                "import_mode '{}' is not valid: use NORMAL or REPLACE.",
                raw.trim()
            ))
        })?,
    };
    if upload.with_products {
        return Err(bad(
            "with_products=true is not emulated by the sandbox: import products with P41, then \
             offers alone.",
        ));
    }
    let file = upload
        .file
        .ok_or_else(|| bad("file is required: the offers as a ';'-separated CSV file."))?;
    let sheet = Sheet::parse(&file).and_then(|sheet| match sheet.column("sku") {
        Some(_) => Ok(sheet),
        None => {
            Err("The file has no 'sku' column; its columns must be separated by ';'.".to_owned())
        }
    });
    Ok(marketplace_mut(world, instance)?.create_offer_import(shop_id, mode, sheet))
}

/// The shop's import `raw`; another shop's is as unknown as one that never existed.
fn shop_import<'m>(
    marketplace: &'m mut Marketplace,
    shop_id: i64,
    raw: &str,
) -> Result<&'m mut OfferImport, ApiError> {
    raw.parse::<u64>()
        .ok()
        .and_then(|id| marketplace.offer_imports.get_mut(&id))
        .filter(|import| import.shop_id == shop_id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("Import {raw} not found.")))
}

/// OF02 `GET /api/offers/imports/{import}`: the import's status, one step further.
pub async fn status(
    State(sandbox): State<Sandbox>,
    Path((instance, import)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut world = sandbox.world();
    let status =
        serve(&mut world, &instance, &query, &headers, Operation::Of02).and_then(|shop_id| {
            let marketplace = marketplace_mut(&mut world, &instance)?;
            let id = shop_import(marketplace, shop_id, &import)?.id;
            marketplace.advance_offer_import(id);
            Ok(marketplace.offer_imports[&id].status_json())
        });
    match status {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    }
}

/// OF04 `GET /api/offers/imports`: the shop's offer imports, newest first, filtered by
/// `start_date`, `end_date`, `status` and `mode`, in seek pages of `limit` (1 to 100, 10 by
/// default). Like an OF02 poll, listing an import in progress moves it one step.
///
/// ASSUMPTION: the page token is opaque to a client; the sandbox's is the next offset.
pub async fn list(
    State(sandbox): State<Sandbox>,
    Path(instance): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut world = sandbox.world();
    let page = serve(&mut world, &instance, &query, &headers, Operation::Of04)
        .and_then(|shop_id| list_imports(&mut world, &instance, shop_id, &query));
    match page {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    }
}

fn list_imports(
    world: &mut World,
    instance: &str,
    shop_id: i64,
    query: &HashMap<String, String>,
) -> Result<Value, ApiError> {
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, message);
    let date = |name: &str| {
        query
            .get(name)
            .map(|raw| {
                parse_date(raw)
                    .ok_or_else(|| bad(format!("{name} '{raw}' is not an ISO 8601 date-time.")))
            })
            .transpose()
    };
    let (start, end) = (date("start_date")?, date("end_date")?);
    let status = query.get("status").map(|s| s.trim().to_owned());
    let mode = query.get("mode").map(|s| s.trim().to_owned());
    let limit = match query.get("limit") {
        None => 10,
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| bad(format!("limit '{raw}' must be a number from 1 to 100.")))?,
    };
    let offset = match query.get("page_token") {
        None => 0,
        Some(raw) => raw
            .parse::<usize>()
            .map_err(|_| bad(format!("page_token '{raw}' is not valid.")))?,
    };
    let marketplace = marketplace_mut(world, instance)?;
    let ids: Vec<u64> = marketplace
        .offer_imports
        .values()
        .rev()
        .filter(|i| i.shop_id == shop_id)
        .filter(|i| start.is_none_or(|at| i.created >= at))
        .filter(|i| end.is_none_or(|at| i.created <= at))
        .filter(|i| mode.as_deref().is_none_or(|m| i.mode.as_str() == m))
        .map(|i| i.id)
        .collect();
    let mut data = Vec::new();
    let mut next = None;
    let mut matched = 0;
    for id in ids {
        marketplace.advance_offer_import(id);
        let import = &marketplace.offer_imports[&id];
        if status
            .as_deref()
            .is_some_and(|s| import.status.as_str() != s)
        {
            continue;
        }
        matched += 1;
        if matched <= offset {
            continue;
        }
        if data.len() == limit {
            next = Some((offset + limit).to_string());
            break;
        }
        let mut body = import.status_json();
        body["shop_id"] = json!(shop_id);
        body["origin"] = json!("API");
        data.push(body);
    }
    let mut page = json!({ "data": data });
    if let Some(token) = next {
        page["next_page_token"] = json!(token);
    }
    if offset > 0 {
        page["previous_page_token"] = json!(offset.saturating_sub(limit).to_string());
    }
    Ok(page)
}

/// OF03 `GET /api/offers/imports/{import}/error_report`: the failed lines, as CSV.
pub async fn error_report(
    State(sandbox): State<Sandbox>,
    Path((instance, import)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut world = sandbox.world();
    let report =
        serve(&mut world, &instance, &query, &headers, Operation::Of03).and_then(|shop_id| {
            let marketplace = marketplace_mut(&mut world, &instance)?;
            let tracked = shop_import(marketplace, shop_id, &import)?;
            let id = tracked.id;
            tracked
                .error_report()
                .map(|file| (id, file))
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::NOT_FOUND,
                        format!("Import {import} has no error report."),
                    )
                })
        });
    match report {
        Ok((id, file)) => report_response(&format!("offers_error_report_{id}.csv"), file),
        Err(error) => error.into_response(),
    }
}

/// A report file, as Mirakl sends one.
pub fn report_response(file_name: &str, file: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        file,
    )
        .into_response()
}
