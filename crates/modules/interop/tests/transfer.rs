//! Token transfer between two regions end to end through the interop module, and the
//! rejection list of issue 6: each bad message is refused with its code and changes nothing.

mod common;

use common::*;
use meridian_interop::{codes, paths, transfer::voucher_symbol, Acknowledgement, Ordering};
use meridian_interop_module::{escrow_address, InteropCall};
use meridian_types::Address;

fn send(
    region: &mut Region,
    from: u8,
    symbol: &str,
    amount: u128,
    to: Address,
    timeout_height: u64,
) -> meridian_interop::Packet {
    let events = region.ok(
        &user(from),
        InteropCall::Transfer {
            channel: "channel-0".into(),
            symbol: symbol.into(),
            amount,
            receiver: to,
            timeout_height,
            timeout_timestamp_ms: 0,
            memo: String::new(),
        }
        .into_call(),
    );
    let mut p = sent_packets(&events);
    assert_eq!(p.len(), 1);
    p.remove(0)
}

#[test]
fn tokens_travel_to_region_b_and_back() {
    let Link { mut a, mut b } = Link::open(Ordering::Unordered);
    let (alice, bob) = (user(7), user(8));
    fund(&mut a, "GOLD", &alice, 1_000);
    let bob_b = b.addr(&bob);
    let alice_a = a.addr(&alice);
    let p = send(&mut a, 7, "GOLD", 100, bob_b, b.height() + 100);
    let escrow = escrow_address(&a.hash(), "transfer", "channel-0");
    assert_eq!(a.balance("GOLD", &escrow), 100);
    assert_eq!(a.balance("GOLD", &alice_a), 900);
    let r = deliver(&a, &mut b, &p);
    assert_eq!(r.code, "ok", "{}", r.message);
    let ack = written_ack(&r.events);
    assert_eq!(ack, Acknowledgement::Success(vec![1]));
    let voucher = voucher_symbol(b.suite, "transfer/channel-0/GOLD");
    assert_eq!(b.balance(&voucher, &bob_b), 100);
    assert_eq!(
        meridian_interop_module::voucher_trace(&StoreView(&b), &voucher).as_deref(),
        Some("transfer/channel-0/GOLD")
    );
    // Replaying the same packet: refused, nothing minted twice.
    let again = deliver(&a, &mut b, &p);
    assert_eq!(again.code, codes::ALREADY_RECEIVED);
    assert_eq!(b.supply(&voucher), 100);
    let r = acknowledge(&mut a, &b, &p, &ack);
    assert_eq!(r.code, "ok", "{}", r.message);
    // A second acknowledgement of the same packet, and an ack for a packet never sent.
    assert_eq!(acknowledge(&mut a, &b, &p, &ack).code, codes::NO_COMMITMENT);
    let mut never = p.clone();
    never.sequence = 99;
    assert_eq!(
        acknowledge(&mut a, &b, &never, &ack).code,
        codes::NO_COMMITMENT
    );
    assert_eq!(
        a.balance("GOLD", &escrow),
        100,
        "success ack keeps the escrow"
    );

    // Back: bob returns 40 to alice; the voucher burns on B, escrow releases on A.
    let back = send(&mut b, 8, &voucher, 40, alice_a, a.height() + 100);
    assert_eq!(b.supply(&voucher), 60);
    let r = deliver(&b, &mut a, &back);
    assert_eq!(r.code, "ok", "{}", r.message);
    assert_eq!(written_ack(&r.events), Acknowledgement::Success(vec![1]));
    assert_eq!(a.balance("GOLD", &alice_a), 940);
    assert_eq!(a.balance("GOLD", &escrow), 60);
    assert_eq!(
        b.supply(&voucher),
        60,
        "escrow on A = vouchers outstanding on B"
    );
    let ack = written_ack(&r.events);
    assert_eq!(acknowledge(&mut b, &a, &back, &ack).code, "ok");
}

struct StoreView<'a>(&'a Region);
impl meridian_execution::StateRead for StoreView<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key)
    }
    fn range(&self, _: &[u8], _: &[u8], _: usize, _: bool) -> Vec<(Vec<u8>, Vec<u8>)> {
        Vec::new()
    }
}

#[test]
fn timeouts_refund_exactly_once_and_are_judged_by_the_destination() {
    let Link { mut a, mut b } = Link::open(Ordering::Unordered);
    let alice = user(7);
    fund(&mut a, "GOLD", &alice, 1_000);
    let alice_a = a.addr(&alice);
    let to = b.addr(&user(8));
    let p = send(&mut a, 7, "GOLD", 250, to, b.height() + 3);
    // Below the timeout height the destination's non-receipt proves nothing.
    let early = timeout(&mut a, &b, &p);
    assert_eq!(early.code, codes::PACKET_NOT_TIMED_OUT, "{}", early.message);
    assert_eq!(a.balance("GOLD", &alice_a), 750);
    // B moves past the timeout height; delivering now is refused by B's own height.
    for _ in 0..3 {
        b.block(vec![], 1000);
    }
    let late = deliver(&a, &mut b, &p);
    assert_eq!(late.code, codes::PACKET_TIMED_OUT);
    // A forged non-membership: the receipt path of another (absent) sequence proves nothing
    // about this one... and a proof of the wrong path is refused.
    let h = update_client(&b, &mut a, "client-0");
    let (_, wrong) = b.prove(&paths::receipt("transfer", "channel-0", p.sequence + 1), h);
    a.fails(
        &user(RELAYER),
        InteropCall::Timeout {
            packet: p.clone(),
            proof_height: h,
            proof: wrong,
            next_sequence_recv: 0,
        }
        .into_call(),
        codes::PROOF_INVALID,
    );
    let r = timeout(&mut a, &b, &p);
    assert_eq!(r.code, "ok", "{}", r.message);
    assert_eq!(a.balance("GOLD", &alice_a), 1_000, "refunded");
    // A second refund of the same packet.
    assert_eq!(timeout(&mut a, &b, &p).code, codes::NO_COMMITMENT);
    assert_eq!(a.balance("GOLD", &alice_a), 1_000);
    assert_eq!(
        a.balance("GOLD", &escrow_address(&a.hash(), "transfer", "channel-0")),
        0
    );
}

#[test]
fn a_received_packet_cannot_be_timed_out_and_voucher_symbols_are_reserved() {
    let Link { mut a, mut b } = Link::open(Ordering::Unordered);
    let alice = user(7);
    fund(&mut a, "GOLD", &alice, 1_000);
    let to = b.addr(&user(8));
    // Delivery takes two blocks on B (client update, then the receive).
    let p = send(&mut a, 7, "GOLD", 10, to, b.height() + 3);
    assert_eq!(deliver(&a, &mut b, &p).code, "ok");
    for _ in 0..3 {
        b.block(vec![], 1000);
    }
    // Past the timeout height, but B has the receipt: a non-membership proof cannot exist.
    assert_eq!(timeout(&mut a, &b, &p).code, codes::PROOF_INVALID);

    // Nobody can squat a voucher symbol on B in advance (reserved for the interop module).
    let squat = voucher_symbol(b.suite, "transfer/channel-0/SILVER");
    b.fails(
        &user(9),
        meridian_bank::BankCall::CreateAsset {
            symbol: squat,
            decimals: 0,
            max_supply: 1,
        }
        .into_call(),
        meridian_bank::errors::RESERVED_SYMBOL,
    );
}

#[test]
fn an_application_error_on_the_destination_is_acknowledged_and_refunded_once() {
    // Alice on A holds a voucher that already crossed eight channels; one more hop is beyond
    // the trace limit, so B's transfer application fails and writes an error acknowledgement.
    let long_trace = format!("{}SILVER", "transfer/channel-7/".repeat(8));
    let a_region = Region::new("region-a", meridian_crypto::Suite::Sm, 10);
    let symbol = voucher_symbol(a_region.suite, &long_trace);
    let issuer = meridian_interop_module::module_address(&a_region.hash());
    let alice_a = a_region.addr(&user(7));
    drop(a_region);
    let asset = meridian_bank::Asset {
        symbol: symbol.clone(),
        decimals: 0,
        max_supply: u128::MAX,
        supply: 500,
        issuer,
    };
    let genesis = vec![
        (
            format!("interop/transfer/trace/{symbol}").into_bytes(),
            Some(long_trace.clone().into_bytes()),
        ),
        (
            meridian_bank::asset_key(&symbol),
            Some(meridian_types::Encode::encode(&asset)),
        ),
        (
            meridian_bank::balance_key(&symbol, &alice_a),
            Some(500u128.to_be_bytes().to_vec()),
        ),
    ];
    let Link { mut a, mut b } = Link::open_between(
        Region::with_genesis("region-a", meridian_crypto::Suite::Sm, 10, genesis),
        Region::new("region-b", meridian_crypto::Suite::Intl, 50),
        Ordering::Unordered,
    );
    let to = b.addr(&user(8));
    let p = send(&mut a, 7, &symbol, 500, to, b.height() + 100);
    let escrow = escrow_address(&a.hash(), "transfer", "channel-0");
    assert_eq!(
        a.balance(&symbol, &escrow),
        500,
        "escrowed: leaving over a new channel"
    );
    let r = deliver(&a, &mut b, &p);
    assert_eq!(r.code, "ok", "the receive itself succeeds: {}", r.message);
    let ack = written_ack(&r.events);
    let Acknowledgement::Error(msg) = &ack else {
        panic!("expected an error ack, got {ack:?}")
    };
    assert!(msg.contains(codes::BAD_DENOM), "{msg}");
    assert_eq!(acknowledge(&mut a, &b, &p, &ack).code, "ok");
    assert_eq!(
        a.balance(&symbol, &alice_a),
        500,
        "refunded on the error ack"
    );
    assert_eq!(a.balance(&symbol, &escrow), 0);
    assert_eq!(acknowledge(&mut a, &b, &p, &ack).code, codes::NO_COMMITMENT);
    assert_eq!(a.balance(&symbol, &alice_a), 500, "refunded once");
}

#[test]
fn ordered_channels_deliver_in_sequence_and_close_on_timeout() {
    let Link { mut a, mut b } = Link::open(Ordering::Ordered);
    let alice = user(7);
    fund(&mut a, "GOLD", &alice, 1_000);
    let to = b.addr(&user(8));
    let p1 = send(&mut a, 7, "GOLD", 1, to, b.height() + 100);
    let p2 = send(&mut a, 7, "GOLD", 2, to, b.height() + 100);
    assert_eq!(deliver(&a, &mut b, &p2).code, codes::OUT_OF_ORDER);
    assert_eq!(deliver(&a, &mut b, &p1).code, "ok");
    assert_eq!(deliver(&a, &mut b, &p1).code, codes::ALREADY_RECEIVED);
    let r = deliver(&a, &mut b, &p2);
    assert_eq!(r.code, "ok", "{}", r.message);
    // A third packet times out: proven with B's next expected sequence, and the channel closes.
    let p3 = send(&mut a, 7, "GOLD", 3, to, b.height() + 2);
    for _ in 0..3 {
        b.block(vec![], 1000);
    }
    let h = update_client(&b, &mut a, "client-0");
    let seq_key = paths::next_sequence_recv("transfer", "channel-0");
    let (next, proof) = b.prove(&seq_key, h);
    let next = u64::from_be_bytes(next.unwrap().try_into().unwrap());
    assert_eq!(next, 3);
    // Claiming B expects a later sequence than it does: the proof fails.
    a.fails(
        &user(RELAYER),
        InteropCall::Timeout {
            packet: p3.clone(),
            proof_height: h,
            proof: proof.clone(),
            next_sequence_recv: 2,
        }
        .into_call(),
        codes::PROOF_INVALID,
    );
    a.ok(
        &user(RELAYER),
        InteropCall::Timeout {
            packet: p3,
            proof_height: h,
            proof,
            next_sequence_recv: next,
        }
        .into_call(),
    );
    let ch: meridian_interop::ChannelEnd = meridian_interop::channel::decode_stored(
        &a.get(&paths::channel("transfer", "channel-0")).unwrap(),
    )
    .unwrap();
    assert_eq!(ch.state, meridian_interop::ChannelState::Closed);
    // A closed channel sends nothing more.
    a.fails(
        &user(7),
        InteropCall::Transfer {
            channel: "channel-0".into(),
            symbol: "GOLD".into(),
            amount: 1,
            receiver: to,
            timeout_height: 10_000,
            timeout_timestamp_ms: 0,
            memo: String::new(),
        }
        .into_call(),
        codes::BAD_STATE,
    );
}

#[test]
fn ports_timeouts_and_rate_limits() {
    let Link { mut a, mut b } = Link::open(Ordering::Unordered);
    let alice = user(7);
    fund(&mut a, "GOLD", &alice, 1_000);
    let to = b.addr(&user(8));
    // Channels only on bound ports; packets only to bound ports.
    a.fails(
        &user(RELAYER),
        InteropCall::ChanOpenInit {
            port: "wormhole".into(),
            connection_id: "connection-0".into(),
            counterparty_port: "transfer".into(),
            ordering: Ordering::Unordered,
            version: "x".into(),
        }
        .into_call(),
        codes::PORT_NOT_ALLOWED,
    );
    let mut p = send(&mut a, 7, "GOLD", 5, to, b.height() + 100);
    let honest = p.clone();
    p.dest_port = "wormhole".into();
    assert_eq!(deliver(&a, &mut b, &p).code, codes::PORT_NOT_ALLOWED);
    // A tampered packet does not match the commitment (wrong amount → other data hash).
    let mut tampered = honest.clone();
    let n = tampered.data.len();
    tampered.data[n - 50] ^= 1; // inside the amount
    assert_eq!(deliver(&a, &mut b, &tampered).code, codes::PROOF_INVALID);
    assert_eq!(deliver(&a, &mut b, &honest).code, "ok");
    // No timeout at all is refused at send.
    a.fails(
        &user(7),
        InteropCall::Transfer {
            channel: "channel-0".into(),
            symbol: "GOLD".into(),
            amount: 1,
            receiver: to,
            timeout_height: 0,
            timeout_timestamp_ms: 0,
            memo: String::new(),
        }
        .into_call(),
        codes::BAD_TIMEOUT,
    );
    // Rate limit: 100 GOLD per 1000 blocks on channel-0.
    a.ok(
        &user(RELAYER),
        InteropCall::SetRateLimit {
            channel: "channel-0".into(),
            max_per_window: 100,
            window_blocks: 1000,
        }
        .into_call(),
    );
    send(&mut a, 7, "GOLD", 60, to, b.height() + 100);
    a.fails(
        &user(7),
        InteropCall::Transfer {
            channel: "channel-0".into(),
            symbol: "GOLD".into(),
            amount: 41,
            receiver: to,
            timeout_height: b.height() + 100,
            timeout_timestamp_ms: 0,
            memo: String::new(),
        }
        .into_call(),
        codes::RATE_LIMITED,
    );
    send(&mut a, 7, "GOLD", 40, to, b.height() + 100);
}

#[test]
fn a_frozen_client_refuses_later_packets() {
    let Link { mut a, mut b } = Link::open(Ordering::Unordered);
    let alice = user(7);
    fund(&mut a, "GOLD", &alice, 1_000);
    let to = b.addr(&user(8));
    let p = send(&mut a, 7, "GOLD", 5, to, b.height() + 100);
    let h = update_client(&a, &mut b, "client-0");
    // A's validators sign a second header at height h: evidence of a fork.
    let honest = a.signed_header(h);
    let mut forged = honest.header.clone();
    forged.state_root = [7; 32];
    let digest = a.suite.hash(&meridian_types::Encode::encode(&forged)).0;
    let all: Vec<usize> = (0..4).collect();
    let certificate = meridian_crypto::finality::testing::sign_finalization(
        a.chain_id.as_str(),
        &a.validators,
        &all,
        forged.view,
        digest,
    );
    let fork = meridian_interop::SignedHeader {
        header: forged,
        certificate,
    };
    b.ok(
        &user(RELAYER),
        InteropCall::SubmitMisbehaviour {
            client_id: "client-0".into(),
            misbehaviour: meridian_interop::Misbehaviour { a: honest, b: fork },
        }
        .into_call(),
    );
    let (_, proof) = a.prove(&paths::commitment("transfer", "channel-0", p.sequence), h);
    b.fails(
        &user(RELAYER),
        InteropCall::RecvPacket {
            packet: p,
            proof_height: h,
            proof,
        }
        .into_call(),
        codes::CLIENT_FROZEN,
    );
    // Updates are refused too.
    a.block(vec![], 1000);
    b.fails(
        &user(RELAYER),
        InteropCall::UpdateClient {
            client_id: "client-0".into(),
            update: a.update(a.height()),
        }
        .into_call(),
        codes::CLIENT_FROZEN,
    );
}

#[test]
fn region_b_proves_a_notarisation_in_region_a() {
    let Link { mut a, mut b } = Link::open(Ordering::Unordered);
    // A notary-like record on A (any state key works: the proof is of A's JMT state).
    let key = b"bank/asset/GOLD".to_vec();
    fund(&mut a, "GOLD", &user(7), 1);
    let h = update_client(&a, &mut b, "client-0");
    let (value, proof) = a.prove(&key, h);
    let value = value.expect("present on A");
    let events = b.ok(
        &user(RELAYER),
        InteropCall::ProveState {
            client_id: "client-0".into(),
            height: h,
            key: key.clone(),
            value: Some(value.clone()),
            proof: proof.clone(),
        }
        .into_call(),
    );
    assert!(interop_events(&events).iter().any(|e| matches!(
        e,
        meridian_interop_module::InteropEvent::StateProven { present: true, .. }
    )));
    let key_hash = b.suite.hash(&key).0;
    let record = b
        .get(&meridian_interop_module::proven_key(
            "client-0", h, &key_hash,
        ))
        .unwrap();
    assert_eq!(record[0], 1);
    // Claiming absence with the membership proof, or another value: refused.
    b.fails(
        &user(RELAYER),
        InteropCall::ProveState {
            client_id: "client-0".into(),
            height: h,
            key: key.clone(),
            value: None,
            proof: proof.clone(),
        }
        .into_call(),
        codes::PROOF_INVALID,
    );
    b.fails(
        &user(RELAYER),
        InteropCall::ProveState {
            client_id: "client-0".into(),
            height: h,
            key: key.clone(),
            value: Some(b"forged".to_vec()),
            proof,
        }
        .into_call(),
        codes::PROOF_INVALID,
    );
    // A document never notarised: absence proven.
    let missing = b"notary/record/00".to_vec();
    let (none, proof) = a.prove(&missing, h);
    assert!(none.is_none());
    b.ok(
        &user(RELAYER),
        InteropCall::ProveState {
            client_id: "client-0".into(),
            height: h,
            key: missing,
            value: None,
            proof,
        }
        .into_call(),
    );
    // A height the client never verified.
    let (_, proof) = a.prove(&key, h);
    b.fails(
        &user(RELAYER),
        InteropCall::ProveState {
            client_id: "client-0".into(),
            height: h - 1,
            key,
            value: Some(value),
            proof,
        }
        .into_call(),
        codes::NO_CONSENSUS_STATE,
    );
}
