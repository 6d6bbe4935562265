//! Calls, stored records and state keys of the `contract` module (docs/spec/contracts.md §1–2).

use meridian_execution::ModuleError;
use meridian_types::{
    decode_exact, Address, Call, CodecError, Decode, Encode, Hash32, HashFn, Reader, Writer,
    MAX_CALL_ARGS_LEN,
};

use crate::codes;

/// Module name and key prefix.
pub const NAME: &str = "contract";
/// Longest contract name.
pub const MAX_NAME_LEN: usize = 48;
/// Names a contract may not take: native modules and reserved words.
pub const RESERVED_NAMES: &[&str] = &[
    "bank", "notary", "identity", "contract", "auth", "chain", "system",
];
/// Largest contract code (the VM checks the same bound before parsing).
pub const MAX_CODE_LEN: usize = 512 * 1024;
/// Largest fuel limit a transaction may set.
pub const MAX_FUEL_PER_TX: u64 = 5_000_000_000;
/// Largest message passed to an entry point (bounded by the call's args anyway).
pub const MAX_MSG_LEN: usize = MAX_CALL_ARGS_LEN;
/// Largest code part of one `upload` transaction (transactions are at most 20 KiB).
pub const MAX_PART_LEN: usize = 15 * 1024;

/// Whether `name` is a valid contract name (`[a-z][a-z0-9_]{0,47}`, not reserved).
pub fn check_name(name: &str) -> Result<(), ModuleError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.as_bytes()[0].is_ascii_lowercase()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !RESERVED_NAMES.contains(&name);
    if ok {
        Ok(())
    } else {
        Err(ModuleError::new(
            codes::BAD_NAME,
            format!("{name:?}: a contract name is [a-z][a-z0-9_]{{0,47}} and not reserved"),
        ))
    }
}

/// The account of contract `name` in the bank: `H("meridian/contract/" || name)[..20]`.
pub fn contract_address(hash: &(impl HashFn + ?Sized), name: &str) -> Address {
    let mut pre = b"meridian/contract/".to_vec();
    pre.extend_from_slice(name.as_bytes());
    let d = hash.hash(&pre);
    let mut a = [0u8; 20];
    a.copy_from_slice(&d[..20]);
    Address(a)
}

/// `contract/code/<hash>` → wasm bytes.
pub fn code_key(code_hash: &Hash32) -> Vec<u8> {
    let mut k = b"contract/code/".to_vec();
    k.extend_from_slice(code_hash);
    k
}

/// `contract/meta/<name>` → [`ContractMeta`].
pub fn meta_key(name: &str) -> Vec<u8> {
    let mut k = b"contract/meta/".to_vec();
    k.extend_from_slice(name.as_bytes());
    k
}

/// Prefix of contract `name`'s own storage: `contract/store/<name>/`.
pub fn store_prefix(name: &str) -> Vec<u8> {
    let mut k = b"contract/store/".to_vec();
    k.extend_from_slice(name.as_bytes());
    k.push(b'/');
    k
}

/// `contract/upload/<uploader>/<code hash>` → [`Upload`] progress; parts under
/// `.../<offset u32 BE>`.
pub fn upload_key(uploader: &Address, code_hash: &Hash32) -> Vec<u8> {
    let mut k = b"contract/upload/".to_vec();
    k.extend_from_slice(&uploader.0);
    k.push(b'/');
    k.extend_from_slice(code_hash);
    k
}

pub fn upload_part_key(uploader: &Address, code_hash: &Hash32, offset: u32) -> Vec<u8> {
    let mut k = upload_key(uploader, code_hash);
    k.push(b'/');
    k.extend_from_slice(&offset.to_be_bytes());
    k
}

/// Governance's decisions about contracts live in the identity module's state.
pub use meridian_identity_module::{
    contract_frozen_key as frozen_key, contract_upgrade_key as approved_upgrade_key,
};

/// What the chain keeps about a deployed contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractMeta {
    pub code_hash: Hash32,
    pub creator: Address,
    pub deployed_height: u64,
    /// 1 at deployment, +1 per upgrade.
    pub version: u32,
    /// Whether a contract already on the call stack may be called again.
    pub allow_reentry: bool,
}

impl Encode for ContractMeta {
    fn encode_to(&self, w: &mut Writer) {
        w.fixed(&self.code_hash);
        self.creator.encode_to(w);
        w.u64(self.deployed_height);
        w.u32(self.version);
        w.bool(self.allow_reentry);
    }
}

impl Decode for ContractMeta {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(ContractMeta {
            code_hash: r.array("meta.code_hash")?,
            creator: Address::decode_from(r)?,
            deployed_height: r.u64("meta.height")?,
            version: r.u32("meta.version")?,
            allow_reentry: r.bool("meta.allow_reentry")?,
        })
    }
}

/// Progress of a code upload: bytes received so far of `total`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    pub total: u32,
    pub received: u32,
}

impl Encode for Upload {
    fn encode_to(&self, w: &mut Writer) {
        w.u32(self.total);
        w.u32(self.received);
    }
}

impl Decode for Upload {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Upload {
            total: r.u32("upload.total")?,
            received: r.u32("upload.received")?,
        })
    }
}

/// The module's calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContractCall {
    /// One part of a code upload (transactions are small; code is up to 512 KiB). Parts come
    /// in order; the last one checks the hash, validates the module and stores the code.
    Upload {
        code_hash: Hash32,
        total: u32,
        offset: u32,
        bytes: Vec<u8>,
    },
    /// Deploy stored code under `name` and run its `instantiate`.
    Deploy {
        name: String,
        code_hash: Hash32,
        msg: Vec<u8>,
        fuel: u64,
        allow_reentry: bool,
    },
    /// Run `name`'s `execute`.
    Call {
        name: String,
        msg: Vec<u8>,
        fuel: u64,
    },
    /// Switch `name` to governance-approved stored code and run its `migrate`.
    Upgrade {
        name: String,
        code_hash: Hash32,
        msg: Vec<u8>,
        fuel: u64,
    },
}

impl ContractCall {
    pub fn method(&self) -> &'static str {
        match self {
            ContractCall::Upload { .. } => "upload",
            ContractCall::Deploy { .. } => "deploy",
            ContractCall::Call { .. } => "call",
            ContractCall::Upgrade { .. } => "upgrade",
        }
    }

    pub fn into_call(self) -> Call {
        let mut w = Writer::new();
        match &self {
            ContractCall::Upload {
                code_hash,
                total,
                offset,
                bytes,
            } => {
                w.fixed(code_hash);
                w.u32(*total);
                w.u32(*offset);
                w.bytes(bytes);
            }
            ContractCall::Deploy {
                name,
                code_hash,
                msg,
                fuel,
                allow_reentry,
            } => {
                w.str(name);
                w.fixed(code_hash);
                w.bytes(msg);
                w.u64(*fuel);
                w.bool(*allow_reentry);
            }
            ContractCall::Call { name, msg, fuel } => {
                w.str(name);
                w.bytes(msg);
                w.u64(*fuel);
            }
            ContractCall::Upgrade {
                name,
                code_hash,
                msg,
                fuel,
            } => {
                w.str(name);
                w.fixed(code_hash);
                w.bytes(msg);
                w.u64(*fuel);
            }
        }
        Call {
            module: NAME.into(),
            method: self.method().into(),
            args: w.into_bytes(),
        }
    }

    /// Decodes `args` of `method` (hostile input: bounded, no trailing bytes).
    pub fn decode(method: &str, args: &[u8]) -> Result<Self, ModuleError> {
        let bad = |e: CodecError| ModuleError::new(codes::BAD_ARGS, e.to_string());
        let mut r = Reader::new(args);
        let call = match method {
            "upload" => ContractCall::Upload {
                code_hash: r.array("upload.code_hash").map_err(bad)?,
                total: r.u32("upload.total").map_err(bad)?,
                offset: r.u32("upload.offset").map_err(bad)?,
                bytes: r.bytes(MAX_PART_LEN, "upload.bytes").map_err(bad)?,
            },
            "deploy" => ContractCall::Deploy {
                name: r.string(MAX_NAME_LEN, "deploy.name").map_err(bad)?,
                code_hash: r.array("deploy.code_hash").map_err(bad)?,
                msg: r.bytes(MAX_MSG_LEN, "deploy.msg").map_err(bad)?,
                fuel: r.u64("deploy.fuel").map_err(bad)?,
                allow_reentry: r.bool("deploy.allow_reentry").map_err(bad)?,
            },
            "call" => ContractCall::Call {
                name: r.string(MAX_NAME_LEN, "call.name").map_err(bad)?,
                msg: r.bytes(MAX_MSG_LEN, "call.msg").map_err(bad)?,
                fuel: r.u64("call.fuel").map_err(bad)?,
            },
            "upgrade" => ContractCall::Upgrade {
                name: r.string(MAX_NAME_LEN, "upgrade.name").map_err(bad)?,
                code_hash: r.array("upgrade.code_hash").map_err(bad)?,
                msg: r.bytes(MAX_MSG_LEN, "upgrade.msg").map_err(bad)?,
                fuel: r.u64("upgrade.fuel").map_err(bad)?,
            },
            other => {
                return Err(ModuleError::new(
                    meridian_execution::codes::UNKNOWN_METHOD,
                    format!("contract has no method {other}"),
                ))
            }
        };
        r.finish().map_err(bad)?;
        Ok(call)
    }
}

/// Decodes a stored record, mapping corruption to a stable code.
pub fn decode_record<T: Decode>(raw: &[u8], what: &str) -> Result<T, ModuleError> {
    decode_exact(raw).map_err(|e| ModuleError::new(codes::CORRUPT, format!("{what}: {e}")))
}
