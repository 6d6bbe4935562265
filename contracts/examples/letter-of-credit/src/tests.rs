//! Native tests of the letter of credit through the SDK's mock host.

use meridian_contract_sdk::testing::{addr, BankTransfer, EntryKind, MockHost};
use meridian_contract_sdk::{Address, NotaryRecord};
use proptest::prelude::*;

use super::*;

/// The deploy name of the README; the longest event kind (`letter_of_credit.presented`)
/// fits the receipt's 32 bytes.
const NAME: &str = "letter_of_credit";
const USD: &str = "USD";
const AMOUNT: u128 = 1_000;
const EXPIRY: u64 = 100;

fn applicant() -> Address {
    addr("applicant")
}
fn issuer() -> Address {
    addr("issuing bank")
}
fn adviser() -> Address {
    addr("advising bank")
}
fn beneficiary() -> Address {
    addr("beneficiary")
}
fn stranger() -> Address {
    addr("stranger")
}
fn everyone() -> [Address; 5] {
    [applicant(), issuer(), adviser(), beneficiary(), stranger()]
}

fn doc_hash(label: &str) -> Hash32 {
    Hash32(meridian_contract_sdk::testing::HashSuite::Sha256.hash(label.as_bytes()))
}

fn setup() -> MockHost {
    let mut h = MockHost::new(NAME, ENTRY_POINTS);
    h.set_caller(applicant());
    h.instantiate(&InstantiateMsg {}).expect("instantiate");
    // Known assets, nothing escrowed yet.
    let me = h.address();
    h.set_balance(me, USD, 0);
    h.set_balance(me, "EUR", 0);
    h.set_block(10, 1_700_000_000_000);
    h
}

fn fund(h: &mut MockHost, asset: &str, amount: u128) {
    let me = h.address();
    let bal = h.balance(me, asset);
    h.set_balance(me, asset, bal + amount);
}

fn open_msg(amount: u128, asset: &str, notarised: bool) -> ExecuteMsg {
    ExecuteMsg::Open {
        issuing_bank: issuer(),
        advising_bank: adviser(),
        beneficiary: beneficiary(),
        amount: Uint128(amount),
        asset: asset.into(),
        expiry_height: EXPIRY,
        required_documents: vec!["invoice".into(), "bill_of_lading".into()],
        require_notarised: notarised,
    }
}

fn exec(h: &mut MockHost, who: Address, msg: &ExecuteMsg) -> Result<StepResponse, String> {
    h.set_caller(who);
    h.execute(msg)
        .map(|r| r.json::<StepResponse>())
        .map_err(|e| e.code)
}

fn err(code: &str) -> Result<StepResponse, String> {
    Err(format!("{NAME}.{code}"))
}

fn ok(lc_id: u64, status: Status) -> Result<StepResponse, String> {
    Ok(StepResponse { lc_id, status })
}

fn lc(h: &MockHost, lc_id: u64) -> LetterOfCredit {
    h.query(&QueryMsg::Lc { lc_id }).expect("lc")
}

fn history(h: &MockHost, lc_id: u64) -> Vec<HistoryEntry> {
    h.query::<HistoryResponse>(&QueryMsg::History {
        lc_id,
        start_after: None,
        limit: Some(100),
    })
    .expect("history")
    .entries
}

fn escrow(h: &MockHost, asset: &str) -> EscrowResponse {
    h.query(&QueryMsg::Escrow {
        asset: asset.into(),
    })
    .expect("escrow")
}

fn documents() -> Vec<Document> {
    vec![
        Document {
            doc_type: "bill_of_lading".into(),
            hash: doc_hash("b/l 42"),
        },
        Document {
            doc_type: "invoice".into(),
            hash: doc_hash("invoice 42"),
        },
    ]
}

fn notarise(h: &mut MockHost, hash: Hash32) {
    h.set_notary(
        hash.0,
        NotaryRecord {
            owner: beneficiary(),
            height: 5,
            time_ms: 1,
            meta: b"scan.pdf".to_vec(),
        },
    );
}

/// The steps, each with the party allowed to sign it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Cancel,
    Issue,
    Advise,
    Present,
    Accept,
    Refuse,
    Reclaim,
}

const STEPS: [Step; 7] = [
    Step::Cancel,
    Step::Issue,
    Step::Advise,
    Step::Present,
    Step::Accept,
    Step::Refuse,
    Step::Reclaim,
];

impl Step {
    fn msg(self, lc_id: u64) -> ExecuteMsg {
        match self {
            Step::Cancel => ExecuteMsg::Cancel { lc_id },
            Step::Issue => ExecuteMsg::Issue { lc_id },
            Step::Advise => ExecuteMsg::Advise { lc_id },
            Step::Present => ExecuteMsg::Present {
                lc_id,
                documents: documents(),
            },
            Step::Accept => ExecuteMsg::Accept { lc_id },
            Step::Refuse => ExecuteMsg::Refuse {
                lc_id,
                reason: "invoice amount differs".into(),
            },
            Step::Reclaim => ExecuteMsg::Reclaim { lc_id },
        }
    }

    fn party(self) -> Address {
        match self {
            Step::Cancel | Step::Reclaim => applicant(),
            Step::Issue | Step::Accept | Step::Refuse => issuer(),
            Step::Advise => adviser(),
            Step::Present => beneficiary(),
        }
    }
}

fn step(h: &mut MockHost, lc_id: u64, s: Step) -> Result<StepResponse, String> {
    exec(h, s.party(), &s.msg(lc_id))
}

/// Opens LC 1 (funded, not notarised) and drives it to `target`.
fn drive(h: &mut MockHost, target: Status) {
    fund(h, USD, AMOUNT);
    exec(h, applicant(), &open_msg(AMOUNT, USD, false)).unwrap();
    let path: &[Step] = match target {
        Status::Opened => &[],
        Status::Cancelled => &[Step::Cancel],
        Status::Issued => &[Step::Issue],
        Status::Advised => &[Step::Issue, Step::Advise],
        Status::Presented => &[Step::Issue, Step::Advise, Step::Present],
        Status::Paid => &[Step::Issue, Step::Advise, Step::Present, Step::Accept],
        Status::Refused => &[Step::Issue, Step::Advise, Step::Present, Step::Refuse],
        Status::Reclaimed => &[
            Step::Issue,
            Step::Advise,
            Step::Present,
            Step::Refuse,
            Step::Reclaim,
        ],
    };
    for s in path {
        step(h, 1, *s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
    }
    assert_eq!(lc(h, 1).status, target);
}

#[test]
fn happy_path_pays_the_beneficiary_exactly_once_and_only_on_acceptance() {
    let mut h = setup();
    assert_eq!(
        exec(&mut h, applicant(), &open_msg(AMOUNT, USD, true)),
        ok(1, Status::Opened)
    );
    for d in documents() {
        notarise(&mut h, d.hash);
    }
    fund(&mut h, USD, AMOUNT);
    assert_eq!(step(&mut h, 1, Step::Issue), ok(1, Status::Issued));
    assert_eq!(step(&mut h, 1, Step::Advise), ok(1, Status::Advised));
    assert_eq!(step(&mut h, 1, Step::Present), ok(1, Status::Presented));
    assert!(h.transfers().is_empty(), "nothing paid before acceptance");
    assert_eq!(escrow(&h, USD).outstanding, Uint128(AMOUNT));

    assert_eq!(step(&mut h, 1, Step::Accept), ok(1, Status::Paid));
    let paid = vec![BankTransfer {
        from: h.address(),
        to: beneficiary(),
        asset: USD.into(),
        amount: AMOUNT,
    }];
    assert_eq!(h.transfers(), paid);
    assert_eq!(h.balance(beneficiary(), USD), AMOUNT);
    assert_eq!(h.balance(h.address(), USD), 0);
    assert_eq!(
        escrow(&h, USD),
        EscrowResponse {
            contract: h.address(),
            asset: USD.into(),
            outstanding: Uint128::ZERO,
            balance: Uint128::ZERO
        }
    );

    // Nothing moves money again.
    for s in [Step::Accept, Step::Refuse, Step::Reclaim, Step::Issue] {
        assert_eq!(step(&mut h, 1, s), err(codes::WRONG_STATE), "{s:?}");
    }
    h.set_block(EXPIRY + 1, 1_800_000_000_000);
    assert_eq!(step(&mut h, 1, Step::Reclaim), err(codes::WRONG_STATE));
    assert_eq!(h.transfers(), paid);

    let l = lc(&h, 1);
    assert_eq!(l.status, Status::Paid);
    assert_eq!(l.documents.len(), 2);
    assert!(l.documents.iter().all(|d| d.notary
        == Some(NotaryEvidence {
            owner: beneficiary(),
            height: 5
        })));

    let hist = history(&h, 1);
    let actions: Vec<(&str, Address, Status)> = hist
        .iter()
        .map(|e| (e.action.as_str(), e.by, e.status))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("opened", applicant(), Status::Opened),
            ("issued", issuer(), Status::Issued),
            ("advised", adviser(), Status::Advised),
            ("presented", beneficiary(), Status::Presented),
            ("paid", issuer(), Status::Paid),
        ]
    );
    assert!(hist.iter().enumerate().all(|(i, e)| e.seq as usize == i));
    assert_eq!(l.history_len, 5);

    let events = h.events();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "letter_of_credit.opened",
            "letter_of_credit.issued",
            "letter_of_credit.advised",
            "letter_of_credit.presented",
            "letter_of_credit.paid"
        ]
    );
    let last: LcEvent = events[4].json();
    assert_eq!(
        last,
        LcEvent {
            lc_id: 1,
            by: issuer(),
            status: Status::Paid,
            detail: None,
            payment: Some(Payment {
                to: beneficiary(),
                asset: USD.into(),
                amount: Uint128(AMOUNT)
            }),
        }
    );
}

#[test]
fn every_step_needs_its_own_party() {
    for s in STEPS {
        // The state in which `s` is allowed (reclaim: after refusal).
        let at = match s {
            Step::Cancel | Step::Issue => Status::Opened,
            Step::Advise => Status::Issued,
            Step::Present => Status::Advised,
            Step::Accept | Step::Refuse => Status::Presented,
            Step::Reclaim => Status::Refused,
        };
        let mut h = setup();
        drive(&mut h, at);
        let before = h.events().len();
        for who in everyone() {
            if who != s.party() {
                assert_eq!(
                    exec(&mut h, who, &s.msg(1)),
                    err(codes::UNAUTHORIZED),
                    "{s:?} by {who}"
                );
            }
        }
        assert_eq!(lc(&h, 1).status, at, "refusals change nothing");
        assert_eq!(h.events().len(), before);
        assert!(step(&mut h, 1, s).is_ok(), "{s:?} by its party");
    }
}

#[test]
fn state_machine_allows_exactly_the_documented_transitions() {
    use Status::*;
    let states = [
        Opened, Issued, Advised, Presented, Paid, Refused, Reclaimed, Cancelled,
    ];
    for from in states {
        for s in STEPS {
            let expected: Result<Status, &str> = match (from, s) {
                (Opened, Step::Cancel) => Ok(Cancelled),
                (Opened, Step::Issue) => Ok(Issued),
                (Issued, Step::Advise) => Ok(Advised),
                (Advised, Step::Present) => Ok(Presented),
                (Presented, Step::Accept) => Ok(Paid),
                (Presented, Step::Refuse) => Ok(Refused),
                (Refused, Step::Reclaim) => Ok(Reclaimed),
                // Before expiry, an issued or advised LC cannot be reclaimed.
                (Issued | Advised, Step::Reclaim) => Err(codes::NOT_EXPIRED),
                _ => Err(codes::WRONG_STATE),
            };
            let mut h = setup();
            drive(&mut h, from);
            let got = step(&mut h, 1, s);
            match expected {
                Ok(to) => assert_eq!(got, ok(1, to), "{from:?} --{s:?}-->"),
                Err(code) => {
                    assert_eq!(got, err(code), "{from:?} --{s:?}-->");
                    assert_eq!(lc(&h, 1).status, from);
                }
            }
        }
    }
}

#[test]
fn issue_needs_the_escrow_on_top_of_outstanding_letters() {
    let mut h = setup();
    exec(&mut h, applicant(), &open_msg(AMOUNT, USD, false)).unwrap();
    exec(&mut h, applicant(), &open_msg(500, USD, false)).unwrap();
    exec(&mut h, applicant(), &open_msg(300, "EUR", false)).unwrap();

    assert_eq!(
        step(&mut h, 1, Step::Issue),
        err(codes::INSUFFICIENT_ESCROW)
    );
    fund(&mut h, USD, AMOUNT - 1);
    assert_eq!(
        step(&mut h, 1, Step::Issue),
        err(codes::INSUFFICIENT_ESCROW)
    );
    fund(&mut h, USD, 1);
    assert_eq!(step(&mut h, 1, Step::Issue), ok(1, Status::Issued));

    // LC 1's 1000 are taken: LC 2 needs 500 more.
    assert_eq!(
        step(&mut h, 2, Step::Issue),
        err(codes::INSUFFICIENT_ESCROW)
    );
    // Money in another asset does not count.
    fund(&mut h, "EUR", 10_000);
    assert_eq!(
        step(&mut h, 2, Step::Issue),
        err(codes::INSUFFICIENT_ESCROW)
    );
    fund(&mut h, USD, 499);
    assert_eq!(
        step(&mut h, 2, Step::Issue),
        err(codes::INSUFFICIENT_ESCROW)
    );
    fund(&mut h, USD, 1);
    assert_eq!(step(&mut h, 2, Step::Issue), ok(2, Status::Issued));
    assert_eq!(step(&mut h, 3, Step::Issue), ok(3, Status::Issued));

    assert_eq!(escrow(&h, USD).outstanding, Uint128(1_500));
    assert_eq!(escrow(&h, USD).balance, Uint128(1_500));
    assert_eq!(escrow(&h, "EUR").outstanding, Uint128(300));
    assert!(h.transfers().is_empty());

    // Paying LC 1 releases exactly its amount.
    step(&mut h, 1, Step::Advise).unwrap();
    step(&mut h, 1, Step::Present).unwrap();
    step(&mut h, 1, Step::Accept).unwrap();
    assert_eq!(escrow(&h, USD).outstanding, Uint128(500));
    assert_eq!(escrow(&h, USD).balance, Uint128(500));
}

#[test]
fn presentation_must_match_the_required_documents() {
    let mut h = setup();
    fund(&mut h, USD, AMOUNT);
    exec(&mut h, applicant(), &open_msg(AMOUNT, USD, true)).unwrap();
    step(&mut h, 1, Step::Issue).unwrap();
    step(&mut h, 1, Step::Advise).unwrap();
    let present = |docs: &[(&str, &str)]| ExecuteMsg::Present {
        lc_id: 1,
        documents: docs
            .iter()
            .map(|(t, label)| Document {
                doc_type: t.to_string(),
                hash: doc_hash(label),
            })
            .collect(),
    };
    for (label, _) in [("inv", 0), ("bl", 0), ("cert", 0)] {
        notarise(&mut h, doc_hash(label));
    }
    let cases: Vec<(&[(&str, &str)], &str)> = vec![
        (&[], codes::MISSING_DOCUMENT),
        (&[("invoice", "inv")], codes::MISSING_DOCUMENT),
        (
            &[
                ("invoice", "inv"),
                ("bill_of_lading", "bl"),
                ("certificate", "cert"),
            ],
            codes::UNEXPECTED_DOCUMENT,
        ),
        (
            &[
                ("invoice", "inv"),
                ("invoice", "bl"),
                ("bill_of_lading", "bl"),
            ],
            codes::DUPLICATE_DOCUMENT,
        ),
        (
            &[("invoice", "inv"), ("bill_of_lading", "inv")],
            codes::DUPLICATE_DOCUMENT,
        ),
        (
            &[("invoice", "inv"), ("bill_of_lading", "never notarised")],
            codes::NOT_NOTARISED,
        ),
    ];
    for (docs, code) in cases {
        assert_eq!(
            exec(&mut h, beneficiary(), &present(docs)),
            err(code),
            "{docs:?}"
        );
        assert_eq!(lc(&h, 1).status, Status::Advised);
        assert!(lc(&h, 1).documents.is_empty());
    }
    assert_eq!(
        exec(
            &mut h,
            beneficiary(),
            &present(&[("bill_of_lading", "bl"), ("invoice", "inv")])
        ),
        ok(1, Status::Presented)
    );

    // Without require_notarised, unnotarised hashes are accepted and recorded as such.
    exec(&mut h, applicant(), &open_msg(AMOUNT, USD, false)).unwrap();
    fund(&mut h, USD, AMOUNT);
    step(&mut h, 2, Step::Issue).unwrap();
    step(&mut h, 2, Step::Advise).unwrap();
    step(&mut h, 2, Step::Present).unwrap();
    assert!(lc(&h, 2).documents.iter().all(|d| d.notary.is_none()));
}

#[test]
fn refusal_lets_only_the_applicant_reclaim_once() {
    let mut h = setup();
    drive(&mut h, Status::Presented);
    for bad in [String::new(), "x".repeat(MAX_REASON_LEN + 1)] {
        let r = exec(
            &mut h,
            issuer(),
            &ExecuteMsg::Refuse {
                lc_id: 1,
                reason: bad,
            },
        );
        assert_eq!(r, err(codes::INVALID_REASON));
    }
    assert_eq!(step(&mut h, 1, Step::Refuse), ok(1, Status::Refused));
    assert_eq!(
        lc(&h, 1).refusal_reason.as_deref(),
        Some("invoice amount differs")
    );
    assert_eq!(step(&mut h, 1, Step::Accept), err(codes::WRONG_STATE));
    assert_eq!(
        exec(&mut h, beneficiary(), &ExecuteMsg::Reclaim { lc_id: 1 }),
        err(codes::UNAUTHORIZED)
    );
    assert!(h.transfers().is_empty(), "refusal itself pays nobody");

    assert_eq!(step(&mut h, 1, Step::Reclaim), ok(1, Status::Reclaimed));
    assert_eq!(step(&mut h, 1, Step::Reclaim), err(codes::WRONG_STATE));
    assert_eq!(
        h.transfers(),
        vec![BankTransfer {
            from: h.address(),
            to: applicant(),
            asset: USD.into(),
            amount: AMOUNT
        }]
    );
    assert_eq!(h.balance(applicant(), USD), AMOUNT);
    assert_eq!(h.balance(beneficiary(), USD), 0);
    let ev: LcEvent = h.events().last().unwrap().json();
    assert_eq!(ev.detail.as_deref(), Some("refused"));
    assert_eq!(
        h.events().last().unwrap().kind,
        "letter_of_credit.reclaimed"
    );
}

#[test]
fn expiry_stops_issue_advise_present_and_allows_reclaim() {
    // Issue after expiry.
    let mut h = setup();
    drive(&mut h, Status::Opened);
    h.set_block(EXPIRY + 1, 2);
    assert_eq!(step(&mut h, 1, Step::Issue), err(codes::EXPIRED));
    assert_eq!(step(&mut h, 1, Step::Cancel), ok(1, Status::Cancelled));

    // Advise after expiry; then the applicant reclaims.
    let mut h = setup();
    drive(&mut h, Status::Issued);
    h.set_block(EXPIRY, 2);
    assert_eq!(step(&mut h, 1, Step::Reclaim), err(codes::NOT_EXPIRED));
    h.set_block(EXPIRY + 1, 3);
    assert_eq!(step(&mut h, 1, Step::Advise), err(codes::EXPIRED));
    assert_eq!(step(&mut h, 1, Step::Reclaim), ok(1, Status::Reclaimed));
    assert_eq!(h.balance(applicant(), USD), AMOUNT);

    // Present after expiry; reclaim from advised.
    let mut h = setup();
    drive(&mut h, Status::Advised);
    h.set_block(EXPIRY, 2);
    assert_eq!(step(&mut h, 1, Step::Reclaim), err(codes::NOT_EXPIRED));
    h.set_block(EXPIRY + 1, 3);
    assert_eq!(step(&mut h, 1, Step::Present), err(codes::EXPIRED));
    assert_eq!(step(&mut h, 1, Step::Reclaim), ok(1, Status::Reclaimed));
    let ev: LcEvent = h.events().last().unwrap().json();
    assert_eq!(ev.detail.as_deref(), Some("expired"));
    assert_eq!(h.transfers().len(), 1);

    // Documents presented in time are honoured after expiry; the applicant cannot take the
    // money while the bank examines them.
    let mut h = setup();
    h.set_block(EXPIRY - 1, 2);
    drive(&mut h, Status::Presented);
    h.set_block(EXPIRY + 50, 3);
    assert_eq!(step(&mut h, 1, Step::Reclaim), err(codes::WRONG_STATE));
    assert_eq!(step(&mut h, 1, Step::Accept), ok(1, Status::Paid));
    assert_eq!(h.balance(beneficiary(), USD), AMOUNT);
}

#[test]
fn open_validation() {
    let mut h = setup();
    let base = || match open_msg(AMOUNT, USD, false) {
        ExecuteMsg::Open {
            issuing_bank,
            advising_bank,
            beneficiary,
            amount,
            asset,
            expiry_height,
            required_documents,
            require_notarised,
        } => (
            issuing_bank,
            advising_bank,
            beneficiary,
            amount,
            asset,
            expiry_height,
            required_documents,
            require_notarised,
        ),
        _ => unreachable!(),
    };
    type Edit = fn(
        &mut (
            Address,
            Address,
            Address,
            Uint128,
            String,
            u64,
            Vec<String>,
            bool,
        ),
    );
    let cases: Vec<(Edit, &str)> = vec![
        (|m| m.2 = applicant(), codes::INVALID_PARTIES),
        (|m| m.1 = m.0, codes::INVALID_PARTIES),
        (|m| m.2 = m.1, codes::INVALID_PARTIES),
        (|m| m.3 = Uint128::ZERO, codes::INVALID_AMOUNT),
        (|m| m.4 = "usd".into(), codes::INVALID_ASSET),
        (|m| m.4 = String::new(), codes::INVALID_ASSET),
        (|m| m.4 = "A".repeat(17), codes::INVALID_ASSET),
        (|m| m.5 = 10, codes::INVALID_EXPIRY),
        (|m| m.6 = vec![], codes::INVALID_DOCUMENT_TYPES),
        (
            |m| m.6 = vec!["invoice".into(), "invoice".into()],
            codes::INVALID_DOCUMENT_TYPES,
        ),
        (
            |m| m.6 = vec!["Invoice".into()],
            codes::INVALID_DOCUMENT_TYPES,
        ),
        (
            |m| m.6 = (0..17).map(|i| format!("doc{i}")).collect(),
            codes::INVALID_DOCUMENT_TYPES,
        ),
    ];
    for (edit, code) in cases {
        let mut m = base();
        edit(&mut m);
        let msg = ExecuteMsg::Open {
            issuing_bank: m.0,
            advising_bank: m.1,
            beneficiary: m.2,
            amount: m.3,
            asset: m.4,
            expiry_height: m.5,
            required_documents: m.6,
            require_notarised: m.7,
        };
        assert_eq!(exec(&mut h, applicant(), &msg), err(code), "{msg:?}");
    }
    assert!(h
        .query::<LcsResponse>(&QueryMsg::Lcs {
            start_after: None,
            limit: None
        })
        .unwrap()
        .lcs
        .is_empty());
    // Amounts are decimal strings on the wire.
    let bad = format!(
        r#"{{"open":{{"issuing_bank":"{}","advising_bank":"{}","beneficiary":"{}","amount":1000,"asset":"USD","expiry_height":100,"required_documents":["invoice"]}}}}"#,
        issuer(),
        adviser(),
        beneficiary()
    );
    h.set_caller(applicant());
    let e = h
        .call(NAME, EntryKind::Execute, bad.as_bytes())
        .unwrap_err();
    assert_eq!(e.code, "letter_of_credit.bad_msg");
    let good = bad.replace(r#""amount":1000"#, r#""amount":"1000""#);
    let r = h.call(NAME, EntryKind::Execute, good.as_bytes()).unwrap();
    assert_eq!(
        String::from_utf8(r.data).unwrap(),
        r#"{"lc_id":1,"status":"opened"}"#
    );
}

#[test]
fn queries_page_letters_and_history() {
    let mut h = setup();
    drive(&mut h, Status::Paid);
    exec(&mut h, applicant(), &open_msg(7, USD, false)).unwrap();
    exec(&mut h, applicant(), &open_msg(8, USD, false)).unwrap();

    let page1: LcsResponse = h
        .query(&QueryMsg::Lcs {
            start_after: None,
            limit: Some(2),
        })
        .unwrap();
    assert_eq!(page1.lcs.iter().map(|l| l.id).collect::<Vec<_>>(), [1, 2]);
    let page2: LcsResponse = h
        .query(&QueryMsg::Lcs {
            start_after: Some(2),
            limit: Some(2),
        })
        .unwrap();
    assert_eq!(page2.lcs.iter().map(|l| l.id).collect::<Vec<_>>(), [3]);

    let page = |start_after, limit| {
        h.query::<HistoryResponse>(&QueryMsg::History {
            lc_id: 1,
            start_after,
            limit: Some(limit),
        })
        .unwrap()
        .entries
        .iter()
        .map(|e| e.action.clone())
        .collect::<Vec<_>>()
    };
    assert_eq!(page(None, 2), ["opened", "issued"]);
    assert_eq!(page(Some(1), 2), ["advised", "presented"]);
    assert_eq!(page(Some(3), 2), ["paid"]);
    assert!(page(Some(4), 2).is_empty());
    assert!(page(Some(u32::MAX), 2).is_empty());
    // Another LC's history does not leak into LC 1's.
    assert_eq!(history(&h, 2).len(), 1);

    for q in [
        QueryMsg::Lc { lc_id: 9 },
        QueryMsg::History {
            lc_id: 9,
            start_after: None,
            limit: None,
        },
    ] {
        let e = h.query::<LetterOfCredit>(&q).unwrap_err();
        assert_eq!(e.code, "letter_of_credit.lc_not_found");
    }
    assert_eq!(
        exec(&mut h, issuer(), &ExecuteMsg::Issue { lc_id: 9 }),
        err(codes::LC_NOT_FOUND)
    );
    // Wire format of an LC.
    let raw = h
        .call(NAME, EntryKind::Query, br#"{"lc":{"lc_id":2}}"#)
        .unwrap()
        .data;
    let raw = String::from_utf8(raw).unwrap();
    assert!(raw.contains(r#""amount":"7""#), "{raw}");
    assert!(raw.contains(r#""status":"opened""#), "{raw}");
}

/// A random sequence of steps by random parties over three LCs (different amounts) and
/// random block heights. Whatever happens: every transfer pays an LC's full amount to its
/// beneficiary only if that LC is paid (after a presentation), or to its applicant only if it
/// is reclaimed; each LC is paid out at most once; the contract's balance is what was funded
/// minus what was paid; `outstanding` is the sum of the LCs holding funds.
fn run_random(ops: &[(u8, u8, u8, u8)]) {
    let amounts = [100u128, 200, 400];
    let mut h = setup();
    for a in amounts {
        exec(&mut h, applicant(), &open_msg(a, USD, false)).unwrap();
    }
    let funded = 550; // enough for two of the three at a time at most
    fund(&mut h, USD, funded);
    let mut height = 10;
    for &(lc_i, s, who, dh) in ops {
        height += u64::from(dh % 30);
        h.set_block(height, height * 1000);
        let lc_id = u64::from(lc_i % 3) + 1;
        let s = STEPS[usize::from(s) % STEPS.len()];
        let who = if who % 3 == 0 {
            everyone()[usize::from(who / 3) % 5]
        } else {
            s.party()
        };
        let _ = exec(&mut h, who, &s.msg(lc_id));
    }
    let lcs: Vec<LetterOfCredit> = (1..=3).map(|i| lc(&h, i)).collect();
    let mut expected: Vec<(Address, u128)> = Vec::new();
    for l in &lcs {
        match l.status {
            Status::Paid => {
                expected.push((beneficiary(), l.amount.u128()));
                let actions: Vec<String> =
                    history(&h, l.id).into_iter().map(|e| e.action).collect();
                let n = actions.len();
                assert_eq!(&actions[n - 2..], ["presented", "paid"]);
            }
            Status::Reclaimed => expected.push((applicant(), l.amount.u128())),
            _ => {}
        }
    }
    let mut got: Vec<(Address, u128)> = h.transfers().iter().map(|t| (t.to, t.amount)).collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    let paid: u128 = got.iter().map(|(_, a)| a).sum();
    assert_eq!(h.balance(h.address(), USD), funded - paid);
    let holding: u128 = lcs
        .iter()
        .filter(|l| l.status.holds_funds())
        .map(|l| l.amount.u128())
        .sum();
    assert_eq!(escrow(&h, USD).outstanding, Uint128(holding));
    assert!(holding <= funded - paid);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_steps_keep_the_money_invariants(ops in prop::collection::vec(any::<(u8, u8, u8, u8)>(), 1..60)) {
        run_random(&ops);
    }
}
