//! Headless Chromium driven through chromedriver (Debian's `chromium` and `chromium-driver`).
//! Tests find things the way a seller does: fields by their label, buttons and links by their
//! text. Every step can be saved as a screenshot under `target/screenshots/<test>/`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long a page may take to show what a test waits for. A deadline, not a sleep: the wait
/// ends as soon as the text is there.
const DEADLINE: Duration = Duration::from_secs(20);

pub struct Browser {
    client: Client,
    driver: Child,
    shots: PathBuf,
    step: AtomicUsize,
    _profile: PathBuf,
}

/// An XPath string literal for any text, quotes included.
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

impl Browser {
    /// Starts chromedriver and a fresh headless Chromium profile. Fails with a clear message
    /// when they are not installed (the README's test command installs them).
    pub async fn start(test_name: &str) -> Browser {
        for (path, package) in [(CHROMEDRIVER, "chromium-driver"), (CHROMIUM, "chromium")] {
            assert!(
                std::path::Path::new(path).exists(),
                "{path} is missing: install Debian's {package} package (the README's test command, scripts/test, does it)"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile =
            std::env::temp_dir().join(format!("mb-chrome-{}", uuid::Uuid::new_v4().simple()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if started.elapsed() < DEADLINE => {
                    let _ = e;
                    tokio::task::yield_now().await;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("chromedriver did not start a session within {DEADLINE:?}: {e}"),
            }
        };
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/screenshots")
            .join(test_name);
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).unwrap();
        Browser {
            client,
            driver,
            shots,
            step: AtomicUsize::new(0),
            _profile: profile,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    pub async fn current_url(&self) -> url::Url {
        self.client.current_url().await.unwrap()
    }

    /// Types into the field whose label reads `label`.
    pub async fn fill(&self, label: &str, value: &str) {
        let field = self.field(label).await;
        field.clear().await.unwrap();
        field
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("type into {label:?}: {e}"));
    }

    /// Ticks the radio button or checkbox whose label reads `label`.
    pub async fn choose(&self, label: &str) {
        self.field(label)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("choose {label:?}: {e}"));
    }

    /// Picks `option` in the select whose label reads `label`.
    pub async fn select(&self, label: &str, option: &str) {
        let select = self.field(label).await;
        select
            .select_by_label(option)
            .await
            .unwrap_or_else(|e| panic!("select {option:?} in {label:?}: {e}"));
    }

    /// Clicks the button or link that reads `text`.
    pub async fn click(&self, text: &str) {
        let t = xpath_literal(text);
        // Buttons first: a form's button and a navigation link may read the same.
        let xpath = format!(
            "(//button[normalize-space(.)={t}] | //input[(@type='submit' or @type='button') and @value={t}])[1] | //a[normalize-space(.)={t}][not(//button[normalize-space(.)={t}])]"
        );
        let element = self
            .wait_find(&xpath, &format!("a button or link {text:?}"))
            .await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {text:?}: {e}"));
    }

    /// Whether a button or link reading `text` is on the page now.
    pub async fn has_button(&self, text: &str) -> bool {
        let t = xpath_literal(text);
        let xpath = format!("//button[normalize-space(.)={t}] | //a[normalize-space(.)={t}]");
        !self
            .client
            .find_all(Locator::XPath(&xpath))
            .await
            .unwrap()
            .is_empty()
    }

    /// Whether the button reading `text` is disabled.
    pub async fn button_disabled(&self, text: &str) -> bool {
        let t = xpath_literal(text);
        let xpath = format!("//button[normalize-space(.)={t}]");
        let button = self.wait_find(&xpath, &format!("a button {text:?}")).await;
        !button.is_enabled().await.unwrap()
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits until the page shows `text`; fails with a screenshot and the page's text.
    pub async fn expect_text(&self, text: &str) {
        let started = Instant::now();
        loop {
            let body = self.text().await;
            if body.contains(text) {
                return;
            }
            if started.elapsed() > DEADLINE {
                self.screenshot("failure").await;
                panic!("the page never showed {text:?}; it shows:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves the page as `NN-name.png` in this test's screenshot folder.
    pub async fn screenshot(&self, name: &str) {
        let n = self.step.fetch_add(1, Ordering::SeqCst) + 1;
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(self.shots.join(format!("{n:02}-{name}.png")), png);
        }
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self._profile);
    }

    async fn field(&self, label: &str) -> fantoccini::elements::Element {
        let l = xpath_literal(label);
        // A label either names its control with `for`, or wraps it.
        let xpath = format!(
            "//*[@id=//label[normalize-space(.)={l}]/@for] | //label[normalize-space(.)={l}]//*[self::input or self::select or self::textarea]"
        );
        self.wait_find(&xpath, &format!("a field labelled {label:?}"))
            .await
    }

    async fn wait_find(&self, xpath: &str, what: &str) -> fantoccini::elements::Element {
        let started = Instant::now();
        loop {
            if let Ok(e) = self.client.find(Locator::XPath(xpath)).await {
                return e;
            }
            if started.elapsed() > DEADLINE {
                self.screenshot("failure").await;
                panic!("the page has no {what}; it shows:\n{}", self.text().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
