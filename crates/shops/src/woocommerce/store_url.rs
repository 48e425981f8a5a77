//! The address of a WooCommerce store, parsed once where the seller types it.

use std::fmt;

use url::Url;

/// A store's base URL: `http` or `https`, a host, and an optional path when WordPress lives in a
/// subfolder; no user, query or fragment; no trailing slash.
///
/// Parsing forgives what sellers commonly type: surrounding spaces, a trailing slash, a missing
/// scheme (which becomes `https://`, since almost every store is served over TLS; a store that
/// really is plain `http://` must be typed so), and an admin or REST address such as
/// `https://shop.example/wp-admin/` (cut back to the site address).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StoreUrl(Url);

/// Why a typed store address was refused, in the seller's words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreUrlError {
    #[error("Enter your store's address, such as https://shop.example.")]
    Empty,
    #[error(
        "\"{0}\" is not a web address. Enter your store's address, such as https://shop.example."
    )]
    NotAnAddress(String),
    #[error("The store's address must start with https:// or http://, not {0}://.")]
    UnsupportedScheme(String),
    #[error(
        "Remove the part after \"?\" or \"#\": enter only your store's address, such as https://shop.example."
    )]
    HasQueryOrFragment,
    #[error(
        "Remove the user name and password from the address; Marketbridge uses API keys instead."
    )]
    HasCredentials,
}

/// Path segments that mark an address inside WordPress rather than the site itself.
const WORDPRESS_INNER_SEGMENTS: [&str; 3] = ["wp-admin", "wp-json", "wp-login.php"];

impl StoreUrl {
    pub fn parse(raw: &str) -> Result<Self, StoreUrlError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(StoreUrlError::Empty);
        }
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_owned()
        } else {
            format!("https://{trimmed}")
        };
        let mut url = Url::parse(&with_scheme)
            .map_err(|_| StoreUrlError::NotAnAddress(trimmed.to_owned()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(StoreUrlError::UnsupportedScheme(url.scheme().to_owned()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(StoreUrlError::NotAnAddress(trimmed.to_owned()));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(StoreUrlError::HasQueryOrFragment);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(StoreUrlError::HasCredentials);
        }
        let site_segments: Vec<&str> = url
            .path_segments()
            .into_iter()
            .flatten()
            .take_while(|segment| !WORDPRESS_INNER_SEGMENTS.contains(segment))
            .filter(|segment| !segment.is_empty())
            .collect();
        let path = format!("/{}", site_segments.join("/"));
        url.set_path(&path);
        Ok(Self(url))
    }

    /// The address without a trailing slash, e.g. `https://shop.example/store`.
    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }

    /// `{store}/{path}`, e.g. `join("wp-json/wc/v3/products")`.
    pub fn join(&self, path: &str) -> Url {
        let mut url = self.0.clone();
        let joined = format!(
            "{}/{}",
            url.path().trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        url.set_path(&joined);
        url
    }

    pub fn is_https(&self) -> bool {
        self.0.scheme() == "https"
    }
}

impl TryFrom<String> for StoreUrl {
    type Error = StoreUrlError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<StoreUrl> for String {
    fn from(store: StoreUrl) -> String {
        store.as_str().to_owned()
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StoreUrl").field(&self.as_str()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> String {
        StoreUrl::parse(raw).unwrap().as_str().to_owned()
    }

    #[test]
    fn store_addresses_are_normalised() {
        assert_eq!(parsed(" https://Shop.Example/ "), "https://shop.example");
        assert_eq!(parsed("shop.example"), "https://shop.example");
        assert_eq!(
            parsed("http://127.0.0.1:8090/woo/demo-shop/"),
            "http://127.0.0.1:8090/woo/demo-shop"
        );
        assert_eq!(
            parsed("https://example.com/store//"),
            "https://example.com/store"
        );
        assert_eq!(parsed("https://shop.example:443"), "https://shop.example");
    }

    #[test]
    fn admin_and_rest_addresses_are_cut_back_to_the_site() {
        assert_eq!(
            parsed("https://shop.example/wp-admin/"),
            "https://shop.example"
        );
        assert_eq!(
            parsed("https://example.com/store/wp-admin/admin.php"),
            "https://example.com/store"
        );
        assert_eq!(parsed("shop.example/wp-json/wc/v3"), "https://shop.example");
        assert_eq!(
            parsed("https://shop.example/wp-login.php"),
            "https://shop.example"
        );
    }

    #[test]
    fn wrong_addresses_say_what_is_wrong() {
        assert_eq!(StoreUrl::parse("  "), Err(StoreUrlError::Empty));
        assert_eq!(
            StoreUrl::parse("ftp://shop.example"),
            Err(StoreUrlError::UnsupportedScheme("ftp".to_owned()))
        );
        assert_eq!(
            StoreUrl::parse("https://shop.example/?page_id=2"),
            Err(StoreUrlError::HasQueryOrFragment)
        );
        assert_eq!(
            StoreUrl::parse("https://shop.example/#top"),
            Err(StoreUrlError::HasQueryOrFragment)
        );
        assert_eq!(
            StoreUrl::parse("https://admin:pw@shop.example"),
            Err(StoreUrlError::HasCredentials)
        );
        assert!(matches!(
            StoreUrl::parse("my shop"),
            Err(StoreUrlError::NotAnAddress(_))
        ));
        assert!(
            StoreUrlError::UnsupportedScheme("ftp".to_owned())
                .to_string()
                .contains("https://")
        );
    }

    #[test]
    fn paths_join_under_the_store_and_the_scheme_is_known() {
        let root = StoreUrl::parse("https://shop.example").unwrap();
        assert_eq!(
            root.join("wp-json/wc/v3/products").as_str(),
            "https://shop.example/wp-json/wc/v3/products"
        );
        assert!(root.is_https());
        let sub = StoreUrl::parse("http://example.com/store/").unwrap();
        assert_eq!(
            sub.join("/wc-auth/v1/authorize").as_str(),
            "http://example.com/store/wc-auth/v1/authorize"
        );
        assert!(!sub.is_https());
    }
}
