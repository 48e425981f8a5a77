//! HTTPS for the sandbox: a self-signed certificate for `127.0.0.1` and `localhost`, and a
//! listener that serves the sandbox's router over TLS beside its plain HTTP one. BigCommerce
//! clients assume https (the official Python client builds `https://` URLs; app callbacks and
//! hook destinations must be https), so a client trusting the certificate's PEM reaches the
//! emulated stores unchanged.
//!
//! The certificate is new at every start. TLS handshakes run each in a task of its own, so a
//! client that stalls in its handshake holds up no other.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::server::TlsStream;

/// How long a client may take over its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("the self-signed certificate could not be made: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("the TLS configuration was refused: {0}")]
    Config(#[from] tokio_rustls::rustls::Error),
}

/// A self-signed certificate and its key, ready to serve.
#[derive(Clone)]
pub struct SelfSigned {
    /// The certificate, PEM: what a client adds to its trusted roots.
    pub cert_pem: String,
    /// The private key (PKCS #8), PEM.
    pub key_pem: String,
    config: Arc<ServerConfig>,
}

impl std::fmt::Debug for SelfSigned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelfSigned").finish_non_exhaustive()
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut text = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).unwrap_or_default());
        text.push('\n');
    }
    text.push_str(&format!("-----END {label}-----\n"));
    text
}

impl SelfSigned {
    /// A fresh certificate for `127.0.0.1` and `localhost`.
    pub fn generate() -> Result<Self, TlsError> {
        let certified = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
        ])?;
        let cert_der = certified.cert.der().clone();
        let key_der = certified.signing_key.serialize_der();
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert_der.to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der.clone())),
            )?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            cert_pem: pem("CERTIFICATE", &cert_der),
            key_pem: pem("PRIVATE KEY", &key_der),
            config: Arc::new(config),
        })
    }

    /// Writes `sandbox-cert.pem` and `sandbox-key.pem` into `dir` (made if missing); their
    /// paths.
    pub fn write_to(&self, dir: &Path) -> io::Result<(PathBuf, PathBuf)> {
        std::fs::create_dir_all(dir)?;
        let cert = dir.join("sandbox-cert.pem");
        let key = dir.join("sandbox-key.pem");
        std::fs::write(&cert, &self.cert_pem)?;
        std::fs::write(&key, &self.key_pem)?;
        Ok((cert, key))
    }

    /// A listener of TLS connections on `tcp`, for `axum::serve`.
    pub fn listener(&self, tcp: TcpListener) -> TlsListener {
        let acceptor = TlsAcceptor::from(self.config.clone());
        let local_addr = tcp.local_addr();
        let (sender, receiver) = mpsc::channel(64);
        let task = tokio::spawn(async move {
            loop {
                let (stream, addr) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: wait, as axum's own listener does.
                        tracing::warn!(%error, "accepting a TLS connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let (acceptor, sender) = (acceptor.clone(), sender.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = sender.send((tls, addr)).await;
                        }
                        Ok(Err(error)) => tracing::debug!(%error, %addr, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
                    }
                });
            }
        });
        TlsListener {
            receiver,
            local_addr,
            task,
        }
    }
}

/// TLS connections whose handshake is done, for `axum::serve(listener, router)`.
pub struct TlsListener {
    receiver: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: io::Result<SocketAddr>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.receiver.recv().await {
            Some(accepted) => accepted,
            // The accepting task is gone only once the listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        match &self.local_addr {
            Ok(addr) => Ok(*addr),
            Err(error) => Err(io::Error::new(error.kind(), error.to_string())),
        }
    }
}

/// Serves `router` over TLS on `tcp` until the task is dropped.
pub async fn serve_tls(tcp: TcpListener, tls: &SelfSigned, router: Router) -> io::Result<()> {
    axum::serve(tls.listener(tcp), router).await
}
