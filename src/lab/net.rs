//! The lab's virtual network: Service ClusterIP:port pairs (such as 10.96.0.100:179) resolve
//! to the real loopback listener of the router behind them. Speakers dial through
//! [`VirtualNet::dialer`], so nothing ever dials a 10.x address; loopback targets pass
//! through unchanged and everything else is refused.
//!
//! [`MappedDialer`] is the BGP driver's `Dialer` for any such map (`VirtualNet`, or a fixed
//! one in tests); an address it cannot map fails with [`Unmapped`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use crate::bgp::driver::{DialFuture, DialOptions, Dialer, DriverError, TcpDialer};

/// A dial to an address nothing is mapped to.
#[derive(Debug, thiserror::Error)]
#[error("no loopback listener is mapped for {0}")]
pub struct Unmapped(pub SocketAddr);

/// A function from a configured (possibly virtual) address to the real one to dial.
pub type AddressMap = dyn Fn(SocketAddr) -> Option<SocketAddr> + Send + Sync;

/// Translates addresses through a map before dialling (the lab's virtual network).
pub struct MappedDialer {
    map: Arc<AddressMap>,
    inner: TcpDialer,
}

impl MappedDialer {
    pub fn new(inner: TcpDialer, map: Arc<AddressMap>) -> Self {
        MappedDialer { map, inner }
    }
}

impl Dialer for MappedDialer {
    fn dial(&self, target: SocketAddr, opts: &DialOptions) -> DialFuture {
        match (self.map)(target) {
            Some(real) => self.inner.dial(real, opts),
            None => Box::pin(async move { Err(DriverError::Dialer(Box::new(Unmapped(target)))) }),
        }
    }
}

/// The address map, shared by the runtime (writer) and every speaker's dialer (readers).
#[derive(Debug, Clone, Default)]
pub struct VirtualNet {
    map: Arc<RwLock<BTreeMap<SocketAddr, SocketAddr>>>,
}

impl VirtualNet {
    /// Route `virt` (a ClusterIP:port) to `real` (a loopback listener).
    pub fn register(&self, virt: SocketAddr, real: SocketAddr) {
        if let Ok(mut m) = self.map.write() {
            m.insert(virt, real);
        }
    }

    /// Forget `virt`; dialling it fails from now on.
    pub fn unregister(&self, virt: SocketAddr) {
        if let Ok(mut m) = self.map.write() {
            m.remove(&virt);
        }
    }

    /// Where a dial to `target` really goes: the mapped listener, a loopback target as is,
    /// or nothing.
    pub fn resolve(&self, target: SocketAddr) -> Option<SocketAddr> {
        let mapped = self.map.read().ok().and_then(|m| m.get(&target).copied());
        mapped.or_else(|| target.ip().is_loopback().then_some(target))
    }

    /// Every mapping, for `lab status`.
    pub fn entries(&self) -> Vec<(SocketAddr, SocketAddr)> {
        self.map
            .read()
            .map(|m| m.iter().map(|(a, b)| (*a, *b)).collect())
            .unwrap_or_default()
    }

    /// A dialer that resolves through this map and only ever dials loopback.
    pub fn dialer(&self) -> Arc<dyn Dialer> {
        let net = self.clone();
        Arc::new(MappedDialer::new(
            TcpDialer {
                loopback_only: true,
            },
            Arc::new(move |t| net.resolve(t)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unmapped_addresses_are_refused_with_their_own_message() {
        let net = VirtualNet::default();
        let opts = DialOptions {
            source: None,
            timeout: std::time::Duration::from_millis(100),
            md5_password: None,
        };
        let err = net
            .dialer()
            .dial("10.96.0.100:179".parse().unwrap(), &opts)
            .await
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("no loopback listener is mapped for 10.96.0.100:179")
        );
    }

    #[test]
    fn maps_virtual_passes_loopback_refuses_the_rest() {
        let net = VirtualNet::default();
        let v: SocketAddr = "10.96.0.100:179".parse().unwrap();
        let r: SocketAddr = "127.0.0.100:41790".parse().unwrap();
        assert_eq!(net.resolve(v), None);
        net.register(v, r);
        assert_eq!(net.resolve(v), Some(r));
        assert_eq!(net.resolve(r), Some(r));
        assert_eq!(net.resolve("192.0.2.1:179".parse().unwrap()), None);
        net.unregister(v);
        assert_eq!(net.resolve(v), None);
    }
}
