//! UDP port allocation for RTP/RTCP pairs (RFC 3550 §11: RTP on an even port, RTCP on
//! the next odd one).

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::model::MixerError;

/// A bound RTP/RTCP socket pair; the ports return to the pool when it is dropped.
#[derive(Debug)]
pub struct RtpSocketPair {
    pub rtp: UdpSocket,
    pub rtcp: UdpSocket,
    pub rtp_port: u16,
    pool: PortPool,
}

impl Drop for RtpSocketPair {
    fn drop(&mut self) {
        self.pool
            .inner
            .lock()
            .in_use
            .retain(|p| *p != self.rtp_port);
    }
}

#[derive(Debug)]
struct PoolInner {
    in_use: Vec<u16>,
    next: u16,
}

/// The daemon's UDP port range, shared by all mixers.
#[derive(Debug, Clone)]
pub struct PortPool {
    bind_ip: IpAddr,
    first: u16,
    last: u16,
    inner: Arc<Mutex<PoolInner>>,
}

impl PortPool {
    /// Ports `first..=last` on `bind_ip`. `first` is rounded up to even.
    pub fn new(bind_ip: IpAddr, first: u16, last: u16) -> Self {
        let first = first + first % 2;
        Self {
            bind_ip,
            first,
            last,
            inner: Arc::new(Mutex::new(PoolInner {
                in_use: Vec::new(),
                next: first,
            })),
        }
    }

    /// Loopback, 40000..=40999.
    pub fn default_loopback() -> Self {
        Self::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40_000, 40_999)
    }

    /// The address sockets are bound to.
    pub fn bind_ip(&self) -> IpAddr {
        self.bind_ip
    }

    /// "first-last" for messages.
    pub fn range(&self) -> String {
        format!("{}-{}", self.first, self.last)
    }

    /// Binds the next free even/odd pair, skipping ports other programs hold.
    /// Errors: `PortsExhausted` when every pair in the range is taken; `SystemResource`
    /// when a bind fails for want of file descriptors or kernel memory (not a port
    /// problem: trying the other ports would only hide it).
    pub fn allocate(&self) -> Result<RtpSocketPair, MixerError> {
        let mut inner = self.inner.lock();
        let pairs = (u32::from(self.last) + 1 - u32::from(self.first)) / 2;
        for _ in 0..pairs {
            let p = inner.next;
            inner.next = if u32::from(p) + 3 > u32::from(self.last) {
                self.first
            } else {
                p + 2
            };
            if inner.in_use.contains(&p) {
                continue;
            }
            let rtp = match UdpSocket::bind((self.bind_ip, p)) {
                Ok(s) => s,
                Err(e) => match MixerError::system_resource(format!("binding UDP port {p}"), &e) {
                    Some(err) => return Err(err),
                    None => continue,
                },
            };
            let rtcp = match UdpSocket::bind((self.bind_ip, p + 1)) {
                Ok(s) => s,
                Err(e) => {
                    let doing = format!("binding UDP port {}", p + 1);
                    match MixerError::system_resource(doing, &e) {
                        Some(err) => return Err(err),
                        None => continue,
                    }
                }
            };
            inner.in_use.push(p);
            return Ok(RtpSocketPair {
                rtp,
                rtcp,
                rtp_port: p,
                pool: self.clone(),
            });
        }
        Err(MixerError::PortsExhausted {
            range: self.range(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_out_of_descriptors_is_not_running_out_of_ports() {
        let emfile = std::io::Error::from_raw_os_error(24);
        let e = MixerError::system_resource("binding UDP port 40000", &emfile).unwrap();
        let text = e.to_string();
        assert!(
            text.starts_with("file descriptors exhausted while binding UDP port 40000"),
            "{text}"
        );
        assert!(text.contains("ulimit -n"), "{text}");
        assert_eq!(e.code(), crate::model::ErrorCode::ResourceExhausted);
        let in_use = std::io::Error::from_raw_os_error(98);
        assert!(MixerError::system_resource("x", &in_use).is_none());
    }

    /// Four consecutive UDP ports on loopback (the first even) that are free now: found
    /// from an ephemeral port the OS hands out, so parallel runs do not share a fixed
    /// range. Released before returning (the pool binds them itself).
    fn free_four() -> u16 {
        for _ in 0..200 {
            let probe = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
            let p = probe.local_addr().unwrap().port() & !1;
            drop(probe);
            if p > u16::MAX - 3 {
                continue;
            }
            let held: Result<Vec<UdpSocket>, _> = (p..p + 4)
                .map(|q| UdpSocket::bind((Ipv4Addr::LOCALHOST, q)))
                .collect();
            if held.is_ok() {
                return p;
            }
        }
        panic!("no four consecutive free UDP ports on loopback");
    }

    #[test]
    fn allocates_even_pairs_and_reuses_after_drop() {
        let first = free_four();
        let pool = PortPool::new(IpAddr::V4(Ipv4Addr::LOCALHOST), first, first + 3);
        let a = pool.allocate().unwrap();
        assert_eq!(a.rtp_port % 2, 0);
        let b = pool.allocate().unwrap();
        assert_ne!(a.rtp_port, b.rtp_port);
        assert!(matches!(
            pool.allocate(),
            Err(MixerError::PortsExhausted { .. })
        ));
        let freed = a.rtp_port;
        drop(a);
        assert_eq!(pool.allocate().unwrap().rtp_port, freed);
    }
}
