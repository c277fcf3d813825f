//! The language a user reads messages in (docs/product.md §1: `ko` by default, or `en`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A supported locale. Unknown tags fall back to [`Locale::Ko`], the platform default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// Korean, the default.
    #[default]
    Ko,
    /// English.
    En,
}

impl Locale {
    /// The BCP 47 tag (`ko`, `en`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ko => "ko",
            Self::En => "en",
        }
    }

    /// Reads a tag such as `en`, `en-US` or `ko_KR`; anything else is `ko`.
    pub fn parse_or_default(tag: &str) -> Self {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("en") {
            Self::En
        } else {
            Self::Ko
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Locale;

    #[test]
    fn tags_fall_back_to_korean() {
        assert_eq!(Locale::parse_or_default("en-US"), Locale::En);
        assert_eq!(Locale::parse_or_default("EN"), Locale::En);
        assert_eq!(Locale::parse_or_default("ko_KR"), Locale::Ko);
        assert_eq!(Locale::parse_or_default("fr"), Locale::Ko);
        assert_eq!(Locale::parse_or_default(""), Locale::Ko);
    }
}
