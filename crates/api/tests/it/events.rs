//! `/v1/events`: live delivery, filters, replay from a height, exact resume by Last-Event-ID,
//! and release of the stream slot when a client goes away.

use std::time::{Duration, Instant};

use meridian_api::{ApiOptions, ChainEventView};
use meridian_bank::BankCall;
use meridian_crypto::{PrivateKey, Suite};
use meridian_notary::Register;
use meridian_types::SignedTx;

use crate::harness::{Node, Opts};
use crate::schema::check;

struct Setup {
    node: Node,
    alice: PrivateKey,
    bob: PrivateKey,
    nonce: u64,
}

impl Setup {
    fn new() -> Self {
        let node = Node::start(Opts::default());
        let alice = PrivateKey::from_seed(Suite::Intl, &[1; 32]);
        let bob = PrivateKey::from_seed(Suite::Intl, &[2; 32]);
        Setup {
            node,
            alice,
            bob,
            nonce: 0,
        }
    }

    fn alice_tx(&mut self, call: BankCall) -> SignedTx {
        let tx = self.node.sign(&self.alice, self.nonce, call.into_call());
        self.nonce += 1;
        tx
    }

    /// Creates CNY and mints 1000 to alice; returns the height of the mint.
    fn fund(&mut self) -> u64 {
        let create = self.alice_tx(BankCall::CreateAsset {
            symbol: "CNY".into(),
            decimals: 0,
            max_supply: 1_000_000,
        });
        self.node.commit(&create);
        let to = self.node.address(&self.alice);
        let mint = self.alice_tx(BankCall::Mint {
            symbol: "CNY".into(),
            to,
            amount: 1000,
        });
        self.node.commit(&mint)["receipt"]["height"]
            .as_u64()
            .unwrap()
    }

    fn transfer_to_bob(&mut self, amount: u128) -> SignedTx {
        let to = self.node.address(&self.bob);
        let tx = self.alice_tx(BankCall::Transfer {
            symbol: "CNY".into(),
            to,
            amount,
        });
        self.node.commit(&tx);
        tx
    }
}

#[test]
fn live_events_with_filters() {
    let mut s = Setup::new();
    s.fund();
    let doc = s.node.get("/openapi.json").1;
    let bob_addr = s.node.address(&s.bob);
    // Subscribed before the transactions: live delivery.
    let mut bank_only = s
        .node
        .events("?module=bank&kind=transferred&blocks=false", None);
    let mut bobs = s
        .node
        .events(&format!("?address={bob_addr}&blocks=false"), None);
    let mut blocks = s.node.events("", None);
    // bob notarises (bob is the sender), then alice pays bob (bob is named in the event)
    let notarize = s.node.sign(
        &s.bob,
        0,
        Register {
            doc_hash: [5; 32],
            metadata: vec![],
        }
        .into_call(),
    );
    let n_receipt = s.node.commit(&notarize);
    let transfer = s.transfer_to_bob(7);

    let m = bank_only.next();
    assert_eq!(m.event, "event");
    check(&doc, "ChainEvent", &m.data);
    let e: ChainEventView = serde_json::from_value(m.data.clone()).unwrap();
    assert_eq!(e.event.kind, "transferred");
    assert_eq!(
        e.tx_hash,
        hex::encode(transfer.hash(&s.node.ledger.hasher()))
    );
    assert_eq!(e.event.decoded.as_ref().unwrap()["amount"], "7");
    assert_eq!(m.id, format!("{}/{}/0", e.height, e.tx_index));

    let first = bobs.next();
    assert_eq!(first.data["kind"], "notarized");
    assert_eq!(first.data["height"], n_receipt["receipt"]["height"]);
    let second = bobs.next();
    assert_eq!(second.data["kind"], "transferred");
    assert_eq!(second.data["decoded"]["to"], bob_addr.to_string());

    // The unfiltered stream: a block event, then that block's receipt events.
    let b = blocks.next();
    assert_eq!(b.event, "block");
    check(&doc, "BlockEvent", &b.data);
    assert_eq!(b.id, b.data["height"].to_string());
    let ev = blocks.next();
    assert_eq!(ev.event, "event");
    assert_eq!(ev.data["kind"], "notarized");
    assert_eq!(ev.data["height"], b.data["height"]);
}

#[test]
fn replay_from_height_and_resume_by_id() {
    let mut s = Setup::new();
    let funded_at = s.fund();
    let t1 = s.transfer_to_bob(1);
    let t2 = s.transfer_to_bob(2);
    let t3 = s.transfer_to_bob(3);
    let h = s.node.ledger.hasher();
    let hash = |t: &SignedTx| hex::encode(t.hash(&h));

    // Replay from genesis: block 0 comes first, then everything in order.
    let mut all = s.node.events("?from_height=0", None);
    let g = all.next();
    assert_eq!((g.event.as_str(), g.id.as_str()), ("block", "0"));
    let mut kinds = Vec::new();
    while kinds.len() < 5 {
        kinds.push(all.next_event().data["kind"].as_str().unwrap().to_string());
    }
    assert_eq!(
        kinds,
        [
            "asset_created",
            "minted",
            "transferred",
            "transferred",
            "transferred"
        ]
    );

    // Replay from an old height, only transfers.
    let mut from = s.node.events(
        &format!("?from_height={}&kind=transferred", funded_at + 1),
        None,
    );
    let m1 = from.next_event();
    assert_eq!(m1.data["tx_hash"], hash(&t1));
    let m2 = from.next_event();
    assert_eq!(m2.data["tx_hash"], hash(&t2));

    // Resume exactly after m1 (what a reconnecting EventSource sends).
    let mut resumed = s
        .node
        .events("?kind=transferred&blocks=false", Some(&m1.id));
    assert_eq!(resumed.next().data["tx_hash"], hash(&t2));
    assert_eq!(resumed.next().data["tx_hash"], hash(&t3));
    // ...and it keeps following live.
    let t4 = s.transfer_to_bob(4);
    assert_eq!(resumed.next().data["tx_hash"], hash(&t4));

    // Resuming after a block id skips that block event but delivers its receipt events.
    let block_of_t3 = s.node.get(&format!("/v1/txs/{}", hash(&t3))).1["height"]
        .as_u64()
        .unwrap();
    let mut after_block = s.node.events("", Some(&block_of_t3.to_string()));
    let first = after_block.next();
    assert_eq!(first.event, "event");
    assert_eq!(first.data["tx_hash"], hash(&t3));
}

#[test]
fn slot_is_released_when_the_client_leaves() {
    let node = Node::start(Opts {
        api: ApiOptions {
            max_event_streams: 1,
            ..ApiOptions::default()
        },
        ..Opts::default()
    });
    let stream = node.events("", None);
    assert_eq!(node.get("/v1/events").0, 503);
    drop(stream);
    // The server notices on its next write: make blocks until a new stream is accepted.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        node.produce();
        let r = node
            .agent()
            .get(format!("{}/v1/events", node.url))
            .call()
            .unwrap();
        if r.status().as_u16() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "stream slot never released");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, _, text) = node.get_text("/metrics");
    assert!(text.contains("meridian_api_event_streams "));
}
