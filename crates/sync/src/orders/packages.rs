//! Packages: a shop order shipped in several parcels names, for each tracking number, the items
//! in its parcel (Advanced Shipment Tracking's "Tracking Per Item" add-on, `products_list`).
//! Each such parcel goes to Mirakl as a shipment of the lines it holds (ST01, or a Connect
//! shipment), as soon as the shop records it; the lines no parcel named leave with the order's
//! completion. A tracking number that names no items ships the whole order, as before.

use std::collections::{BTreeMap, HashMap};

use domain::order::{Order, OrderStage};
use shops::Tracking;

use super::remote::Shipment;

/// One parcel of the order: its tracking, and the Mirakl lines it holds, `(line id,
/// quantity)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Package {
    pub tracking: Shipment,
    pub lines: Vec<(String, i64)>,
}

impl Package {
    /// The step that sends it, once: one per tracking number.
    pub fn step(&self) -> String {
        format!("ship:{}", self.tracking.number)
    }
}

/// What Mirakl is told of a tracking number: the shop's carrier mapped to the marketplace's
/// code when the settings map it, its name otherwise.
pub(super) fn shipment_of(tracking: &Tracking, carriers: &BTreeMap<String, String>) -> Shipment {
    Shipment {
        carrier_code: tracking
            .provider
            .as_ref()
            .and_then(|p| carriers.get(p).cloned()),
        carrier_name: tracking.provider.clone(),
        number: tracking.number.clone(),
        url: tracking.link.clone(),
    }
}

/// The parcels the shop's tracking names the items of, in the shop's order, each with the
/// order's lines it holds. `shop_ids` gives each line's shop ids (product, and variation when
/// it is one). An item matches a line of its variation, or of its product; a line takes at
/// most its quantity across parcels. A tracking number given twice is one parcel, and one
/// whose items are none of the order's is left out.
pub(super) fn packages(
    order: &Order,
    tracking: &[Tracking],
    carriers: &BTreeMap<String, String>,
    shop_ids: &HashMap<String, (i64, Option<i64>)>,
) -> Vec<Package> {
    let open: Vec<_> = order
        .lines
        .iter()
        .filter(|l| !OrderStage::of(&l.state).is_void())
        .collect();
    let mut taken: HashMap<&str, i64> = HashMap::new();
    let mut found: Vec<Package> = Vec::new();
    for t in tracking.iter().filter(|t| !t.items.is_empty()) {
        let mut lines: Vec<(String, i64)> = Vec::new();
        for item in &t.items {
            let mut wanted = item.quantity;
            // Its variation's lines first, then its product's.
            let by_variation = |l: &&&domain::order::OrderLine| {
                shop_ids.get(&l.line_id).and_then(|(_, v)| *v) == Some(item.product_id)
            };
            let by_product = |l: &&&domain::order::OrderLine| {
                shop_ids.get(&l.line_id).map(|(p, _)| *p) == Some(item.product_id)
            };
            let candidates = open
                .iter()
                .filter(by_variation)
                .chain(open.iter().filter(by_product));
            for line in candidates {
                if wanted == 0 {
                    break;
                }
                let used = taken.entry(line.line_id.as_str()).or_insert(0);
                let part = wanted.min(line.quantity - *used);
                if part > 0 {
                    *used += part;
                    wanted -= part;
                    match lines.iter_mut().find(|(id, _)| *id == line.line_id) {
                        Some((_, quantity)) => *quantity += part,
                        None => lines.push((line.line_id.clone(), part)),
                    }
                }
            }
        }
        if lines.is_empty() {
            continue;
        }
        match found.iter_mut().find(|p| p.tracking.number == t.number) {
            Some(package) => {
                for (id, part) in lines {
                    match package.lines.iter_mut().find(|(known, _)| *known == id) {
                        Some((_, quantity)) => *quantity += part,
                        None => package.lines.push((id, part)),
                    }
                }
            }
            None => found.push(Package {
                tracking: shipment_of(t, carriers),
                lines,
            }),
        }
    }
    found
}

/// The order's open lines, with what no parcel holds of them: what still leaves when the
/// whole order is done.
pub(super) fn rest(order: &Order, packages: &[Package]) -> Vec<(String, i64)> {
    order
        .lines
        .iter()
        .filter(|l| !OrderStage::of(&l.state).is_void())
        .filter_map(|l| {
            let packed: i64 = packages
                .iter()
                .flat_map(|p| p.lines.iter())
                .filter(|(id, _)| *id == l.line_id)
                .map(|(_, quantity)| quantity)
                .sum();
            let left = l.quantity - packed;
            (left > 0).then(|| (l.line_id.clone(), left))
        })
        .collect()
}

/// Whether Mirakl shows the lines shipped: the order is, or each of them is.
pub(super) fn shipped_on(mirakl: &Order, lines: &[(String, i64)]) -> bool {
    let shipped = |state: &str| {
        matches!(
            OrderStage::of(state),
            OrderStage::Shipped | OrderStage::Closed
        )
    };
    shipped(&mirakl.state)
        || lines.iter().all(|(id, _)| {
            mirakl
                .lines
                .iter()
                .any(|l| l.line_id == *id && shipped(&l.state))
        })
}

#[cfg(test)]
mod tests {
    use domain::order::OrderLine;
    use shops::TrackedItem;

    use super::*;

    fn line(id: &str, quantity: i64, state: &str) -> OrderLine {
        OrderLine {
            line_id: id.into(),
            sku: format!("SKU-{id}"),
            title: String::new(),
            quantity,
            unit_price: Default::default(),
            total_price: Default::default(),
            shipping_price: Default::default(),
            state: state.into(),
        }
    }

    fn order(lines: Vec<OrderLine>) -> Order {
        Order {
            mirakl_id: "2001-A".into(),
            state: "SHIPPING".into(),
            created_at_ms: 0,
            updated_at_ms: 0,
            acceptance_deadline_ms: None,
            shipping_deadline_ms: None,
            currency: "EUR".into(),
            lines,
            shipping_price: Default::default(),
            total_price: Default::default(),
            customer: Default::default(),
            shipping_method: None,
        }
    }

    fn tracking(number: &str, provider: &str, items: &[(i64, i64)]) -> Tracking {
        Tracking {
            provider: Some(provider.into()),
            number: number.into(),
            link: None,
            items: items
                .iter()
                .map(|(product_id, quantity)| TrackedItem {
                    product_id: *product_id,
                    quantity: *quantity,
                })
                .collect(),
        }
    }

    #[test]
    fn each_parcel_ships_the_lines_it_names_and_the_rest_leaves_with_the_order() {
        let o = order(vec![
            line("L1", 2, "SHIPPING"),
            line("L2", 1, "SHIPPING"),
            line("L3", 1, "SHIPPING"),
            line("L4", 5, "REFUSED"),
        ]);
        // L1 is a variation (11) of product 10; L2 product 20; L3 product 30; L4 refused.
        let ids = HashMap::from([
            ("L1".to_owned(), (10, Some(11))),
            ("L2".to_owned(), (20, None)),
            ("L3".to_owned(), (30, None)),
            ("L4".to_owned(), (40, None)),
        ]);
        let carriers = BTreeMap::from([("ups".to_owned(), "UPS".to_owned())]);
        let found = packages(
            &o,
            &[
                tracking("1Z", "ups", &[(11, 1), (20, 1)]),
                tracking("WHOLE", "dhl", &[]),
                tracking("1Z", "ups", &[(10, 5)]),
                tracking("NOT-OURS", "dhl", &[(99, 1), (40, 1)]),
            ],
            &carriers,
            &ids,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        let package = &found[0];
        assert_eq!(package.step(), "ship:1Z");
        assert_eq!(package.tracking.carrier_code.as_deref(), Some("UPS"));
        assert_eq!(
            package.lines,
            [("L1".to_owned(), 2), ("L2".to_owned(), 1)],
            "the variation's line first, by its product after, never beyond its quantity"
        );
        assert_eq!(rest(&o, &found), [("L3".to_owned(), 1)]);

        let mut mirakl = o.clone();
        assert!(!shipped_on(&mirakl, &package.lines));
        mirakl.lines[0].state = "SHIPPED".into();
        assert!(!shipped_on(&mirakl, &package.lines));
        mirakl.lines[1].state = "SHIPPED".into();
        assert!(shipped_on(&mirakl, &package.lines));
        assert!(!shipped_on(&mirakl, &rest(&o, &found)));
        mirakl.state = "SHIPPED".into();
        assert!(shipped_on(&mirakl, &rest(&o, &found)));
    }

    #[test]
    fn tracking_for_the_whole_order_makes_no_parcel() {
        let o = order(vec![line("L1", 1, "SHIPPING")]);
        let ids = HashMap::from([("L1".to_owned(), (10, None))]);
        let found = packages(&o, &[tracking("X", "ups", &[])], &BTreeMap::new(), &ids);
        assert!(found.is_empty());
        assert_eq!(rest(&o, &found), [("L1".to_owned(), 1)]);
    }
}
