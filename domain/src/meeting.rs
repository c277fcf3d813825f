//! Where a lesson happens online, and the state of its calendar event.

use crate::{DomainError, DomainResult};
use serde::{Deserialize, Serialize};

/// Video meeting providers (docs/product.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingProvider {
    /// Google Meet (the calendar adapter creates the link).
    #[default]
    GoogleMeet,
    /// Zoom, link given by the teacher.
    Zoom,
    /// Microsoft Teams, link given by the teacher.
    Teams,
    /// Any other link.
    Custom,
}

/// State of the slot's calendar event (docs/product.md §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarStatus {
    /// Calendar integration is off.
    #[default]
    Skipped,
    /// A sync is due.
    Pending,
    /// The event matches the roster.
    Synced,
    /// The last sync failed; it will be retried.
    Failed,
}

/// Meeting details of a slot.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Meeting {
    provider: MeetingProvider,
    url: Option<String>,
    passcode: Option<String>,
    calendar_event_id: Option<String>,
    calendar_status: CalendarStatus,
}

impl Meeting {
    /// Meeting details given by a teacher; a URL must be `http(s)://`.
    pub fn new(provider: MeetingProvider, url: Option<String>, passcode: Option<String>) -> DomainResult<Self> {
        if let Some(url) = &url {
            let lower = url.to_ascii_lowercase();
            if !(lower.starts_with("https://") || lower.starts_with("http://")) || url.len() > 2048 {
                return Err(DomainError::invalid("meeting_url", "must be an http(s) URL"));
            }
        }
        if passcode.as_ref().is_some_and(|p| p.len() > 128) {
            return Err(DomainError::invalid(
                "meeting_passcode",
                "must be at most 128 characters",
            ));
        }
        Ok(Self {
            provider,
            url,
            passcode,
            ..Self::default()
        })
    }

    /// Rebuilds stored meeting details, including the calendar state.
    pub fn restore(
        provider: MeetingProvider,
        url: Option<String>,
        passcode: Option<String>,
        calendar_event_id: Option<String>,
        calendar_status: CalendarStatus,
    ) -> Self {
        Self {
            provider,
            url,
            passcode,
            calendar_event_id,
            calendar_status,
        }
    }

    /// The provider.
    pub fn provider(&self) -> MeetingProvider {
        self.provider
    }

    /// The join URL, once known.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The passcode, if any.
    pub fn passcode(&self) -> Option<&str> {
        self.passcode.as_deref()
    }

    /// The calendar event id, once created.
    pub fn calendar_event_id(&self) -> Option<&str> {
        self.calendar_event_id.as_deref()
    }

    /// The calendar sync state.
    pub fn calendar_status(&self) -> CalendarStatus {
        self.calendar_status
    }
}
