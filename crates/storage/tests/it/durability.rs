//! Re-open, crash between prepare and commit, and a real `kill -9` of a committing process.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use meridian_storage::{HashKind, Store};

use crate::common::*;

fn writes_for(height: u64) -> Writes {
    // Ten balance updates per block over 40 accounts, deterministic per height.
    (0..10)
        .map(|i| {
            let acct = (height * 7 + i * 3) % 40;
            set(&format!("bal/{acct}"), &format!("{height}:{i}"))
        })
        .collect()
}

#[test]
fn reopen_keeps_everything() {
    for kind in KINDS {
        let dir = tempfile::tempdir().unwrap();
        let mut roots = Vec::new();
        {
            let store = Store::open(dir.path(), kind).unwrap();
            for h in 0..6 {
                roots.push(apply(&store, writes_for(h)));
            }
        }
        let store = Store::open(dir.path(), kind).unwrap();
        assert_eq!(store.latest_height(), Some(5));
        assert_eq!(store.latest_root(), Some(roots[5]));
        for (h, root) in roots.iter().enumerate() {
            let h = h as u64;
            assert_eq!(store.root_at(h).unwrap(), Some(*root));
            assert_eq!(
                store.block(h).unwrap(),
                Some(format!("block {h}").into_bytes())
            );
            assert_eq!(
                store.certificate(h).unwrap(),
                Some(format!("cert {h}").into_bytes())
            );
            assert_eq!(store.height_of(&block_hash(h)).unwrap(), Some(h));
            let (value, proof) = store.get_with_proof(b"bal/0", h).unwrap();
            meridian_storage::verify_state_proof(
                kind,
                *root,
                b"bal/0",
                value.as_deref(),
                &proof.encode(),
            )
            .unwrap();
        }
        // And the chain continues where it stopped, with the same roots as an uninterrupted run.
        let r6 = apply(&store, writes_for(6));
        let (_d2, fresh) = open(kind);
        let mut last = [0; 32];
        for h in 0..7 {
            last = apply(&fresh, writes_for(h));
        }
        assert_eq!(r6, last);
    }
}

#[test]
fn crash_between_prepare_and_commit_keeps_last_height() {
    let dir = tempfile::tempdir().unwrap();
    let (r1, pending_root) = {
        let store = Store::open(dir.path(), HashKind::Sm3).unwrap();
        apply(&store, writes_for(0));
        let r1 = apply(&store, writes_for(1));
        // Block 2 is executed (and block 3 pipelined on it) but never finalized.
        let s2 = store.prepare(None, 2, writes_for(2)).unwrap();
        let s3 = store.prepare(Some(&s2), 3, writes_for(3)).unwrap();
        assert_eq!(s3.get(b"bal/14").unwrap(), Some(b"2:0".to_vec()));
        (r1, s2.root())
        // store, s2, s3 dropped here: the "crash".
    };
    let store = Store::open(dir.path(), HashKind::Sm3).unwrap();
    assert_eq!(store.latest_height(), Some(1));
    assert_eq!(store.latest_root(), Some(r1));
    assert_eq!(store.root_at(2).unwrap(), None);
    assert_eq!(store.block(2).unwrap(), None);
    assert_eq!(store.get_latest(b"bal/14").unwrap(), None); // only block 2 writes it
    assert_eq!(store.get_latest(b"bal/10").unwrap(), Some(b"1:1".to_vec()));
    // Re-executing the block gives the same root and commits.
    let s2 = store.prepare(None, 2, writes_for(2)).unwrap();
    assert_eq!(s2.root(), pending_root);
    commit(&store, 2, s2);
    assert_eq!(store.get_latest(b"bal/14").unwrap(), Some(b"2:0".to_vec()));
}

const KILL_DIR_ENV: &str = "MERIDIAN_STORAGE_KILL_TEST_DIR";

/// Child side of `kill_9_loses_nothing_committed`: commits forever, reporting each height
/// after `commit` returned. Does nothing unless started by that test.
#[test]
#[ignore = "helper process for kill_9_loses_nothing_committed"]
fn kill_9_child() {
    let Ok(dir) = std::env::var(KILL_DIR_ENV) else {
        return;
    };
    let store = Store::open(&dir, HashKind::Sha256).unwrap();
    loop {
        let h = store.latest_height().map_or(0, |h| h + 1);
        let state = store.prepare(None, h, writes_for(h)).unwrap();
        // Pipeline one more block so a prepared-but-uncommitted state exists at kill time.
        let _next = store
            .prepare(Some(&state), h + 1, writes_for(h + 1))
            .unwrap();
        commit(&store, h, state);
        println!("committed {h}");
    }
}

#[test]
fn kill_9_loses_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "durability::kill_9_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(KILL_DIR_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut last_reported = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(h) = line.strip_prefix("committed ") {
            let h: u64 = h.trim().parse().unwrap();
            last_reported = Some(h);
            if h >= 25 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix: no destructors, no flush.
    child.wait().unwrap();
    let last_reported = last_reported.expect("child committed nothing");

    let store = Store::open(dir.path(), HashKind::Sha256).unwrap();
    let latest = store.latest_height().unwrap();
    assert!(
        latest >= last_reported,
        "lost finalized blocks: reported {last_reported}, recovered {latest}"
    );
    // Everything up to `latest` is whole and equals an uninterrupted run.
    let (_d2, fresh) = open(HashKind::Sha256);
    for h in 0..=latest {
        let root = apply(&fresh, writes_for(h));
        assert_eq!(store.root_at(h).unwrap(), Some(root), "root at {h}");
        assert_eq!(
            store.block(h).unwrap(),
            Some(format!("block {h}").into_bytes())
        );
        assert_eq!(store.block_hash(h).unwrap(), Some(block_hash(h)));
    }
    assert_eq!(store.root_at(latest + 1).unwrap(), None);
    // And it continues.
    let next = apply(&store, writes_for(latest + 1));
    assert_eq!(next, apply(&fresh, writes_for(latest + 1)));
}
