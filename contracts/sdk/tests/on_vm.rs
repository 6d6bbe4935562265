//! The SDK's wasm side on the real VM: an example contract built for `wasm32-unknown-unknown`
//! runs on `meridian-vm` with a small in-memory host. The native mock host (tests/mock_host.rs)
//! never executes `sys::wasm`, so the import calls themselves — here the return buffer of a
//! status-returning host call, read with `buffer_len` — are only checked this way.

use std::collections::BTreeMap;

use meridian_vm::{Entry, Env, Host, HostError, StorageEntry, Vm};
use sha2::{Digest, Sha256};

const FUEL: u64 = 1_000_000_000;

/// Storage, a bank that reports `balance` for everything and refuses every transfer with
/// `refusal`, no notary, no other contracts.
struct Chain {
    env: Env,
    storage: BTreeMap<Vec<u8>, Vec<u8>>,
    balance: u128,
    refusal: HostError,
    transfers: usize,
}

impl Host for Chain {
    fn env(&self) -> &Env {
        &self.env
    }
    fn storage_get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, HostError> {
        Ok(self.storage.get(key).cloned())
    }
    fn storage_set(&mut self, key: &[u8], value: &[u8]) -> Result<(), HostError> {
        self.storage.insert(key.to_vec(), value.to_vec());
        Ok(())
    }
    fn storage_remove(&mut self, key: &[u8]) -> Result<(), HostError> {
        self.storage.remove(key);
        Ok(())
    }
    fn storage_range(
        &mut self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: u32,
        descending: bool,
    ) -> Result<Vec<StorageEntry>, HostError> {
        let mut all: Vec<StorageEntry> = self
            .storage
            .range(start.to_vec()..)
            .filter(|(k, _)| end.is_none_or(|e| k.as_slice() < e))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if descending {
            all.reverse();
        }
        all.truncate(limit as usize);
        Ok(all)
    }
    fn emit_event(&mut self, _kind: &str, _data: &[u8]) -> Result<(), HostError> {
        Ok(())
    }
    fn hash(&self, data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }
    fn verify_signature(&self, _pk: &[u8], _msg: &[u8], _sig: &[u8]) -> bool {
        false
    }
    fn call_contract(
        &mut self,
        _vm: &Vm,
        name: &str,
        _msg: &[u8],
        _fuel: u64,
    ) -> Result<(Vec<u8>, u64), (HostError, u64)> {
        Err((HostError::new("contract.not_found", name), 0))
    }
    fn bank_transfer(
        &mut self,
        _to: [u8; 20],
        _asset: &str,
        _amount: u128,
    ) -> Result<(), HostError> {
        self.transfers += 1;
        Err(self.refusal.clone())
    }
    fn bank_balance(&mut self, _addr: [u8; 20], _asset: &str) -> Result<u128, HostError> {
        Ok(self.balance)
    }
    fn notary_get(&mut self, _doc_hash: [u8; 32]) -> Result<Option<Vec<u8>>, HostError> {
        Ok(None)
    }
}

fn run(
    vm: &Vm,
    code: &[u8],
    chain: &mut Chain,
    entry: Entry,
    msg: &str,
) -> Result<Vec<u8>, String> {
    let hash = Sha256::digest(code).into();
    vm.run(hash, code, entry, msg.as_bytes(), FUEL, chain)
        .result
        .map_err(|e| e.to_string())
}

#[test]
fn a_refused_bank_transfer_reaches_the_contract_whole() {
    let code = meridian_wasm_build::example("contract-data-market");
    let vm = Vm::default();
    // Long enough that a wrong length (or a fixed-size read) would show, short enough that
    // the contract's own error around it stays under the 64 KiB error limit.
    let detail: String = (0..12_000).map(|i| ["ab", "é", "\0"][i % 3]).collect();
    let mut chain = Chain {
        env: Env {
            chain_id: "test".into(),
            height: 1,
            contract: "market".into(),
            caller_address: [7; 20],
            ..Env::default()
        },
        storage: BTreeMap::new(),
        balance: 100,
        refusal: HostError::new("bank.insufficient_balance", detail.clone()),
        transfers: 0,
    };
    run(&vm, &code, &mut chain, Entry::Instantiate, "{}").unwrap();
    let credit = run(
        &vm,
        &code,
        &mut chain,
        Entry::Execute,
        r#"{"deposit":{"asset":"USD"}}"#,
    )
    .unwrap();
    assert!(String::from_utf8(credit).unwrap().contains(r#""100""#));

    let refused = run(
        &vm,
        &code,
        &mut chain,
        Entry::Execute,
        r#"{"withdraw":{"asset":"USD"}}"#,
    )
    .unwrap_err();
    assert_eq!(chain.transfers, 1);
    assert_eq!(
        refused,
        format!("market.call_failed: bank.insufficient_balance: {detail}")
    );
}
