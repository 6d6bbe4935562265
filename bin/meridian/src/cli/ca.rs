//! `meridian ca`: a small organisation certificate authority (like ChainMaker's `cryptogen` or
//! Fabric's `fabric-ca-client`, without a server): create an org CA, issue member certificates
//! (admin, consensus, client, ...) for SM2, ECDSA P-256 or Ed25519 keys, show and verify
//! certificates, and keep a local index of what was issued and revoked.
//!
//! Everything X.509 is `meridian_identity`; the CA key is sealed with the keystore's scheme
//! (`meridian_client::KeyFile::seal_bytes`: argon2id + the suite's AEAD, file mode 0600). No
//! OpenSSL or other external program is involved.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{ArgGroup, Args, Subcommand};
use meridian_client::keystore::write_private_file;
use meridian_client::{ClientError, KdfParams, KeyFile};
use meridian_crypto::{PrivateKey, Suite};
use meridian_identity::{
    is_valid_member_name, is_valid_org_id, verify_chain, Algorithm, CaKind, CaParams, CertId,
    Certificate, IdentityError, IssueRequest, OrgCa, PublicKeyInfo, Role, Serial, SigningKey,
    TrustStore, MAX_CERT_PEM_LEN,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use zeroize::Zeroizing;

use super::{exit_code, print_json, utc, KeyOpts};

/// Files inside a CA directory.
pub const CA_CERT_FILE: &str = "ca.pem";
pub const CA_KEY_FILE: &str = "ca.key";
pub const INDEX_FILE: &str = "issued.json";
pub const CERTS_DIR: &str = "certs";
const LOCK_FILE: &str = ".lock";
/// Environment variable for the passphrase of a key made by `ca issue --new-key`.
pub const NEW_KEY_PASSPHRASE_ENV: &str = "MERIDIAN_NEW_KEY_PASSPHRASE";
/// Format version of `issued.json`.
pub const INDEX_VERSION: u32 = 1;
/// Certificates start this long before "now", so a node whose clock is a little behind the
/// CA's accepts them at once.
const BACKDATE_SECS: u64 = 300;
/// 9999-12-31T23:59:59Z, the last instant X.509 can express.
const MAX_X509_TIME: u64 = 253_402_300_799;
const DAY: u64 = 86_400;

const CA_HELP: &str = "\
A CA directory (--dir) holds:
  ca.pem       the CA certificate, self-signed: O=<org>, CN=ca.<org>. Put it in the chain's
               trust store (genesis) and give it to whoever verifies your members.
  ca.key       the CA signing key, ENCRYPTED (mode 0600): argon2id from the passphrase, then
               SM4-GCM (sm2) or AES-256-GCM (p256, ed25519) -- the key store's scheme. The
               plaintext key is never written to disk.
  issued.json  the index of issued certificates: serial, name, role, not_after, cert_id, revoked.
  certs/       a copy of every issued certificate, <SERIAL>.pem.

Passphrase of the CA key: --passphrase-file FILE, else $MERIDIAN_PASSPHRASE, else a terminal
prompt. Keys made with `issue --new-key` get their own passphrase (see `meridian ca issue --help`).

Algorithms: sm2 (SM2-with-SM3, for `sm` chains), p256 (ECDSA P-256 with SHA-256) and ed25519
(both for `intl` chains). Certificates are standard X.509 v3; no OpenSSL is needed.

Typical use:
  meridian ca init   --org org1 --alg sm2 --dir ./org1-ca
  meridian keys new  node1 --suite sm
  meridian ca issue  --dir ./org1-ca --name node1 --role consensus --key node1 --out node1.pem
  meridian ca verify node1.pem --ca ./org1-ca/ca.pem --revoked-list ./org1-ca/issued.json

Exit codes: 0 success; 1 other error (bad argument, file); 4 key store (wrong passphrase, no
passphrase, ...); 5 certificate rejected (the cert.* code says why: cert.expired,
cert.unknown_ca, cert.revoked, ...).";

#[derive(Args, Debug)]
#[command(after_help = CA_HELP)]
pub struct CaArgs {
    #[command(flatten)]
    pub keys: KeyOpts,
    /// Print one JSON document on stdout instead of text (errors: {"code", "message"}).
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub cmd: CaCmd,
}

#[derive(Subcommand, Debug)]
pub enum CaCmd {
    /// Create an organisation CA: a self-signed CA certificate (DIR/ca.pem) and its signing key,
    /// encrypted with the passphrase (DIR/ca.key, mode 0600).
    Init(InitArgs),
    /// Issue a member certificate (admin, consensus, client, ...) for a public key, a key in the
    /// key store, or a newly generated key.
    Issue(IssueArgs),
    /// Print a certificate's subject, issuer, serial, validity, algorithm and cert id.
    Show(ShowArgs),
    /// Verify a member certificate against trusted CA certificates (and optionally a CA's
    /// revocation records); prints the identity, or the cert.* code of the failure.
    Verify(VerifyArgs),
    /// List the certificates a CA issued (from DIR/issued.json).
    List(ListArgs),
    /// Mark a certificate revoked in the CA's local records (DIR/issued.json).
    Revoke(RevokeArgs),
}

const INIT_HELP: &str = "\
The CA certificate is valid from 5 minutes before now (clock skew) for --days days; it is a CA
for one level (pathLen 0): it signs member certificates, not other CAs. DIR is created (mode
0700) if needed and must not already hold a CA. The passphrase is asked twice on a terminal.

Example:
  meridian ca init --org org1 --alg sm2 --dir ./org1-ca
  MERIDIAN_PASSPHRASE=... meridian ca init --org org2 --alg ed25519 --dir ./org2-ca --json";

#[derive(Args, Debug)]
#[command(after_help = INIT_HELP)]
pub struct InitArgs {
    /// Organisation id, the certificate's O (1-64 of A-Z a-z 0-9 . _ -).
    #[arg(long)]
    pub org: String,
    /// Signature algorithm: `sm2` (SM2-with-SM3, `sm` chains), `p256` (ECDSA P-256 with
    /// SHA-256) or `ed25519` (both `intl` chains).
    #[arg(long, default_value = "sm2", value_name = "ALG")]
    pub alg: String,
    /// Directory for ca.pem, ca.key, issued.json and certs/.
    #[arg(long)]
    pub dir: PathBuf,
    /// Validity of the CA certificate, in days.
    #[arg(long, default_value_t = 3650, value_name = "N")]
    pub days: u64,
}

const ISSUE_HELP: &str = "\
The member's key, exactly one of:
  --public-key HEX   a public key: for an sm2 CA an SM2 key (33-byte compressed, or 65-byte
                     uncompressed SEC1); for a p256 or ed25519 CA an Ed25519 key (32 bytes) or a
                     P-256 key (33 or 65 bytes SEC1). `meridian keys show NAME` prints the
                     public key of a stored account key.
  --key NAME         the public key of account key NAME in the key store (no passphrase needed).
  --new-key OUT.key  generate a key for the member and write it encrypted to OUT.key (mode
                     0600), an ordinary account key file of any algorithm (`meridian keys
                     import NAME --file OUT.key` stores it; on `intl` chains a P-256 key signs
                     transactions like an Ed25519 key).
                     Its passphrase is the member's, not the CA's: --new-key-passphrase-file
                     FILE, else $MERIDIAN_NEW_KEY_PASSPHRASE, else a terminal prompt; it must
                     differ from the CA passphrase.
The key must belong to the CA's chain suite (sm2 CA: SM2 keys; p256/ed25519 CA: Ed25519 or
P-256 keys).

The certificate (subject O=<org>, OU=<role>, CN=<name>) gets a random 127-bit serial, unique in
DIR/issued.json, is valid from 5 minutes before now for --days days (never beyond the CA
certificate), is recorded in DIR/issued.json and copied to DIR/certs/<SERIAL>.pem (and --out).
The CA passphrase is needed to unlock DIR/ca.key.

Example:
  meridian ca issue --dir ./org1-ca --name node1 --role consensus --key node1 --out node1.pem
  meridian ca issue --dir ./org1-ca --name alice --role client --new-key alice.key";

#[derive(Args, Debug)]
#[command(after_help = ISSUE_HELP)]
#[command(group(
    ArgGroup::new("member_key")
        .required(true)
        .multiple(false)
        .args(["public_key", "key", "new_key"])
))]
pub struct IssueArgs {
    /// The CA directory (from `meridian ca init`).
    #[arg(long)]
    pub dir: PathBuf,
    /// The member's name, the certificate's CN (1-64 bytes UTF-8, no control characters, no
    /// leading or trailing spaces).
    #[arg(long)]
    pub name: String,
    /// The member's role, the certificate's OU: admin, consensus, member, client, regulator,
    /// auditor, or a custom role (1-32 of a-z 0-9 _ -).
    #[arg(long)]
    pub role: String,
    /// Hex public key of the member (optional 0x prefix).
    #[arg(long, value_name = "HEX")]
    pub public_key: Option<String>,
    /// Name of an account key in the key store (see --keys-dir).
    #[arg(long, value_name = "NAME")]
    pub key: Option<String>,
    /// Generate the member's key and write it, encrypted, to this new file.
    #[arg(long, value_name = "OUT.key")]
    pub new_key: Option<PathBuf>,
    /// Algorithm of the key made by --new-key: sm2, p256 or ed25519 [default: the CA's].
    #[arg(long, value_name = "ALG", requires = "new_key")]
    pub new_key_alg: Option<String>,
    /// Passphrase of the key made by --new-key, from this file (first line)
    /// [else $MERIDIAN_NEW_KEY_PASSPHRASE, else a prompt].
    #[arg(long, value_name = "FILE", requires = "new_key")]
    pub new_key_passphrase_file: Option<PathBuf>,
    /// Validity in days (at most until the CA certificate expires).
    #[arg(long, default_value_t = 365, value_name = "N")]
    pub days: u64,
    /// Also write the certificate (PEM) to this new file.
    #[arg(long, value_name = "FILE.pem")]
    pub out: Option<PathBuf>,
}

const SHOW_HELP: &str = "\
The cert id is the chain suite's hash of the certificate's DER (SM3 on `sm`, SHA-256 on `intl`):
the id the chain uses for the certificate and for trusted CAs. PEM or DER input.

Example:
  meridian ca show node1.pem
  meridian ca show ./org1-ca/ca.pem --json";

#[derive(Args, Debug)]
#[command(after_help = SHOW_HELP)]
pub struct ShowArgs {
    /// The certificate (PEM or DER).
    #[arg(value_name = "FILE.pem")]
    pub file: PathBuf,
    /// Suite whose hash gives the cert id: `sm` or `intl` [default: from the issuer's
    /// algorithm: sm2 -> sm, p256/ed25519 -> intl].
    #[arg(long)]
    pub suite: Option<String>,
}

const VERIFY_HELP: &str = "\
Builds a trust store of the --ca certificates (each an organisation CA: the member's O must be
the CA's O) and checks, in this order: algorithms, that FILE is a member certificate, the issuing
CA (cert.unknown_ca), the signature (cert.bad_signature), the CA's and then the certificate's
validity at --at (cert.expired, cert.not_yet_valid), revocation (cert.revoked), CN, role and
organisation. On success prints the identity; on failure the error code, exit code 5.

Revocation: with --revoked-list DIR/issued.json (a CA's index, as kept by `meridian ca revoke`)
the certificates marked revoked there are refused; without it revocation is not checked. A
chain consults its own revocation list, which is updated through governance.

Example:
  meridian ca verify node1.pem --ca ./org1-ca/ca.pem
  meridian ca verify node1.pem --ca org1.pem --ca org2.pem --revoked-list ./org1-ca/issued.json
  meridian ca verify node1.pem --ca org1.pem --at 1893456000 --json";

#[derive(Args, Debug)]
#[command(after_help = VERIFY_HELP)]
pub struct VerifyArgs {
    /// The member certificate to verify (PEM or DER).
    #[arg(value_name = "FILE.pem")]
    pub file: PathBuf,
    /// A trusted organisation CA certificate; repeat for several.
    #[arg(long = "ca", value_name = "CA.pem", required = true)]
    pub cas: Vec<PathBuf>,
    /// A CA's issued.json: certificates it marks revoked are refused. Repeatable.
    #[arg(long = "revoked-list", value_name = "FILE")]
    pub revoked_lists: Vec<PathBuf>,
    /// Verify at this time (Unix seconds) instead of now.
    #[arg(long, value_name = "UNIX_SECS")]
    pub at: Option<u64>,
    /// Chain suite: `sm` or `intl` [default: from the first CA's algorithm].
    #[arg(long)]
    pub suite: Option<String>,
}

#[derive(Args, Debug)]
#[command(after_help = "Status is computed now: revoked, expired or valid.\n\n\
Example:\n  meridian ca list --dir ./org1-ca\n  meridian ca list --dir ./org1-ca --json")]
pub struct ListArgs {
    /// The CA directory.
    #[arg(long)]
    pub dir: PathBuf,
}

const REVOKE_HELP: &str = "\
Records the revocation in the CA's local index, DIR/issued.json: `meridian ca list` shows it
and `meridian ca verify --revoked-list DIR/issued.json` refuses the certificate. This does not
change any chain: an admin of the organisation revokes on chain with
`meridian tx revoke-cert --ca DIR/ca.pem --serial HEX`. Revoking an already revoked serial
succeeds and changes nothing. No passphrase is needed.

Example:
  meridian ca revoke --dir ./org1-ca --serial 3f0c9a...";

#[derive(Args, Debug)]
#[command(after_help = REVOKE_HELP)]
pub struct RevokeArgs {
    /// The CA directory.
    #[arg(long)]
    pub dir: PathBuf,
    /// Serial number of the certificate, hex as `meridian ca list` / `show` print it.
    #[arg(long, value_name = "HEX")]
    pub serial: String,
}

// ---------------------------------------------------------------------------------------------
// Errors

/// A `ca` failure: a client-side error (argument, file, key store) or a certificate error with
/// its `cert.*` code and what it was about.
#[derive(Debug)]
enum CaError {
    Client(ClientError),
    Cert {
        context: String,
        source: IdentityError,
    },
}

impl From<ClientError> for CaError {
    fn from(e: ClientError) -> Self {
        CaError::Client(e)
    }
}

impl fmt::Display for CaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaError::Client(e) => e.fmt(f),
            CaError::Cert { context, source } if context.is_empty() => source.fmt(f),
            CaError::Cert { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl CaError {
    fn code(&self) -> &str {
        match self {
            CaError::Client(e) => e.code(),
            CaError::Cert { source, .. } => source.code(),
        }
    }

    fn exit(&self) -> i32 {
        match self {
            CaError::Client(e) => exit_code(e),
            CaError::Cert { .. } => 5,
        }
    }
}

type Result<T, E = CaError> = std::result::Result<T, E>;

fn bad(msg: impl Into<String>) -> CaError {
    CaError::Client(ClientError::BadInput(msg.into()))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CaError + '_ {
    move |source| {
        CaError::Client(ClientError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

fn cert_err(context: impl fmt::Display) -> impl FnOnce(IdentityError) -> CaError {
    let context = context.to_string();
    move |source| CaError::Cert { context, source }
}

// ---------------------------------------------------------------------------------------------
// Entry point

pub fn run(args: CaArgs) -> anyhow::Result<()> {
    let json = args.json;
    let Err(e) = exec(args) else {
        return Ok(());
    };
    if json {
        println!("{}", json!({"code": e.code(), "message": e.to_string()}));
    } else {
        eprintln!("error[{}]: {e}", e.code());
    }
    std::process::exit(e.exit());
}

fn exec(args: CaArgs) -> Result<()> {
    let json = args.json;
    match args.cmd {
        CaCmd::Init(a) => init(&args.keys, json, a),
        CaCmd::Issue(a) => issue(&args.keys, json, a),
        CaCmd::Show(a) => show(json, &a),
        CaCmd::Verify(a) => verify(json, &a),
        CaCmd::List(a) => list(json, &a),
        CaCmd::Revoke(a) => revoke(json, &a),
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Unix seconds as `YYYY-MM-DD hh:mm:ss UTC`.
fn date(secs: u64) -> String {
    utc(secs.saturating_mul(1000)).replace(".000 UTC", " UTC")
}

fn parse_alg(s: &str, option: &str) -> Result<Algorithm> {
    match s.to_ascii_lowercase().as_str() {
        "sm2" | "sm2-sm3" => Ok(Algorithm::Sm2Sm3),
        "p256" | "p-256" | "ecdsa-p256" | "ecdsa-p256-sha256" => Ok(Algorithm::EcdsaP256Sha256),
        "ed25519" => Ok(Algorithm::Ed25519),
        _ => Err(bad(format!(
            "{option} {s:?} is not an algorithm: use sm2, p256 or ed25519"
        ))),
    }
}

fn parse_suite(s: &str) -> Result<Suite> {
    s.parse()
        .map_err(|_| bad(format!("--suite must be `sm` or `intl`, not {s:?}")))
}

/// Short user-facing algorithm name (as `--alg` takes it).
fn alg_short(a: Algorithm) -> &'static str {
    match a {
        Algorithm::Sm2Sm3 => "sm2",
        Algorithm::EcdsaP256Sha256 => "p256",
        Algorithm::Ed25519 => "ed25519",
    }
}

/// `now + days`, bounded by what X.509 can express.
fn not_after(now: u64, days: u64) -> Result<u64> {
    if days == 0 {
        return Err(bad("--days must be at least 1"));
    }
    let max_days = (MAX_X509_TIME - now) / DAY;
    if days > max_days {
        return Err(bad(format!(
            "--days {days} ends after 9999-12-31, the last date X.509 can express: use at most \
             {max_days}"
        )));
    }
    Ok(now + days * DAY)
}

/// Reads a certificate file (PEM or DER), naming `what` (e.g. `--ca x.pem`) in errors.
fn read_cert(path: &Path, what: &str) -> Result<Certificate> {
    let f = fs::File::open(path).map_err(io(path))?;
    let mut bytes = Vec::new();
    // Anything larger than the largest PEM certificate is refused by the parser anyway.
    f.take(MAX_CERT_PEM_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io(path))?;
    let context = if what.is_empty() {
        path.display().to_string()
    } else {
        format!("{what} {}", path.display())
    };
    Certificate::parse(&bytes).map_err(cert_err(context))
}

/// The first line of `path`, as `KeyOpts::passphrase` reads a passphrase file.
fn first_line(path: &Path) -> Result<Zeroizing<String>> {
    let text = Zeroizing::new(fs::read_to_string(path).map_err(io(path))?);
    Ok(Zeroizing::new(
        text.lines().next().unwrap_or("").to_string(),
    ))
}

/// The passphrase of a key made by `--new-key`: its own file, else its own environment
/// variable, else a terminal prompt (asked twice). It must differ from the CA's.
fn new_key_passphrase(file: Option<&Path>, out: &Path, ca_pass: &str) -> Result<Zeroizing<String>> {
    let pass = if let Some(p) = file {
        first_line(p)?
    } else if let Ok(p) = std::env::var(NEW_KEY_PASSPHRASE_ENV) {
        Zeroizing::new(p)
    } else if std::io::stdin().is_terminal() {
        let read = |p: &str| {
            rpassword::prompt_password(p)
                .map(Zeroizing::new)
                .map_err(|e| ClientError::NoPassphrase(format!("cannot read the passphrase: {e}")))
        };
        let first = read(&format!("New passphrase for {}: ", out.display()))?;
        if *read("Repeat passphrase: ")? != *first {
            return Err(ClientError::NoPassphrase("the passphrases differ".into()).into());
        }
        first
    } else {
        return Err(ClientError::NoPassphrase(format!(
            "--new-key needs a passphrase for the member's key: pass --new-key-passphrase-file \
             FILE, set {NEW_KEY_PASSPHRASE_ENV}, or run in a terminal"
        ))
        .into());
    };
    if pass.is_empty() {
        return Err(ClientError::NoPassphrase(
            "the passphrase of the --new-key file must not be empty".into(),
        )
        .into());
    }
    if *pass == *ca_pass {
        return Err(bad(format!(
            "the passphrase of --new-key {} must differ from the CA key's: whoever receives the \
             member key would learn the CA passphrase (use --new-key-passphrase-file or \
             {NEW_KEY_PASSPHRASE_ENV})",
            out.display()
        )));
    }
    Ok(pass)
}

/// Creates `path` (mode 0644), refusing to overwrite; `what` names the option in errors.
fn write_new_file(path: &Path, contents: &[u8], what: &str) -> Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                bad(format!(
                    "{what} {} already exists: choose another path or remove it",
                    path.display()
                ))
            } else {
                io(path)(e)
            }
        })?;
    let written = f.write_all(contents).and_then(|()| f.sync_all());
    if let Err(e) = written {
        drop(f);
        let _ = fs::remove_file(path);
        return Err(io(path)(e));
    }
    Ok(())
}

fn refuse_existing(path: &Path, what: &str) -> Result<()> {
    if path.exists() {
        return Err(bad(format!(
            "{what} {} already exists: choose another path or remove it",
            path.display()
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The index, DIR/issued.json

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Index {
    version: u32,
    org: String,
    /// `Algorithm::as_str` of the CA.
    algorithm: String,
    /// The CA certificate's id (hash of its suite).
    ca_cert_id: String,
    ca_serial: String,
    certificates: Vec<Issued>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Issued {
    /// Hex, as `Serial::to_hex`.
    serial: String,
    name: String,
    role: String,
    /// Unix seconds, inclusive.
    not_after: u64,
    cert_id: String,
    revoked: bool,
    /// When `meridian ca revoke` recorded it (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revoked_at: Option<u64>,
}

impl Issued {
    fn status(&self, now: u64) -> &'static str {
        if self.revoked {
            "revoked"
        } else if now > self.not_after {
            "expired"
        } else {
            "valid"
        }
    }

    fn to_json(&self, now: u64) -> serde_json::Value {
        json!({
            "serial": self.serial,
            "name": self.name,
            "role": self.role,
            "not_after": self.not_after,
            "cert_id": self.cert_id,
            "revoked": self.revoked,
            "revoked_at": self.revoked_at,
            "status": self.status(now),
        })
    }
}

impl Index {
    fn read(path: &Path, option: &str) -> Result<Index> {
        let text = fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                bad(format!(
                    "{option}: {} does not exist (is this a directory made by `meridian ca \
                     init`?)",
                    path.display()
                ))
            } else {
                io(path)(e)
            }
        })?;
        let index: Index = serde_json::from_str(&text).map_err(|e| {
            bad(format!(
                "{option}: {} is not a CA index (issued.json): {e}",
                path.display()
            ))
        })?;
        if index.version != INDEX_VERSION {
            return Err(bad(format!(
                "{option}: {} has version {} (this build reads {INDEX_VERSION})",
                path.display(),
                index.version
            )));
        }
        Ok(index)
    }

    /// Replaces the file atomically (write a sibling, then rename).
    fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).unwrap_or_default() + "\n";
        let tmp = path.with_extension("json.tmp");
        let mut f = fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(io(&tmp))?;
        drop(f);
        fs::rename(&tmp, path).map_err(io(path))
    }

    fn contains_serial(&self, serial: &str) -> bool {
        self.ca_serial == serial || self.certificates.iter().any(|c| c.serial == serial)
    }
}

/// Serializes `issue` and `revoke` on one CA directory (released when the process exits).
fn lock_dir(dir: &Path) -> Result<fs::File> {
    let path = dir.join(LOCK_FILE);
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    f.lock().map_err(io(&path))?;
    Ok(f)
}

// ---------------------------------------------------------------------------------------------
// init

fn init(keys: &KeyOpts, json: bool, a: InitArgs) -> Result<()> {
    if !is_valid_org_id(&a.org) {
        return Err(bad(format!(
            "--org {:?} is not a valid organisation id: use 1-64 of A-Z a-z 0-9 . _ -",
            a.org
        )));
    }
    let alg = parse_alg(&a.alg, "--alg")?;
    let now = now_secs();
    let not_before = now.saturating_sub(BACKDATE_SECS);
    let not_after = not_after(now, a.days)?;
    let dir = &a.dir;
    for f in [CA_CERT_FILE, CA_KEY_FILE, INDEX_FILE] {
        if dir.join(f).exists() {
            return Err(bad(format!(
                "--dir {} already holds a CA ({f}): choose another directory",
                dir.display()
            )));
        }
    }
    let pass = keys.passphrase("New passphrase for the CA key: ", true)?;
    let (ca, cert_path, key_path, index_path) =
        create_ca(&a.org, alg, dir, not_before, not_after, &pass)?;
    let cert = ca.certificate();
    let public = ca.signing_key().public_key().to_bytes();
    let suite = alg.suite();
    let cert_id = cert.cert_id(suite);
    print_init(
        json,
        &a,
        alg,
        cert,
        &public,
        &cert_id,
        &cert_path,
        &key_path,
        &index_path,
    );
    Ok(())
}

/// A CA made by [`create_ca`] and its files: ca.pem, ca.key, issued.json.
type Created = (OrgCa, PathBuf, PathBuf, PathBuf);

/// Creates the CA files in `dir` (ca.pem, ca.key sealed with `pass`, issued.json, certs/).
fn create_ca(
    org: &str,
    alg: Algorithm,
    dir: &Path,
    not_before: u64,
    not_after: u64,
    pass: &str,
) -> Result<Created> {
    if pass.is_empty() {
        return Err(ClientError::NoPassphrase("the passphrase must not be empty".into()).into());
    }
    let mut rng = rand::rng();
    let params = CaParams {
        org: org.to_string(),
        common_name: None,
        not_before,
        not_after,
        serial: Serial::random(&mut rng),
    };
    let ca = OrgCa::generate(alg, &params, &mut rng).map_err(cert_err("--org/--days"))?;
    let cert = ca.certificate();
    let pem = cert.to_pem().map_err(cert_err("CA certificate"))?;
    let key = ca.signing_key();
    let public = key.public_key().to_bytes();
    let sealed = KeyFile::seal_bytes(
        &format!("ca.{org}"),
        alg.suite(),
        alg.as_str(),
        &public,
        key.to_bytes().as_slice(),
        pass.as_bytes(),
        KdfParams::default(),
    )?;

    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        b.mode(0o700);
    }
    b.create(dir).map_err(io(dir))?;
    let certs = dir.join(CERTS_DIR);
    b.create(&certs).map_err(io(&certs))?;

    let key_path = dir.join(CA_KEY_FILE);
    write_private_file(&key_path, sealed.to_json().as_bytes())?;
    let cert_path = dir.join(CA_CERT_FILE);
    write_new_file(&cert_path, pem.as_bytes(), "--dir")?;
    let suite = alg.suite();
    let cert_id = cert.cert_id(suite);
    let index = Index {
        version: INDEX_VERSION,
        org: org.to_string(),
        algorithm: alg.as_str().to_string(),
        ca_cert_id: cert_id.to_hex(),
        ca_serial: cert.serial().to_hex(),
        certificates: Vec::new(),
    };
    let index_path = dir.join(INDEX_FILE);
    index.write(&index_path)?;
    Ok((ca, cert_path, key_path, index_path))
}

#[allow(clippy::too_many_arguments)]
fn print_init(
    json: bool,
    a: &InitArgs,
    alg: Algorithm,
    cert: &Certificate,
    public: &[u8],
    cert_id: &CertId,
    cert_path: &Path,
    key_path: &Path,
    index_path: &Path,
) {
    let suite = alg.suite();
    let dir = &a.dir;
    if json {
        print_json(&json!({
            "org": a.org,
            "algorithm": alg.as_str(),
            "suite": suite.as_str(),
            "subject": cert.subject_dn(),
            "serial": cert.serial().to_hex(),
            "not_before": cert.not_before(),
            "not_after": cert.not_after(),
            "cert_id": cert_id.to_hex(),
            "public_key": hex::encode(public),
            "ca_cert": cert_path,
            "ca_key": key_path,
            "index": index_path,
        }));
    } else {
        println!(
            "created CA for {} ({}, {suite} chains)",
            a.org,
            alg.as_str()
        );
        println!("subject:     {}", cert.subject_dn());
        println!("serial:      {}", cert.serial());
        println!(
            "valid:       {} .. {}",
            date(cert.not_before()),
            date(cert.not_after())
        );
        println!("cert id:     {cert_id}");
        println!("certificate: {}", cert_path.display());
        println!("key:         {} (encrypted, mode 0600)", key_path.display());
        println!("index:       {}", index_path.display());
        println!(
            "next: meridian ca issue --dir {} --name NAME --role consensus --key KEYNAME",
            dir.display()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// issue

/// Opens DIR/ca.pem + DIR/ca.key; also returns the passphrase it was unlocked with.
fn load_ca(keys: &KeyOpts, dir: &Path) -> Result<(OrgCa, Zeroizing<String>)> {
    let cert_path = dir.join(CA_CERT_FILE);
    let key_path = dir.join(CA_KEY_FILE);
    for p in [&cert_path, &key_path] {
        if !p.exists() {
            return Err(bad(format!(
                "--dir {}: {} is missing (create a CA with `meridian ca init --dir {}`)",
                dir.display(),
                p.display(),
                dir.display()
            )));
        }
    }
    let cert = read_cert(&cert_path, "CA certificate")?;
    let kf = KeyFile::read_bytes(&key_path)?;
    let (label, stored_public) = kf.validate_bytes(&key_path)?;
    let alg: Algorithm = label.parse().map_err(|_| {
        bad(format!(
            "{}: unknown CA key algorithm {label:?}",
            key_path.display()
        ))
    })?;
    if alg != cert.algorithm() {
        return Err(bad(format!(
            "{} is a {} key but {} is a {} certificate: the files do not belong together",
            key_path.display(),
            alg.as_str(),
            cert_path.display(),
            cert.algorithm().as_str()
        )));
    }
    let pass = keys.passphrase(
        &format!("Passphrase for the CA key {}: ", key_path.display()),
        false,
    )?;
    let secret = kf.open_bytes(&key_path, pass.as_bytes())?;
    let key = SigningKey::from_bytes(alg, &secret)
        .map_err(cert_err(format!("CA key {}", key_path.display())))?;
    if key.public_key().to_bytes() != stored_public {
        return Err(ClientError::KeyFileInvalid {
            path: key_path,
            message: "decrypted key does not match the stored public key".into(),
        }
        .into());
    }
    let ca = OrgCa::from_parts(cert, key).map_err(cert_err(format!(
        "{} with {}",
        cert_path.display(),
        key_path.display()
    )))?;
    Ok((ca, pass))
}

/// The member's public key from `--public-key HEX`, for a CA of suite `suite`.
fn parse_public_key(text: &str, ca_alg: Algorithm) -> Result<PublicKeyInfo> {
    let t = text.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    let bytes = hex::decode(t).map_err(|_| bad(format!("--public-key {text:?} is not hex")))?;
    let wrong = |e: IdentityError| {
        bad(format!(
            "--public-key is not a valid key for a {} CA ({e})",
            alg_short(ca_alg)
        ))
    };
    match (ca_alg.suite(), bytes.len()) {
        (Suite::Sm, 33 | 65) => PublicKeyInfo::from_bytes(Algorithm::Sm2Sm3, &bytes).map_err(wrong),
        (Suite::Sm, n) => Err(bad(format!(
            "--public-key: an sm2 CA certifies SM2 keys, 33 bytes compressed (66 hex) or 65 \
             uncompressed; got {n} bytes"
        ))),
        (Suite::Intl, 32) => PublicKeyInfo::from_bytes(Algorithm::Ed25519, &bytes).map_err(wrong),
        (Suite::Intl, 33 | 65) => PublicKeyInfo::p256_from_sec1(&bytes).map_err(wrong),
        (Suite::Intl, n) => Err(bad(format!(
            "--public-key: a {} CA certifies Ed25519 keys (32 bytes, 64 hex) or P-256 keys (33 \
             or 65 bytes SEC1); got {n} bytes",
            alg_short(ca_alg)
        ))),
    }
}

/// What `--new-key` made: the key file to write and its public key.
struct NewKey {
    file: KeyFile,
    public: PublicKeyInfo,
}

fn generate_member_key(alg: Algorithm, name: &str, pass: &[u8]) -> Result<NewKey> {
    let mut rng = rand::rng();
    // Every member key is an account key of the key store (`meridian keys import` takes it),
    // P-256 included: on `intl` chains it signs transactions.
    let key = match alg {
        Algorithm::Sm2Sm3 | Algorithm::Ed25519 => PrivateKey::generate(alg.suite(), &mut rng),
        Algorithm::EcdsaP256Sha256 => PrivateKey::generate_p256(&mut rng),
    };
    Ok(NewKey {
        file: KeyFile::seal(name, &key, pass, KdfParams::default())?,
        public: PublicKeyInfo::from(key.public_key()),
    })
}

/// Issues a certificate with `ca` (whose files are in `dir`): a serial unique in the index,
/// then `before_record` (e.g. writing the member's key), then the copy in certs/ and the index
/// entry. Returns the certificate, its PEM and the copy's path.
#[allow(clippy::too_many_arguments)]
fn issue_in(
    ca: &OrgCa,
    dir: &Path,
    name: &str,
    role: &Role,
    public: &PublicKeyInfo,
    not_before: u64,
    not_after: u64,
    before_record: impl FnOnce() -> Result<()>,
) -> Result<(Certificate, String, PathBuf)> {
    let _lock = lock_dir(dir)?;
    let index_path = dir.join(INDEX_FILE);
    let mut index = Index::read(&index_path, "--dir")?;
    let mut rng = rand::rng();
    let serial = loop {
        let s = Serial::random(&mut rng);
        if !index.contains_serial(&s.to_hex()) {
            break s;
        }
    };
    let req = IssueRequest {
        name: name.to_string(),
        role: role.clone(),
        public_key: public.clone(),
        not_before,
        not_after,
        serial: serial.clone(),
    };
    let cert = ca
        .issue(&req)
        .map_err(cert_err("cannot issue the certificate"))?;
    let pem = cert.to_pem().map_err(cert_err("certificate"))?;
    let cert_id = cert.cert_id(ca.certificate().algorithm().suite());
    before_record()?;
    let certs = dir.join(CERTS_DIR);
    fs::create_dir_all(&certs).map_err(io(&certs))?;
    let archive = certs.join(format!("{}.pem", serial.to_hex()));
    write_new_file(&archive, pem.as_bytes(), "certificate copy")?;
    index.certificates.push(Issued {
        serial: serial.to_hex(),
        name: name.to_string(),
        role: role.to_string(),
        not_after: cert.not_after(),
        cert_id: cert_id.to_hex(),
        revoked: false,
        revoked_at: None,
    });
    index.write(&index_path)?;
    Ok((cert, pem, archive))
}

/// `meridian init --certs`: a new organisation CA in `dir` (as `meridian ca init --org org
/// --alg alg --days days`, sealed with `pass`).
pub fn init_org_ca(
    org: &str,
    alg: Algorithm,
    dir: &Path,
    days: u64,
    pass: &str,
) -> anyhow::Result<OrgCa> {
    let run = || -> Result<OrgCa> {
        if !is_valid_org_id(org) {
            return Err(bad(format!("{org:?} is not a valid organisation id")));
        }
        for f in [CA_CERT_FILE, CA_KEY_FILE, INDEX_FILE] {
            if dir.join(f).exists() {
                return Err(bad(format!(
                    "{} already holds a CA ({f}): choose another directory",
                    dir.display()
                )));
            }
        }
        let now = now_secs();
        let not_after = not_after(now, days)?;
        let (ca, ..) = create_ca(
            org,
            alg,
            dir,
            now.saturating_sub(BACKDATE_SECS),
            not_after,
            pass,
        )?;
        Ok(ca)
    };
    run().map_err(|e| anyhow::anyhow!("error[{}]: {e}", e.code()))
}

/// `meridian init --certs`: a member certificate issued by `ca` (files in `dir`), valid from 5
/// minutes before now for `days` days (at most until the CA expires), recorded in the index
/// as `meridian ca issue` records it. Returns it as PEM.
pub fn issue_member(
    ca: &OrgCa,
    dir: &Path,
    name: &str,
    role: Role,
    public: PublicKeyInfo,
    days: u64,
) -> anyhow::Result<String> {
    let run = || -> Result<String> {
        let now = now_secs();
        let not_after = not_after(now, days)?.min(ca.certificate().not_after());
        let (_, pem, _) = issue_in(
            ca,
            dir,
            name,
            &role,
            &public,
            now.saturating_sub(BACKDATE_SECS),
            not_after,
            || Ok(()),
        )?;
        Ok(pem)
    };
    run().map_err(|e| anyhow::anyhow!("error[{}]: {e}", e.code()))
}

fn issue(keys: &KeyOpts, json: bool, a: IssueArgs) -> Result<()> {
    // Cheap checks first, before any passphrase is asked.
    if !is_valid_member_name(&a.name) {
        return Err(bad(format!(
            "--name {:?} is not a valid member name: 1-64 bytes, no control characters, no \
             leading or trailing spaces",
            a.name
        )));
    }
    let role: Role = a.role.parse().map_err(|_| {
        bad(format!(
            "--role {:?} is not a role: use admin, consensus, member, client, regulator, \
             auditor, or a custom role of 1-32 of a-z 0-9 _ -",
            a.role
        ))
    })?;
    let dir = &a.dir;
    let ca_cert = read_cert(&dir.join(CA_CERT_FILE), "--dir").map_err(|e| match e {
        CaError::Client(ClientError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            bad(format!(
                "--dir {} holds no CA (no {CA_CERT_FILE}): create one with `meridian ca init \
                 --dir {}`",
                dir.display(),
                dir.display()
            ))
        }
        e => e,
    })?;
    let ca_alg = ca_cert.algorithm();
    let now = now_secs();
    let not_after = not_after(now, a.days)?;
    if now > ca_cert.not_after() {
        return Err(bad(format!(
            "the CA certificate {} expired on {}: create a new CA with `meridian ca init`",
            dir.join(CA_CERT_FILE).display(),
            date(ca_cert.not_after())
        )));
    }
    if not_after > ca_cert.not_after() {
        return Err(bad(format!(
            "--days {}: the certificate would outlive the CA certificate, which expires on {}; \
             use --days {} or less",
            a.days,
            date(ca_cert.not_after()),
            (ca_cert.not_after() - now) / DAY
        )));
    }
    if let Some(out) = &a.out {
        refuse_existing(out, "--out")?;
    }
    if let Some(out) = &a.new_key {
        refuse_existing(out, "--new-key")?;
    }
    let new_key_alg = match &a.new_key_alg {
        Some(s) => parse_alg(s, "--new-key-alg")?,
        None => ca_alg,
    };
    if !new_key_alg.accepted_by(ca_alg.suite()) {
        return Err(CaError::Cert {
            context: format!(
                "--new-key-alg {}: a {} CA certifies keys of {} chains ({})",
                alg_short(new_key_alg),
                alg_short(ca_alg),
                ca_alg.suite(),
                Algorithm::for_suite(ca_alg.suite())
                    .iter()
                    .map(|a| alg_short(*a))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            source: IdentityError::WrongAlgorithm("key of another suite"),
        });
    }
    let mut public = match (&a.public_key, &a.key) {
        (Some(hex), _) => Some(parse_public_key(hex, ca_alg)?),
        (None, Some(name)) => {
            let info = keys.keystore()?.info(name)?;
            let suite: Suite = info
                .suite
                .parse()
                .map_err(|_| bad(format!("--key {name}: unknown suite {:?}", info.suite)))?;
            if suite != ca_alg.suite() {
                return Err(CaError::Cert {
                    context: format!(
                        "--key {name} is a key for {suite} chains but a {} CA certifies keys \
                         for {} chains: create one with `meridian keys new NAME --suite {}`",
                        alg_short(ca_alg),
                        ca_alg.suite(),
                        ca_alg.suite()
                    ),
                    source: IdentityError::WrongAlgorithm("key of another suite"),
                });
            }
            let raw = hex::decode(&info.public_key)
                .map_err(|_| bad(format!("--key {name}: public key is not hex")))?;
            let pk = meridian_crypto::PublicKey::from_bytes(suite, &raw)
                .map_err(|e| bad(format!("--key {name}: bad public key: {e}")))?;
            Some(PublicKeyInfo::from(pk))
        }
        (None, None) => None,
    };
    if let Some(pk) = &public {
        if !pk.algorithm().accepted_by(ca_alg.suite()) {
            return Err(CaError::Cert {
                context: format!(
                    "--public-key is a {} key; a {} CA certifies keys for {} chains",
                    pk.algorithm().as_str(),
                    alg_short(ca_alg),
                    ca_alg.suite()
                ),
                source: IdentityError::WrongAlgorithm("key of another suite"),
            });
        }
    }

    let (ca, ca_pass) = load_ca(keys, dir)?;
    let mut new_key = None;
    if let Some(out) = &a.new_key {
        let pass = new_key_passphrase(a.new_key_passphrase_file.as_deref(), out, &ca_pass)?;
        let made = generate_member_key(new_key_alg, &a.name, pass.as_bytes())?;
        public = Some(made.public.clone());
        new_key = Some((out.clone(), made));
    }
    let Some(public) = public else {
        return Err(bad(
            "give the member's key: --public-key HEX, --key NAME or --new-key OUT.key",
        ));
    };

    // The member's key is written once the certificate is made, before it is recorded: if it
    // cannot be written, nothing was issued.
    let mut key_out = None;
    let (cert, pem, archive) = issue_in(
        &ca,
        dir,
        &a.name,
        &role,
        &public,
        now.saturating_sub(BACKDATE_SECS),
        not_after,
        || {
            if let Some((out, made)) = new_key {
                write_private_file(&out, made.file.to_json().as_bytes())?;
                key_out = Some(out);
            }
            Ok(())
        },
    )?;
    let serial = cert.serial().clone();
    let suite = ca_alg.suite();
    let cert_id = cert.cert_id(suite);
    if let Some(out) = &a.out {
        write_new_file(out, pem.as_bytes(), "--out")?;
    }

    if json {
        print_json(&json!({
            "org": ca.org(),
            "name": a.name,
            "role": role.as_str(),
            "serial": serial.to_hex(),
            "not_before": cert.not_before(),
            "not_after": cert.not_after(),
            "algorithm": cert.algorithm().as_str(),
            "signature_algorithm": cert.signature_algorithm().as_str(),
            "public_key": hex::encode(public.to_bytes()),
            "suite": suite.as_str(),
            "cert_id": cert_id.to_hex(),
            "cert": archive,
            "out": a.out,
            "key_file": key_out,
        }));
    } else {
        println!(
            "issued {} certificate for {} ({})",
            role,
            a.name,
            cert.subject_dn()
        );
        println!("serial:      {serial}");
        println!(
            "valid:       {} .. {}",
            date(cert.not_before()),
            date(cert.not_after())
        );
        println!(
            "key:         {} {}",
            public.algorithm().as_str(),
            hex::encode(public.to_bytes())
        );
        println!("cert id:     {cert_id}");
        println!("certificate: {}", archive.display());
        if let Some(out) = &a.out {
            println!("copy:        {}", out.display());
        }
        if let Some(k) = &key_out {
            println!(
                "member key:  {} (encrypted with the member's passphrase, mode 0600)",
                k.display()
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// show

fn show(json: bool, a: &ShowArgs) -> Result<()> {
    let cert = read_cert(&a.file, "")?;
    let suite = match &a.suite {
        Some(s) => parse_suite(s)?,
        None => cert.signature_algorithm().suite(),
    };
    let now = now_secs();
    let cert_id = cert.cert_id(suite);
    let role = cert.role().ok().map(|r| r.to_string());
    if json {
        print_json(&json!({
            "subject": cert.subject_dn(),
            "org": cert.org(),
            "role": role,
            "org_units": cert.org_units(),
            "name": cert.name(),
            "issuer": cert.issuer_dn(),
            "serial": cert.serial().to_hex(),
            "not_before": cert.not_before(),
            "not_after": cert.not_after(),
            "valid_now": cert.is_valid_at(now),
            "algorithm": cert.algorithm().as_str(),
            "signature_algorithm": cert.signature_algorithm().as_str(),
            "public_key": hex::encode(cert.public_key().to_bytes()),
            "suite": suite.as_str(),
            "cert_id": cert_id.to_hex(),
            "is_ca": cert.is_ca(),
            "self_signed": cert.is_self_issued(),
            "subject_key_id": cert.subject_key_id().map(hex::encode),
            "authority_key_id": cert.authority_key_id().map(hex::encode),
        }));
        return Ok(());
    }
    let opt = |s: Option<&str>| s.unwrap_or("-").to_string();
    println!("subject:     {}", cert.subject_dn());
    println!("  org:       {}", opt(cert.org()));
    println!(
        "  role:      {}",
        role.clone()
            .unwrap_or_else(|| if cert.org_units().is_empty() {
                "-".into()
            } else {
                cert.org_units().join(",")
            })
    );
    println!("  name:      {}", opt(cert.name()));
    println!("issuer:      {}", cert.issuer_dn());
    println!("serial:      {}", cert.serial());
    println!(
        "validity:    {} .. {} ({})",
        date(cert.not_before()),
        date(cert.not_after()),
        if cert.is_valid_at(now) {
            "valid now"
        } else if now < cert.not_before() {
            "not yet valid"
        } else {
            "expired"
        }
    );
    println!(
        "algorithm:   {} (signed with {})",
        cert.algorithm().as_str(),
        cert.signature_algorithm().as_str()
    );
    println!("public key:  {}", hex::encode(cert.public_key().to_bytes()));
    println!("cert id:     {cert_id} (suite {suite})");
    println!("is ca:       {}", cert.is_ca());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// verify

fn verify(json: bool, a: &VerifyArgs) -> Result<()> {
    let leaf = read_cert(&a.file, "")?;
    let cas = a
        .cas
        .iter()
        .map(|p| read_cert(p, "--ca").map(|c| (p, c)))
        .collect::<Result<Vec<_>>>()?;
    let suite = match &a.suite {
        Some(s) => parse_suite(s)?,
        // `--ca` is required, so there is a first one.
        None => cas
            .first()
            .map_or(Suite::Sm, |(_, c)| c.algorithm().suite()),
    };
    let mut store = TrustStore::new(suite);
    for (path, cert) in &cas {
        store
            .add_org_ca(cert.clone())
            .map_err(cert_err(format!("--ca {}", path.display())))?;
    }
    // Revocation records: CA id -> revoked serials.
    let mut revoked: BTreeMap<CertId, BTreeSet<Vec<u8>>> = BTreeMap::new();
    for path in &a.revoked_lists {
        let index = Index::read(path, "--revoked-list")?;
        let ca_id = CertId::from_hex(&index.ca_cert_id).map_err(|_| {
            bad(format!(
                "--revoked-list {}: ca_cert_id is not a cert id",
                path.display()
            ))
        })?;
        if !store.contains(&ca_id) {
            return Err(bad(format!(
                "--revoked-list {} is the record of CA {} (org {}), which is not among the --ca \
                 certificates: pass that CA with --ca, or the matching issued.json",
                path.display(),
                index.ca_cert_id,
                index.org
            )));
        }
        let set = revoked.entry(ca_id).or_default();
        for c in index.certificates.iter().filter(|c| c.revoked) {
            let serial = Serial::from_hex(&c.serial).map_err(|_| {
                bad(format!(
                    "--revoked-list {}: serial {:?} is not hex",
                    path.display(),
                    c.serial
                ))
            })?;
            set.insert(serial.as_bytes().to_vec());
        }
    }
    let at = a.at.unwrap_or_else(now_secs);
    let id = verify_chain(&leaf, &store, suite, at, |ca, serial| {
        revoked.get(ca).is_some_and(|s| s.contains(serial))
    })
    .map_err(cert_err(a.file.display()))?;
    let revocation = if a.revoked_lists.is_empty() {
        "not checked (no --revoked-list)".to_string()
    } else {
        format!(
            "not revoked ({} list(s), {} revoked serial(s))",
            a.revoked_lists.len(),
            revoked.values().map(BTreeSet::len).sum::<usize>()
        )
    };
    let kind = match id.issuer_kind {
        CaKind::Org => "org",
        CaKind::ThirdParty => "third-party",
    };
    if json {
        print_json(&json!({
            "valid": true,
            "at": at,
            "suite": suite.as_str(),
            "org": id.org,
            "role": id.role.as_str(),
            "name": id.name,
            "serial": id.serial.to_hex(),
            "cert_id": id.cert_id.to_hex(),
            "issuer_ca_id": id.issuer_ca_id.to_hex(),
            "issuer_kind": kind,
            "algorithm": id.algorithm.as_str(),
            "public_key": hex::encode(id.public_key.to_bytes()),
            "not_after": id.not_after,
            "revocation_checked": !a.revoked_lists.is_empty(),
        }));
    } else {
        println!("certificate valid at {}", date(at));
        println!("org:         {}", id.org);
        println!("role:        {}", id.role);
        println!("name:        {}", id.name);
        println!("serial:      {}", id.serial);
        println!("cert id:     {} (suite {suite})", id.cert_id);
        println!("issuer CA:   {} ({kind} CA)", id.issuer_ca_id);
        println!(
            "key:         {} {}",
            id.algorithm.as_str(),
            hex::encode(id.public_key.to_bytes())
        );
        println!("not after:   {}", date(id.not_after));
        println!("revocation:  {revocation}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// list / revoke

fn list(json: bool, a: &ListArgs) -> Result<()> {
    let index = Index::read(&a.dir.join(INDEX_FILE), "--dir")?;
    let now = now_secs();
    if json {
        let certs: Vec<_> = index.certificates.iter().map(|c| c.to_json(now)).collect();
        print_json(&json!({
            "org": index.org,
            "algorithm": index.algorithm,
            "ca_cert_id": index.ca_cert_id,
            "certificates": certs,
        }));
        return Ok(());
    }
    println!(
        "CA of {} ({}), cert id {}",
        index.org, index.algorithm, index.ca_cert_id
    );
    if index.certificates.is_empty() {
        println!(
            "no certificates issued yet (issue one: meridian ca issue --dir {} ...)",
            a.dir.display()
        );
        return Ok(());
    }
    println!(
        "{:<32}  {:<10} {:<8} {:<23} NAME",
        "SERIAL", "ROLE", "STATUS", "NOT AFTER"
    );
    for c in &index.certificates {
        println!(
            "{:<32}  {:<10} {:<8} {:<23} {}",
            c.serial,
            c.role,
            c.status(now),
            date(c.not_after),
            c.name
        );
    }
    Ok(())
}

fn revoke(json: bool, a: &RevokeArgs) -> Result<()> {
    let text = a.serial.trim();
    let text = text.strip_prefix("0x").unwrap_or(text);
    let padded = if text.len() % 2 == 1 {
        format!("0{text}")
    } else {
        text.to_string()
    };
    let serial = Serial::from_hex(&padded.to_ascii_lowercase()).map_err(|_| {
        bad(format!(
            "--serial {:?} is not a serial number: give the hex that `meridian ca list` prints",
            a.serial
        ))
    })?;
    let hex = serial.to_hex();
    let index_path = a.dir.join(INDEX_FILE);
    let _lock = lock_dir(&a.dir).map_err(|e| match e {
        CaError::Client(ClientError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            bad(format!(
                "--dir {} does not exist (is it a directory made by `meridian ca init`?)",
                a.dir.display()
            ))
        }
        e => e,
    })?;
    let mut index = Index::read(&index_path, "--dir")?;
    if index.ca_serial == hex {
        return Err(bad(format!(
            "--serial {hex} is the CA certificate itself: a CA is retired by removing it from \
             the chain's trust store (through governance), not revoked by itself"
        )));
    }
    let Some(entry) = index.certificates.iter_mut().find(|c| c.serial == hex) else {
        return Err(bad(format!(
            "--serial {hex} was not issued by this CA ({}): see `meridian ca list --dir {}`",
            index_path.display(),
            a.dir.display()
        )));
    };
    let already = entry.revoked;
    if !already {
        entry.revoked = true;
        entry.revoked_at = Some(now_secs());
    }
    let entry = entry.clone();
    if !already {
        index.write(&index_path)?;
    }
    if json {
        print_json(&json!({
            "serial": entry.serial,
            "name": entry.name,
            "role": entry.role,
            "revoked": true,
            "already_revoked": already,
            "revoked_at": entry.revoked_at,
            "index": index_path,
        }));
    } else {
        println!(
            "{} serial {} ({}, {}) in {}",
            if already {
                "already revoked:"
            } else {
                "revoked"
            },
            entry.serial,
            entry.name,
            entry.role,
            index_path.display()
        );
        println!(
            "This is the CA's local record (`meridian ca verify --revoked-list {}` refuses the \
             certificate); the chain's revocation list is updated through governance.",
            index_path.display()
        );
    }
    Ok(())
}
