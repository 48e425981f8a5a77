//! Sign-up and sign-in inputs, checked once where they enter the system.

use std::fmt;

/// An e-mail address, trimmed and lower-cased, in the common grammar of addresses people use
/// (RFC 5321's dot-atom, without quoted or commented forms): a local part of letters, digits
/// and `!#$%&'*+/=?^_`{|}~-` with single dots between them, at most 64 characters; `@`; a
/// domain of at least two dot-separated labels of letters, digits and inner hyphens, each at
/// most 63 characters; 254 characters in all. Letters may be non-ASCII (internationalized
/// addresses). No space, control character, quote or angle bracket gets through.
/// Deliverability is not our concern.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EmailError {
    #[error("Enter an e-mail address.")]
    Empty,
    #[error("Enter a valid e-mail address, like name@example.com.")]
    Invalid,
}

/// The characters besides letters and digits that a dot-atom's local part may hold.
const LOCAL_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";

fn is_local_part(local: &str) -> bool {
    (1..=64).contains(&local.len())
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_alphanumeric() || LOCAL_SPECIALS.contains(c))
        })
}

fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        // A top-level domain is never all digits: `a@1.2.3.4` is not an address.
        && labels
            .last()
            .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()))
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        let valid = s.len() <= 254
            && s.split_once('@')
                .is_some_and(|(local, domain)| is_local_part(local) && is_domain(domain));
        if valid {
            Ok(Self(s))
        } else {
            Err(EmailError::Invalid)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

/// A new password as typed at sign-up. Never logged: `Debug` hides it.
pub struct Password(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("Use at least {min} characters for the password.", min = Password::MIN_LEN)]
    TooShort,
    #[error("Use at most {max} characters for the password.", max = Password::MAX_LEN)]
    TooLong,
}

impl Password {
    /// OWASP ASVS 2.1.1 asks for at least 12.
    pub const MIN_LEN: usize = 12;
    pub const MAX_LEN: usize = 512;

    pub fn parse(raw: &str) -> Result<Self, PasswordError> {
        let n = raw.chars().count();
        if n < Self::MIN_LEN {
            Err(PasswordError::TooShort)
        } else if n > Self::MAX_LEN {
            Err(PasswordError::TooLong)
        } else {
            Ok(Self(raw.to_owned()))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            Email::parse("  Seller@Example.COM ").unwrap().as_str(),
            "seller@example.com"
        );
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        for bad in [
            "no-at",
            "a@b",
            "a@@b.c",
            "a b@c.d",
            "@b.c",
            "a@.c",
            "a@c.",
            "nul\0byte@example.com",
            "tab\there@example.com",
            "<script>alert(1)</script>@example.com",
            "\"quoted\"@example.com",
            "a..b@example.com",
            ".a@example.com",
            "a.@example.com",
            "a@-example.com",
            "a@example-.com",
            "a@exa_mple.com",
            "a@1.2.3.4",
            "a@[127.0.0.1]",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Invalid), "{bad:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(Email::parse(&long_local), Err(EmailError::Invalid));
        for good in [
            "first.last+tag@example.co.uk",
            "o'brien@example.ie",
            "x_y-z@sub-domain.example.com",
            "jörg@müller.de",
        ] {
            assert!(Email::parse(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn passwords_have_bounds_and_hide_in_debug() {
        assert_eq!(
            Password::parse("short").err(),
            Some(PasswordError::TooShort)
        );
        let p = Password::parse("long enough password").unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
    }
}
