//! Sign-up and sign-in inputs, checked once where they enter the system.

use std::fmt;

/// An e-mail address, trimmed and lower-cased. The check is deliberately simple: one `@`,
/// something on each side, a dot in the domain, no spaces. Deliverability is not our concern.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EmailError {
    #[error("Enter an e-mail address.")]
    Empty,
    #[error("Enter a valid e-mail address, like name@example.com.")]
    Invalid,
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        let valid = s.len() <= 254
            && !s.chars().any(char::is_whitespace)
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
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
    pub const MIN_LEN: usize = 10;
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
        for bad in ["no-at", "a@b", "a@@b.c", "a b@c.d", "@b.c", "a@.c", "a@c."] {
            assert_eq!(Email::parse(bad), Err(EmailError::Invalid), "{bad}");
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
