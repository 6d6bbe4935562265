//! Roundtrip property tests for every encoded type, plus frozen encodings.

use crate::*;
use proptest::prelude::*;
use sha2::Digest;

pub(crate) struct Sha;
impl HashFn for Sha {
    fn hash(&self, d: &[u8]) -> Hash32 {
        sha2::Sha256::digest(d).into()
    }
}

fn chain_id() -> impl Strategy<Value = ChainId> {
    "[a-z0-9._-]{1,64}".prop_map(|s| ChainId::new(s).unwrap())
}

fn call() -> impl Strategy<Value = Call> {
    (
        "[a-z]{1,32}",
        "[a-z_]{1,32}",
        proptest::collection::vec(any::<u8>(), 0..256),
    )
        .prop_map(|(module, method, args)| Call {
            module,
            method,
            args,
        })
}

fn signed_tx() -> impl Strategy<Value = SignedTx> {
    (
        chain_id(),
        proptest::collection::vec(any::<u8>(), 0..=65),
        any::<u64>(),
        any::<u64>(),
        call(),
        proptest::collection::vec(any::<u8>(), 0..=72),
    )
        .prop_map(
            |(chain_id, sender, nonce, expiry_height, call, signature)| SignedTx {
                body: TxBody {
                    chain_id,
                    sender,
                    nonce,
                    expiry_height,
                    call,
                },
                signature,
            },
        )
}

fn header() -> impl Strategy<Value = Header> {
    (
        chain_id(),
        any::<u64>(),
        any::<[u8; 32]>(),
        any::<u64>(),
        any::<u64>(),
        proptest::collection::vec(any::<u8>(), 0..=65),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
    )
        .prop_map(
            |(
                chain_id,
                height,
                parent,
                timestamp_ms,
                view,
                proposer,
                tx_root,
                receipts_root,
                state_root,
            )| Header {
                chain_id,
                height,
                parent,
                timestamp_ms,
                view,
                proposer,
                tx_root,
                receipts_root,
                state_root,
            },
        )
}

fn event() -> impl Strategy<Value = Event> {
    (
        "[a-z]{1,32}",
        "[a-z_]{1,32}",
        proptest::collection::vec(any::<u8>(), 0..128),
    )
        .prop_map(|(module, kind, data)| Event { module, kind, data })
}

fn receipt() -> impl Strategy<Value = Receipt> {
    (
        any::<[u8; 32]>(),
        any::<u64>(),
        any::<u32>(),
        any::<[u8; 20]>(),
        "[a-z._]{1,40}",
        "[ -~]{0,100}",
        proptest::collection::vec(event(), 0..5),
        proptest::option::of(("[a-z0-9-]{1,20}", any::<[u8; 32]>())),
        any::<u64>(),
    )
        .prop_map(
            |(tx_hash, height, index, sender, code, message, events, signer, gas_used)| Receipt {
                tx_hash,
                height,
                index,
                sender: Address(sender),
                code,
                message,
                events,
                signer: signer.map(|(org, cert_id)| crate::SignerId { org, cert_id }),
                gas_used,
            },
        )
}

proptest! {
    #[test]
    fn tx_roundtrip(tx in signed_tx()) {
        let bytes = tx.encode();
        prop_assert_eq!(SignedTx::decode_untrusted(&bytes).unwrap(), tx);
    }

    #[test]
    fn block_roundtrip(header in header(), txs in proptest::collection::vec(signed_tx(), 0..4)) {
        let b = Block { header, txs };
        prop_assert_eq!(Block::decode_untrusted(&b.encode()).unwrap(), b);
    }

    #[test]
    fn receipt_roundtrip(r in receipt()) {
        prop_assert_eq!(decode_exact::<Receipt>(&r.encode()).unwrap(), r);
    }

    #[test]
    fn truncation_never_panics(tx in signed_tx(), cut in any::<prop::sample::Index>()) {
        let bytes = tx.encode();
        let n = cut.index(bytes.len());
        prop_assert!(SignedTx::decode_untrusted(&bytes[..n]).is_err());
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = SignedTx::decode_untrusted(&bytes);
        let _ = Block::decode_untrusted(&bytes);
        let _ = decode_exact::<Receipt>(&bytes);
    }

    #[test]
    fn merkle_proofs_verify(n in 1usize..40, seed in any::<u8>()) {
        let items: Vec<Hash32> = (0..n).map(|i| Sha.hash(&[seed, i as u8])).collect();
        let root = merkle_root(&Sha, &items);
        for (i, item) in items.iter().enumerate() {
            let p = merkle_proof(&Sha, &items, i).unwrap();
            let p2: MerkleProof = decode_exact(&p.encode()).unwrap();
            prop_assert!(verify_merkle_proof(&Sha, &root, item, &p2));
            let other = Sha.hash(b"other");
            prop_assert!(!verify_merkle_proof(&Sha, &root, &other, &p2));
        }
    }
}

/// Frozen encoding: changing the transaction format must be a deliberate act.
#[test]
fn tx_encoding_is_frozen() {
    let tx = SignedTx {
        body: TxBody {
            chain_id: ChainId::new("test-1").unwrap(),
            sender: vec![2; 33],
            nonce: 7,
            expiry_height: 100,
            call: Call {
                module: "bank".into(),
                method: "transfer".into(),
                args: vec![1, 2, 3],
            },
        },
        signature: vec![9; 64],
    };
    let bytes = tx.encode();
    assert_eq!(
        bytes.len(),
        4 + 6 + 4 + 33 + 8 + 8 + 4 + 4 + 4 + 8 + 4 + 3 + 4 + 64
    );
    assert_eq!(
        &bytes[..10],
        &[0, 0, 0, 6, b't', b'e', b's', b't', b'-', b'1']
    );
    assert_eq!(hex::encode(tx.hash(&Sha)), FROZEN_TX_HASH);
}

const FROZEN_TX_HASH: &str = "73edce01b420855693172442bca8cd7556d716dba59b7151d14165b6083c12b2";

#[test]
fn chain_id_rules() {
    assert!(ChainId::new("").is_err());
    assert!(ChainId::new("Upper").is_err());
    assert!(ChainId::new("a".repeat(65)).is_err());
    assert!(ChainId::new("region-a.main_1").is_ok());
}

#[test]
fn empty_merkle_root_is_zero() {
    assert_eq!(merkle_root(&Sha, &[]), [0u8; 32]);
}
