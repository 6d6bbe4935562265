//! `meridian tx`: build, sign (with a stored key) and submit transactions.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use meridian_bank::BankEvent;
use meridian_client::{hash_file, Client, ClientError, Document, ReceiptView, SubmitMode};
use meridian_crypto::Suite;
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
        _ => data_hex.to_string(),
    }
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
    use meridian_types::Encode;

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
