//! The host's binary encodings (§7): little-endian, `u32le` lengths and counts, `u64le`
//! integers, byte strings as `u32le len || bytes`, booleans one byte.

use crate::ctx::RawEntry;
use crate::error::CallError;
use crate::types::{Address, Env, InteropAck, InteropOutcome, NotaryRecord};

/// Why host data did not decode. Host data is produced by the chain, so this is a host bug
/// (or a mock-host misuse) and the SDK aborts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DecodeError(pub &'static str);

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError(what));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn fixed<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.fixed(what)?))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.fixed(what)?))
    }

    fn bool(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        match self.take(1, what)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError(what)),
        }
    }

    pub(crate) fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.u32(what)?;
        let len = usize::try_from(len).map_err(|_| DecodeError(what))?;
        self.take(len, what)
    }

    fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let b = self.bytes(what)?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError(what))
    }

    pub(crate) fn finish(self, what: &'static str) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError(what))
        }
    }
}

pub(crate) fn decode_env(buf: &[u8]) -> Result<Env, DecodeError> {
    let mut r = Reader::new(buf);
    let chain_id = r.string("env.chain_id")?;
    let height = r.u64("env.height")?;
    let time_ms = r.u64("env.time_ms")?;
    let tx_hash = r.fixed::<32>("env.tx_hash")?;
    let contract = r.string("env.contract")?;
    let contract_address = Address(r.fixed::<20>("env.contract_address")?);
    let caller = Address(r.fixed::<20>("env.caller_address")?);
    let caller_is_contract = r.bool("env.caller_is_contract")?;
    let caller_org = r.string("env.caller_org")?;
    let cert = r.bytes("env.caller_cert_id")?;
    let caller_cert_id = match cert.len() {
        0 => None,
        32 => {
            let mut id = [0u8; 32];
            id.copy_from_slice(cert);
            Some(id)
        }
        _ => return Err(DecodeError("env.caller_cert_id")),
    };
    let count = r.u32("env.caller_roles")?;
    let mut caller_roles = Vec::new();
    for _ in 0..count {
        caller_roles.push(r.string("env.caller_roles")?);
    }
    r.finish("env")?;
    Ok(Env {
        chain_id,
        height,
        time_ms,
        tx_hash,
        contract,
        contract_address,
        caller,
        caller_is_contract,
        caller_org,
        caller_cert_id,
        caller_roles,
    })
}

/// `Entries` = `u32le count, then count × (key: bytes, value: bytes)`.
pub(crate) fn decode_entries(buf: &[u8]) -> Result<Vec<RawEntry>, DecodeError> {
    let mut r = Reader::new(buf);
    let count = r.u32("entries.count")?;
    let mut out = Vec::new();
    for _ in 0..count {
        let k = r.bytes("entries.key")?.to_vec();
        let v = r.bytes("entries.value")?.to_vec();
        out.push((k, v));
    }
    r.finish("entries")?;
    Ok(out)
}

/// `CallError` = `code: bytes, message: bytes`.
pub(crate) fn decode_call_error(buf: &[u8]) -> Result<CallError, DecodeError> {
    let mut r = Reader::new(buf);
    let code = r.string("call_error.code")?;
    let message = String::from_utf8_lossy(r.bytes("call_error.message")?).into_owned();
    r.finish("call_error")?;
    Ok(CallError { code, message })
}

/// `NotaryRecord` = `owner: 20 bytes, height: u64, time_ms: u64, meta: bytes`.
pub(crate) fn decode_notary_record(buf: &[u8]) -> Result<NotaryRecord, DecodeError> {
    let mut r = Reader::new(buf);
    let owner = Address(r.fixed::<20>("notary.owner")?);
    let height = r.u64("notary.height")?;
    let time_ms = r.u64("notary.time_ms")?;
    let meta = r.bytes("notary.meta")?.to_vec();
    r.finish("notary")?;
    Ok(NotaryRecord {
        owner,
        height,
        time_ms,
        meta,
    })
}

/// `InteropAck` = `channel: bytes, sequence: u64, target: bytes, msg: bytes, status: u8
/// (0 success, 1 error, 2 timeout), data: bytes`.
pub(crate) fn decode_interop_ack(buf: &[u8]) -> Result<InteropAck, DecodeError> {
    let mut r = Reader::new(buf);
    let channel = r.string("ack.channel")?;
    let sequence = r.u64("ack.sequence")?;
    let target = r.string("ack.target")?;
    let msg = r.bytes("ack.msg")?.to_vec();
    let status = r.take(1, "ack.status")?[0];
    let data = r.bytes("ack.data")?;
    let outcome = match status {
        0 => InteropOutcome::Success(data.to_vec()),
        1 => InteropOutcome::Error(String::from_utf8_lossy(data).into_owned()),
        2 if data.is_empty() => InteropOutcome::Timeout,
        _ => return Err(DecodeError("ack.status")),
    };
    r.finish("ack")?;
    Ok(InteropAck {
        channel,
        sequence,
        target,
        msg,
        outcome,
    })
}

/// Encoders: only the mock host produces host data.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod enc {
    use super::*;

    #[derive(Default)]
    pub(crate) struct Writer(pub Vec<u8>);

    impl Writer {
        pub(crate) fn u32(&mut self, v: u32) {
            self.0.extend_from_slice(&v.to_le_bytes());
        }
        pub(crate) fn u64(&mut self, v: u64) {
            self.0.extend_from_slice(&v.to_le_bytes());
        }
        pub(crate) fn fixed(&mut self, v: &[u8]) {
            self.0.extend_from_slice(v);
        }
        pub(crate) fn bool(&mut self, v: bool) {
            self.0.push(u8::from(v));
        }
        pub(crate) fn bytes(&mut self, v: &[u8]) {
            self.u32(u32::try_from(v.len()).expect("byte string longer than u32"));
            self.0.extend_from_slice(v);
        }
    }

    pub(crate) fn encode_env(e: &Env) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes(e.chain_id.as_bytes());
        w.u64(e.height);
        w.u64(e.time_ms);
        w.fixed(&e.tx_hash);
        w.bytes(e.contract.as_bytes());
        w.fixed(&e.contract_address.0);
        w.fixed(&e.caller.0);
        w.bool(e.caller_is_contract);
        w.bytes(e.caller_org.as_bytes());
        w.bytes(e.caller_cert_id.as_ref().map_or(&[][..], |c| &c[..]));
        w.u32(u32::try_from(e.caller_roles.len()).expect("too many roles"));
        for r in &e.caller_roles {
            w.bytes(r.as_bytes());
        }
        w.0
    }

    pub(crate) fn encode_entries(entries: &[RawEntry]) -> Vec<u8> {
        let mut w = Writer::default();
        w.u32(u32::try_from(entries.len()).expect("too many entries"));
        for (k, v) in entries {
            w.bytes(k);
            w.bytes(v);
        }
        w.0
    }

    pub(crate) fn encode_interop_ack(a: &InteropAck) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes(a.channel.as_bytes());
        w.u64(a.sequence);
        w.bytes(a.target.as_bytes());
        w.bytes(&a.msg);
        let (status, data): (u8, &[u8]) = match &a.outcome {
            InteropOutcome::Success(d) => (0, d),
            InteropOutcome::Error(m) => (1, m.as_bytes()),
            InteropOutcome::Timeout => (2, &[]),
        };
        w.0.push(status);
        w.bytes(data);
        w.0
    }

    pub(crate) fn encode_call_error(e: &CallError) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes(e.code.as_bytes());
        w.bytes(e.message.as_bytes());
        w.0
    }

    pub(crate) fn encode_notary_record(n: &NotaryRecord) -> Vec<u8> {
        let mut w = Writer::default();
        w.fixed(&n.owner.0);
        w.u64(n.height);
        w.u64(n.time_ms);
        w.bytes(&n.meta);
        w.0
    }
}

#[cfg(test)]
mod tests {
    use super::enc::*;
    use super::*;

    fn env() -> Env {
        Env {
            chain_id: "meridian-test".into(),
            height: 7,
            time_ms: 1_700_000_000_123,
            tx_hash: [9; 32],
            contract: "token".into(),
            contract_address: Address([1; 20]),
            caller: Address([2; 20]),
            caller_is_contract: false,
            caller_org: "org1".into(),
            caller_cert_id: Some([3; 32]),
            caller_roles: vec!["admin".into(), "member".into()],
        }
    }

    #[test]
    fn env_roundtrips_and_matches_the_spec_layout() {
        let e = env();
        let b = encode_env(&e);
        assert_eq!(decode_env(&b), Ok(e.clone()));
        // chain_id: u32le 13 then the bytes; height u64le right after.
        assert_eq!(&b[..4], &13u32.to_le_bytes());
        assert_eq!(&b[4..17], b"meridian-test");
        assert_eq!(&b[17..25], &7u64.to_le_bytes());
        // Nested-call shape: empty org, empty cert id, no roles.
        let nested = Env {
            caller_is_contract: true,
            caller_org: String::new(),
            caller_cert_id: None,
            caller_roles: vec![],
            ..e
        };
        assert_eq!(decode_env(&encode_env(&nested)), Ok(nested));
    }

    #[test]
    fn malformed_host_data_is_rejected() {
        let b = encode_env(&env());
        assert!(decode_env(&b[..b.len() - 1]).is_err(), "truncated");
        let mut long = b.clone();
        long.push(0);
        assert!(decode_env(&long).is_err(), "trailing byte");
        assert!(
            decode_entries(&[1, 0, 0, 0]).is_err(),
            "count without entries"
        );
        let mut bad_cert = Writer::default();
        bad_cert.bytes(b"c");
        bad_cert.u64(1);
        bad_cert.u64(1);
        bad_cert.fixed(&[0; 32]);
        bad_cert.bytes(b"x");
        bad_cert.fixed(&[0; 40]);
        bad_cert.bool(false);
        bad_cert.bytes(b"");
        bad_cert.bytes(&[1; 5]);
        bad_cert.u32(0);
        assert!(
            decode_env(&bad_cert.0).is_err(),
            "cert id must be 0 or 32 bytes"
        );
    }

    #[test]
    fn entries_call_error_notary_roundtrip() {
        let es = vec![(b"a".to_vec(), b"1".to_vec()), (vec![], vec![0xff; 3])];
        assert_eq!(decode_entries(&encode_entries(&es)), Ok(es));
        let ce = CallError {
            code: "bank.insufficient_balance".into(),
            message: "no".into(),
        };
        assert_eq!(decode_call_error(&encode_call_error(&ce)), Ok(ce));
        let n = NotaryRecord {
            owner: Address([5; 20]),
            height: 3,
            time_ms: 4,
            meta: b"pdf".to_vec(),
        };
        assert_eq!(decode_notary_record(&encode_notary_record(&n)), Ok(n));
    }
}
