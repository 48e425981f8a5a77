//! The API token itself: `mb_` and 43 random base62 characters (256 bits), so a secret scanner
//! can recognize a leaked one by its prefix and a person can select it with a double click.
//! Only its SHA-256 is stored: the token is random, so a fast hash is enough, and a copy of
//! the database opens nothing.

use sha2::{Digest, Sha256};

/// What every token starts with.
pub const TOKEN_PREFIX: &str = "mb_";
/// Random characters after the prefix: 43 base62 characters carry 256 bits.
const RANDOM_CHARS: usize = 43;
/// Characters of the token kept for display (`mb_` and six more): enough to tell tokens
/// apart, far too few to guess the rest.
const DISPLAY_CHARS: usize = TOKEN_PREFIX.len() + 6;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A whole token, as the seller copies it. Its `Debug` hides it.
pub struct ApiTokenSecret(String);

impl ApiTokenSecret {
    /// A new random token.
    pub fn mint() -> Self {
        let mut token = String::with_capacity(TOKEN_PREFIX.len() + RANDOM_CHARS);
        token.push_str(TOKEN_PREFIX);
        while token.len() < TOKEN_PREFIX.len() + RANDOM_CHARS {
            let mut bytes = [0u8; 64];
            getrandom::fill(&mut bytes).expect("the operating system's random source works");
            // 248 = 4 × 62: taking only bytes below it keeps every character equally likely.
            for b in bytes.into_iter().filter(|b| *b < 248) {
                if token.len() == TOKEN_PREFIX.len() + RANDOM_CHARS {
                    break;
                }
                token.push(char::from(BASE62[usize::from(b % 62)]));
            }
        }
        Self(token)
    }

    /// A token as sent by a client, if it has the shape of one; anything else is refused
    /// before the database is asked.
    pub fn parse(sent: &str) -> Option<Self> {
        let random = sent.strip_prefix(TOKEN_PREFIX)?;
        (random.len() == RANDOM_CHARS && random.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| Self(sent.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What storage keeps and looks the token up by.
    pub fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }

    /// Its first characters, shown on the Account page.
    pub fn display_prefix(&self) -> &str {
        &self.0[..DISPLAY_CHARS]
    }
}

impl std::fmt::Debug for ApiTokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiTokenSecret({}…)", self.display_prefix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_token_is_recognizable_random_and_parses_back() {
        let a = ApiTokenSecret::mint();
        let b = ApiTokenSecret::mint();
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with("mb_"));
        assert_eq!(a.expose().len(), 46);
        assert_eq!(ApiTokenSecret::parse(a.expose()).unwrap().hash(), a.hash());
        assert_eq!(a.display_prefix().len(), 9);
        assert!(!format!("{a:?}").contains(&a.expose()[9..]));
    }

    #[test]
    fn anything_not_shaped_like_a_token_is_refused() {
        let good = ApiTokenSecret::mint();
        let body = &good.expose()[3..];
        for bad in [
            "",
            "mb_",
            body,
            &format!("MB_{body}"),
            &format!("mb_{}", &body[1..]),
            &format!("mb_{body}x"),
            &format!("mb_{}-", &body[1..]),
            &format!("mb_{}\0", &body[1..]),
        ] {
            assert!(ApiTokenSecret::parse(bad).is_none(), "{bad:?}");
        }
    }
}
