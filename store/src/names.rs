//! Values that parse: a `Name` that exists is a valid name. Each parser takes the
//! request field it came from so the error names it.

use crate::error::Error;

pub const MAX_NAME_CHARS: usize = 128;

/// A display name of a project, folder, job, connection or artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

/// `Name::parse`'s rules as a regular expression, for the API document (length aside:
/// 1 to `MAX_NAME_CHARS`): no control characters, no `/` or `\`, no white space at
/// either end.
pub const NAME_PATTERN: &str = r"^[^\s/\\\u0000-\u001f\u007f-\u009f]([^/\\\u0000-\u001f\u007f-\u009f]*[^\s/\\\u0000-\u001f\u007f-\u009f])?$";

impl Name {
    pub fn parse(field: &str, raw: &str) -> Result<Self, Error> {
        let chars = raw.chars().count();
        if raw.trim().is_empty() {
            return Err(Error::invalid(field, format!("{field} must not be empty")));
        }
        if chars > MAX_NAME_CHARS {
            return Err(Error::invalid(
                field,
                format!("{field} must be at most {MAX_NAME_CHARS} characters, got {chars}"),
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err(Error::invalid(
                field,
                format!("{field} must not contain control characters"),
            ));
        }
        if raw.trim() != raw {
            return Err(Error::invalid(
                field,
                format!("{field} must not start or end with white space"),
            ));
        }
        if raw.contains('/') || raw.contains('\\') {
            return Err(Error::invalid(
                field,
                format!("{field} must not contain `/` or `\\`"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free text with an upper bound (descriptions, version messages).
pub fn bounded_text(field: &str, raw: &str, max_chars: usize) -> Result<String, Error> {
    let chars = raw.chars().count();
    if chars > max_chars {
        return Err(Error::invalid(
            field,
            format!("{field} must be at most {max_chars} characters, got {chars}"),
        ));
    }
    if raw
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(Error::invalid(
            field,
            format!("{field} must not contain control characters other than line breaks and tabs"),
        ));
    }
    Ok(raw.to_owned())
}

/// A configuration key such as `bootstrap.servers` or `password`.
pub fn property_key(field: &str, raw: &str) -> Result<String, Error> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_NAME_CHARS
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok {
        return Err(Error::invalid(
            format!("{field}.{raw}"),
            format!("{field} keys must be 1 to {MAX_NAME_CHARS} characters of letters, digits, `.`, `_` or `-`"),
        ));
    }
    Ok(raw.to_owned())
}

/// An email address, lower-cased. Deliberately loose: the identity provider verifies it.
pub fn email(field: &str, raw: &str) -> Result<String, Error> {
    let trimmed = raw.trim();
    let valid = trimmed.len() <= 254
        && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(trimmed.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains('@'));
    if !valid {
        return Err(Error::invalid(
            field,
            format!("{field} must be an email address like name@example.com"),
        ));
    }
    Ok(trimmed.to_lowercase())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_reject_empty_long_control_and_slashes() {
        assert!(Name::parse("name", "orders etl").is_ok());
        assert!(Name::parse("name", "日本語の名前").is_ok());
        for bad in [
            "",
            "   ",
            "a\u{0007}b",
            "tab\there",
            " lead",
            "trail ",
            "a/b",
            "a\\b",
        ] {
            let err = Name::parse("name", bad).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("name"), "{bad:?}");
        }
        assert!(Name::parse("name", &"x".repeat(128)).is_ok());
        assert!(Name::parse("name", &"x".repeat(129)).is_err());
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            email("email", " Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@.com",
        ] {
            assert!(email("email", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn property_keys_are_restricted() {
        assert!(property_key("properties", "bootstrap.servers").is_ok());
        assert_eq!(
            property_key("properties", "a b")
                .unwrap_err()
                .field
                .as_deref(),
            Some("properties.a b")
        );
    }
}
