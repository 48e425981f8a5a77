//! A plain-HTTP stand-in for a browser, for the integration tests: it keeps cookies, follows
//! redirects one hop at a time when asked, and fills and submits the forms it finds on a page
//! by their labels and button texts — so a test reads like what a seller does, and can still
//! stop at any hop (to copy a callback URL and replay it, say).

use reqwest::StatusCode;
use scraper::{ElementRef, Html, Selector};
use url::Url;

/// One page as the visitor received it.
#[derive(Clone, Debug)]
pub struct Page {
    pub url: Url,
    pub status: StatusCode,
    pub html: String,
}

impl Page {
    /// The page's visible text, whitespace folded.
    pub fn text(&self) -> String {
        let doc = Html::parse_document(&self.html);
        let body = Selector::parse("body").unwrap();
        let text: String = doc
            .select(&body)
            .flat_map(|b| b.text())
            .collect::<Vec<_>>()
            .join(" ");
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    pub fn contains(&self, text: &str) -> bool {
        self.text().contains(text)
    }

    #[track_caller]
    pub fn expect_text(&self, text: &str) {
        assert!(
            self.contains(text),
            "expected {text:?} on {} ({}), page says:\n{}",
            self.url,
            self.status,
            self.text()
        );
    }

    /// The href of the link that reads `text`.
    pub fn link(&self, text: &str) -> Option<Url> {
        let doc = Html::parse_document(&self.html);
        let a = Selector::parse("a[href]").unwrap();
        doc.select(&a)
            .find(|e| normalized(e) == text)
            .and_then(|e| self.url.join(e.value().attr("href")?).ok())
    }

    /// The text of each element the CSS selector `css` picks, in page order, whitespace
    /// folded: e.g. the first cell of each row of a table.
    pub fn texts(&self, css: &str) -> Vec<String> {
        let doc = Html::parse_document(&self.html);
        let selector = Selector::parse(css).unwrap_or_else(|e| panic!("selector {css:?}: {e}"));
        doc.select(&selector).map(|e| normalized(&e)).collect()
    }

    /// Every link on the page whose href contains `fragment`.
    pub fn links_containing(&self, fragment: &str) -> Vec<Url> {
        let doc = Html::parse_document(&self.html);
        let a = Selector::parse("a[href]").unwrap();
        doc.select(&a)
            .filter_map(|e| e.value().attr("href"))
            .filter(|h| h.contains(fragment))
            .filter_map(|h| self.url.join(h).ok())
            .collect()
    }

    /// Every form on the page as it would be sent untouched (each control's current value;
    /// no button's name), for tests that go through all of a page's forms.
    pub fn forms(&self) -> Vec<FormSubmission> {
        let doc = Html::parse_document(&self.html);
        let forms = Selector::parse("form").unwrap();
        doc.select(&forms)
            .map(|form| self.submission(form, default_values(form)))
            .collect()
    }

    /// Builds the request the form holding the button `button` would send, with `fields`
    /// (label → value) filled in. For a select the value is the option's text; for a radio
    /// button or checkbox, give its label with any value.
    pub fn form(&self, button: &str, fields: &[(&str, &str)]) -> FormSubmission {
        let doc = Html::parse_document(&self.html);
        let forms = Selector::parse("form").unwrap();
        let buttons = Selector::parse("button, input[type=submit]").unwrap();
        let form = doc
            .select(&forms)
            .find(|f| {
                f.select(&buttons)
                    .any(|b| normalized(&b) == button || b.value().attr("value") == Some(button))
            })
            .unwrap_or_else(|| {
                panic!(
                    "no form with a {button:?} button on {}:\n{}",
                    self.url,
                    self.text()
                )
            });
        // A visitor runs no script: a button served disabled stays disabled, as it would in a
        // browser without JavaScript.
        let pressed = form
            .select(&buttons)
            .find(|b| normalized(b) == button || b.value().attr("value") == Some(button));
        assert!(
            pressed.is_none_or(|b| b.value().attr("disabled").is_none()),
            "the {button:?} button on {} is served disabled: without a script nobody can press it",
            self.url
        );
        let mut values = default_values(form);
        for (label, value) in fields {
            let control = labelled_control(&doc, form, label).unwrap_or_else(|| {
                panic!("no field labelled {label:?} in the form on {}", self.url)
            });
            let v = control.value();
            let name = v
                .attr("name")
                .expect("a labelled control has a name")
                .to_owned();
            let value = match (v.name(), v.attr("type").unwrap_or("text")) {
                ("input", "radio") => {
                    values.retain(|(n, _)| n != &name);
                    v.attr("value").unwrap_or("on").to_owned()
                }
                ("input", "checkbox") => v.attr("value").unwrap_or("on").to_owned(),
                ("select", _) => {
                    let options = Selector::parse("option").unwrap();
                    let o = control
                        .select(&options)
                        .find(|o| normalized(o) == *value)
                        .unwrap_or_else(|| panic!("no option {value:?} in {label:?}"));
                    values.retain(|(n, _)| n != &name);
                    option_value(&o)
                }
                _ => {
                    values.retain(|(n, _)| n != &name);
                    (*value).to_owned()
                }
            };
            values.push((name, value));
        }
        // The button itself, when it has a name (e.g. Accept / Decline on one form).
        if let Some(b) = form
            .select(&buttons)
            .find(|b| normalized(b) == button || b.value().attr("value") == Some(button))
            && let Some(name) = b.value().attr("name")
        {
            values.push((
                name.to_owned(),
                b.value().attr("value").unwrap_or("").to_owned(),
            ));
        }
        self.submission(form, values)
    }

    fn submission(&self, form: ElementRef<'_>, fields: Vec<(String, String)>) -> FormSubmission {
        let action = form.value().attr("action").unwrap_or("");
        let method = form
            .value()
            .attr("method")
            .unwrap_or("get")
            .to_ascii_lowercase();
        FormSubmission {
            url: self.url.join(action).unwrap(),
            post: method == "post",
            fields,
        }
    }
}

/// What a form's controls hold before anyone touches them.
fn default_values(form: ElementRef<'_>) -> Vec<(String, String)> {
    let mut values: Vec<(String, String)> = Vec::new();
    let controls = Selector::parse("input[name], select[name], textarea[name]").unwrap();
    for c in form.select(&controls) {
        let v = c.value();
        let name = v.attr("name").unwrap().to_owned();
        match (v.name(), v.attr("type").unwrap_or("text")) {
            ("input", "radio" | "checkbox") => {
                if v.attr("checked").is_some() {
                    values.push((name, v.attr("value").unwrap_or("on").to_owned()));
                }
            }
            ("input", "submit" | "button") => {}
            ("select", _) => {
                let options = Selector::parse("option").unwrap();
                let chosen = c
                    .select(&options)
                    .find(|o| o.value().attr("selected").is_some())
                    .or_else(|| c.select(&options).next());
                if let Some(o) = chosen {
                    values.push((name, option_value(&o)));
                }
            }
            ("textarea", _) => values.push((name, c.text().collect())),
            _ => values.push((name, v.attr("value").unwrap_or("").to_owned())),
        }
    }
    values
}

fn option_value(o: &ElementRef<'_>) -> String {
    o.value()
        .attr("value")
        .map(str::to_owned)
        .unwrap_or_else(|| normalized(o))
}

fn normalized(e: &ElementRef<'_>) -> String {
    e.text()
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn labelled_control<'a>(
    doc: &'a Html,
    form: ElementRef<'a>,
    label: &str,
) -> Option<ElementRef<'a>> {
    let labels = Selector::parse("label").unwrap();
    let controls = Selector::parse("input, select, textarea").unwrap();
    let l = form.select(&labels).find(|l| normalized(l) == label)?;
    if let Some(id) = l.value().attr("for") {
        let by_id = Selector::parse(&format!("[id=\"{id}\"]")).ok()?;
        return doc.select(&by_id).next();
    }
    l.select(&controls).next()
}

/// A form ready to send; tests may change a field before sending it.
#[derive(Clone, Debug)]
pub struct FormSubmission {
    pub url: Url,
    pub post: bool,
    pub fields: Vec<(String, String)>,
}

impl FormSubmission {
    pub fn without(mut self, name: &str) -> Self {
        self.fields.retain(|(n, _)| n != name);
        self
    }

    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.fields.retain(|(n, _)| n != name);
        self.fields.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// One browser's worth of cookies.
#[derive(Clone)]
pub struct Visitor {
    client: reqwest::Client,
}

impl Default for Visitor {
    fn default() -> Self {
        Self::new()
    }
}

impl Visitor {
    pub fn new() -> Self {
        Self {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// One request, no redirect followed.
    pub async fn get_raw(&self, url: &str) -> reqwest::Response {
        self.client
            .get(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
    }

    pub async fn send_raw(&self, form: &FormSubmission) -> reqwest::Response {
        let req = if form.post {
            self.client.post(form.url.clone()).form(&form.fields)
        } else {
            let mut url = form.url.clone();
            url.query_pairs_mut().extend_pairs(&form.fields);
            self.client.get(url)
        };
        req.send()
            .await
            .unwrap_or_else(|e| panic!("send form to {}: {e}", form.url))
    }

    /// GET and follow redirects to the final page.
    pub async fn get(&self, url: &str) -> Page {
        self.follow(self.get_raw(url).await).await
    }

    /// Send the form and follow redirects to the final page.
    pub async fn submit(&self, form: &FormSubmission) -> Page {
        self.follow(self.send_raw(form).await).await
    }

    /// Follows redirects from `response` to the page they end on.
    pub async fn follow(&self, mut response: reqwest::Response) -> Page {
        for _ in 0..10 {
            if !response.status().is_redirection() {
                let url = response.url().clone();
                let status = response.status();
                let html = response.text().await.unwrap_or_default();
                return Page { url, status, html };
            }
            let next = redirect_target(&response);
            response = self.get_raw(next.as_str()).await;
        }
        panic!("more than 10 redirects");
    }
}

/// Where a redirect response points.
pub fn redirect_target(response: &reqwest::Response) -> Url {
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{} {} has no Location", response.status(), response.url()));
    response.url().join(location).unwrap()
}
