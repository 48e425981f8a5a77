//! The P41 product file: one column per PM11 attribute code, one row per product, in the CSV
//! dialect of Mirakl's imports (see the offer file in [`crate::offers_file`]).
//!
//! Which attributes to send and their values are the caller's: this module only guarantees
//! that every value lands in its column as written.

use std::io::{self, Write};

use crate::import_file::ImportFileWriter;

/// Writes a P41 file: a header row of attribute codes (`columns`), then each row, `;`-separated,
/// values quoted only when they hold `;`, a quote or a line break. A row has one value per
/// column, `""` for an attribute the product leaves empty; a row of another length is an
/// [`io::ErrorKind::InvalidInput`] error.
///
/// Returns the number of bytes written.
pub fn write_products_csv<W: Write>(
    columns: &[String],
    rows: impl IntoIterator<Item = Vec<String>>,
    out: W,
) -> io::Result<u64> {
    let mut file = ImportFileWriter::new(out, columns)?;
    for row in rows {
        file.write_row(&row)?;
    }
    file.finish()
}

/// A P41 file written one product at a time, as an export meets them.
pub struct ProductsFile<W: Write> {
    file: ImportFileWriter<W>,
    lines: usize,
}

impl<W: Write> ProductsFile<W> {
    /// Starts the file with its header row: the mapping's columns.
    pub fn new(out: W, columns: &[String]) -> io::Result<Self> {
        Ok(Self {
            file: ImportFileWriter::new(out, columns)?,
            lines: 0,
        })
    }

    /// One product's values, in the columns' order.
    pub fn write(&mut self, values: &[String]) -> io::Result<()> {
        self.file.write_row(values)?;
        self.lines += 1;
        Ok(())
    }

    /// The products written so far.
    pub fn lines(&self) -> usize {
        self.lines
    }

    /// Flushes the file and gives `out` back.
    pub fn finish(self) -> io::Result<W> {
        self.file.into_inner()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<String> {
        ["shop_sku", "title", "description"]
            .map(str::to_owned)
            .to_vec()
    }

    #[test]
    fn values_with_separators_quotes_or_line_breaks_are_quoted() {
        let rows = [
            vec!["TEE-1".into(), "Tee".into(), String::new()],
            vec![
                "MUG-1".into(),
                r#"Mug; blue "large""#.into(),
                "Two\nlines".into(),
            ],
        ];
        let mut out = Vec::new();

        let bytes = write_products_csv(&columns(), rows, &mut out).unwrap();

        let expected = concat!(
            "shop_sku;title;description\n",
            "TEE-1;Tee;\n",
            "MUG-1;\"Mug; blue \"\"large\"\"\";\"Two\nlines\"\n",
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
        assert_eq!(bytes, expected.len() as u64);
    }

    #[test]
    fn a_row_missing_a_column_is_refused() {
        let mut out = Vec::new();
        let error = write_products_csv(&columns(), [vec!["TEE-1".into()]], &mut out).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(error.to_string(), "the file has 3 columns but a row has 1");
    }
}
