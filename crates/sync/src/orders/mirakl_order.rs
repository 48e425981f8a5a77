//! Mirakl's orders, as the marketplaces (OR11) and Mirakl Connect (`/v2/orders`) give them,
//! turned into the one `domain::order::Order` the flow works on.

use domain::catalog::Money;
use domain::order::{Address, Customer, Order, OrderLine, country_code};
use mirakl::connect::{ConnectAddress, ConnectOrder};
use mirakl::marketplace::{MarketplaceAddress, MarketplaceOrder};
use time::OffsetDateTime;

fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// An amount Mirakl wrote; one that does not read is 0 (the order is kept and shown rather
/// than lost for one odd field).
fn money(text: &str) -> Money {
    Money::parse(text).unwrap_or(Money::from_minor(0))
}

fn text(value: &Option<String>) -> String {
    value
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_owned()
}

fn some_text(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn marketplace_address(a: &MarketplaceAddress) -> Address {
    Address {
        first_name: text(&a.firstname),
        last_name: text(&a.lastname),
        company: some_text(&a.company),
        street_1: text(&a.street_1),
        street_2: some_text(&a.street_2),
        zip_code: text(&a.zip_code),
        city: text(&a.city),
        state: some_text(&a.state),
        country: some_text(&a.country_iso_code)
            .map(|c| country_code(&c))
            .unwrap_or_else(|| text(&a.country)),
        phone: some_text(&a.phone),
    }
}

/// A marketplace's order (OR11).
pub fn from_marketplace(o: &MarketplaceOrder) -> Order {
    let customer = &o.customer;
    Order {
        mirakl_id: o.order_id.clone(),
        state: o.order_state.clone(),
        created_at_ms: ms(o.created_date),
        updated_at_ms: ms(o.last_updated_date),
        // OR11 has no deadline (`acceptance_decision_date` is when it was decided): the flow
        // sets one from its configured window (see `OrderConfig::acceptance_window`).
        acceptance_deadline_ms: None,
        shipping_deadline_ms: o.shipping_deadline.map(ms),
        currency: o.currency_iso_code.clone(),
        lines: o
            .order_lines
            .iter()
            .map(|l| OrderLine {
                line_id: l.order_line_id.clone(),
                sku: l.offer_sku.clone(),
                title: text(&l.product_title),
                quantity: l.quantity,
                unit_price: money(&l.price_unit),
                total_price: money(&l.price),
                shipping_price: money(&l.shipping_price),
                state: l.order_line_state.clone(),
            })
            .collect(),
        shipping_price: money(&o.shipping_price),
        total_price: money(&o.total_price),
        customer: Customer {
            first_name: text(&customer.firstname),
            last_name: text(&customer.lastname),
            email: some_text(&o.customer_notification_email),
            billing: customer.billing_address.as_ref().map(marketplace_address),
            shipping: customer.shipping_address.as_ref().map(marketplace_address),
        },
        shipping_method: some_text(&o.shipping_type_label)
            .or_else(|| some_text(&o.shipping_type_code)),
    }
}

fn connect_address(a: &ConnectAddress) -> Address {
    Address {
        first_name: text(&a.first_name),
        last_name: text(&a.last_name),
        company: some_text(&a.company),
        street_1: text(&a.street),
        street_2: some_text(&a.street_additional_info),
        zip_code: text(&a.zip_code),
        city: text(&a.city),
        state: some_text(&a.state),
        country: some_text(&a.country_iso_code)
            .map(|c| country_code(&c))
            .unwrap_or_else(|| text(&a.country)),
        phone: some_text(&a.phone),
    }
}

/// A Mirakl Connect order (`/v2/orders`). Its lines name the seller's product id, which is
/// the SKU the catalog export gave it.
pub fn from_connect(o: &ConnectOrder) -> Order {
    let lines: Vec<OrderLine> = o
        .order_lines
        .iter()
        .map(|l| {
            let unit = money(&l.price.amount);
            OrderLine {
                line_id: l.id.clone(),
                sku: l.product.id.clone(),
                title: text(&l.product.title),
                quantity: l.quantity,
                unit_price: unit,
                total_price: Money::from_minor(unit.minor() * l.quantity),
                shipping_price: money(&l.total_shipping_price.amount),
                state: l.status.clone(),
            }
        })
        .collect();
    let shipping = Money::from_minor(lines.iter().map(|l| l.shipping_price.minor()).sum());
    let total = Money::from_minor(
        lines.iter().map(|l| l.total_price.minor()).sum::<i64>() + shipping.minor(),
    );
    let currency = o
        .order_lines
        .first()
        .map(|l| l.price.currency.clone())
        .unwrap_or_default();
    let billing = o.billing_info.address.as_ref().map(connect_address);
    let shipping_address = o.shipping_info.address.as_ref().map(connect_address);
    let name_of = |a: &Option<Address>, last: bool| {
        a.as_ref()
            .map(|a| {
                if last {
                    a.last_name.clone()
                } else {
                    a.first_name.clone()
                }
            })
            .unwrap_or_default()
    };
    Order {
        mirakl_id: o.id.clone(),
        state: o.status.clone(),
        created_at_ms: ms(o.created_at),
        updated_at_ms: ms(o.updated_at),
        acceptance_deadline_ms: None,
        shipping_deadline_ms: o.shipping_info.shipping_deadline.map(ms),
        currency,
        lines,
        shipping_price: shipping,
        total_price: total,
        customer: Customer {
            first_name: name_of(&shipping_address, false),
            last_name: name_of(&shipping_address, true),
            email: some_text(&o.shipping_info.email),
            billing,
            shipping: shipping_address,
        },
        shipping_method: some_text(&o.shipping_info.method),
    }
}
