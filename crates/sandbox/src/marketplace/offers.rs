//! A shop's offers: what one line of an offer import means (OF01's CSV columns, OF24's JSON
//! fields turned into the same columns), how an offer reads in OF21, and the OF21, OF24 and
//! OF61 endpoints. An offer import's file and listing (OF01, OF04) are `offer_imports`, its life
//! (waiting, running, complete, its error report) is `imports`.
//!
//! An import line replaces the whole offer: a field it leaves empty goes back to its default
//! (quantity 0, no discount), as Mirakl documents for OF24 and for OF01's NORMAL mode.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::Sandbox;
use crate::gate::Operation;
use crate::marketplace::catalog::{Catalog, OFFER_STATES, ReferenceType};
use crate::marketplace::imports;
use crate::marketplace::offer_imports::{ImportMode, OfferLines};
use crate::marketplace::sheet::{Row, Sheet};
use crate::marketplace::{ApiCall, ApiError, OffsetPaging};
use crate::values::clock::{format_mirakl, parse_mirakl};
use crate::values::money::Money;

/// An offer of a shop.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub offer_id: i64,
    pub shop_sku: String,
    /// The catalog product it sells (`MKP…`).
    pub product_sku: String,
    pub terms: OfferTerms,
}

/// Everything an import line sets.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferTerms {
    pub price: Money,
    pub quantity: i64,
    pub state_code: String,
    pub description: String,
    pub internal_description: String,
    pub discount: Option<Discount>,
    pub leadtime_to_ship: Option<i64>,
    pub logistic_class: Option<String>,
    pub min_quantity_alert: Option<i64>,
    pub available_start: Option<OffsetDateTime>,
    pub available_end: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Discount {
    pub price: Money,
    pub start: Option<OffsetDateTime>,
    pub end: Option<OffsetDateTime>,
}

/// What a valid line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum LineAction {
    Upsert {
        product_sku: String,
        terms: Box<OfferTerms>,
    },
    Delete,
}

/// `update-delete`: empty means update.
fn wants_delete(raw: &str) -> Result<bool, String> {
    match raw.to_ascii_lowercase().as_str() {
        "" | "update" => Ok(false),
        "delete" => Ok(true),
        _ => Err(format!(
            "The update-delete value '{raw}' is not valid: use update, delete or leave it empty"
        )),
    }
}

/// A price column: a positive decimal, with a point or a comma (Mirakl's own example file
/// has both).
fn price(raw: &str) -> Option<Money> {
    Money::parse(&raw.replace(',', ".")).filter(|money| money.0 > 0)
}

/// An optional whole number of 0 or more.
fn count(sheet: &Sheet, row: &Row, column: &str, what: &str) -> Result<Option<i64>, String> {
    let raw = sheet.value(row, column);
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .map(Some)
        .ok_or_else(|| format!("The {what} is not valid"))
}

fn date(
    sheet: &Sheet,
    row: &Row,
    column: &str,
    what: &str,
) -> Result<Option<OffsetDateTime>, String> {
    let raw = sheet.value(row, column);
    if raw.is_empty() {
        return Ok(None);
    }
    parse_mirakl(raw)
        .map(Some)
        .ok_or_else(|| format!("The {what} is not valid"))
}

/// Reads one line: the checks run in the order a seller fixes them, and the first that fails
/// is the line's error message. `existing` is the shop's offer with the line's SKU.
pub fn read_line(
    sheet: &Sheet,
    row: &Row,
    catalog: &Catalog,
    shop_id: i64,
    existing: Option<&Offer>,
) -> Result<LineAction, String> {
    if wants_delete(sheet.value(row, "update-delete"))? {
        return match existing {
            Some(_) => Ok(LineAction::Delete),
            None => Err("The offer to delete does not exist".to_owned()),
        };
    }
    let product_id = sheet.value(row, "product-id");
    let product_sku = if product_id.is_empty() {
        // An update may leave the product out: the offer keeps the one it has.
        existing
            .map(|offer| offer.product_sku.clone())
            .ok_or_else(|| {
                "The product-id and product-id-type are required to create an offer".to_owned()
            })?
    } else {
        let raw_type = sheet.value(row, "product-id-type");
        let kind = ReferenceType::parse(raw_type).ok_or_else(|| {
            format!("The product-id-type '{raw_type}' is not valid: use EAN, UPC, SKU or SHOP_SKU")
        })?;
        catalog
            .find(shop_id, kind, product_id)
            .map(|product| product.sku.clone())
            .ok_or_else(|| "The product does not exist".to_owned())?
    };
    let price = price(sheet.value(row, "price")).ok_or("The price is not valid")?;
    let quantity = count(sheet, row, "quantity", "quantity")?.unwrap_or(0);
    let state_code = sheet.value(row, "state");
    if state_code.is_empty() {
        return Err("The offer state is missing".to_owned());
    }
    if !OFFER_STATES.iter().any(|(code, _)| *code == state_code) {
        return Err(format!("The offer state '{state_code}' does not exist"));
    }
    let discount_price = sheet.value(row, "discount-price");
    let discount = if discount_price.is_empty() {
        None
    } else {
        let discount_price =
            self::price(discount_price).ok_or("The discount price is not valid")?;
        if discount_price >= price {
            return Err("The discount price must be lower than the price".to_owned());
        }
        let start = date(sheet, row, "discount-start-date", "discount start date")?;
        let end = date(sheet, row, "discount-end-date", "discount end date")?;
        if let (Some(start), Some(end)) = (start, end)
            && end < start
        {
            return Err("The discount end date must be after its start date".to_owned());
        }
        Some(Discount {
            price: discount_price,
            start,
            end,
        })
    };
    let non_empty =
        |column: &str| Some(sheet.value(row, column).to_owned()).filter(|v| !v.is_empty());
    Ok(LineAction::Upsert {
        product_sku,
        terms: Box::new(OfferTerms {
            price,
            quantity,
            state_code: state_code.to_owned(),
            description: sheet.value(row, "description").to_owned(),
            internal_description: sheet.value(row, "internal-description").to_owned(),
            discount,
            leadtime_to_ship: count(sheet, row, "leadtime-to-ship", "leadtime to ship")?,
            logistic_class: non_empty("logistic-class"),
            min_quantity_alert: count(sheet, row, "min-quantity-alert", "minimum quantity alert")?,
            available_start: date(sheet, row, "available-start-date", "available start date")?,
            available_end: date(sheet, row, "available-end-date", "available end date")?,
        }),
    })
}

/// OF24's fields as OF01 columns: `(column, field)`; a dotted field is nested.
const OF24_COLUMNS: [(&str, &str); 17] = [
    ("sku", "shop_sku"),
    ("product-id", "product_id"),
    ("product-id-type", "product_id_type"),
    ("description", "description"),
    ("internal-description", "internal_description"),
    ("price", "price"),
    ("quantity", "quantity"),
    ("state", "state_code"),
    ("discount-price", "discount.price"),
    ("discount-start-date", "discount.start_date"),
    ("discount-end-date", "discount.end_date"),
    ("update-delete", "update_delete"),
    ("leadtime-to-ship", "leadtime_to_ship"),
    ("logistic-class", "logistic_class"),
    ("min-quantity-alert", "min_quantity_alert"),
    ("available-start-date", "available_started"),
    ("available-end-date", "available_ended"),
];

/// An OF24 body as an import sheet; a body Mirakl would refuse outright is a 400. Numbers may
/// come as strings, as in Mirakl's own example.
fn of24_sheet(body: &[u8]) -> Result<Sheet, ApiError> {
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, message);
    let body: Value = serde_json::from_slice(body)
        .map_err(|error| bad(format!("The body is not valid JSON: {error}.")))?;
    let offers = body
        .get("offers")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("The body must be {\"offers\": [...]}.".to_owned()))?;
    if offers.is_empty() {
        return Err(bad("offers must contain at least one offer.".to_owned()));
    }
    let datatype = |field: &str| {
        bad(format!(
            "Error with field offers.{field}. Please check the field datatype."
        ))
    };
    let mut rows = Vec::with_capacity(offers.len());
    for (index, offer) in offers.iter().enumerate() {
        let offer = offer.as_object().ok_or_else(|| datatype("[]"))?;
        if offer
            .get("discount")
            .is_some_and(|d| !d.is_object() && !d.is_null())
        {
            return Err(datatype("discount"));
        }
        let mut values = Vec::with_capacity(OF24_COLUMNS.len());
        for (_, field) in OF24_COLUMNS {
            let value = match field.split_once('.') {
                Some((outer, inner)) => offer.get(outer).and_then(|outer| outer.get(inner)),
                None => offer.get(field),
            };
            values.push(match value {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(text)) => text.clone(),
                Some(Value::Number(number)) => number.to_string(),
                Some(Value::Bool(flag)) => flag.to_string(),
                Some(_) => return Err(datatype(field)),
            });
        }
        rows.push(Row {
            line: index as u64 + 1,
            values,
        });
    }
    Ok(Sheet {
        columns: OF24_COLUMNS
            .iter()
            .map(|(column, _)| (*column).to_owned())
            .collect(),
        rows,
    })
}

fn amount(money: Money) -> Value {
    money.to_json()
}

impl OfferTerms {
    /// The price a customer pays at `now`: the discount price while it applies.
    pub fn applicable_price(&self, now: OffsetDateTime) -> Money {
        self.current_discount(now)
            .map_or(self.price, |discount| discount.price)
    }

    /// Whether a customer can buy it at `now` (OF21's `active`).
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.quantity > 0 && self.available(now)
    }

    /// The discount, if it applies at `now`.
    fn current_discount(&self, now: OffsetDateTime) -> Option<&Discount> {
        self.discount.as_ref().filter(|discount| {
            discount.start.is_none_or(|start| start <= now)
                && discount.end.is_none_or(|end| now < end)
        })
    }

    fn available(&self, now: OffsetDateTime) -> bool {
        self.available_start.is_none_or(|start| start <= now)
            && self.available_end.is_none_or(|end| now < end)
    }
}

/// The logistic classes OF21 labels; ASSUMPTION: operators define their own, these are the
/// ones Mirakl's examples use.
fn logistic_class_label(code: &str) -> &str {
    match code {
        "XS" => "Extra small",
        "S" => "Small",
        "M" => "Medium",
        "L" => "Large",
        "XL" => "Extra large",
        other => other,
    }
}

/// An offer as OF21 shows it.
pub fn offer_json(offer: &Offer, catalog: &Catalog, shop_id: i64, currency: &str) -> Value {
    let now = OffsetDateTime::now_utc();
    let terms = &offer.terms;
    let product = catalog.get(&offer.product_sku);
    let discount = terms.current_discount(now);
    let applicable = discount.map_or(terms.price, |discount| discount.price);
    let mut inactivity_reasons = Vec::new();
    if terms.quantity == 0 {
        inactivity_reasons.push("ZERO_QUANTITY");
    }
    if !terms.available(now) {
        inactivity_reasons.push("NOT_AVAILABLE");
    }
    let date = |at: Option<OffsetDateTime>| at.map(format_mirakl);
    let pricing = json!({
        "price": amount(applicable),
        "unit_origin_price": amount(terms.price),
        "unit_discount_price": discount.map(|d| amount(d.price)),
        "discount_start_date": discount.and_then(|d| date(d.start)),
        "discount_end_date": discount.and_then(|d| date(d.end)),
        "volume_prices": [{
            "price": amount(applicable),
            "quantity_threshold": 1,
            "unit_origin_price": amount(terms.price),
            "unit_discount_price": discount.map(|d| amount(d.price)),
        }],
    });
    let mut body = json!({
        "offer_id": offer.offer_id,
        "shop_sku": offer.shop_sku,
        "product_sku": offer.product_sku,
        "product_title": product.map(|p| p.title.as_str()),
        "product_brand": product.map(|p| p.brand.as_str()),
        "product_references": product.map_or_else(Vec::new, |product| {
            Catalog::references(product, shop_id)
                .into_iter()
                .map(|(kind, reference)| json!({ "reference": reference, "reference_type": kind.as_str() }))
                .collect()
        }),
        "category_code": product.map(|p| p.category.as_str()),
        "price": amount(applicable),
        "total_price": amount(applicable),
        "min_shipping_price": 0,
        "quantity": terms.quantity,
        "state_code": terms.state_code,
        "active": inactivity_reasons.is_empty(),
        "inactivity_reasons": inactivity_reasons,
        "currency_iso_code": currency,
        "description": terms.description,
        "internal_description": terms.internal_description,
        "applicable_pricing": pricing,
        "all_prices": [pricing],
        "allow_quote_requests": false,
        "channels": [],
        "leadtime_to_ship": terms.leadtime_to_ship,
        "logistic_class": terms.logistic_class.as_deref().map(|code| json!({ "code": code, "label": logistic_class_label(code) })),
        "min_quantity_alert": terms.min_quantity_alert,
        "available_start_date": date(terms.available_start),
        "available_end_date": date(terms.available_end),
    });
    if let Some(discount) = &terms.discount {
        body["discount"] = json!({
            "discount_price": amount(discount.price),
            "origin_price": amount(terms.price),
            "start_date": date(discount.start),
            "end_date": date(discount.end),
            "ranges": [],
        });
    }
    if let Value::Object(fields) = &mut body {
        fields.retain(|_, value| !value.is_null());
    }
    body
}

/// OF24 `POST /api/offers`: the offers become an import, tracked with OF02 and OF03 like an
/// OF01 file, in NORMAL mode.
pub async fn upsert(
    State(sandbox): State<Sandbox>,
    call: ApiCall,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut world = sandbox.world();
    let shop_id = call.serve(&mut world, Operation::Of24)?;
    let sheet = of24_sheet(&body)?;
    let lines = OfferLines {
        mode: ImportMode::Normal,
    };
    let import_id = call
        .marketplace(&mut world)?
        .create_import(shop_id, lines, Ok(sheet));
    Ok(imports::created(import_id))
}

/// OF21's sort fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortBy {
    TotalPrice,
    Price,
    ProductTitle,
}

/// OF21 `GET /api/offers`: offset pagination (`offset`, `max` default 10, `paginate`), filters
/// `sku`, `product_id` and `offer_state_codes`, `sort` totalPrice (default), price or
/// productTitle, `order` asc or desc.
///
/// ASSUMPTION: a `max` above 100 is served as 100 (the ceiling practitioners cite).
pub async fn list(State(sandbox): State<Sandbox>, call: ApiCall) -> Result<Json<Value>, ApiError> {
    let mut world = sandbox.world();
    let shop_id = call.serve(&mut world, Operation::Of21)?;
    let query = &call.query;
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, message);
    let paging = OffsetPaging::from_query(query)?;
    let sort = match query.get("sort").map(String::as_str) {
        None | Some("totalPrice") => SortBy::TotalPrice,
        Some("price") => SortBy::Price,
        Some("productTitle") => SortBy::ProductTitle,
        Some(other) => {
            return Err(bad(format!(
                "sort '{other}' is not supported: use totalPrice, price or productTitle."
            )));
        }
    };
    let states: Option<Vec<&str>> = query
        .get("offer_state_codes")
        .map(|codes| codes.split(',').map(str::trim).collect());
    let marketplace = call.marketplace(&mut world)?;
    let store = &marketplace.stores[&shop_id];
    let mut offers: Vec<Value> = store
        .offers
        .values()
        .filter(|offer| query.get("sku").is_none_or(|sku| &offer.shop_sku == sku))
        .filter(|offer| {
            query
                .get("product_id")
                .is_none_or(|sku| &offer.product_sku == sku)
        })
        .filter(|offer| {
            states
                .as_ref()
                .is_none_or(|states| states.contains(&offer.terms.state_code.as_str()))
        })
        .map(|offer| {
            offer_json(
                offer,
                &marketplace.catalog,
                shop_id,
                &store.currency_iso_code,
            )
        })
        .collect();
    let key = |offer: &Value| -> (String, f64, i64) {
        let title = offer["product_title"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let price = offer["price"].as_f64().unwrap_or_default();
        let id = offer["offer_id"].as_i64().unwrap_or_default();
        match sort {
            SortBy::ProductTitle => (title, price, id),
            SortBy::TotalPrice | SortBy::Price => (String::new(), price, id),
        }
    };
    offers.sort_by(|a, b| {
        let (a, b) = (key(a), key(b));
        a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2))
    });
    let total_count = offers.len();
    let page = paging.page(offers);
    Ok(Json(json!({ "offers": page, "total_count": total_count })))
}

/// OF61 `GET /api/offers/states`: the offer conditions.
pub async fn states(
    State(sandbox): State<Sandbox>,
    call: ApiCall,
) -> Result<Json<Value>, ApiError> {
    call.serve(&mut sandbox.world(), Operation::Of61)?;
    let states: Vec<Value> = OFFER_STATES
        .iter()
        .map(|(code, label)| json!({ "code": code, "label": label }))
        .collect();
    Ok(Json(
        json!({ "total_count": states.len(), "offer_states": states }),
    ))
}

/// The sandbox's view of a shop's offers, by SKU, for tests and the control API.
pub fn shop_offers(catalog: &Catalog, store: &crate::world::Store) -> Vec<Value> {
    store
        .offers
        .values()
        .map(|offer| offer_json(offer, catalog, store.shop_id, &store.currency_iso_code))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marketplace::catalog::NewProduct;

    fn catalog() -> (Catalog, String) {
        let mut catalog = Catalog::default();
        let sku = catalog.add(NewProduct {
            title: "Lamp".into(),
            gtin: Some("4006381333931".into()),
            ..NewProduct::default()
        });
        (catalog, sku)
    }

    fn line(file: &str, catalog: &Catalog) -> Result<LineAction, String> {
        let sheet = Sheet::parse(file.as_bytes()).unwrap();
        read_line(&sheet, &sheet.rows[0], catalog, 1, None)
    }

    #[test]
    fn a_full_line_reads_into_terms() {
        let (catalog, sku) = catalog();
        let action = line(
            "sku;product-id;product-id-type;price;quantity;state;discount-price;discount-start-date\n\
             A;4006381333931;EAN;19,90;5;11;15.5;2017-02-20T10:45:53+01\n",
            &catalog,
        )
        .unwrap();
        let LineAction::Upsert { product_sku, terms } = action else {
            panic!("expected an upsert");
        };
        assert_eq!(product_sku, sku);
        assert_eq!(terms.price, Money(1990));
        assert_eq!(terms.quantity, 5);
        let discount = terms.discount.unwrap();
        assert_eq!(discount.price, Money(1550));
        assert_eq!(
            format_mirakl(discount.start.unwrap()),
            "2017-02-20T09:45:53Z"
        );
    }

    #[test]
    fn each_bad_value_has_its_message() {
        let (catalog, _) = catalog();
        let header = "sku;product-id;product-id-type;price;quantity;state;update-delete\n";
        let cases = [
            ("A;0000000000000;EAN;10;1;11;", "The product does not exist"),
            ("A;4006381333931;EAN;0;1;11;", "The price is not valid"),
            ("A;4006381333931;EAN;abc;1;11;", "The price is not valid"),
            ("A;4006381333931;EAN;;1;11;", "The price is not valid"),
            ("A;4006381333931;EAN;10;-1;11;", "The quantity is not valid"),
            (
                "A;4006381333931;EAN;10;1.5;11;",
                "The quantity is not valid",
            ),
            (
                "A;4006381333931;EAN;10;1;99;",
                "The offer state '99' does not exist",
            ),
            (
                "A;4006381333931;GTIN;10;1;11;",
                "The product-id-type 'GTIN' is not valid: use EAN, UPC, SKU or SHOP_SKU",
            ),
            ("A;;;10;1;11;delete", "The offer to delete does not exist"),
        ];
        for (row, message) in cases {
            assert_eq!(
                line(&format!("{header}{row}\n"), &catalog),
                Err(message.to_owned()),
                "{row}"
            );
        }
    }

    #[test]
    fn an_of24_body_becomes_the_same_columns() {
        let sheet = of24_sheet(
            br#"{"offers":[{"shop_sku":"A","product_id":"4006381333931","product_id_type":"EAN","price":50,"quantity":"5","state_code":"11","update_delete":"update","discount":{"price":40}}]}"#,
        )
        .unwrap();
        let row = &sheet.rows[0];
        assert_eq!(row.line, 1);
        assert_eq!(sheet.value(row, "sku"), "A");
        assert_eq!(sheet.value(row, "quantity"), "5");
        assert_eq!(sheet.value(row, "discount-price"), "40");
        let error = of24_sheet(br#"{"offers":[{"shop_sku":"A","logistic_class":{"code":"M"}}]}"#)
            .unwrap_err();
        assert!(
            error.message.contains("offers.logistic_class"),
            "{}",
            error.message
        );
    }
}
