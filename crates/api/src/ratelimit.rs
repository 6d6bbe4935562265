//! Per-client token buckets.
//!
//! A client is an IPv4 address or an IPv6 /64 (one host usually owns a whole /64, so keying
//! by full IPv6 address would let it mint buckets). The table is bounded: when full, buckets
//! that have refilled (idle clients) are dropped, and if that is not enough, new clients
//! share one overflow bucket rather than growing memory.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// Requests per second and burst per client. `per_second = 0` disables the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

impl Default for RateLimit {
    /// Generous enough for a load generator on one host against one node, low enough that
    /// one client cannot monopolise the node's cores.
    fn default() -> Self {
        Self {
            per_second: 5_000,
            burst: 10_000,
        }
    }
}

/// Most clients tracked at once.
pub const MAX_CLIENTS: usize = 65_536;

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub(crate) struct Limiter {
    rate: f64,
    burst: f64,
    max_clients: usize,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Shared bucket of clients that arrive while the table is full.
const OVERFLOW: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

impl Limiter {
    /// `None` when the limit is disabled.
    pub(crate) fn new(cfg: RateLimit) -> Option<Self> {
        Self::with_capacity(cfg, MAX_CLIENTS)
    }

    fn with_capacity(cfg: RateLimit, max_clients: usize) -> Option<Self> {
        (cfg.per_second > 0).then(|| Self {
            rate: f64::from(cfg.per_second),
            burst: f64::from(cfg.burst.max(1)),
            max_clients,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Largest number of tokens a client can ever hold.
    pub(crate) fn burst(&self) -> f64 {
        self.burst
    }

    /// Takes one token for `ip`, or says how many whole seconds until one is available.
    pub(crate) fn check(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        self.take(ip, now, 1)
    }

    /// Takes `cost` tokens for `ip` (all or none), or says how many whole seconds until they
    /// are available. A cost above the burst can never be paid and says so with `u64::MAX`.
    pub(crate) fn take(&self, ip: IpAddr, now: Instant, cost: u32) -> Result<(), u64> {
        let cost = f64::from(cost);
        if cost > self.burst {
            return Err(u64::MAX);
        }
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let mut key = client_key(ip);
        if !map.contains_key(&key) && map.len() >= self.max_clients {
            let (rate, burst) = (self.rate, self.burst);
            map.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
            });
            if map.len() >= self.max_clients {
                key = OVERFLOW;
            }
        }
        let b = map.entry(key).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.rate).min(self.burst);
        b.at = now;
        if b.tokens >= cost {
            b.tokens -= cost;
            Ok(())
        } else {
            Err(((cost - b.tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_refills_and_clients_are_separate() {
        let l = Limiter::new(RateLimit {
            per_second: 2,
            burst: 3,
        })
        .unwrap();
        let t0 = Instant::now();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            l.check(a, t0).unwrap();
        }
        assert_eq!(l.check(a, t0), Err(1));
        l.check(b, t0).unwrap();
        // a multi-token take is all or nothing
        assert_eq!(l.take(b, t0, 3), Err(1));
        l.take(b, t0, 2).unwrap();
        assert_eq!(l.take(b, t0, 4), Err(u64::MAX));
        l.check(a, t0 + Duration::from_millis(500)).unwrap();
        assert!(l.check(a, t0 + Duration::from_millis(500)).is_err());
        assert!(Limiter::new(RateLimit {
            per_second: 0,
            burst: 1
        })
        .is_none());
    }

    #[test]
    fn ipv6_hosts_share_their_64_and_the_table_is_bounded() {
        let l = Limiter::with_capacity(
            RateLimit {
                per_second: 1,
                burst: 1,
            },
            2,
        )
        .unwrap();
        let t0 = Instant::now();
        l.check("2001:db8::1".parse().unwrap(), t0).unwrap();
        assert!(l.check("2001:db8::2".parse().unwrap(), t0).is_err());
        l.check("10.0.0.1".parse().unwrap(), t0).unwrap();
        // table full: a third client lands in the shared overflow bucket
        l.check("10.0.0.2".parse().unwrap(), t0).unwrap();
        assert!(l.check("10.0.0.3".parse().unwrap(), t0).is_err());
        // once the others have refilled they are evicted and new clients get their own bucket
        let later = t0 + Duration::from_secs(5);
        l.check("10.0.0.4".parse().unwrap(), later).unwrap();
        assert_eq!(l.buckets.lock().unwrap().len(), 1);
    }
}
