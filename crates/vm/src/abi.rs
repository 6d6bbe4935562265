//! Entry points, host-import signatures and the byte encodings of spec §7.

use wasmi::ValType;

/// A contract entry point (spec §4). Every entry point has type `() -> i32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entry {
    /// Run once by `deploy`.
    Instantiate,
    /// Run by `call` and by nested `call_contract`.
    Execute,
    /// Read-only query through the API: every writing host function fails with
    /// `contract.read_only`.
    Query,
    /// Run by `upgrade` with the new code.
    Migrate,
    /// Run by the `interop` module when a packet this contract sent with `interop_send` is
    /// acknowledged or times out; the input is an encoded [`InteropAck`]. Optional: a
    /// contract without it is simply not notified.
    InteropAck,
}

impl Entry {
    /// All entry points, in spec order.
    pub const ALL: [Entry; 5] = [
        Entry::Instantiate,
        Entry::Execute,
        Entry::Query,
        Entry::Migrate,
        Entry::InteropAck,
    ];

    /// The name the module must export the entry point under.
    pub fn export_name(self) -> &'static str {
        match self {
            Entry::Instantiate => "instantiate",
            Entry::Execute => "execute",
            Entry::Query => "query",
            Entry::Migrate => "migrate",
            Entry::InteropAck => "interop_ack",
        }
    }

    /// The entry point exported under `name`, if `name` is one.
    pub fn from_export_name(name: &str) -> Option<Entry> {
        Entry::ALL.into_iter().find(|e| e.export_name() == name)
    }

    /// Whether runs of this entry point may not change state.
    pub fn is_read_only(self) -> bool {
        matches!(self, Entry::Query)
    }
}

const I32: ValType = ValType::I32;
const I64: ValType = ValType::I64;

/// One host function of spec §6: (name, params, results).
pub(crate) type ImportSig = (&'static str, &'static [ValType], &'static [ValType]);

/// Every import a contract may declare (module `"meridian"`), with its exact signature.
/// Validation and the linker both derive from this table's names; a test instantiates a module
/// importing all of them so the two cannot drift apart.
pub(crate) const HOST_IMPORTS: &[ImportSig] = &[
    ("input_len", &[], &[I32]),
    ("input_read", &[I32], &[]),
    ("set_return", &[I32, I32], &[]),
    ("set_error", &[I32, I32, I32, I32], &[]),
    ("buffer_read", &[I32], &[]),
    ("buffer_len", &[], &[I32]),
    ("env", &[], &[I32]),
    ("storage_get", &[I32, I32], &[I32]),
    ("storage_set", &[I32, I32, I32, I32], &[]),
    ("storage_remove", &[I32, I32], &[]),
    ("storage_range", &[I32, I32, I32, I32, I32, I32], &[I32]),
    ("emit_event", &[I32, I32, I32, I32], &[]),
    ("hash", &[I32, I32, I32], &[]),
    ("verify_signature", &[I32, I32, I32, I32, I32, I32], &[I32]),
    ("call_contract", &[I32, I32, I32, I32, I64], &[I32]),
    ("bank_transfer", &[I32, I32, I32, I32], &[I32]),
    ("bank_balance", &[I32, I32, I32, I32], &[]),
    ("notary_get", &[I32], &[I32]),
    (
        "interop_send",
        &[I32, I32, I32, I32, I32, I32, I64, I64],
        &[I32],
    ),
    ("abort", &[I32, I32], &[]),
];

/// The import module name contracts must use.
pub(crate) const IMPORT_MODULE: &str = "meridian";

/// Little-endian, length-prefixed writer of spec §7.
#[derive(Default)]
pub(crate) struct Writer(Vec<u8>);

impl Writer {
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn bool(&mut self, v: bool) -> &mut Self {
        self.0.push(u8::from(v));
        self
    }
    fn fixed(&mut self, v: &[u8]) -> &mut Self {
        self.0.extend_from_slice(v);
        self
    }
    /// `u32le len || bytes`. Lengths beyond `u32::MAX` cannot occur under the VM's limits;
    /// saturating keeps the encoder total.
    fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.u32(u32::try_from(v.len()).unwrap_or(u32::MAX));
        self.0.extend_from_slice(v);
        self
    }
    fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

/// Little-endian reader for the few encodings hosts and tests decode.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.u32()?).ok()?;
        self.take(len)
    }
}

/// What a contract sees of its execution context (spec §7 `Env`), returned by the `env` host
/// function. Built by the host per run: for a nested call the caller is the calling contract
/// and the org/cert/roles fields are empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    /// Chain id.
    pub chain_id: String,
    /// Height of the block being executed (latest finalized height for queries).
    pub height: u64,
    /// Block time in milliseconds (from the block, never a clock).
    pub time_ms: u64,
    /// Hash of the transaction (zero for queries).
    pub tx_hash: [u8; 32],
    /// Name of the running contract; also prefixes its typed errors (`<name>.<code>`).
    pub contract: String,
    /// The contract's account address.
    pub contract_address: [u8; 20],
    /// Transaction signer (top-level) or calling contract's address (nested).
    pub caller_address: [u8; 20],
    /// Whether the caller is a contract.
    pub caller_is_contract: bool,
    /// Caller's organisation (empty if none or nested).
    pub caller_org: String,
    /// Caller's certificate id (`None` encodes as empty bytes).
    pub caller_cert_id: Option<[u8; 32]>,
    /// Caller's roles (empty when nested).
    pub caller_roles: Vec<String>,
}

impl Env {
    /// Canonical encoding of spec §7 (what the contract reads from the return buffer).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes(self.chain_id.as_bytes())
            .u64(self.height)
            .u64(self.time_ms)
            .fixed(&self.tx_hash)
            .bytes(self.contract.as_bytes())
            .fixed(&self.contract_address)
            .fixed(&self.caller_address)
            .bool(self.caller_is_contract)
            .bytes(self.caller_org.as_bytes())
            .bytes(self.caller_cert_id.as_ref().map_or(&[][..], |c| &c[..]))
            .u32(u32::try_from(self.caller_roles.len()).unwrap_or(u32::MAX));
        for role in &self.caller_roles {
            w.bytes(role.as_bytes());
        }
        w.finish()
    }
}

/// Error of a nested `call_contract` or of `bank_transfer`, as the calling contract sees it in
/// the return buffer (spec §7 `CallError` = `code: bytes, message: bytes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// Stable error code.
    pub code: String,
    /// Detail.
    pub message: String,
}

impl CallError {
    /// Canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        Writer::default()
            .bytes(self.code.as_bytes())
            .bytes(self.message.as_bytes())
            .finish()
    }

    /// Decodes [`CallError::encode`] output (UTF-8 lossy); `None` if truncated or trailing bytes.
    pub fn decode(bytes: &[u8]) -> Option<CallError> {
        let mut r = Reader(bytes);
        let code = String::from_utf8_lossy(r.bytes()?).into_owned();
        let message = String::from_utf8_lossy(r.bytes()?).into_owned();
        r.0.is_empty().then_some(CallError { code, message })
    }
}

/// One `(key, value)` pair returned by `storage_range`.
pub type StorageEntry = (Vec<u8>, Vec<u8>);

/// Canonical `Entries` encoding of spec §7 (`storage_range` results).
pub fn encode_entries(entries: &[StorageEntry]) -> Vec<u8> {
    let mut w = Writer::default();
    w.u32(u32::try_from(entries.len()).unwrap_or(u32::MAX));
    for (key, value) in entries {
        w.bytes(key).bytes(value);
    }
    w.finish()
}

/// A notary record as contracts see it (spec §7). [`Host::notary_get`](crate::Host::notary_get)
/// returns its [`encode`](NotaryRecord::encode)d form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotaryRecord {
    /// Address that notarised the document.
    pub owner: [u8; 20],
    /// Height of notarisation.
    pub height: u64,
    /// Block time of notarisation, ms.
    pub time_ms: u64,
    /// Free-form metadata.
    pub meta: Vec<u8>,
}

impl NotaryRecord {
    /// Canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        Writer::default()
            .fixed(&self.owner)
            .u64(self.height)
            .u64(self.time_ms)
            .bytes(&self.meta)
            .finish()
    }
}

/// How a cross-chain call a contract sent with `interop_send` ended (spec §7 `InteropAck`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InteropOutcome {
    /// The target contract succeeded; its return data.
    Success(Vec<u8>),
    /// The destination refused or the target failed; the error acknowledgement's text
    /// (`"{code}: {message}"`).
    Error(String),
    /// The packet timed out: the target never ran.
    Timeout,
}

/// The input of a contract's `interop_ack` entry point (spec §7): which packet, what was sent,
/// and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteropAck {
    /// The source channel the packet left on (port `contract`).
    pub channel: String,
    /// The packet's sequence (what `interop_send` returned).
    pub sequence: u64,
    /// The target contract on the counterparty.
    pub target: String,
    /// The message that was sent.
    pub msg: Vec<u8>,
    pub outcome: InteropOutcome,
}

impl InteropAck {
    /// `channel: bytes, sequence: u64, target: bytes, msg: bytes, status: u8 (0 success,
    /// 1 error, 2 timeout), data: bytes` (the return data, the error text, or empty).
    pub fn encode(&self) -> Vec<u8> {
        let (status, data): (u8, &[u8]) = match &self.outcome {
            InteropOutcome::Success(d) => (0, d),
            InteropOutcome::Error(m) => (1, m.as_bytes()),
            InteropOutcome::Timeout => (2, &[]),
        };
        let mut w = Writer::default();
        w.bytes(self.channel.as_bytes())
            .u64(self.sequence)
            .bytes(self.target.as_bytes())
            .bytes(&self.msg);
        w.0.push(status);
        w.bytes(data).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interop_ack_layout() {
        let ack = InteropAck {
            channel: "c".into(),
            sequence: 3,
            target: "t".into(),
            msg: vec![9],
            outcome: InteropOutcome::Error("e".into()),
        };
        let mut want = vec![1, 0, 0, 0, b'c'];
        want.extend_from_slice(&3u64.to_le_bytes());
        want.extend_from_slice(&[1, 0, 0, 0, b't', 1, 0, 0, 0, 9, 1, 1, 0, 0, 0, b'e']);
        assert_eq!(ack.encode(), want);
    }

    #[test]
    fn env_encoding_layout() {
        let env = Env {
            chain_id: "c".into(),
            height: 7,
            time_ms: 9,
            tx_hash: [1; 32],
            contract: "k".into(),
            contract_address: [2; 20],
            caller_address: [3; 20],
            caller_is_contract: true,
            caller_org: String::new(),
            caller_cert_id: None,
            caller_roles: vec!["ab".into()],
        };
        let mut want = vec![1, 0, 0, 0, b'c'];
        want.extend_from_slice(&7u64.to_le_bytes());
        want.extend_from_slice(&9u64.to_le_bytes());
        want.extend_from_slice(&[1; 32]);
        want.extend_from_slice(&[1, 0, 0, 0, b'k']);
        want.extend_from_slice(&[2; 20]);
        want.extend_from_slice(&[3; 20]);
        want.push(1);
        want.extend_from_slice(&[0, 0, 0, 0]); // org
        want.extend_from_slice(&[0, 0, 0, 0]); // cert id
        want.extend_from_slice(&[1, 0, 0, 0, 2, 0, 0, 0, b'a', b'b']);
        assert_eq!(env.encode(), want);
    }

    #[test]
    fn call_error_round_trip_and_entries() {
        let e = CallError {
            code: "contract.reentrancy".into(),
            message: "m".into(),
        };
        assert_eq!(CallError::decode(&e.encode()), Some(e.clone()));
        let mut bad = e.encode();
        bad.push(0);
        assert_eq!(CallError::decode(&bad), None);
        assert_eq!(
            encode_entries(&[(b"k".to_vec(), b"vv".to_vec())]),
            vec![1, 0, 0, 0, 1, 0, 0, 0, b'k', 2, 0, 0, 0, b'v', b'v']
        );
        let rec = NotaryRecord {
            owner: [5; 20],
            height: 1,
            time_ms: 2,
            meta: vec![9],
        };
        assert_eq!(rec.encode().len(), 20 + 8 + 8 + 4 + 1);
    }

    #[test]
    fn entry_names() {
        for e in Entry::ALL {
            assert_eq!(Entry::from_export_name(e.export_name()), Some(e));
        }
        assert_eq!(Entry::from_export_name("memory"), None);
        assert!(Entry::Query.is_read_only() && !Entry::Execute.is_read_only());
    }
}
