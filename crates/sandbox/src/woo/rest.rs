//! What every WooCommerce REST handler shares: the WordPress error body, query parameters read
//! the way PHP reads them, `page`/`per_page` with the pagination headers, and typed reads of
//! JSON (or form) bodies with WordPress's schema checks.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::values::clock::parse_iso8601;
use crate::values::money::Money;

/// A WordPress REST error: `{"code", "message", "data": {"status"}}`.
#[derive(Debug, Clone)]
pub struct RestError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// `data.params` of a `rest_invalid_param`: parameter → what is wrong with it.
    pub params: Option<Map<String, Value>>,
    pub www_authenticate: bool,
}

impl RestError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            params: None,
            www_authenticate: false,
        }
    }

    /// `rest_invalid_param` for one parameter.
    pub fn invalid_param(name: &str, detail: impl Into<String>) -> Self {
        let mut params = Map::new();
        params.insert(name.to_owned(), Value::String(detail.into()));
        Self {
            params: Some(params),
            ..Self::new(
                StatusCode::BAD_REQUEST,
                "rest_invalid_param",
                format!("Invalid parameter(s): {name}"),
            )
        }
    }

    pub fn no_route() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "rest_no_route",
            "No route was found matching the URL and request method.",
        )
    }

    /// 410 for trashing what is in the trash already (`kind`: product, order).
    pub fn already_trashed(kind: &str) -> Self {
        Self::new(
            StatusCode::GONE,
            "woocommerce_rest_already_trashed",
            format!("The {kind} has already been deleted."),
        )
    }

    pub fn invalid_id(kind: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            &format!("woocommerce_rest_{kind}_invalid_id"),
            "Invalid ID.",
        )
    }

    /// The body of this error, as a batch answer embeds it.
    pub fn body(&self) -> Value {
        let mut data = json!({ "status": self.status.as_u16() });
        if let Some(params) = &self.params {
            data["params"] = Value::Object(params.clone());
        }
        json!({ "code": self.code, "message": self.message, "data": data })
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if self.www_authenticate {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Basic realm=\"WooCommerce API. Use a consumer key in the username field and a consumer secret in the password field.\"",
                ),
            );
        }
        response
    }
}

pub type RestResult = Result<Response, RestError>;

/// A JSON answer with a status.
pub fn json_response(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// A 201 for a new `resource` (e.g. `products`), with its `Location` as WordPress sends it.
pub fn created_response(url: &str, resource: &str, id: i64, body: Value) -> Response {
    let mut response = json_response(StatusCode::CREATED, body);
    if let Ok(location) = format!("{url}/wp-json/wc/v3/{resource}/{id}").parse() {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, location);
    }
    response
}

/// The query string decoded as PHP's `$_GET` would be: `+` is a space, a repeated name keeps
/// its last value, `name[]` collects a list.
#[derive(Debug, Clone, Default)]
pub struct QueryParams(pub Vec<(String, String)>);

impl QueryParams {
    pub fn parse(raw: Option<&str>) -> Self {
        Self(
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A non-empty value.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|value| !value.is_empty())
    }

    /// Every value of `name`, `name[]` or `name[n]`, with comma-separated lists split.
    pub fn list(&self, name: &str) -> Vec<String> {
        let bracket = format!("{name}[");
        self.0
            .iter()
            .filter(|(key, _)| key == name || key.starts_with(&bracket))
            .flat_map(|(_, value)| value.split(','))
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
            .collect()
    }

    /// A list of ids; anything not an integer is a `rest_invalid_param`.
    pub fn ids(&self, name: &str) -> Result<Vec<i64>, RestError> {
        self.list(name)
            .iter()
            .map(|value| {
                value.parse::<i64>().map_err(|_| {
                    RestError::invalid_param(name, format!("{name}[0] is not of type integer."))
                })
            })
            .collect()
    }

    pub fn integer(&self, name: &str) -> Result<Option<i64>, RestError> {
        self.value(name)
            .map(|value| {
                value.trim().parse::<i64>().map_err(|_| {
                    RestError::invalid_param(name, format!("{name} is not of type integer."))
                })
            })
            .transpose()
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, RestError> {
        self.get(name)
            .map(|value| parse_bool_str(value).ok_or_else(|| not_boolean(name)))
            .transpose()
    }

    /// `order`, `asc` or `desc` (`default` when absent): whether a list reads backwards.
    pub fn descending(&self, default: &str) -> Result<bool, RestError> {
        Ok(self.one_of("order", &["asc", "desc"])?.unwrap_or(default) == "desc")
    }

    /// A value of an enum parameter (`orderby`, …); another is a `rest_invalid_param` worded
    /// as WordPress lists the values ("a, b, and c").
    pub fn one_of<'v>(&self, name: &str, values: &[&'v str]) -> Result<Option<&'v str>, RestError> {
        let Some(raw) = self.value(name) else {
            return Ok(None);
        };
        if let Some(value) = values.iter().find(|value| **value == raw) {
            return Ok(Some(value));
        }
        let listed = match values {
            [.., last] if values.len() > 2 => {
                format!("{}, and {last}", values[..values.len() - 1].join(", "))
            }
            _ => values.join(" and "),
        };
        Err(RestError::invalid_param(
            name,
            format!("{name} is not one of {listed}."),
        ))
    }

    /// An enum parameter read by `parse` (`status`, `stock_status`), `None` when it is absent
    /// or `every` (`any`, `all`); a value `parse` does not know is a `rest_invalid_param`
    /// saying `refused`.
    pub fn parsed<T>(
        &self,
        name: &str,
        every: Option<&str>,
        parse: impl FnOnce(&str) -> Option<T>,
        refused: &str,
    ) -> Result<Option<T>, RestError> {
        match self.value(name) {
            None => Ok(None),
            Some(raw) if Some(raw) == every => Ok(None),
            Some(raw) => parse(raw)
                .map(Some)
                .ok_or_else(|| RestError::invalid_param(name, refused)),
        }
    }

    pub fn date(&self, name: &str) -> Result<Option<time::OffsetDateTime>, RestError> {
        self.value(name)
            .map(|value| {
                parse_iso8601(value)
                    .ok_or_else(|| RestError::invalid_param(name, "Invalid date.".to_owned()))
            })
            .transpose()
    }

    /// Whether this parameter authenticates the request (never echoed in a `Link`).
    fn is_credential(name: &str) -> bool {
        name.starts_with("oauth_") || name == "consumer_key" || name == "consumer_secret"
    }
}

fn parse_bool_str(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" | "" => Some(false),
        _ => None,
    }
}

fn not_boolean(name: &str) -> RestError {
    RestError::invalid_param(name, format!("{name} is not of type boolean."))
}

/// `page` and `per_page` of a collection.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub page: usize,
    pub per_page: usize,
}

impl Paging {
    /// WordPress's collection limits: `per_page` 1..=100 (default 10), `page` from 1.
    pub fn from_query(query: &QueryParams) -> Result<Self, RestError> {
        let per_page = query.integer("per_page")?.unwrap_or(10);
        if !(1..=100).contains(&per_page) {
            return Err(RestError::invalid_param(
                "per_page",
                "per_page must be between 1 (inclusive) and 100 (inclusive)",
            ));
        }
        let page = query.integer("page")?.unwrap_or(1);
        if page < 1 {
            return Err(RestError::invalid_param(
                "page",
                "page must be greater than or equal to 1",
            ));
        }
        let offset = query.integer("offset")?;
        let page = match offset {
            // An offset replaces the page (WordPress: `offset` wins).
            Some(offset) if offset >= 0 => {
                usize::try_from(offset).unwrap_or(0) / per_page as usize + 1
            }
            _ => page as usize,
        };
        Ok(Self {
            page,
            per_page: per_page as usize,
        })
    }

    /// One page of a collection with `X-WP-Total`, `X-WP-TotalPages` and a `Link` header
    /// (`prev`, `next`) built on `collection_url` with the request's own parameters.
    pub fn respond<T>(
        self,
        items: Vec<T>,
        collection_url: &str,
        query: &QueryParams,
        render: impl Fn(&T) -> Value,
    ) -> Response {
        let total = items.len();
        let total_pages = total.div_ceil(self.per_page);
        let page: Vec<Value> = items
            .iter()
            .skip((self.page - 1) * self.per_page)
            .take(self.per_page)
            .map(render)
            .collect();
        let mut headers = HeaderMap::new();
        headers.insert("x-wp-total", HeaderValue::from(total));
        headers.insert("x-wp-totalpages", HeaderValue::from(total_pages));
        let mut links = Vec::new();
        if self.page > 1 {
            let previous = (self.page - 1).min(total_pages.max(1));
            links.push(format!(
                "<{}>; rel=\"prev\"",
                page_url(collection_url, query, previous)
            ));
        }
        if total_pages > self.page {
            links.push(format!(
                "<{}>; rel=\"next\"",
                page_url(collection_url, query, self.page + 1)
            ));
        }
        if !links.is_empty()
            && let Ok(value) = HeaderValue::from_str(&links.join(", "))
        {
            headers.insert(header::LINK, value);
        }
        (StatusCode::OK, headers, Json(Value::Array(page))).into_response()
    }
}

/// ASSUMPTION: core copies every query parameter into the `Link` URLs, credentials included;
/// the sandbox leaves credentials out (an OAuth nonce cannot be replayed anyway).
fn page_url(collection_url: &str, query: &QueryParams, page: usize) -> String {
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in &query.0 {
        if name != "page" && !QueryParams::is_credential(name) {
            url.append_pair(name, value);
        }
    }
    url.append_pair("page", &page.to_string());
    format!("{collection_url}?{}", url.finish())
}

/// The date filters of a list of posts (products, orders): `after` and `before` the creation,
/// `modified_after` and `modified_before`, each exclusive.
pub struct DateFilter {
    modified_after: Option<time::OffsetDateTime>,
    modified_before: Option<time::OffsetDateTime>,
    after: Option<time::OffsetDateTime>,
    before: Option<time::OffsetDateTime>,
}

impl DateFilter {
    pub fn from_query(query: &QueryParams) -> Result<Self, RestError> {
        Ok(Self {
            modified_after: query.date("modified_after")?,
            modified_before: query.date("modified_before")?,
            after: query.date("after")?,
            before: query.date("before")?,
        })
    }

    /// Whether a post created and last modified at these times passes.
    pub fn admits(&self, created: time::OffsetDateTime, modified: time::OffsetDateTime) -> bool {
        self.modified_after.is_none_or(|at| modified > at)
            && self.modified_before.is_none_or(|at| modified < at)
            && self.after.is_none_or(|at| created > at)
            && self.before.is_none_or(|at| created < at)
    }
}

/// A request body as WordPress reads it: JSON, or a form (flat fields). Empty is `{}`.
pub fn parse_body(headers: &HeaderMap, bytes: &[u8]) -> Result<Value, RestError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let fields: Map<String, Value> = url::form_urlencoded::parse(bytes)
            .into_owned()
            .map(|(name, value)| (name, Value::String(value)))
            .collect();
        return Ok(Value::Object(fields));
    }
    serde_json::from_slice(bytes).map_err(|_| {
        RestError::new(
            StatusCode::BAD_REQUEST,
            "rest_invalid_json",
            "Invalid JSON body passed.",
        )
    })
}

/// Typed reads of a request object, with WordPress's type checks (`rest_invalid_param`).
pub struct Fields<'a>(pub &'a Map<String, Value>);

impl<'a> Fields<'a> {
    pub fn of(value: &'a Value) -> Result<Self, RestError> {
        value.as_object().map(Fields).ok_or_else(|| {
            RestError::new(
                StatusCode::BAD_REQUEST,
                "rest_invalid_json",
                "The request body must be a JSON object.",
            )
        })
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.get(name).is_some_and(|value| !value.is_null())
    }

    pub fn raw(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|value| !value.is_null())
    }

    pub fn string(&self, name: &str) -> Result<Option<String>, RestError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::String(value)) => Ok(Some(value.clone())),
            Some(_) => Err(RestError::invalid_param(
                name,
                format!("{name} is not of type string."),
            )),
        }
    }

    pub fn integer(&self, name: &str) -> Result<Option<i64>, RestError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Number(number)) => number
                .as_i64()
                .or_else(|| {
                    number
                        .as_f64()
                        .filter(|f| f.fract() == 0.0)
                        .map(|f| f as i64)
                })
                .map(Some)
                .ok_or_else(|| not_integer(name)),
            Some(Value::String(value)) => value
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| not_integer(name)),
            Some(_) => Err(not_integer(name)),
        }
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, RestError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Bool(value)) => Ok(Some(*value)),
            Some(Value::Number(number)) => match number.as_i64() {
                Some(0) => Ok(Some(false)),
                Some(1) => Ok(Some(true)),
                _ => Err(not_boolean(name)),
            },
            Some(Value::String(value)) => parse_bool_str(value)
                .map(Some)
                .ok_or_else(|| not_boolean(name)),
            Some(_) => Err(not_boolean(name)),
        }
    }

    /// A price: a string (numbers are refused, as WordPress's schema does); `""` clears it.
    pub fn money(&self, name: &str) -> Result<Option<Option<Money>>, RestError> {
        let Some(raw) = self.string(name)? else {
            return Ok(None);
        };
        if raw.trim().is_empty() {
            return Ok(Some(None));
        }
        Money::parse(&raw)
            .map(|money| Some(Some(money)))
            .ok_or_else(|| {
                RestError::invalid_param(name, format!("{name} is not a decimal number."))
            })
    }

    pub fn date(&self, name: &str) -> Result<Option<Option<time::OffsetDateTime>>, RestError> {
        let Some(raw) = self.string(name)? else {
            return Ok(None);
        };
        if raw.trim().is_empty() {
            return Ok(Some(None));
        }
        parse_iso8601(&raw)
            .map(|at| Some(Some(at)))
            .ok_or_else(|| RestError::invalid_param(name, "Invalid date."))
    }

    pub fn array(&self, name: &str) -> Result<Option<&'a Vec<Value>>, RestError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(_) => Err(RestError::invalid_param(
                name,
                format!("{name} is not of type array."),
            )),
        }
    }

    pub fn object(&self, name: &str) -> Result<Option<Fields<'a>>, RestError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Object(fields)) => Ok(Some(Fields(fields))),
            Some(_) => Err(RestError::invalid_param(
                name,
                format!("{name} is not of type object."),
            )),
        }
    }
}

fn not_integer(name: &str) -> RestError {
    RestError::invalid_param(name, format!("{name} is not of type integer."))
}

/// The `{create, update, delete}` of a batch request, at most 100 objects in all
/// (`woocommerce_rest_batch_items_limit`): core answers 413 beyond that.
pub struct Batch<'a> {
    pub create: Vec<&'a Value>,
    pub update: Vec<&'a Value>,
    pub delete: Vec<&'a Value>,
}

pub const BATCH_LIMIT: usize = 100;

impl<'a> Batch<'a> {
    pub fn parse(body: &'a Value) -> Result<Self, RestError> {
        let fields = Fields::of(body)?;
        let list = |name: &str| -> Result<Vec<&'a Value>, RestError> {
            Ok(fields
                .array(name)?
                .map(|items| items.iter().collect())
                .unwrap_or_default())
        };
        let batch = Self {
            create: list("create")?,
            update: list("update")?,
            delete: list("delete")?,
        };
        let total = batch.create.len() + batch.update.len() + batch.delete.len();
        if total > BATCH_LIMIT {
            return Err(RestError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "woocommerce_rest_request_entity_too_large",
                format!("Unable to accept more than {BATCH_LIMIT} items for this request."),
            ));
        }
        Ok(batch)
    }

    /// The id of a `delete` entry: a bare id or `{"id": …}`.
    pub fn delete_id(entry: &Value) -> Option<i64> {
        match entry {
            Value::Number(number) => number.as_i64(),
            Value::String(value) => value.parse().ok(),
            Value::Object(fields) => Fields(fields).integer("id").ok().flatten(),
            _ => None,
        }
    }
}

/// One answer of a batch: the resource, or `{id, error}`.
pub fn batch_entry(id: i64, result: Result<Value, RestError>) -> Value {
    match result {
        Ok(value) => value,
        Err(error) => json!({ "id": id, "error": error.body() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_reads_like_php() {
        let query = QueryParams::parse(Some("a=1&a=2&include[]=3&include[]=4,5&s=x+y"));
        assert_eq!(query.get("a"), Some("2"));
        assert_eq!(query.list("include"), vec!["3", "4", "5"]);
        assert_eq!(query.get("s"), Some("x y"));
    }

    #[test]
    fn enum_parameters_name_their_values_as_wordpress() {
        let query = QueryParams::parse(Some("order=up&orderby=slug"));
        assert_eq!(
            query.descending("asc").unwrap_err().params.unwrap()["order"],
            "order is not one of asc and desc."
        );
        assert_eq!(
            query
                .one_of("orderby", &["id", "name"])
                .unwrap_err()
                .params
                .unwrap()["orderby"],
            "orderby is not one of id and name."
        );
        let error = query
            .one_of("orderby", &["id", "name", "count"])
            .unwrap_err();
        assert_eq!(
            error.params.unwrap()["orderby"],
            "orderby is not one of id, name, and count."
        );
        assert_eq!(
            query.one_of("orderby", &["id", "slug"]).unwrap(),
            Some("slug")
        );
        assert!(!QueryParams::parse(None).descending("asc").unwrap());
        assert!(QueryParams::parse(None).descending("desc").unwrap());
    }

    #[test]
    fn per_page_outside_one_to_hundred_is_refused() {
        for raw in ["per_page=0", "per_page=101", "per_page=abc", "page=0"] {
            let error = Paging::from_query(&QueryParams::parse(Some(raw))).unwrap_err();
            assert_eq!(error.code, "rest_invalid_param", "{raw}");
        }
        let paging = Paging::from_query(&QueryParams::parse(None)).unwrap();
        assert_eq!((paging.page, paging.per_page), (1, 10));
    }
}
