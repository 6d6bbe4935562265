use super::*;
use crate::SigningKind;
use commonware_codec::{Copying, DecodeExt as _, Encode as _};
use commonware_utils::union_unique;
use curve25519_dalek::{edwards::EdwardsPoint, scalar::clamp_integer, Scalar};
use proptest::prelude::*;
use sha2::{Digest as _, Sha512};

fn hx(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// Textbook RFC 8032 §5.1.6 Ed25519 signing over curve25519-dalek: an independent oracle. It is
/// checked against the RFC vectors byte for byte, then commonware's Ed25519 is checked against it
/// (commonware only signs namespaced payloads, so the RFC messages cannot be fed to it directly).
fn oracle_sign(secret: &[u8; 32], msg: &[u8]) -> ([u8; 32], [u8; 64]) {
    let h: [u8; 64] = Sha512::digest(secret).into();
    let mut lower = [0u8; 32];
    lower.copy_from_slice(&h[..32]);
    let a = Scalar::from_bytes_mod_order(clamp_integer(lower));
    let public = EdwardsPoint::mul_base(&a).compress().to_bytes();
    let r: [u8; 64] = Sha512::new()
        .chain_update(&h[32..])
        .chain_update(msg)
        .finalize()
        .into();
    let r = Scalar::from_bytes_mod_order_wide(&r);
    let big_r = EdwardsPoint::mul_base(&r).compress().to_bytes();
    let k: [u8; 64] = Sha512::new()
        .chain_update(big_r)
        .chain_update(public)
        .chain_update(msg)
        .finalize()
        .into();
    let k = Scalar::from_bytes_mod_order_wide(&k);
    let s = r + k * a;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&big_r);
    sig[32..].copy_from_slice(s.as_bytes());
    (public, sig)
}

/// RFC 8032 §7.1 TEST 1, 2 and 3: (secret, public, message, signature).
const RFC8032: [(&str, &str, &str, &str); 3] = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
];

#[test]
fn rfc8032_vectors_1_2_3() {
    for (secret, public, msg, sig) in RFC8032 {
        let secret: [u8; 32] = hx(secret).try_into().unwrap();
        let msg = hx(msg);
        // The oracle reproduces the RFC exactly.
        let (pk, s) = oracle_sign(&secret, &msg);
        assert_eq!(pk.to_vec(), hx(public));
        assert_eq!(s.to_vec(), hx(sig));

        // Our key (commonware Ed25519): secret -> public key, exact bytes.
        let key = PrivateKey::from_bytes(Suite::Intl, &secret).unwrap();
        assert_eq!(key.public_key().as_bytes(), hx(public).as_slice());
        assert_eq!(key.to_bytes().as_ref(), &secret);
        // Same key via from_seed (seed = RFC 8032 secret).
        assert_eq!(
            PrivateKey::from_seed(Suite::Intl, &secret).public_key(),
            key.public_key()
        );

        // Our signatures are RFC 8032 signatures over the documented payload, exact bytes.
        let domain = Domain::new("meridian-intl", SigningKind::Transaction).unwrap();
        let ours = key.sign(&domain, &msg);
        let (_, expect) = oracle_sign(&secret, &domain.signing_payload(&msg));
        assert_eq!(ours.as_bytes(), expect.as_slice());
        key.public_key().verify(&domain, &msg, &ours).unwrap();
        // And through the bare commonware trait with an empty namespace.
        if let PrivateKey::Ed25519(k) = &key {
            use commonware_cryptography::Signer as _;
            let (_, expect) = oracle_sign(&secret, &union_unique(b"", &msg));
            assert_eq!(k.sign(b"", &msg).as_ref(), expect.as_slice());
        }
    }
}

fn domains() -> (Domain, Domain, Domain) {
    (
        Domain::new("chain-a", SigningKind::Transaction).unwrap(),
        Domain::new("chain-b", SigningKind::Transaction).unwrap(),
        Domain::new("chain-a", SigningKind::ConsensusVote).unwrap(),
    )
}

#[test]
fn sign_verify_and_negative_cases_both_suites() {
    let (a, b, a_vote) = domains();
    for suite in Suite::ALL {
        let key = PrivateKey::from_seed(suite, &[5u8; 32]);
        let pk = key.public_key();
        assert_eq!(key.suite(), suite);
        assert_eq!(pk.suite(), suite);
        assert_eq!(pk.as_bytes().len(), suite.public_key_len());
        let sig = key.sign(&a, b"payload");
        assert_eq!(sig.suite(), suite);
        assert_eq!(sig.as_bytes().len(), suite.signature_len());
        pk.verify(&a, b"payload", &sig).unwrap();
        pk.verify_bytes(&a, b"payload", sig.as_bytes()).unwrap();

        // Wrong chain, wrong kind, tampered message.
        assert_eq!(
            pk.verify(&b, b"payload", &sig),
            Err(CryptoError::BadSignature)
        );
        assert_eq!(
            pk.verify(&a_vote, b"payload", &sig),
            Err(CryptoError::BadSignature)
        );
        assert_eq!(
            pk.verify(&a, b"payloaD", &sig),
            Err(CryptoError::BadSignature)
        );
        // Wrong key.
        let other = PrivateKey::from_seed(suite, &[6u8; 32]).public_key();
        assert_eq!(
            other.verify(&a, b"payload", &sig),
            Err(CryptoError::BadSignature)
        );
        // Tampered signature (every byte position class).
        for i in [0, 31, 32, 63] {
            let mut bad = sig.as_bytes().to_vec();
            bad[i] ^= 0x01;
            let r = pk.verify_bytes(&a, b"payload", &bad);
            assert!(
                matches!(
                    r,
                    Err(CryptoError::BadSignature | CryptoError::MalformedSignature)
                ),
                "{suite} byte {i}: {r:?}"
            );
        }
        // Malformed lengths.
        assert_eq!(
            pk.verify_bytes(&a, b"payload", &sig.as_bytes()[..63]),
            Err(CryptoError::MalformedSignature)
        );
    }
    // Suite mismatch.
    let sm = PrivateKey::from_seed(Suite::Sm, &[1u8; 32]);
    let intl = PrivateKey::from_seed(Suite::Intl, &[1u8; 32]);
    let sig = intl.sign(&a, b"x");
    assert_eq!(
        sm.public_key().verify(&a, b"x", &sig),
        Err(CryptoError::SuiteMismatch)
    );
}

#[test]
fn generate_from_rng() {
    let mut rng = commonware_utils::test_rng();
    for suite in Suite::ALL {
        let k1 = PrivateKey::generate(suite, &mut rng);
        let k2 = PrivateKey::generate(suite, &mut rng);
        assert_eq!(k1.suite(), suite);
        assert_ne!(k1.public_key(), k2.public_key());
    }
}

#[test]
fn debug_is_redacted() {
    for suite in Suite::ALL {
        let key = PrivateKey::from_seed(suite, &[0xabu8; 32]);
        let secret_hex = hex::encode(key.to_bytes().as_ref());
        let dbg = format!("{key:?}");
        assert!(dbg.contains("REDACTED"), "{dbg}");
        assert!(!dbg.contains(&secret_hex[..16]));
    }
}

#[test]
fn tagged_and_codec_encodings() {
    for suite in Suite::ALL {
        let key = PrivateKey::from_seed(suite, &[3u8; 32]);
        let back = PrivateKey::from_tagged_bytes(&key.to_tagged_bytes()).unwrap();
        assert_eq!(back.public_key(), key.public_key());
        let pk = key.public_key();
        let t = pk.to_tagged_bytes();
        assert_eq!(t[0], suite.tag());
        assert_eq!(PublicKey::from_tagged_bytes(&t).unwrap(), pk);
        assert_eq!(PublicKey::decode(pk.encode()).unwrap(), pk);
        let d = Domain::new("c", SigningKind::Transaction).unwrap();
        let sig = key.sign(&d, b"m");
        assert_eq!(
            Signature::from_tagged_bytes(&sig.to_tagged_bytes()).unwrap(),
            sig
        );
        assert_eq!(Signature::decode(sig.encode()).unwrap(), sig);
        // Truncated / extended / unknown tag.
        assert!(PublicKey::from_tagged_bytes(&t[..t.len() - 1]).is_err());
        let mut long = t.clone();
        long.push(0);
        assert!(PublicKey::from_tagged_bytes(&long).is_err());
        assert!(PublicKey::decode(Copying(&long)).is_err());
        let mut unknown = t.clone();
        unknown[0] = 9;
        assert_eq!(
            PublicKey::from_tagged_bytes(&unknown).err(),
            Some(CryptoError::UnknownSuite)
        );
        assert!(PublicKey::decode(Copying(&unknown)).is_err());
    }
    assert_eq!(
        PublicKey::from_tagged_bytes(&[]).err(),
        Some(CryptoError::MalformedEncoding)
    );
    assert!(PrivateKey::from_bytes(Suite::Intl, &[0u8; 31]).is_err());
    assert!(PublicKey::from_bytes(Suite::Intl, &[0u8; 33]).is_err());
    assert!(Signature::from_bytes(Suite::Intl, &[0u8; 65]).is_err());
}

fn suite_strategy() -> impl Strategy<Value = Suite> {
    prop_oneof![Just(Suite::Sm), Just(Suite::Intl)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn prop_key_and_signature_roundtrip(
        suite in suite_strategy(),
        seed in any::<[u8; 32]>(),
        chain in "[a-z0-9-]{1,64}",
        msg in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let key = PrivateKey::from_seed(suite, &seed);
        let key2 = PrivateKey::from_bytes(suite, key.to_bytes().as_ref()).unwrap();
        prop_assert_eq!(key2.public_key(), key.public_key());
        let pk = PublicKey::from_bytes(suite, key.public_key().as_bytes()).unwrap();
        prop_assert_eq!(&pk, &key.public_key());
        prop_assert_eq!(PublicKey::from_tagged_bytes(&pk.to_tagged_bytes()).unwrap(), pk.clone());
        let domain = Domain::new(chain, SigningKind::Transaction).unwrap();
        let sig = key.sign(&domain, &msg);
        let sig2 = Signature::from_bytes(suite, sig.as_bytes()).unwrap();
        prop_assert_eq!(&sig2, &sig);
        prop_assert_eq!(Signature::decode(sig.encode()).unwrap(), sig.clone());
        prop_assert!(pk.verify(&domain, &msg, &sig2).is_ok());
    }

    #[test]
    fn prop_garbage_never_panics(suite in suite_strategy(), bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let _ = PublicKey::from_bytes(suite, &bytes);
        let _ = Signature::from_bytes(suite, &bytes);
        let _ = PrivateKey::from_bytes(suite, &bytes);
        let _ = PublicKey::from_tagged_bytes(&bytes);
        let _ = Signature::from_tagged_bytes(&bytes);
        let _ = PublicKey::decode(Copying(&bytes));
    }
}

#[test]
fn batch_verification_accepts_valid_and_rejects_any_bad_item() {
    for suite in Suite::ALL {
        let domain = Domain::new("batch-chain", SigningKind::Transaction).unwrap();
        let keys: Vec<PrivateKey> = (0..40u8)
            .map(|i| PrivateKey::from_seed(suite, &[i; 32]))
            .collect();
        let pubs: Vec<PublicKey> = keys.iter().map(|k| k.public_key()).collect();
        let msgs: Vec<Vec<u8>> = (0..40u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let mut sigs: Vec<Signature> = keys
            .iter()
            .zip(&msgs)
            .map(|(k, m)| k.sign(&domain, m))
            .collect();
        fn items<'a>(
            pubs: &'a [PublicKey],
            msgs: &'a [Vec<u8>],
            sigs: &'a [Signature],
        ) -> Vec<BatchItem<'a>> {
            (0..pubs.len())
                .map(|i| BatchItem {
                    public_key: &pubs[i],
                    msg: &msgs[i],
                    signature: &sigs[i],
                })
                .collect()
        }
        let mut rng = rand::rng();
        assert!(
            verify_batch(&mut rng, &domain, &items(&pubs, &msgs, &sigs)),
            "{suite}"
        );
        assert!(verify_batch(&mut rng, &domain, &[]));
        // Another domain: every signature is wrong there.
        let other = Domain::new("other-chain", SigningKind::Transaction).unwrap();
        assert!(
            !verify_batch(&mut rng, &other, &items(&pubs, &msgs, &sigs)),
            "{suite}"
        );
        // One signature swapped for a valid signature over another message.
        sigs[17] = keys[17].sign(&domain, b"something else");
        assert!(
            !verify_batch(&mut rng, &domain, &items(&pubs, &msgs, &sigs)),
            "{suite}"
        );
    }
}

/// P-256 transaction keys (intl): RFC 6979 key from the RFC's vector, signatures framed in the
/// domain like every other suite key, one canonical (low-s) signature, algorithm-tagged
/// encodings, and a batch mixing P-256 and Ed25519.
#[test]
fn p256_transaction_keys() {
    let (d1, d2, _) = domains();
    let secret = hx("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721");
    let mut tagged = vec![P256_TAG];
    tagged.extend(&secret);
    let key = PrivateKey::from_tagged_bytes(&tagged).unwrap();
    assert_eq!(key.suite(), Suite::Intl);
    assert_eq!(&key.to_tagged_bytes()[..], &tagged[..]);
    let pk = key.public_key();
    // RFC 6979 A.2.5 public key, compressed (Uy is odd: prefix 0x03).
    assert_eq!(
        hex::encode(pk.as_bytes()),
        "0360fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
    );
    // Raw intl bytes: 33 = P-256, 32 = Ed25519; uncompressed input is normalised.
    assert_eq!(
        PublicKey::from_bytes(Suite::Intl, pk.as_bytes()).unwrap(),
        pk
    );
    let mut unc = vec![0x04];
    unc.extend(hx(
        "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6",
    ));
    unc.extend(hx(
        "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299",
    ));
    assert_eq!(PublicKey::from_bytes(Suite::Intl, &unc).unwrap(), pk);

    let sig = key.sign(&d1, b"transfer 10");
    pk.verify(&d1, b"transfer 10", &sig).unwrap();
    assert_eq!(
        pk.verify(&d2, b"transfer 10", &sig),
        Err(CryptoError::BadSignature),
        "bound to the chain"
    );
    assert_eq!(
        pk.verify(&d1, b"transfer 11", &sig),
        Err(CryptoError::BadSignature)
    );
    // Deterministic (RFC 6979) and low-s.
    assert_eq!(key.sign(&d1, b"transfer 10"), sig);
    pk.verify_bytes(&d1, b"transfer 10", sig.as_bytes())
        .unwrap();
    let raw = p256::ecdsa::Signature::from_slice(sig.as_bytes()).unwrap();
    assert_eq!(raw.normalize_s(), raw);
    let (r, s) = raw.split_scalars();
    let high = p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
    assert_eq!(
        pk.verify_bytes(&d1, b"transfer 10", &high.to_bytes()),
        Err(CryptoError::MalformedSignature),
        "the high-s twin is not accepted"
    );
    // The same bytes are what the domain prescribes: plain ECDSA over the framed payload.
    crate::verify_p256(
        pk.as_bytes(),
        &d1.signing_payload(b"transfer 10"),
        sig.as_bytes(),
    )
    .unwrap();

    // Tagged and codec encodings carry the algorithm.
    assert_eq!(pk.to_tagged_bytes()[0], P256_TAG);
    assert_eq!(
        PublicKey::from_tagged_bytes(&pk.to_tagged_bytes()).unwrap(),
        pk
    );
    assert_eq!(
        Signature::from_tagged_bytes(&sig.to_tagged_bytes()).unwrap(),
        sig
    );
    assert_eq!(PublicKey::decode(pk.encode()).unwrap(), pk);
    assert_eq!(Signature::decode(sig.encode()).unwrap(), sig);
    let mut bad = pk.to_tagged_bytes();
    bad.truncate(20);
    assert!(PublicKey::from_tagged_bytes(&bad).is_err());

    // A batch mixing P-256 and Ed25519 items; one bad P-256 item fails it.
    let ed = PrivateKey::from_seed(Suite::Intl, &[5; 32]);
    let (edpk, edsig) = (ed.public_key(), ed.sign(&d1, b"m2"));
    fn pair<'a>(
        pk: &'a PublicKey,
        s: &'a Signature,
        edpk: &'a PublicKey,
        edsig: &'a Signature,
    ) -> Vec<BatchItem<'a>> {
        vec![
            BatchItem {
                public_key: pk,
                msg: b"transfer 10",
                signature: s,
            },
            BatchItem {
                public_key: edpk,
                msg: b"m2",
                signature: edsig,
            },
        ]
    }
    assert!(verify_batch(
        &mut rand::rng(),
        &d1,
        &pair(&pk, &sig, &edpk, &edsig)
    ));
    let other = key.sign(&d1, b"other");
    assert!(!verify_batch(
        &mut rand::rng(),
        &d1,
        &pair(&pk, &other, &edpk, &edsig)
    ));
}
