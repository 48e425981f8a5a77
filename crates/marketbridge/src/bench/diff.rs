//! `diff`: the CPU side of an export and nothing else. N synthetic catalog items are made one
//! at a time, go through the rules (`offer_for`, default settings) and the content hash, and
//! are written as the OF01 file to nowhere, its bytes counted. Items stream through and are
//! never collected, so memory stays flat whatever N.

use std::time::Instant;

use domain::catalog::{
    CatalogItem, Category, Money, ProductSettings, Sku, Stock, StockStatus, offer_for, offer_hash,
};
use mirakl::offers_file::{UpdateDelete, write_offers_csv};
use sync::catalog::offer_line;

use super::report::{Figures, Report, peak_rss_mb, rate, round};
use super::scramble;

pub const DEFAULT_ITEMS: u64 = 1_000_000;

#[derive(Clone, Debug)]
pub struct DiffOptions {
    pub items: u64,
}

impl Default for DiffOptions {
    fn default() -> Self {
        Self {
            items: DEFAULT_ITEMS,
        }
    }
}

/// Runs on a blocking thread: it is CPU only.
pub async fn diff(options: &DiffOptions) -> anyhow::Result<Report> {
    let items = options.items;
    tokio::task::spawn_blocking(move || run(items)).await?
}

fn run(items: u64) -> anyhow::Result<Report> {
    let settings = ProductSettings::default();
    // Fixed, so every run hashes the same offers (sales are dated around it).
    let now = SYNTHETIC_NOW_MS;
    let mut problems = 0u64;
    let mut digest = [0u8; 16];
    let started = Instant::now();
    let lines = (0..items).map(synthetic_item).filter_map(|item| {
        match offer_for(&item, &settings, now) {
            Ok(offer) => {
                // Folded into one value, so the hashing cannot be optimized away.
                for (d, h) in digest.iter_mut().zip(offer_hash(&offer).0) {
                    *d ^= h;
                }
                Some(offer_line(offer, UpdateDelete::Update))
            }
            Err(_) => {
                problems += 1;
                None
            }
        }
    });
    let bytes = write_offers_csv(lines, std::io::sink())?;
    let wall = started.elapsed().as_secs_f64();

    let mut report = Report::new(Figures {
        scenario: "diff".into(),
        items: Some(items),
        wall_s: Some(round(wall, 3)),
        items_per_s: Some(rate(items, wall)),
        bytes_per_s: Some(rate(bytes, wall)),
        peak_rss_mb: peak_rss_mb(),
        ..Figures::default()
    });
    report.note("OF01 bytes", bytes);
    report.note("items without an offer", problems);
    report.note(
        "offer hashes (xor)",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    );
    Ok(report)
}

const SYNTHETIC_NOW_MS: i64 = 1_750_000_000_000;
const COLORS: [&str; 6] = ["Red", "Blue", "Green", "Black", "White", "Yellow"];
const SIZES: [&str; 4] = ["S", "M", "L", "XL"];
const NOUNS: [&str; 8] = [
    "T-Shirt",
    "Backpack",
    "Mug",
    "Lamp",
    "Headphones",
    "Tent",
    "Scarf",
    "Bottle",
];

/// Item `index` of the synthetic catalog: a third are variations (Color, Size), one in seven
/// is on sale, every one has a valid EAN-13 and a counted stock.
fn synthetic_item(index: u64) -> CatalogItem {
    let r = scramble(index);
    let noun = NOUNS[(r % 8) as usize];
    let product = index / 3;
    let variation = index.is_multiple_of(3);
    let (sku, title, attributes, parent_title) = if variation {
        let color = COLORS[((r >> 8) % 6) as usize];
        let size = SIZES[((r >> 16) % 4) as usize];
        let parent = format!("{noun} {product}");
        (
            format!("BENCH-{product:07}-{}-{size}", color.to_uppercase()),
            format!("{parent} – Color: {color}, Size: {size}"),
            vec![
                ("Color".to_owned(), color.to_owned()),
                ("Size".to_owned(), size.to_owned()),
                ("Brand".to_owned(), "Acme".to_owned()),
            ],
            Some(parent),
        )
    } else {
        (
            format!("BENCH-{index:08}"),
            format!("{noun} {index}"),
            vec![("Brand".to_owned(), "Northwind".to_owned())],
            None,
        )
    };
    let regular = 500 + (r >> 24) % 19_500;
    let on_sale = index % 7 == 3;
    CatalogItem {
        sku: Sku::parse(&sku).expect("synthetic SKUs are valid"),
        shop_product_id: product as i64,
        shop_variation_id: variation.then_some(index as i64),
        parent_title,
        description: format!(
            "{title}: a synthetic product for the diff benchmark, with a description about as \
             long as a shop's short description, in plain text."
        ),
        title,
        categories: vec![Category {
            id: (r % 12) as i64,
            name: "Synthetic".to_owned(),
        }],
        tags: Vec::new(),
        images: vec![format!("https://shop.example/images/{index}.png")],
        attributes,
        meta: vec![("_gtin".to_owned(), ean13(200_000_000_000 + index))],
        global_unique_id: None,
        regular_price: Some(Money::from_minor(regular as i64)),
        sale_price: on_sale.then(|| Money::from_minor((regular * 8 / 10) as i64)),
        sale_from_ms: on_sale.then_some(SYNTHETIC_NOW_MS - 86_400_000),
        sale_to_ms: on_sale.then_some(SYNTHETIC_NOW_MS + 86_400_000),
        stock: Stock {
            managed: true,
            quantity: Some(((r >> 40) % 200) as i64),
            status: StockStatus::InStock,
        },
        published: true,
        modified_at_ms: SYNTHETIC_NOW_MS - index as i64,
    }
}

/// An EAN-13 from twelve digits (GS1 prefix 2: for use inside a company, never a real
/// product) and its check digit.
fn ean13(body: u64) -> String {
    let digits = format!("{:012}", body % 1_000_000_000_000);
    let sum: u32 = digits
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_items_make_offers() {
        let settings = ProductSettings::default();
        for index in 0..100 {
            let item = synthetic_item(index);
            assert!(
                offer_for(&item, &settings, SYNTHETIC_NOW_MS).is_ok(),
                "{item:?}"
            );
        }
        assert_eq!(ean13(400_638_133_393), "4006381333931");
    }
}
