//! F5, orders: a Mirakl order as the connector keeps it (whatever channel it came from), the
//! stage it is at, the seller's order settings, and the acceptance a line-by-line stock check
//! gives. Pure: the flow in `sync` reads Mirakl and the shop, this only decides.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::{FieldError, Money};

/// One Mirakl order, normalized from a marketplace's OR11 or Mirakl Connect's `/v2/orders`.
/// States stay Mirakl's own words (`state`): an unknown one is kept and shown, never a failure;
/// [`Order::stage`] says what it means for the connector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Mirakl's order id, e.g. `2001-A-1`.
    pub mirakl_id: String,
    pub state: String,
    pub created_at_ms: i64,
    /// When Mirakl last changed it: the import's cursor moves on this.
    pub updated_at_ms: i64,
    /// The order is refused automatically by Mirakl if not accepted by then.
    pub acceptance_deadline_ms: Option<i64>,
    pub shipping_deadline_ms: Option<i64>,
    pub currency: String,
    pub lines: Vec<OrderLine>,
    /// The order's shipping charge, all lines together.
    pub shipping_price: Money,
    pub total_price: Money,
    pub customer: Customer,
    /// How Mirakl ships it (a label to show and to name the shop's shipping line).
    pub shipping_method: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// Mirakl's line id: what acceptance, shipping and refunds name.
    pub line_id: String,
    /// The seller's SKU (the offer's).
    pub sku: String,
    pub title: String,
    pub quantity: i64,
    pub unit_price: Money,
    pub total_price: Money,
    pub shipping_price: Money,
    pub state: String,
}

/// Who bought it. Addresses stay `None` until Mirakl shows them (marketplaces: `SHIPPING`,
/// Connect: `AWAITING_SHIPMENT`); the e-mail only when the marketplace gives one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub billing: Option<Address>,
    pub shipping: Option<Address>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub first_name: String,
    pub last_name: String,
    pub company: Option<String>,
    pub street_1: String,
    pub street_2: Option<String>,
    pub zip_code: String,
    pub city: String,
    pub state: Option<String>,
    /// ISO 3166 alpha-2 when Mirakl gives it (Connect gives alpha-3, turned into alpha-2 where
    /// known), else the country's name.
    pub country: String,
    pub phone: Option<String>,
}

/// What an order's state means for the connector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderStage {
    /// The seller must accept or refuse it, line by line, before its deadline.
    AwaitingAcceptance,
    /// Accepted; Mirakl is taking the payment. The address is not shown yet.
    AwaitingPayment,
    /// Paid, with its address: the shop order is created now.
    ToShip,
    Shipped,
    Closed,
    Refused,
    Canceled,
    /// A state this version does not know: kept and shown, nothing done.
    Unknown,
}

impl OrderStage {
    /// The stage of a marketplace order state (OR11) or a Mirakl Connect status.
    pub fn of(state: &str) -> Self {
        match state {
            "WAITING_ACCEPTANCE" | "AWAITING_ACCEPTANCE" | "AWAITING_FRAUD_CHECK" => {
                Self::AwaitingAcceptance
            }
            "STAGING" | "WAITING_DEBIT" | "WAITING_DEBIT_PAYMENT" | "AWAITING_PAYMENT" => {
                Self::AwaitingPayment
            }
            "SHIPPING" | "AWAITING_SHIPMENT" => Self::ToShip,
            "SHIPPED" | "TO_COLLECT" | "RECEIVED" | "DELIVERED" => Self::Shipped,
            "CLOSED" => Self::Closed,
            "REFUSED" => Self::Refused,
            "CANCELED" | "CANCELLED" => Self::Canceled,
            _ => Self::Unknown,
        }
    }

    /// Whether Mirakl will not ship it: the shop order, if there is one, is cancelled.
    pub fn is_void(self) -> bool {
        matches!(self, Self::Refused | Self::Canceled)
    }
}

impl Order {
    pub fn stage(&self) -> OrderStage {
        OrderStage::of(&self.state)
    }
}

/// The seller's order settings (F3), per workspace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderSettings {
    /// Accept orders without the seller, checking stock line by line.
    pub auto_accept: bool,
    /// When a line is short: refuse only that line (on), or leave the whole order to the
    /// seller (off).
    pub partial_acceptance: bool,
    /// The WooCommerce status of an imported order.
    pub shop_status: String,
    /// Whether imported orders count as paid in the shop (Mirakl collected the payment).
    pub mark_paid: bool,
    /// A meta key read for a tracking number besides the Shipment Tracking plugins'
    /// `_wc_shipment_tracking_items`.
    pub tracking_meta_key: Option<String>,
    /// The shop's carrier names (as the tracking plugin names its provider) → the
    /// marketplace's carrier codes (SH21).
    pub carriers: BTreeMap<String, String>,
    /// Send a cancellation made in the shop before shipment to Mirakl.
    pub send_cancellations: bool,
    /// Send a refund made in the shop to Mirakl.
    pub send_refunds: bool,
}

impl Default for OrderSettings {
    fn default() -> Self {
        Self {
            auto_accept: true,
            partial_acceptance: true,
            shop_status: "processing".to_owned(),
            mark_paid: true,
            tracking_meta_key: None,
            carriers: BTreeMap::new(),
            send_cancellations: true,
            send_refunds: true,
        }
    }
}

/// The WooCommerce statuses an imported order may be given.
pub const SHOP_STATUSES: [&str; 3] = ["processing", "on-hold", "pending"];

/// The most carrier names the settings map.
pub const MAX_CARRIERS: usize = 100;

impl OrderSettings {
    /// Every problem at once, so the form can show them all.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut fail = |field: &'static str, message: String| {
            errors.push(FieldError { field, message });
        };
        if !SHOP_STATUSES.contains(&self.shop_status.as_str()) {
            fail(
                "shop_status",
                format!("Choose one of: {}.", SHOP_STATUSES.join(", ")),
            );
        } else if self.mark_paid && self.shop_status != "processing" {
            // WooCommerce's `set_paid` completes the payment, which moves the order to
            // processing whatever status was asked for.
            fail(
                "shop_status",
                "WooCommerce moves a paid order to Processing: choose Processing, or untick \
                 \"Mark imported orders as paid\"."
                    .to_owned(),
            );
        }
        if let Some(key) = &self.tracking_meta_key
            && (key.is_empty() || key.len() > 255 || key.chars().any(char::is_whitespace))
        {
            fail(
                "tracking_meta_key",
                "A meta key is one word of at most 255 characters, e.g. _tracking_number."
                    .to_owned(),
            );
        }
        if self.carriers.len() > MAX_CARRIERS {
            fail("carriers", format!("Map at most {MAX_CARRIERS} carriers."));
        }
        if let Some((shop, _)) = self
            .carriers
            .iter()
            .find(|(shop, code)| shop.trim().is_empty() || code.trim().is_empty())
        {
            fail(
                "carriers",
                format!("Each carrier needs a shop name and a Mirakl code (see \"{shop}\")."),
            );
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// The decision on each line of an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    /// `(line id, accepted)`, for every line of the order.
    pub lines: Vec<(String, bool)>,
}

impl Acceptance {
    pub fn accepts_any(&self) -> bool {
        self.lines.iter().any(|(_, accepted)| *accepted)
    }

    /// Every line accepted.
    pub fn all(order: &Order) -> Self {
        Self {
            lines: order
                .lines
                .iter()
                .map(|l| (l.line_id.clone(), true))
                .collect(),
        }
    }

    /// Every line refused.
    pub fn none(order: &Order) -> Self {
        Self {
            lines: order
                .lines
                .iter()
                .map(|l| (l.line_id.clone(), false))
                .collect(),
        }
    }
}

/// What the automatic acceptance decides for an order, given the stock the shop has for each
/// SKU (`None`: not counted, always enough) after the orders accepted before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AutoDecision {
    Accept(Acceptance),
    /// Some lines are short and partial acceptance is off: the seller decides.
    LeaveToSeller {
        short: Vec<String>,
    },
}

/// Checks stock line by line: a line is accepted when the stock left covers it (lines of one
/// SKU draw on the same stock, in order). Short lines are refused when partial acceptance is
/// on; otherwise the order waits for the seller.
pub fn auto_decision(
    order: &Order,
    settings: &OrderSettings,
    mut stock: impl FnMut(&str) -> Option<i64>,
) -> AutoDecision {
    let mut left: BTreeMap<&str, Option<i64>> = BTreeMap::new();
    let mut lines = Vec::new();
    let mut short = Vec::new();
    for line in &order.lines {
        let available = left
            .entry(line.sku.as_str())
            .or_insert_with(|| stock(&line.sku));
        let enough = match available {
            None => true,
            Some(n) if *n >= line.quantity => {
                *n -= line.quantity;
                true
            }
            Some(_) => false,
        };
        if !enough {
            short.push(line.sku.clone());
        }
        lines.push((line.line_id.clone(), enough));
    }
    if !short.is_empty() && !settings.partial_acceptance {
        return AutoDecision::LeaveToSeller { short };
    }
    AutoDecision::Accept(Acceptance { lines })
}

/// ISO 3166-1 alpha-3 → alpha-2, for the countries a European or North American marketplace
/// delivers to. Mirakl gives alpha-3; shops want alpha-2.
const COUNTRIES: [(&str, &str); 62] = [
    ("AND", "AD"),
    ("ARE", "AE"),
    ("AUS", "AU"),
    ("AUT", "AT"),
    ("BEL", "BE"),
    ("BGR", "BG"),
    ("BRA", "BR"),
    ("CAN", "CA"),
    ("CHE", "CH"),
    ("CHN", "CN"),
    ("CYP", "CY"),
    ("CZE", "CZ"),
    ("DEU", "DE"),
    ("DNK", "DK"),
    ("DZA", "DZ"),
    ("ESP", "ES"),
    ("EST", "EE"),
    ("FIN", "FI"),
    ("FRA", "FR"),
    ("GBR", "GB"),
    ("GLP", "GP"),
    ("GRC", "GR"),
    ("GUF", "GF"),
    ("HKG", "HK"),
    ("HRV", "HR"),
    ("HUN", "HU"),
    ("IRL", "IE"),
    ("ISL", "IS"),
    ("ISR", "IL"),
    ("ITA", "IT"),
    ("JPN", "JP"),
    ("KOR", "KR"),
    ("LIE", "LI"),
    ("LTU", "LT"),
    ("LUX", "LU"),
    ("LVA", "LV"),
    ("MAR", "MA"),
    ("MCO", "MC"),
    ("MEX", "MX"),
    ("MLT", "MT"),
    ("MTQ", "MQ"),
    ("MYT", "YT"),
    ("NCL", "NC"),
    ("NLD", "NL"),
    ("NOR", "NO"),
    ("NZL", "NZ"),
    ("POL", "PL"),
    ("PRT", "PT"),
    ("PYF", "PF"),
    ("REU", "RE"),
    ("ROU", "RO"),
    ("SAU", "SA"),
    ("SGP", "SG"),
    ("SRB", "RS"),
    ("SVK", "SK"),
    ("SVN", "SI"),
    ("SWE", "SE"),
    ("TUN", "TN"),
    ("TUR", "TR"),
    ("UKR", "UA"),
    ("USA", "US"),
    ("ZAF", "ZA"),
];

/// The alpha-2 code a shop wants for a country Mirakl names by its alpha-3 code (or already
/// by its alpha-2 code); an unknown code is kept as given.
pub fn country_code(raw: &str) -> String {
    let code = raw.trim().to_ascii_uppercase();
    COUNTRIES
        .iter()
        .find(|(alpha3, _)| *alpha3 == code)
        .map_or(code, |(_, alpha2)| (*alpha2).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(lines: &[(&str, &str, i64)]) -> Order {
        Order {
            mirakl_id: "O-1".into(),
            state: "WAITING_ACCEPTANCE".into(),
            created_at_ms: 0,
            updated_at_ms: 0,
            acceptance_deadline_ms: None,
            shipping_deadline_ms: None,
            currency: "EUR".into(),
            lines: lines
                .iter()
                .map(|(id, sku, quantity)| OrderLine {
                    line_id: (*id).into(),
                    sku: (*sku).into(),
                    title: String::new(),
                    quantity: *quantity,
                    unit_price: Money::from_minor(100),
                    total_price: Money::from_minor(100 * quantity),
                    shipping_price: Money::from_minor(0),
                    state: "WAITING_ACCEPTANCE".into(),
                })
                .collect(),
            shipping_price: Money::from_minor(0),
            total_price: Money::from_minor(0),
            customer: Customer::default(),
            shipping_method: None,
        }
    }

    #[test]
    fn states_are_open_and_each_has_a_stage() {
        assert_eq!(
            OrderStage::of("WAITING_ACCEPTANCE"),
            OrderStage::AwaitingAcceptance
        );
        assert_eq!(OrderStage::of("AWAITING_SHIPMENT"), OrderStage::ToShip);
        assert_eq!(OrderStage::of("SHIPPING"), OrderStage::ToShip);
        assert_eq!(OrderStage::of("INCIDENT_OPEN"), OrderStage::Unknown);
        assert!(OrderStage::of("CANCELED").is_void());
    }

    #[test]
    fn stock_is_checked_line_by_line_and_shared_by_lines_of_one_sku() {
        let o = order(&[("1", "MUG", 2), ("2", "MUG", 2), ("3", "CAP", 1)]);
        let stock = |sku: &str| match sku {
            "MUG" => Some(3),
            _ => None,
        };
        let settings = OrderSettings::default();
        assert_eq!(
            auto_decision(&o, &settings, stock),
            AutoDecision::Accept(Acceptance {
                lines: vec![("1".into(), true), ("2".into(), false), ("3".into(), true)]
            })
        );
        let strict = OrderSettings {
            partial_acceptance: false,
            ..OrderSettings::default()
        };
        assert_eq!(
            auto_decision(&o, &strict, stock),
            AutoDecision::LeaveToSeller {
                short: vec!["MUG".into()]
            }
        );
        let none = auto_decision(&o, &settings, |_| Some(0));
        assert!(matches!(none, AutoDecision::Accept(a) if !a.accepts_any()));
    }

    #[test]
    fn countries_become_alpha_2() {
        assert_eq!(country_code("FRA"), "FR");
        assert_eq!(country_code("usa"), "US");
        assert_eq!(country_code("DE"), "DE");
        assert_eq!(country_code("XYZ"), "XYZ");
        assert!(
            COUNTRIES.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, no repeat"
        );
    }

    #[test]
    fn settings_name_each_wrong_field() {
        assert_eq!(OrderSettings::default().validate(), Ok(()));
        let wrong = OrderSettings {
            shop_status: "completed".to_owned(),
            tracking_meta_key: Some("two words".to_owned()),
            carriers: BTreeMap::from([("UPS".to_owned(), " ".to_owned())]),
            ..OrderSettings::default()
        };
        let fields: Vec<&str> = wrong
            .validate()
            .unwrap_err()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["shop_status", "tracking_meta_key", "carriers"]);
        let paid_on_hold = OrderSettings {
            shop_status: "on-hold".to_owned(),
            ..OrderSettings::default()
        };
        assert_eq!(paid_on_hold.validate().unwrap_err()[0].field, "shop_status");
        let unpaid_on_hold = OrderSettings {
            mark_paid: false,
            ..paid_on_hold
        };
        assert_eq!(unpaid_on_hold.validate(), Ok(()));
    }

    #[test]
    fn settings_default_to_accepting_and_processing() {
        let s: OrderSettings = serde_json::from_str("{}").unwrap();
        assert!(s.auto_accept && s.partial_acceptance && s.mark_paid);
        assert_eq!(s.shop_status, "processing");
    }
}
