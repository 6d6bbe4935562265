//! Transaction builders: a key bound to a chain, with its nonce tracked locally.

use std::io::Read as _;
use std::path::Path;

use meridian_bank::{BankCall, MAX_SYMBOL_LEN};
use meridian_contract::{
    upload_key, ContractCall, Upload, MAX_CODE_LEN, MAX_FUEL_PER_TX, MAX_MSG_LEN, MAX_PART_LEN,
};
use meridian_crypto::{Hasher, PrivateKey, Suite};
use meridian_identity_module::governance::MAX_DEADLINE_BLOCKS;
use meridian_identity_module::{Action, IdentityCall, Threshold};
use meridian_node::{sign_tx, ChainHash};
use meridian_notary::{Register, MAX_METADATA_LEN};
use meridian_types::{decode_exact, Address, Call, ChainId, Hash32, SignedTx};

use crate::client::Client;
use crate::error::{ClientError, Result};

/// Blocks a transaction stays valid for after the latest finalized height. Long enough to
/// survive a few slow views, short enough that a lost transaction expires soon.
pub const DEFAULT_EXPIRY_BLOCKS: u64 = 120;

/// What to notarize: the document's bytes (hashed here with the chain's hash) or its hash.
#[derive(Clone, Copy, Debug)]
pub enum Document<'a> {
    Bytes(&'a [u8]),
    Hash(Hash32),
}

/// The document hash a chain of `suite` uses (SM3 or SHA-256 of the bytes).
pub fn document_hash(suite: Suite, bytes: &[u8]) -> Hash32 {
    suite.hash(bytes).0
}

/// Hashes a file in chunks (documents can be larger than memory).
pub fn hash_file(suite: Suite, path: &Path) -> Result<Hash32> {
    let mut f = std::fs::File::open(path).map_err(|e| ClientError::io(path, e))?;
    let mut h = Hasher::new(suite);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf).map_err(|e| ClientError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().0)
}

/// The hash contract code is stored and approved under: the chain suite's hash of the wasm
/// bytes (what `meridian contract build` prints).
pub fn code_hash(suite: Suite, code: &[u8]) -> Hash32 {
    suite.hash(code).0
}

fn check_contract_name(name: &str) -> Result<()> {
    meridian_contract::check_name(name).map_err(|e| ClientError::BadInput(e.message))
}

fn check_fuel(fuel: u64) -> Result<()> {
    if fuel == 0 || fuel > MAX_FUEL_PER_TX {
        return Err(ClientError::BadInput(format!(
            "fuel must be 1..={MAX_FUEL_PER_TX}"
        )));
    }
    Ok(())
}

fn check_msg(msg: &[u8]) -> Result<()> {
    if msg.len() > MAX_MSG_LEN {
        return Err(ClientError::BadInput(format!(
            "the message is {} bytes, at most {MAX_MSG_LEN}",
            msg.len()
        )));
    }
    Ok(())
}

/// Checks an asset symbol the way the bank does, so a typo fails before signing.
pub fn check_symbol(symbol: &str) -> Result<()> {
    let ok = !symbol.is_empty()
        && symbol.len() <= MAX_SYMBOL_LEN
        && symbol
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(ClientError::BadInput(format!(
            "invalid asset symbol {symbol:?}: 1-{MAX_SYMBOL_LEN} of A-Z 0-9"
        )))
    }
}

/// Parses a proposal threshold: `majority`, `two-thirds` (or `2/3`), `all` or `any:N`
/// (N >= 1), the names [`meridian_api::threshold_name`] prints.
pub fn parse_threshold(s: &str) -> Result<Threshold> {
    let t = match s.trim().to_ascii_lowercase().as_str() {
        "majority" => Threshold::Majority,
        "two-thirds" | "two_thirds" | "2/3" => Threshold::TwoThirds,
        "all" => Threshold::All,
        other => match other.strip_prefix("any:").map(str::parse::<u32>) {
            Some(Ok(n)) if n >= 1 => Threshold::AnyN(n),
            _ => {
                return Err(ClientError::BadInput(format!(
                    "threshold {s:?}: use majority, two-thirds, all or any:N (N >= 1)"
                )))
            }
        },
    };
    Ok(t)
}

/// A signing key on one chain.
///
/// The wallet reads its nonce from the chain once (a verified state read) and then counts
/// locally, so several transactions can be in flight without waiting for each to finalize.
/// After a submission fails, call [`Wallet::reset_nonce`] to re-read it.
#[derive(Debug)]
pub struct Wallet {
    key: PrivateKey,
    chain_id: ChainId,
    address: Address,
    next_nonce: Option<u64>,
    /// Validity window in blocks (see [`DEFAULT_EXPIRY_BLOCKS`]).
    pub expiry_blocks: u64,
}

impl Wallet {
    /// A wallet for `chain_id`. Prefer [`Wallet::connect`], which also checks the suite.
    pub fn new(key: PrivateKey, chain_id: ChainId) -> Self {
        let address =
            Address::from_public_key(&ChainHash(key.suite()), key.public_key().as_bytes());
        Self {
            key,
            chain_id,
            address,
            next_nonce: None,
            expiry_blocks: DEFAULT_EXPIRY_BLOCKS,
        }
    }

    /// A wallet for the chain `client` talks to; refuses a key of the other suite.
    pub fn connect(client: &Client, key: PrivateKey) -> Result<Self> {
        let chain = client.chain()?;
        if chain.suite != key.suite() {
            return Err(ClientError::SuiteMismatch {
                key: key.suite().to_string(),
                chain: chain.suite.to_string(),
            });
        }
        Ok(Self::new(key, chain.chain_id))
    }

    pub fn address(&self) -> Address {
        self.address
    }

    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    pub fn chain_id(&self) -> &ChainId {
        &self.chain_id
    }

    /// Uses `nonce` for the next transaction (e.g. when the caller tracks nonces itself).
    pub fn set_nonce(&mut self, nonce: u64) {
        self.next_nonce = Some(nonce);
    }

    /// Forgets the local nonce; the next build reads it from the chain again.
    pub fn reset_nonce(&mut self) {
        self.next_nonce = None;
    }

    /// Signs `call` with explicit nonce and expiry (no node needed).
    pub fn sign(&self, nonce: u64, expiry_height: u64, call: Call) -> SignedTx {
        sign_tx(&self.key, &self.chain_id, nonce, expiry_height, call)
    }

    /// Signs `call` with the next nonce and an expiry `expiry_blocks` after the latest height.
    pub fn build(&mut self, client: &Client, call: Call) -> Result<SignedTx> {
        let nonce = match self.next_nonce {
            Some(n) => n,
            None => client.next_nonce(&self.address)?,
        };
        let height = client.status()?.height;
        let tx = self.sign(nonce, height.saturating_add(self.expiry_blocks), call);
        self.next_nonce = Some(nonce + 1);
        Ok(tx)
    }

    /// Signs `calls` with consecutive nonces and one expiry (`expiry_blocks` after the latest
    /// height, read once): a batch costs one status request, however long.
    pub fn build_batch(&mut self, client: &Client, calls: Vec<Call>) -> Result<Vec<SignedTx>> {
        let nonce = match self.next_nonce {
            Some(n) => n,
            None => client.next_nonce(&self.address)?,
        };
        let expiry = client.status()?.height.saturating_add(self.expiry_blocks);
        let txs: Vec<SignedTx> = calls
            .into_iter()
            .enumerate()
            .map(|(i, call)| self.sign(nonce + i as u64, expiry, call))
            .collect();
        self.next_nonce = Some(nonce + txs.len() as u64);
        Ok(txs)
    }

    /// Creates asset `symbol`; this key becomes its issuer.
    pub fn create_asset(
        &mut self,
        client: &Client,
        symbol: &str,
        decimals: u8,
        max_supply: u128,
    ) -> Result<SignedTx> {
        check_symbol(symbol)?;
        if decimals > meridian_bank::MAX_DECIMALS {
            return Err(ClientError::BadInput(format!(
                "decimals must be at most {}",
                meridian_bank::MAX_DECIMALS
            )));
        }
        let call = BankCall::CreateAsset {
            symbol: symbol.into(),
            decimals,
            max_supply,
        };
        self.build(client, call.into_call())
    }

    /// Mints `amount` of `symbol` to `to` (issuer only).
    pub fn mint(
        &mut self,
        client: &Client,
        symbol: &str,
        to: Address,
        amount: u128,
    ) -> Result<SignedTx> {
        check_symbol(symbol)?;
        let call = BankCall::Mint {
            symbol: symbol.into(),
            to,
            amount,
        };
        self.build(client, call.into_call())
    }

    /// Transfers `amount` of `symbol` to `to`.
    pub fn transfer(
        &mut self,
        client: &Client,
        symbol: &str,
        to: Address,
        amount: u128,
    ) -> Result<SignedTx> {
        check_symbol(symbol)?;
        let call = BankCall::Transfer {
            symbol: symbol.into(),
            to,
            amount,
        };
        self.build(client, call.into_call())
    }

    /// Burns `amount` of `symbol` from this key's balance.
    pub fn burn(&mut self, client: &Client, symbol: &str, amount: u128) -> Result<SignedTx> {
        check_symbol(symbol)?;
        let call = BankCall::Burn {
            symbol: symbol.into(),
            amount,
        };
        self.build(client, call.into_call())
    }

    /// Opens a governance proposal (`identity.propose`; the signer must be an organisation
    /// admin, and its organisation votes yes by proposing). Votes count until
    /// `deadline_blocks` after the block that includes it. The new id is in the receipt:
    /// [`crate::Committed::proposal_id`].
    pub fn propose(
        &mut self,
        client: &Client,
        action: Action,
        threshold: Threshold,
        deadline_blocks: u64,
    ) -> Result<SignedTx> {
        if deadline_blocks == 0 || deadline_blocks > MAX_DEADLINE_BLOCKS {
            return Err(ClientError::BadInput(format!(
                "deadline must be 1..={MAX_DEADLINE_BLOCKS} blocks"
            )));
        }
        if threshold == Threshold::AnyN(0) {
            return Err(ClientError::BadInput(
                "a threshold needs at least one approval (any:1 or more)".into(),
            ));
        }
        let call = IdentityCall::Propose {
            action,
            threshold,
            deadline_blocks,
        };
        self.build(client, call.into_call())
    }

    /// Votes on proposal `id` for the signer's organisation (`identity.vote`; a later vote
    /// replaces the organisation's earlier one). The proposal executes in the block where it
    /// reaches its threshold: [`crate::Committed::proposal_outcome`].
    pub fn vote(&mut self, client: &Client, id: u64, approve: bool) -> Result<SignedTx> {
        self.build(client, IdentityCall::Vote { id, approve }.into_call())
    }

    /// The `contract.upload` transactions that store `code` on chain: parts of at most
    /// [`MAX_PART_LEN`] bytes, in order, with sequential nonces (submit them in order; the
    /// last one validates the code and stores it under [`code_hash`]). What the chain already
    /// has is skipped: no transaction when the code is stored (by anyone), and only the
    /// missing parts when this key's earlier upload of it stopped half-way (both read with
    /// proofs).
    pub fn upload_code(&mut self, client: &Client, code: &[u8]) -> Result<Vec<SignedTx>> {
        if code.is_empty() || code.len() > MAX_CODE_LEN {
            return Err(ClientError::BadInput(format!(
                "contract code is {} bytes; it must be 1..={MAX_CODE_LEN}",
                code.len()
            )));
        }
        let hash = code_hash(self.key.suite(), code);
        if client.code_stored(&hash)?.value {
            return Ok(Vec::new());
        }
        let total = u32::try_from(code.len())
            .map_err(|_| ClientError::BadInput("contract code too large".into()))?;
        let progress = client.state(&upload_key(&self.address, &hash), None)?;
        let start = match progress.value {
            Some(raw) => {
                let u: Upload = decode_exact(&raw)
                    .map_err(|e| ClientError::bad_response(format!("upload progress: {e}")))?;
                if u.total == total && u.received < total {
                    u.received as usize
                } else {
                    0
                }
            }
            None => 0,
        };
        let nonce = match self.next_nonce {
            Some(n) => n,
            None => client.next_nonce(&self.address)?,
        };
        let expiry = client.status()?.height.saturating_add(self.expiry_blocks);
        let txs: Vec<SignedTx> = code[start..]
            .chunks(MAX_PART_LEN)
            .enumerate()
            .map(|(i, part)| {
                let offset = start + i * MAX_PART_LEN;
                let call = ContractCall::Upload {
                    code_hash: hash,
                    total,
                    // < MAX_CODE_LEN, which fits in u32
                    offset: offset as u32,
                    bytes: part.to_vec(),
                };
                self.sign(nonce + i as u64, expiry, call.into_call())
            })
            .collect();
        self.next_nonce = Some(nonce + txs.len() as u64);
        Ok(txs)
    }

    /// Deploys stored code (`contract.deploy`) as contract `name`, running its `instantiate`
    /// with `init` (JSON text for SDK contracts) and at most `fuel` fuel; with
    /// `allow_reentry`, a contract already on the call stack may call it again.
    pub fn deploy_contract(
        &mut self,
        client: &Client,
        name: &str,
        code_hash: Hash32,
        init: &[u8],
        fuel: u64,
        allow_reentry: bool,
    ) -> Result<SignedTx> {
        check_contract_name(name)?;
        check_fuel(fuel)?;
        check_msg(init)?;
        let call = ContractCall::Deploy {
            name: name.into(),
            code_hash,
            msg: init.to_vec(),
            fuel,
            allow_reentry,
        };
        self.build(client, call.into_call())
    }

    /// Calls contract `name`'s `execute` with `msg` (JSON text for SDK contracts) and at most
    /// `fuel` fuel; the receipt's `gas_used` is what it consumed.
    pub fn call_contract(
        &mut self,
        client: &Client,
        name: &str,
        msg: &[u8],
        fuel: u64,
    ) -> Result<SignedTx> {
        check_contract_name(name)?;
        check_fuel(fuel)?;
        check_msg(msg)?;
        let call = ContractCall::Call {
            name: name.into(),
            msg: msg.to_vec(),
            fuel,
        };
        self.build(client, call.into_call())
    }

    /// Switches contract `name` to stored code `code_hash` and runs its `migrate` with `msg`
    /// (`contract.upgrade`). Only the contract's creator may, and only to code alliance
    /// governance approved for it (`identity` action `ApproveContractUpgrade`); otherwise the
    /// receipt is `contract.not_approved`.
    pub fn upgrade_contract(
        &mut self,
        client: &Client,
        name: &str,
        code_hash: Hash32,
        msg: &[u8],
        fuel: u64,
    ) -> Result<SignedTx> {
        check_contract_name(name)?;
        check_fuel(fuel)?;
        check_msg(msg)?;
        let call = ContractCall::Upgrade {
            name: name.into(),
            code_hash,
            msg: msg.to_vec(),
            fuel,
        };
        self.build(client, call.into_call())
    }

    /// Registers a document (its hash; the bytes never leave this machine) with `metadata`
    /// (at most 1 KiB, e.g. a file name). Returns the transaction and the document hash.
    pub fn notarize(
        &mut self,
        client: &Client,
        doc: Document<'_>,
        metadata: &[u8],
    ) -> Result<(SignedTx, Hash32)> {
        if metadata.len() > MAX_METADATA_LEN {
            return Err(ClientError::BadInput(format!(
                "metadata is {} bytes, at most {MAX_METADATA_LEN}",
                metadata.len()
            )));
        }
        let doc_hash = match doc {
            Document::Bytes(b) => document_hash(self.key.suite(), b),
            Document::Hash(h) => h,
        };
        let call = Register {
            doc_hash,
            metadata: metadata.to_vec(),
        };
        Ok((self.build(client, call.into_call())?, doc_hash))
    }
}
