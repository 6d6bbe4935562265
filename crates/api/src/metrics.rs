//! The API's own series for `/metrics`, appended to the node's ([`meridian_node::Metrics`]).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use axum::http::StatusCode;
use meridian_node::metrics::{header, single};

use crate::views::PeersView;
use crate::AppState;

/// Response counters by status class.
#[derive(Default)]
pub(crate) struct ApiStats {
    by_class: [AtomicU64; 5],
    pub(crate) rate_limited: AtomicU64,
}

impl ApiStats {
    pub(crate) fn record(&self, status: StatusCode) {
        let class = (status.as_u16() / 100).clamp(1, 5) as usize - 1;
        self.by_class[class].fetch_add(1, Relaxed);
    }
}

pub(crate) fn render_api(out: &mut String, s: &AppState, peers: &PeersView) {
    single(
        out,
        "meridian_peers_configured",
        "Configured p2p peers other than this node.",
        "gauge",
        peers.configured as u64,
    );
    if let Some(c) = peers.connected {
        single(
            out,
            "meridian_peers_connected",
            "Peers with an authenticated p2p connection up.",
            "gauge",
            c as u64,
        );
    }
    let st = &s.inner.stats;
    header(
        out,
        "meridian_api_responses_total",
        "HTTP responses by status class.",
        "counter",
    );
    for (i, class) in ["1xx", "2xx", "3xx", "4xx", "5xx"].iter().enumerate() {
        out.push_str(&format!(
            "meridian_api_responses_total{{class=\"{class}\"}} {}\n",
            st.by_class[i].load(Relaxed)
        ));
    }
    single(
        out,
        "meridian_api_rate_limited_total",
        "Requests refused by the per-client rate limit.",
        "counter",
        st.rate_limited.load(Relaxed),
    );
    single(
        out,
        "meridian_api_event_streams",
        "Open /v1/events streams.",
        "gauge",
        s.inner.streams.load(Relaxed) as u64,
    );
}
