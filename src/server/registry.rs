//! Routes of the registry family (filled in with issue 5).

use std::sync::Arc;

use axum::Router;

use super::AppState;

/// Routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
}
