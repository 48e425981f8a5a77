//! The OF01 offer file and the OF24 offer JSON, exactly as Mirakl will read them.

use std::io::{self, Write};

use mirakl::offers_file::{OfferLine, UpdateDelete, offer_json, write_offers_csv};
use serde_json::json;

/// The offers tests' mug, with a description the CSV must quote.
fn big_mug() -> OfferLine {
    OfferLine {
        description: r#"Mug; blue "large""#.to_owned(),
        ..crate::offers::mug()
    }
}

fn retired_mug() -> OfferLine {
    OfferLine {
        sku: "MUG-OLD".to_owned(),
        product_id: "4006381333948".to_owned(),
        product_id_type: "EAN".to_owned(),
        description: "Old mug".to_owned(),
        price: "9.50".to_owned(),
        quantity: 0,
        state: "11".to_owned(),
        discount_price: None,
        discount_start: None,
        discount_end: None,
        update_delete: UpdateDelete::Delete,
    }
}

#[test]
fn the_offer_file_has_mirakls_columns_and_quotes_only_what_needs_it() {
    let mut out = Vec::new();

    let bytes = write_offers_csv([big_mug(), retired_mug()], &mut out).unwrap();

    let expected = concat!(
        "sku;product-id;product-id-type;description;price;quantity;state;discount-price;",
        "discount-start-date;discount-end-date;update-delete\n",
        "MUG-1;4006381333931;EAN;\"Mug; blue \"\"large\"\"\";19.90;12;11;15.00;",
        "2026-03-01T00:00:00Z;2026-03-31T23:59:59Z;update\n",
        "MUG-OLD;4006381333948;EAN;Old mug;9.50;0;11;;;;delete\n",
    );
    assert_eq!(String::from_utf8(out).unwrap(), expected);
    assert_eq!(bytes, expected.len() as u64);
}

#[test]
fn an_empty_catalog_is_just_the_header() {
    let mut out = Vec::new();
    write_offers_csv([], &mut out).unwrap();
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
}

/// A sink that remembers how the writer fed it.
#[derive(Default)]
struct Probe {
    writes: usize,
    largest_write: usize,
    bytes: u64,
}

impl Write for Probe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writes += 1;
        self.largest_write = self.largest_write.max(buf.len());
        self.bytes += buf.len() as u64;
        io::sink().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn writing_100k_offers_streams_in_small_writes() {
    const LINES: usize = 100_000;
    let lines = (0..LINES).map(|i| OfferLine {
        sku: format!("SKU-{i:06}"),
        ..retired_mug()
    });
    let mut probe = Probe::default();

    let bytes = write_offers_csv(lines, &mut probe).unwrap();

    let header = "sku;product-id;product-id-type;description;price;quantity;state;discount-price;discount-start-date;discount-end-date;update-delete\n";
    let line = "SKU-000000;4006381333948;EAN;Old mug;9.50;0;11;;;;delete\n";
    assert_eq!(bytes, (header.len() + LINES * line.len()) as u64);
    assert_eq!(probe.bytes, bytes);
    assert!(
        probe.writes > 100,
        "rows reach the writer as they are made ({} writes)",
        probe.writes
    );
    assert!(
        probe.largest_write <= 64 * 1024,
        "no write holds the whole file ({} bytes)",
        probe.largest_write
    );
}

#[test]
fn a_write_error_is_reported() {
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let error = write_offers_csv([retired_mug()], Full).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::StorageFull);
}

#[test]
fn the_offer_json_sets_every_field_of_an_offer() {
    assert_eq!(
        offer_json(&big_mug()),
        json!({
            "shop_sku": "MUG-1",
            "product_id": "4006381333931",
            "product_id_type": "EAN",
            "description": "Mug; blue \"large\"",
            "price": 19.9,
            "quantity": 12,
            "state_code": "11",
            "discount": {
                "price": 15.0,
                "start_date": "2026-03-01T00:00:00Z",
                "end_date": "2026-03-31T23:59:59Z"
            },
            "update_delete": "update"
        })
    );
    let retired = offer_json(&retired_mug());
    assert_eq!(retired["discount"], serde_json::Value::Null);
    assert_eq!(retired["quantity"], 0);
    assert_eq!(retired["update_delete"], "delete");
}
