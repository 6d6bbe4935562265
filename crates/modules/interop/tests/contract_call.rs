//! Cross-chain contract calls (docs/spec/interop.md §16) between two regions, with the real
//! contract module and VM on both: the SDK's counter example on A increments the counter on B
//! through a `contract` channel and learns the outcome through its `interop_ack` entry point.
//! Covered: success ack with the target's return data; a target not on B's allowlist and a
//! failing target give error acks (B's state untouched) and A's contract is told; a user
//! cannot send as a contract; a timeout notifies A's contract; the allowlist is gated by
//! governance on a governed chain.

mod common;

use common::*;
use meridian_interop::{Acknowledgement, Ordering, Packet};
use meridian_interop_module::contract_call::{
    ContractPacket, CONTRACT_NOT_ALLOWED, NOT_SOURCE_CONTRACT, VERSION,
};
use meridian_interop_module::{InteropCall, InteropEvent};
use meridian_types::decode_exact;
use serde_json::{json, Value};

const ADMIN: u8 = 1;
const ALICE: u8 = 7;

struct Setup {
    a: Region,
    b: Region,
    /// The `contract` channel on A.
    ca: String,
}

fn setup(link: Link, allow: bool) -> Setup {
    let mut link = link;
    let (ca, _cb) = link.open_channel("contract", VERSION, Ordering::Unordered);
    let Link { mut a, mut b } = link;
    let code = meridian_wasm_build::example("contract-counter");
    a.deploy(&user(ADMIN), "counter", &code, r#"{"start":0}"#);
    b.deploy(&user(ADMIN), "counter", &code, r#"{"start":10}"#);
    if allow {
        b.gated(
            &user(ADMIN),
            InteropCall::AllowContract {
                target: "counter".into(),
            },
        );
    }
    Setup { a, b, ca }
}

/// Alice asks A's counter to add `by` to B's counter; returns the packet it sent.
fn remote_increment(s: &mut Setup, by: u64, timeout_height: u64, timeout_ms: u64) -> Packet {
    let msg = json!({"remote_increment": {
        "channel": s.ca, "target": "counter", "by": by,
        "timeout_height": timeout_height, "timeout_timestamp_ms": timeout_ms,
    }});
    let events = s.a.ok(
        &user(ALICE),
        Region::contract_call("counter", &msg.to_string()),
    );
    let mut p = sent_packets(&events);
    assert_eq!(p.len(), 1);
    p.remove(0)
}

fn remote_record(r: &Region, channel: &str, sequence: u64) -> Value {
    r.query(
        "counter",
        &json!({"remote": {"channel": channel, "sequence": sequence}}).to_string(),
    )
}

fn count(r: &Region) -> u64 {
    r.query("counter", r#"{"get":{}}"#)["count"]
        .as_u64()
        .unwrap()
}

fn contract_acks(events: &[meridian_types::Event]) -> Vec<InteropEvent> {
    interop_events(events)
        .into_iter()
        .filter(|e| matches!(e, InteropEvent::ContractAck { .. }))
        .collect()
}

#[test]
fn a_contract_calls_an_allowlisted_contract_and_gets_the_ack() {
    let mut s = setup(Link::open(Ordering::Unordered), true);
    let far = s.a.time_ms + HOUR;
    let p = remote_increment(&mut s, 5, 0, far);
    assert_eq!(
        (p.source_port.as_str(), p.dest_port.as_str()),
        ("contract", "contract")
    );
    let data: ContractPacket = decode_exact(&p.data).unwrap();
    assert_eq!(data.source_contract, "counter");
    assert_eq!(data.target_contract, "counter");
    assert_eq!(data.msg, br#"{"increment":{"by":5}}"#);
    assert_eq!(remote_record(&s.a, &s.ca, p.sequence)["status"], "pending");

    let r = deliver(&s.a, &mut s.b, &p);
    assert_eq!(r.code, "ok", "{}", r.message);
    let ack = written_ack(&r.events);
    assert_eq!(ack, Acknowledgement::Success(br#"{"count":15}"#.to_vec()));
    assert_eq!(count(&s.b), 15);
    // B's counter saw the interop module's account as its caller.
    let ev = r
        .events
        .iter()
        .find(|e| e.kind == "counter.incremented")
        .expect("the target ran");
    let ev: Value = serde_json::from_slice(&ev.data).unwrap();
    let module = meridian_interop_module::module_address(&s.b.hash());
    assert_eq!(ev["by_caller"], format!("0x{}", module.to_hex()));

    let r = acknowledge(&mut s.a, &s.b, &p, &ack);
    assert_eq!(r.code, "ok", "{}", r.message);
    assert_eq!(
        contract_acks(&r.events),
        [InteropEvent::ContractAck {
            channel: s.ca.clone(),
            sequence: p.sequence,
            contract: "counter".into(),
            outcome: 0,
            delivered: true,
            error: String::new(),
        }]
    );
    let rec = remote_record(&s.a, &s.ca, p.sequence);
    assert_eq!(rec["status"], "ok");
    assert_eq!(rec["remote_count"], 15);
    assert_eq!(count(&s.a), 0, "A's own count is untouched");
    // Settled once: a second acknowledgement finds no commitment.
    let again = acknowledge(&mut s.a, &s.b, &p, &ack);
    assert_eq!(again.code, meridian_interop::codes::NO_COMMITMENT);
}

#[test]
fn a_target_not_on_the_allowlist_or_failing_gives_an_error_ack_and_a_is_told() {
    let mut s = setup(Link::open(Ordering::Unordered), false);
    let far = s.a.time_ms + HOUR;
    let p = remote_increment(&mut s, 5, 0, far);
    let r = deliver(&s.a, &mut s.b, &p);
    assert_eq!(r.code, "ok", "{}", r.message);
    let ack = written_ack(&r.events);
    match &ack {
        Acknowledgement::Error(e) => assert!(e.starts_with(CONTRACT_NOT_ALLOWED), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(count(&s.b), 10, "the target did not run");
    let r = acknowledge(&mut s.a, &s.b, &p, &ack);
    assert_eq!(r.code, "ok", "{}", r.message);
    let rec = remote_record(&s.a, &s.ca, p.sequence);
    assert_eq!(rec["status"], "error");
    assert!(rec["error"]
        .as_str()
        .unwrap()
        .starts_with(CONTRACT_NOT_ALLOWED));

    // Allowlisted now, but the target fails (its count would overflow): error ack, and
    // nothing the target did is kept on B.
    s.b.gated(
        &user(ADMIN),
        InteropCall::AllowContract {
            target: "counter".into(),
        },
    );
    let p = remote_increment(&mut s, u64::MAX, 0, far);
    let r = deliver(&s.a, &mut s.b, &p);
    assert_eq!(r.code, "ok", "{}", r.message);
    let ack = written_ack(&r.events);
    assert!(
        matches!(&ack, Acknowledgement::Error(e) if e.starts_with("counter.overflow")),
        "{ack:?}"
    );
    assert!(!r.events.iter().any(|e| e.module == "contract"));
    assert_eq!(count(&s.b), 10);
    acknowledge(&mut s.a, &s.b, &p, &ack);
    assert_eq!(remote_record(&s.a, &s.ca, p.sequence)["status"], "error");

    // Governance takes the permission back.
    s.b.gated(
        &user(ADMIN),
        InteropCall::DisallowContract {
            target: "counter".into(),
        },
    );
    let p = remote_increment(&mut s, 1, 0, far);
    let r = deliver(&s.a, &mut s.b, &p);
    assert!(
        matches!(written_ack(&r.events), Acknowledgement::Error(e) if e.starts_with(CONTRACT_NOT_ALLOWED))
    );
}

#[test]
fn nobody_but_the_contract_sends_as_the_contract() {
    let mut s = setup(Link::open(Ordering::Unordered), true);
    let far = s.a.time_ms + HOUR;
    let spoof = |source: &str| InteropCall::SendContractCall {
        channel: s.ca.clone(),
        source_contract: source.into(),
        target_contract: "counter".into(),
        msg: br#"{"increment":{"by":1000}}"#.to_vec(),
        timeout_height: 0,
        timeout_timestamp_ms: far,
    };
    let (deployed, unknown) = (spoof("counter"), spoof("ghost"));
    // A user names a deployed contract, or one that does not exist: refused, no packet.
    s.a.fails(&user(ALICE), deployed.into_call(), NOT_SOURCE_CONTRACT);
    s.a.fails(&user(ALICE), unknown.into_call(), NOT_SOURCE_CONTRACT);
    assert!(s
        .a
        .get(&meridian_interop::paths::commitment("contract", &s.ca, 1))
        .is_none());
    // The real contract's next packet is sequence 1.
    let p = remote_increment(&mut s, 1, 0, far);
    assert_eq!(p.sequence, 1);
}

#[test]
fn a_timeout_notifies_the_source_contract() {
    let mut s = setup(Link::open(Ordering::Unordered), true);
    let timeout_height = s.b.height() + 2;
    let p = remote_increment(&mut s, 3, timeout_height, 0);
    // Nobody relays in time; B moves past the timeout height.
    for _ in 0..3 {
        s.b.block(vec![], 1000);
    }
    let r = deliver(&s.a, &mut s.b, &p);
    assert_eq!(r.code, meridian_interop::codes::PACKET_TIMED_OUT);
    let r = timeout(&mut s.a, &s.b, &p);
    assert_eq!(r.code, "ok", "{}", r.message);
    assert!(matches!(
        &contract_acks(&r.events)[..],
        [InteropEvent::ContractAck {
            outcome: 2,
            delivered: true,
            ..
        }]
    ));
    assert_eq!(remote_record(&s.a, &s.ca, p.sequence)["status"], "timeout");
    assert_eq!(count(&s.b), 10);
}

#[test]
fn the_allowlist_needs_governance_on_a_governed_chain() {
    let mut link = Link::open_governed(Ordering::Unordered);
    let allow = InteropCall::AllowContract {
        target: "counter".into(),
    };
    link.b.fails(
        &user(ADMIN),
        allow.clone().into_call(),
        "interop.not_approved",
    );
    assert!(link
        .b
        .get(&meridian_interop_module::contract_call::allowed_key(
            "counter"
        ))
        .is_none());
    link.b.gated(&user(ADMIN), allow);
    assert!(link
        .b
        .get(&meridian_interop_module::contract_call::allowed_key(
            "counter"
        ))
        .is_some());
    // Bad names are refused.
    link.b.approve(&InteropCall::AllowContract {
        target: "Bad-Name".into(),
    });
    link.b.fails(
        &user(ADMIN),
        InteropCall::AllowContract {
            target: "Bad-Name".into(),
        }
        .into_call(),
        "interop.bad_args",
    );
    // A contract channel needs its version.
    link.a.fails(
        &user(RELAYER),
        InteropCall::ChanOpenInit {
            port: "contract".into(),
            connection_id: "connection-0".into(),
            counterparty_port: "contract".into(),
            ordering: Ordering::Unordered,
            version: "meridian-transfer-1".into(),
        }
        .into_call(),
        "interop.bad_args",
    );
}
