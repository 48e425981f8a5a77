//! The files of marketplace imports: `;`-separated CSV with a header row (OF01 offers, P41
//! products), and the error reports that answer them (OF03, P44): the submitted columns, every
//! value double-quoted, then `error-line` and `error-message`.

/// An import file, read.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    /// The header row, as sent.
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone)]
pub struct Row {
    /// Where the row sits: its line in the file (the header is line 1), or for a JSON import
    /// its 1-based position in the array.
    pub line: u64,
    pub values: Vec<String>,
}

impl Sheet {
    /// Reads a CSV file. Unknown columns are kept (they come back in the error report); rows may
    /// be shorter or longer than the header.
    pub fn parse(bytes: &[u8]) -> Result<Sheet, String> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b';')
            .flexible(true)
            .has_headers(true)
            .from_reader(bytes);
        let columns: Vec<String> = reader
            .headers()
            .map_err(|error| format!("The file could not be read as CSV: {error}."))?
            .iter()
            .map(|column| column.trim().to_owned())
            .collect();
        if columns.iter().all(String::is_empty) {
            return Err("The file is empty: it needs a header row.".to_owned());
        }
        let mut rows = Vec::new();
        // The reader's own line count skips blank lines; counting newlines up to each record's
        // first byte gives the line a seller sees in an editor.
        let (mut counted_to, mut line) = (0, 1);
        for record in reader.records() {
            let record =
                record.map_err(|error| format!("The file could not be read as CSV: {error}."))?;
            if record.iter().all(|value| value.trim().is_empty()) {
                continue;
            }
            // A record's position is where the reader stood before it: blank lines and the rest
            // of the previous line ending come first.
            let mut start = record
                .position()
                .map_or(counted_to, |position| position.byte() as usize)
                .min(bytes.len());
            while bytes.get(start).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
                start += 1;
            }
            line += bytes[counted_to..start.max(counted_to)]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            counted_to = start.max(counted_to);
            rows.push(Row {
                line,
                values: record.iter().map(str::to_owned).collect(),
            });
        }
        Ok(Sheet { columns, rows })
    }

    /// The index of a column, its name compared without case.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|column| column.eq_ignore_ascii_case(name))
    }

    /// A row's value in a column, trimmed; empty when the column or the value is missing.
    pub fn value<'a>(&self, row: &'a Row, name: &str) -> &'a str {
        self.column(name)
            .and_then(|index| row.values.get(index))
            .map_or("", |value| value.trim())
    }

    /// The error report of the rows that failed, `(row, message)`, as CSV bytes.
    pub fn error_report<'a>(
        &self,
        errors: impl IntoIterator<Item = (&'a Row, &'a str)>,
    ) -> Vec<u8> {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .quote_style(csv::QuoteStyle::Always)
            .terminator(csv::Terminator::Any(b'\n'))
            .flexible(true)
            .from_writer(Vec::new());
        let header = self
            .columns
            .iter()
            .map(String::as_str)
            .chain(["error-line", "error-message"]);
        // Writing into a Vec cannot fail.
        let _ = writer.write_record(header);
        for (row, message) in errors {
            let line = row.line.to_string();
            let values = (0..self.columns.len())
                .map(|index| row.values.get(index).map_or("", String::as_str))
                .chain([line.as_str(), message]);
            let _ = writer.write_record(values);
        }
        writer.into_inner().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_read_with_its_lines_and_unknown_columns() {
        let file = "\u{feff}sku;price;my-column\nA;10;x\n\nB;\"12,5\";y;extra\r\nC;\"two\nlines\";z\nD;1;w\n";
        let sheet = Sheet::parse(file.as_bytes()).unwrap();
        assert_eq!(sheet.columns, ["sku", "price", "my-column"]);
        assert_eq!(sheet.rows.len(), 4);
        let lines: Vec<u64> = sheet.rows.iter().map(|row| row.line).collect();
        assert_eq!(lines, [2, 4, 5, 7]);
        assert_eq!(sheet.value(&sheet.rows[1], "PRICE"), "12,5");
        assert_eq!(sheet.value(&sheet.rows[1], "quantity"), "");
    }

    #[test]
    fn the_error_report_quotes_every_value_and_appends_line_and_message() {
        let sheet = Sheet::parse(b"sku;price\nA;-1\n").unwrap();
        let report = sheet.error_report([(&sheet.rows[0], "The price is not valid")]);
        assert_eq!(
            String::from_utf8(report).unwrap(),
            "\"sku\";\"price\";\"error-line\";\"error-message\"\n\"A\";\"-1\";\"2\";\"The price is not valid\"\n"
        );
    }

    #[test]
    fn an_empty_file_is_refused() {
        assert!(Sheet::parse(b"").is_err());
    }
}
