//! Native tests of the securitisation contract through the SDK's mock host.

use meridian_contract_sdk::serde_json::{self, json};
use meridian_contract_sdk::testing::{addr, EntryKind, HashSuite, MockHost};
use meridian_contract_sdk::Address;

use super::*;

/// The README's deploy name; `securitisation.transferred` fits the receipt's 32 bytes.
const NAME: &str = "securitisation";

fn roles() -> Roles {
    Roles {
        originator: addr("originator"),
        spv: addr("spv"),
        rating_agency: addr("rating agency"),
        trustee: addr("trustee"),
    }
}

fn everyone() -> [Address; 5] {
    let r = roles();
    [
        r.originator,
        r.spv,
        r.rating_agency,
        r.trustee,
        addr("stranger"),
    ]
}

fn pool() -> Value {
    json!({
        "type": "auto_loan_pool",
        "originator": "Meridian Bank",
        "loans": [
            {"id": "L-001", "principal": "250000", "rate_bp": 450},
            {"id": "L-002", "principal": "180000", "rate_bp": 475}
        ],
        "cut_off": "2025-06-30",
        "count": 2
    })
}

/// `pool()` as canonical JSON, by hand.
const POOL_CANONICAL: &str = r#"{"count":2,"cut_off":"2025-06-30","loans":[{"id":"L-001","principal":"250000","rate_bp":450},{"id":"L-002","principal":"180000","rate_bp":475}],"originator":"Meridian Bank","type":"auto_loan_pool"}"#;

fn setup() -> MockHost {
    let mut h = MockHost::new(NAME, ENTRY_POINTS);
    h.set_caller(addr("deployer"));
    h.instantiate(&roles()).expect("instantiate");
    h
}

fn exec(h: &mut MockHost, who: Address, msg: &ExecuteMsg) -> Result<DealResponse, String> {
    h.set_caller(who);
    h.execute(msg)
        .map(|r| r.json::<DealResponse>())
        .map_err(|e| e.code)
}

fn err<T>(code: &str) -> Result<T, String> {
    Err(format!("{NAME}.{code}"))
}

fn originate(h: &mut MockHost, asset: Value) -> Result<DealResponse, String> {
    exec(h, roles().originator, &ExecuteMsg::Originate { asset })
}

fn deal(h: &MockHost, id: Hash32) -> Deal {
    h.query(&QueryMsg::Deal { deal_id: id }).expect("deal")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Transfer,
    Rate,
    Approve,
    Reject,
}

const STEPS: [Step; 4] = [Step::Transfer, Step::Rate, Step::Approve, Step::Reject];

impl Step {
    fn msg(self, deal_id: Hash32) -> ExecuteMsg {
        match self {
            Step::Transfer => ExecuteMsg::TransferToSpv { deal_id },
            Step::Rate => ExecuteMsg::Rate {
                deal_id,
                rating: "AA+".into(),
            },
            Step::Approve => ExecuteMsg::Approve { deal_id },
            Step::Reject => ExecuteMsg::Reject {
                deal_id,
                reason: "pool concentration too high".into(),
            },
        }
    }
    fn party(self) -> Address {
        let r = roles();
        match self {
            Step::Transfer => r.spv,
            Step::Rate => r.rating_agency,
            Step::Approve | Step::Reject => r.trustee,
        }
    }
}

fn step(h: &mut MockHost, id: Hash32, s: Step) -> Result<DealResponse, String> {
    exec(h, s.party(), &s.msg(id))
}

/// Originates `pool()` and drives it to `target`.
fn drive(h: &mut MockHost, target: Status) -> Hash32 {
    let id = originate(h, pool()).unwrap().deal_id;
    let path: &[Step] = match target {
        Status::Originated => &[],
        Status::TransferredToSpv => &[Step::Transfer],
        Status::Rated => &[Step::Transfer, Step::Rate],
        Status::Issued => &[Step::Transfer, Step::Rate, Step::Approve],
        Status::Rejected => &[Step::Transfer, Step::Rate, Step::Reject],
    };
    for s in path {
        step(h, id, *s).unwrap();
    }
    id
}

#[test]
fn fingerprint_is_the_hash_of_the_canonical_json() {
    let mut h = setup();
    let fp: FingerprintResponse = h.query(&QueryMsg::Fingerprint { asset: pool() }).unwrap();
    assert_eq!(fp.canonical, POOL_CANONICAL);
    assert_eq!(
        fp.deal_id,
        Hash32(HashSuite::Sha256.hash(POOL_CANONICAL.as_bytes()))
    );

    // Formatting and key order do not matter; array order and values do.
    let reordered = r#"{ "fingerprint": { "asset": {
        "loans" : [ {"rate_bp":450, "principal":"250000", "id":"L-001"},
                    {"principal":"180000","id":"L-002","rate_bp":475} ],
        "type":"auto_loan_pool", "count" : 2, "originator":"Meridian Bank",
        "cut_off":"2025-06-30" } } }"#;
    let raw = h
        .call(NAME, EntryKind::Query, reordered.as_bytes())
        .unwrap()
        .json::<FingerprintResponse>();
    assert_eq!(raw, fp);
    let mut swapped = pool();
    swapped["loans"] = json!([
        {"id": "L-002", "principal": "180000", "rate_bp": 475},
        {"id": "L-001", "principal": "250000", "rate_bp": 450}
    ]);
    let other: FingerprintResponse = h.query(&QueryMsg::Fingerprint { asset: swapped }).unwrap();
    assert_ne!(other.deal_id, fp.deal_id);

    // Escapes, unicode, negative numbers, nested sorting by UTF-8 bytes.
    let fancy = json!({"z": {"b": [true, null, -7], "a": "债券 \"A\"\n\u{1}"}, "B": 18446744073709551615u64});
    let c: FingerprintResponse = h.query(&QueryMsg::Fingerprint { asset: fancy }).unwrap();
    assert_eq!(
        c.canonical,
        "{\"B\":18446744073709551615,\"z\":{\"a\":\"债券 \\\"A\\\"\\n\\u0001\",\"b\":[true,null,-7]}}"
    );
    // The canonical form is itself valid JSON that canonicalises to itself.
    let again: Value = serde_json::from_str(&c.canonical).unwrap();
    assert_eq!(canonical_json(&again).unwrap(), c.canonical);
}

#[test]
fn the_suite_hash_is_used() {
    let mut h = setup();
    h.set_hash_suite(HashSuite::Sm3);
    let fp: FingerprintResponse = h.query(&QueryMsg::Fingerprint { asset: pool() }).unwrap();
    assert_eq!(
        fp.deal_id,
        Hash32(HashSuite::Sm3.hash(POOL_CANONICAL.as_bytes()))
    );
}

#[test]
fn the_same_asset_is_never_registered_twice() {
    let mut h = setup();
    let id = originate(&mut h, pool()).unwrap().deal_id;
    assert_eq!(
        id,
        Hash32(HashSuite::Sha256.hash(POOL_CANONICAL.as_bytes()))
    );
    // Same asset, other formatting.
    let same: Value = serde_json::from_str(
        r#"{"type":"auto_loan_pool","count":2,"cut_off":"2025-06-30","originator":"Meridian Bank",
            "loans":[{"principal":"250000","rate_bp":450,"id":"L-001"},{"id":"L-002","rate_bp":475,"principal":"180000"}]}"#,
    )
    .unwrap();
    assert_eq!(originate(&mut h, same.clone()), err(codes::DUPLICATE_ASSET));
    // Still refused once issued, and once rejected.
    for s in [Step::Transfer, Step::Rate, Step::Approve] {
        step(&mut h, id, s).unwrap();
        assert_eq!(originate(&mut h, same.clone()), err(codes::DUPLICATE_ASSET));
    }
    let mut other = pool();
    other["cut_off"] = json!("2025-07-31");
    let id2 = originate(&mut h, other.clone()).unwrap().deal_id;
    assert_ne!(id2, id);
    step(&mut h, id2, Step::Transfer).unwrap();
    step(&mut h, id2, Step::Rate).unwrap();
    step(&mut h, id2, Step::Reject).unwrap();
    assert_eq!(originate(&mut h, other), err(codes::DUPLICATE_ASSET));

    let deals: DealsResponse = h
        .query(&QueryMsg::Deals {
            start_after: None,
            limit: None,
        })
        .unwrap();
    assert_eq!(deals.deals.len(), 2);
    let found: Option<Deal> = h.query(&QueryMsg::DealByAsset { asset: same }).unwrap();
    assert_eq!(
        found.map(|d| (d.deal_id, d.status)),
        Some((id, Status::Issued))
    );
    let none: Option<Deal> = h
        .query(&QueryMsg::DealByAsset {
            asset: json!({"new": 1}),
        })
        .unwrap();
    assert_eq!(none, None);
}

#[test]
fn invalid_assets_are_refused() {
    let mut h = setup();
    let mut deep = json!(1);
    for _ in 0..=MAX_DEPTH {
        deep = json!({ "d": deep });
    }
    let cases = [
        (json!([1, 2]), codes::INVALID_ASSET),
        (json!("asset"), codes::INVALID_ASSET),
        (json!({}), codes::INVALID_ASSET),
        (json!(null), codes::INVALID_ASSET),
        (deep, codes::INVALID_ASSET),
        (
            json!({"blob": "x".repeat(MAX_ASSET_LEN)}),
            codes::INVALID_ASSET,
        ),
        (json!({"principal": 1.5}), codes::NON_INTEGER_NUMBER),
        (json!({"n": [{"x": 1e3}]}), codes::NON_INTEGER_NUMBER),
    ];
    for (asset, code) in cases {
        assert_eq!(originate(&mut h, asset), err(code));
    }
    // Beyond 64 bits the parser yields a float: refused, not rounded.
    h.set_caller(roles().originator);
    let e = h
        .call(
            NAME,
            EntryKind::Execute,
            br#"{"originate":{"asset":{"n":123456789012345678901234567890}}}"#,
        )
        .unwrap_err();
    assert_eq!(e.code, "securitisation.non_integer_number");
    // Just at the depth limit is fine.
    let mut ok = json!(1);
    for _ in 0..MAX_DEPTH {
        ok = json!({ "d": ok });
    }
    assert!(originate(&mut h, ok).is_ok());
    assert!(
        h.query::<DealsResponse>(&QueryMsg::Deals {
            start_after: None,
            limit: None
        })
        .unwrap()
        .deals
        .len()
            == 1
    );
}

#[test]
fn happy_path_records_each_signature_in_order() {
    let mut h = setup();
    let r = roles();
    h.set_block(5, 5_000);
    let id = originate(&mut h, pool()).unwrap().deal_id;
    let expect = [
        (Step::Transfer, Status::TransferredToSpv),
        (Step::Rate, Status::Rated),
        (Step::Approve, Status::Issued),
    ];
    for (i, (s, st)) in expect.iter().enumerate() {
        h.set_block(6 + i as u64, 6_000 + i as u64);
        h.set_tx_hash([i as u8 + 1; 32]);
        assert_eq!(
            step(&mut h, id, *s),
            Ok(DealResponse {
                deal_id: id,
                status: *st
            })
        );
    }
    let d = deal(&h, id);
    assert_eq!(d.status, Status::Issued);
    assert_eq!(d.rating.as_deref(), Some("AA+"));
    assert_eq!(d.asset, POOL_CANONICAL);
    let sigs: Vec<(&str, Address, u64)> = d
        .signatures
        .iter()
        .map(|s| (s.action.as_str(), s.by, s.height))
        .collect();
    assert_eq!(
        sigs,
        [
            ("originate", r.originator, 5),
            ("transfer_to_spv", r.spv, 6),
            ("rate", r.rating_agency, 7),
            ("approve", r.trustee, 8),
        ]
    );
    assert_eq!(d.signatures[3].tx_hash, Hash32([3; 32]));
    let kinds: Vec<String> = h.events().into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            "securitisation.originated",
            "securitisation.transferred",
            "securitisation.rated",
            "securitisation.issued"
        ]
    );
    let ev: DealEvent = h.events()[2].json();
    assert_eq!(ev.detail.as_deref(), Some("AA+"));
    assert_eq!(h.query::<Roles>(&QueryMsg::Roles {}).unwrap(), r);
}

#[test]
fn every_step_needs_its_own_party() {
    // Originate.
    let mut h = setup();
    for who in everyone() {
        if who != roles().originator {
            assert_eq!(
                exec(&mut h, who, &ExecuteMsg::Originate { asset: pool() }),
                err(codes::UNAUTHORIZED)
            );
        }
    }
    for s in STEPS {
        let at = match s {
            Step::Transfer => Status::Originated,
            Step::Rate => Status::TransferredToSpv,
            Step::Approve | Step::Reject => Status::Rated,
        };
        let mut h = setup();
        let id = drive(&mut h, at);
        for who in everyone() {
            if who != s.party() {
                assert_eq!(
                    exec(&mut h, who, &s.msg(id)),
                    err(codes::UNAUTHORIZED),
                    "{s:?}"
                );
            }
        }
        assert_eq!(deal(&h, id).status, at);
        assert!(step(&mut h, id, s).is_ok());
    }
}

#[test]
fn steps_only_in_order() {
    use Status::*;
    for from in [Originated, TransferredToSpv, Rated, Issued, Rejected] {
        for s in STEPS {
            let expected = match (from, s) {
                (Originated, Step::Transfer) => Ok(TransferredToSpv),
                (TransferredToSpv, Step::Rate) => Ok(Rated),
                (Rated, Step::Approve) => Ok(Issued),
                (Rated, Step::Reject) => Ok(Rejected),
                _ => Err(codes::WRONG_STATE),
            };
            let mut h = setup();
            let id = drive(&mut h, from);
            let got = step(&mut h, id, s).map(|r| r.status);
            assert_eq!(
                got,
                expected.map_err(|c| format!("{NAME}.{c}")),
                "{from:?} --{s:?}-->"
            );
        }
    }
}

#[test]
fn argument_and_setup_refusals() {
    let mut h = setup();
    let id = drive(&mut h, Status::TransferredToSpv);
    for bad in ["", "AAAAAAAAA", "A A", "Aa/1"] {
        let msg = ExecuteMsg::Rate {
            deal_id: id,
            rating: bad.into(),
        };
        assert_eq!(
            exec(&mut h, roles().rating_agency, &msg),
            err(codes::INVALID_RATING)
        );
    }
    step(&mut h, id, Step::Rate).unwrap();
    for bad in [String::new(), "r".repeat(MAX_REASON_LEN + 1)] {
        let msg = ExecuteMsg::Reject {
            deal_id: id,
            reason: bad,
        };
        assert_eq!(
            exec(&mut h, roles().trustee, &msg),
            err(codes::INVALID_REASON)
        );
    }
    assert_eq!(deal(&h, id).status, Status::Rated);
    step(&mut h, id, Step::Reject).unwrap();
    assert_eq!(
        deal(&h, id).rejection_reason.as_deref(),
        Some("pool concentration too high")
    );
    let unknown = Hash32([9; 32]);
    assert_eq!(
        step(&mut h, unknown, Step::Transfer),
        err(codes::DEAL_NOT_FOUND)
    );
    assert_eq!(
        h.query::<Deal>(&QueryMsg::Deal { deal_id: unknown })
            .unwrap_err()
            .code,
        "securitisation.deal_not_found"
    );

    let mut h2 = MockHost::new(NAME, ENTRY_POINTS);
    let mut r = roles();
    r.trustee = r.spv;
    assert_eq!(
        h2.instantiate(&r).unwrap_err().code,
        "securitisation.invalid_roles"
    );
}
