//! [`ChainHost`]: the VM's view of the chain during one contract run.
//!
//! Each frame of a contract call stack is its own `ChainHost` over its own [`TxContext`]: a
//! nested call runs on a child context of the caller's, whose writes (storage, bank transfers,
//! events) are kept only if the callee succeeds — so a failing callee reverts exactly its own
//! effects and the caller may recover (spec §6 `call_contract`).

use meridian_crypto::{Domain, PublicKey, SigningKind, Suite};
use meridian_execution::TxContext;
use meridian_types::{Address, Hash32};
use meridian_vm::{codes as vm_codes, Entry, Env, HostError, NotaryRecord, Vm, VmError};

use crate::records::{
    code_key, contract_address, decode_record, frozen_key, meta_key, store_prefix, ContractMeta,
    NAME,
};
use crate::Natives;

/// Signing kind of messages a contract verifies with `verify_signature` (spec §6).
pub const CONTRACT_MESSAGE_KIND: u8 = 0x90;

/// One frame of a contract call stack.
pub(crate) struct ChainHost<'c, 'a> {
    pub(crate) ctx: &'c mut TxContext<'a>,
    pub(crate) env: Env,
    /// Names of the contracts on the stack, outermost first, this one last.
    pub(crate) stack: Vec<String>,
    pub(crate) suite: Suite,
    pub(crate) natives: &'c Natives,
}

fn host_err(e: meridian_execution::ModuleError) -> HostError {
    HostError::new(e.code, e.message)
}

impl ChainHost<'_, '_> {
    fn key(&self, key: &[u8]) -> Vec<u8> {
        let mut k = store_prefix(&self.env.contract);
        k.extend_from_slice(key);
        k
    }

    fn address(&self) -> Address {
        Address(self.env.contract_address)
    }
}

/// The meta record and code of `name`, refusing a frozen contract.
pub(crate) fn load_contract(
    ctx: &TxContext<'_>,
    name: &str,
) -> Result<(ContractMeta, Vec<u8>), HostError> {
    let meta: ContractMeta = match ctx.get(&meta_key(name)) {
        Some(raw) => decode_record(&raw, "contract meta").map_err(host_err)?,
        None => {
            return Err(HostError::new(
                vm_codes::NOT_FOUND,
                format!("no contract named {name:?}"),
            ))
        }
    };
    if ctx.get(&frozen_key(name)).is_some() {
        return Err(HostError::new(
            vm_codes::FROZEN,
            format!("contract {name} is frozen by governance"),
        ));
    }
    let code = ctx
        .get(&code_key(&meta.code_hash))
        .ok_or_else(|| HostError::new(crate::codes::CORRUPT, "the contract's code is missing"))?;
    Ok((meta, code))
}

impl meridian_vm::Host for ChainHost<'_, '_> {
    fn env(&self) -> &Env {
        &self.env
    }

    fn storage_get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, HostError> {
        Ok(self.ctx.get(&self.key(key)))
    }

    fn storage_set(&mut self, key: &[u8], value: &[u8]) -> Result<(), HostError> {
        let k = self.key(key);
        self.ctx.set(k, value.to_vec()).map_err(host_err)
    }

    fn storage_remove(&mut self, key: &[u8]) -> Result<(), HostError> {
        let k = self.key(key);
        self.ctx.delete(k).map_err(host_err)
    }

    fn storage_range(
        &mut self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: u32,
        descending: bool,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, HostError> {
        let prefix = store_prefix(&self.env.contract);
        let from = self.key(start);
        let to = match end {
            Some(end) => self.key(end),
            // The first key after every key with this prefix: the prefix ends in '/', so
            // bumping that byte to '0' bounds the contract's whole key space.
            None => {
                let mut k = prefix.clone();
                if let Some(last) = k.last_mut() {
                    *last += 1;
                }
                k
            }
        };
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(self
            .ctx
            .range(&from, &to, limit, descending)
            .into_iter()
            .map(|(k, v)| (k[prefix.len()..].to_vec(), v))
            .collect())
    }

    fn emit_event(&mut self, kind: &str, data: &[u8]) -> Result<(), HostError> {
        let ok = !kind.is_empty()
            && kind.len() <= 32
            && kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(HostError::new(
                crate::codes::BAD_EVENT,
                "an event kind is 1..=32 bytes of [a-z0-9_]",
            ));
        }
        let kind = format!("{}.{kind}", self.env.contract);
        self.ctx.emit(&kind, data.to_vec()).map_err(host_err)
    }

    fn hash(&self, data: &[u8]) -> [u8; 32] {
        self.ctx.hash(data)
    }

    fn verify_signature(&self, public_key: &[u8], msg: &[u8], signature: &[u8]) -> bool {
        let Ok(domain) = Domain::new(
            self.ctx.chain_id.as_str(),
            SigningKind::Other(CONTRACT_MESSAGE_KIND),
        ) else {
            return false;
        };
        PublicKey::from_bytes(self.suite, public_key)
            .and_then(|k| k.verify_bytes(&domain, msg, signature))
            .is_ok()
    }

    fn call_contract(
        &mut self,
        vm: &Vm,
        name: &str,
        msg: &[u8],
        fuel: u64,
    ) -> Result<(Vec<u8>, u64), (HostError, u64)> {
        let depth_limit = vm.limits().max_call_depth;
        if self.stack.len() >= usize::try_from(depth_limit).unwrap_or(usize::MAX) {
            let e = VmError::CallDepth { limit: depth_limit };
            return Err((HostError::from(&e), 0));
        }
        let (meta, code) = load_contract(self.ctx, name).map_err(|e| (e, 0))?;
        if self.stack.iter().any(|n| n == name) && !meta.allow_reentry {
            let e = VmError::Reentrancy {
                contract: name.to_string(),
            };
            return Err((HostError::from(&e), 0));
        }
        let callee_address = contract_address(&HashOf(self.ctx), name);
        let env = Env {
            chain_id: self.env.chain_id.clone(),
            height: self.env.height,
            time_ms: self.env.time_ms,
            tx_hash: self.env.tx_hash,
            contract: name.to_string(),
            contract_address: callee_address.0,
            caller_address: self.env.contract_address,
            caller_is_contract: true,
            caller_org: String::new(),
            caller_cert_id: None,
            caller_roles: Vec::new(),
        };
        let mut stack = self.stack.clone();
        stack.push(name.to_string());
        let mut child = self.ctx.child(NAME, self.address());
        let outcome = {
            let mut callee = ChainHost {
                ctx: &mut child,
                env,
                stack,
                suite: self.suite,
                natives: self.natives,
            };
            vm.run(
                meta.code_hash,
                &code,
                Entry::Execute,
                msg,
                fuel,
                &mut callee,
            )
        };
        let effects = child.into_outcome();
        match outcome.result {
            Ok(data) => {
                self.ctx
                    .absorb(effects)
                    .map_err(|e| (host_err(e), outcome.fuel_used))?;
                Ok((data, outcome.fuel_used))
            }
            // The callee's effects are dropped with `effects`.
            Err(e) => Err((HostError::from(&e), outcome.fuel_used)),
        }
    }

    fn bank_transfer(&mut self, to: [u8; 20], asset: &str, amount: u128) -> Result<(), HostError> {
        let call = meridian_bank::BankCall::Transfer {
            symbol: asset.to_string(),
            to: Address(to),
            amount,
        }
        .into_call();
        let sender = self.address();
        self.ctx
            .call_module(self.natives.bank.as_ref(), sender, &call.method, &call.args)
            .map_err(host_err)
    }

    fn bank_balance(&mut self, addr: [u8; 20], asset: &str) -> Result<u128, HostError> {
        let raw = self
            .ctx
            .get(&meridian_bank::balance_key(asset, &Address(addr)));
        meridian_bank::decode_balance(raw.as_deref())
            .map_err(|e| HostError::new(crate::codes::CORRUPT, e.to_string()))
    }

    fn notary_get(&mut self, doc_hash: [u8; 32]) -> Result<Option<Vec<u8>>, HostError> {
        let doc: Hash32 = doc_hash;
        let Some(raw) = self.ctx.get(&meridian_notary::record_key(&doc)) else {
            return Ok(None);
        };
        let rec = meridian_notary::decode_record(&raw)
            .map_err(|e| HostError::new(crate::codes::CORRUPT, e.to_string()))?;
        Ok(Some(
            NotaryRecord {
                owner: rec.owner.0,
                height: rec.height,
                time_ms: rec.timestamp_ms,
                meta: rec.metadata,
            }
            .encode(),
        ))
    }

    fn interop_send(
        &mut self,
        channel: &str,
        target: &str,
        msg: &[u8],
        timeout_height: u64,
        timeout_timestamp_ms: u64,
    ) -> Result<u64, HostError> {
        let Some(interop) = self.natives.interop.as_ref() else {
            return Err(HostError::new(
                vm_codes::NO_INTEROP,
                "this chain has no interop module",
            ));
        };
        let call = meridian_interop_module::InteropCall::SendContractCall {
            channel: channel.to_string(),
            source_contract: self.env.contract.clone(),
            target_contract: target.to_string(),
            msg: msg.to_vec(),
            timeout_height,
            timeout_timestamp_ms,
        }
        .into_call();
        // As the contract's own account: the interop module checks it is the source's.
        let sender = self.address();
        self.ctx
            .call_module(interop.as_ref(), sender, &call.method, &call.args)
            .map_err(host_err)?;
        meridian_interop_module::contract_call::last_sent_sequence(self.ctx, channel)
            .map_err(host_err)
    }
}

/// The chain's hash function as seen through a context (for address derivation).
pub(crate) struct HashOf<'x, 'a>(pub(crate) &'x TxContext<'a>);

impl meridian_types::HashFn for HashOf<'_, '_> {
    fn hash(&self, data: &[u8]) -> Hash32 {
        self.0.hash(data)
    }
}
