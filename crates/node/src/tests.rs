//! Ledger tests with real keys, real storage and the real modules, both suites.

use super::*;
use meridian_bank::{balance_key, decode_balance, BankCall};
use meridian_crypto::{PrivateKey, Suite};
use meridian_mempool::MempoolError;
use meridian_notary::{decode_record, record_key, Register};
use meridian_storage::verify_state_proof;
use meridian_types::{Block, Encode, Hash32, SignedTx};

fn genesis(suite: Suite, validators: &[PrivateKey]) -> Genesis {
    Genesis {
        chain_id: format!("test-{suite}"),
        suite: suite.to_string(),
        timestamp_ms: 1_700_000_000_000,
        validators: validators
            .iter()
            .enumerate()
            .map(|(i, k)| GenesisValidator {
                name: format!("org{i}"),
                public_key: hex::encode(k.public_key().as_bytes()),
            })
            .collect(),
        orgs: Vec::new(),
        members: Vec::new(),
        policies: Vec::new(),
        epoch_blocks: None,
        fault_tolerance: None,
    }
}

fn key(suite: Suite, i: u8) -> PrivateKey {
    PrivateKey::from_seed(suite, &[i; 32])
}

/// Drives one block through propose → verify on a second ledger → finalize on both.
fn step(a: &Ledger, b: &Ledger, now: u64) -> Block {
    let parent = a.finalized_block().unwrap().hash(&a.hasher());
    let block = a.propose(&parent, now, b"leader", now).unwrap();
    b.verify(&block).unwrap();
    a.finalize(&block, vec![1, 2, 3]).unwrap();
    b.finalize(&block, vec![1, 2, 3]).unwrap();
    block
}

/// Two ledgers (say, two validators) of one single-validator chain, with their directories.
fn two_ledgers(suite: Suite) -> ([tempfile::TempDir; 2], Ledger, Ledger) {
    let v = key(suite, 100);
    let g = genesis(suite, std::slice::from_ref(&v));
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let a = Ledger::open(dirs[0].path(), &g, LedgerConfig::default()).unwrap();
    let b = Ledger::open(dirs[1].path(), &g, LedgerConfig::default()).unwrap();
    (dirs, a, b)
}

/// `sender`'s first transaction on `ledger`'s chain: create asset `symbol` (supply 5).
fn create_asset(ledger: &Ledger, sender: &PrivateKey, symbol: &str) -> SignedTx {
    sign_tx(
        sender,
        ledger.chain_id(),
        0,
        100,
        BankCall::CreateAsset {
            symbol: symbol.into(),
            decimals: 0,
            max_supply: 5,
        }
        .into_call(),
    )
}

fn both_suites(f: impl Fn(Suite)) {
    for s in Suite::ALL {
        f(s)
    }
}

#[test]
fn transfer_and_notarize_with_proofs() {
    both_suites(|suite| {
        let v = key(suite, 100);
        let g = genesis(suite, std::slice::from_ref(&v));
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = Ledger::open(da.path(), &g, LedgerConfig::default()).unwrap();
        let b = Ledger::open(db.path(), &g, LedgerConfig::default()).unwrap();
        assert_eq!(a.genesis_block(), b.genesis_block());
        let alice = key(suite, 1);
        let bob = key(suite, 2);
        let bob_addr = a.address_of(bob.public_key().as_bytes());
        let chain = a.chain_id().clone();
        let create = sign_tx(
            &alice,
            &chain,
            0,
            100,
            BankCall::CreateAsset {
                symbol: "CNY".into(),
                decimals: 2,
                max_supply: 1_000_000,
            }
            .into_call(),
        );
        let mint = sign_tx(
            &alice,
            &chain,
            1,
            100,
            BankCall::Mint {
                symbol: "CNY".into(),
                to: a.address_of(alice.public_key().as_bytes()),
                amount: 500,
            }
            .into_call(),
        );
        let transfer = sign_tx(
            &alice,
            &chain,
            2,
            100,
            BankCall::Transfer {
                symbol: "CNY".into(),
                to: bob_addr,
                amount: 120,
            }
            .into_call(),
        );
        let doc: Hash32 = a.hash(b"invoice-42.pdf");
        let notarize = sign_tx(
            &bob,
            &chain,
            0,
            100,
            Register {
                doc_hash: doc,
                metadata: b"invoice-42.pdf".to_vec(),
            }
            .into_call(),
        );
        for tx in [&create, &mint, &transfer, &notarize] {
            a.submit(&tx.encode()).unwrap();
        }
        let block = step(&a, &b, 1_700_000_001_000);
        assert_eq!(block.txs.len(), 4);
        assert_eq!(a.finalized_height(), 1);
        assert_eq!(a.mempool_len(), 0);
        let r = a.receipt(&transfer.hash(&a.hasher())).unwrap().unwrap();
        assert!(r.is_success(), "{r:?}");
        assert_eq!(r.events[0].kind, "transferred");
        // balance proof verifies against the finalized header on the *other* node
        let q = b.query(&balance_key("CNY", &bob_addr), None).unwrap();
        assert_eq!(decode_balance(q.value.as_deref()).unwrap(), 120);
        verify_state_proof(
            a.hasher().state_hash_kind(),
            q.header.state_root,
            &q.key,
            q.value.as_deref(),
            &q.proof.encode(),
        )
        .unwrap();
        // tampered value fails
        let forged = 999u128.to_be_bytes();
        assert!(q
            .proof
            .verify(q.header.state_root, &q.key, Some(&forged))
            .is_err());
        // notary record and its proof
        let q = a.query(&record_key(&doc), None).unwrap();
        let rec = decode_record(q.value.as_ref().unwrap()).unwrap();
        assert_eq!(rec.owner, bob_addr);
        assert_eq!(rec.timestamp_ms, block.header.timestamp_ms);
        q.proof
            .verify(q.header.state_root, &q.key, q.value.as_deref())
            .unwrap();
        // absent document: non-membership proof
        let missing = a.hash(b"never registered");
        let q = a.query(&record_key(&missing), None).unwrap();
        assert!(q.value.is_none());
        q.proof.verify(q.header.state_root, &q.key, None).unwrap();
        // the certificate is stored with the block
        assert_eq!(a.certificate(1).unwrap(), Some(vec![1, 2, 3]));
        // duplicate notarisation fails but bumps the nonce
        let again = sign_tx(
            &bob,
            &chain,
            1,
            100,
            Register {
                doc_hash: doc,
                metadata: vec![],
            }
            .into_call(),
        );
        a.submit(&again.encode()).unwrap();
        let root_before = a.finalized_block().unwrap().header.state_root;
        step(&a, &b, 1_700_000_002_000);
        let r = a.receipt(&again.hash(&a.hasher())).unwrap().unwrap();
        assert_eq!(r.code, meridian_notary::errors::ALREADY_REGISTERED);
        assert_eq!(a.next_nonce(&bob_addr), 2);
        assert_ne!(a.finalized_block().unwrap().header.state_root, root_before);
    });
}

#[test]
fn rejections_change_nothing() {
    both_suites(|suite| {
        let v = key(suite, 100);
        let g = genesis(suite, std::slice::from_ref(&v));
        let d = tempfile::tempdir().unwrap();
        let a = Ledger::open(d.path(), &g, LedgerConfig::default()).unwrap();
        let alice = key(suite, 1);
        let chain = a.chain_id().clone();
        let call = || {
            BankCall::CreateAsset {
                symbol: "X".into(),
                decimals: 0,
                max_supply: 5,
            }
            .into_call()
        };
        let root = a.finalized_block().unwrap().header.state_root;
        let mut bad_sig = sign_tx(&alice, &chain, 0, 100, call());
        bad_sig.signature[5] ^= 1;
        let other_chain = meridian_types::ChainId::new("other-chain").unwrap();
        let wrong_chain = sign_tx(&alice, &other_chain, 0, 100, call());
        // signed for another chain but relabelled: the signature no longer verifies
        let mut relabelled = wrong_chain.clone();
        relabelled.body.chain_id = chain.clone();
        let expired = sign_tx(&alice, &chain, 0, 0, call());
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (bad_sig.encode(), "tx.bad_signature"),
            (wrong_chain.encode(), "tx.wrong_chain"),
            (relabelled.encode(), "tx.bad_signature"),
            (expired.encode(), "tx.expired"),
            (vec![0u8; 30 * 1024], "tx.oversized"),
            (vec![1, 2, 3], "tx.malformed"),
        ];
        for (raw, code) in cases {
            assert_eq!(a.submit(&raw).unwrap_err().code(), code);
        }
        let good = sign_tx(&alice, &chain, 0, 100, call());
        a.submit(&good.encode()).unwrap();
        assert_eq!(a.submit(&good.encode()).unwrap_err().code(), "tx.replayed");
        assert_eq!(a.mempool_len(), 1);
        assert_eq!(a.finalized_block().unwrap().header.state_root, root);
        let parent = a.finalized_block().unwrap().hash(&a.hasher());
        let b1 = a.propose(&parent, 1, b"l", 1_700_000_001_000).unwrap();
        a.finalize(&b1, vec![]).unwrap();
        // replay of a committed transaction: stale nonce
        assert_eq!(
            a.submit(&good.encode()).unwrap_err().code(),
            "tx.stale_nonce"
        );
        // every refusal above is counted by code; redelivery does not count a block twice
        let m = a.metrics();
        assert_eq!(m.rejected("tx.bad_signature"), 2);
        assert_eq!(m.rejected("tx.oversized"), 1);
        assert_eq!(m.rejected("tx.stale_nonce"), 1);
        a.finalize(&b1, vec![]).unwrap();
        assert_eq!(m.blocks_committed(), 1);
        let text = m.render(a.finalized_height(), a.mempool_len());
        assert!(text.contains("meridian_txs_rejected_total{code=\"tx.replayed\"} 1\n"));
        assert!(text.contains("meridian_block_txs_sum 1\n"));
    });
}

/// A batch gets exactly the outcomes one-by-one submission would give, in input order, and a
/// bad signature hidden in a batch refuses only its own transaction.
#[test]
fn batch_submission_matches_one_by_one() {
    both_suites(|suite| {
        let v = key(suite, 100);
        let g = genesis(suite, std::slice::from_ref(&v));
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let batched = Ledger::open(da.path(), &g, LedgerConfig::default()).unwrap();
        let single = Ledger::open(db.path(), &g, LedgerConfig::default()).unwrap();
        let chain = batched.chain_id().clone();
        let call = |i: u64| {
            BankCall::CreateAsset {
                symbol: format!("A{i}"),
                decimals: 0,
                max_supply: 5,
            }
            .into_call()
        };
        let mut raws = Vec::new();
        for k in 1..=20u8 {
            let signer = key(suite, k);
            for nonce in 0..3 {
                raws.push(sign_tx(&signer, &chain, nonce, 100, call(nonce)).encode());
            }
        }
        let mut bad = sign_tx(&key(suite, 50), &chain, 0, 100, call(0));
        bad.signature[7] ^= 1;
        raws.insert(13, bad.encode());
        raws.insert(30, raws[2].clone()); // the same transaction twice in one batch
        raws.push(vec![1, 2, 3]);
        raws.push(sign_tx(&key(suite, 51), &chain, 0, 0, call(0)).encode()); // expired
        let got: Vec<Result<Hash32, &str>> = batched
            .submit_batch(&raws)
            .into_iter()
            .map(|r| r.map_err(|e| e.code()))
            .collect();
        let want: Vec<Result<Hash32, &str>> = raws
            .iter()
            .map(|raw| single.submit(raw).map_err(|e| e.code()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(got[13], Err("tx.bad_signature"));
        assert_eq!(got[30], Err("tx.replayed"));
        assert_eq!(got.iter().filter(|r| r.is_ok()).count(), 60);
        assert_eq!(batched.mempool_len(), 60);
    });
}

#[test]
fn finalize_wakes_height_waiters() {
    let suite = Suite::Intl;
    let v = key(suite, 100);
    let g = genesis(suite, std::slice::from_ref(&v));
    let d = tempfile::tempdir().unwrap();
    let a = std::sync::Arc::new(Ledger::open(d.path(), &g, LedgerConfig::default()).unwrap());
    use futures::FutureExt as _;
    assert!(a.finalized_above(0).now_or_never().is_none());
    let waiter = {
        let a = a.clone();
        std::thread::spawn(move || futures::executor::block_on(a.finalized_above(0)))
    };
    let parent = a.finalized_block().unwrap().hash(&a.hasher());
    let b1 = a.propose(&parent, 1, b"l", 1_700_000_001_000).unwrap();
    a.finalize(&b1, vec![]).unwrap();
    assert_eq!(waiter.join().unwrap(), 1);
}

/// Consensus and the finalizer may ask for the same block at once; it is executed once and
/// every caller gets the answer.
#[test]
fn concurrent_verifications_of_one_block_execute_it_once() {
    let suite = Suite::Intl;
    let (_dirs, a, b) = two_ledgers(suite);
    for i in 0..200u32 {
        let mut seed = [7u8; 32];
        seed[..4].copy_from_slice(&i.to_be_bytes());
        let sender = PrivateKey::from_seed(suite, &seed);
        let tx = create_asset(&a, &sender, &format!("S{i}"));
        a.submit(&tx.encode()).unwrap();
    }
    let parent = a.finalized_block().unwrap().hash(&a.hasher());
    let block = a.propose(&parent, 1, b"l", 1_700_000_001_000).unwrap();
    assert_eq!(block.txs.len(), 200);
    // b never saw the transactions: each verification would check 200 signatures cold.
    let start = std::sync::Barrier::new(4);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                start.wait();
                b.verify(&block).unwrap();
            });
        }
    });
    assert_eq!(b.metrics().work_count(metrics::BlockWork::Verify), 1);
    b.finalize(&block, vec![1]).unwrap();
    assert_eq!(b.metrics().work_count(metrics::BlockWork::Verify), 1);
    assert_eq!(b.metrics().work_count(metrics::BlockWork::Commit), 1);
}

#[test]
fn verifier_rejects_tampered_blocks() {
    let suite = Suite::Intl;
    let (_dirs, a, b) = two_ledgers(suite);
    let alice = key(suite, 1);
    let tx = create_asset(&a, &alice, "X");
    a.submit(&tx.encode()).unwrap();
    let parent = a.finalized_block().unwrap().hash(&a.hasher());
    let block = a.propose(&parent, 1, b"l", 1_700_000_001_000).unwrap();
    let mut wrong_root = block.clone();
    wrong_root.header.state_root[0] ^= 1;
    assert_eq!(
        b.verify(&wrong_root).unwrap_err().code(),
        "ledger.invalid_block"
    );
    let mut forged_tx = block.clone();
    forged_tx.txs[0].signature[3] ^= 1;
    assert!(b.verify(&forged_tx).is_err());
    let mut orphan = block.clone();
    orphan.header.parent = [9; 32];
    assert_eq!(
        b.verify(&orphan).unwrap_err().code(),
        "ledger.unknown_parent"
    );
    b.verify(&block).unwrap();
}

#[test]
fn pipelined_blocks_and_restart() {
    let suite = Suite::Sm;
    let v = key(suite, 100);
    let g = genesis(suite, std::slice::from_ref(&v));
    let d = tempfile::tempdir().unwrap();
    let alice = key(suite, 1);
    let (h2, root2) = {
        let a = Ledger::open(d.path(), &g, LedgerConfig::default()).unwrap();
        let chain = a.chain_id().clone();
        a.submit(
            &sign_tx(
                &alice,
                &chain,
                0,
                100,
                BankCall::CreateAsset {
                    symbol: "A".into(),
                    decimals: 0,
                    max_supply: 50,
                }
                .into_call(),
            )
            .encode(),
        )
        .unwrap();
        let g_hash = a.finalized_block().unwrap().hash(&a.hasher());
        let b1 = a.propose(&g_hash, 1, b"l", 1_700_000_001_000).unwrap();
        // child on an unfinalized parent
        a.submit(
            &sign_tx(
                &alice,
                &chain,
                1,
                100,
                BankCall::Mint {
                    symbol: "A".into(),
                    to: a.address_of(alice.public_key().as_bytes()),
                    amount: 7,
                }
                .into_call(),
            )
            .encode(),
        )
        .unwrap();
        let b2 = a
            .propose(&b1.hash(&a.hasher()), 2, b"l", 1_700_000_002_000)
            .unwrap();
        assert_eq!(b2.txs.len(), 1);
        a.finalize(&b1, vec![]).unwrap();
        a.finalize(&b2, vec![]).unwrap();
        a.finalize(&b1, vec![]).unwrap(); // redelivery is a no-op
        (a.finalized_height(), b2.header.state_root)
    };
    let a = Ledger::open(d.path(), &g, LedgerConfig::default()).unwrap();
    assert_eq!(a.finalized_height(), h2);
    assert_eq!(a.finalized_block().unwrap().header.state_root, root2);
    drop(a);
    let mut other = g.clone();
    other.timestamp_ms += 1;
    assert_eq!(
        Ledger::open(d.path(), &other, LedgerConfig::default())
            .err()
            .unwrap()
            .code(),
        "ledger.genesis_mismatch"
    );
}

/// Certificate mode through the real ledger, both suites: genesis with an organisation CA,
/// a validator's consensus certificate and an admin; unknown signers, disallowed roles and
/// revoked certificates are refused at admission with their codes; receipts name the signer.
#[test]
fn certificate_mode_admission_and_receipts() {
    use meridian_identity::{CaParams, IssueRequest, OrgCa, Role, Serial, SigningKey};
    use meridian_identity_module::IdentityCall;
    both_suites(|suite| {
        let t0 = 1_700_000_000u64; // genesis time, secs
        let ca_key = SigningKey::try_from(&key(suite, 90)).unwrap();
        let ca = OrgCa::create(
            &CaParams {
                org: "org1".into(),
                common_name: None,
                not_before: t0 - 60,
                not_after: t0 + 3_650 * 86_400,
                serial: Serial::from_u64(1).unwrap(),
            },
            ca_key,
        )
        .unwrap();
        let cert = |k: &PrivateKey, name: &str, role: Role, serial: u64| {
            ca.issue(&IssueRequest {
                name: name.into(),
                role,
                public_key: k.public_key().into(),
                not_before: t0 - 60,
                not_after: t0 + 365 * 86_400,
                serial: Serial::from_u64(serial).unwrap(),
            })
            .unwrap()
        };
        let (v, admin, client, stranger) =
            (key(suite, 100), key(suite, 1), key(suite, 2), key(suite, 3));
        let mut g = genesis(suite, std::slice::from_ref(&v));
        g.orgs = vec![GenesisOrg {
            id: "org1".into(),
            ca_cert: ca.certificate().to_pem().unwrap(),
        }];
        // Without the validator's consensus certificate the genesis is refused.
        g.members = vec![cert(&admin, "admin", Role::Admin, 10).to_pem().unwrap()];
        let d = tempfile::tempdir().unwrap();
        let err = Ledger::open(d.path(), &g, LedgerConfig::default())
            .err()
            .unwrap();
        assert!(err.to_string().contains("consensus certificate"), "{err}");
        g.members
            .push(cert(&v, "node0", Role::Consensus, 11).to_pem().unwrap());
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = Ledger::open(da.path(), &g, LedgerConfig::default()).unwrap();
        let b = Ledger::open(db.path(), &g, LedgerConfig::default()).unwrap();
        let chain = a.chain_id().clone();
        let create = |k: &PrivateKey, nonce: u64, sym: &str| {
            sign_tx(
                k,
                &chain,
                nonce,
                100,
                BankCall::CreateAsset {
                    symbol: sym.into(),
                    decimals: 0,
                    max_supply: 9,
                }
                .into_call(),
            )
            .encode()
        };
        let code = |r: Result<Hash32, MempoolError>| r.err().map(|e| e.code());
        assert_eq!(
            code(a.submit(&create(&stranger, 0, "S"))),
            Some("auth.unknown_member")
        );
        // The client registers its certificate (anyone may present one) ...
        let client_cert = cert(&client, "carol", Role::Client, 12);
        let reg = sign_tx(
            &client,
            &chain,
            0,
            100,
            IdentityCall::Register {
                cert: client_cert.to_der(),
            }
            .into_call(),
        );
        a.submit(&reg.encode()).unwrap();
        let admin_tx = create(&admin, 0, "GOLD");
        a.submit(&admin_tx).unwrap();
        let blk = step(&a, &b, t0 * 1000 + 1_000);
        assert_eq!(blk.txs.len(), 2);
        let admin_hash = SignedTx::decode_untrusted(&admin_tx)
            .unwrap()
            .hash(&a.hasher());
        let r = a.receipt(&admin_hash).unwrap().unwrap();
        assert_eq!(r.code, "ok");
        let signer = r.signer.unwrap();
        assert_eq!(signer.org, "org1");
        // ... and is then a member, but a client may not create assets (policy).
        assert_eq!(
            code(a.submit(&create(&client, 1, "C"))),
            Some("auth.denied")
        );
        // The admin revokes the client's certificate; afterwards every client call is refused.
        let ca_id = *ca.certificate().cert_id(suite).as_bytes();
        let revoke = sign_tx(
            &admin,
            &chain,
            1,
            100,
            IdentityCall::Revoke {
                ca_id,
                serial: client_cert.serial().as_bytes().to_vec(),
            }
            .into_call(),
        );
        a.submit(&revoke.encode()).unwrap();
        step(&a, &b, t0 * 1000 + 2_000);
        let transfer = sign_tx(
            &client,
            &chain,
            1,
            100,
            BankCall::Transfer {
                symbol: "GOLD".into(),
                to: a.address_of(admin.public_key().as_bytes()),
                amount: 1,
            }
            .into_call(),
        );
        assert_eq!(code(a.submit(&transfer.encode())), Some("cert.revoked"));
        // A member whose certificate is P-256 (as a Fabric CA issues) signs with that key on an
        // intl chain; the key counts only in its canonical 33-byte form and with low-s
        // signatures. An sm chain accepts SM2 keys only.
        let mut tagged = vec![meridian_crypto::keys::P256_TAG];
        tagged.extend([7u8; 32]);
        let dave = PrivateKey::from_tagged_bytes(&tagged).unwrap();
        let notarize = |nonce: u64, doc: u8| {
            sign_tx(
                &dave,
                &chain,
                nonce,
                100,
                Register {
                    doc_hash: [doc; 32],
                    metadata: vec![],
                }
                .into_call(),
            )
        };
        if suite == Suite::Sm {
            assert_eq!(
                code(a.submit(&notarize(0, 1).encode())),
                Some("tx.bad_signature")
            );
        } else {
            let dave_cert = cert(&dave, "dave", Role::Member, 13);
            let reg = sign_tx(
                &dave,
                &chain,
                0,
                100,
                IdentityCall::Register {
                    cert: dave_cert.to_der(),
                }
                .into_call(),
            );
            a.submit(&reg.encode()).unwrap();
            step(&a, &b, t0 * 1000 + 3_000);
            let doc = notarize(1, 1);
            // The same transaction with s replaced by n - s verifies under plain ECDSA but is
            // not the canonical signature.
            let mut high_s = doc.clone();
            let sig = p256::ecdsa::Signature::from_slice(&doc.signature).unwrap();
            let (r, s) = sig.split_scalars();
            let flipped = p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes());
            high_s.signature = flipped.unwrap().to_bytes().to_vec();
            assert_eq!(code(a.submit(&high_s.encode())), Some("tx.bad_signature"));
            let mut uncompressed = notarize(1, 2);
            uncompressed.body.sender = dave_cert_sec1_uncompressed(&dave_cert);
            assert_eq!(
                code(a.submit(&uncompressed.encode())),
                Some("tx.bad_signature")
            );
            let doc_hash = a.submit(&doc.encode()).unwrap();
            step(&a, &b, t0 * 1000 + 4_000);
            let r = a.receipt(&doc_hash).unwrap().unwrap();
            assert_eq!(r.code, "ok", "{}", r.message);
            assert_eq!(
                r.signer.unwrap().cert_id,
                *dave_cert.cert_id(suite).as_bytes()
            );
        }
        assert_eq!(
            a.finalized_block().unwrap().header.state_root,
            b.finalized_block().unwrap().header.state_root
        );
    });
}

/// The 65-byte uncompressed SEC1 form of a P-256 certificate's key.
fn dave_cert_sec1_uncompressed(cert: &meridian_identity::Certificate) -> Vec<u8> {
    cert.public_key().subject_public_key_bytes()
}

/// Which address-book nodes may follow the chain (stay connected as non-voting peers) at an
/// epoch boundary: in certificate mode only holders of a registered, unrevoked `consensus`
/// certificate; the answer is read at the given height, so history stays as it was.
#[test]
fn followers_need_a_valid_consensus_certificate() {
    use meridian_identity::{CaParams, IssueRequest, OrgCa, Role, Serial, SigningKey};
    use meridian_identity_module::IdentityCall;
    let suite = Suite::Intl;
    let t0 = 1_700_000_000u64;
    let ca = OrgCa::create(
        &CaParams {
            org: "org1".into(),
            common_name: None,
            not_before: t0 - 60,
            not_after: t0 + 3_650 * 86_400,
            serial: Serial::from_u64(1).unwrap(),
        },
        SigningKey::try_from(&key(suite, 90)).unwrap(),
    )
    .unwrap();
    let cert = |k: &PrivateKey, role: Role, serial: u64| {
        ca.issue(&IssueRequest {
            name: format!("m{serial}"),
            role,
            public_key: k.public_key().into(),
            not_before: t0 - 60,
            not_after: t0 + 365 * 86_400,
            serial: Serial::from_u64(serial).unwrap(),
        })
        .unwrap()
    };
    let (v, admin, node, client, stranger) = (
        key(suite, 100),
        key(suite, 1),
        key(suite, 2),
        key(suite, 3),
        key(suite, 4),
    );
    let mut g = genesis(suite, std::slice::from_ref(&v));
    g.orgs = vec![GenesisOrg {
        id: "org1".into(),
        ca_cert: ca.certificate().to_pem().unwrap(),
    }];
    g.members = vec![
        cert(&admin, Role::Admin, 10).to_pem().unwrap(),
        cert(&v, Role::Consensus, 11).to_pem().unwrap(),
    ];
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Ledger::open(da.path(), &g, LedgerConfig::default()).unwrap();
    let b = Ledger::open(db.path(), &g, LedgerConfig::default()).unwrap();
    let chain = a.chain_id().clone();
    let book = [
        v.public_key(),
        node.public_key(),
        client.public_key(),
        stranger.public_key(),
    ];
    let (validators, followers) = a.members_at(0, &book).unwrap();
    assert_eq!(validators, vec![v.public_key()]);
    assert!(followers.is_empty(), "nobody registered yet");

    let node_cert = cert(&node, Role::Consensus, 12);
    for (k, c) in [
        (&node, &node_cert),
        (&client, &cert(&client, Role::Client, 13)),
    ] {
        let reg = IdentityCall::Register { cert: c.to_der() }.into_call();
        a.submit(&sign_tx(k, &chain, 0, 100, reg).encode()).unwrap();
    }
    step(&a, &b, t0 * 1000 + 1_000);
    let (_, followers) = a.members_at(1, &book).unwrap();
    assert_eq!(
        followers,
        vec![node.public_key()],
        "only the consensus certificate"
    );

    let revoke = IdentityCall::Revoke {
        ca_id: *ca.certificate().cert_id(suite).as_bytes(),
        serial: node_cert.serial().as_bytes().to_vec(),
    }
    .into_call();
    a.submit(&sign_tx(&admin, &chain, 0, 100, revoke).encode())
        .unwrap();
    step(&a, &b, t0 * 1000 + 2_000);
    assert!(a.members_at(2, &book).unwrap().1.is_empty(), "revoked");
    assert_eq!(a.members_at(1, &book).unwrap().1, vec![node.public_key()]);

    // An open chain admits its whole address book.
    let open = genesis(suite, std::slice::from_ref(&v));
    let dc = tempfile::tempdir().unwrap();
    let c = Ledger::open(dc.path(), &open, LedgerConfig::default()).unwrap();
    assert_eq!(c.members_at(0, &book).unwrap().1.len(), 3);
}

/// Counts `execute` calls under key "n"; `query` returns the count (u64 LE) then the Env.
const QUERY_COUNTER: &str = r#"
(module
  (import "meridian" "storage_get" (func $get (param i32 i32) (result i32)))
  (import "meridian" "storage_set" (func $set (param i32 i32 i32 i32)))
  (import "meridian" "buffer_read" (func $read (param i32)))
  (import "meridian" "env" (func $env (result i32)))
  (import "meridian" "set_return" (func $ret (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "n")
  (func (export "instantiate") (result i32) (i32.const 0))
  (func (export "execute") (result i32)
    (if (i32.eq (call $get (i32.const 0) (i32.const 1)) (i32.const 8))
      (then (call $read (i32.const 16))))
    (i64.store (i32.const 16) (i64.add (i64.load (i32.const 16)) (i64.const 1)))
    (call $set (i32.const 0) (i32.const 1) (i32.const 16) (i32.const 8))
    (i32.const 0))
  (func (export "query") (result i32)
    (local $len i32)
    (if (i32.eq (call $get (i32.const 0) (i32.const 1)) (i32.const 8))
      (then (call $read (i32.const 16))))
    (local.set $len (call $env))
    (call $read (i32.const 24))
    (call $ret (i32.const 16) (i32.add (i32.const 8) (local.get $len)))
    (i32.const 0)))
"#;

/// A contract query reports the height whose state it ran on: the env's height and time and
/// every storage read come from one finalized block, even once later blocks are finalized.
#[test]
fn contract_queries_read_one_finalized_snapshot() {
    let suite = Suite::Intl;
    let v = key(suite, 100);
    let g = genesis(suite, std::slice::from_ref(&v));
    let d = tempfile::tempdir().unwrap();
    let l = Ledger::open(d.path(), &g, LedgerConfig::default()).unwrap();
    let alice = key(suite, 1);
    let chain = l.chain_id().clone();
    let produce = |now: u64| {
        let parent = l.finalized_block().unwrap().hash(&l.hasher());
        let block = l.propose(&parent, now, b"leader", now).unwrap();
        l.finalize(&block, vec![1, 2, 3]).unwrap();
        block
    };
    let code = wat::parse_str(QUERY_COUNTER).unwrap();
    let code_hash = l.hash(&code);
    let calls = [
        meridian_contract::ContractCall::Upload {
            code_hash,
            total: code.len() as u32,
            offset: 0,
            bytes: code.clone(),
        },
        meridian_contract::ContractCall::Deploy {
            name: "ctr".into(),
            code_hash,
            msg: Vec::new(),
            fuel: 10_000_000,
            allow_reentry: false,
        },
    ];
    let bump = |nonce: u64| {
        let call = meridian_contract::ContractCall::Call {
            name: "ctr".into(),
            msg: Vec::new(),
            fuel: 10_000_000,
        };
        sign_tx(&alice, &chain, nonce, 100, call.into_call())
    };
    let mut txs: Vec<SignedTx> = calls
        .into_iter()
        .enumerate()
        .map(|(i, c)| sign_tx(&alice, &chain, i as u64, 100, c.into_call()))
        .collect();
    txs.push(bump(2));
    for tx in &txs {
        l.submit(&tx.encode()).unwrap();
    }
    let first = produce(1_700_000_001_000);
    for tx in &txs {
        let r = l.receipt(&tx.hash(&l.hasher())).unwrap().unwrap();
        assert_eq!(r.code, "ok", "{}", r.message);
    }
    l.submit(&bump(3).encode()).unwrap();
    let second = produce(1_700_000_002_000);
    assert_eq!(second.txs.len(), 1);

    // (height, count, env height, env time) of a query's answer.
    let decode = |(height, out): (u64, meridian_vm::RunOutcome)| {
        let data = out.result.unwrap();
        let count = u64::from_le_bytes(data[..8].try_into().unwrap());
        let env = &data[8..];
        let id_len = u32::from_le_bytes(env[..4].try_into().unwrap()) as usize;
        let at = |i: usize| u64::from_le_bytes(env[4 + id_len + i..][..8].try_into().unwrap());
        (height, count, at(0), at(8))
    };
    let h1 = first.header.height;
    let h2 = second.header.height;
    assert_eq!(
        decode(l.contract_query_on(&first, "ctr", b"", 1_000_000).unwrap()),
        (h1, 1, h1, first.header.timestamp_ms),
        "a query pinned to the first block sees its state although the second is final"
    );
    assert_eq!(
        decode(l.contract_query("ctr", b"", 1_000_000).unwrap()),
        (h2, 2, h2, second.header.timestamp_ms)
    );
}
