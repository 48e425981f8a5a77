//! The seller's rules applied to one catalog item: is it sent, at what price, with what
//! quantity. Pure functions; the time is passed in.

use super::item::{CatalogItem, StockStatus};
use super::money::Money;
use super::offer::OfferProblem;
use super::settings::{PriceRule, ProductSettings, Rounding, Selection, StockRule};

/// Mirakl Connect's largest available quantity; marketplaces take it too.
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// A reduced price for a period; open ends are `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Discount {
    pub price: Money,
    /// Unix milliseconds.
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
}

/// Whether the item goes to the channel: published in the shop, and chosen by the selection.
pub fn is_selected(item: &CatalogItem, settings: &ProductSettings) -> bool {
    item.published
        && match &settings.selection {
            Selection::All => true,
            Selection::Categories(ids) => item.categories.iter().any(|c| ids.contains(&c.id)),
            Selection::Tags(ids) => item.tags.iter().any(|t| ids.contains(t)),
            Selection::Skus(skus) => skus.iter().any(|s| s.trim() == item.sku.as_str()),
        }
}

impl PriceRule {
    /// A shop price with the markup (percentage, rounded half up to the cent, then the fixed
    /// amount) and the rounding applied.
    pub fn apply(&self, shop_price: Money) -> Money {
        let base = i128::from(shop_price.minor());
        let scaled = base * i128::from(10_000 + self.markup_percent_bp);
        // Half away from zero, so +10 % of 0.05 is 0.06 rather than 0.05.
        let marked_up = (scaled + scaled.signum() * 5_000) / 10_000 + i128::from(self.markup_fixed);
        let rounded = match self.rounding {
            Rounding::None => marked_up,
            Rounding::EndWith(cents) => round_up_to_end_with(marked_up, i128::from(cents.min(99))),
        };
        Money::from_minor(rounded.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
    }
}

/// The smallest amount ≥ `minor` whose cents are `cents`.
fn round_up_to_end_with(minor: i128, cents: i128) -> i128 {
    let candidate = minor.div_euclid(100) * 100 + cents;
    if candidate >= minor {
        candidate
    } else {
        candidate + 100
    }
}

/// The price a channel receives and, with `use_sale_price`, the shop's sale as a discount.
///
/// A sale that has ended is dropped; one that starts later is sent with its dates, since
/// Mirakl applies a discount only within them. A sale that is not below the regular price
/// after the rules (rounding can make them equal) is no discount.
pub fn channel_price(
    item: &CatalogItem,
    rule: &PriceRule,
    now_ms: i64,
) -> Result<(Money, Option<Discount>), OfferProblem> {
    let regular = item.regular_price.ok_or(OfferProblem::NoPrice)?;
    let price = rule.apply(regular);
    if !price.is_positive() {
        return Err(OfferProblem::PriceNotPositive { price });
    }
    let Some(sale) = item.sale_price.filter(|_| rule.use_sale_price) else {
        return Ok((price, None));
    };
    let (start_ms, end_ms) = (item.sale_from_ms, item.sale_to_ms);
    let ended = end_ms.is_some_and(|end| end <= now_ms);
    let backwards = matches!((start_ms, end_ms), (Some(start), Some(end)) if start >= end);
    let discounted = rule.apply(sale);
    if ended || backwards || discounted >= price {
        return Ok((price, None));
    }
    if !discounted.is_positive() {
        return Err(OfferProblem::PriceNotPositive { price: discounted });
    }
    Ok((
        price,
        Some(Discount {
            price: discounted,
            start_ms,
            end_ms,
        }),
    ))
}

/// The quantity a channel receives.
///
/// From the shop: out of stock is 0; on backorder is 0 unless sold as in stock; in stock is
/// the counted quantity, or `unmanaged_quantity` when the shop does not count (or when a
/// backordered item has no units left). Then the buffer is kept back, the maximum caps the
/// rest, and a result below `out_of_stock_below` becomes 0.
pub fn channel_quantity(item: &CatalogItem, rule: &StockRule) -> i64 {
    let stock = &item.stock;
    let counted = stock.quantity.unwrap_or(0).max(0);
    let in_shop = match stock.status {
        StockStatus::OutOfStock => 0,
        StockStatus::OnBackorder if !rule.backorder_as_in_stock => 0,
        StockStatus::OnBackorder if stock.managed && counted > 0 => counted,
        StockStatus::OnBackorder => rule.unmanaged_quantity,
        StockStatus::InStock if stock.managed => counted,
        StockStatus::InStock => rule.unmanaged_quantity,
    };
    let mut quantity = in_shop.saturating_sub(rule.buffer.max(0)).max(0);
    if let Some(maximum) = rule.maximum {
        quantity = quantity.min(maximum.max(0));
    }
    if quantity < rule.out_of_stock_below {
        quantity = 0;
    }
    quantity.min(MAX_QUANTITY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::item::{Category, Sku, Stock};

    fn item() -> CatalogItem {
        CatalogItem {
            sku: Sku::parse("TS-1").unwrap(),
            shop_product_id: 1,
            shop_variation_id: None,
            parent_title: None,
            title: "T-shirt".into(),
            description: String::new(),
            categories: vec![Category {
                id: 10,
                name: "Shirts".into(),
            }],
            tags: vec![20],
            images: vec![],
            attributes: vec![],
            meta: vec![],
            global_unique_id: None,
            regular_price: Some(Money::from_minor(2000)),
            sale_price: None,
            sale_from_ms: None,
            sale_to_ms: None,
            stock: Stock {
                managed: true,
                quantity: Some(7),
                status: StockStatus::InStock,
            },
            published: true,
            modified_at_ms: 0,
        }
    }

    fn rule(markup_percent_bp: i64, markup_fixed: i64, rounding: Rounding) -> PriceRule {
        PriceRule {
            use_sale_price: true,
            markup_percent_bp,
            markup_fixed,
            rounding,
        }
    }

    #[test]
    fn markup_and_rounding_make_the_channel_price() {
        use Rounding::{EndWith, None};
        let cases = [
            // (shop price, markup bp, fixed, rounding, expected)
            (2000, 0, 0, None, 2000),
            (2000, 1000, 0, None, 2200),
            (2000, -1000, 0, None, 1800),
            (2000, 1000, 150, None, 2350),
            (2000, 0, -50, None, 1950),
            (5, 1000, 0, None, 6),       // 0.055 rounds half up
            (1999, 1250, 0, None, 2249), // 22.48875
            (1950, 0, 0, EndWith(99), 1999),
            (1999, 0, 0, EndWith(99), 1999), // already ends in .99
            (2000, 0, 0, EndWith(99), 2099),
            (2000, 1000, 0, EndWith(99), 2299),
            (1950, 0, 0, EndWith(0), 2000),
            (2000, 0, 0, EndWith(0), 2000), // exact
            (2001, 0, 0, EndWith(50), 2050),
            (2051, 0, 0, EndWith(50), 2150),
            (1, 0, 0, EndWith(95), 95),
        ];
        for (shop, bp, fixed, rounding, expected) in cases {
            assert_eq!(
                rule(bp, fixed, rounding).apply(Money::from_minor(shop)),
                Money::from_minor(expected),
                "{shop} +{bp}bp +{fixed} {rounding:?}"
            );
        }
    }

    #[test]
    fn an_item_without_a_regular_price_cannot_be_offered() {
        let mut no_price = item();
        no_price.regular_price = Option::None;
        no_price.sale_price = Some(Money::from_minor(100));
        assert_eq!(
            channel_price(&no_price, &PriceRule::default(), 0),
            Err(OfferProblem::NoPrice)
        );
    }

    #[test]
    fn a_price_rule_that_leaves_nothing_is_a_problem() {
        let r = rule(0, -2000, Rounding::None);
        assert_eq!(
            channel_price(&item(), &r, 0),
            Err(OfferProblem::PriceNotPositive { price: Money::ZERO })
        );
    }

    #[test]
    fn the_sale_price_is_a_discount_within_its_dates() {
        let (start, end) = (1_000, 2_000);
        let mut on_sale = item();
        on_sale.sale_price = Some(Money::from_minor(1500));
        on_sale.sale_from_ms = Some(start);
        on_sale.sale_to_ms = Some(end);
        let r = rule(1000, 0, Rounding::EndWith(99));
        let expected = Discount {
            price: Money::from_minor(1699),
            start_ms: Some(start),
            end_ms: Some(end),
        };
        // (now, discount sent?)
        for (now, sent) in [
            (500, true),
            (1_000, true),
            (1_500, true),
            (2_000, false),
            (3_000, false),
        ] {
            let (price, discount) = channel_price(&on_sale, &r, now).unwrap();
            assert_eq!(price, Money::from_minor(2299));
            assert_eq!(discount, sent.then_some(expected), "now {now}");
        }
    }

    #[test]
    fn a_sale_without_dates_or_with_use_sale_price_off() {
        let mut on_sale = item();
        on_sale.sale_price = Some(Money::from_minor(1500));
        let (_, discount) = channel_price(&on_sale, &PriceRule::default(), 0).unwrap();
        assert_eq!(
            discount,
            Some(Discount {
                price: Money::from_minor(1500),
                start_ms: Option::None,
                end_ms: Option::None
            })
        );
        let off = PriceRule {
            use_sale_price: false,
            ..PriceRule::default()
        };
        assert_eq!(
            channel_price(&on_sale, &off, 0).unwrap(),
            (Money::from_minor(2000), Option::None)
        );
    }

    #[test]
    fn a_sale_not_below_the_regular_price_after_rounding_is_no_discount() {
        let mut on_sale = item();
        on_sale.regular_price = Some(Money::from_minor(1995));
        on_sale.sale_price = Some(Money::from_minor(1990));
        let (price, discount) =
            channel_price(&on_sale, &rule(0, 0, Rounding::EndWith(99)), 0).unwrap();
        assert_eq!((price, discount), (Money::from_minor(1999), Option::None));
        on_sale.sale_price = Some(Money::from_minor(2500));
        assert_eq!(
            channel_price(&on_sale, &PriceRule::default(), 0).unwrap().1,
            Option::None
        );
    }

    #[test]
    fn stock_rules_make_the_channel_quantity() {
        let managed = |quantity: Option<i64>, status| Stock {
            managed: true,
            quantity,
            status,
        };
        let unmanaged = |status| Stock {
            managed: false,
            quantity: Option::None,
            status,
        };
        let base = StockRule::default();
        let with = |buffer, maximum, below| StockRule {
            buffer,
            maximum,
            out_of_stock_below: below,
            ..StockRule::default()
        };
        let backorders = StockRule {
            backorder_as_in_stock: true,
            ..StockRule::default()
        };
        use StockStatus::{InStock, OnBackorder, OutOfStock};
        let cases = [
            // (stock, rule, expected)
            (managed(Some(7), InStock), base, 7),
            (managed(Some(-3), InStock), base, 0),
            (managed(Option::None, InStock), base, 0),
            (managed(Some(7), OutOfStock), base, 0),
            (managed(Some(7), InStock), with(2, Option::None, 0), 5),
            (managed(Some(1), InStock), with(2, Option::None, 0), 0),
            (managed(Some(70), InStock), with(0, Some(50), 0), 50),
            (managed(Some(70), InStock), with(5, Some(50), 0), 50),
            (managed(Some(10), InStock), with(5, Some(50), 0), 5),
            (managed(Some(3), InStock), with(0, Option::None, 3), 3),
            (managed(Some(2), InStock), with(0, Option::None, 3), 0),
            (managed(Some(4), InStock), with(1, Option::None, 4), 0), // 3 left after the buffer
            (unmanaged(InStock), base, 10),
            (unmanaged(InStock), with(3, Option::None, 0), 7),
            (unmanaged(OutOfStock), base, 0),
            (managed(Some(0), OnBackorder), base, 0),
            (managed(Some(0), OnBackorder), backorders, 10),
            (managed(Some(4), OnBackorder), backorders, 4),
            (unmanaged(OnBackorder), backorders, 10),
            (unmanaged(OnBackorder), base, 0),
            (managed(Some(i64::MAX), InStock), base, MAX_QUANTITY),
        ];
        for (stock, rule, expected) in cases {
            let mut it = item();
            it.stock = stock;
            assert_eq!(channel_quantity(&it, &rule), expected, "{stock:?} {rule:?}");
        }
    }

    #[test]
    fn only_published_items_in_the_selection_are_sent() {
        let settings = |selection| ProductSettings {
            selection,
            ..ProductSettings::default()
        };
        let it = item();
        assert!(is_selected(&it, &settings(Selection::All)));
        assert!(is_selected(
            &it,
            &settings(Selection::Categories(vec![9, 10]))
        ));
        assert!(!is_selected(&it, &settings(Selection::Categories(vec![9]))));
        assert!(is_selected(&it, &settings(Selection::Tags(vec![20]))));
        assert!(!is_selected(&it, &settings(Selection::Tags(vec![10]))));
        assert!(is_selected(
            &it,
            &settings(Selection::Skus(vec![" TS-1 ".into()]))
        ));
        assert!(!is_selected(
            &it,
            &settings(Selection::Skus(vec!["TS-2".into()]))
        ));
        let mut draft = item();
        draft.published = false;
        assert!(!is_selected(&draft, &settings(Selection::All)));
    }
}
