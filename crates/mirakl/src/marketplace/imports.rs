//! What offer imports (OF01, OF24) and product imports (P41) share: the id Mirakl gives an
//! import, the answer that carries it, and the CSV file part an upload sends.

use std::fmt;

use domain::{InstanceUrl, StoreId};
use reqwest::multipart::Part;
use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::{Call, Credential, MarketplaceClient, MarketplaceError};

/// The id Mirakl gives an import: of offers (OF01, OF24; tracked with OF02 and OF03) or of
/// products (P41; tracked with P42 and P44). The two kinds are numbered apart, so an id is only
/// ever sent back to the calls of the kind that made it.
///
/// Mirakl sends a number; it is kept as its digits so it round-trips through storage unchanged.
/// It goes into URLs as one percent-encoded path segment, so any stored value is safe to send.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImportId(String);

impl ImportId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An id read back from storage.
impl From<String> for ImportId {
    fn from(id: String) -> Self {
        Self(id)
    }
}

impl fmt::Display for ImportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ImportId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// Mirakl documents an integer; a string of digits is read too.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Number(u64),
            Text(String),
        }
        match Wire::deserialize(deserializer)? {
            Wire::Number(n) => Ok(Self(n.to_string())),
            Wire::Text(text) if !text.trim().is_empty() => Ok(Self(text.trim().to_owned())),
            Wire::Text(_) => Err(de::Error::custom("an empty import id")),
        }
    }
}

/// A CSV file as the multipart part `file` of an upload (OF01, P41).
pub(super) fn csv_file_part(csv: Vec<u8>, file_name: &'static str) -> Part {
    Part::bytes(csv)
        .file_name(file_name)
        .mime_str("text/csv")
        .expect("text/csv is a valid MIME type")
}

impl MarketplaceClient {
    /// Sends a call that starts an import (OF01, OF24, P41); the id from Mirakl's
    /// `{"import_id": …}`.
    pub(super) async fn start_import(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        call: Call<'_>,
    ) -> Result<ImportId, MarketplaceError> {
        #[derive(Deserialize)]
        struct ImportCreated {
            import_id: ImportId,
        }
        let created: ImportCreated = self.call_json(instance, credential, shop_id, call).await?;
        Ok(created.import_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_ids_keep_the_digits_of_a_number_or_a_string() {
        let from_number: ImportId = serde_json::from_str("2035").unwrap();
        let from_text: ImportId = serde_json::from_str(r#""2035""#).unwrap();
        assert_eq!(from_number.as_str(), "2035");
        assert_eq!(from_number, from_text);
        assert_eq!(from_number, ImportId::from("2035".to_owned()));
        assert!(serde_json::from_str::<ImportId>(r#""""#).is_err());
    }
}
