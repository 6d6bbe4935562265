//! `meridian query`: read chain state; every answer is verified before it is shown.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use meridian_client::{hash_file, parse_hash, ClientError, EventFilter, StreamItem};
use serde_json::json;

use super::tx::describe_event;
use super::{
    finish, print_json, provenance, provenance_json, resolve_address, utc, with_decimals, KeyOpts,
    NodeOpts,
};

const QUERY_HELP: &str = "\
Every state answer carries a JMT proof and the finalized header it verifies against; the proof \
is checked here before anything is printed. With --genesis (or $MERIDIAN_GENESIS) the header's \
finalization certificate is checked too, against the genesis validators.

Examples:
  meridian query balance CNY alice --genesis devnet/genesis.toml
  meridian query asset CNY --json
  meridian query notary ./contract.pdf
  meridian query tx 7f38...3cae
  meridian query block latest
  meridian query events --from-height 1 --module bank --limit 10

Exit codes: 0 success; 1 other error; 3 node unreachable or timed out; 4 key store (unknown \
key name); 5 verification failed (proof, certificate or a malformed answer).";

#[derive(Args, Debug)]
#[command(after_help = QUERY_HELP)]
pub struct QueryArgs {
    #[command(flatten)]
    pub node: NodeOpts,
    /// Key directory used to resolve key names given instead of addresses.
    #[arg(long, global = true, value_name = "DIR")]
    pub keys_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub cmd: QueryCmd,
}

#[derive(Subcommand, Debug)]
pub enum QueryCmd {
    /// Balance of an account in an asset (smallest units).
    Balance {
        symbol: String,
        /// 0x address or key name.
        who: String,
        /// A past finalized height [default: latest].
        #[arg(long)]
        height: Option<u64>,
    },
    /// An asset's definition and current supply.
    Asset {
        symbol: String,
        /// A past finalized height [default: latest].
        #[arg(long)]
        height: Option<u64>,
    },
    /// Whether a document was notarized, by whom and when (hashes FILE with the chain's hash).
    Notary {
        /// The document (only its hash is sent).
        #[arg(required_unless_present = "hash", conflicts_with = "hash")]
        file: Option<PathBuf>,
        /// Look up a document hash (64 hex) instead of hashing a file.
        #[arg(long)]
        hash: Option<String>,
        /// A past finalized height [default: latest].
        #[arg(long)]
        height: Option<u64>,
    },
    /// A finalized transaction with its receipt.
    Tx {
        /// Transaction hash (64 hex).
        hash: String,
    },
    /// A finalized block's header (number or `latest`).
    Block { height: String },
    /// Follow finalized blocks and receipt events (Server-Sent Events); with --json, one JSON
    /// document per line. Runs until Ctrl-C unless --limit is given.
    Events {
        /// Replay from this height first [default: only new blocks].
        #[arg(long)]
        from_height: Option<u64>,
        /// Only events of these modules (comma-separated: bank,notary).
        #[arg(long)]
        module: Option<String>,
        /// Only events of these kinds (comma-separated: transferred,notarized,...).
        #[arg(long)]
        kind: Option<String>,
        /// Only events whose sender or named address is this (0x address or key name).
        #[arg(long, value_name = "ADDRESS|KEY")]
        address: Option<String>,
        /// Also print one line per finalized block.
        #[arg(long)]
        blocks: bool,
        /// Stop after this many items.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// The next nonce of an account.
    Nonce {
        /// 0x address or key name.
        who: String,
    },
    /// Certificate mode: a member's registered certificate (org, role, name, cert id) and
    /// whether it is revoked.
    Member {
        /// 0x address or key name.
        who: String,
        /// A past finalized height [default: latest].
        #[arg(long)]
        height: Option<u64>,
    },
    /// The roles allowed to send a call (`<module>.<method>`, e.g. bank.create_asset) and
    /// which policy rule applied (own, module-wide, default; every role on an open chain).
    Policy {
        call: String,
        /// A past finalized height [default: latest].
        #[arg(long)]
        height: Option<u64>,
    },
}

pub fn run(args: QueryArgs) -> anyhow::Result<()> {
    let json = args.node.json;
    finish(json, exec(args))
}

fn exec(args: QueryArgs) -> Result<(), ClientError> {
    let client = args.node.client()?;
    let json = args.node.json;
    let keys = KeyOpts {
        keys_dir: args.keys_dir.clone(),
        passphrase_file: None,
    };
    match args.cmd {
        QueryCmd::Balance {
            symbol,
            who,
            height,
        } => {
            let addr = resolve_address(&who, &keys)?;
            let v = client.balance_at(&symbol, &addr, height)?;
            if json {
                print_json(&json!({
                    "symbol": symbol, "address": addr.to_string(),
                    "balance": v.value.to_string(), "proof": provenance_json(&v),
                }));
            } else {
                // Show the asset's decimals too (a second verified read).
                let shown = match client.asset_at(&symbol, Some(v.height))?.value {
                    Some(a) if a.decimals > 0 => {
                        format!(
                            "{} ({} {symbol})",
                            v.value,
                            with_decimals(v.value, a.decimals)
                        )
                    }
                    _ => v.value.to_string(),
                };
                println!("{symbol} balance of {addr}: {shown}");
                println!("{}", provenance(&v));
            }
        }
        QueryCmd::Asset { symbol, height } => {
            let v = client.asset_at(&symbol, height)?;
            if json {
                let asset = v.value.as_ref().map(|a| {
                    json!({
                        "symbol": a.symbol, "decimals": a.decimals,
                        "max_supply": a.max_supply.to_string(), "supply": a.supply.to_string(),
                        "issuer": a.issuer.to_string(),
                    })
                });
                print_json(
                    &json!({"symbol": symbol, "asset": asset, "proof": provenance_json(&v)}),
                );
            } else {
                match &v.value {
                    Some(a) => {
                        println!("asset {}", a.symbol);
                        println!("  issuer     {}", a.issuer);
                        println!("  decimals   {}", a.decimals);
                        println!("  supply     {}", a.supply);
                        println!("  max supply {}", a.max_supply);
                    }
                    None => println!("asset {symbol} does not exist (absence proven)"),
                }
                println!("{}", provenance(&v));
            }
        }
        QueryCmd::Notary { file, hash, height } => {
            let doc = match (&hash, &file) {
                (Some(h), _) => parse_hash(h).map_err(ClientError::BadInput)?,
                (None, Some(f)) => hash_file(client.chain()?.suite, f)?,
                (None, None) => return Err(ClientError::BadInput("give FILE or --hash".into())),
            };
            let v = client.notary_record_at(&doc, height)?;
            if json {
                let rec = v.value.as_ref().map(|r| {
                    json!({
                        "owner": r.owner.to_string(), "timestamp_ms": r.timestamp_ms,
                        "height": r.height, "tx_hash": hex::encode(r.tx_hash),
                        "metadata": String::from_utf8_lossy(&r.metadata),
                    })
                });
                print_json(&json!({
                    "doc_hash": hex::encode(doc), "notarized": rec.is_some(), "record": rec,
                    "proof": provenance_json(&v),
                }));
            } else {
                println!("document {}", hex::encode(doc));
                match &v.value {
                    Some(r) => {
                        println!("  notarized by {}", r.owner);
                        println!("  at block {} ({})", r.height, utc(r.timestamp_ms));
                        println!("  tx {}", hex::encode(r.tx_hash));
                        println!("  metadata {:?}", String::from_utf8_lossy(&r.metadata));
                    }
                    None => println!("  not notarized (absence proven)"),
                }
                println!("{}", provenance(&v));
            }
        }
        QueryCmd::Tx { hash } => {
            let h = parse_hash(&hash).map_err(ClientError::BadInput)?;
            let t = client.tx(&h)?;
            let r = &t.view.receipt;
            let call = &t.tx.body.call;
            if json {
                print_json(&json!({
                    "hash": t.view.hash, "height": t.view.height, "index": t.view.index,
                    "sender": r.sender, "nonce": t.tx.body.nonce,
                    "expiry_height": t.tx.body.expiry_height,
                    "call": format!("{}.{}", call.module, call.method),
                    "code": r.code, "message": r.message,
                    "events": r.events.iter().map(|e| json!({
                        "module": e.module, "kind": e.kind, "data": e.data,
                        "summary": describe_event(&e.module, &e.kind, &e.data),
                    })).collect::<Vec<_>>(),
                    "block_hash": t.view.inclusion.block_hash,
                    "inclusion_verified": true, "finality": t.finality,
                }));
            } else {
                println!("tx {}", t.view.hash);
                println!("  call     {}.{}", call.module, call.method);
                println!("  sender   {} (nonce {})", r.sender, t.tx.body.nonce);
                println!(
                    "  block    {} index {} ({})",
                    t.view.height, t.view.index, t.view.inclusion.block_hash
                );
                let msg = if r.message.is_empty() {
                    String::new()
                } else {
                    format!(": {}", r.message)
                };
                println!("  result   {}{msg}", r.code);
                for e in &r.events {
                    println!(
                        "  event    {}.{}: {}",
                        e.module,
                        e.kind,
                        describe_event(&e.module, &e.kind, &e.data)
                    );
                }
                println!(
                    "inclusion proof verified against the tx root of block {} (receipt as reported \
                     by the node)",
                    t.view.height
                );
                println!("{}", t.finality);
            }
        }
        QueryCmd::Block { height } => {
            let h = if height == "latest" {
                client.latest_block()?.height
            } else {
                height.parse().map_err(|_| {
                    ClientError::BadInput(format!(
                        "height must be a number or `latest`, not {height:?}"
                    ))
                })?
            };
            let b = client.verified_block(h)?;
            let v = &b.view;
            if json {
                print_json(&json!({
                    "height": v.height, "hash": v.hash, "parent": v.parent,
                    "timestamp_ms": v.timestamp_ms, "view": v.view, "proposer": v.proposer,
                    "tx_root": v.tx_root, "receipts_root": v.receipts_root,
                    "state_root": v.state_root, "tx_hashes": v.tx_hashes,
                    "finality": b.finality,
                }));
            } else {
                println!("block {}", v.height);
                println!("  hash          {}", v.hash);
                println!("  parent        {}", v.parent);
                println!("  time          {} (view {})", utc(v.timestamp_ms), v.view);
                println!("  proposer      {}", v.proposer);
                println!("  state root    {}", v.state_root);
                println!("  tx root       {}", v.tx_root);
                println!("  transactions  {}", v.tx_hashes.len());
                for t in &v.tx_hashes {
                    println!("    {t}");
                }
                println!("header hash recomputed; {}", b.finality);
            }
        }
        QueryCmd::Events {
            from_height,
            module,
            kind,
            address,
            blocks,
            limit,
        } => {
            let list = |v: Option<String>| -> Vec<String> {
                v.map(|s| s.split(',').map(|x| x.trim().to_string()).collect())
                    .unwrap_or_default()
            };
            let filter = EventFilter {
                modules: list(module),
                kinds: list(kind),
                addresses: address
                    .map(|a| resolve_address(&a, &keys))
                    .transpose()?
                    .into_iter()
                    .collect(),
                blocks,
            };
            let stream = client.subscribe_events(&filter, from_height)?;
            for (n, item) in stream.enumerate() {
                if limit.is_some_and(|l| n >= l) {
                    break;
                }
                print_item(json, &item?);
                if limit.is_some_and(|l| n + 1 >= l) {
                    break;
                }
            }
        }
        QueryCmd::Nonce { who } => {
            let addr = resolve_address(&who, &keys)?;
            let n = client.next_nonce(&addr)?;
            if json {
                print_json(&json!({"address": addr.to_string(), "next_nonce": n}));
            } else {
                println!("next nonce of {addr}: {n} (proof verified)");
            }
        }
        QueryCmd::Member { who, height } => {
            let addr = resolve_address(&who, &keys)?;
            let v = client.member_at(&addr, height)?;
            if json {
                print_json(&json!({
                    "address": addr.to_string(), "registered": v.value.is_some(),
                    "member": v.value, "proof": provenance_json(&v),
                }));
            } else {
                match &v.value {
                    Some(m) => {
                        println!("member {addr}");
                        println!("  name     {}", m.name);
                        println!("  org      {}", m.org);
                        println!("  role     {}", m.role);
                        println!("  cert id  {}", m.cert_id);
                        println!("  serial   {}", m.serial);
                        println!("  CA id    {}", m.ca_id);
                        println!(
                            "  valid    {} .. {}",
                            utc(m.not_before * 1000),
                            utc(m.not_after * 1000)
                        );
                        println!("  revoked  {}", if m.revoked { "yes" } else { "no" });
                    }
                    None => println!("{addr} is not a registered member (absence proven)"),
                }
                println!("{}", provenance(&v));
            }
        }
        QueryCmd::Policy { call, height } => {
            let v = client.policy_at(&call, height)?;
            let p = &v.value;
            if json {
                print_json(&json!({
                    "call": p.call, "mode": p.mode, "roles": p.roles, "rule": p.rule,
                    "policy": p.policy, "proof": provenance_json(&v),
                }));
            } else {
                println!("{}: {}", p.call, p.roles.join(", "));
                let why = match (p.rule.as_str(), &p.policy) {
                    ("open", _) => "open chain: any valid signature may send it".to_string(),
                    ("default", _) => "no policy for the call or its module: the default".into(),
                    (_, Some(k)) => format!("policy {k}"),
                    (r, None) => r.to_string(),
                };
                println!("  rule {why}");
                println!("{}", provenance(&v));
            }
        }
    }
    Ok(())
}

fn print_item(json: bool, item: &StreamItem) {
    match item {
        StreamItem::Block(b) if json => {
            println!("{}", json!({"type": "block", "block": b}));
        }
        StreamItem::Event(e) if json => {
            println!(
                "{}",
                json!({"type": "event", "event": e,
                       "summary": describe_event(&e.event.module, &e.event.kind, &e.event.data)})
            );
        }
        StreamItem::Block(b) => println!(
            "block {} {} ({} txs, state root {})",
            b.height, b.hash, b.tx_count, b.state_root
        ),
        StreamItem::Event(e) => println!(
            "event {} tx {} {}.{}: {}",
            e.height,
            e.tx_hash,
            e.event.module,
            e.event.kind,
            describe_event(&e.event.module, &e.event.kind, &e.event.data)
        ),
    }
}
