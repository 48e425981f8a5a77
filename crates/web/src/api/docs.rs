//! The docs page, `/api/v1/docs`: every operation of the OpenAPI document with its
//! parameters and answers, and the kinds of problem, rendered here from the document itself.
//! Self-contained: the site's own stylesheet, no script, nothing from another site.

use askama::Template;
use axum::response::Response;
use serde_json::Value;

use super::problem::PROBLEM_KINDS;
use crate::ui::{Nav, render};

pub struct Operation {
    pub anchor: String,
    pub method: String,
    pub path: String,
    pub summary: String,
    pub description: String,
    pub needs_token: bool,
    /// (name, where, description)
    pub params: Vec<(String, String, String)>,
    /// (status, description, schema name)
    pub responses: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r##"{% extends "base.html" %}
{% block title %}API{% endblock %}
{% block content %}
<h1>{{ title }} {{ version }}</h1>
<p>{{ description }}</p>
<p>The OpenAPI 3.1 document: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>. Create a token on the <a href="/account#api-tokens">Account page</a>, then for example:</p>
<pre><code>curl -H "Authorization: Bearer mb_…" {{ example_base }}/api/v1/products</code></pre>
<section class="card">
<h2>Operations</h2>
<ul>
{% for op in operations %}<li><a href="#{{ op.anchor }}"><code>{{ op.method }} {{ op.path }}</code></a> — {{ op.summary }}</li>
{% endfor %}</ul>
</section>
{% for op in operations %}
<section class="card" id="{{ op.anchor }}">
<h2><code>{{ op.method }} {{ op.path }}</code></h2>
<p>{{ op.summary }}</p>
{% if !op.description.is_empty() %}<p>{{ op.description }}</p>{% endif %}
<p>{% if op.needs_token %}Needs a token{% if op.method == "POST" %} with read and write access{% endif %}.{% else %}No token needed.{% endif %}</p>
{% if !op.params.is_empty() %}
<table><thead><tr><th>Parameter</th><th>In</th><th>Meaning</th></tr></thead><tbody>
{% for p in op.params %}<tr><td><code>{{ p.0 }}</code></td><td>{{ p.1 }}</td><td>{{ p.2 }}</td></tr>
{% endfor %}</tbody></table>
{% endif %}
<table><thead><tr><th>Status</th><th>Meaning</th><th>Body</th></tr></thead><tbody>
{% for r in op.responses %}<tr><td>{{ r.0 }}</td><td>{{ r.1 }}</td><td><code>{{ r.2 }}</code></td></tr>
{% endfor %}</tbody></table>
</section>
{% endfor %}
<section class="card" id="problems">
<h2>Problems</h2>
<p>Every error is <code>application/problem+json</code> with <code>type</code>, <code>title</code>, <code>status</code> and <code>detail</code>.</p>
<dl>
{% for p in problems %}<dt id="problem-{{ p.0 }}"><code>{{ p.0 }}</code>{% if p.1 != 0 %} ({{ p.1 }}){% endif %}</dt><dd>{{ p.2 }}</dd>
{% endfor %}</dl>
</section>
{% endblock %}"##
)]
struct DocsPage {
    nav: Nav,
    title: String,
    version: String,
    description: String,
    example_base: String,
    operations: Vec<Operation>,
    problems: Vec<(&'static str, u16, &'static str)>,
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// The name of the schema a response's body refers to, e.g. `ProductPage`.
fn schema_name(response: &Value) -> String {
    response["content"]
        .as_object()
        .and_then(|content| content.values().next())
        .and_then(|media| media["schema"]["$ref"].as_str())
        .and_then(|r| r.rsplit('/').next())
        .unwrap_or("")
        .to_owned()
}

/// The operations of the document, in its order of paths.
pub fn operations(doc: &Value) -> Vec<Operation> {
    let mut operations = Vec::new();
    let Some(paths) = doc["paths"].as_object() else {
        return operations;
    };
    for (path, item) in paths {
        let Some(methods) = item.as_object() else {
            continue;
        };
        for (method, op) in methods {
            let params = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| (text(&p["name"]), text(&p["in"]), text(&p["description"])))
                .collect();
            let responses = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(status, r)| (status.clone(), text(&r["description"]), schema_name(r)))
                .collect();
            let anchor: String = format!("{method}{path}")
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            operations.push(Operation {
                anchor,
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                summary: text(&op["summary"]),
                description: text(&op["description"]),
                needs_token: op["security"].as_array().is_some_and(|s| !s.is_empty()),
                params,
                responses,
            });
        }
    }
    operations
}

pub async fn show(axum::extract::State(state): axum::extract::State<crate::AppState>) -> Response {
    let doc = serde_json::to_value(super::openapi()).unwrap_or_default();
    let public = state
        .config()
        .public_url
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    render(&DocsPage {
        nav: Nav::anonymous(),
        title: text(&doc["info"]["title"]),
        version: text(&doc["info"]["version"]),
        description: text(&doc["info"]["description"]),
        example_base: public,
        operations: operations(&doc),
        problems: PROBLEM_KINDS.to_vec(),
    })
}
