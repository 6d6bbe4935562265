//! `meridian contract`: scaffold, build, deploy, call, query, inspect and upgrade WebAssembly
//! contracts (docs/spec/contracts.md), over `meridian_client` and `meridian_wasm_build`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use meridian_client::{
    code_hash, Client, ClientError, ContractInfo, ReceiptView, SubmitMode, Verified, Wallet,
};
use meridian_crypto::Suite;
use meridian_types::{Hash32, SignedTx};
use serde_json::{json, Value};

use super::tx::describe_event;
use super::{finish, open_wallet, print_json, provenance, provenance_json, KeyOpts, NodeOpts};

/// Fuel of `deploy`, `call` and `upgrade` when `--fuel` is not given.
pub const DEFAULT_FUEL: u64 = 100_000_000;

/// Where the contract SDK of this checkout is (`contract new` depends on it by path).
const SDK_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../contracts/sdk");

const CONTRACT_HELP: &str = "\
WebAssembly contracts (docs/spec/contracts.md). The five-minute path:

  meridian contract new counter                 # a crate with the SDK and a counter template
  cd counter && cargo test                      # its unit tests, natively
  meridian contract build                       # → .wasm path, size, code hash
  meridian contract deploy counter target/wasm32-unknown-unknown/release/counter.wasm \\
      --init '{\"start\": 5}' --from alice      # uploads in parts (skipped if stored), deploys
  meridian contract call counter '{\"increment\": {\"by\": 2}}' --from alice
  meridian contract query counter '{\"get\": {}}'
  meridian contract info counter                # the record, proof verified

Messages are JSON text (`@FILE` reads a file), passed to the contract as its input bytes.
Every transaction carries a fuel limit (--fuel, default 100000000, at most 5000000000); the
receipt's gas_used is the fuel the call consumed. A call that runs out fails with
contract.out_of_fuel and changes nothing. Queries run on the node's latest finalized state, are
free, are capped by the node (50000000 by default) and are not proven.

Upgrades and freezes are decided by alliance governance (certificate-mode chains): the creator
uploads the new code with `contract upgrade`, which tells the code hash and the `meridian gov
propose approve-upgrade` command until the hash is approved; `gov propose freeze-contract`
stops every call and query (contract.frozen).

Exit codes: 0 success; 1 other error (including a failed query or build); 3 node unreachable or
timed out; 4 key store (wrong passphrase, unknown key, ...); 5 verification failed (proof,
certificate or a malformed answer); 6 transaction refused by the node or failed on chain
(contract.out_of_fuel, contract.not_approved, <contract>.<code>, ...).";

#[derive(Args, Debug)]
#[command(after_help = CONTRACT_HELP)]
pub struct ContractArgs {
    #[command(flatten)]
    pub node: NodeOpts,
    #[command(flatten)]
    pub keys: KeyOpts,
    /// Name of the stored key that signs (deploy, call, upgrade).
    #[arg(long, global = true, value_name = "KEY")]
    pub from: Option<String>,
    /// Seconds to wait for finality of each transaction (at most 60).
    #[arg(long, global = true, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
    /// Blocks after the latest height during which a transaction may be included.
    #[arg(long, global = true, default_value_t = meridian_client::DEFAULT_EXPIRY_BLOCKS, value_name = "N")]
    pub expiry_blocks: u64,
    #[command(subcommand)]
    pub cmd: ContractCmd,
}

/// The chain suite whose hash names code.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SuiteArg {
    /// SM3 (Chinese national suite).
    Sm,
    /// SHA-256 (international suite).
    Intl,
}

impl From<SuiteArg> for Suite {
    fn from(s: SuiteArg) -> Suite {
        match s {
            SuiteArg::Sm => Suite::Sm,
            SuiteArg::Intl => Suite::Intl,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum ContractCmd {
    /// Create a contract crate: Cargo.toml (cdylib + rlib, the SDK by path, a workspace of its
    /// own) and src/lib.rs, a counter with a native unit test.
    New {
        /// Crate name, also the suggested contract name: 1-48 of a-z 0-9 _, starting with a
        /// letter.
        name: String,
        /// Directory to create [default: ./NAME]; must not exist or be empty.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The contract SDK (contracts/sdk of a Meridian checkout) [default: the one this
        /// binary was built from].
        #[arg(long, value_name = "DIR")]
        sdk_path: Option<PathBuf>,
    },
    /// Build a contract crate to wasm32-unknown-unknown (release, size-optimised), check the
    /// module as the chain will, and print its path, size and code hash.
    Build {
        /// The crate's Cargo.toml.
        #[arg(long, default_value = "Cargo.toml", value_name = "PATH")]
        manifest_path: PathBuf,
        /// Suite whose hash names the code (SM3 for sm, SHA-256 for intl) [default: the suite
        /// of the node given with --node or $MERIDIAN_NODE, else sm].
        #[arg(long, value_enum)]
        suite: Option<SuiteArg>,
        /// Cargo target directory [default: $CARGO_TARGET_DIR, else the crate's].
        #[arg(long, value_name = "DIR")]
        target_dir: Option<PathBuf>,
    },
    /// Upload code (in parts; skipped if the chain already stores it) and deploy it as NAME,
    /// running its `instantiate` with --init; prints the receipt.
    Deploy {
        /// Contract name: 1-48 of a-z 0-9 _, starting with a letter, not taken.
        name: String,
        /// The .wasm file (`meridian contract build` prints it).
        wasm: PathBuf,
        /// Instantiate message, JSON (or @FILE).
        #[arg(long, value_name = "JSON")]
        init: String,
        /// Fuel limit of the deploy transaction.
        #[arg(long, default_value_t = DEFAULT_FUEL, value_name = "N")]
        fuel: u64,
        /// Let a contract already on the call stack call this one again.
        #[arg(long)]
        allow_reentry: bool,
    },
    /// Run the contract's `execute` with a message in a transaction; prints the receipt.
    Call {
        /// Contract name.
        name: String,
        /// Execute message, JSON (or @FILE).
        #[arg(value_name = "JSON")]
        msg: String,
        /// Fuel limit of the transaction.
        #[arg(long, default_value_t = DEFAULT_FUEL, value_name = "N")]
        fuel: u64,
    },
    /// Run the contract's read-only `query` on the node's latest finalized state (free, not
    /// proven) and print the result.
    Query {
        /// Contract name.
        name: String,
        /// Query message, JSON (or @FILE).
        #[arg(value_name = "JSON")]
        msg: String,
        /// Fuel limit [default: the node's cap, 50000000 unless configured].
        #[arg(long, value_name = "N")]
        fuel: Option<u64>,
    },
    /// Show a contract (code hash, creator, version, frozen, approved upgrade); the proof is
    /// verified before anything is printed.
    Info {
        /// Contract name.
        name: String,
        /// A past finalized height [default: latest].
        #[arg(long)]
        height: Option<u64>,
    },
    /// Upload new code and switch the contract to it, running its `migrate` with --msg. Only
    /// the creator may, and only to code governance approved; until then it prints the code
    /// hash and the `meridian gov propose approve-upgrade` command (contract.not_approved).
    Upgrade {
        /// Contract name.
        name: String,
        /// The new .wasm file.
        wasm: PathBuf,
        /// Migrate message, JSON (or @FILE).
        #[arg(long, value_name = "JSON")]
        msg: String,
        /// Fuel limit of the upgrade transaction.
        #[arg(long, default_value_t = DEFAULT_FUEL, value_name = "N")]
        fuel: u64,
    },
}

pub fn run(args: ContractArgs) -> anyhow::Result<()> {
    let json = args.node.json;
    finish(json, exec(args))
}

fn exec(args: ContractArgs) -> Result<(), ClientError> {
    let json = args.node.json;
    match &args.cmd {
        ContractCmd::New {
            name,
            dir,
            sdk_path,
        } => new(json, name, dir.as_deref(), sdk_path.as_deref()),
        ContractCmd::Build {
            manifest_path,
            suite,
            target_dir,
        } => build(&args, manifest_path, *suite, target_dir.as_deref()),
        ContractCmd::Deploy {
            name,
            wasm,
            init,
            fuel,
            allow_reentry,
        } => deploy(&args, name, wasm, init, *fuel, *allow_reentry),
        ContractCmd::Call { name, msg, fuel } => call(&args, name, msg, *fuel),
        ContractCmd::Query { name, msg, fuel } => query(&args, name, msg, *fuel),
        ContractCmd::Info { name, height } => info(&args, name, *height),
        ContractCmd::Upgrade {
            name,
            wasm,
            msg,
            fuel,
        } => upgrade(&args, name, wasm, msg, *fuel),
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ClientError + '_ {
    move |e| ClientError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// A JSON message argument (`@FILE` reads the file) as compact JSON text.
fn parse_msg(text: &str, what: &str) -> Result<Vec<u8>, ClientError> {
    let owned;
    let text = match text.strip_prefix('@') {
        Some(file) => {
            owned = std::fs::read_to_string(file).map_err(io(Path::new(file)))?;
            owned.as_str()
        }
        None => text,
    };
    let v: Value = serde_json::from_str(text).map_err(|e| {
        ClientError::BadInput(format!(
            "{what} is not JSON ({e}); quote it for the shell, e.g. '{{\"get\": {{}}}}', or \
             pass @FILE"
        ))
    })?;
    Ok(v.to_string().into_bytes())
}

fn check_name(name: &str) -> Result<(), ClientError> {
    meridian_client::check_contract_name(name).map_err(|e| ClientError::BadInput(e.message))
}

fn read_wasm(path: &Path) -> Result<Vec<u8>, ClientError> {
    let code = std::fs::read(path).map_err(io(path))?;
    if code.is_empty() || code.len() > meridian_client::MAX_CODE_LEN {
        return Err(ClientError::BadInput(format!(
            "{}: {} bytes; contract code must be 1..={} bytes",
            path.display(),
            code.len(),
            meridian_client::MAX_CODE_LEN
        )));
    }
    Ok(code)
}

fn signer(args: &ContractArgs) -> Result<String, ClientError> {
    args.from.clone().ok_or_else(|| {
        ClientError::BadInput("--from KEY is required: the stored key that signs".into())
    })
}

// ---------------------------------------------------------------------------------------------
// new

/// Names a crate cannot take (Rust's own crates and keywords, the template's dependencies).
const RESERVED_CRATE_NAMES: &[&str] = &[
    "alloc",
    "core",
    "std",
    "test",
    "proc_macro",
    "serde",
    "meridian_contract_sdk",
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
];

fn cargo_toml(name: &str, sdk: &Path) -> String {
    let sdk = toml::Value::String(sdk.display().to_string()).to_string();
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
# cdylib: the wasm contract (`meridian contract build`); rlib: native unit tests (`cargo test`).
crate-type = ["cdylib", "rlib"]

[dependencies]
meridian-contract-sdk = {{ path = {sdk} }}
serde = {{ version = "1", features = ["derive"] }}

# A workspace of its own, so the crate builds standalone wherever it lives.
[workspace]
"#
    )
}

fn lib_rs(name: &str) -> String {
    const TEMPLATE: &str = r#"//! `__NAME__`: a Meridian contract (the ABI: docs/spec/contracts.md of the Meridian repository).
//!
//! * instantiate `{"start": 5}`
//! * execute `{"increment": {"by": 2}}` → `{"count": 7}`, event `__NAME__.incremented`
//! * query `{"get": {}}` → `{"count": 7}`
//!
//! `cargo test` runs the unit tests natively against the SDK's mock host;
//! `meridian contract build` compiles the contract to wasm.

#![deny(unsafe_code)]

use meridian_contract_sdk::{ensure, ContractError, Ctx, Item};
use serde::{Deserialize, Serialize};

/// The stored count.
const COUNT: Item<u64> = Item::new("count");

/// Instantiate message.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    /// Initial count.
    pub start: u64,
}

/// Execute messages.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Adds `by` (overflow is the error `__NAME__.overflow`).
    Increment {
        /// Amount to add.
        by: u64,
    },
}

/// Query messages.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    /// The count.
    Get {},
}

/// Response of every entry point, and data of the `incremented` event.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CountResponse {
    /// The count.
    pub count: u64,
}

/// Instantiate handler.
pub fn instantiate(ctx: &mut Ctx, msg: InstantiateMsg) -> Result<CountResponse, ContractError> {
    COUNT.save(ctx, &msg.start)?;
    Ok(CountResponse { count: msg.start })
}

/// Execute handler.
pub fn execute(ctx: &mut Ctx, msg: ExecuteMsg) -> Result<CountResponse, ContractError> {
    match msg {
        ExecuteMsg::Increment { by } => {
            let from = COUNT.load(ctx)?;
            let to = from.checked_add(by);
            ensure!(to.is_some(), "overflow", "{from} + {by} overflows u64");
            let count = to.unwrap_or(from);
            COUNT.save(ctx, &count)?;
            ctx.emit("incremented", &CountResponse { count })?;
            Ok(CountResponse { count })
        }
    }
}

/// Query handler (read-only).
pub fn query(ctx: &Ctx, msg: QueryMsg) -> Result<CountResponse, ContractError> {
    match msg {
        QueryMsg::Get {} => Ok(CountResponse {
            count: COUNT.load(ctx)?,
        }),
    }
}

meridian_contract_sdk::entry!(instantiate = instantiate, execute = execute, query = query);

#[cfg(test)]
mod tests {
    use super::*;
    use meridian_contract_sdk::testing::MockHost;

    #[test]
    fn counts_and_refuses_overflow() {
        let mut h = MockHost::new("__NAME__", ENTRY_POINTS);
        h.instantiate(&InstantiateMsg { start: 5 }).unwrap();
        let r = h.execute(&ExecuteMsg::Increment { by: 2 }).unwrap();
        assert_eq!(r.json::<CountResponse>(), CountResponse { count: 7 });
        assert_eq!(h.events()[0].kind, "__NAME__.incremented");
        let q: CountResponse = h.query(&QueryMsg::Get {}).unwrap();
        assert_eq!(q.count, 7);

        let e = h.execute(&ExecuteMsg::Increment { by: u64::MAX }).unwrap_err();
        assert_eq!(e.code, "__NAME__.overflow");
        let q: CountResponse = h.query(&QueryMsg::Get {}).unwrap();
        assert_eq!(q.count, 7, "a failed call changes nothing");
    }
}
"#;
    TEMPLATE.replace("__NAME__", name)
}

fn new(json: bool, name: &str, dir: Option<&Path>, sdk: Option<&Path>) -> Result<(), ClientError> {
    check_name(name)?;
    if RESERVED_CRATE_NAMES.contains(&name) {
        return Err(ClientError::BadInput(format!(
            "{name:?} cannot name a Rust crate (a keyword or a crate the template uses); pick \
             another name"
        )));
    }
    let sdk = sdk.unwrap_or(Path::new(SDK_PATH));
    let sdk = sdk
        .canonicalize()
        .ok()
        .filter(|p| p.join("Cargo.toml").is_file())
        .ok_or_else(|| {
            ClientError::BadInput(format!(
                "no contract SDK at {} (contracts/sdk of a Meridian checkout); pass --sdk-path DIR",
                sdk.display()
            ))
        })?;
    let dir = dir.map_or_else(|| PathBuf::from(name), Path::to_path_buf);
    if dir.exists() {
        let empty = std::fs::read_dir(&dir).map_err(io(&dir))?.next().is_none();
        if !empty {
            return Err(ClientError::BadInput(format!(
                "{} exists and is not empty; choose another --dir",
                dir.display()
            )));
        }
    }
    std::fs::create_dir_all(dir.join("src")).map_err(io(&dir))?;
    let files = [
        (dir.join("Cargo.toml"), cargo_toml(name, &sdk)),
        (dir.join("src").join("lib.rs"), lib_rs(name)),
        (dir.join(".gitignore"), "/target\n".to_string()),
    ];
    for (path, text) in &files {
        std::fs::write(path, text).map_err(io(path))?;
    }
    if json {
        print_json(&json!({
            "name": name,
            "dir": dir.display().to_string(),
            "manifest": dir.join("Cargo.toml").display().to_string(),
            "sdk": sdk.display().to_string(),
            "files": files.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>(),
        }));
    } else {
        println!("created contract crate {name} in {}", dir.display());
        println!("  Cargo.toml   cdylib + rlib, SDK {}", sdk.display());
        println!(
            "  src/lib.rs   a counter: instantiate {{\"start\": 5}}, execute {{\"increment\": \
             {{\"by\": 2}}}}, query {{\"get\": {{}}}}"
        );
        println!("next:");
        let manifest = dir.join("Cargo.toml");
        let steps = [
            (
                format!("cargo test --manifest-path {}", manifest.display()),
                "unit tests, natively",
            ),
            (
                format!(
                    "meridian contract build --manifest-path {}",
                    manifest.display()
                ),
                "the .wasm, its size and code hash",
            ),
        ];
        let width = steps.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
        for (command, what) in &steps {
            println!("  {command:width$}  # {what}");
        }
        println!(
            "  meridian contract deploy {name} <the .wasm> --init '{{\"start\": 5}}' --from KEY"
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// build

/// What `cargo metadata` says about the crate to build.
struct CrateInfo {
    package: String,
    /// Name of the cdylib target (the .wasm file's stem, `-` as `_`).
    lib: String,
    target_directory: PathBuf,
}

fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

fn build_failed(message: String) -> ClientError {
    ClientError::Contract {
        code: "contract.build_failed".into(),
        message,
    }
}

fn crate_info(manifest: &Path) -> Result<CrateInfo, ClientError> {
    let out = std::process::Command::new(cargo())
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
        ])
        .arg(manifest)
        .output()
        .map_err(|e| build_failed(format!("cannot run cargo: {e}")))?;
    if !out.status.success() {
        return Err(build_failed(format!(
            "cargo metadata --manifest-path {} failed:\n{}",
            manifest.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let meta: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| build_failed(format!("cargo metadata printed no JSON: {e}")))?;
    let wanted = manifest.canonicalize().map_err(io(manifest))?;
    let pkg = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| {
            p["manifest_path"]
                .as_str()
                .and_then(|m| Path::new(m).canonicalize().ok())
                .is_some_and(|m| m == wanted)
        })
        .ok_or_else(|| {
            build_failed(format!(
                "{} has no [package] (a virtual workspace?); point --manifest-path at the \
                 contract crate",
                manifest.display()
            ))
        })?;
    let package = pkg["name"].as_str().unwrap_or_default().to_string();
    let lib = pkg["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| {
            t["crate_types"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
        })
        .and_then(|t| t["name"].as_str())
        .map(|n| n.replace('-', "_"))
        .ok_or_else(|| {
            build_failed(format!(
                "{package} has no cdylib target; add [lib] crate-type = [\"cdylib\", \"rlib\"] \
                 to {}",
                manifest.display()
            ))
        })?;
    Ok(CrateInfo {
        package,
        lib,
        target_directory: PathBuf::from(meta["target_directory"].as_str().unwrap_or("target")),
    })
}

/// The suite for code hashes: `--suite`, else the node's when one is named, else `sm`.
fn build_suite(args: &ContractArgs, suite: Option<SuiteArg>) -> Result<Suite, ClientError> {
    if let Some(s) = suite {
        return Ok(s.into());
    }
    let named =
        args.node.node.is_some() || std::env::var(super::ENV_NODE).is_ok_and(|s| !s.is_empty());
    if !named {
        return Ok(Suite::Sm);
    }
    Ok(args.node.client()?.chain()?.suite)
}

fn build(
    args: &ContractArgs,
    manifest: &Path,
    suite: Option<SuiteArg>,
    target_dir: Option<&Path>,
) -> Result<(), ClientError> {
    let suite = build_suite(args, suite)?;
    let info = crate_info(manifest)?;
    let target = match target_dir {
        Some(t) => t.to_path_buf(),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .filter(|s| !s.is_empty())
            .map_or(info.target_directory.clone(), PathBuf::from),
    };
    if !args.node.json {
        eprintln!(
            "building {} for {} (cargo, release) ...",
            info.package,
            meridian_wasm_build::TARGET
        );
    }
    let out_dir = meridian_wasm_build::Build {
        manifest,
        packages: &[],
        target_dir: &target,
    }
    .run()
    .map_err(|e| build_failed(e.to_string()))?;
    let path = out_dir.join(format!("{}.wasm", info.lib));
    let code = meridian_wasm_build::read_wasm(&out_dir, &info.lib)
        .map_err(|e| build_failed(e.to_string()))?;
    let vm = meridian_vm::Vm::with_cache_capacity(meridian_vm::VmLimits::default(), 0);
    let checked = vm.validate(&code).map_err(|e| ClientError::Contract {
        code: e.code().into_owned(),
        message: format!(
            "{} does not pass the chain's code validation: {e}",
            path.display()
        ),
    })?;
    let entries: Vec<&str> = [
        ("instantiate", checked.instantiate),
        ("execute", checked.execute),
        ("query", checked.query),
        ("migrate", checked.migrate),
    ]
    .iter()
    .filter(|(_, has)| *has)
    .map(|(n, _)| *n)
    .collect();
    let hash = hex::encode(code_hash(suite, &code));
    if args.node.json {
        print_json(&json!({
            "package": info.package,
            "wasm": path.display().to_string(),
            "size": code.len(),
            "code_hash": hash,
            "suite": suite.to_string(),
            "entry_points": entries,
        }));
    } else {
        println!("{}", path.display());
        println!(
            "  size       {} bytes (limit {})",
            code.len(),
            meridian_client::MAX_CODE_LEN
        );
        println!("  code hash  {hash} ({suite})");
        println!("  entries    {}", entries.join(", "));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// transactions

/// Prints a failure document and exits with `exit`: `{code, message, ...extra}` with --json,
/// `error[code]: message` on stderr otherwise.
fn exit_with(json: bool, exit: i32, code: &str, message: &str, extra: Value) -> ! {
    if json {
        let mut doc = json!({"code": code, "message": message});
        if let (Some(d), Value::Object(x)) = (doc.as_object_mut(), extra) {
            d.extend(x);
        }
        println!("{doc}");
    } else {
        eprintln!("error[{code}]: {message}");
    }
    std::process::exit(exit);
}

/// Submits `tx` and waits for finality; the receipt, whatever its code.
fn commit(client: &Client, args: &ContractArgs, tx: &SignedTx) -> Result<ReceiptView, ClientError> {
    let timeout = Duration::from_secs(args.timeout);
    let v = client.submit(tx, SubmitMode::Commit { timeout })?;
    v.receipt.ok_or_else(|| {
        ClientError::BadResponse(format!("commit of {} returned no receipt", v.hash))
    })
}

/// A failed receipt prints its code, message and gas_used and exits with 6.
fn ensure_ok(args: &ContractArgs, r: &ReceiptView, what: &str) {
    if r.code != "ok" {
        exit_with(
            args.node.json,
            6,
            &r.code,
            &format!(
                "{what} failed in block {} ({}): {} (gas_used {}, tx {})",
                r.height, r.code, r.message, r.gas_used, r.tx_hash
            ),
            json!({"hash": r.tx_hash, "height": r.height, "gas_used": r.gas_used}),
        );
    }
}

/// [`commit`], then [`ensure_ok`].
fn commit_ok(
    client: &Client,
    args: &ContractArgs,
    tx: &SignedTx,
    what: &str,
) -> Result<ReceiptView, ClientError> {
    let r = commit(client, args, tx)?;
    ensure_ok(args, &r, what);
    Ok(r)
}

fn events_json(r: &ReceiptView) -> Vec<Value> {
    r.events
        .iter()
        .map(|e| {
            json!({
                "module": e.module, "kind": e.kind, "data": e.data,
                "decoded": e.decoded,
                "summary": describe_event(&e.module, &e.kind, &e.data),
            })
        })
        .collect()
}

fn receipt_json(r: &ReceiptView) -> Value {
    json!({
        "hash": r.tx_hash,
        "height": r.height,
        "code": r.code,
        "gas_used": r.gas_used,
        "events": events_json(r),
    })
}

fn print_receipt(r: &ReceiptView) {
    println!("  tx {} in block {}", r.tx_hash, r.height);
    println!("  code {}, gas_used {}", r.code, r.gas_used);
    for e in &r.events {
        println!(
            "  event {}.{}: {}",
            e.module,
            e.kind,
            describe_event(&e.module, &e.kind, &e.data)
        );
    }
}

/// Stores `code` on chain unless it is: the upload's parts, submitted in order and each
/// checked final. Returns the part transactions' hashes (none when the code was stored).
fn upload(
    client: &Client,
    args: &ContractArgs,
    wallet: &mut Wallet,
    code: &[u8],
) -> Result<Vec<String>, ClientError> {
    let parts = wallet.upload_code(client, code)?;
    let Some((last, first)) = parts.split_last() else {
        return Ok(Vec::new());
    };
    if !args.node.json {
        eprintln!(
            "uploading {} bytes in {} part(s) ...",
            code.len(),
            parts.len()
        );
    }
    let mut hashes = Vec::with_capacity(parts.len());
    for tx in first {
        hashes.push(client.submit(tx, SubmitMode::Async)?.hash);
    }
    let done = commit_ok(client, args, last, "the last upload part")?;
    // The earlier parts were final before the last one: check each receipt.
    let timeout = Duration::from_secs(args.timeout);
    for h in &hashes {
        let hash = meridian_client::parse_hash(h).map_err(ClientError::BadResponse)?;
        client.wait_tx(&hash, timeout)?;
    }
    hashes.push(done.tx_hash);
    Ok(hashes)
}

fn deploy(
    args: &ContractArgs,
    name: &str,
    wasm: &Path,
    init: &str,
    fuel: u64,
    allow_reentry: bool,
) -> Result<(), ClientError> {
    check_name(name)?;
    let code = read_wasm(wasm)?;
    let init = parse_msg(init, "--init")?;
    let from = signer(args)?;
    let client = args.node.client()?;
    let mut wallet = open_wallet(&client, &args.keys, &from, args.expiry_blocks)?;
    let suite = client.chain()?.suite;
    let hash = code_hash(suite, &code);
    let uploads = upload(&client, args, &mut wallet, &code)?;
    let tx = wallet.deploy_contract(&client, name, hash, &init, fuel, allow_reentry)?;
    let r = commit_ok(&client, args, &tx, &format!("deploying {name}"))?;
    let address = meridian_contract::contract_address(&meridian_node::ChainHash(suite), name);
    if args.node.json {
        let mut doc = receipt_json(&r);
        doc["name"] = json!(name);
        doc["address"] = json!(address.to_string());
        doc["code_hash"] = json!(hex::encode(hash));
        doc["uploaded"] = json!(!uploads.is_empty());
        doc["upload_txs"] = json!(uploads);
        print_json(&doc);
    } else {
        if uploads.is_empty() {
            println!("code {} already stored: upload skipped", hex::encode(hash));
        } else {
            println!(
                "uploaded code {} ({} bytes) in {} transaction(s)",
                hex::encode(hash),
                code.len(),
                uploads.len()
            );
        }
        println!("deployed contract {name} (account {address})");
        print_receipt(&r);
    }
    Ok(())
}

fn call(args: &ContractArgs, name: &str, msg: &str, fuel: u64) -> Result<(), ClientError> {
    check_name(name)?;
    let msg = parse_msg(msg, "the message")?;
    let from = signer(args)?;
    let client = args.node.client()?;
    let mut wallet = open_wallet(&client, &args.keys, &from, args.expiry_blocks)?;
    let tx = wallet.call_contract(&client, name, &msg, fuel)?;
    let r = commit_ok(&client, args, &tx, &format!("calling {name}"))?;
    if args.node.json {
        let mut doc = receipt_json(&r);
        doc["name"] = json!(name);
        print_json(&doc);
    } else {
        println!("called contract {name}");
        print_receipt(&r);
    }
    Ok(())
}

fn query(args: &ContractArgs, name: &str, msg: &str, fuel: Option<u64>) -> Result<(), ClientError> {
    check_name(name)?;
    let msg: Value = serde_json::from_slice(&parse_msg(msg, "the message")?)
        .map_err(|e| ClientError::BadInput(e.to_string()))?;
    let client = args.node.client()?;
    let q = client.contract_query(name, &msg, fuel)?;
    if args.node.json {
        print_json(&json!({
            "contract": q.contract,
            "height": q.height,
            "gas_used": q.gas_used,
            "result": q.result,
        }));
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(&q.result).unwrap_or_default()
        );
        println!(
            "(contract {name} queried at height {}, gas_used {}; the node's answer, not proven)",
            q.height, q.gas_used
        );
    }
    Ok(())
}

/// The contract's proven record, or `contract.not_found` with the proven absence.
fn proven_contract(
    client: &Client,
    name: &str,
    height: Option<u64>,
) -> Result<(ContractInfo, Verified<Option<ContractInfo>>), ClientError> {
    let v = client.contract_info_at(name, height)?;
    match v.value.clone() {
        Some(c) => Ok((c, v)),
        None => Err(ClientError::Api {
            status: 404,
            code: meridian_contract::codes::NOT_FOUND.into(),
            message: format!(
                "no contract named {name} (absence proven at height {})",
                v.height
            ),
        }),
    }
}

fn info(args: &ContractArgs, name: &str, height: Option<u64>) -> Result<(), ClientError> {
    check_name(name)?;
    let client = args.node.client()?;
    let (c, v) = proven_contract(&client, name, height)?;
    if args.node.json {
        let mut doc =
            serde_json::to_value(&c).map_err(|e| ClientError::BadResponse(e.to_string()))?;
        doc["proof"] = provenance_json(&v);
        print_json(&doc);
    } else {
        println!("contract {} (version {})", c.name, c.version);
        println!("  account      {}", c.address);
        println!("  code hash    {}", c.code_hash);
        println!("  creator      {}", c.creator);
        println!("  deployed at  height {}", c.deployed_height);
        println!(
            "  reentry      {}",
            if c.allow_reentry {
                "allowed"
            } else {
                "not allowed"
            }
        );
        println!(
            "  frozen       {}",
            if c.frozen {
                "yes (calls and queries refused)"
            } else {
                "no"
            }
        );
        println!(
            "  upgrade      {}",
            c.approved_upgrade
                .as_deref()
                .map_or("none approved".to_string(), |h| format!(
                    "governance approved code {h}"
                ))
        );
        println!("{}", provenance(&v));
    }
    Ok(())
}

/// The refusal of an upgrade governance has not approved: the hash and the commands to get it
/// approved, then exit 6.
fn not_approved(json: bool, name: &str, hash: &Hash32, why: &str) -> ! {
    let h = hex::encode(hash);
    let command = format!(
        "meridian gov propose approve-upgrade --name {name} --code-hash {h} --key ADMIN_KEY"
    );
    exit_with(
        json,
        6,
        meridian_contract::codes::NOT_APPROVED,
        &format!(
            "{why}. Code {h} is uploaded; have an organisation admin propose it and the others \
             vote, then run this command again:\n  {command}\n  meridian gov vote ID yes --key \
             OTHER_ADMIN_KEY"
        ),
        json!({"name": name, "code_hash": h, "command": command}),
    )
}

fn upgrade(
    args: &ContractArgs,
    name: &str,
    wasm: &Path,
    msg: &str,
    fuel: u64,
) -> Result<(), ClientError> {
    check_name(name)?;
    let code = read_wasm(wasm)?;
    let msg = parse_msg(msg, "--msg")?;
    let from = signer(args)?;
    let client = args.node.client()?;
    let mut wallet = open_wallet(&client, &args.keys, &from, args.expiry_blocks)?;
    let hash = code_hash(client.chain()?.suite, &code);
    let (before, _) = proven_contract(&client, name, None)?;
    if before.creator != wallet.address().to_string() {
        exit_with(
            args.node.json,
            6,
            meridian_contract::codes::NOT_APPROVED,
            &format!(
                "only the creator of {name}, {}, may carry out its upgrade (this key is {})",
                before.creator,
                wallet.address()
            ),
            json!({"name": name, "creator": before.creator}),
        );
    }
    let uploads = upload(&client, args, &mut wallet, &code)?;
    // Approval is re-read after the upload (governance may have voted meanwhile).
    let (c, _) = proven_contract(&client, name, None)?;
    if c.approved_upgrade.as_deref() != Some(hex::encode(hash).as_str()) {
        let why = match &c.approved_upgrade {
            None => format!("governance has not approved an upgrade of {name}"),
            Some(other) => format!("governance approved code {other} for {name}, not this code"),
        };
        not_approved(args.node.json, name, &hash, &why);
    }
    let tx = wallet.upgrade_contract(&client, name, hash, &msg, fuel)?;
    let r = commit(&client, args, &tx)?;
    if r.code == meridian_contract::codes::NOT_APPROVED {
        not_approved(args.node.json, name, &hash, &r.message);
    }
    ensure_ok(args, &r, &format!("upgrading {name}"));
    let (after, _) = proven_contract(&client, name, None)?;
    if args.node.json {
        let mut doc = receipt_json(&r);
        doc["name"] = json!(name);
        doc["code_hash"] = json!(hex::encode(hash));
        doc["version"] = json!(after.version);
        doc["upload_txs"] = json!(uploads);
        print_json(&doc);
    } else {
        println!(
            "upgraded contract {name} to code {} (version {})",
            hex::encode(hash),
            after.version
        );
        print_receipt(&r);
    }
    Ok(())
}
