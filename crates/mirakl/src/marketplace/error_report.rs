//! The error report of an import: OF03 for offers, P44 for products. Mirakl sends back the
//! lines it refused as the submitted CSV (`;`, values double-quoted) with two columns added,
//! `error-line` and `error-message`.
//!
//! P44 is documented as CSV only when the operator runs Mirakl Catalog Manager, otherwise "in a
//! format defined by the operator"; a report without `error-message` is refused as unreadable
//! rather than guessed at.

use domain::{InstanceUrl, StoreId};

use super::{Call, Credential, MarketplaceClient, MarketplaceError};

/// One line of an import that Mirakl refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportErrorLine {
    /// The line number in the submitted file, as Mirakl counts it.
    pub line: Option<i64>,
    /// The SKU of the offer or product, when the report has the SKU column.
    pub sku: Option<String>,
    /// Mirakl's reason, e.g. "The product does not exist".
    pub message: String,
}

const LINE_COLUMN: &str = "error-line";
const MESSAGE_COLUMN: &str = "error-message";

/// Why a report could not be read.
#[derive(Debug, thiserror::Error)]
enum ReportError {
    #[error("the error report is not `;`-separated CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("the error report has no `error-message` column")]
    NoMessageColumn,
}

impl MarketplaceClient {
    /// `GET {instance}/api/{segments}` (OF03, P44): the lines Mirakl refused, their SKU from the
    /// first of `sku_columns` the report has. An import without a report (404) has no lines in
    /// error.
    pub(super) async fn import_errors(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        segments: Vec<&str>,
        sku_columns: &[&str],
    ) -> Result<Vec<ImportErrorLine>, MarketplaceError> {
        let call = Call {
            // The report is a file; JSON stays preferred so errors keep Mirakl's message.
            accept: "application/json, */*;q=0.1",
            ..Call::get(segments)
        };
        let what = call.describe();
        match self.call(instance, credential, shop_id, call).await {
            Ok(report) => parse_error_report(&report, sku_columns)
                .map_err(|error| MarketplaceError::Decode(format!("{what}: {error}"))),
            Err(MarketplaceError::NotFound(_)) => Ok(Vec::new()),
            Err(error) => Err(error),
        }
    }
}

/// Reads a report; column names are compared without case, since attribute codes that name a
/// product report's SKU column keep theirs (`shopSku`).
fn parse_error_report(
    report: &[u8],
    sku_columns: &[&str],
) -> Result<Vec<ImportErrorLine>, ReportError> {
    if report.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_reader(report);
    let headers: Vec<String> = reader
        .headers()?
        .iter()
        .map(|name| name.trim_start_matches('\u{feff}').trim().to_owned())
        .collect();
    let column = |name: &str| {
        headers
            .iter()
            .position(|header| header.eq_ignore_ascii_case(name))
    };
    let message = column(MESSAGE_COLUMN).ok_or(ReportError::NoMessageColumn)?;
    let line = column(LINE_COLUMN);
    let sku = sku_columns.iter().find_map(|name| column(name));

    let mut lines = Vec::new();
    for record in reader.records() {
        let record = record?;
        if record.iter().all(|value| value.trim().is_empty()) {
            continue;
        }
        let value = |index: Option<usize>| {
            index
                .and_then(|index| record.get(index))
                .map(str::trim)
                .filter(|value| !value.is_empty())
        };
        lines.push(ImportErrorLine {
            line: value(line).and_then(|line| line.parse().ok()),
            sku: value(sku).map(str::to_owned),
            message: value(Some(message)).unwrap_or_default().to_owned(),
        });
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mirakls_example_report() {
        let report = concat!(
            "\"sku\";\"product-id\";\"price\";\"error-line\";\"error-message\"\n",
            "\"OFFER_SKU_004\";\"MKP1\";\"110.52\";\"2\";\"The product does not exist\"\n",
        );
        assert_eq!(
            parse_error_report(report.as_bytes(), &["sku"]).unwrap(),
            vec![ImportErrorLine {
                line: Some(2),
                sku: Some("OFFER_SKU_004".to_owned()),
                message: "The product does not exist".to_owned(),
            }]
        );
    }

    #[test]
    fn an_empty_report_has_no_lines() {
        assert!(parse_error_report(b"", &["sku"]).unwrap().is_empty());
        assert!(parse_error_report(b"\n", &["sku"]).unwrap().is_empty());
    }

    #[test]
    fn a_product_report_takes_the_sku_from_the_attribute_the_file_used() {
        let report = concat!(
            "\"category\";\"shopSku\";\"title\";\"error-line\";\"error-message\"\n",
            "\"clothing\";\"TEE-1\";\"Tee; red\";\"3\";\"The attribute 'brand' is required\"\n",
        );
        let lines = parse_error_report(report.as_bytes(), &["shopsku"]).unwrap();
        assert_eq!(
            lines,
            [ImportErrorLine {
                line: Some(3),
                sku: Some("TEE-1".to_owned()),
                message: "The attribute 'brand' is required".to_owned(),
            }]
        );
        let without_sku = parse_error_report(report.as_bytes(), &["sku"]).unwrap();
        assert_eq!(without_sku[0].sku, None, "no column is guessed");
    }

    #[test]
    fn a_report_without_messages_is_refused() {
        assert!(matches!(
            parse_error_report(b"sku;price\nA;1\n", &["sku"]),
            Err(ReportError::NoMessageColumn)
        ));
    }
}
