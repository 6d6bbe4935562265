//! `meridian status`: what a node reports about its chain.

use clap::Args;
use meridian_client::ClientError;
use serde_json::json;

use super::{finish, print_json, NodeOpts, EXIT_CODES};

#[derive(Args, Debug)]
#[command(after_help = EXIT_CODES)]
pub struct StatusArgs {
    #[command(flatten)]
    pub node: NodeOpts,
}

pub fn run(args: StatusArgs) -> anyhow::Result<()> {
    let json = args.node.json;
    finish(json, exec(&args))
}

fn exec(args: &StatusArgs) -> Result<(), ClientError> {
    let client = args.node.client()?;
    let s = client.status()?;
    // With --genesis: refuse a node of another chain and check the tip's certificate.
    let finality = if client.trust_anchor().is_some() {
        client.chain()?;
        Some(client.verified_block(s.height)?.finality)
    } else {
        None
    };
    if args.node.json {
        print_json(&json!({
            "node": client.base_url(), "chain_id": s.chain_id, "suite": s.suite,
            "height": s.height, "block_hash": s.block_hash, "state_root": s.state_root,
            "mempool_size": s.mempool_size, "validators": s.validators, "epoch": s.epoch,
            "epoch_blocks": s.epoch_blocks, "finality": finality,
        }));
    } else {
        println!("node        {}", client.base_url());
        println!("chain       {} (suite {})", s.chain_id, s.suite);
        println!("height      {}", s.height);
        println!("block       {}", s.block_hash);
        println!("state root  {}", s.state_root);
        println!("validators  {}", s.validators);
        println!("epoch       {} ({} blocks each)", s.epoch, s.epoch_blocks);
        println!("mempool     {} transactions", s.mempool_size);
        if let Some(f) = finality {
            println!("{f}");
        }
    }
    Ok(())
}
