//! The one place an offer is written the way Mirakl reads it: a line of the OF01 CSV file
//! ([`write_offers_csv`]) or an OF24 JSON offer ([`offer_json`]).
//!
//! Both carry the same fields, so an offer sent either way ends up the same on Mirakl. Fields
//! an [`OfferLine`] does not hold (logistic class, lead time, …) take Mirakl's defaults.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::import_file::ImportFileWriter;

/// The OF01 columns, in the order [`write_offers_csv`] writes them.
const COLUMNS: [&str; 11] = [
    "sku",
    "product-id",
    "product-id-type",
    "description",
    "price",
    "quantity",
    "state",
    "discount-price",
    "discount-start-date",
    "discount-end-date",
    "update-delete",
];

/// What an import does with the offer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UpdateDelete {
    /// Create the offer or update it.
    #[default]
    Update,
    /// Remove the offer from the marketplace.
    Delete,
}

impl UpdateDelete {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

/// One offer as Mirakl imports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferLine {
    /// The seller's SKU (Mirakl's `shop_sku`).
    pub sku: String,
    /// The product the offer sells, e.g. an EAN.
    pub product_id: String,
    /// How `product_id` is to be read: `SKU`, `EAN`, … (operator-defined).
    pub product_id_type: String,
    pub description: String,
    /// A decimal with a dot, e.g. `"19.90"`.
    pub price: String,
    pub quantity: i64,
    /// The condition code from OF61, e.g. `"11"`.
    pub state: String,
    /// A decimal with a dot.
    pub discount_price: Option<String>,
    /// ISO 8601 UTC, e.g. `"2026-03-01T00:00:00Z"`.
    pub discount_start: Option<String>,
    /// ISO 8601 UTC.
    pub discount_end: Option<String>,
    pub update_delete: UpdateDelete,
}

/// Writes the OF01 file: a header row, then one row per offer, `;`-separated, values quoted only
/// when they hold `;`, a quote or a line break. Rows go out as they come, so a file of any size
/// takes constant memory.
///
/// Returns the number of bytes written.
pub fn write_offers_csv<W: Write>(
    lines: impl IntoIterator<Item = OfferLine>,
    out: W,
) -> io::Result<u64> {
    let mut file = ImportFileWriter::new(out, COLUMNS)?;
    for line in lines {
        write_offer_row(&mut file, &line)?;
    }
    file.finish()
}

/// An OF01 file written one offer at a time, as an export meets them: the file grows, not a
/// list of offers waiting to be written.
pub struct OffersFile<W: Write> {
    file: ImportFileWriter<W>,
    lines: usize,
}

impl<W: Write> OffersFile<W> {
    /// Starts the file with its header row.
    pub fn new(out: W) -> io::Result<Self> {
        Ok(Self {
            file: ImportFileWriter::new(out, COLUMNS)?,
            lines: 0,
        })
    }

    pub fn write(&mut self, line: &OfferLine) -> io::Result<()> {
        write_offer_row(&mut self.file, line)?;
        self.lines += 1;
        Ok(())
    }

    /// The offers written so far.
    pub fn lines(&self) -> usize {
        self.lines
    }

    /// Flushes the file and gives `out` back.
    pub fn finish(self) -> io::Result<W> {
        self.file.into_inner()
    }
}

fn write_offer_row<W: Write>(file: &mut ImportFileWriter<W>, line: &OfferLine) -> io::Result<()> {
    let mut quantity = itoa::Buffer::new();
    let quantity = quantity.format(line.quantity);
    file.write_row([
        line.sku.as_str(),
        &line.product_id,
        &line.product_id_type,
        &line.description,
        &line.price,
        quantity,
        &line.state,
        line.discount_price.as_deref().unwrap_or_default(),
        line.discount_start.as_deref().unwrap_or_default(),
        line.discount_end.as_deref().unwrap_or_default(),
        line.update_delete.as_str(),
    ])
}

/// The offer as an OF24 JSON object.
///
/// OF24 replaces the whole offer: a field left out is reset on Mirakl (quantity to 0, the
/// discount cleared). So every field is written, `null` where there is no value.
pub fn offer_json(line: &OfferLine) -> Value {
    let discount = match &line.discount_price {
        Some(price) => json!({
            "price": decimal(price),
            "start_date": line.discount_start,
            "end_date": line.discount_end,
        }),
        None => Value::Null,
    };
    json!({
        "shop_sku": line.sku,
        "product_id": line.product_id,
        "product_id_type": line.product_id_type,
        "description": line.description,
        "price": decimal(&line.price),
        "quantity": line.quantity,
        "state_code": line.state,
        "discount": discount,
        "update_delete": line.update_delete.as_str(),
    })
}

/// A decimal as a JSON number, as OF24 documents prices; a value that is no number is sent as
/// written so that Mirakl's refusal names it.
fn decimal(text: &str) -> Value {
    text.parse::<serde_json::Number>()
        .map_or_else(|_| Value::String(text.to_owned()), Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_price_that_is_no_number_is_sent_as_written() {
        assert_eq!(decimal("19.90"), json!(19.9));
        assert_eq!(decimal("19,90"), json!("19,90"));
    }

    #[test]
    fn a_file_written_offer_by_offer_is_the_file_written_at_once() {
        let line = |sku: &str, update_delete| OfferLine {
            sku: sku.to_owned(),
            product_id: "4006381333931".to_owned(),
            product_id_type: "EAN".to_owned(),
            description: "Blue; \"large\"".to_owned(),
            price: "19.90".to_owned(),
            quantity: 3,
            state: "11".to_owned(),
            discount_price: Some("15.00".to_owned()),
            discount_start: Some("2026-03-01T00:00:00Z".to_owned()),
            discount_end: None,
            update_delete,
        };
        let lines = [
            line("TEE-1", UpdateDelete::Update),
            line("MUG-1", UpdateDelete::Delete),
        ];
        let mut at_once = Vec::new();
        write_offers_csv(lines.clone(), &mut at_once).unwrap();

        let mut file = OffersFile::new(Vec::new()).unwrap();
        for line in &lines {
            file.write(line).unwrap();
        }
        assert_eq!(file.lines(), 2);
        let one_by_one = file.finish().unwrap();

        assert_eq!(one_by_one, at_once);
        let text = String::from_utf8(one_by_one).unwrap();
        assert!(text.starts_with("sku;product-id;"), "{text}");
        assert!(
            text.contains("MUG-1;") && text.ends_with(";delete\n"),
            "{text}"
        );
    }
}
