//! The sandbox over HTTPS: a client that trusts the self-signed certificate reaches the
//! emulated BigCommerce store on 127.0.0.1 and localhost; one that does not is refused.

use reqwest::StatusCode;
use sandbox::tls::SelfSigned;
use sandbox::{Sandbox, SandboxConfig};

#[tokio::test]
async fn a_client_trusting_the_certificate_reaches_the_store_over_https() {
    let tls = SelfSigned::generate().unwrap();
    let dir = std::env::temp_dir().join(format!("bc-tls-test-{}", std::process::id()));
    let (cert_path, key_path) = tls.write_to(&dir).unwrap();
    assert!(
        std::fs::read_to_string(&cert_path)
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert!(
        std::fs::read_to_string(&key_path)
            .unwrap()
            .contains("PRIVATE KEY")
    );

    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = tcp.local_addr().unwrap().port();
    let sandbox = Sandbox::new(SandboxConfig::new(
        format!("https://127.0.0.1:{port}").parse().unwrap(),
    ));
    let router = sandbox.router();
    let server = {
        let tls = tls.clone();
        tokio::spawn(async move { sandbox::tls::serve_tls(tcp, &tls, router).await })
    };

    let root =
        reqwest::Certificate::from_pem(std::fs::read(&cert_path).unwrap().as_slice()).unwrap();
    let trusting = reqwest::Client::builder()
        .add_root_certificate(root)
        .build()
        .unwrap();
    for host in ["127.0.0.1", "localhost"] {
        let response = trusting
            .get(format!(
                "https://{host}:{port}/bc/stores/demo-bc/v3/catalog/products?limit=1"
            ))
            .header("x-auth-token", "sandbox-bc-token")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{host}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["meta"]["pagination"]["total"], 300);
    }

    let untrusting = reqwest::Client::new();
    let refused = untrusting
        .get(format!(
            "https://127.0.0.1:{port}/bc/stores/demo-bc/v3/catalog/brands"
        ))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a client that does not trust the certificate is refused"
    );
    // A failed handshake leaves the listener serving.
    let again = trusting
        .get(format!("https://127.0.0.1:{port}/bc/manage/demo-bc"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    server.abort();
    let _ = std::fs::remove_dir_all(dir);
}
