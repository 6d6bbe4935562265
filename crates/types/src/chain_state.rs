//! Chain-level state records that consensus and the modules share: the validator set and the
//! chain parameters. Genesis writes both; governance (the identity module) changes them; the
//! node reads them at every epoch boundary to configure consensus for the next epoch.

use crate::codec::{decode_exact, CodecError, Decode, Encode, Reader, Writer};
use crate::limits::{MAX_BLOCK_BYTES, MAX_BLOCK_TXS, MAX_PUBLIC_KEY_LEN};

/// State key of the current [`ValidatorSet`].
pub const VALIDATORS_KEY: &[u8] = b"chain/validators";
/// State key of the current [`ChainConfig`].
pub const CHAIN_CONFIG_KEY: &[u8] = b"chain/config";
/// Most validators a chain may have.
pub const MAX_VALIDATORS: usize = 1024;
/// Longest validator name.
pub const MAX_VALIDATOR_NAME_LEN: usize = 64;

/// One validator: a display name and its consensus (and p2p) public key in the suite's encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorEntry {
    pub name: String,
    pub public_key: Vec<u8>,
}

/// The validators that sign consensus votes from the next epoch boundary on.
///
/// Encoding (unchanged since genesis files of the first release): `u32 count`, then per
/// validator `name` (length-prefixed UTF-8, ≤ 64 bytes) and `public_key` (length-prefixed,
/// ≤ 65 bytes). Order is the order of addition; consensus sorts keys itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidatorSet(pub Vec<ValidatorEntry>);

impl ValidatorSet {
    pub fn decode_exact(raw: &[u8]) -> Result<Self, CodecError> {
        decode_exact(raw)
    }
    pub fn contains_key(&self, public_key: &[u8]) -> bool {
        self.0.iter().any(|v| v.public_key == public_key)
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Encode for ValidatorSet {
    fn encode_to(&self, w: &mut Writer) {
        w.len(self.0.len());
        for v in &self.0 {
            w.str(&v.name);
            w.bytes(&v.public_key);
        }
    }
}

impl Decode for ValidatorSet {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let n = r.len(MAX_VALIDATORS, "validators")?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let name = r.string(MAX_VALIDATOR_NAME_LEN, "validator name")?;
            let public_key = r.bytes(MAX_PUBLIC_KEY_LEN, "validator key")?;
            out.push(ValidatorEntry { name, public_key });
        }
        Ok(ValidatorSet(out))
    }
}

/// Chain parameters every validator must agree on.
///
/// `epoch_blocks` is fixed at genesis (consensus epochs are cut at multiples of it); the others
/// change through governance and apply from the next block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainConfig {
    /// Byzantine validators the chain is configured to tolerate: the validator set may never
    /// shrink below `3 * fault_tolerance + 1`.
    pub fault_tolerance: u32,
    /// Most transactions a valid block may carry.
    pub max_block_txs: u32,
    /// Largest encoded block a validator accepts.
    pub max_block_bytes: u32,
    /// Blocks per consensus epoch; a validator-set change takes effect at the first height of
    /// the epoch after the one in which it executed.
    pub epoch_blocks: u64,
}

/// Parameter names accepted by [`ChainConfig::set`].
pub const CHAIN_PARAMS: [&str; 3] = ["fault_tolerance", "max_block_txs", "max_block_bytes"];

impl ChainConfig {
    /// Smallest epoch length (consensus needs at least genesis plus one block per epoch).
    pub const MIN_EPOCH_BLOCKS: u64 = 2;
    /// Smallest block-size limit.
    pub const MIN_BLOCK_BYTES: u32 = 64 * 1024;

    /// Defaults for a chain of `validators` validators: the largest fault tolerance it supports.
    pub fn defaults(validators: usize) -> Self {
        Self {
            fault_tolerance: (validators.saturating_sub(1) / 3) as u32,
            max_block_txs: 10_000,
            max_block_bytes: 8 * 1024 * 1024,
            epoch_blocks: 256,
        }
    }

    pub fn decode_exact(raw: &[u8]) -> Result<Self, CodecError> {
        decode_exact(raw)
    }

    /// Checks the parameters against a validator set; the message names the broken rule.
    pub fn check(&self, validators: usize) -> Result<(), String> {
        if validators == 0 {
            return Err("the validator set must not be empty".into());
        }
        let min = 3 * self.fault_tolerance as usize + 1;
        if validators < min {
            return Err(format!(
                "{validators} validators cannot tolerate {} faults (need at least {min})",
                self.fault_tolerance
            ));
        }
        if self.max_block_txs == 0 || self.max_block_txs as usize > MAX_BLOCK_TXS {
            return Err(format!("max_block_txs must be 1..={MAX_BLOCK_TXS}"));
        }
        if self.max_block_bytes < Self::MIN_BLOCK_BYTES
            || self.max_block_bytes as usize > MAX_BLOCK_BYTES
        {
            return Err(format!(
                "max_block_bytes must be {}..={MAX_BLOCK_BYTES}",
                Self::MIN_BLOCK_BYTES
            ));
        }
        if self.epoch_blocks < Self::MIN_EPOCH_BLOCKS {
            return Err(format!(
                "epoch_blocks must be at least {}",
                Self::MIN_EPOCH_BLOCKS
            ));
        }
        Ok(())
    }

    /// Changes one governance-settable parameter by name ([`CHAIN_PARAMS`]).
    pub fn set(&mut self, name: &str, value: u64) -> Result<(), String> {
        let v32 = u32::try_from(value).map_err(|_| format!("{name} is too large"))?;
        match name {
            "fault_tolerance" => self.fault_tolerance = v32,
            "max_block_txs" => self.max_block_txs = v32,
            "max_block_bytes" => self.max_block_bytes = v32,
            "epoch_blocks" => return Err("epoch_blocks is fixed at genesis".into()),
            _ => {
                return Err(format!(
                    "unknown parameter {name:?} (settable: {})",
                    CHAIN_PARAMS.join(", ")
                ))
            }
        }
        Ok(())
    }
}

impl Encode for ChainConfig {
    fn encode_to(&self, w: &mut Writer) {
        w.u32(self.fault_tolerance);
        w.u32(self.max_block_txs);
        w.u32(self.max_block_bytes);
        w.u64(self.epoch_blocks);
    }
}

impl Decode for ChainConfig {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(ChainConfig {
            fault_tolerance: r.u32("fault_tolerance")?,
            max_block_txs: r.u32("max_block_txs")?,
            max_block_bytes: r.u32("max_block_bytes")?,
            epoch_blocks: r.u64("epoch_blocks")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validator_set_round_trips_and_bounds() {
        let set = ValidatorSet(vec![ValidatorEntry {
            name: "v0".into(),
            public_key: vec![7; 32],
        }]);
        assert_eq!(ValidatorSet::decode_exact(&set.encode()).unwrap(), set);
        let mut w = Writer::new();
        w.len(MAX_VALIDATORS + 1);
        assert!(ValidatorSet::decode_exact(&w.into_bytes()).is_err());
    }

    #[test]
    fn chain_config_rules() {
        let c = ChainConfig::defaults(4);
        assert_eq!(c.fault_tolerance, 1);
        assert!(c.check(4).is_ok());
        assert!(c.check(3).unwrap_err().contains("need at least 4"));
        assert!(c.check(0).is_err());
        assert_eq!(ChainConfig::decode_exact(&c.encode()).unwrap(), c);
        let mut d = c;
        assert!(d.set("epoch_blocks", 9).is_err());
        assert!(d.set("nope", 1).is_err());
        d.set("max_block_txs", 0).unwrap();
        assert!(d.check(4).is_err());
        d.set("max_block_txs", 5).unwrap();
        d.set("fault_tolerance", 0).unwrap();
        assert!(d.check(1).is_ok());
    }
}
