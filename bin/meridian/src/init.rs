//! `meridian init`: keys, genesis and one config per validator.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use meridian_crypto::{PrivateKey, Suite};
use meridian_node::{Genesis, GenesisOrg, GenesisPolicy, GenesisValidator};

use crate::config::{
    ApiConfig, ConsensusConfig, LimitsConfig, LogConfig, NodeConfig, P2pConfig, PeerConfig,
};

#[derive(Args, Debug, Clone)]
pub struct InitArgs {
    /// Number of member organisations (one validator each).
    #[arg(long, default_value_t = 4)]
    pub orgs: usize,
    /// Crypto suite of the chain: `sm` (SM2/SM3/SM4) or `intl` (Ed25519/SHA-256/AES-GCM).
    #[arg(long, default_value = "sm")]
    pub suite: String,
    /// Output directory (created; must not already hold a genesis).
    #[arg(long)]
    pub out: PathBuf,
    /// Chain id (1-64 chars of a-z 0-9 . _ -).
    #[arg(long, default_value = "meridian-local")]
    pub chain_id: String,
    /// IP address every node listens on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// First p2p port; node i uses base + i.
    #[arg(long, default_value_t = 30300)]
    pub p2p_port: u16,
    /// First API port; node i uses base + i.
    #[arg(long, default_value_t = 8600)]
    pub api_port: u16,
    /// Certificate mode: create an organisation CA per org (OUT/org<i>/ca/, as `meridian ca
    /// init`: sm2 on `sm`, ed25519 on `intl`), issue each node's `consensus` certificate and an
    /// `admin` certificate for a new admin key (OUT/org<i>/admin.key, also stored in the key
    /// store OUT/keys/ as `org<i>-admin`), and list orgs, members and the default policies in
    /// the genesis. The passphrase (of the CA keys and the admin keys) comes from
    /// --passphrase-file, else $MERIDIAN_PASSPHRASE, else a terminal prompt; it is never written.
    #[arg(long)]
    pub certs: bool,
    /// With --certs: read the passphrase from this file (first line).
    #[arg(long, value_name = "FILE", requires = "certs")]
    pub passphrase_file: Option<PathBuf>,
    /// Blocks per consensus epoch; validator-set changes voted by governance take effect at
    /// the next epoch boundary. Fixed for the life of the chain (default 256).
    #[arg(long, value_name = "BLOCKS")]
    pub epoch_blocks: Option<u64>,
}

/// Key store directory (under OUT) that `init --certs` puts the admin keys in.
pub const KEYS_DIR: &str = "keys";

/// What `--certs` adds to the genesis: orgs, member certificates (PEM) and policies.
type CertGenesis = (Vec<GenesisOrg>, Vec<String>, Vec<GenesisPolicy>);

/// `--certs`: one CA per org, the nodes' consensus certificates and one admin each.
fn make_certs(
    args: &InitArgs,
    suite: Suite,
    names: &[String],
    keys: &[PrivateKey],
) -> Result<CertGenesis> {
    use crate::cli::ca;
    use meridian_identity::{Algorithm, PublicKeyInfo, Role};
    let opts = crate::cli::KeyOpts {
        keys_dir: None,
        passphrase_file: args.passphrase_file.clone(),
    };
    let pass = opts
        .passphrase("New passphrase for the CA and admin keys: ", true)
        .map_err(|e| anyhow::anyhow!("--certs needs a passphrase: {e}"))?;
    if pass.is_empty() {
        bail!("--certs: the passphrase must not be empty");
    }
    let alg = match suite {
        Suite::Sm => Algorithm::Sm2Sm3,
        Suite::Intl => Algorithm::Ed25519,
    };
    let keystore = meridian_client::Keystore::new(args.out.join(KEYS_DIR));
    let mut rng = rand::rng();
    let (mut orgs, mut members) = (Vec::new(), Vec::new());
    for (i, name) in names.iter().enumerate() {
        let dir = args.out.join(name);
        let ca_dir = dir.join("ca");
        let ca = ca::init_org_ca(name, alg, &ca_dir, 3650, &pass)?;
        orgs.push(GenesisOrg {
            id: name.clone(),
            ca_cert: ca
                .certificate()
                .to_pem()
                .map_err(|e| anyhow::anyhow!("{name}: CA certificate: {e}"))?,
        });
        let node_pk = PublicKeyInfo::from(keys[i].public_key());
        members.push(ca::issue_member(
            &ca,
            &ca_dir,
            name,
            Role::Consensus,
            node_pk,
            3650,
        )?);
        let admin = PrivateKey::generate(suite, &mut rng);
        let admin_name = format!("{name}-admin");
        let file = meridian_client::KeyFile::seal(
            &admin_name,
            &admin,
            pass.as_bytes(),
            meridian_client::KdfParams::default(),
        )?;
        let admin_path = dir.join("admin.key");
        meridian_client::keystore::write_private_file(&admin_path, file.to_json().as_bytes())?;
        keystore.import_keyfile(&admin_name, &admin_path)?;
        let admin_pk = PublicKeyInfo::from(admin.public_key());
        members.push(ca::issue_member(
            &ca,
            &ca_dir,
            &admin_name,
            Role::Admin,
            admin_pk,
            3650,
        )?);
    }
    let policies = meridian_identity_module::default_policies()
        .into_iter()
        .map(|(call, roles)| GenesisPolicy { call, roles })
        .collect();
    Ok((orgs, members, policies))
}

/// Writes a secret with owner-only permissions.
pub fn write_secret(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create key file {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// Reads a node key file written by `init`.
pub fn read_key(path: &Path) -> Result<PrivateKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read key file {}", path.display()))?;
    let raw = hex::decode(text.trim()).context("key file is not hex")?;
    PrivateKey::from_tagged_bytes(&raw)
        .map_err(|e| anyhow::anyhow!("key file {}: {e}", path.display()))
}

pub fn run(args: &InitArgs) -> Result<Vec<PathBuf>> {
    let suite: Suite = args
        .suite
        .parse()
        .map_err(|_| anyhow::anyhow!("--suite must be `sm` or `intl`"))?;
    if args.orgs == 0 || args.orgs > 64 {
        bail!("--orgs must be between 1 and 64");
    }
    meridian_types::ChainId::new(args.chain_id.clone())
        .map_err(|_| anyhow::anyhow!("--chain-id must be 1-64 chars of a-z 0-9 . _ -"))?;
    let genesis_path = args.out.join("genesis.toml");
    if genesis_path.exists() {
        bail!(
            "{} already exists: choose another --out or delete it",
            genesis_path.display()
        );
    }
    if args.certs && args.out.join(KEYS_DIR).exists() {
        bail!(
            "{} already exists: choose another --out or delete it",
            args.out.join(KEYS_DIR).display()
        );
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut rng = rand::rng();
    let keys: Vec<PrivateKey> = (0..args.orgs)
        .map(|_| PrivateKey::generate(suite, &mut rng))
        .collect();
    let names: Vec<String> = (0..args.orgs).map(|i| format!("org{i}")).collect();
    let port = |base: u16, i: usize| -> Result<u16> {
        u16::try_from(usize::from(base) + i).context("port out of range")
    };
    let mut peers = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        peers.push(PeerConfig {
            name: names[i].clone(),
            public_key: hex::encode(k.public_key().as_bytes()),
            address: SocketAddr::new(args.host, port(args.p2p_port, i)?),
        });
    }
    for n in &names {
        std::fs::create_dir_all(args.out.join(n))?;
    }
    let (orgs, members, policies) = if args.certs {
        make_certs(args, suite, &names, &keys)?
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let genesis = Genesis {
        chain_id: args.chain_id.clone(),
        suite: suite.to_string(),
        timestamp_ms: now_ms,
        validators: peers
            .iter()
            .map(|p| GenesisValidator {
                name: p.name.clone(),
                public_key: p.public_key.clone(),
            })
            .collect(),
        orgs,
        members,
        policies,
        epoch_blocks: args.epoch_blocks,
        fault_tolerance: None,
    };
    genesis.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    genesis.chain_config().map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::write(&genesis_path, toml::to_string_pretty(&genesis)?)?;
    let mut configs = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let dir = args.out.join(&names[i]);
        std::fs::create_dir_all(&dir)?;
        write_secret(&dir.join("node.key"), &hex::encode(&*k.to_tagged_bytes()))?;
        let cfg = NodeConfig {
            name: names[i].clone(),
            data_dir: "data".into(),
            genesis: "../genesis.toml".into(),
            key_file: "node.key".into(),
            p2p: P2pConfig {
                listen: peers[i].address,
                peers: peers.clone(),
                local: true,
            },
            api: ApiConfig {
                listen: SocketAddr::new(args.host, port(args.api_port, i)?),
                rate_limit: Default::default(),
            },
            limits: LimitsConfig::default(),
            consensus: ConsensusConfig::default(),
            log: LogConfig::default(),
        };
        cfg.validate()?;
        let path = dir.join("config.toml");
        std::fs::write(&path, toml::to_string_pretty(&cfg)?)?;
        configs.push(path);
    }
    Ok(configs)
}
