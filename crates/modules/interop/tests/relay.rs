//! `relay`: a client update and many receives (or acknowledgements and timeouts) in one
//! transaction. Each message is checked as if it came alone; a refused one drops only its own
//! writes; a relay of nothing but refusals fails and changes nothing.

mod common;

use common::*;
use meridian_interop::{codes, paths, transfer::voucher_symbol, Ordering, Packet};
use meridian_interop_module::{relay::MAX_RELAY_MESSAGES, InteropCall, InteropEvent};
use meridian_types::{Address, Call, MAX_CALL_ARGS_LEN};

fn send_many(a: &mut Region, n: usize, to: Address, timeout_height: u64) -> Vec<Packet> {
    let calls = (0..n)
        .map(|i| {
            (
                user(7),
                InteropCall::Transfer {
                    channel: "channel-0".into(),
                    symbol: "GOLD".into(),
                    amount: 10 + i as u128,
                    receiver: to,
                    timeout_height,
                    timeout_timestamp_ms: 0,
                    memo: String::new(),
                }
                .into_call(),
            )
        })
        .collect();
    let receipts = a.block(calls, 1000);
    receipts
        .iter()
        .flat_map(|r| {
            assert_eq!(r.code, "ok", "{}", r.message);
            sent_packets(&r.events)
        })
        .collect()
}

fn update_call(src: &Region, dst: &mut Region) -> (u64, InteropCall) {
    let h = src.height();
    dst.time_ms = dst.time_ms.max(src.time_ms.saturating_sub(1000));
    (
        h,
        InteropCall::UpdateClient {
            client_id: "client-0".into(),
            update: src.update(h),
        },
    )
}

fn recv_call(src: &Region, p: &Packet, h: u64) -> InteropCall {
    let (_, proof) = src.prove(
        &paths::commitment(&p.source_port, &p.source_channel, p.sequence),
        h,
    );
    InteropCall::RecvPacket {
        packet: p.clone(),
        proof_height: h,
        proof,
    }
}

fn relay(messages: Vec<InteropCall>) -> Call {
    InteropCall::Relay { messages }.into_call()
}

fn outcomes(events: &[meridian_types::Event]) -> Vec<String> {
    interop_events(events)
        .into_iter()
        .find_map(|e| match e {
            InteropEvent::Relayed { outcomes } => Some(outcomes),
            _ => None,
        })
        .expect("relayed event")
}

#[test]
fn one_transaction_delivers_an_update_and_many_packets_each_checked_alone() {
    let Link { mut a, mut b } = Link::open(Ordering::Unordered);
    fund(&mut a, "GOLD", &user(7), 100_000);
    let to = b.addr(&user(8));
    let packets = send_many(&mut a, 12, to, b.height() + 100);
    let (h, update) = update_call(&a, &mut b);
    let mut messages = vec![update];
    messages.extend(packets.iter().map(|p| recv_call(&a, p, h)));
    let call = relay(messages);
    assert!(
        call.args.len() <= MAX_CALL_ARGS_LEN,
        "an update and 12 receives fit one transaction ({} bytes)",
        call.args.len()
    );
    let events = b.ok(&user(RELAYER), call);
    assert_eq!(outcomes(&events), vec!["ok"; 13]);
    let voucher = voucher_symbol(b.suite, "transfer/channel-0/GOLD");
    let sent: u128 = (0..12).map(|i| 10 + i as u128).sum();
    assert_eq!(b.supply(&voucher), sent);
    assert_eq!(b.balance(&voucher, &to), sent);

    // Two new packets, relayed together with two already delivered (another relayer was
    // faster): the duplicates are refused one by one, the new ones delivered.
    let more = send_many(&mut a, 2, to, b.height() + 100);
    let (h, update) = update_call(&a, &mut b);
    let events = b.ok(
        &user(RELAYER),
        relay(vec![
            update,
            recv_call(&a, &packets[0], h),
            recv_call(&a, &more[0], h),
            recv_call(&a, &packets[1], h),
            recv_call(&a, &more[1], h),
        ]),
    );
    assert_eq!(
        outcomes(&events),
        vec![
            "ok",
            codes::ALREADY_RECEIVED,
            "ok",
            codes::ALREADY_RECEIVED,
            "ok"
        ]
    );
    let sent = sent + 10 + 11;
    assert_eq!(b.supply(&voucher), sent);

    // Nothing but duplicates: the transaction fails and nothing changes.
    b.fails(
        &user(RELAYER),
        relay(vec![recv_call(&a, &more[0], h), recv_call(&a, &more[1], h)]),
        codes::ALREADY_RECEIVED,
    );
    assert_eq!(b.supply(&voucher), sent);
}

#[test]
fn a_refused_message_drops_only_its_own_writes() {
    let Link { mut a, mut b } = Link::open(Ordering::Unordered);
    fund(&mut a, "GOLD", &user(7), 100_000);
    let to = b.addr(&user(8));
    let packets = send_many(&mut a, 3, to, b.height() + 100);
    let h = update_client(&a, &mut b, "client-0");
    // The middle packet carries the proof of another packet's commitment.
    let mut forged = recv_call(&a, &packets[1], h);
    if let InteropCall::RecvPacket { proof, .. } = &mut forged {
        *proof = a
            .prove(
                &paths::commitment("transfer", "channel-0", packets[0].sequence),
                h,
            )
            .1;
    }
    let events = b.ok(
        &user(RELAYER),
        relay(vec![
            recv_call(&a, &packets[0], h),
            forged,
            recv_call(&a, &packets[2], h),
        ]),
    );
    assert_eq!(outcomes(&events), vec!["ok", codes::PROOF_INVALID, "ok"]);
    // The refused receive wrote no receipt (it is still deliverable); the others did.
    let receipt = |p: &Packet| b.get(&paths::receipt("transfer", "channel-0", p.sequence));
    assert!(receipt(&packets[0]).is_some());
    assert!(receipt(&packets[1]).is_none());
    assert!(receipt(&packets[2]).is_some());
    let voucher = voucher_symbol(b.suite, "transfer/channel-0/GOLD");
    assert_eq!(b.supply(&voucher), 10 + 12);
    let events = b.ok(&user(RELAYER), relay(vec![recv_call(&a, &packets[1], h)]));
    assert_eq!(outcomes(&events), vec!["ok"]);
    assert_eq!(b.supply(&voucher), 10 + 11 + 12);

    // Acknowledgements in one relay; the same one twice: the second is a double ack.
    let h = update_client(&b, &mut a, "client-0");
    let ack_call = |p: &Packet| {
        let (_, proof) = b.prove(&paths::ack("transfer", "channel-0", p.sequence), h);
        InteropCall::Acknowledge {
            packet: p.clone(),
            ack: meridian_interop::Acknowledgement::Success(vec![1]),
            proof_height: h,
            proof,
        }
    };
    let events = a.ok(
        &user(RELAYER),
        relay(vec![
            ack_call(&packets[0]),
            ack_call(&packets[1]),
            ack_call(&packets[0]),
        ]),
    );
    assert_eq!(outcomes(&events), vec!["ok", "ok", codes::NO_COMMITMENT]);
    assert!(a
        .get(&paths::commitment(
            "transfer",
            "channel-0",
            packets[2].sequence
        ))
        .is_some());
}

#[test]
fn only_permissionless_relayer_messages_may_be_carried() {
    let Link { mut a, b } = Link::open(Ordering::Unordered);
    fund(&mut a, "GOLD", &user(7), 1_000);
    let to = b.addr(&user(8));
    let transfer = InteropCall::Transfer {
        channel: "channel-0".into(),
        symbol: "GOLD".into(),
        amount: 1,
        receiver: to,
        timeout_height: b.height() + 10,
        timeout_timestamp_ms: 0,
        memo: String::new(),
    };
    let gated = InteropCall::AllowContract {
        target: "counter".into(),
    };
    for bad in [
        relay(vec![]),
        relay(vec![transfer.clone()]),
        relay(vec![gated]),
        relay(vec![InteropCall::Relay {
            messages: vec![transfer],
        }]),
        relay(vec![
            InteropCall::AllowContract {
                target: "counter".into()
            };
            MAX_RELAY_MESSAGES + 1
        ]),
    ] {
        a.fails(&user(RELAYER), bad, codes::BAD_ARGS);
    }
    // Garbage after the messages, and a message whose own arguments are malformed.
    let (h, update) = update_call(&b, &mut a);
    let mut call = relay(vec![update]);
    call.args.push(0);
    a.fails(&user(RELAYER), call.clone(), codes::BAD_ARGS);
    call.args.pop();
    let n = call.args.len();
    call.args.truncate(n - 3);
    a.fails(&user(RELAYER), call, codes::BAD_ARGS);
    assert!(h > 0);
}
