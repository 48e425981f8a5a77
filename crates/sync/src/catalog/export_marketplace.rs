//! What an export sends a marketplace: its offers (small deltas as OF24, which replaces whole
//! offers, so every field is sent; bulk and removals as an OF01 file in NORMAL mode, never
//! REPLACE) and, for a channel that creates its products, the P41 file of the products whose
//! line changed, sent first.

use anyhow::Context as _;
use domain::catalog::{
    CatalogItem, Offer, ProductMapping, ProductSettings, RemovalPolicy, columns, offer_for,
    offer_hash, product_line_for, product_line_hash,
};
use domain::{InstanceUrl, WorkspaceId};
use mirakl::marketplace::{Credential, ImportMode, MarketplaceError};
use mirakl::offers_file::{OfferLine, OffersFile, UpdateDelete, offer_json};
use mirakl::products_file::ProductsFile;
use storage::{Channel, now_ms};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::export::{Scope, Visit, Walk};
use super::{
    CatalogSync, OF24_MAX_OFFERS, PRODUCT_IMPORT_KIND, PRODUCT_IMPORT_PREFIX, RunCounts,
    new_problem,
};
use crate::budgets::Operation;
use crate::job::Step;

impl CatalogSync {
    pub(super) async fn export_marketplace(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        settings: &ProductSettings,
        token: &str,
        scope: Scope,
    ) -> anyhow::Result<(Step, RunCounts)> {
        let now = now_ms();
        let mapping = self.mapping_for(ws, channel.id).await?;
        let mut offers = OfferBatch::default();
        let mut products = match &mapping {
            Some(mapping) => Some(ProductFile::new(mapping)?),
            None => None,
        };
        let mut walk = Walk::new(ws, channel.id, scope, mapping.is_some(), settings.clone());
        let mut counts = RunCounts::default();
        while self
            .walk_page(&mut walk, &mut counts, |visit, counts| match visit {
                Visit::Wanted(item, state, product) => {
                    if let (Some(mapping), Some(products)) = (&mapping, &mut products)
                        && !products.visit(item, product, settings, mapping, counts)
                    {
                        return None;
                    }
                    match offer_for(item, settings, now) {
                        Ok(offer) => {
                            let hash = offer_hash(&offer).0.to_vec();
                            if state.and_then(|s| s.sent_hash.as_ref()) == Some(&hash) {
                                counts.unchanged += 1;
                            } else {
                                let sku = offer.sku.as_str().to_owned();
                                offers.update(offer_line(offer, UpdateDelete::Update), sku, hash);
                            }
                            None
                        }
                        Err(problem) => new_problem(item, state, problem.to_string()),
                    }
                }
                Visit::Unwanted(item) => {
                    counts.removed += 1;
                    let line = match (settings.removal, offer_for(item, settings, now)) {
                        (RemovalPolicy::ZeroStock, Ok(offer)) => {
                            offer_line(offer.without_stock(), UpdateDelete::Update)
                        }
                        _ => delete_line(item.sku.as_str()),
                    };
                    offers.remove(line, item.sku.as_str().to_owned());
                    None
                }
            })
            .await?
        {}
        let instance = channel
            .instance_url
            .clone()
            .context("a marketplace channel has an instance URL")?;
        // Products first: their offers follow once the import made them live.
        let mut products_wait = None;
        if let Some(products) = products {
            products_wait = self
                .send_products(ws, channel, &instance, token, products, &mut counts)
                .await?;
        }
        let later = |at: i64| Step::RunAgainAt(products_wait.map_or(at, |p: i64| p.min(at)));
        if offers.is_empty() {
            return Ok((products_wait.map_or(Step::Done, later), counts));
        }
        // Small deltas go as OF24 (every field of each offer is sent: OF24 replaces whole
        // offers); bulk and removals as an OF01 file in NORMAL mode — never REPLACE. The
        // request is ready before its budget slot is taken, so it leaves as soon as it is.
        let (payload, sent, removed) = offers.finish()?;
        let (op, kind) = match &payload {
            OfferPayload::Upsert(_) => (Operation::OfferUpsert, "OF24"),
            OfferPayload::File(..) => (Operation::OfferFile, "OF01"),
        };
        if let Some(at) = self.take_budget(ws, channel.id, op).await? {
            return Ok((later(at), counts));
        }
        let credential = Credential::Bearer(token);
        let lines = payload.lines();
        let result = match payload {
            OfferPayload::Upsert(offers) => {
                self.marketplace
                    .upsert_offers(&instance, credential, channel.store_id, &offers)
                    .await
            }
            OfferPayload::File(csv, _) => {
                self.marketplace
                    .import_offers(
                        &instance,
                        credential,
                        channel.store_id,
                        csv,
                        ImportMode::Normal,
                    )
                    .await
            }
        };
        let import_id = match result {
            Ok(id) => id,
            Err(MarketplaceError::RateLimited { retry_after }) => {
                return Ok((
                    later(self.defer(ws, channel.id, op, retry_after).await?),
                    counts,
                ));
            }
            Err(e) => return Err(e.into()),
        };
        self.storage
            .record_sent(ws, channel.id, &sent, Some(import_id.as_str()), now_ms())
            .await?;
        self.storage
            .mark_removed(ws, channel.id, &removed, now_ms())
            .await?;
        self.storage
            .record_import(
                ws,
                channel.id,
                import_id.as_str(),
                kind,
                lines as i32,
                now_ms(),
            )
            .await?;
        counts.sent = sent.len() as u64;
        tracing::info!(%ws, channel = %channel.id, import = import_id.as_str(), kind, lines, "offers sent");
        self.enqueue_import_follow(ws, channel.id).await?;
        Ok((products_wait.map_or(Step::Done, later), counts))
    }

    /// Sends the products whose line changed as one P41 file, within its budget, and records
    /// the problems found before sending. Returns when to come back if the budget or Mirakl
    /// said to wait (nothing is recorded sent then).
    pub(super) async fn send_products(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        instance: &InstanceUrl,
        token: &str,
        mut products: ProductFile,
        counts: &mut RunCounts,
    ) -> anyhow::Result<Option<i64>> {
        if !products.problems.is_empty() {
            counts.problems += products.problems.len() as u64;
            self.storage
                .record_product_errors(ws, channel.id, &products.problems, now_ms())
                .await?;
        }
        if products.sent.is_empty() {
            return Ok(None);
        }
        let sent = std::mem::take(&mut products.sent);
        let csv = products.finish()?;
        let op = Operation::ProductImport;
        if let Some(at) = self.take_budget(ws, channel.id, op).await? {
            return Ok(Some(at));
        }
        let id = match self
            .marketplace
            .import_products(instance, Credential::Bearer(token), channel.store_id, csv)
            .await
        {
            Ok(id) => id,
            Err(MarketplaceError::RateLimited { retry_after }) => {
                return Ok(Some(self.defer(ws, channel.id, op, retry_after).await?));
            }
            Err(e) => return Err(e.into()),
        };
        let import_id = format!("{PRODUCT_IMPORT_PREFIX}{}", id.as_str());
        let n = sent.len();
        self.storage
            .record_products_sent(ws, channel.id, &sent, &import_id, now_ms())
            .await?;
        self.storage
            .record_import(
                ws,
                channel.id,
                &import_id,
                PRODUCT_IMPORT_KIND,
                n as i32,
                now_ms(),
            )
            .await?;
        counts.products_sent = n as u64;
        tracing::info!(%ws, channel = %channel.id, import = %import_id, lines = n, "products sent");
        self.enqueue_import_follow(ws, channel.id).await?;
        Ok(None)
    }
}

/// The offers an export sends: up to [`OF24_MAX_OFFERS`] updates are kept as lines for one
/// OF24 call; beyond that, or with a removal among them, they are written into an OF01 file
/// as they come, so a first export of a large catalog holds a file, not a list of offers.
#[derive(Default)]
struct OfferBatch {
    lines: Vec<OfferLine>,
    file: Option<OffersFile<Vec<u8>>>,
    /// The first error writing the file (none in practice: it is written to memory).
    error: Option<std::io::Error>,
    sent: Vec<(String, Vec<u8>)>,
    removed: Vec<String>,
}

/// What [`OfferBatch::finish`] gives to send.
enum OfferPayload {
    /// OF24: every field of each offer.
    Upsert(Vec<serde_json::Value>),
    /// OF01: the file, and its number of lines.
    File(Vec<u8>, usize),
}

impl OfferPayload {
    fn lines(&self) -> usize {
        match self {
            Self::Upsert(offers) => offers.len(),
            Self::File(_, lines) => *lines,
        }
    }
}

impl OfferBatch {
    /// An offer to create or update, with its SKU and content hash.
    fn update(&mut self, line: OfferLine, sku: String, hash: Vec<u8>) {
        self.sent.push((sku, hash));
        self.add(line);
    }

    /// A line that takes an offer off the channel (or to stock 0).
    fn remove(&mut self, line: OfferLine, sku: String) {
        self.removed.push(sku);
        self.add(line);
    }

    fn add(&mut self, line: OfferLine) {
        let result = match &mut self.file {
            Some(file) => file.write(&line),
            None if self.lines.len() < OF24_MAX_OFFERS && self.removed.is_empty() => {
                self.lines.push(line);
                Ok(())
            }
            None => OffersFile::new(Vec::new()).and_then(|mut file| {
                for held in self.lines.drain(..).chain([line]) {
                    file.write(&held)?;
                }
                self.file = Some(file);
                Ok(())
            }),
        };
        if let Err(e) = result {
            self.error.get_or_insert(e);
        }
    }

    fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.file.is_none()
    }

    /// The request to send, the offers it updates (SKU, hash) and the SKUs it removes.
    #[allow(clippy::type_complexity)]
    fn finish(self) -> anyhow::Result<(OfferPayload, Vec<(String, Vec<u8>)>, Vec<String>)> {
        if let Some(e) = self.error {
            return Err(anyhow::Error::from(e).context("writing the offer file"));
        }
        let payload = match self.file {
            Some(file) => {
                let lines = file.lines();
                OfferPayload::File(file.finish()?, lines)
            }
            None => OfferPayload::Upsert(self.lines.iter().map(offer_json).collect()),
        };
        Ok((payload, self.sent, self.removed))
    }
}

/// The P41 file an export builds: the lines of the products whose line changed since they were
/// last sent, written as they come, with their hashes, and the problems found before sending.
pub(super) struct ProductFile {
    file: ProductsFile<Vec<u8>>,
    sent: Vec<(String, Vec<u8>)>,
    problems: Vec<(String, String)>,
    /// The first error writing the file (none in practice: it is written to memory).
    error: Option<std::io::Error>,
}

impl ProductFile {
    fn new(mapping: &ProductMapping) -> anyhow::Result<Self> {
        Ok(Self {
            file: ProductsFile::new(Vec::new(), &columns(mapping))?,
            sent: Vec::new(),
            problems: Vec::new(),
            error: None,
        })
    }

    /// Looks at one wanted item's product, given its state on the marketplace so far. Returns
    /// whether the item's offer can go: its product exists there (it was live once — a later
    /// refused update leaves the product in place).
    fn visit(
        &mut self,
        item: &CatalogItem,
        product: Option<&storage::ChannelItem>,
        settings: &ProductSettings,
        mapping: &ProductMapping,
        counts: &mut RunCounts,
    ) -> bool {
        match product_line_for(item, settings, mapping) {
            Ok(line) => {
                let hash = product_line_hash(&line).0.to_vec();
                if product.and_then(|p| p.sent_hash.as_ref()) != Some(&hash) {
                    match self.file.write(&line.values) {
                        Ok(()) => self.sent.push((line.sku.as_str().to_owned(), hash)),
                        Err(e) => {
                            self.error.get_or_insert(e);
                        }
                    }
                }
            }
            Err(problem) => self
                .problems
                .extend(new_problem(item, product, problem.to_string())),
        }
        let exists = product.is_some_and(|p| p.live_at_ms.is_some());
        if !exists {
            counts.waiting += 1;
        }
        exists
    }

    /// The file to send.
    fn finish(self) -> anyhow::Result<Vec<u8>> {
        if let Some(e) = self.error {
            return Err(anyhow::Error::from(e).context("writing the product file"));
        }
        Ok(self.file.finish()?)
    }
}

fn iso(ms: Option<i64>) -> Option<String> {
    let ms = ms?;
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

/// The one mapping from an offer to a line of Mirakl's offer file (and OF24 body). It takes
/// the offer, whose texts it moves rather than copies: an export makes one line per item.
pub fn offer_line(offer: Offer, update_delete: UpdateDelete) -> OfferLine {
    OfferLine {
        price: offer.price.to_decimal_string(),
        discount_price: offer.discount.as_ref().map(|d| d.price.to_decimal_string()),
        discount_start: offer.discount.as_ref().and_then(|d| iso(d.start_ms)),
        discount_end: offer.discount.as_ref().and_then(|d| iso(d.end_ms)),
        sku: offer.sku.into_string(),
        product_id: offer.product_id,
        product_id_type: offer.product_id_type.to_owned(),
        description: offer.description,
        quantity: offer.quantity,
        state: offer.state_code,
        update_delete,
    }
}

pub fn delete_line(sku: &str) -> OfferLine {
    OfferLine {
        sku: sku.to_owned(),
        product_id: String::new(),
        product_id_type: String::new(),
        description: String::new(),
        price: String::new(),
        quantity: 0,
        state: String::new(),
        discount_price: None,
        discount_start: None,
        discount_end: None,
        update_delete: UpdateDelete::Delete,
    }
}
