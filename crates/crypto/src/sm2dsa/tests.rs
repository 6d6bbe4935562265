use super::*;
use crate::SigningKind;
use commonware_codec::{Copying, DecodeExt as _, Encode as _};
use commonware_cryptography::{Signer as _, Verifier as _};
use proptest::prelude::*;
use sm2::{
    dsa::signature::hazmat::PrehashVerifier as _,
    elliptic_curve::{ops::Reduce, point::AffineCoordinates as _, Group as _, PrimeField as _},
    FieldBytes, ProjectivePoint, Scalar,
};

fn hx(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn arr32(s: &str) -> [u8; 32] {
    hx(s).try_into().unwrap()
}

// GM/T 0003.5-2012 (GB/T 32918.5-2017) Appendix A: signature example on the recommended curve
// sm2p256v1 with the default ID "1234567812345678" (also used by OpenSSL's sm2_internal_test.c).
const D: &str = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8";
const XA: &str = "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020";
const YA: &str = "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13";
const ZA: &str = "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3";
const MSG: &[u8] = b"message digest";
const E: &str = "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640";
const K: &str = "59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21";
const R: &str = "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3";
const S: &str = "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa";

/// GM/T 0003.2 §6.1 signing with an explicit nonce `k` (steps A4–A6), written with the `sm2`
/// crate's field arithmetic. The `sm2` crate only signs with RFC 6979 nonces, so this is how the
/// standard's fixed-`k` example is reproduced byte for byte.
fn sign_with_fixed_k(d: &[u8; 32], e: &[u8; 32], k: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    let d = Scalar::from_repr((*d).into()).unwrap();
    let k = Scalar::from_repr((*k).into()).unwrap();
    let e = <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(*e));
    let x1 = ProjectivePoint::mul_by_generator(&k).to_affine().x();
    let r = e + <Scalar as Reduce<FieldBytes>>::reduce(&x1);
    let s = (d + Scalar::ONE).invert().unwrap() * (k - r * d);
    (r.to_repr().into(), s.to_repr().into())
}

fn standard_key() -> PrivateKey {
    PrivateKey::from_bytes(&hx(D)).unwrap()
}

#[test]
fn gmt0003_key_and_za() {
    let sk = standard_key();
    let pk = sk.public_key();
    let unc = pk.to_uncompressed();
    assert_eq!(unc[0], 0x04);
    assert_eq!(&unc[1..33], hx(XA).as_slice());
    assert_eq!(&unc[33..], hx(YA).as_slice());
    assert_eq!(pk.distid(), DEFAULT_DISTID);
    // Z_A (GM/T 0009) both through the key and the free function.
    assert_eq!(pk.za().to_vec(), hx(ZA));
    let mut xy = [0u8; 64];
    xy.copy_from_slice(&unc[1..]);
    assert_eq!(compute_za(DEFAULT_DISTID, &xy).unwrap().to_vec(), hx(ZA));
    // e = SM3(Z_A || M)
    let e: [u8; 32] = sm3::Sm3::new()
        .chain_update(hx(ZA))
        .chain_update(MSG)
        .finalize()
        .into();
    assert_eq!(e.to_vec(), hx(E));
    // Parsing the uncompressed form normalises to the compressed encoding.
    let pk2 = PublicKey::from_bytes(&unc).unwrap();
    assert_eq!(pk2, pk);
    assert_eq!(pk2.as_bytes()[0] & 0xfe, 0x02);
}

#[test]
fn gmt0003_signature_example_fixed_k() {
    // Sign with the standard's k: exact r, s.
    let (r, s) = sign_with_fixed_k(&arr32(D), &arr32(E), &arr32(K));
    assert_eq!(r.to_vec(), hx(R));
    assert_eq!(s.to_vec(), hx(S));
    // The published signature verifies through this crate (which derives Z_A itself) ...
    let sig = Signature::from_scalars(&arr32(R), &arr32(S)).unwrap();
    let pk = standard_key().public_key();
    assert!(pk.verify_raw(MSG, &sig));
    // ... and through the prehash path with the standard's e.
    assert!(pk.inner().verify_prehash(&hx(E), &sig.inner).is_ok());
    // Tampering breaks it.
    assert!(!pk.verify_raw(b"message digesT", &sig));
    let mut bad = *sig.as_bytes();
    bad[63] ^= 1;
    assert!(!pk.verify_raw(MSG, &Signature::from_bytes(&bad).unwrap()));
    // A different ID changes Z_A, so the signature no longer verifies.
    let other = pk.with_distid("ALICE123@YAHOO.COM").unwrap();
    assert_ne!(other.za(), pk.za());
    assert!(!other.verify_raw(MSG, &sig));
}

/// Vector from the `sm2` crate's own test suite (sm2-0.14.0/tests/sm2dsa.rs), produced with
/// `openssl pkeyutl -sign ... -digest sm3 -pkeyopt distid:example@rustcrypto.org`: exercises a
/// custom distinguishing ID against an independent implementation.
#[test]
fn openssl_vector_with_custom_distid() {
    let pk = PublicKey::from_bytes_with_distid(
        &hx("0408d77ae04c01cc4c1104360dd8af6b6f7df334283d7c1a6afd5652407b87bee5014e2a57c36c150d16324dc664e31e6432359609c4e79847a5b161c8c7364c8a"),
        "example@rustcrypto.org",
    )
    .unwrap();
    let sig = Signature::from_bytes(&hx(concat!(
        "d1dcccedd9fb785e0f67c16b7c52901625c0b69de9bca2144acc7be713cad2fc",
        "f7d1eae6e3a157b36c65f672f738ca8b46298bf149a6510072c431b49cd88b1c"
    )))
    .unwrap();
    assert!(pk.verify_raw(b"testing", &sig));
    assert!(!pk
        .with_distid(DEFAULT_DISTID)
        .unwrap()
        .verify_raw(b"testing", &sig));
}

#[test]
fn own_signatures_verify_and_are_deterministic() {
    let sk = standard_key();
    let pk = sk.public_key();
    let s1 = sk.sign_raw(MSG);
    assert_eq!(s1, sk.sign_raw(MSG));
    assert!(pk.verify_raw(MSG, &s1));
    // Custom-ID keys sign under their ID.
    let sk_id = PrivateKey::from_bytes_with_distid(&hx(D), "ALICE123@YAHOO.COM").unwrap();
    let s2 = sk_id.sign_raw(MSG);
    assert!(sk_id.public_key().verify_raw(MSG, &s2));
    assert!(!pk.verify_raw(MSG, &s2));
    assert_ne!(sk, sk_id);
}

#[test]
fn domain_separation() {
    let sk = PrivateKey::derive_from_seed(&[1u8; 32]);
    let pk = sk.public_key();
    let a = Domain::new("chain-a", SigningKind::Transaction).unwrap();
    let b = Domain::new("chain-b", SigningKind::Transaction).unwrap();
    let a_vote = Domain::new("chain-a", SigningKind::ConsensusVote).unwrap();
    let sig = sk.sign_domain(&a, b"m");
    pk.verify_domain(&a, b"m", &sig).unwrap();
    assert_eq!(
        pk.verify_domain(&b, b"m", &sig),
        Err(CryptoError::BadSignature)
    );
    assert_eq!(
        pk.verify_domain(&a_vote, b"m", &sig),
        Err(CryptoError::BadSignature)
    );
    // The domain signature is exactly the commonware signature under namespace = prefix.
    assert!(pk.verify(a.prefix(), b"m", &sig));
    assert_eq!(sig, sk.sign(a.prefix(), b"m"));
    assert!(pk.verify_raw(&a.signing_payload(b"m"), &sig));
}

#[test]
fn commonware_traits_sign_verify() {
    let sk = PrivateKey::random(commonware_utils::test_rng());
    let pk = commonware_cryptography::Signer::public_key(&sk);
    let sig = sk.sign(b"ns", b"hello");
    assert!(pk.verify(b"ns", b"hello", &sig));
    assert!(!pk.verify(b"ns2", b"hello", &sig));
    assert!(!pk.verify(b"ns", b"hellp", &sig));
    assert!(!pk.verify(b"", b"nshello", &sig));
    let other = PrivateKey::from_seed(1);
    assert!(!commonware_cryptography::Signer::public_key(&other).verify(b"ns", b"hello", &sig));
}

#[test]
fn codec_roundtrip_and_sizes() {
    let sk = PrivateKey::derive_from_seed(&[9u8; 32]);
    let enc = sk.encode();
    assert_eq!(enc.len(), PRIVATE_KEY_LEN);
    assert_eq!(PrivateKey::decode(enc).unwrap(), sk);
    let pk = sk.public_key();
    let enc = pk.encode();
    assert_eq!(enc.len(), PUBLIC_KEY_LEN);
    assert_eq!(PublicKey::decode(enc).unwrap(), pk);
    let sig = sk.sign(b"ns", b"m");
    let enc = sig.encode();
    assert_eq!(enc.len(), SIGNATURE_LEN);
    assert_eq!(Signature::decode(enc).unwrap(), sig);
    // Trailing bytes are rejected by decode.
    let mut long = pk.encode().to_vec();
    long.push(0);
    assert!(PublicKey::decode(Copying(&long)).is_err());
}

#[test]
fn malformed_encodings_are_rejected() {
    let n = hx("fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123");
    // Private keys: zero, n, > n, wrong length.
    assert!(PrivateKey::from_bytes(&[0u8; 32]).is_err());
    assert!(PrivateKey::from_bytes(&n).is_err());
    assert!(PrivateKey::from_bytes(&[0xffu8; 32]).is_err());
    assert!(PrivateKey::from_bytes(&[1u8; 31]).is_err());
    assert!(PrivateKey::decode(Copying(&[0u8; 32])).is_err());
    // Signatures: r = 0, s = 0, r = n, wrong length.
    let good = PrivateKey::derive_from_seed(&[2u8; 32]).sign(b"", b"m");
    let mut zero_r = *good.as_bytes();
    zero_r[..32].fill(0);
    assert_eq!(
        Signature::from_bytes(&zero_r).err(),
        Some(CryptoError::MalformedSignature)
    );
    let mut zero_s = *good.as_bytes();
    zero_s[32..].fill(0);
    assert!(Signature::from_bytes(&zero_s).is_err());
    let mut r_n = *good.as_bytes();
    r_n[..32].copy_from_slice(&n);
    assert!(Signature::from_bytes(&r_n).is_err());
    assert!(Signature::from_bytes(&good.as_bytes()[..63]).is_err());
    assert!(Signature::decode(Copying(&zero_r)).is_err());
    // Public keys: wrong prefix, x not on curve, x >= p, identity, wrong length.
    let pk = PrivateKey::derive_from_seed(&[3u8; 32]).public_key();
    let mut bad = *pk.as_bytes();
    bad[0] = 0x05;
    assert_eq!(
        PublicKey::from_bytes(&bad).err(),
        Some(CryptoError::InvalidPublicKey)
    );
    let mut x_big = [0xffu8; 33];
    x_big[0] = 0x02;
    assert!(PublicKey::from_bytes(&x_big).is_err());
    assert!(PublicKey::from_bytes(&[0u8]).is_err());
    assert!(PublicKey::from_bytes(&[0u8; 33]).is_err());
    assert!(PublicKey::from_bytes(&pk.as_bytes()[..32]).is_err());
    // Find an x with no point (about half of all x): must be rejected.
    let mut found_invalid = false;
    for i in 0u8..64 {
        let mut cand = [0u8; 33];
        cand[0] = 0x02;
        cand[32] = i;
        cand[1] = 0x10;
        if PublicKey::from_bytes(&cand).is_err() {
            found_invalid = true;
            break;
        }
    }
    assert!(found_invalid);
    // Distinguishing ID too long.
    assert_eq!(
        PublicKey::from_bytes_with_distid(pk.as_bytes(), &"x".repeat(MAX_DISTID_LEN + 1)).err(),
        Some(CryptoError::InvalidDistId)
    );
    assert!(PublicKey::from_bytes_with_distid(pk.as_bytes(), &"x".repeat(MAX_DISTID_LEN)).is_ok());
}

#[test]
fn debug_never_prints_secret() {
    let sk = PrivateKey::from_bytes(&hx(D)).unwrap();
    for s in [format!("{sk:?}"), format!("{sk}")] {
        assert!(s.contains("REDACTED"));
        assert!(!s.to_lowercase().contains(&D[..16]));
    }
}

#[test]
fn seeded_keys_are_deterministic_and_distinct() {
    let a = PrivateKey::derive_from_seed(&[1u8; 32]);
    assert_eq!(a, PrivateKey::derive_from_seed(&[1u8; 32]));
    assert_ne!(
        a.public_key(),
        PrivateKey::derive_from_seed(&[2u8; 32]).public_key()
    );
    let mut rng = commonware_utils::test_rng();
    let g1 = PrivateKey::generate(&mut rng);
    let g2 = PrivateKey::generate(&mut rng);
    assert_ne!(g1.public_key(), g2.public_key());
}

#[test]
fn retry_rng_fills_partial_chunks() {
    let mut rng = RetryRng {
        seed: [0u8; 32],
        counter: 0,
    };
    let mut buf = [0u8; 40];
    rng.try_fill_bytes(&mut buf).unwrap();
    assert_ne!(buf[32..], [0u8; 8]);
    assert_ne!(rng.try_next_u64().unwrap(), rng.try_next_u64().unwrap());
    let _ = rng.try_next_u32().unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn prop_encodings_roundtrip(seed in any::<[u8; 32]>(), ns in proptest::collection::vec(any::<u8>(), 0..40), msg in proptest::collection::vec(any::<u8>(), 0..200)) {
        let sk = PrivateKey::derive_from_seed(&seed);
        let sk2 = PrivateKey::from_bytes(sk.to_bytes().as_ref()).unwrap();
        prop_assert_eq!(&sk2, &sk);
        let pk = sk.public_key();
        let pk2 = PublicKey::from_bytes(pk.as_bytes()).unwrap();
        prop_assert_eq!(&pk2, &pk);
        let pk3 = PublicKey::from_bytes(&pk.to_uncompressed()).unwrap();
        prop_assert_eq!(&pk3, &pk);
        let sig = sk.sign(&ns, &msg);
        let sig2 = Signature::from_bytes(sig.as_bytes()).unwrap();
        prop_assert_eq!(&sig2, &sig);
        prop_assert!(pk2.verify(&ns, &msg, &sig2));
    }

    #[test]
    fn prop_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let _ = PublicKey::from_bytes(&bytes);
        let _ = Signature::from_bytes(&bytes);
        let _ = PrivateKey::from_bytes(&bytes);
        let _ = PublicKey::decode(Copying(&bytes));
        let _ = Signature::decode(Copying(&bytes));
    }
}
