//! Single-core signature verification and hashing throughput per suite.
//!
//! `cargo bench -p meridian-crypto -- --warm-up-time 1 --measurement-time 3`
//! Figures and conditions are recorded in docs/benchmarks/crypto.md (never asserted in tests).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use meridian_crypto::{Domain, PrivateKey, PublicKey, SigningKind, Suite};

const TX_LEN: usize = 200; // a typical transfer body

fn signatures(c: &mut Criterion) {
    let domain = Domain::new("meridian-bench", SigningKind::Transaction).unwrap();
    let msg = vec![0x5au8; TX_LEN];
    let mut group = c.benchmark_group("signature");
    group.throughput(Throughput::Elements(1));
    for suite in Suite::ALL {
        let key = PrivateKey::from_seed(suite, &[7u8; 32]);
        let pk = key.public_key();
        let sig = key.sign(&domain, &msg);
        let pk_bytes = pk.as_bytes().to_vec();
        let sig_bytes = sig.as_bytes().to_vec();

        group.bench_function(BenchmarkId::new("verify", suite.as_str()), |b| {
            b.iter(|| {
                pk.verify(&domain, black_box(&msg), black_box(&sig))
                    .unwrap()
            })
        });
        // What the mempool pays per transaction: parse key + signature bytes, then verify.
        group.bench_function(BenchmarkId::new("decode_and_verify", suite.as_str()), |b| {
            b.iter(|| {
                let pk = PublicKey::from_bytes(suite, black_box(&pk_bytes)).unwrap();
                pk.verify_bytes(&domain, black_box(&msg), black_box(&sig_bytes))
                    .unwrap()
            })
        });
        group.bench_function(BenchmarkId::new("sign", suite.as_str()), |b| {
            b.iter(|| key.sign(&domain, black_box(&msg)))
        });
    }
    group.finish();
}

fn hashing(c: &mut Criterion) {
    let mut group = c.benchmark_group("hash");
    for len in [64usize, 1024, 65536] {
        let data = vec![0xa5u8; len];
        group.throughput(Throughput::Bytes(len as u64));
        for suite in Suite::ALL {
            let name = match suite {
                Suite::Sm => "sm3",
                Suite::Intl => "sha256",
            };
            group.bench_function(BenchmarkId::new(name, len), |b| {
                b.iter(|| suite.hash(black_box(&data)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, signatures, hashing);
criterion_main!(benches);
