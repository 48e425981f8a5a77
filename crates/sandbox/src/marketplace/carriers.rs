//! The carriers an operator registers, SH21 `GET /api/shipping/carriers`: OR23 names one by its
//! code, and the marketplace then builds the tracking URL itself.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::Sandbox;
use crate::gate::Operation;
use crate::marketplace::{ApiCall, ApiError};

pub struct Carrier {
    pub code: &'static str,
    pub label: &'static str,
    pub standard_code: &'static str,
    /// The tracking page, with `{trackingId}` where the number goes (Mirakl's placeholder).
    pub tracking_url: &'static str,
}

impl Carrier {
    pub fn tracking_url_for(&self, tracking_number: &str) -> String {
        self.tracking_url.replace("{trackingId}", tracking_number)
    }
}

/// Sorted by label, as SH21 answers. ASSUMPTION: each operator has its own list; these are
/// carriers a French marketplace would register.
pub const CARRIERS: [Carrier; 5] = [
    Carrier {
        code: "CHRONOPOST",
        label: "Chronopost",
        standard_code: "CHRONOPOST",
        tracking_url: "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={trackingId}",
    },
    Carrier {
        code: "COLISSIMO",
        label: "Colissimo",
        standard_code: "COLISSIMO",
        tracking_url: "https://www.laposte.fr/outils/suivre-vos-envois?code={trackingId}",
    },
    Carrier {
        code: "DHL",
        label: "DHL Express",
        standard_code: "DHL",
        tracking_url: "https://www.dhl.com/fr-en/home/tracking.html?tracking-id={trackingId}",
    },
    Carrier {
        code: "DPD",
        label: "DPD",
        standard_code: "DPD",
        tracking_url: "https://trace.dpd.fr/fr/trace/{trackingId}",
    },
    Carrier {
        code: "UPS",
        label: "UPS",
        standard_code: "UPS",
        tracking_url: "https://www.ups.com/track?tracknum={trackingId}",
    },
];

pub fn find(code: &str) -> Option<&'static Carrier> {
    CARRIERS.iter().find(|carrier| carrier.code == code)
}

/// SH21 `GET /api/shipping/carriers`.
pub async fn list(State(sandbox): State<Sandbox>, call: ApiCall) -> Result<Json<Value>, ApiError> {
    call.serve(&mut sandbox.world(), Operation::Sh21)?;
    let carriers: Vec<Value> = CARRIERS
        .iter()
        .map(|carrier| {
            json!({
                "code": carrier.code,
                "label": carrier.label,
                "standard_code": carrier.standard_code,
                "tracking_url": carrier.tracking_url,
            })
        })
        .collect();
    Ok(Json(json!({ "carriers": carriers })))
}
