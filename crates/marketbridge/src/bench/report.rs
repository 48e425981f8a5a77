//! What a benchmark hands back: the figures under the JSON keys DESIGN §9 names (and those the
//! orders issue adds), a few notes for the people reading the table (what went live, the
//! budget scale, the checks), and the problems that make the benchmark fail.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// The figures; a scenario fills those it measures, the others stay out of the JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Figures {
    pub scenario: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<u64>,
    /// Orders placed on Mirakl, shop orders made for them, and orders accepted on Mirakl.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orders_placed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shop_orders: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acceptances: Option<u64>,
    /// Acceptances sent for an order Mirakl had already decided (OR21 twice for one order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acceptances_duplicated: Option<u64>,
    /// How many times the worker process was killed with SIGKILL and started again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kills: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wall_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items_per_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_per_s: Option<f64>,
    /// This process's, or each node's (`fleet`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_rss_mb: Option<Rss>,
    /// `fleet`: sellers, the processes that ran jobs, and the jobs they finished per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspaces: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs_per_s: Option<f64>,
    /// `fleet`: from a stock change in a small seller's shop until their marketplace offer
    /// shows it, while a big seller's catalog exports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub small_delta_p50_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub small_delta_p95_s: Option<f64>,
    /// Calls per sandbox operation (e.g. `mmp.of01`, `connect.products.post`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls: Option<BTreeMap<String, u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_p50_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_p95_s: Option<f64>,
    /// From the first poll of the orders until each one's shop order exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_p50_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_p95_s: Option<f64>,
    /// From a shop order's creation until Mirakl Connect shows its items' new stock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock_p50_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock_p95_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quiet_calls: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost: Option<u64>,
}

/// Peak resident memory in MB: of this process, or of each node by name.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Rss {
    Process(f64),
    PerNode(BTreeMap<String, f64>),
}

impl Rss {
    /// The most any process held.
    pub fn max(&self) -> f64 {
        match self {
            Self::Process(mb) => *mb,
            Self::PerNode(nodes) => nodes.values().copied().fold(0.0, f64::max),
        }
    }
}

impl std::fmt::Display for Rss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Process(mb) => write!(f, "{mb:.1}"),
            Self::PerNode(nodes) => {
                let each: Vec<String> =
                    nodes.iter().map(|(n, mb)| format!("{n} {mb:.1}")).collect();
                write!(f, "{}", each.join(", "))
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub figures: Figures,
    /// `(label, value)` rows shown under the figures in the table.
    pub notes: Vec<(String, String)>,
    /// What went wrong beyond a figure (a duplicate, a lost order): the benchmark fails.
    pub problems: Vec<String>,
}

impl Report {
    pub fn new(figures: Figures) -> Self {
        Self {
            figures,
            notes: Vec::new(),
            problems: Vec::new(),
        }
    }

    pub fn problem(&mut self, what: impl Into<String>) {
        self.problems.push(what.into());
    }

    pub fn note(&mut self, label: &str, value: impl ToString) {
        self.notes.push((label.to_owned(), value.to_string()));
    }

    /// The figures and the notes, one per line, aligned.
    pub fn table(&self) -> String {
        let f = &self.figures;
        let mut rows: Vec<(String, String)> = vec![("scenario".into(), f.scenario.clone())];
        let mut add = |label: &str, value: Option<String>| {
            if let Some(value) = value {
                rows.push((label.to_owned(), value));
            }
        };
        add("workspaces", f.workspaces.map(|n| n.to_string()));
        add("items", f.items.map(|n| n.to_string()));
        add("nodes", f.nodes.map(|n| n.to_string()));
        add("orders_placed", f.orders_placed.map(|n| n.to_string()));
        add("shop_orders", f.shop_orders.map(|n| n.to_string()));
        add("acceptances", f.acceptances.map(|n| n.to_string()));
        add(
            "acceptances_duplicated",
            f.acceptances_duplicated.map(|n| n.to_string()),
        );
        add("kills", f.kills.map(|n| n.to_string()));
        add("wall_s", f.wall_s.map(|s| format!("{s:.3}")));
        add("items_per_s", f.items_per_s.map(|n| format!("{n:.0}")));
        add("bytes_per_s", f.bytes_per_s.map(|n| format!("{n:.0}")));
        add("peak_rss_mb", f.peak_rss_mb.as_ref().map(Rss::to_string));
        add("jobs_per_s", f.jobs_per_s.map(|n| format!("{n:.1}")));
        add(
            "small_delta_p50_s",
            f.small_delta_p50_s.map(|s| format!("{s:.3}")),
        );
        add(
            "small_delta_p95_s",
            f.small_delta_p95_s.map(|s| format!("{s:.3}")),
        );
        add("latency_p50_s", f.latency_p50_s.map(|s| format!("{s:.3}")));
        add("latency_p95_s", f.latency_p95_s.map(|s| format!("{s:.3}")));
        add("import_p50_s", f.import_p50_s.map(|s| format!("{s:.3}")));
        add("import_p95_s", f.import_p95_s.map(|s| format!("{s:.3}")));
        add("stock_p50_s", f.stock_p50_s.map(|s| format!("{s:.3}")));
        add("stock_p95_s", f.stock_p95_s.map(|s| format!("{s:.3}")));
        add("quiet_calls", f.quiet_calls.map(|n| n.to_string()));
        add("duplicates", f.duplicates.map(|n| n.to_string()));
        add("lost", f.lost.map(|n| n.to_string()));
        for (operation, count) in f.calls.iter().flatten() {
            add(&format!("calls {operation}"), Some(count.to_string()));
        }
        rows.extend(self.notes.iter().cloned());
        rows.extend(
            self.problems
                .iter()
                .map(|problem| ("PROBLEM".to_owned(), problem.clone())),
        );
        let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
        let mut table = String::new();
        for (label, value) in rows {
            let _ = writeln!(table, "{label:<width$}  {value}");
        }
        table.trim_end().to_owned()
    }

    /// The figures as one JSON object on one line.
    pub fn json(&self) -> String {
        serde_json::to_string(&self.figures).expect("the figures serialize")
    }
}

/// The most memory this process has held so far (VmHWM), in MB; `None` off Linux.
pub fn peak_rss_mb() -> Option<f64> {
    crate::fleet::process_peak_rss_mb(std::process::id())
}

/// The nearest-rank percentile (0–100) of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Rounded to `decimals`, so the JSON line stays readable.
pub fn round(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

/// `n` per second over `seconds`, whole.
pub fn rate(n: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        round(n as f64 / seconds, 0)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let values: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), Some(10.0));
        assert_eq!(percentile(&values, 95.0), Some(19.0));
        assert_eq!(percentile(&values, 100.0), Some(20.0));
        assert_eq!(percentile(&[3.0], 95.0), Some(3.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn the_json_line_holds_only_the_figures_measured() {
        let report = Report::new(Figures {
            scenario: "diff".into(),
            items: Some(3),
            ..Figures::default()
        });
        assert_eq!(report.json(), r#"{"scenario":"diff","items":3}"#);
        assert!(report.table().contains("items"));
    }
}
