//! Main chain / side chain data exchange (docs/spec/interop.md §17): region A is the side
//! chain, region B the main chain tracking it through its light client. Records travel on an
//! ordered `sidechain` channel: they arrive in order and are stored under
//! `interop/sidechain/{channel}/{seq}`; an out-of-order delivery and a replay are refused; a
//! timeout closes the channel; unordered `sidechain` channels cannot be opened.

mod common;

use common::*;
use meridian_interop::{codes, paths, Acknowledgement, Ordering, Packet};
use meridian_interop_module::sidechain::{record_key, SideData, VERSION};
use meridian_interop_module::{InteropCall, InteropEvent};
use meridian_types::decode_exact;

const SUBMITTER: u8 = 9;

fn send_data(a: &mut Region, channel: &str, key: &str, value: &str, timeout_height: u64) -> Packet {
    let events = a.ok(
        &user(SUBMITTER),
        InteropCall::SendData {
            channel: channel.into(),
            key: key.as_bytes().to_vec(),
            value: value.as_bytes().to_vec(),
            timeout_height,
            timeout_timestamp_ms: 0,
        }
        .into_call(),
    );
    let mut p = sent_packets(&events);
    assert_eq!(p.len(), 1);
    p.remove(0)
}

fn open() -> (Region, Region, String, String) {
    let mut link = Link::open(Ordering::Unordered);
    let (ca, cb) = link.open_channel("sidechain", VERSION, Ordering::Ordered);
    (link.a, link.b, ca, cb)
}

#[test]
fn side_chain_records_arrive_in_order_and_are_recorded() {
    let (mut side, mut main, ca, cb) = open();
    let far = main.height() + 1000;
    let p1 = send_data(&mut side, &ca, "invoice/1", "amount=100", far);
    let p2 = send_data(&mut side, &ca, "invoice/2", "amount=200", far);
    let p3 = send_data(&mut side, &ca, "invoice/1", "amount=150", far);
    assert_eq!([p1.sequence, p2.sequence, p3.sequence], [1, 2, 3]);

    // The relayer tries 2 before 1: refused, nothing recorded.
    let r = deliver(&side, &mut main, &p2);
    assert_eq!(r.code, codes::OUT_OF_ORDER, "{}", r.message);
    assert!(main.get(&record_key(&cb, 2)).is_none());

    for p in [&p1, &p2, &p3] {
        let r = deliver(&side, &mut main, p);
        assert_eq!(r.code, "ok", "{}", r.message);
        assert_eq!(written_ack(&r.events), Acknowledgement::Success(vec![1]));
        let data: SideData = decode_exact(&p.data).unwrap();
        let stored = main.get(&record_key(&cb, p.sequence)).expect("recorded");
        assert_eq!(decode_exact::<SideData>(&stored).unwrap(), data);
        assert_eq!(data.sender, side.addr(&user(SUBMITTER)));
        let value_hash = main.suite.hash(&data.value).0;
        assert!(interop_events(&r.events).contains(&InteropEvent::SideData {
            channel: cb.clone(),
            sequence: p.sequence,
            sender: data.sender,
            key: data.key.clone(),
            value_hash,
        }));
        // Acknowledged back on the side chain, in order.
        let r = acknowledge(&mut side, &main, p, &Acknowledgement::Success(vec![1]));
        assert_eq!(r.code, "ok", "{}", r.message);
    }
    assert_eq!(
        record_key(&cb, 3),
        format!("interop/sidechain/{cb}/3").into_bytes()
    );
    let third: SideData = decode_exact(&main.get(&record_key(&cb, 3)).unwrap()).unwrap();
    assert_eq!(third.value, b"amount=150");
    // A replay is refused.
    let r = deliver(&side, &mut main, &p1);
    assert_eq!(r.code, codes::ALREADY_RECEIVED);
}

#[test]
fn a_timeout_closes_the_ordered_channel() {
    let (mut side, mut main, ca, cb) = open();
    let p1 = send_data(&mut side, &ca, "k", "v1", main.height() + 1000);
    let p2 = send_data(&mut side, &ca, "k", "v2", main.height() + 3);
    assert_eq!(deliver(&side, &mut main, &p1).code, "ok");
    for _ in 0..4 {
        main.block(vec![], 1000);
    }
    let r = deliver(&side, &mut main, &p2);
    assert_eq!(r.code, codes::PACKET_TIMED_OUT);
    // Ordered timeout: the main chain's next expected sequence is proven (still 2).
    let h = update_client(&main, &mut side, "client-0");
    let (next, proof) = main.prove(&paths::next_sequence_recv("sidechain", &cb), h);
    let next = u64::from_be_bytes(next.unwrap().try_into().unwrap());
    assert_eq!(next, 2);
    let r = side.block(
        vec![(
            user(RELAYER),
            InteropCall::Timeout {
                packet: p2.clone(),
                proof_height: h,
                proof,
                next_sequence_recv: next,
            }
            .into_call(),
        )],
        1000,
    );
    assert_eq!(r[0].code, "ok", "{}", r[0].message);
    // The side chain's end is closed: nothing more can be sent in this stream.
    let events = side.block(
        vec![(
            user(SUBMITTER),
            InteropCall::SendData {
                channel: ca.clone(),
                key: b"k".to_vec(),
                value: b"v3".to_vec(),
                timeout_height: main.height() + 1000,
                timeout_timestamp_ms: 0,
            }
            .into_call(),
        )],
        1000,
    );
    assert_eq!(events[0].code, codes::BAD_STATE);
    assert!(main.get(&record_key(&cb, 2)).is_none());
}

#[test]
fn sidechain_channels_are_ordered_and_records_bounded() {
    let (mut side, _main, ca, _cb) = open();
    // An unordered sidechain channel cannot be opened.
    side.fails(
        &user(RELAYER),
        InteropCall::ChanOpenInit {
            port: "sidechain".into(),
            connection_id: "connection-0".into(),
            counterparty_port: "sidechain".into(),
            ordering: Ordering::Unordered,
            version: VERSION.into(),
        }
        .into_call(),
        codes::BAD_ARGS,
    );
    // Nor with another version.
    side.fails(
        &user(RELAYER),
        InteropCall::ChanOpenInit {
            port: "sidechain".into(),
            connection_id: "connection-0".into(),
            counterparty_port: "sidechain".into(),
            ordering: Ordering::Ordered,
            version: "meridian-transfer-1".into(),
        }
        .into_call(),
        codes::BAD_ARGS,
    );
    // An empty key is refused; data on the (unordered) transfer channel has no sidechain end.
    let call = |channel: &str, key: &[u8]| {
        InteropCall::SendData {
            channel: channel.into(),
            key: key.to_vec(),
            value: b"v".to_vec(),
            timeout_height: 1_000_000,
            timeout_timestamp_ms: 0,
        }
        .into_call()
    };
    side.fails(&user(SUBMITTER), call(&ca, b""), codes::BAD_ARGS);
    side.fails(
        &user(SUBMITTER),
        call("channel-0", b"k"),
        codes::UNKNOWN_CHANNEL,
    );
}
