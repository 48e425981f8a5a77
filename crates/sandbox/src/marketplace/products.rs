//! Products a shop brings to the marketplace's catalog: the configuration it reads first (H11
//! hierarchies, PM11 attributes, VL11 values lists), the P41 import of a CSV file with one
//! column per attribute, and what its lines do; its status (P42) and error report (P44) are
//! `imports`.
//!
//! A P41 import moves one step per P42 poll: WAITING → RUNNING → SENT → COMPLETE (FAILED when
//! the file cannot be read). Its products join the catalog when it completes, so an offer can
//! then name one with `product-id-type` SHOP_SKU and the shop's SKU.

use std::collections::{BTreeMap, HashSet};

use axum::Json;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::Sandbox;
use crate::gate::Operation;
use crate::marketplace::catalog::{
    ATTRIBUTES, HIERARCHIES, NewProduct, ReferenceType, Requirement, gtin_key, hierarchy_level,
    values_lists,
};
use crate::marketplace::imports::{self, Import, ImportKind, ImportStatus, Outcome};
use crate::marketplace::sheet::{Row, Sheet};
use crate::marketplace::{ApiCall, ApiError};
use crate::values::clock::format_mirakl;
use crate::world::Marketplace;

/// An import of product lines (P41).
#[derive(Debug, Clone)]
pub struct ProductLines;

/// What a product import's lines did, besides succeeding.
#[derive(Debug, Clone, Default)]
pub struct ProductCounts {
    /// Products new to the catalog (the rest matched or updated one).
    pub created: u64,
}

impl ImportKind for ProductLines {
    type Counts = ProductCounts;
    const SENT_STEP: bool = true;
    const STATUS: Operation = Operation::P42;
    const REPORT: Operation = Operation::P44;
    const REPORT_NAME: &'static str = "products_error_report";

    /// P42's answer.
    fn status_json(import: &Import<Self>) -> Value {
        let outcome = &import.outcome;
        let complete = import.status == ImportStatus::Complete;
        let read = match import.status {
            ImportStatus::Waiting | ImportStatus::Failed => 0,
            _ => import.lines(),
        };
        let errors = outcome.errors.len() as u64;
        let mut body = json!({
            "import_id": import.id,
            "shop_id": import.shop_id,
            "date_created": format_mirakl(import.created),
            "import_status": import.status.as_str(),
            "has_error_report": import.has_error_report(),
            "has_new_product_report": complete && outcome.counts.created > 0,
            "has_transformed_file": false,
            "has_transformation_error_report": false,
            "transform_lines_read": read,
            "transform_lines_in_success": if complete { outcome.succeeded } else { 0 },
            "transform_lines_in_error": if complete { errors } else { 0 },
            "transform_lines_with_warning": 0,
        });
        if complete {
            body["integration_details"] = json!({
                "invalid_products": errors,
                "products_successfully_synchronized": outcome.succeeded,
                "products_with_synchronization_issues": 0,
                "products_not_accepted_in_time": 0,
                "products_not_synchronized_in_time": 0,
                "products_reimported": outcome.succeeded - outcome.counts.created,
                "products_with_wrong_identifiers": 0,
                "rejected_products": 0,
            });
        }
        body
    }

    fn imports(marketplace: &mut Marketplace) -> &mut BTreeMap<u64, Import<Self>> {
        &mut marketplace.product_imports
    }

    fn apply(
        marketplace: &mut Marketplace,
        import: &Import<Self>,
        sheet: &Sheet,
    ) -> Outcome<ProductCounts> {
        let mut outcome = Outcome::<ProductCounts>::default();
        let mut seen = HashSet::new();
        for (index, row) in sheet.rows.iter().enumerate() {
            let line = read_product_line(sheet, row).and_then(|(shop_sku, product)| {
                if seen.insert(shop_sku.clone()) {
                    Ok((shop_sku, product))
                } else {
                    Err(format!(
                        "The shop_sku '{shop_sku}' appears more than once in the file"
                    ))
                }
            });
            match line {
                Ok((shop_sku, product)) => {
                    if marketplace
                        .catalog
                        .integrate(import.shop_id, &shop_sku, product)
                    {
                        outcome.counts.created += 1;
                    }
                    outcome.succeeded += 1;
                }
                Err(message) => outcome.errors.push((index, message)),
            }
        }
        outcome
    }
}

/// Whether Mirakl could fetch the media at `url` as an image. Mirakl downloads each media
/// after the import; ASSUMPTION: the sandbox downloads nothing and takes an http(s) URL whose
/// path ends in an image file name (.jpg, .jpeg, .png, .gif, .webp) as one it could fetch, so a
/// broken image link shows in P44 as it would on a marketplace.
fn downloadable_image(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|url| {
        let path = url.path().to_ascii_lowercase();
        matches!(url.scheme(), "http" | "https")
            && [".jpg", ".jpeg", ".png", ".gif", ".webp"]
                .iter()
                .any(|ext| path.ends_with(ext))
    })
}

/// One P41 line checked against PM11, H11 and VL11: the shop's SKU and the product, or every
/// problem found, joined.
fn read_product_line(sheet: &Sheet, row: &Row) -> Result<(String, NewProduct), String> {
    let lists = values_lists();
    let mut problems = Vec::new();
    for attribute in ATTRIBUTES {
        let value = sheet.value(row, attribute.code);
        if value.is_empty() {
            if attribute.requirement == Requirement::Required {
                problems.push(format!("The attribute '{}' is required", attribute.code));
            }
            continue;
        }
        if let Some(list) = attribute.values_list {
            let known = lists
                .iter()
                .find(|(code, _, _)| *code == list)
                .is_some_and(|(_, _, values)| values.contains(&value));
            if !known {
                problems.push(format!(
                    "The value '{value}' of attribute '{}' is not in the values list '{list}'",
                    attribute.code
                ));
            }
        }
        match attribute.code {
            "main_image" if !downloadable_image(value) => {
                problems.push(format!(
                    "The media '{value}' of attribute 'main_image' could not be downloaded as \
                     an image"
                ));
            }
            "category" if hierarchy_level(value).is_none() => {
                problems.push(format!("The category '{value}' does not exist"));
            }
            "ean"
                if gtin_key(ReferenceType::Ean, value).is_none()
                    && gtin_key(ReferenceType::Upc, value).is_none() =>
            {
                problems.push(format!(
                    "The value '{value}' of attribute 'ean' is not a valid EAN or UPC"
                ));
            }
            _ => {}
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    let value = |code: &str| sheet.value(row, code).to_owned();
    let attributes: BTreeMap<String, String> = ["color", "size", "main_image"]
        .into_iter()
        .filter(|code| !sheet.value(row, code).is_empty())
        .map(|code| (code.to_owned(), value(code)))
        .collect();
    Ok((
        value("shop_sku"),
        NewProduct {
            title: value("title"),
            brand: value("brand"),
            description: value("description"),
            category: value("category"),
            gtin: Some(value("ean")).filter(|ean| !ean.is_empty()),
            attributes,
        },
    ))
}

/// P41 `POST /api/products/imports`: multipart `file` (CSV, one column per PM11 attribute) →
/// 201 `{import_id}`. `operator_format` and `conversion_type` are read past: the file is always
/// taken in the operator's format.
pub async fn create_import(
    State(sandbox): State<Sandbox>,
    call: ApiCall,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let file = read_file(multipart).await;
    let mut world = sandbox.world();
    let shop_id = call.serve(&mut world, Operation::P41)?;
    let file = file.map_err(|message| ApiError::new(StatusCode::BAD_REQUEST, message))?;
    let sheet = Sheet::parse(&file);
    let import_id = call
        .marketplace(&mut world)?
        .create_import(shop_id, ProductLines, sheet);
    Ok(imports::created(import_id))
}

async fn read_file(multipart: Result<Multipart, MultipartRejection>) -> Result<Vec<u8>, String> {
    let mut multipart = multipart
        .map_err(|_| "The request must be multipart/form-data with a file field.".to_owned())?;
    let unreadable = |error: axum::extract::multipart::MultipartError| {
        format!("The multipart body could not be read: {error}.")
    };
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        let is_file = field.name() == Some("file");
        let bytes = field.bytes().await.map_err(unreadable)?;
        if is_file {
            file = Some(bytes.to_vec());
        }
    }
    file.ok_or_else(|| "file is required: the products as a ';'-separated CSV file.".to_owned())
}

fn translations(label: &str) -> Value {
    json!([{ "locale": "en", "value": label }])
}

/// H11 `GET /api/hierarchies`: the category tree, or the part under `hierarchy`, down to
/// `max_level` levels below it.
pub async fn hierarchies(
    State(sandbox): State<Sandbox>,
    call: ApiCall,
) -> Result<Json<Value>, ApiError> {
    call.serve(&mut sandbox.world(), Operation::H11)?;
    let max_level = match call.query.get("max_level") {
        None => None,
        Some(raw) => Some(raw.parse::<u32>().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("max_level must be a whole number, got '{raw}'."),
            )
        })?),
    };
    let top = match call.query.get("hierarchy").filter(|code| !code.is_empty()) {
        None => None,
        Some(code) => Some((
            code.as_str(),
            hierarchy_level(code).ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("The hierarchy '{code}' does not exist."),
                )
            })?,
        )),
    };
    let under = |code: &str, top: &str| {
        let mut current = Some(code);
        while let Some(node) = current {
            if node == top {
                return true;
            }
            current = HIERARCHIES
                .iter()
                .find(|(c, _, _)| *c == node)
                .and_then(|(_, _, parent)| *parent);
        }
        false
    };
    let hierarchies: Vec<Value> = HIERARCHIES
        .iter()
        .filter_map(|(code, label, parent)| {
            let level = hierarchy_level(code)?;
            let (top_code, top_level) = top.unwrap_or(("", 0));
            let inside = top.is_none() || under(code, top_code);
            let shallow = max_level.is_none_or(|max| level - top_level.min(level) <= max);
            (inside && shallow).then(|| {
                json!({
                    "code": code,
                    "label": label,
                    "label_translations": translations(label),
                    "level": level,
                    "parent_code": parent.unwrap_or_default(),
                })
            })
        })
        .collect();
    Ok(Json(json!({ "hierarchies": hierarchies })))
}

/// PM11 `GET /api/products/attributes`: the columns of a P41 file.
pub async fn attributes(
    State(sandbox): State<Sandbox>,
    call: ApiCall,
) -> Result<Json<Value>, ApiError> {
    call.serve(&mut sandbox.world(), Operation::Pm11)?;
    let attributes: Vec<Value> = ATTRIBUTES
        .iter()
        .map(|attribute| {
            json!({
                "code": attribute.code,
                "label": attribute.label,
                "label_translations": translations(attribute.label),
                "description": attribute.description,
                "description_translations": translations(attribute.description),
                "hierarchy_code": "",
                "requirement_level": attribute.requirement.as_str(),
                "required": attribute.requirement == Requirement::Required,
                "type": attribute.kind,
                "type_parameter": attribute.values_list,
                "values_list": attribute.values_list,
                "type_parameters": attribute.values_list.map_or_else(Vec::new, |list| {
                    vec![json!({ "name": "LIST_CODE", "value": list })]
                }),
                "roles": attribute.role.map_or_else(Vec::new, |role| {
                    vec![json!({ "type": role, "parameters": [] })]
                }),
                "variant": matches!(attribute.code, "color" | "size"),
                "channels": [],
                "default_value": null,
                "example": null,
            })
        })
        .collect();
    Ok(Json(json!({ "attributes": attributes })))
}

/// VL11 `GET /api/values_lists`: every list, or the one named by `code`.
pub async fn values_lists_handler(
    State(sandbox): State<Sandbox>,
    call: ApiCall,
) -> Result<Json<Value>, ApiError> {
    call.serve(&mut sandbox.world(), Operation::Vl11)?;
    let lists: Vec<Value> = values_lists()
        .into_iter()
        .filter(|(code, _, _)| call.query.get("code").is_none_or(|wanted| wanted == code))
        .map(|(code, label, values)| {
            json!({
                "code": code,
                "label": label,
                "label_translations": translations(label),
                "values": values.iter().map(|value| json!({
                    "code": value,
                    "label": value,
                    "label_translations": translations(value),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({ "values_lists": lists })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_line_without_a_required_attribute_names_it() {
        let sheet = Sheet::parse(
            b"category;shop_sku;title;brand;color\nclothing;TEE-1;Tee;;Red\ntoys;TOY-1;Toy;Acme;Purple\n",
        )
        .unwrap();
        assert_eq!(
            read_product_line(&sheet, &sheet.rows[0]).unwrap_err(),
            "The attribute 'brand' is required"
        );
        assert_eq!(
            read_product_line(&sheet, &sheet.rows[1]).unwrap_err(),
            "The value 'Purple' of attribute 'color' is not in the values list 'colors'"
        );
    }

    #[test]
    fn a_main_image_that_is_not_an_image_url_is_refused() {
        let sheet = Sheet::parse(
            b"category;shop_sku;title;brand;main_image\n\
              toys;A;Toy;Acme;https://cdn.example/a/1.PNG\n\
              toys;B;Toy;Acme;https://cdn.example/a/missing\n\
              toys;C;Toy;Acme;ftp://cdn.example/c.png\n",
        )
        .unwrap();
        assert!(read_product_line(&sheet, &sheet.rows[0]).is_ok());
        for row in &sheet.rows[1..] {
            assert!(
                read_product_line(&sheet, row)
                    .unwrap_err()
                    .contains("could not be downloaded as an image")
            );
        }
    }
}
