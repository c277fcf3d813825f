//! Text people give each other to read: names, titles, descriptions
//! (docs/product.md §15). What one person types is shown to others in
//! answers, emails and calendars, so it may not carry characters that hide
//! or reorder what they see.

use crate::{DomainError, DomainResult};

/// Whether `c` changes the direction text is shown in (the overrides and
/// isolates of Unicode's bidirectional algorithm, and the marks): a name
/// with one can show as something else than it is.
fn changes_direction(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` shows as nothing: zero-width spaces and joiners, the word
/// joiner, the byte-order mark.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Checks a one-line text (a display name, a title): no control characters,
/// no direction changes, and something visible. `invalid_text` otherwise.
pub fn check_line(field: &'static str, text: &str) -> DomainResult<()> {
    check(field, text, |_| false)
}

/// Checks a longer text (a description): as [`check_line`], but line breaks
/// and tabs are allowed.
pub fn check_text(field: &'static str, text: &str) -> DomainResult<()> {
    check(field, text, |c| matches!(c, '\n' | '\r' | '\t'))
}

fn check(field: &'static str, text: &str, allowed: impl Fn(char) -> bool) -> DomainResult<()> {
    let refused = text
        .chars()
        .any(|c| (c.is_control() && !allowed(c)) || changes_direction(c));
    let nothing_visible = !text.is_empty() && text.chars().all(|c| invisible(c) || c.is_whitespace());
    if refused || nothing_visible {
        Err(DomainError::InvalidText { field })
    } else {
        Ok(())
    }
}

/// `text` with the characters [`check_line`] refuses taken out, for names
/// that arrive from an identity provider at sign-up: the person cannot be
/// asked to retype them, so they are cleaned instead of refused.
pub fn clean_line(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|c| !c.is_control() && !changes_direction(*c))
        .collect();
    if kept.chars().all(|c| invisible(c) || c.is_whitespace()) {
        String::new()
    } else {
        kept.trim().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_names_pass() {
        for name in [
            "Kim Joon",
            "김준",
            "O'Brien-Smith",
            "أحمد",
            "Zoë <b>bold</b>",
            "👩‍🏫 Ms. Lee",
        ] {
            assert_eq!(check_line("name", name), Ok(()), "{name}");
        }
        assert_eq!(check_text("description", "Line one\nLine two\tend"), Ok(()));
    }

    #[test]
    fn hidden_or_reordering_characters_are_refused() {
        for name in [
            "Kim\0Joon",
            "evil\u{202E}gnp.exe",
            "a\u{2066}b",
            "\u{200B}\u{200B}",
            "\u{FEFF}",
            "tab\there",
            "bell\u{7}",
        ] {
            assert_eq!(
                check_line("name", name),
                Err(DomainError::InvalidText { field: "name" }),
                "{name:?}"
            );
        }
        assert_eq!(check_text("d", "\u{202E}x").unwrap_err().code(), "invalid_text");
    }

    #[test]
    fn names_from_a_provider_are_cleaned() {
        assert_eq!(clean_line(" Kim\u{202E}\0 Joon "), "Kim Joon");
        assert_eq!(clean_line("\u{200B}"), "");
    }
}
