//! A WooCommerce store in memory: its admin, REST keys, catalog (products, variations,
//! categories, tags), orders and webhooks, with the rules every write path shares (ids, dates,
//! prices, stock status, meta data). Rendering to JSON lives in `views`, HTTP in the handlers.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::values::money::Money;
use crate::woo::delivery::WebhookAttempt;
use crate::woo::notes::Note;
use crate::woo::refunds::Refund;

/// WooCommerce's date shape: `YYYY-MM-DDTHH:MM:SS`, no zone.
pub fn format_date(at: OffsetDateTime) -> String {
    at.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]"
    ))
    .unwrap_or_default()
}

/// What a REST key may do (`woocommerce_api_keys.permissions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permissions {
    Read,
    Write,
    ReadWrite,
}

impl Permissions {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            "read_write" => Some(Self::ReadWrite),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::ReadWrite => "read_write",
        }
    }

    pub fn can_read(self) -> bool {
        matches!(self, Self::Read | Self::ReadWrite)
    }

    pub fn can_write(self) -> bool {
        matches!(self, Self::Write | Self::ReadWrite)
    }

    /// How the app authorization page says it.
    pub fn in_words(self) -> &'static str {
        match self {
            Self::Read => "Read",
            Self::Write => "Write",
            Self::ReadWrite => "Read/Write",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiKey {
    pub key_id: i64,
    pub description: String,
    pub permissions: Permissions,
    pub consumer_key: String,
    /// Kept in clear: sandbox keys protect nothing real.
    pub consumer_secret: String,
    /// OAuth nonces seen within the timestamp window: nonce → its timestamp.
    pub nonces: HashMap<String, i64>,
}

#[derive(Debug, Clone)]
pub struct Admin {
    pub login: String,
    pub email: String,
    /// Published demo credentials; the sandbox holds no real ones.
    pub password: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductType {
    Simple,
    Variable,
    /// A variation, kept beside the products because WooCommerce shares one id space and
    /// `GET /products/{variation_id}` answers it.
    Variation,
}

impl ProductType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Simple => "simple",
            Self::Variable => "variable",
            Self::Variation => "variation",
        }
    }
}

/// A post status. Variations know only `publish` and `private`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostStatus {
    Draft,
    Pending,
    Private,
    Publish,
    Trash,
}

impl PostStatus {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "draft" => Some(Self::Draft),
            "pending" => Some(Self::Pending),
            "private" => Some(Self::Private),
            "publish" => Some(Self::Publish),
            "trash" => Some(Self::Trash),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Pending => "pending",
            Self::Private => "private",
            Self::Publish => "publish",
            Self::Trash => "trash",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockStatus {
    InStock,
    OutOfStock,
    OnBackorder,
}

impl StockStatus {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "instock" => Some(Self::InStock),
            "outofstock" => Some(Self::OutOfStock),
            "onbackorder" => Some(Self::OnBackorder),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InStock => "instock",
            Self::OutOfStock => "outofstock",
            Self::OnBackorder => "onbackorder",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Attribute {
    /// A global attribute's id (`pa_color`), or 0 for one defined on the product.
    pub id: i64,
    pub name: String,
    pub position: i64,
    pub visible: bool,
    pub variation: bool,
    /// For a variation: exactly one, its `option`.
    pub options: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Image {
    pub id: i64,
    pub src: String,
    pub name: String,
    pub alt: String,
}

#[derive(Debug, Clone)]
pub struct Meta {
    pub id: i64,
    pub key: String,
    pub value: Value,
}

#[derive(Debug, Clone, Default)]
pub struct Dimensions {
    pub length: String,
    pub width: String,
    pub height: String,
}

/// A product category or tag: a WordPress term. Tags are flat, so their `parent` stays 0.
#[derive(Debug, Clone)]
pub struct Term {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub parent: i64,
    pub description: String,
}

impl Term {
    pub fn new(id: i64, name: &str) -> Self {
        Self {
            id,
            name: name.to_owned(),
            slug: slugify(name),
            parent: 0,
            description: String::new(),
        }
    }
}

/// The product taxonomies (`product_cat`, `product_tag`): each a table of terms in the store
/// (ids from one sequence, as WordPress's `wp_terms`) that products name by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taxonomy {
    Category,
    Tag,
}

impl Taxonomy {
    /// The collection under `wp-json/wc/v3`.
    pub const fn route(self) -> &'static str {
        match self {
            Self::Category => "products/categories",
            Self::Tag => "products/tags",
        }
    }

    /// The field of a product's JSON that names its terms.
    pub fn product_field(self) -> &'static str {
        match self {
            Self::Category => "categories",
            Self::Tag => "tags",
        }
    }

    /// Only categories nest (`parent`).
    pub fn is_hierarchical(self) -> bool {
        self == Self::Category
    }

    pub fn terms(self, store: &WooStore) -> &BTreeMap<i64, Term> {
        match self {
            Self::Category => &store.categories,
            Self::Tag => &store.tags,
        }
    }

    pub fn terms_mut(self, store: &mut WooStore) -> &mut BTreeMap<i64, Term> {
        match self {
            Self::Category => &mut store.categories,
            Self::Tag => &mut store.tags,
        }
    }

    /// The ids of this taxonomy's terms a product has.
    pub fn of(self, product: &Product) -> &[i64] {
        match self {
            Self::Category => &product.categories,
            Self::Tag => &product.tags,
        }
    }

    pub fn of_mut(self, product: &mut Product) -> &mut Vec<i64> {
        match self {
            Self::Category => &mut product.categories,
            Self::Tag => &mut product.tags,
        }
    }
}

/// A product or a variation.
#[derive(Debug, Clone)]
pub struct Product {
    pub id: i64,
    /// The variable product of a variation; 0 otherwise.
    pub parent_id: i64,
    pub kind: ProductType,
    pub name: String,
    pub slug: String,
    pub status: PostStatus,
    pub sku: String,
    /// WooCommerce 9.2's GTIN/UPC/EAN/ISBN field.
    pub global_unique_id: String,
    pub regular_price: Option<Money>,
    pub sale_price: Option<Money>,
    pub sale_from: Option<OffsetDateTime>,
    pub sale_to: Option<OffsetDateTime>,
    pub manage_stock: bool,
    pub stock_quantity: Option<i64>,
    pub stock_status: StockStatus,
    pub description: String,
    pub short_description: String,
    pub categories: Vec<i64>,
    pub tags: Vec<i64>,
    pub images: Vec<Image>,
    pub attributes: Vec<Attribute>,
    pub meta_data: Vec<Meta>,
    pub weight: String,
    pub dimensions: Dimensions,
    pub menu_order: i64,
    pub total_sales: i64,
    pub created: OffsetDateTime,
    pub modified: OffsetDateTime,
}

impl Product {
    pub fn new(id: i64, kind: ProductType, name: &str, at: OffsetDateTime) -> Self {
        Self {
            id,
            parent_id: 0,
            kind,
            name: name.to_owned(),
            slug: slugify(name),
            status: PostStatus::Publish,
            sku: String::new(),
            global_unique_id: String::new(),
            regular_price: None,
            sale_price: None,
            sale_from: None,
            sale_to: None,
            manage_stock: false,
            stock_quantity: None,
            stock_status: StockStatus::InStock,
            description: String::new(),
            short_description: String::new(),
            categories: Vec::new(),
            tags: Vec::new(),
            images: Vec::new(),
            attributes: Vec::new(),
            meta_data: Vec::new(),
            weight: String::new(),
            dimensions: Dimensions::default(),
            menu_order: 0,
            total_sales: 0,
            created: at,
            modified: at,
        }
    }

    /// Whether the sale price applies now (set, lower than the regular price, inside its dates).
    pub fn on_sale(&self, at: OffsetDateTime) -> bool {
        let Some(sale) = self.sale_price else {
            return false;
        };
        if self.regular_price.is_some_and(|regular| sale >= regular) {
            return false;
        }
        self.sale_from.is_none_or(|from| from <= at) && self.sale_to.is_none_or(|to| at <= to)
    }

    /// The active price of a simple product or a variation.
    pub fn active_price(&self, at: OffsetDateTime) -> Option<Money> {
        if self.on_sale(at) {
            self.sale_price
        } else {
            self.regular_price
        }
    }

    /// WooCommerce derives the stock status from the quantity when it manages stock.
    pub fn sync_stock_status(&mut self) {
        if self.manage_stock {
            let quantity = self.stock_quantity.unwrap_or(0);
            self.stock_status = if quantity > 0 {
                StockStatus::InStock
            } else {
                StockStatus::OutOfStock
            };
        }
    }

    /// `update_meta_data`: by meta id when given, else replace the first entry with the key,
    /// else add one.
    pub fn set_meta(&mut self, next_id: &mut i64, id: Option<i64>, key: &str, value: Value) {
        set_meta(&mut self.meta_data, next_id, id, key, value);
    }
}

pub fn set_meta(list: &mut Vec<Meta>, next_id: &mut i64, id: Option<i64>, key: &str, value: Value) {
    let existing = match id {
        Some(id) => list.iter_mut().find(|meta| meta.id == id),
        None => list.iter_mut().find(|meta| meta.key == key),
    };
    match existing {
        Some(meta) => {
            meta.key = key.to_owned();
            meta.value = value;
        }
        None => {
            *next_id += 1;
            list.push(Meta {
                id: *next_id,
                key: key.to_owned(),
                value,
            });
        }
    }
}

/// The order statuses WooCommerce registers (without the `wc-` prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Pending,
    Processing,
    OnHold,
    Completed,
    Cancelled,
    Refunded,
    Failed,
    Trash,
}

impl OrderStatus {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.strip_prefix("wc-").unwrap_or(raw) {
            "pending" => Some(Self::Pending),
            "processing" => Some(Self::Processing),
            "on-hold" => Some(Self::OnHold),
            "completed" => Some(Self::Completed),
            "cancelled" => Some(Self::Cancelled),
            "refunded" => Some(Self::Refunded),
            "failed" => Some(Self::Failed),
            "trash" => Some(Self::Trash),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::OnHold => "on-hold",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
            Self::Failed => "failed",
            Self::Trash => "trash",
        }
    }

    /// The status's name as core writes it in notes (`wc_get_order_status_name`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending payment",
            Self::Processing => "Processing",
            Self::OnHold => "On hold",
            Self::Completed => "Completed",
            Self::Cancelled => "Cancelled",
            Self::Refunded => "Refunded",
            Self::Failed => "Failed",
            Self::Trash => "Trash",
        }
    }

    /// What entering this status does to stock (`wc_maybe_reduce_stock_levels` and
    /// `wc_maybe_increase_stock_levels` hooks): the one place that rule lives.
    pub fn stock_effect(self) -> StockEffect {
        match self {
            Self::Processing | Self::OnHold | Self::Completed => StockEffect::Reduce,
            Self::Cancelled | Self::Pending => StockEffect::Restore,
            Self::Refunded | Self::Failed | Self::Trash => StockEffect::None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockEffect {
    Reduce,
    Restore,
    None,
}

#[derive(Debug, Clone, Default)]
pub struct Address {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub address_1: String,
    pub address_2: String,
    pub city: String,
    pub state: String,
    pub postcode: String,
    pub country: String,
    /// Billing only.
    pub email: String,
    pub phone: String,
}

#[derive(Debug, Clone)]
pub struct LineItem {
    pub id: i64,
    pub name: String,
    pub product_id: i64,
    pub variation_id: i64,
    pub sku: String,
    pub quantity: i64,
    pub subtotal: Money,
    pub total: Money,
    pub meta_data: Vec<Meta>,
    /// How much stock this line took (`_reduced_stock`), to give back exactly that.
    pub reduced_stock: i64,
}

#[derive(Debug, Clone)]
pub struct ShippingLine {
    pub id: i64,
    pub method_title: String,
    pub method_id: String,
    pub total: Money,
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: i64,
    pub order_key: String,
    pub status: OrderStatus,
    pub currency: String,
    pub created_via: String,
    pub customer_id: i64,
    pub customer_note: String,
    pub billing: Address,
    pub shipping: Address,
    pub payment_method: String,
    pub payment_method_title: String,
    pub transaction_id: String,
    pub line_items: Vec<LineItem>,
    pub shipping_lines: Vec<ShippingLine>,
    pub meta_data: Vec<Meta>,
    pub created: OffsetDateTime,
    pub modified: OffsetDateTime,
    pub paid: Option<OffsetDateTime>,
    pub completed: Option<OffsetDateTime>,
    /// `_order_stock_reduced`: whether the lines' stock is currently taken.
    pub stock_reduced: bool,
    /// Its notes (WordPress comments), oldest first.
    pub notes: Vec<Note>,
    /// Its refunds (`shop_order_refund` posts), oldest first.
    pub refunds: Vec<Refund>,
}

impl Order {
    pub fn total(&self) -> Money {
        let lines: i64 = self.line_items.iter().map(|line| line.total.0).sum();
        Money(lines + self.shipping_total().0)
    }

    pub fn shipping_total(&self) -> Money {
        Money(self.shipping_lines.iter().map(|line| line.total.0).sum())
    }

    /// What is left to refund (`get_remaining_refund_amount`).
    pub fn remaining_refund(&self) -> Money {
        let refunded: i64 = self.refunds.iter().map(|refund| refund.amount.0).sum();
        Money(self.total().0 - refunded)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookStatus {
    Active,
    Paused,
    Disabled,
}

impl WebhookStatus {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "active" => Some(Self::Active),
            "paused" => Some(Self::Paused),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Disabled => "disabled",
        }
    }
}

/// The resources whose changes fire webhooks here (customers and coupons are not emulated, so
/// their topics are accepted but never fire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    Product,
    Order,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Product => "product",
            Self::Order => "order",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    Created,
    Updated,
    Deleted,
    Restored,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Deleted => "deleted",
            Self::Restored => "restored",
        }
    }
}

/// Something that happened to a resource and may fire webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Change {
    pub resource: Resource,
    pub event: Event,
    pub id: i64,
}

#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    pub status: WebhookStatus,
    /// `resource.event`, validated on the way in.
    pub topic: String,
    pub delivery_url: String,
    pub secret: String,
    pub failure_count: u32,
    pub created: OffsetDateTime,
    pub modified: OffsetDateTime,
}

impl Webhook {
    pub fn resource(&self) -> &str {
        self.topic
            .split_once('.')
            .map_or("", |(resource, _)| resource)
    }

    pub fn event(&self) -> &str {
        self.topic.split_once('.').map_or("", |(_, event)| event)
    }

    pub fn listens_to(&self, change: &Change) -> bool {
        self.status == WebhookStatus::Active
            && self.resource() == change.resource.as_str()
            && self.event() == change.event.as_str()
    }
}

/// The topics `wc_is_webhook_valid_topic` accepts (plus `action.*`).
pub fn is_valid_topic(topic: &str) -> bool {
    if let Some(action) = topic.strip_prefix("action.") {
        return !action.is_empty();
    }
    let Some((resource, event)) = topic.split_once('.') else {
        return false;
    };
    matches!(resource, "coupon" | "customer" | "order" | "product")
        && matches!(event, "created" | "updated" | "deleted" | "restored")
}

/// A browser session on the store's admin (for the app authorization pages).
#[derive(Debug, Clone)]
pub struct AdminSession {
    pub csrf_token: String,
    pub signed_in: bool,
    pub last_seen: std::time::SystemTime,
}

/// One emulated WordPress + WooCommerce site.
#[derive(Debug)]
pub struct WooStore {
    pub code: String,
    pub name: String,
    pub currency: String,
    pub admin: Admin,
    pub keys: Vec<ApiKey>,
    pub categories: BTreeMap<i64, Term>,
    pub tags: BTreeMap<i64, Term>,
    /// Products and variations by id. Add and remove them with [`WooStore::insert_product`]
    /// and [`WooStore::remove_product`], which keep the variations' index.
    pub products: BTreeMap<i64, Product>,
    /// `(parent id, variation id)` of every variation, so a product's variations are found
    /// without walking the whole store (a large shop has tens of thousands of products).
    variation_ids: std::collections::BTreeSet<(i64, i64)>,
    pub orders: BTreeMap<i64, Order>,
    pub webhooks: BTreeMap<i64, Webhook>,
    /// Answer every request with 503, as a host that is down.
    pub down: bool,
    pub sessions: HashMap<String, AdminSession>,
    /// Changes not yet turned into webhook deliveries.
    pub changes: Vec<Change>,
    pub webhook_log: Vec<WebhookAttempt>,
    next_post_id: i64,
    next_term_id: i64,
    next_item_id: i64,
    next_comment_id: i64,
    pub next_meta_id: i64,
    next_key_id: i64,
    next_webhook_id: i64,
}

impl WooStore {
    pub fn new(code: &str, name: &str, admin_email: &str, admin_password: &str) -> Self {
        Self {
            code: code.to_owned(),
            name: name.to_owned(),
            currency: "EUR".to_owned(),
            admin: Admin {
                login: admin_email
                    .split('@')
                    .next()
                    .unwrap_or(admin_email)
                    .to_owned(),
                email: admin_email.to_owned(),
                password: admin_password.to_owned(),
            },
            keys: Vec::new(),
            categories: BTreeMap::new(),
            tags: BTreeMap::new(),
            products: BTreeMap::new(),
            variation_ids: std::collections::BTreeSet::new(),
            orders: BTreeMap::new(),
            webhooks: BTreeMap::new(),
            down: false,
            sessions: HashMap::new(),
            changes: Vec::new(),
            webhook_log: Vec::new(),
            next_post_id: 9,
            next_term_id: 14,
            next_item_id: 0,
            next_comment_id: 0,
            next_meta_id: 100,
            next_key_id: 0,
            next_webhook_id: 0,
        }
    }

    /// Products, variations and orders share WordPress's post ids.
    pub fn next_post_id(&mut self) -> i64 {
        self.next_post_id += 1;
        self.next_post_id
    }

    /// Categories and tags share WordPress's term ids.
    pub fn next_term_id(&mut self) -> i64 {
        self.next_term_id += 1;
        self.next_term_id
    }

    /// Adds a term named `name` (slug from the name) to a taxonomy; returns its id.
    pub fn add_term(&mut self, taxonomy: Taxonomy, name: &str) -> i64 {
        let id = self.next_term_id();
        taxonomy.terms_mut(self).insert(id, Term::new(id, name));
        id
    }

    /// Order notes are WordPress comments, with ids of their own.
    pub fn next_comment_id(&mut self) -> i64 {
        self.next_comment_id += 1;
        self.next_comment_id
    }

    pub fn next_item_id(&mut self) -> i64 {
        self.next_item_id += 1;
        self.next_item_id
    }

    pub fn next_webhook_id(&mut self) -> i64 {
        self.next_webhook_id += 1;
        self.next_webhook_id
    }

    pub fn add_key(
        &mut self,
        description: &str,
        permissions: Permissions,
        consumer_key: String,
        consumer_secret: String,
    ) -> &ApiKey {
        self.next_key_id += 1;
        self.keys.push(ApiKey {
            key_id: self.next_key_id,
            description: description.to_owned(),
            permissions,
            consumer_key,
            consumer_secret,
            nonces: HashMap::new(),
        });
        self.keys.last().expect("just pushed")
    }

    pub fn key_mut(&mut self, consumer_key: &str) -> Option<&mut ApiKey> {
        self.keys
            .iter_mut()
            .find(|key| key.consumer_key == consumer_key)
    }

    /// The store's URL as the world sees it, without a trailing slash.
    pub fn url(&self, public_url: &url::Url) -> String {
        format!(
            "{}/woo/{}",
            public_url.as_str().trim_end_matches('/'),
            self.code
        )
    }

    pub fn record(&mut self, resource: Resource, event: Event, id: i64) {
        self.changes.push(Change {
            resource,
            event,
            id,
        });
    }

    /// Marks a product or variation modified now and fires `product.updated` for it. A
    /// variation also bumps its parent's `date_modified` (ASSUMPTION, see the module docs).
    pub fn touch_product(&mut self, id: i64, at: OffsetDateTime) {
        if !self.products.contains_key(&id) {
            return;
        }
        self.mark_modified(id, at);
        self.record(Resource::Product, Event::Updated, id);
    }

    /// Bumps `date_modified` of a product or variation, and of a variation's parent, without
    /// firing anything.
    pub fn mark_modified(&mut self, id: i64, at: OffsetDateTime) {
        let Some(product) = self.products.get_mut(&id) else {
            return;
        };
        product.modified = at;
        let parent = product.parent_id;
        if parent != 0
            && let Some(parent) = self.products.get_mut(&parent)
        {
            parent.modified = at;
        }
    }

    pub fn variations_of(&self, parent_id: i64) -> impl Iterator<Item = &Product> {
        self.variation_ids
            .range((parent_id, i64::MIN)..=(parent_id, i64::MAX))
            .filter_map(|(_, id)| self.products.get(id))
    }

    /// Adds or replaces a product or variation.
    pub fn insert_product(&mut self, id: i64, product: Product) {
        if let Some(old) = self.products.get(&id) {
            self.variation_ids.remove(&(old.parent_id, id));
        }
        if product.kind == ProductType::Variation {
            self.variation_ids.insert((product.parent_id, id));
        }
        self.products.insert(id, product);
    }

    /// Removes a product or variation.
    pub fn remove_product(&mut self, id: i64) -> Option<Product> {
        let product = self.products.remove(&id)?;
        self.variation_ids.remove(&(product.parent_id, id));
        Some(product)
    }

    /// A product or variation by SKU (case-sensitive, as `wc_get_product_id_by_sku`).
    pub fn product_by_sku(&self, sku: &str) -> Option<&Product> {
        self.products.values().find(|product| {
            !product.sku.is_empty() && product.sku == sku && product.status != PostStatus::Trash
        })
    }

    /// Whether another product or variation already holds a SKU.
    pub fn sku_taken(&self, sku: &str, except: i64) -> bool {
        !sku.is_empty()
            && self
                .products
                .values()
                .any(|product| product.id != except && product.sku == sku)
    }
}

/// WordPress's `sanitize_title`, close enough: lower case ASCII words joined by dashes.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_print_without_zone() {
        let naive = crate::values::clock::parse_iso8601("2024-05-01T10:00:00").unwrap();
        assert_eq!(format_date(naive), "2024-05-01T10:00:00");
    }

    #[test]
    fn only_known_topics_are_valid() {
        assert!(is_valid_topic("product.updated"));
        assert!(is_valid_topic("action.woocommerce_add_to_cart"));
        assert!(!is_valid_topic("product.sold"));
        assert!(!is_valid_topic("refund.created"));
    }
}
