//! Test vectors of the interop protocol (docs/spec/interop.md, "Test vectors"): fixed inputs,
//! frozen outputs. Another implementation checks itself against the same hex values; if any
//! assertion here fails, the wire format changed — that is a protocol change, and the spec's
//! vectors must change with it.

use meridian_crypto::finality::{testing::sign_finalization, verify_finalization, FinalityError};
use meridian_crypto::{PrivateKey, Suite};
use meridian_interop::channel::decode_stored;
use meridian_interop::{paths, transfer, verify_membership, verify_non_membership};
use meridian_interop::{
    Acknowledgement, ChannelEnd, ChannelState, ClientState, ConnectionEnd, ConnectionState,
    ConsensusState, Ordering, Packet, SignedHeader, TransferData,
};
use meridian_storage::{BlockCommit, HashKind, Store};
use meridian_types::{Address, ChainId, Decode, Encode, Header, Writer};

fn hex_of(b: impl AsRef<[u8]>) -> String {
    hex::encode(b.as_ref())
}

#[track_caller]
fn assert_hex(what: &str, got: impl AsRef<[u8]>, want: &str) {
    assert_eq!(hex_of(got), want, "vector {what} changed");
}

/// Encodes, checks the bytes, and checks the value decodes back to itself.
#[track_caller]
fn assert_encoding<T: Encode + Decode + PartialEq + std::fmt::Debug>(
    what: &str,
    v: &T,
    want: &str,
) {
    let bytes = v.encode();
    assert_hex(what, &bytes, want);
    let back: T = decode_stored(&bytes).expect("decodes");
    assert_eq!(&back, v, "vector {what} does not round-trip");
}

// ---- V1: transfer data, packet, commitments ----

fn transfer_data() -> TransferData {
    TransferData {
        denom: "GOLD".into(),
        amount: 1_000_000,
        decimals: 2,
        sender: Address([0x11; 20]),
        receiver: Address([0x22; 20]),
        memo: "v1".into(),
    }
}

fn packet() -> Packet {
    Packet {
        sequence: 1,
        source_port: "transfer".into(),
        source_channel: "channel-0".into(),
        dest_port: "transfer".into(),
        dest_channel: "channel-1".into(),
        data: transfer_data().encode(),
        timeout_height: 1000,
        timeout_timestamp_ms: 1_700_000_600_000,
    }
}

const TRANSFER_DATA: &str = "00000004474f4c44000000000000000000000000000f42400211111111111111111111111111111111111111112222222222222222222222222222222222222222000000027631";
const PACKET: &str = "0000000000000001000000087472616e73666572000000096368616e6e656c2d30000000087472616e73666572000000096368616e6e656c2d310000004700000004474f4c44000000000000000000000000000f4240021111111111111111111111111111111111111111222222222222222222222222222222222222222200000002763100000000000003e80000018bcfee8fc0";

#[test]
fn v1_transfer_data_and_packet() {
    let d = transfer_data();
    d.validate().unwrap();
    assert_encoding("transfer data", &d, TRANSFER_DATA);
    let p = packet();
    p.validate().unwrap();
    assert_encoding("packet", &p, PACKET);
    assert_hex(
        "packet commitment (sm)",
        p.commitment(Suite::Sm),
        "52dc4ce104ae969853e865c49bba9b6e5592dea92c2bfc13249def92f430cad3",
    );
    assert_hex(
        "packet commitment (intl)",
        p.commitment(Suite::Intl),
        "57a0d9be15eca5a0ce074ed9bf731cb09dd0084778bdcdbe8d161e2da49aa8fb",
    );
    // The commitment, spelled out: H("meridian/interop/packet/v1" ‖ u64 timeout_height ‖
    // u64 timeout_timestamp_ms ‖ str dest_port ‖ str dest_channel ‖ H(data)).
    for suite in [Suite::Sm, Suite::Intl] {
        let mut w = Writer::new();
        w.fixed(b"meridian/interop/packet/v1");
        w.u64(p.timeout_height);
        w.u64(p.timeout_timestamp_ms);
        w.str(&p.dest_port);
        w.str(&p.dest_channel);
        w.fixed(&suite.hash(&p.data).0);
        assert_eq!(suite.hash(&w.into_bytes()).0, p.commitment(suite));
    }
}

// ---- V2: acknowledgements ----

#[test]
fn v2_acknowledgements() {
    let ok = Acknowledgement::Success(vec![0x01]);
    let bad = Acknowledgement::Error("transfer: vector error".into());
    assert_encoding("ack success", &ok, "010000000101");
    assert_encoding(
        "ack error",
        &bad,
        "02000000167472616e736665723a20766563746f72206572726f72",
    );
    assert_hex(
        "ack success commitment (sm)",
        ok.commitment(Suite::Sm),
        "33e4be86e27dcbbdf547243fa5295fc67f87b2790afe4fe4b52fe192ffed77f3",
    );
    assert_hex(
        "ack success commitment (intl)",
        ok.commitment(Suite::Intl),
        "76b2e478d7aa77a58851904ac89746950bde1d398e05b4dcd374b22f1edb8c42",
    );
    assert_hex(
        "ack error commitment (sm)",
        bad.commitment(Suite::Sm),
        "615b6e185aa9cad3415cde0bc8b4be99f1d40749584cf35f5cf05141bd4c100b",
    );
    assert_hex(
        "ack error commitment (intl)",
        bad.commitment(Suite::Intl),
        "065598b08b79395aeced991d68392799f2873353592ecaa518c5c30b25cf0a80",
    );
    // Spelled out: H("meridian/interop/ack/v1" ‖ encode(ack)).
    for suite in [Suite::Sm, Suite::Intl] {
        let mut pre = b"meridian/interop/ack/v1".to_vec();
        pre.extend_from_slice(&ok.encode());
        assert_eq!(suite.hash(&pre).0, ok.commitment(suite));
    }
}

// ---- V3: voucher symbols ----

#[test]
fn v3_voucher_symbols() {
    let cases = [
        (
            "transfer/channel-1/GOLD",
            "X094F05E1D043ECA",
            "XF49E8165BD13A5B",
        ),
        (
            "transfer/channel-1/transfer/channel-0/GOLD",
            "X54F739F4DD085AE",
            "XA7172F1287E4145",
        ),
    ];
    for (trace, sm, intl) in cases {
        transfer::check_denom(trace).unwrap();
        assert_eq!(transfer::voucher_symbol(Suite::Sm, trace), sm, "{trace}");
        assert_eq!(
            transfer::voucher_symbol(Suite::Intl, trace),
            intl,
            "{trace}"
        );
        // Spelled out: "X" ‖ first 15 upper-case hex digits of H("meridian/interop/voucher/v1"
        // ‖ str trace).
        let mut w = Writer::new();
        w.fixed(b"meridian/interop/voucher/v1");
        w.str(trace);
        let h = hex::encode_upper(Suite::Intl.hash(&w.into_bytes()).0);
        assert_eq!(format!("X{}", &h[..15]), intl);
    }
}

// ---- V4: store paths ----

#[test]
fn v4_store_paths() {
    let s = |k: Vec<u8>| String::from_utf8(k).unwrap();
    let cases = [
        (paths::client("client-0"), "interop/clients/client-0"),
        (
            paths::consensus("client-0", 42),
            "interop/clients/client-0/consensus/00000000000000000042",
        ),
        (
            paths::validators("client-0", 3),
            "interop/clients/client-0/validators/00000000000000000003",
        ),
        (
            paths::connection("connection-0"),
            "interop/connections/connection-0",
        ),
        (
            paths::channel("transfer", "channel-0"),
            "interop/channels/transfer/channel-0",
        ),
        (
            paths::next_sequence_send("transfer", "channel-0"),
            "interop/seq/send/transfer/channel-0",
        ),
        (
            paths::next_sequence_recv("transfer", "channel-1"),
            "interop/seq/recv/transfer/channel-1",
        ),
        (
            paths::next_sequence_ack("transfer", "channel-0"),
            "interop/seq/ack/transfer/channel-0",
        ),
        (
            paths::commitment("transfer", "channel-0", 1),
            "interop/commitments/transfer/channel-0/1",
        ),
        (
            paths::receipt("transfer", "channel-1", 1),
            "interop/receipts/transfer/channel-1/1",
        ),
        (
            paths::ack("transfer", "channel-1", 1),
            "interop/acks/transfer/channel-1/1",
        ),
        (paths::next_id("client"), "interop/next/client"),
    ];
    for (got, want) in cases {
        assert_eq!(s(got), want);
    }
    // Sequences in packet paths are plain decimal (no padding).
    assert_eq!(
        s(paths::commitment("transfer", "channel-0", 1234)),
        "interop/commitments/transfer/channel-0/1234"
    );
}

// ---- V5: stored records ----

#[test]
fn v5_stored_records() {
    let c = ClientState::new(
        ChainId::new("region-b").unwrap(),
        Suite::Sm,
        100,
        1_209_600_000,
        5_000,
        42,
    )
    .unwrap();
    assert_encoding(
        "client state",
        &c,
        "00000008726567696f6e2d6201000000000000006400000000481908000000000000001388000000000000002a0000000000000000",
    );
    let cs = ConsensusState {
        timestamp_ms: 1_700_000_000_000,
        state_root: [0xaa; 32],
        header_hash: [0xbb; 32],
    };
    assert_encoding(
        "consensus state",
        &cs,
        "0000018bcfe56800aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    );
    let conn = ConnectionEnd {
        state: ConnectionState::Open,
        client_id: "client-0".into(),
        counterparty_client_id: "client-1".into(),
        counterparty_connection_id: "connection-1".into(),
    };
    assert_encoding(
        "connection end",
        &conn,
        "0300000008636c69656e742d3000000008636c69656e742d310000000c636f6e6e656374696f6e2d31",
    );
    let open = ChannelEnd {
        state: ChannelState::Open,
        ordering: Ordering::Unordered,
        connection_id: "connection-0".into(),
        counterparty_port: "transfer".into(),
        counterparty_channel: "channel-1".into(),
        version: transfer::VERSION.into(),
    };
    assert_encoding(
        "channel end (open, unordered)",
        &open,
        "03010000000c636f6e6e656374696f6e2d30000000087472616e73666572000000096368616e6e656c2d31000000136d6572696469616e2d7472616e736665722d31",
    );
    let init = ChannelEnd {
        state: ChannelState::Init,
        ordering: Ordering::Ordered,
        connection_id: "connection-0".into(),
        counterparty_port: "transfer".into(),
        counterparty_channel: String::new(),
        version: transfer::VERSION.into(),
    };
    assert_encoding(
        "channel end (init, ordered)",
        &init,
        "01020000000c636f6e6e656374696f6e2d30000000087472616e7366657200000000000000136d6572696469616e2d7472616e736665722d31",
    );
}

// ---- V6: governance approval and module accounts (derivations the module uses) ----

#[test]
fn v6_approval_hash_and_accounts() {
    // `interop.conn_open_init` arguments: str client_id ‖ str counterparty_client_id.
    let mut w = Writer::new();
    w.str("client-0");
    w.str("client-1");
    let args = w.into_bytes();
    assert_hex(
        "conn_open_init args",
        &args,
        "00000008636c69656e742d3000000008636c69656e742d31",
    );
    assert_hex(
        "args hash (sm)",
        Suite::Sm.hash(&args).0,
        "677bbcb29baeaa9ab86fc8948a3729f389d6011ba07809ef7e53ed0d0e4fce02",
    );
    assert_hex(
        "args hash (intl)",
        Suite::Intl.hash(&args).0,
        "aa0d178550fb10ec31a17173f533b6734bee7c35367fc7492d1a4e90d053846b",
    );
    // Escrow and module accounts: the first 20 bytes of H(seed).
    assert_hex(
        "escrow of transfer/channel-0 (intl)",
        &Suite::Intl
            .hash(b"meridian/interop/escrow/transfer/channel-0")
            .0[..20],
        "50a9aab541230b886b3ad1c18c13b333136e8cc0",
    );
    assert_hex(
        "module account (intl)",
        &Suite::Intl.hash(b"meridian/interop/module").0[..20],
        "f1b14843b1d906ed9c4cc445b8540e2f90df7f0b",
    );
}

// ---- V7: finalization certificates and header verification ----

struct FinalityVector {
    suite: Suite,
    public_keys: [&'static str; 4],
    header: &'static str,
    header_hash: &'static str,
    certificate: &'static str,
    consensus: &'static str,
}

const FINALITY: [FinalityVector; 2] = [
    FinalityVector {
        suite: Suite::Intl,
        public_keys: [
            "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
            "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394",
            "ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1",
            "ca93ac1705187071d67b83c7ff0efe8108e8ec4530575d7726879333dbdabe7c",
        ],
        header: "00000008726567696f6e2d61000000000000000501010101010101010101010101010101010101010101010101010101010101010000018bcfe57b880000000000000005000000208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c020202020202020202020202020202020202020202020202020202020202020203030303030303030303030303030303030303030303030303030303030303030404040404040404040404040404040404040404040404040404040404040404",
        header_hash: "f4302ccdb9fb3807d0770123d03dedd7b3c39544be1ea786ff0fad5748bb5554",
        certificate: "000504f4302ccdb9fb3807d0770123d03dedd7b3c39544be1ea786ff0fad5748bb555400000000000000040b03176395b7b0ba6e7e35ffe36c1cfbcd387bb98e67fbeefbb6c768fe27cae64c4a2d6e0448f1417669218564055ca45fe757ae6f557b7be61f93fb6248e893c803878f9f9bae129e56f01d0b7598e5812cd2175381af80539035feace0ee99715529376213bb3b1b4c5b781ce9d712e71f88ef535ffffc1c3fd258e05a03b6cc0d329a9318d878e06d82dc0cd83b2e03d18799440c432fabb629d316bf5c727cbff15eac1870a6e82b11d34140f386c3cee186401c59657b9bb2bfe9e599c5a50c",
        consensus: "0000018bcfe57b880404040404040404040404040404040404040404040404040404040404040404f4302ccdb9fb3807d0770123d03dedd7b3c39544be1ea786ff0fad5748bb5554",
    },
    FinalityVector {
        suite: Suite::Sm,
        public_keys: [
            "02c59fe6ce793ffe69e30cd4611ebbb1a47e1a9bb498dba31c23dac69d0fd5eff7",
            "024fd0b48e8e0bf70549e9e904a9be4c8ee2f822bcccb5f35ed231fa15b1cfa030",
            "03b5caa53014f5001f5cf5d671437df405fbc697cf1aecc34955b751fafde5c1e6",
            "02f4f082f87abb381fa0806a1c12ec753183fbdd8dca300edff88941fff779b987",
        ],
        header: "00000008726567696f6e2d61000000000000000501010101010101010101010101010101010101010101010101010101010101010000018bcfe57b8800000000000000050000002102c59fe6ce793ffe69e30cd4611ebbb1a47e1a9bb498dba31c23dac69d0fd5eff7020202020202020202020202020202020202020202020202020202020202020203030303030303030303030303030303030303030303030303030303030303030404040404040404040404040404040404040404040404040404040404040404",
        header_hash: "13d98953a35a75ed4c0b2c1d5308f92c2331fa6859a432d915dcf53c2b6325dd",
        certificate: "00050413d98953a35a75ed4c0b2c1d5308f92c2331fa6859a432d915dcf53c2b6325dd00000000000000040b0353de5f0526b9eadc619a1f800162f8ea57a2cdcbd5c268aceb9449f83288c9a905035d0eb689c2881a51c1e29c5e8ddc101366ec8510cbbb3dd87986a14a81e784ba2857da84b1b4a96567552ca8e4800b8ac3ad27f31600a75e83ec94134bcf573f6597e5ff0885e6c02ed6f24c325a2b98293b0a4b2011c07dd39d0faf5a9d3ca870b866f3c36698ba2bccd5cdb8aab921ec8dde9af5ebc9b90a88de6c989b7c66791a1ec2d42a1faf2e1d4e6d3c2c73bb164b10c3563a8e3920ce570d2ecb",
        consensus: "0000018bcfe57b88040404040404040404040404040404040404040404040404040404040404040413d98953a35a75ed4c0b2c1d5308f92c2331fa6859a432d915dcf53c2b6325dd",
    },
];

#[test]
fn v7_finalization_certificates() {
    for v in &FINALITY {
        let suite = v.suite;
        // Validator i (0..4) has seed [i + 1; 32].
        let keys: Vec<_> = (1..=4u8)
            .map(|i| PrivateKey::from_seed(suite, &[i; 32]))
            .collect();
        let pks: Vec<_> = keys.iter().map(|k| k.public_key()).collect();
        for (pk, want) in pks.iter().zip(v.public_keys) {
            assert_hex("public key", pk.as_bytes(), want);
        }
        let header = Header {
            chain_id: ChainId::new("region-a").unwrap(),
            height: 5,
            parent: [0x01; 32],
            timestamp_ms: 1_700_000_005_000,
            view: 5,
            proposer: pks[0].as_bytes().to_vec(),
            tx_root: [0x02; 32],
            receipts_root: [0x03; 32],
            state_root: [0x04; 32],
        };
        assert_hex("header", header.encode(), v.header);
        let digest = suite.hash(&header.encode()).0;
        assert_hex("header hash", digest, v.header_hash);

        // Validators 0, 1 and 2 sign a finalization of the header in view 5. Signing is
        // deterministic in both suites (Ed25519; SM2 with RFC 6979 nonces).
        let cert = sign_finalization("region-a", &keys, &[0, 1, 2], 5, digest);
        assert_eq!(
            cert,
            sign_finalization("region-a", &keys, &[0, 1, 2], 5, digest),
            "signing is deterministic"
        );
        assert_hex("certificate", &cert, v.certificate);
        let cert = hex::decode(v.certificate).unwrap();
        assert_eq!(
            verify_finalization(suite, "region-a", &pks, &cert, digest),
            Ok(5)
        );
        // The validator list order does not matter (the bitmap indexes the sorted set).
        let mut reversed = pks.clone();
        reversed.reverse();
        assert_eq!(
            verify_finalization(suite, "region-a", &reversed, &cert, digest),
            Ok(5)
        );
        // Bound to the chain id and to the block.
        assert_eq!(
            verify_finalization(suite, "region-b", &pks, &cert, digest),
            Err(FinalityError::BadSignatures)
        );
        assert_eq!(
            verify_finalization(suite, "region-a", &pks, &cert, [0x05; 32]),
            Err(FinalityError::OtherBlock)
        );

        // What a light client of region-a stores for the header.
        let client = ClientState::new(
            ChainId::new("region-a").unwrap(),
            suite,
            100,
            1_209_600_000,
            5_000,
            5,
        )
        .unwrap();
        let signed = SignedHeader {
            header,
            certificate: cert,
        };
        let cs = client.verify_signed_header(&pks, &signed).unwrap();
        assert_hex("consensus state", cs.encode(), v.consensus);
        let now = 1_700_000_005_000 + 1_000;
        assert_eq!(client.check_initial(&pks, &signed, now).unwrap(), cs);
    }
}

// ---- V8: state proofs ----

struct ProofVector {
    suite: Suite,
    kind: HashKind,
    root: &'static str,
    member: &'static str,
    absent: &'static str,
}

const PROOFS: [ProofVector; 2] = [
    ProofVector {
        suite: Suite::Intl,
        kind: HashKind::Sha256,
        root: "5ef4babd462f037341bbdb9125aba7ac2aca378a0cd28753e8102b3da3a8b87d",
        member: "01020184d2ecf8a766f83809ac35bd91cc45881c33cff815f14e9b95b9e39a14752d4f8dc41fee3bb976a1db88123519a24d3dc711d51da48dc98706321fb2a95410e20001021e70bcf0206c0d3507d56c2265edb63c0f3822b25a803033b052f1e7a93a5e024bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a",
        absent: "0102011e70bcf0206c0d3507d56c2265edb63c0f3822b25a803033b052f1e7a93a5e024bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a00010284d2ecf8a766f83809ac35bd91cc45881c33cff815f14e9b95b9e39a14752d4f8dc41fee3bb976a1db88123519a24d3dc711d51da48dc98706321fb2a95410e2",
    },
    ProofVector {
        suite: Suite::Sm,
        kind: HashKind::Sm3,
        root: "8e2721222d02c268d330004f4ebee7f4c3f6d41062c15d581632a1d3da8dbdbb",
        member: "010101ec2180a79d13955598ebfab15acd94e9767dc699bc8a67a5b0a1788a51b46856318a8d7e289c47b69d73502be93ad7f09dfe8f56f09272aa619e9d13021daea40002029e9cbcd443a68ad848fe923977b5db100380274afe4b4ee52b42396700d4ff20799b719ac031fc89c6d8925a487dad07308f837b7ab7bbc7cebd3a4118fd2f3800",
        absent: "0101000001011968b2a85fe6d2d3afb738b49641fddd0b0df18d651a1f1eb4c4d2242bab6991b0826be50acd478bcf0189bf775287fe1ec9c290508d9550f4fdc6557c217aa8",
    },
];

#[test]
fn v8_state_proofs() {
    let p = packet();
    for v in &PROOFS {
        // State: the packet's commitment on the source and its receipt on the destination
        // (two keys, one tree, for brevity).
        let k1 = paths::commitment("transfer", "channel-0", 1);
        let v1 = p.commitment(v.suite).to_vec();
        let k2 = paths::receipt("transfer", "channel-1", 1);
        let absent = paths::receipt("transfer", "channel-1", 2);

        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), v.kind).unwrap();
        let state = store
            .prepare(
                None,
                0,
                vec![(k1.clone(), Some(v1.clone())), (k2, Some(vec![0x01]))],
            )
            .unwrap();
        assert_hex("state root", state.root(), v.root);
        store
            .commit(BlockCommit {
                height: 0,
                block_hash: [0; 32],
                block: Vec::new(),
                certificate: Vec::new(),
                txs: Vec::new(),
                receipts: Vec::new(),
                state,
            })
            .unwrap();
        let (got, member) = store.get_with_proof(&k1, 0).unwrap();
        assert_eq!(got, Some(v1.clone()));
        assert_hex("membership proof", member.encode(), v.member);
        let (got, non_member) = store.get_with_proof(&absent, 0).unwrap();
        assert_eq!(got, None);
        assert_hex("non-membership proof", non_member.encode(), v.absent);

        // The hex values verify through the light client's proof rules.
        let client = ClientState::new(
            ChainId::new("region-a").unwrap(),
            v.suite,
            100,
            1_209_600_000,
            5_000,
            1,
        )
        .unwrap();
        let mut root = [0u8; 32];
        hex::decode_to_slice(v.root, &mut root).unwrap();
        let cs = ConsensusState {
            timestamp_ms: 0,
            state_root: root,
            header_hash: [0; 32],
        };
        let member = hex::decode(v.member).unwrap();
        let absent_proof = hex::decode(v.absent).unwrap();
        verify_membership(&client, &cs, &k1, &v1, &member).unwrap();
        verify_non_membership(&client, &cs, &absent, &absent_proof).unwrap();
        // ...and prove nothing else.
        assert!(verify_membership(&client, &cs, &k1, &[0; 32], &member).is_err());
        assert!(verify_non_membership(&client, &cs, &k1, &absent_proof).is_err());
    }
}
