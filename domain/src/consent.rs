//! The consent gate (docs/product.md §1): which legal documents a user must have accepted,
//! at which version, before the service does anything for them.
//!
//! One decision per (user, document) is kept; the latest overwrites the
//! previous one, and a withdrawal is a decision too (`granted = false`), so a
//! withdrawn required document blocks the user again.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{DomainError, DomainResult};

/// A legal document a user decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentDocument {
    /// Terms of service (required).
    Terms,
    /// Privacy policy (required).
    Privacy,
    /// Transfer of personal data abroad (required).
    CrossBorder,
    /// Marketing messages (optional).
    Marketing,
}

impl ConsentDocument {
    /// Every document, required ones first.
    pub const ALL: [Self; 4] = [Self::Terms, Self::Privacy, Self::CrossBorder, Self::Marketing];

    /// Stable text form (`terms`, `privacy`, `cross_border`, `marketing`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Terms => "terms",
            Self::Privacy => "privacy",
            Self::CrossBorder => "cross_border",
            Self::Marketing => "marketing",
        }
    }

    /// Reads the text form; unknown names are refused with `invalid_input`.
    pub fn parse(name: &str) -> DomainResult<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == name)
            .ok_or_else(|| DomainError::invalid("document", format!("unknown document {name:?}")))
    }

    /// Whether the service is usable only after the user accepted it.
    pub fn is_required(self) -> bool {
        !matches!(self, Self::Marketing)
    }

    /// The version users must accept now. Bumping it re-blocks everyone who
    /// accepted an older version of a required document.
    pub fn current_version(self) -> &'static str {
        "v1.0"
    }
}

/// A user's latest decision on one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// The document decided on.
    pub document: ConsentDocument,
    /// The version the decision was about.
    pub version: String,
    /// Accepted (`true`) or withdrawn / refused (`false`).
    pub granted: bool,
    /// When the decision was made.
    pub decided_at: OffsetDateTime,
}

impl Consent {
    /// A decision on the document's current version; any other version is
    /// refused (`invalid_input`), so nobody accepts a text they were not shown.
    pub fn decide(document: ConsentDocument, version: &str, granted: bool, now: OffsetDateTime) -> DomainResult<Self> {
        if version != document.current_version() {
            return Err(DomainError::invalid(
                "version",
                format!(
                    "{} is at {}, not {version:?}",
                    document.as_str(),
                    document.current_version()
                ),
            ));
        }
        Ok(Self {
            document,
            version: version.to_owned(),
            granted,
            decided_at: now,
        })
    }

    /// Whether this decision accepts the document's current version.
    pub fn is_current_grant(&self) -> bool {
        self.granted && self.version == self.document.current_version()
    }
}

/// The required documents not accepted at their current version, in
/// [`ConsentDocument::ALL`] order; empty when the user may proceed.
pub fn missing_consents(decisions: &[Consent]) -> Vec<ConsentDocument> {
    ConsentDocument::ALL
        .into_iter()
        .filter(|d| d.is_required())
        .filter(|d| !decisions.iter().any(|c| c.document == *d && c.is_current_grant()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-23 10:00 UTC);

    fn grant(document: ConsentDocument) -> Consent {
        Consent::decide(document, "v1.0", true, NOW).expect("current version")
    }

    #[test]
    fn all_required_documents_must_be_granted() {
        use ConsentDocument::*;
        assert_eq!(missing_consents(&[]), vec![Terms, Privacy, CrossBorder]);
        assert_eq!(
            missing_consents(&[grant(Terms), grant(Marketing)]),
            vec![Privacy, CrossBorder]
        );
        assert!(missing_consents(&[grant(Terms), grant(Privacy), grant(CrossBorder)]).is_empty());
    }

    #[test]
    fn a_withdrawal_or_an_old_version_blocks_again() {
        use ConsentDocument::*;
        let withdrawn = Consent::decide(Privacy, "v1.0", false, NOW).expect("current version");
        assert_eq!(
            missing_consents(&[grant(Terms), withdrawn, grant(CrossBorder)]),
            vec![Privacy]
        );
        let old = Consent {
            version: "v0.9".into(),
            ..grant(Terms)
        };
        assert_eq!(
            missing_consents(&[old, grant(Privacy), grant(CrossBorder)]),
            vec![Terms]
        );
    }

    #[test]
    fn only_the_current_version_can_be_decided() {
        let err = Consent::decide(ConsentDocument::Terms, "v0.9", true, NOW).expect_err("old version");
        assert_eq!(err.code(), "invalid_input");
        assert_eq!(ConsentDocument::parse("cross_border"), Ok(ConsentDocument::CrossBorder));
        assert_eq!(
            ConsentDocument::parse("cookies").map_err(|e| e.code()),
            Err("invalid_input")
        );
    }
}
