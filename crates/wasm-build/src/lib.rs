//! Builds Rust contracts to `wasm32-unknown-unknown` with the machine's cargo.
//!
//! Used by `meridian contract build` and by every test that runs real contracts, so both build
//! them the same way: release, size-optimised, LTO, stripped, in a target directory of their
//! own (a nested cargo must not wait on the lock of the cargo that runs the tests). A missing
//! wasm target is an error that says how to install it — tests fail rather than skip.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The contract target triple.
pub const TARGET: &str = "wasm32-unknown-unknown";

/// Profile settings for contracts: small modules (they are uploaded in transactions and
/// parsed by every validator) and no debug sections.
const PROFILE: &[&str] = &[
    "profile.release.opt-level=\"z\"",
    "profile.release.lto=true",
    "profile.release.codegen-units=1",
    "profile.release.debug=false",
    "profile.release.strip=true",
    "profile.release.panic=\"abort\"",
];

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot run cargo: {0}")]
    Spawn(std::io::Error),
    #[error(
        "cargo build --target {TARGET} failed (is the target installed? \
         `rustup target add {TARGET}`):\n{0}"
    )]
    Failed(String),
    #[error("cargo built no {0}")]
    Missing(PathBuf),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What to build: a cargo manifest (a contract project, or the workspace) and its packages.
pub struct Build<'a> {
    pub manifest: &'a Path,
    /// `-p` packages; empty builds the manifest's own package.
    pub packages: &'a [&'a str],
    pub target_dir: &'a Path,
}

impl Build<'_> {
    /// Runs cargo and returns the directory holding the `.wasm` files.
    pub fn run(&self) -> Result<PathBuf, BuildError> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.arg("build")
            .arg("--release")
            .arg("--target")
            .arg(TARGET)
            .arg("--manifest-path")
            .arg(self.manifest);
        for p in self.packages {
            cmd.arg("-p").arg(p);
        }
        for c in PROFILE {
            cmd.arg("--config").arg(c);
        }
        // Settings of an outer cargo (e.g. `cargo test` sets these) must not leak in.
        cmd.env("CARGO_TARGET_DIR", self.target_dir)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_RUSTFLAGS");
        let out = cmd.output().map_err(BuildError::Spawn)?;
        if !out.status.success() {
            return Err(BuildError::Failed(
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ));
        }
        Ok(self.target_dir.join(TARGET).join("release"))
    }
}

/// Reads `dir/<crate name with - as _>.wasm`.
pub fn read_wasm(dir: &Path, package: &str) -> Result<Vec<u8>, BuildError> {
    let path = dir.join(format!("{}.wasm", package.replace('-', "_")));
    if !path.exists() {
        return Err(BuildError::Missing(path));
    }
    std::fs::read(&path).map_err(|source| BuildError::Read { path, source })
}

/// The workspace's example contracts, built once per process (tests share them).
pub fn example(package: &str) -> Vec<u8> {
    static DIR: OnceLock<Mutex<Option<PathBuf>>> = OnceLock::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let lock = DIR.get_or_init(|| Mutex::new(None));
    let mut dir = lock.lock().unwrap_or_else(|p| p.into_inner());
    if dir.is_none() {
        let built = Build {
            manifest: &root.join("Cargo.toml"),
            packages: EXAMPLES,
            target_dir: &root.join("target").join("contracts"),
        }
        .run();
        match built {
            Ok(d) => *dir = Some(d),
            Err(e) => panic!("{e}"),
        }
    }
    let d = dir.clone().unwrap_or_default();
    match read_wasm(&d, package) {
        Ok(code) => code,
        Err(e) => panic!("{e}"),
    }
}

/// Every example contract package (built together by [`example`]).
pub const EXAMPLES: &[&str] = &[
    "contract-counter",
    "contract-token",
    "contract-letter-of-credit",
    "contract-traceability",
    "contract-securitisation",
    "contract-data-market",
];
