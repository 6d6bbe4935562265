//! Two regional chains in one process: each with real JMT state (`meridian_storage`), the real
//! executor and modules (bank, contract with the wasm VM, interop — wired together as the
//! node wires them), headers signed by its validator keys with real
//! finalization certificates. Only consensus is replaced (every validator signs every block);
//! the relaying is done by the test, as an untrusted relayer would: it copies headers, proofs
//! and packets, and the chains verify everything.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use meridian_bank::{balance_key, Bank, BankCall};
use meridian_crypto::finality::testing::sign_finalization;
use meridian_crypto::{PrivateKey, Suite};
use meridian_execution::{BlockEnv, ExecMode, Executor, Module, StateRead, TxAuthenticator};
use meridian_interop::{HeaderUpdate, Packet, SignedHeader, ValidatorSetProof};
use meridian_interop_module::{InteropCall, InteropEvent, InteropModule};
use meridian_storage::{BlockCommit, HashKind, Store};
use meridian_types::{
    merkle_root, Address, Call, ChainId, Encode, Event, Hash32, HashFn, Header, Receipt, SignedTx,
    TxBody, ValidatorEntry, ValidatorSet, VALIDATORS_KEY,
};

pub const T0: u64 = 1_700_000_000_000;
pub const HOUR: u64 = 3_600_000;

struct AcceptAll;
impl TxAuthenticator for AcceptAll {
    fn authenticate(&self, _: &SignedTx, _: &Hash32) -> bool {
        true
    }
}

#[derive(Clone, Copy)]
pub struct SuiteHash(pub Suite);
impl HashFn for SuiteHash {
    fn hash(&self, d: &[u8]) -> Hash32 {
        self.0.hash(d).0
    }
}

struct Snapshot<'a>(&'a Store);
impl StateRead for Snapshot<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get_latest(key).expect("read")
    }
    fn range(&self, _: &[u8], _: &[u8], _: usize, _: bool) -> Vec<(Vec<u8>, Vec<u8>)> {
        Vec::new()
    }
}

pub struct Region {
    pub chain_id: ChainId,
    pub suite: Suite,
    pub epoch_blocks: u64,
    pub validators: Vec<PrivateKey>,
    store: Store,
    _dir: tempfile::TempDir,
    exec: Executor,
    headers: Vec<SignedHeader>,
    pub time_ms: u64,
    nonces: BTreeMap<Vec<u8>, u64>,
    /// Genesis lists organisations: gated interop calls need a governance approval.
    pub governed: bool,
    /// The contract module (also serves queries).
    pub contracts: Arc<meridian_contract::ContractModule>,
}

/// The modules of a region, wired as the node wires them (crates/node/src/ledger.rs): the
/// contract module sends through the interop module, which runs contracts through a weak
/// handle on the contract module.
fn modules(suite: Suite) -> (Executor, Arc<meridian_contract::ContractModule>) {
    let bank: Arc<dyn Module> = Arc::new(Bank);
    let mut interop: Option<Arc<dyn Module>> = None;
    let contracts = Arc::new_cyclic(
        |weak: &std::sync::Weak<meridian_contract::ContractModule>| {
            let runtime: std::sync::Weak<dyn meridian_interop_module::ContractRuntime> =
                weak.clone();
            let module: Arc<dyn Module> =
                Arc::new(InteropModule::new(suite).with_contracts(runtime));
            interop = Some(module.clone());
            meridian_contract::ContractModule::new(
                Arc::new(meridian_vm::Vm::new(meridian_vm::VmLimits::default())),
                suite,
                meridian_contract::Natives {
                    bank: bank.clone(),
                    interop: Some(module),
                },
            )
        },
    );
    let exec = Executor::new(vec![bank, contracts.clone(), interop.expect("interop")]);
    (exec, contracts)
}

pub fn user(i: u8) -> Vec<u8> {
    vec![i; 33]
}

impl Region {
    pub fn new(chain_id: &str, suite: Suite, seed: u8) -> Self {
        Self::with_genesis(chain_id, suite, seed, Vec::new())
    }

    pub fn with_genesis(
        chain_id: &str,
        suite: Suite,
        seed: u8,
        mut genesis: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) -> Self {
        let governed = genesis
            .iter()
            .any(|(k, v)| k == meridian_identity_module::ORGS_KEY.as_bytes() && v.is_some());
        let validators: Vec<_> = (0..4u8)
            .map(|i| PrivateKey::from_seed(suite, &[seed.wrapping_add(i); 32]))
            .collect();
        let set = ValidatorSet(
            validators
                .iter()
                .enumerate()
                .map(|(i, k)| ValidatorEntry {
                    name: format!("v{i}"),
                    public_key: k.public_key().as_bytes().to_vec(),
                })
                .collect(),
        );
        genesis.push((VALIDATORS_KEY.to_vec(), Some(set.encode())));
        let dir = tempfile::tempdir().unwrap();
        let kind = match suite {
            Suite::Sm => HashKind::Sm3,
            Suite::Intl => HashKind::Sha256,
        };
        let store = Store::open(dir.path(), kind).unwrap();
        let state = store.prepare(None, 0, genesis).unwrap();
        let chain_id = ChainId::new(chain_id).unwrap();
        let header = Header {
            chain_id: chain_id.clone(),
            height: 0,
            parent: [0; 32],
            timestamp_ms: T0,
            view: 0,
            proposer: Vec::new(),
            tx_root: [0; 32],
            receipts_root: [0; 32],
            state_root: state.root(),
        };
        store
            .commit(BlockCommit {
                height: 0,
                block_hash: suite.hash(&header.encode()).0,
                block: header.encode(),
                certificate: Vec::new(),
                txs: Vec::new(),
                receipts: Vec::new(),
                state,
            })
            .unwrap();
        let (exec, contracts) = modules(suite);
        Self {
            chain_id,
            suite,
            epoch_blocks: 1_000_000,
            validators,
            store,
            _dir: dir,
            exec,
            headers: vec![SignedHeader {
                header,
                certificate: Vec::new(),
            }],
            time_ms: T0,
            nonces: BTreeMap::new(),
            governed,
            contracts,
        }
    }

    /// A region whose genesis lists one organisation (alliance governance is on).
    pub fn governed(chain_id: &str, suite: Suite, seed: u8) -> Self {
        let orgs = meridian_identity_module::OrgList {
            orgs: vec!["org1".into()],
        };
        Self::with_genesis(
            chain_id,
            suite,
            seed,
            vec![(
                meridian_identity_module::ORGS_KEY.as_bytes().to_vec(),
                Some(orgs.encode()),
            )],
        )
    }

    pub fn hash(&self) -> SuiteHash {
        SuiteHash(self.suite)
    }

    pub fn addr(&self, key: &[u8]) -> Address {
        Address::from_public_key(&self.hash(), key)
    }

    pub fn height(&self) -> u64 {
        self.headers.len() as u64 - 1
    }

    /// Executes `calls` (sender key, call) in one block `advance_ms` after the last one.
    pub fn block(&mut self, calls: Vec<(Vec<u8>, Call)>, advance_ms: u64) -> Vec<Receipt> {
        self.block_with_writes(calls, advance_ms, Vec::new())
    }

    /// An empty block whose time is at least `time_ms` (a block's time never goes back).
    pub fn catch_up(&mut self, time_ms: u64) {
        let advance = time_ms.saturating_sub(self.time_ms).max(1000);
        self.block(vec![], advance);
    }

    /// The key a passed `identity` proposal `ApproveCall` writes for `call` on this chain
    /// (module `interop`, the call's method, the suite hash of its canonical arguments).
    pub fn approval_key(&self, call: &InteropCall) -> Vec<u8> {
        let args_hash = self.hash().hash(&call.approval_bytes());
        meridian_identity_module::approved_call_key("interop", call.method(), &args_hash)
    }

    /// Governance approves `call` (what a passed `ApproveCall` proposal writes), in a block of
    /// its own.
    pub fn approve(&mut self, call: &InteropCall) {
        let key = self.approval_key(call);
        self.block_with_writes(vec![], 1000, vec![(key, Some(vec![1]))]);
    }

    /// A call that may need governance: approved first on a governed chain, then sent; it
    /// must succeed.
    pub fn gated(&mut self, sender: &[u8], call: InteropCall) -> Vec<Event> {
        if self.governed && call.needs_approval() {
            self.approve(&call);
        }
        self.ok(sender, call.into_call())
    }

    /// As [`Region::block`], with `extra` state writes applied after the transactions (as if
    /// another module, e.g. governance, had written them in this block).
    pub fn block_with_writes(
        &mut self,
        calls: Vec<(Vec<u8>, Call)>,
        advance_ms: u64,
        extra: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) -> Vec<Receipt> {
        let height = self.height() + 1;
        self.time_ms += advance_ms;
        let txs: Vec<SignedTx> = calls
            .into_iter()
            .map(|(sender, call)| {
                let nonce = self.nonces.entry(sender.clone()).or_default();
                let tx = SignedTx {
                    body: TxBody {
                        chain_id: self.chain_id.clone(),
                        sender,
                        nonce: *nonce,
                        expiry_height: u64::MAX,
                        call,
                    },
                    signature: vec![],
                };
                *nonce += 1;
                tx
            })
            .collect();
        let env = BlockEnv {
            chain_id: self.chain_id.clone(),
            height,
            time_ms: self.time_ms,
        };
        let hash = self.hash();
        let out = self
            .exec
            .execute_block(
                &hash,
                &AcceptAll,
                &Snapshot(&self.store),
                &env,
                txs,
                ExecMode::Propose,
            )
            .expect("propose never fails");
        assert!(out.dropped.is_empty(), "dropped: {:?}", out.dropped);
        let mut writes: BTreeMap<Vec<u8>, Option<Vec<u8>>> = out.writes.into_iter().collect();
        writes.extend(extra);
        let writes: Vec<_> = writes.into_iter().collect();
        let state = self.store.prepare(None, height, writes).unwrap();
        let parent = self
            .suite
            .hash(&self.headers[height as usize - 1].header.encode())
            .0;
        let receipt_hashes: Vec<Hash32> = out
            .receipts
            .iter()
            .map(|r| hash.hash(&r.encode()))
            .collect();
        let header = Header {
            chain_id: self.chain_id.clone(),
            height,
            parent,
            timestamp_ms: self.time_ms,
            view: height,
            proposer: Vec::new(),
            tx_root: out.tx_root,
            receipts_root: merkle_root(&hash, &receipt_hashes),
            state_root: state.root(),
        };
        let digest = self.suite.hash(&header.encode()).0;
        let all: Vec<usize> = (0..self.validators.len()).collect();
        let certificate = sign_finalization(
            self.chain_id.as_str(),
            &self.validators,
            &all,
            height,
            digest,
        );
        self.store
            .commit(BlockCommit {
                height,
                block_hash: digest,
                block: header.encode(),
                certificate: certificate.clone(),
                txs: Vec::new(),
                receipts: Vec::new(),
                state,
            })
            .unwrap();
        self.headers.push(SignedHeader {
            header,
            certificate,
        });
        out.receipts
    }

    /// One call that must succeed; returns its events.
    pub fn ok(&mut self, sender: &[u8], call: Call) -> Vec<Event> {
        let r = self.block(vec![(sender.to_vec(), call)], 1000).remove(0);
        assert_eq!(r.code, "ok", "{}: {}", r.code, r.message);
        r.events
    }

    /// One call that must fail with `code`; nothing it did is kept.
    pub fn fails(&mut self, sender: &[u8], call: Call, code: &str) {
        let before = self.store.latest_root();
        let r = self.block(vec![(sender.to_vec(), call)], 1000).remove(0);
        assert_eq!(r.code, code, "{}", r.message);
        // Only the sender's nonce moved.
        let _ = before;
    }

    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.store.get_latest(key).unwrap()
    }

    /// Uploads `code` (in parts) and deploys it as `name` with instantiate message `init`.
    pub fn deploy(&mut self, who: &[u8], name: &str, code: &[u8], init: &str) {
        use meridian_contract::{ContractCall, MAX_PART_LEN};
        let code_hash = self.hash().hash(code);
        for (i, chunk) in code.chunks(MAX_PART_LEN).enumerate() {
            self.ok(
                who,
                ContractCall::Upload {
                    code_hash,
                    total: code.len() as u32,
                    offset: (i * MAX_PART_LEN) as u32,
                    bytes: chunk.to_vec(),
                }
                .into_call(),
            );
        }
        self.ok(
            who,
            ContractCall::Deploy {
                name: name.into(),
                code_hash,
                msg: init.as_bytes().to_vec(),
                fuel: 50_000_000,
                allow_reentry: false,
            }
            .into_call(),
        );
    }

    /// The `contract.call` of `name` with JSON `msg`.
    pub fn contract_call(name: &str, msg: &str) -> Call {
        meridian_contract::ContractCall::Call {
            name: name.into(),
            msg: msg.as_bytes().to_vec(),
            fuel: 500_000_000,
        }
        .into_call()
    }

    /// Runs contract `name`'s query with JSON `msg` on the latest state.
    pub fn query(&self, name: &str, msg: &str) -> serde_json::Value {
        let out = self.contracts.query(
            &Snapshot(&self.store),
            &self.hash(),
            &self.chain_id,
            self.height(),
            self.time_ms,
            name,
            msg.as_bytes(),
            100_000_000,
        );
        serde_json::from_slice(&out.result.expect("query")).unwrap()
    }

    pub fn balance(&self, symbol: &str, who: &Address) -> u128 {
        self.get(&balance_key(symbol, who))
            .map(|v| u128::from_be_bytes(v.try_into().unwrap()))
            .unwrap_or(0)
    }

    pub fn supply(&self, symbol: &str) -> u128 {
        self.get(&meridian_bank::asset_key(symbol))
            .map(|raw| {
                meridian_types::decode_exact::<meridian_bank::Asset>(&raw)
                    .unwrap()
                    .supply
            })
            .unwrap_or(0)
    }

    pub fn signed_header(&self, height: u64) -> SignedHeader {
        self.headers[height as usize].clone()
    }

    pub fn update(&self, height: u64) -> HeaderUpdate {
        let next_validators = (height + 1).is_multiple_of(self.epoch_blocks).then(|| {
            let (v, proof) = self.prove(VALIDATORS_KEY, height);
            ValidatorSetProof {
                validators: v.unwrap(),
                proof,
            }
        });
        HeaderUpdate {
            signed: self.signed_header(height),
            next_validators,
        }
    }

    pub fn prove(&self, key: &[u8], height: u64) -> (Option<Vec<u8>>, Vec<u8>) {
        let (v, p) = self.store.get_with_proof(key, height).unwrap();
        (v, p.encode())
    }

    /// The `create_client` call another chain needs to track this one from its latest header.
    pub fn create_client_call(&self) -> InteropCall {
        InteropCall::CreateClient {
            chain_id: self.chain_id.clone(),
            suite: self.suite,
            epoch_blocks: self.epoch_blocks,
            trusting_period_ms: 24 * HOUR,
            max_clock_drift_ms: 10_000,
            validators: self
                .validators
                .iter()
                .map(|k| k.public_key().as_bytes().to_vec())
                .collect(),
            header: self.signed_header(self.height()),
        }
    }
}

pub fn interop_events(events: &[Event]) -> Vec<InteropEvent> {
    events
        .iter()
        .filter(|e| e.module == "interop")
        .map(|e| InteropEvent::decode(&e.kind, &e.data).unwrap())
        .collect()
}

pub fn sent_packets(events: &[Event]) -> Vec<Packet> {
    interop_events(events)
        .into_iter()
        .filter_map(|e| match e {
            InteropEvent::SendPacket(p) => Some(p),
            _ => None,
        })
        .collect()
}

pub const RELAYER: u8 = 200;

/// Brings `dst`'s client `client_id` (tracking `src`) to `src`'s latest height; returns it.
/// The regions' clocks are independent (one second per block each); like real chains they
/// are kept roughly in step: `dst`'s next block is not earlier than `src`'s latest header.
pub fn update_client(src: &Region, dst: &mut Region, client_id: &str) -> u64 {
    let h = src.height();
    dst.time_ms = dst.time_ms.max(src.time_ms.saturating_sub(1000));
    dst.ok(
        &user(RELAYER),
        InteropCall::UpdateClient {
            client_id: client_id.into(),
            update: src.update(h),
        }
        .into_call(),
    );
    h
}

/// Both chains with a client of each other, an open connection and an open unordered (or
/// ordered) transfer channel: `channel-0` on both.
pub struct Link {
    pub a: Region,
    pub b: Region,
}

impl Link {
    pub fn open(ordering: meridian_interop::Ordering) -> Self {
        Self::open_between(
            Region::new("region-a", Suite::Sm, 10),
            Region::new("region-b", Suite::Intl, 50),
            ordering,
        )
    }

    /// As [`Link::open`] between two governed regions: each gated step is approved first.
    pub fn open_governed(ordering: meridian_interop::Ordering) -> Self {
        Self::open_between(
            Region::governed("region-a", Suite::Sm, 10),
            Region::governed("region-b", Suite::Intl, 50),
            ordering,
        )
    }

    pub fn open_between(
        mut a: Region,
        mut b: Region,
        ordering: meridian_interop::Ordering,
    ) -> Self {
        a.block(vec![], 1000);
        b.block(vec![], 1000);
        let r = user(RELAYER);
        let call = b.create_client_call();
        a.gated(&r, call); // client-0 on A tracks B
        let call = a.create_client_call();
        b.gated(&r, call); // client-0 on B tracks A
        a.gated(
            &r,
            InteropCall::ConnOpenInit {
                client_id: "client-0".into(),
                counterparty_client_id: "client-0".into(),
            },
        );
        let h = update_client(&a, &mut b, "client-0");
        let (_, proof) = a.prove(&meridian_interop::paths::connection("connection-0"), h);
        b.gated(
            &r,
            InteropCall::ConnOpenTry {
                client_id: "client-0".into(),
                counterparty_client_id: "client-0".into(),
                counterparty_connection_id: "connection-0".into(),
                proof_height: h,
                proof,
            },
        );
        let h = update_client(&b, &mut a, "client-0");
        let (_, proof) = b.prove(&meridian_interop::paths::connection("connection-0"), h);
        a.ok(
            &r,
            InteropCall::ConnOpenAck {
                connection_id: "connection-0".into(),
                counterparty_connection_id: "connection-0".into(),
                proof_height: h,
                proof,
            }
            .into_call(),
        );
        let h = update_client(&a, &mut b, "client-0");
        let (_, proof) = a.prove(&meridian_interop::paths::connection("connection-0"), h);
        b.ok(
            &r,
            InteropCall::ConnOpenConfirm {
                connection_id: "connection-0".into(),
                proof_height: h,
                proof,
            }
            .into_call(),
        );
        let mut link = Link { a, b };
        link.open_channel("transfer", meridian_interop::transfer::VERSION, ordering);
        link
    }

    /// Opens one more channel on `port` over `connection-0` (A initiates); returns the
    /// channel ids on A and B.
    pub fn open_channel(
        &mut self,
        port: &str,
        version: &str,
        ordering: meridian_interop::Ordering,
    ) -> (String, String) {
        let (a, b) = (&mut self.a, &mut self.b);
        let r = user(RELAYER);
        let next = |region: &Region| {
            let raw = region.get(&meridian_interop::paths::next_id("channel"));
            let n = raw.map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap()));
            format!("channel-{n}")
        };
        let (ca, cb) = (next(a), next(b));
        a.ok(
            &r,
            InteropCall::ChanOpenInit {
                port: port.into(),
                connection_id: "connection-0".into(),
                counterparty_port: port.into(),
                ordering,
                version: version.into(),
            }
            .into_call(),
        );
        let h = update_client(a, b, "client-0");
        let (_, proof) = a.prove(&meridian_interop::paths::channel(port, &ca), h);
        b.ok(
            &r,
            InteropCall::ChanOpenTry {
                port: port.into(),
                connection_id: "connection-0".into(),
                counterparty_port: port.into(),
                counterparty_channel: ca.clone(),
                ordering,
                version: version.into(),
                proof_height: h,
                proof,
            }
            .into_call(),
        );
        let h = update_client(b, a, "client-0");
        let (_, proof) = b.prove(&meridian_interop::paths::channel(port, &cb), h);
        a.ok(
            &r,
            InteropCall::ChanOpenAck {
                port: port.into(),
                channel: ca.clone(),
                counterparty_channel: cb.clone(),
                proof_height: h,
                proof,
            }
            .into_call(),
        );
        let h = update_client(a, b, "client-0");
        let (_, proof) = a.prove(&meridian_interop::paths::channel(port, &ca), h);
        b.ok(
            &r,
            InteropCall::ChanOpenConfirm {
                port: port.into(),
                channel: cb.clone(),
                proof_height: h,
                proof,
            }
            .into_call(),
        );
        (ca, cb)
    }
}

/// Mints `amount` of a native `symbol` on `region` to `who` (issuer: user 1).
pub fn fund(region: &mut Region, symbol: &str, who: &[u8], amount: u128) {
    let issuer = user(1);
    if region.get(&meridian_bank::asset_key(symbol)).is_none() {
        region.ok(
            &issuer,
            BankCall::CreateAsset {
                symbol: symbol.into(),
                decimals: 2,
                max_supply: u128::MAX,
            }
            .into_call(),
        );
    }
    let to = region.addr(who);
    region.ok(
        &issuer,
        BankCall::Mint {
            symbol: symbol.into(),
            to,
            amount,
        }
        .into_call(),
    );
}

/// Relays `packet` from `src` to `dst`: updates `dst`'s client and submits it with a proof.
/// Returns the receipt (not asserted).
pub fn deliver(src: &Region, dst: &mut Region, packet: &Packet) -> Receipt {
    let h = update_client(src, dst, "client-0");
    let (_, proof) = src.prove(
        &meridian_interop::paths::commitment(
            &packet.source_port,
            &packet.source_channel,
            packet.sequence,
        ),
        h,
    );
    dst.block(
        vec![(
            user(RELAYER),
            InteropCall::RecvPacket {
                packet: packet.clone(),
                proof_height: h,
                proof,
            }
            .into_call(),
        )],
        1000,
    )
    .remove(0)
}

/// The acknowledgement `dst` wrote for `packet`, from its events.
pub fn written_ack(events: &[Event]) -> meridian_interop::Acknowledgement {
    interop_events(events)
        .into_iter()
        .find_map(|e| match e {
            InteropEvent::WriteAck { ack, .. } => Some(ack),
            _ => None,
        })
        .expect("write_ack event")
}

/// Relays the acknowledgement of `packet` written on `dst` back to `src`.
pub fn acknowledge(
    src: &mut Region,
    dst: &Region,
    packet: &Packet,
    ack: &meridian_interop::Acknowledgement,
) -> Receipt {
    let h = update_client(dst, src, "client-0");
    let (_, proof) = dst.prove(
        &meridian_interop::paths::ack(&packet.dest_port, &packet.dest_channel, packet.sequence),
        h,
    );
    src.block(
        vec![(
            user(RELAYER),
            InteropCall::Acknowledge {
                packet: packet.clone(),
                ack: ack.clone(),
                proof_height: h,
                proof,
            }
            .into_call(),
        )],
        1000,
    )
    .remove(0)
}

/// Relays a timeout of `packet` (unordered channel: proof that `dst` has no receipt).
pub fn timeout(src: &mut Region, dst: &Region, packet: &Packet) -> Receipt {
    let h = update_client(dst, src, "client-0");
    let (_, proof) = dst.prove(
        &meridian_interop::paths::receipt(&packet.dest_port, &packet.dest_channel, packet.sequence),
        h,
    );
    src.block(
        vec![(
            user(RELAYER),
            InteropCall::Timeout {
                packet: packet.clone(),
                proof_height: h,
                proof,
                next_sequence_recv: 0,
            }
            .into_call(),
        )],
        1000,
    )
    .remove(0)
}
