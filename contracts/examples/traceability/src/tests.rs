//! Native tests of the traceability contract through the SDK's mock host.

use meridian_contract_sdk::testing::{addr, EntryKind, MockHost};
use meridian_contract_sdk::Address;
use proptest::prelude::*;

use super::*;

/// The README's deploy name.
const NAME: &str = "food_trace";

fn admin() -> Address {
    addr("admin")
}

/// (label, role) of the registered participants.
const PEOPLE: [(&str, Role); 8] = [
    ("farm", Role::Producer),
    ("farm2", Role::Producer),
    ("abattoir", Role::Processor),
    ("packer", Role::Processor),
    ("truck", Role::Logistics),
    ("warehouse", Role::Logistics),
    ("shop", Role::Retailer),
    ("shop2", Role::Retailer),
];

fn h32(label: &str) -> Hash32 {
    Hash32(meridian_contract_sdk::testing::HashSuite::Sha256.hash(label.as_bytes()))
}

fn setup() -> MockHost {
    let mut h = MockHost::new(NAME, ENTRY_POINTS);
    h.set_caller(admin());
    h.instantiate(&InstantiateMsg {}).expect("instantiate");
    for (label, role) in PEOPLE {
        exec(
            &mut h,
            admin(),
            &ExecuteMsg::Register {
                address: addr(label),
                role,
                name: format!("{label} Ltd"),
            },
        )
        .unwrap();
    }
    h
}

fn exec(h: &mut MockHost, who: Address, msg: &ExecuteMsg) -> Result<Option<StepResponse>, String> {
    h.set_caller(who);
    h.execute(msg)
        .map(|r| r.json::<Option<StepResponse>>())
        .map_err(|e| e.code)
}

fn err<T>(code: &str) -> Result<T, String> {
    Err(format!("{NAME}.{code}"))
}

fn create(h: &mut MockHost, who: &str, lot: &str) -> Result<Option<StepResponse>, String> {
    exec(
        h,
        addr(who),
        &ExecuteMsg::CreateLot {
            lot_id: lot.into(),
            product: "Beef, 200 kg".into(),
            location: format!("{who} gate"),
            data_hash: h32(&format!("{lot} by {who}")),
        },
    )
}

fn receive(h: &mut MockHost, who: &str, lot: &str) -> Result<Option<StepResponse>, String> {
    exec(
        h,
        addr(who),
        &ExecuteMsg::Receive {
            lot_id: lot.into(),
            location: format!("{who} dock"),
            data_hash: h32(&format!("{lot} at {who}")),
        },
    )
}

fn trail_page(h: &MockHost, lot: &str, start_after: Option<u32>, limit: u32) -> TrailResponse {
    h.query(&QueryMsg::Trail {
        lot_id: lot.into(),
        start_after,
        limit: Some(limit),
    })
    .expect("trail")
}

/// The whole trail through pages of `page`.
fn trail(h: &MockHost, lot: &str, page: u32) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    loop {
        let r = trail_page(h, lot, out.last().map(|s| s.seq), page);
        assert!(r.steps.len() <= page as usize);
        if r.steps.is_empty() {
            assert_eq!(r.total as usize, out.len());
            return out;
        }
        out.extend(r.steps);
    }
}

fn lot(h: &MockHost, lot_id: &str) -> Lot {
    h.query(&QueryMsg::Lot {
        lot_id: lot_id.into(),
    })
    .expect("lot")
}

#[test]
fn full_chain_records_every_step_in_order() {
    let mut h = setup();
    let mut t = 1_700_000_000_000;
    let chain = [
        "farm",
        "abattoir",
        "packer",
        "truck",
        "warehouse",
        "truck",
        "shop",
    ];
    for (i, who) in chain.iter().enumerate() {
        t += 3_600_000;
        h.set_block(10 + i as u64, t);
        h.set_tx_hash([i as u8; 32]);
        let r = if i == 0 {
            create(&mut h, who, "LOT-2024:001")
        } else {
            receive(&mut h, who, "LOT-2024:001")
        };
        assert_eq!(
            r,
            Ok(Some(StepResponse {
                lot_id: "LOT-2024:001".into(),
                seq: i as u32
            })),
            "{who}"
        );
    }
    let steps = trail(&h, "LOT-2024:001", 3);
    assert_eq!(steps, trail(&h, "LOT-2024:001", 100), "paging is lossless");
    assert_eq!(steps.len(), chain.len());
    for (i, s) in steps.iter().enumerate() {
        assert_eq!(s.seq as usize, i);
        assert_eq!(s.holder, addr(chain[i]));
        assert_eq!(
            s.location,
            format!("{} {}", chain[i], if i == 0 { "gate" } else { "dock" })
        );
        assert_eq!(s.height, 10 + i as u64);
        assert_eq!(s.time_ms, 1_700_000_000_000 + 3_600_000 * (i as u64 + 1));
        assert_eq!(s.tx_hash, Hash32([i as u8; 32]));
    }
    let roles: Vec<Role> = steps.iter().map(|s| s.role).collect();
    use Role::*;
    assert_eq!(
        roles,
        [Producer, Processor, Processor, Logistics, Logistics, Logistics, Retailer]
    );
    let l = lot(&h, "LOT-2024:001");
    assert_eq!(
        (l.holder, l.holder_role, l.producer, l.steps),
        (addr("shop"), Retailer, addr("farm"), 7)
    );

    // The retailer closes the trail.
    assert_eq!(
        receive(&mut h, "shop2", "LOT-2024:001"),
        err(codes::LOT_CLOSED)
    );
    assert_eq!(
        receive(&mut h, "truck", "LOT-2024:001"),
        err(codes::LOT_CLOSED)
    );

    let events = h.events();
    let custody: Vec<&str> = events
        .iter()
        .map(|e| e.kind.as_str())
        .filter(|k| !k.ends_with(".registered"))
        .collect();
    assert_eq!(custody[0], "food_trace.lot_created");
    assert!(custody[1..].iter().all(|k| *k == "food_trace.custody"));
    assert_eq!(custody.len(), 7);
    let last: CustodyEvent = events.last().unwrap().json();
    assert_eq!(
        last,
        CustodyEvent {
            lot_id: "LOT-2024:001".into(),
            seq: 6,
            from: Some(addr("truck")),
            to: addr("shop"),
            role: Retailer,
            location: "shop dock".into(),
            data_hash: h32("LOT-2024:001 at shop"),
        }
    );
}

#[test]
fn custody_rules_table_is_exhaustive() {
    use Role::*;
    // A holder of each role, and a different participant of each role to take over.
    let path: [(Role, &[&str]); 4] = [
        (Producer, &[]),
        (Processor, &["abattoir"]),
        (Logistics, &["abattoir", "truck"]),
        (Retailer, &["abattoir", "truck", "shop"]),
    ];
    let taker = |r: Role| match r {
        Producer => "farm2",
        Processor => "packer",
        Logistics => "warehouse",
        Retailer => "shop2",
    };
    for (holder_role, to_reach) in path {
        for next in [Producer, Processor, Logistics, Retailer] {
            let mut h = setup();
            create(&mut h, "farm", "L1").unwrap();
            for who in to_reach {
                receive(&mut h, who, "L1").unwrap();
            }
            assert_eq!(lot(&h, "L1").holder_role, holder_role);
            let expected: Result<(), &str> = match (holder_role, next) {
                (_, Producer) => Err(codes::WRONG_ROLE),
                (Retailer, _) => Err(codes::LOT_CLOSED),
                (Producer, Processor)
                | (Processor, Processor | Logistics)
                | (Logistics, Logistics | Retailer) => Ok(()),
                _ => Err(codes::OUT_OF_ORDER),
            };
            assert_eq!(
                expected.is_ok(),
                holder_role.successors().contains(&next),
                "the table above is Role::successors"
            );
            let got = receive(&mut h, taker(next), "L1").map(|_| ());
            assert_eq!(
                got,
                expected.map_err(|c| format!("{NAME}.{c}")),
                "{holder_role:?} -> {next:?}"
            );
            let steps = lot(&h, "L1").steps as usize;
            assert_eq!(steps, to_reach.len() + 1 + usize::from(got.is_ok()));
        }
    }
}

#[test]
fn refusals_have_typed_codes_and_change_nothing() {
    let mut h = setup();
    // Registration is admin-only and once per address.
    let reg = |role| ExecuteMsg::Register {
        address: addr("newcomer"),
        role,
        name: "New".into(),
    };
    assert_eq!(
        exec(&mut h, addr("farm"), &reg(Role::Retailer)),
        err(codes::UNAUTHORIZED)
    );
    assert_eq!(
        exec(
            &mut h,
            admin(),
            &ExecuteMsg::Register {
                address: addr("farm"),
                role: Role::Retailer,
                name: "again".into()
            }
        ),
        err(codes::ALREADY_REGISTERED)
    );
    for bad in [String::new(), "x".repeat(MAX_TEXT_LEN + 1), "a\nb".into()] {
        let msg = ExecuteMsg::Register {
            address: addr("newcomer"),
            role: Role::Retailer,
            name: bad,
        };
        assert_eq!(exec(&mut h, admin(), &msg), err(codes::INVALID_TEXT));
    }
    assert_eq!(
        exec(
            &mut h,
            addr("farm"),
            &ExecuteMsg::Revoke {
                address: addr("shop")
            }
        ),
        err(codes::UNAUTHORIZED)
    );
    assert_eq!(
        exec(
            &mut h,
            admin(),
            &ExecuteMsg::Revoke {
                address: addr("nobody")
            }
        ),
        err(codes::NOT_REGISTERED)
    );

    // Lots.
    assert_eq!(create(&mut h, "nobody", "L1"), err(codes::NOT_REGISTERED));
    assert_eq!(create(&mut h, "abattoir", "L1"), err(codes::WRONG_ROLE));
    assert_eq!(create(&mut h, "shop", "L1"), err(codes::WRONG_ROLE));
    for bad in ["", "has space", "slash/no", &"x".repeat(MAX_LOT_ID_LEN + 1)] {
        assert_eq!(
            create(&mut h, "farm", bad),
            err(codes::INVALID_LOT_ID),
            "{bad:?}"
        );
    }
    create(&mut h, "farm", "L1").unwrap();
    assert_eq!(create(&mut h, "farm2", "L1"), err(codes::LOT_EXISTS));
    assert_eq!(receive(&mut h, "abattoir", "L2"), err(codes::LOT_NOT_FOUND));
    assert_eq!(receive(&mut h, "farm2", "L1"), err(codes::WRONG_ROLE));
    assert_eq!(receive(&mut h, "nobody", "L1"), err(codes::NOT_REGISTERED));
    // Skipping stages.
    assert_eq!(receive(&mut h, "truck", "L1"), err(codes::OUT_OF_ORDER));
    assert_eq!(receive(&mut h, "shop", "L1"), err(codes::OUT_OF_ORDER));
    receive(&mut h, "abattoir", "L1").unwrap();
    assert_eq!(
        receive(&mut h, "abattoir", "L1"),
        err(codes::ALREADY_HOLDER)
    );
    assert_eq!(receive(&mut h, "shop", "L1"), err(codes::OUT_OF_ORDER));
    receive(&mut h, "truck", "L1").unwrap();
    // Going back.
    assert_eq!(receive(&mut h, "packer", "L1"), err(codes::OUT_OF_ORDER));
    assert_eq!(
        exec(
            &mut h,
            addr("shop"),
            &ExecuteMsg::Receive {
                lot_id: "L1".into(),
                location: String::new(),
                data_hash: h32("x")
            }
        ),
        err(codes::INVALID_TEXT)
    );
    assert_eq!(lot(&h, "L1").steps, 3, "refused steps are not recorded");

    // A revoked participant can no longer act; its past steps stay.
    let events_before = h.events().len();
    exec(
        &mut h,
        admin(),
        &ExecuteMsg::Revoke {
            address: addr("shop"),
        },
    )
    .unwrap();
    assert_eq!(h.events().len(), events_before + 1);
    assert_eq!(h.events().last().unwrap().kind, "food_trace.revoked");
    assert_eq!(receive(&mut h, "shop", "L1"), err(codes::REVOKED));
    assert_eq!(
        exec(
            &mut h,
            admin(),
            &ExecuteMsg::Revoke {
                address: addr("shop")
            }
        ),
        err(codes::REVOKED)
    );
    let p: Participant = h
        .query(&QueryMsg::Participant {
            address: addr("shop"),
        })
        .unwrap();
    assert!(!p.active);
    receive(&mut h, "shop2", "L1").unwrap();
    assert_eq!(trail(&h, "L1", 2).len(), 4);
}

#[test]
fn trails_of_different_lots_do_not_mix_and_page_by_range() {
    let mut h = setup();
    // "L1" is a prefix of "L10": the length-prefixed key keeps their trails apart.
    create(&mut h, "farm", "L1").unwrap();
    create(&mut h, "farm2", "L10").unwrap();
    receive(&mut h, "abattoir", "L10").unwrap();
    receive(&mut h, "packer", "L1").unwrap();
    receive(&mut h, "abattoir", "L1").unwrap();
    let l1: Vec<Address> = trail(&h, "L1", 1).iter().map(|s| s.holder).collect();
    let l10: Vec<Address> = trail(&h, "L10", 1).iter().map(|s| s.holder).collect();
    assert_eq!(l1, [addr("farm"), addr("packer"), addr("abattoir")]);
    assert_eq!(l10, [addr("farm2"), addr("abattoir")]);

    let p = trail_page(&h, "L1", Some(0), 1);
    assert_eq!((p.total, p.steps.len(), p.steps[0].seq), (3, 1, 1));
    assert!(trail_page(&h, "L1", Some(2), 10).steps.is_empty());
    assert!(trail_page(&h, "L1", Some(u32::MAX), 10).steps.is_empty());
    let e = h
        .query::<TrailResponse>(&QueryMsg::Trail {
            lot_id: "L2".into(),
            start_after: None,
            limit: None,
        })
        .unwrap_err();
    assert_eq!(e.code, "food_trace.lot_not_found");

    // Anyone queries; the lots and participants list in key order.
    h.set_caller(addr("consumer"));
    let lots: LotsResponse = h
        .query(&QueryMsg::Lots {
            start_after: None,
            limit: None,
        })
        .unwrap();
    assert_eq!(
        lots.lots
            .iter()
            .map(|l| l.lot_id.as_str())
            .collect::<Vec<_>>(),
        ["L1", "L10"]
    );
    let ps: ParticipantsResponse = h
        .query(&QueryMsg::Participants {
            start_after: None,
            limit: Some(100),
        })
        .unwrap();
    assert_eq!(ps.participants.len(), PEOPLE.len());
    let cfg: ConfigResponse = h.query(&QueryMsg::Config {}).unwrap();
    assert_eq!(cfg.admin, admin());
    // Wire format.
    let raw = h
        .call(
            NAME,
            EntryKind::Query,
            br#"{"trail":{"lot_id":"L10","limit":1}}"#,
        )
        .unwrap()
        .data;
    let raw = String::from_utf8(raw).unwrap();
    assert!(
        raw.starts_with(r#"{"lot_id":"L10","total":2,"steps":[{"seq":0,"#),
        "{raw}"
    );
    assert!(raw.contains(r#""role":"producer""#), "{raw}");
}

/// Random take-over attempts by random participants on two lots: whatever is accepted, every
/// trail reads `producer, processor+, logistics+, retailer?` (as a prefix), consecutive holders
/// differ, seqs are 0..n and heights never decrease.
fn run_random(ops: &[(u8, u8, u8)]) {
    let mut h = setup();
    create(&mut h, "farm", "A").unwrap();
    create(&mut h, "farm2", "B").unwrap();
    let mut height = 1;
    for &(who, lot_i, dh) in ops {
        height += u64::from(dh % 3);
        h.set_block(height, height * 1000);
        let (label, _) = PEOPLE[usize::from(who) % PEOPLE.len()];
        let _ = receive(&mut h, label, if lot_i % 2 == 0 { "A" } else { "B" });
    }
    for l in ["A", "B"] {
        let steps = trail(&h, l, 7);
        let rank = |r: Role| r as u8;
        assert_eq!(steps[0].role, Role::Producer);
        for (i, w) in steps.windows(2).enumerate() {
            assert_eq!(w[0].seq as usize, i);
            assert_eq!(w[1].seq, w[0].seq + 1);
            assert_ne!(w[0].holder, w[1].holder);
            assert!(w[0].height <= w[1].height);
            let (a, b) = (rank(w[0].role), rank(w[1].role));
            assert!(
                b == a + 1 || (b == a && matches!(w[0].role, Role::Processor | Role::Logistics)),
                "{:?} -> {:?}",
                w[0].role,
                w[1].role
            );
        }
        let lot = lot(&h, l);
        let last = steps.last().unwrap();
        assert_eq!((lot.holder, lot.holder_role), (last.holder, last.role));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_take_overs_keep_the_trail_order(ops in prop::collection::vec(any::<(u8, u8, u8)>(), 1..60)) {
        run_random(&ops);
    }
}
