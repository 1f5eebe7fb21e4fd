//! The web page (wall, leadership view, grid worker view) and the read endpoints made
//! for it. Filled in by the web-map work.

use axum::Router;

use super::AppState;

/// Routes of the page and its helpers, merged into the application's router.
pub fn routes() -> Router<AppState> {
    Router::new()
}
