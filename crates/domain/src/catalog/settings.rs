//! The seller's product settings (F3): which items go to the channels and how their price,
//! stock and identifiers are made. Saved per workspace, overridable per channel.
//!
//! Every field has a default, so settings stored by an older version still load.

use serde::{Deserialize, Serialize};

use super::money::Currency;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductSettings {
    pub selection: Selection,
    pub price: PriceRule,
    pub stock: StockRule,
    pub product_id_type: ProductIdType,
    /// Where an item's GTIN is read, tried in order: the first source that holds a value
    /// decides (an invalid value there is reported, not skipped).
    pub gtin_sources: Vec<FieldSource>,
    /// Where an item's brand is read (Mirakl Connect only).
    pub brand_source: FieldSource,
    /// Mirakl's offer condition code.
    pub offer_state: String,
    pub currency: Currency,
    pub removal: RemovalPolicy,
}

impl Default for ProductSettings {
    fn default() -> Self {
        Self {
            selection: Selection::All,
            price: PriceRule::default(),
            stock: StockRule::default(),
            product_id_type: ProductIdType::Gtin,
            gtin_sources: vec![
                FieldSource::Meta("_gtin".to_owned()),
                FieldSource::GlobalUniqueId,
            ],
            brand_source: FieldSource::Attribute("Brand".to_owned()),
            // ASSUMPTION: "11" is "New" on most marketplaces (every Mirakl example uses it);
            // the real list comes from the marketplace's offer states (OF61).
            offer_state: "11".to_owned(),
            currency: Currency::default(),
            removal: RemovalPolicy::Delete,
        }
    }
}

/// Which published items go to the channels. Categories and tags match when assigned to the
/// item directly (WooCommerce does not put a product in a category's parents).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    #[default]
    All,
    Categories(Vec<i64>),
    Tags(Vec<i64>),
    Skus(Vec<String>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PriceRule {
    /// Send the shop's sale price, with its dates, as Mirakl's discount price.
    pub use_sale_price: bool,
    /// Percentage markup in basis points: 1000 is +10 %, -500 is -5 %.
    pub markup_percent_bp: i64,
    /// Added after the percentage, in minor units (may be negative).
    pub markup_fixed: i64,
    pub rounding: Rounding,
}

impl Default for PriceRule {
    fn default() -> Self {
        Self {
            use_sale_price: true,
            markup_percent_bp: 0,
            markup_fixed: 0,
            rounding: Rounding::None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    #[default]
    None,
    /// Up to the smallest price ending in these cents: 99 makes 19.50 into 19.99.
    EndWith(u8),
}

/// How the shop's stock becomes the quantity a channel receives: the buffer is kept back, the
/// maximum caps what is left, and a quantity below `out_of_stock_below` is sent as 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StockRule {
    pub buffer: i64,
    pub maximum: Option<i64>,
    pub out_of_stock_below: i64,
    /// Sent for in-stock items whose stock the shop does not count.
    pub unmanaged_quantity: i64,
    /// Sell items on backorder as if they were in stock.
    pub backorder_as_in_stock: bool,
}

impl Default for StockRule {
    fn default() -> Self {
        Self {
            buffer: 0,
            maximum: None,
            out_of_stock_below: 0,
            // ASSUMPTION: 10 units for "in stock" without a count; enough to sell, small
            // enough that an untracked item cannot be oversold by much.
            unmanaged_quantity: 10,
            backorder_as_in_stock: false,
        }
    }
}

/// How a marketplace offer names its product.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductIdType {
    /// The item's GTIN (EAN/UPC): the offer attaches to the marketplace's existing product.
    #[default]
    Gtin,
    /// The seller's SKU: the product must exist on the marketplace under that SKU.
    ShopSku,
}

/// Where a value is read on a catalog item.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldSource {
    /// The store's own GTIN field: WooCommerce's "GTIN, UPC, EAN or ISBN", BigCommerce's `gtin`.
    GlobalUniqueId,
    /// A custom field (meta data) with this key, e.g. `_gtin`.
    Meta(String),
    /// A product attribute with this name, compared without regard to case, e.g. `Brand`.
    Attribute(String),
}

impl FieldSource {
    /// The words a seller knows the source by.
    pub fn label(&self) -> String {
        match self {
            Self::GlobalUniqueId => "the store's GTIN field".to_owned(),
            Self::Meta(key) => format!("the custom field “{key}”"),
            Self::Attribute(name) => format!("the attribute “{name}”"),
        }
    }
}

/// What happens on a channel to an item that leaves the selection or the shop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovalPolicy {
    #[default]
    Delete,
    /// Keep the offer with a quantity of 0, so its history and reviews stay.
    ZeroStock,
}

/// A channel's departures from the workspace's settings; `None` keeps the workspace's value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelOverrides {
    pub selection: Option<Selection>,
    pub price: Option<PriceRule>,
    pub stock: Option<StockRule>,
    pub offer_state: Option<String>,
    pub product_id_type: Option<ProductIdType>,
}

/// A setting that cannot be saved, in the words the settings form shows next to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The setting's path, e.g. `stock.buffer`.
    pub field: &'static str,
    pub message: String,
}

/// Markups below this would give the goods away (-90 %).
const MIN_MARKUP_BP: i64 = -9000;

impl ProductSettings {
    /// The settings a channel works with: the workspace's, with the channel's overrides.
    pub fn with_overrides(&self, overrides: &ChannelOverrides) -> ProductSettings {
        let mut settings = self.clone();
        if let Some(selection) = &overrides.selection {
            settings.selection = selection.clone();
        }
        if let Some(price) = overrides.price {
            settings.price = price;
        }
        if let Some(stock) = overrides.stock {
            settings.stock = stock;
        }
        if let Some(state) = &overrides.offer_state {
            settings.offer_state = state.clone();
        }
        if let Some(id_type) = overrides.product_id_type {
            settings.product_id_type = id_type;
        }
        settings
    }

    /// Every problem at once, so the form can show them all.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut fail = |field: &'static str, message: String| {
            errors.push(FieldError { field, message });
        };

        match &self.selection {
            Selection::All => {}
            Selection::Categories(ids) if ids.is_empty() => fail(
                "selection",
                "Choose at least one category, or send all products.".to_owned(),
            ),
            Selection::Tags(ids) if ids.is_empty() => fail(
                "selection",
                "Choose at least one tag, or send all products.".to_owned(),
            ),
            Selection::Skus(skus) if skus.iter().all(|s| s.trim().is_empty()) => fail(
                "selection",
                "Choose at least one product, or send all products.".to_owned(),
            ),
            Selection::Categories(_) | Selection::Tags(_) | Selection::Skus(_) => {}
        }

        let price = &self.price;
        if price.markup_percent_bp < MIN_MARKUP_BP {
            fail(
                "price.markup_percent",
                "The markup can't be below -90 %: prices would be almost nothing.".to_owned(),
            );
        }
        if let Rounding::EndWith(cents) = price.rounding
            && cents > 99
        {
            fail(
                "price.rounding",
                format!("Prices can end in .00 to .99, not .{cents}."),
            );
        }

        let stock = &self.stock;
        if stock.buffer < 0 {
            fail(
                "stock.buffer",
                "The stock buffer can't be negative: it is how many units you keep back."
                    .to_owned(),
            );
        }
        if let Some(maximum) = stock.maximum
            && maximum < 0
        {
            fail(
                "stock.maximum",
                "The maximum quantity can't be negative; leave it empty for no maximum.".to_owned(),
            );
        }
        if stock.out_of_stock_below < 0 {
            fail(
                "stock.out_of_stock_below",
                "The out-of-stock threshold can't be negative.".to_owned(),
            );
        }
        if let Some(maximum) = stock.maximum
            && maximum >= 0
            && maximum < stock.out_of_stock_below
        {
            fail(
                "stock.maximum",
                format!(
                    "With a maximum of {maximum} and “out of stock below {}”, every product \
                     would show as out of stock. Raise the maximum or lower the threshold.",
                    stock.out_of_stock_below
                ),
            );
        }
        if stock.unmanaged_quantity < 0 {
            fail(
                "stock.unmanaged_quantity",
                "The quantity for products without stock tracking can't be negative.".to_owned(),
            );
        }

        if self.offer_state.trim().is_empty() {
            fail(
                "offer_state",
                "Choose the condition of your offers (for example New).".to_owned(),
            );
        }
        if self.product_id_type == ProductIdType::Gtin && self.gtin_sources.is_empty() {
            fail(
                "gtin_sources",
                "Say where your products' GTINs are, or identify products by SKU.".to_owned(),
            );
        }
        let sources = self.gtin_sources.iter().map(|s| ("gtin_sources", s));
        for (field, source) in sources.chain([("brand_source", &self.brand_source)]) {
            match source {
                FieldSource::Meta(name) | FieldSource::Attribute(name)
                    if name.trim().is_empty() =>
                {
                    fail(
                        field,
                        "Give the name of the custom field or attribute to read.".to_owned(),
                    );
                }
                _ => {}
            }
        }

        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages_for(settings: &ProductSettings) -> Vec<(&'static str, String)> {
        settings
            .validate()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(ProductSettings::default().validate(), Ok(()));
    }

    #[test]
    fn empty_json_loads_the_defaults() {
        let settings: ProductSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(settings, ProductSettings::default());
        let partial: ProductSettings =
            serde_json::from_str(r#"{"stock": {"buffer": 2}, "price": {}}"#).unwrap();
        assert_eq!(partial.stock.buffer, 2);
        assert_eq!(partial.stock.unmanaged_quantity, 10);
        assert!(partial.price.use_sale_price);
        assert_eq!(
            serde_json::from_str::<ChannelOverrides>("{}").unwrap(),
            ChannelOverrides::default()
        );
    }

    #[test]
    fn settings_survive_a_json_round_trip() {
        let settings = ProductSettings {
            selection: Selection::Skus(vec!["A".into(), "B".into()]),
            price: PriceRule {
                use_sale_price: false,
                markup_percent_bp: 1250,
                markup_fixed: -100,
                rounding: Rounding::EndWith(99),
            },
            stock: StockRule {
                buffer: 1,
                maximum: Some(50),
                out_of_stock_below: 2,
                unmanaged_quantity: 5,
                backorder_as_in_stock: true,
            },
            product_id_type: ProductIdType::ShopSku,
            gtin_sources: vec![FieldSource::Attribute("EAN".into())],
            brand_source: FieldSource::Meta("_brand".into()),
            offer_state: "1".into(),
            currency: Currency::parse("USD").unwrap(),
            removal: RemovalPolicy::ZeroStock,
        };
        let json = serde_json::to_string(&settings).unwrap();
        assert_eq!(
            serde_json::from_str::<ProductSettings>(&json).unwrap(),
            settings
        );
        let overrides = ChannelOverrides {
            selection: Some(Selection::Categories(vec![3])),
            offer_state: Some("2".into()),
            ..Default::default()
        };
        let json = serde_json::to_string(&overrides).unwrap();
        assert_eq!(
            serde_json::from_str::<ChannelOverrides>(&json).unwrap(),
            overrides
        );
    }

    #[test]
    fn a_channel_override_replaces_only_what_it_sets() {
        let workspace = ProductSettings::default();
        let stock = StockRule {
            buffer: 3,
            ..StockRule::default()
        };
        let channel = workspace.with_overrides(&ChannelOverrides {
            stock: Some(stock),
            offer_state: Some("1".into()),
            product_id_type: Some(ProductIdType::ShopSku),
            ..ChannelOverrides::default()
        });
        assert_eq!(channel.stock, stock);
        assert_eq!(channel.offer_state, "1");
        assert_eq!(channel.product_id_type, ProductIdType::ShopSku);
        assert_eq!(channel.price, workspace.price);
        assert_eq!(channel.selection, workspace.selection);
        assert_eq!(
            workspace.with_overrides(&ChannelOverrides::default()),
            workspace
        );
        let price = PriceRule {
            markup_percent_bp: 500,
            ..PriceRule::default()
        };
        let channel = workspace.with_overrides(&ChannelOverrides {
            price: Some(price),
            selection: Some(Selection::Tags(vec![7])),
            ..ChannelOverrides::default()
        });
        assert_eq!(channel.price, price);
        assert_eq!(channel.selection, Selection::Tags(vec![7]));
    }

    #[test]
    fn validate_names_every_wrong_setting_in_a_sellers_words() {
        let settings = ProductSettings {
            selection: Selection::Skus(vec![" ".into()]),
            price: PriceRule {
                markup_percent_bp: -9100,
                rounding: Rounding::EndWith(120),
                ..PriceRule::default()
            },
            stock: StockRule {
                buffer: -1,
                maximum: Some(-2),
                out_of_stock_below: -1,
                unmanaged_quantity: -1,
                backorder_as_in_stock: false,
            },
            offer_state: "  ".into(),
            gtin_sources: vec![],
            brand_source: FieldSource::Attribute(String::new()),
            ..ProductSettings::default()
        };
        let fields: Vec<_> = messages_for(&settings).into_iter().map(|e| e.0).collect();
        assert_eq!(
            fields,
            [
                "selection",
                "price.markup_percent",
                "price.rounding",
                "stock.buffer",
                "stock.maximum",
                "stock.out_of_stock_below",
                "stock.unmanaged_quantity",
                "offer_state",
                "gtin_sources",
                "brand_source",
            ]
        );
        let messages = messages_for(&settings);
        assert_eq!(
            messages[0].1,
            "Choose at least one product, or send all products."
        );
        assert_eq!(messages[2].1, "Prices can end in .00 to .99, not .120.");
    }

    #[test]
    fn a_maximum_below_the_out_of_stock_threshold_is_refused() {
        let settings = ProductSettings {
            stock: StockRule {
                maximum: Some(3),
                out_of_stock_below: 5,
                ..StockRule::default()
            },
            ..ProductSettings::default()
        };
        assert_eq!(
            messages_for(&settings),
            [(
                "stock.maximum",
                "With a maximum of 3 and “out of stock below 5”, every product would show as \
                 out of stock. Raise the maximum or lower the threshold."
                    .to_owned()
            )]
        );
        let fine = ProductSettings {
            stock: StockRule {
                maximum: Some(5),
                out_of_stock_below: 5,
                ..StockRule::default()
            },
            ..ProductSettings::default()
        };
        assert_eq!(fine.validate(), Ok(()));
    }

    #[test]
    fn empty_category_and_tag_selections_are_refused() {
        for selection in [Selection::Categories(vec![]), Selection::Tags(vec![])] {
            let settings = ProductSettings {
                selection,
                ..ProductSettings::default()
            };
            assert_eq!(messages_for(&settings).len(), 1);
        }
        let markup_at_limit = ProductSettings {
            price: PriceRule {
                markup_percent_bp: -9000,
                rounding: Rounding::EndWith(99),
                ..PriceRule::default()
            },
            ..ProductSettings::default()
        };
        assert_eq!(markup_at_limit.validate(), Ok(()));
    }
}
