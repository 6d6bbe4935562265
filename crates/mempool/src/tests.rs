use super::*;
use meridian_types::{Call, TxBody};
use sha2::Digest;

struct Sha;
impl HashFn for Sha {
    fn hash(&self, d: &[u8]) -> Hash32 {
        sha2::Sha256::digest(d).into()
    }
}

fn chain() -> ChainId {
    ChainId::new("pool").unwrap()
}

fn tx(who: u8, nonce: u64) -> SignedTx {
    SignedTx {
        body: TxBody {
            chain_id: chain(),
            sender: vec![who; 33],
            nonce,
            expiry_height: 50,
            call: Call {
                module: "bank".into(),
                method: "transfer".into(),
                args: vec![who, nonce as u8],
            },
        },
        signature: vec![1; 64],
    }
}

fn pool(max_per_sender: usize) -> Mempool {
    Mempool::new(MempoolConfig {
        max_txs: 100,
        max_bytes: 1 << 20,
        max_per_sender,
    })
}

fn view(c: &ChainId, h: u64) -> ChainView<'_> {
    ChainView {
        chain_id: c,
        next_height: h,
    }
}

fn add(
    p: &mut Mempool,
    v: &mut VerifiedSet,
    t: SignedTx,
    good_sig: bool,
) -> Result<Hash32, MempoolError> {
    let c = chain();
    p.insert_bytes(&t.encode(), &Sha, &view(&c, 1), |_| 0, v, |_| good_sig)
}

#[test]
fn rejections_have_codes() {
    let mut p = pool(4);
    let mut v = VerifiedSet::new(100);
    assert_eq!(
        add(&mut p, &mut v, tx(1, 0), false).unwrap_err().code(),
        "tx.bad_signature"
    );
    add(&mut p, &mut v, tx(1, 0), true).unwrap();
    assert_eq!(
        add(&mut p, &mut v, tx(1, 0), true).unwrap_err().code(),
        "tx.replayed"
    );
    let mut other = tx(1, 0);
    other.body.call.args = vec![9];
    assert_eq!(
        add(&mut p, &mut v, other, true).unwrap_err().code(),
        "tx.nonce_taken"
    );
    let mut wrong = tx(2, 0);
    wrong.body.chain_id = ChainId::new("elsewhere").unwrap();
    assert_eq!(
        add(&mut p, &mut v, wrong, true).unwrap_err().code(),
        "tx.wrong_chain"
    );
    let mut old = tx(2, 0);
    old.body.expiry_height = 0;
    assert_eq!(
        add(&mut p, &mut v, old, true).unwrap_err().code(),
        "tx.expired"
    );
    let c = chain();
    let stale = p.insert_bytes(
        &tx(3, 2).encode(),
        &Sha,
        &view(&c, 1),
        |_| 5,
        &mut v,
        |_| true,
    );
    assert_eq!(stale.unwrap_err().code(), "tx.stale_nonce");
    assert_eq!(
        p.insert_bytes(&[1, 2, 3], &Sha, &view(&c, 1), |_| 0, &mut v, |_| true)
            .unwrap_err()
            .code(),
        "tx.malformed"
    );
    let huge = vec![0u8; MAX_TX_BYTES + 1];
    assert_eq!(
        p.insert_bytes(&huge, &Sha, &view(&c, 1), |_| 0, &mut v, |_| true)
            .unwrap_err()
            .code(),
        "tx.oversized"
    );
    for n in 1..4 {
        add(&mut p, &mut v, tx(1, n), true).unwrap();
    }
    assert_eq!(
        add(&mut p, &mut v, tx(1, 4), true).unwrap_err().code(),
        "mempool.sender_full"
    );
    assert_eq!(p.len(), 4);
}

#[test]
fn signature_verified_once() {
    let mut p = pool(4);
    let mut v = VerifiedSet::new(100);
    let t = tx(1, 0);
    let h = add(&mut p, &mut v, t.clone(), true).unwrap();
    assert!(v.contains(&h, &t.signature));
    p.remove(&h);
    // re-admission does not call verify again
    let c = chain();
    p.insert_bytes(
        &t.encode(),
        &Sha,
        &view(&c, 1),
        |_| 0,
        &mut v,
        |_| panic!("verified twice"),
    )
    .unwrap();
}

#[test]
fn global_cap() {
    let mut p = Mempool::new(MempoolConfig {
        max_txs: 3,
        max_bytes: 1 << 20,
        max_per_sender: 10,
    });
    let mut v = VerifiedSet::new(100);
    for who in 0..3 {
        add(&mut p, &mut v, tx(who, 0), true).unwrap();
    }
    assert_eq!(
        add(&mut p, &mut v, tx(9, 0), true).unwrap_err().code(),
        "mempool.full"
    );
}

#[test]
fn select_is_nonce_ordered_and_fair_then_prunes() {
    let mut p = pool(10);
    let mut v = VerifiedSet::new(100);
    for n in [2, 0, 1, 4] {
        add(&mut p, &mut v, tx(1, n), true).unwrap();
    }
    add(&mut p, &mut v, tx(2, 0), true).unwrap();
    let picked = p.select(100, 1 << 20, |_| 0);
    let order: Vec<(u8, u64)> = picked
        .iter()
        .map(|t| (t.body.sender[0], t.body.nonce))
        .collect();
    // sender 1 has a gap at 3, so 4 is not ready; senders interleave (in address order)
    assert_eq!(order.len(), 4);
    assert_ne!(
        order[0].0, order[1].0,
        "first round takes one tx per sender"
    );
    let s1: Vec<u64> = order.iter().filter(|o| o.0 == 1).map(|o| o.1).collect();
    assert_eq!(s1, vec![0, 1, 2]);
    assert_eq!(p.select(2, 1 << 20, |_| 0).len(), 2);
    let s1 = Address::from_public_key(&Sha, &[1; 33]);
    let s2 = Address::from_public_key(&Sha, &[2; 33]);
    let touched = std::collections::BTreeSet::from([s1, s2]);
    p.prune(2, &touched, |a| if *a == s1 { 3 } else { 1 });
    assert_eq!(p.len(), 1); // only (1, 4) is left
}
