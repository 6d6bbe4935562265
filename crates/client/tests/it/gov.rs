//! Governance through the SDK on a certificate-mode ledger: `Wallet::propose`/`vote`, the
//! proposal id and outcome from receipts, `Client::proposal_at` / `proposals` /
//! `next_proposal_id` / `trusted_issuer` verified, and forged answers refused.

use std::time::Duration;

use meridian_client::{
    parse_threshold, Action, Client, ProposalOutcome, ProposalStatus, Threshold, Wallet,
};
use meridian_crypto::Suite;
use meridian_identity::Role;

use crate::net::{issue, FakeNode, LocalNet};

const WAIT: Duration = Duration::from_secs(20);

#[test]
fn thresholds_parse() {
    assert_eq!(parse_threshold("majority").unwrap(), Threshold::Majority);
    assert_eq!(parse_threshold("two-thirds").unwrap(), Threshold::TwoThirds);
    assert_eq!(parse_threshold("2/3").unwrap(), Threshold::TwoThirds);
    assert_eq!(parse_threshold("ALL").unwrap(), Threshold::All);
    assert_eq!(parse_threshold("any:3").unwrap(), Threshold::AnyN(3));
    for bad in ["any:0", "any:", "any:x", "most", ""] {
        let e = parse_threshold(bad).unwrap_err();
        assert_eq!(e.code(), "client.bad_input", "{bad}");
    }
    for t in [
        Threshold::Majority,
        Threshold::TwoThirds,
        Threshold::All,
        Threshold::AnyN(7),
    ] {
        assert_eq!(
            parse_threshold(&meridian_client::threshold_name(t)).unwrap(),
            t
        );
    }
}

#[test]
fn propose_vote_and_read_proposals() {
    let net = LocalNet::start_certs(Suite::Intl);
    let client = Client::new(&net.url);
    client.wait_for_height(1, WAIT).unwrap();
    let mut org0 = Wallet::connect(&client, net.admins[0].0.clone()).unwrap();
    let mut org1 = Wallet::connect(&client, net.admins[1].0.clone()).unwrap();

    // Nothing yet: absence proven, next id 1, an empty page.
    assert!(client.proposal_at(1, None).unwrap().value.is_none());
    assert_eq!(client.next_proposal_id(None).unwrap().value, 1);
    assert!(client.proposals(1, 10, None).unwrap().value.is_empty());

    // Refused before signing.
    let policy = Action::SetPolicy {
        call: "bank.mint".into(),
        roles: vec!["admin".into()],
    };
    for (t, d) in [(Threshold::AnyN(0), 10), (Threshold::All, 0)] {
        let e = org0.propose(&client, policy.clone(), t, d).unwrap_err();
        assert_eq!(e.code(), "client.bad_input", "{e}");
    }

    let tx = org0
        .propose(&client, policy.clone(), Threshold::All, 50)
        .unwrap();
    let done = client.commit(&tx, WAIT).unwrap();
    assert_eq!(done.proposal_id(), Some(1));
    assert_eq!(done.proposal_outcome(1), None);
    let p = client.proposal_at(1, None).unwrap();
    let prop = p.value.clone().unwrap();
    assert_eq!(prop.status, ProposalStatus::Open);
    assert_eq!(prop.action, policy);
    assert_eq!(prop.proposer_org, "org0");
    assert_eq!(prop.votes, vec![("org0".to_string(), true)]);
    assert_eq!(prop.deadline_height, done.receipt.height + 50);
    assert!(client.proposal_at(2, None).unwrap().value.is_none());

    let done = client
        .commit(&org1.vote(&client, 1, true).unwrap(), WAIT)
        .unwrap();
    assert_eq!(done.proposal_id(), None);
    assert_eq!(done.proposal_outcome(1), Some(ProposalOutcome::Executed));
    assert_eq!(
        client.proposal_at(1, None).unwrap().value.unwrap().status,
        ProposalStatus::Executed
    );
    // The past is readable too.
    let then = client.proposal_at(1, Some(p.height)).unwrap();
    assert_eq!(then.value.unwrap().status, ProposalStatus::Open);

    // A rejected one, then the listing.
    let tx = org1
        .propose(&client, policy.clone(), Threshold::All, 50)
        .unwrap();
    assert_eq!(client.commit(&tx, WAIT).unwrap().proposal_id(), Some(2));
    let done = client
        .commit(&org0.vote(&client, 2, false).unwrap(), WAIT)
        .unwrap();
    assert_eq!(done.proposal_outcome(2), Some(ProposalOutcome::Rejected));
    assert_eq!(ProposalOutcome::Rejected.status(), "rejected");
    let page = client.proposals(1, 10, None).unwrap();
    let ids: Vec<u64> = page.value.iter().map(|p| p.id).collect();
    assert_eq!(ids, [1, 2]);
    assert_eq!(page.value[1].status, ProposalStatus::Rejected);
    assert_eq!(client.proposals(2, 1, None).unwrap().value.len(), 1);
    assert!(client.proposals(3, 10, None).unwrap().value.is_empty());
    assert_eq!(client.next_proposal_id(None).unwrap().value, 3);

    // A certificate's issuing CA, found among the CAs the chain trusts.
    let (admin, ca) = &net.admins[1];
    let cert = issue(ca, admin, "someone", Role::Client, 99);
    let issuer = client.trusted_issuer(&cert).unwrap().value;
    assert_eq!(
        issuer,
        Some(*ca.certificate().cert_id(Suite::Intl).as_bytes())
    );
    let stranger = crate::net::org_ca(Suite::Intl, "org1", 77);
    let cert = issue(&stranger, admin, "someone", Role::Client, 98);
    assert_eq!(client.trusted_issuer(&cert).unwrap().value, None);

    // A node that hides a proposal from a page, or lies about one, is caught.
    let status = serde_json::to_string(&client.status().unwrap()).unwrap();
    let page_at = client.proposals(1, 10, None).unwrap().height;
    let real: meridian_api::ProposalsView = {
        let url = format!(
            "{}/v1/identity/proposals?from=1&limit=10&height={page_at}",
            net.url
        );
        ureq::get(&url)
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap()
    };
    let serve = |page: &meridian_api::ProposalsView| {
        FakeNode::start(vec![
            ("/v1/status".into(), status.clone()),
            (
                "/v1/identity/proposals".into(),
                serde_json::to_string(page).unwrap(),
            ),
        ])
    };
    let honest = serve(&real);
    assert_eq!(
        Client::new(&honest.url)
            .proposals(1, 10, Some(page_at))
            .unwrap()
            .value
            .len(),
        2
    );
    let mut hidden = real.clone();
    hidden.proposals.remove(0);
    let liar = serve(&hidden);
    let e = Client::new(&liar.url)
        .proposals(1, 10, Some(page_at))
        .unwrap_err();
    assert_eq!(e.code(), "client.bad_response", "{e}");
    let mut swapped = real.clone();
    swapped.proposals.swap(0, 1);
    let liar = serve(&swapped);
    let e = Client::new(&liar.url)
        .proposals(1, 10, Some(page_at))
        .unwrap_err();
    assert!(
        ["client.bad_response", "client.proof_invalid"].contains(&e.code()),
        "{e}"
    );
    let mut forged = real;
    let raw = forged.proposals[1].state.value.clone().unwrap();
    // status byte: rejected -> executed
    forged.proposals[1].state.value = Some(format!("{}01", &raw[..raw.len() - 2]));
    let liar = serve(&forged);
    let e = Client::new(&liar.url)
        .proposals(1, 10, Some(page_at))
        .unwrap_err();
    assert_eq!(e.code(), "client.proof_invalid", "{e}");
}
