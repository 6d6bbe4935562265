//! A TCP relay that adds a fixed delay in each direction: the devnet's stand-in for the
//! long-distance link between two regions (`devnet --regions 2 --link-rtt-ms N` puts it
//! between the relayer and region B). Bytes keep their order; each chunk read is written
//! half the round trip later, so every request/response exchange costs one extra RTT, as on
//! a real WAN link (bandwidth is not limited).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, Result};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// Listens on `listen` and forwards every connection to `target` with `rtt / 2` added in each
/// direction. Runs on `rt` until the process ends.
pub fn spawn_delay_link(
    rt: &tokio::runtime::Runtime,
    listen: SocketAddr,
    target: SocketAddr,
    rtt: Duration,
) -> Result<()> {
    let listener = rt
        .block_on(TcpListener::bind(listen))
        .with_context(|| format!("link: cannot listen on {listen}"))?;
    let one_way = rtt / 2;
    rt.spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(outbound) = TcpStream::connect(target).await else {
                    return;
                };
                let _ = inbound.set_nodelay(true);
                let _ = outbound.set_nodelay(true);
                let (ri, wi) = inbound.into_split();
                let (ro, wo) = outbound.into_split();
                tokio::join!(pipe(ri, wo, one_way), pipe(ro, wi, one_way));
            });
        }
    });
    Ok(())
}

/// Copies `from` to `to`, each chunk delivered `delay` after it was read.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx
                        .send((Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        // Dropping `tx` ends the writer once everything queued is delivered.
    };
    let writer = async move {
        while let Some((at, data)) = rx.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&data).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Write as _};

    /// An echo server behind the link: one exchange takes at least the round trip, and
    /// the bytes come back intact and in order.
    #[test]
    fn the_link_delays_each_exchange_by_the_round_trip() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let echo = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let target = echo.local_addr().unwrap();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = echo.accept() {
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        });
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        spawn_delay_link(&rt, port, target, Duration::from_millis(120)).unwrap();
        let mut c = std::net::TcpStream::connect(port).unwrap();
        let msg: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
        let started = std::time::Instant::now();
        c.write_all(&msg).unwrap();
        let mut back = vec![0u8; msg.len()];
        c.read_exact(&mut back).unwrap();
        let took = started.elapsed();
        assert_eq!(back, msg);
        assert!(took >= Duration::from_millis(120), "took {took:?}");
    }
}
