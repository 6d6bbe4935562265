//! Certificate serial numbers.

use crate::IdentityError;
use core::fmt;
use rand_core::CryptoRng;
use x509_cert::serial_number::SerialNumber;

/// A positive certificate serial number, kept as minimal big-endian bytes (no leading zero
/// bytes, never empty, never zero).
///
/// These exact bytes are what revocation lists and the `is_revoked` callback of
/// [`crate::verify_chain`] are keyed by. Issued serials are at most 20 encoded octets
/// (RFC 5280 §4.1.2.2).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Serial(Vec<u8>);

impl Serial {
    /// Longest serial in minimal bytes (a 20-byte value must have its top bit clear so that its
    /// DER INTEGER stays within 20 octets).
    pub const MAX_LEN: usize = 20;

    /// Length of [`Serial::random`] serials (CA/B Forum: at least 64 random bits).
    pub const RANDOM_LEN: usize = 16;

    /// From big-endian unsigned bytes; leading zero bytes are stripped.
    ///
    /// Rejects zero and values whose DER encoding would exceed 20 octets.
    pub fn new(bytes: &[u8]) -> Result<Self, IdentityError> {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        let minimal = &bytes[start..];
        if minimal.is_empty() {
            return Err(IdentityError::InvalidRequest("serial must be positive"));
        }
        let too_long = minimal.len() > Self::MAX_LEN
            || (minimal.len() == Self::MAX_LEN && minimal[0] & 0x80 != 0);
        if too_long {
            return Err(IdentityError::InvalidRequest(
                "serial must encode in at most 20 octets",
            ));
        }
        Ok(Self(minimal.to_vec()))
    }

    /// From a `u64` (must be non-zero).
    pub fn from_u64(n: u64) -> Result<Self, IdentityError> {
        Self::new(&n.to_be_bytes())
    }

    /// A fresh random 16-byte serial (top bit cleared, never zero).
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        loop {
            let mut bytes = [0u8; Self::RANDOM_LEN];
            rng.fill_bytes(&mut bytes);
            bytes[0] &= 0x7f;
            if let Ok(serial) = Self::new(&bytes) {
                return serial;
            }
        }
    }

    /// Parses lowercase or uppercase hex (as printed by [`Serial::to_hex`] or `openssl x509
    /// -serial`).
    pub fn from_hex(s: &str) -> Result<Self, IdentityError> {
        let bytes = hex::decode(s).map_err(|_| IdentityError::InvalidRequest("serial hex"))?;
        Self::new(&bytes)
    }

    /// Minimal big-endian bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Lowercase hex of [`Self::as_bytes`].
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    pub(crate) fn to_x509(&self) -> Result<SerialNumber, IdentityError> {
        SerialNumber::new(&self.0).map_err(|_| IdentityError::InvalidRequest("serial"))
    }

    /// From the content octets of a parsed certificate's INTEGER (two's complement).
    pub(crate) fn from_certificate(bytes: &[u8]) -> Result<Self, IdentityError> {
        match bytes.first() {
            None => Err(IdentityError::Malformed("empty serial")),
            Some(b) if b & 0x80 != 0 => Err(IdentityError::Malformed("negative serial")),
            Some(_) => {
                let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
                if start == bytes.len() {
                    return Err(IdentityError::Malformed("zero serial"));
                }
                Ok(Self(bytes[start..].to_vec()))
            }
        }
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Serial({})", self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn normalises_and_bounds() {
        assert_eq!(Serial::new(&[0, 0, 1, 2]).unwrap().as_bytes(), &[1, 2]);
        assert_eq!(Serial::from_u64(0x0102).unwrap().as_bytes(), &[1, 2]);
        assert!(Serial::from_u64(0).is_err());
        assert!(Serial::new(&[]).is_err());
        assert!(Serial::new(&[0x7f; 20]).is_ok());
        assert!(Serial::new(&[0x80; 20]).is_err());
        assert!(Serial::new(&[1; 21]).is_err());
        assert_eq!(Serial::from_hex("0a0B").unwrap().to_hex(), "0a0b");
        assert!(Serial::from_hex("xyz").is_err());
    }

    #[test]
    fn random_is_positive_and_fits() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..64 {
            let s = Serial::random(&mut rng);
            assert!(!s.as_bytes().is_empty() && s.as_bytes().len() <= Serial::RANDOM_LEN);
            assert!(s.to_x509().is_ok());
        }
    }

    #[test]
    fn from_certificate_rejects_non_positive() {
        assert!(Serial::from_certificate(&[0x80]).is_err());
        assert!(Serial::from_certificate(&[0x00]).is_err());
        assert!(Serial::from_certificate(&[]).is_err());
        assert_eq!(
            Serial::from_certificate(&[0x00, 0x80]).unwrap().as_bytes(),
            &[0x80]
        );
    }
}
