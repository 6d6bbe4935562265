//! Encrypted key files.
//!
//! A key file is a small JSON document: the public parts in the clear (name, suite, public key,
//! address) so `keys list` needs no passphrase, and the private key sealed with the chain
//! suite's AEAD (SM4-GCM on `sm`, AES-256-GCM on `intl`) under a key that argon2id derives from
//! the passphrase. The argon2 parameters and salt live in the file so they can be raised later
//! without breaking old files; they are bounded on read so a hostile file cannot make us
//! allocate gigabytes.
//!
//! What the AEAD authenticates besides the secret (its associated data): the format version,
//! suite, public key and every KDF parameter. Changing any of them makes opening fail, and the
//! decrypted key must still derive the stored public key. The name is *not* bound, so a file
//! can be renamed on import without re-encrypting.
//!
//! The plaintext key exists only in memory (zeroized on drop); files are created `0600` inside a
//! `0700` directory, with `create_new` so an existing key is never overwritten.
//!
//! **Raw key files.** Keys that are not account keys — a certificate authority's signing key, an
//! ECDSA P-256 certificate key — are sealed with [`KeyFile::seal_bytes`] and opened with
//! [`KeyFile::open_bytes`]: the same format, KDF and AEAD, plus an `algorithm` label (e.g.
//! `sm2-sm3`, `ecdsa-p256-sha256`), no `address`, and the raw secret bytes as plaintext. The
//! associated data of a raw file starts with a different prefix and binds the label, so a raw
//! file cannot be passed off as an account key file (or relabelled) without opening failing.
//! Account key files are unchanged (they have no `algorithm` field). The keystore holds account
//! keys only: [`KeyFile::validate`] refuses raw files with a message saying what they are.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use meridian_crypto::{open, seal, PrivateKey, PublicKey, Suite, SymmetricKey};
use meridian_node::ChainHash;
use meridian_types::Address;
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{ClientError, Result};

/// Current key-file format.
pub const KEYFILE_VERSION: u32 = 1;
/// Environment variable that overrides the default key directory.
pub const KEYS_DIR_ENV: &str = "MERIDIAN_KEYS_DIR";
/// Environment variable a script can use to pass the passphrase.
pub const PASSPHRASE_ENV: &str = "MERIDIAN_PASSPHRASE";

const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
/// Bounds accepted when *reading* a file (1 GiB memory, 64 passes, 16 lanes).
const MAX_M_COST_KIB: u32 = 1024 * 1024;
const MAX_T_COST: u32 = 64;
const MAX_P_COST: u32 = 16;
/// Largest secret [`KeyFile::seal_bytes`] accepts (and largest public key it stores).
pub const MAX_RAW_SECRET_LEN: usize = 128;
/// Longest algorithm label of a raw key file.
pub const MAX_ALGORITHM_LABEL_LEN: usize = 32;

/// argon2id cost parameters, stored in every key file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Passes over memory.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane: about a quarter of a second per unlock on a laptop core — cheap
    /// for a CLI, expensive for a guessing attack (RFC 9106's second recommended option).
    fn default() -> Self {
        Self {
            m_cost_kib: 64 * 1024,
            t_cost: 3,
            p_cost: 1,
        }
    }
}

impl KdfParams {
    /// The minimum argon2 allows. Only for tests: it protects nothing.
    pub fn insecure_for_tests() -> Self {
        Self {
            m_cost_kib: 8,
            t_cost: 1,
            p_cost: 1,
        }
    }

    fn check(&self) -> std::result::Result<(), String> {
        if self.m_cost_kib > MAX_M_COST_KIB || self.t_cost > MAX_T_COST || self.p_cost > MAX_P_COST
        {
            return Err(format!(
                "kdf parameters out of bounds (m_cost_kib <= {MAX_M_COST_KIB}, t_cost <= \
                 {MAX_T_COST}, p_cost <= {MAX_P_COST})"
            ));
        }
        Params::new(self.m_cost_kib, self.t_cost, self.p_cost, None)
            .map(|_| ())
            .map_err(|e| format!("kdf parameters: {e}"))
    }
}

/// The `kdf` section of a key file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfSection {
    /// Always `argon2id`.
    pub algorithm: String,
    /// Argon2 version (19 = 0x13).
    pub version: u32,
    #[serde(flatten)]
    pub params: KdfParams,
    /// Hex.
    pub salt: String,
}

/// The `cipher` section of a key file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CipherSection {
    /// `sm4-gcm` or `aes-256-gcm` (follows the suite).
    pub algorithm: String,
    /// Hex, 12 bytes.
    pub nonce: String,
    /// Hex: sealed suite-tagged private key followed by the 16-byte tag.
    pub ciphertext: String,
}

/// One key file, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFile {
    pub version: u32,
    pub name: String,
    /// `sm` or `intl`.
    pub suite: String,
    /// Raw key files only ([`KeyFile::seal_bytes`]): what the sealed bytes are, e.g. `sm2-sm3`.
    /// Absent in account key files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// Hex of the suite encoding of the public key (raw files: the bytes the caller gave).
    pub public_key: String,
    /// `0x` + 40 hex: the account address on a chain of this suite (empty, and not written, in
    /// raw key files).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    pub kdf: KdfSection,
    pub cipher: CipherSection,
}

/// Public facts about a stored key (no passphrase needed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub name: String,
    pub suite: String,
    pub public_key: String,
    pub address: String,
    pub path: PathBuf,
}

fn cipher_name(suite: Suite) -> &'static str {
    match suite {
        Suite::Sm => "sm4-gcm",
        Suite::Intl => "aes-256-gcm",
    }
}

/// The address of `public_key` on a chain of its suite.
pub fn address_of(public_key: &PublicKey) -> Address {
    Address::from_public_key(&ChainHash(public_key.suite()), public_key.as_bytes())
}

fn derive(
    suite: Suite,
    params: &KdfParams,
    passphrase: &[u8],
    salt: &[u8],
) -> std::result::Result<SymmetricKey, String> {
    let p = Params::new(
        params.m_cost_kib,
        params.t_cost,
        params.p_cost,
        Some(SymmetricKey::len_for(suite)),
    )
    .map_err(|e| e.to_string())?;
    let mut out = Zeroizing::new(vec![0u8; SymmetricKey::len_for(suite)]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, p)
        .hash_password_into(passphrase, salt, &mut out)
        .map_err(|e| e.to_string())?;
    SymmetricKey::from_bytes(suite, &out).map_err(|e| e.to_string())
}

impl KeyFile {
    /// The associated data: everything an attacker could change to weaken or redirect the file.
    /// Raw files use a different prefix and also bind the algorithm label.
    fn aad(&self) -> Vec<u8> {
        let prefix = match &self.algorithm {
            None => "meridian-keyfile".to_string(),
            Some(label) => format!("meridian-keyfile-raw|{label}"),
        };
        format!(
            "{prefix}|v{}|{}|{}|{}|v{}|m{}|t{}|p{}|{}|{}",
            self.version,
            self.suite,
            self.public_key,
            self.kdf.algorithm,
            self.kdf.version,
            self.kdf.params.m_cost_kib,
            self.kdf.params.t_cost,
            self.kdf.params.p_cost,
            self.kdf.salt,
            self.cipher.algorithm,
        )
        .into_bytes()
    }

    /// Builds a file around `plaintext` (the one KDF + AEAD path for both kinds of file).
    #[allow(clippy::too_many_arguments)]
    fn seal_inner(
        name: &str,
        suite: Suite,
        algorithm: Option<String>,
        public_key: String,
        address: String,
        plaintext: &[u8],
        passphrase: &[u8],
        params: KdfParams,
    ) -> Result<KeyFile> {
        if passphrase.is_empty() {
            return Err(ClientError::NoPassphrase(
                "the passphrase must not be empty".into(),
            ));
        }
        params.check().map_err(ClientError::BadInput)?;
        let mut rng = rand::rng();
        let mut salt = [0u8; SALT_LEN];
        rng.fill_bytes(&mut salt);
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let mut file = KeyFile {
            version: KEYFILE_VERSION,
            name: name.to_string(),
            suite: suite.to_string(),
            algorithm,
            public_key,
            address,
            kdf: KdfSection {
                algorithm: "argon2id".into(),
                version: 0x13,
                params,
                salt: hex::encode(salt),
            },
            cipher: CipherSection {
                algorithm: cipher_name(suite).into(),
                nonce: hex::encode(nonce),
                ciphertext: String::new(),
            },
        };
        let sym = derive(suite, &params, passphrase, &salt).map_err(ClientError::BadInput)?;
        let sealed = seal(&sym, &nonce, &file.aad(), plaintext)
            .map_err(|e| ClientError::BadInput(format!("encryption failed: {e}")))?;
        file.cipher.ciphertext = hex::encode(sealed);
        Ok(file)
    }

    /// Encrypts `key` under `passphrase`.
    pub fn seal(
        name: &str,
        key: &PrivateKey,
        passphrase: &[u8],
        params: KdfParams,
    ) -> Result<KeyFile> {
        let public = key.public_key();
        Self::seal_inner(
            name,
            key.suite(),
            None,
            hex::encode(public.as_bytes()),
            address_of(&public).to_string(),
            &key.to_tagged_bytes(),
            passphrase,
            params,
        )
    }

    /// Encrypts raw key bytes that are not a [`PrivateKey`] (a CA signing key, a P-256 key, ...)
    /// with the same KDF and AEAD as account keys. `suite` picks the cipher (SM4-GCM for `sm`,
    /// AES-256-GCM for `intl`); `algorithm` (1-32 of `a-z 0-9 - _ .`) says what the bytes are and
    /// is authenticated; `public_key` (at most [`MAX_RAW_SECRET_LEN`] bytes, may be empty) is
    /// stored in the clear and authenticated, for the caller to check after opening.
    pub fn seal_bytes(
        name: &str,
        suite: Suite,
        algorithm: &str,
        public_key: &[u8],
        secret: &[u8],
        passphrase: &[u8],
        params: KdfParams,
    ) -> Result<KeyFile> {
        check_label(algorithm).map_err(ClientError::BadInput)?;
        if secret.is_empty() || secret.len() > MAX_RAW_SECRET_LEN {
            return Err(ClientError::BadInput(format!(
                "a raw secret must be 1-{MAX_RAW_SECRET_LEN} bytes, not {}",
                secret.len()
            )));
        }
        if public_key.len() > MAX_RAW_SECRET_LEN {
            return Err(ClientError::BadInput(format!(
                "a raw public key must be at most {MAX_RAW_SECRET_LEN} bytes, not {}",
                public_key.len()
            )));
        }
        Self::seal_inner(
            name,
            suite,
            Some(algorithm.to_string()),
            hex::encode(public_key),
            String::new(),
            secret,
            passphrase,
            params,
        )
    }

    /// Whether this is a raw key file ([`KeyFile::seal_bytes`]) rather than an account key.
    pub fn is_raw(&self) -> bool {
        self.algorithm.is_some()
    }

    /// Shape and bounds shared by both kinds of file; returns the suite.
    fn check_common(&self, path: &Path) -> Result<Suite> {
        let bad = |m: String| ClientError::KeyFileInvalid {
            path: path.to_path_buf(),
            message: m,
        };
        if self.version != KEYFILE_VERSION {
            return Err(bad(format!(
                "unsupported version {} (this build reads {KEYFILE_VERSION})",
                self.version
            )));
        }
        let suite: Suite = self
            .suite
            .parse()
            .map_err(|_| bad(format!("unknown suite {:?}", self.suite)))?;
        if self.kdf.algorithm != "argon2id" || self.kdf.version != 0x13 {
            return Err(bad("kdf must be argon2id version 19".into()));
        }
        self.kdf.params.check().map_err(bad)?;
        if self.cipher.algorithm != cipher_name(suite) {
            return Err(bad(format!(
                "cipher {} does not belong to suite {suite}",
                self.cipher.algorithm
            )));
        }
        let salt = hex::decode(&self.kdf.salt).map_err(|_| bad("salt is not hex".into()))?;
        if salt.len() < 8 || salt.len() > 64 {
            return Err(bad("salt must be 8-64 bytes".into()));
        }
        let nonce = hex::decode(&self.cipher.nonce).map_err(|_| bad("nonce is not hex".into()))?;
        if nonce.len() != NONCE_LEN {
            return Err(bad("nonce must be 12 bytes".into()));
        }
        let ct = hex::decode(&self.cipher.ciphertext)
            .map_err(|_| bad("ciphertext is not hex".into()))?;
        if ct.len() > 256 {
            return Err(bad("ciphertext too long".into()));
        }
        Ok(suite)
    }

    /// Checks the file's shape and bounds (no passphrase needed); returns its public key.
    /// Raw key files ([`KeyFile::seal_bytes`]) are refused: they are not account keys.
    pub fn validate(&self, path: &Path) -> Result<PublicKey> {
        let bad = |m: String| ClientError::KeyFileInvalid {
            path: path.to_path_buf(),
            message: m,
        };
        let suite = self.check_common(path)?;
        if let Some(label) = &self.algorithm {
            return Err(bad(format!(
                "this file holds a raw {label:?} key (e.g. a certificate authority key), not an \
                 account key; it cannot be used or imported as one"
            )));
        }
        let pk_raw =
            hex::decode(&self.public_key).map_err(|_| bad("public_key is not hex".into()))?;
        let pk =
            PublicKey::from_bytes(suite, &pk_raw).map_err(|e| bad(format!("public_key: {e}")))?;
        if address_of(&pk).to_string() != self.address {
            return Err(bad("address does not match the public key".into()));
        }
        Ok(pk)
    }

    /// Checks a raw key file's shape and bounds (no passphrase needed); returns its algorithm
    /// label and stored public key bytes. Account key files are refused.
    pub fn validate_bytes(&self, path: &Path) -> Result<(String, Vec<u8>)> {
        self.validate_raw(path).map(|(_, label, pk)| (label, pk))
    }

    fn validate_raw(&self, path: &Path) -> Result<(Suite, String, Vec<u8>)> {
        let bad = |m: String| ClientError::KeyFileInvalid {
            path: path.to_path_buf(),
            message: m,
        };
        let suite = self.check_common(path)?;
        let Some(label) = &self.algorithm else {
            return Err(bad(
                "this is an account key file (no `algorithm` field), not a raw key file".into(),
            ));
        };
        check_label(label).map_err(bad)?;
        if !self.address.is_empty() {
            return Err(bad("a raw key file has no address".into()));
        }
        let pk = hex::decode(&self.public_key).map_err(|_| bad("public_key is not hex".into()))?;
        if pk.len() > MAX_RAW_SECRET_LEN {
            return Err(bad("public_key too long".into()));
        }
        Ok((suite, label.clone(), pk))
    }

    /// Derives the key and opens the AEAD (fields already validated).
    fn decrypt(&self, path: &Path, suite: Suite, passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        // check_common() checked the hex fields.
        let salt = hex::decode(&self.kdf.salt).unwrap_or_default();
        let nonce = hex::decode(&self.cipher.nonce).unwrap_or_default();
        let ct = hex::decode(&self.cipher.ciphertext).unwrap_or_default();
        let sym = derive(suite, &self.kdf.params, passphrase, &salt).map_err(|e| {
            ClientError::KeyFileInvalid {
                path: path.to_path_buf(),
                message: e,
            }
        })?;
        Ok(Zeroizing::new(
            open(&sym, &nonce, &self.aad(), &ct).map_err(|_| ClientError::WrongPassphrase {
                name: self.name.clone(),
            })?,
        ))
    }

    /// Decrypts the private key. A wrong passphrase and a modified file both give
    /// [`ClientError::WrongPassphrase`]: the AEAD tag cannot tell them apart.
    pub fn open(&self, path: &Path, passphrase: &[u8]) -> Result<PrivateKey> {
        let pk = self.validate(path)?;
        let plain = self.decrypt(path, pk.suite(), passphrase)?;
        let key =
            PrivateKey::from_tagged_bytes(&plain).map_err(|e| ClientError::KeyFileInvalid {
                path: path.to_path_buf(),
                message: format!("decrypted key does not parse: {e}"),
            })?;
        if key.public_key() != pk {
            return Err(ClientError::KeyFileInvalid {
                path: path.to_path_buf(),
                message: "decrypted key does not match the stored public key".into(),
            });
        }
        Ok(key)
    }

    /// Decrypts a raw key file's secret bytes. The algorithm label and public key are
    /// authenticated, so after this succeeds [`KeyFile::algorithm`] and the stored public key
    /// are the ones sealed; checking that the secret derives that public key is the caller's
    /// job (this crate does not know every algorithm). Errors as [`KeyFile::open`].
    pub fn open_bytes(&self, path: &Path, passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let (suite, _, _) = self.validate_raw(path)?;
        self.decrypt(path, suite, passphrase)
    }

    /// Parses a key file's JSON.
    pub fn from_json(path: &Path, text: &str) -> Result<KeyFile> {
        serde_json::from_str(text).map_err(|e| ClientError::KeyFileInvalid {
            path: path.to_path_buf(),
            message: format!("not a Meridian key file: {e}"),
        })
    }

    pub fn to_json(&self) -> String {
        // Serializing plain strings and integers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a key file's JSON with a size bound, without validating it.
    fn read_unchecked(path: &Path) -> Result<KeyFile> {
        let meta = fs::metadata(path).map_err(|e| ClientError::io(path, e))?;
        if meta.len() > 64 * 1024 {
            return Err(ClientError::KeyFileInvalid {
                path: path.to_path_buf(),
                message: "file too large for a key file".into(),
            });
        }
        let text = fs::read_to_string(path).map_err(|e| ClientError::io(path, e))?;
        Self::from_json(path, &text)
    }

    /// Reads and validates an account key file from anywhere on disk.
    pub fn read(path: &Path) -> Result<KeyFile> {
        let file = Self::read_unchecked(path)?;
        file.validate(path)?;
        Ok(file)
    }

    /// Reads and validates a raw key file ([`KeyFile::seal_bytes`]) from anywhere on disk.
    pub fn read_bytes(path: &Path) -> Result<KeyFile> {
        let file = Self::read_unchecked(path)?;
        file.validate_bytes(path)?;
        Ok(file)
    }

    fn info(&self, path: PathBuf) -> KeyInfo {
        KeyInfo {
            name: self.name.clone(),
            suite: self.suite.clone(),
            public_key: self.public_key.clone(),
            address: self.address.clone(),
            path,
        }
    }
}

/// A raw file's algorithm label: 1-32 of `a-z 0-9 - _ .`.
fn check_label(label: &str) -> std::result::Result<(), String> {
    let ok = !label.is_empty()
        && label.len() <= MAX_ALGORITHM_LABEL_LEN
        && label.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid algorithm label {label:?}: use 1-{MAX_ALGORITHM_LABEL_LEN} of a-z 0-9 - _ ."
        ))
    }
}

/// Creates `path` with mode 0600, refusing to overwrite, and writes `contents` durably.
pub fn write_private_file(path: &Path, contents: &[u8]) -> Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| ClientError::io(path, e))?;
    let written = f.write_all(contents).and_then(|()| f.sync_all());
    if let Err(e) = written {
        drop(f);
        let _ = fs::remove_file(path);
        return Err(ClientError::io(path, e));
    }
    Ok(())
}

/// A directory of key files, one `<name>.json` per key.
#[derive(Clone, Debug)]
pub struct Keystore {
    dir: PathBuf,
}

impl Keystore {
    /// A keystore in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// `$MERIDIAN_KEYS_DIR`, else `~/.meridian/keys`.
    pub fn default_dir() -> Result<PathBuf> {
        if let Some(d) = std::env::var_os(KEYS_DIR_ENV).filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(d));
        }
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".meridian").join("keys"))
            .ok_or_else(|| {
                ClientError::BadInput(format!(
                    "HOME is not set: pass --keys-dir or set {KEYS_DIR_ENV}"
                ))
            })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Key names are file names: 1-64 of `[A-Za-z0-9._-]`, not starting with a dot.
    pub fn check_name(name: &str) -> Result<()> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(())
        } else {
            Err(ClientError::BadInput(format!(
                "invalid key name {name:?}: use 1-64 of A-Z a-z 0-9 . _ - (not starting with .)"
            )))
        }
    }

    /// Where key `name` lives.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    fn ensure_dir(&self) -> Result<()> {
        let mut b = fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            b.mode(0o700);
        }
        b.create(&self.dir)
            .map_err(|e| ClientError::io(&self.dir, e))
    }

    /// Stores an already encrypted key file under `name` (validated first; the name inside
    /// the file is replaced, which the AEAD allows).
    pub fn import(&self, name: &str, mut file: KeyFile) -> Result<KeyInfo> {
        Self::check_name(name)?;
        let path = self.path(name);
        file.validate(&path)?;
        file.name = name.to_string();
        if path.exists() {
            return Err(ClientError::KeyExists {
                name: name.into(),
                dir: self.dir.clone(),
            });
        }
        self.ensure_dir()?;
        write_private_file(&path, file.to_json().as_bytes()).map_err(|e| match e {
            ClientError::Io { source, .. }
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                ClientError::KeyExists {
                    name: name.into(),
                    dir: self.dir.clone(),
                }
            }
            e => e,
        })?;
        Ok(file.info(path))
    }

    /// Encrypts and stores `key` as `name`.
    pub fn add(
        &self,
        name: &str,
        key: &PrivateKey,
        passphrase: &[u8],
        params: KdfParams,
    ) -> Result<KeyInfo> {
        Self::check_name(name)?;
        if self.path(name).exists() {
            return Err(ClientError::KeyExists {
                name: name.into(),
                dir: self.dir.clone(),
            });
        }
        let file = KeyFile::seal(name, key, passphrase, params)?;
        self.import(name, file)
    }

    /// Generates a fresh key of `suite` and stores it.
    pub fn generate(
        &self,
        name: &str,
        suite: Suite,
        passphrase: &[u8],
        params: KdfParams,
    ) -> Result<KeyInfo> {
        let key = PrivateKey::generate(suite, &mut rand::rng());
        self.add(name, &key, passphrase, params)
    }

    /// Imports an existing encrypted key file under `name` (it stays encrypted; its passphrase
    /// is unchanged).
    pub fn import_keyfile(&self, name: &str, src: &Path) -> Result<KeyInfo> {
        let file = KeyFile::read(src)?;
        self.import(name, file)
    }

    /// Reads the file of key `name`.
    pub fn load(&self, name: &str) -> Result<KeyFile> {
        Self::check_name(name)?;
        let path = self.path(name);
        if !path.exists() {
            return Err(ClientError::KeyNotFound {
                name: name.into(),
                dir: self.dir.clone(),
            });
        }
        KeyFile::read(&path)
    }

    /// Public facts about key `name`.
    pub fn info(&self, name: &str) -> Result<KeyInfo> {
        Ok(self.load(name)?.info(self.path(name)))
    }

    /// Decrypts key `name`.
    pub fn unlock(&self, name: &str, passphrase: &[u8]) -> Result<PrivateKey> {
        self.load(name)?.open(&self.path(name), passphrase)
    }

    /// Every readable key, sorted by name. Files that do not parse are skipped (and reported
    /// in the second list) rather than hiding the good ones.
    pub fn list(&self) -> Result<(Vec<KeyInfo>, Vec<ClientError>)> {
        let mut keys = Vec::new();
        let mut bad = Vec::new();
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((keys, bad)),
            Err(e) => return Err(ClientError::io(&self.dir, e)),
        };
        for entry in entries {
            let path = entry.map_err(|e| ClientError::io(&self.dir, e))?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match KeyFile::read(&path) {
                Ok(f) => keys.push(f.info(path)),
                Err(e) => bad.push(e),
            }
        }
        keys.sort_by(|a, b| a.name.cmp(&b.name));
        Ok((keys, bad))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> KdfParams {
        KdfParams::insecure_for_tests()
    }

    #[test]
    fn roundtrip_both_suites_and_wrong_passphrase() {
        for suite in Suite::ALL {
            let dir = tempfile::tempdir().unwrap();
            let ks = Keystore::new(dir.path().join("keys"));
            let key = PrivateKey::from_seed(suite, &[7; 32]);
            let info = ks.add("alice", &key, b"correct horse", fast()).unwrap();
            assert_eq!(info.suite, suite.as_str());
            assert_eq!(info.address, address_of(&key.public_key()).to_string());
            let back = ks.unlock("alice", b"correct horse").unwrap();
            assert_eq!(back.public_key(), key.public_key());
            assert_eq!(*back.to_bytes(), *key.to_bytes());
            let err = ks.unlock("alice", b"correct horsf").unwrap_err();
            assert_eq!(err.code(), "keystore.wrong_passphrase");
            assert_eq!(
                ks.unlock("bob", b"x").unwrap_err().code(),
                "keystore.not_found"
            );
            // Never overwrites.
            let err = ks.add("alice", &key, b"other", fast()).unwrap_err();
            assert_eq!(err.code(), "keystore.exists");
            assert_eq!(
                ks.unlock("alice", b"correct horse").unwrap().public_key(),
                key.public_key()
            );
        }
    }

    #[test]
    fn file_holds_no_plaintext_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let ks = Keystore::new(dir.path().join("keys"));
        let key = PrivateKey::from_seed(Suite::Sm, &[9; 32]);
        ks.add("k", &key, b"pw", fast()).unwrap();
        let raw = fs::read(ks.path("k")).unwrap();
        let secret = key.to_bytes();
        let text = String::from_utf8(raw.clone()).unwrap();
        assert!(!text.contains(&hex::encode(*secret)));
        assert!(!text.contains(&hex::encode(&*key.to_tagged_bytes())));
        assert!(!raw.windows(32).any(|w| w == secret.as_slice()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(ks.path("k")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dmode = fs::metadata(ks.dir()).unwrap().permissions().mode();
            assert_eq!(dmode & 0o077, 0, "key dir must be private");
        }
    }

    #[test]
    fn tampering_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let ks = Keystore::new(dir.path());
        let key = PrivateKey::from_seed(Suite::Intl, &[3; 32]);
        ks.add("k", &key, b"pw", fast()).unwrap();
        let good = ks.load("k").unwrap();
        let p = ks.path("k");
        // Weakened KDF parameters are bound by the AAD.
        let mut f = good.clone();
        f.kdf.params.t_cost = 2;
        assert_eq!(
            f.open(&p, b"pw").unwrap_err().code(),
            "keystore.wrong_passphrase"
        );
        // A swapped public key (and matching address) is bound too.
        let mut f = good.clone();
        let other = PrivateKey::from_seed(Suite::Intl, &[4; 32]).public_key();
        f.public_key = hex::encode(other.as_bytes());
        f.address = address_of(&other).to_string();
        assert!(f.open(&p, b"pw").is_err());
        // A flipped ciphertext bit.
        let mut f = good.clone();
        let mut ct = hex::decode(&f.cipher.ciphertext).unwrap();
        ct[0] ^= 1;
        f.cipher.ciphertext = hex::encode(ct);
        assert!(f.open(&p, b"pw").is_err());
        // Hostile parameters are refused before any allocation.
        let mut f = good.clone();
        f.kdf.params.m_cost_kib = u32::MAX;
        assert_eq!(
            f.open(&p, b"pw").unwrap_err().code(),
            "keystore.invalid_file"
        );
        // The name is not bound: a renamed copy still opens.
        let mut f = good;
        f.name = "renamed".into();
        assert!(f.open(&p, b"pw").is_ok());
    }

    #[test]
    fn import_list_and_names() {
        let dir = tempfile::tempdir().unwrap();
        let a = Keystore::new(dir.path().join("a"));
        let b = Keystore::new(dir.path().join("b"));
        let key = PrivateKey::from_seed(Suite::Sm, &[5; 32]);
        a.add("one", &key, b"pw", fast()).unwrap();
        a.generate("two", Suite::Intl, b"pw", fast()).unwrap();
        let info = b.import_keyfile("copy", &a.path("one")).unwrap();
        assert_eq!(info.name, "copy");
        assert_eq!(
            b.unlock("copy", b"pw").unwrap().public_key(),
            key.public_key()
        );
        fs::write(a.dir().join("junk.json"), "{}").unwrap();
        let (keys, bad) = a.list().unwrap();
        let names: Vec<_> = keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["one", "two"]);
        assert_eq!(bad.len(), 1);
        for name in ["", ".hidden", "a/b", "../x", &"x".repeat(65)] {
            assert_eq!(
                a.add(name, &key, b"pw", fast()).unwrap_err().code(),
                "client.bad_input"
            );
        }
        assert_eq!(
            a.add("empty", &key, b"", fast()).unwrap_err().code(),
            "keystore.no_passphrase"
        );
        assert!(Keystore::new(dir.path().join("none"))
            .list()
            .unwrap()
            .0
            .is_empty());
    }

    #[test]
    fn raw_bytes_roundtrip_both_suites() {
        let dir = tempfile::tempdir().unwrap();
        for (suite, label) in [(Suite::Sm, "sm2-sm3"), (Suite::Intl, "ecdsa-p256-sha256")] {
            let secret = [0x5a; 32];
            let public = [0x02; 33];
            let f = KeyFile::seal_bytes("ca.org1", suite, label, &public, &secret, b"pw", fast())
                .unwrap();
            assert!(f.is_raw());
            assert_eq!(f.cipher.algorithm, cipher_name(suite));
            let path = dir.path().join(format!("{label}.key"));
            write_private_file(&path, f.to_json().as_bytes()).unwrap();
            let back = KeyFile::read_bytes(&path).unwrap();
            assert_eq!(back, f);
            let (l, pk) = back.validate_bytes(&path).unwrap();
            assert_eq!((l.as_str(), pk.as_slice()), (label, public.as_slice()));
            assert_eq!(&*back.open_bytes(&path, b"pw").unwrap(), &secret);
            assert_eq!(
                back.open_bytes(&path, b"pX").unwrap_err().code(),
                "keystore.wrong_passphrase"
            );
            // No plaintext, no address field, private file.
            let text = fs::read_to_string(&path).unwrap();
            assert!(!text.contains(&hex::encode(secret)));
            assert!(!text.contains("address"));
            assert!(text.contains(&format!("\"algorithm\": \"{label}\"")));
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = fs::metadata(&path).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600);
            }
        }
    }

    #[test]
    fn raw_and_account_files_do_not_mix() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        let raw =
            KeyFile::seal_bytes("ca", Suite::Sm, "sm2-sm3", &[], &[1; 32], b"pw", fast()).unwrap();
        // A raw file is not an account key: refused by open/read/import with a clear message.
        let err = raw.open(&p, b"pw").unwrap_err();
        assert_eq!(err.code(), "keystore.invalid_file");
        assert!(err.to_string().contains("raw \"sm2-sm3\" key"), "{err}");
        let ks = Keystore::new(dir.path().join("keys"));
        assert_eq!(
            ks.import("ca", raw.clone()).unwrap_err().code(),
            "keystore.invalid_file"
        );
        // Stripping the label to pass it off as an account file, or relabelling it, breaks
        // the AEAD (the prefix and label are bound).
        let mut f = raw.clone();
        f.algorithm = Some("ed25519".into());
        assert_eq!(
            f.open_bytes(&p, b"pw").unwrap_err().code(),
            "keystore.wrong_passphrase"
        );
        let mut f = raw.clone();
        f.public_key = hex::encode([9u8; 33]);
        assert_eq!(
            f.open_bytes(&p, b"pw").unwrap_err().code(),
            "keystore.wrong_passphrase"
        );
        let mut f = raw.clone();
        f.algorithm = None;
        assert!(f.open(&p, b"pw").is_err());
        assert_eq!(
            f.open_bytes(&p, b"pw").unwrap_err().code(),
            "keystore.invalid_file"
        );
        // An account file is not a raw file.
        let key = PrivateKey::from_seed(Suite::Intl, &[2; 32]);
        let acct = KeyFile::seal("a", &key, b"pw", fast()).unwrap();
        assert_eq!(
            acct.open_bytes(&p, b"pw").unwrap_err().code(),
            "keystore.invalid_file"
        );
        // Bad inputs.
        for label in ["", "SM2", "a b", &"x".repeat(33)] {
            assert_eq!(
                KeyFile::seal_bytes("k", Suite::Sm, label, &[], &[1], b"pw", fast())
                    .unwrap_err()
                    .code(),
                "client.bad_input",
                "{label:?}"
            );
        }
        for secret in [&[][..], &[1u8; 129][..]] {
            assert_eq!(
                KeyFile::seal_bytes("k", Suite::Sm, "x", &[], secret, b"pw", fast())
                    .unwrap_err()
                    .code(),
                "client.bad_input"
            );
        }
        assert_eq!(
            KeyFile::seal_bytes("k", Suite::Sm, "x", &[], &[1], b"", fast())
                .unwrap_err()
                .code(),
            "keystore.no_passphrase"
        );
    }

    #[test]
    fn account_file_format_is_unchanged() {
        // A file written before raw files existed (no `algorithm`) still reads and opens, and
        // re-serializes without the new field.
        let key = PrivateKey::from_seed(Suite::Sm, &[6; 32]);
        let f = KeyFile::seal("old", &key, b"pw", fast()).unwrap();
        let json = f.to_json();
        assert!(!json.contains("null"));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "address",
                "cipher",
                "kdf",
                "name",
                "public_key",
                "suite",
                "version"
            ]
        );
        let p = Path::new("old.json");
        let back = KeyFile::from_json(p, &json).unwrap();
        assert_eq!(back.open(p, b"pw").unwrap().public_key(), key.public_key());
    }

    #[test]
    fn default_params_are_accepted() {
        KdfParams::default().check().unwrap();
    }
}
