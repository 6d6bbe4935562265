//! `meridian`: the one binary — keys, certificates, genesis and configs, the validator node,
//! the devnet supervisor, the client CLI and the load benchmark.

mod bench;
mod bench_interop;
mod cli;
mod config;
mod devnet;
mod init;
mod link;
mod node;
mod relayer;

use std::path::PathBuf;

use anyhow::Result;

/// A loaded node allocates per transaction in many places (decode, gossip, execution, fjall);
/// glibc's allocator took ~20 % of its CPU in profiles, mimalloc much less.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "meridian", version, about = "Meridian consortium blockchain")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate node keys, a genesis and one config per validator for a new chain; or, with
    /// --join, a key and config for one more node of an existing chain.
    Init(init::InitArgs),
    /// Start (first run: create) a local multi-validator network as OS processes; Ctrl-C stops it.
    Devnet(devnet::DevnetArgs),
    /// Load a running network at a target rate and report committed TPS and latency.
    Bench(bench::BenchArgs),
    /// Manage account keys, encrypted at rest (new, list, show, import, export).
    Keys(cli::keys::KeysArgs),
    /// Run an organisation certificate authority: init a CA, issue, show, verify, list and
    /// revoke member certificates (X.509; SM2, ECDSA P-256, Ed25519).
    Ca(cli::ca::CaArgs),
    /// Sign with a stored key and submit a transaction (asset-create, mint, transfer, burn,
    /// notarize); waits for finality unless --async.
    Tx(cli::tx::TxArgs),
    /// Read balances, assets, notary records, transactions and blocks; proofs are verified
    /// against the finalized header before anything is shown.
    Query(cli::query::QueryArgs),
    /// Alliance governance (certificate mode): propose adding or removing an organisation,
    /// trusting a CA, a policy change, a revocation, a validator-set or chain-parameter
    /// change; vote; show and list proposals.
    Gov(cli::gov::GovArgs),
    /// WebAssembly contracts: scaffold a crate (new), build it to wasm, deploy, call, query,
    /// show (verified) and upgrade.
    Contract(cli::contract::ContractArgs),
    /// Show a node's chain id, suite, height and state root.
    Status(cli::status::StatusArgs),
    /// Cross-region: send tokens over a transfer channel, prove another region's state on
    /// this chain, show light clients and channels, prepare governance approvals.
    Interop(cli::interop::InteropArgs),
    /// Relay headers, packets, acknowledgements and timeouts between two chains until
    /// SIGINT/SIGTERM (untrusted: the chains verify everything).
    Relayer(relayer::RelayerArgs),
    /// Run one validator until SIGINT/SIGTERM.
    Node {
        /// The node's config file (written by `meridian init`).
        #[arg(long)]
        config: PathBuf,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Init(args) if args.join.is_some() => {
            let j = init::join(&args)?;
            println!("genesis: {}", j.genesis.display());
            println!("node config: {}", j.config.display());
            println!("node key: {}", j.key_file.display());
            println!("public key: {}", j.peer.public_key);
            println!(
                "add this node to every other node's config.toml (then restart it, one at a \
                 time):\n\n[[p2p.peers]]\nname = {:?}\npublic_key = {:?}\naddress = \"{}\"\n",
                j.peer.name, j.peer.public_key, j.peer.address
            );
            println!(
                "next: your CA issues its `consensus` certificate (meridian ca issue --role \
                 consensus --public-key {}), the node registers it (meridian keys import NAME \
                 --file {}, meridian tx register-cert CERT.pem --from NAME), then `meridian node --config {}` \
                 follows the chain until governance adds it (gov propose add-validator)",
                j.peer.public_key,
                j.key_file.display(),
                j.config.display()
            );
            Ok(())
        }
        Command::Init(args) => {
            let configs = init::run(&args)?;
            println!("genesis: {}", args.out.join("genesis.toml").display());
            for c in configs {
                println!("node config: {}", c.display());
            }
            if args.certs {
                for i in 0..args.orgs {
                    println!(
                        "org{i}: CA {}, admin key {} (key store {}, name org{i}-admin)",
                        args.out.join(format!("org{i}/ca")).display(),
                        args.out.join(format!("org{i}/admin.key")).display(),
                        args.out.join(init::KEYS_DIR).display()
                    );
                }
            }
            Ok(())
        }
        Command::Node { config } => node::run(&config),
        Command::Devnet(args) => devnet::run(&args),
        Command::Bench(args) => bench::run_and_report(&args),
        Command::Keys(args) => cli::keys::run(args),
        Command::Ca(args) => cli::ca::run(args),
        Command::Tx(args) => cli::tx::run(args),
        Command::Query(args) => cli::query::run(args),
        Command::Gov(args) => cli::gov::run(args),
        Command::Contract(args) => cli::contract::run(args),
        Command::Status(args) => cli::status::run(args),
        Command::Interop(args) => cli::interop::run(args),
        Command::Relayer(args) => relayer::run(&args),
    }
}
