//! Text as it arrives from outside (a form field, a query parameter, a string in a JSON body),
//! checked once at the edge before anything reads it: no control characters, and a length a
//! person could have typed. PostgreSQL cannot store a NUL at all, and no field of a seller's
//! has a use for the others, so refusing them here keeps both engines alike and every answer a
//! clear 400 instead of a failure deep inside.

use std::fmt;

/// The longest value any one field may carry. The longest fields a seller fills in (a list of
/// SKUs, a column mapping) stay far below it; the body limit of each route bounds the sum.
pub const MAX_FIELD_CHARS: usize = 10_000;

/// Why a field was refused, naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error(
        "The field \"{field}\" contains a control character (such as a NUL byte), which is not allowed. Remove it and send it again."
    )]
    ControlCharacter { field: FieldName },
    #[error(
        "The field \"{field}\" is too long: at most {max} characters are accepted.",
        max = MAX_FIELD_CHARS
    )]
    TooLong { field: FieldName },
}

/// A field's name as an error shows it: control characters escaped and cut to 60 characters,
/// since the name comes from the same untrusted request as the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldName(String);

impl FieldName {
    pub fn new(raw: &str) -> Self {
        let mut shown: String = raw
            .chars()
            .take(60)
            .flat_map(char::escape_default)
            .collect();
        if raw.chars().nth(60).is_some() {
            shown.push('…');
        }
        Self(shown)
    }
}

impl fmt::Display for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Tab and line breaks are what a text area sends; every other control character (C0, DEL
/// and C1) is refused.
pub fn is_refused_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Checks one field (its name too: a NUL in a name is as hostile as in a value).
pub fn check_field(name: &str, value: &str) -> Result<(), InputError> {
    if name.chars().chain(value.chars()).any(is_refused_control) {
        return Err(InputError::ControlCharacter {
            field: FieldName::new(name),
        });
    }
    if name.chars().count() > MAX_FIELD_CHARS || value.chars().count() > MAX_FIELD_CHARS {
        return Err(InputError::TooLong {
            field: FieldName::new(name),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_but_line_breaks_are_text() {
        assert!(check_field("note", "two\r\nlines\tand a tab").is_ok());
        for bad in [
            "nul\0byte",
            "bell\u{7}",
            "escape\u{1b}[31m",
            "del\u{7f}",
            "c1\u{85}",
        ] {
            let err = check_field("email", bad).unwrap_err();
            assert_eq!(
                err,
                InputError::ControlCharacter {
                    field: FieldName::new("email")
                },
                "{bad:?}"
            );
            assert!(err.to_string().contains("\"email\""), "{err}");
        }
        assert!(check_field("na\0me", "value").is_err());
    }

    #[test]
    fn overlong_values_are_refused_and_names_are_shown_safely() {
        assert!(check_field("sku", &"x".repeat(MAX_FIELD_CHARS)).is_ok());
        assert_eq!(
            check_field("sku", &"x".repeat(MAX_FIELD_CHARS + 1)),
            Err(InputError::TooLong {
                field: FieldName::new("sku")
            })
        );
        assert_eq!(FieldName::new("a\0b").to_string(), "a\\u{0}b");
        assert_eq!(
            FieldName::new(&"n".repeat(100)).to_string().chars().count(),
            61
        );
    }
}
