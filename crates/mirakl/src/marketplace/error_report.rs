//! OF03: the error report of an offer import. Mirakl sends back the submitted CSV (`;`,
//! values double-quoted) with two columns added, `error-line` and `error-message`.

/// One line of an import that Mirakl refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportErrorLine {
    /// The line number in the submitted file, as Mirakl counts it.
    pub line: Option<i64>,
    /// The offer's SKU, when the report has a SKU column.
    pub sku: Option<String>,
    /// Mirakl's reason, e.g. "The product does not exist".
    pub message: String,
}

/// The names a SKU column goes by: `sku` in OF01 files, `shop_sku` in OF24 reports,
/// `offer-sku` in stock and price files.
const SKU_COLUMNS: [&str; 3] = ["sku", "shop_sku", "offer-sku"];
const LINE_COLUMN: &str = "error-line";
const MESSAGE_COLUMN: &str = "error-message";

/// Why a report could not be read.
#[derive(Debug, thiserror::Error)]
pub(super) enum ReportError {
    #[error("the error report is not `;`-separated CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("the error report has no `error-message` column")]
    NoMessageColumn,
}

pub(super) fn parse_error_report(report: &[u8]) -> Result<Vec<ImportErrorLine>, ReportError> {
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
        .map(|name| {
            name.trim_start_matches('\u{feff}')
                .trim()
                .to_ascii_lowercase()
        })
        .collect();
    let column = |name: &str| headers.iter().position(|header| header == name);
    let message = column(MESSAGE_COLUMN).ok_or(ReportError::NoMessageColumn)?;
    let line = column(LINE_COLUMN);
    let sku = SKU_COLUMNS.iter().find_map(|name| column(name));

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
            parse_error_report(report.as_bytes()).unwrap(),
            vec![ImportErrorLine {
                line: Some(2),
                sku: Some("OFFER_SKU_004".to_owned()),
                message: "The product does not exist".to_owned(),
            }]
        );
    }

    #[test]
    fn an_empty_report_has_no_lines() {
        assert!(parse_error_report(b"").unwrap().is_empty());
        assert!(parse_error_report(b"\n").unwrap().is_empty());
    }

    #[test]
    fn a_report_without_messages_is_refused() {
        assert!(matches!(
            parse_error_report(b"sku;price\nA;1\n"),
            Err(ReportError::NoMessageColumn)
        ));
    }
}
