//! The browser entry point: hydrates the islands of the server-rendered page.

// Islands are registered by linking the app crate; this keeps it linked.
pub use app::components::grid_preview::GridPreview;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Panic messages in the console help while developing; release builds abort
    // on panic and leave out the formatting code.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
