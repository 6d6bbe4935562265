//! Port selection shared by the process-level tests.
//!
//! Ports come from 20000..32000, below Linux's ephemeral range (32768-60999): a port picked from
//! the ephemeral range can be taken by an outgoing connection (the nodes dial each other) between
//! the check and the node's bind. A per-process cursor keeps tests in one binary apart.

#![allow(dead_code)]

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

static CURSOR: AtomicU32 = AtomicU32::new(0);

fn candidate() -> u16 {
    let seed = std::process::id().wrapping_mul(2_654_435_761);
    let n = CURSOR.fetch_add(1, Ordering::SeqCst);
    20_000 + ((seed.wrapping_add(n.wrapping_mul(7))) % 12_000) as u16
}

/// `n` distinct free loopback ports.
pub fn free_ports(n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    while out.len() < n {
        let p = candidate();
        if !out.contains(&p) && TcpListener::bind(("127.0.0.1", p)).is_ok() {
            out.push(p);
        }
    }
    out
}

/// A base port such that `base..base + n` are all free.
pub fn free_port_base(n: u16) -> u16 {
    loop {
        let base = candidate();
        if base > 32_000 - n {
            continue;
        }
        if (0..n).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            // Move the cursor past the range so the next caller does not overlap it.
            CURSOR.fetch_add(u32::from(n) * 2, Ordering::SeqCst);
            return base;
        }
    }
}
