//! A BigCommerce store in memory: its API tokens, catalog (products with their variants,
//! categories, brands), orders with their shipments, webhooks ("hooks"), the apps installed on
//! it and its rate-limit window, with the rules every write path shares (ids, dates, stock).
//! HTTP lives in the handlers (`catalog`, `orders`, `hooks`), deliveries in `delivery`.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::{Rfc2822, Rfc3339};

use crate::bc::delivery::HookAttempt;
use crate::bc::rate::RateWindow;
use crate::values::money::Money;

/// A v3 date: ISO 8601 with the zone written out (`2024-01-01T08:00:00+00:00`).
pub fn format_v3(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .map(|text| text.replace('Z', "+00:00"))
        .unwrap_or_default()
}

/// A v2 date: RFC 2822 (`Mon, 01 Jan 2024 08:00:00 +0000`).
pub fn format_v2(at: OffsetDateTime) -> String {
    at.format(&Rfc2822).unwrap_or_default()
}

/// A date filter as BigCommerce takes it: RFC 2822, ISO 8601, or a day alone (its midnight,
/// UTC), or Unix seconds.
pub fn parse_date(raw: &str) -> Option<OffsetDateTime> {
    let raw = raw.trim();
    if let Ok(at) = OffsetDateTime::parse(raw, &Rfc2822) {
        return Some(at);
    }
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        return raw
            .parse::<i64>()
            .ok()
            .and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok());
    }
    crate::values::clock::parse_mirakl(raw)
}

/// Money as BigCommerce writes it: v3 a JSON number, v2 a string with four decimals.
pub fn money_v2(money: Money) -> String {
    format!("{}.{:02}00", money.0 / 100, money.0 % 100)
}

/// Which stock a product counts (`inventory_tracking`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracking {
    None,
    Product,
    Variant,
}

impl Tracking {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "none" => Some(Self::None),
            "product" => Some(Self::Product),
            "variant" => Some(Self::Variant),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Product => "product",
            Self::Variant => "variant",
        }
    }
}

/// One option value of a variant (`Color: Red`).
#[derive(Debug, Clone)]
pub struct OptionValue {
    pub option_id: i64,
    pub option_display_name: String,
    pub id: i64,
    pub label: String,
}

#[derive(Debug, Clone)]
pub struct Variant {
    pub id: i64,
    pub product_id: i64,
    pub sku: String,
    /// `None`: the product's price applies.
    pub price: Option<Money>,
    pub sale_price: Option<Money>,
    pub inventory_level: i64,
    pub upc: String,
    pub gtin: String,
    pub mpn: String,
    pub option_values: Vec<OptionValue>,
}

impl Variant {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "product_id": self.product_id,
            "sku": self.sku,
            "sku_id": self.id,
            "price": self.price.map(Money::to_json),
            "calculated_price": self.price.map(Money::to_json),
            "sale_price": self.sale_price.map(Money::to_json),
            "inventory_level": self.inventory_level,
            "purchasing_disabled": false,
            "upc": self.upc,
            "gtin": self.gtin,
            "mpn": self.mpn,
            "option_values": self.option_values.iter().map(|value| json!({
                "id": value.id,
                "label": value.label,
                "option_id": value.option_id,
                "option_display_name": value.option_display_name,
            })).collect::<Vec<_>>(),
        })
    }
}

#[derive(Debug, Clone)]
pub struct CustomField {
    pub id: i64,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct Product {
    pub id: i64,
    pub name: String,
    pub sku: String,
    pub price: Money,
    /// 0 when there is no sale price, as BigCommerce answers it.
    pub sale_price: Money,
    pub inventory_level: i64,
    pub inventory_tracking: Tracking,
    pub is_visible: bool,
    /// `available`, `disabled` or `preorder`.
    pub availability: String,
    pub brand_id: i64,
    pub categories: Vec<i64>,
    pub upc: String,
    pub gtin: String,
    pub mpn: String,
    pub description: String,
    pub weight: f64,
    pub custom_fields: Vec<CustomField>,
    /// Every product has at least one: the base variant of a product without options.
    pub variants: Vec<Variant>,
    pub date_created: OffsetDateTime,
    pub date_modified: OffsetDateTime,
}

impl Product {
    /// The base variant's id, for a product without options; `None` otherwise.
    pub fn base_variant_id(&self) -> Option<i64> {
        match self.variants.as_slice() {
            [only] if only.option_values.is_empty() => Some(only.id),
            _ => None,
        }
    }

    /// The stock the product shows: its own, or the sum of its variants'.
    pub fn shown_inventory(&self) -> i64 {
        match self.inventory_tracking {
            Tracking::Variant => self.variants.iter().map(|v| v.inventory_level).sum(),
            _ => self.inventory_level,
        }
    }

    pub fn variant(&self, id: i64) -> Option<&Variant> {
        self.variants.iter().find(|variant| variant.id == id)
    }

    pub fn variant_mut(&mut self, id: i64) -> Option<&mut Variant> {
        self.variants.iter_mut().find(|variant| variant.id == id)
    }

    /// The base variant follows the product's SKU, codes and stock.
    pub fn sync_base_variant(&mut self) {
        if self.base_variant_id().is_some() {
            let (sku, level) = (self.sku.clone(), self.inventory_level);
            let (upc, gtin, mpn) = (self.upc.clone(), self.gtin.clone(), self.mpn.clone());
            let base = &mut self.variants[0];
            base.sku = sku;
            base.inventory_level = level;
            base.upc = upc;
            base.gtin = gtin;
            base.mpn = mpn;
        }
    }

    pub fn to_json(&self, with_variants: bool) -> Value {
        let mut product = json!({
            "id": self.id,
            "name": self.name,
            "type": "physical",
            "sku": self.sku,
            "description": self.description,
            "weight": self.weight,
            "price": self.price.to_json(),
            "sale_price": self.sale_price.to_json(),
            "retail_price": 0,
            "cost_price": 0,
            "calculated_price": if self.sale_price.0 > 0 { self.sale_price } else { self.price }.to_json(),
            "categories": self.categories,
            "brand_id": self.brand_id,
            "inventory_level": self.shown_inventory(),
            "inventory_warning_level": 0,
            "inventory_tracking": self.inventory_tracking.as_str(),
            "is_visible": self.is_visible,
            "availability": self.availability,
            "condition": "New",
            "upc": self.upc,
            "gtin": self.gtin,
            "mpn": self.mpn,
            "custom_fields": self.custom_fields.iter().map(|field| json!({
                "id": field.id, "name": field.name, "value": field.value,
            })).collect::<Vec<_>>(),
            "base_variant_id": self.base_variant_id(),
            "date_created": format_v3(self.date_created),
            "date_modified": format_v3(self.date_modified),
        });
        if with_variants {
            product["variants"] = self.variants.iter().map(Variant::to_json).collect();
        }
        product
    }
}

#[derive(Debug, Clone)]
pub struct Category {
    pub id: i64,
    pub parent_id: i64,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Brand {
    pub id: i64,
    pub name: String,
}

/// The order statuses, by their v2 `status_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Incomplete,
    Pending,
    Shipped,
    PartiallyShipped,
    Refunded,
    Cancelled,
    Declined,
    AwaitingPayment,
    AwaitingPickup,
    AwaitingShipment,
    Completed,
    AwaitingFulfillment,
    ManualVerificationRequired,
    Disputed,
    PartiallyRefunded,
}

impl OrderStatus {
    const ALL: [OrderStatus; 15] = [
        Self::Incomplete,
        Self::Pending,
        Self::Shipped,
        Self::PartiallyShipped,
        Self::Refunded,
        Self::Cancelled,
        Self::Declined,
        Self::AwaitingPayment,
        Self::AwaitingPickup,
        Self::AwaitingShipment,
        Self::Completed,
        Self::AwaitingFulfillment,
        Self::ManualVerificationRequired,
        Self::Disputed,
        Self::PartiallyRefunded,
    ];

    pub fn from_id(id: i64) -> Option<Self> {
        usize::try_from(id)
            .ok()
            .and_then(|index| Self::ALL.get(index).copied())
    }

    pub fn id(self) -> i64 {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(0) as i64
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Incomplete => "Incomplete",
            Self::Pending => "Pending",
            Self::Shipped => "Shipped",
            Self::PartiallyShipped => "Partially Shipped",
            Self::Refunded => "Refunded",
            Self::Cancelled => "Cancelled",
            Self::Declined => "Declined",
            Self::AwaitingPayment => "Awaiting Payment",
            Self::AwaitingPickup => "Awaiting Pickup",
            Self::AwaitingShipment => "Awaiting Shipment",
            Self::Completed => "Completed",
            Self::AwaitingFulfillment => "Awaiting Fulfillment",
            Self::ManualVerificationRequired => "Manual Verification Required",
            Self::Disputed => "Disputed",
            Self::PartiallyRefunded => "Partially Refunded",
        }
    }

    /// ASSUMPTION: the statuses that give the stock of an order back, as the control panel's
    /// default "return stock on cancel/refund" setting does.
    pub fn returns_stock(self) -> bool {
        matches!(self, Self::Cancelled | Self::Refunded | Self::Declined)
    }
}

/// An order line: a catalog product (with its variant) or a custom one (`product_id` 0).
#[derive(Debug, Clone)]
pub struct OrderProduct {
    pub id: i64,
    pub product_id: i64,
    pub variant_id: i64,
    pub name: String,
    pub sku: String,
    pub upc: String,
    pub quantity: i64,
    pub quantity_shipped: i64,
    pub price: Money,
    /// Which stock the line took, to give it back: (product id, variant id, tracking).
    pub took_stock: Option<(i64, i64, Tracking)>,
}

#[derive(Debug, Clone)]
pub struct Shipment {
    pub id: i64,
    pub order_address_id: i64,
    pub tracking_number: String,
    pub tracking_carrier: String,
    pub shipping_provider: String,
    pub comments: String,
    /// (order product id, quantity).
    pub items: Vec<(i64, i64)>,
    pub date_created: OffsetDateTime,
}

/// A refund of an order (v3 `payment_actions/refunds`), reduced to what an app reads: its
/// amount and reason.
#[derive(Debug, Clone)]
pub struct Refund {
    pub id: i64,
    pub total_amount: Money,
    pub reason: String,
    pub created: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: i64,
    pub refunds: Vec<Refund>,
    pub status: OrderStatus,
    pub billing_address: Value,
    /// Each with its `id` (the `order_address_id` of shipments).
    pub shipping_addresses: Vec<(i64, Value)>,
    pub products: Vec<OrderProduct>,
    pub shipments: Vec<Shipment>,
    pub external_source: String,
    pub external_id: String,
    pub external_order_id: String,
    pub customer_message: String,
    pub staff_notes: String,
    pub currency_code: String,
    pub stock_returned: bool,
    pub date_created: OffsetDateTime,
    pub date_modified: OffsetDateTime,
}

impl Order {
    pub fn total(&self) -> Money {
        Money(
            self.products
                .iter()
                .map(|p| p.price.times(p.quantity).0)
                .sum(),
        )
    }

    pub fn to_json(&self, api: &str) -> Value {
        let total = money_v2(self.total());
        let items_total: i64 = self.products.iter().map(|p| p.quantity).sum();
        let items_shipped: i64 = self.products.iter().map(|p| p.quantity_shipped).sum();
        json!({
            "id": self.id,
            "customer_id": 0,
            "date_created": format_v2(self.date_created),
            "date_modified": format_v2(self.date_modified),
            "date_shipped": self.shipments.last().map_or(String::new(), |s| format_v2(s.date_created)),
            "status_id": self.status.id(),
            "status": self.status.name(),
            "custom_status": self.status.name(),
            "subtotal_ex_tax": total,
            "subtotal_inc_tax": total,
            "total_ex_tax": total,
            "total_inc_tax": total,
            "items_total": items_total,
            "items_shipped": items_shipped,
            "payment_method": "Manual",
            "currency_code": self.currency_code,
            "default_currency_code": self.currency_code,
            "billing_address": self.billing_address,
            "external_source": self.external_source,
            "external_id": self.external_id,
            "external_order_id": self.external_order_id,
            "customer_message": self.customer_message,
            "staff_notes": self.staff_notes,
            "is_deleted": false,
            "products": {
                "url": format!("{api}/v2/orders/{}/products", self.id),
                "resource": format!("/orders/{}/products", self.id),
            },
            "shipping_addresses": {
                "url": format!("{api}/v2/orders/{}/shipping_addresses", self.id),
                "resource": format!("/orders/{}/shipping_addresses", self.id),
            },
            "shipments": {
                "url": format!("{api}/v2/orders/{}/shipments", self.id),
                "resource": format!("/orders/{}/shipments", self.id),
            },
        })
    }

    pub fn product_json(&self, line: &OrderProduct) -> Value {
        let price = money_v2(line.price);
        let total = money_v2(line.price.times(line.quantity));
        json!({
            "id": line.id,
            "order_id": self.id,
            "product_id": line.product_id,
            "variant_id": line.variant_id,
            "order_address_id": self.shipping_addresses.first().map_or(0, |(id, _)| *id),
            "name": line.name,
            "sku": line.sku,
            "upc": line.upc,
            "type": "physical",
            "base_price": price,
            "price_ex_tax": price,
            "price_inc_tax": price,
            "total_ex_tax": total,
            "total_inc_tax": total,
            "quantity": line.quantity,
            "quantity_shipped": line.quantity_shipped,
            "product_options": [],
        })
    }

    pub fn shipment_json(&self, shipment: &Shipment) -> Value {
        let address = self
            .shipping_addresses
            .iter()
            .find(|(id, _)| *id == shipment.order_address_id)
            .map_or(Value::Null, |(_, address)| address.clone());
        json!({
            "id": shipment.id,
            "order_id": self.id,
            "customer_id": 0,
            "order_address_id": shipment.order_address_id,
            "date_created": format_v2(shipment.date_created),
            "tracking_number": shipment.tracking_number,
            "tracking_carrier": shipment.tracking_carrier,
            "shipping_provider": shipment.shipping_provider,
            "tracking_link": "",
            "shipping_method": "",
            "comments": shipment.comments,
            "billing_address": self.billing_address,
            "shipping_address": address,
            "items": shipment.items.iter().map(|(order_product_id, quantity)| {
                let product_id = self.products.iter()
                    .find(|p| p.id == *order_product_id)
                    .map_or(0, |p| p.product_id);
                json!({ "order_product_id": order_product_id, "product_id": product_id, "quantity": quantity })
            }).collect::<Vec<_>>(),
        })
    }
}

/// A webhook registration.
#[derive(Debug, Clone)]
pub struct Hook {
    pub id: i64,
    /// The app whose token created it; `None` for the store-level API account.
    pub client_id: Option<String>,
    pub scope: String,
    pub destination: String,
    pub is_active: bool,
    /// Sent with every delivery: how an app tells its deliveries from forgeries.
    pub headers: BTreeMap<String, String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Hook {
    pub fn to_json(&self, store_hash: &str) -> Value {
        json!({
            "id": self.id,
            "client_id": self.client_id.clone().unwrap_or_default(),
            "store_hash": store_hash,
            "scope": self.scope,
            "destination": self.destination,
            "is_active": self.is_active,
            "headers": self.headers,
            "created_at": self.created_at.unix_timestamp(),
            "updated_at": self.updated_at.unix_timestamp(),
        })
    }

    /// Whether an event of `scope` reaches this hook: the same scope, or a `…/*` wildcard
    /// over it.
    pub fn listens_to(&self, scope: &str) -> bool {
        if !self.is_active {
            return false;
        }
        match self.scope.strip_suffix('*') {
            Some(prefix) => scope.starts_with(prefix),
            None => self.scope == scope,
        }
    }
}

/// The scopes a hook may take (a `…/*` wildcard over any of their groups too).
pub const SCOPES: [&str; 19] = [
    "store/product/created",
    "store/product/updated",
    "store/product/deleted",
    "store/product/inventory/updated",
    "store/product/inventory/order/updated",
    "store/sku/created",
    "store/sku/updated",
    "store/sku/deleted",
    "store/sku/inventory/updated",
    "store/sku/inventory/order/updated",
    "store/order/created",
    "store/order/updated",
    "store/order/archived",
    "store/order/statusUpdated",
    "store/shipment/created",
    "store/shipment/updated",
    "store/shipment/deleted",
    "store/app/uninstalled",
    "store/category/updated",
];

pub fn is_valid_scope(scope: &str) -> bool {
    match scope.strip_suffix('*') {
        Some(prefix) => prefix.ends_with('/') && SCOPES.iter().any(|s| s.starts_with(prefix)),
        None => SCOPES.contains(&scope),
    }
}

/// Something that happened in the store, for the hooks: its scope and the `data` of the
/// light payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub scope: &'static str,
    pub data: Value,
}

/// Why stock moves: it decides the hook's scope and how the payload tells the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockMove {
    /// An order took it or gave it back.
    Order,
    /// A merchant or an inventory adjustment set it.
    Set,
}

/// Who can call the store's API with a token.
#[derive(Debug, Clone)]
pub struct Token {
    /// The app it was issued to; `None` for the store-level API account.
    pub client_id: Option<String>,
}

/// A store's owner, who is also the control panel's only user.
#[derive(Debug, Clone)]
pub struct Owner {
    pub id: i64,
    pub username: String,
    pub email: String,
}

pub struct BcStore {
    pub hash: String,
    /// The numeric id webhook payloads carry as `store_id`.
    pub store_id: i64,
    pub name: String,
    pub currency: String,
    pub owner: Owner,
    pub tokens: BTreeMap<String, Token>,
    /// The apps installed: client id → the token the app got.
    pub installed: BTreeMap<String, String>,
    pub categories: BTreeMap<i64, Category>,
    pub brands: BTreeMap<i64, Brand>,
    pub products: BTreeMap<i64, Product>,
    pub orders: BTreeMap<i64, Order>,
    pub hooks: BTreeMap<i64, Hook>,
    /// Events not yet turned into deliveries.
    pub events: Vec<Event>,
    pub hook_log: Vec<HookAttempt>,
    pub rate: RateWindow,
    next_id: i64,
}

impl BcStore {
    pub fn new(hash: &str, store_id: i64, name: &str, owner_email: &str) -> Self {
        Self {
            hash: hash.to_owned(),
            store_id,
            name: name.to_owned(),
            currency: "EUR".to_owned(),
            owner: Owner {
                id: store_id,
                username: owner_email.split('@').next().unwrap_or("owner").to_owned(),
                email: owner_email.to_owned(),
            },
            tokens: BTreeMap::new(),
            installed: BTreeMap::new(),
            categories: BTreeMap::new(),
            brands: BTreeMap::new(),
            products: BTreeMap::new(),
            orders: BTreeMap::new(),
            hooks: BTreeMap::new(),
            events: Vec::new(),
            hook_log: Vec::new(),
            rate: RateWindow::default(),
            next_id: 100,
        }
    }

    /// One sequence for every kind of id: ids never collide, which makes mistakes show.
    pub fn next_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn fire(&mut self, scope: &'static str, data: Value) {
        self.events.push(Event { scope, data });
    }

    /// The product holding a SKU, and the variant when it is a variant's.
    pub fn find_sku(&self, sku: &str) -> Option<(i64, i64)> {
        self.products.values().find_map(|product| {
            product
                .variants
                .iter()
                .find(|variant| variant.sku == sku)
                .map(|variant| (product.id, variant.id))
                .or_else(|| (product.sku == sku).then_some((product.id, 0)))
        })
    }

    /// Whether another product or variant holds a SKU already.
    pub fn sku_taken(&self, sku: &str, except_product: i64) -> bool {
        !sku.is_empty()
            && self.products.values().any(|product| {
                product.id != except_product
                    && (product.sku == sku || product.variants.iter().any(|v| v.sku == sku))
            })
    }

    /// Moves stock by `delta` where the product tracks it, and fires the inventory event of
    /// its `cause`. Untracked products keep no count.
    pub fn move_stock(&mut self, product_id: i64, variant_id: i64, delta: i64, cause: StockMove) {
        let at = crate::values::clock::now();
        let Some(product) = self.products.get_mut(&product_id) else {
            return;
        };
        let tracking = product.inventory_tracking;
        let level = match tracking {
            Tracking::None => return,
            Tracking::Product => {
                product.inventory_level += delta;
                product.sync_base_variant();
                product.inventory_level
            }
            Tracking::Variant => {
                let Some(variant) = product.variant_mut(variant_id) else {
                    return;
                };
                variant.inventory_level += delta;
                variant.inventory_level
            }
        };
        product.date_modified = at;
        // An order's move is told relative, a merchant's or an adjustment's absolute.
        let (method, value) = match cause {
            StockMove::Order => ("relative", delta),
            StockMove::Set => ("absolute", level),
        };
        let (scope, data) = match (tracking, cause) {
            (Tracking::Variant, cause) => (
                if cause == StockMove::Order {
                    "store/sku/inventory/order/updated"
                } else {
                    "store/sku/inventory/updated"
                },
                json!({ "type": "sku", "id": variant_id, "inventory": {
                    "product_id": product_id, "variant_id": variant_id, "method": method, "value": value,
                }}),
            ),
            (_, cause) => (
                if cause == StockMove::Order {
                    "store/product/inventory/order/updated"
                } else {
                    "store/product/inventory/updated"
                },
                json!({ "type": "product", "id": product_id, "inventory": {
                    "product_id": product_id, "method": method, "value": value,
                }}),
            ),
        };
        self.fire(scope, data);
    }
}
