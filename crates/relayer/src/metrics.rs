//! Relayer counters in Prometheus text format (served by `meridian relayer --metrics ADDR`).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::StepReport;

#[derive(Debug, Default)]
pub struct Metrics {
    pub steps: AtomicU64,
    pub client_updates: AtomicU64,
    pub packets_received: AtomicU64,
    pub acks_relayed: AtomicU64,
    pub timeouts_relayed: AtomicU64,
    pub duplicates: AtomicU64,
    pub refused: AtomicU64,
    pub errors: AtomicU64,
}

impl Metrics {
    pub(crate) fn record(&self, r: &StepReport) {
        let add = |c: &AtomicU64, n: usize| {
            c.fetch_add(n as u64, Ordering::Relaxed);
        };
        add(&self.steps, 1);
        add(&self.client_updates, r.client_updates);
        add(&self.packets_received, r.packets_received);
        add(&self.acks_relayed, r.acks_relayed);
        add(&self.timeouts_relayed, r.timeouts_relayed);
        add(&self.duplicates, r.duplicates);
        add(&self.refused, r.refused);
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let rows = [
            ("steps", "relay passes", &self.steps),
            (
                "client_updates",
                "client updates submitted",
                &self.client_updates,
            ),
            (
                "packets_received",
                "packets delivered",
                &self.packets_received,
            ),
            (
                "acks_relayed",
                "acknowledgements delivered",
                &self.acks_relayed,
            ),
            (
                "timeouts_relayed",
                "timeouts delivered",
                &self.timeouts_relayed,
            ),
            (
                "duplicates",
                "deliveries already made by another relayer",
                &self.duplicates,
            ),
            (
                "refused",
                "relayed transactions refused by a chain",
                &self.refused,
            ),
            ("errors", "failed relay passes", &self.errors),
        ];
        let mut out = String::new();
        for (name, help, c) in rows {
            out.push_str(&format!(
                "# HELP meridian_relayer_{name}_total {help}\n# TYPE meridian_relayer_{name}_total counter\nmeridian_relayer_{name}_total {}\n",
                c.load(Ordering::Relaxed)
            ));
        }
        out
    }
}
