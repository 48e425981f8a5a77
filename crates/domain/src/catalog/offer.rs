//! The offer a marketplace channel receives for a catalog item (OF01 line / OF24 offer), the
//! problems that keep an item from being offered, and what is sent when an item leaves.

use super::item::{CatalogItem, Gtin, GtinError, Sku};
use super::money::{Currency, Money};
use super::rules::{Discount, channel_price, channel_quantity};
use super::settings::{FieldSource, ProductIdType, ProductSettings, RemovalPolicy};
use super::text::truncate_chars;

/// ASSUMPTION: the usual length of Mirakl's offer description; longer text is cut.
pub const OFFER_DESCRIPTION_MAX_CHARS: usize = 2000;

/// Everything a marketplace receives for one SKU. OF24 replaces whole offers, so this is the
/// complete offer, not a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub sku: Sku,
    /// The GTIN (8, 12 or 13 digits) or the SKU, per `product_id_type`.
    pub product_id: String,
    /// Mirakl's reference type: `EAN` (8 or 13 digits), `UPC` (12 digits) or `SHOP_SKU`.
    pub product_id_type: &'static str,
    pub price: Money,
    pub discount: Option<Discount>,
    pub quantity: i64,
    pub state_code: String,
    pub description: String,
    pub currency: Currency,
}

impl Offer {
    /// The same offer with nothing to sell: how [`RemovalPolicy::ZeroStock`] is sent to a
    /// marketplace (the rest must be resent as it was, since OF24 replaces the whole offer).
    pub fn without_stock(&self) -> Offer {
        Offer {
            quantity: 0,
            ..self.clone()
        }
    }
}

/// Why an item cannot go to a channel. Shown to the seller next to the item's SKU, so each
/// message says what to change.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum OfferProblem {
    #[error("It has no regular price in WooCommerce: give it one.")]
    NoPrice,
    #[error(
        "Its price after your price rules is {price}, and Mirakl needs a price above 0: check its price in WooCommerce and your markup."
    )]
    PriceNotPositive { price: Money },
    #[error(
        "It has no GTIN (looked in {looked_in}): add its EAN or UPC there, or identify products by SKU in the product settings."
    )]
    NoGtin { looked_in: String },
    #[error("Its GTIN “{value}” is not valid ({reason}): correct it in your store.")]
    InvalidGtin { value: String, reason: String },
}

/// The item's GTIN from the first of the settings' sources that holds a value. `Ok(None)`
/// when no source has one.
pub fn find_gtin(
    item: &CatalogItem,
    settings: &ProductSettings,
) -> Result<Option<Gtin>, OfferProblem> {
    let Some(raw) = settings
        .gtin_sources
        .iter()
        .find_map(|source| field_value(item, source))
    else {
        return Ok(None);
    };
    Gtin::parse(raw)
        .map(Some)
        .map_err(|e: GtinError| OfferProblem::InvalidGtin {
            value: raw.trim().to_owned(),
            reason: e.to_string(),
        })
}

/// The GTIN in the 8-, 12- or 13-digit form Mirakl takes.
pub(super) fn consumer_code(gtin: &Gtin) -> Result<&str, OfferProblem> {
    gtin.consumer_code()
        .ok_or_else(|| OfferProblem::InvalidGtin {
            value: gtin.to_string(),
            reason: "Mirakl takes 8, 12 or 13 digits; a 14-digit GTIN that does not start with 0 \
                 names a case of items, not one item"
                .to_owned(),
        })
}

/// The non-blank value a source holds for the item.
pub fn field_value<'a>(item: &'a CatalogItem, source: &FieldSource) -> Option<&'a str> {
    let value = match source {
        FieldSource::GlobalUniqueId => item.global_unique_id.as_deref(),
        FieldSource::Meta(key) => item
            .meta
            .iter()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.as_str()),
        FieldSource::Attribute(name) => item
            .attributes
            .iter()
            .find(|(n, v)| n.trim().eq_ignore_ascii_case(name.trim()) && !v.trim().is_empty())
            .map(|(_, v)| v.as_str()),
    };
    value.filter(|v| !v.trim().is_empty())
}

/// The offer a marketplace channel receives for the item, after the seller's rules.
pub fn offer_for(
    item: &CatalogItem,
    settings: &ProductSettings,
    now_ms: i64,
) -> Result<Offer, OfferProblem> {
    let (price, discount) = channel_price(item, &settings.price, now_ms)?;
    let (product_id, product_id_type) = match settings.product_id_type {
        ProductIdType::ShopSku => (item.sku.as_str().to_owned(), "SHOP_SKU"),
        ProductIdType::Gtin => {
            let gtin = find_gtin(item, settings)?.ok_or_else(|| OfferProblem::NoGtin {
                looked_in: looked_in(&settings.gtin_sources),
            })?;
            let code = consumer_code(&gtin)?;
            let id_type = if code.len() == 12 { "UPC" } else { "EAN" };
            (code.to_owned(), id_type)
        }
    };
    Ok(Offer {
        sku: item.sku.clone(),
        product_id,
        product_id_type,
        price,
        discount,
        quantity: channel_quantity(item, &settings.stock),
        state_code: settings.offer_state.trim().to_owned(),
        description: truncate_chars(&item.description, OFFER_DESCRIPTION_MAX_CHARS).to_owned(),
        currency: settings.currency,
    })
}

/// The sources as the seller knows them, joined with “and”.
pub(super) fn looked_in(sources: &[FieldSource]) -> String {
    let labels: Vec<String> = sources.iter().map(FieldSource::label).collect();
    if labels.is_empty() {
        "no field".to_owned()
    } else {
        labels.join(" and ")
    }
}

/// What a channel receives for an item that left the selection or the shop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Removal {
    /// Delete the offer (OF01/OF24 `update-delete` = `delete`; Connect `DELETE /products`).
    Delete(Sku),
    /// Keep it with quantity 0: the last sent offer [`Offer::without_stock`] on a
    /// marketplace, [`super::connect::connect_zero_stock`] on Mirakl Connect.
    ZeroStock(Sku),
}

impl Removal {
    pub fn sku(&self) -> &Sku {
        match self {
            Self::Delete(sku) | Self::ZeroStock(sku) => sku,
        }
    }
}

/// What to send when an item leaves, per the settings' removal policy.
pub fn removal_offer(sku: &Sku, settings: &ProductSettings) -> Removal {
    match settings.removal {
        RemovalPolicy::Delete => Removal::Delete(sku.clone()),
        RemovalPolicy::ZeroStock => Removal::ZeroStock(sku.clone()),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::catalog::item::{Category, Stock, StockStatus};

    pub(crate) fn shirt() -> CatalogItem {
        CatalogItem {
            sku: Sku::parse("TS-RED-M").unwrap(),
            shop_product_id: 12,
            shop_variation_id: Some(34),
            parent_title: Some("T-shirt".into()),
            title: "T-shirt – Color: Red, Size: M".into(),
            description: "Soft cotton tee.".into(),
            categories: vec![Category {
                id: 5,
                name: "Shirts".into(),
            }],
            tags: vec![8],
            images: vec!["https://shop.example/red.jpg".into()],
            attributes: vec![
                ("Color".into(), "Red".into()),
                ("Size".into(), "M".into()),
                ("Brand".into(), "Acme".into()),
            ],
            meta: vec![("_gtin".into(), "4006381333931".into())],
            global_unique_id: Some("036000291452".into()),
            regular_price: Some(Money::from_minor(1990)),
            sale_price: Some(Money::from_minor(1490)),
            sale_from_ms: Some(1_700_000_000_000),
            sale_to_ms: Some(1_800_000_000_000),
            stock: Stock {
                managed: true,
                quantity: Some(7),
                status: StockStatus::InStock,
            },
            published: true,
            modified_at_ms: 1_750_000_000_000,
        }
    }

    pub(crate) const NOW: i64 = 1_750_000_000_000;

    #[test]
    fn an_offer_carries_the_rules_results() {
        let offer = offer_for(&shirt(), &ProductSettings::default(), NOW).unwrap();
        assert_eq!(
            offer,
            Offer {
                sku: Sku::parse("TS-RED-M").unwrap(),
                product_id: "4006381333931".into(),
                product_id_type: "EAN",
                price: Money::from_minor(1990),
                discount: Some(Discount {
                    price: Money::from_minor(1490),
                    start_ms: Some(1_700_000_000_000),
                    end_ms: Some(1_800_000_000_000),
                }),
                quantity: 7,
                state_code: "11".into(),
                description: "Soft cotton tee.".into(),
                currency: Currency::EUR,
            }
        );
    }

    #[test]
    fn the_gtin_comes_from_the_first_source_holding_one() {
        let settings = ProductSettings::default();
        let mut item = shirt();
        item.meta.clear();
        let offer = offer_for(&item, &settings, NOW).unwrap();
        assert_eq!(
            (offer.product_id.as_str(), offer.product_id_type),
            ("036000291452", "UPC")
        );

        item.meta = vec![("_gtin".into(), " ".into())];
        item.global_unique_id = Some("96385074".into());
        let offer = offer_for(&item, &settings, NOW).unwrap();
        assert_eq!(
            (offer.product_id.as_str(), offer.product_id_type),
            ("96385074", "EAN")
        );

        item.global_unique_id = Some("04006381333931".into());
        assert_eq!(
            offer_for(&item, &settings, NOW).unwrap().product_id,
            "4006381333931"
        );

        let by_attribute = ProductSettings {
            gtin_sources: vec![FieldSource::Attribute("ean".into())],
            ..ProductSettings::default()
        };
        item.attributes.push(("EAN".into(), "5901234123457".into()));
        assert_eq!(
            offer_for(&item, &by_attribute, NOW).unwrap().product_id,
            "5901234123457"
        );
    }

    #[test]
    fn a_missing_or_invalid_gtin_is_a_problem_the_seller_can_fix() {
        let settings = ProductSettings::default();
        let mut item = shirt();
        item.meta.clear();
        item.global_unique_id = None;
        let problem = offer_for(&item, &settings, NOW).unwrap_err();
        assert_eq!(
            problem.to_string(),
            "It has no GTIN (looked in the custom field “_gtin” and the store's GTIN field): add \
             its EAN or UPC there, or identify products by SKU in the product settings."
        );

        item.meta = vec![("_gtin".into(), "4006381333932".into())];
        item.global_unique_id = Some("036000291452".into());
        assert_eq!(
            offer_for(&item, &settings, NOW),
            Err(OfferProblem::InvalidGtin {
                value: "4006381333932".into(),
                reason: "the last digit of a GTIN checks the others, and for 4006381333932 it \
                         should be 1: look for a typing mistake"
                    .into()
            })
        );

        item.meta = vec![("_gtin".into(), "10012345678902".into())];
        assert!(matches!(
            offer_for(&item, &settings, NOW),
            Err(OfferProblem::InvalidGtin { .. })
        ));
    }

    #[test]
    fn shop_sku_offers_need_no_gtin() {
        let settings = ProductSettings {
            product_id_type: ProductIdType::ShopSku,
            ..ProductSettings::default()
        };
        let mut item = shirt();
        item.meta.clear();
        item.global_unique_id = None;
        let offer = offer_for(&item, &settings, NOW).unwrap();
        assert_eq!(
            (offer.product_id.as_str(), offer.product_id_type),
            ("TS-RED-M", "SHOP_SKU")
        );
    }

    #[test]
    fn a_price_problem_stops_the_offer() {
        let mut item = shirt();
        item.regular_price = None;
        assert_eq!(
            offer_for(&item, &ProductSettings::default(), NOW),
            Err(OfferProblem::NoPrice)
        );
        assert_eq!(
            OfferProblem::NoPrice.to_string(),
            "It has no regular price in WooCommerce: give it one."
        );
    }

    #[test]
    fn long_descriptions_are_cut_for_the_offer() {
        let mut item = shirt();
        item.description = "é".repeat(OFFER_DESCRIPTION_MAX_CHARS + 5);
        let offer = offer_for(&item, &ProductSettings::default(), NOW).unwrap();
        assert_eq!(
            offer.description.chars().count(),
            OFFER_DESCRIPTION_MAX_CHARS
        );
    }

    #[test]
    fn removal_follows_the_policy() {
        let sku = Sku::parse("TS-RED-M").unwrap();
        let mut settings = ProductSettings::default();
        assert_eq!(removal_offer(&sku, &settings), Removal::Delete(sku.clone()));
        settings.removal = RemovalPolicy::ZeroStock;
        let removal = removal_offer(&sku, &settings);
        assert_eq!(removal, Removal::ZeroStock(sku.clone()));
        assert_eq!(removal.sku(), &sku);
        let offer = offer_for(&shirt(), &settings, NOW).unwrap();
        let emptied = offer.without_stock();
        assert_eq!(emptied.quantity, 0);
        assert_eq!(emptied.price, offer.price);
    }
}
