//! The sandbox on a real socket, driven by an ordinary HTTP client with a cookie store, as the
//! connector and a browser reach it.

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sandbox::{Sandbox, SandboxConfig};
use sha2::{Digest, Sha256};

fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("the hidden field") + marker.len();
    let end = html[start..].find('"').unwrap();
    html[start..start + end].to_owned()
}

#[tokio::test]
async fn a_client_over_http_completes_the_code_flow_and_reads_a01() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = Sandbox::new(SandboxConfig::new(base.parse().unwrap()));
    let callback = format!("{base}/callback?tenant=1");
    sandbox.add_redirect_uri("marketbridge-demo", &callback);
    let router = sandbox.router();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            // Follow the sandbox's own steps; stop at the callback, as the connector would get it.
            if attempt.url().path() == "/callback" {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .build()
        .unwrap();
    let verifier = "a-verifier-long-enough-for-rfc-7636-requirements-0123";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let login = browser
        .get(format!("{base}/mas/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", "marketbridge-demo"),
            ("redirect_uri", &callback),
            ("state", "over-http"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let selection = browser
        .post(format!("{base}/mas/login"))
        .form(&[
            ("email", "seller@example.com"),
            ("password", "sandbox-seller-pass"),
            ("csrf_token", &hidden_field(&login, "csrf_token")),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let consent = browser
        .post(format!("{base}/mas/select"))
        .form(&[
            ("marketplace", "demo-marketplace"),
            ("store", "2001"),
            ("csrf_token", &hidden_field(&selection, "csrf_token")),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let redirect = browser
        .post(format!("{base}/mas/consent"))
        .form(&[
            ("decision", "accept"),
            ("csrf_token", &hidden_field(&consent, "csrf_token")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), StatusCode::FOUND);
    let location: url::Url = redirect.headers()["location"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let code = location
        .query_pairs()
        .find(|(name, _)| name == "code")
        .map(|(_, value)| value.into_owned())
        .expect("a code");

    let connector = reqwest::Client::new();
    let tokens: serde_json::Value = connector
        .post(format!("{base}/mas/oauth/token"))
        .basic_auth("marketbridge-demo", Some("sandbox-client-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &callback),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let account = connector
        .get(format!("{base}/mmp/demo-marketplace/api/account"))
        .query(&[("shop_id", "2001")])
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(account.status(), StatusCode::OK);
    let account: serde_json::Value = account.json().await.unwrap();
    assert_eq!(account["shop_name"], "Demo Store");

    let oversized = connector
        .post(format!("{base}/mas/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 100 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(oversized.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(sandbox.call_count("mmp.a01"), 1);
    server.abort();
}

#[tokio::test]
async fn an_offer_file_sent_with_reqwest_multipart_is_imported_over_http() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = Sandbox::new(SandboxConfig::new(base.parse().unwrap()));
    let router = sandbox.router();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let gtin = sandbox.marketplace_products("demo-marketplace")[0]["gtin"]
        .as_str()
        .unwrap()
        .to_owned();
    // A file bigger than the 64 KiB the sandbox's forms take: a shop's whole catalog.
    let mut file =
        String::from("sku;product-id;product-id-type;price;quantity;state;description\n");
    file.push_str(&format!(
        "BIG-1;{gtin};EAN;10.00;3;11;{}\n",
        "x".repeat(100 * 1024)
    ));
    let form = reqwest::multipart::Form::new()
        .text("import_mode", "NORMAL")
        .part(
            "file",
            reqwest::multipart::Part::bytes(file.into_bytes())
                .file_name("offers.csv")
                .mime_str("text/csv")
                .unwrap(),
        );
    let connector = reqwest::Client::new();
    let created = connector
        .post(format!("{base}/mmp/demo-marketplace/api/offers/imports"))
        .header("authorization", "sandbox-shop-api-key")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let import: serde_json::Value = created.json().await.unwrap();
    sandbox.settle_imports();
    let status: serde_json::Value = connector
        .get(format!(
            "{base}/mmp/demo-marketplace/api/offers/imports/{}",
            import["import_id"]
        ))
        .header("authorization", "sandbox-shop-api-key")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "COMPLETE");
    assert_eq!(status["offer_inserted"], 1);
    server.abort();
}
