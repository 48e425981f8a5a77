//! Logs. Secrets never reach a log line: tokens and keys are kept in types whose `Debug`
//! hides them, and no handler logs a request body.
//!
//! `MARKETBRIDGE_LOG_FORMAT=json` writes one JSON object a line, for a log collector: the
//! event's fields at the top level, and the spans it happened in under `spans`, so a line
//! logged while serving a request carries that request's `request_id` (and the signed-in
//! `workspace`), and one logged by a job carries the job's id as `request_id`, its `flow` and
//! its `workspace`.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt as _;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One readable line per event (the default).
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// `MARKETBRIDGE_LOG_FORMAT`: `text` (or unset) or `json`; anything else is refused with
    /// what it may be.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("MARKETBRIDGE_LOG_FORMAT") {
            Err(_) => Ok(Self::Text),
            Ok(value) => Self::parse(&value).ok_or_else(|| {
                format!("MARKETBRIDGE_LOG_FORMAT={value:?} is not a log format: use text or json")
            }),
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "text" => Some(Self::Text),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

/// The filter `MARKETBRIDGE_LOG` gives, or the default.
pub fn filter() -> EnvFilter {
    EnvFilter::try_from_env("MARKETBRIDGE_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"))
}

/// The subscriber the binary installs, writing to `writer` (the tests hand in a buffer).
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(true)
                .finish(),
        ),
    }
}

pub fn init() {
    let (format, refused) = match LogFormat::from_env() {
        Ok(format) => (format, None),
        Err(why) => (LogFormat::Text, Some(why)),
    };
    let _ = subscriber(format, filter(), std::io::stdout).try_init();
    if let Some(why) = refused {
        tracing::warn!("{why}; writing text logs");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_formats_are_text_or_json_and_nothing_else() {
        assert_eq!(LogFormat::parse("json"), Some(LogFormat::Json));
        assert_eq!(LogFormat::parse(" JSON "), Some(LogFormat::Json));
        assert_eq!(LogFormat::parse("text"), Some(LogFormat::Text));
        assert_eq!(LogFormat::parse(""), Some(LogFormat::Text));
        assert_eq!(LogFormat::parse("logfmt"), None);
    }
}
