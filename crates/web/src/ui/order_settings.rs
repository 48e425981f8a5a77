//! The Order settings page (F3 for orders): **Import orders**, automatic acceptance, the shop
//! status of imported orders, where tracking numbers are read, the carrier mapping, and what
//! goes back to Mirakl. Every bad value is named next to its field; nothing is saved until all
//! are right.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::order::{OrderSettings, SHOP_STATUSES};
use serde::Deserialize;

use crate::AppState;
use crate::error::WebError;
use crate::form::Form;
use crate::session::{Session, SignedIn};
use crate::ui::{Nav, render};

/// The form as sent (or as the settings show it). Unticked boxes are absent.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct OrderSettingsForm {
    import_orders: Option<String>,
    auto_accept: Option<String>,
    partial_acceptance: Option<String>,
    shop_status: String,
    mark_paid: Option<String>,
    tracking_meta_key: String,
    /// `Shop carrier name = Mirakl carrier code`, one a line.
    carriers: String,
    send_cancellations: Option<String>,
    send_refunds: Option<String>,
}

fn on(b: bool) -> Option<String> {
    b.then(|| "on".to_owned())
}

impl OrderSettingsForm {
    fn from_settings(s: &OrderSettings, import_orders: bool) -> Self {
        Self {
            import_orders: on(import_orders),
            auto_accept: on(s.auto_accept),
            partial_acceptance: on(s.partial_acceptance),
            shop_status: s.shop_status.clone(),
            mark_paid: on(s.mark_paid),
            tracking_meta_key: s.tracking_meta_key.clone().unwrap_or_default(),
            carriers: s
                .carriers
                .iter()
                .map(|(shop, code)| format!("{shop} = {code}"))
                .collect::<Vec<_>>()
                .join("\n"),
            send_cancellations: on(s.send_cancellations),
            send_refunds: on(s.send_refunds),
        }
    }

    /// The settings, or every problem found that the form can name; `OrderSettings::validate`
    /// names the rest.
    fn parse(&self) -> Result<OrderSettings, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let mut carriers = BTreeMap::new();
        for (n, line) in self.carriers.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let Some((shop, code)) = line.split_once('=') else {
                errors.push((
                    "carriers",
                    format!(
                        "Carrier mapping, line {}: write it as Shop carrier name = Mirakl carrier code (“{line}” has no =).",
                        n + 1
                    ),
                ));
                continue;
            };
            let (shop, code) = (shop.trim(), code.trim());
            if shop.is_empty() || code.is_empty() {
                errors.push((
                    "carriers",
                    format!(
                        "Carrier mapping, line {}: give both the shop's carrier name and the Mirakl carrier code.",
                        n + 1
                    ),
                ));
            } else if carriers.insert(shop.to_owned(), code.to_owned()).is_some() {
                errors.push((
                    "carriers",
                    format!("Carrier mapping: “{shop}” is mapped twice; keep one line for it."),
                ));
            }
        }
        let tracking = self.tracking_meta_key.trim();
        let settings = OrderSettings {
            auto_accept: self.auto_accept.is_some(),
            partial_acceptance: self.partial_acceptance.is_some(),
            shop_status: self.shop_status.trim().to_owned(),
            mark_paid: self.mark_paid.is_some(),
            tracking_meta_key: (!tracking.is_empty()).then(|| tracking.to_owned()),
            carriers,
            send_cancellations: self.send_cancellations.is_some(),
            send_refunds: self.send_refunds.is_some(),
        };
        if let Err(field_errors) = settings.validate() {
            for e in field_errors {
                // A line the form already named says more than the rule's general message.
                if !errors.iter().any(|(f, _)| *f == e.field) {
                    errors.push((e.field, e.message));
                }
            }
        }
        if errors.is_empty() {
            Ok(settings)
        } else {
            Err(errors)
        }
    }
}

/// A WooCommerce status in the words WooCommerce's own order list uses.
fn status_label(status: &str) -> &str {
    match status {
        "processing" => "Processing",
        "on-hold" => "On hold",
        "pending" => "Pending payment",
        other => other,
    }
}

#[derive(Template)]
#[template(path = "order_settings.html")]
struct OrderSettingsPage {
    nav: Nav,
    csrf_token: String,
    notice: Option<String>,
    /// (form field, message), in the order of the form.
    errors: Vec<(&'static str, String)>,
    f: OrderSettingsForm,
    statuses: Vec<(&'static str, &'static str)>,
}

impl OrderSettingsPage {
    /// The message for one field, shown next to it.
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

fn page(
    session: &Session,
    f: OrderSettingsForm,
    errors: Vec<(&'static str, String)>,
    notice: Option<String>,
) -> Response {
    render(&OrderSettingsPage {
        nav: Nav::for_session(session),
        csrf_token: session.csrf_token.clone(),
        notice,
        errors,
        f,
        statuses: SHOP_STATUSES
            .iter()
            .map(|s| (*s, status_label(s)))
            .collect(),
    })
}

#[derive(Deserialize, Default)]
pub struct SettingsQuery {
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Query(q): Query<SettingsQuery>,
) -> Result<Response, WebError> {
    let settings = state.flows().orders.settings(me.workspace_id).await?;
    let import_orders = state
        .storage()
        .workspace_settings(me.workspace_id)
        .await?
        .import_orders;
    let notice = (q.done.as_deref() == Some("saved")).then(|| {
        "Order settings saved. They apply to the orders Marketbridge handles from now on."
            .to_owned()
    });
    Ok(page(
        &session,
        OrderSettingsForm::from_settings(&settings, import_orders),
        Vec::new(),
        notice,
    ))
}

pub async fn save(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Form(form): Form<OrderSettingsForm>,
) -> Result<Response, WebError> {
    let refused = |errors| {
        Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&session, form.clone(), errors, None),
        )
            .into_response())
    };
    let settings = match form.parse() {
        Ok(s) => s,
        Err(errors) => return refused(errors),
    };
    if let Err(errors) = state
        .flows()
        .orders
        .save_settings(me.workspace_id, &settings, form.import_orders.is_some())
        .await?
    {
        return refused(errors.into_iter().map(|e| (e.field, e.message)).collect());
    }
    Ok(Redirect::to("/settings/orders?done=saved").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(carriers: &str) -> OrderSettingsForm {
        OrderSettingsForm {
            shop_status: "processing".into(),
            carriers: carriers.into(),
            ..OrderSettingsForm::default()
        }
    }

    #[test]
    fn carriers_are_read_one_a_line_and_shown_back_the_same() {
        let s = form("UPS = ups\n\n  DHL Express=dhl-express  \r\n")
            .parse()
            .unwrap();
        assert_eq!(
            s.carriers,
            BTreeMap::from([
                ("DHL Express".to_owned(), "dhl-express".to_owned()),
                ("UPS".to_owned(), "ups".to_owned()),
            ])
        );
        let back = OrderSettingsForm::from_settings(&s, true);
        assert_eq!(back.carriers, "DHL Express = dhl-express\nUPS = ups");
        assert_eq!(back.parse().unwrap(), s);
    }

    #[test]
    fn each_bad_value_is_named_with_its_field() {
        let errors = OrderSettingsForm {
            shop_status: "completed".into(),
            tracking_meta_key: "two words".into(),
            carriers: "UPS ups\nDHL = dhl\nDHL = dhl2\n = x".into(),
            ..OrderSettingsForm::default()
        }
        .parse()
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            [
                "carriers",
                "carriers",
                "carriers",
                "shop_status",
                "tracking_meta_key"
            ],
            "{errors:?}"
        );
        assert!(errors[0].1.contains("line 1"), "{errors:?}");
        assert!(errors[1].1.contains("“DHL” is mapped twice"), "{errors:?}");
    }

    #[test]
    fn unticked_boxes_are_off_and_an_empty_meta_key_is_none() {
        let s = form("").parse().unwrap();
        assert!(!s.auto_accept && !s.partial_acceptance && !s.mark_paid);
        assert!(!s.send_cancellations && !s.send_refunds);
        assert_eq!(s.tracking_meta_key, None);
    }
}
