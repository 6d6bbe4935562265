//! Wakes async waiters when the finalized height advances.
//!
//! Pure std (a mutex and [`Waker`]s) so the ledger stays runtime-agnostic: the API's event
//! stream and `commit` submissions await [`HeightNotify::above`] instead of polling storage.
//! A waiter that is dropped removes its waker, so the registry holds at most one entry per
//! live waiter however long the chain stalls.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

struct State {
    height: u64,
    next_id: u64,
    wakers: HashMap<u64, Waker>,
}

/// The latest finalized height plus the tasks waiting for it to grow.
pub struct HeightNotify {
    state: Mutex<State>,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl HeightNotify {
    pub fn new(height: u64) -> Self {
        Self {
            state: Mutex::new(State {
                height,
                next_id: 0,
                wakers: HashMap::new(),
            }),
        }
    }

    /// The last published height.
    pub fn height(&self) -> u64 {
        lock(&self.state).height
    }

    /// Records a new finalized height and wakes every waiter (heights never go back).
    pub fn publish(&self, height: u64) {
        let wakers: Vec<Waker> = {
            let mut s = lock(&self.state);
            if height <= s.height {
                return;
            }
            s.height = height;
            s.wakers.drain().map(|(_, w)| w).collect()
        };
        for w in wakers {
            w.wake();
        }
    }

    /// Resolves with the finalized height once it exceeds `height`.
    pub fn above(&self, height: u64) -> Above<'_> {
        Above {
            notify: self,
            height,
            id: None,
        }
    }

    /// Number of registered waiters (for tests).
    pub fn waiters(&self) -> usize {
        lock(&self.state).wakers.len()
    }
}

/// Future returned by [`HeightNotify::above`].
pub struct Above<'a> {
    notify: &'a HeightNotify,
    height: u64,
    id: Option<u64>,
}

impl Future for Above<'_> {
    type Output = u64;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        let mut s = lock(&self.notify.state);
        if s.height > self.height {
            let h = s.height;
            if let Some(id) = self.id {
                s.wakers.remove(&id);
            }
            drop(s);
            self.id = None;
            return Poll::Ready(h);
        }
        let id = match self.id {
            Some(id) => id,
            None => {
                let id = s.next_id;
                s.next_id += 1;
                id
            }
        };
        s.wakers.insert(id, cx.waker().clone());
        drop(s);
        self.id = Some(id);
        Poll::Pending
    }
}

impl Drop for Above<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            lock(&self.notify.state).wakers.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn wakes_on_publish_and_cleans_up() {
        let n = Arc::new(HeightNotify::new(5));
        assert_eq!(futures::executor::block_on(n.above(4)), 5);
        let n2 = n.clone();
        let t = std::thread::spawn(move || futures::executor::block_on(n2.above(5)));
        while n.waiters() == 0 {
            std::thread::yield_now();
        }
        n.publish(5); // not higher: no wake
        n.publish(7);
        assert_eq!(t.join().unwrap(), 7);
        assert_eq!(n.waiters(), 0);
        // A dropped waiter leaves nothing behind.
        let mut f = Box::pin(n.above(100));
        let waker = futures::task::noop_waker();
        assert!(f
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        assert_eq!(n.waiters(), 1);
        drop(f);
        assert_eq!(n.waiters(), 0);
    }
}
