//! Offer imports: OF01 (a CSV file) creates one, OF04 lists a shop's, and what an import's lines
//! do to the shop's offers when it completes. OF24 (JSON) creates one too (`offers`); the life
//! they share with product imports, OF02 and OF03 included, is `imports`.

use std::collections::{BTreeMap, HashSet};

use axum::Json;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::Sandbox;
use crate::gate::Operation;
use crate::marketplace::imports::{self, Import, ImportKind, ImportStatus, Outcome};
use crate::marketplace::offers::{LineAction, Offer, read_line};
use crate::marketplace::sheet::Sheet;
use crate::marketplace::{ApiCall, ApiError};
use crate::values::clock::{format_mirakl, parse_mirakl};
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

/// An import of offer lines (OF01, OF24), in its mode.
#[derive(Debug, Clone)]
pub struct OfferLines {
    pub mode: ImportMode,
}

/// What an offer import's lines did, besides succeeding.
#[derive(Debug, Clone, Default)]
pub struct OfferCounts {
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
}

impl ImportKind for OfferLines {
    type Counts = OfferCounts;
    const SENT_STEP: bool = false;
    const STATUS: Operation = Operation::Of02;
    const REPORT: Operation = Operation::Of03;
    const REPORT_NAME: &'static str = "offers_error_report";

    /// OF02's answer.
    fn status_json(import: &Import<Self>) -> Value {
        let lines = import.lines();
        let (read, pending) = match import.status {
            ImportStatus::Waiting | ImportStatus::Failed => (0, 0),
            ImportStatus::Running | ImportStatus::Sent => (lines, lines),
            ImportStatus::Complete => (lines, 0),
        };
        let outcome = &import.outcome;
        json!({
            "import_id": import.id,
            "date_created": format_mirakl(import.created),
            "mode": import.kind.mode.as_str(),
            "status": import.status.as_str(),
            "has_error_report": import.has_error_report(),
            "lines_read": read,
            "lines_in_success": outcome.succeeded,
            "lines_in_error": outcome.errors.len(),
            "lines_in_pending": pending,
            "offer_inserted": outcome.counts.inserted,
            "offer_updated": outcome.counts.updated,
            "offer_deleted": outcome.counts.deleted,
            // Both required by the spec. `reason_status` says why an import failed as a whole
            // (`Import::status_json` fills it); ASSUMPTION: empty otherwise. `type` is deprecated:
            // the file is in Mirakl's own format.
            "reason_status": "",
            "type": "MIRAKL",
        })
    }

    fn imports(marketplace: &mut Marketplace) -> &mut BTreeMap<u64, Import<Self>> {
        &mut marketplace.offer_imports
    }

    fn apply(
        marketplace: &mut Marketplace,
        import: &Import<Self>,
        sheet: &Sheet,
    ) -> Outcome<OfferCounts> {
        marketplace.apply_offer_lines(import.shop_id, import.kind.mode, sheet)
    }
}

impl Marketplace {
    fn apply_offer_lines(
        &mut self,
        shop_id: i64,
        mode: ImportMode,
        sheet: &Sheet,
    ) -> Outcome<OfferCounts> {
        let mut outcome = Outcome::<OfferCounts>::default();
        let Some(store) = self.stores.get_mut(&shop_id) else {
            return outcome;
        };
        let counts = &mut outcome.counts;
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
                    counts.deleted += 1;
                    outcome.succeeded += 1;
                }
                Ok(LineAction::Upsert { product_sku, terms }) => {
                    match store.offers.get_mut(sku) {
                        Some(offer) => {
                            offer.product_sku = product_sku;
                            offer.terms = *terms;
                            counts.updated += 1;
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
                            counts.inserted += 1;
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
            counts.deleted += (before - store.offers.len()) as u64;
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
    call: ApiCall,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let upload = read_upload(multipart).await;
    let mut world = sandbox.world();
    create_import(&mut world, &call, upload).map(imports::created)
}

fn create_import(
    world: &mut World,
    call: &ApiCall,
    upload: Result<Upload, String>,
) -> Result<u64, ApiError> {
    let shop_id = call.open(world, Operation::Of01)?;
    // Every mode a shop sends is recorded, refused or not: a test can then tell that a
    // connector never sent REPLACE.
    if let Ok(Upload {
        import_mode: Some(mode),
        ..
    }) = &upload
    {
        call.marketplace(world)?
            .import_modes
            .push(mode.trim().to_owned());
    }
    call.admit(world, shop_id, Operation::Of01)?;
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
    Ok(call
        .marketplace(world)?
        .create_import(shop_id, OfferLines { mode }, sheet))
}

/// OF04 `GET /api/offers/imports`: the shop's offer imports, newest first, filtered by
/// `start_date`, `end_date`, `status` and `mode`, in seek pages of `limit` (1 to 100, 10 by
/// default). Like an OF02 poll, listing an import in progress moves it one step.
///
/// ASSUMPTION: the page token is opaque to a client; the sandbox's is the next offset.
pub async fn list(State(sandbox): State<Sandbox>, call: ApiCall) -> Result<Json<Value>, ApiError> {
    let mut world = sandbox.world();
    let shop_id = call.serve(&mut world, Operation::Of04)?;
    list_imports(&mut world, &call, shop_id).map(Json)
}

fn list_imports(world: &mut World, call: &ApiCall, shop_id: i64) -> Result<Value, ApiError> {
    let query = &call.query;
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, message);
    let date = |name: &str| {
        query
            .get(name)
            .map(|raw| {
                parse_mirakl(raw)
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
    let marketplace = call.marketplace(world)?;
    let ids: Vec<u64> = marketplace
        .offer_imports
        .values()
        .rev()
        .filter(|i| i.shop_id == shop_id)
        .filter(|i| start.is_none_or(|at| i.created >= at))
        .filter(|i| end.is_none_or(|at| i.created <= at))
        .filter(|i| mode.as_deref().is_none_or(|m| i.kind.mode.as_str() == m))
        .map(|i| i.id)
        .collect();
    let mut data = Vec::new();
    let mut next = None;
    let mut matched = 0;
    for id in ids {
        marketplace.advance_import::<OfferLines>(id);
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
