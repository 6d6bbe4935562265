//! `meridian`: the one binary — key/genesis/config generation and the validator node.
//! (The devnet supervisor, client CLI and load benchmark arrive with the next milestone.)

mod bench;
mod config;
mod devnet;
mod init;
mod node;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "meridian", version, about = "Meridian consortium blockchain")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate node keys, a genesis and one config per validator for a new chain.
    Init(init::InitArgs),
    /// Start (first run: create) a local multi-validator network as OS processes; Ctrl-C stops it.
    Devnet(devnet::DevnetArgs),
    /// Load a running network at a target rate and report committed TPS and latency.
    Bench(bench::BenchArgs),
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
        Command::Init(args) => {
            let configs = init::run(&args)?;
            println!("genesis: {}", args.out.join("genesis.toml").display());
            for c in configs {
                println!("node config: {}", c.display());
            }
            Ok(())
        }
        Command::Node { config } => node::run(&config),
        Command::Devnet(args) => devnet::run(&args),
        Command::Bench(args) => bench::run_and_report(&args),
    }
}
