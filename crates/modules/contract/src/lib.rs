//! `contract`: WebAssembly contracts in a sandbox (docs/spec/contracts.md).
//!
//! Code is uploaded in parts (transactions are small), stored once by hash and validated by the
//! VM; `deploy` binds it to a name and runs `instantiate`; `call` runs `execute`; `upgrade`
//! switches a contract to code that alliance governance approved and runs `migrate`; a frozen
//! contract (governance) refuses calls. Every run carries a fuel limit and its fuel is the
//! receipt's `gas_used`; any failure — trap, out of fuel, the contract's own error — discards
//! every write of the transaction, nested calls and bank transfers included.
//!
//! Contracts see the chain through [`host::ChainHost`]: their own storage under
//! `contract/store/<name>/` (ordered, so they can range over it), the caller's certificate
//! identity, block height and time, events, the suite's hash and signatures, calls into other
//! contracts, bank transfers from their own account and notary lookups.

mod host;
mod records;

use std::sync::Arc;

use meridian_crypto::Suite;
use meridian_execution::{Module, ModuleError, StateRead, TxContext};
use meridian_types::{Address, ChainId, Hash32, HashFn};
use meridian_vm::{Entry, Env, RunOutcome, Vm, VmError};

pub use host::CONTRACT_MESSAGE_KIND;
pub use records::*;

/// Stable error codes: the VM's `contract.*` codes plus the module's own.
pub mod codes {
    pub use meridian_vm::codes::*;
    /// A stored record does not decode (never expected).
    pub const CORRUPT: &str = "contract.corrupt";
    /// `deploy`/`upgrade` names code that was never uploaded.
    pub const NO_CODE: &str = "contract.no_code";
    /// An upload part out of order, of the wrong size, or whose bytes do not hash to the
    /// announced code hash.
    pub const BAD_UPLOAD: &str = "contract.bad_upload";
    /// A fuel limit of zero or above [`crate::MAX_FUEL_PER_TX`].
    pub const BAD_FUEL: &str = "contract.bad_fuel";
    /// An event kind that is not 1..=32 bytes of `[a-z0-9_]`.
    pub const BAD_EVENT: &str = "contract.bad_event";
}

/// Native modules contracts reach through host functions.
pub struct Natives {
    /// The bank module, for transfers from a contract's own account.
    pub bank: Arc<dyn Module>,
    /// The interop module, for cross-chain contract calls (`interop_send`); `None` refuses
    /// them with `contract.no_interop`.
    pub interop: Option<Arc<dyn Module>>,
}

/// The `contract` module.
pub struct ContractModule {
    vm: Arc<Vm>,
    suite: Suite,
    natives: Natives,
}

/// Who called, as a contract sees it (spec §7 `Env` caller fields).
struct Caller {
    address: Address,
    org: String,
    cert_id: Option<[u8; 32]>,
    roles: Vec<String>,
}

fn err(code: &str, message: impl Into<String>) -> ModuleError {
    ModuleError::new(code, message)
}

/// The receipt's code and message for a failed run. Contract messages are the contract's
/// own (UTF-8) text: cut on a character boundary to the receipt bound.
fn vm_err(e: &VmError) -> ModuleError {
    let mut message = e.to_string();
    let mut end = message.len().min(meridian_types::MAX_ERROR_MESSAGE_LEN);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message.truncate(end);
    ModuleError::new(e.code().into_owned(), message)
}

impl ContractModule {
    pub fn new(vm: Arc<Vm>, suite: Suite, natives: Natives) -> Self {
        Self { vm, suite, natives }
    }

    /// The VM (shared with queries and tooling).
    pub fn vm(&self) -> &Arc<Vm> {
        &self.vm
    }

    /// The signer's certificate identity, read from the identity module's member records (the
    /// access layer already checked the certificate for this transaction). Empty on an open
    /// chain.
    fn caller(ctx: &TxContext<'_>, address: Address) -> Caller {
        let mut c = Caller {
            address,
            org: String::new(),
            cert_id: None,
            roles: Vec::new(),
        };
        let record = ctx
            .get(&meridian_identity_module::member_key(&address))
            .and_then(|raw| meridian_identity_module::MemberRecord::decode_exact(&raw).ok());
        if let Some(m) = record {
            c.cert_id = Some(m.cert_id);
            if let Ok(cert) = meridian_identity::Certificate::from_der(&m.der) {
                c.org = cert.org().unwrap_or_default().to_string();
                if let Ok(role) = cert.role() {
                    c.roles = vec![role.as_str().to_string()];
                }
            }
        }
        c
    }

    fn env(ctx: &TxContext<'_>, name: &str, caller: Caller) -> Env {
        Env {
            chain_id: ctx.chain_id.as_str().to_string(),
            height: ctx.height,
            time_ms: ctx.time_ms,
            tx_hash: ctx.tx_hash,
            contract: name.to_string(),
            contract_address: contract_address(&host::HashOf(ctx), name).0,
            caller_address: caller.address.0,
            caller_is_contract: false,
            caller_org: caller.org,
            caller_cert_id: caller.cert_id,
            caller_roles: caller.roles,
        }
    }

    fn check_fuel(fuel: u64) -> Result<(), ModuleError> {
        if fuel == 0 || fuel > MAX_FUEL_PER_TX {
            return Err(err(
                codes::BAD_FUEL,
                format!("fuel limit must be 1..={MAX_FUEL_PER_TX}"),
            ));
        }
        Ok(())
    }

    /// Runs `entry` of contract `name` (whose code is `code`) as the outermost frame.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        ctx: &mut TxContext<'_>,
        name: &str,
        code_hash: Hash32,
        code: &[u8],
        entry: Entry,
        msg: &[u8],
        fuel: u64,
        caller: Caller,
    ) -> RunOutcome {
        let env = Self::env(ctx, name, caller);
        let mut frame = host::ChainHost {
            ctx,
            env,
            stack: vec![name.to_string()],
            suite: self.suite,
            natives: &self.natives,
        };
        self.vm.run(code_hash, code, entry, msg, fuel, &mut frame)
    }

    /// Runs and records the fuel in the receipt; a failed run fails the transaction.
    #[allow(clippy::too_many_arguments)]
    fn run_tx(
        &self,
        ctx: &mut TxContext<'_>,
        name: &str,
        code_hash: Hash32,
        code: &[u8],
        entry: Entry,
        msg: &[u8],
        fuel: u64,
    ) -> Result<(), ModuleError> {
        let caller = Self::caller(ctx, ctx.sender);
        let out = self.run(ctx, name, code_hash, code, entry, msg, fuel, caller);
        ctx.set_gas_used(out.fuel_used);
        out.result.map(|_| ()).map_err(|e| vm_err(&e))
    }

    fn upload(
        &self,
        ctx: &mut TxContext<'_>,
        code_hash: Hash32,
        total: u32,
        offset: u32,
        bytes: Vec<u8>,
    ) -> Result<(), ModuleError> {
        let total_len = usize::try_from(total).unwrap_or(usize::MAX);
        if total == 0 || total_len > self.vm.limits().max_code_size {
            return Err(err(
                codes::CODE_TOO_LARGE,
                format!("code must be 1..={} bytes", self.vm.limits().max_code_size),
            ));
        }
        if ctx.get(&code_key(&code_hash)).is_some() {
            // Already stored (by anyone): nothing to do, uploads are idempotent.
            return Ok(());
        }
        let uploader = ctx.sender;
        let key = upload_key(&uploader, &code_hash);
        let progress = match ctx.get(&key) {
            Some(raw) => decode_record::<Upload>(&raw, "upload")?,
            None => Upload { total, received: 0 },
        };
        let part_len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        let fits = progress.total == total
            && offset == progress.received
            && !bytes.is_empty()
            && u64::from(offset) + u64::from(part_len) <= u64::from(total);
        if !fits {
            return Err(err(
                codes::BAD_UPLOAD,
                format!(
                    "expected the part at offset {} of {} bytes",
                    progress.received, progress.total
                ),
            ));
        }
        let received = offset + part_len;
        if received < total {
            ctx.set(upload_part_key(&uploader, &code_hash, offset), bytes)?;
            ctx.set(
                key,
                meridian_types::Encode::encode(&Upload { total, received }),
            )?;
            return Ok(());
        }
        // Last part: assemble, check the hash, validate, store; drop the staging keys.
        let mut code = Vec::with_capacity(total_len);
        let mut at = 0u32;
        while at < offset {
            let part_key = upload_part_key(&uploader, &code_hash, at);
            let part = ctx
                .get(&part_key)
                .ok_or_else(|| err(codes::CORRUPT, "an upload part is missing"))?;
            at += u32::try_from(part.len()).unwrap_or(u32::MAX);
            code.extend_from_slice(&part);
            ctx.delete(part_key)?;
        }
        code.extend_from_slice(&bytes);
        ctx.delete(key)?;
        if ctx.hash(&code) != code_hash {
            return Err(err(
                codes::BAD_UPLOAD,
                "the uploaded bytes do not hash to the announced code hash",
            ));
        }
        self.vm.validate(&code).map_err(|e| vm_err(&e))?;
        ctx.set(code_key(&code_hash), code)?;
        ctx.emit("code_stored", code_hash.to_vec())
    }

    fn deploy(
        &self,
        ctx: &mut TxContext<'_>,
        name: String,
        code_hash: Hash32,
        msg: Vec<u8>,
        fuel: u64,
        allow_reentry: bool,
    ) -> Result<(), ModuleError> {
        check_name(&name)?;
        Self::check_fuel(fuel)?;
        if ctx.get(&meta_key(&name)).is_some() {
            return Err(err(codes::EXISTS, format!("contract {name} exists")));
        }
        let code = ctx.get(&code_key(&code_hash)).ok_or_else(|| {
            err(
                codes::NO_CODE,
                "no code with this hash was uploaded (contract.upload)",
            )
        })?;
        let info = self.vm.validate(&code).map_err(|e| vm_err(&e))?;
        let meta = ContractMeta {
            code_hash,
            creator: ctx.sender,
            deployed_height: ctx.height,
            version: 1,
            allow_reentry,
        };
        ctx.set(meta_key(&name), meridian_types::Encode::encode(&meta))?;
        ctx.emit("deployed", name.as_bytes().to_vec())?;
        if info.has_entry(Entry::Instantiate) {
            self.run_tx(ctx, &name, code_hash, &code, Entry::Instantiate, &msg, fuel)?;
        }
        Ok(())
    }

    fn call(
        &self,
        ctx: &mut TxContext<'_>,
        name: String,
        msg: Vec<u8>,
        fuel: u64,
    ) -> Result<(), ModuleError> {
        Self::check_fuel(fuel)?;
        let (meta, code) =
            host::load_contract(ctx, &name).map_err(|e| ModuleError::new(e.code, e.message))?;
        self.run_tx(
            ctx,
            &name,
            meta.code_hash,
            &code,
            Entry::Execute,
            &msg,
            fuel,
        )
    }

    fn upgrade(
        &self,
        ctx: &mut TxContext<'_>,
        name: String,
        code_hash: Hash32,
        msg: Vec<u8>,
        fuel: u64,
    ) -> Result<(), ModuleError> {
        Self::check_fuel(fuel)?;
        let (mut meta, _) =
            host::load_contract(ctx, &name).map_err(|e| ModuleError::new(e.code, e.message))?;
        let approved = ctx.get(&approved_upgrade_key(&name));
        if approved.as_deref() != Some(&code_hash[..]) {
            return Err(err(
                codes::NOT_APPROVED,
                "alliance governance has not approved this code for this contract",
            ));
        }
        if meta.creator != ctx.sender {
            return Err(err(
                codes::NOT_APPROVED,
                "only the contract's creator carries out an approved upgrade",
            ));
        }
        let code = ctx.get(&code_key(&code_hash)).ok_or_else(|| {
            err(
                codes::NO_CODE,
                "no code with this hash was uploaded (contract.upload)",
            )
        })?;
        let info = self.vm.validate(&code).map_err(|e| vm_err(&e))?;
        meta.code_hash = code_hash;
        meta.version = meta.version.saturating_add(1);
        ctx.set(meta_key(&name), meridian_types::Encode::encode(&meta))?;
        ctx.emit("upgraded", name.as_bytes().to_vec())?;
        if info.has_entry(Entry::Migrate) {
            self.run_tx(ctx, &name, code_hash, &code, Entry::Migrate, &msg, fuel)?;
        }
        Ok(())
    }

    /// Runs contract `name`'s read-only `query` entry point on `state` (the API serves this
    /// against the latest finalized state). Writes are refused by the VM.
    #[allow(clippy::too_many_arguments)]
    pub fn query(
        &self,
        state: &dyn StateRead,
        hash: &dyn HashFn,
        chain_id: &ChainId,
        height: u64,
        time_ms: u64,
        name: &str,
        msg: &[u8],
        fuel: u64,
    ) -> RunOutcome {
        let mut ctx = TxContext::for_query(NAME, state, hash, chain_id, height, time_ms);
        let loaded = host::load_contract(&ctx, name);
        let (meta, code) = match loaded {
            Ok(found) => found,
            Err(e) => {
                return RunOutcome {
                    fuel_used: 0,
                    result: Err(VmError::Host(e)),
                }
            }
        };
        let caller = Caller {
            address: Address([0; 20]),
            org: String::new(),
            cert_id: None,
            roles: Vec::new(),
        };
        self.run(
            &mut ctx,
            name,
            meta.code_hash,
            &code,
            Entry::Query,
            msg,
            fuel,
            caller,
        )
    }
}

impl ContractModule {
    fn load(ctx: &TxContext<'_>, name: &str) -> Result<(ContractMeta, Vec<u8>), ModuleError> {
        host::load_contract(ctx, name).map_err(|e| ModuleError::new(e.code, e.message))
    }

    /// A caller without a certificate identity (a native module's account).
    fn module_caller(address: Address) -> Caller {
        Caller {
            address,
            org: String::new(),
            cert_id: None,
            roles: Vec::new(),
        }
    }
}

/// Cross-chain calls (docs/spec/interop.md §16): the interop module runs the target of an
/// incoming call, and hands acknowledgements to the contract that sent the call. `ctx` is a
/// context of this module whose sender is the interop module's account.
impl meridian_interop_module::ContractRuntime for ContractModule {
    fn execute(
        &self,
        ctx: &mut TxContext<'_>,
        name: &str,
        msg: &[u8],
        fuel: u64,
    ) -> Result<Vec<u8>, ModuleError> {
        let (meta, code) = Self::load(ctx, name)?;
        let caller = Self::module_caller(ctx.sender);
        let out = self.run(
            ctx,
            name,
            meta.code_hash,
            &code,
            Entry::Execute,
            msg,
            fuel,
            caller,
        );
        out.result.map_err(|e| vm_err(&e))
    }

    fn interop_ack(
        &self,
        ctx: &mut TxContext<'_>,
        name: &str,
        channel: &str,
        sequence: u64,
        target: &str,
        msg: &[u8],
        outcome: &meridian_interop_module::CallOutcome,
        fuel: u64,
    ) -> Result<bool, ModuleError> {
        let (meta, code) = Self::load(ctx, name)?;
        let info = self.vm.validate(&code).map_err(|e| vm_err(&e))?;
        if !info.has_entry(Entry::InteropAck) {
            return Ok(false);
        }
        let outcome = match outcome {
            meridian_interop_module::CallOutcome::Success(d) => {
                meridian_vm::InteropOutcome::Success(d.clone())
            }
            meridian_interop_module::CallOutcome::Error(e) => {
                meridian_vm::InteropOutcome::Error(e.clone())
            }
            meridian_interop_module::CallOutcome::Timeout => meridian_vm::InteropOutcome::Timeout,
        };
        let input = meridian_vm::InteropAck {
            channel: channel.to_string(),
            sequence,
            target: target.to_string(),
            msg: msg.to_vec(),
            outcome,
        }
        .encode();
        let caller = Self::module_caller(ctx.sender);
        let out = self.run(
            ctx,
            name,
            meta.code_hash,
            &code,
            Entry::InteropAck,
            &input,
            fuel,
            caller,
        );
        out.result.map(|_| true).map_err(|e| vm_err(&e))
    }
}

impl Module for ContractModule {
    fn name(&self) -> &'static str {
        NAME
    }

    fn execute(
        &self,
        ctx: &mut TxContext<'_>,
        method: &str,
        args: &[u8],
    ) -> Result<(), ModuleError> {
        match ContractCall::decode(method, args)? {
            ContractCall::Upload {
                code_hash,
                total,
                offset,
                bytes,
            } => self.upload(ctx, code_hash, total, offset, bytes),
            ContractCall::Deploy {
                name,
                code_hash,
                msg,
                fuel,
                allow_reentry,
            } => self.deploy(ctx, name, code_hash, msg, fuel, allow_reentry),
            ContractCall::Call { name, msg, fuel } => self.call(ctx, name, msg, fuel),
            ContractCall::Upgrade {
                name,
                code_hash,
                msg,
                fuel,
            } => self.upgrade(ctx, name, code_hash, msg, fuel),
        }
    }
}

#[cfg(test)]
mod tests;
