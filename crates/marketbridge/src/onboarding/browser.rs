//! The seller's browser for onboarding over HTTP: plain HTTP with a cookie jar, redirects
//! followed one hop at a time, and forms found by where they post and sent with their hidden
//! fields (the CSRF token) and checked boxes. So a workspace is onboarded through the real
//! pages, as the tests' visitor does it (the binary cannot use `test-support`).

use anyhow::{Context as _, bail};
use reqwest::StatusCode;
use scraper::{Html, Selector};
use url::Url;

/// One page as the browser received it, after every redirect.
pub struct Page {
    pub url: Url,
    pub status: StatusCode,
    pub html: String,
}

impl Page {
    pub fn has_form(&self, action: &str) -> bool {
        self.form(action).is_some()
    }

    /// Where the form posting to `action` goes, and the fields it sends as it stands.
    fn form(&self, action: &str) -> Option<(Url, Vec<(String, String)>)> {
        let doc = Html::parse_document(&self.html);
        let forms = Selector::parse("form[action]").expect("valid selector");
        let inputs = Selector::parse("input[name]").expect("valid selector");
        let form = doc
            .select(&forms)
            .find(|f| f.value().attr("action") == Some(action))?;
        let fields = form
            .select(&inputs)
            .filter_map(|input| {
                let input = input.value();
                let value = input.attr("value");
                let sent = match input.attr("type").unwrap_or("text") {
                    "checkbox" | "radio" => input.attr("checked").map(|_| value.unwrap_or("on")),
                    "submit" | "button" => None,
                    _ => Some(value.unwrap_or("")),
                };
                Some((input.attr("name")?.to_owned(), sent?.to_owned()))
            })
            .collect();
        Some((self.url.join(action).ok()?, fields))
    }

    /// The page's text, for an error message.
    fn text(&self) -> String {
        let doc = Html::parse_document(&self.html);
        let text: Vec<&str> = doc.root_element().text().collect();
        let text = text.join(" ");
        let words: Vec<&str> = text.split_whitespace().collect();
        words.join(" ").chars().take(600).collect()
    }
}

pub struct Browser {
    http: reqwest::Client,
}

impl Browser {
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
        })
    }

    pub async fn get(&self, url: &Url) -> anyhow::Result<Page> {
        let response = self.http.get(url.clone()).send().await?;
        self.follow(response).await
    }

    /// Sends the form that posts to `action`, with `fields` (by name) filled in over what it
    /// holds, and follows the redirects to the page they end on.
    pub async fn submit(
        &self,
        page: &Page,
        action: &str,
        fields: &[(&str, &str)],
    ) -> anyhow::Result<Page> {
        let Some((url, mut values)) = page.form(action) else {
            bail!(
                "no form posting to {action} on {} ({}): {}",
                page.url,
                page.status,
                page.text()
            );
        };
        for (name, value) in fields {
            values.retain(|(n, _)| n != name);
            values.push(((*name).to_owned(), (*value).to_owned()));
        }
        let response = self.http.post(url).form(&values).send().await?;
        self.follow(response).await
    }

    async fn follow(&self, mut response: reqwest::Response) -> anyhow::Result<Page> {
        for _ in 0..10 {
            if !response.status().is_redirection() {
                let url = response.url().clone();
                let status = response.status();
                let html = response.text().await?;
                return Ok(Page { url, status, html });
            }
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .with_context(|| format!("{} redirected without a Location", response.url()))?;
            let next = response.url().join(location)?;
            response = self.http.get(next).send().await?;
        }
        bail!("more than 10 redirects")
    }
}
