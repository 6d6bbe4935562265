//! Governance of the interop module: on a chain with organisations, the calls that decide whom
//! to trust (creating and substituting clients, starting connection handshakes, rate limits)
//! need an alliance approval of their exact arguments, used once; and recovery of a frozen
//! client by substitution.

mod common;

use common::*;
use meridian_crypto::Suite;
use meridian_interop::{codes, paths, Misbehaviour, Ordering, SignedHeader};
use meridian_interop_module::{InteropCall, InteropEvent};
use meridian_types::HashFn;

/// Region A's validators sign a second header at `height` (a fork).
fn forge(region: &Region, height: u64) -> SignedHeader {
    let mut forged = region.signed_header(height).header;
    forged.state_root = [7; 32];
    let digest = region
        .suite
        .hash(&meridian_types::Encode::encode(&forged))
        .0;
    let all: Vec<usize> = (0..region.validators.len()).collect();
    let certificate = meridian_crypto::finality::testing::sign_finalization(
        region.chain_id.as_str(),
        &region.validators,
        &all,
        forged.view,
        digest,
    );
    SignedHeader {
        header: forged,
        certificate,
    }
}

fn client_state(region: &Region, id: &str) -> meridian_interop::ClientState {
    meridian_interop::client::decode_client(&region.get(&paths::client(id)).unwrap()).unwrap()
}

fn transfer(amount: u128, to: meridian_types::Address, timeout_height: u64) -> InteropCall {
    InteropCall::Transfer {
        channel: "channel-0".into(),
        symbol: "GOLD".into(),
        amount,
        receiver: to,
        timeout_height,
        timeout_timestamp_ms: 0,
        memo: String::new(),
    }
}

fn transfer_with(
    symbol: &str,
    amount: u128,
    to: meridian_types::Address,
    timeout: u64,
) -> InteropCall {
    let mut t = transfer(amount, to, timeout);
    if let InteropCall::Transfer { symbol: s, .. } = &mut t {
        *s = symbol.into();
    }
    t
}

fn sent(region: &mut Region, from: u8, call: InteropCall) -> meridian_interop::Packet {
    let mut p = sent_packets(&region.ok(&user(from), call.into_call()));
    assert_eq!(p.len(), 1);
    p.remove(0)
}

#[test]
fn gated_calls_need_an_approval_of_their_exact_arguments_used_once() {
    let mut a = Region::governed("region-a", Suite::Sm, 10);
    let mut b = Region::new("region-b", Suite::Intl, 50);
    assert!(a.governed && !b.governed);
    a.block(vec![], 1000);
    b.block(vec![], 1000);
    let r = user(RELAYER);
    let create = b.create_client_call();

    // Every gated call is refused without an approval (before anything else is looked at).
    let gated = [
        create.clone(),
        InteropCall::ConnOpenInit {
            client_id: "client-0".into(),
            counterparty_client_id: "client-0".into(),
        },
        InteropCall::ConnOpenTry {
            client_id: "client-0".into(),
            counterparty_client_id: "client-0".into(),
            counterparty_connection_id: "connection-0".into(),
            proof_height: 1,
            proof: vec![],
        },
        InteropCall::SubstituteClient {
            subject: "client-0".into(),
            substitute: "client-1".into(),
        },
        InteropCall::SetRateLimit {
            channel: "channel-0".into(),
            max_per_window: 100,
            window_blocks: 1000,
        },
    ];
    for call in &gated {
        assert!(call.needs_approval());
        a.fails(&r, call.clone().into_call(), codes::NOT_APPROVED);
    }
    // The ungated calls are not asked for one (they fail for their own reasons).
    a.fails(
        &r,
        InteropCall::ConnOpenAck {
            connection_id: "connection-0".into(),
            counterparty_connection_id: "connection-0".into(),
            proof_height: 1,
            proof: vec![],
        }
        .into_call(),
        codes::UNKNOWN_CONNECTION,
    );

    // Approvals that do not match: another method with the same arguments' hash, the same
    // method with the arguments hashed by the other suite, another module.
    let args = create.args();
    let own_hash = a.hash().hash(&args);
    let other_suite_hash = Suite::Intl.hash(&args).0;
    assert_ne!(own_hash, other_suite_hash);
    let near_misses = vec![
        meridian_identity_module::approved_call_key("interop", "conn_open_init", &own_hash),
        meridian_identity_module::approved_call_key("interop", "create_client", &other_suite_hash),
        meridian_identity_module::approved_call_key("bank", "create_client", &own_hash),
    ];
    a.block_with_writes(
        vec![],
        1000,
        near_misses
            .into_iter()
            .map(|k| (k, Some(vec![1])))
            .collect(),
    );
    a.fails(&r, create.clone().into_call(), codes::NOT_APPROVED);

    // Approved: it succeeds once.
    assert_eq!(
        a.approval_key(&create),
        meridian_identity_module::approved_call_key("interop", "create_client", &own_hash)
    );
    a.approve(&create);
    let events = interop_events(&a.ok(&r, create.clone().into_call()));
    assert!(
        matches!(&events[..], [InteropEvent::ClientCreated { client_id, .. }] if client_id == "client-0"),
        "{events:?}"
    );
    // The same call again: the approval was used.
    a.fails(&r, create.clone().into_call(), codes::NOT_APPROVED);
    assert!(a.get(&paths::client("client-1")).is_none());
    // Other arguments (a shorter trusting period): not approved.
    let mut other = create.clone();
    if let InteropCall::CreateClient {
        trusting_period_ms, ..
    } = &mut other
    {
        *trusting_period_ms = 12 * HOUR;
    }
    a.fails(&r, other.clone().into_call(), codes::NOT_APPROVED);
    assert!(a.get(&paths::client("client-1")).is_none());

    // A failed approved call does not use its approval: the connection on a client that does
    // not exist yet fails, and succeeds with the same approval once the client exists.
    let init = InteropCall::ConnOpenInit {
        client_id: "client-1".into(),
        counterparty_client_id: "client-0".into(),
    };
    a.approve(&init);
    a.fails(&r, init.clone().into_call(), codes::UNKNOWN_CLIENT);
    a.approve(&other);
    a.ok(&r, other.into_call());
    a.ok(&r, init.clone().into_call());
    a.fails(&r, init.into_call(), codes::NOT_APPROVED);

    // Two approved calls of different methods whose arguments encode to the same bytes (two
    // identifiers each) are two approvals: using one does not use the other.
    let init = InteropCall::ConnOpenInit {
        client_id: "client-0".into(),
        counterparty_client_id: "client-1".into(),
    };
    let substitute = InteropCall::SubstituteClient {
        subject: "client-0".into(),
        substitute: "client-1".into(),
    };
    assert_eq!(init.args(), substitute.args());
    a.approve(&init);
    a.approve(&substitute);
    a.ok(&r, init.into_call());
    // Past the approval, the substitution itself is refused: client-0 is active.
    a.fails(&r, substitute.into_call(), codes::BAD_SUBSTITUTE);

    // Rate limits: approved per exact value.
    let limit = |max| InteropCall::SetRateLimit {
        channel: "channel-0".into(),
        max_per_window: max,
        window_blocks: 1000,
    };
    a.approve(&limit(100));
    a.fails(&r, limit(200).into_call(), codes::NOT_APPROVED);
    // (Approved, it gets as far as the channel, which does not exist here.)
    a.fails(&r, limit(100).into_call(), codes::UNKNOWN_CHANNEL);

    // A chain without organisations (development mode) does not gate.
    let call = a.create_client_call();
    b.catch_up(a.time_ms);
    b.ok(&r, call.into_call());
}

/// Over a governed link: client-0 on B (tracking A) is frozen by misbehaviour evidence,
/// governance substitutes a fresh client of A for it, and packets flow again; nothing from
/// before the substitution is usable.
#[test]
fn a_frozen_client_is_recovered_by_substitution_only_with_a_client_of_the_same_chain() {
    let Link { mut a, mut b } = Link::open_governed(Ordering::Unordered);
    let r = user(RELAYER);
    let alice = user(7);
    fund(&mut a, "GOLD", &alice, 1_000);
    let bob_b = b.addr(&user(8));
    let p = sent(&mut a, 7, transfer(100, bob_b, b.height() + 1_000));
    let h = update_client(&a, &mut b, "client-0");

    // A second client of A from a later header (client-1), and a client of region C
    // (client-2, same suite and keys' kind, another chain id).
    a.block(vec![], 1000);
    let call = a.create_client_call();
    b.catch_up(a.time_ms);
    b.gated(&r, call);
    let mut c = Region::new("region-c", Suite::Sm, 90);
    c.block(vec![], 1000);
    let call = c.create_client_call();
    b.gated(&r, call);

    // An active client is not substituted.
    let recover = InteropCall::SubstituteClient {
        subject: "client-0".into(),
        substitute: "client-1".into(),
    };
    b.fails(&r, recover.clone().into_call(), codes::NOT_APPROVED);
    b.approve(&recover);
    b.fails(&r, recover.clone().into_call(), codes::BAD_SUBSTITUTE);

    // A's validators sign a fork at height h: client-0 freezes.
    let evidence = Misbehaviour {
        a: a.signed_header(h),
        b: forge(&a, h),
    };
    b.ok(
        &r,
        InteropCall::SubmitMisbehaviour {
            client_id: "client-0".into(),
            misbehaviour: evidence.clone(),
        }
        .into_call(),
    );
    assert_ne!(client_state(&b, "client-0").frozen_height, 0);
    let (_, proof) = a.prove(&paths::commitment("transfer", "channel-0", p.sequence), h);
    let recv_at_h = InteropCall::RecvPacket {
        packet: p.clone(),
        proof_height: h,
        proof,
    };
    b.fails(&r, recv_at_h.clone().into_call(), codes::CLIENT_FROZEN);

    // Not with a client of another chain, nor with itself, nor an unknown one.
    for substitute in ["client-2", "client-0"] {
        let call = InteropCall::SubstituteClient {
            subject: "client-0".into(),
            substitute: substitute.into(),
        };
        b.approve(&call);
        b.fails(&r, call.into_call(), codes::BAD_SUBSTITUTE);
    }
    let unknown = InteropCall::SubstituteClient {
        subject: "client-0".into(),
        substitute: "client-9".into(),
    };
    b.approve(&unknown);
    b.fails(&r, unknown.into_call(), codes::UNKNOWN_CLIENT);
    assert_ne!(client_state(&b, "client-0").frozen_height, 0);

    // With client-1, under the approval voted earlier (the failed attempt did not use it).
    let events = interop_events(&b.ok(&r, recover.clone().into_call()));
    assert!(events.contains(&InteropEvent::ClientSubstituted {
        subject: "client-0".into(),
        substitute: "client-1".into(),
    }));
    let recovered = client_state(&b, "client-0");
    assert_eq!(recovered.frozen_height, 0);
    let floor = recovered.latest_height;
    assert!(floor > h);
    b.fails(&r, recover.into_call(), codes::NOT_APPROVED);

    // Proofs below the floor are refused, even at a height client-0 verified before.
    b.fails(&r, recv_at_h.into_call(), codes::NO_CONSENSUS_STATE);
    // Old evidence (from below the floor) cannot freeze the recovered client again, and
    // neither header is accepted as an update.
    b.fails(
        &r,
        InteropCall::SubmitMisbehaviour {
            client_id: "client-0".into(),
            misbehaviour: evidence.clone(),
        }
        .into_call(),
        codes::STALE_HEADER,
    );
    for header in [evidence.a.clone(), evidence.b.clone()] {
        b.fails(
            &r,
            InteropCall::UpdateClient {
                client_id: "client-0".into(),
                update: meridian_interop::HeaderUpdate {
                    signed: header,
                    next_validators: None,
                },
            }
            .into_call(),
            codes::STALE_HEADER,
        );
    }
    assert_eq!(client_state(&b, "client-0").frozen_height, 0);

    // Packets flow again both ways through the recovered client.
    let r1 = deliver(&a, &mut b, &p);
    assert_eq!(r1.code, "ok", "{}", r1.message);
    let ack = written_ack(&r1.events);
    assert_eq!(acknowledge(&mut a, &b, &p, &ack).code, "ok");
    let voucher = meridian_interop::transfer::voucher_symbol(b.suite, "transfer/channel-0/GOLD");
    assert_eq!(b.balance(&voucher, &bob_b), 100);
    let alice_a = a.addr(&alice);
    let back = sent(
        &mut b,
        8,
        transfer_with(&voucher, 30, alice_a, a.height() + 1_000),
    );
    let r2 = deliver(&b, &mut a, &back);
    assert_eq!(r2.code, "ok", "{}", r2.message);
    let ack = written_ack(&r2.events);
    let r3 = acknowledge(&mut b, &a, &back, &ack);
    assert_eq!(r3.code, "ok", "{}", r3.message);
    assert_eq!(a.balance("GOLD", &alice_a), 930);
    // New evidence above the floor still freezes it.
    a.block(vec![], 1000);
    let h2 = update_client(&a, &mut b, "client-0");
    b.ok(
        &r,
        InteropCall::SubmitMisbehaviour {
            client_id: "client-0".into(),
            misbehaviour: Misbehaviour {
                a: a.signed_header(h2),
                b: forge(&a, h2),
            },
        }
        .into_call(),
    );
    assert_eq!(client_state(&b, "client-0").frozen_height, h2);
}

/// A client that was fooled by a forged header (stored) and then frozen by the honest header
/// at the same height: after the substitution, replaying that honest header must not freeze
/// it again.
#[test]
fn headers_below_the_substitution_floor_cannot_freeze_the_recovered_client() {
    let Link { mut a, mut b } = Link::open(Ordering::Unordered);
    let r = user(RELAYER);
    a.block(vec![], 1000);
    let h = a.height();
    let forged = forge(&a, h);
    let update = |signed: SignedHeader| {
        InteropCall::UpdateClient {
            client_id: "client-0".into(),
            update: meridian_interop::HeaderUpdate {
                signed,
                next_validators: None,
            },
        }
        .into_call()
    };
    // The forged header is accepted (validly signed), the honest one then freezes the client.
    b.ok(&r, update(forged.clone()));
    assert_eq!(client_state(&b, "client-0").latest_height, h);
    b.ok(&r, update(a.signed_header(h)));
    assert_eq!(client_state(&b, "client-0").frozen_height, h);

    a.block(vec![], 1000);
    let call = a.create_client_call();
    b.ok(&r, call.into_call()); // client-1 (development mode: no approval needed)
    b.ok(
        &r,
        InteropCall::SubstituteClient {
            subject: "client-0".into(),
            substitute: "client-1".into(),
        }
        .into_call(),
    );
    assert_eq!(client_state(&b, "client-0").frozen_height, 0);
    // Replays of either header of the old fork: refused, the client stays active.
    b.fails(&r, update(a.signed_header(h)), codes::STALE_HEADER);
    b.fails(&r, update(forged), codes::STALE_HEADER);
    assert_eq!(client_state(&b, "client-0").frozen_height, 0);
    // And the recovered client carries a packet.
    let alice = user(7);
    fund(&mut a, "GOLD", &alice, 10);
    let p = sent(&mut a, 7, transfer(10, b.addr(&user(8)), b.height() + 100));
    let got = deliver(&a, &mut b, &p);
    assert_eq!(got.code, "ok", "{}", got.message);
}
