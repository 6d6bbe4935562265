//! Client + Wallet end to end on a real ledger, both suites; forged answers are refused.

use std::time::Duration;

use meridian_client::{Client, ClientError, Document, Finality, SubmitMode, TrustAnchor, Wallet};
use meridian_crypto::{PrivateKey, Suite};

use crate::net::{FakeNode, LocalNet};

const WAIT: Duration = Duration::from_secs(20);

fn wallet(client: &Client, suite: Suite, seed: u8) -> Wallet {
    Wallet::connect(client, PrivateKey::from_seed(suite, &[seed; 32])).unwrap()
}

#[test]
fn assets_transfers_and_notary_both_suites() {
    for suite in Suite::ALL {
        let net = LocalNet::start(suite);
        let client = Client::new(format!("{}/", net.url));
        client.wait_for_height(1, WAIT).unwrap();
        let chain = client.chain().unwrap();
        assert_eq!(chain.suite, suite);
        assert_eq!(chain.chain_id.as_str(), format!("sdk-{suite}"));

        let mut alice = wallet(&client, suite, 1);
        let mut bob = wallet(&client, suite, 2);
        let (a, b) = (alice.address(), bob.address());

        let created = client
            .commit(
                &alice.create_asset(&client, "CNY", 2, 1_000_000).unwrap(),
                WAIT,
            )
            .unwrap();
        assert_eq!(created.receipt.events[0].kind, "asset_created");
        client
            .commit(&alice.mint(&client, "CNY", a, 1000).unwrap(), WAIT)
            .unwrap();
        let sent = client
            .commit(&alice.transfer(&client, "CNY", b, 250).unwrap(), WAIT)
            .unwrap();
        assert_eq!(sent.receipt.events[0].kind, "transferred");
        client
            .commit(&alice.burn(&client, "CNY", 50).unwrap(), WAIT)
            .unwrap();

        // Verified reads: value, height, state root of the header the proof checked against.
        let bal = client.balance("CNY", &a).unwrap();
        assert_eq!(bal.value, 700);
        assert!(bal.height >= sent.receipt.height);
        assert_eq!(bal.finality, Finality::ReportedByNode);
        let block = client.verified_block(bal.height).unwrap();
        assert_eq!(block.header.state_root, bal.state_root);
        assert_eq!(client.balance("CNY", &b).unwrap().value, 250);
        assert_eq!(client.balance("USD", &b).unwrap().value, 0);
        let asset = client.asset("CNY").unwrap().value.unwrap();
        assert_eq!((asset.supply, asset.issuer, asset.decimals), (950, a, 2));
        assert!(client.asset("NOPE").unwrap().value.is_none());
        assert_eq!(client.next_nonce(&a).unwrap(), 4);
        assert_eq!(client.next_nonce(&b).unwrap(), 0);

        // Notary: the record is proven present, an unknown hash proven absent.
        let (tx, doc) = bob
            .notarize(&client, Document::Bytes(b"invoice 42"), b"invoice-42.pdf")
            .unwrap();
        assert_eq!(doc, meridian_client::document_hash(suite, b"invoice 42"));
        let done = client.commit(&tx, WAIT).unwrap();
        assert_eq!(done.receipt.events[0].kind, "notarized");
        let rec = client.notary_record(&doc).unwrap().value.unwrap();
        assert_eq!(
            (rec.owner, rec.metadata.as_slice()),
            (b, &b"invoice-42.pdf"[..])
        );
        assert_eq!(rec.tx_hash, done.hash);
        assert!(client.notary_record(&[7; 32]).unwrap().value.is_none());

        // The transaction and its block read back, hashes recomputed.
        let t = client.tx(&done.hash).unwrap();
        assert_eq!(t.tx.body.nonce, 0);
        assert_eq!(t.view.receipt.code, "ok");
        let blk = client.verified_block(t.view.height).unwrap();
        assert!(blk.view.tx_hashes.contains(&hex::encode(done.hash)));
        assert_eq!(
            client.latest_block().unwrap().height,
            client
                .verified_block(client.latest_block().unwrap().height)
                .unwrap()
                .header
                .height
        );

        // Failures come back with stable codes.
        let again = client.submit(&tx, SubmitMode::Async).unwrap_err();
        assert!(
            matches!(&again, ClientError::Api { status: 400, .. }),
            "{again:?}"
        );
        assert!(
            ["tx.stale_nonce", "tx.replayed"].contains(&again.code()),
            "{again}"
        );
        let too_much = client
            .commit(&bob.transfer(&client, "CNY", a, 10_000).unwrap(), WAIT)
            .unwrap_err();
        assert_eq!(too_much.code(), "bank.insufficient_balance");
        let not_issuer = client
            .commit(&bob.mint(&client, "CNY", b, 1).unwrap(), WAIT)
            .unwrap_err();
        assert_eq!(not_issuer.code(), "bank.not_issuer");
        // Failed transactions still used their nonce; the wallet's count stays right.
        client
            .commit(&bob.transfer(&client, "CNY", a, 1).unwrap(), WAIT)
            .unwrap();
        assert_eq!(client.next_nonce(&b).unwrap(), 4);
        assert_eq!(
            alice.transfer(&client, "cny", b, 1).unwrap_err().code(),
            "client.bad_input"
        );
        let other = match suite {
            Suite::Sm => Suite::Intl,
            Suite::Intl => Suite::Sm,
        };
        let err = Wallet::connect(&client, PrivateKey::from_seed(other, &[1; 32])).unwrap_err();
        assert_eq!(err.code(), "client.suite_mismatch");
        let missing = client.tx(&[9; 32]).unwrap_err();
        assert!(matches!(missing, ClientError::Api { status: 404, .. }));
        assert_eq!(missing.code(), "api.not_found");
        assert_eq!(client.block(1 << 40).unwrap_err().code(), "api.not_found");
        drop(net);
    }
}

#[test]
fn pipelined_async_submissions() {
    let net = LocalNet::start(Suite::Intl);
    let client = Client::new(&net.url);
    client.wait_for_height(1, WAIT).unwrap();
    let mut alice = wallet(&client, Suite::Intl, 1);
    let a = alice.address();
    let bob = wallet(&client, Suite::Intl, 2).address();
    // Five transactions in flight at once: the wallet counts nonces locally.
    let txs = [
        alice.create_asset(&client, "GOLD", 0, 100).unwrap(),
        alice.mint(&client, "GOLD", a, 100).unwrap(),
        alice.transfer(&client, "GOLD", bob, 10).unwrap(),
        alice.transfer(&client, "GOLD", bob, 20).unwrap(),
        alice.transfer(&client, "GOLD", bob, 30).unwrap(),
    ];
    let hashes: Vec<_> = txs
        .iter()
        .map(|tx| {
            let v = client.submit(tx, SubmitMode::Async).unwrap();
            assert_eq!(v.status, "accepted");
            meridian_client::parse_hash(&v.hash).unwrap()
        })
        .collect();
    for h in &hashes {
        client.wait_tx(h, WAIT).unwrap();
    }
    assert_eq!(client.balance("GOLD", &bob).unwrap().value, 60);
    assert_eq!(client.next_nonce(&a).unwrap(), 5);
    // An old height still answers, proven against that height's header.
    let h = client.tx(&hashes[2]).unwrap().view.height - 1;
    let then = client
        .state(&meridian_bank::balance_key("GOLD", &bob), Some(h))
        .unwrap();
    assert_eq!(then.height, h);
    assert!(
        then.value.is_none(),
        "bob had nothing before the first transfer"
    );
    assert_eq!(
        client.verified_block(h).unwrap().header.state_root,
        then.state_root
    );
}

#[test]
fn forged_answers_are_refused() {
    let net = LocalNet::start(Suite::Sm);
    let client = Client::new(&net.url);
    client.wait_for_height(1, WAIT).unwrap();
    let mut alice = wallet(&client, Suite::Sm, 1);
    let a = alice.address();
    client
        .commit(&alice.create_asset(&client, "CNY", 0, 10).unwrap(), WAIT)
        .unwrap();
    client
        .commit(&alice.mint(&client, "CNY", a, 7).unwrap(), WAIT)
        .unwrap();
    let key = meridian_bank::balance_key("CNY", &a);
    let status = serde_json::to_string(&client.status().unwrap()).unwrap();
    let real = client.state_view(&key, None).unwrap();

    let serve = |state: &meridian_client::StateView| {
        FakeNode::start(vec![
            ("/v1/status".into(), status.clone()),
            ("/v1/state/".into(), serde_json::to_string(state).unwrap()),
        ])
    };
    // The honest answer verifies through the fake too.
    let honest = serve(&real);
    assert_eq!(
        Client::new(&honest.url).balance("CNY", &a).unwrap().value,
        7
    );
    // A forged balance under a genuine proof and header.
    let mut forged = real.clone();
    forged.value = Some(hex::encode(1_000_000u128.to_be_bytes()));
    let liar = serve(&forged);
    let err = Client::new(&liar.url).balance("CNY", &a).unwrap_err();
    assert_eq!(err.code(), "client.proof_invalid", "{err}");
    // Claiming absence with a membership proof.
    let mut hidden = real.clone();
    hidden.value = None;
    let liar = serve(&hidden);
    let err = Client::new(&liar.url).balance("CNY", &a).unwrap_err();
    assert_eq!(err.code(), "client.proof_invalid", "{err}");
    // An answer about another key.
    let liar = serve(&client.state_view(b"bank/asset/CNY", None).unwrap());
    let err = Client::new(&liar.url).balance("CNY", &a).unwrap_err();
    assert_eq!(err.code(), "client.bad_response", "{err}");

    // A transaction answer whose inclusion proof names another position.
    let mint_hash = {
        let tx = alice.burn(&client, "CNY", 1).unwrap();
        client.commit(&tx, WAIT).unwrap().hash
    };
    let real_tx = client.tx(&mint_hash).unwrap().view;
    let mut moved = real_tx.clone();
    moved.index += 1;
    moved.inclusion.index += 1;
    let liar = FakeNode::start(vec![
        ("/v1/status".into(), status.clone()),
        ("/v1/txs/".into(), serde_json::to_string(&moved).unwrap()),
    ]);
    let err = Client::new(&liar.url).tx(&mint_hash).unwrap_err();
    assert!(
        ["client.proof_invalid", "client.bad_response"].contains(&err.code()),
        "{err}"
    );
    let mut swapped = real_tx;
    swapped.index = 0;
    swapped.inclusion.proof = hex::encode(meridian_types::Encode::encode(
        &meridian_types::MerkleProof {
            index: 0,
            size: 2,
            siblings: vec![[0xaa; 32]],
        },
    ));
    let liar = FakeNode::start(vec![
        ("/v1/status".into(), status.clone()),
        ("/v1/txs/".into(), serde_json::to_string(&swapped).unwrap()),
    ]);
    let err = Client::new(&liar.url).tx(&mint_hash).unwrap_err();
    assert_eq!(err.code(), "client.proof_invalid", "{err}");

    // With a trust anchor, a header without a valid certificate is not accepted as final
    // (this producer finalizes with empty certificates, as no quorum signs here).
    let anchor = TrustAnchor::from_genesis(&net.genesis).unwrap();
    let strict = Client::new(&net.url).with_trust_anchor(anchor.clone());
    let err = strict.balance("CNY", &a).unwrap_err();
    assert_eq!(err.code(), "client.certificate_invalid", "{err}");
    assert_eq!(
        strict.verified_block(0).unwrap().finality,
        Finality::Genesis
    );
    // A node of another chain is refused outright.
    let mut other = net.genesis.clone();
    other.chain_id = "someone-else".into();
    let wrong = Client::new(&net.url).with_trust_anchor(TrustAnchor::from_genesis(&other).unwrap());
    assert_eq!(
        wrong.chain().unwrap_err().code(),
        "client.certificate_invalid"
    );
}

#[test]
fn unreachable_node_has_a_clear_code() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = Client::new(format!("http://127.0.0.1:{port}"))
        .status()
        .unwrap_err();
    assert_eq!(err.code(), "client.unreachable", "{err}");
    assert!(err.to_string().contains("cannot reach node"));
}

#[test]
fn events_replay_filter_and_resume() {
    use meridian_client::{EventFilter, StreamItem};
    let net = LocalNet::start(Suite::Intl);
    let client = Client::new(&net.url);
    client.wait_for_height(1, WAIT).unwrap();
    let mut alice = wallet(&client, Suite::Intl, 1);
    let a = alice.address();
    let bob = wallet(&client, Suite::Intl, 2).address();
    let carol = wallet(&client, Suite::Intl, 3).address();
    let mut last_height = 0;
    for tx in [
        alice.create_asset(&client, "EUR", 2, 1000).unwrap(),
        alice.mint(&client, "EUR", a, 100).unwrap(),
        alice.transfer(&client, "EUR", bob, 1).unwrap(),
        alice.transfer(&client, "EUR", carol, 2).unwrap(),
        alice.transfer(&client, "EUR", bob, 3).unwrap(),
    ] {
        last_height = client.commit(&tx, WAIT).unwrap().receipt.height;
    }
    // Read on a helper thread so every wait is bounded.
    let take = |stream: meridian_client::EventStream, n: usize| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut s = stream;
            let mut got = Vec::new();
            for item in s.by_ref() {
                got.push(item.unwrap());
                if got.len() == n {
                    break;
                }
            }
            let _ = tx.send((got, s));
        });
        rx.recv_timeout(WAIT).expect("events arrive in time")
    };
    // Only transfers naming bob, replayed from height 1, no block items.
    let filter = EventFilter {
        kinds: vec!["transferred".into()],
        addresses: vec![bob],
        ..EventFilter::default()
    };
    let stream = client.subscribe_events(&filter, Some(1)).unwrap();
    let (first, stream) = take(stream, 1);
    let StreamItem::Event(e) = &first[0] else {
        panic!("expected an event, got {first:?}")
    };
    assert_eq!(
        (e.event.module.as_str(), e.event.kind.as_str()),
        ("bank", "transferred")
    );
    assert!(stream.last_id().is_some());
    // Resuming continues after the last delivered event: the second transfer to bob, not the
    // first again, and never carol's.
    let (second, _) = take(stream.resume(&client).unwrap(), 1);
    let StreamItem::Event(e2) = &second[0] else {
        panic!("expected an event")
    };
    assert_ne!(e2.tx_hash, e.tx_hash);
    let data = hex::decode(&e2.event.data).unwrap();
    match meridian_bank::BankEvent::decode("transferred", &data).unwrap() {
        meridian_bank::BankEvent::Transferred { to, amount, .. } => {
            assert_eq!((to, amount), (bob, 3));
        }
        other => panic!("{other:?}"),
    }
    // Block items come in height order.
    let blocks = EventFilter {
        blocks: true,
        modules: vec!["nothing".into()],
        ..EventFilter::default()
    };
    let (items, _) = take(client.subscribe_events(&blocks, Some(2)).unwrap(), 3);
    let heights: Vec<u64> = items.iter().map(|i| i.height()).collect();
    assert_eq!(heights, [2, 3, 4]);
    assert!(items.iter().all(|i| matches!(i, StreamItem::Block(_))));
    // A bounded read ends after the last block's events: the transfer in block `last_height`
    // comes after that block's own item, and is still delivered.
    let to_bob = EventFilter {
        blocks: true,
        kinds: vec!["transferred".into()],
        addresses: vec![bob],
        ..EventFilter::default()
    };
    let (items, _) = take(
        client.events_between(&to_bob, 1, last_height).unwrap(),
        usize::MAX,
    );
    assert_eq!(items.last().map(|i| i.height()), Some(last_height));
    assert!(
        matches!(items.last(), Some(StreamItem::Event(_))),
        "{items:?}"
    );
    let events = items
        .iter()
        .filter(|i| matches!(i, StreamItem::Event(_)))
        .count();
    assert_eq!(events, 2, "both transfers to bob: {items:?}");
    assert_eq!(
        items
            .iter()
            .filter(|i| matches!(i, StreamItem::Block(_)))
            .count() as u64,
        last_height,
        "one block item per height 1..={last_height}"
    );
    // A bad filter is a 400 with a stable code.
    let bad = EventFilter {
        modules: vec!["Bad Name".into()],
        ..EventFilter::default()
    };
    let err = client.subscribe_events(&bad, None).unwrap_err();
    assert!(
        matches!(err, ClientError::Api { status: 400, .. }),
        "{err:?}"
    );
}
