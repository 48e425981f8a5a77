//! `diff`: the CPU side of an export and nothing else. N synthetic catalog items go through
//! the rules (`offer_for`, default settings) and the content hash, and are written as the OF01
//! file to nowhere, its bytes counted.
//!
//! The items stand for what an export reads from storage, which is not what is measured: a
//! second thread makes them, in batches it refills in place, while the measured thread turns
//! them into offers, hashes and file lines. Batches go round between the two, so memory stays
//! flat whatever N.

use std::fmt::Write as _;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use domain::catalog::{
    CatalogItem, Category, Money, ProductSettings, Sku, Stock, StockStatus, offer_for, offer_hash,
};
use mirakl::offers_file::{OffersFile, UpdateDelete};
use sync::catalog::offer_line;

use super::report::{Figures, Report, Rss, peak_rss_mb, rate, round};
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

/// Items per batch handed from the generating thread to the measured one: few enough that
/// the batches going round stay in the processor's caches.
const BATCH: usize = 64;
/// Batches going round: enough that neither thread waits for the other for long.
const BATCHES: usize = 4;

fn run(items: u64) -> anyhow::Result<Report> {
    let settings = ProductSettings::default();
    // Fixed, so every run hashes the same offers (sales are dated around it).
    let now = SYNTHETIC_NOW_MS;
    let (full_tx, full_rx) = sync_channel::<Vec<CatalogItem>>(BATCHES);
    let (empty_tx, empty_rx) = sync_channel::<Vec<CatalogItem>>(BATCHES);
    for _ in 0..BATCHES {
        empty_tx.send(Vec::with_capacity(BATCH))?;
    }
    let generator = std::thread::spawn(move || generate(items, &empty_rx, &full_tx));

    let mut problems = 0u64;
    let mut digest = [0u8; 16];
    let started = Instant::now();
    let mut file = OffersFile::new(ByteCount(0))?;
    for batch in full_rx.iter() {
        for item in &batch {
            match offer_for(item, &settings, now) {
                Ok(offer) => {
                    // Folded into one value, so the hashing cannot be optimized away.
                    for (d, h) in digest.iter_mut().zip(offer_hash(&offer).0) {
                        *d ^= h;
                    }
                    file.write(&offer_line(offer, UpdateDelete::Update))?;
                }
                Err(_) => problems += 1,
            }
        }
        // Back to the generator to be refilled; it may have finished already.
        let _ = empty_tx.send(batch);
    }
    let bytes = file.finish()?.0;
    let wall = started.elapsed().as_secs_f64();
    let generating = generator
        .join()
        .map_err(|_| anyhow::anyhow!("the item generator panicked"))?;

    let mut report = Report::new(Figures {
        scenario: "diff".into(),
        items: Some(items),
        wall_s: Some(round(wall, 3)),
        items_per_s: Some(rate(items, wall)),
        bytes_per_s: Some(rate(bytes, wall)),
        peak_rss_mb: peak_rss_mb().map(Rss::Process),
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
    report.note(
        "making the items (other thread, not measured)",
        format!("{:.3} s", generating.as_secs_f64()),
    );
    Ok(report)
}

/// The OF01 file's destination: nowhere, counting the bytes.
struct ByteCount(u64);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Fills the batches that come back empty with the next items, until `items` are made; the
/// time spent making them.
fn generate(
    items: u64,
    empty: &Receiver<Vec<CatalogItem>>,
    full: &SyncSender<Vec<CatalogItem>>,
) -> Duration {
    let mut spent = Duration::ZERO;
    let mut next = 0u64;
    while next < items {
        let Ok(mut batch) = empty.recv() else { break };
        let started = Instant::now();
        let count = (items - next).min(BATCH as u64) as usize;
        batch.truncate(count);
        for (slot, index) in batch.iter_mut().zip(next..) {
            fill_synthetic_item(index, slot);
        }
        for index in next + batch.len() as u64..next + count as u64 {
            batch.push(synthetic_item(index));
        }
        next += count as u64;
        spent += started.elapsed();
        if full.send(batch).is_err() {
            break;
        }
    }
    spent
}

const SYNTHETIC_NOW_MS: i64 = 1_750_000_000_000;
/// Each color as titles and SKUs write it.
const COLORS: [(&str, &str); 6] = [
    ("Red", "RED"),
    ("Blue", "BLUE"),
    ("Green", "GREEN"),
    ("Black", "BLACK"),
    ("White", "WHITE"),
    ("Yellow", "YELLOW"),
];
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
    let mut item = CatalogItem {
        sku: Sku::parse("BENCH").expect("a valid SKU"),
        shop_product_id: 0,
        shop_variation_id: None,
        parent_title: None,
        title: String::new(),
        description: String::new(),
        categories: Vec::new(),
        tags: Vec::new(),
        images: Vec::new(),
        attributes: Vec::new(),
        meta: Vec::new(),
        global_unique_id: None,
        regular_price: None,
        sale_price: None,
        sale_from_ms: None,
        sale_to_ms: None,
        stock: Stock {
            managed: true,
            quantity: None,
            status: StockStatus::InStock,
        },
        published: true,
        modified_at_ms: 0,
    };
    fill_synthetic_item(index, &mut item);
    item
}

/// Makes `item` into item `index` of the synthetic catalog, writing into the buffers it
/// already has: making a million items must not cost more than what is measured.
fn fill_synthetic_item(index: u64, item: &mut CatalogItem) {
    let r = scramble(index);
    let noun = NOUNS[(r % 8) as usize];
    let product = index / 3;
    let variation = index.is_multiple_of(3);
    let mut sku = String::with_capacity(24);
    item.title.clear();
    if variation {
        let (color, color_in_sku) = COLORS[((r >> 8) % 6) as usize];
        let size = SIZES[((r >> 16) % 4) as usize];
        let parent = item.parent_title.get_or_insert_with(String::new);
        parent.clear();
        let _ = write!(parent, "{noun} {product}");
        let _ = write!(sku, "BENCH-{product:07}-{color_in_sku}-{size}");
        let _ = write!(item.title, "{parent} – Color: {color}, Size: {size}");
        set_attributes(
            &mut item.attributes,
            &[("Color", color), ("Size", size), ("Brand", "Acme")],
        );
    } else {
        item.parent_title = None;
        let _ = write!(sku, "BENCH-{index:08}");
        let _ = write!(item.title, "{noun} {index}");
        set_attributes(&mut item.attributes, &[("Brand", "Northwind")]);
    }
    item.sku = Sku::parse(&sku).expect("synthetic SKUs are valid");
    item.description.clear();
    let _ = write!(
        item.description,
        "{}: a synthetic product for the diff benchmark, with a description about as long as \
         a shop's short description, in plain text.",
        item.title
    );

    let regular = 500 + (r >> 24) % 19_500;
    let on_sale = index % 7 == 3;
    item.shop_product_id = product as i64;
    item.shop_variation_id = variation.then_some(index as i64);
    item.categories.truncate(1);
    match item.categories.first_mut() {
        Some(category) => category.id = (r % 12) as i64,
        None => item.categories.push(Category {
            id: (r % 12) as i64,
            name: "Synthetic".to_owned(),
        }),
    }
    item.images.resize_with(1, String::new);
    item.images[0].clear();
    let _ = write!(item.images[0], "https://shop.example/images/{index}.png");
    item.meta
        .resize_with(1, || ("_gtin".to_owned(), String::new()));
    ean13_into(200_000_000_000 + index, &mut item.meta[0].1);
    item.regular_price = Some(Money::from_minor(regular as i64));
    item.sale_price = on_sale.then(|| Money::from_minor((regular * 8 / 10) as i64));
    item.sale_from_ms = on_sale.then_some(SYNTHETIC_NOW_MS - 86_400_000);
    item.sale_to_ms = on_sale.then_some(SYNTHETIC_NOW_MS + 86_400_000);
    item.stock.quantity = Some(((r >> 40) % 200) as i64);
    item.modified_at_ms = SYNTHETIC_NOW_MS - index as i64;
}

/// Sets `attributes` to `values`, reusing the strings already there.
fn set_attributes(attributes: &mut Vec<(String, String)>, values: &[(&str, &str)]) {
    attributes.resize_with(values.len(), Default::default);
    for ((name, value), (new_name, new_value)) in attributes.iter_mut().zip(values) {
        name.clear();
        name.push_str(new_name);
        value.clear();
        value.push_str(new_value);
    }
}

/// An EAN-13 from twelve digits (GS1 prefix 2: for use inside a company, never a real
/// product) and its check digit, written into `out`.
fn ean13_into(body: u64, out: &mut String) {
    out.clear();
    let _ = write!(out, "{:012}", body % 1_000_000_000_000);
    let sum: u32 = out
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    let _ = write!(out, "{}", (10 - sum % 10) % 10);
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
        let mut ean = String::new();
        ean13_into(400_638_133_393, &mut ean);
        assert_eq!(ean, "4006381333931");
    }

    #[test]
    fn an_item_refilled_in_place_is_the_item_made_afresh() {
        // Variations and simple products, on sale and not, one after another in one item:
        // nothing of the item before may survive in the next.
        let mut item = synthetic_item(0);
        for index in [1, 3, 10, 7, 9, 2, 999_999, 6] {
            fill_synthetic_item(index, &mut item);
            assert_eq!(item, synthetic_item(index), "item {index}");
        }
        assert_eq!(item.sku.as_str(), "BENCH-0000002-GREEN-XL");
        assert_eq!(item.title, "T-Shirt 2 – Color: Green, Size: XL");
        assert_eq!(item.parent_title.as_deref(), Some("T-Shirt 2"));
        fill_synthetic_item(7, &mut item);
        assert_eq!(item.sku.as_str(), "BENCH-00000007");
        assert_eq!(item.parent_title, None);
        assert_eq!(item.attributes.len(), 1);
    }
}
