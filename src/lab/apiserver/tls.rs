//! TLS for the API server. kubectl (client-go) sends bearer tokens only over TLS, so the server
//! serves HTTPS with its own CA and a certificate for 127.0.0.1, ::1 and localhost. The CA goes
//! into the kubeconfig. Handshakes run in their own tasks so a slow client never blocks others.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::persistence::{write_atomic, PersistError};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Failures creating or loading the certificates.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    #[error("cannot generate the lab certificates")]
    Generate(#[from] rcgen::Error),
    #[error("cannot use the lab certificates")]
    Rustls(#[from] rustls::Error),
    #[error("cannot read the lab certificates")]
    Pem(#[from] rustls::pki_types::pem::Error),
    #[error(transparent)]
    Persist(#[from] PersistError),
}

/// The CA (for clients) and the server's certificate and key, all PEM.
#[derive(Debug, Clone)]
pub struct TlsMaterial {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

fn generate() -> Result<TlsMaterial, TlsError> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "metallbctl-lab-ca");
    ca_params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    ca_params.not_after = rcgen::date_time_ymd(2045, 1, 1);
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key)?;
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "metallbctl-lab-apiserver");
    params
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    params
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2045, 1, 1);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &ca, &ca_key)?;
    Ok(TlsMaterial {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// The state directory's certificates, created on first use; fresh ones without a directory.
pub fn load_or_create(dir: Option<&Path>) -> Result<TlsMaterial, TlsError> {
    let Some(dir) = dir else { return generate() };
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).ok();
    if let (Some(ca_pem), Some(cert_pem), Some(key_pem)) =
        (read("ca.crt"), read("apiserver.crt"), read("apiserver.key"))
    {
        return Ok(TlsMaterial {
            ca_pem,
            cert_pem,
            key_pem,
        });
    }
    let m = generate()?;
    write_atomic(&dir.join("ca.crt"), m.ca_pem.as_bytes(), 0o644)?;
    write_atomic(&dir.join("apiserver.crt"), m.cert_pem.as_bytes(), 0o644)?;
    write_atomic(&dir.join("apiserver.key"), m.key_pem.as_bytes(), 0o600)?;
    Ok(m)
}

/// A rustls acceptor speaking HTTP/1.1.
pub fn acceptor(m: &TlsMaterial) -> Result<TlsAcceptor, TlsError> {
    let cert = CertificateDer::from_pem_slice(m.cert_pem.as_bytes())?;
    let key = PrivateKeyDer::from_pem_slice(m.key_pem.as_bytes())?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A listener that yields finished TLS connections.
pub struct TlsListener {
    local: SocketAddr,
    rx: mpsc::Receiver<(TlsStream<tokio::net::TcpStream>, SocketAddr)>,
    accept_task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

impl TlsListener {
    /// Accept TCP connections on `tcp` and hand over those that complete a handshake.
    pub fn new(tcp: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, rx) = mpsc::channel(64);
        let accept_task = tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = tcp.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    if let Ok(Ok(tls)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        let _ = tx.send((tls, peer)).await;
                    }
                });
            }
        });
        Ok(TlsListener {
            local,
            rx,
            accept_task,
        })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            if let Some(conn) = self.rx.recv().await {
                return conn;
            }
            // The accept task is gone (runtime shutting down): wait to be dropped.
            std::future::pending::<()>().await;
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
