//! Node configuration (TOML). One struct per concern, each with defaults and `validate()`
//! whose messages name the field and the fix.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// A peer validator: its public key and p2p address.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    pub name: String,
    /// Hex public key in the chain suite's encoding.
    pub public_key: String,
    pub address: SocketAddr,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct P2pConfig {
    pub listen: SocketAddr,
    /// Every validator of the chain, this node included.
    pub peers: Vec<PeerConfig>,
    /// Allow loopback/private addresses and dial eagerly (devnets and tests).
    #[serde(default = "yes")]
    pub local: bool,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    pub listen: SocketAddr,
    /// Most fuel one contract query (`POST /v1/contracts/{name}/query`) may use, and the fuel
    /// of a query that names none. Queries cost the caller nothing and run on this node's CPU.
    #[serde(default = "default_max_query_fuel")]
    pub max_query_fuel: u64,
    /// Per-client-IP token bucket; `per_second = 0` turns it off.
    #[serde(default)]
    pub rate_limit: meridian_api::RateLimit,
}

fn default_max_query_fuel() -> u64 {
    meridian_api::MAX_QUERY_FUEL
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub max_block_txs: usize,
    pub max_block_bytes: usize,
    pub mempool_max_txs: usize,
    pub mempool_max_per_sender: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_block_txs: 10_000,
            max_block_bytes: 8 << 20,
            mempool_max_txs: 200_000,
            mempool_max_per_sender: 1024,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ConsensusConfig {
    pub leader_timeout_ms: u64,
    pub certification_timeout_ms: u64,
}

impl Default for ConsensusConfig {
    fn default() -> Self {
        Self {
            leader_timeout_ms: 1_000,
            certification_timeout_ms: 2_000,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `tracing` filter, e.g. `info` or `meridian=debug,info`; `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
        }
    }
}

/// One validator's configuration file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    pub name: String,
    /// Where the ledger and consensus journals live. Relative paths are relative to the file.
    pub data_dir: PathBuf,
    /// The chain's genesis file.
    pub genesis: PathBuf,
    /// The node's private key file (hex of the suite-tagged key; mode 0600).
    pub key_file: PathBuf,
    pub p2p: P2pConfig,
    pub api: ApiConfig,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub consensus: ConsensusConfig,
    #[serde(default)]
    pub log: LogConfig,
}

impl NodeConfig {
    /// Reads, resolves relative paths and validates a config file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        let mut cfg: NodeConfig = toml::from_str(&text)
            .with_context(|| format!("config file {} is not valid", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut cfg.data_dir, &mut cfg.genesis, &mut cfg.key_file] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<()> {
        if self.name.is_empty() {
            bail!("config field `name` is empty: give the node a name, e.g. name = \"org1\"");
        }
        if self.p2p.peers.is_empty() {
            bail!("config field `p2p.peers` is empty: list every validator, this node included");
        }
        if !self.p2p.peers.iter().any(|p| p.address == self.p2p.listen) {
            bail!(
                "config field `p2p.listen` ({}) is not the address of any entry in `p2p.peers`: \
                 list this node in p2p.peers with the same address",
                self.p2p.listen
            );
        }
        if self.api.listen == self.p2p.listen {
            bail!(
                "config fields `api.listen` and `p2p.listen` are the same address: use two ports"
            );
        }
        if self.api.rate_limit.per_second > 0 && self.api.rate_limit.burst == 0 {
            bail!(
                "config field `api.rate_limit.burst` is 0: set it to at least 1 \
                 (or per_second = 0 to disable the limit)"
            );
        }
        if self.api.max_query_fuel == 0
            || self.api.max_query_fuel > meridian_contract::MAX_FUEL_PER_TX
        {
            bail!(
                "config field `api.max_query_fuel` is {}: it must be 1..={} (a transaction's \
                 fuel cap; default {})",
                self.api.max_query_fuel,
                meridian_contract::MAX_FUEL_PER_TX,
                meridian_api::MAX_QUERY_FUEL
            );
        }
        if self.limits.max_block_txs == 0
            || self.limits.max_block_txs > meridian_types::MAX_BLOCK_TXS
        {
            bail!(
                "config field `limits.max_block_txs` must be 1..={}",
                meridian_types::MAX_BLOCK_TXS
            );
        }
        if self.limits.max_block_bytes < 64 * 1024 || self.limits.max_block_bytes > 32 << 20 {
            bail!("config field `limits.max_block_bytes` must be between 65536 and 33554432");
        }
        if self.limits.mempool_max_txs == 0 || self.limits.mempool_max_per_sender == 0 {
            bail!("config fields `limits.mempool_max_txs` and `limits.mempool_max_per_sender` must be positive");
        }
        if self.consensus.leader_timeout_ms < 50
            || self.consensus.certification_timeout_ms <= self.consensus.leader_timeout_ms
        {
            bail!(
                "config field `consensus.certification_timeout_ms` must exceed \
                 `consensus.leader_timeout_ms`, and the leader timeout must be at least 50 ms"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NodeConfig {
        let addr: SocketAddr = "127.0.0.1:30300".parse().unwrap();
        NodeConfig {
            name: "org0".into(),
            data_dir: "data".into(),
            genesis: "genesis.toml".into(),
            key_file: "node.key".into(),
            p2p: P2pConfig {
                listen: addr,
                peers: vec![PeerConfig {
                    name: "org0".into(),
                    public_key: "00".into(),
                    address: addr,
                }],
                local: true,
            },
            api: ApiConfig {
                listen: "127.0.0.1:8600".parse().unwrap(),
                max_query_fuel: meridian_api::MAX_QUERY_FUEL,
                rate_limit: Default::default(),
            },
            limits: LimitsConfig::default(),
            consensus: ConsensusConfig::default(),
            log: LogConfig::default(),
        }
    }

    #[test]
    fn roundtrip_and_validation_messages() {
        let c = sample();
        let text = toml::to_string(&c).unwrap();
        assert_eq!(toml::from_str::<NodeConfig>(&text).unwrap(), c);
        c.validate().unwrap();
        let mut bad = c.clone();
        bad.p2p.listen = "127.0.0.1:1".parse().unwrap();
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("p2p.listen"));
        let mut bad = c.clone();
        bad.limits.max_block_txs = 0;
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("limits.max_block_txs"));
        let mut bad = c;
        bad.consensus.certification_timeout_ms = 10;
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("certification_timeout_ms"));
        assert!(toml::from_str::<NodeConfig>("name = 1").is_err());
    }

    #[test]
    fn api_max_query_fuel_defaults_and_is_bounded() {
        // Absent from the file: the API's built-in cap.
        let mut text: toml::Table = toml::to_string(&sample()).unwrap().parse().unwrap();
        let api = text["api"].as_table_mut().unwrap();
        api.remove("max_query_fuel");
        let c: NodeConfig = toml::from_str(&toml::to_string(&text).unwrap()).unwrap();
        assert_eq!(c.api.max_query_fuel, meridian_api::MAX_QUERY_FUEL);
        // Set in the file.
        let api = text["api"].as_table_mut().unwrap();
        api.insert("max_query_fuel".into(), toml::Value::Integer(1_000));
        let c: NodeConfig = toml::from_str(&toml::to_string(&text).unwrap()).unwrap();
        assert_eq!(c.api.max_query_fuel, 1_000);
        c.validate().unwrap();
        // Zero and more than a transaction may carry are refused, naming the field.
        for bad in [0, meridian_contract::MAX_FUEL_PER_TX + 1] {
            let mut c = c.clone();
            c.api.max_query_fuel = bad;
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains("api.max_query_fuel"), "{e}");
        }
        let mut c = c;
        c.api.max_query_fuel = meridian_contract::MAX_FUEL_PER_TX;
        c.validate().unwrap();
    }
}
