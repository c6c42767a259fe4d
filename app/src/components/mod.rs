//! Reusable view pieces.
pub mod grid_preview;
pub mod lang_switch;
