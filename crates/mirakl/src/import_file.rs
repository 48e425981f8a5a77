//! The CSV dialect of the files Mirakl imports (OF01 offers, P41 products): `;`-separated, a
//! header row, `\n` line ends, values quoted only when they hold `;`, a quote or a line break.
//!
//! Rows go out as they come, through a small buffer, so a file of any size takes constant
//! memory.

use std::io::{self, Write};

/// Writes one import file into `out`.
pub(crate) struct ImportFileWriter<W: Write> {
    csv: csv::Writer<CountingWriter<W>>,
}

impl<W: Write> ImportFileWriter<W> {
    /// Starts the file with its header row. Every row after it must have as many values.
    pub(crate) fn new(
        out: W,
        header: impl IntoIterator<Item = impl AsRef<[u8]>>,
    ) -> io::Result<Self> {
        let csv = csv::WriterBuilder::new()
            .delimiter(b';')
            .quote_style(csv::QuoteStyle::Necessary)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(CountingWriter {
                inner: out,
                bytes: 0,
            });
        let mut file = Self { csv };
        file.write_row(header)?;
        Ok(file)
    }

    /// One row. A row whose length differs from the header's is an error, never a shifted
    /// column.
    pub(crate) fn write_row(
        &mut self,
        values: impl IntoIterator<Item = impl AsRef<[u8]>>,
    ) -> io::Result<()> {
        self.csv.write_record(values).map_err(into_io)
    }

    /// Flushes the file; the number of bytes written to `out`.
    pub(crate) fn finish(self) -> io::Result<u64> {
        Ok(self.into_counted()?.bytes)
    }

    /// Flushes the file and gives `out` back.
    pub(crate) fn into_inner(self) -> io::Result<W> {
        Ok(self.into_counted()?.inner)
    }

    fn into_counted(self) -> io::Result<CountingWriter<W>> {
        self.csv
            .into_inner()
            .map_err(|error| io::Error::new(error.error().kind(), error.to_string()))
    }
}

/// A csv error while writing is an I/O error of `out`, or a row of the wrong length.
fn into_io(error: csv::Error) -> io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(error) => error,
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the file has {expected_len} columns but a row has {len}"),
        ),
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Counts what reaches the underlying writer.
struct CountingWriter<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
