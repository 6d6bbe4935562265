//! `meridian gov`: alliance governance of a certificate-mode chain (the identity module's
//! `propose` and `vote`), and verified reads of proposals.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use meridian_client::{
    action_json, parse_threshold, threshold_name, Action, Client, ClientError, Committed, Proposal,
    ProposalInfo, ProposalOutcome, ProposalStatus, Verified,
};
use meridian_crypto::Suite;
use meridian_identity::{Certificate, Role};
use serde_json::json;

use super::tx::{events_json, read_cert};
use super::{finish, open_wallet, print_json, provenance, provenance_json, KeyOpts, NodeOpts};

/// Voting period when `--deadline` is not given, in blocks.
pub const DEFAULT_DEADLINE_BLOCKS: u64 = 100_000;

const GOV_HELP: &str = "\
Alliance governance on a certificate-mode chain. An organisation admin opens a proposal (its
organisation votes yes by proposing); admins of the other organisations vote, one vote per
organisation (a later vote replaces the earlier one). The change executes in the block where
the proposal reaches its threshold (a proposal that passes but no longer applies, because the
state changed since it was proposed, is closed as rejected and changes nothing); votes after its
deadline are refused (identity.proposal_expired). Organisation, CA, validator and parameter
changes need at least a majority of organisations whatever the threshold; validator and
parameter changes take effect at the next consensus epoch boundary. Proposing and voting are
admin calls: other roles are refused at admission (auth.denied).

Examples:
  meridian gov propose add-org --org org4 --ca-cert org4-ca/ca.pem --key org0-admin
  meridian gov propose remove-org --org org4 --threshold two-thirds --key org0-admin
  meridian gov propose trust-ca --org org1 --ca-cert cfca.pem --key org1-admin
  meridian gov propose set-policy --call bank.mint --roles admin,member --key org0-admin
  meridian gov propose revoke-cert --cert mallory.pem --deadline 500 --key org2-admin
  meridian gov propose add-validator --name org4 --cert org4-consensus.pem --key org0-admin
  meridian gov propose remove-validator --public-key 02ab... --key org0-admin
  meridian gov propose replace-validator --old-key 02ab... --name org1 --new-key 03cd... --key org1-admin
  meridian gov propose set-param --name max_block_txs --value 5000 --key org0-admin
  meridian gov propose approve-call --module interop --method create_client \\
      --args-hash 5f1c...  --key org0-admin      (hash from `meridian interop client-args`)
  meridian gov vote 1 yes --key org1-admin
  meridian gov show 1 --json
  meridian gov list --from 1 --limit 20

Signing uses the key store like `meridian tx` (--keys-dir, --passphrase-file or
$MERIDIAN_PASSPHRASE); reads are verified against the finalized header (and with --genesis
its finalization certificate).

Exit codes: 0 success; 1 other error (including refusals at admission such as auth.denied);
3 node unreachable or timed out; 4 key store (wrong passphrase, unknown key, ...);
5 verification failed (proof, certificate or a malformed answer); 6 transaction failed on
chain (identity.not_admin, identity.proposal_expired, identity.proposal_closed, ...).";

#[derive(Args, Debug)]
#[command(after_help = GOV_HELP)]
pub struct GovArgs {
    #[command(flatten)]
    pub node: NodeOpts,
    #[command(flatten)]
    pub keys: KeyOpts,
    /// Name of the stored key that signs (an organisation admin's), for propose and vote.
    #[arg(long, global = true, value_name = "NAME")]
    pub key: Option<String>,
    /// Seconds to wait for finality (at most 60).
    #[arg(long, global = true, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
    /// Blocks after the latest height during which the transaction may be included.
    #[arg(long, global = true, default_value_t = meridian_client::DEFAULT_EXPIRY_BLOCKS, value_name = "N")]
    pub expiry_blocks: u64,
    #[command(subcommand)]
    pub cmd: GovCmd,
}

#[derive(Subcommand, Debug)]
pub enum GovCmd {
    /// Open a proposal (identity.propose) and print its id.
    Propose(ProposeArgs),
    /// Vote on a proposal for the signer's organisation (identity.vote).
    Vote {
        /// Proposal id.
        id: u64,
        /// Approve or reject.
        #[arg(value_enum)]
        choice: Choice,
    },
    /// Show a proposal: action, threshold, deadline, votes per organisation, status (the
    /// proof is verified before anything is printed).
    Show {
        /// Proposal id.
        id: u64,
        /// A past finalized height [default: latest].
        #[arg(long)]
        height: Option<u64>,
    },
    /// Retire a validator whose consensus certificate has expired (or whose CA is no longer
    /// trusted): no vote needed, any member may send it (identity.retire_validator); refused
    /// while the certificate is valid or if fewer than 3f+1 validators would remain. Takes
    /// effect at the next consensus epoch boundary.
    Retire {
        /// The validator's public key, hex (as `GET /v1/validators` lists it).
        #[arg(long, value_name = "HEX", required_unless_present = "cert")]
        public_key: Option<String>,
        /// Take the key from the validator's consensus certificate instead.
        #[arg(long, value_name = "FILE.pem", conflicts_with = "public_key")]
        cert: Option<PathBuf>,
    },
    /// List proposals in id order, each verified, with the next id.
    List {
        /// First proposal id.
        #[arg(long, default_value_t = 1)]
        from: u64,
        /// At most this many (1-100).
        #[arg(long, default_value_t = meridian_api::DEFAULT_PROPOSALS_PAGE)]
        limit: u64,
        /// A past finalized height [default: latest].
        #[arg(long)]
        height: Option<u64>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Choice {
    Yes,
    No,
}

#[derive(Args, Debug)]
pub struct ProposeArgs {
    /// Organisations that must approve: majority, two-thirds, all or any:N.
    #[arg(
        long,
        global = true,
        default_value = "majority",
        value_name = "majority|two-thirds|all|any:N"
    )]
    pub threshold: String,
    /// Blocks after the proposal's block during which votes count (1-1000000).
    #[arg(long, global = true, default_value_t = DEFAULT_DEADLINE_BLOCKS, value_name = "BLOCKS")]
    pub deadline: u64,
    #[command(subcommand)]
    pub action: ActionCmd,
}

/// What the proposal does when it passes.
#[derive(Subcommand, Debug)]
pub enum ActionCmd {
    /// Admit a new member organisation with its CA certificate (from `meridian ca init`).
    AddOrg {
        /// The organisation id (the CA certificate's O).
        #[arg(long)]
        org: String,
        /// The organisation CA's certificate, PEM or DER.
        #[arg(long, value_name = "FILE.pem")]
        ca_cert: PathBuf,
    },
    /// Remove an organisation and distrust its CAs (refused while it runs a validator).
    RemoveOrg {
        #[arg(long)]
        org: String,
    },
    /// Trust a third-party CA (e.g. a national CA) to vouch for members of an organisation.
    TrustCa {
        /// The organisation the CA vouches for.
        #[arg(long)]
        org: String,
        /// The CA's certificate, PEM or DER.
        #[arg(long, value_name = "FILE.pem")]
        ca_cert: PathBuf,
    },
    /// Set the roles allowed to send a call (`<module>.<method>` or `<module>.*`).
    SetPolicy {
        /// The call, e.g. bank.mint or notary.*.
        #[arg(long)]
        call: String,
        /// Roles allowed, comma-separated (admin, member, client, regulator, auditor, ...).
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<String>,
    },
    /// Put a certificate on the chain's revocation list: give the certificate (its issuing
    /// CA is looked up among the CAs the chain trusts, with proofs), or --ca and --serial.
    RevokeCert {
        /// The certificate to revoke, PEM or DER.
        #[arg(long, value_name = "FILE.pem", required_unless_present = "serial")]
        cert: Option<PathBuf>,
        /// The issuing CA's certificate (with --serial).
        #[arg(
            long = "ca",
            value_name = "CA.pem",
            requires = "serial",
            conflicts_with = "cert"
        )]
        ca: Option<PathBuf>,
        /// Serial of the certificate, hex (with --ca).
        #[arg(long, value_name = "HEX", requires = "ca", conflicts_with = "cert")]
        serial: Option<String>,
    },
    /// Add a validator. Its key must hold a registered, valid `consensus` certificate of a
    /// member organisation (`meridian ca issue --role consensus`, then `tx register-cert`
    /// signed by that key). Takes effect at the next consensus epoch boundary.
    AddValidator {
        /// Validator name (unique in the set, e.g. the organisation's node name).
        #[arg(long)]
        name: String,
        /// The validator's consensus public key, hex (suite encoding, as `meridian keys show`
        /// prints it).
        #[arg(long, value_name = "HEX", required_unless_present = "cert")]
        public_key: Option<String>,
        /// Take the key from this consensus certificate instead (PEM or DER).
        #[arg(long, value_name = "FILE.pem", conflicts_with = "public_key")]
        cert: Option<PathBuf>,
    },
    /// Remove a validator (refused if the set would drop below 3f+1). Takes effect at the next
    /// consensus epoch boundary.
    RemoveValidator {
        /// The validator's public key, hex (as `GET /v1/validators` lists it).
        #[arg(long, value_name = "HEX", required_unless_present = "cert")]
        public_key: Option<String>,
        /// Take the key from the validator's consensus certificate instead.
        #[arg(long, value_name = "FILE.pem", conflicts_with = "public_key")]
        cert: Option<PathBuf>,
    },
    /// Swap one validator for another in one step (the set keeps its size), e.g. to move a
    /// node to new hardware with a new key. Takes effect at the next consensus epoch boundary.
    ReplaceValidator {
        /// The current validator's public key, hex.
        #[arg(long, value_name = "HEX")]
        old_key: String,
        /// Name of the new validator (may be the old one's).
        #[arg(long)]
        name: String,
        /// The new validator's public key, hex (it must hold a registered consensus
        /// certificate).
        #[arg(long, value_name = "HEX", required_unless_present = "new_cert")]
        new_key: Option<String>,
        /// Take the new key from this consensus certificate instead.
        #[arg(long, value_name = "FILE.pem", conflicts_with = "new_key")]
        new_cert: Option<PathBuf>,
    },
    /// Set a chain parameter: fault_tolerance (f; the set may never drop below 3f+1),
    /// max_block_txs or max_block_bytes. Takes effect at the next consensus epoch boundary.
    SetParam {
        /// Parameter name.
        #[arg(long)]
        name: String,
        /// New value.
        #[arg(long)]
        value: u64,
    },
    /// Freeze a deployed contract (every call refused with contract.frozen) or, with
    /// --unfreeze, lift the freeze.
    FreezeContract {
        /// Contract name.
        #[arg(long)]
        name: String,
        /// Lift an earlier freeze instead.
        #[arg(long)]
        unfreeze: bool,
    },
    /// Approve an upgrade: the contract's creator may then switch it to the code with this
    /// hash (`meridian contract upgrade`; the code must be uploaded).
    ApproveUpgrade {
        /// Contract name.
        #[arg(long)]
        name: String,
        /// Hash of the new code (`meridian contract build` prints it), hex.
        #[arg(long, value_name = "HEX")]
        code_hash: String,
    },
    /// Approve one call that a module gates on governance, by the suite hash of its exact
    /// argument bytes; the module uses the approval once (a later proposal may approve the
    /// same call again). E.g. `interop.create_client` (`meridian interop client-args` prints
    /// the hash), `interop.conn_open_init`, `interop.substitute_client`,
    /// `interop.set_rate_limit`.
    ApproveCall {
        /// The module that gates the call, e.g. interop.
        #[arg(long)]
        module: String,
        /// The method, e.g. create_client.
        #[arg(long)]
        method: String,
        /// Suite hash (SM3 or SHA-256, the chain's) of the call's argument bytes, hex.
        #[arg(long, value_name = "HEX")]
        args_hash: String,
    },
}

/// The `ApproveCall` action, checked as the identity module will check it (lower-case names
/// of `[a-z0-9_]`, not the identity module itself, whose calls are proposals already).
fn approve_call_action(module: &str, method: &str, args_hash: &str) -> Result<Action, ClientError> {
    use meridian_identity_module::governance::{MAX_APPROVED_METHOD_LEN, MAX_APPROVED_MODULE_LEN};
    let word = |s: &str, max: usize| {
        !s.is_empty()
            && s.len() <= max
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    if !word(module, MAX_APPROVED_MODULE_LEN) {
        return Err(ClientError::BadInput(format!(
            "--module {module:?}: 1-{MAX_APPROVED_MODULE_LEN} of a-z 0-9 _"
        )));
    }
    if module == meridian_identity_module::MODULE {
        return Err(ClientError::BadInput(
            "--module identity: identity calls are governed by proposals themselves".into(),
        ));
    }
    if !word(method, MAX_APPROVED_METHOD_LEN) {
        return Err(ClientError::BadInput(format!(
            "--method {method:?}: 1-{MAX_APPROVED_METHOD_LEN} of a-z 0-9 _"
        )));
    }
    let args_hash = hex::decode(args_hash.trim().trim_start_matches("0x"))
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| ClientError::BadInput("--args-hash: 64 hex digits (32 bytes)".into()))?;
    Ok(Action::ApproveCall {
        module: module.to_string(),
        method: method.to_string(),
        args_hash,
    })
}

/// A consensus public key from hex or from a certificate, checked against the chain's suite.
fn validator_key(
    suite: Suite,
    hex_key: Option<&str>,
    cert: Option<&Path>,
    what: &str,
) -> Result<Vec<u8>, ClientError> {
    let raw = match (hex_key, cert) {
        (Some(h), _) => hex::decode(h.trim().trim_start_matches("0x"))
            .map_err(|_| ClientError::BadInput(format!("{what} {h:?} is not hex")))?,
        (None, Some(file)) => {
            let c = read_cert(file)?;
            if c.role().ok() != Some(Role::Consensus) {
                return Err(ClientError::BadInput(format!(
                    "{} is not a consensus certificate (role {})",
                    file.display(),
                    c.role().map(|r| r.to_string()).unwrap_or_default()
                )));
            }
            c.public_key().to_bytes()
        }
        (None, None) => return Err(ClientError::BadInput(format!("{what} is required"))),
    };
    meridian_crypto::PublicKey::from_bytes(suite, &raw)
        .map_err(|e| ClientError::BadInput(format!("{what}: not a {suite} public key ({e})")))?;
    Ok(raw)
}

pub fn run(args: GovArgs) -> anyhow::Result<()> {
    let json = args.node.json;
    finish(json, exec(args))
}

fn exec(args: GovArgs) -> Result<(), ClientError> {
    let client = args.node.client()?;
    match &args.cmd {
        GovCmd::Propose(p) => propose(&client, &args, p),
        GovCmd::Vote { id, choice } => vote(&client, &args, *id, *choice == Choice::Yes),
        GovCmd::Retire { public_key, cert } => retire(&client, &args, public_key, cert),
        GovCmd::Show { id, height } => show(&client, args.node.json, *id, *height),
        GovCmd::List {
            from,
            limit,
            height,
        } => list(&client, args.node.json, *from, *limit, *height),
    }
}

fn signer(args: &GovArgs) -> Result<String, ClientError> {
    args.key.clone().ok_or_else(|| {
        ClientError::BadInput("--key NAME is required: the stored admin key that signs".into())
    })
}

fn read_ca(path: &Path) -> Result<Certificate, ClientError> {
    let ca = read_cert(path)?;
    if !ca.is_ca() {
        return Err(ClientError::BadInput(format!(
            "{} is not a CA certificate (basicConstraints CA:false)",
            path.display()
        )));
    }
    Ok(ca)
}

/// The action of `cmd`, checked here as far as it can be without the chain's state.
fn build_action(client: &Client, cmd: &ActionCmd) -> Result<Action, ClientError> {
    Ok(match cmd {
        ActionCmd::AddOrg { org, ca_cert } => {
            if !meridian_identity::is_valid_org_id(org) {
                return Err(ClientError::BadInput(format!(
                    "--org {org:?}: 1-64 of A-Z a-z 0-9 . _ -"
                )));
            }
            let ca = read_ca(ca_cert)?;
            if ca.org() != Some(org.as_str()) {
                return Err(ClientError::BadInput(format!(
                    "the CA certificate's organisation (O) is {:?}, not --org {org:?}",
                    ca.org().unwrap_or_default()
                )));
            }
            Action::AddOrg {
                org: org.clone(),
                ca_der: ca.to_der(),
            }
        }
        ActionCmd::RemoveOrg { org } => Action::RemoveOrg { org: org.clone() },
        ActionCmd::TrustCa { org, ca_cert } => Action::TrustCa {
            org: org.clone(),
            ca_der: read_ca(ca_cert)?.to_der(),
        },
        ActionCmd::SetPolicy { call, roles } => {
            for r in roles {
                r.parse::<Role>()
                    .map_err(|e| ClientError::BadInput(format!("--roles {r:?}: {e}")))?;
            }
            Action::SetPolicy {
                call: call.clone(),
                roles: roles.clone(),
            }
        }
        ActionCmd::RevokeCert { cert, ca, serial } => match (cert, ca, serial) {
            (Some(file), _, _) => {
                let cert = read_cert(file)?;
                let issuer = client.trusted_issuer(&cert)?.value.ok_or_else(|| {
                    ClientError::BadInput(format!(
                        "no CA the chain trusts for organisation {:?} issued {}",
                        cert.org().unwrap_or_default(),
                        file.display()
                    ))
                })?;
                Action::RevokeCert {
                    ca_id: issuer,
                    serial: cert.serial().as_bytes().to_vec(),
                }
            }
            (None, Some(ca), Some(serial)) => {
                let ca = read_cert(ca)?;
                let serial =
                    meridian_identity::Serial::from_hex(serial.trim_start_matches("0x"))
                        .map_err(|e| ClientError::BadInput(format!("--serial {serial:?}: {e}")))?;
                Action::RevokeCert {
                    ca_id: *ca.cert_id(client.chain()?.suite).as_bytes(),
                    serial: serial.as_bytes().to_vec(),
                }
            }
            _ => {
                return Err(ClientError::BadInput(
                    "give --cert FILE, or --ca CA.pem and --serial HEX".into(),
                ))
            }
        },
        ActionCmd::AddValidator {
            name,
            public_key,
            cert,
        } => Action::AddValidator {
            name: name.clone(),
            public_key: validator_key(
                client.chain()?.suite,
                public_key.as_deref(),
                cert.as_deref(),
                "--public-key",
            )?,
        },
        ActionCmd::RemoveValidator { public_key, cert } => Action::RemoveValidator {
            public_key: validator_key(
                client.chain()?.suite,
                public_key.as_deref(),
                cert.as_deref(),
                "--public-key",
            )?,
        },
        ActionCmd::ReplaceValidator {
            old_key,
            name,
            new_key,
            new_cert,
        } => {
            let suite = client.chain()?.suite;
            Action::ReplaceValidator {
                old_key: validator_key(suite, Some(old_key), None, "--old-key")?,
                name: name.clone(),
                new_key: validator_key(
                    suite,
                    new_key.as_deref(),
                    new_cert.as_deref(),
                    "--new-key",
                )?,
            }
        }
        ActionCmd::SetParam { name, value } => {
            if !meridian_types::CHAIN_PARAMS.contains(&name.as_str()) {
                return Err(ClientError::BadInput(format!(
                    "--name {name:?}: settable parameters are {}",
                    meridian_types::CHAIN_PARAMS.join(", ")
                )));
            }
            Action::SetParam {
                name: name.clone(),
                value: *value,
            }
        }
        ActionCmd::FreezeContract { name, unfreeze } => Action::FreezeContract {
            name: name.clone(),
            frozen: !unfreeze,
        },
        ActionCmd::ApproveUpgrade { name, code_hash } => Action::ApproveContractUpgrade {
            name: name.clone(),
            code_hash: hex::decode(code_hash)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| {
                    ClientError::BadInput("--code-hash: 64 hex digits (32 bytes)".into())
                })?,
        },
        ActionCmd::ApproveCall {
            module,
            method,
            args_hash,
        } => approve_call_action(module, method, args_hash)?,
    })
}

fn commit(
    client: &Client,
    args: &GovArgs,
    tx: &meridian_types::SignedTx,
) -> Result<Committed, ClientError> {
    client.commit(tx, Duration::from_secs(args.timeout))
}

fn propose(client: &Client, args: &GovArgs, p: &ProposeArgs) -> Result<(), ClientError> {
    let name = signer(args)?;
    let threshold = parse_threshold(&p.threshold)?;
    let action = build_action(client, &p.action)?;
    let summary = describe_action(&action, client.chain()?.suite);
    let mut wallet = open_wallet(client, &args.keys, &name, args.expiry_blocks)?;
    let tx = wallet.propose(client, action.clone(), threshold, p.deadline)?;
    let done = commit(client, args, &tx)?;
    let id = done.proposal_id().ok_or_else(|| {
        ClientError::BadResponse(
            "the receipt of identity.propose has no proposal_created event".into(),
        )
    })?;
    let outcome = done.proposal_outcome(id);
    let status = outcome.as_ref().map_or("open", ProposalOutcome::status);
    let r = &done.receipt;
    let deadline = r.height + p.deadline;
    if args.node.json {
        print_json(&json!({
            "proposal_id": id,
            "status": status,
            "failure": failure_json(outcome.as_ref()),
            "action": action_json(&action),
            "threshold": threshold_name(threshold),
            "deadline_height": deadline,
            "hash": hex::encode(done.hash),
            "height": r.height,
            "code": r.code,
            "signer": r.sender,
            "signer_org": r.signer_org,
            "events": events_json(r),
        }));
    } else {
        println!("proposal {id}: {summary}");
        println!(
            "  threshold {}, votes count until height {deadline}",
            threshold_name(threshold)
        );
        println!(
            "  status {status}{} (proposed by {}, which votes yes)",
            failure_text(outcome.as_ref()),
            r.signer_org.as_deref().unwrap_or("?")
        );
        println!("  tx {} in block {}", hex::encode(done.hash), r.height);
        if status == "open" {
            println!(
                "other organisations' admins vote with: meridian gov vote {id} yes --key ADMIN"
            );
        }
    }
    Ok(())
}

fn vote(client: &Client, args: &GovArgs, id: u64, approve: bool) -> Result<(), ClientError> {
    let name = signer(args)?;
    let mut wallet = open_wallet(client, &args.keys, &name, args.expiry_blocks)?;
    let tx = wallet.vote(client, id, approve)?;
    let done = commit(client, args, &tx)?;
    let outcome = done.proposal_outcome(id);
    let status = outcome.as_ref().map_or("open", ProposalOutcome::status);
    let r = &done.receipt;
    let choice = if approve { "yes" } else { "no" };
    if args.node.json {
        print_json(&json!({
            "proposal_id": id,
            "approve": approve,
            "status": status,
            "failure": failure_json(outcome.as_ref()),
            "hash": hex::encode(done.hash),
            "height": r.height,
            "code": r.code,
            "signer": r.sender,
            "signer_org": r.signer_org,
            "events": events_json(r),
        }));
    } else {
        println!(
            "{} voted {choice} on proposal {id}: now {status}{}",
            r.signer_org.as_deref().unwrap_or("?"),
            failure_text(outcome.as_ref())
        );
        println!("  tx {} in block {}", hex::encode(done.hash), r.height);
    }
    Ok(())
}

fn retire(
    client: &Client,
    args: &GovArgs,
    public_key: &Option<String>,
    cert: &Option<PathBuf>,
) -> Result<(), ClientError> {
    let public_key = validator_key(
        client.chain()?.suite,
        public_key.as_deref(),
        cert.as_deref(),
        "--public-key",
    )?;
    let name = signer(args)?;
    let mut wallet = open_wallet(client, &args.keys, &name, args.expiry_blocks)?;
    let call = meridian_identity_module::IdentityCall::RetireValidator {
        public_key: public_key.clone(),
    }
    .into_call();
    let tx = wallet.build(client, call)?;
    let done = commit(client, args, &tx)?;
    let r = &done.receipt;
    if args.node.json {
        print_json(&json!({
            "public_key": hex::encode(&public_key),
            "hash": hex::encode(done.hash),
            "height": r.height,
            "code": r.code,
            "events": events_json(r),
        }));
    } else {
        println!(
            "validator {} retired from the next epoch",
            hex::encode(&public_key)
        );
        println!("  tx {} in block {}", hex::encode(done.hash), r.height);
    }
    Ok(())
}

/// `{code, reason}` of a proposal that passed but no longer applied, else null.
fn failure_json(o: Option<&ProposalOutcome>) -> serde_json::Value {
    match o {
        Some(ProposalOutcome::Failed { code, reason }) => json!({"code": code, "reason": reason}),
        _ => serde_json::Value::Null,
    }
}

fn failure_text(o: Option<&ProposalOutcome>) -> String {
    match o {
        Some(ProposalOutcome::Failed { code, reason }) => {
            format!(" (it passed but no longer applies, nothing changed: {code}: {reason})")
        }
        _ => String::new(),
    }
}

fn status_name(s: ProposalStatus) -> &'static str {
    match s {
        ProposalStatus::Open => "open",
        ProposalStatus::Executed => "executed",
        ProposalStatus::Rejected => "rejected",
    }
}

fn votes_line(p: &Proposal) -> String {
    if p.votes.is_empty() {
        return "none".into();
    }
    let yes = p.votes.iter().filter(|v| v.1).count();
    let list: Vec<String> = p
        .votes
        .iter()
        .map(|(org, y)| format!("{org} {}", if *y { "yes" } else { "no" }))
        .collect();
    format!(
        "{} ({yes} yes, {} no)",
        list.join(", "),
        p.votes.len() - yes
    )
}

fn show(client: &Client, json: bool, id: u64, height: Option<u64>) -> Result<(), ClientError> {
    let v = client.proposal_at(id, height)?;
    let suite = client.chain()?.suite;
    if json {
        print_json(&json!({
            "id": id,
            "exists": v.value.is_some(),
            "proposal": v.value.as_ref().map(ProposalInfo::from),
            "proof": provenance_json(&v),
        }));
        return Ok(());
    }
    match &v.value {
        None => println!("no proposal {id} at height {} (absence proven)", v.height),
        Some(p) => print_proposal(p, &v, suite),
    }
    println!("{}", provenance(&v));
    Ok(())
}

fn print_proposal<T>(p: &Proposal, at: &Verified<T>, suite: Suite) {
    println!("proposal {}: {}", p.id, describe_action(&p.action, suite));
    println!("  proposed by  {}", p.proposer_org);
    println!("  threshold    {}", threshold_name(p.threshold));
    let left = if at.height <= p.deadline_height {
        format!("{} blocks left", p.deadline_height - at.height)
    } else {
        "passed".into()
    };
    println!("  deadline     height {} ({left})", p.deadline_height);
    println!("  status       {}", status_name(p.status));
    println!("  votes        {}", votes_line(p));
}

fn list(
    client: &Client,
    json: bool,
    from: u64,
    limit: u64,
    height: Option<u64>,
) -> Result<(), ClientError> {
    let v = client.proposals(from, limit, height)?;
    let next = client.next_proposal_id(Some(v.height))?.value;
    if json {
        print_json(&json!({
            "next_id": next,
            "proposals": v.value.iter().map(ProposalInfo::from).collect::<Vec<_>>(),
            "proof": provenance_json(&v),
        }));
        return Ok(());
    }
    let suite = client.chain()?.suite;
    if v.value.is_empty() {
        println!("no proposals from id {from} (next id {next})");
    }
    for p in &v.value {
        println!(
            "#{:<4} {:<8} {} [{}; until height {}; votes: {}]",
            p.id,
            status_name(p.status),
            describe_action(&p.action, suite),
            threshold_name(p.threshold),
            p.deadline_height,
            votes_line(p)
        );
    }
    println!("{}", provenance(&v));
    Ok(())
}

/// One line saying what an action does.
pub fn describe_action(a: &Action, suite: Suite) -> String {
    let ca = |der: &[u8]| match Certificate::from_der(der) {
        Ok(c) => format!("{} (id {})", c.subject_dn(), c.cert_id(suite)),
        Err(e) => format!("an unreadable certificate ({e})"),
    };
    match a {
        Action::AddOrg { org, ca_der } => format!("add organisation {org} with CA {}", ca(ca_der)),
        Action::RemoveOrg { org } => format!("remove organisation {org}"),
        Action::TrustCa { org, ca_der } => {
            format!("trust CA {} for organisation {org}", ca(ca_der))
        }
        Action::SetPolicy { call, roles } => {
            format!("allow {} to send {call}", roles.join(", "))
        }
        Action::RevokeCert { ca_id, serial } => format!(
            "revoke certificate serial {} of CA {}",
            hex::encode(serial),
            hex::encode(ca_id)
        ),
        Action::AddValidator { name, public_key } => format!(
            "add validator {name} ({}) from the next epoch",
            hex::encode(public_key)
        ),
        Action::RemoveValidator { public_key } => format!(
            "remove validator {} from the next epoch",
            hex::encode(public_key)
        ),
        Action::ReplaceValidator {
            old_key,
            name,
            new_key,
        } => format!(
            "replace validator {} by {name} ({}) from the next epoch",
            hex::encode(old_key),
            hex::encode(new_key)
        ),
        Action::SetParam { name, value } => {
            format!("set chain parameter {name} to {value} from the next epoch")
        }
        Action::FreezeContract { name, frozen: true } => format!("freeze contract {name}"),
        Action::FreezeContract {
            name,
            frozen: false,
        } => format!("unfreeze contract {name}"),
        Action::ApproveContractUpgrade { name, code_hash } => format!(
            "approve upgrading contract {name} to code {}",
            hex::encode(code_hash)
        ),
        Action::ApproveCall {
            module,
            method,
            args_hash,
        } => format!(
            "approve one call {module}.{method} with arguments hash {}",
            hex::encode(args_hash)
        ),
        #[allow(unreachable_patterns)]
        _ => format!("{}", action_json(a)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use meridian_types::Encode;

    #[derive(Parser, Debug)]
    struct Top {
        #[command(subcommand)]
        cmd: GovCmd,
    }

    fn parse(args: &[&str]) -> Result<ActionCmd, clap::Error> {
        let top = Top::try_parse_from(std::iter::once("gov").chain(args.iter().copied()))?;
        match top.cmd {
            GovCmd::Propose(p) => Ok(p.action),
            other => panic!("not a proposal: {other:?}"),
        }
    }

    fn approve_call(cmd: ActionCmd) -> Result<Action, ClientError> {
        match cmd {
            ActionCmd::ApproveCall {
                module,
                method,
                args_hash,
            } => approve_call_action(&module, &method, &args_hash),
            other => panic!("not approve-call: {other:?}"),
        }
    }

    #[test]
    fn approve_call_parses_and_encodes_as_identity_action_12() {
        let hash = "ab".repeat(32);
        let cmd = parse(&[
            "propose",
            "approve-call",
            "--module",
            "interop",
            "--method",
            "create_client",
            "--args-hash",
            &hash,
            "--threshold",
            "all",
        ])
        .unwrap();
        let action = approve_call(cmd).unwrap();
        assert_eq!(
            action,
            Action::ApproveCall {
                module: "interop".into(),
                method: "create_client".into(),
                args_hash: [0xab; 32],
            }
        );
        // Tag 12, then str module, str method, the 32-byte hash (docs/spec/interop.md §11).
        let mut want = vec![12, 0, 0, 0, 7];
        want.extend_from_slice(b"interop");
        want.extend_from_slice(&[0, 0, 0, 13]);
        want.extend_from_slice(b"create_client");
        want.extend_from_slice(&[0xab; 32]);
        assert_eq!(action.encode(), want);
        assert_eq!(
            describe_action(&action, Suite::Sm),
            format!(
                "approve one call interop.create_client with arguments hash {}",
                "ab".repeat(32)
            )
        );
        let json = action_json(&action);
        assert_eq!(json["kind"], "approve_call");
        assert_eq!(json["module"], "interop");
        assert_eq!(json["method"], "create_client");
        assert_eq!(json["args_hash"], "ab".repeat(32));
        // A 0x prefix is accepted.
        let prefixed = approve_call_action("interop", "set_rate_limit", &format!("0x{hash}"));
        assert!(prefixed.is_ok());
    }

    #[test]
    fn approve_call_refuses_what_the_chain_would_refuse() {
        let hash = "00".repeat(32);
        // All three options are required.
        assert!(parse(&["propose", "approve-call", "--module", "interop"]).is_err());
        for (module, method, args_hash) in [
            ("Interop", "create_client", hash.as_str()),
            ("interop", "create-client", hash.as_str()),
            ("interop/x", "create_client", hash.as_str()),
            ("", "create_client", hash.as_str()),
            ("interop", "", hash.as_str()),
            (&"m".repeat(33), "create_client", hash.as_str()),
            ("interop", &"f".repeat(65), hash.as_str()),
            ("identity", "propose", hash.as_str()),
            ("interop", "create_client", "abcd"),
            ("interop", "create_client", &"zz".repeat(32)),
            ("interop", "create_client", &"00".repeat(33)),
        ] {
            assert!(
                matches!(
                    approve_call_action(module, method, args_hash),
                    Err(ClientError::BadInput(_))
                ),
                "{module:?} {method:?} {args_hash:?}"
            );
        }
    }
}
