//! Following finalized blocks and receipt events (`GET /v1/events`, Server-Sent Events).
//!
//! The stream is an iterator that blocks until the next event. It remembers the last event id,
//! so [`EventStream::resume`] reconnects exactly after the last delivered event (the server
//! honours `Last-Event-ID`). Events are the node's word: for proof, query the state or the
//! transaction they name with [`crate::Client`].

use std::io::{BufRead as _, BufReader};

use meridian_api::{BlockEventView, ChainEventView};
use meridian_types::Address;

use crate::client::Client;
use crate::error::{ClientError, Result};

/// Which events to receive. Empty lists mean "all".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Module names (`bank`, `notary`).
    pub modules: Vec<String>,
    /// Event kinds (`transferred`, `notarized`, ...).
    pub kinds: Vec<String>,
    /// Events whose sender or any address they name is one of these.
    pub addresses: Vec<Address>,
    /// Also deliver one `block` item per finalized block.
    pub blocks: bool,
}

impl EventFilter {
    /// Query parameters (ureq percent-encodes the values).
    fn query(&self, from_height: Option<u64>) -> Vec<(&'static str, String)> {
        let mut q = vec![("blocks", self.blocks.to_string())];
        if let Some(h) = from_height {
            q.push(("from_height", h.to_string()));
        }
        if !self.modules.is_empty() {
            q.push(("module", self.modules.join(",")));
        }
        if !self.kinds.is_empty() {
            q.push(("kind", self.kinds.join(",")));
        }
        if !self.addresses.is_empty() {
            let a: Vec<String> = self.addresses.iter().map(|a| a.to_hex()).collect();
            q.push(("address", a.join(",")));
        }
        q
    }
}

/// One item of the stream.
#[derive(Clone, Debug)]
pub enum StreamItem {
    /// A block was finalized.
    Block(BlockEventView),
    /// A receipt event matching the filter.
    Event(ChainEventView),
}

impl StreamItem {
    pub fn height(&self) -> u64 {
        match self {
            StreamItem::Block(b) => b.height,
            StreamItem::Event(e) => e.height,
        }
    }
}

/// A live event subscription (see the module doc).
pub struct EventStream {
    reader: BufReader<ureq::BodyReader<'static>>,
    url: String,
    query: Vec<(&'static str, String)>,
    last_id: Option<String>,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("url", &self.url)
            .field("last_id", &self.last_id)
            .finish()
    }
}

impl Client {
    /// Subscribes to finalized events matching `filter`, from `from_height` (replaying history)
    /// or, when `None`, from the next block.
    pub fn subscribe_events(
        &self,
        filter: &EventFilter,
        from_height: Option<u64>,
    ) -> Result<EventStream> {
        let url = format!("{}/v1/events", self.base_url());
        self.open_stream(url, filter.query(from_height), None)
    }

    /// The events matching `filter` in blocks `from_height..=to_height` (waiting for blocks
    /// not yet final); the stream ends after the last one.
    pub fn events_between(
        &self,
        filter: &EventFilter,
        from_height: u64,
        to_height: u64,
    ) -> Result<EventStream> {
        let url = format!("{}/v1/events", self.base_url());
        let mut query = filter.query(Some(from_height));
        query.push(("to_height", to_height.to_string()));
        self.open_stream(url, query, None)
    }

    fn open_stream(
        &self,
        url: String,
        query: Vec<(&'static str, String)>,
        last_id: Option<String>,
    ) -> Result<EventStream> {
        let mut req = self
            .agent()
            .get(&url)
            .query_pairs(query.iter().map(|(k, v)| (*k, v.as_str())))
            .header("accept", "text/event-stream")
            .config()
            // A stream has no total deadline; the server sends a keep-alive every 15 s.
            .timeout_global(None)
            .timeout_connect(Some(crate::client::REQUEST_TIMEOUT))
            .build();
        if let Some(id) = &last_id {
            req = req.header("last-event-id", id);
        }
        let res = req.call();
        let res = crate::client::check_status(&url, res)?;
        Ok(EventStream {
            reader: BufReader::new(res.into_body().into_reader()),
            url,
            query,
            last_id,
        })
    }
}

impl EventStream {
    /// The id of the last delivered item (`H` for a block, `H/T/E` for an event).
    pub fn last_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// Reconnects after a dropped connection, continuing right after the last item.
    pub fn resume(self, client: &Client) -> Result<EventStream> {
        client.open_stream(self.url, self.query, self.last_id)
    }

    fn read_item(&mut self) -> Option<Result<StreamItem>> {
        let mut kind = String::new();
        let mut data = String::new();
        let mut id = None;
        loop {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    return Some(Err(ClientError::Unreachable {
                        url: self.url.clone(),
                        message: format!("event stream broke: {e}"),
                    }))
                }
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if data.is_empty() {
                    // Keep-alive or a comment-only block.
                    kind.clear();
                    continue;
                }
                break;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => kind = value.to_string(),
                "data" => {
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(value);
                }
                "id" => id = Some(value.to_string()),
                _ => {}
            }
        }
        if id.is_some() {
            self.last_id = id;
        }
        let bad = |e: serde_json::Error| ClientError::bad_response(format!("event: {e}"));
        Some(match kind.as_str() {
            "block" => serde_json::from_str(&data)
                .map(StreamItem::Block)
                .map_err(bad),
            "event" | "" => serde_json::from_str(&data)
                .map(StreamItem::Event)
                .map_err(bad),
            other => Err(ClientError::bad_response(format!(
                "unknown event type {other:?}"
            ))),
        })
    }
}

impl Iterator for EventStream {
    type Item = Result<StreamItem>;

    /// Blocks until the next item; `None` when the node closed the stream.
    fn next(&mut self) -> Option<Self::Item> {
        self.read_item()
    }
}
