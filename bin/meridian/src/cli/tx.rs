//! `meridian tx`: build, sign (with a stored key) and submit transactions.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use meridian_bank::BankEvent;
use meridian_client::{hash_file, Client, ClientError, Document, ReceiptView, SubmitMode};
use meridian_crypto::Suite;
use meridian_interop_module::InteropEvent;
use meridian_notary::Notarized;
use meridian_types::{Hash32, SignedTx};
use serde_json::json;

use super::{finish, open_wallet, print_json, resolve_address, KeyOpts, NodeOpts, EXIT_CODES};

const TX_HELP: &str = "\
Signs with a key from the key store (see `meridian keys`), with the chain id read from the node,
the account's next nonce (a verified state read) and an expiry --expiry-blocks after the latest
height. Amounts are integers in the asset's smallest unit.

Examples:
  meridian tx asset-create CNY --decimals 2 --max-supply 100000000 --from alice
  meridian tx mint CNY 50000 --from alice
  meridian tx transfer CNY 1250 --to bob --from alice
  meridian tx burn CNY 100 --from alice
  meridian tx notarize ./bill-of-lading.pdf --from bob --json
  meridian tx register-cert alice.pem --from alice          (certificate mode)
  meridian tx revoke-cert --ca org1-ca/ca.pem --serial 3f0c... --from org1-admin
";

#[derive(Args, Debug)]
#[command(after_help = format!("{TX_HELP}\n{EXIT_CODES}"))]
pub struct TxArgs {
    #[command(flatten)]
    pub node: NodeOpts,
    #[command(flatten)]
    pub keys: KeyOpts,
    /// Name of the stored key that signs (see `meridian keys list`).
    #[arg(long, global = true, value_name = "KEY")]
    pub from: Option<String>,
    /// Return once the node accepted the transaction instead of waiting for finality.
    #[arg(long = "async", global = true)]
    pub no_wait: bool,
    /// Seconds to wait for finality (at most 60).
    #[arg(long, global = true, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
    /// Blocks after the latest height during which the transaction may be included.
    #[arg(long, global = true, default_value_t = meridian_client::DEFAULT_EXPIRY_BLOCKS, value_name = "N")]
    pub expiry_blocks: u64,
    #[command(subcommand)]
    pub cmd: TxCmd,
}

/// Amounts are integers in the asset's smallest unit (with 2 decimals, 12.50 is 1250).
#[derive(Subcommand, Debug)]
pub enum TxCmd {
    /// Create an asset; the signer becomes its issuer (the only one who may mint).
    AssetCreate {
        /// Symbol: 1-16 of A-Z 0-9.
        symbol: String,
        /// Decimal places for display (0-18).
        #[arg(long, default_value_t = 0)]
        decimals: u8,
        /// Most that may ever be in circulation, in smallest units.
        #[arg(long)]
        max_supply: u128,
    },
    /// Mint new units of an asset you issued.
    Mint {
        symbol: String,
        amount: u128,
        /// Recipient: 0x address or a key name [default: the signer].
        #[arg(long, value_name = "ADDRESS|KEY")]
        to: Option<String>,
    },
    /// Send units of an asset.
    Transfer {
        symbol: String,
        amount: u128,
        /// Recipient: 0x address or a key name.
        #[arg(long, value_name = "ADDRESS|KEY")]
        to: String,
    },
    /// Destroy units from the signer's balance.
    Burn { symbol: String, amount: u128 },
    /// Register a document's hash (SM3 or SHA-256, the chain's hash) with the signer as owner
    /// and the block time as timestamp. The file itself never leaves this machine.
    Notarize {
        file: PathBuf,
        /// Metadata stored with the record (at most 1024 bytes) [default: the file name].
        #[arg(long)]
        metadata: Option<String>,
    },
    /// Certificate mode: register (or rotate to) the signer's certificate (identity.register).
    /// The certificate must certify the --from key and chain to a trusted organisation CA.
    RegisterCert {
        /// The certificate, PEM or DER (e.g. from `meridian ca issue --out`).
        #[arg(value_name = "FILE.pem")]
        file: PathBuf,
    },
    /// Certificate mode: revoke a certificate on chain (identity.revoke); the signer must be an
    /// admin of the CA's organisation.
    RevokeCert {
        /// The issuing CA's certificate (its id under the chain's suite names it on chain).
        #[arg(long = "ca", value_name = "CA.pem")]
        ca: PathBuf,
        /// Serial of the certificate to revoke, hex (as `meridian ca list` / `show` print it).
        #[arg(long, value_name = "HEX")]
        serial: String,
    },
}

/// Reads a certificate file (PEM or DER).
pub(crate) fn read_cert(
    path: &std::path::Path,
) -> Result<meridian_identity::Certificate, ClientError> {
    let bytes = std::fs::read(path).map_err(|e| ClientError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    meridian_identity::Certificate::parse(&bytes)
        .map_err(|e| ClientError::BadInput(format!("{}: {e} ({})", path.display(), e.code())))
}

pub fn run(args: TxArgs) -> anyhow::Result<()> {
    let json = args.node.json;
    finish(json, exec(args))
}

fn exec(args: TxArgs) -> Result<(), ClientError> {
    let from = args.from.clone().ok_or_else(|| {
        ClientError::BadInput("--from KEY is required: the stored key that signs".into())
    })?;
    let client = args.node.client()?;
    let mut wallet = open_wallet(&client, &args.keys, &from, args.expiry_blocks)?;
    let chain = client.chain()?;
    let me = wallet.address();
    let mut doc: Option<Hash32> = None;
    let tx = match &args.cmd {
        TxCmd::AssetCreate {
            symbol,
            decimals,
            max_supply,
        } => wallet.create_asset(&client, symbol, *decimals, *max_supply)?,
        TxCmd::Mint { symbol, amount, to } => {
            let to = match to {
                Some(t) => resolve_address(t, &args.keys)?,
                None => me,
            };
            wallet.mint(&client, symbol, to, *amount)?
        }
        TxCmd::Transfer { symbol, amount, to } => {
            let to = resolve_address(to, &args.keys)?;
            wallet.transfer(&client, symbol, to, *amount)?
        }
        TxCmd::Burn { symbol, amount } => wallet.burn(&client, symbol, *amount)?,
        TxCmd::Notarize { file, metadata } => {
            let hash = hash_file(chain.suite, file)?;
            let meta = metadata.clone().unwrap_or_else(|| {
                file.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
            let (tx, h) = wallet.notarize(&client, Document::Hash(hash), meta.as_bytes())?;
            doc = Some(h);
            tx
        }
        TxCmd::RegisterCert { file } => {
            let cert = read_cert(file)?;
            let call = meridian_identity_module::IdentityCall::Register {
                cert: cert.to_der(),
            };
            wallet.build(&client, call.into_call())?
        }
        TxCmd::RevokeCert { ca, serial } => {
            let ca = read_cert(ca)?;
            let serial = meridian_identity::Serial::from_hex(serial.trim_start_matches("0x"))
                .map_err(|e| ClientError::BadInput(format!("--serial {serial:?}: {e}")))?;
            let call = meridian_identity_module::IdentityCall::Revoke {
                ca_id: *ca.cert_id(chain.suite).as_bytes(),
                serial: serial.as_bytes().to_vec(),
            };
            wallet.build(&client, call.into_call())?
        }
    };
    submit(&client, &args, chain.suite, &tx, doc)
}

fn submit(
    client: &Client,
    args: &TxArgs,
    suite: Suite,
    tx: &SignedTx,
    doc: Option<Hash32>,
) -> Result<(), ClientError> {
    let json = args.node.json;
    let signer = meridian_client::keystore::address_of(
        &meridian_crypto::PublicKey::from_bytes(suite, &tx.body.sender)
            .map_err(|e| ClientError::BadInput(e.to_string()))?,
    );
    if args.no_wait {
        let v = client.submit(tx, SubmitMode::Async)?;
        if json {
            print_json(&json!({
                "hash": v.hash, "status": v.status, "nonce": tx.body.nonce,
                "signer": signer.to_string(), "doc_hash": doc.map(hex::encode),
            }));
        } else {
            println!("accepted: tx {} (nonce {})", v.hash, tx.body.nonce);
            if let Some(d) = doc {
                println!("document hash: {}", hex::encode(d));
            }
            println!("not final yet: meridian query tx {}", v.hash);
        }
        return Ok(());
    }
    let timeout = Duration::from_secs(args.timeout);
    let done = client.commit(tx, timeout)?;
    let r = &done.receipt;
    if json {
        print_json(&json!({
            "hash": hex::encode(done.hash),
            "status": "committed",
            "height": r.height,
            "index": r.index,
            "code": r.code,
            "signer": signer.to_string(),
            "signer_org": r.signer_org,
            "signer_cert_id": r.signer_cert_id,
            "nonce": tx.body.nonce,
            "doc_hash": doc.map(hex::encode),
            "events": events_json(r),
        }));
    } else {
        println!("committed: tx {}", hex::encode(done.hash));
        println!(
            "  block {}, index {}, code {} (signer {signer}, nonce {})",
            r.height, r.index, r.code, tx.body.nonce
        );
        if let (Some(org), Some(id)) = (&r.signer_org, &r.signer_cert_id) {
            println!("  signer organisation {org}, certificate {id}");
        }
        if let Some(d) = doc {
            println!("  document hash {}", hex::encode(d));
        }
        for e in &r.events {
            println!(
                "  event {}.{}: {}",
                e.module,
                e.kind,
                describe_event(&e.module, &e.kind, &e.data)
            );
        }
    }
    Ok(())
}

/// A receipt's events as JSON, each with its one-line summary.
pub fn events_json(r: &ReceiptView) -> Vec<serde_json::Value> {
    r.events
        .iter()
        .map(|e| {
            json!({
                "module": e.module, "kind": e.kind, "data": e.data,
                "summary": describe_event(&e.module, &e.kind, &e.data),
            })
        })
        .collect()
}

/// A one-line reading of a receipt event (the chain stores them in the modules' encodings).
pub fn describe_event(module: &str, kind: &str, data_hex: &str) -> String {
    let Ok(data) = hex::decode(data_hex) else {
        return data_hex.to_string();
    };
    match module {
        "bank" => match BankEvent::decode(kind, &data) {
            Ok(BankEvent::AssetCreated {
                symbol,
                issuer,
                decimals,
                max_supply,
            }) => format!("{symbol} issuer {issuer}, {decimals} decimals, max supply {max_supply}"),
            Ok(BankEvent::Minted { symbol, to, amount }) => format!("{amount} {symbol} to {to}"),
            Ok(BankEvent::Transferred {
                symbol,
                from,
                to,
                amount,
            }) => format!("{amount} {symbol} from {from} to {to}"),
            Ok(BankEvent::Burned {
                symbol,
                from,
                amount,
            }) => format!("{amount} {symbol} from {from}"),
            Err(_) => data_hex.to_string(),
        },
        "notary" if kind == Notarized::KIND => match Notarized::decode(&data) {
            Ok(n) => format!(
                "document {} owner {} at {}",
                hex::encode(n.doc_hash),
                n.owner,
                super::utc(n.timestamp_ms)
            ),
            Err(_) => data_hex.to_string(),
        },
        meridian_identity_module::MODULE => {
            use meridian_identity_module::IdentityEvent as E;
            match meridian_identity_module::decode_event(kind, &data) {
                Some(E::MemberRegistered {
                    org,
                    role,
                    name,
                    cert_id,
                    rotated,
                }) => format!(
                    "{name} ({role}, {org}) certificate {}{}",
                    hex::encode(cert_id),
                    if rotated { " (rotated)" } else { "" }
                ),
                Some(E::CertRevoked { ca_id, serial }) => format!(
                    "serial {} of CA {} revoked",
                    hex::encode(serial),
                    hex::encode(ca_id)
                ),
                Some(E::ProposalCreated {
                    id,
                    org,
                    deadline_height,
                }) => format!(
                    "proposal {id} opened by {org}, votes count until height {deadline_height}"
                ),
                Some(E::Voted { id, org, approve }) => format!(
                    "{org} voted {} on proposal {id}",
                    if approve { "yes" } else { "no" }
                ),
                Some(E::ProposalExecuted { id }) => format!("proposal {id} executed"),
                Some(E::ProposalRejected { id }) => format!("proposal {id} rejected"),
                Some(E::ProposalFailed { id, code, reason }) => {
                    format!("proposal {id} passed but no longer applies ({code}: {reason}); closed")
                }
                Some(E::ValidatorAdded { name, public_key }) => format!(
                    "validator {name} ({}) added, from the next epoch",
                    hex::encode(public_key)
                ),
                Some(E::ValidatorRemoved { public_key }) => format!(
                    "validator {} removed, from the next epoch",
                    hex::encode(public_key)
                ),
                Some(E::ValidatorReplaced { old_key, new_key }) => format!(
                    "validator {} replaced by {}, from the next epoch",
                    hex::encode(old_key),
                    hex::encode(new_key)
                ),
                Some(E::ParamSet { name, value }) => {
                    format!("chain parameter {name} set to {value}, from the next epoch")
                }
                Some(E::ContractFrozen { name, frozen: true }) => {
                    format!("contract {name} frozen: its calls and queries are refused")
                }
                Some(E::ContractFrozen {
                    name,
                    frozen: false,
                }) => format!("contract {name} unfrozen"),
                Some(E::ContractUpgradeApproved { name, code_hash }) => format!(
                    "upgrade of contract {name} to code {} approved",
                    hex::encode(code_hash)
                ),
                Some(E::CallApproved {
                    module,
                    method,
                    args_hash,
                }) => format!(
                    "call {module}.{method} with arguments hash {} approved (usable once)",
                    hex::encode(args_hash)
                ),
                // Events this build does not know (or that do not decode) are shown raw.
                _ => data_hex.to_string(),
            }
        }
        meridian_contract::NAME => describe_contract_event(kind, &data, data_hex),
        meridian_interop_module::NAME => InteropEvent::decode(kind, &data)
            .ok()
            .and_then(|ev| describe_interop_event(&ev))
            .unwrap_or_else(|| data_hex.to_string()),
        _ => data_hex.to_string(),
    }
}

/// A state key for reading: printable keys as text; a printable prefix ending in `/` followed
/// by binary (`notary/doc/<hash>`) as the prefix and the rest in hex; anything else in hex.
fn readable_key(key: &[u8]) -> String {
    let printable = |b: &[u8]| b.iter().all(|c| c.is_ascii_graphic());
    if !key.is_empty() && printable(key) {
        return String::from_utf8_lossy(key).into_owned();
    }
    match key.iter().rposition(|&c| c == b'/') {
        Some(i) if printable(&key[..=i]) => format!(
            "{}{}",
            String::from_utf8_lossy(&key[..=i]),
            hex::encode(&key[i + 1..])
        ),
        _ => hex::encode(key),
    }
}

/// What a packet carries: a transfer's amount, denomination and accounts, else its size.
fn packet_payload(p: &meridian_interop::Packet) -> String {
    let transfer = meridian_interop::transfer::PORT;
    if p.source_port == transfer || p.dest_port == transfer {
        if let Ok(d) = meridian_types::decode_exact::<meridian_interop::TransferData>(&p.data) {
            return format!(
                "{} {} from {} to {}",
                d.amount, d.denom, d.sender, d.receiver
            );
        }
    }
    format!("{} bytes of data", p.data.len())
}

/// When a packet stops being deliverable, judged by the destination.
fn packet_deadline(p: &meridian_interop::Packet) -> String {
    match (p.timeout_height, p.timeout_timestamp_ms) {
        (0, 0) => "no timeout".into(),
        (h, 0) => format!("times out at the destination's height {h}"),
        (0, t) => format!("times out at {} on the destination", super::utc(t)),
        (h, t) => format!(
            "times out at the destination's height {h} or at {} there",
            super::utc(t)
        ),
    }
}

/// What the sending application does when a packet of `port` comes back unsettled.
fn refund_note(port: &str) -> &'static str {
    if port == meridian_interop::transfer::PORT {
        ": the tokens are refunded to the sender"
    } else {
        ""
    }
}

fn connection_state(state: u8) -> String {
    match state {
        1 => "INIT".into(),
        2 => "TRYOPEN".into(),
        3 => "OPEN".into(),
        4 => "CLOSED".into(),
        s => format!("state {s}"),
    }
}

/// Events of the `interop` module (docs/spec/interop.md §12), one line each (`None`: a kind
/// this build has no line for, shown raw).
fn describe_interop_event(ev: &InteropEvent) -> Option<String> {
    Some(match ev {
        InteropEvent::ClientCreated {
            client_id,
            chain_id,
            height,
        } => format!(
            "client {client_id} of {chain_id} created, trusting its header at height {height}"
        ),
        InteropEvent::ClientUpdated { client_id, height } => {
            format!("client {client_id} verified the counterparty's header at height {height}")
        }
        InteropEvent::ClientFrozen {
            client_id,
            height,
            reason,
        } => format!(
            "client {client_id} frozen at height {height} ({reason}): it verifies nothing until \
             governance substitutes it"
        ),
        InteropEvent::ClientSubstituted {
            subject,
            substitute,
        } => format!("client {subject} recovered: it now follows client {substitute}'s state"),
        InteropEvent::Connection {
            connection_id,
            state,
            client_id,
            counterparty_client_id,
            counterparty_connection_id,
        } => {
            let cp_conn = if counterparty_connection_id.is_empty() {
                String::new()
            } else {
                format!(", connection {counterparty_connection_id}")
            };
            format!(
                "connection {connection_id} {} (client {client_id}; the counterparty's client \
                 {counterparty_client_id}{cp_conn})",
                connection_state(*state)
            )
        }
        InteropEvent::Channel {
            port,
            channel,
            state,
            connection_id,
            counterparty_port,
            counterparty_channel,
        } => {
            let cp = if counterparty_channel.is_empty() {
                format!("port {counterparty_port}")
            } else {
                format!("{counterparty_port}/{counterparty_channel}")
            };
            format!(
                "channel {port}/{channel} {} over {connection_id} (counterparty {cp})",
                connection_state(*state)
            )
        }
        InteropEvent::SendPacket(p) => format!(
            "packet {} sent on {}/{} to {}/{}: {}; {}",
            p.sequence,
            p.source_port,
            p.source_channel,
            p.dest_port,
            p.dest_channel,
            packet_payload(p),
            packet_deadline(p)
        ),
        InteropEvent::RecvPacket(p) => format!(
            "packet {} from {}/{} received on {}/{}: {}",
            p.sequence,
            p.source_port,
            p.source_channel,
            p.dest_port,
            p.dest_channel,
            packet_payload(p)
        ),
        InteropEvent::WriteAck {
            port,
            channel,
            sequence,
            ack,
        } => match ack {
            meridian_interop::Acknowledgement::Success(_) => {
                format!("acknowledgement of packet {sequence} on {port}/{channel} written: success")
            }
            meridian_interop::Acknowledgement::Error(e) => format!(
                "acknowledgement of packet {sequence} on {port}/{channel} written: error ({e})"
            ),
        },
        InteropEvent::AcknowledgePacket {
            port,
            channel,
            sequence,
            success: true,
        } => format!("packet {sequence} of {port}/{channel} acknowledged: delivered"),
        InteropEvent::AcknowledgePacket {
            port,
            channel,
            sequence,
            success: false,
        } => format!(
            "packet {sequence} of {port}/{channel} acknowledged with an error{}",
            refund_note(port)
        ),
        InteropEvent::TimeoutPacket {
            port,
            channel,
            sequence,
        } => format!(
            "packet {sequence} of {port}/{channel} timed out on the destination{}",
            refund_note(port)
        ),
        InteropEvent::StateProven {
            client_id,
            chain_id,
            height,
            key,
            present,
            value_hash,
        } => {
            let what = if *present {
                format!("is present (value hash {})", hex::encode(value_hash))
            } else {
                "is absent".into()
            };
            format!(
                "proven: {} {what} on {chain_id} at its height {height} (client {client_id})",
                readable_key(key)
            )
        }
        InteropEvent::ContractAck {
            channel,
            sequence,
            contract,
            outcome,
            delivered,
            error,
        } => {
            let outcome = match outcome {
                0 => "delivered".to_string(),
                1 => "refused by the destination (error acknowledgement)".to_string(),
                2 => "timed out".to_string(),
                o => format!("outcome {o}"),
            };
            let callback = if *delivered {
                "its interop_ack ran".to_string()
            } else if error.is_empty() {
                "it exports no interop_ack".to_string()
            } else {
                format!("its interop_ack failed ({error}) and changed nothing")
            };
            format!(
                "contract call {sequence} of contract {contract} on contract/{channel} \
                 {outcome}; {callback}"
            )
        }
        InteropEvent::SideData {
            channel,
            sequence,
            sender,
            key,
            value_hash,
        } => format!(
            "side-chain record {sequence} on sidechain/{channel} from {sender}: {} (value hash \
             {}) stored",
            readable_key(key),
            hex::encode(value_hash)
        ),
        InteropEvent::Relayed { outcomes } => {
            let applied = outcomes
                .iter()
                .filter(|o| *o == meridian_interop_module::relay::APPLIED)
                .count();
            let refused: Vec<String> = outcomes
                .iter()
                .enumerate()
                .filter(|(_, o)| *o != meridian_interop_module::relay::APPLIED)
                .map(|(i, o)| format!("#{i} {o}"))
                .collect();
            if refused.is_empty() {
                format!("relayed {applied} of {} messages", outcomes.len())
            } else {
                format!(
                    "relayed {applied} of {} messages; refused: {}",
                    outcomes.len(),
                    refused.join(", ")
                )
            }
        }
        // Kinds added to the module after this build.
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}

/// Events of the `contract` module: its own (`code_stored`: the code hash; `deployed`,
/// `upgraded`: the contract name) and those contracts emit (kind `<contract>.<kind>`), whose
/// data is the contract's — JSON text for SDK contracts — shown as text when it is printable.
fn describe_contract_event(kind: &str, data: &[u8], data_hex: &str) -> String {
    let text = std::str::from_utf8(data)
        .ok()
        .filter(|t| !t.is_empty() && !t.chars().any(char::is_control));
    match (kind, text) {
        ("code_stored", _) if data.len() == 32 => format!("code {data_hex} stored"),
        ("deployed", Some(name)) => format!("contract {name} deployed"),
        ("upgraded", Some(name)) => format!("contract {name} upgraded to new code"),
        (k, Some(text)) if k.contains('.') => text.to_string(),
        _ => data_hex.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_event;
    use meridian_identity_module::IdentityEvent as E;
    use meridian_interop::{Acknowledgement, Packet};
    use meridian_interop_module::InteropEvent;
    use meridian_types::{Address, ChainId, Encode};

    fn identity(ev: E) -> String {
        describe_event(
            meridian_identity_module::MODULE,
            ev.kind(),
            &hex::encode(ev.encode()),
        )
    }

    #[test]
    fn identity_events_read_as_sentences() {
        let key = vec![0xab; 33];
        let hash = [0x11; 32];
        let cases = [
            (
                E::ValidatorRemoved {
                    public_key: key.clone(),
                },
                format!("validator {} removed, from the next epoch", "ab".repeat(33)),
            ),
            (
                E::ContractFrozen {
                    name: "token".into(),
                    frozen: true,
                },
                "contract token frozen: its calls and queries are refused".into(),
            ),
            (
                E::ContractFrozen {
                    name: "token".into(),
                    frozen: false,
                },
                "contract token unfrozen".into(),
            ),
            (
                E::ContractUpgradeApproved {
                    name: "counter".into(),
                    code_hash: hash,
                },
                format!(
                    "upgrade of contract counter to code {} approved",
                    "11".repeat(32)
                ),
            ),
            (
                E::CallApproved {
                    module: "interop".into(),
                    method: "open".into(),
                    args_hash: hash,
                },
                format!(
                    "call interop.open with arguments hash {} approved (usable once)",
                    "11".repeat(32)
                ),
            ),
        ];
        for (ev, want) in cases {
            assert_eq!(identity(ev), want);
        }
    }

    /// No identity event kind falls back to hex: every kind the module emits has its line.
    #[test]
    fn every_identity_event_kind_is_described() {
        let key = vec![2; 33];
        let all = [
            E::MemberRegistered {
                org: "org1".into(),
                role: "member".into(),
                name: "alice".into(),
                cert_id: [1; 32],
                rotated: false,
            },
            E::CertRevoked {
                ca_id: [1; 32],
                serial: vec![3],
            },
            E::ProposalCreated {
                id: 1,
                org: "org1".into(),
                deadline_height: 9,
            },
            E::Voted {
                id: 1,
                org: "org1".into(),
                approve: true,
            },
            E::ProposalExecuted { id: 1 },
            E::ProposalRejected { id: 1 },
            E::ProposalFailed {
                id: 1,
                code: "x.y".into(),
                reason: "gone".into(),
            },
            E::ValidatorAdded {
                name: "v".into(),
                public_key: key.clone(),
            },
            E::ValidatorRemoved {
                public_key: key.clone(),
            },
            E::ValidatorReplaced {
                old_key: key.clone(),
                new_key: key,
            },
            E::ParamSet {
                name: "p".into(),
                value: 1,
            },
            E::ContractFrozen {
                name: "c".into(),
                frozen: true,
            },
            E::ContractUpgradeApproved {
                name: "c".into(),
                code_hash: [1; 32],
            },
            E::CallApproved {
                module: "m".into(),
                method: "f".into(),
                args_hash: [1; 32],
            },
        ];
        let kinds: Vec<&str> = all.iter().map(E::kind).collect();
        assert_eq!(kinds, meridian_identity_module::EVENT_KINDS);
        for ev in all {
            let raw = hex::encode(ev.encode());
            let line = describe_event(meridian_identity_module::MODULE, ev.kind(), &raw);
            assert_ne!(line, raw, "{} is shown as hex", ev.kind());
        }
    }

    fn interop(ev: &InteropEvent) -> String {
        describe_event(
            meridian_interop_module::NAME,
            ev.kind(),
            &hex::encode(ev.encode()),
        )
    }

    fn transfer_packet(timeout_height: u64, timeout_timestamp_ms: u64) -> Packet {
        let data = meridian_interop::TransferData {
            denom: "GOLD".into(),
            amount: 2500,
            decimals: 2,
            sender: Address([0x11; 20]),
            receiver: Address([0x22; 20]),
            memo: String::new(),
        };
        Packet {
            sequence: 3,
            source_port: "transfer".into(),
            source_channel: "channel-0".into(),
            dest_port: "transfer".into(),
            dest_channel: "channel-1".into(),
            data: data.encode(),
            timeout_height,
            timeout_timestamp_ms,
        }
    }

    /// Every kind the interop module emits has its line (none falls back to hex), and the
    /// lines say what happened to the packet and the tokens.
    #[test]
    fn interop_events_read_as_sentences() {
        let (alice, bob) = (
            "0x".to_string() + &"11".repeat(20),
            "0x".to_string() + &"22".repeat(20),
        );
        let notary_key = [b"notary/doc/".as_slice(), &[0xab; 32]].concat();
        let cases = [
            (
                InteropEvent::ClientCreated {
                    client_id: "client-0".into(),
                    chain_id: ChainId::new("meridian-a").unwrap(),
                    height: 41,
                },
                "client client-0 of meridian-a created, trusting its header at height 41".into(),
            ),
            (
                InteropEvent::ClientUpdated {
                    client_id: "client-0".into(),
                    height: 42,
                },
                "client client-0 verified the counterparty's header at height 42".into(),
            ),
            (
                InteropEvent::ClientFrozen {
                    client_id: "client-0".into(),
                    height: 7,
                    reason: "conflicting headers".into(),
                },
                "client client-0 frozen at height 7 (conflicting headers): it verifies nothing \
                 until governance substitutes it"
                    .into(),
            ),
            (
                InteropEvent::ClientSubstituted {
                    subject: "client-0".into(),
                    substitute: "client-1".into(),
                },
                "client client-0 recovered: it now follows client client-1's state".into(),
            ),
            (
                InteropEvent::Connection {
                    connection_id: "connection-0".into(),
                    state: 1,
                    client_id: "client-0".into(),
                    counterparty_client_id: "client-2".into(),
                    counterparty_connection_id: String::new(),
                },
                "connection connection-0 INIT (client client-0; the counterparty's client \
                 client-2)"
                    .into(),
            ),
            (
                InteropEvent::Channel {
                    port: "transfer".into(),
                    channel: "channel-0".into(),
                    state: 3,
                    connection_id: "connection-0".into(),
                    counterparty_port: "transfer".into(),
                    counterparty_channel: "channel-1".into(),
                },
                "channel transfer/channel-0 OPEN over connection-0 (counterparty \
                 transfer/channel-1)"
                    .into(),
            ),
            (
                InteropEvent::SendPacket(transfer_packet(90, 0)),
                format!(
                    "packet 3 sent on transfer/channel-0 to transfer/channel-1: 2500 GOLD from \
                     {alice} to {bob}; times out at the destination's height 90"
                ),
            ),
            (
                InteropEvent::RecvPacket(transfer_packet(0, 1_700_000_000_000)),
                format!(
                    "packet 3 from transfer/channel-0 received on transfer/channel-1: 2500 GOLD \
                     from {alice} to {bob}"
                ),
            ),
            (
                InteropEvent::WriteAck {
                    port: "transfer".into(),
                    channel: "channel-1".into(),
                    sequence: 3,
                    ack: Acknowledgement::Error("interop.bad_denom: clash".into()),
                },
                "acknowledgement of packet 3 on transfer/channel-1 written: error \
                 (interop.bad_denom: clash)"
                    .into(),
            ),
            (
                InteropEvent::AcknowledgePacket {
                    port: "transfer".into(),
                    channel: "channel-0".into(),
                    sequence: 3,
                    success: false,
                },
                "packet 3 of transfer/channel-0 acknowledged with an error: the tokens are \
                 refunded to the sender"
                    .into(),
            ),
            (
                InteropEvent::TimeoutPacket {
                    port: "transfer".into(),
                    channel: "channel-0".into(),
                    sequence: 3,
                },
                "packet 3 of transfer/channel-0 timed out on the destination: the tokens are \
                 refunded to the sender"
                    .into(),
            ),
            (
                InteropEvent::StateProven {
                    client_id: "client-0".into(),
                    chain_id: ChainId::new("meridian-a").unwrap(),
                    height: 190,
                    key: notary_key,
                    present: false,
                    value_hash: [0; 32],
                },
                format!(
                    "proven: notary/doc/{} is absent on meridian-a at its height 190 (client \
                     client-0)",
                    "ab".repeat(32)
                ),
            ),
            (
                InteropEvent::ContractAck {
                    channel: "channel-1".into(),
                    sequence: 2,
                    contract: "letter".into(),
                    outcome: 2,
                    delivered: false,
                    error: String::new(),
                },
                "contract call 2 of contract letter on contract/channel-1 timed out; it exports \
                 no interop_ack"
                    .into(),
            ),
            (
                InteropEvent::SideData {
                    channel: "channel-2".into(),
                    sequence: 5,
                    sender: Address([0x11; 20]),
                    key: b"batch/7".to_vec(),
                    value_hash: [0xee; 32],
                },
                format!(
                    "side-chain record 5 on sidechain/channel-2 from {alice}: batch/7 (value \
                     hash {}) stored",
                    "ee".repeat(32)
                ),
            ),
            (
                InteropEvent::Relayed {
                    outcomes: vec!["ok".into(), "interop.already_received".into(), "ok".into()],
                },
                "relayed 2 of 3 messages; refused: #1 interop.already_received".into(),
            ),
        ];
        let kinds: Vec<&str> = cases.iter().map(|(ev, _)| ev.kind()).collect();
        assert_eq!(kinds, meridian_interop_module::events::EVENT_KINDS);
        for (ev, want) in &cases {
            assert_eq!(&interop(ev), want, "{}", ev.kind());
        }
        // Both timeouts, a successful delivery, a non-transfer port, a present value.
        let both = InteropEvent::SendPacket(transfer_packet(90, 1_700_000_000_000));
        assert!(
            interop(&both).ends_with(
                "times out at the destination's height 90 or at 2023-11-14 22:13:20.000 UTC there"
            ),
            "{}",
            interop(&both)
        );
        let ok = InteropEvent::AcknowledgePacket {
            port: "transfer".into(),
            channel: "channel-0".into(),
            sequence: 4,
            success: true,
        };
        assert_eq!(
            interop(&ok),
            "packet 4 of transfer/channel-0 acknowledged: delivered"
        );
        let mut other = transfer_packet(5, 0);
        other.source_port = "sidechain".into();
        other.dest_port = "sidechain".into();
        other.data = vec![1, 2, 3];
        assert!(interop(&InteropEvent::SendPacket(other)).contains(": 3 bytes of data;"));
        let timeout = InteropEvent::TimeoutPacket {
            port: "sidechain".into(),
            channel: "channel-2".into(),
            sequence: 1,
        };
        assert_eq!(
            interop(&timeout),
            "packet 1 of sidechain/channel-2 timed out on the destination"
        );
        let present = InteropEvent::StateProven {
            client_id: "client-0".into(),
            chain_id: ChainId::new("meridian-a").unwrap(),
            height: 9,
            key: b"bank/asset/GOLD".to_vec(),
            present: true,
            value_hash: [0xcd; 32],
        };
        assert_eq!(
            interop(&present),
            format!(
                "proven: bank/asset/GOLD is present (value hash {}) on meridian-a at its height \
                 9 (client client-0)",
                "cd".repeat(32)
            )
        );
        // Unknown kinds and malformed data stay hex.
        assert_eq!(describe_event("interop", "something_new", "0102"), "0102");
        assert_eq!(describe_event("interop", "timeout_packet", "0102"), "0102");
    }

    #[test]
    fn contract_events_read_as_sentences() {
        let c = |kind: &str, data: &[u8]| describe_event("contract", kind, &hex::encode(data));
        assert_eq!(
            c("code_stored", &[0x22; 32]),
            format!("code {} stored", "22".repeat(32))
        );
        assert_eq!(c("deployed", b"token"), "contract token deployed");
        assert_eq!(
            c("upgraded", b"token"),
            "contract token upgraded to new code"
        );
        assert_eq!(
            c("token.transfer", br#"{"amount":"5"}"#),
            r#"{"amount":"5"}"#
        );
        // Binary contract data, and unknown or malformed module events, stay hex.
        assert_eq!(c("probe.raw", &[0, 1, 0xff]), "0001ff");
        assert_eq!(c("code_stored", b"short"), hex::encode(b"short"));
        assert_eq!(c("something_new", b"x"), "78");
    }
}
