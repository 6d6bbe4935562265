//! Typed storage (`Item`, `Map`) and ranges/paging over the mock host.

use meridian_contract_sdk::testing::{addr, MockHost};
use meridian_contract_sdk::{Address, ContractError, Ctx, EntryPoints, Item, Map, Order};

fn host() -> MockHost {
    MockHost::new("store", EntryPoints::NONE)
}

const CONFIG: Item<(String, u64)> = Item::new("config");
const BY_ID: Map<u64, String> = Map::new("id");
const BY_NAME: Map<String, u64> = Map::new("name");
const ALLOW: Map<(Address, Address), u32> = Map::new("allow");
/// Namespace that is a prefix of another (`id` vs `idx`) to check isolation.
const IDX: Map<u64, String> = Map::new("idx");

#[test]
fn item_load_save_update_remove() {
    let mut h = host();
    h.with_ctx(|ctx| {
        assert_eq!(CONFIG.may_load(ctx), Ok(None));
        assert!(!CONFIG.exists(ctx));
        assert_eq!(CONFIG.load(ctx).unwrap_err().code(), "not_found");
        CONFIG.save(ctx, &("x".into(), 1)).unwrap();
        let v = CONFIG
            .update(ctx, |c| -> Result<_, ContractError> {
                let (s, n) = c.unwrap();
                Ok((s, n + 1))
            })
            .unwrap();
        assert_eq!(v, ("x".to_string(), 2));
        assert_eq!(CONFIG.load(ctx).unwrap(), ("x".to_string(), 2));
    });
    assert_eq!(h.storage_get(b"config"), Some(br#"["x",2]"#.to_vec()));
    h.with_ctx(|ctx| CONFIG.remove(ctx));
    assert!(h.storage().is_empty());
    // Undecodable stored value: bad_state, not a panic.
    h.storage_set(b"config", b"{");
    h.with_query_ctx(|ctx| assert_eq!(CONFIG.load(ctx).unwrap_err().code(), "bad_state"));
}

#[test]
fn map_key_layout_and_borrowed_lookups() {
    let mut h = host();
    h.with_ctx(|ctx| {
        BY_ID.save(ctx, &258, &"a".into()).unwrap();
        BY_NAME.save(ctx, "bob", &7).unwrap();
        assert_eq!(BY_NAME.load(ctx, "bob"), Ok(7));
        assert_eq!(BY_NAME.load(ctx, &"bob".to_string()), Ok(7));
        assert!(BY_NAME.has(ctx, "bob") && !BY_NAME.has(ctx, "eve"));
        let (a, b) = (addr("a"), addr("b"));
        ALLOW.save(ctx, &(a, b), &5).unwrap();
        assert_eq!(ALLOW.may_load(ctx, &(a, b)), Ok(Some(5)));
        assert_eq!(ALLOW.may_load(ctx, &(b, a)), Ok(None));
        BY_NAME.remove(ctx, "bob");
        assert_eq!(BY_NAME.may_load(ctx, "bob"), Ok(None));
    });
    let keys: Vec<Vec<u8>> = h.storage().into_iter().map(|(k, _)| k).collect();
    let mut allow_key = vec![0, 5];
    allow_key.extend_from_slice(b"allow");
    allow_key.extend_from_slice(&[0, 20]);
    allow_key.extend_from_slice(&addr("a").0);
    allow_key.extend_from_slice(&addr("b").0);
    assert_eq!(
        keys,
        vec![vec![0, 2, b'i', b'd', 0, 0, 0, 0, 0, 0, 1, 2], allow_key]
    );
}

#[test]
fn u64_keys_range_numerically_and_namespaces_do_not_leak() {
    let mut h = host();
    let ids = [65_536u64, 1, 256, 10, 2, u64::MAX, 0];
    h.with_ctx(|ctx| {
        for id in ids {
            BY_ID.save(ctx, &id, &format!("v{id}")).unwrap();
            IDX.save(ctx, &id, &"other".into()).unwrap();
        }
        BY_NAME.save(ctx, "zzz", &1).unwrap();
    });
    h.with_query_ctx(|ctx| {
        let asc: Vec<u64> = BY_ID
            .range(ctx, None, None, 100, Order::Ascending)
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(asc, [0, 1, 2, 10, 256, 65_536, u64::MAX]);
        let desc = BY_ID.range(ctx, None, None, 3, Order::Descending).unwrap();
        assert_eq!(
            desc,
            [
                (u64::MAX, format!("v{}", u64::MAX)),
                (65_536, "v65536".to_string()),
                (256, "v256".to_string()),
            ]
        );
        // start inclusive, end exclusive.
        let mid: Vec<u64> = BY_ID
            .range(ctx, Some(&2), Some(&256), 100, Order::Ascending)
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(mid, [2, 10]);
        assert!(BY_ID
            .range(ctx, Some(&10), Some(&10), 100, Order::Ascending)
            .unwrap()
            .is_empty());
        assert!(BY_ID
            .range(ctx, None, None, 0, Order::Ascending)
            .unwrap()
            .is_empty());
        assert_eq!(IDX.iter(ctx, Order::Ascending).count(), ids.len());
    });
}

fn fill(h: &mut MockHost, n: u64) {
    h.with_ctx(|ctx| {
        for i in 0..n {
            BY_ID.save(ctx, &(i * 3), &i.to_string()).unwrap();
        }
        // Neighbours on both sides of the namespace.
        IDX.save(ctx, &0, &"x".into()).unwrap();
        Item::<u8>::new("a").save(ctx, &1).unwrap();
    });
}

fn keys_of(ctx: &Ctx, order: Order) -> Vec<u64> {
    BY_ID.iter(ctx, order).map(|r| r.unwrap().0).collect()
}

#[test]
fn ranges_are_capped_at_100_and_paging_sees_everything() {
    let mut h = host();
    fill(&mut h, 250);
    let all: Vec<u64> = (0..250).map(|i| i * 3).collect();
    h.with_query_ctx(|ctx| {
        assert_eq!(
            BY_ID
                .range(ctx, None, None, 1000, Order::Ascending)
                .unwrap()
                .len(),
            100,
            "limit clamped to the host's 100"
        );
        assert_eq!(keys_of(ctx, Order::Ascending), all);
        let mut rev = all.clone();
        rev.reverse();
        assert_eq!(keys_of(ctx, Order::Descending), rev);

        // Cursor paging as a query would do it.
        let mut seen = Vec::new();
        let mut after: Option<u64> = None;
        loop {
            let page = BY_ID.page(ctx, after.as_ref(), 30).unwrap();
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= 30);
            after = page.last().map(|(k, _)| *k);
            seen.extend(page.into_iter().map(|(k, _)| k));
        }
        assert_eq!(seen, all);

        // Raw paging with a page size that does not divide the count, both orders.
        let prefix = BY_ID.prefix();
        for order in [Order::Ascending, Order::Descending] {
            let n = ctx
                .range_iter(&prefix, Some(&[0, 2, b'i', b'e'][..]), order, 7)
                .count();
            assert_eq!(n, 250, "{order:?}");
        }
    });
}

#[test]
fn paging_past_a_maximal_key() {
    let mut h = host();
    let long = vec![0xffu8; 256];
    h.with_ctx(|ctx| {
        ctx.set(&long, b"1");
        ctx.set(&[0xff; 255], b"2");
        ctx.set(b"a", b"3");
    });
    h.with_query_ctx(|ctx| {
        let got: Vec<Vec<u8>> = ctx
            .range_iter(b"", None, Order::Ascending, 1)
            .map(|(k, _)| k)
            .collect();
        assert_eq!(got, vec![b"a".to_vec(), vec![0xff; 255], long.clone()]);
    });
}

#[test]
fn proptest_like_model_check_of_map_ranges() {
    // Deterministic pseudo-random inserts/removes against a BTreeMap model.
    let mut h = host();
    let mut model = std::collections::BTreeMap::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..600 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let k = x % 300;
        if x.is_multiple_of(5) {
            model.remove(&k);
            h.with_ctx(|ctx| BY_ID.remove(ctx, &k));
        } else {
            model.insert(k, x.to_string());
            h.with_ctx(|ctx| BY_ID.save(ctx, &k, &x.to_string()).unwrap());
        }
    }
    let want: Vec<(u64, String)> = model.into_iter().collect();
    h.with_query_ctx(|ctx| {
        let got: Vec<(u64, String)> = BY_ID
            .iter(ctx, Order::Ascending)
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, want);
    });
}
