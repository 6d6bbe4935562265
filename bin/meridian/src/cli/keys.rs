//! `meridian keys`: account keys, encrypted at rest.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use meridian_client::keystore::{address_of, write_private_file};
use meridian_client::{ClientError, KdfParams, KeyFile, KeyInfo};
use meridian_crypto::{PrivateKey, Suite};
use serde_json::json;
use zeroize::Zeroizing;

use super::{finish, print_json, KeyOpts};

#[derive(Args, Debug)]
#[command(after_help = KEYS_HELP)]
pub struct KeysArgs {
    #[command(flatten)]
    pub keys: KeyOpts,
    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub cmd: KeysCmd,
}

const KEYS_HELP: &str = "\
Each key is one file <DIR>/<NAME>.json (mode 0600): public key and address in the clear, the \
private key sealed with the suite's AEAD (SM4-GCM for sm, AES-256-GCM for intl) under an \
argon2id key derived from the passphrase. The plaintext key is never written to disk.

Passphrase: --passphrase-file FILE, else $MERIDIAN_PASSPHRASE, else a terminal prompt.

Exit codes: 0 success; 1 other error; 4 key store (wrong passphrase, unknown key, ...).";

#[derive(Subcommand, Debug)]
pub enum KeysCmd {
    /// Generate a key and store it encrypted.
    New {
        /// Name of the key (1-64 of A-Z a-z 0-9 . _ -).
        name: String,
        /// Suite of the chain the key is for: `sm` (SM2) or `intl` (Ed25519).
        #[arg(long, default_value = "sm")]
        suite: String,
        /// `p256`: an ECDSA P-256 key instead of the suite's default (intl chains only; for
        /// members whose certificates are P-256, e.g. issued by a Fabric CA).
        #[arg(long)]
        algorithm: Option<String>,
    },
    /// List stored keys (no passphrase needed).
    List,
    /// Show a key's suite, address and public key (no passphrase needed).
    Show {
        name: String,
        /// Also decrypt the key to check the passphrase.
        #[arg(long)]
        check: bool,
    },
    /// Store an existing key under NAME: an encrypted key file (kept as is, same passphrase) or
    /// a hex private key (`meridian init`'s node.key format, or 32 raw bytes with --suite),
    /// which is encrypted with the passphrase.
    Import {
        name: String,
        /// The file to import; `-` reads standard input.
        #[arg(long)]
        file: PathBuf,
        /// Suite of a raw 32-byte hex key (suite-tagged keys carry their own).
        #[arg(long)]
        suite: Option<String>,
    },
    /// Export a key: the encrypted key file to --out, or with --unsafe-plaintext the private key
    /// as hex on stdout (never written to a file by this command).
    Export {
        name: String,
        /// Write a copy of the encrypted key file here (refuses to overwrite).
        #[arg(
            long,
            conflicts_with = "unsafe_plaintext",
            required_unless_present = "unsafe_plaintext"
        )]
        out: Option<PathBuf>,
        /// Print the decrypted, suite-tagged private key as hex on stdout.
        #[arg(long)]
        unsafe_plaintext: bool,
    },
}

pub fn run(args: KeysArgs) -> anyhow::Result<()> {
    let json = args.json;
    finish(json, exec(args))
}

fn parse_suite(s: &str) -> Result<Suite, ClientError> {
    s.parse()
        .map_err(|_| ClientError::BadInput(format!("--suite must be `sm` or `intl`, not {s:?}")))
}

fn print_info(json: bool, what: &str, info: &KeyInfo) {
    if json {
        print_json(&json!({
            "name": info.name,
            "suite": info.suite,
            "address": info.address,
            "public_key": info.public_key,
            "path": info.path,
        }));
    } else {
        if !what.is_empty() {
            println!("{what}");
        }
        println!("name:       {}", info.name);
        println!("suite:      {}", info.suite);
        println!("address:    {}", info.address);
        println!("public key: {}", info.public_key);
        println!("file:       {}", info.path.display());
    }
}

fn read_source(path: &Path) -> Result<Zeroizing<String>, ClientError> {
    let mut text = Zeroizing::new(String::new());
    let io = |e| ClientError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map_err(io)?;
    } else {
        let f = std::fs::File::open(path).map_err(io)?;
        // A key file or a hex key is tiny; refuse to slurp anything big.
        f.take(64 * 1024).read_to_string(&mut text).map_err(io)?;
    }
    Ok(text)
}

fn exec(args: KeysArgs) -> Result<(), ClientError> {
    let ks = args.keys.keystore()?;
    let json = args.json;
    match args.cmd {
        KeysCmd::New {
            name,
            suite,
            algorithm,
        } => {
            let suite = parse_suite(&suite)?;
            let p256 = match algorithm.as_deref() {
                None => false,
                Some("p256") if suite == Suite::Intl => true,
                Some(other) => {
                    return Err(ClientError::BadInput(format!(
                        "--algorithm {other:?}: only p256 is available, on intl chains"
                    )))
                }
            };
            meridian_client::Keystore::check_name(&name)?;
            if ks.path(&name).exists() {
                return Err(ClientError::KeyExists {
                    name,
                    dir: ks.dir().to_path_buf(),
                });
            }
            let pass = args.keys.passphrase("New passphrase: ", true)?;
            let info = if p256 {
                let key = meridian_crypto::PrivateKey::generate_p256(&mut rand::rng());
                ks.add(&name, &key, pass.as_bytes(), KdfParams::default())?
            } else {
                ks.generate(&name, suite, pass.as_bytes(), KdfParams::default())?
            };
            print_info(json, "created key (encrypted at rest)", &info);
        }
        KeysCmd::List => {
            let (keys, bad) = ks.list()?;
            for e in &bad {
                eprintln!("warning[{}]: {e}", e.code());
            }
            if json {
                let list: Vec<_> = keys
                    .iter()
                    .map(|k| json!({"name": k.name, "suite": k.suite, "address": k.address, "public_key": k.public_key}))
                    .collect();
                print_json(&json!({"dir": ks.dir(), "keys": list}));
            } else if keys.is_empty() {
                println!(
                    "no keys in {} (create one: meridian keys new NAME)",
                    ks.dir().display()
                );
            } else {
                println!("{:<20} {:<5} ADDRESS", "NAME", "SUITE");
                for k in keys {
                    println!("{:<20} {:<5} {}", k.name, k.suite, k.address);
                }
            }
        }
        KeysCmd::Show { name, check } => {
            let info = ks.info(&name)?;
            if check {
                let pass = args
                    .keys
                    .passphrase(&format!("Passphrase for {name}: "), false)?;
                ks.unlock(&name, pass.as_bytes())?;
            }
            print_info(json, if check { "passphrase ok" } else { "" }, &info);
        }
        KeysCmd::Import { name, file, suite } => {
            meridian_client::Keystore::check_name(&name)?;
            let text = read_source(&file)?;
            let info = if text.trim_start().starts_with('{') {
                ks.import(&name, KeyFile::from_json(&file, &text)?)?
            } else {
                let raw =
                    Zeroizing::new(hex::decode(text.trim().trim_start_matches("0x")).map_err(
                        |_| ClientError::BadInput("the file is neither a key file nor hex".into()),
                    )?);
                let key = match (raw.len(), suite) {
                    (33, _) => PrivateKey::from_tagged_bytes(&raw),
                    (32, Some(s)) => PrivateKey::from_bytes(parse_suite(&s)?, &raw),
                    (32, None) => {
                        return Err(ClientError::BadInput(
                            "a raw 32-byte key needs --suite sm|intl".into(),
                        ))
                    }
                    (n, _) => {
                        return Err(ClientError::BadInput(format!(
                            "a private key is 32 bytes (33 suite-tagged), not {n}"
                        )))
                    }
                }
                .map_err(|e| ClientError::BadInput(format!("not a valid private key: {e}")))?;
                let pass = args.keys.passphrase("New passphrase: ", true)?;
                ks.add(&name, &key, pass.as_bytes(), KdfParams::default())?
            };
            print_info(json, "imported key (encrypted at rest)", &info);
        }
        KeysCmd::Export {
            name,
            out,
            unsafe_plaintext,
        } => {
            let kf = ks.load(&name)?;
            if unsafe_plaintext {
                let pass = args
                    .keys
                    .passphrase(&format!("Passphrase for {name}: "), false)?;
                let key = kf.open(&ks.path(&name), pass.as_bytes())?;
                let secret = Zeroizing::new(hex::encode(&*key.to_tagged_bytes()));
                if json {
                    print_json(&json!({
                        "name": name,
                        "suite": key.suite().as_str(),
                        "address": address_of(&key.public_key()).to_string(),
                        "private_key": *secret,
                    }));
                } else {
                    println!("{}", *secret);
                }
            } else if let Some(out) = out {
                write_private_file(&out, kf.to_json().as_bytes())?;
                if json {
                    print_json(&json!({"name": name, "out": out, "encrypted": true}));
                } else {
                    println!(
                        "wrote encrypted key file {} (same passphrase)",
                        out.display()
                    );
                }
            }
        }
    }
    Ok(())
}
