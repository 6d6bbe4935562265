//! `meridian interop`: send tokens to another region, prove another region's state on this
//! chain, inspect clients and channels, and prepare governance approvals for interop steps.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use meridian_client::{Client, ClientError};
use meridian_interop::{paths, ChannelEnd, ClientState};
use meridian_interop_module::{InteropCall, InteropEvent};
use meridian_relayer::Endpoint;
use meridian_types::decode_exact;
use serde_json::json;

use super::tx::{describe_event, events_json};
use super::{finish, open_wallet, print_json, resolve_address, KeyOpts, NodeOpts, EXIT_CODES};

#[derive(Args, Debug)]
#[command(after_help = EXIT_CODES)]
pub struct InteropArgs {
    #[command(flatten)]
    pub node: NodeOpts,
    #[command(flatten)]
    pub keys: KeyOpts,
    #[command(subcommand)]
    pub cmd: InteropCmd,
}

#[derive(Subcommand, Debug)]
pub enum InteropCmd {
    /// Send tokens over a transfer channel to an account on the other chain (escrowed here, or
    /// burned if they are vouchers going home). The relayer delivers; a timeout refunds.
    Transfer {
        /// Signing key (key store name).
        #[arg(long)]
        from: String,
        /// This chain's end of the transfer channel.
        #[arg(long, default_value = "channel-0")]
        channel: String,
        /// Bank symbol here (a native asset or a voucher `X…`).
        #[arg(long)]
        symbol: String,
        #[arg(long)]
        amount: u128,
        /// Receiver on the other chain: 0x address.
        #[arg(long)]
        to: String,
        /// Refund unless delivered before the other chain's clock passes now + this.
        #[arg(long, default_value_t = 600)]
        timeout_seconds: u64,
        /// Also time out at this height of the other chain (0: none).
        #[arg(long, default_value_t = 0)]
        timeout_height: u64,
        #[arg(long, default_value = "")]
        memo: String,
    },
    /// Prove on this chain that a state key of another region holds a value (or is absent),
    /// e.g. "is this document notarised in region A?". Updates this chain's client of the
    /// other region first, then records the proven fact on chain.
    Prove {
        /// Signing key on this chain.
        #[arg(long)]
        from: String,
        /// API of a node of the other region.
        #[arg(long, value_name = "URL")]
        source_node: String,
        /// This chain's client of the other region.
        #[arg(long, default_value = "client-0")]
        client: String,
        /// A file: prove its notarisation record (its hash under the other region's suite).
        #[arg(long, conflicts_with = "key")]
        doc: Option<PathBuf>,
        /// A raw state key of the other region, hex.
        #[arg(long)]
        key: Option<String>,
    },
    /// The bank symbol of the voucher for a denomination trace on this chain, e.g.
    /// `transfer/channel-0/GOLD` (GOLD received over this chain's channel-0).
    Voucher {
        #[arg(long)]
        trace: String,
    },
    /// Show a light client (its chain, latest verified height, status).
    Client { id: String },
    /// Show a channel end.
    Channel {
        #[arg(default_value = "channel-0")]
        id: String,
        #[arg(long, default_value = "transfer")]
        port: String,
    },
    /// Print the arguments hash governance must approve before `create_client` of the region
    /// served by --source-node (chains with organisations: `meridian gov propose approve-call
    /// --module interop --method create_client --args-hash HASH`), and save the arguments.
    ClientArgs {
        #[arg(long, value_name = "URL")]
        source_node: String,
        /// Where to write the encoded arguments (submit them with `create-client`).
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 336)]
        trusting_period_hours: u64,
    },
    /// Create a light client from arguments saved by `client-args` (once approved).
    CreateClient {
        #[arg(long)]
        from: String,
        #[arg(long)]
        args: PathBuf,
    },
    /// Let contracts of other regions call contract NAME of this chain over `contract`
    /// channels (or stop them, `--disallow`). On a chain with organisations the alliance
    /// approves it first: the refusal `interop.not_approved` prints the arguments hash for
    /// `meridian gov propose approve-call --module interop --method allow_contract`.
    AllowContract {
        #[arg(long)]
        from: String,
        /// The contract's name on this chain.
        name: String,
        #[arg(long)]
        disallow: bool,
    },
    /// Side chain: send the data record KEY ↦ VALUE to the main chain over an ordered
    /// `sidechain` channel; the main chain keeps the records in the order they were sent.
    SendData {
        #[arg(long)]
        from: String,
        /// This chain's end of the sidechain channel (the devnet opens channel-2).
        #[arg(long, default_value = "channel-2")]
        channel: String,
        /// Record key (text; with --hex, hex), 1–256 bytes.
        #[arg(long)]
        key: String,
        /// Record value (text; with --hex, hex), at most 2,048 bytes.
        #[arg(long)]
        value: String,
        /// KEY and VALUE are hex.
        #[arg(long)]
        hex: bool,
        /// Time out unless delivered before the main chain's clock passes now + this (a
        /// timeout closes the ordered channel).
        #[arg(long, default_value_t = 3600)]
        timeout_seconds: u64,
    },
    /// Main chain: the side-chain records received on `sidechain` channel CHANNEL, in order,
    /// each proven against a finalized header.
    SideData {
        /// This chain's end of the sidechain channel.
        #[arg(default_value = "channel-2")]
        channel: String,
        /// First record (packet sequence) to show.
        #[arg(long, default_value_t = 1)]
        from_sequence: u64,
        #[arg(long, default_value_t = 20)]
        limit: u64,
    },
}

pub fn run(args: InteropArgs) -> anyhow::Result<()> {
    let json = args.node.json;
    finish(json, exec(&args))
}

fn relayer_err(e: meridian_relayer::RelayerError) -> ClientError {
    match e {
        meridian_relayer::RelayerError::Client { source, .. } => source,
        other => ClientError::BadResponse(other.to_string()),
    }
}

/// A receipt's events as the lines `meridian tx` prints (one shared reading of every module's
/// events: `tx::describe_event`).
fn event_lines(events: &[meridian_client::EventView]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            format!(
                "event {}.{}: {}",
                e.module,
                e.kind,
                describe_event(&e.module, &e.kind, &e.data)
            )
        })
        .collect()
}

/// Signs `call` with key `from`, waits for finality, prints the receipt (text or JSON).
fn commit_call(
    args: &InteropArgs,
    client: &Client,
    from: &str,
    call: InteropCall,
) -> Result<(), ClientError> {
    let mut wallet = open_wallet(client, &args.keys, from, 100)?;
    let tx = wallet.build(client, call.into_call())?;
    let done = client.commit(&tx, Duration::from_secs(60))?;
    if args.node.json {
        print_json(&json!({
            "tx": hex::encode(done.hash), "height": done.receipt.height,
            "events": events_json(&done.receipt),
        }));
    } else {
        println!(
            "committed: tx {} in block {}",
            hex::encode(done.hash),
            done.receipt.height
        );
        for l in event_lines(&done.receipt.events) {
            println!("  {l}");
        }
    }
    Ok(())
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn text_or_hex(s: &str, is_hex: bool, what: &str) -> Result<Vec<u8>, ClientError> {
    if is_hex {
        hex::decode(s.trim_start_matches("0x"))
            .map_err(|_| ClientError::BadInput(format!("--{what} must be hex (--hex)")))
    } else {
        Ok(s.as_bytes().to_vec())
    }
}

/// Bytes as text when they are printable UTF-8, else as 0x-hex.
fn readable(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(t) if !t.chars().any(char::is_control) => t.to_string(),
        _ => format!("0x{}", hex::encode(b)),
    }
}

fn exec(args: &InteropArgs) -> Result<(), ClientError> {
    let client = args.node.client()?;
    match &args.cmd {
        InteropCmd::AllowContract {
            from,
            name,
            disallow,
        } => {
            let call = if *disallow {
                InteropCall::DisallowContract {
                    target: name.clone(),
                }
            } else {
                InteropCall::AllowContract {
                    target: name.clone(),
                }
            };
            commit_call(args, &client, from, call)
        }
        InteropCmd::SendData {
            from,
            channel,
            key,
            value,
            hex: is_hex,
            timeout_seconds,
        } => {
            let call = InteropCall::SendData {
                channel: channel.clone(),
                key: text_or_hex(key, *is_hex, "key")?,
                value: text_or_hex(value, *is_hex, "value")?,
                timeout_height: 0,
                timeout_timestamp_ms: now_ms() + timeout_seconds.max(&1) * 1000,
            };
            commit_call(args, &client, from, call)
        }
        InteropCmd::SideData {
            channel,
            from_sequence,
            limit,
        } => {
            let mut records = Vec::new();
            let mut seq = (*from_sequence).max(1);
            while (records.len() as u64) < *limit {
                let v = client.state(
                    &meridian_interop_module::sidechain::record_key(channel, seq),
                    None,
                )?;
                let Some(raw) = v.value else { break };
                let d: meridian_interop_module::sidechain::SideData = decode_exact(&raw)
                    .map_err(|e| ClientError::BadResponse(format!("side-chain record: {e}")))?;
                records.push((seq, d, v.height));
                seq += 1;
            }
            if args.node.json {
                let list: Vec<_> = records
                    .iter()
                    .map(|(seq, d, h)| {
                        json!({
                            "sequence": seq, "sender": format!("0x{}", d.sender.to_hex()),
                            "key_hex": hex::encode(&d.key), "value_hex": hex::encode(&d.value),
                            "key": readable(&d.key), "value": readable(&d.value),
                            "proof_height": h,
                        })
                    })
                    .collect();
                print_json(&json!({"channel": channel, "records": list}));
            } else if records.is_empty() {
                println!("no side-chain records on sidechain/{channel} from sequence {seq}");
            } else {
                for (seq, d, h) in &records {
                    println!(
                        "record {seq}: {} = {} (from 0x{}; proven at height {h})",
                        readable(&d.key),
                        readable(&d.value),
                        d.sender.to_hex()
                    );
                }
            }
            Ok(())
        }
        InteropCmd::Transfer {
            from,
            channel,
            symbol,
            amount,
            to,
            timeout_seconds,
            timeout_height,
            memo,
        } => {
            let receiver = resolve_address(to, &args.keys)?;
            let mut wallet = open_wallet(&client, &args.keys, from, 100)?;
            let call = InteropCall::Transfer {
                channel: channel.clone(),
                symbol: symbol.clone(),
                amount: *amount,
                receiver,
                timeout_height: *timeout_height,
                timeout_timestamp_ms: if *timeout_seconds == 0 {
                    0
                } else {
                    now_ms() + timeout_seconds * 1000
                },
                memo: memo.clone(),
            };
            let tx = wallet.build(&client, call.into_call())?;
            let done = client.commit(&tx, Duration::from_secs(60))?;
            let sequence = done.receipt.events.iter().find_map(|e| {
                let data = hex::decode(&e.data).ok()?;
                match InteropEvent::decode(&e.kind, &data).ok()? {
                    InteropEvent::SendPacket(p) if e.module == meridian_interop_module::NAME => {
                        Some(p.sequence)
                    }
                    _ => None,
                }
            });
            if args.node.json {
                print_json(&json!({
                    "tx": hex::encode(done.hash), "height": done.receipt.height,
                    "channel": channel, "sequence": sequence,
                    "events": events_json(&done.receipt),
                }));
            } else {
                println!(
                    "sent {amount} {symbol} over {channel} at height {} (tx {})",
                    done.receipt.height,
                    hex::encode(done.hash)
                );
                for l in event_lines(&done.receipt.events) {
                    println!("  {l}");
                }
            }
            Ok(())
        }
        InteropCmd::Prove {
            from,
            source_node,
            client: client_id,
            doc,
            key,
        } => {
            let source_client = Client::new(source_node.clone());
            let source_suite = source_client.chain()?.suite;
            let key = match (doc, key) {
                (Some(path), None) => {
                    let h = meridian_client::hash_file(source_suite, path)?;
                    meridian_notary::record_key(&h)
                }
                (None, Some(k)) => hex::decode(k.trim_start_matches("0x"))
                    .map_err(|_| ClientError::BadInput("--key must be hex".into()))?,
                _ => return Err(ClientError::BadInput("give --doc FILE or --key HEX".into())),
            };
            let wallet = open_wallet(&client, &args.keys, from, 100)?;
            let src = Endpoint {
                name: "source".into(),
                client: source_client,
                wallet: None,
                client_id: String::new(),
            };
            let mut dst = Endpoint {
                name: "this chain".into(),
                client,
                wallet: Some(wallet),
                client_id: client_id.clone(),
            };
            let (height, _) =
                meridian_relayer::update_client(&src, &mut dst).map_err(relayer_err)?;
            let view = src.client.state_view(&key, Some(height))?;
            let value = view
                .value
                .as_deref()
                .map(hex::decode)
                .transpose()
                .map_err(|_| ClientError::BadResponse("value is not hex".into()))?;
            let proof = src.proof(&key, height).map_err(relayer_err)?;
            let present = value.is_some();
            let events = dst
                .submit_ok(vec![InteropCall::ProveState {
                    client_id: client_id.clone(),
                    height,
                    key: key.clone(),
                    value,
                    proof,
                }])
                .map_err(relayer_err)?;
            let proven = events
                .iter()
                .find(|e| matches!(e, InteropEvent::StateProven { .. }));
            let host_suite = dst.client.chain()?.suite;
            let record =
                meridian_interop_module::proven_key(client_id, height, &host_suite.hash(&key).0);
            if args.node.json {
                print_json(&json!({
                    "key": hex::encode(&key), "height": height, "present": present,
                    "recorded": proven.is_some(),
                    "record_key": String::from_utf8_lossy(&record),
                    "record_key_hex": hex::encode(&record),
                }));
            } else {
                match proven {
                    Some(ev) => println!(
                        "{}",
                        describe_event(
                            meridian_interop_module::NAME,
                            ev.kind(),
                            &hex::encode(meridian_types::Encode::encode(ev))
                        )
                    ),
                    None => println!(
                        "proven: key {} {} at the other region's height {height}",
                        hex::encode(&key),
                        if present { "is present" } else { "is absent" }
                    ),
                }
                println!(
                    "  recorded on this chain at {}",
                    String::from_utf8_lossy(&record)
                );
            }
            Ok(())
        }
        InteropCmd::Voucher { trace } => {
            meridian_interop::transfer::check_denom(trace)
                .map_err(|e| ClientError::BadInput(e.to_string()))?;
            let symbol = meridian_interop::transfer::voucher_symbol(client.chain()?.suite, trace);
            let asset = client.asset(&symbol)?;
            if args.node.json {
                print_json(&json!({
                    "trace": trace, "symbol": symbol,
                    "supply": asset.value.as_ref().map(|a| a.supply.to_string()),
                }));
            } else {
                match asset.value {
                    Some(a) => println!("{trace} is {symbol} here (supply {})", a.supply),
                    None => println!("{trace} would be {symbol} here (none received yet)"),
                }
            }
            Ok(())
        }
        InteropCmd::Client { id } => {
            let v = client.state(&paths::client(id), None)?;
            let raw = v
                .value
                .ok_or_else(|| ClientError::BadInput(format!("no client {id}")))?;
            let c: ClientState = decode_exact(&raw)
                .map_err(|e| ClientError::BadResponse(format!("client state: {e}")))?;
            let status = if c.frozen_height != 0 {
                format!("frozen at height {}", c.frozen_height)
            } else {
                "active".to_string()
            };
            if args.node.json {
                print_json(&json!({
                    "id": id, "chain_id": c.chain_id.as_str(), "suite": c.suite.as_str(),
                    "latest_height": c.latest_height, "frozen_height": c.frozen_height,
                    "trusting_period_ms": c.trusting_period_ms, "epoch_blocks": c.epoch_blocks,
                    "proof_height": v.height,
                }));
            } else {
                println!("client {id}: {} ({}), {status}", c.chain_id, c.suite);
                println!("  latest verified height {}", c.latest_height);
                println!("  (proof verified at height {})", v.height);
            }
            Ok(())
        }
        InteropCmd::Channel { id, port } => {
            let v = client.state(&paths::channel(port, id), None)?;
            let raw = v
                .value
                .ok_or_else(|| ClientError::BadInput(format!("no channel {port}/{id}")))?;
            let c: ChannelEnd = decode_exact(&raw)
                .map_err(|e| ClientError::BadResponse(format!("channel end: {e}")))?;
            if args.node.json {
                print_json(&json!({
                    "port": port, "channel": id, "state": format!("{:?}", c.state),
                    "ordering": format!("{:?}", c.ordering), "connection": c.connection_id,
                    "counterparty_port": c.counterparty_port,
                    "counterparty_channel": c.counterparty_channel, "version": c.version,
                }));
            } else {
                println!(
                    "{port}/{id}: {:?}, {:?}, over {} to {}/{}",
                    c.state,
                    c.ordering,
                    c.connection_id,
                    c.counterparty_port,
                    c.counterparty_channel
                );
            }
            Ok(())
        }
        InteropCmd::ClientArgs {
            source_node,
            out,
            trusting_period_hours,
        } => {
            let src = Endpoint {
                name: "source".into(),
                client: Client::new(source_node.clone()),
                wallet: None,
                client_id: String::new(),
            };
            let call = src
                .create_client_call(trusting_period_hours * 3_600_000)
                .map_err(relayer_err)?;
            let bytes = call.args();
            let hash = client.chain()?.suite.hash(&call.approval_bytes()).0;
            std::fs::write(out, &bytes).map_err(|e| ClientError::Io {
                path: out.clone(),
                source: e,
            })?;
            if args.node.json {
                print_json(&json!({"args_hash": hex::encode(hash), "file": out}));
            } else {
                println!("create_client arguments written to {}", out.display());
                println!("args hash {}", hex::encode(hash));
                println!(
                    "approve: meridian gov propose approve-call --module interop --method create_client --args-hash {}",
                    hex::encode(hash)
                );
            }
            Ok(())
        }
        InteropCmd::CreateClient { from, args: file } => {
            let bytes = std::fs::read(file).map_err(|e| ClientError::Io {
                path: file.clone(),
                source: e,
            })?;
            let call = InteropCall::decode("create_client", &bytes)
                .map_err(|e| ClientError::BadInput(format!("{}: {e}", file.display())))?;
            commit_call(args, &client, from, call)
        }
    }
}
