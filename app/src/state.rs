//! Shared application state handed to the HTTP layer.

/// Services wired to the store; filled in by the API issue.
///
/// Attached to every request as poem data, so handlers can take
/// `poem::web::Data<&AppState>`. Must stay cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct AppState {}
