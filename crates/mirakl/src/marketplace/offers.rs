//! Offers on a marketplace: imports (OF01 file, OF24 JSON), their tracking (OF02, OF03), the
//! live offers (OF21) and the offer conditions (OF61).
//!
//! Only `NORMAL` imports exist here. `REPLACE` deletes every offer of the shop that is missing
//! from the file; one truncated file would take a seller's whole catalog offline, so the
//! connector never sends it (deletions go line by line with `update-delete=delete`).

use domain::{InstanceUrl, StoreId};
use reqwest::multipart::Form;
use serde::de::Deserializer;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::error_report::ImportErrorLine;
use super::imports::{ImportId, csv_file_part};
use super::{Call, Credential, MarketplaceClient, MarketplaceError, Payload, decode_each};
use crate::wire::number_text;

/// The names a SKU column goes by in an OF03 report: `sku` in OF01 files, `shop_sku` in OF24
/// reports, `offer-sku` in stock and price files.
const OFFER_SKU_COLUMNS: [&str; 3] = ["sku", "shop_sku", "offer-sku"];

/// How OF01 applies a file. `NORMAL` inserts, updates or deletes offer by offer.
///
/// There is deliberately no `Replace`: see the module documentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ImportMode {
    #[default]
    Normal,
}

impl ImportMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "NORMAL",
        }
    }
}

/// Where an offer import stands (OF02 `status`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportStatus {
    Waiting,
    WaitingSynchronizationProduct,
    Running,
    Complete,
    Failed,
    /// A status Mirakl added after this was written.
    Other(String),
}

impl ImportStatus {
    /// Mirakl's name for the status, e.g. `COMPLETE`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Waiting => "WAITING",
            Self::WaitingSynchronizationProduct => "WAITING_SYNCHRONIZATION_PRODUCT",
            Self::Running => "RUNNING",
            Self::Complete => "COMPLETE",
            Self::Failed => "FAILED",
            Self::Other(status) => status,
        }
    }
}

impl From<String> for ImportStatus {
    fn from(status: String) -> Self {
        match status.as_str() {
            "WAITING" => Self::Waiting,
            "WAITING_SYNCHRONIZATION_PRODUCT" => Self::WaitingSynchronizationProduct,
            "RUNNING" => Self::Running,
            "COMPLETE" => Self::Complete,
            "FAILED" => Self::Failed,
            _ => Self::Other(status),
        }
    }
}

impl<'de> Deserialize<'de> for ImportStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}

/// OF02: an offer import and its counters.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct OfferImport {
    pub import_id: ImportId,
    pub status: ImportStatus,
    /// Why the import failed, when it did.
    #[serde(default)]
    pub reason_status: Option<String>,
    /// Whether OF03 has lines in error to show.
    #[serde(default)]
    pub has_error_report: bool,
    #[serde(default)]
    pub lines_read: i64,
    #[serde(default)]
    pub lines_in_success: i64,
    #[serde(default)]
    pub lines_in_error: i64,
    #[serde(default)]
    pub offer_inserted: i64,
    #[serde(default)]
    pub offer_updated: i64,
    #[serde(default)]
    pub offer_deleted: i64,
}

/// One page of OF04.
#[derive(Clone, Debug, Deserialize)]
pub struct OfferImportsPage {
    #[serde(rename = "data")]
    pub imports: Vec<OfferImport>,
    #[serde(default)]
    pub next_page_token: Option<String>,
}

impl OfferImport {
    /// Whether Mirakl is done with the import: its counters and error report are final.
    ///
    /// A status this crate does not know counts as unfinished, so a caller polling with a
    /// deadline never reads the counters of an import still running.
    pub fn is_finished(&self) -> bool {
        match self.status {
            ImportStatus::Complete | ImportStatus::Failed => true,
            ImportStatus::Waiting
            | ImportStatus::WaitingSynchronizationProduct
            | ImportStatus::Running
            | ImportStatus::Other(_) => false,
        }
    }
}

/// OF21: one page of the shop's live offers.
#[derive(Clone, Debug, PartialEq)]
pub struct OffersPage {
    pub offers: Vec<LiveOffer>,
    /// Offers across all pages.
    pub total_count: i64,
}

/// An offer as Mirakl has it now (OF21).
#[derive(Clone, Debug, PartialEq)]
pub struct LiveOffer {
    pub offer_id: i64,
    pub shop_sku: String,
    pub product_sku: Option<String>,
    /// Mirakl's `price`: what a customer pays now, so the discount price while one is in force.
    /// With the digits Mirakl sent (`"19.90"`), never through a float.
    pub price: Option<String>,
    /// The price before any discount: the one an import sets. From `applicable_pricing`, else
    /// the deprecated `discount`, else `price`.
    pub origin_price: Option<String>,
    pub quantity: i64,
    /// The condition code (see [`MarketplaceClient::offer_states`]).
    pub state_code: String,
    pub active: bool,
    /// The discount price set on the offer (`discount.discount_price`), else the one in force
    /// (`applicable_pricing.unit_discount_price`); Mirakl's digits.
    pub discount_price: Option<String>,
    /// The whole offer as Mirakl sent it, for fields not read above.
    pub raw: serde_json::Value,
}

impl LiveOffer {
    fn from_raw(raw: &RawValue) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        struct Fields<'a> {
            offer_id: i64,
            shop_sku: String,
            #[serde(default)]
            product_sku: Option<String>,
            #[serde(default, borrow)]
            price: Option<&'a RawValue>,
            #[serde(default)]
            quantity: i64,
            state_code: String,
            #[serde(default)]
            active: bool,
            #[serde(default, borrow)]
            applicable_pricing: Option<Pricing<'a>>,
            #[serde(default, borrow)]
            discount: Option<Discount<'a>>,
        }
        #[derive(Deserialize)]
        struct Pricing<'a> {
            #[serde(default, borrow)]
            unit_origin_price: Option<&'a RawValue>,
            #[serde(default, borrow)]
            unit_discount_price: Option<&'a RawValue>,
        }
        /// Deprecated by Mirakl in favour of `applicable_pricing`, still sent by many instances.
        #[derive(Deserialize)]
        struct Discount<'a> {
            #[serde(default, borrow)]
            origin_price: Option<&'a RawValue>,
            #[serde(default, borrow)]
            discount_price: Option<&'a RawValue>,
        }

        let fields: Fields<'_> = serde_json::from_str(raw.get())?;
        let pricing = fields.applicable_pricing.as_ref();
        let discount = fields.discount.as_ref();
        let price = fields.price.and_then(number_text);
        let origin_price = pricing
            .and_then(|p| p.unit_origin_price)
            .and_then(number_text)
            .or_else(|| discount.and_then(|d| d.origin_price).and_then(number_text))
            .or_else(|| price.clone());
        let discount_price = discount
            .and_then(|d| d.discount_price)
            .and_then(number_text)
            .or_else(|| {
                pricing
                    .and_then(|p| p.unit_discount_price)
                    .and_then(number_text)
            });
        Ok(Self {
            offer_id: fields.offer_id,
            shop_sku: fields.shop_sku,
            product_sku: fields.product_sku,
            price,
            origin_price,
            quantity: fields.quantity,
            state_code: fields.state_code,
            active: fields.active,
            discount_price,
            raw: serde_json::from_str(raw.get())?,
        })
    }
}

impl MarketplaceClient {
    /// OF01 `POST {instance}/api/offers/imports`: uploads an offer file (see
    /// [`crate::offers_file::write_offers_csv`]) as `file` (`offers.csv`, `text/csv`) with
    /// `import_mode`. Mirakl answers at once; follow the import with [`Self::offer_import`].
    pub async fn import_offers(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        csv: Vec<u8>,
        mode: ImportMode,
    ) -> Result<ImportId, MarketplaceError> {
        let form = Form::new()
            .part("file", csv_file_part(csv, "offers.csv"))
            .text("import_mode", mode.as_str());
        let call = Call::post(vec!["offers", "imports"], Payload::Multipart(form));
        self.start_import(instance, credential, shop_id, call).await
    }

    /// OF24 `POST {instance}/api/offers` with `{"offers": […]}`: an import like OF01, tracked
    /// the same way. Each offer replaces the whole offer on Mirakl (build them with
    /// [`crate::offers_file::offer_json`]).
    pub async fn upsert_offers(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        offers: &[serde_json::Value],
    ) -> Result<ImportId, MarketplaceError> {
        #[derive(Serialize)]
        struct Body<'a> {
            offers: &'a [serde_json::Value],
        }
        let call = Call::post(vec!["offers"], Payload::json(&Body { offers })?);
        self.start_import(instance, credential, shop_id, call).await
    }

    /// OF02 `GET {instance}/api/offers/imports/{id}`: where the import stands.
    pub async fn offer_import(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        id: &ImportId,
    ) -> Result<OfferImport, MarketplaceError> {
        let call = Call::get(vec!["offers", "imports", id.as_str()]);
        self.call_json(instance, credential, shop_id, call).await
    }

    /// OF04 `GET {instance}/api/offers/imports?start_date=&limit=&page_token=`: one page of the
    /// shop's offer imports created since `since`, newest first, each as OF02 describes it. One
    /// call follows every open import at once, where OF02 takes one call per import.
    pub async fn offer_imports(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        since: time::OffsetDateTime,
        page_token: Option<&str>,
    ) -> Result<OfferImportsPage, MarketplaceError> {
        let since = since
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| MarketplaceError::Decode(format!("start_date: {e}")))?;
        let mut query = vec![("start_date", since), ("limit", "100".to_owned())];
        if let Some(token) = page_token {
            query.push(("page_token", token.to_owned()));
        }
        let call = Call {
            query: &query,
            ..Call::get(vec!["offers", "imports"])
        };
        self.call_json(instance, credential, shop_id, call).await
    }

    /// OF03 `GET {instance}/api/offers/imports/{id}/error_report`: the lines Mirakl refused, with
    /// its reason for each. An import without a report (404) has no lines in error.
    pub async fn offer_import_errors(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        id: &ImportId,
    ) -> Result<Vec<ImportErrorLine>, MarketplaceError> {
        let segments = vec!["offers", "imports", id.as_str(), "error_report"];
        self.import_errors(instance, credential, shop_id, segments, &OFFER_SKU_COLUMNS)
            .await
    }

    /// OF21 `GET {instance}/api/offers?offset=&max=`: one page of the shop's offers.
    pub async fn offers_page(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        offset: u32,
        max: u32,
    ) -> Result<OffersPage, MarketplaceError> {
        #[derive(Deserialize)]
        struct Page {
            offers: Vec<Box<RawValue>>,
            #[serde(default)]
            total_count: i64,
        }
        let query = [("offset", offset.to_string()), ("max", max.to_string())];
        let call = Call {
            query: &query,
            ..Call::get(vec!["offers"])
        };
        let page: Page = self.call_json(instance, credential, shop_id, call).await?;
        let offers = decode_each(
            "GET /api/offers",
            "offers",
            &page.offers,
            LiveOffer::from_raw,
        )?;
        Ok(OffersPage {
            offers,
            total_count: page.total_count,
        })
    }

    /// OF61 `GET {instance}/api/offers/states`: the offer conditions the operator defines, as
    /// `(code, label)`, e.g. `("11", "New")`.
    pub async fn offer_states(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
    ) -> Result<Vec<(String, String)>, MarketplaceError> {
        #[derive(Deserialize)]
        struct States {
            offer_states: Vec<State>,
        }
        #[derive(Deserialize)]
        struct State {
            code: String,
            label: String,
        }
        let states: States = self
            .call_json(
                instance,
                credential,
                shop_id,
                Call::get(vec!["offers", "states"]),
            )
            .await?;
        Ok(states
            .offer_states
            .into_iter()
            .map(|state| (state.code, state.label))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_keep_mirakls_names() {
        for name in [
            "WAITING",
            "WAITING_SYNCHRONIZATION_PRODUCT",
            "RUNNING",
            "COMPLETE",
            "FAILED",
            "QUEUED",
        ] {
            assert_eq!(ImportStatus::from(name.to_owned()).as_str(), name);
        }
    }

    #[test]
    fn prices_keep_mirakls_digits() {
        let offer: Box<RawValue> = serde_json::from_str(
            r#"{"offer_id":1,"shop_sku":"A","price":19.90,"state_code":"11",
                "discount":{"discount_price":"15.00"}}"#,
        )
        .unwrap();
        let offer = LiveOffer::from_raw(&offer).unwrap();
        assert_eq!(offer.price.as_deref(), Some("19.90"));
        assert_eq!(offer.origin_price.as_deref(), Some("19.90"));
        assert_eq!(offer.discount_price.as_deref(), Some("15.00"));
        assert_eq!(offer.quantity, 0);
        assert!(!offer.active);
    }
}
