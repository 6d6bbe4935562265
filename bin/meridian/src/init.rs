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
    /// Join an existing chain instead of creating one: set up one node for the chain of this
    /// genesis file (copied to OUT/genesis.toml) — a new node key (OUT/<name>/node.key) and its
    /// config (OUT/<name>/config.toml) listening on --host with --p2p-port and --api-port
    /// (this node's ports), its address book taken from --peers-from plus itself. Prints the
    /// node's public key and the `[[p2p.peers]]` entry every other node must add. The node
    /// starts as a follower; it votes once governance adds it as a validator.
    #[arg(
        long,
        value_name = "GENESIS",
        requires_all = ["name", "peers_from"],
        conflicts_with_all = ["orgs", "suite", "chain_id", "certs", "epoch_blocks"]
    )]
    pub join: Option<PathBuf>,
    /// With --join: the node's name (its directory under OUT and its name in address books).
    #[arg(long, requires = "join")]
    pub name: Option<String>,
    /// With --join: a config.toml of a node of the chain, whose `[[p2p.peers]]` become this
    /// node's address book.
    #[arg(long, value_name = "CONFIG", requires = "join")]
    pub peers_from: Option<PathBuf>,
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

/// What `init --join` made.
pub struct Joined {
    pub genesis: PathBuf,
    pub config: PathBuf,
    pub key_file: PathBuf,
    /// This node's entry for every other node's `[[p2p.peers]]`.
    pub peer: PeerConfig,
}

/// `init --join`: a node key and config for an existing chain (see [`InitArgs::join`]).
pub fn join(args: &InitArgs) -> Result<Joined> {
    let (Some(genesis_src), Some(name), Some(peers_from)) =
        (&args.join, &args.name, &args.peers_from)
    else {
        bail!("--join needs --name and --peers-from");
    };
    let valid_name = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !valid_name {
        bail!("--name must be 1-64 of A-Z a-z 0-9 . _ -");
    }
    let genesis_text = std::fs::read_to_string(genesis_src)
        .with_context(|| format!("cannot read genesis file {}", genesis_src.display()))?;
    let genesis: Genesis = toml::from_str(&genesis_text)
        .with_context(|| format!("genesis file {} is not valid", genesis_src.display()))?;
    let (_, suite, _) = genesis
        .parse()
        .map_err(|e| anyhow::anyhow!("genesis file {}: {e}", genesis_src.display()))?;
    let source = NodeConfig::load(peers_from)?;
    let mut peers = source.p2p.peers;
    for p in &peers {
        let raw = hex::decode(&p.public_key)
            .with_context(|| format!("--peers-from: peer {} has a non-hex public key", p.name))?;
        meridian_crypto::PublicKey::from_bytes(suite, &raw).map_err(|e| {
            anyhow::anyhow!(
                "--peers-from: peer {} is not a key of the chain's suite {suite}: {e}",
                p.name
            )
        })?;
    }
    let listen = SocketAddr::new(args.host, args.p2p_port);
    if let Some(p) = peers
        .iter()
        .find(|p| &p.name == name || p.address == listen)
    {
        bail!(
            "--peers-from already lists {} at {}: choose another --name or --p2p-port",
            p.name,
            p.address
        );
    }
    let dir = args.out.join(name);
    for f in ["config.toml", "node.key"] {
        if dir.join(f).exists() {
            bail!(
                "{} already exists: choose another --out or --name",
                dir.join(f).display()
            );
        }
    }
    let genesis_path = args.out.join("genesis.toml");
    if genesis_path.exists() {
        // Several nodes may join into one directory; they share the chain's genesis.
        if std::fs::read(&genesis_path)? != genesis_text.as_bytes() {
            bail!(
                "{} exists and is another genesis: choose another --out",
                genesis_path.display()
            );
        }
    } else {
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("cannot create {}", args.out.display()))?;
        std::fs::write(&genesis_path, &genesis_text)?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let key = PrivateKey::generate(suite, &mut rand::rng());
    let peer = PeerConfig {
        name: name.clone(),
        public_key: hex::encode(key.public_key().as_bytes()),
        address: listen,
    };
    peers.push(peer.clone());
    let cfg = NodeConfig {
        name: name.clone(),
        data_dir: "data".into(),
        genesis: "../genesis.toml".into(),
        key_file: "node.key".into(),
        p2p: P2pConfig {
            listen,
            peers,
            local: source.p2p.local,
        },
        api: ApiConfig {
            listen: SocketAddr::new(args.host, args.api_port),
            max_query_fuel: meridian_api::MAX_QUERY_FUEL,
            rate_limit: Default::default(),
        },
        limits: LimitsConfig::default(),
        // Timeouts like the chain's other nodes.
        consensus: source.consensus,
        log: LogConfig::default(),
    };
    cfg.validate()?;
    let key_file = dir.join("node.key");
    write_secret(&key_file, &hex::encode(&*key.to_tagged_bytes()))?;
    let config = dir.join("config.toml");
    std::fs::write(&config, toml::to_string_pretty(&cfg)?)?;
    Ok(Joined {
        genesis: genesis_path,
        config,
        key_file,
        peer,
    })
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
                max_query_fuel: meridian_api::MAX_QUERY_FUEL,
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
