//! The client side of the binary: `keys`, `tx`, `query`, `status`, `gov` and `contract`, all
//! over `meridian_client` (the same SDK programs use), and `ca`, an organisation certificate
//! authority over `meridian_identity`.
//!
//! Output is for people by default and one JSON document on stdout with `--json`. Errors print
//! as `error[<code>]: <message>` on stderr, or `{"code": ..., "message": ...}` on stdout with
//! `--json`, and set the exit code by class (see [`EXIT_CODES`]).

pub mod ca;
pub mod contract;
pub mod gov;
pub mod interop;
pub mod keys;
pub mod query;
pub mod status;
pub mod tx;

use std::io::IsTerminal as _;
use std::path::PathBuf;

use clap::Args;
use meridian_client::{Client, ClientError, Keystore, TrustAnchor, Wallet, DEFAULT_NODE_URL};
use meridian_types::Address;
use zeroize::Zeroizing;

/// Shown under every client command's `--help`.
pub const EXIT_CODES: &str = "\
Exit codes: 0 success; 1 other error; 3 node unreachable or timed out; 4 key store \
(wrong passphrase, unknown key, ...); 5 verification failed (proof, certificate or a \
malformed answer); 6 transaction refused by the node or failed on chain.";

/// Environment variables read by the client commands.
pub const ENV_NODE: &str = "MERIDIAN_NODE";
pub const ENV_GENESIS: &str = "MERIDIAN_GENESIS";

/// Which node to talk to and how to print.
#[derive(Args, Debug, Clone)]
pub struct NodeOpts {
    /// Node API URL [env: MERIDIAN_NODE] [default: http://127.0.0.1:8600].
    #[arg(long, global = true, value_name = "URL")]
    pub node: Option<String>,
    /// The chain's genesis.toml: also verify the finalization certificate of every header a
    /// proof is checked against (a quorum of the genesis validators) [env: MERIDIAN_GENESIS].
    #[arg(long, global = true, value_name = "FILE")]
    pub genesis: Option<PathBuf>,
    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

impl NodeOpts {
    pub fn client(&self) -> Result<Client, ClientError> {
        let url = self
            .node
            .clone()
            .or_else(|| std::env::var(ENV_NODE).ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| DEFAULT_NODE_URL.to_string());
        let client = Client::new(url);
        let genesis = self.genesis.clone().or_else(|| {
            std::env::var_os(ENV_GENESIS)
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
        });
        Ok(match genesis {
            Some(g) => client.with_trust_anchor(TrustAnchor::from_genesis_file(&g)?),
            None => client,
        })
    }
}

/// Where keys live and how to get the passphrase.
#[derive(Args, Debug, Clone)]
pub struct KeyOpts {
    /// Key directory [env: MERIDIAN_KEYS_DIR] [default: ~/.meridian/keys].
    #[arg(long, global = true, value_name = "DIR")]
    pub keys_dir: Option<PathBuf>,
    /// Read the passphrase from this file (first line). Otherwise $MERIDIAN_PASSPHRASE, otherwise
    /// an interactive prompt.
    #[arg(long, global = true, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

impl KeyOpts {
    pub fn keystore(&self) -> Result<Keystore, ClientError> {
        Ok(Keystore::new(match &self.keys_dir {
            Some(d) => d.clone(),
            None => Keystore::default_dir()?,
        }))
    }

    /// The passphrase from the file, the environment or the terminal (asked twice when
    /// `confirm`, i.e. when it protects a new file).
    pub fn passphrase(
        &self,
        prompt: &str,
        confirm: bool,
    ) -> Result<Zeroizing<String>, ClientError> {
        if let Some(p) = &self.passphrase_file {
            let text = Zeroizing::new(std::fs::read_to_string(p).map_err(|e| ClientError::Io {
                path: p.clone(),
                source: e,
            })?);
            let line = text.lines().next().unwrap_or("");
            return Ok(Zeroizing::new(line.to_string()));
        }
        if let Ok(p) = std::env::var(meridian_client::keystore::PASSPHRASE_ENV) {
            return Ok(Zeroizing::new(p));
        }
        if !std::io::stdin().is_terminal() {
            return Err(ClientError::NoPassphrase(
                "a passphrase is needed: pass --passphrase-file FILE, set MERIDIAN_PASSPHRASE, \
                 or run in a terminal"
                    .into(),
            ));
        }
        let read = |p: &str| {
            rpassword::prompt_password(p)
                .map(Zeroizing::new)
                .map_err(|e| ClientError::NoPassphrase(format!("cannot read the passphrase: {e}")))
        };
        let first = read(prompt)?;
        if confirm && *read("Repeat passphrase: ")? != *first {
            return Err(ClientError::NoPassphrase("the passphrases differ".into()));
        }
        Ok(first)
    }
}

/// The stored key `name` as a wallet on the chain `client` talks to. The key is checked to
/// exist and to be of the chain's suite before the passphrase is asked for.
pub fn open_wallet(
    client: &Client,
    keys: &KeyOpts,
    name: &str,
    expiry_blocks: u64,
) -> Result<Wallet, ClientError> {
    let ks = keys.keystore()?;
    let file = ks.load(name)?;
    let chain = client.chain()?;
    if file.suite != chain.suite.as_str() {
        return Err(ClientError::SuiteMismatch {
            key: file.suite,
            chain: chain.suite.to_string(),
        });
    }
    let pass = keys.passphrase(&format!("Passphrase for {name}: "), false)?;
    let key = file.open(&ks.path(name), pass.as_bytes())?;
    let mut wallet = Wallet::connect(client, key)?;
    wallet.expiry_blocks = expiry_blocks;
    Ok(wallet)
}

/// An address given as `0x…` hex, or the name of a key in the key store.
pub fn resolve_address(s: &str, keys: &KeyOpts) -> Result<Address, ClientError> {
    if let Ok(a) = Address::from_hex(s) {
        return Ok(a);
    }
    if s.starts_with("0x") || Keystore::check_name(s).is_err() {
        return Err(ClientError::BadInput(format!(
            "{s:?} is neither a 0x address (40 hex characters) nor a key name"
        )));
    }
    let info = keys.keystore()?.info(s)?;
    Address::from_hex(&info.address).map_err(|_| ClientError::BadInput("bad address".into()))
}

/// Exit code for an error class.
fn exit_code(e: &ClientError) -> i32 {
    match e {
        ClientError::Unreachable { .. } | ClientError::Timeout { .. } => 3,
        ClientError::WrongPassphrase { .. }
        | ClientError::KeyNotFound { .. }
        | ClientError::KeyExists { .. }
        | ClientError::KeyFileInvalid { .. }
        | ClientError::NoPassphrase(_) => 4,
        ClientError::ProofInvalid(_)
        | ClientError::CertificateInvalid(_)
        | ClientError::BadResponse(_) => 5,
        ClientError::TxFailed { .. } => 6,
        ClientError::Api { code, .. }
            if code.starts_with("tx.") || code.starts_with("mempool.") =>
        {
            6
        }
        _ => 1,
    }
}

/// Prints the outcome of a client command and exits with its code on failure.
pub fn finish(json: bool, outcome: Result<(), ClientError>) -> anyhow::Result<()> {
    let Err(e) = outcome else {
        return Ok(());
    };
    if json {
        println!(
            "{}",
            serde_json::json!({"code": e.code(), "message": e.to_string()})
        );
    } else {
        eprintln!("error[{}]: {e}", e.code());
    }
    std::process::exit(exit_code(&e));
}

/// Prints `value` as pretty JSON.
pub fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// One line saying what a verified read was checked against.
pub fn provenance<T>(v: &meridian_client::Verified<T>) -> String {
    format!(
        "proof verified against finalized header at height {} (state root {})\n{}",
        v.height,
        hex::encode(v.state_root),
        v.finality
    )
}

/// The JSON form of a verified read's provenance.
pub fn provenance_json<T>(v: &meridian_client::Verified<T>) -> serde_json::Value {
    serde_json::json!({
        "verified": true,
        "height": v.height,
        "state_root": hex::encode(v.state_root),
        "block_hash": hex::encode(v.block_hash),
        "finality": v.finality,
    })
}

/// Milliseconds since the epoch as `YYYY-MM-DD hh:mm:ss.mmm UTC` (no time-zone database needed).
pub fn utc(ms: u64) -> String {
    let days = (ms / 86_400_000) as i64;
    let rem = ms % 86_400_000;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03} UTC",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

/// `amount` smallest units shown with `decimals` places (1250 with 2 → `12.50`).
pub fn with_decimals(amount: u128, decimals: u8) -> String {
    if decimals == 0 {
        return amount.to_string();
    }
    let s = format!("{amount:0>width$}", width = usize::from(decimals) + 1);
    let (int, frac) = s.split_at(s.len() - usize::from(decimals));
    format!("{int}.{frac}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(utc(0), "1970-01-01 00:00:00.000 UTC");
        assert_eq!(utc(951_782_400_123), "2000-02-29 00:00:00.123 UTC");
        assert_eq!(utc(1_700_000_000_000), "2023-11-14 22:13:20.000 UTC");
        assert_eq!(with_decimals(1250, 2), "12.50");
        assert_eq!(with_decimals(5, 3), "0.005");
        assert_eq!(with_decimals(7, 0), "7");
    }
}
