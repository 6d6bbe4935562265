//! In-memory [`Host`] for the VM tests: BTreeMap storage scoped by contract, an event log, a
//! contract registry whose `call_contract` re-enters the same [`Vm`] with a call stack that
//! refuses reentrancy and depth > `max_call_depth`, and reverts a failed callee's writes.

#![allow(dead_code)]

use std::collections::BTreeMap;

use meridian_vm::{Entry, Env, Host, HostError, NotaryRecord, RunOutcome, Vm, VmError};

/// Every host import of spec §6, so each test module links against all of them.
pub const IMPORTS: &str = r#"
  (import "meridian" "input_len" (func $input_len (result i32)))
  (import "meridian" "input_read" (func $input_read (param i32)))
  (import "meridian" "set_return" (func $set_return (param i32 i32)))
  (import "meridian" "set_error" (func $set_error (param i32 i32 i32 i32)))
  (import "meridian" "buffer_read" (func $buffer_read (param i32)))
  (import "meridian" "buffer_len" (func $buffer_len (result i32)))
  (import "meridian" "env" (func $env (result i32)))
  (import "meridian" "storage_get" (func $storage_get (param i32 i32) (result i32)))
  (import "meridian" "storage_set" (func $storage_set (param i32 i32 i32 i32)))
  (import "meridian" "storage_remove" (func $storage_remove (param i32 i32)))
  (import "meridian" "storage_range" (func $storage_range (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "meridian" "emit_event" (func $emit_event (param i32 i32 i32 i32)))
  (import "meridian" "hash" (func $hash (param i32 i32 i32)))
  (import "meridian" "verify_signature" (func $verify_signature (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "meridian" "call_contract" (func $call_contract (param i32 i32 i32 i32 i64) (result i32)))
  (import "meridian" "bank_transfer" (func $bank_transfer (param i32 i32 i32 i32) (result i32)))
  (import "meridian" "bank_balance" (func $bank_balance (param i32 i32 i32 i32)))
  (import "meridian" "notary_get" (func $notary_get (param i32) (result i32)))
  (import "meridian" "abort" (func $abort (param i32 i32)))
"#;

/// A module with all imports, a 1-page exported memory and `body`.
pub fn contract(body: &str) -> Vec<u8> {
    contract_with_memory(r#"(memory (export "memory") 1)"#, body)
}

/// A module with all imports, the given memory declaration and `body`.
pub fn contract_with_memory(memory: &str, body: &str) -> Vec<u8> {
    wat(&format!("(module {IMPORTS} {memory} {body})"))
}

pub fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap_or_else(|e| panic!("bad test wat: {e}\n{text}"))
}

/// Test stand-in for the suite hash (the VM only uses it as a cache key).
pub fn fake_hash(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (lane, chunk) in out.chunks_mut(8).enumerate() {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ (lane as u64);
        for b in data {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        chunk.copy_from_slice(&h.to_le_bytes());
    }
    out
}

pub fn address_of(name: &str) -> [u8; 20] {
    let mut a = [0u8; 20];
    a.copy_from_slice(&fake_hash(format!("meridian/contract/{name}").as_bytes())[..20]);
    a
}

pub struct Deployed {
    pub code: Vec<u8>,
    pub hash: [u8; 32],
    pub allow_reentry: bool,
}

#[derive(Default)]
pub struct World {
    pub contracts: BTreeMap<String, Deployed>,
    /// (contract, key) → value.
    pub storage: BTreeMap<(String, Vec<u8>), Vec<u8>>,
    /// (contract, kind, data).
    pub events: Vec<(String, String, Vec<u8>)>,
    pub balances: BTreeMap<([u8; 20], String), u128>,
    pub notary: BTreeMap<[u8; 32], NotaryRecord>,
    /// Call stack: one Env per running contract, top-level first.
    pub envs: Vec<Env>,
    /// Makes `storage_get` fail (host error propagation test).
    pub broken_storage: bool,
}

pub fn env_for(name: &str, caller: [u8; 20], caller_is_contract: bool) -> Env {
    Env {
        chain_id: "meridian-test".into(),
        height: 42,
        time_ms: 1_700_000_000_000,
        tx_hash: [7; 32],
        contract: name.into(),
        contract_address: address_of(name),
        caller_address: caller,
        caller_is_contract,
        caller_org: if caller_is_contract {
            String::new()
        } else {
            "org1".into()
        },
        caller_cert_id: (!caller_is_contract).then_some([9; 32]),
        caller_roles: if caller_is_contract {
            vec![]
        } else {
            vec!["member".into()]
        },
    }
}

pub const SIGNER: [u8; 20] = [0xaa; 20];

impl World {
    pub fn deploy(&mut self, name: &str, code: Vec<u8>, allow_reentry: bool) {
        let hash = fake_hash(&code);
        self.contracts.insert(
            name.into(),
            Deployed {
                code,
                hash,
                allow_reentry,
            },
        );
    }

    /// A top-level call by [`SIGNER`] (no revert: tests look at raw VM behaviour).
    pub fn run(
        &mut self,
        vm: &Vm,
        name: &str,
        entry: Entry,
        input: &[u8],
        fuel: u64,
    ) -> RunOutcome {
        let (hash, code) = {
            let c = &self.contracts[name];
            (c.hash, c.code.clone())
        };
        self.envs.push(env_for(name, SIGNER, false));
        let out = vm.run(hash, &code, entry, input, fuel, self);
        self.envs.pop();
        out
    }

    pub fn get(&self, contract: &str, key: &[u8]) -> Option<&Vec<u8>> {
        self.storage.get(&(contract.to_string(), key.to_vec()))
    }

    fn current(&self) -> String {
        self.env().contract.clone()
    }
}

impl Host for World {
    fn env(&self) -> &Env {
        self.envs.last().expect("a contract is running")
    }

    fn storage_get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, HostError> {
        if self.broken_storage {
            return Err(HostError::new("test.storage_broken", "disk on fire"));
        }
        Ok(self.storage.get(&(self.current(), key.to_vec())).cloned())
    }

    fn storage_set(&mut self, key: &[u8], value: &[u8]) -> Result<(), HostError> {
        self.storage
            .insert((self.current(), key.to_vec()), value.to_vec());
        Ok(())
    }

    fn storage_remove(&mut self, key: &[u8]) -> Result<(), HostError> {
        self.storage.remove(&(self.current(), key.to_vec()));
        Ok(())
    }

    fn storage_range(
        &mut self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: u32,
        descending: bool,
    ) -> Result<Vec<meridian_vm::StorageEntry>, HostError> {
        let me = self.current();
        let mut all: Vec<_> = self
            .storage
            .iter()
            .filter(|((c, k), _)| {
                *c == me && k.as_slice() >= start && end.is_none_or(|e| k.as_slice() < e)
            })
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect();
        if descending {
            all.reverse();
        }
        all.truncate(limit as usize);
        Ok(all)
    }

    fn emit_event(&mut self, kind: &str, data: &[u8]) -> Result<(), HostError> {
        self.events
            .push((self.current(), kind.into(), data.to_vec()));
        Ok(())
    }

    fn hash(&self, data: &[u8]) -> [u8; 32] {
        fake_hash(data)
    }

    fn verify_signature(&self, public_key: &[u8], msg: &[u8], signature: &[u8]) -> bool {
        // Test rule: a "signature" is valid iff it equals pk ‖ msg.
        signature == [public_key, msg].concat()
    }

    fn call_contract(
        &mut self,
        vm: &Vm,
        name: &str,
        msg: &[u8],
        fuel: u64,
    ) -> Result<(Vec<u8>, u64), (HostError, u64)> {
        let limit = vm.limits().max_call_depth;
        if self.envs.len() > limit as usize {
            return Err((HostError::from(&VmError::CallDepth { limit }), 0));
        }
        let Some(callee) = self.contracts.get(name) else {
            return Err((HostError::new("contract.not_found", name), 0));
        };
        if !callee.allow_reentry && self.envs.iter().any(|e| e.contract == name) {
            let e = VmError::Reentrancy {
                contract: name.into(),
            };
            return Err((HostError::from(&e), 0));
        }
        let (hash, code) = (callee.hash, callee.code.clone());
        let caller = self.env().contract_address;
        let snapshot = (self.storage.clone(), self.events.len());
        self.envs.push(env_for(name, caller, true));
        let out = vm.run(hash, &code, Entry::Execute, msg, fuel, self);
        self.envs.pop();
        match out.result {
            Ok(data) => Ok((data, out.fuel_used)),
            Err(e) => {
                self.storage = snapshot.0;
                self.events.truncate(snapshot.1);
                Err((HostError::from(&e), out.fuel_used))
            }
        }
    }

    fn bank_transfer(&mut self, to: [u8; 20], asset: &str, amount: u128) -> Result<(), HostError> {
        let from = self.env().contract_address;
        let have = self
            .balances
            .get(&(from, asset.to_string()))
            .copied()
            .unwrap_or(0);
        if have < amount {
            return Err(HostError::new("bank.insufficient_funds", "not enough"));
        }
        self.balances.insert((from, asset.into()), have - amount);
        *self.balances.entry((to, asset.into())).or_default() += amount;
        Ok(())
    }

    fn bank_balance(&mut self, addr: [u8; 20], asset: &str) -> Result<u128, HostError> {
        Ok(self
            .balances
            .get(&(addr, asset.to_string()))
            .copied()
            .unwrap_or(0))
    }

    fn notary_get(&mut self, doc_hash: [u8; 32]) -> Result<Option<Vec<u8>>, HostError> {
        Ok(self.notary.get(&doc_hash).map(NotaryRecord::encode))
    }
}

/// The code of a length-prefixed `CallError` at the start of `bytes`.
pub fn call_error_code(bytes: &[u8]) -> String {
    let len = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
    String::from_utf8(bytes[4..4 + len].to_vec()).unwrap()
}

pub fn err(out: &RunOutcome) -> &VmError {
    out.result.as_ref().expect_err("run should fail")
}
