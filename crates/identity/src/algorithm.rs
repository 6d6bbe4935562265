//! Certificate signature algorithms, their OIDs, and which chain suite accepts which.
//!
//! | algorithm            | signature OID           | public key (SPKI)                                  | suite  |
//! |----------------------|-------------------------|----------------------------------------------------|--------|
//! | [`Algorithm::Sm2Sm3`]| 1.2.156.10197.1.501     | id-ecPublicKey 1.2.840.10045.2.1 + sm2p256v1 1.2.156.10197.1.301 | `sm`   |
//! | [`Algorithm::EcdsaP256Sha256`] | 1.2.840.10045.4.3.2 | id-ecPublicKey + prime256v1 1.2.840.10045.3.1.7 | `intl` |
//! | [`Algorithm::Ed25519`] | 1.3.101.112           | id-Ed25519 1.3.101.112 (no parameters)             | `intl` |
//!
//! Signature values in certificates: SM2 and ECDSA are DER `SEQUENCE { r INTEGER, s INTEGER }`
//! (GM/T 0010 / RFC 5480); Ed25519 is the raw 64-byte signature (RFC 8410).

use crate::IdentityError;
use core::{fmt, str::FromStr};
use der::asn1::ObjectIdentifier;
use meridian_crypto::Suite;
use x509_cert::spki::AlgorithmIdentifierOwned;

/// Well-known object identifiers used by this crate.
pub mod oid {
    use der::asn1::ObjectIdentifier;

    /// `SM2-with-SM3` signature (GM/T 0006): 1.2.156.10197.1.501.
    pub const SM2_WITH_SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.501");
    /// Curve `sm2p256v1` (GM/T 0006): 1.2.156.10197.1.301.
    pub const SM2P256V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");
    /// `ecdsa-with-SHA256` (RFC 5758): 1.2.840.10045.4.3.2.
    pub const ECDSA_WITH_SHA256: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
    /// Curve `prime256v1` / `secp256r1` (RFC 5480): 1.2.840.10045.3.1.7.
    pub const PRIME256V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    /// `id-ecPublicKey` (RFC 5480): 1.2.840.10045.2.1.
    pub const ID_EC_PUBLIC_KEY: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    /// `id-Ed25519` (RFC 8410): 1.3.101.112 (both key and signature algorithm).
    pub const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
    /// Attribute `organizationName` (O): 2.5.4.10.
    pub const AT_ORGANIZATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
    /// Attribute `organizationalUnitName` (OU): 2.5.4.11.
    pub const AT_ORGANIZATIONAL_UNIT: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");
    /// Attribute `commonName` (CN): 2.5.4.3.
    pub const AT_COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
}

/// A certificate signature algorithm (and the matching public-key type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    /// SM2 signature with SM3 (GM/T 0003, `Z_A` over the default ID `"1234567812345678"`).
    Sm2Sm3,
    /// ECDSA over P-256 with SHA-256.
    EcdsaP256Sha256,
    /// Ed25519 (RFC 8032, pure).
    Ed25519,
}

impl Algorithm {
    /// All supported algorithms.
    pub const ALL: [Algorithm; 3] = [
        Algorithm::Sm2Sm3,
        Algorithm::EcdsaP256Sha256,
        Algorithm::Ed25519,
    ];

    /// `"sm2-sm3"`, `"ecdsa-p256-sha256"` or `"ed25519"` (stable; used in configs and the CLI).
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sm2Sm3 => "sm2-sm3",
            Algorithm::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            Algorithm::Ed25519 => "ed25519",
        }
    }

    /// The chain suite that accepts this algorithm (`Sm2Sm3` → `sm`, the others → `intl`).
    pub const fn suite(self) -> Suite {
        match self {
            Algorithm::Sm2Sm3 => Suite::Sm,
            Algorithm::EcdsaP256Sha256 | Algorithm::Ed25519 => Suite::Intl,
        }
    }

    /// Whether a chain running `suite` accepts certificates of this algorithm.
    pub fn accepted_by(self, suite: Suite) -> bool {
        self.suite() == suite
    }

    /// The algorithms a suite accepts: `sm` → `[Sm2Sm3]`, `intl` → `[EcdsaP256Sha256, Ed25519]`.
    pub fn for_suite(suite: Suite) -> &'static [Algorithm] {
        match suite {
            Suite::Sm => &[Algorithm::Sm2Sm3],
            Suite::Intl => &[Algorithm::EcdsaP256Sha256, Algorithm::Ed25519],
        }
    }

    /// The signature algorithm OID.
    pub const fn signature_oid(self) -> ObjectIdentifier {
        match self {
            Algorithm::Sm2Sm3 => oid::SM2_WITH_SM3,
            Algorithm::EcdsaP256Sha256 => oid::ECDSA_WITH_SHA256,
            Algorithm::Ed25519 => oid::ED25519,
        }
    }

    /// The `AlgorithmIdentifier` written into certificates (parameters absent, as in RFC 5758 /
    /// RFC 8410 and GM/T 0015 practice).
    pub(crate) fn signature_algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: self.signature_oid(),
            parameters: None,
        }
    }

    /// Recognises a certificate's `signatureAlgorithm`.
    ///
    /// Parameters must be absent; for SM2-with-SM3 an explicit `NULL` is also accepted because
    /// some GM/T toolkits write one.
    pub(crate) fn from_signature_algorithm(
        id: &AlgorithmIdentifierOwned,
    ) -> Result<Self, IdentityError> {
        let alg = match id.oid {
            o if o == oid::SM2_WITH_SM3 => Algorithm::Sm2Sm3,
            o if o == oid::ECDSA_WITH_SHA256 => Algorithm::EcdsaP256Sha256,
            o if o == oid::ED25519 => Algorithm::Ed25519,
            _ => {
                return Err(IdentityError::WrongAlgorithm(
                    "unsupported signature algorithm",
                ))
            }
        };
        match (&id.parameters, alg) {
            (None, _) => Ok(alg),
            (Some(p), Algorithm::Sm2Sm3) if p.is_null() => Ok(alg),
            (Some(_), _) => Err(IdentityError::Malformed(
                "unexpected signature algorithm parameters",
            )),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = IdentityError;

    /// Parses [`Algorithm::as_str`] names exactly.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or(IdentityError::WrongAlgorithm("unknown algorithm name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Any;

    #[test]
    fn names_roundtrip() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.as_str().parse::<Algorithm>().unwrap(), alg);
            assert_eq!(alg.to_string(), alg.as_str());
        }
        assert_eq!(
            "rsa".parse::<Algorithm>().unwrap_err().code(),
            "cert.wrong_algorithm"
        );
    }

    #[test]
    fn suites() {
        assert!(Algorithm::Sm2Sm3.accepted_by(Suite::Sm));
        assert!(!Algorithm::Sm2Sm3.accepted_by(Suite::Intl));
        assert!(Algorithm::Ed25519.accepted_by(Suite::Intl));
        assert!(Algorithm::EcdsaP256Sha256.accepted_by(Suite::Intl));
        assert!(!Algorithm::EcdsaP256Sha256.accepted_by(Suite::Sm));
        for suite in Suite::ALL {
            for alg in Algorithm::for_suite(suite) {
                assert!(alg.accepted_by(suite));
            }
        }
    }

    #[test]
    fn oids_are_the_standard_ones() {
        assert_eq!(oid::SM2_WITH_SM3.to_string(), "1.2.156.10197.1.501");
        assert_eq!(oid::SM2P256V1.to_string(), "1.2.156.10197.1.301");
        assert_eq!(oid::ECDSA_WITH_SHA256.to_string(), "1.2.840.10045.4.3.2");
        assert_eq!(oid::PRIME256V1.to_string(), "1.2.840.10045.3.1.7");
        assert_eq!(oid::ID_EC_PUBLIC_KEY.to_string(), "1.2.840.10045.2.1");
        assert_eq!(oid::ED25519.to_string(), "1.3.101.112");
    }

    #[test]
    fn signature_algorithm_parameters() {
        let mut id = Algorithm::Sm2Sm3.signature_algorithm_identifier();
        id.parameters = Some(Any::null());
        assert_eq!(
            Algorithm::from_signature_algorithm(&id).unwrap(),
            Algorithm::Sm2Sm3
        );
        let mut id = Algorithm::Ed25519.signature_algorithm_identifier();
        id.parameters = Some(Any::null());
        assert_eq!(
            Algorithm::from_signature_algorithm(&id).unwrap_err().code(),
            "cert.malformed"
        );
    }
}
